/// How much unsent data a connection's socket may hold (`TCP_NOTSENT_LOWAT`), chosen from how fast
/// the client drains it.
///
/// A small limit (the listener's 128 KiB, inherited by every connection) makes the socket writable
/// again soon after it filled, so the bytes the kernel takes, and the dashboard's progress for a slow
/// download, advance several times a second. For a fast client it costs a wakeup and a one-byte write
/// per 128 KiB: four parallel 100 MiB downloads on loopback took 0.48 s of server CPU per GB against
/// 0.21 s with a 4 MiB limit (bench scenario d). So a connection starts small, moves to the large
/// limit once the socket has come back quickly `fastWaitsToGrow` times in a row, and moves back when
/// one wait is long enough that progress would visibly stall.
///
/// Pure state: `HTTPConnectionHandler` reports each wait for room and applies what this returns.
struct SendBufferPolicy: Equatable, Sendable {
    /// Unsent bytes allowed while the client is slow or unknown (also set on the listener).
    static let small = 128 * 1024
    /// Unsent bytes allowed once the client has proved fast.
    static let large = 4 * 1024 * 1024

    /// When a client counts as fast or slow.
    struct Thresholds: Equatable, Sendable {
        /// A wait for room at most this long counts as fast.
        var fastWait: Int64 = 2_000_000
        /// Consecutive fast waits before the limit grows.
        var fastWaitsToGrow = 8
        /// A wait longer than this with the large limit shrinks it again (progress is due every 50 ms).
        var slowWait: Int64 = 100_000_000
    }

    let thresholds: Thresholds
    /// The limit the socket has now.
    private(set) var limit = Self.small
    private var fastWaits = 0

    init(_ thresholds: Thresholds = Thresholds()) {
        self.thresholds = thresholds
    }

    /// Records that the socket had no room for `nanoseconds` before it took more. Returns the new
    /// limit to set on the socket when it changes.
    mutating func waited(nanoseconds: Int64) -> Int? {
        if self.limit == Self.small {
            guard nanoseconds <= self.thresholds.fastWait else {
                self.fastWaits = 0
                return nil
            }
            self.fastWaits += 1
            guard self.fastWaits >= self.thresholds.fastWaitsToGrow else { return nil }
            self.limit = Self.large
            return self.limit
        }
        guard nanoseconds > self.thresholds.slowWait else { return nil }
        self.limit = Self.small
        self.fastWaits = 0
        return self.limit
    }
}
