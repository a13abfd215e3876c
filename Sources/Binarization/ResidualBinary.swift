import Randomness
import Files
import Kernels
import Transformer

// BiLLM (Huang et al., 2024) and ARB-LLM (Li et al., 2025) share one code.
// Columns are taken in blocks of 128 (GPTQ's order, with its error
// compensation); at each block's start, from the compensated weights:
//
//   - the most salient columns, by the Hessian measure Σ_r w_rj² / [H⁻¹]_jj²,
//     get a residual binarization: w ≈ α₁·b₁ + α₂·b₂ per row, so two sign
//     bits a weight;
//   - every other weight of a row falls in one of two groups split at a
//     break-point p searched per row: concentrated (|w| ≤ p) and sparse
//     (|w| > p), each binarized around its own mean, w ≈ μ_g + α_g·sign(w − μ_g),
//     with a one-bit flag saying which group.
//
// BiLLM fits each group's parameters in one closed-form step (μ the mean,
// α = mean|w − μ|; α₁ = mean|w|, α₂ = mean of the residual's magnitude).
// ARB refines them in turn (signs given the parameters, then the parameters
// by least squares given the signs) until the error stops falling.
//
// BiLLM searches how many columns are salient; here the count is a setting
// (a fraction of each block's columns), so that storage follows from shapes.
// Stored per row and block: α₁, α₂, μ_c, α_c, μ_s, α_s in 16 bits.

/// A weight matrix in BiLLM's structure (and ARB's, refined).
public struct ResidualBinaryCode: WeightCode {
    public let rows: Int, cols: Int, blockSize: Int
    public var salientColumns: [Bool]     // [cols]
    public var signs: [UInt8]             // b₁ of every weight, row-major, packed (1: +1)
    public var residualSigns: [UInt8]     // b₂ of the salient weights, row-major, packed
    public var sparse: [UInt8]            // the group flag of the other weights, row-major, packed (1: sparse)
    public var scales: [Float]            // [rows, blocks, 6]: α₁ α₂ μ_c α_c μ_s α_s

    public static let scalesPerBlock = 6
    public var blocks: Int { (cols + blockSize - 1) / blockSize }

    /// Salient columns in a block `width` columns wide.
    public static func salientCount(width: Int, fraction: Double) -> Int {
        min(width, Int((fraction * Double(width)).rounded()))
    }

    /// The code of W [rows, cols]; `refine` turns BiLLM's one-step fits into ARB's
    /// alternating ones, at most `iterations` rounds each.
    public init(_ weight: ConstFloatPointer, rows n: Int, cols m: Int, salientFraction: Double, blockSize: Int,
                hessian: InverseHessian, refine: Bool, iterations: Int = 15) {
        rows = n; cols = m; self.blockSize = min(blockSize, m)
        let g = self.blockSize, blocks = (m + g - 1) / g
        var salient = [Bool](repeating: false, count: m), first = [UInt8](repeating: 0, count: n * m)
        var second = first, flag = first
        var scales = [Float](repeating: 0, count: n * blocks * Self.scalesPerBlock)
        var breakPoint = [Float](repeating: 0, count: n)
        let rounds = refine ? iterations : 0
        var w = Array(UnsafeBufferPointer(start: weight, count: n * m))
        gptqColumns(&w, rows: n, cols: m, hessian) { i, column, current in
            let b = i / g
            if i % g == 0 {
                // The block's structure, from the compensated weights.
                let range = i..<min(m, i + g)
                let score = range.map { j in
                    (0..<n).reduce(Float(0)) { $0 + current[$1 * m + j] * current[$1 * m + j] } / Float(hessian.diagonal[j] * hessian.diagonal[j])
                }
                let k = Self.salientCount(width: range.count, fraction: salientFraction)
                for t in score.indices.sorted(by: { (score[$0], $1) > (score[$1], $0) }).prefix(k) { salient[i + t] = true }
                for r in 0..<n {
                    let row = range.map { current[r * m + $0] }
                    let kept = row.indices.filter { salient[i + $0] }.map { row[$0] }
                    let rest = row.indices.filter { !salient[i + $0] }.map { row[$0] }
                    var fit = Self.residualFit(kept, iterations: rounds).parameters
                    let split = Self.split(rest, iterations: rounds)
                    breakPoint[r] = split.breakPoint
                    fit += [split.concentrated.mu, split.concentrated.alpha, split.sparse.mu, split.sparse.alpha]
                    for (s, v) in fit.enumerated() { scales[(r * blocks + b) * Self.scalesPerBlock + s] = Float(Float16(v)) }
                }
            }
            return (0..<n).map { r in
                let s = (r * blocks + b) * Self.scalesPerBlock, x = column[r], at = r * m + i
                if salient[i] {
                    let (b1, b2) = Self.nearest(x, scales[s], scales[s + 1])
                    first[at] = b1 > 0 ? 1 : 0; second[at] = b2 > 0 ? 1 : 0
                    return scales[s] * b1 + scales[s + 1] * b2
                }
                let isSparse = abs(x) > breakPoint[r], mu = scales[s + (isSparse ? 4 : 2)], alpha = scales[s + (isSparse ? 5 : 3)]
                flag[at] = isSparse ? 1 : 0
                first[at] = x - mu < 0 ? 0 : 1
                return mu + (first[at] == 1 ? alpha : -alpha)
            }
        }
        salientColumns = salient
        signs = packCodes(first, bits: 1)
        residualSigns = packCodes(first.indices.filter { salient[$0 % m] }.map { second[$0] }, bits: 1)
        sparse = packCodes(first.indices.filter { !salient[$0 % m] }.map { flag[$0] }, bits: 1)
        self.scales = scales
    }

    init(rows: Int, cols: Int, blockSize: Int) {
        self.rows = rows; self.cols = cols; self.blockSize = min(blockSize, cols)
        salientColumns = []; signs = []; residualSigns = []; sparse = []; scales = []
    }

    /// Random bits and scales in this structure, for timing kernels (their
    /// speed does not depend on the values).
    public static func random(rows n: Int, cols m: Int, salientFraction: Double, blockSize: Int,
                              using rng: inout SeededGenerator) -> ResidualBinaryCode {
        var c = ResidualBinaryCode(rows: n, cols: m, blockSize: blockSize)
        c.salientColumns = (0..<m).map { $0 % c.blockSize < salientCount(width: c.blockSize, fraction: salientFraction) }
        let k = c.salientColumns.filter { $0 }.count
        func bytes(_ bits: Int) -> [UInt8] { (0..<((bits + 7) / 8)).map { _ in UInt8(truncatingIfNeeded: rng.next()) } }
        c.signs = bytes(n * m); c.residualSigns = bytes(n * k); c.sparse = bytes(n * (m - k))
        c.scales = (0..<(n * c.blocks * scalesPerBlock)).map { _ in Float(Float16(0.01 + 0.01 * abs(rng.normal()))) }
        return c
    }

    public func dequantized() -> [Float] {
        let b1 = unpackCodes(signs, bits: 1, count: rows * cols)
        let salientCount = salientColumns.filter { $0 }.count
        let b2 = unpackCodes(residualSigns, bits: 1, count: rows * salientCount)
        let flags = unpackCodes(sparse, bits: 1, count: rows * (cols - salientCount))
        var nextSalient = 0, nextOther = 0
        let sign = { (bit: UInt8) -> Float in bit == 1 ? 1 : -1 }
        return (0..<(rows * cols)).map { i in
            let (r, j) = (i / cols, i % cols), s = (r * blocks + j / blockSize) * Self.scalesPerBlock
            if salientColumns[j] {
                defer { nextSalient += 1 }
                return scales[s] * sign(b1[i]) + scales[s + 1] * sign(b2[nextSalient])
            }
            defer { nextOther += 1 }
            let g = flags[nextOther] == 1 ? 4 : 2
            return scales[s + g] + scales[s + g + 1] * sign(b1[i])
        }
    }

    public func tensors(prefix: String) -> [(name: String, entry: Safetensors.Entry)] {
        [(prefix + "signs", .bytes(signs)), (prefix + "residual_signs", .bytes(residualSigns)),
         (prefix + "sparse_flags", .bytes(sparse)),
         (prefix + "salient_columns", .bytes(packCodes(salientColumns.map { $0 ? 1 : 0 }, bits: 1))),
         (prefix + "scales", .halves(scales, shape: [rows, blocks, Self.scalesPerBlock]))]
    }

    /// Three sign planes through the binary kernel, the salient columns in float
    /// (PackedLayers.swift); blocks must be whole 64-column words.
    public func packed(precision: ActivationPrecision) -> LinearLayer? {
        PackedResidualBinaryLinear.supports(self) ? PackedResidualBinaryLinear(self, precision: precision) : nil
    }

    public static func load(_ file: Safetensors, prefix: String, rows: Int, cols: Int, blockSize: Int,
                            salientFraction: Double) throws -> ResidualBinaryCode {
        var c = ResidualBinaryCode(rows: rows, cols: cols, blockSize: blockSize)
        c.salientColumns = unpackCodes(try file.bytes(prefix + "salient_columns", count: (cols + 7) / 8), bits: 1, count: cols)
            .map { $0 == 1 }
        let k = (0..<c.blocks).reduce(0) { total, b in
            total + salientCount(width: min(cols, (b + 1) * c.blockSize) - b * c.blockSize, fraction: salientFraction)
        }
        guard c.salientColumns.filter({ $0 }).count == k else {
            throw FileError(path: file.path, problem: "has salient columns of '\(prefix)' that do not number \(k)")
        }
        c.signs = try file.bytes(prefix + "signs", count: (rows * cols + 7) / 8)
        c.residualSigns = try file.bytes(prefix + "residual_signs", count: (rows * k + 7) / 8)
        c.sparse = try file.bytes(prefix + "sparse_flags", count: (rows * (cols - k) + 7) / 8)
        c.scales = try file.halves(prefix + "scales", shape: [rows, c.blocks, scalesPerBlock])
        return c
    }

    // MARK: Fits

    /// One group binarized around its mean, w ≈ μ + α·sign(w − μ): BiLLM's
    /// closed form, then (ARB) rounds of signs given (μ, α) and (μ, α) by least
    /// squares given the signs, while the squared error falls. Returns the
    /// error after each round (the first: the closed form's).
    public static func groupFit(_ x: [Float], iterations: Int) -> (mu: Float, alpha: Float, errors: [Double]) {
        guard !x.isEmpty else { return (0, 0, [0]) }
        var mu = x.reduce(0, +) / Float(x.count)
        var alpha = x.reduce(0) { $0 + abs($1 - mu) } / Float(x.count)
        func error(_ mu: Float, _ alpha: Float) -> Double {
            x.reduce(0.0) { e, v in let d = Double(v - mu - (v - mu < 0 ? -alpha : alpha)); return e + d * d }
        }
        var errors = [error(mu, alpha)]
        for _ in 0..<iterations {
            // Least squares of x on b = sign(x − μ): [N Σb; Σb N] [μ α]ᵀ = [Σx Σxb]ᵀ.
            let n = Double(x.count)
            var sb = 0.0, sx = 0.0, sxb = 0.0
            for v in x { let b: Double = v - mu < 0 ? -1 : 1; sb += b; sx += Double(v); sxb += Double(v) * b }
            let det = n * n - sb * sb
            guard det > 0 else { break }       // every sign the same: the closed form is already the fit
            let newMu = Float((n * sx - sb * sxb) / det), newAlpha = Float((n * sxb - sb * sx) / det)
            let e = error(newMu, newAlpha)
            guard e < errors.last! * (1 - 1e-7) else { break }
            (mu, alpha) = (newMu, newAlpha)
            errors.append(e)
        }
        return (mu, alpha, errors)
    }

    /// The salient weights' two-term fit w ≈ α₁·b₁ + α₂·b₂ (α₁ ≥ α₂ ≥ 0):
    /// BiLLM's greedy one (α₁ = mean|w|, then the residual's), refined by ARB
    /// with each weight's nearest of the four levels ±α₁ ± α₂ and (α₁, α₂) by
    /// least squares. Returns [α₁, α₂] and the error after each round.
    public static func residualFit(_ x: [Float], iterations: Int) -> (parameters: [Float], errors: [Double]) {
        guard !x.isEmpty else { return ([0, 0], [0]) }
        var a1 = x.reduce(0) { $0 + abs($1) } / Float(x.count)
        var a2 = x.reduce(0) { $0 + abs(abs($1) - a1) } / Float(x.count)
        func error(_ a1: Float, _ a2: Float) -> Double {
            x.reduce(0.0) { e, v in let (b1, b2) = nearest(v, a1, a2); let d = Double(v - a1 * b1 - a2 * b2); return e + d * d }
        }
        var errors = [error(a1, a2)]
        for _ in 0..<iterations {
            var c = 0.0, s1 = 0.0, s2 = 0.0
            for v in x { let (b1, b2) = nearest(v, a1, a2); c += Double(b1 * b2); s1 += Double(v * b1); s2 += Double(v * b2) }
            let n = Double(x.count), det = n * n - c * c
            guard det > 0 else { break }
            var new1 = Float((n * s1 - c * s2) / det), new2 = Float((n * s2 - c * s1) / det)
            if abs(new2) > abs(new1) { swap(&new1, &new2) }
            (new1, new2) = (abs(new1), abs(new2))
            let e = error(new1, new2)
            guard e < errors.last! * (1 - 1e-7) else { break }
            (a1, a2) = (new1, new2)
            errors.append(e)
        }
        return ([a1, a2], errors)
    }

    /// The signs (b₁, b₂) of the level ±α₁ ± α₂ nearest to x, for α₁ ≥ α₂ ≥ 0.
    @inline(__always)
    static func nearest(_ x: Float, _ a1: Float, _ a2: Float) -> (Float, Float) {
        let b1: Float = x < 0 ? -1 : 1
        return (b1, x - a1 * b1 < 0 ? -1 : 1)
    }

    /// The non-salient weights of a row split at the break-point p that fits
    /// best, among 19 candidates from 5 % to 95 % of max|w|.
    static func split(_ x: [Float], iterations: Int)
        -> (breakPoint: Float, concentrated: (mu: Float, alpha: Float), sparse: (mu: Float, alpha: Float)) {
        let top = x.reduce(0) { max($0, abs($1)) }
        var best: (error: Double, p: Float, c: (mu: Float, alpha: Float), s: (mu: Float, alpha: Float)) = (.infinity, top, (0, 0), (0, 0))
        for step in 1...19 {
            let p = top * Float(step) / 20
            let c = groupFit(x.filter { abs($0) <= p }, iterations: iterations)
            let s = groupFit(x.filter { abs($0) > p }, iterations: iterations)
            let e = c.errors.last! + s.errors.last!
            if e < best.error { best = (e, p, (c.mu, c.alpha), (s.mu, s.alpha)) }
        }
        return (best.p, best.c, best.s)
    }
}
