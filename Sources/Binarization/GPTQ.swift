import Kernels
import Transformer

// GPTQ (Frantar et al.): quantize a layer's weight column by column, and after
// each column spread its rounding error over the columns not yet quantized,
// weighted by the inverse Hessian of the layer's squared output error,
// H = 2·XᵀX over calibration inputs X. With U the upper Cholesky factor of H⁻¹
// (H⁻¹ = UᵀU), column i's error is e = (w_i − q_i) / U_ii and every later
// column j moves by −e · U_ij.

/// Σ xᵀx over the rows of X [rows, cols], added into `h` [cols, cols] (the
/// factor 2 of H = 2XᵀX changes nothing GPTQ computes, so it is left out).
public func accumulateHessian(_ h: inout [Float], _ x: ConstFloatPointer, rows: Int, cols: Int) {
    if h.isEmpty { h = [Float](repeating: 0, count: cols * cols) }
    h.withUnsafeMutableBufferPointer { hp in
        matmulBackwardWeight(hp.baseAddress!, x, x, rows: rows, inFeatures: cols, outFeatures: cols)
    }
}

/// What GPTQ needs of a Hessian: its inverse's upper Cholesky factor, after
/// the usual repairs: a column that never saw input (H_ii = 0) gets H_ii = 1,
/// and the diagonal is damped by `dampening` × its mean.
public struct InverseHessian {
    public let cols: Int
    public let factor: [Double]          // U, [cols, cols], H⁻¹ = UᵀU
    public let diagonal: [Double]        // [H⁻¹]_ii (PB-LLM's saliency)
    public let hessian: [Double]         // H itself, repaired and damped (ARB-X's metric)
    public let deadColumns: [Int]

    /// Nil only when the Hessian is not finite: a factorisation that fails
    /// is retried with ten and a hundred times the damping.
    public init?(_ h: [Float], cols m: Int, dampening: Double = 0.01) {
        var a = h.map(Double.init)
        guard a.allSatisfy(\.isFinite) else { return nil }
        var dead: [Int] = []
        for i in 0..<m where a[i * m + i] == 0 { a[i * m + i] = 1; dead.append(i) }
        let mean = (0..<m).reduce(0.0) { $0 + a[$1 * m + $1] } / Double(m)
        for damping in [dampening, 10 * dampening, 100 * dampening] {
            var damped = a
            for i in 0..<m { damped[i * m + i] += damping * mean }
            if let inverse = Cholesky.inverse(damped, n: m), let u = Cholesky.upper(inverse, n: m) {
                cols = m; factor = u; deadColumns = dead; hessian = damped
                diagonal = (0..<m).map { inverse[$0 * m + $0] }
                return
            }
        }
        return nil
    }
}

// region: update
/// Quantizes W [rows, cols] column by column with GPTQ's error compensation.
/// `quantize(i, column)` gets the current (already compensated) values of
/// column i and returns their quantized values; it is called for i = 0, 1, …
/// in order, so a quantizer can fix a group's parameters when the group starts,
/// from the compensated weights (reading `w`, which holds them).
public func gptqColumns(_ w: inout [Float], rows n: Int, cols m: Int, _ hinv: InverseHessian,
                        quantize: (_ column: Int, _ values: [Float], _ w: [Float]) -> [Float]) {
    precondition(hinv.cols == m && w.count == n * m)
    for i in hinv.deadColumns { for r in 0..<n { w[r * m + i] = 0 } }
    let u = hinv.factor
    var error = [Float](repeating: 0, count: n)
    for i in 0..<m {
        let column = (0..<n).map { w[$0 * m + i] }
        let q = quantize(i, column, w)
        let d = Float(u[i * m + i])
        for r in 0..<n {
            error[r] = (column[r] - q[r]) / d
            w[r * m + i] = q[r]
        }
        guard i + 1 < m else { break }
        let row = (i + 1)..<m
        let ui = u[(i * m + i + 1)..<(i * m + m)].map(Float.init)
        w.withUnsafeMutableBufferPointer { wp in
            ui.withUnsafeBufferPointer { up in
                parallelChunks(n, minimumChunk: 32) { rows in
                    for r in rows {
                        let e = error[r], base = wp.baseAddress! + r * m + row.lowerBound
                        for j in 0..<up.count { base[j] -= e * up[j] }
                    }
                }
            }
        }
    }
}
// end region: update
