/* test_stream.c - unit tests for the stream encoding (stream.c).
 *
 * Owns: nothing in the server. The id helpers at their edges; a node's
 * bytes exactly as Redis 7.0 writes them (master entry, SAMEFIELDS
 * compression, deltas, lp-count); deletion and trimming bookkeeping; and
 * seeded random operation sequences checked against a plain model
 * (stream_model.h, also driven by fuzz/fuzz_stream.c). Must never depend on
 * randomness it does not seed. */
#include "stream.h"
#include "server.h"
#include "db.h"
#include "unit.h"
#include "stream_model.h"
#include "stream_cg.h"
#include <stdlib.h>
#include <string.h>

static int unitSmFail(const char *what) {
    CHECKF(0, "%s", what);
    return 0;
}

static void testIds(void) {
    unitCurrent = "ids";
    streamID a = {1, UINT64_MAX};
    CHECK(streamIncrID(&a) == 0 && a.ms == 2 && a.seq == 0);
    streamID m = {UINT64_MAX, UINT64_MAX};
    CHECK(streamIncrID(&m) == -1);
    streamID z = {0, 0};
    CHECK(streamDecrID(&z) == -1);
    streamID b = {5, 0};
    CHECK(streamDecrID(&b) == 0 && b.ms == 4 && b.seq == UINT64_MAX);
    char buf[64];
    streamID big = {UINT64_MAX, 7};
    streamFormatID(buf, &big);
    CHECK(strcmp(buf, "18446744073709551615-7") == 0);
    streamID x = {1, 2}, y = {1, 3};
    CHECK(streamCompareID(&x, &y) < 0 && streamCompareID(&y, &x) > 0 && streamCompareID(&x, &x) == 0);
}

/* XADD s 1-1 a 1 b x ; XADD s 1-5 a -3069 b y ; XADD s 2-0 c z: the node
 * Redis 7.0 writes, byte for byte (taken from its DUMP). */
static void testNodeBytes(void) {
    unitCurrent = "node bytes";
    stream *s = streamNew();
    streamField e1[] = {{"a", 1}, {"1", 1}, {"b", 1}, {"x", 1}};
    streamField e2[] = {{"a", 1}, {"-3069", 5}, {"b", 1}, {"y", 1}};
    streamField e3[] = {{"c", 1}, {"z", 1}};
    streamID id1 = {1, 1}, id2 = {1, 5}, id3 = {2, 0}, got;
    CHECK(streamAppend(s, e1, 2, &got, &id1, 1, 4096, 100, 0) == 0);
    CHECK(streamAppend(s, e2, 2, &got, &id2, 1, 4096, 100, 0) == 0);
    CHECK(streamAppend(s, e3, 1, &got, &id3, 1, 4096, 100, 0) == 0);
    CHECK(streamAppend(s, e3, 1, &got, &id3, 1, 4096, 100, 0) == -1); /* not above the top */
    static const unsigned char want[] = {
        /* header: bytes, count */
        0x41, 0, 0, 0, 0x19, 0,
        /* master: count 3, deleted 0, 2 fields a b, 0 */
        0x03, 0x01, 0x00, 0x01, 0x02, 0x01, 0x81, 'a', 0x02, 0x81, 'b', 0x02, 0x00, 0x01,
        /* 1-1: SAMEFIELDS, +0, +0, 1, x, lp-count 5 */
        0x02, 0x01, 0x00, 0x01, 0x00, 0x01, 0x01, 0x01, 0x81, 'x', 0x02, 0x05, 0x01,
        /* 1-5: SAMEFIELDS, +0, +4, -3069 (13-bit int), y, 5 */
        0x02, 0x01, 0x00, 0x01, 0x04, 0x01, 0xD4, 0x03, 0x02, 0x81, 'y', 0x02, 0x05, 0x01,
        /* 2-0: own fields, +1, -1, 1 field c z, lp-count 6 */
        0x00, 0x01, 0x01, 0x01, 0xDF, 0xFF, 0x02, 0x01, 0x01, 0x81, 'c', 0x02, 0x81, 'z', 0x02, 0x06, 0x01,
        0xFF};
    CHECK(s->nnodes == 1);
    CHECKF(streamNodeBytes(s->nodes[0].lp) == sizeof(want) && memcmp(s->nodes[0].lp, want, sizeof(want)) == 0,
           "node is %zu bytes", streamNodeBytes(s->nodes[0].lp));
    CHECK(s->length == 3 && s->entriesAdded == 3 && s->firstId.ms == 1 && s->firstId.seq == 1);
    /* Deleting marks the entry and moves the counters; the last live entry
     * of a node takes the node with it. */
    CHECK(streamDeleteID(s, &id2) == 1);
    CHECK(streamDeleteID(s, &id2) == 0);
    CHECK(s->nodes[0].lp[6] == 0x02 && s->nodes[0].lp[8] == 0x01 && s->nodes[0].lp[33] == 0x03);
    CHECK(streamDeleteID(s, &id1) == 1 && streamDeleteID(s, &id3) == 1);
    CHECK(s->nnodes == 0 && s->length == 0);
    streamFree(s);
}

static void testTrim(void) {
    unitCurrent = "trim";
    stream *s = streamNew();
    streamField fv[] = {{"f", 1}, {"v", 1}};
    for (uint64_t i = 1; i <= 25; i++) {
        streamID id = {i, 0};
        streamAppend(s, fv, 1, NULL, &id, 1, 4096, 10, 0);
    }
    CHECK(s->nnodes == 3);
    CHECK(streamTrim(s, STREAM_TRIM_MAXLEN, 12, NULL, 1, 1000) == 10); /* whole nodes only */
    CHECK(s->length == 15 && s->nnodes == 2 && s->firstId.ms == 11);
    CHECK(streamTrim(s, STREAM_TRIM_MAXLEN, 12, NULL, 1, 5) == 0); /* LIMIT below a node */
    streamID minid = {14, 0};
    CHECK(streamTrim(s, STREAM_TRIM_MINID, 0, &minid, 0, 0) == 3);
    CHECK(s->length == 12 && s->firstId.ms == 14);
    CHECK(streamTrim(s, STREAM_TRIM_MAXLEN, 0, NULL, 0, 0) == 12);
    CHECK(s->length == 0 && s->nnodes == 0 && s->firstId.ms == 0);
    streamFree(s);
}

static void testRandom(void) {
    unitCurrent = "random model";
    unsigned char buf[6000];
    for (unsigned seed = 1; seed <= 40; seed++) {
        srand(seed);
        for (size_t i = 0; i < sizeof(buf); i++) buf[i] = (unsigned char)rand();
        smBytes b = {buf, sizeof(buf), 0};
        CHECKF(smRun(&b, unitSmFail), "seed %u", seed);
    }
}

/* The PEL map: ascending order through chunk splits, deletes from the
 * middle that empty chunks, seek past the end, and the lag estimates. */
static void testIdmap(void) {
    unitCurrent = "idmap";
    idmap m;
    idmapInit(&m);
    /* even ids ascending (tail appends), then odd ids (splits in the middle) */
    for (uint64_t i = 0; i < 2000; i += 2) {
        streamID id = {i, 0};
        CHECK(idmapInsert(&m, &id, (void *)(uintptr_t)(i + 1)));
    }
    for (uint64_t i = 1999; i < 2000; i -= 2) {
        streamID id = {i, 0};
        CHECK(idmapInsert(&m, &id, (void *)(uintptr_t)(i + 1)));
    }
    streamID dup = {4, 0};
    CHECK(!idmapInsert(&m, &dup, NULL));
    CHECK(m.len == 2000);
    idmapPos pos;
    streamID id, from = {1500, 0};
    void *v;
    uint64_t want = 0, bad = 0;
    idmapSeek(&m, NULL, &pos);
    while (idmapNext(&m, &pos, &id, &v)) {
        if (id.ms != want || (uintptr_t)v != want + 1) bad++;
        want++;
    }
    CHECK(bad == 0 && want == 2000);
    CHECK(idmapSeek(&m, &from, &pos) && idmapNext(&m, &pos, &id, NULL) && id.ms == 1500);
    for (uint64_t i = 100; i < 1900; i++) {
        streamID d = {i, 0};
        CHECK((uintptr_t)idmapDelete(&m, &d) == i + 1);
    }
    CHECK(idmapDelete(&m, &from) == NULL);
    CHECK(m.len == 200);
    CHECK(idmapSeek(&m, &from, &pos) && idmapNext(&m, &pos, &id, NULL) && id.ms == 1900);
    streamID past = {5000, 0};
    CHECK(!idmapSeek(&m, &past, &pos));
    CHECK(idmapEdge(&m, 1, &id) && id.ms == 0);
    CHECK(idmapEdge(&m, 0, &id) && id.ms == 1999);
    idmapClear(&m, NULL);
    CHECK(m.len == 0 && !idmapEdge(&m, 1, &id));

    unitCurrent = "lag estimate";
    stream *s = streamNew();
    streamID z = {0, 0};
    CHECK(streamEstimateDistance(s, &z) == 0); /* never used */
    s->entriesAdded = 10;
    s->length = 5;
    s->lastId = (streamID){10, 0};
    s->firstId = (streamID){6, 0};
    streamID q = {6, 0};
    CHECK(streamEstimateDistance(s, &q) == 6);
    CHECK(streamEstimateDistance(s, &z) == 5);
    CHECK(streamEstimateDistance(s, &s->lastId) == 10);
    s->maxDeletedId = (streamID){8, 0}; /* a tombstone after the first entry */
    CHECK(streamEstimateDistance(s, &q) == SCG_INVALID_ENTRIES_READ);
    CHECK(streamRangeHasTombstones(s, &q, NULL));
    streamFree(s);
}

int main(void) {
    testIds();
    testNodeBytes();
    testTrim();
    testRandom();
    testIdmap();
    return unitDone();
}
