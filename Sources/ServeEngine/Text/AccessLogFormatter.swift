/// Formats events as python `http.server` log lines, with client text escaped.
public enum AccessLogFormatter {
    /// `127.0.0.1 - - [25/Nov/2026 05:52:43] "GET /a HTTP/1.1" 200 1024`, python's `log_request` format
    /// with the body size filled in. A request the client abandoned ends in ` aborted`, one the server
    /// failed in ` failed`.
    public static func line(for request: RequestFinished) -> String {
        var line = ""
        var dates = DateCache()
        Self.append(request, to: &line, dates: &dates)
        return line
    }

    /// Appends `line(for: request)` to `out`: the headless log's loop, which formats a line per
    /// request while the server is flooded, so it builds in place and formats each second's date once.
    public static func append(_ request: RequestFinished, to out: inout String, dates: inout DateCache) {
        out += request.peer
        out += " - - ["
        out += dates.text(forSecondsSinceEpoch: request.time.secondsSinceEpoch, HTTPDate.logFormat)
        out += "] \""
        if request.target == "-" {
            out += "-"
        } else {
            // Escaping maps each character on its own, so the parts can be escaped one by one.
            out += TextSanitizer.escape(request.method)
            out += " "
            out += TextSanitizer.escape(request.target)
            out += " "
            out += TextSanitizer.escape(request.version)
        }
        out += "\" "
        out += request.status == 0 ? "-" : String(request.status)
        out += " "
        out += String(request.bytesSent)
        switch request.outcome {
        case .completed: break
        case .abortedByClient: out += " aborted"
        case .failed: out += " failed"
        }
    }

    /// python's log date (`25/Nov/2026 05:52:43`), formatted once per second.
    public typealias DateCache = SecondCache

    /// `- - - [date] message`, python's `log_message` shape for lines that are not requests.
    public static func line(for log: LogLine) -> String {
        let prefix = log.connection.map { "conn \($0)" } ?? "-"
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
