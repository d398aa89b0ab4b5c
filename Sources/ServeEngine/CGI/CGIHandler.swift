#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

import NIOCore
import NIOHTTP1
import NIOPosix

/// Runs CGI scripts (RFC 3875): the seed's `CGIHTTPRequestHandler`, fixed.
///
/// It claims every request whose normalised path lies under a CGI folder, whatever the method, so a
/// script's source is never served as a file. The folder itself (and sub-folders) is listed by the
/// file handler's code for GET and HEAD; nothing runs for a listing.
public struct CGIHandler: RequestHandler {
    public let options: CGIOptions
    private let directories: [[String]]

    public init(options: CGIOptions = CGIOptions()) {
        self.options = options
        self.directories = options.directoryComponents
    }

    public func responder(for request: Request, environment: HandlerEnvironment) -> (any RequestResponder)? {
        guard let resolved = try? SafePath.resolve(request.rawPath),
            let prefix = CGIRoute.match(resolved, directories: self.directories)
        else { return nil }
        return CGIResponder(options: self.options, resolved: resolved, prefixCount: prefix)
    }
}

/// A script found on disk for a request.
struct CGIScript: Sendable, Equatable {
    /// Absolute file name.
    var path: String
    /// How many request path components name the script (the rest is `PATH_INFO`).
    var componentCount: Int
    /// The folder it runs in.
    var directory: String
}

enum CGILookup: Sendable, Equatable {
    case script(CGIScript)
    /// The path names a folder under the CGI folder: list it, run nothing.
    case directory
    case error(HTTPError)
}

extension CGIScript {
    /// Walks `resolved` from the CGI folder down: the first regular file is the script and what follows
    /// is extra path. Blocking (stat, realpath, access): run on the thread pool.
    static func locate(_ resolved: SafePath.Resolved, prefixCount: Int, root: String) -> CGILookup {
        for index in (prefixCount - 1)..<resolved.components.count {
            let path = SafePath.join(root, Array(resolved.components[...index]))
            let status: FileSystemProbe.Status
            switch FileSystemProbe.status(FileSystemPath(path)) {
            case .success(let found): status = found
            case .failure(let error): return .error(error.httpError)
            }
            if status.isDirectory { continue }
            guard status.isRegular, index >= prefixCount else {
                return .error(HTTPError(.forbidden, message: "Not a CGI script"))
            }
            // Always inside the root, --follow-symlinks or not: a link must not run a program elsewhere.
            guard FileSystemProbe.isInside(FileSystemPath(path), root: root) else {
                return .error(.leadsOutside)
            }
            guard access(path, X_OK) == 0 else {
                return .error(HTTPError(.forbidden, message: "CGI script is not executable"))
            }
            let directory = String(path[..<path.lastIndex(of: "/")!])
            return .script(CGIScript(path: path, componentCount: index + 1, directory: directory.isEmpty ? "/" : directory))
        }
        return .directory
    }
}

/// One CGI request: find the script, start it, stream the body to its stdin and its stdout to the
/// client, and make sure it ends (timeout, client gone) and is reaped. Lives on the connection's
/// event loop; the script's pipes are NIO channels on the same loop, so nothing blocks and every
/// callback runs there.
final class CGIResponder: RequestResponder {
    private let options: CGIOptions
    private let resolved: SafePath.Resolved
    private let prefixCount: Int
    private var writer: ResponseWriter?
    /// Set when the path is a folder: its listing comes from the file handler's responder.
    private var listing: FileResponder?
    private var cancelled = false
    /// The response has been ended, failed or answered with an error: the writer is done.
    private var answered = false

    // Request body.
    private var declaredLength: Int64?
    private var chunkedBody = false
    private var pendingBody: [ByteBuffer] = []
    private var bodyBytes: Int64 = 0
    private var bodyEnded = false
    private var stdin: Channel?
    private var lastStdinWrite: EventLoopFuture<Void>?

    // The script.
    private var script: CGIScript?
    private var scriptName = ""
    /// The script's process group (its pid: it leads the group). Kept after it exits, so a
    /// timeout still reaches what it left running.
    private var processGroup: pid_t?
    /// Shared with the reaper, which records the exit there before the loop hears of it.
    private var watch: ChildWatch?
    private var exit: ChildExit? { self.watch?.exit }
    private var stdout: Channel?
    private var stderr: Channel?
    private var timer: Scheduled<Void>?

    // Its output.
    private var isNPH = false
    private var headerBytes: [UInt8] = []
    private var head: CGIResponseHead?
    private var headSent = false
    private var stdoutEnded = false
    private var bodySent: Int64 = 0
    private var waitingForExit = false
    private var stderrBuffer: [UInt8] = []
    private var stderrLines = 0

    /// stderr lines logged per request before the rest is summarised.
    static let maxStderrLines = 200
    static let maxStderrLineBytes = 1000

    init(options: CGIOptions, resolved: SafePath.Resolved, prefixCount: Int) {
        self.options = options
        self.resolved = resolved
        self.prefixCount = prefixCount
    }

    // MARK: RequestResponder

    func start(writer: ResponseWriter) {
        self.writer = writer
        let headers = writer.request.head.headers
        if headers.contains(name: "transfer-encoding") {
            self.chunkedBody = true
        } else if let text = headers.first(name: "content-length") {
            guard let length = Int64(text), length >= 0 else {
                self.answer(error: HTTPError(.badRequest, message: "Bad Content-Length"), close: true)
                return
            }
            self.declaredLength = length
        }
        if let length = self.declaredLength, length > self.options.maxBodyBytes {
            self.answer(error: self.tooLarge, close: true)
            return
        }
        // A script's name, SCRIPT_NAME and PATH_INFO are text; bytes that are not UTF-8 are refused
        // rather than guessed at (the file handler serves such names; scripts are not run by them).
        guard self.resolved.isExact else {
            self.answer(error: HTTPError(.badRequest, message: "Bad request path encoding (CGI paths must be UTF-8)"))
            return
        }
        let environment = writer.environment
        let resolved = self.resolved
        let prefixCount = self.prefixCount
        let root = environment.root.path
        environment.threadPool.runIfActive(eventLoop: writer.eventLoop) {
            CGIScript.locate(resolved, prefixCount: prefixCount, root: root)
        }.assumeIsolated().whenComplete { [self] result in
            guard !self.cancelled, !self.answered else { return }
            switch result {
            case .failure(let error):
                writer.fail(message: "CGI lookup failed: \(error)")
                self.answered = true
            case .success(.error(let error)):
                self.answer(error: error)
            case .success(.directory):
                self.list(writer: writer)
            case .success(.script(let script)):
                self.script = script
                self.scriptName = "/" + resolved.components.prefix(script.componentCount).joined(separator: "/")
                self.isNPH = resolved.components[script.componentCount - 1].utf8.starts(with: "nph-".utf8)
                // RFC 3875 §4.1.2 wants the body's length up front: a chunked body is gathered first.
                if !self.chunkedBody || self.bodyEnded { self.launch(script, writer: writer) }
            }
        }
    }

    func receiveBody(_ buffer: ByteBuffer) {
        guard !self.answered, self.listing == nil else { return }
        self.bodyBytes += Int64(buffer.readableBytes)
        if self.bodyBytes > self.options.maxBodyBytes || (self.declaredLength.map { self.bodyBytes > $0 } ?? false) {
            self.stopScript()
            self.answer(error: self.tooLarge, close: true)
            return
        }
        if let stdin = self.stdin {
            self.lastStdinWrite = stdin.writeAndFlush(buffer)
        } else {
            self.pendingBody.append(buffer)
        }
    }

    func receiveEnd() {
        self.bodyEnded = true
        if self.stdin != nil {
            self.closeStdinWhenWritten()
        } else if let script = self.script, let writer = self.writer, self.processGroup == nil, self.chunkedBody, !self.answered {
            self.launch(script, writer: writer)
        }
    }

    func cancel() {
        self.cancelled = true
        self.watch?.stopNotifying()
        self.listing?.cancel()
        self.stopScript()
        self.closePipes()
    }

    // MARK: Starting

    private var tooLarge: HTTPError {
        HTTPError(.payloadTooLarge, message: "Request body larger than \(self.options.maxBodyBytes) bytes (--cgi-max-body)")
    }

    private func list(writer: ResponseWriter) {
        switch writer.request.method {
        case .GET, .HEAD:
            let listing = FileResponder()
            self.listing = listing
            self.answered = true
            listing.start(writer: writer)
        default:
            self.answer(error: HTTPError(.methodNotAllowed, message: "Not a CGI script", headers: [("Allow", "GET, HEAD")]))
        }
    }

    private func launch(_ script: CGIScript, writer: ResponseWriter) {
        let request = writer.request
        let environment = writer.environment
        let hasBody = self.chunkedBody || self.declaredLength != nil
        let pathInfoComponents = self.resolved.components.dropFirst(script.componentCount)
        var pathInfo = pathInfoComponents.isEmpty ? "" : "/" + pathInfoComponents.joined(separator: "/")
        if !pathInfo.isEmpty, self.resolved.hasTrailingSlash { pathInfo += "/" }
        let query = String(request.query)
        let input = CGIEnvironment.Input(
            method: request.method.rawValue,
            scriptName: self.scriptName,
            pathInfo: pathInfo,
            query: query,
            requestURI: request.originForm.first == "/" ? String(request.originForm) : "/" + request.originForm,
            documentRoot: environment.root.path,
            scriptFilename: script.path,
            serverSoftware: environment.configuration.serverSoftware,
            serverName: Self.serverName(
                host: request.targetAuthority.map(String.init) ?? request.head.headers.first(name: "host"),
                local: request.local
            ),
            serverPort: request.local?.port ?? environment.configuration.port,
            serverProtocol: "HTTP/\(request.head.version.major).\(request.head.version.minor)",
            remoteAddress: HTTPConnectionHandler.describe(request.peer),
            remotePort: request.peer?.port,
            headers: request.head.headers,
            contentLength: hasBody ? (self.declaredLength ?? self.bodyBytes) : nil
        )
        let variables = CGIEnvironment.flatten(CGIEnvironment.build(input, inherited: Self.inheritedEnvironment))
        let arguments = CGIEnvironment.arguments(query: query)
        // posix_spawn is quick but still a system call that can wait on the kernel: keep it off the loop.
        environment.threadPool.runIfActive(eventLoop: writer.eventLoop) {
            ChildSpawner.spawn(path: script.path, arguments: arguments, environment: variables, workingDirectory: script.directory)
        }.assumeIsolated().whenComplete { [self] result in
            switch result {
            case .failure(let error):
                self.answer(error: HTTPError(.internalServerError, message: "CGI script could not be started: \(error)"))
            case .success(.failure(let error)):
                self.log(.error, "\(self.scriptName) could not be started: \(String(cString: strerror(error.code)))")
                self.answer(error: HTTPError(.badGateway, message: "CGI script could not be started", explanation: String(cString: strerror(error.code))))
            case .success(.success(let child)):
                self.started(child, writer: writer, hasBody: hasBody)
            }
        }
    }

    private func started(_ child: SpawnedChild, writer: ResponseWriter, hasBody: Bool) {
        self.processGroup = child.pid
        let loop = writer.eventLoop
        let bound = NIOLoopBound(self, eventLoop: loop)
        let watch = ChildWatch()
        self.watch = watch
        let bus = writer.environment.bus
        let connection = writer.request.id.connection
        let name = self.scriptName
        ChildReaper.shared.watch(child.pid) { exit in
            let (notify, killed) = watch.recordExit(exit)
            if !exit.succeeded, !killed, exit != .exited(-1) {
                bus.publish(.log(LogLine(level: .warning, message: "CGI \(name) \(exit)", connection: connection)))
            }
            if notify { loop.execute { bound.value.childExited(exit) } }
        }
        if self.cancelled || self.answered {
            // The client left (or the body was refused) while the script was starting.
            self.watch?.stopNotifying()
            self.stopScript()
            for fd in [child.stdin, child.stdout, child.stderr] { close(fd) }
            return
        }
        self.armTimer()

        let stdoutFD = child.stdout
        Self.openReader(stdoutFD, stream: .stdout, responder: bound).assumeIsolated().whenComplete { [self] result in
            switch result {
            case .success(let channel):
                self.stdout = channel
                if self.cancelled { channel.close(promise: nil) } else { channel.read() }
            case .failure(let error):
                close(stdoutFD)
                self.stopScript()
                self.fail("could not read the script's output: \(error)")
            }
        }
        let stderrFD = child.stderr
        Self.openReader(stderrFD, stream: .stderr, responder: bound).assumeIsolated().whenComplete { [self] result in
            switch result {
            case .success(let channel):
                self.stderr = channel
                if self.cancelled { channel.close(promise: nil) }
            case .failure:
                close(stderrFD)
            }
        }

        guard hasBody else {
            close(child.stdin)
            return
        }
        let stdinFD = child.stdin
        NIOPipeBootstrap(group: loop)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(CGIStdinErrorSink())
                }
            }
            .takingOwnershipOfDescriptor(output: stdinFD)
            .assumeIsolated()
            .whenComplete { [self] result in
                switch result {
                case .success(let channel):
                    if self.cancelled {
                        channel.close(promise: nil)
                        return
                    }
                    self.stdin = channel
                    for buffer in self.pendingBody { self.lastStdinWrite = channel.write(buffer) }
                    self.pendingBody = []
                    channel.flush()
                    if self.bodyEnded { self.closeStdinWhenWritten() }
                case .failure:
                    close(stdinFD)
                }
            }
    }

    /// Wraps one of the script's output pipes in a channel on the responder's loop. stdout is read
    /// one piece at a time, paced by the client; stderr as it comes.
    private static func openReader(_ fd: CInt, stream: CGIPipeReader.Stream, responder: NIOLoopBound<CGIResponder>) -> EventLoopFuture<Channel> {
        NIOPipeBootstrap(group: responder.eventLoop)
            .channelOption(.autoRead, value: stream == .stderr)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(CGIPipeReader(responder, stream: stream))
                }
            }
            .takingOwnershipOfDescriptor(input: fd)
    }

    /// Closes the script's stdin once the body written so far has gone into the pipe: its EOF.
    private func closeStdinWhenWritten() {
        guard let stdin = self.stdin else { return }
        self.stdin = nil
        let written = self.lastStdinWrite ?? stdin.eventLoop.makeSucceededVoidFuture()
        written.whenComplete { _ in stdin.close(promise: nil) }
    }

    // MARK: Output

    func stdoutData(_ buffer: ByteBuffer) {
        guard !self.answered, !self.cancelled, let writer = self.writer else { return }
        self.armTimer()
        if self.head != nil || (self.isNPH && self.headSent) {
            self.sendBody(buffer, writer: writer)
            return
        }
        self.headerBytes += buffer.readableBytesView
        if self.isNPH {
            switch CGIResponseParser.nphStatus(self.headerBytes) {
            case .needMore:
                self.stdout?.read()
            case .malformed(let reason):
                self.badGateway(reason)
            case .status(let status):
                writer.startRaw(status: status)
                self.headSent = true
                let bytes = ByteBuffer(bytes: self.headerBytes)
                self.headerBytes = []
                self.sendBody(bytes, writer: writer)
            }
            return
        }
        switch CGIResponseParser.parse(self.headerBytes) {
        case .needMore:
            self.stdout?.read()
        case .malformed(let reason):
            self.badGateway(reason)
        case .complete(let head, let offset):
            self.head = head
            let rest = ByteBuffer(bytes: self.headerBytes[offset...])
            self.headerBytes = []
            if rest.readableBytes > 0 {
                self.sendBody(rest, writer: writer)
            } else {
                self.stdout?.read()
            }
        }
    }

    private func sendHeadIfNeeded(_ writer: ResponseWriter) {
        guard !self.headSent, let head = self.head else { return }
        self.headSent = true
        var headers = HTTPHeaders()
        for (name, value) in head.headers { headers.add(name: name, value: value) }
        writer.writeHead(status: head.status, headers: headers)
    }

    private func sendBody(_ buffer: ByteBuffer, writer: ResponseWriter) {
        self.sendHeadIfNeeded(writer)
        var buffer = buffer
        if let limit = self.head?.contentLength {
            let room = limit - self.bodySent
            if Int64(buffer.readableBytes) > room {
                buffer = buffer.getSlice(at: buffer.readerIndex, length: Int(max(0, room))) ?? ByteBuffer()
            }
        }
        self.bodySent += Int64(buffer.readableBytes)
        guard buffer.readableBytes > 0 else {
            self.stdout?.read()
            return
        }
        writer.writeBody(.byteBuffer(buffer)).assumeIsolated().whenSuccess { [self] in
            // Read more only once the client took this part: a slow client slows the script down.
            if !self.answered { self.stdout?.read() }
        }
    }

    func stdoutClosed() {
        guard !self.stdoutEnded else { return }
        self.stdoutEnded = true
        self.stdout = nil
        guard !self.answered, !self.cancelled, let writer = self.writer else {
            self.cleanUpIfDone()
            return
        }
        if self.isNPH {
            if self.headSent {
                self.finishBody(writer)
            } else {
                switch CGIResponseParser.nphStatus(self.headerBytes, ended: true) {
                case .malformed(let reason): self.badGateway(reason)
                default: self.badGateway("output ended inside the status line")
                }
            }
        } else if self.head == nil {
            if case .malformed(let reason) = CGIResponseParser.parse(self.headerBytes, ended: true) {
                self.badGateway(reason)
            } else {
                self.badGateway("output ended before the headers")
            }
        } else if !self.headSent {
            // Headers and no body: whether they stand depends on how the script ended.
            if let exit = self.exit {
                self.finishWithoutBody(exit: exit, writer: writer)
            } else {
                self.waitingForExit = true
            }
        } else {
            self.finishBody(writer)
        }
        self.cleanUpIfDone()
    }

    private func finishBody(_ writer: ResponseWriter) {
        self.answered = true
        if let limit = self.head?.contentLength, self.bodySent < limit {
            writer.fail(message: "CGI \(self.scriptName) sent \(self.bodySent) of the \(limit) bytes its Content-Length promised")
        } else {
            writer.end()
        }
    }

    private func finishWithoutBody(exit: ChildExit, writer: ResponseWriter) {
        guard exit.succeeded || exit == .exited(-1) else {
            self.badGateway("\(exit)")
            return
        }
        self.sendHeadIfNeeded(writer)
        self.finishBody(writer)
    }

    func stderrData(_ buffer: ByteBuffer) {
        self.stderrBuffer += buffer.readableBytesView
        while let newline = self.stderrBuffer.firstIndex(of: UInt8(ascii: "\n")) {
            self.logStderrLine(self.stderrBuffer[..<newline])
            self.stderrBuffer.removeSubrange(...newline)
        }
        if self.stderrBuffer.count > Self.maxStderrLineBytes {
            self.logStderrLine(self.stderrBuffer[...])
            self.stderrBuffer = []
        }
    }

    func stderrClosed() {
        if !self.stderrBuffer.isEmpty {
            self.logStderrLine(self.stderrBuffer[...])
            self.stderrBuffer = []
        }
        self.stderr = nil
    }

    private func logStderrLine(_ bytes: ArraySlice<UInt8>) {
        self.stderrLines += 1
        if self.stderrLines > Self.maxStderrLines {
            if self.stderrLines == Self.maxStderrLines + 1 {
                self.log(.warning, "\(self.scriptName): more stderr output not shown")
            }
            return
        }
        var line = bytes.prefix(Self.maxStderrLineBytes)
        if line.last == UInt8(ascii: "\r") { line = line.dropLast() }
        // Raw text, like request targets in events: every sink (dashboard, access log) escapes it.
        self.log(.warning, "\(self.scriptName): \(String(decoding: line, as: UTF8.self))")
    }

    // MARK: Ending

    func childExited(_ exit: ChildExit) {
        if self.waitingForExit, !self.answered, let writer = self.writer {
            self.waitingForExit = false
            self.finishWithoutBody(exit: exit, writer: writer)
        }
        self.cleanUpIfDone()
    }

    private func armTimer() {
        self.timer?.cancel()
        guard let loop = self.writer?.eventLoop else { return }
        self.timer = loop.assumeIsolated().scheduleTask(in: .nanoseconds(self.options.timeoutNanoseconds)) { [self] in
            self.timerFired()
        }
    }

    private func timerFired() {
        self.timer = nil
        guard self.exit == nil || !self.stdoutEnded else { return }
        self.stopScript()
        self.log(.warning, "CGI \(self.scriptName) killed: no output for \(Self.seconds(self.options.timeoutSeconds)) (--cgi-timeout)")
        guard !self.answered, let writer = self.writer else { return }
        if self.headSent {
            self.answered = true
            writer.fail()
        } else {
            self.answer(error: HTTPError(.gatewayTimeout, message: "CGI script timed out", explanation: "The script wrote nothing for \(Self.seconds(self.options.timeoutSeconds))."))
        }
    }

    private func badGateway(_ reason: String) {
        self.stopScript()
        self.log(.error, "CGI \(self.scriptName): \(reason)")
        if self.headSent {
            self.fail(reason)
        } else {
            self.answer(error: HTTPError(.badGateway, message: "Bad CGI response", explanation: "The script \(self.scriptName) \(reason.hasPrefix("exited") || reason.hasPrefix("was killed") ? reason : "wrote an invalid response: \(reason)")."))
        }
    }

    private func fail(_ reason: String) {
        guard !self.answered, let writer = self.writer else { return }
        self.answered = true
        writer.fail(message: "CGI \(self.scriptName): \(reason)")
    }

    private func answer(error: HTTPError, close: Bool = false) {
        guard !self.answered, let writer = self.writer else { return }
        self.answered = true
        writer.respond(error: error, closeConnection: close)
        self.cleanUpIfDone()
    }

    /// Kills the script's process group if it is still running.
    private func stopScript() {
        guard let group = self.processGroup, self.watch?.claimKill(evenAfterExit: !self.stdoutEnded) == true else { return }
        ChildSpawner.killGroup(group)
    }

    /// Once the response is over and the script has been reaped, nothing is left to wait for.
    private func cleanUpIfDone() {
        guard self.answered || self.cancelled else { return }
        if self.processGroup == nil || (self.exit != nil && self.stdoutEnded) {
            self.timer?.cancel()
            self.timer = nil
        }
        if self.cancelled || (self.answered && self.exit != nil) { self.watch?.stopNotifying() }
        if self.answered && !self.stdoutEnded, self.exit != nil || self.watch?.killed == true {
            // Whatever is still in the pipe is not wanted.
            self.stdout?.close(promise: nil)
        }
    }

    private func closePipes() {
        self.stdout?.close(promise: nil)
        self.stdin?.close(promise: nil)
        self.stdin = nil
        // stderr closes by itself at EOF, which comes once the process group is gone.
    }

    private func log(_ level: LogLevel, _ message: String) {
        self.writer?.environment.bus.publish(.log(LogLine(level: level, message: message, connection: self.writer?.request.id.connection)))
    }

    private static func seconds(_ value: Double) -> String {
        value == value.rounded() ? "\(Int(value)) s" : "\(value) s"
    }

    /// `SERVER_NAME`: the host the client asked for (without port), or the address it reached.
    static func serverName(host: String?, local: SocketAddress?) -> String {
        if var host, !host.isEmpty {
            if host.hasPrefix("["), let close = host.firstIndex(of: "]") {
                return String(host[host.index(after: host.startIndex)..<close])
            }
            if let colon = host.lastIndex(of: ":") { host = String(host[..<colon]) }
            if !host.isEmpty { return host }
        }
        return HTTPConnectionHandler.describe(local)
    }

    /// The server's environment, read once: only the names `CGIEnvironment` passes on are used.
    static let inheritedEnvironment: [String: String] = {
        var values: [String: String] = [:]
        for name in CGIEnvironment.inheritedNames {
            if let value = getenv(name) { values[name] = String(cString: value) }
        }
        return values
    }()
}

/// Reads one of the script's output pipes into its responder.
final class CGIPipeReader: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    enum Stream { case stdout, stderr }

    private let responder: NIOLoopBound<CGIResponder>
    private let stream: Stream

    init(_ responder: NIOLoopBound<CGIResponder>, stream: Stream) {
        self.responder = responder
        self.stream = stream
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let buffer = Self.unwrapInboundIn(data)
        switch self.stream {
        case .stdout: self.responder.value.stdoutData(buffer)
        case .stderr: self.responder.value.stderrData(buffer)
        }
    }

    func channelInactive(context: ChannelHandlerContext) {
        switch self.stream {
        case .stdout: self.responder.value.stdoutClosed()
        case .stderr: self.responder.value.stderrClosed()
        }
    }

    func errorCaught(context: ChannelHandlerContext, error: Error) {
        context.close(promise: nil)
    }
}

/// A script that exits without reading its stdin makes writes fail with EPIPE: expected, not an error.
final class CGIStdinErrorSink: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer

    func errorCaught(context: ChannelHandlerContext, error: Error) {
        context.close(promise: nil)
    }
}
