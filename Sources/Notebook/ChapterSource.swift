/// Cuts a chapter's Swift source into prose and code, in reading order.
///
/// Prose is Swift Playground markup: the text after `//:` on a line (one space
/// after the marker is dropped), and the lines of a `/*: … */` block (with
/// their common indentation removed, so Markdown does not see an indented code
/// block). Every other line is code, except the `import` lines that open the
/// file.
enum ChapterSource {
    enum Piece: Equatable {
        case prose([String])
        case code([String])
    }

    static func pieces(of source: String) -> [Piece] {
        var pieces: [Piece] = []
        var block: [String]?              // lines of an open /*: block
        var previousWasLineProse = false  // consecutive //: lines form one text

        func addProse(_ lines: [String], joinDirectly: Bool) {
            if case .prose(let earlier) = pieces.last {
                pieces[pieces.count - 1] = .prose(earlier + (joinDirectly ? [] : [""]) + lines)
            } else {
                pieces.append(.prose(lines))
            }
        }
        func addCode(_ line: String) {
            if case .code(let earlier) = pieces.last {
                pieces[pieces.count - 1] = .code(earlier + [line])
            } else {
                pieces.append(.code([line]))
            }
        }
        // Feeds one line to the open block; closes it at "*/".
        func continueBlock(_ line: Substring) {
            guard let end = line.range(of: "*/") else {
                block?.append(String(line))
                return
            }
            block?.append(String(line[..<end.lowerBound]))
            addProse(dedent(block ?? []), joinDirectly: false)
            block = nil
            let rest = line[end.upperBound...]
            if !rest.allSatisfy(\.isWhitespace) { addCode(String(rest)) }
        }

        for rawLine in source.split(separator: "\n", omittingEmptySubsequences: false) {
            let line = rawLine.hasSuffix("\r") ? rawLine.dropLast() : rawLine
            if block != nil {
                continueBlock(line)
                previousWasLineProse = false
                continue
            }
            let trimmed = line.drop { $0 == " " || $0 == "\t" }
            if trimmed.hasPrefix("//:") {
                var text = trimmed.dropFirst(3)
                if text.first == " " { text = text.dropFirst() }
                addProse([String(text)], joinDirectly: previousWasLineProse)
                previousWasLineProse = true
            } else if trimmed.hasPrefix("/*:") {
                block = []
                continueBlock(trimmed.dropFirst(3))
                previousWasLineProse = false
            } else {
                addCode(String(line))
                previousWasLineProse = false
            }
        }
        if let open = block { addProse(dedent(open), joinDirectly: false) }   // unclosed: the compiler will say so

        return dropLeadingImports(tidy(pieces))
    }

    /// The `import` lines at the top of a chapter would otherwise open its
    /// section above the title; the reader learns nothing from them there.
    /// Imports anywhere else stay, as does a first run with any other code.
    private static func dropLeadingImports(_ pieces: [Piece]) -> [Piece] {
        guard case .code(let lines) = pieces.first,
              lines.allSatisfy({ $0.allSatisfy(\.isWhitespace) || isImport($0) }) else { return pieces }
        return Array(pieces.dropFirst())
    }

    /// "import Foundation", "@testable import Notebook", "import struct Kernels.Bits".
    private static func isImport(_ line: String) -> Bool {
        line.split(separator: " ").drop { $0.hasPrefix("@") }.first == "import"
    }

    /// Drops code that is only blank lines (the gaps between comments), joins
    /// the prose that gap separated, and trims blank lines around code.
    private static func tidy(_ pieces: [Piece]) -> [Piece] {
        var out: [Piece] = []
        for piece in pieces {
            switch piece {
            case .code(let lines):
                let trimmed = trimBlankEnds(lines)
                if !trimmed.isEmpty { out.append(.code(trimmed)) }
            case .prose(let lines):
                if case .prose(let earlier) = out.last {
                    out[out.count - 1] = .prose(earlier + [""] + lines)
                } else {
                    out.append(.prose(lines))
                }
            }
        }
        return out
    }

    private static func trimBlankEnds(_ lines: [String]) -> [String] {
        let isBlank: (String) -> Bool = { $0.allSatisfy(\.isWhitespace) }
        guard let first = lines.firstIndex(where: { !isBlank($0) }),
              let last = lines.lastIndex(where: { !isBlank($0) }) else { return [] }
        return Array(lines[first...last])
    }

    /// Removes the indentation all non-blank lines share. The first line (the
    /// text after `/*:`) only loses its own leading spaces.
    private static func dedent(_ lines: [String]) -> [String] {
        guard let first = lines.first else { return [] }
        let rest = lines.dropFirst()
        let indents = rest.filter { !$0.allSatisfy(\.isWhitespace) }
            .map { $0.prefix { $0 == " " || $0 == "\t" }.count }
        let common = indents.min() ?? 0
        let head = String(first.drop { $0 == " " || $0 == "\t" })
        return [head] + rest.map { $0.allSatisfy(\.isWhitespace) ? "" : String($0.dropFirst(common)) }
    }

    /// A title for a chapter without a `#` heading: its file's name, or for
    /// `…/FirstLook/main.swift` the folder's.
    static func fallbackTitle(for chapter: String) -> String {
        let parts = chapter.split(separator: "/")
        guard let file = parts.last else { return chapter }
        if file == "main.swift", parts.count > 1 { return String(parts[parts.count - 2]) }
        return file.hasSuffix(".swift") ? String(file.dropLast(6)) : String(file)
    }
}
