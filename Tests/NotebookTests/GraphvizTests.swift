import Foundation
import XCTest
@testable import Notebook

final class GraphvizTests: XCTestCase {
    func testRendersDigraphToSVG() throws {
        let svg = try Graphviz.renderSVG(dot: """
            digraph g {
              router [shape=box, style=filled, fillcolor="#eeeeff"];
              router -> expert1;
              router -> expert2;
            }
            """)
        XCTAssertTrue(svg.contains("<svg"))
        XCTAssertTrue(svg.hasSuffix("</svg>\n") || svg.hasSuffix("</svg>"))
        for label in ["router", "expert1", "expert2"] {
            XCTAssertTrue(svg.contains(">\(label)</text>"), "label \(label) missing")
        }
    }

    func testBadDOTThrowsWithFirstLineAndLaterRendersStillWork() throws {
        XCTAssertThrowsError(try Graphviz.renderSVG(dot: "digraph broken { a -> ; }\n")) { error in
            let message = String(describing: error)
            XCTAssertTrue(message.contains("digraph broken { a -> ; }"), message)
        }
        XCTAssertThrowsError(try Graphviz.renderSVG(dot: "not a graph at all"))
        // The DOT lexer keeps state between calls; a failure must not poison the next parse.
        XCTAssertTrue(try Graphviz.renderSVG(dot: "digraph { after -> error }").contains(">after</text>"))
    }

    func testQuotedNastyStringsRenderAndShowUp() throws {
        let labels = [
            "say \"hi\"",
            "back\\slash",
            "ends with backslash\\",
            "\\",
            "\\\"",
            "{braces} | <angles>",
            "two\nlines\tand tab",
            "emoji 😀 👨‍👩‍👧 and �",
            "&amp; stays literal",
            "\\N \\G \\n",
            "bell\u{07} zero\u{200B}width",
        ]
        var dot = "digraph {\n"
        for (index, label) in labels.enumerated() {
            dot += "  n\(index) [label=\(DOT.quote(label))];\n"
            dot += "  r\(index) [shape=record, label=\(DOT.quote(label))];\n"
        }
        dot += "  \(DOT.quote("id with \"quotes\" \\")) -> n0;\n}\n"
        let svg = try Graphviz.renderSVG(dot: dot)

        // What each label should look like inside SVG <text>, escaped as XML.
        let expected = [
            "say &quot;hi&quot;",
            "back\\slash",
            "ends with backslash\\",
            ">\\<",
            ">\\&quot;<",
            "{braces} | &lt;angles&gt;",
            "two⏎lines⇥and tab",
            "emoji 😀 👨‍👩‍👧 and �",
            "&amp;amp; stays literal",
            "\\N \\G \\n",
            "bell\\x07 zero\\u200Bwidth",
        ]
        for text in expected {
            let count = svg.components(separatedBy: text).count - 1
            XCTAssertGreaterThanOrEqual(count, 2, "\(text) should appear in both the plain and the record node")
        }
    }

    func testQuoteLinesBreaksLines() throws {
        XCTAssertEqual(DOT.quote(lines: ["a\"", "b"]), "\"a\\\"\\nb\"")
        let svg = try Graphviz.renderSVG(dot: "digraph { x [label=\(DOT.quote(lines: ["top", "bottom"]))] }")
        XCTAssertTrue(svg.contains(">top</text>") && svg.contains(">bottom</text>"))
    }

    func testRepeatedRendersDoNotGrowMemoryMuch() throws {
        // A sanitizer keeps freed memory in quarantine: the resident size says nothing then.
        try XCTSkipIf(ProcessInfo.processInfo.environment["SANITIZER"] != nil, "resident size is meaningless under a sanitizer")
        let dot = "digraph { a -> b -> c; b -> d }"
        for _ in 0..<20 { _ = try Graphviz.renderSVG(dot: dot) }
        let before = residentKilobytes()
        for _ in 0..<1000 { _ = try Graphviz.renderSVG(dot: dot) }
        let after = residentKilobytes()
        // A context per call would leak about 3.6 MB here (Graphviz 2.42).
        if let before, let after {
            XCTAssertLessThan(after - before, 2_000, "1000 renders grew the process by \(after - before) kB")
        }
    }

    private func residentKilobytes() -> Int? {
        guard let status = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8),
              let line = status.split(separator: "\n").first(where: { $0.hasPrefix("VmRSS:") }) else { return nil }
        return Int(line.split(separator: " ")[1])
    }
}
