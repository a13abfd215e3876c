/// The four kinds of line in the synthetic language. Each probes a different
/// skill: prose (word statistics), arithmetic (exact computation), brackets
/// (a stack) and copying (exact recall of earlier bytes).
public enum Register: UInt8, CaseIterable, Sendable {
    case prose, arithmetic, brackets, copying

    public var name: String {
        switch self {
        case .prose: return "prose"
        case .arithmetic: return "arithmetic"
        case .brackets: return "brackets"
        case .copying: return "copying"
        }
    }

    /// Probability that a new line is of this register.
    public var lineProbability: Double {
        switch self {
        case .prose: return 0.4
        case .arithmetic, .brackets, .copying: return 0.2
        }
    }

    /// The state machine of one line of this register, before its first byte.
    func freshLine() -> any LineMachine {
        switch self {
        case .prose: return ProseLine()
        case .arithmetic: return ArithmeticLine()
        case .brackets: return BracketLine()
        case .copying: return CopyLine()
        }
    }
}
