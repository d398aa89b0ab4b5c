import Foundation
import NIOCore
import Testing

@testable import ServeEngine

/// A whole small response goes straight to the socket with one `write(2)` when nothing of the
/// connection's is queued in NIO's channel (`HTTPConnectionHandler.writeDirectly`): its bytes must
/// keep their order and be counted as the kernel took them.
@Suite struct DirectWriteTests {
    /// The case the queue check exists for, made deterministic: the listing fills the socket and
    /// NIO holds the rest until the socket reports room, which it cannot see while an event-loop
    /// task runs. In one such task the client reads, so the socket has room, and a 404 is asked
    /// for. Written straight away, the 404 would land in the middle of the listing.
    @Test func aDirectWriteNeverOvertakesBytesQueuedInTheChannel() async throws {
        let tree = try TempTree()
        try tree.largeListingFolder("many", count: 4_000)
        let server = try await TestServer.start(handlers: [FileHandler()], directory: tree.root)
        defer { Task { await server.shutdown() } }
        let recorder = EventRecorder(server)
        let client = try RawClient(port: server.port, receiveBuffer: 4096)
        #expect(try client.get("/missing").status == 404)
        let channel = try #require(server.server.connectionChannels.first)
        // The listing is built off the loop; once its first bytes arrive, all of it was handed over.
        try client.send("GET /many/ HTTP/1.1\r\nHost: x\r\n\r\n")
        #expect(try client.receive(upTo: 1, quietMilliseconds: 10_000) > 0)
        let drained = try await channel.eventLoop.submit {
            let drained = try client.receive(upTo: 128 * 1024)
            channel.pipeline.fireChannelRead(NIOAny(ByteBuffer(string: "GET /missing HTTP/1.1\r\nHost: x\r\n\r\n")))
            return drained
        }.get()
        #expect(drained >= 64 * 1024, "the client read \(drained) bytes while the loop was held")
        let listing = try client.readResponse()
        let missing = try client.readResponse()
        #expect(listing.status == 200)
        #expect(listing.body.count > 400_000)
        #expect(listing.bodyText.hasSuffix("</html>\n"))
        #expect(!listing.bodyText.contains("HTTP/1.1 404"))
        #expect(missing.status == 404)
        #expect(recorder.waitFor { _ in recorder.finished.count == 3 })
        #expect(recorder.finished.map(\.outcome) == [.completed, .completed, .completed])
        #expect(recorder.finished.map(\.bytesSent).dropFirst() == [Int64(listing.body.count), Int64(missing.body.count)])
        withExtendedLifetime(tree) {}
    }

    /// Answers written straight to the socket are counted as the kernel took them, on a kept
    /// connection, pipelined, and on one that closes after them.
    @Test func smallAnswersWrittenDirectlyAreCountedAndKeepTheConnection() async throws {
        let tree = try TempTree()
        let server = try await TestServer.start(handlers: [FileHandler()], directory: tree.root)
        defer { Task { await server.shutdown() } }
        let recorder = EventRecorder(server)
        let client = try server.client()
        var bodies: [Int] = []
        for _ in 0..<3 {
            let response = try client.get("/nothing-here")
            #expect(response.status == 404)
            bodies.append(response.body.count)
        }
        try client.send("GET /a HTTP/1.1\r\nHost: x\r\n\r\nHEAD /b HTTP/1.1\r\nHost: x\r\n\r\nGET /c HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        bodies.append(try client.readResponse().body.count)
        #expect(try client.readResponse(head: true).status == 404)
        bodies.append(0)
        let last = try client.readResponse()
        #expect(last.header("connection") == "close")
        bodies.append(last.body.count)
        #expect(try client.isClosedByPeer())
        #expect(recorder.waitFor { _ in recorder.finished.count == 6 })
        #expect(recorder.finished.map(\.bytesSent) == bodies.map(Int64.init))
        #expect(recorder.finished.allSatisfy { $0.outcome == .completed && $0.status == 404 })
        #expect(server.server.totals.bytesSent == Int64(bodies.reduce(0, +)))
        #expect(Set(recorder.finished.map(\.id.connection)).count == 1)
        withExtendedLifetime(tree) {}
    }

}
