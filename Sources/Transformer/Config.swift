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
///
/// Budgets are set in tokens, the way scaling studies compare runs. The
/// teacher trains for `teacherTokensPerParameter` tokens per parameter (20 is
/// the compute-optimal ratio of Chinchilla, Hoffmann et al. 2022), so it is
/// trained, not a snapshot of a model still learning the language; a student
/// is distilled on `distillFraction` of the teacher's tokens, 1 % by default:
/// a small share, as in the paper, so that it must recover from binarization
/// rather than keep training the model (the regime chapter sweeps the share).
public struct Profile: Sendable {
    public var name: String
    public var model: ModelConfig
    public var batch: Int           // sequences per step
    public var teacherTokensPerParameter: Double
    public var learningRate: Float  // peak, after warm-up
    public var weightDecay: Float
    public var gradientClip: Float
    public var evalWindows: Int?    // validation windows used by eval (nil: all)
    // Distilling a binarized student from the teacher (BinaryMoS, OneBit).
    public var distillFraction = 0.01
    public var distillBatch = 8
    public var distillLearningRate: Float = 1e-3

    public static let names = ["smoke", "quick", "paper"]

    /// Teacher steps: the tokens the criterion asks for, in whole batches.
    public var steps: Int {
        let tokens = teacherTokensPerParameter * Double(model.parameterCount)
        return max(1, Int((tokens / Double(batch * model.context)).rounded(.up)))
    }
    public var teacherTokens: Int { steps * batch * model.context }

    /// Distillation steps for a share of the teacher's tokens (at least one).
    public func distillSteps(fraction: Double) -> Int {
        max(1, Int((fraction * Double(teacherTokens) / Double(distillBatch * model.context)).rounded()))
    }
    public var distillSteps: Int { distillSteps(fraction: distillFraction) }

    public static func named(_ name: String) -> Profile? {
        var m = ModelConfig()
        switch name {
        case "smoke":
            // Seconds, for tests and the pipeline check in CI: no criterion is met.
            m.dim = 32; m.layers = 2; m.heads = 2; m.ffnHidden = 96; m.context = 32
            return Profile(name: name, model: m, batch: 8, teacherTokensPerParameter: 0.3, learningRate: 3e-3,
                           weightDecay: 0.1, gradientClip: 1, evalWindows: 64, distillFraction: 0.05, distillBatch: 4)
        case "quick":
            // The default: the widest model whose 20 tokens per parameter fit a few
            // minutes on two cores (≈ 246 k parameters, ≈ 4.9 M tokens).
            m.dim = 64; m.layers = 4; m.heads = 4; m.ffnHidden = 192; m.context = 128
            return Profile(name: name, model: m, batch: 32, teacherTokensPerParameter: 20, learningRate: 3e-3,
                           weightDecay: 0.1, gradientClip: 1, evalWindows: nil)
        case "paper":
            // Twice the width, deeper, on twice the context (≈ 1.3 M parameters, ≈ 27 M tokens).
            m.dim = 128; m.layers = 6; m.heads = 4; m.ffnHidden = 384; m.context = 256
            return Profile(name: name, model: m, batch: 32, teacherTokensPerParameter: 20, learningRate: 2e-3,
                           weightDecay: 0.1, gradientClip: 1, evalWindows: nil)
        default:
            return nil
        }
    }
}
