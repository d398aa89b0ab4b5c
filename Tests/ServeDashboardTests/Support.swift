import DequeModule
import ServeDashboard

@testable import ServeEngine

/// Builds engine events at chosen times, for model and renderer tests.
struct EventScript {
    /// 2026-11-29 06:00:00 UTC.
    static let start: Int64 = 1_795_932_000 * 1_000_000_000

    static func time(_ seconds: Double) -> EventTime {
        EventTime(nanosecondsSinceEpoch: Self.start + Int64(seconds * 1e9))
    }

    static func id(_ connection: UInt64, _ index: Int) -> RequestID {
        RequestID(connection: ConnectionID(connection), index: index)
    }

    static func opened(_ connection: UInt64, peer: String = "127.0.0.1", at t: Double) -> ServerEvent {
        .connectionOpened(ConnectionOpened(id: ConnectionID(connection), peer: peer, local: "127.0.0.1:8000", time: Self.time(t)))
    }

    static func closed(_ connection: UInt64, served: Int, reason: CloseReason = .clientClosed, at t: Double) -> ServerEvent {
        .connectionClosed(ConnectionClosed(id: ConnectionID(connection), reason: reason, requestsServed: served, time: Self.time(t)))
    }

    static func received(
        _ connection: UInt64,
        _ index: Int,
        _ method: String = "GET",
        _ target: String,
        peer: String = "127.0.0.1",
        headers: [(String, String)] = [("Host", "localhost:8000"), ("User-Agent", "curl/8.0")],
        at t: Double
    ) -> ServerEvent {
        .requestReceived(
            RequestReceived(
                id: Self.id(connection, index),
                method: method,
                target: target,
                version: "HTTP/1.1",
                headers: HeaderFields(headers),
                peer: peer,
                time: Self.time(t)
            )
        )
    }

    static func started(_ connection: UInt64, _ index: Int, status: Int, length: Int64?, problem: RequestProblem? = nil, at t: Double) -> ServerEvent {
        .responseStarted(
            ResponseStarted(
                id: Self.id(connection, index),
                status: status,
                reason: status == 200 ? "OK" : status == 404 ? "Not Found" : status == 400 ? "Bad Request" : "Status",
                headers: HeaderFields([("Content-Length", length.map(String.init) ?? "0")]),
                expectedBodyBytes: length,
                time: Self.time(t),
                problem: problem
            )
        )
    }

    /// The events of a request the engine could not parse: received as `METHOD -` without headers,
    /// answered 400 with what arrived.
    static func unparsed(_ connection: UInt64, _ index: Int, method: String = "GET", bytes: [UInt8], parserError: String = "invalid character in header", includesEarlier: Bool = false, at t: Double) -> [ServerEvent] {
        let problem = RequestProblem(
            message: "Bad request syntax (\(parserError))",
            parserError: parserError,
            received: Array(bytes.prefix(RequestProblem.receivedCapacity)),
            receivedCount: bytes.count,
            receivedIncludesEarlierRequests: includesEarlier
        )
        return [
            Self.received(connection, index, method, "-", headers: [], at: t),
            Self.started(connection, index, status: 400, length: 350, problem: problem, at: t),
            Self.finished(connection, index, method, "-", status: 400, bytes: 350, ms: 0.3, at: t),
        ]
    }

    static func progress(_ connection: UInt64, _ index: Int, bytes: Int64, of total: Int64?, at t: Double) -> ServerEvent {
        .bodyProgress(BodyProgress(id: Self.id(connection, index), bytesSent: bytes, expectedBodyBytes: total, time: Self.time(t)))
    }

    static func finished(
        _ connection: UInt64,
        _ index: Int,
        _ method: String = "GET",
        _ target: String,
        status: Int,
        bytes: Int64,
        ms: Double,
        outcome: RequestOutcome = .completed,
        peer: String = "127.0.0.1",
        at t: Double
    ) -> ServerEvent {
        .requestFinished(
            RequestFinished(
                id: Self.id(connection, index),
                method: method,
                target: target,
                version: "HTTP/1.1",
                peer: peer,
                status: status,
                bytesSent: bytes,
                durationNanoseconds: Int64(ms * 1e6),
                outcome: outcome,
                time: Self.time(t)
            )
        )
    }

    /// A complete request: received, started, finished.
    static func request(
        _ connection: UInt64,
        _ index: Int,
        _ target: String,
        status: Int = 200,
        bytes: Int64 = 100,
        ms: Double = 1,
        method: String = "GET",
        peer: String = "127.0.0.1",
        at t: Double
    ) -> [ServerEvent] {
        [
            Self.received(connection, index, method, target, peer: peer, at: t),
            Self.started(connection, index, status: status, length: bytes, at: t),
            Self.finished(connection, index, method, target, status: status, bytes: bytes, ms: ms, peer: peer, at: t + ms / 1000),
        ]
    }

    /// Totals as the engine would count `events`.
    static func totals(for events: [ServerEvent], bytes: Int64? = nil) -> ServerTotals {
        let bus = EventBus(capacity: 1_000_000)
        for event in events {
            if case .requestFinished(let f) = event { bus.publish(event, addingBytes: f.bytesSent) } else { bus.publish(event) }
        }
        return bus.totals
    }

    static func batch(_ events: [ServerEvent], dropped: Int = 0, totals: ServerTotals? = nil) -> EventBus.Batch {
        EventBus.Batch(shards: [Deque(events)], droppedTotal: dropped, publishedTotal: events.count, totals: totals ?? Self.totals(for: events))
    }
}

/// A completer over a fixed list of folders.
struct TableCompleter: PathCompleting {
    var folders: [String]

    func completions(for prefix: String) -> [String] {
        self.folders.filter { $0.hasPrefix(prefix) }.sorted()
    }

    func expandHome(_ path: String) -> String {
        path == "~" || path.hasPrefix("~/") ? "/home/me" + path.dropFirst() : path
    }
}
