/* cmd_keys.c - the generic key commands of Redis 7 (group "generic"):
 * DEL UNLINK EXISTS TOUCH TYPE, the EXPIRE family, TTL/PTTL/EXPIRETIME/
 * PEXPIRETIME, PERSIST, RENAME/RENAMENX, COPY, MOVE, KEYS, SCAN, RANDOMKEY.
 *
 * Owns: nothing but its command table. Every key change goes through db.c
 * (dbInsert/dbDelete/dbUnlinkEntry/dbSetExpire/...), so TTL index and WATCH
 * stay consistent; values are moved with objRekeyEntry (RENAME) or relinked
 * as is (MOVE), never copied except by COPY.
 * Must never: return or count a logically expired key, change anything when
 * it answers an error, or walk an unbounded part of the keyspace in SCAN or
 * RANDOMKEY (KEYS is O(N) by contract, as in Redis). */
#include "server.h"
#include "pause.h"
#include "repl.h"
#include "db.h"
#include "client.h"
#include "reply.h"
#include "cmd.h"
#include "args.h"
#include "propagate.h"
#include "snapshot.h"
#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* ---- helpers --------------------------------------------------------- */

static int keysSliceEq(slice a, slice b) { return a.len == b.len && (a.len == 0 || memcmp(a.p, b.p, a.len) == 0); }

static int keysIsExpired(const dbEntry *e) { return e->expire != 0 && e->expire <= srv.mstime; }

/* Read lookup that counts hits/misses but leaves the LRU/LFU clock alone, as
 * Redis' LOOKUP_NOTOUCH (TYPE, EXISTS, TTL...: inspecting is not using). */
static dbEntry *keysLookupNoTouch(cdb *db, slice key) {
    dbEntry *e = dbFind(db, key.p, key.len);
    if (e) srv.statKeyspaceHits++;
    else srv.statKeyspaceMisses++;
    return e;
}

/* Redis' getIntFromObjectOrReply + selectDb check, as COPY DB and MOVE use. */
static cdb *keysParseDbOrReply(client *c, slice s) {
    long long id;
    if (getLongLongFromSliceOrReply(c, s, &id, NULL) == -1) return NULL;
    if (id < INT_MIN || id > INT_MAX) {
        replyError(c, "value is out of range, value must between -2147483648 and 2147483647");
        return NULL;
    }
    if (id < 0 || id >= srv.dbnum) {
        replyError(c, "DB index is out of range");
        return NULL;
    }
    return &srv.db[id];
}

/* ---- DEL UNLINK EXISTS TOUCH TYPE -------------------------------------- */

/* UNLINK hands large values to the lazy-free thread; DEL does when
 * lazyfree-lazy-user-del is yes, as in Redis 7.0. Expired keys do not count
 * as deleted (dbFind removes them first). */
static void keysDelGeneric(client *c, int async) {
    long long n = 0;
    for (int i = 1; i < c->argc; i++) {
        if (!dbFind(c->db, c->argv[i].p, c->argv[i].len)) continue;
        n += dbDeleteGeneric(c->db, c->argv[i].p, c->argv[i].len, async);
    }
    srv.dirty += n;
    replyLongLong(c, n);
}
static void delCommand(client *c) { keysDelGeneric(c, srv.lazyfreeLazyUserDel); }
static void unlinkCommand(client *c) { keysDelGeneric(c, 1); }

/* A key named twice counts twice, as in Redis. */
static void existsCommand(client *c) {
    long long n = 0;
    for (int i = 1; i < c->argc; i++)
        if (keysLookupNoTouch(c->db, c->argv[i])) n++;
    replyLongLong(c, n);
}

static void touchCommand(client *c) {
    long long n = 0;
    for (int i = 1; i < c->argc; i++) {
        dbEntry *e = dbLookupRead(c->db, c->argv[i]);
        if (!e) continue;
        if (!snapshotChildRunning()) dbUpdateLru(e); /* even for a CLIENT NO-TOUCH client; not under a fork, as Redis */
        n++;
    }
    replyLongLong(c, n);
}

static void typeCommand(client *c) {
    dbEntry *e = keysLookupNoTouch(c->db, c->argv[1]);
    replyStatus(c, e ? dbTypeName(e->type) : "none");
}

/* ---- EXPIRE family ----------------------------------------------------- */

#define KEYS_EXPIRE_NX (1 << 0)
#define KEYS_EXPIRE_XX (1 << 1)
#define KEYS_EXPIRE_GT (1 << 2)
#define KEYS_EXPIRE_LT (1 << 3)

static int keysParseExpireFlagsOrReply(client *c, int *flags) {
    *flags = 0;
    for (int j = 3; j < c->argc; j++) {
        slice o = c->argv[j];
        if (sliceEqNocase(o, "nx")) *flags |= KEYS_EXPIRE_NX;
        else if (sliceEqNocase(o, "xx")) *flags |= KEYS_EXPIRE_XX;
        else if (sliceEqNocase(o, "gt")) *flags |= KEYS_EXPIRE_GT;
        else if (sliceEqNocase(o, "lt")) *flags |= KEYS_EXPIRE_LT;
        else {
            /* Redis prints the option as a C string: it stops at a NUL. */
            size_t n = strnlen(o.p, o.len);
            replyErrorFormat(c, "Unsupported option %.*s", (int)(n > 900 ? 900 : n), o.p);
            return -1;
        }
    }
    if ((*flags & KEYS_EXPIRE_NX) && (*flags & (KEYS_EXPIRE_XX | KEYS_EXPIRE_GT | KEYS_EXPIRE_LT))) {
        replyError(c, "NX and XX, GT or LT options at the same time are not compatible");
        return -1;
    }
    if ((*flags & KEYS_EXPIRE_GT) && (*flags & KEYS_EXPIRE_LT)) {
        replyError(c, "GT and LT options at the same time are not compatible");
        return -1;
    }
    return 0;
}

/* basetime: 0 for the *AT forms, now for relative ones; seconds: unit of
 * argv[2]. Mirrors Redis 7.0's expireGenericCommand step by step. */
static void keysExpireGeneric(client *c, long long basetime, int seconds) {
    int flags;
    long long when;
    if (keysParseExpireFlagsOrReply(c, &flags) == -1) return;
    if (getLongLongFromSliceOrReply(c, c->argv[2], &when, NULL) == -1) return;
    if (seconds) {
        if (when > LLONG_MAX / 1000 || when < LLONG_MIN / 1000) goto overflow;
        when *= 1000;
    }
    if (when > LLONG_MAX - basetime) goto overflow;
    when += basetime;

    dbEntry *e = dbLookupWrite(c->db, c->argv[1]);
    if (!e) {
        replyLongLong(c, 0);
        return;
    }
    if (flags) {
        /* A key without TTL counts as an infinite TTL: GT never beats it,
         * LT always does. */
        long long cur = e->expire ? e->expire : -1;
        if ((flags & KEYS_EXPIRE_NX) && cur != -1) goto notset;
        if ((flags & KEYS_EXPIRE_XX) && cur == -1) goto notset;
        if ((flags & KEYS_EXPIRE_GT) && (cur == -1 || when <= cur)) goto notset;
        if ((flags & KEYS_EXPIRE_LT) && cur != -1 && when >= cur) goto notset;
    }
    if (dbAlreadyExpired(when)) {
        /* A time in the past deletes the key now (and says 1: it was set),
         * freed as an expiry is (Redis 7.0: lazyfree-lazy-expire). */
        dbDeleteGeneric(c->db, c->argv[1].p, c->argv[1].len, srv.lazyfreeLazyExpire);
        slice del[2] = {srv.lazyfreeLazyExpire ? propStr("UNLINK") : propStr("DEL"), c->argv[1]};
        propReplace(c, del, 2);
    } else {
        dbSetExpire(c->db, e, when);
        dbTouchKey(c->db, c->argv[1].p, c->argv[1].len);
        if (propActive()) {
            /* Redis 7.0: PEXPIREAT key <absolute ms> [the same options]. */
            char num[LONG_STR_SIZE];
            slice argv[8] = {propStr("PEXPIREAT"), c->argv[1], propLL(num, when)};
            int argc = 3;
            for (int j = 3; j < c->argc && argc < 8; j++) argv[argc++] = c->argv[j];
            propReplace(c, argv, argc);
        }
    }
    srv.dirty++;
    replyLongLong(c, 1);
    return;
notset:
    replyLongLong(c, 0);
    return;
overflow:
    replyErrorFormat(c, "invalid expire time in '%s' command", c->cmd ? c->cmd->fullname : "expire");
}

static void expireCommand(client *c) { keysExpireGeneric(c, srv.mstime, 1); }
static void pexpireCommand(client *c) { keysExpireGeneric(c, srv.mstime, 0); }
static void expireatCommand(client *c) { keysExpireGeneric(c, 0, 1); }
static void pexpireatCommand(client *c) { keysExpireGeneric(c, 0, 0); }

/* TTL, PTTL, EXPIRETIME, PEXPIRETIME: -2 missing, -1 no TTL. */
static void keysTtlGeneric(client *c, int ms, int absolute) {
    dbEntry *e = keysLookupNoTouch(c->db, c->argv[1]);
    if (!e) {
        replyLongLong(c, -2);
        return;
    }
    if (!e->expire) {
        replyLongLong(c, -1);
        return;
    }
    long long t = absolute ? e->expire : e->expire - srv.mstime;
    if (t < 0) t = 0;
    replyLongLong(c, ms ? t : (t + 500) / 1000);
}
static void ttlCommand(client *c) { keysTtlGeneric(c, 0, 0); }
static void pttlCommand(client *c) { keysTtlGeneric(c, 1, 0); }
static void expiretimeCommand(client *c) { keysTtlGeneric(c, 0, 1); }
static void pexpiretimeCommand(client *c) { keysTtlGeneric(c, 1, 1); }

static void persistCommand(client *c) {
    dbEntry *e = dbLookupWrite(c->db, c->argv[1]);
    if (!e || !dbRemoveExpire(c->db, e)) {
        replyLongLong(c, 0);
        return;
    }
    dbTouchKey(c->db, c->argv[1].p, c->argv[1].len);
    srv.dirty++;
    replyLongLong(c, 1);
}

/* ---- RENAME RENAMENX COPY MOVE ----------------------------------------- */

static void keysRenameGeneric(client *c, int nx) {
    slice src = c->argv[1], dst = c->argv[2];
    dbEntry *e = dbLookupWrite(c->db, src);
    if (!e) {
        replyError(c, "no such key");
        return;
    }
    if (keysSliceEq(src, dst)) {
        if (nx) replyLongLong(c, 0);
        else replyOk(c);
        return;
    }
    /* The destination lookup may expire (free) dst, never src: e stays valid. */
    if (dbFind(c->db, dst.p, dst.len)) {
        if (nx) {
            replyLongLong(c, 0);
            return;
        }
        dbDelete(c->db, dst.p, dst.len);
    }
    /* The value moves to a new entry under the new name (the key bytes live
     * in the entry); TTL and LRU go with it. */
    e = dbUnlinkEntry(c->db, src.p, src.len);
    dbInsert(c->db, objRekeyEntry(e, dst.p, dst.len));
    srv.dirty++;
    if (nx) replyLongLong(c, 1);
    else replyOk(c);
}
static void renameCommand(client *c) { keysRenameGeneric(c, 0); }
static void renamenxCommand(client *c) { keysRenameGeneric(c, 1); }

static void copyCommand(client *c) {
    cdb *dstdb = c->db;
    int replace = 0;
    for (int j = 3; j < c->argc; j++) {
        int additional = c->argc - j - 1;
        if (sliceEqNocase(c->argv[j], "replace")) {
            replace = 1;
        } else if (sliceEqNocase(c->argv[j], "db") && additional >= 1) {
            if (!(dstdb = keysParseDbOrReply(c, c->argv[j + 1]))) return;
            j++;
        } else {
            replyErrorSyntax(c);
            return;
        }
    }
    if (srv.clusterEnabled && dstdb != c->db) { /* cluster mode has db 0 only */
        replyError(c, "Copying to another database is not allowed in cluster mode");
        return;
    }
    slice key = c->argv[1], newkey = c->argv[2];
    if (dstdb == c->db && keysSliceEq(key, newkey)) {
        replyError(c, "source and destination objects are the same");
        return;
    }
    dbEntry *e = dbLookupRead(c->db, key);
    if (!e) {
        replyLongLong(c, 0);
        return;
    }
    /* May expire newkey in dstdb; e is another key, so it stays valid. */
    if (dbFind(dstdb, newkey.p, newkey.len)) {
        if (!replace) {
            replyLongLong(c, 0);
            return;
        }
        dbDelete(dstdb, newkey.p, newkey.len);
    }
    dbInsert(dstdb, objDupEntry(e, newkey.p, newkey.len)); /* TTL copied too */
    srv.dirty++;
    replyLongLong(c, 1);
}

static void moveCommand(client *c) {
    if (srv.clusterEnabled) {
        replyError(c, "MOVE is not allowed in cluster mode");
        return;
    }
    cdb *dstdb = keysParseDbOrReply(c, c->argv[2]);
    if (!dstdb) return;
    if (dstdb == c->db) {
        replyError(c, "source and destination objects are the same");
        return;
    }
    slice key = c->argv[1];
    if (!dbLookupWrite(c->db, key) || dbFind(dstdb, key.p, key.len)) {
        replyLongLong(c, 0);
        return;
    }
    /* Same name, so the entry itself is relinked: nothing is copied. The
     * expire index is left by the unlink and rebuilt by the insert. */
    dbEntry *e = dbUnlinkEntry(c->db, key.p, key.len);
    dbInsert(dstdb, e);
    srv.dirty++;
    replyLongLong(c, 1);
}

/* ---- KEYS SCAN RANDOMKEY ------------------------------------------------ */

/* O(N) by contract (hence @dangerous). Expired keys are skipped, not deleted:
 * the iterator must see no change, and active expiry will get them. */
static void keysCommand(client *c) {
    slice pat = c->argv[1];
    int all = pat.len == 1 && pat.p[0] == '*';
    void *len = replyDeferredLen(c);
    long n = 0;
    kvsIter it;
    kvsIterInit(&it, &c->db->keys, 0);
    dictNode *node;
    while ((node = kvsNext(&it))) {
        dbEntry *e = (dbEntry *)node;
        if (keysIsExpired(e)) continue;
        if (!all && !globMatch(pat.p, pat.len, e->key, e->keylen, 0)) continue;
        replyBulk(c, e->key, e->keylen);
        n++;
    }
    kvsIterEnd(&it);
    replySetDeferredArrayLen(c, len, n);
}

/* Redis parses the cursor with strtoul: leading '+'/'-' accepted (a '-'
 * wraps), leading space, trailing bytes or overflow rejected. */
static int keysParseCursorOrReply(client *c, slice s, unsigned long *cursor) {
    char local[64];
    char *buf = s.len < sizeof(local) ? local : memAlloc(s.len + 1);
    memcpy(buf, s.p, s.len);
    buf[s.len] = '\0';
    char *end;
    errno = 0;
    *cursor = strtoul(buf, &end, 10);
    int bad = isspace((unsigned char)buf[0]) || end[0] != '\0' || errno == ERANGE;
    if (buf != local) memFree(buf);
    if (bad) {
        replyError(c, "invalid cursor");
        return -1;
    }
    return 0;
}

typedef struct keysScanState {
    dbEntry **keep; /* keys to return */
    size_t nkeep, capkeep;
    dbEntry **expired; /* met while scanning: deleted after the reply */
    size_t nexpired, capexpired;
    unsigned long visited; /* every key met, filtered or not: COUNT's unit */
    slice pat;
    int usePattern;
    slice type;
    int useType;
} keysScanState;

static void keysPush(dbEntry ***v, size_t *n, size_t *cap, dbEntry *e) {
    if (*n == *cap) {
        *cap = *cap ? *cap * 2 : 32;
        *v = memRealloc(*v, *cap * sizeof(**v)); // NOLINT(bugprone-sizeof-expression): an array of pointers, sized per pointer
    }
    (*v)[(*n)++] = e;
}

static void keysScanCb(void *priv, dictNode *node) {
    keysScanState *s = priv;
    dbEntry *e = (dbEntry *)node;
    s->visited++;
    if (s->usePattern && !globMatch(s->pat.p, s->pat.len, e->key, e->keylen, 0)) return;
    if (s->useType) {
        const char *t = dbTypeName(e->type);
        if (strlen(t) != s->type.len || strncasecmp(t, s->type.p, s->type.len) != 0) return;
    }
    if (keysIsExpired(e)) keysPush(&s->expired, &s->nexpired, &s->capexpired, e);
    else keysPush(&s->keep, &s->nkeep, &s->capkeep, e);
}

static void scanCommand(client *c) {
    unsigned long cursor;
    if (keysParseCursorOrReply(c, c->argv[1], &cursor) == -1) return;
    keysScanState s;
    memset(&s, 0, sizeof(s));
    long count = 10;
    for (int i = 2; i < c->argc; i += 2) {
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
        } else if (sliceEqNocase(c->argv[i], "type") && more >= 2) {
            s.type = c->argv[i + 1];
            s.useType = 1;
        } else {
            replyErrorSyntax(c);
            return;
        }
    }
    /* At most 10*COUNT buckets per call, as Redis: a sparse table returns
     * few keys rather than stalling the loop. */
    long maxIterations = count > LONG_MAX / 10 ? LONG_MAX : count * 10;
    do {
        cursor = kvsScan(&c->db->keys, cursor, keysScanCb, &s);
    } while (cursor && maxIterations-- && s.visited < (unsigned long)count);

    char cbuf[32];
    int clen = snprintf(cbuf, sizeof(cbuf), "%lu", cursor);
    replyArrayLen(c, 2);
    replyBulk(c, cbuf, (size_t)clen);
    replyArrayLen(c, (long)s.nkeep);
    for (size_t i = 0; i < s.nkeep; i++) replyBulk(c, s.keep[i]->key, s.keep[i]->keylen);
    /* Deleting frees only these entries; the ones already replied stay intact. */
    for (size_t i = 0; i < s.nexpired; i++) dbExpireIfNeeded(c->db, s.expired[i]);
    memFree(s.keep);
    memFree(s.expired);
}

/* Expired picks are deleted as they are found (as Redis' master does). Redis
 * loops until it finds a live key, which on a table of a million keys that
 * all expired together is a million deletions in one call; here the work per
 * call is bounded: KEYS_RANDOM_TRIES random picks, then a walk of at most
 * KEYS_RANDOM_SCAN_BUCKETS buckets from a random cursor. When both meet only
 * expired keys the answer is nil: nearly the whole db is expired, and every
 * call reclaims what it met, so later calls converge. */
#define KEYS_RANDOM_TRIES 1000
#define KEYS_RANDOM_SCAN_BUCKETS 10000
static void randomkeyCommand(client *c) {
    cdb *db = c->db;
    for (int tries = 0; tries < KEYS_RANDOM_TRIES; tries++) {
        dbEntry *e = (dbEntry *)kvsRandom(&db->keys);
        if (!e) {
            replyNull(c);
            return;
        }
        if (dbExpireIfNeeded(db, e)) {
            /* Under CLIENT PAUSE and on a replica expired keys stay: a db
             * of only those would never yield a live one, so Redis 7.0
             * answers with an expired name after its tries rather than
             * loop; so do we. */
            if ((pauseActive() || replIsReplica()) && tries == KEYS_RANDOM_TRIES - 1) {
                replyBulk(c, e->key, e->keylen);
                return;
            }
            continue;
        }
        replyBulk(c, e->key, e->keylen);
        return;
    }
    keysScanState s;
    memset(&s, 0, sizeof(s));
    unsigned long cursor = (unsigned long)random();
    for (long calls = 0; calls < KEYS_RANDOM_SCAN_BUCKETS && kvsSize(&db->keys); calls++) {
        cursor = kvsScan(&db->keys, cursor, keysScanCb, &s);
        if (s.nkeep) break;
        /* Reclaim after every call, so that a walk going round a small table
         * again never meets (and frees) an entry twice. */
        for (size_t i = 0; i < s.nexpired; i++) dbExpireIfNeeded(db, s.expired[i]);
        s.nexpired = 0;
    }
    if (s.nkeep) replyBulk(c, s.keep[0]->key, s.keep[0]->keylen);
    else replyNull(c);
    for (size_t i = 0; i < s.nexpired; i++) dbExpireIfNeeded(db, s.expired[i]);
    memFree(s.keep);
    memFree(s.expired);
}

/* ---- table ------------------------------------------------------------- */

cmdDef keyCommands[] = {
    {.name = "del", .proc = delCommand, .arity = -2, .flags = CMD_WRITE, .acl = ACL_KEYSPACE, .firstKey = 1, .lastKey = -1, .keyStep = 1, .group = "generic", .since = "1.0.0", .summary = "Delete a key",
     .complexity = "O(N) where N is the number of keys that will be removed. When a key to remove holds a value other than a string, the individual complexity for this key is O(M) where M is the number of elements in the list, set, sorted set or hash. Removing a single key that holds a string value is O(1)."},
    {.name = "unlink", .proc = unlinkCommand, .arity = -2, .flags = CMD_WRITE | CMD_FAST, .acl = ACL_KEYSPACE, .firstKey = 1, .lastKey = -1, .keyStep = 1, .group = "generic", .since = "4.0.0", .summary = "Delete a key asynchronously in another thread. Otherwise it is just as DEL, but non blocking.",
     .complexity = "O(1) for each key removed regardless of its size. Then the command does O(N) work in a different thread in order to reclaim memory, where N is the number of allocations the deleted objects where composed of."},
    {.name = "exists", .proc = existsCommand, .arity = -2, .flags = CMD_READONLY | CMD_FAST, .acl = ACL_KEYSPACE, .firstKey = 1, .lastKey = -1, .keyStep = 1, .group = "generic", .since = "1.0.0", .summary = "Determine if a key exists",
     .complexity = "O(N) where N is the number of keys to check."},
    {.name = "touch", .proc = touchCommand, .arity = -2, .flags = CMD_READONLY | CMD_FAST, .acl = ACL_KEYSPACE, .firstKey = 1, .lastKey = -1, .keyStep = 1, .group = "generic", .since = "3.2.1", .summary = "Alters the last access time of a key(s). Returns the number of existing keys specified.",
     .complexity = "O(N) where N is the number of keys that will be touched."},
    {.name = "type", .proc = typeCommand, .arity = 2, .flags = CMD_READONLY | CMD_FAST, .acl = ACL_KEYSPACE, .firstKey = 1, .lastKey = 1, .keyStep = 1, .group = "generic", .since = "1.0.0", .summary = "Determine the type stored at key", .complexity = "O(1)"},
    {.name = "expire", .proc = expireCommand, .arity = -3, .flags = CMD_WRITE | CMD_FAST, .acl = ACL_KEYSPACE, .firstKey = 1, .lastKey = 1, .keyStep = 1, .group = "generic", .since = "1.0.0", .summary = "Set a key's time to live in seconds", .complexity = "O(1)"},
    {.name = "pexpire", .proc = pexpireCommand, .arity = -3, .flags = CMD_WRITE | CMD_FAST, .acl = ACL_KEYSPACE, .firstKey = 1, .lastKey = 1, .keyStep = 1, .group = "generic", .since = "2.6.0", .summary = "Set a key's time to live in milliseconds", .complexity = "O(1)"},
    {.name = "expireat", .proc = expireatCommand, .arity = -3, .flags = CMD_WRITE | CMD_FAST, .acl = ACL_KEYSPACE, .firstKey = 1, .lastKey = 1, .keyStep = 1, .group = "generic", .since = "1.2.0", .summary = "Set the expiration for a key as a UNIX timestamp", .complexity = "O(1)"},
    {.name = "pexpireat", .proc = pexpireatCommand, .arity = -3, .flags = CMD_WRITE | CMD_FAST, .acl = ACL_KEYSPACE, .firstKey = 1, .lastKey = 1, .keyStep = 1, .group = "generic", .since = "2.6.0", .summary = "Set the expiration for a key as a UNIX timestamp specified in milliseconds", .complexity = "O(1)"},
    {.name = "ttl", .proc = ttlCommand, .arity = 2, .flags = CMD_READONLY | CMD_FAST, .acl = ACL_KEYSPACE, .firstKey = 1, .lastKey = 1, .keyStep = 1, .group = "generic", .since = "1.0.0", .summary = "Get the time to live for a key in seconds", .complexity = "O(1)"},
    {.name = "pttl", .proc = pttlCommand, .arity = 2, .flags = CMD_READONLY | CMD_FAST, .acl = ACL_KEYSPACE, .firstKey = 1, .lastKey = 1, .keyStep = 1, .group = "generic", .since = "2.6.0", .summary = "Get the time to live for a key in milliseconds", .complexity = "O(1)"},
    {.name = "expiretime", .proc = expiretimeCommand, .arity = 2, .flags = CMD_READONLY | CMD_FAST, .acl = ACL_KEYSPACE, .firstKey = 1, .lastKey = 1, .keyStep = 1, .group = "generic", .since = "7.0.0", .summary = "Get the expiration Unix timestamp for a key", .complexity = "O(1)"},
    {.name = "pexpiretime", .proc = pexpiretimeCommand, .arity = 2, .flags = CMD_READONLY | CMD_FAST, .acl = ACL_KEYSPACE, .firstKey = 1, .lastKey = 1, .keyStep = 1, .group = "generic", .since = "7.0.0", .summary = "Get the expiration Unix timestamp for a key in milliseconds", .complexity = "O(1)"},
    {.name = "persist", .proc = persistCommand, .arity = 2, .flags = CMD_WRITE | CMD_FAST, .acl = ACL_KEYSPACE, .firstKey = 1, .lastKey = 1, .keyStep = 1, .group = "generic", .since = "2.2.0", .summary = "Remove the expiration from a key", .complexity = "O(1)"},
    {.name = "rename", .proc = renameCommand, .arity = 3, .flags = CMD_WRITE, .acl = ACL_KEYSPACE, .firstKey = 1, .lastKey = 2, .keyStep = 1, .group = "generic", .since = "1.0.0", .summary = "Rename a key", .complexity = "O(1)"},
    {.name = "renamenx", .proc = renamenxCommand, .arity = 3, .flags = CMD_WRITE | CMD_FAST, .acl = ACL_KEYSPACE, .firstKey = 1, .lastKey = 2, .keyStep = 1, .group = "generic", .since = "1.0.0", .summary = "Rename a key, only if the new key does not exist", .complexity = "O(1)"},
    {.name = "copy", .proc = copyCommand, .arity = -3, .flags = CMD_WRITE | CMD_DENYOOM, .acl = ACL_KEYSPACE, .firstKey = 1, .lastKey = 2, .keyStep = 1, .group = "generic", .since = "6.2.0", .summary = "Copy a key",
     .complexity = "O(N) worst case for collections, where N is the number of nested items. O(1) for string values."},
    {.name = "move", .proc = moveCommand, .arity = 3, .flags = CMD_WRITE | CMD_FAST, .acl = ACL_KEYSPACE, .firstKey = 1, .lastKey = 1, .keyStep = 1, .group = "generic", .since = "1.0.0", .summary = "Move a key to another database", .complexity = "O(1)"},
    {.name = "keys", .proc = keysCommand, .arity = 2, .flags = CMD_READONLY, .acl = ACL_KEYSPACE | ACL_DANGEROUS, .group = "generic", .since = "1.0.0", .summary = "Find all keys matching the given pattern",
     .complexity = "O(N) with N being the number of keys in the database, under the assumption that the key names in the database and the given pattern have limited length."},
    {.name = "scan", .proc = scanCommand, .arity = -2, .flags = CMD_READONLY, .acl = ACL_KEYSPACE, .group = "generic", .since = "2.8.0", .summary = "Incrementally iterate the keys space",
     .complexity = "O(1) for every call. O(N) for a complete iteration, including enough command calls for the cursor to return back to 0. N is the number of elements inside the collection."},
    {.name = "randomkey", .proc = randomkeyCommand, .arity = 1, .flags = CMD_READONLY, .acl = ACL_KEYSPACE, .group = "generic", .since = "1.0.0", .summary = "Return a random key from the keyspace", .complexity = "O(1)"},
    {0}};
