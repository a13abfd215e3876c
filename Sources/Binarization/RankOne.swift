import Kernels

/// OneBit's dual scales (also BinaryMoS's initialisation): the best rank-1
/// approximation of |W|, |W| ≈ σ₁ u vᵀ, split as outputScale = u·√σ₁ (one per
/// output row) and inputScale = v·√σ₁ (one per input column). Then
/// W ≈ sign(W) ⊙ (outputScale · inputScaleᵀ).
public struct RankOneScales {
    public var outputScale: [Float]   // [rows]  (S_out, h in OneBit)
    public var inputScale: [Float]    // [cols]  (S_in, g in OneBit)
    public var singularValue: Double

    // region: rank-one
    /// Power iteration on the non-negative matrix |W| [rows, cols]. Its leading
    /// singular vectors are non-negative (Perron–Frobenius), so starting from
    /// all ones keeps every iterate positive and no sign fixing is needed.
    public init(absoluteOf w: ConstFloatPointer, rows: Int, cols: Int, iterations: Int = 100) {
        var u = [Double](repeating: 1 / Double(rows).squareRoot(), count: rows)
        var v = [Double](repeating: 0, count: cols)
        var sigma = 0.0
        for _ in 0..<iterations {
            // v = |W|ᵀ u / ‖·‖,  u = |W| v / ‖·‖
            for c in 0..<cols { v[c] = 0 }
            for r in 0..<rows { for c in 0..<cols { v[c] += Double(abs(w[r * cols + c])) * u[r] } }
            let nv = v.reduce(0) { $0 + $1 * $1 }.squareRoot()
            for c in 0..<cols { v[c] /= nv }
            for r in 0..<rows {
                var s = 0.0
                for c in 0..<cols { s += Double(abs(w[r * cols + c])) * v[c] }
                u[r] = s
            }
            let previous = sigma
            sigma = u.reduce(0) { $0 + $1 * $1 }.squareRoot()   // ‖|W| v‖ = σ₁ at convergence
            for r in 0..<rows { u[r] /= sigma }
            if abs(sigma - previous) <= 1e-12 * sigma { break }
        }
        let root = sigma.squareRoot()
        outputScale = u.map { Float($0 * root) }
        inputScale = v.map { Float($0 * root) }
        singularValue = sigma
    }
    // end region: rank-one

    /// out[r, c] = sign(w[r, c]) · outputScale[r] · inputScale[c].
    public func binarize(_ out: FloatPointer, _ w: ConstFloatPointer) {
        let rows = outputScale.count, cols = inputScale.count
        for r in 0..<rows {
            for c in 0..<cols { out[r * cols + c] = binarySign(w[r * cols + c]) * outputScale[r] * inputScale[c] }
        }
    }
}
