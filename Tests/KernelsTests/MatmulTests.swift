import XCTest
import Kernels
import CKernels
import Foundation

/// The OpenBLAS-backed products against the naive loops beside them, on
/// shapes that are not multiples of any block, with one row and one column.
final class MatmulTests: XCTestCase {
    func random(_ count: Int, seed: UInt64) -> [Float] {
        var state = seed
        return (0..<count).map { _ in
            state = state &* 6364136223846793005 &+ 1442695040888963407
            return Float(Int64(bitPattern: state >> 11) % 2001 - 1000) / 1000
        }
    }

    func check(rows: Int, m: Int, n: Int, threads: Int) {
        Threads.use(threads)
        let x = Tensor([rows, m], values: random(rows * m, seed: 1))
        let w = Tensor([n, m], values: random(n * m, seed: 2))
        let dy = Tensor([rows, n], values: random(rows * n, seed: 3))
        let fast = Tensor([rows, n]), slow = Tensor([rows, n])
        matmulForward(fast.data, x.pointer, w.pointer, rows: rows, inFeatures: m, outFeatures: n)
        naiveMatmulForward(slow.data, x.pointer, w.pointer, rows: rows, inFeatures: m, outFeatures: n)
        // float32 sums of m terms of size ≤ 1: a few ulps of m.
        let tolerance = Float(m) * 1e-6
        for i in 0..<fast.count { XCTAssertEqual(fast[i], slow[i], accuracy: tolerance, "forward \(rows)×\(m)×\(n)") }

        let dxFast = Tensor([rows, m]), dxSlow = Tensor([rows, m])
        matmulBackwardInput(dxFast.data, dy.pointer, w.pointer, rows: rows, inFeatures: m, outFeatures: n, accumulate: false)
        naiveMatmulBackwardInput(dxSlow.data, dy.pointer, w.pointer, rows: rows, inFeatures: m, outFeatures: n)
        for i in 0..<dxFast.count { XCTAssertEqual(dxFast[i], dxSlow[i], accuracy: Float(n) * 1e-6) }

        let dwFast = Tensor([n, m]), dwSlow = Tensor([n, m])
        matmulBackwardWeight(dwFast.data, dy.pointer, x.pointer, rows: rows, inFeatures: m, outFeatures: n)
        naiveMatmulBackwardWeight(dwSlow.data, dy.pointer, x.pointer, rows: rows, inFeatures: m, outFeatures: n)
        for i in 0..<dwFast.count { XCTAssertEqual(dwFast[i], dwSlow[i], accuracy: Float(rows) * 1e-6) }
    }

    /// Where the CPU has AVX2 or AVX-512, the dense products run on OpenBLAS
    /// kernels that use it, even when OpenBLAS does not know the CPU's model
    /// (blascore.c).
    func testDenseProductsUseTheVectorKernels() throws {
        try XCTSkipIf(ProcessInfo.processInfo.environment["OPENBLAS_CORETYPE"] != nil, "OPENBLAS_CORETYPE is set by hand")
        try XCTSkipIf(ck_path() == 0, "this CPU has neither AVX2 nor AVX-512")
        let core = String(cString: ck_blas_core())
        XCTAssertTrue(["Haswell", "Zen", "SkylakeX", "Cooperlake", "SapphireRapids"].contains(core),
                      "\(DenseKernels.description)")
    }

    func testAgainstNaive() {
        for (rows, m, n) in [(1, 1, 1), (1, 37, 5), (37, 1, 5), (33, 17, 1), (70, 45, 31), (129, 64, 96)] {
            for threads in [1, 2] { check(rows: rows, m: m, n: n, threads: threads) }
        }
    }

    func testAccumulate() {
        Threads.use(2)
        let x = Tensor([3, 4], values: random(12, seed: 4)), w = Tensor([2, 4], values: random(8, seed: 5))
        let y = Tensor([3, 2], values: [Float](repeating: 1, count: 6)), plain = Tensor([3, 2])
        matmulForward(y.data, x.pointer, w.pointer, rows: 3, inFeatures: 4, outFeatures: 2, accumulate: true)
        matmulForward(plain.data, x.pointer, w.pointer, rows: 3, inFeatures: 4, outFeatures: 2)
        for i in 0..<6 { XCTAssertEqual(y[i], plain[i] + 1, accuracy: 1e-6) }
    }
}
