/// A next-byte distribution: every byte that may come next, with its exact
/// probability. Bytes not listed have probability 0.
public typealias ByteDistribution = [(byte: UInt8, probability: Double)]

/// The state machine of one line of one register. Its state is a function of
/// the bytes of the line so far, so the probabilities it gives are exactly
/// p(next byte | all previous bytes) once the register is known (and the first
/// byte of a line gives the register away).
protocol LineMachine {
    /// The next-byte distribution in the current state. The last byte of every
    /// line is a newline, and a newline never appears anywhere else.
    func distribution() -> ByteDistribution

    /// Moves on by one byte, which must have a positive probability.
    mutating func advance(_ byte: UInt8)
}

extension UInt8 {
    static let newline = UInt8(ascii: "\n")
}

/// Probability `p` spread evenly over `bytes`.
func uniformChoice(_ bytes: [UInt8], total p: Double) -> ByteDistribution {
    bytes.map { (byte: $0, probability: p / Double(bytes.count)) }
}

let digitBytes: [UInt8] = Array("0123456789".utf8)
