import XCTest
import Foundation

/// Issue 16's table of bad inputs: each gives a one-line error that names the
/// problem, a non-zero exit, and leaves no output file behind.
final class BadInputTests: MosTestCase {
    func path(_ name: String) -> String { scratch.appendingPathComponent(name).path }

    /// Runs `arguments` (OUT stands for a fresh output path) and checks the
    /// contract; `afterWork`: the refusal comes after the work's log began.
    func refuses(_ arguments: [String], naming words: [String], afterWork: Bool = false,
                 file: StaticString = #filePath, line: UInt = #line) throws {
        let out = path("out-\(UUID()).safetensors")
        let r = try runMos(arguments.map { $0 == "OUT" ? out : $0 }, timeout: 30)
        let label = arguments.joined(separator: " ")
        XCTAssertNotEqual(r.status, 0, label, file: file, line: line)
        XCTAssertFalse(r.err.contains("Fatal error") || r.err.contains("Stack dump"), "\(label): \(r.err)", file: file, line: line)
        let lines = r.err.split(separator: "\n")
        XCTAssertEqual(afterWork ? lines.filter { $0.hasPrefix("Error:") }.count : lines.count, 1, "\(label): \(r.err)",
                       file: file, line: line)
        XCTAssertTrue(lines.last?.hasPrefix("Error:") ?? false, "\(label): \(r.err)", file: file, line: line)
        for w in words { XCTAssertTrue(r.err.localizedCaseInsensitiveContains(w), "\(label): '\(w)' not in \(r.err)", file: file, line: line) }
        XCTAssertFalse(FileManager.default.fileExists(atPath: out), "\(label) left \(out)", file: file, line: line)
    }

    func testCorporaSizesAndSettings() throws {
        let empty = path("empty.txt"), one = path("one.txt")
        try Data().write(to: URL(fileURLWithPath: empty))
        try Data("x".utf8).write(to: URL(fileURLWithPath: one))
        let train = ["train", "--profile", "smoke", "--threads", "1", "--out", "OUT"]
        try refuses(train + ["--corpus", path("missing.txt")], naming: ["missing.txt"])
        try refuses(train + ["--corpus", empty], naming: ["empty.txt"])
        try refuses(train + ["--corpus", one], naming: ["one.txt"])
        // Bytes are tokens: binary and non-UTF-8 files are corpora like any other.
        let binary = path("binary.dat")
        try Data((0..<4000).map { UInt8(truncatingIfNeeded: $0 &* 2654435761 >> 7) } + [0xFF, 0xFE, 0xC3]).write(to: URL(fileURLWithPath: binary))
        let ok = try runMos(["train", "--corpus", binary, "--profile", "smoke", "--steps", "1", "--threads", "1", "--out", path("b.safetensors")])
        XCTAssertEqual(ok.status, 0, ok.err)
        try refuses(train + ["--steps", "0"], naming: ["--steps"])
        try refuses(train + ["--steps=-3"], naming: ["--steps"])
        try refuses(train + ["--steps", "1000000000000"], naming: ["--steps"])
        try refuses(train + ["--batch", "0"], naming: ["--batch"])
        // More memory than the machine has: refused before any allocation, with the need.
        try refuses(train + ["--batch", "100000000"], naming: ["--batch", "GB", "this machine has"])
        try refuses(train + ["--lr=-1"], naming: ["--lr"])
        try refuses(train + ["--lr", "nan"], naming: ["--lr"])
        try refuses(train + ["--steps", "1", "--trace", empty], naming: ["empty.txt", "folder"])
        try refuses(["train", "--profile", "smoke", "--steps", "1", "--out", path("same"), "--trace", path("same")],
                    naming: ["--trace", "--out"])
        // A rate that blows up: training stops at the step, names what went first, writes nothing.
        try refuses(train + ["--lr", "1e30"], naming: ["diverged at step", "gradient of", "nothing written"],
                     afterWork: true)
        try refuses(["train", "--profile", "smoke", "--threads", "0", "--out", "OUT"], naming: ["--threads"])
        try refuses(["train", "--profile", "smoke", "--threads", "100000", "--out", "OUT"], naming: ["--threads"])
        try refuses(["train", "--profile", "huge", "--out", "OUT"], naming: ["huge"])
        // An output inside a file: no folder can be made there.
        try refuses(["train", "--profile", "smoke", "--steps", "1", "--out", empty + "/m.safetensors"], naming: ["empty.txt"])
    }

    func testDecodeBenchmarkSettings() throws {
        let decode = ["bench", "decode", "--shape", "compact", "--tokens", "2", "--rounds", "1", "--csv", "OUT"]
        try refuses(["bench", "decode", "--shape", "llama-3-8b", "--csv", "OUT"], naming: ["llama-3-8b", "llama-1-7b"])
        try refuses(decode + ["--method", "onebit,xnor"], naming: ["xnor", "rtn2"])
        try refuses(decode + ["--threads", "1,0"], naming: ["--threads", "'0'"])
        try refuses(decode + ["--tokens", "0"], naming: ["--tokens"])
        try refuses(decode + ["--layers", "5"], naming: ["--layers", "4"])
        try refuses(decode + ["--experts", "0"], naming: ["--experts"])
    }

    func testMethodsAndCheckpoints() throws {
        let teacher = path("teacher.safetensors")
        let t = try runMos(["train", "--profile", "smoke", "--steps", "2", "--threads", "1", "--out", teacher])
        XCTAssertEqual(t.status, 0, t.err)
        let binarize = ["binarize", "--teacher", teacher, "--threads", "1", "--steps", "1", "--out", "OUT"]
        try refuses(binarize + ["--method", "mos", "--experts", "0"], naming: ["--experts"])
        try refuses(binarize + ["--method", "pbllm", "--salient", "1"], naming: ["--salient"])
        try refuses(binarize + ["--method", "pbllm", "--salient", "-0.1"], naming: ["--salient"])
        try refuses(binarize + ["--method", "nosuch"], naming: ["nosuch"])
        try refuses(binarize + ["--method", "arb", "--variant", "z"], naming: ["--variant"])
        try refuses(binarize + ["--method", "btc", "--bits-per-weight", "5"], naming: ["--bits-per-weight"])

        // Damaged checkpoints, each read by eval.
        let bytes = try Data(contentsOf: URL(fileURLWithPath: teacher))
        let headerLength = Int(bytes.prefix(8).enumerated().reduce(UInt64(0)) { $0 | UInt64($1.element) << (8 * UInt64($1.offset)) })
        var header = String(decoding: bytes[8..<(8 + headerLength)], as: UTF8.self)
        func write(_ name: String, _ data: Data) throws -> String { try data.write(to: URL(fileURLWithPath: path(name))); return path(name) }
        func withHeader(_ text: String) -> Data {
            var d = Data(); var n = UInt64(text.utf8.count)
            for _ in 0..<8 { d.append(UInt8(n & 0xFF)); n >>= 8 }
            return d + Data(text.utf8) + bytes[(8 + headerLength)...]
        }
        let damaged = [
            ("truncated.safetensors", bytes.prefix(bytes.count - 100)),
            ("garbage.safetensors", withHeader(String(repeating: "{", count: header.utf8.count))),
            ("huge-header.safetensors", Data([0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x7F]) + bytes.dropFirst(8)),
        ]
        for (name, data) in damaged {
            let file = try write(name, data)
            let r = try runMos(["eval", "--model", file, "--windows", "2"])
            XCTAssertNotEqual(r.status, 0, name)
            XCTAssertEqual(r.err.split(separator: "\n").count, 1, "\(name): \(r.err)")
            XCTAssertTrue(r.err.contains(name), "\(name): \(r.err)")
        }
        // A header that lies about offsets: the first tensor's end pushed past the data.
        if let range = header.range(of: #""data_offsets":\[\d+,\d+\]"#, options: .regularExpression) {
            header.replaceSubrange(range, with: #""data_offsets":[0,999999999]"#)
            let file = try write("offsets.safetensors", withHeader(header))
            let r = try runMos(["eval", "--model", file, "--windows", "2"])
            XCTAssertNotEqual(r.status, 0)
            XCTAssertEqual(r.err.split(separator: "\n").count, 1, r.err)
            XCTAssertTrue(r.err.contains("offsets.safetensors"), r.err)
        } else {
            XCTFail("no data_offsets in the header")
        }
        // A student given where a teacher is needed.
        let student = path("student.safetensors")
        let s = try runMos(["binarize", "--teacher", teacher, "--method", "sign", "--out", student])
        XCTAssertEqual(s.status, 0, s.err)
        try refuses(["binarize", "--teacher", student, "--method", "sign", "--out", "OUT"], naming: ["student.safetensors"])
    }
}
