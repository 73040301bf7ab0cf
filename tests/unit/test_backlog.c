/* test_backlog.c - unit tests for the replication backlog (backlog.c).
 *
 * Owns: nothing in the server. The circular buffer is checked against a
 * model (the whole stream kept in a flat array): offsets of the oldest byte,
 * history length, reads at both edges and across the wrap point, huge writes
 * and resizes. Must never depend on randomness it does not seed. */
#include "backlog.h"
#include "unit.h"
#include <stdlib.h>
#include <string.h>

#define STREAM_MAX (1 << 16)
static char model[STREAM_MAX]; /* model[o - 1] is the stream byte at offset o */
static long long fed;          /* bytes fed so far (offsets 1..fed) */
static long long floorOff = 1; /* oldest offset still possible (a shrink drops history for good) */

static void feed(backlog *b, size_t n, unsigned *seed) {
    char tmp[4096] = {0};
    for (size_t i = 0; i < n; i++) tmp[i] = (char)(rand_r(seed) & 0xff);
    memcpy(model + fed, tmp, n);
    fed += (long long)n;
    backlogFeed(b, tmp, n);
}

/* Every byte the backlog claims to hold equals the model's, read in pieces
 * of `piece` bytes; reads outside the history are refused. */
static void checkAll(backlog *b, size_t piece) {
    long long have = fed - floorOff + 1;
    long long keep = have < b->size ? have : b->size;
    CHECK_EQ_INT(b->histlen, keep);
    CHECK_EQ_INT(b->firstOffset, fed - keep + 1);
    CHECK(!backlogCanServe(b, b->firstOffset - 1) || b->firstOffset == 1);
    CHECK(backlogCanServe(b, fed + 1));   /* "nothing more": served with 0 bytes */
    CHECK(!backlogCanServe(b, fed + 2));
    char out[4096];
    long long from = b->firstOffset;
    while (from <= fed) {
        size_t got = backlogRead(b, from, out, piece);
        CHECK(got > 0);
        if (!got) break;
        CHECK_EQ_BYTES(out, got, model + from - 1, got);
        from += (long long)got;
    }
    CHECK_EQ_INT(from, fed + 1);
    CHECK_EQ_INT(backlogRead(b, fed + 1, out, sizeof(out)), 0);
}

static void testEdges(void) {
    UNIT_SECTION("edges");
    fed = 0;
    unsigned seed = 1;
    backlog *b = backlogCreate(100, 1);
    CHECK_EQ_INT(b->histlen, 0);
    CHECK(backlogCanServe(b, 1));
    CHECK(!backlogCanServe(b, 0));
    feed(b, 60, &seed);
    checkAll(b, 7);
    feed(b, 40, &seed); /* exactly full: idx wraps to 0 */
    CHECK_EQ_INT(b->idx, 0);
    checkAll(b, 100);
    feed(b, 1, &seed); /* the first byte falls out */
    checkAll(b, 3);
    CHECK_EQ_INT(b->firstOffset, 2);
    /* A read that starts at the oldest byte and one at the newest. */
    char out[8];
    CHECK_EQ_INT(backlogRead(b, fed, out, sizeof(out)), 1);
    CHECK_EQ_BYTES(out, 1, model + fed - 1, 1);
    CHECK_EQ_INT(backlogRead(b, b->firstOffset, out, 1), 1);
    CHECK_EQ_BYTES(out, 1, model + b->firstOffset - 1, 1);
    backlogFree(b);
}

static void testWrapAndHuge(void) {
    UNIT_SECTION("wraparound");
    fed = 0;
    unsigned seed = 42;
    backlog *b = backlogCreate(1000, 1);
    for (int round = 0; round < 200; round++) {
        feed(b, (size_t)(rand_r(&seed) % 300), &seed);
        checkAll(b, (size_t)(1 + rand_r(&seed) % 500));
    }
    UNIT_SECTION("huge write");
    feed(b, 2500, &seed); /* bigger than the buffer: only its tail stays */
    checkAll(b, 333);
    backlogFree(b);
}

static void testResize(void) {
    UNIT_SECTION("resize");
    fed = 0;
    unsigned seed = 9;
    backlog *b = backlogCreate(500, 1);
    feed(b, 1200, &seed);
    backlogResize(b, 200); /* keeps the newest 200 */
    floorOff = fed - 200 + 1;
    checkAll(b, 64);
    feed(b, 50, &seed);
    checkAll(b, 64);
    backlogResize(b, 2000); /* grows: the history stays, room for more */
    CHECK_EQ_INT(b->histlen, 200);
    CHECK_EQ_INT(b->firstOffset, fed - 200 + 1);
    floorOff = b->firstOffset;
    feed(b, 1500, &seed);
    checkAll(b, 999);
    backlogFree(b);
    floorOff = 1;
}

static void testOffsetsStartLater(void) {
    UNIT_SECTION("history starting at a later offset");
    backlog *b = backlogCreate(64, 1001); /* created when the stream was at 1000 */
    CHECK(backlogCanServe(b, 1001));
    CHECK(!backlogCanServe(b, 1000));
    backlogFeed(b, "abcdef", 6);
    char out[16];
    CHECK_EQ_INT(backlogRead(b, 1003, out, sizeof(out)), 4);
    CHECK_EQ_BYTES(out, 4, "cdef", 4);
    CHECK(!backlogCanServe(b, 1008));
    backlogFree(b);
}

int main(void) {
    testEdges();
    testWrapAndHuge();
    testResize();
    testOffsetsStartLater();
    return unitDone();
}
