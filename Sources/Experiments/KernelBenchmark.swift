import Randomness
import Foundation
import Corpus
import Kernels
import Binarization

/// Times the float reference and the packed kernels on one layer shape, in
/// one run: each round times every kernel once (repeated to about 20 ms),
/// rounds repeat, the fastest round counts. Weights and activations are
/// random; the kernels' speed does not depend on their values.
public struct KernelBenchmark {
    public struct Timing {
        public var kernel: String        // "sgemv" or "sgemm" (the reference), "binary", "binarymos", "int2", "billm", "binary_swift"
        public var activations: String   // "float32", or the packed kernels' "int8" or "int16"
        public var rows: Int, cols: Int, tokens: Int
        public var seconds: Double       // per call
        public var weightBytes: Int      // bytes of weights (and scales) read per call
    }

    public var rows: Int, cols: Int
    public var tokens = 1                // 1: GEMV against sgemv; more: GEMM against sgemm
    public var rounds = 7
    /// The packed kernels run once per precision listed.
    public var precisions: [ActivationPrecision] = [.int16, .int8]

    public init(rows: Int, cols: Int) { self.rows = rows; self.cols = cols }

    public func run() -> [Timing] {
        let kernels = makeKernels()
        let repetitions = kernels.map { k -> Int in
            k.run()
            let start = Date()
            k.run()
            return max(1, Int(0.02 / max(Date().timeIntervalSince(start), 1e-7)))
        }
        var best = [Double](repeating: .infinity, count: kernels.count)
        for _ in 0..<max(1, rounds) {
            for (i, k) in kernels.enumerated() {
                let start = Date()
                for _ in 0..<repetitions[i] { k.run() }
                best[i] = min(best[i], Date().timeIntervalSince(start) / Double(repetitions[i]))
            }
        }
        return kernels.indices.map {
            Timing(kernel: kernels[$0].name, activations: kernels[$0].activations, rows: rows, cols: cols, tokens: tokens,
                   seconds: best[$0], weightBytes: kernels[$0].bytes)
        }
    }

    struct Kernel {
        var name: String
        var activations = "float32"
        var bytes: Int
        var run: () -> Void
    }

    func makeKernels() -> [Kernel] {
        let (n, m, tokens) = (rows, cols, self.tokens)
        var rng = SeededGenerator(seed: 7)
        let w = Tensor([n, m]), x = Tensor([tokens, m]), y = Tensor([tokens, n])
        for i in 0..<w.count { w[i] = rng.normal() * 0.02 }
        for i in 0..<x.count { x[i] = rng.normal() }
        let signs = PackedSigns(w.pointer, rows: n, cols: m)
        func scales(_ count: Int) -> [Float] { (0..<count).map { _ in 0.01 + abs(rng.normal()) * 0.01 } }
        let onebit = PackedMixtureOfScales(signs: signs, experts: 1, router: nil, inputScale: scales(m), outputScale: scales(n))
        let mos = PackedMixtureOfScales(signs: signs, experts: 4, router: scales(4 * m), inputScale: scales(4 * m),
                                        outputScale: scales(4 * n))
        // The int2 kernel takes whole 64-column blocks: a ragged width is padded with zero codes.
        let group = 128, columns = (m + 63) / 64 * 64, groups = (columns + group - 1) / group
        let codes = PackedCodes2(codes: (0..<(n * columns)).map { _ in UInt8(rng.below(4)) }, scales: scales(n * groups),
                                 zeros: (0..<(n * groups)).map { _ in Float(rng.below(4)) }, rows: n, cols: columns,
                                 groupSize: group)
        // BiLLM and ARB (one layout): three sign planes a block, a tenth of the columns in float.
        let residual = m % 64 == 0 ? ResidualBinaryCode.random(rows: n, cols: m, salientFraction: 0.1, blockSize: 128, using: &rng) : nil
        let rotation = KroneckerRotation.random(m, using: &rng)
        let int2Input = Tensor([tokens, columns])
        for t in 0..<tokens { for j in 0..<m { int2Input[t * columns + j] = x[t * m + j] } }
        // The closures hold the tensors themselves, so their buffers live as long as the kernels.
        let reference: () -> Void = tokens == 1
            ? { matvec(y.data, w.pointer, x.pointer, rows: n, cols: m) }
            : { matmulForward(y.data, x.pointer, w.pointer, rows: tokens, inFeatures: m, outFeatures: n) }
        var kernels = [Kernel(name: tokens == 1 ? "sgemv" : "sgemm", bytes: 4 * n * m, run: reference)]
        for precision in precisions {
            let oneScratch = PackedMixtureOfScales.Scratch(tokens: tokens, layer: onebit, precision: precision)
            let mosScratch = PackedMixtureOfScales.Scratch(tokens: tokens, layer: mos, precision: precision)
            let int2Scratch = QuantizedActivations(tokens: tokens, cols: columns, padTo: 256, precision: precision)
            kernels += [
                Kernel(name: "binary", activations: precision.rawValue, bytes: onebit.byteCount) {
                    onebit.forward(y.data, x.pointer, tokens: tokens, scratch: oneScratch)
                },
                Kernel(name: "binarymos", activations: precision.rawValue, bytes: mos.byteCount) {
                    mos.forward(y.data, x.pointer, tokens: tokens, scratch: mosScratch)
                },
                Kernel(name: "int2", activations: precision.rawValue, bytes: codes.byteCount) {
                    int2Product(y.data, codes, int2Input.pointer, tokens: tokens, scratch: int2Scratch)
                },
            ]
            // BTC with its learned rotation: each token rotated (R₁ ⊗ R₂), then OneBit's kernel on the decoded signs.
            let rotated = RotatedInputLinear(PackedBinaryLinear(onebit, precision: precision), rotation: rotation)
            kernels.append(Kernel(name: "btc_rotated", activations: precision.rawValue, bytes: rotated.byteCount) {
                rotated.forward(y.data, x.pointer, rows: tokens)
            })
            if let layer = residual.flatMap({ $0.packed(precision: precision) as? PackedResidualBinaryLinear }) {
                kernels.append(Kernel(name: "billm", activations: precision.rawValue, bytes: layer.byteCount) {
                    layer.forward(y.data, x.pointer, rows: tokens)
                })
            }
        }
        // The sign-bit product alone, in Swift SIMD on float activations (no rounding).
        kernels.append(Kernel(name: "binary_swift", bytes: signs.byteCount) {
            binaryProductSIMD(y.data, signs, x.pointer, tokens: tokens)
        })
        return kernels
    }

    /// Bytes per second of summing a 1 GiB buffer, split over the threads (the
    /// fastest of `passes`). The buffer is four times a large L3 cache, so that
    /// memory answers: a 256 MiB one read up to 15 % faster on a Xeon with 260 MiB.
    public static func readBandwidth(passes: Int = 10) -> Double {
        let buffer = readBuffer, count = buffer.count
        let chunks = max(1, min(Threads.count, count / (1 << 20)))
        let sums = Tensor([chunks])
        var best = Double.infinity
        for _ in 0..<passes {
            let start = Date()
            parallelChunks(count, minimumChunk: 1 << 20) { r in
                // Four sums, so that no chain of adds is what waits.
                var acc = (SIMD16<Float>(), SIMD16<Float>(), SIMD16<Float>(), SIMD16<Float>())
                var i = r.lowerBound
                func load(_ k: Int) -> SIMD16<Float> { UnsafeRawPointer(buffer.data + i + 16 * k).loadUnaligned(as: SIMD16<Float>.self) }
                while i + 64 <= r.upperBound {
                    acc.0 += load(0); acc.1 += load(1); acc.2 += load(2); acc.3 += load(3)
                    i += 64
                }
                sums[(r.lowerBound * chunks + count - 1) / count] = (acc.0 + acc.1 + acc.2 + acc.3).sum()   // this chunk's number
            }
            best = min(best, Date().timeIntervalSince(start))
        }
        precondition((0..<chunks).reduce(0) { $0 + sums[$1] } > 0)
        return Double(4 * count) / best
    }

    /// Made once, on first use, with every page touched.
    private static let readBuffer: Tensor = {
        let buffer = Tensor([256 << 20])
        for i in stride(from: 0, to: buffer.count, by: 1024) { buffer[i] = 1 }
        return buffer
    }()
}
