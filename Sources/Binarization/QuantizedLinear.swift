import Kernels
import Transformer

/// A weight matrix in a post-training code (sign, group quantization, partial
/// binarization): what the checkpoint stores, and the weights it stands for.
public protocol WeightCode {
    var rows: Int { get }                 // n, output features
    var cols: Int { get }                 // m, input features
    /// The weights the code represents, [rows, cols] row-major.
    func dequantized() -> [Float]
    /// The stored tensors, named under `prefix` (e.g. "layers.0.q.").
    func tensors(prefix: String) -> [(name: String, entry: Safetensors.Entry)]
    /// The code on the packed kernels, or nil where they do not take it.
    func packed(precision: ActivationPrecision) -> LinearLayer?
}

/// A frozen layer whose weight is a `WeightCode`. Forward multiplies by the
/// dequantized weight (the float simulation of the code); backward only
/// passes gradients to the input. The float weight is made on first use, so
/// a layer read only to be packed never holds one.
public final class QuantizedLinear: StoredLayer {
    public let code: WeightCode
    public private(set) lazy var weight = Tensor([code.rows, code.cols], values: code.dequantized())   // [n, m]
    public var inFeatures: Int { code.cols }
    public var outFeatures: Int { code.rows }
    public var parameters: [Parameter] { [] }

    public init(_ code: WeightCode) { self.code = code }

    public func forward(_ y: FloatPointer, _ x: ConstFloatPointer, rows: Int) {
        matmulForward(y, x, weight.pointer, rows: rows, inFeatures: inFeatures, outFeatures: outFeatures)
    }

    public func backward(_ dx: FloatPointer, _ dy: ConstFloatPointer, _ x: ConstFloatPointer, rows: Int,
                         accumulate: Bool) {
        matmulBackwardInput(dx, dy, weight.pointer, rows: rows, inFeatures: inFeatures, outFeatures: outFeatures,
                            accumulate: accumulate)
    }

    public func tensors(prefix: String) -> [(name: String, entry: Safetensors.Entry)] { code.tensors(prefix: prefix) }
    public func packed(precision: ActivationPrecision) -> LinearLayer? { code.packed(precision: precision) }
}

/// The sign method's code: W ≈ α_r · sign(W) with α_r = mean|W| of row r.
public struct SignCode: WeightCode {
    public let rows: Int, cols: Int
    public var signs: [UInt8]             // packed, one bit per weight
    public var scales: [Float]            // α [rows], stored in 16 bits

    public init(_ w: ConstFloatPointer, rows: Int, cols: Int) {
        self.rows = rows; self.cols = cols
        signs = packSigns(w, count: rows * cols)
        scales = roundedToHalf(signScales(w, rows: rows, cols: cols, perRow: true))
    }

    init(rows: Int, cols: Int, signs: [UInt8], scales: [Float]) {
        self.rows = rows; self.cols = cols; self.signs = signs; self.scales = scales
    }

    public func dequantized() -> [Float] {
        let b = unpackSigns(signs, count: rows * cols)
        return b.indices.map { b[$0] * scales[$0 / cols] }
    }

    public func tensors(prefix: String) -> [(name: String, entry: Safetensors.Entry)] {
        [(prefix + "signs", .bytes(signs)), (prefix + "scale", .halves(scales, shape: [rows]))]
    }

    /// The one-expert binary layer without input scales.
    public func packed(precision: ActivationPrecision) -> LinearLayer? {
        PackedBinaryLinear(PackedMixtureOfScales(signs: PackedSigns(stored: signs, rows: rows, cols: cols), experts: 1,
                                                 router: nil, inputScale: nil, outputScale: scales), precision: precision)
    }

    public static func load(_ file: Safetensors, prefix: String, rows: Int, cols: Int) throws -> SignCode {
        SignCode(rows: rows, cols: cols, signs: try file.bytes(prefix + "signs", count: (rows * cols + 7) / 8),
                 scales: try file.halves(prefix + "scale", shape: [rows]))
    }
}

/// Values as they come back from 16-bit storage, so that what a model
/// computes right after quantization is what its checkpoint reproduces.
public func roundedToHalf(_ values: [Float]) -> [Float] { values.map { Float(Float16($0)) } }
