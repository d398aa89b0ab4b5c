import NIOCore
import NIOHTTP1
import ServeEngine

#if canImport(Glibc)
import Glibc
#endif

/// Answers the engine tests' requests:
/// - `/slow?ms=N`: waits N ms, then answers with the target as body;
/// - `/stream?chunks=N&ms=M`: N chunks of `chunk-i\n`, M ms apart, no Content-Length;
/// - `/echo` (POST): the request body;
/// - anything else with GET or HEAD: `METHOD target`.
/// Other methods are not claimed, so the engine answers 501.
struct TestHandler: RequestHandler {
    func responder(for request: Request, environment: HandlerEnvironment) -> (any RequestResponder)? {
        switch request.method {
        case .GET, .HEAD: TestResponder()
        case .POST where request.rawPath == "/echo": TestResponder()
        default: nil
        }
    }
}

final class TestResponder: RequestResponder {
    private var writer: ResponseWriter?
    private var body = ByteBuffer()
    private var cancelled = false

    func start(writer: ResponseWriter) {
        self.writer = writer
        let request = writer.request
        let params = Dictionary(
            request.query.split(separator: "&").map { pair -> (String, Int) in
                let kv = pair.split(separator: "=", maxSplits: 1)
                return (String(kv[0]), kv.count > 1 ? Int(kv[1]) ?? 0 : 0)
            },
            uniquingKeysWith: { $1 }
        )
        switch request.rawPath {
        case "/slow":
            writer.eventLoop.assumeIsolated().scheduleTask(in: .milliseconds(Int64(params["ms"] ?? 0))) {
                self.respondText("\(request.head.uri)")
            }
        case "/stream":
            writer.writeHead(status: .ok, headers: ["Content-Type": "text/plain"])
            self.streamChunk(0, of: params["chunks"] ?? 3, every: Int64(params["ms"] ?? 0))
        case "/echo":
            break  // answered in receiveEnd
        default:
            self.respondText("\(request.head.method.rawValue) \(request.head.uri)")
        }
    }

    private func streamChunk(_ index: Int, of count: Int, every ms: Int64) {
        guard let writer = self.writer, !self.cancelled else { return }
        guard index < count else {
            writer.end()
            return
        }
        writer.writeBody(.byteBuffer(ByteBuffer(string: "chunk-\(index)\n"))).assumeIsolated().whenSuccess {
            writer.eventLoop.assumeIsolated().scheduleTask(in: .milliseconds(ms)) {
                self.streamChunk(index + 1, of: count, every: ms)
            }
        }
    }

    private func respondText(_ text: String) {
        guard !self.cancelled else { return }
        self.writer?.respond(status: .ok, headers: ["Content-Type": "text/plain"], body: ByteBuffer(string: text))
    }

    func receiveBody(_ buffer: ByteBuffer) {
        var buffer = buffer
        self.body.writeBuffer(&buffer)
    }

    func receiveEnd() {
        if self.writer?.request.rawPath == "/echo" {
            self.writer?.respond(status: .ok, body: self.body)
        }
    }

    func cancel() { self.cancelled = true }
}

/// A server on 127.0.0.1, port 0, one event loop, for one test.
struct TestServer {
    let server: HTTPServer
    var port: Int { self.server.port }

    static func start(
        handlers: [any RequestHandler] = [TestHandler()],
        directory: String = "/tmp",
        busCapacity: Int = 65_536,
        configure: (inout ServerConfiguration) -> Void = { _ in }
    ) async throws -> TestServer {
        var configuration = ServerConfiguration()
        configuration.host = "127.0.0.1"
        configuration.port = 0
        configuration.threads = 1
        configuration.blockingThreads = 2
        configuration.directory = directory
        configuration.eventBufferCapacity = busCapacity
        configure(&configuration)
        return TestServer(server: try await HTTPServer.start(configuration: configuration, handlers: handlers))
    }

    func client(timeoutSeconds: Int = 10) throws -> RawClient {
        try RawClient(port: self.port, timeoutSeconds: timeoutSeconds)
    }

    func shutdown() async { await self.server.shutdown(grace: 1) }
}

/// Collects a server's events across drains, for assertions on sequences.
final class EventRecorder {
    private let bus: EventBus
    private(set) var events: [ServerEvent] = []

    init(_ server: TestServer) { self.bus = server.server.bus }

    @discardableResult
    func collect() -> [ServerEvent] {
        self.events += self.bus.drain().events
        return self.events
    }

    /// Waits until `predicate` holds for the collected events.
    func waitFor(seconds: Double = 10, _ predicate: ([ServerEvent]) -> Bool) -> Bool {
        waitUntil(seconds: seconds) { predicate(self.collect()) }
    }

    var finished: [RequestFinished] {
        self.events.compactMap { if case .requestFinished(let f) = $0 { f } else { nil } }
    }
    var closed: [ConnectionClosed] {
        self.events.compactMap { if case .connectionClosed(let c) = $0 { c } else { nil } }
    }
    var received: [RequestReceived] {
        self.events.compactMap { if case .requestReceived(let r) = $0 { r } else { nil } }
    }
    var bodies: [RequestBodyReceived] {
        self.events.compactMap { if case .requestBody(let b) = $0 { b } else { nil } }
    }
}
