/// The keep-alive and timeout rules of one connection, without any I/O (RFC 9112 §9).
///
/// The connection handler feeds it what happened and does what it returns. Time is passed in
/// (monotonic nanoseconds), so tests drive it with a fake clock.
struct ConnectionStateMachine {
    enum Phase: Equatable {
        /// Between requests: waiting for a head. The idle timeout runs.
        case awaitingHead
        /// A request is being received and/or answered.
        case active(requestEnded: Bool, responseEnded: Bool)
        /// The connection is going away; nothing more is read or dispatched.
        case closing
    }

    /// What to do when the timer fires.
    enum TimerAction: Equatable {
        /// Nothing expired; check again at this time.
        case rearm(at: Int64)
        /// Close the connection. `sendTimeoutResponse` asks for a 408 first (a request was started
        /// but not finished and no response has begun).
        case close(CloseReason, sendTimeoutResponse: Bool)
    }

    /// What to do once a response has been written completely.
    enum ResponseEndAction: Equatable {
        case keepOpen
        case close
    }

    private(set) var phase: Phase = .awaitingHead
    /// Whether the current response keeps the connection open.
    private(set) var keepAlive = true
    /// Set when the client half-closed or the server is stopping: close after the current response.
    private(set) var closeAfterResponse = false
    private(set) var lastActivity: Int64
    private let timeout: Int64

    init(now: Int64, timeoutNanoseconds: Int64) {
        self.lastActivity = now
        self.timeout = timeoutNanoseconds
    }

    /// Bytes arrived from the client, or a write to it completed.
    mutating func activity(now: Int64) {
        self.lastActivity = now
    }

    /// A request head arrived. Returns `false` when it must be ignored (the connection is closing).
    mutating func headReceived(keepAlive: Bool, now: Int64) -> Bool {
        guard self.phase == .awaitingHead else { return false }
        self.phase = .active(requestEnded: false, responseEnded: false)
        self.keepAlive = keepAlive && !self.closeAfterResponse
        self.lastActivity = now
        return true
    }

    /// The response will close the connection whatever the request asked (an error before the body
    /// was read, a body of unknown length on HTTP/1.0).
    mutating func forceClose() {
        self.keepAlive = false
    }

    /// The whole request body arrived.
    mutating func requestEnded(now: Int64) -> ResponseEndAction? {
        self.lastActivity = now
        guard case .active(_, let responseEnded) = self.phase else { return nil }
        if responseEnded { return self.finishExchange() }
        self.phase = .active(requestEnded: true, responseEnded: false)
        return nil
    }

    /// The response was handed to the channel in full. When the request is also complete the
    /// exchange is over and the result says whether the connection stays.
    mutating func responseEnded(now: Int64) -> ResponseEndAction? {
        self.lastActivity = now
        guard case .active(let requestEnded, _) = self.phase else { return nil }
        if !self.keepAlive {
            // Whatever remains of the request body is not worth reading.
            self.phase = .closing
            return .close
        }
        if requestEnded { return self.finishExchange() }
        self.phase = .active(requestEnded: false, responseEnded: true)
        return nil
    }

    private mutating func finishExchange() -> ResponseEndAction {
        if self.keepAlive && !self.closeAfterResponse {
            self.phase = .awaitingHead
            return .keepOpen
        }
        self.phase = .closing
        return .close
    }

    /// The client will send nothing more (half-close).
    /// Returns `true` when the connection can close now (no exchange in progress). When it is
    /// already closing, whoever moved it there closes it, after flushing what it wrote: closing
    /// again here would drop a response that ended in the same event-loop turn (a half-close that
    /// waited behind pipelined requests is handed over right after the last response is written).
    mutating func wantsToClose() -> Bool {
        self.closeAfterResponse = true
        self.keepAlive = false
        guard self.phase == .awaitingHead else { return false }
        self.phase = .closing
        return true
    }

    /// The connection is being closed for another reason (an error, a protocol error page).
    mutating func closing() {
        self.phase = .closing
    }

    /// When the timer should next fire.
    var deadline: Int64 { self.lastActivity + self.timeout }

    /// Decides what an expired timer means.
    /// - Parameters:
    ///   - partialRequest: bytes of a request have arrived since the connection went idle.
    ///   - waitingForClient: the response is blocked on the client reading (a write is pending).
    ///   - responseStarted: a status line has been written for the current request.
    mutating func timerFired(
        now: Int64,
        partialRequest: Bool,
        waitingForClient: Bool,
        responseStarted: Bool
    ) -> TimerAction {
        switch self.phase {
        case .closing:
            // Closing once the last response is written: a client that stops reading it is
            // dropped like any slow reader.
            guard now >= self.deadline else { return .rearm(at: self.deadline) }
            return .close(.writeTimeout, sendTimeoutResponse: false)
        case .awaitingHead:
            guard now >= self.deadline else { return .rearm(at: self.deadline) }
            self.phase = .closing
            return partialRequest
                ? .close(.requestTimeout, sendTimeoutResponse: true) : .close(.idleTimeout, sendTimeoutResponse: false)
        case .active(let requestEnded, let responseEnded):
            if !requestEnded {
                // Still receiving the body: the client is the slow side.
                guard now >= self.deadline else { return .rearm(at: self.deadline) }
                self.phase = .closing
                return .close(.requestTimeout, sendTimeoutResponse: !responseStarted && !responseEnded)
            }
            guard waitingForClient else {
                // The handler is working (a CGI script has its own timeout); check again later.
                return .rearm(at: max(self.deadline, now + self.timeout))
            }
            guard now >= self.deadline else { return .rearm(at: self.deadline) }
            self.phase = .closing
            return .close(.writeTimeout, sendTimeoutResponse: false)
        }
    }
}
