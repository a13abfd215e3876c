import CBLAS
import CKernels

// Dense products of a linear layer, y = x·Wᵀ, and their two backward products.
// Activations are row-major [rows, features]; a weight is [out, in] as in the
// paper (W is n × m). The fast versions call OpenBLAS on contiguous chunks
// split across threads; the naive versions beside them are the reference the
// tests compare against.

/// The BLAS behind the dense products, in words (see blascore.h for why the
/// kernel set may not be the one OpenBLAS picked).
public enum DenseKernels {
    public static var description: String {
        let core = String(cString: ck_blas_core())
        guard !core.isEmpty else { return "not OpenBLAS" }
        guard let picked = ck_blas_core_detected() else { return "OpenBLAS \(core)" }
        return "OpenBLAS \(core) (it picked \(String(cString: picked)) for this CPU)"
    }
}

public typealias FloatPointer = UnsafeMutablePointer<Float>
public typealias ConstFloatPointer = UnsafePointer<Float>

/// out[rows, n] = x[rows, m] · W[n, m]ᵀ   (accumulates into out when `accumulate`)
public func matmulForward(_ out: FloatPointer, _ x: ConstFloatPointer, _ w: ConstFloatPointer,
                          rows: Int, inFeatures m: Int, outFeatures n: Int, accumulate: Bool = false) {
    let probe = StepProfile.probe(.linearForward); defer { probe.end() }
    if rows == 1 && !accumulate { return matvec(out, w, x, rows: n, cols: m) }   // decoding: one token
    parallelChunks(rows, minimumChunk: 16) { r in
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, Int32(r.count), Int32(n), Int32(m),
                    1, x + r.lowerBound * m, Int32(m), w, Int32(m),
                    accumulate ? 1 : 0, out + r.lowerBound * n, Int32(n))
    }
}

/// dx[rows, m] (+)= dout[rows, n] · W[n, m]
public func matmulBackwardInput(_ dx: FloatPointer, _ dout: ConstFloatPointer, _ w: ConstFloatPointer,
                                rows: Int, inFeatures m: Int, outFeatures n: Int, accumulate: Bool) {
    let probe = StepProfile.probe(.linearBackwardData); defer { probe.end() }
    parallelChunks(rows, minimumChunk: 16) { r in
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, Int32(r.count), Int32(m), Int32(n),
                    1, dout + r.lowerBound * n, Int32(n), w, Int32(m),
                    accumulate ? 1 : 0, dx + r.lowerBound * m, Int32(m))
    }
}

/// dW[n, m] += dout[rows, n]ᵀ · x[rows, m], split over the rows (the sum's
/// terms): the first chunk adds into dW, each other into a buffer of its own,
/// and the buffers join dW in chunk order. Split over dW's rows instead, every
/// thread packed all of x for OpenBLAS, and two threads ran 1.5× one.
public func matmulBackwardWeight(_ dw: FloatPointer, _ dout: ConstFloatPointer, _ x: ConstFloatPointer,
                                 rows: Int, inFeatures m: Int, outFeatures n: Int) {
    let probe = StepProfile.probe(.linearBackwardWeight); defer { probe.end() }
    let chunks = max(1, min(Threads.count, rows / 64)), size = n * m
    let partial = FloatPointer.allocate(capacity: max(1, (chunks - 1) * size))
    defer { partial.deallocate() }
    parallelChunks(chunks) { c in
        for c in c {
            let r0 = rows * c / chunks, r1 = rows * (c + 1) / chunks
            cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, Int32(n), Int32(m), Int32(r1 - r0),
                        1, dout + r0 * n, Int32(n), x + r0 * m, Int32(m),
                        c == 0 ? 1 : 0, c == 0 ? dw : partial + (c - 1) * size, Int32(m))
        }
    }
    for c in 1..<chunks {
        let p = partial + (c - 1) * size
        for i in 0..<size { dw[i] += p[i] }
    }
}

/// Single-threaded general product on strided matrices (row-major):
/// C[M, N] = alpha · op(A) · op(B) + beta · C. Used inside already-parallel loops.
@inline(__always)
public func sgemm(transA: Bool, transB: Bool, _ M: Int, _ N: Int, _ K: Int, alpha: Float = 1,
                  _ a: ConstFloatPointer, lda: Int, _ b: ConstFloatPointer, ldb: Int,
                  beta: Float, _ c: FloatPointer, ldc: Int) {
    cblas_sgemm(CblasRowMajor, transA ? CblasTrans : CblasNoTrans, transB ? CblasTrans : CblasNoTrans,
                Int32(M), Int32(N), Int32(K), alpha, a, Int32(lda), b, Int32(ldb), beta, c, Int32(ldc))
}

// MARK: - Naive references

public func naiveMatmulForward(_ out: FloatPointer, _ x: ConstFloatPointer, _ w: ConstFloatPointer,
                               rows: Int, inFeatures m: Int, outFeatures n: Int) {
    for r in 0..<rows {
        for o in 0..<n {
            var sum: Double = 0
            for i in 0..<m { sum += Double(x[r * m + i]) * Double(w[o * m + i]) }
            out[r * n + o] = Float(sum)
        }
    }
}

public func naiveMatmulBackwardInput(_ dx: FloatPointer, _ dout: ConstFloatPointer, _ w: ConstFloatPointer,
                                     rows: Int, inFeatures m: Int, outFeatures n: Int) {
    for r in 0..<rows {
        for i in 0..<m {
            var sum: Double = 0
            for o in 0..<n { sum += Double(dout[r * n + o]) * Double(w[o * m + i]) }
            dx[r * m + i] = Float(sum)
        }
    }
}

public func naiveMatmulBackwardWeight(_ dw: FloatPointer, _ dout: ConstFloatPointer, _ x: ConstFloatPointer,
                                      rows: Int, inFeatures m: Int, outFeatures n: Int) {
    for o in 0..<n {
        for i in 0..<m {
            var sum: Double = 0
            for r in 0..<rows { sum += Double(dout[r * n + o]) * Double(x[r * m + i]) }
            dw[o * m + i] += Float(sum)
        }
    }
}

/// y[n] = W[n, m] · x[m]: OpenBLAS's sgemv, rows split across threads (the
/// float reference the packed kernels are timed against).
public func matvec(_ y: FloatPointer, _ w: ConstFloatPointer, _ x: ConstFloatPointer, rows n: Int, cols m: Int) {
    parallelChunks(n, minimumChunk: 64) { r in
        cblas_sgemv(CblasRowMajor, CblasNoTrans, Int32(r.count), Int32(m), 1, w + r.lowerBound * m, Int32(m),
                    x, 1, 0, y + r.lowerBound, 1)
    }
}
