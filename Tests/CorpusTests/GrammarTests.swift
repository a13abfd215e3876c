import XCTest
import Corpus

final class GrammarTests: XCTestCase {
    /// Line-start distribution: each first byte is listed once, maps to one
    /// register, and each register's first bytes carry its line probability.
    func testFirstBytesIdentifyTheRegister() {
        let start = SyntheticLanguage().distribution()
        XCTAssertEqual(Set(start.map(\.byte)).count, start.count)
        var mass = [Register: Double]()
        for (byte, probability) in start {
            guard let register = SyntheticLanguage.register(ofFirstByte: byte) else {
                return XCTFail("no register for first byte \(byte)")
            }
            mass[register, default: 0] += probability
        }
        for register in Register.allCases {
            XCTAssertEqual(mass[register] ?? 0, register.lineProbability, accuracy: 1e-12, register.name)
        }
        XCTAssertNil(SyntheticLanguage.register(ofFirstByte: UInt8(ascii: "\n")))
        XCTAssertNil(SyntheticLanguage.register(ofFirstByte: UInt8(ascii: ")")))
    }

    func testRegistersArrayMatchesEachLine() {
        let sample = Fixture.sample
        XCTAssertEqual(sample.registers.count, sample.text.count)
        for line in Fixture.lines {
            let register = SyntheticLanguage.register(ofFirstByte: line.bytes[0])!
            let recorded = sample.registers[line.start..<(line.start + line.bytes.count)]
            XCTAssert(recorded.allSatisfy { $0 == register.rawValue }, "line at \(line.start)")
        }
    }

    func testLinesAreShortAndEveryRegisterAppears() {
        XCTAssertGreaterThan(Fixture.lines.count, 1000)
        for line in Fixture.lines { XCTAssertLessThan(line.bytes.count, 100) }
        let seen = Set(Fixture.lines.map { SyntheticLanguage.register(ofFirstByte: $0.bytes[0])! })
        XCTAssertEqual(seen, Set(Register.allCases))
    }

    func testProseFollowsTheGrammar() throws {
        var category = [String: Character]()
        for (name, words) in SyntheticLanguage.proseVocabulary {
            for word in words {
                XCTAssertNil(category[word], "\(word) in two categories")
                category[word] = name == "adverb" ? "R" : Character(name.prefix(1).uppercased())
            }
        }
        // determiner [adjective] noun verb determiner [adjective] noun [adverb] .
        let sentence = try Regex("DA?NVDA?NR?")
        for line in lines(of: .prose) {
            let text = string(line)
            XCTAssert(text.hasSuffix(" .\n"), text)
            let words = text.dropLast(3).split(separator: " ", omittingEmptySubsequences: false)
            let pattern = String(words.map { category[String($0)] ?? "?" })
            XCTAssertNotNil(pattern.wholeMatch(of: sentence), text)
        }
    }

    func testArithmeticSumsAreCorrect() {
        for line in lines(of: .arithmetic) {
            let items = string(line.dropLast()).split(separator: ";", omittingEmptySubsequences: false)
            XCTAssertEqual(items.last, "", "line must end with ;")
            XCTAssert((1...6).contains(items.count - 1))
            for item in items.dropLast() {
                let parts = item.split(whereSeparator: { $0 == "+" || $0 == "=" }).map(String.init)
                XCTAssertEqual(parts.count, 3, String(item))
                guard parts.count == 3, let a = Int(parts[0]), let b = Int(parts[1]), let sum = Int(parts[2])
                else { continue }
                XCTAssertEqual(parts[0].count, 2)
                XCTAssertEqual(parts[1].count, 2)
                XCTAssertEqual(a + b, sum, String(item))
                XCTAssertEqual(parts[2], String(sum), "sum written without padding")
            }
        }
    }

    func testBracketsBalance() {
        let closerOf: [Character: Character] = ["(": ")", "[": "]", "{": "}"]
        for line in lines(of: .brackets) {
            var stack: [Character] = []
            var maxDepth = 0
            for c in string(line.dropLast()) {
                if let closer = closerOf[c] {
                    stack.append(closer)
                    maxDepth = max(maxDepth, stack.count)
                } else {
                    XCTAssertEqual(stack.popLast(), c, string(line))
                }
            }
            XCTAssert(stack.isEmpty, string(line))
            XCTAssertLessThanOrEqual(maxDepth, 6)
            XCTAssertGreaterThan(line.count, 2)
        }
    }

    func testCopiesMatch() {
        for line in lines(of: .copying) {
            let text = string(line)
            XCTAssert(text.hasPrefix(">") && text.hasSuffix("\n"), text)
            let halves = text.dropFirst().dropLast().split(separator: "|", omittingEmptySubsequences: false)
            XCTAssertEqual(halves.count, 2, text)
            guard halves.count == 2 else { continue }
            XCTAssertEqual(halves[0], halves[1], text)
            XCTAssert((3...8).contains(halves[0].count), text)
            XCTAssert(halves[0].allSatisfy { "abcdefgh".contains($0) }, text)
        }
    }

    private func lines(of register: Register) -> [[UInt8]] {
        let found = Fixture.lines.map(\.bytes).filter { SyntheticLanguage.register(ofFirstByte: $0[0]) == register }
        XCTAssertGreaterThan(found.count, 100, register.name)
        return found
    }
}
