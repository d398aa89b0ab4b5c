@testable import ServeEngine
import Testing

/// The bounded bus: drop-oldest with a count, and totals that never drop.
@Suite struct EventBusTests {
    @Test func dropsOldestAndCountsWhenFull() {
        let bus = EventBus(capacity: 3)
        for i in 0..<5 {
            bus.publish(.log(LogLine(level: .info, message: "m\(i)")))
        }
        let batch = bus.drain()
        let messages = batch.events.compactMap { if case .log(let l) = $0 { l.message } else { nil } }
        #expect(messages == ["m2", "m3", "m4"])
        #expect(batch.droppedTotal == 2)
        #expect(batch.publishedTotal == 5)
        #expect(bus.drain().events.isEmpty)
    }

    @Test func totalsCountEveryFinishedRequestAndByte() {
        let bus = EventBus(capacity: 1)
        for status in [200, 200, 304, 404, 500, 101, 0, 600, 599] {
            bus.publish(.requestFinished(.fixture(method: "GET", target: "/", status: status, bytes: 10)), addingBytes: 10)
        }
        bus.publish(.requestFinished(.fixture(method: "GET", target: "/", status: 200, bytes: 3, outcome: .abortedByClient)), addingBytes: 3)
        let totals = bus.totals
        #expect(totals.requests == 10)
        #expect(totals.count(statusClass: 1) == 1)
        #expect(totals.count(statusClass: 2) == 3)
        #expect(totals.count(statusClass: 3) == 1)
        #expect(totals.count(statusClass: 4) == 1)
        #expect(totals.count(statusClass: 5) == 2)
        #expect(totals.count(statusClass: 6) == 0)
        // Per code too; no status (0) and one outside 100-599 are requests of no code.
        #expect(totals.statusCodes.map(\.status) == [101, 200, 304, 404, 500, 599])
        #expect(totals.statusCodes.map(\.count) == [1, 3, 1, 1, 1, 1])
        #expect(totals.aborted == 1)
        #expect(totals.bytesSent == 93)
    }

    @Test func theDetailBudgetAllowsABurstThenRefillsEvenly() {
        var budget = DetailBudget(perSecond: 30)  // 3 per 100 ms, one every 33.3 ms
        let start: Int64 = 5_000_000_000
        let ms: Int64 = 1_000_000
        #expect((0..<5).map { budget.allows(now: start + Int64($0) * ms) } == [true, true, true, false, false])
        #expect(budget.allows(now: start + 30 * ms) == false, "not a whole request's worth yet")
        #expect(budget.allows(now: start + 36 * ms) == true)
        #expect(budget.allows(now: start + 37 * ms) == false)
        // A quiet spell refills the bucket to its burst, no further.
        #expect((0..<4).map { _ in budget.allows(now: start + 10_000 * ms) } == [true, true, true, false])
        var none = DetailBudget(perSecond: 0)
        #expect(none.allows(now: start) == false)
    }

    /// In a flood at ten times the budget the detailed requests are every tenth, evenly, not a
    /// window's worth at its start: any 10 ms of the flood holds its share.
    @Test func inAFloodTheDetailIsSpreadEvenly() {
        var budget = DetailBudget(perSecond: 1_000)  // 100 per 100 ms, one per ms
        let start: Int64 = 1_000_000_000
        let step: Int64 = 100_000  // a request every 100 µs
        var detailed: [Int64] = []
        for i in 0..<20_000 {
            let now = start + Int64(i) * step
            if budget.allows(now: now) { detailed.append(now) }
        }
        // The first ~110 come together (the burst, refilled a little while it lasts), then the flood.
        let afterBurst = detailed.filter { $0 >= start + 50 * 1_000_000 }
        #expect(detailed.count == 100 + 2_000 - 1 || detailed.count == 100 + 2_000, "\(detailed.count)")
        let gaps = Set(zip(afterBurst, afterBurst.dropFirst()).map { $1 - $0 })
        #expect(gaps == [1_000_000], "one every millisecond: \(gaps.sorted().prefix(5))")
        let lastTenMilliseconds = detailed.filter { $0 >= start + 1_990 * 1_000_000 }
        #expect(lastTenMilliseconds.count == 10)
    }

    @Test func requestsWithoutDetailAreCountedFromTheirOutcome() {
        let bus = EventBus(capacity: 16)
        func finished(_ index: Int, detail: Bool) -> ServerEvent {
            var event = RequestFinished(
                id: RequestID(connection: ConnectionID(1), index: index), method: "GET", target: "/", version: "HTTP/1.1",
                peer: "-", status: 200, bytesSent: 0, durationNanoseconds: 1, outcome: .completed, time: .now()
            )
            event.hadDetail = detail
            return .requestFinished(event)
        }
        bus.publish(finished(1, detail: true))
        bus.publish(finished(2, detail: false))
        bus.publish(finished(3, detail: false))
        #expect(bus.totals.requests == 3)
        #expect(bus.totals.requestsWithoutDetail == 2)
    }

    /// Each event loop publishes into its own shard. A drain takes every shard's events, keeping
    /// each shard's order; totals, drops and counts are summed exactly; each shard drops its own
    /// oldest when full.
    @Test func shardsAreDrainedTogetherWithExactTotals() {
        let bus = EventBus(capacity: 6, shards: 3)
        let loops = (1...2).map { bus.publisher(shard: $0) }
        #expect(bus.publisher(shard: 4).index == 1)
        for index in 0..<4 {
            loops[0].publish(.requestFinished(.fixture(method: "GET", target: "/a\(index)", status: 200, bytes: 5)), addingBytes: 5)
        }
        loops[1].publish(.requestFinished(.fixture(method: "GET", target: "/b", status: 404, bytes: 7)), addingBytes: 7)
        bus.publish(.log(LogLine(level: .info, message: "shared")))
        let totals = bus.totals
        #expect(totals.requests == 5 && totals.count(statusClass: 2) == 4 && totals.count(statusClass: 4) == 1)
        #expect(totals.bytesSent == 27)
        let batch = bus.drain()
        let targets = batch.events.compactMap { if case .requestFinished(let f) = $0 { f.target } else { nil } }
        // Two kept per shard: the first loop's two oldest were dropped, its order kept.
        #expect(targets.filter { $0.hasPrefix("/a") } == ["/a2", "/a3"])
        #expect(targets.contains("/b"))
        #expect(batch.events.contains { if case .log(let line) = $0 { line.message == "shared" } else { false } })
        #expect(batch.events.count == 4)
        #expect(batch.droppedTotal == 2)
        #expect(batch.publishedTotal == 6)
        #expect(batch.totals == totals)
        #expect(bus.drain().events.isEmpty)
        #expect(bus.totals == totals)
    }

    /// A drain reads the loops' events merged by time, not shard after shard: otherwise two requests
    /// on different loops within one drain are listed and logged in the wrong order. Ties go to the
    /// lower shard; a shard's own order is kept even when its clock went backwards.
    @Test func aBatchReadsTheShardsInTimeOrder() {
        let bus = EventBus(capacity: 64, shards: 3)
        let loopA = bus.publisher(shard: 1)
        let loopB = bus.publisher(shard: 2)
        func log(_ name: String, _ at: Int64) -> ServerEvent {
            .log(LogLine(level: .info, message: name, time: EventTime(nanosecondsSinceEpoch: at)))
        }
        for (name, at) in [("a1", 1), ("a2", 4), ("a3", 4), ("a4", 9), ("a5", 3)] as [(String, Int64)] { loopA.publish(log(name, at)) }
        for (name, at) in [("b1", 2), ("b2", 4), ("b3", 8)] as [(String, Int64)] { loopB.publish(log(name, at)) }
        bus.publish(log("s", 5))
        let batch = bus.drain()
        let order = Array(batch.inTimeOrder).compactMap { if case .log(let line) = $0 { line.message } else { nil } }
        #expect(order == ["a1", "b1", "a2", "a3", "b2", "s", "b3", "a4", "a5"])
        #expect(batch.events.map(\.time) == Array(batch.inTimeOrder).map(\.time))
        #expect(Array(EventBus(shards: 2).drain().inTimeOrder).isEmpty)
    }
}
