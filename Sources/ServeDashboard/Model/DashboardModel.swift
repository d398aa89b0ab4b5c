import ServeEngine

/// What the dashboard shows, changed only by `apply` (engine events) and `tick` (the clock).
///
/// Pure: no I/O, no terminal, time passed in, so every number on screen can be tested from an
/// event sequence. Totals come from the engine's exact counters; lists are bounded.
public struct DashboardModel: Sendable {
    /// Requests kept for the list and the detail view.
    public static let requestCapacity = 5_000
    public static let logCapacity = 500
    /// Durations kept for the percentiles.
    public static let latencyWindow = 2_000
    /// Request events applied in detail per drained batch. A bigger batch is a flood (the dashboard drains
    /// about 10 times a second, so this is ~6,000 events/s): only its newest events of this many get
    /// their detail; older requests in it are counted in `skippedRequests` and left out of the list,
    /// the status codes, the percentiles and the top lists. Totals stay exact (they come from the engine).
    public static let detailPerBatch = 600
    /// Seconds of rate history (the sparkline).
    public static let historySeconds = 60

    public private(set) var totals = ServerTotals()
    /// Events the bus dropped since start (detail lost; totals are still exact).
    public private(set) var droppedEvents = 0
    /// Finished requests whose detail the dashboard itself skipped during floods (see `detailPerBatch`).
    public private(set) var skippedRequests = 0
    public private(set) var state: ServerState = .starting
    public private(set) var listening: [String] = []
    public private(set) var root: String
    public let startedAt: EventTime
    public private(set) var now: EventTime

    public private(set) var requests = RequestLog(capacity: DashboardModel.requestCapacity)
    public private(set) var sessions: [ConnectionID: Session] = [:]
    /// How the newest closed connections ended (as many as requests are kept): a request's detail
    /// says when and why its connection closed, which is what a client that found its keep-alive
    /// connection gone wants to know.
    public private(set) var closedConnections: [ConnectionID: ConnectionClosed] = [:]
    private var closedOrder = Ring<ConnectionID>(capacity: DashboardModel.requestCapacity)
    public private(set) var log = Ring<LogEntry>(capacity: DashboardModel.logCapacity)
    /// Paths without their query, percent-decoded for reading (`Format.displayTarget`).
    public private(set) var topPaths: [String: Int] = [:]
    public private(set) var topClients: [String: Int] = [:]
    private var latencies = Ring<Int64>(capacity: DashboardModel.latencyWindow)
    public private(set) var latency: Percentiles?

    /// Per-second requests and bytes for the last minute, oldest first (complete seconds only).
    public private(set) var requestsPerSecondHistory: [Int] = []
    public private(set) var bytesPerSecondHistory: [Int64] = []
    private var lastSample: (second: Int64, requests: Int, bytes: Int64)?

    public init(root: String, listening: [String] = [], now: EventTime) {
        self.root = root
        self.listening = listening
        self.startedAt = now
        self.now = now
    }

    // MARK: Events

    /// Applies a drained batch: its events in time order, then the exact totals and drop count.
    public mutating func apply(_ batch: EventBus.Batch) {
        let count = batch.count
        if count <= Self.detailPerBatch {
            for event in batch.inTimeOrder { self.apply(event) }
        } else {
            // A flood: only the newest `detailPerBatch` events get detail. Of the older ones,
            // connections, logs and state always apply, and a request already on the list is
            // finished so it does not stay "in flight" forever; the rest are skipped (and counted).
            // Walked shard after shard, not merged by time: reading each event's time copies it
            // (retaining its strings), and merging a flood, even only its newest part, made the
            // dashboard thread 25-30 % dearer per request under wrk. At thousands of requests a
            // second the list is a blur; a calm batch, what a person reads, is in time order.
            let cutoff = count - Self.detailPerBatch
            var index = 0
            for shard in batch.shards {
                for event in shard {
                    defer { index += 1 }
                    if index < cutoff, self.skips(event) { continue }
                    self.apply(event)
                }
            }
        }
        self.totals = batch.totals
        self.droppedEvents = batch.droppedTotal
    }

    /// Whether an event before a flood's cutoff is skipped (counting a skipped outcome).
    private mutating func skips(_ event: ServerEvent) -> Bool {
        switch event {
        case .requestReceived, .requestBody, .responseBody, .responseStarted, .bodyProgress:
            return true
        // A request without detail is listed only when its outcome is applied, so it cannot be on
        // the list yet: no lookup for the bulk of a flood.
        case .requestFinished(let finished) where !finished.hadDetail || !self.requests.contains(finished.id):
            self.skippedRequests += 1
            return true
        default:
            return false
        }
    }

    public mutating func apply(_ event: ServerEvent) {
        switch event {
        case .connectionOpened(let opened):
            self.sessions[opened.id] = Session(
                id: opened.id,
                peer: opened.peer,
                local: opened.local,
                openedAt: opened.time,
                lastActivity: opened.time
            )
        case .connectionClosed(let closed):
            self.sessions[closed.id] = nil
            if let forgotten = self.closedOrder.append(closed.id) { self.closedConnections[forgotten] = nil }
            self.closedConnections[closed.id] = closed
        case .requestReceived(let received):
            self.requests.append(RequestRecord(received: received))
            self.sessions[received.id.connection]?.activeRequests += 1
            self.sessions[received.id.connection]?.lastActivity = received.time
        case .requestBody(let body):
            self.requests.update(body.id) { record in record.requestBody = body }
        case .responseBody(let body):
            self.requests.update(body.id) { record in record.responseBody = body }
        case .responseStarted(let started):
            self.requests.update(started.id) { record in record.apply(started) }
        case .bodyProgress(let progress):
            var delta: Int64 = 0
            self.requests.update(progress.id) { record in
                delta = progress.bytesSent - record.bytesSent
                record.bytesSent = progress.bytesSent
                if let expected = progress.expectedBodyBytes { record.expectedBytes = expected }
            }
            self.sessions[progress.id.connection]?.bytes += max(0, delta)
            self.sessions[progress.id.connection]?.lastActivity = progress.time
        case .requestFinished(let finished):
            self.finish(finished)
        case .serverStateChanged(let state, let listening, let time):
            self.state = state
            if !listening.isEmpty || state == .stopped { self.listening = listening }
            let message =
                switch state {
                case .running: "listening on " + listening.joined(separator: ", ")
                case .stopping: "stopping: new connections refused, in-flight responses finishing"
                case .stopped: "stopped listening"
                case .starting: "starting"
                }
            self.log.append(LogEntry(time: time, level: .info, message: message))
        case .rootChanged(_, let to, let time):
            self.root = to
            self.log.append(LogEntry(time: time, level: .info, message: "now serving \(to)"))
        case .log(let line):
            self.log.append(LogEntry(time: line.time, level: line.level, message: line.message))
        }
    }

    private mutating func finish(_ finished: RequestFinished) {
        var previousBytes: Int64 = 0
        // A request without detail had no `requestReceived`, so it is not listed yet: no lookup.
        let known =
            finished.hadDetail
            && self.requests.update(finished.id) { record in
                previousBytes = record.bytesSent
                record.apply(finished)
            }
        if !known { self.requests.append(RequestRecord(finished: finished)) }
        // One hash, the session changed in place (not copied out and back).
        if let index = self.sessions.index(forKey: finished.id.connection) {
            self.sessions.values[index].apply(finished, bytesBefore: previousBytes)
        }
        self.latencies.append(finished.durationNanoseconds)
        // Counted as shown: `/%2e%2e/x` and `/../x` read the same on screen, so they are one entry.
        Self.count(Format.displayTarget(Self.pathOf(finished.target)), in: &self.topPaths)
        Self.count(finished.peer, in: &self.topClients)
    }

    /// Bounded counting: past `topKeysLimit` keys, the less frequent half is forgotten. Halving (not
    /// "forget keys seen once") keeps it one pass per 2,048 new keys even when every key was seen
    /// twice (a scanner run twice over thousands of paths), and leaves room for a new hot path.
    private static func count(_ key: String, in counts: inout [String: Int]) {
        counts[key, default: 0] += 1
        guard counts.count > Self.topKeysLimit else { return }
        let kept = counts.sorted { $0.value > $1.value }.prefix(Self.topKeysLimit / 2)
        counts = Dictionary(uniqueKeysWithValues: kept.map { ($0.key, $0.value) })
    }

    static let topKeysLimit = 4_096

    /// The target without its query, searched as bytes: `firstIndex(of: Character)` walks grapheme
    /// clusters (~6 % of the dashboard thread's time under a flood, by `perf`).
    private static func pathOf(_ target: String) -> String {
        guard let cut = target.utf8.firstIndex(of: UInt8(ascii: "?")) else { return target }
        return String(target[..<cut])
    }

    // MARK: Clock

    /// Advances the clock: samples the totals once per second for rates and recomputes percentiles.
    public mutating func tick(now: EventTime) {
        self.now = now
        let second = now.secondsSinceEpoch
        guard let last = self.lastSample else {
            self.lastSample = (second, self.totals.requests, self.totals.bytesSent)
            return
        }
        guard second > last.second else { return }
        // One sample per elapsed second; the counts of a gap are spread evenly.
        let elapsed = Int(min(Int64(Self.historySeconds), second - last.second))
        let requests = self.totals.requests - last.requests
        let bytes = self.totals.bytesSent - last.bytes
        for i in 0..<elapsed {
            let share = i == elapsed - 1 ? requests - (requests / elapsed) * (elapsed - 1) : requests / elapsed
            let byteShare = i == elapsed - 1 ? bytes - (bytes / Int64(elapsed)) * Int64(elapsed - 1) : bytes / Int64(elapsed)
            self.requestsPerSecondHistory.append(share)
            self.bytesPerSecondHistory.append(byteShare)
        }
        if self.requestsPerSecondHistory.count > Self.historySeconds {
            self.requestsPerSecondHistory.removeFirst(self.requestsPerSecondHistory.count - Self.historySeconds)
            self.bytesPerSecondHistory.removeFirst(self.bytesPerSecondHistory.count - Self.historySeconds)
        }
        self.lastSample = (second, self.totals.requests, self.totals.bytesSent)
        self.latency = Percentiles.of(self.latencies.elements)
    }

    // MARK: Derived values

    /// Requests in the last complete second.
    public var requestsPerSecond: Int { self.requestsPerSecondHistory.last ?? 0 }
    /// Bytes in the last complete second.
    public var bytesPerSecond: Int64 { self.bytesPerSecondHistory.last ?? 0 }
    /// Mean requests per second over the history window.
    public var averageRequestsPerSecond: Double {
        self.requestsPerSecondHistory.isEmpty
            ? 0 : Double(self.requestsPerSecondHistory.reduce(0, +)) / Double(self.requestsPerSecondHistory.count)
    }
    public var averageBytesPerSecond: Double {
        self.bytesPerSecondHistory.isEmpty
            ? 0 : Double(self.bytesPerSecondHistory.reduce(0, +)) / Double(self.bytesPerSecondHistory.count)
    }

    public var uptimeSeconds: Int64 { max(0, (self.now.nanosecondsSinceEpoch - self.startedAt.nanosecondsSinceEpoch) / 1_000_000_000) }

    /// Sessions, oldest first.
    public var sessionList: [Session] { self.sessions.values.sorted { $0.id < $1.id } }

    /// The `limit` most frequent keys, most frequent first, ties by key.
    /// One pass keeping the best few: each frame asks for three of up to 4,096 keys (0.03 ms, where
    /// sorting them all took 1.07 ms, release build).
    public static func top(_ counts: [String: Int], limit: Int) -> [(key: String, count: Int)] {
        func before(_ a: (key: String, count: Int), _ b: (key: String, count: Int)) -> Bool {
            a.count != b.count ? a.count > b.count : a.key < b.key
        }
        var best: [(key: String, count: Int)] = []
        for (key, count) in counts {
            let entry = (key: key, count: count)
            if best.count == limit, let last = best.last, !before(entry, last) { continue }
            best.insert(entry, at: best.firstIndex { before(entry, $0) } ?? best.count)
            if best.count > limit { best.removeLast() }
        }
        return best
    }

    /// Forgets the listed requests (the `c` key); totals stay.
    public mutating func clearRequests() {
        let inFlight = self.requests.all.filter(\.isInFlight)
        self.requests.removeAll()
        for record in inFlight { self.requests.append(record) }
    }

    /// A line in the log panel from the dashboard itself (a refused root, a failed restart).
    public mutating func note(_ message: String, level: LogLevel = .info) {
        self.log.append(LogEntry(time: self.now, level: level, message: message))
    }
}
