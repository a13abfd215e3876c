import ArgumentParser
import Files
import Foundation
import Binarization
import Corpus
import Experiments
import Kernels
import Notebook
import Transformer

//: # What the router does
//:
//: $$G_t = \operatorname{softmax}(W_R\,x_t) \in \Delta^{E-1}, \qquad H(G_t) = -\sum_{e=1}^{E} G_{te} \log G_{te} \;\le\; \log E$$
//:
//: A BinaryMoS layer keeps a router, `W_R`, that turns each token into E gate
//: values, `G = softmax(W_R·x)`. The gates decide how much of each expert's
//: input and output scales the token gets. Do the routers of a trained student
//: use this freedom, or do they settle on one expert, or spread evenly? This
//: chapter opens up the four-expert students of the expert sweep and looks at
//: their gates on validation text, as the paper's Figure 3 does:
//: `swift run -c release router --out DIR [--students DIR] [--teacher FILE]`.

//:
//: The router is the first few lines of the layer's forward pass:
//:
//: {{source: Sources/Binarization/MixtureOfScales.swift#router}}

struct Router: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "router",
        abstract: "Chapter: gate entropy, expert usage, heat map, scales and routing-flow diagrams of BinaryMoS students.")

    @OptionGroup var options: ChapterOptions
    @Option(help: "Validation windows whose tokens are routed.") var windows = 16

    // The students of seed 1 from the expert sweep's folder (--students); made here when missing.
    func run() throws {
        let settings = try options.start()
        let text = try options.loadCorpus(settings)
        let mos = try student(experts: 4, settings, text, options.studentFolder)
        let oneBit = try student(experts: 1, settings, text, options.studentFolder)
        try study(mos, oneBit, text, options.folder)
    }

    /// The sweep's student with `experts` experts and seed 1, binarized here if the sweep has not run.
    func student(experts: Int, _ settings: Profile, _ text: Corpus, _ folder: URL) throws
        -> (model: TransformerModel, history: RouterHistory?) {
        let method = Method(BinaryMoS(experts: experts))
        let file = folder.appendingPathComponent(Sweep.fileName(method, seed: 1))
        if !FileManager.default.fileExists(atPath: file.path) {
            var sweep = options.sweep(teacher: try options.teacherPath(settings, text), methods: [method], corpus: text,
                                      profile: settings)
            sweep.seeds = 1; sweep.saveDirectory = folder
            try sweep.run(into: folder.appendingPathComponent("experts.csv"), log: ChapterOptions.log)
        }
        return (try Student.load(from: file).model, try RouterHistory(Safetensors.read(from: file)))
    }

/*:
 ## Entropy and usage, layer by layer

 The student runs (in float, so that its gates can be read) over validation
 windows. The picture shows, for every binarized projection (a row), each
 expert's mean gate and, on the right, the gate entropy; the table below it,
 folded, has the same numbers and more. For every projection the table gives the gate entropy
 −Σ G_e ln G_e divided by ln E, averaged over tokens (1: every token mixes all
 experts equally; 0: every token picks one), the share of tokens whose
 entropy is below one half, and each expert's mean gate. On the synthetic
 corpus, whose generator knows which register (prose, arithmetic, brackets,
 copying) every byte belongs to, the last column is the mutual information
 between the register and the router's favourite expert, in bits (at most
 log₂ 4 = 2).
 */
    func study(_ mos: (model: TransformerModel, history: RouterHistory?),
               _ oneBit: (model: TransformerModel, history: RouterHistory?), _ text: Corpus, _ folder: URL) throws {
        let model = mos.model, E = 4, length = model.config.context
        let starts = text.validationWindows(length: length, limit: windows)
        let (inputs, targets) = text.windows(at: starts, length: length)
        model.forward(tokens: inputs, targets: targets, batch: starts.count, length: length)
        let rows = model.lastRows
        let registers: [UInt8]? = text.registers.map { r in starts.flatMap { s in (s..<(s + length)).map { r[$0] } } }
        var layers: [LayerGates] = []
        for (l, block) in model.blocks.enumerated() {
            for (name, layer) in block.linears {
                guard let router = layer as? MixtureOfScalesLinear else { continue }
                let g = router.lastGates
                var entropy = 0.0, low = 0, usage = [Double](repeating: 0, count: E)
                for r in 0..<rows {
                    var h = 0.0
                    for e in 0..<E { let p = Double(g[r * E + e]); usage[e] += p; if p > 0 { h -= p * log(p) } }
                    h /= log(Double(E))
                    entropy += h
                    if h < 0.5 { low += 1 }
                }
                let favourite = (0..<rows).map { r in (0..<E).max { g[r * E + $0] < g[r * E + $1] }! }
                layers.append(LayerGates(block: l, name: name, layer: router, entropy: entropy / Double(rows),
                                         lowShare: Double(low) / Double(rows), usage: usage.map { $0 / Double(rows) },
                                         information: registers.map { mutualInformation(favourite, $0.map(Int.init)) }))
            }
        }
        var table = CSVTable(columns: ["block", "layer", "entropy", "low_entropy_share"] + (0..<E).map { "usage\($0)" }
                             + ["register_information_bits"])
        for g in layers {
            table.append([g.block, g.name, String(format: "%.3f", g.entropy), String(format: "%.3f", g.lowShare)]
                         + g.usage.map { String(format: "%.3f", $0) } + [g.information.map { String(format: "%.3f", $0) } ?? ""])
        }
        try table.write(to: folder.appendingPathComponent("router-layers.csv"))
        try usageMap(layers, experts: E, folder)
        try trainingHistory(mos.history, folder)
        // The paper looks at the output projection of a middle block; we add the most decided layer.
        let middle = layers.first { $0.block == model.config.layers / 2 && $0.name == "o" }!
        let decided = layers.min { $0.entropy < $1.entropy }!
        try heatMap(middle.layer, inputs: inputs, label: "block \(middle.block) \(middle.name)", folder)
        try scales(middle.layer, oneBit: oneBit.model.blocks[middle.block].linears.first { $0.name == "o" }!.layer,
                   rows: rows, folder)
        for (chosen, name) in [(middle, "flow-middle"), (decided, "flow-decided")] {
            try flowDiagram(chosen.layer, inputs: inputs, title: "block \(chosen.block), \(chosen.name)", name: name, folder)
        }
        let registerEntropy = registers.map { r in mutualInformation(r.map(Int.init), r.map(Int.init)) }
        try AtomicFile.write(findings(layers, middle: (middle.block, middle.name), decided: (decided.block, decided.name),
                                      registerEntropy: registerEntropy), to: folder.appendingPathComponent("findings.md"))
    }
//: {{figure: router-usage.svg | Each projection's mean gate per expert, and its gate entropy (1: uniform).}}
//:
//: {{folded-table: router-layers.csv}}

    /// Layer × expert mean gates beside layer × entropy, as two heat maps.
    func usageMap(_ layers: [LayerGates], experts E: Int, _ folder: URL) throws {
        let usage = layers.map { g in g.usage.map { String(format: "%.4f", $0) }.joined(separator: " ") }
        try AtomicFile.write(usage.joined(separator: "\n") + "\n", to: folder.appendingPathComponent("router-usage.dat"))
        try AtomicFile.write(layers.map { String(format: "%.4f", $0.entropy) }.joined(separator: "\n") + "\n",
                             to: folder.appendingPathComponent("router-entropy.dat"))
        let tics = layers.enumerated().map { "\(gnuplotString("block \($0.element.block) \($0.element.name)")) \($0.offset)" }
            .joined(separator: ", ")
        let height = 120 + 16 * layers.count
        try AtomicFile.write("""
            set terminal svg size 720,\(height) dynamic font "sans,10"
            set output "router-usage.svg"
            set multiplot layout 1,2 columns
            set ytics (\(tics))
            set yrange [\(layers.count) - 0.5:-0.5]
            set palette defined (0 "#ffffff", 1 "#2b6cb0")
            set cbrange [0:1]
            set lmargin at screen 0.16; set rmargin at screen 0.62
            set xtics 1
            set xlabel "expert"
            set xrange [-0.5:\(E) - 0.5]
            set title "mean gate"
            plot "router-usage.dat" matrix with image pixels notitle, \\
                 "router-usage.dat" matrix using 1:2:(sprintf("%.2f", $3)) with labels font "sans,8" notitle
            set lmargin at screen 0.74; set rmargin at screen 0.95
            unset ytics
            unset colorbox
            set xtics 0.5
            set xlabel "entropy / ln E"
            set xrange [0:1]
            set title "gate entropy"
            set style fill solid 0.7 noborder
            plot "router-entropy.dat" using ($1 / 2):0:($1 / 2):(0.4) with boxxyerror lc rgb "#2b6cb0" notitle, \\
                 "" using (0.03):0:(sprintf("%.2f", $1)) with labels left font "sans,8" tc rgb "#ffffff" notitle
            unset multiplot
            """, to: folder.appendingPathComponent("router-usage.gp"))
    }
/*:
 ## Routing during training

 The distillation recorded, every tenth of its steps, the mean gate entropy
 of every layer on fixed validation windows. The plot averages it over the
 blocks for each kind of projection: the routers start almost uniform (their
 weights are small and random) and the curves show how far from uniform
 training takes them.

 {{figure: entropy-training.svg | Gate entropy during distillation, averaged over blocks for each kind of projection.}}
 */
    func trainingHistory(_ history: RouterHistory?, _ folder: URL) throws {
        guard let snapshots = history?.snapshots else { return }
        let names = Block.linearNames
        var table = CSVTable(columns: ["step"] + names)
        for s in Set(snapshots.map(\.step)).sorted() {
            let row = names.map { n -> String in
                let values = snapshots.filter { $0.step == s && $0.layer == n }.map(\.normalizedEntropy)
                return String(format: "%.4f", values.reduce(0, +) / Double(max(values.count, 1)))
            }
            table.append([s] + row)
        }
        try table.write(to: folder.appendingPathComponent("entropy-training.csv"))
        try AtomicFile.write("""
            set terminal svg size 720,360 dynamic font "sans,11"
            set output "entropy-training.svg"
            set datafile separator ","
            set xlabel "distillation step"
            set ylabel "gate entropy / ln E (mean over blocks)"
            set yrange [0:1.05]
            set key outside right
            set grid
            plot for [i=2:8] "entropy-training.csv" using 1:i with linespoints pointsize 0.5 title columnheader(i)
            """, to: folder.appendingPathComponent("entropy-training.gp"))
    }

/*:
 ## Gates token by token

 The paper's Figure 3a: the gate of each of the four experts, for each token
 of a validation passage, in the output projection of a middle block. Dark is
 a gate near 0, light near 1.

 {{figure: heatmap.svg | The gates of one layer, token by token.}}
 */
    func heatMap(_ layer: MixtureOfScalesLinear, inputs: [Int32], label: String, _ folder: URL) throws {
        let tokens = min(64, inputs.count), E = layer.experts, g = layer.lastGates
        var lines: [String] = []
        for e in 0..<E { lines.append((0..<tokens).map { String(format: "%.4f", g[$0 * E + e]) }.joined(separator: " ")) }
        try AtomicFile.write(lines.joined(separator: "\n") + "\n", to: folder.appendingPathComponent("heatmap.dat"))
        let tics = (0..<tokens).map { "\(gnuplotString(visible(inputs[$0]))) \($0)" }.joined(separator: ", ")
        try AtomicFile.write("""
            set terminal svg size 900,260 dynamic font "sans,10"
            set output "heatmap.svg"
            set title \(gnuplotString("gates of \(label), one column per input byte"))
            set xtics (\(tics)) font "monospace,9"
            set ytics 1
            set ylabel "expert"
            set cbrange [0:1]
            set palette grey
            set xrange [-0.5:\(tokens) - 0.5]
            set yrange [-0.5:\(E) - 0.5]
            plot "heatmap.dat" matrix with image notitle
            """, to: folder.appendingPathComponent("heatmap.gp"))
    }

/*:
 ## Token-adaptive scales against a static one

 The paper's Figure 3b: for a few input channels of the same layer, the spread
 of the token-adaptive input scale `s_in = G·S_in` over the validation tokens
 (box: quartiles, whiskers: 1.5 × the interquartile range), and, as a cross,
 the static scale the one-expert student (OneBit's layer) learned for that
 channel from the same teacher.

 {{figure: scales.svg | Token-adaptive input scales against the static one OneBit learned, for a few channels.}}
 */
    func scales(_ layer: MixtureOfScalesLinear, oneBit: LinearLayer, rows: Int, _ folder: URL) throws {
        let E = layer.experts, m = layer.inFeatures, g = layer.lastGates, channels = min(8, m)
        var table = CSVTable(columns: ["channel", "adaptive"])
        for c in 0..<channels {
            for r in stride(from: 0, to: rows, by: max(1, rows / 512)) {
                let s = (0..<E).reduce(Float(0)) { $0 + g[r * E + $1] * layer.inputScale.value[$1 * m + c] }
                table.append([c, String(format: "%.5f", s)])
            }
        }
        try table.write(to: folder.appendingPathComponent("scales.csv"))
        var statics = CSVTable(columns: ["channel", "static"])
        if let one = oneBit as? MixtureOfScalesLinear {
            for c in 0..<channels { statics.append([c, String(format: "%.5f", one.inputScale.value[c])]) }
        }
        try statics.write(to: folder.appendingPathComponent("static-scales.csv"))
        try AtomicFile.write("""
            set terminal svg size 720,340 dynamic font "sans,11"
            set output "scales.svg"
            set datafile separator ","
            set style data boxplot
            set style boxplot nooutliers
            set style fill solid 0.3
            set xlabel "input channel"
            set ylabel "input scale"
            set xtics 1
            set key top left
            set boxwidth 0.5
            set xrange [-0.7:\(channels) - 0.3]
            plot for [c=0:\(channels - 1)] "scales.csv" skip 1 using (c):($1 == c ? $2 : NaN) lc rgb "#5566aa" \\
                     title (c == 0 ? "token-adaptive (BinaryMoS, E = 4)" : ""), \\
                 "static-scales.csv" skip 1 using 1:2 with points pointtype 2 pointsize 1.5 lc rgb "#cc3311" title "static (one expert)"
            """, to: folder.appendingPathComponent("scales.gp"))
    }

/*:
 ## The routing flow

 The same data as a flow, drawn by Graphviz for a few tokens of the passage:
 each token goes to the router, which splits it over the four experts (an
 edge's width and label are the gate value); the experts' scales merge into
 the token's own input and output scale vectors, which wrap the one product
 with the sign matrix that every token shares. First the output projection of
 the middle block, then the layer whose gates are the most decided (lowest
 mean entropy; the same layer again if that is the one).

 {{figure: flow-middle.svg | The routing flow of a middle block's output projection.}}

 {{figure: flow-decided.svg | The routing flow of the most decided layer.}}
 */
//: {{include: findings.md}}
    func flowDiagram(_ layer: MixtureOfScalesLinear, inputs: [Int32], title: String, name: String, _ folder: URL) throws {
        let E = layer.experts, g = layer.lastGates, (m, n) = (layer.inFeatures, layer.outFeatures)
        let picks = Array(stride(from: 8, to: min(inputs.count, 64), by: 12).prefix(4))
        var dot = """
            digraph routing {
              rankdir=LR; nodesep=0.25; ranksep=0.9;
              node [shape=box, style="rounded,filled", fillcolor="#eeeeff", fontname="sans", fontsize=11];
              edge [fontname="sans", fontsize=9, color="#445588"];
              label=\(DOT.quote("\(title): tokens → router → \(E) experts → merged scales → binary product")); labelloc=t;
              router [label=\(DOT.quote(lines: ["router", "G = softmax(W_R · x)", "W_R: \(E)×\(m)"])), fillcolor="#ffeedd"];

            """
        for e in 0..<E {
            dot += "  expert\(e) [label=\(DOT.quote(lines: ["expert \(e)", "S_in[\(e)]: \(m)", "S_out[\(e)]: \(n)"])), fillcolor=\"#ddeeff\"];\n"
        }
        for (k, t) in picks.enumerated() {
            dot += "  token\(k) [label=\(DOT.quote(lines: ["token \(t)", visible(inputs[t])])), shape=ellipse];\n"
            dot += "  token\(k) -> router;\n"
            dot += "  mixed\(k) [label=\(DOT.quote(lines: ["token \(t)", "s_in = G·S_in", "s_out = G·S_out"])), fillcolor=\"#eeffee\"];\n"
            for e in 0..<E {
                let gate = g[t * E + e]
                dot += "  expert\(e) -> mixed\(k) [penwidth=\(String(format: "%.2f", 0.3 + 5 * gate)), "
                    + "label=\(DOT.quote(String(format: "%.2f", gate)))];\n"
            }
            dot += "  mixed\(k) -> product;\n"
        }
        dot += "  router -> {" + (0..<E).map { "expert\($0)" }.joined(separator: " ") + "} [style=dashed, arrowhead=none];\n"
        dot += "  product [label=\(DOT.quote(lines: ["y = s_out ⊙ (sign(W) · (x ⊙ s_in))", "sign(W): \(n)×\(m) bits, shared"])), fillcolor=\"#ffffcc\"];\n"
        dot += "}\n"
        try AtomicFile.write(dot, to: folder.appendingPathComponent("\(name).dot"))
        try AtomicFile.write(try Graphviz.renderSVG(dot: dot), to: folder.appendingPathComponent("\(name).svg"))
    }

    /// One binarized projection's gates over the validation windows.
    struct LayerGates {
        var block: Int, name: String, layer: MixtureOfScalesLinear
        var entropy: Double, lowShare: Double, usage: [Double]
        var information: Double?      // bits about the synthetic corpus's register, where it is known
    }

    /// Sentences about this run's gates.
    func findings(_ layers: [LayerGates], middle: (Int, String), decided: (Int, String), registerEntropy: Double?) -> String {
        let entropy = layers.map(\.entropy)
        let mean = entropy.reduce(0, +) / Double(max(entropy.count, 1))
        let f = { (x: Double) in String(format: "%.2f", x) }
        var s = "Across the \(entropy.count) binarized projections, the mean normalised gate entropy is \(f(mean)), "
        s += "from \(f(entropy.min() ?? 0)) (block \(decided.0), \(decided.1)) to \(f(entropy.max() ?? 0)). "
        s += mean > 0.9
            ? "The routers stay close to uniform: most tokens get nearly the same mixture, so the experts act almost as one static scale. "
            : mean > 0.6 ? "The routers have moved partly away from uniform: tokens get somewhat different mixtures of the experts. "
                         : "The routers have moved well away from uniform: many tokens lean on one or two experts. "
        if let registerEntropy, let top = layers.filter({ $0.information != nil }).max(by: { $0.information! < $1.information! }) {
            s += "The router's favourite expert carries up to \(f(top.information!)) bits of information about the register of the token "
            s += "(block \(top.block), \(top.name)), out of the \(f(registerEntropy)) bits the register itself holds: "
            s += top.information! > 0.2 ? "some routers have learned to tell the kinds of text apart without being told. "
                           : "the routers barely track the kind of text. "
        }
        s += "The diagrams above show the gates of a few tokens for the output projection of block \(middle.0)"
        s += decided != middle ? " and for the most decided layer (block \(decided.0), \(decided.1))." : "."
        return s + "\n"
    }
}

/// I(X; Y) in bits between two label sequences.
func mutualInformation(_ x: [Int], _ y: [Int]) -> Double {
    var joint: [Int: [Int: Double]] = [:], px: [Int: Double] = [:], py: [Int: Double] = [:]
    let n = Double(x.count)
    for (a, b) in zip(x, y) { joint[a, default: [:]][b, default: 0] += 1 / n; px[a, default: 0] += 1 / n; py[b, default: 0] += 1 / n }
    var information = 0.0
    for (a, row) in joint { for (b, p) in row { information += p * log2(p / (px[a]! * py[b]!)) } }
    return information
}

/// A byte as a visible character for labels.
func visible(_ token: Int32) -> String {
    switch token {
    case 10: return "⏎"
    case 32: return "␣"
    case 33..<127: return String(UnicodeScalar(UInt8(token)))
    default: return String(format: "\\x%02X", token)
    }
}

/// A double-quoted gnuplot string.
func gnuplotString(_ s: String) -> String {
    "\"" + s.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"") + "\""
}

Router.main()
