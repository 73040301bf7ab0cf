/* rdb.c - the Redis RDB format (see rdb.h) at stream level: the fd and
 * memory sinks/sources, the writer and loader primitives (lengths, strings
 * with int/LZF encodings, CRC-64 kept on the sink/source), whole snapshots
 * (header, aux fields, databases, expiry/LRU/LFU opcodes, EOF, trailer),
 * atomic files, and the DUMP payload framing. One value's encoding lives in
 * rdb_obj.c.
 *
 * Owns: the stream format and the sink/source helpers. Must never: trust a
 * length from the input (strings are read progressively, so a corrupt length
 * costs at most what the input really holds; counts only bound loops that
 * consume input), crash or abort on any input, or log or touch clients while
 * saving (it runs in a forked child). */
#include "rdb_int.h"
#include "crc64.h"
#include "function.h"
#include "lzf.h"
#include "server.h"
#include "db.h"
#include "evict.h"
#include "repl.h"
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define RDB_FDBUF (64 * 1024)    /* fd sink/source buffer */
#define RDB_LFU_POLICY() (srv.maxmemoryPolicy == MAXMEMORY_ALLKEYS_LFU || srv.maxmemoryPolicy == MAXMEMORY_VOLATILE_LFU)
#define RDB_LRU_POLICY() (srv.maxmemoryPolicy == MAXMEMORY_ALLKEYS_LRU || srv.maxmemoryPolicy == MAXMEMORY_VOLATILE_LRU)

/* ======================================================================== */
/* fd and memory sinks / sources                                            */
/* ======================================================================== */

typedef struct fdCtx {
    int fd;
    size_t len, pos;
    unsigned char buf[RDB_FDBUF];
} fdCtx;

static int fdSinkWrite(void *ctx, const void *p, size_t n) {
    fdCtx *f = ctx;
    if (f->len + n > sizeof(f->buf)) {
        if (fdWriteAll(f->fd, f->buf, f->len) == -1) return -1;
        f->len = 0;
        if (n >= sizeof(f->buf)) return fdWriteAll(f->fd, p, n);
    }
    memcpy(f->buf + f->len, p, n);
    f->len += n;
    return 0;
}

void rdbFdSinkInit(rdbSink *s, int fd) {
    fdCtx *f = memAlloc(sizeof(*f));
    f->fd = fd;
    f->len = f->pos = 0;
    memset(s, 0, sizeof(*s));
    s->write = fdSinkWrite;
    s->ctx = f;
}

int rdbFdSinkFlush(rdbSink *s) {
    fdCtx *f = s->ctx;
    if (!f || !f->len) return 0;
    if (fdWriteAll(f->fd, f->buf, f->len) == -1) return -1;
    f->len = 0;
    return 0;
}

void rdbFdSinkFree(rdbSink *s) {
    memFree(s->ctx);
    s->ctx = NULL;
}

static int fdSourceRead(void *ctx, void *p, size_t n) {
    fdCtx *f = ctx;
    unsigned char *out = p;
    while (n) {
        if (f->pos == f->len) {
            if (n >= sizeof(f->buf)) { /* big reads skip the buffer */
                ssize_t r = read(f->fd, out, n);
                if (r < 0 && errno == EINTR) continue;
                if (r <= 0) {
                    if (r == 0) errno = 0;
                    return -1;
                }
                out += r;
                n -= (size_t)r;
                continue;
            }
            ssize_t r = read(f->fd, f->buf, sizeof(f->buf));
            if (r < 0 && errno == EINTR) continue;
            if (r <= 0) {
                if (r == 0) errno = 0;
                return -1;
            }
            f->len = (size_t)r;
            f->pos = 0;
        }
        size_t take = f->len - f->pos < n ? f->len - f->pos : n;
        memcpy(out, f->buf + f->pos, take);
        f->pos += take;
        out += take;
        n -= take;
    }
    return 0;
}

void rdbFdSourceInit(rdbSource *s, int fd) {
    fdCtx *f = memAlloc(sizeof(*f));
    f->fd = fd;
    f->len = f->pos = 0;
    memset(s, 0, sizeof(*s));
    s->read = fdSourceRead;
    s->ctx = f;
}

void rdbFdSourceFree(rdbSource *s) {
    memFree(s->ctx);
    s->ctx = NULL;
}

typedef struct memCtx {
    char *p;
    size_t len, cap;
} memCtx;

static int memSinkWrite(void *ctx, const void *p, size_t n) {
    memCtx *m = ctx;
    if (m->len + n > m->cap) {
        size_t cap = m->cap ? m->cap * 2 : 256;
        while (cap < m->len + n) cap *= 2;
        m->p = memRealloc(m->p, cap);
        m->cap = cap;
    }
    memcpy(m->p + m->len, p, n);
    m->len += n;
    return 0;
}

void rdbMemSinkInit(rdbSink *s) {
    memset(s, 0, sizeof(*s));
    s->write = memSinkWrite;
    s->ctx = memCalloc(sizeof(memCtx));
}

char *rdbMemSinkTake(rdbSink *s, size_t *len) {
    memCtx *m = s->ctx;
    char *p = m->p ? m->p : memAlloc(1);
    *len = m->len;
    m->p = NULL;
    m->len = m->cap = 0;
    return p;
}

void rdbMemSinkFree(rdbSink *s) {
    memCtx *m = s->ctx;
    if (m) memFree(m->p);
    memFree(m);
    s->ctx = NULL;
}

typedef struct memSrcCtx {
    const unsigned char *p;
    size_t len, pos;
} memSrcCtx;

static int memSourceRead(void *ctx, void *p, size_t n) {
    memSrcCtx *m = ctx;
    if (m->len - m->pos < n) {
        m->pos = m->len;
        errno = 0;
        return -1;
    }
    memcpy(p, m->p + m->pos, n);
    m->pos += n;
    return 0;
}

void rdbMemSourceInit(rdbSource *s, const void *p, size_t len) {
    memSrcCtx *m = memAlloc(sizeof(*m));
    m->p = p;
    m->len = len;
    m->pos = 0;
    memset(s, 0, sizeof(*s));
    s->read = memSourceRead;
    s->ctx = m;
}

void rdbMemSourceFree(rdbSource *s) {
    memFree(s->ctx);
    s->ctx = NULL;
}

size_t rdbMemSourceRemaining(const rdbSource *s) {
    const memSrcCtx *m = s->ctx;
    return m->len - m->pos;
}

/* ======================================================================== */
/* writer                                                                   */
/* ======================================================================== */

static void rdbWPass(rdbW *w, const void *p, size_t n) {
    if (w->failed || !n) return;
    w->s->crc = crc64(w->s->crc, p, n);
    w->s->bytes += n;
    if (w->s->write(w->s->ctx, p, n) == -1) {
        w->failed = 1;
        w->savedErrno = errno;
    }
}

void rdbWFlush(rdbW *w) {
    rdbWPass(w, w->buf, w->len);
    w->len = 0;
}

void rdbWBytes(rdbW *w, const void *p, size_t n) {
    if (w->len + n > sizeof(w->buf)) {
        rdbWFlush(w);
        if (n >= sizeof(w->buf)) {
            rdbWPass(w, p, n);
            return;
        }
    }
    memcpy(w->buf + w->len, p, n);
    w->len += n;
}

void rdbWLen(rdbW *w, uint64_t len) {
    unsigned char b[9];
    size_t n;
    if (len < (1 << 6)) {
        b[0] = (unsigned char)len;
        n = 1;
    } else if (len < (1 << 14)) {
        b[0] = (unsigned char)(0x40 | (len >> 8));
        b[1] = (unsigned char)(len & 0xff);
        n = 2;
    } else if (len <= UINT32_MAX) {
        b[0] = 0x80;
        for (int i = 0; i < 4; i++) b[1 + i] = (unsigned char)(len >> (24 - 8 * i));
        n = 5;
    } else {
        b[0] = 0x81;
        for (int i = 0; i < 8; i++) b[1 + i] = (unsigned char)(len >> (56 - 8 * i));
        n = 9;
    }
    rdbWBytes(w, b, n);
}

void rdbWLE(rdbW *w, uint64_t v, int n) {
    unsigned char b[8];
    for (int i = 0; i < n; i++) b[i] = (unsigned char)(v >> (8 * i));
    rdbWBytes(w, b, (size_t)n);
}

/* Integer encoding of a string (rdbEncodeInteger): 0 when v needs more than
 * 32 bits. */
int rdbWIntEnc(rdbW *w, long long v) {
    if (v >= -(1 << 7) && v <= (1 << 7) - 1) {
        rdbWByte(w, 0xC0 | RDB_ENC_INT8);
        rdbWLE(w, (uint64_t)v, 1);
    } else if (v >= -(1 << 15) && v <= (1 << 15) - 1) {
        rdbWByte(w, 0xC0 | RDB_ENC_INT16);
        rdbWLE(w, (uint64_t)v, 2);
    } else if (v >= -((long long)1 << 31) && v <= ((long long)1 << 31) - 1) {
        rdbWByte(w, 0xC0 | RDB_ENC_INT32);
        rdbWLE(w, (uint64_t)v, 4);
    } else {
        return 0;
    }
    return 1;
}

void rdbWLongLong(rdbW *w, long long v) {
    if (rdbWIntEnc(w, v)) return;
    char buf[LONG_STR_SIZE];
    int n = ll2string(buf, sizeof(buf), v);
    rdbWLen(w, (uint64_t)n);
    rdbWBytes(w, buf, (size_t)n);
}

/* A string as Redis' rdbSaveRawString: int-encoded when it is a small
 * canonical integer, LZF when compression is on and it shrinks, else raw. */
void rdbWString(rdbW *w, const char *p, size_t len) {
    long long v;
    if (len <= 11 && len > 0 && string2ll(p, len, &v) && rdbWIntEnc(w, v)) return;
    if (srv.rdbCompression && len > 20) {
        size_t outMax = len - 4;
        if (w->lzcap < outMax) {
            memFree(w->lz);
            w->lzcap = outMax < 4096 ? 4096 : outMax;
            w->lz = memAlloc(w->lzcap);
        }
        size_t clen = lzfCompress(p, len, w->lz, outMax);
        if (clen) {
            rdbWByte(w, 0xC0 | RDB_ENC_LZF);
            rdbWLen(w, clen);
            rdbWLen(w, len);
            rdbWBytes(w, w->lz, clen);
            return;
        }
    }
    rdbWLen(w, len);
    rdbWBytes(w, p, len);
}

void rdbWDouble(rdbW *w, double d) {
    uint64_t bits;
    memcpy(&bits, &d, sizeof(bits));
    rdbWLE(w, bits, 8);
}

rdbW *rdbWNew(rdbSink *s) {
    rdbW *w = memAlloc(sizeof(*w));
    w->s = s;
    w->failed = 0;
    w->savedErrno = 0;
    w->len = 0;
    w->lz = NULL;
    w->lzcap = 0;
    w->lp = NULL;
    w->lplen = w->lpcap = 0;
    return w;
}

void rdbWFree(rdbW *w) {
    memFree(w->lz);
    memFree(w->lp);
    memFree(w);
}

int rdbSaveObject(rdbSink *out, const dbEntry *e) {
    rdbW *w = rdbWNew(out);
    rdbWByte(w, (unsigned char)rdbWType(e));
    rdbWValue(w, e);
    rdbWFlush(w);
    int rc = w->failed ? -1 : 0;
    rdbWFree(w);
    return rc;
}

static void wAux(rdbW *w, const char *k, const char *v) {
    rdbWByte(w, RDB_OPCODE_AUX);
    rdbWString(w, k, strlen(k));
    rdbWString(w, v, strlen(v));
}

static void wAuxInt(rdbW *w, const char *k, long long v) {
    char buf[LONG_STR_SIZE];
    ll2string(buf, sizeof(buf), v);
    wAux(w, k, buf);
}

int rdbSaveAll(rdbSink *out, char *err, size_t errlen) { return rdbSaveFiltered(out, 0, err, errlen); }

int rdbSaveFiltered(rdbSink *out, int exclude, char *err, size_t errlen) {
    rdbW *w = rdbWNew(out);
    out->crc = 0; /* the trailer covers the stream from "REDIS" on */
    char magic[16];
    snprintf(magic, sizeof(magic), "REDIS%04d", RDB_VERSION);
    rdbWBytes(w, magic, 9);
    wAux(w, "redis-ver", CACHET_VERSION);
    wAuxInt(w, "redis-bits", sizeof(void *) == 8 ? 64 : 32);
    wAuxInt(w, "ctime", (long long)time(NULL));
    wAuxInt(w, "used-mem", (long long)memUsed());
    wAuxInt(w, "aof-base", 0);
    /* The replication history this dataset is at (Redis 7.0 writes them
     * too): a primary restarted from the file keeps serving PSYNC, and a
     * Redis loading it at start-up does the same. In a forked child these
     * are the values at fork, which is the moment the data is from.
     * repl-stream-db: the db the stream continues in. A primary starts its
     * stream after a fork or a restart with a SELECT (0 then); a replica
     * proxies its primary's stream byte for byte, which goes on in the db
     * its master client is in (a sub-replica's full sync needs it). */
    client *m = replMasterClient();
    wAuxInt(w, "repl-stream-db", m && m->db ? m->db->id : 0);
    wAux(w, "repl-id", replId());
    wAuxInt(w, "repl-offset", replOffset());
    if (!(exclude & RDB_SAVE_NO_FUNCTIONS)) fnRdbSave(w); /* libraries before the data, as Redis 7.0 */
    int saveLru = RDB_LRU_POLICY(), saveLfu = RDB_LFU_POLICY();
    int dbs = exclude & RDB_SAVE_NO_DATA ? 0 : srv.dbnum;
    for (int j = 0; j < dbs && !w->failed; j++) {
        cdb *db = &srv.db[j];
        if (kvsSize(&db->keys) == 0) continue;
        rdbWByte(w, RDB_OPCODE_SELECTDB);
        rdbWLen(w, (uint64_t)j);
        rdbWByte(w, RDB_OPCODE_RESIZEDB);
        rdbWLen(w, kvsSize(&db->keys));
        rdbWLen(w, dictSize(&db->expires));
        kvsIter it;
        kvsIterInit(&it, &db->keys, 0);
        for (dictNode *n; (n = kvsNext(&it)) && !w->failed;) {
            const dbEntry *e = (const dbEntry *)n;
            if (e->expire) {
                rdbWByte(w, RDB_OPCODE_EXPIRETIME_MS);
                rdbWLE(w, (uint64_t)e->expire, 8);
            }
            if (saveLru) {
                rdbWByte(w, RDB_OPCODE_IDLE);
                rdbWLen(w, evictIdleTime((dbEntry *)e) / 1000);
            } else if (saveLfu) {
                rdbWByte(w, RDB_OPCODE_FREQ);
                rdbWByte(w, evictLfuCounter((dbEntry *)e));
            }
            rdbWByte(w, (unsigned char)rdbWType(e));
            rdbWString(w, e->key, e->keylen);
            rdbWValue(w, e);
            if (srv.rdbKeySaveDelay > 0) { /* tests: a BGSAVE slow enough to act on */
                struct timespec ts = {.tv_sec = srv.rdbKeySaveDelay / 1000000,
                                      .tv_nsec = (long)(srv.rdbKeySaveDelay % 1000000) * 1000};
                nanosleep(&ts, NULL);
            }
        }
        kvsIterEnd(&it);
    }
    rdbWByte(w, RDB_OPCODE_EOF);
    rdbWFlush(w);
    uint64_t crc = srv.rdbChecksum ? out->crc : 0;
    rdbWLE(w, crc, 8);
    rdbWFlush(w);
    int rc = 0;
    if (w->failed) {
        snprintf(err, errlen, "Write error saving DB on disk: %s", strerror(w->savedErrno));
        rc = -1;
    }
    rdbWFree(w);
    return rc;
}

/* ======================================================================== */
/* loader: primitives                                                       */
/* ======================================================================== */

int rdbLFail(rdbL *L, const char *fmt, ...) {
    if (L->failed) return -1;
    L->failed = 1;
    char msg[256];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    if (L->err && L->errlen)
        snprintf(L->err, L->errlen, "Short read or corrupt RDB at offset %llu: %s", L->in->offset, msg);
    return -1;
}

void rdbBufFree(rdbBuf *b) {
    memFree(b->p);
    b->p = NULL;
    b->len = b->cap = 0;
}

void rdbBufReserve(rdbBuf *b, size_t n) {
    if (b->cap >= n) return;
    size_t cap = b->cap ? b->cap : 64;
    while (cap < n) cap = cap > SIZE_MAX / 2 ? n : cap * 2;
    b->p = memRealloc(b->p, cap);
    b->cap = cap;
}

int rdbLRead(rdbL *L, void *p, size_t n) {
    if (L->failed) return -1;
    if (n == 0) return 0;
    if (L->in->read(L->in->ctx, p, n) == -1)
        return rdbLFail(L, errno ? "read error: %s" : "unexpected end of data%s", errno ? strerror(errno) : "");
    /* Small reads are checksummed in batches: crc64 runs 8 bytes a step on
     * a block but a byte a step on a 3-byte read. in->crc is exact again
     * after rdbLCrcSync. */
    if (n >= sizeof(L->crcPend) / 4) {
        rdbLCrcSync(L);
        L->in->crc = crc64(L->in->crc, p, n);
    } else {
        if (L->crcLen + n > sizeof(L->crcPend)) rdbLCrcSync(L);
        memcpy(L->crcPend + L->crcLen, p, n);
        L->crcLen += n;
    }
    L->in->offset += n;
    return 0;
}

void rdbLCrcSync(rdbL *L) {
    if (!L->crcLen) return;
    L->in->crc = crc64(L->in->crc, L->crcPend, L->crcLen);
    L->crcLen = 0;
}

int rdbLByte(rdbL *L, unsigned char *b) { return rdbLRead(L, b, 1); }

/* len bytes into b, growing b only as data actually arrives: a corrupt
 * length costs at most twice what the input holds. */
int rdbLReadInto(rdbL *L, rdbBuf *b, size_t len) {
    b->len = 0;
    if (!b->p) rdbBufReserve(b, 64); /* never hand out NULL, even for "" (memcpy rules) */
    while (b->len < len) {
        size_t want = len - b->len;
        if (b->cap == b->len) {
            size_t grow = b->len < RDB_READ_STEP ? RDB_READ_STEP : b->len; /* double beyond the first step */
            size_t target = want < grow ? b->len + want : b->len + grow;
            rdbBufReserve(b, target);
        }
        size_t room = b->cap - b->len, take = want < room ? want : room;
        if (rdbLRead(L, b->p + b->len, take) == -1) return -1;
        b->len += take;
    }
    return 0;
}

uint64_t rdbLE(const unsigned char *p, int n) {
    uint64_t v = 0;
    for (int i = n - 1; i >= 0; i--) v = v << 8 | p[i];
    return v;
}

/* A length, or (*enc = 1) the special encoding number of a string. */
int rdbLLen(rdbL *L, uint64_t *len, int *enc) {
    unsigned char b[8];
    *len = 0; /* defined on failure too (the analyzer cannot see rdbLFail is always -1) */
    if (enc) *enc = 0;
    if (rdbLByte(L, b) == -1) return -1;
    int kind = b[0] >> 6;
    if (kind == 0) {
        *len = b[0] & 0x3f;
    } else if (kind == 1) {
        unsigned char c;
        if (rdbLByte(L, &c) == -1) return -1;
        *len = (uint64_t)(b[0] & 0x3f) << 8 | c;
    } else if (b[0] == 0x80) {
        if (rdbLRead(L, b, 4) == -1) return -1;
        *len = (uint64_t)b[0] << 24 | (uint64_t)b[1] << 16 | (uint64_t)b[2] << 8 | b[3];
    } else if (b[0] == 0x81) {
        if (rdbLRead(L, b, 8) == -1) return -1;
        *len = 0;
        for (int i = 0; i < 8; i++) *len = *len << 8 | b[i];
    } else if (kind == 3) {
        if (!enc) return rdbLFail(L, "unexpected string encoding where a length belongs");
        *enc = 1;
        *len = b[0] & 0x3f;
    } else {
        return rdbLFail(L, "unknown length encoding 0x%02x", b[0]);
    }
    return 0;
}

int rdbLCount(rdbL *L, uint64_t *n) { return rdbLLen(L, n, NULL); }

/* A string into b (integers as decimal text, LZF decompressed). */
int rdbLString(rdbL *L, rdbBuf *b) {
    uint64_t len;
    int enc;
    if (rdbLLen(L, &len, &enc) == -1) return -1;
    if (!enc) {
        if (len > SIZE_MAX / 2) return rdbLFail(L, "string length %llu out of range", (unsigned long long)len);
        return rdbLReadInto(L, b, (size_t)len);
    }
    unsigned char n[4];
    long long v;
    switch (len) {
    case RDB_ENC_INT8:
        if (rdbLRead(L, n, 1) == -1) return -1;
        v = (int8_t)n[0]; // NOLINT(bugprone-signed-char-misuse,cert-str34-c): RDB_ENC_INT8 is a signed byte
        break;
    case RDB_ENC_INT16:
        if (rdbLRead(L, n, 2) == -1) return -1;
        v = (int16_t)rdbLE(n, 2);
        break;
    case RDB_ENC_INT32:
        if (rdbLRead(L, n, 4) == -1) return -1;
        v = (int32_t)rdbLE(n, 4);
        break;
    case RDB_ENC_LZF: {
        uint64_t clen, ulen;
        if (rdbLCount(L, &clen) == -1 || rdbLCount(L, &ulen) == -1) return -1;
        /* One LZF byte never yields more than ~132 output bytes (a 2-byte
         * back reference copies up to 264): anything more is corrupt, and
         * checking first keeps the allocation proportional to the input. */
        if (clen == 0 || ulen == 0 || clen > SIZE_MAX / 256 || ulen > clen * 132 + 32)
            return rdbLFail(L, "invalid LZF string lengths %llu/%llu", (unsigned long long)clen,
                         (unsigned long long)ulen);
        if (rdbLReadInto(L, &L->lz, (size_t)clen) == -1) return -1;
        rdbBufReserve(b, (size_t)ulen);
        if (lzfDecompress(L->lz.p, (size_t)clen, b->p, (size_t)ulen) != ulen)
            return rdbLFail(L, "invalid LZF compressed string");
        b->len = (size_t)ulen;
        return 0;
    }
    default:
        return rdbLFail(L, "unknown string encoding %llu", (unsigned long long)len);
    }
    rdbBufReserve(b, LONG_STR_SIZE);
    b->len = (size_t)ll2string(b->p, LONG_STR_SIZE, v);
    return 0;
}

/* ZSET (type 3) scores: a length byte then text; 253 nan, 254 inf, 255 -inf. */
int rdbLDoubleText(rdbL *L, double *d) {
    unsigned char n;
    char buf[256];
    if (rdbLByte(L, &n) == -1) return -1;
    if (n == 253) return rdbLFail(L, "NaN score");
    if (n == 254) {
        *d = INFINITY;
        return 0;
    }
    if (n == 255) {
        *d = -INFINITY;
        return 0;
    }
    if (rdbLRead(L, buf, n) == -1) return -1;
    buf[n] = '\0';
    char *end;
    *d = strtod(buf, &end);
    if (end == buf || *end || isnan(*d)) return rdbLFail(L, "bad score");
    return 0;
}

int rdbLDoubleBin(rdbL *L, double *d) {
    unsigned char b[8];
    if (rdbLRead(L, b, 8) == -1) return -1;
    uint64_t bits = rdbLE(b, 8);
    memcpy(d, &bits, sizeof(*d));
    if (isnan(*d)) return rdbLFail(L, "NaN score");
    return 0;
}

/* ======================================================================== */
/* loader: the file                                                         */
/* ======================================================================== */

/* key-load-delay (Redis 7's debug aid): N > 0 sleeps N us per key; N < 0
 * sleeps 1 us every -N keys. Tests use it to act during a slow load. */
static void rdbLoadDelay(long long n) {
    long long us = srv.keyLoadDelay;
    if (us < 0) {
        if (n % -us) return;
        us = 1;
    }
    struct timespec ts = {.tv_sec = us / 1000000, .tv_nsec = (long)(us % 1000000) * 1000};
    nanosleep(&ts, NULL); /* a signal cuts it short: the check below sees it at once */
}

/* The repl-id / repl-offset aux fields of the last rdbLoadAll (rdb.h). */
static char loadedReplId[REPL_ID_LEN + 1];
static long long loadedReplOffset = -1;
static int loadedReplStreamDb = -1;

int rdbLoadedReplStreamDb(void) { return loadedReplStreamDb; }

int rdbLoadedReplInfo(char *id, long long *offset) {
    if (!loadedReplId[0] || loadedReplOffset < 0) return 0;
    memcpy(id, loadedReplId, REPL_ID_LEN + 1);
    *offset = loadedReplOffset;
    return 1;
}

/* An aux field we act on; any other is skipped, as Redis does. A malformed
 * repl-id/repl-offset is ignored (the history then starts afresh). */
static void loadAux(const rdbBuf *k, const rdbBuf *v) {
    if (k->len == 7 && !memcmp(k->p, "repl-id", 7)) {
        int ok = v->len == REPL_ID_LEN;
        for (size_t i = 0; ok && i < v->len; i++) ok = (v->p[i] >= '0' && v->p[i] <= '9') || (v->p[i] >= 'a' && v->p[i] <= 'f');
        if (ok) {
            memcpy(loadedReplId, v->p, REPL_ID_LEN);
            loadedReplId[REPL_ID_LEN] = '\0';
        }
    } else if (k->len == 14 && !memcmp(k->p, "repl-stream-db", 14)) {
        char buf[16];
        long long db;
        if (v->len == 0 || v->len >= sizeof(buf)) return;
        memcpy(buf, v->p, v->len);
        buf[v->len] = '\0';
        if (string2ll(buf, v->len, &db) && db >= 0 && db < srv.dbnum) loadedReplStreamDb = (int)db;
    } else if (k->len == 11 && !memcmp(k->p, "repl-offset", 11)) {
        char buf[32];
        long long off;
        if (v->len == 0 || v->len >= sizeof(buf)) return;
        memcpy(buf, v->p, v->len);
        buf[v->len] = '\0';
        if (string2ll(buf, v->len, &off) && off >= 0) loadedReplOffset = off;
    }
}

int rdbLoadAll(rdbSource *in, char *err, size_t errlen) {
    rdbL L = {.in = in, .err = err, .errlen = errlen};
    long long loaded = 0, expired = 0, now = mstime();
    long long expire = -1, lruIdle = -1, lfuFreq = -1;
    int ver = 0;
    cdb *db = &srv.db[0];
    char magic[10];
    srv.loadKeysLoaded = srv.loadKeysExpired = 0;
    loadedReplId[0] = '\0';
    loadedReplOffset = -1;
    loadedReplStreamDb = -1;
    in->crc = 0; /* the trailer covers the stream from "REDIS" on */
    if (rdbLRead(&L, magic, 9) == -1) goto done;
    if (memcmp(magic, "REDIS", 5) != 0) {
        rdbLFail(&L, "wrong signature trying to load DB from file");
        goto done;
    }
    for (int i = 5; i < 9; i++) {
        if (magic[i] < '0' || magic[i] > '9') {
            rdbLFail(&L, "bad RDB version field");
            goto done;
        }
        ver = ver * 10 + (magic[i] - '0');
    }
    if (ver < 1 || ver > RDB_VERSION_MAX) {
        rdbLFail(&L, "can't handle RDB format version %d", ver);
        goto done;
    }
    for (;;) {
        unsigned char t, b[8];
        uint64_t n, m;
        if (rdbLByte(&L, &t) == -1) goto done;
        switch (t) {
        case RDB_OPCODE_EXPIRETIME:
            if (rdbLRead(&L, b, 4) == -1) goto done;
            expire = (long long)(int32_t)rdbLE(b, 4) * 1000;
            continue;
        case RDB_OPCODE_EXPIRETIME_MS:
            if (rdbLRead(&L, b, 8) == -1) goto done;
            expire = (long long)rdbLE(b, 8);
            continue;
        case RDB_OPCODE_FREQ:
            if (rdbLByte(&L, b) == -1) goto done;
            lfuFreq = b[0];
            continue;
        case RDB_OPCODE_IDLE:
            if (rdbLCount(&L, &n) == -1) goto done;
            lruIdle = n > (uint64_t)LLONG_MAX ? LLONG_MAX : (long long)n;
            continue;
        case RDB_OPCODE_SELECTDB:
            if (rdbLCount(&L, &n) == -1) goto done;
            if (n >= (uint64_t)srv.dbnum) {
                rdbLFail(&L, "the file uses database %llu but the server has only %d (see 'databases')",
                      (unsigned long long)n, srv.dbnum);
                goto done;
            }
            db = &srv.db[n];
            continue;
        case RDB_OPCODE_RESIZEDB:
            if (rdbLCount(&L, &n) == -1 || rdbLCount(&L, &m) == -1) goto done;
            /* Size hints (capped: a corrupt count must not allocate much). */
            if (n && kvsSize(&db->keys) == 0) kvsExpand(&db->keys, n > (1 << 20) ? (1 << 20) : (size_t)n);
            if (m && dictSize(&db->expires) == 0) dictExpand(&db->expires, m > (1 << 20) ? (1 << 20) : (size_t)m);
            continue;
        case RDB_OPCODE_AUX:
            if (rdbLString(&L, &L.e1) == -1 || rdbLString(&L, &L.e2) == -1) goto done;
            loadAux(&L.e1, &L.e2);
            continue;
        case RDB_OPCODE_MODULE_AUX:
            rdbLFail(&L, "module auxiliary data is not supported");
            goto done;
        case RDB_OPCODE_FUNCTION:
            rdbLFail(&L, "Pre-GA function format not supported");
            goto done;
        case RDB_OPCODE_FUNCTION2: {
            if (rdbLString(&L, &L.blob) == -1) goto done;
            char ferr[1024];
            if (fnRdbLoadLibrary(L.blob.p, L.blob.len, ferr, sizeof(ferr)) == -1) {
                rdbLFail(&L, "%s", ferr);
                goto done;
            }
            continue;
        }
        case RDB_OPCODE_EOF:
            break;
        default: {
            if (!rdbIsObjectType(t)) {
                rdbLFail(&L, "unknown RDB type or opcode %d", t);
                goto done;
            }
            if (rdbLString(&L, &L.key) == -1) goto done;
            if (L.key.len > UINT32_MAX) {
                rdbLFail(&L, "key too long");
                goto done;
            }
            /* The duplicate check below misses the cache on the bucket;
             * fetching it now overlaps that with parsing the value. */
            kvsPrefetch(&db->keys, L.key.p, L.key.len);
            int empty;
            dbEntry *e = rdbLValue(&L, t, L.key.p, L.key.len, &empty);
            if (!e) {
                if (!empty) goto done;
                /* an empty collection is skipped, as Redis does */
            } else if (expire != -1 && expire < now) {
                dbEntryFree(e);
                expired++;
            } else if (kvsFind(&db->keys, e->key, e->keylen)) {
                dbEntryFree(e);
                rdbLFail(&L, "duplicate key '%.*s' in DB %d", L.key.len > 64 ? 64 : (int)L.key.len, L.key.p, db->id);
                goto done;
            } else {
                if (expire != -1) e->expire = expire;
                rdbSetLruOrLfu(e, lfuFreq, lruIdle);
                dbInsert(db, e);
                loaded++;
            }
            expire = lruIdle = lfuFreq = -1;
            if (srv.keyLoadDelay) rdbLoadDelay(loaded + expired);
            /* SIGTERM during the start-up load: stop here; the caller exits
             * without saving, so the partial dataset never replaces the file. */
            if (serverLoadShouldStop()) {
                rdbLFail(&L, "loading interrupted by a shutdown signal");
                goto done;
            }
            continue;
        }
        }
        break; /* EOF */
    }
    if (ver >= 5) {
        rdbLCrcSync(&L);
        uint64_t expected = in->crc;
        unsigned char b[8];
        if (rdbLRead(&L, b, 8) == -1) goto done;
        uint64_t stored = rdbLE(b, 8);
        if (srv.rdbChecksum && stored != 0 && stored != expected)
            rdbLFail(&L, "wrong RDB checksum (expected %016llx, file has %016llx)", (unsigned long long)expected,
                  (unsigned long long)stored);
    }
done:
    rdbLCrcSync(&L);
    srv.loadKeysLoaded = loaded;
    srv.loadKeysExpired = expired;
    rdbLFree(&L);
    return L.failed ? -1 : 0;
}

/* ======================================================================== */
/* files                                                                    */
/* ======================================================================== */

static void dirOf(const char *path, char *dir, size_t len) {
    const char *slash = strrchr(path, '/');
    if (!slash) snprintf(dir, len, ".");
    else if (slash == path) snprintf(dir, len, "/");
    else snprintf(dir, len, "%.*s", (int)(slash - path), path);
}

int rdbSaveFile(const char *path, char *err, size_t errlen) {
    char dir[4096], tmp[4200];
    dirOf(path, dir, sizeof(dir));
    snprintf(tmp, sizeof(tmp), "%s/temp-%d.rdb", dir, (int)getpid());
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd == -1) {
        snprintf(err, errlen, "Failed opening the temp RDB file %s for saving: %s", tmp, strerror(errno));
        return -1;
    }
    rdbSink s;
    rdbFdSinkInit(&s, fd);
    int rc = rdbSaveAll(&s, err, errlen);
    if (rc == 0 && rdbFdSinkFlush(&s) == -1) {
        snprintf(err, errlen, "Write error saving DB on disk: %s", strerror(errno));
        rc = -1;
    }
    rdbFdSinkFree(&s);
    if (rc == 0 && fsync(fd) == -1) {
        snprintf(err, errlen, "Failed to fsync the RDB file %s: %s", tmp, strerror(errno));
        rc = -1;
    }
    if (close(fd) == -1 && rc == 0) {
        snprintf(err, errlen, "Failed to close the RDB file %s: %s", tmp, strerror(errno));
        rc = -1;
    }
    if (rc == 0 && rename(tmp, path) == -1) {
        snprintf(err, errlen, "Error moving temp DB file %s on the final destination %s: %s", tmp, path,
                 strerror(errno));
        rc = -1;
    }
    if (rc == -1) {
        unlink(tmp);
        return -1;
    }
    /* The rename is durable only once the directory is. */
    int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd == -1 || fsync(dfd) == -1) {
        snprintf(err, errlen, "Failed to fsync directory %s: %s", dir, strerror(errno));
        if (dfd != -1) close(dfd);
        return -1;
    }
    close(dfd);
    return 0;
}

int rdbLoadFile(const char *path, char *err, size_t errlen) {
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd == -1) {
        if (errno == ENOENT) return 1;
        snprintf(err, errlen, "Failed opening the RDB file %s for reading: %s", path, strerror(errno));
        return -1;
    }
    rdbSource s;
    rdbFdSourceInit(&s, fd);
    int rc = rdbLoadAll(&s, err, errlen);
    rdbFdSourceFree(&s);
    close(fd);
    return rc;
}

/* ======================================================================== */
/* DUMP payloads                                                            */
/* ======================================================================== */

char *rdbDumpPayload(const dbEntry *e, size_t *len) {
    rdbSink s;
    rdbMemSinkInit(&s);
    rdbSaveObject(&s, e);
    unsigned char footer[10] = {RDB_VERSION & 0xff, (RDB_VERSION >> 8) & 0xff};
    memSinkWrite(s.ctx, footer, 2);
    size_t n;
    char *p = rdbMemSinkTake(&s, &n);
    rdbMemSinkFree(&s);
    uint64_t crc = crc64(0, p, n);
    p = memRealloc(p, n + 8);
    for (int i = 0; i < 8; i++) p[n + i] = (char)(crc >> (8 * i));
    *len = n + 8;
    return p;
}

int rdbVerifyDumpPayload(const char *p, size_t len) {
    if (len < 10) return -1;
    const unsigned char *f = (const unsigned char *)p + len - 10;
    unsigned ver = f[0] | (unsigned)f[1] << 8;
    if (ver > RDB_VERSION_MAX) return -1;
    return crc64(0, p, len - 8) == rdbLE(f + 2, 8) ? 0 : -1;
}
