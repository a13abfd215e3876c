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
//: BinaryMoS's one design choice is E, the number of scaling experts each
//: layer mixes. With E = 1 there is nothing to mix and the layer is OneBit's;
//: every extra expert adds m + n scales and m router weights per layer. The
//: paper's ablation (its Table 2, on LLaMA-1-7B) tries E ∈ {1, 2, 4, 8} and
//: finds quality improving up to 4 and falling at 8, where the router becomes
//: harder to train. This chapter runs the same ablation on our teacher, with
//: several seeds so that a difference can be told from noise:
//: `swift run -c release experts --out DIR [--teacher FILE] [--experts 1,2,4,8] [--seeds 3]`.

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
        var mos = Method(.mos)
        mos.experts = counts[0]
        var sweep = Sweep(teacher: teacherPath, method: mos, corpus: text, profile: settings)
        sweep.experts = counts; sweep.seeds = options.seeds; sweep.jobs = options.threads
        sweep.saveDirectory = options.studentFolder
        let table = try sweep.run(into: options.studentFolder.appendingPathComponent("experts.csv"), log: ChapterOptions.log)
        let reference = evaluate(try Student.load(from: URL(fileURLWithPath: teacherPath)).model, corpus: text,
                                 windows: settings.evalWindows)
        try summarize(table, counts: counts, teacher: reference, folder: options.folder)
    }

/*:
 ## The sweep

 Each point binarizes the same teacher with E experts and one seed (the seed
 sets the router's initialisation and the order of the training batches),
 distils it with the paper's loss for the profile's steps, stores it, and
 scores the stored student on the validation split with the packed kernels.
 The table summarises the seeds of each count: mean and standard deviation of
 the perplexity, and what the layers cost.
 */
    func summarize(_ table: CSVTable, counts: [Int], teacher: Evaluation, folder: URL) throws {
        var summary = CSVTable(columns: ["experts", "seeds", "perplexity_mean", "perplexity_std", "bits_per_byte_mean",
                                         "bits_per_weight", "model_bytes"])
        var means: [(experts: Int, mean: Double, std: Double)] = []
        let column = { (name: String) in table.columns.firstIndex(of: name)! }
        for e in counts {
            let rows = table.rows.filter { $0[column("method")] == "mos" && $0[column("experts")] == String(e) }
            guard !rows.isEmpty else { continue }
            let p = rows.compactMap { Double($0[column("perplexity")]) }
            let b = rows.compactMap { Double($0[column("bits_per_byte")]) }
            let (mean, std) = meanAndDeviation(p)
            means.append((e, mean, std))
            summary.append([e, rows.count, String(format: "%.4f", mean), String(format: "%.4f", std),
                            String(format: "%.4f", meanAndDeviation(b).mean), rows[0][column("bits_per_weight")],
                            rows[0][column("model_bytes")]])
        }
        try summary.write(to: folder.appendingPathComponent("experts-summary.csv"))
        try AtomicFile.write(findings(means, teacher: teacher), to: folder.appendingPathComponent("findings.md"))
        try plot(teacher: teacher, folder: folder)
    }
//: {{table: experts-summary.csv}}
//: {{figure: experts.svg}}
//: {{include: findings.md}}

    /// Sentences about this run's numbers; which ones depends on the data.
    func findings(_ means: [(experts: Int, mean: Double, std: Double)], teacher: Evaluation) -> String {
        let means = means.filter { $0.mean.isFinite }
        guard let best = means.min(by: { $0.mean < $1.mean }), let one = means.first(where: { $0.experts == 1 }) else {
            return "Not enough points to compare expert counts.\n"
        }
        // Four decimals: at the paper profile the counts differ in the third.
        let f = { (x: Double) in String(format: "%.4f", x) }
        let seeded = options.seeds >= 2
        let spread = { (m: (experts: Int, mean: Double, std: Double)) in seeded ? "\(f(m.mean)) ± \(f(m.std))" : f(m.mean) }
        var s = "The full-precision teacher scores perplexity \(f(teacher.perplexity)). "
        s += "Among the expert counts, the lowest mean perplexity is at **E = \(best.experts)** "
        s += seeded ? "(\(spread(best)) over the seeds)" : "(\(spread(best)), one seed)"
        if best.experts == 1 {
            s += ", OneBit's layer: no count beats a single expert here. "
        } else {
            s += ", against \(spread(one)) for E = 1 (OneBit's layer). "
            let gap = one.mean - best.mean, noise = max(best.std, one.std)
            if !seeded {
                s += "With one seed per count there is no measure of seed noise, so the gain over one expert (\(f(gap))) cannot be judged. "
            } else if gap > 2 * noise {
                s += "The gain over one expert, \(f(gap)), is more than twice the larger standard deviation (\(f(noise))): beyond seed noise. "
            } else {
                s += "The gain over one expert, \(f(gap)), is within twice the larger standard deviation (\(f(noise))): not distinguishable from seed noise in this run. "
            }
            if teacher.perplexity < one.mean {
                s += "Of the gap between one expert and full precision, the best count closes \(String(format: "%.0f", 100 * gap / (one.mean - teacher.perplexity))) %"
                s += " (the paper closes about 18 % on LLaMA-1-7B, with E = 4). "
            }
        }
        if let four = means.first(where: { $0.experts == 4 }), let eight = means.first(where: { $0.experts == 8 }) {
            s += eight.mean > four.mean
                ? "Eight experts score worse than four (\(f(eight.mean)) against \(f(four.mean))), as in the paper"
                : "Eight experts do not score worse than four here (\(f(eight.mean)) against \(f(four.mean))), unlike the paper"
            s += !seeded ? ", with one seed, so seed noise is not measured."
                : abs(eight.mean - four.mean) > 2 * max(eight.std, four.std)
                ? ", by more than twice the seeds' standard deviation." : ", though within seed noise."
        }
        return s + "\n"
    }

    func plot(teacher: Evaluation, folder: URL) throws {
        try AtomicFile.write("""
            set terminal svg size 720,360 dynamic font "sans,11"
            set output "experts.svg"
            set datafile separator ","
            set logscale x 2
            set xlabel "scaling experts E"
            set ylabel "validation perplexity (per byte)"
            set key top right
            set grid
            set offsets graph 0.05, graph 0.05, 0, 0
            plot "experts-summary.csv" skip 1 using 1:3:4 with yerrorlines pointtype 7 title "BinaryMoS (mean ± std over seeds)", \\
                 \(String(format: "%.6f", teacher.perplexity)) with lines dashtype 2 title "full-precision teacher"
            """, to: folder.appendingPathComponent("experts.gp"))
    }
}

Experts.main()
