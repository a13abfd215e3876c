// OpenBLAS: CBLAS for dense products, plus its thread-count controls.
#include <cblas.h>
#include <stddef.h>

// LAPACK's Cholesky factorisation and inverse, which OpenBLAS exports with the
// Fortran calling convention (every argument by pointer, and a hidden length
// for each character argument). Debian ships no LAPACKE header with it.
void dpotrf_(const char *uplo, const int *n, double *a, const int *lda, int *info, size_t uplo_len);
void dpotri_(const char *uplo, const int *n, double *a, const int *lda, int *info, size_t uplo_len);

// LAPACK's singular value decomposition, for the orthogonal factor of a small
// matrix (Procrustes): A = U Σ Vᵀ.
void dgesvd_(const char *jobu, const char *jobvt, const int *m, const int *n, double *a, const int *lda,
             double *s, double *u, const int *ldu, double *vt, const int *ldvt, double *work, const int *lwork,
             int *info, size_t jobu_len, size_t jobvt_len);
