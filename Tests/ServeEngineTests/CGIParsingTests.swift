import NIOHTTP1
import Testing

@testable import ServeEngine

/// The CGI handler's pure parts: routing, environment, response-header parsing, sizes.
@Suite struct CGIParsingTests {
    private let directories = CGIOptions().directoryComponents

    private func route(_ path: String) -> Int? {
        guard let resolved = try? SafePath.resolve(path[...]) else { return nil }
        return CGIRoute.match(resolved, directories: self.directories)
    }

    @Test func routeIsDecidedAfterNormalisation() {
        #expect(self.directories == [["cgi-bin"], ["htbin"]])
        for path in ["/cgi-bin/a.sh", "/cgi-bin/", "/cgi-bin", "/htbin/x/y", "/x/../cgi-bin/a", "/cgi-bin%2fa", "/./cgi-bin/a", "\\cgi-bin\\a"] {
            #expect(self.route(path) == 1, "\(path)")
        }
        for path in ["/cgi-bin/../secret", "/cgi-bin/..%2fsecret", "/x/../cgi-bin/..%2f", "/cgi-binx/a", "/CGI-BIN/a", "/", "/docs/cgi-bin/a"] {
            #expect(self.route(path) == nil, "\(path)")
        }
        var options = CGIOptions()
        options.directories = ["/tools/cgi/", "/tools"]
        let nested = options.directoryComponents
        #expect(nested == [["tools", "cgi"], ["tools"]])
        let resolved = try! SafePath.resolve("/tools/cgi/run"[...])
        // The longest configured folder wins.
        #expect(CGIRoute.match(resolved, directories: nested) == 2)
    }

    @Test func headerBlockParsing() {
        let ok = CGIResponseParser.parse(Array("Content-Type: text/plain\r\nX-A:  b \r\n\r\nbody".utf8))
        guard case .complete(let head, let offset) = ok else {
            Issue.record("expected complete, got \(ok)")
            return
        }
        #expect(head.status == .ok)
        #expect(head.headers.map(\.name) == ["Content-Type", "X-A"])
        #expect(head.headers.map(\.value) == ["text/plain", "b"])
        #expect(offset == 38)

        // Bare LF line ends; Status with and without a reason; Location alone is a redirect.
        if case .complete(let teapot, _) = CGIResponseParser.parse(Array("Status: 418 Short and stout\n\n".utf8)) {
            #expect(teapot.status.code == 418 && teapot.status.reasonPhrase == "Short and stout")
        } else { Issue.record("Status") }
        if case .complete(let plain, _) = CGIResponseParser.parse(Array("Status: 404\n\n".utf8)) {
            #expect(plain.status == .notFound)
        } else { Issue.record("Status without reason") }
        if case .complete(let redirect, _) = CGIResponseParser.parse(Array("Location: http://x/\n\n".utf8)) {
            #expect(redirect.status == .found)
            #expect(redirect.headers.first?.value == "http://x/")
        } else { Issue.record("Location") }
        if case .complete(let length, _) = CGIResponseParser.parse(Array("Content-Type: a/b\nContent-Length: 12\n\n".utf8)) {
            #expect(length.contentLength == 12)
        } else { Issue.record("Content-Length") }
        // Fields the server owns are dropped.
        if case .complete(let owned, _) = CGIResponseParser.parse(Array("Content-Type: a/b\nConnection: close\nTransfer-Encoding: x\nServer: y\nStatus: 200\n\n".utf8)) {
            #expect(owned.headers.map(\.name) == ["Content-Type"])
        } else { Issue.record("owned fields") }

        #expect(CGIResponseParser.parse(Array("Content-Type: text/plain\r\n".utf8)) == .needMore)
        #expect(CGIResponseParser.parse([UInt8]()) == .needMore)
        let malformed: [String] = [
            "\n\nbody", "no colon here\n\n", "Bad Name: x\n\n", ": empty\n\n", "X-Only: 1\n\n", "Status: 99\n\n",
            "Status: 600\n\n", "Status: 2000\n\n", "Status: abc\n\n", "Status: 200\nStatus: 201\n\n",
            "Content-Type: a\nContent-Length: -1\n\n", "Content-Type: a\nContent-Length: 1 2\n\n",
            "Content-Type: a\nX: one\rSet-Cookie: two\n\n", "Content-Type: a\nX: nul\u{0}\n\n", "Location:\n\n",
        ]
        for text in malformed {
            guard case .malformed = CGIResponseParser.parse(Array(text.utf8)) else {
                Issue.record("accepted \(text.debugDescription)")
                continue
            }
        }
        guard case .malformed = CGIResponseParser.parse(Array("Content-Type: a".utf8), ended: true) else {
            Issue.record("unterminated head at EOF")
            return
        }
        let huge = Array(("X-Pad: " + String(repeating: "a", count: CGIResponseParser.maxHeaderBytes) + "\n").utf8)
        guard case .malformed = CGIResponseParser.parse(huge) else {
            Issue.record("oversized header block")
            return
        }
    }

    @Test func nphStatusLine() {
        #expect(CGIResponseParser.nphStatus(Array("HTTP/1.1 200 OK\r\n".utf8)) == .status(.ok))
        #expect(CGIResponseParser.nphStatus(Array("HTTP/1.0 404 Gone\n".utf8)) == .status(.custom(code: 404, reasonPhrase: "Gone")))
        #expect(CGIResponseParser.nphStatus(Array("HTTP/1.1 20".utf8)) == .needMore)
        for text in ["Content-Type: a\n", "HTTP/2 200 OK\n", "HTTP/1.1 2000 X\n", "HTTP/1.1 99 X\n"] {
            guard case .malformed = CGIResponseParser.nphStatus(Array(text.utf8)) else {
                Issue.record("accepted \(text.debugDescription)")
                continue
            }
        }
    }

    private func input(headers: HTTPHeaders = [:], body: Int64? = nil) -> CGIEnvironment.Input {
        CGIEnvironment.Input(
            method: "POST", scriptName: "/cgi-bin/a", pathInfo: "/x", query: "q=1", requestURI: "/cgi-bin/a/x?q=1",
            documentRoot: "/srv", scriptFilename: "/srv/cgi-bin/a", serverSoftware: "s/1", serverName: "h",
            serverPort: 80, serverProtocol: "HTTP/1.1", remoteAddress: "::1", remotePort: 5, headers: headers,
            contentLength: body
        )
    }

    @Test func environmentIsMinimalAndSafe() {
        let inherited = ["PATH": "/bin", "HOME": "/root", "AWS_SECRET_ACCESS_KEY": "x", "LANG": "C.UTF-8"]
        let headers: HTTPHeaders = [
            "Content-Type": "text/plain", "Content-Length": "3", "Proxy": "evil", "Accept": "a", "accept": "b",
            "X-Forwarded_For": "spoof", "Authorization": "Bearer abc",
        ]
        let env = CGIEnvironment.build(self.input(headers: headers, body: 3), inherited: inherited)
        #expect(env["PATH"] == "/bin" && env["LANG"] == "C.UTF-8")
        #expect(env["HOME"] == nil && env["AWS_SECRET_ACCESS_KEY"] == nil)
        #expect(env["CONTENT_LENGTH"] == "3" && env["CONTENT_TYPE"] == "text/plain")
        #expect(env["HTTP_CONTENT_TYPE"] == nil && env["HTTP_CONTENT_LENGTH"] == nil)
        #expect(env["HTTP_PROXY"] == nil)
        #expect(env["HTTP_ACCEPT"] == "a, b")
        #expect(env["HTTP_X_FORWARDED_FOR"] == nil)
        #expect(env["AUTH_TYPE"] == "Bearer" && env["REMOTE_USER"] == nil)
        #expect(env["PATH_TRANSLATED"] == "/srv/x")
        let bare = CGIEnvironment.build(self.input(), inherited: [:])
        #expect(bare["PATH"] == CGIEnvironment.defaultPath)
        #expect(bare["CONTENT_LENGTH"] == nil)
        #expect(CGIEnvironment.flatten(["B": "2", "A": "1", "BAD": "x\u{0}y"]) == ["A=1", "B=2"])
    }

    @Test func basicCredentialsAndSearchArguments() {
        #expect(CGIEnvironment.credentials("Basic YWRhOmxvdmVsYWNl").user == "ada")
        #expect(CGIEnvironment.credentials("basic YWRhOjpjb2xvbjo=").user == "ada")
        #expect(CGIEnvironment.credentials("Basic !!!!").user == nil)
        #expect(CGIEnvironment.credentials("Basic bm9jb2xvbg==").user == nil)
        #expect(Base64.decode("aGVsbG8="[...]) == Array("hello".utf8))
        #expect(Base64.decode("aGVs=bG8"[...]) == nil)
        #expect(CGIEnvironment.arguments(query: "hello+big%20world") == ["hello", "big world"])
        #expect(CGIEnvironment.arguments(query: "a=b") == [])
        #expect(CGIEnvironment.arguments(query: "") == [])
    }

    @Test func byteSizes() {
        #expect(CGIOptions.parseByteSize("1048576") == 1_048_576)
        #expect(CGIOptions.parseByteSize("512K") == Int64(512 * 1024))
        #expect(CGIOptions.parseByteSize(" 10m ") == 10 << 20)
        #expect(CGIOptions.parseByteSize("1G") == 1 << 30)
        for bad in ["", "M", "-1", "1.5M", "10T", "99999999999999999999G"] {
            #expect(CGIOptions.parseByteSize(bad) == nil, "\(bad)")
        }
    }

    @Test func exitStatusDecoding() {
        #expect(ChildExit(waitStatus: 0) == .exited(0))
        #expect(ChildExit(waitStatus: 3 << 8) == .exited(3))
        #expect(ChildExit(waitStatus: 9) == .signalled(9))
        #expect(ChildExit(waitStatus: 0).succeeded)
        #expect(!ChildExit(waitStatus: 1 << 8).succeeded)
    }
}
