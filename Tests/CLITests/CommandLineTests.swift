import XCTest
import Foundation

/// The `mos` binary as a user meets it: exit codes, one-line errors, JSON.
final class CommandLineTests: MosTestCase {
    func testHelpForEveryCommand() throws {
        for command in [[], ["train"], ["binarize"], ["sweep"], ["eval"], ["memory"], ["generate"], ["bench"], ["bench", "train"],
                        ["bench", "kernels"], ["bench", "decode"], ["weave"]] {
            let r = try run(command + ["--help"])
            XCTAssertEqual(r.status, 0, "\(command)")
            XCTAssertTrue(r.out.contains("USAGE"), "\(command): \(r.out)")
        }
    }

    /// The kernel benchmark's CSV carries the columns and kernel names the report reads.
    func testBenchKernelsCSV() throws {
        let csv = scratch.appendingPathComponent("kernels.csv")
        let r = try run(["bench", "kernels", "--shapes", "128x128", "--rounds", "1", "--threads", "1", "--csv", csv.path])
        XCTAssertEqual(r.status, 0, r.err)
        let lines = try String(contentsOf: csv, encoding: .utf8).split(separator: "\n").map { $0.split(separator: ",").map(String.init) }
        let header = try XCTUnwrap(lines.first)
        for column in ["kernel", "rows", "cols", "threads", "seconds", "ratio_vs_sgemv", "weight_bytes", "gb_per_s"] {
            XCTAssertTrue(header.contains(column), column)
        }
        let kernels = Set(lines.dropFirst().map { $0[0] })
        XCTAssertTrue(kernels.isSuperset(of: ["sgemv", "binary", "binarymos", "int2"]), "\(kernels)")
    }

    /// The decode benchmark's JSON and CSV: the float reference first, then each
    /// layout asked for, at each thread count, as fast as itself relative to fp.
    func testBenchDecodeJSONAndCSV() throws {
        let csv = scratch.appendingPathComponent("decode.csv")
        let r = try run(["bench", "decode", "--shape", "compact", "--tokens", "4", "--rounds", "1", "--threads", "1,2",
                         "--method", "onebit,rtn2", "--json", "--csv", csv.path])
        XCTAssertEqual(r.status, 0, r.err)
        let json = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(r.out.utf8)) as? [String: Any])
        let results = try XCTUnwrap(json["results"] as? [[String: Any]])
        XCTAssertEqual(results.map { "\($0["method"]!) \($0["threads"]!)" }, ["fp 1", "fp 2", "onebit 1", "onebit 2", "rtn2 1", "rtn2 2"])
        for row in results where row["method"] as? String == "fp" { XCTAssertEqual(row["vs_fp"] as? Double, 1) }
        XCTAssertEqual((json["read_bytes_per_second"] as? [String: Double])?.keys.sorted(), ["1", "2"])
        let lines = try String(contentsOf: csv, encoding: .utf8).split(separator: "\n")
        XCTAssertEqual(lines.count, 7)
        XCTAssertTrue(lines[0].hasPrefix("method,threads,layers,layers_run,tokens,tokens_per_s"), String(lines[0]))
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
        // A folder given as --out (here the current one) is refused and left as it was.
        let keep = scratch.appendingPathComponent("keep.txt")
        try Data("keep".utf8).write(to: keep)
        for out in [scratch.path, ""] {
            let p = Process()
            p.executableURL = mos; p.arguments = ["train", "--profile", "smoke", "--steps", "1", "--out", out]
            p.currentDirectoryURL = scratch; p.standardError = Pipe()
            try p.run(); p.waitUntilExit()
            XCTAssertNotEqual(p.terminationStatus, 0, "--out '\(out)'")
            XCTAssertTrue(FileManager.default.fileExists(atPath: keep.path), "--out '\(out)' must not remove the folder")
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
        // Three steps are below even the smoke profile's criterion, and the log and the header say so.
        XCTAssertTrue(t.err.contains("below the criterion of 0.3 per parameter"), t.err)
        let report = scratch.appendingPathComponent("r.html").path, chapter = scratch.appendingPathComponent("c.swift")
        try "//: # A chapter\n".write(to: chapter, atomically: true, encoding: .utf8)
        let w = try run(["weave", "--out", report, "--teacher", model, chapter.path + "=" + scratch.path])
        XCTAssertEqual(w.status, 0, w.err)
        XCTAssertTrue(try String(contentsOfFile: report, encoding: .utf8).contains("trained on 768 tokens"))
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

    func testBinarizeEvalAndMemory() throws {
        let teacher = scratch.appendingPathComponent("t.safetensors").path
        XCTAssertEqual(try run(["train", "--profile", "smoke", "--steps", "3", "--threads", "1", "--out", teacher]).status, 0)
        for (method, extra) in [("mos", ["--experts", "2", "--steps", "2"]), ("gptq", ["--bits", "3"]), ("pbllm", [])] {
            let student = scratch.appendingPathComponent("\(method).safetensors").path
            let b = try run(["binarize", "--teacher", teacher, "--method", method, "--profile", "smoke", "--threads", "1",
                             "--windows", "4", "--out", student] + extra)
            XCTAssertEqual(b.status, 0, b.err)
            let e = try run(["eval", "--model", student, "--windows", "4", "--json"])
            XCTAssertEqual(e.status, 0, e.err)
            let json = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(e.out.utf8)) as? [String: Any])
            XCTAssertEqual(json["method"] as? String, method)
            let modelBytes = try XCTUnwrap(json["model_bytes"] as? Int), fileBytes = try XCTUnwrap(json["file_bytes"] as? Int)
            XCTAssertGreaterThan(fileBytes, modelBytes)
            XCTAssertLessThan(fileBytes - modelBytes, 32_768, "the rest of the file is its header")
            if method == "mos" {
                XCTAssertEqual((json["settings"] as? [String: String])?["experts"], "2")
                XCTAssertEqual(json["kernels"] as? String, "packed")
                let f = try run(["eval", "--model", student, "--windows", "4", "--float", "--json"])
                XCTAssertTrue(f.out.contains("\"kernels\":\"float\""), f.out)
            }
            // A student is not a teacher.
            let again = try run(["binarize", "--teacher", student, "--method", "sign", "--out", student + ".2"])
            XCTAssertNotEqual(again.status, 0)
            XCTAssertTrue(again.err.contains("already binarized"), again.err)
        }
        for bad in [["--method", "xnor"], ["--method", "mos", "--experts", "0"], ["--method", "rtn", "--bits", "9"]] {
            let r = try run(["binarize", "--teacher", teacher, "--out", scratch.appendingPathComponent("x").path] + bad)
            XCTAssertNotEqual(r.status, 0, "\(bad)")
            XCTAssertFalse(FileManager.default.fileExists(atPath: scratch.appendingPathComponent("x").path))
        }

        let m = try run(["memory", "--shape", "llama-1-7b", "--method", "mos", "--json"])
        XCTAssertEqual(m.status, 0, m.err)
        let json = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(m.out.utf8)) as? [String: Any])
        XCTAssertEqual(try XCTUnwrap(json["total_bytes"] as? Int), 1_363_419_136)
        XCTAssertEqual(try XCTUnwrap(json["compression_vs_fp16"] as? Double), 9.88, accuracy: 0.005)
        XCTAssertNotNil(json["bits_per_weight"])
        let fromFile = try run(["memory", "--shape", teacher, "--method", "onebit"])
        XCTAssertEqual(fromFile.status, 0, fromFile.err)
        let unknown = try run(["memory", "--shape", "llama-3-8b", "--method", "mos"])
        XCTAssertNotEqual(unknown.status, 0)
        XCTAssertTrue(unknown.err.contains("llama-1-7b"), unknown.err)
    }

    /// A sweep writes one row per point, resumes without redoing points, and
    /// gives the same numbers for the same seed whatever --jobs is.
    func testSweepAppendsAndResumes() throws {
        let teacher = scratch.appendingPathComponent("t.safetensors").path
        XCTAssertEqual(try run(["train", "--profile", "smoke", "--steps", "3", "--threads", "1", "--out", teacher]).status, 0)
        let csv = scratch.appendingPathComponent("sweep.csv").path
        func sweep(_ extra: [String], out: String = csv) throws -> (status: Int32, out: String, err: String) {
            try run(["sweep", "--teacher", teacher, "--method", "mos", "--profile", "smoke", "--steps", "2",
                     "--windows", "4", "--out", out] + extra)
        }
        XCTAssertEqual(try sweep(["--experts", "1,2", "--seeds", "2", "--jobs", "2"]).status, 0)
        let first = try String(contentsOfFile: csv, encoding: .utf8).split(separator: "\n")
        XCTAssertEqual(first.count, 1 + 4)
        let header = first[0].split(separator: ",").map(String.init)
        XCTAssertEqual(Array(header.prefix(2)), ["method", "experts"])
        let seedColumn = try XCTUnwrap(header.firstIndex(of: "seed")), perplexityColumn = try XCTUnwrap(header.firstIndex(of: "perplexity"))
        XCTAssertEqual(perplexityColumn, seedColumn + 1)
        let again = try sweep(["--experts", "1,2,4", "--seeds", "2", "--jobs", "1"])
        XCTAssertEqual(again.status, 0, again.err)
        XCTAssertTrue(again.err.contains("2 point(s) to run (4 already"), again.err)
        let rows = try String(contentsOfFile: csv, encoding: .utf8).split(separator: "\n")
        XCTAssertEqual(rows.count, 1 + 6)
        // Same seed, one job instead of two: the same perplexity.
        let other = scratch.appendingPathComponent("other.csv").path
        XCTAssertEqual(try sweep(["--experts", "2", "--seeds", "1", "--jobs", "1"], out: other).status, 0)
        func perplexity(_ line: Substring) -> String { String(line.split(separator: ",", omittingEmptySubsequences: false)[perplexityColumn]) }
        let single = try String(contentsOfFile: other, encoding: .utf8).split(separator: "\n")[1]
        let matching = rows.first { $0.hasPrefix("mos,2,") && $0.split(separator: ",", omittingEmptySubsequences: false)[seedColumn] == "1" }
        XCTAssertEqual(perplexity(single), perplexity(try XCTUnwrap(matching)))
        let bad = try sweep(["--experts", "2,x"])
        XCTAssertNotEqual(bad.status, 0)
        XCTAssertTrue(bad.err.contains("--experts"), bad.err)
    }
}
