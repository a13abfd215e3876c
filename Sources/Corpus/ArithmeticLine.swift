/// Arithmetic: items such as "47+08=55;" (two-digit operands, digits uniform,
/// the sum written out with probability 1), one to `maxItems` per line.
struct ArithmeticLine: LineMachine {
    static let maxItems = 6
    /// Probability of another item after each ";" (below `maxItems`).
    static let continueProbability = 0.6

    /// Digits of the current item typed so far (0 to 3; the fourth completes it).
    var digits: [Int] = []
    var itemsDone = 0
    /// Bytes fixed by what came before ("+" and "=sum;"), emitted with probability 1.
    var forced: [UInt8] = []

    func distribution() -> ByteDistribution {
        if let byte = forced.first {
            return [(byte: byte, probability: 1)]
        }
        if !digits.isEmpty || itemsDone == 0 {
            return uniformChoice(digitBytes, total: 1)
        }
        if itemsDone == Self.maxItems {
            return [(byte: .newline, probability: 1)]
        }
        let more = Self.continueProbability
        return uniformChoice(digitBytes, total: more) + [(byte: .newline, probability: 1 - more)]
    }

    mutating func advance(_ byte: UInt8) {
        if !forced.isEmpty {
            forced.removeFirst()
            return
        }
        guard byte != .newline else { return }
        digits.append(Int(byte - UInt8(ascii: "0")))
        if digits.count == 2 {
            forced = Array("+".utf8)
        } else if digits.count == 4 {
            let sum = (digits[0] * 10 + digits[1]) + (digits[2] * 10 + digits[3])
            forced = Array("=\(sum);".utf8)
            digits = []
            itemsDone += 1
        }
    }
}
