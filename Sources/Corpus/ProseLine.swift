/// Prose: sentences such as "the small cat sees a dog .\n" from a small
/// finite-state grammar, spelled out byte by byte.
///
/// Each grammar slot allows a set of words with known masses. The next byte is
/// predicted from the trie of the allowed words: p(c | prefix) = mass of words
/// starting with prefix + c / mass of words starting with prefix. The product
/// over a word's bytes therefore telescopes to exactly that word's probability.
struct ProseLine: LineMachine {
    /// Where the sentence is: subject, verb, object, then an optional adverb.
    enum Slot {
        case subjectDeterminer, subjectModifier, subjectNoun, verb
        case objectDeterminer, objectModifier, objectNoun, ending, period
    }

    /// One word allowed in a slot. Words carry their trailing space; the
    /// sentence end is the "word" ".\n". `next == nil` means the line is over.
    struct Choice {
        let spelling: [UInt8]
        let mass: Double
        let next: Slot?
    }

    /// The word categories (disjoint). Earlier words in a list are more frequent.
    static let vocabulary: [(category: String, words: [String])] = [
        ("determiner", ["the", "a", "my", "every", "some", "this"]),
        ("adjective", ["small", "big", "old", "red", "happy", "quiet", "green", "lazy"]),
        ("noun", ["cat", "dog", "bird", "child", "house", "tree", "fish", "farmer",
                  "river", "horse", "teacher", "ball"]),
        ("verb", ["sees", "likes", "finds", "chases", "helps", "watches", "follows", "paints"]),
        ("adverb", ["today", "again", "slowly", "often", "now", "quietly"]),
    ]

    /// Zipf-like masses (1, 1/2, 1/3, ...) within a category, scaled so the
    /// category's words share `total`.
    static func words(_ category: String, total: Double, next: Slot?) -> [Choice] {
        let words = vocabulary.first { $0.category == category }!.words
        let weights = words.indices.map { 1 / Double($0 + 1) }
        let sum = weights.reduce(0, +)
        return zip(words, weights).map { word, weight in
            Choice(spelling: Array((word + " ").utf8), mass: total * weight / sum, next: next)
        }
    }

    static let endOfSentence = Choice(spelling: Array(".\n".utf8), mass: 1, next: nil)

    static let grammar: [Slot: [Choice]] = [
        .subjectDeterminer: words("determiner", total: 1, next: .subjectModifier),
        .subjectModifier: words("adjective", total: 0.35, next: .subjectNoun)
            + words("noun", total: 0.65, next: .verb),
        .subjectNoun: words("noun", total: 1, next: .verb),
        .verb: words("verb", total: 1, next: .objectDeterminer),
        .objectDeterminer: words("determiner", total: 1, next: .objectModifier),
        .objectModifier: words("adjective", total: 0.35, next: .objectNoun)
            + words("noun", total: 0.65, next: .ending),
        .objectNoun: words("noun", total: 1, next: .ending),
        .ending: words("adverb", total: 0.4, next: .period)
            + [Choice(spelling: endOfSentence.spelling, mass: 0.6, next: nil)],
        .period: [endOfSentence],
    ]

    var slot: Slot = .subjectDeterminer
    /// Bytes of the current word typed so far.
    var typed: [UInt8] = []

    func distribution() -> ByteDistribution {
        var result: ByteDistribution = []
        var total = 0.0
        for choice in Self.grammar[slot]! where choice.spelling.starts(with: typed) {
            let byte = choice.spelling[typed.count]
            total += choice.mass
            if let i = result.firstIndex(where: { $0.byte == byte }) {
                result[i].probability += choice.mass
            } else {
                result.append((byte: byte, probability: choice.mass))
            }
        }
        return result.map { (byte: $0.byte, probability: $0.probability / total) }
    }

    mutating func advance(_ byte: UInt8) {
        typed.append(byte)
        // No spelling is a prefix of another (each ends in a space or newline),
        // so a complete match means the word is finished.
        if let word = Self.grammar[slot]!.first(where: { $0.spelling == typed }) {
            typed = []
            slot = word.next ?? .period
        }
    }
}
