import Foundation
import ServeEngine
import Testing

/// The seed's persistence rules over real sockets (RFC 9112 §9.3).
@Suite struct KeepAliveTests {
    @Test func threeRequestsReuseOneConnection() async throws {
        let server = try await TestServer.start()
        defer { Task { await server.shutdown() } }
        let recorder = EventRecorder(server)
        let client = try server.client()
        for path in ["/a", "/b", "/c"] {
            let response = try client.get(path)
            #expect(response.status == 200)
            #expect(response.bodyText == "GET \(path)")
            #expect(response.header("connection") == nil)
        }
        #expect(recorder.waitFor { _ in recorder.finished.count == 3 })
        let ids = recorder.received.map(\.id)
        #expect(Set(ids.map(\.connection)).count == 1)
        #expect(ids.map(\.index) == [1, 2, 3])
        #expect(server.server.totals.connectionsTotal == 1)
    }

    @Test func pipelinedRequestsAreAnsweredInOrder() async throws {
        let server = try await TestServer.start()
        defer { Task { await server.shutdown() } }
        let client = try server.client()
        // The first is the slowest; answers must still come back first-to-last.
        try client.send(
            "GET /slow?ms=300 HTTP/1.1\r\nHost: x\r\n\r\nGET /slow?ms=100 HTTP/1.1\r\nHost: x\r\n\r\nGET /fast HTTP/1.1\r\nHost: x\r\n\r\n"
        )
        #expect(try client.readResponse().bodyText == "/slow?ms=300")
        #expect(try client.readResponse().bodyText == "/slow?ms=100")
        #expect(try client.readResponse().bodyText == "GET /fast")
    }

    /// A request the decoder cannot parse, pipelined behind a slow one, is answered after it.
    @Test func aBadRequestPipelinedBehindASlowOneIsAnsweredInTurn() async throws {
        let server = try await TestServer.start()
        defer { Task { await server.shutdown() } }
        let client = try server.client()
        try client.send("GET /slow?ms=300 HTTP/1.1\r\nHost: x\r\n\r\nGET / HTTP/1.1\r\nHost: x\r\nContent-Length: nope\r\n\r\n")
        #expect(try client.readResponse().bodyText == "/slow?ms=300")
        let refused = try client.readResponse()
        #expect(refused.status == 400)
        #expect(try client.isClosedByPeer())
    }

    /// While a response is pending the socket is not read, so a client that pipelines without end
    /// fills the socket buffers and stalls instead of the server queueing its requests in memory.
    @Test func pipelinedRequestsBehindAPendingResponseAreNotReadAhead() async throws {
        let server = try await TestServer.start()
        defer { Task { await server.shutdown() } }
        let client = try server.client()
        try client.send("GET /slow?ms=3000 HTTP/1.1\r\nHost: x\r\n\r\n")
        let padded = Array("GET /next HTTP/1.1\r\nHost: x\r\nX-Pad: \(String(repeating: "p", count: 4000))\r\n\r\n".utf8)
        let bound = 48 * 1024 * 1024
        let sent = try await offCooperativePool {
            var sent = 0
            var offset = 0  // into `padded`: requests go out back to back
            // Send until the connection takes nothing for 300 ms (or the bound is passed).
            while sent < bound {
                let n = padded[offset...].withUnsafeBytes {
                    send(client.fd, $0.baseAddress, $0.count, Int32(MSG_DONTWAIT | MSG_NOSIGNAL))
                }
                if n > 0 {
                    sent += n
                    offset = (offset + n) % padded.count
                    continue
                }
                guard errno == EAGAIN || errno == EWOULDBLOCK else { break }
                var poller = pollfd(fd: client.fd, events: Int16(POLLOUT), revents: 0)
                if poll(&poller, 1, 300) == 0 { break }
            }
            return sent
        }
        #expect(sent < bound, "the server kept reading: \(sent) bytes taken")
        #expect(try client.readResponse().bodyText == "/slow?ms=3000")
        #expect(try client.readResponse().bodyText == "GET /next")
    }

    /// A client that pipelines small requests for a big listing and reads nothing: once its answers
    /// back up past the channel's watermark, the server stops reading and answering (before, every
    /// request it sent was answered into memory: 430 MB of RSS in 5 s by hand, with a small file).
    /// When it reads, every answer comes, in order.
    @Test func aClientThatDoesNotReadIsNotAnsweredIntoMemory() async throws {
        let tree = try TempTree()
        for index in 0..<300 { try tree.write("dir/a-file-with-a-rather-long-name-\(index).txt", "x") }
        let server = try await TestServer.start(handlers: [FileHandler()], directory: tree.root)
        defer { Task { await server.shutdown() } }
        let listing = try server.client().get("/dir/")
        #expect(listing.status == 200 && listing.body.count > 50_000)
        let recorder = EventRecorder(server)
        let client = try RawClient(port: server.port, timeoutSeconds: 20, receiveBuffer: 16 * 1024)
        let count = 200
        try client.send(String(repeating: "GET /dir/ HTTP/1.1\r\nHost: x\r\n\r\n", count: count))
        // Wait until the server stops taking requests up (the count holds for 300 ms), at most 20 s.
        var taken = 0
        let deadline = monotonicNow() + 20_000_000_000
        while monotonicNow() < deadline {
            try await Task.sleep(for: .milliseconds(300))
            let now = recorder.collect().count { if case .requestReceived = $0 { true } else { false } }
            if now == taken { break }
            taken = now
        }
        // The kernel's buffers and the channel's 64 KiB hold a few listings (6 here), not all 200
        // (over 10 MB).
        #expect(taken < 100, "took up \(taken) of \(count) requests without the client reading")
        let all = try await offCooperativePool {
            (0..<count).map { _ in (try? client.readResponse()).map { $0.status == 200 && $0.body == listing.body } ?? false }
        }
        #expect(all.allSatisfy { $0 }, "\(all.filter { !$0 }.count) answers missing or wrong")
    }

    /// A HEAD answer framed as chunked (a stream of unknown length) carries no body and no last
    /// chunk: the next response on the connection must parse.
    @Test func headOfAChunkedStreamSendsNoChunks() async throws {
        let server = try await TestServer.start()
        defer { Task { await server.shutdown() } }
        let client = try server.client()
        let head = try client.get("/stream?chunks=3", method: "HEAD")
        #expect(head.status == 200)
        #expect(head.header("transfer-encoding") == "chunked")
        #expect(head.body.isEmpty)
        let next = try client.get("/after")
        #expect(next.bodyText == "GET /after")
    }

    /// `printf 'GET ...GET ...' | nc`: requests pipelined, then the client half-closes. Every answer
    /// must arrive whole and be logged as completed (the first file lookups go to the thread pool,
    /// later ones hit the open-file cache and answer at once).
    @Test func pipelinedFileRequestsThenHalfCloseAreAllAnswered() async throws {
        let tree = try TempTree()
        try tree.write("a.txt", "hi\n")
        let server = try await TestServer.start(handlers: [FileHandler()], directory: tree.root)
        defer { Task { await server.shutdown() } }
        let recorder = EventRecorder(server)
        for round in 1...4 {
            let client = try server.client()
            try client.send(
                "GET /a.txt HTTP/1.1\r\nHost: x\r\n\r\nGET /a.txt HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
            )
            client.shutdownWrite()
            #expect(try client.readResponse().bodyText == "hi\n", "round \(round), first answer")
            #expect(try client.readResponse().bodyText == "hi\n", "round \(round), second answer")
            #expect(try client.isClosedByPeer())
        }
        #expect(recorder.waitFor { _ in recorder.finished.count == 8 })
        #expect(recorder.finished.map(\.outcome) == Array(repeating: .completed, count: 8))
        #expect(recorder.finished.map(\.bytesSent) == Array(repeating: 3, count: 8))
        withExtendedLifetime(tree) {}
    }

    /// An answer that closes the connection (`Connection: close`, HTTP/1.0, a half-closed client)
    /// arrives whole even when it does not fit in the socket buffers: closing at once dropped what
    /// NIO still had queued (a 1.5 MB listing reached a slow reader as 135 KB).
    @Test(arguments: ["HTTP/1.1|Connection: close", "HTTP/1.0|", "HTTP/1.1|half-close"])
    func aClosingAnswerLargerThanTheSocketBuffersArrivesWhole(variant: String) async throws {
        let parts = variant.split(separator: "|", omittingEmptySubsequences: false).map(String.init)
        let tree = try TempTree()
        try tree.largeListingFolder("many", count: 2_000)
        let server = try await TestServer.start(handlers: [FileHandler()], directory: tree.root)
        defer { Task { await server.shutdown() } }
        let recorder = EventRecorder(server)
        let port = server.port
        let body = try await offCooperativePool {
            let client = try RawClient(port: port, receiveBuffer: 4096)
            let header = parts[1] == "half-close" ? "" : parts[1]
            try client.send("GET /many/ \(parts[0])\r\nHost: x\r\n\(header.isEmpty ? "" : header + "\r\n")\r\n")
            if parts[1] == "half-close" { client.shutdownWrite() }
            usleep(300_000)  // let the server queue the whole answer and decide to close
            let response = try client.readResponse()
            #expect(try client.isClosedByPeer())
            return response
        }
        let length = try #require(body.header("content-length").flatMap { Int($0) })
        #expect(length > 200_000)
        #expect(body.body.count == length)
        #expect(recorder.waitFor { _ in recorder.finished.count == 1 })
        #expect(recorder.finished.first?.outcome == .completed)
        withExtendedLifetime(tree) {}
    }

    @Test func http10ClosesUnlessKeepAliveIsAsked() async throws {
        let server = try await TestServer.start()
        defer { Task { await server.shutdown() } }
        let plain = try server.client()
        let first = try plain.get("/x", version: "HTTP/1.0")
        #expect(first.status == 200)
        #expect(first.version == "HTTP/1.0")
        #expect(first.header("connection") == "close")
        #expect(try plain.isClosedByPeer())

        let kept = try server.client()
        let response = try kept.get("/y", version: "HTTP/1.0", headers: ["Connection: keep-alive"])
        #expect(response.header("connection") == "keep-alive")
        #expect(try kept.get("/z", version: "HTTP/1.0", headers: ["Connection: keep-alive"]).bodyText == "GET /z")
    }

    @Test func connectionCloseIsHonoured() async throws {
        let server = try await TestServer.start()
        defer { Task { await server.shutdown() } }
        let client = try server.client()
        let response = try client.get("/bye", headers: ["Connection: close"])
        #expect(response.status == 200)
        #expect(response.header("connection") == "close")
        #expect(try client.isClosedByPeer())
    }

    @Test func protocolHTTP10AnswersAs10AndCloses() async throws {
        let server = try await TestServer.start { $0.protocolVersion = .http1_0 }
        defer { Task { await server.shutdown() } }
        let client = try server.client()
        let response = try client.get("/p", headers: ["Connection: keep-alive"])
        #expect(response.version == "HTTP/1.0")
        #expect(response.header("connection") == "close")
        #expect(try client.isClosedByPeer())
    }

    @Test func streamingWithoutLengthIsChunkedOn11AndCloseDelimitedOn10() async throws {
        let server = try await TestServer.start()
        defer { Task { await server.shutdown() } }
        let client = try server.client()
        let chunked = try client.get("/stream?chunks=3")
        #expect(chunked.header("transfer-encoding") == "chunked")
        #expect(chunked.bodyText == "chunk-0\nchunk-1\nchunk-2\n")
        #expect(try client.get("/again").status == 200)

        let old = try server.client()
        let closeDelimited = try old.get("/stream?chunks=2", version: "HTTP/1.0", headers: ["Connection: keep-alive"])
        #expect(closeDelimited.header("connection") == "close")
        #expect(closeDelimited.bodyText == "chunk-0\nchunk-1\n")
    }

    @Test func expect100ContinueIsAnswered() async throws {
        let server = try await TestServer.start()
        defer { Task { await server.shutdown() } }
        let client = try server.client()
        try client.send("POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nExpect: 100-continue\r\n\r\n")
        let interim = try client.readResponse()
        #expect(interim.status == 100)
        try client.send("hello")
        let final = try client.readResponse()
        #expect(final.status == 200)
        #expect(final.bodyText == "hello")

        let other = try server.client()
        let refused = try other.get("/x", headers: ["Expect: something-else"])
        #expect(refused.status == 417)
    }

    @Test func halfClosedClientStillGetsItsResponse() async throws {
        let server = try await TestServer.start()
        defer { Task { await server.shutdown() } }
        let client = try server.client()
        try client.send("GET /slow?ms=100 HTTP/1.1\r\nHost: x\r\n\r\n")
        client.shutdownWrite()
        let response = try client.readResponse()
        #expect(response.bodyText == "/slow?ms=100")
        #expect(try client.isClosedByPeer())
    }
}
