import ServeEngine

/// The live request list: newest at the bottom, following it unless the user moved the selection.
enum RequestListPanel {
    /// A column of the list: its heading, width, alignment, and the cell for a record.
    struct Column {
        let title: String
        let width: Int
        let rightAligned: Bool
        let cell: (RequestRecord) -> (String, CellStyle)
    }

    static func draw(_ canvas: inout Canvas, area: Rect, model: DashboardModel, ui: DashboardUI, context: DashboardRenderer.Context) {
        guard area.height >= 3 else { return }
        let focused = ui.focus == .requests && ui.overlay == .none
        let visible = ui.visibleRequests(model)
        var title = "Requests"
        if ui.filter != .all { title += " · \(ui.filter.label)" }
        if !ui.search.isEmpty { title += " · \"\(ui.search)\"" }
        if ui.isPaused { title += " · PAUSED" }
        if !ui.follow { title += " · scrolled (F follows)" }
        title += " · \(Format.count(visible.count))"
        canvas.box(area, title: title, style: focused ? .plain : .dim, titleStyle: focused ? .bold : .plain)
        let inner = area.inset(1)
        let columns = Self.columns(for: inner.width, context: context)
        let fixed = columns.reduce(0) { $0 + $1.width + 1 }
        let pathWidth = max(8, inner.width - fixed)

        // Heading row.
        var x = inner.x
        for (index, column) in columns.enumerated() {
            if index == 3 {
                canvas.write("PATH", x: x, y: inner.y, maxWidth: pathWidth, style: CellStyle(bold: true, underline: true))
                x += pathWidth + 1
            }
            Self.put(&canvas, column.title, x: x, y: inner.y, width: column.width, right: column.rightAligned, style: CellStyle(bold: true, underline: true))
            x += column.width + 1
        }

        let rows = inner.height - 1
        guard rows > 0 else { return }
        if visible.isEmpty {
            let hint = model.requests.count == 0 ? "waiting for requests…" : "no request matches (Esc clears the filter)"
            canvas.write(hint, x: inner.x + 1, y: inner.y + 1, maxWidth: inner.width - 1, style: .dim)
            return
        }
        let selected = ui.selectedIndex(in: visible) ?? visible.count - 1
        let top = max(0, min(selected - rows + 1, visible.count - rows, max(0, selected - rows / 2)))
        let first = ui.follow ? max(0, visible.count - rows) : top
        for (offset, record) in visible[first..<min(visible.count, first + rows)].enumerated() {
            let y = inner.y + 1 + offset
            var x = inner.x
            for (index, column) in columns.enumerated() {
                if index == 3 {
                    let style: CellStyle = record.outcome == .abortedByClient ? .dim : .plain
                    canvas.write(Format.displayTarget(record.target), x: x, y: y, maxWidth: pathWidth, style: style)
                    x += pathWidth + 1
                }
                let (text, style) = column.cell(record)
                Self.put(&canvas, text, x: x, y: y, width: column.width, right: column.rightAligned, style: style)
                x += column.width + 1
            }
            if first + offset == selected {
                canvas.restyle(Rect(x: inner.x, y: y, width: inner.width, height: 1)) { style in
                    if focused { style.reverse = true } else { style.bold = true }
                }
            }
        }
    }

    private static func put(_ canvas: inout Canvas, _ text: String, x: Int, y: Int, width: Int, right: Bool, style: CellStyle) {
        if right {
            canvas.writeRight(text, x: x, y: y, width: width, style: style)
        } else {
            canvas.write(text, x: x, y: y, maxWidth: width, style: style)
        }
    }

    /// The columns for an inner width; the path takes what is left (it is drawn before column 3).
    static func columns(for width: Int, context: DashboardRenderer.Context) -> [Column] {
        var columns: [Column] = [
            Column(title: "TIME", width: 8, rightAligned: false) { (Format.clock($0.receivedAt, utcOffset: context.utcOffset), .dim) },
            Column(title: "CLIENT", width: width >= 70 ? 15 : 11, rightAligned: false) { ($0.peer, .plain) },
            Column(title: "METHOD", width: 6, rightAligned: false) { ($0.method, .bold) },
            Column(title: "ST", width: 3, rightAligned: true) { record in
                (record.statusText, DashboardRenderer.statusStyle(record.isInFlight ? nil : record.status))
            },
            Column(title: "BYTES", width: 9, rightAligned: true) { record in
                var text = Format.compactBytes(record.bytesSent)
                if record.isInFlight, width < 110, let progress = record.progress { text += " \(Int(progress * 100))%" }
                return (text, record.isInFlight ? CellStyle(color: .blue) : .plain)
            },
        ]
        if width >= 110 {
            columns.append(Column(title: "PROGRESS", width: 10, rightAligned: false) { record in
                guard let progress = record.progress, record.isInFlight || progress < 1 else { return ("", .plain) }
                return (Format.bar(progress, width: 10), CellStyle(color: record.isInFlight ? .blue : .yellow))
            })
        }
        columns.append(Column(title: "DUR", width: 7, rightAligned: true) { record in
            switch record.outcome {
            case .none where width < 110 && record.progress != nil:
                // Narrow screens have no PROGRESS column: the bar takes the duration's place while in flight.
                (Format.bar(record.progress ?? 0, width: 7), CellStyle(color: .blue))
            case .none: ("…", CellStyle(color: .blue))
            case .abortedByClient: ("abort", CellStyle(color: .yellow))
            case .failed: ("fail", CellStyle(color: .red))
            case .completed: (Format.duration(record.durationNanoseconds ?? 0), .plain)
            }
        })
        if width >= 96 {
            columns.append(Column(title: "CONN", width: 8, rightAligned: false) { ("\($0.id.connection).\($0.id.index)", .dim) })
        }
        if width >= 170 {
            columns.append(Column(title: "USER AGENT", width: 32, rightAligned: false) { ($0.requestHeaders.first("user-agent") ?? "-", .dim) })
        }
        return columns
    }
}
