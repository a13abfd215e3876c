import ArgumentParser
import Files
import Foundation
import Binarization
import Corpus
import Experiments
import Kernels
import Notebook
import Transformer

//: # When does token-adaptive scaling help?
//:
//: $$\text{gap closed} = 100 \cdot \frac{\operatorname{ppl}_{\text{OneBit}} - \operatorname{ppl}_{\text{BinaryMoS}}}{\operatorname{ppl}_{\text{OneBit}} - \operatorname{ppl}_{\text{teacher}}}\ \%, \quad \text{seed by seed, with a 95 \% interval}$$
//:
//: A binarized student can only show what its scales are worth where
//: binarizing costs something. Distil it for long enough and any student
//: relearns the model, so OneBit and BinaryMoS both end at the teacher;
//: give it a model too small to hurt and there is no gap to close. The
//: paper works at one end: 7-billion-parameter teachers, distilled on a tiny
//: share of their pretraining tokens. This chapter measures the two axes on
//: our models: the **distillation budget**, as a share of the teacher's
//: training tokens, and the **model width**, each teacher trained to the
//: same criterion (20 tokens per parameter). At each point it reports the
//: OneBit → teacher gap (how much binarizing costs) and the share of it
//: that four scaling experts close, seed by seed:
//: `swift run -c release regime --out DIR [--budgets 0.003,0.03,0.1] [--widths 32,48] [--seeds 3]`.

struct Regime: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "regime",
        abstract: "Chapter: the OneBit gap and the share BinaryMoS closes, against distillation budget and model width.")

    @OptionGroup var options: ChapterOptions
    // 10 % adds three minutes at the quick profile (`--budgets 0.003,0.03,0.1`).
    @Option(help: "Distillation budgets besides the profile's, as shares of the teacher's tokens, comma-separated.")
    var budgets = "0.003,0.03"
    @Option(help: "Model widths besides the profile's, comma-separated (each gets its own teacher).")
    var widths = "32,48"

/*:
 ## The points

 Every point compares OneBit (one expert) with BinaryMoS (four) distilled
 from the same teacher on the same seeds. The profile's own budget and width
 reuse the expert chapter's students; the other budgets distil the run's
 teacher for longer or shorter, and the other widths train a teacher of that
 width first (the profile's depth, FFN three times the width, trained to the
 same tokens per parameter on the same stream), then distil at the profile's
 budget.
 */
    func run() throws {
        let settings = try options.start()
        let shares = try list(budgets, "--budgets") { Double($0).flatMap { $0 > 0 && $0 <= 1 ? $0 : nil } }
        let dims = try list(widths, "--widths") { Int($0).flatMap { $0 >= 8 && $0 <= 1024 && $0 % 8 == 0 ? $0 : nil } }
        let text = try options.loadCorpus(settings)
        let teacher = try options.teacherPath(settings, text)
        let teacherPerplexity = try perplexity(of: teacher, text, settings)
        // The profile's own point, from the expert sweep's students (run here if absent).
        var points = [try point(teacher: teacher, profile: settings, text: text, steps: nil, teacherPerplexity,
                                csv: "experts.csv")]
        points[0].axis = "both"
        for share in shares where settings.distillSteps(fraction: share) != settings.distillSteps {
            var p = try point(teacher: teacher, profile: settings, text: text, steps: settings.distillSteps(fraction: share),
                              teacherPerplexity, csv: "regime.csv")
            p.axis = "budget"; p.budget = share; p.width = settings.model.dim
            points.append(p)
        }
        for dim in dims where dim != settings.model.dim {
            var profile = settings
            profile.model.dim = dim; profile.model.ffnHidden = 3 * dim
            // Trained once with the profile's criterion and kept with the students.
            let path = try options.teacher(named: "teacher-d\(dim)", profile, text)
            var p = try point(teacher: path, profile: profile, text: text, steps: nil,
                              try perplexity(of: path, text, profile), csv: "regime.csv")
            p.axis = "width"; p.width = dim; p.budget = settings.distillFraction
            points.append(p)
        }
        points[0].budget = settings.distillFraction; points[0].width = settings.model.dim
        try write(points, settings)
    }

    struct Point {
        var axis = "", budget = 0.0, width = 0
        var teacher: Double
        var onebit: Estimate, mos: Estimate
        var gap: Estimate           // % of the teacher's perplexity that OneBit adds, per seed
        var closed: Estimate        // % of that gap BinaryMoS E=4 closes, per seed
        var difference: Estimate    // perplexity(E=4) − perplexity(OneBit), per seed
    }

    /// OneBit and BinaryMoS E=4 from one teacher, over the seeds, compared seed by seed.
    func point(teacher: String, profile: Profile, text: Corpus, steps: Int?, _ teacherPerplexity: Double,
               csv: String) throws -> Point {
        var sweep = options.sweep(teacher: teacher, methods: [1, 4].map { Method(BinaryMoS(experts: $0)) }, corpus: text,
                                  profile: profile)
        sweep.steps = steps
        let records = try sweep.run(into: options.studentFolder.appendingPathComponent(csv), log: ChapterOptions.log)
        let byExperts = Sweep.perplexityBySeed(sweep.own(records))
        let one = byExperts[1] ?? [:], four = byExperts[4] ?? [:]
        let gap = one.mapValues { 100 * ($0 - teacherPerplexity) / teacherPerplexity }
        return Point(teacher: teacherPerplexity, onebit: Estimate(Array(one.values)), mos: Estimate(Array(four.values)),
                     gap: Estimate(Array(gap.values)), closed: gapClosed(onebit: one, four, teacher: teacherPerplexity),
                     difference: pairedDifference(one, four))
    }

    func perplexity(of teacher: String, _ text: Corpus, _ profile: Profile) throws -> Double {
        evaluate(try Student.load(from: URL(fileURLWithPath: teacher)).model, corpus: text, windows: profile.evalWindows).perplexity
    }

    func list<T>(_ text: String, _ option: String, _ parse: (String) -> T?) throws -> [T] {
        let values = text.split(separator: ",").map { parse(String($0)) }
        guard values.allSatisfy({ $0 != nil }) else { throw ValidationError("\(option) '\(text)' has a value out of range") }
        return values.map { $0! }
    }

    func write(_ points: [Point], _ settings: Profile) throws {
        let f = { (x: Double, d: Int) in x.isFinite ? String(format: "%.\(d)f", x) : "" }
        var table = CSVTable(columns: ["axis", "budget_percent", "width", "seeds", "teacher_perplexity", "onebit_perplexity",
                                       "mos4_perplexity", "onebit_gap_percent", "gap_low", "gap_high",
                                       "closed_percent", "closed_low", "closed_high", "verdict"])
        let ordered = points.sorted { ($0.width, $0.budget) < ($1.width, $1.budget) }
        for p in ordered {
            table.append([p.axis, f(100 * p.budget, 1), String(p.width), String(p.difference.count), f(p.teacher, 4),
                          f(p.onebit.mean, 4), f(p.mos.mean, 4), f(p.gap.mean, 2), f(p.gap.low, 2), f(p.gap.high, 2),
                          f(p.closed.mean, 1), f(p.closed.low, 1), f(p.closed.high, 1),
                          !p.difference.halfWidth.isFinite ? "one seed: not measured"
                              : p.difference.resolved ? (p.difference.mean < 0 ? "E=4 better, resolved" : "E=4 worse, resolved")
                              : "not resolved"])
        }
        try table.write(to: options.folder.appendingPathComponent("regime.csv"))
        try plot(settings)
        try AtomicFile.write(findings(ordered, settings), to: options.folder.appendingPathComponent("findings.md"))
    }
//: {{table: regime.csv}}
//: {{figure: regime.svg | The share of OneBit's gap that BinaryMoS closes, by distillation budget and width, with 95 % intervals.}}
//: {{include: findings.md}}

    /// What the sweep shows, from its numbers.
    func findings(_ points: [Point], _ settings: Profile) -> String {
        let f = { (x: Double) in String(format: "%.1f", x) }
        let budget = points.filter { $0.axis != "width" }.sorted { $0.budget < $1.budget }
        let width = points.filter { $0.axis != "budget" }.sorted { $0.width < $1.width }
        var s = ""
        if let first = budget.first, let last = budget.last, budget.count > 1 {
            s += "Along the budget, OneBit's cost goes from \(f(first.gap.mean)) % above the teacher at \(f(100 * first.budget)) % "
            s += "of the teacher's tokens to \(f(last.gap.mean)) % at \(f(100 * last.budget)) %. "
        }
        if let first = width.first, let last = width.last, width.count > 1 {
            s += "Across widths \(first.width) to \(last.width), it goes from \(f(first.gap.mean)) % to \(f(last.gap.mean)) %. "
        }
        let resolved = points.filter { $0.difference.resolved && $0.difference.mean < 0 }
        let worse = points.filter { $0.difference.resolved && $0.difference.mean > 0 }
        let measured = points.filter { $0.difference.halfWidth.isFinite }
        if measured.isEmpty {
            s += "With one seed per point no difference between four experts and one can be judged. "
        } else if resolved.isEmpty && worse.isEmpty {
            let widths = measured.map(\.difference.halfWidth)
            s += "At no point is the difference between four experts and one resolved with \(options.seeds) paired seeds: "
            s += "this range shows no effect of token-adaptive scaling that these seeds could resolve, which at these points "
            s += "means a difference in perplexity larger than \(String(format: "%.4f", widths.min()!)) to \(String(format: "%.4f", widths.max()!)). "
        } else {
            let name = { (p: Point) in p.axis == "width" ? "width \(p.width)" : p.axis == "budget" ? "budget \(f(100 * p.budget)) %"
                : "width \(p.width), budget \(f(100 * p.budget)) %" }
            if !resolved.isEmpty {
                s += "Four experts are resolved better than one at " + resolved.map { "\(name($0)) (closing \(f($0.closed.mean)) % [\(f($0.closed.low)), \(f($0.closed.high))])" }.joined(separator: ", ") + ". "
            }
            if !worse.isEmpty { s += "They are resolved worse at " + worse.map(name).joined(separator: ", ") + ". " }
            let unresolved = points.count - resolved.count - worse.count
            if unresolved > 0 { s += "At the other \(unresolved) point\(unresolved == 1 ? "" : "s") the interval spans zero. " }
        }
        return s + "\n"
    }

    func plot(_ settings: Profile) throws {
        try AtomicFile.write("""
            set terminal svg size 980,400 dynamic font "sans,11"
            set output "regime.svg"
            set datafile separator ","
            set datafile missing ""
            set multiplot layout 1,2
            set grid
            set key top right
            set ylabel "percent"
            set offsets graph 0.05, graph 0.05, graph 0.1, graph 0.1
            set title "against the distillation budget (width \(settings.model.dim))"
            set logscale x 10
            set xlabel "distillation tokens, % of the teacher's"
            plot "regime.csv" skip 1 using (strcol(1) ne "width" ? $2 : 1/0):8:9:10 with yerrorlines pointtype 7 title "OneBit above the teacher", \\
                 "" skip 1 using (strcol(1) ne "width" ? $2 : 1/0):11:12:13 with yerrorlines pointtype 5 title "share of that gap E=4 closes", \\
                 18 with lines dashtype 2 lc rgb "#888888" title "the paper's share (LLaMA-1-7B, E=4)"
            unset logscale x
            set title "against the model width (budget \(String(format: "%g", 100 * settings.distillFraction)) %)"
            set xlabel "model width (residual stream)"
            plot "regime.csv" skip 1 using (strcol(1) ne "budget" ? $3 : 1/0):8:9:10 with yerrorlines pointtype 7 title "OneBit above the teacher", \\
                 "" skip 1 using (strcol(1) ne "budget" ? $3 : 1/0):11:12:13 with yerrorlines pointtype 5 title "share of that gap E=4 closes", \\
                 18 with lines dashtype 2 lc rgb "#888888" title "the paper's share (LLaMA-1-7B, E=4)"
            unset multiplot
            """, to: options.folder.appendingPathComponent("regime.gp"))
    }
}

Regime.main()
