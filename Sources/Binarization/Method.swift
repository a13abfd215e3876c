/// A binarization method and its settings, named as in the papers.
public struct Method: Equatable, Codable, Sendable, CustomStringConvertible {
    public enum Name: String, Codable, Sendable, CaseIterable {
        case fp       // the full-precision teacher (the reference row)
        case sign     // α·sign(W), α = mean|W| per output row
        case onebit   // sign(W) with static input and output scales (BinaryMoS with one expert)
        case mos      // BinaryMoS: E scaling experts mixed per token by a router
        case pbllm    // PB-LLM: a salient fraction at 8 bits, the rest binarized
        case rtn      // B-bit group quantization, round to nearest
        case gptq     // B-bit group quantization with GPTQ's error compensation
    }
    public enum Saliency: String, Codable, Sendable, CaseIterable { case magnitude, hessian }

    public var name: Name
    public var experts = 4             // mos: scaling experts E
    public var salientRatio = 0.1      // pbllm: fraction r of weights kept at 8 bits
    public var saliency = Saliency.hessian
    public var compensation = true     // pbllm: GPTQ-style column-by-column error compensation
    public var bits = 2                // rtn, gptq: bits per code
    public var groupSize = 128         // rtn, gptq: weights per scale and zero along the input

    public init(_ name: Name) { self.name = name }

    /// Trained by distillation (the others are post-training, from calibration data at most).
    public var isTrained: Bool { name == .onebit || name == .mos }

    /// Quantizes from calibration inputs drawn by the seed (GPTQ, PB-LLM with
    /// Hessian saliency or compensation).
    public var needsCalibration: Bool {
        name == .gptq || (name == .pbllm && (saliency == .hessian || compensation))
    }

    /// A seed changes the result (distillation, or calibration data); the
    /// others (fp, sign, RTN, PB-LLM by magnitude without compensation) are one deterministic function
    /// of the teacher, run once.
    public var dependsOnSeed: Bool { isTrained || needsCalibration }

    /// Experts of the layer as built: OneBit is the one-expert layer.
    public var expertCount: Int { name == .onebit ? 1 : experts }

    /// Problems with the settings, as one-line messages.
    public var problems: [String] {
        var p: [String] = []
        if name == .mos && !(1...64).contains(experts) { p.append("--experts must be between 1 and 64") }
        if name == .pbllm && !(0...1).contains(salientRatio) { p.append("--salient must be between 0 and 1") }
        if (name == .rtn || name == .gptq) && !(1...8).contains(bits) { p.append("--bits must be between 1 and 8") }
        if (name == .rtn || name == .gptq) && groupSize < 1 { p.append("--group must be at least 1") }
        return p
    }

    public var description: String {
        switch name {
        case .fp, .sign, .onebit: return name.rawValue
        case .mos: return "mos E=\(experts)"
        case .pbllm: return "pbllm r=\(salientRatio) \(saliency.rawValue)\(compensation ? " gptq" : "")"
        case .rtn, .gptq: return "\(name.rawValue) \(bits)-bit g\(groupSize)"
        }
    }
}
