#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

import NIOCore
import NIOHTTP1

/// Writes one response and reports it as events: the seed's `send_response`, `send_header`,
/// `end_headers`, `send_error` and `log_request` in one place.
///
/// It adds `Server`, `Date` and `Connection`, never writes a body for HEAD or for statuses that
/// cannot have one (RFC 9110 §9.3.2, §15), counts body bytes as the kernel takes them, publishes
/// progress at most every 50 ms and the request's outcome once. Used from the connection's
/// event loop only.
public final class ResponseWriter {
    enum State {
        case idle
        case streaming
        case ended
    }

    public let request: Request
    public let environment: HandlerEnvironment
    public let eventLoop: EventLoop
    private let connection: HTTPConnectionHandler
    private let events: EventPublisher
    private let requestVersion: HTTPVersion
    /// When the request's head arrived (monotonic nanoseconds).
    let startedAt: Int64
    private let responseVersion: HTTPVersion
    private(set) var state = State.idle
    private var finished = false
    /// The status sent, once the head is written.
    public private(set) var status: HTTPResponseStatus?
    /// Body bytes the kernel has accepted.
    public private(set) var bytesSent: Int64 = 0
    private var bytesReported: Int64 = 0
    private var lastProgressEvent: Int64
    /// Whether a progress event is due at the end of the current 50 ms interval: bytes written
    /// within it and nothing after them (a script that writes a line and waits) are still shown.
    private var trailingProgressScheduled = false
    private var expectedBodyBytes: Int64?
    /// Body writes handed to the channel and not completed yet.
    private(set) var pendingWrites = 0
    private var suppressBody = false
    /// The body goes out in chunks (HTTP/1.1, no `Content-Length`, not HEAD).
    private var chunked = false
    private var headFlushed = false
    /// The body is the whole response (`nph-` CGI): written unchanged, no framing of ours.
    private var raw = false
    /// Whether this request's `responseStarted` is published (its `requestReceived` was).
    private let publishesDetail: Bool
    /// Why the response is an error page, for `responseStarted` (only kept when it is published).
    private var problem: RequestProblem?
    /// The first bytes of a body written from memory (not a file's), when detail is published.
    private var bodyCapture: BodyCapture?
    private static let allocator = ByteBufferAllocator()
    /// Bodies up to this size share one buffer with the head: one write, one `writev` entry.
    static let inlineBodyLimit = 16 * 1024

    /// Minimum spacing of body-progress events.
    static let progressInterval: Int64 = 50_000_000

    init(
        request: Request,
        environment: HandlerEnvironment,
        eventLoop: EventLoop,
        connection: HTTPConnectionHandler,
        events: EventPublisher,
        now: Int64,
        publishesDetail: Bool = true
    ) {
        self.publishesDetail = publishesDetail
        self.request = request
        self.environment = environment
        self.eventLoop = eventLoop
        self.connection = connection
        self.events = events
        self.requestVersion = request.head.version
        self.startedAt = now
        self.lastProgressEvent = now
        let server: HTTPVersion =
            environment.configuration.protocolVersion == .http1_0 ? .http1_0 : .http1_1
        self.responseVersion = request.head.version.minor == 0 || server == .http1_0 ? .http1_0 : .http1_1
    }

    /// Whether the client asked with HEAD: the writer will drop any body.
    public var isHeadRequest: Bool { self.request.head.method == .HEAD }

    /// Whether the head has been written.
    public var hasStarted: Bool { self.state != .idle }

    /// The response will be written once the event loop has done its reads, within this loop turn
    /// (a cached file waiting for its freshness check): the connection keeps reading meanwhile.
    func answersAfterReads() { self.connection.answerComesAfterReads() }

    /// Writes the status line and headers. `Content-Length` in `headers` is the body size
    /// (for HEAD: the size a GET would have sent).
    public func writeHead(status: HTTPResponseStatus, headers: HTTPHeaders = HTTPHeaders()) {
        guard self.state == .idle else { return }
        let head = self.makeHead(status: status, headers: headers)
        self.state = .streaming
        var buffer = Self.allocator.buffer(capacity: 512)
        ResponseEncoding.writeHead(head, into: &buffer)
        self.connection.writeBytes(.byteBuffer(buffer), promise: nil)
    }

    /// Writes a body part and flushes it. The future completes when the kernel has taken it,
    /// which is how streaming handlers pace themselves (backpressure). For HEAD it succeeds at once.
    @discardableResult
    public func writeBody(_ data: IOData) -> EventLoopFuture<Void> {
        guard self.state == .streaming, !self.finished else {
            return self.eventLoop.makeFailedFuture(ChannelError.ioOnClosedChannel)
        }
        if self.suppressBody { return self.eventLoop.makeSucceededVoidFuture() }
        self.capture(data)
        let count = Int64(data.readableBytes)
        let promise = self.eventLoop.makePromise(of: Void.self)
        self.pendingWrites += 1
        if self.raw {
            self.connection.writeRaw(data, promise: promise)
        } else if self.chunked, count > 0 {
            // RFC 9112 §7.1: size line, data, CRLF. An empty part would read as the last chunk.
            self.connection.writeBytes(.byteBuffer(ResponseEncoding.chunkHeader(count: Int(count), allocator: Self.allocator)), promise: nil)
            self.connection.writeBytes(data, promise: nil)
            self.connection.writeBytes(.byteBuffer(ResponseEncoding.chunkTrailer(allocator: Self.allocator)), promise: promise)
            self.connection.flush()
        } else {
            self.connection.writeBytes(data, promise: promise)
            self.connection.flush()
        }
        return promise.futureResult.assumeIsolated().map { [self] in
            self.pendingWrites -= 1
            self.bytesSent += count
            self.connection.noteWriteProgress()
            self.publishProgressIfDue()
        }.nonisolated()
    }

    /// Sends body bytes of `file` with one `sendfile(2)` straight to the socket and counts what the
    /// kernel took (see `FileTransfer`). Flushes the head first, so nothing is left queued ahead.
    func sendBodyDirectly(_ file: NIOFileHandle, offset: Int64, count: Int) -> DirectSendResult {
        guard self.state == .streaming, !self.finished, !self.suppressBody, !self.raw else { return .noTransport }
        if !self.headFlushed {
            self.headFlushed = true
            self.connection.flush()
        }
        let result = self.connection.sendFile(file, offset: offset, count: count)
        if case .sent(let count) = result, count > 0 {
            self.bytesSent += Int64(count)
            self.connection.noteWriteProgress()
            self.publishProgressIfDue()
        }
        return result
    }

    /// A body write waited `nanoseconds` for room in the socket (see `SendBufferPolicy`).
    func socketWaitedForRoom(nanoseconds: Int64) {
        self.connection.socketWaitedForRoom(nanoseconds: nanoseconds)
    }

    /// A direct body write failed with `errno`: the response is over and the connection closes.
    /// The client going away (EPIPE, ECONNRESET) is an abort; anything else a failure.
    func directWriteFailed(errno code: Int32) {
        guard !self.finished else { return }
        self.state = .ended
        let clientLeft = code == EPIPE || code == ECONNRESET
        if !clientLeft {
            let message = "sending \(self.request.rawPath) failed: errno \(code)"
            self.events.publish(.log(LogLine(level: .error, message: message, connection: self.request.id.connection)))
        }
        self.finish(clientLeft ? .abortedByClient : .failed)
        self.connection.abortConnection(reason: clientLeft ? .clientClosed : .error)
    }

    /// Ends the response. The connection then stays open for the next request or closes.
    /// The future completes once everything before the end was written (or failed): the time to
    /// release what the body needed, such as a file descriptor.
    @discardableResult
    public func end() -> EventLoopFuture<Void> {
        guard self.state == .streaming else { return self.eventLoop.makeSucceededVoidFuture() }
        return self.writeLast(bodyBytes: 0) { promise in
            if self.raw {
                self.connection.writeRaw(.byteBuffer(ByteBuffer()), promise: promise)
            } else {
                // With a length the end is no bytes; the empty write completes after the body's.
                let end = self.chunked ? ResponseEncoding.lastChunk(allocator: Self.allocator) : ByteBuffer()
                self.connection.writeBytes(.byteBuffer(end), promise: promise)
                self.connection.flush()
            }
        }
    }

    /// Ends the response with `write`, which must hand `promise` to the response's last write;
    /// publishes the outcome once that write is done (counting `bodyBytes` then) and closes the
    /// connection afterwards if it must.
    private func writeLast(bodyBytes: Int64, _ write: (EventLoopPromise<Void>) -> Void) -> EventLoopFuture<Void> {
        self.state = .ended
        let close = self.connection.responseWillEnd(self)
        let promise = self.eventLoop.makePromise(of: Void.self)
        let end = promise.futureResult
        // Before the write, so a close the write triggers waits for this response too.
        self.connection.responseEndQueued(end)
        write(promise)
        end.assumeIsolated().whenComplete { [self] result in
            self.connection.responseEndWritten(end)
            switch result {
            case .success:
                self.bytesSent += bodyBytes
                self.finish(.completed)
            case .failure:
                self.finish(.abortedByClient)
            }
        }
        if close { self.connection.closeAfterResponse() }
        // Only now may the next pipelined request go: its answer must follow this one's bytes.
        self.connection.responseWritten()
        return end
    }

    /// `writeLast(bodyBytes:_:)` for a response the kernel took whole in `writeDirectly`: it is over
    /// now, in the same order of steps.
    private func endedDirectly(bodyBytes: Int64) -> EventLoopFuture<Void> {
        self.state = .ended
        let close = self.connection.responseWillEnd(self)
        self.bytesSent += bodyBytes
        self.finish(.completed)
        if close { self.connection.closeAfterResponse() }
        self.connection.responseWritten()
        return self.eventLoop.makeSucceededVoidFuture()
    }

    /// Starts a response whose bytes the caller writes in full, status line and headers included
    /// (an `nph-` CGI script). `status` is what the caller found in its status line, for the log.
    /// Bodies then go out unchanged, even for HEAD, and the connection closes after the response.
    public func startRaw(status: HTTPResponseStatus) {
        guard self.state == .idle else { return }
        self.state = .streaming
        self.raw = true
        self.connection.forceCloseAfterResponse()
        self.started(status, headers: HTTPHeaders(), expectedBodyBytes: nil)
    }

    /// Sends a complete response in one flush: head, body (unless suppressed) and end.
    /// `Content-Length` is added from the body when absent (not for statuses without a body).
    ///
    /// The hot path of every small file, listing and error page, so it writes as little as it can:
    /// the head, and a body up to `inlineBodyLimit` copied after it, as one buffer: one `write(2)`
    /// straight to the socket when nothing else is queued, otherwise a channel write carrying the
    /// completion promise (a larger body is a second write carrying it). With `Content-Length`
    /// framing the end is no bytes. The body is counted when the kernel has taken it.
    @discardableResult
    public func respond(status: HTTPResponseStatus, headers: HTTPHeaders = HTTPHeaders(), body: IOData?) -> EventLoopFuture<Void> {
        guard self.state == .idle else { return self.eventLoop.makeSucceededVoidFuture() }
        var headers = headers
        let code = status.code
        if code >= 200, code != 204, code != 304, !headers.contains(name: "content-length") {
            headers.add(name: "Content-Length", value: String(body?.readableBytes ?? 0))
        }
        let head = self.makeHead(status: status, headers: headers)
        let sent = body.flatMap { !self.suppressBody && $0.readableBytes > 0 ? $0 : nil }
        if let sent { self.capture(sent) }
        var buffer = Self.headBuffer(capacity: 512, body: sent)
        ResponseEncoding.writeHead(head, into: &buffer)
        return self.writeLast(head: &buffer, body: sent)
    }

    /// Keeps the first bytes of a body part written from memory, for the dashboard.
    private func capture(_ data: IOData) {
        guard self.publishesDetail, case .byteBuffer(let bytes) = data else { return }
        if self.bodyCapture == nil { self.bodyCapture = BodyCapture(id: self.request.id) }
        self.bodyCapture?.append(bytes)
    }

    /// A buffer for a head of about `capacity` bytes, with room for `body` if it will follow in it.
    private static func headBuffer(capacity: Int, body: IOData?) -> ByteBuffer {
        guard case .byteBuffer(let bytes) = body else { return Self.allocator.buffer(capacity: capacity) }
        return Self.allocator.buffer(capacity: capacity + Self.inlinedBytes(of: bytes.readableBytes))
    }

    /// How much of an in-memory body of `count` bytes goes out in the head's buffer: all of it up to
    /// `inlineBodyLimit`, otherwise none (it is a second write).
    private static func inlinedBytes(of count: Int) -> Int {
        count <= Self.inlineBodyLimit ? count : 0
    }

    /// Ends the response with the encoded head in `buffer` and `body` (`nil`: none) in one flush: an
    /// inlined body is copied after the head, one write carrying the completion promise; a larger
    /// body is a second write carrying it. (`inout`: a copy of the caller's buffer would be copied
    /// again on the first byte appended.)
    private func writeLast(head buffer: inout ByteBuffer, body: IOData?) -> EventLoopFuture<Void> {
        switch body {
        case .byteBuffer(let bytes): return self.writeLast(head: &buffer, bytes: bytes)
        case .fileRegion(let region): return self.writeLast(head: buffer, bodyBytes: region.readableBytes, separately: body)
        case nil: return self.writeLast(head: buffer, bodyBytes: 0, separately: nil)
        }
    }

    /// `writeLast(head:body:)` for a body in memory (`nil`: none), without wrapping it in `IOData`
    /// first: a cached file's answer goes this way on every hit.
    private func writeLast(head buffer: inout ByteBuffer, bytes body: ByteBuffer?) -> EventLoopFuture<Void> {
        let count = body?.readableBytes ?? 0
        guard let body, count > Self.inlineBodyLimit else {
            if let body { buffer.writeImmutableBuffer(body) }
            return self.writeLast(head: buffer, bodyBytes: count, separately: nil)
        }
        return self.writeLast(head: buffer, bodyBytes: count, separately: .byteBuffer(body))
    }

    /// The head's buffer (holding any inlined body), then `body` as a second write; `bodyBytes` is
    /// the body's size either way, counted as sent once the last write completes. A response that is
    /// the one buffer goes straight to the socket when it can (`HTTPConnectionHandler.writeDirectly`)
    /// and is over at once; what the kernel did not take goes through the channel.
    private func writeLast(head buffer: ByteBuffer, bodyBytes: Int, separately body: IOData?) -> EventLoopFuture<Void> {
        var buffer = buffer
        if body == nil, self.connection.writeDirectly(&buffer) {
            return self.endedDirectly(bodyBytes: Int64(bodyBytes))
        }
        return self.writeLast(bodyBytes: Int64(bodyBytes)) { promise in
            if let body {
                self.connection.writeBytes(.byteBuffer(buffer), promise: nil)
                self.connection.writeBytes(body, promise: promise)
            } else {
                self.connection.writeBytes(.byteBuffer(buffer), promise: promise)
            }
            self.connection.flush()
        }
    }

    /// `respond(status:headers:body:)` for an in-memory body.
    @discardableResult
    public func respond(status: HTTPResponseStatus, headers: HTTPHeaders = HTTPHeaders(), body: ByteBuffer? = nil) -> EventLoopFuture<Void> {
        self.respond(status: status, headers: headers, body: body.map { IOData.byteBuffer($0) })
    }

    /// `respond(status:headers:body:)` for fields encoded ahead: `fields` are `headers` as
    /// `ResponseEncoding.encodedFields` writes them, and must include `Content-Length` (the size of
    /// `body`, or for HEAD the size a GET would send). A cached file's answer is the same every time
    /// but for the writer's own fields, so only those are encoded per request; with `prepared`, the
    /// whole answer is built once and sent again while it would come out the same.
    @discardableResult
    func respond(
        status: HTTPResponseStatus,
        headers: HTTPHeaders,
        encodedFields fields: ByteBuffer,
        body: ByteBuffer,
        prepared: PreparedAnswer? = nil
    ) -> EventLoopFuture<Void> {
        guard self.state == .idle else { return self.eventLoop.makeSucceededVoidFuture() }
        let code = status.code
        precondition(code >= 200 && code != 204 && code != 304, "a status that cannot have a body has no Content-Length")
        self.suppressBody = self.isHeadRequest
        self.expectedBodyBytes = Int64(body.readableBytes)
        let connection = self.connectionField
        self.started(
            status,
            headers: {
                var all = headers
                self.addOwnFields(to: &all, connection: connection)
                return all
            }(),
            expectedBodyBytes: self.suppressBody ? 0 : self.expectedBodyBytes
        )
        let sent = self.suppressBody ? 0 : body.readableBytes
        let lines = self.connection.serverAndDateLines()
        let key = lines.version.map {
            PreparedAnswer.Key(status: status.code, version: self.responseVersion, connection: connection, withBody: sent > 0, lines: $0)
        }
        if let prepared, let key, let bytes = prepared.bytes(for: key) {
            return self.writeLast(head: bytes, bodyBytes: sent, separately: nil)
        }
        var buffer = Self.allocator.buffer(capacity: 128 + fields.readableBytes + Self.inlinedBytes(of: sent))
        ResponseEncoding.writeStatusLine(version: self.responseVersion, status: status, into: &buffer)
        buffer.writeImmutableBuffer(fields)
        self.writeOwnFields(lines: lines.bytes, connection: connection, into: &buffer)
        buffer.writeStaticString("\r\n")
        if let prepared, let key, sent <= Self.inlineBodyLimit {
            if sent > 0 { buffer.writeImmutableBuffer(body) }
            prepared.keep(buffer, for: key)
            return self.writeLast(head: buffer, bodyBytes: sent, separately: nil)
        }
        return self.writeLast(head: &buffer, bytes: sent == 0 ? nil : body)
    }

    /// Sends an error page like python's `send_error`: the status, `text/html;charset=utf-8`,
    /// `Content-Length`, and an HTML body unless the status or HEAD forbids one.
    /// - Parameter closeConnection: close after this response (the request could not be parsed).
    public func respond(error: HTTPError, closeConnection: Bool = false) {
        self.respond(error: error, closeConnection: closeConnection, unparsed: nil)
    }

    /// `respond(error:)` for a request whose head was not parsed (the decoder rejected it, or it never
    /// ended): `unparsed` says what the decoder objected to and what had arrived, for `responseStarted`.
    func respond(error: HTTPError, closeConnection: Bool, unparsed: (parserError: String?, received: ReceivedBytes?)?) {
        guard self.state == .idle else {
            self.fail()
            return
        }
        if self.publishesDetail {
            self.problem = RequestProblem(
                message: error.message,
                explanation: error.explanation == HTTPError.explanation(for: error.status) ? nil : error.explanation,
                parserError: unparsed?.parserError,
                received: unparsed?.received?.first,
                receivedCount: unparsed?.received?.count ?? 0,
                receivedIncludesEarlierRequests: unparsed?.received?.includesEarlierRequests ?? false
            )
        }
        if unparsed == nil, self.environment.configuration.logsErrorMessages {
            // (For one that was not parsed the connection has published it already.)
            self.events.publish(
                .log(
                    LogLine(
                        level: .info,
                        message: error.logLine,
                        connection: self.request.id.connection,
                        peer: self.connection.peerDescription
                    )
                )
            )
        }
        if closeConnection { self.connection.forceCloseAfterResponse() }
        var headers = HTTPHeaders()
        for (name, value) in error.headers { headers.add(name: name, value: value) }
        if error.allowsBody {
            let page = error.page
            headers.add(name: "Content-Type", value: "text/html;charset=utf-8")
            headers.add(name: "Content-Length", value: String(page.utf8.count))
            self.respond(status: error.status, headers: headers, body: ByteBuffer(string: page))
        } else {
            self.respond(status: error.status, headers: headers, body: nil as IOData?)
        }
    }

    /// The handler could not complete: a 500 page if nothing was sent yet, otherwise the connection
    /// is closed so the client sees the body is incomplete.
    public func fail(message: String? = nil) {
        if let message {
            self.events.publish(.log(LogLine(level: .error, message: message, connection: self.request.id.connection)))
        }
        if self.state == .idle {
            self.respond(error: HTTPError(.internalServerError, message: message), closeConnection: false)
            return
        }
        guard !self.finished else { return }
        self.state = .ended
        self.finish(.failed)
        self.connection.abortConnection(reason: .error)
    }

    /// The connection went away before the response ended.
    func connectionLost() {
        guard !self.finished else { return }
        self.finish(.abortedByClient)
    }

    /// The head as it goes on the wire. The writer owns the framing and connection fields:
    /// `Server`, `Date`, `Connection` and `Transfer-Encoding` are added here and must not come from
    /// the handler; `Content-Length` is dropped where no body may follow.
    private func makeHead(status: HTTPResponseStatus, headers: HTTPHeaders) -> HTTPResponseHead {
        assert(
            !["server", "date", "connection", "transfer-encoding"].contains { headers.contains(name: $0) },
            "the response writer sets Server, Date, Connection and Transfer-Encoding"
        )
        var headers = headers
        let code = status.code
        let bodyAllowed = code >= 200 && code != 204 && code != 304
        self.suppressBody = self.isHeadRequest || !bodyAllowed
        if !bodyAllowed {
            // RFC 9110 §8.6: no length for statuses that never have content.
            if headers.contains(name: "content-length") { headers.remove(name: "Content-Length") }
        } else if let length = headers.first(name: "content-length") {
            self.expectedBodyBytes = Int64(length)
        } else if self.responseVersion == .http1_1 {
            // No length: chunked. A HEAD response says so too, as the GET would (RFC 9112 §6.1),
            // but has no body to frame.
            headers.add(name: "Transfer-Encoding", value: "chunked")
            self.chunked = !self.suppressBody
        } else if !self.isHeadRequest {
            // No length and no chunking in HTTP/1.0: the end of the body is the end of the connection.
            self.connection.forceCloseAfterResponse()
        }
        self.addOwnFields(to: &headers, connection: self.connectionField)
        self.started(status, headers: headers, expectedBodyBytes: self.suppressBody ? 0 : self.expectedBodyBytes)
        return HTTPResponseHead(version: self.responseVersion, status: status, headers: headers)
    }

    /// The `Connection` field's value, if one is sent: `close`, or `keep-alive` to an HTTP/1.0
    /// client keeping the connection (HTTP/1.1 keeps it by default).
    private var connectionField: String? {
        if self.connection.keepsAlive { return self.responseVersion == .http1_0 ? "keep-alive" : nil }
        return "close"
    }

    /// Adds the writer's own fields: `Server`, `Date`, `Connection`.
    private func addOwnFields(to headers: inout HTTPHeaders, connection: String?) {
        headers.add(name: "Server", value: self.environment.configuration.serverSoftware)
        headers.add(name: "Date", value: self.connection.dateHeader())
        if let connection { headers.add(name: "Connection", value: connection) }
    }

    /// The writer's own fields as bytes, as `addOwnFields` adds them: `lines` are the connection's
    /// `serverAndDateLines()`.
    private func writeOwnFields(lines: ByteBuffer, connection: String?, into buffer: inout ByteBuffer) {
        buffer.writeImmutableBuffer(lines)
        if let connection { ResponseEncoding.writeField("Connection", connection, into: &buffer) }
    }

    /// Records the status and tells the bus the response has started (if it publishes detail).
    /// `headers` are only built then.
    private func started(_ status: HTTPResponseStatus, headers: @autoclosure () -> HTTPHeaders, expectedBodyBytes: Int64?) {
        self.status = status
        guard self.publishesDetail else { return }
        self.events.publish(
            .responseStarted(
                ResponseStarted(
                    id: self.request.id,
                    status: Int(status.code),
                    reason: status.reasonPhrase,
                    headers: HeaderFields(headers()),
                    expectedBodyBytes: expectedBodyBytes,
                    time: .now(),
                    problem: self.problem
                )
            )
        )
    }

    private func publishProgressIfDue() {
        guard !self.finished else { return }
        let now = WallClock.monotonicNanoseconds()
        let wait = self.lastProgressEvent + Self.progressInterval - now
        guard wait <= 0 else {
            // Only requests the dashboard follows need it (totals are exact from the outcome): one
            // timer at a time, which a response that ends first leaves with nothing to do.
            guard self.publishesDetail, !self.trailingProgressScheduled else { return }
            self.trailingProgressScheduled = true
            self.eventLoop.assumeIsolated().scheduleTask(in: .nanoseconds(wait)) { [self] in
                self.trailingProgressScheduled = false
                guard !self.finished, self.bytesSent > self.bytesReported else { return }
                self.publishProgress(now: WallClock.monotonicNanoseconds())
            }
            return
        }
        self.publishProgress(now: now)
    }

    private func publishProgress(now: Int64) {
        self.lastProgressEvent = now
        let delta = self.bytesSent - self.bytesReported
        self.bytesReported = self.bytesSent
        self.events.publish(
            .bodyProgress(
                BodyProgress(
                    id: self.request.id,
                    bytesSent: self.bytesSent,
                    expectedBodyBytes: self.expectedBodyBytes,
                    time: .now()
                )
            ),
            addingBytes: delta
        )
    }

    private func finish(_ outcome: RequestOutcome) {
        guard !self.finished else { return }
        self.finished = true
        let delta = self.bytesSent - self.bytesReported
        self.bytesReported = self.bytesSent
        let head = self.request.head
        if self.publishesDetail, let body = self.bodyCapture?.responseEvent() { self.events.publish(.responseBody(body)) }
        self.events.publish(
            .requestFinished(
                RequestFinished(
                    id: self.request.id,
                    method: head.method.rawValue,
                    target: head.uri,
                    version: head.version.text,
                    peer: self.connection.peerDescription,
                    status: Int(self.status?.code ?? 0),
                    bytesSent: self.bytesSent,
                    durationNanoseconds: WallClock.monotonicNanoseconds() - self.startedAt,
                    outcome: outcome,
                    time: .now(),
                    hadDetail: self.publishesDetail
                )
            ),
            addingBytes: delta
        )
        self.connection.responseFinished(self)
    }
}
