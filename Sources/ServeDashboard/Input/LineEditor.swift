/// A one-line text field: insert at the cursor, Backspace/Delete, arrows, Home/End, Ctrl-A/E/U/K/W.
public struct LineEditor: Equatable, Sendable {
    public private(set) var text: [Character]
    /// Cursor position, 0...text.count.
    public private(set) var cursor: Int

    public init(_ text: String = "") {
        self.text = Array(text)
        self.cursor = self.text.count
    }

    public var string: String { String(self.text) }

    /// Applies an editing key; returns `false` when the key is not an editing key.
    public mutating func handle(_ key: Key) -> Bool {
        switch key {
        case .character(let c):
            self.insert(String(c))
        case .backspace, .control("h"):
            if self.cursor > 0 {
                self.text.remove(at: self.cursor - 1)
                self.cursor -= 1
            }
        case .delete, .control("d"):
            if self.cursor < self.text.count { self.text.remove(at: self.cursor) }
        case .left, .control("b"):
            self.cursor = max(0, self.cursor - 1)
        case .right, .control("f"):
            self.cursor = min(self.text.count, self.cursor + 1)
        case .home, .control("a"):
            self.cursor = 0
        case .end, .control("e"):
            self.cursor = self.text.count
        case .control("u"):
            self.text.removeFirst(self.cursor)
            self.cursor = 0
        case .control("k"):
            self.text.removeLast(self.text.count - self.cursor)
        case .control("w"):
            var start = self.cursor
            while start > 0, self.text[start - 1] == "/" || self.text[start - 1] == " " { start -= 1 }
            while start > 0, self.text[start - 1] != "/", self.text[start - 1] != " " { start -= 1 }
            self.text.removeSubrange(start..<self.cursor)
            self.cursor = start
        default:
            return false
        }
        return true
    }

    public mutating func insert(_ string: String) {
        let characters = Array(string)
        self.text.insert(contentsOf: characters, at: self.cursor)
        self.cursor += characters.count
    }

    /// Replaces everything.
    public mutating func set(_ string: String) {
        self.text = Array(string)
        self.cursor = self.text.count
    }
}
