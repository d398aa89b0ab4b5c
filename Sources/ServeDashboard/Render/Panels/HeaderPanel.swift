import ServeEngine

/// Row 0: name, URL, root, state, uptime.
enum HeaderPanel {
    static func draw(_ canvas: inout Canvas, area: Rect, model: DashboardModel, ui: DashboardUI) {
        canvas.fill(area, style: .reverse)
        var x = area.x
        x += canvas.write(" swift-serve-tui ", x: x, y: area.y, style: CellStyle(bold: true, reverse: true))
        let (stateText, stateStyle) = Self.state(model.state)
        let uptime = " up \(Format.uptime(model.uptimeSeconds)) "
        let paused = ui.isPaused ? " PAUSED " : ""
        let rightWidth = CellWidth.of(stateText) + CellWidth.of(uptime) + CellWidth.of(paused)
        let url = model.listening.first.map { "http://\($0)/" } ?? "not listening"
        let middleWidth = area.maxX - x - rightWidth
        if middleWidth > 8 {
            let urlText = " \(url) "
            let used = canvas.write(urlText, x: x, y: area.y, maxWidth: middleWidth, style: .reverse)
            x += used
            let rootRoom = middleWidth - used
            if rootRoom > 10 {
                let label = " root "
                x += canvas.write(label, x: x, y: area.y, style: CellStyle(reverse: true, dim: true))
                let room = rootRoom - CellWidth.of(label) - 1
                x += canvas.write(Format.middleTruncate(model.root, width: room), x: x, y: area.y, maxWidth: room, style: CellStyle(bold: true, reverse: true))
            }
        }
        var right = area.maxX - rightWidth
        if !paused.isEmpty {
            right += canvas.write(paused, x: right, y: area.y, style: CellStyle(color: .magenta, bold: true, reverse: true))
        }
        right += canvas.write(stateText, x: right, y: area.y, style: stateStyle)
        canvas.write(uptime, x: right, y: area.y, style: .reverse)
    }

    private static func state(_ state: ServerState) -> (String, CellStyle) {
        switch state {
        case .running: (" ● RUNNING ", CellStyle(color: .green, bold: true, reverse: true))
        case .starting: (" ◌ STARTING ", CellStyle(color: .yellow, bold: true, reverse: true))
        case .stopping: (" ◌ STOPPING ", CellStyle(color: .yellow, bold: true, reverse: true))
        case .stopped: (" ■ STOPPED ", CellStyle(color: .red, bold: true, reverse: true))
        }
    }
}
