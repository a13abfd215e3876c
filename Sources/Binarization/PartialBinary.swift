import Files
import Kernels
import Transformer

/// PB-LLM's partial binarization: the most salient fraction r of a layer's
/// weights is kept at 8 bits (per-row asymmetric min–max over the row's
/// salient weights and 0), the rest is binarized around the row's mean,
/// w ≈ μ_r + α_r · sign(w − μ_r) with α_r = mean|w − μ_r|. Saliency is |w|,
/// or the Hessian measure w² / [H⁻¹]_jj² from calibration inputs; with error
/// compensation, columns are quantized in GPTQ's order and manner (PB-GPTQ).
///
/// Stored: one sign bit per binarized weight, an n·m-bit salient index, one
/// byte per salient weight, and four 16-bit numbers per row.
public struct PartialBinaryCode: WeightCode {
    public let rows: Int, cols: Int
    public var salient: [Bool]            // [rows, cols]
    public var signs: [UInt8]             // sign(w − μ) of the binarized weights, row-major, as bits
    public var salientCodes: [UInt8]      // the salient weights' 8-bit codes, row-major
    public var salientScale: [Float], salientZero: [Float]   // [rows]
    public var mean: [Float], alpha: [Float]                 // μ, α [rows]

    /// round(r · rows · cols): the salient weights, chosen over the whole layer.
    public static func salientCount(rows: Int, cols: Int, ratio: Double) -> Int {
        Int((ratio * Double(rows * cols)).rounded())
    }

    /// Partial binarization of W [rows, cols]. `hessian` is needed for Hessian
    /// saliency and for error compensation.
    public init(_ weight: ConstFloatPointer, rows: Int, cols: Int, ratio: Double, saliency: PBLLM.Saliency,
                hessian: InverseHessian?, compensation: Bool) {
        let w = Array(UnsafeBufferPointer(start: weight, count: rows * cols))
        // region: salient-split
        // The salient set: the k largest saliencies (ties broken by position, so it is reproducible).
        let score: [Float] = w.indices.map { i in
            switch saliency {
            case .magnitude: return abs(w[i])
            case .hessian:
                let d = Float(hessian!.diagonal[i % cols])
                return w[i] * w[i] / (d * d)
            }
        }
        let k = Self.salientCount(rows: rows, cols: cols, ratio: ratio)
        var salient = [Bool](repeating: false, count: rows * cols)
        for i in w.indices.sorted(by: { (score[$0], $1) > (score[$1], $0) }).prefix(k) { salient[i] = true }
        // end region: salient-split
        // region: binarized-rest
        // Per-row parameters, from the original weights, rounded as stored.
        var salientScale: [Float] = [], salientZero: [Float] = [], mean: [Float] = [], alpha: [Float] = []
        for r in 0..<rows {
            let row = (r * cols)..<((r + 1) * cols)
            let kept = row.filter { salient[$0] }.map { w[$0] }
            let rest = row.filter { !salient[$0] }.map { w[$0] }
            // The range includes 0 (as GPTQ's), so the zero point is a valid code and a
            // row whose salient weights share a sign, or has only one, is still representable.
            let lo = min(kept.min() ?? 0, 0), hi = max(kept.max() ?? 0, 0)
            let scale = hi > lo ? Float(Float16((hi - lo) / 255)) : 1
            salientScale.append(scale)
            salientZero.append(min(255, max(0, (-lo / scale).rounded())))
            let mu = rest.isEmpty ? 0 : rest.reduce(0, +) / Float(rest.count)
            mean.append(Float(Float16(mu)))
            alpha.append(Float(Float16(rest.isEmpty ? 0 : rest.reduce(0) { $0 + abs($1 - mu) } / Float(rest.count))))
        }
        // Quantize every weight at once, or column by column with compensation.
        var codes = [UInt8](repeating: 0, count: rows * cols), bits = codes
        func quantize(_ value: Float, at i: Int) -> Float {
            let r = i / cols
            if salient[i] {
                let q = min(255, max(0, (value / salientScale[r]).rounded() + salientZero[r]))
                codes[i] = UInt8(q)
                return salientScale[r] * (q - salientZero[r])
            }
            bits[i] = value - mean[r] < 0 ? 0 : 1
            return mean[r] + (bits[i] == 0 ? -alpha[r] : alpha[r])
        }
        if compensation, let hessian {
            var compensated = w
            gptqColumns(&compensated, rows: rows, cols: cols, hessian) { c, column, _ in
                (0..<rows).map { quantize(column[$0], at: $0 * cols + c) }
            }
        } else {
            for i in w.indices { _ = quantize(w[i], at: i) }
        }
        // end region: binarized-rest
        self.rows = rows; self.cols = cols; self.salient = salient
        self.salientScale = salientScale; self.salientZero = salientZero; self.mean = mean; self.alpha = alpha
        signs = packCodes(bits.indices.filter { !salient[$0] }.map { bits[$0] }, bits: 1)
        salientCodes = codes.indices.filter { salient[$0] }.map { codes[$0] }
    }

    init(rows: Int, cols: Int) {
        self.rows = rows; self.cols = cols
        salient = []; signs = []; salientCodes = []; salientScale = []; salientZero = []; mean = []; alpha = []
    }

    public func dequantized() -> [Float] {
        let binarized = unpackCodes(signs, bits: 1, count: rows * cols - salientCodes.count)
        var nextBit = 0, nextCode = 0
        return (0..<(rows * cols)).map { i in
            let r = i / cols
            if salient[i] {
                defer { nextCode += 1 }
                return salientScale[r] * (Float(salientCodes[nextCode]) - salientZero[r])
            }
            defer { nextBit += 1 }
            return mean[r] + (binarized[nextBit] == 0 ? -alpha[r] : alpha[r])
        }
    }

    public func tensors(prefix: String) -> [(name: String, entry: Safetensors.Entry)] {
        [(prefix + "signs", .bytes(signs)),
         (prefix + "salient_index", .bytes(packCodes(salient.map { $0 ? 1 : 0 }, bits: 1))),
         (prefix + "salient_values", .bytes(salientCodes)),
         (prefix + "salient_scale", .halves(salientScale, shape: [rows])),
         (prefix + "salient_zero", .halves(salientZero, shape: [rows])),
         (prefix + "mean", .halves(mean, shape: [rows])),
         (prefix + "alpha", .halves(alpha, shape: [rows]))]
    }

    public static func load(_ file: Safetensors, prefix: String, rows: Int, cols: Int, ratio: Double) throws
        -> PartialBinaryCode {
        var c = PartialBinaryCode(rows: rows, cols: cols)
        let k = salientCount(rows: rows, cols: cols, ratio: ratio)
        c.salient = unpackCodes(try file.bytes(prefix + "salient_index", count: (rows * cols + 7) / 8),
                                bits: 1, count: rows * cols).map { $0 == 1 }
        guard c.salient.filter({ $0 }).count == k else {
            throw FileError(path: file.path, problem: "has a salient index of '\(prefix)' that does not mark \(k) weights")
        }
        c.signs = try file.bytes(prefix + "signs", count: (rows * cols - k + 7) / 8)
        c.salientCodes = try file.bytes(prefix + "salient_values", count: k)
        c.salientScale = try file.halves(prefix + "salient_scale", shape: [rows])
        c.salientZero = try file.halves(prefix + "salient_zero", shape: [rows])
        c.mean = try file.halves(prefix + "mean", shape: [rows])
        c.alpha = try file.halves(prefix + "alpha", shape: [rows])
        return c
    }
}
