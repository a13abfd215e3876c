import Randomness
import Kernels
import Transformer

/// What BiLLM and ARB share: their settings, storage and checkpoint form
/// (ResidualBinary.swift); ARB refines the fits BiLLM makes in one step.
public protocol ResidualBinaryMethod: BinarizationMethod {
    var salientColumns: Double { get set }
    var blockSize: Int { get set }
    /// How the code's parameters are fitted.
    var fit: ResidualBinaryCode.Fit { get }
}

public extension ResidualBinaryMethod {
    var problems: [String] { structureProblems }

    /// Problems with the settings the two methods share.
    var structureProblems: [String] {
        ((0...1).contains(salientColumns) ? [] : ["--salient-columns must be between 0 and 1"])
            + (blockSize >= 1 ? [] : ["--block must be at least 1"])
    }
    var needsCalibration: Bool { true }

    func binarize(_ dense: DenseLinear, hessian: InverseHessian?, workspace: Workspace,
                  rng: inout SeededGenerator) -> LinearLayer {
        QuantizedLinear(ResidualBinaryCode(dense.weight.value.pointer, rows: dense.outFeatures, cols: dense.inFeatures,
                                           salientFraction: salientColumns, blockSize: blockSize, hessian: hessian!,
                                           fit: fit))
    }

    /// Per weight a sign; per salient weight a second one; per other weight a
    /// group flag; per column a salient flag; per row and block six scales
    /// (ARB-RC: four, and a scale per column, two per salient column).
    func storage(inFeatures m: Int, outFeatures n: Int, scaleBits s: Int, fullPrecisionBits: Int) -> [String: Int] {
        let g = min(blockSize, m), blocks = (m + g - 1) / g
        let k = (0..<blocks).reduce(0) { $0 + ResidualBinaryCode.salientCount(width: min(m, ($1 + 1) * g) - $1 * g,
                                                                            fraction: salientColumns) }
        let scales = fit.hasColumnScales ? ResidualBinaryCode.rowColumnSlots.count * n * blocks + m + k
                                         : ResidualBinaryCode.scalesPerBlock * n * blocks
        return ["signs": n * m + n * k, "group flags": n * (m - k), "salient index": m, "scales": s * scales]
    }

    func load(_ file: Safetensors, prefix: String, rows: Int, cols: Int, workspace: Workspace) throws -> LinearLayer {
        QuantizedLinear(try ResidualBinaryCode.load(file, prefix: prefix, rows: rows, cols: cols, blockSize: blockSize,
                                                    salientFraction: salientColumns, columnScales: fit.hasColumnScales))
    }
}

/// BiLLM (Huang et al., 2024): residual binarization of the salient columns,
/// the rest split at a break-point into two groups, GPTQ's compensation.
public struct BiLLM: ResidualBinaryMethod {
    public static let name = "billm"
    public static let summary = "BiLLM: salient columns with residual signs, the rest in two groups at a break-point; post-training, calibrated"
    public static let options = [
        MethodOption<BiLLM>("salient-columns", \.salientColumns, help: "fraction of each block's columns binarized with a residual"),
        MethodOption<BiLLM>("block", \.blockSize, help: "columns per block (GPTQ's block; the layer width when smaller)"),
    ]
    public var salientColumns = 0.1, blockSize = 128
    public var fit: ResidualBinaryCode.Fit { .closedForm }
    public init() {}
}
