import XCTest
import Randomness
@testable import Binarization

/// BTC's codebook against what it promises: with as many centroids as
/// distinct sub-vectors it is exact; with fewer, k-means keeps more bits than
/// its starting codebook; indices and codebook round-trip through their packing.
final class CodebookTests: XCTestCase {
    func weights(_ n: Int, _ m: Int, seed: UInt64) -> [Float] {
        var rng = SeededGenerator(seed: seed)
        // Rows that share sign patterns: what a codebook can exploit.
        let prototypes = (0..<6).map { _ in (0..<m).map { _ in rng.normal() } }
        return (0..<n).flatMap { r in prototypes[r % 6].map { $0 + 0.6 * rng.normal() } }
    }

    func testEnoughCentroidsAreExactAndFewerStillFit() {
        let (n, m) = (40, 30)
        let w = weights(n, m, seed: 1)
        w.withUnsafeBufferPointer { p in
            // 40 rows × 3 sub-vectors of 10: 120 sub-vectors, at most 120 distinct, below 2^7.
            let exact = CodebookCode(p.baseAddress!, rows: n, cols: m, vector: 10, indexBits: 7)
            XCTAssertEqual(exact.agreement(with: p.baseAddress!), 1)
            let tight = CodebookCode(p.baseAddress!, rows: n, cols: m, vector: 10, indexBits: 3)
            let start = CodebookCode(p.baseAddress!, rows: n, cols: m, vector: 10, indexBits: 3, iterations: 0)
            XCTAssertGreaterThan(tight.agreement(with: p.baseAddress!), start.agreement(with: p.baseAddress!))
            XCTAssertGreaterThan(tight.agreement(with: p.baseAddress!), 0.6)
        }
    }

    func testIndicesRoundTripThroughPacking() {
        var rng = SeededGenerator(seed: 2)
        for bits in [1, 5, 10, 17] {
            let values = (0..<37).map { _ in Int(rng.next() % UInt64(1 << bits)) }
            let packed = packIndices(values, bits: bits)
            XCTAssertEqual(packed.count, (37 * bits + 7) / 8)
            XCTAssertEqual(unpackIndices(packed, bits: bits, count: 37), values)
        }
        // One-bit indices are the sign packing's bit order.
        XCTAssertEqual(packIndices([1, 0, 1, 1, 0, 0, 0, 1, 1], bits: 1), packCodes([1, 0, 1, 1, 0, 0, 0, 1, 1], bits: 1))
    }
}
