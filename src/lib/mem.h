/* mem.h - heap allocation with accounting.
 *
 * Owns: the process-wide count of bytes held by the server (used_memory).
 * Every allocation the server keeps goes through here so that INFO and
 * maxmemory see an honest number. Must never abort on its own: a failed
 * allocation calls the OOM handler set by main, which logs and exits there. */
#ifndef CACHET_MEM_H
#define CACHET_MEM_H
#include <stddef.h>

void *memAlloc(size_t size);            /* caller frees with memFree */
void *memCalloc(size_t size);
void *memRealloc(void *p, size_t size);
void memFree(void *p);
char *memStrdup(const char *s);
char *memDupBytes(const void *p, size_t len); /* NUL-terminated copy */
size_t memUsableSize(void *p);
size_t memGoodSize(size_t size);        /* usable size an allocation of size bytes would get */
size_t memUsed(void);                   /* bytes currently allocated via mem* */
size_t memRss(void);                    /* resident set size read from /proc */
void memSetOomHandler(void (*fn)(size_t));
const char *memAllocatorName(void);
void memAllocatorDecay(void);
/* Called once by a thread other than the event loop's (lazyfree.c) before it
 * frees anything: its bytes are counted atomically, apart from the loop's. */
void memSetHelperThread(void);          /* return decayed dirty pages to the OS (cron) */

#endif
