import NIOCore
import NIOHTTP1
import Testing

@testable import ServeEngine

/// Response bytes as written on the wire, without sockets.
@Suite struct ResponseEncodingTests {
    private func encoded(_ head: HTTPResponseHead) -> String {
        var buffer = ByteBufferAllocator().buffer(capacity: 16)
        ResponseEncoding.writeHead(head, into: &buffer)
        return String(buffer: buffer)
    }

    @Test func statusLineThenFieldsInOrderThenABlankLine() {
        var headers = HTTPHeaders()
        headers.add(name: "Content-Type", value: "text/plain")
        headers.add(name: "Content-Length", value: "5")
        headers.add(name: "Set-Cookie", value: "a=1")
        headers.add(name: "Set-Cookie", value: "b=2")
        let text = self.encoded(HTTPResponseHead(version: .http1_1, status: .ok, headers: headers))
        #expect(text == "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 5\r\nSet-Cookie: a=1\r\nSet-Cookie: b=2\r\n\r\n")
    }

    @Test func versionAndStatusAsGiven() {
        #expect(self.encoded(HTTPResponseHead(version: .http1_0, status: .notFound)) == "HTTP/1.0 404 Not Found\r\n\r\n")
        // A CGI script's own status and reason.
        let custom = HTTPResponseHead(version: .http1_1, status: .custom(code: 299, reasonPhrase: "Fine Thanks"))
        #expect(self.encoded(custom) == "HTTP/1.1 299 Fine Thanks\r\n\r\n")
        #expect(self.encoded(HTTPResponseHead(version: .http1_1, status: .imATeapot)) == "HTTP/1.1 418 I'm a teapot\r\n\r\n")
        #expect(self.encoded(HTTPResponseHead(version: .http1_1, status: .continue)) == "HTTP/1.1 100 Continue\r\n\r\n")
        #expect(String(buffer: ResponseEncoding.continueHead(allocator: ByteBufferAllocator())) == "HTTP/1.1 100 Continue\r\n\r\n")
    }

    /// A cached answer's fields, encoded once, then the status line and the writer's own fields around
    /// them: the same bytes as the whole head encoded at once.
    @Test func fieldsEncodedAheadMatchTheHeadEncodedAtOnce() {
        let fields: HTTPHeaders = ["ETag": "\"1-9\"", "Content-Type": "text/plain", "Content-Length": "9"]
        var pieces = ByteBufferAllocator().buffer(capacity: 16)
        ResponseEncoding.writeStatusLine(version: .http1_0, status: .ok, into: &pieces)
        pieces.writeImmutableBuffer(ResponseEncoding.encodedFields(fields))
        ResponseEncoding.writeField("Server", "s", into: &pieces)
        pieces.writeStaticString("\r\n")
        var all = fields
        all.add(name: "Server", value: "s")
        #expect(String(buffer: pieces) == self.encoded(HTTPResponseHead(version: .http1_0, status: .ok, headers: all)))
        #expect(String(buffer: pieces).hasPrefix("HTTP/1.0 200 OK\r\nETag: \"1-9\"\r\nContent-Type: text/plain\r\n"))
        // 200 with a reason of its own (a CGI script's) is not taken for the usual "OK".
        #expect(self.encoded(HTTPResponseHead(version: .http1_1, status: .custom(code: 200, reasonPhrase: "Fine"))) == "HTTP/1.1 200 Fine\r\n\r\n")
    }

    /// The `Server` and `Date` lines a loop encodes once per second: its server name and the
    /// current date.
    @Test func serverAndDateLinesFollowTheClockAndTheName() throws {
        let cache = DateHeaderCache(server: "one/1")
        var matched = false
        for _ in 0..<3 where !matched {
            let before = cache.current()
            let lines = String(buffer: cache.fieldLines())
            let after = cache.current()
            guard before == after else { continue }  // the second turned over in between: again
            #expect(lines == "Server: one/1\r\nDate: \(after)\r\n")
            #expect(String(buffer: DateHeaderCache(server: "two/2").fieldLines()).hasPrefix("Server: two/2\r\nDate: "))
            matched = true
        }
        #expect(matched)
    }

    @Test func versionTextIsTheDescription() {
        for version in [HTTPVersion.http1_1, .http1_0, .http0_9, .http2, HTTPVersion(major: 1, minor: 2)] {
            #expect(version.text == version.description)
        }
        #expect(HTTPVersion.http1_1.text == "HTTP/1.1")
    }

    @Test(arguments: [(1, "1"), (15, "f"), (255, "ff"), (65_536, "10000")])
    func chunkSizesAreHex(count: Int, hex: String) {
        let allocator = ByteBufferAllocator()
        #expect(String(buffer: ResponseEncoding.chunkHeader(count: count, allocator: allocator)) == "\(hex)\r\n")
        #expect(String(buffer: ResponseEncoding.chunkTrailer(allocator: allocator)) == "\r\n")
        #expect(String(buffer: ResponseEncoding.lastChunk(allocator: allocator)) == "0\r\n\r\n")
    }
}
