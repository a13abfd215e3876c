import Files
import Foundation
import Kernels

/// What another implementation needs to replay a training run step for step:
/// the weights it starts from, every batch, and each step's learning rate and
/// loss. `mos train --trace DIR` writes it and `scripts/torch-train.py`
/// replays it in PyTorch, so the two losses can be compared step by step
/// without reimplementing this project's generator, initialization or sampling.
///
///     initial.safetensors   the model before the first update (a checkpoint like any
///                           other), the optimizer's settings as JSON under "recipe"
///     batches.safetensors   "inputs", "targets": U8 [steps, batch, length]
///     steps.csv             step, loss, learning_rate, gradient_norm, step_seconds (the step's own time)
public final class TrainingTrace {
    /// AdamW's settings and the clipping limit, for the replay's optimizer.
    struct Recipe: Codable {
        var beta1, beta2, epsilon, weightDecay, gradientClip: Float
    }

    private var config: ModelConfig?
    private var recipe: Recipe?
    private var initial: [(name: String, value: Tensor)] = []
    private var inputs: [UInt8] = [], targets: [UInt8] = []
    private var shape = (batch: 0, length: 0)
    public private(set) var steps: [StepReport] = []

    public init() {}

    /// Keeps a copy of the weights training starts from.
    func begin(_ model: TransformerModel, _ optimizer: AdamW, clip: Float, batch: Int, length: Int) {
        precondition(model.config.vocabulary <= 256, "a trace stores tokens as bytes")
        config = model.config
        recipe = Recipe(beta1: optimizer.beta1, beta2: optimizer.beta2, epsilon: optimizer.epsilon,
                        weightDecay: optimizer.weightDecay, gradientClip: clip)
        shape = (batch, length)
        initial = model.parameters.map { p in
            let copy = Tensor(p.value.shape)
            copy.copy(from: p.value)
            return (p.name, copy)
        }
    }

    /// One step: the batch it trained on (byte tokens) and what it reported.
    func record(inputs i: [Int32], targets t: [Int32], _ report: StepReport) {
        inputs += i.map { UInt8(truncatingIfNeeded: $0) }
        targets += t.map { UInt8(truncatingIfNeeded: $0) }
        steps.append(report)
    }

    /// Writes the three files into `directory` (made if missing).
    public func write(to directory: URL) throws {
        guard let config, let recipe else { preconditionFailure("a trace written before training began") }
        let batchShape = [steps.count, shape.batch, shape.length]
        var batches = Safetensors(metadata: ["format": TransformerModel.formatName])
        batches.add("inputs", .init(dtype: "U8", shape: batchShape, bytes: Data(inputs)))
        batches.add("targets", .init(dtype: "U8", shape: batchShape, bytes: Data(targets)))
        // Shortest round-trip decimals: the replay reads back the same floats.
        let csv = "step,loss,learning_rate,gradient_norm,step_seconds\n"
            + steps.map { "\($0.step),\($0.loss),\($0.learningRate),\($0.gradientNorm),\($0.stepSeconds)\n" }.joined()
        let settings = String(decoding: try JSONEncoder.sorted.encode(recipe), as: UTF8.self)
        try TransformerModel.checkpoint(config, initial, metadata: ["recipe": settings]).write(to: directory.appendingPathComponent("initial.safetensors"))
        try batches.write(to: directory.appendingPathComponent("batches.safetensors"))
        try AtomicFile.write(Data(csv.utf8), to: directory.appendingPathComponent("steps.csv"))
    }
}
