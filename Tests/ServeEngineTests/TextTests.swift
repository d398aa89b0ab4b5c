@testable import ServeEngine
import NIOHTTP1
import Testing

/// Escaping of client text for terminals and logs, python's log format, HTTP dates.
@Suite struct TextTests {
    @Test(arguments: [
        ("plain /path?q=1", "plain /path?q=1"),
        ("\u{1B}[31mred\u{1B}[0m", "\\x1b[31mred\\x1b[0m"),
        ("bell\u{07}null\u{00}del\u{7F}", "bell\\x07null\\x00del\\x7f"),
        ("c1\u{85}\u{9B}", "c1\\x85\\x9b"),
        ("tab\tnewline\ncr\r", "tab\\x09newline\\x0acr\\x0d"),
        ("abc\u{202E}gpj.exe", "abc\\u202egpj.exe"),
        ("zero\u{200B}width\u{FEFF}", "zero\\u200bwidth\\ufeff"),
        ("isolate\u{2066}x\u{2069}", "isolate\\u2066x\\u2069"),
        ("line\u{2028}sep", "line\\u2028sep"),
        ("back\\slash", "back\\\\slash"),
        ("日本語 ✓ 🎉", "日本語 ✓ 🎉"),
        ("tag\u{E0041}", "tag\\U000e0041"),
    ])
    func sanitizerEscapes(input: String, expected: String) {
        #expect(TextSanitizer.escape(input) == expected)
    }

    @Test func sanitizedTextHasNoControlOrFormatCharacters() {
        var scalars: [Unicode.Scalar] = []
        for value in UInt32(0)...0x3000 {
            if let scalar = Unicode.Scalar(value) { scalars.append(scalar) }
        }
        let escaped = TextSanitizer.escape(String(String.UnicodeScalarView(scalars)))
        for scalar in escaped.unicodeScalars {
            #expect(scalar.value >= 0x20 && scalar.value != 0x7F && !(0x80...0x9F).contains(scalar.value))
            #expect(scalar.properties.generalCategory != .format)
        }
    }

    @Test func invalidUTF8BytesAreShownAsReplacement() {
        #expect(TextSanitizer.escape(bytes: [0x61, 0xFF, 0x1B, 0x62]) == "a\u{FFFD}\\x1bb")
    }

    @Test func accessLogLineMatchesPythonAndEscapesTheRequest() {
        let finished = RequestFinished.fixture(method: "GET", target: "/\u{1B}]0;pwned\u{07}", status: 404, bytes: 335)
        let line = AccessLogFormatter.line(for: finished)
        #expect(line.hasPrefix("127.0.0.1 - - ["))
        #expect(line.hasSuffix("] \"GET /\\x1b]0;pwned\\x07 HTTP/1.1\" 404 335"))
        #expect(!line.unicodeScalars.contains { $0.value < 0x20 })
        let aborted = RequestFinished.fixture(method: "GET", target: "/big", status: 200, bytes: 10, outcome: .abortedByClient)
        #expect(AccessLogFormatter.line(for: aborted).hasSuffix("\"GET /big HTTP/1.1\" 200 10 aborted"))
    }

    /// The line is built as bytes: numbers at their limits, and text escaped exactly as
    /// `TextSanitizer` does, whatever it holds.
    @Test func logLinesWriteNumbersAndEscapesLikeStrings() {
        for bytes in [Int64(0), 7, 10, 999, 1_000_000, Int64.max] {
            let line = AccessLogFormatter.line(for: RequestFinished.fixture(method: "GET", target: "/", status: 200, bytes: bytes))
            #expect(line.hasSuffix("\" 200 \(bytes)"), "\(line)")
        }
        for target in ["/plain", "/\\", "/日本", "/\u{7F}", "/\u{1B}[0m", "/\u{202E}x", "/~!*'();:@&=+$,"] {
            let line = AccessLogFormatter.line(for: RequestFinished.fixture(method: "GET", target: target, status: 200, bytes: 1))
            #expect(line.contains("\"GET \(TextSanitizer.escape(target)) HTTP/1.1\" 200 1"), "\(line)")
        }
    }

    @Test func theHeadlessLogsInPlaceLinesEqualSingleLines() {
        let requests = [
            RequestFinished.fixture(method: "G\u{1B}T", target: "/a\\b\u{202E}", status: 200, bytes: 5, seconds: 1_700_000_000),
            RequestFinished.fixture(method: "GET", target: "/same-second", status: 0, bytes: 0, outcome: .failed, seconds: 1_700_000_000),
            RequestFinished.fixture(method: "HEAD", target: "-", status: 408, bytes: 0, seconds: 1_700_000_061),
        ]
        var bytes: [UInt8] = []
        var dates = AccessLogFormatter.DateCache()
        for request in requests {
            AccessLogFormatter.append(request, to: &bytes, dates: &dates)
            bytes.append(UInt8(ascii: "\n"))
        }
        let text = String(decoding: bytes, as: UTF8.self)
        #expect(text == requests.map { AccessLogFormatter.line(for: $0) + "\n" }.joined())
        // The cached date moves on with the clock: the third line is a minute and a second later.
        let dates3 = text.split(separator: "\n").map { $0.split(separator: "[")[1].prefix(20) }
        #expect(dates3[0] == dates3[1] && dates3[1] != dates3[2])
        #expect(text.contains("\"G\\x1bT /a\\\\b\\u202e HTTP/1.1\" 200 5\n"))
        #expect(text.contains("\"GET /same-second HTTP/1.1\" - 0 failed\n"))
    }

    @Test func bannerMatchesPython() {
        #expect(AccessLogFormatter.banner(host: "::", port: 8000) == "Serving HTTP on :: port 8000 (http://[::]:8000/) ...")
        #expect(AccessLogFormatter.banner(host: "127.0.0.1", port: 80) == "Serving HTTP on 127.0.0.1 port 80 (http://127.0.0.1:80/) ...")
    }

    @Test(arguments: [(Int64(0), "0 B"), (1023, "1023 B"), (1024, "1.0 KiB"), (1536, "1.5 KiB"), (10_485_760, "10.0 MiB"), (5 * 1_073_741_824, "5.0 GiB")] as [(Int64, String)])
    func humanBytes(bytes: Int64, text: String) {
        #expect(AccessLogFormatter.humanBytes(bytes) == text)
    }

    @Test func httpDateRoundTripsAndParsesAllThreeForms() {
        #expect(HTTPDate.format(secondsSinceEpoch: 784_111_777) == "Sun, 06 Nov 1994 08:49:37 GMT")
        #expect(HTTPDate.parse("Sun, 06 Nov 1994 08:49:37 GMT") == 784_111_777)
        #expect(HTTPDate.parse("Sunday, 06-Nov-94 08:49:37 GMT") == 784_111_777)
        #expect(HTTPDate.parse("Sun Nov  6 08:49:37 1994") == 784_111_777)
        #expect(HTTPDate.parse("yesterday") == nil)
        #expect(HTTPDate.parse("Sun, 32 Nov 1994 08:49:37 GMT") == nil)
        // Years that do not fit `tm` are not dates (they trapped before; found by fuzzing).
        #expect(HTTPDate.parse("Sun, 06 Nov 22222222222 08:49:37 GMT") == nil)
        #expect(HTTPDate.parse("Sun Nov  6 08:49:37 99999999999999") == nil)
        #expect(HTTPDate.parse("Fri, 31 Dec 9999 23:59:59 GMT") == 253_402_300_799)
        #expect(HTTPDate.parse("Sun, 06 Nov 1994 25:49:37 GMT") == nil)
    }

    @Test func errorPageEscapesItsMessage() {
        let page = HTTPError(.notFound, message: "<script>alert(1)</script>").page
        #expect(page.contains("&lt;script&gt;alert(1)&lt;/script&gt;"))
        #expect(!page.contains("<script>"))
        #expect(page.contains("Error code explanation: 404 - Nothing matches the given URI."))
    }

    /// The one pass over every request's fields: the block's size as sent, and its Host fields
    /// whatever their case (and only those: other four-letter names are not Host).
    @Test func headerScanSizesTheBlockAndFindsEachHost() {
        let scan = HeaderScan(HTTPHeaders([("HoSt", "a.example:80"), ("Hose", "x"), ("Accept", "*/*"), ("host", "b")]))
        #expect(scan.bytes == (4 + 12 + 4) + (4 + 1 + 4) + (6 + 3 + 4) + (4 + 1 + 4))
        #expect(scan.hostCount == 2 && scan.host == "a.example:80")
        #expect(scan.hostProblem(version: .http1_1) == "More than one Host header")
        #expect(HeaderScan(HTTPHeaders([("Hose", "x")])).hostProblem(version: .http1_1) == "HTTP/1.1 request without a Host header")
        #expect(HeaderScan(HTTPHeaders([("Hose", "x")])).hostProblem(version: .http1_0) == nil)
        #expect(HeaderScan(HTTPHeaders([("HOST", "[::1]:8000")])).hostProblem(version: .http1_1) == nil)
        #expect(HeaderScan(HTTPHeaders([("Host", "a b")])).hostProblem(version: .http1_1) == "Bad Host header")
        #expect(HeaderScan(HTTPHeaders([("Host", "")])).hostProblem(version: .http1_1) == nil)
        // Brackets only around an IP literal, a port only of digits, one colon outside brackets.
        for good in ["example.com", "example.com:8080", "[::1]:8000", "[::1]", "[::1]:", "[fe80::1%25eth0]:80", "127.0.0.1:1", "xn--bcher-kva.example", "h:"] {
            #expect(HeaderScan(HTTPHeaders([("Host", good)])).hostProblem(version: .http1_1) == nil, "\(good)")
        }
        for bad in ["[::1", "::1", "a]b", "a[b]", "[::1]x", "[::1]:8x", "host:80:90", "host:abc", "[[::1]]", "h:-1"] {
            #expect(HeaderScan(HTTPHeaders([("Host", bad)])).hostProblem(version: .http1_1) == "Bad Host header", "\(bad)")
        }
    }

    /// The same pass notes whether a field may be a condition or a range, or `Expect`, whatever its
    /// case. When it says none, a file's answer skips the planner's lookups, so it must never miss one.
    @Test func headerScanNotesConditionsAndExpect() {
        for name in ["If-None-Match", "if-modified-since", "RANGE", "If-Range", "If-Match", "if-unmodified-since"] {
            let scan = HeaderScan(HTTPHeaders([("Host", "x"), (name, "v")]))
            #expect(scan.mayHaveConditions, "\(name)")
            #expect(!scan.mayHaveExpect, "\(name)")
        }
        let plain = HeaderScan(HTTPHeaders([("Host", "x"), ("User-Agent", "wrk"), ("Accept", "*/*"), ("Cookie", "a=b"), ("Referer", "r")]))
        #expect(!plain.mayHaveConditions && !plain.mayHaveExpect)
        #expect(HeaderScan(HTTPHeaders([("EXPECT", "100-continue")])).mayHaveExpect)
        #expect(HeaderScan(HTTPHeaders([("transfer-ENCODING", "gzip")])).mayHaveTransferCoding)
        #expect(!HeaderScan(HTTPHeaders([("If-Modified-Since", "x")])).mayHaveTransferCoding)
        #expect(!plain.mayHaveTransferCoding)
    }

    /// Which `Transfer-Encoding` values a request may carry (RFC 9112 §6.1, §6.3), without sockets.
    @Test func transferCodingsAndWhatIsWrongWithThem() {
        func problem(_ values: [String], version: HTTPVersion = .http1_1) -> (Int, String)? {
            let head = HTTPRequestHead(version: version, method: .POST, uri: "/", headers: HTTPHeaders(values.map { ("Transfer-Encoding", $0) }))
            return HTTPConnectionHandler.transferCodingProblem(head).map { (Int($0.status.code), $0.message) }
        }
        #expect(problem([]) == nil)
        #expect(problem(["chunked"]) == nil)
        #expect(problem(["CHUNKED"]) == nil)
        #expect(problem(["gzip"])?.0 == 400)
        #expect(problem(["chunked, gzip"])?.0 == 400)
        #expect(problem(["chunked;q=1"])?.0 == 400)
        #expect(problem(["gzip, chunked"])?.0 == 501)
        #expect(problem(["gzip, chunked"])?.1.contains("('gzip')") == true)
        #expect(problem(["x-custom", "chunked"])?.1.contains("('x-custom')") == true)
        #expect(problem(["chunked"], version: .http1_0)?.0 == 400)
    }

    /// Token characters (methods, header names) against host characters: each class exactly as its RFC
    /// lists it, over all 256 bytes.
    @Test func byteClassesMatchTheirGrammars() {
        let alphanumeric = Set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789".utf8)
        let token = alphanumeric.union("!#$%&'*+-.^_`|~".utf8)
        let host = alphanumeric.union("-._~!$&'()*+,;=%:[]".utf8)
        for byte in UInt8.min...UInt8.max {
            #expect(ByteClass.isToken(byte) == token.contains(byte), "token \(byte)")
            #expect(ByteClass.isHost(byte) == host.contains(byte), "host \(byte)")
        }
    }

    /// The headless log's merge: lines in time order across the loops, ties to the lower loop, each
    /// loop's own order kept, every byte once.
    @Test func timedLinesMergeInTimeOrder() {
        func part(_ lines: [(String, Int64)]) -> TimedLines {
            var part = TimedLines()
            for (text, time) in lines {
                part.text += Array((text + "\n").utf8)
                part.endLine(at: EventTime(nanosecondsSinceEpoch: time))
            }
            return part
        }
        var out: [UInt8] = Array("header\n".utf8)
        TimedLines.merge([part([("a1", 1), ("a2", 4), ("a3 with ünïcode", 9), ("a4", 3)]), part([]), part([("b1", 2), ("b2", 4), ("b3", 8)])], into: &out)
        #expect(String(decoding: out, as: UTF8.self) == "header\na1\nb1\na2\nb2\nb3\na3 with ünïcode\na4\n")
        var none: [UInt8] = []
        TimedLines.merge([], into: &none)
        TimedLines.merge([TimedLines()], into: &none)
        #expect(none.isEmpty)
    }
}

extension RequestFinished {
    static func fixture(
        method: String,
        target: String,
        status: Int,
        bytes: Int64,
        outcome: RequestOutcome = .completed,
        seconds: Int64 = 1_700_000_000
    ) -> RequestFinished {
        RequestFinished(
            id: RequestID(connection: ConnectionID(1), index: 1),
            method: method,
            target: target,
            version: "HTTP/1.1",
            peer: "127.0.0.1",
            status: status,
            bytesSent: bytes,
            durationNanoseconds: 1000,
            outcome: outcome,
            time: EventTime(nanosecondsSinceEpoch: seconds * 1_000_000_000)
        )
    }
}
