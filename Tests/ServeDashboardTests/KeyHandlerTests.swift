@testable import ServeDashboard
import Testing

@testable import ServeEngine

/// Keys as a pure function of state: navigation, follow, filters, pause, prompts, effects.
@Suite struct KeyHandlerTests {
    let completer = TableCompleter(folders: ["/srv/", "/srv/site/", "/srv/sites-old/", "/tmp/", "/home/me/www/"])

    private func model(requests: Int = 5) -> DashboardModel {
        var model = DashboardModel(root: "/srv", now: EventScript.time(0))
        var events: [ServerEvent] = [EventScript.opened(1, at: 0), EventScript.opened(2, at: 0)]
        for i in 0..<requests {
            events += EventScript.request(1, i + 1, "/r\(i)", status: i == 2 ? 404 : 200, method: i == 4 ? "POST" : "GET", at: Double(i))
        }
        model.apply(EventScript.batch(events))
        return model
    }

    private func press(_ keys: [Key], _ ui: inout DashboardUI, _ model: DashboardModel) -> [DashboardEffect] {
        keys.flatMap { KeyHandler.handle($0, ui: &ui, model: model, completer: self.completer) }
    }

    @Test func followsTheNewestUntilTheUserMoves() {
        let model = self.model()
        var ui = DashboardUI()
        #expect(ui.selectedIndex(in: ui.visibleRequests(model)) == 4)
        _ = self.press([.up, .character("k")], &ui, model)
        #expect(!ui.follow)
        #expect(ui.selectedRequest == EventScript.id(1, 3))
        _ = self.press([.character("g")], &ui, model)
        #expect(ui.selectedRequest == EventScript.id(1, 1))
        _ = self.press([.character("G")], &ui, model)
        #expect(ui.follow)
        _ = self.press([.up, .character("F")], &ui, model)
        #expect(ui.follow && ui.selectedRequest == nil)
    }

    @Test func enterOpensTheSelectedDetailAndEscCloses() {
        let model = self.model()
        var ui = DashboardUI()
        _ = self.press([.up, .enter], &ui, model)
        #expect(ui.overlay == .requestDetail(EventScript.id(1, 4), scroll: 0))
        _ = self.press([.pageDown, .down], &ui, model)
        #expect(ui.overlay == .requestDetail(EventScript.id(1, 4), scroll: 11))
        _ = self.press([.escape], &ui, model)
        #expect(ui.overlay == .none)
        _ = self.press([.tab, .down, .enter], &ui, model)
        #expect(ui.overlay == .sessionDetail(ConnectionID(2), scroll: 0))
    }

    @Test func wOnTheMainScreenAsksToSaveTheListAsHAR() {
        let model = self.model()
        var ui = DashboardUI()
        #expect(self.press([.character("w")], &ui, model) == [.saveHAR])
        // In a prompt it is a letter typed, not a command.
        _ = self.press([.character("/")], &ui, model)
        #expect(self.press([.character("w")], &ui, model).isEmpty)
        // An empty list writes no empty file; it says why.
        _ = self.press([.character("x"), .enter], &ui, model)
        #expect(self.press([.character("w")], &ui, model).isEmpty)
        #expect(ui.message == "nothing to save: no request matches the filter")
        #expect(self.press([.character("w")], &ui, self.model(requests: 0)).isEmpty)
        #expect(ui.message == "nothing to save: no request matches the filter")
        _ = self.press([.escape], &ui, model)
        #expect(self.press([.character("w")], &ui, self.model(requests: 0)).isEmpty)
        #expect(ui.message == "nothing to save: the list is empty")
    }

    @Test func yInARequestsDetailAsksToSaveItsReplay() {
        let model = self.model()
        var ui = DashboardUI()
        #expect(self.press([.character("y")], &ui, model).isEmpty)
        _ = self.press([.up, .enter], &ui, model)
        #expect(self.press([.character("y")], &ui, model) == [.saveReplay(EventScript.id(1, 4))])
        #expect(ui.overlay == .requestDetail(EventScript.id(1, 4), scroll: 0))
        _ = self.press([.escape, .tab, .down, .enter], &ui, model)
        #expect(self.press([.character("y")], &ui, model).isEmpty)
    }

    /// End goes to a detail view's last page, scrolling past it stays there, and ↑ moves at once.
    @Test func detailScrollStopsAtTheLastPage() throws {
        let model = RendererGoldenTests.scene()
        var ui = DashboardUI()
        ui.overlay = .requestDetail(EventScript.id(3, 2), scroll: 0)
        _ = self.press([.end], &ui, model)
        DashboardRenderer.clampScroll(&ui, model: model, width: 100, height: 24)
        guard case .requestDetail(_, let last) = ui.overlay else { throw CancellationError() }
        #expect(last > 0)
        let screen = DashboardRenderer.render(model, ui, width: 100, height: 24).text
        #expect(screen.contains("--data-raw") && screen.contains("lines \(last + 1)-"))
        _ = self.press([.pageDown, .down, .down], &ui, model)
        DashboardRenderer.clampScroll(&ui, model: model, width: 100, height: 24)
        #expect(ui.overlay == .requestDetail(EventScript.id(3, 2), scroll: last))
        _ = self.press([.up], &ui, model)
        #expect(ui.overlay == .requestDetail(EventScript.id(3, 2), scroll: last - 1))
        // A taller screen shows more, so the same position is clamped further up.
        DashboardRenderer.clampScroll(&ui, model: model, width: 100, height: 40)
        guard case .requestDetail(_, let taller) = ui.overlay else { throw CancellationError() }
        #expect(taller < last - 1)
    }

    @Test func filterCyclesAndSearchNarrows() {
        let model = self.model()
        var ui = DashboardUI()
        _ = self.press([.character("f")], &ui, model)
        #expect(ui.filter == .success)
        #expect(ui.visibleRequests(model).count == 4)
        _ = self.press([.character("f"), .character("f")], &ui, model)
        #expect(ui.visibleRequests(model).map(\.target) == ["/r2"])
        _ = self.press([.escape], &ui, model)
        #expect(ui.filter == .all)
        _ = self.press([.character("/"), .character("r"), .character("3"), .enter], &ui, model)
        #expect(ui.search == "r3")
        #expect(ui.visibleRequests(model).map(\.target) == ["/r3"])
    }

    /// The list shows paths decoded, as a browser's percent-encoded requests read; search finds them
    /// by what is shown and by what was sent.
    @Test func searchFindsPathsAsShownAndAsSent() {
        var model = self.model()
        model.apply(
            EventScript.batch(
                EventScript.request(4, 1, "/%E6%97%A5%E6%9C%AC/CAF%C3%89%20menu.txt", at: 10)
                    + EventScript.request(4, 2, "/%5B(*%5C", at: 11)
                    + EventScript.request(4, 3, "/%FF%FE", at: 12)
            )
        )
        var ui = DashboardUI()
        for (query, expected) in [
            ("日本", ["/%E6%97%A5%E6%9C%AC/CAF%C3%89%20menu.txt"]),
            ("café m", ["/%E6%97%A5%E6%9C%AC/CAF%C3%89%20menu.txt"]),
            ("%20menu", ["/%E6%97%A5%E6%9C%AC/CAF%C3%89%20menu.txt"]),
            ("[(*\\", ["/%5B(*%5C"]),
            ("%ff", ["/%FF%FE"]),
            ("r3", ["/r3"]),
        ] {
            ui.search = query
            #expect(ui.visibleRequests(model).map(\.target) == expected, "\(query)")
        }
    }

    @Test func pauseFreezesTheListButNotTheModel() {
        var model = self.model()
        var ui = DashboardUI()
        _ = self.press([.character("p")], &ui, model)
        #expect(ui.isPaused)
        model.apply(EventScript.batch(EventScript.request(1, 9, "/new", at: 9)))
        #expect(ui.visibleRequests(model).count == 5)
        #expect(model.requests.count == 6)
        _ = self.press([.character("p")], &ui, model)
        #expect(ui.visibleRequests(model).count == 6)
    }

    @Test func rootPromptEditsCompletesAndAsksForTheChange() {
        let model = self.model()
        var ui = DashboardUI()
        _ = self.press([.character("R")], &ui, model)
        guard case .rootPrompt(let editor, nil) = ui.overlay else {
            Issue.record("no prompt: \(ui.overlay)")
            return
        }
        #expect(editor.string == "/srv/")
        _ = self.press([.character("s"), .tab], &ui, model)
        if case .rootPrompt(let editor, let hint) = ui.overlay {
            #expect(editor.string == "/srv/site")
            #expect(hint?.contains("2 matches") == true)
        }
        _ = self.press([.character("/"), .tab], &ui, model)
        if case .rootPrompt(let editor, _) = ui.overlay { #expect(editor.string == "/srv/site/") }
        #expect(self.press([.enter], &ui, model) == [.changeRoot("/srv/site/")])
        _ = self.press([.control("u"), .character("~"), .character("/"), .character("w"), .tab], &ui, model)
        #expect(self.press([.enter], &ui, model) == [.changeRoot("/home/me/www/")])
        _ = self.press([.escape], &ui, model)
        #expect(ui.overlay == .none)
    }

    @Test func effectsForQuitStopAndClear() {
        let model = self.model()
        var ui = DashboardUI()
        #expect(self.press([.character("S")], &ui, model) == [.toggleServing])
        #expect(self.press([.character("c")], &ui, model) == [.clearRequests])
        #expect(self.press([.character("?")], &ui, model).isEmpty)
        #expect(ui.overlay == .help)
        #expect(self.press([.character("q")], &ui, model).isEmpty, "q closes help first")
        #expect(self.press([.character("q")], &ui, model) == [.quit])
        #expect(self.press([.control("c")], &ui, model) == [.quit])
    }

    @Test func lineEditorEditsLikeAShell() {
        var editor = LineEditor("/srv/site")
        _ = editor.handle(.control("w"))
        #expect(editor.string == "/srv/")
        _ = editor.handle(.home)
        _ = editor.handle(.delete)
        #expect(editor.string == "srv/")
        _ = editor.handle(.end)
        editor.insert("日本")
        _ = editor.handle(.backspace)
        #expect(editor.string == "srv/日")
        _ = editor.handle(.left)
        _ = editor.handle(.control("k"))
        #expect(editor.string == "srv/")
        _ = editor.handle(.control("u"))
        #expect(editor.string.isEmpty)
    }
}

@Suite struct ShownURLTests {
    @Test func atMostSixURLsAreNotedThenHowManyMore() {
        let urls = (1...9).map { "http://10.0.0.\($0):8000/" }
        #expect(DashboardApp.shownURLs(Array(urls.prefix(6))) == Array(urls.prefix(6)))
        #expect(DashboardApp.shownURLs(urls) == Array(urls.prefix(5)) + ["(4 more addresses)"])
    }
}
