import Randomness
import Foundation
import Kernels
import Corpus

/// One decoder block: x += attention(norm(x)); x += mlp(norm(x)).
public final class Block {
    public let attentionNorm: Parameter     // [dim]
    public let mlpNorm: Parameter           // [dim]
    public var q, k, v, o: LinearLayer      // [dim, dim] each
    public var gate, up, down: LinearLayer  // [f, dim], [f, dim], [dim, f]

    init(index l: Int, config c: ModelConfig, rng: inout SeededGenerator, linear: LinearFactory) {
        let p = "layers.\(l)."
        attentionNorm = Parameter(p + "attention_norm", [c.dim], decays: false)
        mlpNorm = Parameter(p + "mlp_norm", [c.dim], decays: false)
        for g in [attentionNorm, mlpNorm] { g.value.data.update(repeating: 1, count: c.dim) }
        // GPT-2's init: projections that write into the residual stream are
        // scaled down by √(2·layers) so the stream's variance stays put.
        let std: Float = 0.02, residualStd = std / Float(2 * c.layers).squareRoot()
        func dense(_ name: String, _ inF: Int, _ outF: Int, _ s: Float) -> LinearLayer {
            linear(p + name, inF, outF, s, &rng)
        }
        q = dense("q", c.dim, c.dim, std); k = dense("k", c.dim, c.dim, std)
        v = dense("v", c.dim, c.dim, std); o = dense("o", c.dim, c.dim, residualStd)
        gate = dense("gate", c.dim, c.ffnHidden, std); up = dense("up", c.dim, c.ffnHidden, std)
        down = dense("down", c.ffnHidden, c.dim, residualStd)
    }

    /// The seven linear layers' short names, in the paper's order.
    public static let linearNames = ["q", "k", "v", "o", "gate", "up", "down"]

    /// The seven linear layers, in the paper's order, with their short names.
    public var linears: [(name: String, layer: LinearLayer)] {
        Array(zip(Self.linearNames, [q, k, v, o, gate, up, down]))
    }

    public var parameters: [Parameter] {
        [attentionNorm, mlpNorm] + linears.flatMap { $0.layer.parameters }
    }

    /// Puts `layer` in place of the linear layer named `name` (q, k, v, o, gate, up or down).
    public func replace(_ name: String, with layer: LinearLayer) {
        switch name {
        case "q": q = layer
        case "k": k = layer
        case "v": v = layer
        case "o": o = layer
        case "gate": gate = layer
        case "up": up = layer
        case "down": down = layer
        default: preconditionFailure("no linear layer named \(name)")
        }
    }
}

/// Where one block's forward pass reads and writes, for `rows` rows: the
/// normed inputs and their 1/rms, q k v, the heads' mix, the mid-block
/// residual, and the MLP's gate, up and product.
struct BlockBuffers {
    var h, rstd, q, k, v, mix, mid, h2, rstd2, gate, up, m: FloatPointer
}

extension Block {
    /// out = block(x), the one definition of a block's order of operations:
    ///
    ///     mid = x + o(attention(q(h), k(h), v(h))),   h = norm(x)
    ///     out = mid + down(silu(gate(h2)) ⊙ up(h2)),   h2 = norm(mid)
    ///
    /// `attend` rotates q and k and writes the heads' mix from q, k, v:
    /// training attends within its windows, the decoder over its cache.
    /// `out` may be `x`.
    func forward(_ out: FloatPointer, _ x: ConstFloatPointer, _ b: BlockBuffers, rows n: Int, config c: ModelConfig,
                 attend: () -> Void) {
        rmsnormForward(b.h, b.rstd, x, attentionNorm.value.pointer, rows: n, dim: c.dim, epsilon: c.normEpsilon)
        q.forward(b.q, b.h, rows: n)
        k.forward(b.k, b.h, rows: n)
        v.forward(b.v, b.h, rows: n)
        attend()
        o.forward(b.mid, b.mix, rows: n)
        add(b.mid, x, count: n * c.dim)
        rmsnormForward(b.h2, b.rstd2, b.mid, mlpNorm.value.pointer, rows: n, dim: c.dim, epsilon: c.normEpsilon)
        gate.forward(b.gate, b.h2, rows: n)
        up.forward(b.up, b.h2, rows: n)
        swigluForward(b.m, b.gate, b.up, count: n * c.ffnHidden)
        down.forward(out, b.m, rows: n)
        add(out, b.mid, count: n * c.dim)
    }
}

/// What the forward pass keeps for the backward pass, for batches up to one shape.
/// Per block: the block input x, normed inputs h/h2 and their 1/rms, q k v,
/// the attention probabilities and mix, the mid-block residual, gate/up/m.
final class Activations {
    /// Rows of the pass in them now, at most `batches` sequences of `length`:
    /// a smaller batch of the same length reuses them, so that validation's
    /// batches of 16 between training steps of 32 no longer allocate, and
    /// fault in, all of them twice per check.
    var rows: Int
    let batches: Int, length: Int
    let residual: [Tensor]          // [layers + 1] × [rows, dim]: input of each block, then the last output
    let mid: [Tensor]               // x after attention, before the MLP
    let h, h2, rstd, rstd2, q, k, v, probs, mix, gate, up, m: [Tensor]
    let final, finalRstd, logits, losses: Tensor
    // Backward scratch, shared by the blocks.
    let dx, dh, dq, dk, dv, dmix, dm, dgate, dup: Tensor

    init(config c: ModelConfig, batch: Int, length: Int) {
        let n = batch * length
        rows = n; batches = batch; self.length = length
        func many(_ shape: [Int]) -> [Tensor] { (0..<c.layers).map { _ in Tensor(shape) } }
        residual = (0...c.layers).map { _ in Tensor([n, c.dim]) }
        mid = many([n, c.dim]); h = many([n, c.dim]); h2 = many([n, c.dim])
        rstd = many([n]); rstd2 = many([n])
        q = many([n, c.dim]); k = many([n, c.dim]); v = many([n, c.dim])
        probs = many([batch, c.heads, length, length]); mix = many([n, c.dim])
        gate = many([n, c.ffnHidden]); up = many([n, c.ffnHidden]); m = many([n, c.ffnHidden])
        final = Tensor([n, c.dim]); finalRstd = Tensor([n])
        logits = Tensor([n, c.vocabulary]); losses = Tensor([n])
        dx = Tensor([n, c.dim]); dh = Tensor([n, c.dim]); dq = Tensor([n, c.dim]); dk = Tensor([n, c.dim])
        dv = Tensor([n, c.dim]); dmix = Tensor([n, c.dim])
        dm = Tensor([n, c.ffnHidden]); dgate = Tensor([n, c.ffnHidden]); dup = Tensor([n, c.ffnHidden])
    }
}

/// Bytes that training at `batch` sequences a step holds: what `Activations`
/// allocates, and the parameters with their gradients and AdamW's two
/// moments. In Double, so that absurd sizes are counted rather than overflow.
public func trainingBytes(_ c: ModelConfig, batch: Int) -> Double {
    let n = Double(batch) * Double(c.context), (dim, ffn, layers) = (Double(c.dim), Double(c.ffnHidden), Double(c.layers))
    let perRow = (layers + 1) * dim + layers * (7 * dim + 2 + 3 * ffn) + dim + 2 + Double(c.vocabulary) + 6 * dim + 3 * ffn
    let probabilities = layers * Double(batch) * Double(c.heads) * Double(c.context) * Double(c.context)
    return 4 * (n * perRow + probabilities + 4 * Double(c.parameterCount))
}

/// Makes one of a block's linear layers from its name ("layers.0.q"), in and
/// out features, and the standard deviation its weights start at.
public typealias LinearFactory = (_ name: String, _ inFeatures: Int, _ outFeatures: Int, _ std: Float,
                                  _ rng: inout SeededGenerator) -> LinearLayer

/// The whole decoder: embedding → blocks → final norm → head.
public final class TransformerModel {
    public let config: ModelConfig
    public let embedding: Parameter     // [vocabulary, dim]
    public var blocks: [Block]
    public let finalNorm: Parameter     // [dim]
    public let head: DenseLinear        // [vocabulary, dim], not tied to the embedding
    let rotary: Rotary

    private var saved: Activations?
    private var batchShape = (batch: 0, length: 0)
    private var tokens: [Int32] = [], targets: [Int32] = []

    /// Full-precision layers drawn from Normal(0, std), the model training starts from.
    public static let denseLayers: LinearFactory = { name, inFeatures, outFeatures, std, rng in
        let layer = DenseLinear(name: name, inFeatures: inFeatures, outFeatures: outFeatures)
        layer.initialize(std: std, rng: &rng)
        return layer
    }

    /// A model with random weights; `linear` makes the blocks' linear layers
    /// (a benchmark may make them packed, at shapes whose float weights would
    /// not fit in memory).
    public init(config c: ModelConfig, seed: UInt64, linear: LinearFactory = denseLayers) {
        precondition(c.problems.isEmpty, c.problems.joined(separator: "; "))
        config = c
        var rng = SeededGenerator(seed: seed)
        embedding = Parameter("embedding", [c.vocabulary, c.dim], decays: true)
        for i in 0..<embedding.value.count { embedding.value[i] = rng.normal() * 0.02 }
        blocks = (0..<c.layers).map { Block(index: $0, config: c, rng: &rng, linear: linear) }
        finalNorm = Parameter("final_norm", [c.dim], decays: false)
        finalNorm.value.data.update(repeating: 1, count: c.dim)
        head = DenseLinear(name: "head", inFeatures: c.dim, outFeatures: c.vocabulary)
        head.initialize(std: 0.02, rng: &rng)
        rotary = Rotary(headDim: c.headDim, context: c.context, base: c.ropeBase)
    }

    public var parameters: [Parameter] {
        [embedding] + blocks.flatMap(\.parameters) + [finalNorm] + head.parameters
    }

    public func zeroGradients() { for p in parameters { p.grad.zero() } }

    // MARK: Forward

    /// Runs the model on `tokens` [batch, length] and returns the mean next-token
    /// loss in nats against `targets`. Keeps the activations for `backward()`.
    @discardableResult
    public func forward(tokens: [Int32], targets: [Int32], batch: Int, length: Int) -> Float {
        precondition(tokens.count == batch * length && targets.count == tokens.count)
        precondition(length <= config.context, "sequence longer than the model's context")
        let c = config, n = batch * length
        if saved == nil || saved!.length != length || saved!.batches < batch {
            saved = Activations(config: c, batch: batch, length: length)
        }
        let a = saved!
        a.rows = n
        batchShape = (batch, length)
        self.tokens = tokens; self.targets = targets
        let shape = AttentionShape(batch: batch, length: length, heads: c.heads, headDim: c.headDim)

        embeddingForward(a.residual[0].data, tokens, embedding.value.pointer, dim: c.dim)
        for (l, block) in blocks.enumerated() {
            let buffers = BlockBuffers(h: a.h[l].data, rstd: a.rstd[l].data, q: a.q[l].data, k: a.k[l].data, v: a.v[l].data,
                                       mix: a.mix[l].data, mid: a.mid[l].data, h2: a.h2[l].data, rstd2: a.rstd2[l].data,
                                       gate: a.gate[l].data, up: a.up[l].data, m: a.m[l].data)
            block.forward(a.residual[l + 1].data, a.residual[l].pointer, buffers, rows: n, config: c) {
                rotary.apply(a.q[l].data, batch: batch, length: length, dim: c.dim)
                rotary.apply(a.k[l].data, batch: batch, length: length, dim: c.dim)
                attentionForward(a.mix[l].data, a.probs[l].data, a.q[l].pointer, a.k[l].pointer, a.v[l].pointer, shape)
            }
        }
        rmsnormForward(a.final.data, a.finalRstd.data, a.residual[c.layers].pointer, finalNorm.value.pointer,
                       rows: n, dim: c.dim, epsilon: c.normEpsilon)
        head.forward(a.logits.data, a.final.pointer, rows: n)
        crossEntropyForward(a.logits.data, a.losses.data, targets, rows: n, vocabulary: c.vocabulary)
        var total: Double = 0
        for r in 0..<n { total += Double(a.losses[r]) }
        return Float(total / Double(n))
    }

    /// Per-token losses (nats) of the last forward pass, [batch · length].
    public var lastLosses: [Float] { saved.map { Array(UnsafeBufferPointer(start: $0.losses.data, count: $0.rows)) } ?? [] }

    /// Next-byte probabilities of the last forward pass, [batch · length, vocabulary].
    /// Valid until `backward()`, which overwrites them with gradients.
    public var lastProbabilities: ConstFloatPointer? { saved?.logits.pointer }

    /// The residual stream after block l (l = 0..<layers) of the last forward pass.
    public func hiddenState(after l: Int) -> ConstFloatPointer? { saved?.residual[l + 1].pointer }

    /// The final norm's output of the last forward pass, [batch · length, dim].
    public var finalHidden: ConstFloatPointer? { saved?.final.pointer }

    /// The distillation targets H_l of the last forward pass: block l's output
    /// for l < layers − 1, and for the last block its output after the final norm.
    public func distillationHidden(_ l: Int) -> ConstFloatPointer? {
        l == config.layers - 1 ? finalHidden : hiddenState(after: l)
    }

    /// What each of block l's linear layers read in the last forward pass,
    /// [batch · length, in] (calibration data for post-training quantization).
    public func linearInputs(block l: Int) -> [String: ConstFloatPointer] {
        guard let a = saved else { return [:] }
        return ["q": a.h[l].pointer, "k": a.h[l].pointer, "v": a.h[l].pointer, "o": a.mix[l].pointer,
                "gate": a.h2[l].pointer, "up": a.h2[l].pointer, "down": a.m[l].pointer]
    }

    /// Rows of the last forward pass (batch · length).
    public var lastRows: Int { saved?.rows ?? 0 }

    // MARK: Backward

    /// Adds ∂(mean loss)/∂θ of the last forward pass into every trainable
    /// parameter's gradient. Call `zeroGradients()` first for a fresh step.
    public func backward() {
        guard let a = saved else { preconditionFailure("backward() before forward()") }
        crossEntropyBackward(a.logits.data, targets, rows: a.rows, vocabulary: config.vocabulary,
                             scale: 1 / Float(a.rows))
        backwardFromLogits()
    }

    /// Where a loss other than next-token cross-entropy writes ∂L/∂logits
    /// [batch · length, vocabulary] before `backwardFromLogits`. It holds the
    /// probabilities of the last forward pass until then.
    public var logitGradient: FloatPointer? { saved?.logits.data }

    /// The backward pass from ∂L/∂logits in `logitGradient`. `hiddenGradient(l)`,
    /// when given, is a gradient arriving straight at `distillationHidden(l)`
    /// (distillation's hidden-state loss); it is added on the way down.
    public func backwardFromLogits(hiddenGradient: ((Int) -> ConstFloatPointer?)? = nil) {
        guard let a = saved else { preconditionFailure("backward() before forward()") }
        let c = config, n = a.rows, (batch, length) = batchShape
        let shape = AttentionShape(batch: batch, length: length, heads: c.heads, headDim: c.headDim)

        head.backward(a.dh.data, a.logits.pointer, a.final.pointer, rows: n, accumulate: false)
        if let g = hiddenGradient?(c.layers - 1) { add(a.dh.data, g, count: n * c.dim) }
        a.dx.zero()
        rmsnormBackward(a.dx.data, finalNorm.grad.data, a.dh.pointer, a.residual[c.layers].pointer,
                        finalNorm.value.pointer, a.finalRstd.pointer, rows: n, dim: c.dim)
        // a.dx now holds ∂L/∂(output of the last block); walk the blocks backwards.
        for l in stride(from: c.layers - 1, through: 0, by: -1) {
            let block = blocks[l]
            if l < c.layers - 1, let g = hiddenGradient?(l) { add(a.dx.data, g, count: n * c.dim) }
            // MLP half. out = mid + down(m): ∂mid gets dx directly plus the path through the norm.
            block.down.backward(a.dm.data, a.dx.pointer, a.m[l].pointer, rows: n, accumulate: false)
            swigluBackward(a.dgate.data, a.dup.data, a.dm.pointer, a.gate[l].pointer, a.up[l].pointer,
                           count: n * c.ffnHidden)
            block.gate.backward(a.dh.data, a.dgate.pointer, a.h2[l].pointer, rows: n, accumulate: false)
            block.up.backward(a.dh.data, a.dup.pointer, a.h2[l].pointer, rows: n, accumulate: true)
            rmsnormBackward(a.dx.data, block.mlpNorm.grad.data, a.dh.pointer, a.mid[l].pointer,
                            block.mlpNorm.value.pointer, a.rstd2[l].pointer, rows: n, dim: c.dim)
            // Attention half. mid = x + o(mix): same pattern.
            block.o.backward(a.dmix.data, a.dx.pointer, a.mix[l].pointer, rows: n, accumulate: false)
            attentionBackward(a.dq.data, a.dk.data, a.dv.data, a.dmix.pointer, a.probs[l].pointer,
                              a.q[l].pointer, a.k[l].pointer, a.v[l].pointer, shape)
            rotary.apply(a.dq.data, batch: batch, length: length, dim: c.dim, inverse: true)
            rotary.apply(a.dk.data, batch: batch, length: length, dim: c.dim, inverse: true)
            block.q.backward(a.dh.data, a.dq.pointer, a.h[l].pointer, rows: n, accumulate: false)
            block.k.backward(a.dh.data, a.dk.pointer, a.h[l].pointer, rows: n, accumulate: true)
            block.v.backward(a.dh.data, a.dv.pointer, a.h[l].pointer, rows: n, accumulate: true)
            rmsnormBackward(a.dx.data, block.attentionNorm.grad.data, a.dh.pointer, a.residual[l].pointer,
                            block.attentionNorm.value.pointer, a.rstd[l].pointer, rows: n, dim: c.dim)
        }
        if embedding.trainable { embeddingBackward(embedding.grad.data, a.dx.pointer, tokens, dim: c.dim) }
    }
}

/// y += x, elementwise.
public func add(_ y: FloatPointer, _ x: ConstFloatPointer, count: Int) {
    let probe = StepProfile.probe(.residual); defer { probe.end() }
    parallelChunks(count, minimumChunk: 8192) { r in for i in r { y[i] += x[i] } }
}
