/// What one `sendfile(2)` straight to the client's socket did (see `HTTPConnectionHandler.sendFile`).
enum DirectSendResult: Equatable, Sendable {
    /// The kernel took this many bytes (0: the file ended early, it shrank while being sent).
    case sent(Int)
    /// The socket's send buffer is full.
    case wouldBlock
    /// Bytes are still queued in the channel ahead of the body (the head, usually): writing past
    /// them would reorder the response.
    case queued
    /// The channel has no socket to write to (not a socket channel, or closed).
    case noTransport
    /// The write failed with this errno: the client went away (EPIPE, ECONNRESET) or worse.
    case failed(Int32)
}

/// Decides how a file body goes out so that every byte the kernel accepted is counted, also when
/// the client aborts half way.
///
/// NIO counts a `FileRegion` only when all of it was written; when the connection then fails, the
/// part that did go out is lost to the count (an aborted download was logged short by up to a
/// region, often below what the client had already read). So the body is written with
/// `sendfile(2)` straight to the socket while it has room, and each call's result is counted.
/// When the socket is full, one byte goes through the channel instead: NIO waits for the socket to
/// drain (backpressure, no busy loop), that byte is counted when written, and the direct writes
/// resume. A byte is written entirely or not at all, so the count stays exact.
///
/// Pure state: `HTTPConnectionHandler` and `FileResponder` carry the steps out; tests drive it
/// without sockets.
struct FileTransfer: Equatable, Sendable {
    enum Step: Equatable, Sendable {
        /// Try `sendfile` of `count` bytes from `offset` straight to the socket, then `record`.
        case send(offset: Int64, count: Int)
        /// Write `count` bytes from `offset` through the channel, then `channelWriteSucceeded`.
        /// One byte when the socket is full (the write waits for room); a larger piece when the
        /// channel has no socket to write to directly.
        case writeThroughChannel(offset: Int64, count: Int)
        /// Let the event loop serve other connections, then `resume`.
        case yield
        /// Every byte is out: end the response.
        case end
        /// Stop: the client went away, or the file shrank (`errno` 0).
        case stop(errno: Int32)
    }

    /// Largest single `sendfile` request (the kernel takes what fits in the socket buffer).
    static let directChunk = 4 * 1024 * 1024
    /// Direct writes in one event-loop turn before yielding to other connections.
    static let directCallsPerTurn = 8
    /// Piece size when the channel cannot be bypassed.
    static let channelChunk = 256 * 1024
    /// What goes through the channel when the socket is full: its completion is the wait for room.
    static let roomProbe = 1

    /// The next byte to send.
    private(set) var offset: Int64
    /// One past the last byte to send.
    let endOffset: Int64
    /// Bytes the kernel has accepted so far.
    private(set) var sent: Int64 = 0
    private var callsThisTurn = 0

    init(from offset: Int64, to endOffset: Int64) {
        self.offset = offset
        self.endOffset = endOffset
    }

    var remaining: Int64 { self.endOffset - self.offset }

    /// The first step of a turn.
    mutating func resume() -> Step {
        self.callsThisTurn = 0
        return self.nextDirect()
    }

    /// Records what a direct write did and says what to do next.
    mutating func record(_ result: DirectSendResult, requested: Int) -> Step {
        switch result {
        case .sent(let count) where count > 0:
            self.advance(by: Int64(min(count, requested)))
            if self.remaining == 0 { return .end }
            // A short write means the socket buffer filled up: wait for room.
            if count < requested { return .writeThroughChannel(offset: self.offset, count: Self.roomProbe) }
            return self.nextDirect()
        case .sent:
            return .stop(errno: 0)
        case .wouldBlock, .queued:
            return .writeThroughChannel(offset: self.offset, count: Self.roomProbe)
        case .noTransport:
            return .writeThroughChannel(offset: self.offset, count: Int(min(self.remaining, Int64(Self.channelChunk))))
        case .failed(let code):
            return .stop(errno: code)
        }
    }

    /// A write through the channel completed: its bytes are out.
    mutating func channelWriteSucceeded(count: Int) -> Step {
        self.advance(by: Int64(count))
        return self.remaining == 0 ? .end : self.resume()
    }

    private mutating func advance(by count: Int64) {
        self.offset += count
        self.sent += count
    }

    private mutating func nextDirect() -> Step {
        if self.remaining == 0 { return .end }
        guard self.callsThisTurn < Self.directCallsPerTurn else { return .yield }
        self.callsThisTurn += 1
        return .send(offset: self.offset, count: Int(min(self.remaining, Int64(Self.directChunk))))
    }
}
