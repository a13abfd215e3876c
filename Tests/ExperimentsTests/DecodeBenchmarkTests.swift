import XCTest
import Foundation
import Kernels
import Transformer
@testable import Experiments

final class DecodeBenchmarkTests: XCTestCase {
    /// Each layout decodes; the bytes it reports match a count from the shapes
    /// alone, its kinds of work add up to its time, and the float model run
    /// shallower than the shape is scaled to the shape's depth.
    func testLayoutsDecodeAndAccountForTheirBytes() {
        var config = DecodeBenchmark.shapes["compact"]!
        config.layers = 3
        var bench = DecodeBenchmark(config: config)
        (bench.tokens, bench.rounds, bench.floatLayers, bench.experts) = (6, 1, 2, 4)
        let (d, f, v, L, E) = (config.dim, config.ffnHidden, config.vocabulary, config.layers, 4)
        let shapes = [(d, d), (d, d), (d, d), (d, d), (d, f), (d, f), (f, d)]   // (in, out) of q k v o gate up down
        func perBlock(_ bytes: (Int, Int) -> Int) -> Int { shapes.reduce(0) { $0 + bytes($1.0, $1.1) } }
        let linear: [DecodeBenchmark.Layout: Int] = [
            .fp: perBlock { 4 * $0 * $1 },
            .sign: perBlock { $0 * $1 / 8 + 2 * $1 },
            .onebit: perBlock { $0 * $1 / 8 + 2 * ($0 + $1) },
            .mos: perBlock { $0 * $1 / 8 + 2 * E * (2 * $0 + $1) },
            .rtn2: perBlock { $0 * $1 / 4 + 4 * $1 * ($0 / 128 + ($0 % 128 == 0 ? 0 : 1)) },
        ]
        let results = bench.run(DecodeBenchmark.Layout.allCases)
        XCTAssertEqual(results.map(\.method), DecodeBenchmark.Layout.allCases.map(\.rawValue))
        for (layout, r) in zip(DecodeBenchmark.Layout.allCases, results) {
            XCTAssertEqual(r.layers, L)
            XCTAssertEqual(r.layersRun, layout == .fp ? 2 : L, layout.rawValue)
            let norms = L * 2 * 4 * d + 4 * d
            XCTAssertEqual(r.weightBytes, L * linear[layout]! + norms + 4 * v * d + 4 * d, layout.rawValue)
            XCTAssertEqual(r.cacheBytes, L * 2 * 4 * d * (1 + 2 + 3 + 4 + 5 + 6) / 6, layout.rawValue)
            XCTAssertGreaterThan(r.secondsPerToken, 0)
            XCTAssertEqual(r.grouped.reduce(0) { $0 + $1.seconds }, r.secondsPerToken, accuracy: 1e-12)
            XCTAssertGreaterThan(r.seconds[StepProfile.Kind.linearForward.rawValue] ?? 0, 0, layout.rawValue)
            XCTAssertEqual(r.seconds[StepProfile.Kind.router.rawValue] ?? 0 > 0, layout == .mos, layout.rawValue)
        }
    }

    /// The random packed model computes what its layers say whichever way it
    /// runs: decoding token by token (GEMV paths, KV cache) gives the
    /// probabilities of a forward pass over the whole sequence (GEMM paths).
    func testPackedModelDecodesAsItsForwardPass() {
        var config = DecodeBenchmark.shapes["compact"]!
        config.layers = 2; config.context = 5
        for layout in [DecodeBenchmark.Layout.mos, .rtn2] {
            let model = TransformerModel(config: config, seed: 3, linear: DecodeBenchmark(config: config).factory(layout))
            let tokens: [Int32] = [5, 17, 200, 3, 99]
            model.forward(tokens: tokens, targets: tokens, batch: 1, length: tokens.count)
            let decoder = Decoder(model)
            for (t, token) in tokens.enumerated() {
                decoder.feed(token)
                let full = model.lastProbabilities! + t * config.vocabulary
                let top = (0..<config.vocabulary).map { decoder.logits[$0] }.max()!
                let e = (0..<config.vocabulary).map { exp(Double(decoder.logits[$0] - top)) }, total = e.reduce(0, +)
                for i in 0..<config.vocabulary {
                    XCTAssertEqual(e[i] / total, Double(full[i]), accuracy: 1e-6 + 1e-4 * Double(full[i]),
                                   "\(layout.rawValue): token \(t), byte \(i)")
                }
            }
        }
    }
}
