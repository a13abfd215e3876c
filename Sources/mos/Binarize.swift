import ArgumentParser
import Foundation
import Binarization
import Corpus
import Experiments
import Kernels
import Notebook
import Transformer

struct Binarize: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Binarize a trained teacher by one method and save the student, packed as its method stores it.",
        discussion: """
        OneBit and BinaryMoS are trained by distillation from the teacher (KL of the next-byte \
        distributions plus 10 × the hidden states' MSE); the others are post-training.

        """ + methodHelp)

    @Option(help: "The trained full-precision teacher (.safetensors).") var teacher: String
    @OptionGroup var method: MethodArguments
    @OptionGroup var corpusOption: CorpusOption
    @OptionGroup var profileOption: ProfileOption
    @Option(help: "Distillation steps (default: the profile's).") var steps: Int?
    @Option(help: "Peak distillation learning rate (default: the profile's).") var lr: Float?
    @Option(help: "Seed for initialisation, calibration and batches.") var seed: UInt64 = 42
    @Option(help: "Where to write the student (.safetensors).") var out: String
    @Option(help: "Validation windows to score (default: the profile's).") var windows: Int?
    @OptionGroup var compute: ComputeOptions

    func run() throws {
        compute.apply()
        var profile = try profileOption.resolve()
        try checkSteps(steps)
        if let windows, windows < 1 { throw Failure("--windows must be at least 1") }
        if let lr {
            guard lr > 0 && lr.isFinite else { throw Failure("--lr must be a positive number") }
            profile.distillLearningRate = lr
        }
        let settings = try method.single()
        let (model, teacherMethod, teacherMeta) = try loadStudent(teacher)
        guard teacherMethod.kind is FullPrecision, teacherMeta["binarization"] == nil else {
            throw Failure("\(teacher) is already binarized (\(teacherMethod)); give the full-precision teacher")
        }
        let corpus = try corpusOption.load(context: model.config.context)
        try checkOutput(out)
        if let trainedOn = teacherMeta["corpus"], trainedOn != corpus.name {
            log("note: the teacher was trained on \(trainedOn), binarizing on \(corpus.name)")
        }
        log("binarizing \(teacher) by \(settings) on \(corpus.name), \(compute.threads) threads")
        let total = steps ?? profile.distillSteps
        let progress = settings.isTrained ? Progress(total: total, label: "distill") : nil
        let result: Binarized
        do {
            result = try binarize(model, method: settings, corpus: corpus, profile: profile, steps: steps, seed: seed) { r in
                progress?.update(step: r.step, fields: [("kl", format(Double(r.divergence))),
                                                        ("mse", format(Double(r.hiddenError), 4)),
                                                        ("tok/s", String(Int(r.tokensPerSecond)))])
            }
        } catch let error as TrainingDiverged {
            progress?.finish()
            throw Failure(error.description)
        }
        progress?.finish()
        var metadata = ["corpus": corpus.name, "profile": profile.name, "seed": String(seed),
                        "teacher": (teacher as NSString).lastPathComponent, "threads": String(compute.threads),
                        "binarize_seconds": format(result.seconds, 1)]
        if settings.isTrained { metadata["steps"] = String(total) }
        let url = URL(fileURLWithPath: out)
        try Student.save(result.student, method: settings, to: url, metadata: metadata, routerHistory: result.routerHistory)
        // Score the student as stored: reload it, 16-bit rounding and all.
        let (stored, _, _) = try loadStudent(out)
        let e = evaluate(stored, corpus: corpus, windows: windows ?? profile.evalWindows)
        let storage = Storage.model(ModelShape(stored.config), settings)
        var line = "\(settings): validation \(format(e.bitsPerByte)) bits/byte, perplexity \(format(e.perplexity))"
        if let floor = e.floorBitsPerByte { line += " (floor \(format(floor)))" }
        log(line + ", \(format(storage.linearBitsPerWeight, 3)) bits/weight in the binarized layers, "
            + "\(storage.bytes) bytes; \(format(result.seconds, 1)) s → \(out)")
    }
}
