/// Turns a request path into components under the served root; nothing it returns can leave the root.
///
/// The seed's `translate_path`, done as one pure function: the query and fragment are already cut
/// off by `Request.rawPath`; the path is percent-decoded exactly once; `/` and `\` both separate
/// components; empty and `.` components are dropped; `..` removes the previous component and is
/// ignored at the root (like `posixpath.normpath` on an absolute path). Because decoding happens once,
/// `%2e%2e` is `..` but `%252e%252e` stays the literal name `%2e%2e`.
public enum SafePath {
    /// Why a path is refused.
    public enum Failure: Error, Equatable {
        /// `%00` or a raw NUL: no file name can contain it (400).
        case nulByte
        /// A `%` not followed by two hex digits (400).
        case badEncoding
    }

    /// The decoded path, split and normalised.
    public struct Resolved: Equatable, Sendable {
        /// Components under the root, none empty, `.`, `..` or containing `/`, `\` or NUL. Bytes
        /// that are not UTF-8 read as U+FFFD here (see `rawComponents`).
        public let components: [String]
        /// Whether the request path ended with `/` (a directory must, or it is redirected).
        public let hasTrailingSlash: Bool
        /// The components' bytes when one is not UTF-8 (`%E9` for a name a Latin-1 system wrote),
        /// else `nil`: `components` are then the names exactly. Such a path names its file only
        /// through `fileSystemPath(under:)`; never look it up by `components`.
        public let rawComponents: [[UInt8]]?

        init(components: [String], hasTrailingSlash: Bool, rawComponents: [[UInt8]]? = nil) {
            self.components = components
            self.hasTrailingSlash = hasTrailingSlash
            self.rawComponents = rawComponents
        }

        /// Whether `components` are the names exactly (every one UTF-8).
        public var isExact: Bool { self.rawComponents == nil }

        /// The path relative to the root, without a leading `/` (empty for the root itself).
        public var relativePath: String { self.components.joined(separator: "/") }

        /// The file-system path these components name under `root` (an absolute folder path).
        func fileSystemPath(under root: String) -> FileSystemPath {
            guard let rawComponents = self.rawComponents else { return FileSystemPath(SafePath.join(root, self.components)) }
            return rawComponents.reduce(FileSystemPath(root)) { $0.appending($1) }
        }

        /// `/a/b/` as shown to people (decoded, normalised, with the trailing slash when present).
        public var displayPath: String {
            let joined = "/" + self.relativePath
            return self.hasTrailingSlash && !self.components.isEmpty ? joined + "/" : joined
        }
    }

    /// Resolves `rawPath` (still percent-encoded, without query or fragment).
    public static func resolve(_ rawPath: Substring) throws(Failure) -> Resolved {
        let bytes = try Self.percentDecode(rawPath)
        guard !bytes.contains(0) else { throw .nulByte }
        let isUTF8 = String(validating: bytes, as: UTF8.self) != nil
        var rawComponents: [[UInt8]] = []
        // Split and compare bytes, not Characters: a combining mark after `/` makes one grapheme
        // with it (`/\u{301}`), which a Character split would not treat as a separator although the
        // kernel does (found by Fuzz/fuzz-safe-path).
        var components: [String] = []
        for part in bytes.split(whereSeparator: { $0 == UInt8(ascii: "/") || $0 == UInt8(ascii: "\\") }) {
            if part.elementsEqual([UInt8(ascii: ".")]) { continue }
            if part.elementsEqual([UInt8(ascii: "."), UInt8(ascii: ".")]) {
                if !components.isEmpty { components.removeLast() }
                if !isUTF8, !rawComponents.isEmpty { rawComponents.removeLast() }
                continue
            }
            // In a UTF-8 path each part is UTF-8 on its own: the separators are ASCII, never inside
            // a sequence. Otherwise the bytes are kept as they are: only `.`, `..`, `/`, `\` and NUL
            // mean anything to the kernel, so no other byte can lead out of the root.
            components.append(String(decoding: part, as: UTF8.self))
            if !isUTF8 { rawComponents.append(Array(part)) }
        }
        let last = bytes.last
        // `/%FF/../a` is exact again: what is left is UTF-8.
        let exact = isUTF8 || rawComponents.allSatisfy { String(validating: $0, as: UTF8.self) != nil }
        return Resolved(
            components: components,
            hasTrailingSlash: last == UInt8(ascii: "/") || last == UInt8(ascii: "\\"),
            rawComponents: exact ? nil : rawComponents
        )
    }

    /// `rawPath` relative to the root (without its leading `/`) when it is already in normal form:
    /// `/`-separated components of unreserved bytes (letters, digits, `-`, `_`, `~`, `.`), none
    /// empty, `.` or `..`, no trailing slash, no `%`. Then decoding and normalising would change
    /// nothing, and this equals `resolve(rawPath).relativePath` (`Fuzz/fuzz-safe-path` asserts it)
    /// without the arrays `resolve` builds or a copy: the hot path of every cached file. `nil`
    /// otherwise.
    public static func plainPath(_ rawPath: Substring) -> Substring? {
        // Every cached hit passes here: the bytes are read from the string's storage (iterating a
        // Substring's UTF-8 view cost ~1,000 instructions a request, by callgrind).
        let plain = rawPath.utf8.withContiguousStorageIfAvailable(Self.isPlainPath) ?? Self.isPlainPath(Array(rawPath.utf8))
        return plain ? rawPath.dropFirst() : nil
    }

    /// `/` then components of unreserved bytes, none empty, `.` or `..`.
    private static func isPlainPath<Bytes: Collection<UInt8>>(_ bytes: Bytes) -> Bool {
        guard bytes.count > 1, bytes.first == UInt8(ascii: "/") else { return false }
        // A component needs work unless it has bytes and is more than one or two dots.
        func isPlain(length: Int, dots: Int) -> Bool { length > 0 && (dots < length || length > 2) }
        var length = 0
        var dots = 0
        for byte in bytes.dropFirst() {
            if byte == UInt8(ascii: "/") {
                guard isPlain(length: length, dots: dots) else { return false }
                (length, dots) = (0, 0)
                continue
            }
            guard Self.isUnreserved(byte) else { return false }
            if byte == UInt8(ascii: ".") { dots += 1 }
            length += 1
        }
        return isPlain(length: length, dots: dots)
    }

    /// `root` followed by `components`, without a doubled `/` when the root is `/` itself.
    static func join(_ root: String, _ components: [String]) -> String {
        guard !components.isEmpty else { return root }
        return (root == "/" ? "" : root) + "/" + components.joined(separator: "/")
    }

    /// Percent-decodes once (RFC 3986 §2.1). `+` is kept: it only means space in query strings.
    static func percentDecode(_ text: Substring) throws(Failure) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(text.utf8.count)
        var iterator = text.utf8.makeIterator()
        while let byte = iterator.next() {
            guard byte == UInt8(ascii: "%") else {
                out.append(byte)
                continue
            }
            guard let decoded = Self.decodedByte(iterator.next(), iterator.next()) else {
                throw .badEncoding
            }
            out.append(decoded)
        }
        return out
    }

    /// The byte two hex digits name (`2f` → `/`), or `nil`.
    private static func decodedByte(_ high: UInt8?, _ low: UInt8?) -> UInt8? {
        guard let high = high.flatMap(Self.hexValue), let low = low.flatMap(Self.hexValue) else { return nil }
        return high << 4 | low
    }

    private static func hexValue(_ byte: UInt8) -> UInt8? {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): byte - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): byte - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): byte - UInt8(ascii: "A") + 10
        default: nil
        }
    }

    /// Percent-encodes every byte outside RFC 3986's unreserved set, for links to names that
    /// contain spaces, `#`, `?`, `%`, `&`, markup, CJK or emoji.
    public static func percentEncode(_ bytes: some Sequence<UInt8>) -> String {
        Self.percentEncode(bytes, keeping: Self.isUnreserved)
    }

    /// RFC 3986 §2.3: letters, digits, `-`, `.`, `_`, `~`.
    static func isUnreserved(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"),
            UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "-"), UInt8(ascii: "."), UInt8(ascii: "_"),
            UInt8(ascii: "~"):
            true
        default:
            false
        }
    }

    /// `bytes` with every byte `keep` refuses written as `%XX`.
    /// (Three appends per escaped byte, no array literal each: a listing encodes every name.)
    private static func percentEncode(_ bytes: some Sequence<UInt8>, keeping keep: (UInt8) -> Bool) -> String {
        func hex(_ nibble: UInt8) -> UInt8 { nibble < 10 ? UInt8(ascii: "0") + nibble : UInt8(ascii: "A") + nibble - 10 }
        var out: [UInt8] = []
        out.reserveCapacity(bytes.underestimatedCount * 3)
        for byte in bytes {
            if keep(byte) {
                out.append(byte)
            } else {
                out.append(UInt8(ascii: "%"))
                out.append(hex(byte >> 4))
                out.append(hex(byte & 0xF))
            }
        }
        return String(decoding: out, as: UTF8.self)
    }

    /// The `Location` for a directory requested without its trailing slash: the same path plus `/`,
    /// query kept. Leading slashes are collapsed to one so the value can never be read as
    /// `//host/...`, a link to another site (CVE-2021-28861).
    public static func directoryRedirect(rawPath: Substring, query: Substring) -> String {
        // On bytes: as Characters, `/` followed by a combining mark is one grapheme that is not "/",
        // so `//\u{34B}host` kept its second slash (found by Fuzz/fuzz-safe-path).
        var bytes = Substring(rawPath).utf8[...]
        while let first = bytes.first {
            if first == UInt8(ascii: "/") || first == UInt8(ascii: "\\") {
                bytes = bytes.dropFirst()
            } else if first == UInt8(ascii: "%"), let slash = Self.decodedByte(bytes.dropFirst().first, bytes.dropFirst(2).first),
                slash == UInt8(ascii: "/") || slash == UInt8(ascii: "\\")
            {
                bytes = bytes.dropFirst(3)
            } else {
                break
            }
        }
        let path = Substring(bytes)
        // Control bytes and spaces are percent-encoded: browsers drop tabs and newlines from a
        // URL (so `/\t/host` would read as `//host`), and no raw control byte belongs in a header.
        let location = path.isEmpty ? "/" : "/" + Self.encodingControls(path) + "/"
        return query.isEmpty ? location : location + "?" + Self.encodingControls(query)
    }

    private static func encodingControls(_ text: Substring) -> String {
        Self.percentEncode(text.utf8) { $0 > 0x20 && $0 != 0x7F }
    }
}
