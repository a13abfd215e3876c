import Kernels

// Sign with a scale: W ≈ α · sign(W). For a fixed sign pattern the squared
// error Σ (w − α·sign(w))² = Σ w² − 2α Σ|w| + α² · count is a parabola in α,
// smallest at α = mean |w|. One α per tensor, or one per output row.

/// sign(0) is +1, so every weight gets a bit.
@inline(__always)
public func binarySign(_ w: Float) -> Float { w < 0 ? -1 : 1 }

// region: sign-scale
/// The error-minimising scales of α·sign(W) for W [rows, cols]: one per row,
/// or a single one for the whole tensor (then every entry is the same value).
public func signScales(_ w: ConstFloatPointer, rows: Int, cols: Int, perRow: Bool) -> [Float] {
    var sums = [Double](repeating: 0, count: rows)
    for r in 0..<rows {
        var s: Double = 0
        for c in 0..<cols { s += Double(abs(w[r * cols + c])) }
        sums[r] = s
    }
    if perRow { return sums.map { Float($0 / Double(cols)) } }
    let alpha = Float(sums.reduce(0, +) / Double(rows * cols))
    return [Float](repeating: alpha, count: rows)
}
// end region: sign-scale

/// out[r, c] = scales[r] · sign(w[r, c]).
public func signBinarize(_ out: FloatPointer, _ w: ConstFloatPointer, rows: Int, cols: Int, scales: [Float]) {
    for r in 0..<rows {
        for c in 0..<cols { out[r * cols + c] = scales[r] * binarySign(w[r * cols + c]) }
    }
}

/// ‖A − B‖_F / ‖A‖_F.
public func relativeError(_ a: ConstFloatPointer, _ b: ConstFloatPointer, count: Int) -> Double {
    var difference: Double = 0, norm: Double = 0
    for i in 0..<count {
        let d = Double(a[i]) - Double(b[i])
        difference += d * d
        norm += Double(a[i]) * Double(a[i])
    }
    return (difference / max(norm, .leastNormalMagnitude)).squareRoot()
}
