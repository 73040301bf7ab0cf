/* test_zset.c - unit tests for the sorted-set structure (zset.c).
 *
 * Owns: nothing in the server. The skip list is checked against a sorted
 * array model after inserts, deletes and score updates (order, ranks, spans,
 * backward links, range bounds), and the listpack -> skiplist conversion is
 * checked to keep every member and score. Must never depend on randomness
 * it does not seed. */
#include "zset.h"
#include "db.h"
#include "unit.h"
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct item {
    double score;
    char m[16];
    size_t len;
    int live;
} item;

static int itemCmp(const void *a, const void *b) {
    const item *x = a, *y = b;
    if (x->score != y->score) return x->score < y->score ? -1 : 1;
    size_t n = x->len < y->len ? x->len : y->len;
    int c = memcmp(x->m, y->m, n);
    if (c) return c;
    return x->len < y->len ? -1 : x->len > y->len ? 1 : 0;
}

/* Live items, sorted, into out; returns count. */
static long sortedLive(item *all, long n, item *out) {
    long k = 0;
    for (long i = 0; i < n; i++)
        if (all[i].live) out[k++] = all[i];
    qsort(out, (size_t)k, sizeof(item), itemCmp);
    return k;
}

/* The list matches the model: order, backward links, rank both ways, spans. */
static int listMatches(zset *zs, item *sorted, long k) {
    zskiplist *zsl = &zs->zsl;
    if ((long)zsl->length != k || (long)dictSize(&zs->d) != k) return 0;
    zslNode *x = zsl->header->level[0].forward, *prev = NULL;
    for (long i = 0; i < k; i++, prev = x, x = x->level[0].forward) {
        if (!x || x->score != sorted[i].score || x->len != sorted[i].len || memcmp(zslNodeMember(x), sorted[i].m, x->len))
            return 0;
        if (x->backward != prev) return 0;
        if (zslGetRank(zsl, x->score, zslNodeMember(x), x->len) != (unsigned long)i + 1) return 0;
        if (zslGetElementByRank(zsl, (unsigned long)i + 1) != x) return 0;
        if (dictFind(&zs->d, sorted[i].m, sorted[i].len) != &x->link) return 0;
    }
    if (x || zsl->tail != prev) return 0;
    /* Every level's spans add up to the length when walked to the end. */
    for (int l = 0; l < zsl->level; l++) {
        unsigned long sum = 0;
        for (zslNode *y = zsl->header; y->level[l].forward; y = y->level[l].forward) sum += y->level[l].span;
        zslNode *last = zsl->header;
        while (last->level[l].forward) last = last->level[l].forward;
        if (last != zsl->header && sum != zslGetRank(zsl, last->score, zslNodeMember(last), last->len)) return 0;
    }
    return 1;
}

static void testSkiplist(void) {
    UNIT_SECTION("skiplist insert/delete/rank");
    srandom(12345);
    enum { N = 2000 };
    static item all[N], sorted[N];
    zset *zs = zsetNewSkiplist();
    for (long i = 0; i < N; i++) {
        all[i].score = (double)(random() % 200); /* many ties: member order matters */
        all[i].len = (size_t)snprintf(all[i].m, sizeof(all[i].m), "m%ld", i);
        all[i].live = 1;
        zsetSkiplistInsert(zs, all[i].score, all[i].m, all[i].len);
    }
    long k = sortedLive(all, N, sorted);
    CHECK(listMatches(zs, sorted, k));
    CHECK_EQ_INT(zslGetRank(&zs->zsl, 1e9, "x", 1), 0);
    CHECK(zslGetElementByRank(&zs->zsl, N + 1) == NULL);

    for (long i = 0; i < N; i += 3) {
        double s;
        CHECK(zsetSkiplistDelete(zs, all[i].m, all[i].len, &s));
        CHECK(s == all[i].score);
        all[i].live = 0;
    }
    CHECK(!zsetSkiplistDelete(zs, "nope", 4, NULL));
    k = sortedLive(all, N, sorted);
    CHECK(listMatches(zs, sorted, k));

    UNIT_SECTION("skiplist score update");
    for (long i = 1; i < N; i += 7) {
        if (!all[i].live) continue;
        zslNode *n = (zslNode *)dictFind(&zs->d, all[i].m, all[i].len);
        all[i].score = (double)(random() % 300) - 50;
        zslUpdateScore(&zs->zsl, n, all[i].score);
    }
    k = sortedLive(all, N, sorted);
    CHECK(listMatches(zs, sorted, k));

    UNIT_SECTION("skiplist ranges");
    double bounds[][2] = {{10, 20}, {-100, -60}, {0, 0}, {-1e9, 1e9}, {150, 149}, {299, 1000}};
    for (size_t b = 0; b < sizeof(bounds) / sizeof(bounds[0]); b++) {
        for (int ex = 0; ex < 4; ex++) {
            zrangespec r = {bounds[b][0], bounds[b][1], ex & 1, (ex >> 1) & 1};
            long first = -1, last = -1;
            for (long i = 0; i < k; i++) {
                if (zsetValueGteMin(sorted[i].score, &r) && zsetValueLteMax(sorted[i].score, &r)) {
                    if (first < 0) first = i;
                    last = i;
                }
            }
            unsigned long fr = 0, lr = 0;
            zslNode *f = zslFirstInRange(&zs->zsl, &r, &fr);
            zslNode *l = zslLastInRange(&zs->zsl, &r, &lr);
            if (first < 0) {
                CHECKF(f == NULL && l == NULL, "range %g..%g ex %d should be empty", r.min, r.max, ex);
            } else {
                CHECKF(f && (long)fr == first + 1, "first rank %lu want %ld", fr, first + 1);
                CHECKF(l && (long)lr == last + 1, "last rank %lu want %ld", lr, last + 1);
            }
        }
    }

    UNIT_SECTION("skiplist delete by rank");
    unsigned long before = zs->zsl.length;
    CHECK_EQ_INT(zsetSkiplistDeleteRangeByRank(zs, 5, 104), 100);
    CHECK_EQ_INT(zs->zsl.length, before - 100);
    for (long i = 4; i < 104; i++) {
        for (long j = 0; j < N; j++)
            if (all[j].live && all[j].len == sorted[i].len && !memcmp(all[j].m, sorted[i].m, sorted[i].len)) all[j].live = 0;
    }
    k = sortedLive(all, N, sorted);
    CHECK(listMatches(zs, sorted, k));
    zsetFreeSkiplist(zs);
}

static void testLexRange(void) {
    UNIT_SECTION("lex ranges");
    zset *zs = zsetNewSkiplist();
    const char *ms[] = {"a", "b", "c", "d", "e"};
    for (int i = 0; i < 5; i++) zsetSkiplistInsert(zs, 0, ms[i], 1);
    zlexrangespec r;
    slice mn = {"[b", 2}, mx = {"(e", 2};
    CHECK_EQ_INT(zsetParseLexRange(mn, mx, &r), 0);
    unsigned long fr = 0, lr = 0;
    CHECK(zslFirstInLexRange(&zs->zsl, &r, &fr) != NULL);
    CHECK(zslLastInLexRange(&zs->zsl, &r, &lr) != NULL);
    CHECK_EQ_INT(fr, 2);
    CHECK_EQ_INT(lr, 4);
    slice minus = {"-", 1}, plus = {"+", 1}, bad = {"b", 1}, plusx = {"+x", 2};
    CHECK_EQ_INT(zsetParseLexRange(minus, plus, &r), 0);
    CHECK(zslFirstInLexRange(&zs->zsl, &r, &fr) && fr == 1);
    CHECK(zslLastInLexRange(&zs->zsl, &r, &lr) && lr == 5);
    CHECK_EQ_INT(zsetParseLexRange(plus, minus, &r), 0);
    CHECK(zslFirstInLexRange(&zs->zsl, &r, &fr) == NULL);
    CHECK_EQ_INT(zsetParseLexRange(bad, plus, &r), -1);
    CHECK_EQ_INT(zsetParseLexRange(plusx, plus, &r), -1);
    zrangespec sr;
    slice s1 = {"(1", 2}, s2 = {"+inf", 4}, s3 = {"[1", 2}, s4 = {"nan", 3};
    CHECK_EQ_INT(zsetParseRange(s1, s2, &sr), 0);
    CHECK(sr.minex && !sr.maxex && sr.min == 1 && isinf(sr.max));
    CHECK_EQ_INT(zsetParseRange(s3, s2, &sr), -1);
    CHECK_EQ_INT(zsetParseRange(s4, s2, &sr), -1);
    zsetFreeSkiplist(zs);
}

/* Walks the value in order into names/scores; returns count. */
static long collect(const dbEntry *e, char names[][16], double *scores, long max) {
    zsetIter it;
    zsetIterInit(&it, e, 0, 0);
    const char *m;
    size_t len;
    double s;
    long n = 0;
    while (n < max && zsetIterNext(&it, &m, &len, &s)) {
        memcpy(names[n], m, len);
        names[n][len] = '\0';
        scores[n++] = s;
    }
    return n;
}

static void testConversion(void) {
    UNIT_SECTION("listpack -> skiplist");
    static const long long maxEntries = 128, maxValue = 64; /* Redis' defaults */
    zsetBindLimits(&maxEntries, &maxValue);
    int enc;
    void *p = zsetNewValue(1, 1, &enc);
    CHECK_EQ_INT(enc, ENC_LISTPACK);
    dbEntry *e = objNewCollectionEntry("k", 1, OBJ_ZSET, enc, p);
    static char names[300][16], names2[300][16];
    static double scores[300], scores2[300];
    for (int i = 0; i < 128; i++) {
        char m[16];
        int len = snprintf(m, sizeof(m), "%d", (i * 37) % 128); /* integer-looking members too */
        int out;
        CHECK(zsetAdd(e, (i % 10) * 0.5 - 1, m, (size_t)len, 0, &out, NULL));
        CHECK(out & ZADD_OUT_ADDED);
    }
    CHECK_EQ_INT(e->enc, ENC_LISTPACK);
    CHECK_EQ_INT(zsetLength(e), 128);
    long n1 = collect(e, names, scores, 300);
    for (long i = 1; i < n1; i++)
        CHECK(scores[i - 1] < scores[i] || (scores[i - 1] == scores[i] && strcmp(names[i - 1], names[i]) < 0));
    double s;
    CHECK(zsetScore(e, "37", 2, &s) && s == -0.5);
    long rank = zsetRank(e, "37", 2, 0, NULL);
    CHECK(rank >= 0 && !strcmp(names[rank], "37"));

    int out;
    CHECK(zsetAdd(e, 10.25, "x", 1, 0, &out, NULL)); /* entry 129: converts */
    CHECK_EQ_INT(e->enc, ENC_SKIPLIST);
    CHECK_EQ_INT(zsetLength(e), 129);
    long n2 = collect(e, names2, scores2, 300);
    CHECK_EQ_INT(n2, 129);
    for (long i = 0; i < n1; i++) CHECK(!strcmp(names[i], names2[i]) && scores[i] == scores2[i]);
    CHECK(!strcmp(names2[128], "x") && scores2[128] == 10.25);
    CHECK_EQ_INT(zsetRank(e, "37", 2, 0, NULL), rank);
    CHECK_EQ_INT(zsetRank(e, "x", 1, 1, NULL), 0);
    dbEntryFree(e);

    UNIT_SECTION("long member converts");
    p = zsetNewValue(1, 1, &enc);
    e = objNewCollectionEntry("k", 1, OBJ_ZSET, enc, p);
    char longm[100];
    memset(longm, 'z', sizeof(longm));
    CHECK(zsetAdd(e, 1, "a", 1, 0, &out, NULL));
    CHECK_EQ_INT(e->enc, ENC_LISTPACK);
    CHECK(zsetAdd(e, 2, longm, sizeof(longm), 0, &out, NULL));
    CHECK_EQ_INT(e->enc, ENC_SKIPLIST);
    CHECK(zsetScore(e, longm, sizeof(longm), &s) && s == 2);

    UNIT_SECTION("flags and delete by rank");
    double ns = 0;
    CHECK(zsetAdd(e, 5, "a", 1, ZADD_IN_INCR, &out, &ns) && ns == 6);
    CHECK(zsetAdd(e, 1, "a", 1, ZADD_IN_GT, &out, NULL) && (out & ZADD_OUT_NOP));
    CHECK(zsetAdd(e, 1, "b", 1, ZADD_IN_XX, &out, NULL) && (out & ZADD_OUT_NOP));
    CHECK(zsetAdd(e, INFINITY, "a", 1, 0, &out, NULL));
    CHECK(!zsetAdd(e, -INFINITY, "a", 1, ZADD_IN_INCR, &out, NULL) && (out & ZADD_OUT_NAN));
    CHECK_EQ_INT(zsetDeleteRankRange(e, 0, 1), 2);
    CHECK_EQ_INT(zsetLength(e), 0);
    dbEntryFree(e);
}

int main(void) {
    testSkiplist();
    testLexRange();
    testConversion();
    return unitDone();
}
