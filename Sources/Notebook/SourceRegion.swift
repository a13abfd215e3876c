import Files
import Foundation

/// A named stretch of a library file, for `{{source: PATH#NAME}}`: the report
/// shows the code an idea is made of, not only the chapter's harness.
///
/// A region is marked in the source by a comment pair on lines of their own,
///
///     // region: forward
///     public func forward(…) { … }
///     // end region: forward
///
/// which the compiler ignores and the report leaves out. Regions may nest or
/// overlap; a name is used once per file. Without `#NAME` the directive shows
/// the whole file.
struct SourceRegion {
    var path: String          // as written in the directive, relative to the root
    var name: String?
    var lines: [(number: Int, text: String)]   // 1-based numbers in the file as it is; markers left out

    static let open = "// region: ", close = "// end region: "

    /// Reads `path#name` under `root`; the error says what is missing.
    init(_ reference: String, root: URL) throws {
        let parts = reference.split(separator: "#", maxSplits: 1).map(String.init)
        path = parts.first ?? ""
        name = parts.count > 1 ? parts[1] : nil
        guard !path.isEmpty, !path.hasPrefix("/"), !path.split(separator: "/").contains("..") else {
            throw WeaveProblem("'\(path)' is not a path inside the project")
        }
        let text: String
        do { text = try TextFile.read(root.appendingPathComponent(path)) } catch let error as FileError {
            throw WeaveProblem("\(path) " + error.problem)
        }
        let all = text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        let numbered = all.enumerated().map { (number: $0.offset + 1, text: $0.element) }.filter { !Self.isMarker($0.text) }
        guard let name else {
            lines = Array(numbered.reversed().drop { $0.text.isEmpty }.reversed())
            return
        }
        let trimmed = all.map { $0.trimmingCharacters(in: .whitespaces) }
        guard let start = trimmed.firstIndex(of: Self.open + name) else {
            throw WeaveProblem("\(path) has no line '\(Self.open + name)'")
        }
        guard let end = trimmed[(start + 1)...].firstIndex(of: Self.close + name) else {
            throw WeaveProblem("\(path): region '\(name)' is not closed by '\(Self.close + name)'")
        }
        // Markers inside (of other regions) go; the common indentation goes.
        let body = numbered.filter { $0.number > start + 1 && $0.number <= end }
        let indent = body.filter { !$0.text.allSatisfy(\.isWhitespace) }.map { $0.text.prefix { $0 == " " }.count }.min() ?? 0
        lines = body.map { ($0.number, $0.text.allSatisfy(\.isWhitespace) ? "" : String($0.text.dropFirst(indent))) }
    }

    static func isMarker(_ line: String) -> Bool {
        let t = line.trimmingCharacters(in: .whitespaces)
        return t.hasPrefix(open) || t.hasPrefix(close)
    }

    /// The fragment id of the file's listing in the appendix.
    static func anchor(_ path: String) -> String { "source-" + HTMLText.slug(path) }

    /// The region with its file, line numbers and a link to the whole file.
    var html: String {
        let place = name == nil || lines.isEmpty ? "" : ", lines \(lines.first!.number)–\(lines.last!.number)"
        return "<figure class=\"source\">\n<figcaption><a href=\"#\(Self.anchor(path))\">\(HTMLText.escape(path))</a>\(place)</figcaption>\n"
            + listing + "</figure>\n"
    }

    /// The lines as a numbered listing; the numbers stay out of a copied selection.
    var listing: String {
        var out = "<pre class=\"numbered\"><code class=\"language-swift\">"
        for line in lines {
            out += "<span class=\"ln\" aria-hidden=\"true\">\(line.number)</span>" + HTMLText.escape(line.text) + "\n"
        }
        return out + "</code></pre>\n"
    }
}
