import Foundation
import Kernels

/// Rotary position embedding (RoPE): inside each head, the pair (x₂ᵢ, x₂ᵢ₊₁) at
/// position t is rotated by the angle t·θᵢ, θᵢ = base^(−2i/headDim). Queries and
/// keys rotated this way make attention scores depend on relative position.
public struct Rotary {
    public let headDim: Int
    let cos: [Float], sin: [Float]   // [context, headDim / 2]

    public init(headDim: Int, context: Int, base: Float) {
        self.headDim = headDim
        let half = headDim / 2
        var c = [Float](repeating: 0, count: context * half), s = c
        for t in 0..<context {
            for i in 0..<half {
                let theta = Double(t) * pow(Double(base), -2 * Double(i) / Double(headDim))
                c[t * half + i] = Float(Foundation.cos(theta))
                s[t * half + i] = Float(Foundation.sin(theta))
            }
        }
        cos = c; sin = s
    }

    /// One token's x [dim] in place, at position t of its sequence. `inverse`
    /// rotates by −t·θ, which is the backward pass (a rotation's transpose is its inverse).
    public func rotate(_ x: FloatPointer, position t: Int, dim: Int, inverse: Bool = false) {
        let half = headDim / 2
        let direction: Float = inverse ? -1 : 1
        cos.withUnsafeBufferPointer { cosT in
            sin.withUnsafeBufferPointer { sinT in
                for h in 0..<(dim / headDim) {
                    let v = x + h * headDim
                    for i in 0..<half {
                        let c = cosT[t * half + i], s = direction * sinT[t * half + i]
                        let a = v[2 * i], b = v[2 * i + 1]
                        v[2 * i] = a * c - b * s
                        v[2 * i + 1] = a * s + b * c
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
