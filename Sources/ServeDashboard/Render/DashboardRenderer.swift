import ServeEngine

/// Draws the whole screen from the model and UI state into a `Canvas`. Pure: the same inputs give the
/// same cells, so every layout is tested as text.
public enum DashboardRenderer {
    /// Below this size only a notice is shown (the server keeps serving).
    public static let minimumWidth = 40
    public static let minimumHeight = 10
    /// From this width the sessions and log panels sit beside the request list.
    public static let sideBySideWidth = 120

    /// What the renderer needs besides model and UI state.
    public struct Context: Sendable {
        /// Seconds to add to UTC for clock times (the local zone, read once at start).
        public var utcOffset: Int
        public init(utcOffset: Int = 0) { self.utcOffset = utcOffset }
    }

    /// Brings a detail view's scroll position within its lines for a screen of this size: call it
    /// after each key, before `render`.
    public static func clampScroll(_ ui: inout DashboardUI, model: DashboardModel, width: Int, height: Int, context: Context = Context()) {
        guard width >= Self.minimumWidth, height >= Self.minimumHeight else { return }
        ui.overlay = Overlays.clampedScroll(ui.overlay, model: model, ui: ui, bounds: Rect(x: 0, y: 0, width: width, height: height), context: context)
    }

    public static func render(_ model: DashboardModel, _ ui: DashboardUI, width: Int, height: Int, context: Context = Context()) -> Canvas {
        var canvas = Canvas(width: width, height: height)
        guard width >= Self.minimumWidth, height >= Self.minimumHeight else {
            Self.tooSmall(&canvas, model: model)
            return canvas
        }
        let (headerArea, rest) = canvas.bounds.splitTop(1)
        let statsHeight = height >= 30 ? 3 : 2
        let (statsArea, rest2) = rest.splitTop(statsHeight)
        let (body, footerArea) = rest2.splitBottom(1)
        HeaderPanel.draw(&canvas, area: headerArea, model: model, ui: ui)
        StatsPanel.draw(&canvas, area: statsArea, model: model)

        let requestsArea: Rect
        let sessionsArea: Rect
        let logArea: Rect
        if width >= Self.sideBySideWidth {
            let sideWidth = min(64, max(40, width / 3))
            let (left, right) = body.splitLeft(body.width - sideWidth)
            requestsArea = left
            let (top, bottom) = right.splitTop(right.height * 3 / 5)
            sessionsArea = top
            logArea = bottom
        } else {
            // The request list comes first: on a short terminal the log, then the sessions, give
            // way (at a fixed 3 and 4 rows, they left the list no row for a request below 15 rows).
            let logRows = body.height >= 16 ? 4 : body.height >= 12 ? 3 : 0
            let sessionRows = body.height >= 16 ? min(8, max(4, model.sessions.count + 2)) : body.height >= 9 ? 3 : 0
            let (upper, log) = body.splitBottom(logRows)
            let (requests, sessions) = upper.splitBottom(sessionRows)
            requestsArea = requests
            sessionsArea = sessions
            logArea = log
        }
        RequestListPanel.draw(&canvas, area: requestsArea, model: model, ui: ui, context: context)
        SessionsPanel.draw(&canvas, area: sessionsArea, model: model, ui: ui)
        LogPanel.draw(&canvas, area: logArea, model: model, context: context)
        FooterPanel.draw(&canvas, area: footerArea, ui: ui)
        Overlays.draw(&canvas, model: model, ui: ui, context: context)
        return canvas
    }

    private static func tooSmall(_ canvas: inout Canvas, model: DashboardModel) {
        let lines = [
            "terminal too small",
            "\(canvas.width)x\(canvas.height), need \(Self.minimumWidth)x\(Self.minimumHeight)",
            "still serving: \(Format.count(model.totals.requests)) req",
            "q quits",
        ]
        let top = max(0, (canvas.height - lines.count) / 2)
        for (i, line) in lines.enumerated() where top + i < canvas.height {
            let w = min(canvas.width, CellWidth.of(line))
            canvas.write(line, x: max(0, (canvas.width - w) / 2), y: top + i, style: i == 0 ? .bold : .plain)
        }
    }

    /// The colour of a status: 2xx green, 3xx cyan, 4xx yellow, 5xx red, none (in flight) blue.
    public static func statusStyle(_ status: Int?) -> CellStyle {
        guard let status else { return CellStyle(color: .blue, bold: true) }
        switch status / 100 {
        case 2: return CellStyle(color: .green)
        case 3: return CellStyle(color: .cyan)
        case 4: return CellStyle(color: .yellow, bold: true)
        case 5: return CellStyle(color: .red, bold: true)
        default: return .plain
        }
    }
}
