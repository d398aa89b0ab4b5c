import ServeEngine

/// Which list has the keyboard.
public enum Focus: Equatable, Sendable {
    case requests
    case sessions
}

/// What is drawn over the panels.
public enum Overlay: Equatable, Sendable {
    case none
    case help
    /// The detail view of one request, scrolled down `scroll` lines.
    case requestDetail(RequestID, scroll: Int)
    /// The requests of one connection.
    case sessionDetail(ConnectionID, scroll: Int)
    /// `R`: a new root; `error` says why the last attempt was refused.
    case rootPrompt(LineEditor, error: String?)
    /// `/`: a path search.
    case searchPrompt(LineEditor)
}

/// Which requests the list shows (`f` cycles through these).
public enum RequestFilter: Equatable, Sendable, CaseIterable {
    case all, success, redirect, clientError, serverError, inFlight, get, head, post, otherMethods

    public var label: String {
        switch self {
        case .all: "all"
        case .success: "2xx"
        case .redirect: "3xx"
        case .clientError: "4xx"
        case .serverError: "5xx"
        case .inFlight: "in flight"
        case .get: "GET"
        case .head: "HEAD"
        case .post: "POST"
        case .otherMethods: "other methods"
        }
    }

    public func admits(_ record: RequestRecord) -> Bool {
        switch self {
        case .all: true
        case .success: record.status.map { $0 / 100 == 2 } ?? false
        case .redirect: record.status.map { $0 / 100 == 3 } ?? false
        case .clientError: record.status.map { $0 / 100 == 4 } ?? false
        case .serverError: record.status.map { $0 / 100 == 5 } ?? false
        case .inFlight: record.isInFlight
        case .get: record.method == "GET"
        case .head: record.method == "HEAD"
        case .post: record.method == "POST"
        case .otherMethods: !["GET", "HEAD", "POST"].contains(record.method)
        }
    }

    var next: RequestFilter {
        let all = Self.allCases
        return all[(all.firstIndex(of: self)! + 1) % all.count]
    }
}

/// The dashboard's interaction state: selection, focus, overlays, filters. Pure data.
public struct DashboardUI: Equatable, Sendable {
    public var focus: Focus = .requests
    public var overlay: Overlay = .none
    /// The selected request; `nil` with `follow` means the newest.
    public var selectedRequest: RequestID?
    public var selectedSessionIndex = 0
    /// Keep the newest request selected and in view.
    public var follow = true
    public var filter: RequestFilter = .all
    /// Case-insensitive substring the target must contain.
    public var search = ""
    /// The request list frozen by `p` (the engine keeps serving and counting).
    public var frozen: [RequestRecord]?
    /// A transient line in the footer.
    public var message: String?
    public var messageIsError = false
    /// Set while the quit is in progress.
    public var quitting = false

    public init() {}

    public var isPaused: Bool { self.frozen != nil }

    /// The requests the list shows, oldest first, after pause, filter and search.
    public func visibleRequests(_ model: DashboardModel) -> [RequestRecord] {
        let source = self.frozen ?? model.requests.all
        // The common case shares the log's storage instead of copying thousands of records a frame.
        if self.filter == .all, self.search.isEmpty { return source }
        let needle = self.search.lowercased()
        // Both as sent and as listed: a browser sends `/%E6%97%A5%E6%9C%AC/caf%C3%A9%20menu` for what
        // the list shows as `/日本/café menu`, and someone may search either.
        return source.filter { record in
            guard self.filter.admits(record) else { return false }
            if needle.isEmpty || record.target.lowercased().contains(needle) { return true }
            let shown = Format.displayTarget(record.target)
            return shown.utf8.count != record.target.utf8.count && shown.lowercased().contains(needle)
        }
    }

    /// The index of the selected request in `visible` (the last one when following or lost).
    public func selectedIndex(in visible: [RequestRecord]) -> Int? {
        guard !visible.isEmpty else { return nil }
        if !self.follow, let id = self.selectedRequest, let index = visible.firstIndex(where: { $0.id == id }) {
            return index
        }
        return visible.count - 1
    }
}
