import NIOCore

/// The body of a 206 answer to several ranges (RFC 9110 §14.6): each range is preceded by a
/// delimiter line and its own `Content-Type` and `Content-Range`, and a closing delimiter ends it.
/// Built before any byte is sent, so `contentLength` is exact and the answer keeps the connection.
struct MultipartByteRanges {
    struct Part {
        let range: ClosedRange<Int64>
        /// `CRLF --boundary CRLF Content-Type … CRLF Content-Range … CRLF CRLF` (the leading CRLF
        /// ends the previous part; before the first it is an empty preamble, as nginx sends it).
        let head: String
    }

    let boundary: String
    let parts: [Part]
    /// `CRLF --boundary-- CRLF`.
    let closing: String
    let contentLength: Int64

    init(ranges: [ClosedRange<Int64>], size: Int64, contentType: String, boundary: String) {
        self.boundary = boundary
        self.parts = ranges.map { range in
            Part(
                range: range,
                head: "\r\n--\(boundary)\r\nContent-Type: \(contentType)\r\n"
                    + "Content-Range: bytes \(range.lowerBound)-\(range.upperBound)/\(size)\r\n\r\n"
            )
        }
        self.closing = "\r\n--\(boundary)--\r\n"
        var length = Int64(self.closing.utf8.count)
        for part in self.parts { length += Int64(part.head.utf8.count) + part.range.upperBound - part.range.lowerBound + 1 }
        self.contentLength = length
    }

    /// The header value that announces this body.
    var contentType: String { "multipart/byteranges; boundary=\(self.boundary)" }

    /// The whole body from the file's bytes in memory; `nil` when `content` is shorter than a range.
    func body(from content: ByteBuffer) -> ByteBuffer? {
        var body = ByteBuffer()
        body.reserveCapacity(Int(self.contentLength))
        for part in self.parts {
            guard var slice = content.getSlice(at: Int(part.range.lowerBound), length: Int(part.range.count)) else { return nil }
            body.writeString(part.head)
            body.writeBuffer(&slice)
        }
        body.writeString(self.closing)
        return body
    }

    /// A boundary no file is likely to contain: 20 random hexadecimal digits after a fixed prefix.
    static func newBoundary() -> String {
        var generator = SystemRandomNumberGenerator()
        let high = String(generator.next() as UInt64, radix: 16)
        let low = String(UInt16(truncatingIfNeeded: generator.next() as UInt64), radix: 16)
        return "swift-serve-tui-" + String(repeating: "0", count: 16 - high.count) + high
            + String(repeating: "0", count: 4 - low.count) + low
    }
}
