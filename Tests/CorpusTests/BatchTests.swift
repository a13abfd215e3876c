import Randomness
import XCTest
import Corpus

final class BatchTests: XCTestCase {
    /// Byte i is i mod 256, so every window can be checked against its start.
    let corpus = Corpus(name: "counting", bytes: (0..<5000).map { UInt8(truncatingIfNeeded: $0) })

    func testTrainingBatchShapesAndShiftedTargets() {
        var rng = SeededGenerator(seed: 1)
        let (inputs, targets) = corpus.trainingBatch(batch: 8, length: 32, using: &rng)
        XCTAssertEqual(inputs.count, 8 * 32)
        XCTAssertEqual(targets.count, 8 * 32)
        for row in 0..<8 {
            for t in 0..<32 {
                let i = row * 32 + t
                XCTAssertEqual(targets[i], (inputs[i] + 1) % 256, "row \(row), position \(t)")
                if t > 0 { XCTAssertEqual(inputs[i], targets[i - 1]) }
            }
        }
    }

    func testTrainingStartsStayInsideTheTrainingRangeAndReachItsEnd() {
        let small = Corpus(name: "small", bytes: Array(repeating: 7, count: 100))  // 90 training bytes
        var rng = SeededGenerator(seed: 2)
        let starts = small.trainingStarts(batch: 10_000, length: 10, using: &rng)
        // The last target, start + 10, must lie inside 0..<90: starts 0...79.
        XCTAssertEqual(Set(starts), Set(0...79))
    }

    func testTrainingBatchesAreReproducible() {
        var a = SeededGenerator(seed: 3)
        var b = SeededGenerator(seed: 3)
        let first = corpus.trainingBatch(batch: 4, length: 16, using: &a)
        let second = corpus.trainingBatch(batch: 4, length: 16, using: &b)
        XCTAssertEqual(first.inputs, second.inputs)
        XCTAssertEqual(first.targets, second.targets)
        XCTAssertNotEqual(first.inputs, corpus.trainingBatch(batch: 4, length: 16, using: &a).inputs)
    }

    func testValidationWindowsAreDisjointAndInside() {
        let range = corpus.validationRange  // 4500..<5000
        let all = corpus.validationWindows(length: 49, limit: nil)
        XCTAssertEqual(all, (0..<10).map { 4500 + 50 * $0 })
        let some = corpus.validationWindows(length: 20, limit: 7)
        XCTAssertEqual(some.count, 7)
        XCTAssertEqual(some.first, range.lowerBound)
        for (a, b) in zip(some, some.dropFirst()) { XCTAssertGreaterThanOrEqual(b - a, 21) }
        for start in some { XCTAssert(start >= range.lowerBound && start + 20 < range.upperBound) }
        // 23 windows fit; a limit of 7 spreads them over the range rather than taking the first 7.
        XCTAssertGreaterThan(some.last!, range.lowerBound + 15 * 21)
        XCTAssertEqual(corpus.validationWindows(length: 20, limit: 100).count, 500 / 21)
        XCTAssertEqual(corpus.validationWindows(length: 20, limit: 7), some)
        XCTAssertEqual(corpus.validationWindows(length: 20, limit: 0), [])
        XCTAssertEqual(corpus.validationWindows(length: 600, limit: nil), [])
    }

    func testWindowsAndTargetPositionsAgree() {
        let starts = corpus.validationWindows(length: 9, limit: 3)
        let (inputs, targets) = corpus.windows(at: starts, length: 9)
        let positions = corpus.targetPositions(of: starts, length: 9)
        XCTAssertEqual(inputs.count, 27)
        XCTAssertEqual(positions.count, 27)
        XCTAssertEqual(targets, positions.map { Int32(corpus.bytes[$0]) })
        XCTAssertEqual(inputs, positions.map { Int32(corpus.bytes[$0 - 1]) })
    }

    /// The synthetic stream: batches are grammatical fresh text, reproducible from
    /// the seed, never repeated, and never the held-out validation sample.
    func testStreamBatchesAreFreshGeneratorOutput() throws {
        let stream = Corpus.synthetic(validationBytes: 5_000, seed: 7)
        XCTAssertEqual(stream.trainRange.count, 0)
        XCTAssertEqual(stream.validationRange, 0..<5_000)
        var a = SeededGenerator(seed: 1), b = SeededGenerator(seed: 1)
        let first = stream.trainingBatch(batch: 4, length: 64, using: &a)
        XCTAssertEqual(first.inputs, stream.trainingBatch(batch: 4, length: 64, using: &b).inputs)
        let second = stream.trainingBatch(batch: 4, length: 64, using: &a)
        XCTAssertNotEqual(first.inputs, second.inputs)
        // Each row is a slice of one generated text: the rows joined with their
        // last targets are text the grammar can produce.
        var text: [UInt8] = []
        for row in 0..<4 {
            text += first.inputs[(row * 64)..<((row + 1) * 64)].map { UInt8($0) } + [UInt8(first.targets[row * 64 + 63])]
        }
        XCTAssertNotNil(SyntheticLanguage.score(text))
        // No training window appears in the validation sample.
        let validation = String(decoding: stream.bytes, as: UTF8.self)
        for row in 0..<4 {
            let window = String(decoding: first.inputs[(row * 64)..<((row + 1) * 64)].map { UInt8($0) }, as: UTF8.self)
            XCTAssertFalse(validation.contains(window), "row \(row) of a training batch is in the validation sample")
        }
    }
}
