import ServeEngine

/// Everything the dashboard knows about one request, in flight or finished.
public struct RequestRecord: Sendable, Equatable {
    public let id: RequestID
    public var method: String
    public var target: String
    public var version: String
    public var peer: String
    public var requestHeaders: HeaderFields
    /// The request's body, once it has ended; `nil` for none (or not seen).
    public var requestBody: RequestBodyReceived?
    public var receivedAt: EventTime
    /// Set once the response head is written.
    public var status: Int?
    public var reason: String?
    public var responseHeaders: HeaderFields?
    /// The first bytes of a response body built in memory (error page, listing, CGI output).
    public var responseBody: ResponseBodySent?
    /// Why the response was an error page; for a request that was not parsed, what had arrived.
    public var problem: RequestProblem?
    public var bytesSent: Int64 = 0
    public var expectedBytes: Int64?
    public var durationNanoseconds: Int64?
    /// `nil` while in flight.
    public var outcome: RequestOutcome?
    /// Whether the request's headers were seen (its `requestReceived` was applied). A record made
    /// from the outcome alone has none to show: in a flood the server publishes only outcomes
    /// (`no detail`) and the dashboard may skip a request's first events (`unlisted`).
    public var headersKept: Bool

    public init(received: RequestReceived) {
        self.id = received.id
        self.method = received.method
        self.target = received.target
        self.version = received.version
        self.peer = received.peer
        self.requestHeaders = received.headers
        self.receivedAt = received.time
        self.headersKept = true
    }

    /// A record for a request whose `requestReceived` event was dropped or never sent (a malformed request).
    public init(finished: RequestFinished) {
        self.id = finished.id
        self.method = finished.method
        self.target = finished.target
        self.version = finished.version
        self.peer = finished.peer
        self.requestHeaders = HeaderFields([])
        self.receivedAt = EventTime(nanosecondsSinceEpoch: finished.time.nanosecondsSinceEpoch - finished.durationNanoseconds)
        self.headersKept = false
        self.apply(finished)
    }

    public var isInFlight: Bool { self.outcome == nil }

    /// The request was not parsed (the decoder rejected it, or its head never ended): what arrived
    /// is in `problem.received`, and there are no headers.
    public var isUnparsed: Bool { self.problem?.received != nil }

    /// The status for a table cell: the code, `…` while no response has started, `-` for a request
    /// that ended without one (the client left first; python's log writes `-` too).
    public var statusText: String {
        self.status.map(String.init) ?? (self.isInFlight ? "…" : "-")
    }

    /// The fraction of the body sent, when its size is known.
    public var progress: Double? {
        guard let expected = self.expectedBytes, expected > 0 else { return nil }
        return min(1, Double(self.bytesSent) / Double(expected))
    }

    mutating func apply(_ started: ResponseStarted) {
        self.status = started.status
        self.reason = started.reason
        self.responseHeaders = started.headers
        self.expectedBytes = started.expectedBodyBytes
        self.problem = started.problem
        // A request that was not parsed is listed by the target of its request line, if it has one.
        if self.target == "-", let problem = started.problem, !problem.receivedIncludesEarlierRequests,
            let received = problem.received, let target = Self.requestLineTarget(received)
        {
            self.target = target
        }
    }

    /// The second word of a request line (`METHOD SP target SP …`), as text, when the line has one.
    static func requestLineTarget(_ bytes: [UInt8]) -> String? {
        let line = bytes.prefix { $0 != UInt8(ascii: "\r") && $0 != UInt8(ascii: "\n") }
        let words = line.split(separator: UInt8(ascii: " "), maxSplits: 2, omittingEmptySubsequences: false)
        // Only after a method token: binary (a TLS handshake) has no request line to speak of.
        guard words.count >= 2, !words[0].isEmpty, words[0].allSatisfy(ByteClass.isToken), !words[1].isEmpty else { return nil }
        return String(decoding: words[1], as: UTF8.self)
    }

    mutating func apply(_ finished: RequestFinished) {
        if finished.status != 0 { self.status = finished.status }
        self.bytesSent = finished.bytesSent
        self.durationNanoseconds = finished.durationNanoseconds
        self.outcome = finished.outcome
    }
}

/// An open connection as the sessions panel shows it.
public struct Session: Sendable, Equatable {
    public let id: ConnectionID
    public let peer: String
    public let local: String
    public let openedAt: EventTime
    public var requests = 0
    public var bytes: Int64 = 0
    public var lastActivity: EventTime
    public var activeRequests = 0

    public var isActive: Bool { self.activeRequests > 0 }

    /// What the screen counts: finished requests and those still in flight, so a connection
    /// downloading its first file reads "1 req", not "0 req" beside the bytes it is moving.
    public var requestsSeen: Int { self.requests + self.activeRequests }

    /// Counts a finished request of this connection; `bytesBefore`: what its progress had counted.
    mutating func apply(_ finished: RequestFinished, bytesBefore: Int64) {
        self.requests += 1
        self.bytes += max(0, finished.bytesSent - bytesBefore)
        self.activeRequests = max(0, self.activeRequests - 1)
        self.lastActivity = finished.time
    }
}

/// A line of the log panel.
public struct LogEntry: Sendable, Equatable {
    public let time: EventTime
    public let level: LogLevel
    public let message: String
}

/// Latency percentiles, in nanoseconds.
public struct Percentiles: Sendable, Equatable {
    public var p50: Int64
    public var p95: Int64
    public var p99: Int64

    public init(p50: Int64, p95: Int64, p99: Int64) {
        self.p50 = p50
        self.p95 = p95
        self.p99 = p99
    }

    /// Nearest-rank percentiles of `samples`; `nil` when there are none.
    public static func of(_ samples: [Int64]) -> Percentiles? {
        guard !samples.isEmpty else { return nil }
        let sorted = samples.sorted()
        func rank(_ p: Double) -> Int64 {
            let index = Int((p * Double(sorted.count)).rounded(.up)) - 1
            return sorted[min(sorted.count - 1, max(0, index))]
        }
        return Percentiles(p50: rank(0.50), p95: rank(0.95), p99: rank(0.99))
    }
}

/// A fixed-capacity FIFO that drops its oldest element when full.
public struct Ring<Element: Sendable>: Sendable {
    public let capacity: Int
    private var storage: [Element] = []
    private var head = 0

    public init(capacity: Int) {
        self.capacity = max(1, capacity)
        self.storage.reserveCapacity(min(self.capacity, 1024))
    }

    public var count: Int { self.storage.count }
    public var isEmpty: Bool { self.storage.isEmpty }

    /// Returns the element dropped to make room, if one was.
    @discardableResult
    public mutating func append(_ element: Element) -> Element? {
        if self.storage.count < self.capacity {
            self.storage.append(element)
            return nil
        }
        let dropped = self.storage[self.head]
        self.storage[self.head] = element
        self.head = (self.head + 1) % self.capacity
        return dropped
    }

    /// Oldest first.
    public var elements: [Element] {
        Array(self.storage[self.head...] + self.storage[..<self.head])
    }

    public mutating func removeAll() {
        self.storage.removeAll(keepingCapacity: true)
        self.head = 0
    }
}
