import NIOCore
import NIOEmbedded
import Testing

@testable import ServeEngine

/// What every accepted connection gets before its first request: socket options and address names.
@Suite struct ConnectionSetupTests {
    @Test func addressNamesMatchDescribeAndFollowTheAddress() throws {
        let names = AddressNames()
        let a1 = try SocketAddress(ipAddress: "127.0.0.1", port: 50_001)
        let a2 = try SocketAddress(ipAddress: "127.0.0.1", port: 50_002)
        let b = try SocketAddress(ipAddress: "10.1.2.3", port: 50_001)
        let v6 = try SocketAddress(ipAddress: "::1", port: 50_001)
        let v6b = try SocketAddress(ipAddress: "fe80::1", port: 50_001)
        let mapped = try SocketAddress(ipAddress: "::ffff:192.168.0.9", port: 8000)
        // Peers: the port is not part of the name, so one cached name serves both.
        for (address, expected) in [(a1, "127.0.0.1"), (a2, "127.0.0.1"), (b, "10.1.2.3"), (a1, "127.0.0.1"),
                                    (v6, "::1"), (v6b, "fe80::1"), (mapped, "192.168.0.9"), (v6, "::1")] {
            #expect(names.peer(address) == expected)
            #expect(names.peer(address) == HTTPConnectionHandler.describe(address))
        }
        // Local addresses keep their port.
        for (address, expected) in [(a1, "127.0.0.1:50001"), (a2, "127.0.0.1:50002"), (a2, "127.0.0.1:50002"),
                                    (v6, "[::1]:50001"), (b, "10.1.2.3:50001")] {
            #expect(names.local(address) == expected)
            #expect(names.local(address) == HTTPConnectionHandler.describe(address, withPort: true))
        }
        #expect(names.peer(nil) == "-")
        #expect(names.local(nil) == "-")
    }

    @Test func everyConnectionIsNamedFromItsOwnAddresses() async throws {
        let server = try await TestServer.start()
        defer { Task { await server.shutdown() } }
        let recorder = EventRecorder(server)
        for _ in 1...3 {
            _ = try server.client().get("/x", headers: ["Connection: close"])
        }
        #expect(recorder.waitFor { _ in recorder.closed.count == 3 })
        let opened = recorder.events.compactMap { if case .connectionOpened(let o) = $0 { o } else { nil } }
        #expect(opened.map(\.peer) == Array(repeating: "127.0.0.1", count: 3))
        #expect(opened.map(\.local) == Array(repeating: "127.0.0.1:\(server.port)", count: 3))
    }

    /// `TCP_NODELAY` (small responses go out at once) and `TCP_NOTSENT_LOWAT` (download progress)
    /// are set on the listener and must reach every accepted connection.
    @Test func acceptedConnectionsHaveTheServersSocketOptions() async throws {
        let server = try await TestServer.start()
        defer { Task { await server.shutdown() } }
        let client = try server.client()
        #expect(try client.get("/x").status == 200)
        let channel = try #require(server.server.connectionChannels.first)
        let noDelay = try await channel.getOption(.tcpOption(.tcp_nodelay)).get()
        #expect(noDelay != 0)
        let lowat = try await channel.getOption(HTTPServer.notSentLowatOption).get()
        #expect(lowat == HTTPServer.notSentLowat)
        #expect(try await channel.getOption(.allowRemoteHalfClosure).get())
        // NIO's 4 reads per wakeup, not the listener's 16: what one wakeup reads is decoded at once,
        // and waits whole while a client does not take its answers (`bench/abuse pipeliners`).
        #expect(try await channel.getOption(.maxMessagesPerRead).get() == 4)
        withExtendedLifetime(client) {}
    }

    /// The listener accepts up to 16 connections per wakeup (NIO's default is 4).
    @Test func theListenerAcceptsSeveralConnectionsPerWakeup() async throws {
        let server = try await TestServer.start()
        defer { Task { await server.shutdown() } }
        let listener = try #require(server.server.listeningChannels.first)
        #expect(try await listener.getOption(.maxMessagesPerRead).get() == 16)
        #expect(try await listener.getOption(.backlog).get() == 512)
    }
}

/// The per-loop timeout sweep, without sockets.
@Suite struct ConnectionTimersTests {
    final class FakeConnection: TimedConnection {
        var timerDeadline: Int64
        var timerSlot = -1
        var calls: [Int64] = []
        var onDue: ((FakeConnection) -> Void)?

        init(deadline: Int64) { self.timerDeadline = deadline }

        func timerDue(now: Int64) {
            self.calls.append(now)
            self.onDue?(self)
        }
    }

    @Test func periodIsATenthOfTheTimeoutWithinBounds() {
        let loop = EmbeddedEventLoop()
        #expect(ConnectionTimers(eventLoop: loop, timeoutNanoseconds: 30_000_000_000).period == .milliseconds(250))
        #expect(ConnectionTimers(eventLoop: loop, timeoutNanoseconds: 300_000_000).period == .milliseconds(30))
        #expect(ConnectionTimers(eventLoop: loop, timeoutNanoseconds: 1_000_000).period == .milliseconds(10))
    }

    @Test func onlyConnectionsPastTheirDeadlineAreTold() {
        let timers = ConnectionTimers(eventLoop: EmbeddedEventLoop(), timeoutNanoseconds: 1_000_000_000)
        let early = FakeConnection(deadline: 100)
        let late = FakeConnection(deadline: 300)
        let exact = FakeConnection(deadline: 200)
        for c in [early, late, exact] { timers.add(c) }
        timers.sweep(now: 200)
        #expect(early.calls == [200])
        #expect(exact.calls == [200])
        #expect(late.calls.isEmpty)
        late.timerDeadline = 250
        timers.sweep(now: 260)
        #expect(late.calls == [260])
    }

    @Test func removalsKeepTheOthersAndMayHappenWhileSweeping() {
        let timers = ConnectionTimers(eventLoop: EmbeddedEventLoop(), timeoutNanoseconds: 1_000_000_000)
        let connections = (0..<6).map { FakeConnection(deadline: Int64($0)) }
        for c in connections { timers.add(c) }
        timers.add(connections[0])  // twice: still one entry
        #expect(timers.count == 6)
        // A due connection that closes itself and, in doing so, another due one told after it.
        connections[2].onDue = { me in
            timers.remove(me)
            timers.remove(connections[5])
        }
        timers.sweep(now: 10)
        #expect(connections[2].calls.count == 1)
        #expect(connections[5].calls.isEmpty, "removed before its turn: not told")
        #expect([0, 1, 3, 4].allSatisfy { connections[$0].calls.count == 1 })
        #expect(timers.count == 4)
        timers.remove(connections[1])
        timers.remove(connections[1])  // twice: no effect
        #expect(timers.count == 3)
        #expect(connections[1].timerSlot == -1)
        let slots = [0, 3, 4].map { connections[$0].timerSlot }.sorted()
        #expect(slots == [0, 1, 2])
        timers.sweep(now: 20)
        #expect(connections[1].calls.count == 1)
        #expect([0, 3, 4].allSatisfy { connections[$0].calls.count == 2 })
    }

    @Test func theLoopTaskSweepsAndLapsesWhenEmpty() {
        let loop = EmbeddedEventLoop()
        let timers = ConnectionTimers(eventLoop: loop, timeoutNanoseconds: 1_000_000_000)
        let connection = FakeConnection(deadline: 0)
        connection.onDue = { $0.timerDeadline = .max }
        timers.add(connection)
        loop.advanceTime(by: .milliseconds(99))
        #expect(connection.calls.isEmpty)
        loop.advanceTime(by: .milliseconds(1))
        #expect(connection.calls.count == 1)
        connection.timerDeadline = 0
        loop.advanceTime(by: .milliseconds(100))
        #expect(connection.calls.count == 2)
        timers.remove(connection)
        connection.timerDeadline = 0
        loop.advanceTime(by: .milliseconds(500))
        #expect(connection.calls.count == 2)
        // Added again: the task starts again.
        timers.add(connection)
        loop.advanceTime(by: .milliseconds(100))
        #expect(connection.calls.count == 3)
    }
}

/// What the dashboard tells people to open.
@Suite struct ReachableURLTests {
    static func address(_ ip: String, _ port: Int = 0) throws -> SocketAddress { try SocketAddress(ipAddress: ip, port: port) }

    @Test func aWildcardListenerIsReachedOnLocalhostAndThisMachinesNetworks() throws {
        let interfaces = try ["127.0.0.1", "192.168.1.23", "10.0.0.5", "::1", "fe80::1", "2001:db8::7"].map { try Self.address($0) }
        #expect(HTTPServer.reachableURLs(bound: [try Self.address("::", 8000)], interfaces: interfaces) == [
            "http://localhost:8000/", "http://192.168.1.23:8000/", "http://10.0.0.5:8000/", "http://[2001:db8::7]:8000/",
        ])
        // 0.0.0.0 is IPv4 only.
        #expect(HTTPServer.reachableURLs(bound: [try Self.address("0.0.0.0", 9000)], interfaces: interfaces) == [
            "http://localhost:9000/", "http://192.168.1.23:9000/", "http://10.0.0.5:9000/",
        ])
        // A specific address is the only way in.
        #expect(HTTPServer.reachableURLs(bound: [try Self.address("127.0.0.1", 8001), try Self.address("::1", 8001)], interfaces: interfaces) == [
            "http://127.0.0.1:8001/", "http://[::1]:8001/",
        ])
    }
}
