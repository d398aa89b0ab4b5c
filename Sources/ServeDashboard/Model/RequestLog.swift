import ServeEngine

/// The requests the list shows, oldest first, bounded: in-flight requests are updated in place.
public struct RequestLog: Sendable {
    public let capacity: Int
    /// Records by sequence number; `first` is the sequence number of `records[0]`.
    private(set) var records: [RequestRecord] = []
    private var first = 0
    private var positions: [RequestID: Int] = [:]

    public init(capacity: Int) { self.capacity = max(1, capacity) }

    public var count: Int { self.records.count }
    public var all: [RequestRecord] { self.records }

    public func record(_ id: RequestID) -> RequestRecord? {
        guard let sequence = self.positions[id] else { return nil }
        return self.records[sequence - self.first]
    }

    /// Whether `id` is still kept.
    public func contains(_ id: RequestID) -> Bool { self.positions[id] != nil }

    public mutating func append(_ record: RequestRecord) {
        if self.records.count >= self.capacity {
            // Drop the oldest eighth at once so removal stays amortised O(1).
            let drop = max(1, self.capacity / 8)
            for old in self.records.prefix(drop) { self.positions[old.id] = nil }
            self.records.removeFirst(drop)
            self.first += drop
        }
        self.positions[record.id] = self.first + self.records.count
        self.records.append(record)
    }

    /// Changes the record of `id` if it is still kept; returns whether it was.
    @discardableResult
    public mutating func update(_ id: RequestID, _ change: (inout RequestRecord) -> Void) -> Bool {
        guard let sequence = self.positions[id] else { return false }
        change(&self.records[sequence - self.first])
        return true
    }

    public mutating func removeAll() {
        self.first += self.records.count
        self.records.removeAll(keepingCapacity: true)
        self.positions.removeAll(keepingCapacity: true)
    }
}
