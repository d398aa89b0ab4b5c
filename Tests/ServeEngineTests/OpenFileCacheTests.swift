import Foundation
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
}
