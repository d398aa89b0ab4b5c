import NIOCore

/// A connection whose timeouts `ConnectionTimers` checks.
protocol TimedConnection: AnyObject {
    /// When the connection next wants `timerDue(now:)` (monotonic nanoseconds).
    var timerDeadline: Int64 { get }
    /// Its place in `ConnectionTimers`, kept by the timers (-1 when not registered).
    var timerSlot: Int { get set }
    /// The deadline passed: check the timeouts, then either move `timerDeadline` or close.
    func timerDue(now: Int64)
}

/// The timeouts of one event loop's connections, checked by one repeating task.
///
/// One `scheduleTask` per connection plus its `cancel` cost ~7 allocations and a linear search of the
/// loop's scheduled tasks per connection (bench scenario b); this costs an array slot. A deadline is
/// noticed at most `period` late; the task stops once the loop has no connection.
///
/// Used on its event loop only.
final class ConnectionTimers {
    let eventLoop: EventLoop
    /// How often the deadlines are checked.
    let period: TimeAmount
    private var connections: [TimedConnection] = []
    private var due: [TimedConnection] = []
    private var armed = false

    /// A period of a tenth of `timeoutNanoseconds`, between 10 and 250 ms.
    init(eventLoop: EventLoop, timeoutNanoseconds: Int64) {
        self.eventLoop = eventLoop
        self.period = .nanoseconds(min(250_000_000, max(10_000_000, timeoutNanoseconds / 10)))
    }

    var count: Int { self.connections.count }

    func add(_ connection: TimedConnection) {
        self.eventLoop.assertInEventLoop()
        guard connection.timerSlot < 0 else { return }
        connection.timerSlot = self.connections.count
        self.connections.append(connection)
        if !self.armed { self.arm() }
    }

    private func arm() {
        self.armed = true
        self.eventLoop.assumeIsolated().scheduleTask(in: self.period) { [self] in
            self.armed = false
            self.sweep(now: WallClock.monotonicNanoseconds())
            // Not cancelled when the last connection goes: that would cost a search of the loop's
            // scheduled tasks each time a lone connection closes. It lapses at its next run instead.
            if !self.connections.isEmpty { self.arm() }
        }
    }

    func remove(_ connection: TimedConnection) {
        let slot = connection.timerSlot
        guard slot >= 0, slot < self.connections.count, self.connections[slot] === connection else { return }
        connection.timerSlot = -1
        let last = self.connections.removeLast()
        if slot < self.connections.count {
            self.connections[slot] = last
            last.timerSlot = slot
        }
    }

    /// Tells every connection whose deadline has passed. (Internal for tests.)
    func sweep(now: Int64) {
        // Collected first: a connection told may close, and closing removes it from `connections`.
        for connection in self.connections where connection.timerDeadline <= now {
            self.due.append(connection)
        }
        for connection in self.due where connection.timerSlot >= 0 {
            connection.timerDue(now: now)
        }
        self.due.removeAll(keepingCapacity: true)
    }
}
