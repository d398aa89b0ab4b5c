/// How CGI scripts are found and run (`--cgi`, `--cgi-dir`, `--cgi-timeout`, `--cgi-max-body`).
public struct CGIOptions: Sendable, Equatable {
    /// URL folders whose files are scripts: the seed's `cgi_directories`.
    public var directories: [String] = ["/cgi-bin", "/htbin"]
    /// How long a script may go without writing output before its process group is killed.
    public var timeoutSeconds: Double = 30
    /// The largest request body handed to a script; larger requests get 413 before it starts.
    public var maxBodyBytes: Int64 = 64 << 20

    public init() {}

    /// `directories` as normalised path components (`/a/cgi/` → `["a", "cgi"]`); empty ones dropped.
    var directoryComponents: [[String]] {
        self.directories.compactMap { directory in
            guard let resolved = try? SafePath.resolve(directory[...]), resolved.isExact, !resolved.components.isEmpty else { return nil }
            return resolved.components
        }
    }

    var timeoutNanoseconds: Int64 { WallClock.nanoseconds(seconds: self.timeoutSeconds) }

    /// Parses a byte size such as `1048576`, `512K`, `10M` or `1G` (powers of 1024).
    public static func parseByteSize(_ text: String) -> Int64? {
        var digits = Substring(text)
        while digits.first == " " { digits.removeFirst() }
        while digits.last == " " { digits.removeLast() }
        var scale: Int64 = 1
        switch digits.last {
        case "k", "K": scale = 1 << 10
        case "m", "M": scale = 1 << 20
        case "g", "G": scale = 1 << 30
        default: break
        }
        if scale != 1 { digits = digits.dropLast() }
        guard !digits.isEmpty, digits.allSatisfy(\.isASCIIDigit), let value = Int64(digits) else { return nil }
        let (product, overflow) = value.multipliedReportingOverflow(by: scale)
        return overflow ? nil : product
    }
}

extension Character {
    fileprivate var isASCIIDigit: Bool { self.isASCII && self.isNumber }
}

/// Which requests are CGI, decided on the normalised path only.
///
/// `/cgi-bin/../secret` normalises to `/secret` and is not CGI; `/cgi-bin/a/b` is, whatever spelling
/// (`%2f`, `\`, `./`) produced it. A path that is the CGI folder itself is claimed too, so its listing
/// is produced by the CGI handler (names only; nothing runs).
enum CGIRoute {
    /// How many leading components name the CGI folder, or `nil` when `resolved` is not under one.
    static func match(_ resolved: SafePath.Resolved, directories: [[String]]) -> Int? {
        var best: Int?
        // Bytes, not String equality: "\u{212A}" (Kelvin) equals "K" as a String but names another folder.
        for directory in directories where resolved.components.starts(with: directory, by: { $0.utf8.elementsEqual($1.utf8) }) {
            if directory.count > (best ?? 0) { best = directory.count }
        }
        return best
    }
}
