import Randomness
import Kernels
import Transformer

/// The teacher's own layers in 16 bits: the reference row of every table.
public struct FullPrecision: BinarizationMethod {
    public static let name = "fp"
    public static let summary = "the full-precision teacher (weights in 16 bits), the reference"
    public static let options: [MethodOption<FullPrecision>] = []
    public init() {}

    public func binarize(_ dense: DenseLinear, hessian: InverseHessian?, workspace: Workspace,
                         rng: inout SeededGenerator) -> LinearLayer {
        let layer = DenseLinear(name: String(dense.weight.name.dropLast(".weight".count)),
                                inFeatures: dense.inFeatures, outFeatures: dense.outFeatures)
        layer.weight.value.copy(from: dense.weight.value)
        layer.weight.trainable = false
        return layer
    }

    public func storage(inFeatures m: Int, outFeatures n: Int, scaleBits: Int, fullPrecisionBits: Int) -> [String: Int] {
        ["weights": fullPrecisionBits * n * m]
    }

    public func load(_ file: Safetensors, prefix: String, rows n: Int, cols m: Int, workspace: Workspace) throws -> LinearLayer {
        let layer = DenseLinear(name: String(prefix.dropLast()), inFeatures: m, outFeatures: n)
        let values = try file.floats(prefix + "weight", shape: [n, m])
        values.withUnsafeBufferPointer { layer.weight.value.data.update(from: $0.baseAddress!, count: n * m) }
        layer.weight.trainable = false
        return layer
    }
}

extension DenseLinear: StoredLayer {
    public func tensors(prefix: String) -> [(name: String, entry: Safetensors.Entry)] {
        [(prefix + "weight", .halves(weight.value.array, shape: weight.value.shape))]
    }

    /// Float layers stay float: the packed kernels are for binary and 2-bit codes.
    public func packed(precision: ActivationPrecision) -> LinearLayer? { nil }
}
