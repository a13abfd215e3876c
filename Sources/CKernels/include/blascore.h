// Which of OpenBLAS's kernels the dense products run on. OpenBLAS built for
// several CPUs (DYNAMIC_ARCH, as Debian ships it) picks its kernels by CPU
// model when it loads; a model newer than the library (0.3.21 and a 5th-gen
// Xeon, model 207, say) falls back to Prescott's SSE3 kernels, several times
// slower than the AVX2 or AVX-512 ones this CPU runs. When that happens, and
// OPENBLAS_CORETYPE does not say otherwise, the kernels are chosen again at
// start-up, before any product, from the instructions the CPU has: SkylakeX
// with AVX-512, Haswell with AVX2.
#ifndef BLASCORE_H
#define BLASCORE_H

// OpenBLAS's kernel set now ("SkylakeX"), or "" where the BLAS is not OpenBLAS.
const char *ck_blas_core(void);

// The set OpenBLAS had picked itself, where it was replaced; else NULL.
const char *ck_blas_core_detected(void);

#endif
