import Foundation

/// TeX formulas in the prose, typeset as MathML by pandoc (Chromium, Firefox
/// and Safari render MathML Core natively, so the page stays self-contained:
/// no script, no font to fetch).
///
/// In the prose, `$…$` is a formula in the line and `$$…$$` one on its own,
/// by pandoc's rules: an opening `$` is followed by a non-space, a closing one
/// follows a non-space and is not followed by a digit (so "$5 and $6" is
/// text). Code spans and fenced blocks are left alone.
enum Math {
    struct Formula: Equatable {
        var tex: String
        var display: Bool
    }

    /// The markdown with each formula replaced by a placeholder Ink passes
    /// through as a word, and the formulas in order.
    static func extract(_ lines: [String]) -> (lines: [String], formulas: [Formula]) {
        var formulas: [Formula] = []
        var out: [String] = []
        var inFence = false
        for line in lines {
            let trimmed = line.trimmingCharacters(in: .whitespaces)
            if trimmed.hasPrefix("```") || trimmed.hasPrefix("~~~") { inFence.toggle() }
            if inFence || !line.contains("$") { out.append(line); continue }
            out.append(replace(line, &formulas))
        }
        return (out, formulas)
    }

    static func placeholder(_ k: Int) -> String { "MATHFORMULA\(k)X" }

    private static func replace(_ line: String, _ formulas: inout [Formula]) -> String {
        let c = Array(line)
        var out = "", i = 0, inCode = false
        while i < c.count {
            if c[i] == "`" { inCode.toggle() }
            guard !inCode, c[i] == "$", i == 0 || c[i - 1] != "\\" else { out.append(c[i]); i += 1; continue }
            let display = i + 1 < c.count && c[i + 1] == "$"
            let open = display ? 2 : 1
            if let end = closing(c, from: i + open, display: display) {
                formulas.append(Formula(tex: String(c[(i + open)..<end]), display: display))
                out += placeholder(formulas.count - 1)
                i = end + open
            } else {
                out.append(c[i]); i += 1
            }
        }
        return out
    }

    private static func closing(_ c: [Character], from start: Int, display: Bool) -> Int? {
        guard start < c.count, !c[start].isWhitespace else { return nil }
        var j = start
        while j < c.count {
            if c[j] == "\\" { j += 2; continue }
            if c[j] == "$" {
                if display {
                    if j + 1 < c.count, c[j + 1] == "$" { return j }
                } else if !c[j - 1].isWhitespace, j + 1 == c.count || !c[j + 1].isNumber {
                    return j
                }
            }
            j += 1
        }
        return nil
    }

    /// The formulas as MathML, in one run of pandoc; the error names a formula
    /// pandoc could not read, or says how to install pandoc.
    static func mathML(_ formulas: [Formula]) throws -> [String] {
        guard !formulas.isEmpty else { return [] }
        let input = formulas.map { $0.display ? "$$\($0.tex)$$" : "$\($0.tex)$" }.joined(separator: "\n\n")
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["pandoc", "--from", "markdown", "--to", "html", "--mathml"]
        let stdin = Pipe(), stdout = Pipe(), stderr = Pipe()
        process.standardInput = stdin; process.standardOutput = stdout; process.standardError = stderr
        do { try process.run() } catch { throw WeaveProblem("cannot run pandoc: \(error)") }
        // Write on another thread: a large input must not fill the pipe while its output waits unread.
        let writer = Thread { stdin.fileHandleForWriting.write(Data(input.utf8)); try? stdin.fileHandleForWriting.close() }
        writer.start()
        let output = stdout.fileHandleForReading.readDataToEndOfFile()
        let errors = String(decoding: stderr.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        guard process.terminationStatus == 0 else {
            if process.terminationStatus == 127 {
                throw WeaveProblem("pandoc is needed to typeset the prose's formulas; install it (apt-get install pandoc, or make deps)")
            }
            throw WeaveProblem("pandoc failed: " + errors.split(separator: "\n").prefix(1).joined())
        }
        // One paragraph per formula, in order; pandoc leaves one it cannot read as TeX text.
        let html = String(decoding: output, as: UTF8.self)
        var elements: [String] = []
        var rest = html[...]
        while let open = rest.range(of: "<p>"), let close = rest.range(of: "</p>", range: open.upperBound..<rest.endIndex) {
            let paragraph = rest[open.upperBound..<close.lowerBound]
            guard elements.count < formulas.count else { break }
            guard paragraph.hasPrefix("<math") else {
                throw WeaveProblem("pandoc could not read the formula '\(formulas[elements.count].tex)'")
            }
            elements.append(String(paragraph))
            rest = rest[close.upperBound...]
        }
        guard elements.count == formulas.count else { throw WeaveProblem("pandoc typeset \(elements.count) of \(formulas.count) formulas") }
        return elements
    }
}
