import Testing

@testable import ServeEngine

/// The keep-alive and timeout rules without sockets, on a fake clock.
@Suite struct ConnectionStateMachineTests {
    private let second: Int64 = 1_000_000_000

    private func machine(at now: Int64 = 0) -> ConnectionStateMachine {
        ConnectionStateMachine(now: now, timeoutNanoseconds: 30 * self.second)
    }

    /// A timeout of any size, set through the library, converts without trapping (`Int64(1e19)` does).
    @Test(arguments: [(1.5, 1_500_000_000), (1e12, 1_000_000_000_000_000_000), (.infinity, 1_000_000_000_000_000_000), (.nan, 0), (-3, 0)] as [(Double, Int64)])
    func timeoutsOfAnySizeConvertWithoutTrapping(seconds: Double, nanoseconds: Int64) {
        var server = ServerConfiguration()
        server.timeoutSeconds = seconds
        var cgi = CGIOptions()
        cgi.timeoutSeconds = seconds
        #expect(server.timeoutNanoseconds == nanoseconds)
        #expect(cgi.timeoutNanoseconds == nanoseconds)
    }

    @Test func keepAliveExchangeReturnsToAwaitingHead() {
        var m = self.machine()
        #expect(m.headReceived(keepAlive: true, now: 1) == true)
        #expect(m.requestEnded(now: 2) == nil)
        #expect(m.responseEnded(now: 3) == .keepOpen)
        #expect(m.phase == .awaitingHead)
    }

    @Test func responseBeforeRequestEndWaitsForTheEnd() {
        var m = self.machine()
        #expect(m.headReceived(keepAlive: true, now: 1) == true)
        #expect(m.responseEnded(now: 2) == nil)
        #expect(m.requestEnded(now: 3) == .keepOpen)
    }

    @Test func notKeepAliveClosesAtResponseEnd() {
        var m = self.machine()
        #expect(m.headReceived(keepAlive: false, now: 1) == true)
        #expect(m.responseEnded(now: 2) == .close)
        #expect(m.phase == .closing)
        #expect(m.headReceived(keepAlive: true, now: 3) == false, "no request is dispatched once closing")
    }

    @Test func forceCloseOverridesKeepAlive() {
        var m = self.machine()
        #expect(m.headReceived(keepAlive: true, now: 1) == true)
        m.forceClose()
        #expect(!m.keepAlive)
        #expect(m.responseEnded(now: 2) == .close)
    }

    @Test func halfCloseWhileIdleClosesNowAndWhileBusyAfterResponse() {
        var idle = self.machine()
        #expect(idle.wantsToClose() == true)
        var busy = self.machine()
        #expect(busy.headReceived(keepAlive: true, now: 1) == true)
        #expect(busy.wantsToClose() == false)
        #expect(busy.requestEnded(now: 2) == nil)
        #expect(busy.responseEnded(now: 3) == .close)
        // Already closing (the response that ended closes it): a half-close must not close again.
        #expect(busy.phase == .closing)
        #expect(busy.wantsToClose() == false)
    }

    /// Closing waits for the last response to be written; a client that never reads it is still
    /// dropped when the write timeout runs out.
    @Test func closingWaitsForTheWriteTimeoutOnly() {
        var m = self.machine(at: 0)
        #expect(m.headReceived(keepAlive: false, now: 1) == true)
        #expect(m.requestEnded(now: 2) == nil)
        #expect(m.responseEnded(now: 5 * self.second) == .close)
        let early = m.timerFired(now: 20 * self.second, partialRequest: false, waitingForClient: false, responseStarted: true)
        #expect(early == .rearm(at: 35 * self.second))
        let late = m.timerFired(now: 35 * self.second, partialRequest: false, waitingForClient: false, responseStarted: true)
        #expect(late == .close(.writeTimeout, sendTimeoutResponse: false))
    }

    @Test func idleTimeoutFiresAtTheDeadlineOnly() {
        var m = self.machine(at: 0)
        let early = m.timerFired(now: 10 * self.second, partialRequest: false, waitingForClient: false, responseStarted: false)
        #expect(early == .rearm(at: 30 * self.second))
        let late = m.timerFired(now: 30 * self.second, partialRequest: false, waitingForClient: false, responseStarted: false)
        #expect(late == .close(.idleTimeout, sendTimeoutResponse: false))
    }

    @Test func partialHeadAtTheDeadlineIsARequestTimeoutWith408() {
        var m = self.machine(at: 0)
        let action = m.timerFired(now: 31 * self.second, partialRequest: true, waitingForClient: false, responseStarted: false)
        #expect(action == .close(.requestTimeout, sendTimeoutResponse: true))
    }

    @Test func slowBodyTimesOutFromTheLastRead() {
        var m = self.machine(at: 0)
        #expect(m.headReceived(keepAlive: true, now: 0) == true)
        m.activity(now: 20 * self.second)
        #expect(m.timerFired(now: 30 * self.second, partialRequest: true, waitingForClient: false, responseStarted: false) == .rearm(at: 50 * self.second))
        #expect(m.timerFired(now: 50 * self.second, partialRequest: true, waitingForClient: false, responseStarted: false) == .close(.requestTimeout, sendTimeoutResponse: true))
    }

    @Test func stalledReaderTimesOutButABusyHandlerDoesNot() {
        var m = self.machine(at: 0)
        #expect(m.headReceived(keepAlive: true, now: 0) == true)
        #expect(m.requestEnded(now: 0) == nil)
        // The handler is thinking (no pending write): no timeout, check again later.
        #expect(m.timerFired(now: 40 * self.second, partialRequest: false, waitingForClient: false, responseStarted: true) == .rearm(at: 70 * self.second))
        // A write is stuck on the client since the last progress at 0.
        #expect(m.timerFired(now: 40 * self.second, partialRequest: false, waitingForClient: true, responseStarted: true) == .close(.writeTimeout, sendTimeoutResponse: false))
    }
}
