/* rdb_obj.c - one value in the RDB format (see rdb.h, rdb_int.h): the
 * encoder for each Cachet type, and the decoders for every encoding Redis
 * 1.2 .. 7.2 writes (plain, ziplist, zipmap, intset, listpack, quicklist
 * nodes), rebuilt in Cachet's encodings by the configured thresholds as
 * Redis does on load.
 *
 * Owns: the value builders (encoding choice, duplicate detection) and the
 * blob parsers. Must never: read outside a blob, trust a count for an
 * allocation (hints are capped), or leave a partly built value behind on
 * error (everything built so far is freed). */
#include "rdb_int.h"
#include "intset.h"
#include "lpack.h"
#include "quicklist.h"
#include "server.h"
#include "db.h"
#include "evict.h"
#include "stream.h"
#include "stream_cg.h"
#include "zset.h"
#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#define RDB_LRU_CLOCK_MAX ((1 << 24) - 1)
#define RDB_LFU_POLICY() (srv.maxmemoryPolicy == MAXMEMORY_ALLKEYS_LFU || srv.maxmemoryPolicy == MAXMEMORY_VOLATILE_LFU)

/* ======================================================================== */
/* encoders                                                                 */
/* ======================================================================== */

static int wHashField(void *priv, const char *f, size_t flen, const char *v, size_t vlen) {
    rdbW *w = priv;
    rdbWString(w, f, flen);
    rdbWString(w, v, vlen);
    return w->failed;
}

static int wSetMember(void *priv, const char *p, size_t len) {
    rdbW *w = priv;
    rdbWString(w, p, len);
    return w->failed;
}

/* ---- Redis' listpack, built from an lpack --------------------------------
 * Small hashes and sorted sets and every list node are written the way
 * Redis 7.0 writes them: one listpack blob per value (per node for lists),
 * so Redis loads a Cachet snapshot as fast as its own and the file is
 * smaller. Our lpack has the same elements (canonical integers already
 * stored as integers, sorted-set scores as their shortest text, which is
 * what Redis stores too) in a different layout; each element is re-encoded
 * with the smallest listpack encoding, as Redis' lpAppend picks it. */

static unsigned char *lpwReserve(rdbW *w, size_t n) {
    if (w->lpcap - w->lplen < n) {
        size_t cap = w->lpcap ? w->lpcap : 256;
        while (cap - w->lplen < n) cap *= 2;
        w->lp = memRealloc(w->lp, cap);
        w->lpcap = cap;
    }
    unsigned char *p = w->lp + w->lplen;
    w->lplen += n;
    return p;
}

static void lpwLE(unsigned char *p, uint64_t v, int n) {
    for (int i = 0; i < n; i++) p[i] = (unsigned char)(v >> (8 * i));
}

/* One element: encoding byte(s), payload, then the entry's size written
 * backwards (7 bits a byte, the high bit set on all but the leftmost). */
static void lpwEntry(rdbW *w, const unsigned char *hdr, size_t hlen, const char *s, size_t slen) {
    size_t l = hlen + slen;
    int bl = l <= 127 ? 1 : l < 16383 ? 2 : l < 2097151 ? 3 : l < 268435455 ? 4 : 5;
    unsigned char *p = lpwReserve(w, l + (size_t)bl);
    memcpy(p, hdr, hlen);
    if (slen) memcpy(p + hlen, s, slen);
    p += l;
    for (int i = 0; i < bl; i++) {
        unsigned char b = (unsigned char)((l >> (7 * (bl - 1 - i))) & 127);
        p[i] = (unsigned char)(i ? b | 128 : b);
    }
}

static void lpwInt(rdbW *w, long long v) {
    unsigned char h[9];
    size_t n;
    uint64_t u = (uint64_t)v;
    if (v >= 0 && v <= 127) {
        h[0] = (unsigned char)v, n = 1;
    } else if (v >= -4096 && v <= 4095) {
        u &= 0x1fff;
        h[0] = (unsigned char)(0xC0 | (u >> 8)), h[1] = (unsigned char)u, n = 2;
    } else {
        int bytes = v >= -32768 && v <= 32767 ? 2 : v >= -8388608 && v <= 8388607 ? 3 : v >= INT32_MIN && v <= INT32_MAX ? 4 : 8;
        h[0] = bytes == 2 ? 0xF1 : bytes == 3 ? 0xF2 : bytes == 4 ? 0xF3 : 0xF4;
        lpwLE(h + 1, u, bytes);
        n = 1 + (size_t)bytes;
    }
    lpwEntry(w, h, n, NULL, 0);
}

static void lpwStr(rdbW *w, const char *s, size_t len) {
    unsigned char h[5];
    size_t n;
    if (len < 64) {
        h[0] = (unsigned char)(0x80 | len), n = 1;
    } else if (len < 4096) {
        h[0] = (unsigned char)(0xE0 | (len >> 8)), h[1] = (unsigned char)len, n = 2;
    } else {
        h[0] = 0xF0, n = 5;
        lpwLE(h + 1, len, 4);
    }
    lpwEntry(w, h, n, s, len);
}

/* Redis 7.0 stores a sorted-set score that is a whole number within
 * +-2^62 as a listpack integer (its double2ll), anything else as text. */
static int lpwScoreAsInt(const char *s, size_t len, long long *out) {
    char tmp[64];
    if (len == 0 || len >= sizeof(tmp)) return 0;
    memcpy(tmp, s, len);
    tmp[len] = '\0';
    char *end;
    double d = strtod(tmp, &end);
    if (*end || !(d >= -(double)(LLONG_MAX / 2) && d <= (double)(LLONG_MAX / 2))) return 0;
    long long ll = (long long)d;
    if ((double)ll != d) return 0;
    *out = ll;
    return 1;
}

/* Writes lp's elements as one Redis listpack, an RDB string. scores: the
 * odd elements are sorted-set scores. */
static void wListpack(rdbW *w, unsigned char *lp, int scores) {
    w->lplen = 0;
    lpwReserve(w, 6);
    unsigned long count = 0;
    char buf[LP_INTBUF_SIZE];
    for (unsigned char *p = lpFirst(lp); p; p = lpNext(lp, p), count++) {
        size_t len;
        long long iv;
        int isint = 0;
        const char *s = lpGet(p, buf, &len, &iv, &isint);
        if (isint || (scores && (count & 1) && lpwScoreAsInt(s, len, &iv))) lpwInt(w, iv);
        else lpwStr(w, s, len);
    }
    *lpwReserve(w, 1) = 0xFF;
    lpwLE(w->lp, w->lplen, 4);
    lpwLE(w->lp + 4, count < 65535 ? count : 65535, 2);
    rdbWString(w, (const char *)w->lp, w->lplen);
}

/* Redis writes an element of packed_threshold (1 GiB) or more as a node
 * of its own, "plain": the bytes without a listpack around them. */
#define RDB_QL_PLAIN_MIN (1ULL << 30)
#define RDB_QL_CONTAINER_PLAIN 1
#define RDB_QL_CONTAINER_PACKED 2

/* The RDB type e is written as. */
int rdbWType(const dbEntry *e) {
    switch (e->type) {
    case OBJ_STRING: return RDB_TYPE_STRING;
    case OBJ_LIST: return RDB_TYPE_LIST_QUICKLIST_2;
    case OBJ_SET:
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
        /* Our intset is Redis' (encoding, length, little-endian contents):
         * the blob goes out as it is. */
        if (e->enc == ENC_INTSET) return RDB_TYPE_SET_INTSET;
#endif
        return RDB_TYPE_SET;
    case OBJ_ZSET: return e->enc == ENC_LISTPACK ? RDB_TYPE_ZSET_LISTPACK : RDB_TYPE_ZSET_2;
    case OBJ_STREAM: return RDB_TYPE_STREAM_LISTPACKS_2;
    default: return e->enc == ENC_LISTPACK ? RDB_TYPE_HASH_LISTPACK : RDB_TYPE_HASH;
    }
}

/* A stream as Redis 7.0's RDB_TYPE_STREAM_LISTPACKS_2: the nodes (16-byte
 * big-endian master id, then the listpack exactly as held), length, last
 * id, first id, max deleted id, entries added, then the consumer groups. */
static void wID16(rdbW *w, const streamID *id) {
    unsigned char key[16];
    for (int b = 0; b < 8; b++) {
        key[b] = (unsigned char)(id->ms >> (56 - 8 * b));
        key[8 + b] = (unsigned char)(id->seq >> (56 - 8 * b));
    }
    rdbWBytes(w, key, sizeof(key));
}

/* A PEL: count, then each 16-byte id, with (group PEL) delivery time as
 * 8 bytes little endian and delivery count. */
static void wPEL(rdbW *w, const idmap *pel, int nacks) {
    rdbWLen(w, pel->len);
    idmapPos pos;
    streamID id;
    void *v;
    idmapSeek(pel, NULL, &pos);
    while (idmapNext(pel, &pos, &id, &v)) {
        wID16(w, &id);
        if (!nacks) continue;
        const streamNACK *n = v;
        rdbWLE(w, (uint64_t)n->deliveryTime, 8);
        rdbWLen(w, n->deliveryCount);
    }
}

static void wStreamGroups(rdbW *w, const stream *s) {
    size_t ng = streamCGCount(s);
    rdbWLen(w, ng);
    for (size_t g = 0; g < ng; g++) {
        const streamCG *cg = s->cgroups->groups[g];
        rdbWString(w, cg->name, cg->nameLen);
        rdbWLen(w, cg->lastId.ms);
        rdbWLen(w, cg->lastId.seq);
        rdbWLen(w, (uint64_t)cg->entriesRead); /* -1 as Redis writes it: all ones */
        wPEL(w, &cg->pel, 1);
        rdbWLen(w, cg->nconsumers);
        for (size_t k = 0; k < cg->nconsumers; k++) {
            const streamConsumer *sc = cg->consumers[k];
            rdbWString(w, sc->name, sc->nameLen);
            rdbWLE(w, (uint64_t)sc->seenTime, 8);
            wPEL(w, &sc->pel, 0);
        }
    }
}

static void wStream(rdbW *w, const stream *s) {
    rdbWLen(w, s->nnodes);
    for (size_t i = 0; i < s->nnodes && !w->failed; i++) {
        unsigned char key[16];
        for (int b = 0; b < 8; b++) {
            key[b] = (unsigned char)(s->nodes[i].master.ms >> (56 - 8 * b));
            key[8 + b] = (unsigned char)(s->nodes[i].master.seq >> (56 - 8 * b));
        }
        rdbWString(w, (const char *)key, sizeof(key));
        rdbWString(w, (const char *)s->nodes[i].lp, streamNodeBytes(s->nodes[i].lp));
    }
    rdbWLen(w, s->length);
    rdbWLen(w, s->lastId.ms);
    rdbWLen(w, s->lastId.seq);
    rdbWLen(w, s->firstId.ms);
    rdbWLen(w, s->firstId.seq);
    rdbWLen(w, s->maxDeletedId.ms);
    rdbWLen(w, s->maxDeletedId.seq);
    rdbWLen(w, s->entriesAdded);
    wStreamGroups(w, s);
}

/* Writes e's value (the body after the type byte and, in a file, the key). */
void rdbWValue(rdbW *w, const dbEntry *e) {
    switch (e->type) {
    case OBJ_STRING:
        if (e->enc == ENC_INT) {
            rdbWLongLong(w, e->v.i);
        } else {
            char nb[LONG_STR_SIZE];
            const char *p;
            size_t len;
            objStringBytes(e, nb, &p, &len);
            rdbWString(w, p, len);
        }
        break;
    case OBJ_LIST: {
        quicklist *ql = e->v.ptr;
        uint64_t nodes = 0;
        for (qlNode *n = ql->head; n; n = n->next) nodes++;
        rdbWLen(w, nodes);
        for (qlNode *n = ql->head; n && !w->failed; n = n->next) {
            if (n->count == 1 && lpBytes(n->lp) >= RDB_QL_PLAIN_MIN) {
                char buf[LP_INTBUF_SIZE];
                size_t len;
                const char *s = lpGet(lpFirst(n->lp), buf, &len, NULL, NULL);
                rdbWLen(w, RDB_QL_CONTAINER_PLAIN);
                rdbWString(w, s, len);
            } else {
                rdbWLen(w, RDB_QL_CONTAINER_PACKED);
                wListpack(w, n->lp, 0);
            }
        }
        break;
    }
    case OBJ_SET:
        if (rdbWType(e) == RDB_TYPE_SET_INTSET) {
            rdbWString(w, (const char *)e->v.ptr, intsetBlobLen(e->v.ptr));
            break;
        }
        rdbWLen(w, setTypeSize(e));
        setTypeForEach(e, wSetMember, w);
        break;
    case OBJ_ZSET: {
        if (e->enc == ENC_LISTPACK) {
            wListpack(w, e->v.ptr, 1);
            break;
        }
        rdbWLen(w, zsetLength(e));
        zsetIter it;
        const char *m;
        size_t len;
        double score;
        zsetIterInit(&it, e, 0, 0);
        while (zsetIterNext(&it, &m, &len, &score) && !w->failed) {
            rdbWString(w, m, len);
            rdbWDouble(w, score);
        }
        break;
    }
    case OBJ_HASH:
        if (e->enc == ENC_LISTPACK) {
            wListpack(w, e->v.ptr, 0);
            break;
        }
        rdbWLen(w, hashTypeLength(e));
        hashTypeForEach(e, wHashField, w);
        break;
    case OBJ_STREAM: wStream(w, e->v.ptr); break;
    }
}

/* ======================================================================== */
/* loader: value builders (Cachet encodings chosen by the thresholds)        */
/* ======================================================================== */

static size_t hintOf(uint64_t n) { return n > RDB_HINT_MAX ? RDB_HINT_MAX : (size_t)n; }

typedef struct setB {
    int enc;
    void *ptr;
} setB;

static void setBInit(setB *b, uint64_t count) {
    if ((long long)count <= srv.setMaxIntsetEntries && count <= UINT32_MAX) {
        b->enc = ENC_INTSET;
        b->ptr = intsetNew();
    } else {
        b->enc = ENC_HASHTABLE;
        b->ptr = setTableNew(hintOf(count));
    }
}

static void setBToTable(setB *b) {
    intset *is = b->ptr;
    void *d = setTableNew(intsetLen(is) + 1);
    char buf[LONG_STR_SIZE];
    for (uint32_t i = 0; i < intsetLen(is); i++) {
        int64_t v;
        intsetGet(is, i, &v);
        setTableAdd(d, buf, (size_t)ll2string(buf, sizeof(buf), v));
    }
    intsetFree(is);
    b->ptr = d;
    b->enc = ENC_HASHTABLE;
}

static int setBAdd(rdbL *L, setB *b, const char *p, size_t len) {
    if (b->enc == ENC_INTSET) {
        long long v;
        if (string2ll(p, len, &v) && (long long)intsetLen(b->ptr) < srv.setMaxIntsetEntries) {
            uint8_t ok;
            b->ptr = intsetAdd(b->ptr, v, &ok);
            return ok ? 0 : rdbLFail(L, "duplicate set member");
        }
        setBToTable(b);
    }
    return setTableAdd(b->ptr, p, len) ? 0 : rdbLFail(L, "duplicate set member");
}

static void setBFree(setB *b) {
    if (!b->ptr) return;
    if (b->enc == ENC_INTSET) intsetFree(b->ptr);
    else setTableFree(b->ptr);
    b->ptr = NULL;
}

static unsigned long setBSize(setB *b) {
    return b->enc == ENC_INTSET ? intsetLen(b->ptr) : (unsigned long)dictSize((dict *)b->ptr);
}

#define HASH_DUPSET_AFTER 32 /* listpack fields checked by a scan below this, by a table above */

typedef struct hashB {
    int enc;
    void *ptr;
    unsigned long n;
    void *dups; /* field set for big listpacks (duplicate check without a quadratic scan) */
} hashB;

static void hashBInit(hashB *b, uint64_t count) {
    b->n = 0;
    b->dups = NULL;
    if ((long long)count > srv.hashMaxListpackEntries) {
        b->enc = ENC_HASHTABLE;
        b->ptr = hashTableNew(hintOf(count));
    } else {
        b->enc = ENC_LISTPACK;
        b->ptr = lpNew(0);
    }
}

static void hashBToTable(hashB *b) {
    unsigned char *lp = b->ptr;
    void *d = hashTableNew(b->n + 1);
    char fb[LP_INTBUF_SIZE], vb[LP_INTBUF_SIZE];
    for (unsigned char *p = lpFirst(lp); p;) {
        unsigned char *vp = lpNext(lp, p);
        size_t fl, vl;
        const char *f = lpGet(p, fb, &fl, NULL, NULL), *v = lpGet(vp, vb, &vl, NULL, NULL);
        hashTableAdd(d, f, fl, v, vl);
        p = lpNext(lp, vp);
    }
    lpFree(lp);
    if (b->dups) setTableFree(b->dups);
    b->dups = NULL;
    b->ptr = d;
    b->enc = ENC_HASHTABLE;
}

static int hashBAdd(rdbL *L, hashB *b, const char *f, size_t flen, const char *v, size_t vlen) {
    if (b->enc == ENC_LISTPACK) {
        long long maxv = srv.hashMaxListpackValue;
        if ((long long)flen > maxv || (long long)vlen > maxv || !lpSafeToAdd(b->ptr, flen + vlen) ||
            (long long)b->n >= srv.hashMaxListpackEntries)
            hashBToTable(b);
    }
    if (b->enc == ENC_LISTPACK) {
        unsigned char *lp = b->ptr;
        if (b->n < HASH_DUPSET_AFTER) {
            if (b->n && lpFind(lp, lpFirst(lp), f, flen, 1)) return rdbLFail(L, "duplicate hash field");
        } else {
            if (!b->dups) {
                b->dups = setTableNew(b->n * 2);
                char fb[LP_INTBUF_SIZE];
                for (unsigned char *p = lpFirst(lp); p; p = lpNext(lp, lpNext(lp, p))) {
                    size_t fl;
                    const char *ff = lpGet(p, fb, &fl, NULL, NULL);
                    setTableAdd(b->dups, ff, fl);
                }
            }
            if (!setTableAdd(b->dups, f, flen)) return rdbLFail(L, "duplicate hash field");
        }
        lp = lpAppend(lp, f, flen);
        b->ptr = lpAppend(lp, v, vlen);
        b->n++;
        return 0;
    }
    if (!hashTableAdd(b->ptr, f, flen, v, vlen)) return rdbLFail(L, "duplicate hash field");
    b->n++;
    return 0;
}

static void hashBDone(hashB *b) {
    if (b->dups) setTableFree(b->dups);
    b->dups = NULL;
}

static void hashBFree(hashB *b) {
    hashBDone(b);
    if (!b->ptr) return;
    if (b->enc == ENC_LISTPACK) lpFree(b->ptr);
    else hashTableFree(b->ptr);
    b->ptr = NULL;
}

/* Sorted sets: small ones are staged (member bytes in an arena), checked for
 * duplicates and sorted once, then packed; big ones go to the skip list. */
typedef struct zItem {
    double score;
    size_t off, len;
} zItem;

typedef struct zsetB {
    int enc; /* ENC_LISTPACK while staging */
    zset *zs;
    zItem *items;
    size_t n, cap;
    rdbBuf arena;
} zsetB;

static void zsetBInit(zsetB *b, uint64_t count) {
    memset(b, 0, sizeof(*b));
    if (srv.zsetMaxListpackEntries == 0 || (long long)count > srv.zsetMaxListpackEntries) {
        b->enc = ENC_SKIPLIST;
        b->zs = zsetNewSkiplist();
        dictExpand(&b->zs->d, hintOf(count));
    } else {
        b->enc = ENC_LISTPACK;
    }
}

static int zsetBSkipAdd(rdbL *L, zsetB *b, const char *m, size_t len, double score) {
    if (dictFind(&b->zs->d, m, len)) return rdbLFail(L, "duplicate sorted set member");
    zsetSkiplistInsert(b->zs, score, m, len);
    return 0;
}

static int zsetBToSkip(rdbL *L, zsetB *b) {
    b->zs = zsetNewSkiplist();
    b->enc = ENC_SKIPLIST;
    dictExpand(&b->zs->d, b->n + 1);
    for (size_t i = 0; i < b->n; i++)
        if (zsetBSkipAdd(L, b, b->arena.p + b->items[i].off, b->items[i].len, b->items[i].score) == -1) return -1;
    memFree(b->items);
    b->items = NULL;
    b->n = b->cap = 0;
    rdbBufFree(&b->arena);
    return 0;
}

static int zsetBAdd(rdbL *L, zsetB *b, const char *m, size_t len, double score) {
    if (isnan(score)) return rdbLFail(L, "NaN score");
    if (b->enc == ENC_LISTPACK && ((long long)len > srv.zsetMaxListpackValue ||
                                   (long long)b->n >= srv.zsetMaxListpackEntries || b->arena.len + len > (1u << 30)))
        if (zsetBToSkip(L, b) == -1) return -1;
    if (b->enc == ENC_SKIPLIST) return zsetBSkipAdd(L, b, m, len, score);
    if (b->n == b->cap) {
        b->cap = b->cap ? b->cap * 2 : 16;
        b->items = memRealloc(b->items, b->cap * sizeof(zItem));
    }
    rdbBufReserve(&b->arena, b->arena.len + len + 1);
    memcpy(b->arena.p + b->arena.len, m, len);
    b->items[b->n++] = (zItem){.score = score, .off = b->arena.len, .len = len};
    b->arena.len += len;
    return 0;
}

static const char *zsortArena; /* qsort has no context argument */

static int zMemberCmp(const zItem *a, const zItem *b) {
    size_t n = a->len < b->len ? a->len : b->len;
    int c = n ? memcmp(zsortArena + a->off, zsortArena + b->off, n) : 0;
    if (c) return c;
    return a->len < b->len ? -1 : a->len > b->len;
}

static int zCmpMember(const void *x, const void *y) { return zMemberCmp(x, y); }

static int zCmpScore(const void *x, const void *y) {
    const zItem *a = x, *b = y;
    if (a->score < b->score) return -1;
    if (a->score > b->score) return 1;
    return zMemberCmp(a, b);
}

/* The finished value: 0 with *enc and *ptr set, or -1 (duplicates). */
static int zsetBFinish(rdbL *L, zsetB *b, int *enc, void **ptr) {
    if (b->enc == ENC_SKIPLIST) {
        *enc = ENC_SKIPLIST;
        *ptr = b->zs;
        b->zs = NULL;
        return 0;
    }
    zsortArena = b->arena.p;
    if (b->n > 1) {
        qsort(b->items, b->n, sizeof(zItem), zCmpMember);
        for (size_t i = 1; i < b->n; i++)
            if (zMemberCmp(&b->items[i - 1], &b->items[i]) == 0) return rdbLFail(L, "duplicate sorted set member");
        qsort(b->items, b->n, sizeof(zItem), zCmpScore);
    }
    unsigned char *lp = lpNew(b->arena.len + b->n * 12);
    char sbuf[128];
    for (size_t i = 0; i < b->n; i++) {
        double s = b->items[i].score;
        int slen = d2string(sbuf, sizeof(sbuf), s == 0 ? 0.0 : s); /* no "-0", as zsetLpInsert */
        lp = lpAppend(lp, b->arena.p + b->items[i].off, b->items[i].len);
        lp = lpAppend(lp, sbuf, (size_t)slen);
    }
    *enc = ENC_LISTPACK;
    *ptr = lp;
    return 0;
}

static void zsetBFree(zsetB *b) {
    if (b->zs) zsetFreeSkiplist(b->zs);
    memFree(b->items);
    rdbBufFree(&b->arena);
    memset(b, 0, sizeof(*b));
}

/* ======================================================================== */
/* loader: blobs (ziplist, listpack, intset, zipmap)                        */
/* ======================================================================== */

/* Called once per element of a blob; integers come as decimal text. */
typedef int blobFn(rdbL *L, void *priv, const char *p, size_t len);

static int emitInt(rdbL *L, blobFn *fn, void *priv, long long v) {
    char buf[LONG_STR_SIZE];
    return fn(L, priv, buf, (size_t)ll2string(buf, sizeof(buf), v));
}

static int64_t signExtend(uint64_t v, int bits) {
    uint64_t m = (uint64_t)1 << (bits - 1);
    return (int64_t)((v ^ m) - m);
}

/* Redis' ziplist: zlbytes, zltail, zllen, entries (prevlen, encoding,
 * payload), 0xFF. Every offset is checked against the blob. */
static int blobZiplist(rdbL *L, const unsigned char *z, size_t n, blobFn *fn, void *priv, unsigned long *count) {
    if (n < 11 || rdbLE(z, 4) != n || rdbLE(z + 4, 4) >= n || z[n - 1] != 0xFF) return rdbLFail(L, "invalid ziplist header");
    unsigned long declared = (unsigned long)rdbLE(z + 8, 2), seen = 0;
    size_t p = 10, end = n - 1;
    while (p < end) {
        size_t pl = z[p] < 254 ? 1 : 5;
        if (end - p < pl + 1) return rdbLFail(L, "ziplist entry out of range");
        p += pl;
        unsigned char e = z[p];
        size_t hdr, len = 0;
        long long v = 0;
        int isInt = 1;
        switch (e >> 6) {
        case 0:
            hdr = 1, len = e & 0x3f, isInt = 0;
            break;
        case 1:
            if (end - p < 2) return rdbLFail(L, "ziplist entry out of range");
            hdr = 2, len = (size_t)(e & 0x3f) << 8 | z[p + 1], isInt = 0;
            break;
        case 2:
            if (end - p < 5) return rdbLFail(L, "ziplist entry out of range");
            hdr = 5, isInt = 0;
            len = (size_t)z[p + 1] << 24 | (size_t)z[p + 2] << 16 | (size_t)z[p + 3] << 8 | z[p + 4];
            break;
        default: {
            int w;
            hdr = 1;
            if (e == 0xC0) w = 2;
            else if (e == 0xD0) w = 4;
            else if (e == 0xE0) w = 8;
            else if (e == 0xF0) w = 3;
            else if (e == 0xFE) w = 1;
            else if (e >= 0xF1 && e <= 0xFD) w = 0;
            else return rdbLFail(L, "invalid ziplist entry encoding 0x%02x", e);
            if (end - p < hdr + (size_t)w) return rdbLFail(L, "ziplist entry out of range");
            v = w ? signExtend(rdbLE(z + p + 1, w), w * 8) : (long long)(e & 0x0f) - 1;
            len = (size_t)w;
        }
        }
        if (end - p < hdr || end - p - hdr < len) return rdbLFail(L, "ziplist entry out of range");
        int rc = isInt ? emitInt(L, fn, priv, v) : fn(L, priv, (const char *)z + p + hdr, len);
        if (rc == -1) return -1;
        p += hdr + len;
        seen++;
    }
    if (declared != 65535 && declared != seen) return rdbLFail(L, "ziplist count mismatch");
    if (count) *count = seen;
    return 0;
}

static size_t lpBacklenSize(size_t l) {
    return l <= 127 ? 1 : l < 16383 ? 2 : l < 2097151 ? 3 : l < 268435455 ? 4 : 5;
}

/* Redis' listpack: total bytes, count, entries (encoding, payload, backlen),
 * 0xFF. */
static int blobListpack(rdbL *L, const unsigned char *z, size_t n, blobFn *fn, void *priv, unsigned long *count) {
    if (n < 7 || rdbLE(z, 4) != n || z[n - 1] != 0xFF) return rdbLFail(L, "invalid listpack header");
    unsigned long declared = (unsigned long)rdbLE(z + 4, 2), seen = 0;
    size_t p = 6, end = n - 1;
    while (p < end) {
        unsigned char e = z[p];
        size_t avail = end - p, hdr = 1, len = 0;
        long long v = 0;
        int isInt = 1;
        if ((e & 0x80) == 0) {
            v = e & 0x7f;
        } else if ((e & 0xC0) == 0x80) {
            len = e & 0x3f, isInt = 0;
        } else if ((e & 0xE0) == 0xC0) {
            if (avail < 2) return rdbLFail(L, "listpack entry out of range");
            v = signExtend((uint64_t)(e & 0x1f) << 8 | z[p + 1], 13);
            hdr = 2;
        } else if ((e & 0xF0) == 0xE0) {
            if (avail < 2) return rdbLFail(L, "listpack entry out of range");
            len = (size_t)(e & 0x0f) << 8 | z[p + 1], hdr = 2, isInt = 0;
        } else if (e == 0xF0) {
            if (avail < 5) return rdbLFail(L, "listpack entry out of range");
            len = (size_t)rdbLE(z + p + 1, 4), hdr = 5, isInt = 0;
        } else if (e >= 0xF1 && e <= 0xF4) {
            int w = e == 0xF1 ? 2 : e == 0xF2 ? 3 : e == 0xF3 ? 4 : 8;
            if (avail < 1 + (size_t)w) return rdbLFail(L, "listpack entry out of range");
            v = signExtend(rdbLE(z + p + 1, w), w * 8);
            hdr = 1 + (size_t)w;
        } else {
            return rdbLFail(L, "invalid listpack entry encoding 0x%02x", e);
        }
        if (avail < hdr || avail - hdr < len) return rdbLFail(L, "listpack entry out of range");
        size_t entry = hdr + len, bl = lpBacklenSize(entry);
        if (avail - entry < bl) return rdbLFail(L, "listpack entry out of range");
        int rc = isInt ? emitInt(L, fn, priv, v) : fn(L, priv, (const char *)z + p + hdr, len);
        if (rc == -1) return -1;
        p += entry + bl;
        seen++;
    }
    if (declared != 65535 && declared != seen) return rdbLFail(L, "listpack count mismatch");
    if (count) *count = seen;
    return 0;
}

/* Redis' intset: encoding, length, sorted little-endian values. */
static int blobIntset(rdbL *L, const unsigned char *z, size_t n, blobFn *fn, void *priv, unsigned long *count) {
    if (n < 8) return rdbLFail(L, "invalid intset");
    uint64_t w = rdbLE(z, 4), len = rdbLE(z + 4, 4);
    if ((w != 2 && w != 4 && w != 8) || 8 + w * len != n) return rdbLFail(L, "invalid intset");
    int64_t prev = 0;
    for (uint64_t i = 0; i < len; i++) {
        int64_t v = signExtend(rdbLE(z + 8 + i * w, (int)w), (int)w * 8);
        if (i && v <= prev) return rdbLFail(L, "intset not sorted or has duplicates");
        prev = v;
        if (emitInt(L, fn, priv, v) == -1) return -1;
    }
    if (count) *count = (unsigned long)len;
    return 0;
}

/* Redis' zipmap (hashes before 2.6): zmlen, then key/value pairs with
 * lengths (1 byte, or 254 + 4 bytes) and a free-space byte after the value
 * length, then 0xFF. */
static int blobZipmap(rdbL *L, const unsigned char *z, size_t n, blobFn *fn, void *priv, unsigned long *count) {
    if (n < 2 || z[n - 1] != 0xFF) return rdbLFail(L, "invalid zipmap");
    size_t p = 1, end = n - 1;
    unsigned long seen = 0;
    while (p < end) {
        for (int part = 0; part < 2; part++) {
            if (p >= end) return rdbLFail(L, "zipmap entry out of range");
            size_t len;
            if (z[p] < 254) {
                len = z[p];
                p++;
            } else if (z[p] == 254) {
                if (end - p < 5) return rdbLFail(L, "zipmap entry out of range");
                len = (size_t)rdbLE(z + p + 1, 4);
                p += 5;
            } else {
                return rdbLFail(L, "zipmap entry out of range");
            }
            size_t freeb = 0;
            if (part == 1) {
                if (p >= end) return rdbLFail(L, "zipmap entry out of range");
                freeb = z[p++];
            }
            if (end - p < len || end - p - len < freeb) return rdbLFail(L, "zipmap entry out of range");
            if (fn(L, priv, (const char *)z + p, len) == -1) return -1;
            p += len + freeb;
            seen++;
        }
    }
    if (count) *count = seen;
    return 0;
}

typedef int blobParser(rdbL *L, const unsigned char *z, size_t n, blobFn *fn, void *priv, unsigned long *count);

/* Counting pass (builders pick their encoding by size, as Redis). */
static int countFn(rdbL *L, void *priv, const char *p, size_t len) {
    (void)L, (void)priv, (void)p, (void)len;
    return 0;
}

/* Element sinks for each builder. Pairs keep their first half in L->e1. */
typedef struct pairCtx {
    int half;
    void *b;
} pairCtx;

static int listFn(rdbL *L, void *priv, const char *p, size_t len) {
    (void)L;
    qlPush(priv, QL_TAIL, p, len);
    return 0;
}

static int setFn(rdbL *L, void *priv, const char *p, size_t len) { return setBAdd(L, priv, p, len); }

/* Pairs arrive one element at a time: the first half waits in L->e1.
 * Returns 1 when p was that first half (nothing more to do yet). */
static int pairTakeFirst(rdbL *L, pairCtx *c, const char *p, size_t len) {
    if (c->half) {
        c->half = 0;
        return 0;
    }
    rdbBufReserve(&L->e1, len + 1);
    memcpy(L->e1.p, p, len);
    L->e1.len = len;
    c->half = 1;
    return 1;
}

static int hashPairFn(rdbL *L, void *priv, const char *p, size_t len) {
    pairCtx *c = priv;
    if (pairTakeFirst(L, c, p, len)) return 0;
    return hashBAdd(L, c->b, L->e1.p, L->e1.len, p, len);
}

static int zsetPairFn(rdbL *L, void *priv, const char *p, size_t len) {
    pairCtx *c = priv;
    if (pairTakeFirst(L, c, p, len)) return 0;
    double d;
    char buf[256];
    if (len == 0 || len >= sizeof(buf)) return rdbLFail(L, "bad score");
    memcpy(buf, p, len);
    buf[len] = '\0';
    char *end;
    d = strtod(buf, &end);
    if (*end || isnan(d)) return rdbLFail(L, "bad score");
    return zsetBAdd(L, c->b, L->e1.p, L->e1.len, d);
}

/* ======================================================================== */
/* loader: values                                                           */
/* ======================================================================== */

int rdbIsObjectType(int t) {
    return (t >= RDB_TYPE_STRING && t <= RDB_TYPE_MODULE_2) || (t >= RDB_TYPE_HASH_ZIPMAP && t <= RDB_TYPE_STREAM_LISTPACKS_3);
}

/* Reads a blob string and walks it twice: once to count, once to feed fn
 * (the builder is initialised in between by the caller through init). */
static int lBlobCount(rdbL *L, blobParser *parse, unsigned long *count) {
    *count = 0; /* defined on failure too (the analyzer cannot see rdbLFail is always -1) */
    if (rdbLString(L, &L->blob) == -1) return -1;
    return parse(L, (const unsigned char *)L->blob.p, L->blob.len, countFn, NULL, count);
}

static int lBlobFeed(rdbL *L, blobParser *parse, blobFn *fn, void *priv) {
    return parse(L, (const unsigned char *)L->blob.p, L->blob.len, fn, priv, NULL);
}

static dbEntry *lList(rdbL *L, int type, const char *key, size_t keylen, int *empty) {
    quicklist *ql = qlNew(srv.listMaxListpackSize);
    uint64_t n;
    if (type == RDB_TYPE_LIST) {
        if (rdbLCount(L, &n) == -1) goto err;
        for (uint64_t i = 0; i < n; i++) {
            if (rdbLString(L, &L->e2) == -1) goto err;
            qlPush(ql, QL_TAIL, L->e2.p, L->e2.len);
        }
    } else if (type == RDB_TYPE_LIST_ZIPLIST) {
        if (rdbLString(L, &L->blob) == -1 || lBlobFeed(L, blobZiplist, listFn, ql) == -1) goto err;
    } else {
        if (rdbLCount(L, &n) == -1) goto err;
        for (uint64_t i = 0; i < n; i++) {
            uint64_t container = 2;
            if (type == RDB_TYPE_LIST_QUICKLIST_2 && rdbLCount(L, &container) == -1) goto err;
            if (container == 1) { /* PLAIN: one big element */
                if (rdbLString(L, &L->e2) == -1) goto err;
                qlPush(ql, QL_TAIL, L->e2.p, L->e2.len);
                continue;
            }
            if (container != 2) {
                rdbLFail(L, "unknown quicklist container %llu", (unsigned long long)container);
                goto err;
            }
            if (rdbLString(L, &L->blob) == -1) goto err;
            if (lBlobFeed(L, type == RDB_TYPE_LIST_QUICKLIST ? blobZiplist : blobListpack, listFn, ql) == -1) goto err;
        }
    }
    if (qlCount(ql) == 0) {
        *empty = 1;
        goto err;
    }
    return objNewCollectionEntry(key, keylen, OBJ_LIST, ENC_QUICKLIST, ql);
err:
    qlFree(ql);
    return NULL;
}

static dbEntry *lSet(rdbL *L, int type, const char *key, size_t keylen, int *empty) {
    setB b = {0};
    if (type == RDB_TYPE_SET) {
        uint64_t n;
        if (rdbLCount(L, &n) == -1) return NULL;
        setBInit(&b, n);
        for (uint64_t i = 0; i < n; i++)
            if (rdbLString(L, &L->e2) == -1 || setBAdd(L, &b, L->e2.p, L->e2.len) == -1) goto err;
    } else {
        blobParser *parse = type == RDB_TYPE_SET_INTSET ? blobIntset : blobListpack;
        unsigned long n;
        if (lBlobCount(L, parse, &n) == -1) return NULL;
        setBInit(&b, n);
        if (lBlobFeed(L, parse, setFn, &b) == -1) goto err;
    }
    if (setBSize(&b) == 0) {
        *empty = 1;
        goto err;
    }
    return objNewCollectionEntry(key, keylen, OBJ_SET, b.enc, b.ptr);
err:
    setBFree(&b);
    return NULL;
}

static dbEntry *lZset(rdbL *L, int type, const char *key, size_t keylen, int *empty) {
    zsetB b;
    if (type == RDB_TYPE_ZSET || type == RDB_TYPE_ZSET_2) {
        uint64_t n;
        if (rdbLCount(L, &n) == -1) return NULL;
        zsetBInit(&b, n);
        for (uint64_t i = 0; i < n; i++) {
            double d;
            if (rdbLString(L, &L->e2) == -1) goto err;
            if ((type == RDB_TYPE_ZSET ? rdbLDoubleText(L, &d) : rdbLDoubleBin(L, &d)) == -1) goto err;
            if (zsetBAdd(L, &b, L->e2.p, L->e2.len, d) == -1) goto err;
        }
    } else {
        blobParser *parse = type == RDB_TYPE_ZSET_ZIPLIST ? blobZiplist : blobListpack;
        unsigned long n;
        if (lBlobCount(L, parse, &n) == -1) return NULL;
        if (n % 2) {
            rdbLFail(L, "sorted set blob with an odd number of elements");
            return NULL;
        }
        zsetBInit(&b, n / 2);
        pairCtx c = {0, &b};
        if (lBlobFeed(L, parse, zsetPairFn, &c) == -1) goto err;
    }
    if ((b.enc == ENC_SKIPLIST ? b.zs->zsl.length : b.n) == 0) {
        *empty = 1;
        goto err;
    }
    int enc = ENC_LISTPACK;
    void *ptr = NULL;
    if (zsetBFinish(L, &b, &enc, &ptr) == -1) goto err;
    zsetBFree(&b);
    return objNewCollectionEntry(key, keylen, OBJ_ZSET, enc, ptr);
err:
    zsetBFree(&b);
    return NULL;
}

static dbEntry *lHash(rdbL *L, int type, const char *key, size_t keylen, int *empty) {
    hashB b;
    if (type == RDB_TYPE_HASH) {
        uint64_t n;
        if (rdbLCount(L, &n) == -1) return NULL;
        hashBInit(&b, n);
        for (uint64_t i = 0; i < n; i++) {
            if (rdbLString(L, &L->e1) == -1 || rdbLString(L, &L->e2) == -1) goto err;
            if (hashBAdd(L, &b, L->e1.p, L->e1.len, L->e2.p, L->e2.len) == -1) goto err;
        }
    } else {
        blobParser *parse = type == RDB_TYPE_HASH_ZIPMAP    ? blobZipmap
                            : type == RDB_TYPE_HASH_ZIPLIST ? blobZiplist
                                                            : blobListpack;
        unsigned long n;
        if (lBlobCount(L, parse, &n) == -1) return NULL;
        if (n % 2) {
            rdbLFail(L, "hash blob with an odd number of elements");
            return NULL;
        }
        hashBInit(&b, n / 2);
        pairCtx c = {0, &b};
        if (lBlobFeed(L, parse, hashPairFn, &c) == -1) goto err;
    }
    if (b.n == 0) {
        *empty = 1;
        goto err;
    }
    hashBDone(&b);
    return objNewCollectionEntry(key, keylen, OBJ_HASH, b.enc, b.ptr);
err:
    hashBFree(&b);
    return NULL;
}

static int lID16(rdbL *L, streamID *id) {
    unsigned char b[16];
    if (rdbLRead(L, b, sizeof(b)) == -1) return -1;
    id->ms = id->seq = 0;
    for (int i = 0; i < 8; i++) {
        id->ms = id->ms << 8 | b[i];
        id->seq = id->seq << 8 | b[8 + i];
    }
    return 0;
}

/* The consumer groups after a stream's entries. Every consumer PEL entry
 * must be in its group's PEL, once, and every group PEL entry must have a
 * consumer: a NACK without an owner would break XPENDING and XCLAIM. */
static int lStreamGroups(rdbL *L, int type, stream *s) {
    uint64_t ng;
    if (rdbLCount(L, &ng) == -1) return -1;
    for (uint64_t g = 0; g < ng; g++) {
        if (rdbLString(L, &L->e1) == -1) return -1;
        char *name = memAlloc(L->e1.len + 1);
        size_t nameLen = L->e1.len;
        memcpy(name, L->e1.p, nameLen);
        uint64_t ms, seq, er;
        streamID last;
        long long entriesRead;
        if (rdbLCount(L, &ms) == -1 || rdbLCount(L, &seq) == -1) goto fail;
        last.ms = ms;
        last.seq = seq;
        if (type >= RDB_TYPE_STREAM_LISTPACKS_2) {
            if (rdbLLen(L, &er, NULL) == -1) goto fail;
            entriesRead = (long long)er;
        } else {
            entriesRead = streamEstimateDistance(s, &last);
        }
        streamCG *cg = streamCGCreate(s, name, nameLen, &last, entriesRead);
        if (!cg) {
            rdbLFail(L, "Duplicated consumer group name %.*s", (int)(nameLen > 64 ? 64 : nameLen), name);
            goto fail;
        }
        memFree(name);
        name = NULL;
        uint64_t npel;
        if (rdbLCount(L, &npel) == -1) return -1;
        for (uint64_t i = 0; i < npel; i++) {
            streamID id;
            unsigned char t[8];
            uint64_t cnt;
            if (lID16(L, &id) == -1 || rdbLRead(L, t, 8) == -1 || rdbLCount(L, &cnt) == -1) return -1;
            streamNACK *n = streamNACKNew(NULL, (long long)rdbLE(t, 8));
            n->deliveryCount = cnt;
            if (!idmapInsert(&cg->pel, &id, n)) {
                memFree(n);
                return rdbLFail(L, "Duplicated global PEL entry loading stream consumer group");
            }
        }
        uint64_t nc;
        if (rdbLCount(L, &nc) == -1) return -1;
        for (uint64_t k = 0; k < nc; k++) {
            if (rdbLString(L, &L->e1) == -1) return -1;
            streamConsumer *sc = streamConsumerCreate(cg, L->e1.p, L->e1.len, 0);
            if (!sc) return rdbLFail(L, "Duplicated consumer name in stream consumer group");
            unsigned char t[8];
            if (rdbLRead(L, t, 8) == -1) return -1;
            sc->seenTime = (long long)rdbLE(t, 8);
            uint64_t np;
            if (rdbLCount(L, &np) == -1) return -1;
            for (uint64_t i = 0; i < np; i++) {
                streamID id;
                if (lID16(L, &id) == -1) return -1;
                streamNACK *n = idmapFind(&cg->pel, &id);
                if (!n) return rdbLFail(L, "Consumer entry not found in group global PEL");
                if (n->consumer) return rdbLFail(L, "Stream PEL entry owned by two consumers");
                n->consumer = sc;
                idmapInsert(&sc->pel, &id, n);
            }
        }
        idmapPos pos;
        void *v;
        idmapSeek(&cg->pel, NULL, &pos);
        while (idmapNext(&cg->pel, &pos, NULL, &v))
            if (!((streamNACK *)v)->consumer) return rdbLFail(L, "Stream CG PELs entry without consumer");
        continue;
    fail:
        memFree(name);
        return -1;
    }
    return 0;
}

/* Redis' RDB_TYPE_STREAM_LISTPACKS (5.0-6.2) and _2 (7.0). Every node is
 * validated in full (structure, counts, ascending ids) before the stream
 * takes it: a stream from a file is walked without bounds checks later. An
 * empty stream (every entry deleted) is a valid key, as in Redis. */
static dbEntry *lStream(rdbL *L, int type, const char *key, size_t keylen) {
    stream *s = streamNew();
    uint64_t nodes, live = 0, v[8];
    streamID after = {0, 0};
    if (rdbLCount(L, &nodes) == -1) goto err;
    for (uint64_t i = 0; i < nodes; i++) {
        if (rdbLString(L, &L->e1) == -1) goto err;
        if (L->e1.len != 16) {
            rdbLFail(L, "Stream node key entry is not the size of a stream ID");
            goto err;
        }
        streamID master = {0, 0};
        for (int b = 0; b < 8; b++) {
            master.ms = master.ms << 8 | (unsigned char)L->e1.p[b];
            master.seq = master.seq << 8 | (unsigned char)L->e1.p[8 + b];
        }
        if (rdbLString(L, &L->blob) == -1) goto err;
        if (i && streamCompareID(&master, &s->nodes[s->nnodes - 1].master) <= 0) {
            rdbLFail(L, "Stream node keys out of order");
            goto err;
        }
        if (!streamValidateNode((const unsigned char *)L->blob.p, L->blob.len, &master, &after, &live)) {
            rdbLFail(L, "Stream listpack integrity check failed.");
            goto err;
        }
        unsigned char *lp = memAlloc(L->blob.len);
        memcpy(lp, L->blob.p, L->blob.len);
        streamAddNode(s, &master, lp);
    }
    int nv = type >= RDB_TYPE_STREAM_LISTPACKS_2 ? 8 : 3;
    for (int i = 0; i < nv; i++)
        if (rdbLCount(L, &v[i]) == -1) goto err;
    s->length = v[0];
    s->lastId.ms = v[1];
    s->lastId.seq = v[2];
    if (s->length != live) {
        rdbLFail(L, "Stream length inconsistent with its nodes");
        goto err;
    }
    if (s->nnodes && streamCompareID(&after, &s->lastId) > 0) {
        rdbLFail(L, "Stream last id below its entries");
        goto err;
    }
    if (nv == 8) {
        s->firstId.ms = v[3];
        s->firstId.seq = v[4];
        s->maxDeletedId.ms = v[5];
        s->maxDeletedId.seq = v[6];
        s->entriesAdded = v[7];
    } else {
        s->entriesAdded = s->length;
        streamEdgeID(s, 1, &s->firstId);
    }
    if (lStreamGroups(L, type, s) == -1) goto err;
    return objNewCollectionEntry(key, keylen, OBJ_STREAM, ENC_STREAM, s);
err:
    streamFree(s);
    return NULL;
}

/* The value of an object of the given type, as a new entry named key. */
dbEntry *rdbLValue(rdbL *L, int type, const char *key, size_t keylen, int *empty) {
    *empty = 0;
    switch (type) {
    case RDB_TYPE_STRING:
        if (rdbLString(L, &L->e2) == -1) return NULL;
        return objNewStringEntry(key, keylen, L->e2.p, L->e2.len);
    case RDB_TYPE_LIST:
    case RDB_TYPE_LIST_ZIPLIST:
    case RDB_TYPE_LIST_QUICKLIST:
    case RDB_TYPE_LIST_QUICKLIST_2:
        return lList(L, type, key, keylen, empty);
    case RDB_TYPE_SET:
    case RDB_TYPE_SET_INTSET:
    case RDB_TYPE_SET_LISTPACK:
        return lSet(L, type, key, keylen, empty);
    case RDB_TYPE_ZSET:
    case RDB_TYPE_ZSET_2:
    case RDB_TYPE_ZSET_ZIPLIST:
    case RDB_TYPE_ZSET_LISTPACK:
        return lZset(L, type, key, keylen, empty);
    case RDB_TYPE_HASH:
    case RDB_TYPE_HASH_ZIPMAP:
    case RDB_TYPE_HASH_ZIPLIST:
    case RDB_TYPE_HASH_LISTPACK:
        return lHash(L, type, key, keylen, empty);
    case RDB_TYPE_MODULE:
    case RDB_TYPE_MODULE_2:
        rdbLFail(L, "module data types are not supported");
        return NULL;
    case RDB_TYPE_STREAM_LISTPACKS:
    case RDB_TYPE_STREAM_LISTPACKS_2:
        return lStream(L, type, key, keylen);
    case RDB_TYPE_STREAM_LISTPACKS_3:
        rdbLFail(L, "stream type %d (Redis 7.2) not supported (key '%.*s')", type, keylen > 64 ? 64 : (int)keylen, key);
        return NULL;
    default:
        rdbLFail(L, "unknown object type %d", type);
        return NULL;
    }
}

void rdbLFree(rdbL *L) {
    rdbBufFree(&L->key);
    rdbBufFree(&L->e1);
    rdbBufFree(&L->e2);
    rdbBufFree(&L->lz);
    rdbBufFree(&L->blob);
}

void rdbSetLruOrLfu(dbEntry *e, long long lfuFreq, long long lruIdleSec) {
    if (RDB_LFU_POLICY()) {
        if (lfuFreq >= 0) e->lru = (evictLfuInitValue() & ~(uint32_t)255) | (uint32_t)(lfuFreq & 255);
    } else if (lruIdleSec >= 0) {
        /* One LRU clock tick is a second (LRU_CLOCK_RESOLUTION 1000 ms).
         * The cached clock, as OBJECT IDLETIME reads it (Redis' LRU_CLOCK):
         * a fresh one can be a tick ahead, and RESTORE ... IDLETIME 1000
         * then reads back as 999. */
        long long clock = evictLruClock(), abs = clock - lruIdleSec;
        if (abs < 0) abs = (clock + RDB_LRU_CLOCK_MAX / 2) % RDB_LRU_CLOCK_MAX;
        e->lru = (uint32_t)abs & RDB_LRU_CLOCK_MAX;
    }
}

dbEntry *rdbLoadObject(rdbSource *in, const char *key, size_t keylen, int *empty, char *err, size_t errlen) {
    rdbL L = {.in = in, .err = err, .errlen = errlen};
    unsigned char t;
    dbEntry *e = NULL;
    *empty = 0;
    if (rdbLByte(&L, &t) == 0) {
        if (!rdbIsObjectType(t)) rdbLFail(&L, "unknown object type %d", t);
        else e = rdbLValue(&L, t, key, keylen, empty);
    }
    rdbLCrcSync(&L);
    rdbLFree(&L);
    return e;
}

