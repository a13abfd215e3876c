import ArgumentParser
import Experiments
import Files
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
    @Option(help: ArgumentHelp(
        "Also write what a replay needs into this folder: initial.safetensors (the weights before step 1), "
            + "batches.safetensors (every step's inputs and targets) and steps.csv (loss, learning rate, "
            + "gradient norm, time of each step). scripts/torch-train.py replays it in PyTorch.", valueName: "folder"))
    var trace: String?
    @OptionGroup var compute: ComputeOptions

    func run() throws {
        compute.apply()
        var profile = try profileOption.resolve()
        try checkSteps(steps)
        if let batch {
            guard batch >= 1 else { throw Failure("--batch must be at least 1") }
            profile.batch = batch
        }
        // Refused up front, with the need, rather than failing to allocate later.
        let need = trainingBytes(profile.model, batch: profile.batch), have = Double(ProcessInfo.processInfo.physicalMemory)
        guard need < have else {
            throw Failure("--batch \(profile.batch) needs about \(format(need / 1e9, 1)) GB to train the \(profile.name) model "
                          + "(activations of \(profile.batch)×\(profile.model.context) bytes, weights, gradients, AdamW moments); "
                          + "this machine has \(format(have / 1e9, 1)) GB")
        }
        if let lr {
            guard lr > 0 && lr.isFinite else { throw Failure("--lr must be a positive number") }
            profile.learningRate = lr
        }
        let corpus = try corpusOption.load(context: profile.model.context)
        if let trace, URL(fileURLWithPath: trace).standardizedFileURL == URL(fileURLWithPath: out).standardizedFileURL {
            throw Failure("--trace must be a folder other than --out's file")
        }
        try checkOutput(out, folder: trace)
        let total = steps ?? profile.steps
        log("training \(profile.name) model (\(profile.model.parameterCount) parameters) on \(corpus.name), "
            + "\(total) steps of \(profile.batch)×\(profile.model.context) bytes, \(compute.threads) threads")
        let progress = Progress(total: total, label: "train")
        var last: StepReport?
        let record: TeacherTraining
        let recorder = trace.map { _ in TrainingTrace() }
        do {
            record = try trainTeacher(profile: profile, corpus: corpus, seed: seed, steps: total,
                                      to: URL(fileURLWithPath: out), metadata: ["threads": String(compute.threads)],
                                      trace: recorder) { r in
                last = r
                progress.update(step: r.step, fields: [("loss", format(Double(r.loss))),
                                                       ("tok/s", String(Int(r.tokensPerSecond)))])
            }
        } catch let error as TrainingDiverged {
            progress.finish()
            throw Failure(error.description)
        }
        progress.finish()
        log(record.sentence + "; \(format(record.seconds, 1)) s, \(Int(last?.tokensPerSecond ?? 0)) tokens/s → \(out)")
        if let trace, let recorder {
            do { try recorder.write(to: URL(fileURLWithPath: trace)) }
            catch let error as FileError { throw Failure(error.description) }
            log("trace of \(recorder.steps.count) steps → \(trace)")
        }
    }
}

func log(_ message: String) {
    FileHandle.standardError.write(Data((message + "\n").utf8))
}
