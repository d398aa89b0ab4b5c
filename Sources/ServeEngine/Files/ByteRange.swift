/// `Range: bytes=...` (RFC 9110 §14.1.2), resolved against a representation's size.
public enum ByteRange: Equatable, Sendable {
    /// One satisfiable range: serve 206 with these inclusive offsets.
    case single(first: Int64, last: Int64)
    /// Syntactically valid but nothing in it overlaps the file: 416.
    case unsatisfiable
    /// Two or more satisfiable ranges, none overlapping another, in the order asked: 206 with a
    /// `multipart/byteranges` body (RFC 9110 §14.6).
    case multiple([ClosedRange<Int64>])
    /// Satisfiable ranges that overlap: the whole file is sent with 200. RFC 9110 §14.2 lets a server
    /// ignore such a header; answering it would let a short request ask for the file many times over.
    case overlapping
    /// Not a byte-range header this server understands: ignored, the whole file is sent.
    case invalid

    /// Parses `header` for a file of `size` bytes.
    public static func parse(_ header: String, size: Int64) -> ByteRange {
        let trimmed = header.drop(while: { $0 == " " })
        guard trimmed.count > 6, trimmed.prefix(6).lowercased() == "bytes=" else { return .invalid }
        let specs = trimmed.dropFirst(6).split(separator: ",", omittingEmptySubsequences: false).map {
            $0.trimmingCharacters(in: " \t")
        }
        guard !specs.isEmpty, specs.count <= 100 else { return .invalid }
        var satisfiable: [(Int64, Int64)] = []
        for spec in specs {
            guard let dash = spec.firstIndex(of: "-") else { return .invalid }
            let startText = spec[..<dash]
            let endText = spec[spec.index(after: dash)...]
            if startText.isEmpty {
                // Suffix range: the last N bytes.
                guard let suffix = Self.number(endText) else { return .invalid }
                if suffix > 0, size > 0 { satisfiable.append((max(0, size - suffix), size - 1)) }
            } else {
                guard let first = Self.number(startText) else { return .invalid }
                var last = size - 1
                if !endText.isEmpty {
                    guard let end = Self.number(endText), end >= first else { return .invalid }
                    last = min(end, size - 1)
                }
                if first < size { satisfiable.append((first, last)) }
            }
        }
        switch satisfiable.count {
        case 0: return .unsatisfiable
        case 1: return .single(first: satisfiable[0].0, last: satisfiable[0].1)
        default:
            let ordered = satisfiable.sorted { $0.0 < $1.0 }
            for (before, after) in zip(ordered, ordered.dropFirst()) where after.0 <= before.1 { return .overlapping }
            return .multiple(satisfiable.map { $0.0...$0.1 })
        }
    }

    /// A non-negative decimal of at most 18 digits (so it fits in Int64).
    private static func number(_ text: Substring) -> Int64? {
        guard !text.isEmpty, text.count <= 18, text.utf8.allSatisfy({ $0 >= 48 && $0 <= 57 }) else { return nil }
        return Int64(text)
    }
}

extension Substring {
    func trimmingCharacters(in set: String) -> Substring {
        var text = self
        while let first = text.first, set.contains(first) { text.removeFirst() }
        while let last = text.last, set.contains(last) { text.removeLast() }
        return text
    }
}
