#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

import NIOCore

/// Keeps a listener from spinning when accept fails (usually: out of file descriptors), says so once
/// and once when it works again, and frees the open-file caches' descriptors meanwhile.
///
/// A failed accept leaves NIO's read pending, so the level-triggered listener would wake the loop
/// and fail again thousands of times a second (NIO's `AcceptBackoffHandler` only delays the next
/// read request, which never comes). Turning `autoRead` off drops the read interest; it is turned
/// back on every `retryInterval` until an accept succeeds.
final class AcceptErrorReporter: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = Channel

    static let retryInterval: TimeAmount = .milliseconds(200)

    private let server: ServerContext
    private var failing = false
    private var failures = 0
    private var retry: Scheduled<Void>?
    /// Set after an accept succeeds while failing: recovery is announced only if it lasts.
    private var recovered: Scheduled<Void>?

    init(server: ServerContext) {
        self.server = server
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        if self.failing, self.recovered == nil {
            // Connections closing free one descriptor at a time: say "again" once it has lasted a second.
            self.recovered = context.eventLoop.assumeIsolated().scheduleTask(in: .seconds(1)) { [self] in
                self.recovered = nil
                self.failing = false
                self.server.bus.publish(
                    .log(LogLine(level: .info, message: "accepting connections again (\(self.failures) accept(s) failed meanwhile)"))
                )
                self.failures = 0
            }
        }
        context.fireChannelRead(data)
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        self.retry?.cancel()
        self.retry = nil
        self.recovered?.cancel()
        self.recovered = nil
    }

    func errorCaught(context: ChannelHandlerContext, error: Error) {
        self.failures += 1
        self.recovered?.cancel()
        self.recovered = nil
        if self.retry == nil, let options = context.channel.syncOptions {
            try? options.setOption(.autoRead, value: false)
            let channel = context.channel
            self.retry = context.eventLoop.assumeIsolated().scheduleTask(in: Self.retryInterval) { [self] in
                self.retry = nil
                try? channel.syncOptions?.setOption(.autoRead, value: true)
            }
        }
        guard !self.failing else { return }
        self.failing = true
        var message = "cannot accept new connections: \(error)"
        if let ioError = error as? IOError, ioError.errnoCode == EMFILE || ioError.errnoCode == ENFILE {
            message = "cannot accept new connections: too many open files (limit \(Descriptor.openFileLimit)); "
                + "waiting for some to close (raise it with ulimit -n)"
            _ = self.server.clearFileCaches()
        }
        self.server.bus.publish(.log(LogLine(level: .warning, message: message)))
    }
}
