/* backlog.c - the circular replication backlog (backlog.h).
 *
 * Owns: the buffer and its indices. Invariants (checked by backlogCheck
 * under CACHET_ASSERTS): 0 <= histlen <= size, 0 <= idx < size, and the
 * oldest byte lives at (idx - histlen) mod size. Must never log or touch
 * anything outside the struct: the unit test drives it alone. */
#include "backlog.h"
#include "dassert.h"
#include "mem.h"
#include <string.h>

static void backlogCheck(const backlog *b) {
    CACHET_ASSERT(b->histlen >= 0 && b->histlen <= b->size);
    CACHET_ASSERT(b->idx >= 0 && b->idx < b->size);
    (void)b;
}

backlog *backlogCreate(long long size, long long nextOffset) {
    if (size < 1) size = 1;
    backlog *b = memAlloc(sizeof(*b));
    b->buf = memAlloc((size_t)size);
    b->size = size;
    b->idx = 0;
    b->histlen = 0;
    b->firstOffset = nextOffset;
    return b;
}

void backlogFree(backlog *b) {
    if (!b) return;
    memFree(b->buf);
    memFree(b);
}

void backlogFeed(backlog *b, const char *p, size_t len) {
    /* Only the last size bytes of a huge write can survive. */
    if ((long long)len > b->size) {
        long long skip = (long long)len - b->size;
        b->firstOffset += b->histlen + skip;
        b->histlen = 0;
        p += skip;
        len = (size_t)b->size;
    }
    long long n = (long long)len;
    while (n > 0) {
        long long chunk = b->size - b->idx;
        if (chunk > n) chunk = n;
        memcpy(b->buf + b->idx, p, (size_t)chunk);
        b->idx += chunk;
        if (b->idx == b->size) b->idx = 0;
        p += chunk;
        n -= chunk;
    }
    b->histlen += (long long)len;
    if (b->histlen > b->size) {
        b->firstOffset += b->histlen - b->size;
        b->histlen = b->size;
    }
    backlogCheck(b);
}

int backlogCanServe(const backlog *b, long long from) {
    return from >= b->firstOffset && from <= b->firstOffset + b->histlen;
}

size_t backlogRead(const backlog *b, long long from, char *out, size_t cap) {
    CACHET_ASSERT(backlogCanServe(b, from));
    long long avail = b->firstOffset + b->histlen - from;
    if (avail <= 0 || cap == 0) return 0;
    if ((long long)cap < avail) avail = (long long)cap;
    long long start = b->idx - b->histlen + (from - b->firstOffset);
    start %= b->size;
    if (start < 0) start += b->size;
    size_t done = 0;
    while ((long long)done < avail) {
        long long chunk = b->size - start;
        if (chunk > avail - (long long)done) chunk = avail - (long long)done;
        memcpy(out + done, b->buf + start, (size_t)chunk);
        done += (size_t)chunk;
        start = 0;
    }
    return done;
}

void backlogResize(backlog *b, long long size) {
    if (size < 1) size = 1;
    if (size == b->size) return;
    long long keep = b->histlen < size ? b->histlen : size;
    char *nb = memAlloc((size_t)size);
    long long from = b->firstOffset + b->histlen - keep;
    size_t got = backlogRead(b, from, nb, (size_t)keep);
    memFree(b->buf);
    b->buf = nb;
    b->size = size;
    b->histlen = (long long)got;
    b->firstOffset = from;
    b->idx = (long long)got % size;
    backlogCheck(b);
}
