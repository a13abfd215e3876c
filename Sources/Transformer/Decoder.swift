import Foundation
import Kernels

/// Runs a model one token at a time, as generation does, keeping each layer's
/// rotated keys and values of the tokens in its window: every linear layer
/// then multiplies a single vector (the packed kernels' GEMV path), and
/// attention reads the cache instead of recomputing the window.
///
/// When the window reaches the model's context, its older half is dropped and
/// the newer half fed again from position 0: every prediction then sees
/// between context / 2 and context tokens, at positions training used, and
/// the cost stays about two vector passes per token. (Keeping the cached keys
/// would not do: past the first layer they depend on the dropped tokens.)
public final class Decoder {
    public let model: TransformerModel
    public private(set) var window: [Int32] = []   // the tokens whose keys and values are cached, oldest first
    let keys: [Tensor], values: [Tensor]            // per layer [context, dim], row = position in the window
    let x, h, q, mix, mid, gate, up, m, scores, rstd: Tensor
    public let logits: Tensor                       // [vocabulary]: after the last `feed`

    public init(_ model: TransformerModel) {
        let c = model.config
        self.model = model
        keys = (0..<c.layers).map { _ in Tensor([c.context, c.dim]) }
        values = (0..<c.layers).map { _ in Tensor([c.context, c.dim]) }
        (x, h, q, mix, mid) = (Tensor([c.dim]), Tensor([c.dim]), Tensor([c.dim]), Tensor([c.dim]), Tensor([c.dim]))
        (gate, up, m) = (Tensor([c.ffnHidden]), Tensor([c.ffnHidden]), Tensor([c.ffnHidden]))
        scores = Tensor([c.heads, c.context]); rstd = Tensor([1])
        logits = Tensor([c.vocabulary])
    }

    /// Forgets the window: the next token starts a new sequence.
    public func reset() { window = [] }

    /// Feeds one token; `logits` then scores the token after it.
    public func feed(_ token: Int32) {
        let context = model.config.context
        if window.count == context {
            let kept = window.suffix(context / 2)
            window = []
            for t in kept { step(t) }
        }
        step(token)
    }

    func step(_ token: Int32) {
        let c = model.config, D = c.headDim, scale = 1 / Float(D).squareRoot()
        let position = window.count
        window.append(token)
        embeddingForward(x.data, [token], model.embedding.value.pointer, dim: c.dim)
        for (l, block) in model.blocks.enumerated() {
            let k = keys[l].data + position * c.dim, v = values[l].data + position * c.dim
            // One token: the MLP's norm reuses the attention's buffers.
            let buffers = BlockBuffers(h: h.data, rstd: rstd.data, q: q.data, k: k, v: v, mix: mix.data, mid: mid.data,
                                       h2: h.data, rstd2: rstd.data, gate: gate.data, up: up.data, m: m.data)
            block.forward(x.data, x.pointer, buffers, rows: 1, config: c) {
                StepProfile.measure(.rotary) {
                    model.rotary.rotate(q.data, position: position, dim: c.dim)
                    model.rotary.rotate(k, position: position, dim: c.dim)
                }
                let probe = StepProfile.probe(.attention); defer { probe.end() }
                // Heads split across threads, each with its own row of scores.
                parallelChunks(c.heads, minimumChunk: max(1, 4096 / (D * (position + 1)))) { heads in
                    for head in heads {
                        let qh = q.data + head * D, out = mix.data + head * D, p = scores.data + head * c.context
                        for s in 0...position {
                            p[s] = dotProduct(qh, keys[l].data + s * c.dim + head * D, count: D) * scale
                        }
                        causalSoftmax(p, count: position + 1, visible: position + 1)
                        out.update(repeating: 0, count: D)
                        for s in 0...position {
                            let vs = values[l].data + s * c.dim + head * D, ps = p[s]
                            for i in 0..<D { out[i] += ps * vs[i] }
                        }
                    }
                }
            }
        }
        rmsnormForward(h.data, rstd.data, x.pointer, model.finalNorm.value.pointer, rows: 1, dim: c.dim,
                       epsilon: c.normEpsilon)
        StepProfile.measure(.head) { model.head.forward(logits.data, h.pointer, rows: 1) }
    }
}
