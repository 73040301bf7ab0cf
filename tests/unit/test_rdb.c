/* test_rdb.c - unit tests for the RDB format (rdb.c), CRC-64 (crc64.c) and
 * LZF (lzf.c).
 *
 * Owns: its own keyspace (serverEarlyInit + dbInitAll, no event loop).
 * Checks: CRC-64 known vectors; LZF round trips (empty, incompressible,
 * repetitive, every size up to a few KiB) and that garbage never makes the
 * decompressor step outside its buffers; the exact bytes of length and
 * string encodings; a DUMP-payload round trip for every type and encoding
 * (the value comes back equal, in the encoding the thresholds call for);
 * every truncation of those payloads is refused; hand-made old encodings
 * (ziplist, zipmap, quicklist v1, ZSET text scores, 7.2's SET_LISTPACK);
 * corrupt inputs get an error naming the offset; whole-dataset save/load
 * through memory (expired keys skipped, CRC checked); and the real Redis 7.0
 * files in tests/unit/data (made by gen.sh). Must never depend on a random
 * seed for its expectations. */
#include "crc64.h"
#include "intset.h"
#include "lpack.h"
#include "lzf.h"
#include "quicklist.h"
#include "rdb.h"
#include "server.h"
#include "db.h"
#include "unit.h"
#include "zset.h"
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define DATA_DIR "tests/unit/data/"

/* ---- canonical text of a value: type, encoding, elements ---------------- */

typedef struct strv {
    char **s;
    size_t n, cap;
} strv;

static void strvAdd(strv *v, const char *p, size_t len) {
    if (v->n == v->cap) {
        v->cap = v->cap ? v->cap * 2 : 16;
        v->s = realloc(v->s, v->cap * sizeof(char *));
    }
    char *s = malloc(len + 24);
    int h = snprintf(s, 24, "%zu:", len);
    memcpy(s + h, p, len);
    s[h + len] = '\0';
    v->s[v->n++] = s;
}

static int strvCmp(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

static int canonSet(void *priv, const char *p, size_t len) {
    strvAdd(priv, p, len);
    return 0;
}

static int canonHash(void *priv, const char *f, size_t fl, const char *v, size_t vl) {
    char *buf = malloc(fl + vl + 1);
    memcpy(buf, f, fl);
    buf[fl] = '=';
    memcpy(buf + fl + 1, v, vl);
    strvAdd(priv, buf, fl + vl + 1);
    free(buf);
    return 0;
}

/* malloc'd "type/enc|elem|elem..." (sets and hashes sorted). */
static char *canon(const dbEntry *e) {
    strv v = {0};
    int sorted = 0;
    switch (e->type) {
    case OBJ_STRING: {
        char nb[LONG_STR_SIZE];
        const char *p;
        size_t len;
        objStringBytes(e, nb, &p, &len);
        strvAdd(&v, p, len);
        break;
    }
    case OBJ_LIST: {
        qlIter it;
        qlEntry en;
        char buf[LP_INTBUF_SIZE];
        qlIterInit(&it, e->v.ptr, 0, QL_TAIL);
        while (qlNext(&it, &en)) {
            size_t len;
            const char *p = qlEntryValue(&en, buf, &len);
            strvAdd(&v, p, len);
        }
        break;
    }
    case OBJ_SET:
        setTypeForEach(e, canonSet, &v);
        sorted = 1;
        break;
    case OBJ_ZSET: {
        zsetIter it;
        const char *m;
        size_t len;
        double s;
        zsetIterInit(&it, e, 0, 0);
        while (zsetIterNext(&it, &m, &len, &s)) {
            char buf[600];
            int n = snprintf(buf, sizeof(buf), "%.*s@%.17g", (int)len, m, s);
            strvAdd(&v, buf, (size_t)n);
        }
        break;
    }
    case OBJ_HASH:
        hashTypeForEach(e, canonHash, &v);
        sorted = 1;
        break;
    }
    if (sorted) qsort(v.s, v.n, sizeof(char *), strvCmp);
    size_t total = 64;
    for (size_t i = 0; i < v.n; i++) total += strlen(v.s[i]) + 1;
    char *out = malloc(total);
    size_t o = (size_t)snprintf(out, total, "%s/%s", dbTypeName(e->type), dbEncodingName((dbEntry *)e));
    for (size_t i = 0; i < v.n; i++) {
        out[o++] = '|';
        size_t l = strlen(v.s[i]);
        memcpy(out + o, v.s[i], l);
        o += l;
        free(v.s[i]);
    }
    out[o] = '\0';
    free(v.s);
    return out;
}

/* ---- value builders ------------------------------------------------------- */

static dbEntry *mkList(const char *key, const char **el, int n) {
    quicklist *ql = qlNew(srv.listMaxListpackSize);
    for (int i = 0; i < n; i++) qlPush(ql, QL_TAIL, el[i], strlen(el[i]));
    return objNewCollectionEntry(key, strlen(key), OBJ_LIST, ENC_QUICKLIST, ql);
}

static dbEntry *mkIntset(const char *key, const long long *v, int n) {
    intset *is = intsetNew();
    uint8_t ok;
    for (int i = 0; i < n; i++) is = intsetAdd(is, v[i], &ok);
    return objNewCollectionEntry(key, strlen(key), OBJ_SET, ENC_INTSET, is);
}

static dbEntry *mkSetTable(const char *key, const char **el, int n) {
    void *d = setTableNew(0);
    for (int i = 0; i < n; i++) setTableAdd(d, el[i], strlen(el[i]));
    return objNewCollectionEntry(key, strlen(key), OBJ_SET, ENC_HASHTABLE, d);
}

static dbEntry *mkZset(const char *key, const char **m, const double *s, int n) {
    int enc;
    size_t maxlen = 0;
    for (int i = 0; i < n; i++)
        if (strlen(m[i]) > maxlen) maxlen = strlen(m[i]);
    void *ptr = zsetNewValue((size_t)n, maxlen, &enc);
    dbEntry *e = objNewCollectionEntry(key, strlen(key), OBJ_ZSET, enc, ptr);
    for (int i = 0; i < n; i++) {
        int out;
        zsetAdd(e, s[i], m[i], strlen(m[i]), 0, &out, NULL);
    }
    return e;
}

static dbEntry *mkHash(const char *key, const char **fv, int pairs, int table) {
    void *ptr;
    if (table) {
        ptr = hashTableNew(0);
        for (int i = 0; i < pairs; i++)
            hashTableAdd(ptr, fv[2 * i], strlen(fv[2 * i]), fv[2 * i + 1], strlen(fv[2 * i + 1]));
    } else {
        unsigned char *lp = lpNew(0);
        for (int i = 0; i < 2 * pairs; i++) lp = lpAppend(lp, fv[i], strlen(fv[i]));
        ptr = lp;
    }
    return objNewCollectionEntry(key, strlen(key), OBJ_HASH, table ? ENC_HASHTABLE : ENC_LISTPACK, ptr);
}

/* ---- helpers -------------------------------------------------------------- */

/* Loads a value body (type byte + value) from bytes. */
static dbEntry *loadBody(const void *p, size_t len, int *empty, char *err, size_t errlen) {
    rdbSource s;
    rdbMemSourceInit(&s, p, len);
    int dummy;
    dbEntry *e = rdbLoadObject(&s, "k", 1, empty ? empty : &dummy, err, errlen);
    rdbMemSourceFree(&s);
    return e;
}

/* The bytes rdbSaveObject writes for e (type byte + value). */
static char *saveBody(const dbEntry *e, size_t *len) {
    rdbSink s;
    rdbMemSinkInit(&s);
    rdbSaveObject(&s, e);
    char *p = rdbMemSinkTake(&s, len);
    rdbMemSinkFree(&s);
    return p;
}

/* DUMP round trip: same canonical value (encoding included) and every
 * truncation refused. */
static void roundTrip(const char *what, dbEntry *e) {
    UNIT_SECTION(what);
    size_t plen;
    char *payload = rdbDumpPayload(e, &plen);
    CHECK(rdbVerifyDumpPayload(payload, plen) == 0);
    char err[256] = "";
    dbEntry *back = loadBody(payload, plen - 10, NULL, err, sizeof(err));
    CHECKF(back != NULL, "%s", err);
    if (back) {
        char *a = canon(e), *b = canon(back);
        CHECK_EQ_STR(b, a);
        free(a);
        free(b);
        dbEntryFree(back);
    }
    long bad = 0;
    /* Every cut for small payloads; big ones: a stride plus the last bytes
     * (each attempt re-parses the prefix, so all cuts would be quadratic). */
    size_t body = plen - 10, step = body > 2048 ? body / 512 : 1;
    for (size_t cut = 0; cut < body; cut += (cut + 64 >= body ? 1 : step)) {
        dbEntry *t = loadBody(payload, cut, NULL, err, sizeof(err));
        if (t) {
            bad++;
            dbEntryFree(t);
        }
    }
    CHECK_EQ_INT(bad, 0);
    /* A flipped payload byte fails the checksum. */
    payload[plen / 2] ^= 0x20;
    CHECK(rdbVerifyDumpPayload(payload, plen) == -1);
    memFree(payload);
    dbEntryFree(e);
}

/* ---- tests ------------------------------------------------------------------ */

static void testCrc64(void) {
    UNIT_SECTION("crc64");
    CHECK(crc64(0, "123456789", 9) == 0xe9c6d914c4b8d9caULL);
    CHECK(crc64(0, "", 0) == 0);
    /* Incremental equals one shot, at every split (slice-by-8 alignment). */
    const char *s = "The quick brown fox jumps over the lazy dog, twice: the quick brown fox.";
    size_t n = strlen(s);
    uint64_t whole = crc64(0, s, n);
    int same = 1;
    for (size_t i = 0; i <= n; i++)
        if (crc64(crc64(0, s, i), s + i, n - i) != whole) same = 0;
    CHECK(same);
}

static void testLzf(void) {
    UNIT_SECTION("lzf");
    unsigned char in[5000], out[6000], back[5000];
    memset(in, 0, sizeof(in));
    CHECK_EQ_INT(lzfCompress(in, 0, out, sizeof(out)), 0);
    srandom(42);
    int ok = 1;
    for (size_t n = 1; n <= 4096; n = n < 64 ? n + 1 : n * 3 / 2) {
        for (int kind = 0; kind < 3; kind++) {
            for (size_t i = 0; i < n; i++)
                in[i] = kind == 0 ? (unsigned char)random() : kind == 1 ? (unsigned char)("abcabcabd"[i % 9]) : 'x';
            size_t c = lzfCompress(in, n, out, n + n / 16 + 64);
            if (c == 0) {
                ok = 0;
                continue;
            }
            if (lzfDecompress(out, c, back, n) != n || memcmp(back, in, n) != 0) ok = 0;
            if (kind && n > 64 && c >= n / 2) ok = 0; /* repetitive input shrinks */
            /* A too-small output buffer is refused, not overrun. */
            if (n > 1 && lzfDecompress(out, c, back, n - 1) != 0) ok = 0;
        }
    }
    CHECK(ok);
    /* Incompressible input does not fit in len - 4 (the RDB writer's limit). */
    for (size_t i = 0; i < 1000; i++) in[i] = (unsigned char)random();
    CHECK_EQ_INT(lzfCompress(in, 1000, out, 996), 0);
    /* Garbage: never a crash, never more than asked. */
    int sane = 1;
    for (int t = 0; t < 20000; t++) {
        size_t n = (size_t)(random() % 64) + 1;
        for (size_t i = 0; i < n; i++) in[i] = (unsigned char)random();
        size_t got = lzfDecompress(in, n, back, 100);
        if (got > 100) sane = 0;
    }
    CHECK(sane);
    /* A back reference before the start of the output is refused. */
    unsigned char badref[] = {0x00, 'a', 0x20, 0x05};
    CHECK_EQ_INT(lzfDecompress(badref, sizeof(badref), back, 100), 0);
}

static void checkStringBytes(const char *val, size_t vlen, const unsigned char *want, size_t wlen) {
    dbEntry *e = objNewStringEntry("k", 1, val, vlen);
    size_t n;
    char *p = saveBody(e, &n);
    CHECK_EQ_BYTES(p, n, want, wlen);
    memFree(p);
    dbEntryFree(e);
}

static void testEncodings(void) {
    UNIT_SECTION("string encodings");
    checkStringBytes("hello", 5, (const unsigned char *)"\x00\x05hello", 7);
    checkStringBytes("", 0, (const unsigned char *)"\x00\x00", 2);
    checkStringBytes("12", 2, (const unsigned char *)"\x00\xc0\x0c", 3);
    checkStringBytes("-129", 4, (const unsigned char *)"\x00\xc1\x7f\xff", 4);
    checkStringBytes("100000", 6, (const unsigned char *)"\x00\xc2\xa0\x86\x01\x00", 6);
    checkStringBytes("007", 3, (const unsigned char *)"\x00\x03" "007", 5); /* not canonical: raw */
    checkStringBytes("12345678901", 11, (const unsigned char *)"\x00\x0b" "12345678901", 13);
    /* 64-bit integer value: decimal text. */
    checkStringBytes("12345678901234", 14, (const unsigned char *)"\x00\x0e" "12345678901234", 16);
    /* Lengths: 6-bit, 14-bit, 32-bit (random bytes: LZF cannot shrink them). */
    srv.rdbCompression = 0;
    char *big = malloc(70000);
    srandom(7);
    for (int i = 0; i < 70000; i++) big[i] = (char)random();
    dbEntry *e = objNewStringEntry("k", 1, big, 100);
    size_t n;
    char *p = saveBody(e, &n);
    CHECK_EQ_BYTES(p, 3, "\x00\x40\x64", 3);
    memFree(p);
    dbEntryFree(e);
    e = objNewStringEntry("k", 1, big, 70000);
    p = saveBody(e, &n);
    CHECK_EQ_BYTES(p, 6, "\x00\x80\x00\x01\x11\x70", 6);
    CHECK_EQ_INT(n, 70006);
    memFree(p);
    dbEntryFree(e);
    srv.rdbCompression = 1;
    /* LZF: marker 0xC3, compressed length, original length. */
    char rep[200];
    for (int i = 0; i < 200; i++) rep[i] = "abcdefghij"[i % 10];
    e = objNewStringEntry("k", 1, rep, 200);
    p = saveBody(e, &n);
    CHECK(n > 4 && (unsigned char)p[1] == 0xC3);
    CHECK(n < 60);
    char err[256];
    dbEntry *back = loadBody(p, n, NULL, err, sizeof(err));
    CHECK(back != NULL);
    if (back) {
        char nb[LONG_STR_SIZE];
        const char *bp;
        size_t bl;
        objStringBytes(back, nb, &bp, &bl);
        CHECK_EQ_BYTES(bp, bl, rep, 200);
        dbEntryFree(back);
    }
    memFree(p);
    dbEntryFree(e);
    free(big);
    /* Integer-encoded strings of every width load back as text. */
    const unsigned char i8[] = {0, 0xC0, 0xF6}, i16[] = {0, 0xC1, 0x00, 0x80}, i32[] = {0, 0xC2, 0xFF, 0xFF, 0xFF, 0x7F};
    const struct {
        const unsigned char *p;
        size_t n;
        const char *want;
    } ints[] = {{i8, 3, "-10"}, {i16, 4, "-32768"}, {i32, 6, "2147483647"}};
    for (int i = 0; i < 3; i++) {
        back = loadBody(ints[i].p, ints[i].n, NULL, err, sizeof(err));
        CHECK(back != NULL);
        if (!back) continue;
        char *c = canon(back);
        char want[64];
        snprintf(want, sizeof(want), "string/int|%zu:%s", strlen(ints[i].want), ints[i].want);
        CHECK_EQ_STR(c, want);
        free(c);
        dbEntryFree(back);
    }
}

static void testRoundTrips(void) {
    char s300[301];
    memset(s300, 'z', 300);
    s300[300] = '\0';
    roundTrip("string raw", objNewStringEntry("k", 1, "hello world", 11));
    roundTrip("string int", objNewIntEntry("k", 1, -123456789012LL));
    roundTrip("string lzf", objNewStringEntry("k", 1, s300, 300));
    roundTrip("string empty", objNewStringEntry("k", 1, "", 0));
    const char *el[] = {"a", "1", "-2", "9223372036854775807", "", "hello", s300};
    roundTrip("list", mkList("k", el, 7));
    const char *many[3000];
    char bufs[3000][16];
    for (int i = 0; i < 3000; i++) {
        snprintf(bufs[i], sizeof(bufs[i]), "e%d", i);
        many[i] = bufs[i];
    }
    roundTrip("list many nodes", mkList("k", many, 3000));
    long long iv[] = {1, -5, 70000, 9223372036854775807LL, -9223372036854775807LL - 1};
    roundTrip("set intset", mkIntset("k", iv, 5));
    roundTrip("set intset16", mkIntset("k", iv, 2));
    roundTrip("set hashtable", mkSetTable("k", el, 7));
    const char *zm[] = {"a", "b", "c", "d", "e"};
    double zs[] = {1, 2.5, -3, INFINITY, -INFINITY};
    roundTrip("zset listpack", mkZset("k", zm, zs, 5));
    double zs2[3000];
    for (int i = 0; i < 3000; i++) zs2[i] = i / 7.0;
    roundTrip("zset skiplist", mkZset("k", many, zs2, 3000));
    const char *fv[] = {"f1", "v1", "f2", "123", "f3", "", "7", "seven"};
    roundTrip("hash listpack", mkHash("k", fv, 4, 0));
    const char *fvl[] = {"f1", "v1", "long", s300};
    roundTrip("hash hashtable", mkHash("k", fvl, 2, 1));
    roundTrip("hash big", mkHash("k", many, 1500, 1));

    /* Thresholds decide the encoding on load, as in Redis. */
    UNIT_SECTION("thresholds");
    dbEntry *e = mkHash("k", fv, 4, 0);
    size_t n;
    char *p = saveBody(e, &n);
    srv.hashMaxListpackEntries = 3;
    char err[256];
    dbEntry *back = loadBody(p, n, NULL, err, sizeof(err));
    CHECK(back && back->enc == ENC_HASHTABLE);
    if (back) dbEntryFree(back);
    srv.hashMaxListpackEntries = 128;
    srv.hashMaxListpackValue = 2;
    back = loadBody(p, n, NULL, err, sizeof(err));
    CHECK(back && back->enc == ENC_HASHTABLE);
    if (back) dbEntryFree(back);
    srv.hashMaxListpackValue = 64;
    memFree(p);
    dbEntryFree(e);
    e = mkIntset("k", iv, 5);
    p = saveBody(e, &n);
    srv.setMaxIntsetEntries = 4;
    back = loadBody(p, n, NULL, err, sizeof(err));
    CHECK(back && back->enc == ENC_HASHTABLE && setTypeSize(back) == 5);
    if (back) dbEntryFree(back);
    srv.setMaxIntsetEntries = 512;
    memFree(p);
    dbEntryFree(e);
    e = mkSetTable("k", many, 10); /* e0..e9: strings, hashtable */
    const char *nums[] = {"1", "2", "3"};
    dbEntry *numSet = mkSetTable("k", nums, 3);
    p = saveBody(numSet, &n);
    back = loadBody(p, n, NULL, err, sizeof(err));
    CHECK(back && back->enc == ENC_INTSET); /* all integers, few: intset, as Redis */
    if (back) dbEntryFree(back);
    memFree(p);
    dbEntryFree(numSet);
    dbEntryFree(e);
    e = mkZset("k", zm, zs, 5);
    p = saveBody(e, &n);
    srv.zsetMaxListpackEntries = 4;
    back = loadBody(p, n, NULL, err, sizeof(err));
    CHECK(back && back->enc == ENC_SKIPLIST && zsetLength(back) == 5);
    if (back) dbEntryFree(back);
    srv.zsetMaxListpackEntries = 128;
    memFree(p);
    dbEntryFree(e);
}

/* ---- hand-made old encodings ------------------------------------------------ */

typedef struct bytes {
    unsigned char p[4096];
    size_t n;
} bytes;

static void put(bytes *b, const void *p, size_t n) {
    memcpy(b->p + b->n, p, n);
    b->n += n;
}
static void put1(bytes *b, unsigned v) { b->p[b->n++] = (unsigned char)v; }
static void putLE(bytes *b, uint64_t v, int n) {
    for (int i = 0; i < n; i++) put1(b, (unsigned)(v >> (8 * i)) & 0xff);
}

/* A ziplist of entries given as raw (encoding + payload) byte strings. */
static void zlFinish(bytes *z, int count) {
    put1(z, 0xFF);
    unsigned char *p = z->p;
    for (int i = 0; i < 4; i++) p[i] = (unsigned char)(z->n >> (8 * i));
    p[8] = (unsigned char)count;
    p[9] = (unsigned char)(count >> 8);
}
static void zlStart(bytes *z) {
    z->n = 0;
    putLE(z, 0, 4);
    putLE(z, 10, 4); /* zltail: not used by the loader beyond a range check */
    putLE(z, 0, 2);
}
static void zlStr(bytes *z, const char *s) {
    put1(z, 0); /* prevlen (not checked) */
    put1(z, (unsigned)strlen(s));
    put(z, s, strlen(s));
}
static void zlRawInt(bytes *z, unsigned enc, uint64_t v, int w) {
    put1(z, 0);
    put1(z, enc);
    putLE(z, v, w);
}

/* A body: type byte, then the blob as a plain RDB string. */
static void bodyBlob(bytes *out, int type, const bytes *blob) {
    out->n = 0;
    put1(out, (unsigned)type);
    put1(out, 0x40 | (unsigned)(blob->n >> 8));
    put1(out, blob->n & 0xff);
    put(out, blob->p, blob->n);
}

static void expectCanon(const char *what, const bytes *body, const char *want) {
    UNIT_SECTION(what);
    char err[256] = "";
    dbEntry *e = loadBody(body->p, body->n, NULL, err, sizeof(err));
    CHECKF(e != NULL, "%s", err);
    if (!e) return;
    char *c = canon(e);
    CHECK_EQ_STR(c, want);
    free(c);
    dbEntryFree(e);
    /* And every truncation fails. */
    long bad = 0;
    for (size_t cut = 0; cut < body->n; cut++) {
        dbEntry *t = loadBody(body->p, cut, NULL, err, sizeof(err));
        if (t) bad++, dbEntryFree(t);
    }
    CHECK_EQ_INT(bad, 0);
}

static void expectError(const char *what, const void *p, size_t n, const char *needle) {
    UNIT_SECTION(what);
    char err[256] = "";
    int empty = 0;
    dbEntry *e = loadBody(p, n, &empty, err, sizeof(err));
    CHECK(e == NULL);
    if (e) dbEntryFree(e);
    CHECKF(strstr(err, needle) != NULL, "error was '%s', want '%s'", err, needle);
    CHECKF(strstr(err, "at offset ") != NULL, "error was '%s'", err);
}

static void testOldEncodings(void) {
    bytes z, body;
    /* Ziplist with every entry encoding. */
    zlStart(&z);
    zlStr(&z, "a");
    zlStr(&z, "bc");
    zlRawInt(&z, 0xF6, 0, 0);          /* immediate 5 */
    zlRawInt(&z, 0xFE, 100, 1);        /* int8 */
    zlRawInt(&z, 0xC0, 0xFC18, 2);     /* int16 -1000 */
    zlRawInt(&z, 0xF0, 0x123456, 3);   /* int24 */
    zlRawInt(&z, 0xD0, 100000, 4);     /* int32 */
    zlRawInt(&z, 0xE0, 1ULL << 40, 8); /* int64 */
    zlFinish(&z, 8);
    bodyBlob(&body, RDB_TYPE_LIST_ZIPLIST, &z);
    expectCanon("list ziplist", &body,
                "list/quicklist|1:a|2:bc|1:5|3:100|5:-1000|7:1193046|6:100000|13:1099511627776");

    /* Quicklist v1: nodes are ziplists. */
    bytes z2;
    zlStart(&z2);
    zlStr(&z2, "x");
    zlFinish(&z2, 1);
    body.n = 0;
    put1(&body, RDB_TYPE_LIST_QUICKLIST);
    put1(&body, 2);
    put1(&body, 0x40 | (unsigned)(z.n >> 8));
    put1(&body, z.n & 0xff);
    put(&body, z.p, z.n);
    put1(&body, (unsigned)z2.n);
    put(&body, z2.p, z2.n);
    expectCanon("list quicklist v1", &body,
                "list/quicklist|1:a|2:bc|1:5|3:100|5:-1000|7:1193046|6:100000|13:1099511627776|1:x");

    /* Hash and zset ziplists. */
    zlStart(&z);
    zlStr(&z, "m1");
    zlStr(&z, "1.5");
    zlStr(&z, "m2");
    zlRawInt(&z, 0xF3, 0, 0); /* 2 */
    zlFinish(&z, 4);
    bodyBlob(&body, RDB_TYPE_ZSET_ZIPLIST, &z);
    expectCanon("zset ziplist", &body, "zset/listpack|6:m1@1.5|4:m2@2");
    bodyBlob(&body, RDB_TYPE_HASH_ZIPLIST, &z);
    expectCanon("hash ziplist", &body, "hash/listpack|4:m2=2|6:m1=1.5");

    /* Zipmap. */
    z.n = 0;
    put1(&z, 2);
    put1(&z, 1), put(&z, "a", 1), put1(&z, 1), put1(&z, 0), put(&z, "x", 1);
    put1(&z, 2), put(&z, "bb", 2), put1(&z, 3), put1(&z, 1), put(&z, "yyy", 3), put1(&z, 0);
    put1(&z, 0xFF);
    bodyBlob(&body, RDB_TYPE_HASH_ZIPMAP, &z);
    expectCanon("hash zipmap", &body, "hash/listpack|3:a=x|6:bb=yyy");

    /* 7.2's SET_LISTPACK: "a", 5, -300 (13-bit), "b". */
    z.n = 0;
    putLE(&z, 0, 4);
    putLE(&z, 4, 2);
    put1(&z, 0x81), put(&z, "a", 1), put1(&z, 2);
    put1(&z, 0x05), put1(&z, 1);
    put1(&z, 0xC0 | ((unsigned)(8192 - 300) >> 8)), put1(&z, (8192 - 300) & 0xff), put1(&z, 2);
    put1(&z, 0x81), put(&z, "b", 1), put1(&z, 2);
    put1(&z, 0xFF);
    for (int i = 0; i < 4; i++) z.p[i] = (unsigned char)(z.n >> (8 * i));
    bodyBlob(&body, RDB_TYPE_SET_LISTPACK, &z);
    expectCanon("set listpack (7.2)", &body, "set/hashtable|1:5|1:a|1:b|4:-300");

    /* ZSET (type 3): scores as text, 254 = inf, 255 = -inf. */
    body.n = 0;
    put1(&body, RDB_TYPE_ZSET);
    put1(&body, 3);
    put1(&body, 1), put(&body, "a", 1), put1(&body, 3), put(&body, "2.5", 3);
    put1(&body, 1), put(&body, "b", 1), put1(&body, 254);
    put1(&body, 1), put(&body, "c", 1), put1(&body, 255);
    expectCanon("zset v1 text scores", &body, "zset/listpack|6:c@-inf|5:a@2.5|5:b@inf");

    /* Quicklist v2 with a PLAIN node and a PACKED listpack node. */
    z.n = 0;
    putLE(&z, 0, 4);
    putLE(&z, 1, 2);
    put1(&z, 0x07), put1(&z, 1);
    put1(&z, 0xFF);
    for (int i = 0; i < 4; i++) z.p[i] = (unsigned char)(z.n >> (8 * i));
    body.n = 0;
    put1(&body, RDB_TYPE_LIST_QUICKLIST_2);
    put1(&body, 2);
    put1(&body, 1), put1(&body, 3), put(&body, "big", 3);
    put1(&body, 2), put1(&body, (unsigned)z.n), put(&body, z.p, z.n);
    expectCanon("list quicklist v2", &body, "list/quicklist|3:big|1:7");
}

static void testCorrupt(void) {
    const unsigned char hugeStr[] = {0, 0x81, 0, 0, 0, 1, 0, 0, 0, 0, 'a'};
    expectError("huge string length", hugeStr, sizeof(hugeStr), "unexpected end of data");
    const unsigned char hugeLzf[] = {0, 0xC3, 0x02, 0x80, 0x7f, 0xff, 0xff, 0xff, 0x01, 'a'};
    expectError("lzf length lie", hugeLzf, sizeof(hugeLzf), "invalid LZF");
    const unsigned char badLzf[] = {0, 0xC3, 0x02, 0x05, 0x20, 0x00};
    expectError("lzf bad data", badLzf, sizeof(badLzf), "invalid LZF");
    const unsigned char dupSet[] = {RDB_TYPE_SET, 2, 1, 'a', 1, 'a'};
    expectError("duplicate set member", dupSet, sizeof(dupSet), "duplicate set member");
    const unsigned char dupInt[] = {RDB_TYPE_SET, 2, 0xC0, 1, 1, '1'};
    expectError("duplicate intset member", dupInt, sizeof(dupInt), "duplicate set member");
    const unsigned char dupHash[] = {RDB_TYPE_HASH, 2, 1, 'f', 1, 'x', 1, 'f', 1, 'y'};
    expectError("duplicate hash field", dupHash, sizeof(dupHash), "duplicate hash field");
    unsigned char dupZ[] = {RDB_TYPE_ZSET_2, 2, 1, 'm', 0, 0, 0, 0, 0, 0, 0xf0, 0x3f, 1, 'm', 0, 0, 0, 0, 0, 0, 0, 0x40};
    expectError("duplicate zset member", dupZ, sizeof(dupZ), "duplicate sorted set member");
    unsigned char nanZ[] = {RDB_TYPE_ZSET_2, 1, 1, 'm', 0, 0, 0, 0, 0, 0, 0xf8, 0x7f};
    expectError("nan score", nanZ, sizeof(nanZ), "NaN");
    const unsigned char stream[] = {RDB_TYPE_STREAM_LISTPACKS, 0};
    /* Streams load now (stream.c); a stream record cut after its node
     * count is a short read. */
    expectError("truncated stream", stream, sizeof(stream), "unexpected end of data");
    const unsigned char module[] = {RDB_TYPE_MODULE_2, 0};
    expectError("module", module, sizeof(module), "not supported");
    const unsigned char unknown[] = {8, 0};
    expectError("unknown type", unknown, sizeof(unknown), "unknown object type");
    /* Ziplist whose zlbytes lies, and one whose entry runs past the end. */
    bytes z, body;
    zlStart(&z);
    zlStr(&z, "abc");
    zlFinish(&z, 1);
    z.p[0]++;
    bodyBlob(&body, RDB_TYPE_LIST_ZIPLIST, &z);
    expectError("ziplist zlbytes", body.p, body.n, "invalid ziplist");
    z.p[0]--;
    z.p[11] = 40; /* string length beyond the blob */
    bodyBlob(&body, RDB_TYPE_LIST_ZIPLIST, &z);
    expectError("ziplist entry", body.p, body.n, "out of range");
    const unsigned char emptySet[] = {RDB_TYPE_SET, 0};
    UNIT_SECTION("empty value");
    int empty = 0;
    char err[256];
    CHECK(loadBody(emptySet, sizeof(emptySet), &empty, err, sizeof(err)) == NULL);
    CHECK(empty == 1);

    /* Random corruption of valid bodies: never a crash; whatever loads is a
     * well-formed value (canon walks it). */
    UNIT_SECTION("fuzz");
    const char *el[] = {"a", "1", "-2", "hello", "world"};
    dbEntry *vals[] = {mkList("k", el, 5), mkSetTable("k", el, 5), mkHash("k", el, 2, 0)};
    srandom(99);
    long loaded = 0;
    for (int v = 0; v < 3; v++) {
        size_t n;
        char *p = saveBody(vals[v], &n);
        for (int t = 0; t < 3000; t++) {
            char *q = memAlloc(n);
            memcpy(q, p, n);
            for (int k = 0; k < 1 + t % 3; k++) q[random() % (long)n] = (char)random();
            dbEntry *e = loadBody(q, n, NULL, err, sizeof(err));
            if (e) {
                free(canon(e));
                dbEntryFree(e);
                loaded++;
            }
            memFree(q);
        }
        memFree(p);
        dbEntryFree(vals[v]);
    }
    CHECK(loaded >= 0);
}

/* ---- whole datasets ------------------------------------------------------------ */

static void emptyAll(void) {
    for (int i = 0; i < srv.dbnum; i++) dbEmpty(&srv.db[i]);
}

static char *dbCanon(cdb *db, const char *key) {
    dbEntry *e = (dbEntry *)kvsFind(&db->keys, key, strlen(key));
    if (!e) return strdup("(missing)");
    char *c = canon(e), *out = malloc(strlen(c) + 32);
    sprintf(out, "%s ttl=%lld", c, e->expire);
    free(c);
    return out;
}

static int loadMem(const char *p, size_t n, char *err, size_t errlen) {
    rdbSource s;
    rdbMemSourceInit(&s, p, n);
    int rc = rdbLoadAll(&s, err, errlen);
    rdbMemSourceFree(&s);
    return rc;
}

static void testSaveLoadAll(void) {
    UNIT_SECTION("save/load all");
    emptyAll();
    const char *el[] = {"a", "1", "-2", "hello"};
    long long iv[] = {3, 1, 2};
    const char *zm[] = {"x", "y"};
    double zs[] = {2, 1};
    const char *fv[] = {"f", "v", "g", "w"};
    dbInsert(&srv.db[0], objNewStringEntry("s", 1, "value", 5));
    dbInsert(&srv.db[0], mkList("l", el, 4));
    dbInsert(&srv.db[0], mkIntset("i", iv, 3));
    dbInsert(&srv.db[5], mkSetTable("t", el, 4));
    dbInsert(&srv.db[5], mkZset("z", zm, zs, 2));
    dbEntry *h = mkHash("h", fv, 2, 0);
    h->expire = srv.mstime + 100000;
    dbInsert(&srv.db[5], h);
    dbEntry *gone = objNewStringEntry("gone", 4, "x", 1);
    gone->expire = srv.mstime - 1000;
    dbInsert(&srv.db[0], gone);
    const char *keys0[] = {"s", "l", "i"}, *keys5[] = {"t", "z", "h"};
    char *before[6];
    for (int i = 0; i < 3; i++) before[i] = dbCanon(&srv.db[0], keys0[i]), before[3 + i] = dbCanon(&srv.db[5], keys5[i]);

    rdbSink s;
    rdbMemSinkInit(&s);
    char err[512] = "";
    CHECK(rdbSaveAll(&s, err, sizeof(err)) == 0);
    size_t n;
    char *file = rdbMemSinkTake(&s, &n);
    rdbMemSinkFree(&s);
    CHECK_EQ_BYTES(file, 9, "REDIS0010", 9);
    CHECK(crc64(0, file, n - 8) != 0);

    emptyAll();
    CHECKF(loadMem(file, n, err, sizeof(err)) == 0, "%s", err);
    CHECK_EQ_INT(srv.loadKeysLoaded, 6);
    CHECK_EQ_INT(srv.loadKeysExpired, 1);
    CHECK_EQ_INT(dbSize(&srv.db[0]), 3);
    CHECK_EQ_INT(dbSize(&srv.db[5]), 3);
    CHECK_EQ_INT(dictSize(&srv.db[5].expires), 1);
    for (int i = 0; i < 6; i++) {
        char *after = dbCanon(&srv.db[i < 3 ? 0 : 5], i < 3 ? keys0[i] : keys5[i - 3]);
        CHECK_EQ_STR(after, before[i]);
        free(after);
        free(before[i]);
    }

    UNIT_SECTION("corrupt files");
    /* Every truncation is refused. */
    long bad = 0;
    for (size_t cut = 0; cut < n; cut++) {
        emptyAll();
        if (loadMem(file, cut, err, sizeof(err)) == 0) bad++;
    }
    CHECK_EQ_INT(bad, 0);
    /* A changed byte in the trailer: checksum error. */
    file[n - 1] ^= 1;
    emptyAll();
    CHECK(loadMem(file, n, err, sizeof(err)) == -1);
    CHECKF(strstr(err, "wrong RDB checksum") != NULL, "%s", err);
    CHECKF(strstr(err, "at offset ") != NULL, "%s", err);
    /* A zero trailer is not checked (rdbchecksum no on the writer). */
    memset(file + n - 8, 0, 8);
    emptyAll();
    CHECK(loadMem(file, n, err, sizeof(err)) == 0);
    /* Bad magic, future version. */
    file[0] = 'X';
    emptyAll();
    CHECK(loadMem(file, n, err, sizeof(err)) == -1);
    CHECKF(strstr(err, "signature") != NULL, "%s", err);
    memcpy(file, "REDIS0099", 9);
    emptyAll();
    CHECK(loadMem(file, n, err, sizeof(err)) == -1);
    CHECKF(strstr(err, "version 99") != NULL, "%s", err);
    memFree(file);
    /* Opcodes Cachet cannot honour, and a library it cannot load. */
    const char modAux[] = "REDIS0010\xf7\x00";
    emptyAll();
    CHECK(loadMem(modAux, sizeof(modAux) - 1, err, sizeof(err)) == -1);
    CHECKF(strstr(err, "module auxiliary data is not supported") != NULL, "%s", err);
    const char fn[] = "REDIS0010\xf5\x01x";
    emptyAll();
    CHECK(loadMem(fn, sizeof(fn) - 1, err, sizeof(err)) == -1);
    /* Function libraries load now (function.c); this one's code has no
     * "#!lua name=" header, so it is refused with the reason. */
    CHECKF(strstr(err, "Failed loading library") != NULL, "%s", err);
    const char baddb[] = "REDIS0010\xfe\x3f";
    emptyAll();
    CHECK(loadMem(baddb, sizeof(baddb) - 1, err, sizeof(err)) == -1);
    CHECKF(strstr(err, "database 63") != NULL, "%s", err);
    const char dup[] = "REDIS0010\x00\x01k\x01v\x00\x01k\x01w\xff";
    emptyAll();
    CHECK(loadMem(dup, sizeof(dup) - 1, err, sizeof(err)) == -1);
    CHECKF(strstr(err, "duplicate key") != NULL, "%s", err);
    /* Old version without checksum: EOF ends it. */
    const char v3[] = "REDIS0003\x00\x01k\x01v\xff";
    emptyAll();
    CHECKF(loadMem(v3, sizeof(v3) - 1, err, sizeof(err)) == 0, "%s", err);
    CHECK_EQ_INT(dbSize(&srv.db[0]), 1);
    emptyAll();
}

/* ---- plain files ---------------------------------------------------------------- */

static void testFiles(void) {
    UNIT_SECTION("rdbSaveFile/rdbLoadFile");
    char dir[] = "/tmp/test_rdb.XXXXXX";
    CHECK(mkdtemp(dir) != NULL);
    char path[256], tmp[256], err[512] = "";
    snprintf(path, sizeof(path), "%s/dump.rdb", dir);
    snprintf(tmp, sizeof(tmp), "%s/temp-%d.rdb", dir, (int)getpid());
    emptyAll();
    dbInsert(&srv.db[0], objNewStringEntry("a", 1, "1", 1));
    CHECKF(rdbSaveFile(path, err, sizeof(err)) == 0, "%s", err);
    CHECK(access(tmp, F_OK) != 0); /* renamed away */
    /* A second save replaces the first atomically. */
    dbInsert(&srv.db[0], objNewStringEntry("b", 1, "2", 1));
    CHECKF(rdbSaveFile(path, err, sizeof(err)) == 0, "%s", err);
    emptyAll();
    CHECKF(rdbLoadFile(path, err, sizeof(err)) == 0, "%s", err);
    CHECK_EQ_INT(dbSize(&srv.db[0]), 2);
    /* A directory that does not exist: an error, nothing left behind. */
    char bad[300];
    snprintf(bad, sizeof(bad), "%s/nope/dump.rdb", dir);
    CHECK(rdbSaveFile(bad, err, sizeof(err)) == -1);
    CHECKF(strstr(err, "temp") != NULL, "%s", err);
    /* A truncated file is refused with the offset. */
    FILE *fp = fopen(path, "r+b");
    if (fp) {
        CHECK(ftruncate(fileno(fp), 20) == 0);
        fclose(fp);
    }
    emptyAll();
    CHECK(rdbLoadFile(path, err, sizeof(err)) == -1);
    CHECKF(strstr(err, "Short read or corrupt RDB at offset 20") != NULL, "%s", err);
    unlink(path);
    rmdir(dir);
    emptyAll();
}

/* ---- files written by Redis 7.0 -------------------------------------------------- */

static int loadFile(const char *name, char *err, size_t errlen) {
    char path[512];
    const char *dir = getenv("RDB_TEST_DATA");
    snprintf(path, sizeof(path), "%s%s", dir ? dir : DATA_DIR, name);
    emptyAll();
    return rdbLoadFile(path, err, errlen);
}

static dbEntry *get(int db, const char *key) { return (dbEntry *)kvsFind(&srv.db[db].keys, key, strlen(key)); }

static void checkKey(int db, const char *key, int type, int enc, const char *canonPrefix) {
    dbEntry *e = get(db, key);
    CHECKF(e != NULL, "key %s missing", key);
    if (!e) return;
    CHECKF(e->type == type && e->enc == enc, "%s: type %d enc %d", key, (int)e->type, (int)e->enc);
    if (canonPrefix) {
        char *c = canon(e);
        CHECKF(strncmp(c, canonPrefix, strlen(canonPrefix)) == 0, "%s: got %.200s", key, c);
        free(c);
    }
}

static void testRedisFiles(void) {
    UNIT_SECTION("redis70-all.rdb");
    char err[512] = "";
    CHECKF(loadFile("redis70-all.rdb", err, sizeof(err)) == 0, "%s", err);
    CHECK_EQ_INT(srv.loadKeysLoaded, 22);
    CHECK_EQ_INT(srv.loadKeysExpired, 1);
    CHECK_EQ_INT(dbSize(&srv.db[0]), 19);
    CHECK_EQ_INT(dbSize(&srv.db[3]), 3);
    CHECK(get(0, "str:expired") == NULL);
    checkKey(0, "str:small", OBJ_STRING, ENC_INLINE, "string/embstr|5:hello");
    checkKey(0, "str:int", OBJ_STRING, ENC_INT, "string/int|5:12345");
    checkKey(0, "str:neg", OBJ_STRING, ENC_INT, "string/int|2:-7");
    checkKey(0, "str:bigint", OBJ_STRING, ENC_INT, "string/int|14:12345678901234");
    checkKey(0, "str:empty", OBJ_STRING, ENC_INLINE, "string/embstr|0:");
    checkKey(0, "str:lzf", OBJ_STRING, ENC_INLINE,
             "string/raw|200:abcdefghijabcdefghijabcdefghijabcdefghijabcdefghijabcdefghijabcdefghij");
    dbEntry *e = get(0, "str:ttl");
    CHECK(e && e->expire == 4102444800000LL);
    checkKey(0, "list:small", OBJ_LIST, ENC_QUICKLIST, "list/quicklist|1:a|1:b|1:1|1:2|2:-3|14:longer-element");
    checkKey(0, "list:big", OBJ_LIST, ENC_QUICKLIST, "list/quicklist|6:item-1|6:item-2|6:item-3|");
    e = get(0, "list:big");
    if (e) {
        CHECK_EQ_INT(qlCount(e->v.ptr), 1000);
        qlEntry en;
        char buf[LP_INTBUF_SIZE];
        size_t len;
        CHECK(qlIndex(e->v.ptr, 499, &en));
        const char *v = qlEntryValue(&en, buf, &len);
        CHECK_EQ_BYTES(v, len, "item-500", 8);
        CHECK(qlCheck(e->v.ptr));
    }
    e = get(0, "list:plain");
    CHECK(e && qlCount(e->v.ptr) == 3);
    if (e) {
        qlEntry en;
        char buf[LP_INTBUF_SIZE];
        size_t len;
        qlIndex(e->v.ptr, 1, &en);
        qlEntryValue(&en, buf, &len);
        CHECK_EQ_INT(len, 2000);
    }
    checkKey(0, "set:int", OBJ_SET, ENC_INTSET, "set/intset|1:1|1:2|1:3|2:-5|6:100000");
    checkKey(0, "set:int64", OBJ_SET, ENC_INTSET, "set/intset|19:9223372036854775807|1:5|20:-9223372036854775808");
    checkKey(0, "set:str", OBJ_SET, ENC_HASHTABLE, "set/hashtable|1:a|1:b|1:c");
    checkKey(0, "set:bigint", OBJ_SET, ENC_HASHTABLE, "set/hashtable|");
    e = get(0, "set:bigint");
    CHECK(e && setTypeSize(e) == 600 && setTypeIsMember(e, "600", 3));
    checkKey(0, "zset:small", OBJ_ZSET, ENC_LISTPACK, "zset/listpack|4:c@-3|3:e@0|3:a@1|5:b@2.5|5:d@inf");
    checkKey(0, "zset:big", OBJ_ZSET, ENC_SKIPLIST, "zset/skiplist|7:m1@0.25|6:m2@0.5|");
    e = get(0, "zset:big");
    CHECK(e && zsetLength(e) == 200);
    checkKey(0, "hash:small", OBJ_HASH, ENC_LISTPACK, "hash/listpack|3:f3=|5:f1=v1|6:f2=123|7:7=seven");
    e = get(0, "hash:small");
    CHECK(e && e->expire == 4102444800000LL);
    checkKey(0, "hash:big", OBJ_HASH, srv.hashMaxListpackEntries >= 600 ? ENC_LISTPACK : ENC_HASHTABLE, NULL);
    e = get(0, "hash:big");
    CHECK(e && hashTypeLength(e) == 600);
    checkKey(0, "hash:longval", OBJ_HASH, ENC_HASHTABLE, NULL);
    checkKey(3, "db3:str", OBJ_STRING, ENC_INLINE, "string/embstr|5:three");
    checkKey(3, "db3:list", OBJ_LIST, ENC_QUICKLIST, "list/quicklist|1:x|1:y|1:z");
    checkKey(3, "db3:set", OBJ_SET, ENC_HASHTABLE, "set/hashtable|1:q");

    /* Ours re-saved loads back identical (every key, type, value, TTL). */
    UNIT_SECTION("redis70-all.rdb resaved");
    char *before[32];
    const char *names[32];
    int nk = 0;
    for (int db = 0; db < srv.dbnum; db++) {
        kvsIter it;
        kvsIterInit(&it, &srv.db[db].keys, 0);
        for (dictNode *nd; (nd = kvsNext(&it));) {
            dbEntry *x = (dbEntry *)nd;
            if (nk < 32) {
                names[nk] = strndup(x->key, x->keylen);
                before[nk] = dbCanon(&srv.db[db], names[nk]);
                nk++;
            }
        }
        kvsIterEnd(&it);
    }
    rdbSink s;
    rdbMemSinkInit(&s);
    CHECK(rdbSaveAll(&s, err, sizeof(err)) == 0);
    size_t n;
    char *file = rdbMemSinkTake(&s, &n);
    rdbMemSinkFree(&s);
    emptyAll();
    CHECKF(loadMem(file, n, err, sizeof(err)) == 0, "%s", err);
    CHECK_EQ_INT(srv.loadKeysLoaded, 22);
    int same = 0;
    for (int i = 0; i < nk; i++) {
        for (int db = 0; db < srv.dbnum; db++) {
            if (!kvsFind(&srv.db[db].keys, names[i], strlen(names[i]))) continue;
            char *after = dbCanon(&srv.db[db], names[i]);
            if (!strcmp(after, before[i])) same++;
            else printf("  differs: %s\n", names[i]);
            free(after);
        }
        free(before[i]);
        free((char *)names[i]);
    }
    CHECK_EQ_INT(same, nk);
    memFree(file);

    UNIT_SECTION("redis70-lru/lfu/nock");
    CHECKF(loadFile("redis70-lru.rdb", err, sizeof(err)) == 0, "%s", err);
    CHECK_EQ_INT(srv.loadKeysLoaded, 2);
    CHECKF(loadFile("redis70-lfu.rdb", err, sizeof(err)) == 0, "%s", err);
    CHECK_EQ_INT(srv.loadKeysLoaded, 2);
    CHECKF(loadFile("redis70-nock.rdb", err, sizeof(err)) == 0, "%s", err);
    CHECK_EQ_INT(srv.loadKeysLoaded, 2);
    checkKey(0, "str:lzf", OBJ_STRING, ENC_INLINE, "string/raw|200:abcdefghij");
    CHECK_EQ_INT(loadFile("no-such-file.rdb", err, sizeof(err)), 1);
    emptyAll();

    /* Random damage to a real file with the CRC check off, so the
     * structure parsers see it: errors or a load, never a crash (the ASan
     * build is what makes this a real check). */
    UNIT_SECTION("file fuzz");
    FILE *fp = fopen(DATA_DIR "redis70-all.rdb", "rb");
    if (getenv("RDB_TEST_DATA")) {
        char path[512];
        snprintf(path, sizeof(path), "%sredis70-all.rdb", getenv("RDB_TEST_DATA"));
        if (fp) fclose(fp);
        fp = fopen(path, "rb");
    }
    CHECK(fp != NULL);
    if (!fp) return;
    char *orig = malloc(1 << 16), *buf = malloc(1 << 16);
    size_t flen = fread(orig, 1, 1 << 16, fp);
    fclose(fp);
    srv.rdbChecksum = 0;
    srandom(1234);
    long failed = 0, ok = 0;
    for (int t = 0; t < 400; t++) {
        memcpy(buf, orig, flen);
        int flips = 1 + t % 4;
        for (int k = 0; k < flips; k++) buf[random() % (long)flen] = (char)random();
        emptyAll();
        if (loadMem(buf, flen, err, sizeof(err)) == 0) ok++;
        else failed++;
    }
    for (size_t cut = 0; cut < flen; cut += 37) {
        emptyAll();
        if (loadMem(orig, cut, err, sizeof(err)) == 0) ok++;
    }
    srv.rdbChecksum = 1;
    CHECK(failed > 0);
    printf("  file fuzz: %ld loaded, %ld refused\n", ok, failed);
    free(orig);
    free(buf);
    emptyAll();
}

int main(void) {
    {
        char *early = NULL;
        if (serverEarlyInit("test_rdb", &early) == -1) {
            fprintf(stderr, "%s\n", early);
            abort();
        }
    }
    dbInitAll();
    serverUpdateCachedTime();
    srv.hashMaxListpackEntries = 128;
    testCrc64();
    testLzf();
    testEncodings();
    testRoundTrips();
    testOldEncodings();
    testCorrupt();
    testSaveLoadAll();
    testFiles();
    testRedisFiles();
    return unitDone();
}
