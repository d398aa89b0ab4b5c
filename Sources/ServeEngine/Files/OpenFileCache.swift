#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

import NIOCore
import NIOHTTP1
import NIOPosix

/// A request waiting for `OpenFileCache.acquireAfterReads`.
protocol CacheWaiter: AnyObject {
    /// The entry, acquired (to be released to `cache`), if the file is unchanged; `nil` if not.
    func cacheChecked(_ entry: OpenFileCache.Entry?, in cache: OpenFileCache)
}

/// nginx's `open_file_cache` for small files, without its staleness: per event loop, a recently served
/// file stays open with its headers ready, and every hit is revalidated by a `stat` of its path on
/// the loop (device, inode, size, modification and change time) made after the request was read, so
/// an edited, replaced, renamed or re-permissioned file is never served from the cache. Under load,
/// the requests of one loop turn share that `stat` (`acquireAfterReads`). A hit costs no thread-pool
/// hop, no `realpath`, no `open`; a miss takes the normal path and fills the cache.
///
/// Entries are shared by the responses using them: an entry evicted while a response still sends
/// from it is closed when the last one releases it. Unused entries close after `idleNanoseconds`, so
/// an idle server holds no descriptors.
///
/// `@unchecked Sendable`: each instance belongs to one event loop and is used only on it.
final class OpenFileCache: @unchecked Sendable {
    final class Entry {
        /// The file's path relative to the served root, as requests name it (see `acquire`).
        let key: String
        /// Its absolute path, checked by `stat` on each hit.
        let path: String
        let handle: NIOFileHandle
        let attributes: FileAttributes
        let identity: Identity
        /// The headers of a full 200 response (validators, type, length), built once.
        let headers: HTTPHeaders
        /// `headers` as bytes (`ResponseEncoding.encodedFields`), for answers with `content`.
        let encodedHeaders: ByteBuffer
        /// The bytes of a small file that had not changed for a while when read (see
        /// `readContent`): its answers go out as one write, head and body, with no `sendfile`.
        let content: ByteBuffer?
        /// The whole `200` answer with `content`, built on the first request that sends it.
        let answer = PreparedAnswer()
        /// Small enough to keep its bytes, but changed too recently when it was opened.
        fileprivate var awaitsContent = false
        fileprivate var users = 0
        fileprivate var evicted = false
        fileprivate var lastUsed: Int64

        fileprivate init(
            key: String,
            path: String,
            handle: NIOFileHandle,
            attributes: FileAttributes,
            identity: Identity,
            headers: HTTPHeaders,
            content: ByteBuffer?,
            now: Int64
        ) {
            self.key = key
            self.path = path
            self.handle = handle
            self.attributes = attributes
            self.identity = identity
            self.headers = headers
            self.encodedHeaders = ResponseEncoding.encodedFields(headers)
            self.content = content
            self.lastUsed = now
        }
    }

    /// What `stat` says about a file, compared on every hit.
    struct Identity: Equatable, Sendable {
        var device: UInt64
        var inode: UInt64
        var size: Int64
        var modification: Int64
        var change: Int64

        init(_ info: stat) {
            self.device = UInt64(info.st_dev)
            self.inode = UInt64(info.st_ino)
            self.size = Int64(info.st_size)
            self.modification = Int64(info.st_mtim.tv_sec) * 1_000_000_000 + Int64(info.st_mtim.tv_nsec)
            self.change = Int64(info.st_ctim.tv_sec) * 1_000_000_000 + Int64(info.st_ctim.tv_nsec)
        }
    }

    /// Files larger than this are not kept (their per-request cost is in the copying, not the open).
    static let maxFileSize: Int64 = 1 << 20
    static let capacity = 128
    /// Files up to this size also keep their bytes (at most `capacity` × this per event loop, and
    /// about as much again for the answers prepared from them, see `Entry.answer`).
    static let maxContentSize: Int64 = 16 * 1024
    /// Content is kept only for a file whose last change is at least this old when it is read.
    /// File times advance in clock ticks (milliseconds), so a write in the same tick as the read
    /// could leave every time and the size as they were; a write after this much quiet cannot.
    /// (git's "racily clean" rule, for the same reason.)
    static let settledNanoseconds: Int64 = 1_000_000_000
    static let idleNanoseconds: Int64 = 5_000_000_000

    let eventLoop: EventLoop
    private let now: () -> Int64
    private let wallClock: () -> Int64
    private var entries: [String: Entry] = [:]
    /// The served root the entries' keys are relative to.
    private var root: String?
    /// Hits waiting for their entry's freshness check (`acquireAfterReads`), and the array they are
    /// moved to when checked (kept with its capacity: no allocation a loop turn).
    private var awaitingCheck: [(entry: Entry, waiter: any CacheWaiter)] = []
    private var beingChecked: [(entry: Entry, waiter: any CacheWaiter)] = []
    /// Entries checked in the current turn.
    private var checked: [(entry: Entry, current: Bool)] = []
    private var checkScheduled = false
    /// The task that checks them, made once (weak: a task still queued must not keep the cache).
    private lazy var checkTask: () -> Void = { [weak self] in self?.checkAwaiting() }
    /// When the last request looked for an entry (monotonic nanoseconds; see `isBusy`).
    private var lastLookup: Int64 = .min
    /// Requests closer together than this share their checks (`acquireAfterReads`); sparser ones
    /// are checked at once (`acquire`), which costs less than a task when a turn has one request.
    static let busyWindowNanoseconds: Int64 = 100_000
    private let busyWindow: Int64
    /// `stat` calls made to check entries (for tests).
    private(set) var freshnessChecks = 0
    private var sweep: Scheduled<Void>?

    /// - Parameter now: monotonic nanoseconds (tests pass a fake clock).
    /// - Parameter wallClock: nanoseconds since the epoch, to tell when a file has settled.
    init(
        eventLoop: EventLoop,
        now: @escaping () -> Int64 = WallClock.monotonicNanoseconds,
        wallClock: @escaping () -> Int64 = WallClock.nanosecondsSinceEpoch,
        busyWindowNanoseconds: Int64 = OpenFileCache.busyWindowNanoseconds
    ) {
        self.eventLoop = eventLoop
        self.now = now
        self.wallClock = wallClock
        self.busyWindow = busyWindowNanoseconds
    }

    var count: Int { self.entries.count }

    /// The open entry for `key` (a path relative to `root`, `SafePath.Resolved.relativePath`) when it
    /// is still the same file; the caller must `release` it. Keys are relative so that a hit needs
    /// no path built (a short key is not even allocated); a different root empties the cache.
    func acquire(_ key: String, root: String = "") -> Entry? {
        self.eventLoop.assertInEventLoop()
        guard self.isServing(root), let entry = self.entries[key], self.isCurrent(entry) else { return nil }
        entry.users += 1
        entry.lastUsed = self.now()
        return entry
    }

    /// Whether a request arriving at `now` comes less than the busy window after the previous
    /// one (so others probably arrive in the same loop turn): then `acquireAfterReads` pays off.
    func isBusy(now: Int64) -> Bool {
        let gap = now &- self.lastLookup  // from `.min`, the first time: wraps negative
        self.lastLookup = now
        return gap >= 0 && gap < self.busyWindow
    }

    /// `acquire` for a request just read, with the freshness check shared: `waiter` gets the entry
    /// (acquired: release it) if it is still the same file, or `nil`, once the event loop has done
    /// its reads. Returns false, not calling `waiter`, when there is no entry for `key`.
    ///
    /// The loop reads every ready connection before it runs tasks, so one `stat` per file after
    /// those reads revalidates every request among them that named the file: a change made before any
    /// of them was sent is seen, as with a `stat` per request (scenario a: ~8 requests a loop turn;
    /// a `stat` was ~8 % of such a request's server CPU).
    func acquireAfterReads(_ key: String, root: String, for waiter: any CacheWaiter) -> Bool {
        self.eventLoop.assertInEventLoop()
        guard self.isServing(root), let entry = self.entries[key] else { return false }
        // Held (open) while it waits, even if evicted meanwhile.
        entry.users += 1
        self.awaitingCheck.append((entry, waiter))
        if !self.checkScheduled {
            self.checkScheduled = true
            self.eventLoop.assumeIsolated().execute(self.checkTask)
        }
        return true
    }

    /// One freshness check per entry for the requests read since the last one, then their answers
    /// (which may queue more: they wait for the next turn).
    private func checkAwaiting() {
        self.checkScheduled = false
        swap(&self.beingChecked, &self.awaitingCheck)
        for index in self.beingChecked.indices {
            let (entry, waiter) = self.beingChecked[index]
            let current: Bool
            if let known = self.checked.first(where: { $0.entry === entry }) {
                current = known.current
            } else {
                current = !entry.evicted && self.isCurrent(entry)
                self.checked.append((entry, current))
            }
            if current {
                entry.lastUsed = self.now()
                waiter.cacheChecked(entry, in: self)
            } else {
                self.release(entry)
                waiter.cacheChecked(nil, in: self)
            }
        }
        self.beingChecked.removeAll(keepingCapacity: true)
        self.checked.removeAll(keepingCapacity: true)
    }

    /// Whether `entry` still names the same regular file, by one `stat` of its path (it is evicted if
    /// not, or if it settled and should now be read with its bytes). Counted in `freshnessChecks`.
    private func isCurrent(_ entry: Entry) -> Bool {
        self.freshnessChecks += 1
        var info = stat()
        // `withCString`: passing the String straight to `stat` copied it into a new array each time.
        guard entry.path.withCString({ stat($0, &info) }) == 0, Identity(info) == entry.identity, info.st_mode & S_IFMT == S_IFREG else {
            self.evict(entry)
            return false
        }
        if entry.awaitsContent, Self.isSettled(entry.identity, now: self.wallClock()) {
            // Too fresh to keep its bytes when it was opened, settled now: one more miss reads them.
            self.evict(entry)
            return false
        }
        return true
    }

    /// Keeps a file just opened on the thread pool, taking ownership of `descriptor`, and returns the
    /// entry acquired once. `nil` (descriptor untouched) when it is not worth caching. `status` must
    /// come from `fstat` on the descriptor: the file actually opened, not whatever the path is now.
    func insert(
        path: String,
        key: String? = nil,
        root: String = "",
        descriptor: CInt,
        status: FileSystemProbe.Status,
        headers: HTTPHeaders,
        content: ByteBuffer? = nil
    ) -> Entry? {
        self.eventLoop.assertInEventLoop()
        guard status.attributes.size <= Self.maxFileSize else { return nil }
        _ = self.isServing(root)
        let key = key ?? path
        if let old = self.entries[key] { self.evict(old) }
        if self.entries.count >= Self.capacity { self.evictLeastRecentlyUsed() }
        let now = self.now()
        let entry = Entry(
            key: key,
            path: path,
            handle: NIOFileHandle(_deprecatedTakingOwnershipOfDescriptor: descriptor),
            attributes: status.attributes,
            identity: status.identity,
            headers: headers,
            content: content,
            now: now
        )
        entry.users = 1
        entry.awaitsContent =
            content == nil && status.identity.size <= Self.maxContentSize
            && !Self.isSettled(status.identity, now: self.wallClock())
        self.entries[key] = entry
        self.scheduleSweep()
        return entry
    }

    /// Reads a small file's bytes for the cache (blocking: call it on the thread pool), or `nil`
    /// when the file is too big, changed less than `settledNanoseconds` before `now` (wall-clock
    /// nanoseconds), or did not read back at the size `fstat` gave.
    static func readContent(descriptor: CInt, status: FileSystemProbe.Status, now: Int64) -> ByteBuffer? {
        let size = status.identity.size
        guard size <= Self.maxContentSize, Self.isSettled(status.identity, now: now) else { return nil }
        var buffer = ByteBufferAllocator().buffer(capacity: Int(size))
        let complete = buffer.writeWithUnsafeMutableBytes(minimumWritableBytes: Int(size)) { bytes -> Int in
            var done = 0
            while done < Int(size) {
                let count = pread(descriptor, bytes.baseAddress! + done, Int(size) - done, off_t(done))
                if count < 0, errno == EINTR { continue }
                guard count > 0 else { return done }
                done += count
            }
            return done
        } == Int(size)
        // One more byte means the file grew after fstat: its headers would not match.
        var extra: UInt8 = 0
        guard complete, pread(descriptor, &extra, 1, off_t(size)) == 0 else { return nil }
        return buffer
    }

    static func isSettled(_ identity: Identity, now: Int64) -> Bool {
        now - max(identity.change, identity.modification) >= Self.settledNanoseconds
    }

    /// A response no longer needs `entry`.
    func release(_ entry: Entry) {
        self.eventLoop.assertInEventLoop()
        entry.users -= 1
        entry.lastUsed = self.now()
        if entry.evicted, entry.users == 0 { try? entry.handle.close() }
    }

    /// Closes every entry not in use (server stop, descriptor shortage).
    /// Whether the entries are relative to `root`; if not, they are dropped and `root` is served
    /// from now on (the served folder changed). Comparing the same string is one pointer test.
    private func isServing(_ root: String) -> Bool {
        if root == self.root { return true }
        if self.root != nil { self.removeAll() }
        self.root = root
        return false
    }

    func removeAll() {
        self.eventLoop.assertInEventLoop()
        for entry in Array(self.entries.values) { self.evict(entry) }
        self.sweep?.cancel()
        self.sweep = nil
    }

    private func evict(_ entry: Entry) {
        guard !entry.evicted else { return }
        entry.evicted = true
        if self.entries[entry.key] === entry { self.entries[entry.key] = nil }
        if entry.users == 0 { try? entry.handle.close() }
    }

    private func evictLeastRecentlyUsed() {
        guard let oldest = self.entries.values.min(by: { $0.lastUsed < $1.lastUsed }) else { return }
        self.evict(oldest)
    }

    private func scheduleSweep() {
        guard self.sweep == nil else { return }
        self.sweep = self.eventLoop.assumeIsolated().scheduleTask(in: .nanoseconds(Self.idleNanoseconds)) { [self] in
            self.sweep = nil
            let cutoff = self.now() - Self.idleNanoseconds
            for entry in Array(self.entries.values) where entry.users == 0 && entry.lastUsed <= cutoff {
                self.evict(entry)
            }
            if !self.entries.isEmpty { self.scheduleSweep() }
        }
    }
}
