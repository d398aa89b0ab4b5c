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
}
