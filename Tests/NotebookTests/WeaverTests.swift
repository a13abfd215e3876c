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

        // Code, escaped, in its own blocks; blank gaps dropped.
        XCTAssertTrue(html.contains("""
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
