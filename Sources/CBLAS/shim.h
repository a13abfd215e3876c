// OpenBLAS: CBLAS for dense products, plus its thread-count controls.
#include <cblas.h>
