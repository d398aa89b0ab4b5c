import CNcurses

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The terminal through ncursesw: the only code in the project that calls ncurses.
///
/// ncurses is not thread-safe: create, use and restore this on one thread (the main thread).
public final class NcursesTerminal: TerminalDevice {
    /// Why the dashboard cannot start on this terminal.
    public enum Failure: Error, CustomStringConvertible {
        case unusableTerminal(String)

        public var description: String {
            switch self {
            case .unusableTerminal(let term): "cannot use terminal type '\(term)'"
            }
        }
    }

    private let screen: OpaquePointer
    private let colors: Bool
    private var previous: Canvas?
    private var restored = false

    /// Takes over the terminal. `color: false` (or `NO_COLOR`) draws with attributes only.
    public init(color: Bool) throws {
        setlocale(LC_ALL, "")
        let term = getenv("TERM").map { String(cString: $0) } ?? ""
        guard !term.isEmpty, term != "dumb", let screen = cn_newterm(nil) else {
            throw Failure.unusableTerminal(term.isEmpty ? "(unset)" : term)
        }
        self.screen = screen
        set_term(screen)
        cbreak()
        noecho()
        nonl()
        _ = cn_keypad()
        curs_set(0)
        set_escdelay(25)
        var useColor = false
        if color, has_colors() {
            start_color()
            use_default_colors()
            let map: [(CellColor, Int32)] = [
                (.green, COLOR_GREEN), (.cyan, COLOR_CYAN), (.yellow, COLOR_YELLOW),
                (.red, COLOR_RED), (.blue, COLOR_BLUE), (.magenta, COLOR_MAGENTA),
            ]
            for (cell, curses) in map { init_pair(Int16(cell.rawValue), Int16(curses), -1) }
            useColor = true
        }
        self.colors = useColor
        cn_install_fatal_restore()
    }

    deinit { self.restore() }

    public var size: (width: Int, height: Int) {
        (Int(cn_getmaxx(cn_stdscr())), Int(cn_getmaxy(cn_stdscr())))
    }

    public func readKey(timeoutMilliseconds: Int) -> Key? {
        guard !self.restored else { return nil }
        cn_timeout(Int32(timeoutMilliseconds))
        // ncurses learns of resizes through SIGWINCH; ask the terminal too, in case it never came.
        var rows: Int32 = 0
        var columns: Int32 = 0
        if cn_window_size(&rows, &columns) == 0, rows != cn_getmaxy(cn_stdscr()) || columns != cn_getmaxx(cn_stdscr()) {
            resizeterm(rows, columns)
            return .resize
        }
        var character: wint_t = 0
        let result = cn_get_wch(&character)
        if result == ERR { return nil }
        if result == cn_key_code_yes() { return Self.functionKey(Int32(character)) }
        return Self.characterKey(UInt32(character))
    }

    static func functionKey(_ code: Int32) -> Key? {
        switch code {
        case KEY_UP: .up
        case KEY_DOWN: .down
        case KEY_LEFT: .left
        case KEY_RIGHT: .right
        case KEY_HOME: .home
        case KEY_END: .end
        case KEY_PPAGE: .pageUp
        case KEY_NPAGE: .pageDown
        case KEY_BACKSPACE: .backspace
        case KEY_DC: .delete
        case KEY_ENTER: .enter
        case KEY_BTAB: .backTab
        case KEY_RESIZE: .resize
        case KEY_F0 + 1...KEY_F0 + 12: .function(Int(code - KEY_F0))
        default: nil
        }
    }

    static func characterKey(_ value: UInt32) -> Key? {
        switch value {
        case 10, 13: return .enter
        case 27: return .escape
        case 9: return .tab
        case 8, 127: return .backspace
        case 1...26: return .control(Character(Unicode.Scalar(value + 96)!))
        default:
            guard let scalar = Unicode.Scalar(value) else { return nil }
            return .character(Character(scalar))
        }
    }

    public func draw(_ canvas: Canvas) {
        guard !self.restored else { return }
        let resized = self.previous.map { $0.width != canvas.width || $0.height != canvas.height } ?? true
        if resized {
            _ = cn_erase()
            _ = cn_clearok()
        }
        for y in 0..<canvas.height {
            if !resized, let previous = self.previous, Self.rowEqual(previous, canvas, y) { continue }
            self.drawRow(canvas, y)
        }
        self.previous = canvas
        _ = cn_refresh()
    }

    private static func rowEqual(_ a: Canvas, _ b: Canvas, _ y: Int) -> Bool {
        for x in 0..<a.width where a[x, y] != b[x, y] { return false }
        return true
    }

    /// Draws one row as runs of equally styled cells.
    private func drawRow(_ canvas: Canvas, _ y: Int) {
        var x = 0
        while x < canvas.width {
            let style = canvas[x, y].style
            var text: [wchar_t] = []
            let start = x
            while x < canvas.width, canvas[x, y].style == style {
                if let character = canvas[x, y].character {
                    for scalar in character.unicodeScalars { text.append(wchar_t(bitPattern: scalar.value)) }
                }
                x += 1
            }
            text.append(0)
            let (attributes, pair) = self.attributes(for: style)
            _ = cn_attrset(attributes, pair)
            _ = cn_mvaddwstr(Int32(y), Int32(start), text)
        }
        _ = cn_attrset(cn_a_normal(), 0)
    }

    private func attributes(for style: CellStyle) -> (attr_t, Int32) {
        var attributes = cn_a_normal()
        if style.bold { attributes |= cn_a_bold() }
        if style.reverse { attributes |= cn_a_reverse() }
        if style.dim { attributes |= cn_a_dim() }
        if style.underline { attributes |= cn_a_underline() }
        guard let color = style.color else { return (attributes, 0) }
        if self.colors { return (attributes, Int32(color.rawValue)) }
        // Without colour, errors stand out by weight rather than hue.
        if color == .red || color == .yellow { attributes |= cn_a_bold() }
        return (attributes, 0)
    }

    /// Ends curses mode and gives the terminal back (`endwin`); idempotent.
    public func restore() {
        guard !self.restored else { return }
        self.restored = true
        endwin()
        delscreen(self.screen)
    }
}
