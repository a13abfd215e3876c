import Kernels
import Randomness
import Transformer

/// BTC-LLM below one bit: sign sub-vectors of length v as indices into a
/// binary codebook, OneBit's scales (Codebook.swift). Post-training, or with
/// `--distill` its scales trained afterwards by BinaryMoS's recipe. The
/// paper's learned transformation before binarization is not built.
public struct BTC: BinarizationMethod {
    public static let name = "btc"
    public static let summary = "BTC-LLM: sign sub-vectors as indices into a binary codebook, below one bit; post-training"
    public static let options = [
        MethodOption<BTC>("bits-per-weight", \.bitsPerWeight, help: "index bits per weight B: each sub-vector of v signs gets round(B·v) bits"),
        MethodOption<BTC>("vector", \.vector, help: "sub-vector length v"),
        MethodOption<BTC>("distill", \.distill, help: "train the scales afterwards by distillation (the signs stay)"),
    ]
    public var bitsPerWeight = 0.8, vector = 10, distill = false
    public init() {}
    public init(bitsPerWeight: Double, vector: Int = 10, distill: Bool = false) {
        self.bitsPerWeight = bitsPerWeight; self.vector = vector; self.distill = distill
    }
    public var isTrained: Bool { distill }

    /// b = round(B·v), the bits of one index.
    public var indexBits: Int { Int((bitsPerWeight * Double(vector)).rounded()) }
    public var label: String {
        "btc \(bitsPerWeight) bits (v=\(vector), K=\(1 << max(0, min(indexBits, 30))))" + (distill ? " distilled" : "")
    }
    public var problems: [String] {
        guard (1...24).contains(vector) else { return ["--vector must be between 1 and 24"] }
        return (1...min(vector, 16)).contains(indexBits)
            ? [] : ["--bits-per-weight must give between 1 and \(min(vector, 16)) index bits per sub-vector of \(vector)"]
    }

    public func binarize(_ dense: DenseLinear, hessian: InverseHessian?, workspace: Workspace,
                         rng: inout SeededGenerator) -> LinearLayer {
        let code = CodebookCode(dense.weight.value.pointer, rows: dense.outFeatures, cols: dense.inFeatures,
                                vector: vector, indexBits: indexBits)
        guard distill else { return QuantizedLinear(code) }
        return DistilledCodebookLinear(code, name: String(dense.weight.name.dropLast(".weight".count)), workspace: workspace)
    }

    public func storage(inFeatures m: Int, outFeatures n: Int, scaleBits s: Int, fullPrecisionBits: Int) -> [String: Int] {
        ["indices": n * ((m + vector - 1) / vector) * indexBits, "codebook": (1 << indexBits) * vector, "scales": s * (m + n)]
    }

    public func load(_ file: Safetensors, prefix: String, rows: Int, cols: Int, workspace: Workspace) throws -> LinearLayer {
        QuantizedLinear(try CodebookCode.load(file, prefix: prefix, rows: rows, cols: cols, vector: vector, indexBits: indexBits))
    }
}
