import Foundation
import Kernels
import Corpus
import Transformer

/// Gate statistics of one BinaryMoS layer over a set of tokens.
public struct RouterSnapshot: Sendable {
    public var step: Int
    public var block: Int
    public var layer: String
    /// Mean over tokens of the gate entropy −Σ G_e ln G_e, divided by ln E:
    /// 1 when every token mixes the experts equally, 0 when each picks one.
    public var normalizedEntropy: Double
    /// Mean gate of each expert over the tokens (sums to 1).
    public var usage: [Double]
}

/// Reads the gates of every BinaryMoS layer after a forward pass over a few
/// fixed validation windows (the same windows every time, so snapshots taken
/// during training are comparable).
public struct RouterProbe {
    let inputs: [Int32], targets: [Int32], batch: Int, length: Int

    public init(corpus: Corpus, length: Int, windows: Int = 4) {
        let starts = corpus.validationWindows(length: length, limit: windows)
        (inputs, targets) = corpus.windows(at: starts, length: length)
        batch = starts.count
        self.length = length
    }

    public func snapshot(_ model: TransformerModel, step: Int) -> [RouterSnapshot] {
        model.forward(tokens: inputs, targets: targets, batch: batch, length: length)
        return routerSnapshots(model, step: step)
    }
}

/// The gate statistics of the last forward pass, for every layer with a router.
public func routerSnapshots(_ model: TransformerModel, step: Int) -> [RouterSnapshot] {
    let rows = model.lastRows
    var result: [RouterSnapshot] = []
    for (l, block) in model.blocks.enumerated() {
        for (name, layer) in block.linears {
            guard let mos = layer as? MixtureOfScalesLinear, mos.experts > 1 else { continue }
            let E = mos.experts, g = mos.lastGates
            var entropy = 0.0, usage = [Double](repeating: 0, count: E)
            for r in 0..<rows {
                for e in 0..<E {
                    let p = Double(g[r * E + e])
                    usage[e] += p
                    if p > 0 { entropy -= p * log(p) }
                }
            }
            result.append(RouterSnapshot(step: step, block: l, layer: name,
                                         normalizedEntropy: entropy / Double(rows) / log(Double(E)),
                                         usage: usage.map { $0 / Double(rows) }))
        }
    }
    return result
}
