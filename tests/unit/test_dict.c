/* test_dict.c - unit tests for dict.c, the intrusive hash table.
 *
 * Owns: nothing in the server; it builds its own tables of test nodes.
 * Checks what the keyspace relies on: every linked node can be found in
 * whichever table it sits during an incremental rehash (growing and
 * shrinking), SCAN's guarantee (a node present for the whole scan is
 * returned at least once) while the table resizes between calls, safe
 * iteration with deletion, that sampling only returns linked nodes, binary
 * keys and the case-insensitive type. Must never depend on a hash seed: the
 * seed is set here and every expectation holds for any seed. */
#include "dict.h"
#include "mem.h"
#include "unit.h"
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct tnode {
    dictNode link; /* first, as dict.h requires */
    int id;
    int linked;   /* 1 while in the dict: the test's own view */
    int seen;     /* scan / iteration visit count */
    size_t klen;
    char key[40];
} tnode;

static void tnodeKey(const dictNode *n, const char **p, size_t *len) {
    const tnode *t = (const tnode *)n;
    *p = t->key;
    *len = t->klen;
}

static const dictType caseType = {tnodeKey, 0};
static const dictType nocaseType = {tnodeKey, 1};

#define NMAX 40000
static tnode nodes[NMAX];

static void nodeInit(tnode *t, int id) {
    memset(t, 0, sizeof(*t));
    t->id = id;
    t->klen = (size_t)snprintf(t->key, sizeof(t->key), "key:%d", id);
}

static int findsAll(dict *d, int from, int to) {
    int bad = 0;
    for (int i = from; i < to; i++) {
        dictNode *n = dictFind(d, nodes[i].key, nodes[i].klen);
        if (nodes[i].linked ? n != &nodes[i].link : n != NULL) bad++;
    }
    return bad;
}

static void addRange(dict *d, int from, int to) {
    for (int i = from; i < to; i++) {
        nodeInit(&nodes[i], i);
        dictAdd(d, &nodes[i].link);
        nodes[i].linked = 1;
    }
}

static void unlinkOne(dict *d, int i) {
    dictNode *n = dictUnlink(d, nodes[i].key, nodes[i].klen);
    CHECKF(n == &nodes[i].link, "unlink key %d returned %p", i, (void *)n);
    nodes[i].linked = 0;
}

static void testBasic(void) {
    UNIT_SECTION("basic add/find/unlink/replace");
    dict d;
    dictInit(&d, &caseType);
    CHECK(dictFind(&d, "x", 1) == NULL);
    CHECK(dictUnlink(&d, "x", 1) == NULL);
    CHECK(dictRandomNode(&d) == NULL);
    dictNode *out[4];
    CHECK_EQ_INT(dictSampleNodes(&d, out, 4), 0);
    CHECK_EQ_INT(dictScan(&d, 0, NULL, NULL), 0);

    const int n = 20000;
    addRange(&d, 0, n);
    CHECK_EQ_INT(dictSize(&d), n);
    /* Finish any rehash so the load factor is the steady one. */
    while (dictRehash(&d, 1000)) {}
    CHECK_EQ_INT(findsAll(&d, 0, n), 0);
    CHECK(dictBuckets(&d) >= (size_t)n);
    CHECK(dictFind(&d, "key:20000", 9) == NULL);
    CHECK(dictFind(&d, "key:1", 4) == NULL); /* a prefix is another key */

    /* Unlink every third node; the rest stay findable. */
    for (int i = 0; i < n; i += 3) unlinkOne(&d, i);
    CHECK(dictUnlink(&d, nodes[0].key, nodes[0].klen) == NULL); /* already gone */
    CHECK_EQ_INT(findsAll(&d, 0, n), 0);
    CHECK_EQ_INT(dictSize(&d), n - (n + 2) / 3);

    /* Replace: the new node is found, the old one no longer linked. */
    static tnode repl[100];
    for (int i = 0; i < 100; i++) {
        int k = 1 + i * 3; /* linked ones */
        repl[i] = nodes[k];
        repl[i].id = -k;
        dictReplaceNode(&d, &nodes[k].link, &repl[i].link);
    }
    int bad = 0;
    for (int i = 0; i < 100; i++) {
        int k = 1 + i * 3;
        dictNode *f = dictFind(&d, nodes[k].key, nodes[k].klen);
        if (f != &repl[i].link) bad++;
    }
    CHECK_EQ_INT(bad, 0);
    CHECK_EQ_INT(dictSize(&d), n - (n + 2) / 3);
    /* Put the originals back so later lookups by nodes[] hold. */
    for (int i = 0; i < 100; i++) dictReplaceNode(&d, &repl[i].link, &nodes[1 + i * 3].link);
    CHECK_EQ_INT(findsAll(&d, 0, n), 0);

    /* dictEmpty hands every node to the free function, and d stays usable. */
    dictEmpty(&d, NULL, NULL);
    CHECK_EQ_INT(dictSize(&d), 0);
    CHECK(dictFind(&d, nodes[1].key, nodes[1].klen) == NULL);
    addRange(&d, 0, 10);
    CHECK_EQ_INT(findsAll(&d, 0, 10), 0);
    dictEmpty(&d, NULL, NULL);
}

static void countFree(dictNode *n, void *priv) {
    (*(long *)priv)++;
    ((tnode *)n)->linked = 0;
}

static void testEmptyCallsFree(void) {
    UNIT_SECTION("dictEmpty frees every node, also mid-rehash");
    dict d;
    dictInit(&d, &caseType);
    addRange(&d, 0, 1000);
    /* Force a rehash to be in progress. */
    while (!dictIsRehashing(&d)) {
        addRange(&d, (int)dictSize(&d), (int)dictSize(&d) + 1);
    }
    CHECK(dictIsRehashing(&d));
    long want = (long)dictSize(&d), freed = 0;
    dictEmpty(&d, countFree, &freed);
    CHECK_EQ_INT(freed, want);
    CHECK_EQ_INT(dictSize(&d), 0);
    CHECK(!dictIsRehashing(&d));
}

/* Brings d into a rehash (growing) with nodes in both tables. */
static int growIntoRehash(dict *d, int start) {
    int i = start;
    while (!dictIsRehashing(d)) addRange(d, i, i + 1), i++;
    /* Move about half the buckets by hand. */
    dictRehash(d, (int)(d->size[0] / 2));
    return i;
}

static void testRehashGrow(void) {
    UNIT_SECTION("incremental rehash: grow");
    dict d;
    dictInit(&d, &caseType);
    addRange(&d, 0, 3000);
    while (dictRehash(&d, 1000)) {}
    int n = growIntoRehash(&d, 3000);
    CHECK(dictIsRehashing(&d));
    CHECK(d.size[1] > d.size[0]);
    CHECKF(d.used[0] > 0 && d.used[1] > 0, "used0=%zu used1=%zu", d.used[0], d.used[1]);
    /* Look up everything without letting the lookups move buckets, so the
     * finds really hit both tables. */
    d.pauserehash++;
    CHECK_EQ_INT(findsAll(&d, 0, n), 0);
    CHECK(dictFind(&d, "nope", 4) == NULL);
    CHECKF(d.used[0] > 0 && d.used[1] > 0, "used0=%zu used1=%zu", d.used[0], d.used[1]);
    /* Unlinks work in both tables too. */
    int removed = 0;
    for (int i = 0; i < n; i += 7) unlinkOne(&d, i), removed++;
    CHECK_EQ_INT(dictSize(&d), n - removed);
    CHECK_EQ_INT(findsAll(&d, 0, n), 0);
    /* Adds during the rehash go to the new table and are found. */
    size_t used1 = d.used[1];
    addRange(&d, n, n + 50);
    CHECK_EQ_INT(d.used[1], used1 + 50);
    CHECK_EQ_INT(findsAll(&d, 0, n + 50), 0);
    d.pauserehash--;
    /* Finishing the rehash keeps everything. */
    while (dictRehash(&d, 100)) {}
    CHECK(!dictIsRehashing(&d));
    CHECK_EQ_INT(d.used[1], 0);
    CHECK_EQ_INT(findsAll(&d, 0, n + 50), 0);
    CHECK_EQ_INT(dictSize(&d), n + 50 - removed);
    dictEmpty(&d, NULL, NULL);
}

static void testRehashShrink(void) {
    UNIT_SECTION("incremental rehash: shrink");
    dict d;
    dictInit(&d, &caseType);
    const int n = 16384;
    addRange(&d, 0, n);
    while (dictRehash(&d, 1000)) {}
    size_t bigSize = d.size[0];
    /* Keep 1 in 32: well under 1/8 full. */
    for (int i = 0; i < n; i++)
        if (i % 32) unlinkOne(&d, i);
    while (dictRehash(&d, 1000)) {}
    CHECK_EQ_INT(dictSize(&d), n / 32);
    CHECK(dictShrinkIfNeeded(&d) == 1);
    CHECK(dictIsRehashing(&d));
    CHECK(d.size[1] < bigSize);
    dictRehash(&d, 100); /* 100 of the 512 occupied buckets */
    CHECK(dictIsRehashing(&d));
    CHECKF(d.used[0] > 0 && d.used[1] > 0, "used0=%zu used1=%zu", d.used[0], d.used[1]);
    d.pauserehash++;
    CHECK_EQ_INT(findsAll(&d, 0, n), 0);
    /* Random and sampled nodes are linked ones while shrinking. */
    int bad = 0;
    for (int i = 0; i < 2000; i++) {
        tnode *t = (tnode *)dictRandomNode(&d);
        if (!t || !t->linked) bad++;
    }
    CHECK_EQ_INT(bad, 0);
    dictNode *out[64];
    for (int i = 0; i < 200; i++) {
        size_t got = dictSampleNodes(&d, out, 64);
        if (got == 0) bad++;
        for (size_t j = 0; j < got; j++)
            if (!((tnode *)out[j])->linked) bad++;
    }
    CHECK_EQ_INT(bad, 0);
    d.pauserehash--;
    CHECK(dictShrinkIfNeeded(&d) == 0); /* not while rehashing */
    while (dictRehash(&d, 100)) {}
    CHECK(d.size[0] < bigSize);
    CHECK(d.size[0] >= dictSize(&d));
    CHECK_EQ_INT(findsAll(&d, 0, n), 0);
    /* No shrink while a safe iterator is open; it happens once closed. */
    for (int i = 0; i < n; i += 32)
        if (i % 2048) unlinkOne(&d, i);
    CHECK_EQ_INT(dictSize(&d), 8);
    dictIter it;
    dictIterInit(&it, &d, 1);
    CHECK(dictShrinkIfNeeded(&d) == 0);
    dictIterEnd(&it);
    CHECK(dictShrinkIfNeeded(&d) == 1);
    while (dictRehash(&d, 100)) {}
    CHECK_EQ_INT(findsAll(&d, 0, n), 0);
    dictEmpty(&d, NULL, NULL);
}

/* ---- scan --------------------------------------------------------------- */

static void scanMark(void *priv, dictNode *n) {
    (void)priv;
    ((tnode *)n)->seen++;
}

static void testScanWhileGrowing(void) {
    UNIT_SECTION("scan guarantee while growing");
    dict d;
    dictInit(&d, &caseType);
    const int n = 1000;
    addRange(&d, 0, n);
    while (dictRehash(&d, 1000)) {}
    int next = n, calls = 0, sawRehash = 0;
    unsigned long cursor = 0;
    do {
        cursor = dictScan(&d, cursor, scanMark, NULL);
        calls++;
        /* Grow the table between calls: several resizes over the scan. */
        for (int k = 0; k < 40 && next < NMAX; k++) addRange(&d, next, next + 1), next++;
        if (dictIsRehashing(&d)) sawRehash++;
    } while (cursor != 0 && calls < 1000000);
    CHECK(cursor == 0);
    CHECKF(sawRehash > 0, "the scan never ran during a rehash");
    int missed = 0;
    for (int i = 0; i < n; i++)
        if (nodes[i].seen == 0) missed++;
    CHECKF(missed == 0, "%d of %d nodes present for the whole scan were not returned", missed, n);
    dictEmpty(&d, NULL, NULL);
}

static void testScanWhileShrinking(void) {
    UNIT_SECTION("scan guarantee while shrinking");
    dict d;
    dictInit(&d, &caseType);
    const int n = 20000;
    addRange(&d, 0, n);
    while (dictRehash(&d, 1000)) {}
    /* Nodes with id % 50 == 0 stay for the whole scan; the rest are removed
     * between calls, and the table shrinks (several times) under the scan. */
    int victim = 1, calls = 0, shrinks = 0, sawRehash = 0;
    unsigned long cursor = 0;
    do {
        cursor = dictScan(&d, cursor, scanMark, NULL);
        calls++;
        for (int k = 0; k < 400 && victim < n; victim++) {
            if (victim % 50 == 0) continue;
            unlinkOne(&d, victim);
            k++;
        }
        if (dictShrinkIfNeeded(&d)) shrinks++;
        dictRehash(&d, 2); /* leave the rehash in progress for the next call */
        if (dictIsRehashing(&d)) sawRehash++;
    } while (cursor != 0 && calls < 1000000);
    CHECK(cursor == 0);
    CHECKF(shrinks > 0 && sawRehash > 0, "shrinks=%d sawRehash=%d", shrinks, sawRehash);
    int missed = 0;
    for (int i = 0; i < n; i += 50)
        if (nodes[i].seen == 0) missed++;
    CHECKF(missed == 0, "%d kept nodes were not returned", missed);
    dictEmpty(&d, NULL, NULL);
}

static void testScanStable(void) {
    UNIT_SECTION("scan of a table in mid-rehash visits each node");
    dict d;
    dictInit(&d, &caseType);
    addRange(&d, 0, 5000);
    while (dictRehash(&d, 1000)) {}
    int n = growIntoRehash(&d, 5000);
    unsigned long cursor = 0;
    int calls = 0;
    do {
        cursor = dictScan(&d, cursor, scanMark, NULL);
        calls++;
    } while (cursor && calls < 1000000);
    int missed = 0, dup = 0;
    for (int i = 0; i < n; i++) {
        if (nodes[i].seen == 0) missed++;
        if (nodes[i].seen > 1) dup++;
    }
    CHECK_EQ_INT(missed, 0);
    /* Without changes during the scan no node is returned twice. */
    CHECK_EQ_INT(dup, 0);
    CHECK(dictIsRehashing(&d)); /* scanning does not move buckets */
    dictEmpty(&d, NULL, NULL);
}

/* ---- iterators ------------------------------------------------------------ */

static void testSafeIterDelete(void) {
    UNIT_SECTION("safe iterator deleting the current node");
    dict d;
    dictInit(&d, &caseType);
    addRange(&d, 0, 4000);
    int n = growIntoRehash(&d, 4000); /* iterate across both tables */
    CHECK(dictIsRehashing(&d));
    long rehashidx = d.rehashidx;
    dictIter it;
    dictIterInit(&it, &d, 1);
    dictNode *e;
    int visits = 0;
    while ((e = dictNext(&it)) != NULL) {
        tnode *t = (tnode *)e;
        t->seen++;
        visits++;
        if (t->id % 2 == 0) unlinkOne(&d, t->id);
        /* Lookups during safe iteration must not rehash. */
        dictFind(&d, "key:1", 5);
    }
    dictIterEnd(&it);
    CHECK_EQ_INT(d.rehashidx, rehashidx);
    CHECK_EQ_INT(visits, n);
    int bad = 0;
    for (int i = 0; i < n; i++)
        if (nodes[i].seen != 1) bad++;
    CHECK_EQ_INT(bad, 0);
    CHECK_EQ_INT(dictSize(&d), n / 2);
    CHECK_EQ_INT(findsAll(&d, 0, n), 0);

    /* Deleting every node through the iterator empties the dict. */
    dictIterInit(&it, &d, 1);
    while ((e = dictNext(&it)) != NULL) unlinkOne(&d, ((tnode *)e)->id);
    dictIterEnd(&it);
    CHECK_EQ_INT(dictSize(&d), 0);
    CHECK_EQ_INT(d.pauserehash, 0);
    dictEmpty(&d, NULL, NULL);

    UNIT_SECTION("unsafe iterator visits each node once");
    dictInit(&d, &caseType);
    addRange(&d, 0, 3000);
    n = growIntoRehash(&d, 3000);
    dictIterInit(&it, &d, 0);
    visits = 0;
    while ((e = dictNext(&it)) != NULL) ((tnode *)e)->seen++, visits++;
    dictIterEnd(&it);
    CHECK_EQ_INT(visits, n);
    bad = 0;
    for (int i = 0; i < n; i++)
        if (nodes[i].seen != 1) bad++;
    CHECK_EQ_INT(bad, 0);
    dictEmpty(&d, NULL, NULL);

    UNIT_SECTION("iterator on an empty dict");
    dictInit(&d, &caseType);
    dictIterInit(&it, &d, 1);
    CHECK(dictNext(&it) == NULL);
    dictIterEnd(&it);
    CHECK_EQ_INT(d.pauserehash, 0);
}

/* ---- sampling ------------------------------------------------------------- */

/* Counts contract breaks: a random node that is not linked, a sample with
 * more nodes than asked or present, an unlinked node in a sample. On a
 * sparse table a sample may come back empty (bounded work, as in Redis),
 * so emptiness is only counted when requireSome is set. */
static int sampleBad(dict *d, int rounds, size_t count, int requireSome) {
    dictNode *out[128];
    int bad = 0;
    for (int r = 0; r < rounds; r++) {
        tnode *t = (tnode *)dictRandomNode(d);
        if (!t || !t->linked) bad++;
        size_t got = dictSampleNodes(d, out, count);
        size_t want = count < dictSize(d) ? count : dictSize(d);
        if ((requireSome && got == 0) || got > want) bad++;
        for (size_t j = 0; j < got; j++)
            if (!((tnode *)out[j])->linked) bad++;
    }
    return bad;
}

static void testSampling(void) {
    UNIT_SECTION("random and sampled nodes are linked");
    dict d;
    dictInit(&d, &caseType);
    addRange(&d, 0, 5000);
    while (dictRehash(&d, 1000)) {}
    CHECK_EQ_INT(sampleBad(&d, 500, 16, 1), 0);
    /* Sparse: most nodes removed (and their memory marked unlinked). */
    for (int i = 0; i < 5000; i++)
        if (i % 100) unlinkOne(&d, i);
    CHECK_EQ_INT(sampleBad(&d, 500, 16, 0), 0);
    CHECK_EQ_INT(sampleBad(&d, 100, 128, 0), 0); /* more than present */
    /* During a growing rehash. */
    dictEmpty(&d, NULL, NULL);
    for (int i = 0; i < 5000; i++) nodes[i].linked = 0;
    addRange(&d, 0, 2000);
    while (dictRehash(&d, 1000)) {}
    int n = growIntoRehash(&d, 2000);
    d.pauserehash++; /* keep both tables populated while sampling */
    CHECK_EQ_INT(sampleBad(&d, 500, 20, 1), 0);
    d.pauserehash--;
    CHECK_EQ_INT(sampleBad(&d, 500, 20, 1), 0);
    /* Exactly one node. */
    dictEmpty(&d, NULL, NULL);
    for (int i = 0; i < n; i++) nodes[i].linked = 0;
    addRange(&d, 0, 1);
    dictNode *out[8];
    CHECK(dictRandomNode(&d) == &nodes[0].link);
    CHECK_EQ_INT(dictSampleNodes(&d, out, 8), 1);
    CHECK(out[0] == &nodes[0].link);
    dictEmpty(&d, NULL, NULL);
}

/* ---- fairness of dictRandomNode ---------------------------------------------- */

/* Chi-square of `picks` random picks over the n nodes 0..n-1 (all linked). */
static double pickChiSquare(dict *d, int n, int picks) {
    static int hits[NMAX];
    memset(hits, 0, sizeof(int) * (size_t)n);
    for (int i = 0; i < picks; i++) {
        tnode *t = (tnode *)dictRandomNode(d);
        hits[t->id]++;
    }
    double expect = (double)picks / n, chi = 0;
    for (int i = 0; i < n; i++) chi += ((double)hits[i] - expect) * ((double)hits[i] - expect) / expect;
    return chi;
}

/* 200 nodes, 100 picks each: chi-square has 199 degrees of freedom (mean
 * 199, sd 20); 300 is five sd out. Picking a random node of a random bucket
 * scored 1,900-9,100 here (members of short chains win). */
static void testRandomFair(void) {
    UNIT_SECTION("dictRandomNode is uniform over nodes, not buckets");
    dict d;
    dictInit(&d, &caseType);
    addRange(&d, 0, 200);
    while (dictRehash(&d, 1000)) {}
    double chi = pickChiSquare(&d, 200, 20000);
    CHECKF(chi < 300, "chi-square %.1f over 200 nodes (stable table)", chi);
    /* Mid-rehash: nodes spread over both tables of different sizes. */
    dictEmpty(&d, NULL, NULL);
    addRange(&d, 0, 100);
    while (dictRehash(&d, 1000)) {}
    int n = growIntoRehash(&d, 100);
    d.pauserehash++;
    chi = pickChiSquare(&d, n, n * 100);
    CHECKF(chi < (double)n + 5 * 1.42 * sqrt((double)n), "chi-square %.1f over %d nodes (rehashing)", chi, n);
    d.pauserehash--;
    /* Load 4 (resize disabled, as while a snapshot child runs): long chains. */
    dictEmpty(&d, NULL, NULL);
    addRange(&d, 0, 50);
    while (dictRehash(&d, 1000)) {}
    dictEnableResize(0);
    addRange(&d, 50, (int)d.size[0] * 4);
    n = (int)dictSize(&d);
    CHECK(!dictIsRehashing(&d) && n / (int)d.size[0] == 4);
    chi = pickChiSquare(&d, n, n * 100);
    CHECKF(chi < (double)n + 5 * 1.42 * sqrt((double)n), "chi-square %.1f over %d nodes (load 4)", chi, n);
    dictEnableResize(1);
    dictEmpty(&d, NULL, NULL);
}

/* ---- key kinds --------------------------------------------------------------- */

static void testBinaryKeys(void) {
    UNIT_SECTION("keys with NUL bytes");
    dict d;
    dictInit(&d, &caseType);
    static tnode k[4];
    memset(k, 0, sizeof(k));
    memcpy(k[0].key, "a\0b", 3), k[0].klen = 3;
    memcpy(k[1].key, "a\0c", 3), k[1].klen = 3;
    memcpy(k[2].key, "a", 1), k[2].klen = 1;
    memcpy(k[3].key, "\0\0", 2), k[3].klen = 2;
    for (int i = 0; i < 4; i++) dictAdd(&d, &k[i].link);
    CHECK(dictFind(&d, "a\0b", 3) == &k[0].link);
    CHECK(dictFind(&d, "a\0c", 3) == &k[1].link);
    CHECK(dictFind(&d, "a", 1) == &k[2].link);
    CHECK(dictFind(&d, "\0\0", 2) == &k[3].link);
    CHECK(dictFind(&d, "\0", 1) == NULL);
    CHECK(dictFind(&d, "a\0", 2) == NULL);
    CHECK(dictFind(&d, "", 0) == NULL);
    CHECK(dictUnlink(&d, "a\0c", 3) == &k[1].link);
    CHECK(dictFind(&d, "a\0b", 3) == &k[0].link);
    CHECK(dictFind(&d, "a\0c", 3) == NULL);
    /* The empty key is a key like any other. */
    static tnode empty;
    memset(&empty, 0, sizeof(empty));
    dictAdd(&d, &empty.link);
    CHECK(dictFind(&d, "", 0) == &empty.link);
    CHECK_EQ_INT(dictSize(&d), 4);
    dictEmpty(&d, NULL, NULL);
}

static void testNocase(void) {
    UNIT_SECTION("case-insensitive type");
    dict d;
    dictInit(&d, &nocaseType);
    static tnode k[3];
    memset(k, 0, sizeof(k));
    strcpy(k[0].key, "Get"), k[0].klen = 3;
    strcpy(k[1].key, "config|SET"), k[1].klen = 10;
    strcpy(k[2].key, "x"), k[2].klen = 1;
    for (int i = 0; i < 3; i++) dictAdd(&d, &k[i].link);
    CHECK(dictFind(&d, "GET", 3) == &k[0].link);
    CHECK(dictFind(&d, "get", 3) == &k[0].link);
    CHECK(dictFind(&d, "gEt", 3) == &k[0].link);
    CHECK(dictFind(&d, "CONFIG|set", 10) == &k[1].link);
    CHECK(dictFind(&d, "X", 1) == &k[2].link);
    CHECK(dictFind(&d, "gett", 4) == NULL);
    CHECK(dictHashKey(&d, "HeLLo", 5) == dictHashKey(&d, "hello", 5));
    CHECK(dictUnlink(&d, "GET", 3) == &k[0].link);
    CHECK(dictFind(&d, "get", 3) == NULL);
    dictEmpty(&d, NULL, NULL);

    /* The case-sensitive type keeps them apart (and hashes them apart). */
    dictInit(&d, &caseType);
    static tnode a, b;
    memset(&a, 0, sizeof(a));
    memset(&b, 0, sizeof(b));
    strcpy(a.key, "Key"), a.klen = 3;
    strcpy(b.key, "KEY"), b.klen = 3;
    dictAdd(&d, &a.link);
    dictAdd(&d, &b.link);
    CHECK(dictFind(&d, "Key", 3) == &a.link);
    CHECK(dictFind(&d, "KEY", 3) == &b.link);
    CHECK(dictFind(&d, "key", 3) == NULL);
    dictEmpty(&d, NULL, NULL);

    /* Many mixed-case keys with the nocase type. */
    dictInit(&d, &nocaseType);
    addRange(&d, 0, 5000);
    int bad = 0;
    for (int i = 0; i < 5000; i++) {
        char up[40];
        int l = snprintf(up, sizeof(up), "KEY:%d", i);
        if (dictFind(&d, up, (size_t)l) != &nodes[i].link) bad++;
    }
    CHECK_EQ_INT(bad, 0);
    dictEmpty(&d, NULL, NULL);
}

static void testResizeDisabled(void) {
    UNIT_SECTION("resize disabled: no growth until the forced ratio");
    dict d;
    dictInit(&d, &caseType);
    addRange(&d, 0, 64);
    while (dictRehash(&d, 1000)) {}
    size_t size = d.size[0];
    dictEnableResize(0);
    addRange(&d, 64, 64 + (int)size); /* up to 2x full: not yet forced */
    CHECK(!dictIsRehashing(&d));
    CHECK_EQ_INT(d.size[0], size);
    addRange(&d, 64 + (int)size, 64 + (int)size * 7); /* past 5x: forced */
    CHECK(d.size[0] > size || dictIsRehashing(&d));
    CHECK_EQ_INT(findsAll(&d, 0, 64 + (int)size * 7), 0);
    dictEnableResize(1);
    dictEmpty(&d, NULL, NULL);
}

/* MEMORY USAGE's measure: exact while every node is measured, and with
 * nodes all of one size the extrapolation from a few is exact too. */
static void testMemoryUsage(void) {
    UNIT_SECTION("dictMemoryUsage: exact, then extrapolated");
    dict d;
    dictInit(&d, &caseType);
    CHECK_EQ_INT((long long)dictMemoryUsage(&d, 10), 0);
    enum { N = 1000 };
    tnode *heap[N];
    size_t nodeBytes = 0;
    for (int i = 0; i < N; i++) {
        heap[i] = memAlloc(sizeof(tnode));
        nodeInit(heap[i], i);
        dictAdd(&d, &heap[i]->link);
        nodeBytes += memUsableSize(heap[i]);
    }
    size_t buckets = 0;
    for (int t = 0; t <= 1; t++)
        if (d.table[t]) buckets += memUsableSize(d.table[t]);
    CHECK(buckets > 0);
    CHECK_EQ_INT((long long)dictMemoryUsage(&d, N), (long long)(buckets + nodeBytes));
    CHECK_EQ_INT((long long)dictMemoryUsage(&d, 16), (long long)(buckets + nodeBytes));
    /* A few big nodes among small ones: the estimate moves with them. */
    size_t small = dictMemoryUsage(&d, N);
    for (int i = 0; i < N; i += 2) {
        dictNode *n = dictUnlink(&d, heap[i]->key, heap[i]->klen);
        CHECK(n == &heap[i]->link);
        tnode *big = memAlloc(sizeof(tnode) + 4096);
        nodeInit(big, i);
        memFree(heap[i]);
        heap[i] = big;
        dictAdd(&d, &big->link);
    }
    CHECK(dictMemoryUsage(&d, N) > small + (N / 2) * 4096);
    for (int i = 0; i < N; i++) {
        dictUnlink(&d, heap[i]->key, heap[i]->klen);
        memFree(heap[i]);
    }
    dictEmpty(&d, NULL, NULL);
}

int main(void) {
    uint8_t seed[16];
    for (int i = 0; i < 16; i++) seed[i] = (uint8_t)(i * 37 + 11);
    dictSetSeed(seed);
    srandom(12345);
    testBasic();
    testEmptyCallsFree();
    testRehashGrow();
    testRehashShrink();
    testScanWhileGrowing();
    testScanWhileShrinking();
    testScanStable();
    testSafeIterDelete();
    testSampling();
    testRandomFair();
    testBinaryKeys();
    testNocase();
    testResizeDisabled();
    testMemoryUsage();
    return unitDone();
}
