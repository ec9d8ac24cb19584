#include "CJemalloc.h"
#include <jemalloc/jemalloc.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>

// jemalloc reads this symbol at its first allocation; MALLOC_CONF in the environment is applied
// after it, so an operator's setting wins. One arena: each arena keeps its own freed pages, and
// with two (one per core) peak RSS was ~20 MiB higher, with four ~45 MiB, at the same throughput;
// the per-thread caches serve most allocations without the arena's lock. Freed pages go back
// to the kernel after 500 ms, so peak RSS stays near glibc's.
const char *malloc_conf = "narenas:1,dirty_decay_ms:500,muzzy_decay_ms:0";

const char *khuyencong_jemalloc_version(void) {
    // This thread's allocation counter moves only when jemalloc's malloc is the one in use.
    uint64_t before = 0, after = 0;
    size_t size = sizeof(before);
    if (mallctl("thread.allocated", &before, &size, NULL, 0) != 0) return NULL;
    void *volatile probe = malloc(4096);
    size = sizeof(after);
    int failed = mallctl("thread.allocated", &after, &size, NULL, 0);
    free(probe);
    if (failed != 0 || after <= before) return NULL;
    const char *version = NULL;
    size = sizeof(version);
    if (mallctl("version", &version, &size, NULL, 0) != 0) return NULL;
    return version;
}

long long khuyencong_jemalloc_option(const char *name) {
    // mallctl wants the option's exact size: ssize_t (8), unsigned (4) or bool (1).
    static const size_t sizes[] = {sizeof(int64_t), sizeof(unsigned), sizeof(bool)};
    for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
        union { int64_t s; unsigned x; bool b; } value = {0};
        size_t size = sizes[i];
        if (mallctl(name, &value, &size, NULL, 0) != 0) continue;
        if (size == sizeof(bool)) return value.b;
        if (size == sizeof(unsigned)) return value.x;
        return value.s;
    }
    return -1;
}
