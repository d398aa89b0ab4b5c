#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Plain writes to a file descriptor, for the parts that write without NIO (the console, the
/// dashboard's saved scripts).
public enum Descriptor {
    /// Writes all of `bytes`, retrying on `EINTR`; `false` when the descriptor refuses (then `errno` says why).
    @discardableResult
    public static func writeAll(_ bytes: UnsafeBufferPointer<UInt8>, to descriptor: CInt) -> Bool {
        var offset = 0
        while offset < bytes.count {
            let written = write(descriptor, bytes.baseAddress! + offset, bytes.count - offset)
            if written < 0, errno == EINTR { continue }
            if written <= 0 { return false }
            offset += written
        }
        return true
    }

    /// How many files this process may have open (the soft `RLIMIT_NOFILE`).
    public static var openFileLimit: Int {
        var limit = rlimit()
        guard getrlimit(Self.openFiles, &limit) == 0 else { return .max }
        return Int(clamping: limit.rlim_cur)  // RLIM_INFINITY is rlim_t.max: clamped to Int.max
    }

    /// Raises the soft open-file limit towards the hard one, up to `ceiling`, as Go's runtime and
    /// nginx's `worker_rlimit_nofile` do: a shell's default of 1,024 is not enough for 1,000
    /// keep-alive connections and a file cache. The ceiling keeps CGI scripts, which inherit the
    /// limit, from meeting a million (some close every descriptor up to it).
    public static func raiseOpenFileLimit(ceiling: Int = 65_536) {
        var limit = rlimit()
        if getrlimit(Self.openFiles, &limit) == 0 {
            let target = min(limit.rlim_max, rlim_t(ceiling))
            if limit.rlim_cur < target {
                limit.rlim_cur = target
                _ = setrlimit(Self.openFiles, &limit)
            }
        }
    }

    #if canImport(Glibc)
    private static let openFiles = __rlimit_resource_t(RLIMIT_NOFILE.rawValue)
    #else
    private static let openFiles = RLIMIT_NOFILE
    #endif
}
