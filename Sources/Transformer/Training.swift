import Randomness
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
    public var stepSeconds: Double    // this step alone: batch, forward, backward, update (no validation)
}

/// The validation loss at one point of training.
public struct ValidationCheck: Codable, Sendable {
    public var step: Int
    public var tokens: Int            // training tokens seen so far
    public var bitsPerByte: Double
}

/// A whole training run: every step, the validation checks, and how it ended.
public struct TrainingRun: Sendable {
    public var steps: [StepReport]
    /// Validation bits/byte at the end of each tenth of the run.
    public var checks: [ValidationCheck]
    /// A text's validation loss stayed above its best for two checks in a
    /// row: training stopped there and the best check's weights were kept.
    public var stoppedEarly = false
    /// Training tokens behind the kept weights.
    public var tokens: Int
    /// Where the loss or a gradient first stopped being finite; training
    /// stopped there, before that step's update.
    public var divergence: Divergence?

    /// The convergence criterion: relative fall of the validation loss over
    /// the last fifth of the run (checks at 80 % and 100 %); nil when the run
    /// stopped early or had too few checks.
    public var lastFifthImprovement: Double? {
        guard !stoppedEarly, checks.count >= 5 else { return nil }
        let before = checks[checks.count - 1 - checks.count / 5].bitsPerByte, after = checks.last!.bitsPerByte
        return (before - after) / before
    }
}

/// Trains a full-precision model on training windows (a text's training
/// split, or the synthetic stream): AdamW, cosine schedule with warm-up,
/// global-norm clipping. The batches are drawn from `seed`, so a seed, a
/// profile and a thread count fix every number; a `trace` keeps the initial
/// weights, batches and losses for a replay elsewhere.
///
/// The validation loss is measured at the end of each of `checks` equal
/// parts of the run. A stream cannot be memorized, so there the checks are
/// only recorded; on a text, two checks in a row worse than the best before
/// them mean the model has started to learn the training split by heart (one
/// could be noise): training stops and the best check's weights are restored.
/// The checks read the validation split that the report scores too, so on a
/// text the teacher's stopping point is chosen on its own test data; every
/// student is scored on the same bytes, so comparisons between them are not
/// affected.
public func train(_ model: TransformerModel, corpus: Corpus, profile: Profile, steps: Int? = nil,
                  seed: UInt64, checks: Int = 10, trace: TrainingTrace? = nil,
                  onStep: (StepReport) -> Void = { _ in }) -> TrainingRun {
    let total = steps ?? profile.steps
    let length = model.config.context, batch = profile.batch
    let optimizer = AdamW(model.parameters, weightDecay: profile.weightDecay)
    let schedule = CosineSchedule(peak: profile.learningRate, warmup: max(1, total * 3 / 100), total: total)
    var rng = SeededGenerator(seed: seed ^ 0x5EED_BA7C_4E5)
    var run = TrainingRun(steps: [], checks: [], tokens: 0)
    var best: (bitsPerByte: Double, values: [Tensor])?
    var worseChecks = 0
    let checkSteps: Set<Int> = checks > 0 ? Set((1...checks).map { total * $0 / checks }) : []
    trace?.begin(model, optimizer, clip: profile.gradientClip, batch: batch, length: length)
    let start = Date()
    for step in 0..<total {
        let stepStart = Date()
        let (inputs, targets) = corpus.trainingBatch(batch: batch, length: length, using: &rng)
        model.zeroGradients()
        let loss = model.forward(tokens: inputs, targets: targets, batch: batch, length: length)
        model.backward()
        if let problem = nonFinite(loss: loss, model.parameters) {
            run.divergence = Divergence(step: step + 1, of: total, problem: problem)
            break
        }
        let lr = schedule.learningRate(at: step)
        let norm = optimizer.update(lr: lr, clip: profile.gradientClip)
        let now = Date(), seconds = now.timeIntervalSince(start)
        let report = StepReport(step: step + 1, steps: total, loss: loss, learningRate: lr, gradientNorm: norm,
                                tokensPerSecond: Double((step + 1) * batch * length) / max(seconds, 1e-9),
                                seconds: seconds, stepSeconds: now.timeIntervalSince(stepStart))
        run.steps.append(report)
        trace?.record(inputs: inputs, targets: targets, report)
        run.tokens = (step + 1) * batch * length
        onStep(report)
        guard checkSteps.contains(step + 1) else { continue }
        let check = ValidationCheck(step: step + 1, tokens: run.tokens,
                                    bitsPerByte: evaluate(model, corpus: corpus, windows: profile.evalWindows).bitsPerByte)
        run.checks.append(check)
        if corpus.streamsTraining { continue }
        if let best, check.bitsPerByte > best.bitsPerByte {
            worseChecks += 1
            guard worseChecks == 2 else { continue }
            for (p, kept) in zip(model.parameters, best.values) { p.value.copy(from: kept) }
            run.stoppedEarly = true
            run.tokens = run.checks.min { $0.bitsPerByte < $1.bitsPerByte }!.tokens
            break
        }
        worseChecks = 0
        best = (check.bitsPerByte, model.parameters.map { p in
            let kept = Tensor(p.value.shape)
            kept.copy(from: p.value)
            return kept
        })
    }
    return run
}

/// Training's loss or gradients stopped being finite, at `step`.
public struct Divergence: Sendable, Codable, Equatable, CustomStringConvertible {
    public var step: Int, steps: Int
    /// What went first: the loss, or the gradient of a named parameter.
    public var problem: String

    public init(step: Int, of steps: Int, problem: String) { self.step = step; self.steps = steps; self.problem = problem }

    public var description: String { "training diverged at step \(step) of \(steps): \(problem) is not finite" }
}

/// The loss, or else the first parameter whose gradient is not finite (nil: all finite).
public func nonFinite(loss: Float, _ parameters: [Parameter]) -> String? {
    guard loss.isFinite else { return "the loss" }
    for p in parameters where p.trainable {
        let g = p.grad.pointer
        for i in 0..<p.grad.count where !g[i].isFinite { return "the gradient of \(p.name)" }
    }
    return nil
}
