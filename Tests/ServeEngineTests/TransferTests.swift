import Foundation
import NIOCore
import Testing

@testable import ServeEngine

/// Big transfers: progress, aborts, and changing the root while a download runs.
@Suite struct TransferTests {
    /// Serves a folder holding `big.bin` of `size` pseudo-random bytes.
    private func serveBigFile(
        size: Int,
        seed: UInt64 = 42,
        configure: (inout ServerConfiguration) -> Void = { _ in }
    ) async throws -> (TempTree, TestServer, [UInt8]) {
        let tree = try TempTree()
        let content = TempTree.bytes(size, seed: seed)
        try tree.write("big.bin", content)
        return (tree, try await TestServer.start(handlers: [FileHandler()], directory: tree.root, configure: configure), content)
    }

    /// Starts `GET /big.bin` and reads the response head; the body is left to the caller.
    private func beginDownload(_ server: TestServer) throws -> RawClient {
        let client = try server.client()
        try client.send("GET /big.bin HTTP/1.1\r\nHost: x\r\n\r\n")
        _ = try client.readResponseHead()
        return client
    }

    /// Reads `size` bytes in `chunk`-sized reads with a pause between them (a slow reader).
    private static func readSlowly(_ client: RawClient, size: Int, chunk: Int, pause: UInt32 = 30_000) throws -> Int {
        var received = 0
        while received < size {
            received += try client.readBytes(min(chunk, size - received)).count
            usleep(pause)
        }
        return received
    }

    @Test func abortedDownloadIsCountedClosesItsFileAndTheServerKeepsServing() async throws {
        let tree = try TempTree()
        let size = 32 * 1024 * 1024
        try tree.write("big.bin", TempTree.bytes(size))
        try tree.write("small.txt", "ok")
        let server = try await TestServer.start(handlers: [FileHandler()], directory: tree.root)
        defer { Task { await server.shutdown() } }
        let recorder = EventRecorder(server)
        // Warm up so lazily opened descriptors (thread pool, epoll) are counted in the baseline.
        #expect(try server.client().get("/small.txt").status == 200)
        let baseline = openDescriptorCount()
        do {
            let client = try server.client()
            try client.send("GET /big.bin HTTP/1.1\r\nHost: x\r\n\r\n")
            _ = try client.readResponseHead()
            _ = try client.readBytes(100_000)
        }  // the client closes here, mid-transfer
        #expect(recorder.waitFor { _ in recorder.finished.contains { $0.target == "/big.bin" } })
        let aborted = try #require(recorder.finished.first { $0.target == "/big.bin" })
        #expect(aborted.outcome == .abortedByClient)
        #expect(aborted.bytesSent < Int64(size))
        #expect(try server.client().get("/small.txt").bodyText == "ok")
        #expect(waitUntil { openDescriptorCount() <= baseline }, "descriptors: \(openDescriptorCount()) vs \(baseline)")
        #expect(server.server.totals.aborted == 1)
    }

    /// A reader with a small window that gives up part way (a phone on a bad link): the bytes counted
    /// are at least what it read (with 256 KiB regions counted whole this counted 0), also for a
    /// 200 KiB body that once went out as one write.
    @Test(arguments: [32 * 1024 * 1024, 200 * 1024])
    func slowReaderThatGivesUpIsCountedForWhatItRead(size: Int) async throws {
        let (tree, server, _) = try await self.serveBigFile(size: size)
        defer { Task { await server.shutdown() } }
        let recorder = EventRecorder(server)
        let port = server.port
        // Off the cooperative pool: the two cases run in parallel and block while reading.
        let read = try await offCooperativePool {
            let client = try RawClient(port: port, receiveBuffer: 4096)
            try client.send("GET /big.bin HTTP/1.1\r\nHost: x\r\n\r\n")
            _ = try client.readResponseHead()
            return try Self.readSlowly(client, size: 48 * 1024, chunk: 8 * 1024)
        }  // the client closes with unread data: a reset
        #expect(recorder.waitFor { _ in recorder.finished.contains { $0.target == "/big.bin" } })
        let aborted = try #require(recorder.finished.first { $0.target == "/big.bin" })
        #expect(aborted.outcome == .abortedByClient)
        #expect(aborted.bytesSent >= Int64(read), "counted \(aborted.bytesSent), the client read \(read)")
        #expect(aborted.bytesSent < Int64(size))
        withExtendedLifetime(tree) {}  // the folder is removed when the tree goes
    }

    /// Fast readers that hang up at random points (the soak's and `bench/abuse aborts`' clients):
    /// each abort is counted with what the kernel took, so never below what the client read and
    /// never more than the two socket buffers could hold on top. Counting whole sendfile regions
    /// came out below the client's count in about 4 aborts out of 10.
    @Test func downloadsCutAtRandomPointsCountTheBytesReallySent() async throws {
        let size = 64 * 1024 * 1024
        let (tree, server, _) = try await self.serveBigFile(size: size)
        defer { Task { await server.shutdown() } }
        let recorder = EventRecorder(server)
        let port = server.port
        // What can sit between the server's count and the client's: its send buffer and our receive
        // buffer (set, so it cannot grow to tcp_rmem's maximum; the kernel doubles what is asked).
        let receiveBuffer = 256 * 1024
        let slack = Self.largestSendBuffer() + 2 * receiveBuffer
        let largestCut = size - slack - 1024 * 1024
        try #require(largestCut > 1024 * 1024, "socket buffers of \(slack) bytes leave no room to abort")
        var random = SystemRandomNumberGenerator()
        for round in 1...12 {
            let cut = Int.random(in: 16 * 1024...largestCut, using: &random)
            let read = try await offCooperativePool {
                let client = try RawClient(port: port, receiveBuffer: Int32(receiveBuffer))
                try client.send("GET /big.bin HTTP/1.1\r\nHost: x\r\n\r\n")
                _ = try client.readResponseHead()
                return try client.readBytes(cut).count
            }  // closed with unread data: a reset, as when a download is cancelled
            #expect(recorder.waitFor { _ in recorder.finished.count == round })
            guard let record = recorder.finished.last else { break }
            #expect(record.outcome == .abortedByClient)
            #expect(record.bytesSent >= Int64(read), "counted \(record.bytesSent), the client read \(read)")
            #expect(record.bytesSent <= Int64(read + slack), "counted \(record.bytesSent), the client read \(read)")
        }
        #expect(server.server.totals.aborted == 12)
        withExtendedLifetime(tree) {}
    }

    /// The largest send buffer TCP grows to by itself: the last of `tcp_wmem`'s "min default max".
    private static func largestSendBuffer() -> Int {
        let text = (try? String(contentsOfFile: "/proc/sys/net/ipv4/tcp_wmem", encoding: .utf8)) ?? ""
        return text.split(whereSeparator: { $0 == " " || $0 == "\t" || $0 == "\n" }).last.flatMap { Int($0) } ?? 4 * 1024 * 1024
    }

    @Test func bigDownloadPublishesProgressAsItGoes() async throws {
        let size = 24 * 1024 * 1024
        let (tree, server, _) = try await self.serveBigFile(size: size)
        defer {
            withExtendedLifetime(tree) {}
            Task { await server.shutdown() }
        }
        let recorder = EventRecorder(server)
        // Read slowly enough that the transfer spans several progress intervals.
        _ = try Self.readSlowly(try self.beginDownload(server), size: size, chunk: 512 * 1024)
        #expect(recorder.waitFor { _ in !recorder.finished.isEmpty })
        let progress = recorder.events.compactMap { if case .bodyProgress(let p) = $0 { p } else { nil } }
        #expect(progress.count >= 3, "\(progress.count) progress events")
        #expect(progress.allSatisfy { $0.expectedBodyBytes == Int64(size) })
        #expect(progress.map(\.bytesSent) == progress.map(\.bytesSent).sorted())
        #expect(recorder.finished.first?.bytesSent == Int64(size))
        #expect(server.server.totals.bytesSent == Int64(size))
    }

    @Test func slowReaderStillGetsFrequentProgress() async throws {
        let size = 12 * 1024 * 1024
        let (tree, server, _) = try await self.serveBigFile(size: size)
        defer {
            withExtendedLifetime(tree) {}
            Task { await server.shutdown() }
        }
        let recorder = EventRecorder(server)
        let client = try self.beginDownload(server)
        let start = monotonicNow()
        // About 4 MB/s: the transfer takes a few seconds once the socket buffers are full.
        _ = try Self.readSlowly(client, size: size, chunk: 128 * 1024)
        let seconds = Double(monotonicNow() - start) / 1e9
        #expect(recorder.waitFor { _ in !recorder.finished.isEmpty })
        let progress = recorder.events.compactMap { if case .bodyProgress(let p) = $0 { p } else { nil } }
        // At least one event per 250 ms of transfer (they are due every 50-100 ms).
        #expect(Double(progress.count) >= seconds * 4 - 2, "\(progress.count) events in \(seconds) s")
        // A slow client keeps the small unsent limit that makes this possible.
        #expect(try await Self.unsentLimit(server) == SendBufferPolicy.small)
        withExtendedLifetime(client) {}
    }

    /// The `TCP_NOTSENT_LOWAT` of the server's only open connection.
    private static func unsentLimit(_ server: TestServer) async throws -> Int {
        let channel = try #require(server.server.connectionChannels.first)
        return Int(try await channel.getOption(HTTPServer.notSentLowatOption).get())
    }

    @Test func aFastClientGetsTheLargeUnsentLimitAndLosesItWhenItSlowsDown() async throws {
        let size = 32 * 1024 * 1024
        // Looser than the defaults, which a sanitizer build's own latency alone can exceed: "fast" is
        // a socket that took more within 40 ms eight times in a row, "slow" one wait over 200 ms.
        let (tree, server, content) = try await self.serveBigFile(size: size) {
            $0.sendBufferThresholds = .init(fastWait: 40_000_000, fastWaitsToGrow: 8, slowWait: 200_000_000)
        }
        defer {
            withExtendedLifetime(tree) {}
            Task { await server.shutdown() }
        }
        let client = try self.beginDownload(server)
        #expect(try await Self.unsentLimit(server) == SendBufferPolicy.small)
        let body = try await offCooperativePool { try client.readBytes(size) }
        #expect(body == content)
        #expect(try await Self.unsentLimit(server) == SendBufferPolicy.large)

        // The same connection read at ~2.5 MB/s: with 4 MiB allowed, the socket has room again only
        // after about a megabyte drains (~0.4 s), which shrinks the limit; small, each wait is ~0.1 s.
        try client.send("GET /big.bin HTTP/1.1\r\nHost: x\r\n\r\n")
        _ = try client.readResponseHead()
        let slowPart = 8 * 1024 * 1024
        _ = try await offCooperativePool {
            try Self.readSlowly(client, size: slowPart, chunk: 256 * 1024, pause: 100_000)
        }
        #expect(try await Self.unsentLimit(server) == SendBufferPolicy.small)
        _ = try await offCooperativePool { try client.readBytes(size - slowPart) }
    }

    @Test func rootChangeWhileDownloadingFinishesFromTheOldRoot() async throws {
        let old = try TempTree()
        let new = try TempTree()
        let size = 16 * 1024 * 1024
        let content = TempTree.bytes(size, seed: 7)
        try old.write("big.bin", content)
        try new.write("fresh.txt", "from the new root")
        let server = try await TestServer.start(handlers: [FileHandler()], directory: old.root)
        defer { Task { await server.shutdown() } }
        let recorder = EventRecorder(server)
        let downloader = try server.client()
        try downloader.send("GET /big.bin HTTP/1.1\r\nHost: x\r\n\r\n")
        _ = try downloader.readResponseHead()
        var body = try downloader.readBytes(1024 * 1024)

        try server.server.changeRoot(to: new.root)
        #expect(try server.client().get("/fresh.txt").bodyText == "from the new root")
        #expect(try server.client().get("/big.bin").status == 404)

        body += try downloader.readBytes(size - body.count)
        #expect(body == content)
        #expect(recorder.waitFor { events in
            events.contains { if case .rootChanged(_, let to, _) = $0 { to.hasSuffix("/root") } else { false } }
        })
    }

    /// A connection's next request sees a root change (its loop had served the old root just before),
    /// also for a name both roots have: the open-file cache keys files by their path under the root.
    @Test func aKeptAliveConnectionsNextRequestUsesTheNewRoot() async throws {
        let old = try TempTree()
        let new = try TempTree()
        try old.write("a.txt", "old a")
        try new.write("b.txt", "new b")
        try old.write("same.txt", "the old one")
        try new.write("same.txt", "the new one")
        let server = try await TestServer.start(handlers: [FileHandler()], directory: old.root)
        defer { Task { await server.shutdown() } }
        let client = try server.client()
        #expect(try client.get("/a.txt").bodyText == "old a")
        #expect(try client.get("/same.txt").bodyText == "the old one")
        #expect(try client.get("/same.txt").bodyText == "the old one")  // a cache hit
        try server.server.changeRoot(to: new.root)
        #expect(try client.get("/b.txt").bodyText == "new b")
        #expect(try client.get("/a.txt").status == 404)
        #expect(try client.get("/same.txt").bodyText == "the new one")
        #expect(try client.get("/same.txt").bodyText == "the new one")
        try server.server.changeRoot(to: old.root)
        #expect(try client.get("/a.txt").bodyText == "old a")
        #expect(try client.get("/same.txt").bodyText == "the old one")
    }

    @Test func badRootIsRefusedAndTheOldRootKeepsServing() async throws {
        let tree = try TempTree()
        try tree.write("here.txt", "still here")
        let file = try tree.write("plain.txt", "x", outside: true)
        let server = try await TestServer.start(handlers: [FileHandler()], directory: tree.root)
        defer { Task { await server.shutdown() } }
        #expect(throws: DocumentRoot.ValidationError.doesNotExist("/no/such/dir")) {
            try server.server.changeRoot(to: "/no/such/dir")
        }
        #expect(throws: DocumentRoot.ValidationError.notADirectory(file)) {
            try server.server.changeRoot(to: file)
        }
        #expect(try server.client().get("/here.txt").bodyText == "still here")
    }
}
