import XCTest
import Corpus
import CKernels
@testable import Kernels

/// The packed kernels against their naive references, on random and awkward
/// shapes (one row, one column, widths off the 64- and 256-column blocks).
final class PackedProductTests: XCTestCase {
    override func setUp() { Threads.use(2) }

    let shapes = [(1, 1), (1, 64), (3, 7), (5, 63), (4, 65), (9, 128), (17, 200), (64, 384), (130, 1000)]

    func random(_ count: Int, _ rng: inout SeededGenerator) -> [Float] { (0..<count).map { _ in rng.normal() } }

    /// The int8 kernel is exact on the rounded activations, so it must match
    /// the reference fed with those, to float rounding; against the float
    /// activations it is off by the rounding alone (≤ half a step per entry).
    func testBinaryKernelsMatchNaive() {
        var rng = SeededGenerator(seed: 1)
        for (rows, cols) in shapes {
            let tokens = 3
            let w = random(rows * cols, &rng), a = random(tokens * cols, &rng)
            let signs = w.withUnsafeBufferPointer { PackedSigns($0.baseAddress!, rows: rows, cols: cols) }
            XCTAssertEqual(signs.byteCount, rows * ((cols + 7) / 8))
            var naive = [Float](repeating: 0, count: tokens * rows), fast = naive, simd = naive, rounded = naive
            let scratch = Int8Activations(tokens: tokens, cols: cols, padTo: 64)
            a.withUnsafeBufferPointer { ap in
                naiveBinaryProduct(&naive, signs, ap.baseAddress!, tokens: tokens)
                binaryProduct(&fast, signs, ap.baseAddress!, tokens: tokens, scratch: scratch)
                binaryProductSIMD(&simd, signs, ap.baseAddress!, tokens: tokens)
            }
            let dequantized = (0..<(tokens * cols)).map { i in
                Float(scratch.values[(i / cols) * scratch.paddedCols + i % cols]) * scratch.scales[i / cols]
            }
            naiveBinaryProduct(&rounded, signs, dequantized, tokens: tokens)
            for i in naive.indices {
                XCTAssertEqual(simd[i], naive[i], accuracy: 1e-4 * Float(cols).squareRoot(), "SIMD \(rows)×\(cols)")
                XCTAssertEqual(fast[i], rounded[i], accuracy: 1e-5 * max(1, abs(rounded[i])), "int8 \(rows)×\(cols)")
                let step = scratch.scales[i / rows]
                XCTAssertLessThanOrEqual(abs(fast[i] - naive[i]), step / 2 * Float(cols) + 1e-5, "int8 vs float")
            }
        }
    }

    func testInt2KernelMatchesNaive() {
        var rng = SeededGenerator(seed: 2)
        for (rows, cols) in shapes where cols % 64 == 0 || cols > 64 {
            let columns = (cols + 63) / 64 * 64   // the kernel's groups need whole 64-column blocks
            for groupSize in [64, 128] {
                let tokens = 2, groups = (columns + groupSize - 1) / groupSize
                let codes = (0..<(rows * columns)).map { _ in UInt8(rng.below(4)) }
                let scales = (0..<(rows * groups)).map { _ in 0.01 + abs(rng.normal()) * 0.1 }
                let zeros = (0..<(rows * groups)).map { _ in Float(rng.below(4)) }
                let w = PackedCodes2(codes: codes, scales: scales, zeros: zeros, rows: rows, cols: columns,
                                     groupSize: groupSize)
                XCTAssertEqual(w.byteCount, rows * columns / 4 + 4 * rows * groups)
                let a = random(tokens * columns, &rng)
                var naive = [Float](repeating: 0, count: tokens * rows), fast = naive, rounded = naive
                let scratch = Int8Activations(tokens: tokens, cols: columns, padTo: 256)
                a.withUnsafeBufferPointer { ap in
                    naiveInt2Product(&naive, w, ap.baseAddress!, tokens: tokens)
                    int2Product(&fast, w, ap.baseAddress!, tokens: tokens, scratch: scratch)
                }
                let dequantized = (0..<(tokens * columns)).map { i in
                    Float(scratch.values[(i / columns) * scratch.paddedCols + i % columns]) * scratch.scales[i / columns]
                }
                naiveInt2Product(&rounded, w, dequantized, tokens: tokens)
                for i in naive.indices {
                    XCTAssertEqual(fast[i], rounded[i], accuracy: 1e-4 * max(1, abs(rounded[i])),
                                   "int2 \(rows)×\(columns) g\(groupSize)")
                }
            }
        }
    }

    /// The portable C paths (CPUs without AVX-512 VNNI) agree with the fast ones.
    func testPortablePathsAgree() {
        defer { ck_force_portable(0) }
        for portable in [true, false] {
            ck_force_portable(portable ? 1 : 0)
            testBinaryKernelsMatchNaive()
            testInt2KernelMatchesNaive()
        }
        XCTAssertEqual(ck_has_avx512vnni(), ck_has_avx512vnni())
    }
}
