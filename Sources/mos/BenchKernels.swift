import ArgumentParser
import Foundation
import Experiments
import Kernels
import Notebook

struct BenchKernels: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "kernels",
        abstract: "Packed 1-bit and 2-bit kernels against OpenBLAS sgemv and sgemm, timed interleaved in one run.",
        discussion: """
        Kernels: sgemv (float32 weights, OpenBLAS), binary (sign bits with static input and output \
        scales: OneBit), binarymos (sign bits, E = 4 scaling experts mixed by a router: BinaryMoS), int2 \
        (2-bit codes, a 16-bit scale and zero per 128 weights), billm (BiLLM's and ARB's layout: three sign \
        planes per block of 128 columns through the binary kernel, a tenth of the columns in float; widths \
        that are multiples of 64), each on int16 activations (two int8 \
        planes, what eval and generate use by default) and on int8 (one plane, the fastest). Each round \
        times every kernel once, \
        rounds repeat, and the fastest round counts. ratio_vs_sgemv is the float kernel's time over this \
        kernel's (above 1: faster). GB/s is weight bytes read per second, against the read bandwidth \
        measured here on the same threads. binary_swift is the bare sign-bit product written in Swift SIMD \
        (float activations, sign bits flipping sign bits), for comparison with the C kernel behind binary. \
        BTC's codebook is decoded into sign bits when a student is loaded and runs on the binary kernel. \
        With --tokens N > 1 the GEMM paths run against sgemm instead.
        """)

    @Option(help: "Shapes as ROWSxCOLS (output × input), comma-separated (default: LLaMA-7B's and the compact model's).")
    var shapes: String = "4096x4096,4096x11008,11008x4096,128x128,384x128,128x384"
    @Option(help: "Tokens per call: 1 times the GEMV paths, more times the GEMM paths against sgemm.") var tokens: Int = 1
    @Option(help: "Timing rounds (the fastest counts).") var rounds: Int = 7
    @Option(help: "Also write the table as CSV here.") var csv: String?
    @OptionGroup var compute: ComputeOptions

    func run() throws {
        compute.apply()
        guard tokens >= 1, rounds >= 1 else { throw Failure("--tokens and --rounds must be at least 1") }
        let parsed = try shapes.split(separator: ",").map { text -> (Int, Int) in
            let parts = text.split(separator: "x").compactMap { Int($0) }
            guard parts.count == 2, parts.allSatisfy({ $0 >= 1 }) else {
                throw Failure("shape '\(text)' is not ROWSxCOLS")
            }
            // The float reference alone takes 4 bytes a weight: 1 GiB at most.
            guard parts.allSatisfy({ $0 <= 1 << 16 }), parts[0] * parts[1] <= 1 << 28 else {
                throw Failure("shape '\(text)' is too large: at most 65536 rows or columns, 2^28 weights")
            }
            return (parts[0], parts[1])
        }
        if let csv { try checkOutput(csv) }
        let bandwidth = KernelBenchmark.readBandwidth()
        let reference = tokens == 1 ? "sgemv" : "sgemm"
        print("read bandwidth \(format(bandwidth / 1e9, 1)) GB/s on \(compute.threads) thread(s); "
              + "kernel paths: \(PackedKernels.path); dense: \(DenseKernels.description); tokens per call: \(tokens)")
        var table = CSVTable(columns: ["kernel", "activations", "rows", "cols", "tokens", "threads", "seconds",
                                       "ratio_vs_sgemv", "weight_bytes", "gb_per_s"])
        print("kernel        acts       rows   cols      time        vs \(reference)   weight bytes   GB/s")
        for (rows, cols) in parsed {
            var benchmark = KernelBenchmark(rows: rows, cols: cols)
            benchmark.tokens = tokens; benchmark.rounds = rounds
            let timings = benchmark.run()
            for t in timings {
                let ratio = timings[0].seconds / t.seconds, gbs = Double(t.weightBytes) / t.seconds / 1e9
                table.append([t.kernel, t.activations, rows, cols, tokens, compute.threads,
                              CSVTable.format(t.seconds, digits: 9), CSVTable.format(ratio, digits: 3), t.weightBytes,
                              CSVTable.format(gbs, digits: 2)])
                print(t.kernel.padding(toLength: 13, withPad: " ", startingAt: 0)
                      + t.activations.padding(toLength: 8, withPad: " ", startingAt: 0)
                      + String(format: " %6d %6d  %9.4f ms  %7.2f×  %12d  %6.1f", rows, cols, t.seconds * 1000, ratio,
                               t.weightBytes, gbs))
            }
        }
        if let csv { try table.write(to: URL(fileURLWithPath: csv)) }
    }
}
