/* kvstore.c - a database's key table, one dict or one per hash slot; see
 * kvstore.h for the contract.
 *
 * Invariants (nslots > 1):
 *  - a node is in slot[clusterKeySlot(its key)], nowhere else;
 *  - count[s] == dictSize(slot[s]), group[g] is
 *    the sum of count over slots [g*128, g*128+127], size the sum of all;
 *  - slot[s]'s buckets are freed only by kvsCron (empty, not paused) or
 *    kvsEmpty, so a table met by an iterator or a scan keeps them until
 *    the next cron.
 *  - head[s].table is slot[s].table[0] with mask size[0]-1 when slot[s]
 *    has buckets and is not rehashing, else NULL: every call that may
 *    resize or rehash slot[s] refreshes it (headSync).
 * Why head[]: a lookup used to load the slot's dict (72 bytes in a 1.2 MB
 * array) before its bucket; that load missed the cache and made cluster
 * mode's GET 18% dearer in CPU. The heads are 16 bytes a slot (256 KB),
 * and hashing the key needs only the shared type.
 * The slot tables are one array (16384 x 72 bytes, allocated with the
 * store): a table allocated per slot on its first key would cost 80 bytes
 * more per used slot, about 13 bytes a key at 100,000 keys.
 * With nslots == 1 the table is `one` and only size is kept besides.
 *
 * The counts cost two increments per insert or delete; they make
 * COUNTKEYSINSLOT O(1) and let kvsRandom pick a slot in proportion to its
 * keys by walking 128 group sums and at most 128 slot counts (a Fenwick
 * tree would walk 14 levels, but on every insert and delete too). */
#include "kvstore.h"
#include "cluster.h"
#include "dassert.h"
#include "mem.h"
#include <stdlib.h>
#include <string.h>

#define GROUP_BITS 7
#define GROUP_SLOTS (1u << GROUP_BITS)
#define CRON_SLOTS 512 /* slots a cron tick looks at: all of them every 32 ticks */

static inline int perSlot(const kvstore *kv) { return kv->nslots > 1; }

static size_t rand64(void) { return (size_t)random() << 31 ^ (size_t)random(); }

void kvsInit(kvstore *kv, const dictType *type, int perSlotTables) {
    memset(kv, 0, sizeof(*kv));
    kv->type = type;
    kv->rehashSlot = -1;
    kv->memo.len = 0;
    dictInit(&kv->one, type);
    kv->nslots = perSlotTables ? 1u << KVS_SLOT_BITS : 1;
    if (perSlotTables) {
        kv->slot = memAlloc(sizeof(dict) * kv->nslots);
        kv->head = memCalloc(sizeof(kvsHead) * kv->nslots);
        for (unsigned i = 0; i < kv->nslots; i++) dictInit(&kv->slot[i], type);
        kv->count = memCalloc(sizeof(uint32_t) * kv->nslots);
        kv->group = memCalloc(sizeof(uint64_t) * (kv->nslots / GROUP_SLOTS));
    }
}

unsigned kvsSlotOf(const kvstore *kv, const char *key, size_t len) {
    if (!perSlot(kv)) return 0;
    const kvsMemo *m = &kv->memo;
    return m->len == len && memcmp(m->key, key, len) == 0 ? m->slot : clusterKeySlot(key, len);
}

static unsigned nodeSlot(const kvstore *kv, const dictNode *n) {
    if (!perSlot(kv)) return 0;
    const char *k;
    size_t kl;
    kv->type->key(n, &k, &kl);
    return clusterKeySlot(k, kl);
}

static inline dict *tableOf(kvstore *kv, unsigned s) { return perSlot(kv) ? &kv->slot[s] : &kv->one; }

/* head[s] follows slot[s] after anything that may have resized it. */
static inline void headSync(kvstore *kv, unsigned s) {
    if (!perSlot(kv)) return;
    dict *d = &kv->slot[s];
    kvsHead *h = &kv->head[s];
    if (d->size[0] && !dictIsRehashing(d)) {
        h->table = d->table[0];
        h->mask = d->size[0] - 1;
    } else {
        h->table = NULL;
    }
}

static void countAdd(kvstore *kv, unsigned s, int delta) {
    kv->size += (size_t)(long)delta;
    if (!perSlot(kv)) return;
    kv->count[s] += (uint32_t)delta;
    kv->group[s >> GROUP_BITS] += (uint64_t)(int64_t)delta;
    CACHET_ASSERT(kv->count[s] == dictSize(&kv->slot[s]));
}

size_t kvsSlotSize(const kvstore *kv, unsigned slot) {
    if (!perSlot(kv)) return slot == 0 ? kv->size : 0;
    return slot < kv->nslots ? kv->count[slot] : 0;
}

dictNode *kvsFind(kvstore *kv, const char *key, size_t len) {
    if (!perSlot(kv)) return dictFind(&kv->one, key, len);
    const kvsMemo *m = &kv->memo;
    int memo = m->len == len && memcmp(m->key, key, len) == 0;
    CACHET_ASSERT(!memo || (m->slot == clusterKeySlot(key, len) && m->hash == dictHashKey(&kv->one, key, len)));
    unsigned s = memo ? m->slot : clusterKeySlot(key, len);
    const kvsHead *h = &kv->head[s];
    CACHET_ASSERT(!h->table || (h->table == kv->slot[s].table[0] && !dictIsRehashing(&kv->slot[s]) &&
                                h->mask == kv->slot[s].size[0] - 1));
    if (h->table) /* kv->one has the type: hashing never touches slot[s] */
        return dictChainFind(kv->type, h->table[(memo ? m->hash : dictHashKey(&kv->one, key, len)) & h->mask], key,
                             len);
    if (kv->count[s] == 0) return NULL;
    dictNode *n = dictFind(&kv->slot[s], key, len); /* may finish a rehash */
    headSync(kv, s);
    return n;
}

void kvsAdd(kvstore *kv, dictNode *n) {
    unsigned s = nodeSlot(kv, n);
    dictAdd(tableOf(kv, s), n);
    headSync(kv, s);
    countAdd(kv, s, 1);
}

void kvsReplaceNode(kvstore *kv, dictNode *old, dictNode *repl) {
    dictReplaceNode(tableOf(kv, nodeSlot(kv, old)), old, repl);
}

dictNode *kvsUnlink(kvstore *kv, const char *key, size_t len) {
    unsigned s = kvsSlotOf(kv, key, len);
    dictNode *n = dictUnlink(tableOf(kv, s), key, len);
    headSync(kv, s);
    if (n) countAdd(kv, s, -1);
    return n;
}

void kvsPrefetch(kvstore *kv, const char *key, size_t len) {
    dict *d = tableOf(kv, kvsSlotOf(kv, key, len));
    if (d->size[0] && !dictIsRehashing(d))
        __builtin_prefetch(&d->table[0][dictHashKey(d, key, len) & (d->size[0] - 1)]);
}

/* The memo for key: filled when it holds another key (keys over
 * KVS_MEMO_MAX bytes are not memoised: NULL). */
static const kvsMemo *memoFor(kvstore *kv, const char *key, size_t len) {
    kvsMemo *m = &kv->memo;
    if (len == 0 || len > KVS_MEMO_MAX) return NULL;
    if (m->len != len || memcmp(m->key, key, len) != 0) {
        m->len = len;
        m->slot = clusterKeySlot(key, len);
        m->hash = dictHashKey(&kv->one, key, len);
        memcpy(m->key, key, len);
    }
    return m;
}

void kvsPrefetchHead(kvstore *kv, const char *key, size_t len) {
    if (!perSlot(kv)) return;
    const kvsMemo *m = memoFor(kv, key, len);
    if (m) __builtin_prefetch(&kv->head[m->slot]);
}

void kvsPrefetchBucket(kvstore *kv, const char *key, size_t len) {
    if (!perSlot(kv)) return;
    const kvsMemo *m = memoFor(kv, key, len);
    if (!m) return;
    const kvsHead *h = &kv->head[m->slot];
    if (h->table) __builtin_prefetch(&h->table[m->hash & h->mask]);
}

void kvsExpand(kvstore *kv, size_t n) {
    if (!perSlot(kv) && dictSize(&kv->one) == 0) dictExpand(&kv->one, n);
}

size_t kvsSlotNodes(kvstore *kv, unsigned slot, dictNode **out, size_t max) {
    size_t got = 0;
    if (slot >= kv->nslots || max == 0) return 0;
    dict *d = tableOf(kv, slot);
    dictIter it;
    dictIterInit(&it, d, 0);
    for (dictNode *n; got < max && (n = dictNext(&it));) out[got++] = n;
    dictIterEnd(&it);
    return got;
}

/* The slot holding the key of rank r (0 <= r < size), slots in order. */
static unsigned slotOfRank(const kvstore *kv, size_t r) {
    unsigned g = 0;
    while (r >= kv->group[g]) r -= kv->group[g++];
    unsigned s = g << GROUP_BITS;
    while (r >= kv->count[s]) r -= kv->count[s++];
    return s;
}

/* A slot chosen in proportion to its keys: a node of it, picked uniformly
 * within, is then uniform over the whole store. */
dictNode *kvsRandom(kvstore *kv) {
    if (kv->size == 0) return NULL;
    if (!perSlot(kv)) return dictRandomNode(&kv->one);
    unsigned s = slotOfRank(kv, rand64() % kv->size);
    dictNode *n = dictRandomNode(&kv->slot[s]);
    headSync(kv, s);
    return n;
}

/* From a slot chosen as kvsRandom does, then the slots after it, until
 * count nodes are found (small slot tables hold a handful each). */
size_t kvsSample(kvstore *kv, dictNode **out, size_t count) {
    if (kv->size == 0 || count == 0) return 0;
    if (!perSlot(kv)) return dictSampleNodes(&kv->one, out, count);
    unsigned s = slotOfRank(kv, rand64() % kv->size);
    size_t got = 0;
    for (unsigned i = 0; i < kv->nslots && got < count; i++, s = (s + 1) & (kv->nslots - 1))
        if (kv->count[s]) {
            got += dictSampleNodes(&kv->slot[s], out + got, count - got);
            headSync(kv, s);
        }
    return got;
}

/* The first slot at or after s with keys, or nslots. */
static unsigned nextFullSlot(const kvstore *kv, unsigned s) {
    while (s < kv->nslots && kv->count[s] == 0) s++;
    return s;
}

/* Per slot, the dict's cursor shifted left past the slot number: a scan
 * finishes a slot's table before the next, so dictScan's guarantee (every
 * node present for the whole scan is returned) holds table by table. */
unsigned long kvsScan(kvstore *kv, unsigned long cursor, dictScanFn *fn, void *priv) {
    if (!perSlot(kv)) return dictScan(&kv->one, cursor, fn, priv);
    unsigned long mask = kv->nslots - 1;
    unsigned s = (unsigned)(cursor & mask);
    unsigned long dc = cursor >> KVS_SLOT_BITS;
    unsigned next = nextFullSlot(kv, s);
    if (next != s) dc = 0; /* the slot emptied since: start the next one */
    if (next >= kv->nslots) return 0;
    dc = dictScan(&kv->slot[next], dc, fn, priv);
    if (dc == 0) {
        next = nextFullSlot(kv, next + 1);
        if (next >= kv->nslots) return 0;
    }
    return dc << KVS_SLOT_BITS | next;
}

void kvsIterInit(kvsIter *it, kvstore *kv, int safe) {
    memset(it, 0, sizeof(*it));
    it->kv = kv;
    it->safe = safe;
}

dictNode *kvsNext(kvsIter *it) {
    kvstore *kv = it->kv;
    for (;;) {
        if (it->open) {
            dictNode *n = dictNext(&it->di);
            if (n) return n;
            dictIterEnd(&it->di);
            it->open = 0;
            it->slot++;
        }
        if (!perSlot(kv) && it->slot > 0) return NULL;
        if (perSlot(kv)) {
            while (it->slot < kv->nslots && kv->count[it->slot] == 0) it->slot++;
            if (it->slot >= kv->nslots) return NULL;
        }
        dictIterInit(&it->di, tableOf(kv, it->slot), it->safe);
        it->open = 1;
    }
}

void kvsIterEnd(kvsIter *it) {
    if (it->open) dictIterEnd(&it->di);
    it->open = 0;
    it->kv = NULL;
}

void kvsCron(kvstore *kv, long long budgetUs) {
    if (!perSlot(kv)) {
        dictShrinkIfNeeded(&kv->one);
        if (dictIsRehashing(&kv->one)) dictRehashMicroseconds(&kv->one, budgetUs);
        return;
    }
    for (unsigned i = 0; i < CRON_SLOTS; i++) {
        unsigned s = kv->cronCursor;
        kv->cronCursor = (kv->cronCursor + 1) & (kv->nslots - 1);
        dict *d = &kv->slot[s];
        if (d->pauserehash || dictBuckets(d) == 0) continue;
        if (dictSize(d) == 0) {
            dictEmpty(d, NULL, NULL); /* frees the buckets */
            headSync(kv, s);
            if (kv->rehashSlot == (int)s) kv->rehashSlot = -1;
            continue;
        }
        dictShrinkIfNeeded(d);
        headSync(kv, s);
        if (dictIsRehashing(d) && kv->rehashSlot < 0) kv->rehashSlot = (int)s;
    }
    /* One table at a time gets the budget, as the single table does. */
    if (kv->rehashSlot >= 0) {
        dict *d = &kv->slot[kv->rehashSlot];
        if (dictIsRehashing(d)) dictRehashMicroseconds(d, budgetUs);
        headSync(kv, (unsigned)kv->rehashSlot);
        if (!dictIsRehashing(d)) kv->rehashSlot = -1;
    }
}

size_t kvsBuckets(const kvstore *kv) {
    if (!perSlot(kv)) return dictBuckets(&kv->one);
    size_t b = 0;
    for (unsigned s = 0; s < kv->nslots; s++) b += dictBuckets(&kv->slot[s]);
    return b;
}

size_t kvsOverhead(const kvstore *kv) {
    size_t bytes = kvsBuckets(kv) * sizeof(dictNode *);
    if (!perSlot(kv)) return bytes;
    return bytes + kv->nslots * (sizeof(dict) + sizeof(kvsHead) + sizeof(uint32_t)) + kv->nslots / GROUP_SLOTS * sizeof(uint64_t);
}

void kvsEmpty(kvstore *kv, void (*freefn)(dictNode *n, void *priv), void *priv) {
    if (!perSlot(kv)) {
        dictEmpty(&kv->one, freefn, priv);
    } else {
        for (unsigned s = 0; s < kv->nslots; s++)
            if (dictBuckets(&kv->slot[s])) dictEmpty(&kv->slot[s], freefn, priv);
        memset(kv->head, 0, sizeof(kvsHead) * kv->nslots);
        memset(kv->count, 0, sizeof(uint32_t) * kv->nslots);
        memset(kv->group, 0, sizeof(uint64_t) * (kv->nslots / GROUP_SLOTS));
    }
    kv->size = 0;
    kv->rehashSlot = -1;
}

void kvsRelease(kvstore *kv, void (*freefn)(dictNode *n, void *priv), void *priv) {
    kvsEmpty(kv, freefn, priv);
    memFree(kv->slot);
    memFree(kv->head);
    memFree(kv->count);
    memFree(kv->group);
    kv->slot = NULL;
    kv->head = NULL;
    kv->count = NULL;
    kv->group = NULL;
}

void kvsMove(kvstore *dst, kvstore *src) {
    *dst = *src;
    kvsInit(src, dst->type, perSlot(dst));
}
