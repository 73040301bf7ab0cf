/* t_string.c - the string commands: GET/SET and their variants, MGET/MSET,
 * counters (INCR family, INCRBYFLOAT), APPEND/SETRANGE/GETRANGE/STRLEN, LCS.
 *
 * Owns: nothing but the command procs; values live in entries (obj.c), keys
 * in the db (db.c). Replies and error texts are Redis 7.0's byte for byte.
 * Must never: keep a dbEntry pointer across a call that may replace it
 * (dbReplace/dbSetKey/objSetString/objMakeRaw), change anything before every
 * argument has been validated, or add work to GET/SET without options (the
 * benchmarked hot path: one dict find, and one entry allocation unless the
 * overwritten entry is reused). */
#include "server.h"
#include "evict.h"
#include "db.h"
#include "client.h"
#include "reply.h"
#include "cmd.h"
#include "args.h"
#include "propagate.h"
#include <limits.h>
#include <math.h>
#include <string.h>

/* ---- SET-family option parsing ------------------------------------------ */

#define SET_NX (1 << 0)
#define SET_XX (1 << 1)
#define SET_EX (1 << 2)
#define SET_PX (1 << 3)
#define SET_KEEPTTL (1 << 4)
#define SET_GET (1 << 5)
#define SET_EXAT (1 << 6)
#define SET_PXAT (1 << 7)
#define SET_PERSIST (1 << 8)
#define SET_ANY_EXPIRE (SET_EX | SET_PX | SET_EXAT | SET_PXAT)

#define UNIT_SECONDS 0
#define UNIT_MS 1

/* Parses SET's (isSet) or GETEX's options exactly as Redis'
 * parseExtendedStringArgumentsOrReply: an option that conflicts with one
 * already given, or that the command does not take, is a syntax error; a
 * repeated expire option of the same kind is accepted (the last wins). */
static int strParseOptions(client *c, int isSet, int *flags, slice **expire, int *unit) {
    for (int j = isSet ? 3 : 2; j < c->argc; j++) {
        slice o = c->argv[j];
        int hasNext = j + 1 < c->argc;
        int f = *flags;
        if (isSet && sliceEqNocase(o, "nx") && !(f & SET_XX)) {
            *flags |= SET_NX;
        } else if (isSet && sliceEqNocase(o, "xx") && !(f & SET_NX)) {
            *flags |= SET_XX;
        } else if (isSet && sliceEqNocase(o, "get")) {
            *flags |= SET_GET;
        } else if (isSet && sliceEqNocase(o, "keepttl") && !(f & (SET_PERSIST | SET_ANY_EXPIRE))) {
            *flags |= SET_KEEPTTL;
        } else if (!isSet && sliceEqNocase(o, "persist") && !(f & (SET_KEEPTTL | SET_ANY_EXPIRE))) {
            *flags |= SET_PERSIST;
        } else if (sliceEqNocase(o, "ex") && !(f & (SET_KEEPTTL | SET_PERSIST | SET_EXAT | SET_PX | SET_PXAT)) &&
                   hasNext) {
            *flags |= SET_EX;
            *unit = UNIT_SECONDS;
            *expire = &c->argv[++j];
        } else if (sliceEqNocase(o, "px") && !(f & (SET_KEEPTTL | SET_PERSIST | SET_EX | SET_EXAT | SET_PXAT)) &&
                   hasNext) {
            *flags |= SET_PX;
            *unit = UNIT_MS;
            *expire = &c->argv[++j];
        } else if (sliceEqNocase(o, "exat") && !(f & (SET_KEEPTTL | SET_PERSIST | SET_EX | SET_PX | SET_PXAT)) &&
                   hasNext) {
            *flags |= SET_EXAT;
            *unit = UNIT_SECONDS;
            *expire = &c->argv[++j];
        } else if (sliceEqNocase(o, "pxat") && !(f & (SET_KEEPTTL | SET_PERSIST | SET_EX | SET_EXAT | SET_PX)) &&
                   hasNext) {
            *flags |= SET_PXAT;
            *unit = UNIT_MS;
            *expire = &c->argv[++j];
        } else {
            replyErrorSyntax(c);
            return -1;
        }
    }
    return 0;
}

static void replyInvalidExpire(client *c) {
    replyErrorFormat(c, "invalid expire time in '%s' command", c->cmd ? c->cmd->fullname : "set");
}

/* The absolute unix-ms time an expire argument means, as Redis'
 * getExpireMillisecondsOrReply: must be > 0, must not overflow once turned
 * into ms and (for EX/PX) added to now. Relative times count from
 * srv.mstime, the time the command started. */
static int strExpireMs(client *c, slice s, int flags, int unit, long long *out) {
    long long v;
    if (getLongLongFromSliceOrReply(c, s, &v, NULL) == -1) return -1;
    if (v <= 0 || (unit == UNIT_SECONDS && v > LLONG_MAX / 1000)) {
        replyInvalidExpire(c);
        return -1;
    }
    if (unit == UNIT_SECONDS) v *= 1000;
    if (flags & (SET_EX | SET_PX)) {
        if (v > LLONG_MAX - srv.mstime) {
            replyInvalidExpire(c);
            return -1;
        }
        v += srv.mstime;
    }
    *out = v;
    return 0;
}

/* ---- GET and friends ------------------------------------------------------ */

static void replyEntryValue(client *c, const dbEntry *e) {
    char nb[LONG_STR_SIZE];
    const char *p;
    size_t len;
    objStringBytes(e, nb, &p, &len);
    replyBulk(c, p, len);
}

/* Redis' getGenericCommand: replies the value (or null); returns the entry,
 * NULL when missing, and sets *err on WRONGTYPE (already replied). */
static dbEntry *strGetGeneric(client *c, int *err) {
    dbEntry *e = dbLookupRead(c->db, c->argv[1]);
    *err = 0;
    if (!e) {
        replyNull(c);
        return NULL;
    }
    if (e->type != OBJ_STRING) {
        replyErrorWrongType(c);
        *err = 1;
        return NULL;
    }
    replyEntryValue(c, e);
    return e;
}

static void getCommand(client *c) {
    dbEntry *e = dbLookupRead(c->db, c->argv[1]);
    if (!e) {
        replyNull(c);
        return;
    }
    if (e->type != OBJ_STRING) {
        replyErrorWrongType(c);
        return;
    }
    replyEntryValue(c, e);
}

/* ---- SET and friends ------------------------------------------------------ */

#define REPLY_OK_NULL 0 /* SET: +OK, or null when NX/XX aborts */
#define REPLY_ONE_ZERO 1 /* SETNX: :1 / :0 */

/* What a SET with an expire or GET propagates, as Redis 7.0: SET key value
 * PXAT <absolute ms> (relative and second-based times made absolute), or
 * SET key value [KEEPTTL] without GET. */
static void strPropagateSet(client *c, int flags, slice *expire, long long when, slice key, slice val) {
    if (!propActive() || (!expire && !(flags & SET_GET) && c->cmd && !strcmp(c->cmd->name, "set"))) return;
    char num[LONG_STR_SIZE];
    slice argv[5] = {propStr("SET"), key, val};
    int argc = 3;
    if (expire) {
        argv[argc++] = propStr("PXAT");
        argv[argc++] = propLL(num, when);
    } else if (flags & SET_KEEPTTL) {
        argv[argc++] = propStr("KEEPTTL");
    }
    propReplace(c, argv, argc);
}

/* The entry a plain SET overwrites. Redis' SET looks the key up for write
 * first, which counts as an access under an LFU policy (the overwrite then
 * keeps the counter: a hot key SET again stays hot) and deletes it when
 * expired; under any other policy the overwrite resets the access field
 * anyway, so the hot path skips both. */
static dbEntry *strFindForSet(cdb *db, slice key) {
    return evictPolicyIsLfu() ? dbLookupWrite(db, key) : dbFindLinked(db, key.p, key.len);
}

/* Redis' setGenericCommand. Order matters for which error wins: the expire
 * value is checked first, then GET's type check, then NX/XX. */
static void strSetGeneric(client *c, int flags, slice *expire, int unit, slice key, slice val, int replyKind) {
    long long when = 0;
    if (expire && strExpireMs(c, *expire, flags, unit, &when) == -1) return;

    /* Fast path: nothing needs to know whether the key exists. */
    int past = expire && dbAlreadyExpired(when); /* only EXAT/PXAT can be in the past */
    if (!(flags & (SET_NX | SET_XX | SET_GET)) && !past) {
        objSetString(c->db, strFindForSet(c->db, key), key, val, when, (flags & SET_KEEPTTL) != 0);
        srv.dirty++;
        if (expire) strPropagateSet(c, flags, expire, when, key, val);
        if (replyKind == REPLY_ONE_ZERO) replyLongLong(c, 1);
        else replyOk(c);
        return;
    }

    dbEntry *old;
    if (flags & SET_GET) {
        int err;
        old = strGetGeneric(c, &err);
        if (err) return;
    } else {
        old = dbLookupWrite(c->db, key);
    }
    if (((flags & SET_NX) && old) || ((flags & SET_XX) && !old)) {
        if (!(flags & SET_GET)) {
            if (replyKind == REPLY_ONE_ZERO) replyLongLong(c, 0);
            else replyNull(c);
        }
        return;
    }
    if (past) {
        /* An absolute time already gone: the key ends up absent (Redis sets
         * and then expires it; the outcome a client can see is the same). */
        if (old) dbDelete(c->db, key.p, key.len);
        else dbTouchKey(c->db, key.p, key.len);
        srv.dirty++;
        if (old) {
            slice del[2] = {srv.lazyfreeLazyServerDel ? propStr("UNLINK") : propStr("DEL"), key};
            propReplace(c, del, 2);
        } else {
            propPreventSelf();
        }
    } else {
        objSetString(c->db, old, key, val, when, (flags & SET_KEEPTTL) != 0);
        srv.dirty++;
        strPropagateSet(c, flags, expire, when, key, val);
    }
    if (!(flags & SET_GET)) {
        if (replyKind == REPLY_ONE_ZERO) replyLongLong(c, 1);
        else replyOk(c);
    }
}

static void setCommand(client *c) {
    if (c->argc == 3) {
        /* The hot path: one dict find; an overwrite reuses the entry when
         * the value fits it, else one allocation. */
        objSetString(c->db, strFindForSet(c->db, c->argv[1]), c->argv[1], c->argv[2], 0, 0);
        srv.dirty++;
        replyOk(c);
        return;
    }
    int flags = 0, unit = UNIT_SECONDS;
    slice *expire = NULL;
    if (strParseOptions(c, 1, &flags, &expire, &unit) == -1) return;
    strSetGeneric(c, flags, expire, unit, c->argv[1], c->argv[2], REPLY_OK_NULL);
}

static void setnxCommand(client *c) { strSetGeneric(c, SET_NX, NULL, 0, c->argv[1], c->argv[2], REPLY_ONE_ZERO); }

static void setexCommand(client *c) {
    strSetGeneric(c, SET_EX, &c->argv[2], UNIT_SECONDS, c->argv[1], c->argv[3], REPLY_OK_NULL);
}

static void psetexCommand(client *c) {
    strSetGeneric(c, SET_PX, &c->argv[2], UNIT_MS, c->argv[1], c->argv[3], REPLY_OK_NULL);
}

static void getsetCommand(client *c) {
    int err;
    strGetGeneric(c, &err);
    if (err) return;
    /* Like SET: the new value has no TTL. */
    objSetString(c->db, dbFindLinked(c->db, c->argv[1].p, c->argv[1].len), c->argv[1], c->argv[2], 0, 0);
    srv.dirty++;
}

static void getdelCommand(client *c) {
    int err;
    dbEntry *e = strGetGeneric(c, &err);
    if (!e) return;
    dbDelete(c->db, c->argv[1].p, c->argv[1].len);
    srv.dirty++;
    slice del[2] = {propStr("DEL"), c->argv[1]}; /* Redis 7.0 propagates GETDEL as DEL */
    propReplace(c, del, 2);
}

static void getexCommand(client *c) {
    int flags = 0, unit = UNIT_SECONDS;
    slice *expire = NULL;
    if (strParseOptions(c, 0, &flags, &expire, &unit) == -1) return;
    /* As Redis: a missing key answers null before the expire value is
     * looked at. */
    dbEntry *e = dbLookupRead(c->db, c->argv[1]);
    if (!e) {
        replyNull(c);
        return;
    }
    if (e->type != OBJ_STRING) {
        replyErrorWrongType(c);
        return;
    }
    long long when = 0;
    if (expire && strExpireMs(c, *expire, flags, unit, &when) == -1) return;
    replyEntryValue(c, e);
    char num[LONG_STR_SIZE];
    if ((flags & (SET_EXAT | SET_PXAT)) && dbAlreadyExpired(when)) {
        dbDelete(c->db, c->argv[1].p, c->argv[1].len);
        srv.dirty++;
        slice del[2] = {srv.lazyfreeLazyExpire ? propStr("UNLINK") : propStr("DEL"), c->argv[1]};
        propReplace(c, del, 2);
    } else if (expire) {
        dbSetExpire(c->db, e, when);
        dbTouchKey(c->db, c->argv[1].p, c->argv[1].len);
        srv.dirty++;
        slice pexp[3] = {propStr("PEXPIREAT"), c->argv[1], propLL(num, when)};
        propReplace(c, pexp, 3);
    } else if (flags & SET_PERSIST) {
        if (dbRemoveExpire(c->db, e)) {
            dbTouchKey(c->db, c->argv[1].p, c->argv[1].len);
            srv.dirty++;
            slice persist[2] = {propStr("PERSIST"), c->argv[1]};
            propReplace(c, persist, 2);
        }
    }
}

/* ---- multi-key ------------------------------------------------------------ */

static void mgetCommand(client *c) {
    replyArrayLen(c, c->argc - 1);
    for (int j = 1; j < c->argc; j++) {
        dbEntry *e = dbLookupRead(c->db, c->argv[j]);
        if (!e || e->type != OBJ_STRING) replyNull(c);
        else replyEntryValue(c, e);
    }
}

static void msetGeneric(client *c, int nx) {
    if ((c->argc % 2) == 0) {
        replyErrorArity(c);
        return;
    }
    if (nx) {
        for (int j = 1; j < c->argc; j += 2) {
            if (dbLookupWrite(c->db, c->argv[j])) {
                replyLongLong(c, 0);
                return;
            }
        }
    }
    /* A lookup per pair, even for MSETNX: a key may be repeated. */
    for (int j = 1; j < c->argc; j += 2)
        objSetString(c->db, strFindForSet(c->db, c->argv[j]), c->argv[j], c->argv[j + 1], 0, 0);
    srv.dirty += (c->argc - 1) / 2;
    if (nx) replyLongLong(c, 1);
    else replyOk(c);
}

static void msetCommand(client *c) { msetGeneric(c, 0); }
static void msetnxCommand(client *c) { msetGeneric(c, 1); }

/* ---- counters ------------------------------------------------------------- */

/* INCR/DECR/INCRBY/DECRBY. An INT value is added to in place (no
 * allocation, TTL untouched); a string value that parses as an integer is
 * turned into INT in place too. */
static void strIncrDecr(client *c, long long incr) {
    dbEntry *e = dbLookupWrite(c->db, c->argv[1]);
    long long value = 0;
    if (e) {
        if (e->type != OBJ_STRING) {
            replyErrorWrongType(c);
            return;
        }
        if (e->enc == ENC_INT) {
            value = e->v.i;
        } else {
            char nb[LONG_STR_SIZE];
            const char *p;
            size_t len;
            objStringBytes(e, nb, &p, &len);
            if (!string2ll(p, len, &value)) {
                replyErrorNotInt(c);
                return;
            }
        }
    }
    if ((incr < 0 && value < 0 && incr < LLONG_MIN - value) || (incr > 0 && value > 0 && incr > LLONG_MAX - value)) {
        replyError(c, "increment or decrement would overflow");
        return;
    }
    value += incr;
    if (e) {
        if (e->enc != ENC_INT) {
            objFreeValue(e); /* frees a RAW buffer; INLINE bytes just go unused */
            e->enc = ENC_INT;
        }
        e->v.i = value;
        dbTouchKey(c->db, c->argv[1].p, c->argv[1].len);
    } else {
        dbInsert(c->db, objNewIntEntry(c->argv[1].p, c->argv[1].len, value));
    }
    srv.dirty++;
    replyLongLong(c, value);
}

static void incrCommand(client *c) { strIncrDecr(c, 1); }
static void decrCommand(client *c) { strIncrDecr(c, -1); }

static void incrbyCommand(client *c) {
    long long incr;
    if (getLongLongFromSliceOrReply(c, c->argv[2], &incr, NULL) == -1) return;
    strIncrDecr(c, incr);
}

static void decrbyCommand(client *c) {
    long long incr;
    if (getLongLongFromSliceOrReply(c, c->argv[2], &incr, NULL) == -1) return;
    if (incr == LLONG_MIN) {
        /* -LLONG_MIN does not exist. */
        replyError(c, "decrement would overflow");
        return;
    }
    strIncrDecr(c, -incr);
}

static void incrbyfloatCommand(client *c) {
    dbEntry *e = dbLookupWrite(c->db, c->argv[1]);
    long double value = 0, incr;
    if (e) {
        if (e->type != OBJ_STRING) {
            replyErrorWrongType(c);
            return;
        }
        if (e->enc == ENC_INT) {
            value = (long double)e->v.i;
        } else {
            char nb[LONG_STR_SIZE];
            const char *p;
            size_t len;
            objStringBytes(e, nb, &p, &len);
            if (!string2ld(p, len, &value)) {
                replyError(c, "value is not a valid float");
                return;
            }
        }
    }
    if (getLongDoubleFromSliceOrReply(c, c->argv[2], &incr, NULL) == -1) return;
    value += incr;
    if (isnan(value) || isinf(value)) {
        replyError(c, "increment would produce NaN or Infinity");
        return;
    }
    char buf[MAX_LONG_DOUBLE_CHARS];
    int len = ld2string(buf, sizeof(buf), value, 1);
    /* Stored as a string, never INT-encoded, as Redis does (OBJECT ENCODING
     * says embstr); the TTL is kept. */
    dbEntry *n = objNewInlineEntry(c->argv[1].p, c->argv[1].len, buf, (size_t)len);
    if (e) {
        n->expire = e->expire;
        dbReplace(c->db, e, n);
    } else {
        dbInsert(c->db, n);
    }
    srv.dirty++;
    /* The result, not the increment: float formatting may differ on the
     * replica (Redis 7.0: SET key value KEEPTTL). */
    slice set[4] = {propStr("SET"), c->argv[1], {buf, (size_t)len}, propStr("KEEPTTL")};
    propReplace(c, set, 4);
    replyBulk(c, buf, (size_t)len);
}

/* ---- byte-string edits ---------------------------------------------------- */

/* Redis' checkStringLength: the result may not exceed proto-max-bulk-len. */
static int strCheckLength(client *c, unsigned long long size, unsigned long long append) {
    unsigned long long total = size + append;
    if (total > (unsigned long long)srv.protoMaxBulkLen || total < size) {
        replyError(c, "string exceeds maximum allowed size (proto-max-bulk-len)");
        return -1;
    }
    return 0;
}

static void appendCommand(client *c) {
    slice key = c->argv[1], add = c->argv[2];
    dbEntry *e = dbLookupWrite(c->db, key);
    size_t total;
    if (!e) {
        dbInsert(c->db, objNewStringEntry(key.p, key.len, add.p, add.len));
        total = add.len;
    } else {
        if (e->type != OBJ_STRING) {
            replyErrorWrongType(c);
            return;
        }
        size_t oldlen = objStringLen(e);
        if (strCheckLength(c, oldlen, add.len) == -1) return;
        /* RAW grows geometrically, so repeated APPENDs are amortised O(1). */
        e = objMakeRaw(c->db, e, oldlen + add.len);
        rawStr *r = e->v.ptr;
        if (add.len) memcpy(r->buf + r->len, add.p, add.len);
        r->len += add.len;
        total = r->len;
        dbTouchKey(c->db, key.p, key.len);
    }
    srv.dirty++;
    replyLongLong(c, (long long)total);
}

static void strlenCommand(client *c) {
    dbEntry *e = dbLookupRead(c->db, c->argv[1]);
    if (!e) {
        replyLongLong(c, 0);
        return;
    }
    if (e->type != OBJ_STRING) {
        replyErrorWrongType(c);
        return;
    }
    replyLongLong(c, (long long)objStringLen(e));
}

static void getrangeCommand(client *c) {
    long long start, end;
    if (getLongLongFromSliceOrReply(c, c->argv[2], &start, NULL) == -1) return;
    if (getLongLongFromSliceOrReply(c, c->argv[3], &end, NULL) == -1) return;
    dbEntry *e = dbLookupRead(c->db, c->argv[1]);
    if (!e) {
        replyBulk(c, "", 0);
        return;
    }
    if (e->type != OBJ_STRING) {
        replyErrorWrongType(c);
        return;
    }
    char nb[LONG_STR_SIZE];
    const char *p;
    size_t len;
    objStringBytes(e, nb, &p, &len);
    long long slen = (long long)len;
    if (start < 0 && end < 0 && start > end) {
        replyBulk(c, "", 0);
        return;
    }
    if (start < 0) start = slen + start;
    if (end < 0) end = slen + end;
    if (start < 0) start = 0;
    if (end < 0) end = 0;
    if (end >= slen) end = slen - 1;
    if (slen == 0 || start > end) replyBulk(c, "", 0);
    else replyBulk(c, p + start, (size_t)(end - start + 1));
}

static void setrangeCommand(client *c) {
    slice key = c->argv[1], val = c->argv[3];
    long offset;
    if (getLongFromSliceOrReply(c, c->argv[2], &offset, NULL) == -1) return;
    if (offset < 0) {
        replyError(c, "offset is out of range");
        return;
    }
    dbEntry *e = dbLookupWrite(c->db, key);
    if (!e) {
        /* Setting nothing on a missing key creates nothing. */
        if (val.len == 0) {
            replyLongLong(c, 0);
            return;
        }
        if (strCheckLength(c, (unsigned long long)offset, val.len) == -1) return;
        size_t total = (size_t)offset + val.len;
        e = objNewRawEntry(key.p, key.len, NULL, (size_t)offset, total);
        rawStr *r = e->v.ptr;
        memcpy(r->buf + offset, val.p, val.len);
        r->len = total;
        dbInsert(c->db, e);
        srv.dirty++;
        replyLongLong(c, (long long)total);
        return;
    }
    if (e->type != OBJ_STRING) {
        replyErrorWrongType(c);
        return;
    }
    size_t oldlen = objStringLen(e);
    if (val.len == 0) {
        replyLongLong(c, (long long)oldlen);
        return;
    }
    if (strCheckLength(c, (unsigned long long)offset, val.len) == -1) return;
    size_t end = (size_t)offset + val.len;
    e = objMakeRaw(c->db, e, end > oldlen ? end : oldlen);
    rawStr *r = e->v.ptr;
    if ((size_t)offset > r->len) memset(r->buf + r->len, 0, (size_t)offset - r->len);
    memcpy(r->buf + offset, val.p, val.len);
    if (end > r->len) r->len = end;
    dbTouchKey(c->db, key.p, key.len);
    srv.dirty++;
    replyLongLong(c, (long long)r->len);
}

/* ---- LCS ------------------------------------------------------------------ */

/* Redis 7.0's lcsCommand: the classic O(N*M) dynamic-programming table, then
 * a walk back from the end that rebuilds the common subsequence and, for
 * IDX, the matching ranges (last first). */
static void lcsCommand(client *c) {
    dbEntry *ea = dbLookupRead(c->db, c->argv[1]);
    dbEntry *eb = dbLookupRead(c->db, c->argv[2]);
    if ((ea && ea->type != OBJ_STRING) || (eb && eb->type != OBJ_STRING)) {
        replyError(c, "The specified keys must contain string values");
        return;
    }
    int getlen = 0, getidx = 0, withmatchlen = 0;
    long long minmatchlen = 0;
    for (int j = 3; j < c->argc; j++) {
        slice o = c->argv[j];
        int moreargs = (c->argc - 1) - j;
        if (sliceEqNocase(o, "idx")) {
            getidx = 1;
        } else if (sliceEqNocase(o, "len")) {
            getlen = 1;
        } else if (sliceEqNocase(o, "withmatchlen")) {
            withmatchlen = 1;
        } else if (sliceEqNocase(o, "minmatchlen") && moreargs) {
            if (getLongLongFromSliceOrReply(c, c->argv[j + 1], &minmatchlen, NULL) == -1) return;
            if (minmatchlen < 0) minmatchlen = 0;
            j++;
        } else {
            replyErrorSyntax(c);
            return;
        }
    }
    if (getidx && getlen) {
        replyError(c, "If you want both the length and indexes, please just use IDX.");
        return;
    }
    /* Both values are read before anything is replied or allocated, and
     * nothing writes while we hold them. */
    char nba[LONG_STR_SIZE], nbb[LONG_STR_SIZE];
    const char *a = "", *b = "";
    size_t alen0 = 0, blen0 = 0;
    if (ea) objStringBytes(ea, nba, &a, &alen0);
    if (eb) objStringBytes(eb, nbb, &b, &blen0);
    if (alen0 >= UINT32_MAX - 1 || blen0 >= UINT32_MAX - 1) {
        replyError(c, "String too long for LCS");
        return;
    }
    uint32_t alen = (uint32_t)alen0, blen = (uint32_t)blen0;
    unsigned long long cells = (unsigned long long)(alen + 1ULL) * (blen + 1ULL);
    unsigned long long bytes = cells * sizeof(uint32_t);
    if (bytes / sizeof(uint32_t) != cells || bytes > (unsigned long long)srv.protoMaxBulkLen) {
        replyError(c, "Insufficient memory, transient memory for LCS exceeds proto-max-bulk-len");
        return;
    }
    uint32_t *lcs = memAlloc((size_t)bytes);
#define LCS(A, B) lcs[(B) + ((size_t)(A) * (blen + 1))]
    for (uint32_t i = 0; i <= alen; i++) {
        for (uint32_t j = 0; j <= blen; j++) {
            if (i == 0 || j == 0) {
                LCS(i, j) = 0;
            } else if (a[i - 1] == b[j - 1]) {
                LCS(i, j) = LCS(i - 1, j - 1) + 1;
            } else {
                uint32_t l1 = LCS(i - 1, j), l2 = LCS(i, j - 1);
                LCS(i, j) = l1 > l2 ? l1 : l2;
            }
        }
    }
    uint32_t idx = LCS(alen, blen);
    uint32_t total = idx;
    int computelcs = getidx || !getlen;
    char *result = computelcs ? memAlloc(idx ? idx : 1) : NULL;
    void *arraylenptr = NULL;
    long arraylen = 0;
    uint32_t arangeStart = alen, arangeEnd = 0, brangeStart = 0, brangeEnd = 0;
    if (getidx) {
        replyMapLen(c, 2);
        replyBulkCString(c, "matches");
        arraylenptr = replyDeferredLen(c);
    }
    uint32_t i = alen, j = blen;
    while (computelcs && i > 0 && j > 0) {
        int emit = 0;
        if (a[i - 1] == b[j - 1]) {
            result[idx - 1] = a[i - 1];
            if (arangeStart == alen) {
                arangeStart = i - 1;
                arangeEnd = i - 1;
                brangeStart = j - 1;
                brangeEnd = j - 1;
            } else if (arangeStart == i && brangeStart == j) {
                arangeStart--;
                brangeStart--;
            } else {
                emit = 1;
            }
            if (arangeStart == 0 || brangeStart == 0) emit = 1;
            idx--;
            i--;
            j--;
        } else {
            uint32_t l1 = LCS(i - 1, j), l2 = LCS(i, j - 1);
            if (l1 > l2) i--;
            else j--;
            if (arangeStart != alen) emit = 1;
        }
        uint32_t matchLen = arangeEnd - arangeStart + 1;
        if (emit) {
            if (minmatchlen == 0 || matchLen >= minmatchlen) {
                if (getidx) {
                    replyArrayLen(c, 2 + withmatchlen);
                    replyArrayLen(c, 2);
                    replyLongLong(c, arangeStart);
                    replyLongLong(c, arangeEnd);
                    replyArrayLen(c, 2);
                    replyLongLong(c, brangeStart);
                    replyLongLong(c, brangeEnd);
                    if (withmatchlen) replyLongLong(c, matchLen);
                    arraylen++;
                }
            }
            arangeStart = alen;
        }
    }
#undef LCS
    memFree(lcs);
    if (getidx) {
        replyBulkCString(c, "len");
        replyLongLong(c, total);
        replySetDeferredArrayLen(c, arraylenptr, arraylen);
    } else if (getlen) {
        replyLongLong(c, total);
    } else {
        replyBulk(c, result, total);
    }
    memFree(result);
}

/* ---- table ---------------------------------------------------------------- */

/* Arity, flags, key positions and categories as Redis 7.0's COMMAND INFO;
 * group/since/summary/complexity as its COMMAND DOCS. */
cmdDef stringCommands[] = {
    {.name = "get", .proc = getCommand, .arity = 2, .flags = CMD_READONLY | CMD_FAST, .acl = ACL_STRING,
     .firstKey = 1, .lastKey = 1, .keyStep = 1, .group = "string", .since = "1.0.0",
     .summary = "Get the value of a key", .complexity = "O(1)"},
    {.name = "set", .proc = setCommand, .arity = -3, .flags = CMD_WRITE | CMD_DENYOOM, .acl = ACL_STRING,
     .firstKey = 1, .lastKey = 1, .keyStep = 1, .group = "string", .since = "1.0.0",
     .summary = "Set the string value of a key", .complexity = "O(1)"},
    {.name = "setnx", .proc = setnxCommand, .arity = 3, .flags = CMD_WRITE | CMD_DENYOOM | CMD_FAST,
     .acl = ACL_STRING, .firstKey = 1, .lastKey = 1, .keyStep = 1, .group = "string", .since = "1.0.0",
     .summary = "Set the value of a key, only if the key does not exist", .complexity = "O(1)"},
    {.name = "setex", .proc = setexCommand, .arity = 4, .flags = CMD_WRITE | CMD_DENYOOM, .acl = ACL_STRING,
     .firstKey = 1, .lastKey = 1, .keyStep = 1, .group = "string", .since = "2.0.0",
     .summary = "Set the value and expiration of a key", .complexity = "O(1)"},
    {.name = "psetex", .proc = psetexCommand, .arity = 4, .flags = CMD_WRITE | CMD_DENYOOM, .acl = ACL_STRING,
     .firstKey = 1, .lastKey = 1, .keyStep = 1, .group = "string", .since = "2.6.0",
     .summary = "Set the value and expiration in milliseconds of a key", .complexity = "O(1)"},
    {.name = "mget", .proc = mgetCommand, .arity = -2, .flags = CMD_READONLY | CMD_FAST, .acl = ACL_STRING,
     .firstKey = 1, .lastKey = -1, .keyStep = 1, .group = "string", .since = "1.0.0",
     .summary = "Get the values of all the given keys", .complexity = "O(N) where N is the number of keys to retrieve."},
    {.name = "mset", .proc = msetCommand, .arity = -3, .flags = CMD_WRITE | CMD_DENYOOM, .acl = ACL_STRING,
     .firstKey = 1, .lastKey = -1, .keyStep = 2, .group = "string", .since = "1.0.1",
     .summary = "Set multiple keys to multiple values", .complexity = "O(N) where N is the number of keys to set."},
    {.name = "msetnx", .proc = msetnxCommand, .arity = -3, .flags = CMD_WRITE | CMD_DENYOOM, .acl = ACL_STRING,
     .firstKey = 1, .lastKey = -1, .keyStep = 2, .group = "string", .since = "1.0.1",
     .summary = "Set multiple keys to multiple values, only if none of the keys exist",
     .complexity = "O(N) where N is the number of keys to set."},
    {.name = "getset", .proc = getsetCommand, .arity = 3, .flags = CMD_WRITE | CMD_DENYOOM | CMD_FAST,
     .acl = ACL_STRING, .firstKey = 1, .lastKey = 1, .keyStep = 1, .group = "string", .since = "1.0.0",
     .summary = "Set the string value of a key and return its old value", .complexity = "O(1)"},
    {.name = "getdel", .proc = getdelCommand, .arity = 2, .flags = CMD_WRITE | CMD_FAST, .acl = ACL_STRING,
     .firstKey = 1, .lastKey = 1, .keyStep = 1, .group = "string", .since = "6.2.0",
     .summary = "Get the value of a key and delete the key", .complexity = "O(1)"},
    {.name = "getex", .proc = getexCommand, .arity = -2, .flags = CMD_WRITE | CMD_FAST, .acl = ACL_STRING,
     .firstKey = 1, .lastKey = 1, .keyStep = 1, .group = "string", .since = "6.2.0",
     .summary = "Get the value of a key and optionally set its expiration", .complexity = "O(1)"},
    {.name = "incr", .proc = incrCommand, .arity = 2, .flags = CMD_WRITE | CMD_DENYOOM | CMD_FAST,
     .acl = ACL_STRING, .firstKey = 1, .lastKey = 1, .keyStep = 1, .group = "string", .since = "1.0.0",
     .summary = "Increment the integer value of a key by one", .complexity = "O(1)"},
    {.name = "decr", .proc = decrCommand, .arity = 2, .flags = CMD_WRITE | CMD_DENYOOM | CMD_FAST,
     .acl = ACL_STRING, .firstKey = 1, .lastKey = 1, .keyStep = 1, .group = "string", .since = "1.0.0",
     .summary = "Decrement the integer value of a key by one", .complexity = "O(1)"},
    {.name = "incrby", .proc = incrbyCommand, .arity = 3, .flags = CMD_WRITE | CMD_DENYOOM | CMD_FAST,
     .acl = ACL_STRING, .firstKey = 1, .lastKey = 1, .keyStep = 1, .group = "string", .since = "1.0.0",
     .summary = "Increment the integer value of a key by the given amount", .complexity = "O(1)"},
    {.name = "decrby", .proc = decrbyCommand, .arity = 3, .flags = CMD_WRITE | CMD_DENYOOM | CMD_FAST,
     .acl = ACL_STRING, .firstKey = 1, .lastKey = 1, .keyStep = 1, .group = "string", .since = "1.0.0",
     .summary = "Decrement the integer value of a key by the given number", .complexity = "O(1)"},
    {.name = "incrbyfloat", .proc = incrbyfloatCommand, .arity = 3, .flags = CMD_WRITE | CMD_DENYOOM | CMD_FAST,
     .acl = ACL_STRING, .firstKey = 1, .lastKey = 1, .keyStep = 1, .group = "string", .since = "2.6.0",
     .summary = "Increment the float value of a key by the given amount", .complexity = "O(1)"},
    {.name = "append", .proc = appendCommand, .arity = 3, .flags = CMD_WRITE | CMD_DENYOOM | CMD_FAST,
     .acl = ACL_STRING, .firstKey = 1, .lastKey = 1, .keyStep = 1, .group = "string", .since = "2.0.0",
     .summary = "Append a value to a key",
     .complexity = "O(1). The amortized time complexity is O(1) assuming the appended value is small and the "
                   "already present value is of any size, since the dynamic string library used by Redis will "
                   "double the free space available on every reallocation."},
    {.name = "strlen", .proc = strlenCommand, .arity = 2, .flags = CMD_READONLY | CMD_FAST, .acl = ACL_STRING,
     .firstKey = 1, .lastKey = 1, .keyStep = 1, .group = "string", .since = "2.2.0",
     .summary = "Get the length of the value stored in a key", .complexity = "O(1)"},
    {.name = "getrange", .proc = getrangeCommand, .arity = 4, .flags = CMD_READONLY, .acl = ACL_STRING,
     .firstKey = 1, .lastKey = 1, .keyStep = 1, .group = "string", .since = "2.4.0",
     .summary = "Get a substring of the string stored at a key",
     .complexity = "O(N) where N is the length of the returned string. The complexity is ultimately determined "
                   "by the returned length, but because creating a substring from an existing string is very "
                   "cheap, it can be considered O(1) for small strings."},
    {.name = "substr", .proc = getrangeCommand, .arity = 4, .flags = CMD_READONLY, .acl = ACL_STRING,
     .firstKey = 1, .lastKey = 1, .keyStep = 1, .group = "string", .since = "1.0.0",
     .summary = "Get a substring of the string stored at a key",
     .complexity = "O(N) where N is the length of the returned string. The complexity is ultimately determined "
                   "by the returned length, but because creating a substring from an existing string is very "
                   "cheap, it can be considered O(1) for small strings."},
    {.name = "setrange", .proc = setrangeCommand, .arity = 4, .flags = CMD_WRITE | CMD_DENYOOM, .acl = ACL_STRING,
     .firstKey = 1, .lastKey = 1, .keyStep = 1, .group = "string", .since = "2.2.0",
     .summary = "Overwrite part of a string at key starting at the specified offset",
     .complexity = "O(1), not counting the time taken to copy the new string in place. Usually, this string is "
                   "very small so the amortized complexity is O(1). Otherwise, complexity is O(M) with M being "
                   "the length of the value argument."},
    {.name = "lcs", .proc = lcsCommand, .arity = -3, .flags = CMD_READONLY, .acl = ACL_STRING, .firstKey = 1,
     .lastKey = 2, .keyStep = 1, .group = "string", .since = "7.0.0", .summary = "Find longest common substring",
     .complexity = "O(N*M) where N and M are the lengths of s1 and s2, respectively"},
    {0}};
