import Dispatch
import NIOConcurrencyHelpers
import ServeEngine

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Unbuffered writes to stdout and stderr (Swift 6 cannot touch C's `stdout`/`stderr` globals).
enum Console {
    static func out(_ text: String) { self.write(text + "\n", to: STDOUT_FILENO) }
    static func error(_ text: String) { self.write(text + "\n", to: STDERR_FILENO) }

    static func write(_ text: String, to descriptor: CInt) {
        var text = text
        text.withUTF8 { Self.write($0, to: descriptor) }
    }

    static func write(_ bytes: UnsafeBufferPointer<UInt8>, to descriptor: CInt) {
        Descriptor.writeAll(bytes, to: descriptor)
    }

    static var stdoutIsTerminal: Bool { isatty(STDOUT_FILENO) == 1 }
    static var stdinIsTerminal: Bool { isatty(STDIN_FILENO) == 1 }

    /// Colour unless `NO_COLOR` is set to anything non-empty (no-color.org).
    static var colorAllowed: Bool {
        guard let value = getenv("NO_COLOR") else { return true }
        return value.pointee == 0
    }
}

/// Turns SIGINT/SIGTERM/SIGHUP into a flag the main loop polls (no work in a signal handler).
///
/// `@unchecked Sendable`: `sources` is written once in `init` and only kept alive afterwards.
final class StopSignal: @unchecked Sendable {
    private let fired = NIOLockedValueBox<CInt?>(nil)
    private let sources: [DispatchSourceSignal]

    init(signals: [CInt]) {
        let queue = DispatchQueue(label: "swift-serve-tui.signals")
        let fired = self.fired
        var sources: [DispatchSourceSignal] = []
        for number in signals {
            Glibc.signal(number, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: number, queue: queue)
            source.setEventHandler { fired.withLockedValue { $0 = $0 ?? number } }
            source.resume()
            sources.append(source)
        }
        self.sources = sources
    }

    /// The first signal received, if any.
    var received: CInt? { self.fired.withLockedValue { $0 } }
}

/// Runs async work from synchronous code (start and stop only; the main thread owns the terminal).
func blockingAwait<T: Sendable>(_ body: @escaping @Sendable () async throws -> T) throws -> T {
    let result = NIOLockedValueBox<Result<T, any Error>?>(nil)
    let done = DispatchSemaphore(value: 0)
    Task {
        do {
            let value = try await body()
            result.withLockedValue { $0 = .success(value) }
        } catch {
            result.withLockedValue { $0 = .failure(error) }
        }
        done.signal()
    }
    done.wait()
    return try result.withLockedValue { $0! }.get()
}

func blockingAwait(_ body: @escaping @Sendable () async -> Void) {
    _ = try? blockingAwait { () async throws -> Bool in
        await body()
        return true
    }
}
