import XCTest
import Experiments

final class StatisticsTests: XCTestCase {
    /// The expansion beyond the table meets the table where they join, and both
    /// tend to the normal quantile.
    func testStudentQuantiles() {
        XCTAssertEqual(studentT975(df: 1), 12.7062, accuracy: 1e-4)
        XCTAssertEqual(studentT975(df: 4), 2.7764, accuracy: 1e-4)
        let z = 1.959964, n = 30.0
        let expansion = z + (z * z * z + z) / (4 * n) + (5 * pow(z, 5) + 16 * z * z * z + 3 * z) / (96 * n * n)
        XCTAssertEqual(expansion, studentT975(df: 30), accuracy: 2e-4)
        XCTAssertEqual(studentT975(df: 40), 2.0211, accuracy: 2e-4)      // table value
        XCTAssertEqual(studentT975(df: 120), 1.9799, accuracy: 2e-4)
        XCTAssert((1...200).map(studentT975).elementsEqual((1...200).map(studentT975).sorted(by: >)))
    }

    /// A hand-computed interval: x = 1, 2, 3, 4, 5 has mean 3, std √2.5, and
    /// half-width 2.7764 · √2.5 / √5.
    func testEstimate() {
        let e = Estimate([1, 2, 3, 4, 5])
        XCTAssertEqual(e.mean, 3)
        XCTAssertEqual(e.std, 2.5.squareRoot(), accuracy: 1e-12)
        XCTAssertEqual(e.halfWidth, 2.7764 * 0.5.squareRoot(), accuracy: 1e-4)
        XCTAssert(e.resolved)
        XCTAssertFalse(Estimate([-1, 1, 2]).resolved)
        XCTAssertFalse(Estimate([3]).resolved)
        XCTAssert(Estimate([3]).halfWidth.isNaN)
    }

    /// Pairing cancels what a seed shares: two settings whose seeds differ by a
    /// large common offset but by 0.1 between them resolve the 0.1, which the
    /// unpaired means cannot.
    func testPairingRemovesTheSeedEffect() {
        let offsets: [UInt64: Double] = [1: 0, 2: 5, 3: -3, 4: 2, 5: 8]
        let a = offsets.mapValues { 10 + $0 }
        var b = offsets.mapValues { 10.1 + $0 }
        b[2]! += 0.02; b[4]! -= 0.03
        b[9] = 0                                   // a seed only b ran is left out
        let d = pairedDifference(a, b)
        XCTAssertEqual(d.count, 5)
        XCTAssertEqual(d.mean, 0.1 - 0.01 / 5, accuracy: 1e-9)
        XCTAssert(d.resolved)
        XCTAssertFalse(Estimate(Array(b.filter { $0.key != 9 }.values)).low > Estimate(Array(a.values)).high)
    }
}
