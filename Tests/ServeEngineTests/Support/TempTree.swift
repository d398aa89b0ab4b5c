import Foundation
import NIOConcurrencyHelpers

/// A throwaway folder tree for one test: `root/` is served, files beside it must never be.
final class TempTree {
    let base: String
    var root: String { self.base + "/root" }

    init() throws {
        var template = Array((NSTemporaryDirectory() + "/serve-test-XXXXXX").utf8CString)
        guard let made = mkdtemp(&template) else { throw CocoaError(.fileWriteUnknown) }
        self.base = String(cString: made)
        Self.live.register(self.base)
        try FileManager.default.createDirectory(atPath: self.root, withIntermediateDirectories: true)
    }

    deinit {
        Self.remove(self.base)
        Self.live.forget(self.base)
    }

    /// Removes `path` whole. Two removals of one tree can run at once (a test's, and the one at exit
    /// while that test's shutdown task still runs); the loser of a race for an entry gets an error
    /// and stops half way (trees were found with their files and without their `markers` folder),
    /// so it tries again while anything is left.
    static func remove(_ path: String) {
        for _ in 0..<5 where FileManager.default.fileExists(atPath: path) {
            try? FileManager.default.removeItem(atPath: path)
        }
    }

    /// Trees not released yet. Tests end with `defer { Task { await server.shutdown() } }`, and the
    /// fixture holding a tree is released only when that task has run; the test process may exit
    /// first (seen under the sanitizers), which left `serve-test-*` folders behind. Whatever is left
    /// is removed at exit.
    private static let live = LiveTrees()

    private final class LiveTrees: Sendable {
        private let paths = NIOLockedValueBox(Set<String>())

        init() {
            atexit {
                for path in TempTree.live.paths.withLockedValue({ $0 }) { TempTree.remove(path) }
            }
        }

        func register(_ path: String) { self.paths.withLockedValue { _ = $0.insert(path) } }
        func forget(_ path: String) { self.paths.withLockedValue { _ = $0.remove(path) } }
    }

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

    /// A folder of `count` empty files with long names: its listing is larger than the socket
    /// buffers (about 110 bytes a row).
    func largeListingFolder(_ path: String, count: Int) throws {
        try self.mkdir(path)
        for index in 0..<count {
            try self.write("\(path)/a-rather-long-file-name-so-the-listing-grows-\(index).txt", "")
        }
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

    /// Deterministic pseudo-random bytes, eight per step: a byte-at-a-time `map` took seconds per
    /// 64 MiB in debug builds (over a minute under ThreadSanitizer), holding a cooperative thread.
    static func bytes(_ count: Int, seed: UInt64 = 42) -> [UInt8] {
        var state = seed
        return [UInt8](unsafeUninitializedCapacity: count) { buffer, initialized in
            guard let base = UnsafeMutableRawPointer(buffer.baseAddress) else { return }
            var offset = 0
            while offset < count {
                state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
                let word = (state ^ (state >> 29)).littleEndian
                if count - offset >= 8 {
                    base.storeBytes(of: word, toByteOffset: offset, as: UInt64.self)
                } else {
                    for index in 0..<(count - offset) {
                        base.storeBytes(of: UInt8(truncatingIfNeeded: word >> (8 * index)), toByteOffset: offset + index, as: UInt8.self)
                    }
                }
                offset += 8
            }
            initialized = count
        }
    }
}

/// Open descriptors of this process (the server runs in it), to prove none leak.
func openDescriptorCount() -> Int {
    (try? FileManager.default.contentsOfDirectory(atPath: "/proc/self/fd").count) ?? -1
}
