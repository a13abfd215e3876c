import XCTest
import Kernels
import Randomness
import Transformer
@testable import Binarization

/// BTC's learned rotation against independent computations: the Kronecker
/// product applied factor by factor against the full m × m matrix, the
/// Procrustes solution against other rotations, the rotated layer against a
/// dense layer holding W Rᵀ, and the learning's error falling round by round.
final class RotationTests: XCTestCase {
    func randomMatrix(_ rows: Int, _ cols: Int, _ rng: inout SeededGenerator) -> [Double] {
        (0..<(rows * cols)).map { _ in Double(rng.normal()) }
    }

    func randomRotation(_ m: Int, _ rng: inout SeededGenerator) -> KroneckerRotation { .random(m, using: &rng) }

    func testFactorsAreAsNearTheSquareRootAsTheWidthAllows() {
        for (m, k1, k2) in [(64, 8, 8), (24, 4, 6), (256, 16, 16), (11008, 86, 128), (7, 1, 7)] {
            let r = KroneckerRotation(identity: m)
            XCTAssertEqual([r.k1, r.k2], [k1, k2], "m = \(m)")
        }
    }

    func testRotationMatchesItsFullMatrixAndInverts() {
        var rng = SeededGenerator(seed: 1)
        for m in [24, 64, 7] {
            let rotation = randomRotation(m, &rng), full = rotation.matrix, rows = 5
            let x = (0..<(rows * m)).map { _ in rng.normal() }
            for transposed in [false, true] {
                let fast = rotation.applied(x, rows: rows, transposed: transposed)
                for r in 0..<rows { for j in 0..<m {
                    // x R: Σ_i x_i R[i, j];  x Rᵀ: Σ_i x_i R[j, i].
                    let naive = (0..<m).reduce(0.0) { $0 + Double(x[r * m + $1]) * Double(transposed ? full[j * m + $1] : full[$1 * m + j]) }
                    XCTAssertEqual(Double(fast[r * m + j]), naive, accuracy: 1e-4)
                } }
            }
            let back = rotation.applied(rotation.applied(x, rows: rows), rows: rows, transposed: true)
            for (a, b) in zip(back, x) { XCTAssertEqual(a, b, accuracy: 1e-4) }
        }
    }

    /// R = U Vᵀ is orthogonal, RᵀC is symmetric and positive semidefinite, and
    /// no other rotation reaches a larger tr(RᵀC).
    func testProcrustesMaximisesTheTrace() {
        var rng = SeededGenerator(seed: 2)
        let n = 6, c = randomMatrix(n, n, &rng)
        let r = procrustesRotation(c, n: n)!
        func product(_ a: [Double], _ b: [Double], transposeA: Bool) -> [Double] {
            (0..<(n * n)).map { i in (0..<n).reduce(0.0) { $0 + (transposeA ? a[$1 * n + i / n] : a[i / n * n + $1]) * b[$1 * n + i % n] } }
        }
        let identity = product(r, r, transposeA: true)
        for i in 0..<n { for j in 0..<n { XCTAssertEqual(identity[i * n + j], i == j ? 1 : 0, accuracy: 1e-10) } }
        let rc = product(r, c, transposeA: true)
        for i in 0..<n {
            XCTAssertGreaterThanOrEqual(rc[i * n + i], -1e-10)
            for j in 0..<n { XCTAssertEqual(rc[i * n + j], rc[j * n + i], accuracy: 1e-10) }
        }
        let best = (0..<n).reduce(0.0) { $0 + rc[$1 * n + $1] }
        XCTAssertGreaterThan(best, (0..<n).reduce(0.0) { $0 + c[$1 * n + $1] })   // the identity's trace
        for _ in 0..<50 {
            let q = procrustesRotation(randomMatrix(n, n, &rng), n: n)!, qc = product(q, c, transposeA: true)
            XCTAssertLessThan((0..<n).reduce(0.0) { $0 + qc[$1 * n + $1] }, best + 1e-10)
        }
    }

    /// inner(x R) with a dense inner W is the dense layer W Rᵀ, forward and
    /// backward (∂x, plain and accumulated; W's gradient in the rotated basis).
    func testRotatedLayerIsTheDenseLayerOfWRt() {
        var rng = SeededGenerator(seed: 3)
        let (n, m, rows) = (5, 24, 3)
        let rotation = randomRotation(m, &rng)
        let inner = DenseLinear(name: "inner", inFeatures: m, outFeatures: n), plain = DenseLinear(name: "plain", inFeatures: m, outFeatures: n)
        for i in 0..<(n * m) { inner.weight.value[i] = rng.normal() }
        let wrt = rotation.applied(inner.weight.value.array, rows: n, transposed: true)
        for i in 0..<(n * m) { plain.weight.value[i] = wrt[i] }
        let layer = RotatedInputLinear(inner, rotation: rotation)
        let x = (0..<(rows * m)).map { _ in rng.normal() }, dy = (0..<(rows * n)).map { _ in rng.normal() }
        var y = [Float](repeating: 0, count: rows * n), expected = y
        layer.forward(&y, x, rows: rows); plain.forward(&expected, x, rows: rows)
        for (a, b) in zip(y, expected) { XCTAssertEqual(a, b, accuracy: 1e-4) }
        for accumulate in [false, true] {
            var dx = [Float](repeating: 1, count: rows * m), dxExpected = dx
            layer.backward(&dx, dy, x, rows: rows, accumulate: accumulate)
            plain.backward(&dxExpected, dy, x, rows: rows, accumulate: accumulate)
            for (a, b) in zip(dx, dxExpected) { XCTAssertEqual(a, b, accuracy: 1e-4) }
        }
    }

    /// On weights whose signs share patterns in a rotated basis, learning
    /// lowers the codebook's error at every kept round, well below no rotation.
    func testLearningLowersTheCodebookErrorRoundByRound() {
        var rng = SeededGenerator(seed: 4)
        let (n, m) = (96, 40)
        let prototypes = (0..<4).map { _ in (0..<m).map { _ in rng.normal() } }
        let aligned = (0..<n).flatMap { r in prototypes[r % 4].map { $0 + 0.4 * rng.normal() } }
        let w = randomRotation(m, &rng).applied(aligned, rows: n)
        let (rotation, errors) = w.withUnsafeBufferPointer { p in
            KroneckerRotation.learned(p.baseAddress!, rows: n, cols: m, rounds: 20) { rotated in
                rotated.withUnsafeBufferPointer { CodebookCode($0.baseAddress!, rows: n, cols: m, vector: 10, indexBits: 3).encoded }
            }
        }
        print("rotation learning: error \(errors.map { String(format: "%.1f", $0) }.joined(separator: " → "))")
        XCTAssertGreaterThanOrEqual(errors.count, 3)
        for (a, b) in zip(errors, errors.dropFirst()) { XCTAssertLessThan(b, a) }
        XCTAssertLessThan(errors.last!, 0.8 * errors.first!)
        XCTAssertNotEqual(rotation, KroneckerRotation(identity: m))
    }

    /// BTC with --transform: the code, rotated back, is what the layer computes,
    /// and its signs agree with W R's more than the plain code's with W's.
    func testTransformedCodeAgreesMoreAndDequantizesInTheLayersBasis() {
        var rng = SeededGenerator(seed: 5)
        let (n, m) = (64, 40)
        let prototypes = (0..<4).map { _ in (0..<m).map { _ in rng.normal() } }
        let w = randomRotation(m, &rng).applied((0..<n).flatMap { r in prototypes[r % 4].map { $0 + 0.4 * rng.normal() } }, rows: n)
        let plain = BTC(bitsPerWeight: 0.3).encode(w, rows: n, cols: m)
        let rotated = BTC(bitsPerWeight: 0.3, transform: true).encode(w, rows: n, cols: m)
        XCTAssertNil(plain.rotation)
        let r = try! XCTUnwrap(rotated.rotation)
        w.withUnsafeBufferPointer { p in
            XCTAssertGreaterThan(rotated.agreement(with: p.baseAddress!), plain.agreement(with: p.baseAddress!))
        }
        XCTAssertLessThan(squaredDistance(rotated.dequantized(), w), squaredDistance(plain.dequantized(), w))
        let back = r.applied(rotated.encoded, rows: n, transposed: true)
        XCTAssertEqual(rotated.dequantized(), back)
    }
}
