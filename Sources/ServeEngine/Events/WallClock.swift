#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Reads the system clocks without Foundation.
enum WallClock {
    /// `seconds` as nanoseconds, for timeouts and grace periods: NaN and negatives are 0, and more
    /// than 10^9 s (~31 years) is 10^9 s, so the conversion cannot trap.
    static func nanoseconds(seconds: Double) -> Int64 {
        guard seconds > 0 else { return 0 }
        return Int64(min(seconds, 1e9) * 1e9)
    }

    /// `CLOCK_REALTIME` in nanoseconds since the Unix epoch.
    static func nanosecondsSinceEpoch() -> Int64 {
        var ts = timespec()
        clock_gettime(CLOCK_REALTIME, &ts)
        return Int64(ts.tv_sec) * 1_000_000_000 + Int64(ts.tv_nsec)
    }

    /// `CLOCK_MONOTONIC` in nanoseconds: for durations, immune to wall-clock jumps.
    static func monotonicNanoseconds() -> Int64 {
        var ts = timespec()
        clock_gettime(CLOCK_MONOTONIC, &ts)
        return Int64(ts.tv_sec) * 1_000_000_000 + Int64(ts.tv_nsec)
    }
}
