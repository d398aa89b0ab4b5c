// Request-path resolution: whatever the client sends, nothing outside the served root is named,
// and a directory redirect can never point at another site.
import FuzzCheck
import Glibc
@testable import ServeEngine

/// A served root made once per run: a file, a folder, a symlink inside (and one absolute, back
/// inside), two leading out of it, and one to a twin of the root whose name is the same text
/// differently normalised (café as e + U+0301).
let fixture: (root: String, realRoot: String) = {
    // Under $TMPDIR: Fuzz/run points it at its scratch folder and removes it, since libFuzzer's exit
    // runs no cleanup of ours.
    let temporary = getenv("TMPDIR").map { String(cString: $0) } ?? "/tmp"
    var template = Array((temporary + "/fuzz-safe-path.XXXXXX").utf8CString)
    guard let made = mkdtemp(&template) else { fatalError("mkdtemp failed") }
    let base = String(cString: made)
    let root = base + "/caf\u{E9}"
    let twin = base + "/cafe\u{301}"
    for folder in [root, root + "/sub", base + "/outside", twin] { mkdir(folder, 0o755) }
    for file in [root + "/index.html", root + "/sub/a.txt", base + "/outside/secret.txt", twin + "/secret.txt"] {
        close(open(file, O_CREAT | O_WRONLY, 0o644))
    }
    symlink("sub", root + "/inside-link")
    symlink(root + "/sub/a.txt", root + "/absolute-inside")
    symlink("../outside", root + "/escape")
    symlink("/", root + "/slash")
    symlink(twin, root + "/twin")
    return (root, FileSystemProbe.realPath(FileSystemPath(root))!.exactString!)
}()

/// Byte-wise, written apart from the engine's own check: `base` itself or `base/…`.
func isPath(_ path: [UInt8], under base: String) -> Bool {
    let base = Array(base.utf8)
    return path == base || (path.count > base.count && Array(path[..<base.count]) == base && path[base.count] == 0x2F)
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzSafePath(_ data: UnsafePointer<UInt8>?, _ count: Int) -> CInt {
    let bytes = fuzzBytes(data, count)
    let raw = String(decoding: bytes, as: UTF8.self)

    if let resolved = try? SafePath.resolve(Substring(raw)) {
        for component in resolved.components {
            require(!component.isEmpty && component != "." && component != "..", "component \(component.debugDescription)")
            require(!component.utf8.contains(where: { $0 == 0x2F || $0 == 0x5C || $0 == 0 }), "separator or NUL in \(component.debugDescription)")
        }
        // Lexically, the joined path is the root or below it.
        let path = resolved.fileSystemPath(under: fixture.root)
        require(isPath(path.bytes, under: fixture.root), "\(path) is not under the root")
        if let rawComponents = resolved.rawComponents {
            // Bytes that are not UTF-8 are kept as they came, never a separator, `.` or `..`.
            require(!resolved.isExact && rawComponents.count == resolved.components.count, "raw components \(rawComponents)")
            for component in rawComponents {
                require(!component.isEmpty && component != [0x2E] && component != [0x2E, 0x2E], "raw component \(component)")
                require(!component.contains(where: { $0 == 0x2F || $0 == 0x5C || $0 == 0 }), "separator or NUL in \(component)")
            }
        }

        // What the file handler would open: only if it really (symlinks resolved) lies inside the root.
        if FileSystemProbe.isInside(path, root: fixture.realRoot), let real = FileSystemProbe.realPath(path) {
            require(isPath(real.bytes, under: fixture.realRoot), "\(raw.debugDescription) would serve \(real)")
        }

        // Opened with no check before it, the open is held beneath the root by the kernel
        // (`openInside`): whatever it opens, folder or file, really lies inside.
        let confined = resolved.fileSystemPath(under: fixture.realRoot)
        if case .success(let fd) = FileSystemProbe.openInside(confined, root: fixture.realRoot, flags: O_RDONLY) {
            var target = [UInt8](repeating: 0, count: 4096)
            let length = target.withUnsafeMutableBufferPointer { buffer in
                buffer.withMemoryRebound(to: CChar.self) { readlink("/proc/self/fd/\(fd)", $0.baseAddress!, $0.count) }
            }
            close(fd)
            require(length > 0 && isPath(Array(target[..<length]), under: fixture.realRoot), "\(raw.debugDescription) opened \(String(decoding: target[..<max(0, length)], as: UTF8.self))")
        }

        // A link built from the names' bytes (as listings build them) resolves to the same place.
        let names = resolved.rawComponents ?? resolved.components.map { Array($0.utf8) }
        let link = "/" + names.map { SafePath.percentEncode($0) }.joined(separator: "/")
        let again = try? SafePath.resolve(Substring(link))
        require(
            again?.components == resolved.components && again?.fileSystemPath(under: "/r") == resolved.fileSystemPath(under: "/r"),
            "\(link) resolves elsewhere"
        )
    }

    // The file handler's fast path for cached files agrees with the full resolution wherever it applies.
    if let plain = SafePath.plainPath(Substring(raw)) {
        let full = try? SafePath.resolve(Substring(raw))
        require(
            full.map { !$0.hasTrailingSlash && !$0.components.isEmpty && $0.relativePath == String(plain) } == true,
            "plainPath(\(raw.debugDescription)) = \(plain) but resolve says \(String(describing: full))"
        )
    }

    // Directory redirects: browsers drop tabs and newlines from a URL before reading it, so check the
    // Location after doing the same; it must stay a path on this host.
    let query = raw.split(separator: "?", maxSplits: 1).dropFirst().first ?? ""
    let location = SafePath.directoryRedirect(rawPath: Substring(raw), query: query)
    require(!location.utf8.contains(where: { $0 < 0x20 || $0 == 0x7F }), "control byte in Location \(location.debugDescription)")
    let seen = location.utf8.filter { $0 != 0x09 && $0 != 0x0A && $0 != 0x0D }
    require(seen.first == 0x2F, "Location does not start with /")
    require(seen.count < 2 || (seen[1] != 0x2F && seen[1] != 0x5C), "Location \(location.debugDescription) names another host")
    return 0
}
