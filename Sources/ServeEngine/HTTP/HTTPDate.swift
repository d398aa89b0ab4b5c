import NIOCore

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// HTTP dates (RFC 9110 §5.6.7): formatting IMF-fixdate and parsing the three historic forms.
public enum HTTPDate {
    private static let days = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"]
    private static let months = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]

    /// `Sun, 06 Nov 1994 08:49:37 GMT` for a time in seconds since the epoch.
    public static func format(secondsSinceEpoch seconds: Int64) -> String {
        var t = time_t(seconds)
        var parts = tm()
        gmtime_r(&t, &parts)
        return "\(Self.days[Int(parts.tm_wday)]), \(Self.pad2(parts.tm_mday)) \(Self.months[Int(parts.tm_mon)]) "
            + "\(parts.tm_year + 1900) \(Self.pad2(parts.tm_hour)):\(Self.pad2(parts.tm_min)):\(Self.pad2(parts.tm_sec)) GMT"
    }

    /// Seconds since the epoch for an IMF-fixdate, RFC 850 or asctime date; `nil` if `text` is none of them.
    ///
    /// RFC 9110 §5.6.7: recipients must accept all three forms.
    public static func parse(_ text: String) -> Int64? {
        let fields = text.split(separator: " ", omittingEmptySubsequences: true)
        var day: Int?, month: Int?, year: Int?, clock: Substring?
        switch fields.count {
        case 6 where fields[5] == "GMT":
            // IMF-fixdate: Sun, 06 Nov 1994 08:49:37 GMT
            day = Int(fields[1])
            month = Self.months.firstIndex(of: String(fields[2]))
            year = Int(fields[3])
            clock = fields[4]
        case 4 where fields[3] == "GMT":
            // RFC 850: Sunday, 06-Nov-94 08:49:37 GMT
            let dmy = fields[1].split(separator: "-")
            guard dmy.count == 3 else { return nil }
            day = Int(dmy[0])
            month = Self.months.firstIndex(of: String(dmy[1]))
            if let yy = Int(dmy[2]) { year = dmy[2].count == 2 ? (yy < 70 ? 2000 + yy : 1900 + yy) : yy }
            clock = fields[2]
        case 5:
            // asctime: Sun Nov  6 08:49:37 1994
            month = Self.months.firstIndex(of: String(fields[1]))
            day = Int(fields[2])
            clock = fields[3]
            year = Int(fields[4])
        default:
            return nil
        }
        // Four-digit years only (RFC 9110 §5.6.7): a longer one would not fit `tm` and trapped the
        // server (found by Fuzz/fuzz-header-values).
        guard let day, let month, let year, let clock, (1...31).contains(day), (1970...9999).contains(year) else { return nil }
        let hms = clock.split(separator: ":")
        guard hms.count == 3, let h = Int(hms[0]), let m = Int(hms[1]), let s = Int(hms[2]),
            (0...23).contains(h), (0...59).contains(m), (0...60).contains(s)
        else { return nil }
        var parts = tm()
        parts.tm_year = Int32(year - 1900)
        parts.tm_mon = Int32(month)
        parts.tm_mday = Int32(day)
        parts.tm_hour = Int32(h)
        parts.tm_min = Int32(m)
        parts.tm_sec = Int32(s)
        return Int64(timegm(&parts))
    }

    /// `2026-11-25T05:52:43Z` (RFC 3339, UTC).
    public static func iso8601(secondsSinceEpoch seconds: Int64) -> String {
        var t = time_t(seconds)
        var parts = tm()
        gmtime_r(&t, &parts)
        let year = String(parts.tm_year + 1900)
        return "\(year)-\(Self.pad2(parts.tm_mon + 1))-\(Self.pad2(parts.tm_mday))T"
            + "\(Self.pad2(parts.tm_hour)):\(Self.pad2(parts.tm_min)):\(Self.pad2(parts.tm_sec))Z"
    }

    /// `25/Nov/2026 05:52:43` in local time, the date format of python's access log.
    public static func logFormat(secondsSinceEpoch seconds: Int64) -> String {
        var t = time_t(seconds)
        var parts = tm()
        localtime_r(&t, &parts)
        return "\(Self.pad2(parts.tm_mday))/\(Self.months[Int(parts.tm_mon)])/\(parts.tm_year + 1900) "
            + "\(Self.pad2(parts.tm_hour)):\(Self.pad2(parts.tm_min)):\(Self.pad2(parts.tm_sec))"
    }

    private static func pad2(_ value: Int32) -> String {
        value < 10 ? "0\(value)" : "\(value)"
    }
}

/// A date formatted at most once per second: the `Date` header of every response, the access log's
/// date of every line.
public struct SecondCache<Value> {
    private var last: (second: Int64, value: Value)?

    public init() {}

    /// `format(seconds)`, reused while `seconds` stays the same.
    public mutating func value(forSecondsSinceEpoch seconds: Int64, _ format: (Int64) -> Value) -> Value {
        if let last, last.second == seconds { return last.value }
        let value = format(seconds)
        self.last = (seconds, value)
        return value
    }
}

/// The `Date` header value, formatted at most once per second per event loop.
///
/// One instance belongs to one event loop and is only touched from it, so it needs no lock.
final class DateHeaderCache: @unchecked Sendable {
    private var cache = SecondCache<String>()
    /// The `Server` value: fixed per cache, so a request passes nothing in (passing the shared
    /// configuration string retained it from every loop on every request).
    private let server: String

    private var lines = ByteBuffer()
    private var linesSecond = Int64.min
    /// Counts the times `lines` was rebuilt: equal versions mean equal lines.
    private(set) var linesVersion = 0

    /// The current `Date` value.
    func current() -> String {
        self.cache.value(forSecondsSinceEpoch: EventTime.now().secondsSinceEpoch, HTTPDate.format)
    }

    init(server: String) {
        self.server = server
    }

    /// `Server: <server>` and `Date: <current()>` as field lines, encoded once per second.
    func fieldLines() -> ByteBuffer {
        let second = EventTime.now().secondsSinceEpoch
        if second != self.linesSecond {
            var buffer = ByteBuffer()
            ResponseEncoding.writeField("Server", self.server, into: &buffer)
            ResponseEncoding.writeField("Date", self.cache.value(forSecondsSinceEpoch: second, HTTPDate.format), into: &buffer)
            (self.lines, self.linesSecond) = (buffer, second)
            self.linesVersion &+= 1
        }
        return self.lines
    }
}
