import NIOCore
import NIOHTTP1
import NIOPosix

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Serves the root's files and listings for GET and HEAD: the seed's `SimpleHTTPRequestHandler`.
///
/// Other methods are not claimed, so the engine answers 501 as the seed does.
public struct FileHandler: RequestHandler {
    /// URL folders whose files are never sent (CGI folders: a script's source must not leak, not even
    /// through a symlink elsewhere in the tree). Normalised path components.
    private let protectedFolders: [[String]]

    public init() { self.protectedFolders = [] }

    /// A file handler that refuses to send the contents of files inside the CGI folders.
    public init(protecting cgi: CGIOptions) { self.protectedFolders = cgi.directoryComponents }

    public func responder(for request: Request, environment: HandlerEnvironment) -> (any RequestResponder)? {
        switch request.method {
        case .GET, .HEAD: FileResponder(protectedFolders: self.protectedFolders)
        default: nil
        }
    }
}

/// What the thread pool found for a request path.
enum FileLookup: Sendable {
    /// An open regular file: descriptor, what `fstat` said of it, the name for the content type, the
    /// key it may be cached under with its path (the key: its path relative to the root; `nil` for an
    /// index file, which stands for its folder, and for a name that is not UTF-8), and its bytes when
    /// it is small and settled enough to keep (`OpenFileCache.readContent`).
    case file(descriptor: CInt, status: FileSystemProbe.Status, name: String, cache: (key: String, path: String)?, content: ByteBuffer?)
    /// A folder asked for without its trailing slash.
    case redirect(location: String)
    /// A rendered listing.
    case listing(body: String, contentType: String)
    case error(HTTPError)
}

/// Answers one GET or HEAD for a file: look up on the thread pool, plan, then write.
final class FileResponder: RequestResponder, CacheWaiter {
    private var writer: ResponseWriter?
    private var cancelled = false
    private var handle: NIOFileHandle?
    /// The cached file being sent, released (not closed) when the response is done.
    private var cached: (cache: OpenFileCache, entry: OpenFileCache.Entry)?
    private let protectedFolders: [[String]]

    init(protectedFolders: [[String]] = []) {
        self.protectedFolders = protectedFolders
    }

    func start(writer: ResponseWriter) {
        self.writer = writer
        // A path in normal form names its cache entry as it is: no decoding on a hit. Under load the
        // hit is answered once the loop's reads are done and the file is known unchanged (one check
        // per file for all of them, see `OpenFileCache.acquireAfterReads`); otherwise it is checked
        // at once.
        let plain = SafePath.plainPath(writer.request.rawPath)
        if let plain, let cache = writer.environment.fileCache {
            let key = String(plain)
            let root = writer.environment.root.path
            if cache.isBusy(now: writer.startedAt) {
                if cache.acquireAfterReads(key, root: root, for: self) {
                    writer.answersAfterReads()
                    return
                }
            } else if self.answeredFromCache(key, writer: writer) {
                return
            }
        }
        self.look(for: writer, plain: plain != nil)
    }

    /// The cache's answer for a plain path, after the loop's reads (see `start`).
    func cacheChecked(_ entry: OpenFileCache.Entry?, in cache: OpenFileCache) {
        guard let writer = self.writer, !self.cancelled else {
            if let entry { cache.release(entry) }
            return
        }
        guard let entry else {
            self.look(for: writer, plain: true)
            return
        }
        self.answer(from: entry, in: cache, writer: writer)
    }

    /// Finds what the request names without the cache's fast path: its other spellings of a cached
    /// file (`%41`, `//`, `./`; `plain`: the path was in normal form and looked up already), then the
    /// thread pool.
    private func look(for writer: ResponseWriter, plain: Bool) {
        guard !self.cancelled else { return }
        let request = writer.request
        let environment = writer.environment
        let resolved: SafePath.Resolved
        do {
            resolved = try SafePath.resolve(request.rawPath)
        } catch .nulByte {
            writer.respond(error: HTTPError(.badRequest, message: "Bad request path (NUL byte)"))
            return
        } catch {
            writer.respond(error: HTTPError(.badRequest, message: "Bad request path encoding"))
            return
        }
        if !plain, resolved.isExact, !resolved.hasTrailingSlash, !resolved.components.isEmpty,
            self.answeredFromCache(resolved.relativePath, writer: writer)
        {
            return
        }
        let rawPath = String(request.rawPath)
        let query = String(request.query)
        let wantsJSON = Self.wantsJSON(query: request.query, accept: request.head.headers.first(name: "accept"))
        let protected = self.protectedFolders
        environment.threadPool.runIfActive(eventLoop: writer.eventLoop) {
            Self.lookUp(resolved, rawPath: rawPath, query: query, wantsJSON: wantsJSON, protecting: protected, environment: environment)
        }.assumeIsolated().whenComplete { [self] result in
            switch result {
            case .success(let lookup): self.respond(with: lookup)
            case .failure(let error): writer.fail(message: "file lookup failed: \(error)")
            }
        }
    }

    /// Answers with the cache's entry for `key` (a path relative to the root) when it holds one still
    /// naming the same file (served moments ago, unchanged since): no thread-pool hop.
    private func answeredFromCache(_ key: String, writer: ResponseWriter) -> Bool {
        guard let cache = writer.environment.fileCache, let entry = cache.acquire(key, root: writer.environment.root.path) else {
            return false
        }
        self.answer(from: entry, in: cache, writer: writer)
        return true
    }

    /// Sends an acquired cache entry's file (released when the response is done).
    private func answer(from entry: OpenFileCache.Entry, in cache: OpenFileCache, writer: ResponseWriter) {
        self.cached = (cache, entry)
        self.sendFile(
            entry.handle,
            attributes: entry.attributes,
            baseHeaders: entry.headers,
            encodedHeaders: entry.encodedHeaders,
            content: entry.content,
            prepared: entry.answer,
            writer: writer
        )
    }

    func cancel() {
        self.cancelled = true
        self.closeFile()
    }

    private static func wantsJSON(query: Substring, accept: String?) -> Bool {
        if ListingQuery.parse(query).json { return true }
        guard let accept = accept?.lowercased() else { return false }
        return accept.contains("application/json") && !accept.contains("text/html")
    }

    // MARK: Blocking part (thread pool)

    /// Finds what `resolved` names under the root; everything here may block.
    static func lookUp(
        _ resolved: SafePath.Resolved,
        rawPath: String,
        query: String,
        wantsJSON: Bool,
        protecting protectedFolders: [[String]] = [],
        environment: HandlerEnvironment
    ) -> FileLookup {
        let root = environment.root.path
        let configuration = environment.configuration
        let path = resolved.fileSystemPath(under: root)
        // What opens are held beneath (`FileSystemProbe.openInside`).
        let confinedTo = configuration.followSymlinks ? nil : root
        let status: FileSystemProbe.Status
        switch FileSystemProbe.status(path) {
        case .success(let found): status = found
        case .failure(let error): return .error(error.httpError)
        }
        if !configuration.followSymlinks, !resolved.components.isEmpty, !FileSystemProbe.isInside(path, root: root) {
            return .error(.leadsOutside)
        }
        if status.isDirectory {
            if !resolved.hasTrailingSlash, !resolved.components.isEmpty {
                return .redirect(location: SafePath.directoryRedirect(rawPath: rawPath[...], query: query[...]))
            }
            for index in ["index.html", "index.htm"] {
                let candidate = path.appending(index.utf8)
                guard case .success(let found) = FileSystemProbe.status(candidate), found.isRegular else { continue }
                if !configuration.followSymlinks, !FileSystemProbe.isInside(candidate, root: root) { continue }
                return Self.open(candidate, inside: confinedTo, name: index, cacheKey: nil)
            }
            switch FileSystemProbe.list(path, inside: confinedTo, includeHidden: configuration.showHidden) {
            case .failure(let error):
                return .error(error.code == ENOENT ? error.httpError : HTTPError(.forbidden, message: "No permission to list directory"))
            case .success(var entries):
                if !configuration.followSymlinks {
                    // A link out of the folder is listed as not served, without its target's size and date.
                    for index in entries.indices where entries[index].kind == .symlink && entries[index].linkProblem == nil {
                        if !FileSystemProbe.isInside(path.appending(entries[index].rawName), root: root) {
                            entries[index] = entries[index].notServed(.leadsOutside)
                        }
                    }
                }
                let listingQuery = ListingQuery.parse(query[...])
                let sorted = DirectoryListing.sorted(entries, by: listingQuery)
                let display = resolved.components.isEmpty ? "/" : resolved.displayPath
                return wantsJSON
                    ? .listing(body: DirectoryListing.json(displayPath: display, entries: sorted), contentType: "application/json; charset=utf-8")
                    : .listing(body: DirectoryListing.html(displayPath: display, entries: sorted, query: listingQuery), contentType: "text/html; charset=utf-8")
            }
        }
        guard status.isRegular else {
            return .error(HTTPError(.forbidden, message: "Not a regular file"))
        }
        // python: a path ending in '/' names a directory; a file there does not exist.
        if resolved.hasTrailingSlash { return .error(HTTPError(.notFound, message: "File not found")) }
        if !protectedFolders.isEmpty, FileSystemProbe.isInside(path, anyOf: protectedFolders, root: root) {
            return .error(HTTPError(.forbidden, message: "CGI scripts are run, not served"))
        }
        return Self.open(path, inside: confinedTo, name: resolved.components.last ?? "", cacheKey: resolved.relativePath)
    }

    /// Opens the file at `path`; `cacheKey` (its path relative to the root) when the open-file cache
    /// may keep it.
    private static func open(_ path: FileSystemPath, inside root: String?, name: String, cacheKey: String?) -> FileLookup {
        switch FileSystemProbe.openRegularFile(path, inside: root) {
        case .success(let (fd, status)):
            // A path that is not UTF-8 is not cached: its key would show the bad bytes as U+FFFD, a
            // name another file can really have.
            let cache = cacheKey.flatMap { key in path.exactString.map { (key: key, path: $0) } }
            return .file(
                descriptor: fd,
                status: status,
                name: name,
                cache: cache,
                content: cache == nil
                    ? nil : OpenFileCache.readContent(descriptor: fd, status: status, now: WallClock.nanosecondsSinceEpoch())
            )
        case .failure(let error): return .error(error.httpError)
        }
    }

    // MARK: Event-loop part

    private func respond(with lookup: FileLookup) {
        guard let writer = self.writer, !self.cancelled else {
            if case .file(let fd, _, _, _, _) = lookup { close(fd) }
            return
        }
        switch lookup {
        case .error(let error):
            writer.respond(error: error)
        case .redirect(let location):
            let page = HTTPError(.movedPermanently, message: "Moved to \(location)").page
            writer.respond(
                status: .movedPermanently,
                headers: ["Location": location, "Content-Type": "text/html;charset=utf-8", "Cache-Control": "no-cache"],
                body: ByteBuffer(string: page)
            )
        case .listing(let body, let contentType):
            writer.respond(
                status: .ok,
                headers: ["Content-Type": contentType, "Cache-Control": "no-cache"],
                body: ByteBuffer(string: body)
            )
        case .file(let fd, let status, let name, let cacheable, let content):
            let attributes = status.attributes
            let baseHeaders = Self.baseHeaders(attributes: attributes, name: name)
            if let cacheable, let cache = writer.environment.fileCache,
                let entry = cache.insert(
                    path: cacheable.path,
                    key: cacheable.key,
                    root: writer.environment.root.path,
                    descriptor: fd,
                    status: status,
                    headers: baseHeaders,
                    content: content
                )
            {
                self.cached = (cache, entry)
                self.sendFile(
                    entry.handle,
                    attributes: attributes,
                    baseHeaders: baseHeaders,
                    encodedHeaders: entry.encodedHeaders,
                    content: content,
                    prepared: entry.answer,
                    writer: writer
                )
                return
            }
            let handle = NIOFileHandle(_deprecatedTakingOwnershipOfDescriptor: fd)
            self.handle = handle
            self.sendFile(handle, attributes: attributes, baseHeaders: baseHeaders, content: content, writer: writer)
        }
    }

    /// The headers of a full 200 answer for this file, built once per open file: a 206 replaces the
    /// length and adds `Content-Range`, a 304 drops length and type.
    static func baseHeaders(attributes: FileAttributes, name: String) -> HTTPHeaders {
        [
            "ETag": attributes.etag,
            "Last-Modified": attributes.lastModified,
            "Cache-Control": "no-cache",
            "Accept-Ranges": "bytes",
            "Content-Type": MIMETypes.contentType(forFileName: name[...]),
            "Content-Length": String(attributes.size),
        ]
    }

    /// Answers with the file: 304, 416, or its bytes (all or a range). `content`, when the cache
    /// holds the file's bytes, makes the answer one write; otherwise `FileTransfer` sends it.
    /// `encodedHeaders`, the cache's `baseHeaders` as bytes, serve a full answer with `content`,
    /// built once in the cache entry's `prepared`.
    private func sendFile(
        _ handle: NIOFileHandle,
        attributes: FileAttributes,
        baseHeaders: HTTPHeaders,
        encodedHeaders: ByteBuffer? = nil,
        content: ByteBuffer? = nil,
        prepared: PreparedAnswer? = nil,
        writer: ResponseWriter
    ) {
        let request = writer.request
        let plan = request.mayHaveConditions ? FilePlanner.plan(headers: request.head.headers, attributes: attributes) : .full
        if case .full = plan, let content, let encodedHeaders, content.readableBytes == attributes.size {
            writer.respond(status: .ok, headers: baseHeaders, encodedFields: encodedHeaders, body: content, prepared: prepared)
            self.closeFile()
            return
        }
        var headers = baseHeaders
        let first: Int64
        let last: Int64
        let status: HTTPResponseStatus
        switch plan {
        case .notModified:
            headers.remove(name: "Content-Type")
            headers.remove(name: "Content-Length")
            writer.respond(status: .notModified, headers: headers, body: nil as IOData?)
            self.closeFile()
            return
        case .preconditionFailed:
            self.closeFile()
            writer.respond(error: HTTPError(.preconditionFailed))
            return
        case .rangeNotSatisfiable:
            self.closeFile()
            writer.respond(
                error: HTTPError(.rangeNotSatisfiable, headers: [("Content-Range", "bytes */\(attributes.size)"), ("Accept-Ranges", "bytes")])
            )
            return
        case .multipart(let ranges):
            self.sendParts(ranges, attributes: attributes, headers: headers, content: content, writer: writer, handle: handle)
            return
        case .full:
            (first, last, status) = (0, attributes.size - 1, .ok)
        case .partial(let from, let to):
            (first, last, status) = (from, to, .partialContent)
            headers.replaceOrAdd(name: "Content-Length", value: String(to - from + 1))
            headers.add(name: "Content-Range", value: "bytes \(from)-\(to)/\(attributes.size)")
        }
        let length = last - first + 1
        if writer.isHeadRequest || length <= 0 {
            writer.respond(status: status, headers: headers, body: nil as IOData?)
            self.closeFile()
            return
        }
        if let content, let body = content.getSlice(at: Int(first), length: Int(length)) {
            writer.respond(status: status, headers: headers, body: body)
            self.closeFile()
            return
        }
        writer.writeHead(status: status, headers: headers)
        self.transfer = FileTransfer(from: first, to: last + 1)
        self.run(self.transfer.resume(), writer: writer, handle: handle)
    }

    private var transfer = FileTransfer(from: 0, to: 0)
    /// The parts of a multipart answer not yet begun, and its closing delimiter.
    private var multipart: (parts: ArraySlice<MultipartByteRanges.Part>, closing: String)?

    /// Answers several ranges with one `multipart/byteranges` body: from memory when the cache holds
    /// the file, otherwise each part's delimiter through the channel, then its bytes like any range.
    private func sendParts(
        _ ranges: [ClosedRange<Int64>],
        attributes: FileAttributes,
        headers baseHeaders: HTTPHeaders,
        content: ByteBuffer?,
        writer: ResponseWriter,
        handle: NIOFileHandle
    ) {
        let body = MultipartByteRanges(
            ranges: ranges,
            size: attributes.size,
            contentType: baseHeaders.first(name: "Content-Type") ?? "application/octet-stream",
            boundary: MultipartByteRanges.newBoundary()
        )
        var headers = baseHeaders
        headers.replaceOrAdd(name: "Content-Type", value: body.contentType)
        headers.replaceOrAdd(name: "Content-Length", value: String(body.contentLength))
        if writer.isHeadRequest {
            writer.respond(status: .partialContent, headers: headers, body: nil as IOData?)
            self.closeFile()
            return
        }
        if let content, content.readableBytes == attributes.size, let bytes = body.body(from: content) {
            writer.respond(status: .partialContent, headers: headers, body: bytes)
            self.closeFile()
            return
        }
        writer.writeHead(status: .partialContent, headers: headers)
        self.multipart = (body.parts[...], body.closing)
        self.sendNextPart(writer: writer, handle: handle)
    }

    /// Writes the next part's delimiter and, once the kernel has it (the part's bytes go straight to
    /// the socket and must not overtake it), sends the part's range; after the last, the closing one.
    private func sendNextPart(writer: ResponseWriter, handle: NIOFileHandle) {
        guard !self.cancelled, var multipart = self.multipart else { return }
        guard let part = multipart.parts.popFirst() else {
            self.multipart = nil
            writer.writeBody(.byteBuffer(ByteBuffer(string: multipart.closing)))
            writer.end().assumeIsolated().whenComplete { _ in self.closeFile() }
            return
        }
        self.multipart = multipart
        writer.writeBody(.byteBuffer(ByteBuffer(string: part.head))).assumeIsolated().whenComplete { [self] result in
            switch result {
            case .success:
                self.transfer = FileTransfer(from: part.range.lowerBound, to: part.range.upperBound + 1)
                self.run(self.transfer.resume(), writer: writer, handle: handle)
            case .failure:
                self.closeFile()
            }
        }
    }

    /// Carries out the transfer's steps until one has to wait (for the socket, or for a turn of
    /// the event loop). See `FileTransfer` for why bytes go straight to the socket.
    private func run(_ first: FileTransfer.Step, writer: ResponseWriter, handle: NIOFileHandle) {
        var step = first
        while !self.cancelled {
            switch step {
            case .send(let offset, let count):
                step = self.transfer.record(writer.sendBodyDirectly(handle, offset: offset, count: count), requested: count)
            case .writeThroughChannel(let offset, let count):
                let region = FileRegion(fileHandle: handle, readerIndex: Int(offset), endIndex: Int(offset) + count)
                let started = WallClock.monotonicNanoseconds()
                writer.writeBody(.fileRegion(region)).assumeIsolated().whenComplete { [self] result in
                    switch result {
                    case .success:
                        if count == FileTransfer.roomProbe {
                            writer.socketWaitedForRoom(nanoseconds: WallClock.monotonicNanoseconds() - started)
                        }
                        self.run(self.transfer.channelWriteSucceeded(count: count), writer: writer, handle: handle)
                    case .failure: self.closeFile()
                    }
                }
                return
            case .yield:
                writer.eventLoop.assumeIsolated().execute { [self] in
                    self.run(self.transfer.resume(), writer: writer, handle: handle)
                }
                return
            case .end:
                if self.multipart != nil {
                    self.sendNextPart(writer: writer, handle: handle)
                } else {
                    writer.end().assumeIsolated().whenComplete { _ in self.closeFile() }
                }
                return
            case .stop(let code):
                if code == 0 {
                    writer.fail(message: "\(writer.request.rawPath) shrank while it was being sent")
                } else {
                    writer.directWriteFailed(errno: code)
                }
                self.closeFile()
                return
            }
        }
    }

    private func closeFile() {
        if let (cache, entry) = self.cached {
            self.cached = nil
            cache.release(entry)
        }
        guard let handle = self.handle else { return }
        self.handle = nil
        try? handle.close()
    }
}
