import Kernels
import Transformer

/// ARB-LLM (Li et al., 2025): BiLLM's structure, each group's mean, scale and
/// signs refined in turn while the layer's error falls (ResidualBinary.swift);
/// `--variant x` fits to the calibration inputs' output error (ARB-X),
/// `--variant rc` scales by row times column with no means (ARB-RC).
/// The paper's column-group bitmap, which refines the salient split, is not built.
public struct ARB: ResidualBinaryMethod {
    public enum Variant: String, Codable, Sendable {
        case plain = "arb", calibrated = "x", rowColumn = "rc"
    }

    public static let name = "arb"
    public static let summary = "ARB-LLM: BiLLM's split with alternating refined binarization; post-training, calibrated"
    public static let options = [
        MethodOption<ARB>("salient-columns", \.salientColumns, help: "fraction of each block's columns binarized with a residual"),
        MethodOption<ARB>("block", \.blockSize, help: "columns per block (the layer width when smaller)"),
        MethodOption<ARB>("iterations", \.iterations, help: "rounds of refinement at most, per group"),
        MethodOption<ARB>("variant", \.variant,
                          help: "arb (weight error), x (output error on the calibration inputs) or rc (row × column scales, no means)"),
    ]
    public var salientColumns = 0.1, blockSize = 128, iterations = 15
    public var variant = Variant.plain
    public init() {}
    public init(variant: Variant) { self.variant = variant }

    public var fit: ResidualBinaryCode.Fit {
        switch variant {
        case .plain: return .alternating(rounds: iterations)
        case .calibrated: return .calibrated(rounds: iterations)
        case .rowColumn: return .rowColumn(rounds: iterations)
        }
    }

    public var problems: [String] {
        structureProblems + ((1...1000).contains(iterations) ? [] : ["--iterations must be between 1 and 1000"])
    }
}
