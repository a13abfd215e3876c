import Transformer

/// Bits a layer or a whole model takes in storage, by part, computed from
/// shapes alone. The checkpoints store exactly these parts (bits packed, scales
/// in 16 bits), so a student's file holds these bytes plus its header.
public struct Storage: Equatable, Sendable {
    /// Bits by part ("signs", "scales", "router", "codes", "group scales",
    /// "salient values", "salient index", "full precision", ...).
    public var parts: [String: Int] = [:]
    /// Weights of the binarized (or quantized) linear layers covered.
    public var linearWeights = 0

    public init() {}

    public var bits: Int { parts.values.reduce(0, +) }
    public var bytes: Int { (bits + 7) / 8 }
    /// Bits of everything but the full-precision parts (embedding, head, norms).
    public var linearBits: Int { bits - (parts["full precision"] ?? 0) }
    /// Bits per weight of the linear layers alone.
    public var linearBitsPerWeight: Double { Double(linearBits) / Double(max(linearWeights, 1)) }

    public static func + (a: Storage, b: Storage) -> Storage {
        var s = a
        s.parts.merge(b.parts, uniquingKeysWith: +)
        s.linearWeights += b.linearWeights
        return s
    }

    /// One linear layer with `inFeatures` m and `outFeatures` n under `method`:
    /// scales, routers and group parameters in `scaleBits`; a full-precision
    /// layer's weights in `fullPrecisionBits`.
    public static func linear(_ method: Method, inFeatures m: Int, outFeatures n: Int,
                              scaleBits s: Int = 16, fullPrecisionBits: Int = 16) -> Storage {
        var st = Storage()
        st.linearWeights = n * m
        st.parts = method.kind.storage(inFeatures: m, outFeatures: n, scaleBits: s, fullPrecisionBits: fullPrecisionBits)
        return st
    }

    /// A whole model of `shape`: its linear layers under `method`, the
    /// embedding, head and norms in `fullPrecisionBits`.
    public static func model(_ shape: ModelShape, _ method: Method, scaleBits s: Int = 16,
                             fullPrecisionBits f: Int = 16) -> Storage {
        var st = Storage()
        st.parts["full precision"] = f * shape.fullPrecisionParameters
        for l in shape.linears {
            st = st + linear(method, inFeatures: l.inFeatures, outFeatures: l.outFeatures, scaleBits: s, fullPrecisionBits: f)
        }
        return st
    }
}

/// The shapes that storage depends on: every binarized linear layer, and the
/// count of parameters that stay in full precision (embedding, head, norms).
public struct ModelShape: Sendable {
    public var name: String
    public var linears: [(inFeatures: Int, outFeatures: Int)]
    public var fullPrecisionParameters: Int

    public var linearWeights: Int { linears.reduce(0) { $0 + $1.inFeatures * $1.outFeatures } }
    public var parameters: Int { linearWeights + fullPrecisionParameters }

    /// A LLaMA-style decoder: per block q, k, v, o, gate, up, down; untied
    /// embedding and head; two norms per block and a final one.
    public static func llama(name: String, hidden h: Int, ffn f: Int, layers: Int, vocabulary: Int = 32_000,
                             keyValueWidth kv: Int? = nil) -> ModelShape {
        let kv = kv ?? h
        let block = [(h, h), (h, kv), (h, kv), (h, h), (h, f), (h, f), (f, h)]
        return ModelShape(name: name,
                          linears: (0..<layers).flatMap { _ in block.map { (inFeatures: $0.0, outFeatures: $0.1) } },
                          fullPrecisionParameters: 2 * vocabulary * h + (2 * layers + 1) * h)
    }

    /// The compact model of this simulator.
    public init(_ c: ModelConfig, name: String = "compact") {
        self = .llama(name: name, hidden: c.dim, ffn: c.ffnHidden, layers: c.layers, vocabulary: c.vocabulary)
    }

    init(name: String, linears: [(inFeatures: Int, outFeatures: Int)], fullPrecisionParameters: Int) {
        self.name = name; self.linears = linears; self.fullPrecisionParameters = fullPrecisionParameters
    }

    /// LLaMA-1 and LLaMA-2 (Touvron et al., 2023a, b); LLaMA-2-70B uses grouped-query
    /// attention, so its k and v project to 1024.
    public static let named: [String: ModelShape] = [
        "llama-1-7b": .llama(name: "llama-1-7b", hidden: 4096, ffn: 11008, layers: 32),
        "llama-1-13b": .llama(name: "llama-1-13b", hidden: 5120, ffn: 13824, layers: 40),
        "llama-1-30b": .llama(name: "llama-1-30b", hidden: 6656, ffn: 17920, layers: 60),
        "llama-1-65b": .llama(name: "llama-1-65b", hidden: 8192, ffn: 22016, layers: 80),
        "llama-2-7b": .llama(name: "llama-2-7b", hidden: 4096, ffn: 11008, layers: 32),
        "llama-2-13b": .llama(name: "llama-2-13b", hidden: 5120, ffn: 13824, layers: 40),
        "llama-2-70b": .llama(name: "llama-2-70b", hidden: 8192, ffn: 28672, layers: 80, keyValueWidth: 1024),
    ]
}
