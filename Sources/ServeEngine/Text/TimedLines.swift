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
        while let best = earliest(parts.count, { next[$0] < parts[$0].lines.count ? parts[$0].lines[next[$0]].time : nil }) {
            let line = next[best]
            let start = line == 0 ? 0 : parts[best].lines[line - 1].end
            out.append(contentsOf: parts[best].text[start..<parts[best].lines[line].end])
            next[best] = line + 1
        }
    }
}

/// The k-way merge step shared by `TimeOrderedEvents` and `TimedLines`: which of `count` sources has
/// the earliest next item (`time` gives its time, `nil` once the source is used up); ties go to the
/// lowest index, so a merge is stable. `nil` when every source is used up.
@inline(__always)
func earliest(_ count: Int, _ time: (Int) -> Int64?) -> Int? {
    var best: (index: Int, time: Int64)?
    for index in 0..<count {
        guard let candidate = time(index) else { continue }
        if best == nil || candidate < best!.time { best = (index, candidate) }
    }
    return best?.index
}
