// Header values the server interprets itself: HTTP dates (If-Modified-Since, If-Unmodified-Since,
// If-Range), entity-tag lists (If-None-Match, If-Match), byte sizes given on the command line.
// Parsed values format back to themselves, and no input makes the planner answer outside the file.
import FuzzCheck
import NIOHTTP1
import ServeEngine

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzHeaderValues(_ data: UnsafePointer<UInt8>?, _ count: Int) -> CInt {
    var reader = FuzzReader(fuzzBytes(data, count))
    let selector = reader.byte()
    let text = String(decoding: reader.rest(), as: UTF8.self)

    if let seconds = HTTPDate.parse(text) {
        let formatted = HTTPDate.format(secondsSinceEpoch: seconds)
        require(HTTPDate.parse(formatted) == seconds, "\(text.debugDescription) → \(seconds) → \(formatted) does not round-trip")
        _ = HTTPDate.iso8601(secondsSinceEpoch: seconds)
        _ = HTTPDate.logFormat(secondsSinceEpoch: seconds)
    }

    if let size = CGIOptions.parseByteSize(text) {
        require(size >= 0, "negative size \(size) from \(text.debugDescription)")
    }

    // The same value in each conditional header: a 304 only when the validator really matches.
    let attributes = FileAttributes(size: 4096, modificationNanoseconds: 1_700_000_000_123_456_789)
    let names = ["If-None-Match", "If-Modified-Since", "If-Range", "Range", "If-Match", "If-Unmodified-Since"]
    let name = names[Int(selector) % names.count]
    var headers = HTTPHeaders([(name, text)])
    if name == "If-Range" { headers.add(name: "Range", value: "bytes=0-9") }
    switch FilePlanner.plan(headers: headers, attributes: attributes) {
    case .notModified:
        let matched = name == "If-None-Match"
            ? text.contains(attributes.etag) || text.contains("*")
            : (HTTPDate.parse(text).map { $0 >= attributes.modificationSeconds } ?? false)
        require(name == "If-None-Match" || name == "If-Modified-Since", "304 from \(name)")
        require(matched, "304 for \(name): \(text.debugDescription)")
    case .partial(let first, let last):
        require(first >= 0 && first <= last && last < attributes.size, "range \(first)-\(last)")
    case .multipart(let ranges):
        require(ranges.count >= 2, "multipart of \(ranges.count) range(s)")
        for range in ranges {
            require(range.lowerBound >= 0 && range.upperBound < attributes.size, "range \(range)")
        }
    case .preconditionFailed:
        // 412 only from If-Match naming none of the file's tags, or a date before its change.
        require(name == "If-Match" || name == "If-Unmodified-Since", "412 from \(name)")
        if name == "If-Match" {
            require(text != attributes.etag && text != "*", "412 for If-Match: \(text.debugDescription)")
        } else {
            require(HTTPDate.parse(text).map { $0 < attributes.modificationSeconds } ?? false, "412 for If-Unmodified-Since: \(text.debugDescription)")
        }
    case .full, .rangeNotSatisfiable:
        break
    }
    return 0
}
