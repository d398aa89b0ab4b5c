import ServeDashboard
import Testing

/// Cell widths, truncation and escaping where text enters the grid.
@Suite struct CanvasTests {
    @Test(arguments: [
        ("a", 1), ("日", 2), ("ア", 2), ("한", 2), ("🎉", 2), ("é", 1), ("e\u{301}", 1), ("\u{200B}", 0),
        ("Ａ", 2), ("✓", 1), ("❤️", 2), ("👩‍💻", 2),
    ] as [(String, Int)])
    func widths(text: String, width: Int) {
        #expect(CellWidth.of(Character(text)) == width)
    }

    @Test func cjkTakesTwoCellsAndTruncationNeverSplitsIt() {
        var canvas = Canvas(width: 10, height: 1)
        let used = canvas.write("日本語テキスト", x: 0, y: 0, maxWidth: 6)
        #expect(used <= 6)
        #expect(canvas.rows[0].hasPrefix("日本…"))
        // An odd budget: the third character would straddle the edge, so the ellipsis takes its place.
        var odd = Canvas(width: 10, height: 1)
        odd.write("日本語テキスト", x: 0, y: 0, maxWidth: 5)
        #expect(odd.rows[0] == "日本…     ")
        #expect(CellWidth.of(odd.rows[0]) == 10)
    }

    @Test func hostileTextIsEscapedOnTheWayIn() {
        var canvas = Canvas(width: 60, height: 1)
        canvas.write("\u{1B}[2J\u{1B}]0;owned\u{07}\u{202E}cod.exe\u{9B}", x: 0, y: 0)
        let row = canvas.rows[0]
        #expect(row.hasPrefix("\\x1b[2J\\x1b]0;owned\\x07\\u202ecod.exe\\x9b"))
        #expect(!row.unicodeScalars.contains { $0.value < 0x20 || (0x7F...0x9F).contains($0.value) || $0.value == 0x202E })
    }

    @Test func everyRowKeepsItsWidth() {
        var canvas = Canvas(width: 20, height: 3)
        canvas.write("🎉🎉🎉🎉🎉🎉🎉🎉🎉🎉🎉🎉", x: 3, y: 0)
        canvas.write("abc日本語", x: 15, y: 1)
        canvas.writeRight("右寄せ", x: 0, y: 2, width: 20)
        for row in canvas.rows { #expect(CellWidth.of(row) == 20, "\(row)") }
        #expect(canvas.rows[2].hasSuffix("右寄せ"))
    }

    @Test func overwritingHalfAWideCharacterBlanksTheOtherHalf() {
        var canvas = Canvas(width: 6, height: 2)
        canvas.write("日本語", x: 0, y: 0)
        canvas.write("|", x: 1, y: 0)  // right half of 日
        canvas.write("|", x: 2, y: 0)  // left half of 本
        #expect(canvas.rows[0] == " || 語")
        canvas.write("漢", x: 1, y: 1)
        canvas.write("字", x: 2, y: 1)  // starts on the right half of 漢
        #expect(canvas.rows[1] == "  字  ")
        for row in canvas.rows { #expect(CellWidth.of(row) == 6) }
    }

    @Test(arguments: [
        ("/a/very/long/path/to/some/file.txt", 15, "/a/very…ile.txt"),
        ("short", 10, "short"),
    ])
    func middleTruncation(text: String, width: Int, expected: String) {
        #expect(Format.middleTruncate(text, width: width) == expected)
    }

    @Test func formats() {
        #expect(Format.count(1_234_567) == "1,234,567")
        #expect(Format.compactBytes(512) == "512B")
        #expect(Format.compactBytes(1536) == "1.5K")
        #expect(Format.compactBytes(50 * 1024 * 1024) == "50M")
        #expect(Format.duration(850_000) == "850µs")
        #expect(Format.duration(12_345_678) == "12.3ms")
        #expect(Format.duration(1_234_000_000) == "1.23s")
        #expect(Format.duration(123_000_000_000) == "2m03s")
        #expect(Format.uptime(90_061) == "1d 01:01:01")
        #expect(Format.age(3725) == "1h02m")
        #expect(Format.sparkline([0, 1, 2, 4, 8], width: 5) == " ▁▂▄█")
        #expect(Format.bar(0.5, width: 4) == "██░░")
        #expect(Format.displayTarget("/%E6%97%A5%E6%9C%AC/x%20y") == "/日本/x y")
        #expect(Format.displayTarget("/%FF%FE") == "/%FF%FE")
        #expect(Format.rate(23.45) == "23.5/s")
    }

    @Test func curlReplayQuotesForTheShell() {
        var record = RequestRecordFixture.make(method: "POST", target: "/it's?a=1&b=2", headers: [("Host", "h:1"), ("X-Note", "it's")])
        record.version = "HTTP/1.0"
        #expect(Format.curlCommand(for: record, base: "http://h:1")
            == "curl -v -X POST --http1.0 'http://h:1/it'\\''s?a=1&b=2' -H 'X-Note: it'\\''s'")
    }

    @Test func curlReplaySendsAnAbsoluteFormTargetAsItCame() {
        let record = RequestRecordFixture.make(method: "GET", target: "http://other.example/a b", headers: [("Host", "other.example")])
        #expect(Format.curlCommand(for: record, base: "http://h:1")
            == "curl -v --request-target 'http://other.example/a b' http://h:1/")
    }
}

enum RequestRecordFixture {
    static func make(method: String, target: String, headers: [(String, String)]) -> RequestRecord {
        var model = DashboardModel(root: "/", now: EventScript.time(0))
        model.apply(EventScript.batch([EventScript.received(1, 1, method, target, headers: headers, at: 0)]))
        return model.requests.all[0]
    }
}
