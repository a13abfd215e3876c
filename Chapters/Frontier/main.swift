import ArgumentParser
import Files
import Foundation
import Binarization
import Corpus
import Experiments
import Kernels
import Notebook
import Transformer

//: # The frontier
//:
//: $$\text{perplexity} = \exp\Big(-\frac{1}{T}\sum_{t=1}^{T} \log p_\theta(x_t \mid x_{<t})\Big) \quad\text{against}\quad \text{bits per weight} = \frac{\text{bits of the block layers}}{\text{their weights}}$$
//:
//: Every method of this report on one teacher, measured the same way: validation
//: perplexity against the bits each weight of the block layers costs, and how
//: fast each method's kernel multiplies. This is where the paper's headline
//: claim is put to the test on our model: *does BinaryMoS beat 2-bit group
//: quantization at less than half its memory?*
//: `swift run -c release frontier --out DIR [--teacher FILE] [--students DIR] [--seeds 3]`.

struct Frontier: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "frontier",
        abstract: "Chapter: every method's perplexity against bits per weight, and its kernel's speed.")

    @OptionGroup var options: ChapterOptions

/*:
 ## The students

 OneBit and BinaryMoS (four experts) come from the expert sweep: OneBit's
 layer is BinaryMoS's with one expert, trained with the same recipe, which is
 the paper's fair comparison. The post-training methods are binarized here
 from the same teacher, each with the same seeds (which choose their
 calibration windows): sign (α = mean|W| per row), PB-LLM with 10 % salient
 weights (Hessian saliency, GPTQ compensation), BiLLM (10 % of each block's
 columns binarized with a residual, the rest split at a searched break-point
 into two groups, GPTQ compensation), ARB (BiLLM's structure with each
 group's mean, scale and signs refined in turn; ARB-X fits them instead to
 the layer's output error on the calibration inputs, ARB-RC replaces the
 means by a scale per column), and 2-bit groups of 128 by
 round-to-nearest and by GPTQ. `fp` is the teacher stored in 16 bits. BiLLM
 and ARB keep six 16-bit scales per row and block of 128 columns and a group
 flag per weight, so their exact storage is well above the 1.1 bits their
 papers quote for the signs alone: the table counts every bit. BTC (0.8
 index bits per weight, codebooks of 256 sub-vectors of 10 signs, OneBit's
 scales) is the previous chapter's, post-training and with its scales
 distilled, each with and without its learned rotation of the inputs.

 BiLLM's fit of one group is a mean and a scale in closed form; ARB's is the
 same followed by rounds of least squares, each kept only if the error fell:

 {{source: Sources/Binarization/ResidualBinary.swift#group-fit}}

 The salient columns get two sign terms, refined the same way:

 {{source: Sources/Binarization/ResidualBinary.swift#residual-fit}}

 ARB-X solves for a row's six parameters at once, with the calibration
 inputs' Gram matrix H as the metric:

 {{source: Sources/Binarization/ResidualBinary.swift#calibrated-fit}}

 ARB-RC alternates row scales, column scales, and the salient signs with the
 other weights' groups:

 {{source: Sources/Binarization/ResidualBinary.swift#row-column-fit}}

 The 2-bit baselines: a group's range includes 0, round to nearest takes
 every group from its own weights, and GPTQ takes each group's range from the
 compensated weights as its first column comes up.

 {{source: Sources/Binarization/GroupQuantization.swift#group-range}}

 {{source: Sources/Binarization/GroupQuantization.swift#rtn}}

 {{source: Sources/Binarization/GroupQuantization.swift#gptq}}
 */
    func run() throws {
        let settings = try options.start()
        let (folder, studentFolder) = (options.folder, options.studentFolder)
        let text = try options.loadCorpus(settings)
        let teacher = try options.teacherPath(settings, text)
        let log = ChapterOptions.log
        // The distilled students are the expert sweep's and the codebook chapter's.
        var records: [SweepRecord] = []
        for (methods, csv) in [([1, 4].map { Method(BinaryMoS(experts: $0)) }, "experts.csv"),
                               ([false, true].map { Method(BTC(bitsPerWeight: 0.8, distill: true, transform: $0)) }, "codebook-distilled.csv")] {
            var trained = options.sweep(teacher: teacher, methods: methods, corpus: text, profile: settings)
            trained.saveDirectory = studentFolder
            records += trained.own(try trained.run(into: studentFolder.appendingPathComponent(csv), log: log))
        }
        let postTraining: [any BinarizationMethod] = [FullPrecision(), SignWithScale(), PBLLM(), BiLLM(), ARB(),
                                                      ARB(variant: .calibrated), ARB(variant: .rowColumn), BTC(), BTC(bitsPerWeight: 0.8, transform: true),
                                                      RoundToNearest(), GPTQ()]
        let sweep = options.sweep(teacher: teacher, methods: postTraining.map(Method.init), corpus: text, profile: settings)
        records += sweep.own(try sweep.run(into: studentFolder.appendingPathComponent("post-training.csv"), log: log))
        let rows = try summarize(records, folder)
        let layerCheck = try layerErrors(teacher: teacher, text: text, folder)
        try speed(folder)
        try plot(folder)
        // OneBit against BinaryMoS seed by seed, as chapter 3 compares them.
        let bySeed = Sweep.perplexityBySeed(records)
        let paired = pairedDifference(bySeed[1] ?? [:], bySeed[4] ?? [:])
        // The post-training binarizers seed by seed (a seed picks the calibration windows).
        func perplexity(_ m: any BinarizationMethod) -> [UInt64: Double] { Sweep.perplexityBySeed(records, of: Method(m)) }
        let refinements = [("ARB − BiLLM", pairedDifference(perplexity(BiLLM()), perplexity(ARB()))),
                           ("ARB-X − ARB", pairedDifference(perplexity(ARB()), perplexity(ARB(variant: .calibrated)))),
                           ("ARB-RC − ARB", pairedDifference(perplexity(ARB()), perplexity(ARB(variant: .rowColumn))))]
        try AtomicFile.write(findings(rows, paired: paired, refinements: refinements) + layerCheck,
                             to: folder.appendingPathComponent("findings.md"))
    }

/*:
 ## Quality against memory

 Bits per weight are those of the block layers (what binarization acts on;
 the embedding and head are the same for every method). They are given twice:
 **as stored in this compact model** (`bits_compact`), whose layers are a few
 hundred inputs wide at most (64 to 192 at the quick profile), so that per-row
 and per-expert scales weigh a lot, and **as the same
 method would store LLaMA-1-7B** (`bits_llama7b`), whose layers are 4096 and
 11008 wide. The perplexity is of course only measured on the compact model.
 */
    /// One method's line of the frontier.
    struct Row {
        var label: String, method: Method
        var seeds: Int, mean: Double, std: Double?     // std: nil for a method run once
        var bitsCompact: Double, bitsLlama: Double
    }

    func summarize(_ records: [SweepRecord], _ folder: URL) throws -> [Row] {
        let llama = ModelShape.named["llama-1-7b"]!
        // OneBit's students are the expert sweep's E = 1 (the same layer and recipe).
        let entries: [(label: String, sweep: any BinarizationMethod, stored: any BinarizationMethod)] = [
            ("FP16", FullPrecision(), FullPrecision()), ("sign", SignWithScale(), SignWithScale()),
            ("OneBit", BinaryMoS(experts: 1), OneBit()), ("BinaryMoS E=4", BinaryMoS(experts: 4), BinaryMoS(experts: 4)),
            ("PB-LLM 10%", PBLLM(), PBLLM()), ("BiLLM", BiLLM(), BiLLM()), ("ARB", ARB(), ARB()),
            ("ARB-X", ARB(variant: .calibrated), ARB(variant: .calibrated)),
            ("ARB-RC", ARB(variant: .rowColumn), ARB(variant: .rowColumn)),
            ("BTC 0.8 bits", BTC(), BTC()),
            ("BTC 0.8 bits, distilled", BTC(bitsPerWeight: 0.8, distill: true), BTC(bitsPerWeight: 0.8, distill: true)),
            ("BTC 0.8 bits, rotated", BTC(bitsPerWeight: 0.8, transform: true), BTC(bitsPerWeight: 0.8, transform: true)),
            ("BTC 0.8 bits, rotated, distilled", BTC(bitsPerWeight: 0.8, distill: true, transform: true),
             BTC(bitsPerWeight: 0.8, distill: true, transform: true)),
            ("RTN 2-bit g128", RoundToNearest(), RoundToNearest()),
            ("GPTQ 2-bit g128", GPTQ(), GPTQ())]
        var rows: [Row] = []
        for entry in entries {
            let picked = records.filter { $0.method == Method(entry.sweep) }
            guard let first = picked.first else { continue }
            let (mean, std) = meanAndDeviation(picked.map(\.perplexity))
            rows.append(Row(label: entry.label, method: Method(entry.stored), seeds: picked.count, mean: mean,
                            std: picked.count > 1 ? std : nil, bitsCompact: first.bitsPerWeight,
                            bitsLlama: Storage.model(llama, Method(entry.stored)).linearBitsPerWeight))
        }
        var table = CSVTable(columns: ["method", "label", "seeds", "perplexity_mean", "perplexity_std",
                                       "bits_compact", "bits_llama7b"])
        for r in rows {
            table.append([r.method.name, r.label, r.seeds, String(format: "%.4f", r.mean), r.std.map { String(format: "%.4f", $0) } ?? "",
                          CSVTable.format(r.bitsCompact, digits: 6), String(format: "%.4f", r.bitsLlama)])
        }
        try table.write(to: folder.appendingPathComponent("frontier.csv"))
        return rows
    }
//: {{table: frontier.csv}}

/*:
 ## Does GPTQ do its job?

 GPTQ chooses each layer's codes to minimize that layer's output error on
 its calibration inputs, so on fresh inputs it should be no worse than
 rounding to nearest at the same grid; PB-LLM's compensation is the same
 update. Perplexity mixes every layer's error with how the model reacts to
 it, so the check is made layer by layer: each quantized layer and the
 teacher's layer read the teacher's own inputs to it on 16 validation
 windows, and the table gives ‖Ŵx − Wx‖² / ‖Wx‖² (seed 1's calibration).
 */
    func layerErrors(teacher path: String, text: Corpus, _ folder: URL) throws -> String {
        let teacher = try Student.load(from: URL(fileURLWithPath: path)).model
        let plain = Method(PBLLM(salient: 0.1, compensation: false)), compensated = Method(PBLLM(salient: 0.1))
        let methods = [("rtn", Method(RoundToNearest())), ("gptq", Method(GPTQ())), ("pbllm_plain", plain), ("pbllm_gptq", compensated)]
        let students = methods.map { _, m in Student.make(from: teacher, method: m, corpus: text, seed: 1) }
        let errors = students.map { Binarization.layerErrors($0, teacher: teacher, corpus: text) }
        var table = CSVTable(columns: ["block", "layer"] + methods.map(\.0))
        for (i, e) in errors[0].enumerated() {
            table.append([String(e.block), e.layer] + errors.map { String(format: "%.5f", $0[i].relative) })
        }
        try table.write(to: folder.appendingPathComponent("layer-errors.csv"))
        let count = errors[0].count
        let gptqWins = (0..<count).filter { errors[1][$0].relative <= errors[0][$0].relative }.count
        let compWins = (0..<count).filter { errors[3][$0].relative <= errors[2][$0].relative }.count
        let mean = { (k: Int) in errors[k].reduce(0.0) { $0 + $1.relative } / Double(count) }
        var s = "\n\nLayer by layer on held-out inputs, GPTQ's output error is no larger than RTN's on "
        s += "\(gptqWins) of \(count) layers (mean relative error \(String(format: "%.4f", mean(1))) against \(String(format: "%.4f", mean(0)))), "
        s += "and PB-LLM's compensation lowers it on \(compWins) of \(count) (\(String(format: "%.4f", mean(3))) against \(String(format: "%.4f", mean(2))))"
        if gptqWins == count && compWins == count {
            s += ": both do what they are built for. "
        } else {
            // GPTQ calibrates on the quantized student's own inputs: count there too.
            let own = students.prefix(2).map { Binarization.layerErrors($0, teacher: teacher, corpus: text, inputs: .own) }
            let ownWins = (0..<count).filter { own[1][$0].relative <= own[0][$0].relative }.count
            s += ". On each student's own held-out inputs (the blocks before it quantized, the kind GPTQ calibrates on), "
            s += "GPTQ is no worse than RTN on \(ownWins) of \(count) layers; chapter 7 makes the same check for PB-LLM at every salient fraction. "
        }
        return s + "\n"
    }
//: {{table: layer-errors.csv}}

/*:
 ## Speed

 Each method's kernel multiplying one token by a 4096 × 4096 layer (LLaMA-7B's
 attention projections) on one thread, timed interleaved in this run against
 OpenBLAS's float sgemv: sign and OneBit share the static-scale binary kernel, BinaryMoS
 adds its router and mixing, RTN and GPTQ share the 2-bit kernel, BiLLM and
 ARB run three sign planes per block of 128 columns through the binary kernel
 with a tenth of the columns in float, and BTC's codebook is decoded into
 sign bits when the student is loaded, so it runs on OneBit's kernel. They run on
 int16 activations, whose perplexity matches the float simulation the
 students above were scored with to about 10⁻⁶ (chapter 2 also times int8,
 faster and slightly less exact). PB-LLM's packed
 form (binary kernel plus a sparse pass) is not in this benchmark.
 */
    func speed(_ folder: URL) throws {
        Threads.use(1)
        defer { Threads.use(options.threads) }
        var benchmark = KernelBenchmark(rows: 4096, cols: 4096)
        benchmark.rounds = 5
        benchmark.precisions = [.int16]    // the precision that matches the float scores above
        let timings = benchmark.run().filter { $0.kernel != "binary_swift" }
        var table = CSVTable(columns: ["kernel", "methods", "milliseconds", "speedup_vs_sgemv", "weight_bytes"])
        let methods = ["sgemv": "FP (float32)", "binary": "sign, OneBit, BTC (decoded)", "binarymos": "BinaryMoS E=4",
                       "int2": "RTN, GPTQ 2-bit", "billm": "BiLLM, ARB", "btc_rotated": "BTC rotated (decoded)"]
        for t in timings {
            table.append([t.kernel, methods[t.kernel] ?? t.kernel, String(format: "%.4f", t.seconds * 1000),
                          String(format: "%.2f", timings[0].seconds / t.seconds), t.weightBytes])
        }
        try table.write(to: folder.appendingPathComponent("speed.csv"))
    }
//: {{table: speed.csv}}
//: {{figure: frontier.svg | Perplexity against bits per weight for every method, each labelled.}}
//: {{include: findings.md}}

    func plot(_ folder: URL) throws {
        try AtomicFile.write("""
            set terminal svg size 980,420 dynamic font "sans,11"
            set output "frontier.svg"
            set datafile separator ","
            set multiplot layout 1,2
            set title "perplexity against bits per weight"
            set logscale x 2
            set xlabel "bits per weight of the block layers"
            set ylabel "validation perplexity"
            set grid
            set key top right
            plot "frontier.csv" skip 1 using 6:4:(valid(5) ? $5 : 0) with yerrorbars pointtype 7 title "as stored here (compact)", \\
                 "" skip 1 using 6:4:2 with labels offset 0.8,0.6 left font ",9" notitle, \\
                 "" skip 1 using 7:4 with points pointtype 9 pointsize 1.2 title "same methods at LLaMA-7B's shapes"
            unset logscale x
            set title "kernel speed at 4096 × 4096, one token, one thread"
            set xlabel ""
            set ylabel "speed-up over float sgemv"
            set style fill solid 0.6
            set boxwidth 0.6
            set yrange [0:*]
            unset key
            plot "speed.csv" skip 1 using 0:4:xtic(2) with boxes lc rgb "#5566aa"
            unset multiplot
            """, to: folder.appendingPathComponent("frontier.gp"))
    }

    /// The headline question, answered from this run's numbers.
    func findings(_ rows: [Row], paired: Estimate, refinements: [(String, Estimate)]) -> String {
        func row(_ label: String) -> (p: Double, std: Double?, compact: Double, llama: Double)? {
            rows.first { $0.label == label }.map { ($0.mean, $0.std, $0.bitsCompact, $0.bitsLlama) }
        }
        guard let mos = row("BinaryMoS E=4"), let one = row("OneBit") else { return "Not enough students to compare.\n" }
        let f = { (x: Double) in String(format: "%.4f", x) }     // perplexity
        let b = { (x: Double) in String(format: "%.3f", x) }     // bits per weight
        let spread = { (p: Double, std: Double?) in std.map { "\(f(p)) ± \(f($0))" } ?? f(p) }
        /// How a difference compares with the seeds' spread (nil: one run, deterministic or one seed).
        func noise(_ gap: Double, _ a: Double?, _ b: Double?) -> String {
            guard let std = [a, b].compactMap({ $0 }).max() else { return ". " }
            return abs(gap) > 2 * std ? ", more than twice the seeds' standard deviation. " : ", within twice the seeds' standard deviation. "
        }
        var s = ""
        if let fp = row("FP16") {
            s += "BinaryMoS scores \(spread(mos.p, mos.std)) against OneBit's \(spread(one.p, one.std)) and the teacher's \(f(fp.p)): "
            if mos.p < one.p && one.p > fp.p {
                s += "it closes \(String(format: "%.0f", 100 * (one.p - mos.p) / (one.p - fp.p))) % of the gap between "
                s += "OneBit and full precision (the paper: about 18 % on LLaMA-1-7B)"
            } else {
                s += "it closes none of the gap between OneBit and full precision here (the paper: about 18 % on LLaMA-1-7B)"
            }
            s += paired.halfWidth.isFinite
                ? "; seed by seed the difference is \(f(paired.mean)) [\(f(paired.low)), \(f(paired.high))], \(paired.resolved ? "resolved" : "not resolved"). "
                : "; with one seed the difference cannot be judged. "
        }
        let twoBit = ["GPTQ 2-bit g128", "RTN 2-bit g128"].compactMap { label in row(label).map { (label, $0) } }
        for (label, two) in twoBit {
            s += mos.p < two.p ? "It beats \(label)" : "It does not beat \(label)"
            s += " (\(spread(two.p, two.std)))" + noise(mos.p - two.p, mos.std, two.std)
        }
        if let two = twoBit.first?.1 {
            s += "At LLaMA-7B's shapes BinaryMoS stores \(b(mos.llama)) bits per weight against 2-bit g128's \(b(two.llama))"
            s += mos.llama < two.llama / 2 ? ", less than half; " : "; "
            s += "in this compact model its scales make it cost \(b(mos.compact)) against \(b(two.compact)). "
        }
        let judged = refinements.filter { $0.1.halfWidth.isFinite }
        if !judged.isEmpty {
            s += "\n\nThe post-training binarizers seed by seed (perplexity difference, 95 % interval): "
            s += judged.map { "\($0.0) \(f($0.1.mean)) [\(f($0.1.low)), \(f($0.1.high))], \($0.1.resolved ? "resolved" : "not resolved")" }
                .joined(separator: "; ") + ". "
        }
        return s + "\n"
    }
}

Frontier.main()
