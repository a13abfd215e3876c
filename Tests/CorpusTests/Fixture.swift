import Corpus

/// One generated text shared by the tests (generation is deterministic).
enum Fixture {
    static let sample = SyntheticLanguage.generate(bytes: 200_000, seed: 7)

    /// The complete lines of the sample (the final, cut-off line dropped),
    /// newline included, with the offset of each line's first byte.
    static let lines: [(start: Int, bytes: [UInt8])] = {
        var result: [(start: Int, bytes: [UInt8])] = []
        var start = 0
        for (i, byte) in sample.text.enumerated() where byte == UInt8(ascii: "\n") {
            result.append((start, Array(sample.text[start...i])))
            start = i + 1
        }
        return result
    }()
}

func string(_ bytes: [UInt8]) -> String { String(decoding: bytes, as: UTF8.self) }
