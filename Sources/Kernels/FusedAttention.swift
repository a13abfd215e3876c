import CKernels

/// Causal attention of one (sequence, head) pair in one pass over its rows
/// (Sources/CKernels/attention.c): what full forward and backward passes run
/// at the profiles' head sizes (16, 32) on the kernels' AVX-512 path, where
/// sgemm's products of 32 × 16 blocks cost more in packing and calls than in
/// arithmetic. The BLAS form in Transformer's Attention.swift is the
/// reference and the fallback.
public enum FusedAttention {
    /// Whether this CPU runs the fused kernels for pairs of `length` rows of `headDim`.
    public static func available(length: Int, headDim: Int) -> Bool {
        ck_attention_fused(Int32(clamping: length), Int32(clamping: headDim)) != 0
    }

    /// Scratch for a thread's pairs, on a 64-byte line; the caller deallocates it.
    public static func scratch(length: Int, headDim: Int) -> FloatPointer {
        let count = ck_attention_scratch(Int32(length), Int32(headDim))
        return UnsafeMutableRawPointer.allocate(byteCount: 4 * count, alignment: 64).bindMemory(to: Float.self, capacity: count)
    }

    /// out, q, k, v: a pair's rows at stride `ld`; probs [length, length].
    public static func forward(_ out: FloatPointer, _ probs: FloatPointer, _ q: ConstFloatPointer, _ k: ConstFloatPointer,
                               _ v: ConstFloatPointer, length: Int, headDim: Int, ld: Int, scale: Float,
                               scratch: FloatPointer) {
        ck_attention_forward(out, probs, q, k, v, Int32(length), Int32(headDim), Int32(ld), scale, scratch)
    }

    /// Writes dq, dk, dv (not accumulated) from dout and the forward pass's probs.
    public static func backward(_ dq: FloatPointer, _ dk: FloatPointer, _ dv: FloatPointer, _ dout: ConstFloatPointer,
                                _ probs: ConstFloatPointer, _ q: ConstFloatPointer, _ k: ConstFloatPointer,
                                _ v: ConstFloatPointer, length: Int, headDim: Int, ld: Int, scale: Float,
                                scratch: FloatPointer) {
        ck_attention_backward(dq, dk, dv, dout, probs, q, k, v, Int32(length), Int32(headDim), Int32(ld), scale, scratch)
    }
}
