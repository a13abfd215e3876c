import XCTest
import Foundation
import Experiments

/// Issue 17: a sweep is a set of independent points. Run one by one, in any
/// order, in other processes, and gathered, they give the records a local
/// sweep gives; what is missing is named.
final class SweepPointTests: SmokeTeacherTestCase {
    func sweep(_ csv: String, _ more: [String] = []) -> [String] {
        ["sweep", "--teacher", teacher, "--profile", "smoke", "--method", "mos", "--experts", "1,2", "--seeds", "3",
         "--steps", "20", "--out", csv] + more
    }

    func untimed(_ csv: String) throws -> [SweepRecord] {
        try SweepRecord.read(URL(fileURLWithPath: csv)).map { var r = $0; r.seconds = 0; return r }
    }

    struct PlanLine: Decodable { let point: Int, seed: UInt64, command: String }

    func plan(_ arguments: [String]) throws -> [PlanLine] {
        let r = try run(arguments + ["--plan"])
        XCTAssertEqual(r.status, 0, r.err)
        return try r.out.split(separator: "\n").map { try JSONDecoder().decode(PlanLine.self, from: Data($0.utf8)) }
    }

    func shell(_ line: String) throws -> Int32 {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/bin/sh")
        p.arguments = ["-c", line]
        p.standardOutput = FileHandle.nullDevice; p.standardError = FileHandle.nullDevice
        try p.run()
        p.waitUntilExit()
        return p.terminationStatus
    }

    /// The plan's commands, run backwards, then gathered: the local sweep's records, in its order.
    func testPointsRunApartGiveTheLocalSweep() throws {
        let local = scratch.appendingPathComponent("local.csv").path, apart = scratch.appendingPathComponent("apart.csv").path
        XCTAssertEqual(try run(sweep(local, ["--jobs", "2"])).status, 0)
        let lines = try plan(sweep(apart))
        XCTAssertEqual(lines.map(\.point), Array(1...6))
        XCTAssertEqual(lines.map(\.seed), [1, 2, 3, 1, 2, 3])
        for line in lines.reversed() { XCTAssertEqual(try shell(line.command), 0, line.command) }
        XCTAssertEqual(try plan(sweep(apart)).count, 0)
        XCTAssertFalse(FileManager.default.fileExists(atPath: apart))   // the points keep their own files
        let collected = try run(sweep(apart, ["--collect"]))
        XCTAssertEqual(collected.status, 0, collected.err)
        XCTAssertEqual(try untimed(apart), try untimed(local))
        // Gathered records leave their files; a second collect changes nothing.
        let folder = scratch.appendingPathComponent("apart.points").path
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: folder).filter { $0.hasSuffix(".csv") }, [])
        let before = try Data(contentsOf: URL(fileURLWithPath: apart))
        XCTAssertEqual(try run(sweep(apart, ["--collect"])).status, 0)
        XCTAssertEqual(try Data(contentsOf: URL(fileURLWithPath: apart)), before)
    }

    /// --collect names what is missing and fails; a local run then does only that.
    func testMissingPointsAreNamedAndRunOnce() throws {
        let csv = scratch.appendingPathComponent("part.csv").path
        for k in [1, 5] { XCTAssertEqual(try run(sweep(csv, ["--point", String(k)])).status, 0) }
        let again = try run(sweep(csv, ["--point", "5"]))
        XCTAssertEqual(again.status, 0)
        XCTAssertTrue(again.err.contains("has its record already"), again.err)
        let collected = try run(sweep(csv, ["--collect"]))
        XCTAssertNotEqual(collected.status, 0)
        XCTAssertTrue(collected.err.contains("4 point(s) of part.csv have no record: 2 (mos E=1 seed 2), 3 (mos E=1 seed 3), "
                                             + "4 (mos E=2 seed 1), 6 (mos E=2 seed 3)"), collected.err)
        XCTAssertEqual(try plan(sweep(csv)).map(\.point), [2, 3, 4, 6])
        let local = try run(sweep(csv))
        XCTAssertEqual(local.status, 0, local.err)
        XCTAssertTrue(local.err.contains("4 point(s) to run (2 already in part.csv)"), local.err)
        XCTAssertEqual(try untimed(csv).count, 6)
    }

    /// A point's command carries every setting: a rotated codebook's, run from its plan line, equals a local run's.
    func testCommandsCarryEverySetting() throws {
        let btc = ["sweep", "--teacher", teacher, "--profile", "smoke", "--method", "btc", "--bits-per-weight", "0.7",
                   "--transform", "true"]
        let local = scratch.appendingPathComponent("btc.csv").path, apart = scratch.appendingPathComponent("btc-apart.csv").path
        XCTAssertEqual(try run(btc + ["--out", local]).status, 0)
        let lines = try plan(btc + ["--out", apart])
        XCTAssertEqual(lines.count, 1)
        XCTAssertTrue(lines[0].command.contains("--bits-per-weight 0.7") && lines[0].command.contains("--transform true"),
                      lines[0].command)
        XCTAssertEqual(try shell(lines[0].command), 0)
        XCTAssertEqual(try run(btc + ["--out", apart, "--collect"]).status, 0)
        XCTAssertEqual(try untimed(apart), try untimed(local))
    }

    func testBadPointOptionsAreOneLine() throws {
        let csv = scratch.appendingPathComponent("bad.csv").path
        for (more, message) in [(["--point", "7"], "--point 7 is not a point of this sweep: it has 6, numbered from 1"),
                                (["--point", "0"], "--point 0 is not a point of this sweep"),
                                (["--plan", "--collect"], "give at most one of --plan, --point, --collect and --slurm"),
                                (["--throttle", "4"], "--partition, --time, --cpus-per-task and --throttle go with --slurm")] {
            let r = try run(sweep(csv, more))
            XCTAssertNotEqual(r.status, 0, more.joined(separator: " "))
            XCTAssertTrue(r.err.contains(message), r.err)
            XCTAssertFalse(FileManager.default.fileExists(atPath: csv))
        }
    }
}
