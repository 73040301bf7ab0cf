/* fuzz_seal.c - the sealed snapshot container (seal.c, format in seal.h) with
 * an in-memory keyring (keyring.c) of two keys. The first input byte picks
 * the mode (byte % 3):
 *  0 (A) the rest is a file: sealSourceOpen, then every chunk through
 *    sealSourceNext and sealSourceFinish. Header parsing and every refusal
 *    path; a refusal must say why. Seeds are files sealed by
 *    `cachet-snapshot encrypt`, some with a key the harness does not hold.
 *  1 (B) parameters, then a plaintext: it is sealed (fuzz-chosen key, chunk
 *    size 1000..4099 so inputs span many chunks, write split), the sealed
 *    bytes get up to four fuzz-chosen mutations (flip a byte, truncate,
 *    drop / duplicate / swap chunks, set a header byte, append bytes, change
 *    a chunk length word, splice a chunk or the header from a second sealing
 *    of the same plaintext), then it is read back (sealSourceNext, or
 *    out->read in fuzz-chosen pieces as rdb.c does) and finished. Checks:
 *    unchanged bytes give exactly the plaintext and Finish succeeds; changed
 *    bytes make open, a read or Finish fail; a byte handed out is always the
 *    plaintext's byte at that position (nothing unauthenticated leaks out);
 *    reading past the plaintext fails. A flag seals onto a sink that fails
 *    after a fuzz-chosen byte count (a full disk): the failure sticks, Close
 *    reports it, Abort frees, and a stream that fitted reads back.
 *  2 (C) parameters, then an RDB stream: loaded plain (memory source), then
 *    sealed and loaded the way snapshotLoad loads a sealed file
 *    (sealSourceOpen -> rdbLoadAll -> sealSourceFinish). The sealed load
 *    succeeds only where the plain one does, with the same key count, and
 *    where the plain load consumed every byte the sealed one must succeed.
 * A violated check is __builtin_trap(). Checksums are off (as in fuzz_rdb).
 * Must never: keep state across inputs (the dbs are emptied, every buffer
 * and reader/writer freed; the keyring is built once and only read). */
#include "fuzz_common.h"
#include "db.h"
#include "keyring.h"
#include "rdb.h"
#include "seal.h"
#include <errno.h>

#define FUZZ_SEAL_MAX_CHUNKS 4096
#define FUZZ_SEAL_MAX_PLAIN (1 << 18)

static keyring *fuzzRing;

/* Test keys (the same as tests/integration/test_snapshot_tool.py). */
static const char fuzzRingText[] =
    "# fuzz keyring\n"
    "key fuzz-a 9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08\n"
    "key alias/fuzz-b 60303ae22b998861bce3b28f33eec1be758a213c86c93c076dbe9f558c11c752\n"
    "default fuzz-a\n";

int LLVMFuzzerInitialize(int *argc, char ***argv) {
    (void)argc;
    (void)argv;
    fuzzServerInit("rdbchecksum no\n");
    char err[512];
    fuzzRing = keyringParse(fuzzRingText, sizeof(fuzzRingText) - 1, "fuzz-keyring", err, sizeof(err));
    if (!fuzzRing || fuzzRing->count != 2) {
        fprintf(stderr, "fuzz: keyring: %s\n", err);
        abort();
    }
    return 0;
}

static unsigned char *fuzzDup(const void *p, size_t n) {
    return (unsigned char *)memDupBytes(p, n);
}

/* Parameter bytes: 0 past the end of the input. */
typedef struct fuzzParams {
    const uint8_t *p;
    size_t n;
} fuzzParams;

static unsigned fuzzByte(const fuzzParams *fp, size_t i) {
    return i < fp->n ? fp->p[i] : 0;
}

static unsigned fuzzLe16(const fuzzParams *fp, size_t i) {
    return fuzzByte(fp, i) | fuzzByte(fp, i + 1) << 8;
}

#define FUZZ_CHECK(cond)                                                                                     \
    do {                                                                                                     \
        if (!(cond)) {                                                                                       \
            fprintf(stderr, "fuzz_seal: check failed at line %d: %s\n", __LINE__, #cond);                     \
            __builtin_trap();                                                                                \
        }                                                                                                    \
    } while (0)

/* Seals plain[0..n) with key k in chunks of chunk bytes, handed to the
 * writer in pieces of piece bytes (0 = all at once). NULL when sealSinkOpen
 * refuses (err set). */
static unsigned char *fuzzSeal(const unsigned char *plain, size_t n, const keyringKey *k, size_t chunk,
                               size_t piece, size_t *outlen, char *err, size_t errlen) {
    rdbSink mem, sealed;
    rdbMemSinkInit(&mem);
    if (sealSinkOpen(&sealed, &mem, k, chunk, err, errlen) == -1) {
        FUZZ_CHECK(err[0]);
        rdbMemSinkFree(&mem);
        return NULL;
    }
    if (!piece) piece = n ? n : 1;
    for (size_t off = 0; off < n; off += piece) {
        size_t m = n - off < piece ? n - off : piece;
        FUZZ_CHECK(sealed.write(sealed.ctx, plain + off, m) == 0);
    }
    FUZZ_CHECK(sealSinkClose(&sealed, err, errlen) == 0);
    char *p = rdbMemSinkTake(&mem, outlen);
    rdbMemSinkFree(&mem);
    return (unsigned char *)p;
}

/* The sealed header's length, from its key id length byte. */
static size_t fuzzHeaderLen(const unsigned char *p) {
    return SEAL_MAGIC_LEN + 7 + p[SEAL_MAGIC_LEN + 6] + SEAL_SALT_LEN + SEAL_KCV_LEN + SEAL_MAC_LEN;
}

/* Splits buf after the header into chunk records as their length words
 * say; stops at the first record that does not fit. */
typedef struct fuzzChunk {
    size_t off, len;
} fuzzChunk;

static int fuzzChunks(const unsigned char *buf, size_t len, size_t hlen, fuzzChunk *out) {
    int n = 0;
    size_t off = hlen;
    while (off + SEAL_CHUNK_HDR_LEN <= len && n < FUZZ_SEAL_MAX_CHUNKS) {
        uint32_t w = (uint32_t)buf[off] << 24 | (uint32_t)buf[off + 1] << 16 | (uint32_t)buf[off + 2] << 8 |
                     buf[off + 3];
        size_t rl = SEAL_CHUNK_OVERHEAD + (size_t)(w & 0x7fffffffu);
        if (rl > len - off) break;
        out[n].off = off;
        out[n].len = rl;
        n++;
        off += rl;
    }
    return n;
}

/* A growable byte buffer for the mutated stream. */
typedef struct fuzzBuf {
    unsigned char *p;
    size_t len, cap;
} fuzzBuf;

static void fuzzBufReserve(fuzzBuf *b, size_t need) {
    if (need <= b->cap) return;
    size_t cap = b->cap ? b->cap : 256;
    while (cap < need) cap *= 2;
    b->p = memRealloc(b->p, cap);
    b->cap = cap;
}

/* Replaces b[off..off+dlen) with ins[0..ilen). ins must not point into b. */
static void fuzzBufSplice(fuzzBuf *b, size_t off, size_t dlen, const unsigned char *ins, size_t ilen) {
    fuzzBufReserve(b, b->len - dlen + ilen);
    memmove(b->p + off + ilen, b->p + off + dlen, b->len - off - dlen);
    if (ilen) memcpy(b->p + off, ins, ilen);
    b->len = b->len - dlen + ilen;
}

/* One mutation of the sealed stream b (hlen = its header length). other is
 * a second sealing of the same plaintext (same key and chunk size). */
static void fuzzMutate(fuzzBuf *b, size_t hlen, unsigned op, unsigned pos, unsigned arg, const unsigned char *other,
                       size_t otherLen, fuzzChunk *ch, fuzzChunk *och) {
    if (b->len == 0) return;
    int n = fuzzChunks(b->p, b->len, hlen, ch);
    switch (op % 9) {
    case 0: /* flip bits of one byte */
        b->p[pos % b->len] ^= (unsigned char)((arg & 0xff) ? arg : 1);
        break;
    case 1: /* truncate */
        b->len = pos % b->len;
        break;
    case 2: /* drop a chunk */
        if (n) {
            fuzzChunk c = ch[pos % (unsigned)n];
            fuzzBufSplice(b, c.off, c.len, NULL, 0);
        }
        break;
    case 3: /* duplicate a chunk, the copy goes before chunk arg (or at the end) */
        if (n) {
            fuzzChunk c = ch[pos % (unsigned)n];
            size_t at = arg % (unsigned)(n + 1) == (unsigned)n ? ch[n - 1].off + ch[n - 1].len
                                                               : ch[arg % (unsigned)(n + 1)].off;
            unsigned char *copy = fuzzDup(b->p + c.off, c.len);
            fuzzBufSplice(b, at, 0, copy, c.len);
            memFree(copy);
        }
        break;
    case 4: /* swap two chunks */
        if (n >= 2) {
            unsigned i = pos % (unsigned)n, j = arg % (unsigned)n;
            if (i == j) j = (i + 1) % (unsigned)n;
            if (i > j) {
                unsigned t = i;
                i = j;
                j = t;
            }
            fuzzChunk a = ch[i], c = ch[j];
            unsigned char *ca = fuzzDup(b->p + a.off, a.len), *cc = fuzzDup(b->p + c.off, c.len);
            fuzzBufSplice(b, c.off, c.len, ca, a.len); /* the later one first: a.off stays valid */
            fuzzBufSplice(b, a.off, a.len, cc, c.len);
            memFree(ca);
            memFree(cc);
        }
        break;
    case 5: { /* set a header byte */
        size_t h = hlen < b->len ? hlen : b->len;
        unsigned char *at = &b->p[pos % h];
        unsigned char v = (unsigned char)arg;
        *at = v == *at ? (unsigned char)(v ^ 1) : v;
        break;
    }
    case 6: { /* append bytes */
        size_t k = arg % 32 + 1;
        fuzzBufReserve(b, b->len + k);
        memset(b->p + b->len, (int)(pos & 0xff), k);
        b->len += k;
        break;
    }
    case 7: /* one bit of a chunk's length word (length or final flag) */
        if (n) b->p[ch[pos % (unsigned)n].off + (arg >> 3) % 4] ^= (unsigned char)(1u << (arg & 7));
        break;
    case 8: /* splice from the second sealing: a chunk, or the header */
        if (arg & 1) {
            if (hlen <= b->len && hlen <= otherLen) memcpy(b->p, other, hlen);
        } else if (n) {
            int on = fuzzChunks(other, otherLen, hlen, och);
            unsigned i = pos % (unsigned)n;
            if ((int)i < on) fuzzBufSplice(b, ch[i].off, ch[i].len, other + och[i].off, och[i].len);
        }
        break;
    }
}

/* Reads the sealed stream s back. style 0: sealSourceNext to the end; 1:
 * out->read in pieces of rsz up to plen bytes; 2: as 1, then one byte more,
 * which must fail. Returns 0 when open, reads and Finish all succeeded, -1
 * on a failure (1 for style 2, see the end). */
static int fuzzReadBack(const unsigned char *s, size_t slen, const unsigned char *plain, size_t plen, int style,
                        size_t rsz) {
    char err[512] = "";
    rdbSource under, src;
    rdbMemSourceInit(&under, s, slen);
    if (sealSourceOpen(&src, &under, fuzzRing, err, sizeof(err)) == -1) {
        FUZZ_CHECK(err[0]);
        rdbMemSourceFree(&under);
        return -1;
    }
    int rc = 0;
    size_t got = 0;
    if (style == 0) {
        const unsigned char *p;
        size_t n;
        int r;
        while ((r = sealSourceNext(&src, &p, &n)) == 1) {
            /* Every byte handed out is authenticated: the plaintext's own. */
            FUZZ_CHECK(n <= plen - got && memcmp(p, plain + got, n) == 0);
            got += n;
        }
        if (r == -1) {
            FUZZ_CHECK(sealSourceError(&src)[0]);
            rc = -1;
        }
    } else {
        unsigned char *tmp = memAlloc(rsz);
        while (got < plen) {
            size_t n = plen - got < rsz ? plen - got : rsz;
            if (src.read(src.ctx, tmp, n) != 0) {
                FUZZ_CHECK(sealSourceError(&src)[0]);
                rc = -1;
                break;
            }
            FUZZ_CHECK(memcmp(tmp, plain + got, n) == 0);
            got += n;
        }
        if (rc == 0 && style == 2) {
            /* Past the end of the plaintext: never succeeds. */
            FUZZ_CHECK(src.read(src.ctx, tmp, 1) != 0);
            FUZZ_CHECK(sealSourceError(&src)[0]);
            rc = -1;
        }
        memFree(tmp);
    }
    if (rc == 0) {
        err[0] = '\0';
        if (sealSourceFinish(&src, err, sizeof(err)) == -1) {
            FUZZ_CHECK(err[0]);
            rc = -1;
        }
    } else {
        /* Finish after a failure reports it again. */
        FUZZ_CHECK(sealSourceFinish(&src, err, sizeof(err)) == -1 && err[0]);
    }
    if (rc == 0) FUZZ_CHECK(got == plen);
    sealSourceClose(&src);
    rdbMemSourceFree(&under);
    /* Style 2 ends in a failure by design: 1 when that failure came only
     * from the over-read, after the whole plaintext was read. */
    return style == 2 && got == plen ? 1 : rc;
}

static void fuzzModeOpen(const uint8_t *data, size_t size) {
    unsigned char *copy = fuzzDup(data, size);
    char err[512] = "";
    rdbSource under, src;
    rdbMemSourceInit(&under, copy, size);
    int rc = sealSourceOpen(&src, &under, fuzzRing, err, sizeof(err));
    if (rc == -1) {
        FUZZ_CHECK(err[0]);
    } else {
        FUZZ_CHECK(sealIsSealed(copy, size));
        const unsigned char *p;
        size_t n;
        int r;
        while ((r = sealSourceNext(&src, &p, &n)) == 1) FUZZ_CHECK(n <= SEAL_CHUNK_MAX);
        if (r == -1) FUZZ_CHECK(sealSourceError(&src)[0]);
        err[0] = '\0';
        if (sealSourceFinish(&src, err, sizeof(err)) == -1) FUZZ_CHECK(err[0]);
        else FUZZ_CHECK(r == 0);
        sealSourceClose(&src);
    }
    rdbMemSourceFree(&under);
    memFree(copy);
}

/* A sink that fails (ENOSPC) once more than left bytes would be written. */
typedef struct fuzzFullSink {
    rdbSink *mem;
    size_t left;
} fuzzFullSink;

static int fuzzFullWrite(void *ctx, const void *p, size_t n) {
    fuzzFullSink *f = ctx;
    if (n > f->left) {
        errno = ENOSPC;
        return -1;
    }
    f->left -= n;
    return f->mem->write(f->mem->ctx, p, n);
}

/* A full disk under the writer: once a write fails, every later write and
 * Close fail too (with a reason), and Abort frees everything. The stream
 * is complete exactly when it fitted. */
static void fuzzSealFull(const unsigned char *plain, size_t n, const keyringKey *k, size_t chunk, size_t piece,
                         size_t limit, int abortIt, size_t need) {
    rdbSink mem, full, sealed;
    rdbMemSinkInit(&mem);
    fuzzFullSink f = {&mem, limit};
    memset(&full, 0, sizeof(full));
    full.write = fuzzFullWrite;
    full.ctx = &f;
    char err[512] = "";
    if (sealSinkOpen(&sealed, &full, k, chunk, err, sizeof(err)) == -1) {
        FUZZ_CHECK(err[0]);
        rdbMemSinkFree(&mem);
        return;
    }
    if (!piece) piece = n ? n : 1;
    int failed = 0;
    for (size_t off = 0; off < n; off += piece) {
        size_t m = n - off < piece ? n - off : piece;
        int rc = sealed.write(sealed.ctx, plain + off, m);
        if (failed) FUZZ_CHECK(rc == -1);
        if (rc == -1) failed = 1;
    }
    if (abortIt) {
        sealSinkAbort(&sealed);
    } else {
        int rc = sealSinkClose(&sealed, err, sizeof(err));
        if (failed) FUZZ_CHECK(rc == -1);
        if (rc == -1) {
            FUZZ_CHECK(err[0]);
            failed = 1;
        }
        size_t len;
        char *p = rdbMemSinkTake(&mem, &len);
        if (!failed) {
            /* Complete: it reads back exactly. */
            FUZZ_CHECK(len <= limit);
            FUZZ_CHECK(fuzzReadBack((unsigned char *)p, len, plain, n, 0, 1) == 0);
        }
        FUZZ_CHECK(failed == (need > limit)); /* need: the stream's full size */
        memFree(p);
    }
    rdbMemSinkFree(&mem);
}

#define FUZZ_B_PARAMS 29

static void fuzzModeRoundTrip(const uint8_t *data, size_t size) {
    fuzzParams fp = {data, size};
    unsigned flags = fuzzByte(&fp, 0);
    const keyringKey *k = &fuzzRing->keys[flags & 1];
    int style = (int)((flags >> 1) & 3) % 3;
    size_t chunk = 1000 + fuzzLe16(&fp, 1) % 3100; /* below 1024: refused */
    size_t repeat = 1 + fuzzByte(&fp, 3) % 16;
    size_t wpiece = fuzzLe16(&fp, 4);
    size_t rsz = 1 + fuzzLe16(&fp, 6);
    unsigned nmut = fuzzByte(&fp, 8) % 5;
    const uint8_t *base = size > FUZZ_B_PARAMS ? data + FUZZ_B_PARAMS : data;
    size_t blen = size > FUZZ_B_PARAMS ? size - FUZZ_B_PARAMS : 0;
    size_t plen = blen * repeat;
    if (plen > FUZZ_SEAL_MAX_PLAIN) plen = blen = 0;
    unsigned char *plain = memAlloc(plen ? plen : 1);
    for (size_t i = 0; i < repeat && blen; i++) memcpy(plain + i * blen, base, blen);

    char err[512] = "";
    size_t slen = 0;
    unsigned char *sealed = fuzzSeal(plain, plen, k, chunk, wpiece, &slen, err, sizeof(err));
    if (!sealed) {
        FUZZ_CHECK(chunk < SEAL_CHUNK_MIN);
        memFree(plain);
        return;
    }
    FUZZ_CHECK(chunk >= SEAL_CHUNK_MIN);
    if (flags & 8) { /* the same sealing onto a disk that fills up */
        fuzzSealFull(plain, plen, k, chunk, wpiece, (rsz - 1) * 4, (flags & 16) != 0, slen);
        fuzzSealFull(plain, plen, k, chunk, wpiece, slen, 0, slen);     /* exactly fits */
        fuzzSealFull(plain, plen, k, chunk, wpiece, slen - 1, 0, slen); /* one byte short */
        memFree(sealed);
        memFree(plain);
        return;
    }
    size_t hlen = fuzzHeaderLen(sealed);
    FUZZ_CHECK(hlen == SEAL_MAGIC_LEN + 7 + strlen(k->id) + SEAL_SALT_LEN + SEAL_KCV_LEN + SEAL_MAC_LEN);
    /* Every chunk full but the final one, which is marked. */
    fuzzChunk *ch = memAlloc(sizeof(*ch) * FUZZ_SEAL_MAX_CHUNKS);
    fuzzChunk *och = memAlloc(sizeof(*och) * FUZZ_SEAL_MAX_CHUNKS);
    int nc = fuzzChunks(sealed, slen, hlen, ch);
    size_t expectChunks = plen ? (plen + chunk - 1) / chunk : 1;
    FUZZ_CHECK((size_t)nc == expectChunks && ch[nc - 1].off + ch[nc - 1].len == slen);
    FUZZ_CHECK(sealed[ch[nc - 1].off] & 0x80);

    fuzzBuf b = {fuzzDup(sealed, slen), slen, slen};
    unsigned char *other = NULL;
    size_t otherLen = 0;
    for (unsigned i = 0; i < nmut; i++) {
        unsigned op = fuzzByte(&fp, 9 + 5 * i), pos = fuzzLe16(&fp, 10 + 5 * i), arg = fuzzLe16(&fp, 12 + 5 * i);
        if (op % 9 == 8 && !other) {
            other = fuzzSeal(plain, plen, k, chunk, 0, &otherLen, err, sizeof(err));
            FUZZ_CHECK(other && otherLen == slen && memcmp(other, sealed, slen) != 0);
        }
        fuzzMutate(&b, hlen, op, pos, arg, other, otherLen, ch, och);
    }
    /* Splicing in the header and every chunk of the second sealing gives
     * that sealing whole: a valid stream of the same plaintext. */
    int changed = (b.len != slen || memcmp(b.p, sealed, slen) != 0) &&
                  !(other && b.len == otherLen && memcmp(b.p, other, otherLen) == 0);
    int rc = fuzzReadBack(b.p ? b.p : (unsigned char *)"", b.len, plain, plen, style, rsz);
    /* Any change to a sealed stream is caught (style 2 never finishes, so
     * bytes after the final chunk only show as 1 there); an intact stream
     * reads back exactly. */
    if (changed) FUZZ_CHECK(rc == -1 || (style == 2 && rc == 1));
    else FUZZ_CHECK(rc == (style == 2 ? 1 : 0));

    memFree(b.p);
    memFree(other);
    memFree(ch);
    memFree(och);
    memFree(sealed);
    memFree(plain);
}

#define FUZZ_C_PARAMS 5

/* rdbLoadAll on in; returns rc and sets *keys (loaded + already expired). */
static int fuzzLoad(rdbSource *in, long long *keys) {
    char err[512] = "";
    int rc = rdbLoadAll(in, err, sizeof(err));
    if (rc == -1) FUZZ_CHECK(err[0]);
    *keys = srv.loadKeysLoaded + srv.loadKeysExpired;
    fuzzEmptyAllDbs();
    return rc;
}

static void fuzzModeLoad(const uint8_t *data, size_t size) {
    fuzzParams fp = {data, size};
    const keyringKey *k = &fuzzRing->keys[fuzzByte(&fp, 0) & 1];
    size_t chunk = SEAL_CHUNK_MIN + fuzzLe16(&fp, 1) % (4096 - SEAL_CHUNK_MIN + 1);
    size_t wpiece = fuzzLe16(&fp, 3);
    const uint8_t *payload = size > FUZZ_C_PARAMS ? data + FUZZ_C_PARAMS : data;
    size_t plen = size > FUZZ_C_PARAMS ? size - FUZZ_C_PARAMS : 0;
    unsigned char *plain = fuzzDup(payload, plen);

    /* The plain load: the reference. */
    rdbSource mem;
    rdbMemSourceInit(&mem, plain, plen);
    long long plainKeys = 0;
    int plainRc = fuzzLoad(&mem, &plainKeys);
    int plainAll = plainRc == 0 && rdbMemSourceRemaining(&mem) == 0;
    rdbMemSourceFree(&mem);

    char err[512] = "";
    size_t slen = 0;
    unsigned char *sealed = fuzzSeal(plain, plen, k, chunk, wpiece, &slen, err, sizeof(err));
    FUZZ_CHECK(sealed);

    /* As snapshotLoad does for a sealed file. */
    rdbSource file, in;
    rdbMemSourceInit(&file, sealed, slen);
    FUZZ_CHECK(sealIsSealed(sealed, slen));
    FUZZ_CHECK(sealSourceOpen(&in, &file, fuzzRing, err, sizeof(err)) == 0);
    long long sealedKeys = 0;
    int rc = fuzzLoad(&in, &sealedKeys);
    if (rc == -1) {
        FUZZ_CHECK(!plainAll);
    } else {
        err[0] = '\0';
        rc = sealSourceFinish(&in, err, sizeof(err));
        if (rc == -1) FUZZ_CHECK(err[0] && !plainAll);
    }
    if (rc == 0) {
        FUZZ_CHECK(plainAll && sealedKeys == plainKeys);
        FUZZ_CHECK(sealSourceChunks(&in) == (plen ? (plen + chunk - 1) / chunk : 1)); /* all verified */
    }
    if (plainAll) FUZZ_CHECK(rc == 0 && sealedKeys == plainKeys);
    sealSourceClose(&in);
    rdbMemSourceFree(&file);
    memFree(sealed);
    memFree(plain);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (size == 0) return 0;
    switch (data[0] % 3) {
    case 0: fuzzModeOpen(data + 1, size - 1); break;
    case 1: fuzzModeRoundTrip(data + 1, size - 1); break;
    default: fuzzModeLoad(data + 1, size - 1); break;
    }
    return 0;
}
