/* t_hash.c - the hash type: HSET/HGET and friends, HINCRBY*, HRANDFIELD,
 * HSCAN, and the value callbacks obj.c/db.c dispatch to (free, copy, size).
 *
 * Owns: the value behind a hash entry's v.ptr. Two encodings, as Redis 7.0:
 *   ENC_LISTPACK  one lpack array field,value,field,value... (small hashes:
 *                 one allocation per hash, nothing else - the memory target
 *                 of a million small hashes depends on it);
 *   ENC_HASHTABLE a dict (dict.h) of hashNode, field and value in ONE block.
 * A listpack becomes a table, never back, when it holds more than
 * hash-max-listpack-entries fields or a field/value longer than
 * hash-max-listpack-value is written.
 * Must never: leave an empty hash in the keyspace, change anything before
 * every argument has been validated, or keep an lpack position across a call
 * that may move the array. */
#include "lpack.h"
#include "server.h"
#include "db.h"
#include "client.h"
#include "reply.h"
#include "cmd.h"
#include "args.h"
#include "propagate.h"
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- the table encoding ------------------------------------------------- */

/* One field of a big hash: the field bytes then the value bytes. 32-bit
 * lengths keep the header at 16 bytes; longer arguments are refused up front
 * (hashArgsTooLong). */
typedef struct hashNode {
    dictNode link; /* first: dict.h is intrusive */
    uint32_t flen, vlen;
    char data[];
} hashNode;

#define HASH_NODE_HDR offsetof(hashNode, data)

static void hashNodeKey(const dictNode *n, const char **p, size_t *len) {
    const hashNode *h = (const hashNode *)n;
    *p = h->data;
    *len = h->flen;
}

static const dictType hashDictType = {.key = hashNodeKey, .nocase = 0};

static inline const char *hashNodeVal(const hashNode *n) { return n->data + n->flen; }

static hashNode *hashNodeNew(const char *f, size_t flen, const char *v, size_t vlen) {
    hashNode *n = memAlloc(HASH_NODE_HDR + flen + vlen);
    n->link.next = NULL;
    n->flen = (uint32_t)flen;
    n->vlen = (uint32_t)vlen;
    memcpy(n->data, f, flen);
    if (vlen) memcpy(n->data + flen, v, vlen);
    return n;
}

static void hashNodeFree(dictNode *n, void *priv) {
    (void)priv;
    memFree(n);
}

/* Sets the value of a linked node, in place when the block has room and is
 * not grossly oversized for the new value; otherwise swaps in a new block. */
static void hashNodeSetValue(dict *d, hashNode *n, const char *v, size_t vlen) {
    size_t need = HASH_NODE_HDR + n->flen + vlen, have = memUsableSize(n);
    if (need <= have && have - need < 64) {
        memmove(n->data + n->flen, v, vlen);
        n->vlen = (uint32_t)vlen;
        return;
    }
    hashNode *repl = hashNodeNew(n->data, n->flen, v, vlen);
    dictReplaceNode(d, &n->link, &repl->link);
    memFree(n);
}

/* ---- encoding-independent access --------------------------------------- */

static unsigned long hashLen(const dbEntry *e) {
    if (e->enc == ENC_LISTPACK) return lpLength(e->v.ptr) / 2;
    return (unsigned long)dictSize((const dict *)e->v.ptr);
}

/* The listpack position of field f, or NULL. */
static unsigned char *hashLpFind(unsigned char *lp, const char *f, size_t flen) {
    return lpFind(lp, lpFirst(lp), f, flen, 1);
}

/* Finds field f: 1 and its value bytes (which may be written into buf,
 * LP_INTBUF_SIZE bytes), or 0 when absent. */
static int hashGet(dbEntry *e, const char *f, size_t flen, char *buf, const char **v, size_t *vlen) {
    if (e->enc == ENC_LISTPACK) {
        unsigned char *lp = e->v.ptr, *fp = hashLpFind(lp, f, flen);
        if (!fp) return 0;
        *v = lpGet(lpNext(lp, fp), buf, vlen, NULL, NULL);
        return 1;
    }
    hashNode *n = (hashNode *)dictFind(e->v.ptr, f, flen);
    if (!n) return 0;
    *v = hashNodeVal(n);
    *vlen = n->vlen;
    return 1;
}

/* Listpack -> table, in place (the entry keeps its address). */
static void hashConvert(dbEntry *e) {
    unsigned char *lp = e->v.ptr;
    dict *d = memAlloc(sizeof(*d));
    dictInit(d, &hashDictType);
    dictExpand(d, lpLength(lp) / 2);
    char fb[LP_INTBUF_SIZE], vb[LP_INTBUF_SIZE];
    for (unsigned char *p = lpFirst(lp); p;) {
        unsigned char *vp = lpNext(lp, p);
        size_t fl, vl;
        const char *f = lpGet(p, fb, &fl, NULL, NULL);
        const char *v = lpGet(vp, vb, &vl, NULL, NULL);
        dictAdd(d, &hashNodeNew(f, fl, v, vl)->link);
        p = lpNext(lp, vp);
    }
    lpFree(lp);
    e->v.ptr = d;
    e->enc = ENC_HASHTABLE;
}

static int hashTooLongForLp(size_t len) {
    return srv.hashMaxListpackValue < 0 || (unsigned long long)len > (unsigned long long)srv.hashMaxListpackValue;
}

/* Sets field f to v: 1 when the field was added, 0 when it existed. May
 * convert the encoding (as Redis' hashTypeSet: by length before writing, by
 * number of fields after). */
static int hashSet(dbEntry *e, const char *f, size_t flen, const char *v, size_t vlen) {
    if (e->enc == ENC_LISTPACK &&
        (hashTooLongForLp(flen) || hashTooLongForLp(vlen) || !lpSafeToAdd(e->v.ptr, flen + vlen)))
        hashConvert(e);
    if (e->enc == ENC_LISTPACK) {
        unsigned char *lp = e->v.ptr, *fp = hashLpFind(lp, f, flen);
        int added = fp == NULL;
        if (fp) {
            unsigned char *vp = lpNext(lp, fp);
            lp = lpReplace(lp, &vp, v, vlen);
        } else {
            lp = lpAppend(lp, f, flen);
            lp = lpAppend(lp, v, vlen);
        }
        e->v.ptr = lp;
        /* After an update too: a hash left over the limit by a lowered
         * hash-max-listpack-entries converts on its next write, as in Redis. */
        if ((long long)(lpLength(lp) / 2) > srv.hashMaxListpackEntries) hashConvert(e);
        return added;
    }
    dict *d = e->v.ptr;
    hashNode *n = (hashNode *)dictFind(d, f, flen);
    if (n) {
        hashNodeSetValue(d, n, v, vlen);
        return 0;
    }
    dictAdd(d, &hashNodeNew(f, flen, v, vlen)->link);
    return 1;
}

/* Removes field f: 1 when it was there. The caller deletes an emptied key. */
static int hashDel(dbEntry *e, const char *f, size_t flen) {
    if (e->enc == ENC_LISTPACK) {
        unsigned char *lp = e->v.ptr, *fp = hashLpFind(lp, f, flen), *vp;
        if (!fp) return 0;
        lp = lpDelete(lp, fp, &vp);
        e->v.ptr = lpDelete(lp, vp, NULL);
        return 1;
    }
    dictNode *n = dictUnlink(e->v.ptr, f, flen);
    if (!n) return 0;
    memFree(n);
    return 1;
}

/* Iteration over both encodings. Nothing may change the hash meanwhile. */
typedef struct hashIter {
    dbEntry *e;
    unsigned char *p; /* listpack: next field */
    dictIter di;
    char fb[LP_INTBUF_SIZE], vb[LP_INTBUF_SIZE];
} hashIter;

static void hashIterInit(hashIter *it, dbEntry *e) {
    it->e = e;
    if (e->enc == ENC_LISTPACK) it->p = lpFirst(e->v.ptr);
    else dictIterInit(&it->di, e->v.ptr, 0);
}

static int hashIterNext(hashIter *it, const char **f, size_t *flen, const char **v, size_t *vlen) {
    if (it->e->enc == ENC_LISTPACK) {
        if (!it->p) return 0;
        unsigned char *lp = it->e->v.ptr, *vp = lpNext(lp, it->p);
        *f = lpGet(it->p, it->fb, flen, NULL, NULL);
        *v = lpGet(vp, it->vb, vlen, NULL, NULL);
        it->p = lpNext(lp, vp);
        return 1;
    }
    hashNode *n = (hashNode *)dictNext(&it->di);
    if (!n) return 0;
    *f = n->data;
    *flen = n->flen;
    *v = hashNodeVal(n);
    *vlen = n->vlen;
    return 1;
}

static void hashIterEnd(hashIter *it) {
    if (it->e->enc != ENC_LISTPACK) dictIterEnd(&it->di);
}

/* ---- value callbacks (obj.c / db.c) --------------------------------------- */

void hashFreeValue(dbEntry *e) {
    if (!e->v.ptr) return;
    if (e->enc == ENC_LISTPACK) {
        lpFree(e->v.ptr);
    } else {
        dictEmpty(e->v.ptr, hashNodeFree, NULL);
        memFree(e->v.ptr);
    }
}

void *hashDupValue(const dbEntry *e) {
    if (e->enc == ENC_LISTPACK) {
        size_t n = lpBytes(e->v.ptr);
        unsigned char *lp = memAlloc(n);
        memcpy(lp, e->v.ptr, n);
        return lp;
    }
    dict *src = e->v.ptr, *d = memAlloc(sizeof(*d));
    dictInit(d, &hashDictType);
    dictExpand(d, dictSize(src));
    dictIter it;
    dictIterInit(&it, src, 0);
    for (dictNode *n; (n = dictNext(&it));) {
        const hashNode *h = (const hashNode *)n;
        dictAdd(d, &hashNodeNew(h->data, h->flen, hashNodeVal(h), h->vlen)->link);
    }
    dictIterEnd(&it);
    return d;
}

#define HASH_MEMORY_SAMPLES 64

/* Exact for a listpack; for a table: the buckets plus the node sizes, summed
 * exactly up to HASH_MEMORY_SAMPLES nodes and extrapolated beyond (eviction
 * asks often: it must stay O(1)-ish on huge hashes). */
size_t hashValueMemory(const dbEntry *e) {
    if (!e->v.ptr) return 0;
    if (e->enc == ENC_LISTPACK) return memUsableSize(e->v.ptr);
    return memUsableSize(e->v.ptr) + dictMemoryUsage(e->v.ptr, HASH_MEMORY_SAMPLES);
}

/* ---- bulk access for rdb.c (snapshots, DUMP/RESTORE) ---------------------- */

void *hashTableNew(size_t hint) {
    dict *d = memAlloc(sizeof(*d));
    dictInit(d, &hashDictType);
    if (hint) dictExpand(d, hint);
    return d;
}

int hashTableAdd(void *d, const char *f, size_t flen, const char *v, size_t vlen) {
    if (flen > UINT32_MAX || vlen > UINT32_MAX || dictFind(d, f, flen)) return 0;
    dictAdd(d, &hashNodeNew(f, flen, v, vlen)->link);
    return 1;
}

void hashTableFree(void *d) {
    dictEmpty(d, hashNodeFree, NULL);
    memFree(d);
}

unsigned long hashTypeLength(const dbEntry *e) { return hashLen(e); }

void hashTypeForEach(const dbEntry *e, int (*fn)(void *priv, const char *f, size_t flen, const char *v, size_t vlen),
                     void *priv) {
    hashIter it;
    const char *f, *v;
    size_t fl, vl;
    hashIterInit(&it, (dbEntry *)e);
    while (hashIterNext(&it, &f, &fl, &v, &vl))
        if (fn(priv, f, fl, v, vl)) break;
    hashIterEnd(&it);
}

/* ---- helpers for the commands ----------------------------------------------- */

/* A node stores lengths in 32 bits; refuse (before any change) what could
 * not be stored. Only reachable with proto-max-bulk-len raised past 4 GiB. */
static int hashArgsTooLong(client *c, int from, int to) {
    for (int j = from; j < to; j++) {
        if (c->argv[j].len > UINT32_MAX) {
            replyError(c, "string exceeds maximum allowed size (proto-max-bulk-len)");
            return 1;
        }
    }
    return 0;
}

/* The hash at argv[1] for a write, created (empty listpack, linked) when
 * missing; hashCreate when the caller already knows it is missing. NULL
 * after a WRONGTYPE reply. Callers validate everything first and always add
 * a field, so no empty hash is left behind. */
static dbEntry *hashCreate(client *c) {
    slice key = c->argv[1];
    dbEntry *e = objNewCollectionEntry(key.p, key.len, OBJ_HASH, ENC_LISTPACK, lpNew(0));
    dbInsert(c->db, e);
    return e;
}

static dbEntry *hashLookupWriteOrCreate(client *c) {
    dbEntry *e = dbLookupWrite(c->db, c->argv[1]);
    if (e) return objCheckType(c, e, OBJ_HASH) ? NULL : e;
    return hashCreate(c);
}

/* Deletes the key when its last field went away. */
static void hashDeleteIfEmpty(client *c, dbEntry *e) {
    if (hashLen(e) == 0) dbDelete(c->db, c->argv[1].p, c->argv[1].len);
}

/* ---- HSET and friends ------------------------------------------------------- */

static void hsetGeneric(client *c, int isHmset) {
    if (c->argc % 2 == 1) {
        replyErrorArity(c);
        return;
    }
    if (hashArgsTooLong(c, 2, c->argc)) return;
    dbEntry *e = hashLookupWriteOrCreate(c);
    if (!e) return;
    long long created = 0;
    for (int j = 2; j < c->argc; j += 2)
        created += hashSet(e, c->argv[j].p, c->argv[j].len, c->argv[j + 1].p, c->argv[j + 1].len);
    dbTouchKey(c->db, c->argv[1].p, c->argv[1].len);
    srv.dirty += (c->argc - 2) / 2;
    if (isHmset) replyOk(c);
    else replyLongLong(c, created);
}

static void hsetCommand(client *c) { hsetGeneric(c, 0); }
static void hmsetCommand(client *c) { hsetGeneric(c, 1); }

static void hsetnxCommand(client *c) {
    if (hashArgsTooLong(c, 2, 4)) return;
    dbEntry *e = dbLookupWrite(c->db, c->argv[1]);
    if (objCheckType(c, e, OBJ_HASH)) return;
    char buf[LP_INTBUF_SIZE];
    const char *v;
    size_t vlen;
    if (e && hashGet(e, c->argv[2].p, c->argv[2].len, buf, &v, &vlen)) {
        replyLongLong(c, 0);
        return;
    }
    if (!e) e = hashCreate(c);
    hashSet(e, c->argv[2].p, c->argv[2].len, c->argv[3].p, c->argv[3].len);
    dbTouchKey(c->db, c->argv[1].p, c->argv[1].len);
    srv.dirty++;
    replyLongLong(c, 1);
}

/* ---- reads ---------------------------------------------------------------------- */

/* The hash at argv[1] for a read; NULL when missing or (after the
 * WRONGTYPE reply, *err set) of another type. */
static dbEntry *hashLookupRead(client *c, int *err) {
    dbEntry *e = dbLookupRead(c->db, c->argv[1]);
    *err = objCheckType(c, e, OBJ_HASH);
    return *err ? NULL : e;
}

static void replyField(client *c, dbEntry *e, slice f) {
    char buf[LP_INTBUF_SIZE];
    const char *v;
    size_t vlen;
    if (e && hashGet(e, f.p, f.len, buf, &v, &vlen)) replyBulk(c, v, vlen);
    else replyNull(c);
}

static void hgetCommand(client *c) {
    int err;
    dbEntry *e = hashLookupRead(c, &err);
    if (err) return;
    replyField(c, e, c->argv[2]);
}

static void hmgetCommand(client *c) {
    int err;
    dbEntry *e = hashLookupRead(c, &err);
    if (err) return;
    replyArrayLen(c, c->argc - 2);
    for (int j = 2; j < c->argc; j++) replyField(c, e, c->argv[j]);
}

static void hlenCommand(client *c) {
    int err;
    dbEntry *e = hashLookupRead(c, &err);
    if (err) return;
    replyLongLong(c, e ? (long long)hashLen(e) : 0);
}

static void hexistsCommand(client *c) {
    int err;
    dbEntry *e = hashLookupRead(c, &err);
    if (err) return;
    char buf[LP_INTBUF_SIZE];
    const char *v;
    size_t vlen;
    replyLongLong(c, e && hashGet(e, c->argv[2].p, c->argv[2].len, buf, &v, &vlen));
}

static void hstrlenCommand(client *c) {
    int err;
    dbEntry *e = hashLookupRead(c, &err);
    if (err) return;
    char buf[LP_INTBUF_SIZE];
    const char *v;
    size_t vlen;
    replyLongLong(c, e && hashGet(e, c->argv[2].p, c->argv[2].len, buf, &v, &vlen) ? (long long)vlen : 0);
}

#define HASH_FIELDS 1
#define HASH_VALUES 2

static void hgetallGeneric(client *c, int what) {
    int err;
    dbEntry *e = hashLookupRead(c, &err);
    if (err) return;
    long n = e ? (long)hashLen(e) : 0;
    if (what == (HASH_FIELDS | HASH_VALUES)) replyMapLen(c, n);
    else replyArrayLen(c, n);
    if (!e) return;
    hashIter it;
    const char *f, *v;
    size_t fl, vl;
    hashIterInit(&it, e);
    while (hashIterNext(&it, &f, &fl, &v, &vl)) {
        if (what & HASH_FIELDS) replyBulk(c, f, fl);
        if (what & HASH_VALUES) replyBulk(c, v, vl);
    }
    hashIterEnd(&it);
}

static void hgetallCommand(client *c) { hgetallGeneric(c, HASH_FIELDS | HASH_VALUES); }
static void hkeysCommand(client *c) { hgetallGeneric(c, HASH_FIELDS); }
static void hvalsCommand(client *c) { hgetallGeneric(c, HASH_VALUES); }

/* ---- HDEL ------------------------------------------------------------------------- */

static void hdelCommand(client *c) {
    dbEntry *e = dbLookupWrite(c->db, c->argv[1]);
    if (!e) {
        replyLongLong(c, 0);
        return;
    }
    if (objCheckType(c, e, OBJ_HASH)) return;
    long long deleted = 0;
    int keyRemoved = 0;
    for (int j = 2; j < c->argc; j++) {
        if (!hashDel(e, c->argv[j].p, c->argv[j].len)) continue;
        deleted++;
        if (hashLen(e) == 0) {
            hashDeleteIfEmpty(c, e);
            keyRemoved = 1;
            break;
        }
    }
    if (deleted) {
        /* Give back table memory after big deletions, as Redis' dictResize. */
        if (!keyRemoved && e->enc == ENC_HASHTABLE) dictShrinkIfNeeded(e->v.ptr);
        if (!keyRemoved) dbTouchKey(c->db, c->argv[1].p, c->argv[1].len);
        srv.dirty += deleted;
    }
    replyLongLong(c, deleted);
}

/* ---- counters ------------------------------------------------------------------- */

static void hincrbyCommand(client *c) {
    long long incr, value = 0;
    if (getLongLongFromSliceOrReply(c, c->argv[3], &incr, NULL) == -1) return;
    if (hashArgsTooLong(c, 2, 3)) return;
    dbEntry *e = dbLookupWrite(c->db, c->argv[1]);
    if (objCheckType(c, e, OBJ_HASH)) return;
    char buf[LP_INTBUF_SIZE];
    const char *v;
    size_t vlen;
    if (e && hashGet(e, c->argv[2].p, c->argv[2].len, buf, &v, &vlen) && !string2ll(v, vlen, &value)) {
        replyError(c, "hash value is not an integer");
        return;
    }
    if ((incr < 0 && value < 0 && incr < LLONG_MIN - value) || (incr > 0 && value > 0 && incr > LLONG_MAX - value)) {
        replyError(c, "increment or decrement would overflow");
        return;
    }
    value += incr;
    char nb[LONG_STR_SIZE];
    int nl = ll2string(nb, sizeof(nb), value);
    if (!e) e = hashCreate(c);
    hashSet(e, c->argv[2].p, c->argv[2].len, nb, (size_t)nl);
    dbTouchKey(c->db, c->argv[1].p, c->argv[1].len);
    srv.dirty++;
    replyLongLong(c, value);
}

static void hincrbyfloatCommand(client *c) {
    long double incr, value = 0;
    if (getLongDoubleFromSliceOrReply(c, c->argv[3], &incr, NULL) == -1) return;
    if (isnan(incr) || isinf(incr)) {
        replyError(c, "value is NaN or Infinity");
        return;
    }
    if (hashArgsTooLong(c, 2, 3)) return;
    dbEntry *e = dbLookupWrite(c->db, c->argv[1]);
    if (objCheckType(c, e, OBJ_HASH)) return;
    char buf[LP_INTBUF_SIZE];
    const char *v;
    size_t vlen;
    if (e && hashGet(e, c->argv[2].p, c->argv[2].len, buf, &v, &vlen) && !string2ld(v, vlen, &value)) {
        replyError(c, "hash value is not a float");
        return;
    }
    value += incr;
    if (isnan(value) || isinf(value)) {
        replyError(c, "increment would produce NaN or Infinity");
        return;
    }
    char out[MAX_LONG_DOUBLE_CHARS];
    int len = ld2string(out, sizeof(out), value, 1);
    if (len <= 0) {
        replyError(c, "increment would produce NaN or Infinity");
        return;
    }
    if (!e) e = hashCreate(c);
    hashSet(e, c->argv[2].p, c->argv[2].len, out, (size_t)len);
    dbTouchKey(c->db, c->argv[1].p, c->argv[1].len);
    srv.dirty++;
    slice hset[4] = {propStr("HSET"), c->argv[1], c->argv[2], {out, (size_t)len}}; /* Redis 7.0: the result */
    propReplace(c, hset, 4);
    replyBulk(c, out, (size_t)len);
}

/* ---- HRANDFIELD ------------------------------------------------------------------ */

/* Redis 7.0 keeps producing a negative-count reply until the client hits its
 * output limit (or the server runs out of memory and dies). We stop at the
 * configured limit as Redis does, and also drop the client once its pending
 * reply passes this many bytes when no limit is set: a crash is not a
 * behaviour to copy. */
#define HRAND_REPLY_CAP (1ULL << 30)

/* Replies one picked field (and value): RESP3 nests each pair in an array. */
static void hrandReplyPair(client *c, const char *f, size_t fl, const char *v, size_t vl, int withvalues) {
    if (withvalues && c->resp > 2) replyArrayLen(c, 2);
    replyBulk(c, f, fl);
    if (withvalues) replyBulk(c, v, vl);
}

static void hrandReplyLp(client *c, unsigned char *lp, unsigned char *fp, int withvalues) {
    char fb[LP_INTBUF_SIZE], vb[LP_INTBUF_SIZE];
    size_t fl, vl = 0;
    const char *f = lpGet(fp, fb, &fl, NULL, NULL), *v = NULL;
    if (withvalues) v = lpGet(lpNext(lp, fp), vb, &vl, NULL, NULL);
    hrandReplyPair(c, f, fl, v, vl, withvalues);
}

static void hrandReplyNode(client *c, const hashNode *n, int withvalues) {
    hrandReplyPair(c, n->data, n->flen, hashNodeVal(n), n->vlen, withvalues);
}

/* 1 when a long reply must stop: the client is being closed. */
static int hrandMustStop(client *c) {
    if (c->flags & CLIENT_CLOSE_ASAP) return 1;
    if ((unsigned long long)c->replyBytes > HRAND_REPLY_CAP) {
        logWarning("Closing client %lld: HRANDFIELD reply over %llu bytes", c->id, HRAND_REPLY_CAP);
        clientFreeAsync(c);
        return 1;
    }
    return 0;
}

/* Field positions of a listpack, for O(1) random picks. */
static unsigned char **hrandLpFields(unsigned char *lp, unsigned long n) {
    unsigned char **v = memAlloc(sizeof(*v) * (n ? n : 1));
    unsigned long i = 0;
    for (unsigned char *p = lpFirst(lp); p && i < n; p = lpNext(lp, lpNext(lp, p))) v[i++] = p;
    return v;
}

static unsigned long hrandBelow(unsigned long n) {
    unsigned long r = ((unsigned long)random() << 31) ^ (unsigned long)random();
    return r % n;
}

/* Moves `count` distinct random items to the front of v[0..n). */
static void hrandPartialShuffle(void **v, unsigned long n, unsigned long count) {
    for (unsigned long i = 0; i < count && i + 1 < n; i++) {
        unsigned long j = i + hrandBelow(n - i);
        void *t = v[i];
        v[i] = v[j];
        v[j] = t;
    }
}

/* Adds p to an open-addressing set of capacity cap (a power of two): 1 when
 * it was not there yet. */
static int hrandSetAdd(void **set, size_t cap, void *p) {
    size_t i = ((uintptr_t)p >> 4) * 11400714819323198485ULL & (cap - 1);
    while (set[i]) {
        if (set[i] == p) return 0;
        i = (i + 1) & (cap - 1);
    }
    set[i] = p;
    return 1;
}

static void hrandWithCount(client *c, long l, int withvalues) {
    int err;
    dbEntry *e = hashLookupRead(c, &err);
    if (err) return;
    if (!e) {
        replyArrayLen(c, 0);
        return;
    }
    unsigned long size = hashLen(e), count;
    int uniq = 1;
    if (l >= 0) {
        count = (unsigned long)l;
    } else {
        count = (unsigned long)-l;
        uniq = 0;
    }
    if (count == 0) {
        replyArrayLen(c, 0);
        return;
    }

    /* Repeats allowed: count independent picks, in random order. */
    if (!uniq || count == 1) {
        replyArrayLen(c, (long)(withvalues && c->resp == 2 ? count * 2 : count));
        if (e->enc == ENC_LISTPACK) {
            unsigned char *lp = e->v.ptr, **fields = hrandLpFields(lp, size);
            while (count--) {
                hrandReplyLp(c, lp, fields[hrandBelow(size)], withvalues);
                if ((count & 1023) == 0 && hrandMustStop(c)) break;
            }
            memFree(fields);
        } else {
            while (count--) {
                hrandReplyNode(c, (hashNode *)dictRandomNode(e->v.ptr), withvalues);
                if ((count & 1023) == 0 && hrandMustStop(c)) break;
            }
        }
        return;
    }

    unsigned long n = count < size ? count : size;
    replyArrayLen(c, (long)(withvalues && c->resp == 2 ? n * 2 : n));

    /* The whole hash. */
    if (count >= size) {
        hashIter it;
        const char *f, *v;
        size_t fl, vl;
        hashIterInit(&it, e);
        while (hashIterNext(&it, &f, &fl, &v, &vl)) hrandReplyPair(c, f, fl, v, vl, withvalues);
        hashIterEnd(&it);
        return;
    }

    if (e->enc == ENC_LISTPACK) {
        unsigned char *lp = e->v.ptr, **fields = hrandLpFields(lp, size);
        hrandPartialShuffle((void **)fields, size, count);
        for (unsigned long i = 0; i < count; i++) hrandReplyLp(c, lp, fields[i], withvalues);
        memFree(fields);
        return;
    }

    dict *d = e->v.ptr;
    if (count * 3 > size) {
        /* A large share of the hash: shuffle all of it (O(size) = O(count)). */
        void **nodes = memAlloc(sizeof(*nodes) * size);
        unsigned long i = 0;
        dictIter it;
        dictIterInit(&it, d, 0);
        for (dictNode *x; i < size && (x = dictNext(&it));) nodes[i++] = x;
        dictIterEnd(&it);
        hrandPartialShuffle(nodes, i, count);
        for (unsigned long j = 0; j < count && j < i; j++) hrandReplyNode(c, nodes[j], withvalues);
        memFree(nodes);
        return;
    }

    /* A small share: random picks until count distinct ones. */
    size_t cap = 16;
    while (cap < (size_t)count * 2) cap <<= 1;
    void **set = memCalloc(sizeof(*set) * cap);
    unsigned long got = 0;
    while (got < count) {
        dictNode *x = dictRandomNode(d);
        if (!hrandSetAdd(set, cap, x)) continue;
        hrandReplyNode(c, (hashNode *)x, withvalues);
        got++;
    }
    memFree(set);
}

static void hrandfieldCommand(client *c) {
    if (c->argc >= 3) {
        long long l;
        if (getLongLongFromSliceOrReply(c, c->argv[2], &l, NULL) == -1) return;
        if (l < -LONG_MAX) {
            replyErrorFormat(c, "value is out of range, value must between %ld and %ld", -LONG_MAX, LONG_MAX);
            return;
        }
        int withvalues = 0;
        if (c->argc > 4 || (c->argc == 4 && !sliceEqNocase(c->argv[3], "withvalues"))) {
            replyErrorSyntax(c);
            return;
        }
        if (c->argc == 4) {
            withvalues = 1;
            /* The RESP2 reply length is 2*count: must not overflow. */
            if (l < -LONG_MAX / 2 || l > LONG_MAX / 2) {
                replyError(c, "value is out of range");
                return;
            }
        }
        hrandWithCount(c, (long)l, withvalues);
        return;
    }
    int err;
    dbEntry *e = hashLookupRead(c, &err);
    if (err) return;
    if (!e) {
        replyNull(c);
        return;
    }
    if (e->enc == ENC_LISTPACK) {
        unsigned char *lp = e->v.ptr;
        char fb[LP_INTBUF_SIZE];
        size_t fl;
        const char *f = lpGet(lpSeek(lp, (long)(2 * hrandBelow(hashLen(e)))), fb, &fl, NULL, NULL);
        replyBulk(c, f, fl);
    } else {
        hashNode *n = (hashNode *)dictRandomNode(e->v.ptr);
        replyBulk(c, n->data, n->flen);
    }
}

/* ---- HSCAN ------------------------------------------------------------------------ */

/* As Redis' parseScanCursorOrReply (strtoul): a leading sign is accepted (a
 * '-' wraps) and "" means 0; leading space, trailing bytes or overflow
 * are not. */
static int hashParseCursorOrReply(client *c, slice s, unsigned long *cursor) {
    char local[64];
    char *buf = s.len < sizeof(local) ? local : memAlloc(s.len + 1);
    memcpy(buf, s.p, s.len);
    buf[s.len] = '\0';
    char *end;
    errno = 0;
    *cursor = strtoul(buf, &end, 10);
    int bad = buf[0] == ' ' || (buf[0] >= '\t' && buf[0] <= '\r') || end[0] != '\0' || errno == ERANGE;
    if (buf != local) memFree(buf);
    if (bad) {
        replyError(c, "invalid cursor");
        return -1;
    }
    return 0;
}

typedef struct hscanState {
    hashNode **found;
    size_t n, cap;
    unsigned long visited; /* fields met, matching or not: COUNT's unit */
    slice pat;
    int usePattern;
} hscanState;

static void hscanCb(void *priv, dictNode *node) {
    hscanState *s = priv;
    hashNode *h = (hashNode *)node;
    s->visited++;
    if (s->usePattern && !globMatch(s->pat.p, s->pat.len, h->data, h->flen, 0)) return;
    if (s->n == s->cap) {
        s->cap = s->cap ? s->cap * 2 : 32;
        s->found = memRealloc(s->found, s->cap * sizeof(*s->found)); // NOLINT(bugprone-sizeof-expression): an array of pointers
    }
    s->found[s->n++] = h;
}

static void hscanCommand(client *c) {
    unsigned long cursor;
    if (hashParseCursorOrReply(c, c->argv[2], &cursor) == -1) return;
    int err;
    dbEntry *e = hashLookupRead(c, &err);
    if (err) return;
    if (!e) {
        replyArrayLen(c, 2);
        replyBulk(c, "0", 1);
        replyArrayLen(c, 0);
        return;
    }
    hscanState s;
    memset(&s, 0, sizeof(s));
    long count = 10;
    for (int i = 3; i < c->argc; i += 2) {
        int more = c->argc - i;
        if (sliceEqNocase(c->argv[i], "count") && more >= 2) {
            if (getLongFromSliceOrReply(c, c->argv[i + 1], &count, NULL) == -1) return;
            if (count < 1) {
                replyErrorSyntax(c);
                return;
            }
        } else if (sliceEqNocase(c->argv[i], "match") && more >= 2) {
            s.pat = c->argv[i + 1];
            s.usePattern = !(s.pat.len == 1 && s.pat.p[0] == '*');
        } else {
            replyErrorSyntax(c);
            return;
        }
    }

    if (e->enc == ENC_LISTPACK) {
        /* A compact hash is returned whole, with cursor 0, as Redis does. */
        unsigned char *lp = e->v.ptr;
        char fb[LP_INTBUF_SIZE], vb[LP_INTBUF_SIZE];
        long matched = 0;
        if (s.usePattern) {
            for (unsigned char *p = lpFirst(lp); p; p = lpNext(lp, lpNext(lp, p))) {
                size_t fl;
                const char *f = lpGet(p, fb, &fl, NULL, NULL);
                matched += globMatch(s.pat.p, s.pat.len, f, fl, 0) != 0;
            }
        } else {
            matched = (long)hashLen(e);
        }
        replyArrayLen(c, 2);
        replyBulk(c, "0", 1);
        replyArrayLen(c, matched * 2);
        for (unsigned char *p = lpFirst(lp); p;) {
            unsigned char *vp = lpNext(lp, p);
            size_t fl, vl;
            const char *f = lpGet(p, fb, &fl, NULL, NULL);
            if (!s.usePattern || globMatch(s.pat.p, s.pat.len, f, fl, 0)) {
                replyBulk(c, f, fl);
                const char *v = lpGet(vp, vb, &vl, NULL, NULL);
                replyBulk(c, v, vl);
            }
            p = lpNext(lp, vp);
        }
        return;
    }

    /* At most 10*COUNT buckets per call, as Redis: a sparse table returns
     * few fields rather than stalling the loop. */
    dict *d = e->v.ptr;
    long maxIterations = count > LONG_MAX / 10 ? LONG_MAX : count * 10;
    do {
        cursor = dictScan(d, cursor, hscanCb, &s);
    } while (cursor && maxIterations-- && s.visited < (unsigned long)count);

    char cbuf[32];
    int clen = snprintf(cbuf, sizeof(cbuf), "%lu", cursor);
    replyArrayLen(c, 2);
    replyBulk(c, cbuf, (size_t)clen);
    replyArrayLen(c, (long)s.n * 2);
    for (size_t i = 0; i < s.n; i++) {
        replyBulk(c, s.found[i]->data, s.found[i]->flen);
        replyBulk(c, hashNodeVal(s.found[i]), s.found[i]->vlen);
    }
    memFree(s.found);
}

/* ---- command table ------------------------------------------------------------------ */

#define HKEY .firstKey = 1, .lastKey = 1, .keyStep = 1, .group = "hash"

cmdDef hashCommands[] = {
    {.name = "hset", .proc = hsetCommand, .arity = -4, .flags = CMD_WRITE | CMD_DENYOOM | CMD_FAST, .acl = ACL_HASH,
     HKEY, .since = "2.0.0", .summary = "Set the string value of a hash field",
     .complexity = "O(1) for each field/value pair added, so O(N) to add N field/value pairs when the command is "
                   "called with multiple field/value pairs."},
    {.name = "hsetnx", .proc = hsetnxCommand, .arity = 4, .flags = CMD_WRITE | CMD_DENYOOM | CMD_FAST,
     .acl = ACL_HASH, HKEY, .since = "2.0.0", .summary = "Set the value of a hash field, only if the field does not exist",
     .complexity = "O(1)"},
    {.name = "hget", .proc = hgetCommand, .arity = 3, .flags = CMD_READONLY | CMD_FAST, .acl = ACL_HASH, HKEY,
     .since = "2.0.0", .summary = "Get the value of a hash field", .complexity = "O(1)"},
    {.name = "hmset", .proc = hmsetCommand, .arity = -4, .flags = CMD_WRITE | CMD_DENYOOM | CMD_FAST,
     .acl = ACL_HASH, HKEY, .since = "2.0.0", .summary = "Set multiple hash fields to multiple values",
     .complexity = "O(N) where N is the number of fields being set."},
    {.name = "hmget", .proc = hmgetCommand, .arity = -3, .flags = CMD_READONLY | CMD_FAST, .acl = ACL_HASH, HKEY,
     .since = "2.0.0", .summary = "Get the values of all the given hash fields",
     .complexity = "O(N) where N is the number of fields being requested."},
    {.name = "hdel", .proc = hdelCommand, .arity = -3, .flags = CMD_WRITE | CMD_FAST, .acl = ACL_HASH, HKEY,
     .since = "2.0.0", .summary = "Delete one or more hash fields",
     .complexity = "O(N) where N is the number of fields to be removed."},
    {.name = "hgetall", .proc = hgetallCommand, .arity = 2, .flags = CMD_READONLY, .acl = ACL_HASH, HKEY,
     .since = "2.0.0", .summary = "Get all the fields and values in a hash",
     .complexity = "O(N) where N is the size of the hash."},
    {.name = "hkeys", .proc = hkeysCommand, .arity = 2, .flags = CMD_READONLY, .acl = ACL_HASH, HKEY,
     .since = "2.0.0", .summary = "Get all the fields in a hash", .complexity = "O(N) where N is the size of the hash."},
    {.name = "hvals", .proc = hvalsCommand, .arity = 2, .flags = CMD_READONLY, .acl = ACL_HASH, HKEY,
     .since = "2.0.0", .summary = "Get all the values in a hash", .complexity = "O(N) where N is the size of the hash."},
    {.name = "hlen", .proc = hlenCommand, .arity = 2, .flags = CMD_READONLY | CMD_FAST, .acl = ACL_HASH, HKEY,
     .since = "2.0.0", .summary = "Get the number of fields in a hash", .complexity = "O(1)"},
    {.name = "hexists", .proc = hexistsCommand, .arity = 3, .flags = CMD_READONLY | CMD_FAST, .acl = ACL_HASH, HKEY,
     .since = "2.0.0", .summary = "Determine if a hash field exists", .complexity = "O(1)"},
    {.name = "hstrlen", .proc = hstrlenCommand, .arity = 3, .flags = CMD_READONLY | CMD_FAST, .acl = ACL_HASH, HKEY,
     .since = "3.2.0", .summary = "Get the length of the value of a hash field", .complexity = "O(1)"},
    {.name = "hincrby", .proc = hincrbyCommand, .arity = 4, .flags = CMD_WRITE | CMD_DENYOOM | CMD_FAST,
     .acl = ACL_HASH, HKEY, .since = "2.0.0", .summary = "Increment the integer value of a hash field by the given number",
     .complexity = "O(1)"},
    {.name = "hincrbyfloat", .proc = hincrbyfloatCommand, .arity = 4, .flags = CMD_WRITE | CMD_DENYOOM | CMD_FAST,
     .acl = ACL_HASH, HKEY, .since = "2.6.0", .summary = "Increment the float value of a hash field by the given amount",
     .complexity = "O(1)"},
    {.name = "hrandfield", .proc = hrandfieldCommand, .arity = -2, .flags = CMD_READONLY, .acl = ACL_HASH, HKEY,
     .since = "6.2.0", .summary = "Get one or multiple random fields from a hash",
     .complexity = "O(N) where N is the number of fields returned"},
    {.name = "hscan", .proc = hscanCommand, .arity = -3, .flags = CMD_READONLY, .acl = ACL_HASH, HKEY,
     .since = "2.8.0", .summary = "Incrementally iterate hash fields and associated values",
     .complexity = "O(1) for every call. O(N) for a complete iteration, including enough command calls for the "
                   "cursor to return back to 0. N is the number of elements inside the collection.."},
    {0}};
