import XCTest
import Foundation
import Experiments

final class SlurmTests: XCTestCase {
    /// Array indices as sbatch takes them: runs of consecutive points as ranges.
    func testArrayIndicesBecomeRanges() {
        XCTAssertEqual(Slurm.ranges([1, 2, 3, 5, 7, 8]), "1-3,5,7-8")
        XCTAssertEqual(Slurm.ranges([9, 4, 3]), "3-4,9")
        XCTAssertEqual(Slurm.ranges([12]), "12")
    }

    /// A shell given the line gets the arguments back exactly, whatever they hold.
    func testShellLinesKeepEveryArgument() throws {
        let arguments = ["plain", "two words", "it's", "$HOME", "back\\slash", "tab\there", "new\nline", "", "a=b,c", "*", "é"]
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/bin/sh")
        p.arguments = ["-c", "for a in " + Slurm.shellLine(arguments) + "; do printf '%s\\0' \"$a\"; done"]
        let out = Pipe()
        p.standardOutput = out
        try p.run()
        let data = out.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        XCTAssertEqual(data.split(separator: 0, omittingEmptySubsequences: false).dropLast().map { String(decoding: $0, as: UTF8.self) },
                       arguments)
        XCTAssertEqual(Slurm.shellLine(["mos", "--experts", "4", "--out", "/a/b.csv"]), "mos --experts 4 --out /a/b.csv")
    }
}
