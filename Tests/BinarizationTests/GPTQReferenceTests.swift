import Randomness
import XCTest
import Corpus
import Kernels
@testable import Binarization

/// GPTQ against the textbook algorithm, written here from the paper alone:
/// the Optimal Brain Surgeon update with the full inverse Hessian, one column
/// at a time, in Double, with no Cholesky factor and no lazy batches. After
/// quantizing column i with error e = (w_i − q_i) / [H⁻¹]_ii, every later
/// column j moves by −e · [H⁻¹]_ij, and column i is removed from H⁻¹:
/// H⁻¹ ← H⁻¹ − H⁻¹[:, i] H⁻¹[i, :] / [H⁻¹]_ii.
final class GPTQReferenceTests: XCTestCase {
    /// Returns the dequantized weights [n, m].
    func referenceGPTQ(_ weights: [Float], rows n: Int, cols m: Int, x: [Float], samples: Int,
                       bits: Int, groupSize: Int) -> [Double] {
        var h = [Double](repeating: 0, count: m * m)
        for s in 0..<samples { for i in 0..<m { for j in 0..<m {
            h[i * m + j] += Double(x[s * m + i]) * Double(x[s * m + j])
        } } }
        let mean = (0..<m).reduce(0.0) { $0 + h[$1 * m + $1] } / Double(m)
        for i in 0..<m { h[i * m + i] += 0.01 * mean }
        var hinv = gaussJordanInverse(h, n: m)
        var w = weights.map(Double.init)
        let levels = Double(1 << bits - 1)
        var scale = [Double](repeating: 1, count: n), zero = [Double](repeating: 0, count: n)
        for i in 0..<m {
            if i % groupSize == 0 {
                // The group's asymmetric min–max grid, with 0 inside it, from the current (compensated) weights.
                for r in 0..<n {
                    let group = (i..<min(m, i + groupSize)).map { w[r * m + $0] }
                    let lo = min(group.min()!, 0), hi = max(group.max()!, 0)
                    scale[r] = hi > lo ? Double(Float16(Float((hi - lo) / levels))) : 1
                    zero[r] = min(levels, max(0, (-lo / scale[r]).rounded()))
                }
            }
            let d = hinv[i * m + i]
            for r in 0..<n {
                let code = min(levels, max(0, (w[r * m + i] / scale[r]).rounded() + zero[r]))
                let q = scale[r] * (code - zero[r])
                let e = (w[r * m + i] - q) / d
                w[r * m + i] = q
                for j in (i + 1)..<max(i + 1, m) { w[r * m + j] -= e * hinv[i * m + j] }
            }
            let column = (0..<m).map { hinv[$0 * m + i] }, row = (0..<m).map { hinv[i * m + $0] }
            for a in 0..<m { for b in 0..<m { hinv[a * m + b] -= column[a] * row[b] / d } }
        }
        return w
    }

    func gaussJordanInverse(_ a: [Double], n: Int) -> [Double] {
        var left = a, right = (0..<(n * n)).map { $0 / n == $0 % n ? 1.0 : 0.0 }
        for c in 0..<n {
            let pivot = (c..<n).max { abs(left[$0 * n + c]) < abs(left[$1 * n + c]) }!
            for k in 0..<n { left.swapAt(c * n + k, pivot * n + k); right.swapAt(c * n + k, pivot * n + k) }
            let p = left[c * n + c]
            for k in 0..<n { left[c * n + k] /= p; right[c * n + k] /= p }
            for r in 0..<n where r != c {
                let f = left[r * n + c]
                for k in 0..<n { left[r * n + k] -= f * left[c * n + k]; right[r * n + k] -= f * right[c * n + k] }
            }
        }
        return right
    }

    /// On random layers with correlated inputs, the library's GPTQ (Cholesky
    /// of H⁻¹, the form the paper runs) gives the reference's codes and its
    /// output error: the two are one algorithm.
    func testGPTQMatchesTheTextbookUpdate() {
        for (seed, n, m, bits, group) in [(1, 16, 48, 2, 16), (2, 8, 64, 3, 64), (3, 12, 40, 2, 40)] {
            var rng = SeededGenerator(seed: UInt64(seed))
            let samples = 4 * m
            let w = (0..<(n * m)).map { _ in rng.normal() }
            let factors = (0..<(3 * m)).map { _ in rng.normal() }
            var x = [Float](repeating: 0, count: samples * m)
            for s in 0..<samples {
                let z = (0..<3).map { _ in rng.normal() }
                for i in 0..<m { x[s * m + i] = (0..<3).reduce(0) { $0 + z[$1] * factors[$1 * m + i] } + 0.2 * rng.normal() }
            }
            var h: [Float] = []
            x.withUnsafeBufferPointer { accumulateHessian(&h, $0.baseAddress!, rows: samples, cols: m) }
            let code = w.withUnsafeBufferPointer {
                GroupCode(gptq: $0.baseAddress!, rows: n, cols: m, bits: bits, groupSize: group, hessian: InverseHessian(h, cols: m)!)
            }
            let reference = referenceGPTQ(w, rows: n, cols: m, x: x, samples: samples, bits: bits, groupSize: group)
            let ours = code.dequantized().map(Double.init)
            func outputError(_ q: [Double]) -> Double {
                var total = 0.0
                for s in 0..<samples { for o in 0..<n {
                    let d = (0..<m).reduce(0.0) { $0 + Double(x[s * m + $1]) * (Double(w[o * m + $1]) - q[o * m + $1]) }
                    total += d * d
                } }
                return total
            }
            // Float against Double: a weight that lands on a rounding boundary may take the other code.
            let same = zip(ours, reference).filter { abs($0 - $1) < 1e-3 * max(1, abs($1)) }.count
            XCTAssertGreaterThanOrEqual(Double(same) / Double(n * m), 0.98, "seed \(seed): codes differ from the reference")
            XCTAssertEqual(outputError(ours), outputError(reference), accuracy: 0.02 * outputError(reference), "seed \(seed)")
        }
    }
}
