#ifndef CMALLOC_TUNING_H
#define CMALLOC_TUNING_H
// glibc's mallopt, which Swift cannot call: malloc.h is not part of Swift's Glibc module.

/// Sets M_ARENA_MAX, M_TRIM_THRESHOLD, M_MMAP_THRESHOLD and M_TOP_PAD; a negative value leaves
/// that setting alone. Returns 1 when every setting asked for was accepted (0 off glibc).
int malloc_tuning_apply(int arena_max, int trim_threshold, int mmap_threshold, int top_pad);

#endif
