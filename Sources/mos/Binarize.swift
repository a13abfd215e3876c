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
        Methods: fp (the teacher in 16 bits), sign (α·sign(W) per row), onebit (static dual scales, \
        distilled), mos (BinaryMoS: --experts scaling experts and a router, distilled), pbllm (PB-LLM: \
        --salient fraction at 8 bits), rtn and gptq (--bits-bit group quantization, --group weights per \
        scale). OneBit and BinaryMoS are trained by distillation from the teacher (KL of the next-byte \
        distributions plus 10 × the hidden states' MSE); the others are post-training.
        """)

    @Option(help: "The trained full-precision teacher (.safetensors).") var teacher: String
    @Option(help: "fp, sign, onebit, mos, pbllm, rtn or gptq.") var method: String
    @Option(help: "mos: scaling experts E.") var experts: Int = 4
    @Option(help: "pbllm: fraction of weights kept at 8 bits.") var salient: Double = 0.1
    @Option(help: "pbllm: saliency measure, magnitude or hessian.") var saliency: String = "hessian"
    @Flag(help: "pbllm: quantize without GPTQ-style error compensation.") var noCompensation = false
    @Option(help: "rtn, gptq: bits per weight code.") var bits: Int = 2
    @Option(help: "rtn, gptq: weights per group scale and zero (the layer width when smaller).") var group: Int = 128
    @OptionGroup var corpusOption: CorpusOption
    @OptionGroup var profileOption: ProfileOption
    @Option(help: "Distillation steps (default: the profile's).") var steps: Int?
    @Option(help: "Peak distillation learning rate (default: the profile's).") var lr: Float?
    @Option(help: "Seed for initialisation, calibration and batches.") var seed: UInt64 = 42
    @Option(help: "Where to write the student (.safetensors).") var out: String
    @Option(help: "Validation windows to score (default: the profile's).") var windows: Int?
    @OptionGroup var compute: ComputeOptions

    func run() throws {
        try compute.apply()
        var profile = try profileOption.resolve()
        if let steps, steps < 1 { throw Failure("--steps must be at least 1") }
        if let windows, windows < 1 { throw Failure("--windows must be at least 1") }
        if let lr {
            guard lr > 0 && lr.isFinite else { throw Failure("--lr must be a positive number") }
            profile.distillLearningRate = lr
        }
        let settings = try methodSettings()
        let (model, teacherMethod, teacherMeta) = try loadStudent(teacher)
        guard teacherMethod.name == .fp, teacherMeta["binarization"] == nil else {
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
        let result = binarize(model, method: settings, corpus: corpus, profile: profile, steps: steps, seed: seed) { r in
            progress?.update(step: r.step, fields: [("kl", format(Double(r.divergence))),
                                                    ("mse", format(Double(r.hiddenError), 4)),
                                                    ("tok/s", String(Int(r.tokensPerSecond)))])
        }
        progress?.finish()
        var metadata = ["corpus": corpus.name, "profile": profile.name, "seed": String(seed),
                        "teacher": (teacher as NSString).lastPathComponent, "threads": String(compute.threads),
                        "binarize_seconds": format(result.seconds, 1)]
        if settings.isTrained { metadata["steps"] = String(total) }
        if !result.routerHistory.isEmpty { metadata["router_history"] = routerCSV(result.routerHistory) }
        let url = URL(fileURLWithPath: out)
        try Student.save(result.student, method: settings, to: url, metadata: metadata)
        // Score the student as stored: reload it, 16-bit rounding and all.
        let (stored, _, _) = try loadStudent(out)
        let e = evaluate(stored, corpus: corpus, windows: windows ?? profile.evalWindows)
        let storage = Storage.model(ModelShape(stored.config), settings)
        var line = "\(settings): validation \(format(e.bitsPerByte)) bits/byte, perplexity \(format(e.perplexity))"
        if let floor = e.floorBitsPerByte { line += " (floor \(format(floor)))" }
        log(line + ", \(format(storage.linearBitsPerWeight, 3)) bits/weight in the binarized layers, "
            + "\(storage.bytes) bytes; \(format(result.seconds, 1)) s → \(out)")
    }

    func methodSettings() throws -> Method {
        var m = try parseMethod(method, saliency: saliency)
        m.experts = experts; m.salientRatio = salient; m.compensation = !noCompensation
        m.bits = bits; m.groupSize = group
        if let problem = m.problems.first { throw Failure(problem) }
        return m
    }
}
