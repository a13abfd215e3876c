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
        let codes = [ResidualBinaryCode.Fit.closedForm, .alternating(rounds: 15)].map { fit in
            w.withUnsafeBufferPointer { ResidualBinaryCode($0.baseAddress!, rows: n, cols: m, salientFraction: 0.05,
                                                          blockSize: 32, hessian: hessian, fit: fit) }
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
        for fit in [ResidualBinaryCode.Fit.closedForm, .alternating(rounds: 15), .calibrated(rounds: 5), .rowColumn(rounds: 15)] {
            let code = w.withUnsafeBufferPointer { ResidualBinaryCode($0.baseAddress!, rows: n, cols: m, salientFraction: 0.1,
                                                                     blockSize: 128, hessian: hessian, fit: fit) }
            let weights = code.dequantized()
            var reference = [Float](repeating: 0, count: tokens * n)
            for t in 0..<tokens { for r in 0..<n { for j in 0..<m { reference[t * n + r] += weights[r * m + j] * x[t * m + j] } } }
            let layer = try XCTUnwrap(code.packed(precision: .int16))
            var fast = [Float](repeating: 0, count: tokens * n)
            x.withUnsafeBufferPointer { xp in fast.withUnsafeMutableBufferPointer { layer.forward($0.baseAddress!, xp.baseAddress!, rows: tokens) } }
            let scale = reference.map(abs).max()!
            for i in reference.indices { XCTAssertEqual(fast[i], reference[i], accuracy: 1e-3 * scale, "\(fit) at \(i)") }
        }
    }

    /// ARB-X against ARB on inputs whose channels differ in size and are
    /// correlated: its rounds lower the calibration error, and so does the
    /// whole layer's output error.
    func testCalibratedFitLowersTheOutputError() throws {
        let (n, m, tokens) = (32, 64, 512)
        var rng = SeededGenerator(seed: 4)
        let w = (0..<(n * m)).map { _ in rng.normal() * 0.1 }
        let channel = (0..<m).map { _ in exp(rng.normal()) }
        let x: [Float] = (0..<tokens).flatMap { _ -> [Float] in
            let shared = rng.normal()
            return (0..<m).map { channel[$0] * (rng.normal() + 0.8 * shared) }
        }
        var h: [Float] = []
        x.withUnsafeBufferPointer { accumulateHessian(&h, $0.baseAddress!, rows: tokens, cols: m) }
        let hessian = try XCTUnwrap(InverseHessian(h, cols: m))

        // One row's rounds, from ARB's parameters.
        let row = Array(w[0..<m]), mask = (0..<m).map { $0 < 6 }
        let split = ResidualBinaryCode.split(row.indices.filter { !mask[$0] }.map { row[$0] }, iterations: 15)
        let start = ResidualBinaryCode.residualFit(row.indices.filter { mask[$0] }.map { row[$0] }, iterations: 15).parameters
            + [split.concentrated.mu, split.concentrated.alpha, split.sparse.mu, split.sparse.alpha]
        let rounds = ResidualBinaryCode.calibratedFit(row, salient: mask, breakPoint: split.breakPoint, start: start,
                                                      metric: { hessian.hessian[$0 * m + $1] }, iterations: 10).errors
        XCTAssertGreaterThan(rounds.count, 1)
        for (a, b) in zip(rounds, rounds.dropFirst()) { XCTAssertLessThan(b, a) }

        func outputError(_ q: [Float]) -> Double {
            var e = 0.0
            for t in 0..<tokens {
                for r in 0..<n {
                    var d = 0.0
                    for j in 0..<m { d += Double((w[r * m + j] - q[r * m + j]) * x[t * m + j]) }
                    e += d * d
                }
            }
            return e
        }
        let (arb, arbX) = ([ResidualBinaryCode.Fit.alternating(rounds: 15), .calibrated(rounds: 15)].map { fit in
            outputError(w.withUnsafeBufferPointer { ResidualBinaryCode($0.baseAddress!, rows: n, cols: m, salientFraction: 0.1,
                                                                      blockSize: 32, hessian: hessian, fit: fit) }.dequantized())
        }).pair
        XCTAssertLessThan(arbX, 0.97 * arb, "ARB-X \(arbX) against ARB \(arb)")
    }

    /// ARB-RC on a weight whose columns differ in size (the column deviation
    /// it is made for): its rounds lower the error, and its weight error beats
    /// ARB's, whose scales are per row only.
    func testRowColumnScalesFitColumnDeviation() throws {
        let (n, m) = (48, 64)
        var rng = SeededGenerator(seed: 5)
        let column = (0..<m).map { _ in exp(0.7 * rng.normal()) }, row = (0..<n).map { _ in exp(0.3 * rng.normal()) }
        let w = (0..<(n * m)).map { i in row[i / m] * column[i % m] * rng.normal() * 0.1 }
        let mask = (0..<m).map { $0 % 16 == 0 }
        let fit = ResidualBinaryCode.rowColumnFit(w, rows: n, salient: mask, breakPoints: [Float](repeating: 0.1, count: n),
                                                  iterations: 15)
        XCTAssertGreaterThan(fit.errors.count, 2)
        for (a, b) in zip(fit.errors, fit.errors.dropFirst()) { XCTAssertLessThan(b, a) }

        // Whole codes, with an identity Hessian (no compensation to speak of).
        var h = [Float](repeating: 0, count: m * m)
        for i in 0..<m { h[i * m + i] = 1 }
        let hessian = try XCTUnwrap(InverseHessian(h, cols: m))
        func weightError(_ fit: ResidualBinaryCode.Fit) -> Double {
            let q = w.withUnsafeBufferPointer { ResidualBinaryCode($0.baseAddress!, rows: n, cols: m, salientFraction: 0.1,
                                                                  blockSize: 64, hessian: hessian, fit: fit) }.dequantized()
            return zip(w, q).reduce(0.0) { $0 + Double(($1.0 - $1.1) * ($1.0 - $1.1)) }
        }
        let (arb, rc) = (weightError(.alternating(rounds: 15)), weightError(.rowColumn(rounds: 15)))
        XCTAssertLessThan(rc, 0.9 * arb, "ARB-RC \(rc) against ARB \(arb)")
    }
}

private extension Array {
    var pair: (Element, Element) { (self[0], self[1]) }
}
