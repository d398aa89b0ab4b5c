import ServeEngine

/// A line of a detail view.
struct DetailLine {
    var text: String
    var style: CellStyle
    /// Backslashes shown as they are: a line of the curl replay (so it can be copied), or a row of a
    /// wrapped line (already escaped).
    var backslashesAsIs = false
    /// Wrapped to the view's width rather than cut (a header's value, a long target): the client's
    /// exact bytes are what a person debugging it came to read.
    var wraps = false

    init(_ text: String, _ style: CellStyle, backslashesAsIs: Bool = false, wraps: Bool = false) {
        self.text = text
        self.style = style
        self.backslashesAsIs = backslashesAsIs
        self.wraps = wraps
    }

    /// Rows a wrapped line may take; its last is cut with `…` (`y` and `w` keep everything).
    static let maxWrappedRows = 32

    /// `lines` as rows of at most `width` cells: a wrapping line becomes its rows, each after the
    /// first indented by four spaces.
    static func rows(_ lines: [DetailLine], width: Int) -> [DetailLine] {
        var rows: [DetailLine] = []
        rows.reserveCapacity(lines.count)
        for line in lines {
            let text = line.wraps ? TextSanitizer.escape(line.text) : ""
            guard line.wraps, width > 20, CellWidth.of(text) > width else {
                rows.append(line)
                continue
            }
            let first = Format.wrap(text, width: width, maxLines: 2)
            rows.append(DetailLine(first[0], line.style, backslashesAsIs: true))
            for piece in Format.wrap(first.count > 1 ? first[1] : "", width: width - 4, maxLines: Self.maxWrappedRows - 1) {
                rows.append(DetailLine("    " + piece, line.style, backslashesAsIs: true))
            }
        }
        return rows
    }
}

/// Boxes drawn over the panels: help, request and session detail, the root prompt.
enum Overlays {
    static let helpLines: [(String, String)] = [
        ("q, Ctrl-C", "quit: stop gracefully, restore the terminal"),
        ("?, F1", "this help"),
        ("↑ ↓ j k", "move the selection"),
        ("PgUp PgDn", "move a page"),
        ("g G Home End", "first / last"),
        ("Enter", "detail of the selected request or session"),
        ("y", "in a request's detail: save its replay command"),
        ("w", "save the listed requests as a HAR file"),
        ("Esc", "close an overlay; clear filter and search"),
        ("Tab", "switch focus: requests / sessions"),
        ("/", "search request paths"),
        ("f", "filter: 2xx 3xx 4xx 5xx, in flight, GET HEAD POST, other"),
        ("p", "pause the list (serving and counting go on)"),
        ("F", "follow the newest request"),
        ("c", "clear the list (totals stay)"),
        ("R", "serve another folder (Tab completes)"),
        ("S", "stop listening / listen again on the same port"),
    ]

    /// The help box's width: borders, the key column (16) and the longest text with a space after it.
    /// A fixed 72 cut the filter line short ("… POST, ot…") on every screen wide enough to show it whole.
    static let helpWidth = 2 + 16 + (Self.helpLines.map { CellWidth.of($0.1) }.max() ?? 0) + 1

    static func draw(_ canvas: inout Canvas, model: DashboardModel, ui: DashboardUI, context: DashboardRenderer.Context) {
        switch ui.overlay {
        case .none, .searchPrompt:
            return
        case .help:
            let area = Self.centered(canvas.bounds, width: Self.helpWidth, height: Self.helpLines.count + 4)
            canvas.fill(area)
            canvas.box(area, title: "Keys", style: .plain)
            let inner = area.inset(1)
            for (i, (key, text)) in Self.helpLines.enumerated() where i < inner.height - 1 {
                canvas.write(key, x: inner.x + 1, y: inner.y + i, maxWidth: 14, style: .bold)
                canvas.write(text, x: inner.x + 16, y: inner.y + i, maxWidth: inner.width - 16)
            }
            canvas.write("Esc closes", x: inner.x + 1, y: inner.maxY - 1, style: .dim)
        case .requestDetail(let id, let scroll):
            let lines = Self.requestDetailLines(id, model: model, ui: ui, context: context)
            Self.scrollBox(&canvas, title: "Request \(id)", lines: lines, scroll: scroll, hint: "y saves the replay command · Esc closes")
        case .sessionDetail(let id, let scroll):
            let lines = Self.sessionDetailLines(id, model: model, context: context)
            Self.scrollBox(&canvas, title: "Connection \(id)", lines: lines, scroll: scroll, hint: "Esc closes")
        case .rootPrompt(let editor, let error):
            let area = Self.centered(canvas.bounds, width: 90, height: 6)
            canvas.fill(area)
            canvas.box(area, title: "Serve another folder", style: .plain)
            let inner = area.inset(1)
            canvas.write("Folder (Tab completes, Enter applies, Esc cancels):", x: inner.x + 1, y: inner.y, maxWidth: inner.width - 1, style: .dim)
            let fieldWidth = inner.width - 2
            let shown = Self.fieldText(editor, width: fieldWidth)
            canvas.write(shown.text, x: inner.x + 1, y: inner.y + 1, maxWidth: fieldWidth, style: .bold)
            Self.drawCursorCell(&canvas, x: inner.x + 1 + shown.cursorColumn, y: inner.y + 1, maxX: inner.maxX)
            if let error {
                canvas.write(error, x: inner.x + 1, y: inner.y + 3, maxWidth: inner.width - 1, style: CellStyle(color: .red, bold: true))
            } else {
                canvas.write("now serving " + model.root, x: inner.x + 1, y: inner.y + 3, maxWidth: inner.width - 1, style: .dim)
            }
        }
    }

    /// The visible part of a long field, scrolled so the cursor shows.
    static func fieldText(_ editor: LineEditor, width: Int) -> (text: String, cursorColumn: Int) {
        let characters = editor.text
        var start = 0
        func widthOf(_ range: Range<Int>) -> Int { characters[range].reduce(0) { $0 + CellWidth.of($1) } }
        while start < editor.cursor, widthOf(start..<editor.cursor) >= width { start += 1 }
        return (String(characters[start...]), widthOf(start..<editor.cursor))
    }

    static func drawCursor(_ canvas: inout Canvas, editor: LineEditor, x: Int, y: Int, maxX: Int) {
        let column = editor.text[..<editor.cursor].reduce(0) { $0 + CellWidth.of($1) }
        Self.drawCursorCell(&canvas, x: x + column, y: y, maxX: maxX)
    }

    static func drawCursorCell(_ canvas: inout Canvas, x: Int, y: Int, maxX: Int) {
        guard x < maxX else { return }
        canvas.restyle(Rect(x: x, y: y, width: 1, height: 1)) { $0.reverse = true }
    }

    static func centered(_ bounds: Rect, width: Int, height: Int) -> Rect {
        let w = min(width, bounds.width - 2)
        let h = min(height, bounds.height - 2)
        return Rect(x: (bounds.width - w) / 2, y: (bounds.height - h) / 2, width: w, height: h)
    }

    /// The box of a detail view on a screen of `bounds`.
    private static func scrollArea(_ bounds: Rect) -> Rect {
        Self.centered(bounds, width: max(60, bounds.width * 9 / 10), height: bounds.height * 9 / 10)
    }

    /// The overlay with its scroll position brought within its lines (a detail view scrolled past its
    /// end, or to it with End, sits at its last page), so ↑ moves at once.
    static func clampedScroll(_ overlay: Overlay, model: DashboardModel, ui: DashboardUI, bounds: Rect, context: DashboardRenderer.Context) -> Overlay {
        let inner = Self.scrollArea(bounds).inset(1)
        let (rows, width) = (inner.height - 1, inner.width - 1)
        switch overlay {
        case .requestDetail(let id, let scroll):
            let count = DetailLine.rows(Self.requestDetailLines(id, model: model, ui: ui, context: context), width: width).count
            return .requestDetail(id, scroll: max(0, min(scroll, count - rows)))
        case .sessionDetail(let id, let scroll):
            let count = DetailLine.rows(Self.sessionDetailLines(id, model: model, context: context), width: width).count
            return .sessionDetail(id, scroll: max(0, min(scroll, count - rows)))
        default:
            return overlay
        }
    }

    private static func scrollBox(_ canvas: inout Canvas, title: String, lines: [DetailLine], scroll: Int, hint: String) {
        let area = Self.scrollArea(canvas.bounds)
        canvas.fill(area)
        canvas.box(area, title: title, style: .plain)
        let inner = area.inset(1)
        let rows = inner.height - 1
        let lines = DetailLine.rows(lines, width: inner.width - 1)
        let top = min(max(0, scroll), max(0, lines.count - rows))
        for (offset, line) in lines.dropFirst(top).prefix(rows).enumerated() {
            canvas.write(line.text, x: inner.x + 1, y: inner.y + offset, maxWidth: inner.width - 1, style: line.style, backslashesAsIs: line.backslashesAsIs)
        }
        let position = lines.count > rows ? "lines \(top + 1)-\(min(lines.count, top + rows)) of \(lines.count) · ↑↓ PgUp PgDn scroll · " : ""
        canvas.write(position + hint, x: inner.x + 1, y: inner.maxY - 1, maxWidth: inner.width - 1, style: .dim)
    }

    static func requestDetailLines(_ id: RequestID, model: DashboardModel, ui: DashboardUI, context: DashboardRenderer.Context) -> [DetailLine] {
        let source = ui.frozen ?? model.requests.all
        guard let record = source.first(where: { $0.id == id }) ?? model.requests.record(id) else {
            return [.init("This request is no longer kept (the list holds the newest \(Format.count(DashboardModel.requestCapacity))).", .dim)]
        }
        var lines: [DetailLine] = []
        let unparsed = record.isUnparsed
        // A request that was not parsed has no version of its own to show (its bytes are below).
        lines.append(.init("\(record.method) \(record.target) \(unparsed ? "(not parsed)" : record.version)", .bold, wraps: true))
        let status = record.status.map { "\($0) \(record.reason ?? "")" } ?? (record.isInFlight ? "no response yet" : "none sent")
        lines.append(.init("Status    \(status)", DashboardRenderer.statusStyle(record.isInFlight ? nil : record.status)))
        let expected = record.expectedBytes.map { " of \(Format.count(Int($0)))" } ?? ""
        lines.append(.init("Body sent \(Format.count(Int(record.bytesSent)))\(expected) bytes", .plain))
        // In flight: how long it has run so far (a streaming script, a slow download), not "took in flight".
        let timing = record.durationNanoseconds.map { "took \(Format.duration($0))" }
            ?? "running \(Format.duration(model.now.nanosecondsSinceEpoch - record.receivedAt.nanosecondsSinceEpoch)) so far"
        lines.append(.init("Received  \(Format.clock(record.receivedAt, utcOffset: context.utcOffset))   \(timing)   outcome \(record.outcome?.rawValue ?? "in flight")", .plain))
        let siblings = source.filter { $0.id.connection == id.connection }
        lines.append(.init("Client    \(record.peer)   connection \(id.connection), request \(id.index) (\(siblings.count) kept on it)", .plain))
        if let problem = record.problem {
            // The parser's words, unless the message already has them.
            let parser = problem.parserError.flatMap { problem.message.contains($0) ? nil : " (HTTP parser: \($0))" } ?? ""
            lines.append(.init("Why       \(problem.message)\(parser)", DashboardRenderer.statusStyle(record.status)))
            if let explanation = problem.explanation { lines.append(.init("          \(explanation)", .plain)) }
            if let hint = Format.protocolHint(problem.received ?? []) { lines.append(.init("          \(hint)", .bold)) }
        }
        lines.append(.init("", .plain))
        if unparsed, let problem = record.problem, let received = problem.received {
            // Not parsed: no headers to list, so what arrived, as it arrived.
            lines.append(.init("Received, not parsed (\(Format.count(problem.receivedCount)) bytes)", .bold))
            if problem.receivedIncludesEarlierRequests {
                lines.append(.init("  It came pipelined: this is the whole read it failed in, which begins with the requests before it.", .dim))
            }
            for line in Format.byteLines(received, total: problem.receivedCount) { lines.append(.init("  " + line, .plain)) }
            lines.append(.init("", .plain))
        }
        if !unparsed, !record.headersKept {
            lines.append(.init("Headers not recorded: this request came in a flood, and only its outcome was kept", .dim))
            lines.append(.init("(\"no detail\" and \"unlisted\" at the top count them; requests at a calmer moment keep theirs).", .dim))
        } else if !unparsed {
            lines.append(.init("Request headers (\(record.requestHeaders.count))", .bold))
            for (name, value) in record.requestHeaders { lines.append(.init("  \(name): \(value)", .plain, wraps: true)) }
            lines.append(.init("", .plain))
        }
        if let body = record.requestBody {
            lines.append(.init("Request body (\(Format.count(Int(body.bytes))) bytes)", .bold))
            for line in Format.bodyLines(body) { lines.append(.init("  " + line, .plain)) }
            lines.append(.init("", .plain))
        }
        if let headers = record.responseHeaders {
            lines.append(.init("Response headers (\(headers.count))", .bold))
            for (name, value) in headers { lines.append(.init("  \(name): \(value)", .plain, wraps: true)) }
        } else if record.isInFlight {
            lines.append(.init("No response headers yet", .dim))
        } else if record.status == nil {
            lines.append(.init("No response was sent", .dim))
        } else if record.headersKept {
            // Seen arriving, but the event with the answer's head was dropped (a full event buffer).
            lines.append(.init("Response headers not recorded (their event was dropped in a flood)", .dim))
        }
        if let body = record.responseBody {
            // What the server wrote (a file's bytes are not kept: they are on disk).
            lines.append(.init("", .plain))
            lines.append(.init("Response body (\(Format.count(Int(body.bytes))) bytes)", .bold))
            for line in Format.byteLines(body.preview, total: Int(body.bytes)) { lines.append(.init("  " + line, .plain)) }
        }
        lines.append(.init("", .plain))
        lines.append(.init("Requests on connection \(id.connection)", .bold))
        for sibling in siblings {
            let marker = sibling.id == id ? "▶" : " "
            lines.append(.init("\(marker) \(sibling.id)  \(sibling.method) \(sibling.target)  \(sibling.statusText)", sibling.id == id ? .bold : .plain))
        }
        if let state = Self.connectionState(id.connection, model: model, context: context) { lines.append(.init(state, .dim, wraps: true)) }
        lines.append(.init("", .plain))
        lines.append(.init(unparsed ? "Replay the same bytes" : "Replay with curl", .bold))
        let replay = Format.curlLines(for: record, base: Self.replayBase(record, model: model))
        for line in replay.lines { lines.append(.init(line, CellStyle(color: .cyan), backslashesAsIs: true)) }
        if let note = replay.note { lines.append(.init(note, .dim)) }
        return lines
    }

    /// Whether connection `id` is open, or when and why it closed; nil when that is no longer kept.
    static func connectionState(_ id: ConnectionID, model: DashboardModel, context: DashboardRenderer.Context) -> String? {
        if let session = model.sessions[id] {
            let idle = Format.age(SessionsPanel.seconds(model.now, since: session.lastActivity))
            return "Connection \(id) is open, " + (session.isActive ? "a request in progress" : "idle \(idle)")
        }
        guard let closed = model.closedConnections[id] else { return nil }
        let why: String =
            switch closed.reason {
            case .clientClosed: "the client closed it"
            case .notKeepAlive: "not keep-alive (Connection: close or HTTP/1.0), the server closed it after the response"
            case .idleTimeout: "no new request within --timeout, the server closed it (a client reusing it finds it gone)"
            case .requestTimeout: "a request did not arrive in full within --timeout"
            case .writeTimeout: "the client read nothing of the response for longer than --timeout"
            case .protocolError: "a request could not be parsed; its error page was the last answer"
            case .serverStopping: "the server stopped"
            case .error: "a socket error"
            }
        let requests = closed.requestsServed == 1 ? "1 request" : "\(Format.count(closed.requestsServed)) requests"
        return "Connection \(id) closed \(Format.clock(closed.time, utcOffset: context.utcOffset)) after \(requests): \(why)"
    }

    /// Where a replay is sent: the host the client named, else where the server listens.
    static func replayBase(_ record: RequestRecord, model: DashboardModel) -> String {
        "http://" + (record.requestHeaders.first("host") ?? model.listening.first ?? "localhost")
    }

    static func sessionDetailLines(_ id: ConnectionID, model: DashboardModel, context: DashboardRenderer.Context) -> [DetailLine] {
        var lines: [DetailLine] = []
        if let session = model.sessions[id] {
            lines.append(.init("\(session.peer) → \(session.local)", .bold))
            lines.append(.init("opened \(Format.clock(session.openedAt, utcOffset: context.utcOffset))   \(Format.count(session.requestsSeen)) request(s)   \(Format.count(Int(session.bytes))) bytes   \(session.isActive ? "active" : "idle")", .plain))
        } else {
            lines.append(.init(Self.connectionState(id, model: model, context: context) ?? "Connection \(id) is closed.", .dim, wraps: true))
        }
        lines.append(.init("", .plain))
        let requests = model.requests.all.filter { $0.id.connection == id }
        lines.append(.init("Requests kept for this connection: \(requests.count)", .bold))
        for record in requests {
            lines.append(.init("\(record.id)  \(Format.clock(record.receivedAt, utcOffset: context.utcOffset))  \(record.method) \(record.target)  \(record.statusText)  \(Format.compactBytes(record.bytesSent))", DashboardRenderer.statusStyle(record.isInFlight ? nil : record.status)))
        }
        return lines
    }
}
