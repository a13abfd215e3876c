import Files
import Foundation
import XCTest
@testable import Notebook

final class ReportTests: XCTestCase {
    func testSelfContainedPageWithContentsAndMetadata() throws {
        let svg = try Graphviz.renderSVG(dot: "digraph { a -> b }")
        let directory = try makeTemporaryDirectory()
        try AtomicFile.write(svg, to: directory.appendingPathComponent("g.svg"))
        let weaver = Weaver()
        let sections = [
            try weaver.weave(source: "//: # First Look\n//: {{figure: g.svg}}\nlet a = 1\n",
                             chapter: "first.swift", artifacts: directory),
            try weaver.weave(source: "//: # Scales & Experts\nlet b = 2\n",
                             chapter: "second.swift", artifacts: directory),
        ]
        let report = Report(title: "BinaryMoS notebook", metadata: [
            (key: "corpus", value: "synthetic (seed 7)"),
            (key: "commit", value: "abc1234"),
            (key: "machine", value: "2 cores <x86-64>"),
        ], sections: sections)

        let url = directory.appendingPathComponent("out/report.html")
        try report.write(to: url)
        let html = try String(contentsOf: url, encoding: .utf8)

        XCTAssertTrue(html.hasPrefix("<!DOCTYPE html>"))
        XCTAssertTrue(html.contains("<a href=\"#first-look\">First Look</a>"))
        XCTAssertTrue(html.contains("<a href=\"#scales-experts\">Scales &amp; Experts</a>"))
        XCTAssertTrue(html.contains("<section id=\"first-look\""))
        XCTAssertTrue(html.contains("<section id=\"scales-experts\""))
        XCTAssertTrue(html.contains("<th>corpus</th><td>synthetic (seed 7)</td>"))
        XCTAssertTrue(html.contains("<th>commit</th><td>abc1234</td>"))
        XCTAssertTrue(html.contains("<td>2 cores &lt;x86-64&gt;</td>"))
        XCTAssertTrue(html.contains("<svg"))
        XCTAssertTrue(html.contains("max-width: 100%"))

        // Nothing to fetch: the only URLs left are SVG namespace names.
        let withoutNamespaces = html.replacingOccurrences(
            of: #"xmlns(:[A-Za-z]+)?="[^"]*""#, with: "", options: .regularExpression)
        XCTAssertTrue(html.contains("xmlns=\"http://www.w3.org/2000/svg\""))
        XCTAssertFalse(withoutNamespaces.contains("http://"))
        XCTAssertFalse(withoutNamespaces.contains("https://"))
        XCTAssertFalse(html.contains("<script"))
        XCTAssertFalse(html.contains("<link"))
    }

    func testDuplicateSectionIDsAreRejected() {
        let section = Weaver.Section(id: "same", title: "Same", html: "<section id=\"same\"></section>")
        XCTAssertThrowsError(try Report(title: "t", sections: [section, section]).html())
    }
}
