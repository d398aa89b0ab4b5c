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
    private let bus: EventBus
    private let requestVersion: HTTPVersion
    private let startedAt: Int64
    private let responseVersion: HTTPVersion
    private(set) var state = State.idle
    private var finished = false
    /// The status sent, once the head is written.
    public private(set) var status: HTTPResponseStatus?
    /// Body bytes the kernel has accepted.
    public private(set) var bytesSent: Int64 = 0
    private var bytesReported: Int64 = 0
    private var lastProgressEvent: Int64
    private var expectedBodyBytes: Int64?
    /// Body writes handed to the channel and not completed yet.
    private(set) var pendingWrites = 0
    private var suppressBody = false
    private var headFlushed = false
    /// The body is the whole response (`nph-` CGI): written past the HTTP encoder, unchanged.
    private var raw = false

    /// Minimum spacing of body-progress events.
    static let progressInterval: Int64 = 50_000_000

    init(
        request: Request,
        environment: HandlerEnvironment,
        eventLoop: EventLoop,
        connection: HTTPConnectionHandler,
        bus: EventBus,
        now: Int64
    ) {
        self.request = request
        self.environment = environment
        self.eventLoop = eventLoop
        self.connection = connection
        self.bus = bus
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

    /// Writes the status line and headers. `Content-Length` in `headers` is the body size
    /// (for HEAD: the size a GET would have sent).
    public func writeHead(status: HTTPResponseStatus, headers: HTTPHeaders = HTTPHeaders()) {
        guard self.state == .idle else { return }
        let head = self.makeHead(status: status, headers: headers)
        self.state = .streaming
        self.connection.write(.head(head), promise: nil)
    }

    /// Writes a body part and flushes it. The future completes when the kernel has taken it,
    /// which is how streaming handlers pace themselves (backpressure). For HEAD it succeeds at once.
    @discardableResult
    public func writeBody(_ data: IOData) -> EventLoopFuture<Void> {
        guard self.state == .streaming, !self.finished else {
            return self.eventLoop.makeFailedFuture(ChannelError.ioOnClosedChannel)
        }
        if self.suppressBody { return self.eventLoop.makeSucceededVoidFuture() }
        let count = Int64(data.readableBytes)
        let promise = self.eventLoop.makePromise(of: Void.self)
        self.pendingWrites += 1
        if self.raw {
            self.connection.writeRaw(data, promise: promise)
        } else {
            self.connection.write(.body(data), promise: promise)
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
            self.bus.publish(.log(LogLine(level: .error, message: message, connection: self.request.id.connection)))
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
                self.connection.write(.end(nil), promise: promise)
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
        // Before the write: writing the end may deliver the next pipelined request at once, and a
        // close it triggers must wait for this response too.
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
        return end
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
    /// the completion promise rides on the last write that puts bytes on the wire (the body, or the
    /// head when there is none), and the end goes down without one, which with `Content-Length`
    /// framing writes nothing. The body is counted when that write completes.
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
        return self.writeLast(bodyBytes: Int64(sent?.readableBytes ?? 0)) { promise in
            if let sent {
                self.connection.write(.head(head), promise: nil)
                self.connection.write(.body(sent), promise: promise)
            } else {
                self.connection.write(.head(head), promise: promise)
            }
            self.connection.write(.end(nil), promise: nil)
            self.connection.flush()
        }
    }

    /// `respond(status:headers:body:)` for an in-memory body.
    @discardableResult
    public func respond(status: HTTPResponseStatus, headers: HTTPHeaders = HTTPHeaders(), body: ByteBuffer? = nil) -> EventLoopFuture<Void> {
        self.respond(status: status, headers: headers, body: body.map { IOData.byteBuffer($0) })
    }

    /// Sends an error page like python's `send_error`: the status, `text/html;charset=utf-8`,
    /// `Content-Length`, and an HTML body unless the status or HEAD forbids one.
    /// - Parameter closeConnection: close after this response (the request could not be parsed).
    public func respond(error: HTTPError, closeConnection: Bool = false) {
        guard self.state == .idle else {
            self.fail()
            return
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
            self.bus.publish(.log(LogLine(level: .error, message: message, connection: self.request.id.connection)))
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

    /// The head as it goes on the wire. The writer owns the framing and connection fields (NIO's
    /// encoder is told not to touch them, which spares a copy of every response's headers):
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
            // No length: chunked (the encoder frames the body by this header). A HEAD response
            // says so too, as the GET would (RFC 9112 §6.1).
            headers.add(name: "Transfer-Encoding", value: "chunked")
        } else if !self.isHeadRequest {
            // No length and no chunking in HTTP/1.0: the end of the body is the end of the connection.
            self.connection.forceCloseAfterResponse()
        }
        headers.add(name: "Server", value: self.environment.configuration.serverSoftware)
        headers.add(name: "Date", value: self.connection.dateHeader())
        if self.connection.keepsAlive {
            if self.responseVersion == .http1_0 { headers.add(name: "Connection", value: "keep-alive") }
        } else {
            headers.add(name: "Connection", value: "close")
        }
        self.started(status, headers: headers, expectedBodyBytes: self.suppressBody ? 0 : self.expectedBodyBytes)
        return HTTPResponseHead(version: self.responseVersion, status: status, headers: headers)
    }

    /// Records the status and tells the bus the response has started.
    private func started(_ status: HTTPResponseStatus, headers: HTTPHeaders, expectedBodyBytes: Int64?) {
        self.status = status
        self.bus.publish(
            .responseStarted(
                ResponseStarted(
                    id: self.request.id,
                    status: Int(status.code),
                    reason: status.reasonPhrase,
                    headers: HeaderFields(headers),
                    expectedBodyBytes: expectedBodyBytes,
                    time: .now()
                )
            )
        )
    }

    private func publishProgressIfDue() {
        let now = WallClock.monotonicNanoseconds()
        guard now - self.lastProgressEvent >= Self.progressInterval, !self.finished else { return }
        self.lastProgressEvent = now
        let delta = self.bytesSent - self.bytesReported
        self.bytesReported = self.bytesSent
        self.bus.publish(
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
        self.bus.publish(
            .requestFinished(
                RequestFinished(
                    id: self.request.id,
                    method: head.method.rawValue,
                    target: head.uri,
                    version: head.version.description,
                    peer: self.connection.peerDescription,
                    status: Int(self.status?.code ?? 0),
                    bytesSent: self.bytesSent,
                    durationNanoseconds: WallClock.monotonicNanoseconds() - self.startedAt,
                    outcome: outcome,
                    time: .now()
                )
            ),
            addingBytes: delta
        )
        self.connection.responseFinished(self)
    }
}
