/// Formats events as python `http.server` log lines, with client text escaped.
public enum AccessLogFormatter {
    /// `127.0.0.1 - - [25/Nov/2026 05:52:43] "GET /a HTTP/1.1" 200 1024`, python's `log_request` format
    /// with the body size filled in. A request the client abandoned ends in ` aborted`, one the server
    /// failed in ` failed`.
    public static func line(for request: RequestFinished) -> String {
        var line: [UInt8] = []
        var dates = DateCache()
        Self.append(request, to: &line, dates: &dates)
        return String(decoding: line, as: UTF8.self)
    }

    /// Appends `line(for: request)` to `out` as UTF-8: the headless log's loop, which formats a line
    /// per request while the server is flooded. It builds bytes in place (string appends and
    /// integer-to-string conversions cost ~6,500 instructions a line, 13 % of a small file's answer)
    /// and formats each second's date once.
    public static func append(_ request: RequestFinished, to out: inout [UInt8], dates: inout DateCache) {
        TextSanitizer.appendEscaped(request.peer, to: &out)
        Self.append(" - - [", to: &out)
        out.append(contentsOf: dates.value(forSecondsSinceEpoch: request.time.secondsSinceEpoch) { Array(HTTPDate.logFormat(secondsSinceEpoch: $0).utf8) })
        Self.append("] \"", to: &out)
        if request.target == "-" {
            out.append(UInt8(ascii: "-"))
        } else {
            // Escaping maps each character on its own, so the parts can be escaped one by one.
            TextSanitizer.appendEscaped(request.method, to: &out)
            out.append(UInt8(ascii: " "))
            TextSanitizer.appendEscaped(request.target, to: &out)
            out.append(UInt8(ascii: " "))
            TextSanitizer.appendEscaped(request.version, to: &out)
        }
        Self.append("\" ", to: &out)
        if request.status == 0 { out.append(UInt8(ascii: "-")) } else { Self.appendDecimal(Int64(request.status), to: &out) }
        out.append(UInt8(ascii: " "))
        Self.appendDecimal(request.bytesSent, to: &out)
        switch request.outcome {
        case .completed: break
        case .abortedByClient: Self.append(" aborted", to: &out)
        case .failed: Self.append(" failed", to: &out)
        }
    }

    private static func append(_ text: StaticString, to out: inout [UInt8]) {
        text.withUTF8Buffer { out.append(contentsOf: $0) }
    }

    private static func appendDecimal(_ value: Int64, to out: inout [UInt8]) {
        if value < 0 { out.append(UInt8(ascii: "-")) }
        var magnitude = value.magnitude
        var digits: (UInt64, UInt64, UInt64) = (0, 0, 0)  // room for 19 digits, written from the end
        withUnsafeMutableBytes(of: &digits) { buffer in
            var start = buffer.count
            repeat {
                start -= 1
                buffer[start] = UInt8(ascii: "0") + UInt8(magnitude % 10)
                magnitude /= 10
            } while magnitude > 0
            out.append(contentsOf: UnsafeRawBufferPointer(rebasing: buffer[start...]))
        }
    }

    /// python's log date (`25/Nov/2026 05:52:43`) as UTF-8, formatted once per second.
    public typealias DateCache = SecondCache<[UInt8]>

    /// `- - - [date] message`, python's `log_message` shape for lines that are not requests, with
    /// the client's address (or the connection) in front when the line is about one.
    public static func line(for log: LogLine) -> String {
        let prefix = log.peer ?? log.connection.map { "conn \($0)" } ?? "-"
        return "\(prefix) - - [\(HTTPDate.logFormat(secondsSinceEpoch: log.time.secondsSinceEpoch))] "
            + TextSanitizer.escape(log.message)
    }

    /// `Serving HTTP on :: port 8000 (http://[::]:8000/) ...`, python's banner.
    public static func banner(host: String, port: Int) -> String {
        let urlHost = host.contains(":") ? "[\(host)]" : host
        return "Serving HTTP on \(host) port \(port) (http://\(urlHost):\(port)/) ..."
    }

    /// `1.5 KiB`: sizes for people.
    public static func humanBytes(_ bytes: Int64) -> String {
        if bytes < 1024 { return "\(bytes) B" }
        let units = ["KiB", "MiB", "GiB", "TiB", "PiB"]
        let (value, unit) = Self.binaryScaled(bytes)
        let tenths = Int((value * 10).rounded())
        return tenths >= 1000 ? "\(tenths / 10) \(units[unit])" : "\(tenths / 10).\(tenths % 10) \(units[unit])"
    }

    /// `bytes` (at least 1024) in the largest binary unit that keeps it under 1024:
    /// unit 0 is KiB, 1 MiB, 2 GiB, 3 TiB, 4 PiB.
    public static func binaryScaled(_ bytes: Int64) -> (value: Double, unit: Int) {
        var value = Double(bytes) / 1024
        var unit = 0
        while value >= 1024, unit < 4 {
            value /= 1024
            unit += 1
        }
        return (value, unit)
    }

    /// The one-line summary printed when the server stops.
    public static func summary(_ totals: ServerTotals) -> String {
        let classes = (1...5).map { "\($0)xx \(totals.count(statusClass: $0))" }.joined(separator: ", ")
        return "Served \(totals.requests) request(s) (\(classes); \(totals.aborted) aborted), "
            + "\(humanBytes(totals.bytesSent)) sent, \(totals.connectionsTotal) connection(s)"
    }
}
