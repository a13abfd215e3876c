import ArgumentParser
import Files
import Foundation
import Binarization
import Corpus
import Experiments
import Kernels
import Notebook
import Transformer

//: # Below one bit: a codebook of signs
//:
//: $$w_{rj} \approx S_{out,r}\; c_{\,\operatorname{idx}(r,\lfloor j/v \rfloor),\; j \bmod v}\; S_{in,j}, \qquad \text{bits per weight} = \frac{b}{v} + \frac{2^b v}{n m} + \frac{16\,(n + m)}{n m}$$
//:
//: One bit a weight is not a floor. A layer's sign matrix repeats itself: cut
//: each row into sub-vectors of v signs, and far fewer than 2^v distinct
//: patterns occur often. BTC-LLM clusters them into a codebook of K = 2^b
//: binary centroids and stores each sub-vector as a b-bit index, so the signs
//: cost b / v bits a weight; the scales stay OneBit's:
//:
//:     w_rj ≈ S_out[r] · c(r, j) · S_in[j],   c(r, j) = bit (j mod v) of the centroid that sub-vector ⌊j / v⌋ of row r points to
//:
//: This chapter sweeps b / v from 0.6 to 1.0 on our teacher, post-training and
//: with the two scale vectors then distilled by BinaryMoS's recipe (the signs,
//: being indices, stay as clustered), each with and without BTC's learned
//: rotation of the inputs, next to OneBit and BinaryMoS distilled at one bit.
//: `swift run -c release codebook --out DIR [--teacher FILE] [--bits 0.6,0.7,0.8,0.9,1.0]`.

struct Codebook: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "codebook",
        abstract: "Chapter: BTC's binary codebook below one bit, perplexity against bits per weight.")

    @OptionGroup var options: ChapterOptions
    @Option(help: "Index bits per weight, comma-separated (each sub-vector of 10 gets round(10·B) bits).")
    var bits = "0.6,0.7,0.8,0.9,1.0"

    func run() throws {
        let settings = try options.start()
        let rates = bits.split(separator: ",").compactMap { Double($0) }
        let variants = [false, true].flatMap { transform in rates.map { BTC(bitsPerWeight: $0, transform: transform) } }
        let methods = variants.map(Method.init)
        let distilledMethods = variants.map { Method(BTC(bitsPerWeight: $0.bitsPerWeight, distill: true, transform: $0.transform)) }
        guard !rates.isEmpty, rates.count == bits.split(separator: ",").count,
              methods.allSatisfy({ $0.problems.isEmpty }) else {
            throw ValidationError("--bits '\(bits)' is not a list of rates between 0.1 and 1.6")
        }
        let text = try options.loadCorpus(settings)
        let teacherPath = try options.teacherPath(settings, text)
        let log = ChapterOptions.log
        var sweep = options.sweep(teacher: teacherPath, methods: methods, corpus: text, profile: settings)
        sweep.saveDirectory = options.studentFolder
        let codebooks = sweep.own(try sweep.run(into: options.studentFolder.appendingPathComponent("codebook.csv"), log: log))
        // OneBit and BinaryMoS are the expert sweep's students; the distilled codebooks are new.
        var distilled: [SweepRecord] = []
        for (methods, csv) in [([1, 4].map { Method(BinaryMoS(experts: $0)) }, "experts.csv"), (distilledMethods, "codebook-distilled.csv")] {
            var trained = options.sweep(teacher: teacherPath, methods: methods, corpus: text, profile: settings)
            trained.saveDirectory = options.studentFolder
            distilled += trained.own(try trained.run(into: options.studentFolder.appendingPathComponent(csv), log: log))
        }
        let teacher = try Student.load(from: URL(fileURLWithPath: teacherPath)).model
        let rows = try summarize(codebooks, distilled: distilled, rates: rates, teacher: teacher, students: options.studentFolder, options.folder)
        try diagram(teacher, options.folder)
        try plot(distilled, options.folder)
        try AtomicFile.write(findings(rows, distilled), to: options.folder.appendingPathComponent("findings.md"))
    }

/*:
 ## The sweep

 Each rate B gives every sub-vector of v = 10 signs round(10·B) index bits,
 so K = 2^(10·B) centroids per layer: 64 at 0.6, 1024 at 1.0. The k-means
 starts from the layer's K most frequent patterns, assigns each sub-vector to
 its nearest centroid in Hamming distance, and sets every centroid bit by the
 majority of its members, for ten rounds or until nothing moves:

 {{source: Sources/Binarization/Codebook.swift#k-means}}

 `agreement`
 is the share of the teacher's sign bits the codebook reproduces, averaged
 over the layers. Bits per weight count the indices, the codebook and the
 scales: **as stored in this compact model**, whose layers hold only a few
 thousand sub-vectors, so that a codebook of 2^(10·B) × 10 bits weighs a
 lot, and **as LLaMA-1-7B would store them**, where it weighs nothing.

 ## The learned rotation

 The signs the codebook clusters need not be W's own. For any orthogonal R,
 W x = (W R)(Rᵀ x): the layer may store a code of W R and rotate each token
 first. BTC-LLM learns such a transformation so that the weights binarize
 better; here it is a Kronecker product R₁ ⊗ R₂ of two small rotations,
 cheap to store and to apply:

 {{source: Sources/Binarization/KroneckerRotation.swift#rotation}}

 and it is learned by alternating, as iterative quantization learns its
 rotation: encode W R, then take each factor's Procrustes solution towards
 that code with the other fixed, and encode again, while the layer's error
 falls:

 {{source: Sources/Binarization/KroneckerRotation.swift#learning}}

 The `rotated_` columns are the same rates with the rotation learned first;
 their agreement is with the signs of W R, and their bits include the two
 factors at 16 bits a number.
 */
    struct Row {
        var rate: Double, centroids: Int, agreement: Double, perplexity: Double, bitsCompact: Double, bitsLlama: Double
        var distilled: Estimate
        var againstOneBit: Estimate     // distilled, seed by seed, minus OneBit
        var rotated: Rotated
    }

    /// The same rate with the learned rotation.
    struct Rotated {
        var agreement: Double, perplexity: Double, bitsCompact: Double, bitsLlama: Double
        var distilled: Estimate
        var againstPlain: Estimate      // distilled, seed by seed, minus distilled without the rotation
    }

    /// A sweep student's codes, as stored, and their agreement with the teacher's signs (of W R where rotated).
    func agreement(_ method: BTC, layers: [DenseLinear], students: URL) throws -> Double {
        let student = try Student.load(from: students.appendingPathComponent(Sweep.fileName(Method(method), seed: 1))).model
        let codes = student.blocks.flatMap(\.linears).map { ($0.layer as! QuantizedLinear).code as! CodebookCode }
        return zip(codes, layers).map { $0.agreement(with: $1.weight.value.pointer) }.reduce(0, +) / Double(layers.count)
    }

    func summarize(_ records: [SweepRecord], distilled: [SweepRecord], rates: [Double], teacher: TransformerModel, students: URL,
                   _ folder: URL) throws -> [Row] {
        let llama = ModelShape.named["llama-1-7b"]!
        let layers = teacher.blocks.flatMap(\.linears).map { $0.layer as! DenseLinear }
        let oneBit = Sweep.perplexityBySeed(distilled)[1] ?? [:]
        var rows: [Row] = []
        for rate in rates {
            let method = BTC(bitsPerWeight: rate), rotated = BTC(bitsPerWeight: rate, transform: true)
            guard let record = records.first(where: { $0.method == Method(method) }),
                  let rotatedRecord = records.first(where: { $0.method == Method(rotated) }) else { continue }
            let bySeed = Sweep.perplexityBySeed(distilled, of: Method(BTC(bitsPerWeight: rate, distill: true)))
            let rotatedBySeed = Sweep.perplexityBySeed(distilled, of: Method(BTC(bitsPerWeight: rate, distill: true, transform: true)))
            rows.append(Row(rate: rate, centroids: 1 << method.indexBits,
                            agreement: try agreement(method, layers: layers, students: students), perplexity: record.perplexity,
                            bitsCompact: record.bitsPerWeight,
                            bitsLlama: Storage.model(llama, Method(method)).linearBitsPerWeight,
                            distilled: Estimate(Array(bySeed.values)), againstOneBit: pairedDifference(oneBit, bySeed),
                            rotated: Rotated(agreement: try agreement(rotated, layers: layers, students: students),
                                             perplexity: rotatedRecord.perplexity, bitsCompact: rotatedRecord.bitsPerWeight,
                                             bitsLlama: Storage.model(llama, Method(rotated)).linearBitsPerWeight,
                                             distilled: Estimate(Array(rotatedBySeed.values)),
                                             againstPlain: pairedDifference(bySeed, rotatedBySeed))))
        }
        var table = CSVTable(columns: ["index_bits_per_weight", "centroids", "agreement", "perplexity", "distilled_mean",
                                       "distilled_std", "bits_compact", "bits_llama7b", "rotated_agreement", "rotated_perplexity",
                                       "rotated_distilled_mean", "rotated_distilled_std", "rotated_bits_compact", "rotated_bits_llama7b"])
        let f = { (x: Double) in String(format: "%.4f", x) }
        for r in rows {
            table.append([CSVTable.format(r.rate), r.centroids, f(r.agreement), f(r.perplexity), f(r.distilled.mean), f(r.distilled.std),
                          f(r.bitsCompact), f(r.bitsLlama), f(r.rotated.agreement), f(r.rotated.perplexity),
                          f(r.rotated.distilled.mean), f(r.rotated.distilled.std), f(r.rotated.bitsCompact), f(r.rotated.bitsLlama)])
        }
        try table.write(to: folder.appendingPathComponent("codebook.csv"))
        return rows
    }
//: {{table: codebook.csv}}

/*:
 ## One row, drawn

 The first four sub-vectors of the first row of block 0's q projection at
 0.8 bits per weight (256 centroids): each sub-vector's signs, the index it
 is stored as, and the centroid that index stands for; a centroid bit that
 differs from the sub-vector's is one sign the codebook gets wrong.

 {{figure: codebook-flow.svg | Four sub-vectors of a row, the indices they are stored as, and the centroids those stand for.}}
 */
    func diagram(_ teacher: TransformerModel, _ folder: URL) throws {
        let layer = teacher.blocks[0].q as! DenseLinear, method = BTC(bitsPerWeight: 0.8)
        let w = layer.weight.value.pointer, (n, m, v) = (layer.outFeatures, layer.inFeatures, method.vector)
        let code = CodebookCode(w, rows: n, cols: m, vector: v, indexBits: method.indexBits)
        let bits = { (value: (Int) -> Bool) in (0..<v).map { value($0) ? "+" : "−" }.joined() }
        var dot = """
            digraph codebook {
              rankdir=LR; nodesep=0.3; ranksep=1.0;
              node [shape=box, style="rounded,filled", fontname="monospace", fontsize=11];
              edge [fontname="sans", fontsize=9, color="#445588"];
              label=\(DOT.quote("sub-vectors of sign(W) → b-bit indices → centroids of the codebook")); labelloc=t;

            """
        for c in 0..<min(4, code.chunks) {
            let signs = bits { t in c * v + t < m && w[c * v + t] >= 0 }
            let index = code.indices[c]
            let centroid = bits { code.codebook[index] >> UInt32($0) & 1 == 1 }
            let wrong = zip(signs, centroid).filter { $0 != $1 }.count
            dot += "  sub\(c) [label=\(DOT.quote(lines: ["columns \(c * v)–\(min(m, (c + 1) * v) - 1)", signs])), fillcolor=\"#eeeeff\"];\n"
            dot += "  index\(c) [label=\(DOT.quote(lines: ["index", "\(index) (\(method.indexBits) bits)"])), fillcolor=\"#ffeedd\"];\n"
            dot += "  centroid\(c) [label=\(DOT.quote(lines: ["centroid \(index)", centroid, wrong == 0 ? "exact" : "\(wrong) sign\(wrong == 1 ? "" : "s") off"])), fillcolor=\"#eeffee\"];\n"
            dot += "  sub\(c) -> index\(c) [label=\"nearest\"];\n  index\(c) -> centroid\(c) [label=\"lookup\"];\n"
        }
        dot += "}\n"
        try AtomicFile.write(dot, to: folder.appendingPathComponent("codebook-flow.dot"))
        try AtomicFile.write(try Graphviz.renderSVG(dot: dot), to: folder.appendingPathComponent("codebook-flow.svg"))
    }

/*:
 ## Against one bit

 Perplexity against the stored bits per weight of this compact model: the
 codebook's rates as lines, post-training and with distilled scales (mean
 and standard deviation over seeds), each with and without the learned
 rotation, OneBit and BinaryMoS (distilled) as points.

 {{figure: codebook.svg | Perplexity against stored bits per weight: the codebook post-training and with distilled scales, with and without the learned rotation, beside OneBit and BinaryMoS.}}
 */
    func plot(_ distilled: [SweepRecord], _ folder: URL) throws {
        var points = CSVTable(columns: ["label", "bits", "perplexity_mean", "perplexity_std"])
        for (e, label) in [(1, "OneBit"), (4, "BinaryMoS E=4")] {
            let picked = distilled.filter { ($0.method.kind as? BinaryMoS)?.experts == e }
            guard let first = picked.first else { continue }
            let (mean, std) = meanAndDeviation(picked.map(\.perplexity))
            points.append([label, String(format: "%.4f", first.bitsPerWeight), String(format: "%.4f", mean), String(format: "%.4f", std)])
        }
        try points.write(to: folder.appendingPathComponent("codebook-points.csv"))
        try AtomicFile.write("""
            set terminal svg size 720,380 dynamic font "sans,11"
            set output "codebook.svg"
            set datafile separator ","
            set xlabel "bits per weight of the block layers, as stored in this model"
            set ylabel "validation perplexity (per byte)"
            set key top right
            set grid
            set offsets graph 0.05, graph 0.05, graph 0.1, graph 0.1
            plot "codebook.csv" skip 1 using 7:4 with linespoints pointtype 7 title "BTC codebook (post-training)", \\
                 "codebook.csv" skip 1 using 7:5:6 with yerrorlines pointtype 9 title "BTC codebook, scales distilled", \\
                 "codebook.csv" skip 1 using 13:10 with linespoints pointtype 6 dashtype 2 title "rotated, post-training", \\
                 "codebook.csv" skip 1 using 13:11:12 with yerrorlines pointtype 8 dashtype 2 title "rotated, scales distilled", \\
                 "codebook-points.csv" skip 1 using 2:3:4 with yerrorbars pointtype 5 title "OneBit, BinaryMoS E=4 (distilled)"
            """, to: folder.appendingPathComponent("codebook.gp"))
    }
//: {{include: findings.md}}

    func findings(_ rows: [Row], _ distilled: [SweepRecord]) -> String {
        guard let last = rows.last, let first = rows.first else { return "No codebook students.\n" }
        let f = { (x: Double) in String(format: "%.4f", x) }
        var s = "From \(CSVTable.format(first.rate)) to \(CSVTable.format(last.rate)) index bits per weight, the codebook keeps "
        s += "\(String(format: "%.1f", 100 * first.agreement)) % to \(String(format: "%.1f", 100 * last.agreement)) % of the teacher's signs "
        s += "and scores perplexity \(f(first.perplexity)) to \(f(last.perplexity)). "
        s += "Stored in this model those rates cost \(String(format: "%.2f", first.bitsCompact)) to \(String(format: "%.2f", last.bitsCompact)) bits per weight "
        s += "(at LLaMA-1-7B's shapes \(String(format: "%.3f", first.bitsLlama)) to \(String(format: "%.3f", last.bitsLlama))). "
        let oneBit = distilled.filter { ($0.method.kind as? BinaryMoS)?.experts == 1 }
        let one = oneBit.map(\.perplexity)
        if let bits = oneBit.first?.bitsPerWeight {
            let below = rows.filter { $0.bitsCompact < bits }
            s += below.isEmpty
                ? "Every rate costs more than OneBit's \(String(format: "%.2f", bits)) bits here: at these widths the codebook outweighs what the indices save. "
                : "Below OneBit's \(String(format: "%.2f", bits)) bits as stored: \(below.map { CSVTable.format($0.rate) }.joined(separator: ", ")). "
        }
        if !one.isEmpty {
            let mean = one.reduce(0, +) / Double(one.count)
            let better = rows.filter { $0.perplexity <= mean }
            s += better.isEmpty
                ? "No rate reaches distilled OneBit's \(f(mean)) post-training. "
                : "At \(better.map { CSVTable.format($0.rate) }.joined(separator: ", ")) bits it scores no worse than distilled OneBit's \(f(mean)) post-training. "
        }
        let signed = { (x: Double) in String(format: "%+.4f", x) }
        /// A table row: the rate, a distilled perplexity, and a paired difference with its interval and verdict.
        func row(_ rate: Double, _ value: Estimate, _ d: Estimate) -> String {
            "| \(CSVTable.format(rate)) | \(f(value.mean)) ± \(f(value.std)) | \(signed(d.mean)) | "
                + (d.halfWidth.isFinite ? "[\(signed(d.low)), \(signed(d.high))] | " : "– | ")
                + (d.resolved ? (d.mean > 0 ? "worse" : "better") : "not resolved") + " |\n"
        }
        s += "\n\nWith its scales distilled by the same recipe, seed by seed against OneBit (perplexity difference, 95 % interval):\n\n"
        s += "| index bits per weight | distilled perplexity | − OneBit | 95 % interval | |\n|---|---|---|---|---|\n"
        s += rows.map { row($0.rate, $0.distilled, $0.againstOneBit) }.joined()
        if let whole = rows.first(where: { $0.agreement == 1 }), whole.againstOneBit.count > 0 {
            s += "\nAt \(CSVTable.format(whole.rate)) bits the codebook keeps every sign, so its distilled student is OneBit's layer "
            s += "with the signs frozen: the difference there, \(signed(whole.againstOneBit.mean)), is what OneBit gains "
            s += "by training its signs too (through the straight-through estimator).\n"
        }
        s += "\nWith the learned rotation first, the codebook keeps \(String(format: "%.1f", 100 * first.rotated.agreement)) % to "
        s += "\(String(format: "%.1f", 100 * last.rotated.agreement)) % of the signs of W R, and post-training perplexity goes "
        s += rows.map { "\(f($0.perplexity)) → \(f($0.rotated.perplexity)) at \(CSVTable.format($0.rate))" }.joined(separator: ", ")
        s += " (one run each: no seed changes a post-training code). Its two factors cost "
        s += "\(String(format: "%.2f", first.rotated.bitsCompact - first.bitsCompact)) bits per weight as stored here and "
        s += "\(String(format: "%.3f", first.rotated.bitsLlama - first.bitsLlama)) at LLaMA-1-7B's shapes. "
        s += "With the scales then distilled, seed by seed, rotated minus not rotated:\n\n"
        s += "| index bits per weight | rotated, distilled | − not rotated | 95 % interval | |\n|---|---|---|---|---|\n"
        s += rows.map { row($0.rate, $0.rotated.distilled, $0.rotated.againstPlain) }.joined()
        return s
    }
}

Codebook.main()
