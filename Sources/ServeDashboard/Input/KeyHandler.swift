import ServeEngine

/// Something a key asks the application to do beyond changing the UI state.
public enum DashboardEffect: Equatable, Sendable {
    case quit
    /// Validate and switch the served root (the text as typed, `~` already expanded).
    case changeRoot(String)
    /// Stop listening if serving, listen again if stopped.
    case toggleServing
    /// Forget the listed requests (totals stay).
    case clearRequests
    /// Save the request's replay command (curl, or printf | nc for one not parsed) as a script (`y` in its detail).
    case saveReplay(RequestID)
    /// Save the listed requests as a HAR file (`w`).
    case saveHAR
}

/// Completes folder names for the root prompt (the file system in the app, a table in tests).
public protocol PathCompleting: Sendable {
    /// Folders whose path starts with `prefix`, as full paths ending in `/`.
    func completions(for prefix: String) -> [String]
    /// `~` and `~/x` expanded to the home folder.
    func expandHome(_ path: String) -> String
}

/// Maps a key to a new UI state and effects: a pure function (htop's key handlers return what should
/// happen next; here the caller performs the effects).
public enum KeyHandler {
    /// Rows a page key moves.
    public static let pageSize = 10

    public static func handle(
        _ key: Key,
        ui: inout DashboardUI,
        model: DashboardModel,
        completer: any PathCompleting
    ) -> [DashboardEffect] {
        if key == .resize { return [] }
        ui.message = nil
        switch ui.overlay {
        case .rootPrompt(var editor, _):
            return Self.handleRootPrompt(key, editor: &editor, ui: &ui, completer: completer)
        case .searchPrompt(var editor):
            switch key {
            case .escape:
                ui.overlay = .none
            case .enter:
                ui.search = editor.string
                ui.overlay = .none
                ui.follow = true
            default:
                if editor.handle(key) { ui.overlay = .searchPrompt(editor) }
            }
            return []
        case .help:
            if key == .escape || key == .character("?") || key == .function(1) || key == .character("q") || key == .enter {
                ui.overlay = .none
            }
            return []
        case .requestDetail(let id, let scroll):
            if key == .character("y") { return [.saveReplay(id)] }
            return Self.handleDetailScroll(key, ui: &ui) { .requestDetail(id, scroll: max(0, scroll + $0)) }
        case .sessionDetail(let id, let scroll):
            return Self.handleDetailScroll(key, ui: &ui) { .sessionDetail(id, scroll: max(0, scroll + $0)) }
        case .none:
            return Self.handleMain(key, ui: &ui, model: model, completer: completer)
        }
    }

    private static func handleDetailScroll(
        _ key: Key,
        ui: inout DashboardUI,
        scrolled: (Int) -> Overlay
    ) -> [DashboardEffect] {
        switch key {
        case .escape, .enter, .character("q"), .backspace: ui.overlay = .none
        case .down, .character("j"): ui.overlay = scrolled(1)
        case .up, .character("k"): ui.overlay = scrolled(-1)
        case .pageDown, .character(" "): ui.overlay = scrolled(Self.pageSize)
        case .pageUp: ui.overlay = scrolled(-Self.pageSize)
        case .home, .character("g"): ui.overlay = scrolled(-1_000_000)
        case .end, .character("G"): ui.overlay = scrolled(1_000_000)  // clamped to the last page when drawn
        default: break
        }
        return []
    }

    private static func handleRootPrompt(
        _ key: Key,
        editor: inout LineEditor,
        ui: inout DashboardUI,
        completer: any PathCompleting
    ) -> [DashboardEffect] {
        switch key {
        case .escape:
            ui.overlay = .none
            return []
        case .enter:
            let path = completer.expandHome(editor.string.trimmingTrailingSpaces)
            ui.overlay = .rootPrompt(editor, error: nil)
            return path.isEmpty ? [] : [.changeRoot(path)]
        case .tab:
            let typed = completer.expandHome(editor.string)
            let options = completer.completions(for: typed)
            if options.count == 1 {
                editor.set(options[0])
            } else if let common = Self.commonPrefix(options), common.count > typed.count {
                editor.set(common)
            }
            let hint = options.count > 1 ? "\(options.count) matches: " + options.prefix(6).map(Self.lastComponent).joined(separator: "  ") : nil
            ui.overlay = .rootPrompt(editor, error: options.isEmpty ? "no folder matches" : hint)
            return []
        default:
            if editor.handle(key) { ui.overlay = .rootPrompt(editor, error: nil) }
            return []
        }
    }

    private static func handleMain(
        _ key: Key,
        ui: inout DashboardUI,
        model: DashboardModel,
        completer: any PathCompleting
    ) -> [DashboardEffect] {
        switch key {
        case .character("q"), .control("c"):
            return [.quit]
        case .character("?"), .function(1):
            ui.overlay = .help
        case .tab, .backTab:
            ui.focus = ui.focus == .requests ? .sessions : .requests
        case .up, .character("k"):
            Self.move(-1, ui: &ui, model: model)
        case .down, .character("j"):
            Self.move(1, ui: &ui, model: model)
        case .pageUp:
            Self.move(-Self.pageSize, ui: &ui, model: model)
        case .pageDown:
            Self.move(Self.pageSize, ui: &ui, model: model)
        case .home, .character("g"):
            Self.move(-Int.max / 2, ui: &ui, model: model)
        case .end, .character("G"):
            Self.move(Int.max / 2, ui: &ui, model: model)
        case .enter:
            switch ui.focus {
            case .requests:
                let visible = ui.visibleRequests(model)
                if let index = ui.selectedIndex(in: visible) {
                    ui.overlay = .requestDetail(visible[index].id, scroll: 0)
                }
            case .sessions:
                let sessions = model.sessionList
                if !sessions.isEmpty {
                    ui.overlay = .sessionDetail(sessions[min(ui.selectedSessionIndex, sessions.count - 1)].id, scroll: 0)
                }
            }
        case .character("/"):
            ui.overlay = .searchPrompt(LineEditor(ui.search))
        case .character("f"):
            ui.filter = ui.filter.next
            ui.follow = true
            ui.message = "filter: \(ui.filter.label)"
        case .character("p"):
            if ui.frozen == nil {
                ui.frozen = model.requests.all
                ui.message = "paused: the server keeps serving and counting; p resumes"
            } else {
                ui.frozen = nil
                ui.message = "resumed"
            }
        case .character("F"):
            ui.follow = true
            ui.selectedRequest = nil
            ui.focus = .requests
        case .character("c"):
            ui.frozen = ui.frozen.map { $0.filter(\.isInFlight) }
            ui.selectedRequest = nil
            ui.follow = true
            return [.clearRequests]
        case .character("R"):
            ui.overlay = .rootPrompt(LineEditor(model.root.hasSuffix("/") ? model.root : model.root + "/"), error: nil)
        case .character("S"):
            return [.toggleServing]
        case .character("w"):
            guard !ui.visibleRequests(model).isEmpty else {
                ui.message = ui.filter == .all && ui.search.isEmpty ? "nothing to save: the list is empty" : "nothing to save: no request matches the filter"
                return []
            }
            return [.saveHAR]
        case .escape:
            if !ui.search.isEmpty || ui.filter != .all {
                ui.search = ""
                ui.filter = .all
                ui.message = "filter cleared"
            }
        default:
            break
        }
        return []
    }

    private static func move(_ delta: Int, ui: inout DashboardUI, model: DashboardModel) {
        switch ui.focus {
        case .sessions:
            let count = model.sessions.count
            ui.selectedSessionIndex = count == 0 ? 0 : min(count - 1, max(0, ui.selectedSessionIndex + delta))
        case .requests:
            let visible = ui.visibleRequests(model)
            guard let current = ui.selectedIndex(in: visible) else { return }
            let target = min(visible.count - 1, max(0, current + delta))
            ui.selectedRequest = visible[target].id
            // Moving to the newest row resumes following; anything else stops it.
            ui.follow = target == visible.count - 1 && delta > 0
        }
    }

    static func commonPrefix(_ strings: [String]) -> String? {
        guard var prefix = strings.first else { return nil }
        for string in strings.dropFirst() {
            while !string.hasPrefix(prefix) { prefix.removeLast() }
        }
        return prefix
    }

    private static func lastComponent(_ path: String) -> String {
        let trimmed = path.hasSuffix("/") ? String(path.dropLast()) : path
        return (trimmed.split(separator: "/").last.map(String.init) ?? trimmed) + "/"
    }
}

extension String {
    var trimmingTrailingSpaces: String {
        var text = self
        while text.last == " " { text.removeLast() }
        return text
    }
}
