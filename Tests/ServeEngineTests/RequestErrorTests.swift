import ServeEngine
import Testing

/// python's `handle_one_request`/`parse_request` error rules, each followed by proof that the
/// server still serves.
@Suite struct RequestErrorTests {
    /// Sends `raw` on a fresh connection and returns the response, then checks a normal request works.
    private func exchange(_ raw: [UInt8], on server: TestServer) throws -> RawResponse {
        let client = try server.client()
        try client.send(raw)
        let response = try client.readResponse()
        #expect(try client.isClosedByPeer(), "a connection whose request was malformed must close")
        let healthy = try server.client().get("/still-serving")
        #expect(healthy.status == 200)
        return response
    }

    private func exchange(_ raw: String, on server: TestServer) throws -> RawResponse {
        try self.exchange(Array(raw.utf8), on: server)
    }

    @Test(arguments: [70_000, 100_000, 200_000])
    func overlongRequestLineIs414(length: Int) async throws {
        let server = try await TestServer.start()
        defer { Task { await server.shutdown() } }
        let response = try self.exchange("GET /" + String(repeating: "a", count: length) + " HTTP/1.1\r\nHost: x\r\n\r\n", on: server)
        #expect(response.status == 414)
        #expect(response.header("content-type") == "text/html;charset=utf-8")
        #expect(response.bodyText.contains("Error code: 414"))
        #expect(Int(response.header("content-length") ?? "") == response.body.count)
        #expect(response.header("server")?.hasPrefix("swift-serve-tui/") == true)
        #expect(response.header("date")?.hasSuffix(" GMT") == true)
    }

    @Test func requestLineJustUnderTheLimitIsServed() async throws {
        let server = try await TestServer.start()
        defer { Task { await server.shutdown() } }
        let target = "/" + String(repeating: "b", count: 65_000)
        let response = try server.client().get(target)
        #expect(response.status == 200)
    }

    @Test(arguments: [
        "GET\r\n\r\n",
        "GET / HTTP/1.1\r\nNo colon here\r\n\r\n",
        "GET / HTTP/1.1\r\nBad Header: x\r\n\r\n",
        "\u{01}\u{02} / HTTP/1.1\r\n\r\n",
        "GET / HTTP/1.1\r\nContent-Length: nope\r\n\r\n",
    ])
    func malformedRequestIs400(raw: String) async throws {
        let server = try await TestServer.start()
        defer { Task { await server.shutdown() } }
        let response = try self.exchange(raw, on: server)
        #expect(response.status == 400)
        #expect(response.bodyText.contains("Error code: 400"))
    }

    @Test func tooManyHeadersIs431() async throws {
        let server = try await TestServer.start()
        defer { Task { await server.shutdown() } }
        let headers = (0..<150).map { "X-H\($0): v\r\n" }.joined()
        let response = try self.exchange("GET / HTTP/1.1\r\nHost: x\r\n\(headers)\r\n", on: server)
        #expect(response.status == 431)
    }

    @Test func oversizedHeaderIs431() async throws {
        let server = try await TestServer.start()
        defer { Task { await server.shutdown() } }
        let big = String(repeating: "v", count: 70_000)
        let response = try self.exchange("GET / HTTP/1.1\r\nHost: x\r\nX-Big: \(big)\r\n\r\n", on: server)
        #expect(response.status == 431)
    }

    @Test(arguments: ["HTTP/2.0", "HTTP/3.0", "HTTP/0.9"])
    func unsupportedVersionIs505(version: String) async throws {
        let server = try await TestServer.start()
        defer { Task { await server.shutdown() } }
        let response = try self.exchange("GET / \(version)\r\nHost: x\r\n\r\n", on: server)
        #expect(response.status == 505)
    }

    @Test(arguments: ["DELETE", "PUT", "PATCH", "OPTIONS", "FOO", "BREW"])
    func methodNoHandlerTakesIs501(method: String) async throws {
        let server = try await TestServer.start()
        defer { Task { await server.shutdown() } }
        let client = try server.client()
        try client.send("\(method) /x HTTP/1.1\r\nHost: x\r\n\r\n")
        let response = try client.readResponse()
        #expect(response.status == 501)
        #expect(response.bodyText.contains("Unsupported method (&#x27;\(method)&#x27;)"))
        #expect(try server.client().get("/ok").status == 200)
    }

    /// Without a dashboard the access log gets python's `code N, message M` line for each error
    /// response; with one (the flag off) the request's detail says why instead.
    @Test(arguments: [true, false])
    func errorResponsesLogPythonsCodeLine(logs: Bool) async throws {
        let server = try await TestServer.start { $0.logsErrorMessages = logs }
        defer { Task { await server.shutdown() } }
        let recorder = EventRecorder(server)
        let client = try server.client()
        try client.send("DELETE /x HTTP/1.1\r\nHost: x\r\n\r\n")
        #expect(try client.readResponse().status == 501)
        #expect(try client.get("/ok").status == 200)
        #expect(recorder.waitFor { _ in recorder.finished.count == 2 })
        let lines = recorder.events.compactMap { if case .log(let line) = $0 { line.message } else { nil } }
        #expect(lines.filter { $0.hasPrefix("code ") } == (logs ? ["code 501, message Unsupported method ('DELETE')"] : []))
    }

    @Test func postToAPathNoHandlerTakesIs501AndKeepsTheConnection() async throws {
        let server = try await TestServer.start()
        defer { Task { await server.shutdown() } }
        let client = try server.client()
        try client.send("POST /file.txt HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n\r\nabc")
        #expect(try client.readResponse().status == 501)
        #expect(try client.get("/next").status == 200)
    }

    /// Answered early (501 before its body), a request whose chunked body then breaks gets no second
    /// response: the client asked once. The connection closes, and the log says why.
    @Test func aBrokenBodyAfterTheResponseClosesWithoutASecondResponse() async throws {
        let server = try await TestServer.start()
        defer { Task { await server.shutdown() } }
        let recorder = EventRecorder(server)
        let client = try server.client()
        try client.send("POST /file.txt HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n")
        #expect(try client.readResponse().status == 501)
        try client.send("ZZ\r\n")
        #expect(try client.readToEOF().isEmpty)
        #expect(recorder.waitFor { events in
            events.contains { if case .connectionClosed(let closed) = $0 { closed.reason == .protocolError } else { false } }
        })
        #expect(recorder.events.contains { if case .log(let line) = $0 { line.message.contains("framing is broken (invalid character in chunk size header)") } else { false } })
        #expect(recorder.finished.count == 1)
    }

    /// A chunked body that breaks before anything of the answer went out (the handler waits for the
    /// body's end) gets a 400 that says so, not a connection closed without a word.
    @Test func aBrokenBodyBeforeTheResponseIs400() async throws {
        let server = try await TestServer.start()
        defer { Task { await server.shutdown() } }
        let recorder = EventRecorder(server)
        let client = try server.client()
        try client.send("POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n")
        try client.send("ZZ\r\n")
        let response = try client.readResponse()
        #expect(response.status == 400)
        #expect(response.bodyText.contains("Bad request body (invalid character in chunk size header)"))
        #expect(response.header("connection") == "close")
        #expect(try client.isClosedByPeer())
        #expect(recorder.waitFor { $0.contains { if case .requestFinished(let finished) = $0 { finished.status == 400 } else { false } } })
        #expect(recorder.finished.count == 1)
        // What arrived of the body, and that its framing broke, for the detail view.
        let body = recorder.events.compactMap { if case .requestBody(let body) = $0 { body } else { nil } }
        #expect(body.count == 1 && body.first?.preview == Array("abc".utf8) && body.first?.framingBroke == true)
        #expect(try server.client().get("/still-serving").status == 200)
    }

    /// RFC 9112 §6.1 and §6.3: the only transfer coding understood is a final `chunked`. NIO's
    /// decoder delivered the head of the others and then gave up on the body (the connection closed
    /// with no answer), and under `chunked` it passed a `gzip` body on still compressed.
    @Test(arguments: [
        ("GET /file.txt HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip\r\n\r\nabc", 400, "Transfer-Encoding does not end with chunked (&#x27;gzip&#x27;)"),
        ("POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: identity\r\n\r\nabc", 400, "does not end with chunked (&#x27;identity&#x27;)"),
        ("POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip, chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n", 501, "Unsupported transfer coding (&#x27;gzip&#x27;)"),
        ("POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: deflate\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n", 501, "Unsupported transfer coding (&#x27;deflate&#x27;)"),
        ("POST /echo HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n", 400, "Transfer-Encoding in an HTTP/1.0 request"),
    ])
    func transferCodingsOtherThanAFinalChunkedAreRefused(raw: String, status: Int, message: String) async throws {
        let server = try await TestServer.start()
        defer { Task { await server.shutdown() } }
        let response = try self.exchange(raw, on: server)
        #expect(response.status == status)
        #expect(response.bodyText.contains(message))
    }

    @Test func aChunkedBodyInAnyCaseIsRead() async throws {
        let server = try await TestServer.start()
        defer { Task { await server.shutdown() } }
        let client = try server.client()
        try client.send("POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: Chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n")
        let response = try client.readResponse()
        #expect(response.status == 200 && response.bodyText == "abc")
        #expect(try client.get("/next").status == 200)
    }

    /// HTTP/2 with prior knowledge (`curl --http2-prior-knowledge`): NIO's decoder stops at the
    /// preface; the answer is python's for a 2.0 request line.
    @Test func http2PrefaceIs505() async throws {
        let server = try await TestServer.start()
        defer { Task { await server.shutdown() } }
        let response = try self.exchange("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n", on: server)
        #expect(response.status == 505)
        #expect(response.bodyText.contains("Invalid HTTP version (2.0)"))
    }

    /// python names the request line it could not parse, in the page and in the log line that
    /// starts with the client's address; a fault in the headers is named by the parser's words.
    @Test func aBadRequestLineIsNamedInTheMessage() async throws {
        let server = try await TestServer.start()
        defer { Task { await server.shutdown() } }
        let recorder = EventRecorder(server)
        let garbage = try self.exchange("GARBAGE\u{1B}[2J\r\n\r\n", on: server)
        #expect(garbage.status == 400 && garbage.bodyText.contains("Bad request syntax (&#x27;GARBAGE\u{1B}[2J&#x27;)"))
        _ = try self.exchange("GET / HTTP/1.1\r\nHost: x\r\nBad Name: y\r\n\r\n", on: server)
        #expect(recorder.waitFor { events in events.filter { if case .log = $0 { true } else { false } }.count == 2 })
        let lines = recorder.events.compactMap { if case .log(let line) = $0 { line } else { nil } }
        #expect(lines.map(\.message) == ["code 400, message Bad request syntax ('GARBAGE\u{1B}[2J')", "code 400, message Bad request syntax (invalid character in header)"])
        #expect(AccessLogFormatter.line(for: lines[0]).hasPrefix("127.0.0.1 - - ["))
        #expect(AccessLogFormatter.line(for: lines[0]).hasSuffix("] code 400, message Bad request syntax ('GARBAGE\\x1b[2J')"))
    }

    @Test func emptyConnectionClosesWithoutAResponse() async throws {
        let server = try await TestServer.start()
        defer { Task { await server.shutdown() } }
        let recorder = EventRecorder(server)
        let client = try server.client()
        client.shutdownWrite()
        #expect(try client.readToEOF().isEmpty)
        #expect(recorder.waitFor { _ in recorder.closed.count == 1 })
        #expect(recorder.finished.isEmpty)
        #expect(recorder.closed.first?.reason == .clientClosed)
        #expect(try server.client().get("/ok").status == 200)
    }

    @Test func headRequestGetsErrorHeadersWithoutBody() async throws {
        let server = try await TestServer.start()
        defer { Task { await server.shutdown() } }
        let client = try server.client()
        try client.send("HEAD /x HTTP/1.1\r\nHost: x\r\nExpect: nonsense\r\n\r\n")
        let response = try client.readResponse(head: true)
        #expect(response.status == 417)
        #expect(Int(response.header("content-length") ?? "0")! > 0)
        #expect(try client.isClosedByPeer())
    }

    @Test(arguments: ["a.txt", "*", "ftp://host/a.txt", "http://", "http:///a.txt", "example.com:80", "HTTP:/a.txt"])
    func targetInNoServedFormIs400(target: String) async throws {
        let server = try await TestServer.start()
        defer { Task { await server.shutdown() } }
        let response = try self.exchange("GET \(target) HTTP/1.1\r\nHost: x\r\n\r\n", on: server)
        #expect(response.status == 400)
        // NIO's parser refuses some of these itself ("Bad request syntax"); the rest reach the engine.
        #expect(response.bodyText.contains("Message: Bad request "))
    }

    @Test func optionsAsteriskIs501() async throws {
        let server = try await TestServer.start()
        defer { Task { await server.shutdown() } }
        let client = try server.client()
        try client.send("OPTIONS * HTTP/1.1\r\nHost: x\r\n\r\n")
        #expect(try client.readResponse().status == 501)
        #expect(try client.get("/next").status == 200)
    }

    @Test(arguments: [
        ("GET / HTTP/1.1\r\n\r\n", "HTTP/1.1 request without a Host header"),
        ("GET / HTTP/1.1\r\nHost: a\r\nhost: b\r\n\r\n", "More than one Host header"),
        ("GET / HTTP/1.1\r\nHost: a b\r\n\r\n", "Bad Host header"),
        ("GET / HTTP/1.1\r\nHost: evil.com/x\r\n\r\n", "Bad Host header"),
        ("GET / HTTP/1.1\r\nHost: [::1\r\n\r\n", "Bad Host header"),
        ("GET / HTTP/1.1\r\nHost: example.com:80:80\r\n\r\n", "Bad Host header"),
        ("GET / HTTP/1.0\r\nHost: a\r\nHOST: a\r\n\r\n", "More than one Host header"),
    ])
    func badHostIs400(raw: String, message: String) async throws {
        let server = try await TestServer.start()
        defer { Task { await server.shutdown() } }
        let response = try self.exchange(raw, on: server)
        #expect(response.status == 400)
        #expect(response.bodyText.contains(message))
    }

    @Test(arguments: [
        "GET /ok HTTP/1.0\r\n\r\n",
        "GET /ok HTTP/1.1\r\nHost:\r\n\r\n",
        "GET /ok HTTP/1.1\r\nHost: [::1]:8000\r\n\r\n",
        "GET /ok HTTP/1.1\r\nhOsT: xn--bcher-kva.example:80\r\n\r\n",
    ])
    func acceptableHostIsServed(raw: String) async throws {
        let server = try await TestServer.start()
        defer { Task { await server.shutdown() } }
        let client = try server.client()
        try client.send(raw)
        #expect(try client.readResponse().status == 200)
    }
}
