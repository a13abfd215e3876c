import Files
import Foundation
import Ink

/// The literate weaver: turns one chapter's source file, together with the
/// folder of artifacts that chapter wrote when it ran, into a section of the
/// report.
///
/// A chapter is an ordinary Swift executable whose prose is written as Swift
/// Playground markup, in Markdown:
///
///     //: # Mixture of scales
///     //: A line of prose.
///     /*:
///      A block of prose.
///
///      {{table: perplexity.csv}}
///      */
///     let table = try measure()      // code, shown as a code block
///
/// Directives on a line of their own inside the prose place what the chapter
/// wrote into its artifacts folder:
///
/// - `{{table: name.csv}}`: the CSV as an HTML table, numbers right-aligned;
///   `{{folded-table: name.csv}}` the same, folded under a figure that shows it;
/// - `{{figure: name.svg}}`: the SVG drawn inline, inside a `<figure>`;
/// - `{{include: name.md}}`: Markdown the chapter generated, so prose can
///   quote the numbers this run measured;
/// - `{{source: Sources/…/File.swift#name}}`: a named region of a library
///   file (SourceRegion.swift), with its line numbers and a link to the whole
///   file in the report's appendix: the code of the idea the chapter measures.
///
/// The chapter's own code (its harness: options, sweeps, file plumbing) is
/// folded away under each place it stands, so the page reads as prose, the
/// library's code and the results. The `import` lines at the very top are
/// left out.
public struct Weaver {
    /// One chapter, ready to place in a report.
    public struct Section: Equatable {
        /// Fragment id, from the chapter's first `#` heading.
        public var id: String
        /// The chapter's first `#` heading as plain text, for the contents.
        public var title: String
        /// A `<section>` element.
        public var html: String
        /// The library files its `source` directives show, for the appendix (in order, repeats kept).
        public var sources: [String]

        public init(id: String, title: String, html: String, sources: [String] = []) {
            self.id = id
            self.title = title
            self.html = html
            self.sources = sources
        }
    }

    private let parser: MarkdownParser
    /// Where `source` directives' paths start (the project's root).
    public let root: URL

    public init(parser: MarkdownParser = MarkdownParser(),
                root: URL = URL(fileURLWithPath: FileManager.default.currentDirectoryPath)) {
        self.parser = parser
        self.root = root
    }

    /// Weaves the chapter whose source is at `source`, taking artifacts from
    /// the folder `artifacts`.
    public func weave(chapter source: URL, artifacts: URL) throws -> Section {
        let text: String
        do {
            text = try TextFile.read(source)
        } catch let error as FileError {
            throw WeaverError(chapter: source.path, message: "cannot read the chapter source: it " + error.problem)
        }
        return try weave(source: text, chapter: source.path, artifacts: artifacts)
    }

    /// Weaves chapter source text. `chapter` names the chapter in errors, and
    /// gives its title when the prose has no `#` heading (for a path ending in
    /// `main.swift`, the name of the folder).
    public func weave(source: String, chapter: String, artifacts: URL) throws -> Section {
        let pieces = ChapterSource.pieces(of: source)

        let title = firstHeading(in: pieces) ?? ChapterSource.fallbackTitle(for: chapter)
        var id = HTMLText.slug(title)
        if id.isEmpty { id = HTMLText.slug(ChapterSource.fallbackTitle(for: chapter)) }
        if id.isEmpty { id = "chapter" }

        let context = Context(chapter: chapter, artifacts: artifacts, idPrefix: id)
        var html = "<section id=\"\(id)\" class=\"chapter\">\n"
        for piece in pieces {
            switch piece {
            case .prose(let lines): html += try prose(lines, context)
            case .code(let lines): html += code(lines)
            }
        }
        html += "</section>\n"
        return Section(id: id, title: title, html: html, sources: context.sources)
    }

    // MARK: Prose and code

    private final class Context {
        let chapter: String, artifacts: URL, idPrefix: String
        var sources: [String] = []
        init(chapter: String, artifacts: URL, idPrefix: String) {
            self.chapter = chapter; self.artifacts = artifacts; self.idPrefix = idPrefix
        }
    }

    private func firstHeading(in pieces: [ChapterSource.Piece]) -> String? {
        for case .prose(let lines) in pieces {
            if let title = parser.parse(lines.joined(separator: "\n")).title, !title.isEmpty {
                return HTMLText.unescapeInk(title)
            }
        }
        return nil
    }

    /// Markdown goes through Ink; directive lines become their artifact. Lines
    /// inside a fenced code block are left alone, so prose can show a
    /// directive without triggering it.
    private func prose(_ lines: [String], _ context: Context) throws -> String {
        var html = ""
        var markdown: [String] = []
        var inFence = false

        func flushMarkdown() throws {
            defer { markdown.removeAll() }
            guard markdown.contains(where: { !$0.allSatisfy(\.isWhitespace) }) else { return }
            html += try typeset(markdown, context) + "\n"
        }

        for line in lines {
            let trimmed = line.trimmingCharacters(in: .whitespaces)
            if trimmed.hasPrefix("```") || trimmed.hasPrefix("~~~") { inFence.toggle() }
            if !inFence, let directive = Directive(trimmed) {
                try flushMarkdown()
                html += try artifact(directive, context)
            } else {
                markdown.append(line)
            }
        }
        try flushMarkdown()
        return html
    }

    /// Markdown to HTML through Ink, its TeX formulas through pandoc (Math.swift).
    private func typeset(_ lines: [String], _ context: Context) throws -> String {
        let (text, formulas) = Math.extract(lines)
        var html = parser.html(from: text.joined(separator: "\n"))
        let mathML: [String]
        do { mathML = try Math.mathML(formulas) } catch let error as WeaveProblem {
            throw WeaverError(chapter: context.chapter, message: error.description)
        }
        for (k, element) in mathML.enumerated() {
            html = html.replacingOccurrences(of: Math.placeholder(k), with: element)
        }
        return html
    }

    /// The chapter's own code, folded: open it to see how the chapter measures.
    private func code(_ lines: [String]) -> String {
        "<details class=\"harness\"><summary>the chapter's code, \(lines.count) line\(lines.count == 1 ? "" : "s")</summary>\n"
            + "<pre><code class=\"language-swift\">" + HTMLText.escape(lines.joined(separator: "\n")) + "</code></pre>\n"
            + "</details>\n"
    }

    // MARK: Artifacts

    /// `{{kind: name}}` or `{{kind: name | caption}}` on a line of its own.
    private struct Directive {
        var kind: String
        var name: String
        var caption: String?

        init?(_ line: String) {
            guard line.hasPrefix("{{"), line.hasSuffix("}}"), line.count > 4 else { return nil }
            let inner = line.dropFirst(2).dropLast(2)
            guard let colon = inner.firstIndex(of: ":") else { return nil }
            kind = inner[..<colon].trimmingCharacters(in: .whitespaces).lowercased()
            let rest = inner[inner.index(after: colon)...].split(separator: "|", maxSplits: 1)
            name = rest.first.map { $0.trimmingCharacters(in: .whitespaces) } ?? ""
            caption = rest.count > 1 ? rest[1].trimmingCharacters(in: .whitespaces) : nil
        }

        var text: String { "{{\(kind): \(name)}}" }
    }

    private func artifact(_ directive: Directive, _ context: Context) throws -> String {
        func failure(_ message: String) -> WeaverError {
            WeaverError(chapter: context.chapter, message: "\(directive.text): \(message)")
        }
        guard ["table", "folded-table", "figure", "include", "source"].contains(directive.kind) else {
            throw failure("unknown directive \"\(directive.kind)\" (use table, folded-table, figure, include or source)")
        }
        guard !directive.name.isEmpty else { throw failure("no file named") }
        if directive.kind == "source" {
            do {
                let region = try SourceRegion(directive.name, root: root)
                context.sources.append(region.path)
                return region.html
            } catch let error as WeaveProblem {
                throw failure(error.description)
            }
        }

        let url = context.artifacts.appendingPathComponent(directive.name)
        guard FileManager.default.fileExists(atPath: url.path) else {
            throw failure("the file \(directive.name) is not in \(context.artifacts.path);"
                          + " run the chapter first, or check the name it writes")
        }

        do {
            switch directive.kind {
            case "table", "folded-table":
                // The wrapper scrolls a wide table sideways instead of widening the page.
                let table = try CSVTable.read(from: url)
                // A result that is not a number is a failure upstream, never a figure to print.
                for (r, row) in table.rows.enumerated() {
                    for (c, cell) in row.enumerated() where Double(cell).map({ !$0.isFinite }) ?? false {
                        throw failure("row \(r + 1), column \(table.columns[c]) is \(cell): a result that is not a number")
                    }
                }
                let html = "<div class=\"table\">\n" + table.htmlTable() + "</div>\n"
                guard directive.kind == "folded-table" else { return html }
                return "<details class=\"data\"><summary>the numbers: \(HTMLText.escape(directive.name)), "
                    + "\(table.rows.count) rows</summary>\n" + html + "</details>\n"
            case "figure":
                let svg = try TextFile.read(url)
                let prefix = context.idPrefix + "-" + HTMLText.slug(directive.name) + "-"
                guard let inline = try? InlineSVG.prepare(svg, idPrefix: prefix) else {
                    throw failure("\(directive.name) holds no <svg> element")
                }
                // Captioned figures are numbered through the report (a CSS counter), and linkable.
                guard let caption = directive.caption else { return "<figure>\n\(inline)\n</figure>\n" }
                let id = "figure-" + context.idPrefix + "-" + HTMLText.slug(directive.name)
                return "<figure class=\"numbered\" id=\"\(id)\">\n\(inline)\n<figcaption>"
                    + parser.html(from: caption).replacingOccurrences(of: "<p>", with: "").replacingOccurrences(of: "</p>", with: "")
                    + "</figcaption>\n</figure>\n"
            default:
                let markdown = try TextFile.read(url)
                if let bad = markdown.range(of: #"(?i)(?<![\w.])[-+]?(nan|inf(inity)?)(?![\w])"#, options: .regularExpression) {
                    throw failure("shows \(markdown[bad]) as a number")
                }
                return parser.html(from: markdown) + "\n"
            }
        } catch let error as WeaverError {
            throw error
        } catch {
            throw failure("\(error)")
        }
    }
}

/// What a formula or a `source` directive got wrong, before the weaver
/// names the chapter (as a `WeaverError`).
struct WeaveProblem: Error, CustomStringConvertible {
    let description: String
    init(_ message: String) { description = message }
}

public struct WeaverError: Error, CustomStringConvertible {
    /// The chapter's source file (or the name it was woven under).
    public let chapter: String
    public let message: String

    public var description: String { "\(chapter): \(message)" }
}
