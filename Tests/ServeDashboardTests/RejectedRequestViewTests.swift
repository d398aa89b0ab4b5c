import Foundation
import Testing

@testable import ServeDashboard
@testable import ServeEngine

/// What the dashboard makes of a request answered with an error page, and of one that was not
/// parsed: why, what arrived, and a command that sends the same bytes again.
@Suite struct RejectedRequestViewTests {
    static func model(_ events: [ServerEvent]) -> DashboardModel {
        var model = DashboardModel(root: "/srv", listening: ["127.0.0.1:8931"], now: EventScript.time(0))
        model.apply(EventScript.batch(events))
        return model
    }

    static func detail(_ model: DashboardModel, _ id: RequestID) -> [String] {
        let context = DashboardRenderer.Context(utcOffset: 0)
        return Overlays.requestDetailLines(id, model: model, ui: DashboardUI(), context: context).map(\.text)
    }

    @Test func anUnparsedRequestIsListedByItsRequestLineTargetWhenItHasOne() {
        let good = Array("GET /docs/a.txt HTTP/1.1\r\nHo st: x\r\n\r\n".utf8)
        let tls: [UInt8] = [0x16, 0x03, 0x01, 0x02, 0x00, 0x01, 0x20, 0x2F, 0x20]
        let pipelined = Array("GET /first HTTP/1.1\r\n\r\nGET /second HTTP/1.1\r\nbad\r\n\r\n".utf8)
        let model = Self.model(
            EventScript.unparsed(1, 1, bytes: good, at: 1)
                + EventScript.unparsed(2, 1, method: "-", bytes: tls, parserError: "invalid HTTP method", at: 2)
                + EventScript.unparsed(3, 2, method: "-", bytes: pipelined, includesEarlier: true, at: 3)
        )
        let records = model.requests.all
        #expect(records.map(\.target) == ["/docs/a.txt", "-", "-"])
        #expect(records[0].problem?.parserError == "invalid character in header")
        #expect(records[0].problem?.received == good)
    }

    @Test func theDetailSaysWhyAndShowsWhatArrivedInsteadOfHeaders() {
        let sent = Array("GET /a HTTP/1.1\r\nX-Evil: \u{1B}]0;x\u{07}\r\n\r\n".utf8)
        let model = Self.model(
            EventScript.unparsed(1, 1, bytes: sent, at: 1)
                + [EventScript.received(2, 1, "GET", "/missing", at: 2),
                   EventScript.started(2, 1, status: 404, length: 335, problem: RequestProblem(message: "File not found"), at: 2),
                   EventScript.finished(2, 1, "GET", "/missing", status: 404, bytes: 335, ms: 0.2, at: 2)]
        )
        let unparsed = Self.detail(model, EventScript.id(1, 1))
        #expect(unparsed[0] == "GET /a (not parsed)")
        #expect(unparsed.contains("Why       Bad request syntax (invalid character in header)"))
        let received = unparsed.firstIndex(of: "Received, not parsed (\(sent.count) bytes)")
        #expect(received != nil)
        if let received {
            // Line by line with each CR kept (the canvas escapes it, and the escape sequence, when drawn).
            #expect(Array(unparsed[(received + 1)...(received + 3)]) == ["  GET /a HTTP/1.1\r", "  X-Evil: \u{1B}]0;x\u{07}\r", "  \r"])
        }
        #expect(!unparsed.contains { $0.hasPrefix("Request headers") })
        #expect(unparsed.contains("Replay the same bytes") && !unparsed.contains("Replay with curl"))
        #expect(unparsed.contains { $0.hasPrefix("printf 'GET /a HTTP/1.1\\r\\n'") })

        // The parser's words are added when the message does not have them.
        var lineAtFault = model
        lineAtFault.apply(EventScript.batch([
            EventScript.received(3, 1, "-", "-", headers: [], at: 3),
            EventScript.started(3, 1, status: 400, length: 350, problem: RequestProblem(message: "Bad request syntax ('GARBAGE')", parserError: "invalid HTTP method", received: Array("GARBAGE\r\n".utf8), receivedCount: 9), at: 3),
        ]))
        #expect(Self.detail(lineAtFault, EventScript.id(3, 1)).contains("Why       Bad request syntax ('GARBAGE') (HTTP parser: invalid HTTP method)"))

        // An explanation beyond the status's usual one (a CGI script's fault) follows on its own line.
        var script = model
        script.apply(EventScript.batch([
            EventScript.received(4, 1, "GET", "/cgi-bin/bad.sh", at: 4),
            EventScript.started(4, 1, status: 502, length: 390, problem: RequestProblem(message: "Bad CGI response", explanation: "The script /cgi-bin/bad.sh wrote an invalid response: no output."), at: 4),
        ]))
        let scriptLines = Self.detail(script, EventScript.id(4, 1))
        let why = scriptLines.firstIndex(of: "Why       Bad CGI response")
        #expect(why.map { scriptLines[$0 + 1] } == "          The script /cgi-bin/bad.sh wrote an invalid response: no output.")

        let missing = Self.detail(model, EventScript.id(2, 1))
        #expect(missing.contains("Why       File not found"))
        #expect(missing.contains { $0.hasPrefix("Request headers (2)") })
        #expect(missing.contains("Replay with curl") && !missing.contains { $0.hasPrefix("Received, not parsed") })
    }

    @Test func theDetailNamesAnotherProtocolAndAPipelinedRead() {
        let tls: [UInt8] = [0x16, 0x03, 0x01, 0x02, 0x00, 0x01, 0x00, 0x01, 0xFC, 0x03, 0x03]
        let model = Self.model(
            EventScript.unparsed(1, 1, method: "-", bytes: tls, parserError: "invalid HTTP method", at: 1)
                + EventScript.unparsed(2, 1, method: "PRI", bytes: Array("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n".utf8), at: 2)
                + EventScript.unparsed(3, 2, method: "-", bytes: Array("GET / HTTP/1.1\r\n\r\nGET\u{1}".utf8), includesEarlier: true, at: 3)
        )
        let handshake = Self.detail(model, EventScript.id(1, 1))
        #expect(handshake.contains { $0.contains("TLS handshake") && $0.contains("http://") })
        #expect(handshake.contains { $0.hasPrefix("  0000  16 03 01 02 00 01 00 01  fc 03 03") })
        #expect(Self.detail(model, EventScript.id(2, 1)).contains { $0.contains("HTTP/2's connection preface") })
        #expect(!Self.detail(model, EventScript.id(2, 1)).contains { $0.contains("TLS") })
        #expect(Self.detail(model, EventScript.id(3, 2)).contains { $0.contains("It came pipelined") })
    }

    /// What the server wrote from memory is shown after the response headers; a file's answer has none.
    @Test func theDetailShowsAResponseBodyWhenOneWasKept() {
        let page = Array("<h1>Not here</h1>\n<p>\u{1B}[2J</p>\n".utf8)
        let model = Self.model([
            EventScript.received(1, 1, "GET", "/nope", at: 1),
            EventScript.started(1, 1, status: 404, length: Int64(page.count), at: 1),
            .responseBody(ResponseBodySent(id: EventScript.id(1, 1), bytes: 5000, preview: page, time: EventScript.time(1))),
            EventScript.finished(1, 1, "GET", "/nope", status: 404, bytes: 5000, ms: 1, at: 1),
            EventScript.received(1, 2, "GET", "/file.txt", at: 2),
            EventScript.finished(1, 2, "GET", "/file.txt", status: 200, bytes: 10, ms: 1, at: 2),
        ])
        let lines = Self.detail(model, EventScript.id(1, 1))
        let start = lines.firstIndex(of: "Response body (5,000 bytes)")
        #expect(start.map { Array(lines[($0 + 1)...($0 + 3)]) } == ["  <h1>Not here</h1>", "  <p>\u{1B}[2J</p>", "  … \(Format.count(5000 - page.count)) more bytes not kept"])
        #expect(!Self.detail(model, EventScript.id(1, 2)).contains { $0.hasPrefix("Response body") })
    }

    @Test func theHostAndPortOfABase() {
        #expect(Format.hostAndPort("http://127.0.0.1:8931") == ("127.0.0.1", "8931"))
        #expect(Format.hostAndPort("http://[::1]:8000") == ("::1", "8000"))
        #expect(Format.hostAndPort("http://[::]") == ("::1", "80"))
        #expect(Format.hostAndPort("http://0.0.0.0:8000") == ("127.0.0.1", "8000"))
        #expect(Format.hostAndPort("http://example") == ("example", "80"))
    }

    @Test func aRequestKeptInPartIsNotReplayed() {
        let bytes = Array(repeating: UInt8(ascii: "a"), count: 100)
        let replay = Format.rawReplay(bytes, of: 5000, base: "http://h:1")
        #expect(replay.lines.isEmpty)
        #expect(replay.note == "Not replayed: 5,000 bytes arrived, only the first 100 were kept.")
    }

    /// What the detail view shows (lines joined by its `\` continuations) and the one-line form both
    /// give printf exactly the bytes that arrived, whatever they are; nothing on screen is raw.
    @Test(.enabled(if: FileManager.default.isExecutableFile(atPath: "/bin/bash")))
    func theReplayCommandSendsTheSameBytes() throws {
        let samples: [[UInt8]] = [
            Array("GET /a HTTP/1.1\r\nHost: x\r\n\r\n".utf8),
            Array("GET /%41%%20 HTTP/1.1\r\nX: it's \\ back\\slash\r\n\r\nno newline at the end".utf8),
            Array("GET /日本語/\u{202E}txt HTTP/1.1\r\nX-Esc: \u{1B}]0;t\u{07}\t\r\n\r\n".utf8),
            [0x16, 0x03, 0x01, 0x00, 0x0A, 0xFF, 0xFE, 0x27, 0x5C, 0x25, 0x0A, 0x00, 0xE6, 0x97],
            Array("\n\n\n".utf8),
        ]
        for sample in samples {
            var record = RequestRecordFixture.make(method: "GET", target: "-", headers: [])
            record.problem = RequestProblem(message: "Bad request syntax", parserError: "x", received: sample, receivedCount: sample.count)
            let lines = Format.curlLines(for: record, base: "http://h:1")
            #expect(lines.note == nil)
            for command in [lines.lines.joined(separator: "\n"), Format.curlCommand(for: record, base: "http://h:1")] {
                #expect(!command.unicodeScalars.contains { $0 != "\n" && $0 != "\\" && TextSanitizer.needsEscape($0) }, "\(command)")
                #expect(command.hasSuffix(" | nc h 1"))
                // nc stands in for the network: it hands on what printf wrote.
                #expect(try CanvasTests.bash("nc() { cat; }\n" + command) == sample, "\(command)")
            }
        }
    }

    /// A request listed from its outcome alone (a flood) says its headers were not recorded, in the
    /// detail, the replay and the HAR, rather than showing none as if the client had sent none; a
    /// request seen whole still lists its own.
    @Test func aRequestListedFromItsOutcomeSaysItsHeadersWereNotRecorded() throws {
        guard case .requestFinished(var bare) = EventScript.finished(1, 2, "GET", "/flood", status: 200, bytes: 10, ms: 1, at: 2) else {
            Issue.record("not a finished event")
            return
        }
        bare.hadDetail = false
        let model = Self.model(
            EventScript.request(1, 1, "/calm", at: 1) + [.requestFinished(bare)]
                + [EventScript.received(1, 3, "GET", "/left", at: 3), EventScript.finished(1, 3, "GET", "/left", status: 0, bytes: 0, ms: 1, outcome: .abortedByClient, at: 3)]
        )
        let flood = Self.detail(model, EventScript.id(1, 2))
        #expect(flood.contains { $0.hasPrefix("Headers not recorded") })
        #expect(!flood.contains { $0.hasPrefix("Request headers") || $0.hasPrefix("No response headers") })
        let calm = Self.detail(model, EventScript.id(1, 1))
        #expect(calm.contains { $0.hasPrefix("Request headers (") } && calm.contains { $0.hasPrefix("Response headers (") })
        #expect(!calm.contains { $0.hasPrefix("Headers not recorded") })
        #expect(Self.detail(model, EventScript.id(1, 3)).contains("No response was sent"))

        let records = model.requests.all
        let floodRecord = try #require(records.first { $0.target == "/flood" })
        #expect(Format.curlLines(for: floodRecord, base: "http://h:1").note?.contains("Headers not recorded") == true)
        #expect(Format.curlLines(for: records[0], base: "http://h:1").note == nil)
        let har = HARExport.text(for: records, base: { _ in "http://h:1" })
        #expect(har.components(separatedBy: "headers not recorded").count == 2, "only the flood's entry says so")
    }
}
