import ServeEngine

/// A colour a cell can have; the terminal maps it to a colour pair or, without colour, to an attribute.
public enum CellColor: Int, Sendable, CaseIterable {
    case green = 1, cyan, yellow, red, blue, magenta
}

/// How a cell is drawn.
public struct CellStyle: Equatable, Sendable {
    public var color: CellColor?
    public var bold = false
    public var reverse = false
    public var dim = false
    public var underline = false

    public init(color: CellColor? = nil, bold: Bool = false, reverse: Bool = false, dim: Bool = false, underline: Bool = false) {
        self.color = color
        self.bold = bold
        self.reverse = reverse
        self.dim = dim
        self.underline = underline
    }

    public static let plain = CellStyle()
    public static let bold = CellStyle(bold: true)
    public static let dim = CellStyle(dim: true)
    public static let reverse = CellStyle(reverse: true)
}

/// One terminal cell: a grapheme cluster, or `nil` for the right half of a wide character.
public struct Cell: Equatable, Sendable {
    public var character: Character?
    public var style: CellStyle

    public static let blank = Cell(character: " ", style: .plain)
}

/// A rectangle of cells.
public struct Rect: Equatable, Sendable {
    public var x: Int
    public var y: Int
    public var width: Int
    public var height: Int

    public init(x: Int, y: Int, width: Int, height: Int) {
        self.x = x
        self.y = y
        self.width = max(0, width)
        self.height = max(0, height)
    }

    public var isEmpty: Bool { self.width <= 0 || self.height <= 0 }
    public var maxY: Int { self.y + self.height }
    public var maxX: Int { self.x + self.width }

    /// The top `rows` rows and the rest.
    public func splitTop(_ rows: Int) -> (Rect, Rect) {
        let top = min(max(0, rows), self.height)
        return (
            Rect(x: self.x, y: self.y, width: self.width, height: top),
            Rect(x: self.x, y: self.y + top, width: self.width, height: self.height - top)
        )
    }

    /// The bottom `rows` rows and the rest (rest first).
    public func splitBottom(_ rows: Int) -> (Rect, Rect) {
        let bottom = min(max(0, rows), self.height)
        return (
            Rect(x: self.x, y: self.y, width: self.width, height: self.height - bottom),
            Rect(x: self.x, y: self.maxY - bottom, width: self.width, height: bottom)
        )
    }

    /// The left part of `columns` and the rest.
    public func splitLeft(_ columns: Int) -> (Rect, Rect) {
        let left = min(max(0, columns), self.width)
        return (
            Rect(x: self.x, y: self.y, width: left, height: self.height),
            Rect(x: self.x + left, y: self.y, width: self.width - left, height: self.height)
        )
    }

    /// Shrunk by `amount` on every side.
    public func inset(_ amount: Int) -> Rect {
        Rect(x: self.x + amount, y: self.y + amount, width: self.width - 2 * amount, height: self.height - 2 * amount)
    }
}

/// The screen as a grid of cells: panels draw into it, the terminal shows it, tests read it as text.
///
/// All text enters through `write`, which escapes control and bidi characters (`TextSanitizer`),
/// measures each character's width, and truncates with `…` without splitting a wide character, so
/// no panel can leak raw client bytes or break the column grid.
public struct Canvas: Equatable, Sendable {
    public let width: Int
    public let height: Int
    public private(set) var cells: [Cell]

    public init(width: Int, height: Int) {
        self.width = max(0, width)
        self.height = max(0, height)
        self.cells = Array(repeating: .blank, count: self.width * self.height)
    }

    public var bounds: Rect { Rect(x: 0, y: 0, width: self.width, height: self.height) }

    public subscript(x: Int, y: Int) -> Cell {
        self.cells[y * self.width + x]
    }

    /// Sets one cell, keeping wide characters whole: overwriting either half of a wide character
    /// blanks its other half, so a row always measures exactly `width` cells.
    private mutating func set(_ x: Int, _ y: Int, _ cell: Cell) {
        let index = y * self.width + x
        if self.cells[index].character == nil, x > 0, cell.character != nil {
            // Right half of a wide character: its left half loses its partner.
            self.cells[index - 1].character = " "
        }
        if x + 1 < self.width, self.cells[index + 1].character == nil, self.cells[index].character != nil {
            // Left half of a wide character: blank the orphaned right half.
            self.cells[index + 1].character = " "
        }
        self.cells[index] = cell
    }

    /// Writes `text` at (`x`, `y`) within `maxWidth` cells (default: to the right edge), truncating with
    /// `…`. Returns the number of cells used. `backslashesAsIs` is for text this program composed in
    /// which backslashes are meant (see `TextSanitizer.escape(keepingBackslashes:)`).
    @discardableResult
    public mutating func write(
        _ text: String,
        x: Int,
        y: Int,
        maxWidth: Int? = nil,
        style: CellStyle = .plain,
        backslashesAsIs: Bool = false
    ) -> Int {
        guard y >= 0, y < self.height, x >= 0, x < self.width else { return 0 }
        let limit = min(maxWidth ?? (self.width - x), self.width - x)
        guard limit > 0 else { return 0 }
        let safe = backslashesAsIs ? TextSanitizer.escape(keepingBackslashes: text) : TextSanitizer.escape(text)
        let total = CellWidth.of(safe)
        var column = x
        var used = 0
        let budget = total > limit ? limit - 1 : limit  // leave room for the ellipsis
        for character in safe {
            let w = CellWidth.of(character)
            if w == 0 { continue }
            if used + w > budget { break }
            self.set(column, y, Cell(character: character, style: style))
            if w == 2 {
                if column + 2 < self.width, self.cells[y * self.width + column + 2].character == nil {
                    self.cells[y * self.width + column + 2].character = " "
                }
                self.cells[y * self.width + column + 1] = Cell(character: nil, style: style)
            }
            column += w
            used += w
        }
        if total > limit {
            self.set(column, y, Cell(character: "…", style: style))
            used += 1
        }
        return used
    }

    /// Writes `text` right-aligned so it ends at `x + width`.
    @discardableResult
    public mutating func writeRight(_ text: String, x: Int, y: Int, width: Int, style: CellStyle = .plain) -> Int {
        let w = min(CellWidth.of(TextSanitizer.escape(text)), width)
        return self.write(text, x: x + width - w, y: y, maxWidth: w, style: style)
    }

    /// Fills `rect` with blanks of `style`.
    public mutating func fill(_ rect: Rect, style: CellStyle = .plain) {
        for y in max(0, rect.y)..<min(self.height, rect.maxY) {
            for x in max(0, rect.x)..<min(self.width, rect.maxX) {
                self.set(x, y, Cell(character: " ", style: style))
            }
        }
    }

    /// Sets the style of the cells in `rect`, keeping their characters.
    public mutating func restyle(_ rect: Rect, _ change: (inout CellStyle) -> Void) {
        for y in max(0, rect.y)..<min(self.height, rect.maxY) {
            for x in max(0, rect.x)..<min(self.width, rect.maxX) {
                change(&self.cells[y * self.width + x].style)
            }
        }
    }

    /// A box border around `rect` with a title.
    public mutating func box(_ rect: Rect, title: String, style: CellStyle = .dim, titleStyle: CellStyle = .bold) {
        guard rect.width >= 2, rect.height >= 2 else { return }
        for x in rect.x..<rect.maxX {
            self.set(x, rect.y, Cell(character: "─", style: style))
            self.set(x, rect.maxY - 1, Cell(character: "─", style: style))
        }
        for y in rect.y..<rect.maxY {
            self.set(rect.x, y, Cell(character: "│", style: style))
            self.set(rect.maxX - 1, y, Cell(character: "│", style: style))
        }
        self.set(rect.x, rect.y, Cell(character: "┌", style: style))
        self.set(rect.maxX - 1, rect.y, Cell(character: "┐", style: style))
        self.set(rect.x, rect.maxY - 1, Cell(character: "└", style: style))
        self.set(rect.maxX - 1, rect.maxY - 1, Cell(character: "┘", style: style))
        if !title.isEmpty, rect.width > 4 {
            self.write(" \(title) ", x: rect.x + 1, y: rect.y, maxWidth: rect.width - 2, style: titleStyle)
        }
    }

    /// The grid as text rows (wide characters once, trailing spaces kept), for tests and golden files.
    public var rows: [String] {
        (0..<self.height).map { y in
            var line = ""
            for x in 0..<self.width {
                if let character = self.cells[y * self.width + x].character { line.append(character) }
            }
            return line
        }
    }

    /// The rows joined by newlines, with trailing spaces trimmed: how a failing test shows the screen.
    public var text: String {
        self.rows.map { row in
            var row = row
            while row.last == " " { row.removeLast() }
            return row
        }.joined(separator: "\n")
    }
}
