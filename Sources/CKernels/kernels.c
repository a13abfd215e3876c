#include "ckernels.h"
#include <math.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <immintrin.h>

// The fastest path this CPU runs (3: AVX-512 VNNI with GFNI and VBMI, 2: AVX-512
// VNNI, 1: AVX2, 0: portable C), found once.
static int detected_path(void) {
#if defined(__x86_64__)
    static int known = -1;
    if (known < 0) {
        __builtin_cpu_init();
        int avx512 = __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw")
                     && __builtin_cpu_supports("avx512vnni") && __builtin_cpu_supports("f16c");
        known = avx512 ? (__builtin_cpu_supports("gfni") && __builtin_cpu_supports("avx512vbmi") ? 3 : 2)
                : __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma") && __builtin_cpu_supports("f16c") ? 1 : 0;
    }
    return known;
#else
    return 0;
#endif
}

static int path_limit = 3;
void ck_limit_path(int level) { path_limit = level; }
int ck_path(void) { return detected_path() < path_limit ? detected_path() : path_limit; }

static inline float half_to_float(uint16_t h) {
    _Float16 f;
    memcpy(&f, &h, 2);
    return (float)f;
}

static inline uint64_t load64(const uint8_t *p) { uint64_t v; memcpy(&v, p, 8); return v; }

// One token's rows shared among threads (ck_binary_token_shared). Share p is
// [front, back) packed in one word, on a cache line of its own: its owner
// takes pieces from the front, and a thread whose own share is done takes
// pieces from the back of the others', so that no thread waits long on a
// slower one. Rows are independent, so who computes a row changes nothing.
typedef struct { _Alignas(64) _Atomic uint64_t span; } row_share;

void ck_share_rows(void *shares, int parts, int rows) {
    row_share *s = shares;
    for (int p = 0; p < parts; p++) {
        uint64_t front = (uint64_t)rows * p / parts / 8 * 8;
        uint64_t back = p + 1 == parts ? (uint64_t)rows : (uint64_t)rows * (p + 1) / parts / 8 * 8;
        atomic_store_explicit(&s[p].span, front << 32 | back, memory_order_relaxed);
    }
}

// The next piece of at most `grain` rows for thread `part`; 0 when none is left.
static int take_rows(row_share *s, int parts, int part, int grain, int *row0, int *row1) {
    for (int k = 0; k < parts; k++) {
        row_share *share = &s[(part + k) % parts];
        uint64_t span = atomic_load_explicit(&share->span, memory_order_relaxed);
        for (;;) {
            uint32_t front = (uint32_t)(span >> 32), back = (uint32_t)span;
            if (front >= back) break;
            uint32_t cut = k == 0 ? (back - front > (uint32_t)grain ? front + grain : back)
                                  : (back - front > (uint32_t)grain ? back - grain : front);
            uint64_t taken = k == 0 ? (uint64_t)cut << 32 | back : (uint64_t)front << 32 | cut;
            if (atomic_compare_exchange_weak_explicit(&share->span, &span, taken, memory_order_relaxed,
                                                      memory_order_relaxed)) {
                *row0 = (int)(k == 0 ? front : cut);
                *row1 = (int)(k == 0 ? cut : back);
                return 1;
            }
        }
    }
    return 0;
}

// Prefetching. Decoding reads each weight once, from memory rather than cache.
// The fast paths multiply a group of rows at a time (eight or four), which at
// LLaMA's widths is one 4 KiB page of bits or codes, and the hardware
// prefetcher learns a stream only inside a page and only after some misses, so
// every group would begin with trips to memory. While one group is multiplied,
// each step of its loop asks for one share of the next group's lines, which
// are in cache when its turn comes: at LLaMA-7B's shapes this took a decoded
// token's products from 148 to 87 ms (binary) and from 358 to 155 ms (2-bit)
// on one thread of a Xeon. One group ahead is little more than one trip to
// memory of work (4 KiB of bits, about 0.3 µs on one thread at 13.5 GB/s), so
// some lines were still on their way when needed: the binary kernel's one-token
// path and the 2-bit kernel also ask for the group after next, into L2 only,
// from where the next group's requests find it. That took a further 6 % off
// BinaryMoS's products on one thread (70.3 to 65.9 ms a token) and 8 % on two
// (38.6 to 35.6), and 6 % off 2-bit's on one (paired in one process).
// Prefetches never fault; the requests past a range's last row are wasted,
// nothing more.

// Σ of the activation values over columns [c0, c1), planes joined: the
// Σ q that the fast paths' 2 · Σ_selected q − Σ q subtracts.
static inline int64_t value_sum(const int8_t *q, int paddedCols, int planes, int c0, int c1) {
    int64_t total = 0;
    for (int p = 0; p < planes; p++) {
        int32_t sum = 0;
        for (int c = c0; c < c1 && c < paddedCols; c++) sum += q[p * paddedCols + c];
        total = total * CK_LO_STEPS + sum;
    }
    return total;
}

// Rounding for ckernels.h's planes: hi = round(a · inverse), and with a second
// plane lo = round((a · inverse − hi) · CK_LO_STEPS), both to nearest, ties to
// even, as Swift's .toNearestOrEven; every value alone, so any split of the
// columns gives the same bytes.
#if defined(__x86_64__)
__attribute__((target("avx512f,avx512bw")))
static int quantize_avx512(const float *a, int count, float inverse, int8_t *hi, int8_t *lo) {
    const __m512 scale = _mm512_set1_ps(inverse), steps = _mm512_set1_ps(CK_LO_STEPS);
    int j = 0;
    for (; j + 16 <= count; j += 16) {
        __m512 u = _mm512_mul_ps(_mm512_loadu_ps(a + j), scale);
        __m512i h = _mm512_cvt_roundps_epi32(u, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
        _mm_storeu_si128((__m128i *)(hi + j), _mm512_cvtsepi32_epi8(h));
        if (lo) {
            __m512 rest = _mm512_mul_ps(_mm512_sub_ps(u, _mm512_cvtepi32_ps(h)), steps);
            __m512i l = _mm512_cvt_roundps_epi32(rest, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
            _mm_storeu_si128((__m128i *)(lo + j), _mm512_cvtsepi32_epi8(l));
        }
    }
    return j;
}

__attribute__((target("avx512f")))
static float largest_avx512(const float *a, int count, int *done) {
    __m512 m = _mm512_setzero_ps();
    int j = 0;
    for (; j + 16 <= count; j += 16) m = _mm512_max_ps(m, _mm512_abs_ps(_mm512_loadu_ps(a + j)));
    *done = j;
    return _mm512_reduce_max_ps(m);
}
#endif

float ck_largest_magnitude(const float *a, int count) {
    float m = 0;
    int j = 0;
#if defined(__x86_64__)
    if (ck_path() >= 2) m = largest_avx512(a, count, &j);
#endif
    for (; j < count; j++) m = fabsf(a[j]) > m ? fabsf(a[j]) : m;
    return m;
}

void ck_quantize(const float *a, int count, float inverse, int8_t *hi, int8_t *lo) {
    int j = 0;
#if defined(__x86_64__)
    if (ck_path() >= 2) j = quantize_avx512(a, count, inverse, hi, lo);
#endif
    for (; j < count; j++) {
        float u = a[j] * inverse, rounded = nearbyintf(u);
        hi[j] = (int8_t)rounded;
        if (lo) lo[j] = (int8_t)nearbyintf((u - rounded) * CK_LO_STEPS);
    }
}

// MARK: Portable versions

// region: binary-portable
static void binary_portable(const uint8_t *bits, size_t rowBytes, int row0, int row1, const int8_t *q,
                            size_t qStride, int paddedCols, int planes, int tokens, int32_t *out, size_t outStride) {
    for (int t = 0; t < tokens; t++) {
        for (int r = row0; r < row1; r++) {
            const uint8_t *row = bits + r * rowBytes;
            int32_t total = 0;
            for (int p = 0; p < planes; p++) {
                const int8_t *qt = q + t * qStride + p * paddedCols;
                int32_t sum = 0;
                for (int c = 0; c < paddedCols; c += 64) {
                    uint64_t word = load64(row + c / 8);
                    for (int j = 0; j < 64; j++) sum += ((word >> j) & 1) ? qt[c + j] : -qt[c + j];
                }
                total = total * CK_LO_STEPS + sum;
            }
            out[t * outStride + r] = total;
        }
    }
}
// end region: binary-portable

// region: blocks-portable
static void blocks_portable(const uint8_t *const bits[3], size_t rowBytes, int blockCols, int blocks, int row0,
                            int row1, const int8_t *q, size_t qStride, int paddedCols, int planes, int tokens,
                            int32_t *out, int outRows) {
    for (int t = 0; t < tokens; t++)
        for (int r = row0; r < row1; r++)
            for (int b = 0; b < blocks; b++)
                for (int k = 0; k < 3; k++) {
                    const uint8_t *row = bits[k] + r * rowBytes;
                    int32_t total = 0;
                    for (int p = 0; p < planes; p++) {
                        const int8_t *qt = q + t * qStride + p * paddedCols;
                        int32_t sum = 0;
                        for (int c = b * blockCols; c < (b + 1) * blockCols && c < paddedCols; c += 64) {
                            uint64_t word = load64(row + c / 8);
                            for (int j = 0; j < 64; j++) sum += ((word >> j) & 1) ? qt[c + j] : -qt[c + j];
                        }
                        total = total * CK_LO_STEPS + sum;
                    }
                    out[((t * outRows + r) * blocks + b) * 3 + k] = total;
                }
}
// end region: blocks-portable

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

// The activation the planes encode together, in units of the finest plane.
static inline int32_t q_value(const int8_t *qt, int paddedCols, int planes, int j) {
    int32_t v = 0;
    for (int p = 0; p < planes; p++) v = v * CK_LO_STEPS + q_at(qt + p * paddedCols, j);
    return v;
}

// Σ q per group of a token, for the zero points' share Σ_g scale · zero · Σ q.
static inline void group_sums(const int8_t *qt, int paddedCols, int planes, int cols, int groups, int groupSize,
                              float *qsum) {
    for (int g = 0; g < groups; g++) {
        int32_t s = 0;
        for (int j = g * groupSize; j < (g + 1) * groupSize && j < cols; j++) s += q_value(qt, paddedCols, planes, j);
        qsum[g] = (float)s;
    }
}

// region: int2-portable
static void int2_portable(const uint8_t *codes, size_t rowBytes, const uint16_t *scales, const uint16_t *zeros,
                          int cols, int groups, int groupSize, int row0, int row1, const int8_t *qp, size_t qStride,
                          int paddedCols, int planes, int tokens, float *out, size_t outStride) {
    for (int t = 0; t < tokens; t++) {
        const int8_t *qt = qp + t * qStride;
        for (int r = row0; r < row1; r++) {
            const uint8_t *row = codes + r * rowBytes;
            float sum = 0;
            for (int g = 0; g < groups; g++) {
                int32_t dot = 0, zero = (int32_t)half_to_float(zeros[r * groups + g]);
                for (int j = g * groupSize; j < (g + 1) * groupSize && j < cols; j++)
                    dot += (code_at(row, j) - zero) * q_value(qt, paddedCols, planes, j);
                sum += half_to_float(scales[r * groups + g]) * (float)dot;
            }
            out[t * outStride + r] = sum;
        }
    }
}
// end region: int2-portable

// MARK: AVX-512 VNNI versions
#if defined(__x86_64__)

// Two instructions the path-3 loops use (GFNI's affine byte map, VBMI's byte
// permute), as assembly: a template then compiles once for every AVX-512 CPU,
// and only its copies with `gfni` set, which run on path 3, execute them.
__attribute__((target("avx512f"), always_inline))
static inline __m512i affine_bytes(__m512i x, __m512i matrix) {   // y = A · x over GF(2), every byte
    __m512i y;
    __asm__("vgf2p8affineqb $0, %2, %1, %0" : "=v"(y) : "v"(x), "v"(matrix));
    return y;
}

__attribute__((target("avx512f"), always_inline))
static inline __m512i permute_bytes(__m512i x, __m512i index) {   // y[i] = x[index[i]]
    __m512i y;
    __asm__("vpermb %1, %2, %0" : "=v"(y) : "v"(x), "v"(index));
    return y;
}

// Row k's sum of v[k]'s sixteen int32 lanes, for k < 8, in lane k: halves,
// then quarters, then the lanes within each quarter added pairwise, 24
// instructions where eight separate reductions take about 70.
__attribute__((target("avx512f"), always_inline))
static inline __m256i sum_rows8(const __m512i v[8]) {
    __m512i half[4];
    for (int i = 0; i < 4; i++)   // quarters (v[2i] low, v[2i+1] low) + (v[2i] high, v[2i+1] high)
        half[i] = _mm512_add_epi32(_mm512_shuffle_i32x4(v[2 * i], v[2 * i + 1], 0x44),
                                   _mm512_shuffle_i32x4(v[2 * i], v[2 * i + 1], 0xEE));
    // Quarter k of a holds row k's partial sums (rows 0–3), of b rows 4–7.
    __m512i a = _mm512_add_epi32(_mm512_shuffle_i32x4(half[0], half[1], 0x88), _mm512_shuffle_i32x4(half[0], half[1], 0xDD));
    __m512i b = _mm512_add_epi32(_mm512_shuffle_i32x4(half[2], half[3], 0x88), _mm512_shuffle_i32x4(half[2], half[3], 0xDD));
    __m512i u = _mm512_add_epi32(_mm512_unpacklo_epi32(a, b), _mm512_unpackhi_epi32(a, b));
    u = _mm512_add_epi32(u, _mm512_shuffle_epi32(u, _MM_PERM_BADC));   // quarter k: row k, row k + 4, repeated
    return _mm512_castsi512_si256(_mm512_permutexvar_epi32(_mm512_set_epi32(0, 0, 0, 0, 0, 0, 0, 0,
                                                                            13, 9, 5, 1, 12, 8, 4, 0), u));
}

// The activations with each 64 bytes in the GFNI loop's order (byte 8L + b
// from byte 8b + L), in a buffer of the calling thread's, kept for its next call.
__attribute__((target("avx512f")))
static const int8_t *transposed_copy(const int8_t *q, int count) {
    static _Thread_local int8_t *copy;
    static _Thread_local int capacity;
    if (count > capacity) {
        free(copy);
        copy = aligned_alloc(64, (size_t)count);
        capacity = count;
    }
    uint8_t order[64];
    for (int i = 0; i < 64; i++) order[i] = (uint8_t)(8 * (i % 8) + i / 8);
    const __m512i transpose = _mm512_loadu_si512(order);
    for (int c = 0; c < count; c += 64) _mm512_store_si512(copy + c, permute_bytes(_mm512_loadu_si512(q + c), transpose));
    return copy;
}

// region: binary-avx512
// Σ_j ±q_j = 2 · Σ_{bit j set} q_j − Σ_j q_j. Every 64 columns a row's mask
// becomes 64 bytes of 0 or 1, and one VNNI dot product of those with q adds
// the selected activations, four at a time, into int32 lanes; with two planes
// the same bytes meet the second plane in a second dot product. Eight rows
// share every load of q. `planes` and `gfni` are constants where this is
// inlined, so each copy carries no trace of the other cases.
//
// Turning bits into bytes takes two of the four instructions per row and 64
// columns: the mask into a k register, then a masked move. With GFNI it takes
// one. The row's 8 mask bytes are broadcast to the eight 64-bit lanes, and an
// affine map whose matrix in lane L keeps only bit L of each byte leaves in
// byte 8L + b the bit of column 8b + L, as 0 or 1; the activations, permuted
// by the same 8 × 8 transpose (once per call, into the thread's own copy),
// meet them. At 4096 × 11008 on one thread of a Xeon (mos bench kernels) this
// took the int16 product from 9.8 to 12.0 GB/s and the int8 one from 13.2 to
// 17.5. The eight rows' sums are then reduced together (sum_rows8).
__attribute__((target("avx512f,avx512bw,avx512vnni"), always_inline))
static inline void binary_token_avx512(const uint8_t *bits, size_t rowBytes, int row0, int row1, const int8_t *hi,
                                       int paddedCols, const int planes, const int gfni, int32_t *o,
                                       row_share *shares, int parts, int part, int grain, float scale, float *f) {
    const __m512i ones = _mm512_set1_epi8(1), zero = _mm512_setzero_si512();
    const __m512i bitOfLane = _mm512_set_epi64(0x80ll << 56, 0x40ll << 56, 0x20ll << 56, 0x10ll << 56,
                                               0x08ll << 56, 0x04ll << 56, 0x02ll << 56, 0x01ll << 56);
    const int32_t total = (int32_t)value_sum(hi, paddedCols, planes, 0, paddedCols);   // mod 2³², as the sums
    if (gfni) hi = transposed_copy(hi, planes * paddedCols);
    const int8_t *lo = hi + paddedCols;
    // [row0, row1) once, or the pieces this thread takes from the shares.
    for (int more = shares ? take_rows(shares, parts, part, grain, &row0, &row1) : 1; more;
         more = shares ? take_rows(shares, parts, part, grain, &row0, &row1) : 0)
    for (int r = row0; r < row1; r += 8) {
        // A last group of fewer than eight rows repeats its final row.
        const uint8_t *b[8];
        for (int k = 0; k < 8; k++) b[k] = bits + (r + k < row1 ? r + k : r) * rowBytes;
        __m512i h[8], l[8];
        for (int k = 0; k < 8; k++) { h[k] = zero; l[k] = zero; }
        const uint8_t *next = bits + (size_t)(r + 8) * rowBytes;
        for (int c = 0; c < paddedCols; c += 64) {
            __builtin_prefetch(next + c);   // the next eight rows, a line per step, and the eight after
            __builtin_prefetch(next + 8 * rowBytes + c, 0, 2);   // them to L2 (see Prefetching, above)
            __m512i v = _mm512_loadu_si512(hi + c), w = planes == 2 ? _mm512_loadu_si512(lo + c) : zero;
            for (int k = 0; k < 8; k++) {
                __m512i selected = gfni ? affine_bytes(_mm512_set1_epi64((long long)load64(b[k] + c / 8)), bitOfLane)
                                        : _mm512_maskz_mov_epi8(load64(b[k] + c / 8), ones);
                h[k] = _mm512_dpbusd_epi32(h[k], selected, v);
                if (planes == 2) l[k] = _mm512_dpbusd_epi32(l[k], selected, w);
            }
        }
        __m256i sums = sum_rows8(h);
        if (planes == 2) sums = _mm256_add_epi32(_mm256_mullo_epi32(sums, _mm256_set1_epi32(CK_LO_STEPS)), sum_rows8(l));
        // 2 · Σ − total in int32 lanes: the result fits, so wrapping on the way changes nothing.
        sums = _mm256_sub_epi32(_mm256_slli_epi32(sums, 1), _mm256_set1_epi32(total));
        const __mmask16 written = (__mmask16)((1u << (row1 - r < 8 ? row1 - r : 8)) - 1);
        if (f) _mm512_mask_storeu_ps(f + r, written, _mm512_castps256_ps512(_mm256_mul_ps(_mm256_cvtepi32_ps(sums), _mm256_set1_ps(scale))));
        else _mm512_mask_storeu_epi32(o + r, written, _mm512_castsi256_si512(sums));
    }
}
// end region: binary-avx512

// Many tokens (the GEMM path): four tokens share each row's mask bytes, two
// rows share each load of the activations. q[i], o[i]: token i's planes and
// outputs; a block of fewer than four repeats its last token, and `count`
// says how many outputs to write.
__attribute__((target("avx512f,avx512bw,avx512vnni"), always_inline))
static inline void binary_tokens_avx512(const uint8_t *bits, size_t rowBytes, int row0, int row1,
                                        const int8_t *const q[4], int paddedCols, const int planes,
                                        int32_t *const o[4], int count) {
    const __m512i ones = _mm512_set1_epi8(1), zero = _mm512_setzero_si512();
    int64_t total[4];
    for (int t = 0; t < 4; t++) total[t] = value_sum(q[t], paddedCols, planes, 0, paddedCols);
    for (int r = row0; r < row1; r += 2) {
        const uint8_t *b[2] = {bits + r * rowBytes, bits + (r + 1 < row1 ? r + 1 : r) * rowBytes};
        __m512i h[2][4], l[2][4];
        for (int i = 0; i < 2; i++) for (int t = 0; t < 4; t++) { h[i][t] = zero; l[i][t] = zero; }
        for (int c = 0; c < paddedCols; c += 64) {
            __m512i v[4], w[4];
            for (int t = 0; t < 4; t++) {
                v[t] = _mm512_loadu_si512(q[t] + c);
                w[t] = planes == 2 ? _mm512_loadu_si512(q[t] + paddedCols + c) : zero;
            }
            for (int i = 0; i < 2; i++) {
                __m512i selected = _mm512_maskz_mov_epi8(load64(b[i] + c / 8), ones);
                for (int t = 0; t < 4; t++) {
                    h[i][t] = _mm512_dpbusd_epi32(h[i][t], selected, v[t]);
                    if (planes == 2) l[i][t] = _mm512_dpbusd_epi32(l[i][t], selected, w[t]);
                }
            }
        }
        for (int i = 0; i < 2 && r + i < row1; i++)
            for (int t = 0; t < count; t++) {
                if (planes == 2) h[i][t] = _mm512_add_epi32(_mm512_mullo_epi32(h[i][t], _mm512_set1_epi32(CK_LO_STEPS)), l[i][t]);
                o[t][r + i] = (int32_t)(2 * (int64_t)_mm512_reduce_add_epi32(h[i][t]) - total[t]);
            }
    }
}

// Per block: the three planes' masks meet the same activation loads; each
// (row, block, plane) sum is reduced once, Σ ±q = 2·Σ_{bit set} q − Σ q.
__attribute__((target("avx512f,avx512bw,avx512vnni"), always_inline))
static inline void blocks_token_avx512(const uint8_t *const bits[3], size_t rowBytes, int blockCols, int blocks,
                                       int row0, int row1, const int8_t *hi, int paddedCols, const int planes,
                                       int32_t *o) {
    const __m512i ones = _mm512_set1_epi8(1), zero = _mm512_setzero_si512();
    const int8_t *lo = hi + paddedCols;
    int64_t totals[blocks];
    for (int b = 0; b < blocks; b++) totals[b] = value_sum(hi, paddedCols, planes, b * blockCols, (b + 1) * blockCols);
    for (int r = row0; r < row1; r++) {
        const uint8_t *row[3] = {bits[0] + r * rowBytes, bits[1] + r * rowBytes, bits[2] + r * rowBytes};
        for (int b = 0; b < blocks; b++) {
            __m512i h[3] = {zero, zero, zero}, l[3] = {zero, zero, zero};
            for (int c = b * blockCols; c < (b + 1) * blockCols && c < paddedCols; c += 64) {
                __m512i v = _mm512_loadu_si512(hi + c), w = planes == 2 ? _mm512_loadu_si512(lo + c) : zero;
                for (int k = 0; k < 3; k++) {
                    __m512i selected = _mm512_maskz_mov_epi8(load64(row[k] + c / 8), ones);
                    h[k] = _mm512_dpbusd_epi32(h[k], selected, v);
                    if (planes == 2) l[k] = _mm512_dpbusd_epi32(l[k], selected, w);
                }
            }
            for (int k = 0; k < 3; k++) {
                if (planes == 2) h[k] = _mm512_add_epi32(_mm512_mullo_epi32(h[k], _mm512_set1_epi32(CK_LO_STEPS)), l[k]);
                o[(r * blocks + b) * 3 + k] = (int32_t)(2 * (int64_t)_mm512_reduce_add_epi32(h[k]) - totals[b]);
            }
        }
    }
}

__attribute__((target("avx512f,avx512bw,avx512vnni")))
static void blocks_avx512(const uint8_t *const bits[3], size_t rowBytes, int blockCols, int blocks, int row0, int row1,
                          const int8_t *q, size_t qStride, int paddedCols, int planes, int tokens, int32_t *out,
                          int outRows) {
    for (int t = 0; t < tokens; t++) {
        int32_t *o = out + (size_t)t * outRows * blocks * 3;
        if (planes == 2) blocks_token_avx512(bits, rowBytes, blockCols, blocks, row0, row1, q + t * qStride, paddedCols, 2, o);
        else blocks_token_avx512(bits, rowBytes, blockCols, blocks, row0, row1, q + t * qStride, paddedCols, 1, o);
    }
}

__attribute__((target("avx512f,avx512bw,avx512vnni")))
static void binary_token_paths(const uint8_t *bits, size_t rowBytes, int row0, int row1, const int8_t *q,
                               int paddedCols, int planes, int32_t *out, row_share *shares, int parts, int part,
                               int grain, float scale, float *f) {
    int gfni = ck_path() == 3;
    if (planes == 2 && gfni)
        binary_token_avx512(bits, rowBytes, row0, row1, q, paddedCols, 2, 1, out, shares, parts, part, grain, scale, f);
    else if (gfni)
        binary_token_avx512(bits, rowBytes, row0, row1, q, paddedCols, 1, 1, out, shares, parts, part, grain, scale, f);
    else if (planes == 2)
        binary_token_avx512(bits, rowBytes, row0, row1, q, paddedCols, 2, 0, out, shares, parts, part, grain, scale, f);
    else
        binary_token_avx512(bits, rowBytes, row0, row1, q, paddedCols, 1, 0, out, shares, parts, part, grain, scale, f);
}

__attribute__((target("avx512f,avx512bw,avx512vnni")))
static void binary_avx512(const uint8_t *bits, size_t rowBytes, int row0, int row1, const int8_t *q,
                          size_t qStride, int paddedCols, int planes, int tokens, int32_t *out, size_t outStride) {
    if (tokens == 1) {
        binary_token_paths(bits, rowBytes, row0, row1, q, paddedCols, planes, out, NULL, 0, 0, 0, 0, NULL);
        return;
    }
    for (int t0 = 0; t0 < tokens; t0 += 4) {
        int count = tokens - t0 < 4 ? tokens - t0 : 4;
        const int8_t *qs[4];
        int32_t *os[4];
        for (int i = 0; i < 4; i++) {
            int t = t0 + (i < count ? i : count - 1);
            qs[i] = q + t * qStride; os[i] = out + t * outStride;
        }
        if (planes == 2) binary_tokens_avx512(bits, rowBytes, row0, row1, qs, paddedCols, 2, os, count);
        else binary_tokens_avx512(bits, rowBytes, row0, row1, qs, paddedCols, 1, os, count);
    }
}

// Codes as unsigned bytes times activations as signed bytes: a 64-byte load
// holds 256 columns; shifting by 0, 2, 4, 6 and masking with 3 (with GFNI,
// one affine map each) gives four vectors of codes, each one VNNI dot product
// with the matching (reordered) activations, all into one vector of int32
// lanes. Lanes 4b … 4b + 3 then hold block b's sum, so one multiply by the
// blocks' group scales (16-bit, widened and spread over the lanes by a
// permute) and an add finish the 256 columns. The zero points' share,
// Σ_g scale · zero · Σ q over the group, is subtracted once per row. With two
// planes the codes, once shifted, meet both planes' activations, and the two
// sums join as hi · CK_LO_STEPS + lo before scaling. Four rows share every
// load of the activations. Needs groups of 64 or 128 columns or a multiple of
// 256, and scales readable 8 entries past each row's last.
__attribute__((target("avx512f,avx512bw,avx512vnni,f16c"), always_inline))
static inline void int2_planes_avx512(const uint8_t *codes, size_t rowBytes, const uint16_t *scales,
                                      const uint16_t *zeros, int cols, int groups, int groupSize, int row0, int row1,
                                      const int8_t *qp, size_t qStride, int paddedCols, const int planes, int tokens,
                                      float *out, size_t outStride, const int gfni) {
    const __m512i three = _mm512_set1_epi8(3), zero = _mm512_setzero_si512(), steps = _mm512_set1_epi32(CK_LO_STEPS);
    // With GFNI one affine map takes bits 2k and 2k + 1 of every byte to bits 0 and 1 (matrix
    // row i, for output bit i, is byte 7 − i), where a shift and a mask take two instructions.
    __m512i pick[4];
    for (int k = 0; k < 4; k++) pick[k] = _mm512_set1_epi64((long long)(((1ull << (2 * k)) << 56) | ((2ull << (2 * k)) << 48)));
    // Lane l (block l / 4 of the 256 columns) takes the scale of group (64 · (l / 4)) / groupSize past the first.
    int spread[16];
    for (int l = 0; l < 16; l++) spread[l] = groupSize < 256 ? (64 * (l / 4)) / groupSize : 0;
    const __m512i lanes = _mm512_loadu_si512(spread);
    float qsum[groups > 0 ? groups : 1];
    for (int t = 0; t < tokens; t++) {
        const int8_t *qt = qp + t * qStride, *lo = qt + paddedCols;
        group_sums(qt, paddedCols, planes, cols, groups, groupSize, qsum);
        for (int r = row0; r < row1; r += 4) {
            // Four rows share every load of the activations; a last group of fewer repeats its final row.
            int rows[4];
            __m512 acc[4];
            for (int i = 0; i < 4; i++) { rows[i] = r + i < row1 ? r + i : r; acc[i] = _mm512_setzero_ps(); }
            const uint8_t *next = codes + (size_t)(r + 4) * rowBytes;
            for (int c = 0; c < paddedCols; c += 256) {
                for (int i = 0; i < 4; i++) {   // the next four rows, and the four after them to L2 (Prefetching, above)
                    __builtin_prefetch(next + c + 64 * i);
                    __builtin_prefetch(next + 4 * rowBytes + c + 64 * i, 0, 2);
                }
                __m512i packed[4], dot[4], fine[4];
                for (int i = 0; i < 4; i++) { dot[i] = zero; fine[i] = zero; }
                for (int i = 0; i < 4; i++) packed[i] = _mm512_loadu_si512(codes + rows[i] * rowBytes + c / 4);
                for (int k = 0; k < 4; k++) {
                    __m512i v = _mm512_loadu_si512(qt + c + 64 * k);
                    __m512i w = planes == 2 ? _mm512_loadu_si512(lo + c + 64 * k) : zero;
                    for (int i = 0; i < 4; i++) {
                        __m512i code = gfni ? affine_bytes(packed[i], pick[k])
                                            : _mm512_and_si512(_mm512_srli_epi16(packed[i], 2 * k), three);
                        dot[i] = _mm512_dpbusd_epi32(dot[i], code, v);
                        if (planes == 2) fine[i] = _mm512_dpbusd_epi32(fine[i], code, w);
                    }
                }
                for (int i = 0; i < 4; i++) {
                    if (planes == 2) dot[i] = _mm512_add_epi32(_mm512_mullo_epi32(dot[i], steps), fine[i]);
                    const uint16_t *rs = scales + rows[i] * groups + c / groupSize;
                    __m512 s = _mm512_cvtph_ps(_mm256_castsi128_si256(_mm_loadu_si128((const __m128i *)rs)));
                    acc[i] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(dot[i]), _mm512_permutexvar_ps(lanes, s), acc[i]);
                }
            }
            for (int i = 0; i < 4 && r + i < row1; i++) {
                const uint16_t *rs = scales + rows[i] * groups, *rz = zeros + rows[i] * groups;
                __m512 offsets = _mm512_setzero_ps();
                int g = 0;
                for (; g + 16 <= groups; g += 16) {
                    __m512 sg = _mm512_cvtph_ps(_mm256_loadu_si256((const __m256i *)(rs + g)));
                    __m512 zg = _mm512_cvtph_ps(_mm256_loadu_si256((const __m256i *)(rz + g)));
                    offsets = _mm512_fmadd_ps(_mm512_mul_ps(sg, zg), _mm512_loadu_ps(qsum + g), offsets);
                }
                float offset = _mm512_reduce_add_ps(offsets);
                for (; g < groups; g++) offset += _cvtsh_ss(rs[g]) * _cvtsh_ss(rz[g]) * qsum[g];
                out[t * outStride + rows[i]] = _mm512_reduce_add_ps(acc[i]) - offset;
            }
        }
    }
}

__attribute__((target("avx512f,avx512bw,avx512vnni,f16c")))
static void int2_avx512(const uint8_t *codes, size_t rowBytes, const uint16_t *scales, const uint16_t *zeros,
                        int cols, int groups, int groupSize, int row0, int row1, const int8_t *qp, size_t qStride,
                        int paddedCols, int planes, int tokens, float *out, size_t outStride) {
    if (ck_path() == 3 && planes == 2)
        int2_planes_avx512(codes, rowBytes, scales, zeros, cols, groups, groupSize, row0, row1, qp, qStride,
                           paddedCols, 2, tokens, out, outStride, 1);
    else if (ck_path() == 3)
        int2_planes_avx512(codes, rowBytes, scales, zeros, cols, groups, groupSize, row0, row1, qp, qStride,
                           paddedCols, 1, tokens, out, outStride, 1);
    else if (planes == 2)
        int2_planes_avx512(codes, rowBytes, scales, zeros, cols, groups, groupSize, row0, row1, qp, qStride,
                           paddedCols, 2, tokens, out, outStride, 0);
    else
        int2_planes_avx512(codes, rowBytes, scales, zeros, cols, groups, groupSize, row0, row1, qp, qStride,
                           paddedCols, 1, tokens, out, outStride, 0);
}

// MARK: AVX2 versions (no AVX-512: most laptops, AMD before Zen 4)

// region: binary-avx2
// 32 columns at a time. A row's 32 sign bits become 32 bytes of 0xFF or 0
// (broadcast them, move mask byte j / 8 under byte j, compare with bit j % 8),
// which keep the selected activations; maddubs adds those in pairs into int16
// lanes, widened to int32 every 2,048 columns, before 64 pair sums of at most
// 2 · 127 could pass 2¹⁵. Then Σ ±q = 2 · Σ_selected q − Σ q, as above.
__attribute__((target("avx2"), always_inline))
static inline __m256i selected_avx2(const uint8_t *p) {
    uint32_t m;
    memcpy(&m, p, 4);
    const __m256i spread = _mm256_setr_epi8(0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 1, 1, 1,
                                            2, 2, 2, 2, 2, 2, 2, 2, 3, 3, 3, 3, 3, 3, 3, 3);
    const __m256i bit = _mm256_set1_epi64x((long long)0x8040201008040201ULL);
    __m256i bytes = _mm256_shuffle_epi8(_mm256_set1_epi32((int)m), spread);
    return _mm256_cmpeq_epi8(_mm256_and_si256(bytes, bit), bit);
}

__attribute__((target("avx2"), always_inline))
static inline int64_t sum_avx2(__m256i v) {
    __m128i s = _mm_add_epi32(_mm256_castsi256_si128(v), _mm256_extracti128_si256(v, 1));
    s = _mm_add_epi32(s, _mm_shuffle_epi32(s, 0x4E));
    s = _mm_add_epi32(s, _mm_shuffle_epi32(s, 0xB1));
    return _mm_cvtsi128_si32(s);
}

// out[k] = Σ over columns [c0, c1) whose bit is set in rows[k] of the
// activation value (planes joined), for K rows that share every load of q.
__attribute__((target("avx2"), always_inline))
static inline void selected_sums_avx2(const uint8_t *const rows[4], const int K, const int8_t *hi, int paddedCols,
                                      int c0, int c1, const int planes, const uint8_t *next, int64_t out[4]) {
    const __m256i ones8 = _mm256_set1_epi8(1), ones16 = _mm256_set1_epi16(1), zero = _mm256_setzero_si256();
    const int8_t *lo = hi + paddedCols;
    __m256i h[4], l[4];
    for (int k = 0; k < K; k++) { h[k] = zero; l[k] = zero; }
    for (int a = c0; a < c1; a += 2048) {
        const int end = a + 2048 < c1 ? a + 2048 : c1;
        __m256i h16[4], l16[4];
        for (int k = 0; k < K; k++) { h16[k] = zero; l16[k] = zero; }
        for (int c = a; c < end; c += 32) {
            if (next && c % 128 == 0) __builtin_prefetch(next + c / 2);   // four rows' line per 128 columns (Prefetching, above)
            __m256i v = _mm256_loadu_si256((const __m256i *)(hi + c));
            __m256i w = planes == 2 ? _mm256_loadu_si256((const __m256i *)(lo + c)) : zero;
            for (int k = 0; k < K; k++) {
                __m256i s = selected_avx2(rows[k] + c / 8);
                h16[k] = _mm256_add_epi16(h16[k], _mm256_maddubs_epi16(ones8, _mm256_and_si256(s, v)));
                if (planes == 2) l16[k] = _mm256_add_epi16(l16[k], _mm256_maddubs_epi16(ones8, _mm256_and_si256(s, w)));
            }
        }
        for (int k = 0; k < K; k++) {
            h[k] = _mm256_add_epi32(h[k], _mm256_madd_epi16(h16[k], ones16));
            if (planes == 2) l[k] = _mm256_add_epi32(l[k], _mm256_madd_epi16(l16[k], ones16));
        }
    }
    for (int k = 0; k < K; k++) out[k] = planes == 2 ? sum_avx2(h[k]) * CK_LO_STEPS + sum_avx2(l[k]) : sum_avx2(h[k]);
}

// Four rows at a time; a last group of fewer repeats its final row.
__attribute__((target("avx2"), always_inline))
static inline void binary_token_avx2(const uint8_t *bits, size_t rowBytes, int row0, int row1, const int8_t *q,
                                     int paddedCols, const int planes, int32_t *o) {
    const int64_t total = value_sum(q, paddedCols, planes, 0, paddedCols);
    for (int r = row0; r < row1; r += 4) {
        const uint8_t *rows[4];
        for (int k = 0; k < 4; k++) rows[k] = bits + (r + k < row1 ? r + k : r) * rowBytes;
        int64_t s[4];
        selected_sums_avx2(rows, 4, q, paddedCols, 0, paddedCols, planes, bits + (size_t)(r + 4) * rowBytes, s);
        for (int k = 0; k < 4 && r + k < row1; k++) o[r + k] = (int32_t)(2 * s[k] - total);
    }
}
// end region: binary-avx2

__attribute__((target("avx2")))
static void binary_avx2(const uint8_t *bits, size_t rowBytes, int row0, int row1, const int8_t *q,
                        size_t qStride, int paddedCols, int planes, int tokens, int32_t *out, size_t outStride) {
    for (int t = 0; t < tokens; t++) {
        if (planes == 2) binary_token_avx2(bits, rowBytes, row0, row1, q + t * qStride, paddedCols, 2, out + t * outStride);
        else binary_token_avx2(bits, rowBytes, row0, row1, q + t * qStride, paddedCols, 1, out + t * outStride);
    }
}

// The three sign planes of a row share each block's activation loads.
__attribute__((target("avx2"), always_inline))
static inline void blocks_token_avx2(const uint8_t *const bits[3], size_t rowBytes, int blockCols, int blocks,
                                     int row0, int row1, const int8_t *q, int paddedCols, const int planes,
                                     int32_t *o) {
    int64_t totals[blocks];
    for (int b = 0; b < blocks; b++) totals[b] = value_sum(q, paddedCols, planes, b * blockCols, (b + 1) * blockCols);
    for (int r = row0; r < row1; r++) {
        const uint8_t *rows[4] = {bits[0] + r * rowBytes, bits[1] + r * rowBytes, bits[2] + r * rowBytes, NULL};
        for (int b = 0; b < blocks; b++) {
            const int c1 = (b + 1) * blockCols < paddedCols ? (b + 1) * blockCols : paddedCols;
            int64_t s[4];
            selected_sums_avx2(rows, 3, q, paddedCols, b * blockCols, c1, planes, NULL, s);
            for (int k = 0; k < 3; k++) o[(r * blocks + b) * 3 + k] = (int32_t)(2 * s[k] - totals[b]);
        }
    }
}

__attribute__((target("avx2")))
static void blocks_avx2(const uint8_t *const bits[3], size_t rowBytes, int blockCols, int blocks, int row0, int row1,
                        const int8_t *q, size_t qStride, int paddedCols, int planes, int tokens, int32_t *out,
                        int outRows) {
    for (int t = 0; t < tokens; t++) {
        int32_t *o = out + (size_t)t * outRows * blocks * 3;
        if (planes == 2) blocks_token_avx2(bits, rowBytes, blockCols, blocks, row0, row1, q + t * qStride, paddedCols, 2, o);
        else blocks_token_avx2(bits, rowBytes, blockCols, blocks, row0, row1, q + t * qStride, paddedCols, 1, o);
    }
}

// region: int2-avx2
// The AVX-512 loop's plan in 256-bit registers: a 32-byte load holds two
// blocks (128 columns) of codes, and each of the four shifts meets the
// matching 32 (reordered) activations in maddubs. The 16-bit pair sums, at
// most 4 · 2 · 3 · 127 after the four shifts, widen once to int32 lanes:
// lanes 0–3 hold the first block's sum and lanes 4–7 the second's, each then
// multiplied by its group's scale. Four rows share every load of the activations.
__attribute__((target("avx2,fma,f16c"), always_inline))
static inline void int2_planes_avx2(const uint8_t *codes, size_t rowBytes, const uint16_t *scales,
                                    const uint16_t *zeros, int cols, int groups, int groupSize, int row0, int row1,
                                    const int8_t *qp, size_t qStride, int paddedCols, const int planes, int tokens,
                                    float *out, size_t outStride) {
    const __m256i three = _mm256_set1_epi8(3), ones16 = _mm256_set1_epi16(1), zero = _mm256_setzero_si256();
    const __m256i steps = _mm256_set1_epi32(CK_LO_STEPS);
    float qsum[groups > 0 ? groups : 1];
    for (int t = 0; t < tokens; t++) {
        const int8_t *qt = qp + t * qStride, *lo = qt + paddedCols;
        group_sums(qt, paddedCols, planes, cols, groups, groupSize, qsum);
        for (int r = row0; r < row1; r += 4) {
            int rows[4];
            __m256 acc[4];
            for (int i = 0; i < 4; i++) { rows[i] = r + i < row1 ? r + i : r; acc[i] = _mm256_setzero_ps(); }
            const uint8_t *next = codes + (size_t)(r + 4) * rowBytes;
            for (int c = 0; c < paddedCols; c += 128) {
                __builtin_prefetch(next + c); __builtin_prefetch(next + c + 64);   // the next four rows (Prefetching, above)
                const int h = (c % 256) / 128, base = c - 128 * h;   // which half of its 256 columns
                __m256i packed[4], dot[4], fine[4];
                for (int i = 0; i < 4; i++) {
                    packed[i] = _mm256_loadu_si256((const __m256i *)(codes + rows[i] * rowBytes + c / 4));
                    dot[i] = zero; fine[i] = zero;
                }
                for (int k = 0; k < 4; k++) {
                    __m256i v = _mm256_loadu_si256((const __m256i *)(qt + base + 64 * k + 32 * h));
                    __m256i w = planes == 2 ? _mm256_loadu_si256((const __m256i *)(lo + base + 64 * k + 32 * h)) : zero;
                    for (int i = 0; i < 4; i++) {
                        __m256i code = _mm256_and_si256(_mm256_srli_epi16(packed[i], 2 * k), three);
                        dot[i] = _mm256_add_epi16(dot[i], _mm256_maddubs_epi16(code, v));
                        if (planes == 2) fine[i] = _mm256_add_epi16(fine[i], _mm256_maddubs_epi16(code, w));
                    }
                }
                for (int i = 0; i < 4; i++) {
                    __m256i d = _mm256_madd_epi16(dot[i], ones16);
                    if (planes == 2) d = _mm256_add_epi32(_mm256_mullo_epi32(d, steps), _mm256_madd_epi16(fine[i], ones16));
                    const uint16_t *rs = scales + rows[i] * groups;
                    __m256 s = _mm256_set_m128(_mm_set1_ps(_cvtsh_ss(rs[(c + 64) / groupSize])),
                                               _mm_set1_ps(_cvtsh_ss(rs[c / groupSize])));
                    acc[i] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(d), s, acc[i]);
                }
            }
            for (int i = 0; i < 4 && r + i < row1; i++) {
                const uint16_t *rs = scales + rows[i] * groups, *rz = zeros + rows[i] * groups;
                float offset = 0;
                for (int g = 0; g < groups; g++) offset += _cvtsh_ss(rs[g]) * _cvtsh_ss(rz[g]) * qsum[g];
                __m128 s = _mm_add_ps(_mm256_castps256_ps128(acc[i]), _mm256_extractf128_ps(acc[i], 1));
                s = _mm_add_ps(s, _mm_movehl_ps(s, s));
                s = _mm_add_ss(s, _mm_movehdup_ps(s));
                out[t * outStride + rows[i]] = _mm_cvtss_f32(s) - offset;
            }
        }
    }
}
// end region: int2-avx2

__attribute__((target("avx2,fma,f16c")))
static void int2_avx2(const uint8_t *codes, size_t rowBytes, const uint16_t *scales, const uint16_t *zeros,
                      int cols, int groups, int groupSize, int row0, int row1, const int8_t *qp, size_t qStride,
                      int paddedCols, int planes, int tokens, float *out, size_t outStride) {
    if (planes == 2)
        int2_planes_avx2(codes, rowBytes, scales, zeros, cols, groups, groupSize, row0, row1, qp, qStride,
                         paddedCols, 2, tokens, out, outStride);
    else
        int2_planes_avx2(codes, rowBytes, scales, zeros, cols, groups, groupSize, row0, row1, qp, qStride,
                         paddedCols, 1, tokens, out, outStride);
}
#endif

void ck_binary_i8(const uint8_t *bits, size_t rowBytes, int row0, int row1, const int8_t *q, size_t qStride,
                  int paddedCols, int planes, int tokens, int32_t *out, size_t outStride) {
#if defined(__x86_64__)
    if (ck_path() >= 2) {
        binary_avx512(bits, rowBytes, row0, row1, q, qStride, paddedCols, planes, tokens, out, outStride);
        return;
    }
    if (ck_path() == 1) {
        binary_avx2(bits, rowBytes, row0, row1, q, qStride, paddedCols, planes, tokens, out, outStride);
        return;
    }
#endif
    binary_portable(bits, rowBytes, row0, row1, q, qStride, paddedCols, planes, tokens, out, outStride);
}

void ck_binary_token_shared(const uint8_t *bits, size_t rowBytes, const int8_t *q, int paddedCols, int planes,
                            float scale, float *out, void *shares, int parts, int part) {
    // Pieces of about 64 KiB of bits: a few microseconds each, so a claim costs little and a
    // slower thread leaves at most that much to wait for.
    int grain = (int)(65536 / rowBytes) / 8 * 8;
    grain = grain < 8 ? 8 : grain;
#if defined(__x86_64__)
    if (ck_path() >= 2) {
        binary_token_paths(bits, rowBytes, 0, 0, q, paddedCols, planes, NULL, shares, parts, part, grain, scale, out);
        return;
    }
#endif
    int row0, row1;
    while (take_rows(shares, parts, part, grain, &row0, &row1)) {
        // The sums in out's place, then scaled there.
        ck_binary_i8(bits, rowBytes, row0, row1, q, 0, paddedCols, planes, 1, (int32_t *)(void *)out, 0);
        for (int r = row0; r < row1; r++) {
            int32_t sum;
            memcpy(&sum, out + r, 4);
            out[r] = (float)sum * scale;
        }
    }
}

void ck_binary_blocks_i8(const uint8_t *const bits[3], size_t rowBytes, int blockCols, int blocks, int row0, int row1,
                         const int8_t *q, size_t qStride, int paddedCols, int planes, int tokens,
                         int32_t *out, int outRows) {
#if defined(__x86_64__)
    if (ck_path() >= 2) {
        blocks_avx512(bits, rowBytes, blockCols, blocks, row0, row1, q, qStride, paddedCols, planes, tokens, out, outRows);
        return;
    }
    if (ck_path() == 1) {
        blocks_avx2(bits, rowBytes, blockCols, blocks, row0, row1, q, qStride, paddedCols, planes, tokens, out, outRows);
        return;
    }
#endif
    blocks_portable(bits, rowBytes, blockCols, blocks, row0, row1, q, qStride, paddedCols, planes, tokens, out, outRows);
}

void ck_int2_i8(const uint8_t *codes, size_t rowBytes, const uint16_t *scales, const uint16_t *zeros,
                int cols, int groups, int groupSize, int row0, int row1, const int8_t *qp, size_t qStride,
                int paddedCols, int planes, int tokens, float *out, size_t outStride) {
#if defined(__x86_64__)
    if (ck_path() >= 2 && (groupSize == 64 || groupSize == 128 || groupSize % 256 == 0)) {
        int2_avx512(codes, rowBytes, scales, zeros, cols, groups, groupSize, row0, row1, qp, qStride, paddedCols,
                    planes, tokens, out, outStride);
        return;
    }
    if (ck_path() == 1) {
        int2_avx2(codes, rowBytes, scales, zeros, cols, groups, groupSize, row0, row1, qp, qStride, paddedCols,
                  planes, tokens, out, outStride);
        return;
    }
#endif
    int2_portable(codes, rowBytes, scales, zeros, cols, groups, groupSize, row0, row1, qp, qStride, paddedCols,
                  planes, tokens, out, outStride);
}
