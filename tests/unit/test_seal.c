/* test_seal.c - unit tests for seal.c (sealed snapshot streams) and
 * keyring.c (the keyring file parser).
 *
 * Owns: nothing in the server; streams go to and come from memory buffers
 * through the rdbSink/rdbSource interface. Checks what encrypted snapshots
 * rely on: round trips at chunk edges, and that every damaged stream -
 * any byte flipped, cut at any length, chunks swapped, duplicated, dropped
 * or spliced from another file, data appended, a wrong or unknown key - is
 * refused with a message saying why, before any plaintext of the damaged
 * chunk is handed out. Must never print or compare key bytes in messages
 * other than to assert their absence. */
#include "keyring.h"
#include "mem.h"
#include "seal.h"
#include "unit.h"
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define KEY_A "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"
#define KEY_B "60303ae22b998861bce3b28f33eec1be758a213c86c93c076dbe9f558c11c752"
#define CH 1024 /* small chunks keep the exhaustive tamper loops fast */

/* ---- memory sink and source --------------------------------------------- */

typedef struct memBuf {
    unsigned char *p;
    size_t len, cap;
    int failAfter; /* >= 0: writes fail once this many bytes are stored */
} memBuf;

static int memWrite(void *ctx, const void *p, size_t n) {
    memBuf *b = ctx;
    if (b->failAfter >= 0 && b->len + n > (size_t)b->failAfter) return -1;
    if (b->len + n > b->cap) {
        b->cap = (b->len + n) * 2 + 64;
        b->p = realloc(b->p, b->cap);
    }
    memcpy(b->p + b->len, p, n);
    b->len += n;
    return 0;
}

typedef struct memIn {
    const unsigned char *p;
    size_t len, pos;
} memIn;

static int memRead(void *ctx, void *p, size_t n) {
    memIn *in = ctx;
    if (in->len - in->pos < n) return -1;
    memcpy(p, in->p + in->pos, n);
    in->pos += n;
    return 0;
}

static keyring *ringOf(const char *text) {
    char err[256];
    keyring *kr = keyringParse(text, strlen(text), "test", err, sizeof(err));
    if (!kr) printf("keyring error: %s\n", err);
    return kr;
}

static unsigned char *pattern(size_t n, unsigned seed) {
    unsigned char *p = malloc(n ? n : 1);
    uint32_t x = seed * 2654435761u + 1;
    for (size_t i = 0; i < n; i++) {
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        p[i] = (unsigned char)x;
    }
    return p;
}

/* Seals data with key id `id` of kr into *out (malloc'd). */
static int sealBuf(const keyring *kr, const char *id, size_t chunk, const unsigned char *data, size_t n,
                   memBuf *out) {
    char err[256];
    memset(out, 0, sizeof(*out));
    out->failAfter = -1;
    rdbSink under = {.write = memWrite, .ctx = out}, s;
    const keyringKey *k = keyringFind(kr, id, strlen(id));
    if (!k || sealSinkOpen(&s, &under, k, chunk, err, sizeof(err)) == -1) return -1;
    /* Odd-sized writes cross chunk edges at every offset. */
    size_t pos = 0, step = 1;
    while (pos < n) {
        size_t take = n - pos < step ? n - pos : step;
        if (s.write(s.ctx, data + pos, take) != 0) {
            sealSinkAbort(&s);
            return -1;
        }
        pos += take;
        step = step * 3 + 7;
        if (step > 5000) step = 1;
    }
    return sealSinkClose(&s, err, sizeof(err));
}

/* Opens, reads exactly `expect` bytes and finishes. 0 = the whole stream was
 * accepted and *got holds the plaintext; -1 = refused, err says why. */
static int openAll(const keyring *kr, const unsigned char *p, size_t len, size_t expect, unsigned char **got,
                   char *err, size_t errlen) {
    memIn in = {p, len, 0};
    rdbSource under = {.read = memRead, .ctx = &in}, s;
    *got = malloc(expect ? expect : 1);
    err[0] = '\0';
    if (sealSourceOpen(&s, &under, kr, err, errlen) == -1) return -1;
    int rc = 0;
    if (expect && s.read(s.ctx, *got, expect) != 0) {
        snprintf(err, errlen, "%s", sealSourceError(&s));
        rc = -1;
    } else if (sealSourceFinish(&s, err, errlen) == -1) {
        rc = -1;
    }
    sealSourceClose(&s);
    return rc;
}

static size_t sealedSize(size_t idlen, size_t n, size_t chunk) {
    size_t hdr = SEAL_MAGIC_LEN + 7 + idlen + SEAL_SALT_LEN + SEAL_KCV_LEN + SEAL_MAC_LEN;
    size_t chunks = n == 0 ? 1 : (n + chunk - 1) / chunk;
    return hdr + chunks * SEAL_CHUNK_OVERHEAD + n;
}

static keyring *ring;

static void testRoundTrip(void) {
    UNIT_SECTION("round trip");
    size_t sizes[] = {0, 1, CH - 1, CH, CH + 1, 2 * CH, 3 * CH + 5, 100000};
    for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
        size_t n = sizes[i];
        unsigned char *data = pattern(n, (unsigned)i), *got;
        memBuf b;
        char err[300];
        CHECK(sealBuf(ring, "alias/cache-backups", CH, data, n, &b) == 0);
        CHECK_EQ_INT(b.len, sealedSize(strlen("alias/cache-backups"), n, CH));
        CHECK(sealIsSealed(b.p, b.len));
        CHECKF(openAll(ring, b.p, b.len, n, &got, err, sizeof(err)) == 0, "size %zu: %s", n, err);
        CHECK(memcmp(got, data, n) == 0);
        /* Ciphertext does not carry the plaintext. */
        if (n >= 64) CHECK(memmem(b.p, b.len, data, 64) == NULL);
        free(got);
        free(b.p);
        free(data);
    }
    /* The default chunk (64 KiB): exactly one chunk, and one byte more. */
    size_t dsizes[] = {SEAL_CHUNK_DEFAULT, SEAL_CHUNK_DEFAULT + 1};
    for (int i = 0; i < 2; i++) {
        unsigned char *data = pattern(dsizes[i], 99), *got;
        memBuf b;
        char err[300];
        CHECK(sealBuf(ring, "key-2026-11", 0, data, dsizes[i], &b) == 0);
        CHECK_EQ_INT(b.len, sealedSize(strlen("key-2026-11"), dsizes[i], SEAL_CHUNK_DEFAULT));
        CHECKF(openAll(ring, b.p, b.len, dsizes[i], &got, err, sizeof(err)) == 0, "%s", err);
        CHECK(memcmp(got, data, dsizes[i]) == 0);
        free(got);
        free(b.p);
        free(data);
    }
}

static void testNextAndNonces(void) {
    UNIT_SECTION("chunk iteration and fresh nonces");
    size_t n = 5 * CH + 3;
    unsigned char *data = pattern(n, 7);
    memBuf a, b;
    CHECK(sealBuf(ring, "alias/cache-backups", CH, data, n, &a) == 0);
    CHECK(sealBuf(ring, "alias/cache-backups", CH, data, n, &b) == 0);
    CHECK_EQ_INT(a.len, b.len);
    CHECK(memcmp(a.p, b.p, a.len) != 0); /* fresh salt and nonces per file */
    /* Every chunk nonce within a file differs. */
    size_t hdr = sealedSize(strlen("alias/cache-backups"), 0, CH) - SEAL_CHUNK_OVERHEAD;
    unsigned char nonces[6][SEAL_NONCE_LEN];
    size_t off = hdr;
    for (int i = 0; i < 6; i++) {
        memcpy(nonces[i], a.p + off + SEAL_CHUNK_HDR_LEN, SEAL_NONCE_LEN);
        off += SEAL_CHUNK_OVERHEAD + (i < 5 ? CH : 3);
    }
    CHECK_EQ_INT(off, a.len);
    int distinct = 1;
    for (int i = 0; i < 6; i++)
        for (int j = i + 1; j < 6; j++)
            if (!memcmp(nonces[i], nonces[j], SEAL_NONCE_LEN)) distinct = 0;
    CHECK(distinct);
    /* sealSourceNext hands out whole chunks, then 0 at the end. */
    memIn in = {a.p, a.len, 0};
    rdbSource under = {.read = memRead, .ctx = &in}, s;
    char err[300];
    CHECK(sealSourceOpen(&s, &under, ring, err, sizeof(err)) == 0);
    const unsigned char *p;
    size_t len, total = 0;
    int rc, calls = 0;
    while ((rc = sealSourceNext(&s, &p, &len)) == 1) {
        CHECK(memcmp(p, data + total, len) == 0);
        total += len;
        calls++;
    }
    CHECK_EQ_INT(rc, 0);
    CHECK_EQ_INT(total, n);
    CHECK_EQ_INT(calls, 6);
    CHECK_EQ_INT(sealSourceChunks(&s), 6);
    CHECK(sealSourceFinish(&s, err, sizeof(err)) == 0);
    sealSourceClose(&s);
    free(a.p);
    free(b.p);
    free(data);
}

/* Every single-byte change anywhere in the file is refused. */
static void testTamperEveryByte(void) {
    UNIT_SECTION("tamper every byte");
    size_t n = 3 * CH + 100;
    unsigned char *data = pattern(n, 3);
    memBuf b;
    CHECK(sealBuf(ring, "alias/cache-backups", CH, data, n, &b) == 0);
    size_t hdr = sealedSize(strlen("alias/cache-backups"), 0, CH) - SEAL_CHUNK_OVERHEAD;
    long accepted = 0, hdrMsgOk = 0, chunkMsgOk = 0;
    for (size_t i = 0; i < b.len; i++) {
        unsigned char *got;
        char err[300];
        b.p[i] ^= 0x01;
        if (openAll(ring, b.p, b.len, n, &got, err, sizeof(err)) == 0) accepted++;
        else if (i < hdr && (strstr(err, "header") || strstr(err, "wrong key") || strstr(err, "not a sealed") ||
                             strstr(err, "not in the keyring") || strstr(err, "version") || strstr(err, "algorithm")))
            hdrMsgOk++;
        else if (i >= hdr && (strstr(err, "authentication") || strstr(err, "bad length") ||
                              strstr(err, "truncated") || strstr(err, "final")))
            chunkMsgOk++;
        else
            printf("  byte %zu: unexpected message: %s\n", i, err);
        b.p[i] ^= 0x01;
        free(got);
    }
    CHECK_EQ_INT(accepted, 0);
    CHECK_EQ_INT(hdrMsgOk, hdr);
    CHECK_EQ_INT(chunkMsgOk, b.len - hdr);

    /* Region by region, the messages users see. */
    unsigned char *got;
    char err[300];
    b.p[hdr - 1] ^= 0x80; /* header MAC */
    CHECK(openAll(ring, b.p, b.len, n, &got, err, sizeof(err)) == -1);
    CHECKF(strstr(err, "header failed authentication") != NULL, "%s", err);
    b.p[hdr - 1] ^= 0x80;
    free(got);
    b.p[SEAL_MAGIC_LEN + 7 + 3] ^= 0x02; /* inside the key id: another (unknown) id */
    CHECK(openAll(ring, b.p, b.len, n, &got, err, sizeof(err)) == -1);
    CHECKF(strstr(err, "not in the keyring") != NULL, "%s", err);
    b.p[SEAL_MAGIC_LEN + 7 + 3] ^= 0x02;
    free(got);
    size_t c1 = hdr + SEAL_CHUNK_OVERHEAD + CH; /* chunk 1 */
    b.p[c1 + SEAL_CHUNK_HDR_LEN + SEAL_NONCE_LEN + 10] ^= 0x04; /* a ciphertext byte */
    CHECK(openAll(ring, b.p, b.len, n, &got, err, sizeof(err)) == -1);
    CHECKF(strstr(err, "failed authentication") && strstr(err, "chunk 1"), "%s", err);
    b.p[c1 + SEAL_CHUNK_HDR_LEN + SEAL_NONCE_LEN + 10] ^= 0x04;
    free(got);
    b.p[c1 + SEAL_CHUNK_OVERHEAD + CH - 1] ^= 0x10; /* its tag */
    CHECK(openAll(ring, b.p, b.len, n, &got, err, sizeof(err)) == -1);
    CHECKF(strstr(err, "failed authentication") && strstr(err, "chunk 1"), "%s", err);
    b.p[c1 + SEAL_CHUNK_OVERHEAD + CH - 1] ^= 0x10;
    free(got);
    b.p[c1] ^= 0x80; /* chunk 1 claims to be final */
    CHECK(openAll(ring, b.p, b.len, n, &got, err, sizeof(err)) == -1);
    b.p[c1] ^= 0x80;
    free(got);
    /* Unchanged again: accepted. */
    CHECK(openAll(ring, b.p, b.len, n, &got, err, sizeof(err)) == 0);
    free(got);

    /* Plaintext of a bad chunk is never handed out: reading only the first
     * chunk of a stream whose first chunk is damaged fails. */
    b.p[hdr + SEAL_CHUNK_HDR_LEN + SEAL_NONCE_LEN] ^= 1;
    memIn in = {b.p, b.len, 0};
    rdbSource under = {.read = memRead, .ctx = &in}, s;
    CHECK(sealSourceOpen(&s, &under, ring, err, sizeof(err)) == 0);
    unsigned char one;
    CHECK(s.read(s.ctx, &one, 1) != 0);
    CHECK(strstr(sealSourceError(&s), "chunk 0") != NULL);
    sealSourceClose(&s);
    b.p[hdr + SEAL_CHUNK_HDR_LEN + SEAL_NONCE_LEN] ^= 1;
    free(b.p);
    free(data);
}

static void testTruncation(void) {
    UNIT_SECTION("truncation");
    size_t n = 4 * CH + 17;
    unsigned char *data = pattern(n, 11);
    memBuf b;
    CHECK(sealBuf(ring, "alias/cache-backups", CH, data, n, &b) == 0);
    size_t hdr = sealedSize(strlen("alias/cache-backups"), 0, CH) - SEAL_CHUNK_OVERHEAD;
    long accepted = 0;
    for (size_t cut = 0; cut < b.len; cut++) {
        unsigned char *got;
        char err[300];
        if (openAll(ring, b.p, cut, n, &got, err, sizeof(err)) == 0) accepted++;
        /* At a chunk boundary: names the missing chunk and the missing final. */
        if (cut > hdr && (cut - hdr) % (CH + SEAL_CHUNK_OVERHEAD) == 0)
            CHECKF(strstr(err, "truncated") && strstr(err, "no final chunk"), "cut %zu: %s", cut, err);
        free(got);
    }
    CHECK_EQ_INT(accepted, 0);
    /* Even a reader that wants less than all of it: Finish finds the cut. */
    memIn in = {b.p, b.len - 1, 0};
    rdbSource under = {.read = memRead, .ctx = &in}, s;
    char err[300];
    unsigned char buf[100];
    CHECK(sealSourceOpen(&s, &under, ring, err, sizeof(err)) == 0);
    CHECK(s.read(s.ctx, buf, sizeof(buf)) == 0);
    CHECK(sealSourceFinish(&s, err, sizeof(err)) == -1);
    CHECKF(strstr(err, "chunk 4 is incomplete") != NULL, "%s", err);
    sealSourceClose(&s);
    free(b.p);
    free(data);
}

/* Builds a stream from the header and chunk records of b in the given
 * order (indexes into its records). */
static size_t rebuild(const memBuf *b, size_t hdr, size_t nrec, const int *order, int norder,
                      unsigned char *out) {
    size_t recOff[16], recLen[16], off = hdr;
    for (size_t i = 0; i < nrec; i++) {
        recOff[i] = off;
        recLen[i] = SEAL_CHUNK_OVERHEAD + ((b->p[off + 1] << 16 | b->p[off + 2] << 8 | b->p[off + 3]) & 0xffffff);
        off += recLen[i];
    }
    memcpy(out, b->p, hdr);
    size_t len = hdr;
    for (int i = 0; i < norder; i++) {
        // cppcheck-suppress uninitvar ; callers' order[] indexes are < nrec, all set above
        memcpy(out + len, b->p + recOff[order[i]], recLen[order[i]]);
        len += recLen[order[i]];
    }
    return len;
}

static void testReorder(void) {
    UNIT_SECTION("reorder, duplicate, drop, splice, append");
    size_t n = 4 * CH + 17; /* records 0..3 full, 4 final */
    unsigned char *data = pattern(n, 5), *got;
    memBuf b, other;
    char err[300];
    CHECK(sealBuf(ring, "alias/cache-backups", CH, data, n, &b) == 0);
    size_t hdr = sealedSize(strlen("alias/cache-backups"), 0, CH) - SEAL_CHUNK_OVERHEAD;
    unsigned char *buf = malloc(b.len * 2);
    struct {
        const char *what;
        int order[8];
        int n;
    } cases[] = {
        {"swap 1,2", {0, 2, 1, 3, 4}, 5},   {"duplicate 1", {0, 1, 1, 2, 3, 4}, 6}, {"drop 2", {0, 1, 3, 4}, 4},
        {"final early", {0, 1, 4}, 3},      {"final twice", {0, 1, 2, 3, 4, 4}, 6}, {"identity", {0, 1, 2, 3, 4}, 5},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        size_t len = rebuild(&b, hdr, 5, cases[i].order, cases[i].n, buf);
        int rc = openAll(ring, buf, len, n, &got, err, sizeof(err));
        if (!strcmp(cases[i].what, "identity")) {
            CHECKF(rc == 0, "%s: %s", cases[i].what, err);
        } else {
            CHECKF(rc == -1, "%s accepted", cases[i].what);
            CHECKF(strstr(err, "authentication") || strstr(err, "after its final") || strstr(err, "bad length"),
                   "%s: %s", cases[i].what, err);
        }
        free(got);
    }
    /* Data appended after the final chunk. */
    memcpy(buf, b.p, b.len);
    memcpy(buf + b.len, "x", 1);
    CHECK(openAll(ring, buf, b.len + 1, n, &got, err, sizeof(err)) == -1);
    CHECKF(strstr(err, "after its final chunk") != NULL, "%s", err);
    free(got);
    /* A chunk spliced in from another file sealed with the same key. */
    CHECK(sealBuf(ring, "alias/cache-backups", CH, data, n, &other) == 0);
    memcpy(buf, b.p, b.len);
    memcpy(buf + hdr + SEAL_CHUNK_OVERHEAD + CH, other.p + hdr + SEAL_CHUNK_OVERHEAD + CH, SEAL_CHUNK_OVERHEAD + CH);
    CHECK(openAll(ring, buf, b.len, n, &got, err, sizeof(err)) == -1);
    CHECKF(strstr(err, "chunk 1") != NULL, "%s", err);
    free(got);
    /* More plaintext than the reader consumed: Finish says so. */
    CHECK(openAll(ring, b.p, b.len, n - 1, &got, err, sizeof(err)) == -1);
    CHECKF(strstr(err, "after the end") != NULL, "%s", err);
    free(got);
    /* A reader that wants more than the plaintext holds fails. */
    CHECK(openAll(ring, b.p, b.len, n + 1, &got, err, sizeof(err)) == -1);
    CHECKF(strstr(err, "plaintext ended") != NULL, "%s", err);
    free(got);
    free(buf);
    free(other.p);
    free(b.p);
    free(data);
}

static void testKeys(void) {
    UNIT_SECTION("wrong and unknown keys");
    size_t n = 2 * CH;
    unsigned char *data = pattern(n, 1), *got;
    memBuf b;
    char err[300];
    CHECK(sealBuf(ring, "alias/cache-backups", CH, data, n, &b) == 0);
    /* Same id, other key bytes. */
    keyring *wrong = ringOf("key alias/cache-backups " KEY_B "\ndefault alias/cache-backups\n");
    CHECK(openAll(wrong, b.p, b.len, n, &got, err, sizeof(err)) == -1);
    CHECKF(strstr(err, "wrong key") && strstr(err, "alias/cache-backups"), "%s", err);
    CHECK(strstr(err, KEY_A) == NULL && strstr(err, KEY_B) == NULL);
    free(got);
    /* The id is absent. */
    keyring *other = ringOf("key key-2026-11 " KEY_A "\ndefault key-2026-11\n");
    CHECK(openAll(other, b.p, b.len, n, &got, err, sizeof(err)) == -1);
    CHECKF(strstr(err, "'alias/cache-backups'") && strstr(err, "not in the keyring"), "%s", err);
    free(got);
    /* No keyring at all. */
    CHECK(openAll(NULL, b.p, b.len, n, &got, err, sizeof(err)) == -1);
    CHECKF(strstr(err, "not in the keyring") != NULL, "%s", err);
    free(got);
    /* A plain RDB is not a sealed stream. */
    const char *plain = "REDIS0010\xfa\x09redis-ver";
    CHECK(!sealIsSealed(plain, strlen(plain)));
    CHECK(!sealIsSealed("CACHET", 6));
    CHECK(openAll(ring, (const unsigned char *)plain, strlen(plain), 1, &got, err, sizeof(err)) == -1);
    CHECKF(strstr(err, "not a sealed snapshot") != NULL, "%s", err);
    free(got);
    keyringFree(wrong);
    keyringFree(other);
    free(b.p);
    free(data);

    UNIT_SECTION("sink errors");
    memBuf f = {0};
    f.failAfter = 200; /* header fits, the first chunk does not */
    rdbSink under = {.write = memWrite, .ctx = &f}, s;
    const keyringKey *k = keyringDefault(ring);
    CHECK(sealSinkOpen(&s, &under, k, CH, err, sizeof(err)) == 0);
    unsigned char *big = pattern(3 * CH, 2);
    CHECK(s.write(s.ctx, big, 3 * CH) != 0);
    CHECK(sealSinkClose(&s, err, sizeof(err)) == -1);
    free(f.p);
    free(big);
    memBuf g = {0};
    g.failAfter = -1;
    under.ctx = &g;
    CHECK(sealSinkOpen(&s, &under, k, 100, err, sizeof(err)) == -1); /* chunk size below the minimum */
    free(g.p);
}

static keyring *parseErr(const char *text, char *err, size_t errlen) {
    return keyringParse(text, strlen(text), "ring.conf", err, errlen);
}

static void testKeyringParser(void) {
    UNIT_SECTION("keyring parser");
    char err[300];
    keyring *kr = parseErr("# keys\n\n  key alias/cache-backups " KEY_A "\r\nkey key-2026-11\t" KEY_B
                           "\n  # another comment\ndefault key-2026-11\n",
                           err, sizeof(err));
    CHECK(kr != NULL);
    if (kr) {
        CHECK_EQ_INT(kr->count, 2);
        CHECK_EQ_STR(keyringDefault(kr)->id, "key-2026-11");
        const keyringKey *a = keyringFind(kr, "alias/cache-backups", 19);
        CHECK(a && a->key[0] == 0x9f && a->key[31] == 0x08);
        CHECK(keyringFind(kr, "alias/cache", 11) == NULL);
        keyringFree(kr);
    }
    /* Upper-case hex and an ARN-style id are fine. */
    kr = parseErr("key arn:aws:kms:eu-west-1:123:key/ab-cd " "9F86D081884C7D659A2FEAA0C55AD015A3BF4F1B2B0B822CD15D6C15B0F00A08"
                  "\ndefault arn:aws:kms:eu-west-1:123:key/ab-cd\n",
                  err, sizeof(err));
    CHECK(kr != NULL);
    keyringFree(kr);

    struct {
        const char *text, *expect;
    } bad[] = {
        {"key a 9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00aZZ\ndefault a\n", "ring.conf:1: key 'a' is not valid hex"},
        {"key a 9f86d0\ndefault a\n", "ring.conf:1: key 'a' must be 64 hex digits (256 bits), found 6 characters"},
        {"key a " KEY_A "00\ndefault a\n", "must be 64 hex digits"},
        {"key a " KEY_A "\nkey a " KEY_B "\ndefault a\n", "ring.conf:2: duplicate key id 'a'"},
        {"key a " KEY_A "\n", "ring.conf: missing 'default <id>' line"},
        {"key a " KEY_A "\ndefault b\n", "ring.conf:2: default key id 'b' is not defined in this file"},
        {"key a " KEY_A "\ndefault a\ndefault a\n", "'default' given twice"},
        {"# nothing\n", "ring.conf: no keys"},
        {"", "ring.conf: no keys"},
        {"key a " KEY_A "\nkeys b " KEY_B "\ndefault a\n", "ring.conf:2: unknown directive 'keys'"},
        {"key a\ndefault a\n", "ring.conf:1: expected 'key <id> <64 hex digits>'"},
        {"key a " KEY_A " extra\ndefault a\n", "expected 'key <id>"},
        {"key a " KEY_A "\ndefault\n", "ring.conf:2: expected 'default <id>'"},
        {"key bad\"id " KEY_A "\ndefault a\n", "ring.conf:1: invalid key id"},
        {"a " KEY_A "\ndefault a\n", "unknown directive 'a'"},
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        err[0] = '\0';
        kr = parseErr(bad[i].text, err, sizeof(err));
        CHECKF(kr == NULL, "case %zu accepted", i);
        CHECKF(strstr(err, bad[i].expect) != NULL, "case %zu: got '%s', want '%s'", i, err, bad[i].expect);
        /* No message repeats key material. */
        CHECKF(!strstr(err, "9f86d0") && !strstr(err, "60303ae"), "case %zu leaks key bytes: %s", i, err);
        keyringFree(kr);
    }
    /* A 256-byte id is too long; 255 is fine. */
    char text[800], id[300];
    memset(id, 'k', 256);
    id[256] = '\0';
    snprintf(text, sizeof(text), "key %s " KEY_A "\ndefault %s\n", id, id);
    CHECK(parseErr(text, err, sizeof(err)) == NULL);
    id[255] = '\0';
    snprintf(text, sizeof(text), "key %s " KEY_A "\ndefault %s\n", id, id);
    kr = parseErr(text, err, sizeof(err));
    CHECK(kr != NULL);
    keyringFree(kr);
}

static void testKeyringFile(void) {
    UNIT_SECTION("keyring file permissions");
    char path[] = "/tmp/cachet-test-keyring-XXXXXX", err[300], warn[300];
    int fd = mkstemp(path);
    CHECK(fd >= 0);
    if (fd < 0) return;
    const char *text = "key k1 " KEY_A "\ndefault k1\n";
    CHECK(write(fd, text, strlen(text)) == (ssize_t)strlen(text));
    close(fd);
    chmod(path, 0600);
    keyring *kr = keyringLoadFile(path, err, sizeof(err), warn, sizeof(warn));
    CHECK(kr != NULL);
    CHECK_EQ_STR(warn, "");
    keyringFree(kr);
    chmod(path, 0640);
    kr = keyringLoadFile(path, err, sizeof(err), warn, sizeof(warn));
    CHECK(kr != NULL);
    CHECKF(strstr(warn, "readable by its group") != NULL, "%s", warn);
    keyringFree(kr);
    chmod(path, 0644);
    kr = keyringLoadFile(path, err, sizeof(err), warn, sizeof(warn));
    CHECK(kr == NULL);
    CHECKF(strstr(err, "accessible by other users (mode 0644)") != NULL, "%s", err);
    unlink(path);
    kr = keyringLoadFile(path, err, sizeof(err), warn, sizeof(warn));
    CHECK(kr == NULL);
    CHECKF(strstr(err, "can't open keyring file") && strstr(err, "No such file"), "%s", err);
    kr = keyringLoadFile("/tmp", err, sizeof(err), NULL, 0);
    CHECK(kr == NULL);
    CHECKF(strstr(err, "not a regular file") != NULL, "%s", err);
}

int main(void) {
    ring = ringOf("key alias/cache-backups " KEY_A "\nkey key-2026-11 " KEY_B "\ndefault alias/cache-backups\n");
    if (!ring) return 1;
    testRoundTrip();
    testNextAndNonces();
    testTamperEveryByte();
    testTruncation();
    testReorder();
    testKeys();
    testKeyringParser();
    testKeyringFile();
    keyringFree(ring);
    return unitDone();
}
