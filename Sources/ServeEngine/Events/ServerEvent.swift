import NIOHTTP1

/// Identifies one accepted TCP connection for the life of a server process.
public struct ConnectionID: Hashable, Comparable, Sendable, CustomStringConvertible {
    /// Monotonically increasing number, starting at 1.
    public let rawValue: UInt64

    public init(_ rawValue: UInt64) { self.rawValue = rawValue }

    public static func < (lhs: ConnectionID, rhs: ConnectionID) -> Bool { lhs.rawValue < rhs.rawValue }
    public var description: String { "#\(self.rawValue)" }
}

/// Identifies one request: its connection and its position on that connection (1-based).
public struct RequestID: Hashable, Sendable, CustomStringConvertible {
    public let connection: ConnectionID
    /// 1 for the first request on a connection, 2 for the first keep-alive reuse, and so on.
    public let index: Int

    public init(connection: ConnectionID, index: Int) {
        self.connection = connection
        self.index = index
    }

    public var description: String { "\(self.connection).\(self.index)" }
}

/// Wall-clock time of an event, in nanoseconds since the Unix epoch.
public struct EventTime: Hashable, Comparable, Sendable {
    public let nanosecondsSinceEpoch: Int64

    public init(nanosecondsSinceEpoch: Int64) { self.nanosecondsSinceEpoch = nanosecondsSinceEpoch }

    /// The current wall-clock time (`CLOCK_REALTIME`, a vDSO call: cheap enough for the hot path).
    public static func now() -> EventTime {
        EventTime(nanosecondsSinceEpoch: WallClock.nanosecondsSinceEpoch())
    }

    public var secondsSinceEpoch: Int64 { self.nanosecondsSinceEpoch / 1_000_000_000 }

    public static func < (lhs: EventTime, rhs: EventTime) -> Bool {
        lhs.nanosecondsSinceEpoch < rhs.nanosecondsSinceEpoch
    }
}

/// An ordered list of header fields as they were sent or received.
///
/// A thin wrapper so consumers (the dashboard, the access log) never need to import NIO.
public struct HeaderFields: Sendable, Sequence, Equatable {
    let storage: HTTPHeaders

    public init(_ fields: [(String, String)]) { self.storage = HTTPHeaders(fields) }
    init(_ headers: HTTPHeaders) { self.storage = headers }

    public var count: Int { self.storage.count }

    /// All values of the header `name` (case-insensitive).
    public func values(_ name: String) -> [String] { self.storage[name] }

    /// The first value of the header `name` (case-insensitive), if any.
    public func first(_ name: String) -> String? { self.storage.first(name: name) }

    public func makeIterator() -> AnyIterator<(name: String, value: String)> {
        var inner = self.storage.makeIterator()
        return AnyIterator { inner.next().map { (name: $0.name, value: $0.value) } }
    }
}

/// How a request ended.
public enum RequestOutcome: String, Sendable {
    /// The whole response was handed to the kernel.
    case completed
    /// The client went away before the response was complete.
    case abortedByClient = "aborted"
    /// The server could not produce the response (a handler error, a timeout).
    case failed
}

/// Why a connection was closed.
public enum CloseReason: String, Sendable {
    /// The client closed its side.
    case clientClosed = "client closed"
    /// The response said `Connection: close` (HTTP/1.0, `Connection: close`, `--protocol HTTP/1.0`).
    case notKeepAlive = "not keep-alive"
    /// No request arrived within the idle timeout.
    case idleTimeout = "idle timeout"
    /// A request head or body arrived too slowly.
    case requestTimeout = "request timeout"
    /// The client stopped reading a response for longer than the timeout.
    case writeTimeout = "write timeout"
    /// The request could not be parsed; an error page was sent.
    case protocolError = "protocol error"
    /// The server is stopping.
    case serverStopping = "server stopping"
    /// A socket error.
    case error
}

/// What the server as a whole is doing.
public enum ServerState: String, Sendable {
    case starting
    case running
    /// Not accepting; waiting for in-flight responses to finish.
    case stopping
    case stopped
}

/// Severity of a log line.
public enum LogLevel: String, Sendable, Comparable {
    case debug, info, warning, error

    private var rank: Int {
        switch self {
        case .debug: 0
        case .info: 1
        case .warning: 2
        case .error: 3
        }
    }

    public static func < (lhs: LogLevel, rhs: LogLevel) -> Bool { lhs.rank < rhs.rank }
}

/// A new connection was accepted.
public struct ConnectionOpened: Sendable {
    public let id: ConnectionID
    public let peer: String
    public let local: String
    public let time: EventTime
}

/// A connection closed.
public struct ConnectionClosed: Sendable {
    public let id: ConnectionID
    public let reason: CloseReason
    public let requestsServed: Int
    public let time: EventTime
}

/// A complete request head arrived.
public struct RequestReceived: Sendable {
    public let id: RequestID
    public let method: String
    /// The request target exactly as sent (already decoded from the wire, not yet percent-decoded).
    public let target: String
    /// For example `HTTP/1.1`.
    public let version: String
    public let headers: HeaderFields
    public let peer: String
    public let time: EventTime
}

/// The status line and headers of a response were written.
public struct ResponseStarted: Sendable {
    public let id: RequestID
    public let status: Int
    public let reason: String
    public let headers: HeaderFields
    /// The body size when it is known in advance (`Content-Length`).
    public let expectedBodyBytes: Int64?
    public let time: EventTime
    /// Why, when the response is an error page.
    public var problem: RequestProblem? = nil
}

/// The first bytes of a response body the server built in memory (an error page, a listing, a CGI
/// script's output), published when the response ends, with how many such bytes were written. File
/// bodies are not included: they are on disk. Only for requests published with detail.
public struct ResponseBodySent: Sendable, Equatable {
    public let id: RequestID
    public let bytes: Int64
    public let preview: [UInt8]
    public let time: EventTime

    public init(id: RequestID, bytes: Int64, preview: [UInt8], time: EventTime) {
        self.id = id
        self.bytes = bytes
        self.preview = preview
        self.time = time
    }
}

/// Why a request got an error page, for the person debugging the client that sent it.
///
/// A class: every event is as large as its largest case, and this inline made `ResponseStarted`
/// that case (145 bytes), which every event of a flood paid for in copies (~190 instructions a
/// request in `memcpy`, by callgrind).
public final class RequestProblem: Sendable, Equatable {
    /// The error page's message ("File not found", "Bad request syntax").
    public let message: String
    /// Its explanation, when it says more than the status's usual one (a CGI script's fault).
    public let explanation: String?
    /// For a request the HTTP decoder rejected: what it objected to, in NIO's words.
    public let parserError: String?
    /// For such a request: its first bytes as they arrived (at most `receivedCapacity`), and how many
    /// had arrived in all. `nil` when the request was parsed (its head is in `requestReceived`).
    public let received: [UInt8]?
    public let receivedCount: Int
    /// The request came pipelined behind others in one read: `received` is that read, beginning
    /// with the requests before it (the decoder does not say where it failed).
    public let receivedIncludesEarlierRequests: Bool

    /// As much of a rejected request as is kept: as much as of a request body.
    public static let receivedCapacity = BodyCapture.previewLimit

    public init(
        message: String,
        explanation: String? = nil,
        parserError: String? = nil,
        received: [UInt8]? = nil,
        receivedCount: Int = 0,
        receivedIncludesEarlierRequests: Bool = false
    ) {
        self.message = message
        self.explanation = explanation
        self.parserError = parserError
        self.received = received
        self.receivedCount = receivedCount
        self.receivedIncludesEarlierRequests = receivedIncludesEarlierRequests
    }

    public static func == (lhs: RequestProblem, rhs: RequestProblem) -> Bool {
        lhs.message == rhs.message && lhs.explanation == rhs.explanation && lhs.parserError == rhs.parserError
            && lhs.received == rhs.received && lhs.receivedCount == rhs.receivedCount
            && lhs.receivedIncludesEarlierRequests == rhs.receivedIncludesEarlierRequests
    }
}

/// A request's body as it arrived: its exact size and its first bytes, published when the body ends
/// (or the connection closes first). Only for requests published with detail, and only when the
/// body is not empty.
public struct RequestBodyReceived: Sendable, Equatable {
    public let id: RequestID
    /// Body bytes received (after chunked decoding): exact.
    public let bytes: Int64
    /// The first bytes of the body, at most `BodyCapture.previewLimit`.
    public let preview: [UInt8]
    /// Whether the whole body arrived; `false` when the connection closed first.
    public let complete: Bool
    /// Whether it stopped because its chunked framing broke (the decoder could not read on).
    public let framingBroke: Bool
    public let time: EventTime

    public init(id: RequestID, bytes: Int64, preview: [UInt8], complete: Bool, framingBroke: Bool = false, time: EventTime) {
        self.id = id
        self.bytes = bytes
        self.preview = preview
        self.complete = complete
        self.framingBroke = framingBroke
        self.time = time
    }

    /// Whether `preview` holds the whole body.
    public var isWhole: Bool { self.complete && Int64(self.preview.count) == self.bytes }
}

/// Body bytes confirmed written to the socket so far.
public struct BodyProgress: Sendable {
    public let id: RequestID
    public let bytesSent: Int64
    public let expectedBodyBytes: Int64?
    public let time: EventTime
}

/// A request ended, one way or another.
public struct RequestFinished: Sendable {
    public let id: RequestID
    public let method: String
    public let target: String
    public let version: String
    public let peer: String
    public let status: Int
    /// Body bytes confirmed written (for an aborted transfer: what had been written when it stopped).
    public let bytesSent: Int64
    public let durationNanoseconds: Int64
    public let outcome: RequestOutcome
    public let time: EventTime
    /// Whether `requestReceived` and `responseStarted` were published for it (see `DetailBudget`).
    public var hadDetail = true
}

/// A line for the log panel or stderr: server errors, CGI stderr, notices.
public struct LogLine: Sendable {
    public let level: LogLevel
    public let message: String
    public let connection: ConnectionID?
    /// The client's address, for lines about what a client sent (python starts them with it).
    public let peer: String?
    public let time: EventTime

    public init(level: LogLevel, message: String, connection: ConnectionID? = nil, peer: String? = nil, time: EventTime = .now()) {
        self.level = level
        self.message = message
        self.connection = connection
        self.peer = peer
        self.time = time
    }
}

/// Everything the engine tells its observers (the dashboard, the headless access log, tests).
///
/// Text in these events comes from the network: consumers must pass it through `TextSanitizer`
/// before showing it to a person.
public enum ServerEvent: Sendable {
    case connectionOpened(ConnectionOpened)
    case connectionClosed(ConnectionClosed)
    case requestReceived(RequestReceived)
    case requestBody(RequestBodyReceived)
    case responseBody(ResponseBodySent)
    case responseStarted(ResponseStarted)
    case bodyProgress(BodyProgress)
    case requestFinished(RequestFinished)
    case serverStateChanged(ServerState, listening: [String], time: EventTime)
    case rootChanged(from: String, to: String, time: EventTime)
    case log(LogLine)

    /// When the event happened (what `EventBus.Batch.inTimeOrder` merges the loops' events by).
    public var time: EventTime {
        switch self {
        case .connectionOpened(let event): event.time
        case .connectionClosed(let event): event.time
        case .requestReceived(let event): event.time
        case .requestBody(let event): event.time
        case .responseBody(let event): event.time
        case .responseStarted(let event): event.time
        case .bodyProgress(let event): event.time
        case .requestFinished(let event): event.time
        case .serverStateChanged(_, _, let time): time
        case .rootChanged(_, _, let time): time
        case .log(let line): line.time
        }
    }
}
