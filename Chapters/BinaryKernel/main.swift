import ArgumentParser
import Files
import Foundation
import Binarization
import Experiments
import Kernels
import Notebook
import Transformer

//: # The binary kernel
//:
//: $$y_r = s_{out,r} \cdot \frac{\max_j |a_j|}{127} \sum_j b_{rj}\, q_j, \qquad \sum_j b_{rj} q_j = 2 \sum_{j:\, b_{rj} = +1} q_j \;-\; \sum_j q_j$$
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
        try decode(settings, options.folder)
    }

/*:
 ## Bits in memory

 Row r of the sign matrix is ⌈m/8⌉ bytes; bit j mod 8 of byte j/8 is the sign
 of column j (1 for +1, 0 for −1, and sign(0) = +1). So the matrix takes
 exactly n·m/8 bytes, the storage accounting's count, and the same bytes serve
 sign, OneBit and BinaryMoS: they differ only in the scales around the product.

 {{figure: layout.svg | How one row of signs is laid out in bytes.}}

 {{source: Sources/Binarization/BitPacking.swift#pack-signs}}

 ## The product

 The kernel rounds each token's activation vector to integers, which makes the
 product exact in integer arithmetic. With **int8** activations (as bitnet.cpp
 and T-MAC do) the scale is max|a|/127, one per token. For every 64 columns the
 kernel loads 64 activations (one 512-bit register) and 64 sign bits (one
 64-bit mask), turns the mask into 64 bytes of 0 or 1, and one VNNI dot product
 of those bytes with the activations adds the selected ones, four at a time,
 into sixteen 32-bit sums. Since Σ ±q = 2·Σ_selected q − Σ q, and Σ q is
 computed once per token, that is the whole signed sum. Eight rows share each
 activation load. At the end the sums are scaled once: by the token's scale
 and, for OneBit and BinaryMoS, by the output scale (mixed by the router per
 token for BinaryMoS, whose input scale multiplies the activations before
 rounding).

 The portable C kernel says it plainly, one row and one 64-bit word at a time:

 {{source: Sources/CKernels/kernels.c#binary-portable}}

 and the AVX-512 one does the same eight rows at a time. Half of its vector
 instructions would only turn bits into bytes: the mask goes into a k
 register, then a masked move makes the 0-or-1 bytes. CPUs with GFNI (Intel
 since Ice Lake, AMD since Zen 4) do it in one instruction, an affine map over
 GF(2) applied to every byte. Broadcast a row's 8 mask bytes to all eight
 64-bit lanes and give lane L the matrix that keeps only bit L: byte 8L + b
 of the result is then column 8b + L's bit. The columns come out transposed,
 8 by 8, so each thread first copies the activations permuted the same way,
 and the dot products follow as before (the `gfni` branches). The eight rows'
 sixteen-lane sums are finally added up together, by a tree of lane shuffles:

 {{source: Sources/CKernels/kernels.c#binary-avx512}}

 A CPU without AVX-512 (most laptops, and AMD's before Zen 4) has no byte
 masks and no VNNI, so the AVX2 path builds the selecting bytes itself, 32
 columns at a time, and adds pairs of activations in 16-bit lanes:

 {{source: Sources/CKernels/kernels.c#binary-avx2}}

 int8 leaves every activation up to half a step of max|a|/127 off, and a
 model amplifies that: enough to move a student's validation perplexity by a
 fraction of a percent, which is the size of some differences between methods
 in this report. So the simulator's default is **int16**: a second int8 plane
 rounds what the first left over, 254 times finer, and the same 0-or-1 bytes
 meet it in a second dot product. The weights are still read once; the price is
 that second instruction per 64 columns, which the timings below show. On int16
 activations a packed student computes what its float simulation does, to
 within 10⁻⁴ of the loss (the test suite holds it to that).

 T-MAC reaches the same speed class with a different idea: for every 4
 activations it tabulates the 16 possible signed sums and looks them up with
 byte shuffles. Both avoid ever expanding a bit into a float. The 2-bit kernel
 uses the same VNNI product on codes shifted out of packed bytes, with each
 group's scale applied to its partial sums:

 {{source: Sources/CKernels/kernels.c#int2-portable}}

 and on AVX2, maddubs in place of VNNI, two 64-column blocks per register:

 {{source: Sources/CKernels/kernels.c#int2-avx2}}

 BiLLM's and ARB's layers run three sign planes through the same kind of
 product, with sums kept per block of columns, since each block has its own
 scales:

 {{source: Sources/CKernels/kernels.c#blocks-portable}}

 Swift's SIMD types cannot express byte masks or the VNNI product, so those
 inner loops are C with intrinsics, for AVX-512 VNNI and for AVX2 (and a
 portable C version for other CPUs);
 `binary_swift` below is the best sign-bit product we wrote in Swift SIMD
 (float activations whose sign bits the weight bits flip), for comparison.
 */
    func layoutDiagram(_ folder: URL) throws {
        let dot = """
            digraph layout {
              node [shape=box, fontname="sans", fontsize=11, style=filled];
              edge [fontname="sans", fontsize=10];
              row [shape=record, fontname="monospace", fontsize=10, fillcolor="#eeeeff",
                   label="row r of sign(W) | { byte 0 | cols 0…7 } | { byte 1 | cols 8…15 } | … | { byte 7 | cols 56…63 } | { byte 8 … | next 64 }"];
              mask [label="64 sign bits\\none 64-bit mask", fillcolor="#ddeeff"];
              select [label="mask → 64 bytes\\n1 where the bit is set, else 0", fillcolor="#eeffee"];
              act [label="x ⊙ s_in rounded per token\\nint8: one plane of 64 bytes\\nint16: two (hi, lo)", fillcolor="#ffeedd"];
              vnni [label="VNNI dot product, per plane\\n16 int32 partial sums", fillcolor="#eeffee"];
              out [label="y_r = s_out,r · scale_t · (2 · Σ selected − Σ all)\\nonce per row", fillcolor="#ffffcc"];
              row -> mask [label=" 64 columns"];
              mask -> select -> vnni; act -> vnni;
              vnni -> out [label=" after m / 64 steps"];
              { rank=same; select; act; }
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
        var table = CSVTable(columns: ["kernel", "activations", "rows", "cols", "microseconds", "speedup",
                                       "weight_bytes", "gb_per_s"])
        let packed = ["binary", "binarymos", "int2"].flatMap { k in ["int16", "int8"].map { "\(k) \($0)" } }
        var wide = CSVTable(columns: ["shape"] + packed)
        for (rows, cols) in shapes {
            var bench = KernelBenchmark(rows: rows, cols: cols)
            bench.rounds = rounds
            let timings = bench.run()
            var speedups: [String: String] = [:]
            for t in timings {
                let speedup = timings[0].seconds / t.seconds
                speedups["\(t.kernel) \(t.activations)"] = String(format: "%.2f", speedup)
                table.append([t.kernel, t.activations, rows, cols, String(format: "%.2f", t.seconds * 1e6),
                              String(format: "%.2f", speedup), t.weightBytes,
                              String(format: "%.1f", Double(t.weightBytes) / t.seconds / 1e9)])
            }
            wide.append(["\(rows)×\(cols)"] + packed.map { speedups[$0] ?? "" })
        }
        try table.write(to: folder.appendingPathComponent("kernels.csv"))
        try AtomicFile.write(conclusion(table, bandwidth: bandwidth, small: "\(c.dim)×\(c.dim)"),
                             to: folder.appendingPathComponent("conclusion.md"))
        try wide.write(to: folder.appendingPathComponent("speedups.csv"))
        try AtomicFile.write("The read bandwidth measured in this run: **\(String(format: "%.1f", bandwidth / 1e9)) GB/s** on "
                             + "\(Threads.count) thread(s); the kernels ran their "
                             + PackedKernels.path + " paths.\n",
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
            plot for [i=2:7] "speedups.csv" using i:xtic(1) title columnheader(i)
            """, to: folder.appendingPathComponent("speedups.gp"))
    }
    /// Sentences about this run's timings.
    func conclusion(_ table: CSVTable, bandwidth: Double, small: String) -> String {
        func value(_ kernel: String, _ activations: String, _ shape: String, _ column: String) -> Double? {
            let i = table.columns.firstIndex(of: column)!
            return table.rows.first { $0[0] == kernel && $0[1] == activations && "\($0[2])×\($0[3])" == shape }
                .flatMap { Double($0[i]) }
        }
        let big = "4096×4096"
        guard let binary8 = value("binary", "int8", big, "speedup"), let mos8 = value("binarymos", "int8", big, "speedup"),
              let gbs = value("binary", "int8", big, "gb_per_s"), let binary16 = value("binary", "int16", big, "speedup"),
              let mos16 = value("binarymos", "int16", big, "speedup"), let tiny = value("binary", "int16", small, "speedup")
        else { return "" }
        func x(_ v: Double) -> String { String(format: "%.1f×", v) }
        func percent(_ v: Double) -> String { String(format: "%.0f %%", abs(v)) }
        var s = "At 4096 × 4096 on int8 activations the static-scale binary kernel runs \(x(binary8)) faster than sgemv, "
        s += "reading weights at \(String(format: "%.1f", gbs)) GB/s (\(percent(100 * gbs * 1e9 / bandwidth)) of the measured "
        s += "read bandwidth). "
        let overhead = 100 * (binary8 / mos8 - 1)
        s += "With BinaryMoS's router and mixing it runs at \(x(mos8)), taking \(percent(overhead)) "
        s += overhead >= 0 ? "more time than the static kernel. " : "less time than the static kernel (timing noise). "
        s += "On int16 activations, the default, the same kernels run at \(x(binary16)) and \(x(mos16)): "
        s += "the second plane costs \(percent(100 * (binary8 / binary16 - 1))) more time. "
        s += "At this report's own \(small) layers the binary kernel's speed-up is \(x(tiny)): "
        s += tiny < 2
            ? "a layer that small sits in the first-level cache, and the fixed costs of rounding the activations and applying the scales dominate."
            : "even a layer that small gains from the packed form."
        return s + "\n"
    }

//: {{include: bandwidth.md}}
//: {{table: kernels.csv}}
/*:
 {{figure: speedups.svg | Each packed kernel's speed-up over OpenBLAS sgemv at the same shape, measured in this run.}}

 The binary kernels read 32 times fewer weight bytes than sgemv; whether that
 turns into speed depends on the layer's size, as this run shows:
 */
//: {{include: conclusion.md}}

/*:
 ## Decoding a LLaMA-7B

 A kernel's speed-up is not yet a model's. Generating text multiplies one
 token at a time by every layer of every block, then attends over the cached
 keys and values, then scores the vocabulary with the output head. So here a
 whole model of LLaMA-1-7B's shape decodes tokens from an empty cache, the way
 `mos generate` does: 32 blocks of width 4,096 with MLPs of 11,008, its
 32,000-token vocabulary, random weights in each method's packed layout (a
 kernel's speed does not depend on the values), and the same model in float as
 the reference, timed in the same run (`mos bench decode` runs it with every
 option). A float LLaMA-7B holds 27 GB, more than this machine may have, so
 the float model runs a few blocks and its time in the blocks is scaled to
 32: the blocks are alike. The embedding and the output head stay in float32
 for every method, as this simulator holds them.

 Each thread count decodes on the same models. `MB/token` counts every byte a
 token reads (weights, and the cache, which grows with the position);
 `of read` sets their rate against a plain read of a 1 GiB buffer on the
 same threads, timed before every round and the fastest of the run kept
 (OpenBLAS's sgemv, prefetching ahead, can edge past it).

 On more than one thread each of a token's 224 products ends by waiting for
 its slowest thread, and on a shared machine one thread is often a little
 behind: counted in the thread pool on the two-core Xeon this was built on,
 those waits came to 3–13 % of a product's time. So decoding does not split
 a product's rows once; it shares them. Each thread starts on its own part
 and, when done, takes pieces of about 64 KiB from the end of another's
 (`ck_binary_token_shared`). A row's sum is computed alone, so which thread
 takes it never changes its value. The scale mixing reads its 16-bit scales
 from memory as the products do, so it splits across the threads too.

 Every weight comes from memory, not cache, and a group's loop (4 KiB of
 bits at width 4,096, about 0.3 µs on one thread) lasts little longer than
 one trip to memory. The hardware prefetcher follows a stream only inside a
 4 KiB page, which at width 4,096 is one group of eight rows, so each step
 of a group's loop asks for a line of the next group, into L1, and one of
 the group after it, into L2, from where the next group's own requests soon
 bring it up. With only the first request some lines were still on their
 way; the second took BinaryMoS's products from 70.3 to 65.9 ms a token on
 one thread and from 38.6 to 35.6 on two (rounds alternated in one process).
 */
    func decode(_ settings: Profile, _ folder: URL) throws {
        var bench = DecodeBenchmark(config: DecodeBenchmark.shapes["llama-1-7b"]!)
        let smoke = settings.name == "smoke"
        // The smoke profile checks the plumbing on two blocks; the others time all 32.
        (bench.tokens, bench.rounds, bench.floatLayers, bench.layers) = smoke ? (4, 1, 1, 2) : (16, 2, 2, nil)
        bench.threads = Array(Set([1, options.threads])).sorted()
        let layouts: [DecodeBenchmark.Layout] = [.fp, .onebit, .mos, .rtn2]
        let results = bench.run(layouts)
        let bandwidth = DecodeBenchmark.readReference(results)
        let names: [DecodeBenchmark.Layout: String] = [.fp: "float32", .onebit: "OneBit", .mos: "BinaryMoS E=4", .rtn2: "2-bit g128"]
        func result(_ layout: DecodeBenchmark.Layout, _ threads: Int) -> DecodeBenchmark.Result {
            results.first { $0.method == layout.rawValue && $0.threads == threads }!
        }
        var table = CSVTable(columns: ["method", "threads", "tokens/s", "vs float", "ms/token"]
                             + results[0].grouped.map { "\($0.name) ms" } + ["MB/token", "GB/s", "of read"])
        var plot = CSVTable(columns: ["method"] + bench.threads.map { "\($0) thread" + ($0 == 1 ? "" : "s") })
        for layout in layouts {
            for n in bench.threads {
                let r = result(layout, n)
                table.append([names[layout]!, n, String(format: "%.2f", r.tokensPerSecond),
                              String(format: "%.2f×", r.tokensPerSecond / result(.fp, n).tokensPerSecond),
                              String(format: "%.1f", r.secondsPerToken * 1000)]
                             + r.grouped.map { String(format: "%.2f", $0.seconds * 1000) }
                             + [String(format: "%.0f", Double(r.weightBytes + r.cacheBytes) / 1e6),
                                String(format: "%.1f", r.bytesPerSecond / 1e9),
                                String(format: "%.0f %%", 100 * r.bytesPerSecond / bandwidth[n]!)])
            }
            plot.append([names[layout]!] + bench.threads.map { String(format: "%.3f", result(layout, $0).tokensPerSecond) })
        }
        try table.write(to: folder.appendingPathComponent("decode.csv"))
        try plot.write(to: folder.appendingPathComponent("decode-tokens.csv"))
        try AtomicFile.write("""
            set terminal svg size 760,340 dynamic font "sans,11"
            set output "decode.svg"
            set datafile separator ","
            set style data histograms
            set style histogram clustered gap 1
            set style fill solid 0.7 border -1
            set ylabel "tokens per second, LLaMA-1-7B shape"
            set key top left
            set grid ytics
            set yrange [0:*]
            plot for [i=2:\(1 + bench.threads.count)] "decode-tokens.csv" using i:xtic(1) title columnheader(i)
            """, to: folder.appendingPathComponent("decode.gp"))

        let mos = result(.mos, 1), fp = result(.fp, 1), one = result(.onebit, 1)
        let head = mos.grouped.first { $0.name == "output head" }!.seconds, linear = mos.grouped.first { $0.name == "linear" }!.seconds
        let routing = mos.grouped.filter { $0.name == "router" || $0.name == "scale mixing" }.reduce(0) { $0 + $1.seconds }
        var text = smoke ? "*(Smoke profile: two of the 32 blocks were timed and scaled; the quick profile times all of them.)*\n\n" : ""
        text += "On one thread the BinaryMoS model decodes **\(String(format: "%.2f", mos.tokensPerSecond)) tokens/s**, "
        text += "\(String(format: "%.1f", mos.tokensPerSecond / fp.tokensPerSecond))× the float model "
        text += "(\(String(format: "%.2f", fp.tokensPerSecond)) tokens/s, scaled from \(fp.layersRun) of its 32 blocks) and "
        let gap = 100 * (one.tokensPerSecond / mos.tokensPerSecond - 1)   // > 0: BinaryMoS takes longer
        text += abs(gap) < 0.5 ? "as fast as OneBit; "
            : "\(String(format: "%.0f", abs(gap))) % \(gap > 0 ? "slower" : "faster") than OneBit; "
        text += "the router and the mixing of scales take \(String(format: "%.1f", routing * 1000)) ms of its "
        text += "\(String(format: "%.1f", mos.secondsPerToken * 1000)) ms a token. The sign products take "
        let c = bench.config, headBytes = 4 * c.vocabulary * c.dim
        let linearBytes = Double(mos.weightBytes - headBytes - 4 * c.dim * (2 * c.layers + 2))
        text += "\(String(format: "%.0f", 100 * linear / mos.secondsPerToken)) % of the time, reading at "
        text += "\(String(format: "%.1f", linearBytes / linear / 1e9)) GB/s "
        text += "(\(String(format: "%.0f", 100 * linearBytes / linear / bandwidth[1]!)) % of the read bandwidth), and the "
        text += "float32 output head \(String(format: "%.0f", 100 * head / mos.secondsPerToken)) %: with the blocks at one bit, "
        text += "the \(c.vocabulary) × \(c.dim) head is \(String(format: "%.0f", 100 * Double(headBytes) / Double(mos.weightBytes + mos.cacheBytes))) % "
        text += "of the bytes a token reads. "
        if let n = bench.threads.last, n > 1 {
            let m = result(.mos, n)
            text += "On \(n) threads the same model decodes \(String(format: "%.2f", m.tokensPerSecond)) tokens/s "
            text += "(\(String(format: "%.2f", m.tokensPerSecond / mos.tokensPerSecond))× one thread), reading at "
            text += "\(String(format: "%.0f", 100 * m.bytesPerSecond / bandwidth[n]!)) % of the read bandwidth measured on \(n) threads. "
        }
        text += "The float model reads at \(String(format: "%.0f", 100 * fp.bytesPerSecond / bandwidth[1]!)) % of the "
        text += "read bandwidth on one thread: 32 bits a weight keep sgemv at the memory's pace, where the sign products, "
        text += "on int16 activations, do two integer dot products for every 64 columns they read.\n"
        try AtomicFile.write(text, to: folder.appendingPathComponent("decode.md"))
    }

//: {{table: decode.csv}}
//: {{figure: decode.svg | Tokens per second decoding a model of LLaMA-1-7B's shape, by method and thread count, measured in this run (float scaled from a few blocks).}}
//: {{include: decode.md}}
}

BinaryKernel.main()
