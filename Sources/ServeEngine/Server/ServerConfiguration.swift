/// Everything the engine needs to know to serve, with python-compatible defaults.
public struct ServerConfiguration: Sendable {
    /// This program's version: `--version`, the `Server` header, a HAR file's creator.
    public static let version = "0.1"

    /// Which HTTP version the server speaks.
    public enum ProtocolVersion: String, Sendable, CaseIterable {
        /// Like python's default: answer as HTTP/1.0 and close after every response.
        case http1_0 = "HTTP/1.0"
        /// Persistent connections and chunked bodies (RFC 9112).
        case http1_1 = "HTTP/1.1"
    }

    /// Address to listen on: an IPv4 or IPv6 literal, a host name, or `::` for every interface
    /// (both IPv4 and IPv6 where the system allows it).
    public var host: String = "::"
    /// TCP port; 0 lets the system pick a free one.
    public var port: Int = 8000
    /// The folder to serve.
    public var directory: String = "."
    public var protocolVersion: ProtocolVersion = .http1_1
    /// How long a connection may sit idle, take to send a request, or stall reading a response.
    public var timeoutSeconds: Double = 30
    /// How long a graceful stop waits for in-flight responses before closing them.
    public var shutdownGraceSeconds: Double = 5
    /// Event-loop threads; 0 means one per core.
    public var threads: Int = 0
    /// Threads for blocking file-system calls; 0 means two per event loop.
    public var blockingThreads: Int = 0
    /// How many events the bus keeps for a slow consumer before dropping the oldest.
    public var eventBufferCapacity: Int = 65_536
    /// How many requests a second, all event loops together, publish `requestReceived` and
    /// `responseStarted` (the dashboard's live detail: requests in flight, their headers; see
    /// `DetailBudget`). The others publish only their outcome (`requestFinished`, what an access log
    /// needs), with connections, progress and log lines as before and totals as exact: building,
    /// queueing and freeing the two events was ~8 % of the server's CPU per small-file request.
    /// `nil`: every request; 0: none (the CLI without a dashboard).
    public var requestDetailPerSecond: Int? = nil
    /// Publish python's `code 404, message File not found` log line before every error response
    /// (`send_error`'s `log_error`), so an access log says why. The CLI sets it without a dashboard,
    /// whose request detail says why instead. Requests that could not be parsed always get it.
    public var logsErrorMessages = false
    /// Cached-file requests closer together than this on one event loop share their freshness
    /// checks (`OpenFileCache.isBusy`). Tests widen it to take that path at debug-build speed.
    var fileCheckBusyWindowNanoseconds: Int64 = OpenFileCache.busyWindowNanoseconds
    /// Serve symlinks whose target lies outside the root (refused with 403 otherwise).
    public var followSymlinks = false
    /// List dotfiles in directory listings (they are served on direct request either way).
    public var showHidden = false
    /// The `Server` header.
    /// A literal, not built from `version`: a built string lives on the heap, and every response
    /// that carries it retains it, an atomic operation on memory both event loops share; a literal
    /// is never counted. A test checks that it carries `version`.
    public var serverSoftware: String = "swift-serve-tui/0.1"

    /// Limits from python's `http.server`, enforced by NIO's decoder and checked again on the head.
    public var maxRequestLineBytes: Int = 65_536
    /// python's `_MAXHEADERS`.
    public var maxHeaderCount: Int = 100
    /// python's per-line limit, applied to each header field.
    public var maxHeaderFieldBytes: Int = 65_536
    /// All header fields together.
    public var maxHeaderBytes: Int = 256 * 1024

    public init() {}

    var timeoutNanoseconds: Int64 { WallClock.nanoseconds(seconds: self.timeoutSeconds) }

    /// When a connection's client counts as fast enough for a larger unsent limit (tests loosen it
    /// for sanitizer builds, where the server's own latency is most of each wait).
    var sendBufferThresholds = SendBufferPolicy.Thresholds()
}
