// The least a SwiftNIO HTTP/1.1 server does per request, as a reference row in bench/run (a) and (b):
// NIO's event loops, ServerBootstrap and HTTP decoder, then one prebuilt answer written per request.
// No file lookup, no events, no log, no timers. What this reaches is the ceiling for any server
// built on these parts on this machine; the gap between it and swift-serve-tui is our own cost.
//
// Usage: nio-floor PORT FILE THREADS. Answers every request with FILE's bytes and a head of the same
// fields swift-serve-tui sends (so both put the same bytes on the wire); `Connection: close` is honoured.
import NIOCore
import NIOHTTP1
import NIOPosix

#if canImport(Glibc)
import Glibc
#endif

let arguments = CommandLine.arguments
guard arguments.count == 4, let port = Int(arguments[1]), let threads = Int(arguments[3]),
    let body = try? FileDescriptor.read(arguments[2])
else {
    let usage = "usage: nio-floor PORT FILE THREADS\n"
    _ = usage.utf8CString.withUnsafeBytes { write(2, $0.baseAddress, $0.count - 1) }
    exit(2)
}

func answer(closing: Bool) -> ByteBuffer {
    var buffer = ByteBufferAllocator().buffer(capacity: 512 + body.count)
    buffer.writeString(
        "HTTP/1.1 200 OK\r\nETag: \"18ed7198d96dbcad-400\"\r\nLast-Modified: Wed, 02 Dec 2026 13:05:27 GMT\r\n"
            + "Cache-Control: no-cache\r\nAccept-Ranges: bytes\r\nContent-Type: application/octet-stream\r\n"
            + "Content-Length: \(body.count)\r\nServer: swift-serve-tui/0.1\r\nDate: Wed, 02 Dec 2026 17:39:06 GMT\r\n"
            + (closing ? "Connection: close\r\n" : "") + "\r\n"
    )
    buffer.writeBytes(body)
    return buffer
}

let keepAliveAnswer = answer(closing: false)
let closingAnswer = answer(closing: true)

final class FloorHandler: ChannelInboundHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundOut = ByteBuffer
    private var keepAlive = true

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch Self.unwrapInboundIn(data) {
        case .head(let head): self.keepAlive = head.isKeepAlive
        case .body: break
        case .end:
            if self.keepAlive {
                context.writeAndFlush(Self.wrapOutboundOut(keepAliveAnswer), promise: nil)
            } else {
                let written = context.eventLoop.makePromise(of: Void.self)
                context.writeAndFlush(Self.wrapOutboundOut(closingAnswer), promise: written)
                written.futureResult.assumeIsolated().whenComplete { _ in context.close(promise: nil) }
            }
        }
    }
}

enum FileDescriptor {
    static func read(_ path: String) throws -> [UInt8] {
        let fd = open(path, O_RDONLY)
        guard fd >= 0 else { throw IOError(errnoCode: errno, reason: "open") }
        defer { close(fd) }
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 65_536)
        while true {
            let count = chunk.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress, $0.count) }
            guard count > 0 else { break }
            bytes += chunk[..<count]
        }
        return bytes
    }
}

let group = MultiThreadedEventLoopGroup(numberOfThreads: threads)
let channel = try ServerBootstrap(group: group)
    .serverChannelOption(.backlog, value: 1024)
    .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
    .childChannelOption(.socketOption(.tcp_nodelay), value: 1)
    .childChannelInitializer { channel in
        channel.eventLoop.makeCompletedFuture {
            try channel.pipeline.syncOperations.addHandler(ByteToMessageHandler(HTTPRequestDecoder(leftOverBytesStrategy: .dropBytes)))
            try channel.pipeline.syncOperations.addHandler(FloorHandler())
        }
    }
    .bind(host: "127.0.0.1", port: port).wait()
try channel.closeFuture.wait()
