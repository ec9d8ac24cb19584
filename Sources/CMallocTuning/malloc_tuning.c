#include "CMallocTuning.h"
#include <stdlib.h>  // defines __GLIBC__ on glibc: test it only after a libc header
#if defined(__GLIBC__)
#include <malloc.h>
#endif

int malloc_tuning_apply(int arena_max, int trim_threshold, int mmap_threshold, int top_pad) {
#if defined(__GLIBC__)
    int ok = 1;
#ifdef M_ARENA_MAX
    if (arena_max >= 0) ok &= mallopt(M_ARENA_MAX, arena_max);
#else
    if (arena_max >= 0) ok = 0;
#endif
    if (trim_threshold >= 0) ok &= mallopt(M_TRIM_THRESHOLD, trim_threshold);
    if (mmap_threshold >= 0) ok &= mallopt(M_MMAP_THRESHOLD, mmap_threshold);
    if (top_pad >= 0) ok &= mallopt(M_TOP_PAD, top_pad);
    return ok;
#else
    (void)arena_max; (void)trim_threshold; (void)mmap_threshold; (void)top_pad;
    return 0;
#endif
}
