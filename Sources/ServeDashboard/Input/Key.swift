/// A key press, independent of the terminal library.
public enum Key: Equatable, Sendable {
    case character(Character)
    /// Ctrl plus a letter, for example `.control("u")`.
    case control(Character)
    case up, down, left, right
    case pageUp, pageDown, home, end
    case enter, escape, tab, backTab, backspace, delete
    case function(Int)
    /// The terminal changed size.
    case resize
}
