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

    /// `text` in lines of at most `width` cells, broken at a space (dropped) or before an escape like
    /// `\x1b` when that keeps at least half a line, otherwise between characters (a wide character is
    /// never split). At most `maxLines`: the last holds the rest, for the canvas to cut with `…`. Give
    /// it text as it will be shown (escaped).
    public static func wrap(_ text: String, width: Int, maxLines: Int) -> [String] {
        guard width > 0, maxLines > 0 else { return [] }
        var lines: [String] = []
        var rest = Substring(text)
        while !rest.isEmpty {
            if lines.count == maxLines - 1 {
                lines.append(String(rest))
                break
            }
            var used = 0
            var end = rest.startIndex
            // The last place to break: where the line ends, where the next one starts, cells before it.
            var candidate: (end: String.Index, next: String.Index, used: Int)?
            var previous: Character?
            while end < rest.endIndex {
                let character = rest[end]
                let w = CellWidth.of(character)
                if used + w > width { break }
                if character == "\\", previous != "\\", used > 0 { candidate = (end, end, used) }
                used += w
                let after = rest.index(after: end)
                if character == " " { candidate = (end, after, used) }
                previous = character
                end = after
            }
            if end == rest.endIndex {
                lines.append(String(rest))
                break
            }
            if let candidate, candidate.used * 2 >= width {
                lines.append(String(rest[..<candidate.end]))
                rest = rest[candidate.next...]
            } else {
                // A character wider than the whole line still goes on one (the canvas cuts it).
                if end == rest.startIndex { end = rest.index(after: end) }
                lines.append(String(rest[..<end]))
                rest = rest[end...]
            }
        }
        return lines
    }

    /// A request target for reading: percent-decoded when that gives valid UTF-8 (so `/%E6%97%A5/`
    /// shows as `/日/`), otherwise as sent. The canvas still escapes whatever is unsafe.
    public static func displayTarget(_ target: String) -> String {
        // Searched as bytes: a `Character` search walks grapheme clusters, and the model calls this
        // for every request it counts.
        guard target.utf8.contains(UInt8(ascii: "%")) else { return target }
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

    /// A `curl` command line that repeats `record` against `base` (`http://host:port`), on one line.
    public static func curlCommand(for record: RequestRecord, base: String) -> String {
        if let problem = record.problem, let received = problem.received {
            return Self.rawReplay(received, of: problem.receivedCount, base: base).lines.joined()
        }
        return Self.curlReplay(for: record, base: base).items.joined(separator: " ")
    }

    /// The same command as the detail view shows it: the first item (`curl`, its options and the URL)
    /// and then each header and the body on its own line, joined by ` \` continuations; plus a note
    /// when the body cannot be replayed from what was kept.
    /// A request that was not parsed cannot be rebuilt by curl: its bytes are sent again as they came
    /// (`rawReplay`).
    public static func curlLines(for record: RequestRecord, base: String) -> (lines: [String], note: String?) {
        if let problem = record.problem, let received = problem.received {
            let replay = Self.rawReplay(received, of: problem.receivedCount, base: base)
            return (replay.lines.enumerated().map { $1 + ($0 == replay.lines.count - 1 ? "" : "\\") }, replay.note)
        }
        let replay = Self.curlReplay(for: record, base: base)
        let lines = replay.items.enumerated().map { index, item in
            (index == 0 ? "" : "  ") + item + (index == replay.items.count - 1 ? "" : " \\")
        }
        return (lines, replay.note)
    }

    /// `printf '…' | nc HOST PORT`, sending `bytes` unchanged to where `base` (`http://host:port`)
    /// points, when they are all of the `count` that arrived. The format is cut after each LF into
    /// quoted pieces, one per line; they join into one word when the lines are joined (directly, or
    /// by the `\` continuations the detail view adds, which is why no line is indented).
    static func rawReplay(_ bytes: [UInt8], of count: Int, base: String) -> (lines: [String], note: String?) {
        guard bytes.count == count else {
            return ([], "Not replayed: \(Format.count(count)) bytes arrived, only the first \(Format.count(bytes.count)) were kept.")
        }
        var lines = Self.printfFormat(bytes)
        lines[0] = "printf " + lines[0]
        let (host, port) = Self.hostAndPort(base)
        lines[lines.count - 1] += " | nc " + Self.shellQuote(host) + " " + Self.shellQuote(port)
        return (lines, nil)
    }

    /// A printf format that writes exactly `bytes`, as single-quoted pieces cut after each LF (at
    /// least one piece; adjacent, they are one shell word). Printable text stays as it is; CR, LF and
    /// tab are `\r` `\n` `\t`, `%` and `\` are doubled, and every other byte (controls, invisible
    /// characters, invalid UTF-8, NUL) is a three-digit octal escape, which POSIX printf decodes.
    static func printfFormat(_ bytes: [UInt8]) -> [String] {
        var pieces: [String] = []
        var piece = "'"
        func octal(_ byte: UInt8) -> String {
            let digits = String(byte, radix: 8)
            return "\\" + String(repeating: "0", count: 3 - digits.count) + digits
        }
        var index = 0
        while index < bytes.count {
            let byte = bytes[index]
            switch byte {
            case UInt8(ascii: "\n"):
                pieces.append(piece + "\\n'")
                piece = "'"
            case UInt8(ascii: "\r"): piece += "\\r"
            case UInt8(ascii: "\t"): piece += "\\t"
            case UInt8(ascii: "\\"): piece += "\\\\"
            case UInt8(ascii: "%"): piece += "%%"
            case UInt8(ascii: "'"): piece += "'\\''"
            case 0x20..<0x7F: piece.unicodeScalars.append(Unicode.Scalar(byte))
            case 0xC0...:
                // A whole UTF-8 sequence that is printable stays readable (a CJK path); else octal.
                let length = byte >= 0xF0 ? 4 : byte >= 0xE0 ? 3 : 2
                if index + length <= bytes.count,
                    let text = String(validating: bytes[index..<index + length], as: UTF8.self),
                    let scalar = text.unicodeScalars.first, !TextSanitizer.needsEscape(scalar)
                {
                    piece += text
                    index += length
                    continue
                }
                piece += octal(byte)
            default: piece += octal(byte)
            }
            index += 1
        }
        if piece != "'" || pieces.isEmpty { pieces.append(piece + "'") }
        return pieces
    }

    /// What a rejected request's first bytes say about its client, when they are another protocol:
    /// a TLS handshake (an `https://` URL pointed at this plain-HTTP server) or HTTP/2's preface.
    static func protocolHint(_ received: [UInt8]) -> String? {
        if received.count >= 3, received[0] == 0x16, received[1] == 0x03, received[2] <= 0x04 {
            return "This is a TLS handshake: the client speaks HTTPS, this server plain HTTP (use http://)."
        }
        if received.starts(with: Array("PRI * HTTP/2.0".utf8)) {
            return "This is HTTP/2's connection preface (prior knowledge); this server speaks HTTP/1.1."
        }
        return nil
    }

    /// The host and port to connect to for `http://host:port`: brackets of an IPv6 address removed,
    /// port 80 if none, and a server listening on every interface (`::`, `0.0.0.0`) reached on loopback.
    static func hostAndPort(_ base: String) -> (String, String) {
        let (host, port) = Self.authority(base)
        return (host == "::" ? "::1" : host == "0.0.0.0" ? "127.0.0.1" : host, port)
    }

    private static func authority(_ base: String) -> (String, String) {
        let authority = base.hasPrefix("http://") ? base.dropFirst(7) : Substring(base)
        if authority.hasPrefix("["), let close = authority.firstIndex(of: "]") {
            let host = authority[authority.index(after: authority.startIndex)..<close]
            let rest = authority[authority.index(after: close)...]
            return (String(host), rest.hasPrefix(":") && rest.count > 1 ? String(rest.dropFirst()) : "80")
        }
        if let colon = authority.lastIndex(of: ":") {
            return (String(authority[..<colon]), String(authority[authority.index(after: colon)...]))
        }
        return (String(authority), "80")
    }

    /// The command's items, each one or two already-quoted shell words, and why the body is missing.
    static func curlReplay(for record: RequestRecord, base: String) -> (items: [String], note: String?) {
        var first = ["curl", "-v"]
        var body: String?
        var note: String?
        if let received = record.requestBody {
            if !received.isWhole {
                note = received.complete
                    ? "Body not replayed: \(Format.count(Int(received.bytes))) bytes, only the first \(Format.count(received.preview.count)) kept. Add --data-binary @FILE."
                    : received.framingBroke
                        ? "Body not replayed: its chunked framing broke before it ended."
                        : "Body not replayed: the connection closed before it ended."
            } else if received.preview.contains(0) {
                // No shell word can hold a NUL: printf writes the bytes and curl reads them from it
                // (bash's process substitution, which the saved script's shebang names).
                body = "--data-binary @<(printf " + Self.printfFormat(received.preview).joined() + ")"
            } else {
                // --data-raw sends the bytes as given (a leading @ is not a file name).
                body = "--data-raw " + Self.shellQuote(bytes: received.preview)
            }
        }
        switch record.method {
        case "GET" where body == nil: break
        case "HEAD": first.append("--head")
        case "POST" where body != nil: break  // curl posts what --data-raw or --data-binary gives
        default: first += ["-X", Self.shellQuote(record.method)]
        }
        if !record.headersKept {
            note = "Headers not recorded (a flood): the replay sends curl's own."
        }
        if record.version == "HTTP/1.0" { first.append("--http1.0") }
        if record.target.hasPrefix("/") {
            first.append(Self.shellQuote(base + record.target))
        } else {
            // Absolute-form (`GET http://other/x`, a client set to use a proxy): sent as it came.
            first += ["--request-target", Self.shellQuote(record.target), Self.shellQuote(base + "/")]
        }
        var items = [first.joined(separator: " ")]
        let skipped: Set<String> = ["host", "content-length", "connection", "transfer-encoding"]
        for (name, value) in record.requestHeaders where !skipped.contains(name.lowercased()) {
            items.append("-H " + Self.shellQuote("\(name): \(value)"))
        }
        if let body {
            // curl would add its own form Content-Type; an empty -H removes it, as the request had none.
            if record.requestHeaders.first("content-type") == nil { items.append("-H 'Content-Type:'") }
            items.append(body)
        }
        return (items, note)
    }

    /// One shell word for POSIX shells that means exactly `text`: bare when it is plain, in single
    /// quotes when it is printable, otherwise in `$'…'` with each control or invisible character
    /// (escape sequences, bidi overrides) as `\xNN` bytes. The result never holds such a character,
    /// so it can be shown on the terminal as it is and copied back.
    public static func shellQuote(_ text: String) -> String {
        if !text.isEmpty, text.allSatisfy({ $0.isLetter && $0.isASCII || $0.isNumber && $0.isASCII || "-_./:=@%+,".contains($0) }) {
            return text
        }
        if !TextSanitizer.needsEscape(keepingBackslashes: text) {
            return "'" + text.replacingAll("'", with: "'\\''") + "'"
        }
        var out = "$'"
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\\": out += "\\\\"
            case "'": out += "\\'"
            case _ where TextSanitizer.needsEscape(scalar):
                for byte in String(scalar).utf8 { out += TextSanitizer.hexEscape(byte) }
            default: out.unicodeScalars.append(scalar)
            }
        }
        return out + "'"
    }

    /// `shellQuote` for bytes that may not be UTF-8: those are quoted byte by byte.
    public static func shellQuote(bytes: [UInt8]) -> String {
        if let text = String(validating: bytes, as: UTF8.self) { return Self.shellQuote(text) }
        var out = "$'"
        for byte in bytes {
            switch byte {
            case UInt8(ascii: "\\"): out += "\\\\"
            case UInt8(ascii: "'"): out += "\\'"
            case 0x20..<0x7F: out.unicodeScalars.append(Unicode.Scalar(byte))
            default: out += TextSanitizer.hexEscape(byte)
            }
        }
        return out + "'"
    }

    /// How the detail view shows a request body: printable text as its lines (tabs as spaces),
    /// anything else as a hex dump of 16 bytes a line; then what was not kept.
    public static func bodyLines(_ body: RequestBodyReceived) -> [String] {
        var lines = Self.byteLines(body.preview, total: Int(body.bytes))
        if body.framingBroke {
            lines.append("(the body's chunked framing broke after these bytes)")
        } else if !body.complete {
            lines.append("(the connection closed before the body ended)")
        }
        return lines
    }

    /// The first bytes of a `total`-byte stream as text lines, or as a hex dump when they are binary,
    /// and how many more there were.
    static func byteLines(_ preview: [UInt8], total: Int) -> [String] {
        var lines: [String] = []
        if let text = Self.printableText(preview, truncated: preview.count < total) {
            // Split on LF bytes: a CR LF pair is one Character, so a Character split would miss it.
            // A CR left at a line's end shows as `\x0d`, which tells CR LF from LF.
            var textLines = text.utf8.split(separator: 10, omittingEmptySubsequences: false)
            if textLines.count > 1, textLines.last?.isEmpty == true { textLines.removeLast() }
            for line in textLines { lines.append(String(decoding: line, as: UTF8.self).replacingAll("\t", with: "    ")) }
        } else {
            for offset in stride(from: 0, to: preview.count, by: 16) {
                let row = preview[offset..<min(offset + 16, preview.count)]
                var hex = ""
                for (i, byte) in row.enumerated() {
                    hex += (i == 8 ? "  " : i == 0 ? "" : " ") + TextSanitizer.hexEscape(byte).dropFirst(2)  // the digits only
                }
                hex += String(repeating: " ", count: 48 - hex.count)
                let ascii = String(row.map { (0x20..<0x7F).contains($0) && $0 != UInt8(ascii: "\\") ? Character(Unicode.Scalar($0)) : "." })
                let position = String(offset, radix: 16)
                lines.append(String(repeating: "0", count: max(0, 4 - position.count)) + position + "  " + hex + "  " + ascii)
            }
        }
        if preview.count < total {
            lines.append("… \(Format.count(total - preview.count)) more bytes not kept")
        }
        return lines
    }

    /// `bytes` as text when they are UTF-8 and at most one character in 16 is a control character
    /// other than tab, CR and LF (those few are shown escaped, `\x1b`); a cut-off character at the
    /// end of a `truncated` preview is dropped. Anything else is binary.
    static func printableText(_ bytes: [UInt8], truncated: Bool) -> String? {
        var candidate = bytes[...]
        var text = String(validating: candidate, as: UTF8.self)
        if text == nil, truncated {
            for _ in 0..<3 where text == nil && !candidate.isEmpty {
                candidate = candidate.dropLast()
                text = String(validating: candidate, as: UTF8.self)
            }
        }
        guard let text, !bytes.contains(0) else { return nil }
        var controls = 0
        var scalars = 0
        for scalar in text.unicodeScalars {
            scalars += 1
            if scalar.value < 0x20 || (0x7F...0x9F).contains(scalar.value), scalar != "\t", scalar != "\n", scalar != "\r" {
                controls += 1
            }
        }
        return controls * 16 <= scalars ? text : nil
    }
}

extension String {
    func replacingAll(_ target: Character, with replacement: String) -> String {
        var out = ""
        for c in self { if c == target { out += replacement } else { out.append(c) } }
        return out
    }
}
