import NIOHTTP1

/// What a script's header block said (RFC 3875 §6).
struct CGIResponseHead: Equatable {
    var status: HTTPResponseStatus
    /// Header fields to send on, in the script's order (`Status` and hop-by-hop fields removed).
    var headers: [(name: String, value: String)]
    /// The script's `Content-Length`, when it gave one.
    var contentLength: Int64?

    static func == (lhs: CGIResponseHead, rhs: CGIResponseHead) -> Bool {
        lhs.status == rhs.status && lhs.contentLength == rhs.contentLength
            && lhs.headers.elementsEqual(rhs.headers, by: { $0.name == $1.name && $0.value == $1.value })
    }
}

/// Parses the header block a CGI script writes before its body, and the status line of `nph-` scripts.
/// Pure: bytes in, a decision out, so it can be fuzzed.
enum CGIResponseParser {
    /// A header block larger than this is malformed.
    static let maxHeaderBytes = 64 * 1024

    enum Result: Equatable {
        /// The blank line that ends the headers has not arrived yet.
        case needMore
        /// The head, and where the body starts in the bytes given.
        case complete(CGIResponseHead, bodyOffset: Int)
        /// Not a CGI response: the script's output cannot be sent (502).
        case malformed(String)
    }

    /// Fields the server owns: the script's values are dropped.
    static let droppedFields: Set<String> = ["status", "connection", "keep-alive", "transfer-encoding", "server", "date", "upgrade", "trailer", "te"]

    /// Parses `bytes`, the script's output so far. `ended` says no more output will come.
    static func parse(_ bytes: some Collection<UInt8>, ended: Bool = false) -> Result {
        let data = Array(bytes)
        var lines: [ArraySlice<UInt8>] = []
        var start = 0
        var bodyOffset: Int?
        var index = 0
        while index < data.count {
            if data[index] == UInt8(ascii: "\n") {
                var line = data[start..<index]
                if line.last == UInt8(ascii: "\r") { line = line.dropLast() }
                start = index + 1
                if line.isEmpty {
                    bodyOffset = start
                    break
                }
                lines.append(line)
            }
            index += 1
        }
        guard let bodyOffset else {
            if data.count > Self.maxHeaderBytes { return .malformed("header block larger than \(Self.maxHeaderBytes) bytes") }
            return ended
                ? .malformed(data.isEmpty ? "no output" : "output ended before the blank line that ends the headers")
                : .needMore
        }
        if bodyOffset > Self.maxHeaderBytes + 2 { return .malformed("header block larger than \(Self.maxHeaderBytes) bytes") }
        guard !lines.isEmpty else { return .malformed("empty header block") }

        var status: HTTPResponseStatus?
        var location: String?
        var contentType = false
        var contentLength: Int64?
        var headers: [(name: String, value: String)] = []
        for line in lines {
            guard let colon = line.firstIndex(of: UInt8(ascii: ":")) else {
                return .malformed("header line without a colon")
            }
            let nameBytes = line[line.startIndex..<colon]
            guard !nameBytes.isEmpty, nameBytes.allSatisfy(ByteClass.isToken) else {
                return .malformed("invalid header name")
            }
            var valueBytes = line[(colon + 1)...]
            while let first = valueBytes.first, first == 0x20 || first == 0x09 { valueBytes = valueBytes.dropFirst() }
            while let last = valueBytes.last, last == 0x20 || last == 0x09 { valueBytes = valueBytes.dropLast() }
            // Control characters (a lone CR, NUL) would let a value smuggle a header of its own.
            guard !valueBytes.contains(where: { ($0 < 0x20 && $0 != 0x09) || $0 == 0x7F }) else {
                return .malformed("control character in a header value")
            }
            let name = String(decoding: nameBytes, as: UTF8.self)
            let value = String(decoding: valueBytes, as: UTF8.self)
            switch name.lowercased() {
            case "status":
                guard status == nil, let parsed = Self.status(valueBytes) else { return .malformed("invalid Status line") }
                status = parsed
            case "location":
                guard !value.isEmpty else { return .malformed("empty Location") }
                location = value
                headers.append((name, value))
            case "content-type":
                contentType = true
                headers.append((name, value))
            case "content-length":
                guard contentLength == nil, !valueBytes.isEmpty, valueBytes.count <= 18,
                    valueBytes.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }), let length = Int64(value)
                else { return .malformed("invalid Content-Length") }
                contentLength = length
                headers.append((name, value))
            case let lower where Self.droppedFields.contains(lower):
                continue
            default:
                headers.append((name, value))
            }
        }
        guard status != nil || location != nil || contentType else {
            return .malformed("no Content-Type, Location or Status header")
        }
        let finalStatus = status ?? (location != nil ? .found : .ok)
        return .complete(CGIResponseHead(status: finalStatus, headers: headers, contentLength: contentLength), bodyOffset: bodyOffset)
    }

    /// `Status: 418 I'm a teapot` → 418 with that reason. Final statuses only (200-599).
    static func status(_ value: some Collection<UInt8>) -> HTTPResponseStatus? {
        let bytes = Array(value)
        guard bytes.count >= 3, bytes[0..<3].allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }) else { return nil }
        guard bytes.count == 3 || bytes[3] == 0x20 || bytes[3] == 0x09 else { return nil }
        let code = Int(bytes[0] - 0x30) * 100 + Int(bytes[1] - 0x30) * 10 + Int(bytes[2] - 0x30)
        guard (200...599).contains(code) else { return nil }
        var reason = bytes.dropFirst(3)
        while let first = reason.first, first == 0x20 || first == 0x09 { reason = reason.dropFirst() }
        let standard = HTTPResponseStatus(statusCode: code)
        let phrase = String(decoding: reason, as: UTF8.self)
        if reason.isEmpty || phrase == standard.reasonPhrase { return standard }
        // NIO maps known codes to their standard phrase; the script's own phrase is kept.
        return .custom(code: UInt(code), reasonPhrase: phrase)
    }

    /// The status line an `nph-` script must start with (`HTTP/1.1 200 OK`).
    static func nphStatus(_ bytes: some Collection<UInt8>, ended: Bool = false) -> NPHResult {
        let data = Array(bytes.prefix(Self.maxHeaderBytes + 1))
        guard let newline = data.firstIndex(of: UInt8(ascii: "\n")) else {
            if data.count > Self.maxHeaderBytes { return .malformed("status line too long") }
            return ended ? .malformed("no status line") : .needMore
        }
        var line = data[..<newline]
        if line.last == UInt8(ascii: "\r") { line = line.dropLast() }
        let prefix = Array("HTTP/1.".utf8)
        guard line.count >= 12, Array(line.prefix(7)) == prefix,
            line[7] == UInt8(ascii: "0") || line[7] == UInt8(ascii: "1"), line[8] == 0x20,
            let status = Self.status(line.dropFirst(9))
        else { return .malformed("output does not start with an HTTP/1.x status line") }
        return .status(status)
    }

    enum NPHResult: Equatable {
        case needMore
        case status(HTTPResponseStatus)
        case malformed(String)
    }
}
