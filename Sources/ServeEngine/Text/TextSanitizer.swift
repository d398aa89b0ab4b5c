/// Makes text that came from the network safe to print on a terminal.
///
/// Control characters (C0, DEL, C1, which includes ESC) become `\xNN`; Unicode format characters
/// (bidi overrides such as U+202E, zero-width characters, BOM) and line/paragraph separators become
/// `\uNNNN`; a backslash becomes `\\` so an escaped sequence cannot be forged by the client.
/// Everything else, including CJK and emoji, is kept.
public enum TextSanitizer {
    /// The escaped form of `text`; returns `text` itself when nothing needs escaping (the common case).
    public static func escape(_ text: String) -> String {
        Self.isPlainASCII(text) ? text : Self.escaped(text, keepingBackslashes: false)
    }

    /// `escape`, but a backslash stays one backslash: for text the program wrote itself in which a
    /// backslash means something (a shell command's `$'\x1b'`), so what is shown can be copied back.
    /// Control and invisible characters are still escaped.
    public static func escape(keepingBackslashes text: String) -> String {
        Self.needsEscape(keepingBackslashes: text) ? Self.escaped(text, keepingBackslashes: true) : text
    }

    /// Whether `escape(keepingBackslashes:)` would change `text`: it holds a control or invisible character.
    public static func needsEscape(keepingBackslashes text: String) -> Bool {
        text.unicodeScalars.contains { $0 != "\\" && Self.needsEscape($0) }
    }

    private static func escaped(_ text: String, keepingBackslashes: Bool) -> String {
        var out = String()
        out.reserveCapacity(text.utf8.count + 8)
        for scalar in text.unicodeScalars {
            if keepingBackslashes, scalar == "\\" { out += "\\" } else { Self.append(scalar, to: &out) }
        }
        return out
    }

    /// The escaped form of raw bytes that may not be UTF-8 (invalid sequences become U+FFFD).
    public static func escape(bytes: some Collection<UInt8>) -> String {
        Self.escape(String(decoding: bytes, as: UTF8.self))
    }

    /// Whether `scalar` would be shown escaped.
    public static func needsEscape(_ scalar: Unicode.Scalar) -> Bool {
        let value = scalar.value
        if value < 0x20 || value == 0x5C || (0x7F...0x9F).contains(value) { return true }
        if value < 0x7F { return false }
        switch scalar.properties.generalCategory {
        case .format, .lineSeparator, .paragraphSeparator, .surrogate, .privateUse, .unassigned:
            return true
        default:
            return false
        }
    }

    /// Appends `escape(text)` as UTF-8 to `out`, reading plain text (the common case) once from
    /// the string's storage: the access log does this for three strings per request.
    public static func appendEscaped(_ text: String, to out: inout [UInt8]) {
        let copied = text.utf8.withContiguousStorageIfAvailable { bytes -> Bool in
            guard bytes.allSatisfy(Self.isPlainByte) else { return false }
            out.append(contentsOf: bytes)
            return true
        }
        if copied != true { out.append(contentsOf: Self.escape(text).utf8) }
    }

    /// Read from the string's storage when it is contiguous (native strings are).
    private static func isPlainASCII(_ text: String) -> Bool {
        text.utf8.withContiguousStorageIfAvailable { $0.allSatisfy(Self.isPlainByte) } ?? text.utf8.allSatisfy(Self.isPlainByte)
    }

    /// Printable ASCII other than the backslash: shown as it is.
    private static func isPlainByte(_ byte: UInt8) -> Bool { byte >= 0x20 && byte < 0x7F && byte != 0x5C }

    /// `\xNN`, lowercase: how a byte is shown escaped.
    public static func hexEscape(_ byte: UInt8) -> String {
        var out = ""
        Self.appendHex(byte, to: &out)
        return out
    }

    private static func append(_ scalar: Unicode.Scalar, to out: inout String) {
        guard Self.needsEscape(scalar) else {
            out.unicodeScalars.append(scalar)
            return
        }
        let value = scalar.value
        if value == 0x5C {
            out += "\\\\"
        } else if value <= 0xFF {
            Self.appendHex(UInt8(value), to: &out)
        } else {
            let hex = String(value, radix: 16)
            out += value > 0xFFFF ? "\\U" + String(repeating: "0", count: max(0, 8 - hex.count)) + hex
                : "\\u" + String(repeating: "0", count: max(0, 4 - hex.count)) + hex
        }
    }

    private static func appendHex(_ byte: UInt8, to out: inout String) {
        let digits: [Character] = ["0", "1", "2", "3", "4", "5", "6", "7", "8", "9", "a", "b", "c", "d", "e", "f"]
        out += "\\x"
        out.append(digits[Int(byte >> 4)])
        out.append(digits[Int(byte & 0xF)])
    }
}
