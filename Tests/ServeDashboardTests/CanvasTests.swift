import Foundation
import ServeDashboard
import ServeEngine
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

    /// A string's width: printable ASCII takes the byte-count path, anything else is measured per
    /// character, so a control byte or a wide character in an otherwise ASCII string still counts right.
    @Test(arguments: [
        ("", 0), ("/plain/path.txt?v=1", 19), ("tab\there", 7), ("\u{7F}x", 1), ("日本/a", 6), ("e\u{301}x", 2),
        ("~ !", 3),
    ] as [(String, Int)])
    func stringWidths(text: String, width: Int) {
        #expect(CellWidth.of(text) == width)
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

    /// Wrapping for the log panel: after a space when that keeps half a line, otherwise between
    /// characters, never through a wide one; the last allowed line keeps the rest.
    @Test func wrapBreaksAtSpacesAndNeverSplitsAWideCharacter() {
        #expect(Format.wrap("alpha beta gamma delta", width: 11, maxLines: 9) == ["alpha beta", "gamma delta"])
        #expect(Format.wrap("a bcdefghijklmnop", width: 6, maxLines: 9) == ["a bcde", "fghijk", "lmnop"], "a space early in the line is not worth a short line")
        #expect(Format.wrap("日本語テキスト", width: 5, maxLines: 9) == ["日本", "語テ", "キス", "ト"])
        #expect(Format.wrap("one two three four five six", width: 8, maxLines: 2) == ["one two", "three four five six"])
        #expect(Format.wrap("fits", width: 4, maxLines: 1) == ["fits"])
        #expect(Format.wrap("stderr: \\x1b[1mbold\\x1b[0m", width: 24, maxLines: 9) == ["stderr: \\x1b[1mbold", "\\x1b[0m"], "an escape is not split")
        #expect(Format.wrap("a\\\\b c", width: 2, maxLines: 9) == ["a", "\\\\", "b", "c"], "nor an escaped backslash")
        #expect(Format.wrap("日", width: 1, maxLines: 3) == ["日"], "wider than the line: kept whole, for the canvas to cut")
        #expect(Format.wrap("", width: 10, maxLines: 3).isEmpty && Format.wrap("x", width: 0, maxLines: 3).isEmpty)
        for line in Format.wrap("日本語 mixed テキスト with spaces and 🎉 emoji, long enough to wrap several times", width: 9, maxLines: 99) {
            #expect(CellWidth.of(line) <= 9, "\(line)")
        }
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

    /// Each quoting form means the same bytes to a shell; the round trip through bash is in
    /// `DashboardTmuxTests` (and `shellQuoteRoundTripsThroughBash` below when bash is here).
    @Test func shellQuotingPicksTheSimplestExactForm() {
        #expect(Format.shellQuote("http://h:1/a.txt") == "http://h:1/a.txt")
        #expect(Format.shellQuote("a b'c\\d") == "'a b'\\''c\\d'")
        #expect(Format.shellQuote("日本 語") == "'日本 語'")
        #expect(Format.shellQuote("x\u{1B}[31m'\\\n") == "$'x\\x1b[31m\\'\\\\\\x0a'")
        #expect(Format.shellQuote("\u{202E}exe") == "$'\\xe2\\x80\\xaeexe'")
        #expect(Format.shellQuote(bytes: [0x61, 0xFF, 0x27, 0x5C]) == "$'a\\xff\\'\\\\'")
        // Nothing a terminal would act on is left in any form.
        for text in ["\u{1B}]0;t\u{07}", "a\u{9B}b", "\u{200B}", "\r\n"] {
            #expect(!Format.shellQuote(text).unicodeScalars.contains { $0 != "\\" && TextSanitizer.needsEscape($0) })
        }
    }

    @Test(.enabled(if: FileManager.default.isExecutableFile(atPath: "/bin/bash")))
    func shellQuoteRoundTripsThroughBash() throws {
        let samples: [[UInt8]] = [
            Array("plain".utf8), Array("it's a \\ back'slash".utf8), Array("日本\t\n\r\u{1B}[2J\u{202E}".utf8),
            [0x41, 0xFF, 0xFE, 0x0A, 0x27, 0x24, 0x60, 0x21], Array("$HOME `id` !! \"q\"".utf8),
            Array("it's\u{1B}[0m \\x41 $'x'".utf8),
        ]
        for sample in samples {
            #expect(try Self.bash("printf %s " + Format.shellQuote(bytes: sample)) == sample, "\(Format.shellQuote(bytes: sample))")
        }
    }

    /// What `bash -c script` writes to its standard output.
    static func bash(_ script: String) throws -> [UInt8] {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/bin/bash")
        process.arguments = ["-c", script]
        let pipe = Pipe()
        process.standardOutput = pipe
        try process.run()
        let output = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return Array(output)
    }

    @Test func curlReplayCarriesAWholeBodyAndSaysWhyNotOtherwise() {
        var record = RequestRecordFixture.make(method: "POST", target: "/cgi-bin/form.py", headers: [("Host", "h:1"), ("Content-Length", "9")])
        let body = Array("a=1&b=it's".utf8)
        record.requestBody = RequestBodyReceived(id: record.id, bytes: Int64(body.count), preview: body, complete: true, time: record.receivedAt)
        // POST is implied by the body; curl's own form Content-Type is removed, as none was sent.
        #expect(Format.curlCommand(for: record, base: "http://h:1")
            == "curl -v http://h:1/cgi-bin/form.py -H 'Content-Type:' --data-raw 'a=1&b=it'\\''s'")
        let lines = Format.curlLines(for: record, base: "http://h:1")
        #expect(lines.lines == ["curl -v http://h:1/cgi-bin/form.py \\", "  -H 'Content-Type:' \\", "  --data-raw 'a=1&b=it'\\''s'"])
        #expect(lines.note == nil)

        record.requestHeaders = HeaderFields([("Content-Type", "application/json")])
        record.method = "PUT"
        #expect(Format.curlCommand(for: record, base: "http://h:1")
            == "curl -v -X PUT http://h:1/cgi-bin/form.py -H 'Content-Type: application/json' --data-raw 'a=1&b=it'\\''s'")

        record.requestBody = RequestBodyReceived(id: record.id, bytes: 5000, preview: Array(repeating: 65, count: 2048), complete: true, time: record.receivedAt)
        var replay = Format.curlLines(for: record, base: "http://h:1")
        #expect(!replay.lines.joined().contains("--data"))
        #expect(replay.note?.contains("5,000 bytes") == true && replay.note?.contains("first 2,048") == true)
        // A body with NUL bytes comes from printf (no shell word can hold a NUL).
        record.requestBody = RequestBodyReceived(id: record.id, bytes: 3, preview: [0x61, 0, 0x62], complete: true, time: record.receivedAt)
        replay = Format.curlLines(for: record, base: "http://h:1")
        #expect(replay.lines.last == "  --data-binary @<(printf 'a\\000b')" && replay.note == nil, "\(replay)")
        record.requestBody = RequestBodyReceived(id: record.id, bytes: 3, preview: [0x61, 0x62, 0x63], complete: false, time: record.receivedAt)
        #expect(Format.curlLines(for: record, base: "http://h:1").note?.contains("closed before it ended") == true)
        record.requestBody = RequestBodyReceived(id: record.id, bytes: 3, preview: [0x61, 0x62, 0x63], complete: false, framingBroke: true, time: record.receivedAt)
        #expect(Format.curlLines(for: record, base: "http://h:1").note?.contains("framing broke") == true)
    }

    /// A binary body's replay gives curl exactly the bytes that were sent, NULs, newlines, quotes
    /// and all, both as the detail view shows it and on one line.
    @Test(.enabled(if: FileManager.default.isExecutableFile(atPath: "/bin/bash")))
    func binaryBodyReplaySendsTheSameBytes() throws {
        var record = RequestRecordFixture.make(method: "POST", target: "/up", headers: [("Content-Type", "application/octet-stream")])
        var samples: [[UInt8]] = [[0], [0x00, 0x0A, 0x0A, 0x27, 0x25, 0x5C, 0x0D, 0xFF, 0x41], Array("a\u{0}b\nc'%s日本\n".utf8)]
        var generator = SystemRandomNumberGenerator()
        for _ in 0..<20 { samples.append([0] + (0..<Int.random(in: 1...300, using: &generator)).map { _ in UInt8.random(in: 0...255, using: &generator) }) }
        // curl stands in for the network: it writes the file its --data-binary names.
        let fake = "curl() { while [ $# -gt 0 ]; do if [ \"$1\" = --data-binary ]; then cat \"${2#@}\"; fi; shift; done; }\n"
        for sample in samples {
            record.requestBody = RequestBodyReceived(id: record.id, bytes: Int64(sample.count), preview: sample, complete: true, time: record.receivedAt)
            let lines = Format.curlLines(for: record, base: "http://h:1")
            #expect(lines.note == nil)
            for command in [lines.lines.joined(separator: "\n"), Format.curlCommand(for: record, base: "http://h:1")] {
                #expect(!command.unicodeScalars.contains { $0 != "\n" && $0 != "\\" && TextSanitizer.needsEscape($0) }, "\(command)")
                #expect(try Self.bash(fake + command) == sample, "\(command)")
            }
        }
    }

    @Test func bodyLinesShowTextAsLinesAndBinaryAsHex() {
        func body(_ bytes: [UInt8], of total: Int? = nil, complete: Bool = true, framingBroke: Bool = false) -> RequestBodyReceived {
            RequestBodyReceived(
                id: RequestID(connection: ConnectionID(1), index: 1),
                bytes: Int64(total ?? bytes.count),
                preview: bytes,
                complete: complete,
                framingBroke: framingBroke,
                time: EventScript.time(0)
            )
        }
        #expect(Format.bodyLines(body(Array("{\n\t\"a\": 1\r\n}\n".utf8))) == ["{", "    \"a\": 1\r", "}"])
        // A few control bytes stay text (shown escaped); mostly control bytes are binary.
        #expect(Format.bodyLines(body(Array("colour \u{1B}[31mred\u{1B}[0m and more text here".utf8))).count == 1)
        let hex = Format.bodyLines(body(Array(0..<20)))
        #expect(hex == [
            "0000  00 01 02 03 04 05 06 07  08 09 0a 0b 0c 0d 0e 0f  ................",
            "0010  10 11 12 13                                       ....",
        ])
        #expect(Format.bodyLines(body([0x41, 0x5C, 0x42, 0xFF])) == ["0000  41 5c 42 ff                                       A.B."])
        // A preview cut inside a character is still text; what was not kept is said.
        let cut = Array("ab日".utf8).dropLast()
        #expect(Format.bodyLines(body(Array(cut), of: 100)) == ["ab", "… 96 more bytes not kept"])
        #expect(Format.bodyLines(body(Array("x".utf8), complete: false)) == ["x", "(the connection closed before the body ended)"])
        #expect(Format.bodyLines(body(Array("x".utf8), complete: false, framingBroke: true)) == ["x", "(the body's chunked framing broke after these bytes)"])
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

/// `y`'s script: what it holds, where it goes, and a folder it refuses.
@Suite struct ReplayScriptTests {
    static func temporaryFolder() throws -> String {
        var template = Array("/tmp/replay-test-XXXXXX".utf8CString)
        let made = template.withUnsafeMutableBufferPointer { mkdtemp($0.baseAddress!) }
        try #require(made != nil)
        return String(cString: template)
    }

    @Test func theScriptIsTheShownCommandAndRunsInBash() throws {
        var record = RequestRecordFixture.make(method: "POST", target: "/cgi-bin/x?\u{1B}", headers: [("Host", "h:1"), ("X-Quote", "it's")])
        let body = Array("a=1\n".utf8)
        record.requestBody = RequestBodyReceived(id: record.id, bytes: 4, preview: body, complete: true, time: record.receivedAt)
        let text = ReplayScript.text(for: record, base: "http://h:1")
        #expect(text.hasPrefix("#!/usr/bin/env bash\n# POST /cgi-bin/x?\\x1b as request #1.1 sent it"))
        #expect(text.hasSuffix(Format.curlLines(for: record, base: "http://h:1").lines.joined(separator: "\n") + "\n"))
        #expect(!text.unicodeScalars.contains { $0.value < 0x20 && $0 != "\n" })

        let folder = try Self.temporaryFolder()
        defer { _ = try? FileManager.default.removeItem(atPath: folder) }
        let path = try ReplayScript.save(record, base: "http://h:1", in: folder)
        #expect(path == folder + "/replay-1-1.sh")
        #expect(try String(contentsOfFile: path, encoding: .utf8) == text)
        let mode = try #require(try FileManager.default.attributesOfItem(atPath: path)[.posixPermissions] as? Int)
        #expect(mode == 0o700)
        // bash accepts it as written (syntax only: nothing is sent).
        let bash = Process()
        bash.executableURL = URL(fileURLWithPath: "/bin/bash")
        bash.arguments = ["-n", path]
        try bash.run()
        bash.waitUntilExit()
        #expect(bash.terminationStatus == 0)
    }

    @Test func scriptsGoToAPrivateFolderOfThisUserAndNowhereElse() throws {
        let tmp = try Self.temporaryFolder()
        defer { _ = try? FileManager.default.removeItem(atPath: tmp) }
        let folder = try ReplayScript.folder(environment: tmp + "/")
        #expect(folder == "\(tmp)/swift-serve-tui-\(getuid())")
        let mode = try #require(try FileManager.default.attributesOfItem(atPath: folder)[.posixPermissions] as? Int)
        #expect(mode == 0o700)
        #expect(try ReplayScript.folder(environment: tmp) == folder)  // made once, then reused
        // Someone else's link, or a folder others may enter, is refused.
        let other = try Self.temporaryFolder()
        defer { _ = try? FileManager.default.removeItem(atPath: other) }
        try FileManager.default.createSymbolicLink(atPath: "\(other)/swift-serve-tui-\(getuid())", withDestinationPath: tmp)
        #expect(throws: ReplayScript.Failure.self) { try ReplayScript.folder(environment: other) }
        try FileManager.default.removeItem(atPath: "\(other)/swift-serve-tui-\(getuid())")
        try FileManager.default.createDirectory(atPath: "\(other)/swift-serve-tui-\(getuid())", withIntermediateDirectories: false, attributes: [.posixPermissions: 0o777])
        #expect(throws: ReplayScript.Failure.self) { try ReplayScript.folder(environment: other) }
    }
}
