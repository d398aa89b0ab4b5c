import ServeEngine

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The dashboard's main loop (htop's `ScreenManager`): read a key or time out, drain the engine's
/// events, update the model, handle the key, redraw. Runs on the main thread; the engine never waits
/// for it: events are drained at the loop's pace, so a flood of requests costs one redraw.
public final class DashboardApp {
    private let server: HTTPServer
    private let terminal: any TerminalDevice
    private let completer: any PathCompleting
    private let context: DashboardRenderer.Context
    /// How long a key read waits: the frame interval (10 frames a second at most; a key is handled and
    /// drawn as soon as it comes). At 20 frames a second the dashboard's thread and tmux took ~50 ms of
    /// CPU a second under a flood, at 10 about 30: redrawing the list of a flood twice as often showed
    /// nothing a person could read.
    public static let frameMilliseconds = 100

    public private(set) var model: DashboardModel
    public private(set) var ui = DashboardUI()

    public init(
        server: HTTPServer,
        terminal: any TerminalDevice,
        completer: any PathCompleting = FileSystemCompleter(),
        context: DashboardRenderer.Context = DashboardRenderer.Context(utcOffset: DashboardApp.localUTCOffset())
    ) {
        self.server = server
        self.terminal = terminal
        self.completer = completer
        self.context = context
        self.model = DashboardModel(
            root: server.root.snapshot.path,
            listening: server.listeningAddresses,
            now: .now()
        )
        self.urlsToShow = Self.shownURLs(server.reachableURLs)
    }

    /// What to open, and what others on the network can open (the header shows the bound address):
    /// noted in the log after the first drain, below "listening on".
    private var urlsToShow: [String]

    /// Runs a save, then says on screen and in the log what happened (`save` returns both texts).
    private func reportSave(_ subject: String, _ save: () throws -> (screen: String, log: String)) {
        do {
            let said = try save()
            self.ui.message = said.screen
            self.ui.messageIsError = false
            self.model.note(said.log)
        } catch {
            self.ui.message = "not saved: \(error)"
            self.ui.messageIsError = true
            self.model.note("\(subject) not saved: \(error)", level: .warning)
        }
    }

    /// At most six URLs, then how many more there are.
    static func shownURLs(_ urls: [String]) -> [String] {
        urls.count <= 6 ? urls : Array(urls.prefix(5)) + ["(\(urls.count - 5) more addresses)"]
    }

    /// Runs until `q`, or until `stopRequested` returns true (a signal), and leaves a "Stopping" frame
    /// on screen. The caller then stops the server gracefully and restores the terminal.
    public func run(stopRequested: () -> Bool) {
        var drawnSecond: Int64 = -1
        while true {
            let key = self.terminal.readKey(timeoutMilliseconds: Self.frameMilliseconds)
            let batch = self.server.bus.drain()
            let now = EventTime.now()
            self.model.apply(batch)
            if !self.urlsToShow.isEmpty {
                for url in self.urlsToShow { self.model.note("open \(url)") }
                self.urlsToShow = []
            }
            self.model.tick(now: now)
            if stopRequested() { break }
            if let key {
                let effects = KeyHandler.handle(key, ui: &self.ui, model: self.model, completer: self.completer)
                // Only keys move a detail view's scroll; the renderer keeps any position on screen.
                let (width, height) = self.terminal.size
                DashboardRenderer.clampScroll(&self.ui, model: self.model, width: width, height: height, context: self.context)
                if effects.contains(.quit) { break }
                for effect in effects { self.perform(effect) }
            }
            // An idle server costs one frame a second (the clock on screen), not ten.
            if key != nil || batch.count > 0 || now.secondsSinceEpoch != drawnSecond {
                drawnSecond = now.secondsSinceEpoch
                self.redraw()
            }
        }
        self.ui.quitting = true
        self.ui.overlay = .none
        self.redraw()
    }

    private func redraw() {
        let (width, height) = self.terminal.size
        self.terminal.draw(DashboardRenderer.render(self.model, self.ui, width: width, height: height, context: self.context))
    }

    private func perform(_ effect: DashboardEffect) {
        switch effect {
        case .quit:
            break
        case .clearRequests:
            self.model.clearRequests()
        case .changeRoot(let path):
            do {
                try self.server.changeRoot(to: path)
                self.ui.overlay = .none
                self.ui.message = "now serving \(self.server.root.snapshot.path)"
            } catch {
                // The old root keeps serving; say why in the prompt so the path can be fixed.
                if case .rootPrompt(let editor, _) = self.ui.overlay {
                    self.ui.overlay = .rootPrompt(editor, error: "\(error) — still serving \(self.model.root)")
                }
                self.model.note("root not changed: \(error)", level: .warning)
            }
        case .saveHAR:
            let records = self.ui.visibleRequests(self.model)
            self.reportSave("HAR") {
                let saved = try HARExport.save(records, base: { Overlays.replayBase($0, model: self.model) }, in: ReplayScript.folder(), now: .now())
                let leftOut = saved.leftOut > 0 ? " (\(saved.leftOut) not parsed, left out)" : ""
                return ("\(saved.count) request(s) saved as HAR\(leftOut): \(saved.path)", "\(saved.count) request(s) saved as HAR to \(saved.path)")
            }
        case .saveReplay(let id):
            guard let record = (self.ui.frozen ?? []).first(where: { $0.id == id }) ?? self.model.requests.record(id) else {
                self.ui.message = "request \(id) is no longer kept"
                self.ui.messageIsError = true
                return
            }
            self.reportSave("replay command of \(id)") {
                let path = try ReplayScript.save(record, base: Overlays.replayBase(record, model: self.model), in: ReplayScript.folder())
                return ("replay command of \(id) saved: bash \(path)", "replay command of \(id) saved to \(path)")
            }
        case .toggleServing:
            let server = self.server
            let bus = server.bus
            if server.state == .running {
                self.ui.message = "stopping: no new connections; in-flight responses finish"
                Task { await server.stopListening() }
            } else if server.state == .stopped {
                self.ui.message = "listening again on port \(server.port)"
                Task {
                    do {
                        try await server.listen()
                    } catch {
                        bus.publish(.log(LogLine(level: .error, message: "cannot listen again: \(error)")))
                    }
                }
            }
        }
    }

    /// The local zone's offset from UTC now, in seconds.
    public static func localUTCOffset() -> Int {
        var now = time(nil)
        var parts = tm()
        localtime_r(&now, &parts)
        return Int(parts.tm_gmtoff)
    }
}
