// Low-bit inner loops that need instructions Swift cannot express (AVX-512
// byte masks and VNNI dot products, AVX2 byte shuffles and maddubs). Each has
// a portable C version used when the CPU lacks them; the Swift module Kernels
// wraps them all.
#ifndef CKERNELS_H
#define CKERNELS_H
#include <stddef.h>
#include <stdint.h>

// The path the kernels take here: 3 AVX-512 with GFNI and VBMI (Ice Lake and
// later, Zen 4), 2 AVX-512 (F, BW, VNNI, F16C), 1 AVX2 (with FMA and F16C),
// 0 portable C.
int ck_path(void);

// Caps the path at `level` (0 to 3; 3 by default), for tests and comparisons.
void ck_limit_path(int level);

// Activations come as one or two planes of int8 per token, plane p of token t
// at q + t * qStride + p * paddedCols. One plane: the value is q ∈ [−127, 127].
// Two planes (hi, lo): the value is hi · CK_LO_STEPS + lo, where
// lo ∈ [−127, 127] refines hi's rounding: 16 bits in all. The kernels return
// sums of values, exact in int32 up to 66,000 columns of a binary row (model
// configs stop at 65,536) and 22,000 of a two-bit group (callers use 16,384).
#define CK_LO_STEPS 254

// Rounding a row of activations into planes: ck_largest_magnitude gives
// max |a_j| over count floats; ck_quantize writes hi_j = round(a_j · inverse)
// and, unless lo is NULL, lo_j = round((a_j · inverse − hi_j) · CK_LO_STEPS),
// to nearest with ties to even. |a_j · inverse| ≤ 127 keeps both within int8.
float ck_largest_magnitude(const float *a, int count);
void ck_quantize(const float *a, int count, float inverse, int8_t *hi, int8_t *lo);

// Binary product on int8 activations, rows [row0, row1) of a packed sign matrix:
//   out[t * outStride + r] = Σ_j sign(r, j) · value(t, j)      (int32, exact)
// bits: row-major, row r at bits + r * rowBytes, bit (j % 8) of byte j / 8 is
// column j's sign (1: +1, 0: −1); readable 8 bytes past the last row.
// q: each plane zero-padded to paddedCols, a multiple of 64.
void ck_binary_i8(const uint8_t *bits, size_t rowBytes, int row0, int row1,
                  const int8_t *q, size_t qStride, int paddedCols, int planes, int tokens,
                  int32_t *out, size_t outStride);

// The same product for one token, with the rows shared among `parts`
// threads, each calling this once with its `part` (0 ≤ part < parts):
//   out[r] = scale · Σ_j sign(r, j) · value(j)      (float)
// shares: parts × 64 bytes, 64-byte aligned, set by ck_share_rows(shares,
// parts, rows) before any thread starts. A thread begins on its own
// contiguous share and, when done, takes pieces from the ends of the others';
// which thread computes a row depends on timing, the result does not. Every
// row is done once all parts have returned, or once any one part has.
void ck_share_rows(void *shares, int parts, int rows);
void ck_binary_token_shared(const uint8_t *bits, size_t rowBytes, const int8_t *q, int paddedCols, int planes,
                            float scale, float *out, void *shares, int parts, int part);

// Binary products per block of columns, for three sign planes of one layout
// at once (BiLLM's and ARB's packed layer): for rows [row0, row1),
//   out[((t * outRows + r) * blocks + b) * 3 + k] = Σ_{j in block b} sign_k(r, j) · value(t, j)
// plane k at bits[k], each as ck_binary_i8's; blocks of blockCols columns (a
// multiple of 64), the last one ending at paddedCols.
void ck_binary_blocks_i8(const uint8_t *const bits[3], size_t rowBytes, int blockCols, int blocks, int row0, int row1,
                         const int8_t *q, size_t qStride, int paddedCols, int planes, int tokens,
                         int32_t *out, int outRows);

// Two-bit group quantization on int8 activations: for each row r,
//   out[t * outStride + r] = Σ_g scale(r, g) · Σ_{j in g} (code(r, j) − zero(r, g)) · value(t, j)
// codes: row-major, row r at codes + r * rowBytes, in blocks of 64 columns
// (16 bytes): byte i of a block holds the block's columns i, 16 + i, 32 + i,
// 48 + i in its bit pairs 0–1, 2–3, 4–5, 6–7; readable 64 bytes past the
// last row. scales, zeros: IEEE half floats [rows, groups], readable 8
// entries past the last; groupSize a multiple of 64. qp: each plane of int8
// activations in the kernel's order (see ck_int2_order), zero-padded to
// paddedCols, a multiple of 256.
void ck_int2_i8(const uint8_t *codes, size_t rowBytes, const uint16_t *scales, const uint16_t *zeros,
                int cols, int groups, int groupSize, int row0, int row1, const int8_t *qp, size_t qStride,
                int paddedCols, int planes, int tokens, float *out, size_t outStride);

// Reorders one plane of activations for ck_int2_i8: within each 256 columns,
// position 64k + 16b + i takes column 64b + 16k + i, so that the codes of
// shift k in block b meet their activations.
void ck_int2_order(const int8_t *q, int8_t *qp, int paddedCols);

// The dense products' BLAS kernels, chosen at start-up where OpenBLAS misjudged the CPU.
#include "blascore.h"
// The worker threads behind parallelChunks.
#include "pool.h"

// Causal attention of one (sequence, head) pair, fused (attention.c): row t of
// q, k, v, out, dout, dq, dk, dv at t * ld, D columns; probs [T, T] with row i
// softmax(scale · q_i · k_j) for j ≤ i and 0 beyond. Backward writes dq, dk, dv
// (not accumulated). On the AVX-512 paths (ck_path() >= 2) only, for D a multiple
// of 16 and pairs small enough: ask ck_attention_fused(T, D) first. Scratch:
// ck_attention_scratch(T, D) floats.
int ck_attention_fused(int T, int D);
size_t ck_attention_scratch(int T, int D);
void ck_attention_forward(float *out, float *probs, const float *q, const float *k, const float *v,
                          int T, int D, int ld, float scale, float *scratch);
void ck_attention_backward(float *dq, float *dk, float *dv, const float *dout, const float *probs,
                           const float *q, const float *k, const float *v, int T, int D, int ld, float scale,
                           float *scratch);

#endif
