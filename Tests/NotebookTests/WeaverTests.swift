import Files
import Foundation
import XCTest
@testable import Notebook

final class WeaverTests: XCTestCase {
    static let chapter = """
    import Foundation

    //: # Mixture of Scales
    //: The *router* picks a blend of scales for every token.
    //: This line continues the same paragraph.

    /*:
     ## Measuring
     A block of prose, indented like a doc comment.

     {{table: ppl.csv}}
     */
    let scales = [1.0, 2.0]
    if scales.count < 3 && scales[0] > 0 { print("<ok>") }

    /*:
     {{figure: graph.svg}}

     Measured this run:
     {{include: numbers.md}}

     ```
     {{figure: shown-not-placed.svg}}
     ```
     */
    print("done")
    """

    func writeArtifacts(to directory: URL) throws {
        var table = CSVTable(columns: ["method", "perplexity"])
        table.append(["BinaryMoS", 12.5])
        table.append(["<OneBit>", 14.25])
        try table.write(to: directory.appendingPathComponent("ppl.csv"))
        let svg = try Graphviz.renderSVG(dot: "digraph { token -> router; router -> expert }")
        try AtomicFile.write(svg, to: directory.appendingPathComponent("graph.svg"))
        try AtomicFile.write("Perplexity fell to **12.5**.\n", to: directory.appendingPathComponent("numbers.md"))
    }

    func testWeavesProseCodeAndArtifacts() throws {
        let directory = try makeTemporaryDirectory()
        let artifacts = directory.appendingPathComponent("Figures/MixtureOfScales")
        try writeArtifacts(to: artifacts)
        let source = directory.appendingPathComponent("Chapters/MixtureOfScales/main.swift")
        try AtomicFile.write(Self.chapter, to: source)

        let section = try Weaver().weave(chapter: source, artifacts: artifacts)
        let html = section.html

        XCTAssertEqual(section.title, "Mixture of Scales")
        XCTAssertEqual(section.id, "mixture-of-scales")
        XCTAssertTrue(html.hasPrefix("<section id=\"mixture-of-scales\""))

        // Prose through Markdown.
        XCTAssertTrue(html.contains("<h1>Mixture of Scales</h1>"))
        XCTAssertTrue(html.contains("The <em>router</em> picks a blend of scales for every token.\nThis line continues")
                      || html.contains("The <em>router</em> picks a blend of scales for every token. This line continues"),
                      html)
        XCTAssertTrue(html.contains("<h2>Measuring</h2>"))
        XCTAssertTrue(html.contains("<p>A block of prose, indented like a doc comment.</p>"))
        XCTAssertFalse(html.contains("//:"))
        XCTAssertFalse(html.contains("/*:"))

        // Code, escaped, in its own folded blocks; blank gaps dropped.
        XCTAssertTrue(html.contains("""
            <summary>the chapter's code, 2 lines</summary>
            <pre><code class="language-swift">let scales = [1.0, 2.0]
            if scales.count &lt; 3 &amp;&amp; scales[0] &gt; 0 { print(&quot;&lt;ok&gt;&quot;) }</code></pre>
            """), html)
        XCTAssertTrue(html.contains("<pre><code class=\"language-swift\">print(&quot;done&quot;)</code></pre>"))
        XCTAssertFalse(html.contains("import Foundation"), "the opening imports are left out")
        XCTAssertEqual(html.components(separatedBy: "<pre><code class=\"language-swift\">").count - 1, 2)

        // Table cells, numbers right-aligned, text escaped.
        XCTAssertTrue(html.contains("<th class=\"num\">perplexity</th>"))
        XCTAssertTrue(html.contains("<td>BinaryMoS</td><td class=\"num\">12.5</td>"))
        XCTAssertTrue(html.contains("<td>&lt;OneBit&gt;</td><td class=\"num\">14.25</td>"))

        // The figure inline, without prolog or doctype, ids scoped to the chapter.
        XCTAssertTrue(html.contains("<figure>\n<svg"))
        XCTAssertFalse(html.contains("<?xml"))
        XCTAssertFalse(html.contains("<!DOCTYPE"))
        XCTAssertTrue(html.contains(">router</text>"))
        XCTAssertTrue(html.contains("id=\"mixture-of-scales-graph-svg-node1\""))

        // Generated Markdown included; a directive inside a fence stays text.
        XCTAssertTrue(html.contains("Perplexity fell to <strong>12.5</strong>."))
        XCTAssertTrue(html.contains("{{figure: shown-not-placed.svg}}"))
    }

    /// A region of a library file: its lines without the markers (nested
    /// ones too), numbered as in the file, linked to the whole file.
    func testSourceRegionShowsNumberedLinesAndLinks() throws {
        let root = try makeTemporaryDirectory()
        try AtomicFile.write("""
            import Kernels
            // region: outer
            func outer() {
                // region: inner
                let a = 1 < 2
                // end region: inner
            }
            // end region: outer
            """, to: root.appendingPathComponent("Sources/Lib/File.swift"))
        let weaver = Weaver(root: root)
        let nowhere = URL(fileURLWithPath: "/nonexistent")
        let section = try weaver.weave(source: "//: # T\n//: {{source: Sources/Lib/File.swift#outer}}\n", chapter: "c.swift",
                                       artifacts: nowhere)
        XCTAssertEqual(section.sources, ["Sources/Lib/File.swift"])
        XCTAssertTrue(section.html.contains("<a href=\"#source-sources-lib-file-swift\">Sources/Lib/File.swift</a>, lines 3–7"), section.html)
        XCTAssertTrue(section.html.contains("<span class=\"ln\" aria-hidden=\"true\">5</span>    let a = 1 &lt; 2\n"), section.html)
        XCTAssertFalse(section.html.contains("region:"))
        let inner = try weaver.weave(source: "//: {{source: Sources/Lib/File.swift#inner}}\n", chapter: "c.swift", artifacts: nowhere)
        XCTAssertTrue(inner.html.contains(">5</span>let a = 1 &lt; 2\n"), "dedented")

        // The report's appendix holds the whole file, once, at the anchor the captions link to.
        let page = try Report(title: "R", sections: [section, inner], root: root).html()
        XCTAssertEqual(page.components(separatedBy: "id=\"source-sources-lib-file-swift\"").count, 2)
        XCTAssertTrue(page.contains(">1</span>import Kernels\n"))

        for (reference, problem) in [("Sources/Lib/File.swift#missing", "has no line '// region: missing'"),
                                     ("Sources/Lib/Nope.swift#a", "Sources/Lib/Nope.swift"),
                                     ("../outside.swift", "is not a path inside the project")] {
            XCTAssertThrowsError(try weaver.weave(source: "//: {{source: \(reference)}}\n", chapter: "c.swift", artifacts: nowhere)) {
                XCTAssertTrue("\($0)".contains(problem), "\($0)")
                XCTAssertTrue("\($0)".hasPrefix("c.swift: "), "\($0)")
            }
        }
    }

    /// TeX in the prose becomes MathML (through pandoc); code spans and
    /// prices stay text.
    func testFormulasAreTypesetAsMathML() throws {
        let source = """
            //: # T
            //: Inline $\\alpha = \\tfrac{1}{n}\\sum_j |w_j|$, and `echo $HOME $x$`, and $5 or $6.
            //:
            //: $$Y = (X \\odot s_{in})\\,\\mathrm{sign}(W)^\\top$$
            """
        let html = try Weaver().weave(source: source, chapter: "c.swift", artifacts: URL(fileURLWithPath: "/nonexistent")).html
        XCTAssertEqual(html.components(separatedBy: "<math display=\"inline\"").count - 1, 1, html)
        XCTAssertEqual(html.components(separatedBy: "<math display=\"block\"").count - 1, 1, html)
        XCTAssertTrue(html.contains("<mi>α</mi>"), html)
        XCTAssertTrue(html.contains("<code>echo $HOME $x$</code>"), html)
        XCTAssertTrue(html.contains("$5 or $6."), html)
        XCTAssertFalse(html.contains("MATHFORMULA"))
        XCTAssertThrowsError(try Weaver().weave(source: "//: $\\frac{a$\n", chapter: "c.swift",
                                                artifacts: URL(fileURLWithPath: "/nonexistent"))) {
            XCTAssertTrue("\($0)".contains("could not read the formula"), "\($0)")
        }
    }

    func testMissingArtifactNamesChapterAndFile() throws {
        let directory = try makeTemporaryDirectory()
        try writeArtifacts(to: directory)
        try FileManager.default.removeItem(at: directory.appendingPathComponent("graph.svg"))

        XCTAssertThrowsError(try Weaver().weave(source: Self.chapter, chapter: "Chapters/MoS/main.swift",
                                                artifacts: directory)) { error in
            let message = String(describing: error)
            XCTAssertTrue(message.contains("Chapters/MoS/main.swift"), message)
            XCTAssertTrue(message.contains("graph.svg"), message)
        }
    }

    /// A NaN or infinity in a table or in generated findings stops the weave,
    /// naming the file and where; words that merely contain the letters pass.
    func testNotANumberIsNeverShownAsOne() throws {
        let directory = try makeTemporaryDirectory()
        try "a,b\n1,2\n3,nan\n".write(to: directory.appendingPathComponent("t.csv"), atomically: true, encoding: .utf8)
        try "Perplexity -inf here.\n".write(to: directory.appendingPathComponent("f.md"), atomically: true, encoding: .utf8)
        try "Information, infinite nanny: fine.\n".write(to: directory.appendingPathComponent("ok.md"), atomically: true, encoding: .utf8)
        for (directive, words) in [("{{table: t.csv}}", ["t.csv", "row 2", "column b", "nan"]), ("{{include: f.md}}", ["f.md", "-inf"])] {
            XCTAssertThrowsError(try Weaver().weave(source: "//: # T\n//: \(directive)\n", chapter: "c.swift", artifacts: directory)) {
                for w in words { XCTAssertTrue("\($0)".contains(w), "\($0) lacks \(w)") }
            }
        }
        XCTAssertNoThrow(try Weaver().weave(source: "//: # T\n//: {{include: ok.md}}\n", chapter: "c.swift", artifacts: directory))
    }

    func testUnknownDirectiveIsAnError() {
        let source = "//: # T\n//: {{plot: x.csv}}\n"
        XCTAssertThrowsError(try Weaver().weave(source: source, chapter: "c.swift",
                                                artifacts: URL(fileURLWithPath: "/nonexistent")))
    }

    func testTitleFallsBackToFolderName() throws {
        let section = try Weaver().weave(source: "//: Just prose.\nlet x = 1\n",
                                         chapter: "Chapters/FirstLook/main.swift",
                                         artifacts: URL(fileURLWithPath: "/nonexistent"))
        XCTAssertEqual(section.title, "FirstLook")
        XCTAssertEqual(section.id, "firstlook")
    }

    func testSplitsSourceIntoPieces() {
        let pieces = ChapterSource.pieces(of: """
            import Foundation
            @testable import Notebook

            //: one
            //: two

            //: three
            code()
                /*: inline block */ trailing()
            """)
        XCTAssertEqual(pieces, [
            .prose(["one", "two", "", "three"]),
            .code(["code()"]),
            .prose(["inline block "]),
            .code([" trailing()"]),
        ])
    }
}
