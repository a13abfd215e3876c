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

        XCTAssertThrowsError(try AtomicFile.write("text", to: target))
        let left = try FileManager.default.contentsOfDirectory(atPath: directory.path)
        XCTAssertEqual(left, ["occupied"])
    }
}
