/// Exact counters for the whole life of a server, kept apart from the bounded event buffer.
///
/// Every request that gets a status is counted exactly once, whatever the buffer drops.
public struct ServerTotals: Sendable, Equatable {
    /// Finished requests, whatever their outcome.
    public var requests: Int = 0
    /// Finished requests by status code: index `code - 100` for 100 ... 599. A status outside (none
    /// sent, or a CGI script's odd one) is counted in `requests` only. Exact like the rest, so the
    /// dashboard's per-code line adds up to its per-class counts however much detail a flood cost.
    /// Stored inline, not on the heap: the totals are copied at every drain, and as a 4 KiB array
    /// made anew for each batch they made RSS creep under the soak's mixed traffic (+12 % in 15 s).
    public var byStatusCode = InlineArray<500, Int>(repeating: 0)
    /// Requests the client abandoned before the response was complete.
    public var aborted: Int = 0
    /// Requests the server failed to complete.
    public var failed: Int = 0
    /// Body bytes confirmed written to sockets, updated as transfers progress.
    public var bytesSent: Int64 = 0
    /// Finished requests whose live detail was not published (a flood over the detail budget, or no
    /// dashboard to show it): the dashboard lists them from their outcome, without headers.
    public var requestsWithoutDetail: Int = 0
    public var connectionsOpen: Int = 0
    public var connectionsTotal: Int = 0

    public init() {}

    /// Written out because `InlineArray` is not `Equatable`: a field added above belongs here too.
    public static func == (lhs: ServerTotals, rhs: ServerTotals) -> Bool {
        lhs.requests == rhs.requests && lhs.aborted == rhs.aborted && lhs.failed == rhs.failed
            && lhs.bytesSent == rhs.bytesSent && lhs.requestsWithoutDetail == rhs.requestsWithoutDetail
            && lhs.connectionsOpen == rhs.connectionsOpen && lhs.connectionsTotal == rhs.connectionsTotal
            && lhs.byStatusCode.indices.allSatisfy { lhs.byStatusCode[$0] == rhs.byStatusCode[$0] }
    }

    /// Adds `other`'s counts to these (the bus sums its shards).
    mutating func add(_ other: ServerTotals) {
        self.requests += other.requests
        for index in self.byStatusCode.indices { self.byStatusCode[index] += other.byStatusCode[index] }
        self.aborted += other.aborted
        self.failed += other.failed
        self.bytesSent += other.bytesSent
        self.requestsWithoutDetail += other.requestsWithoutDetail
        self.connectionsOpen += other.connectionsOpen
        self.connectionsTotal += other.connectionsTotal
    }

    /// Counts a finished request's status.
    mutating func count(status: Int) {
        if (100...599).contains(status) { self.byStatusCode[status - 100] += 1 }
    }

    /// Requests finished with a status in `100 * statusClass ..< 100 * (statusClass + 1)`.
    public func count(statusClass: Int) -> Int {
        guard (1...5).contains(statusClass) else { return 0 }
        let first = (statusClass - 1) * 100
        return (first..<first + 100).reduce(0) { $0 + self.byStatusCode[$1] }
    }

    /// The status codes answered so far, lowest first, with how many requests got each.
    public var statusCodes: [(status: Int, count: Int)] {
        self.byStatusCode.indices.compactMap { self.byStatusCode[$0] > 0 ? ($0 + 100, self.byStatusCode[$0]) : nil }
    }
}
