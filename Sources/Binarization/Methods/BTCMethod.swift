import Kernels
import Randomness
import Transformer

/// BTC-LLM below one bit: sign sub-vectors of length v as indices into a
/// binary codebook, OneBit's scales (Codebook.swift). Post-training, or with
/// `--distill` its scales trained afterwards by BinaryMoS's recipe; with
/// `--transform` the codebook encodes W R for a rotation R of the inputs
/// learned first (KroneckerRotation.swift).
public struct BTC: BinarizationMethod {
    public static let name = "btc"
    public static let summary = "BTC-LLM: sign sub-vectors as indices into a binary codebook, below one bit; post-training"
    public static let options = [
        MethodOption<BTC>("bits-per-weight", \.bitsPerWeight, help: "index bits per weight B: each sub-vector of v signs gets round(B·v) bits"),
        MethodOption<BTC>("vector", \.vector, help: "sub-vector length v"),
        MethodOption<BTC>("distill", \.distill, help: "train the scales afterwards by distillation (the signs stay)"),
        MethodOption<BTC>("transform", \.transform, help: "learn a rotation R = R1 ⊗ R2 of the inputs first and encode W·R (BTC's learned transformation)"),
    ]
    public var bitsPerWeight = 0.8, vector = 10, distill = false, transform = false
    /// Rounds of learning the rotation, at most (it stops when the error stops falling).
    static let rotationRounds = 20
    public init() {}
    public init(bitsPerWeight: Double, vector: Int = 10, distill: Bool = false, transform: Bool = false) {
        self.bitsPerWeight = bitsPerWeight; self.vector = vector; self.distill = distill; self.transform = transform
    }
    public var isTrained: Bool { distill }

    /// b = round(B·v), the bits of one index.
    public var indexBits: Int { Int((bitsPerWeight * Double(vector)).rounded()) }
    public var label: String {
        "btc \(bitsPerWeight) bits (v=\(vector), K=\(1 << max(0, min(indexBits, 30))))" + (transform ? " rotated" : "") + (distill ? " distilled" : "")
    }
    public var problems: [String] {
        guard (1...24).contains(vector) else { return ["--vector must be between 1 and 24"] }
        return (1...min(vector, 16)).contains(indexBits)
            ? [] : ["--bits-per-weight must give between 1 and \(min(vector, 16)) index bits per sub-vector of \(vector)"]
    }

    public func binarize(_ dense: DenseLinear, hessian: InverseHessian?, workspace: Workspace,
                         rng: inout SeededGenerator) -> LinearLayer {
        let code = encode(dense.weight.value.array, rows: dense.outFeatures, cols: dense.inFeatures)
        guard distill else { return QuantizedLinear(code) }
        return DistilledCodebookLinear(code, name: String(dense.weight.name.dropLast(".weight".count)), workspace: workspace)
    }

    /// The code of W [n, m]; with `transform`, of W R for the rotation learned
    /// (and rounded to 16 bits, as stored) before the final encoding.
    public func encode(_ w: [Float], rows n: Int, cols m: Int) -> CodebookCode {
        let code = { (w: [Float]) in
            w.withUnsafeBufferPointer { CodebookCode($0.baseAddress!, rows: n, cols: m, vector: vector, indexBits: indexBits) }
        }
        guard transform else { return code(w) }
        let rotation = w.withUnsafeBufferPointer {
            KroneckerRotation.learned($0.baseAddress!, rows: n, cols: m, rounds: Self.rotationRounds) { code($0).encoded }
        }.rotation.roundedToHalf
        var rotated = code(rotation.applied(w, rows: n))
        rotated.rotation = rotation
        return rotated
    }

    public func storage(inFeatures m: Int, outFeatures n: Int, scaleBits s: Int, fullPrecisionBits: Int) -> [String: Int] {
        var parts = ["indices": n * ((m + vector - 1) / vector) * indexBits, "codebook": (1 << indexBits) * vector, "scales": s * (m + n)]
        if transform { let r = KroneckerRotation(identity: m); parts["rotation"] = s * (r.k1 * r.k1 + r.k2 * r.k2) }
        return parts
    }

    public func load(_ file: Safetensors, prefix: String, rows: Int, cols: Int, workspace: Workspace) throws -> LinearLayer {
        QuantizedLinear(try CodebookCode.load(file, prefix: prefix, rows: rows, cols: cols, vector: vector, indexBits: indexBits,
                                                   rotated: transform))
    }
}
