/* fuzz_rdb.c - the RDB loader (rdb.c, rdb_obj.c) on a memory source: the
 * input is a whole snapshot stream, loaded with rdbLoadAll into the
 * databases, which are then emptied. Every type and encoding Redis 7.0 (and
 * 7.2's SET_LISTPACK) writes is reachable: strings (int, LZF), lists
 * (quicklist 2 of listpacks, ziplists), sets (intset, listpack, table),
 * hashes and zsets (listpack, ziplist, zipmap, table, skiplist), expires,
 * IDLE/FREQ, AUX, RESIZEDB, SELECTDB, EOF and the CRC-64 trailer.
 * Checksums are not verified (rdbchecksum no at start-up): the fuzzer could
 * not pass them, and everything after them is what matters. A second pass
 * over the same bytes with rdbLoadObject exercises the DUMP/RESTORE entry,
 * and what it loads is dumped, loaded back and dumped again: the writer's
 * encodings (listpack, quicklist, intset) must read back to the same bytes.
 * (Hash tables are written in bucket order, which a reload may change, so
 * for them only the second load is checked.)
 * Must never: crash, leak, read past the input (the source is an exact-size
 * copy), or allocate more than the input can justify (rss limit). */
#include "fuzz_common.h"
#include "db.h"
#include "rdb.h"

int LLVMFuzzerInitialize(int *argc, char ***argv) {
    (void)argc;
    (void)argv;
    fuzzServerInit("rdbchecksum no\n");
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    char *copy = memAlloc(size ? size : 1);
    memcpy(copy, data, size);
    char err[512];

    rdbSource in;
    rdbMemSourceInit(&in, copy, size);
    (void)rdbLoadAll(&in, err, sizeof(err));
    rdbMemSourceFree(&in);
    fuzzEmptyAllDbs();

    /* The same bytes as one value (RESTORE's payload body). */
    rdbSource one;
    rdbMemSourceInit(&one, copy, size);
    int empty = 0;
    dbEntry *e = rdbLoadObject(&one, "k", 1, &empty, err, sizeof(err));
    if (e) {
        size_t plen = 0;
        char *payload = rdbDumpPayload(e, &plen);
        if (rdbVerifyDumpPayload(payload, plen) != 0) {
            fprintf(stderr, "a dumped value does not verify\n");
            abort();
        }
        /* Body only: the payload ends with a 2-byte version and a CRC-64. */
        rdbSource again;
        rdbMemSourceInit(&again, payload, plen - 10);
        int empty2 = 0;
        dbEntry *e2 = rdbLoadObject(&again, "k", 1, &empty2, err, sizeof(err));
        if (!e2) {
            fprintf(stderr, "a dumped value does not load back: %s\n", err);
            abort();
        }
        size_t plen2 = 0;
        char *payload2 = rdbDumpPayload(e2, &plen2);
        if (e->enc != ENC_HASHTABLE && (plen2 != plen || memcmp(payload, payload2, plen) != 0)) {
            fprintf(stderr, "a value dumped, loaded and dumped again changed\n");
            abort();
        }
        memFree(payload2);
        dbEntryFree(e2);
        rdbMemSourceFree(&again);
        memFree(payload);
        dbEntryFree(e);
    }
    rdbMemSourceFree(&one);
    memFree(copy);
    return 0;
}
