#include "ckernels.h"
#include <math.h>
#include <string.h>

// Causal attention of one (sequence, head) pair in one pass over its rows, at
// the small head sizes of the profiles (16 and 32) and others like them. The BLAS form
// (Sources/Transformer/Attention.swift) spends most of its time outside the
// arithmetic there: a product of 32 rows by 16 columns is too small for
// sgemm's packing to pay, and every step went through several of them per
// pair. Here the keys are transposed once per pair, so that 16 scores of a
// query are D fused multiply-adds into one register; four queries go
// together, sharing each load, and their softmax, mix and gradients follow
// while their rows are in L1.
//
// Layout: row t of q, k, v, out, dout, dq, dk, dv at t * ld (the head's D
// columns); probs [T, T], row i holding softmax(q_i · k_j · scale) for j ≤ i
// and 0 beyond. Scratch: ck_attention_scratch(T, D) floats.

#if defined(__x86_64__)
#include <immintrin.h>

// e^x for 16 floats x ≤ 0 (softmax's arguments), as Kernels' fastExp
// (Sources/Kernels/FastExp.swift) there: Cody–Waite reduction, Cephes'
// polynomial, 2^n in the exponent bits, 0 below −87, NaN kept (min and max
// return their second operand on NaN).
__attribute__((target("avx512f"), always_inline))
static inline __m512 exp16(__m512 x) {
    __mmask16 under = _mm512_cmp_ps_mask(x, _mm512_set1_ps(-87), _CMP_LT_OQ);
    x = _mm512_max_ps(_mm512_set1_ps(-87), _mm512_min_ps(_mm512_set1_ps(88), x));
    __m512 n = _mm512_roundscale_ps(_mm512_mul_ps(x, _mm512_set1_ps(1.44269504f)), _MM_FROUND_TO_NEAREST_INT);
    __m512 r = _mm512_fnmadd_ps(n, _mm512_set1_ps(0.693359375f), x);
    r = _mm512_fnmadd_ps(n, _mm512_set1_ps(-2.12194440e-4f), r);
    __m512 p = _mm512_set1_ps(1.9875691500e-4f);
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.3981999507e-3f));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(8.3334519073e-3f));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(4.1665795894e-2f));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.6666665459e-1f));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(5.0000001201e-1f));
    p = _mm512_fmadd_ps(_mm512_mul_ps(p, r), r, _mm512_add_ps(r, _mm512_set1_ps(1)));
    __m512i e = _mm512_slli_epi32(_mm512_add_epi32(_mm512_cvtps_epi32(n), _mm512_set1_epi32(127)), 23);
    return _mm512_maskz_mov_ps((__mmask16)~under, _mm512_mul_ps(p, _mm512_castsi512_ps(e)));
}

static inline int padded(int T) { return (T + 15) & ~15; }

size_t ck_attention_scratch(int T, int D) {
    return (size_t)padded(T) * (size_t)(D + 4) + 4 * (size_t)D + 2 * (size_t)T * (size_t)D;
}

// Nothing here is blocked for the cache: each group of rows streams the pair's
// transposed keys (and, backward, its dk/dv sums), 12 · T · D bytes in all, so
// the kernel is kept to pairs whose working set stays within about 192 KiB. It
// beat the BLAS form at T · D = 2,048 (quick profile: 34.4 → 20.5 ms a step on
// one thread) and 8,192 (paper: 111 → 95 ms on two); larger pairs are not measured.
int ck_attention_fused(int T, int D) {
    return ck_path() >= 2 && D > 0 && D % 16 == 0 && T > 0 && (long)T * D <= 16384;
}

// xT[d * Tp + j] = x[j * ld + d], the rows past T zero.
static void transpose(float *xT, const float *x, int T, int D, int ld) {
    int Tp = padded(T);
    for (int d = 0; d < D; d++) {
        for (int j = 0; j < T; j++) xT[d * Tp + j] = x[(size_t)j * ld + d];
        for (int j = T; j < Tp; j++) xT[d * Tp + j] = 0;
    }
}

// For four rows r of a (D floats each): s[r · Tp + j] = Σ_d a[r][d] · xT[d][j],
// j < 16 · m, m ≤ 4 key vectors: 4m chains of multiply-adds, each load of xT
// shared by four rows (one row's D-long chain alone would wait on the
// multiply-add latency). Inlined with m constant, so the loops over it unroll.
__attribute__((target("avx512f"), always_inline))
static inline void chunk_products(float *s, const float *a, const float *xT, int Tp, int D, const int m) {
    __m512 acc[4][4];
    for (int r = 0; r < 4; r++)
        for (int c = 0; c < m; c++) acc[r][c] = _mm512_setzero_ps();
    for (int d = 0; d < D; d++) {
        __m512 x[4];
        for (int c = 0; c < m; c++) x[c] = _mm512_loadu_ps(xT + (size_t)d * Tp + 16 * c);
        for (int r = 0; r < 4; r++) {
            __m512 b = _mm512_set1_ps(a[r * D + d]);
            for (int c = 0; c < m; c++) acc[r][c] = _mm512_fmadd_ps(b, x[c], acc[r][c]);
        }
    }
    for (int r = 0; r < 4; r++)
        for (int c = 0; c < m; c++) _mm512_storeu_ps(s + (size_t)r * Tp + 16 * c, acc[r][c]);
}

__attribute__((target("avx512f"), always_inline))
static inline void row_products(float *s, const float *a, const float *xT, int Tp, int D, int chunks) {
    for (int c0 = 0; c0 < chunks; c0 += 4) {
        float *y = s + 16 * c0;
        const float *x = xT + 16 * c0;
        switch (chunks - c0 < 4 ? chunks - c0 : 4) {
        case 1: chunk_products(y, a, x, Tp, D, 1); break;
        case 2: chunk_products(y, a, x, Tp, D, 2); break;
        case 3: chunk_products(y, a, x, Tp, D, 3); break;
        default: chunk_products(y, a, x, Tp, D, 4); break;
        }
    }
}

// y[0..<D] = scale · Σ_{j < n} w[j] · x[j * ld ..< j * ld + D], four chains per 16 columns.
__attribute__((target("avx512f"), always_inline))
static inline void weighted_rows(float *y, const float *w, const float *x, int n, int ld, int D, float scale) {
    for (int g = 0; g < D; g += 16) {
        __m512 a[4] = {_mm512_setzero_ps(), _mm512_setzero_ps(), _mm512_setzero_ps(), _mm512_setzero_ps()};
        int j = 0;
        for (; j + 3 < n; j += 4)
            for (int u = 0; u < 4; u++)
                a[u] = _mm512_fmadd_ps(_mm512_set1_ps(w[j + u]), _mm512_loadu_ps(x + (size_t)(j + u) * ld + g), a[u]);
        for (; j < n; j++) a[0] = _mm512_fmadd_ps(_mm512_set1_ps(w[j]), _mm512_loadu_ps(x + (size_t)j * ld + g), a[0]);
        __m512 sum = _mm512_add_ps(_mm512_add_ps(a[0], a[1]), _mm512_add_ps(a[2], a[3]));
        _mm512_storeu_ps(y + g, _mm512_mul_ps(sum, _mm512_set1_ps(scale)));
    }
}

// The same for four rows at once, y_r = scale · Σ_{j < n} w_r[j] · x_j with w_r
// at w + r · wld: each x_j loaded once for the four (w_r[j] = 0 where row r
// does not see key j).
__attribute__((target("avx512f"), always_inline))
static inline void weighted_rows4(float *y, int yld, const float *w, int wld, const float *x, int n, int ld, int D,
                                  float scale) {
    for (int g = 0; g < D; g += 16) {
        __m512 a[4] = {_mm512_setzero_ps(), _mm512_setzero_ps(), _mm512_setzero_ps(), _mm512_setzero_ps()};
        for (int j = 0; j < n; j++) {
            __m512 xj = _mm512_loadu_ps(x + (size_t)j * ld + g);
            for (int r = 0; r < 4; r++) a[r] = _mm512_fmadd_ps(_mm512_set1_ps(w[(size_t)r * wld + j]), xj, a[r]);
        }
        for (int r = 0; r < 4; r++) _mm512_storeu_ps(y + (size_t)r * yld + g, _mm512_mul_ps(a[r], _mm512_set1_ps(scale)));
    }
}

// Rows i0 ..< i0 + 4 of x (those below T; the others zero), times `scale`, into a.
static void gather_rows(float *a, const float *x, int i0, int T, int D, int ld, float scale) {
    for (int r = 0; r < 4; r++)
        for (int d = 0; d < D; d++) a[r * D + d] = i0 + r < T ? x[(size_t)(i0 + r) * ld + d] * scale : 0;
}

// The mask of the visible keys in the last of `chunks` vectors of a row.
static inline __mmask16 last_chunk(int visible, int chunks) {
    return (__mmask16)((1u << (visible - 16 * (chunks - 1))) - 1);
}

__attribute__((target("avx512f")))
void ck_attention_forward(float *out, float *probs, const float *q, const float *k, const float *v,
                          int T, int D, int ld, float scale, float *scratch) {
    int Tp = padded(T);
    float *kT = scratch, *scores = kT + (size_t)D * Tp, *a = scores + 4 * (size_t)Tp;
    transpose(kT, k, T, D, ld);
    for (int i0 = 0; i0 < T; i0 += 4) {
        int rows = T - i0 < 4 ? T - i0 : 4;
        gather_rows(a, q, i0, T, D, ld, scale);
        row_products(scores, a, kT, Tp, D, (i0 + rows - 1) / 16 + 1);
        for (int r = 0; r < rows; r++) {
            int i = i0 + r, visible = i + 1, chunks = i / 16 + 1;
            float *s = scores + (size_t)r * Tp, *p = probs + (size_t)i * T;
            // softmax over the visible keys; the last chunk's hidden ones count as −∞
            __mmask16 last = last_chunk(visible, chunks);
            __m512 mx = _mm512_set1_ps(-INFINITY);
            for (int c = 0; c < chunks; c++)
                mx = _mm512_mask_max_ps(mx, c == chunks - 1 ? last : 0xFFFF, mx, _mm512_loadu_ps(s + 16 * c));
            __m512 top = _mm512_set1_ps(_mm512_reduce_max_ps(mx)), sum = _mm512_setzero_ps();
            for (int c = 0; c < chunks; c++) {
                __m512 e = _mm512_maskz_mov_ps(c == chunks - 1 ? last : 0xFFFF,
                                               exp16(_mm512_sub_ps(_mm512_loadu_ps(s + 16 * c), top)));
                _mm512_storeu_ps(s + 16 * c, e);
                sum = _mm512_add_ps(sum, e);
            }
            float inverse = 1 / _mm512_reduce_add_ps(sum);
            for (int j = 0; j < visible; j++) p[j] = s[j] * inverse;
            memset(p + visible, 0, sizeof(float) * (size_t)(T - visible));
            if (rows < 4) weighted_rows(out + (size_t)i * ld, p, v, visible, ld, D, 1);
        }
        if (rows == 4) weighted_rows4(out + (size_t)i0 * ld, ld, probs + (size_t)i0 * T, T, v, i0 + 4, ld, D, 1);
    }
}

// dP_ij = do_i · v_j, dS_ij = P_ij (dP_ij − Σ_j P_ij dP_ij), dq_i = scale Σ_j dS_ij k_j,
// dk_j = scale Σ_i dS_ij q_i, dv_j = Σ_i P_ij do_i: row by row, dk and dv summed in
// scratch, interleaved (dk_j then dv_j) so that a load of one never sits 4 KiB
// from a store to the other, which the CPU would take for a dependency.
__attribute__((target("avx512f")))
void ck_attention_backward(float *dq, float *dk, float *dv, const float *dout, const float *probs,
                           const float *q, const float *k, const float *v, int T, int D, int ld, float scale,
                           float *scratch) {
    int Tp = padded(T);
    float *vT = scratch, *scores = vT + (size_t)D * Tp, *a = scores + 4 * (size_t)Tp, *sums = a + 4 * (size_t)D;
    transpose(vT, v, T, D, ld);
    memset(sums, 0, sizeof(float) * 2 * (size_t)T * D);
    for (int i0 = 0; i0 < T; i0 += 4) {
        int rows = T - i0 < 4 ? T - i0 : 4;
        gather_rows(a, dout, i0, T, D, ld, 1);
        row_products(scores, a, vT, Tp, D, (i0 + rows - 1) / 16 + 1);
        // dS row by row over the group's key vectors, 0 past each row's last key
        // (nothing from there enters, not even a non-finite dP), so that the
        // four rows share the loops below.
        int chunks = (i0 + rows - 1) / 16 + 1, seen = i0 + rows;
        for (int r = 0; r < rows; r++) {
            int visible = i0 + r + 1, own = (visible - 1) / 16 + 1;
            float *s = scores + (size_t)r * Tp;
            const float *p = probs + (size_t)(i0 + r) * T;
            __m512 dots = _mm512_setzero_ps();
            for (int c = 0; c < own; c++) {
                __mmask16 keys = c == own - 1 ? last_chunk(visible, own) : 0xFFFF;
                dots = _mm512_fmadd_ps(_mm512_maskz_loadu_ps(keys, p + 16 * c), _mm512_maskz_loadu_ps(keys, s + 16 * c), dots);
            }
            __m512 dot = _mm512_set1_ps(_mm512_reduce_add_ps(dots));
            for (int c = 0; c < chunks; c++) {
                __mmask16 keys = c < own - 1 ? 0xFFFF : c == own - 1 ? last_chunk(visible, own) : 0;
                __m512 dS = _mm512_mul_ps(_mm512_maskz_loadu_ps(keys, p + 16 * c),
                                          _mm512_sub_ps(_mm512_maskz_loadu_ps(keys, s + 16 * c), dot));
                _mm512_storeu_ps(s + 16 * c, _mm512_maskz_mov_ps(keys, dS));
            }
        }
        if (rows < 4) {
            for (int r = 0; r < rows; r++) {
                int i = i0 + r;
                const float *s = scores + (size_t)r * Tp, *p = probs + (size_t)i * T;
                const float *doi = dout + (size_t)i * ld, *qi = q + (size_t)i * ld;
                weighted_rows(dq + (size_t)i * ld, s, k, i + 1, ld, D, scale);
                for (int g = 0; g < D; g += 16) {
                    __m512 qg = _mm512_mul_ps(_mm512_loadu_ps(qi + g), _mm512_set1_ps(scale));
                    __m512 dg = _mm512_loadu_ps(doi + g);
                    for (int j = 0; j <= i; j++) {
                        float *dkj = sums + (size_t)j * 2 * D + g, *dvj = dkj + D;
                        _mm512_storeu_ps(dkj, _mm512_fmadd_ps(_mm512_set1_ps(s[j]), qg, _mm512_loadu_ps(dkj)));
                        _mm512_storeu_ps(dvj, _mm512_fmadd_ps(_mm512_set1_ps(p[j]), dg, _mm512_loadu_ps(dvj)));
                    }
                }
            }
            continue;
        }
        weighted_rows4(dq + (size_t)i0 * ld, ld, scores, Tp, k, seen, ld, D, scale);
        const float *p = probs + (size_t)i0 * T;
        for (int g = 0; g < D; g += 16) {
            __m512 qg[4], dg[4];
            for (int r = 0; r < 4; r++) {
                qg[r] = _mm512_mul_ps(_mm512_loadu_ps(q + (size_t)(i0 + r) * ld + g), _mm512_set1_ps(scale));
                dg[r] = _mm512_loadu_ps(dout + (size_t)(i0 + r) * ld + g);
            }
            for (int j = 0; j < seen; j++) {
                float *dkj = sums + (size_t)j * 2 * D + g, *dvj = dkj + D;
                __m512 dkSum = _mm512_loadu_ps(dkj), dvSum = _mm512_loadu_ps(dvj);
                for (int r = 0; r < 4; r++) {
                    dkSum = _mm512_fmadd_ps(_mm512_set1_ps(scores[(size_t)r * Tp + j]), qg[r], dkSum);
                    dvSum = _mm512_fmadd_ps(_mm512_set1_ps(p[(size_t)r * T + j]), dg[r], dvSum);
                }
                _mm512_storeu_ps(dkj, dkSum);
                _mm512_storeu_ps(dvj, dvSum);
            }
        }
    }
    for (int j = 0; j < T; j++) {
        memcpy(dk + (size_t)j * ld, sums + (size_t)j * 2 * D, sizeof(float) * D);
        memcpy(dv + (size_t)j * ld, sums + (size_t)j * 2 * D + D, sizeof(float) * D);
    }
}

#else   // no x86: the BLAS form always (Sources/Transformer/Attention.swift)

size_t ck_attention_scratch(int T, int D) { (void)T; (void)D; return 0; }
int ck_attention_fused(int T, int D) { (void)T; (void)D; return 0; }
void ck_attention_forward(float *out, float *probs, const float *q, const float *k, const float *v,
                          int T, int D, int ld, float scale, float *scratch) {}
void ck_attention_backward(float *dq, float *dk, float *dv, const float *dout, const float *probs,
                           const float *q, const float *k, const float *v, int T, int D, int ld, float scale,
                           float *scratch) {}
#endif
