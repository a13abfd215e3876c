import ArgumentParser
import Files
import Foundation
import Binarization
import Corpus
import Experiments
import Kernels
import Notebook
import Transformer

//: # Memory cost versus 2-bit
//:
//: $$\text{bits}_{\text{BinaryMoS}}(n, m) = \underbrace{n m}_{\text{signs}} + \underbrace{16\,E\,(m + n)}_{\text{scales}} + \underbrace{16\,E\,m}_{\text{router}}, \qquad \text{bits}_{\text{2-bit, g128}} = 2\,n m + 2 \cdot 16\, n \left\lceil \tfrac{m}{128} \right\rceil$$
//:
//: A binarized model is only as small as *everything* it stores: the sign bits,
//: but also the scales, the routers, the group parameters, the salient weights'
//: index, and the embedding and head that stay in 16 bits. This chapter counts
//: all of it from the shapes alone, for the LLaMA models the papers report and
//: for the compact model of this report, and checks the count against the bytes
//: of real checkpoints. It trains nothing, so it runs in seconds:
//: `swift run -c release memory-cost --out DIR [--teacher FILE]`.

struct MemoryCost: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "memory-cost",
        abstract: "Chapter: storage of every method for LLaMA shapes and the compact model, against real checkpoints.")

    @OptionGroup var options: ChapterOptions

    func run() throws {
        let settings = try options.start()
        let folder = options.folder
        // Sizes do not depend on training: without --teacher an untrained model of the profile's shape serves.
        let model = try options.teacher.map { try TransformerModel.load(from: URL(fileURLWithPath: $0)).model }
            ?? TransformerModel(config: settings.model, seed: 42)
        try llamaTable(folder)
        try partsPlot(folder)
        try compactTable(model, try options.loadCorpus(settings), folder)
        try widthPlot(folder)
    }

/*:
 ## The accounting

 Per linear layer with m inputs and n outputs (every q, k, v, o, gate, up and
 down of every block), in bits:

 | method | bits |
 |---|---|
 | FP16 | 16·n·m |
 | OneBit | n·m + 16·(m + n) |
 | BinaryMoS, E experts | n·m + 16·E·(m + n) + 16·E·m (router) |
 | PB-LLM, salient fraction r | (1 − r)·n·m + 8·r·n·m + n·m (index) + 4·16·n |
 | BiLLM, ARB: k salient columns, blocks of 128 | n·m + n·k (residual signs) + n·(m − k) (group flags) + m (column flags) + 6·16·n·⌈m/128⌉ |
 | ARB-RC | as ARB, with 4·16·n·⌈m/128⌉ row scales (no means) and 16·(m + k) column scales |
 | BTC, b index bits per sub-vector of v signs | n·⌈m/v⌉·b + 2^b·v (codebook) + 16·(m + n) |
 | BTC with its learned rotation R₁ ⊗ R₂ (m = k₁·k₂) | as BTC, + 16·(k₁² + k₂²) |
 | 2-bit, groups of 128 | 2·n·m + 2·16·n·⌈m/128⌉ |

 Each method states its own count by part, and every number below comes
 from these functions; BinaryMoS's, for one:

 {{source: Sources/Binarization/Methods/BinaryMoSMethod.swift#storage}}

 Embedding, head and norms stay in 16 bits for every method. With 32-bit
 scales the scale and router terms double. The table gives GB (10⁹ bytes) and
 the compression against FP16.
 */
    static let methods: [(label: String, method: Method, scaleBits: Int)] = {
        var list: [(String, Method, Int)] = [("FP16", Method(FullPrecision()), 16), ("2-bit g128", Method(RoundToNearest()), 16)]
        list.append(("PB-LLM 10%", Method(PBLLM(salient: 0.1)), 16))
        list.append(("BiLLM / ARB", Method(BiLLM()), 16))
        list.append(("ARB-RC", Method(ARB(variant: .rowColumn)), 16))
        list.append(("BTC 0.8", Method(BTC(bitsPerWeight: 0.8)), 16))
        list.append(("BTC 0.8, rotated", Method(BTC(bitsPerWeight: 0.8, transform: true)), 16))
        list.append(("OneBit", Method(OneBit()), 16))
        for e in [1, 2, 4, 8] {
            let m = Method(BinaryMoS(experts: e))
            list.append(("BinaryMoS E=\(e)", m, 16))
        }
        let mos = Method(BinaryMoS(experts: 4))
        list.append(("BinaryMoS E=4, 32-bit scales", mos, 32))
        return list
    }()

    func llamaTable(_ folder: URL) throws {
        let names = ["llama-1-7b", "llama-1-13b", "llama-1-30b", "llama-1-65b", "llama-2-7b", "llama-2-13b", "llama-2-70b"]
        var table = CSVTable(columns: ["method"] + names.flatMap { ["\($0) GB", "\($0) ×"] })
        for (label, method, scaleBits) in Self.methods {
            var row: [CustomStringConvertible] = [label]
            for name in names {
                let shape = ModelShape.named[name]!
                let st = Storage.model(shape, method, scaleBits: scaleBits)
                let fp16 = Storage.model(shape, Method(FullPrecision()))
                row += [String(format: "%.3f", Double(st.bytes) / 1e9), String(format: "%.2f", Double(fp16.bits) / Double(st.bits))]
            }
            table.append(row)
            if method.kind is PBLLM {
                // The same model with its salient weights found some other way: no index stored.
                var row: [CustomStringConvertible] = ["PB-LLM 10%, index not stored"]
                for name in names {
                    let shape = ModelShape.named[name]!
                    let st = Storage.model(shape, method), fp16 = Storage.model(shape, Method(FullPrecision()))
                    let bits = st.bits - st.parts["salient index"]!
                    row += [String(format: "%.3f", Double(bits) / 8e9), String(format: "%.2f", Double(fp16.bits) / Double(bits))]
                }
                table.append(row)
            }
        }
        try table.write(to: folder.appendingPathComponent("llama-memory.csv"))
        try AtomicFile.write(reconciliation(), to: folder.appendingPathComponent("reconciliation.md"))
    }
//: {{table: llama-memory.csv}}
//:
//: The same accounting by part, for LLaMA-1-7B: what each method spends its
//: bytes on (FP16, 13.48 GB, is left off so that the others can be seen).
//:
//: {{figure: parts.svg | LLaMA-1-7B's storage under each method, stacked by part (GB).}}
//:
//: {{folded-table: parts.csv}}

    /// LLaMA-1-7B by part, one stacked bar per method.
    func partsPlot(_ folder: URL) throws {
        let shape = ModelShape.named["llama-1-7b"]!
        // FP16 (13.5 GB) would flatten every other bar; the table above has it.
        let storages = Self.methods.filter { $0.method.name != FullPrecision.name }
            .map { ($0.label, Storage.model(shape, $0.method, scaleBits: $0.scaleBits)) }
        // Parts in a fixed order: the weights' own bits first, full precision last.
        let order = ["signs", "codes", "indices", "codebook", "salient weights", "salient index", "group flags", "scales", "rotation", "router"]
        let names = Set(storages.flatMap { $0.1.parts.keys }).subtracting(["full precision"])
        let parts = order.filter(names.contains) + names.subtracting(order).sorted() + ["full precision"]
        var table = CSVTable(columns: ["method"] + parts)
        for (label, st) in storages {
            table.append([label] + parts.map { String(format: "%.4f", Double(st.parts[$0] ?? 0) / 8e9) })
        }
        try table.write(to: folder.appendingPathComponent("parts.csv"))
        let palette = ["#5b8bd0", "#2a9d8f", "#8ab17d", "#264653", "#b5838d", "#9c89b8", "#e9c46a", "#f4a261", "#e76f51",
                       "#6d597a", "#90be6d", "#577590"]
        let colours = parts.indices.map { k in
            "set linetype \(k + 1) lc rgb \"\(parts[k] == "full precision" ? "#b0b0b0" : palette[k % palette.count])\""
        }.joined(separator: "\n")
        try AtomicFile.write("""
            set terminal svg size 760,400 dynamic font "sans,10"
            set output "parts.svg"
            set datafile separator ","
            set style data histograms
            set style histogram rowstacked
            set style fill solid 0.85 border rgb "#ffffff"
            set boxwidth 0.7
            set ylabel "GB (10^9 bytes)"
            set yrange [0:*]
            set grid ytics
            set key outside right top
            set xtics rotate by -35 left
            set bmargin 8
            \(colours)
            plot for [i=2:\(parts.count + 1)] "parts.csv" using i:xtic(1) title columnheader(i)
            """, to: folder.appendingPathComponent("parts.gp"))
    }
/*:
 ## Against the paper's figures

 BinaryMoS's paper quotes 26.20 GB → 2.33 GB (11.24×) for LLaMA-1-13B, and
 compression ratios of 9.65× to 11.24× overall. Counting from the shapes:
 */
//: {{include: reconciliation.md}}
    func reconciliation() -> String {
        let shape = ModelShape.named["llama-1-13b"]!
        let mos = Method(BinaryMoS(experts: 4))
        let fp16 = Double(Storage.model(shape, Method(FullPrecision())).bytes) / 1e9
        let sixteen = Double(Storage.model(shape, mos).bytes) / 1e9
        let thirtyTwo = Double(Storage.model(shape, mos, scaleBits: 32).bytes) / 1e9
        let seven = ModelShape.named["llama-1-7b"]!
        let sevenRatio = Double(Storage.model(seven, Method(FullPrecision())).bits) / Double(Storage.model(seven, mos, scaleBits: 32).bits)
        let f = { (x: Double) in String(format: "%.3f", x) }
        return """
            LLaMA-1-13B has \(shape.parameters) parameters, so FP16 takes **\(f(fp16)) GB**, not 26.20. \
            BinaryMoS with four experts takes \(f(sixteen)) GB with 16-bit scales and **\(f(thirtyTwo)) GB with \
            32-bit scales**: the paper's 2.33 GB is the 32-bit count. Its 11.24× is 26.20 / 2.33; from the \
            plain count the ratio is \(String(format: "%.2f", fp16 / thirtyTwo))×. At the 7B end the same \
            accounting gives \(String(format: "%.2f", sevenRatio))×, against the paper's 9.65×. We do not \
            reproduce the 26.20 GB: it would take \(String(format: "%.3f", 26.20e9 / 2 / 1e9)) billion 16-bit \
            parameters, \(String(format: "%.3f", 26.20e9 / 2 / 1e9 - Double(shape.parameters) / 1e9)) billion \
            more than the shapes hold.

            """
    }

/*:
 ## The compact model, measured

 The same accounting for this report's model, beside the bytes of real
 student checkpoints made from the teacher (the trained methods' students are
 saved straight after initialisation: their size does not depend on training).
 A checkpoint holds exactly the accounted tensors, bits packed and scales in 16
 bits, plus a JSON header naming them.
 */
    func compactTable(_ model: TransformerModel, _ text: Corpus, _ folder: URL) throws {
        var table = CSVTable(columns: ["method", "computed_bytes", "file_bytes", "header_bytes", "data_bytes",
                                       "bits_per_weight", "compression_vs_fp16"])
        let shape = ModelShape(model.config)
        let fp16 = Storage.model(shape, Method(FullPrecision()))
        for (label, method, scaleBits) in Self.methods where scaleBits == 16 {
            let student = Student.make(from: model, method: method, corpus: text, seed: 1, calibrationWindows: 8)
            let file = FileManager.default.temporaryDirectory.appendingPathComponent("memory-\(UUID()).safetensors")
            defer { try? FileManager.default.removeItem(at: file) }
            try Student.save(student, method: method, to: file)
            let bytes = try Data(contentsOf: file)
            let header = 8 + bytes.prefix(8).enumerated().reduce(0) { $0 | Int($1.element) << (8 * $1.offset) }
            let st = Storage.model(shape, method)
            table.append([label, st.bytes, bytes.count, header, bytes.count - header,
                          String(format: "%.3f", st.linearBitsPerWeight), String(format: "%.2f", Double(fp16.bits) / Double(st.bits))])
        }
        try table.write(to: folder.appendingPathComponent("compact-memory.csv"))
        let mos = Method(BinaryMoS(experts: 4))
        let oneBit = Storage.model(shape, Method(OneBit())).linearBitsPerWeight, four = Storage.model(shape, mos).linearBitsPerWeight
        let extra = four - 1
        try AtomicFile.write("In this model (layers \(model.config.dim) to \(model.config.ffnHidden) wide) BinaryMoS with four "
                             + "experts costs \(String(format: "%.3f", four)) bits per weight of the block layers against OneBit's "
                             + "\(String(format: "%.3f", oneBit)): its scales and router add \(String(format: "%.3f", extra)) bits "
                             + "per weight, \(extra > 1 ? "more than" : "less than") the sign bit itself. At LLaMA-7B's widths the same "
                             + "overhead is \(String(format: "%.3f", Storage.model(ModelShape.named["llama-1-7b"]!, mos).linearBitsPerWeight - 1)) bits.\n",
                             to: folder.appendingPathComponent("compact.md"))
    }
//: {{table: compact-memory.csv}}
/*:
 `data_bytes` equals `computed_bytes` up to a byte per packed tensor (each
 rounds up to whole bytes). BinaryMoS's scales and router cost 16·E·(2m + n)
 bits per layer, whatever its n·m weights:
 */
//: {{include: compact.md}}
/*:

 ## How the overhead fades with width

 Bits per weight of a square layer of width w, for each method: the scales'
 share falls as 1/w, so at LLaMA's widths BinaryMoS costs a few hundredths of
 a bit more than OneBit, while at this report's widths it costs more than the
 signs themselves.

 {{figure: width.svg | Bits per weight as layers widen: the scale overhead fades.}}
 */
    func widthPlot(_ folder: URL) throws {
        let chosen = Self.methods.filter { $0.scaleBits == 16 && !($0.method.kind is FullPrecision) }
        var table = CSVTable(columns: ["width"] + chosen.map(\.label))
        var w = 32
        while w <= 16_384 {
            table.append([w] + chosen.map { String(format: "%.4f", Storage.linear($0.method, inFeatures: w, outFeatures: w).linearBitsPerWeight) })
            w *= 2
        }
        try table.write(to: folder.appendingPathComponent("width.csv"))
        let plots = chosen.indices.map { i in
            "\"width.csv\" using 1:\(i + 2) with linespoints pointsize 0.6 title \(DOT.quote(chosen[i].label))"
        }
        try AtomicFile.write("""
            set terminal svg size 760,400 dynamic font "sans,11"
            set output "width.svg"
            set datafile separator ","
            set logscale x 2
            set logscale y
            set xlabel "layer width w (square w × w layer)"
            set ylabel "bits per weight"
            set key outside right
            set grid
            plot \(plots.joined(separator: ", \\\n     "))
            """, to: folder.appendingPathComponent("width.gp"))
    }
}

MemoryCost.main()
