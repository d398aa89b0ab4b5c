import Atomics
import NIOConcurrencyHelpers
import NIOCore
import NIOPosix

/// What every connection of one server shares: configuration, handlers, the bus, the root.
final class ServerContext: Sendable {
    let configuration: ServerConfiguration
    let bus: EventBus
    let handlers: [any RequestHandler]
    let root: DocumentRoot
    let registry = ConnectionRegistry()
    let threadPool: NIOThreadPool
    let fileIO: NonBlockingFileIO
    /// Set while a graceful stop is under way, so closing connections report `serverStopping`.
    let stopping = ManagedAtomic<Bool>(false)
    private let nextConnectionID = ManagedAtomic<UInt64>(0)
    private let loops: [ObjectIdentifier: LoopState]

    init(
        configuration: ServerConfiguration,
        bus: EventBus,
        handlers: [any RequestHandler],
        root: DocumentRoot,
        threadPool: NIOThreadPool,
        eventLoops: [EventLoop]
    ) {
        self.configuration = configuration
        self.bus = bus
        self.handlers = handlers
        self.root = root
        self.threadPool = threadPool
        self.fileIO = NonBlockingFileIO(threadPool: threadPool)
        var loops: [ObjectIdentifier: LoopState] = [:]
        for (index, loop) in eventLoops.enumerated() {
            loops[ObjectIdentifier(loop)] = LoopState(
                events: bus.publisher(shard: index + 1),
                server: configuration.serverSoftware,
                fileCache: OpenFileCache(eventLoop: loop, busyWindowNanoseconds: configuration.fileCheckBusyWindowNanoseconds),
                timers: ConnectionTimers(eventLoop: loop, timeoutNanoseconds: configuration.timeoutNanoseconds),
                detailBudget: configuration.requestDetailPerSecond.map { DetailBudget(perSecond: $0 / eventLoops.count) }
            )
        }
        self.loops = loops
    }

    func makeConnectionID() -> ConnectionID {
        ConnectionID(self.nextConnectionID.wrappingIncrementThenLoad(ordering: .relaxed))
    }

    /// What the connections of `loop` share; a private one without a file cache if the loop is not
    /// ours (embedded tests).
    func loopState(for loop: EventLoop) -> LoopState {
        self.loops[ObjectIdentifier(loop)]
            ?? LoopState(
                events: self.bus.publisher(shard: 0),
                server: self.configuration.serverSoftware,
                fileCache: nil,
                timers: ConnectionTimers(eventLoop: loop, timeoutNanoseconds: self.configuration.timeoutNanoseconds),
                detailBudget: self.configuration.requestDetailPerSecond.map { DetailBudget(perSecond: $0) }
            )
    }

    /// What a handler gets for one request: the root as it is now, and the connection's loop's cache.
    /// The loop keeps the last one made and reuses it while the root is the same. Call on `loop`'s
    /// event loop.
    func environment(loop: LoopState?) -> HandlerEnvironment {
        // Nearly always: the root has not changed since this loop's last request. Known from an
        // atomic load alone; the root's lock and its path string are shared by all loops, and taking
        // them per request moved their cache lines between cores.
        let changes = self.root.changeCount
        if let loop, let kept = loop.environment, loop.environmentRootChanges == changes { return kept }
        let root = self.root.snapshot
        loop?.environmentRootChanges = changes
        if let kept = loop?.environment, kept.root == root { return kept }
        let made = HandlerEnvironment(
            root: root,
            configuration: self.configuration,
            threadPool: self.threadPool,
            fileIO: self.fileIO,
            bus: self.bus,
            fileCache: loop?.fileCache
        )
        loop?.environment = made
        return made
    }

    /// Closes every cached file, each on its own loop (a stop, or descriptors running out).
    func clearFileCaches() -> [EventLoopFuture<Void>] {
        self.loops.values.compactMap(\.fileCache).map { cache in cache.eventLoop.submit { cache.removeAll() } }
    }
}

/// What the connections of one event loop share, used only on that loop: one lookup per connection.
final class LoopState: @unchecked Sendable {
    /// The loop's own shard of the bus.
    let events: EventPublisher
    let dateCache: DateHeaderCache
    let fileCache: OpenFileCache?
    let addressNames = AddressNames()
    let timers: ConnectionTimers
    /// Which requests of this loop publish their live detail (`nil`: all of them).
    var detailBudget: DetailBudget?
    /// The handler environment of this loop's latest request (see `ServerContext.environment`).
    var environment: HandlerEnvironment?

    /// The handler environment's root as of `DocumentRoot.changeCount` this many changes.
    var environmentRootChanges = -1

    init(
        events: EventPublisher,
        server: String,
        fileCache: OpenFileCache?,
        timers: ConnectionTimers,
        detailBudget: DetailBudget? = nil
    ) {
        self.events = events
        self.dateCache = DateHeaderCache(server: server)
        self.fileCache = fileCache
        self.timers = timers
        self.detailBudget = detailBudget
    }
}

/// The open connections, so a stop can reach and, after the grace period, close them.
final class ConnectionRegistry: Sendable {
    private struct State {
        var channels: [ConnectionID: Channel] = [:]
        var emptyWaiters: [EventLoopPromise<Void>] = []
    }

    private let state = NIOLockedValueBox(State())

    func add(_ id: ConnectionID, _ channel: Channel) {
        self.state.withLockedValue { $0.channels[id] = channel }
    }

    func remove(_ id: ConnectionID) {
        let waiters: [EventLoopPromise<Void>] = self.state.withLockedValue { state in
            state.channels[id] = nil
            guard state.channels.isEmpty else { return [] }
            defer { state.emptyWaiters.removeAll() }
            return state.emptyWaiters
        }
        for waiter in waiters { waiter.succeed() }
    }

    var channels: [Channel] { self.state.withLockedValue { Array($0.channels.values) } }
    var count: Int { self.state.withLockedValue { $0.channels.count } }

    /// A future that succeeds once no connection is open.
    func whenEmpty(on loop: EventLoop) -> EventLoopFuture<Void> {
        let promise = loop.makePromise(of: Void.self)
        let isEmpty: Bool = self.state.withLockedValue { state in
            if state.channels.isEmpty { return true }
            state.emptyWaiters.append(promise)
            return false
        }
        if isEmpty { promise.succeed() }
        return promise.futureResult
    }
}
