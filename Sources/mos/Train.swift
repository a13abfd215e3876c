import ArgumentParser
import Foundation
import Corpus
import Kernels
import Notebook
import Transformer

struct Train: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Train a full-precision teacher model and save it as safetensors.")

    @OptionGroup var corpusOption: CorpusOption
    @OptionGroup var profileOption: ProfileOption
    @Option(help: "Training steps (default: the profile's).") var steps: Int?
    @Option(help: "Sequences per step (default: the profile's).") var batch: Int?
    @Option(help: "Peak learning rate (default: the profile's).") var lr: Float?
    @Option(help: "Seed for initialisation and batches.") var seed: UInt64 = 42
    @Option(help: "Where to write the model (.safetensors).") var out: String
    @OptionGroup var compute: ComputeOptions

    func run() throws {
        try compute.apply()
        var profile = try profileOption.resolve()
        if let steps, steps < 1 { throw Failure("--steps must be at least 1") }
        if let batch {
            guard batch >= 1 else { throw Failure("--batch must be at least 1") }
            profile.batch = batch
        }
        if let lr {
            guard lr > 0 && lr.isFinite else { throw Failure("--lr must be a positive number") }
            profile.learningRate = lr
        }
        let corpus = try corpusOption.load(context: profile.model.context)
        try checkOutput(out)
        let model = TransformerModel(config: profile.model, seed: seed)
        let total = steps ?? profile.steps
        log("training \(profile.name) model (\(model.config.parameterCount) parameters) on \(corpus.name), "
            + "\(total) steps of \(profile.batch)×\(profile.model.context) bytes, \(compute.threads) threads")
        let progress = Progress(total: total, label: "train")
        let history = train(model, corpus: corpus, profile: profile, steps: total, seed: seed) { r in
            progress.update(step: r.step, fields: [("loss", format(Double(r.loss))),
                                                   ("tok/s", String(Int(r.tokensPerSecond)))])
        }
        progress.finish()
        let evaluation = evaluate(model, corpus: corpus, windows: profile.evalWindows)
        guard evaluation.perplexity.isFinite else {
            throw Failure("training diverged (the loss is not a number); nothing written. Try a smaller --lr")
        }
        let last = history.last!
        try model.save(to: URL(fileURLWithPath: out), metadata: [
            "method": "fp", "corpus": corpus.name, "profile": profile.name, "seed": String(seed),
            "steps": String(total), "threads": String(compute.threads),
            "train_seconds": format(last.seconds, 1),
        ])
        var line = "validation \(format(evaluation.bitsPerByte)) bits/byte, perplexity \(format(evaluation.perplexity))"
        if let floor = evaluation.floorBitsPerByte { line += ", floor \(format(floor)) bits/byte" }
        log(line + "; \(format(last.seconds, 1)) s, \(Int(last.tokensPerSecond)) tokens/s → \(out)")
    }
}

func log(_ message: String) {
    FileHandle.standardError.write(Data((message + "\n").utf8))
}
