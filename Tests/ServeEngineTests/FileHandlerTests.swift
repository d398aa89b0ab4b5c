import Foundation
import NIOConcurrencyHelpers
@testable import ServeEngine
import Testing

/// Creates the file at `path` (a C string: its name need not be UTF-8) holding `text`.
private func writeFile(_ path: UnsafePointer<CChar>, _ text: String) -> Bool {
    let fd = open(path, O_CREAT | O_WRONLY | O_TRUNC, 0o644)
    guard fd >= 0 else { return false }
    defer { close(fd) }
    return Array(text.utf8).withUnsafeBytes { write(fd, $0.baseAddress, $0.count) } == text.utf8.count
}

/// The static-file handler over real sockets.
@Suite struct FileHandlerTests {
    private func start(_ tree: TempTree, configure: (inout ServerConfiguration) -> Void = { _ in }) async throws -> TestServer {
        try await TestServer.start(handlers: [FileHandler()], directory: tree.root, configure: configure)
    }

    @Test func servesExactBytesForTextAndBinaryFiles() async throws {
        let tree = try TempTree()
        let binary = TempTree.bytes(3 * 1024 * 1024 + 17)
        try tree.write("hello.txt", "hello, world\n")
        try tree.write("blob.bin", binary)
        try tree.write("empty.txt", "")
        let server = try await self.start(tree)
        defer { Task { await server.shutdown() } }
        let client = try server.client()
        let text = try client.get("/hello.txt")
        #expect(text.status == 200)
        #expect(text.bodyText == "hello, world\n")
        #expect(text.header("content-type") == "text/plain; charset=utf-8")
        #expect(text.header("accept-ranges") == "bytes")
        #expect(text.header("cache-control") == "no-cache")
        #expect(text.header("etag")?.hasPrefix("\"") == true)
        #expect(text.header("last-modified")?.hasSuffix("GMT") == true)
        let blob = try client.get("/blob.bin")
        #expect(blob.header("content-length") == String(binary.count))
        #expect(blob.body == binary)
        let empty = try client.get("/empty.txt")
        #expect(empty.status == 200 && empty.body.isEmpty)
    }

    @Test func headHasTheHeadersOfGetWithoutABody() async throws {
        let tree = try TempTree()
        try tree.write("page.html", "<p>hi</p>")
        let server = try await self.start(tree)
        defer { Task { await server.shutdown() } }
        let client = try server.client()
        let get = try client.get("/page.html")
        let head = try client.get("/page.html", method: "HEAD")
        #expect(head.status == 200)
        for name in ["content-length", "content-type", "etag", "last-modified", "accept-ranges"] {
            #expect(head.header(name) == get.header(name), "\(name)")
        }
        // The connection is still in sync: no stray body bytes after the HEAD response.
        #expect(try client.get("/page.html").bodyText == "<p>hi</p>")
    }

    @Test func traversalInAnySpellingNeverReachesTheSecret() async throws {
        let tree = try TempTree()
        try tree.write("secret.txt", "TOP-SECRET", outside: true)
        try tree.write("sub/inner.txt", "inner")
        let server = try await self.start(tree)
        defer { Task { await server.shutdown() } }
        let spellings = [
            "/../secret.txt", "/%2e%2e/secret.txt", "/%2E%2E/secret.txt", "/..%2fsecret.txt", "/%2e%2e%2fsecret.txt",
            "/..%5csecret.txt", "/..\\secret.txt", "/.%2e/secret.txt", "/%2e./secret.txt", "/sub/../../secret.txt",
            "/sub/%2e%2e/%2e%2e/secret.txt", "//../secret.txt", "/%252e%252e/secret.txt", "/....//secret.txt",
            "/..;/secret.txt", "/%c0%ae%c0%ae/secret.txt", "/sub/..%2f..%2fsecret.txt", "/./../secret.txt",
            "/sub%2f..%2f..%2fsecret.txt", "/%2e%2e%5c%2e%2e%5csecret.txt", "\\..\\secret.txt",
            "http://x/../secret.txt", "http://x/%2e%2e/secret.txt", "http://..%2f../secret.txt", "http:/../secret.txt",
            "../secret.txt",
        ]
        for spelling in spellings {
            let client = try server.client()
            try client.send("GET \(spelling) HTTP/1.1\r\nHost: x\r\n\r\n")
            let response = try client.readResponse()
            #expect(response.status != 200, "\(spelling) was served")
            #expect(!response.bodyText.contains("TOP-SECRET"), "\(spelling) leaked the secret")
        }
        #expect(try server.client().get("/sub/inner.txt").bodyText == "inner")
    }

    @Test func nulInThePathIs400() async throws {
        let tree = try TempTree()
        let server = try await self.start(tree)
        defer { Task { await server.shutdown() } }
        #expect(try server.client().get("/a%00.txt").status == 400)
    }

    @Test func symlinkLeavingTheRootIsRefusedUnlessFollowed() async throws {
        let tree = try TempTree()
        let secret = try tree.write("secret.txt", "OUTSIDE", outside: true)
        try tree.write("real.txt", "inside")
        try tree.symlink("escape.txt", to: secret)
        try tree.symlink("escape-dir", to: tree.base)
        try tree.symlink("alias.txt", to: tree.root + "/real.txt")
        let strict = try await self.start(tree)
        let client = try strict.client()
        let refused = try client.get("/escape.txt")
        #expect(refused.status == 403)
        #expect(!refused.bodyText.contains("OUTSIDE"))
        #expect(try client.get("/escape-dir/secret.txt").status == 403)
        #expect(try client.get("/alias.txt").bodyText == "inside")
        await strict.shutdown()

        let following = try await self.start(tree) { $0.followSymlinks = true }
        #expect(try following.client().get("/escape.txt").bodyText == "OUTSIDE")
        await following.shutdown()
    }

    /// The open itself is held beneath the root (`openat2` with `RESOLVE_BENEATH`), so a symlink
    /// that leads out is refused even by an open that no check came before; links that stay inside,
    /// absolute or relative, open their file. Without sockets.
    @Test func opensAreHeldBeneathTheRootByTheKernel() throws {
        let tree = try TempTree()
        let secret = try tree.write("secret.txt", "OUTSIDE", outside: true)
        try tree.write("real.txt", "inside")
        try tree.write("sub/deep.txt", "deep")
        try tree.symlink("escape.txt", to: secret)
        try tree.symlink("escape-dir", to: tree.base)
        try tree.symlink("up.txt", to: "../secret.txt")
        try tree.symlink("absolute-inside.txt", to: tree.root + "/real.txt")
        try tree.symlink("sub/relative-inside.txt", to: "../real.txt")
        try tree.symlink("sub-link", to: "sub")
        let root = try #require(FileSystemProbe.realPath(FileSystemPath(tree.root))).description
        func contents(_ name: String, inside: String?) -> Result<String, Errno> {
            FileSystemProbe.openRegularFile(FileSystemPath(root).appending(name.utf8), inside: inside).map { fd, _ in
                defer { close(fd) }
                var buffer = [UInt8](repeating: 0, count: 64)
                let count = read(fd, &buffer, buffer.count)
                return String(decoding: buffer.prefix(max(0, count)), as: UTF8.self)
            }
        }
        for name in ["escape.txt", "escape-dir/secret.txt", "up.txt"] {
            #expect(contents(name, inside: root) == .failure(Errno(EXDEV)), "\(name)")
        }
        #expect(Errno(EXDEV).httpError.status == .forbidden)
        #expect(contents("real.txt", inside: root) == .success("inside"))
        #expect(contents("absolute-inside.txt", inside: root) == .success("inside"))
        #expect(contents("sub/relative-inside.txt", inside: root) == .success("inside"))
        #expect(contents("sub-link/deep.txt", inside: root) == .success("deep"))
        #expect(contents("missing.txt", inside: root) == .failure(Errno(ENOENT)))
        // --follow-symlinks: a plain open.
        #expect(contents("escape.txt", inside: nil) == .success("OUTSIDE"))
        // A folder is listed only from inside too.
        #expect(FileSystemProbe.list(FileSystemPath(root + "/escape-dir"), inside: root, includeHidden: false).map { $0.count } == .failure(Errno(EXDEV)))
        let listed = try FileSystemProbe.list(FileSystemPath(root + "/sub-link"), inside: root, includeHidden: false).get()
        #expect(Set(listed.map { String(decoding: $0.rawName, as: UTF8.self) }) == ["deep.txt", "relative-inside.txt"])
    }

    @Test func pathsRelativeToAFolder() {
        func relative(_ path: String, _ folder: String) -> String? { FileSystemPath(path).relative(to: FileSystemPath(folder))?.description }
        #expect(relative("/srv/www/a/b.txt", "/srv/www") == "a/b.txt")
        #expect(relative("/srv/www", "/srv/www") == ".")
        #expect(relative("/srv/www/", "/srv/www") == ".")
        #expect(relative("/srv/wwwx/a", "/srv/www") == nil)
        #expect(relative("/etc/passwd", "/") == "etc/passwd")
        #expect(relative("/", "/") == ".")
    }

    /// A local user swaps a symlink between a file inside and one outside while requests for it
    /// come: whatever the timing, the file outside is never served (the check before the open and
    /// the open are two steps; the open is held beneath the root). Bounded: 1,500 requests or 20 s.
    @Test func aSymlinkSwappedDuringRequestsNeverLeadsOut() async throws {
        let tree = try TempTree()
        let secret = try tree.write("secret.txt", "OUTSIDE", outside: true)
        let inside = try tree.write("inside.txt", "inside")
        try tree.symlink("flip", to: inside)
        let server = try await self.start(tree)
        defer { Task { await server.shutdown() } }
        let stop = NIOLockedValueBox(false)
        let stopped = NIOLockedValueBox(false)
        let swaps = NIOLockedValueBox(0)
        let link = tree.root + "/flip"
        let spare = tree.root + "/.flip-next"
        let flipper = Thread {
            var outside = true
            while !stop.withLockedValue({ $0 }) {
                unlink(spare)
                _ = Glibc.symlink(outside ? secret : inside, spare)
                _ = rename(spare, link)
                outside.toggle()
                swaps.withLockedValue { $0 += 1 }
            }
            stopped.withLockedValue { $0 = true }
        }
        flipper.start()
        defer {
            stop.withLockedValue { $0 = true }
            _ = waitUntil { stopped.withLockedValue { $0 } }
        }
        let client = try server.client()
        var served = 0
        var refused = 0
        let deadline = monotonicNow() + 20_000_000_000
        for _ in 0..<1_500 where monotonicNow() < deadline {
            let response = try client.get("/flip")
            #expect(!response.bodyText.contains("OUTSIDE"))
            if response.status == 200 { served += 1 } else { refused += 1 }
            #expect(response.status == 200 || response.status == 403 || response.status == 404, "\(response.status)")
        }
        // Both targets were really in play.
        #expect(swaps.withLockedValue { $0 } > 100)
        #expect(served > 0 && refused > 0, "served \(served), refused \(refused)")
    }

    /// A loop of links is refused in words that name it (not "Permission denied"), and the
    /// connection goes on.
    @Test func symlinkLoopIs403NamingTheLoop() async throws {
        let tree = try TempTree()
        try tree.symlink("loop1", to: tree.root + "/loop2")
        try tree.symlink("loop2", to: tree.root + "/loop1")
        try tree.write("real.txt", "inside")
        for follow in [false, true] {
            let server = try await self.start(tree) { $0.followSymlinks = follow }
            let client = try server.client()
            let loop = try client.get("/loop1")
            #expect(loop.status == 403)
            #expect(loop.bodyText.contains("Symbolic link loop"))
            #expect(try client.get("/loop2/x.txt").status == 403)
            #expect(try client.get("/real.txt").bodyText == "inside")
            await server.shutdown()
        }
    }

    /// Containment is decided on bytes: a name starting with a combining mark is inside the root,
    /// and a differently normalised twin of the root (café as `e` + U+0301) is not.
    @Test func containmentComparesBytesNotCanonicalEquivalents() async throws {
        let tree = try TempTree()
        let root = tree.base + "/caf\u{E9}"
        let twin = tree.base + "/cafe\u{301}"
        for folder in [root, twin] { try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: false) }
        try Data("marked".utf8).write(to: URL(fileURLWithPath: root + "/\u{301}x.txt"))
        try Data("TWIN".utf8).write(to: URL(fileURLWithPath: twin + "/secret.txt"))
        try FileManager.default.createSymbolicLink(atPath: root + "/twin", withDestinationPath: twin)
        let server = try await TestServer.start(handlers: [FileHandler()], directory: root)
        defer { Task { await server.shutdown() } }
        let client = try server.client()
        #expect(try client.get("/%CC%81x.txt").bodyText == "marked")
        let refused = try client.get("/twin/secret.txt")
        #expect(refused.status == 403)
        #expect(!refused.bodyText.contains("TWIN"))
    }

    /// Names a Latin-1 system wrote (`caf\xE9.txt`) are not UTF-8: the listing links them by their
    /// bytes, and those links serve them, never a UTF-8 file whose name reads the same once the bad
    /// byte is shown as U+FFFD (the open-file cache holds that one).
    @Test func namesThatAreNotUTF8AreListedAndServedByTheirBytes() async throws {
        let tree = try TempTree()
        let root = FileSystemPath(tree.root)
        let latin1 = root.appending([0x63, 0x61, 0x66, 0xE9, 0x2E, 0x74, 0x78, 0x74])  // caf\xE9.txt
        let folder = root.appending([0x64, 0x69, 0x72, 0xFF])  // dir\xFF
        let escape = root.appending([0x65, 0x73, 0x63, 0xE9])  // esc\xE9 -> outside
        try tree.write("caf\u{FFFD}.txt", "replacement")
        try tree.write("secret.txt", "OUTSIDE", outside: true)
        #expect(latin1.withCString { writeFile($0, "latin1") } && folder.withCString { mkdir($0, 0o755) } == 0)
        #expect(folder.appending("in.txt".utf8).withCString { writeFile($0, "inner") })
        #expect(escape.withCString { Glibc.symlink(tree.base + "/secret.txt", $0) } == 0)
        // FileManager cannot name these to remove them; the tree's own removal follows.
        defer {
            for path in [latin1, folder.appending("in.txt".utf8), escape] { _ = path.withCString(unlink) }
            _ = folder.withCString(rmdir)
        }
        let server = try await self.start(tree)
        defer { Task { await server.shutdown() } }
        let client = try server.client()

        let listing = try client.get("/?format=json").bodyText
        #expect(listing.contains("\"href\":\"caf%E9.txt\"") && listing.contains("\"href\":\"dir%FF/\""), "\(listing)")
        // Twice each, alternating, so the second of each could come from the cache.
        for _ in 0..<2 {
            #expect(try client.get("/caf%EF%BF%BD.txt").bodyText == "replacement")
            let file = try client.get("/caf%E9.txt")
            #expect(file.status == 200 && file.bodyText == "latin1")
            #expect(file.header("content-type") == "text/plain; charset=utf-8")
        }
        #expect(try client.get("/caf%E9.txt", headers: ["Range: bytes=2-"]).bodyText == "tin1")
        let redirect = try client.get("/dir%FF")
        #expect(redirect.status == 301 && redirect.header("location") == "/dir%FF/")
        let inner = try client.get("/dir%FF/")
        #expect(inner.status == 200 && inner.bodyText.contains("href=\"in.txt\""))
        #expect(try client.get("/dir%FF/in.txt").bodyText == "inner")
        #expect(try client.get("/dir%FF/../caf%E9.txt").bodyText == "latin1")
        // Still only inside the root.
        let refused = try client.get("/esc%E9")
        #expect(refused.status == 403 && !refused.bodyText.contains("OUTSIDE"))
        #expect(try client.get("/%FF%FE/../../secret.txt").status == 404)
        #expect(try client.get("/%E9").status == 404)
    }

    @Test func directoryWithoutSlashRedirectsKeepingTheQuery() async throws {
        let tree = try TempTree()
        try tree.mkdir("docs")
        try tree.mkdir("example.com")
        let server = try await self.start(tree)
        defer { Task { await server.shutdown() } }
        let client = try server.client()
        let redirect = try client.get("/docs?sort=size&order=desc")
        #expect(redirect.status == 301)
        #expect(redirect.header("location") == "/docs/?sort=size&order=desc")
        let sneaky = try client.get("//example.com")
        #expect(sneaky.status == 301)
        #expect(sneaky.header("location") == "/example.com/")
    }

    /// RFC 9112 §3.2.2: a server must accept a target in absolute-form and serve its path.
    @Test func absoluteFormTargetIsServedFromItsPath() async throws {
        let tree = try TempTree()
        try tree.write("docs/a b.txt", "spaced")
        try tree.write("index.html", "<p>home</p>")
        let server = try await self.start(tree)
        defer { Task { await server.shutdown() } }
        let client = try server.client()
        let file = try client.get("http://example.com:8000/docs/a%20b.txt")
        #expect(file.status == 200)
        #expect(file.bodyText == "spaced")
        #expect(try client.get("HTTPS://Example.COM/docs/a%20b.txt").bodyText == "spaced")
        #expect(try client.get("http://example.com").bodyText == "<p>home</p>")
        #expect(try client.get("http://example.com?x=1#frag").bodyText == "<p>home</p>")
        let redirect = try client.get("http://example.com/docs?sort=size")
        #expect(redirect.status == 301)
        #expect(redirect.header("location") == "/docs/?sort=size")
        let listing = try client.get("http://example.com/docs/?format=json")
        #expect(listing.header("content-type")?.hasPrefix("application/json") == true)
        #expect(listing.bodyText.contains("a b.txt"))
    }

    @Test func indexHtmlThenIndexHtmIsServedForAFolder() async throws {
        let tree = try TempTree()
        try tree.write("a/index.html", "A-html")
        try tree.write("a/index.htm", "A-htm")
        try tree.write("b/index.htm", "B-htm")
        let server = try await self.start(tree)
        defer { Task { await server.shutdown() } }
        let client = try server.client()
        #expect(try client.get("/a/").bodyText == "A-html")
        let b = try client.get("/b/")
        #expect(b.bodyText == "B-htm")
        #expect(b.header("content-type") == "text/html; charset=utf-8")
    }

    @Test func missingIs404AndUnreadableIs403AndPostIs501() async throws {
        let tree = try TempTree()
        let locked = try tree.write("locked.txt", "no")
        chmod(locked, 0)
        let server = try await self.start(tree)
        defer { Task { await server.shutdown() } }
        let client = try server.client()
        let missing = try client.get("/nope.txt")
        #expect(missing.status == 404)
        #expect(missing.bodyText.contains("File not found"))
        // Root ignores permissions; only check 403 when the test is not running as root.
        if getuid() != 0 { #expect(try client.get("/locked.txt").status == 403) }
        try client.send("POST /locked.txt HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n\r\nhi")
        #expect(try client.readResponse().status == 501)
        #expect(try client.get("/nope/").status == 404)
    }

    @Test func notModifiedByETagAndByDate() async throws {
        let tree = try TempTree()
        try tree.write("c.css", "body{}")
        let server = try await self.start(tree)
        defer { Task { await server.shutdown() } }
        let client = try server.client()
        let first = try client.get("/c.css")
        let etag = try #require(first.header("etag"))
        let lastModified = try #require(first.header("last-modified"))
        let byTag = try client.get("/c.css", headers: ["If-None-Match: \(etag)"])
        #expect(byTag.status == 304)
        #expect(byTag.body.isEmpty)
        #expect(byTag.header("etag") == etag)
        let byDate = try client.get("/c.css", headers: ["If-Modified-Since: \(lastModified)"])
        #expect(byDate.status == 304)
        let staleTag = try client.get("/c.css", headers: ["If-None-Match: \"old\"", "If-Modified-Since: \(lastModified)"])
        #expect(staleTag.status == 200)
        #expect(staleTag.bodyText == "body{}")
        // A date whose year does not fit is ignored, and the server is still there afterwards.
        let hostile = try client.get("/c.css", headers: ["If-Modified-Since: Sun, 06 Nov 22222222222 08:49:37 GMT"])
        #expect(hostile.status == 200)
        #expect(try client.get("/c.css").status == 200)
    }

    /// A client that means one version of a file (If-Match, If-Unmodified-Since) gets 412 and
    /// nothing of it when the file changed, for small files answered from memory and big ones alike,
    /// and the connection goes on.
    @Test func preconditionFailedIs412() async throws {
        let tree = try TempTree()
        try tree.write("small.txt", "small")
        try tree.write("big.bin", String(repeating: "b", count: 100_000))
        let server = try await self.start(tree)
        defer { Task { await server.shutdown() } }
        let client = try server.client()
        for path in ["/small.txt", "/small.txt", "/big.bin"] {
            let etag = try #require(try client.get(path).header("etag"))
            #expect(try client.get(path, headers: ["If-Match: \(etag)"]).status == 200)
            let stale = try client.get(path, headers: ["If-Match: \"old\"", "Range: bytes=0-1"])
            #expect(stale.status == 412)
            #expect(stale.bodyText.contains("Precondition in headers is false"))
            #expect(!stale.bodyText.contains("small") && !stale.bodyText.contains("bbbb"))
            let before = try client.get(path, headers: ["If-Unmodified-Since: Sun, 06 Nov 1994 08:49:37 GMT"])
            #expect(before.status == 412)
            #expect(try client.get(path, headers: ["If-Unmodified-Since: Sun, 06 Nov 2050 08:49:37 GMT"]).status == 200)
        }
    }

    @Test func rangeForms416AndIfRange() async throws {
        let tree = try TempTree()
        try tree.write("digits.txt", "0123456789")
        let server = try await self.start(tree)
        defer { Task { await server.shutdown() } }
        let client = try server.client()
        let cases: [(String, Int, String, String?)] = [
            ("bytes=2-4", 206, "234", "bytes 2-4/10"),
            ("bytes=7-", 206, "789", "bytes 7-9/10"),
            ("bytes=-3", 206, "789", "bytes 7-9/10"),
            ("bytes=0-3,2-5", 200, "0123456789", nil),
        ]
        for (range, status, body, contentRange) in cases {
            let response = try client.get("/digits.txt", headers: ["Range: \(range)"])
            #expect(response.status == status, "\(range)")
            #expect(response.bodyText == body, "\(range)")
            #expect(response.header("content-range") == contentRange, "\(range)")
        }
        let unsatisfiable = try client.get("/digits.txt", headers: ["Range: bytes=10-"])
        #expect(unsatisfiable.status == 416)
        #expect(unsatisfiable.header("content-range") == "bytes */10")
        let etag = try #require(try client.get("/digits.txt").header("etag"))
        #expect(try client.get("/digits.txt", headers: ["Range: bytes=0-1", "If-Range: \(etag)"]).bodyText == "01")
        #expect(try client.get("/digits.txt", headers: ["Range: bytes=0-1", "If-Range: \"old\""]).status == 200)
        let headRange = try client.get("/digits.txt", headers: ["Range: bytes=2-4"], method: "HEAD")
        #expect(headRange.status == 206 && headRange.header("content-length") == "3")
    }

    /// RFC 9110 §14.6: several ranges get one `multipart/byteranges` body, from memory for a small
    /// (cached) file and through sendfile for a large one, with an exact length that keeps the connection.
    @Test func severalRangesGetAMultipartBody() async throws {
        let tree = try TempTree()
        let small = Array("0123456789abcdef".utf8)
        let large = TempTree.bytes(3 * 1024 * 1024 + 5)
        try tree.write("small.txt", String(decoding: small, as: UTF8.self))
        try tree.write("large.bin", large)
        let server = try await self.start(tree)
        defer { Task { await server.shutdown() } }
        let recorder = EventRecorder(server)
        let client = try server.client()
        var bodySizes: [Int64] = []
        let cases: [(String, [UInt8], String, [ClosedRange<Int>])] = [
            ("/small.txt", small, "bytes=0-1, 4-5,-3", [0...1, 4...5, 13...15]),
            ("/large.bin", large, "bytes=3145000-,0-99999,2000000-2000000", [3_145_000...large.count - 1, 0...99_999, 2_000_000...2_000_000]),
        ]
        for (path, content, range, expected) in cases {
            let response = try client.get(path, headers: ["Range: \(range)"])
            #expect(response.status == 206)
            #expect(response.header("content-range") == nil)
            let contentType = try #require(response.header("content-type"))
            #expect(contentType.hasPrefix("multipart/byteranges; boundary="))
            let boundary = String(contentType.dropFirst("multipart/byteranges; boundary=".count))
            #expect(Int(response.header("content-length") ?? "") == response.body.count)
            bodySizes.append(Int64(response.body.count))
            let parts = try #require(Self.multipartParts(response.body, boundary: boundary))
            #expect(parts.map(\.range) == expected.map { "bytes \($0.lowerBound)-\($0.upperBound)/\(content.count)" })
            #expect(parts.map(\.type) == Array(repeating: path.hasSuffix(".txt") ? "text/plain; charset=utf-8" : "application/octet-stream", count: expected.count))
            for (part, range) in zip(parts, expected) { #expect(part.body == Array(content[range]), "\(path) \(range)") }
            // HEAD announces the same length, and bytes sent are the body's.
            let head = try client.get(path, headers: ["Range: \(range)"], method: "HEAD")
            #expect(head.status == 206 && head.header("content-length") == String(response.body.count))
        }
        #expect(try client.get("/small.txt").bodyText == "0123456789abcdef")
        #expect(recorder.waitFor { _ in recorder.finished.count == 5 })
        let logged = recorder.finished.filter { $0.method == "GET" && $0.status == 206 }.map(\.bytesSent)
        #expect(logged.sorted() == bodySizes.sorted())
    }

    /// The parts of a multipart body: each part's Content-Range, Content-Type and bytes; `nil` if the
    /// body does not have the delimiter structure of RFC 2046 §5.1.1.
    static func multipartParts(_ body: [UInt8], boundary: String) -> [(range: String, type: String, body: [UInt8])]? {
        let delimiter = Array("\r\n--\(boundary)".utf8)
        var starts: [Int] = []
        var index = 0
        while index + delimiter.count <= body.count {
            if body[index..<index + delimiter.count].elementsEqual(delimiter) {
                starts.append(index)
                index += delimiter.count
            } else {
                index += 1
            }
        }
        guard starts.first == 0, let last = starts.last,
            body[(last + delimiter.count)...].elementsEqual("--\r\n".utf8)
        else { return nil }
        var parts: [(String, String, [UInt8])] = []
        for (start, end) in zip(starts, starts.dropFirst()) {
            let part = Array(body[(start + delimiter.count)..<end])
            let separator = Array("\r\n\r\n".utf8)
            guard let split = (0...(part.count - separator.count)).first(where: { part[$0..<$0 + separator.count].elementsEqual(separator) })
            else { return nil }
            var fields: [String: String] = [:]
            for line in String(decoding: part[..<split], as: UTF8.self).split(separator: "\r\n") {
                guard let colon = line.firstIndex(of: ":") else { continue }
                fields[line[..<colon].lowercased()] = line[line.index(after: colon)...].trimmingSpaces
            }
            parts.append((fields["content-range"] ?? "", fields["content-type"] ?? "", Array(part[(split + separator.count)...])))
        }
        return parts
    }

    @Test func mimeTypesOverTheWire() async throws {
        let tree = try TempTree()
        let files = ["a.html": "text/html; charset=utf-8", "b.js": "text/javascript; charset=utf-8", "c.wasm": "application/wasm", "d.png": "image/png", "e.bin": "application/octet-stream"]
        for name in files.keys { try tree.write(name, "x") }
        let server = try await self.start(tree)
        defer { Task { await server.shutdown() } }
        let client = try server.client()
        for (name, type) in files {
            #expect(try client.get("/\(name)").header("content-type") == type)
        }
    }
}
