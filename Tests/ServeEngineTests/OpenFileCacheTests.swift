import Foundation
import NIOConcurrencyHelpers
import NIOCore
import NIOEmbedded
import Testing

@testable import ServeEngine

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// How many of this process's descriptors name a file under `folder`.
func openFiles(under folder: String) -> Int {
    let real = (try? FileManager.default.destinationOfSymbolicLink(atPath: folder)) ?? folder
    let prefix = URL(fileURLWithPath: real).resolvingSymlinksInPath().path
    let fds = (try? FileManager.default.contentsOfDirectory(atPath: "/proc/self/fd")) ?? []
    return fds.filter { fd in
        guard let target = try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/fd/" + fd) else { return false }
        return target.hasPrefix(prefix + "/")
    }.count
}

/// The per-loop open-file cache: never stale, never leaking.
@Suite struct OpenFileCacheTests {
    private final class FakeClock: @unchecked Sendable {
        var now: Int64 = 1_000_000_000
    }

    private func open(_ path: String) throws -> (CInt, FileSystemProbe.Status) {
        let fd = Glibc.open(path, O_RDONLY | O_CLOEXEC)
        try #require(fd >= 0)
        var info = stat()
        fstat(fd, &info)
        return (fd, FileSystemProbe.status(from: info))
    }

    /// Waits until the file at `path` has not changed for longer than the cache's settling time,
    /// so its bytes are kept when it is next opened.
    private func waitUntilSettled(_ path: String) -> Bool {
        waitUntil(seconds: 10) {
            var info = stat()
            guard stat(path, &info) == 0 else { return false }
            let changed = Int64(info.st_ctim.tv_sec) * 1_000_000_000 + Int64(info.st_ctim.tv_nsec)
            return WallClock.nanosecondsSinceEpoch() - changed > OpenFileCache.settledNanoseconds + 50_000_000
        }
    }

    @Test func hitsOnlyWhileTheFileIsTheSame() throws {
        let tree = try TempTree()
        let path = try tree.write("a.txt", "first")
        let loop = EmbeddedEventLoop()
        let cache = OpenFileCache(eventLoop: loop)
        let (fd, status) = try self.open(path)
        let entry = try #require(cache.insert(path: path, descriptor: fd, status: status, headers: [:]))
        cache.release(entry)
        let hit = try #require(cache.acquire(path))
        #expect(hit === entry)
        cache.release(hit)

        // Same size, written again, modification time put back: the change time still moves.
        try tree.write("a.txt", "FIRST")
        try tree.setModified("a.txt", Int(status.attributes.modificationSeconds))
        #expect(cache.acquire(path) == nil)
        #expect(cache.count == 0)

        // Replaced by a rename (a new inode), as editors save.
        let (fd2, status2) = try self.open(path)
        let second = try #require(cache.insert(path: path, descriptor: fd2, status: status2, headers: [:]))
        cache.release(second)
        try tree.write("b.txt", "FIRST")
        #expect(rename(tree.root + "/b.txt", path) == 0)
        #expect(cache.acquire(path) == nil)

        // Deleted.
        let (fd3, status3) = try self.open(path)
        cache.release(try #require(cache.insert(path: path, descriptor: fd3, status: status3, headers: [:])))
        unlink(path)
        #expect(cache.acquire(path) == nil)
        try loop.syncShutdownGracefully()
    }

    @Test func evictedEntriesCloseWhenTheLastUserReleases() throws {
        let tree = try TempTree()
        let path = try tree.write("a.txt", "data")
        let loop = EmbeddedEventLoop()
        let clock = FakeClock()
        let cache = OpenFileCache(eventLoop: loop, now: { clock.now })
        let (fd, status) = try self.open(path)
        let entry = try #require(cache.insert(path: path, descriptor: fd, status: status, headers: [:]))
        // In use while the cache is cleared: still open for the response sending from it.
        cache.removeAll()
        #expect(fcntl(fd, F_GETFD) != -1)
        cache.release(entry)
        #expect(fcntl(fd, F_GETFD) == -1)
        #expect(openFiles(under: tree.base) == 0)

        // Idle entries close after the idle time, on the sweep.
        let (fd2, status2) = try self.open(path)
        cache.release(try #require(cache.insert(path: path, descriptor: fd2, status: status2, headers: [:])))
        clock.now += OpenFileCache.idleNanoseconds / 2
        loop.advanceTime(by: .nanoseconds(OpenFileCache.idleNanoseconds))
        #expect(cache.count == 1)
        clock.now += OpenFileCache.idleNanoseconds
        loop.advanceTime(by: .nanoseconds(OpenFileCache.idleNanoseconds))
        #expect(cache.count == 0)
        #expect(openFiles(under: tree.base) == 0)
        try loop.syncShutdownGracefully()
    }

    @Test func largeFilesAreNotKeptAndCapacityIsBounded() throws {
        let tree = try TempTree()
        let loop = EmbeddedEventLoop()
        let cache = OpenFileCache(eventLoop: loop)
        let big = try tree.write("big.bin", TempTree.bytes(Int(OpenFileCache.maxFileSize) + 1))
        let (fd, status) = try self.open(big)
        #expect(cache.insert(path: big, descriptor: fd, status: status, headers: [:]) == nil)
        close(fd)
        for index in 0..<(OpenFileCache.capacity + 10) {
            let path = try tree.write("f\(index).txt", "\(index)")
            let (fd, status) = try self.open(path)
            cache.release(try #require(cache.insert(path: path, descriptor: fd, status: status, headers: [:])))
        }
        #expect(cache.count == OpenFileCache.capacity)
        cache.removeAll()
        try loop.syncShutdownGracefully()
    }

    /// Over the wire: every change is seen at once, and a stopped server holds no file open.
    @Test func servedFilesAreNeverStale() async throws {
        let tree = try TempTree()
        try tree.write("page.txt", "version 1")
        let server = try await TestServer.start(handlers: [FileHandler()], directory: tree.root)
        let client = try server.client()
        #expect(try client.get("/page.txt").bodyText == "version 1")
        #expect(try client.get("/page.txt").bodyText == "version 1")
        try tree.write("page.txt", "version 2")
        #expect(try client.get("/page.txt").bodyText == "version 2")
        try tree.write("next.txt", "version 3")
        #expect(rename(tree.root + "/next.txt", tree.root + "/page.txt") == 0)
        #expect(try client.get("/page.txt").bodyText == "version 3")
        unlink(tree.root + "/page.txt")
        #expect(try client.get("/page.txt").status == 404)
        try tree.write("page.txt", "back")
        let first = try client.get("/page.txt")
        // A conditional request against the cached entry still gets 304.
        let etag = try #require(first.header("etag"))
        #expect(try client.get("/page.txt", headers: ["If-None-Match: \(etag)"]).status == 304)
        #expect(openFiles(under: tree.base) == 1)
        await server.server.stopListening(grace: 1)
        #expect(openFiles(under: tree.base) == 0)
        await server.shutdown()
    }

    /// Small files keep their bytes only once settled: a file changed within the last second could
    /// change again in the same clock tick without any time or size moving.
    @Test func contentIsKeptOnlyForSmallSettledFilesThatReadBackWhole() throws {
        let tree = try TempTree()
        let path = try tree.write("small.txt", "settled bytes")
        let (fd, status) = try self.open(path)
        defer { close(fd) }
        let changed = max(status.identity.change, status.identity.modification)
        #expect(OpenFileCache.readContent(descriptor: fd, status: status, now: changed + 10_000_000) == nil)
        let content = try #require(OpenFileCache.readContent(descriptor: fd, status: status, now: changed + OpenFileCache.settledNanoseconds))
        #expect(String(buffer: content) == "settled bytes")

        // Grown after fstat: the headers from fstat would not match the bytes.
        let appended = Glibc.open(path, O_WRONLY | O_APPEND)
        #expect(write(appended, "!", 1) == 1)
        close(appended)
        #expect(OpenFileCache.readContent(descriptor: fd, status: status, now: changed + OpenFileCache.settledNanoseconds) == nil)

        let big = try tree.write("big.txt", TempTree.bytes(Int(OpenFileCache.maxContentSize) + 1))
        let (bigFD, bigStatus) = try self.open(big)
        defer { close(bigFD) }
        #expect(OpenFileCache.readContent(descriptor: bigFD, status: bigStatus, now: changed + 100 * OpenFileCache.settledNanoseconds) == nil)
    }

    /// An entry opened while its file was too fresh to keep the bytes is dropped once the file has
    /// settled, so the next request reads them; one that has them stays.
    @Test func aFreshEntryIsReopenedOnceSettledToKeepItsBytes() throws {
        let tree = try TempTree()
        let path = try tree.write("fresh.txt", "fresh")
        let loop = EmbeddedEventLoop()
        let wall = FakeClock()
        let (fd, status) = try self.open(path)
        wall.now = max(status.identity.change, status.identity.modification)
        let cache = OpenFileCache(eventLoop: loop, wallClock: { wall.now })
        cache.release(try #require(cache.insert(path: path, descriptor: fd, status: status, headers: [:])))
        let hit = try #require(cache.acquire(path))
        cache.release(hit)
        wall.now += OpenFileCache.settledNanoseconds
        #expect(cache.acquire(path) == nil)
        #expect(cache.count == 0)

        let (fd2, status2) = try self.open(path)
        let bytes = try #require(OpenFileCache.readContent(descriptor: fd2, status: status2, now: wall.now))
        cache.release(try #require(cache.insert(path: path, descriptor: fd2, status: status2, headers: [:], content: bytes)))
        let kept = try #require(cache.acquire(path))
        #expect(kept.content.map { String(buffer: $0) } == "fresh")
        cache.release(kept)
        cache.removeAll()
        try loop.syncShutdownGracefully()
    }

    /// Over the wire with the bytes cached: whole file and ranges come from memory, and an edit that
    /// keeps the size and puts the modification time back is still seen at once.
    @Test func cachedBytesAreServedAndNeverStale() async throws {
        let tree = try TempTree()
        let path = try tree.write("page.txt", "version 1")
        try #require(self.waitUntilSettled(path))
        let server = try await TestServer.start(handlers: [FileHandler()], directory: tree.root)
        defer { Task { await server.shutdown() } }
        let client = try server.client()
        #expect(try client.get("/page.txt").bodyText == "version 1")  // opened, bytes read
        #expect(try client.get("/page.txt").bodyText == "version 1")  // from memory
        let range = try client.get("/page.txt", headers: ["Range: bytes=2-4"])
        #expect(range.status == 206)
        #expect(range.bodyText == "rsi")
        #expect(range.header("content-range") == "bytes 2-4/9")
        var before = stat()
        stat(path, &before)
        try tree.write("page.txt", "VERSION 1")
        try tree.setModified("page.txt", Int(before.st_mtim.tv_sec))
        #expect(try client.get("/page.txt").bodyText == "VERSION 1")
        withExtendedLifetime(tree) {}
    }

    /// A file whose bytes are cached is answered with fields encoded once; its answers must carry the
    /// same fields, in the same order, as a file sent the ordinary way, for GET, HEAD, HTTP/1.0
    /// keep-alive and `Connection: close`.
    @Test func cachedAnswersHaveTheFieldsOfOrdinaryOnes() async throws {
        let tree = try TempTree()
        let path = try tree.write("kept.txt", "same text")
        try #require(self.waitUntilSettled(path))
        let server = try await TestServer.start(handlers: [FileHandler()], directory: tree.root)
        defer { Task { await server.shutdown() } }
        let recorder = EventRecorder(server)
        // Written just now: not settled, so sent from the file (head, then sendfile).
        try tree.write("fresh.txt", "same text")
        let client = try server.client()
        func exchange(_ request: String, head: Bool = false) throws -> RawResponse {
            try client.send(request)
            return try client.readResponse(head: head)
        }
        func names(_ response: RawResponse) -> [String] { response.headers.map(\.0) }
        let ordinary = try exchange("GET /fresh.txt HTTP/1.1\r\nHost: x\r\n\r\n")
        let first = try exchange("GET /kept.txt HTTP/1.1\r\nHost: x\r\n\r\n")
        let hit = try exchange("GET /kept.txt HTTP/1.1\r\nHost: x\r\n\r\n")
        let expected = ["ETag", "Last-Modified", "Cache-Control", "Accept-Ranges", "Content-Type", "Content-Length", "Server", "Date"]
        #expect(names(ordinary) == expected)
        for response in [first, hit] {
            #expect("\(response.version) \(response.status) \(response.reason)" == "HTTP/1.1 200 OK")
            #expect(names(response) == expected)
            #expect(response.header("content-length") == "9")
            #expect(response.header("content-type") == ordinary.header("content-type"))
            #expect(response.header("server") == ordinary.header("server"))
            #expect(response.bodyText == "same text")
        }
        // HEAD: the GET's fields and no body (a body would be read as the next response's head).
        let head = try exchange("HEAD /kept.txt HTTP/1.1\r\nHost: x\r\n\r\n", head: true)
        #expect(names(head) == expected)
        #expect(head.header("content-length") == "9")
        let old = try exchange("GET /kept.txt HTTP/1.0\r\nConnection: keep-alive\r\n\r\n")
        #expect(old.version == "HTTP/1.0")
        #expect(names(old) == expected + ["Connection"])
        #expect(old.header("connection") == "keep-alive")
        #expect(old.bodyText == "same text")
        // Each answer below differs from the one before it in one respect only (the whole answer
        // is kept between requests, see `PreparedAnswer`): the `Connection` field, then the version.
        let again = try exchange("GET /kept.txt HTTP/1.1\r\nHost: x\r\n\r\n")
        #expect(names(again) == expected)
        let last = try exchange("GET /kept.txt HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        #expect(names(last) == expected + ["Connection"])
        #expect(last.header("connection") == "close")
        #expect(last.bodyText == "same text")
        #expect(try client.isClosedByPeer())
        let older = try server.client().get("/kept.txt", version: "HTTP/1.0")
        #expect("\(older.version) \(older.status)" == "HTTP/1.0 200")
        #expect(older.header("connection") == "close")
        #expect(older.bodyText == "same text")
        // The dashboard's detail shows the fields as sent.
        #expect(recorder.waitFor { _ in recorder.finished.count == 8 })
        let started = recorder.events.compactMap { if case .responseStarted(let s) = $0 { s } else { nil } }
        try #require(started.count == 8)
        for (event, response) in zip(started, [ordinary, first, hit, head, old, again, last, older]) {
            #expect(event.headers.map(\.name) == names(response))
            #expect(event.headers.first("server") == response.header("server"))
            #expect(event.headers.first("connection") == response.header("connection"))
        }
        #expect(started.map(\.expectedBodyBytes) == [9, 9, 9, 0, 9, 9, 9, 9])
        withExtendedLifetime(tree) {}
    }

    /// A cached file's whole answer is built once and sent again; its `Date` must still follow the
    /// clock: once the second turns, the next answer carries the new date (and the same body).
    @Test func aPreparedAnswerFollowsTheClock() async throws {
        let tree = try TempTree()
        let path = try tree.write("kept.txt", "same text")
        try #require(self.waitUntilSettled(path))
        let server = try await TestServer.start(handlers: [FileHandler()], directory: tree.root)
        defer { Task { await server.shutdown() } }
        let client = try server.client()
        _ = try client.get("/kept.txt")  // opened, bytes read
        let before = try client.get("/kept.txt")  // the prepared answer
        let date = try #require(before.header("date"))
        // Wait (on the clock, not a fixed time) until the second of that date has passed.
        #expect(waitUntil(seconds: 5) { HTTPDate.format(secondsSinceEpoch: Int64(time(nil))) != date })
        let after = try client.get("/kept.txt")
        let now = Int64(time(nil))
        #expect(after.header("date") != date)
        // This second's date (or the last one's, if the second turned since the answer).
        #expect([now, now - 1].map { HTTPDate.format(secondsSinceEpoch: $0) }.contains(after.header("date") ?? ""))
        #expect(after.bodyText == "same text")
        #expect(after.header("etag") == before.header("etag"))
        withExtendedLifetime(tree) {}
    }

    /// Records what `acquireAfterReads` answered, releasing what it got.
    private final class Waiter: CacheWaiter {
        var answers: [Bool] = []
        func cacheChecked(_ entry: OpenFileCache.Entry?, in cache: OpenFileCache) {
            self.answers.append(entry != nil)
            if let entry { cache.release(entry) }
        }
    }

    /// Requests that find an entry while the loop reads are answered after those reads, with one
    /// freshness check per file for all of them; a file changed between the lookups and the check is
    /// seen by every one of them, and nothing is left open.
    @Test func hitsOfOneLoopTurnShareOneCheckMadeAfterTheReads() throws {
        let tree = try TempTree()
        let loop = EmbeddedEventLoop()
        let cache = OpenFileCache(eventLoop: loop)
        for name in ["a.txt", "b.txt"] {
            let path = try tree.write(name, "four")
            let (fd, status) = try self.open(path)
            cache.release(try #require(cache.insert(path: path, key: name, root: tree.root, descriptor: fd, status: status, headers: [:])))
        }
        let waiters = (0..<4).map { _ in Waiter() }
        let checks = cache.freshnessChecks
        #expect(cache.acquireAfterReads("a.txt", root: tree.root, for: waiters[0]))
        #expect(cache.acquireAfterReads("a.txt", root: tree.root, for: waiters[1]))
        #expect(cache.acquireAfterReads("b.txt", root: tree.root, for: waiters[2]))
        #expect(!cache.acquireAfterReads("c.txt", root: tree.root, for: waiters[3]))
        #expect(waiters.allSatisfy { $0.answers.isEmpty })  // not before the loop's tasks
        loop.run()
        #expect(waiters.map(\.answers) == [[true], [true], [true], []])
        #expect(cache.freshnessChecks - checks == 2)

        #expect(cache.acquireAfterReads("a.txt", root: tree.root, for: waiters[0]))
        #expect(cache.acquireAfterReads("a.txt", root: tree.root, for: waiters[1]))
        try tree.write("a.txt", "changed")
        loop.run()
        #expect(waiters[0].answers == [true, false] && waiters[1].answers == [true, false])
        #expect(cache.count == 1)
        #expect(openFiles(under: tree.root) == 1)  // a.txt's old descriptor closed, b.txt's kept
        cache.removeAll()
        #expect(openFiles(under: tree.root) == 0)
        try loop.syncShutdownGracefully()
    }

    /// Requests closer together than the busy window share their checks; a sparser one is checked
    /// at once.
    @Test func requestsCloseTogetherCountAsBusy() throws {
        let loop = EmbeddedEventLoop()
        let cache = OpenFileCache(eventLoop: loop)
        let start: Int64 = 5_000_000_000
        #expect(!cache.isBusy(now: start))
        #expect(cache.isBusy(now: start + 20_000))
        #expect(!cache.isBusy(now: start + 20_000 + OpenFileCache.busyWindowNanoseconds))
        #expect(!cache.isBusy(now: start))  // the clock going back is not busy
        try loop.syncShutdownGracefully()
    }

    /// Over the wire, with hits waiting for a shared check (the load path): while clients keep
    /// asking, the file is edited keeping its size and modification time; every request sent after
    /// the edit gets the new text.
    @Test func underLoadAnEditIsSeenByEveryRequestSentAfterIt() async throws {
        let tree = try TempTree()
        let path = try tree.write("page.txt", "version 1")
        try #require(self.waitUntilSettled(path))
        // Every hit counts as under load: a debug build is too slow to bring requests within the
        // release window of each other.
        let server = try await TestServer.start(handlers: [FileHandler()], directory: tree.root) {
            $0.fileCheckBusyWindowNanoseconds = 60_000_000_000
        }
        defer { Task { await server.shutdown() } }
        let edited = NIOLockedValueBox(false)
        let port = server.port
        let clients = (0..<6).map { _ in
            Task {
                try await offCooperativePool { () -> (stale: Int, afterEdit: Int) in
                    let client = try RawClient(port: port)
                    var (stale, afterEdit) = (0, 0)
                    for _ in 0..<600 {
                        let sentAfterEdit = edited.withLockedValue { $0 }
                        let body = try client.get("/page.txt").bodyText
                        if sentAfterEdit {
                            afterEdit += 1
                            if body != "VERSION 1" { stale += 1 }
                        }
                    }
                    return (stale, afterEdit)
                }
            }
        }
        #expect(try waitUntil { try server.client().get("/page.txt").bodyText == "version 1" })
        var before = stat()
        stat(path, &before)
        try tree.write("page.txt", "VERSION 1")
        try tree.setModified("page.txt", Int(before.st_mtim.tv_sec))
        edited.withLockedValue { $0 = true }
        var checked = 0
        for client in clients {
            let result = try await client.value
            #expect(result.stale == 0)
            checked += result.afterEdit
        }
        #expect(checked > 0)
        withExtendedLifetime(tree) {}
    }
}
