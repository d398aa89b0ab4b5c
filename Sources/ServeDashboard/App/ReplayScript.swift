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
        let descriptor = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0o700)
        guard descriptor >= 0 else { throw Failure(description: "cannot write \(path): \(String(cString: strerror(errno)))") }
        defer { close(descriptor) }
        var text = Self.text(for: record, base: base)
        let written = text.withUTF8 { Descriptor.writeAll($0, to: descriptor) }
        guard written else { throw Failure(description: "cannot write \(path): \(String(cString: strerror(errno)))") }
        fchmod(descriptor, 0o700)
        return path
    }

    public static func environmentTmpdir() -> String? {
        getenv("TMPDIR").map { String(cString: $0) }
    }
}
