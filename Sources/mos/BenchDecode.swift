import ArgumentParser
import Foundation
import Experiments
import Kernels
import Notebook

struct BenchDecode: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "decode",
        abstract: "Token-by-token decoding at LLaMA shapes: packed models against the float model, timed in one run.",
        discussion: """
        Each model has the shape's blocks with random weights in a method's layout (speed does not depend \
        on the values) and decodes --tokens tokens from an empty KV cache, one at a time, as generation \
        does; the fastest of --rounds rounds counts. The float model (fp) is always timed as the reference; \
        a float LLaMA-7B would hold 27 GB, so it runs at most --float-layers blocks and its time in the \
        blocks is scaled to the full depth (the output says so). The embedding and the output head stay in \
        float32 for every method. Time per token is split into attention (with rotary), the linear layers' \
        products, BinaryMoS's router, scale mixing, the output head and the rest; bytes read per token count \
        weights and cache, and their rate is set against the read bandwidth: summing a 1 GiB buffer, \
        measured before every round, the fastest at each thread count over the whole run. \
        Layouts: \(DecodeBenchmark.Layout.allCases.map { "\($0.rawValue), \($0.summary)" }.joined(separator: "; ")).
        """)

    @Option(help: "Model shape: \(DecodeBenchmark.shapes.keys.sorted().joined(separator: ", ")).")
    var shape = "llama-1-7b"
    @Option(help: "Layouts to time beside fp, comma-separated.") var method = "onebit,mos,rtn2"
    @Option(help: "Tokens decoded per round.") var tokens = 32
    @Option(help: "Rounds per model and thread count (the fastest counts).") var rounds = 3
    @Option(help: "Blocks the packed models run (default: all of the shape's).") var layers: Int?
    @Option(help: "Most blocks the float model runs; its block time is scaled to the shape's depth.")
    var floatLayers = 4
    @Option(help: "Scaling experts of mos.") var experts = 4
    @Option(help: "How the packed kernels round activations: int16 (two int8 planes) or int8 (one, faster).")
    var activations: ActivationPrecision = .int16
    @Option(help: "Thread counts, comma-separated, each timed on the same models (default: all cores).")
    var threads: String?
    @Flag(help: "Print one JSON object instead of the table.") var json = false
    @Option(help: "Also write the results as CSV here.") var csv: String?

    func run() throws {
        guard var config = DecodeBenchmark.shapes[shape] else {
            throw Failure("unknown shape '\(shape)'; name one of " + DecodeBenchmark.shapes.keys.sorted().joined(separator: ", "))
        }
        var layouts: [DecodeBenchmark.Layout] = [.fp]
        for name in method.split(separator: ",").map({ $0.trimmingCharacters(in: .whitespaces) }) {
            guard let layout = DecodeBenchmark.Layout(rawValue: name) else {
                throw Failure("unknown method '\(name)'; name some of "
                              + DecodeBenchmark.Layout.allCases.map(\.rawValue).joined(separator: ", "))
            }
            if !layouts.contains(layout) { layouts.append(layout) }
        }
        let counts = try (threads ?? String(Threads.available)).split(separator: ",").map { text -> Int in
            guard let n = Int(text), (1...1024).contains(n) else { throw Failure("--threads: '\(text)' is not a count from 1 to 1024") }
            return n
        }
        guard (1...2048).contains(tokens) else { throw Failure("--tokens must be between 1 and 2048") }
        guard rounds >= 1, floatLayers >= 1, (1...64).contains(experts) else {
            throw Failure("--rounds and --float-layers must be at least 1, --experts between 1 and 64")
        }
        if let layers {
            guard (1...config.layers).contains(layers) else { throw Failure("--layers must be between 1 and \(config.layers)") }
        }
        config.context = tokens
        guard config.problems.isEmpty else { throw Failure(config.problems.joined(separator: "; ")) }
        if let csv { try checkOutput(csv) }

        var bench = DecodeBenchmark(config: config)
        (bench.tokens, bench.rounds, bench.layers, bench.floatLayers) = (tokens, rounds, layers, floatLayers)
        (bench.experts, bench.precision, bench.threads) = (experts, activations, counts)
        let results = bench.run(layouts)
        let bandwidth = DecodeBenchmark.readReference(results)
        let float = Dictionary(results.filter { $0.method == "fp" }.map { ($0.threads, $0.tokensPerSecond) }) { a, _ in a }
        let report = DecodeReport(shape: shape, dim: config.dim, ffn: config.ffnHidden, heads: config.heads,
                                  vocabulary: config.vocabulary, tokens: tokens, rounds: rounds,
                                  activations: activations.rawValue, kernel_paths: PackedKernels.path,
                                  dense: DenseKernels.description,
                                  read_bytes_per_second: Dictionary(uniqueKeysWithValues: bandwidth.map { (String($0), $1) }),
                                  results: results.map { DecodeRow($0, float: float[$0.threads]!, read: bandwidth[$0.threads]!) })
        if let csv { try report.table.write(to: URL(fileURLWithPath: csv)) }
        if json {
            try printJSON(report)
            return
        }
        print("shape           \(shape): \(config.layers) blocks, dim \(config.dim), ffn \(config.ffnHidden), \(config.heads) heads, "
              + "vocabulary \(config.vocabulary); \(tokens) tokens from an empty cache, fastest of \(rounds) rounds")
        print("read bandwidth  " + counts.map { "\(format(bandwidth[$0]! / 1e9, 1)) GB/s on \($0) thread(s)" }.joined(separator: ", "))
        print("kernels         \(PackedKernels.path) on \(activations.rawValue) activations; dense: \(DenseKernels.description)")
        if let fp = results.first(where: { $0.method == "fp" }), fp.layersRun < fp.layers {
            print("float           ran \(fp.layersRun) of \(fp.layers) blocks; its block time is scaled ×\(format(Double(fp.layers) / Double(fp.layersRun), 2))")
        }
        if let packed = results.first(where: { $0.method != "fp" }), packed.layersRun < packed.layers {
            print("packed          ran \(packed.layersRun) of \(packed.layers) blocks; their block time is scaled ×\(format(Double(packed.layers) / Double(packed.layersRun), 2))")
        }
        print("\nms per token by kind of work, tokens/s, and bytes read per token (weights + cache) at their rate:")
        let groups = results[0].grouped.map(\.name)
        print("method  threads  tokens/s  vs fp   ms/token " + groups.map { $0.leftPadded(max(9, $0.count + 1)) }.joined()
              + "   MB/token     GB/s  of read")
        for r in results {
            let row = report.results.first { $0.method == r.method && $0.threads == r.threads }!
            var line = r.method.padding(toLength: 8, withPad: " ", startingAt: 0) + String(r.threads).leftPadded(7)
            line += format(r.tokensPerSecond, 2).leftPadded(10) + (format(row.vs_fp, 2) + "×").leftPadded(8)
            line += format(r.secondsPerToken * 1000, 2).leftPadded(10)
            for (name, s) in r.grouped { line += format(s * 1000, 2).leftPadded(max(9, name.count + 1)) }
            line += format(Double(r.weightBytes + r.cacheBytes) / 1e6, 1).leftPadded(11)
            line += format(r.bytesPerSecond / 1e9, 1).leftPadded(9) + (format(100 * row.of_read_bandwidth, 0) + " %").leftPadded(8)
            print(line)
        }
    }
}

/// What `mos bench decode --json` prints.
struct DecodeReport: Encodable {
    var shape: String, dim: Int, ffn: Int, heads: Int, vocabulary: Int, tokens: Int, rounds: Int
    var activations: String, kernel_paths: String, dense: String
    var read_bytes_per_second: [String: Double]
    var results: [DecodeRow]

    var table: CSVTable {
        var t = CSVTable(columns: ["method", "threads", "layers", "layers_run", "tokens", "tokens_per_s", "ms_per_token",
                                   "vs_fp", "attention_ms", "linear_ms", "router_ms", "mixing_ms", "head_ms", "rest_ms",
                                   "weight_bytes", "cache_bytes", "gb_per_s", "of_read_bandwidth"])
        for r in results {
            t.append([r.method, r.threads, r.layers, r.layers_run, r.tokens, CSVTable.format(r.tokens_per_second, digits: 3),
                      CSVTable.format(r.seconds_per_token * 1000, digits: 3), CSVTable.format(r.vs_fp, digits: 3)]
                     + r.grouped_ms.map { CSVTable.format($0, digits: 3) }
                     + [r.weight_bytes, r.cache_bytes, CSVTable.format(r.bytes_per_second / 1e9, digits: 2),
                        CSVTable.format(r.of_read_bandwidth, digits: 3)])
        }
        return t
    }
}

struct DecodeRow: Encodable {
    var method: String, threads: Int, layers: Int, layers_run: Int, tokens: Int
    var tokens_per_second: Double, seconds_per_token: Double, vs_fp: Double
    var seconds_by_kind: [String: Double], grouped_ms: [Double]
    var weight_bytes: Int, cache_bytes: Int, bytes_per_second: Double, of_read_bandwidth: Double

    init(_ r: DecodeBenchmark.Result, float: Double, read: Double) {
        (method, threads, layers, layers_run, tokens) = (r.method, r.threads, r.layers, r.layersRun, r.tokens)
        (tokens_per_second, seconds_per_token, vs_fp) = (r.tokensPerSecond, r.secondsPerToken, r.tokensPerSecond / float)
        seconds_by_kind = r.seconds
        grouped_ms = r.grouped.map { $0.seconds * 1000 }
        (weight_bytes, cache_bytes, bytes_per_second) = (r.weightBytes, r.cacheBytes, r.bytesPerSecond)
        of_read_bandwidth = r.bytesPerSecond / read
    }
}
