import Randomness
import XCTest
import Kernels
import Corpus
import Transformer
@testable import Binarization

final class QuantizationTests: XCTestCase {
    override func setUp() { Threads.use(2) }

    func testPackingRoundTrips() {
        var rng = SeededGenerator(seed: 1)
        for bits in [1, 2, 3, 4, 8] {
            for count in [0, 1, 7, 8, 9, 131] {
                let codes = (0..<count).map { _ in UInt8(rng.below(1 << bits)) }
                let packed = packCodes(codes, bits: bits)
                XCTAssertEqual(packed.count, (count * bits + 7) / 8)
                XCTAssertEqual(unpackCodes(packed, bits: bits, count: count), codes, "\(bits) bits, \(count) codes")
            }
        }
        // The documented layout: 2-bit codes 1, 2, 3, 0 → 0b00_11_10_01.
        XCTAssertEqual(packCodes([1, 2, 3, 0], bits: 2), [0b0011_1001])
        let w: [Float] = [0.5, -0.1, 0, -2, 3, -0, 1e-9, -1e-9, 4]
        XCTAssertEqual(w.withUnsafeBufferPointer { unpackSigns(packSigns($0.baseAddress!, count: w.count), count: w.count) },
                       [1, -1, 1, -1, 1, 1, 1, -1, 1])
    }

    func testCholeskyMatchesNaive() {
        var rng = SeededGenerator(seed: 2)
        let n = 9
        let a = (0..<(n * n)).map { _ in Double(rng.normal()) }
        var spd = [Double](repeating: 0, count: n * n)   // AᵀA + I
        for r in 0..<n { for c in 0..<n {
            spd[r * n + c] = (0..<n).reduce(r == c ? 1.0 : 0.0) { $0 + a[$1 * n + r] * a[$1 * n + c] }
        } }
        let fast = Cholesky.upper(spd, n: n)!, naive = naiveCholeskyUpper(spd, n: n)!
        for i in 0..<(n * n) { XCTAssertEqual(fast[i], naive[i], accuracy: 1e-9) }
        let inverse = Cholesky.inverse(spd, n: n)!
        for r in 0..<n { for c in 0..<n {
            let product = (0..<n).reduce(0.0) { $0 + spd[r * n + $1] * inverse[$1 * n + c] }
            XCTAssertEqual(product, r == c ? 1 : 0, accuracy: 1e-9)
        } }
        var notPositive = spd
        notPositive[0] = -1
        XCTAssertNil(Cholesky.upper(notPositive, n: n))
    }

    /// A layer [24, 64] with correlated inputs (a few shared factors plus noise),
    /// its inverse Hessian, and the squared output error ‖X(W − Q)ᵀ‖² of a quantized Q.
    func correlatedLayer() -> (w: [Float], rows: Int, cols: Int, hessian: InverseHessian, outputError: ([Float]) -> Double) {
        var rng = SeededGenerator(seed: 3)
        let (n, m, samples) = (24, 64, 512)
        let w = (0..<(n * m)).map { _ in rng.normal() }
        let factors = (0..<(4 * m)).map { _ in rng.normal() }
        var x = [Float](repeating: 0, count: samples * m)
        for s in 0..<samples {
            let z = (0..<4).map { _ in rng.normal() }
            for i in 0..<m { x[s * m + i] = (0..<4).reduce(0) { $0 + z[$1] * factors[$1 * m + i] } + 0.1 * rng.normal() }
        }
        var h: [Float] = []
        x.withUnsafeBufferPointer { accumulateHessian(&h, $0.baseAddress!, rows: samples, cols: m) }
        func outputError(_ q: [Float]) -> Double {
            var total = 0.0
            for s in 0..<samples { for o in 0..<n {
                let d = (0..<m).reduce(0.0) { $0 + Double(x[s * m + $1]) * Double(w[o * m + $1] - q[o * m + $1]) }
                total += d * d
            } }
            return total
        }
        return (w, n, m, InverseHessian(h, cols: m)!, outputError)
    }

    /// GPTQ's output error is below RTN's at every bit width.
    func testGPTQBeatsRoundToNearest() {
        let (w, n, m, hinv, outputError) = correlatedLayer()
        for bits in [2, 3, 4] {
            let rtn = w.withUnsafeBufferPointer { GroupCode(roundingToNearest: $0.baseAddress!, rows: n, cols: m, bits: bits, groupSize: 32) }
            let gptq = w.withUnsafeBufferPointer { GroupCode(gptq: $0.baseAddress!, rows: n, cols: m, bits: bits, groupSize: 32, hessian: hinv) }
            XCTAssertLessThan(outputError(gptq.dequantized()), 0.8 * outputError(rtn.dequantized()), "\(bits) bits")
            XCTAssertTrue(gptq.codes.allSatisfy { Int($0) < 1 << bits })
        }
    }

    /// PB-LLM's error compensation (PB-GPTQ) lowers the layer's output error at
    /// every salient fraction, and keeps the salient set and the row parameters.
    func testPartialBinaryCompensationLowersOutputError() {
        let (w, n, m, hinv, outputError) = correlatedLayer()
        for ratio in [0.0, 0.1, 0.3] {
            let (plain, compensated) = w.withUnsafeBufferPointer { p in
                (PartialBinaryCode(p.baseAddress!, rows: n, cols: m, ratio: ratio, saliency: .hessian, hessian: hinv, compensation: false),
                 PartialBinaryCode(p.baseAddress!, rows: n, cols: m, ratio: ratio, saliency: .hessian, hessian: hinv, compensation: true))
            }
            XCTAssertLessThan(outputError(compensated.dequantized()), 0.5 * outputError(plain.dequantized()), "r = \(ratio)")
            XCTAssertEqual(compensated.salient, plain.salient)
            XCTAssertEqual(compensated.alpha, plain.alpha)
        }
    }

    /// RTN keeps every weight within half a step of its group's grid.
    func testRoundToNearestError() {
        var rng = SeededGenerator(seed: 4)
        let (n, m) = (5, 40)
        let w = (0..<(n * m)).map { _ in rng.normal() }
        let code = w.withUnsafeBufferPointer { GroupCode(roundingToNearest: $0.baseAddress!, rows: n, cols: m, bits: 3, groupSize: 16) }
        XCTAssertEqual(code.groups, 3)   // 16 + 16 + 8
        let q = code.dequantized()
        for i in w.indices {
            let step = code.scales[(i / m) * code.groups + (i % m) / 16]
            XCTAssertLessThanOrEqual(abs(w[i] - q[i]), step / 2 * 1.001, "weight \(i)")
        }
    }

    func testPartialBinarization() {
        var rng = SeededGenerator(seed: 5)
        let (n, m) = (8, 32)
        let w = (0..<(n * m)).map { _ in rng.normal() }
        for ratio in [0.0, 0.1, 0.5] {
            let code = w.withUnsafeBufferPointer {
                PartialBinaryCode($0.baseAddress!, rows: n, cols: m, ratio: ratio, saliency: .magnitude, hessian: nil,
                                  compensation: false)
            }
            let k = PartialBinaryCode.salientCount(rows: n, cols: m, ratio: ratio)
            XCTAssertEqual(code.salient.filter { $0 }.count, k)
            // The salient weights are the largest ones, kept to within an 8-bit step.
            let threshold = w.map(abs).sorted(by: >).prefix(k).last ?? .infinity
            let q = code.dequantized()
            for i in w.indices where code.salient[i] {
                XCTAssertGreaterThanOrEqual(abs(w[i]), threshold)
                XCTAssertEqual(q[i], w[i], accuracy: code.salientScale[i / m] * 0.51)
            }
            // The others sit at μ ± α of their row.
            for i in w.indices where !code.salient[i] {
                let r = i / m
                XCTAssertEqual(abs(q[i] - code.mean[r]), code.alpha[r], accuracy: 1e-6)
            }
        }
    }

    /// Accounting from shapes against an independent recount of the memory figures of BinaryMoS (Jo et al., 2024), GB = 10⁹ bytes, 16-bit scales.
    func testLlamaAccounting() {
        let seven = ModelShape.named["llama-1-7b"]!, thirteen = ModelShape.named["llama-1-13b"]!
        XCTAssertEqual(Double(seven.parameters) / 1e9, 6.738, accuracy: 0.0005)
        XCTAssertEqual(Double(thirteen.parameters) / 1e9, 13.016, accuracy: 0.0005)
        func gb(_ shape: ModelShape, _ method: Method, _ s: Int = 16) -> Double {
            Double(Storage.model(shape, method, scaleBits: s).bytes) / 1e9
        }
        let mos = Method(BinaryMoS(experts: 4))
        XCTAssertEqual(gb(seven, Method(FullPrecision())), 13.477, accuracy: 0.0005)
        XCTAssertEqual(gb(seven, Method(OneBit())), 1.339, accuracy: 0.0005)
        XCTAssertEqual(gb(seven, mos), 1.363, accuracy: 0.0005)
        XCTAssertEqual(gb(seven, Method(RoundToNearest())), 2.346, accuracy: 0.0005)
        XCTAssertEqual(gb(thirteen, Method(OneBit())), 2.250, accuracy: 0.0005)
        XCTAssertEqual(gb(thirteen, mos), 2.288, accuracy: 0.0005)
        XCTAssertEqual(gb(thirteen, mos, 32), 2.333, accuracy: 0.0005)
        XCTAssertEqual(gb(thirteen, Method(GPTQ())), 4.225, accuracy: 0.0005)
        // OneBit's 4096 × 4096 layer: (4096² + 16·2·4096) / 4096² ≈ 1.0078 bits per weight.
        XCTAssertEqual(Storage.linear(Method(OneBit()), inFeatures: 4096, outFeatures: 4096).linearBitsPerWeight,
                       1.0078, accuracy: 0.0001)
        // PB-LLM at r = 0.1 on a wide layer: about 1.7 bits without the index, 2.7 with it.
        let pb = Storage.linear(Method(PBLLM()), inFeatures: 4096, outFeatures: 4096)
        XCTAssertEqual(pb.linearBitsPerWeight, 2.7, accuracy: 0.02)
        XCTAssertEqual(Double(pb.bits - pb.parts["salient index"]!) / Double(pb.linearWeights), 1.7, accuracy: 0.02)
    }
}
