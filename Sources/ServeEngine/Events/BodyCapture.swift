import NIOCore

/// Counts a body and keeps its first bytes for the dashboard: a request's, which it shows (and
/// replays with curl) to someone checking what their client really sent, and a response body built
/// in memory.
struct BodyCapture {
    /// How much of a body is kept: enough for a form, a JSON document or a file's first lines, while
    /// the dashboard's 5,000 kept requests stay within ~10 MiB even if each had a body.
    static let previewLimit = 2048

    let id: RequestID
    private(set) var bytes: Int64 = 0
    private(set) var preview: [UInt8] = []

    init(id: RequestID) { self.id = id }

    mutating func append(_ buffer: ByteBuffer) {
        self.bytes += Int64(buffer.readableBytes)
        let room = Self.previewLimit - self.preview.count
        guard room > 0 else { return }
        buffer.withUnsafeReadableBytes { self.preview.append(contentsOf: $0.prefix(room)) }
    }

    /// The response's event, or `nil` when no body bytes were written from memory.
    func responseEvent(time: EventTime = .now()) -> ResponseBodySent? {
        guard self.bytes > 0 else { return nil }
        return ResponseBodySent(id: self.id, bytes: self.bytes, preview: self.preview, time: time)
    }

    /// The event to publish, or `nil` for a request without a body.
    func event(complete: Bool, framingBroke: Bool = false, time: EventTime = .now()) -> RequestBodyReceived? {
        guard self.bytes > 0 else { return nil }
        return RequestBodyReceived(id: self.id, bytes: self.bytes, preview: self.preview, complete: complete, framingBroke: framingBroke, time: time)
    }
}
