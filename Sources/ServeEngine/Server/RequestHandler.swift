import NIOCore
import NIOHTTP1
import NIOPosix

/// A request as handlers see it: the decoded head plus where it came from.
public struct Request: Sendable {
    public let id: RequestID
    public let head: HTTPRequestHead
    public let peer: SocketAddress?
    public let local: SocketAddress?
    /// Whether the head may hold a conditional or range field (`HeaderScan.mayHaveConditions`):
    /// `false` lets a file's answer skip `FilePlanner`'s lookups. `true` unless the connection
    /// scanned the fields.
    let mayHaveConditions: Bool

    public init(id: RequestID, head: HTTPRequestHead, peer: SocketAddress?, local: SocketAddress?) {
        self.init(id: id, head: head, peer: peer, local: local, mayHaveConditions: true)
    }

    init(id: RequestID, head: HTTPRequestHead, peer: SocketAddress?, local: SocketAddress?, mayHaveConditions: Bool) {
        self.id = id
        self.head = head
        self.peer = peer
        self.local = local
        self.mayHaveConditions = mayHaveConditions
    }

    public var method: HTTPMethod { self.head.method }
    /// The target's path part (before `?`), still percent-encoded; `/` for an absolute-form target
    /// without a path (`http://host`). Searched as UTF-8: `?` and `#` are ASCII, and walking characters
    /// cost ~1 % of a request.
    public var rawPath: Substring {
        let target = self.originForm
        func endsPath(_ byte: UInt8) -> Bool { byte == UInt8(ascii: "?") || byte == UInt8(ascii: "#") }
        // From the string's storage when it has one (NIO's targets do): the generic UTF-8 view
        // search cost ~500 instructions a request.
        let offset = target.utf8.withContiguousStorageIfAvailable { $0.firstIndex(where: endsPath) }
            ?? target.utf8.firstIndex(where: endsPath).map { target.utf8.distance(from: target.startIndex, to: $0) }
        let path = offset.map { target.prefix(upTo: target.utf8.index(target.startIndex, offsetBy: $0)) } ?? target
        return path.isEmpty ? "/" : path
    }
    /// The query string without `?` (empty when there is none).
    public var query: Substring {
        let target = self.originForm
        guard let q = target.utf8.firstIndex(of: UInt8(ascii: "?")) else { return "" }
        let end = target.utf8[q...].firstIndex(of: UInt8(ascii: "#")) ?? target.endIndex
        return target[target.utf8.index(after: q)..<end]
    }

    /// The target as origin-form (`/path?query`): an absolute-form target (`http://host/path?query`,
    /// which a server must accept, RFC 9112 §3.2.2) without its scheme and authority. A target in no
    /// form the engine serves is refused with 400 before any handler sees it (`Self.originFormStart`).
    var originForm: Substring {
        let uri = self.head.uri
        return uri[(Self.originFormStart(of: uri) ?? uri.startIndex)...]
    }

    /// The `host[:port]` of an absolute-form target (user info dropped), which RFC 9112 §3.2.2 says
    /// stands in for `Host`; `nil` for origin-form.
    var targetAuthority: Substring? {
        let uri = self.head.uri
        // Past `http://` or `https://`, which `originFormStart` has checked.
        guard uri.utf8.first != UInt8(ascii: "/"), let pathStart = Self.originFormStart(of: uri),
            let colon = uri.utf8.firstIndex(of: UInt8(ascii: ":"))
        else { return nil }
        let authority = uri[uri.utf8.index(colon, offsetBy: 3)..<pathStart]
        if let at = authority.lastIndex(of: "@") { return authority[authority.index(after: at)...] }
        return authority
    }

    /// Where the origin-form part of `target` starts: at once for `/path`, after `scheme://authority`
    /// for an `http` or `https` absolute-form target (scheme in any case); `nil` for any other form
    /// (`*`, `host:port`, `path` without a slash, other schemes), which this server does not serve.
    static func originFormStart(of target: String) -> String.Index? {
        let utf8 = target.utf8
        guard let first = utf8.first else { return nil }
        if first == UInt8(ascii: "/") { return target.startIndex }
        var index = utf8.startIndex
        for expected in "http".utf8 {
            guard index != utf8.endIndex, utf8[index] | 0x20 == expected else { return nil }
            index = utf8.index(after: index)
        }
        if index != utf8.endIndex, utf8[index] | 0x20 == UInt8(ascii: "s") { index = utf8.index(after: index) }
        for expected in "://".utf8 {
            guard index != utf8.endIndex, utf8[index] == expected else { return nil }
            index = utf8.index(after: index)
        }
        // The authority runs to the path, the query or the end; it may not be empty (RFC 9110 §4.2.1).
        let authorityStart = index
        while index != utf8.endIndex, utf8[index] != UInt8(ascii: "/"), utf8[index] != UInt8(ascii: "?"),
            utf8[index] != UInt8(ascii: "#")
        {
            index = utf8.index(after: index)
        }
        return index == authorityStart ? nil : index
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
    /// The connection closed before the response ended, or the request's body turned out broken
    /// before any of the response was written (the connection answers 400 itself): stop work,
    /// release resources and write nothing more.
    func cancel()
}

extension RequestResponder {
    public func receiveBody(_ buffer: ByteBuffer) {}
    public func receiveEnd() {}
    public func cancel() {}
}
