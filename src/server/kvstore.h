/* kvstore.h - a database's key table: one dict, or in cluster mode one
 * dict per hash slot (the layout Valkey 8 calls kvstore).
 *
 * Why per slot: cluster mode must list a slot's keys in what the slot holds
 * (COUNTKEYSINSLOT, GETKEYSINSLOT, MIGRATE, dropping a lost slot). A table
 * per slot does it without a byte per key: a link list through the entries
 * cost 16 bytes each, which moved a small key into a larger allocation
 * class and made every lookup touch more memory.
 *
 * Owns: the slot tables and their bucket arrays, never the nodes (dict.h's
 * contract: a node embeds its dictNode first and belongs to the caller).
 * Keys reach the slot through clusterKeySlot; a node must stay in the table
 * of its key's slot, so a key is never renamed in place.
 * Must never: free a slot's buckets while an iterator or a scan holds them
 * (an empty table's are freed by kvsCron, between commands, and only when
 * no safe iterator pauses it), or touch srv state in kvsRelease (the
 * lazy-free thread calls it). */
#ifndef CACHET_KVSTORE_H
#define CACHET_KVSTORE_H
#include <stddef.h>
#include <stdint.h>
#include "dict.h"

#define KVS_SLOT_BITS 14 /* 16384 tables; SCAN's cursor keeps the slot in its low bits */

/* A slot table's address, copied where a lookup finds it without loading
 * the 72-byte dict (see kvstore.c); table is NULL while the slot's dict
 * has no buckets or is rehashing (the lookup then goes through the dict). */
typedef struct kvsHead {
    dictNode **table;
    size_t mask;
} kvsHead;

/* The slot and hash of the key kvsPrefetchKey was last given: pure
 * functions of the key's bytes, so a later lookup of equal bytes reuses
 * them (checked by comparing the bytes, never by pointer). */
#define KVS_MEMO_MAX 48
typedef struct kvsMemo {
    size_t len; /* 0: empty (an empty key is never memoised) */
    uint64_t hash;
    unsigned slot;
    char key[KVS_MEMO_MAX];
} kvsMemo;

typedef struct kvstore {
    const dictType *type;
    unsigned nslots;   /* 1, or 1 << KVS_SLOT_BITS */
    dict one;          /* the table when nslots == 1 */
    dict *slot;        /* nslots > 1: every slot's table (buckets only while it has keys) */
    kvsHead *head;     /* nslots > 1: slot[s]'s buckets, or NULL (see kvsHead) */
    uint32_t *count;   /* nslots > 1: keys per slot (a dense copy for kvsRandom's walk) */
    uint64_t *group;   /* nslots > 1: keys per 128 consecutive slots */
    size_t size;       /* keys in every table */
    unsigned cronCursor; /* next slot kvsCron looks at */
    int rehashSlot;    /* a slot kvsCron saw rehashing, -1 when none */
    kvsMemo memo;      /* nslots > 1: see kvsPrefetchKey */
} kvstore;

typedef struct kvsIter {
    kvstore *kv;
    unsigned slot;
    int safe, open;
    dictIter di;
} kvsIter;

/* perSlot: one table per hash slot (cluster mode), else one table. */
void kvsInit(kvstore *kv, const dictType *type, int perSlot);
/* Unlinks every node (freefn on each when given) and frees every table;
 * kv stays usable. */
void kvsEmpty(kvstore *kv, void (*freefn)(dictNode *n, void *priv), void *priv);
/* kvsEmpty, then frees kv's own arrays: kv is unusable until kvsInit. */
void kvsRelease(kvstore *kv, void (*freefn)(dictNode *n, void *priv), void *priv);
/* dst takes every table and node of src; src is left empty, same shape. */
void kvsMove(kvstore *dst, kvstore *src);

static inline size_t kvsSize(const kvstore *kv) { return kv->size; }
size_t kvsSlotSize(const kvstore *kv, unsigned slot);
/* The slot a key's node lives under (0 when nslots == 1). */
unsigned kvsSlotOf(const kvstore *kv, const char *key, size_t len);

dictNode *kvsFind(kvstore *kv, const char *key, size_t len);
void kvsAdd(kvstore *kv, dictNode *n);        /* the key must be absent */
void kvsReplaceNode(kvstore *kv, dictNode *old, dictNode *repl); /* same key */
dictNode *kvsUnlink(kvstore *kv, const char *key, size_t len);
/* Fetches the bucket a key would be in (a load about to look it up). */
void kvsPrefetch(kvstore *kv, const char *key, size_t len);
/* The dispatch knows a command's key long before the command looks it
 * up: kvsPrefetchHead (as soon as the arguments are parsed) memoises the
 * key's slot and hash and fetches the slot's head; kvsPrefetchBucket (once
 * the key is known to be this node's) fetches the bucket the key would be
 * in. The checks between overlap the misses. No-ops with one table. */
void kvsPrefetchHead(kvstore *kv, const char *key, size_t len);
void kvsPrefetchBucket(kvstore *kv, const char *key, size_t len);
/* Pre-sizes the table for n keys (one table only; per slot they grow alone). */
void kvsExpand(kvstore *kv, size_t n);

/* Up to max nodes of one slot (any order); returns how many. */
size_t kvsSlotNodes(kvstore *kv, unsigned slot, dictNode **out, size_t max);
/* Uniformly random node, or NULL when empty. */
dictNode *kvsRandom(kvstore *kv);
/* Up to count nodes from a random area (eviction's sample). */
size_t kvsSample(kvstore *kv, dictNode **out, size_t count);
/* Cursor scan over every table (dictScan's guarantee per table; the slot
 * is the cursor's low KVS_SLOT_BITS bits in per-slot mode). */
unsigned long kvsScan(kvstore *kv, unsigned long cursor, dictScanFn *fn, void *priv);

void kvsIterInit(kvsIter *it, kvstore *kv, int safe);
dictNode *kvsNext(kvsIter *it);
void kvsIterEnd(kvsIter *it);

/* Cron: shrinks sparse tables, frees empty slot tables and rehashes for
 * about budgetUs. */
void kvsCron(kvstore *kv, long long budgetUs);
/* Buckets of every table, and bytes of the per-slot bookkeeping. */
size_t kvsBuckets(const kvstore *kv);
size_t kvsOverhead(const kvstore *kv);

#endif
