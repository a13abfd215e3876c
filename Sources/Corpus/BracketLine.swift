/// Brackets: a balanced string over ()[]{} such as "([]){}\n". Opening types
/// are random; each closer is forced by the bracket it closes.
struct BracketLine: LineMachine {
    static let maxDepth = 6
    /// Probability of ending the line when every bracket is closed.
    static let endProbability = 0.4
    /// Probability of opening rather than closing when the depth is in between.
    static let openProbability = 0.5
    /// No new bracket opens past this many bytes, which keeps lines under
    /// maxLength + maxDepth + 1 bytes.
    static let maxLength = 64

    static let openers: [UInt8] = Array("([{".utf8)
    static let closers: [UInt8] = Array(")]}".utf8)

    /// The closers still owed, innermost last.
    var stack: [UInt8] = []
    var length = 0

    func distribution() -> ByteDistribution {
        let mayOpen = stack.count < Self.maxDepth && length < Self.maxLength
        if stack.isEmpty {
            if length == 0 { return uniformChoice(Self.openers, total: 1) }
            if !mayOpen { return [(byte: .newline, probability: 1)] }
            let end = Self.endProbability
            return uniformChoice(Self.openers, total: 1 - end) + [(byte: .newline, probability: end)]
        }
        if !mayOpen {
            return [(byte: stack.last!, probability: 1)]
        }
        let open = Self.openProbability
        return uniformChoice(Self.openers, total: open) + [(byte: stack.last!, probability: 1 - open)]
    }

    mutating func advance(_ byte: UInt8) {
        length += 1
        if let i = Self.openers.firstIndex(of: byte) {
            stack.append(Self.closers[i])
        } else if byte != .newline {
            stack.removeLast()
        }
    }
}
