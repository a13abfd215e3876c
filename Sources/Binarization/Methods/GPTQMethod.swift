import Randomness
import Kernels
import Transformer

/// GPTQ: group quantization column by column, each column's rounding error
/// spread over the columns not yet quantized through the inverse Hessian of
/// the layer's calibration inputs (GPTQ.swift).
public struct GPTQ: GroupQuantizationMethod {
    public static let name = "gptq"
    public static let summary = "B-bit group quantization with GPTQ's error compensation; post-training, calibrated"
    public var bits = 2, groupSize = 128
    public init() {}

    public var needsCalibration: Bool { true }

    public func binarize(_ dense: DenseLinear, hessian: InverseHessian?, workspace: Workspace,
                         rng: inout SeededGenerator) -> LinearLayer {
        QuantizedLinear(GroupCode(gptq: dense.weight.value.pointer, rows: dense.outFeatures, cols: dense.inFeatures,
                                  bits: bits, groupSize: groupSize, hessian: hessian!))
    }
}
