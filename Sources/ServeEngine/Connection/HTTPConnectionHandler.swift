#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

import DequeModule
import NIOCore
import NIOHTTP1

/// One client connection: the seed's `BaseHTTPRequestHandler.handle()` loop.
///
/// It sits after NIO's request decoder, applies the keep-alive and timeout rules of
/// `ConnectionStateMachine`, maps parser errors to python's status codes, dispatches each request to
/// the first `RequestHandler` that claims it, and publishes the connection's events. Responses leave
/// as bytes (`ResponseEncoding`).
///
/// Pipelined requests are answered one at a time, in order (RFC 9112 §9.3.2), the way NIO's
/// `HTTPServerPipelineHandler` did it: once a request has arrived whole and its response is not yet
/// written, what the decoder delivers next waits in `pending`, and the socket is not read until the
/// response is out, so a client cannot pile up requests behind a slow answer.
final class HTTPConnectionHandler: ChannelDuplexHandler, TimedConnection {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundIn = IOData
    typealias OutboundOut = IOData

    /// What arrived while a response was pending, in arrival order.
    enum Pending {
        case part(HTTPServerRequestPart)
        /// With what had arrived of the rejected request when the decoder gave up.
        case parserError(HTTPParserError, received: ReceivedBytes?)
        case halfClose
    }

    private let server: ServerContext
    private let tracker: InboundActivityTracker
    private var machine: ConnectionStateMachine
    private var context: ChannelHandlerContext?
    /// The caches and timers of the connection's event loop (set in `handlerAdded`).
    private var loop: LoopState?
    /// Where this connection's events go: its loop's shard of the bus (set in `handlerAdded`).
    private var events: EventPublisher
    private let id: ConnectionID
    private(set) var peerDescription = "-"
    private var peer: SocketAddress?
    private var local: SocketAddress?
    private var requestCount = 0
    private var writer: ResponseWriter?
    private var responder: (any RequestResponder)?
    /// When the loop's timers next call `timerDue` (the state machine's deadline, or later).
    private(set) var timerDeadline: Int64 = .max
    var timerSlot = -1
    private var closeReason: CloseReason?
    /// The end of the last response handed to the channel, until it is written.
    private var unwrittenEnd: EventLoopFuture<Void>?
    /// NIO's unsent bytes at the last timer check while `unwrittenEnd` was set (`.max`: none made).
    private var unsentAtLastCheck: Int = .max
    /// Writes handed to the channel so far.
    private var channelWrites = 0
    /// Whether every write handed to the channel is known to be written (NIO writes in order, so the
    /// last one's completion says so): nothing of ours is queued there, and bytes written straight
    /// to the socket keep their order (`writeDirectly`).
    private var channelQueueIdle = true
    /// The channel's core when it gives access to its socket (`.some(nil)`: it does not), looked up
    /// on the first direct write.
    private var transport: (any NIOTransportAccessibleChannelCore)??
    private var isActive = false
    /// How much unsent data the socket may hold.
    private var sendBuffer: SendBufferPolicy
    /// Requests (and their half-close or parse error) waiting for the current response.
    private var pending = Deque<Pending>()
    /// A read was asked for while requests wait: issued once they have gone.
    private var readHeld = false
    /// The pending response is written later in this loop turn (`answerComesAfterReads`). If its
    /// check sends it to the thread pool instead, this stays set until the response ends: reads go on
    /// until another request waits behind it, which holds them as usual.
    private var answerAfterReads = false
    /// `responseWritten` is handing over waiting input (a delivered request may end its response at once).
    private var delivering = false
    /// The current request's body, for a request published with detail.
    private var bodyCapture: BodyCapture?
    /// NIO's decoder in front of this handler, and its limits for a replacement.
    private var decoder: ByteToMessageHandler<HTTPRequestDecoder>
    private let limits: NIOHTTPDecoderLimitConfiguration
    /// The request being delivered is one NIO's decoder takes as a protocol switch (see
    /// `decoderStops(after:mayUpgrade:)`): after its end the decoder parses nothing more, so it is replaced.
    private var decoderStopsAfterRequest = false

    init(
        server: ServerContext,
        tracker: InboundActivityTracker,
        decoder: ByteToMessageHandler<HTTPRequestDecoder>,
        limits: NIOHTTPDecoderLimitConfiguration
    ) {
        self.server = server
        self.tracker = tracker
        self.decoder = decoder
        self.limits = limits
        self.id = server.makeConnectionID()
        self.events = server.bus.publisher(shard: 0)
        self.sendBuffer = SendBufferPolicy(server.configuration.sendBufferThresholds)
        self.machine = ConnectionStateMachine(
            now: WallClock.monotonicNanoseconds(),
            timeoutNanoseconds: server.configuration.timeoutNanoseconds
        )
    }

    // MARK: Channel life

    func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
        let loop = self.server.loopState(for: context.eventLoop)
        self.loop = loop
        self.events = loop.events
        if context.channel.isActive { self.becameActive(context: context) }
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        self.loop?.timers.remove(self)
        self.context = nil
    }

    func channelActive(context: ChannelHandlerContext) {
        self.becameActive(context: context)
        context.fireChannelActive()
    }

    private func becameActive(context: ChannelHandlerContext) {
        guard !self.isActive else { return }
        self.isActive = true
        self.peer = context.channel.remoteAddress
        self.local = context.channel.localAddress
        let names = self.loop?.addressNames ?? AddressNames()
        self.peerDescription = names.peer(self.peer)
        self.server.registry.add(self.id, context.channel)
        self.events.publish(
            .connectionOpened(
                ConnectionOpened(
                    id: self.id,
                    peer: self.peerDescription,
                    local: names.local(self.local),
                    time: .now()
                )
            )
        )
        self.machine.activity(now: WallClock.monotonicNanoseconds())
        self.timerDeadline = self.machine.deadline
        self.loop?.timers.add(self)
    }

    func channelInactive(context: ChannelHandlerContext) {
        self.pending.removeAll()
        if self.isActive {
            self.isActive = false
            self.loop?.timers.remove(self)
            self.machine.closing()
            let responder = self.responder
            self.responder = nil
            self.writer?.connectionLost()
            self.writer = nil
            responder?.cancel()
            self.publishBody(complete: false)
            let reason =
                self.closeReason
                ?? (self.server.stopping.load(ordering: .relaxed) ? .serverStopping : .clientClosed)
            self.events.publish(
                .connectionClosed(
                    ConnectionClosed(id: self.id, reason: reason, requestsServed: self.requestCount, time: .now())
                )
            )
            self.server.registry.remove(self.id)
        }
        context.fireChannelInactive()
    }

    // MARK: Requests

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let part = Self.unwrapInboundIn(data)
        if case .end = part { self.tracker.requestDecoded() }
        if self.mustWait || self.clientIsBehind(context) {
            self.pending.append(.part(part))
        } else {
            self.deliver(part, context: context)
        }
    }

    /// A request arrived whole and its response is not written yet.
    private var responsePending: Bool {
        if case .active(requestEnded: true, responseEnded: false) = self.machine.phase { return true }
        return false
    }

    /// A response is pending or earlier input still waits: what comes next must wait too.
    private var mustWait: Bool { !self.pending.isEmpty || self.responsePending }

    /// Reads are held while requests wait (the pipelining handler's backpressure), except while the
    /// only request waiting is answered later in this loop turn (`answerComesAfterReads`): holding
    /// the read would make NIO drop the socket's read interest and add it back, two `epoll_ctl`
    /// calls a request. They are held too while the client is behind (`clientIsBehind`).
    func read(context: ChannelHandlerContext) {
        if self.mustWait, !(self.answerAfterReads && self.pending.isEmpty) {
            self.readHeld = true
        } else if self.clientIsBehind(context) {
            self.readHeld = true
        } else {
            context.read()
        }
    }

    /// Whether the client is not taking its responses: more of them wait in the channel than its
    /// high watermark (64 KiB), and no request body is being read. Then no further request is read
    /// or answered until the client catches up (`channelWritabilityChanged`); requests already
    /// decoded wait in `pending`. Without this, a client that pipelined requests and never read was
    /// answered as fast as it sent: a cached file is answered at once, so the queue of unsent
    /// responses grew without bound (430 MB of RSS in 5 s, by hand). A body keeps being read, so a
    /// client that sends all of a POST before reading (python's http.client) is not deadlocked by a
    /// script that answers as it reads.
    /// The phase is looked at first: it is a field, and it rules out a request's body and end, so
    /// the channel is asked once per request, not once per part.
    private func clientIsBehind(_ context: ChannelHandlerContext) -> Bool {
        if case .active(requestEnded: false, _) = self.machine.phase { return false }
        return !context.channel.isWritable
    }

    /// The client caught up: what waited is answered, and reading goes on.
    func channelWritabilityChanged(context: ChannelHandlerContext) {
        if context.channel.isWritable { self.responseWritten() }
        context.fireChannelWritabilityChanged()
    }

    /// The current response is written: hands over what waited, up to the next request that must
    /// wait in turn, and reads again once nothing waits.
    func responseWritten() {
        guard !self.delivering, let context = self.context else { return }
        self.delivering = true
        defer { self.delivering = false }
        while !self.pending.isEmpty {
            if self.machine.phase == .closing {
                // Nothing more is answered on this connection.
                self.pending.removeAll()
                return
            }
            if self.responsePending || self.clientIsBehind(context) { break }
            switch self.pending.removeFirst() {
            case .part(let part): self.deliver(part, context: context)
            case .parserError(let error, let received): self.answerParserError(error, received: received, context: context)
            case .halfClose: self.inputClosed()
            }
        }
        if self.readHeld, !self.mustWait, self.machine.phase != .closing, !self.clientIsBehind(context) {
            self.readHeld = false
            context.read()
        }
    }

    private func deliver(_ part: HTTPServerRequestPart, context: ChannelHandlerContext) {
        switch part {
        case .head(let head):
            self.receivedHead(head, context: context)
        case .body(let buffer):
            self.machine.activity(now: WallClock.monotonicNanoseconds())
            self.bodyCapture?.append(buffer)
            self.responder?.receiveBody(buffer)
        case .end:
            self.publishBody(complete: true)
            self.responder?.receiveEnd()
            if self.machine.requestEnded(now: WallClock.monotonicNanoseconds()) == .close {
                self.closeWhenWritten(reason: .notKeepAlive)
            }
            if self.decoderStopsAfterRequest {
                self.decoderStopsAfterRequest = false
                self.replaceDecoder(context: context)
            }
        }
    }

    /// Whether NIO's decoder (llhttp) takes `head` as a switch to another protocol and parses nothing
    /// after it: `CONNECT`, or an `Upgrade` field with `upgrade` among the `Connection` tokens
    /// (`UpgradeOfferTests` holds this to the decoder itself). No upgrade is ever accepted here
    /// (RFC 9110 §7.8 lets a server ignore the offer), so the request is answered like any other and
    /// the connection goes on: `curl --http2` offers h2c, a page's live-reload script a WebSocket.
    static func decoderStops(after head: HTTPRequestHead, mayUpgrade: Bool) -> Bool {
        if head.method == .CONNECT { return true }
        guard mayUpgrade, head.headers.contains(name: "upgrade") else { return false }
        return head.headers[canonicalForm: "connection"].contains { $0.utf8.count == 7 && $0.lowercased() == "upgrade" }
    }

    /// What is wrong with a request's `Transfer-Encoding`, or `nil` (RFC 9112 §6.1, §6.3). NIO's
    /// decoder frames a body by a final `chunked` and undoes nothing else, and when `chunked` is
    /// not last it rejects the body only after delivering the head: without this check such a
    /// request was answered by closing the connection, and `gzip, chunked` reached a CGI script
    /// still compressed. nginx answers the same (400 and 501).
    static func transferCodingProblem(_ head: HTTPRequestHead) -> HTTPError? {
        let codings = head.headers[canonicalForm: "transfer-encoding"]
        guard let last = codings.last else { return nil }
        if head.version.minor == 0 {
            return HTTPError(.badRequest, message: "Transfer-Encoding in an HTTP/1.0 request")
        }
        guard last.lowercased() == "chunked" else {
            return HTTPError(.badRequest, message: "Transfer-Encoding does not end with chunked ('\(last)'): the body's length is unknown")
        }
        if let other = codings.first(where: { $0.lowercased() != "chunked" }) {
            return HTTPError(.notImplemented, message: "Unsupported transfer coding ('\(other)'); only chunked is understood")
        }
        return nil
    }

    /// Puts a fresh decoder where the stopped one is; the bytes that came after the switch request
    /// (a pipelined request, or the next one) move to it when the old one leaves (`.forwardBytes`).
    private func replaceDecoder(context: ChannelHandlerContext) {
        guard self.machine.phase != .closing, context.channel.isActive else { return }
        let old = self.decoder
        let fresh = HTTPServer.makeDecoder(limits: self.limits)
        do {
            try context.pipeline.syncOperations.addHandler(fresh, position: .after(old))
        } catch {
            self.closeWhenWritten(reason: .notKeepAlive)
            return
        }
        self.decoder = fresh
        context.pipeline.syncOperations.removeHandler(old, promise: nil)
    }

    private func receivedHead(_ head: HTTPRequestHead, context: ChannelHandlerContext) {
        let now = WallClock.monotonicNanoseconds()
        let configuration = self.server.configuration
        let keepAlive = configuration.protocolVersion == .http1_1 && head.isKeepAlive
        guard self.machine.headReceived(keepAlive: keepAlive, now: now) else { return }
        let fields = HeaderScan(head.headers)
        self.decoderStopsAfterRequest = Self.decoderStops(after: head, mayUpgrade: fields.mayUpgrade)
        let writer = self.beginRequest(head, now: now, fields: fields)

        // RFC 9112 §3: python reads at most 65,536 bytes of request line.
        let lineLength = head.method.rawValue.utf8.count + head.uri.utf8.count + 12
        if lineLength > configuration.maxRequestLineBytes || self.tracker.requestLineExceeds(configuration.maxRequestLineBytes) {
            writer.respond(error: HTTPError(.uriTooLong), closeConnection: true)
            return
        }
        // NIO's decoder counts the request target in its header-size budget (its field count is
        // exact): the exact size check is here.
        if fields.bytes > configuration.maxHeaderBytes {
            writer.respond(error: HTTPError(.init(statusCode: 431), message: "Request header fields too large"), closeConnection: true)
            return
        }
        // RFC 9110 §15.6.6: only HTTP/1.x is spoken here.
        guard head.version.major == 1 else {
            writer.respond(
                error: HTTPError(.httpVersionNotSupported, message: "Invalid HTTP version (\(head.version.major).\(head.version.minor))"),
                closeConnection: true
            )
            return
        }
        // RFC 9112 §3.2: the target must be origin-form or absolute-form (asterisk-form only for
        // OPTIONS, which gets 501 below), and an HTTP/1.1 request needs exactly one valid Host.
        if Request.originFormStart(of: head.uri) == nil, !(head.method == .OPTIONS && head.uri == "*") {
            writer.respond(error: HTTPError(.badRequest, message: "Bad request target"), closeConnection: true)
            return
        }
        if let problem = fields.hostProblem(version: head.version) {
            writer.respond(error: HTTPError(.badRequest, message: problem), closeConnection: true)
            return
        }
        if fields.mayHaveTransferCoding, let problem = Self.transferCodingProblem(head) {
            writer.respond(error: problem, closeConnection: true)
            return
        }
        // RFC 9110 §10.1.1.
        if fields.mayHaveExpect, let expectation = head.headers.first(name: "expect") {
            guard expectation.lowercased() == "100-continue" else {
                writer.respond(error: HTTPError(.expectationFailed), closeConnection: true)
                return
            }
            if head.version == .http1_1 {
                self.writeBytes(.byteBuffer(ResponseEncoding.continueHead(allocator: context.channel.allocator)), promise: nil)
                self.flush()
            }
        }

        for handler in self.server.handlers {
            if let responder = handler.responder(for: writer.request, environment: writer.environment) {
                self.responder = responder
                responder.start(writer: writer)
                return
            }
        }
        writer.respond(
            error: HTTPError(.notImplemented, message: "Unsupported method ('\(head.method.rawValue)')")
        )
    }

    /// Counts the request, publishes `requestReceived` and makes its writer. `fields` (when the head
    /// was parsed) tell the request which fields it may have.
    private func beginRequest(_ head: HTTPRequestHead, now: Int64, fields: HeaderScan? = nil) -> ResponseWriter {
        self.requestCount += 1
        let request = Request(
            id: RequestID(connection: self.id, index: self.requestCount),
            head: head,
            peer: self.peer,
            local: self.local,
            mayHaveConditions: fields?.mayHaveConditions ?? true
        )
        // The dashboard's live detail; without one, or over the budget in a flood, only the
        // request's outcome is published.
        let detail = self.loop?.detailBudget?.allows(now: now) ?? true
        if detail {
            self.events.publish(
                .requestReceived(
                    RequestReceived(
                        id: request.id,
                        method: head.method.rawValue,
                        target: head.uri,
                        version: head.version.text,
                        headers: HeaderFields(head.headers),
                        peer: self.peerDescription,
                        time: .now()
                    )
                )
            )
            self.bodyCapture = BodyCapture(id: request.id)
        }
        let writer = ResponseWriter(
            request: request,
            environment: self.server.environment(loop: self.loop),
            eventLoop: self.context!.eventLoop,
            connection: self,
            events: self.events,
            now: now,
            publishesDetail: detail
        )
        self.writer = writer
        return writer
    }

    /// Publishes what arrived of the current request's body, if it was captured and not empty.
    private func publishBody(complete: Bool, framingBroke: Bool = false) {
        guard let capture = self.bodyCapture else { return }
        self.bodyCapture = nil
        if let event = capture.event(complete: complete, framingBroke: framingBroke) { self.events.publish(.requestBody(event)) }
    }

    // MARK: Errors and events

    func errorCaught(context: ChannelHandlerContext, error: Error) {
        if let parserError = error as? HTTPParserError {
            let received = self.tracker.receivedSoFar()
            if self.mustWait {
                self.pending.append(.parserError(parserError, received: received))
            } else {
                self.answerParserError(parserError, received: received, context: context)
            }
            return
        }
        if error is ByteToMessageDecoderError {
            // Bytes after a parse error: the error page is already on its way.
            return
        }
        if let ioError = error as? IOError, ioError.errnoCode == ECONNRESET || ioError.errnoCode == EPIPE {
            self.close(reason: .clientClosed)
        } else {
            self.events.publish(.log(LogLine(level: .warning, message: "connection error: \(error)", connection: self.id)))
            self.close(reason: .error)
        }
    }

    /// Answers a request NIO could not parse, like python's `parse_request` and `handle_one_request`.
    private func answerParserError(_ error: HTTPParserError, received: ReceivedBytes?, context: ChannelHandlerContext) {
        guard self.isActive else { return }
        guard self.machine.phase == .awaitingHead else {
            // In the body of a request: the next request cannot be found, so the connection closes.
            if case .invalidEOFState = error {
                self.close(reason: self.writer == nil ? .clientClosed : .protocolError)
                return
            }
            // Already answered and closing (a refused Transfer-Encoding, a body too large).
            if self.machine.phase == .closing { return }
            self.publishBody(complete: false, framingBroke: true)
            if let writer = self.writer, !writer.hasStarted {
                // Nothing of the answer has gone out (a CGI script waits for the body, a file is
                // being looked up): say what was wrong rather than close without a word, as nginx
                // does. The responder stops first, so it writes nothing more.
                let responder = self.responder
                self.responder = nil
                responder?.cancel()
                writer.respond(error: HTTPError(.badRequest, message: "Bad request body (\(error.debugDescription))"), closeConnection: true)
                return
            }
            self.events.publish(
                .log(
                    LogLine(
                        level: .info,
                        message: "closing: the request body's framing is broken (\(error.debugDescription))",
                        connection: self.id,
                        peer: self.peerDescription
                    )
                )
            )
            self.closeWhenWritten(reason: .protocolError)
            return
        }
        if case .invalidEOFState = error, !self.tracker.partialRequest {
            // The connection closed between requests: nothing to answer.
            self.close(reason: .clientClosed)
            return
        }
        let configuration = self.server.configuration
        let httpError: HTTPError
        switch error {
        case .headerOverflow:
            httpError =
                self.tracker.requestLineExceeds(configuration.maxRequestLineBytes)
                ? HTTPError(.uriTooLong)
                : HTTPError(.init(statusCode: 431), message: "Request header fields too large")
        case .invalidVersion:
            httpError = HTTPError(.httpVersionNotSupported, message: "Invalid HTTP version")
        case .paused where self.tracker.requestLineText == "PRI * HTTP/2.0":
            // HTTP/2's connection preface (a client with prior knowledge): the decoder stops at it.
            // python answers a 2.0 request line so; HTTP/1.1 requests that say 2.0 get it too.
            httpError = HTTPError(.httpVersionNotSupported, message: "Invalid HTTP version (2.0)")
        case .invalidMethod where self.tracker.requestLineStartsWithToken:
            httpError = HTTPError(
                .notImplemented,
                message: "Unsupported method ('\(self.tracker.requestLineMethod ?? "")')"
            )
        case .invalidEOFState:
            self.close(reason: .clientClosed)
            return
        case .invalidMethod, .invalidURL, .invalidConstant:
            // Before the head ended, the request line is at fault: python names it
            // (`Bad request syntax ('GARBAGE')`). After it, a chunk's framing.
            let line = self.machine.phase == .awaitingHead ? self.tracker.requestLineText : nil
            httpError = HTTPError(.badRequest, message: line.map { "Bad request syntax ('\($0)')" } ?? "Bad request syntax (\(error.debugDescription))")
        default:
            httpError = HTTPError(.badRequest, message: "Bad request syntax (\(error.debugDescription))")
        }
        self.events.publish(
            .log(
                LogLine(
                    level: .info,
                    message: httpError.logLine,
                    connection: self.id,
                    peer: self.peerDescription
                )
            )
        )
        self.answerWithoutHead(httpError, reason: .protocolError, unparsed: (error.debugDescription, received))
    }

    /// Sends `error` for a request whose head never arrived, then closes.
    private func answerWithoutHead(_ error: HTTPError, reason: CloseReason, unparsed: (parserError: String?, received: ReceivedBytes?)? = nil) {
        self.closeReason = self.closeReason ?? reason
        let now = WallClock.monotonicNanoseconds()
        let method = self.tracker.requestLineMethod ?? "-"
        let head = HTTPRequestHead(version: .http1_1, method: .RAW(value: method), uri: "-")
        self.machine.closing()
        let writer = self.beginRequest(head, now: now)
        writer.respond(error: error, closeConnection: true, unparsed: unparsed)
        self.close(reason: reason)
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if let event = event as? ChannelEvent, event == .inputClosed {
            // After the requests that came before it.
            if self.pending.isEmpty { self.inputClosed() } else { self.pending.append(.halfClose) }
            return
        }
        if event is ChannelShouldQuiesceEvent {
            // The server is stopping: an idle connection closes now, a busy one after its response
            // (which says `Connection: close` if its head is not out yet). Waiting requests are dropped.
            self.pending.removeAll()
            self.closeReason = self.closeReason ?? .serverStopping
            if self.machine.wantsToClose() { self.close(reason: .serverStopping) }
            return
        }
        context.fireUserInboundEventTriggered(event)
    }

    /// The client half-closed: finish the current response, then close.
    private func inputClosed() {
        if self.machine.wantsToClose() { self.closeWhenWritten(reason: .clientClosed) }
    }

    // MARK: Used by ResponseWriter

    var keepsAlive: Bool { self.machine.keepAlive }

    func dateHeader() -> String { self.loop?.dateCache.current() ?? HTTPDate.format(secondsSinceEpoch: EventTime.now().secondsSinceEpoch) }

    /// The `Server` and `Date` field lines as bytes (see `DateHeaderCache.fieldLines`), and a
    /// version that changes whenever they do (`nil`: not tracked, without the loop's cache).
    func serverAndDateLines() -> (bytes: ByteBuffer, version: Int?) {
        if let cache = self.loop?.dateCache { return (cache.fieldLines(), cache.linesVersion) }
        return (DateHeaderCache(server: self.server.configuration.serverSoftware).fieldLines(), nil)
    }

    /// Queues response bytes (the writer frames them).
    func writeBytes(_ data: IOData, promise: EventLoopPromise<Void>?) {
        guard let context = self.context else {
            promise?.fail(ChannelError.ioOnClosedChannel)
            return
        }
        self.channelWrites &+= 1
        self.channelQueueIdle = false
        if let promise {
            // Registered before the caller's callbacks, so they already see the queue as it is.
            let write = self.channelWrites
            promise.futureResult.assumeIsolated().whenSuccess { [self] in
                if write == self.channelWrites { self.channelQueueIdle = true }
            }
        }
        context.write(Self.wrapOutboundOut(data), promise: promise)
    }

    /// Writes `buffer` straight to the socket when nothing of ours is queued in the channel, and
    /// moves its reader index past what the kernel took. Returns whether all of it was taken; if
    /// not (the socket is full, a short write, an error, no socket), the rest goes through the
    /// channel as usual, which then also reports any error.
    ///
    /// A whole small response (a cached file, an error page) is one `write(2)` this way, without
    /// NIO's write queue, flush and completion promise: about a sixth of the instructions of such
    /// a request (see README, Performance).
    func writeDirectly(_ buffer: inout ByteBuffer) -> Bool {
        #if os(Linux)
        guard self.channelQueueIdle, self.isActive, buffer.readableBytes > 0, let context = self.context,
            context.channel.isActive
        else { return false }
        if self.transport == nil {
            self.transport = .some(context.channel._channelCore as? any NIOTransportAccessibleChannelCore)
        }
        guard let core = self.transport ?? nil, let written = Self.writeOnce(through: core, buffer), written > 0 else {
            return false
        }
        buffer.moveReaderIndex(forwardBy: written)
        return buffer.readableBytes == 0
        #else
        return false
        #endif
    }

    func flush() { self.context?.flush() }

    /// Writes bytes that are already an HTTP response (`nph-` CGI), and flushes.
    func writeRaw(_ data: IOData, promise: EventLoopPromise<Void>?) {
        self.writeBytes(data, promise: promise)
        self.flush()
    }

    /// One `sendfile(2)` of up to `count` bytes of `file` from `offset` straight to the socket,
    /// bypassing NIO's write queue so the caller learns exactly how much the kernel took (see
    /// `FileTransfer`). Only when nothing is queued in the channel, so the bytes keep their order.
    func sendFile(_ file: NIOFileHandle, offset: Int64, count: Int) -> DirectSendResult {
        guard let context = self.context, self.isActive,
            let options = context.channel.syncOptions,
            let queued = try? options.getOption(.bufferedWritableBytes)
        else { return .noTransport }
        guard queued == 0 else { return .queued }
        #if os(Linux)
        let result = try? context.pipeline.syncOperations.withUnsafeTransportIfAvailable(of: NIOBSDSocket.Handle.self) {
            socket in
            try file.withUnsafeFileDescriptor { descriptor in
                Self.sendfileOnce(socket: socket, file: descriptor, offset: offset, count: count)
            }
        }
        return (result ?? nil) ?? .noTransport
        #else
        return .noTransport
        #endif
    }

    #if os(Linux)
    /// `writeOnce(socket:_:)` of `buffer`'s readable bytes on `core`'s socket (`nil`: not a socket).
    ///
    /// `ChannelPipeline.SynchronousOperations.withUnsafeTransportIfAvailable(of:)` does the same,
    /// but its cast to the protocol with its transport type bound costs ~14,000 instructions per call
    /// (callgrind), more than the write saves; here the core is cast once per connection and the
    /// transport type compared directly.
    private static func writeOnce<Core: NIOTransportAccessibleChannelCore>(through core: Core, _ buffer: ByteBuffer) -> Int? {
        guard Core.Transport.self == NIOBSDSocket.Handle.self else { return nil }
        return try? core.withUnsafeTransport { transport in
            let socket = unsafeBitCast(transport, to: NIOBSDSocket.Handle.self)
            return buffer.withUnsafeReadableBytes { Self.writeOnce(socket: socket, $0) }
        }
    }

    /// One `write(2)` (retried when interrupted); what the kernel took, 0 when it took nothing.
    private static func writeOnce(socket: CInt, _ bytes: UnsafeRawBufferPointer) -> Int {
        while true {
            let written = Glibc.write(socket, bytes.baseAddress, bytes.count)
            if written >= 0 { return written }
            if errno != EINTR { return 0 }
        }
    }

    private static func sendfileOnce(socket: CInt, file: CInt, offset: Int64, count: Int) -> DirectSendResult {
        var position = off_t(offset)
        while true {
            let written = Glibc.sendfile(socket, file, &position, count)
            if written >= 0 { return .sent(written) }
            switch errno {
            case EINTR: continue
            case EAGAIN, EWOULDBLOCK: return .wouldBlock
            case let code: return .failed(code)
            }
        }
    }
    #endif

    func noteWriteProgress() { self.machine.activity(now: WallClock.monotonicNanoseconds()) }

    /// The socket had no room for `nanoseconds` before it took more of a body: may resize how much
    /// unsent data it holds (see `SendBufferPolicy`).
    func socketWaitedForRoom(nanoseconds: Int64) {
        guard let limit = self.sendBuffer.waited(nanoseconds: nanoseconds),
            let options = self.context?.channel.syncOptions
        else { return }
        try? options.setOption(HTTPServer.notSentLowatOption, value: SocketOptionValue(limit))
    }

    /// The current response must close the connection.
    func forceCloseAfterResponse() { self.machine.forceClose() }

    /// The current request is answered once the event loop has done its reads (a cached file after
    /// its freshness check), within this loop turn.
    func answerComesAfterReads() { self.answerAfterReads = true }

    /// The writer is about to write `.end`. Returns whether the connection must then close.
    /// Called before the write because the write may deliver the next pipelined request at once.
    func responseWillEnd(_ writer: ResponseWriter) -> Bool {
        self.answerAfterReads = false
        if self.writer === writer {
            self.writer = nil
            self.responder = nil
        }
        switch self.machine.responseEnded(now: WallClock.monotonicNanoseconds()) {
        case .close: return true
        case .keepOpen, nil: return self.machine.phase == .closing
        }
    }

    /// A response's end is about to be written; `end` completes once it (and so everything before
    /// it) is out, or failed. The writer reports that with `responseEndWritten`.
    func responseEndQueued(_ end: EventLoopFuture<Void>) {
        self.unwrittenEnd = end
    }

    /// The last write of a response completed (or failed).
    func responseEndWritten(_ end: EventLoopFuture<Void>) {
        if self.unwrittenEnd == end { self.unwrittenEnd = nil }
    }

    /// Closes once everything written so far is out.
    func closeAfterResponse() { self.closeWhenWritten(reason: .notKeepAlive) }

    /// Closes once the last response is written. NIO's `close` drops writes still queued, so
    /// closing at once cut `Connection: close` and HTTP/1.0 answers short whenever they did not fit
    /// in the socket buffer (a 1.5 MB listing arrived as 135 KB). A client that stops reading is
    /// still dropped by the write timeout.
    private func closeWhenWritten(reason: CloseReason) {
        self.closeReason = self.closeReason ?? reason
        self.machine.closing()
        guard let end = self.unwrittenEnd else {
            self.context?.close(promise: nil)
            return
        }
        end.assumeIsolated().whenComplete { [self] _ in self.context?.close(promise: nil) }
    }

    /// The writer published its outcome.
    func responseFinished(_ writer: ResponseWriter) {
        if self.writer === writer {
            self.writer = nil
            self.responder = nil
        }
    }

    /// Closes at once (a handler failed mid-response).
    func abortConnection(reason: CloseReason) {
        self.writer = nil
        self.responder = nil
        self.close(reason: reason)
    }

    private func close(reason: CloseReason) {
        self.closeReason = self.closeReason ?? reason
        self.machine.closing()
        self.context?.close(promise: nil)
    }

    // MARK: Timer

    /// A response handed to the channel whole (a listing, a page) is still being written: the client
    /// is reading it if NIO's unsent bytes went down since the last check, and that is activity.
    /// Without this, the idle timeout ran from the moment such a response was queued, and a client
    /// reading a 1.5 MB listing at 200 KB/s was cut off after `--timeout` (by hand, with
    /// `--timeout 2`: 500 KB of it); so was one closing after its last response (`Connection:
    /// close`, HTTP/1.0). One that takes nothing for a whole timeout is still closed (at the second
    /// check at the latest, as the first has nothing to compare with).
    private func noteWritingProgress(now: Int64) {
        guard self.unwrittenEnd != nil, let unsent = try? self.context?.channel.syncOptions?.getOption(.bufferedWritableBytes)
        else {
            self.unsentAtLastCheck = .max
            return
        }
        if unsent < self.unsentAtLastCheck { self.machine.activity(now: now) }
        self.unsentAtLastCheck = unsent
    }

    /// The deadline passed (`ConnectionTimers` checks every connection of the loop periodically).
    func timerDue(now: Int64) {
        self.timerDeadline = .max
        guard self.context != nil, self.isActive else { return }
        // Reads counted by the tracker are activity too.
        if self.tracker.lastRead > self.machine.lastActivity, self.machine.phase != .awaitingHead {
            self.machine.activity(now: self.tracker.lastRead)
        }
        self.noteWritingProgress(now: now)
        let action = self.machine.timerFired(
            now: now,
            partialRequest: self.tracker.partialRequest,
            waitingForClient: (self.writer?.pendingWrites ?? 0) > 0,
            responseStarted: self.writer?.hasStarted ?? false
        )
        switch action {
        case .rearm(let deadline):
            self.timerDeadline = deadline
        case .close(let reason, let sendTimeoutResponse):
            if sendTimeoutResponse {
                // Which part did not arrive, and in how long: the page and the dashboard say so.
                let seconds = self.server.configuration.timeoutSeconds
                let limit = seconds == seconds.rounded() && seconds < 1e9 ? String(Int(seconds)) : String(seconds)
                if let writer = self.writer, !writer.hasStarted {
                    self.closeReason = reason
                    let error = HTTPError(.requestTimeout, message: "Request body not received in full within \(limit) s")
                    writer.respond(error: error, closeConnection: true)
                    self.close(reason: reason)
                } else {
                    // A head that never ended (slow loris, a client typed by hand): what had arrived.
                    let error = HTTPError(.requestTimeout, message: "Request head not received in full within \(limit) s")
                    self.answerWithoutHead(error, reason: reason, unparsed: (nil, self.tracker.receivedSoFar()))
                }
            } else {
                self.close(reason: reason)
            }
        }
    }

    // MARK: Helpers

    /// `127.0.0.1` or `::1` (python's `client_address[0]`), or `ip:port` when asked. IPv4 clients of a
    /// dual-stack listener are shown as plain IPv4, not `::ffff:127.0.0.1`.
    static func describe(_ address: SocketAddress?, withPort: Bool = false) -> String {
        guard let address else { return "-" }
        var ip = address.ipAddress ?? "\(address)"
        if ip.hasPrefix("::ffff:"), ip.contains(".") { ip.removeFirst(7) }
        guard withPort, let port = address.port else { return ip }
        return ip.contains(":") ? "[\(ip)]:\(port)" : "\(ip):\(port)"
    }
}

/// What the engine checks in every request's header fields, read in one pass: the block's size as
/// sent and its `Host` fields.
///
/// Every request passes here, so bytes are read from the strings' storage: generic `elementsEqual`
/// and `allSatisfy` over the UTF-8 views, and a second pass over the fields, cost ~1,600
/// instructions a request (callgrind), 3 % of a small file's answer.
struct HeaderScan {
    /// `name: value` and CRLF per field.
    private(set) var bytes = 0
    private(set) var hostCount = 0
    /// The first `Host` value.
    private(set) var host: String?
    /// Whether a field may be `If-Match`, `If-None-Match`, `If-Modified-Since`,
    /// `If-Unmodified-Since`, `Range` or `If-Range`: one
    /// whose name has the length and first letter of one (`false` means none is there, so a file's
    /// answer needs no further look at the fields).
    private(set) var mayHaveConditions = false
    /// Whether a field may be `Expect` (same test).
    private(set) var mayHaveExpect = false
    /// Whether a field may be `Upgrade` (same test).
    private(set) var mayUpgrade = false
    /// Whether a field may be `Transfer-Encoding` (same test).
    private(set) var mayHaveTransferCoding = false

    init(_ headers: HTTPHeaders) {
        for (name, value) in headers {
            let nameLength = name.utf8.count
            self.bytes += nameLength + value.utf8.count + 4
            switch nameLength {
            case 4:
                guard Self.isHostName(name) else { continue }
                self.hostCount += 1
                if self.host == nil { self.host = value }
            case 5, 8, 13, 17, 19:
                // range; if-range, if-match, if-none-match, if-modified-since, if-unmodified-since;
                // transfer-encoding
                let first = (name.utf8.first ?? 0) | 0x20
                if first == (nameLength == 5 ? UInt8(ascii: "r") : UInt8(ascii: "i")) {
                    self.mayHaveConditions = true
                } else if nameLength == 17, first == UInt8(ascii: "t") {
                    self.mayHaveTransferCoding = true
                }
            case 6:
                if (name.utf8.first ?? 0) | 0x20 == UInt8(ascii: "e") { self.mayHaveExpect = true }
            case 7:
                if (name.utf8.first ?? 0) | 0x20 == UInt8(ascii: "u") { self.mayUpgrade = true }
            default:
                continue
            }
        }
    }

    /// Why the `Host` fields break RFC 9112 §3.2, or `nil`: an HTTP/1.1 request must carry exactly
    /// one, and its value must be `host[:port]` (an empty value is allowed). HTTP/1.0 may omit it.
    func hostProblem(version: HTTPVersion) -> String? {
        if self.hostCount > 1 { return "More than one Host header" }
        guard let host = self.host else { return version.minor >= 1 ? "HTTP/1.1 request without a Host header" : nil }
        let valid =
            host.utf8.withContiguousStorageIfAvailable { ByteClass.isHostValue($0) }
            ?? ByteClass.isHostValue(Array(host.utf8))
        return valid ? nil : "Bad Host header"
    }

    private static func isHostName(_ name: String) -> Bool {
        name.utf8.withContiguousStorageIfAvailable { bytes in
            bytes[0] | 0x20 == UInt8(ascii: "h") && bytes[1] | 0x20 == UInt8(ascii: "o")
                && bytes[2] | 0x20 == UInt8(ascii: "s") && bytes[3] | 0x20 == UInt8(ascii: "t")
        } ?? (name.lowercased() == "host")
    }
}
