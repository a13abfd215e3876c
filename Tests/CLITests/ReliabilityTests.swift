import XCTest
import Foundation
import Experiments

/// Issue 16: runs that repeat, overlap or die never garble, lose or
/// duplicate a result. Each test runs the real `mos` on the smoke profile.
final class ReliabilityTests: SmokeTeacherTestCase {
    /// Six distilled points, about a second each on one thread.
    func sweep(_ csv: String, jobs: Int = 1) -> [String] {
        ["sweep", "--teacher", teacher, "--profile", "smoke", "--method", "mos", "--experts", "1,2", "--seeds", "3",
         "--steps", "300", "--jobs", String(jobs), "--out", csv]
    }

    func start(_ arguments: [String], error: URL? = nil) throws -> Process {
        let p = Process()
        p.executableURL = mos
        p.arguments = arguments
        p.standardOutput = FileHandle.nullDevice
        if let error {
            _ = FileManager.default.createFile(atPath: error.path, contents: nil)
            p.standardError = try FileHandle(forWritingTo: error)
        } else {
            p.standardError = FileHandle.nullDevice
        }
        try p.run()
        return p
    }

    /// The records apart from their timing, which is all a rerun may change.
    func untimed(_ csv: String) throws -> [SweepRecord] {
        try SweepRecord.read(URL(fileURLWithPath: csv)).map { var r = $0; r.seconds = 0; return r }
    }

    /// A checkpoint's header, with the training's wall time taken out, and its tensor bytes.
    func split(_ path: String) throws -> (header: String, tensors: Data) {
        let bytes = try Data(contentsOf: URL(fileURLWithPath: path))
        let length = Int(bytes.prefix(8).enumerated().reduce(UInt64(0)) { $0 | UInt64($1.element) << (8 * UInt64($1.offset)) })
        let header = String(decoding: bytes[8..<(8 + length)], as: UTF8.self)
        // The header is padded with spaces to 8 bytes, so its length follows the time's digits.
        return (header.replacingOccurrences(of: #"\\"seconds\\":[0-9.e+-]+"#, with: "", options: .regularExpression)
                    .trimmingCharacters(in: .whitespaces),
                bytes.suffix(from: 8 + length))
    }

    /// The same seed, profile and threads give the same teacher, byte for
    /// byte, and the same sweep records, whatever the number of jobs.
    func testSameSettingsGiveTheSameBytes() throws {
        let other = scratch.appendingPathComponent("again.safetensors").path
        let t = try runMos(["train", "--profile", "smoke", "--steps", "2", "--threads", "1", "--out", other])
        XCTAssertEqual(t.status, 0, t.err)
        // The tensors byte for byte; the header too, but for the training's wall time.
        let (a, b) = (try split(teacher), try split(other))
        XCTAssertEqual(a.tensors, b.tensors)
        XCTAssertEqual(a.header, b.header)
        let one = scratch.appendingPathComponent("one.csv").path, two = scratch.appendingPathComponent("two.csv").path
        XCTAssertEqual(try runMos(sweep(one, jobs: 1)).status, 0)
        XCTAssertEqual(try runMos(sweep(two, jobs: 2)).status, 0)
        XCTAssertEqual(try untimed(one).count, 6)
        XCTAssertEqual(try untimed(one), try untimed(two))
    }

    /// Two sweeps on one file at once: the second waits for the first, naming
    /// it, then finds nothing left to do; every point is there once.
    func testTwoSweepsOnOneFileTakeTurns() throws {
        let csv = scratch.appendingPathComponent("shared.csv").path, reference = scratch.appendingPathComponent("alone.csv").path
        let logs = (0..<2).map { scratch.appendingPathComponent("sweep\($0).log") }
        let runs = try logs.map { try start(sweep(csv), error: $0) }
        for p in runs { p.waitUntilExit(); XCTAssertEqual(p.terminationStatus, 0) }
        let text = try logs.map { try String(contentsOf: $0, encoding: .utf8) }
        let waited = text.filter { $0.contains("is in use by pid") && $0.contains("waiting") }
        XCTAssertEqual(waited.count, 1, text.joined(separator: "\n---\n"))
        XCTAssertTrue(waited.allSatisfy { $0.contains("0 point(s) to run (6 already") }, waited.joined())
        XCTAssertEqual(try runMos(sweep(reference)).status, 0)
        XCTAssertEqual(try untimed(csv), try untimed(reference))
    }

    /// A full disk (a 320 KiB tmpfs, where this machine lets root mount one):
    /// a teacher and a sweep that cannot be written give a one-line error,
    /// and the outputs already there stay as they were, with no stray file.
    func testAFullDiskKeepsThePreviousOutputs() throws {
        let disk = scratch.appendingPathComponent("disk")
        try FileManager.default.createDirectory(at: disk, withIntermediateDirectories: true)
        let mount = Process()
        mount.executableURL = URL(fileURLWithPath: "/bin/mount")
        mount.arguments = ["-t", "tmpfs", "-o", "size=320k", "tmpfs", disk.path]
        mount.standardError = FileHandle.nullDevice
        try mount.run(); mount.waitUntilExit()
        try XCTSkipUnless(mount.terminationStatus == 0, "cannot mount a small tmpfs here (not root, or no permission)")
        defer {
            let umount = Process()
            umount.executableURL = URL(fileURLWithPath: "/bin/umount")
            umount.arguments = [disk.path]
            try? umount.run(); umount.waitUntilExit()
        }
        let model = disk.appendingPathComponent("teacher.safetensors").path, csv = disk.appendingPathComponent("sweep.csv").path
        try FileManager.default.copyItem(atPath: teacher, toPath: model)
        XCTAssertEqual(try runMos(["sweep", "--teacher", teacher, "--profile", "smoke", "--method", "sign", "--out", csv]).status, 0)
        // Then the disk is filled to the last byte.
        let free = try FileManager.default.attributesOfFileSystem(forPath: disk.path)[.systemFreeSize] as! Int
        XCTAssertTrue(FileManager.default.createFile(atPath: disk.appendingPathComponent("filler").path, contents: Data(count: free)))
        let before = try FileManager.default.contentsOfDirectory(atPath: disk.path).sorted()
        let (oldModel, oldCSV) = (FileManager.default.contents(atPath: model), FileManager.default.contents(atPath: csv))
        for arguments in [["train", "--profile", "smoke", "--steps", "2", "--threads", "1", "--out", model],
                          ["sweep", "--teacher", teacher, "--profile", "smoke", "--method", "rtn", "--bits", "2,3", "--out", csv]] {
            let r = try runMos(arguments)
            XCTAssertNotEqual(r.status, 0, arguments.joined(separator: " "))
            let errors = r.err.split(separator: "\n").filter { $0.hasPrefix("Error:") }
            XCTAssertEqual(errors.count, 1, r.err)
            XCTAssertTrue(r.err.split(separator: "\n").last?.hasPrefix("Error:") ?? false, r.err)
            XCTAssertTrue(r.err.contains("disk full") || r.err.contains("No space"), r.err)
            XCTAssertFalse(r.err.contains("Fatal error"), r.err)
        }
        XCTAssertEqual(FileManager.default.contents(atPath: model), oldModel)
        XCTAssertEqual(FileManager.default.contents(atPath: csv), oldCSV)
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: disk.path).filter { !$0.hasSuffix(".lock") }.sorted(),
                       before.filter { !$0.hasSuffix(".lock") })
    }

    /// kill -9 at several moments of a sweep: what is left always reads as a
    /// sweep file (or is absent), and rerunning finishes with the records of
    /// an uninterrupted run, none lost or repeated.
    func testSweepsKilledAtAnyMomentResumeToTheSameRecords() throws {
        let csv = scratch.appendingPathComponent("killed.csv").path, reference = scratch.appendingPathComponent("whole.csv").path
        let began = Date()
        XCTAssertEqual(try runMos(sweep(reference, jobs: 2)).status, 0)
        // Moments through a whole run, however fast this machine (or a sanitizer) makes it.
        let whole = Date().timeIntervalSince(began)
        var rows: [Int] = []
        for delay in [0.02, 0.2, 0.4, 0.6, 0.85].map({ $0 * whole }) {
            let p = try start(sweep(csv, jobs: 2))
            Thread.sleep(forTimeInterval: delay)
            kill(p.processIdentifier, SIGKILL)
            p.waitUntilExit()
            rows.append(try untimed(csv).count)   // throws if the file is garbled
        }
        XCTAssertGreaterThan(rows.last!, 0, "no kill came after a point finished: \(rows)")
        XCTAssertEqual(try runMos(sweep(csv, jobs: 2)).status, 0)
        XCTAssertEqual(try untimed(csv), try untimed(reference), "rows after each kill: \(rows)")
    }
}
