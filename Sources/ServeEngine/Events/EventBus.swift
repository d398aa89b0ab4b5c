import DequeModule
import NIOConcurrencyHelpers

/// Carries `ServerEvent`s from the event loops to one consumer (the dashboard or the headless log).
///
/// Publishing takes a short lock and never waits for the consumer: when the buffer is full the oldest
/// event is dropped and counted. `ServerTotals` are updated under the same lock from every event,
/// so they stay exact however many events are dropped.
///
/// The bus has shards, one per event loop plus one for everything else (`EventPublisher`): two
/// loops publishing every request into one locked buffer made its lock and buffer travel between
/// their cores on every request (~1.5 µs of server CPU per small request, bench scenario a).
/// `drain()` takes every shard's events; events of one shard (so of one connection) keep their
/// order, and `Batch.inTimeOrder` merges the shards by time. Reading an event's time copies it
/// (retaining its strings), so a consumer of a flood may rather walk the shards one after another.
public final class EventBus: Sendable {
    /// What one `drain()` hands the consumer.
    public struct Batch: Sendable {
        /// Each shard's events in publication order (the shards' own buffers, handed over without
        /// copying an event).
        public var shards: [Deque<ServerEvent>]
        /// Every event, merged from the shards by time (see `TimeOrderedEvents`). Shard after shard
        /// instead, two requests on different loops within one drain (100 ms) were listed in the
        /// wrong order.
        public var inTimeOrder: TimeOrderedEvents { TimeOrderedEvents(self.shards) }
        /// Every event in time order, in one buffer (a copy: for tests and small consumers).
        public var events: Deque<ServerEvent> {
            var all = Deque<ServerEvent>(minimumCapacity: self.count)
            all.append(contentsOf: self.inTimeOrder)
            return all
        }
        /// How many events the batch holds.
        public var count: Int { self.shards.reduce(0) { $0 + $1.count } }
        /// Events dropped since the server started (never reset).
        public var droppedTotal: Int
        /// Events published since the server started.
        public var publishedTotal: Int
        /// Exact totals at the moment of the drain.
        public var totals: ServerTotals
    }

    fileprivate struct State {
        var buffer: Deque<ServerEvent>
        var dropped = 0
        var published = 0
        var totals = ServerTotals()
    }

    /// How many events are kept for the consumer before the oldest are dropped (over all shards).
    public let capacity: Int
    /// How many events each shard keeps.
    private let shardCapacity: Int
    private let shards: [NIOLockedValueBox<State>]

    /// - Parameter shards: independent buffers (the server uses one per event loop and one more).
    public init(capacity: Int = 65_536, shards: Int = 1) {
        precondition(capacity > 0, "EventBus capacity must be positive")
        precondition(shards > 0, "EventBus needs a shard")
        self.capacity = capacity
        self.shardCapacity = max(1, capacity / shards)
        self.shards = (0..<shards).map { _ in
            var buffer = Deque<ServerEvent>()
            buffer.reserveCapacity(min(capacity / shards, 4096))
            return NIOLockedValueBox(State(buffer: buffer))
        }
    }

    /// How `shard` publishes here (any index: it wraps around the bus's shards).
    func publisher(shard: Int) -> EventPublisher {
        let index = shard % self.shards.count
        return EventPublisher(box: self.shards[index], capacity: self.shardCapacity, index: index)
    }

    /// Records `event` in the totals and queues it for the consumer. O(1); never blocks on the consumer.
    ///
    /// - Parameter bytes: body bytes written since the last event about the same request; they are added
    ///   to `ServerTotals.bytesSent` under the same lock, so byte totals are exact even though progress
    ///   events are throttled.
    public func publish(_ event: ServerEvent, addingBytes bytes: Int64 = 0) {
        Self.publish(event, addingBytes: bytes, into: self.shards[0], capacity: self.shardCapacity)
    }

    fileprivate static func publish(_ event: ServerEvent, addingBytes bytes: Int64, into shard: NIOLockedValueBox<State>, capacity: Int) {
        shard.withLockedValue { state in
            Self.count(event, into: &state.totals)
            state.totals.bytesSent += bytes
            if state.buffer.count >= capacity {
                state.buffer.removeFirst()
                state.dropped += 1
            }
            state.buffer.append(event)
            state.published += 1
        }
    }

    /// Takes every queued event. Call from one consumer only.
    public func drain() -> Batch {
        var batch = Batch(shards: [], droppedTotal: 0, publishedTotal: 0, totals: ServerTotals())
        batch.shards.reserveCapacity(self.shards.count)
        for shard in self.shards {
            let part = shard.withLockedValue { state in
                // Swap buffers: the publishers' lock is held for a pointer swap, not a copy of every
                // event, and no event is retained twice.
                var events = Deque<ServerEvent>(minimumCapacity: min(state.buffer.count, 1024))
                swap(&events, &state.buffer)
                return Batch(shards: [events], droppedTotal: state.dropped, publishedTotal: state.published, totals: state.totals)
            }
            if let events = part.shards.first, !events.isEmpty { batch.shards.append(events) }
            batch.droppedTotal += part.droppedTotal
            batch.publishedTotal += part.publishedTotal
            batch.totals.add(part.totals)
        }
        return batch
    }

    /// Exact totals now.
    public var totals: ServerTotals {
        var totals = ServerTotals()
        for shard in self.shards { totals.add(shard.withLockedValue { $0.totals }) }
        return totals
    }

    private static func count(_ event: ServerEvent, into totals: inout ServerTotals) {
        switch event {
        case .connectionOpened:
            totals.connectionsOpen += 1
            totals.connectionsTotal += 1
        case .connectionClosed:
            totals.connectionsOpen -= 1
        case .bodyProgress:
            break
        case .requestFinished(let finished):
            totals.requests += 1
            totals.count(status: finished.status)
            switch finished.outcome {
            case .completed: break
            case .abortedByClient: totals.aborted += 1
            case .failed: totals.failed += 1
            }
            if !finished.hadDetail { totals.requestsWithoutDetail += 1 }
        case .requestReceived, .requestBody, .responseBody, .responseStarted, .serverStateChanged, .rootChanged, .log:
            break
        }
    }
}

/// One shard's way into an `EventBus`: each event loop publishes through its own, so loops never
/// share a lock or a buffer, nor touch the bus object itself (see `EventBus`).
struct EventPublisher: Sendable {
    fileprivate let box: NIOLockedValueBox<EventBus.State>
    fileprivate let capacity: Int
    /// The shard's index in the bus.
    let index: Int

    /// `EventBus.publish(_:addingBytes:)` into this shard.
    func publish(_ event: ServerEvent, addingBytes bytes: Int64 = 0) {
        EventBus.publish(event, addingBytes: bytes, into: self.box, capacity: self.capacity)
    }
}

/// A batch's shards merged by event time: the earliest head first, ties to the lower shard. A
/// stable merge, so each shard's own order is kept even if its clock readings ever went backwards.
/// An event published to an already drained shard while the next one was being drained comes in
/// the next batch, so across batches the order holds to within that moment (microseconds).
public struct TimeOrderedEvents: Sequence, IteratorProtocol {
    // Each event is copied once, by its shard's iterator, and then moved (`Deque`'s subscript
    // copies, retaining the event's strings, each time it is read).
    private var iterators: [Deque<ServerEvent>.Iterator]
    /// Each shard's next event, and its time (`nil` once the shard is used up).
    private var heads: [ServerEvent?]
    private var times: [Int64?]

    init(_ shards: [Deque<ServerEvent>]) {
        self.iterators = shards.map { $0.makeIterator() }
        self.heads = []
        self.times = []
        self.heads.reserveCapacity(shards.count)
        self.times.reserveCapacity(shards.count)
        for index in self.iterators.indices {
            let head = self.iterators[index].next()
            self.times.append(head?.time.nanosecondsSinceEpoch)
            self.heads.append(head)
        }
    }

    public mutating func next() -> ServerEvent? {
        guard let best = earliest(self.times.count, { self.times[$0] }) else { return nil }
        let following = self.iterators[best].next()
        self.times[best] = following?.time.nanosecondsSinceEpoch
        let event = self.heads[best].take()
        self.heads[best] = following
        return event
    }
}
