/// How many requests of one event loop get their live detail published (`requestReceived`,
/// `responseStarted`): a token bucket holding `perWindow` requests and refilled at `perWindow` per
/// 100 ms. Over it, in a flood, a request publishes only its outcome; the totals count it in
/// `requestsWithoutDetail`, so the dashboard can say how much detail it never saw. The dashboard
/// applies detail to ~2,000 requests a second at most (`DashboardModel.detailPerBatch`), so
/// building more was work for nothing: ~8 % of the server's CPU per small-file request under a
/// flood. Used on its loop only; time is passed in.
///
/// A burst up to `perWindow` (a page and its assets, a dozen pipelined requests) all get detail.
/// In a flood the detailed requests come evenly, one every `window / perWindow`: with fixed
/// windows they all came at a window's start, and the dashboard, which keeps the newest events of
/// each drain, mostly saw none of them.
struct DetailBudget {
    static let window: Int64 = 100_000_000

    let perWindow: Int
    /// Time one request's detail costs: the window shared out.
    private let spacing: Int64
    /// Unspent time, at most a window (`perWindow` requests).
    private var credit: Int64
    private var last: Int64?

    /// - Parameter perSecond: requests with detail per second on this loop; 0 means none.
    init(perSecond: Int) {
        self.perWindow = max(0, perSecond / 10)
        self.spacing = self.perWindow > 0 ? Self.window / Int64(self.perWindow) : Self.window
        self.credit = Self.window
    }

    /// Whether the request that arrived at `now` (monotonic nanoseconds) gets its detail.
    mutating func allows(now: Int64) -> Bool {
        guard self.perWindow > 0 else { return false }
        if let last = self.last, now > last {
            self.credit = min(Self.window, self.credit + min(now - last, Self.window))
        }
        self.last = now
        guard self.credit >= self.spacing else { return false }
        self.credit -= self.spacing
        return true
    }
}
