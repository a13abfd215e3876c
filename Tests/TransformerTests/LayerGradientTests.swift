import Randomness
import XCTest
import Kernels
import Corpus
import Transformer

/// Every layer's backward against finite differences of its forward, with the
/// loss L = Σ out ⊙ R for a fixed random R (so ∂L/∂out = R).
final class LayerGradientTests: XCTestCase {
    override func setUp() { Threads.use(2) }

    func testRMSNorm() {
        var rng = SeededGenerator(seed: 1)
        let rows = 3, dim = 8
        let x = randomTensor([rows, dim], &rng), g = randomTensor([dim], &rng)
        let out = Tensor([rows, dim]), rstd = Tensor([rows])
        let R = randomTensor([rows, dim], &rng).array
        func loss() -> Double {
            rmsnormForward(out.data, rstd.data, x.pointer, g.pointer, rows: rows, dim: dim, epsilon: 1e-5)
            return weightedSum(out.pointer, R)
        }
        _ = loss()
        let dx = Tensor([rows, dim]), dg = Tensor([dim])
        R.withUnsafeBufferPointer {
            rmsnormBackward(dx.data, dg.data, $0.baseAddress!, x.pointer, g.pointer, rstd.pointer, rows: rows, dim: dim)
        }
        assertClose(dx.array, numericGradient(of: loss, at: x.data, count: x.count, epsilon: 1e-3), tolerance: 1e-2, "dx")
        assertClose(dg.array, numericGradient(of: loss, at: g.data, count: g.count, epsilon: 1e-3), tolerance: 1e-2, "dgain")
    }

    func testRotaryBackwardIsTheTransposeAndPreservesNorms() {
        var rng = SeededGenerator(seed: 2)
        let (batch, length, dim) = (2, 5, 8)
        let rotary = Rotary(headDim: 4, context: 8, base: 10_000)
        let x = randomTensor([batch, length, dim], &rng)
        let y = Tensor(x.shape); y.copy(from: x)
        rotary.apply(y.data, batch: batch, length: length, dim: dim)
        // Norm of every head-pair is kept; position 0 is untouched.
        let norm = { (t: Tensor) in t.array.reduce(0) { $0 + Double($1 * $1) } }
        XCTAssertEqual(norm(x), norm(y), accuracy: 1e-4)
        for i in 0..<dim { XCTAssertEqual(x[i], y[i]) }
        XCTAssertNotEqual(x[dim], y[dim])
        // ⟨R, rope(x)⟩ = ⟨rope⁻¹(R), x⟩: the inverse rotation is the backward pass.
        let R = randomTensor(x.shape, &rng), back = Tensor(x.shape); back.copy(from: R)
        rotary.apply(back.data, batch: batch, length: length, dim: dim, inverse: true)
        XCTAssertEqual(weightedSum(y.pointer, R.array), weightedSum(x.pointer, back.array), accuracy: 1e-4)
    }

    /// The rotation against its formula, pair by pair, at head sizes that take the
    /// vector path (8, 16), the pair-by-pair path (6) and both (12); the inverse turns it back.
    func testRotaryTurnsEachPairByItsAngle() {
        var rng = SeededGenerator(seed: 5)
        for headDim in [6, 8, 12, 16] {
            let (length, dim) = (7, 2 * headDim)
            let rotary = Rotary(headDim: headDim, context: length, base: 10_000)
            let x = randomTensor([1, length, dim], &rng), y = Tensor(x.shape)
            y.copy(from: x)
            rotary.apply(y.data, batch: 1, length: length, dim: dim)
            for t in 0..<length {
                for head in 0..<2 {
                    for i in 0..<(headDim / 2) {
                        let angle = Double(t) * pow(10_000, -2 * Double(i) / Double(headDim))
                        let at = t * dim + head * headDim + 2 * i
                        let (a, b) = (Double(x[at]), Double(x[at + 1]))
                        XCTAssertEqual(Double(y[at]), a * cos(angle) - b * sin(angle), accuracy: 1e-5, "head size \(headDim)")
                        XCTAssertEqual(Double(y[at + 1]), a * sin(angle) + b * cos(angle), accuracy: 1e-5, "head size \(headDim)")
                    }
                }
            }
            rotary.apply(y.data, batch: 1, length: length, dim: dim, inverse: true)   // and back
            assertClose(y.array, x.array.map(Double.init), tolerance: 1e-5, "inverse, head size \(headDim)")
        }
    }

    func testAttention() {
        // Query blocks of 2 over 5 rows: three blocks, the last one short.
        checkAttentionGradients(AttentionShape(batch: 2, length: 5, heads: 2, headDim: 4, block: 2))
        // Heads of 16: the fused kernel where the CPU has it, over 21 rows (two key
        // vectors, the second partly seen; a last group of one row).
        checkAttentionGradients(AttentionShape(batch: 1, length: 21, heads: 2, headDim: 16))
    }

    func checkAttentionGradients(_ s: AttentionShape, file: StaticString = #filePath, line: UInt = #line) {
        var rng = SeededGenerator(seed: 3)
        let shape = [s.batch, s.length, s.dim]
        let q = randomTensor(shape, &rng), k = randomTensor(shape, &rng), v = randomTensor(shape, &rng)
        let out = Tensor(shape), probs = Tensor([s.probabilityCount])
        let R = randomTensor(shape, &rng).array
        func loss() -> Double {
            attentionForward(out.data, probs.data, q.pointer, k.pointer, v.pointer, s)
            return weightedSum(out.pointer, R)
        }
        _ = loss()
        // Causality: probabilities above the diagonal are zero, rows sum to one.
        let label = "head size \(s.headDim)\(s.fused ? ", fused" : "")"
        for row in 0..<(s.batch * s.heads * s.length) {
            let t = row % s.length
            var sum: Float = 0
            for j in 0..<s.length {
                if j > t { XCTAssertEqual(probs[row * s.length + j], 0, label, file: file, line: line) }
                sum += probs[row * s.length + j]
            }
            XCTAssertEqual(sum, 1, accuracy: 1e-5, label, file: file, line: line)
        }
        let dq = Tensor(shape), dk = Tensor(shape), dv = Tensor(shape)
        R.withUnsafeBufferPointer {
            attentionBackward(dq.data, dk.data, dv.data, $0.baseAddress!, probs.pointer, q.pointer, k.pointer,
                              v.pointer, s)
        }
        for (name, x, analytic) in [("dq", q, dq), ("dk", k, dk), ("dv", v, dv)] {
            assertClose(analytic.array, numericGradient(of: loss, at: x.data, count: x.count, epsilon: 1e-3), tolerance: 1e-2,
                        "\(name), \(label)", file: file, line: line)
        }
    }

    /// The fused kernel against the plain full-matrix BLAS form, forward and
    /// backward, at head sizes of one to three vectors and lengths around the
    /// kernel's groups of 4 rows and vectors of 16 keys.
    func testFusedAttentionMatchesTheFullMatrix() throws {
        try XCTSkipUnless(FusedAttention.available(length: 128, headDim: 16), "no fused attention on this CPU")
        for (length, headDim) in [(1, 16), (4, 16), (5, 16), (17, 32), (70, 16), (128, 16), (66, 48)] {
            var full = AttentionShape(batch: 2, length: length, heads: 2, headDim: headDim, block: length)
            full.allowsFused = false
            var fused = full; fused.allowsFused = true
            XCTAssertTrue(fused.fused && !full.fused)
            assertSameAttention(fused, full, seed: UInt64(length), "length \(length), head \(headDim)")
        }
        // Pairs past the kernel's measured working set, or heads not of 16s, take the BLAS form.
        XCTAssertFalse(AttentionShape(batch: 1, length: 1024, heads: 1, headDim: 64).fused)
        XCTAssertFalse(AttentionShape(batch: 1, length: 128, heads: 1, headDim: 24).fused)
    }

    /// The blocked products (the masked corner skipped) against the plain
    /// full-matrix form (one block), forward and backward.
    func testBlockedAttentionMatchesTheFullMatrix() {
        var full = AttentionShape(batch: 2, length: 70, heads: 2, headDim: 8, block: 70)
        full.allowsFused = false
        var blocked = full; blocked.block = 16
        assertSameAttention(blocked, full, seed: 13, "blocked")
    }

    /// Two ways of computing attention give the same out, probs, dq, dk and dv.
    func assertSameAttention(_ a: AttentionShape, _ b: AttentionShape, seed: UInt64, _ label: String,
                             file: StaticString = #filePath, line: UInt = #line) {
        var rng = SeededGenerator(seed: seed)
        let shape = [a.batch, a.length, a.dim]
        let q = randomTensor(shape, &rng), k = randomTensor(shape, &rng), v = randomTensor(shape, &rng)
        let dout = randomTensor(shape, &rng)
        func run(_ s: AttentionShape) -> [[Float]] {
            let out = Tensor(shape), probs = Tensor([s.probabilityCount])
            let dq = Tensor(shape), dk = Tensor(shape), dv = Tensor(shape)
            for t in [out, probs, dq, dk, dv] { t.data.update(repeating: .nan, count: t.count) }   // written, never read
            attentionForward(out.data, probs.data, q.pointer, k.pointer, v.pointer, s)
            attentionBackward(dq.data, dk.data, dv.data, dout.pointer, probs.pointer, q.pointer, k.pointer, v.pointer, s)
            return [out, probs, dq, dk, dv].map(\.array)
        }
        for (name, (x, y)) in zip(["out", "probs", "dq", "dk", "dv"], zip(run(a), run(b))) {
            assertClose(x, y.map(Double.init), tolerance: 1e-5, "\(name), \(label)", file: file, line: line)
        }
    }

    func testSwiGLU() {
        var rng = SeededGenerator(seed: 4)
        let n = 24
        let gate = randomTensor([n], &rng, scale: 2), up = randomTensor([n], &rng), out = Tensor([n])
        let R = randomTensor([n], &rng).array
        func loss() -> Double {
            swigluForward(out.data, gate.pointer, up.pointer, count: n)
            return weightedSum(out.pointer, R)
        }
        let dgate = Tensor([n]), dup = Tensor([n])
        R.withUnsafeBufferPointer { swigluBackward(dgate.data, dup.data, $0.baseAddress!, gate.pointer, up.pointer, count: n) }
        assertClose(dgate.array, numericGradient(of: loss, at: gate.data, count: n, epsilon: 1e-3), tolerance: 1e-2, "dgate")
        assertClose(dup.array, numericGradient(of: loss, at: up.data, count: n, epsilon: 1e-3), tolerance: 1e-2, "dup")
    }

    func testCrossEntropy() {
        var rng = SeededGenerator(seed: 5)
        let rows = 4, V = 7
        let logits = randomTensor([rows, V], &rng), work = Tensor([rows, V]), losses = Tensor([rows])
        let targets: [Int32] = [0, 3, 6, 3]
        func loss() -> Double {
            work.copy(from: logits)
            crossEntropyForward(work.data, losses.data, targets, rows: rows, vocabulary: V)
            return losses.array.reduce(0) { $0 + Double($1) } / Double(rows)
        }
        // The loss equals an independent log-softmax computed in Double.
        var reference = 0.0
        for r in 0..<rows {
            let z = (0..<V).map { Double(logits[r * V + $0]) }
            let m = z.max()!
            reference += m + log(z.reduce(0) { $0 + exp($1 - m) }) - z[Int(targets[r])]
        }
        XCTAssertEqual(loss(), reference / Double(rows), accuracy: 1e-5)
        crossEntropyBackward(work.data, targets, rows: rows, vocabulary: V, scale: 1 / Float(rows))
        let analytic = work.array
        assertClose(analytic, numericGradient(of: loss, at: logits.data, count: logits.count, epsilon: 1e-3),
                    tolerance: 1e-2, "dlogits")
    }

    func testDenseLinear() {
        var rng = SeededGenerator(seed: 6)
        let rows = 5, m = 6, n = 4
        let layer = DenseLinear(name: "t", inFeatures: m, outFeatures: n)
        layer.initialize(std: 0.5, rng: &rng)
        let x = randomTensor([rows, m], &rng), y = Tensor([rows, n])
        let R = randomTensor([rows, n], &rng).array
        func loss() -> Double { layer.forward(y.data, x.pointer, rows: rows); return weightedSum(y.pointer, R) }
        let dx = Tensor([rows, m])
        R.withUnsafeBufferPointer { layer.backward(dx.data, $0.baseAddress!, x.pointer, rows: rows, accumulate: false) }
        assertClose(dx.array, numericGradient(of: loss, at: x.data, count: x.count, epsilon: 1e-3), tolerance: 1e-2, "dx")
        assertClose(layer.weight.grad.array, numericGradient(of: loss, at: layer.weight.value.data,
                    count: layer.weight.value.count, epsilon: 1e-3), tolerance: 1e-2, "dW")
    }
}
