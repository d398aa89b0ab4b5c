// Range header parsing: a satisfiable range always lies inside the file.
import FuzzCheck
import NIOHTTP1
import ServeEngine

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzByteRange(_ data: UnsafePointer<UInt8>?, _ count: Int) -> CInt {
    var reader = FuzzReader(fuzzBytes(data, count))
    // Mostly small sizes (where edge cases live), sometimes huge ones.
    let raw = reader.int64()
    let size = reader.byte() & 1 == 0 ? (raw & 0xFFFF) : (raw & Int64.max)
    let header = String(decoding: reader.rest(), as: UTF8.self)

    switch ByteRange.parse(header, size: size) {
    case .single(let first, let last):
        require(first >= 0 && first <= last && last < size, "range \(first)-\(last) for size \(size) from \(header.debugDescription)")
        require(header.drop(while: { $0 == " " }).lowercased().hasPrefix("bytes="), "accepted \(header.debugDescription)")
    case .unsatisfiable:
        require(header.contains("-"), "unsatisfiable without a range spec: \(header.debugDescription)")
    case .multiple(let ranges):
        require(header.contains(","), "several ranges without a comma: \(header.debugDescription)")
        require(ranges.count >= 2, "\(ranges.count) range(s) as multiple from \(header.debugDescription)")
        for range in ranges {
            require(range.lowerBound >= 0 && range.upperBound < size, "range \(range) for size \(size) from \(header.debugDescription)")
        }
        // None overlaps another, so together they never ask for more than the file.
        let ordered = ranges.sorted { $0.lowerBound < $1.lowerBound }
        for (before, after) in zip(ordered, ordered.dropFirst()) {
            require(after.lowerBound > before.upperBound, "overlapping \(before) and \(after) from \(header.debugDescription)")
        }
    case .overlapping:
        require(header.contains(","), "overlap without a comma: \(header.debugDescription)")
    case .invalid:
        break
    }

    // The planner that uses it (conditional headers first) never plans a range outside the file.
    let attributes = FileAttributes(size: size, modificationNanoseconds: 784_111_777_000_000_000)
    var headers = HTTPHeaders([("Range", header)])
    if header.hasPrefix("bytes=0") { headers.add(name: "If-Range", value: attributes.etag) }
    if case .partial(let first, let last) = FilePlanner.plan(headers: headers, attributes: attributes) {
        require(first >= 0 && first <= last && last < size, "planned \(first)-\(last) for size \(size)")
    }
    return 0
}
