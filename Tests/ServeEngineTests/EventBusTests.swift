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
        for status in [200, 200, 304, 404, 500, 101] {
            bus.publish(.requestFinished(.fixture(method: "GET", target: "/", status: status, bytes: 10)), addingBytes: 10)
        }
        bus.publish(.requestFinished(.fixture(method: "GET", target: "/", status: 200, bytes: 3, outcome: .abortedByClient)), addingBytes: 3)
        let totals = bus.totals
        #expect(totals.requests == 7)
        #expect(totals.count(statusClass: 1) == 1)
        #expect(totals.count(statusClass: 2) == 3)
        #expect(totals.count(statusClass: 3) == 1)
        #expect(totals.count(statusClass: 4) == 1)
        #expect(totals.count(statusClass: 5) == 1)
        #expect(totals.aborted == 1)
        #expect(totals.bytesSent == 63)
    }
}
