import ArgumentParser
import Files
import Foundation
import Binarization
import Corpus
import Experiments
import Kernels
import Notebook
import Transformer

//: # A first look at binarizing a trained layer
//:
//: $$W \approx \alpha \odot \operatorname{sign}(W), \qquad \alpha^\star = \arg\min_\alpha \lVert W - \alpha\,\operatorname{sign}(W) \rVert^2 = \tfrac{1}{k}\textstyle\sum |w|$$
//:
//: A binarized layer keeps one bit per weight: its sign. Everything else the
//: layer knew about magnitudes must come back through a few full-precision
//: *scales*. This chapter takes the teacher trained for this report, replaces its
//: linear layers by sign-and-scale approximations without any retraining, and
//: measures two things: how far each approximation is from the original weights,
//: and what that does to the model's predictions.
//:
//: The chapter runs on its own as well as inside the report:
//: `swift run -c release first-look --out DIR [--teacher FILE] [--profile quick] [--corpus synthetic]`.

struct FirstLook: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "first-look",
        abstract: "Chapter: binarize a trained teacher's layers by sign and scale; measure the damage.")

    @OptionGroup var options: ChapterOptions
    @Option(help: "Validation windows to score per model (default: all).") var windows: Int?

    func run() throws {
        let settings = try options.start()
        let text = try options.loadCorpus(settings)
        let model = try TransformerModel.load(from: URL(fileURLWithPath: try options.teacherPath(settings, text))).model
        try study(model, text, options.folder)
    }

/*:
 ## Three ways to choose the scales

 With the sign pattern fixed, the squared error of `α · sign(W)` is a parabola in
 α, `Σw² − 2α·Σ|w| + α²·count`, whose lowest point is **α = mean |w|**. That is
 the XNOR-Net choice. The question is only *how many* α's to keep:

 - **one per tensor**: a single number for the whole matrix;
 - **one per output row**: rows with larger weights get a larger α;
 - **OneBit's dual scales**: a scale per output row *and* per input column,
   `W ≈ sign(W) ⊙ (h · gᵀ)`, taken from the best rank-1 approximation of |W|
   (found by power iteration). BinaryMoS starts from exactly these scales and
   then makes them depend on the token.

 In the library, the first two are one function (α per tensor or per row),
 the third a power iteration on |W|:

 {{source: Sources/Binarization/SignScale.swift#sign-scale}}

 {{source: Sources/Binarization/RankOne.swift#rank-one}}

 The table lists, for every linear layer of every block, the relative error
 ‖W − Ŵ‖/‖W‖ of each choice.
 */
    func study(_ model: TransformerModel, _ text: Corpus, _ folder: URL) throws {
        var errors = CSVTable(columns: ["layer", "block", "rows", "cols", "per_tensor", "per_row", "rank_one"])
        var approximations: [String: [[Float]]] = ["per_tensor": [], "per_row": [], "rank_one": []]
        var layers: [DenseLinear] = []
        for (l, block) in model.blocks.enumerated() {
            for (name, layer) in block.linears {
                guard let dense = layer as? DenseLinear else { continue }
                let w = dense.weight.value, (rows, cols) = (w.shape[0], w.shape[1])
                let out = Tensor(w.shape)
                var row: [CustomStringConvertible] = [name, l, rows, cols]
                for kind in ["per_tensor", "per_row", "rank_one"] {
                    if kind == "rank_one" {
                        RankOneScales(absoluteOf: w.pointer, rows: rows, cols: cols).binarize(out.data, w.pointer)
                    } else {
                        let scales = signScales(w.pointer, rows: rows, cols: cols, perRow: kind == "per_row")
                        signBinarize(out.data, w.pointer, rows: rows, cols: cols, scales: scales)
                    }
                    row.append(CSVTable.format(relativeError(w.pointer, out.pointer, count: w.count), digits: 4))
                    approximations[kind]!.append(out.array)
                }
                errors.append(row)
                layers.append(dense)
            }
        }
        try errors.write(to: folder.appendingPathComponent("weight-error.csv"))
//: {{table: weight-error.csv}}
/*:
 ## What the model says

 Weight error is a proxy. What matters is the next-byte loss: below, the teacher
 is evaluated on the validation split with *all* its block layers replaced at
 once (embeddings, norms and the head stay in full precision, as in every method
 of this report). No retraining happens here; that is what OneBit and BinaryMoS
 add on top.
 */
        var quality = CSVTable(columns: ["model", "bits_per_byte", "perplexity", "floor_bits_per_byte"])
        let originals = layers.map { $0.weight.value.array }
        func score(_ label: String) -> Evaluation {
            let e = evaluate(model, corpus: text, windows: windows)
            quality.append([label, CSVTable.format(e.bitsPerByte, digits: 4), CSVTable.format(e.perplexity, digits: 4),
                            e.floorBitsPerByte.map { CSVTable.format($0, digits: 4) } ?? ""])
            return e
        }
        func install(_ weights: [[Float]]) {
            for (layer, values) in zip(layers, weights) {
                values.withUnsafeBufferPointer { layer.weight.value.data.update(from: $0.baseAddress!, count: values.count) }
            }
        }
        let full = score("full precision")
        var results: [String: Evaluation] = [:]
        for (kind, label) in [("per_tensor", "sign, one α per tensor"), ("per_row", "sign, one α per row"),
                              ("rank_one", "sign, OneBit rank-1 scales")] {
            install(approximations[kind]!)
            results[kind] = score(label)
        }
        install(originals)
        try quality.write(to: folder.appendingPathComponent("model-quality.csv"))
//: {{table: model-quality.csv}}
//: {{include: findings.md}}
        let meanError = { (kind: String) -> Double in
            let column = errors.column(kind)!.compactMap(Double.init)
            return column.reduce(0, +) / Double(column.count)
        }
        try AtomicFile.write(findings(full: full, results: results, meanError: meanError),
                             to: folder.appendingPathComponent("findings.md"))
        try histogram(layers[layers.count / 2], approximations["rank_one"]![layers.count / 2], folder)
        try alphaSweep(layers[layers.count / 2], folder)
        try flowDiagram(model.config, folder)
    }

    /// Sentences that quote this run's numbers, with conclusions chosen by the data.
    func findings(full: Evaluation, results: [String: Evaluation], meanError: (String) -> Double) -> String {
        let t = results["per_tensor"]!, r = results["per_row"]!, o = results["rank_one"]!
        let f = { (x: Double) in String(format: "%.3f", x) }
        let best = [("one α per tensor", t), ("one α per row", r), ("OneBit's rank-1 scales", o)]
            .min { $0.1.bitsPerByte < $1.1.bitsPerByte }!
        var s = "In this run the full-precision teacher scores **\(f(full.bitsPerByte)) bits per byte**"
        if let floor = full.floorBitsPerByte { s += " (the generator's entropy floor on the same bytes is \(f(floor)))" }
        s += ". Binarizing every block layer without retraining gives \(f(t.bitsPerByte)) with one α per tensor, "
        s += "\(f(r.bitsPerByte)) with one α per row and \(f(o.bitsPerByte)) with OneBit's rank-1 scales; "
        s += "the best of the three here is \(best.0). "
        s += "The mean relative weight error falls from \(f(meanError("per_tensor"))) (per tensor) to "
        s += "\(f(meanError("per_row"))) (per row) and \(f(meanError("rank_one"))) (rank-1). "
        let lost = best.1.bitsPerByte - full.bitsPerByte
        s += lost > 0.05
            ? "Even the best choice loses \(f(lost)) bits per byte: one bit per weight with static scales is not enough, which is why OneBit and BinaryMoS train the scales (and the latent weights) by distillation."
            : "The best choice loses only \(f(lost)) bits per byte on this model."
        return s + "\n"
    }

/*:
 ## Before and after

 The histogram shows the weights of one layer (the middle one in block order)
 before binarization, and the values the rank-1 scales give back: every weight
 becomes ±hᵣ·g_c, so the continuous bell is replaced by a spread that only the
 scales shape.

 {{figure: histogram.svg | The distribution of one layer's weights and of its binarized approximations.}}

 And the parabola: the relative error of α·sign(W) for that layer as α moves
 around mean|W|. The minimum sits at 1 by construction.

 {{figure: alpha.svg | The squared error of α·sign(W) as α varies; its minimum is mean |w|.}}
 */
    func histogram(_ layer: DenseLinear, _ binarized: [Float], _ folder: URL) throws {
        let w = layer.weight.value.array
        let limit = Double(w.map { abs($0) }.max()!) * 1.05, bins = 60
        var counts = [[Int]](repeating: [0, 0], count: bins)
        for (k, values) in [w, binarized].enumerated() {
            for x in values {
                let b = min(bins - 1, max(0, Int((Double(x) + limit) / (2 * limit) * Double(bins))))
                counts[b][k] += 1
            }
        }
        var table = CSVTable(columns: ["value", "latent", "binarized"])
        for b in 0..<bins {
            table.append([CSVTable.format(-limit + (Double(b) + 0.5) * 2 * limit / Double(bins), digits: 4),
                          counts[b][0], counts[b][1]])
        }
        try table.write(to: folder.appendingPathComponent("histogram.csv"))
        try AtomicFile.write("""
            set terminal svg size 720,360 dynamic font "sans,11"
            set output "histogram.svg"
            set datafile separator ","
            set key top right
            set xlabel "weight value (\(layer.weight.name))"
            set ylabel "count"
            set style fill transparent solid 0.5 noborder
            plot "histogram.csv" using 1:2 with boxes title "full precision", \\
                 "" using 1:3 with boxes title "sign ⊙ rank-1 scales"
            """, to: folder.appendingPathComponent("histogram.gp"))
    }

    func alphaSweep(_ layer: DenseLinear, _ folder: URL) throws {
        let w = layer.weight.value, (rows, cols) = (w.shape[0], w.shape[1])
        let best = signScales(w.pointer, rows: rows, cols: cols, perRow: false)
        let out = Tensor(w.shape)
        var table = CSVTable(columns: ["alpha_over_mean_abs", "relative_error"])
        for k in 0...40 {
            let factor = 0.25 + 1.5 * Double(k) / 40
            signBinarize(out.data, w.pointer, rows: rows, cols: cols, scales: best.map { $0 * Float(factor) })
            table.append([CSVTable.format(factor, digits: 4),
                          CSVTable.format(relativeError(w.pointer, out.pointer, count: w.count), digits: 5)])
        }
        try table.write(to: folder.appendingPathComponent("alpha.csv"))
        try AtomicFile.write("""
            set terminal svg size 720,320 dynamic font "sans,11"
            set output "alpha.svg"
            set datafile separator ","
            set xlabel "α / mean|W|"
            set ylabel "‖W − α·sign(W)‖ / ‖W‖"
            set key off
            set grid
            plot "alpha.csv" using 1:2 with linespoints pointtype 7 pointsize 0.5
            """, to: folder.appendingPathComponent("alpha.gp"))
    }

/*:
 ## The layer as a data flow

 A OneBit layer, drawn with this model's sizes: the input is scaled per channel,
 multiplied by the sign matrix (the only part stored at one bit per weight), and
 scaled per output. BinaryMoS keeps this flow and replaces the two fixed scale
 vectors by a per-token mixture of several.

 {{figure: flow.svg | One binarized layer as a data flow.}}
 */
    func flowDiagram(_ c: ModelConfig, _ folder: URL) throws {
        let (m, n) = (c.dim, c.ffnHidden)
        let dot = """
            digraph onebit {
              rankdir=LR; node [shape=box, style="rounded,filled", fillcolor="#eeeeff", fontname="sans"];
              x [label=\(DOT.quote(lines: ["x  [\(m)]", "token's input"]))];
              gin [label=\(DOT.quote(lines: ["⊙ g  (input scale)", "\(m) values, 16 bit"])), fillcolor="#ffeedd"];
              b [label=\(DOT.quote(lines: ["· sign(W)ᵀ", "\(n)×\(m) = \(n * m) bits"])), fillcolor="#ddeeff"];
              hout [label=\(DOT.quote(lines: ["⊙ h  (output scale)", "\(n) values, 16 bit"])), fillcolor="#ffeedd"];
              y [label=\(DOT.quote("y  [\(n)]"))];
              x -> gin -> b -> hout -> y;
            }
            """
        try AtomicFile.write(dot, to: folder.appendingPathComponent("flow.dot"))
        try AtomicFile.write(try Graphviz.renderSVG(dot: dot), to: folder.appendingPathComponent("flow.svg"))
    }
}

FirstLook.main()
