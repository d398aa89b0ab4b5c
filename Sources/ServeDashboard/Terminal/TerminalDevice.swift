/// What the dashboard needs from a terminal; `NcursesTerminal` is the real one, tests use fakes.
public protocol TerminalDevice: AnyObject {
    /// Columns and rows now.
    var size: (width: Int, height: Int) { get }
    /// The next key, or `nil` after `timeoutMilliseconds` without one.
    func readKey(timeoutMilliseconds: Int) -> Key?
    /// Shows `canvas`, sending only what changed since the last frame.
    func draw(_ canvas: Canvas)
    /// Puts the terminal back as it was. Safe to call more than once.
    func restore()
}
