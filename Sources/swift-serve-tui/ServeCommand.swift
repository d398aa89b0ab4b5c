import ArgumentParser
import ServeDashboard
import ServeEngine

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

extension ServerConfiguration.ProtocolVersion: ExpressibleByArgument {}

/// `swift-serve-tui`: serve a folder over HTTP with a live dashboard.
struct ServeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "swift-serve-tui",
        abstract: "Serve a folder over HTTP/1.1, with a live terminal dashboard.",
        discussion: """
            Like `python3 -m http.server`: serves the current folder on port 8000 of every interface.

            Examples:
              swift-serve-tui                      serve this folder on port 8000
              swift-serve-tui 9000 -d ./site       serve ./site on port 9000
              swift-serve-tui --port 0 --no-tui    pick a free port, print an access log
              swift-serve-tui --bind 127.0.0.1     only this machine can connect
              swift-serve-tui --cgi                also run scripts in ./cgi-bin
            """,
        version: ServerConfiguration.version
    )

    @Argument(help: "Port to listen on (like python's positional port). Same as --port.")
    var positionalPort: Int?

    @Option(name: .long, help: "Port to listen on; 0 picks a free port. (default: 8000)")
    var port: Int?

    @Option(name: [.short, .long], help: "Address to listen on: an IPv4 or IPv6 address or host name; :: is every interface.")
    var bind: String = "::"

    @Option(name: [.short, .long], help: "Folder to serve.")
    var directory: String = "."

    @Option(name: [.short, .customLong("protocol")], help: "HTTP version to speak: HTTP/1.0 closes after every response.")
    var protocolVersion: ServerConfiguration.ProtocolVersion = .http1_1

    @Flag(name: .long, help: "Run CGI scripts under /cgi-bin/ and /htbin/ (they run as your user).")
    var cgi = false

    @Option(name: .customLong("cgi-dir"), help: "URL folder whose files are CGI scripts; repeat for several. (default: /cgi-bin and /htbin)")
    var cgiDirectories: [String] = []

    @Option(name: .customLong("cgi-timeout"), help: "Seconds a CGI script may go without writing output before it is killed.")
    var cgiTimeout: Double = 30

    @Option(name: .customLong("cgi-max-body"), help: "Largest request body passed to a CGI script, in bytes or with K, M or G; larger gets 413.")
    var cgiMaxBody: String = "64M"

    @Option(name: .long, help: "Seconds a connection may stay idle or take to send a request.")
    var timeout: Double = 30

    @Option(name: .customLong("max-request-line"), help: "Longest request line, in bytes or with K or M; longer gets 414.")
    var maxRequestLine: String = "64K"

    @Option(name: .customLong("max-headers"), help: "Most header fields in a request; more gets 431.")
    var maxHeaders: Int = 100

    @Option(name: .customLong("max-header-bytes"), help: "Largest header block of a request (all fields), in bytes or with K or M; larger gets 431.")
    var maxHeaderBytes: String = "256K"

    @Flag(name: .customLong("no-tui"), help: "Print an access log instead of showing the dashboard.")
    var noTUI = false

    @Flag(name: .long, help: "Serve symlinks whose target is outside the served folder.")
    var followSymlinks = false

    @Flag(name: .long, help: "Show dotfiles in directory listings.")
    var hidden = false

    static let maximumThreads = 256
    static let maximumTimeout: Double = 604_800

    @Option(name: .long, help: "Event-loop threads, 0 to 256; 0 means one per core.")
    var threads: Int = 0

    /// The port from either spelling.
    var resolvedPort: Int { self.port ?? self.positionalPort ?? 8000 }

    func validate() throws {
        if self.port != nil, self.positionalPort != nil, self.port != self.positionalPort {
            throw ValidationError("give the port once: either as an argument or with --port")
        }
        guard (0...65_535).contains(self.resolvedPort) else {
            throw ValidationError("port \(self.resolvedPort) is out of range (0-65535)")
        }
        guard self.timeout > 0, self.timeout <= Self.maximumTimeout else {
            throw ValidationError("--timeout must be a positive number of seconds, at most \(Int(Self.maximumTimeout)) (a week)")
        }
        // Each event loop holds three descriptors (epoll, eventfd, timerfd) and a thread: past a few
        // hundred, NIO runs out of descriptors while starting and stops the process.
        guard (0...Self.maximumThreads).contains(self.threads) else {
            throw ValidationError("--threads must be from 0 (one per core) to \(Self.maximumThreads)")
        }
        guard let line = CGIOptions.parseByteSize(self.maxRequestLine), (Self.minimumRequestLine...Self.maximumLimit).contains(line) else {
            throw ValidationError("--max-request-line: '\(self.maxRequestLine)' is not a size from 64 to 16M (try 8K)")
        }
        guard (1...10_000).contains(self.maxHeaders) else {
            throw ValidationError("--max-headers must be from 1 to 10000")
        }
        guard let block = CGIOptions.parseByteSize(self.maxHeaderBytes), (Self.minimumHeaderBlock...Self.maximumLimit).contains(block) else {
            throw ValidationError("--max-header-bytes: '\(self.maxHeaderBytes)' is not a size from 256 to 16M (try 64K)")
        }
        guard !self.bind.isEmpty else { throw ValidationError("--bind needs an address") }
        do {
            _ = try DocumentRoot.validate(self.directory)
        } catch {
            throw ValidationError("cannot serve \(error)")
        }
        guard self.cgiTimeout > 0, self.cgiTimeout <= Self.maximumTimeout else {
            throw ValidationError("--cgi-timeout must be a positive number of seconds, at most \(Int(Self.maximumTimeout)) (a week)")
        }
        guard CGIOptions.parseByteSize(self.cgiMaxBody) != nil else {
            throw ValidationError("--cgi-max-body: '\(self.cgiMaxBody)' is not a size (try 1048576, 512K, 10M or 1G)")
        }
        for directory in self.cgiDirectories {
            guard let resolved = try? SafePath.resolve(directory[...]), resolved.isExact, !resolved.components.isEmpty else {
                throw ValidationError("--cgi-dir: '\(directory)' is not a folder below the root (try /cgi-bin)")
            }
        }
        if !self.cgi, !self.cgiDirectories.isEmpty {
            throw ValidationError("--cgi-dir needs --cgi")
        }
    }

    var serverConfiguration: ServerConfiguration {
        var configuration = ServerConfiguration()
        configuration.host = self.bind
        configuration.port = self.resolvedPort
        configuration.directory = self.directory
        configuration.protocolVersion = self.protocolVersion
        configuration.timeoutSeconds = self.timeout
        configuration.threads = self.threads
        configuration.followSymlinks = self.followSymlinks
        configuration.showHidden = self.hidden
        if let line = CGIOptions.parseByteSize(self.maxRequestLine) { configuration.maxRequestLineBytes = Int(line) }
        configuration.maxHeaderCount = self.maxHeaders
        if let block = CGIOptions.parseByteSize(self.maxHeaderBytes) {
            configuration.maxHeaderBytes = Int(block)
            configuration.maxHeaderFieldBytes = min(configuration.maxHeaderFieldBytes, Int(block))
        }
        return configuration
    }

    static let minimumRequestLine: Int64 = 64
    static let minimumHeaderBlock: Int64 = 256
    /// The largest request line or header block the flags accept.
    static let maximumLimit: Int64 = 16 << 20

    var cgiOptions: CGIOptions {
        var options = CGIOptions()
        if !self.cgiDirectories.isEmpty { options.directories = self.cgiDirectories }
        options.timeoutSeconds = self.cgiTimeout
        options.maxBodyBytes = CGIOptions.parseByteSize(self.cgiMaxBody) ?? options.maxBodyBytes
        return options
    }

    func run() throws {
        Descriptor.raiseOpenFileLimit()
        var terminal: NcursesTerminal?
        if !self.noTUI {
            if Console.stdoutIsTerminal, Console.stdinIsTerminal {
                do {
                    terminal = try NcursesTerminal(color: Console.colorAllowed)
                } catch {
                    Console.error("swift-serve-tui: \(error); printing an access log instead of the dashboard")
                }
            } else {
                Console.error("swift-serve-tui: no terminal for the dashboard; printing an access log (--no-tui hides this note)")
            }
        }
        // The one place the terminal is restored, whatever ends the run: q, a signal, an error.
        defer { terminal?.restore() }

        // The seed's dispatch order: CGI claims its folders first, files serve the rest.
        let handlers: [any RequestHandler] =
            self.cgi
            ? [CGIHandler(options: self.cgiOptions), FileHandler(protecting: self.cgiOptions)] : [FileHandler()]
        let server: HTTPServer
        do {
            var settings = self.serverConfiguration
            // Only the dashboard shows requests in flight (the access log needs their outcomes), and
            // at most what it applies in detail: its events per drain, ~10 drains a second, three
            // detailed events per request.
            settings.requestDetailPerSecond =
                terminal == nil ? 0 : DashboardModel.detailPerBatch * (1000 / DashboardApp.frameMilliseconds) / 3
            // python's `code 404, message File not found` before an error's access line.
            settings.logsErrorMessages = terminal == nil
            let configuration = settings
            server = try blockingAwait { try await HTTPServer.start(configuration: configuration, handlers: handlers) }
        } catch let error as HTTPServer.StartError {
            terminal?.restore()
            Console.error("swift-serve-tui: \(error)")
            throw ExitCode.failure
        }
        let stop = StopSignal(signals: [SIGINT, SIGTERM, SIGHUP])
        if let terminal {
            DashboardApp(server: server, terminal: terminal).run { stop.received != nil }
            blockingAwait { await server.shutdown() }
        } else {
            HeadlessLog(server: server, host: self.bind).run(until: stop) { await server.shutdown() }
        }
        terminal?.restore()
        Console.out(AccessLogFormatter.summary(server.totals))
    }
}
