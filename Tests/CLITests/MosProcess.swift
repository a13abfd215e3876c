import Foundation
import XCTest

/// The `mos` binary built beside the test bundle (same configuration).
var mosBinary: URL {
    var dir = Bundle.main.bundleURL
    for _ in 0..<4 {
        let candidate = dir.appendingPathComponent("mos")
        if FileManager.default.isExecutableFile(atPath: candidate.path) { return candidate }
        dir = dir.deletingLastPathComponent()
    }
    let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()
    return root.appendingPathComponent(".build/release/mos")
}

/// Runs `mos` with `arguments`: its exit status, standard output and error.
/// A run past `timeout` seconds is stopped (a refusal must come up front).
func runMos(_ arguments: [String], timeout: Double = 600) throws -> (status: Int32, out: String, err: String) {
    let p = Process()
    p.executableURL = mosBinary
    p.arguments = arguments
    let out = Pipe(), err = Pipe()
    p.standardOutput = out; p.standardError = err
    try p.run()
    DispatchQueue.global().asyncAfter(deadline: .now() + timeout) { if p.isRunning { p.terminate() } }
    let o = out.fileHandleForReading.readDataToEndOfFile(), e = err.fileHandleForReading.readDataToEndOfFile()
    p.waitUntilExit()
    return (p.terminationStatus, String(decoding: o, as: UTF8.self), String(decoding: e, as: UTF8.self))
}

/// A test of the `mos` binary with a fresh scratch folder (skipped when the binary is not built).
class MosTestCase: XCTestCase {
    var mos: URL { mosBinary }
    func run(_ arguments: [String]) throws -> (status: Int32, out: String, err: String) { try runMos(arguments) }

    var scratch: URL!
    override func setUpWithError() throws {
        try XCTSkipUnless(FileManager.default.isExecutableFile(atPath: mos.path), "mos not built at \(mos.path)")
        scratch = FileManager.default.temporaryDirectory.appendingPathComponent("mos-cli-\(UUID())")
        try FileManager.default.createDirectory(at: scratch, withIntermediateDirectories: true)
    }
    override func tearDown() { try? FileManager.default.removeItem(at: scratch) }
}

/// A test of `mos` that starts from a smoke teacher (two steps) in its scratch folder.
class SmokeTeacherTestCase: MosTestCase {
    var teacher: String { scratch.appendingPathComponent("teacher.safetensors").path }

    override func setUpWithError() throws {
        try super.setUpWithError()
        let t = try runMos(["train", "--profile", "smoke", "--steps", "2", "--threads", "1", "--out", teacher])
        XCTAssertEqual(t.status, 0, t.err)
    }
}
