/// Copying: ">" then 3 to 8 random letters, "|", and the same letters again,
/// e.g. ">cafe|cafe\n". Only the first half carries information.
struct CopyLine: LineMachine {
    static let alphabet: [UInt8] = Array("abcdefgh".utf8)
    static let minLetters = 3
    static let maxLetters = 8
    /// Probability of another letter once `minLetters` are written.
    static let continueProbability = 0.7

    var started = false
    var letters: [UInt8] = []
    /// The copy and the newline, once "|" is written; emitted with probability 1.
    var forced: [UInt8] = []
    var copying = false

    func distribution() -> ByteDistribution {
        if !started { return [(byte: UInt8(ascii: ">"), probability: 1)] }
        if copying { return [(byte: forced.first!, probability: 1)] }
        if letters.count < Self.minLetters { return uniformChoice(Self.alphabet, total: 1) }
        if letters.count == Self.maxLetters { return [(byte: UInt8(ascii: "|"), probability: 1)] }
        let more = Self.continueProbability
        return uniformChoice(Self.alphabet, total: more) + [(byte: UInt8(ascii: "|"), probability: 1 - more)]
    }

    mutating func advance(_ byte: UInt8) {
        if !started {
            started = true
        } else if copying {
            forced.removeFirst()
        } else if byte == UInt8(ascii: "|") {
            copying = true
            forced = letters + [.newline]
        } else {
            letters.append(byte)
        }
    }
}
