import Randomness
import XCTest
import Kernels
import Corpus

/// Central finite differences of a scalar function of a buffer, element by element.
/// Computed in Float like the model, so tolerances are relative and loose-ish (see callers).
func numericGradient(of f: () -> Double, at x: FloatPointer, count: Int, epsilon: Float = 1e-2) -> [Double] {
    (0..<count).map { i in
        let saved = x[i]
        x[i] = saved + epsilon; let plus = f()
        x[i] = saved - epsilon; let minus = f()
        x[i] = saved
        return (plus - minus) / Double(2 * epsilon)
    }
}

/// Σ out ⊙ weights, in Double: a scalar loss whose gradient w.r.t. out is `weights`.
func weightedSum(_ out: ConstFloatPointer, _ weights: [Float]) -> Double {
    weights.indices.reduce(0.0) { $0 + Double(out[$1]) * Double(weights[$1]) }
}

func randomTensor(_ shape: [Int], _ rng: inout SeededGenerator, scale: Float = 1) -> Tensor {
    let t = Tensor(shape)
    for i in 0..<t.count { t[i] = rng.normal() * scale }
    return t
}

/// Asserts |a − n| ≤ tolerance · max(1, |n|) element by element: relative for
/// large entries, absolute for small ones, where float rounding dominates.
func assertClose(_ analytic: [Float], _ numeric: [Double], tolerance: Double, _ what: String,
                 file: StaticString = #filePath, line: UInt = #line) {
    XCTAssertEqual(analytic.count, numeric.count, what, file: file, line: line)
    var worst = 0.0, worstIndex = 0
    for i in analytic.indices {
        let error = abs(Double(analytic[i]) - numeric[i]) / max(1, abs(numeric[i]))
        if error > worst || error.isNaN { worst = error.isNaN ? .infinity : error; worstIndex = i }
    }
    XCTAssertLessThanOrEqual(worst, tolerance,
        "\(what): element \(worstIndex) analytic \(analytic[worstIndex]) vs numeric \(numeric[worstIndex])",
        file: file, line: line)
}
