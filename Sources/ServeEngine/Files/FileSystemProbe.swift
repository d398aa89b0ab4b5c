#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The blocking file-system calls of the file handler, run on the thread pool, never on an event loop.
enum FileSystemProbe {
    struct Status: Sendable {
        var isDirectory: Bool
        var isRegular: Bool
        var attributes: FileAttributes
        /// Device, inode, size and times: what the open-file cache compares on every hit.
        var identity: OpenFileCache.Identity
    }

    /// `stat(2)` (following symlinks); `errno` on failure.
    static func status(_ path: String) -> Result<Status, Errno> {
        var info = stat()
        guard stat(path, &info) == 0 else { return .failure(Errno(errno)) }
        return .success(Self.status(from: info))
    }

    static func status(from info: stat) -> Status {
        let mode = info.st_mode & S_IFMT
        let identity = OpenFileCache.Identity(info)
        return Status(
            isDirectory: mode == S_IFDIR,
            isRegular: mode == S_IFREG,
            attributes: FileAttributes(size: identity.size, modificationNanoseconds: identity.modification),
            identity: identity
        )
    }

    /// `path` with every symlink resolved (`realpath(3)`), or `nil` when it cannot be resolved.
    static func realPath(_ path: String) -> String? {
        path.withCString(Self.realPath(cString:))
    }

    private static func realPath(cString path: UnsafePointer<CChar>) -> String? {
        guard let real = realpath(path, nil) else { return nil }
        defer { free(real) }
        return String(cString: real)
    }

    /// Whether `path`, with every symlink resolved, is `root` or inside it.
    static func isInside(_ path: String, root: String) -> Bool {
        Self.realPath(path)?.isPath(inside: root) ?? false
    }

    /// Whether the entry `name` (raw bytes: names need not be UTF-8) of `folder` is, with every
    /// symlink resolved, `root` or inside it.
    static func isInside(_ name: [UInt8], of folder: String, root: String) -> Bool {
        let path = Array(folder.utf8) + (folder.hasSuffix("/") ? [] : [0x2F]) + name + [0]
        let resolved = path.withUnsafeBufferPointer { $0.withMemoryRebound(to: CChar.self) { Self.realPath(cString: $0.baseAddress!) } }
        return resolved?.isPath(inside: root) ?? false
    }

    /// Whether `path`, with every symlink resolved, lies inside one of `folders` (components under
    /// `root`, itself resolved too, so a symlinked root or folder is compared by what it really is).
    static func isInside(_ path: String, anyOf folders: [[String]], root: String) -> Bool {
        guard let resolved = Self.realPath(path) else { return false }
        return folders.contains { folder in
            guard let realFolder = Self.realPath(SafePath.join(root, folder)) else { return false }
            return !resolved.utf8.elementsEqual(realFolder.utf8) && resolved.isPath(inside: realFolder)
        }
    }

    /// Opens a regular file for reading and describes what was opened (`fstat` on the descriptor,
    /// so the attributes belong to the file actually served).
    static func openRegularFile(_ path: String) -> Result<(CInt, Status), Errno> {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return .failure(Errno(errno)) }
        var info = stat()
        guard fstat(fd, &info) == 0 else {
            let code = errno
            close(fd)
            return .failure(Errno(code))
        }
        let status = Self.status(from: info)
        guard status.isRegular else {
            close(fd)
            return .failure(Errno(EACCES))
        }
        return .success((fd, status))
    }

    /// Reads a directory in one pass: `readdir` plus one `fstatat` per entry for size and date.
    /// The entry type comes from `d_type`, so symlinks are recognised without a second stat.
    static func list(_ path: String, includeHidden: Bool) -> Result<[ListingEntry], Errno> {
        guard let dir = opendir(path) else { return .failure(Errno(errno)) }
        defer { closedir(dir) }
        let fd = dirfd(dir)
        var entries: [ListingEntry] = []
        while let raw = readdir(dir) {
            let type = raw.entryType
            let rawName = raw.entryName
            if rawName == [0x2E] || rawName == [0x2E, 0x2E] { continue }
            if !includeHidden, rawName.first == 0x2E { continue }
            var isLink = type == UInt8(DT_LNK)
            var info = stat()
            let name = raw.entryCName
            if type == UInt8(DT_UNKNOWN) {
                var linkInfo = stat()
                if fstatat(fd, name, &linkInfo, AT_SYMLINK_NOFOLLOW) == 0 {
                    isLink = (linkInfo.st_mode & S_IFMT) == S_IFLNK
                }
            }
            let followed = fstatat(fd, name, &info, 0) == 0
            let status = followed ? Self.status(from: info) : nil
            let kind: ListingEntry.Kind =
                isLink ? .symlink : status?.isDirectory == true ? .directory : status?.isRegular == true ? .file : .other
            let entry = ListingEntry(
                rawName: rawName,
                kind: kind,
                isDirectory: status?.isDirectory ?? false,
                size: status?.attributes.size ?? 0,
                modificationSeconds: status?.attributes.modificationSeconds ?? 0
            )
            entries.append(isLink && !followed ? entry.notServed(.broken) : entry)
        }
        return .success(entries)
    }
}

/// An `errno` value as an `Error`.
struct Errno: Error, Equatable {
    let code: CInt
    init(_ code: CInt) { self.code = code }

    /// The status a user should see for this failure.
    var httpError: HTTPError {
        switch self.code {
        case ENOENT, ENOTDIR, ENAMETOOLONG:
            HTTPError(.notFound, message: "File not found")
        case EACCES, EPERM, ELOOP:
            HTTPError(.forbidden, message: "Permission denied")
        default:
            HTTPError(.internalServerError, message: String(cString: strerror(self.code)))
        }
    }
}

extension String {
    /// Whether this path is `folder` or below it, comparing bytes: String's `hasPrefix` compares
    /// graphemes and canonical equivalents, so `/srv/www/\u{301}x` would not start with `/srv/www/`
    /// and a differently normalised sibling of `folder` would (found by Fuzz/fuzz-safe-path).
    func isPath(inside folder: String) -> Bool {
        if folder == "/" { return self.utf8.first == UInt8(ascii: "/") }
        let path = self.utf8, base = folder.utf8
        guard path.starts(with: base) else { return false }
        let rest = path.dropFirst(base.count)
        return rest.isEmpty || rest.first == UInt8(ascii: "/")
    }
}

extension UnsafeMutablePointer where Pointee == dirent {
    // A `readdir` entry's fields, read in place: `pointee` would copy a whole `dirent`, but readdir
    // packs entries by their real length, so the last one can end before `d_name`'s 256 bytes do (a
    // heap-buffer-overflow AddressSanitizer found in `.ci/sanitizers`).

    /// The entry's name as a C string, valid until the next `readdir` on the same stream.
    public var entryCName: UnsafePointer<CChar> {
        UnsafeRawPointer(self.pointer(to: \.d_name)!).assumingMemoryBound(to: CChar.self)
    }

    /// The entry's name, as raw bytes.
    public var entryName: [UInt8] {
        Array(UnsafeRawBufferPointer(start: self.entryCName, count: strlen(self.entryCName)))
    }

    /// `d_type` (`DT_DIR`, `DT_LNK`, `DT_UNKNOWN`, …).
    public var entryType: UInt8 { self.pointer(to: \.d_type)!.pointee }
}
