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
        /// A `%` not followed by two hex digits, or bytes that are not UTF-8 (400).
        case badEncoding
    }

    /// The decoded path, split and normalised.
    public struct Resolved: Equatable, Sendable {
        /// Components under the root, none empty, `.`, `..` or containing `/`, `\` or NUL.
        public let components: [String]
        /// Whether the request path ended with `/` (a directory must, or it is redirected).
        public let hasTrailingSlash: Bool

        /// The path relative to the root, without a leading `/` (empty for the root itself).
        public var relativePath: String { self.components.joined(separator: "/") }

        /// The file-system path these components name under `root` (an absolute folder path).
        public func path(under root: String) -> String {
            SafePath.join(root, self.components)
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
        guard let decoded = String(validating: bytes, as: UTF8.self) else { throw .badEncoding }
        var components: [String] = []
        for part in decoded.split(whereSeparator: { $0 == "/" || $0 == "\\" }) {
            switch part {
            case ".":
                continue
            case "..":
                if !components.isEmpty { components.removeLast() }
            default:
                components.append(String(part))
            }
        }
        let last = decoded.last
        return Resolved(components: components, hasTrailingSlash: last == "/" || last == "\\")
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
            guard let high = iterator.next().flatMap(Self.hexValue), let low = iterator.next().flatMap(Self.hexValue) else {
                throw .badEncoding
            }
            out.append(high << 4 | low)
        }
        return out
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
        let hex: [UInt8] = Array("0123456789ABCDEF".utf8)
        var out: [UInt8] = []
        for byte in bytes {
            switch byte {
            case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"),
                UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "-"), UInt8(ascii: "."), UInt8(ascii: "_"),
                UInt8(ascii: "~"):
                out.append(byte)
            default:
                out += [UInt8(ascii: "%"), hex[Int(byte >> 4)], hex[Int(byte & 0xF)]]
            }
        }
        return String(decoding: out, as: UTF8.self)
    }

    /// The `Location` for a directory requested without its trailing slash: the same path plus `/`,
    /// query kept. Leading slashes are collapsed to one so the value can never be read as
    /// `//host/...`, a link to another site (CVE-2021-28861).
    public static func directoryRedirect(rawPath: Substring, query: Substring) -> String {
        var path = rawPath.drop(while: { $0 == "/" || $0 == "\\" })
        while path.hasPrefix("%2f") || path.hasPrefix("%2F") || path.hasPrefix("%5c") || path.hasPrefix("%5C") {
            path = path.dropFirst(3).drop(while: { $0 == "/" || $0 == "\\" })
        }
        let location = "/" + path + "/"
        return query.isEmpty ? location : location + "?" + query
    }
}
