import Dispatch
import ServeEngine

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The headless mode: python's banner on stdout, an access-log line per request on stderr.
struct HeadlessLog {
    let server: HTTPServer
    let host: String

    /// Prints events until a stop signal arrives, then while `shutDown` runs: responses still in
    /// flight finish within the stop's grace period, and their lines belong in the log too.
    func run(until stop: StopSignal, thenShutDown shutDown: @escaping @Sendable () async -> Void) {
        Console.out(AccessLogFormatter.banner(host: self.host, port: self.server.port))
        var dropped = 0
        var dates = AccessLogFormatter.DateCache()
        while stop.received == nil {
            usleep(50_000)
            dropped = self.printPending(alreadyDropped: dropped, dates: &dates)
        }
        let stopped = DispatchSemaphore(value: 0)
        Task {
            await shutDown()
            stopped.signal()
        }
        while stopped.wait(timeout: .now() + .milliseconds(50)) == .timedOut {
            dropped = self.printPending(alreadyDropped: dropped, dates: &dates)
        }
        _ = self.printPending(alreadyDropped: dropped, dates: &dates)
    }

    /// Prints what the bus holds; returns the dropped-event count seen.
    ///
    /// Lines come out in time order across the event loops' shards. Each shard's lines are written
    /// first, each with the time its event already carries, and then the lines are merged: merging
    /// the events themselves copied each one to read its time (its strings retained), for every
    /// request of a flood.
    private func printPending(alreadyDropped: Int, dates: inout AccessLogFormatter.DateCache) -> Int {
        let batch = self.server.bus.drain()
        var text: [UInt8] = []
        text.reserveCapacity(batch.count * 96)
        if batch.droppedTotal > alreadyDropped {
            text += "(\(batch.droppedTotal - alreadyDropped) events dropped: log lines are missing, totals are exact)\n".utf8
        }
        var shards: [TimedLines] = []
        shards.reserveCapacity(batch.shards.count)
        for shard in batch.shards {
            var lines = TimedLines()
            lines.text.reserveCapacity(shard.count * 96)
            for event in shard {
                if let time = self.append(event, to: &lines.text, dates: &dates) { lines.endLine(at: time) }
            }
            shards.append(lines)
        }
        TimedLines.merge(shards, into: &text)
        if !text.isEmpty { text.withUnsafeBufferPointer { Console.write($0, to: STDERR_FILENO) } }
        return batch.droppedTotal
    }

    /// Appends what `event` shows in the access log, if anything; returns the event's time if it did.
    private func append(_ event: ServerEvent, to text: inout [UInt8], dates: inout AccessLogFormatter.DateCache) -> EventTime? {
        switch event {
        case .requestFinished(let finished):
            AccessLogFormatter.append(finished, to: &text, dates: &dates)
            text.append(UInt8(ascii: "\n"))
            return finished.time
        case .log(let line) where line.level >= .info:
            text += (AccessLogFormatter.line(for: line) + "\n").utf8
            return line.time
        case .rootChanged(_, let to, let time):
            text += "Serving \(TextSanitizer.escape(to))\n".utf8
            return time
        default:
            return nil
        }
    }
}
