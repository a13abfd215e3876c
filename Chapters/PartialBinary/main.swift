import ArgumentParser
import Files
import Foundation
import Binarization
import Corpus
import Experiments
import Kernels
import Notebook
import Transformer

//: # Partial binarization
//:
//: $$\text{salient} = \text{top-}k \text{ of } \frac{w_{ij}^2}{[H^{-1}]_{jj}^2}, \qquad \hat w_{ij} = \begin{cases} \text{8-bit grid} & \text{salient} \\ \mu_i + \alpha_i\,\operatorname{sign}(w_{ij} - \mu_i) & \text{otherwise} \end{cases}$$
//:
//: PB-LLM keeps a small fraction r of a layer's weights, the *salient* ones, at
//: 8 bits and binarizes the rest around each row's mean. Two choices matter:
//: which weights count as salient (the largest |w|, or the largest w²/[H⁻¹]²
//: from the layer's calibration inputs, which weighs a weight by how much the
//: output needs it), and whether the binarization error of each column is
//: compensated on the columns not yet quantized (GPTQ's trick, PB-GPTQ). This
//: chapter sweeps r from 0 to 50 % under all four combinations:
//: `swift run -c release partial-binary --out DIR [--teacher FILE] [--seeds 1]`.
//:
//: The salient set is the k largest scores, over the whole matrix:
//:
//: {{source: Sources/Binarization/PartialBinary.swift#salient-split}}
//:
//: The salient weights get an 8-bit grid per row, the rest μ ± α per row;
//: with compensation the weights are quantized column by column through GPTQ:
//:
//: {{source: Sources/Binarization/PartialBinary.swift#binarized-rest}}
//:
//: {{source: Sources/Binarization/GPTQ.swift#update}}

struct PartialBinary: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "partial-binary",
        abstract: "Chapter: PB-LLM's salient fraction against perplexity and bits, by saliency and compensation.")

    @OptionGroup var options: ChapterOptions
    @Option(help: "Salient fractions, comma-separated.") var salient = "0,0.05,0.1,0.2,0.3,0.5"

    func run() throws {
        let settings = try options.start()
        let ratios = salient.split(separator: ",").compactMap { Double($0) }
        guard !ratios.isEmpty, ratios.allSatisfy({ (0...1).contains($0) }) else {
            throw ValidationError("--salient '\(salient)' is not a list of fractions between 0 and 1")
        }
        let text = try options.loadCorpus(settings)
        let teacher = try options.teacherPath(settings, text)
        let methods = PBLLM.Saliency.allCases.flatMap { saliency in
            [false, true].flatMap { compensation in
                ratios.map { Method(PBLLM(salient: $0, saliency: saliency, compensation: compensation)) }
            }
        }
        let sweep = options.sweep(teacher: teacher, methods: methods, corpus: text, profile: settings)
        let records = sweep.own(try sweep.run(into: options.studentFolder.appendingPathComponent("partial-binary.csv"),
                                              log: ChapterOptions.log))
        let check = try compensationCheck(teacher: teacher, text: text, ratios: ratios)
        try summarize(records, ratios: ratios, check: check, options.folder)
    }

/*:
 ## The sweep

 Each point is scored on the validation split as stored (the float
 simulation of its stored codes). Bits per
 weight count the sign bits of the binarized weights, one byte per salient
 weight, the salient index (one bit per weight) and four 16-bit numbers per
 row, at this model's widths.
 */
    /// The four variants, in the table's order: saliency, and compensation or not.
    static let variants: [(saliency: PBLLM.Saliency, compensation: Bool)] =
        [(.magnitude, false), (.magnitude, true), (.hessian, false), (.hessian, true)]

    /// One salient fraction: its bits and each variant's mean perplexity over seeds (nil: not run).
    struct Row { var ratio: Double, bits: Double, perplexity: [Double?] }

    func summarize(_ records: [SweepRecord], ratios: [Double], check: String, _ folder: URL) throws {
        var rows: [Row] = []
        for r in ratios {
            let atRatio = records.compactMap { record in
                (record.method.kind as? PBLLM).flatMap { $0.salientRatio == r ? (method: $0, record: record) : nil }
            }
            guard let bits = atRatio.first?.record.bitsPerWeight else { continue }
            rows.append(Row(ratio: r, bits: bits, perplexity: Self.variants.map { v in
                let p = atRatio.filter { $0.method.saliency == v.saliency && $0.method.compensation == v.compensation }
                    .map(\.record.perplexity)
                return p.isEmpty ? nil : p.reduce(0, +) / Double(p.count)
            }))
        }
        var table = CSVTable(columns: ["salient", "bits_per_weight"]
                             + Self.variants.map { "\($0.saliency.rawValue)\($0.compensation ? "+gptq" : "")" })
        for row in rows {
            table.append([CSVTable.format(row.ratio), CSVTable.format(row.bits, digits: 6)]
                         + row.perplexity.map { $0.map { String(format: "%.4f", $0) } ?? "" })
        }
        try table.write(to: folder.appendingPathComponent("partial-binary.csv"))
        try AtomicFile.write("""
            set terminal svg size 720,380 dynamic font "sans,11"
            set output "partial-binary.svg"
            set datafile separator ","
            set xlabel "bits per weight of the block layers (salient fraction 0 … \(ratios.max()!))"
            set ylabel "validation perplexity"
            set logscale y
            set grid
            set key top right
            plot for [i=3:6] "partial-binary.csv" using 2:i with linespoints pointsize 0.7 title columnheader(i)
            """, to: folder.appendingPathComponent("partial-binary.gp"))
        try AtomicFile.write(findings(rows, names: Array(table.columns.dropFirst(2))) + check,
                             to: folder.appendingPathComponent("findings.md"))
    }
//: {{table: partial-binary.csv}}
//: {{figure: partial-binary.svg | PB-LLM's perplexity against the salient fraction, by saliency and compensation.}}

/*:
 ## Does the compensation do its job?

 Compensation is built to lower each layer's own output error, so that is
 checked on its own, away from perplexity: at each salient fraction (Hessian
 saliency, seed 1's calibration), every quantized layer and the teacher's
 layer read the same inputs on 16 validation windows, and the table gives
 the mean of ‖Ŵx − Wx‖² / ‖Wx‖² over the layers without and with
 compensation, and on how many layers compensation lowers it. The inputs
 are first the teacher's, then each student's own (the blocks before already
 quantized), which is what GPTQ calibrates on.
 */
    func compensationCheck(teacher path: String, text: Corpus, ratios: [Double]) throws -> String {
        let teacher = try Student.load(from: URL(fileURLWithPath: path)).model
        var table = CSVTable(columns: ["salient", "layers", "plain_teacher_inputs", "compensated_teacher_inputs", "lowered",
                                       "plain_own_inputs", "compensated_own_inputs", "lowered_own"])
        var lowered: [(teacher: Int, own: Int, layers: Int)] = []
        var meanFalls = true          // on the students' own inputs, at every fraction
        for r in ratios {
            let students = [false, true].map { compensation -> TransformerModel in
                Student.make(from: teacher, method: Method(PBLLM(salient: r, compensation: compensation)), corpus: text, seed: 1)
            }
            var cells: [String] = [], counts: [Int] = []
            for source in [LayerInputs.teacher, .own] {
                let e = students.map { layerErrors($0, teacher: teacher, corpus: text, inputs: source) }
                let mean = { (k: Int) in e[k].reduce(0.0) { $0 + $1.relative } / Double(e[k].count) }
                counts.append(zip(e[0], e[1]).filter { $1.relative <= $0.relative }.count)
                cells += [String(format: "%.5f", mean(0)), String(format: "%.5f", mean(1)), String(counts.last!)]
                if source == .own { meanFalls = meanFalls && mean(1) <= mean(0) }
            }
            let layers = teacher.blocks.reduce(0) { $0 + $1.linears.count }
            lowered.append((counts[0], counts[1], layers))
            table.append([CSVTable.format(r), String(layers)] + cells)
        }
        try table.write(to: options.folder.appendingPathComponent("compensation-check.csv"))
        let list = { (picked: [Int]) in picked.map { CSVTable.format(ratios[$0]) }.joined(separator: ", ") }
        let shortTeacher = lowered.indices.filter { lowered[$0].teacher < lowered[$0].layers }
        let shortOwn = lowered.indices.filter { lowered[$0].own < lowered[$0].layers }
        var s = shortTeacher.isEmpty
            ? "On the teacher's held-out inputs, compensation lowers every layer's output error at every salient fraction. "
            : "On the teacher's held-out inputs, compensation leaves some layers worse at r = \(list(shortTeacher)) (the table above). "
        s += shortOwn.isEmpty
            ? "On each student's own held-out inputs, the kind it was calibrated on, it lowers every layer's error at every fraction: "
              + "compensation does its job; where it raises perplexity or the error on the teacher's inputs, a likely reason is that "
              + "a compensated layer fits the inputs of the quantized model before it, not the teacher's, and the model's loss is not the sum of its layers' errors. "
            : "On each student's own held-out inputs, the kind it was calibrated on, the mean error "
              + (meanFalls ? "falls at every fraction " : "does not fall at every fraction ")
              + "(\(lowered.map { "\($0.own)" }.joined(separator: ", ")) of \(lowered[0].layers) layers lowered), but not every layer's at r = \(list(shortOwn)). "
              + "A possible reason: the update is greedy, each column's correction being the best one if the columns after it stay free, "
              + "while they are then binarized too, with errors as large as the weights themselves. "
        return s
    }
//: {{table: compensation-check.csv}}
//: {{include: findings.md}}

    func findings(_ rows: [Row], names: [String]) -> String {
        guard let last = rows.last, let first = rows.first else { return "" }
        let best = { (row: Row) in zip(names, row.perplexity.map { $0 ?? .infinity }).min { $0.1 < $1.1 }! }
        let (bestAtTop, bestAtZero) = (best(last), best(first))
        let f = { (x: Double) in String(format: "%.3f", x) }, bits = { (x: Double) in String(format: "%.3f", x) }
        var s = "With no salient weights (r = \(CSVTable.format(first.ratio)), \(bits(first.bits)) bits per weight) the best variant is "
            + "\(bestAtZero.0) at perplexity \(f(bestAtZero.1)); at r = \(CSVTable.format(last.ratio)) (\(bits(last.bits)) bits per weight) it is "
            + "\(bestAtTop.0) at \(f(bestAtTop.1)). "
        // Compensation, judged at each fraction on the mean of both saliencies.
        var helps: [String] = [], hurts: [String] = []
        for row in rows {
            let v = row.perplexity.map { $0 ?? .infinity }, with = v[1] + v[3], without = v[0] + v[2]
            guard with.isFinite, without.isFinite else { continue }
            if with < without { helps.append(CSVTable.format(row.ratio)) } else if with > without { hurts.append(CSVTable.format(row.ratio)) }
        }
        let list = { (r: [String]) in r.count == rows.count ? "every fraction" : "r = " + r.joined(separator: ", ") }
        if !helps.isEmpty && !hurts.isEmpty {
            s += "Error compensation lowers the perplexity at \(list(helps)) and raises it at \(list(hurts))"
        } else if !helps.isEmpty || !hurts.isEmpty {
            s += "Error compensation \(hurts.isEmpty ? "lowers" : "raises") the perplexity at \(list(helps + hurts))"
        }
        if !helps.isEmpty || !hurts.isEmpty {
            s += " (mean of both saliencies\(options.seeds < 2 ? "; one seed, so a small difference may be seed noise" : "")). "
        }
        return s + "For reference, PB-LLM's paper reports (LLaMA-7B, WikiText-2) "
            + "perplexities of 6.31 at r = 50 %, 17.19 at 20 % and 85.78 at 10 %.\n"
    }
}

PartialBinary.main()
