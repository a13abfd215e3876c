import ArgumentParser
import Files
import Foundation
import Binarization
import Corpus
import Experiments
import Kernels
import Notebook
import Transformer

//: # How many scaling experts?
//:
//: $$G = \operatorname{softmax}(X W_R^\top),\quad s_{in} = G\,S_{in},\quad s_{out} = G\,S_{out},\quad Y = \big((X \odot s_{in})\,\operatorname{sign}(W)^\top\big) \odot s_{out}$$
//:
//: BinaryMoS's one design choice is E, the number of scaling experts each
//: layer mixes. With E = 1 there is nothing to mix and the layer is OneBit's;
//: every extra expert adds m + n scales and m router weights per layer. The
//: paper's ablation (its Table 2, on LLaMA-1-7B) tries E ∈ {1, 2, 4, 8} and
//: finds quality improving up to 4 and falling at 8, where the router becomes
//: harder to train. This chapter runs the same ablation on our teacher, with
//: paired seeds (five by default) so that a difference can be told from noise:
//: `swift run -c release experts --out DIR [--teacher FILE] [--experts 1,2,4,8] [--seeds 5]`.
//:
//: ## The layer
//:
//: The whole method is one layer, written with the paper's symbols. Forward:
//: the router's gates mix the experts' scales per token, and the sign matrix
//: sits between the mixed input and output scales.
//:
//: {{source: Sources/Binarization/MixtureOfScales.swift#forward}}
//:
//: Backward, in the same order reversed: the output scale's gradient, then
//: through the signs (the straight-through estimator passes the gradient to
//: the latent weight where |W| ≤ 1), the input scale's, and through the
//: softmax to the router.
//:
//: {{source: Sources/Binarization/MixtureOfScales.swift#backward}}
//:
//: It starts as OneBit's layer: every expert holds the rank-1 fit of |W|.
//:
//: {{source: Sources/Binarization/MixtureOfScales.swift#initialization}}
//:
//: The student learns from the teacher by the paper's loss: the KL divergence
//: of the next-byte distributions plus ten times the mean squared error of
//: each block's hidden state.
//:
//: {{source: Sources/Binarization/Distillation.swift#loss}}

struct Experts: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "experts",
        abstract: "Chapter: BinaryMoS's expert-count ablation, several seeds per count.")

    @OptionGroup var options: ChapterOptions
    @Option(help: "Expert counts, comma-separated.") var experts = "1,2,4,8"

    func run() throws {
        let settings = try options.start()
        let counts = experts.split(separator: ",").compactMap { Int($0) }
        guard !counts.isEmpty, counts.allSatisfy({ (1...64).contains($0) }) else {
            throw ValidationError("--experts '\(experts)' is not a list of counts between 1 and 64")
        }
        let text = try options.loadCorpus(settings)
        let teacherPath = try options.teacherPath(settings, text)
        var sweep = options.sweep(teacher: teacherPath, methods: counts.map { Method(BinaryMoS(experts: $0)) }, corpus: text,
                                  profile: settings)
        sweep.saveDirectory = options.studentFolder
        let records = try sweep.run(into: options.studentFolder.appendingPathComponent("experts.csv"), log: ChapterOptions.log)
        let reference = evaluate(try Student.load(from: URL(fileURLWithPath: teacherPath)).model, corpus: text,
                                 windows: settings.evalWindows)
        try summarize(sweep.own(records), counts: counts, teacher: reference, folder: options.folder)
    }

/*:
 ## The sweep

 Each point binarizes the same teacher with E experts and one seed,
 distils it with the paper's loss on the profile's share of the teacher's
 tokens, stores it, and scores the stored student on the held-out
 validation bytes (the float simulation of its stored codes). **The seed is shared across
 counts**: seed k fixes the student's batches and its routers' start for
 every E, so E = 4 and E = 1 under seed k have seen the same data in the
 same order. The comparison between two counts is therefore made seed by
 seed, on the differences, which removes what a seed does to both. OneBit's
 layer is BinaryMoS's with one expert (trained with the same recipe), so
 "against OneBit" and "against E = 1" are one comparison here.

 Perplexity is per byte. Each row gives the mean and standard deviation
 over seeds and the 95 % confidence interval of the mean (Student's t);
 the paired table gives, for each comparison, the mean per-seed difference
 in perplexity with its 95 % interval and the share of the OneBit → teacher
 gap it closes. A comparison is **resolved** only when its interval
 excludes zero.
 */
    func summarize(_ records: [SweepRecord], counts: [Int], teacher: Evaluation, folder: URL) throws {
        let perplexity = Sweep.perplexityBySeed(records).filter { counts.contains($0.key) }
        var storage: [Int: (bits: Double, bytes: Int)] = [:]
        for r in records {
            if let mos = r.method.kind as? BinaryMoS { storage[mos.experts] = (r.bitsPerWeight, r.modelBytes) }
        }
        let f = { (x: Double) in String(format: "%.4f", x) }
        var summary = CSVTable(columns: ["experts", "seeds", "perplexity_mean", "perplexity_std", "ci95_low", "ci95_high",
                                         "bits_per_weight", "model_bytes"])
        for e in counts {
            guard let seeds = perplexity[e] else { continue }
            let estimate = Estimate(Array(seeds.values))
            summary.append([String(e), String(estimate.count), f(estimate.mean), f(estimate.std),
                            estimate.halfWidth.isFinite ? f(estimate.low) : "", estimate.halfWidth.isFinite ? f(estimate.high) : "",
                            CSVTable.format(storage[e]!.bits, digits: 6), String(storage[e]!.bytes)])
        }
        try summary.write(to: folder.appendingPathComponent("experts-summary.csv"))

        // Each count against OneBit (E = 1), and eight against four (where the paper sees the drop).
        var pairs = counts.filter { $0 != 1 }.map { (base: 1, other: $0) }
        if counts.contains(4) && counts.contains(8) { pairs.append((4, 8)) }
        var comparisons: [Comparison] = []
        for (base, other) in pairs {
            guard let a = perplexity[base], let b = perplexity[other] else { continue }
            let closed = base == 1 ? gapClosed(onebit: a, b, teacher: teacher.perplexity) : nil
            comparisons.append(Comparison(base: base, other: other, difference: pairedDifference(a, b),
                                          closed: closed?.count == 0 ? nil : closed))
        }
        var paired = CSVTable(columns: ["comparison", "pairs", "difference_mean", "ci95_low", "ci95_high",
                                        "gap_closed_percent", "gap_closed_ci95_low", "gap_closed_ci95_high", "verdict"])
        for c in comparisons {
            let d = c.difference, interval = d.halfWidth.isFinite
            paired.append([c.label, String(d.count), f(d.mean), interval ? f(d.low) : "", interval ? f(d.high) : "",
                           c.closed.map { String(format: "%.1f", $0.mean) } ?? "",
                           c.closed.flatMap { $0.halfWidth.isFinite ? String(format: "%.1f", $0.low) : nil } ?? "",
                           c.closed.flatMap { $0.halfWidth.isFinite ? String(format: "%.1f", $0.high) : nil } ?? "",
                           !interval ? "one seed: not measured" : d.resolved ? "resolved" : "not resolved"])
        }
        try paired.write(to: folder.appendingPathComponent("experts-paired.csv"))
        try AtomicFile.write(findings(perplexity, comparisons, teacher: teacher), to: folder.appendingPathComponent("findings.md"))
        try plot(teacher: teacher, folder: folder)
    }
//: {{table: experts-summary.csv}}
//: {{table: experts-paired.csv}}
//: {{figure: experts.svg | Perplexity by expert count, mean and 95 % interval over paired seeds, with the teacher's as a reference line.}}
//: {{include: findings.md}}

    struct Comparison {
        var base: Int, other: Int
        var difference: Estimate     // perplexity(other) − perplexity(base), per seed
        var closed: Estimate?        // % of the OneBit → teacher gap, per seed (against E = 1 only)
        var label: String { "E=\(other) − " + (base == 1 ? "OneBit (E=1)" : "E=\(base)") }
    }

    /// Sentences about this run's numbers; which ones depends on the data.
    func findings(_ perplexity: [Int: [UInt64: Double]], _ comparisons: [Comparison], teacher: Evaluation) -> String {
        let f = { (x: Double) in String(format: "%.4f", x) }
        let interval = { (e: Estimate) in "\(f(e.mean)) [\(f(e.low)), \(f(e.high))]" }
        guard let one = perplexity[1].map({ Estimate(Array($0.values)) }) else { return "No OneBit (E = 1) students to compare with.\n" }
        var s = "The full-precision teacher scores perplexity \(f(teacher.perplexity)); OneBit (E = 1) scores \(f(one.mean)) ± \(f(one.std)) "
        let cost = 100 * (one.mean - teacher.perplexity) / teacher.perplexity
        s += "over \(one.count) seed\(one.count == 1 ? "" : "s"), \(String(format: "%.1f", cost)) % above the teacher "
        // Perplexity per byte is the per-token one to the power 1 / (bytes per token): at LLaMA's
        // tokenizer's roughly four bytes of English per token, the same loss reads as a larger gap.
        let perToken = 100 * (pow(one.mean / teacher.perplexity, 4) - 1)
        s += "per byte, about \(String(format: "%.0f", perToken)) % per token at four bytes a token "
        s += "(the paper: 49 % per token on LLaMA-1-7B, 5.68 → 8.48). "
        for c in comparisons where c.base == 1 {
            let d = c.difference
            guard d.halfWidth.isFinite else {
                s += "E = \(c.other) differs from OneBit by \(f(d.mean)) with one seed: seed noise is not measured. "
                continue
            }
            s += "**E = \(c.other)** against OneBit, seed by seed: \(interval(d))"
            if d.resolved {
                s += d.mean < 0 ? ", resolved: lower perplexity" : ", resolved: higher perplexity"
                s += ". "
            } else {
                s += ", not resolved: the interval spans zero; with \(d.count) paired seeds this run could resolve only differences larger than about \(f(d.halfWidth)). "
            }
        }
        if let c = comparisons.first(where: { $0.base == 4 && $0.other == 8 }), c.difference.halfWidth.isFinite {
            let d = c.difference
            s += "Eight experts against four: \(interval(d))"
            s += !d.resolved ? ", not resolved (the paper sees eight score worse than four). "
                : d.mean > 0 ? ", resolved: eight score worse, as in the paper. " : ", resolved: eight score better, unlike the paper. "
        }
        if let four = comparisons.first(where: { $0.base == 1 && $0.other == 4 }), let closed = four.closed, closed.halfWidth.isFinite {
            s += "The paper's E = 4 closes about 18 % of the gap on LLaMA-1-7B; here E = 4 closes \(String(format: "%.1f", closed.mean)) % "
            s += "(95 % interval \(String(format: "%.1f", closed.low)) to \(String(format: "%.1f", closed.high)) %)."
        }
        return s + "\n"
    }

/*:
 ## Where the recipe differs from the authors'

 | | BinaryMoS (Jo et al., 2024) | here |
 |---|---|---|
 | teacher | LLaMA-1/2, 7B–13B, pretrained on 1–2 T tokens | a byte-level LLaMA-style model (quick profile: 4 blocks, 246 k parameters; paper profile: 6 blocks, 1.3 M), 20 tokens per parameter |
 | distillation data | C4 and WikiText-2 train, 3 epochs | fresh text from the synthetic stream (or a text file's training split), 1 % of the teacher's tokens (the next chapter sweeps the share) |
 | sequence length, batch | 2048 tokens | 128 bytes (paper profile: 256), 8 sequences |
 | learning rate | 2e-5 peak, cosine, 3 % warm-up | 1e-3 peak, cosine, 3 % warm-up (a model this small needs larger steps) |
 | loss | KL + 10 · Σ hidden-state MSE | the same |
 | initialisation | rank-1 SVD of \|W\| into every expert | the same |
 | scales, router | S_in [E, m], S_out [E, n], linear router, softmax, no bias | the same; 16 bits in the checkpoint, float in training |
 | evaluation | per-token perplexity, 2048-token windows | per-byte perplexity on held-out 128-byte windows |
 */

    func plot(teacher: Evaluation, folder: URL) throws {
        try AtomicFile.write("""
            set terminal svg size 720,360 dynamic font "sans,11"
            set output "experts.svg"
            set datafile separator ","
            set logscale x 2
            set xlabel "scaling experts E"
            set ylabel "validation perplexity (per byte)"
            set key center right
            set grid
            set offsets graph 0.05, graph 0.05, 0, 0
            # The range holds every interval and the teacher's line, with room above and below.
            teacher = \(String(format: "%.6f", teacher.perplexity))
            stats "experts-summary.csv" skip 1 using 5 name "LO" nooutput
            stats "experts-summary.csv" skip 1 using 6 name "HI" nooutput
            low = teacher < LO_min ? teacher : LO_min
            pad = (HI_max - low) * 0.12
            set yrange [low - pad : HI_max + pad]
            plot "experts-summary.csv" skip 1 using 1:5:6 with filledcurves fc rgb "#b9cbe6" fs solid 0.5 noborder \\
                     title "95 % interval of the mean over seeds", \\
                 "" skip 1 using 1:3 with linespoints pointtype 7 lc rgb "#2b4f8a" title "BinaryMoS, mean over seeds", \\
                 teacher with lines dashtype 2 lc rgb "#444444" title "full-precision teacher"
            """, to: folder.appendingPathComponent("experts.gp"))
    }
}

Experts.main()
