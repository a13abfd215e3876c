import Foundation
import XCTest
@testable import Notebook

final class CSVTableTests: XCTestCase {
    func testRoundTripWithCommasQuotesAndNewlines() throws {
        var table = CSVTable(columns: ["method", "note", "perplexity"])
        table.append(["BinaryMoS", "plain", 12.25])
        table.append(["a,b", "she said \"hi\"", 0.1])
        table.append(["two\nlines", "crlf\r\nhere", -1e-7])
        table.append(["", " spaced ", Double.infinity])
        table.append(["ünïcødé 😀", "\"", Float(0.1)])

        let url = try makeTemporaryDirectory().appendingPathComponent("t.csv")
        try table.write(to: url)
        let read = try CSVTable.read(from: url)

        XCTAssertEqual(read, table)
        XCTAssertEqual(read.column("note")?[1], "she said \"hi\"")
        XCTAssertEqual(read.column("perplexity"), ["12.25", "0.1", "-1e-07", "inf", "0.1"])
        XCTAssertEqual(Double(read.rows[2][2]), -1e-7, "numbers read back to the same value")
    }

    func testQuotingFollowsRFC4180() {
        var table = CSVTable(columns: ["a", "b"])
        table.append(["x,y", "say \"q\""])
        XCTAssertEqual(table.text, "a,b\n\"x,y\",\"say \"\"q\"\"\"\n")
    }

    func testFormat() {
        XCTAssertEqual(CSVTable.format(0.1), "0.1")
        XCTAssertEqual(CSVTable.format(1.0 / 3.0), "0.3333333333333333")
        XCTAssertEqual(Double(CSVTable.format(1.0 / 3.0)), 1.0 / 3.0)
        XCTAssertEqual(CSVTable.format(3.14159265, digits: 4), "3.142")
        XCTAssertEqual(CSVTable.format(2.5e-9, digits: 3), "2.5e-09")
    }

    func testReadsCRLFAndMissingFinalNewline() throws {
        let table = try CSVTable.parse("x,y\r\n1,\"2\r\n3\"\r\n4,5")
        XCTAssertEqual(table.columns, ["x", "y"])
        XCTAssertEqual(table.rows, [["1", "2\r\n3"], ["4", "5"]])
    }

    func testMalformedInputNamesFileAndLine() throws {
        let cases: [(String, Int)] = [
            ("a,b\n1,\"open\n2,3\n", 2),   // quote never closed
            ("a,b\n1,2\n3,4,5\n", 3),      // too many fields
            ("a,b\n1,x\"y\n", 2),           // stray quote
            ("a,b\n\"1\"x,2\n", 2),         // text after closing quote
            ("", 1),                        // no header
        ]
        let directory = try makeTemporaryDirectory()
        for (index, (text, line)) in cases.enumerated() {
            let url = directory.appendingPathComponent("bad\(index).csv")
            try text.write(to: url, atomically: false, encoding: .utf8)
            XCTAssertThrowsError(try CSVTable.read(from: url), "case \(index)") { error in
                let message = String(describing: error)
                XCTAssertTrue(message.contains("bad\(index).csv:\(line):"), message)
            }
        }
    }
}
