import Foundation
import XCTest
import Corpus

final class SyntheticTests: XCTestCase {
    func testEveryDistributionSumsToOneAndHoldsTheRecordedProbability() {
        let sample = Fixture.sample
        var language = SyntheticLanguage()
        for (i, byte) in sample.text.enumerated() {
            let distribution = language.distribution()
            let total = distribution.reduce(0) { $0 + $1.probability }
            XCTAssertEqual(total, 1, accuracy: 1e-9, "at byte \(i)")
            XCTAssertEqual(Set(distribution.map(\.byte)).count, distribution.count, "repeated byte at \(i)")
            XCTAssert(distribution.allSatisfy { $0.probability > 0 }, "zero entry at \(i)")
            let listed = distribution.first { $0.byte == byte }?.probability
            XCTAssertEqual(listed, sample.probabilities[i], "at byte \(i)")
            if listed != sample.probabilities[i] { return }
            language.advance(byte)
        }
    }

    func testScoringTheTextReproducesTheRecordedProbabilities() {
        let sample = Fixture.sample
        XCTAssertEqual(SyntheticLanguage.score(sample.text), sample.probabilities)
    }

    func testScoringRejectsTextsTheGrammarCannotProduce() {
        XCTAssertNil(SyntheticLanguage.score(Array("12+34=47;\n".utf8)))   // wrong sum
        XCTAssertNil(SyntheticLanguage.score(Array("(]\n".utf8)))          // mismatched closer
        XCTAssertNil(SyntheticLanguage.score(Array(">abc|abd\n".utf8)))    // wrong copy
        XCTAssertNil(SyntheticLanguage.score(Array("the cat cat".utf8)))   // noun after noun
        XCTAssertNil(SyntheticLanguage.score(Array("\n".utf8)))            // empty line
        XCTAssertNotNil(SyntheticLanguage.score(Array("12+34=46;\n(){}\n>abc|abc\nthe cat sees a dog .\n".utf8)))
    }

    /// The recorded -log2 p is an unbiased estimate of the mean entropy of the
    /// states visited, computed here independently from the full distributions.
    /// Each difference (surprisal - entropy) has mean zero given the past, so
    /// their average is within a few standard errors of 0.
    func testFloorAgreesWithTheEntropyOfTheStatesVisited() {
        let sample = Fixture.sample
        var language = SyntheticLanguage()
        var surprisal = 0.0
        var entropy = 0.0
        var sumDifference = 0.0
        var sumSquaredDifference = 0.0
        for (i, byte) in sample.text.enumerated() {
            let h = language.distribution().reduce(0.0) { $0 - $1.probability * log2($1.probability) }
            let s = -log2(sample.probabilities[i])
            surprisal += s
            entropy += h
            sumDifference += s - h
            sumSquaredDifference += (s - h) * (s - h)
            language.advance(byte)
        }
        let n = Double(sample.text.count)
        let meanDifference = sumDifference / n
        let standardError = (sumSquaredDifference / n - meanDifference * meanDifference).squareRoot() / n.squareRoot()
        print("floor over \(sample.text.count) bytes: \(surprisal / n) bits/byte (sampled), "
              + "\(entropy / n) (mean state entropy), standard error \(standardError)")
        XCTAssertLessThan(abs(meanDifference), 4 * standardError)
        XCTAssertGreaterThan(standardError, 0)
    }

    /// Sampling follows the distributions: the emitted byte is the most likely
    /// one about as often as the mean of the largest probabilities predicts.
    func testTheMostLikelyByteIsEmittedAsOftenAsPredicted() {
        let sample = Fixture.sample
        var language = SyntheticLanguage()
        var hits = 0.0
        var expected = 0.0
        var variance = 0.0
        for byte in sample.text {
            let best = language.distribution().max { $0.probability < $1.probability }!
            hits += best.byte == byte ? 1 : 0
            expected += best.probability
            variance += best.probability * (1 - best.probability)
            language.advance(byte)
        }
        XCTAssertEqual(hits, expected, accuracy: 4 * variance.squareRoot())
    }

    func testRegistersAreChosenWithTheirLineProbabilities() {
        let lines = Fixture.lines
        let n = Double(lines.count)
        for register in Register.allCases {
            let count = Double(lines.filter { SyntheticLanguage.register(ofFirstByte: $0.bytes[0]) == register }.count)
            let p = register.lineProbability
            XCTAssertEqual(count / n, p, accuracy: 4 * (p * (1 - p) / n).squareRoot(), register.name)
        }
    }

    func testSameSeedSameTextDifferentSeedDifferentText() {
        let a = SyntheticLanguage.generate(bytes: 5_000, seed: 99)
        let b = SyntheticLanguage.generate(bytes: 5_000, seed: 99)
        let c = SyntheticLanguage.generate(bytes: 5_000, seed: 100)
        XCTAssertEqual(a.text, b.text)
        XCTAssertEqual(a.probabilities, b.probabilities)
        XCTAssertEqual(a.registers, b.registers)
        XCTAssertNotEqual(a.text, c.text)
        XCTAssertEqual(SyntheticLanguage.generate(bytes: 0, seed: 1).text, [])
        XCTAssertEqual(SyntheticLanguage.generate(bytes: 1234, seed: 5).text.count, 1234)
    }
}
