import Foundation
import DequeModule
@testable import ServeDashboard
import Testing

@testable import ServeEngine

/// The model from event sequences: totals, rates, percentiles, sessions, drops.
@Suite struct DashboardModelTests {
    private func model() -> DashboardModel {
        DashboardModel(root: "/srv", listening: ["127.0.0.1:8000"], now: EventScript.time(0))
    }

    @Test func requestLifecycleFillsOneRecord() {
        var model = self.model()
        model.apply(EventScript.batch([
            EventScript.opened(1, at: 0),
            EventScript.received(1, 1, "GET", "/big.bin", at: 0.1),
            EventScript.started(1, 1, status: 200, length: 1000, at: 0.1),
            EventScript.progress(1, 1, bytes: 400, of: 1000, at: 0.2),
        ]))
        let inFlight = try! #require(model.requests.all.first)
        #expect(inFlight.isInFlight)
        #expect(inFlight.status == 200)
        #expect(inFlight.bytesSent == 400)
        #expect(inFlight.progress == 0.4)
        #expect(model.sessions[ConnectionID(1)]?.isActive == true)
        #expect(model.sessions[ConnectionID(1)]?.bytes == 400)
        // The download in flight counts on its session, on screen and in the session's detail.
        #expect(model.sessions[ConnectionID(1)]?.requestsSeen == 1)
        var sessionsUI = DashboardUI()
        sessionsUI.focus = .sessions
        let screen = DashboardRenderer.render(model, sessionsUI, width: 120, height: 40).text
        #expect(screen.contains("#1 127.0.0.1 1 req 400B"), "\(screen.prefix(1200))")
        let detail = Overlays.sessionDetailLines(ConnectionID(1), model: model, context: .init()).map(\.text)
        #expect(detail.contains { $0.contains("1 request(s)") }, "\(detail)")
        // Its detail says how long it has run so far, by the dashboard's clock.
        model.tick(now: EventScript.time(2.6))
        let request = Overlays.requestDetailLines(inFlight.id, model: model, ui: DashboardUI(), context: .init()).map(\.text)
        #expect(request.contains { $0.contains("running 2.50s so far   outcome in flight") }, "\(request)")

        model.apply(EventScript.batch([EventScript.finished(1, 1, "GET", "/big.bin", status: 200, bytes: 1000, ms: 150, at: 0.25)]))
        let done = try! #require(model.requests.all.first)
        #expect(done.outcome == .completed)
        #expect(done.bytesSent == 1000)
        #expect(done.durationNanoseconds == 150_000_000)
        let finished = Overlays.requestDetailLines(done.id, model: model, ui: DashboardUI(), context: .init()).map(\.text)
        #expect(finished.contains { $0.contains("took 150ms   outcome completed") }, "\(finished)")
        #expect(model.requests.count == 1)
        let session = try! #require(model.sessions[ConnectionID(1)])
        #expect(session.requests == 1 && session.requestsSeen == 1)
        #expect(session.bytes == 1000)
        #expect(!session.isActive)

        model.apply(EventScript.batch([EventScript.closed(1, served: 1, at: 1)]))
        #expect(model.sessions.isEmpty)
    }

    /// A request's detail says whether its connection is open, or when and why it closed: a client
    /// that finds its keep-alive connection gone learns the server's idle timeout closed it. The
    /// newest closures are kept, as many as requests are.
    @Test func requestDetailSaysHowItsConnectionEnded() {
        var model = self.model()
        model.apply(EventScript.batch([EventScript.opened(1, at: 0)] + EventScript.request(1, 1, "/a.txt", at: 1)))
        model.tick(now: EventScript.time(3.5))
        func detail() -> [String] {
            Overlays.requestDetailLines(EventScript.id(1, 1), model: model, ui: DashboardUI(), context: .init()).map(\.text)
        }
        #expect(detail().contains("Connection #1 is open, idle 2s"), "\(detail())")
        model.apply(EventScript.batch([EventScript.closed(1, served: 1, reason: .idleTimeout, at: 31)]))
        let closed = "Connection #1 closed 06:00:31 after 1 request: no new request within --timeout, the server closed it (a client reusing it finds it gone)"
        #expect(detail().contains(closed), "\(detail())")
        let session = Overlays.sessionDetailLines(ConnectionID(1), model: model, context: .init()).map(\.text)
        #expect(session.first == closed)

        for connection in UInt64(2)...UInt64(DashboardModel.requestCapacity + 1) {
            model.apply(EventScript.batch([EventScript.opened(connection, at: 32), EventScript.closed(connection, served: 0, at: 32)]))
        }
        #expect(model.closedConnections.count == DashboardModel.requestCapacity)
        #expect(model.closedConnections[ConnectionID(1)] == nil && model.closedConnections[ConnectionID(2)] != nil)
        #expect(!detail().contains { $0.hasPrefix("Connection #1") })
    }

    /// A request published without detail (a flood over the engine's budget) is listed from its
    /// outcome, and its connection's counters move as for any other.
    @Test func anOutcomeWithoutDetailIsListedAndCountedOnItsSession() throws {
        var model = self.model()
        var events = [EventScript.opened(1, at: 0)]
        events += EventScript.request(1, 1, "/with-detail", bytes: 300, at: 0.1)
        for i in 2...3 {
            guard case .requestFinished(var finished) = EventScript.finished(1, i, "GET", "/bare\(i)", status: 404, bytes: 50, ms: 2, at: 0.2)
            else { continue }
            finished.hadDetail = false
            events.append(.requestFinished(finished))
        }
        model.apply(EventScript.batch(events))
        #expect(model.requests.all.map(\.target) == ["/with-detail", "/bare2", "/bare3"])
        #expect(model.requests.all.map(\.status) == [200, 404, 404])
        let session = try #require(model.sessions[ConnectionID(1)])
        #expect(session.requests == 3)
        #expect(session.bytes == 400)
        #expect(session.lastActivity == EventScript.time(0.2))
        #expect(!session.isActive)
    }

    /// A request the client left before any response shows `-`, not the in-flight `…`.
    @Test func aRequestEndedWithoutAResponseIsNotShownInFlight() {
        var model = self.model()
        model.apply(EventScript.batch([
            EventScript.received(1, 1, "POST", "/cgi-bin/slow", at: 0.1),
            EventScript.received(1, 2, "GET", "/pending", at: 0.2),
            EventScript.finished(1, 1, "POST", "/cgi-bin/slow", status: 0, bytes: 0, ms: 300, outcome: .abortedByClient, at: 0.4),
        ]))
        #expect(model.requests.all.map(\.statusText) == ["-", "…"])
        let rows = DashboardRenderer.render(model, DashboardUI(), width: 120, height: 30).text.split(separator: "\n")
        #expect(rows.contains { $0.contains("/cgi-bin/slow") && $0.contains(" - ") })
        #expect(rows.contains { $0.contains("/pending") && $0.contains("…") })
    }

    /// A body's event lands on its request's record, whether it comes before or after the answer.
    @Test func requestBodiesAttachToTheirRecords() {
        var model = self.model()
        let body = RequestBodyReceived(id: EventScript.id(1, 1), bytes: 3, preview: Array("a=1".utf8), complete: true, time: EventScript.time(0.1))
        let late = RequestBodyReceived(id: EventScript.id(1, 2), bytes: 2, preview: Array("hi".utf8), complete: true, time: EventScript.time(0.3))
        model.apply(EventScript.batch([
            EventScript.received(1, 1, "POST", "/cgi-bin/form.py", at: 0.1),
            .requestBody(body),
            EventScript.finished(1, 1, "POST", "/cgi-bin/form.py", status: 200, bytes: 10, ms: 1, at: 0.2),
            EventScript.received(1, 2, "PUT", "/x", at: 0.2),
            EventScript.finished(1, 2, "PUT", "/x", status: 501, bytes: 10, ms: 1, at: 0.25),
            .requestBody(late),
        ]))
        #expect(model.requests.all.map(\.requestBody) == [body, late])
    }

    @Test func totalsComeFromTheEngineEvenWhenEventsWereDropped() {
        var model = self.model()
        var exact = ServerTotals()
        exact.requests = 10_000
        exact.byStatusCode[200 - 100] = 8_990
        exact.byStatusCode[206 - 100] = 10
        exact.byStatusCode[404 - 100] = 900
        exact.byStatusCode[503 - 100] = 100
        exact.bytesSent = 123_456_789
        model.apply(EventScript.batch(EventScript.request(1, 1, "/a", at: 0), dropped: 29_997, totals: exact))
        #expect(model.totals == exact)
        // Per class and per code, both exact: the codes line adds up to the classes beside it.
        let screen = DashboardRenderer.render(model, DashboardUI(), width: 120, height: 40).text
        #expect(screen.contains("2xx 9,000  3xx 0  4xx 900  5xx 100"), "\(screen.prefix(500))")
        #expect(screen.contains("codes 200×8,990 206×10 404×900 503×100 "), "\(screen.prefix(500))")
        #expect(model.droppedEvents == 29_997)
        #expect(model.requests.count == 1)
    }

    /// Requests the engine reported by their outcome only are listed from it, and the screen says
    /// how many there were.
    @Test func requestsWithoutDetailAreListedAndCounted() {
        var model = self.model()
        let events = [EventScript.opened(1, at: 0), EventScript.finished(1, 1, "GET", "/outcome-only", status: 404, bytes: 9, ms: 2, at: 0.1)]
        var totals = EventScript.totals(for: events)
        totals.requestsWithoutDetail = 1_234
        model.apply(EventScript.batch(events, totals: totals))
        #expect(model.requests.count == 1)
        let screen = DashboardRenderer.render(model, DashboardUI(), width: 120, height: 40).text
        #expect(screen.contains("/outcome-only"))
        #expect(screen.contains("no detail 1,234"), "\(screen.prefix(400))")
    }

    /// Counts read the same everywhere on screen: 1,200 open sessions, not 1200 beside "/ 1,200"; the
    /// list, a session's requests, the top paths and clients too.
    @Test func largeCountsAreGroupedEverywhere() {
        var model = self.model()
        let events = (1...1_200).map { EventScript.opened(UInt64($0), at: 0) }
        model.apply(EventScript.batch(events, totals: EventScript.totals(for: events)))
        let screen = DashboardRenderer.render(model, DashboardUI(), width: 120, height: 40).text
        #expect(screen.contains("Sessions 1,200 open / 1,200"), "\(screen.prefix(400))")
        #expect(screen.contains("Sessions · 1,200 open · 0 active"))
        // A connection that served thousands, and a list as long as it gets.
        var busy = self.model()
        var flood: [ServerEvent] = [EventScript.opened(1, at: 0)]
        for i in 1...2_500 { flood += EventScript.request(1, i, "/f", at: Double(i) / 1_000) }
        for part in stride(from: 0, to: flood.count, by: 150) {
            busy.apply(EventScript.batch(Array(flood[part..<min(part + 150, flood.count)])))
        }
        let listed = DashboardRenderer.render(busy, DashboardUI(), width: 120, height: 40).text
        #expect(listed.contains("Requests · 2,500 "), "\(listed.prefix(800))")
        #expect(listed.contains("2,500 req") && listed.contains("top /f (2,500)") && listed.contains("clients 127.0.0.1 (2,500)"), "\(listed.prefix(800))")
    }

    /// A flood batch: only the newest events get detail, the rest are counted; totals stay exact, and a
    /// request already listed is still finished rather than left in flight.
    @Test func floodsKeepDetailForTheNewestRequestsOnly() throws {
        var model = self.model()
        model.apply(EventScript.batch([EventScript.opened(1, at: 0), EventScript.received(1, 0, "GET", "/listed", at: 0)]))
        var flood: [ServerEvent] = [EventScript.finished(1, 0, "GET", "/listed", status: 200, bytes: 7, ms: 1, at: 0.1)]
        for i in 1...5_000 { flood += EventScript.request(1, i, "/f\(i)", at: 0.2) }
        let totals = EventScript.totals(for: flood)
        model.apply(EventScript.batch(flood, totals: totals))

        #expect(model.totals == totals)
        #expect(model.totals.requests == 5_001)
        let applied = DashboardModel.detailPerBatch / 3
        #expect(model.skippedRequests == 5_000 - applied)
        #expect(model.requests.count == 1 + applied)
        #expect(model.requests.all.last?.target == "/f5000")
        #expect(model.requests.all.first?.target == "/listed")
        #expect(model.requests.all.first?.status == 200)
        #expect(model.requests.all.first?.outcome == .completed)
        #expect(model.sessions[ConnectionID(1)]?.isActive == false)
        // Counted by the engine, not from the events applied: skipped outcomes are in it too.
        #expect(model.totals.statusCodes.map(\.status) == [200] && model.totals.statusCodes.map(\.count) == [5_001])

        // A batch under the limit is applied whole.
        var calm: [ServerEvent] = []
        for i in 5_001...5_100 { calm += EventScript.request(1, i, "/c\(i)", at: 1) }
        model.apply(EventScript.batch(calm))
        #expect(model.skippedRequests == 5_000 - applied)
        #expect(model.requests.count == 1 + applied + 100)

        // A flood over the engine's detail budget: outcomes only. The newest are listed from their
        // outcome, the rest counted as unlisted, and a listed request's end still applies.
        model.apply(EventScript.batch([EventScript.received(2, 1, "GET", "/slow", at: 2)]))
        var outcomes: [ServerEvent] = [EventScript.finished(2, 1, "GET", "/slow", status: 200, bytes: 1, ms: 9, at: 2.1)]
        for i in 1...2_000 {
            guard case .requestFinished(var finished) = EventScript.finished(3, i, "GET", "/o\(i)", status: 200, bytes: 1, ms: 1, at: 2.2) else { continue }
            finished.hadDetail = false
            outcomes.append(.requestFinished(finished))
        }
        let before = (skipped: model.skippedRequests, listed: model.requests.count)
        model.apply(EventScript.batch(outcomes))
        #expect(model.skippedRequests == before.skipped + 2_000 - DashboardModel.detailPerBatch)
        #expect(model.requests.count == before.listed + DashboardModel.detailPerBatch)
        #expect(model.requests.all.first { $0.target == "/slow" }?.outcome == .completed)
    }

    /// A flood batch is walked shard after shard (see `apply(_:)`): the cutoff counts across the
    /// shards, so two shards apply what one buffer holding the same events would.
    @Test func aBatchOfShardsAppliesAsOneBuffer() throws {
        func flood(_ connection: UInt64, _ count: Int) -> [ServerEvent] {
            var events = [EventScript.opened(connection, at: 0)]
            for i in 1...count { events += EventScript.request(connection, i, "/c\(connection)-\(i)", at: 0.2) }
            return events
        }
        let (first, second) = (flood(1, 1_500), flood(2, 500))
        var sharded = self.model()
        var single = self.model()
        let totals = EventScript.totals(for: first + second)
        sharded.apply(EventBus.Batch(shards: [Deque(first), Deque(second)], droppedTotal: 0, publishedTotal: 0, totals: totals))
        single.apply(EventScript.batch(first + second, totals: totals))
        #expect(sharded.requests.all.map(\.target) == single.requests.all.map(\.target))
        #expect(sharded.skippedRequests == single.skippedRequests)
        #expect(sharded.skippedRequests == 2_000 - DashboardModel.detailPerBatch / 3)
        #expect(sharded.sessions.count == 2 && sharded.totals == totals)
    }

    /// Two loops' requests within one drain are listed in the order they came, not loop after loop.
    @Test func requestsFromTwoLoopsAreListedInTimeOrder() throws {
        let loopA = [EventScript.opened(1, at: 0)] + EventScript.request(1, 1, "/a-first", at: 0.01)
            + EventScript.request(1, 2, "/a-third", at: 0.05)
        let loopB = [EventScript.opened(2, at: 0.02)] + EventScript.request(2, 1, "/b-second", at: 0.03)
            + EventScript.request(2, 2, "/b-fourth", at: 0.07)
        var model = self.model()
        model.apply(EventBus.Batch(shards: [Deque(loopA), Deque(loopB)], droppedTotal: 0, publishedTotal: 0, totals: EventScript.totals(for: loopA + loopB)))
        #expect(model.requests.all.map(\.target) == ["/a-first", "/b-second", "/a-third", "/b-fourth"])
    }

    @Test func ratesAreSampledPerSecondFromTotals() {
        var model = self.model()
        model.tick(now: EventScript.time(0.5))
        var events: [ServerEvent] = []
        for i in 0..<30 { events += EventScript.request(1, i + 1, "/r\(i)", bytes: 1000, at: 0.6) }
        model.apply(EventScript.batch(events))
        model.tick(now: EventScript.time(1.2))
        #expect(model.requestsPerSecond == 30)
        #expect(model.bytesPerSecond == 30_000)
        // Three quiet seconds later the rate is 0 and the average spreads over the window.
        model.tick(now: EventScript.time(4.1))
        #expect(model.requestsPerSecond == 0)
        #expect(model.requestsPerSecondHistory == [30, 0, 0, 0])
        #expect(model.averageRequestsPerSecond == 7.5)
    }

    @Test func historyKeepsSixtySeconds() {
        var model = self.model()
        model.tick(now: EventScript.time(0))
        model.tick(now: EventScript.time(200))
        #expect(model.requestsPerSecondHistory.count == 60)
    }

    @Test func percentilesUseNearestRank() {
        var model = self.model()
        var events: [ServerEvent] = []
        for i in 1...100 { events += EventScript.request(1, i, "/p", ms: Double(i), at: 0.1) }
        model.apply(EventScript.batch(events))
        model.tick(now: EventScript.time(0.2))
        model.tick(now: EventScript.time(1.2))
        #expect(model.latency == Percentiles(p50: 50_000_000, p95: 95_000_000, p99: 99_000_000))
        #expect(Percentiles.of([]) == nil)
        #expect(Percentiles.of([7]) == Percentiles(p50: 7, p95: 7, p99: 7))
    }

    @Test func topPathsIgnoreQueriesAndTopClientsCount() {
        var model = self.model()
        var events: [ServerEvent] = []
        for i in 0..<5 { events += EventScript.request(1, i + 1, "/hot?v=\(i)", peer: "10.0.0.1", at: 0) }
        events += EventScript.request(2, 1, "/cold", peer: "10.0.0.2", at: 0)
        for i in 0..<2 { events += EventScript.request(3, i + 1, "/日本/ファイル?q=é\(i)", peer: "10.0.0.3", at: 0) }
        model.apply(EventScript.batch(events))
        let top = DashboardModel.top(model.topPaths, limit: 3)
        #expect(top.map(\.key) == ["/hot", "/日本/ファイル", "/cold"])
        #expect(top.map(\.count) == [5, 2, 1])
        #expect(DashboardModel.top(model.topClients, limit: 1).first?.key == "10.0.0.1")
        #expect(model.totals.statusCodes.map(\.count) == [8])
        let screen = DashboardRenderer.render(model, DashboardUI(), width: 120, height: 40).text
        #expect(screen.contains("codes 200×8"), "per-code counts are shown on tall screens")
    }

    /// A scan of thousands of paths, each seen twice, keeps the top list bounded and still lets a
    /// path that turns hot afterwards reach its head (forgetting only keys seen once never freed a
    /// slot here, so every new path was dropped as soon as it was counted).
    @Test func topPathsStayBoundedAndOpenToNewPathsAfterAScan() {
        var model = self.model()
        var events: [ServerEvent] = []
        for i in 0..<5_000 {
            events += EventScript.request(1, 2 * i + 1, "/scan/\(i)", status: 404, at: 0)
            events += EventScript.request(1, 2 * i + 2, "/scan/\(i)", status: 404, at: 0)
        }
        for i in 0..<6 { events += EventScript.request(2, i + 1, "/new", at: 1) }
        for part in stride(from: 0, to: events.count, by: 150) {
            model.apply(EventScript.batch(Array(events[part..<min(part + 150, events.count)])))
        }
        #expect(model.topPaths.count <= DashboardModel.topKeysLimit)
        let top = DashboardModel.top(model.topPaths, limit: 2)
        #expect(top.first?.key == "/new" && top.first?.count == 6, "\(top)")
        #expect(top.last?.count == 2)
    }

    /// The top entries, picked in one pass, are those of a full sort: most frequent first, ties by key.
    @Test func topPicksWhatAFullSortWould() {
        var generator = SystemRandomNumberGenerator()
        for _ in 0..<200 {
            var counts: [String: Int] = [:]
            for _ in 0..<Int.random(in: 0...40, using: &generator) {
                counts["/" + String(Int.random(in: 0...60, using: &generator), radix: 36)] = Int.random(in: 1...4, using: &generator)
            }
            let sorted = counts.sorted { $0.value != $1.value ? $0.value > $1.value : $0.key < $1.key }
            for limit in 0...5 {
                let top = DashboardModel.top(counts, limit: limit)
                #expect(top.map(\.key) == sorted.prefix(limit).map(\.key), "\(counts) limit \(limit)")
                #expect(top.map(\.count) == sorted.prefix(limit).map(\.value))
            }
        }
    }

    /// The top list counts paths as the screen shows them: two spellings of one path are one entry,
    /// and a target is decoded once (`%2541` reads `%41`, not `A`).
    @Test func topPathsCountWhatTheScreenShows() {
        var model = self.model()
        var events: [ServerEvent] = []
        events += EventScript.request(1, 1, "/../etc/passwd", status: 404, at: 0)
        events += EventScript.request(1, 2, "/%2e%2e/etc/passwd?x=1", status: 404, at: 0.1)
        events += EventScript.request(1, 3, "/%2E%2E/etc/passwd", status: 404, at: 0.2)
        events += EventScript.request(1, 4, "/%2541", at: 0.3)
        events += EventScript.request(1, 5, "/%E6%97%A5", at: 0.4)
        events += EventScript.request(1, 6, "/日", at: 0.5)
        model.apply(EventScript.batch(events))
        let top = DashboardModel.top(model.topPaths, limit: 3)
        #expect(top.map(\.key) == ["/../etc/passwd", "/日", "/%41"])
        #expect(top.map(\.count) == [3, 2, 1])
        let screen = DashboardRenderer.render(model, DashboardUI(), width: 160, height: 40).text
        #expect(screen.contains("top /../etc/passwd (3) /日 (2) /%41 (1)"), "\(screen.prefix(700))")
    }

    /// A long log line (a CGI script's traceback, a refused root's reason) wraps under its message
    /// instead of being cut at the panel's edge; it stays escaped, the newest entry stays at the
    /// bottom, and an entry takes at most four rows.
    @Test func longLogLinesWrapInTheLogPanel() throws {
        var model = self.model()
        let reason = "root not changed: /home/dev/site/名前: no such directory \u{1B}[31m — still serving /srv"
        model.apply(EventScript.batch([
            .log(LogLine(level: .info, message: "older", time: EventScript.time(1))),
            .log(LogLine(level: .warning, message: reason, time: EventScript.time(2))),
            .log(LogLine(level: .info, message: String(repeating: "trace ", count: 100), time: EventScript.time(3))),
        ]))
        let rows = DashboardRenderer.render(model, DashboardUI(), width: 120, height: 40).rows
        // The log panel's text column: right of the clock, inside the right-hand box.
        let panel = try #require(rows.firstIndex { $0.contains("┌ Log ") })
        let column = try #require(rows[panel].range(of: "┌ Log ")).lowerBound
        let inner = rows[(panel + 1)...].prefix { !$0.contains("└") }.map { row in
            String(row[row.index(column, offsetBy: 1)...].dropLast())
        }
        let texts = inner.map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
        #expect(texts.first == "06:00:01 older")
        let wrapped = texts.dropFirst().prefix { !$0.hasPrefix("06:00:03") }
        #expect(wrapped.count >= 3 && wrapped.first?.hasPrefix("06:00:02 root not changed:") == true, "\(texts)")
        let joined = wrapped.map { $0.replacingOccurrences(of: "06:00:02 ", with: "") }.joined(separator: " ")
        #expect(joined.contains("no such directory \\x1b[31m — still serving /srv"), "\(joined)")
        #expect(joined.contains("名前"))
        let trace = texts.drop { !$0.hasPrefix("06:00:03") }
        #expect(trace.count == 4 && trace.last?.hasSuffix("…") == true, "\(trace)")
        #expect(texts.last.map { !$0.hasPrefix("06:") } == true, "the newest entry's rows end the panel")
        for row in rows { #expect(CellWidth.of(row) == 120) }

        // More than the panel holds: the newest entries, whole, the oldest dropped.
        model.apply(EventScript.batch((1...20).map { .log(LogLine(level: .info, message: "n\($0)", time: EventScript.time(4))) }))
        let later = DashboardRenderer.render(model, DashboardUI(), width: 120, height: 40).text
        #expect(later.contains("06:00:04 n20") && !later.contains("older") && !later.contains("trace"), "\(later)")
    }

    /// On a short terminal the request list keeps rows for requests: the log and then the sessions
    /// give way. At 50x14 the list showed its heading and no request. A log entry cut by a short
    /// panel ends with `…`.
    @Test(arguments: [(50, 14), (40, 10), (60, 12), (80, 16), (100, 19)])
    func shortTerminalsStillListRequests(width: Int, height: Int) throws {
        var model = self.model()
        var events: [ServerEvent] = [.log(LogLine(level: .warning, message: "CGI stderr: " + String(repeating: "word ", count: 30), time: EventScript.time(0.5)))]
        for i in 1...5 { events += EventScript.request(1, i, "/page-\(i)", at: Double(i)) }
        model.apply(EventScript.batch(events))
        let screen = DashboardRenderer.render(model, DashboardUI(), width: width, height: height)
        #expect(screen.text.contains("/page-5"), "the newest request is listed at \(width)x\(height):\n\(screen.text)")
        if let log = screen.rows.firstIndex(where: { $0.contains("┌ Log ") }), screen.rows[log + 2].hasPrefix("└") {
            #expect(screen.rows[log + 1].contains("…"), "a cut entry says so:\n\(screen.text)")
        }
    }

    /// A long header value (a token, a cookie jar) is wrapped in the request's detail, not cut at the
    /// box's edge: all of it can be read, escaped, and the scroll covers the extra rows. A huge one
    /// stops after `maxWrappedRows` rows with `…`.
    @Test func longHeaderValuesWrapInTheDetailView() throws {
        var model = self.model()
        let token = (0..<30).map { "tok\($0)en" }.joined() + "\u{1B}[31m-end"
        let huge = String(repeating: "x", count: 20_000)
        model.apply(EventScript.batch([
            EventScript.opened(1, at: 0),
            EventScript.received(1, 1, "GET", "/a?" + String(repeating: "q=1&", count: 40), headers: [("Host", "localhost:8000"), ("Authorization", "Bearer " + token), ("X-Huge", huge), ("Accept", "*/*")], at: 0.1),
            EventScript.started(1, 1, status: 200, length: 5, at: 0.1),
            EventScript.finished(1, 1, "GET", "/a", status: 200, bytes: 5, ms: 1, at: 0.2),
        ]))
        var ui = DashboardUI()
        ui.overlay = .requestDetail(EventScript.id(1, 1), scroll: 0)
        let rows = DashboardRenderer.render(model, ui, width: 100, height: 60).rows
        let start = try #require(rows.firstIndex { $0.contains("Authorization: Bearer tok0en") })
        let wrapped = rows[start...].prefix { !$0.contains("X-Huge") }
        #expect(wrapped.count >= 3, "\(rows.joined(separator: "\n"))")
        let text = wrapped.map { row in
            row.replacingOccurrences(of: "│", with: "").trimmingCharacters(in: .whitespaces)
        }.joined()
        #expect(text.hasSuffix("tok29en\\x1b[31m-end"), "\(text)")
        #expect(wrapped.dropFirst().allSatisfy { $0.range(of: "│     [^ ]", options: .regularExpression) != nil }, "continuation rows are indented")
        let hugeRows = rows.drop { !$0.contains("X-Huge") }.prefix { !$0.contains("Accept: */*") }
        #expect(hugeRows.count == DetailLine.maxWrappedRows && hugeRows.last?.contains("…") == true)
        // Scrolled to the end, the view still reaches its last line (the rows are what is counted).
        ui.overlay = .requestDetail(EventScript.id(1, 1), scroll: 10_000)
        DashboardRenderer.clampScroll(&ui, model: model, width: 100, height: 60)
        let end = DashboardRenderer.render(model, ui, width: 100, height: 60).text
        #expect(end.contains("curl"), "\(end)")
        for row in rows { #expect(CellWidth.of(row) == 100) }
    }

    @Test func requestListIsBoundedAndClearKeepsInFlight() {
        var model = self.model()
        var events: [ServerEvent] = []
        for i in 0..<(DashboardModel.requestCapacity + 700) { events += EventScript.request(1, i + 1, "/n\(i)", at: 0) }
        events.append(EventScript.received(2, 1, "GET", "/still-going", at: 1))
        model.apply(EventScript.batch(events))
        #expect(model.requests.count <= DashboardModel.requestCapacity)
        #expect(model.requests.all.last?.target == "/still-going")
        model.clearRequests()
        #expect(model.requests.all.map(\.target) == ["/still-going"])
        #expect(model.totals.requests == DashboardModel.requestCapacity + 700)
    }

    @Test func finishWithoutReceivedStillShows() {
        var model = self.model()
        model.apply(EventScript.batch([EventScript.finished(3, 1, "-", "-", status: 400, bytes: 350, ms: 0.2, at: 1)]))
        #expect(model.requests.all.first?.status == 400)
        #expect(model.requests.all.first?.outcome == .completed)
    }

    @Test func stateRootAndLogLines() {
        var model = self.model()
        model.apply(EventScript.batch([
            .serverStateChanged(.stopped, listening: [], time: EventScript.time(1)),
            .rootChanged(from: "/srv", to: "/tmp/new", time: EventScript.time(2)),
            .log(LogLine(level: .error, message: "boom", time: EventScript.time(3))),
        ]))
        #expect(model.state == .stopped)
        #expect(model.listening.isEmpty)
        #expect(model.root == "/tmp/new")
        #expect(model.log.elements.map(\.message) == ["stopped listening", "now serving /tmp/new", "boom"])
        model.tick(now: EventScript.time(3725))
        #expect(model.uptimeSeconds == 3725)
    }
}
