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
//: PB-LLM keeps a small fraction r of a layer's weights, the *salient* ones, at
//: 8 bits and binarizes the rest around each row's mean. Two choices matter:
//: which weights count as salient (the largest |w|, or the largest w²/[H⁻¹]²
//: from the layer's calibration inputs, which weighs a weight by how much the
//: output needs it), and whether the binarization error of each column is
//: compensated on the columns not yet quantized (GPTQ's trick, PB-GPTQ). This
//: chapter sweeps r from 0 to 50 % under all four combinations:
//: `swift run -c release partial-binary --out DIR [--teacher FILE] [--seeds 1]`.

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
        var rows: [[String]] = []
        for saliency in Method.Saliency.allCases {
            for compensation in [false, true] {
                var method = Method(.pbllm)
                method.saliency = saliency; method.compensation = compensation
                var sweep = Sweep(teacher: teacher, method: method, corpus: text, profile: settings)
                sweep.salientRatios = ratios; sweep.seeds = options.seeds; sweep.jobs = options.threads
                rows += try sweep.run(into: options.studentFolder.appendingPathComponent("partial-binary.csv"),
                                      log: ChapterOptions.log).rows
            }
        }
        try summarize(rows, ratios: ratios, options.folder)
    }

/*:
 ## The sweep

 Each point is scored on the validation split as stored (packed). Bits per
 weight count the sign bits of the binarized weights, one byte per salient
 weight, the salient index (one bit per weight) and four 16-bit numbers per
 row, at this model's widths.
 */
    func summarize(_ rows: [[String]], ratios: [Double], _ folder: URL) throws {
        let c = Sweep.columns
        let index = { (name: String) in c.firstIndex(of: name)! }
        let variants = [("magnitude", "false"), ("magnitude", "true"), ("hessian", "false"), ("hessian", "true")]
        var table = CSVTable(columns: ["salient", "bits_per_weight"] + variants.map { "\($0.0)\($0.1 == "true" ? "+gptq" : "")" })
        for r in ratios {
            let atRatio = rows.filter { Double($0[index("salient")]) == r }
            guard let bits = atRatio.first?[index("bits_per_weight")] else { continue }
            let cells = variants.map { v -> String in
                let p = atRatio.filter { $0[index("saliency")] == v.0 && $0[index("compensation")] == v.1 }
                    .compactMap { Double($0[index("perplexity")]) }
                return p.isEmpty ? "" : String(format: "%.4f", p.reduce(0, +) / Double(p.count))
            }
            table.append([CSVTable.format(r), bits] + cells)
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
        try AtomicFile.write(findings(table), to: folder.appendingPathComponent("findings.md"))
    }
//: {{table: partial-binary.csv}}
//: {{figure: partial-binary.svg}}
//: {{include: findings.md}}

    func findings(_ table: CSVTable) -> String {
        guard let last = table.rows.last, let first = table.rows.first else { return "" }
        let names = Array(table.columns.dropFirst(2))
        let values = { (row: [String]) in row.dropFirst(2).map { Double($0) ?? .infinity } }
        let bestAtTop = zip(names, values(last)).min { $0.1 < $1.1 }!
        let bestAtZero = zip(names, values(first)).min { $0.1 < $1.1 }!
        let f = { (x: Double) in String(format: "%.3f", x) }
        var s = "With no salient weights (r = \(first[0]), \(first[1]) bits per weight) the best variant is "
            + "\(bestAtZero.0) at perplexity \(f(bestAtZero.1)); at r = \(last[0]) (\(last[1]) bits per weight) it is "
            + "\(bestAtTop.0) at \(f(bestAtTop.1)). "
        // Compensation, judged at each fraction on the mean of both saliencies.
        var helps: [String] = [], hurts: [String] = []
        for row in table.rows {
            let v = values(row), with = v[1] + v[3], without = v[0] + v[2]
            guard with.isFinite, without.isFinite else { continue }
            if with < without { helps.append(row[0]) } else if with > without { hurts.append(row[0]) }
        }
        let list = { (r: [String]) in r.count == table.rows.count ? "every fraction" : "r = " + r.joined(separator: ", ") }
        if !helps.isEmpty && !hurts.isEmpty {
            s += "Error compensation lowers the perplexity at \(list(helps)) and raises it at \(list(hurts))"
        } else if !helps.isEmpty || !hurts.isEmpty {
            s += "Error compensation \(hurts.isEmpty ? "lowers" : "raises") the perplexity at \(list(helps + hurts))"
        }
        if !helps.isEmpty || !hurts.isEmpty {
            s += " (mean of both saliencies\(options.seeds < 2 ? "; one seed, so a small difference may be seed noise" : "")). "
        }
        if !hurts.isEmpty {
            s += "It is built to lower each layer's own output error on the calibration windows (the tests check that "
                + "it does, on a layer with correlated inputs), but the model's loss is not the sum of those errors: "
                + "a layer that fits its calibration inputs better can still leave the whole model worse. "
        }
        return s + "For reference, PB-LLM's paper reports (LLaMA-7B, WikiText-2) "
            + "perplexities of 6.31 at r = 50 %, 17.19 at 20 % and 85.78 at 10 %.\n"
    }
}

PartialBinary.main()
