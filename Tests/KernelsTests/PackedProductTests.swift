import Randomness
import XCTest
import CKernels
@testable import Kernels

/// The packed kernels against their naive references, on random and awkward
/// shapes (one row, one column, widths off the 64- and 256-column blocks).
final class PackedProductTests: XCTestCase {
    override func setUp() { Threads.use(2) }

    let shapes = [(1, 1), (1, 64), (3, 7), (5, 63), (4, 65), (9, 128), (17, 200), (64, 384), (130, 1000), (6, 5000)]

    func random(_ count: Int, _ rng: inout SeededGenerator) -> [Float] { (0..<count).map { _ in rng.normal() } }

    /// The activations as the kernels saw them, back in floats.
    func dequantized(_ q: QuantizedActivations, tokens: Int) -> [Float] {
        (0..<(tokens * q.cols)).map { i in Float(q.value(i / q.cols, i % q.cols)) * q.scales[i / q.cols] }
    }

    /// Rounding keeps every activation within half a step of its value: a
    /// step of max|a| / 127 with one plane, 254 times finer with two.
    func testActivationRounding() {
        var rng = SeededGenerator(seed: 3)
        let (tokens, cols) = (3, 200)
        var a = random(tokens * cols, &rng)
        a[5] = 40; a[cols + 7] = -0.001                       // an outlier; a tiny value
        for i in (2 * cols)..<(3 * cols) { a[i] = 0 }         // an all-zero token
        for precision in ActivationPrecision.allCases {
            let q = QuantizedActivations(tokens: tokens, cols: cols, padTo: 64, precision: precision)
            a.withUnsafeBufferPointer { q.quantize($0.baseAddress!, tokens: tokens) }
            for t in 0..<tokens {
                let largest = a[(t * cols)..<((t + 1) * cols)].map(abs).max()!
                let step = precision == .int8 ? largest / 127 : largest / 127 / Float(CK_LO_STEPS)
                if largest > 0 { XCTAssertEqual(q.scales[t], step, accuracy: step * 1e-6, "\(precision)") }
                for j in 0..<cols {
                    XCTAssertLessThanOrEqual(abs(Float(q.value(t, j)) * q.scales[t] - a[t * cols + j]),
                                             0.5 * step * 1.001 + 1e-7, "\(precision) token \(t) column \(j)")
                }
                for p in 0..<q.planes {
                    for j in cols..<q.paddedCols { XCTAssertEqual(q.values[(t * q.planes + p) * q.paddedCols + j], 0) }
                }
            }
        }
    }

    /// The rounded bytes are the formula's, hi = round(a / s) and lo = round((a / s − hi) · 254)
    /// with ties to even, bit for bit, on one and two threads, on the vector path and the
    /// portable one, with a tail of columns past the last 16.
    func testRoundingIsItsFormulaOnEveryPath() {
        var rng = SeededGenerator(seed: 8)
        let cols = 5000
        defer { ck_limit_path(3); Threads.use(2) }
        for tokens in [1, 3] {
            var a = random(tokens * cols, &rng)
            a[16] = -3.5; a[17] = 2.5; a[18] = 127          // a step of 1, and two ties
            for precision in ActivationPrecision.allCases {
                let expected = (0..<tokens).flatMap { t -> [Int8] in
                    let row = a[(t * cols)..<((t + 1) * cols)]
                    let inverse = 1 / (row.map(abs).max()! / 127)
                    let u = row.map { $0 * inverse }, hi = u.map { $0.rounded(.toNearestOrEven) }
                    let lo = zip(u, hi).map { (($0 - $1) * Float(CK_LO_STEPS)).rounded(.toNearestOrEven) }
                    return (precision == .int8 ? [hi] : [hi, lo]).flatMap { $0.map { Int8($0) } }
                }
                for (threads, level) in [(1, Int32(3)), (2, 3), (2, 0)] {
                    Threads.use(threads); ck_limit_path(level)
                    let q = QuantizedActivations(tokens: tokens, cols: cols, padTo: 64, precision: precision)
                    a.withUnsafeBufferPointer { q.quantize($0.baseAddress!, tokens: tokens) }
                    let bytes = (0..<(tokens * q.planes)).flatMap { p in (0..<cols).map { q.values[p * q.paddedCols + $0] } }
                    if let i = bytes.indices.first(where: { bytes[$0] != expected[$0] }) {
                        XCTFail("\(precision), \(tokens) token(s), \(threads) thread(s), path \(ck_path()): "
                                + "byte \(i) is \(bytes[i]), not \(expected[i])")
                    }
                }
            }
        }
    }

    /// The kernels are exact on the rounded activations, so they must match
    /// the reference fed with those, to float rounding; against the float
    /// activations they are off by the rounding alone (≤ half a step per entry).
    func testBinaryKernelsMatchNaive() {
        var rng = SeededGenerator(seed: 1)
        // One token takes the decoding loop, three the batched one.
        for (rows, cols) in shapes { for tokens in [1, 3] {
            let w = random(rows * cols, &rng), a = random(tokens * cols, &rng)
            let signs = w.withUnsafeBufferPointer { PackedSigns($0.baseAddress!, rows: rows, cols: cols) }
            XCTAssertEqual(signs.byteCount, rows * ((cols + 7) / 8))
            var naive = [Float](repeating: 0, count: tokens * rows), simd = naive
            a.withUnsafeBufferPointer { ap in
                naiveBinaryProduct(&naive, signs, ap.baseAddress!, tokens: tokens)
                binaryProductSIMD(&simd, signs, ap.baseAddress!, tokens: tokens)
            }
            for i in naive.indices {
                XCTAssertEqual(simd[i], naive[i], accuracy: 1e-4 * Float(cols).squareRoot(), "SIMD \(rows)×\(cols)")
            }
            for precision in ActivationPrecision.allCases {
                var fast = naive, rounded = naive
                let scratch = QuantizedActivations(tokens: tokens, cols: cols, padTo: 64, precision: precision)
                a.withUnsafeBufferPointer { binaryProduct(&fast, signs, $0.baseAddress!, tokens: tokens, scratch: scratch) }
                naiveBinaryProduct(&rounded, signs, dequantized(scratch, tokens: tokens), tokens: tokens)
                for i in naive.indices {
                    XCTAssertEqual(fast[i], rounded[i], accuracy: 1e-5 * max(1, abs(rounded[i])),
                                   "\(precision) \(rows)×\(cols), \(tokens) token(s), path \(ck_path())")
                    let step = scratch.scales[i / rows]
                    XCTAssertLessThanOrEqual(abs(fast[i] - naive[i]), step / 2 * Float(cols) + 1e-5, "\(precision) vs float")
                }
            }
        } }
    }

    /// One token's rows shared among threads (ck_binary_token_shared): whichever
    /// part takes whichever piece, each row gets the static kernel's value, bit
    /// for bit. One part alone takes every piece, parts in any order leave
    /// nothing twice, and real threads race for the pieces.
    func testSharedRowsGiveTheSameProduct() {
        var rng = SeededGenerator(seed: 9)
        let (rows, cols) = (1003, 4160)   // pieces of 120 rows; shares and the last group short of a multiple of 8
        let signs = PackedSigns.random(rows: rows, cols: cols, using: &rng)
        let a = random(cols, &rng)
        for precision in ActivationPrecision.allCases {
            let scratch = QuantizedActivations(tokens: 1, cols: cols, padTo: 64, precision: precision)
            a.withUnsafeBufferPointer { scratch.quantize($0.baseAddress!, tokens: 1) }
            var sums = [Int32](repeating: 0, count: rows)
            ck_binary_i8(signs.bits, signs.rowBytes, 0, Int32(rows), scratch.values, 0, Int32(scratch.paddedCols),
                         Int32(scratch.planes), 1, &sums, 0)
            let expected = sums.map { Float($0) * scratch.scales[0] }
            func shared(parts: Int, calling order: [Int]) -> [Float] {
                var out = [Float](repeating: .nan, count: rows)
                withUnsafeTemporaryAllocation(byteCount: 64 * parts, alignment: 64) { shares in
                    ck_share_rows(shares.baseAddress, Int32(parts), Int32(rows))
                    for part in order {
                        ck_binary_token_shared(signs.bits, signs.rowBytes, scratch.values, Int32(scratch.paddedCols),
                                               Int32(scratch.planes), scratch.scales[0], &out, shares.baseAddress,
                                               Int32(parts), Int32(part))
                    }
                }
                return out
            }
            func check(_ out: [Float], _ how: String) {
                if let r = out.indices.first(where: { out[$0] != expected[$0] }) {   // NaN: a row no part wrote
                    XCTFail("\(precision), \(how): row \(r) is \(out[r]), not \(expected[r])")
                }
            }
            check(shared(parts: 3, calling: [1]), "part 1 of 3 alone")
            check(shared(parts: 3, calling: [2, 0, 1]), "parts 2, 0, 1")
            check(shared(parts: 1, calling: [0]), "one part")
            for _ in 0..<20 {
                var out = [Float](repeating: .nan, count: rows)
                a.withUnsafeBufferPointer { binaryProduct(&out, signs, $0.baseAddress!, tokens: 1, scratch: scratch) }
                check(out, "two threads")
            }
        }
    }

    /// BinaryMoS's packed layer against its formula in Double, with the router and
    /// scales as stored (16 bits), at widths where the mixing and the product
    /// split across threads; one thread and two give the same numbers, bit for bit.
    func testMixtureOfScalesLayerMatchesFormula() {
        var rng = SeededGenerator(seed: 10)
        let (m, n, E) = (2100, 1030, 4)   // columns past the last block of 16
        let w = random(n * m, &rng), router = random(E * m, &rng).map { 0.05 * $0 }
        let inputScale = (0..<(E * m)).map { _ in 0.5 + Float(rng.uniform()) }
        let outputScale = (0..<(E * n)).map { _ in 0.5 + Float(rng.uniform()) }
        let signs = w.withUnsafeBufferPointer { PackedSigns($0.baseAddress!, rows: n, cols: m) }
        let layer = PackedMixtureOfScales(signs: signs, experts: E, router: router, inputScale: inputScale,
                                          outputScale: outputScale)
        func stored(_ v: Float) -> Double { Double(Float(Float16(v))) }
        for tokens in [1, 3] {
            let x = random(tokens * m, &rng)
            var outputs: [[Float]] = []
            for threads in [1, 2] {
                Threads.use(threads)
                var y = [Float](repeating: .nan, count: tokens * n)
                let scratch = PackedMixtureOfScales.Scratch(tokens: tokens, layer: layer)
                x.withUnsafeBufferPointer { layer.forward(&y, $0.baseAddress!, tokens: tokens, scratch: scratch) }
                outputs.append(y)
            }
            if let i = outputs[0].indices.first(where: { outputs[0][$0] != outputs[1][$0] }) {
                XCTFail("\(tokens) token(s): output \(i) is \(outputs[1][i]) on two threads, \(outputs[0][i]) on one")
            }
            for t in 0..<tokens {
                let xt = (0..<m).map { Double(x[t * m + $0]) }
                let logits = (0..<E).map { e in (0..<m).reduce(0.0) { $0 + stored(router[e * m + $1]) * xt[$1] } }
                let exps = logits.map { exp($0 - logits.max()!) }, g = exps.map { $0 / exps.reduce(0, +) }
                let scaled = (0..<m).map { j in xt[j] * (0..<E).reduce(0.0) { $0 + g[$1] * stored(inputScale[$1 * m + j]) } }
                // The product rounds the scaled activations to 16 bits: half a step per column at most.
                let step = scaled.map(abs).max()! / 127 / Double(CK_LO_STEPS)
                for r in 0..<n {
                    let sOut = (0..<E).reduce(0.0) { $0 + g[$1] * stored(outputScale[$1 * n + r]) }
                    let expected = sOut * (0..<m).reduce(0.0) { $0 + Double(signs.sign(r, $1)) * scaled[$1] }
                    XCTAssertEqual(Double(outputs[1][t * n + r]), expected, accuracy: sOut * (step / 2 * Double(m) + 1e-3),
                                   "token \(t) of \(tokens), row \(r)")
                }
            }
        }
    }

    /// The per-block products of three planes (BiLLM's layer) against sums
    /// over each block's columns of the rounded activations.
    func testBlockProductsMatchNaive() {
        var rng = SeededGenerator(seed: 4)
        for (rows, cols, block) in [(70, 192, 128), (33, 256, 64), (8, 64, 64)] {
            let tokens = 2, blocks = (cols + block - 1) / block
            let planes = (0..<3).map { _ in random(rows * cols, &rng).withUnsafeBufferPointer { PackedSigns($0.baseAddress!, rows: rows, cols: cols) } }
            let a = random(tokens * cols, &rng)
            for precision in ActivationPrecision.allCases {
                let scratch = QuantizedActivations(tokens: tokens, cols: cols, padTo: 64, precision: precision)
                var fast = [Float](repeating: 0, count: tokens * rows * blocks * 3)
                a.withUnsafeBufferPointer { binaryBlockProducts(&fast, planes, blockCols: block, $0.baseAddress!, tokens: tokens, scratch: scratch) }
                let rounded = dequantized(scratch, tokens: tokens)
                for t in 0..<tokens {
                    for r in 0..<rows {
                        for b in 0..<blocks {
                            for k in 0..<3 {
                                let naive = (b * block..<min(cols, (b + 1) * block)).reduce(Float(0)) { $0 + planes[k].sign(r, $1) * rounded[t * cols + $1] }
                                XCTAssertEqual(fast[((t * rows + r) * blocks + b) * 3 + k], naive, accuracy: 1e-4 * max(1, abs(naive)),
                                               "\(precision) \(rows)×\(cols) block \(b) plane \(k)")
                            }
                        }
                    }
                }
            }
        }
    }

    /// Buffers of 2 MiB or more are 2 MiB-aligned and offered huge pages; the
    /// product must not notice.
    func testWeightsPastTwoMebibytes() {
        var rng = SeededGenerator(seed: 5)
        let (rows, cols) = (4099, 4160)
        let signs = PackedSigns.random(rows: rows, cols: cols, using: &rng)
        XCTAssertGreaterThanOrEqual(signs.byteCount, 1 << 21)
        XCTAssertEqual(Int(bitPattern: signs.bits) % (1 << 21), 0)
        XCTAssertEqual(signs.bits[rows * signs.rowBytes], 0, "the spare read-ahead bytes start zeroed")
        let a = random(cols, &rng)
        var fast = [Float](repeating: 0, count: rows), rounded = fast
        let scratch = QuantizedActivations(tokens: 1, cols: cols, padTo: 64)
        a.withUnsafeBufferPointer { binaryProduct(&fast, signs, $0.baseAddress!, tokens: 1, scratch: scratch) }
        naiveBinaryProduct(&rounded, signs, dequantized(scratch, tokens: 1), tokens: 1)
        for r in 0..<rows { XCTAssertEqual(fast[r], rounded[r], accuracy: 1e-5 * max(1, abs(rounded[r])), "row \(r)") }
    }

    /// At the widest row a model config allows (65,536 columns), a constant
    /// token on all-positive signs sums to the largest value the int32 sums
    /// must hold: the result is still exact, one token or four. (The batched
    /// kernel takes 2·Σ in 64 bits: in 32 it overflowed, which is undefined in
    /// C scalars though it wrapped back to the right value, as a sanitizer build
    /// showed. The one-token kernel forms 2·Σ − Σ q in int32 vector lanes, where
    /// wrapping is defined.)
    func testBinaryKernelAtTheWidestRow() {
        let (rows, cols) = (4, 1 << 16)
        let w = [Float](repeating: 1, count: rows * cols)
        let signs = w.withUnsafeBufferPointer { PackedSigns($0.baseAddress!, rows: rows, cols: cols) }
        for tokens in [1, 4] {
            let a = [Float](repeating: 0.5, count: tokens * cols)
            for precision in ActivationPrecision.allCases {
                var out = [Float](repeating: 0, count: tokens * rows)
                let scratch = QuantizedActivations(tokens: tokens, cols: cols, padTo: 64, precision: precision)
                a.withUnsafeBufferPointer { binaryProduct(&out, signs, $0.baseAddress!, tokens: tokens, scratch: scratch) }
                for y in out { XCTAssertEqual(y, 0.5 * Float(cols), accuracy: 1e-3, "\(precision), \(tokens) token(s)") }
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
                for precision in ActivationPrecision.allCases {
                    var fast = [Float](repeating: 0, count: tokens * rows), rounded = fast
                    let scratch = QuantizedActivations(tokens: tokens, cols: columns, padTo: 256, precision: precision)
                    a.withUnsafeBufferPointer { int2Product(&fast, w, $0.baseAddress!, tokens: tokens, scratch: scratch) }
                    naiveInt2Product(&rounded, w, dequantized(scratch, tokens: tokens), tokens: tokens)
                    for i in rounded.indices {
                        XCTAssertEqual(fast[i], rounded[i], accuracy: 1e-4 * max(1, abs(rounded[i])),
                                       "int2 \(precision) \(rows)×\(columns) g\(groupSize)")
                    }
                }
            }
        }
    }

    /// The largest sums a path's narrow lanes meet (every sign +1 or −1,
    /// every activation at its largest) come out exact on every path.
    func testExtremeSumsStayExact() {
        defer { ck_limit_path(3) }
        let (rows, cols) = (2, 8192)
        let w = (0..<(rows * cols)).map { $0 < cols ? Float(1) : -1 }, a = [Float](repeating: 1, count: cols)
        let signs = w.withUnsafeBufferPointer { PackedSigns($0.baseAddress!, rows: rows, cols: cols) }
        for level in Int32(0)...3 {
            ck_limit_path(level)
            for precision in ActivationPrecision.allCases {
                var out = [Float](repeating: 0, count: rows)
                let scratch = QuantizedActivations(tokens: 1, cols: cols, padTo: 64, precision: precision)
                a.withUnsafeBufferPointer { binaryProduct(&out, signs, $0.baseAddress!, tokens: 1, scratch: scratch) }
                XCTAssertEqual(out, [Float(cols), -Float(cols)], "path \(ck_path()) \(precision)")
            }
        }
    }

    /// Every path this CPU has (portable C, AVX2, AVX-512 VNNI, with GFNI) agrees with the naive references.
    func testEveryPathAgrees() {
        defer { ck_limit_path(3) }
        for level in Int32(0)...3 {
            ck_limit_path(level)
            // The dispatch must take the capped path, or the slower ones were never run.
            XCTAssertLessThanOrEqual(ck_path(), level)
            testBinaryKernelsMatchNaive()
            testBlockProductsMatchNaive()
            testInt2KernelMatchesNaive()
        }
    }
}

/// The random layouts benchmarks build at full shapes are ordinary packed
/// matrices: every path multiplies them as the naive reference does, over
/// enough rows that each group's prefetch reaches into the next group.
final class RandomLayoutTests: XCTestCase {
    func testRandomLayoutsMultiplyAsTheirReferences() {
        var rng = SeededGenerator(seed: 5)
        let (rows, cols) = (37, 320)
        let signs = PackedSigns.random(rows: rows, cols: cols, using: &rng)
        let groups = rows * ((cols + 127) / 128)
        let codes = PackedCodes2.random(rows: rows, cols: cols, groupSize: 128,
                                        scales: (0..<groups).map { _ in 0.01 + Float(rng.uniform()) },
                                        zeros: (0..<groups).map { _ in Float(rng.below(4)) }, using: &rng)
        XCTAssertEqual(signs.byteCount, rows * cols / 8)
        XCTAssertEqual(codes.byteCount, rows * cols / 4 + 4 * groups)
        let plus = (0..<(rows * cols)).filter { signs.sign($0 / cols, $0 % cols) > 0 }.count
        XCTAssertEqual(Double(plus) / Double(rows * cols), 0.5, accuracy: 0.05, "random signs are about half +1")
        let x = Tensor([1, cols]), y = Tensor([rows]), reference = Tensor([rows])
        for j in 0..<cols { x[j] = rng.normal() }
        defer { ck_limit_path(3) }
        for level: Int32 in [0, 1, 2, 3] {
            ck_limit_path(level)
            binaryProduct(y.data, signs, x.pointer, tokens: 1,
                          scratch: QuantizedActivations(tokens: 1, cols: cols, padTo: 64, precision: .int16))
            naiveBinaryProduct(reference.data, signs, x.pointer, tokens: 1)
            for r in 0..<rows { XCTAssertEqual(y[r], reference[r], accuracy: 1e-3 * (1 + abs(reference[r])), "binary, path \(level)") }
            let padded = QuantizedActivations(tokens: 1, cols: cols, padTo: 256, precision: .int16)
            int2Product(y.data, codes, x.pointer, tokens: 1, scratch: padded)
            naiveInt2Product(reference.data, codes, x.pointer, tokens: 1)
            for r in 0..<rows { XCTAssertEqual(y[r], reference[r], accuracy: 1e-3 * (1 + abs(reference[r])), "int2, path \(level)") }
        }
    }
}
