import Foundation
import Kernels

// Causal multi-head attention on already projected (and rotated) q, k, v.
// For each sequence b and head h (head h owns columns h·D ..< (h+1)·D):
//   S = q_h · k_hᵀ / √D          [T, T], entries above the diagonal masked
//   P = softmax(S) row by row     saved for backward
//   o_h = P · v_h                 [T, D]
// Each (b, h) pair is independent, so pairs are split across threads and the
// products inside run single-threaded on strided views (leading dimension C).
// The rows go in blocks of `block` queries: block i sees keys 0 ..< its last
// row + 1 only, so the products skip the masked corner above the diagonal
// (at T = 128 and blocks of 32, 10 of the 16 key blocks are computed). A
// block as long as the sequence is the plain full-matrix form, the reference
// the tests check the blocked one against. Where the CPU and head size allow,
// the fused kernel (Kernels' FusedAttention) does each pair in one pass instead.

public struct AttentionShape {
    public var batch: Int, length: Int, heads: Int, headDim: Int
    /// Query rows per block (see above).
    public var block: Int
    /// Whether the fused kernel runs where it is available (false: the BLAS form always).
    public var allowsFused = true
    public var dim: Int { heads * headDim }
    /// Whether the fused kernel runs for this shape here.
    public var fused: Bool { allowsFused && FusedAttention.available(length: length, headDim: headDim) }
    public var probabilityCount: Int { batch * heads * length * length }
    public init(batch: Int, length: Int, heads: Int, headDim: Int, block: Int = 32) {
        self.batch = batch; self.length = length; self.heads = heads; self.headDim = headDim
        self.block = max(1, block)
    }
    /// Query blocks as (rows, keys they see), the last first.
    var blocks: [(rows: Range<Int>, keys: Int)] {
        stride(from: 0, to: length, by: block).reversed().map { r0 in
            let r1 = min(length, r0 + block)
            return (r0..<r1, r1)
        }
    }
}

/// out, q, k, v: [batch, length, dim]; probs: [batch, heads, length, length].
public func attentionForward(_ out: FloatPointer, _ probs: FloatPointer, _ q: ConstFloatPointer,
                             _ k: ConstFloatPointer, _ v: ConstFloatPointer, _ s: AttentionShape) {
    let probe = StepProfile.probe(.attention); defer { probe.end() }
    let T = s.length, D = s.headDim, C = s.dim
    let scale = 1 / Float(D).squareRoot()
    let blocks = s.blocks, fused = s.fused
    parallelChunks(s.batch * s.heads) { pairs in
        let scratch = fused ? FusedAttention.scratch(length: T, headDim: D) : nil
        defer { scratch?.deallocate() }
        for pair in pairs {
            let b = pair / s.heads, h = pair % s.heads
            let offset = b * T * C + h * D
            let P = probs + pair * T * T
            if fused {
                FusedAttention.forward(out + offset, P, q + offset, k + offset, v + offset, length: T, headDim: D, ld: C,
                                       scale: scale, scratch: scratch!)
                continue
            }
            for (rows, keys) in blocks {
                let Pi = P + rows.lowerBound * T, at = offset + rows.lowerBound * C
                sgemm(transA: false, transB: true, rows.count, keys, D, alpha: scale, q + at, lda: C, k + offset, ldb: C,
                      beta: 0, Pi, ldc: T)
                for t in rows { causalSoftmax(P + t * T, count: T, visible: t + 1) }
                sgemm(transA: false, transB: false, rows.count, D, keys, Pi, lda: T, v + offset, ldb: C,
                      beta: 0, out + at, ldc: C)
            }
        }
    }
}

/// Given dout [batch, length, dim], writes dq, dk, dv (not accumulated).
///   dP = do_h · v_hᵀ,  dv_h = Pᵀ · do_h,
///   dS = P ⊙ (dP − rowsum(dP ⊙ P)),  dq_h = dS · k_h / √D,  dk_h = dSᵀ · q_h / √D.
/// By query blocks, the last first: it sees every key, so its dv and dk
/// products write all rows (β = 0) and earlier blocks add onto theirs.
public func attentionBackward(_ dq: FloatPointer, _ dk: FloatPointer, _ dv: FloatPointer,
                              _ dout: ConstFloatPointer, _ probs: ConstFloatPointer, _ q: ConstFloatPointer,
                              _ k: ConstFloatPointer, _ v: ConstFloatPointer, _ s: AttentionShape) {
    let probe = StepProfile.probe(.attention); defer { probe.end() }
    let T = s.length, D = s.headDim, C = s.dim
    let scale = 1 / Float(D).squareRoot()
    let blocks = s.blocks, fused = s.fused
    parallelChunks(s.batch * s.heads) { pairs in
        // Per-thread scratch: the fused kernel's, or dS for the BLAS form.
        let scratch = fused ? FusedAttention.scratch(length: T, headDim: D) : FloatPointer.allocate(capacity: T * T)
        defer { scratch.deallocate() }
        let dS = scratch
        for pair in pairs {
            let b = pair / s.heads, h = pair % s.heads
            let offset = b * T * C + h * D
            let P = probs + pair * T * T
            if fused {
                FusedAttention.backward(dq + offset, dk + offset, dv + offset, dout + offset, P, q + offset, k + offset,
                                        v + offset, length: T, headDim: D, ld: C, scale: scale, scratch: scratch)
                continue
            }
            for (i, (rows, keys)) in blocks.enumerated() {
                let at = offset + rows.lowerBound * C, Pi = P + rows.lowerBound * T, dSi = dS + rows.lowerBound * T
                let beta: Float = i == 0 ? 0 : 1
                sgemm(transA: false, transB: true, rows.count, keys, D, dout + at, lda: C, v + offset, ldb: C,
                      beta: 0, dSi, ldc: T)
                sgemm(transA: true, transB: false, keys, D, rows.count, Pi, lda: T, dout + at, ldb: C,
                      beta: beta, dv + offset, ldc: C)
                for t in rows {
                    softmaxBackward(dS + t * T, P + t * T, count: t + 1)
                    (dS + t * T + t + 1).update(repeating: 0, count: keys - t - 1)
                }
                sgemm(transA: false, transB: false, rows.count, D, keys, alpha: scale, dSi, lda: T, k + offset, ldb: C,
                      beta: 0, dq + at, ldc: C)
                sgemm(transA: true, transB: false, keys, D, rows.count, alpha: scale, dSi, lda: T, q + at, ldb: C,
                      beta: beta, dk + offset, ldc: C)
            }
        }
    }
}

/// Softmax over the first `visible` entries of a row; the rest become 0.
@inline(__always)
func causalSoftmax(_ row: FloatPointer, count: Int, visible: Int) {
    softmax(row, count: visible)
    for j in visible..<count { row[j] = 0 }
}
