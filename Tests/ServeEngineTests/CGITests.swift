import Foundation
import NIOConcurrencyHelpers
import NIOHTTP1
import Testing

@testable import ServeEngine

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A served tree with CGI scripts the tests write, and a server running them. `@unchecked Sendable`
/// so `defer { Task { await shutdown() } }` can take it; one test uses it at a time.
private final class CGIFixture: @unchecked Sendable {
    let tree: TempTree
    let server: TestServer
    let markers: String

    private init(tree: TempTree, server: TestServer) {
        self.tree = tree
        self.server = server
        self.markers = tree.base + "/markers"
    }

    static func start(configure: (inout CGIOptions) -> Void = { _ in }, server serverConfigure: (inout ServerConfiguration) -> Void = { _ in }) async throws -> CGIFixture {
        let tree = try TempTree()
        try FileManager.default.createDirectory(atPath: tree.base + "/markers", withIntermediateDirectories: true)
        var options = CGIOptions()
        configure(&options)
        let server = try await TestServer.start(
            handlers: [CGIHandler(options: options), FileHandler(protecting: options)],
            directory: tree.root,
            configure: serverConfigure
        )
        return CGIFixture(tree: tree, server: server)
    }

    /// Writes an executable shell script at `path` (relative to the root).
    @discardableResult
    func script(_ path: String, _ body: String, executable: Bool = true, outside: Bool = false) throws -> String {
        let full = try self.tree.write(path, "#!/bin/sh\n" + body, outside: outside)
        chmod(full, executable ? 0o755 : 0o644)
        return full
    }

    func marker(_ name: String) -> String { self.markers + "/" + name }
    func markerExists(_ name: String) -> Bool { FileManager.default.fileExists(atPath: self.marker(name)) }

    /// The pid a script wrote to `name` (scripts do `echo $$ > marker`).
    func pid(_ name: String) -> pid_t? {
        guard let text = try? String(contentsOfFile: self.marker(name), encoding: .utf8) else { return nil }
        return pid_t(text.trimmingCharacters(in: .whitespacesAndNewlines))
    }

    func shutdown() async { await self.server.shutdown() }
}

/// Whether `pid` is gone for good: not running and not a zombie (a zombie still answers `kill 0`).
private func isReaped(_ pid: pid_t) -> Bool {
    kill(pid, 0) != 0 && errno == ESRCH
}

private func environmentLines(_ body: String) -> [String: String] {
    var values: [String: String] = [:]
    for line in body.split(separator: "\n") {
        guard let equals = line.firstIndex(of: "=") else { continue }
        values[String(line[..<equals])] = String(line[line.index(after: equals)...])
    }
    return values
}

private let envScript = "printf 'Content-Type: text/plain\\r\\n\\r\\n'\nenv\n"
private let catScript = "printf 'Content-Type: application/octet-stream\\r\\n\\r\\n'\nexec cat\n"

/// The CGI handler over real sockets, with scripts written by each test. Serialised: each test
/// checks that every script it started was reaped, which needs the reaper to itself.
@Suite(.serialized) struct CGITests {
    @Test func environmentFollowsRFC3875AndDropsProxy() async throws {
        setenv("SERVE_TUI_TEST_SECRET", "do-not-leak", 1)
        let cgi = try await CGIFixture.start()
        defer { Task { await cgi.shutdown() } }
        try cgi.script("cgi-bin/env.sh", envScript)
        let client = try cgi.server.client()
        let response = try client.get(
            "/cgi-bin/env.sh/extra/p%20ath?a=b%20c&d",
            headers: [
                "Proxy: http://evil.example:666", "X-Custom-Thing: yes", "Cookie: a=1", "Cookie: b=2",
                "Authorization: Basic \(Data("ada:lovelace".utf8).base64EncodedString())", "X_Under_Score: no",
            ]
        )
        #expect(response.status == 200)
        let env = environmentLines(response.bodyText)
        #expect(env["GATEWAY_INTERFACE"] == "CGI/1.1")
        #expect(env["SERVER_SOFTWARE"]?.hasPrefix("swift-serve-tui/") == true)
        #expect(env["SERVER_NAME"] == "test")
        #expect(env["SERVER_PORT"] == String(cgi.server.port))
        #expect(env["SERVER_PROTOCOL"] == "HTTP/1.1")
        #expect(env["REQUEST_METHOD"] == "GET")
        #expect(env["SCRIPT_NAME"] == "/cgi-bin/env.sh")
        #expect(env["PATH_INFO"] == "/extra/p ath")
        let root = cgi.tree.root.replacingOccurrences(of: "//", with: "/")
        #expect(env["PATH_TRANSLATED"] == root + "/extra/p ath")
        #expect(env["QUERY_STRING"] == "a=b%20c&d")
        #expect(env["REQUEST_URI"] == "/cgi-bin/env.sh/extra/p%20ath?a=b%20c&d")
        #expect(env["REMOTE_ADDR"] == "127.0.0.1")
        #expect(env["REMOTE_PORT"] == String(client.localPort))
        #expect(env["HTTP_HOST"] == "test")
        #expect(env["HTTP_X_CUSTOM_THING"] == "yes")
        #expect(env["HTTP_COOKIE"] == "a=1; b=2")
        #expect(env["AUTH_TYPE"] == "Basic")
        #expect(env["REMOTE_USER"] == "ada")
        #expect(env["PATH"] != nil)
        // httpoxy: a client must not be able to set the script's proxy.
        #expect(env["HTTP_PROXY"] == nil)
        #expect(env["HTTP_AUTHORIZATION"] == nil)
        #expect(env["HTTP_X_UNDER_SCORE"] == nil)
        // No body, no CONTENT_*; and nothing of the server's own environment beyond the short list.
        #expect(env["CONTENT_LENGTH"] == nil && env["CONTENT_TYPE"] == nil)
        #expect(env["SERVE_TUI_TEST_SECRET"] == nil)
        #expect(response.bodyText.contains("do-not-leak") == false)
        // The script runs in its own folder.
        #expect(env["PWD"] == root + "/cgi-bin")
    }

    /// RFC 9112 §3.2.2: an absolute-form target's authority stands in for Host; the script sees the
    /// origin-form target as REQUEST_URI, as it would have from a client not set to use a proxy.
    @Test func absoluteFormTargetGivesTheScriptItsPathAndHost() async throws {
        let cgi = try await CGIFixture.start()
        defer { Task { await cgi.shutdown() } }
        try cgi.script("cgi-bin/env.sh", envScript)
        let client = try cgi.server.client()
        for (target, uri, query) in [
            ("http://user@target.example:8080/cgi-bin/env.sh/x?q=1", "/cgi-bin/env.sh/x?q=1", "q=1"),
            ("HTTP://target.example/cgi-bin/env.sh", "/cgi-bin/env.sh", ""),
        ] {
            let response = try client.get(target)
            #expect(response.status == 200)
            let env = environmentLines(response.bodyText)
            #expect(env["SERVER_NAME"] == "target.example")
            #expect(env["SCRIPT_NAME"] == "/cgi-bin/env.sh")
            #expect(env["REQUEST_URI"] == uri)
            #expect(env["QUERY_STRING"] ?? "" == query)
            #expect(env["HTTP_HOST"] == "test")
        }
    }

    @Test func postBodyOfOneMebibyteIsEchoedByteExactOverKeepAlive() async throws {
        let cgi = try await CGIFixture.start()
        defer { Task { await cgi.shutdown() } }
        try cgi.script("cgi-bin/cat.sh", catScript)
        try cgi.script("cgi-bin/env.sh", envScript)
        let body = TempTree.bytes(1 << 20, seed: 7)
        let client = try cgi.server.client(timeoutSeconds: 30)
        try client.send("POST /cgi-bin/cat.sh HTTP/1.1\r\nHost: t\r\nContent-Type: application/x-test\r\nContent-Length: \(body.count)\r\n\r\n")
        try client.send(body)
        let echoed = try client.readResponse()
        #expect(echoed.status == 200)
        #expect(echoed.header("transfer-encoding")?.lowercased() == "chunked")
        #expect(echoed.body.count == body.count)
        #expect(echoed.body == body)
        // Same connection: the script saw the body's type and length.
        try client.send("POST /cgi-bin/env.sh HTTP/1.1\r\nHost: t\r\nContent-Type: text/x-form\r\nContent-Length: 5\r\n\r\nhello")
        let env = environmentLines(try client.readResponse().bodyText)
        #expect(env["CONTENT_LENGTH"] == "5")
        #expect(env["CONTENT_TYPE"] == "text/x-form")
        #expect(env["REQUEST_METHOD"] == "POST")
        // A chunked body is gathered first, so the script still gets CONTENT_LENGTH (RFC 3875 §4.1.2).
        try client.send("POST /cgi-bin/cat.sh HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n")
        #expect(try client.readResponse().bodyText == "hello world")
        #expect(waitUntil { ChildReaper.shared.count == 0 })
    }

    @Test func statusLocationAndContentLengthFromTheScript() async throws {
        let cgi = try await CGIFixture.start()
        defer { Task { await cgi.shutdown() } }
        try cgi.script("cgi-bin/teapot.sh", "printf 'Status: 418 I am a teapot\\r\\nContent-Type: text/plain\\r\\nX-Kind: pot\\r\\n\\r\\nshort and stout'\n")
        try cgi.script("cgi-bin/go.sh", "printf 'Location: /elsewhere/\\n\\n'\n")
        try cgi.script("cgi-bin/created.sh", "printf 'Status: 201\\nContent-Type: text/plain\\nContent-Length: 4\\n\\nmade and more'\n")
        try cgi.script("cgi-bin/server-fields.sh", "printf 'Content-Type: text/plain\\nServer: fake\\nConnection: close\\nTransfer-Encoding: gzip\\n\\nok'\n")
        let client = try cgi.server.client()
        let teapot = try client.get("/cgi-bin/teapot.sh")
        #expect(teapot.status == 418)
        #expect(teapot.reason == "I am a teapot")
        #expect(teapot.header("x-kind") == "pot")
        #expect(teapot.bodyText == "short and stout")
        let redirect = try client.get("/cgi-bin/go.sh")
        #expect(redirect.status == 302)
        #expect(redirect.header("location") == "/elsewhere/")
        let created = try client.get("/cgi-bin/created.sh")
        #expect(created.status == 201)
        #expect(created.header("content-length") == "4")
        // The promised length wins: the extra bytes never reach the client, and the connection stays in sync.
        #expect(created.bodyText == "made")
        let fields = try client.get("/cgi-bin/server-fields.sh")
        #expect(fields.header("server")?.hasPrefix("swift-serve-tui") == true)
        #expect(fields.header("connection") == nil)
        #expect(fields.bodyText == "ok")
        let head = try client.get("/cgi-bin/teapot.sh", method: "HEAD")
        #expect(head.status == 418 && head.body.isEmpty)
        #expect(try client.get("/cgi-bin/teapot.sh").bodyText == "short and stout")
    }

    @Test func oversizedBodyIsRefusedBeforeTheScriptStarts() async throws {
        let cgi = try await CGIFixture.start(configure: { $0.maxBodyBytes = 1000 })
        defer { Task { await cgi.shutdown() } }
        try cgi.script("cgi-bin/upload.sh", "touch '\(cgi.marker("ran"))'\nprintf 'Content-Type: text/plain\\n\\nok'\n")
        let client = try cgi.server.client()
        try client.send("POST /cgi-bin/upload.sh HTTP/1.1\r\nHost: t\r\nContent-Length: 5000\r\n\r\n")
        let response = try client.readResponse()
        #expect(response.status == 413)
        #expect(response.bodyText.contains("--cgi-max-body"))
        #expect(try client.isClosedByPeer())
        // A chunked body that grows past the limit is refused too.
        let chunked = try cgi.server.client()
        try chunked.send("POST /cgi-bin/upload.sh HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n")
        let piece = String(repeating: "x", count: 600)
        try chunked.send("258\r\n\(piece)\r\n258\r\n\(piece)\r\n")
        #expect(try chunked.readResponse().status == 413)
        // A chunked body whose framing breaks gets 400 (the script waits for the whole body, so
        // nothing was answered yet) and the script does not run.
        let broken = try cgi.server.client()
        try broken.send("POST /cgi-bin/upload.sh HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\nnot-a-size\r\n")
        let refused = try broken.readResponse()
        #expect(refused.status == 400 && refused.bodyText.contains("Bad request body"))
        #expect(try broken.isClosedByPeer())
        #expect(cgi.markerExists("ran") == false)
        // Within the limit it runs.
        #expect(try cgi.server.client().get("/cgi-bin/upload.sh").bodyText == "ok")
        #expect(cgi.markerExists("ran"))
    }

    @Test func brokenScriptsGetBadGateway() async throws {
        let cgi = try await CGIFixture.start()
        defer { Task { await cgi.shutdown() } }
        try cgi.script("cgi-bin/exit3.sh", "exit 3\n")
        try cgi.script("cgi-bin/noheaders.sh", "echo 'just some text'\necho 'more'\n")
        try cgi.script("cgi-bin/badline.sh", "printf 'Content-Type: text/plain\\nnot a header\\n\\nbody'\n")
        try cgi.script("cgi-bin/headers-then-fail.sh", "printf 'Content-Type: text/plain\\n\\n'\nexit 1\n")
        try cgi.script("cgi-bin/badstatus.sh", "printf 'Status: abc\\n\\n'\n")
        try cgi.script("cgi-bin/injection.sh", "printf 'Content-Type: text/plain\\nX-A: one\\rSet-Cookie: evil\\n\\nbody'\n")
        chmod(try cgi.tree.write("cgi-bin/noshebang", [0x7F, 0x45, 0x4C, 0x46, 0, 0]), 0o755)
        let recorder = EventRecorder(cgi.server)
        let client = try cgi.server.client()
        let paths = ["exit3.sh", "noheaders.sh", "badline.sh", "headers-then-fail.sh", "badstatus.sh", "injection.sh", "noshebang"]
        for path in paths {
            let response = try client.get("/cgi-bin/" + path)
            #expect(response.status == 502, "\(path)")
            #expect(response.header("content-type") == "text/html;charset=utf-8", "\(path)")
            #expect(response.header("set-cookie") == nil)
        }
        // The dashboard is told what the script did wrong, not only "Bad CGI response".
        #expect(recorder.waitFor { events in events.filter { if case .responseStarted = $0 { true } else { false } }.count == paths.count })
        let problems = recorder.events.compactMap { if case .responseStarted(let started) = $0 { started.problem } else { nil } }
        #expect(problems.count == paths.count)
        for (path, problem) in zip(paths, problems) {
            #expect(problem.message == "Bad CGI response" || problem.message == "CGI script could not be started", "\(path)")
            #expect(problem.explanation != nil, "\(path): \(problem)")
        }
        #expect(problems.first?.explanation == "The script /cgi-bin/exit3.sh wrote an invalid response: no output.")
        // A script that prints a valid head and exits 0 with no body is fine.
        try cgi.script("cgi-bin/empty.sh", "printf 'Content-Type: text/plain\\n\\n'\n")
        let empty = try client.get("/cgi-bin/empty.sh")
        #expect(empty.status == 200 && empty.body.isEmpty)
        #expect(waitUntil { ChildReaper.shared.count == 0 })
    }

    @Test func silentScriptTimesOutWith504AndIsKilled() async throws {
        let cgi = try await CGIFixture.start(configure: { $0.timeoutSeconds = 0.5 })
        defer { Task { await cgi.shutdown() } }
        try cgi.script("cgi-bin/hang.sh", "echo $$ > '\(cgi.marker("hang"))'\nsleep 30 &\necho $! > '\(cgi.marker("child"))'\nwait\n")
        let client = try cgi.server.client()
        let started = monotonicNow()
        let response = try client.get("/cgi-bin/hang.sh")
        #expect(response.status == 504)
        #expect(monotonicNow() - started < 10_000_000_000)
        let pid = try #require(cgi.pid("hang"))
        let child = try #require(cgi.pid("child"))
        // The whole process group went: the script and the sleep it started.
        #expect(waitUntil { isReaped(pid) })
        #expect(waitUntil { kill(child, 0) != 0 })
        #expect(waitUntil { ChildReaper.shared.count == 0 })
        // The connection still serves.
        try cgi.script("cgi-bin/ok.sh", "printf 'Content-Type: text/plain\\n\\nfine'\n")
        #expect(try client.get("/cgi-bin/ok.sh").bodyText == "fine")
    }

    @Test func clientThatDisconnectsGetsItsScriptKilled() async throws {
        let cgi = try await CGIFixture.start()
        defer { Task { await cgi.shutdown() } }
        // A streaming script (a tick every 50 ms for a minute): the next write after the client left
        // fails, and the whole group goes.
        try cgi.script(
            "cgi-bin/long.sh",
            "echo $$ > '\(cgi.marker("long"))'\nprintf 'Content-Type: text/plain\\n\\nfirst\\n'\ni=0\nwhile [ $i -lt 1200 ]; do sleep 0.05; echo tick; i=$((i+1)); done\n"
        )
        var client: RawClient? = try cgi.server.client()
        try client!.send("GET /cgi-bin/long.sh HTTP/1.1\r\nHost: t\r\n\r\n")
        let head = try client!.readResponseHead()
        #expect(head.status == 200)
        #expect(try client!.readChunk().map { String(decoding: $0, as: UTF8.self) } == "first\n")
        let pid = try #require(cgi.pid("long"))
        #expect(kill(pid, 0) == 0)
        let recorder = EventRecorder(cgi.server)
        client = nil
        #expect(waitUntil { isReaped(pid) })
        #expect(waitUntil { ChildReaper.shared.count == 0 })
        #expect(recorder.waitFor { events in events.contains { if case .requestFinished(let f) = $0 { f.outcome == .abortedByClient } else { false } } })
    }

    @Test func halfClosedClientStillGetsTheWholeResponse() async throws {
        // `printf 'GET ...' | nc -N host port`: the client shuts its sending side after the request.
        let cgi = try await CGIFixture.start()
        defer { Task { await cgi.shutdown() } }
        let go = cgi.marker("go")
        try cgi.script(
            "cgi-bin/later.sh",
            "touch '\(cgi.marker("started"))'\nwhile [ ! -e '\(go)' ]; do sleep 0.02; done\nprintf 'Content-Type: text/plain\\n\\ndone later'\n"
        )
        let client = try cgi.server.client()
        try client.send("GET /cgi-bin/later.sh HTTP/1.1\r\nHost: t\r\n\r\n")
        client.shutdownWrite()
        // The script is running with the client already half-closed; only then may it answer.
        #expect(waitUntil { cgi.markerExists("started") })
        #expect(FileManager.default.createFile(atPath: go, contents: nil))
        let response = try client.readResponse()
        #expect(response.status == 200)
        #expect(response.bodyText == "done later")
        #expect(try client.isClosedByPeer())
    }

    @Test func outputIsStreamedAsTheScriptWritesIt() async throws {
        let cgi = try await CGIFixture.start()
        defer { Task { await cgi.shutdown() } }
        let go = cgi.marker("go")
        try cgi.script(
            "cgi-bin/stream.sh",
            "printf 'Content-Type: text/plain\\n\\none\\n'\nwhile [ ! -e '\(go)' ]; do sleep 0.05; done\nprintf 'two\\n'\n"
        )
        let recorder = EventRecorder(cgi.server)
        let client = try cgi.server.client()
        try client.send("GET /cgi-bin/stream.sh HTTP/1.1\r\nHost: t\r\n\r\n")
        #expect(try client.readResponseHead().status == 200)
        // The first line arrives while the script is still waiting: nothing is buffered to the end.
        #expect(try client.readChunk() == Array("one\n".utf8))
        // And the dashboard hears of it while the script waits, though it came within 50 ms of the
        // head: a progress event skipped as too soon is published when the interval ends.
        #expect(recorder.waitFor(seconds: 5) { events in
            events.contains { if case .bodyProgress(let p) = $0 { p.bytesSent == 4 } else { false } }
        })
        #expect(FileManager.default.createFile(atPath: go, contents: nil))
        #expect(try client.readChunk() == Array("two\n".utf8))
        #expect(try client.readChunk() == nil)
    }

    @Test func http10ResponsesCloseToEndTheBody() async throws {
        let cgi = try await CGIFixture.start()
        defer { Task { await cgi.shutdown() } }
        try cgi.script("cgi-bin/hello.sh", "printf 'Content-Type: text/plain\\n\\nhello 1.0'\n")
        let client = try cgi.server.client()
        let response = try client.get("/cgi-bin/hello.sh", version: "HTTP/1.0")
        #expect(response.status == 200)
        #expect(response.header("transfer-encoding") == nil)
        #expect(response.bodyText == "hello 1.0")
    }

    @Test func nphScriptsPassThroughRaw() async throws {
        let cgi = try await CGIFixture.start()
        defer { Task { await cgi.shutdown() } }
        try cgi.script("cgi-bin/nph-raw.sh", "printf 'HTTP/1.1 299 Custom Thing\\r\\nX-Raw: yes\\r\\n\\r\\nraw body'\n")
        try cgi.script("cgi-bin/nph-bad.sh", "printf 'Content-Type: text/plain\\n\\nnot raw'\n")
        let client = try cgi.server.client()
        try client.send("GET /cgi-bin/nph-raw.sh HTTP/1.1\r\nHost: t\r\n\r\n")
        #expect(String(decoding: try client.readToEOF(), as: UTF8.self) == "HTTP/1.1 299 Custom Thing\r\nX-Raw: yes\r\n\r\nraw body")
        let recorder = EventRecorder(cgi.server)
        #expect(try cgi.server.client().get("/cgi-bin/nph-bad.sh").status == 502)
        #expect(recorder.waitFor { events in events.contains { if case .requestFinished(let f) = $0 { f.status == 502 } else { false } } })
    }

    /// The event carries the line as written; the sinks escape it (the CLI test checks the access log).
    @Test func stderrBecomesLogLines() async throws {
        let cgi = try await CGIFixture.start()
        defer { Task { await cgi.shutdown() } }
        try cgi.script("cgi-bin/noisy.sh", "printf '\\033[31mred alert\\007\\n' >&2\nprintf 'Content-Type: text/plain\\n\\nok'\n")
        let recorder = EventRecorder(cgi.server)
        #expect(try cgi.server.client().get("/cgi-bin/noisy.sh").bodyText == "ok")
        #expect(recorder.waitFor { events in events.contains { if case .log(let l) = $0 { l.message.contains("red alert") } else { false } } })
        let line = recorder.events.compactMap { if case .log(let l) = $0, l.message.contains("red alert") { l.message } else { nil } }.first ?? ""
        #expect(line == "/cgi-bin/noisy.sh: \u{1B}[31mred alert\u{07}")
    }

    @Test func whichRequestsAreCGIIsDecidedOnTheNormalisedPath() async throws {
        let cgi = try await CGIFixture.start()
        defer { Task { await cgi.shutdown() } }
        let source = "touch '\(cgi.marker("ran-root"))'\nprintf 'Content-Type: text/plain\\n\\nROOT-RAN'\n"
        try cgi.script("secret.sh", source)
        try cgi.script("cgi-bin/run.sh", "printf 'Content-Type: text/plain\\n\\nRAN:%s' \"$PATH_INFO\"\n")
        try cgi.script("cgi-bin/sub/tool.sh", "printf 'Content-Type: text/plain\\n\\nTOOL:%s' \"$PATH_INFO\"\n")
        try cgi.script("cgi-bin/plain.sh", "echo x\n", executable: false)
        let outside = try cgi.script("elsewhere.sh", "touch '\(cgi.marker("ran-outside"))'\n", outside: true)
        try cgi.tree.symlink("cgi-bin/link.sh", to: outside)
        let client = try cgi.server.client()

        // Spellings that leave the CGI folder are plain files: never run.
        for path in ["/cgi-bin/../secret.sh", "/cgi-bin/%2e%2e/secret.sh", "/cgi-bin/..%2fsecret.sh", "/cgi-bin/..\\secret.sh"] {
            let response = try client.get(path)
            #expect(response.status == 200, "\(path)")
            #expect(response.bodyText == "#!/bin/sh\n" + source, "\(path)")
        }
        #expect(cgi.markerExists("ran-root") == false)
        // Spellings that land inside it run the script: its source is never served.
        for path in ["/cgi-bin/run.sh", "/cgi-bin/./run.sh", "/x/../cgi-bin/run.sh", "/cgi-bin%2frun.sh", "//cgi-bin//run.sh", "/%63gi-bin/run.sh"] {
            let response = try client.get(path)
            #expect(response.bodyText == "RAN:", "\(path)")
        }
        // /x/../cgi-bin/..%2f is the root: a listing, nothing runs.
        let rootListing = try client.get("/x/../cgi-bin/..%2f")
        #expect(rootListing.status == 200 && rootListing.bodyText.contains("secret.sh"))
        // Nested folders and extra path.
        #expect(try client.get("/cgi-bin/sub/tool.sh/extra/path").bodyText == "TOOL:/extra/path")
        #expect(try client.get("/cgi-bin/run.sh/a/b/").bodyText == "RAN:/a/b/")
        // Missing, not executable, a link out of the root; a script name that is not UTF-8 is refused.
        #expect(try client.get("/cgi-bin/missing.sh").status == 404)
        let latin1 = try client.get("/cgi-bin/run%E9.sh")
        #expect(latin1.status == 400 && latin1.bodyText.contains("CGI paths must be UTF-8"))
        #expect(try client.get("/cgi-bin/run.sh/%FF").status == 400)
        let plain = try client.get("/cgi-bin/plain.sh")
        #expect(plain.status == 403 && !plain.bodyText.contains("echo x"))
        #expect(try client.get("/cgi-bin/link.sh").status == 403)
        #expect(cgi.markerExists("ran-outside") == false)
        // A symlink elsewhere in the tree does not reveal a script's source either.
        try cgi.tree.symlink("peek.txt", to: cgi.tree.root + "/cgi-bin/run.sh")
        let peek = try client.get("/peek.txt")
        #expect(peek.status == 403 && !peek.bodyText.contains("PATH_INFO"))
        // The folder lists names only; POST to it is refused; POST elsewhere stays 501 like the seed.
        let listing = try client.get("/cgi-bin/")
        #expect(listing.status == 200 && listing.bodyText.contains("run.sh") && !listing.bodyText.contains("RAN:"))
        #expect(try client.get("/cgi-bin", method: "GET").status == 301)
        #expect(try client.get("/cgi-bin/", method: "POST").status == 405)
        try cgi.tree.write("page.txt", "page")
        #expect(try client.get("/page.txt", method: "POST").status == 501)
        // Other methods go to scripts.
        try cgi.script("cgi-bin/method.sh", "printf 'Content-Type: text/plain\\n\\n%s' \"$REQUEST_METHOD\"\n")
        #expect(try client.get("/cgi-bin/method.sh", method: "DELETE").bodyText == "DELETE")
        #expect(try client.get("/cgi-bin/method.sh", headers: ["Content-Length: 0"], method: "PUT").bodyText == "PUT")
    }

    @Test func twentyConcurrentScriptsSucceedWhileOneHangs() async throws {
        let cgi = try await CGIFixture.start(configure: { $0.timeoutSeconds = 60 })
        defer { Task { await cgi.shutdown() } }
        try cgi.script("cgi-bin/hang.sh", "echo $$ > '\(cgi.marker("hang"))'\nprintf 'Content-Type: text/plain\\n\\n'\nexec sleep 60\n")
        try cgi.script("cgi-bin/work.sh", "printf 'Content-Type: text/plain\\n\\n'\necho \"$QUERY_STRING\"\n")
        try cgi.tree.write("static.txt", "static")
        let hanging = try cgi.server.client(timeoutSeconds: 30)
        try hanging.send("GET /cgi-bin/hang.sh HTTP/1.1\r\nHost: t\r\n\r\n")
        #expect(waitUntil { cgi.pid("hang") != nil })
        let port = cgi.server.port
        let results = try await offCooperativePool {
            let bodies = NIOLockedValueBox([Int: String]())
            DispatchQueue.concurrentPerform(iterations: 20) { index in
                let body = (try? RawClient(port: port, timeoutSeconds: 30).get("/cgi-bin/work.sh?n=\(index)"))
                    .flatMap { $0.status == 200 ? $0.bodyText : nil }
                bodies.withLockedValue { $0[index] = body }
            }
            return bodies.withLockedValue { $0 }
        }
        for index in 0..<20 {
            #expect(results[index] == "n=\(index)\n", "request \(index)")
        }
        #expect(try cgi.server.client().get("/static.txt").bodyText == "static")
        let pid = try #require(cgi.pid("hang"))
        #expect(kill(pid, 0) == 0)
        await cgi.shutdown()
        #expect(waitUntil { isReaped(pid) })
        #expect(waitUntil { ChildReaper.shared.count == 0 })
    }
}
