import Kernels
import Transformer

// Students for inference on the packed kernels: the same layers as stored,
// each as bits or codes in memory and multiplied by the kernels of the
// Kernels module. Forward only.

/// A binary layer (sign, OneBit, BinaryMoS) on packed sign bits.
public final class PackedBinaryLinear: PackedLayer {
    public let kernel: PackedMixtureOfScales
    public let precision: ActivationPrecision
    private var scratch: PackedMixtureOfScales.Scratch?
    public var inFeatures: Int { kernel.inFeatures }
    public var outFeatures: Int { kernel.outFeatures }
    public var parameters: [Parameter] { [] }

    public init(_ kernel: PackedMixtureOfScales, precision: ActivationPrecision) {
        self.kernel = kernel; self.precision = precision
    }

    public var byteCount: Int { kernel.byteCount }

    public func forward(_ y: FloatPointer, _ x: ConstFloatPointer, rows: Int) {
        if (scratch?.tokens ?? 0) < rows { scratch = .init(tokens: rows, layer: kernel, precision: precision) }
        kernel.forward(y, x, tokens: rows, scratch: scratch!)
    }

    public func backward(_ dx: FloatPointer, _ dy: ConstFloatPointer, _ x: ConstFloatPointer, rows: Int,
                         accumulate: Bool) {
        preconditionFailure("packed layers are for inference only")
    }
}

/// A 2-bit group-quantized layer on packed codes.
public final class PackedInt2Linear: PackedLayer {
    public let codes: PackedCodes2
    public let precision: ActivationPrecision
    private var scratch: QuantizedActivations?
    public var inFeatures: Int { codes.cols }
    public var outFeatures: Int { codes.rows }
    public var parameters: [Parameter] { [] }

    public init(_ codes: PackedCodes2, precision: ActivationPrecision) { self.codes = codes; self.precision = precision }

    public var byteCount: Int { codes.byteCount }

    public func forward(_ y: FloatPointer, _ x: ConstFloatPointer, rows: Int) {
        if (scratch?.tokens ?? 0) < rows {
            scratch = QuantizedActivations(tokens: rows, cols: codes.cols, padTo: 256, precision: precision)
        }
        int2Product(y, codes, x, tokens: rows, scratch: scratch!)
    }

    public func backward(_ dx: FloatPointer, _ dy: ConstFloatPointer, _ x: ConstFloatPointer, rows: Int,
                         accumulate: Bool) {
        preconditionFailure("packed layers are for inference only")
    }
}

/// PB-LLM on packed bits plus a sparse list of salient weights. With the
/// binary part's sign bit set to +1 at salient positions,
///
///     y_r = α_r · (B x)_r + μ_r · Σ_j x_j + Σ_{j salient} (w_rj − α_r − μ_r) · x_j
///
/// where w_rj is the salient weight's 8-bit value. In memory: n·m sign bits
/// and, per salient weight, its column (32 bits) and the correction (32 bits),
/// which is more than the stored form (a bitmap and 8-bit codes); its
/// `byteCount` says how much.
public final class PackedPartialBinaryLinear: PackedLayer {
    public let signs: PackedSigns
    public let mean: [Float], alpha: [Float]
    let rowStarts: [Int], columns: [Int32], corrections: [Float]
    public let precision: ActivationPrecision
    private var scratch: QuantizedActivations?
    public var inFeatures: Int { signs.cols }
    public var outFeatures: Int { signs.rows }
    public var parameters: [Parameter] { [] }

    public init(_ code: PartialBinaryCode, precision: ActivationPrecision) {
        self.precision = precision
        let (n, m) = (code.rows, code.cols)
        let weights = code.dequantized()
        let stored = unpackCodes(code.signs, bits: 1, count: n * m - code.salientCodes.count)
        var next = 0
        let signValues: [Float] = (0..<(n * m)).map { i in
            if code.salient[i] { return 1 }
            defer { next += 1 }
            return stored[next] == 0 ? -1 : 1
        }
        signs = signValues.withUnsafeBufferPointer { PackedSigns($0.baseAddress!, rows: n, cols: m) }
        mean = code.mean; alpha = code.alpha
        var starts = [0], cols: [Int32] = [], values: [Float] = []
        for r in 0..<n {
            for j in 0..<m where code.salient[r * m + j] {
                cols.append(Int32(j))
                values.append(weights[r * m + j] - code.alpha[r] - code.mean[r])
            }
            starts.append(cols.count)
        }
        rowStarts = starts; columns = cols; corrections = values
    }

    public var byteCount: Int { signs.byteCount + 4 * 2 * outFeatures + 8 * columns.count + 8 * (outFeatures + 1) }

    public func forward(_ y: FloatPointer, _ x: ConstFloatPointer, rows: Int) {
        let (m, n) = (inFeatures, outFeatures)
        if (scratch?.tokens ?? 0) < rows { scratch = QuantizedActivations(tokens: rows, cols: m, padTo: 64, precision: precision) }
        binaryProduct(y, signs, x, tokens: rows, scratch: scratch!)
        parallelChunks(rows, minimumChunk: 4) { tokens in
            for t in tokens {
                let xt = x + t * m, yt = y + t * n
                var total: Float = 0
                for j in 0..<m { total += xt[j] }
                for r in 0..<n {
                    var sparse: Float = 0
                    for k in self.rowStarts[r]..<self.rowStarts[r + 1] {
                        sparse += self.corrections[k] * xt[Int(self.columns[k])]
                    }
                    yt[r] = self.alpha[r] * yt[r] + self.mean[r] * total + sparse
                }
            }
        }
    }

    public func backward(_ dx: FloatPointer, _ dy: ConstFloatPointer, _ x: ConstFloatPointer, rows: Int,
                         accumulate: Bool) {
        preconditionFailure("packed layers are for inference only")
    }
}

extension GroupCode {
    /// 2-bit codes whose layer width and group are whole 64-column blocks;
    /// the kernel's int32 group sums hold up to 16,384 columns of 16-bit activations.
    public func packed(precision: ActivationPrecision) -> LinearLayer? {
        guard bits == 2 && cols % 64 == 0 && groupSize % 64 == 0 && groupSize <= 16384 else { return nil }
        return PackedInt2Linear(PackedCodes2(codes: codes, scales: scales, zeros: zeros, rows: rows, cols: cols,
                                             groupSize: groupSize), precision: precision)
    }
}

extension PartialBinaryCode {
    public func packed(precision: ActivationPrecision) -> LinearLayer? { PackedPartialBinaryLinear(self, precision: precision) }
}

extension Student {
    /// Replaces every layer that has a packed kernel by it: sign, OneBit and
    /// BinaryMoS layers, PB-LLM, and 2-bit group quantization whose layer
    /// width and group are whole 64-column blocks. Returns how many layers
    /// were packed and how many stayed in float (full precision, 3- and 4-bit
    /// codes, or shapes the int2 kernel does not take). `precision`: how the
    /// kernels round activations.
    @discardableResult
    public static func pack(_ model: TransformerModel, precision: ActivationPrecision = .int16) -> (packed: Int, float: Int) {
        var packed = 0, unpacked = 0
        for block in model.blocks {
            for (name, layer) in block.linears {
                if layer is PackedLayer {
                    packed += 1
                } else if let replacement = (layer as? StoredLayer)?.packed(precision: precision) {
                    block.replace(name, with: replacement)
                    packed += 1
                } else {
                    unpacked += 1
                }
            }
        }
        return (packed, unpacked)
    }

    /// Bytes the linear layers occupy in memory as the model now holds them
    /// (packed layers as packed, float layers at 4 bytes per weight).
    public static func linearBytesInMemory(_ model: TransformerModel) -> Int {
        model.blocks.flatMap(\.linears).reduce(0) { total, entry in
            total + ((entry.layer as? PackedLayer)?.byteCount ?? 4 * entry.layer.inFeatures * entry.layer.outFeatures)
        }
    }
}

/// BiLLM and ARB on packed bits (the code is ResidualBinary.swift). With x′
/// the input with the salient columns set to 0, per row r and block b of
/// columns, and f the sparse-group flag:
///
///     A = Σ b₁·x′        F = Σ f·b₁·x′        G = Σ f·x′        X = Σ x′
///     y_r += μ_c·(X − G) + α_c·(A − F) + μ_s·G + α_s·F
///
/// A is the sign plane B₁ times x′; F and G come from two more sign planes,
/// P = (f ? b₁ : +1) and U = (f ? +1 : −1): P·x′ = F + (X − G) and
/// U·x′ = 2G − X. One kernel pass over each row gives the three planes'
/// sums per block (ck_binary_blocks_i8): three bits a weight. The salient
/// columns (a tenth, by default) are multiplied in float, α₁·b₁ + α₂·b₂
/// expanded: 32 bits a weight there. `byteCount` counts all of it, more than
/// the stored form.
public final class PackedResidualBinaryLinear: PackedLayer {
    let rows: Int, cols: Int, blockSize: Int
    let planes: [PackedSigns]                   // B₁, P, U, each [rows, cols]
    let scales: [Float]                         // [rows, blocks, 6] as stored
    let salient: [Int], salientWeights: [Float] // the salient columns, and their weights [rows, salient]
    let columnScales: [Float]                   // ARB-RC's, folded into the activations (empty: none)
    public let precision: ActivationPrecision
    public var inFeatures: Int { cols }
    public var outFeatures: Int { rows }
    public var parameters: [Parameter] { [] }
    var blocks: Int { (cols + blockSize - 1) / blockSize }

    public init(_ code: ResidualBinaryCode, precision: ActivationPrecision) {
        let (n, m) = (code.rows, code.cols)
        rows = n; cols = m; blockSize = code.blockSize; scales = code.scales; self.precision = precision
        columnScales = code.columnScales
        let b1 = unpackCodes(code.signs, bits: 1, count: n * m)
        let k = code.salientColumns.filter { $0 }.count
        let sparse = unpackCodes(code.sparse, bits: 1, count: n * (m - k))
        let salient = code.salientColumns.indices.filter { code.salientColumns[$0] }, weights = code.dequantized()
        self.salient = salient
        salientWeights = (0..<n).flatMap { r in salient.map { weights[r * m + $0] } }
        var flag = [UInt8](repeating: 0, count: n * m), next = 0
        for i in 0..<(n * m) where !code.salientColumns[i % m] { flag[i] = sparse[next]; next += 1 }
        func plane(_ sign: (Int) -> Bool) -> PackedSigns {
            let values: [Float] = (0..<(n * m)).map { sign($0) ? 1 : -1 }
            return values.withUnsafeBufferPointer { PackedSigns($0.baseAddress!, rows: n, cols: m) }
        }
        planes = [plane { b1[$0] == 1 }, plane { flag[$0] == 1 ? b1[$0] == 1 : true }, plane { flag[$0] == 1 }]
    }

    /// The kernel reads whole 64-column words: blocks and the width must be multiples of 64.
    public static func supports(_ code: ResidualBinaryCode) -> Bool { code.blockSize % 64 == 0 && code.cols % 64 == 0 }

    public var byteCount: Int {
        planes.reduce(0) { $0 + $1.byteCount } + 2 * scales.count + 4 * salientWeights.count + 4 * salient.count
            + 4 * columnScales.count
    }

    /// Buffers kept between calls, so that decoding allocates nothing.
    final class Scratch {
        let tokens: Int, activations: QuantizedActivations
        let masked: FloatPointer, products: FloatPointer, totals: FloatPointer, gathered: FloatPointer, dense: FloatPointer
        init(tokens: Int, layer: PackedResidualBinaryLinear) {
            let (n, m, blocks) = (layer.rows, layer.cols, layer.blocks)
            self.tokens = tokens
            activations = QuantizedActivations(tokens: tokens, cols: m, padTo: 64, precision: layer.precision)
            masked = .allocate(capacity: tokens * m); products = .allocate(capacity: 3 * tokens * n * blocks)
            totals = .allocate(capacity: tokens * blocks); gathered = .allocate(capacity: max(1, tokens * layer.salient.count))
            dense = .allocate(capacity: tokens * n)
        }
        deinit { for p in [masked, products, totals, gathered, dense] { p.deallocate() } }
    }
    private var scratch: Scratch?

    public func forward(_ y: FloatPointer, _ x: ConstFloatPointer, rows tokens: Int) {
        let (n, m, g, blocks) = (rows, cols, blockSize, self.blocks), per = ResidualBinaryCode.scalesPerBlock
        if (scratch?.tokens ?? 0) < tokens { scratch = Scratch(tokens: tokens, layer: self) }
        let s = scratch!
        // x′ (the salient columns zeroed, ARB-RC's column scales applied) and
        // X = Σ x′ per token and block (ARB-RC has no means, so X is not used).
        s.masked.update(from: x, count: tokens * m)
        for t in 0..<tokens {
            if !columnScales.isEmpty { for j in 0..<m { s.masked[t * m + j] *= columnScales[j] } }
            for j in salient { s.masked[t * m + j] = 0 }
            for b in 0..<blocks { s.totals[t * blocks + b] = (b * g..<min(m, (b + 1) * g)).reduce(0) { $0 + s.masked[t * m + $1] } }
        }
        binaryBlockProducts(s.products, planes, blockCols: g, s.masked, tokens: tokens, scratch: s.activations)
        scales.withUnsafeBufferPointer { c in
            parallelChunks(n, minimumChunk: 256) { range in
                for t in 0..<tokens {
                    for r in range {
                        var sum: Float = 0
                        for b in 0..<blocks {
                            let p = s.products + ((t * n + r) * blocks + b) * 3, o = (r * blocks + b) * per
                            let X = s.totals[t * blocks + b], G = (p[2] + X) / 2, F = p[1] - X + G
                            sum += c[o + 2] * (X - G) + c[o + 3] * (p[0] - F) + c[o + 4] * G + c[o + 5] * F
                        }
                        y[t * n + r] = sum
                    }
                }
            }
        }
        // The salient columns, in float.
        let k = salient.count
        guard k > 0 else { return }
        for t in 0..<tokens { for (i, j) in salient.enumerated() { s.gathered[t * k + i] = x[t * m + j] } }
        salientWeights.withUnsafeBufferPointer { w in
            matmulForward(s.dense, s.gathered, w.baseAddress!, rows: tokens, inFeatures: k, outFeatures: n)
        }
        for i in 0..<(tokens * n) { y[i] += s.dense[i] }
    }

    public func backward(_ dx: FloatPointer, _ dy: ConstFloatPointer, _ x: ConstFloatPointer, rows: Int,
                         accumulate: Bool) {
        preconditionFailure("packed layers are for inference only")
    }
}
