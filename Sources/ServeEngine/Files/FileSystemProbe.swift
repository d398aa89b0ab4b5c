import COpenBeneath

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
    static func status(_ path: FileSystemPath) -> Result<Status, Errno> {
        var info = stat()
        guard path.withCString({ stat($0, &info) }) == 0 else { return .failure(Errno(errno)) }
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
    static func realPath(_ path: FileSystemPath) -> FileSystemPath? {
        path.withCString { path in
            guard let real = realpath(path, nil) else { return nil }
            defer { free(real) }
            return FileSystemPath(bytes: Array(UnsafeRawBufferPointer(start: real, count: strlen(real))))
        }
    }

    /// Whether `path`, with every symlink resolved, is `root` or inside it.
    static func isInside(_ path: FileSystemPath, root: String) -> Bool {
        Self.realPath(path)?.isInside(FileSystemPath(root)) ?? false
    }

    /// Whether `path`, with every symlink resolved, lies inside one of `folders` (components under
    /// `root`, itself resolved too, so a symlinked root or folder is compared by what it really is).
    static func isInside(_ path: FileSystemPath, anyOf folders: [[String]], root: String) -> Bool {
        guard let resolved = Self.realPath(path) else { return false }
        return folders.contains { folder in
            guard let realFolder = Self.realPath(FileSystemPath(SafePath.join(root, folder))) else { return false }
            return resolved != realFolder && resolved.isInside(realFolder)
        }
    }

    /// Opens `path` so that it cannot lead outside `root` (an absolute, symlink-free folder), or
    /// plainly when `root` is `nil` (`--follow-symlinks`).
    ///
    /// The `realpath` check callers make before opening is a separate step: a local user who swaps
    /// a symlink inside the folder between the two could have the open follow it out. Here the open
    /// itself is held beneath the root by the kernel (`openat2` with `RESOLVE_BENEATH`, Linux 5.6+),
    /// which refuses any step out, `..` or symlink, with `EXDEV`. It refuses absolute symlinks too,
    /// even those pointing back inside, which are served: for those the path is resolved and the
    /// result opened beneath the root again, so that open is held by the kernel as well. Where
    /// `openat2` does not exist (`ENOSYS`), the caller's check is all there is, as before.
    static func openInside(_ path: FileSystemPath, root: String?, flags: CInt) -> Result<CInt, Errno> {
        guard let root else { return Self.plainOpen(path, flags: flags) }
        let folder = FileSystemPath(root)
        guard let relative = path.relative(to: folder) else { return .failure(Errno(EXDEV)) }
        var fd = Self.openBeneath(root, relative, flags: flags)
        var code = errno
        if fd < 0, code == EXDEV, let real = Self.realPath(path), let realRelative = real.relative(to: folder) {
            fd = Self.openBeneath(root, realRelative, flags: flags)
            code = errno
        }
        if fd < 0, code == ENOSYS { return Self.plainOpen(path, flags: flags) }
        return fd >= 0 ? .success(fd) : .failure(Errno(code))
    }

    private static func openBeneath(_ root: String, _ relative: FileSystemPath, flags: CInt) -> CInt {
        relative.withCString { relative in cob_open_beneath(root, relative, flags) }
    }

    private static func plainOpen(_ path: FileSystemPath, flags: CInt) -> Result<CInt, Errno> {
        let fd = path.withCString { open($0, flags | O_CLOEXEC) }
        return fd >= 0 ? .success(fd) : .failure(Errno(errno))
    }

    /// Opens a regular file for reading and describes what was opened (`fstat` on the descriptor,
    /// so the attributes belong to the file actually served). `root`: see `openInside`.
    static func openRegularFile(_ path: FileSystemPath, inside root: String?) -> Result<(CInt, Status), Errno> {
        let fd: CInt
        switch Self.openInside(path, root: root, flags: O_RDONLY) {
        case .success(let opened): fd = opened
        case .failure(let error): return .failure(error)
        }
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
    /// `root`: the folder is opened as by `openInside`, so a swapped symlink cannot list another.
    static func list(_ path: FileSystemPath, inside root: String?, includeHidden: Bool) -> Result<[ListingEntry], Errno> {
        let folder: CInt
        switch Self.openInside(path, root: root, flags: O_RDONLY | O_DIRECTORY) {
        case .success(let opened): folder = opened
        case .failure(let error): return .failure(error)
        }
        guard let dir = fdopendir(folder) else {
            let code = errno
            close(folder)
            return .failure(Errno(code))
        }
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
        case EACCES, EPERM:
            HTTPError(.forbidden, message: "Permission denied")
        case ELOOP:
            // nginx answers a loop 403 too; the words say which problem it is.
            HTTPError(.forbidden, message: "Symbolic link loop")
        case EXDEV:
            // `openInside`: the kernel found a step out of the root (a symlink changed after the check).
            HTTPError.leadsOutside
        default:
            HTTPError(.internalServerError, message: String(cString: strerror(self.code)))
        }
    }
}

/// A file-system path as the kernel takes it: bytes, which need not be UTF-8 (a name written by a
/// Latin-1 system, `caf\xE9.txt`, is a file like any other), without NUL.
struct FileSystemPath: Sendable, Hashable, CustomStringConvertible {
    let bytes: [UInt8]

    init(bytes: [UInt8]) { self.bytes = bytes }
    init(_ path: String) { self.bytes = Array(path.utf8) }

    /// This path followed by `name` (one component, no separator), `/` put between them.
    func appending(_ name: some Collection<UInt8>) -> FileSystemPath {
        var bytes = self.bytes
        if bytes.last != UInt8(ascii: "/") { bytes.append(UInt8(ascii: "/")) }
        bytes.append(contentsOf: name)
        return FileSystemPath(bytes: bytes)
    }

    /// The path as a `String` when it is UTF-8 (then exactly these bytes), else `nil`.
    var exactString: String? { String(validating: self.bytes, as: UTF8.self) }

    /// For messages: bytes that are not UTF-8 read as U+FFFD.
    var description: String { String(decoding: self.bytes, as: UTF8.self) }

    func withCString<Result>(_ body: (UnsafePointer<CChar>) throws -> Result) rethrows -> Result {
        try (self.bytes + [0]).withUnsafeBufferPointer { buffer in
            try buffer.withMemoryRebound(to: CChar.self) { try body($0.baseAddress!) }
        }
    }

    /// This path relative to `folder` (`.` for the folder itself), or `nil` when it is not inside it.
    func relative(to folder: FileSystemPath) -> FileSystemPath? {
        guard self.isInside(folder) else { return nil }
        var rest = self.bytes.dropFirst(folder.bytes == [UInt8(ascii: "/")] ? 0 : folder.bytes.count)
        while rest.first == UInt8(ascii: "/") { rest = rest.dropFirst() }
        return FileSystemPath(bytes: rest.isEmpty ? [UInt8(ascii: ".")] : Array(rest))
    }

    /// Whether this path is `folder` or below it, comparing bytes: String's `hasPrefix` compares
    /// graphemes and canonical equivalents, so `/srv/www/\u{301}x` would not start with `/srv/www/`
    /// and a differently normalised sibling of `folder` would (found by Fuzz/fuzz-safe-path).
    func isInside(_ folder: FileSystemPath) -> Bool {
        if folder.bytes == [UInt8(ascii: "/")] { return self.bytes.first == UInt8(ascii: "/") }
        guard self.bytes.starts(with: folder.bytes) else { return false }
        let rest = self.bytes.dropFirst(folder.bytes.count)
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
