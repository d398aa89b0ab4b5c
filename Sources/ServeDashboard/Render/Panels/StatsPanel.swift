import ServeEngine

/// Rows 1-2 (3 on tall screens): totals, rates with a sparkline, status classes, latency, drops.
enum StatsPanel {
    static func draw(_ canvas: inout Canvas, area: Rect, model: DashboardModel) {
        guard area.height > 0 else { return }
        let totals = model.totals
        var line = SegmentWriter(x: area.x, y: area.y, maxX: area.maxX)
        line.add(&canvas, "Requests ", .dim)
        line.add(&canvas, Format.count(totals.requests), .bold)
        line.add(&canvas, "  ")
        line.add(&canvas, Format.rate(Double(model.requestsPerSecond)), .bold)
        let spark = Format.sparkline(model.requestsPerSecondHistory, width: area.width >= 120 ? 40 : area.width >= 100 ? 24 : 12)
        if !spark.isEmpty {
            line.add(&canvas, " ")
            line.add(&canvas, spark, CellStyle(color: .cyan))
        }
        line.add(&canvas, "  Sent ", .dim)
        line.add(&canvas, AccessLogFormatter.humanBytes(totals.bytesSent), .bold)
        line.add(&canvas, "  ")
        line.add(&canvas, AccessLogFormatter.humanBytes(model.bytesPerSecond) + "/s", .bold)
        line.add(&canvas, "  Sessions ", .dim)
        line.add(&canvas, Format.count(totals.connectionsOpen), .bold)
        line.add(&canvas, " open / \(Format.count(totals.connectionsTotal))", .dim)

        guard area.height > 1 else { return }
        var second = SegmentWriter(x: area.x, y: area.y + 1, maxX: area.maxX)
        for statusClass in 2...5 {
            second.add(&canvas, "\(statusClass)xx ", DashboardRenderer.statusStyle(statusClass * 100))
            second.add(&canvas, Format.count(totals.count(statusClass: statusClass)) + "  ", .bold)
        }
        if totals.aborted > 0 {
            second.add(&canvas, "aborted ", .dim)
            second.add(&canvas, "\(Format.count(totals.aborted))  ", .bold)
        }
        second.add(&canvas, "p50/95/99 ", .dim)
        if let latency = model.latency {
            second.add(&canvas, "\(Format.duration(latency.p50)) \(Format.duration(latency.p95)) \(Format.duration(latency.p99))", .bold)
        } else {
            second.add(&canvas, "-", .dim)
        }
        if model.droppedEvents > 0 {
            second.add(&canvas, "  dropped ", CellStyle(color: .yellow))
            second.add(&canvas, Format.count(model.droppedEvents), CellStyle(color: .yellow, bold: true))
        }
        if model.skippedRequests > 0 {
            second.add(&canvas, "  unlisted ", CellStyle(color: .yellow))
            second.add(&canvas, Format.count(model.skippedRequests), CellStyle(color: .yellow, bold: true))
        }
        // Requests the engine reported by their outcome only (a flood over its detail budget).
        if totals.requestsWithoutDetail > 0 {
            second.add(&canvas, "  no detail ", CellStyle(color: .yellow))
            second.add(&canvas, Format.count(totals.requestsWithoutDetail), CellStyle(color: .yellow, bold: true))
        }

        guard area.height > 2 else { return }
        var third = SegmentWriter(x: area.x, y: area.y + 2, maxX: area.maxX)
        let codes = totals.statusCodes
        if !codes.isEmpty {
            third.add(&canvas, "codes ", .dim)
            for (code, count) in codes {
                third.add(&canvas, "\(code)", DashboardRenderer.statusStyle(code))
                third.add(&canvas, "×\(Format.count(count)) ")
            }
            third.add(&canvas, " ")
        }
        third.add(&canvas, "avg ", .dim)
        third.add(&canvas, Format.rate(model.averageRequestsPerSecond) + "  ", .bold)
        third.add(&canvas, AccessLogFormatter.humanBytes(Int64(model.averageBytesPerSecond)) + "/s over 60s", .bold)
        let paths = DashboardModel.top(model.topPaths, limit: 3)
        if !paths.isEmpty {
            third.add(&canvas, "  top ", .dim)
            third.add(&canvas, paths.map { "\($0.key) (\(Format.count($0.count)))" }.joined(separator: " "))
        }
        let clients = DashboardModel.top(model.topClients, limit: 2)
        if !clients.isEmpty {
            third.add(&canvas, "  clients ", .dim)
            third.add(&canvas, clients.map { "\($0.key) (\(Format.count($0.count)))" }.joined(separator: " "))
        }
    }
}

/// Writes styled segments left to right on one row until the row is full.
struct SegmentWriter {
    var x: Int
    let y: Int
    let maxX: Int

    init(x: Int, y: Int, maxX: Int) {
        self.x = x
        self.y = y
        self.maxX = maxX
    }

    mutating func add(_ canvas: inout Canvas, _ text: String, _ style: CellStyle = .plain) {
        guard self.x < self.maxX else { return }
        self.x += canvas.write(text, x: self.x, y: self.y, maxWidth: self.maxX - self.x, style: style)
    }
}
