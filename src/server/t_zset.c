/* t_zset.c - the sorted-set commands (ZADD ... ZSCAN, BZPOPMIN/BZPOPMAX/
 * BZMPOP) on top of zset.c's data structure.
 *
 * Owns: argument parsing, reply shapes (RESP2 flat [member, score, ...],
 * RESP3 [[member, double], ...] as Redis 7.0) and the keyspace side of every
 * sorted-set write (creation, deletion when emptied, dirty, WATCH).
 * Never: leave an empty sorted set in the keyspace, change anything when
 * answering an error, or block the loop (blocking goes through block.c). */
#include "zset.h"
#include "db.h"
#include "client.h"
#include "reply.h"
#include "cmd.h"
#include "block.h"
#include "args.h"
#include "propagate.h"
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* ---- value hooks (obj.c / db.c) ------------------------------------------ */

void zsetFreeValue(dbEntry *e) {
    if (!e->v.ptr) return;
    if (e->enc == ENC_LISTPACK) lpFree(e->v.ptr);
    else zsetFreeSkiplist(e->v.ptr);
    e->v.ptr = NULL;
}

void *zsetDupValue(const dbEntry *e) {
    if (e->enc == ENC_LISTPACK) {
        size_t n = lpBytes(e->v.ptr);
        unsigned char *lp = memAlloc(n);
        memcpy(lp, e->v.ptr, n);
        return lp;
    }
    const zset *src = e->v.ptr;
    zset *zs = zsetNewSkiplist();
    dictExpand(&zs->d, src->zsl.length);
    for (zslNode *n = src->zsl.header->level[0].forward; n; n = n->level[0].forward)
        zsetSkiplistInsert(zs, n->score, zslNodeMember(n), n->len);
    return zs;
}

/* Skip lists are sampled (first nodes) like Redis' MEMORY USAGE: exact
 * would be O(n) per call, and eviction calls this often. */
size_t zsetValueMemory(const dbEntry *e) {
    if (!e->v.ptr) return 0;
    if (e->enc == ENC_LISTPACK) return memUsableSize(e->v.ptr);
    zset *zs = e->v.ptr;
    size_t total = memUsableSize(zs) + memUsableSize(zs->zsl.header) + dictBuckets(&zs->d) * sizeof(void *);
    size_t sampled = 0, bytes = 0;
    for (zslNode *n = zs->zsl.header->level[0].forward; n && sampled < 32; n = n->level[0].forward, sampled++)
        bytes += memUsableSize(n);
    if (sampled) total += (size_t)((double)bytes / (double)sampled * (double)zs->zsl.length);
    return total;
}

/* ---- helpers ------------------------------------------------------------ */

/* Reads key; replies WRONGTYPE and returns -1 for another type. */
static int lookupRead(client *c, slice key, dbEntry **e) {
    *e = dbLookupRead(c->db, key);
    return objCheckType(c, *e, OBJ_ZSET) ? -1 : 0;
}
static int lookupWrite(client *c, slice key, dbEntry **e) {
    *e = dbLookupWrite(c->db, key);
    return objCheckType(c, *e, OBJ_ZSET) ? -1 : 0;
}

/* After removing members: drop the key when empty, else notify WATCH. */
static void afterRemove(client *c, slice key, dbEntry *e, long long removed) {
    if (!removed) return;
    srv.dirty += removed;
    if (zsetLength(e) == 0) dbDelete(c->db, key.p, key.len);
    else dbTouchKey(c->db, key.p, key.len);
}

/* Header of a list of n elements, with scores or not, in c's protocol. */
static void replyElemsLen(client *c, long n, int withscores) {
    replyArrayLen(c, withscores && c->resp == 2 ? n * 2 : n);
}
static void replyElem(client *c, const char *m, size_t len, double score, int withscores) {
    if (withscores && c->resp > 2) replyArrayLen(c, 2);
    replyBulk(c, m, len);
    if (withscores) replyDouble(c, score);
}

/* A detached entry collecting a result (ZRANGESTORE); stored or freed. */
static dbEntry *builderNew(size_t sizeHint) {
    int enc;
    void *p = zsetNewValue(sizeHint, 0, &enc);
    return objNewCollectionEntry("", 0, OBJ_ZSET, enc, p);
}

/* Stores b under dst (replacing any value and TTL), or deletes dst when b is
 * empty. Consumes b; returns the stored length. */
static long builderStore(client *c, slice dst, dbEntry *b) {
    long n = (long)zsetLength(b);
    if (n == 0) {
        dbEntryFree(b);
        if (dbDelete(c->db, dst.p, dst.len)) srv.dirty++;
        return 0;
    }
    dbEntry *e = objNewCollectionEntry(dst.p, dst.len, OBJ_ZSET, b->enc, b->v.ptr);
    b->type = OBJ_STRING; /* the value moved: freeing b must not free it */
    b->enc = ENC_INLINE;
    b->v.len = 0;
    dbEntryFree(b);
    dbSetKey(c->db, e, 0);
    srv.dirty++;
    return n;
}

/* ---- ZADD / ZINCRBY ------------------------------------------------------- */

static void zaddGeneric(client *c, int flags) {
    slice key = c->argv[1];
    int ch = 0, j = 2;
    for (; j < c->argc; j++) {
        slice a = c->argv[j];
        if (sliceEqNocase(a, "nx")) flags |= ZADD_IN_NX;
        else if (sliceEqNocase(a, "xx")) flags |= ZADD_IN_XX;
        else if (sliceEqNocase(a, "ch")) ch = 1;
        else if (sliceEqNocase(a, "incr")) flags |= ZADD_IN_INCR;
        else if (sliceEqNocase(a, "gt")) flags |= ZADD_IN_GT;
        else if (sliceEqNocase(a, "lt")) flags |= ZADD_IN_LT;
        else break;
    }
    int incr = (flags & ZADD_IN_INCR) != 0;
    int nx = (flags & ZADD_IN_NX) != 0, xx = (flags & ZADD_IN_XX) != 0;
    int gt = (flags & ZADD_IN_GT) != 0, lt = (flags & ZADD_IN_LT) != 0;
    int elements = c->argc - j;
    if (elements % 2 || elements == 0) {
        replyErrorSyntax(c);
        return;
    }
    elements /= 2;
    if (nx && xx) {
        replyError(c, "XX and NX options at the same time are not compatible");
        return;
    }
    if ((gt && nx) || (lt && nx) || (gt && lt)) {
        replyError(c, "GT, LT, and/or NX options at the same time are not compatible");
        return;
    }
    if (incr && elements > 1) {
        replyError(c, "INCR option supports a single increment-element pair");
        return;
    }
    double scorebuf[16];
    double *scores = elements <= 16 ? scorebuf : memAlloc(sizeof(double) * (size_t)elements);
    for (int i = 0; i < elements; i++)
        if (getDoubleFromSliceOrReply(c, c->argv[j + 2 * i], &scores[i], NULL) == -1) goto cleanup;
    dbEntry *e;
    if (lookupWrite(c, key, &e) == -1) goto cleanup;
    int created = 0;
    if (!e) {
        if (xx) { /* nothing to update: no key is created */
            if (incr) replyNull(c);
            else replyLongLong(c, 0);
            goto cleanup;
        }
        /* Sized as Redis 7.0 sizes it: by the first member alone. The adds
         * below convert as members really arrive, so repeated members in
         * one ZADD do not count twice towards zset-max-listpack-entries. */
        int enc;
        void *p = zsetNewValue(1, c->argv[j + 1].len, &enc);
        e = objNewCollectionEntry(key.p, key.len, OBJ_ZSET, enc, p);
        created = 1;
    }
    long long added = 0, updated = 0, processed = 0;
    double score = 0;
    for (int i = 0; i < elements; i++) {
        slice m = c->argv[j + 2 * i + 1];
        int out;
        if (!zsetAdd(e, scores[i], m.p, m.len, flags, &out, &score)) {
            /* Only an increment of an existing member can make NaN, so the
             * key existed and nothing changed. */
            replyError(c, "resulting score is not a number (NaN)");
            goto cleanup;
        }
        if (out & ZADD_OUT_ADDED) added++;
        if (out & ZADD_OUT_UPDATED) updated++;
        if (!(out & ZADD_OUT_NOP)) processed++;
    }
    if (created) {
        if (zsetLength(e)) dbInsert(c->db, e);
        else dbEntryFree(e);
    } else if (added || updated) {
        dbTouchKey(c->db, key.p, key.len);
    }
    srv.dirty += added + updated;
    if (incr) {
        if (processed) replyDouble(c, score);
        else replyNull(c);
    } else {
        replyLongLong(c, ch ? added + updated : added);
    }
cleanup:
    if (scores != scorebuf) memFree(scores);
}

static void zaddCommand(client *c) { zaddGeneric(c, 0); }

static void zincrbyCommand(client *c) {
    /* ZINCRBY key increment member == ZADD key INCR increment member */
    slice key = c->argv[1];
    double incr;
    if (getDoubleFromSliceOrReply(c, c->argv[2], &incr, NULL) == -1) return;
    dbEntry *e;
    if (lookupWrite(c, key, &e) == -1) return;
    int created = 0;
    if (!e) {
        int enc;
        void *p = zsetNewValue(1, c->argv[3].len, &enc);
        e = objNewCollectionEntry(key.p, key.len, OBJ_ZSET, enc, p);
        created = 1;
    }
    int out;
    double score = 0;
    if (!zsetAdd(e, incr, c->argv[3].p, c->argv[3].len, ZADD_IN_INCR, &out, &score)) {
        if (created) dbEntryFree(e);
        replyError(c, "resulting score is not a number (NaN)");
        return;
    }
    if (created) dbInsert(c->db, e);
    else dbTouchKey(c->db, key.p, key.len);
    srv.dirty++;
    replyDouble(c, score);
}

/* ---- simple reads and ZREM ----------------------------------------------- */

static void zremCommand(client *c) {
    slice key = c->argv[1];
    dbEntry *e;
    if (lookupWrite(c, key, &e) == -1) return;
    long long deleted = 0;
    if (e) {
        for (int j = 2; j < c->argc; j++) {
            if (zsetDel(e, c->argv[j].p, c->argv[j].len)) deleted++;
            if (zsetLength(e) == 0) break;
        }
        afterRemove(c, key, e, deleted);
    }
    replyLongLong(c, deleted);
}

static void zscoreCommand(client *c) {
    dbEntry *e;
    if (lookupRead(c, c->argv[1], &e) == -1) return;
    double s;
    if (e && zsetScore(e, c->argv[2].p, c->argv[2].len, &s)) replyDouble(c, s);
    else replyNull(c);
}

static void zmscoreCommand(client *c) {
    dbEntry *e;
    if (lookupRead(c, c->argv[1], &e) == -1) return;
    replyArrayLen(c, c->argc - 2);
    for (int j = 2; j < c->argc; j++) {
        double s;
        if (e && zsetScore(e, c->argv[j].p, c->argv[j].len, &s)) replyDouble(c, s);
        else replyNull(c);
    }
}

static void zcardCommand(client *c) {
    dbEntry *e;
    if (lookupRead(c, c->argv[1], &e) == -1) return;
    replyLongLong(c, e ? (long long)zsetLength(e) : 0);
}

static void zcountCommand(client *c) {
    zrangespec r;
    if (zsetParseRange(c->argv[2], c->argv[3], &r) == -1) {
        replyError(c, "min or max is not a float");
        return;
    }
    dbEntry *e;
    if (lookupRead(c, c->argv[1], &e) == -1) return;
    long f, l;
    replyLongLong(c, e ? (long long)zsetScoreRangeRanks(e, &r, &f, &l) : 0);
}

static void zlexcountCommand(client *c) {
    zlexrangespec r;
    if (zsetParseLexRange(c->argv[2], c->argv[3], &r) == -1) {
        replyError(c, "min or max not valid string range item");
        return;
    }
    dbEntry *e;
    if (lookupRead(c, c->argv[1], &e) == -1) return;
    replyLongLong(c, e ? zsetLexCount(e, &r) : 0);
}

/* ZRANK/ZREVRANK key member [WITHSCORE] (WITHSCORE as Redis 7.2). */
static void zrankGeneric(client *c, int reverse) {
    int withscore = 0;
    if (c->argc > 4) {
        replyErrorArity(c);
        return;
    }
    if (c->argc == 4) {
        if (!sliceEqNocase(c->argv[3], "withscore")) {
            replyErrorSyntax(c);
            return;
        }
        withscore = 1;
    }
    dbEntry *e;
    if (lookupRead(c, c->argv[1], &e) == -1) return;
    double s = 0;
    long rank = e ? zsetRank(e, c->argv[2].p, c->argv[2].len, reverse, &s) : -1;
    if (rank < 0) {
        if (withscore) replyNullArray(c);
        else replyNull(c);
        return;
    }
    if (withscore) {
        replyArrayLen(c, 2);
        replyLongLong(c, rank);
        replyDouble(c, s);
    } else {
        replyLongLong(c, rank);
    }
}
static void zrankCommand(client *c) { zrankGeneric(c, 0); }
static void zrevrankCommand(client *c) { zrankGeneric(c, 1); }

/* ---- ZRANGE family ------------------------------------------------------- */

#define RANGE_AUTO 0
#define RANGE_RANK 1
#define RANGE_SCORE 2
#define RANGE_LEX 3
#define DIR_AUTO 0
#define DIR_FWD 1
#define DIR_REV 2

/* Emits n elements walking from rank `start` (counted in the direction). */
/* Emits up to n members from rank `start` (counted in the direction),
 * into store or as the reply. With lex, a BYLEX walk: it also stops at the
 * first member past the far bound, so its length is only known at the end
 * (a deferred reply length; BYLEX has no WITHSCORES). */
static void emitRange(client *c, dbEntry *e, dbEntry *store, long start, long n, int reverse, int withscores,
                      const zlexrangespec *lex) {
    void *deferred = NULL;
    if (!store) {
        if (lex) deferred = replyDeferredLen(c);
        else replyElemsLen(c, n, withscores);
    }
    zsetIter it;
    zsetIterInit(&it, e, start, reverse);
    const char *m;
    size_t len;
    double s;
    long i = 0;
    for (; i < n && zsetIterNext(&it, &m, &len, &s); i++) {
        if (lex && !zsetLexFarBoundHolds(m, len, lex, reverse)) break;
        if (store) {
            int out;
            zsetAdd(store, s, m, len, 0, &out, NULL);
        } else {
            replyElem(c, m, len, s, withscores);
        }
    }
    if (deferred) replySetDeferredArrayLen(c, deferred, i);
}

/* Redis' zrangeGenericCommand: argv[argcStart] is the source key, then min,
 * max and options; dst (store) is argv[1] for ZRANGESTORE. */
static void zrangeGeneric(client *c, int argcStart, int store, int rangetype, int direction) {
    slice key = c->argv[argcStart];
    int minidx = argcStart + 1, maxidx = argcStart + 2;
    int withscores = 0;
    long offset = 0, limit = -1;
    int haveLimit = 0;
    for (int j = argcStart + 3; j < c->argc; j++) {
        int left = c->argc - j - 1;
        slice a = c->argv[j];
        if (!store && sliceEqNocase(a, "withscores")) {
            withscores = 1;
        } else if (sliceEqNocase(a, "limit") && left >= 2) {
            if (getLongFromSliceOrReply(c, c->argv[j + 1], &offset, NULL) == -1 ||
                getLongFromSliceOrReply(c, c->argv[j + 2], &limit, NULL) == -1)
                return;
            haveLimit = 1;
            j += 2;
        } else if (direction == DIR_AUTO && sliceEqNocase(a, "rev")) {
            direction = DIR_REV;
        } else if (rangetype == RANGE_AUTO && sliceEqNocase(a, "bylex")) {
            rangetype = RANGE_LEX;
        } else if (rangetype == RANGE_AUTO && sliceEqNocase(a, "byscore")) {
            rangetype = RANGE_SCORE;
        } else {
            replyErrorSyntax(c);
            return;
        }
    }
    if (direction == DIR_AUTO) direction = DIR_FWD;
    if (rangetype == RANGE_AUTO) rangetype = RANGE_RANK;
    if (haveLimit && limit != -1 && rangetype == RANGE_RANK) {
        replyError(c, "syntax error, LIMIT is only supported in combination with either BYSCORE or BYLEX");
        return;
    }
    if (withscores && rangetype == RANGE_LEX) {
        replyError(c, "syntax error, WITHSCORES not supported in combination with BYLEX");
        return;
    }
    int reverse = direction == DIR_REV;
    if (reverse && rangetype != RANGE_RANK) { /* given as max, min */
        int t = minidx;
        minidx = maxidx;
        maxidx = t;
    }
    long start = 0, end = 0;
    zrangespec range;
    zlexrangespec lex;
    switch (rangetype) {
    case RANGE_RANK:
        if (getLongFromSliceOrReply(c, c->argv[minidx], &start, NULL) == -1 ||
            getLongFromSliceOrReply(c, c->argv[maxidx], &end, NULL) == -1)
            return;
        break;
    case RANGE_SCORE:
        if (zsetParseRange(c->argv[minidx], c->argv[maxidx], &range) == -1) {
            replyError(c, "min or max is not a float");
            return;
        }
        break;
    default:
        if (zsetParseLexRange(c->argv[minidx], c->argv[maxidx], &lex) == -1) {
            replyError(c, "min or max not valid string range item");
            return;
        }
    }
    dbEntry *e;
    if (lookupRead(c, key, &e) == -1) return;
    long n = 0, from = 0;
    if (e) {
        long len = (long)zsetLength(e);
        if (rangetype == RANGE_RANK) {
            if (start < 0) start += len;
            if (end < 0) end += len;
            if (start < 0) start = 0;
            if (!(start > end || start >= len)) {
                if (end >= len) end = len - 1;
                from = start;
                n = end - start + 1;
            }
        } else if (rangetype == RANGE_LEX) {
            if (zsetLexRangeStart(e, &lex, reverse, offset, &from)) n = limit < 0 ? LONG_MAX : limit;
        } else {
            long f = 0, l = -1;
            unsigned long cnt = zsetScoreRangeRanks(e, &range, &f, &l);
            if (cnt && offset >= 0) {
                if (reverse) { /* ranks counted from the top */
                    long t = len - 1 - l;
                    l = len - 1 - f;
                    f = t;
                }
                if (offset <= l - f) { /* not f + offset > l: offset may be LONG_MAX */
                    from = f + offset;
                    n = l - from + 1;
                    if (limit >= 0 && limit < n) n = limit;
                }
            }
        }
    }
    const zlexrangespec *walk = rangetype == RANGE_LEX ? &lex : NULL;
    if (store) {
        dbEntry *b = builderNew(walk ? 0 : (size_t)n); /* a walk's size is unknown: adds convert */
        if (n) emitRange(c, e, b, from, n, reverse, 0, walk);
        replyLongLong(c, builderStore(c, c->argv[1], b));
        return;
    }
    if (!e || n == 0) {
        replyArrayLen(c, 0);
        return;
    }
    emitRange(c, e, NULL, from, n, reverse, withscores, walk);
}

static void zrangeCommand(client *c) { zrangeGeneric(c, 1, 0, RANGE_AUTO, DIR_AUTO); }
static void zrevrangeCommand(client *c) { zrangeGeneric(c, 1, 0, RANGE_RANK, DIR_REV); }
static void zrangebyscoreCommand(client *c) { zrangeGeneric(c, 1, 0, RANGE_SCORE, DIR_FWD); }
static void zrevrangebyscoreCommand(client *c) { zrangeGeneric(c, 1, 0, RANGE_SCORE, DIR_REV); }
static void zrangebylexCommand(client *c) { zrangeGeneric(c, 1, 0, RANGE_LEX, DIR_FWD); }
static void zrevrangebylexCommand(client *c) { zrangeGeneric(c, 1, 0, RANGE_LEX, DIR_REV); }
static void zrangestoreCommand(client *c) { zrangeGeneric(c, 2, 1, RANGE_AUTO, DIR_AUTO); }

/* ---- ZREMRANGEBY* -------------------------------------------------------- */

static void zremrangeGeneric(client *c, int rangetype) {
    slice key = c->argv[1];
    long start = 0, end = 0;
    zrangespec range;
    zlexrangespec lex;
    if (rangetype == RANGE_RANK) {
        if (getLongFromSliceOrReply(c, c->argv[2], &start, NULL) == -1 ||
            getLongFromSliceOrReply(c, c->argv[3], &end, NULL) == -1)
            return;
    } else if (rangetype == RANGE_SCORE) {
        if (zsetParseRange(c->argv[2], c->argv[3], &range) == -1) {
            replyError(c, "min or max is not a float");
            return;
        }
    } else if (zsetParseLexRange(c->argv[2], c->argv[3], &lex) == -1) {
        replyError(c, "min or max not valid string range item");
        return;
    }
    dbEntry *e;
    if (lookupWrite(c, key, &e) == -1) return;
    if (!e) {
        replyLongLong(c, 0);
        return;
    }
    long len = (long)zsetLength(e), f = 0, l = -1;
    if (rangetype == RANGE_RANK) {
        if (start < 0) start += len;
        if (end < 0) end += len;
        if (start < 0) start = 0;
        if (!(start > end || start >= len)) {
            if (end >= len) end = len - 1;
            f = start;
            l = end;
        }
    } else if (rangetype == RANGE_SCORE) {
        zsetScoreRangeRanks(e, &range, &f, &l);
    } else {
        long n = zsetLexDeleteRanks(e, &lex, &f);
        l = f + n - 1;
    }
    long long deleted = l >= f ? (long long)zsetDeleteRankRange(e, f, l) : 0;
    afterRemove(c, key, e, deleted);
    replyLongLong(c, deleted);
}
static void zremrangebyrankCommand(client *c) { zremrangeGeneric(c, RANGE_RANK); }
static void zremrangebyscoreCommand(client *c) { zremrangeGeneric(c, RANGE_SCORE); }
static void zremrangebylexCommand(client *c) { zremrangeGeneric(c, RANGE_LEX); }

/* ---- pops ------------------------------------------------------------------ */

#define ZSET_MIN 0
#define ZSET_MAX 1

/* Pops up to count members from the first non-empty key of keys (Redis'
 * genericZpopCommand). Returns 1 when something was served (or an error
 * replied), 0 when every key was missing (nothing replied). */
static int zpopServe(client *c, slice *keys, int nkeys, int where, int emitkey, long count, int nested) {
    dbEntry *e = NULL;
    slice key = {0};
    for (int i = 0; i < nkeys; i++) {
        if (lookupWrite(c, keys[i], &e) == -1) return 1;
        if (e) {
            key = keys[i];
            break;
        }
    }
    if (!e) return 0;
    long len = (long)zsetLength(e);
    long n = count > len ? len : count;
    if (!nested && !emitkey) {
        replyArrayLen(c, n * 2);
    } else if (nested && !emitkey) {
        replyArrayLen(c, n);
    } else if (!nested && emitkey) {
        replyArrayLen(c, n * 2 + 1);
        replySlice(c, key);
    } else {
        replyArrayLen(c, 2);
        replySlice(c, key);
        replyArrayLen(c, n);
    }
    zsetIter it;
    zsetIterInit(&it, e, 0, where == ZSET_MAX);
    const char *m;
    size_t mlen;
    double s;
    for (long i = 0; i < n && zsetIterNext(&it, &m, &mlen, &s); i++) {
        if (nested) replyArrayLen(c, 2);
        replyBulk(c, m, mlen);
        replyDouble(c, s);
    }
    if (where == ZSET_MIN) zsetDeleteRankRange(e, 0, n - 1);
    else zsetDeleteRankRange(e, len - n, len - 1);
    afterRemove(c, key, e, n);
    if (emitkey) {
        /* Several keys, or a blocking pop served later: replicas pop from
         * the key served (Redis 7.0: BZPOPMIN -> ZPOPMIN key, [B]ZMPOP ->
         * ZPOPMIN key count). */
        char num[LONG_STR_SIZE];
        slice argv[3] = {propStr(where == ZSET_MIN ? "ZPOPMIN" : "ZPOPMAX"), key, propLL(num, n)};
        propReplace(c, argv, nested ? 3 : 2);
    }
    return 1;
}

static void zpopGeneric(client *c, int where) {
    if (c->argc > 3) {
        replyErrorSyntax(c);
        return;
    }
    long count = 1;
    if (c->argc == 3) {
        if (getPositiveLongFromSliceOrReply(c, c->argv[2], &count, "value is out of range, must be positive") == -1)
            return;
    }
    int nested = c->argc == 3 && c->resp > 2;
    if (!zpopServe(c, &c->argv[1], 1, where, 0, count, nested)) replyArrayLen(c, 0);
}
static void zpopminCommand(client *c) { zpopGeneric(c, ZSET_MIN); }
static void zpopmaxCommand(client *c) { zpopGeneric(c, ZSET_MAX); }

/* BZPOPMIN/BZPOPMAX key [key ...] timeout */
static void bzpopGeneric(client *c, int where) {
    long long deadline;
    if (blockGetTimeout(c, c->argv[c->argc - 1], &deadline) == -1) return;
    if (zpopServe(c, &c->argv[1], c->argc - 2, where, 1, 1, 0)) return;
    if (!blockAllowed(c)) {
        replyNullArray(c);
        return;
    }
    blockForKeys(c, &c->argv[1], c->argc - 2, deadline, 1);
}
static void bzpopminCommand(client *c) { bzpopGeneric(c, ZSET_MIN); }
static void bzpopmaxCommand(client *c) { bzpopGeneric(c, ZSET_MAX); }

/* [B]ZMPOP [timeout] numkeys key [key ...] MIN|MAX [COUNT count] */
static void zmpopGeneric(client *c, int numkeysIdx, int blocking) {
    long long numkeys;
    if (!string2ll(c->argv[numkeysIdx].p, c->argv[numkeysIdx].len, &numkeys) || numkeys < 1) {
        replyError(c, "numkeys should be greater than 0");
        return;
    }
    if (numkeys > c->argc) {
        replyErrorSyntax(c);
        return;
    }
    long long whereIdx = numkeysIdx + numkeys + 1;
    if (whereIdx >= c->argc) {
        replyErrorSyntax(c);
        return;
    }
    int where;
    if (sliceEqNocase(c->argv[whereIdx], "min")) where = ZSET_MIN;
    else if (sliceEqNocase(c->argv[whereIdx], "max")) where = ZSET_MAX;
    else {
        replyErrorSyntax(c);
        return;
    }
    long long count = -1;
    for (int j = (int)whereIdx + 1; j < c->argc; j++) {
        int more = c->argc - 1 - j;
        if (count == -1 && sliceEqNocase(c->argv[j], "count") && more) {
            j++;
            if (!string2ll(c->argv[j].p, c->argv[j].len, &count) || count < 1) {
                replyError(c, "count should be greater than 0");
                return;
            }
        } else {
            replyErrorSyntax(c);
            return;
        }
    }
    if (count == -1) count = 1;
    slice *keys = &c->argv[numkeysIdx + 1];
    if (!blocking) {
        if (!zpopServe(c, keys, (int)numkeys, where, 1, (long)count, 1)) replyNullArray(c);
        return;
    }
    long long deadline;
    if (blockGetTimeout(c, c->argv[1], &deadline) == -1) return;
    if (zpopServe(c, keys, (int)numkeys, where, 1, (long)count, 1)) return;
    if (!blockAllowed(c)) {
        replyNullArray(c);
        return;
    }
    blockForKeys(c, keys, (int)numkeys, deadline, 1);
}
static void zmpopCommand(client *c) { zmpopGeneric(c, 1, 0); }
static void bzmpopCommand(client *c) { zmpopGeneric(c, 2, 1); }

/* ---- ZRANDMEMBER ---------------------------------------------------------- */

/* A small open-addressing set of ranks, for sampling distinct members. */
typedef struct rankSet {
    long *slots;
    size_t mask;
} rankSet;
static int rankSetAdd(rankSet *s, long v) {
    size_t i = ((size_t)v * 0x9E3779B97F4A7C15ULL) & s->mask;
    while (s->slots[i] != -1) {
        if (s->slots[i] == v) return 0;
        i = (i + 1) & s->mask;
    }
    s->slots[i] = v;
    return 1;
}

static long randomRank(long n) {
    unsigned long long r = ((unsigned long long)random() << 31) ^ (unsigned long long)random();
    return (long)(r % (unsigned long long)n); // NOLINT(clang-analyzer-core.DivideZero): callers pass n >= 1 (size - i with i < count < size)
}

static void replyRankElem(client *c, dbEntry *e, long rank, int withscores) {
    zsetIter it;
    zsetIterInit(&it, e, rank, 0);
    const char *m;
    size_t len;
    double s;
    if (zsetIterNext(&it, &m, &len, &s)) replyElem(c, m, len, s, withscores);
}

static void zrandmemberCommand(client *c) {
    slice key = c->argv[1];
    dbEntry *e;
    if (c->argc == 2) {
        if (lookupRead(c, key, &e) == -1) return;
        if (!e) {
            replyNull(c);
            return;
        }
        zsetIter it;
        zsetIterInit(&it, e, randomRank((long)zsetLength(e)), 0);
        const char *m;
        size_t len;
        if (zsetIterNext(&it, &m, &len, NULL)) replyBulk(c, m, len);
        return;
    }
    long long l;
    if (!string2ll(c->argv[2].p, c->argv[2].len, &l)) {
        replyErrorNotInt(c);
        return;
    }
    if (l < -LONG_MAX) {
        replyErrorFormat(c, "value is out of range, value must between %ld and %ld", -LONG_MAX, LONG_MAX);
        return;
    }
    int withscores = 0;
    if (c->argc > 4 || (c->argc == 4 && !sliceEqNocase(c->argv[3], "withscores"))) {
        replyErrorSyntax(c);
        return;
    }
    if (c->argc == 4) {
        withscores = 1;
        if (l < -LONG_MAX / 2 || l > LONG_MAX / 2) {
            replyError(c, "value is out of range");
            return;
        }
    }
    if (lookupRead(c, key, &e) == -1) return;
    if (!e || l == 0) {
        replyArrayLen(c, 0);
        return;
    }
    long size = (long)zsetLength(e);
    if (l < 0 || l == 1) { /* repeats allowed */
        long count = l < 0 ? (long)-l : 1;
        replyElemsLen(c, count, withscores);
        for (long i = 0; i < count; i++) replyRankElem(c, e, randomRank(size), withscores);
        return;
    }
    long count = (long)l;
    if (count >= size) { /* everything, highest first as Redis */
        emitRange(c, e, NULL, 0, size, 1, withscores, NULL);
        return;
    }
    replyElemsLen(c, count, withscores);
    if (count * 3 > size) {
        /* Dense: shuffle all ranks partially. */
        long *ranks = memAlloc(sizeof(long) * (size_t)size);
        for (long i = 0; i < size; i++) ranks[i] = i;
        for (long i = 0; i < count; i++) {
            long j = i + randomRank(size - i);
            long t = ranks[i];
            ranks[i] = ranks[j];
            ranks[j] = t;
            replyRankElem(c, e, ranks[i], withscores);
        }
        memFree(ranks);
    } else {
        /* Sparse: draw until count distinct ranks. */
        size_t slots = 16;
        while (slots < (size_t)count * 2) slots <<= 1;
        rankSet s = {memAlloc(sizeof(long) * slots), slots - 1};
        memset(s.slots, 0xff, sizeof(long) * slots);
        for (long got = 0; got < count;) {
            long r = randomRank(size);
            if (!rankSetAdd(&s, r)) continue;
            replyRankElem(c, e, r, withscores);
            got++;
        }
        memFree(s.slots);
    }
}

/* ---- ZUNION / ZINTER / ZDIFF (and STORE, ZINTERCARD) --------------------- */

#define OP_UNION 0
#define OP_INTER 1
#define OP_DIFF 2
#define AGG_SUM 0
#define AGG_MIN 1
#define AGG_MAX 2

typedef struct zsrc {
    dbEntry *e; /* NULL: missing key (empty) */
    double weight;
} zsrc;

static unsigned long srcSize(const zsrc *s) {
    if (!s->e) return 0;
    if (s->e->type == OBJ_SET) return setTypeSize(s->e);
    return zsetLength(s->e);
}

static int srcFind(const zsrc *s, const char *m, size_t len, double *score) {
    if (!s->e) return 0;
    if (s->e->type == OBJ_SET) {
        *score = 1.0;
        return setTypeIsMember(s->e, m, len);
    }
    return zsetScore(s->e, m, len, score);
}

static void aggregate(int agg, double *target, double v) {
    if (agg == AGG_SUM) {
        *target += v;
        if (isnan(*target)) *target = 0.0; /* inf + -inf */
    } else if (agg == AGG_MIN) {
        if (v < *target) *target = v;
    } else if (v > *target) {
        *target = v;
    }
}

typedef struct setopState {
    int op, agg, cardOnly;
    zsrc *src;
    int nsrc;
    zset *acc;
    long card, limit;
} setopState;

/* One element of source 0 (INTER, DIFF) or of any source (UNION). */
static int setopVisit(setopState *st, int si, const char *m, size_t len, double score) {
    double w = st->src[si].weight * score;
    if (isnan(w)) w = 0;
    if (st->op == OP_UNION) {
        zslNode *n = (zslNode *)dictFind(&st->acc->d, m, len);
        if (n) aggregate(st->agg, &n->score, w);
        else zsetAccumAdd(st->acc, w, m, len);
        return 0;
    }
    if (st->op == OP_INTER) {
        for (int j = 1; j < st->nsrc; j++) {
            double v;
            if (!srcFind(&st->src[j], m, len, &v)) return 0;
            double wv = st->src[j].weight * v;
            if (isnan(wv)) wv = 0;
            aggregate(st->agg, &w, wv);
        }
    } else {
        for (int j = 1; j < st->nsrc; j++) {
            double v;
            if (srcFind(&st->src[j], m, len, &v)) return 0;
        }
        w = score; /* ZDIFF keeps the first set's scores */
    }
    if (st->cardOnly) {
        st->card++;
        return st->limit && st->card >= st->limit;
    }
    zsetAccumAdd(st->acc, w, m, len);
    return 0;
}

typedef struct setVisitCtx {
    setopState *st;
    int si;
} setVisitCtx;
static int setMemberVisit(void *priv, const char *p, size_t len) {
    setVisitCtx *v = priv;
    return setopVisit(v->st, v->si, p, len, 1.0);
}

/* Calls setopVisit for each element of source si; 1 when told to stop. */
static int setopWalk(setopState *st, int si) {
    dbEntry *e = st->src[si].e;
    if (!e) return 0;
    if (e->type == OBJ_SET) {
        setVisitCtx v = {st, si};
        setTypeForEach(e, setMemberVisit, &v);
        return st->cardOnly && st->limit && st->card >= st->limit;
    }
    zsetIter it;
    zsetIterInit(&it, e, 0, 0);
    const char *m;
    size_t len;
    double s;
    while (zsetIterNext(&it, &m, &len, &s))
        if (setopVisit(st, si, m, len, s)) return 1;
    return 0;
}

static int cmpSrcSize(const void *a, const void *b) {
    unsigned long x = srcSize(a), y = srcSize(b);
    return x < y ? -1 : x > y ? 1 : 0;
}

/* Redis' zunionInterDiffGenericCommand. dst: store target or NULL. */
static void setopGeneric(client *c, slice *dst, int numkeysIdx, int op, int cardOnly) {
    long long setnum;
    if (getLongLongFromSliceOrReply(c, c->argv[numkeysIdx], &setnum, NULL) == -1) return;
    if (setnum < 1) {
        replyErrorFormat(c, "at least 1 input key is needed for '%s' command", c->cmd->fullname);
        return;
    }
    if (setnum > c->argc - (numkeysIdx + 1)) {
        replyErrorSyntax(c);
        return;
    }
    int nsrc = (int)setnum;
    zsrc *src = memCalloc(sizeof(zsrc) * (size_t)nsrc);
    int j = numkeysIdx + 1;
    for (int i = 0; i < nsrc; i++, j++) {
        dbEntry *e = dbLookupRead(c->db, c->argv[j]);
        if (e && e->type != OBJ_ZSET && e->type != OBJ_SET) {
            memFree(src);
            replyErrorWrongType(c);
            return;
        }
        src[i].e = e;
        src[i].weight = 1.0;
    }
    int agg = AGG_SUM, withscores = 0;
    long limit = 0;
    while (j < c->argc) {
        int remaining = c->argc - j;
        slice a = c->argv[j];
        if (op != OP_DIFF && !cardOnly && remaining >= nsrc + 1 && sliceEqNocase(a, "weights")) {
            j++;
            for (int i = 0; i < nsrc; i++, j++) {
                if (getDoubleFromSliceOrReply(c, c->argv[j], &src[i].weight, "weight value is not a float") == -1) {
                    memFree(src);
                    return;
                }
            }
        } else if (op != OP_DIFF && !cardOnly && remaining >= 2 && sliceEqNocase(a, "aggregate")) {
            slice v = c->argv[j + 1];
            if (sliceEqNocase(v, "sum")) agg = AGG_SUM;
            else if (sliceEqNocase(v, "min")) agg = AGG_MIN;
            else if (sliceEqNocase(v, "max")) agg = AGG_MAX;
            else {
                memFree(src);
                replyErrorSyntax(c);
                return;
            }
            j += 2;
        } else if (!dst && !cardOnly && sliceEqNocase(a, "withscores")) {
            withscores = 1;
            j++;
        } else if (cardOnly && remaining >= 2 && sliceEqNocase(a, "limit")) {
            if (getPositiveLongFromSliceOrReply(c, c->argv[j + 1], &limit, "LIMIT can't be negative") == -1) {
                memFree(src);
                return;
            }
            j += 2;
        } else {
            memFree(src);
            replyErrorSyntax(c);
            return;
        }
    }
    /* Smallest first, as Redis (intersections then probe the fewest
     * candidates; the order also decides MIN/MAX ties such as 0 vs -0). The
     * first source of a difference must stay first. */
    if (op != OP_DIFF) qsort(src, (size_t)nsrc, sizeof(zsrc), cmpSrcSize);
    setopState st = {.op = op, .agg = agg, .cardOnly = cardOnly, .src = src, .nsrc = nsrc, .limit = limit};
    if (!cardOnly) st.acc = zsetNewSkiplist();
    if (op == OP_UNION) {
        for (int i = 0; i < nsrc; i++) setopWalk(&st, i);
    } else if (srcSize(&src[0]) > 0) {
        setopWalk(&st, 0);
    }
    memFree(src);
    if (cardOnly) {
        replyLongLong(c, st.card);
        return;
    }
    zsetAccumFinish(st.acc);
    int enc = ENC_SKIPLIST;
    void *ptr = st.acc;
    if (dst) {
        size_t maxlen = 0;
        for (zslNode *n = st.acc->zsl.header->level[0].forward; n; n = n->level[0].forward)
            if (n->len > maxlen) maxlen = n->len;
        zsetShrinkIfSmall(&enc, &ptr, maxlen);
    }
    dbEntry *res = objNewCollectionEntry("", 0, OBJ_ZSET, enc, ptr);
    if (dst) {
        replyLongLong(c, builderStore(c, *dst, res));
        return;
    }
    long n = (long)zsetLength(res);
    emitRange(c, res, NULL, 0, n, 0, withscores, NULL);
    dbEntryFree(res);
}

static void zunionstoreCommand(client *c) { setopGeneric(c, &c->argv[1], 2, OP_UNION, 0); }
static void zinterstoreCommand(client *c) { setopGeneric(c, &c->argv[1], 2, OP_INTER, 0); }
static void zdiffstoreCommand(client *c) { setopGeneric(c, &c->argv[1], 2, OP_DIFF, 0); }
static void zunionCommand(client *c) { setopGeneric(c, NULL, 1, OP_UNION, 0); }
static void zinterCommand(client *c) { setopGeneric(c, NULL, 1, OP_INTER, 0); }
static void zdiffCommand(client *c) { setopGeneric(c, NULL, 1, OP_DIFF, 0); }
static void zintercardCommand(client *c) { setopGeneric(c, NULL, 1, OP_INTER, 1); }

/* ---- ZSCAN ----------------------------------------------------------------- */

typedef struct scanAcc {
    zslNode **nodes;
    long n, cap;
} scanAcc;
static void scanCb(void *priv, dictNode *dn) {
    scanAcc *a = priv;
    if (a->n == a->cap) {
        a->cap = a->cap ? a->cap * 2 : 32;
        a->nodes = memRealloc(a->nodes, sizeof(zslNode *) * (size_t)a->cap);
    }
    a->nodes[a->n++] = (zslNode *)dn;
}

static void zscanCommand(client *c) {
    slice cs = c->argv[2];
    char cbuf[32];
    if (cs.len == 0 || cs.len >= sizeof(cbuf) || cs.p[0] == ' ' || (cs.p[0] >= '\t' && cs.p[0] <= '\r')) {
        replyError(c, "invalid cursor");
        return;
    }
    memcpy(cbuf, cs.p, cs.len);
    cbuf[cs.len] = '\0';
    char *eptr;
    errno = 0;
    unsigned long cursor = strtoul(cbuf, &eptr, 10);
    if (*eptr != '\0' || errno == ERANGE) {
        replyError(c, "invalid cursor");
        return;
    }
    dbEntry *e;
    if (lookupRead(c, c->argv[1], &e) == -1) return;
    if (!e) {
        replyArrayLen(c, 2);
        replyBulk(c, "0", 1);
        replyArrayLen(c, 0);
        return;
    }
    long count = 10;
    slice pat = {NULL, 0};
    int usePat = 0;
    for (int j = 3; j < c->argc; j += 2) {
        if (j + 1 >= c->argc) {
            replyErrorSyntax(c);
            return;
        }
        if (sliceEqNocase(c->argv[j], "count")) {
            if (getLongFromSliceOrReply(c, c->argv[j + 1], &count, NULL) == -1) return;
            if (count < 1) {
                replyErrorSyntax(c);
                return;
            }
        } else if (sliceEqNocase(c->argv[j], "match")) {
            pat = c->argv[j + 1];
            usePat = !(pat.len == 1 && pat.p[0] == '*');
        } else {
            replyErrorSyntax(c);
            return;
        }
    }
    replyArrayLen(c, 2);
    if (e->enc == ENC_LISTPACK) {
        /* Compact values come back whole, cursor 0, as Redis. */
        unsigned char *lp = e->v.ptr;
        replyBulk(c, "0", 1);
        void *hdr = replyDeferredLen(c);
        long n = 0;
        char mb[LP_INTBUF_SIZE], sb[LP_INTBUF_SIZE];
        for (unsigned char *ep = lpFirst(lp); ep;) {
            unsigned char *sp = lpNext(lp, ep);
            size_t ml, sl;
            const char *m = lpGet(ep, mb, &ml, NULL, NULL);
            if (!usePat || globMatch(pat.p, pat.len, m, ml, 0)) {
                const char *s = lpGet(sp, sb, &sl, NULL, NULL);
                replyBulk(c, m, ml);
                replyBulk(c, s, sl);
                n += 2;
            }
            ep = lpNext(lp, sp);
        }
        replySetDeferredArrayLen(c, hdr, n);
        return;
    }
    zset *zs = e->v.ptr;
    scanAcc acc = {NULL, 0, 0};
    long maxIter = count * 10;
    do {
        cursor = dictScan(&zs->d, cursor, scanCb, &acc);
    } while (cursor && maxIter-- && acc.n < count);
    char nb[32];
    int nl = snprintf(nb, sizeof(nb), "%lu", cursor);
    replyBulk(c, nb, (size_t)nl);
    long keep = 0;
    for (long i = 0; i < acc.n; i++)
        if (!usePat || globMatch(pat.p, pat.len, zslNodeMember(acc.nodes[i]), acc.nodes[i]->len, 0))
            acc.nodes[keep++] = acc.nodes[i];
    replyArrayLen(c, keep * 2);
    for (long i = 0; i < keep; i++) {
        char sbuf[64];
        int sl = d2string(sbuf, sizeof(sbuf), acc.nodes[i]->score);
        replyBulk(c, zslNodeMember(acc.nodes[i]), acc.nodes[i]->len);
        replyBulk(c, sbuf, (size_t)sl);
    }
    memFree(acc.nodes);
}

/* ---- table ----------------------------------------------------------------- */

#define ZK .firstKey = 1, .lastKey = 1, .keyStep = 1, .group = "sorted-set"

cmdDef zsetCommands[] = {
    {.name = "zadd", .proc = zaddCommand, .arity = -4, .flags = CMD_WRITE | CMD_DENYOOM | CMD_FAST, .acl = ACL_SORTEDSET, ZK,
     .since = "1.2.0", .summary = "Add one or more members to a sorted set, or update its score if it already exists",
     .complexity = "O(log(N)) for each item added, where N is the number of elements in the sorted set."},
    {.name = "zincrby", .proc = zincrbyCommand, .arity = 4, .flags = CMD_WRITE | CMD_DENYOOM | CMD_FAST, .acl = ACL_SORTEDSET, ZK,
     .since = "1.2.0", .summary = "Increment the score of a member in a sorted set", .complexity = "O(log(N)) where N is the number of elements in the sorted set."},
    {.name = "zrem", .proc = zremCommand, .arity = -3, .flags = CMD_WRITE | CMD_FAST, .acl = ACL_SORTEDSET, ZK,
     .since = "1.2.0", .summary = "Remove one or more members from a sorted set", .complexity = "O(M*log(N)) with N being the number of elements in the sorted set and M the number of elements to be removed."},
    {.name = "zscore", .proc = zscoreCommand, .arity = 3, .flags = CMD_READONLY | CMD_FAST, .acl = ACL_SORTEDSET, ZK,
     .since = "1.2.0", .summary = "Get the score associated with the given member in a sorted set", .complexity = "O(1)"},
    {.name = "zmscore", .proc = zmscoreCommand, .arity = -3, .flags = CMD_READONLY | CMD_FAST, .acl = ACL_SORTEDSET, ZK,
     .since = "6.2.0", .summary = "Get the score associated with the given members in a sorted set", .complexity = "O(N) where N is the number of members being requested."},
    {.name = "zcard", .proc = zcardCommand, .arity = 2, .flags = CMD_READONLY | CMD_FAST, .acl = ACL_SORTEDSET, ZK,
     .since = "1.2.0", .summary = "Get the number of members in a sorted set", .complexity = "O(1)"},
    {.name = "zcount", .proc = zcountCommand, .arity = 4, .flags = CMD_READONLY | CMD_FAST, .acl = ACL_SORTEDSET, ZK,
     .since = "2.0.0", .summary = "Count the members in a sorted set with scores within the given values", .complexity = "O(log(N)) with N being the number of elements in the sorted set."},
    {.name = "zlexcount", .proc = zlexcountCommand, .arity = 4, .flags = CMD_READONLY | CMD_FAST, .acl = ACL_SORTEDSET, ZK,
     .since = "2.8.9", .summary = "Count the number of members in a sorted set between a given lexicographical range", .complexity = "O(log(N)) with N being the number of elements in the sorted set."},
    {.name = "zrange", .proc = zrangeCommand, .arity = -4, .flags = CMD_READONLY, .acl = ACL_SORTEDSET, ZK,
     .since = "1.2.0", .summary = "Return a range of members in a sorted set", .complexity = "O(log(N)+M) with N being the number of elements in the sorted set and M the number of elements returned."},
    {.name = "zrangestore", .proc = zrangestoreCommand, .arity = -5, .flags = CMD_WRITE | CMD_DENYOOM, .acl = ACL_SORTEDSET,
     .firstKey = 1, .lastKey = 2, .keyStep = 1, .group = "sorted-set",
     .since = "6.2.0", .summary = "Store a range of members from sorted set into another key", .complexity = "O(log(N)+M) with N being the number of elements in the sorted set and M the number of elements stored into the destination key."},
    {.name = "zrangebyscore", .proc = zrangebyscoreCommand, .arity = -4, .flags = CMD_READONLY, .acl = ACL_SORTEDSET, ZK,
     .since = "1.0.5", .summary = "Return a range of members in a sorted set, by score", .complexity = "O(log(N)+M) with N being the number of elements in the sorted set and M the number of elements being returned."},
    {.name = "zrevrangebyscore", .proc = zrevrangebyscoreCommand, .arity = -4, .flags = CMD_READONLY, .acl = ACL_SORTEDSET, ZK,
     .since = "2.2.0", .summary = "Return a range of members in a sorted set, by score, with scores ordered from high to low", .complexity = "O(log(N)+M) with N being the number of elements in the sorted set and M the number of elements being returned."},
    {.name = "zrangebylex", .proc = zrangebylexCommand, .arity = -4, .flags = CMD_READONLY, .acl = ACL_SORTEDSET, ZK,
     .since = "2.8.9", .summary = "Return a range of members in a sorted set, by lexicographical range", .complexity = "O(log(N)+M) with N being the number of elements in the sorted set and M the number of elements being returned."},
    {.name = "zrevrangebylex", .proc = zrevrangebylexCommand, .arity = -4, .flags = CMD_READONLY, .acl = ACL_SORTEDSET, ZK,
     .since = "2.8.9", .summary = "Return a range of members in a sorted set, by lexicographical range, ordered from higher to lower strings.", .complexity = "O(log(N)+M) with N being the number of elements in the sorted set and M the number of elements being returned."},
    {.name = "zrevrange", .proc = zrevrangeCommand, .arity = -4, .flags = CMD_READONLY, .acl = ACL_SORTEDSET, ZK,
     .since = "1.2.0", .summary = "Return a range of members in a sorted set, by index, with scores ordered from high to low", .complexity = "O(log(N)+M) with N being the number of elements in the sorted set and M the number of elements returned."},
    {.name = "zrank", .proc = zrankCommand, .arity = -3, .flags = CMD_READONLY | CMD_FAST, .acl = ACL_SORTEDSET, ZK,
     .since = "2.0.0", .summary = "Determine the index of a member in a sorted set", .complexity = "O(log(N))"},
    {.name = "zrevrank", .proc = zrevrankCommand, .arity = -3, .flags = CMD_READONLY | CMD_FAST, .acl = ACL_SORTEDSET, ZK,
     .since = "2.0.0", .summary = "Determine the index of a member in a sorted set, with scores ordered from high to low", .complexity = "O(log(N))"},
    {.name = "zpopmin", .proc = zpopminCommand, .arity = -2, .flags = CMD_WRITE | CMD_FAST, .acl = ACL_SORTEDSET, ZK,
     .since = "5.0.0", .summary = "Remove and return members with the lowest scores in a sorted set", .complexity = "O(log(N)*M) with N being the number of elements in the sorted set, and M being the number of elements popped."},
    {.name = "zpopmax", .proc = zpopmaxCommand, .arity = -2, .flags = CMD_WRITE | CMD_FAST, .acl = ACL_SORTEDSET, ZK,
     .since = "5.0.0", .summary = "Remove and return members with the highest scores in a sorted set", .complexity = "O(log(N)*M) with N being the number of elements in the sorted set, and M being the number of elements popped."},
    {.name = "zmpop", .proc = zmpopCommand, .numkeysIdx = 1, .arity = -4, .flags = CMD_WRITE | CMD_MOVABLE_KEYS, .acl = ACL_SORTEDSET, .group = "sorted-set",
     .since = "7.0.0", .summary = "Remove and return members with scores in a sorted set", .complexity = "O(K) + O(N*log(M)) where K is the number of provided keys, N being the number of elements in the sorted set, and M being the number of elements popped."},
    {.name = "bzpopmin", .proc = bzpopminCommand, .arity = -3, .flags = CMD_WRITE | CMD_NOSCRIPT | CMD_BLOCKING | CMD_FAST, .acl = ACL_SORTEDSET,
     .firstKey = 1, .lastKey = -2, .keyStep = 1, .group = "sorted-set",
     .since = "5.0.0", .summary = "Remove and return the member with the lowest score from one or more sorted sets, or block until one is available", .complexity = "O(log(N)) with N being the number of elements in the sorted set."},
    {.name = "bzpopmax", .proc = bzpopmaxCommand, .arity = -3, .flags = CMD_WRITE | CMD_NOSCRIPT | CMD_BLOCKING | CMD_FAST, .acl = ACL_SORTEDSET,
     .firstKey = 1, .lastKey = -2, .keyStep = 1, .group = "sorted-set",
     .since = "5.0.0", .summary = "Remove and return the member with the highest score from one or more sorted sets, or block until one is available", .complexity = "O(log(N)) with N being the number of elements in the sorted set."},
    {.name = "bzmpop", .proc = bzmpopCommand, .numkeysIdx = 2, .arity = -5, .flags = CMD_WRITE | CMD_BLOCKING | CMD_MOVABLE_KEYS, .acl = ACL_SORTEDSET, .group = "sorted-set",
     .since = "7.0.0", .summary = "Remove and return members with scores in a sorted set or block until one is available", .complexity = "O(K) + O(N*log(M)) where K is the number of provided keys, N being the number of elements in the sorted set, and M being the number of elements popped."},
    {.name = "zrandmember", .proc = zrandmemberCommand, .arity = -2, .flags = CMD_READONLY, .acl = ACL_SORTEDSET, ZK,
     .since = "6.2.0", .summary = "Get one or multiple random elements from a sorted set", .complexity = "O(N) where N is the number of elements returned"},
    {.name = "zremrangebyrank", .proc = zremrangebyrankCommand, .arity = 4, .flags = CMD_WRITE, .acl = ACL_SORTEDSET, ZK,
     .since = "2.0.0", .summary = "Remove all members in a sorted set within the given indexes", .complexity = "O(log(N)+M) with N being the number of elements in the sorted set and M the number of elements removed by the operation."},
    {.name = "zremrangebyscore", .proc = zremrangebyscoreCommand, .arity = 4, .flags = CMD_WRITE, .acl = ACL_SORTEDSET, ZK,
     .since = "1.2.0", .summary = "Remove all members in a sorted set within the given scores", .complexity = "O(log(N)+M) with N being the number of elements in the sorted set and M the number of elements removed by the operation."},
    {.name = "zremrangebylex", .proc = zremrangebylexCommand, .arity = 4, .flags = CMD_WRITE, .acl = ACL_SORTEDSET, ZK,
     .since = "2.8.9", .summary = "Remove all members in a sorted set between the given lexicographical range", .complexity = "O(log(N)+M) with N being the number of elements in the sorted set and M the number of elements removed by the operation."},
    {.name = "zunion", .proc = zunionCommand, .numkeysIdx = 1, .arity = -3, .flags = CMD_READONLY | CMD_MOVABLE_KEYS, .acl = ACL_SORTEDSET, .group = "sorted-set",
     .since = "6.2.0", .summary = "Add multiple sorted sets", .complexity = "O(N)+O(M*log(M)) with N being the sum of the sizes of the input sorted sets, and M being the number of elements in the resulting sorted set."},
    {.name = "zinter", .proc = zinterCommand, .numkeysIdx = 1, .arity = -3, .flags = CMD_READONLY | CMD_MOVABLE_KEYS, .acl = ACL_SORTEDSET, .group = "sorted-set",
     .since = "6.2.0", .summary = "Intersect multiple sorted sets", .complexity = "O(N*K)+O(M*log(M)) worst case with N being the smallest input sorted set, K being the number of input sorted sets and M being the number of elements in the resulting sorted set."},
    {.name = "zdiff", .proc = zdiffCommand, .numkeysIdx = 1, .arity = -3, .flags = CMD_READONLY | CMD_MOVABLE_KEYS, .acl = ACL_SORTEDSET, .group = "sorted-set",
     .since = "6.2.0", .summary = "Subtract multiple sorted sets", .complexity = "O(L + (N-K)log(N)) worst case where L is the total number of elements in all the sets, N is the size of the first set, and K is the size of the result set."},
    {.name = "zunionstore", .proc = zunionstoreCommand, .numkeysIdx = 2, .arity = -4, .flags = CMD_WRITE | CMD_DENYOOM | CMD_MOVABLE_KEYS, .acl = ACL_SORTEDSET, ZK,
     .since = "2.0.0", .summary = "Add multiple sorted sets and store the resulting sorted set in a new key", .complexity = "O(N)+O(M log(M)) with N being the sum of the sizes of the input sorted sets, and M being the number of elements in the resulting sorted set."},
    {.name = "zinterstore", .proc = zinterstoreCommand, .numkeysIdx = 2, .arity = -4, .flags = CMD_WRITE | CMD_DENYOOM | CMD_MOVABLE_KEYS, .acl = ACL_SORTEDSET, ZK,
     .since = "2.0.0", .summary = "Intersect multiple sorted sets and store the resulting sorted set in a new key", .complexity = "O(N*K)+O(M*log(M)) worst case with N being the smallest input sorted set, K being the number of input sorted sets and M being the number of elements in the resulting sorted set."},
    {.name = "zdiffstore", .proc = zdiffstoreCommand, .numkeysIdx = 2, .arity = -4, .flags = CMD_WRITE | CMD_DENYOOM | CMD_MOVABLE_KEYS, .acl = ACL_SORTEDSET, ZK,
     .since = "6.2.0", .summary = "Subtract multiple sorted sets and store the resulting sorted set in a new key", .complexity = "O(L + (N-K)log(N)) worst case where L is the total number of elements in all the sets, N is the size of the first set, and K is the size of the result set."},
    {.name = "zintercard", .proc = zintercardCommand, .numkeysIdx = 1, .arity = -3, .flags = CMD_READONLY | CMD_MOVABLE_KEYS, .acl = ACL_SORTEDSET, .group = "sorted-set",
     .since = "7.0.0", .summary = "Intersect multiple sorted sets and return the cardinality of the result", .complexity = "O(N*K) worst case with N being the smallest input sorted set, K being the number of input sorted sets."},
    {.name = "zscan", .proc = zscanCommand, .arity = -3, .flags = CMD_READONLY, .acl = ACL_SORTEDSET, ZK,
     .since = "2.8.0", .summary = "Incrementally iterate sorted sets elements and associated scores", .complexity = "O(1) for every call. O(N) for a complete iteration, including enough command calls for the cursor to return back to 0. N is the number of elements inside the collection."},
    {0}};
