import Foundation
import Kernels
import Corpus

/// What the training loop reports after each step.
public struct StepReport: Sendable {
    public var step: Int, steps: Int
    public var loss: Float            // mean next-byte loss of the batch, nats
    public var learningRate: Float
    public var gradientNorm: Float
    public var tokensPerSecond: Double
    public var seconds: Double        // since training began
}

/// Trains a full-precision model on random windows of the training split:
/// AdamW, cosine schedule with warm-up, global-norm clipping. The batches are
/// drawn from `seed`, so a seed, a profile and a thread count fix every number.
public func train(_ model: TransformerModel, corpus: Corpus, profile: Profile, steps: Int? = nil,
                  seed: UInt64, onStep: (StepReport) -> Void = { _ in }) -> [StepReport] {
    let total = steps ?? profile.steps
    let length = model.config.context, batch = profile.batch
    let optimizer = AdamW(model.parameters, weightDecay: profile.weightDecay)
    let schedule = CosineSchedule(peak: profile.learningRate, warmup: profile.warmupSteps, total: total)
    var rng = SeededGenerator(seed: seed ^ 0x5EED_BA7C_4E5)
    var history: [StepReport] = []
    let start = Date()
    for step in 0..<total {
        let (inputs, targets) = corpus.trainingBatch(batch: batch, length: length, using: &rng)
        model.zeroGradients()
        let loss = model.forward(tokens: inputs, targets: targets, batch: batch, length: length)
        model.backward()
        let lr = schedule.learningRate(at: step)
        let norm = optimizer.update(lr: lr, clip: profile.gradientClip)
        let seconds = Date().timeIntervalSince(start)
        let report = StepReport(step: step + 1, steps: total, loss: loss, learningRate: lr, gradientNorm: norm,
                                tokensPerSecond: Double((step + 1) * batch * length) / max(seconds, 1e-9),
                                seconds: seconds)
        history.append(report)
        onStep(report)
    }
    return history
}
