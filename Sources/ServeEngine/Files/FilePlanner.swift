import NIOHTTP1

/// What is known of a regular file before any byte is read.
public struct FileAttributes: Equatable, Sendable {
    public var size: Int64
    /// Modification time in nanoseconds since the epoch.
    public var modificationNanoseconds: Int64

    public init(size: Int64, modificationNanoseconds: Int64) {
        self.size = size
        self.modificationNanoseconds = modificationNanoseconds
    }

    public var modificationSeconds: Int64 { self.modificationNanoseconds / 1_000_000_000 }

    /// A strong validator from size and modification time (RFC 9110 §8.8.3), like nginx's.
    public var etag: String {
        "\"\(String(self.modificationNanoseconds, radix: 16))-\(String(self.size, radix: 16))\""
    }

    public var lastModified: String { HTTPDate.format(secondsSinceEpoch: self.modificationSeconds) }
}

/// How to answer a GET or HEAD for a regular file, decided before any I/O.
public enum FilePlan: Equatable, Sendable {
    /// 304: the client's copy is current (RFC 9110 §15.4.5).
    case notModified
    /// 412: `If-Match` or `If-Unmodified-Since` does not hold: the file is not the one the client
    /// means to get (§13.1.1, §13.1.4), so nothing of it is sent.
    case preconditionFailed
    /// 200 with the whole file.
    case full
    /// 206 with the inclusive byte range.
    case partial(first: Int64, last: Int64)
    /// 206 with a `multipart/byteranges` body of these ranges, in this order.
    case multipart([ClosedRange<Int64>])
    /// 416: the range lies outside the file.
    case rangeNotSatisfiable
}

/// The seed's `send_head` decisions for a file, as a pure function of the request and the file's
/// attributes: conditional requests (RFC 9110 §13), then ranges (§14).
public enum FilePlanner {
    public static func plan(headers: HTTPHeaders, attributes: FileAttributes) -> FilePlan {
        // §13.2.2: If-Match first (strong comparison); If-Unmodified-Since only when it is absent
        // (a date that does not parse is ignored).
        let ifMatch = headers[canonicalForm: "if-match"]
        if !ifMatch.isEmpty {
            if !Self.matches(ifMatch.map(String.init), etag: attributes.etag, weak: false) { return .preconditionFailed }
        } else if let since = headers.first(name: "if-unmodified-since").flatMap(HTTPDate.parse),
            attributes.modificationSeconds > since
        {
            return .preconditionFailed
        }
        // Then If-None-Match; If-Modified-Since only when it is absent.
        let ifNoneMatch = headers[canonicalForm: "if-none-match"]
        if !ifNoneMatch.isEmpty {
            if Self.matches(ifNoneMatch.map(String.init), etag: attributes.etag, weak: true) { return .notModified }
        } else if let since = headers.first(name: "if-modified-since").flatMap(HTTPDate.parse),
            attributes.modificationSeconds <= since
        {
            return .notModified
        }
        guard let rangeHeader = headers.first(name: "range") else { return .full }
        if let ifRange = headers.first(name: "if-range"), !Self.ifRangeHolds(ifRange, attributes: attributes) {
            return .full
        }
        switch ByteRange.parse(rangeHeader, size: attributes.size) {
        case .single(let first, let last): return .partial(first: first, last: last)
        case .unsatisfiable: return .rangeNotSatisfiable
        case .multiple(let ranges): return .multipart(ranges)
        case .overlapping, .invalid: return .full
        }
    }

    /// §13.1.1, §13.1.2: `*` or any listed tag matching (weak comparison ignores `W/`; in a strong
    /// one a weak tag never matches, as ours are strong).
    static func matches(_ values: [String], etag: String, weak: Bool) -> Bool {
        for value in values {
            let tag = value.trimmingCharacters(in: " \t")
            if tag == "*" { return true }
            let candidate = weak && tag.hasPrefix("W/") ? tag.dropFirst(2) : Substring(tag)
            if candidate == etag { return true }
        }
        return false
    }

    /// §13.1.5: an entity tag must match strongly; a date must equal Last-Modified exactly.
    static func ifRangeHolds(_ value: String, attributes: FileAttributes) -> Bool {
        let trimmed = value.trimmingCharacters(in: " \t")
        if trimmed.hasPrefix("\"") { return trimmed == attributes.etag }
        if trimmed.hasPrefix("W/") { return false }
        return HTTPDate.parse(String(trimmed)) == attributes.modificationSeconds
    }
}

extension String {
    func trimmingCharacters(in set: String) -> Substring { self[...].trimmingCharacters(in: set) }
}
