#ifndef CJEMALLOC_H
#define CJEMALLOC_H

#include <stddef.h>

/// jemalloc's version string when it serves this process's allocations, else NULL.
const char *khuyencong_jemalloc_version(void);

/// An option jemalloc runs with (`opt.narenas`, …) read through mallctl; -1 when unknown.
long long khuyencong_jemalloc_option(const char *name);

#endif
