import ServeEngine
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// Idle and slow-request timeouts, and the graceful stop.
@Suite struct TimeoutAndStopTests {
    @Test func idleKeepAliveConnectionIsClosed() async throws {
        let server = try await TestServer.start { $0.timeoutSeconds = 0.3 }
        defer { Task { await server.shutdown() } }
        let recorder = EventRecorder(server)
        let client = try server.client()
        #expect(try client.get("/a").status == 200)
        let start = monotonicNow()
        #expect(try client.isClosedByPeer())
        let waited = Double(monotonicNow() - start) / 1e9
        #expect(waited >= 0.2 && waited < 5, "closed after \(waited) s")
        #expect(recorder.waitFor { _ in recorder.closed.first?.reason == .idleTimeout })
    }

    /// A big answer written from memory (a listing) to a client that reads it slowly: the idle
    /// timeout must not cut it off while bytes keep going out (it did, counting from the moment the
    /// answer was queued). A client that reads nothing of it is still closed.
    @Test func aSlowReaderOfABigListingGetsAllOfIt() async throws {
        let tree = try TempTree()
        for index in 0..<5_000 { try tree.write("dir/a-file-with-a-rather-long-name-\(index).txt", "") }
        let server = try await TestServer.start(handlers: [FileHandler()], directory: tree.root) { $0.timeoutSeconds = 1 }
        defer { Task { await server.shutdown() } }
        let recorder = EventRecorder(server)
        let slow = try RawClient(port: server.port, timeoutSeconds: 20, receiveBuffer: 8 * 1024)
        try slow.send("GET /dir/ HTTP/1.1\r\nHost: x\r\n\r\n")
        let received = try await offCooperativePool {
            // 8 KiB or so every 20 ms: the answer (~870 KB) takes a few timeouts to arrive.
            var bytes: [UInt8] = []
            var chunk = [UInt8](repeating: 0, count: 16 * 1024)
            while true {
                let count = chunk.withUnsafeMutableBytes { recv(slow.fd, $0.baseAddress, $0.count, 0) }
                if count <= 0 { break }
                bytes += chunk[0..<count]
                usleep(20_000)
            }
            return bytes
        }
        let text = String(decoding: received, as: UTF8.self)
        let head = try #require(text.range(of: "\r\n\r\n"))
        let length = text[..<head.lowerBound].split(separator: "\r\n").first { $0.lowercased().hasPrefix("content-length:") }
            .flatMap { Int($0.split(separator: ":")[1].trimmingCharacters(in: .whitespaces)) }
        let bodyBytes = received.count - text[..<head.upperBound].utf8.count
        #expect((length ?? 0) > 800_000)
        #expect(bodyBytes == length, "\(bodyBytes) of \(length ?? -1) bytes arrived before the connection closed")
        // One that reads nothing is closed all the same.
        let stalled = try RawClient(port: server.port, timeoutSeconds: 20, receiveBuffer: 8 * 1024)
        try stalled.send("GET /dir/ HTTP/1.1\r\nHost: x\r\n\r\n")
        #expect(recorder.waitFor(seconds: 15) { _ in recorder.closed.count >= 2 })
    }

    @Test func slowRequestGets408AndIsClosed() async throws {
        let server = try await TestServer.start { $0.timeoutSeconds = 0.5 }
        defer { Task { await server.shutdown() } }
        let recorder = EventRecorder(server)
        let slow = try server.client()
        // Trickle a head that never ends; the deadline is not pushed back by each byte.
        try slow.send("GET /never HTTP/1.1\r\n")
        for _ in 0..<3 {
            usleep(150_000)
            try? slow.send("X")
        }
        let response = try slow.readResponse()
        #expect(response.status == 408)
        #expect(try slow.isClosedByPeer())
        #expect(recorder.waitFor { _ in recorder.closed.contains { $0.reason == .requestTimeout } })
    }

    @Test func slowClientDoesNotDelayOthers() async throws {
        let server = try await TestServer.start { $0.timeoutSeconds = 5 }
        defer { Task { await server.shutdown() } }
        let slow = try server.client()
        try slow.send("GET /trickle HTTP/1.1\r\nHo")
        let fast = try server.client()
        let start = monotonicNow()
        for _ in 0..<20 { #expect(try fast.get("/quick").status == 200) }
        let elapsed = Double(monotonicNow() - start) / 1e9
        #expect(elapsed < 4, "20 requests took \(elapsed) s beside a slow client")
    }

    @Test func gracefulStopFinishesInFlightAndClosesIdle() async throws {
        let server = try await TestServer.start()
        let recorder = EventRecorder(server)
        // Generous read timeouts: `stopListening` resumes on the cooperative pool, which other tests
        // may hold for a while under a sanitizer (a 10 s read once timed out under TSan).
        let idle = try server.client(timeoutSeconds: 60)
        #expect(try idle.get("/warm").status == 200)
        let busy = try server.client(timeoutSeconds: 60)
        try busy.send("GET /stream?chunks=5&ms=100 HTTP/1.1\r\nHost: x\r\n\r\n")
        #expect(recorder.waitFor { events in
            events.contains { if case .responseStarted = $0 { true } else { false } }
        })
        async let stopped: Void = server.server.stopListening(grace: 5)
        // The idle connection goes at once; the stream completes.
        let (idleClosed, body) = try await offCooperativePool { (try idle.isClosedByPeer(), try busy.readResponse().bodyText) }
        #expect(idleClosed)
        #expect(body == (0..<5).map { "chunk-\($0)\n" }.joined())
        await stopped
        #expect(server.server.state == .stopped)
        #expect(throws: RawClientError.self) { try server.client() }
        #expect(recorder.waitFor { _ in recorder.finished.count == 2 })
        #expect(recorder.finished.allSatisfy { $0.outcome == .completed })
        // Resume on the same port.
        try await server.server.listen()
        #expect(try server.client().get("/again").status == 200)
        await server.shutdown()
    }

    @Test func stopForceClosesWhatOutlivesTheGracePeriod() async throws {
        let server = try await TestServer.start()
        let recorder = EventRecorder(server)
        let busy = try server.client()
        // A 120-second stream: only a forced close can end it within the bound below.
        try busy.send("GET /stream?chunks=1200&ms=100 HTTP/1.1\r\nHost: x\r\n\r\n")
        #expect(recorder.waitFor { _ in !recorder.received.isEmpty })
        let start = monotonicNow()
        await server.server.stopListening(grace: 0.3)
        let took = Double(monotonicNow() - start) / 1e9
        // Generous: other tests may hold the cooperative threads (two on this machine) for a while,
        // and stopListening resumes on them; under ThreadSanitizer that once took 81 s while the
        // tests' big-file generator was slow. The stream alone would last 120 s.
        #expect(took < 60)
        #expect(recorder.waitFor { _ in recorder.finished.first?.outcome == .abortedByClient })
        #expect(recorder.closed.first?.reason == .serverStopping)
        await server.shutdown()
    }

    @Test func portInUseIsReportedWithTheAddress() async throws {
        let first = try await TestServer.start()
        defer { Task { await first.shutdown() } }
        await #expect {
            _ = try await TestServer.start { $0.port = first.port }
        } throws: { error in
            "\(error)".contains("127.0.0.1 port \(first.port): address already in use")
                && "\(error)".contains("--port 0")
        }
    }
}
