import Foundation
import XCTest
import Corpus

final class LoadingTests: XCTestCase {
    private var directory: URL!

    override func setUpWithError() throws {
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("corpus-tests-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws {
        try FileManager.default.removeItem(at: directory)
    }

    private func file(_ name: String, bytes: Int) throws -> String {
        let url = directory.appendingPathComponent(name)
        try Data((0..<bytes).map { UInt8(truncatingIfNeeded: $0) }).write(to: url)
        return url.path
    }

    /// Loading `path` throws a CorpusError matching `expected`, whose message names the path.
    private func assertThrows(_ path: String, minimumBytes: Int = 1, containing words: [String] = [],
                              _ expected: (CorpusError) -> Bool, line: UInt = #line)
    {
        XCTAssertThrowsError(try Corpus.load(path, minimumBytes: minimumBytes), line: line) { error in
            guard let error = error as? CorpusError else { return XCTFail("not a CorpusError: \(error)", line: line) }
            XCTAssert(expected(error), "wrong case: \(error)", line: line)
            XCTAssert(error.description.contains(path), "\(error) does not name \(path)", line: line)
            XCTAssertFalse(error.description.contains("\n"), line: line)
            for word in words { XCTAssert(error.description.contains(word), "\(error) lacks \(word)", line: line) }
        }
    }

    func testATextFileLoadsAsRawBytes() throws {
        let path = try file("text.txt", bytes: 1000)
        let corpus = try Corpus.load(path, minimumBytes: 50)
        XCTAssertEqual(corpus.name, "text.txt")
        XCTAssertEqual(corpus.bytes, (0..<1000).map { UInt8(truncatingIfNeeded: $0) })
        XCTAssertNil(corpus.probabilities)
        XCTAssertNil(corpus.registers)
        XCTAssertNil(corpus.entropyFloorBitsPerByte)
    }

    func testMissingFile() {
        let path = directory.appendingPathComponent("absent.txt").path
        assertThrows(path) { if case .missingFile = $0 { return true } else { return false } }
    }

    func testDirectory() {
        assertThrows(directory.path) { if case .isDirectory = $0 { return true } else { return false } }
    }

    func testEmptyFile() throws {
        let path = try file("empty.txt", bytes: 0)
        assertThrows(path) { if case .empty = $0 { return true } else { return false } }
    }

    func testUnreadableFile() throws {
        try XCTSkipIf(getuid() == 0, "root can read any file")
        let path = try file("secret.txt", bytes: 100)
        try FileManager.default.setAttributes([.posixPermissions: 0o000], ofItemAtPath: path)
        assertThrows(path) { if case .unreadable = $0 { return true } else { return false } }
    }

    /// A validation part of 10 bytes needs 91 bytes in all (the last 10 % of 91 is 10).
    func testTooShortFileSaysHowManyBytesItHasAndNeeds() throws {
        let short = try file("short.txt", bytes: 90)
        assertThrows(short, minimumBytes: 10, containing: ["90 bytes", "91"]) {
            if case .tooShort(_, 90, 91, 10) = $0 { return true } else { return false }
        }
        let enough = try Corpus.load(try file("enough.txt", bytes: 91), minimumBytes: 10)
        XCTAssertEqual(enough.validationRange.count, 10)
    }

    func testBytesNeededIsTheSmallestSufficientSize() {
        for minimum in 1...300 {
            let needed = Corpus.bytesNeeded(forValidation: minimum)
            XCTAssertGreaterThanOrEqual(Corpus(name: "", bytes: Array(repeating: 0, count: needed)).validationRange.count, minimum)
            XCTAssertLessThan(Corpus(name: "", bytes: Array(repeating: 0, count: needed - 1)).validationRange.count, minimum)
        }
    }

    func testSyntheticSourceGeneratesTheLanguage() throws {
        let corpus = try Corpus.load("synthetic", syntheticBytes: 20_000, seed: 5, minimumBytes: 100)
        let expected = SyntheticLanguage.generate(bytes: 20_000, seed: 5)
        XCTAssertEqual(corpus.name, "synthetic")
        XCTAssert(corpus.streamsTraining)
        XCTAssertEqual(corpus.validationRange, 0..<20_000)
        XCTAssertEqual(corpus.bytes, expected.text)
        XCTAssertEqual(corpus.probabilities, expected.probabilities)
        XCTAssertEqual(corpus.registers, expected.registers)
        XCTAssertThrowsError(try Corpus.load("synthetic", syntheticBytes: 50, minimumBytes: 100)) { error in
            XCTAssert("\(error)".contains("synthetic"))
        }
    }

    func testSplitIsNinetyTenAndCoversEveryByte() {
        for count in [10, 1000, 1001, 12_345] {
            let corpus = Corpus(name: "", bytes: Array(repeating: 1, count: count))
            XCTAssertEqual(corpus.trainRange.lowerBound, 0)
            XCTAssertEqual(corpus.trainRange.upperBound, corpus.validationRange.lowerBound)
            XCTAssertEqual(corpus.validationRange.upperBound, count)
            XCTAssertEqual(corpus.trainRange.count, count * 9 / 10)
        }
        XCTAssertEqual(Corpus(name: "", bytes: Array(repeating: 1, count: 1000)).validationRange, 900..<1000)
    }

    func testFloorIsTheMeanSurprisalOfThePositions() throws {
        let corpus = Corpus(name: "t", bytes: [1, 2, 3, 4], probabilities: [1, 0.5, 0.25, 0.125])
        XCTAssertEqual(try XCTUnwrap(corpus.floorBitsPerByte(at: [1, 2, 3])), 2, accuracy: 1e-12)
        XCTAssertEqual(try XCTUnwrap(corpus.floorBitsPerByte(at: [0])), 0, accuracy: 1e-12)
        XCTAssertNil(corpus.floorBitsPerByte(at: []))
        XCTAssertNil(Corpus(name: "t", bytes: [1, 2]).floorBitsPerByte(at: [0]))
    }

    /// The default corpus: report its floor and how long generating it takes.
    func testDefaultCorpus() throws {
        let started = Date()
        let corpus = try Corpus.load("synthetic", minimumBytes: 1000)
        let seconds = Date().timeIntervalSince(started)
        let floor = try XCTUnwrap(corpus.entropyFloorBitsPerByte)
        let whole = try XCTUnwrap(corpus.floorBitsPerByte(at: Array(corpus.bytes.indices)))
        print(String(format: "default corpus: %d bytes in %.2f s; floor %.4f bits/byte (validation), %.4f (all)",
                     corpus.bytes.count, seconds, floor, whole))
        XCTAssertEqual(corpus.bytes.count, 100_000)
        XCTAssert(floor > 0.5 && floor < 3, "floor \(floor) outside the designed range")
        XCTAssertEqual(floor, whole)   // every byte of a stream's sample is a validation byte
    }
}
