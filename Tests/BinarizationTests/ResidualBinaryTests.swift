import XCTest
import Randomness
@testable import Binarization

/// BiLLM's structure and ARB's refinement, against what they promise: the
/// refinement's error falls round by round, both beat sign-with-scale on a
/// layer with outlying columns, and ARB is no worse than BiLLM.
final class ResidualBinaryTests: XCTestCase {
    func testRefinementLowersTheErrorRoundByRound() {
        var rng = SeededGenerator(seed: 1)
        // A skewed group: the closed form's mean and mean-absolute scale are not the least-squares fit.
        let x: [Float] = (0..<200).map { _ in let v = rng.normal(); return v > 0 ? v * v * 2 : v * 0.3 }
        let group = ResidualBinaryCode.groupFit(x, iterations: 20)
        XCTAssertGreaterThan(group.errors.count, 1)
        for (a, b) in zip(group.errors, group.errors.dropFirst()) { XCTAssertLessThan(b, a) }
        XCTAssertLessThan(group.errors.last!, 0.95 * group.errors.first!)
        XCTAssertEqual(ResidualBinaryCode.groupFit(x, iterations: 0).errors.count, 1, "no rounds: BiLLM's closed form")
        let residual = ResidualBinaryCode.residualFit(x, iterations: 20)
        for (a, b) in zip(residual.errors, residual.errors.dropFirst()) { XCTAssertLessThan(b, a) }
        XCTAssertLessThan(residual.errors.last!, group.errors.last!, "two signs fit better than one")
    }

    func testCodesBeatSignAndDequantizeAsBuilt() throws {
        let (n, m) = (48, 96)
        var rng = SeededGenerator(seed: 2)
        var w = (0..<(n * m)).map { _ in rng.normal() * 0.1 }
        for r in 0..<n { for j in [3, 50] { w[r * m + j] *= 12 } }      // two outlying columns
        let x = (0..<(256 * m)).map { _ in rng.normal() }
        var h: [Float] = []
        x.withUnsafeBufferPointer { accumulateHessian(&h, $0.baseAddress!, rows: 256, cols: m) }
        let hessian = try XCTUnwrap(InverseHessian(h, cols: m))
        // The layer's output error on the calibration inputs, what compensation minimizes.
        func error(_ q: [Float]) -> Double {
            var difference = 0.0, norm = 0.0
            for t in 0..<256 {
                for r in 0..<n {
                    var exact = 0.0, approximate = 0.0
                    for j in 0..<m { exact += Double(w[r * m + j] * x[t * m + j]); approximate += Double(q[r * m + j] * x[t * m + j]) }
                    difference += (exact - approximate) * (exact - approximate); norm += exact * exact
                }
            }
            return difference / norm
        }
        let codes = [false, true].map { refine in
            w.withUnsafeBufferPointer { ResidualBinaryCode($0.baseAddress!, rows: n, cols: m, salientFraction: 0.05,
                                                          blockSize: 32, hessian: hessian, refine: refine) }
        }
        let sign = w.withUnsafeBufferPointer { SignCode($0.baseAddress!, rows: n, cols: m) }
        let (billm, arb, plain) = (error(codes[0].dequantized()), error(codes[1].dequantized()), error(sign.dequantized()))
        XCTAssertLessThan(billm, 0.7 * plain, "BiLLM \(billm) against sign \(plain)")
        XCTAssertLessThanOrEqual(arb, billm * 1.02, "ARB \(arb) against BiLLM \(billm)")
        // The two outlying columns are among the salient ones (two of the three blocks' columns chosen).
        XCTAssertTrue(codes[0].salientColumns[3] && codes[0].salientColumns[50])
        XCTAssertEqual(codes[0].salientColumns.filter { $0 }.count, 3 * ResidualBinaryCode.salientCount(width: 32, fraction: 0.05))
    }

    /// The packed layer (three sign planes through the binary kernel, the
    /// salient columns in float) against the float product of the dequantized code.
    func testPackedLayerMatchesTheFloatCode() throws {
        let (n, m, tokens) = (96, 256, 3)
        var rng = SeededGenerator(seed: 3)
        let w = (0..<(n * m)).map { _ in rng.normal() * 0.1 }, x = (0..<(tokens * m)).map { _ in rng.normal() }
        var h: [Float] = []
        x.withUnsafeBufferPointer { accumulateHessian(&h, $0.baseAddress!, rows: tokens, cols: m) }
        for i in 0..<m { h[i * m + i] += 1 }
        let hessian = try XCTUnwrap(InverseHessian(h, cols: m))
        for refine in [false, true] {
            let code = w.withUnsafeBufferPointer { ResidualBinaryCode($0.baseAddress!, rows: n, cols: m, salientFraction: 0.1,
                                                                     blockSize: 128, hessian: hessian, refine: refine) }
            let weights = code.dequantized()
            var reference = [Float](repeating: 0, count: tokens * n)
            for t in 0..<tokens { for r in 0..<n { for j in 0..<m { reference[t * n + r] += weights[r * m + j] * x[t * m + j] } } }
            let layer = try XCTUnwrap(code.packed(precision: .int16))
            var fast = [Float](repeating: 0, count: tokens * n)
            x.withUnsafeBufferPointer { xp in fast.withUnsafeMutableBufferPointer { layer.forward($0.baseAddress!, xp.baseAddress!, rows: tokens) } }
            let scale = reference.map(abs).max()!
            for i in reference.indices { XCTAssertEqual(fast[i], reference[i], accuracy: 1e-3 * scale, "refine \(refine) at \(i)") }
        }
    }
}
