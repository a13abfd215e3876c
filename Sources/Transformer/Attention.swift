import Foundation
import Kernels

// Causal multi-head attention on already projected (and rotated) q, k, v.
// For each sequence b and head h (head h owns columns h·D ..< (h+1)·D):
//   S = q_h · k_hᵀ / √D          [T, T], entries above the diagonal masked
//   P = softmax(S) row by row     saved for backward
//   o_h = P · v_h                 [T, D]
// Each (b, h) pair is independent, so pairs are split across threads and the
// products inside run single-threaded on strided views (leading dimension C).

public struct AttentionShape {
    public var batch: Int, length: Int, heads: Int, headDim: Int
    public var dim: Int { heads * headDim }
    public var probabilityCount: Int { batch * heads * length * length }
    public init(batch: Int, length: Int, heads: Int, headDim: Int) {
        self.batch = batch; self.length = length; self.heads = heads; self.headDim = headDim
    }
}

/// out, q, k, v: [batch, length, dim]; probs: [batch, heads, length, length].
public func attentionForward(_ out: FloatPointer, _ probs: FloatPointer, _ q: ConstFloatPointer,
                             _ k: ConstFloatPointer, _ v: ConstFloatPointer, _ s: AttentionShape) {
    let probe = StepProfile.probe(.attention); defer { probe.end() }
    let T = s.length, D = s.headDim, C = s.dim
    let scale = 1 / Float(D).squareRoot()
    parallelChunks(s.batch * s.heads) { pairs in
        for pair in pairs {
            let b = pair / s.heads, h = pair % s.heads
            let offset = b * T * C + h * D
            let P = probs + pair * T * T
            sgemm(transA: false, transB: true, T, T, D, alpha: scale, q + offset, lda: C, k + offset, ldb: C,
                  beta: 0, P, ldc: T)
            for t in 0..<T { causalSoftmax(P + t * T, count: T, visible: t + 1) }
            sgemm(transA: false, transB: false, T, D, T, P, lda: T, v + offset, ldb: C,
                  beta: 0, out + offset, ldc: C)
        }
    }
}

/// Given dout [batch, length, dim], writes dq, dk, dv (not accumulated).
///   dP = do_h · v_hᵀ,  dv_h = Pᵀ · do_h,
///   dS = P ⊙ (dP − rowsum(dP ⊙ P)),  dq_h = dS · k_h / √D,  dk_h = dSᵀ · q_h / √D.
public func attentionBackward(_ dq: FloatPointer, _ dk: FloatPointer, _ dv: FloatPointer,
                              _ dout: ConstFloatPointer, _ probs: ConstFloatPointer, _ q: ConstFloatPointer,
                              _ k: ConstFloatPointer, _ v: ConstFloatPointer, _ s: AttentionShape) {
    let probe = StepProfile.probe(.attention); defer { probe.end() }
    let T = s.length, D = s.headDim, C = s.dim
    let scale = 1 / Float(D).squareRoot()
    parallelChunks(s.batch * s.heads) { pairs in
        let dS = FloatPointer.allocate(capacity: T * T)   // per-thread scratch
        defer { dS.deallocate() }
        for pair in pairs {
            let b = pair / s.heads, h = pair % s.heads
            let offset = b * T * C + h * D
            let P = probs + pair * T * T
            sgemm(transA: false, transB: true, T, T, D, dout + offset, lda: C, v + offset, ldb: C,
                  beta: 0, dS, ldc: T)
            sgemm(transA: true, transB: false, T, D, T, P, lda: T, dout + offset, ldb: C,
                  beta: 0, dv + offset, ldc: C)
            for t in 0..<T {
                let p = P + t * T, d = dS + t * T
                var dot: Float = 0
                for j in 0...t { dot += p[j] * d[j] }
                for j in 0...t { d[j] = p[j] * (d[j] - dot) }
                for j in (t + 1)..<T { d[j] = 0 }
            }
            sgemm(transA: false, transB: false, T, D, T, alpha: scale, dS, lda: T, k + offset, ldb: C,
                  beta: 0, dq + offset, ldc: C)
            sgemm(transA: true, transB: false, T, D, T, alpha: scale, dS, lda: T, q + offset, ldb: C,
                  beta: 0, dk + offset, ldc: C)
        }
    }
}

/// Softmax over the first `visible` entries of a row; the rest become 0.
@inline(__always)
func causalSoftmax(_ row: FloatPointer, count: Int, visible: Int) {
    softmax(row, count: visible)
    for j in visible..<count { row[j] = 0 }
}
