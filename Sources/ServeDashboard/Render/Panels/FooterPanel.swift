/// The last row: the main keys, or a message, or the search prompt.
enum FooterPanel {
    /// Most important first: a narrow terminal cuts from the end (`?` lists them all).
    static let keys: [(String, String)] = [
        ("q", "Quit"), ("?", "Help"), ("⏎", "Detail"), ("/", "Search"), ("f", "Filter"), ("p", "Pause"),
        ("R", "Root"), ("S", "Stop/Start"), ("↑↓", "Move"), ("Tab", "Focus"), ("F", "Follow"), ("c", "Clear"),
    ]

    static func draw(_ canvas: inout Canvas, area: Rect, ui: DashboardUI) {
        canvas.fill(area, style: .plain)
        if case .searchPrompt(let editor) = ui.overlay {
            var line = SegmentWriter(x: area.x, y: area.y, maxX: area.maxX)
            line.add(&canvas, "Search paths: ", .bold)
            let start = line.x
            line.add(&canvas, editor.string)
            Overlays.drawCursor(&canvas, editor: editor, x: start, y: area.y, maxX: area.maxX)
            line.x = max(line.x, start + 1) + 1
            line.add(&canvas, "  ⏎ apply  Esc cancel", .dim)
            return
        }
        if ui.quitting {
            canvas.write("Stopping: finishing in-flight responses…", x: area.x, y: area.y, style: CellStyle(color: .yellow, bold: true))
            return
        }
        if let message = ui.message {
            canvas.write(message, x: area.x, y: area.y, style: ui.messageIsError ? CellStyle(color: .red, bold: true) : CellStyle(color: .green))
            return
        }
        var line = SegmentWriter(x: area.x, y: area.y, maxX: area.maxX)
        for (key, label) in Self.keys {
            line.add(&canvas, key, CellStyle(bold: true, reverse: true))
            line.add(&canvas, " \(label) ")
        }
    }
}
