#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

import Atomics
import NIOConcurrencyHelpers
import NIOCore
import NIOHTTP1
import NIOPosix

/// The HTTP server: the seed's `HTTPServer`/`ThreadingHTTPServer` on NIO event loops.
///
/// `start` binds and returns once listening; `stopListening` and `listen` pause and resume serving
/// on the same address (the dashboard's `S` key); `shutdown` stops for good. A stop is graceful:
/// the listener closes, idle keep-alive connections close at once, in-flight responses finish, and
/// whatever is left after the grace period is closed.
public final class HTTPServer: Sendable {
    /// Why the server could not start or listen.
    public enum StartError: Error, CustomStringConvertible {
        case addressInUse(host: String, port: Int)
        case cannotBind(host: String, port: Int, reason: String)
        case badRoot(DocumentRoot.ValidationError)
        /// The process may open fewer files than the event loops need to start.
        case tooFewDescriptors(loops: Int, needed: Int, limit: Int)

        public var description: String {
            switch self {
            case .addressInUse(let host, let port):
                "cannot listen on \(host) port \(port): address already in use (try --port 0 to pick a free port)"
            case .cannotBind(let host, let port, let reason):
                "cannot listen on \(host) port \(port): \(reason)"
            case .badRoot(let error):
                "cannot serve \(error)"
            case .tooFewDescriptors(let loops, let needed, let limit):
                "\(loops) event loops need at least \(needed) open files and this process may open \(limit) "
                    + "(raise it with ulimit -n, or use fewer --threads)"
            }
        }
    }

    public let configuration: ServerConfiguration
    /// Where the engine's events go.
    public let bus: EventBus
    /// The served folder.
    public let root: DocumentRoot
    private let context: ServerContext
    private let group: MultiThreadedEventLoopGroup
    private let threadPool: NIOThreadPool
    private let listener: NIOLockedValueBox<Listener>

    private struct Listener {
        var channels: [Channel] = []
        var addresses: [SocketAddress] = []
        /// The port actually bound, kept so a restart after `stopListening` reuses it.
        var port: Int
        var state: ServerState = .starting
    }

    /// The addresses the server is listening on (empty while stopped).
    public var boundAddresses: [SocketAddress] { self.listener.withLockedValue { $0.addresses } }

    /// The listening addresses as `host:port` text (`[::]:8000`), for people.
    public var listeningAddresses: [String] {
        self.boundAddresses.map { HTTPConnectionHandler.describe($0, withPort: true) }
    }

    /// URLs people can open to reach the server: for a wildcard address (`::`, `0.0.0.0`) `localhost`
    /// and this machine's addresses on its networks (what a presenter reads out, or types on a
    /// phone); otherwise the address itself.
    public var reachableURLs: [String] {
        let devices = (try? System.enumerateDevices())?.compactMap(\.address) ?? []
        return Self.reachableURLs(bound: self.boundAddresses, interfaces: devices)
    }

    /// `reachableURLs` for these bound addresses and interface addresses. Loopback and IPv6
    /// link-local addresses (usable only with a zone) are left out of the network ones; on `::`,
    /// IPv4 addresses count too (Linux's listeners accept both unless told otherwise).
    static func reachableURLs(bound: [SocketAddress], interfaces: [SocketAddress]) -> [String] {
        var urls: [String] = []
        func add(_ host: String, port: Int) {
            let url = "http://" + (host.contains(":") ? "[\(host)]" : host) + ":\(port)/"
            if !urls.contains(url) { urls.append(url) }
        }
        for address in bound {
            guard let port = address.port, let ip = address.ipAddress else { continue }
            let wildcardV6 = ip == "::", wildcardV4 = ip == "0.0.0.0"
            guard wildcardV6 || wildcardV4 else {
                add(ip, port: port)
                continue
            }
            add("localhost", port: port)
            for interface in interfaces {
                guard let found = interface.ipAddress else { continue }
                switch interface {
                case .v4 where !found.hasPrefix("127."):
                    add(found, port: port)
                case .v6 where wildcardV6 && found != "::1" && !found.lowercased().hasPrefix("fe80:"):
                    add(found, port: port)
                default:
                    continue
                }
            }
        }
        return urls
    }

    /// The open connections' channels (for tests).
    var connectionChannels: [Channel] { self.context.registry.channels }

    /// The listening channels (for tests).
    var listeningChannels: [Channel] { self.listener.withLockedValue { $0.channels } }

    /// The port in use (the real one when 0 was asked for).
    public var port: Int { self.listener.withLockedValue { $0.port } }

    public var state: ServerState { self.listener.withLockedValue { $0.state } }

    /// Exact totals since start.
    public var totals: ServerTotals { self.bus.totals }

    private init(configuration: ServerConfiguration, handlers: [any RequestHandler], bus: EventBus) throws {
        let root: DocumentRoot
        do {
            root = try DocumentRoot(path: configuration.directory)
        } catch {
            throw StartError.badRoot(error)
        }
        self.configuration = configuration
        self.bus = bus
        self.root = root
        let threads = configuration.threads > 0 ? configuration.threads : System.coreCount
        // NIO stops the process when a loop cannot get its descriptors (epoll, eventfd, timerfd):
        // say so first. The margin: the listener, standard streams, the terminal, some connections.
        let needed = 3 * threads + 32
        let limit = Descriptor.openFileLimit
        if limit < needed { throw StartError.tooFewDescriptors(loops: threads, needed: needed, limit: limit) }
        self.group = MultiThreadedEventLoopGroup(numberOfThreads: threads)
        let blocking = configuration.blockingThreads > 0 ? configuration.blockingThreads : max(2, 2 * threads)
        self.threadPool = NIOThreadPool(numberOfThreads: blocking)
        self.threadPool.start()
        self.context = ServerContext(
            configuration: configuration,
            bus: bus,
            handlers: handlers,
            root: root,
            threadPool: self.threadPool,
            eventLoops: Array(self.group.makeIterator())
        )
        self.listener = NIOLockedValueBox(Listener(port: configuration.port))
    }

    /// Validates the root, binds and starts serving.
    /// - Parameter handlers: asked in order for each request (python's `do_<METHOD>` dispatch).
    public static func start(
        configuration: ServerConfiguration,
        handlers: [any RequestHandler],
        bus: EventBus? = nil
    ) async throws -> HTTPServer {
        let server = try HTTPServer(
            configuration: configuration,
            handlers: handlers,
            bus: bus
                ?? EventBus(
                    capacity: configuration.eventBufferCapacity,
                    shards: (configuration.threads > 0 ? configuration.threads : System.coreCount) + 1
                )
        )
        do {
            try await server.listen()
        } catch {
            await server.releaseResources()
            throw error
        }
        return server
    }

    /// Starts listening again after `stopListening`, on the same address and port.
    public func listen() async throws {
        let (host, port): (String, Int) = self.listener.withLockedValue { ($0.state == .running ? nil : (self.configuration.host, $0.port)) } ?? ("", -1)
        guard port >= 0 else { return }
        self.context.stopping.store(false, ordering: .relaxed)
        let channel: Channel
        do {
            do {
                channel = try await self.makeBootstrap().bind(host: host, port: port).get()
            } catch let error as IOError
                where host == "::" && [EAFNOSUPPORT, EADDRNOTAVAIL].contains(error.errnoCode)
            {
                // No IPv6 on this machine: "every interface" means every IPv4 interface.
                channel = try await self.makeBootstrap().bind(host: "0.0.0.0", port: port).get()
            }
        } catch let error as IOError where error.errnoCode == EADDRINUSE {
            throw StartError.addressInUse(host: host, port: port)
        } catch let error as IOError {
            var reason = Self.describe(errno: error.errnoCode)
            if error.errnoCode == EADDRNOTAVAIL { reason += " (\(host) is not an address of this machine)" }
            throw StartError.cannotBind(host: host, port: port, reason: reason)
        } catch let error as SocketAddressError.UnknownHost {
            let reason = "no address found for \(host) (\(error.errorDescription.lowercased())); give an IP address such as 127.0.0.1 or ::"
            throw StartError.cannotBind(host: host, port: port, reason: reason)
        } catch {
            throw StartError.cannotBind(host: host, port: port, reason: "\(error)")
        }
        let address = channel.localAddress
        let listening: [String] = self.listener.withLockedValue { listener in
            listener.channels = [channel]
            listener.addresses = address.map { [$0] } ?? []
            if let bound = address?.port { listener.port = bound }
            listener.state = .running
            return listener.addresses.map { HTTPConnectionHandler.describe($0, withPort: true) }
        }
        self.bus.publish(.serverStateChanged(.running, listening: listening, time: .now()))
    }

    /// Stops accepting and drains: idle connections close now, in-flight responses get
    /// `grace` (default: the configured grace period) to finish, then the rest are closed.
    /// The event loops stay up, so `listen()` can resume.
    public func stopListening(grace: Double? = nil) async {
        let channels: [Channel] = self.listener.withLockedValue { listener in
            guard listener.state == .running else { return [] }
            listener.state = .stopping
            defer {
                listener.channels = []
                listener.addresses = []
            }
            return listener.channels
        }
        guard !channels.isEmpty else { return }
        self.bus.publish(.serverStateChanged(.stopping, listening: [], time: .now()))
        self.context.stopping.store(true, ordering: .relaxed)
        for channel in channels { try? await channel.close() }
        for connection in self.context.registry.channels {
            connection.pipeline.fireUserInboundEventTriggered(ChannelShouldQuiesceEvent())
        }
        let loop = self.group.next()
        let graceSeconds = grace ?? self.configuration.shutdownGraceSeconds
        let deadline = loop.scheduleTask(in: .nanoseconds(WallClock.nanoseconds(seconds: graceSeconds))) {}
        let drained = self.context.registry.whenEmpty(on: loop)
        // Whichever comes first: every connection closed, or the grace period ran out.
        let first = loop.makePromise(of: Void.self)
        drained.cascade(to: first)
        deadline.futureResult.cascade(to: first)
        try? await first.futureResult.get()
        deadline.cancel()
        let leftovers = self.context.registry.channels
        if !leftovers.isEmpty {
            self.bus.publish(
                .log(LogLine(level: .warning, message: "closing \(leftovers.count) connection(s) still busy after \(graceSeconds)s"))
            )
            for connection in leftovers { connection.close(promise: nil) }
            try? await self.context.registry.whenEmpty(on: loop).get()
        }
        // A stopped server keeps no file open.
        for cleared in self.context.clearFileCaches() { try? await cleared.get() }
        self.listener.withLockedValue { $0.state = .stopped }
        self.bus.publish(.serverStateChanged(.stopped, listening: [], time: .now()))
    }

    /// Stops gracefully and releases the event loops and threads. The server cannot be restarted.
    public func shutdown(grace: Double? = nil) async {
        await self.stopListening(grace: grace)
        await self.releaseResources()
    }

    private func releaseResources() async {
        try? await self.group.shutdownGracefully()
        try? await self.threadPool.shutdownGracefully()
    }

    /// Serves `path` from now on; requests already under way finish from the old root.
    /// Throws, keeping the old root, when `path` is not a readable folder.
    public func changeRoot(to path: String) throws(DocumentRoot.ValidationError) {
        let (old, new) = try self.root.change(to: path)
        self.bus.publish(.rootChanged(from: old.path, to: new.path, time: .now()))
    }

    private func makeBootstrap() -> ServerBootstrap {
        let context = self.context
        let configuration = self.configuration
        var limits = NIOHTTPDecoderLimitConfiguration()
        // The request line counts as one field for NIO; headers are capped like python's.
        limits.maxHeaderFieldSize = max(configuration.maxRequestLineBytes, configuration.maxHeaderFieldBytes)
        limits.maxHeaderListSize = configuration.maxHeaderBytes + configuration.maxRequestLineBytes
        limits.maxHeaderFieldCount = configuration.maxHeaderCount
        let decoderLimits = limits
        return ServerBootstrap(group: self.group)
            .serverChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(AcceptErrorReporter(server: context))
                }
            }
            .serverChannelOption(.backlog, value: 512)
            // Up to 16 accepts per wakeup of the listener instead of NIO's 4: with many clients
            // connecting at once (bench scenario b) ~5-15 % less CPU per connection.
            .serverChannelOption(.maxMessagesPerRead, value: 16)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            // Inherited by accepted connections on Linux (see `configureOptions`).
            .serverChannelOption(Self.notSentLowatOption, value: Self.notSentLowat)
            // The connection's options are set in the initializer, synchronously: as
            // `childChannelOption`s NIO applies each through a chain of futures, which cost ~40
            // allocations per accepted connection (bench scenario b).
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try Self.configureOptions(channel)
                    try Self.configurePipeline(channel.pipeline.syncOperations, context: context, limits: decoderLimits)
                }
            }
    }

    /// The socket options of an accepted connection. On Linux an accepted socket inherits its TCP
    /// options from the listener, so `TCP_NODELAY` (set there by NIO) and `TCP_NOTSENT_LOWAT` are set
    /// once on the listener, not with two `setsockopt` calls per connection (~3 % of bench scenario b).
    static func configureOptions(_ channel: Channel) throws {
        guard let options = channel.syncOptions else { return }
        #if !os(Linux)
        try options.setOption(.tcpOption(.tcp_nodelay), value: 1)
        try options.setOption(Self.notSentLowatOption, value: Self.notSentLowat)
        #endif
        try options.setOption(.allowRemoteHalfClosure, value: true)
        // A connection keeps NIO's 4 reads per wakeup (up to 256 KiB): all of a wakeup's bytes are
        // decoded at once, and a client that pipelines without reading its answers left up to
        // 16 x 64 KiB of requests decoded and waiting (`clientIsBehind`), ~1.8 MB a connection.
    }

    /// The per-connection pipeline, assembled in one place: raw-byte observer, NIO's request decoder
    /// (with the server's limits), then our connection handler, which also orders pipelined requests
    /// and writes responses as bytes (`ResponseEncoding`). NIO's response encoder and pipelining
    /// handler were here until 2026-12-02; see the README's Performance section.
    static func configurePipeline(
        _ pipeline: ChannelPipeline.SynchronousOperations,
        context: ServerContext,
        limits: NIOHTTPDecoderLimitConfiguration
    ) throws {
        let tracker = InboundActivityTracker(keepsReceived: context.configuration.requestDetailPerSecond != 0)
        try pipeline.addHandler(tracker)
        // Parser errors reach the connection handler, which answers them with python's status codes.
        let decoder = Self.makeDecoder(limits: limits)
        try pipeline.addHandler(decoder)
        try pipeline.addHandler(HTTPConnectionHandler(server: context, tracker: tracker, decoder: decoder, limits: limits))
    }

    /// NIO's request decoder. Bytes it has not parsed when it is removed go to the next handler:
    /// that is a fresh decoder (`HTTPConnectionHandler.replaceDecoder`), and a removal is the only
    /// time they are handed on (on EOF they are not).
    static func makeDecoder(limits: NIOHTTPDecoderLimitConfiguration) -> ByteToMessageHandler<HTTPRequestDecoder> {
        ByteToMessageHandler(HTTPRequestDecoder(leftOverBytesStrategy: .forwardBytes, limitConfiguration: limits))
    }

    /// `TCP_NOTSENT_LOWAT` (Linux 3.12+, macOS); not exported by Glibc's Swift module.
    #if os(Linux)
    static let notSentLowatOption = ChannelOptions.Types.SocketOption.tcpOption(.init(rawValue: 25))
    #else
    static let notSentLowatOption = ChannelOptions.Types.SocketOption.tcpOption(.init(rawValue: 0x201))
    #endif
    /// A connection is writable again once less than this is unsent, instead of after a third of a
    /// multi-MB autotuned buffer drains: slow downloads then report progress several times a second.
    /// A connection whose client proves fast gets a larger limit (`SendBufferPolicy`).
    static let notSentLowat = SocketOptionValue(SendBufferPolicy.small)

    private static func describe(errno code: CInt) -> String {
        guard let message = strerror(code) else { return "error \(code)" }
        return String(cString: message).lowercased()
    }
}
