import NIOCore
import NIOHTTP1
@testable import ServeEngine
import Testing

/// Conditional requests, ranges and MIME types without a disk.
@Suite struct FilePlannerTests {
    let file = FileAttributes(size: 1000, modificationNanoseconds: 784_111_777_123_456_789)

    private func plan(_ headers: [(String, String)]) -> FilePlan {
        FilePlanner.plan(headers: HTTPHeaders(headers), attributes: self.file)
    }

    @Test func noConditionsGivesTheFullFile() {
        #expect(self.plan([]) == .full)
    }

    @Test func matchingETagIsNotModifiedAndWinsOverADate() {
        #expect(self.plan([("If-None-Match", self.file.etag)]) == .notModified)
        #expect(self.plan([("If-None-Match", "\"other\", W/\(self.file.etag)")]) == .notModified)
        #expect(self.plan([("If-None-Match", "*")]) == .notModified)
        // A stale tag with a fresh date: the tag decides (RFC 9110 §13.2.2).
        #expect(self.plan([("If-None-Match", "\"stale\""), ("If-Modified-Since", "Sun, 06 Nov 2050 08:49:37 GMT")]) == .full)
    }

    /// RFC 9110 §13.1.1, §13.1.4, §13.2.2: If-Match (strong), else If-Unmodified-Since, before
    /// anything else; a failed one is 412 whatever else the request asks.
    @Test func ifMatchAndIfUnmodifiedSinceGuardTheFile() {
        #expect(self.plan([("If-Match", self.file.etag)]) == .full)
        #expect(self.plan([("If-Match", "\"other\", \(self.file.etag)")]) == .full)
        #expect(self.plan([("If-Match", "*")]) == .full)
        #expect(self.plan([("If-Match", "\"other\"")]) == .preconditionFailed)
        // Strong comparison: a weak tag never matches.
        #expect(self.plan([("If-Match", "W/\(self.file.etag)")]) == .preconditionFailed)
        #expect(self.plan([("If-Match", "\"other\""), ("Range", "bytes=0-9")]) == .preconditionFailed)
        #expect(self.plan([("If-Match", "\"other\""), ("If-None-Match", "*")]) == .preconditionFailed)
        #expect(self.plan([("If-Match", self.file.etag), ("Range", "bytes=0-9")]) == .partial(first: 0, last: 9))
        // The file changed at 08:49:37: unmodified since then holds, since a second before does not.
        #expect(self.plan([("If-Unmodified-Since", "Sun, 06 Nov 1994 08:49:37 GMT")]) == .full)
        #expect(self.plan([("If-Unmodified-Since", "Sun, 06 Nov 1994 08:49:36 GMT")]) == .preconditionFailed)
        #expect(self.plan([("If-Unmodified-Since", "garbage")]) == .full)
        // If-Match present: the date is not looked at.
        #expect(self.plan([("If-Match", self.file.etag), ("If-Unmodified-Since", "Sun, 06 Nov 1994 08:49:36 GMT")]) == .full)
    }

    @Test func modifiedSinceComparesSeconds() {
        #expect(self.plan([("If-Modified-Since", "Sun, 06 Nov 1994 08:49:37 GMT")]) == .notModified)
        #expect(self.plan([("If-Modified-Since", "Sun, 06 Nov 1994 08:49:36 GMT")]) == .full)
        #expect(self.plan([("If-Modified-Since", "garbage")]) == .full)
    }

    @Test(arguments: [
        ("bytes=0-9", FilePlan.partial(first: 0, last: 9)),
        ("bytes=990-", .partial(first: 990, last: 999)),
        ("bytes=-10", .partial(first: 990, last: 999)),
        ("bytes=-5000", .partial(first: 0, last: 999)),
        ("bytes=500-5000", .partial(first: 500, last: 999)),
        ("bytes=1000-", .rangeNotSatisfiable),
        ("bytes=-0", .rangeNotSatisfiable),
        ("bytes=0-0,5-6", .multipart([0...0, 5...6])),
        ("bytes=-10,0-4,5-9", .multipart([990...999, 0...4, 5...9])),
        ("bytes=0-10,5-20", .full),
        ("bytes=0-,999-", .full),
        ("bytes=0-0,5000-", .partial(first: 0, last: 0)),
        ("bytes=5-1", .full),
        ("items=0-5", .full),
        ("bytes=abc", .full),
        ("bytes=1000-2000,3000-", .rangeNotSatisfiable),
    ])
    func ranges(header: String, expected: FilePlan) {
        #expect(self.plan([("Range", header)]) == expected)
    }

    /// The multipart body of RFC 9110 §14.6 from bytes in memory, with the length announced ahead.
    @Test func multipartBodyHasADelimitedPartPerRangeAndItsAnnouncedLength() throws {
        let ranges: [ClosedRange<Int64>] = [7...9, 0...1]
        let body = MultipartByteRanges(ranges: ranges, size: 10, contentType: "text/plain", boundary: "B0UND")
        #expect(body.contentType == "multipart/byteranges; boundary=B0UND")
        let bytes = try #require(body.body(from: ByteBuffer(string: "0123456789")))
        #expect(String(buffer: bytes) == """
            \r\n--B0UND\r\nContent-Type: text/plain\r\nContent-Range: bytes 7-9/10\r\n\r\n789\
            \r\n--B0UND\r\nContent-Type: text/plain\r\nContent-Range: bytes 0-1/10\r\n\r\n01\
            \r\n--B0UND--\r\n
            """)
        #expect(body.contentLength == Int64(bytes.readableBytes))
        // A file that shrank below a range: no body from memory (the caller sends from disk).
        #expect(body.body(from: ByteBuffer(string: "01234")) == nil)
    }

    @Test func multipartBoundariesDifferAndStayPlain() {
        let boundaries = (0..<50).map { _ in MultipartByteRanges.newBoundary() }
        #expect(Set(boundaries).count == 50)
        for boundary in boundaries {
            #expect(boundary.utf8.count == 36)
            #expect(boundary.utf8.allSatisfy(Set("abcdefghijklmnopqrstuvwxyz0123456789-".utf8).contains))
        }
    }

    @Test func ifRangeHonoursTheRangeOnlyWhenTheValidatorMatches() {
        #expect(self.plan([("Range", "bytes=0-9"), ("If-Range", self.file.etag)]) == .partial(first: 0, last: 9))
        #expect(self.plan([("Range", "bytes=0-9"), ("If-Range", "\"changed\"")]) == .full)
        #expect(self.plan([("Range", "bytes=0-9"), ("If-Range", "W/\(self.file.etag)")]) == .full)
        #expect(self.plan([("Range", "bytes=0-9"), ("If-Range", self.file.lastModified)]) == .partial(first: 0, last: 9))
        #expect(self.plan([("Range", "bytes=0-9"), ("If-Range", "Sun, 06 Nov 1994 08:49:36 GMT")]) == .full)
    }

    @Test(arguments: [
        ("index.html", "text/html; charset=utf-8"), ("a.htm", "text/html; charset=utf-8"),
        ("s.css", "text/css; charset=utf-8"), ("app.js", "text/javascript; charset=utf-8"),
        ("m.mjs", "text/javascript; charset=utf-8"), ("d.json", "application/json; charset=utf-8"),
        ("x.js.map", "application/json; charset=utf-8"), ("m.wasm", "application/wasm"),
        ("i.svg", "image/svg+xml; charset=utf-8"), ("i.png", "image/png"), ("i.JPG", "image/jpeg"),
        ("i.jpeg", "image/jpeg"), ("i.gif", "image/gif"), ("i.webp", "image/webp"), ("i.avif", "image/avif"),
        ("favicon.ico", "image/vnd.microsoft.icon"), ("f.woff", "font/woff"), ("f.woff2", "font/woff2"),
        ("r.txt", "text/plain; charset=utf-8"), ("r.md", "text/markdown; charset=utf-8"),
        ("d.csv", "text/csv; charset=utf-8"), ("d.xml", "application/xml; charset=utf-8"),
        ("d.pdf", "application/pdf"), ("a.zip", "application/zip"), ("a.tar.gz", "application/gzip"),
        ("s.mp3", "audio/mpeg"), ("v.mp4", "video/mp4"), ("v.webm", "video/webm"),
        ("noext", "application/octet-stream"), ("x.unknownext", "application/octet-stream"),
        (".bashrc", "application/octet-stream"),
    ])
    func mimeTypes(name: String, type: String) {
        #expect(MIMETypes.contentType(forFileName: name[...]) == type)
    }
}
