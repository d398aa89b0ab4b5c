// What reaches the terminal: text from the network, escaped and laid out on the dashboard's canvas,
// never carries a control character, a bidi override or an escape sequence, and never spills out
// of the width it was given.
import FuzzCheck
import ServeDashboard
import ServeEngine

func isSafe(_ scalar: Unicode.Scalar) -> Bool {
    let v = scalar.value
    if v < 0x20 || (0x7F...0x9F).contains(v) { return false }
    switch scalar.properties.generalCategory {
    case .format, .lineSeparator, .paragraphSeparator, .surrogate, .privateUse, .unassigned: return false
    default: return true
    }
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzTerminalText(_ data: UnsafePointer<UInt8>?, _ count: Int) -> CInt {
    var reader = FuzzReader(fuzzBytes(data, count))
    let width = Int(reader.byte() % 40)
    let x = Int(reader.byte() % 8)
    let bytes = reader.rest()
    let text = String(decoding: bytes, as: UTF8.self)

    let escaped = TextSanitizer.escape(bytes: bytes)
    for scalar in escaped.unicodeScalars {
        require(isSafe(scalar), "U+\(String(scalar.value, radix: 16)) survived escaping")
    }
    // A backslash only ever starts one of the escapes, so a client cannot forge one.
    require(TextSanitizer.escape(escaped).unicodeScalars.filter { $0 == "\\" }.count
            == 2 * escaped.unicodeScalars.filter { $0 == "\\" }.count, "escaping is not reversible")

    let measured = CellWidth.of(escaped)
    require(measured >= 0 && measured <= 2 * escaped.unicodeScalars.count, "width \(measured)")

    for shown in [text, Format.displayTarget(text)] {
        let cut = Format.middleTruncate(TextSanitizer.escape(shown), width: width)
        if width > 1, CellWidth.of(TextSanitizer.escape(shown)) > width {
            require(CellWidth.of(cut) <= width, "middleTruncate gave \(CellWidth.of(cut)) cells for \(width)")
        }

        var canvas = Canvas(width: 48, height: 1)
        let used = canvas.write(shown, x: x, y: 0, maxWidth: width)
        require(used <= width && used <= 48 - x, "wrote \(used) cells into \(width)")
        for (column, cell) in canvas.cells.enumerated() {
            if column < x || column >= x + used {
                require(cell == .blank, "cell \(column) outside the field was touched")
            }
            if let character = cell.character {
                for scalar in character.unicodeScalars {
                    require(isSafe(scalar), "U+\(String(scalar.value, radix: 16)) on the canvas")
                }
            }
        }
    }
    return 0
}
