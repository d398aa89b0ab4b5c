import NIOCore
import NIOEmbedded
import NIOHTTP1
@testable import ServeEngine
import Testing

/// Requests that offer another protocol (`Upgrade: h2c` from `curl --http2`, `Upgrade: websocket`
/// from a live-reload script) are answered like any other and the connection goes on (RFC 9110
/// §7.8). NIO's decoder stops parsing after such a request, expecting an upgrade handler to take
/// the connection; the engine replaces the decoder instead.
@Suite struct UpgradeOfferTests {
    /// The engine's prediction of which heads stop NIO's decoder, held to the decoder itself: each
    /// head is sent with a second request behind it, and the decoder has stopped when that second
    /// one never comes out.
    @Test(arguments: [
        ("GET / HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n", true),
        ("GET / HTTP/1.1\r\nHost: x\r\nconnection: upgrade\r\nupgrade: h2c\r\n", true),
        ("GET / HTTP/1.1\r\nHost: x\r\nConnection: Upgrade, HTTP2-Settings\r\nUpgrade: h2c\r\nHTTP2-Settings: AAMAAABkAAQCAAAAAAIAAAAA\r\n", true),
        ("GET / HTTP/1.1\r\nHost: x\r\nConnection: keep-alive,  UPGRADE \r\nUpgrade: websocket\r\n", true),
        ("GET / HTTP/1.1\r\nHost: x\r\nConnection: keep-alive\r\nConnection: upgrade\r\nUpgrade: websocket\r\n", true),
        ("GET / HTTP/1.0\r\nConnection: upgrade\r\nUpgrade: websocket\r\n", true),
        ("POST / HTTP/1.1\r\nHost: x\r\nConnection: upgrade\r\nUpgrade: h2c\r\nContent-Length: 3\r\n\r\nabc", true),
        ("CONNECT / HTTP/1.1\r\nHost: x\r\n", true),
        ("GET / HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\n", false),
        ("GET / HTTP/1.1\r\nHost: x\r\nConnection: upgrade\r\n", false),
        ("GET / HTTP/1.1\r\nHost: x\r\nConnection: upgrades\r\nUpgrade: websocket\r\n", false),
        ("GET / HTTP/1.1\r\nHost: x\r\nConnection: x-upgrade\r\nUpgrade: websocket\r\n", false),
        ("GET / HTTP/1.1\r\nHost: x\r\nConnection: keep-alive\r\nUpgrader: websocket\r\n", false),
        ("GET / HTTP/1.1\r\nHost: x\r\nX-Connection: upgrade\r\nUpgrade: websocket\r\n", false),
    ])
    func predictionMatchesNIOsDecoder(head: String, stops: Bool) throws {
        let channel = EmbeddedChannel()
        defer { _ = try? channel.finish() }
        try channel.pipeline.syncOperations.addHandler(ByteToMessageHandler(HTTPRequestDecoder()))
        let request = head.hasSuffix("abc") ? head : head + "\r\n"
        try channel.writeInbound(ByteBuffer(string: request + "GET /second HTTP/1.1\r\nHost: x\r\n\r\n"))
        var heads: [HTTPRequestHead] = []
        while let part = try channel.readInbound(as: HTTPServerRequestPart.self) {
            if case .head(let head) = part { heads.append(head) }
        }
        let first = try #require(heads.first)
        #expect((heads.count == 1) == stops, "the decoder \(heads.count == 1 ? "stopped" : "went on")")
        #expect(HTTPConnectionHandler.decoderStops(after: first, mayUpgrade: HeaderScan(first.headers).mayUpgrade) == stops)
    }

    @Test func pipelinedRequestsBehindAnUpgradeOfferAreAnswered() async throws {
        let server = try await TestServer.start()
        defer { Task { await server.shutdown() } }
        let client = try server.client()
        try client.send(
            "GET /ws HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Version: 13\r\n\r\n"
                + "GET /after HTTP/1.1\r\nHost: x\r\nConnection: Upgrade, HTTP2-Settings\r\nUpgrade: h2c\r\nHTTP2-Settings: AAMAAABkAAQCAAAAAAIAAAAA\r\n\r\n"
                + "GET /third HTTP/1.1\r\nHost: x\r\n\r\n"
        )
        let first = try client.readResponse()
        #expect(first.status == 200 && first.bodyText == "GET /ws" && first.header("upgrade") == nil)
        #expect(try client.readResponse().bodyText == "GET /after")
        #expect(try client.readResponse().bodyText == "GET /third")
        // And a request sent later, on its own, on the same connection.
        #expect(try client.get("/later").bodyText == "GET /later")
        #expect(server.server.totals.connectionsTotal == 1)
    }

    /// An offer on a request with a body (what a Ktor client sends): the body reaches the handler,
    /// and what follows is parsed anew, split across writes.
    @Test func anOfferWithABodyKeepsItsBodyAndTheConnection() async throws {
        let server = try await TestServer.start()
        defer { Task { await server.shutdown() } }
        let client = try server.client()
        try client.send("POST /echo HTTP/1.1\r\nHost: x\r\nConnection: upgrade\r\nUpgrade: h2c\r\nContent-Length: 5\r\n\r\nhel")
        try client.send("loGET /next HT")
        let echoed = try client.readResponse()
        #expect(echoed.status == 200 && echoed.bodyText == "hello")
        try client.send("TP/1.1\r\nHost: x\r\n\r\n")
        #expect(try client.readResponse().bodyText == "GET /next")
        // An unsupported method keeps the connection too (501), even as CONNECT.
        try client.send("CONNECT / HTTP/1.1\r\nHost: x\r\n\r\nGET /after-connect HTTP/1.1\r\nHost: x\r\n\r\n")
        #expect(try client.readResponse().status == 501)
        #expect(try client.readResponse().bodyText == "GET /after-connect")
    }
}
