import ServeEngine

/// Number, time and text formats of the dashboard.
public enum Format {
    /// `12,345`.
    public static func count(_ value: Int) -> String {
        let digits = String(abs(value))
        var out = ""
        for (i, c) in digits.enumerated() {
            if i > 0, (digits.count - i) % 3 == 0 { out.append(",") }
            out.append(c)
        }
        return value < 0 ? "-" + out : out
    }

    /// Compact sizes for table cells: `512B`, `1.2K`, `34M`, `1.5G`.
    public static func compactBytes(_ bytes: Int64) -> String {
        if bytes < 1024 { return "\(bytes)B" }
        let units = ["K", "M", "G", "T", "P"]
        let (value, unit) = AccessLogFormatter.binaryScaled(bytes)
        if value < 10 {
            let tenths = Int((value * 10).rounded())
            if tenths < 100 { return "\(tenths / 10).\(tenths % 10)\(units[unit])" }
        }
        return "\(Int(value.rounded()))\(units[unit])"
    }

    /// `850µs`, `12.3ms`, `1.20s`, `2m03s`.
    public static func duration(_ nanoseconds: Int64) -> String {
        let ns = max(0, nanoseconds)
        if ns < 1_000_000 { return "\(ns / 1_000)µs" }
        if ns < 100_000_000 {
            let tenths = ns / 100_000
            return "\(tenths / 10).\(tenths % 10)ms"
        }
        if ns < 1_000_000_000 { return "\(ns / 1_000_000)ms" }
        if ns < 60_000_000_000 {
            let hundredths = ns / 10_000_000
            return "\(hundredths / 100).\(Self.pad(Int(hundredths % 100), 2))s"
        }
        let seconds = ns / 1_000_000_000
        return "\(seconds / 60)m\(Self.pad(Int(seconds % 60), 2))s"
    }

    /// `01:02:03`, or `2d 01:02:03`.
    public static func uptime(_ seconds: Int64) -> String {
        let days = seconds / 86_400
        let rest = seconds % 86_400
        let clock = "\(Self.pad(Int(rest / 3600), 2)):\(Self.pad(Int(rest % 3600 / 60), 2)):\(Self.pad(Int(rest % 60), 2))"
        return days > 0 ? "\(days)d \(clock)" : clock
    }

    /// `HH:MM:SS` of `time` shifted by `utcOffset` seconds (the local zone, fixed at start).
    public static func clock(_ time: EventTime, utcOffset: Int) -> String {
        let seconds = (time.secondsSinceEpoch + Int64(utcOffset)) % 86_400
        let positive = seconds < 0 ? seconds + 86_400 : seconds
        return "\(Self.pad(Int(positive / 3600), 2)):\(Self.pad(Int(positive % 3600 / 60), 2)):\(Self.pad(Int(positive % 60), 2))"
    }

    /// `12.3/s`, or `1.2k/s` past 10,000.
    public static func rate(_ perSecond: Double) -> String {
        if perSecond >= 10_000 { return "\(Int((perSecond / 1000).rounded()))k/s" }
        let tenths = Int((perSecond * 10).rounded())
        return "\(tenths / 10).\(tenths % 10)/s"
    }

    /// `text` shortened to `width` cells by cutting out its middle (for paths: both ends matter).
    public static func middleTruncate(_ text: String, width: Int) -> String {
        guard CellWidth.of(text) > width, width > 1 else { return text }
        let characters = Array(text)
        let keepRight = (width - 1) / 2
        let keepLeft = width - 1 - keepRight
        var left = ""
        var used = 0
        for c in characters {
            let w = CellWidth.of(c)
            if used + w > keepLeft { break }
            left.append(c)
            used += w
        }
        var right = ""
        used = 0
        for c in characters.reversed() {
            let w = CellWidth.of(c)
            if used + w > keepRight { break }
            right.insert(c, at: right.startIndex)
            used += w
        }
        return left + "…" + right
    }

    /// A request target for reading: percent-decoded when that gives valid UTF-8 (so `/%E6%97%A5/`
    /// shows as `/日/`), otherwise as sent. The canvas still escapes whatever is unsafe.
    public static func displayTarget(_ target: String) -> String {
        guard target.contains("%") else { return target }
        var bytes: [UInt8] = []
        var iterator = target.utf8.makeIterator()
        while let byte = iterator.next() {
            guard byte == UInt8(ascii: "%") else {
                bytes.append(byte)
                continue
            }
            guard let high = iterator.next(), let low = iterator.next(),
                let value = UInt8(String(decoding: [high, low], as: UTF8.self), radix: 16)
            else { return target }
            bytes.append(value)
        }
        return String(validating: bytes, as: UTF8.self) ?? target
    }

    /// `42s`, `3m05s`, `2h07m`, `3d04h`: ages and idle times.
    public static func age(_ seconds: Int64) -> String {
        if seconds < 60 { return "\(seconds)s" }
        if seconds < 3600 { return "\(seconds / 60)m\(Self.pad(Int(seconds % 60), 2))s" }
        if seconds < 86_400 { return "\(seconds / 3600)h\(Self.pad(Int(seconds % 3600 / 60), 2))m" }
        return "\(seconds / 86_400)d\(Self.pad(Int(seconds % 86_400 / 3600), 2))h"
    }

    /// `▁▂▃▅▇` for `values`, scaled to their maximum, the last `width` values.
    public static func sparkline(_ values: [Int], width: Int) -> String {
        let blocks: [Character] = ["▁", "▂", "▃", "▄", "▅", "▆", "▇", "█"]
        let shown = values.suffix(max(0, width))
        let maximum = max(1, shown.max() ?? 1)
        return String(shown.map { value in
            value <= 0 ? " " : blocks[min(7, (value * 8 - 1) / maximum)]
        })
    }

    /// `[█████░░░░░]`-style bar of `width` cells for a fraction 0...1.
    public static func bar(_ fraction: Double, width: Int) -> String {
        guard width > 0 else { return "" }
        let filled = Int((fraction * Double(width)).rounded(.down))
        return String(repeating: "█", count: min(width, filled)) + String(repeating: "░", count: max(0, width - filled))
    }

    static func pad(_ value: Int, _ width: Int) -> String {
        let text = String(value)
        return String(repeating: "0", count: max(0, width - text.count)) + text
    }

    /// A `curl` command line that repeats `record` against `base` (`http://host:port`).
    public static func curlCommand(for record: RequestRecord, base: String) -> String {
        var parts = ["curl", "-v"]
        switch record.method {
        case "GET": break
        case "HEAD": parts.append("--head")
        default: parts += ["-X", Self.shellQuote(record.method)]
        }
        if record.version == "HTTP/1.0" { parts.append("--http1.0") }
        if record.target.hasPrefix("/") {
            parts.append(Self.shellQuote(base + record.target))
        } else {
            // Absolute-form (`GET http://other/x`, a client set to use a proxy): sent as it came.
            parts += ["--request-target", Self.shellQuote(record.target), Self.shellQuote(base + "/")]
        }
        let skipped: Set<String> = ["host", "content-length", "connection", "transfer-encoding"]
        for (name, value) in record.requestHeaders where !skipped.contains(name.lowercased()) {
            parts += ["-H", Self.shellQuote("\(name): \(value)")]
        }
        return parts.joined(separator: " ")
    }

    /// Single-quoted for POSIX shells.
    public static func shellQuote(_ text: String) -> String {
        if !text.isEmpty, text.allSatisfy({ $0.isLetter && $0.isASCII || $0.isNumber && $0.isASCII || "-_./:=@%+,".contains($0) }) {
            return text
        }
        return "'" + text.replacingAll("'", with: "'\\''") + "'"
    }
}

extension String {
    func replacingAll(_ target: Character, with replacement: String) -> String {
        var out = ""
        for c in self { if c == target { out += replacement } else { out.append(c) } }
        return out
    }
}
