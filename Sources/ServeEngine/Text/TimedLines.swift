/// Lines of text, each with a time: one event loop's share of the access log, merged with the
/// others' by `merge` (the headless log prints them in time order across the loops).
public struct TimedLines: Sendable {
    /// The lines, one after another.
    public var text: [UInt8] = []
    /// Each line's time and where it ends in `text`.
    private var lines: [(time: Int64, end: Int)] = []

    public init() {}

    /// Ends the line written to `text` since the last call, which happened at `time`.
    public mutating func endLine(at time: EventTime) {
        self.lines.append((time.nanosecondsSinceEpoch, self.text.count))
    }

    /// Appends every part's lines to `out`, earliest first: ties to the lower part, and each part's
    /// own order kept.
    public static func merge(_ parts: [TimedLines], into out: inout [UInt8]) {
        var next = [Int](repeating: 0, count: parts.count)
        while true {
            var best = -1
            for index in parts.indices where next[index] < parts[index].lines.count {
                if best < 0 || parts[index].lines[next[index]].time < parts[best].lines[next[best]].time { best = index }
            }
            guard best >= 0 else { return }
            let line = next[best]
            let start = line == 0 ? 0 : parts[best].lines[line - 1].end
            out.append(contentsOf: parts[best].text[start..<parts[best].lines[line].end])
            next[best] = line + 1
        }
    }
}
