#include "blascore.h"
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include "ckernels.h"

// OpenBLAS's own entry points, weak so that another BLAS links too. The
// dynamic init/quit pair is how a DYNAMIC_ARCH build chooses its kernel
// table; init reads OPENBLAS_CORETYPE, as at load time.
char *openblas_get_corename(void) __attribute__((weak));
void gotoblas_dynamic_init(void) __attribute__((weak));
void gotoblas_dynamic_quit(void) __attribute__((weak));

static char detected[32];

const char *ck_blas_core(void) { return openblas_get_corename ? openblas_get_corename() : ""; }
const char *ck_blas_core_detected(void) { return detected[0] ? detected : NULL; }

// Kernel sets with AVX2 or wider, which are left as OpenBLAS chose them.
static int is_modern(const char *core) {
    static const char *const modern[] = {"Haswell", "Zen", "SkylakeX", "Cooperlake", "SapphireRapids"};
    for (size_t i = 0; i < sizeof modern / sizeof *modern; i++)
        if (strcasecmp(core, modern[i]) == 0) return 1;
    return 0;
}

// Runs after OpenBLAS's own start-up (a library initialises before the code
// that links it) and before main.
__attribute__((constructor)) static void choose_blas_core(void) {
    if (!openblas_get_corename || !gotoblas_dynamic_init || !gotoblas_dynamic_quit) return;
    if (getenv("OPENBLAS_CORETYPE") || ck_path() == 0) return;
    const char *core = openblas_get_corename();
    if (!core || is_modern(core)) return;
    strncpy(detected, core, sizeof detected - 1);
    setenv("OPENBLAS_CORETYPE", ck_path() >= 2 ? "SkylakeX" : "Haswell", 1);
    gotoblas_dynamic_quit();
    gotoblas_dynamic_init();
    unsetenv("OPENBLAS_CORETYPE");
}
