/* test_lpack.c - unit tests for the packed array (lpack.c).
 *
 * Owns: nothing in the server. Every encoding boundary (each integer width,
 * each string length class and backlen width) round-trips; walking works
 * both ways; and a long random sequence of edits is checked element by
 * element against a plain array model after every step. Must never depend on
 * randomness it does not seed. */
#include "lpack.h"
#include "server.h"
#include "db.h"
#include "unit.h"
#include <limits.h>
#include <stdlib.h>
#include <string.h>

/* The model: an array of owned strings. */
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

/* 1 when lp holds exactly the model, walking forwards and backwards. */
static int sameAsModel(unsigned char *lp, const model *m) {
    if ((long)lpLength(lp) != m->n) return 0;
    char buf[LP_INTBUF_SIZE];
    unsigned char *p = lpFirst(lp);
    for (long i = 0; i < m->n; i++, p = lpNext(lp, p)) {
        size_t len;
        if (!p) return 0;
        const char *v = lpGet(p, buf, &len, NULL, NULL);
        if (len != m->len[i] || memcmp(v, m->s[i], len) != 0) return 0;
    }
    if (p) return 0;
    p = lpLast(lp);
    for (long i = m->n - 1; i >= 0; i--, p = lpPrev(lp, p)) {
        if (!p || !lpEq(p, m->s[i], m->len[i])) return 0;
    }
    return p == NULL;
}

static void roundTrip(const char *s, size_t len) {
    unsigned char *lp = lpNew(0);
    lp = lpAppend(lp, "x", 1);
    lp = lpAppend(lp, s, len);
    lp = lpAppend(lp, "y", 1);
    char buf[LP_INTBUF_SIZE];
    size_t got;
    unsigned char *p = lpSeek(lp, 1);
    const char *v = lpGet(p, buf, &got, NULL, NULL);
    CHECK_EQ_BYTES(v, got, s, len);
    CHECK(lpEq(lpPrev(lp, lpLast(lp)), s, len));
    CHECK(lpEq(lpNext(lp, lpFirst(lp)), s, len));
    CHECK(lpFind(lp, lpFirst(lp), s, len, 0) == p);
    lpFree(lp);
}

static void testEncodings(void) {
    UNIT_SECTION("encodings");
    long long ints[] = {0,         1,        127,       128,       -1,        -4096,     4095,      -4097,
                        4096,      32767,    -32768,    32768,     -32769,    8388607,   -8388608,  8388608,
                        INT32_MAX, INT32_MIN, (long long)INT32_MAX + 1, LLONG_MAX, LLONG_MIN};
    for (size_t i = 0; i < sizeof(ints) / sizeof(ints[0]); i++) {
        char b[32];
        int n = ll2string(b, sizeof(b), ints[i]);
        roundTrip(b, (size_t)n);
        unsigned char *lp = lpNew(0);
        lp = lpAppendInteger(lp, ints[i]);
        long long v = 0;
        int isint = 0;
        size_t len;
        char buf[LP_INTBUF_SIZE];
        lpGet(lpFirst(lp), buf, &len, &v, &isint);
        CHECK(isint);
        CHECK_EQ_INT(v, ints[i]);
        lpFree(lp);
    }
    /* Strings that look numeric but are not canonical stay strings. */
    const char *notInts[] = {"01", "-0", "+1", " 1", "1 ", "99999999999999999999", ""};
    for (size_t i = 0; i < sizeof(notInts) / sizeof(notInts[0]); i++) roundTrip(notInts[i], strlen(notInts[i]));
    size_t lens[] = {0, 1, 63, 64, 122, 123, 127, 128, 4095, 4096, 16383, 16384, 70000, 2100000};
    for (size_t i = 0; i < sizeof(lens) / sizeof(lens[0]); i++) {
        char *s = malloc(lens[i] + 1);
        for (size_t j = 0; j < lens[i]; j++) s[j] = (char)('a' + j % 26);
        roundTrip(s, lens[i]);
        free(s);
    }
}

static void testEdits(void) {
    UNIT_SECTION("edits");
    unsigned char *lp = lpNew(0);
    CHECK(lpFirst(lp) == NULL);
    CHECK(lpLast(lp) == NULL);
    CHECK(lpSeek(lp, 0) == NULL);
    lp = lpAppend(lp, "b", 1);
    lp = lpPrepend(lp, "a", 1);
    lp = lpAppend(lp, "d", 1);
    unsigned char *p = lpSeek(lp, 2), *np;
    lp = lpInsert(lp, p, LP_BEFORE, "c", 1, &np);
    CHECK(lpEq(np, "c", 1));
    CHECK(lpEq(lpSeek(lp, -1), "d", 1));
    CHECK(lpEq(lpSeek(lp, -4), "a", 1));
    CHECK(lpSeek(lp, 4) == NULL);
    CHECK(lpSeek(lp, -5) == NULL);
    p = lpSeek(lp, 1);
    lp = lpReplace(lp, &p, "BBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBB", 72);
    CHECK(lpEq(p, "BBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBB", 72));
    lp = lpReplace(lp, &p, "7", 1);
    CHECK(lpEq(p, "7", 1));
    CHECK(lpFind(lp, lpFirst(lp), "7", 1, 0) == p);
    CHECK(lpFind(lp, lpFirst(lp), "7", 1, 1) == NULL); /* only a, c are looked at */
    unsigned char *next;
    lp = lpDelete(lp, lpFirst(lp), &next);
    CHECK(lpEq(next, "7", 1));
    lp = lpDelete(lp, lpLast(lp), &next);
    CHECK(next == NULL);
    CHECK_EQ_INT(lpLength(lp), 2);
    lp = lpDeleteRange(lp, 0, 100);
    CHECK_EQ_INT(lpLength(lp), 0);
    CHECK_EQ_INT(lpBytes(lp), 7); /* 6-byte header and the end byte */
    lpFree(lp);
}

/* Past 65534 elements the 2-byte count saturates and is walked instead. */
static void testBigCount(void) {
    UNIT_SECTION("count past 65535");
    unsigned char *lp = lpNew(0);
    for (long i = 0; i < 70000; i++) lp = lpAppendInteger(lp, i);
    CHECK_EQ_INT(lpLength(lp), 70000);
    lp = lpDeleteRange(lp, 0, 5000);
    CHECK_EQ_INT(lpLength(lp), 65000);
    CHECK(lpEq(lpFirst(lp), "5000", 4));
    lp = lpDeleteRange(lp, -1, 1);
    CHECK_EQ_INT(lpLength(lp), 64999);
    lp = lpAppend(lp, "x", 1);
    lp = lpDelete(lp, lpFirst(lp), NULL);
    CHECK_EQ_INT(lpLength(lp), 64999);
    CHECK(lpEq(lpSeek(lp, 64998), "x", 1));
    lpFree(lp);
}

static void randomValue(char *buf, size_t *len) {
    switch (rand() % 4) {
    case 0: *len = (size_t)snprintf(buf, 64, "%d", rand() % 300 - 150); break;
    case 1: *len = (size_t)snprintf(buf, 64, "%lld", ((long long)rand() << 32) ^ rand()); break;
    case 2:
        *len = (size_t)(rand() % 20);
        for (size_t i = 0; i < *len; i++) buf[i] = (char)(rand() % 256);
        break;
    default:
        *len = (size_t)(rand() % 300);
        for (size_t i = 0; i < *len; i++) buf[i] = (char)('a' + rand() % 26);
    }
}

static void testRandomAgainstModel(void) {
    UNIT_SECTION("random edits vs model");
    srand(1234);
    model m = {0};
    unsigned char *lp = lpNew(0);
    char buf[512];
    int bad = 0;
    for (int step = 0; step < 20000 && !bad; step++) {
        size_t len;
        int op = rand() % 10;
        if (op < 3 || m.n == 0) {
            randomValue(buf, &len);
            if (rand() % 2) {
                lp = lpAppend(lp, buf, len);
                modelInsert(&m, m.n, buf, len);
            } else {
                lp = lpPrepend(lp, buf, len);
                modelInsert(&m, 0, buf, len);
            }
        } else if (op < 5) {
            randomValue(buf, &len);
            long at = rand() % m.n;
            int where = rand() % 2;
            unsigned char *np;
            lp = lpInsert(lp, lpSeek(lp, at), where, buf, len, &np);
            modelInsert(&m, at + where, buf, len);
            bad |= !lpEq(np, buf, len);
        } else if (op < 7) {
            long at = rand() % m.n;
            lp = lpDelete(lp, lpSeek(lp, at), NULL);
            modelDelete(&m, at);
        } else if (op < 8) {
            randomValue(buf, &len);
            long at = rand() % m.n;
            unsigned char *p = lpSeek(lp, at);
            lp = lpReplace(lp, &p, buf, len);
            modelDelete(&m, at);
            modelInsert(&m, at, buf, len);
        } else if (op < 9 && m.n > 10) {
            long at = rand() % m.n, num = rand() % 5;
            lp = lpDeleteRange(lp, at, (unsigned long)num);
            for (long i = 0; i < num && at < m.n; i++) modelDelete(&m, at);
        } else {
            long at = rand() % m.n;
            unsigned char *f = lpFind(lp, lpFirst(lp), m.s[at], m.len[at], 0);
            long idx = 0;
            for (unsigned char *q = lpFirst(lp); q && q != f; q = lpNext(lp, q)) idx++;
            long want = 0;
            while (m.len[want] != m.len[at] || memcmp(m.s[want], m.s[at], m.len[at])) want++;
            bad |= !f || idx != want;
        }
        if (step % 97 == 0 || m.n < 5) bad |= !sameAsModel(lp, &m);
    }
    CHECK(!bad);
    CHECK(sameAsModel(lp, &m));
    while (m.n) modelDelete(&m, 0);
    free(m.s);
    free(m.len);
    lpFree(lp);
}

int main(void) {
    testEncodings();
    testEdits();
    testBigCount();
    testRandomAgainstModel();
    return unitDone();
}
