/* test_quicklist.c - unit tests for the list of lpack nodes (quicklist.c).
 *
 * Owns: nothing in the server. Pushes and pops at both ends, indexing from
 * either end, inserts, replaces, range deletes and iterator deletes are each
 * checked element by element against a plain array model, with every
 * invariant (counts, links, fill limits) checked after each step; node
 * splitting and merging are checked at the fill limits, for count limits and
 * size limits. Must never depend on randomness it does not seed. */
#include "lpack.h"
#include "quicklist.h"
#include "server.h"
#include "db.h"
#include "unit.h"
#include <stdlib.h>
#include <string.h>

/* The model: owned strings. */
typedef struct model {
    char **s;
    size_t *len;
    long n, cap;
} model;

static void modelInsert(model *m, long at, const char *s, size_t len) {
    if (m->n == m->cap) {
        m->cap = m->cap ? m->cap * 2 : 16;
        m->s = realloc(m->s, sizeof(char *) * (size_t)m->cap);
        m->len = realloc(m->len, sizeof(size_t) * (size_t)m->cap);
    }
    memmove(m->s + at + 1, m->s + at, sizeof(char *) * (size_t)(m->n - at));
    memmove(m->len + at + 1, m->len + at, sizeof(size_t) * (size_t)(m->n - at));
    m->s[at] = malloc(len ? len : 1);
    memcpy(m->s[at], s, len);
    m->len[at] = len;
    m->n++;
}

static void modelDelete(model *m, long at) {
    free(m->s[at]);
    memmove(m->s + at, m->s + at + 1, sizeof(char *) * (size_t)(m->n - at - 1));
    memmove(m->len + at, m->len + at + 1, sizeof(size_t) * (size_t)(m->n - at - 1));
    m->n--;
}

static void modelFree(model *m) {
    while (m->n) modelDelete(m, m->n - 1);
    free(m->s);
    free(m->len);
    memset(m, 0, sizeof(*m));
}

/* 1 when ql holds exactly the model: by iteration both ways and by index. */
static int sameAsModel(quicklist *ql, const model *m) {
    if (!qlCheck(ql) || (long)qlCount(ql) != m->n) return 0;
    char buf[LP_INTBUF_SIZE];
    qlIter it;
    qlEntry e;
    long i = 0;
    qlIterInit(&it, ql, 0, QL_TAIL);
    while (qlNext(&it, &e)) {
        size_t len;
        const char *v = qlEntryValue(&e, buf, &len);
        if (i >= m->n || len != m->len[i] || memcmp(v, m->s[i], len) != 0) return 0;
        i++;
    }
    if (i != m->n) return 0;
    qlIterInit(&it, ql, -1, QL_HEAD);
    while (qlNext(&it, &e)) {
        i--;
        if (i < 0 || !qlEntryEq(&e, m->s[i], m->len[i])) return 0;
    }
    if (i != 0) return 0;
    for (long k = 0; k < m->n; k += 1 + m->n / 50) {
        if (!qlIndex(ql, k, &e) || !qlEntryEq(&e, m->s[k], m->len[k])) return 0;
        if (!qlIndex(ql, k - m->n, &e) || !qlEntryEq(&e, m->s[k], m->len[k])) return 0;
    }
    return !qlIndex(ql, m->n, &e) && !qlIndex(ql, -m->n - 1, &e);
}

static void valueFor(long i, char *buf, size_t *len) {
    /* A mix of small integers, big integers and strings of several sizes. */
    switch (i % 5) {
    case 0: *len = (size_t)snprintf(buf, 64, "%ld", i); break;
    case 1: *len = (size_t)snprintf(buf, 64, "%lld", 1000000000000LL + i); break;
    case 2: *len = (size_t)snprintf(buf, 64, "s%ld", i); break;
    case 3: *len = (size_t)snprintf(buf, 64, "-%ld", i * 7); break;
    default:
        *len = 40 + (size_t)(i % 23);
        memset(buf, 'a' + (int)(i % 26), *len);
    }
}

static void testPushPop(void) {
    UNIT_SECTION("push/pop both ends");
    quicklist *ql = qlNew(4);
    model m = {0};
    char buf[64];
    size_t len;
    for (long i = 0; i < 100; i++) {
        valueFor(i, buf, &len);
        if (i % 2) {
            qlPush(ql, QL_TAIL, buf, len);
            modelInsert(&m, m.n, buf, len);
        } else {
            qlPush(ql, QL_HEAD, buf, len);
            modelInsert(&m, 0, buf, len);
        }
    }
    CHECK(sameAsModel(ql, &m));
    CHECK_EQ_INT(ql->len, 25); /* 4 per node; the first node takes pushes from both sides */
    /* Pop from both ends (delete range of one at 0 / -1). */
    for (int i = 0; i < 30; i++) {
        CHECK_EQ_INT(qlDelRange(ql, 0, 1), 1);
        modelDelete(&m, 0);
        CHECK_EQ_INT(qlDelRange(ql, -1, 1), 1);
        modelDelete(&m, m.n - 1);
    }
    CHECK(sameAsModel(ql, &m));
    while (m.n) {
        qlDelRange(ql, -1, 1);
        modelDelete(&m, m.n - 1);
    }
    CHECK(sameAsModel(ql, &m));
    CHECK(ql->head == NULL && ql->tail == NULL && ql->len == 0);
    CHECK_EQ_INT(qlDelRange(ql, 0, 1), 0);
    qlFree(ql);
    modelFree(&m);
}

static void testFillLimits(void) {
    UNIT_SECTION("fill limits");
    /* Count limit. */
    quicklist *ql = qlNew(3);
    for (int i = 0; i < 10; i++) qlPush(ql, QL_TAIL, "x", 1);
    CHECK_EQ_INT(ql->len, 4);
    CHECK_EQ_INT(ql->head->count, 3);
    CHECK_EQ_INT(ql->tail->count, 1);
    CHECK(qlCheck(ql));
    qlFree(ql);

    /* fill 0: one element per node. */
    ql = qlNew(0);
    for (int i = 0; i < 5; i++) qlPush(ql, QL_HEAD, "x", 1);
    CHECK_EQ_INT(ql->len, 5);
    qlFree(ql);

    /* A count-limited node still stops at 8 KiB. */
    ql = qlNew(1000);
    char big[1000];
    memset(big, 'b', sizeof(big));
    for (int i = 0; i < 20; i++) qlPush(ql, QL_TAIL, big, sizeof(big));
    CHECK(ql->head->count < 9);
    CHECK(lpBytes(ql->head->lp) <= 8192);
    CHECK(qlCheck(ql));
    qlFree(ql);

    /* Size limits: -1 is 4 KiB, -5 is 64 KiB, below -5 is -5. */
    int fills[] = {-1, -2, -5, -9};
    size_t limits[] = {4096, 8192, 65536, 65536};
    for (int f = 0; f < 4; f++) {
        ql = qlNew(fills[f]);
        for (int i = 0; i < 2000; i++) qlPush(ql, QL_TAIL, big, 100);
        CHECK(lpBytes(ql->head->lp) <= limits[f]);
        CHECK(lpBytes(ql->head->lp) > limits[f] - 200);
        CHECK(qlCheck(ql));
        qlFree(ql);
    }

    /* An element bigger than any node gets a node of its own. */
    ql = qlNew(-1);
    char *huge = malloc(10000);
    memset(huge, 'h', 10000);
    qlPush(ql, QL_TAIL, "a", 1);
    qlPush(ql, QL_TAIL, huge, 10000);
    qlPush(ql, QL_TAIL, "b", 1);
    CHECK_EQ_INT(ql->len, 3);
    CHECK_EQ_INT(ql->count, 3);
    qlEntry e;
    char buf[LP_INTBUF_SIZE];
    size_t len;
    CHECK(qlIndex(ql, 1, &e));
    const char *v = qlEntryValue(&e, buf, &len);
    CHECK_EQ_BYTES(v, len, huge, 10000);
    CHECK(qlCheck(ql));
    free(huge);
    qlFree(ql);
}

static void testInsertSplitMerge(void) {
    UNIT_SECTION("insert: split and merge");
    quicklist *ql = qlNew(4);
    model m = {0};
    char buf[64];
    size_t len;
    for (long i = 0; i < 8; i++) {
        valueFor(i, buf, &len);
        qlPush(ql, QL_TAIL, buf, len);
        modelInsert(&m, m.n, buf, len);
    }
    CHECK_EQ_INT(ql->len, 2); /* [0..3] [4..7], both full */
    qlEntry e;
    /* Middle of a full node: it splits. */
    CHECK(qlIndex(ql, 1, &e));
    qlInsert(ql, &e, QL_TAIL, "mid", 3);
    modelInsert(&m, 2, "mid", 3);
    CHECK(sameAsModel(ql, &m));
    CHECK_EQ_INT(ql->len, 3);
    /* Before the head of a full node with a full previous node: new node. */
    CHECK(qlIndex(ql, 0, &e));
    qlInsert(ql, &e, QL_HEAD, "first", 5);
    modelInsert(&m, 0, "first", 5);
    CHECK(sameAsModel(ql, &m));
    /* After the last element of the list. */
    CHECK(qlIndex(ql, -1, &e));
    qlInsert(ql, &e, QL_TAIL, "last", 4);
    modelInsert(&m, m.n, "last", 4);
    CHECK(sameAsModel(ql, &m));

    /* Deleting most of the middle lets the small neighbours merge. */
    qlFree(ql);
    modelFree(&m);
    ql = qlNew(4);
    for (long i = 0; i < 12; i++) {
        valueFor(i, buf, &len);
        qlPush(ql, QL_TAIL, buf, len);
        modelInsert(&m, m.n, buf, len);
    }
    CHECK_EQ_INT(ql->len, 3);
    CHECK_EQ_INT(qlDelRange(ql, 2, 8), 8); /* keeps 2 of the first, 2 of the last node */
    for (int i = 0; i < 8; i++) modelDelete(&m, 2);
    CHECK(sameAsModel(ql, &m));
    CHECK_EQ_INT(ql->len, 1);

    /* Iterator deletes then qlCompact joins what fits. */
    qlFree(ql);
    modelFree(&m);
    ql = qlNew(4);
    for (long i = 0; i < 40; i++) {
        valueFor(i, buf, &len);
        qlPush(ql, QL_TAIL, buf, len);
        modelInsert(&m, m.n, buf, len);
    }
    qlIter it;
    long idx = 0, kept = 0;
    qlIterInit(&it, ql, 0, QL_TAIL);
    while (qlNext(&it, &e)) {
        if (idx % 4 != 0) {
            qlIterDelete(&it, &e);
            modelDelete(&m, kept);
        } else {
            kept++;
        }
        idx++;
    }
    CHECK_EQ_INT(idx, 40);
    CHECK(sameAsModel(ql, &m));
    CHECK_EQ_INT(ql->len, 10);
    qlCompact(ql);
    CHECK(sameAsModel(ql, &m));
    CHECK_EQ_INT(ql->len, 3);

    /* Backwards iterator deletes: every other element from the tail. */
    long n0 = m.n;
    idx = 0;
    qlIterInit(&it, ql, -1, QL_HEAD);
    while (qlNext(&it, &e)) {
        if (idx % 2 == 0) {
            qlIterDelete(&it, &e);
            modelDelete(&m, n0 - 1 - idx);
        }
        idx++;
    }
    CHECK_EQ_INT(idx, n0);
    CHECK(sameAsModel(ql, &m));
    qlFree(ql);
    modelFree(&m);
}

static void testReplace(void) {
    UNIT_SECTION("replace");
    quicklist *ql = qlNew(-1); /* 4 KiB nodes */
    model m = {0};
    char big[3000];
    memset(big, 'r', sizeof(big));
    for (long i = 0; i < 30; i++) {
        char buf[64];
        size_t len;
        valueFor(i, buf, &len);
        qlPush(ql, QL_TAIL, buf, len);
        modelInsert(&m, m.n, buf, len);
    }
    unsigned long nodes = ql->len;
    /* Small replacement: in place. */
    qlReplaceAt(ql, 5, "small", 5);
    modelDelete(&m, 5);
    modelInsert(&m, 5, "small", 5);
    CHECK(sameAsModel(ql, &m));
    CHECK_EQ_INT(ql->len, nodes);
    /* Too big for the node: the node splits around it. */
    for (long at = 3; at < 30; at += 9) {
        qlReplaceAt(ql, at, big, sizeof(big));
        modelDelete(&m, at);
        modelInsert(&m, at, big, sizeof(big));
        CHECK(sameAsModel(ql, &m));
    }
    qlReplaceAt(ql, -1, big, 10);
    modelDelete(&m, m.n - 1);
    modelInsert(&m, m.n, big, 10);
    CHECK(sameAsModel(ql, &m));
    qlFree(ql);
    modelFree(&m);
}

static void testDup(void) {
    UNIT_SECTION("dup and memory");
    quicklist *ql = qlNew(8);
    model m = {0};
    char buf[64];
    size_t len;
    for (long i = 0; i < 1000; i++) {
        valueFor(i, buf, &len);
        qlPush(ql, QL_TAIL, buf, len);
        modelInsert(&m, m.n, buf, len);
    }
    quicklist *d = qlDup(ql);
    qlFree(ql);
    CHECK(sameAsModel(d, &m));
    /* Packed: well under a heap node per element. */
    size_t mem = qlMemory(d);
    CHECK(mem > 1000 * 5);
    CHECK(mem < 1000 * 64);
    qlFree(d);
    modelFree(&m);
}

/* A long random sequence of every operation, checked after each step. */
static void testRandom(int fill, unsigned seed, int steps) {
    UNIT_SECTION("random ops against the model");
    srand(seed);
    quicklist *ql = qlNew(fill);
    model m = {0};
    int bad = 0;
    for (int step = 0; step < steps && !bad; step++) {
        char buf[6000];
        size_t len;
        long r = rand();
        if (r % 50 == 0) {
            len = 1000 + (size_t)(rand() % 5000);
            memset(buf, 'L', len);
        } else {
            valueFor(rand() % 1000, buf, &len);
        }
        int op = rand() % 9;
        qlEntry e;
        if (op <= 1 || m.n == 0) {
            int where = rand() % 2 ? QL_TAIL : QL_HEAD;
            qlPush(ql, where, buf, len);
            modelInsert(&m, where == QL_TAIL ? m.n : 0, buf, len);
        } else if (op == 2) {
            long at = rand() % m.n;
            int where = rand() % 2 ? QL_TAIL : QL_HEAD;
            qlIndex(ql, at, &e);
            qlInsert(ql, &e, where, buf, len);
            modelInsert(&m, where == QL_TAIL ? at + 1 : at, buf, len);
        } else if (op == 3) {
            long at = rand() % m.n;
            qlReplaceAt(ql, at - (rand() % 2 ? m.n : 0), buf, len);
            modelDelete(&m, at);
            modelInsert(&m, at, buf, len);
        } else if (op == 4) {
            long at = rand() % m.n, num = rand() % 12;
            unsigned long got = qlDelRange(ql, at, (unsigned long)num);
            long want = num < m.n - at ? num : m.n - at;
            if ((long)got != want) bad = 1;
            for (long k = 0; k < want; k++) modelDelete(&m, at);
        } else if (op == 5) {
            int tail = rand() % 2;
            qlDelRange(ql, tail ? -1 : 0, 1);
            modelDelete(&m, tail ? m.n - 1 : 0);
        } else if (op == 6) {
            /* iterator delete of every element equal to the one at a random index */
            long at = rand() % m.n;
            qlIndex(ql, at, &e);
            char val[6000];
            size_t vlen;
            const char *v = qlEntryValue(&e, val, &vlen);
            char *copy = malloc(vlen ? vlen : 1);
            memcpy(copy, v, vlen);
            int dir = rand() % 2 ? QL_TAIL : QL_HEAD;
            qlIter it;
            qlIterInit(&it, ql, dir == QL_TAIL ? 0 : -1, dir);
            while (qlNext(&it, &e))
                if (qlEntryEq(&e, copy, vlen)) qlIterDelete(&it, &e);
            for (long k = m.n - 1; k >= 0; k--)
                if (m.len[k] == vlen && memcmp(m.s[k], copy, vlen) == 0) modelDelete(&m, k);
            free(copy);
            if (rand() % 2) qlCompact(ql);
        } else {
            long at = rand() % (m.n + 2) - 1;
            int found = qlIndex(ql, at, &e);
            if (found != (at >= -m.n && at < m.n)) bad = 1;
        }
        if (!sameAsModel(ql, &m)) bad = 1;
        if (bad) printf("random(fill %d, seed %u) diverged at step %d (op %d)\n", fill, seed, step, op);
    }
    CHECK(!bad);
    qlFree(ql);
    modelFree(&m);
}

int main(void) {
    testPushPop();
    testFillLimits();
    testInsertSplitMerge();
    testReplace();
    testDup();
    int fills[] = {1, 2, 4, 16, 128, -1, -2, 0};
    for (int i = 0; i < 8; i++) testRandom(fills[i], 1000u + (unsigned)i, 1500);
    return unitDone();
}
