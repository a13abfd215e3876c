import Foundation

/// BinaryMoS's layer for inference on packed bits, router and mixing fused:
/// for each token,
///
///     G = softmax(W_R · x),   s_in = G · S_in,   s_out = G · S_out,
///     y = s_out ⊙ (B · (x ⊙ s_in))
///
/// With one expert there is no router and the scales are static (OneBit);
/// the sign method is the one-expert layer without S_in (all ones). Router and scales
/// stay in 16 bits in memory, as stored, and are widened on the fly.
public final class PackedMixtureOfScales {
    public let signs: PackedSigns
    public let experts: Int
    public let router: [Float16]?          // W_R [E, m]
    public let inputScale: [Float16]?      // S_in [E, m]; nil: all ones
    public let outputScale: [Float16]      // S_out [E, n]
    public var inFeatures: Int { signs.cols }
    public var outFeatures: Int { signs.rows }

    public init(signs: PackedSigns, experts: Int, router: [Float]?, inputScale: [Float]?, outputScale: [Float]) {
        precondition((router == nil) == (experts == 1) && (inputScale != nil || experts == 1))
        precondition((inputScale?.count ?? experts * signs.cols) == experts * signs.cols
                     && outputScale.count == experts * signs.rows)
        self.signs = signs; self.experts = experts
        self.router = router.map { $0.map(Float16.init) }
        self.inputScale = inputScale.map { $0.map(Float16.init) }
        self.outputScale = outputScale.map(Float16.init)
    }

    /// Bytes in memory: signs, scales and router (what the accounting counts).
    public var byteCount: Int {
        signs.byteCount + 2 * ((inputScale?.count ?? 0) + outputScale.count + (router?.count ?? 0))
    }

    /// y [tokens, n] from x [tokens, m]. `scratch` is sized for at least `tokens`.
    public func forward(_ y: FloatPointer, _ x: ConstFloatPointer, tokens: Int, scratch: Scratch) {
        let (m, n, E) = (inFeatures, outFeatures, experts)
        precondition(tokens <= scratch.tokens && scratch.activations.cols == m)
        let gates = scratch.gates, scaled = scratch.scaled
        // The router stays on this thread: split across two, its E dot products were no faster.
        if let router {
            StepProfile.measure(.router) {
                for t in 0..<tokens {
                    let g = gates + t * E
                    for e in 0..<E { g[e] = dot(router, offset: e * m, x + t * m, count: m) }
                    softmax(g, count: E)
                }
            }
        } else {
            gates.update(repeating: 1, count: tokens)
        }
        StepProfile.measure(.scaleMixing) {
            if let inputScale {
                mix(scaled, inputScale, gates: gates, experts: E, width: m, tokens: tokens, times: x)
            } else {
                scaled.update(from: x, count: tokens * m)
            }
        }
        binaryProduct(y, signs, scaled, tokens: tokens, scratch: scratch.activations)
        StepProfile.measure(.scaleMixing) {
            mix(y, outputScale, gates: gates, experts: E, width: n, tokens: tokens, times: y)
        }
    }

    /// Buffers for `forward`, reusable across calls with up to `tokens` tokens.
    public final class Scratch {
        public let tokens: Int
        let activations: QuantizedActivations
        let gates: FloatPointer, scaled: FloatPointer
        public init(tokens: Int, layer: PackedMixtureOfScales, precision: ActivationPrecision = .int16) {
            self.tokens = tokens
            activations = QuantizedActivations(tokens: tokens, cols: layer.inFeatures, padTo: 64, precision: precision)
            gates = .allocate(capacity: tokens * layer.experts)
            scaled = .allocate(capacity: tokens * layer.inFeatures)
        }
        deinit { gates.deallocate(); scaled.deallocate() }
    }
}

/// Σ_i w[offset + i] · x[i], w in 16 bits, 16 lanes at a time.
@inline(__always)
func dot(_ w: [Float16], offset: Int, _ x: ConstFloatPointer, count: Int) -> Float {
    w.withUnsafeBufferPointer { wp in
        let base = wp.baseAddress! + offset
        var acc = SIMD16<Float>()
        var i = 0
        while i + 16 <= count {
            let wv = SIMD16<Float>(UnsafeRawPointer(base + i).loadUnaligned(as: SIMD16<Float16>.self))
            acc += wv * UnsafeRawPointer(x + i).loadUnaligned(as: SIMD16<Float>.self)
            i += 16
        }
        var sum = acc.sum()
        while i < count { sum += Float(base[i]) * x[i]; i += 1 }
        return sum
    }
}

/// out[t, i] = (Σ_e g[t, e] · S[e, i]) · v[t, i] for i < width: each token's
/// mixed scale applied to its vector (out may be v). The scales come from
/// memory, as the product's signs do, so the threads share the columns, in
/// whole blocks of 16: any split gives the same numbers.
func mix(_ out: FloatPointer, _ scales: [Float16], gates: ConstFloatPointer, experts: Int, width: Int, tokens: Int,
         times v: ConstFloatPointer) {
    scales.withUnsafeBufferPointer { sp in
        let s = sp.baseAddress!
        parallelChunks((width + 15) / 16, minimumChunk: 64) { blocks in
            let end = min(width, 16 * blocks.upperBound)
            for t in 0..<tokens {
                let (g, o, x) = (gates + t * experts, out + t * width, v + t * width)
                var i = 16 * blocks.lowerBound
                while i + 16 <= end {
                    var mixed = SIMD16<Float>()
                    for e in 0..<experts {
                        mixed += g[e] * SIMD16<Float>(UnsafeRawPointer(s + e * width + i).loadUnaligned(as: SIMD16<Float16>.self))
                    }
                    let value = mixed * UnsafeRawPointer(x + i).loadUnaligned(as: SIMD16<Float>.self)
                    UnsafeMutableRawPointer(o + i).storeBytes(of: value, as: SIMD16<Float>.self)
                    i += 16
                }
                while i < end {
                    var mixed: Float = 0
                    for e in 0..<experts { mixed += g[e] * Float(s[e * width + i]) }
                    o[i] = mixed * x[i]
                    i += 1
                }
            }
        }
    }
}
