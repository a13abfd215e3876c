/// The shape of a LLaMA-style decoder: byte tokens, RMSNorm, rotary positions,
/// causal multi-head attention and a SwiGLU MLP. Each block holds the seven
/// linear layers the paper binarizes: q, k, v, o, gate, up, down.
public struct ModelConfig: Equatable, Codable, Sendable {
    public var vocabulary = 256     // bytes
    public var dim = 128            // residual stream width (h in the paper's tables)
    public var layers = 4           // decoder blocks
    public var heads = 4            // attention heads; head size = dim / heads
    public var ffnHidden = 384      // SwiGLU hidden width (f), about 8/3 · dim
    public var context = 128        // longest sequence the model is trained on
    public var ropeBase: Float = 10_000
    public var normEpsilon: Float = 1e-5

    public init() {}

    public var headDim: Int { dim / heads }

    /// Problems with the shape, as one-line messages (empty when valid).
    public var problems: [String] {
        var p: [String] = []
        if vocabulary < 1 || dim < 2 || layers < 1 || heads < 1 || ffnHidden < 1 || context < 1 {
            p.append("every size must be positive")
        }
        // Beyond LLaMA-70B's widths: a CPU simulator has no use for them, and the bounds
        // keep every parameter count (and byte count) of a config read from a file in range.
        if vocabulary > 1 << 16 || dim > 1 << 14 || layers > 256 || ffnHidden > 1 << 16 || context > 1 << 16 {
            p.append("sizes are limited to vocabulary, hidden width and context 65536, dim 16384, 256 layers")
        } else if heads * context * context > 1 << 28 {
            // Attention keeps heads × context² scores per sequence: at most 1 GiB of them.
            p.append("\(heads) heads over a context of \(context) need more than 2^28 attention scores per sequence")
        }
        if heads > 0 && (dim % heads != 0 || (dim / heads) % 2 != 0) {
            p.append("dim \(dim) must split into \(heads) heads of even size (rotary pairs)")
        }
        return p
    }

    /// Weights of the linear layers inside the blocks (what binarization acts on).
    public var blockLinearParameters: Int { layers * (4 * dim * dim + 3 * dim * ffnHidden) }
    /// Every parameter: embedding, blocks (linear + two norms), final norm, head.
    public var parameterCount: Int {
        2 * vocabulary * dim + blockLinearParameters + layers * 2 * dim + dim
    }
    /// Training FLOPs per token (forward + backward), in nanoGPT/PaLM's
    /// accounting: 6 per weight of every product plus attention's scores and mix.
    public var trainingFlopsPerToken: Double {
        let weights = Double(blockLinearParameters + vocabulary * dim)
        return 6 * weights + 12 * Double(layers * dim * context)
    }
}

/// Named settings for a whole run: model shape and training recipe.
public struct Profile: Sendable {
    public var name: String
    public var model: ModelConfig
    public var batch: Int           // sequences per step
    public var steps: Int
    public var learningRate: Float  // peak, after warm-up
    public var warmupSteps: Int
    public var weightDecay: Float
    public var gradientClip: Float
    public var evalWindows: Int?    // validation windows used by eval (nil: all)
    // Distilling a binarized student from the teacher (BinaryMoS, OneBit).
    public var distillSteps = 300
    public var distillBatch = 8
    public var distillLearningRate: Float = 1e-3

    public static let names = ["smoke", "quick", "paper"]

    public static func named(_ name: String) -> Profile? {
        switch name {
        case "smoke":
            // Seconds, for tests and the pipeline check in CI.
            var m = ModelConfig()
            m.dim = 32; m.layers = 2; m.heads = 2; m.ffnHidden = 96; m.context = 32
            return Profile(name: name, model: m, batch: 8, steps: 60, learningRate: 3e-3,
                           warmupSteps: 6, weightDecay: 0.1, gradientClip: 1, evalWindows: 64,
                           distillSteps: 20, distillBatch: 4)
        case "quick":
            // A few minutes on two cores.
            return Profile(name: name, model: ModelConfig(), batch: 16, steps: 900, learningRate: 3e-3,
                           warmupSteps: 30, weightDecay: 0.1, gradientClip: 1, evalWindows: nil)
        case "paper":
            // A wider, deeper model on longer context: about half an hour on two cores.
            var m = ModelConfig()
            m.dim = 256; m.layers = 6; m.heads = 8; m.ffnHidden = 768; m.context = 256
            return Profile(name: name, model: m, batch: 32, steps: 1200, learningRate: 1.5e-3,
                           warmupSteps: 60, weightDecay: 0.1, gradientClip: 1, evalWindows: nil,
                           distillSteps: 600, distillBatch: 8)
        default:
            return nil
        }
    }
}
