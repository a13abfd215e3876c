import Foundation
import Kernels

/// Rotary position embedding (RoPE): inside each head, the pair (x₂ᵢ, x₂ᵢ₊₁) at
/// position t is rotated by the angle t·θᵢ, θᵢ = base^(−2i/headDim). Queries and
/// keys rotated this way make attention scores depend on relative position.
///
/// The tables hold each cosine twice and each sine with the pair's signs,
/// cos[t][2i] = cos[t][2i+1] = cos tθᵢ, sin[t][2i] = −sin tθᵢ, sin[t][2i+1] = sin tθᵢ,
/// so that a whole vector of pairs turns at once:
///
///     x′ = x ⊙ cos + swap(x) ⊙ sin,   swap(…, a, b, …) = (…, b, a, …)
///
/// and swap is one rotation of each 64-bit lane by 32 bits.
public struct Rotary {
    public let headDim: Int
    let cos: [Float], sin: [Float]   // [context, headDim]

    public init(headDim: Int, context: Int, base: Float) {
        self.headDim = headDim
        var c = [Float](repeating: 0, count: context * headDim), s = c
        for t in 0..<context {
            for i in 0..<(headDim / 2) {
                let theta = Double(t) * pow(Double(base), -2 * Double(i) / Double(headDim))
                c[t * headDim + 2 * i] = Float(Foundation.cos(theta)); c[t * headDim + 2 * i + 1] = c[t * headDim + 2 * i]
                s[t * headDim + 2 * i] = -Float(Foundation.sin(theta)); s[t * headDim + 2 * i + 1] = Float(Foundation.sin(theta))
            }
        }
        cos = c; sin = s
    }

    /// One token's x [dim] in place, at position t of its sequence. `inverse`
    /// rotates by −t·θ, which is the backward pass (a rotation's transpose is its inverse).
    public func rotate(_ x: FloatPointer, position t: Int, dim: Int, inverse: Bool = false) {
        precondition(dim % headDim == 0, "dim \(dim) is not a whole number of heads of \(headDim)")
        cos.withUnsafeBufferPointer { cosT in
            sin.withUnsafeBufferPointer { sinT in
                let c = cosT.baseAddress! + t * headDim, s = sinT.baseAddress! + t * headDim
                let direction: Float = inverse ? -1 : 1
                for head in stride(from: 0, to: dim, by: headDim) {
                    let v = x + head
                    var i = 0
                    while i + 8 <= headDim {
                        let x8 = (v + i).load8()
                        let swapped = unsafeBitCast(unsafeBitCast(x8, to: SIMD4<UInt64>.self).rotated32, to: SIMD8<Float>.self)
                        (v + i).store8(x8 * (c + i).load8() + swapped * (direction * (s + i).load8()))
                        i += 8
                    }
                    while i < headDim {
                        let a = v[i], b = v[i + 1]
                        v[i] = a * c[i] + b * direction * s[i]
                        v[i + 1] = b * c[i + 1] + a * direction * s[i + 1]
                        i += 2
                    }
                }
            }
        }
    }

    /// x: [batch, length, dim] in place, dim = heads · headDim: each token at its position.
    public func apply(_ x: FloatPointer, batch: Int, length: Int, dim: Int, inverse: Bool = false) {
        let probe = StepProfile.probe(.rotary); defer { probe.end() }
        parallelChunks(batch * length, minimumChunk: 64) { range in
            for row in range { rotate(x + row * dim, position: row % length, dim: dim, inverse: inverse) }
        }
    }
}

private extension SIMD4 where Scalar == UInt64 {
    /// Each lane rotated by 32 bits: the two floats in it trade places.
    var rotated32: Self { (self &<< 32) | (self &>> 32) }
}
