import Files
import Foundation
import Binarization
import Notebook

/// One measured point of a sweep: the student's method and seed, what it
/// scored, and what it was measured against. Chapters compute from records;
/// CSV is only how they are kept, one row per record, with the column order
/// given here alone.
public struct SweepRecord: Codable, Equatable, Sendable {
    public var method: Method
    public var seed: UInt64
    public var perplexity: Double              // per byte, on the validation windows
    public var bitsPerByte: Double
    public var floorBitsPerByte: Double?       // the corpus's entropy floor, where it is known
    public var bitsPerWeight: Double           // of the binarized layers, as stored
    public var modelBytes: Int
    public var seconds: Double
    public var corpus: String, profile: String
    public var steps: Int                      // distillation steps (0: post-training)
    public var teacher: String                 // file name @ hash of its bytes
    public var threads: Int
    public var kernels: String                 // float, packed or mixed

    /// The CSV's columns: the method, each setting any method has (empty
    /// where it does not apply), then the measurements.
    public static var columns: [String] {
        ["method"] + Method.settingColumns + ["seed", "perplexity", "bits_per_byte", "floor_bits_per_byte",
                                              "bits_per_weight", "model_bytes", "seconds", "corpus", "profile",
                                              "steps", "teacher", "threads", "kernels"]
    }

    /// What identifies a point: a sweep skips points whose key is already in its file.
    public var key: [String] {
        [method.name] + settingCells + [String(seed), corpus, profile, String(steps), teacher]
    }

    private var settingCells: [String] {
        let own = Dictionary(uniqueKeysWithValues: method.settings.map { ($0.name, $0.value) })
        return Method.settingColumns.map { own[$0] ?? "" }
    }

    /// Measurements are written in full (the shortest text that reads back
    /// as the same Double), so a resumed sweep computes what a fresh one does.
    public var row: [String] {
        [method.name] + settingCells + [
            String(seed), "\(perplexity)", "\(bitsPerByte)", floorBitsPerByte.map { "\($0)" } ?? "", "\(bitsPerWeight)",
            String(modelBytes), CSVTable.format(seconds, digits: 4), corpus, profile, String(steps), teacher,
            String(threads), kernels]
    }

    /// A record from a row of a table with `columns`; a one-line error names what cannot be read.
    public init(row: [String], line: Int) throws {
        let columns = Self.columns
        guard row.count == columns.count else { throw SweepError("row \(line) has \(row.count) fields, not \(columns.count)") }
        let cell = Dictionary(uniqueKeysWithValues: zip(columns, row))
        func number<T: LosslessStringConvertible>(_ name: String) throws -> T {
            guard let value = T(cell[name]!) else { throw SweepError("row \(line): \(name) '\(cell[name]!)' is not a number") }
            return value
        }
        guard var method = Method(named: cell["method"]!) else { throw SweepError("row \(line): unknown method '\(cell["method"]!)'") }
        for (name, _) in method.settings {
            do { try method.set(name, to: cell[name]!) } catch { throw SweepError("row \(line): \(error)") }
        }
        self.method = method
        seed = try number("seed"); perplexity = try number("perplexity"); bitsPerByte = try number("bits_per_byte")
        floorBitsPerByte = cell["floor_bits_per_byte"]!.isEmpty ? nil : try number("floor_bits_per_byte")
        bitsPerWeight = try number("bits_per_weight"); modelBytes = try number("model_bytes"); seconds = try number("seconds")
        corpus = cell["corpus"]!; profile = cell["profile"]!; steps = try number("steps"); teacher = cell["teacher"]!
        threads = try number("threads"); kernels = cell["kernels"]!
    }

    public init(method: Method, seed: UInt64, perplexity: Double, bitsPerByte: Double, floorBitsPerByte: Double?,
                bitsPerWeight: Double, modelBytes: Int, seconds: Double, corpus: String, profile: String, steps: Int,
                teacher: String, threads: Int, kernels: String) {
        self.method = method; self.seed = seed; self.perplexity = perplexity; self.bitsPerByte = bitsPerByte
        self.floorBitsPerByte = floorBitsPerByte; self.bitsPerWeight = bitsPerWeight; self.modelBytes = modelBytes
        self.seconds = seconds; self.corpus = corpus; self.profile = profile; self.steps = steps; self.teacher = teacher
        self.threads = threads; self.kernels = kernels
    }

    /// The records as a table, in the given order.
    public static func table(_ records: [SweepRecord]) -> CSVTable {
        var table = CSVTable(columns: columns)
        for r in records { table.append(r.row) }
        return table
    }

    /// The records of a sweep file (none when it is missing or empty). A file
    /// that cannot be read, or is not a sweep's, is an error and is never overwritten.
    public static func read(_ url: URL) throws -> [SweepRecord] {
        guard FileManager.default.fileExists(atPath: url.path) else { return [] }
        let table: CSVTable
        do {
            let text = try TextFile.read(url)
            if text.isEmpty { return [] }
            table = try CSVTable.parse(text, file: url.path)
        } catch let error as FileError {
            throw SweepError(error.description)
        } catch {
            throw SweepError("\(url.path) is not a readable CSV: \(error)")
        }
        guard table.columns == columns else {
            throw SweepError("\(url.path) has columns \(table.columns.joined(separator: ",")), not a sweep's")
        }
        do { return try table.rows.enumerated().map { try SweepRecord(row: $0.element, line: $0.offset + 2) } }
        catch let error as SweepError { throw SweepError("\(url.path): \(error.description)") }
    }
}

public struct SweepError: Error, CustomStringConvertible {
    public let description: String
    public init(_ message: String) { description = message }
}
