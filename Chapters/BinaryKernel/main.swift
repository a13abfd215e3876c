import ArgumentParser
import Foundation
import Binarization
import Experiments
import Kernels
import Notebook
import Transformer

//: # The binary kernel
//:
//: One bit per weight only pays off if the product runs on the bits. A float
//: matrix-vector product reads 32 bits per weight from memory; a packed sign
//: matrix reads 1. This chapter shows how the simulator lays the bits out, how
//: its kernel multiplies them, and how fast that is next to OpenBLAS on this
//: machine: `swift run -c release binary-kernel --out DIR [--threads N]`.

struct BinaryKernel: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "binary-kernel",
        abstract: "Chapter: the packed layouts, and the 1-bit and 2-bit kernels timed against OpenBLAS.")

    @OptionGroup var options: ChapterOptions
    @Option(help: "Timing rounds (the fastest counts).") var rounds = 5

    func run() throws {
        let settings = try options.start()
        let config = try options.teacher.map { try TransformerModel.load(from: URL(fileURLWithPath: $0)).model.config }
            ?? settings.model
        try layoutDiagram(options.folder)
        try benchmark(config, options.folder)
    }

/*:
 ## Bits in memory

 Row r of the sign matrix is ⌈m/8⌉ bytes; bit j mod 8 of byte j/8 is the sign
 of column j (1 for +1, 0 for −1, and sign(0) = +1). So the matrix takes
 exactly n·m/8 bytes, the storage accounting's count, and the same bytes serve
 sign, OneBit and BinaryMoS: they differ only in the scales around the product.

 {{figure: layout.svg}}

 ## The product

 The kernel rounds each token's activation vector to int8 (scale = max|a|/127,
 one per token), which makes the product exact in integers. For every 64
 columns it loads 64 activations (one 512-bit register) and 64 sign bits (one
 64-bit mask), negates the activations whose bit is 0 with one masked blend,
 and adds them four at a time into sixteen 32-bit sums with one VNNI dot
 product against a vector of ones. Four rows share each activation load. At
 the end the sums are scaled once: by the token's scale and, for OneBit and
 BinaryMoS, by the output scale (mixed by the router per token for BinaryMoS,
 whose input scale multiplies the activations before rounding).

 T-MAC reaches the same speed class with a different idea: for every 4
 activations it tabulates the 16 possible signed sums and looks them up with
 byte shuffles. Both avoid ever expanding a bit into a float. The 2-bit kernel
 uses the same VNNI product on codes shifted out of packed bytes, with each
 group's scale applied to its partial sums.

 Swift's SIMD types cannot express the masked byte blend or the VNNI product,
 so those inner loops are C with intrinsics (and a portable C version for other
 CPUs); `binary_swift` below is the best sign-bit product we wrote in Swift
 SIMD (float activations whose sign bits the weight bits flip), for comparison.
 */
    func layoutDiagram(_ folder: URL) throws {
        let dot = """
            digraph layout {
              rankdir=LR; node [shape=record, fontname="monospace", fontsize=10, style=filled, fillcolor="#eeeeff"];
              edge [fontname="sans", fontsize=9];
              row [label="row r of sign(W) | { byte 0 | bits 0…7 = cols 0…7 } | { byte 1 | cols 8…15 } | … | { byte 7 | cols 56…63 } | { byte 8 … | next 64 cols }"];
              mask [label="64-bit mask k\\n(8 bytes, one load)", shape=box, fillcolor="#ddeeff"];
              act [label="x ⊙ s_in, rounded to int8\\n64 bytes = one 512-bit register", shape=box, fillcolor="#ffeedd"];
              blend [label="blend: k ? q : −q\\n(one instruction)", shape=box, fillcolor="#eeffee"];
              vnni [label="VNNI dot with ones\\n16 × int32 partial sums", shape=box, fillcolor="#eeffee"];
              out [label="y_r = s_out,r · scale_t · Σ\\n(once per row)", shape=box, fillcolor="#ffffcc"];
              row -> mask [label="64 columns"];
              mask -> blend; act -> blend; blend -> vnni -> out [label="after m/64 steps"];
            }
            """
        try AtomicFile.write(dot, to: folder.appendingPathComponent("layout.dot"))
        try AtomicFile.write(try Graphviz.renderSVG(dot: dot), to: folder.appendingPathComponent("layout.svg"))
    }

/*:
 ## How fast, on this machine

 Each kernel multiplies one token by a layer of LLaMA-7B's shapes and of this
 report's model, on one thread, timed interleaved against OpenBLAS's sgemv on
 the same thread (fastest of several rounds). `speedup` is sgemv's time over the
 kernel's; GB/s is weight bytes read per second, next to the read bandwidth
 measured in the same run.
 */
    func benchmark(_ c: ModelConfig, _ folder: URL) throws {
        // One thread, as the CPU kernels' published anchors (T-MAC, bitnet.cpp) are.
        Threads.use(1)
        let bandwidth = KernelBenchmark.readBandwidth()
        let shapes = [(4096, 4096), (4096, 11008), (11008, 4096), (c.dim, c.dim), (c.ffnHidden, c.dim), (c.dim, c.ffnHidden)]
        var table = CSVTable(columns: ["kernel", "rows", "cols", "threads", "microseconds", "speedup", "weight_bytes", "gb_per_s"])
        var wide = CSVTable(columns: ["shape", "binary", "binarymos", "int2", "binary_swift"])
        for (rows, cols) in shapes {
            var bench = KernelBenchmark(rows: rows, cols: cols)
            bench.rounds = rounds
            let timings = bench.run()
            var speedups: [String: String] = [:]
            for t in timings {
                let speedup = timings[0].seconds / t.seconds
                speedups[t.kernel] = String(format: "%.2f", speedup)
                table.append([t.kernel, rows, cols, Threads.count, String(format: "%.2f", t.seconds * 1e6),
                              String(format: "%.2f", speedup), t.weightBytes,
                              String(format: "%.1f", Double(t.weightBytes) / t.seconds / 1e9)])
            }
            wide.append(["\(rows)×\(cols)"] + ["binary", "binarymos", "int2", "binary_swift"].map { speedups[$0] ?? "" })
        }
        try table.write(to: folder.appendingPathComponent("kernels.csv"))
        try AtomicFile.write(conclusion(table, bandwidth: bandwidth, small: "\(c.dim)×\(c.dim)"),
                             to: folder.appendingPathComponent("conclusion.md"))
        try wide.write(to: folder.appendingPathComponent("speedups.csv"))
        try AtomicFile.write("The read bandwidth measured in this run: **\(String(format: "%.1f", bandwidth / 1e9)) GB/s** on "
                             + "\(Threads.count) thread(s); the kernels ran their "
                             + (PackedKernels.hasAVX512VNNI ? "AVX-512 VNNI" : "portable C") + " paths.\n",
                             to: folder.appendingPathComponent("bandwidth.md"))
        try AtomicFile.write("""
            set terminal svg size 760,360 dynamic font "sans,11"
            set output "speedups.svg"
            set datafile separator ","
            set style data histograms
            set style histogram clustered gap 1
            set style fill solid 0.7 border -1
            set ylabel "speed-up over float sgemv"
            set key top right
            set grid ytics
            set yrange [0:*]
            plot "speedups.csv" using 2:xtic(1) title columnheader(2), "" using 3 title columnheader(3), \\
                 "" using 4 title columnheader(4), "" using 5 title columnheader(5)
            """, to: folder.appendingPathComponent("speedups.gp"))
    }
    /// Sentences about this run's timings.
    func conclusion(_ table: CSVTable, bandwidth: Double, small: String) -> String {
        func row(_ kernel: String, _ shape: String) -> [String]? {
            table.rows.first { $0[0] == kernel && "\($0[1])×\($0[2])" == shape }
        }
        guard let binary = row("binary", "4096×4096"), let mos = row("binarymos", "4096×4096"),
              let tiny = row("binary", small) else { return "" }
        let speedup = Double(binary[5])!, gbs = Double(binary[7])!, mosSpeedup = Double(mos[5])!
        var s = "At 4096 × 4096 the static-scale binary kernel runs \(binary[5])× faster than sgemv, reading weights at "
        s += "\(binary[7]) GB/s (\(String(format: "%.0f", 100 * gbs * 1e9 / bandwidth)) % of the measured read bandwidth); "
        let overhead = 100 * (speedup / mosSpeedup - 1)
        s += "with BinaryMoS's router and mixing it runs at \(mos[5])×, taking \(String(format: "%.0f", abs(overhead))) % "
        s += overhead >= 0 ? "more time than the static kernel. " : "less time than the static kernel (timing noise). "
        s += "At this report's own \(small) layers the binary kernel's speed-up is \(tiny[5])×: "
        s += Double(tiny[5])! < 2
            ? "a layer that small sits in the first-level cache, and the fixed costs of rounding the activations and applying the scales dominate."
            : "even a layer that small gains from the packed form."
        return s + "\n"
    }

//: {{include: bandwidth.md}}
//: {{table: kernels.csv}}
/*:
 {{figure: speedups.svg}}

 The binary kernels read 32 times fewer weight bytes than sgemv; whether that
 turns into speed depends on the layer's size, as this run shows:
 */
//: {{include: conclusion.md}}
}

BinaryKernel.main()
