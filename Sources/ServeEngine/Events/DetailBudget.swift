/// How many requests of one event loop get their live detail published (`requestReceived`,
/// `responseStarted`): at most `perWindow` in each 100 ms window. Over it, in a flood, a request
/// publishes only its outcome; the totals count it in `requestsWithoutDetail`, so the dashboard can
/// say how much detail it never saw. The dashboard applies detail to ~2,000 requests a second at most
/// (`DashboardModel.detailPerBatch`), so building more was work for nothing: ~8 % of the server's CPU
/// per small-file request under a flood. Used on its loop only; time is passed in.
struct DetailBudget {
    static let window: Int64 = 100_000_000

    let perWindow: Int
    private var windowStart: Int64 = 0
    private var used = 0

    /// - Parameter perSecond: requests with detail per second on this loop; 0 means none.
    init(perSecond: Int) {
        self.perWindow = max(0, perSecond / 10)
    }

    /// Whether the request that arrived at `now` (monotonic nanoseconds) gets its detail.
    mutating func allows(now: Int64) -> Bool {
        if now - self.windowStart >= Self.window || now < self.windowStart {
            self.windowStart = now
            self.used = 0
        }
        guard self.used < self.perWindow else { return false }
        self.used += 1
        return true
    }
}
