import Files
import Foundation

/// The whole notebook as one self-contained HTML page: a header with the facts
/// of the run, a table of contents, then the woven chapters.
///
/// Self-contained means it opens offline and stays as it was: the style is
/// inline, figures are inline SVG, and there are no fonts or scripts to fetch.
public struct Report {
    public var title: String
    /// Facts about the run, shown in this order: corpus, profile, seeds,
    /// commit, date, machine, …
    public var metadata: [(key: String, value: String)]
    public var sections: [Weaver.Section]
    /// Where the appendix reads the library files the chapters show.
    public var root: URL

    public init(title: String, metadata: [(key: String, value: String)] = [],
                sections: [Weaver.Section], root: URL = URL(fileURLWithPath: FileManager.default.currentDirectoryPath)) {
        self.title = title
        self.metadata = metadata
        self.sections = sections
        self.root = root
    }

    /// The page. Throws if two sections share an id, since the contents could
    /// then link only to the first of them.
    public func html() throws -> String {
        var seen: Set<String> = []
        for section in sections where !seen.insert(section.id).inserted {
            throw ReportError.duplicateSectionID(section.id)
        }

        var html = """
        <!DOCTYPE html>
        <html lang="en">
        <head>
        <meta charset="utf-8">
        <meta name="viewport" content="width=device-width, initial-scale=1">
        <title>\(HTMLText.escape(title))</title>
        <style>
        \(ReportStyle.css)
        </style>
        </head>
        <body>
        <header class="report">
        <h1>\(HTMLText.escape(title))</h1>

        """
        if !metadata.isEmpty {
            html += "<table class=\"meta\">\n"
            for (key, value) in metadata {
                html += "<tr><th>\(HTMLText.escape(key))</th><td>\(HTMLText.escape(value))</td></tr>\n"
            }
            html += "</table>\n"
        }
        html += "</header>\n"

        let files = Set(sections.flatMap(\.sources)).sorted()
        if !sections.isEmpty {
            html += "<nav class=\"toc\">\n<h2>Contents</h2>\n<ol>\n"
            for section in sections {
                html += "<li><a href=\"#\(HTMLText.escape(section.id))\">\(HTMLText.escape(section.title))</a></li>\n"
            }
            if !files.isEmpty { html += "<li><a href=\"#appendix\">Appendix: the library files shown</a></li>\n" }
            html += "</ol>\n</nav>\n"
        }

        html += "<main>\n"
        for section in sections { html += section.html }
        if !files.isEmpty { html += try appendix(files) }
        html += "</main>\n</body>\n</html>\n"
        return html
    }

    /// Every library file a chapter shows a region of, whole and folded.
    func appendix(_ files: [String]) throws -> String {
        var html = "<section id=\"appendix\" class=\"chapter\">\n<h1>Appendix: the library files shown</h1>\n"
        html += "<p>Each file the chapters quote, as it was when the report was woven.</p>\n"
        for path in files {
            let whole: SourceRegion
            do { whole = try SourceRegion(path, root: root) } catch { throw ReportError.source("\(error)") }
            html += "<details class=\"file\" id=\"\(SourceRegion.anchor(path))\"><summary>\(HTMLText.escape(path)), "
            html += "\(whole.lines.count) lines</summary>\n" + whole.listing + "</details>\n"
        }
        return html + "</section>\n"
    }

    public func write(to url: URL) throws {
        try AtomicFile.write(try html(), to: url)
    }
}

public enum ReportError: Error, CustomStringConvertible {
    case duplicateSectionID(String)
    case source(String)

    public var description: String {
        switch self {
        case .source(let problem): return problem
        case .duplicateSectionID(let id):
            return "two chapters have the id \"\(id)\" (from their first # heading); give them different titles"
        }
    }
}
