import Foundation

/// A byte-level corpus (vocabulary 256): what a model trains on and the
/// held-out bytes it is scored on.
///
/// A text file is split once: the first 90 % trains, the last 10 % validates.
/// The synthetic language is a stream instead: `bytes` is a fixed held-out
/// sample that is only ever scored, and every training batch is fresh
/// generator output. A model that sees no byte twice cannot memorize its
/// data, so a long training run approaches the entropy floor instead of
/// overfitting, and students distilled for longer never pass their teacher
/// by having seen the validation text's like more often.
public struct Corpus: Sendable {
    public let name: String
    /// Text: the whole file. Synthetic: the held-out validation sample.
    public let bytes: [UInt8]
    /// p(bytes[i] | bytes[..<i]) under the generating process (synthetic only).
    public let probabilities: [Double]?
    /// Raw `Register` value of the line of each byte (synthetic only).
    public let registers: [UInt8]?
    /// Training windows come from fresh generator output, never from `bytes`.
    public let streamsTraining: Bool
    /// What `load` was given ("synthetic" or the file's path), so that another
    /// process can load the same corpus (a sweep's points run elsewhere).
    public var source: String

    public init(name: String, bytes: [UInt8], probabilities: [Double]? = nil, registers: [UInt8]? = nil,
                streamsTraining: Bool = false) {
        precondition(probabilities == nil || probabilities!.count == bytes.count)
        precondition(registers == nil || registers!.count == bytes.count)
        self.name = name
        self.bytes = bytes
        self.probabilities = probabilities
        self.registers = registers
        self.streamsTraining = streamsTraining
        source = name
    }

    /// The synthetic language of `SyntheticLanguage`: `validationBytes` held-out
    /// bytes generated from `seed`, and an endless training stream.
    public static func synthetic(validationBytes count: Int, seed: UInt64) -> Corpus {
        let generated = SyntheticLanguage.generate(bytes: count, seed: seed)
        return Corpus(name: "synthetic", bytes: generated.text, probabilities: generated.probabilities,
                      registers: generated.registers, streamsTraining: true)
    }

    /// First 90 % of a text's bytes; none of a stream's.
    public var trainRange: Range<Int> { streamsTraining ? 0..<0 : 0..<Self.trainCount(bytes.count) }

    /// Last 10 % of a text's bytes; all of a stream's.
    public var validationRange: Range<Int> {
        streamsTraining ? bytes.indices : Self.trainCount(bytes.count)..<bytes.count
    }

    static func trainCount(_ total: Int) -> Int { total * 9 / 10 }

    /// The fewest bytes whose validation part holds `minimum` bytes:
    /// n - floor(9n/10) = ceil(n/10) >= minimum  <=>  n >= 10 * minimum - 9.
    public static func bytesNeeded(forValidation minimum: Int) -> Int {
        max(1, 10 * minimum - 9)
    }

    /// "synthetic" generates the default corpus (its validation sample
    /// `syntheticBytes` long); anything else is the path of a file read as raw
    /// bytes. Throws `CorpusError` unless the validation part holds at least
    /// `minimumBytes` bytes.
    public static func load(_ source: String, syntheticBytes: Int = 100_000, seed: UInt64 = 1234,
                            minimumBytes: Int) throws -> Corpus
    {
        var corpus: Corpus
        if source == "synthetic" {
            corpus = synthetic(validationBytes: syntheticBytes, seed: seed)
        } else {
            corpus = Corpus(name: (source as NSString).lastPathComponent, bytes: try readFile(source))
            corpus.source = source
        }
        let needed = corpus.streamsTraining ? minimumBytes : bytesNeeded(forValidation: minimumBytes)
        guard corpus.bytes.count >= needed else {
            throw CorpusError.tooShort(path: source, bytes: corpus.bytes.count, needed: needed,
                                       minimumValidationBytes: minimumBytes)
        }
        return corpus
    }

    private static func readFile(_ path: String) throws -> [UInt8] {
        let manager = FileManager.default
        var isDirectory: ObjCBool = false
        guard manager.fileExists(atPath: path, isDirectory: &isDirectory) else {
            throw CorpusError.missingFile(path: path)
        }
        guard !isDirectory.boolValue else { throw CorpusError.isDirectory(path: path) }
        guard manager.isReadableFile(atPath: path) else {
            throw CorpusError.unreadable(path: path, reason: "permission denied")
        }
        let data: Data
        do {
            data = try Data(contentsOf: URL(fileURLWithPath: path))
        } catch {
            throw CorpusError.unreadable(path: path, reason: error.localizedDescription)
        }
        guard !data.isEmpty else { throw CorpusError.empty(path: path) }
        return [UInt8](data)
    }

    /// Mean of -log2 p over the given byte positions: the best bits per byte
    /// any model can expect there. Nil for text files or no positions.
    public func floorBitsPerByte(at positions: [Int]) -> Double? {
        guard let probabilities, !positions.isEmpty else { return nil }
        let bits = positions.reduce(0.0) { $0 - log2(probabilities[$1]) }
        return bits / Double(positions.count)
    }

    /// The entropy floor over the whole validation range.
    public var entropyFloorBitsPerByte: Double? {
        floorBitsPerByte(at: Array(validationRange))
    }
}
