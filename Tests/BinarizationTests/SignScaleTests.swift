import Randomness
import XCTest
import Kernels
import Corpus
import Binarization

final class SignScaleTests: XCTestCase {
    func matrix(_ rows: Int, _ cols: Int, seed: UInt64) -> Tensor {
        var rng = SeededGenerator(seed: seed)
        let t = Tensor([rows, cols])
        for i in 0..<t.count { t[i] = rng.normal() * Float(1 + i / cols) }   // rows of different spread
        return t
    }

    /// mean|w| is the error-minimising α: nudging it either way only adds error.
    func testMeanAbsoluteIsTheBestScale() {
        let (rows, cols) = (6, 40)
        let w = matrix(rows, cols, seed: 1), out = Tensor([rows, cols])
        for perRow in [false, true] {
            let best = signScales(w.pointer, rows: rows, cols: cols, perRow: perRow)
            signBinarize(out.data, w.pointer, rows: rows, cols: cols, scales: best)
            let bestError = relativeError(w.pointer, out.pointer, count: w.count)
            for factor: Float in [0.9, 0.99, 1.01, 1.1] {
                signBinarize(out.data, w.pointer, rows: rows, cols: cols, scales: best.map { $0 * factor })
                XCTAssertGreaterThan(relativeError(w.pointer, out.pointer, count: w.count), bestError)
            }
        }
        // Rows of different spread: per-row scales fit strictly better.
        let t = signScales(w.pointer, rows: rows, cols: cols, perRow: false)
        let r = signScales(w.pointer, rows: rows, cols: cols, perRow: true)
        signBinarize(out.data, w.pointer, rows: rows, cols: cols, scales: t)
        let tensorError = relativeError(w.pointer, out.pointer, count: w.count)
        signBinarize(out.data, w.pointer, rows: rows, cols: cols, scales: r)
        XCTAssertLessThan(relativeError(w.pointer, out.pointer, count: w.count), tensorError)
    }

    /// An exactly rank-1 |W| is reproduced; for a general one, the residual
    /// R = |W| − σ u vᵀ satisfies R v = 0 and Rᵀ u = 0 (the first-order
    /// conditions of the best rank-1 fit), checked independently here.
    func testRankOneFit() {
        let (rows, cols) = (7, 11)
        let a = (0..<rows).map { Float($0 + 1) }, b = (0..<cols).map { Float(2 * $0 + 1) / 10 }
        let exact = Tensor([rows, cols]), out = Tensor([rows, cols])
        for r in 0..<rows { for c in 0..<cols { exact[r * cols + c] = (c % 3 == 0 ? -1 : 1) * a[r] * b[c] } }
        let fit = RankOneScales(absoluteOf: exact.pointer, rows: rows, cols: cols)
        fit.binarize(out.data, exact.pointer)
        XCTAssertLessThan(relativeError(exact.pointer, out.pointer, count: exact.count), 1e-5)
        XCTAssertTrue(fit.outputScale.allSatisfy { $0 > 0 } && fit.inputScale.allSatisfy { $0 > 0 })

        let w = matrix(rows, cols, seed: 2)
        let g = RankOneScales(absoluteOf: w.pointer, rows: rows, cols: cols)
        let sigma = g.singularValue
        let u = g.outputScale.map { Double($0) / sigma.squareRoot() }, v = g.inputScale.map { Double($0) / sigma.squareRoot() }
        func residual(_ r: Int, _ c: Int) -> Double { Double(abs(w[r * cols + c])) - sigma * u[r] * v[c] }
        for r in 0..<rows {
            XCTAssertEqual((0..<cols).reduce(0) { $0 + residual(r, $1) * v[$1] }, 0, accuracy: 1e-4 * sigma)
        }
        for c in 0..<cols {
            XCTAssertEqual((0..<rows).reduce(0) { $0 + residual($1, c) * u[$1] }, 0, accuracy: 1e-4 * sigma)
        }
    }
}
