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
// by least squares given the signs) until the error stops falling. Its two
// variants change what is fitted:
//
//   - ARB-X measures the error on the calibration inputs, (w − ŵ)ᵀ H (w − ŵ)
//     with H = XᵀX over the block's columns, and solves for a row's six
//     parameters at once in that metric;
//   - ARB-RC drops the means and scales each weight by its row's group scale
//     times its column's scale, ŵ = α_r · α_c · b. A column's scale is shared
//     by its two groups, so that it folds into the activations (x ⊙ α_c) and
//     the packed kernel stays the same; salient columns have one per sign.
//
// BiLLM searches how many columns are salient; here the count is a setting
// (a fraction of each block's columns), so that storage follows from shapes.
// Stored per row and block: α₁, α₂, μ_c, α_c, μ_s, α_s in 16 bits (ARB-RC:
// no μ, and per column one scale, two for a salient column).

/// A weight matrix in BiLLM's structure (and ARB's, refined).
public struct ResidualBinaryCode: WeightCode {
    /// How the parameters are fitted, with at most `rounds` rounds of refinement.
    public enum Fit: Equatable, Sendable {
        case closedForm                 // BiLLM
        case alternating(rounds: Int)   // ARB
        case calibrated(rounds: Int)    // ARB-X
        case rowColumn(rounds: Int)     // ARB-RC

        var rounds: Int {
            switch self {
            case .closedForm: return 0
            case .alternating(let k), .calibrated(let k), .rowColumn(let k): return k
            }
        }
        public var hasColumnScales: Bool { if case .rowColumn = self { return true } else { return false } }
    }

    public let rows: Int, cols: Int, blockSize: Int
    public var salientColumns: [Bool]     // [cols]
    public var signs: [UInt8]             // b₁ of every weight, row-major, packed (1: +1)
    public var residualSigns: [UInt8]     // b₂ of the salient weights, row-major, packed
    public var sparse: [UInt8]            // the group flag of the other weights, row-major, packed (1: sparse)
    public var scales: [Float]            // [rows, blocks, 6]: α₁ α₂ μ_c α_c μ_s α_s
    /// ARB-RC's column scales: one per column (of b₁), one more per salient
    /// column (of b₂), in column order; empty for the other fits.
    public var columnScales: [Float], residualColumnScales: [Float]

    public static let scalesPerBlock = 6
    public var blocks: Int { (cols + blockSize - 1) / blockSize }
    public var hasColumnScales: Bool { !columnScales.isEmpty }

    /// Salient columns in a block `width` columns wide.
    public static func salientCount(width: Int, fraction: Double) -> Int {
        min(width, Int((fraction * Double(width)).rounded()))
    }

    /// The code of W [rows, cols], its parameters fitted as `fit` says.
    public init(_ weight: ConstFloatPointer, rows n: Int, cols m: Int, salientFraction: Double, blockSize: Int,
                hessian: InverseHessian, fit: Fit) {
        rows = n; cols = m; self.blockSize = min(blockSize, m)
        let g = self.blockSize, blocks = (m + g - 1) / g, rounds = fit.rounds
        var salient = [Bool](repeating: false, count: m), first = [UInt8](repeating: 0, count: n * m)
        var second = first, flag = first
        var scales = [Float](repeating: 0, count: n * blocks * Self.scalesPerBlock)
        var columnScale = [Float](repeating: 1, count: m), residualColumnScale = columnScale
        var breakPoint = [Float](repeating: 0, count: n)
        var w = Array(UnsafeBufferPointer(start: weight, count: n * m))
        gptqColumns(&w, rows: n, cols: m, hessian) { i, column, current in
            let b = i / g
            if i % g == 0 {
                // The block's structure and parameters, from the compensated weights.
                let range = i..<min(m, i + g)
                let score = range.map { j in
                    (0..<n).reduce(Float(0)) { $0 + current[$1 * m + j] * current[$1 * m + j] } / Float(hessian.diagonal[j] * hessian.diagonal[j])
                }
                let k = Self.salientCount(width: range.count, fraction: salientFraction)
                for t in score.indices.sorted(by: { (score[$0], $1) > (score[$1], $0) }).prefix(k) { salient[i + t] = true }
                let mask = range.map { salient[$0] }
                var parameters: [[Float]] = (0..<n).map { r in
                    let row = range.map { current[r * m + $0] }
                    let kept = row.indices.filter { mask[$0] }.map { row[$0] }
                    let rest = row.indices.filter { !mask[$0] }.map { row[$0] }
                    let split = Self.split(rest, iterations: rounds)
                    breakPoint[r] = split.breakPoint
                    guard !fit.hasColumnScales else { return [] }   // ARB-RC fits the whole block below
                    let p = Self.residualFit(kept, iterations: rounds).parameters
                        + [split.concentrated.mu, split.concentrated.alpha, split.sparse.mu, split.sparse.alpha]
                    guard case .calibrated = fit else { return p }
                    return Self.calibratedFit(row, salient: mask, breakPoint: split.breakPoint, start: p,
                                              metric: { hessian.hessian[(i + $0) * m + i + $1] }, iterations: rounds).parameters
                }
                if fit.hasColumnScales {
                    let block = (0..<n).flatMap { r in range.map { current[r * m + $0] } }
                    let rc = Self.rowColumnFit(block, rows: n, salient: mask, breakPoints: breakPoint, iterations: rounds)
                    parameters = rc.rows
                    for (t, j) in range.enumerated() {
                        columnScale[j] = Float(Float16(rc.columns[t])); residualColumnScale[j] = Float(Float16(rc.residualColumns[t]))
                    }
                }
                for r in 0..<n {
                    for (s, v) in parameters[r].enumerated() { scales[(r * blocks + b) * Self.scalesPerBlock + s] = Float(Float16(v)) }
                }
            }
            let c1 = columnScale[i], c2 = residualColumnScale[i]
            return (0..<n).map { r in
                let s = (r * blocks + b) * Self.scalesPerBlock, x = column[r], at = r * m + i
                if salient[i] {
                    let (b1, b2) = Self.nearest(x, scales[s] * c1, scales[s + 1] * c2)
                    first[at] = b1 > 0 ? 1 : 0; second[at] = b2 > 0 ? 1 : 0
                    return scales[s] * c1 * b1 + scales[s + 1] * c2 * b2
                }
                let isSparse = fit.hasColumnScales ? abs(abs(x) - scales[s + 5] * c1) < abs(abs(x) - scales[s + 3] * c1)
                                                   : abs(x) > breakPoint[r]
                let mu = scales[s + (isSparse ? 4 : 2)], alpha = scales[s + (isSparse ? 5 : 3)]
                flag[at] = isSparse ? 1 : 0
                first[at] = x - mu < 0 ? 0 : 1
                return mu + (first[at] == 1 ? alpha : -alpha) * c1
            }
        }
        salientColumns = salient
        signs = packCodes(first, bits: 1)
        residualSigns = packCodes(first.indices.filter { salient[$0 % m] }.map { second[$0] }, bits: 1)
        sparse = packCodes(first.indices.filter { !salient[$0 % m] }.map { flag[$0] }, bits: 1)
        self.scales = scales
        if fit.hasColumnScales {
            columnScales = columnScale
            residualColumnScales = (0..<m).filter { salient[$0] }.map { residualColumnScale[$0] }
        } else {
            columnScales = []; residualColumnScales = []
        }
    }

    init(rows: Int, cols: Int, blockSize: Int) {
        self.rows = rows; self.cols = cols; self.blockSize = min(blockSize, cols)
        salientColumns = []; signs = []; residualSigns = []; sparse = []; scales = []
        columnScales = []; residualColumnScales = []
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
        let (c1, c2) = columnScalesByColumn
        var nextSalient = 0, nextOther = 0
        let sign = { (bit: UInt8) -> Float in bit == 1 ? 1 : -1 }
        return (0..<(rows * cols)).map { i in
            let (r, j) = (i / cols, i % cols), s = (r * blocks + j / blockSize) * Self.scalesPerBlock
            if salientColumns[j] {
                defer { nextSalient += 1 }
                return scales[s] * c1[j] * sign(b1[i]) + scales[s + 1] * c2[j] * sign(b2[nextSalient])
            }
            defer { nextOther += 1 }
            let g = flags[nextOther] == 1 ? 4 : 2
            return scales[s + g] + scales[s + g + 1] * c1[j] * sign(b1[i])
        }
    }

    /// Every column's scale of b₁ and of b₂ (ones where there are none).
    var columnScalesByColumn: (first: [Float], second: [Float]) {
        guard hasColumnScales else { return ([Float](repeating: 1, count: cols), [Float](repeating: 1, count: cols)) }
        var second = [Float](repeating: 1, count: cols)
        for (j, c) in zip(salientColumns.indices.filter { salientColumns[$0] }, residualColumnScales) { second[j] = c }
        return (columnScales, second)
    }

    /// ARB-RC has no means: their slots (2 and 4) are not stored.
    static let rowColumnSlots = [0, 1, 3, 5]

    public func tensors(prefix: String) -> [(name: String, entry: Safetensors.Entry)] {
        var t: [(name: String, entry: Safetensors.Entry)] = [
            (prefix + "signs", .bytes(signs)), (prefix + "residual_signs", .bytes(residualSigns)),
            (prefix + "sparse_flags", .bytes(sparse)),
            (prefix + "salient_columns", .bytes(packCodes(salientColumns.map { $0 ? 1 : 0 }, bits: 1)))]
        guard hasColumnScales else {
            return t + [(prefix + "scales", .halves(scales, shape: [rows, blocks, Self.scalesPerBlock]))]
        }
        let kept = (0..<(rows * blocks)).flatMap { o in Self.rowColumnSlots.map { scales[o * Self.scalesPerBlock + $0] } }
        t += [(prefix + "scales", .halves(kept, shape: [rows, blocks, Self.rowColumnSlots.count])),
              (prefix + "column_scales", .halves(columnScales, shape: [cols])),
              (prefix + "residual_column_scales", .halves(residualColumnScales, shape: [residualColumnScales.count]))]
        return t
    }

    /// Three sign planes through the binary kernel, the salient columns in float
    /// (PackedLayers.swift); blocks must be whole 64-column words.
    public func packed(precision: ActivationPrecision) -> LinearLayer? {
        PackedResidualBinaryLinear.supports(self) ? PackedResidualBinaryLinear(self, precision: precision) : nil
    }

    public static func load(_ file: Safetensors, prefix: String, rows: Int, cols: Int, blockSize: Int,
                            salientFraction: Double, columnScales: Bool) throws -> ResidualBinaryCode {
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
        guard columnScales else {
            c.scales = try file.halves(prefix + "scales", shape: [rows, c.blocks, scalesPerBlock])
            return c
        }
        let kept = try file.halves(prefix + "scales", shape: [rows, c.blocks, rowColumnSlots.count])
        c.scales = [Float](repeating: 0, count: rows * c.blocks * scalesPerBlock)
        for o in 0..<(rows * c.blocks) {
            for (t, slot) in rowColumnSlots.enumerated() { c.scales[o * scalesPerBlock + slot] = kept[o * rowColumnSlots.count + t] }
        }
        c.columnScales = try file.halves(prefix + "column_scales", shape: [cols])
        c.residualColumnScales = try file.halves(prefix + "residual_column_scales", shape: [k])
        return c
    }

    // MARK: Fits

    // region: group-fit
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
    // end region: group-fit

    // region: residual-fit
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
    // end region: residual-fit

    /// The signs (b₁, b₂) of the level ±α₁ ± α₂ nearest to x, for α₁, α₂ ≥ 0:
    /// the larger term takes x's sign, the smaller the remainder's.
    @inline(__always)
    static func nearest(_ x: Float, _ a1: Float, _ a2: Float) -> (Float, Float) {
        let major: Float = x < 0 ? -1 : 1
        if a1 >= a2 { return (major, x - a1 * major < 0 ? -1 : 1) }
        return (x - a2 * major < 0 ? -1 : 1, major)
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

    // region: calibrated-fit
    /// ARB-X: a row's block w [g] refitted in the calibration metric,
    /// e(θ) = (w − Aθ)ᵀ H (w − Aθ), where θ holds the six parameters and A
    /// (one or two nonzeros a row) says which of them each weight uses with its
    /// signs. Rounds of θ solved from AᵀHA θ = AᵀHw, then the signs retaken,
    /// while e falls. Returns θ and e after each round (the first: the start's).
    public static func calibratedFit(_ w: [Float], salient: [Bool], breakPoint: Float, start: [Float],
                                     metric h: (Int, Int) -> Double, iterations: Int) -> (parameters: [Float], errors: [Double]) {
        let g = w.count
        // Weight j is u·θ[p] + v·θ[q].
        func basis(_ theta: [Float]) -> [(p: Int, q: Int, u: Double, v: Double)] {
            (0..<g).map { j in
                if salient[j] {
                    let (b1, b2) = nearest(w[j], theta[0], theta[1])
                    return (0, 1, Double(b1), Double(b2))
                }
                let o = abs(w[j]) > breakPoint ? 4 : 2
                return (o, o + 1, 1, w[j] - theta[o] < 0 ? -1 : 1)
            }
        }
        func error(_ theta: [Float], _ a: [(p: Int, q: Int, u: Double, v: Double)]) -> Double {
            let r = (0..<g).map { Double(w[$0]) - a[$0].u * Double(theta[a[$0].p]) - a[$0].v * Double(theta[a[$0].q]) }
            var e = 0.0
            for j in 0..<g { for k in 0..<g { e += r[j] * h(j, k) * r[k] } }
            return e
        }
        var theta = start, a = basis(start), errors = [error(start, a)]
        for _ in 0..<iterations {
            var normal = [Double](repeating: 0, count: 36), rhs = [Double](repeating: 0, count: 6)
            for j in 0..<g {
                let (p, q, u, v) = a[j]
                for k in 0..<g {
                    let hjk = h(j, k), (pk, qk, uk, vk) = a[k]
                    normal[p * 6 + pk] += u * hjk * uk; normal[p * 6 + qk] += u * hjk * vk
                    normal[q * 6 + pk] += v * hjk * uk; normal[q * 6 + qk] += v * hjk * vk
                    rhs[p] += u * hjk * Double(w[k]); rhs[q] += v * hjk * Double(w[k])
                }
            }
            // Solve for the parameters some weight uses; an empty group keeps its values.
            let used = (0..<6).filter { normal[$0 * 6 + $0] > 0 }
            let reduced = used.flatMap { p in used.map { normal[p * 6 + $0] } }
            guard let inverse = Cholesky.inverse(reduced, n: used.count) else { break }
            var next = theta
            for (t, p) in used.enumerated() {
                next[p] = Float(used.indices.reduce(0.0) { $0 + inverse[t * used.count + $1] * rhs[used[$1]] })
            }
            (next[0], next[1]) = (abs(next[0]), abs(next[1]))
            let e = error(next, a), b = basis(next), retaken = error(next, b)
            guard min(e, retaken) < errors.last! * (1 - 1e-7) else { break }
            theta = next
            if retaken <= e { a = b }
            errors.append(min(e, retaken))
        }
        return (theta, errors)
    }
    // end region: calibrated-fit

    // region: row-column-fit
    /// ARB-RC: a block [rows, g] as ŵ = α_r · α_c · b with no means, α_r per
    /// row and group (α₁, α₂ for the salient weights, α_c, α_s for the two
    /// groups, in slots 0, 1, 3, 5), α_c per column (a salient column has one
    /// per sign). Row scales by least squares given the column scales, then
    /// column scales given the row scales, then the salient signs, while the
    /// squared error falls. The other weights' signs are sign(w) throughout.
    public static func rowColumnFit(_ w: [Float], rows n: Int, salient: [Bool], breakPoints: [Float], iterations: Int)
        -> (rows: [[Float]], columns: [Float], residualColumns: [Float], errors: [Double]) {
        let g = salient.count
        var slot = (0..<(n * g)).map { i in salient[i % g] ? 0 : (abs(w[i]) > breakPoints[i / g] ? 5 : 3) }
        var b1 = w.map { Float($0 < 0 ? -1 : 1) }, b2 = [Float](repeating: 1, count: n * g)
        var alpha = [[Float]](repeating: [Float](repeating: 0, count: scalesPerBlock), count: n)
        var c1 = [Float](repeating: 1, count: g), c2 = c1
        // Start: mean magnitudes (for the salient weights, BiLLM's residual).
        for r in 0..<n {
            for s in [0, 3, 5] {
                let x = (0..<g).filter { slot[r * g + $0] == s }.map { abs(w[r * g + $0]) }
                alpha[r][s] = x.isEmpty ? 0 : x.reduce(0, +) / Float(x.count)
            }
            let x = (0..<g).filter { salient[$0] }.map { abs(abs(w[r * g + $0]) - alpha[r][0]) }
            alpha[r][1] = x.isEmpty ? 0 : x.reduce(0, +) / Float(x.count)
            for j in 0..<g where salient[j] { b2[r * g + j] = abs(w[r * g + j]) - alpha[r][0] < 0 ? -b1[r * g + j] : b1[r * g + j] }
        }
        func value(_ r: Int, _ j: Int) -> Float {
            let i = r * g + j
            return salient[j] ? alpha[r][0] * c1[j] * b1[i] + alpha[r][1] * c2[j] * b2[i] : alpha[r][slot[i]] * c1[j] * b1[i]
        }
        func error() -> Double {
            (0..<n).reduce(0.0) { e, r in (0..<g).reduce(e) { e, j in let d = Double(w[r * g + j] - value(r, j)); return e + d * d } }
        }
        // Least squares of y on two bases: [Σuu Σuv; Σuv Σvv] [a b]ᵀ = [Σuy Σvy]ᵀ.
        func twoTerm(_ u: [Float], _ v: [Float], _ y: [Float], old: (Float, Float)) -> (Float, Float) {
            var uu = 0.0, uv = 0.0, vv = 0.0, uy = 0.0, vy = 0.0
            for t in y.indices {
                let (a, b, c) = (Double(u[t]), Double(v[t]), Double(y[t]))
                uu += a * a; uv += a * b; vv += b * b; uy += a * c; vy += b * c
            }
            let det = uu * vv - uv * uv
            guard det > 1e-12 * max(uu * vv, 1e-30) else { return old }
            return (Float((vv * uy - uv * vy) / det), Float((uu * vy - uv * uy) / det))
        }
        var saved = (alpha, c1, c2, b1, b2, slot), errors = [error()]
        for _ in 0..<iterations {
            for r in 0..<n {
                for s in [3, 5] {
                    var num: Float = 0, den: Float = 0
                    for j in 0..<g where slot[r * g + j] == s { num += c1[j] * abs(w[r * g + j]); den += c1[j] * c1[j] }
                    if den > 0 { alpha[r][s] = num / den }
                }
                let js = (0..<g).filter { salient[$0] }
                guard !js.isEmpty else { continue }
                let (a1, a2) = twoTerm(js.map { c1[$0] * b1[r * g + $0] }, js.map { c2[$0] * b2[r * g + $0] },
                                       js.map { w[r * g + $0] }, old: (alpha[r][0], alpha[r][1]))
                (alpha[r][0], alpha[r][1]) = (abs(a1), abs(a2))
            }
            for j in 0..<g {
                if salient[j] {
                    let (a1, a2) = twoTerm((0..<n).map { alpha[$0][0] * b1[$0 * g + j] }, (0..<n).map { alpha[$0][1] * b2[$0 * g + j] },
                                           (0..<n).map { w[$0 * g + j] }, old: (c1[j], c2[j]))
                    (c1[j], c2[j]) = (abs(a1), abs(a2))
                } else {
                    var num: Float = 0, den: Float = 0
                    for r in 0..<n { let a = alpha[r][slot[r * g + j]]; num += a * abs(w[r * g + j]); den += a * a }
                    if den > 0 { c1[j] = num / den }
                }
            }
            for r in 0..<n {
                for j in 0..<g {
                    let i = r * g + j
                    if salient[j] { (b1[i], b2[i]) = nearest(w[i], alpha[r][0] * c1[j], alpha[r][1] * c2[j]); continue }
                    slot[i] = abs(abs(w[i]) - alpha[r][3] * c1[j]) <= abs(abs(w[i]) - alpha[r][5] * c1[j]) ? 3 : 5
                }
            }
            let e = error()
            guard e < errors.last! * (1 - 1e-7) else { (alpha, c1, c2, b1, b2, slot) = saved; break }
            saved = (alpha, c1, c2, b1, b2, slot)
            errors.append(e)
        }
        return (alpha, c1, c2, errors)
    }
    // end region: row-column-fit
}
