import ServeEngine

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// `y` in a request's detail: its curl command saved as a script, for a person who wants to run it
/// again without copying it off the screen (where the box's borders come along).
///
/// Scripts go to a folder of this user's in the temporary directory (`$TMPDIR`, else `/tmp`), never
/// under the served root, where they would be served and listed.
public enum ReplayScript {
    public struct Failure: Error, CustomStringConvertible {
        public let description: String
    }

    /// The script's text: a bash shebang (`$'…'` quoting), which request it replays, the command,
    /// and why the body is missing when it is.
    public static func text(for record: RequestRecord, base: String) -> String {
        let replay = Format.curlLines(for: record, base: base)
        var text = "#!/usr/bin/env bash\n"
        text += "# \(record.method) \(TextSanitizer.escape(record.target)) as request \(record.id) sent it to swift-serve-tui\n"
        if let note = replay.note { text += "# \(note)\n" }
        return text + replay.lines.joined(separator: "\n") + "\n"
    }

    /// The folder for scripts, made if needed: `<tmp>/swift-serve-tui-<uid>`, a real directory this
    /// user owns that no one else may enter (a shared `/tmp` must not hand us someone else's folder).
    public static func folder(environment tmpdir: String? = Self.environmentTmpdir()) throws -> String {
        var base = tmpdir ?? "/tmp"
        if base.isEmpty { base = "/tmp" }
        while base.count > 1, base.hasSuffix("/") { base.removeLast() }
        let path = "\(base)/swift-serve-tui-\(getuid())"
        if mkdir(path, 0o700) != 0, errno != EEXIST {
            throw Failure(description: "cannot make \(path): \(String(cString: strerror(errno)))")
        }
        var info = stat()
        guard lstat(path, &info) == 0, info.st_mode & S_IFMT == S_IFDIR, info.st_uid == getuid(), info.st_mode & 0o077 == 0 else {
            throw Failure(description: "\(path) is not a private folder of this user; not writing there")
        }
        return path
    }

    /// Writes the script for `record` into `folder` (executable by this user only) and returns its path.
    public static func save(_ record: RequestRecord, base: String, in folder: String) throws -> String {
        let path = "\(folder)/replay-\(record.id.connection.rawValue)-\(record.id.index).sh"
        try Self.write(Self.text(for: record, base: base), to: path, mode: 0o700)
        return path
    }

    /// Writes `text` to `path` with `mode` (this user's only), never through a symlink: the one way
    /// files are written into the private folder (scripts here, HAR files by `HARExport`).
    static func write(_ text: String, to path: String, mode: mode_t) throws {
        let descriptor = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, mode)
        guard descriptor >= 0 else { throw Failure(description: "cannot write \(path): \(String(cString: strerror(errno)))") }
        defer { close(descriptor) }
        var text = text
        guard text.withUTF8({ Descriptor.writeAll($0, to: descriptor) }) else {
            throw Failure(description: "cannot write \(path): \(String(cString: strerror(errno)))")
        }
        // An existing file keeps its old mode through O_CREAT: set it.
        fchmod(descriptor, mode)
    }

    public static func environmentTmpdir() -> String? {
        getenv("TMPDIR").map { String(cString: $0) }
    }
}
