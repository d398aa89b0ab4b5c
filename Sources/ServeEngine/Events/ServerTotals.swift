/// Exact counters for the whole life of a server, kept apart from the bounded event buffer.
///
/// Every request that gets a status is counted exactly once, whatever the buffer drops.
public struct ServerTotals: Sendable, Equatable {
    /// Finished requests, whatever their outcome.
    public var requests: Int = 0
    /// Finished requests by status class: index 1 is 1xx, ..., 5 is 5xx (index 0 is unused).
    public var byStatusClass: [Int] = [0, 0, 0, 0, 0, 0]
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

    /// Adds `other`'s counts to these (the bus sums its shards).
    mutating func add(_ other: ServerTotals) {
        self.requests += other.requests
        for index in self.byStatusClass.indices { self.byStatusClass[index] += other.byStatusClass[index] }
        self.aborted += other.aborted
        self.failed += other.failed
        self.bytesSent += other.bytesSent
        self.requestsWithoutDetail += other.requestsWithoutDetail
        self.connectionsOpen += other.connectionsOpen
        self.connectionsTotal += other.connectionsTotal
    }

    /// Requests finished with a status in `100 * statusClass ..< 100 * (statusClass + 1)`.
    public func count(statusClass: Int) -> Int {
        (1...5).contains(statusClass) ? self.byStatusClass[statusClass] : 0
    }
}
