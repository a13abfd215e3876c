import XCTest
import Foundation
import Binarization
@testable import Experiments

final class SweepRecordTests: XCTestCase {
    func record(_ method: any BinarizationMethod, seed: UInt64 = 1) -> SweepRecord {
        SweepRecord(method: Method(method), seed: seed, perplexity: 2.518412, bitsPerByte: 1.332, floorBitsPerByte: nil,
                    bitsPerWeight: 1.6, modelBytes: 123_456, seconds: 12.5, corpus: "synthetic", profile: "quick",
                    steps: 120, teacher: "teacher.safetensors@abc", threads: 1, kernels: "float")
    }

    /// Records go to CSV and back unchanged; settings of other methods stay empty.
    func testRecordsRoundTripThroughCSV() throws {
        var rtn = RoundToNearest(); rtn.bits = 3
        let records = [record(BinaryMoS(experts: 8)), record(PBLLM(salient: 0.05, saliency: .magnitude), seed: 2),
                       record(rtn), record(FullPrecision())]
        let table = SweepRecord.table(records)
        XCTAssertEqual(table.columns, SweepRecord.columns)
        let mos = table.rows[0], column = { table.columns.firstIndex(of: $0)! }
        XCTAssertEqual(mos[column("method")], "mos")
        XCTAssertEqual(mos[column("experts")], "8")
        XCTAssertEqual(mos[column("salient")], "")
        XCTAssertEqual(mos[column("floor_bits_per_byte")], "")
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("records-\(UUID()).csv")
        defer { try? FileManager.default.removeItem(at: url) }
        try table.write(to: url)
        XCTAssertEqual(try SweepRecord.read(url), records)
    }

    func testUnreadableSweepFilesAreNamedErrors() throws {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("records-\(UUID()).csv")
        defer { try? FileManager.default.removeItem(at: url) }
        XCTAssertEqual(try SweepRecord.read(url), [], "a missing file is an empty sweep")
        try "a,b\n1,2\n".write(to: url, atomically: true, encoding: .utf8)
        XCTAssertThrowsError(try SweepRecord.read(url)) { XCTAssertTrue("\($0)".contains("not a sweep's"), "\($0)") }
        var row = record(BinaryMoS()).row
        row[SweepRecord.columns.firstIndex(of: "perplexity")!] = "many"
        var table = SweepRecord.table([])
        table.append(row)
        try table.write(to: url)
        XCTAssertThrowsError(try SweepRecord.read(url)) { XCTAssertTrue("\($0)".contains("row 2: perplexity 'many'"), "\($0)") }
    }
}
