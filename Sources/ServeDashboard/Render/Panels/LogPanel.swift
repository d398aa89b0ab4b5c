import ServeEngine

/// The newest log lines: server errors, notices, CGI stderr (all escaped by the canvas).
enum LogPanel {
    static func draw(_ canvas: inout Canvas, area: Rect, model: DashboardModel, context: DashboardRenderer.Context) {
        guard area.height >= 3 else { return }
        canvas.box(area, title: "Log", style: .dim, titleStyle: .plain)
        let inner = area.inset(1)
        let entries = model.log.elements.suffix(inner.height)
        if entries.isEmpty {
            canvas.write("nothing logged", x: inner.x + 1, y: inner.y, maxWidth: inner.width - 1, style: .dim)
            return
        }
        // Long lines (a CGI script's stderr, a refused root's reason) wrap under their message, up to
        // `linesPerEntry`; the newest entries that fit whole are shown, oldest first.
        let clockWidth = 9
        let textWidth = inner.width - clockWidth
        var shown: [(entry: LogEntry, lines: [String])] = []
        var rows = 0
        for entry in entries.reversed() {
            let text = TextSanitizer.escape(entry.message)
            var lines = textWidth >= 12 ? Format.wrap(text, width: textWidth, maxLines: Self.linesPerEntry) : [text]
            if rows + lines.count > inner.height {
                guard shown.isEmpty else { break }
                // The newest entry alone overflows: its last row holds the rest, cut with `…`.
                lines = Format.wrap(text, width: textWidth, maxLines: inner.height)
            }
            shown.append((entry, lines))
            rows += lines.count
        }
        var y = inner.y
        for (entry, lines) in shown.reversed() {
            let style: CellStyle =
                switch entry.level {
                case .error: CellStyle(color: .red, bold: true)
                case .warning: CellStyle(color: .yellow)
                case .info, .debug: .plain
                }
            canvas.write(Format.clock(entry.time, utcOffset: context.utcOffset), x: inner.x, y: y, style: .dim)
            for line in lines {
                // Already escaped: a backslash in it is one of the escapes.
                canvas.write(line, x: inner.x + clockWidth, y: y, maxWidth: inner.width - clockWidth, style: style, backslashesAsIs: true)
                y += 1
            }
        }
    }

    /// Rows one log entry may take.
    static let linesPerEntry = 4
}
