/* mem.c - allocation wrappers that keep used_memory exact.
 *
 * We link jemalloc (it replaces malloc), and count the *usable* size of each
 * block, which is what the allocator really holds: that keeps used_memory and
 * mem_fragmentation_ratio honest. The event loop runs on one thread and owns
 * a plain counter (no atomic instruction on the hot path); the lazy-free
 * thread (lazyfree.c), the only other thread that frees, marks itself with
 * memSetHelperThread and its bytes go to a second, relaxed-atomic counter
 * that memUsed adds in. A forked snapshot child has its own copy of both.
 * Must never return NULL to callers: out of memory is fatal by policy (as in
 * Redis), reported through the handler main installs. */
#include "mem.h"
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <fcntl.h>
#include <stdatomic.h>

static size_t used; /* event-loop thread only */
/* Net bytes of helper threads: they only free, so this goes negative. */
static _Atomic long long usedHelpers;
static _Thread_local int isHelper;

void memSetHelperThread(void) { isHelper = 1; }

static inline void countAdd(size_t n) {
    if (__builtin_expect(isHelper, 0)) atomic_fetch_add_explicit(&usedHelpers, (long long)n, memory_order_relaxed);
    else used += n;
}
static inline void countSub(size_t n) {
    if (__builtin_expect(isHelper, 0)) atomic_fetch_sub_explicit(&usedHelpers, (long long)n, memory_order_relaxed);
    else used -= n;
}

static void defaultOom(size_t size) {
    fprintf(stderr, "cachet: out of memory allocating %zu bytes\n", size);
    fflush(stderr);
    abort();
}
static void (*oomHandler)(size_t) = defaultOom;

void memSetOomHandler(void (*fn)(size_t)) { oomHandler = fn ? fn : defaultOom; }

void *memAlloc(size_t size) {
    void *p = malloc(size ? size : 1);
    if (!p) oomHandler(size);
    countAdd(malloc_usable_size(p));
    return p;
}

void *memCalloc(size_t size) {
    void *p = calloc(1, size ? size : 1);
    if (!p) oomHandler(size);
    countAdd(malloc_usable_size(p));
    return p;
}

void *memRealloc(void *old, size_t size) {
    if (!old) return memAlloc(size);
    size_t oldsize = malloc_usable_size(old);
    void *p = realloc(old, size ? size : 1);
    if (!p) oomHandler(size);
    countSub(oldsize);
    countAdd(malloc_usable_size(p));
    return p;
}

void memFree(void *p) {
    if (!p) return;
    countSub(malloc_usable_size(p));
    free(p);
}

size_t memUsableSize(void *p) { return p ? malloc_usable_size(p) : 0; }

#ifndef CACHET_NO_JEMALLOC
size_t nallocx(size_t size, int flags);
size_t memGoodSize(size_t size) { return nallocx(size ? size : 1, 0); }
#else
/* libc (the sanitizer builds) has no size classes to ask about: a block
 * counts as fitting only at its exact size. */
size_t memGoodSize(size_t size) { return size; }
#endif

char *memDupBytes(const void *src, size_t len) {
    char *p = memAlloc(len + 1);
    if (len) memcpy(p, src, len);
    p[len] = '\0';
    return p;
}

char *memStrdup(const char *s) { return memDupBytes(s, strlen(s)); }

/* The loop's counter still holds what helpers freed; their (negative)
 * counter takes it off. A read racing a helper's free sees it or not: both
 * are true at some instant. */
size_t memUsed(void) {
    long long helpers = atomic_load_explicit(&usedHelpers, memory_order_relaxed);
    return used + (size_t)helpers; /* unsigned wrap-around adds a negative */
}

size_t memRss(void) {
    /* /proc/self/statm field 2 is resident pages. */
    char buf[128];
    int fd = open("/proc/self/statm", O_RDONLY);
    if (fd < 0) return 0;
    ssize_t n = read(fd, buf, sizeof(buf) - 1);
    close(fd);
    if (n <= 0) return 0;
    buf[n] = '\0';
    unsigned long size, rss;
    if (sscanf(buf, "%lu %lu", &size, &rss) != 2) return 0; // NOLINT(cert-err34-c): /proc/self/statm is kernel-written decimal; the count is checked
    return (size_t)rss * (size_t)sysconf(_SC_PAGESIZE);
}

#ifndef CACHET_NO_JEMALLOC
int mallctl(const char *name, void *oldp, size_t *oldlenp, void *newp, size_t newlen);
#endif

/* Without jemalloc's background thread, dirty pages decay only when the
 * allocator is busy: an idle server kept every page its peak used (150+ MiB
 * after 10,000 clients left). Called from cron once a second, this purges
 * what the decay curve (dirty_decay_ms) says is due, as the thread would. */
void memAllocatorDecay(void) {
#ifndef CACHET_NO_JEMALLOC
    mallctl("arena.4096.decay", NULL, NULL, NULL, 0); /* 4096 = MALLCTL_ARENAS_ALL */
#endif
}

const char *memAllocatorName(void) {
#ifdef CACHET_NO_JEMALLOC
    return "libc";
#else
    return "jemalloc";
#endif
}
