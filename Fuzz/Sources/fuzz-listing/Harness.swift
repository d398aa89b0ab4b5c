// Listings: the query parser, the sort and the HTML/JSON pages built from hostile file names. A name
// can never add markup or break out of its JSON string, and sorting only reorders.
import FuzzCheck
import Foundation
@testable import ServeEngine

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzListing(_ data: UnsafePointer<UInt8>?, _ count: Int) -> CInt {
    var reader = FuzzReader(fuzzBytes(data, count))
    let queryLength = Int(reader.byte() % 64)
    var queryBytes: [UInt8] = []
    for _ in 0..<queryLength { queryBytes.append(reader.byte()) }
    let query = ListingQuery.parse(Substring(String(decoding: queryBytes, as: UTF8.self)))
    require(ListingQuery.parse(Substring(query.queryString)) == ListingQuery(sort: query.sort, descending: query.descending),
            "queryString does not round-trip")

    // The rest: names separated by 0xFF (never valid UTF-8, so never inside a name), each with a kind.
    var entries: [ListingEntry] = []
    for (index, raw) in reader.rest().split(separator: 0xFF, omittingEmptySubsequences: true).prefix(64).enumerated() {
        let kinds: [ListingEntry.Kind] = [.file, .directory, .symlink, .other]
        let kind = kinds[Int(raw.first ?? 0) % kinds.count]
        entries.append(ListingEntry(rawName: Array(raw.dropFirst().isEmpty ? raw : raw.dropFirst()), kind: kind,
                                    isDirectory: kind == .directory || (kind == .symlink && index % 2 == 0),
                                    size: Int64(raw.count * 977 % 5000), modificationSeconds: Int64(raw.last ?? 0) * 86_400))
    }

    let sorted = DirectoryListing.sorted(entries, by: query)
    require(sorted.count == entries.count, "sorting lost entries")
    require(sorted.map(\.rawName).sorted(by: { $0.lexicographicallyPrecedes($1) })
            == entries.map(\.rawName).sorted(by: { $0.lexicographicallyPrecedes($1) }), "sorting changed the entries")
    if let firstFile = sorted.firstIndex(where: { !$0.isDirectory }) {
        require(!sorted[firstFile...].contains(where: \.isDirectory), "a folder after a file")
    }

    // HTML: one row and one link per entry whatever the names hold.
    let html = DirectoryListing.html(displayPath: "/x/", entries: sorted, query: query)
    let rows = html.components(separatedBy: "<tr><td>").count - 1
    require(rows == sorted.count + 1, "\(rows) rows for \(sorted.count) entries")
    require(html.components(separatedBy: "<a ").count - 1 == sorted.count + 4, "a name added a link")
    require(!html.contains("<script") && !html.contains("<img"), "markup from a name")

    // JSON: valid, with every name back intact.
    let json = DirectoryListing.json(displayPath: "/x/", entries: sorted)
    guard let object = try? JSONSerialization.jsonObject(with: Data(json.utf8)) as? [String: Any],
        let list = object["entries"] as? [[String: Any]]
    else {
        require(false, "listing JSON does not parse")
        return 0
    }
    require(list.compactMap { $0["name"] as? String } == sorted.map(\.name), "names changed in JSON")
    return 0
}
