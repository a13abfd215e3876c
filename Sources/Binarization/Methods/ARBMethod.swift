import Kernels
import Transformer

/// ARB-LLM (Li et al., 2025): BiLLM's structure, each group's mean, scale and
/// signs refined in turn while the layer's error falls (ResidualBinary.swift).
/// Its calibration-aware (ARB-X) and row-and-column-scale (ARB-RC) variants
/// are not built here.
public struct ARB: ResidualBinaryMethod {
    public static let name = "arb"
    public static let summary = "ARB-LLM: BiLLM's split with alternating refined binarization; post-training, calibrated"
    public static let options = [
        MethodOption<ARB>("salient-columns", \.salientColumns, help: "fraction of each block's columns binarized with a residual"),
        MethodOption<ARB>("block", \.blockSize, help: "columns per block (the layer width when smaller)"),
        MethodOption<ARB>("iterations", \.iterations, help: "rounds of refinement at most, per group"),
    ]
    public var salientColumns = 0.1, blockSize = 128, iterations = 15
    public var refinement: Int { iterations }
    public init() {}

    public var problems: [String] {
        structureProblems + ((1...1000).contains(iterations) ? [] : ["--iterations must be between 1 and 1000"])
    }
}
