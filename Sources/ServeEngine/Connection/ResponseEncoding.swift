import NIOCore
import NIOHTTP1

/// A response as bytes on the wire (RFC 9112 §4, §5, §7.1): status line, header block, chunk
/// framing. The writer serialises its heads here and hands the channel plain bytes, so a small
/// answer is one buffer: NIO's `HTTPResponseEncoder` and `HTTPServerPipelineHandler` each took every
/// response part through a type-erased `NIOAny` and a dynamic cast, ~20 % of the user-space time of
/// a keep-alive request (bench scenario a). Parsing stays NIO's.
enum ResponseEncoding {
    /// Appends `head` as it is sent: `HTTP/1.1 200 OK`, each field as `name: value`, a blank line.
    /// Fields are written as given: the writer builds them, and CGI fields are validated when parsed.
    static func writeHead(_ head: HTTPResponseHead, into buffer: inout ByteBuffer) {
        Self.writeStatusLine(version: head.version, status: head.status, into: &buffer)
        Self.writeFields(head.headers, into: &buffer)
        buffer.writeStaticString("\r\n")
    }

    /// Appends the status line: `HTTP/1.1 200 OK` and CRLF.
    static func writeStatusLine(version: HTTPVersion, status: HTTPResponseStatus, into buffer: inout ByteBuffer) {
        // Nearly every answer: one write, and an enum case test rather than `==` on the status.
        if case .ok = status, version.major == 1, version.minor == 1 {
            buffer.writeStaticString("HTTP/1.1 200 OK\r\n")
            return
        }
        switch (version.major, version.minor) {
        case (1, 1): buffer.writeStaticString("HTTP/1.1 ")
        case (1, 0): buffer.writeStaticString("HTTP/1.0 ")
        case let (major, minor): buffer.writeString("HTTP/\(major).\(minor) ")
        }
        if status == .ok {
            buffer.writeStaticString("200 OK\r\n")
            return
        }
        let code = Int(status.code)
        if (100...999).contains(code) {
            buffer.writeInteger(UInt8(ascii: "0") + UInt8(code / 100))
            buffer.writeInteger(UInt8(ascii: "0") + UInt8(code / 10 % 10))
            buffer.writeInteger(UInt8(ascii: "0") + UInt8(code % 10))
        } else {
            buffer.writeString(String(code))
        }
        buffer.writeInteger(UInt8(ascii: " "))
        buffer.writeString(status.reasonPhrase)
        buffer.writeStaticString("\r\n")
    }

    /// Appends each field as `name: value` and CRLF (no blank line after them).
    static func writeFields(_ headers: HTTPHeaders, into buffer: inout ByteBuffer) {
        for (name, value) in headers {
            Self.writeField(name, value, into: &buffer)
        }
    }

    /// Appends one field line.
    static func writeField(_ name: String, _ value: String, into buffer: inout ByteBuffer) {
        buffer.writeString(name)
        buffer.writeStaticString(": ")
        buffer.writeString(value)
        buffer.writeStaticString("\r\n")
    }

    /// `headers` as `writeFields` appends them, in a buffer of their own: the fields of an answer
    /// sent many times (a cached file's), encoded once.
    static func encodedFields(_ headers: HTTPHeaders, allocator: ByteBufferAllocator = ByteBufferAllocator()) -> ByteBuffer {
        var buffer = allocator.buffer(capacity: 256)
        Self.writeFields(headers, into: &buffer)
        return buffer
    }

    /// The line that opens a chunk of `count` bytes: its size in hex and CRLF.
    static func chunkHeader(count: Int, allocator: ByteBufferAllocator) -> ByteBuffer {
        var buffer = allocator.buffer(capacity: 18)
        buffer.writeString(String(count, radix: 16))
        buffer.writeStaticString("\r\n")
        return buffer
    }

    /// What closes a chunk.
    static func chunkTrailer(allocator: ByteBufferAllocator) -> ByteBuffer { Self.bytes("\r\n", allocator) }

    /// The last chunk and the end of an (empty) trailer section.
    static func lastChunk(allocator: ByteBufferAllocator) -> ByteBuffer { Self.bytes("0\r\n\r\n", allocator) }

    /// `100 Continue` (RFC 9110 §15.2.1), sent before reading a body the client is holding back.
    static func continueHead(allocator: ByteBufferAllocator) -> ByteBuffer {
        Self.bytes("HTTP/1.1 100 Continue\r\n\r\n", allocator)
    }

    private static func bytes(_ text: StaticString, _ allocator: ByteBufferAllocator) -> ByteBuffer {
        var buffer = allocator.buffer(capacity: text.utf8CodeUnitCount)
        buffer.writeStaticString(text)
        return buffer
    }
}

/// The bytes of a whole answer (status line, fields, body) kept to be sent again while it would
/// come out the same: a cached small file's `200`, which differs between requests only in the
/// `Date` line (once a second per event loop) and the `Connection` field. Sending it again is a
/// reference to the same buffer, not a copy. One belongs to one event loop's cache entry.
final class PreparedAnswer {
    /// What the bytes depend on besides the entry itself.
    struct Key: Equatable {
        var status: UInt
        var version: HTTPVersion
        var connection: String?
        var withBody: Bool
        /// `DateHeaderCache.linesVersion` of the `Server` and `Date` lines inside.
        var lines: Int
    }

    private var key: Key?
    private var kept = ByteBuffer()

    /// The bytes kept for `key`, if those are the ones kept.
    func bytes(for key: Key) -> ByteBuffer? { self.key == key ? self.kept : nil }

    /// Keeps `bytes` as the answer for `key` (replacing the one kept before).
    func keep(_ bytes: ByteBuffer, for key: Key) { (self.key, self.kept) = (key, bytes) }
}

extension HTTPVersion {
    /// `HTTP/1.1`, as `description` says, without building the text for the two usual versions
    /// (every request's events carry it).
    var text: String {
        switch (self.major, self.minor) {
        case (1, 1): "HTTP/1.1"
        case (1, 0): "HTTP/1.0"
        default: self.description
        }
    }
}
