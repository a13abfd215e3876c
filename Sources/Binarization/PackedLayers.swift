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
