import Foundation
import Kernels

// Next-token loss: ℓ_r = logsumexp(z_r) − z_r[target_r], averaged over rows.

/// Turns logits [rows, vocabulary] into probabilities in place and returns the
/// per-row losses in nats. Backward only needs the probabilities.
public func crossEntropyForward(_ logits: FloatPointer, _ losses: FloatPointer, _ targets: [Int32],
                                rows: Int, vocabulary V: Int) {
    let probe = StepProfile.probe(.loss); defer { probe.end() }
    targets.withUnsafeBufferPointer { target in
        parallelChunks(rows, minimumChunk: 32) { range in
            for r in range {
                let z = logits + r * V
                softmax(z, count: V)
                losses[r] = -log(max(z[Int(target[r])], Float.leastNormalMagnitude))
            }
        }
    }
}

/// In place: probabilities → ∂L/∂logits = (p − onehot(target)) · scale, where
/// scale = 1 / rows for the mean loss.
public func crossEntropyBackward(_ probs: FloatPointer, _ targets: [Int32], rows: Int, vocabulary V: Int,
                                 scale: Float) {
    let probe = StepProfile.probe(.loss); defer { probe.end() }
    targets.withUnsafeBufferPointer { target in
        parallelChunks(rows, minimumChunk: 32) { range in
            for r in range {
                let p = probs + r * V
                p[Int(target[r])] -= 1
                for j in 0..<V { p[j] *= scale }
            }
        }
    }
}
