import ArgumentParser
import Foundation
import CBLAS
import Corpus
import Kernels
import Notebook

struct BenchKernels: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "kernels",
        abstract: "Packed 1-bit and 2-bit kernels against OpenBLAS sgemv and sgemm, timed interleaved in one run.",
        discussion: """
        Kernels: sgemv (float32 weights, OpenBLAS), binary (sign bits with static input and output \
        scales: OneBit), binarymos (sign bits, E = 4 scaling experts mixed by a router: BinaryMoS), int2 \
        (2-bit codes, a 16-bit scale and zero per 128 weights). Each round times every kernel once, \
        rounds repeat, and the fastest round counts. ratio_vs_sgemv is the float kernel's time over this \
        kernel's (above 1: faster). GB/s is weight bytes read per second, against the read bandwidth \
        measured here on the same threads. binary_swift is the bare sign-bit product written in Swift SIMD \
        (float activations, sign bits flipping sign bits), for comparison with the C kernel behind binary. \
        With --tokens N > 1 the GEMM paths run against sgemm instead.
        """)

    @Option(help: "Shapes as ROWSxCOLS (output × input), comma-separated (default: LLaMA-7B's and the compact model's).")
    var shapes: String = "4096x4096,4096x11008,11008x4096,128x128,384x128,128x384"
    @Option(help: "Tokens per call: 1 times the GEMV paths, more times the GEMM paths against sgemm.") var tokens: Int = 1
    @Option(help: "Timing rounds (the fastest counts).") var rounds: Int = 7
    @Option(help: "Also write the table as CSV here.") var csv: String?
    @OptionGroup var compute: ComputeOptions

    func run() throws {
        try compute.apply()
        guard tokens >= 1, rounds >= 1 else { throw ValidationError("--tokens and --rounds must be at least 1") }
        let parsed = try shapes.split(separator: ",").map { text -> (Int, Int) in
            let parts = text.split(separator: "x").compactMap { Int($0) }
            guard parts.count == 2, parts.allSatisfy({ $0 >= 1 }) else {
                throw ValidationError("shape '\(text)' is not ROWSxCOLS")
            }
            return (parts[0], parts[1])
        }
        let bandwidth = readBandwidth()
        let reference = tokens == 1 ? "sgemv" : "sgemm"
        print("read bandwidth \(format(bandwidth / 1e9, 1)) GB/s on \(compute.threads) thread(s); "
              + "AVX-512 VNNI kernels: \(PackedKernels.hasAVX512VNNI ? "yes" : "no (portable C)"); tokens per call: \(tokens)")
        var table = CSVTable(columns: ["kernel", "rows", "cols", "tokens", "threads", "seconds", "ratio_vs_sgemv",
                                       "weight_bytes", "gb_per_s"])
        print("kernel         rows   cols      time        vs \(reference)   weight bytes   GB/s")
        for (rows, cols) in parsed {
            let kernels = makeKernels(rows: rows, cols: cols)
            let seconds = time(kernels)
            for (k, kernel) in kernels.enumerated() {
                let ratio = seconds[0] / seconds[k], gbs = Double(kernel.bytes) / seconds[k] / 1e9
                table.append([k == 0 ? reference : kernel.name, rows, cols, tokens, compute.threads,
                              CSVTable.format(seconds[k], digits: 9), CSVTable.format(ratio, digits: 3), kernel.bytes,
                              CSVTable.format(gbs, digits: 2)])
                print((k == 0 ? reference : kernel.name).padding(toLength: 12, withPad: " ", startingAt: 0)
                      + String(format: " %6d %6d  %9.4f ms  %7.2f×  %12d  %6.1f", rows, cols, seconds[k] * 1000, ratio,
                               kernel.bytes, gbs))
            }
        }
        if let csv { try table.write(to: URL(fileURLWithPath: csv)) }
    }

    struct Kernel {
        var name: String
        var bytes: Int
        var run: () -> Void
    }

    /// The four kernels on one shape, with random weights and activations.
    func makeKernels(rows n: Int, cols m: Int) -> [Kernel] {
        var rng = SeededGenerator(seed: 7)
        let w = Tensor([n, m]), x = Tensor([tokens, m]), y = Tensor([tokens, n])
        for i in 0..<w.count { w[i] = rng.normal() * 0.02 }
        for i in 0..<x.count { x[i] = rng.normal() }
        let signs = PackedSigns(w.pointer, rows: n, cols: m)
        func scales(_ count: Int) -> [Float] { (0..<count).map { _ in 0.01 + abs(rng.normal()) * 0.01 } }
        let onebit = PackedMixtureOfScales(signs: signs, experts: 1, router: nil, inputScale: scales(m), outputScale: scales(n))
        let mos = PackedMixtureOfScales(signs: signs, experts: 4, router: scales(4 * m), inputScale: scales(4 * m),
                                        outputScale: scales(4 * n))
        let oneScratch = PackedMixtureOfScales.Scratch(tokens: tokens, layer: onebit)
        let mosScratch = PackedMixtureOfScales.Scratch(tokens: tokens, layer: mos)
        let group = 128, columns = (m + 63) / 64 * 64, groups = (columns + group - 1) / group
        let codes = PackedCodes2(codes: (0..<(n * columns)).map { _ in UInt8(rng.below(4)) }, scales: scales(n * groups),
                                 zeros: (0..<(n * groups)).map { _ in Float(rng.below(4)) }, rows: n, cols: columns,
                                 groupSize: group)
        let int2Input = Tensor([tokens, columns]), int2Scratch = Int8Activations(tokens: tokens, cols: columns, padTo: 256)
        for t in 0..<tokens { for j in 0..<m { int2Input[t * columns + j] = x[t * m + j] } }
        // The closures hold the tensors themselves, so their buffers live as long as the kernels.
        let tokens = self.tokens
        let reference: () -> Void = tokens == 1
            ? { parallelChunks(n, minimumChunk: 64) { r in
                    cblas_sgemv(CblasRowMajor, CblasNoTrans, Int32(r.count), Int32(m), 1, w.pointer + r.lowerBound * m,
                                Int32(m), x.pointer, 1, 0, y.data + r.lowerBound, 1) } }
            : { matmulForward(y.data, x.pointer, w.pointer, rows: tokens, inFeatures: m, outFeatures: n) }
        return [
            Kernel(name: "sgemv", bytes: 4 * n * m, run: reference),
            Kernel(name: "binary", bytes: onebit.byteCount) { onebit.forward(y.data, x.pointer, tokens: tokens, scratch: oneScratch) },
            Kernel(name: "binarymos", bytes: mos.byteCount) { mos.forward(y.data, x.pointer, tokens: tokens, scratch: mosScratch) },
            Kernel(name: "int2", bytes: codes.byteCount) {
                int2Product(y.data, codes, int2Input.pointer, tokens: tokens, scratch: int2Scratch)
            },
            // The sign-bit product alone, in Swift SIMD on float activations (no int8 rounding).
            Kernel(name: "binary_swift", bytes: signs.byteCount) {
                binaryProductSIMD(y.data, signs, x.pointer, tokens: tokens)
            },
        ]
    }

    /// Seconds per call of each kernel: repetitions sized to about 20 ms per
    /// measurement, kernels interleaved within each round, the fastest round kept.
    func time(_ kernels: [Kernel]) -> [Double] {
        let repetitions = kernels.map { k -> Int in
            k.run()
            let start = Date()
            k.run()
            return max(1, Int(0.02 / max(Date().timeIntervalSince(start), 1e-7)))
        }
        var best = [Double](repeating: .infinity, count: kernels.count)
        for _ in 0..<rounds {
            for (i, k) in kernels.enumerated() {
                let start = Date()
                for _ in 0..<repetitions[i] { k.run() }
                best[i] = min(best[i], Date().timeIntervalSince(start) / Double(repetitions[i]))
            }
        }
        return best
    }

    /// Bytes per second of summing a 256 MiB buffer, split over the threads (best of three).
    func readBandwidth() -> Double {
        let count = 64 << 20
        let buffer = Tensor([count])
        for i in stride(from: 0, to: count, by: 1024) { buffer[i] = 1 }
        var best = Double.infinity, total: Float = 0
        for _ in 0..<3 {
            let start = Date()
            let sums = UnsafeMutablePointer<Float>.allocate(capacity: Threads.count)
            sums.initialize(repeating: 0, count: Threads.count)
            parallelChunks(count, minimumChunk: 1 << 20) { r in
                var acc = SIMD16<Float>()
                var i = r.lowerBound
                while i + 16 <= r.upperBound {
                    acc += UnsafeRawPointer(buffer.data + i).loadUnaligned(as: SIMD16<Float>.self)
                    i += 16
                }
                sums[r.lowerBound * Threads.count / count] = acc.sum()
            }
            best = min(best, Date().timeIntervalSince(start))
            total += (0..<Threads.count).reduce(0) { $0 + sums[$1] }
            sums.deallocate()
        }
        precondition(total > 0)
        return Double(4 * count) / best
    }
}
