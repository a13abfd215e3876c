import XCTest
import Foundation
import Kernels

final class FastExpTests: XCTestCase {
    /// Against libm's exp in Double, on a dense grid over the whole clamped range.
    func testFastExpMatchesExp() {
        var worst = 0.0
        var x = -87.0
        while x <= 88 {
            let xs = SIMD8<Float>((0..<8).map { Float(x + Double($0) * 1e-3) })
            let ys = fastExp(xs)
            for i in 0..<8 {
                let exact = Foundation.exp(Double(xs[i]))
                worst = max(worst, abs(Double(ys[i]) - exact) / exact)
            }
            x += 0.0123
        }
        print("fastExp: largest relative error \(worst)")
        XCTAssertLessThan(worst, 3e-7)   // about two units in the last place of a float
    }

    /// The edges: far below underflows to 0, far above is infinity, NaN stays NaN, 0 gives 1.
    func testEdges() {
        let ys = fastExp(SIMD8<Float>(-1000, -.infinity, 0, 1, 89, .infinity, .nan, -87.5))
        XCTAssertEqual(ys[0], 0); XCTAssertEqual(ys[1], 0); XCTAssertEqual(ys[2], 1)
        XCTAssertEqual(ys[3], Float(M_E), accuracy: 1e-6)
        XCTAssertEqual(ys[4], .infinity); XCTAssertEqual(ys[5], .infinity)
        XCTAssertTrue(ys[6].isNaN); XCTAssertEqual(ys[7], 0)
    }
}
