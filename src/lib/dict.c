/* dict.c - intrusive hash table; see dict.h for the ownership contract.
 *
 * Invariants:
 *  - table[1] is non-NULL only while rehashing (rehashidx >= 0); then every
 *    bucket of table[0] below rehashidx is empty.
 *  - lookups and unlinks search table[0] then table[1]; adds go to table[1]
 *    while rehashing so table[0] only drains.
 *  - load factor: grow to the next power of two >= used*2 when used reaches
 *    size (or 5x size when resize is disabled, to bound chain length even
 *    while a child process runs); shrink in cron when under 1/8 full. */
#include "dict.h"
#include "mem.h"
#include "siphash.h"
#include <string.h>
#include <strings.h>
#include <stdlib.h>
#include <time.h>

#define DICT_MIN_SIZE 4
#define DICT_FORCE_RATIO 5

static uint8_t seed[16];
static int resizeEnabled = 1;

void dictSetSeed(const uint8_t s[16]) { memcpy(seed, s, 16); }
void dictEnableResize(int enable) { resizeEnabled = enable; }

uint64_t dictHashKey(const dict *d, const char *key, size_t len) {
    return d->type->nocase ? siphash13Nocase(key, len, seed) : siphash13(key, len, seed);
}

static int typeKeyEquals(const dictType *type, const dictNode *n, const char *key, size_t len) {
    const char *k;
    size_t kl;
    type->key(n, &k, &kl);
    if (kl != len) return 0;
    return type->nocase ? strncasecmp(k, key, len) == 0 : memcmp(k, key, len) == 0;
}

static int keyEquals(const dict *d, const dictNode *n, const char *key, size_t len) {
    return typeKeyEquals(d->type, n, key, len);
}

dictNode *dictChainFind(const dictType *type, dictNode *chain, const char *key, size_t len) {
    for (dictNode *n = chain; n; n = n->next)
        if (typeKeyEquals(type, n, key, len)) return n;
    return NULL;
}

static uint64_t nodeHash(const dict *d, const dictNode *n) {
    const char *k;
    size_t kl;
    d->type->key(n, &k, &kl);
    return dictHashKey(d, k, kl);
}

void dictInit(dict *d, const dictType *type) {
    memset(d, 0, sizeof(*d));
    d->type = type;
    d->rehashidx = -1;
}

static size_t nextPower(size_t n) {
    size_t s = DICT_MIN_SIZE;
    while (s < n && s < ((size_t)1 << 62)) s <<= 1;
    return s;
}

int dictExpand(dict *d, size_t size) {
    if (dictIsRehashing(d) || d->used[0] > size) return 0;
    size_t real = nextPower(size);
    if (real == d->size[0]) return 0;
    dictNode **t = memCalloc(real * sizeof(dictNode *));
    if (d->table[0] == NULL) {
        d->table[0] = t;
        d->size[0] = real;
        return 1;
    }
    d->table[1] = t;
    d->size[1] = real;
    d->used[1] = 0;
    d->rehashidx = 0;
    return 1;
}

int dictRehash(dict *d, int n) {
    int emptyVisits = n * 10; /* bound the work on sparse tables */
    if (!dictIsRehashing(d)) return 0;
    while (n-- && d->used[0] != 0) {
        while (d->table[0][d->rehashidx] == NULL) {
            d->rehashidx++;
            if (--emptyVisits == 0) return 1;
        }
        dictNode *e = d->table[0][d->rehashidx];
        while (e) {
            dictNode *next = e->next;
            size_t h = nodeHash(d, e) & (d->size[1] - 1);
            e->next = d->table[1][h];
            d->table[1][h] = e;
            d->used[0]--;
            d->used[1]++;
            e = next;
        }
        d->table[0][d->rehashidx] = NULL;
        d->rehashidx++;
    }
    if (d->used[0] == 0) {
        memFree(d->table[0]);
        d->table[0] = d->table[1];
        d->size[0] = d->size[1];
        d->used[0] = d->used[1];
        d->table[1] = NULL;
        d->size[1] = 0;
        d->used[1] = 0;
        d->rehashidx = -1;
        return 0;
    }
    return 1;
}

static long long nowUs(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

long dictRehashMicroseconds(dict *d, long long us) {
    if (d->pauserehash) return 0;
    long long start = nowUs();
    long moved = 0;
    while (dictRehash(d, 100)) {
        moved += 100;
        if (nowUs() - start > us) break;
    }
    return moved;
}

static void rehashStep(dict *d) {
    if (d->pauserehash == 0) dictRehash(d, 1);
}

static void expandIfNeeded(dict *d) {
    if (dictIsRehashing(d)) return;
    if (d->size[0] == 0) {
        dictExpand(d, DICT_MIN_SIZE);
        return;
    }
    if (d->used[0] >= d->size[0] &&
        (resizeEnabled || d->used[0] / d->size[0] > DICT_FORCE_RATIO))
        dictExpand(d, d->used[0] + 1);
}

int dictShrinkIfNeeded(dict *d) {
    if (!resizeEnabled || dictIsRehashing(d) || d->pauserehash) return 0;
    size_t used = d->used[0];
    if (d->size[0] > DICT_MIN_SIZE && used * 8 < d->size[0]) {
        size_t target = nextPower(used);
        if (target < d->size[0]) {
            /* Rehash into a smaller table: same mechanism as growing. */
            dictNode **t = memCalloc(target * sizeof(dictNode *));
            d->table[1] = t;
            d->size[1] = target;
            d->used[1] = 0;
            d->rehashidx = 0;
            return 1;
        }
    }
    return 0;
}

dictNode *dictFind(dict *d, const char *key, size_t len) {
    if (dictSize(d) == 0) return NULL;
    if (dictIsRehashing(d)) rehashStep(d);
    uint64_t h = dictHashKey(d, key, len);
    for (int t = 0; t <= 1; t++) {
        if (d->size[t] == 0) break;
        for (dictNode *n = d->table[t][h & (d->size[t] - 1)]; n; n = n->next)
            if (keyEquals(d, n, key, len)) return n;
        if (!dictIsRehashing(d)) break;
    }
    return NULL;
}

void dictAdd(dict *d, dictNode *n) {
    if (dictIsRehashing(d)) rehashStep(d);
    expandIfNeeded(d);
    int t = dictIsRehashing(d) ? 1 : 0;
    size_t idx = nodeHash(d, n) & (d->size[t] - 1);
    n->next = d->table[t][idx];
    d->table[t][idx] = n;
    d->used[t]++;
}

/* Pointer to the link that points at the node with this key, or NULL. */
static dictNode **findLink(dict *d, const char *key, size_t len, int *table) {
    if (dictSize(d) == 0) return NULL;
    uint64_t h = dictHashKey(d, key, len);
    for (int t = 0; t <= 1; t++) {
        if (d->size[t] == 0) break;
        dictNode **link = &d->table[t][h & (d->size[t] - 1)];
        while (*link) {
            if (keyEquals(d, *link, key, len)) {
                *table = t;
                return link;
            }
            link = &(*link)->next;
        }
        if (!dictIsRehashing(d)) break;
    }
    return NULL;
}

void dictReplaceNode(dict *d, dictNode *old, dictNode *repl) {
    const char *k;
    size_t kl;
    int t;
    d->type->key(old, &k, &kl);
    dictNode **link = findLink(d, k, kl, &t);
    if (!link || *link != old) abort(); /* caller broke the contract */
    repl->next = old->next;
    *link = repl;
}

dictNode *dictUnlink(dict *d, const char *key, size_t len) {
    if (dictIsRehashing(d)) rehashStep(d);
    int t;
    dictNode **link = findLink(d, key, len, &t);
    if (!link) return NULL;
    dictNode *n = *link;
    *link = n->next;
    n->next = NULL;
    d->used[t]--;
    return n;
}

void dictEmpty(dict *d, void (*freefn)(dictNode *, void *), void *priv) {
    for (int t = 0; t <= 1; t++) {
        for (size_t i = 0; i < d->size[t]; i++) {
            dictNode *n = d->table[t][i];
            while (n) {
                dictNode *next = n->next;
                if (freefn) freefn(n, priv);
                n = next;
            }
        }
        memFree(d->table[t]);
        d->table[t] = NULL;
        d->size[t] = d->used[t] = 0;
    }
    d->rehashidx = -1;
    d->pauserehash = 0;
}

/* A uniformly random node, by rejection sampling: pick a bucket uniformly,
 * then a slot i uniformly in [0, M); accept node i of the chain when the
 * chain has more than i nodes, else start over. Every node then has the same
 * chance 1/(buckets*M) per round, whatever its chain's length (picking a
 * random node of a random bucket favoured members of short chains: chi-square
 * in the thousands over 200 members). M must be at least the longest chain for
 * this to be exact; it grows with the load factor (chains over M are about
 * one bucket in a million at load 1, and such a chain's members get M/len of
 * their share). Expected work: M * buckets / nodes probes, 10-20 at the
 * usual loads. Buckets of table[0] below rehashidx are empty and skipped. */
dictNode *dictRandomNode(dict *d) {
    size_t total = dictSize(d);
    if (total == 0) return NULL;
    if (dictIsRehashing(d)) rehashStep(d);
    size_t s0 = d->size[0], s1 = d->size[1];
    size_t from = dictIsRehashing(d) ? (size_t)d->rehashidx : 0;
    size_t buckets = s0 - from + s1;
    size_t load = (total + buckets - 1) / buckets; /* ceil: 1 up to load 1 */
    size_t m = 8 + 2 * load;
    for (;;) {
        size_t h = from + (((size_t)random() << 31 ^ (size_t)random()) % buckets);
        dictNode *n = h >= s0 ? d->table[1][h - s0] : d->table[0][h];
        if (!n) continue;
        size_t len = 0;
        for (dictNode *x = n; x; x = x->next) len++;
        size_t pick = (size_t)random() % (len > m ? len : m);
        if (pick >= len) continue;
        while (pick--) n = n->next; // NOLINT(clang-analyzer-core.NullDereference): pick < len, the chain length
        return n;
    }
}

size_t dictMemoryUsage(dict *d, size_t exactNodes) {
    size_t total = 0, n = dictSize(d), seen = 0, nodes = 0;
    for (int t = 0; t <= 1; t++)
        if (d->table[t]) total += memUsableSize(d->table[t]);
    dictIter it;
    dictIterInit(&it, d, 0);
    for (dictNode *x; seen < exactNodes && (x = dictNext(&it)); seen++) nodes += memUsableSize(x);
    dictIterEnd(&it);
    if (seen && seen < n) nodes = (size_t)((double)nodes / (double)seen * (double)n);
    return total + nodes;
}

size_t dictSampleNodes(dict *d, dictNode **out, size_t count) {
    size_t total = dictSize(d);
    if (count > total) count = total;
    if (count == 0) return 0;
    for (size_t j = 0; j < count && dictIsRehashing(d); j++) rehashStep(d);
    int tables = dictIsRehashing(d) ? 2 : 1;
    size_t maxmask = d->size[0] - 1;
    if (tables > 1 && d->size[1] - 1 > maxmask) maxmask = d->size[1] - 1;
    size_t i = (size_t)random() & maxmask;
    size_t emptyRun = 0, stored = 0, steps = count * 10;
    while (stored < count && steps--) {
        for (int t = 0; t < tables; t++) {
            if (tables == 2 && t == 0 && i < (size_t)d->rehashidx) {
                /* Already moved: jump ahead when table[1] is smaller. */
                if (i >= d->size[1]) i = (size_t)d->rehashidx;
                else continue;
            }
            if (i >= d->size[t]) continue;
            dictNode *n = d->table[t][i];
            if (!n) {
                emptyRun++;
                if (emptyRun >= 5 && emptyRun > count) {
                    i = (size_t)random() & maxmask;
                    emptyRun = 0;
                }
            } else {
                emptyRun = 0;
                while (n && stored < count) {
                    out[stored++] = n;
                    n = n->next;
                }
                if (stored == count) return stored;
            }
        }
        i = (i + 1) & maxmask;
    }
    return stored;
}


/* Bit reversal: the scan cursor is incremented in reverse-binary order, high
 * bits first, so buckets visited before a resize map onto buckets visited
 * after it and no node present for the whole scan is missed. */
static unsigned long rev(unsigned long v) {
    unsigned long s = 8 * sizeof(v), mask = ~0UL;
    while ((s >>= 1) > 0) {
        mask ^= (mask << s);
        v = ((v >> s) & mask) | ((v << s) & ~mask);
    }
    return v;
}

static void scanBucket(dict *d, int t, size_t idx, dictScanFn *fn, void *priv) {
    dictNode *n = d->table[t][idx];
    while (n) {
        dictNode *next = n->next;
        fn(priv, n);
        n = next;
    }
}

unsigned long dictScan(dict *d, unsigned long v, dictScanFn *fn, void *priv) {
    if (dictSize(d) == 0) return 0;
    d->pauserehash++;
    if (!dictIsRehashing(d)) {
        unsigned long m0 = d->size[0] - 1;
        scanBucket(d, 0, v & m0, fn, priv);
        v |= ~m0;
        v = rev(v);
        v++;
        v = rev(v);
    } else {
        int small = 0, large = 1;
        if (d->size[0] > d->size[1]) { small = 1; large = 0; }
        unsigned long m0 = d->size[small] - 1, m1 = d->size[large] - 1;
        scanBucket(d, small, v & m0, fn, priv);
        /* Every bucket of the larger table that expands from v&m0. */
        do {
            scanBucket(d, large, v & m1, fn, priv);
            v |= ~m1;
            v = rev(v);
            v++;
            v = rev(v);
        } while (v & (m0 ^ m1));
    }
    d->pauserehash--;
    return v;
}

void dictIterInit(dictIter *it, dict *d, int safe) {
    memset(it, 0, sizeof(*it));
    it->d = d;
    it->index = -1;
    it->safe = safe;
    if (safe) d->pauserehash++;
}

dictNode *dictNext(dictIter *it) {
    dict *d = it->d;
    for (;;) {
        if (it->next) {
            it->cur = it->next;
            it->next = it->cur->next;
            return it->cur;
        }
        it->index++;
        if (it->index >= (long)d->size[it->table]) {
            if (dictIsRehashing(d) && it->table == 0) {
                it->table = 1;
                it->index = 0;
            } else {
                return NULL;
            }
        }
        if (it->index >= (long)d->size[it->table]) return NULL;
        it->next = d->table[it->table][it->index]; // NOLINT(clang-analyzer-core.NullDereference): size[t] > 0 only while table[t] is allocated
    }
}

void dictIterEnd(dictIter *it) {
    if (it->safe && it->d) it->d->pauserehash--;
    it->d = NULL;
}
