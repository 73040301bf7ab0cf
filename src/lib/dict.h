/* dict.h - intrusive chained hash table with incremental rehash.
 *
 * Owns: the bucket arrays only. Nodes belong to the caller: a node embeds a
 * dictNode as its FIRST member and the table links it; removing a node hands
 * it back to the caller, who frees it. This saves one allocation and one
 * pointer per entry over a table of separate entries, which is most of
 * Cachet's per-key memory advantage.
 *
 * Keys are byte strings, reached through the type's key() callback, hashed
 * with keyed SipHash (seed set once per process by dictSetSeed).
 * Must never rehash while a safe iterator is open or while resizing is
 * disabled (a forked child shares our pages: touching buckets copies them). */
#ifndef CACHET_DICT_H
#define CACHET_DICT_H
#include <stddef.h>
#include <stdint.h>

typedef struct dictNode {
    struct dictNode *next;
} dictNode;

typedef struct dictType {
    /* Sets *p and *len to the node's key bytes. */
    void (*key)(const dictNode *n, const char **p, size_t *len);
    int nocase; /* hash and compare ASCII case-insensitively */
} dictType;

typedef struct dict {
    const dictType *type;
    dictNode **table[2];
    size_t size[2]; /* 0 or a power of two */
    size_t used[2];
    long rehashidx; /* next bucket of table[0] to move, -1 when not rehashing */
    int pauserehash;
} dict;

typedef struct dictIter {
    dict *d;
    int table;
    long index;
    int safe;
    dictNode *cur, *next;
} dictIter;

void dictSetSeed(const uint8_t seed[16]);
void dictEnableResize(int enable);
uint64_t dictHashKey(const dict *d, const char *key, size_t len);

void dictInit(dict *d, const dictType *type);
/* Unlink every node, calling freefn(node, priv) on each when given; keeps d usable. */
void dictEmpty(dict *d, void (*freefn)(dictNode *n, void *priv), void *priv);
static inline size_t dictSize(const dict *d) { return d->used[0] + d->used[1]; }
static inline size_t dictBuckets(const dict *d) { return d->size[0] + d->size[1]; }
static inline int dictIsRehashing(const dict *d) { return d->rehashidx != -1; }

dictNode *dictFind(dict *d, const char *key, size_t len);
/* The node with this key on one bucket's chain (for a caller that keeps
 * its own copy of a table's address, kvstore.c): no rehash step. */
dictNode *dictChainFind(const dictType *type, dictNode *chain, const char *key, size_t len);
/* Link n; the caller guarantees no node with the same key is present. */
void dictAdd(dict *d, dictNode *n);
/* Swap 'old' (which must be linked) for 'repl' (same key) in place. */
void dictReplaceNode(dict *d, dictNode *old, dictNode *repl);
/* Unlink and return the node with this key, or NULL. Caller frees it. */
dictNode *dictUnlink(dict *d, const char *key, size_t len);

/* Move up to n buckets; returns 1 while more rehashing remains. */
int dictRehash(dict *d, int n);
/* Rehash for about 'us' microseconds; returns buckets moved. */
long dictRehashMicroseconds(dict *d, long long us);
/* Shrink when sparse (called from cron); returns 1 if a resize began. */
int dictShrinkIfNeeded(dict *d);
int dictExpand(dict *d, size_t size);

/* Uniformly random node (every node equally likely, whatever its chain), or
 * NULL when empty; as Redis' dictGetFairRandomKey, exact by rejection. */
dictNode *dictRandomNode(dict *d);
/* Up to count nodes from a random area; returns how many were stored. */
size_t dictSampleNodes(dict *d, dictNode **out, size_t count);

/* Bytes held by the bucket arrays and the nodes (not d itself): nodes are
 * measured exactly up to exactNodes and extrapolated from their average
 * beyond, so MEMORY USAGE and eviction stay cheap on huge collections. */
size_t dictMemoryUsage(dict *d, size_t exactNodes);

/* Cursor scan: every node present for the whole scan is visited at least
 * once, even across rehashing (reverse-binary cursor). Returns next cursor,
 * 0 when done. fn must not add or remove nodes. */
typedef void dictScanFn(void *priv, dictNode *n);
unsigned long dictScan(dict *d, unsigned long cursor, dictScanFn *fn, void *priv);

/* Iteration. A safe iterator pauses rehashing, so the caller may unlink
 * the node just returned. An unsafe one must see no changes at all. */
void dictIterInit(dictIter *it, dict *d, int safe);
dictNode *dictNext(dictIter *it);
void dictIterEnd(dictIter *it);

#endif
