#include "ckernels.h"
#include <string.h>
#include <immintrin.h>

static int portable_only = 0;
void ck_force_portable(int on) { portable_only = on; }

int ck_has_avx512vnni(void) {
#if defined(__x86_64__)
    static int known = -1;
    if (portable_only) return 0;
    if (known < 0) {
        __builtin_cpu_init();
        known = __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw")
            && __builtin_cpu_supports("avx512vnni") && __builtin_cpu_supports("f16c");
    }
    return known;
#else
    return 0;
#endif
}

static inline float half_to_float(uint16_t h) {
    _Float16 f;
    memcpy(&f, &h, 2);
    return (float)f;
}

static inline uint64_t load64(const uint8_t *p) { uint64_t v; memcpy(&v, p, 8); return v; }

// MARK: Portable versions

static void binary_portable(const uint8_t *bits, size_t rowBytes, int row0, int row1, const int8_t *q,
                            size_t qStride, int paddedCols, int tokens, int32_t *out, size_t outStride) {
    for (int t = 0; t < tokens; t++) {
        const int8_t *qt = q + t * qStride;
        for (int r = row0; r < row1; r++) {
            const uint8_t *row = bits + r * rowBytes;
            int32_t sum = 0;
            for (int c = 0; c < paddedCols; c += 64) {
                uint64_t word = load64(row + c / 8);
                for (int j = 0; j < 64; j++) sum += ((word >> j) & 1) ? qt[c + j] : -qt[c + j];
            }
            out[t * outStride + r] = sum;
        }
    }
}

void ck_int2_order(const int8_t *q, int8_t *qp, int paddedCols) {
    for (int c = 0; c < paddedCols; c += 256)
        for (int k = 0; k < 4; k++)
            for (int b = 0; b < 4; b++)
                for (int i = 0; i < 16; i++) qp[c + 64 * k + 16 * b + i] = q[c + 64 * b + 16 * k + i];
}

static inline int code_at(const uint8_t *row, int j) {
    return (row[(j / 64) * 16 + j % 16] >> (2 * ((j % 64) / 16))) & 3;
}

static inline int8_t q_at(const int8_t *qp, int j) {
    int c = j / 256 * 256, b = (j % 256) / 64, k = (j % 64) / 16, i = j % 16;
    return qp[c + 64 * k + 16 * b + i];
}

static void int2_portable(const uint8_t *codes, size_t rowBytes, const uint16_t *scales, const uint16_t *zeros,
                          int cols, int groups, int groupSize, int row0, int row1, const int8_t *qp, size_t qStride,
                          int paddedCols, int tokens, float *out, size_t outStride) {
    (void)paddedCols;
    for (int t = 0; t < tokens; t++) {
        const int8_t *qt = qp + t * qStride;
        for (int r = row0; r < row1; r++) {
            const uint8_t *row = codes + r * rowBytes;
            float sum = 0;
            for (int g = 0; g < groups; g++) {
                int32_t dot = 0, zero = (int32_t)half_to_float(zeros[r * groups + g]);
                for (int j = g * groupSize; j < (g + 1) * groupSize && j < cols; j++)
                    dot += (code_at(row, j) - zero) * q_at(qt, j);
                sum += half_to_float(scales[r * groups + g]) * (float)dot;
            }
            out[t * outStride + r] = sum;
        }
    }
}

// MARK: AVX-512 VNNI versions
#if defined(__x86_64__)

// Σ_j ±q_j over 64 columns: negate the bytes whose bit is 0, then one VNNI
// dot product with a vector of ones adds them four at a time into int32 lanes.
// Four rows share every load of q.
__attribute__((target("avx512f,avx512bw,avx512vnni")))
static void binary_avx512(const uint8_t *bits, size_t rowBytes, int row0, int row1, const int8_t *q,
                          size_t qStride, int paddedCols, int tokens, int32_t *out, size_t outStride) {
    const __m512i ones = _mm512_set1_epi8(1), zero = _mm512_setzero_si512();
    for (int t = 0; t < tokens; t++) {
        const int8_t *qt = q + t * qStride;
        int r = row0;
        for (; r + 4 <= row1; r += 4) {
            const uint8_t *b0 = bits + r * rowBytes, *b1 = b0 + rowBytes, *b2 = b1 + rowBytes, *b3 = b2 + rowBytes;
            __m512i a0 = zero, a1 = zero, a2 = zero, a3 = zero;
            for (int c = 0; c < paddedCols; c += 64) {
                __m512i v = _mm512_loadu_si512(qt + c);
                __m512i n = _mm512_sub_epi8(zero, v);
                a0 = _mm512_dpbusd_epi32(a0, ones, _mm512_mask_blend_epi8(load64(b0 + c / 8), n, v));
                a1 = _mm512_dpbusd_epi32(a1, ones, _mm512_mask_blend_epi8(load64(b1 + c / 8), n, v));
                a2 = _mm512_dpbusd_epi32(a2, ones, _mm512_mask_blend_epi8(load64(b2 + c / 8), n, v));
                a3 = _mm512_dpbusd_epi32(a3, ones, _mm512_mask_blend_epi8(load64(b3 + c / 8), n, v));
            }
            int32_t *o = out + t * outStride + r;
            o[0] = _mm512_reduce_add_epi32(a0); o[1] = _mm512_reduce_add_epi32(a1);
            o[2] = _mm512_reduce_add_epi32(a2); o[3] = _mm512_reduce_add_epi32(a3);
        }
        for (; r < row1; r++) {
            const uint8_t *b = bits + r * rowBytes;
            __m512i a = zero;
            for (int c = 0; c < paddedCols; c += 64) {
                __m512i v = _mm512_loadu_si512(qt + c);
                a = _mm512_dpbusd_epi32(a, ones, _mm512_mask_blend_epi8(load64(b + c / 8), _mm512_sub_epi8(zero, v), v));
            }
            out[t * outStride + r] = _mm512_reduce_add_epi32(a);
        }
    }
}

// Codes as unsigned bytes times activations as signed bytes: a 64-byte load
// holds 256 columns; shifting by 0, 2, 4, 6 and masking with 3 gives four
// vectors of codes, each one VNNI dot product with the matching (reordered)
// activations, all into one vector of int32 lanes. Lanes 4b … 4b + 3 then
// hold block b's sum, so one multiply by the blocks' group scales (16-bit,
// widened and spread over the lanes by a permute) and an add finish the 256
// columns. The zero points' share, Σ_g scale · zero · Σ q over the group, is
// subtracted once per row. Needs groups of 64 or 128 columns or a multiple
// of 256, and scales readable 8 entries past each row's last.
__attribute__((target("avx512f,avx512bw,avx512vnni,f16c")))
static void int2_avx512(const uint8_t *codes, size_t rowBytes, const uint16_t *scales, const uint16_t *zeros,
                        int cols, int groups, int groupSize, int row0, int row1, const int8_t *qp, size_t qStride,
                        int paddedCols, int tokens, float *out, size_t outStride) {
    const __m512i three = _mm512_set1_epi8(3), zero = _mm512_setzero_si512();
    // Lane l (block l / 4 of the 256 columns) takes the scale of group (64 · (l / 4)) / groupSize past the first.
    int spread[16];
    for (int l = 0; l < 16; l++) spread[l] = groupSize < 256 ? (64 * (l / 4)) / groupSize : 0;
    const __m512i lanes = _mm512_loadu_si512(spread);
    float qsum[groups > 0 ? groups : 1];
    for (int t = 0; t < tokens; t++) {
        const int8_t *qt = qp + t * qStride;
        for (int g = 0; g < groups; g++) {
            int32_t s = 0;
            for (int j = g * groupSize; j < (g + 1) * groupSize && j < cols; j++) s += q_at(qt, j);
            qsum[g] = (float)s;
        }
        for (int r = row0; r < row1; r++) {
            const uint8_t *row = codes + r * rowBytes;
            const uint16_t *rs = scales + r * groups, *rz = zeros + r * groups;
            __m512 acc = _mm512_setzero_ps();
            for (int c = 0; c < paddedCols; c += 256) {
                __m512i packed = _mm512_loadu_si512(row + c / 4), dot = zero;
                for (int k = 0; k < 4; k++) {
                    __m512i code = _mm512_and_si512(_mm512_srli_epi16(packed, 2 * k), three);
                    dot = _mm512_dpbusd_epi32(dot, code, _mm512_loadu_si512(qt + c + 64 * k));
                }
                __m512 s = _mm512_cvtph_ps(_mm256_castsi128_si256(_mm_loadu_si128((const __m128i *)(rs + c / groupSize))));
                acc = _mm512_fmadd_ps(_mm512_cvtepi32_ps(dot), _mm512_permutexvar_ps(lanes, s), acc);
            }
            __m512 offsets = _mm512_setzero_ps();
            int g = 0;
            for (; g + 16 <= groups; g += 16) {
                __m512 sg = _mm512_cvtph_ps(_mm256_loadu_si256((const __m256i *)(rs + g)));
                __m512 zg = _mm512_cvtph_ps(_mm256_loadu_si256((const __m256i *)(rz + g)));
                offsets = _mm512_fmadd_ps(_mm512_mul_ps(sg, zg), _mm512_loadu_ps(qsum + g), offsets);
            }
            float offset = _mm512_reduce_add_ps(offsets);
            for (; g < groups; g++) offset += _cvtsh_ss(rs[g]) * _cvtsh_ss(rz[g]) * qsum[g];
            out[t * outStride + r] = _mm512_reduce_add_ps(acc) - offset;
        }
    }
}
#endif

void ck_binary_i8(const uint8_t *bits, size_t rowBytes, int row0, int row1, const int8_t *q, size_t qStride,
                  int paddedCols, int tokens, int32_t *out, size_t outStride) {
#if defined(__x86_64__)
    if (ck_has_avx512vnni()) {
        binary_avx512(bits, rowBytes, row0, row1, q, qStride, paddedCols, tokens, out, outStride);
        return;
    }
#endif
    binary_portable(bits, rowBytes, row0, row1, q, qStride, paddedCols, tokens, out, outStride);
}

void ck_int2_i8(const uint8_t *codes, size_t rowBytes, const uint16_t *scales, const uint16_t *zeros,
                int cols, int groups, int groupSize, int row0, int row1, const int8_t *qp, size_t qStride,
                int paddedCols, int tokens, float *out, size_t outStride) {
#if defined(__x86_64__)
    if (ck_has_avx512vnni() && (groupSize == 64 || groupSize == 128 || groupSize % 256 == 0)) {
        int2_avx512(codes, rowBytes, scales, zeros, cols, groups, groupSize, row0, row1, qp, qStride, paddedCols,
                    tokens, out, outStride);
        return;
    }
#endif
    int2_portable(codes, rowBytes, scales, zeros, cols, groups, groupSize, row0, row1, qp, qStride, paddedCols,
                  tokens, out, outStride);
}
