import Foundation
import Randomness
import Kernels
import Transformer
import Binarization
import Notebook

/// Decoding one token at a time, as generation does, at a model's full shape:
/// random weights in a method's packed layout (the kernels' speed does not
/// depend on the values), a KV cache, and the float model as the reference.
///
/// A float LLaMA-7B holds 27 GB of weights, more than a laptop has, so the
/// float model may run fewer blocks than the shape has; blocks are alike, so
/// its time in the blocks is scaled by layers / blocks run (the output head
/// and the embedding are not), and the result says so. Each round decodes
/// `tokens` tokens from an empty cache; the fastest round counts.
public struct DecodeBenchmark {
    /// What a decoded model's linear layers are.
    public enum Layout: String, CaseIterable, Sendable {
        case fp, sign, onebit, mos, rtn2

        public var summary: String {
            switch self {
            case .fp: "float32 weights on OpenBLAS sgemv, the reference"
            case .sign: "sign bits, one scale per row"
            case .onebit: "sign bits, input and output scales: OneBit"
            case .mos: "sign bits, scales mixed per token by a router over E experts: BinaryMoS"
            case .rtn2: "2-bit codes, a 16-bit scale and zero per 128 weights: RTN's and GPTQ's layout"
            }
        }
    }

    /// LLaMA's shapes (a 32,000-token vocabulary, heads of 128) and this report's compact model.
    public static let shapes: [String: ModelConfig] = {
        func llama(dim: Int, ffn: Int, layers: Int) -> ModelConfig {
            var c = ModelConfig()
            (c.vocabulary, c.dim, c.ffnHidden, c.layers, c.heads) = (32_000, dim, ffn, layers, dim / 128)
            return c
        }
        let seven = llama(dim: 4096, ffn: 11008, layers: 32), thirteen = llama(dim: 5120, ffn: 13824, layers: 40)
        return ["llama-1-7b": seven, "llama-2-7b": seven, "llama-1-13b": thirteen, "llama-2-13b": thirteen,
                "compact": Profile.named("quick")!.model]
    }()

    public var config: ModelConfig
    public var tokens = 32
    public var rounds = 3
    /// Blocks the packed models run (nil: all) and the most the float model runs.
    public var layers: Int?
    public var floatLayers = 4
    public var experts = 4
    public var precision: ActivationPrecision = .int16
    /// Thread counts, each timed on the same model.
    public var threads = [1]

    public init(config: ModelConfig) { self.config = config }

    /// One method at one thread count, per token at the full shape.
    public struct Result: Codable, Sendable {
        public var method: String, threads: Int
        public var layers: Int, layersRun: Int, tokens: Int
        public var secondsPerToken: Double
        public var seconds: [String: Double]      // per token, by kind of work (StepProfile's names, and "rest")
        public var weightBytes: Int               // read per token
        public var cacheBytes: Int                // keys and values read per token, averaged over the tokens
        public var tokensPerSecond: Double
        public var bytesPerSecond: Double         // weights and cache read per second
        public var readBytesPerSecond: Double     // the fastest memory read measured between this result's rounds

        /// Seconds per token in the groups a table shows; "rest" is everything
        /// else (norms, SwiGLU, residual adds, embedding, the loop itself).
        public var grouped: [(name: String, seconds: Double)] {
            let groups: [(String, [StepProfile.Kind])] = [
                ("attention", [.attention, .rotary]), ("linear", [.linearForward]), ("router", [.router]),
                ("scale mixing", [.scaleMixing]), ("output head", [.head])]
            let named = groups.map { name, kinds in (name, kinds.reduce(0) { $0 + (seconds[$1.rawValue] ?? 0) }) }
            return named + [("rest", secondsPerToken - named.reduce(0) { $0 + $1.1 })]
        }
    }

    /// The read reference at each thread count: the fastest read measured
    /// anywhere in the run, so that no method is set against a slow moment.
    public static func readReference(_ results: [Result]) -> [Int: Double] {
        Dictionary(results.map { ($0.threads, $0.readBytesPerSecond) }, uniquingKeysWith: max)
    }

    /// Times each layout in turn on one model: the embedding, norms and head
    /// are made once and each layout's layers take their places in the blocks
    /// (the float layout's in the first blocks only, which alone then run), so
    /// every method decodes through the same frame. Progress goes to stderr.
    public func run(_ layouts: [Layout]) -> [Result] {
        var c = config
        c.context = tokens
        c.layers = min(config.layers, layers ?? config.layers)
        // Sign layers, the quickest to draw, hold the places until a layout's arrive.
        let model = TransformerModel(config: c, seed: 1, linear: factory(.sign))
        let blocks = model.blocks
        var rng = SeededGenerator(seed: 2)
        var results: [Result] = []
        let progress = Progress(total: layouts.count, label: "decode")
        for (i, layout) in layouts.enumerated() {
            let count = layout == .fp ? min(floatLayers, c.layers) : c.layers, make = factory(layout)
            for (l, block) in blocks.prefix(count).enumerated() {
                for (name, layer) in block.linears {
                    block.replace(name, with: make("layers.\(l).\(name)", layer.inFeatures, layer.outFeatures, 0.02, &rng))
                }
            }
            model.blocks = Array(blocks.prefix(count))
            results += time(model, layout)
            progress.update(step: i + 1, fields: [("method", layout.rawValue)])
        }
        progress.finish()
        return results
    }

    /// `model`'s blocks at each thread count, per token at the full shape.
    func time(_ model: TransformerModel, _ layout: Layout) -> [Result] {
        let decoder = Decoder(model), run = model.blocks.count
        let scale = Double(config.layers) / Double(run)
        let input = (0..<tokens).map { Int32($0 * 7919 % config.vocabulary) }
        return threads.map { count in
            Threads.use(count)
            for token in input.prefix(2) { decoder.feed(token) }   // warm-up
            var best = (seconds: Double.infinity, kinds: [StepProfile.Kind: Double]())
            var read = 0.0
            for _ in 0..<max(1, rounds) {
                read = max(read, KernelBenchmark.readBandwidth(passes: 3))   // the reference, as the machine is now
                decoder.reset()
                StepProfile.start()
                let start = DispatchTime.now().uptimeNanoseconds
                for token in input { decoder.feed(token) }
                let seconds = Double(DispatchTime.now().uptimeNanoseconds - start) * 1e-9
                let kinds = StepProfile.stop()
                if seconds < best.seconds { best = (seconds, kinds) }
            }
            // Per token, the blocks' share scaled to the full depth.
            let perToken = 1 / Double(tokens)
            let outside = (best.kinds[.head] ?? 0) + (best.kinds[.embedding] ?? 0)
            let total = (outside + (best.seconds - outside) * scale) * perToken
            var split = [String: Double]()
            for (kind, s) in best.kinds where s > 0 {
                split[kind.rawValue] = s * perToken * (kind == .head || kind == .embedding ? 1 : scale)
            }
            split["rest"] = total - split.values.reduce(0, +)
            let d = config.dim
            let blockBytes = Student.linearBytesInMemory(model) / run + 2 * 4 * d
            let weights = config.layers * blockBytes + 4 * config.vocabulary * d + 4 * d + 4 * d
            let cache = config.layers * 4 * d * (tokens + 1)
            return Result(method: layout.rawValue, threads: count, layers: config.layers, layersRun: run,
                          tokens: tokens, secondsPerToken: total, seconds: split, weightBytes: weights, cacheBytes: cache,
                          tokensPerSecond: 1 / total, bytesPerSecond: Double(weights + cache) / total,
                          readBytesPerSecond: read)
        }
    }

    /// The blocks' linear layers in `layout`, with random weights drawn quickly:
    /// the float model's at LLaMA-7B width is 200 million weights a block.
    func factory(_ layout: Layout) -> LinearFactory {
        let (experts, precision) = (self.experts, self.precision)
        return { name, m, n, std, rng in
            func scales(_ count: Int) -> [Float] { (0..<count).map { _ in std * (0.5 + Float(rng.uniform())) } }
            switch layout {
            case .fp:
                let layer = DenseLinear(name: name, inFeatures: m, outFeatures: n)
                let w = layer.weight.value.data, step = 2 * std / Float(UInt32.max)
                for i in 0..<(n * m) { w[i] = Float(UInt32(truncatingIfNeeded: rng.next())) * step - std }
                return layer
            case .sign, .onebit, .mos:
                let e = layout == .mos ? experts : 1
                let kernel = PackedMixtureOfScales(
                    signs: PackedSigns.random(rows: n, cols: m, using: &rng), experts: e,
                    router: layout == .mos ? scales(e * m) : nil, inputScale: layout == .sign ? nil : scales(e * m),
                    outputScale: scales(e * n))
                return PackedBinaryLinear(kernel, precision: precision)
            case .rtn2:
                let groups = n * ((m + 127) / 128)
                return PackedInt2Linear(PackedCodes2.random(rows: n, cols: m, groupSize: 128, scales: scales(groups),
                                                            zeros: (0..<groups).map { _ in Float(rng.below(4)) },
                                                            using: &rng), precision: precision)
            }
        }
    }
}
