import Files
import Foundation
import Kernels
import Corpus
import Transformer

/// Gate statistics of one BinaryMoS layer over a set of tokens.
public struct RouterSnapshot: Equatable, Sendable {
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

/// The gate statistics a distillation recorded, kept in the student's
/// checkpoint as tensors (so Python's safetensors reads them as arrays):
///
///     router_history.step, .block, .layer   I32 [k]   (layer: index in Block.linearNames)
///     router_history.entropy                F32 [k]
///     router_history.usage                  F32 [k, E]
public struct RouterHistory: Equatable, Sendable {
    public static let prefix = "router_history."
    public var snapshots: [RouterSnapshot]

    public init(_ snapshots: [RouterSnapshot]) { self.snapshots = snapshots }

    func tensors() -> [(name: String, entry: Safetensors.Entry)] {
        let k = snapshots.count, experts = snapshots.first?.usage.count ?? 0
        let ints = { (values: [Int]) in Safetensors.Entry.ints(values.map(Int32.init), shape: [k]) }
        return [(Self.prefix + "step", ints(snapshots.map(\.step))),
                (Self.prefix + "block", ints(snapshots.map(\.block))),
                (Self.prefix + "layer", ints(snapshots.map { Block.linearNames.firstIndex(of: $0.layer)! })),
                (Self.prefix + "entropy", floats(snapshots.map { Float($0.normalizedEntropy) }, shape: [k])),
                (Self.prefix + "usage", floats(snapshots.flatMap { $0.usage.map(Float.init) }, shape: [k, experts]))]
    }

    private func floats(_ values: [Float], shape: [Int]) -> Safetensors.Entry {
        values.withUnsafeBufferPointer { .floats($0, shape: shape) }
    }

    /// The history in a checkpoint, nil when it has none.
    public init?(_ file: Safetensors) throws {
        guard let shape = file.entries[Self.prefix + "usage"]?.shape, shape.count == 2 else { return nil }
        let (k, experts) = (shape[0], shape[1])
        let step = try file.ints(Self.prefix + "step", shape: [k]), block = try file.ints(Self.prefix + "block", shape: [k])
        let layer = try file.ints(Self.prefix + "layer", shape: [k])
        let entropy = try file.floats(Self.prefix + "entropy", shape: [k]), usage = try file.floats(Self.prefix + "usage", shape: shape)
        guard layer.allSatisfy({ Block.linearNames.indices.contains(Int($0)) }) else {
            throw FileError(path: file.path, problem: "has a router history naming a layer that does not exist")
        }
        snapshots = (0..<k).map { i in
            RouterSnapshot(step: Int(step[i]), block: Int(block[i]), layer: Block.linearNames[Int(layer[i])],
                           normalizedEntropy: Double(entropy[i]),
                           usage: usage[(i * experts)..<((i + 1) * experts)].map(Double.init))
        }
    }
}
