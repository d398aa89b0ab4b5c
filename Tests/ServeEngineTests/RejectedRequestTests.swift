import NIOCore
import NIOEmbedded
import Testing

@testable import ServeEngine

/// A request answered with an error page says why, and one that was not parsed shows what arrived:
/// for the person debugging the client that sent it.
@Suite struct RejectedRequestTests {
    static func started(_ recorder: EventRecorder) -> [ResponseStarted] {
        recorder.events.compactMap { if case .responseStarted(let started) = $0 { started } else { nil } }
    }

    /// Sends `bytes` on a new connection, expects a 400, and returns the problem published with it.
    static func problem(after bytes: [UInt8], on server: TestServer) throws -> RequestProblem {
        let recorder = EventRecorder(server)
        let client = try server.client()
        try client.send(bytes)
        #expect(try client.readResponse().status == 400)
        #expect(recorder.waitFor { _ in Self.started(recorder).count == 1 })
        return try #require(Self.started(recorder).first?.problem)
    }

    @Test func aRequestTheDecoderRejectsIsPublishedWithWhyAndItsBytes() async throws {
        let server = try await TestServer.start()
        defer { Task { await server.shutdown() } }
        let sent = Array("GET /a HTTP/1.1\r\nHost: t\r\nX-Evil: \u{1B}]0;x\u{07}\r\n\r\n".utf8)
        let problem = try Self.problem(after: sent, on: server)
        #expect(problem.message == "Bad request syntax (invalid character in header)")
        #expect(problem.parserError == "invalid character in header")
        #expect(problem.received == sent && problem.receivedCount == sent.count)
        #expect(!problem.receivedIncludesEarlierRequests)
    }

    /// Only the first 2 KiB are kept; the count is of everything that arrived.
    @Test func aLongRejectedRequestKeepsItsFirstBytesAndCountsAll() async throws {
        let server = try await TestServer.start()
        defer { Task { await server.shutdown() } }
        let sent = Array(("GET /a HTTP/1.1\r\nHost: t\r\nX-Long: " + String(repeating: "v", count: 3000) + "\r\nBad Name: x\r\n\r\n").utf8)
        let problem = try Self.problem(after: sent, on: server)
        #expect(problem.received == Array(sent.prefix(RequestProblem.receivedCapacity)))
        #expect(problem.receivedCount == sent.count)
    }

    /// Behind a good request in the same read, the decoder does not say where the bad one begins:
    /// the whole read is shown, and says so.
    @Test func aPipelinedRejectedRequestShowsTheReadItFailedIn() async throws {
        let server = try await TestServer.start()
        defer { Task { await server.shutdown() } }
        let recorder = EventRecorder(server)
        let sent = Array("GET /first HTTP/1.1\r\nHost: t\r\n\r\nGET /second HTTP/1.1\r\nHo st: t\r\n\r\n".utf8)
        let client = try server.client()
        try client.send(sent)
        #expect(try client.readResponse().status == 200)
        #expect(try client.readResponse().status == 400)
        #expect(recorder.waitFor { _ in Self.started(recorder).count == 2 })
        let started = Self.started(recorder)
        #expect(started[0].problem == nil)
        let problem = try #require(started[1].problem)
        #expect(problem.received == sent && problem.receivedIncludesEarlierRequests)
    }

    /// A head that never ends gets 408, with what had arrived of it.
    @Test func aTimedOutHeadIsPublishedWithWhatArrived() async throws {
        let server = try await TestServer.start { $0.timeoutSeconds = 0.5 }
        defer { Task { await server.shutdown() } }
        let recorder = EventRecorder(server)
        let client = try server.client()
        try client.send("GET /a HTTP/1.1\r\n")
        try client.send("Host: t\r\nX-Partial: yes")
        #expect(try client.readResponse().status == 408)
        #expect(recorder.waitFor { _ in Self.started(recorder).count == 1 })
        let problem = try #require(Self.started(recorder).first?.problem)
        #expect(problem.message == "Request head not received in full within 0.5 s")
        #expect(problem.parserError == nil)
        #expect(problem.received == Array("GET /a HTTP/1.1\r\nHost: t\r\nX-Partial: yes".utf8))
    }

    /// A body that stops coming gets 408 too, saying which part did not arrive.
    @Test func aStalledBodyGets408SayingSo() async throws {
        let server = try await TestServer.start { $0.timeoutSeconds = 1 }
        defer { Task { await server.shutdown() } }
        let recorder = EventRecorder(server)
        let client = try server.client()
        try client.send("POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: 10\r\n\r\nabc")
        let response = try client.readResponse()
        #expect(response.status == 408)
        #expect(response.bodyText.contains("Request body not received in full within 1 s"))
        #expect(recorder.waitFor { _ in Self.started(recorder).count == 1 })
        #expect(Self.started(recorder).first?.problem?.message == "Request body not received in full within 1 s")
        #expect(Self.started(recorder).first?.problem?.received == nil)
    }

    /// A parsed request answered with an error page gets the page's message and no bytes.
    @Test func aParsedRequestWithAnErrorPageGetsItsMessageOnly() async throws {
        let tree = try TempTree()
        let server = try await TestServer.start(handlers: [FileHandler()], directory: tree.root)
        defer { Task { await server.shutdown() } }
        let recorder = EventRecorder(server)
        let client = try server.client()
        #expect(try client.get("/missing").status == 404)
        try tree.write("there.txt", "x")
        #expect(try client.get("/there.txt").status == 200)
        #expect(recorder.waitFor { _ in Self.started(recorder).count == 2 })
        let started = Self.started(recorder)
        #expect(started[0].problem == RequestProblem(message: "File not found"))
        #expect(started[1].problem == nil)
    }

    /// Headless, nothing of a request is kept, not even for one that fails.
    @Test func withoutRequestDetailNoBytesAreKept() throws {
        let tracker = InboundActivityTracker(keepsReceived: false)
        let channel = EmbeddedChannel(handler: tracker)
        try channel.writeInbound(ByteBuffer(string: "GARBAGE\r\n"))
        #expect(tracker.receivedSoFar() == nil)
    }

    /// The tracker keeps the bytes of a request not decoded yet, across reads, up to 2 KiB, copying
    /// nothing for reads that hold whole requests; in a read in which a request ended, it offers
    /// that read, marked as beginning with another request.
    @Test func theTrackerKeepsWhatArrivedOfTheRequestBeingDecoded() throws {
        let tracker = InboundActivityTracker(keepsReceived: true)
        let probe = ReceivedProbe(tracker)
        let channel = EmbeddedChannel()
        try channel.pipeline.syncOperations.addHandlers([tracker, probe])

        // A head in two reads, then it fails in a third: all three.
        try channel.writeInbound(ByteBuffer(string: "GET / HTTP/1.1\r\n"))
        try channel.writeInbound(ByteBuffer(string: "Host: t\r\n"))
        try channel.writeInbound(ByteBuffer(string: "Bad Name: x\r\n"))
        #expect(probe.seen?.first == Array("GET / HTTP/1.1\r\nHost: t\r\nBad Name: x\r\n".utf8))
        #expect(probe.seen?.includesEarlierRequests == false)

        // Whole requests in a read: nothing kept after it.
        probe.decodes = 1
        try channel.writeInbound(ByteBuffer(string: "\r\nGET /next HTTP/1.1\r\n\r\n"))
        #expect(tracker.receivedSoFar()?.count == 0)

        // A request ends in a read and the next fails in it: that read, marked.
        probe.decodes = 1
        try channel.writeInbound(ByteBuffer(string: "GET /a HTTP/1.1\r\n\r\nGET /b HTTP/1.1\r\nBad Name: x\r\n"))
        #expect(probe.seen?.first == Array("GET /a HTTP/1.1\r\n\r\nGET /b HTTP/1.1\r\nBad Name: x\r\n".utf8))
        #expect(probe.seen?.includesEarlierRequests == true)

        // A request ends in a read and the next begins in it: kept, marked, and joined by the next read.
        probe.decodes = 1
        try channel.writeInbound(ByteBuffer(string: "GET /c HTTP/1.1\r\n\r\nGET /d HT"))
        try channel.writeInbound(ByteBuffer(string: "TP/1.1\r\n"))
        #expect(probe.seen?.first == Array("GET /c HTTP/1.1\r\n\r\nGET /d HTTP/1.1\r\n".utf8))
        #expect(probe.seen?.includesEarlierRequests == true)

        // Past 2 KiB only the count grows.
        probe.decodes = 1
        try channel.writeInbound(ByteBuffer(string: "\r\n"))
        try channel.writeInbound(ByteBuffer(bytes: [UInt8](repeating: 0x41, count: 3000)))
        try channel.writeInbound(ByteBuffer(string: "tail"))
        let kept = try #require(probe.seen)
        #expect(kept.first.count == RequestProblem.receivedCapacity && kept.count == 3004 && !kept.includesEarlierRequests)
        _ = try channel.finish()
    }
}

/// Stands in for the decoder and connection handler: sees what the tracker offers while a read
/// passes through, after delivering `decodes` request ends in it.
private final class ReceivedProbe: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    let tracker: InboundActivityTracker
    var decodes = 0
    var seen: ReceivedBytes?

    init(_ tracker: InboundActivityTracker) { self.tracker = tracker }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        for _ in 0..<self.decodes { self.tracker.requestDecoded() }
        self.decodes = 0
        self.seen = self.tracker.receivedSoFar()
    }
}
