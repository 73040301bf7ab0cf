/* test_kvstore.c - unit tests for kvstore.c, a db's key table (one dict, or
 * one per hash slot in cluster mode).
 *
 * Owns: nothing in the server; it builds its own nodes. Checks, against a
 * model of which nodes are linked, through random inserts and deletes over
 * many slots and one hot slot (whose table grows, rehashes and shrinks):
 * every linked node is found and no other; per-slot counts and the total;
 * each slot's head matches its dict whenever it is set (the lookup's fast
 * path trusts it); SCAN's guarantee across slots while tables change
 * between calls; iteration (safe, with deletion); random picks and samples
 * return linked nodes; the cron gives back an emptied slot's buckets;
 * kvsMove and kvsEmpty. Must never depend on the hash seed. */
#include "cluster.h"
#include "dict.h"
#include "kvstore.h"
#include "mem.h"
#include "unit.h"
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct tnode {
    dictNode link; /* first, as dict.h requires */
    int linked;
    int seen;
    size_t klen;
    char key[32];
} tnode;

static void tnodeKey(const dictNode *n, const char **p, size_t *len) {
    const tnode *t = (const tnode *)n;
    *p = t->key;
    *len = t->klen;
}

static const dictType type = {tnodeKey, 0};

#define N 30000
static tnode nodes[N];

/* Keys 0..N/3 share the hot slot (a hash tag); the others spread. */
static void makeKeys(void) {
    for (int i = 0; i < N; i++) {
        nodes[i].klen = (size_t)(i < N / 3 ? snprintf(nodes[i].key, sizeof(nodes[i].key), "{hot}:%d", i)
                                           : snprintf(nodes[i].key, sizeof(nodes[i].key), "key:%d", i));
        nodes[i].linked = 0;
    }
}

static void link_(kvstore *kv, int i) {
    kvsAdd(kv, &nodes[i].link);
    nodes[i].linked = 1;
}

static void unlink_(kvstore *kv, int i) {
    dictNode *n = kvsUnlink(kv, nodes[i].key, nodes[i].klen);
    CHECK(n == &nodes[i].link);
    nodes[i].linked = 0;
}

/* Every head that is set names its dict's only table, with its mask. */
static int headsMatch(const kvstore *kv) {
    for (unsigned s = 0; s < kv->nslots; s++) {
        const kvsHead *h = &kv->head[s];
        const dict *d = &kv->slot[s];
        if (!h->table) continue;
        if (dictIsRehashing(d) || h->table != d->table[0] || h->mask != d->size[0] - 1) return 0;
    }
    return 1;
}

static void checkModel(kvstore *kv) {
    size_t linked = 0;
    static uint32_t count[1 << KVS_SLOT_BITS];
    memset(count, 0, sizeof(count));
    int found = 1;
    for (int i = 0; i < N; i++) {
        dictNode *n = kvsFind(kv, nodes[i].key, nodes[i].klen);
        if (nodes[i].linked) {
            linked++;
            count[clusterKeySlot(nodes[i].key, nodes[i].klen)]++;
            if (n != &nodes[i].link) found = 0;
        } else if (n) {
            found = 0;
        }
    }
    CHECK(found);
    CHECK_EQ_INT(kvsSize(kv), linked);
    int counts = 1;
    for (unsigned s = 0; s < kv->nslots; s++)
        if (kvsSlotSize(kv, s) != count[s]) counts = 0;
    CHECK(counts);
    CHECK(headsMatch(kv));
}

static void scanCb(void *priv, dictNode *n) {
    (void)priv;
    ((tnode *)n)->seen++;
}

static void testRandomOpsPerSlot(void) {
    UNIT_SECTION("random ops per slot");
    kvstore kv;
    kvsInit(&kv, &type, 1);
    CHECK_EQ_INT(kv.nslots, 1 << KVS_SLOT_BITS);
    makeKeys();
    for (int round = 0; round < 6; round++) {
        /* Grow to most keys, then shrink to few: the hot slot's table
         * rehashes both ways, the cron runs in between. */
        int target = round % 2 == 0 ? N * 9 / 10 : N / 20;
        for (int step = 0; step < N * 2; step++) {
            int i = (int)(random() % N);
            int want = (int)(random() % N) < target;
            if (want && !nodes[i].linked) link_(&kv, i);
            else if (!want && nodes[i].linked) unlink_(&kv, i);
            if (step % 997 == 0) kvsCron(&kv, 50);
        }
        checkModel(&kv);
    }
    /* Everything out: the cron gives every bucket back within a sweep. */
    for (int i = 0; i < N; i++)
        if (nodes[i].linked) unlink_(&kv, i);
    for (int t = 0; t < 40; t++) kvsCron(&kv, 1000);
    CHECK_EQ_INT(kvsBuckets(&kv), 0);
    CHECK(headsMatch(&kv));
    checkModel(&kv);
    kvsRelease(&kv, NULL, NULL);
}

/* One slot growing key by key, then shrinking: each key is found right
 * after the call that linked it (whatever that call did to the table), and
 * no head is ever stale. */
static void testOneSlotGrowsAndShrinks(void) {
    UNIT_SECTION("one slot grows and shrinks");
    kvstore kv;
    kvsInit(&kv, &type, 1);
    makeKeys();
    int found = 1, heads = 1;
    for (int i = 0; i < N / 3; i++) {
        link_(&kv, i);
        if (kvsFind(&kv, nodes[i].key, nodes[i].klen) != &nodes[i].link) found = 0;
        if (!headsMatch(&kv)) heads = 0;
        if (i % 500 == 0) {
            for (int j = 0; j <= i; j++)
                if (kvsFind(&kv, nodes[j].key, nodes[j].klen) != &nodes[j].link) found = 0;
        }
    }
    for (int i = 0; i < N / 3 - 10; i++) {
        unlink_(&kv, i);
        if (i % 1000 == 0) kvsCron(&kv, 1000); /* shrinks the table */
        if (!headsMatch(&kv)) heads = 0;
        if (kvsFind(&kv, nodes[N / 3 - 1].key, nodes[N / 3 - 1].klen) != &nodes[N / 3 - 1].link) found = 0;
    }
    CHECK(found);
    CHECK(heads);
    checkModel(&kv);
    kvsRelease(&kv, NULL, NULL);
}

/* A node present for the whole scan is returned, while others come and go
 * between calls (slot tables created, grown, emptied). */
static void testScanAcrossSlots(void) {
    UNIT_SECTION("scan across slots");
    kvstore kv;
    kvsInit(&kv, &type, 1);
    makeKeys();
    for (int i = 0; i < N; i += 2) link_(&kv, i); /* the steady half */
    for (int i = 0; i < N; i++) nodes[i].seen = 0;
    unsigned long cursor = 0;
    int calls = 0;
    do {
        cursor = kvsScan(&kv, cursor, scanCb, NULL);
        int j = 1 + 2 * (int)(random() % (N / 2)); /* an odd one */
        if (nodes[j].linked) unlink_(&kv, j);
        else link_(&kv, j);
        calls++;
    } while (cursor && calls < 10 * N);
    CHECK(cursor == 0);
    int missed = 0;
    for (int i = 0; i < N; i += 2) missed += nodes[i].seen == 0;
    CHECK_EQ_INT(missed, 0);
    kvsRelease(&kv, NULL, NULL);
}

static void testIterRandomSample(void) {
    UNIT_SECTION("iteration, random, sample");
    kvstore kv;
    kvsInit(&kv, &type, 1);
    makeKeys();
    for (int i = 0; i < N; i += 3) link_(&kv, i);
    for (int i = 0; i < N; i++) nodes[i].seen = 0;
    kvsIter it;
    kvsIterInit(&it, &kv, 0);
    for (dictNode *n; (n = kvsNext(&it));) ((tnode *)n)->seen++;
    kvsIterEnd(&it);
    int once = 1;
    for (int i = 0; i < N; i++)
        if (nodes[i].seen != nodes[i].linked) once = 0;
    CHECK(once);
    int linkedOnly = 1;
    for (int k = 0; k < 2000; k++) {
        tnode *t = (tnode *)kvsRandom(&kv);
        if (!t || !t->linked) linkedOnly = 0;
        dictNode *out[16];
        size_t got = kvsSample(&kv, out, 16);
        if (got != 16) linkedOnly = 0;
        for (size_t j = 0; j < got; j++)
            if (!((tnode *)out[j])->linked) linkedOnly = 0;
    }
    CHECK(linkedOnly);
    /* A safe iterator may unlink the node it just returned. */
    kvsIterInit(&it, &kv, 1);
    for (dictNode *n; (n = kvsNext(&it));) unlink_(&kv, (int)((tnode *)n - nodes));
    kvsIterEnd(&it);
    CHECK_EQ_INT(kvsSize(&kv), 0);
    CHECK(kvsRandom(&kv) == NULL);
    checkModel(&kv);
    kvsRelease(&kv, NULL, NULL);
}

/* The dispatch's prefetch memoises a key's slot and hash: only a lookup of
 * the same bytes may use them, whatever buffer they are in. */
static void testPrefetchMemo(void) {
    UNIT_SECTION("prefetch memo");
    kvstore kv;
    kvsInit(&kv, &type, 1);
    makeKeys();
    for (int i = 0; i < N; i += 2) link_(&kv, i);
    int right = 1;
    for (int k = 0; k < 5000; k++) {
        int a = (int)(random() % N), b = (int)(random() % N);
        char copy[32];
        memcpy(copy, nodes[a].key, nodes[a].klen); /* other buffer, same bytes */
        if (k % 2) kvsPrefetchHead(&kv, nodes[a].key, nodes[a].klen);
        else kvsPrefetchBucket(&kv, nodes[a].key, nodes[a].klen);
        dictNode *na = kvsFind(&kv, copy, nodes[a].klen);
        dictNode *nb = kvsFind(&kv, nodes[b].key, nodes[b].klen); /* often the same length */
        if (na != (nodes[a].linked ? &nodes[a].link : NULL)) right = 0;
        if (nb != (nodes[b].linked ? &nodes[b].link : NULL)) right = 0;
        if (kvsSlotOf(&kv, nodes[b].key, nodes[b].klen) != clusterKeySlot(nodes[b].key, nodes[b].klen)) right = 0;
        /* the memoised bytes now name another key: a lookup of them is of that key */
        memcpy(copy, nodes[b].key, nodes[b].klen);
        if (kvsFind(&kv, copy, nodes[b].klen) != nb) right = 0;
    }
    CHECK(right);
    kvsRelease(&kv, NULL, NULL);
}

static void countFreed(dictNode *n, void *priv) {
    ((tnode *)n)->linked = 0;
    (*(int *)priv)++;
}

static void testMoveAndEmpty(void) {
    UNIT_SECTION("move and empty");
    kvstore a, b;
    kvsInit(&a, &type, 1);
    makeKeys();
    for (int i = 0; i < N; i += 5) link_(&a, i);
    size_t n = kvsSize(&a);
    kvsMove(&b, &a);
    CHECK_EQ_INT(kvsSize(&a), 0);
    CHECK(kvsFind(&a, nodes[0].key, nodes[0].klen) == NULL);
    CHECK(kvsFind(&b, nodes[0].key, nodes[0].klen) == &nodes[0].link);
    CHECK_EQ_INT(kvsSize(&b), n);
    link_(&a, 1); /* the emptied store is usable */
    CHECK(kvsFind(&a, nodes[1].key, nodes[1].klen) == &nodes[1].link);
    int freed = 0;
    kvsRelease(&b, countFreed, &freed);
    CHECK_EQ_INT(freed, n);
    kvsEmpty(&a, NULL, NULL);
    CHECK_EQ_INT(kvsSize(&a), 0);
    CHECK(kvsFind(&a, nodes[1].key, nodes[1].klen) == NULL);
    kvsRelease(&a, NULL, NULL);
}

static void testOneTable(void) {
    UNIT_SECTION("one table");
    kvstore kv;
    kvsInit(&kv, &type, 0);
    CHECK_EQ_INT(kv.nslots, 1);
    makeKeys();
    for (int i = 0; i < N; i += 2) link_(&kv, i);
    CHECK_EQ_INT(kvsSize(&kv), N / 2);
    CHECK_EQ_INT(kvsSlotSize(&kv, 0), N / 2);
    CHECK(kvsFind(&kv, nodes[2].key, nodes[2].klen) == &nodes[2].link);
    CHECK(kvsFind(&kv, nodes[3].key, nodes[3].klen) == NULL);
    for (int i = 0; i < N; i++) nodes[i].seen = 0;
    unsigned long cursor = 0;
    do cursor = kvsScan(&kv, cursor, scanCb, NULL);
    while (cursor);
    int all = 1;
    for (int i = 0; i < N; i += 2) all &= nodes[i].seen > 0;
    CHECK(all);
    kvsRelease(&kv, NULL, NULL);
}

int main(void) {
    uint8_t seed[16];
    for (int i = 0; i < 16; i++) seed[i] = (uint8_t)(i * 29 + 3);
    dictSetSeed(seed);
    srandom(4242);
    testOneSlotGrowsAndShrinks();
    testRandomOpsPerSlot();
    testScanAcrossSlots();
    testIterRandomSample();
    testPrefetchMemo();
    testMoveAndEmpty();
    testOneTable();
    return unitDone();
}
