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
        for (offset, entry) in entries.enumerated() {
            var line = SegmentWriter(x: inner.x, y: inner.y + offset, maxX: inner.maxX)
            line.add(&canvas, Format.clock(entry.time, utcOffset: context.utcOffset) + " ", .dim)
            let style: CellStyle =
                switch entry.level {
                case .error: CellStyle(color: .red, bold: true)
                case .warning: CellStyle(color: .yellow)
                case .info, .debug: .plain
                }
            line.add(&canvas, entry.message, style)
        }
    }
}
