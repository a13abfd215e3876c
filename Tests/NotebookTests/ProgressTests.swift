import XCTest
@testable import Notebook

final class ProgressTests: XCTestCase {
    func testLogModePrintsFirstLastAndEveryFewSeconds() {
        var lines: [String] = []
        var clock = 0.0
        let progress = Progress(total: 100, label: "train", isTerminal: false, logInterval: 5,
                                output: { lines.append($0) }, now: { clock })
        for step in 1...100 {
            clock += 0.5   // one step every half second: 50 s in all
            progress.update(step: step, fields: [("loss", "\(100 - step)")])
        }
        progress.finish()

        XCTAssertEqual(lines.first, "train 1/100  loss 99  elapsed 0.5s  eta 49.5s\n")
        XCTAssertEqual(lines.last, "train 100/100  loss 0  elapsed 50.0s\n")
        XCTAssertTrue((10...12).contains(lines.count), "\(lines.count) lines: \(lines)")
        XCTAssertTrue(lines.allSatisfy { !$0.contains("\r") })
    }

    func testTerminalModeRedrawsOneLine() {
        var output = ""
        var clock = 0.0
        let progress = Progress(total: 3, label: "eval", isTerminal: true,
                                output: { output += $0 }, now: { clock })
        for step in 1...3 {
            clock += 1
            progress.update(step: step)
        }
        progress.finish()
        XCTAssertTrue(output.hasPrefix("\reval 1/3  elapsed 1.0s  eta 2.0s"))
        XCTAssertTrue(output.hasSuffix("\reval 3/3  elapsed 3.0s\u{1B}[K\n"))
        XCTAssertEqual(output.filter { $0 == "\n" }.count, 1)
    }

    func testDurations() {
        XCTAssertEqual(Progress.duration(4.25), "4.2s")
        XCTAssertEqual(Progress.duration(185), "3m05s")
        XCTAssertEqual(Progress.duration(3725), "1h02m")
    }
}
