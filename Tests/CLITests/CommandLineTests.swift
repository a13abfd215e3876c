import XCTest
import Foundation

/// The `mos` binary as a user meets it: exit codes, one-line errors, JSON.
final class CommandLineTests: XCTestCase {
    /// The binary built beside this test bundle (same configuration).
    var mos: URL {
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

    func run(_ arguments: [String]) throws -> (status: Int32, out: String, err: String) {
        let p = Process()
        p.executableURL = mos
        p.arguments = arguments
        let out = Pipe(), err = Pipe()
        p.standardOutput = out; p.standardError = err
        try p.run()
        let o = out.fileHandleForReading.readDataToEndOfFile(), e = err.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        return (p.terminationStatus, String(decoding: o, as: UTF8.self), String(decoding: e, as: UTF8.self))
    }

    var scratch: URL!
    override func setUpWithError() throws {
        try XCTSkipUnless(FileManager.default.isExecutableFile(atPath: mos.path), "mos not built at \(mos.path)")
        scratch = FileManager.default.temporaryDirectory.appendingPathComponent("mos-cli-\(UUID())")
        try FileManager.default.createDirectory(at: scratch, withIntermediateDirectories: true)
    }
    override func tearDown() { try? FileManager.default.removeItem(at: scratch) }

    func testHelpForEveryCommand() throws {
        for command in [[], ["train"], ["eval"], ["generate"], ["bench"], ["bench", "train"], ["weave"]] {
            let r = try run(command + ["--help"])
            XCTAssertEqual(r.status, 0, "\(command)")
            XCTAssertTrue(r.out.contains("USAGE"), "\(command): \(r.out)")
        }
    }

    func testBadCorpusIsAOneLineErrorAndWritesNothing() throws {
        let model = scratch.appendingPathComponent("m.safetensors").path
        for corpus in ["/no/such/file.txt", scratch.path] {
            let r = try run(["train", "--corpus", corpus, "--profile", "smoke", "--out", model])
            XCTAssertNotEqual(r.status, 0)
            XCTAssertTrue(r.err.contains(corpus), r.err)
            XCTAssertEqual(r.err.split(separator: "\n").count, 1, r.err)
            XCTAssertFalse(FileManager.default.fileExists(atPath: model))
        }
        let short = scratch.appendingPathComponent("short.txt")
        try Data("too short".utf8).write(to: short)
        let r = try run(["train", "--corpus", short.path, "--profile", "smoke", "--out", model])
        XCTAssertNotEqual(r.status, 0)
        XCTAssertTrue(r.err.contains("short.txt"), r.err)
    }

    func testTrainEvalJSONAndBadCheckpoint() throws {
        let model = scratch.appendingPathComponent("m.safetensors").path
        let t = try run(["train", "--profile", "smoke", "--steps", "3", "--threads", "1", "--out", model])
        XCTAssertEqual(t.status, 0, t.err)
        let e = try run(["eval", "--model", model, "--windows", "8", "--json"])
        XCTAssertEqual(e.status, 0, e.err)
        let json = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(e.out.utf8)) as? [String: Any])
        for key in ["perplexity", "bits_per_byte", "floor_bits_per_byte", "weight_bits_per_parameter", "model_bytes"] {
            XCTAssertNotNil(json[key], key)
        }
        XCTAssertTrue(json["floor_bits_per_byte"] is Double, "synthetic corpus has a known floor")
        XCTAssertEqual(json["weight_bits_per_parameter"] as? Double, 32)

        // Same thing on a text file: the floor is null.
        let text = scratch.appendingPathComponent("text.txt")
        try Data(String(repeating: "to be or not to be, that is the question. ", count: 200).utf8).write(to: text)
        let f = try run(["eval", "--model", model, "--corpus", text.path, "--json"])
        XCTAssertEqual(f.status, 0, f.err)
        XCTAssertTrue(f.out.contains("\"floor_bits_per_byte\":null"), f.out)

        // A truncated checkpoint: a one-line error naming the file.
        let bytes = try Data(contentsOf: URL(fileURLWithPath: model))
        let cut = scratch.appendingPathComponent("cut.safetensors")
        try bytes.prefix(bytes.count / 2).write(to: cut)
        let c = try run(["eval", "--model", cut.path])
        XCTAssertNotEqual(c.status, 0)
        XCTAssertTrue(c.err.contains("cut.safetensors") && c.err.contains("truncated"), c.err)
    }
}
