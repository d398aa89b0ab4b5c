import NIOCore
import NIOHTTP1
import NIOPosix

/// A request as handlers see it: the decoded head plus where it came from.
public struct Request: Sendable {
    public let id: RequestID
    public let head: HTTPRequestHead
    public let peer: SocketAddress?
    public let local: SocketAddress?

    public init(id: RequestID, head: HTTPRequestHead, peer: SocketAddress?, local: SocketAddress?) {
        self.id = id
        self.head = head
        self.peer = peer
        self.local = local
    }

    public var method: HTTPMethod { self.head.method }
    /// The target's path part (before `?`), still percent-encoded.
    /// Searched as UTF-8: `?` and `#` are ASCII, and walking characters cost ~1 % of a request.
    public var rawPath: Substring {
        let uri = self.head.uri
        if let cut = uri.utf8.firstIndex(where: { $0 == UInt8(ascii: "?") || $0 == UInt8(ascii: "#") }) { return uri[..<cut] }
        return uri[...]
    }
    /// The query string without `?` (empty when there is none).
    public var query: Substring {
        let uri = self.head.uri
        guard let q = uri.utf8.firstIndex(of: UInt8(ascii: "?")) else { return "" }
        let end = uri.utf8[q...].firstIndex(of: UInt8(ascii: "#")) ?? uri.endIndex
        return uri[uri.utf8.index(after: q)..<end]
    }
}

/// What a handler may use besides the request: the served root as it was when the request arrived,
/// blocking-I/O helpers, and the event bus for log lines.
///
/// A class: each loop reuses one for its requests until the root changes (as a struct, copying its
/// fields in and out of every request cost ~2 % of a small request's CPU).
public final class HandlerEnvironment: Sendable {
    /// The document root, as an absolute path without a trailing slash (`/` itself excepted).
    public let root: DocumentRoot.Snapshot
    public let configuration: ServerConfiguration
    /// Runs blocking calls (open, stat, readdir) off the event loops.
    public let threadPool: NIOThreadPool
    public let fileIO: NonBlockingFileIO
    public let bus: EventBus
    /// The open-file cache of the request's event loop (`nil` on a loop the server does not own).
    let fileCache: OpenFileCache?

    init(
        root: DocumentRoot.Snapshot,
        configuration: ServerConfiguration,
        threadPool: NIOThreadPool,
        fileIO: NonBlockingFileIO,
        bus: EventBus,
        fileCache: OpenFileCache?
    ) {
        self.root = root
        self.configuration = configuration
        self.threadPool = threadPool
        self.fileIO = fileIO
        self.bus = bus
        self.fileCache = fileCache
    }
}

/// The seed's `do_<METHOD>` dispatch: each handler claims the requests it serves.
///
/// The engine asks its handlers in order; the first that returns a responder serves the request.
/// When none does, the engine answers 501 (RFC 9110 §15.6.2), as python's `BaseHTTPRequestHandler`
/// does for a missing `do_<METHOD>`.
public protocol RequestHandler: Sendable {
    /// A responder for `request`, or `nil` when this handler does not serve it.
    func responder(for request: Request, environment: HandlerEnvironment) -> (any RequestResponder)?
}

/// The work of answering one request. Lives on the connection's event loop; every call comes from it.
public protocol RequestResponder: AnyObject {
    /// Begins the response. The responder must eventually call `writer.end()`, `writer.respond(...)`
    /// or `writer.fail(...)`.
    func start(writer: ResponseWriter)
    /// A piece of the request body.
    func receiveBody(_ buffer: ByteBuffer)
    /// The request body is complete.
    func receiveEnd()
    /// The connection closed before the response ended: stop work and release resources.
    func cancel()
}

extension RequestResponder {
    public func receiveBody(_ buffer: ByteBuffer) {}
    public func receiveEnd() {}
    public func cancel() {}
}
