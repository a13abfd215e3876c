import Randomness
import Kernels
import Transformer

/// PB-LLM: a salient fraction of the weights at 8 bits, the rest binarized
/// around each row's mean (PartialBinary.swift).
public struct PBLLM: BinarizationMethod {
    public enum Saliency: String, Codable, Sendable, CaseIterable { case magnitude, hessian }

    public static let name = "pbllm"
    public static let summary = "PB-LLM: a salient fraction r at 8 bits, the rest binarized; post-training"
    public static let options = [
        MethodOption<PBLLM>("salient", \.salientRatio, help: "fraction r of the weights kept at 8 bits"),
        MethodOption<PBLLM>("saliency", \.saliency, help: "how salient weights are chosen: magnitude (|w|) or hessian (w² / [H⁻¹]ⱼⱼ²)"),
        MethodOption<PBLLM>("compensation", \.compensation, help: "true: GPTQ-style column-by-column error compensation"),
    ]

    public var salientRatio = 0.1
    public var saliency = Saliency.hessian
    public var compensation = true
    public init() {}
    public init(salient: Double, saliency: Saliency = .hessian, compensation: Bool = true) {
        salientRatio = salient; self.saliency = saliency; self.compensation = compensation
    }

    public var label: String { "pbllm r=\(salientRatio) \(saliency.rawValue)\(compensation ? " gptq" : "")" }
    /// r = 1 would keep every weight at 8 bits: nothing left to binarize.
    public var problems: [String] { salientRatio >= 0 && salientRatio < 1 ? [] : ["--salient must be at least 0 and below 1"] }
    public var needsCalibration: Bool { saliency == .hessian || compensation }

    public func binarize(_ dense: DenseLinear, hessian: InverseHessian?, workspace: Workspace,
                         rng: inout SeededGenerator) -> LinearLayer {
        QuantizedLinear(PartialBinaryCode(dense.weight.value.pointer, rows: dense.outFeatures, cols: dense.inFeatures,
                                          ratio: salientRatio, saliency: saliency, hessian: hessian,
                                          compensation: compensation))
    }

    /// Per row: salient scale and zero, the binary part's μ and α.
    public func storage(inFeatures m: Int, outFeatures n: Int, scaleBits s: Int, fullPrecisionBits: Int) -> [String: Int] {
        let w = n * m, k = PartialBinaryCode.salientCount(rows: n, cols: m, ratio: salientRatio)
        return ["signs": w - k, "salient values": 8 * k, "salient index": w, "scales": s * 4 * n]
    }

    public func load(_ file: Safetensors, prefix: String, rows: Int, cols: Int, workspace: Workspace) throws -> LinearLayer {
        QuantizedLinear(try PartialBinaryCode.load(file, prefix: prefix, rows: rows, cols: cols, ratio: salientRatio))
    }
}
