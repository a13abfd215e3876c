import Randomness
import Kernels
import Transformer

/// B-bit group quantization, the 2-bit baselines: what RTN and GPTQ share
/// (settings, storage, checkpoint form); they differ in how codes are chosen.
public protocol GroupQuantizationMethod: BinarizationMethod {
    var bits: Int { get set }
    var groupSize: Int { get set }
}

public extension GroupQuantizationMethod {
    static var options: [MethodOption<Self>] {
        [MethodOption("bits", \.bits, help: "bits per code B"),
         MethodOption("group", \.groupSize, help: "weights per 16-bit scale and zero, along the input (the layer width when smaller)")]
    }

    var label: String { "\(Self.name) \(bits)-bit g\(groupSize)" }

    var problems: [String] {
        ((1...8).contains(bits) ? [] : ["--bits must be between 1 and 8"]) + (groupSize >= 1 ? [] : ["--group must be at least 1"])
    }

    /// B bits a weight, and a scale and a zero per group.
    func storage(inFeatures m: Int, outFeatures n: Int, scaleBits s: Int, fullPrecisionBits: Int) -> [String: Int] {
        let g = GroupCode.groupSize(groupSize, cols: m)
        return ["codes": bits * n * m, "group scales": 2 * s * n * ((m + g - 1) / g)]
    }

    func load(_ file: Safetensors, prefix: String, rows: Int, cols: Int, workspace: Workspace) throws -> LinearLayer {
        QuantizedLinear(try GroupCode.load(file, prefix: prefix, rows: rows, cols: cols, bits: bits, groupSize: groupSize))
    }
}

/// Round to nearest: every group's range from its own weights.
public struct RoundToNearest: GroupQuantizationMethod {
    public static let name = "rtn"
    public static let summary = "B-bit group quantization, round to nearest; post-training"
    public var bits = 2, groupSize = 128
    public init() {}

    public func binarize(_ dense: DenseLinear, hessian: InverseHessian?, workspace: Workspace,
                         rng: inout SeededGenerator) -> LinearLayer {
        QuantizedLinear(GroupCode(roundingToNearest: dense.weight.value.pointer, rows: dense.outFeatures,
                                  cols: dense.inFeatures, bits: bits, groupSize: groupSize))
    }
}
