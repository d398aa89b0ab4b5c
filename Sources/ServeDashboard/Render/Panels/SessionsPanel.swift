import ServeEngine

/// Open connections: peer, age, requests served, bytes, idle time, active or idle.
enum SessionsPanel {
    static func draw(_ canvas: inout Canvas, area: Rect, model: DashboardModel, ui: DashboardUI) {
        guard area.height >= 3 else { return }
        let focused = ui.focus == .sessions && ui.overlay == .none
        let sessions = model.sessionList
        let active = sessions.filter(\.isActive).count
        canvas.box(area, title: "Sessions · \(Format.count(sessions.count)) open · \(Format.count(active)) active", style: focused ? .plain : .dim, titleStyle: focused ? .bold : .plain)
        let inner = area.inset(1)
        guard inner.height > 0 else { return }
        if sessions.isEmpty {
            canvas.write("no open connection", x: inner.x + 1, y: inner.y, maxWidth: inner.width - 1, style: .dim)
            return
        }
        let selected = min(ui.selectedSessionIndex, sessions.count - 1)
        let first = max(0, min(selected - inner.height + 1, sessions.count - inner.height))
        for (offset, session) in sessions[max(0, first)..<min(sessions.count, max(0, first) + inner.height)].enumerated() {
            let y = inner.y + offset
            let age = Format.age(Self.seconds(model.now, since: session.openedAt))
            let idle = session.isActive ? "active" : "idle \(Format.age(Self.seconds(model.now, since: session.lastActivity)))"
            var line = SegmentWriter(x: inner.x, y: y, maxX: inner.maxX)
            line.add(&canvas, session.isActive ? "● " : "○ ", CellStyle(color: session.isActive ? .green : nil, dim: !session.isActive))
            line.add(&canvas, "\(session.id) ", .dim)
            line.add(&canvas, session.peer + " ", .plain)
            line.add(&canvas, "\(Format.count(session.requestsSeen)) req ", .bold)
            line.add(&canvas, Format.compactBytes(session.bytes) + " ", .plain)
            line.add(&canvas, "age \(age) ", .dim)
            line.add(&canvas, idle, session.isActive ? CellStyle(color: .green) : .dim)
            if max(0, first) + offset == selected {
                canvas.restyle(Rect(x: inner.x, y: y, width: inner.width, height: 1)) { style in
                    if focused { style.reverse = true } else { style.bold = true }
                }
            }
        }
    }

    static func seconds(_ now: EventTime, since: EventTime) -> Int64 {
        max(0, (now.nanosecondsSinceEpoch - since.nanosecondsSinceEpoch) / 1_000_000_000)
    }
}
