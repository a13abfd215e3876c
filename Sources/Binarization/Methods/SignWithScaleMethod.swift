import Randomness
import Kernels
import Transformer

/// The plainest binarization: W ≈ α_r · sign(W), α_r = mean|W| of row r.
public struct SignWithScale: BinarizationMethod {
    public static let name = "sign"
    public static let summary = "α·sign(W), α = mean|W| per output row; post-training"
    public static let options: [MethodOption<SignWithScale>] = []
    public init() {}

    public func binarize(_ dense: DenseLinear, hessian: InverseHessian?, workspace: Workspace,
                         rng: inout SeededGenerator) -> LinearLayer {
        QuantizedLinear(SignCode(dense.weight.value.pointer, rows: dense.outFeatures, cols: dense.inFeatures))
    }

    public func storage(inFeatures m: Int, outFeatures n: Int, scaleBits s: Int, fullPrecisionBits: Int) -> [String: Int] {
        ["signs": n * m, "scales": s * n]
    }

    public func load(_ file: Safetensors, prefix: String, rows: Int, cols: Int, workspace: Workspace) throws -> LinearLayer {
        QuantizedLinear(try SignCode.load(file, prefix: prefix, rows: rows, cols: cols))
    }

    /// The stored bits are the kernel's: the one-expert layer without input scales.
    public func loadPacked(_ file: Safetensors, prefix: String, rows: Int, cols: Int,
                           precision: ActivationPrecision) throws -> LinearLayer? {
        let signs = try PackedSigns(stored: file.bytes(prefix + "signs", count: (rows * cols + 7) / 8), rows: rows, cols: cols)
        return PackedBinaryLinear(PackedMixtureOfScales(signs: signs, experts: 1, router: nil, inputScale: nil,
                                                        outputScale: try file.halves(prefix + "scale", shape: [rows])),
                                  precision: precision)
    }
}
