import Foundation
@testable import ServeDashboard
import Testing

@testable import ServeEngine

/// Whole screens rendered to text and compared with files in `Golden/`.
///
/// Re-record after an intended change with `RECORD_GOLDEN=1 swift test --filter RendererGoldenTests`,
/// then review the diff of the `.txt` files like any other change.
@Suite struct RendererGoldenTests {
    /// A busy minute: keep-alive sessions, every status class, a download in flight, CJK and hostile text.
    static func scene() -> DashboardModel {
        var model = DashboardModel(root: "/home/dev/projects/site", listening: ["[::]:8000"], now: EventScript.time(0))
        var events: [ServerEvent] = [
            .serverStateChanged(.running, listening: ["[::]:8000"], time: EventScript.time(0)),
            EventScript.opened(1, at: 1), EventScript.opened(2, peer: "192.168.1.23", at: 2), EventScript.opened(3, peer: "::1", at: 3),
        ]
        events += EventScript.request(1, 1, "/", bytes: 1411, ms: 0.7, at: 1)
        events += EventScript.request(1, 2, "/css/site.css", bytes: 341, ms: 0.4, at: 1.1)
        events += EventScript.request(1, 3, "/js/app.js", bytes: 436, ms: 0.5, at: 1.2)
        events += EventScript.request(2, 1, "/docs/", bytes: 2131, ms: 0.6, peer: "192.168.1.23", at: 2)
        events += EventScript.request(2, 2, "/nope", status: 404, bytes: 335, ms: 0.3, peer: "192.168.1.23", at: 3)
        events += EventScript.request(2, 3, "/docs", status: 301, bytes: 328, ms: 0.3, peer: "192.168.1.23", at: 4)
        events += EventScript.request(3, 1, "/%E6%97%A5%E6%9C%AC%E8%AA%9E/%E3%81%93%E3%82%93%E3%81%AB%E3%81%A1%E3%81%AF.txt", bytes: 28, ms: 0.4, peer: "::1", at: 5)
        events += EventScript.request(3, 2, "/cgi-bin/crash", status: 500, bytes: 352, ms: 12.5, method: "POST", peer: "::1", at: 6)
        let form = Array("name=Ada+L&note=it's \u{1B}[2Jgone\\now\n".utf8)
        events.append(.requestBody(RequestBodyReceived(id: EventScript.id(3, 2), bytes: Int64(form.count), preview: form, complete: true, time: EventScript.time(6))))
        events.append(EventScript.received(1, 4, "GET", "/%1B]0;pwned%07/\u{202E}txt.exe", headers: [("User-Agent", "\u{1B}[31mevil")], at: 7))
        events.append(EventScript.finished(1, 4, "GET", "/%1B]0;pwned%07/\u{202E}txt.exe", status: 404, bytes: 335, ms: 0.2, at: 7))
        events.append(EventScript.received(2, 4, "GET", "/videos/big-demo.mp4", peer: "192.168.1.23", at: 50))
        events.append(EventScript.started(2, 4, status: 200, length: 104_857_600, at: 50))
        events.append(EventScript.progress(2, 4, bytes: 47_185_920, of: 104_857_600, at: 58))
        events.append(.log(LogLine(level: .warning, message: "closing 1 connection(s) still busy after 5.0s", time: EventScript.time(9))))
        events.append(.log(LogLine(level: .info, message: "CGI stderr: \u{1B}[1mbold\u{1B}[0m", time: EventScript.time(10))))
        var totals = EventScript.totals(for: events)
        totals.bytesSent += 47_185_920
        model.apply(EventScript.batch(events, dropped: 12, totals: totals))
        model.tick(now: EventScript.time(0.5))
        model.tick(now: EventScript.time(59.5))
        return model
    }

    static let sizes: [(Int, Int)] = [(80, 24), (120, 40), (200, 60), (30, 8)]

    @Test(arguments: Self.sizes)
    func mainScreen(width: Int, height: Int) throws {
        let canvas = DashboardRenderer.render(Self.scene(), DashboardUI(), width: width, height: height)
        try Self.compare(canvas, name: "main-\(width)x\(height)")
    }

    @Test func detailOverlay() throws {
        var ui = DashboardUI()
        ui.overlay = .requestDetail(EventScript.id(1, 4), scroll: 0)
        try Self.compare(DashboardRenderer.render(Self.scene(), ui, width: 100, height: 30), name: "detail-100x30")
        // A POST with a body: the body's lines, and its replay with the body quoted for the shell.
        ui.overlay = .requestDetail(EventScript.id(3, 2), scroll: 0)
        try Self.compare(DashboardRenderer.render(Self.scene(), ui, width: 100, height: 40), name: "detail-post-100x40")
    }

    /// A request that was not parsed: why, what arrived (escaped), and printf | nc to send it again.
    @Test func unparsedRequestDetail() throws {
        var model = Self.scene()
        let sent = Array("GET /日本 HTTP/1.1\r\nHost: localhost:8000\r\nX-Evil: \u{1B}]0;pwned\u{07}\r\n\r\n".utf8)
        let events = EventScript.unparsed(4, 1, bytes: sent, at: 59)
        var totals = model.totals
        totals.requests += 1
        totals.count(status: 400)
        model.apply(EventScript.batch(events, totals: totals))
        var ui = DashboardUI()
        ui.overlay = .requestDetail(EventScript.id(4, 1), scroll: 0)
        try Self.compare(DashboardRenderer.render(model, ui, width: 100, height: 40), name: "detail-unparsed-100x40")
    }

    @Test func rootPromptWithError() throws {
        var ui = DashboardUI()
        ui.overlay = .rootPrompt(LineEditor("/no/such/place"), error: "/no/such/place: no such directory — still serving /home/dev/projects/site")
        try Self.compare(DashboardRenderer.render(Self.scene(), ui, width: 80, height: 24), name: "root-prompt-80x24")
    }

    @Test func helpAndFilteredPausedList() throws {
        var ui = DashboardUI()
        ui.overlay = .help
        let help = DashboardRenderer.render(Self.scene(), ui, width: 80, height: 24)
        try Self.compare(help, name: "help-80x24")
        // On a standard terminal every line of help shows whole (a fixed width once cut one short).
        for (key, text) in Overlays.helpLines {
            #expect(help.text.contains(text), "\(key): \(text)")
        }
        var filtered = DashboardUI()
        filtered.filter = .clientError
        filtered.frozen = Self.scene().requests.all
        try Self.compare(DashboardRenderer.render(Self.scene(), filtered, width: 120, height: 20), name: "filtered-paused-120x20")
    }

    @Test func everySizeKeepsTheGridIntactAndNoRawControlBytes() {
        let model = Self.scene()
        var overlays: [Overlay] = [.none, .help, .requestDetail(EventScript.id(2, 4), scroll: 3), .requestDetail(EventScript.id(3, 2), scroll: 0), .rootPrompt(LineEditor("/x"), error: "nope")]
        overlays.append(.searchPrompt(LineEditor("日本")))
        for overlay in overlays {
            var ui = DashboardUI()
            ui.overlay = overlay
            for width in stride(from: 1, through: 230, by: 7) {
                for height in [1, 2, 5, 9, 10, 11, 17, 24, 41, 60] {
                    let canvas = DashboardRenderer.render(model, ui, width: width, height: height)
                    #expect(canvas.rows.count == height)
                    for row in canvas.rows {
                        #expect(CellWidth.of(row) == width, "\(width)x\(height) \(overlay): \(row)")
                        #expect(!row.unicodeScalars.contains { $0.value < 0x20 || (0x7F...0x9F).contains($0.value) || $0.properties.generalCategory == .format })
                    }
                }
            }
        }
    }

    // MARK: Golden files

    static let goldenFolder = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Golden")

    static func compare(_ canvas: Canvas, name: String, sourceLocation: SourceLocation = #_sourceLocation) throws {
        let url = Self.goldenFolder.appendingPathComponent(name + ".txt")
        let actual = canvas.text + "\n"
        if ProcessInfo.processInfo.environment["RECORD_GOLDEN"] != nil {
            try FileManager.default.createDirectory(at: Self.goldenFolder, withIntermediateDirectories: true)
            try actual.write(to: url, atomically: true, encoding: .utf8)
            return
        }
        guard let expected = try? String(contentsOf: url, encoding: .utf8) else {
            Issue.record("missing golden file \(name).txt; record it with RECORD_GOLDEN=1", sourceLocation: sourceLocation)
            return
        }
        #expect(actual == expected, "screen differs from Golden/\(name).txt:\n\(actual)", sourceLocation: sourceLocation)
    }
}
