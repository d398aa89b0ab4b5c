import Foundation

/// A throwaway folder tree for one test: `root/` is served, files beside it must never be.
final class TempTree {
    let base: String
    var root: String { self.base + "/root" }

    init() throws {
        var template = Array((NSTemporaryDirectory() + "/serve-test-XXXXXX").utf8CString)
        guard let made = mkdtemp(&template) else { throw CocoaError(.fileWriteUnknown) }
        self.base = String(cString: made)
        try FileManager.default.createDirectory(atPath: self.root, withIntermediateDirectories: true)
    }

    deinit { try? FileManager.default.removeItem(atPath: self.base) }

    /// Writes `contents` at `path` relative to the root (or to the base when `outside`).
    @discardableResult
    func write(_ path: String, _ contents: [UInt8], outside: Bool = false) throws -> String {
        let full = (outside ? self.base : self.root) + "/" + path
        try FileManager.default.createDirectory(
            atPath: (full as NSString).deletingLastPathComponent,
            withIntermediateDirectories: true
        )
        guard FileManager.default.createFile(atPath: full, contents: Data(contents)) else {
            throw CocoaError(.fileWriteUnknown)
        }
        return full
    }

    @discardableResult
    func write(_ path: String, _ text: String, outside: Bool = false) throws -> String {
        try self.write(path, Array(text.utf8), outside: outside)
    }

    func mkdir(_ path: String) throws {
        try FileManager.default.createDirectory(atPath: self.root + "/" + path, withIntermediateDirectories: true)
    }

    func symlink(_ path: String, to target: String) throws {
        try FileManager.default.createSymbolicLink(atPath: self.root + "/" + path, withDestinationPath: target)
    }

    /// Sets a file's modification time (seconds since the epoch).
    func setModified(_ path: String, _ seconds: Int) throws {
        try FileManager.default.setAttributes(
            [.modificationDate: Date(timeIntervalSince1970: TimeInterval(seconds))],
            ofItemAtPath: self.root + "/" + path
        )
    }

    /// Deterministic pseudo-random bytes.
    static func bytes(_ count: Int, seed: UInt64 = 42) -> [UInt8] {
        var state = seed
        return (0..<count).map { _ in
            state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            return UInt8(truncatingIfNeeded: state >> 33)
        }
    }
}

/// Open descriptors of this process (the server runs in it), to prove none leak.
func openDescriptorCount() -> Int {
    (try? FileManager.default.contentsOfDirectory(atPath: "/proc/self/fd").count) ?? -1
}
