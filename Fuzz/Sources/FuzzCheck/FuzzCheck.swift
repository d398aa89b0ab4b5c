#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The bytes libFuzzer hands a harness.
public func fuzzBytes(_ data: UnsafePointer<UInt8>?, _ count: Int) -> [UInt8] {
    guard let data, count > 0 else { return [] }
    return Array(UnsafeBufferPointer(start: data, count: count))
}

/// Stops the run with `message` when an invariant does not hold; libFuzzer then saves the input
/// that broke it as a `crash-…` file. A plain `precondition` would say nothing about which invariant.
public func require(
    _ condition: @autoclosure () -> Bool,
    _ message: @autoclosure () -> String,
    file: StaticString = #fileID,
    line: UInt = #line
) {
    guard !condition() else { return }
    let text = "invariant broken at \(file):\(line): \(message())\n"
    _ = text.withCString { write(2, $0, strlen($0)) }
    abort()
}

/// Reads the input as a few numbers followed by the rest, so one input can drive sizes and text.
public struct FuzzReader {
    private var bytes: ArraySlice<UInt8>

    public init(_ bytes: [UInt8]) { self.bytes = bytes[...] }

    /// The next byte, or 0 when the input is used up.
    public mutating func byte() -> UInt8 {
        self.bytes.popFirst() ?? 0
    }

    /// The next eight bytes as a little-endian Int64 (missing bytes read as 0).
    public mutating func int64() -> Int64 {
        var value: UInt64 = 0
        for shift in stride(from: 0, to: 64, by: 8) { value |= UInt64(self.byte()) << UInt64(shift) }
        return Int64(bitPattern: value)
    }

    /// Everything not read yet.
    public mutating func rest() -> [UInt8] {
        defer { self.bytes = [] }
        return Array(self.bytes)
    }
}
