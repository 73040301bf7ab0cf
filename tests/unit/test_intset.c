/* test_intset.c - unit tests for intset.c, the sorted integer array behind
 * small integer sets (ENC_INTSET).
 *
 * Owns: nothing in the server; it builds its own intsets.
 * Checks what the set type relies on: add/find/remove answers, no
 * duplicates, ascending order, the 16 -> 32 -> 64-bit upgrades (values that
 * force one go to the right end and every older value survives), the blob
 * size for each width, random membership against a reference model, and
 * that intsetRandom only returns members. Must never depend on a seed for
 * its expectations: the seed only varies which values are drawn. */
#include "intset.h"
#include "db.h"
#include "mem.h"
#include "unit.h"
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int isSorted(const intset *is) {
    int64_t prev = 0, v;
    for (uint32_t i = 0; i < intsetLen(is); i++) {
        intsetGet(is, i, &v);
        if (i > 0 && v <= prev) return 0;
        prev = v;
    }
    return 1;
}

static void testBasics(void) {
    UNIT_SECTION("basics");
    intset *is = intsetNew();
    CHECK_EQ_INT(intsetLen(is), 0);
    CHECK_EQ_INT(is->encoding, INTSET_ENC_INT16);
    CHECK_EQ_INT(intsetBlobLen(is), sizeof(intset));
    CHECK(!intsetFind(is, 0));
    int64_t v;
    CHECK(!intsetGet(is, 0, &v));

    uint8_t ok;
    is = intsetAdd(is, 5, &ok);
    CHECK_EQ_INT(ok, 1);
    is = intsetAdd(is, 6, &ok);
    CHECK_EQ_INT(ok, 1);
    is = intsetAdd(is, 4, &ok);
    CHECK_EQ_INT(ok, 1);
    is = intsetAdd(is, 4, &ok);
    CHECK_EQ_INT(ok, 0); /* no duplicates */
    CHECK_EQ_INT(intsetLen(is), 3);
    CHECK(intsetFind(is, 4) && intsetFind(is, 5) && intsetFind(is, 6));
    CHECK(!intsetFind(is, 3) && !intsetFind(is, 7));
    CHECK(isSorted(is));
    CHECK(intsetGet(is, 0, &v) && v == 4);
    CHECK(intsetGet(is, 2, &v) && v == 6);
    CHECK(!intsetGet(is, 3, &v));
    CHECK_EQ_INT(intsetBlobLen(is), sizeof(intset) + 3 * 2);

    int rm;
    is = intsetRemove(is, 5, &rm);
    CHECK_EQ_INT(rm, 1);
    is = intsetRemove(is, 5, &rm);
    CHECK_EQ_INT(rm, 0);
    is = intsetRemove(is, 100000, &rm); /* wider than the set: surely absent */
    CHECK_EQ_INT(rm, 0);
    CHECK_EQ_INT(intsetLen(is), 2);
    CHECK(!intsetFind(is, 5));
    CHECK(intsetGet(is, 1, &v) && v == 6);
    is = intsetRemove(is, 4, &rm);
    is = intsetRemove(is, 6, &rm);
    CHECK_EQ_INT(intsetLen(is), 0);
    CHECK_EQ_INT(intsetBlobLen(is), sizeof(intset));
    intsetFree(is);
}

static void testEncodings(void) {
    UNIT_SECTION("value encodings");
    CHECK_EQ_INT(intsetValueEncoding(0), INTSET_ENC_INT16);
    CHECK_EQ_INT(intsetValueEncoding(INT16_MAX), INTSET_ENC_INT16);
    CHECK_EQ_INT(intsetValueEncoding(INT16_MIN), INTSET_ENC_INT16);
    CHECK_EQ_INT(intsetValueEncoding((int64_t)INT16_MAX + 1), INTSET_ENC_INT32);
    CHECK_EQ_INT(intsetValueEncoding((int64_t)INT16_MIN - 1), INTSET_ENC_INT32);
    CHECK_EQ_INT(intsetValueEncoding(INT32_MAX), INTSET_ENC_INT32);
    CHECK_EQ_INT(intsetValueEncoding(INT32_MIN), INTSET_ENC_INT32);
    CHECK_EQ_INT(intsetValueEncoding((int64_t)INT32_MAX + 1), INTSET_ENC_INT64);
    CHECK_EQ_INT(intsetValueEncoding((int64_t)INT32_MIN - 1), INTSET_ENC_INT64);
    CHECK_EQ_INT(intsetValueEncoding(INT64_MAX), INTSET_ENC_INT64);
    CHECK_EQ_INT(intsetValueEncoding(INT64_MIN), INTSET_ENC_INT64);
}

/* Upgrading keeps every value and puts the new one at the right end. */
static void testUpgrades(void) {
    UNIT_SECTION("upgrade 16->32 (append)");
    intset *is = intsetNew();
    uint8_t ok;
    int64_t v;
    for (int i = -3; i <= 3; i++) is = intsetAdd(is, i * 1000, &ok);
    CHECK_EQ_INT(is->encoding, INTSET_ENC_INT16);
    is = intsetAdd(is, 65535, &ok);
    CHECK_EQ_INT(ok, 1);
    CHECK_EQ_INT(is->encoding, INTSET_ENC_INT32);
    CHECK_EQ_INT(intsetLen(is), 8);
    CHECK(intsetGet(is, 7, &v) && v == 65535);
    CHECK(intsetGet(is, 0, &v) && v == -3000);
    for (int i = -3; i <= 3; i++) CHECK(intsetFind(is, i * 1000));
    CHECK(isSorted(is));
    CHECK_EQ_INT(intsetBlobLen(is), sizeof(intset) + 8 * 4);

    UNIT_SECTION("upgrade 32->64 (prepend)");
    is = intsetAdd(is, INT64_MIN, &ok);
    CHECK_EQ_INT(is->encoding, INTSET_ENC_INT64);
    CHECK_EQ_INT(intsetLen(is), 9);
    CHECK(intsetGet(is, 0, &v) && v == INT64_MIN);
    CHECK(intsetGet(is, 8, &v) && v == 65535);
    CHECK(intsetFind(is, 65535) && intsetFind(is, -3000) && intsetFind(is, 0));
    CHECK(isSorted(is));
    CHECK_EQ_INT(intsetBlobLen(is), sizeof(intset) + 9 * 8);
    is = intsetAdd(is, INT64_MAX, &ok);
    CHECK(intsetGet(is, 9, &v) && v == INT64_MAX);

    UNIT_SECTION("no downgrade");
    int rm;
    is = intsetRemove(is, INT64_MIN, &rm);
    is = intsetRemove(is, INT64_MAX, &rm);
    is = intsetRemove(is, 65535, &rm);
    CHECK_EQ_INT(is->encoding, INTSET_ENC_INT64); /* as Redis: width stays */
    CHECK_EQ_INT(intsetLen(is), 7);
    CHECK(isSorted(is));
    intsetFree(is);

    UNIT_SECTION("upgrade 16->64 directly, negative");
    is = intsetNew();
    is = intsetAdd(is, 1, &ok);
    is = intsetAdd(is, 2, &ok);
    is = intsetAdd(is, -5000000000LL, &ok);
    CHECK_EQ_INT(is->encoding, INTSET_ENC_INT64);
    CHECK(intsetGet(is, 0, &v) && v == -5000000000LL);
    CHECK(intsetGet(is, 1, &v) && v == 1);
    CHECK(intsetGet(is, 2, &v) && v == 2);
    intsetFree(is);

    UNIT_SECTION("upgrade 16->32 negative prepend");
    is = intsetNew();
    is = intsetAdd(is, 10, &ok);
    is = intsetAdd(is, -70000, &ok);
    CHECK_EQ_INT(is->encoding, INTSET_ENC_INT32);
    CHECK(intsetGet(is, 0, &v) && v == -70000);
    CHECK(intsetGet(is, 1, &v) && v == 10);
    intsetFree(is);
}

static int cmpI64(const void *a, const void *b) {
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return x < y ? -1 : x > y;
}

/* Random adds and removes across all widths against a sorted reference. */
static void testRandomModel(void) {
    UNIT_SECTION("random model");
    enum { N = 4000 };
    static int64_t model[N];
    size_t n = 0;
    intset *is = intsetNew();
    int bad = 0;
    for (int round = 0; round < 20000; round++) {
        int64_t v;
        int shape = random() % 3;
        if (shape == 0) v = (int64_t)(random() % 2000) - 1000;
        else if (shape == 1) v = (int64_t)(random() % 200000) - 100000;
        else v = (int64_t)(((uint64_t)random() << 33) ^ ((uint64_t)random() << 2) ^ (uint64_t)random());
        int present = 0;
        size_t at = 0;
        for (size_t i = 0; i < n; i++)
            if (model[i] == v) {
                present = 1;
                at = i;
                break;
            }
        if (random() % 3 != 0 && n < N) {
            uint8_t ok;
            is = intsetAdd(is, v, &ok);
            if (ok == present) bad++;
            if (!present) model[n++] = v;
        } else {
            int ok;
            is = intsetRemove(is, v, &ok);
            if (ok != present) bad++;
            if (present) model[at] = model[--n];
        }
    }
    CHECKF(bad == 0, "%d add/remove answers disagreed with the model", bad);
    CHECK_EQ_INT(intsetLen(is), n);
    qsort(model, n, sizeof(model[0]), cmpI64);
    int mismatched = 0;
    for (size_t i = 0; i < n; i++) {
        int64_t v;
        if (!intsetGet(is, (uint32_t)i, &v) || v != model[i]) mismatched++;
        if (!intsetFind(is, model[i])) mismatched++;
    }
    CHECKF(mismatched == 0, "%d elements differ from the model", mismatched);
    CHECK(isSorted(is));
    CHECK_EQ_INT(intsetBlobLen(is), sizeof(intset) + n * is->encoding);

    /* Random picks are members, and over many draws every member shows up. */
    int notMember = 0;
    for (int i = 0; i < 2000; i++)
        if (!intsetFind(is, intsetRandom(is))) notMember++;
    CHECK_EQ_INT(notMember, 0);

    intset *dup = intsetDup(is);
    CHECK_EQ_INT(intsetBlobLen(dup), intsetBlobLen(is));
    CHECK(memcmp(dup, is, intsetBlobLen(is)) == 0);
    intsetFree(dup);
    intsetFree(is);

    UNIT_SECTION("random covers all");
    is = intsetNew();
    uint8_t ok;
    for (int i = 0; i < 10; i++) is = intsetAdd(is, i, &ok);
    int seen[10] = {0};
    for (int i = 0; i < 1000; i++) seen[intsetRandom(is)]++;
    int missing = 0;
    for (int i = 0; i < 10; i++)
        if (!seen[i]) missing++;
    CHECK_EQ_INT(missing, 0);
    intsetFree(is);
}

/* A big ascending and descending fill: the fast paths at either end. */
static void testSizes(void) {
    UNIT_SECTION("sizes");
    intset *is = intsetNew();
    uint8_t ok;
    for (int i = 0; i < 10000; i++) is = intsetAdd(is, i, &ok);
    for (int i = -1; i >= -10000; i--) is = intsetAdd(is, i, &ok);
    CHECK_EQ_INT(intsetLen(is), 20000);
    CHECK_EQ_INT(is->encoding, INTSET_ENC_INT16);
    CHECK_EQ_INT(intsetBlobLen(is), sizeof(intset) + 20000 * 2);
    CHECK(isSorted(is));
    int64_t v;
    CHECK(intsetGet(is, 0, &v) && v == -10000);
    CHECK(intsetGet(is, 19999, &v) && v == 9999);
    int rm, fails = 0;
    for (int i = 0; i < 10000; i += 2) {
        is = intsetRemove(is, i, &rm);
        if (!rm) fails++;
    }
    CHECK_EQ_INT(fails, 0);
    CHECK_EQ_INT(intsetLen(is), 15000);
    CHECK(!intsetFind(is, 0) && intsetFind(is, 1) && intsetFind(is, -10000));
    CHECK(isSorted(is));
    intsetFree(is);
}

int main(void) {
    srandom(12345);
    testBasics();
    testEncodings();
    testUpgrades();
    testRandomModel();
    testSizes();
    return unitDone();
}
