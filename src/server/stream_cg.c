/* stream_cg.c - consumer groups, their consumers and pending entries lists
 * (see stream_cg.h), and the ordered id map the PELs are made of.
 *
 * Owns: every group, consumer and NACK of a stream, and the idmap chunks.
 * Must never: reply to clients, read the stream's nodes, or leave a NACK
 * in one PEL without the other (streamNACK* functions keep them paired). */
#include "stream_cg.h"
#include "db.h"
#include "dassert.h"
#include "mem.h"
#include <string.h>

/* ======================================================================== */
/* idmap                                                                    */
/* ======================================================================== */

#define IDMAP_CHUNK 128

typedef struct idmapPair {
    streamID id;
    void *val;
} idmapPair;

struct idmapChunk {
    int n, cap;
    idmapPair p[];
};

void idmapInit(idmap *m) { memset(m, 0, sizeof(*m)); }

void idmapClear(idmap *m, void (*freeVal)(void *)) {
    for (size_t c = 0; c < m->nchunks; c++) {
        if (freeVal)
            for (int i = 0; i < m->chunks[c]->n; i++) freeVal(m->chunks[c]->p[i].val);
        memFree(m->chunks[c]);
    }
    memFree(m->chunks);
    idmapInit(m);
}

/* The chunk that holds id or would: the last whose first id <= id (0 when
 * id is below every chunk). m must have a chunk. */
static size_t chunkFor(const idmap *m, const streamID *id) {
    size_t lo = 0, hi = m->nchunks;
    while (hi - lo > 1) {
        size_t mid = (lo + hi) / 2;
        if (streamCompareID(&m->chunks[mid]->p[0].id, id) <= 0) lo = mid;
        else hi = mid;
    }
    return lo;
}

/* Index of the first pair >= id in chunk k (k->n when none). */
static int lowerBound(const idmapChunk *k, const streamID *id) {
    int lo = 0, hi = k->n;
    while (lo < hi) {
        int mid = (lo + hi) / 2;
        if (streamCompareID(&k->p[mid].id, id) < 0) lo = mid + 1;
        else hi = mid;
    }
    return lo;
}

void *idmapFind(const idmap *m, const streamID *id) {
    if (!m->nchunks) return NULL;
    const idmapChunk *k = m->chunks[chunkFor(m, id)];
    int i = lowerBound(k, id);
    return i < k->n && streamCompareID(&k->p[i].id, id) == 0 ? k->p[i].val : NULL;
}

static idmapChunk *chunkNew(int cap) {
    idmapChunk *k = memAlloc(sizeof(*k) + sizeof(idmapPair) * (size_t)cap);
    k->n = 0;
    k->cap = cap;
    return k;
}

static void chunksInsertAt(idmap *m, size_t at, idmapChunk *k) {
    if (m->nchunks == m->cap) {
        m->cap = m->cap ? m->cap * 2 : 4;
        m->chunks = memRealloc(m->chunks, m->cap * sizeof(idmapChunk *));
    }
    memmove(m->chunks + at + 1, m->chunks + at, (m->nchunks - at) * sizeof(idmapChunk *));
    m->chunks[at] = k;
    m->nchunks++;
}

int idmapInsert(idmap *m, const streamID *id, void *val) {
    if (!m->nchunks) chunksInsertAt(m, 0, chunkNew(4));
    size_t ci = chunkFor(m, id);
    idmapChunk *k = m->chunks[ci];
    int i = lowerBound(k, id);
    if (i < k->n && streamCompareID(&k->p[i].id, id) == 0) return 0;
    if (k->n == IDMAP_CHUNK) {
        /* Split in halves; appending at the tail (the usual case) starts a
         * new chunk instead so that tail chunks end up full. */
        idmapChunk *r = chunkNew(IDMAP_CHUNK);
        int keep = i == k->n ? k->n : k->n / 2;
        r->n = k->n - keep;
        memcpy(r->p, k->p + keep, sizeof(idmapPair) * (size_t)r->n);
        k->n = keep;
        chunksInsertAt(m, ci + 1, r);
        if (i >= keep) {
            k = r;
            i -= keep;
        }
    } else if (k->n == k->cap) {
        int cap = k->cap * 2 > IDMAP_CHUNK ? IDMAP_CHUNK : k->cap * 2;
        k = memRealloc(k, sizeof(*k) + sizeof(idmapPair) * (size_t)cap);
        k->cap = cap;
        m->chunks[ci] = k;
    }
    memmove(k->p + i + 1, k->p + i, sizeof(idmapPair) * (size_t)(k->n - i));
    k->p[i].id = *id;
    k->p[i].val = val;
    k->n++;
    m->len++;
    return 1;
}

void *idmapDelete(idmap *m, const streamID *id) {
    if (!m->nchunks) return NULL;
    size_t ci = chunkFor(m, id);
    idmapChunk *k = m->chunks[ci];
    int i = lowerBound(k, id);
    if (i >= k->n || streamCompareID(&k->p[i].id, id) != 0) return NULL;
    void *val = k->p[i].val;
    memmove(k->p + i, k->p + i + 1, sizeof(idmapPair) * (size_t)(k->n - i - 1));
    k->n--;
    m->len--;
    if (k->n == 0) {
        memFree(k);
        memmove(m->chunks + ci, m->chunks + ci + 1, (m->nchunks - ci - 1) * sizeof(idmapChunk *));
        m->nchunks--;
        if (!m->nchunks) idmapClear(m, NULL);
    }
    return val;
}

int idmapSeek(const idmap *m, const streamID *from, idmapPos *pos) {
    pos->ci = 0;
    pos->i = 0;
    if (!m->nchunks) return 0;
    if (from) {
        pos->ci = chunkFor(m, from);
        pos->i = lowerBound(m->chunks[pos->ci], from);
        if (pos->i == m->chunks[pos->ci]->n) {
            pos->ci++;
            pos->i = 0;
        }
    }
    return pos->ci < m->nchunks;
}

int idmapNext(const idmap *m, idmapPos *pos, streamID *id, void **val) {
    if (pos->ci >= m->nchunks) return 0;
    const idmapChunk *k = m->chunks[pos->ci];
    if (id) *id = k->p[pos->i].id;
    if (val) *val = k->p[pos->i].val;
    if (++pos->i == k->n) {
        pos->ci++;
        pos->i = 0;
    }
    return 1;
}

int idmapEdge(const idmap *m, int first, streamID *id) {
    if (!m->nchunks) return 0;
    const idmapChunk *k = m->chunks[first ? 0 : m->nchunks - 1];
    *id = k->p[first ? 0 : k->n - 1].id;
    return 1;
}

size_t idmapMemory(const idmap *m) {
    size_t t = m->chunks ? memUsableSize(m->chunks) : 0;
    for (size_t c = 0; m->chunks && c < m->nchunks; c++) t += memUsableSize(m->chunks[c]);
    return t;
}

/* ======================================================================== */
/* groups and consumers                                                     */
/* ======================================================================== */

/* Radix tree order: bytewise, a prefix first. */
static int nameCmp(const char *a, size_t al, const char *b, size_t bl) {
    int r = memcmp(a, b, al < bl ? al : bl);
    if (r) return r;
    return al < bl ? -1 : al > bl;
}

static char *nameDup(const char *p, size_t len) {
    char *n = memAlloc(len + 1);
    if (len) memcpy(n, p, len);
    n[len] = '\0';
    return n;
}

/* Index of name in a name-sorted array of groups or consumers (found=1),
 * or where it goes; nameOf gives an element's name. */
static size_t namePos(void *const *arr, size_t n, const char *(*nameOf)(const void *, size_t *), const char *name,
                      size_t len, int *found) {
    size_t lo = 0, hi = n;
    *found = 0;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2, ml;
        const char *mn = nameOf(arr[mid], &ml);
        int r = nameCmp(mn, ml, name, len);
        if (r == 0) {
            *found = 1;
            return mid;
        }
        if (r < 0) lo = mid + 1;
        else hi = mid;
    }
    return lo;
}

static const char *groupName(const void *p, size_t *len) {
    const streamCG *cg = p;
    *len = cg->nameLen;
    return cg->name;
}

static const char *consumerName(const void *p, size_t *len) {
    const streamConsumer *sc = p;
    *len = sc->nameLen;
    return sc->name;
}

static size_t groupPos(const streamCGs *g, const char *name, size_t len, int *found) {
    return namePos((void *const *)g->groups, g->n, groupName, name, len, found);
}

static size_t consumerPos(const streamCG *cg, const char *name, size_t len, int *found) {
    return namePos((void *const *)cg->consumers, cg->nconsumers, consumerName, name, len, found);
}

size_t streamCGCount(const stream *s) { return s->cgroups ? s->cgroups->n : 0; }

streamCG *streamCGLookup(stream *s, const char *name, size_t len) {
    if (!s->cgroups) return NULL;
    int found;
    size_t i = groupPos(s->cgroups, name, len, &found);
    return found ? s->cgroups->groups[i] : NULL;
}

streamCG *streamCGCreate(stream *s, const char *name, size_t len, const streamID *id, long long entriesRead) {
    if (!s->cgroups) s->cgroups = memCalloc(sizeof(streamCGs));
    streamCGs *g = s->cgroups;
    int found;
    size_t at = groupPos(g, name, len, &found);
    if (found) return NULL;
    streamCG *cg = memCalloc(sizeof(*cg));
    cg->lastId = *id;
    cg->entriesRead = entriesRead;
    idmapInit(&cg->pel);
    cg->name = nameDup(name, len);
    cg->nameLen = len;
    if (g->n == g->cap) {
        g->cap = g->cap ? g->cap * 2 : 4;
        g->groups = memRealloc(g->groups, g->cap * sizeof(streamCG *));
    }
    memmove(g->groups + at + 1, g->groups + at, (g->n - at) * sizeof(streamCG *));
    g->groups[at] = cg;
    g->n++;
    return cg;
}

static void consumerFree(streamConsumer *sc) {
    idmapClear(&sc->pel, NULL);
    memFree(sc->name);
    memFree(sc);
}

static void cgFree(streamCG *cg) {
    idmapClear(&cg->pel, memFree);
    for (size_t i = 0; i < cg->nconsumers; i++) consumerFree(cg->consumers[i]);
    memFree(cg->consumers);
    memFree(cg->name);
    memFree(cg);
}

int streamCGDestroy(stream *s, const char *name, size_t len) {
    if (!s->cgroups) return 0;
    streamCGs *g = s->cgroups;
    int found;
    size_t at = groupPos(g, name, len, &found);
    if (!found) return 0;
    cgFree(g->groups[at]);
    memmove(g->groups + at, g->groups + at + 1, (g->n - at - 1) * sizeof(streamCG *));
    g->n--;
    return 1;
}

streamConsumer *streamConsumerLookup(streamCG *cg, const char *name, size_t len) {
    int found;
    size_t i = consumerPos(cg, name, len, &found);
    return found ? cg->consumers[i] : NULL;
}

streamConsumer *streamConsumerCreate(streamCG *cg, const char *name, size_t len, long long now) {
    int found;
    size_t at = consumerPos(cg, name, len, &found);
    if (found) return NULL;
    streamConsumer *sc = memCalloc(sizeof(*sc));
    sc->seenTime = now;
    idmapInit(&sc->pel);
    sc->name = nameDup(name, len);
    sc->nameLen = len;
    if (cg->nconsumers == cg->ccap) {
        cg->ccap = cg->ccap ? cg->ccap * 2 : 4;
        cg->consumers = memRealloc(cg->consumers, cg->ccap * sizeof(streamConsumer *));
    }
    memmove(cg->consumers + at + 1, cg->consumers + at, (cg->nconsumers - at) * sizeof(streamConsumer *));
    cg->consumers[at] = sc;
    cg->nconsumers++;
    return sc;
}

uint64_t streamConsumerDelete(streamCG *cg, streamConsumer *sc) {
    uint64_t pending = sc->pel.len;
    idmapPos pos;
    streamID id;
    void *v;
    idmapSeek(&sc->pel, NULL, &pos);
    while (idmapNext(&sc->pel, &pos, &id, &v)) memFree(idmapDelete(&cg->pel, &id));
    int found;
    size_t at = consumerPos(cg, sc->name, sc->nameLen, &found);
    CACHET_ASSERT(found && cg->consumers[at] == sc);
    memmove(cg->consumers + at, cg->consumers + at + 1, (cg->nconsumers - at - 1) * sizeof(streamConsumer *));
    cg->nconsumers--;
    consumerFree(sc);
    return pending;
}

streamNACK *streamNACKNew(streamConsumer *consumer, long long now) {
    streamNACK *n = memAlloc(sizeof(*n));
    n->deliveryTime = now;
    n->deliveryCount = 1;
    n->consumer = consumer;
    return n;
}

void streamNACKDelete(streamCG *cg, const streamID *id, streamNACK *nack) {
    idmapDelete(&nack->consumer->pel, id);
    idmapDelete(&cg->pel, id);
    memFree(nack);
}

void streamNACKMove(const streamID *id, streamNACK *nack, streamConsumer *to) {
    if (nack->consumer == to) return;
    idmapDelete(&nack->consumer->pel, id);
    nack->consumer = to;
    idmapInsert(&to->pel, id, nack);
}

/* ======================================================================== */
/* logical read counters                                                    */
/* ======================================================================== */

static int idIsZero(const streamID *id) { return id->ms == 0 && id->seq == 0; }

int streamRangeHasTombstones(const stream *s, const streamID *start, const streamID *end) {
    if (!s->length || idIsZero(&s->maxDeletedId)) return 0;
    if (streamCompareID(&s->firstId, &s->maxDeletedId) > 0) return 0;
    streamID lo = {0, 0}, hi = {UINT64_MAX, UINT64_MAX};
    if (start) lo = *start;
    if (end) hi = *end;
    return streamCompareID(&lo, &s->maxDeletedId) <= 0 && streamCompareID(&hi, &s->maxDeletedId) >= 0;
}

long long streamEstimateDistance(const stream *s, const streamID *id) {
    if (!s->entriesAdded) return 0; /* never used: everything is read */
    if (!s->length && streamCompareID(id, &s->lastId) < 1) return (long long)s->entriesAdded;
    int cmpLast = streamCompareID(id, &s->lastId);
    if (cmpLast == 0) return (long long)s->entriesAdded;
    if (cmpLast > 0) return SCG_INVALID_ENTRIES_READ;
    int cmpFirst = streamCompareID(id, &s->firstId);
    if (idIsZero(&s->maxDeletedId) || streamCompareID(&s->maxDeletedId, &s->firstId) < 0) {
        /* no tombstone past the first entry: the count is exact */
        if (cmpFirst < 0) return (long long)(s->entriesAdded - s->length);
        if (cmpFirst == 0) return (long long)(s->entriesAdded - s->length) + 1;
    }
    return SCG_INVALID_ENTRIES_READ;
}

void streamCGAdvance(const stream *s, streamCG *cg, const streamID *id) {
    if (streamCompareID(id, &cg->lastId) <= 0) return;
    if (cg->entriesRead != SCG_INVALID_ENTRIES_READ && !streamRangeHasTombstones(s, id, NULL))
        cg->entriesRead++;
    else if (s->entriesAdded)
        cg->entriesRead = streamEstimateDistance(s, id);
    cg->lastId = *id;
}

/* ======================================================================== */
/* the set: free, dup, memory, checks                                       */
/* ======================================================================== */

void streamCGsFree(streamCGs *g) {
    if (!g) return;
    for (size_t i = 0; i < g->n; i++) cgFree(g->groups[i]);
    memFree(g->groups);
    memFree(g);
}

streamCGs *streamCGsDup(const streamCGs *g) {
    streamCGs *n = memCalloc(sizeof(*n));
    if (!g->n) return n;
    n->cap = n->n = g->n;
    n->groups = memAlloc(n->cap * sizeof(streamCG *));
    for (size_t i = 0; i < g->n; i++) {
        const streamCG *o = g->groups[i];
        streamCG *cg = memCalloc(sizeof(*cg));
        cg->lastId = o->lastId;
        cg->entriesRead = o->entriesRead;
        cg->name = nameDup(o->name, o->nameLen);
        cg->nameLen = o->nameLen;
        idmapInit(&cg->pel);
        cg->nconsumers = cg->ccap = o->nconsumers;
        cg->consumers = o->nconsumers ? memAlloc(o->nconsumers * sizeof(streamConsumer *)) : NULL;
        for (size_t j = 0; j < o->nconsumers; j++) {
            const streamConsumer *oc = o->consumers[j];
            streamConsumer *sc = memCalloc(sizeof(*sc));
            sc->seenTime = oc->seenTime;
            sc->name = nameDup(oc->name, oc->nameLen);
            sc->nameLen = oc->nameLen;
            idmapInit(&sc->pel);
            cg->consumers[j] = sc;
            /* the consumer's NACKs, copied into both PELs */
            idmapPos pos;
            streamID id;
            void *v;
            idmapSeek(&oc->pel, NULL, &pos);
            while (idmapNext(&oc->pel, &pos, &id, &v)) {
                const streamNACK *on = v;
                streamNACK *nn = streamNACKNew(sc, on->deliveryTime);
                nn->deliveryCount = on->deliveryCount;
                idmapInsert(&sc->pel, &id, nn);
                idmapInsert(&cg->pel, &id, nn);
            }
        }
        n->groups[i] = cg;
    }
    return n;
}

size_t streamCGsMemory(const streamCGs *g) {
    size_t t = memUsableSize((void *)g);
    if (g->groups) t += memUsableSize(g->groups);
    for (size_t i = 0; g->groups && i < g->n; i++) {
        const streamCG *cg = g->groups[i];
        t += memUsableSize((void *)cg) + memUsableSize(cg->name) + idmapMemory(&cg->pel);
        t += cg->pel.len * sizeof(streamNACK);
        if (cg->consumers) t += memUsableSize(cg->consumers);
        for (size_t j = 0; cg->consumers && j < cg->nconsumers; j++) {
            const streamConsumer *sc = cg->consumers[j];
            t += memUsableSize((void *)sc) + memUsableSize(sc->name) + idmapMemory(&sc->pel);
        }
    }
    return t;
}

void streamCGCheck(const stream *s) {
#ifdef CACHET_ASSERTS
    if (!s->cgroups) return;
    for (size_t i = 0; i < s->cgroups->n; i++) {
        const streamCG *cg = s->cgroups->groups[i];
        uint64_t total = 0;
        for (size_t j = 0; j < cg->nconsumers; j++) {
            const streamConsumer *sc = cg->consumers[j];
            idmapPos pos;
            streamID id;
            void *v;
            idmapSeek(&sc->pel, NULL, &pos);
            while (idmapNext(&sc->pel, &pos, &id, &v)) {
                CACHET_ASSERT(((streamNACK *)v)->consumer == sc);
                CACHET_ASSERT(idmapFind(&cg->pel, &id) == v);
            }
            total += sc->pel.len;
        }
        CACHET_ASSERT(total == cg->pel.len);
    }
#else
    (void)s;
#endif
}
