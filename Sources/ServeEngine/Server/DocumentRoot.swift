import Atomics
import NIOConcurrencyHelpers

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// The served folder, changeable while the server runs.
///
/// Each request takes a `Snapshot` when its head arrives, so a root change never affects a response
/// already under way: streaming requests finish from the old root, new ones use the new root.
public final class DocumentRoot: Sendable {
    /// The root as one request sees it.
    public struct Snapshot: Sendable, Equatable {
        /// Absolute, symlink-free path (from `realpath`), no trailing slash unless it is `/`.
        public let path: String
    }

    /// Why a folder cannot become the root.
    public enum ValidationError: Error, Equatable, CustomStringConvertible {
        case doesNotExist(String)
        case notADirectory(String)
        case notReadable(String)

        public var description: String {
            switch self {
            case .doesNotExist(let path): "\(path): no such directory"
            case .notADirectory(let path): "\(path): not a directory"
            case .notReadable(let path): "\(path): permission denied"
            }
        }
    }

    private let current: NIOLockedValueBox<Snapshot>
    private let changes = ManagedAtomic<Int>(0)

    /// Validates `path` and makes it the root.
    public init(path: String) throws(ValidationError) {
        self.current = NIOLockedValueBox(Snapshot(path: try Self.validate(path)))
    }

    /// The root now.
    public var snapshot: Snapshot { self.current.withLockedValue { $0 } }

    /// How many times the root changed: a reader that saw this count before taking `snapshot` may
    /// keep using that snapshot while the count stays the same (incremented after each change).
    var changeCount: Int { self.changes.load(ordering: .acquiring) }

    /// Switches to `path` if it is an existing, readable folder; otherwise throws and keeps the old root.
    /// - Returns: the old and the new snapshot.
    @discardableResult
    public func change(to path: String) throws(ValidationError) -> (old: Snapshot, new: Snapshot) {
        let resolved = try Self.validate(path)
        let change = self.current.withLockedValue { snapshot in
            let old = snapshot
            snapshot = Snapshot(path: resolved)
            return (old, snapshot)
        }
        self.changes.wrappingIncrement(ordering: .releasing)
        return change
    }

    /// The canonical absolute path of `path` if it is a readable, searchable directory.
    public static func validate(_ path: String) throws(ValidationError) -> String {
        guard !path.isEmpty, let real = realpath(path, nil) else {
            throw .doesNotExist(path)
        }
        defer { free(real) }
        let resolved = String(cString: real)
        var info = stat()
        guard stat(resolved, &info) == 0 else { throw .doesNotExist(path) }
        guard (info.st_mode & S_IFMT) == S_IFDIR else { throw .notADirectory(path) }
        guard access(resolved, R_OK | X_OK) == 0 else { throw .notReadable(path) }
        return resolved
    }
}
