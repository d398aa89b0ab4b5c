#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Completes folder names from the real file system for the root prompt.
public struct FileSystemCompleter: PathCompleting {
    public init() {}

    public func expandHome(_ path: String) -> String {
        guard path == "~" || path.hasPrefix("~/") else { return path }
        let home = getenv("HOME").map { String(cString: $0) } ?? "/"
        return home + path.dropFirst()
    }

    public func completions(for prefix: String) -> [String] {
        let slash = prefix.lastIndex(of: "/")
        let folder = slash.map { String(prefix[...$0]) } ?? "./"
        let partial = slash.map { String(prefix[prefix.index(after: $0)...]) } ?? prefix
        guard let dir = opendir(folder) else { return [] }
        defer { closedir(dir) }
        var matches: [String] = []
        while let entry = readdir(dir) {
            let name = String(decoding: entry.entryName, as: UTF8.self)
            guard name != ".", name != "..", name.hasPrefix(partial) else { continue }
            if name.hasPrefix("."), !partial.hasPrefix(".") { continue }
            let path = (slash == nil ? "" : folder) + name
            var info = stat()
            guard stat(slash == nil ? "./" + name : path, &info) == 0, (info.st_mode & S_IFMT) == S_IFDIR else { continue }
            matches.append(path + "/")
        }
        return matches.sorted()
    }
}
