import DequeModule
import NIOConcurrencyHelpers

/// Carries `ServerEvent`s from the event loops to one consumer (the dashboard or the headless log).
///
/// Publishing takes a short lock and never waits for the consumer: when the buffer is full the oldest
/// event is dropped and counted. `ServerTotals` are updated under the same lock from every event,
/// so they stay exact however many events are dropped.
public final class EventBus: Sendable {
    /// What one `drain()` hands the consumer.
    public struct Batch: Sendable {
        /// Events in publication order. (The bus's own buffer, handed over without copying an event.)
        public var events: Deque<ServerEvent>
        /// Events dropped since the server started (never reset).
        public var droppedTotal: Int
        /// Events published since the server started.
        public var publishedTotal: Int
        /// Exact totals at the moment of the drain.
        public var totals: ServerTotals
    }

    private struct State {
        var buffer: Deque<ServerEvent>
        var dropped = 0
        var published = 0
        var totals = ServerTotals()
    }

    /// How many events are kept for the consumer before the oldest are dropped.
    public let capacity: Int
    private let state: NIOLockedValueBox<State>

    public init(capacity: Int = 65_536) {
        precondition(capacity > 0, "EventBus capacity must be positive")
        self.capacity = capacity
        var buffer = Deque<ServerEvent>()
        buffer.reserveCapacity(min(capacity, 4096))
        self.state = NIOLockedValueBox(State(buffer: buffer))
    }

    /// Records `event` in the totals and queues it for the consumer. O(1); never blocks on the consumer.
    ///
    /// - Parameter bytes: body bytes written since the last event about the same request; they are added
    ///   to `ServerTotals.bytesSent` under the same lock, so byte totals are exact even though progress
    ///   events are throttled.
    public func publish(_ event: ServerEvent, addingBytes bytes: Int64 = 0) {
        let capacity = self.capacity
        self.state.withLockedValue { state in
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
        self.state.withLockedValue { state in
            // Swap buffers: the publishers' lock is held for a pointer swap, not a copy of every event,
            // and no event is retained twice.
            var events = Deque<ServerEvent>(minimumCapacity: min(state.buffer.count, 1024))
            swap(&events, &state.buffer)
            return Batch(
                events: events,
                droppedTotal: state.dropped,
                publishedTotal: state.published,
                totals: state.totals
            )
        }
    }

    /// The exact totals now, without draining.
    public var totals: ServerTotals { self.state.withLockedValue { $0.totals } }

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
            let statusClass = finished.status / 100
            if (1...5).contains(statusClass) { totals.byStatusClass[statusClass] += 1 }
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
