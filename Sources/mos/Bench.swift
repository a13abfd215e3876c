import ArgumentParser
import Experiments
import Foundation
import Corpus
import Kernels
import Transformer
import Binarization

struct Bench: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Benchmarks, each timed against a reference measured in the same run.",
        subcommands: [BenchTrain.self, BenchKernels.self, BenchDecode.self])
}

struct BenchTrain: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "train",
        abstract: "Training throughput and model FLOPs utilisation against sgemm on the same threads.")

    @OptionGroup var profileOption: ProfileOption
    @Option(help: "Timed training steps (after one warm-up step).") var steps: Int = 8
    @Flag(help: "Also say where a step's time goes, by kind of work, for training and for distilling a BinaryMoS (E = 4) student.")
    var breakdown = false
    @OptionGroup var compute: ComputeOptions

    func run() throws {
        compute.apply()
        guard steps >= 1 else { throw Failure("--steps must be at least 1") }
        let profile = try profileOption.resolve()
        let corpus = Corpus.synthetic(validationBytes: 20_000, seed: 1)
        let model = TransformerModel(config: profile.model, seed: 1)
        let warmup = 1
        let history = train(model, corpus: corpus, profile: profile, steps: warmup + steps, seed: 1, checks: 0).steps
        let seconds = history.last!.seconds - history[warmup - 1].seconds
        let tokensPerSecond = Double(steps * profile.batch * profile.model.context) / seconds
        let modelFlops = tokensPerSecond * profile.model.trainingFlopsPerToken

        // The reference: a large square sgemm split across the same threads, best of five.
        let n = 1536
        let a = Tensor([n, n]), b = Tensor([n, n]), c = Tensor([n, n])
        for i in 0..<(n * n) { a[i] = Float(i % 7) - 3; b[i] = Float(i % 5) - 2 }
        var best = Double.infinity
        for _ in 0..<5 {
            let start = Date()
            matmulForward(c.data, a.pointer, b.pointer, rows: n, inFeatures: n, outFeatures: n)
            best = min(best, Date().timeIntervalSince(start))
        }
        let sgemmFlops = 2 * Double(n * n * n) / best

        print("profile           \(profile.name): \(profile.model.parameterCount) parameters, batch \(profile.batch)×\(profile.model.context), \(compute.threads) threads")
        print("training          \(format(tokensPerSecond, 0)) tokens/s, \(format(seconds / Double(steps) * 1000, 1)) ms/step")
        print("model FLOPs       \(format(modelFlops / 1e9, 1)) GFLOP/s (\(format(profile.model.trainingFlopsPerToken / 1e6, 2)) MFLOP/token)")
        print("sgemm \(n)³     \(format(sgemmFlops / 1e9, 1)) GFLOP/s (\(DenseKernels.description))")
        print("MFU vs sgemm      \(format(100 * modelFlops / sgemmFlops, 1)) %")
        guard breakdown else { return }

        // The same steps again with every probe on, then a BinaryMoS student distilled from this model.
        StepProfile.start()
        var start = Date()
        _ = train(model, corpus: corpus, profile: profile, steps: steps, seed: 2, checks: 0)
        printBreakdown("training", StepProfile.stop(), seconds: Date().timeIntervalSince(start), steps: steps)
        let student = Student.make(from: model, method: Method(BinaryMoS(experts: 4)), corpus: corpus, seed: 1)
        _ = try distill(student, teacher: model, corpus: corpus, profile: profile, steps: 1, seed: 1)   // warm-up
        StepProfile.start()
        start = Date()
        _ = try distill(student, teacher: model, corpus: corpus, profile: profile, steps: steps, seed: 1)
        printBreakdown("distilling BinaryMoS E=4 (batch \(profile.distillBatch)×\(profile.model.context))",
                       StepProfile.stop(), seconds: Date().timeIntervalSince(start), steps: steps)
    }

    /// Each kind's milliseconds per step and share of the step, largest first;
    /// "rest" is what no probe counted (the distillation loss, the STE's loops, bookkeeping).
    func printBreakdown(_ title: String, _ seconds: [StepProfile.Kind: Double], seconds total: Double, steps: Int) {
        print("\nwhere a step's time goes, \(title): \(format(total / Double(steps) * 1000, 1)) ms/step")
        let rows = seconds.filter { $0.value > 0 }.sorted { $0.value > $1.value }.map { ($0.key.rawValue, $0.value) }
            + [("rest", total - seconds.values.reduce(0, +))]
        for (name, s) in rows {
            print(name.padding(toLength: 28, withPad: " ", startingAt: 0)
                  + format(s / Double(steps) * 1000, 2).leftPadded(9) + " ms" + format(100 * s / total, 1).leftPadded(8) + " %")
        }
    }
}

extension String {
    func leftPadded(_ width: Int) -> String { String(repeating: " ", count: max(0, width - count)) + self }
}
