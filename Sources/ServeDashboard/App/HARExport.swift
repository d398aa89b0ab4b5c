import ServeEngine

/// `w`: the requests on the list saved as a HAR 1.2 file (HTTP Archive), the format browsers'
/// developer tools, mitmproxy and Charles open, for a person who wants to keep or share what a
/// client sent. Written to the same private folder as `y`'s scripts.
///
/// What the dashboard did not keep is said, not invented: a body (sent or received) is included when
/// it was kept whole (its first 2 KiB; a file's bytes never are), and the time is one span
/// (`wait`), since the engine does not time sending and receiving apart. Requests that were not
/// parsed have no method or URL for HAR and are left out.
public enum HARExport {
    public struct Saved: Equatable {
        public let path: String
        public let count: Int
        /// Requests on the list that HAR cannot hold (not parsed).
        public let leftOut: Int
    }

    /// The HAR text for `records`, oldest first. `base` gives the `http://host:port` a request was
    /// sent to (its `Host`, else where the server listens).
    public static func text(for records: [RequestRecord], base: (RequestRecord) -> String) -> String {
        var out = "{\"log\":{\"version\":\"1.2\",\"creator\":{\"name\":\"swift-serve-tui\",\"version\":\"" + ServerConfiguration.version + "\"},\"pages\":[],\"entries\":["
        var first = true
        for record in records where Self.canHold(record) {
            if !first { out += "," }
            first = false
            out += Self.entry(record, base: base(record))
        }
        return out + "]}}\n"
    }

    /// Whether HAR can hold `record`: it needs a parsed request line.
    static func canHold(_ record: RequestRecord) -> Bool { !record.isUnparsed && record.target != "-" }

    static func entry(_ record: RequestRecord, base: String) -> String {
        let milliseconds = Double(record.durationNanoseconds ?? 0) / 1e6
        let url = record.target.hasPrefix("/") ? base + record.target : record.target
        var out = "{\"startedDateTime\":\(JSON.quote(Self.timestamp(record.receivedAt)))"
        out += ",\"time\":\(Self.number(milliseconds))"
        out += ",\"request\":{\"method\":\(JSON.quote(record.method)),\"url\":\(JSON.quote(url))"
        out += ",\"httpVersion\":\(JSON.quote(record.version)),\"cookies\":[]"
        out += ",\"headers\":" + Self.headers(record.requestHeaders)
        out += ",\"queryString\":" + Self.queryString(record.target)
        out += ",\"headersSize\":-1,\"bodySize\":\(record.requestBody?.bytes ?? 0)"
        if let body = record.requestBody {
            out += ",\"postData\":{\"mimeType\":\(JSON.quote(record.requestHeaders.first("content-type") ?? ""))"
            if body.isWhole, let text = String(validating: body.preview, as: UTF8.self) {
                out += ",\"text\":\(JSON.quote(text))}"
            } else {
                let why = body.isWhole ? "binary" : body.complete ? "only its first \(body.preview.count) bytes were kept" : "cut off"
                out += ",\"text\":\"\",\"comment\":\(JSON.quote("body of \(body.bytes) bytes not included: \(why)"))}"
            }
        }
        out += "}"
        let headers = record.responseHeaders ?? HeaderFields([])
        out += ",\"response\":{\"status\":\(record.status ?? 0),\"statusText\":\(JSON.quote(record.reason ?? ""))"
        out += ",\"httpVersion\":\(JSON.quote(record.version)),\"cookies\":[]"
        out += ",\"headers\":" + Self.headers(headers)
        out += ",\"content\":{\"size\":\(record.bytesSent),\"mimeType\":\(JSON.quote(headers.first("content-type") ?? ""))"
        if let body = record.responseBody, Int64(body.preview.count) == body.bytes, let text = String(validating: body.preview, as: UTF8.self) {
            out += ",\"text\":\(JSON.quote(text))}"
        } else {
            let why = record.responseBody == nil ? "not kept by the dashboard (a file, or no body)" : "only its first bytes were kept, or it is binary"
            out += ",\"comment\":\(JSON.quote(why))}"
        }
        out += ",\"redirectURL\":\(JSON.quote(headers.first("location") ?? "")),\"headersSize\":-1,\"bodySize\":\(record.bytesSent)}"
        out += ",\"cache\":{},\"timings\":{\"send\":0,\"wait\":\(Self.number(milliseconds)),\"receive\":0}"
        out += ",\"connection\":\(JSON.quote(String(record.id.connection.rawValue)))"
        var comment = "request \(record.id), \(record.outcome?.rawValue ?? "in flight")"
        if let problem = record.problem { comment += ": \(problem.message)" }
        if !record.headersKept { comment += "; headers not recorded (it came in a flood, only its outcome was kept)" }
        out += ",\"comment\":\(JSON.quote(comment))}"
        return out
    }

    static func headers(_ fields: HeaderFields) -> String {
        "[" + fields.map { "{\"name\":\(JSON.quote($0.name)),\"value\":\(JSON.quote($0.value))}" }.joined(separator: ",") + "]"
    }

    /// The target's query as name/value pairs, as sent (not decoded).
    static func queryString(_ target: String) -> String {
        guard let mark = target.firstIndex(of: "?") else { return "[]" }
        let query = target[target.index(after: mark)...].prefix { $0 != "#" }
        let pairs = query.split(separator: "&").map { pair -> String in
            let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            return "{\"name\":\(JSON.quote(String(parts[0]))),\"value\":\(JSON.quote(parts.count > 1 ? String(parts[1]) : ""))}"
        }
        return "[" + pairs.joined(separator: ",") + "]"
    }

    /// `2026-11-25T06:00:01.250Z`: RFC 3339 with milliseconds, as HAR asks.
    static func timestamp(_ time: EventTime) -> String {
        let seconds = time.nanosecondsSinceEpoch / 1_000_000_000
        let milliseconds = Int(time.nanosecondsSinceEpoch % 1_000_000_000 / 1_000_000)
        let text = String(milliseconds)
        return String(HTTPDate.iso8601(secondsSinceEpoch: seconds).dropLast()) + "." + String(repeating: "0", count: 3 - text.count) + text + "Z"
    }

    /// Milliseconds with three decimals at most.
    static func number(_ value: Double) -> String {
        let thousandths = Int64((value * 1000).rounded())
        let fraction = String(thousandths % 1000)
        return "\(thousandths / 1000)." + String(repeating: "0", count: 3 - fraction.count) + fraction
    }

    /// Writes the HAR for `records` into `folder` as `requests-<date>-<time>.har` (readable by
    /// this user only) and says where and how many.
    public static func save(_ records: [RequestRecord], base: (RequestRecord) -> String, in folder: String, now: EventTime) throws -> Saved {
        let stamp = HTTPDate.iso8601(secondsSinceEpoch: now.secondsSinceEpoch).filter { $0.isNumber || $0 == "T" }.replacingAll("T", with: "-")
        let path = "\(folder)/requests-\(stamp).har"
        try ReplayScript.write(Self.text(for: records, base: base), to: path, mode: 0o600)
        let count = records.filter(Self.canHold).count
        return Saved(path: path, count: count, leftOut: records.count - count)
    }
}
