import ServeEngine
import Testing

/// The event stream: the sequence for one request, and exact totals under load with drops.
@Suite struct EventStreamTests {
    /// The connection and request events, by kind, in order.
    static func kinds(_ events: [ServerEvent]) -> [String] {
        events.compactMap { event -> String? in
            switch event {
            case .connectionOpened: "opened"
            case .requestReceived: "received"
            case .responseStarted: "started"
            case .requestFinished: "finished"
            case .connectionClosed: "closed"
            default: nil
            }
        }
    }

    @Test func oneRequestPublishesTheFullSequence() async throws {
        let server = try await TestServer.start()
        defer { Task { await server.shutdown() } }
        let recorder = EventRecorder(server)
        let client = try server.client()
        _ = try client.get("/seq?x=1", headers: ["User-Agent: tester", "Connection: close"])
        #expect(recorder.waitFor { _ in !recorder.closed.isEmpty })
        let kinds = Self.kinds(recorder.events)
        #expect(kinds == ["opened", "received", "started", "finished", "closed"])
        let received = try #require(recorder.received.first)
        #expect(received.method == "GET")
        #expect(received.target == "/seq?x=1")
        #expect(received.version == "HTTP/1.1")
        #expect(received.headers.first("user-agent") == "tester")
        #expect(received.peer == "127.0.0.1")
        #expect(received.id.index == 1)
        let finished = try #require(recorder.finished.first)
        #expect(finished.status == 200)
        #expect(finished.bytesSent == Int64("GET /seq?x=1".utf8.count))
        #expect(finished.outcome == .completed)
        #expect(finished.durationNanoseconds > 0)
        #expect(recorder.closed.first?.requestsServed == 1)
        #expect(recorder.closed.first?.reason == .notKeepAlive)
    }

    /// Without a dashboard (`requestDetailPerSecond` 0) each request publishes only its outcome,
    /// and the totals stay exact: requests, status classes, bytes.
    @Test func outcomesOnlyWhenNoOneShowsRequestDetail() async throws {
        let server = try await TestServer.start { $0.requestDetailPerSecond = 0 }
        defer { Task { await server.shutdown() } }
        let recorder = EventRecorder(server)
        let client = try server.client()
        _ = try client.get("/one")
        _ = try client.get("/stream?chunks=3")
        _ = try client.get("/two", headers: ["Connection: close"])
        #expect(recorder.waitFor { _ in !recorder.closed.isEmpty })
        let kinds = Self.kinds(recorder.events)
        #expect(kinds == ["opened", "finished", "finished", "finished", "closed"])
        #expect(recorder.finished.map(\.target) == ["/one", "/stream?chunks=3", "/two"])
        #expect(recorder.finished.map(\.status) == [200, 200, 200])
        let totals = server.server.totals
        #expect(totals.requests == 3)
        #expect(totals.count(statusClass: 2) == 3)
        #expect(totals.statusCodes.map(\.status) == [200] && totals.statusCodes.map(\.count) == [3])
        #expect(totals.bytesSent == Int64("GET /one".utf8.count + 3 * 8 + "GET /two".utf8.count))
    }

    /// Over the detail budget (a flood) a request publishes only its outcome, counted in the totals;
    /// the requests that got detail have all of it.
    @Test func aFloodOverTheDetailBudgetPublishesOutcomesOnly() async throws {
        let server = try await TestServer.start { $0.requestDetailPerSecond = 10 }  // one per 100 ms
        defer { Task { await server.shutdown() } }
        let recorder = EventRecorder(server)
        let client = try server.client()
        for index in 0..<20 { _ = try client.get("/r\(index)") }
        #expect(recorder.waitFor { _ in recorder.finished.count == 20 })
        let received = Set(recorder.received.map(\.id))
        let started = Set(recorder.events.compactMap { if case .responseStarted(let s) = $0 { s.id } else { nil } })
        #expect(!received.isEmpty && received.count < 20, "detail for \(received.count) of 20")
        #expect(started == received)
        #expect(Set(recorder.finished.filter(\.hadDetail).map(\.id)) == received)
        #expect(server.server.totals.requests == 20)
        #expect(server.server.totals.requestsWithoutDetail == 20 - received.count)
    }

    /// What a client sent as a body reaches the dashboard: its exact size and its first bytes,
    /// whether it came with a Content-Length or chunked, answered or refused (501), or cut off.
    @Test func requestBodiesArePublishedWithTheirSizeAndFirstBytes() async throws {
        let server = try await TestServer.start()
        defer { Task { await server.shutdown() } }
        let recorder = EventRecorder(server)
        let client = try server.client()
        let big = TempTree.bytes(5000)
        try client.send(Array("POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: 5000\r\n\r\n".utf8) + big)
        #expect(try client.readResponse().body == big)
        try client.send("POST /echo HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n4\r\ndefg\r\n0\r\n\r\n")
        #expect(try client.readResponse().body == Array("abcdefg".utf8))
        try client.send("PUT /refused HTTP/1.1\r\nHost: t\r\nContent-Length: 2\r\n\r\nhi")
        #expect(try client.readResponse().status == 501)
        _ = try client.get("/no-body")
        // Cut off: 10 of 100 announced bytes, then the client goes away.
        let cut = try server.client()
        try cut.send("POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: 100\r\n\r\n0123456789")
        #expect(recorder.waitFor { _ in recorder.bodies.count == 3 })
        cut.shutdownWrite()
        #expect(recorder.waitFor { _ in recorder.bodies.count == 4 })

        let bodies = recorder.bodies
        #expect(bodies.map(\.bytes) == [5000, 7, 2, 10])
        #expect(bodies[0].preview.count == 2048)
        #expect(bodies[0].preview.elementsEqual(big.prefix(2048)))
        #expect(bodies[0].complete && !bodies[0].isWhole)
        #expect(bodies[1].preview == Array("abcdefg".utf8) && bodies[1].isWhole)
        #expect(bodies[2].preview == Array("hi".utf8) && bodies[2].isWhole)
        #expect(bodies[3].preview == Array("0123456789".utf8) && !bodies[3].complete)
        // Each belongs to its request; the GET without a body published none.
        let received = recorder.received
        #expect(bodies.map(\.id) == [received[0].id, received[1].id, received[2].id, received[4].id])
    }

    /// What the server wrote from memory reaches the dashboard too (its first 2 KiB and size),
    /// streamed or whole; nothing for HEAD, and nothing for a file's bytes, which are on disk.
    @Test func responseBodiesBuiltInMemoryArePublished() async throws {
        let server = try await TestServer.start()
        defer { Task { await server.shutdown() } }
        let recorder = EventRecorder(server)
        let client = try server.client()
        #expect(try client.get("/stream?chunks=3").bodyText == "chunk-0\nchunk-1\nchunk-2\n")
        #expect(try client.get("/plain").bodyText == "GET /plain")
        #expect(try client.get("/plain", method: "HEAD").status == 200)
        #expect(recorder.waitFor { _ in recorder.finished.count == 3 })
        let bodies = recorder.events.compactMap { if case .responseBody(let body) = $0 { body } else { nil } }
        #expect(bodies.map(\.bytes) == [24, 10])
        #expect(bodies.first?.preview == Array("chunk-0\nchunk-1\nchunk-2\n".utf8))
        #expect(bodies.last?.preview == Array("GET /plain".utf8))
        #expect(bodies.map(\.id) == recorder.received.prefix(2).map(\.id))

        // A listing over 2 KiB: its first 2 KiB and its size. A file (cached or not): nothing.
        let tree = try TempTree()
        for index in 0..<60 { try tree.write("folder/file-with-a-long-name-\(index).txt", "x") }
        try tree.write("page.txt", "a file")
        let files = try await TestServer.start(handlers: [FileHandler()], directory: tree.root)
        defer { Task { await files.shutdown() } }
        let fileRecorder = EventRecorder(files)
        let fileClient = try files.client()
        let listing = try fileClient.get("/folder/").body
        #expect(listing.count > 2048)
        _ = try fileClient.get("/page.txt")
        _ = try fileClient.get("/page.txt")
        #expect(fileRecorder.waitFor { _ in fileRecorder.finished.count == 3 })
        let fileBodies = fileRecorder.events.compactMap { if case .responseBody(let body) = $0 { body } else { nil } }
        #expect(fileBodies.map(\.bytes) == [Int64(listing.count)])
        #expect(fileBodies.first?.preview == Array(listing.prefix(2048)))
    }

    /// Without a dashboard nothing of a body, sent or received, is kept or published.
    @Test func noBodyIsPublishedWithoutRequestDetail() async throws {
        let server = try await TestServer.start { $0.requestDetailPerSecond = 0 }
        defer { Task { await server.shutdown() } }
        let recorder = EventRecorder(server)
        let client = try server.client()
        try client.send("POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: 2\r\nConnection: close\r\n\r\nhi")
        #expect(try client.readResponse().body == Array("hi".utf8))
        #expect(recorder.waitFor { _ in !recorder.closed.isEmpty })
        #expect(recorder.bodies.isEmpty)
        #expect(!recorder.events.contains { if case .responseBody = $0 { true } else { false } })
    }

    @Test func streamingPublishesProgress() async throws {
        let server = try await TestServer.start()
        defer { Task { await server.shutdown() } }
        let recorder = EventRecorder(server)
        let response = try server.client().get("/stream?chunks=6&ms=60")
        #expect(response.body.count == 6 * 8)
        #expect(recorder.waitFor { _ in !recorder.finished.isEmpty })
        let progress = recorder.events.compactMap { if case .bodyProgress(let p) = $0 { p.bytesSent } else { nil } }
        #expect(progress.count >= 2, "progress events: \(progress)")
        #expect(progress == progress.sorted())
        #expect(server.server.totals.bytesSent == 48)
    }

    @Test func totalsAreExactAfter2000RequestsOn16ConnectionsEvenWhenEventsDrop() async throws {
        let server = try await TestServer.start(busCapacity: 64)
        defer { Task { await server.shutdown() } }
        let port = server.port
        let perConnection = 125
        let statuses = try await withThrowingTaskGroup(of: [Int].self) { group in
            for worker in 0..<16 {
                group.addTask {
                    let client = try RawClient(port: port)
                    var seen: [Int] = []
                    for i in 0..<perConnection {
                        // Every tenth request is unsupported: a 501 that must be counted as 5xx.
                        let method = i % 10 == 0 ? "DELETE" : "GET"
                        seen.append(try client.get("/w\(worker)/\(i)", method: method).status)
                    }
                    return seen
                }
            }
            var all: [Int] = []
            for try await part in group { all += part }
            return all
        }
        #expect(statuses.count == 2000)
        #expect(waitUntil { server.server.totals.requests == 2000 })
        let totals = server.server.totals
        #expect(totals.count(statusClass: 2) == statuses.filter { $0 == 200 }.count)
        #expect(totals.count(statusClass: 5) == statuses.filter { $0 == 501 }.count)
        #expect(totals.count(statusClass: 5) == 16 * 13)
        #expect(totals.connectionsTotal == 16)
        let batch = server.server.bus.drain()
        #expect(batch.droppedTotal > 0, "a 64-event buffer must have dropped some of ~8,000 events")
        #expect(batch.events.count <= 64)
    }
}
