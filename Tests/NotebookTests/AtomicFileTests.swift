import Files
import Foundation
import XCTest
@testable import Notebook

final class AtomicFileTests: XCTestCase {
    func testCreatesParentsReplacesContentAndLeavesNoTemporaryFile() throws {
        let directory = try makeTemporaryDirectory()
        let target = directory.appendingPathComponent("deep/er/result.txt")

        try AtomicFile.write("first version, which is longer", to: target)
        XCTAssertEqual(try String(contentsOf: target, encoding: .utf8), "first version, which is longer")

        try AtomicFile.write("second", to: target)
        XCTAssertEqual(try String(contentsOf: target, encoding: .utf8), "second")

        try AtomicFile.write(Data([0, 1, 2, 255]), to: target)
        XCTAssertEqual(try Data(contentsOf: target), Data([0, 1, 2, 255]))

        let left = try FileManager.default.contentsOfDirectory(atPath: target.deletingLastPathComponent().path)
        XCTAssertEqual(left, ["result.txt"], "only the target may remain, no temporary file")
    }

    func testFailedWriteLeavesTargetAndNoTemporaryFile() throws {
        let directory = try makeTemporaryDirectory()
        // A directory where the file should go makes the final rename fail.
        let target = directory.appendingPathComponent("occupied")
        try FileManager.default.createDirectory(at: target.appendingPathComponent("child"),
                                                withIntermediateDirectories: true)

        XCTAssertThrowsError(try AtomicFile.write("text", to: target)) { error in
            XCTAssertTrue("\(error)".contains("is a folder"), "\(error)")
        }
        let left = try FileManager.default.contentsOfDirectory(atPath: directory.path)
        XCTAssertEqual(left, ["occupied"])
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: target.path), ["child"])
    }

    /// The early check names the problem: a folder given as a file, a file in a folder's place.
    func testCheckTargetBeforeTheWork() throws {
        let directory = try makeTemporaryDirectory()
        let file = directory.appendingPathComponent("plain")
        try AtomicFile.write("x", to: file)
        XCTAssertNoThrow(try AtomicFile.checkTarget(directory.appendingPathComponent("new/out.csv")))
        XCTAssertThrowsError(try AtomicFile.checkTarget(directory)) { XCTAssertTrue("\($0)".contains("is a folder"), "\($0)") }
        XCTAssertThrowsError(try AtomicFile.checkTarget(file.appendingPathComponent("out.csv"))) {
            XCTAssertTrue("\($0)".contains("is a file, where a folder is needed"), "\($0)")
        }
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: directory.path).sorted(), ["new", "plain"],
                       "the check leaves no probe file behind")
    }
}
