import Foundation
import Kernels

/// AdamW (decoupled weight decay) over a list of parameters, with global-norm
/// gradient clipping. Moments live here, keyed by position in the list.
public final class AdamW {
    public let parameters: [Parameter]
    public var beta1: Float = 0.9, beta2: Float = 0.95, epsilon: Float = 1e-8
    public var weightDecay: Float
    private let m: [Tensor], v: [Tensor]
    private var step = 0

    public init(_ parameters: [Parameter], weightDecay: Float) {
        self.parameters = parameters.filter(\.trainable)
        self.weightDecay = weightDecay
        m = self.parameters.map { Tensor($0.value.shape) }
        v = self.parameters.map { Tensor($0.value.shape) }
    }

    /// The global L2 norm of all gradients, summed in a fixed order.
    public func gradientNorm() -> Float {
        var total: Double = 0
        for p in parameters {
            var s: Float = 0
            for i in 0..<p.grad.count { s += p.grad[i] * p.grad[i] }
            total += Double(s)
        }
        return Float(total.squareRoot())
    }

    /// One update at learning rate `lr`; gradients are scaled so their global
    /// norm is at most `clip` (0 disables clipping). Returns the norm before clipping.
    @discardableResult
    public func update(lr: Float, clip: Float) -> Float {
        let probe = StepProfile.probe(.optimizer); defer { probe.end() }
        let norm = gradientNorm()
        let gradScale: Float = clip > 0 && norm > clip ? clip / norm : 1
        step += 1
        let c1 = 1 - pow(beta1, Float(step)), c2 = 1 - pow(beta2, Float(step))
        let (b1, b2, eps) = (beta1, beta2, epsilon)
        for (j, p) in parameters.enumerated() {
            let w = p.value.data, g = p.grad.data, mj = m[j].data, vj = v[j].data
            let decay = p.decays ? 1 - lr * weightDecay : 1
            parallelChunks(p.value.count, minimumChunk: 4096) { range in
                for i in range {
                    let gi = g[i] * gradScale
                    mj[i] = b1 * mj[i] + (1 - b1) * gi
                    vj[i] = b2 * vj[i] + (1 - b2) * gi * gi
                    let update = (mj[i] / c1) / ((vj[i] / c2).squareRoot() + eps)
                    w[i] = w[i] * decay - lr * update
                }
            }
        }
        return norm
    }
}

/// Linear warm-up to the peak, then cosine decay to `floor` × peak.
public struct CosineSchedule: Sendable {
    public var peak: Float, warmup: Int, total: Int, floor: Float = 0.1

    public init(peak: Float, warmup: Int, total: Int, floor: Float = 0.1) {
        self.peak = peak; self.warmup = warmup; self.total = total; self.floor = floor
    }

    public func learningRate(at step: Int) -> Float {
        if step < warmup { return peak * Float(step + 1) / Float(warmup) }
        let progress = Float(step - warmup) / Float(max(1, total - warmup))
        let cosine = 0.5 * (1 + cos(Float.pi * min(1, progress)))
        return peak * (floor + (1 - floor) * cosine)
    }
}
