/// How many terminal cells a character takes, computed in Swift so layout is testable without a terminal.
///
/// East Asian Wide and Fullwidth characters and emoji take two cells; combining marks are part of
/// their base character's grapheme cluster and add nothing; everything else takes one. This matches
/// glibc's `wcwidth` for the ranges that matter here (checked against it in tmux).
public enum CellWidth {
    /// Width of one grapheme cluster: 0, 1 or 2.
    public static func of(_ character: Character) -> Int {
        var width = 0
        for scalar in character.unicodeScalars {
            let w = Self.of(scalar)
            if w > width { width = w }
        }
        // A text-style character turned emoji by U+FE0F is shown wide by most terminals.
        if width == 1, character.unicodeScalars.contains(where: { $0.value == 0xFE0F }) { width = 2 }
        return width
    }

    /// Width of a single scalar.
    public static func of(_ scalar: Unicode.Scalar) -> Int {
        let v = scalar.value
        if v < 0x20 || (0x7F..<0xA0).contains(v) { return 0 }
        if v < 0x300 { return 1 }
        switch scalar.properties.generalCategory {
        case .nonspacingMark, .enclosingMark, .format: return 0
        default: break
        }
        if v == 0x200B || (0x1160...0x11FF).contains(v) { return 0 }
        if Self.isWide(v) || scalar.properties.isEmojiPresentation { return 2 }
        return 1
    }

    /// Total width of a string.
    public static func of(_ text: String) -> Int {
        // Printable ASCII, most of what is drawn (paths, numbers, headings), is one cell a byte:
        // no grapheme breaking.
        if text.utf8.allSatisfy({ $0 >= 0x20 && $0 < 0x7F }) { return text.utf8.count }
        var total = 0
        for character in text { total += Self.of(character) }
        return total
    }

    private static func isWide(_ v: UInt32) -> Bool {
        switch v {
        case 0x1100...0x115F, 0x231A...0x231B, 0x2329...0x232A, 0x2E80...0x303E, 0x3041...0x33FF,
            0x3400...0x4DBF, 0x4E00...0x9FFF, 0xA000...0xA4CF, 0xA960...0xA97F, 0xAC00...0xD7A3,
            0xF900...0xFAFF, 0xFE10...0xFE19, 0xFE30...0xFE6F, 0xFF00...0xFF60, 0xFFE0...0xFFE6,
            0x16FE0...0x18AFF, 0x1B000...0x1B2FF, 0x1F200...0x1F2FF, 0x1F300...0x1F64F, 0x1F680...0x1F6FF,
            0x1F900...0x1F9FF, 0x1FA70...0x1FAFF, 0x20000...0x2FFFD, 0x30000...0x3FFFD:
            return true
        default:
            return false
        }
    }
}
