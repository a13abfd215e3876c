import Randomness
import Foundation
import Kernels
import Corpus
import Transformer

/// What the distillation loop reports after each step.
public struct DistillationStep: Sendable {
    public var step: Int, steps: Int
    public var loss: Float               // L_KD + α·Σ MSE
    public var divergence: Float         // L_KD: KL(teacher ‖ student) per sequence, nats
    public var hiddenError: Float        // Σ_l MSE(H_l)
    public var learningRate: Float
    public var seconds: Double
    public var tokensPerSecond: Double
}

/// Quantization-aware training of a student against its teacher, as in
/// BinaryMoS (after OneBit):
///
///     L = L_KD + α · Σ_l MSE(H_l(teacher), H_l(student)),   α = 10
///
/// L_KD is the KL divergence from the teacher's next-byte distribution to the
/// student's, summed over a sequence's positions and averaged over the batch;
/// H_l is block l's output (the last block's after the final norm). The true
/// next byte is not used. Only the student's trainable parameters (latent
/// weights, routers, scales) move: AdamW with β = (0.9, 0.999), no weight
/// decay, cosine schedule with 3 % warm-up.
public func distill(_ student: TransformerModel, teacher: TransformerModel, corpus: Corpus, profile: Profile,
                    steps: Int? = nil, seed: UInt64, hiddenWeight alpha: Float = 10,
                    onStep: (DistillationStep) -> Void = { _ in }) throws -> [DistillationStep] {
    let total = steps ?? profile.distillSteps
    let length = student.config.context, batch = profile.distillBatch
    let optimizer = AdamW(student.parameters, weightDecay: 0)
    optimizer.beta2 = 0.999
    let schedule = CosineSchedule(peak: profile.distillLearningRate, warmup: max(1, total * 3 / 100), total: total)
    var rng = SeededGenerator(seed: seed ^ 0xD157_111)
    let objective = DistillationObjective(hiddenWeight: alpha)
    var history: [DistillationStep] = []
    let start = Date()
    for step in 0..<total {
        let (inputs, targets) = corpus.trainingBatch(batch: batch, length: length, using: &rng)
        student.zeroGradients()
        let (divergence, hiddenError) = objective.lossAndGradients(student, teacher, inputs: inputs, targets: targets,
                                                                   batch: batch, length: length)
        // A non-finite loss or gradient stops the run before it reaches the weights.
        if let problem = nonFinite(loss: Float(divergence + Double(alpha) * hiddenError), student.parameters) {
            throw TrainingDiverged(divergence: Divergence(step: step + 1, of: total, problem: problem))
        }
        let lr = schedule.learningRate(at: step)
        optimizer.update(lr: lr, clip: profile.gradientClip)
        let seconds = Date().timeIntervalSince(start)
        let report = DistillationStep(step: step + 1, steps: total, loss: Float(divergence + Double(alpha) * hiddenError),
                                      divergence: Float(divergence), hiddenError: Float(hiddenError), learningRate: lr,
                                      seconds: seconds, tokensPerSecond: Double((step + 1) * batch * length) / max(seconds, 1e-9))
        history.append(report)
        onStep(report)
    }
    return history
}

/// The distillation loss of one batch, and its gradient in the student.
public final class DistillationObjective {
    public let hiddenWeight: Float
    private var hiddenGradients: [Tensor] = [], rowDivergence = Tensor([0])

    public init(hiddenWeight: Float = 10) { self.hiddenWeight = hiddenWeight }

    // region: loss
    /// Runs teacher and student on the batch, adds ∂L/∂θ into the student's
    /// gradients and returns (L_KD, Σ_l MSE_l).
    public func lossAndGradients(_ student: TransformerModel, _ teacher: TransformerModel, inputs: [Int32],
                                 targets: [Int32], batch: Int, length: Int) -> (divergence: Double, hiddenError: Double) {
        let (V, dim, layers) = (student.config.vocabulary, student.config.dim, student.config.layers)
        let rows = batch * length
        if rowDivergence.count != rows {
            hiddenGradients = (0..<layers).map { _ in Tensor([rows, dim]) }
            rowDivergence = Tensor([rows])
        }
        StepProfile.measure(.teacher) { teacher.forward(tokens: inputs, targets: targets, batch: batch, length: length) }
        student.forward(tokens: inputs, targets: targets, batch: batch, length: length)
        // KL(p_T ‖ p_S) = Σ p_T (log p_T − log p_S) per position, summed over a sequence and
        // averaged over the batch; its gradient in the student's logits is (p_S − p_T) / batch.
        let pT = teacher.lastProbabilities!, g = student.logitGradient!, kl = rowDivergence.data
        parallelChunks(rows, minimumChunk: 64) { range in
            for r in range {
                var sum = 0.0
                for i in (r * V)..<((r + 1) * V) {
                    if pT[i] > 0 { sum += Double(pT[i]) * (log(Double(pT[i])) - log(max(Double(g[i]), 1e-30))) }
                    g[i] = (g[i] - pT[i]) / Float(batch)
                }
                kl[r] = Float(sum)
            }
        }
        // MSE of each hidden state, a mean over elements: its gradient is α · 2(H_S − H_T) / count.
        var hiddenError: Double = 0
        let count = rows * dim, scale = hiddenWeight * 2 / Float(count)
        for l in 0..<layers {
            let hS = student.distillationHidden(l)!, hT = teacher.distillationHidden(l)!, d = hiddenGradients[l].data
            var sum: Double = 0
            for i in 0..<count {
                let e = hS[i] - hT[i]
                sum += Double(e * e)
                d[i] = scale * e
            }
            hiddenError += sum / Double(count)
        }
        student.backwardFromLogits { self.hiddenGradients[$0].pointer }
        let divergence = rowDivergence.array.reduce(0.0) { $0 + Double($1) } / Double(batch)
        return (divergence, hiddenError)
    }
    // end region: loss
}
