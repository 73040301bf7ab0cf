/* stream.c - the stream encoding (see stream.h): Redis 7.0 listpack nodes
 * with master-entry field compression, an ordered node index, append,
 * delete, trim, iteration and node validation for RDB.
 *
 * Owns: every byte of a stream's nodes. The listpack primitives here write
 * the exact Redis format (smallest integer / string encoding, backwards
 * entry length) because snapshots and DUMP carry nodes unchanged.
 * Must never: read past a node's end (nodes from files are validated first),
 * block (no operation here is worse than the entries it touches), or reply
 * to a client (t_stream.c does). */
#include "stream.h"
#include "db.h"
#include "stream_cg.h"
#include "lpack.h"
#include "mem.h"
#include "util.h"
#include <stdio.h>
#include <string.h>

/* ======================================================================== */
/* Redis listpack primitives                                                */
/* ======================================================================== */

#define SLP_HDR 6
#define SLP_EOF 0xFF
#define SLP_PREALLOC 4096

static uint64_t le(const unsigned char *p, int n) {
    uint64_t v = 0;
    for (int i = n - 1; i >= 0; i--) v = v << 8 | p[i];
    return v;
}
static void setLe(unsigned char *p, uint64_t v, int n) {
    for (int i = 0; i < n; i++) p[i] = (unsigned char)(v >> (8 * i));
}

size_t streamNodeBytes(const unsigned char *lp) { return (size_t)le(lp, 4); }

static size_t backlenSize(size_t l) { return l <= 127 ? 1 : l < 16383 ? 2 : l < 2097151 ? 3 : l < 268435455 ? 4 : 5; }

/* Encoding + payload size of the element at p. */
static size_t encLen(const unsigned char *p) {
    unsigned char b = p[0];
    if ((b & 0x80) == 0) return 1;
    if ((b & 0xC0) == 0x80) return 1 + (size_t)(b & 0x3f);
    if ((b & 0xE0) == 0xC0) return 2;
    if ((b & 0xF0) == 0xE0) return 2 + ((size_t)(b & 0x0f) << 8 | p[1]);
    switch (b) {
    case 0xF0: return 5 + (size_t)le(p + 1, 4);
    case 0xF1: return 3;
    case 0xF2: return 4;
    case 0xF3: return 5;
    default: return 9; /* 0xF4 */
    }
}

static unsigned char *slpFirst(unsigned char *lp) { return lp[SLP_HDR] == SLP_EOF ? NULL : lp + SLP_HDR; }

static unsigned char *slpNext(unsigned char *p) {
    if (!p) return NULL; /* callers only pass elements that exist; the analyzer cannot see it */
    size_t l = encLen(p);
    p += l + backlenSize(l);
    return *p == SLP_EOF ? NULL : p;
}

/* p may point at the EOF byte (then: the last element). */
static unsigned char *slpPrev(unsigned char *lp, unsigned char *p) {
    if (p == lp + SLP_HDR) return NULL;
    unsigned char *q = p - 1;
    uint64_t l = 0, shift = 0;
    for (;;) {
        l |= (uint64_t)(q[0] & 127) << shift;
        if (!(q[0] & 128)) break;
        shift += 7;
        q--;
    }
    return p - backlenSize((size_t)l) - l;
}

static unsigned char *slpLast(unsigned char *lp) { return slpPrev(lp, lp + streamNodeBytes(lp) - 1); }

static int64_t signExt(uint64_t v, int bits) {
    if (bits < 64 && (v >> (bits - 1)) & 1) v |= ~(uint64_t)0 << bits;
    return (int64_t)v;
}

/* The element at p: 1 with *v for an integer, 0 with *s and *len for a string. */
static int slpRaw(const unsigned char *p, int64_t *v, const char **s, size_t *len) {
    unsigned char b = p[0];
    if ((b & 0x80) == 0) return *v = b & 0x7f, 1;
    if ((b & 0xC0) == 0x80) return *s = (const char *)p + 1, *len = b & 0x3f, 0;
    if ((b & 0xE0) == 0xC0) return *v = signExt((uint64_t)(b & 0x1f) << 8 | p[1], 13), 1;
    if ((b & 0xF0) == 0xE0) return *s = (const char *)p + 2, *len = (size_t)(b & 0x0f) << 8 | p[1], 0;
    switch (b) {
    case 0xF0: return *s = (const char *)p + 5, *len = (size_t)le(p + 1, 4), 0;
    case 0xF1: return *v = signExt(le(p + 1, 2), 16), 1;
    case 0xF2: return *v = signExt(le(p + 1, 3), 24), 1;
    case 0xF3: return *v = signExt(le(p + 1, 4), 32), 1;
    default: return *v = (int64_t)le(p + 1, 8), 1;
    }
}

static int64_t slpInt(const unsigned char *p) {
    int64_t v = 0;
    const char *s;
    size_t len;
    long long ll = 0;
    if (slpRaw(p, &v, &s, &len)) return v;
    /* Validated nodes hold integers where integers belong: a string here
     * can only be a canonical number Redis chose to keep as text. */
    string2ll(s, len, &ll);
    return ll;
}

static const char *slpGet(const unsigned char *p, char *buf, size_t *len) {
    int64_t v;
    const char *s;
    if (slpRaw(p, &v, &s, len)) {
        *len = (size_t)ll2string(buf, LP_INTBUF_SIZE, v);
        return buf;
    }
    return s;
}

/* Encodes v as Redis' lpEncodeIntegerGetType: the smallest form. */
static size_t encInt(unsigned char *h, int64_t v) {
    uint64_t u = (uint64_t)v;
    if (v >= 0 && v <= 127) {
        h[0] = (unsigned char)v;
        return 1;
    }
    if (v >= -4096 && v <= 4095) {
        u &= 0x1fff;
        h[0] = (unsigned char)(0xC0 | (u >> 8));
        h[1] = (unsigned char)u;
        return 2;
    }
    int bytes = v >= -32768 && v <= 32767       ? 2
                : v >= -8388608 && v <= 8388607 ? 3
                : v >= INT32_MIN && v <= INT32_MAX ? 4
                                                   : 8;
    h[0] = bytes == 2 ? 0xF1 : bytes == 3 ? 0xF2 : bytes == 4 ? 0xF3 : 0xF4;
    setLe(h + 1, u, bytes);
    return 1 + (size_t)bytes;
}

static size_t encStrHdr(unsigned char *h, size_t len) {
    if (len < 64) {
        h[0] = (unsigned char)(0x80 | len);
        return 1;
    }
    if (len < 4096) {
        h[0] = (unsigned char)(0xE0 | (len >> 8));
        h[1] = (unsigned char)len;
        return 2;
    }
    h[0] = 0xF0;
    setLe(h + 1, len, 4);
    return 5;
}

static void writeBacklen(unsigned char *p, size_t l) {
    size_t bl = backlenSize(l);
    for (size_t i = 0; i < bl; i++) {
        unsigned char b = (unsigned char)((l >> (7 * (bl - 1 - i))) & 127);
        p[i] = (unsigned char)(i ? b | 128 : b);
    }
}

static unsigned char *slpNew(size_t prealloc) {
    if (prealloc < SLP_HDR + 1) prealloc = SLP_HDR + 1;
    unsigned char *lp = memAlloc(prealloc);
    setLe(lp, SLP_HDR + 1, 4);
    setLe(lp + 4, 0, 2);
    lp[SLP_HDR] = SLP_EOF;
    return lp;
}

static void slpCountAdd(unsigned char *lp) {
    uint64_t c = le(lp + 4, 2);
    if (c < 65535) setLe(lp + 4, c + 1, 2); /* 65535: Redis counts by walking */
}

static unsigned char *slpEnsure(unsigned char *lp, size_t need) {
    size_t have = memUsableSize(lp);
    if (need <= have) return lp;
    size_t grow = need + need / 2;
    return memRealloc(lp, grow);
}

/* Appends an element with header h[0..hl) and payload s[0..sl). */
static unsigned char *slpAppendRaw(unsigned char *lp, const unsigned char *h, size_t hl, const char *s, size_t sl) {
    size_t total = streamNodeBytes(lp), l = hl + sl, add = l + backlenSize(l);
    lp = slpEnsure(lp, total + add);
    unsigned char *p = lp + total - 1;
    memcpy(p, h, hl);
    if (sl) memcpy(p + hl, s, sl);
    writeBacklen(p + l, l);
    p[add] = SLP_EOF;
    setLe(lp, total + add, 4);
    slpCountAdd(lp);
    return lp;
}

static unsigned char *slpAppendInt(unsigned char *lp, int64_t v) {
    unsigned char h[9];
    size_t hl = encInt(h, v);
    return slpAppendRaw(lp, h, hl, NULL, 0);
}

/* Strings that are canonical integers go in as integers, as Redis' lpAppend. */
static unsigned char *slpAppendStr(unsigned char *lp, const char *s, size_t len) {
    long long ll;
    if (len > 0 && len < LONG_STR_SIZE && string2ll(s, len, &ll)) return slpAppendInt(lp, ll);
    unsigned char h[5];
    size_t hl = encStrHdr(h, len);
    return slpAppendRaw(lp, h, hl, s, len);
}

/* Replaces the integer at *pp with v (the tail moves when the size changes). */
static unsigned char *slpReplaceInt(unsigned char *lp, unsigned char **pp, int64_t v) {
    unsigned char h[9], *p = *pp;
    if (!p) return lp;
    size_t nl = encInt(h, v), ol = encLen(p);
    size_t oldSize = ol + backlenSize(ol), newSize = nl + backlenSize(nl), total = streamNodeBytes(lp);
    size_t off = (size_t)(p - lp);
    if (newSize != oldSize) {
        size_t tail = total - off - oldSize;
        if (newSize > oldSize) lp = slpEnsure(lp, total + newSize - oldSize);
        p = lp + off;
        memmove(p + newSize, p + oldSize, tail);
        setLe(lp, total + newSize - oldSize, 4);
    }
    memcpy(p, h, nl);
    writeBacklen(p + nl, nl);
    *pp = p;
    return lp;
}

static unsigned char *slpShrink(unsigned char *lp) {
    size_t total = streamNodeBytes(lp);
    if (memUsableSize(lp) > total) lp = memRealloc(lp, total);
    return lp;
}

/* ======================================================================== */
/* ids                                                                      */
/* ======================================================================== */

int streamCompareID(const streamID *a, const streamID *b) {
    if (a->ms != b->ms) return a->ms > b->ms ? 1 : -1;
    if (a->seq != b->seq) return a->seq > b->seq ? 1 : -1;
    return 0;
}

int streamIncrID(streamID *id) {
    if (id->seq == UINT64_MAX) {
        if (id->ms == UINT64_MAX) {
            id->ms = id->seq = 0;
            return -1;
        }
        id->ms++;
        id->seq = 0;
    } else {
        id->seq++;
    }
    return 0;
}

int streamDecrID(streamID *id) {
    if (id->seq == 0) {
        if (id->ms == 0) {
            id->ms = id->seq = UINT64_MAX;
            return -1;
        }
        id->ms--;
        id->seq = UINT64_MAX;
    } else {
        id->seq--;
    }
    return 0;
}

int streamFormatID(char *buf, const streamID *id) {
    return snprintf(buf, 42, "%llu-%llu", (unsigned long long)id->ms, (unsigned long long)id->seq);
}

/* ======================================================================== */
/* the stream                                                               */
/* ======================================================================== */

stream *streamNew(void) {
    stream *s = memAlloc(sizeof(*s));
    memset(s, 0, sizeof(*s));
    return s;
}

void streamFree(stream *s) {
    if (!s) return;
    for (size_t i = 0; i < s->nnodes; i++) memFree(s->nodes[i].lp);
    memFree(s->nodes);
    streamCGsFree(s->cgroups);
    memFree(s);
}

stream *streamDup(const stream *s) {
    stream *n = streamNew();
    *n = *s;
    n->nodes = NULL;
    n->nnodes = n->cap = 0;
    n->cgroups = s->cgroups ? streamCGsDup(s->cgroups) : NULL;
    if (s->nnodes) {
        n->nodes = memAlloc(s->nnodes * sizeof(*n->nodes));
        n->cap = n->nnodes = s->nnodes;
        for (size_t i = 0; i < s->nnodes; i++) {
            size_t b = streamNodeBytes(s->nodes[i].lp);
            n->nodes[i].master = s->nodes[i].master;
            n->nodes[i].lp = memAlloc(b);
            memcpy(n->nodes[i].lp, s->nodes[i].lp, b);
        }
    }
    return n;
}

size_t streamMemory(const stream *s) {
    size_t total = memUsableSize((void *)s);
    if (s->cgroups) total += streamCGsMemory(s->cgroups);
    if (!s->nodes) return total;
    total += memUsableSize(s->nodes);
    for (size_t i = 0; i < s->nnodes; i++) total += memUsableSize(s->nodes[i].lp);
    return total;
}

void streamAddNode(stream *s, const streamID *master, unsigned char *lp) {
    if (s->nnodes == s->cap) {
        s->cap = s->cap ? s->cap * 2 : 4;
        s->nodes = memRealloc(s->nodes, s->cap * sizeof(*s->nodes));
    }
    s->nodes[s->nnodes].master = *master;
    s->nodes[s->nnodes].lp = lp;
    s->nnodes++;
}

static void removeNodes(stream *s, size_t from, size_t n) {
    for (size_t i = from; i < from + n; i++) memFree(s->nodes[i].lp);
    memmove(s->nodes + from, s->nodes + from + n, (s->nnodes - from - n) * sizeof(*s->nodes));
    s->nnodes -= n;
    /* Give memory back when most of the index went (a trimmed stream). */
    if (s->cap > 16 && s->nnodes < s->cap / 4) {
        s->cap = s->nnodes < 4 ? 4 : s->nnodes * 2;
        s->nodes = memRealloc(s->nodes, s->cap * sizeof(*s->nodes));
    }
}

/* Index of the last node whose master id is <= id, or -1. */
static long findNode(const stream *s, const streamID *id) {
    long lo = 0, hi = (long)s->nnodes - 1, found = -1;
    while (lo <= hi) {
        long mid = lo + (hi - lo) / 2;
        if (streamCompareID(&s->nodes[mid].master, id) <= 0) {
            found = mid;
            lo = mid + 1;
        } else {
            hi = mid - 1;
        }
    }
    return found;
}

/* The position of the first entry's flags, after the master entry. */
static unsigned char *firstEntry(unsigned char *lp, int64_t *masterFields, unsigned char **field0) {
    unsigned char *p = slpFirst(lp); /* count */
    p = slpNext(p);                  /* deleted */
    p = slpNext(p);                  /* num-fields */
    int64_t mf = slpInt(p);
    if (masterFields) *masterFields = mf;
    p = slpNext(p);
    if (field0) *field0 = p;
    for (int64_t i = 0; i < mf; i++) p = slpNext(p);
    return slpNext(p); /* past the master terminator */
}

int streamAppend(stream *s, const streamField *fv, int64_t nfields, streamID *added, const streamID *useId,
                 int seqGiven, long long maxBytes, long long maxEntries, long long nowMs) {
    streamID id;
    if (useId) {
        if (!seqGiven && s->lastId.ms == useId->ms) {
            /* ms-*: the next sequence of the last id's millisecond */
            if (s->lastId.seq == UINT64_MAX) return -1;
            id = s->lastId;
            id.seq++;
        } else {
            id = *useId;
        }
    } else {
        uint64_t ms = (uint64_t)nowMs;
        if (ms > s->lastId.ms) {
            id.ms = ms;
            id.seq = 0;
        } else {
            id = s->lastId;
            streamIncrID(&id);
        }
    }
    if (streamCompareID(&id, &s->lastId) <= 0) return -1;

    size_t totelelen = 0;
    for (int64_t i = 0; i < nfields * 2; i++) totelelen += fv[i].len;
    if (totelelen > STREAM_LISTPACK_MAX_SIZE) return -2;

    unsigned char *lp = s->nnodes ? s->nodes[s->nnodes - 1].lp : NULL;
    size_t nodeMax = (size_t)maxBytes;
    if (maxBytes <= 0 || nodeMax > STREAM_LISTPACK_MAX_SIZE) nodeMax = STREAM_LISTPACK_MAX_SIZE;
    if (lp) {
        int newNode = 0;
        if (streamNodeBytes(lp) + totelelen >= nodeMax) {
            newNode = 1;
        } else if (maxEntries > 0) {
            unsigned char *p = slpFirst(lp);
            int64_t count = slpInt(p) + slpInt(slpNext(p));
            if (count >= maxEntries) newNode = 1;
        }
        if (newNode) {
            s->nodes[s->nnodes - 1].lp = slpShrink(lp);
            lp = NULL;
        }
    }

    int flags = STREAM_ITEM_FLAG_NONE;
    streamID master;
    if (!lp) {
        size_t prealloc = SLP_PREALLOC;
        if (maxBytes > 0 && (size_t)maxBytes < prealloc) prealloc = (size_t)maxBytes;
        lp = slpNew(prealloc);
        lp = slpAppendInt(lp, 1);
        lp = slpAppendInt(lp, 0);
        lp = slpAppendInt(lp, nfields);
        for (int64_t i = 0; i < nfields; i++) lp = slpAppendStr(lp, fv[i * 2].p, fv[i * 2].len);
        lp = slpAppendInt(lp, 0);
        master = id;
        streamAddNode(s, &master, lp);
        flags |= STREAM_ITEM_FLAG_SAMEFIELDS; /* the master's fields are this entry's */
    } else {
        master = s->nodes[s->nnodes - 1].master;
        unsigned char *p = slpFirst(lp);
        lp = slpReplaceInt(lp, &p, slpInt(p) + 1);
        p = slpNext(p);
        p = slpNext(p);
        int64_t mf = slpInt(p);
        p = slpNext(p);
        if (mf == nfields) {
            int64_t i;
            char buf[LP_INTBUF_SIZE];
            for (i = 0; i < mf; i++) {
                size_t len;
                const char *e = slpGet(p, buf, &len);
                if (len != fv[i * 2].len || (len && memcmp(e, fv[i * 2].p, len) != 0)) break;
                p = slpNext(p);
            }
            if (i == mf) flags |= STREAM_ITEM_FLAG_SAMEFIELDS;
        }
    }
    lp = slpAppendInt(lp, flags);
    lp = slpAppendInt(lp, (int64_t)(id.ms - master.ms));
    lp = slpAppendInt(lp, (int64_t)(id.seq - master.seq));
    if (!(flags & STREAM_ITEM_FLAG_SAMEFIELDS)) lp = slpAppendInt(lp, nfields);
    for (int64_t i = 0; i < nfields; i++) {
        if (!(flags & STREAM_ITEM_FLAG_SAMEFIELDS)) lp = slpAppendStr(lp, fv[i * 2].p, fv[i * 2].len);
        lp = slpAppendStr(lp, fv[i * 2 + 1].p, fv[i * 2 + 1].len);
    }
    int64_t lpCount = nfields + 3;
    if (!(flags & STREAM_ITEM_FLAG_SAMEFIELDS)) lpCount += nfields + 1;
    lp = slpAppendInt(lp, lpCount);
    s->nodes[s->nnodes - 1].lp = lp;

    s->length++;
    s->entriesAdded++;
    s->lastId = id;
    if (s->length == 1) s->firstId = id;
    if (added) *added = id;
    return 0;
}

/* Entry at p (its flags): reads the id and the element count, returns the
 * position of the entry's lp-count element. */
static unsigned char *parseEntry(unsigned char *p, const streamID *master, int64_t masterFields, int *flags,
                                 streamID *id, int64_t *nfields, unsigned char **fields) {
    *flags = (int)slpInt(p);
    p = slpNext(p);
    id->ms = master->ms + (uint64_t)slpInt(p);
    p = slpNext(p);
    id->seq = master->seq + (uint64_t)slpInt(p);
    p = slpNext(p);
    int64_t n;
    if (*flags & STREAM_ITEM_FLAG_SAMEFIELDS) {
        n = masterFields;
    } else {
        n = slpInt(p);
        p = slpNext(p);
    }
    *nfields = n;
    *fields = p;
    int64_t skip = (*flags & STREAM_ITEM_FLAG_SAMEFIELDS) ? n : n * 2;
    for (int64_t i = 0; i < skip; i++) p = slpNext(p);
    return p;
}

/* Marks the entry at flagsP deleted in node idx; removes the node when it
 * held the last live entry. */
static void markDeleted(stream *s, size_t idx, unsigned char *flagsP, int flags) {
    unsigned char *lp = s->nodes[idx].lp, *p = slpFirst(lp);
    int64_t count = slpInt(p);
    s->length--;
    if (count == 1) {
        removeNodes(s, idx, 1);
        return;
    }
    /* Flags 0/2 -> 1/3: same one-byte size, written in place. */
    flagsP[0] = (unsigned char)(flags | STREAM_ITEM_FLAG_DELETED);
    lp = slpReplaceInt(lp, &p, count - 1);
    p = slpNext(p);
    lp = slpReplaceInt(lp, &p, slpInt(p) + 1);
    s->nodes[idx].lp = lp;
}

int streamDeleteID(stream *s, const streamID *id) {
    long idx = findNode(s, id);
    if (idx < 0) return 0;
    unsigned char *lp = s->nodes[idx].lp;
    int64_t mf;
    for (unsigned char *p = firstEntry(lp, &mf, NULL); p;) {
        int flags;
        streamID cur;
        int64_t nf;
        unsigned char *fields;
        unsigned char *cnt = parseEntry(p, &s->nodes[idx].master, mf, &flags, &cur, &nf, &fields);
        int cmp = streamCompareID(&cur, id);
        if (cmp > 0) break;
        if (cmp == 0) {
            if (flags & STREAM_ITEM_FLAG_DELETED) return 0;
            markDeleted(s, (size_t)idx, p, flags);
            return 1;
        }
        p = slpNext(cnt);
    }
    return 0;
}

/* The last entry of a node, deleted or not (Redis' lpGetEdgeStreamID). */
static void nodeLastID(streamNode *n, streamID *id) {
    unsigned char *p = slpLast(n->lp);
    int64_t cnt = slpInt(p);
    for (int64_t i = 0; i < cnt; i++) p = slpPrev(n->lp, p);
    p = slpNext(p); /* skip flags */
    id->ms = n->master.ms + (uint64_t)slpInt(p);
    p = slpNext(p);
    id->seq = n->master.seq + (uint64_t)slpInt(p);
}

int64_t streamTrim(stream *s, int strategy, uint64_t maxlen, const streamID *minid, int approx, int64_t limit) {
    if (strategy == STREAM_TRIM_NONE) return 0;
    int64_t deleted = 0;
    size_t drop = 0; /* whole nodes removed from the head */
    for (size_t i = 0; i < s->nnodes; i++) {
        if (strategy == STREAM_TRIM_MAXLEN && s->length <= maxlen) break;
        streamNode *n = &s->nodes[i];
        unsigned char *lp = n->lp, *p = slpFirst(lp);
        int64_t entries = slpInt(p);
        if (limit && deleted + entries > limit) break;
        int removeNode;
        if (strategy == STREAM_TRIM_MAXLEN) {
            removeNode = s->length - (uint64_t)entries >= maxlen;
        } else {
            streamID last;
            nodeLastID(n, &last);
            removeNode = streamCompareID(&last, minid) < 0;
        }
        if (removeNode) {
            s->length -= (uint64_t)entries;
            deleted += entries;
            drop++;
            continue;
        }
        if (approx) break;

        int64_t mf, fromNode = 0;
        for (p = firstEntry(lp, &mf, NULL); p;) {
            int flags;
            streamID cur;
            int64_t nf;
            unsigned char *fields;
            unsigned char *cnt = parseEntry(p, &n->master, mf, &flags, &cur, &nf, &fields);
            int stop = strategy == STREAM_TRIM_MAXLEN ? s->length <= maxlen : streamCompareID(&cur, minid) >= 0;
            if (stop) break;
            if (!(flags & STREAM_ITEM_FLAG_DELETED)) {
                p[0] = (unsigned char)(flags | STREAM_ITEM_FLAG_DELETED);
                fromNode++;
                s->length--;
            }
            p = slpNext(cnt);
        }
        deleted += fromNode;
        p = slpFirst(lp);
        lp = slpReplaceInt(lp, &p, entries - fromNode);
        p = slpNext(p);
        lp = slpReplaceInt(lp, &p, slpInt(p) + fromNode);
        n->lp = lp;
        break;
    }
    if (drop) removeNodes(s, 0, drop);
    if (s->length == 0) s->firstId.ms = s->firstId.seq = 0;
    else streamEdgeID(s, 1, &s->firstId);
    return deleted;
}

/* ======================================================================== */
/* iteration                                                                */
/* ======================================================================== */

void streamIterStart(streamIter *it, stream *s, const streamID *start, const streamID *end, int rev) {
    memset(it, 0, sizeof(*it));
    it->s = s;
    it->start = *start;
    it->end = *end;
    it->rev = rev;
    long idx = findNode(s, rev ? end : start);
    if (rev) {
        it->node = idx < 0 ? (size_t)-1 : (size_t)idx; /* -1: nothing */
    } else {
        it->node = idx < 0 ? 0 : (size_t)idx;
    }
}

static int iterLoadNode(streamIter *it) {
    stream *s = it->s;
    if (it->node >= s->nnodes) return 0;
    streamNode *n = &s->nodes[it->node];
    it->lp = n->lp;
    it->master = n->master;
    unsigned char *first = firstEntry(it->lp, &it->masterFields, &it->masterField0);
    (void)first;
    it->p = it->rev ? slpLast(it->lp) : first;
    it->inNode = 1;
    return 1;
}

int streamIterNext(streamIter *it, streamID *id, int64_t *nfields) {
    for (;;) {
        if (!it->inNode) {
            if (!iterLoadNode(it)) return 0;
        }
        unsigned char *flagsP;
        if (!it->rev) {
            flagsP = it->p;
        } else {
            int64_t cnt = slpInt(it->p);
            if (cnt == 0) {
                flagsP = NULL; /* the master terminator: node done */
            } else {
                flagsP = it->p;
                for (int64_t i = 0; i < cnt; i++) flagsP = slpPrev(it->lp, flagsP);
            }
        }
        if (!flagsP) {
            it->inNode = 0;
            if (it->rev) {
                if (it->node == 0) {
                    it->node = (size_t)-1;
                    return 0;
                }
                it->node--;
            } else {
                it->node++;
            }
            continue;
        }
        int flags;
        streamID cur;
        int64_t nf;
        unsigned char *fields;
        unsigned char *cnt = parseEntry(flagsP, &it->master, it->masterFields, &flags, &cur, &nf, &fields);
        it->p = it->rev ? slpPrev(it->lp, flagsP) : slpNext(cnt);
        if (flags & STREAM_ITEM_FLAG_DELETED) continue;
        if (!it->rev) {
            if (streamCompareID(&cur, &it->start) < 0) continue;
            if (streamCompareID(&cur, &it->end) > 0) {
                it->node = (size_t)-1;
                it->inNode = 0;
                return 0;
            }
        } else {
            if (streamCompareID(&cur, &it->end) > 0) continue;
            if (streamCompareID(&cur, &it->start) < 0) {
                it->node = (size_t)-1;
                it->inNode = 0;
                return 0;
            }
        }
        it->flags = flags;
        it->nfields = nf;
        it->fp = fields;
        it->mf = it->masterField0;
        it->fieldIdx = 0;
        *id = cur;
        *nfields = nf;
        return 1;
    }
}

void streamIterField(streamIter *it, char *fbuf, const char **f, size_t *flen, char *vbuf, const char **v,
                     size_t *vlen) {
    if (it->flags & STREAM_ITEM_FLAG_SAMEFIELDS) {
        *f = slpGet(it->mf, fbuf, flen);
        it->mf = slpNext(it->mf);
    } else {
        *f = slpGet(it->fp, fbuf, flen);
        it->fp = slpNext(it->fp);
    }
    *v = slpGet(it->fp, vbuf, vlen);
    it->fp = slpNext(it->fp);
    it->fieldIdx++;
}

int streamEdgeID(stream *s, int first, streamID *id) {
    streamIter it;
    streamID lo = {0, 0}, hi = {UINT64_MAX, UINT64_MAX};
    int64_t nf;
    streamIterStart(&it, s, &lo, &hi, !first);
    if (streamIterNext(&it, id, &nf)) return 1;
    id->ms = id->seq = 0;
    return 0;
}

/* ======================================================================== */
/* validation of nodes from snapshots / RESTORE                             */
/* ======================================================================== */

/* A walk that never leaves [lp, lp+n): the next element, NULL at the end,
 * (unsigned char *)1 when malformed. */
#define BAD ((unsigned char *)1)
static unsigned char *vNext(const unsigned char *lp, size_t n, unsigned char *p) {
    const unsigned char *end = lp + n - 1; /* the EOF byte */
    size_t avail = (size_t)(end - p), l;
    unsigned char b = p[0];
    if ((b & 0x80) == 0 || (b & 0xC0) == 0x80) l = encLen(p);
    else if (b == 0xF0) {
        if (avail < 5) return BAD;
        l = encLen(p);
    } else if ((b & 0xE0) == 0xC0 || (b & 0xF0) == 0xE0 || (b >= 0xF1 && b <= 0xF4)) {
        if (avail < 2) return BAD;
        l = encLen(p);
    } else {
        return BAD;
    }
    if (l > avail) return BAD;
    size_t bl = backlenSize(l);
    if (avail - l < bl) return BAD;
    /* The backwards length must decode to l (reverse walks rely on it). */
    unsigned char chk[5];
    writeBacklen(chk, l);
    if (memcmp(chk, p + l, bl) != 0) return BAD;
    p += l + bl;
    return p == end ? NULL : p;
}

static int vInt(unsigned char *p, int64_t *v) {
    const char *s;
    size_t len;
    long long ll;
    if (slpRaw(p, v, &s, &len)) return 1;
    if (!string2ll(s, len, &ll)) return 0;
    *v = ll;
    return 1;
}

int streamValidateNode(const unsigned char *lp0, size_t n, const streamID *master, streamID *after, uint64_t *live) {
    unsigned char *lp = (unsigned char *)lp0;
    if (n < SLP_HDR + 1 || le(lp, 4) != n || lp[n - 1] != SLP_EOF) return 0;
    unsigned long elems = 0;
    unsigned char *p = lp[SLP_HDR] == SLP_EOF ? NULL : lp + SLP_HDR;
    int64_t count, deleted, mf, v;
#define NEXT()                            \
    do {                                  \
        if (!p) return 0;                 \
        p = vNext(lp, n, p);              \
        if (p == BAD) return 0;           \
        elems++;                          \
    } while (0)
#define INT(x)                            \
    do {                                  \
        if (!p || vNext(lp, n, p) == BAD || !vInt(p, &(x))) return 0; \
    } while (0)
    INT(count);
    NEXT();
    INT(deleted);
    NEXT();
    INT(mf);
    NEXT();
    if (count < 0 || deleted < 0 || mf < 0 || count + deleted == 0) return 0;
    for (int64_t i = 0; i < mf; i++) NEXT();
    INT(v);
    if (v != 0) return 0;
    NEXT();
    int64_t seenLive = 0, seenDeleted = 0;
    while (p) {
        int64_t flags, msd, seqd, nf, cnt;
        INT(flags);
        /* Deleting rewrites the flags byte in place: one byte, 0..3. */
        if ((flags & ~(int64_t)3) || (p[0] & 0x80)) return 0;
        NEXT();
        INT(msd);
        NEXT();
        INT(seqd);
        NEXT();
        int64_t elements = 3;
        if (flags & STREAM_ITEM_FLAG_SAMEFIELDS) {
            nf = mf;
            for (int64_t i = 0; i < nf; i++) NEXT();
            elements += nf;
        } else {
            INT(nf);
            if (nf < 0) return 0;
            NEXT();
            for (int64_t i = 0; i < nf * 2; i++) NEXT();
            elements += 2 * nf + 1;
        }
        INT(cnt);
        if (cnt != elements) return 0;
        NEXT();
        streamID id = {master->ms + (uint64_t)msd, master->seq + (uint64_t)seqd};
        if (streamCompareID(&id, master) < 0 || streamCompareID(&id, after) <= 0) return 0;
        *after = id;
        if (flags & STREAM_ITEM_FLAG_DELETED) seenDeleted++;
        else seenLive++;
    }
#undef NEXT
#undef INT
    uint64_t declared = le(lp + 4, 2);
    if (declared != 65535 && declared != elems) return 0;
    if (seenLive != count || seenDeleted != deleted) return 0;
    *live += (uint64_t)seenLive;
    return 1;
}
