import Randomness
import Foundation
import Kernels
import Corpus
import Transformer

/// BinaryMoS's linear layer: one bit per weight, and input and output scales
/// that a router mixes per token from E scaling experts.
///
///     G     = softmax(X · W_Rᵀ)                  [N, E]   soft over all experts (E = 1: G = 1, no router)
///     s_in  = G · S_in                           [N, m]   token-adaptive input scale
///     s_out = G · S_out                          [N, n]   token-adaptive output scale
///     Y     = ((X ⊙ s_in) · sign(W)ᵀ) ⊙ s_out    [N, n]
///
/// With one expert the scales are static and this is OneBit's layer. Training
/// keeps the latent W in full precision and passes gradients through the sign
/// with the straight-through estimator, ∂sign(w)/∂w ≈ 1{|w| ≤ 1}.
public final class MixtureOfScalesLinear: LinearLayer {
    public let latent: Parameter          // W [n, m]: only sign(W) is used forward
    public let router: Parameter?         // W_R [E, m], no bias; nil when E = 1
    public let inputScale: Parameter      // S_in [E, m]
    public let outputScale: Parameter     // S_out [E, n]
    public let experts: Int
    public let inFeatures: Int, outFeatures: Int
    public var parameters: [Parameter] { [latent] + (router.map { [$0] } ?? []) + [inputScale, outputScale] }

    // Saved by forward for backward (capacity rows each); signs refreshed every forward.
    private var capacity = 0
    private var gates = Tensor([0]), sIn = Tensor([0]), sOut = Tensor([0]), scaledX = Tensor([0]), product = Tensor([0])
    private let signs: Tensor                   // sign(W) [n, m]
    private let workspace: Workspace

    /// A layer of `experts` experts, every expert set to the same scales;
    /// `workspace` is scratch shared with the model's other layers.
    public init(name: String, inFeatures m: Int, outFeatures n: Int, experts: Int, workspace: Workspace) {
        precondition(experts >= 1)
        self.experts = experts
        inFeatures = m; outFeatures = n
        latent = Parameter(name + ".weight", [n, m], decays: false)
        router = experts > 1 ? Parameter(name + ".router", [experts, m], decays: false) : nil
        inputScale = Parameter(name + ".input_scale", [experts, m], decays: false)
        outputScale = Parameter(name + ".output_scale", [experts, n], decays: false)
        signs = Tensor([n, m])
        self.workspace = workspace
    }

    // region: initialization
    /// BinaryMoS's initialisation from a trained layer: latent W = the weight;
    /// every expert's scales from the rank-1 fit of |W| (S_out = u·√σ₁,
    /// S_in = v·√σ₁); the router small and random, uniform in ±1/√m as a
    /// default-initialised linear layer of the public code. At this point the
    /// layer equals OneBit's, since the gates sum to 1.
    public convenience init(initializingFrom dense: DenseLinear, experts: Int, workspace: Workspace,
                            rng: inout SeededGenerator) {
        let w = dense.weight
        self.init(name: String(w.name.dropLast(".weight".count)), inFeatures: dense.inFeatures,
                  outFeatures: dense.outFeatures, experts: experts, workspace: workspace)
        latent.value.copy(from: w.value)
        let fit = RankOneScales(absoluteOf: w.value.pointer, rows: outFeatures, cols: inFeatures)
        for e in 0..<experts {
            for i in 0..<inFeatures { inputScale.value[e * inFeatures + i] = fit.inputScale[i] }
            for o in 0..<outFeatures { outputScale.value[e * outFeatures + o] = fit.outputScale[o] }
        }
        if let router {
            let bound = 1 / Float(inFeatures).squareRoot()
            for i in 0..<router.value.count { router.value[i] = Float(2 * rng.uniform() - 1) * bound }
        }
    }
    // end region: initialization

    private func reserve(_ rows: Int) {
        guard rows > capacity else { return }
        capacity = rows
        gates = Tensor([rows, experts]); sIn = Tensor([rows, inFeatures]); sOut = Tensor([rows, outFeatures])
        scaledX = Tensor([rows, inFeatures]); product = Tensor([rows, outFeatures])
    }

    /// G [rows, E] of the last forward pass (the router's gate values per token).
    public var lastGates: ConstFloatPointer { gates.pointer }

    // MARK: Forward

    // region: forward
    public func forward(_ y: FloatPointer, _ x: ConstFloatPointer, rows N: Int) {
        reserve(N)
        let (m, n, E) = (inFeatures, outFeatures, experts)
        let w = latent.value.data, b = signs.data
        parallelChunks(n * m, minimumChunk: 16_384) { r in for i in r { b[i] = w[i] < 0 ? -1 : 1 } }
        // region: router
        // G = softmax(X · W_Rᵀ)
        if let router {
            matmulForward(gates.data, x, router.value.pointer, rows: N, inFeatures: m, outFeatures: E)
            softmaxRows(gates.data, rows: N, width: E)
        } else {
            gates.data.update(repeating: 1, count: N)
        }
        // s_in = G · S_in, s_out = G · S_out
        mixScales(sIn.data, gates.pointer, inputScale.value.pointer, rows: N, experts: E, width: m)
        mixScales(sOut.data, gates.pointer, outputScale.value.pointer, rows: N, experts: E, width: n)
        // end region: router
        // Y = ((X ⊙ s_in) · Bᵀ) ⊙ s_out
        multiply(scaledX.data, x, sIn.pointer, count: N * m)
        matmulForward(product.data, scaledX.pointer, signs.pointer, rows: N, inFeatures: m, outFeatures: n)
        multiply(y, product.pointer, sOut.pointer, count: N * n)
    }
    // end region: forward

    // MARK: Backward

    // region: backward
    public func backward(_ dx: FloatPointer, _ dy: ConstFloatPointer, _ x: ConstFloatPointer, rows N: Int,
                         accumulate: Bool) {
        precondition(N <= capacity, "backward without a matching forward")
        let (m, n, E) = (inFeatures, outFeatures, experts)
        let wideOut = workspace.buffer(0, count: N * n), wideIn = workspace.buffer(1, count: N * m)
        let dG = workspace.buffer(2, count: N * E)
        // ∂s_out = dY ⊙ z; it reaches S_out through G and the gates through S_out.
        multiply(wideOut, dy, product.pointer, count: N * n)
        matmulBackwardWeight(outputScale.grad.data, gates.pointer, wideOut, rows: N, inFeatures: n, outFeatures: E)
        if router != nil {
            matmulForward(dG, wideOut, outputScale.value.pointer, rows: N, inFeatures: n, outFeatures: E)
        }
        // ∂z = dY ⊙ s_out;  ∂(X ⊙ s_in) = ∂z · B;  ∂B = ∂zᵀ · (X ⊙ s_in), through the STE window.
        multiply(wideOut, dy, sOut.pointer, count: N * n)
        matmulBackwardInput(wideIn, wideOut, signs.pointer, rows: N, inFeatures: m, outFeatures: n, accumulate: false)
        if latent.trainable {
            let dB = workspace.buffer(3, count: n * m)
            dB.update(repeating: 0, count: n * m)
            matmulBackwardWeight(dB, wideOut, scaledX.pointer, rows: N, inFeatures: m, outFeatures: n)
            let w = latent.value.pointer, g = latent.grad.data
            parallelChunks(n * m, minimumChunk: 16_384) { r in
                for i in r where abs(w[i]) <= 1 { g[i] += dB[i] }
            }
        }
        // ∂X = ∂(X ⊙ s_in) ⊙ s_in;  ∂s_in = ∂(X ⊙ s_in) ⊙ X, which reaches S_in and the gates.
        let s = sIn.data
        parallelChunks(N * m, minimumChunk: 16_384) { r in
            for i in r {
                let d = wideIn[i]
                dx[i] = (accumulate ? dx[i] : 0) + d * s[i]
                wideIn[i] = d * x[i]
            }
        }
        matmulBackwardWeight(inputScale.grad.data, gates.pointer, wideIn, rows: N, inFeatures: m, outFeatures: E)
        guard let router else { return }
        matmulForward(dG, wideIn, inputScale.value.pointer, rows: N, inFeatures: m, outFeatures: E, accumulate: true)
        // Through the softmax: ∂logits = G ⊙ (∂G − Σ_e G·∂G), then the router's product.
        softmaxBackwardRows(dG, gates.pointer, rows: N, width: E)
        if router.trainable {
            matmulBackwardWeight(router.grad.data, dG, x, rows: N, inFeatures: m, outFeatures: E)
        }
        matmulBackwardInput(dx, dG, router.value.pointer, rows: N, inFeatures: m, outFeatures: E, accumulate: true)
    }
    // end region: backward
}

/// Scratch buffers shared by the layers of one model: layers run one at a time,
/// so one set serves them all. Not for use from two models at once.
public final class Workspace {
    private var buffers: [Int: (pointer: FloatPointer, count: Int)] = [:]
    public init() {}
    deinit { for b in buffers.values { b.pointer.deallocate() } }

    /// Buffer number `slot`, holding at least `count` floats (contents undefined).
    public func buffer(_ slot: Int, count: Int) -> FloatPointer {
        if let b = buffers[slot], b.count >= count { return b.pointer }
        buffers[slot]?.pointer.deallocate()
        let p = FloatPointer.allocate(capacity: max(count, 1))
        buffers[slot] = (p, count)
        return p
    }
}

// MARK: - Small pieces of the layer

/// out[N, width] = G[N, E] · S[E, width]: each token's mixture of the experts' scales.
func mixScales(_ out: FloatPointer, _ gates: ConstFloatPointer, _ scales: ConstFloatPointer,
               rows: Int, experts: Int, width: Int) {
    let probe = StepProfile.probe(.scaleMixing); defer { probe.end() }
    matmulBackwardInput(out, gates, scales, rows: rows, inFeatures: width, outFeatures: experts, accumulate: false)
}

/// out = a ⊙ b, elementwise.
func multiply(_ out: FloatPointer, _ a: ConstFloatPointer, _ b: ConstFloatPointer, count: Int) {
    let probe = StepProfile.probe(.scaleMixing); defer { probe.end() }
    parallelChunks(count, minimumChunk: 16_384) { r in for i in r { out[i] = a[i] * b[i] } }
}

/// Softmax of each row of [rows, width], in place.
func softmaxRows(_ z: FloatPointer, rows: Int, width: Int) {
    let probe = StepProfile.probe(.router); defer { probe.end() }
    parallelChunks(rows, minimumChunk: 256) { r in
        for row in r { softmax(z + row * width, count: width) }
    }
}

/// In place: ∂p → ∂z for p = softmax(z) row by row: ∂z = p ⊙ (∂p − Σ p·∂p).
func softmaxBackwardRows(_ d: FloatPointer, _ p: ConstFloatPointer, rows: Int, width: Int) {
    let probe = StepProfile.probe(.router); defer { probe.end() }
    parallelChunks(rows, minimumChunk: 256) { r in
        for row in r { softmaxBackward(d + row * width, p + row * width, count: width) }
    }
}
