import Randomness
import XCTest
import Kernels
import Corpus
import Transformer
@testable import Binarization

final class MixtureOfScalesTests: XCTestCase {
    override func setUp() { Threads.use(2) }

    let (m, n, rows) = (12, 10, 7)

    func randomLayer(experts: Int, seed: UInt64, workspace: Workspace = Workspace()) -> MixtureOfScalesLinear {
        var rng = SeededGenerator(seed: seed)
        let layer = MixtureOfScalesLinear(name: "t", inFeatures: m, outFeatures: n, experts: experts, workspace: workspace)
        for p in layer.parameters { for i in 0..<p.value.count { p.value[i] = rng.normal() } }
        for i in 0..<layer.inputScale.value.count { layer.inputScale.value[i] = 0.5 + abs(layer.inputScale.value[i]) }
        for i in 0..<layer.outputScale.value.count { layer.outputScale.value[i] = 0.5 + abs(layer.outputScale.value[i]) }
        // A few latent weights outside the straight-through window |w| ≤ 1 (and not near 0).
        for i in stride(from: 0, to: layer.latent.value.count, by: 5) { layer.latent.value[i] = 1.5 * (i % 2 == 0 ? 1 : -1) }
        return layer
    }

    func random(_ count: Int, seed: UInt64) -> [Float] {
        var rng = SeededGenerator(seed: seed)
        return (0..<count).map { _ in rng.normal() }
    }

    func run(_ layer: LinearLayer, _ x: [Float]) -> [Float] {
        var y = [Float](repeating: 0, count: rows * n)
        x.withUnsafeBufferPointer { xp in y.withUnsafeMutableBufferPointer { layer.forward($0.baseAddress!, xp.baseAddress!, rows: rows) } }
        return y
    }

    /// The forward pass against the formula, computed naively in Double.
    func testForwardMatchesTheFormula() {
        let layer = randomLayer(experts: 3, seed: 1), x = random(rows * m, seed: 2)
        let y = run(layer, x)
        let E = 3, wR = layer.router!.value, sIn = layer.inputScale.value, sOut = layer.outputScale.value
        for r in 0..<rows {
            var logits = (0..<E).map { e in (0..<m).reduce(0.0) { $0 + Double(x[r * m + $1]) * Double(wR[e * m + $1]) } }
            let top = logits.max()!
            logits = logits.map { exp($0 - top) }
            let gates = logits.map { $0 / logits.reduce(0, +) }
            for o in 0..<n {
                var z = 0.0
                for i in 0..<m {
                    let s = (0..<E).reduce(0.0) { $0 + gates[$1] * Double(sIn[$1 * m + i]) }
                    z += Double(x[r * m + i]) * s * (layer.latent.value[o * m + i] < 0 ? -1 : 1)
                }
                let so = (0..<E).reduce(0.0) { $0 + gates[$1] * Double(sOut[$1 * n + o]) }
                XCTAssertEqual(Double(y[r * n + o]), z * so, accuracy: 1e-4 * max(1, abs(z * so)))
            }
        }
    }

    /// Identical experts make the router irrelevant: the layer equals its one-expert version.
    func testIdenticalExpertsEqualOneExpert() {
        let one = randomLayer(experts: 1, seed: 3), x = random(rows * m, seed: 4)
        for experts in [2, 4, 8] {
            let many = randomLayer(experts: experts, seed: UInt64(10 + experts))   // any router
            many.latent.value.copy(from: one.latent.value)
            for e in 0..<experts {
                for i in 0..<m { many.inputScale.value[e * m + i] = one.inputScale.value[i] }
                for o in 0..<n { many.outputScale.value[e * n + o] = one.outputScale.value[o] }
            }
            let a = run(one, x), b = run(many, x)
            for i in a.indices { XCTAssertEqual(a[i], b[i], accuracy: 1e-5 * max(1, abs(a[i])), "E=\(experts)") }
        }
    }

    /// Gradients of the input, router and scales against central differences;
    /// the latent weights' gradient against ∂L/∂sign(W) computed independently,
    /// masked by the straight-through window.
    func testBackwardMatchesFiniteDifferences() {
        for experts in [1, 4] {
            let layer = randomLayer(experts: experts, seed: 5)
            let x = random(rows * m, seed: 6)
            let weights = random(rows * n, seed: 7)
            func weighted(_ y: [Float]) -> Double { y.indices.reduce(0.0) { $0 + Double(y[$1]) * Double(weights[$1]) } }
            _ = run(layer, x)
            for p in layer.parameters { p.grad.zero() }
            var dx = [Float](repeating: 0, count: rows * m)
            weights.withUnsafeBufferPointer { w in
                x.withUnsafeBufferPointer { xp in
                    dx.withUnsafeMutableBufferPointer {
                        layer.backward($0.baseAddress!, w.baseAddress!, xp.baseAddress!, rows: rows, accumulate: false)
                    }
                }
            }
            func numeric(_ value: FloatPointer, _ i: Int) -> Double {
                let saved = value[i], eps: Float = 1e-2
                value[i] = saved + eps; let plus = weighted(run(layer, x))
                value[i] = saved - eps; let minus = weighted(run(layer, x))
                value[i] = saved
                return (plus - minus) / Double(2 * eps)
            }
            for p in [layer.inputScale, layer.outputScale] + (layer.router.map { [$0] } ?? []) {
                for i in 0..<p.value.count {
                    XCTAssertEqual(Double(p.grad[i]), numeric(p.value.data, i), accuracy: 2e-2 * max(1, abs(Double(p.grad[i]))),
                                   "\(p.name)[\(i)] E=\(experts)")
                }
            }
            // Each input nudged in a copy: the forward pass reads x itself.
            let numericX: [Double] = (0..<(rows * m)).map { i in
                var nudged = x
                let eps: Float = 1e-2
                nudged[i] = x[i] + eps; let plus = weighted(run(layer, nudged))
                nudged[i] = x[i] - eps; let minus = weighted(run(layer, nudged))
                return (plus - minus) / Double(2 * eps)
            }
            for i in dx.indices { XCTAssertEqual(Double(dx[i]), numericX[i], accuracy: 2e-2 * max(1, abs(numericX[i])), "x[\(i)]") }

            // ∂L/∂B[o, i] = Σ_r weights[r, o] · s_out[r, o] · x[r, i] · s_in[r, i], with the gates of each token.
            let gates = (0..<rows).map { r -> [Double] in
                guard let router = layer.router else { return [1] }
                let logits = (0..<experts).map { e in (0..<m).reduce(0.0) { $0 + Double(x[r * m + $1]) * Double(router.value[e * m + $1]) } }
                let top = logits.max()!, e = logits.map { exp($0 - top) }
                return e.map { $0 / e.reduce(0, +) }
            }
            for o in 0..<n {
                for i in 0..<m {
                    var dB = 0.0
                    for r in 0..<rows {
                        let sIn = (0..<experts).reduce(0.0) { $0 + gates[r][$1] * Double(layer.inputScale.value[$1 * m + i]) }
                        let sOut = (0..<experts).reduce(0.0) { $0 + gates[r][$1] * Double(layer.outputScale.value[$1 * n + o]) }
                        dB += Double(weights[r * n + o]) * sOut * Double(x[r * m + i]) * sIn
                    }
                    let inWindow = abs(layer.latent.value[o * m + i]) <= 1
                    XCTAssertEqual(Double(layer.latent.grad[o * m + i]), inWindow ? dB : 0, accuracy: 1e-3 * max(1, abs(dB)),
                                   "latent[\(o), \(i)] E=\(experts)")
                }
            }
        }
    }

    /// The initialisation: an exactly rank-1 |W| comes back exactly, and the
    /// fresh layer computes sign(W) ⊙ (S_out S_inᵀ) for every expert count.
    func testInitialisationFromTheRankOneFit() {
        var rng = SeededGenerator(seed: 9)
        let a = (0..<n).map { _ in 0.1 + abs(rng.normal()) }, b = (0..<m).map { _ in 0.1 + abs(rng.normal()) }
        let dense = DenseLinear(name: "layers.0.q", inFeatures: m, outFeatures: n)
        for o in 0..<n { for i in 0..<m { dense.weight.value[o * m + i] = a[o] * b[i] * (rng.below(2) == 0 ? -1 : 1) } }
        let x = random(rows * m, seed: 10)
        for experts in [1, 4] {
            let layer = MixtureOfScalesLinear(initializingFrom: dense, experts: experts, workspace: Workspace(), rng: &rng)
            for e in 0..<experts {
                for o in 0..<n {
                    for i in 0..<m {
                        let fit = layer.outputScale.value[e * n + o] * layer.inputScale.value[e * m + i]
                        XCTAssertEqual(fit, abs(dense.weight.value[o * m + i]), accuracy: 1e-4)
                    }
                }
            }
            let y = run(layer, x), reference = run(dense, x)   // W is exactly sign ⊙ rank-1 here
            for i in y.indices { XCTAssertEqual(y[i], reference[i], accuracy: 1e-3 * max(1, abs(reference[i]))) }
        }
    }

    /// On a general matrix the fit is the best rank-1 one: its error is
    /// ‖|W|‖² − σ₁² (Eckart–Young), and nudging the scales only adds error.
    func testRankOneFitIsOptimal() {
        var rng = SeededGenerator(seed: 11)
        let w = (0..<(n * m)).map { _ in rng.normal() }
        let fit = w.withUnsafeBufferPointer { RankOneScales(absoluteOf: $0.baseAddress!, rows: n, cols: m) }
        func error(_ u: [Float], _ v: [Float]) -> Double {
            (0..<(n * m)).reduce(0.0) { let d = Double(abs(w[$1])) - Double(u[$1 / m] * v[$1 % m]); return $0 + d * d }
        }
        let norm = w.reduce(0.0) { $0 + Double($1 * $1) }
        let best = error(fit.outputScale, fit.inputScale)
        XCTAssertEqual(best, norm - fit.singularValue * fit.singularValue, accuracy: 1e-4 * norm)
        for k in 0..<5 {
            var u = fit.outputScale
            u[k] *= 1.05
            XCTAssertGreaterThan(error(u, fit.inputScale), best)
        }
    }
}
