import NIOCore

/// Watches the raw bytes a client sends, before NIO's HTTP decoder sees them.
///
/// It records when the client was last heard from (for the timeouts), whether a new request has
/// started (so a timeout mid-request can be answered with 408), and the length and first token of
/// each request line, so a decoder overflow can be told apart: an over-long request line is 414,
/// over-large headers are 431 (RFC 9112 §3, RFC 6585 §5); an unknown method is 501, garbage is 400.
///
/// When the server publishes request detail, it also keeps the first bytes of a request the decoder
/// has not finished, so one it rejects (or that never ends) can be shown as it arrived
/// (`receivedSoFar`). Reads holding whole requests are not copied.
final class InboundActivityTracker: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = ByteBuffer
    typealias InboundOut = ByteBuffer

    /// Monotonic time of the last read.
    private(set) var lastRead: Int64 = 0
    /// Bytes arrived since the last request ended (or the connection opened).
    private(set) var partialRequest = false
    /// Length, in bytes including CRLF, of the request line being scanned or last scanned.
    private(set) var requestLineLength = 0
    /// The first bytes of the request line (without its LF), up to `requestLinePrefixCapacity`.
    private(set) var requestLinePrefix: [UInt8] = []
    private var scanning = true
    private static let requestLinePrefixCapacity = 256

    /// Whether received bytes are kept for `receivedSoFar`.
    private let keepsReceived: Bool
    /// The first `RequestProblem.receivedCapacity` bytes of earlier reads that belong to a request
    /// not decoded yet, how many there were, and whether they begin with the end of another request.
    private var received: [UInt8] = []
    private var receivedCount = 0
    private var receivedIncludesEarlier = false
    /// The buffer being handed to the decoder, while it is, and whether a request ended in it.
    private var current: ByteBuffer?
    private var decodedInRead = false

    init(keepsReceived: Bool = false) {
        self.keepsReceived = keepsReceived
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let buffer = Self.unwrapInboundIn(data)
        self.lastRead = WallClock.monotonicNanoseconds()
        if buffer.readableBytes > 0 { self.partialRequest = true }
        if self.scanning { self.scan(buffer) }
        guard self.keepsReceived else {
            context.fireChannelRead(data)
            return
        }
        // Nothing is copied while reads hold whole requests (the common case): the buffer is only
        // looked at if the decoder fails on it. A read that leaves a request unfinished is kept.
        self.current = buffer
        self.decodedInRead = false
        context.fireChannelRead(data)
        self.current = nil
        if !self.decodedInRead {
            self.keep(buffer)
        } else if !Self.endsWithBlankLine(buffer) {
            // A request ended in this read and more came after it (a body, or the start of the
            // next request): kept whole, marked as beginning with the end of another request.
            self.keep(buffer)
            self.receivedIncludesEarlier = true
        }
    }

    private func keep(_ buffer: ByteBuffer) {
        let room = RequestProblem.receivedCapacity - self.received.count
        if room > 0 {
            buffer.withUnsafeReadableBytes { self.received.append(contentsOf: $0.prefix(room)) }
        }
        self.receivedCount += buffer.readableBytes
    }

    /// Whether `buffer` ends with an empty line, or with the end of one begun in the read before (the
    /// end of a head without a body, or of a chunked body): then no next request has begun in it.
    private static func endsWithBlankLine(_ buffer: ByteBuffer) -> Bool {
        buffer.withUnsafeReadableBytes { bytes in
            var end = bytes.count
            guard end > 0, bytes[end - 1] == 0x0A else { return false }
            end -= 1
            if end > 0, bytes[end - 1] == 0x0D { end -= 1 }
            return end == 0 || bytes[end - 1] == 0x0A
        }
    }

    /// The decoder delivered a request's end (not necessarily handled yet: pipelined requests wait):
    /// bytes from here on belong to the next request, and start a new request line.
    func requestDecoded() {
        self.partialRequest = false
        self.scanning = true
        self.requestLineLength = 0
        self.requestLinePrefix.removeAll(keepingCapacity: true)
        guard self.keepsReceived else { return }
        if self.current != nil { self.decodedInRead = true }
        if self.receivedCount > 0 {
            self.received.removeAll(keepingCapacity: true)
            self.receivedCount = 0
        }
        self.receivedIncludesEarlier = false
    }

    /// What arrived of the request the decoder is failing on (or that never ended), as far as it is
    /// known: its bytes from earlier reads and the read being decoded; when a request ended earlier in
    /// that read (pipelining), the whole read, which then begins with the requests before it. `nil`
    /// when bytes are not kept.
    func receivedSoFar() -> ReceivedBytes? {
        guard self.keepsReceived else { return nil }
        guard let current = self.current else {
            return ReceivedBytes(first: self.received, count: self.receivedCount, includesEarlierRequests: self.receivedIncludesEarlier)
        }
        if self.decodedInRead {
            let first = current.withUnsafeReadableBytes { Array($0.prefix(RequestProblem.receivedCapacity)) }
            return ReceivedBytes(first: first, count: current.readableBytes, includesEarlierRequests: true)
        }
        var first = self.received
        let room = RequestProblem.receivedCapacity - first.count
        if room > 0 { current.withUnsafeReadableBytes { first.append(contentsOf: $0.prefix(room)) } }
        return ReceivedBytes(first: first, count: self.receivedCount + current.readableBytes, includesEarlierRequests: self.receivedIncludesEarlier)
    }

    private func scan(_ buffer: ByteBuffer) {
        buffer.withUnsafeReadableBytes { bytes in
            var index = 0
            // RFC 9112 §2.2: ignore at least one empty line before a request line.
            if self.requestLineLength == 0 {
                while index < bytes.count, bytes[index] == UInt8(ascii: "\r") || bytes[index] == UInt8(ascii: "\n") {
                    index += 1
                }
            }
            let start = index
            let newline = bytes[start...].firstIndex(of: UInt8(ascii: "\n"))
            let room = Self.requestLinePrefixCapacity - self.requestLinePrefix.count
            if room > 0 {
                self.requestLinePrefix.append(contentsOf: bytes[start..<min(newline ?? bytes.count, start + room)])
            }
            if let newline {
                self.requestLineLength += newline - start + 1
                self.scanning = false
            } else {
                self.requestLineLength += bytes.count - start
            }
        }
    }

    /// Whether the request line seen so far is longer than `limit` bytes.
    func requestLineExceeds(_ limit: Int) -> Bool {
        self.requestLineLength > limit
    }

    /// Whether the request line starts with a syntactically valid method token (RFC 9110 §9.1, §5.6.2)
    /// followed by a space: the decoder rejected a method it does not know, not garbage.
    var requestLineStartsWithToken: Bool {
        guard let space = self.requestLinePrefix.firstIndex(of: UInt8(ascii: " ")), space > 0 else { return false }
        return self.requestLinePrefix[..<space].allSatisfy(ByteClass.isToken)
    }

    /// The request line as it arrived, for python's `Bad request syntax ('…')` (whoever shows it
    /// escapes it): up to 256 bytes, then `…`; `nil` when none arrived (or it came pipelined behind a
    /// request in one read).
    var requestLineText: String? {
        var line = self.requestLinePrefix[...]
        if line.last == UInt8(ascii: "\r") { line = line.dropLast() }
        guard !line.isEmpty else { return nil }
        let whole = self.requestLineLength - (self.scanning ? 0 : 1)
        let cut = self.requestLinePrefix.count == Self.requestLinePrefixCapacity && whole > line.count
        return String(decoding: line, as: UTF8.self) + (cut ? "…" : "")
    }

    /// The method token at the start of the request line, if it is one.
    var requestLineMethod: String? {
        guard self.requestLineStartsWithToken, let space = self.requestLinePrefix.firstIndex(of: UInt8(ascii: " "))
        else { return nil }
        return String(decoding: self.requestLinePrefix[..<space], as: UTF8.self)
    }
}

/// The first bytes of a request as they arrived, and how many arrived in all; with pipelining, the
/// whole read it failed in, which begins with the requests before it.
struct ReceivedBytes {
    let first: [UInt8]
    let count: Int
    let includesEarlierRequests: Bool
}
