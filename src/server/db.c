/* db.c - the keyspace: numbered databases of key entries, TTLs, lazy and
 * active expiry, and the notifications every write must send (WATCH).
 *
 * Owns: every dbEntry linked in a db and every expireNode.
 * Invariants:
 *  - e->expire != 0  <=>  an expireNode for e's key is in db->expires and
 *    points at e (kept true when an entry is replaced by a moved copy).
 *  - an expired key is never returned by a lookup: dbFind deletes it first.
 *  - every change to a key's value or existence calls multiTouchWatchedKey
 *    (here for inserts/deletes/replaces; commands call dbTouchKey for
 *    in-place value changes).
 *  - a deleted or replaced value is freed by the lazy-free policy of the
 *    path that removed it (Redis 7.0's): UNLINK and FLUSH ASYNC always hand
 *    large values to lazyfree.c, DEL and FLUSH per lazyfree-lazy-user-*,
 *    expiry per lazyfree-lazy-expire, eviction per lazyfree-lazy-eviction,
 *    every other implicit delete or overwrite per lazyfree-lazy-server-del.
 *  - cluster mode: db 0's key table is one dict per hash slot (kvstore.c),
 *    so a slot's keys are listed in what the slot holds without a byte
 *    added to any entry.
 * Must never block: expiry is sampled with a time budget, and a flush or a
 * delete of a large value never walks it on the loop when asked to be lazy. */
#include "server.h"
#include "db.h"
#include "client.h"
#include "block.h"
#include "evict.h"
#include "multi.h"
#include "pause.h"
#include "cmd.h"
#include "propagate.h"
#include "lazyfree.h"
#include "cluster.h"
#include "dassert.h"
#include "repl.h"
#include "snapshot.h"
#include <string.h>

static void entryKey(const dictNode *n, const char **p, size_t *len) {
    const dbEntry *e = (const dbEntry *)n;
    *p = e->key;
    *len = e->keylen;
}
static void expireKey(const dictNode *n, const char **p, size_t *len) {
    const expireNode *x = (const expireNode *)n;
    *p = x->e->key;
    *len = x->e->keylen;
}
static const dictType keysType = {.key = entryKey, .nocase = 0};
static const dictType expiresType = {.key = expireKey, .nocase = 0};
extern const dictType multiWatchedDictType;

long long dbSlotCount(cdb *db, unsigned slot) {
    return db->keys.nslots == 1 ? 0 : (long long)kvsSlotSize(&db->keys, slot); /* no slots outside cluster mode */
}

size_t dbSlotKeys(cdb *db, unsigned slot, dbEntry **out, size_t max) {
    if (db->keys.nslots == 1) return 0;
    return kvsSlotNodes(&db->keys, slot, (dictNode **)out, max);
}

void dbInitAll(void) {
    srv.db = memCalloc(sizeof(cdb) * (size_t)srv.dbnum);
    for (int i = 0; i < srv.dbnum; i++) {
        /* SELECT is refused in cluster mode: only db 0 holds keys there. */
        kvsInit(&srv.db[i].keys, &keysType, srv.clusterEnabled && i == 0);
        dictInit(&srv.db[i].expires, &expiresType);
        dictInit(&srv.db[i].watched, &multiWatchedDictType);
        srv.db[i].id = i;
    }
}

/* A new value's access field: what a freshly created entry gets. */
static void entryResetLru(dbEntry *e) {
    dbUpdateLru(e);
    if (evictPolicyIsLfu()) e->lru = evictLfuInitValue(); /* minutes << 8 | LFU_INIT_VAL, as Redis */
}

dbEntry *dbEntryNew(const char *key, size_t keylen, size_t inlineValueLen) {
    dbEntry *e = memAlloc(sizeof(dbEntry) + keylen + inlineValueLen);
    e->link.next = NULL;
    e->expire = 0;
    e->keylen = (uint32_t)keylen;
    e->type = OBJ_STRING;
    e->enc = ENC_INLINE;
    e->v.len = 0;
    memcpy(e->key, key, keylen);
    entryResetLru(e);
    return e;
}

void dbEntryFree(dbEntry *e) {
    objFreeValue(e);
    memFree(e);
}

/* An entry already unlinked from db: nothing can reach it any more. */
static void dbEntryRelease(dbEntry *e, int async) {
    if (async) lazyfreeEntry(e);
    else dbEntryFree(e);
}

void dbUpdateLru(dbEntry *e) {
    if (srv.maxmemoryPolicy == MAXMEMORY_ALLKEYS_LFU || srv.maxmemoryPolicy == MAXMEMORY_VOLATILE_LFU)
        evictLfuTouch(e);
    else
        e->lru = evictLruClock();
}

/* A replica never expires keys itself (Redis 7): its primary's DEL does.
 * Meanwhile the master client sees the key as it is, and a normal client
 * sees it as gone, except a write on a writable replica, which deletes it
 * as a primary would (so the write finds the key absent for real). */
static int replicaKeepsExpired(void) {
    if (!replIsReplica()) return 0;
    client *c = srv.current;
    if (c && (c->flags & CLIENT_MASTER)) return 1;
    return !(c && c->cmd && (c->cmd->flags & CMD_WRITE));
}

int dbAlreadyExpired(long long whenMs) { return whenMs <= srv.mstime && !srv.loading && !replIsReplica(); }

int dbExpireIfNeeded(cdb *db, dbEntry *e) {
    if (e->expire == 0 || e->expire > srv.mstime) return 0;
    if (replicaKeepsExpired()) return !(srv.current && (srv.current->flags & CLIENT_MASTER));
    /* Under CLIENT PAUSE the dataset stays as it is (a failover waits for a
     * replica to catch up): a read sees the key as gone, nothing deletes
     * it. A write (one that began the pause inside its own EXEC) still
     * deletes, since it is about to reuse the name. */
    if (pauseActive() && !(srv.current && srv.current->cmd && (srv.current->cmd->flags & CMD_WRITE))) return 1;
    propDeletion(db, e->key, e->keylen, srv.lazyfreeLazyExpire); /* replicas never expire keys themselves */
    dbDeleteGeneric(db, e->key, e->keylen, srv.lazyfreeLazyExpire);
    srv.statExpiredKeys++;
    return 1;
}

dbEntry *dbFind(cdb *db, const char *key, size_t len) {
    dbEntry *e = (dbEntry *)kvsFind(&db->keys, key, len);
    if (e && e->expire && e->expire <= srv.mstime) {
        if (!dbExpireIfNeeded(db, e)) return e; /* the master client on a replica */
        return NULL;
    }
    return e;
}

/* Reads and writes refresh a key's LRU/LFU field, except while a forked
 * child (BGSAVE, a replica's snapshot) shares our pages: each refresh would
 * copy the page the key is on ("copy on write madness", as Redis 7.0 says
 * and skips them too). */
dbEntry *dbLookupRead(cdb *db, slice key) {
    dbEntry *e = dbFind(db, key.p, key.len);
    if (e) {
        srv.statKeyspaceHits++;
        if (!(srv.current && (srv.current->flags & CLIENT_NO_TOUCH)) && !snapshotChildRunning()) dbUpdateLru(e);
    } else {
        srv.statKeyspaceMisses++;
    }
    return e;
}

dbEntry *dbLookupWrite(cdb *db, slice key) {
    dbEntry *e = dbFind(db, key.p, key.len);
    if (e && !snapshotChildRunning()) dbUpdateLru(e);
    return e;
}

static void expireIndexAdd(cdb *db, dbEntry *e) {
    expireNode *x = memAlloc(sizeof(*x));
    x->e = e;
    dictAdd(&db->expires, &x->link);
}

static void expireIndexDel(cdb *db, dbEntry *e) {
    dictNode *n = dictUnlink(&db->expires, e->key, e->keylen);
    memFree(n);
}

void dbInsert(cdb *db, dbEntry *e) {
    kvsAdd(&db->keys, &e->link);
    if (e->expire) expireIndexAdd(db, e);
    multiTouchWatchedKey(db, e->key, e->keylen);
    /* Only a key that did not exist (or held another type) can have
     * blocked clients waiting on it, so creation is the one place to wake
     * them; pushes to an existing list need not signal. */
    if (e->type == OBJ_LIST || e->type == OBJ_ZSET) blockSignalKeyReady(db, e->key, e->keylen);
}

/* Swap a linked entry for a new one with the same key, keeping the expire
 * index pointing at the live entry. Frees old. Under an LFU policy the key
 * keeps its access counter across the overwrite (Redis 7.0's dbOverwrite:
 * a hot key SET again is still hot); under LRU it was just accessed. */
void dbReplace(cdb *db, dbEntry *old, dbEntry *repl) {
    if (evictPolicyIsLfu()) repl->lru = old->lru;
    kvsReplaceNode(&db->keys, &old->link, &repl->link);
    if (((repl->type == OBJ_LIST || repl->type == OBJ_ZSET) && repl->type != old->type) || old->type == OBJ_STREAM)
        blockSignalKeyReady(db, repl->key, repl->keylen);
    if (old->expire && repl->expire) {
        expireNode *x = (expireNode *)dictFind(&db->expires, old->key, old->keylen);
        x->e = repl;
    } else if (old->expire) {
        expireIndexDel(db, old);
    } else if (repl->expire) {
        expireIndexAdd(db, repl);
    }
    dbEntryRelease(old, srv.lazyfreeLazyServerDel);
    multiTouchWatchedKey(db, repl->key, repl->keylen);
}

void dbSetKey(cdb *db, dbEntry *e, int keepTtl) {
    dbEntry *old = (dbEntry *)kvsFind(&db->keys, e->key, e->keylen);
    if (old) {
        if (keepTtl && old->expire > srv.mstime) e->expire = old->expire;
        dbReplace(db, old, e);
    } else {
        dbInsert(db, e);
    }
}

dbEntry *dbFindLinked(cdb *db, const char *key, size_t len) { return (dbEntry *)kvsFind(&db->keys, key, len); }

/* An overwrite that keeps the entry where it is: in its dict chain and
 * under its expire node, with no allocation or free. Only a string over a
 * string (its old value is at most one rawStr, freed at once under any
 * lazy-free policy, and no blocked client waits on it), and only when an
 * entry with inlineValueLen value bytes is of the allocation's size class:
 * the memory is then exactly what a new entry would hold. On success old's
 * value is freed, its TTL and access field set as dbSetKey would set a new
 * entry's, and WATCH is told; the caller writes the new value. */
dbEntry *dbReuseEntry(cdb *db, dbEntry *old, size_t inlineValueLen, long long expire, int keepTtl) {
    if (old->type != OBJ_STRING) return NULL;
    if (memGoodSize(sizeof(dbEntry) + old->keylen + inlineValueLen) != memUsableSize(old)) return NULL;
    objFreeValue(old);
    if (keepTtl && old->expire > srv.mstime) expire = old->expire;
    if (old->expire && !expire) expireIndexDel(db, old);
    else if (!old->expire && expire) expireIndexAdd(db, old);
    old->expire = expire;
    if (!evictPolicyIsLfu()) entryResetLru(old); /* LFU: the counter stays, as dbReplace keeps it */
    multiTouchWatchedKey(db, old->key, old->keylen);
    return old;
}

dbEntry *dbUnlinkEntry(cdb *db, const char *key, size_t len) {
    dbEntry *e = (dbEntry *)kvsUnlink(&db->keys, key, len);
    if (!e) return NULL;
    if (e->expire) expireIndexDel(db, e);
    multiTouchWatchedKey(db, key, len);
    /* XREADGROUP waiters on a deleted stream are answered (Redis 7.0's
     * signalDeletedKeyAsReady); block.c finds the key gone. */
    if (e->type == OBJ_STREAM) blockSignalKeyReady(db, key, len);
    return e;
}

int dbDeleteGeneric(cdb *db, const char *key, size_t len, int async) {
    dbEntry *e = dbUnlinkEntry(db, key, len);
    if (!e) return 0;
    dbEntryRelease(e, async);
    return 1;
}

/* Implicit deletes (RENAME/COPY/RESTORE over a key, a collection emptied,
 * an expire time in the past...): Redis' lazyfree-lazy-server-del. */
int dbDelete(cdb *db, const char *key, size_t len) {
    return dbDeleteGeneric(db, key, len, srv.lazyfreeLazyServerDel);
}

void dbSetExpire(cdb *db, dbEntry *e, long long whenMs) {
    if (e->expire == 0) {
        e->expire = whenMs;
        expireIndexAdd(db, e);
    } else {
        e->expire = whenMs;
    }
}

int dbRemoveExpire(cdb *db, dbEntry *e) {
    if (e->expire == 0) return 0;
    expireIndexDel(db, e);
    e->expire = 0;
    return 1;
}

long long dbSize(cdb *db) { return (long long)kvsSize(&db->keys); }

void dbTouchKey(cdb *db, const char *key, size_t len) { multiTouchWatchedKey(db, key, len); }

static void freeEntryNode(dictNode *n, void *priv) {
    (void)priv;
    dbEntryFree((dbEntry *)n);
}
static void freeExpireNode(dictNode *n, void *priv) {
    (void)priv;
    memFree(n);
}

/* async: the tables are handed over whole and fresh empty ones swapped in,
 * so the loop never walks the keys (FLUSHALL ASYNC of millions of keys is
 * O(1) here). */
long long dbEmptyGeneric(cdb *db, int async) {
    long long removed = dbSize(db);
    multiTouchAllWatched(db); /* before emptying: it checks which watched keys exist */
    blockSignalFlushedDb(db);
    if (async && removed > 0) {
        lazyfreeKeyspace(&db->keys, &db->expires, (size_t)removed);
    } else {
        dictEmpty(&db->expires, freeExpireNode, NULL);
        kvsEmpty(&db->keys, freeEntryNode, NULL);
    }
    db->expireCursor = 0;
    db->avgTtl = 0;
    return removed;
}

long long dbEmpty(cdb *db) { return dbEmptyGeneric(db, 0); }

size_t dbEntryMemory(dbEntry *e) {
    size_t total = memUsableSize(e);
    total += objValueMemory(e);
    if (e->expire) total += sizeof(expireNode) + sizeof(void *);
    return total;
}

const char *dbTypeName(int type) {
    switch (type) {
    case OBJ_STRING: return "string";
    case OBJ_LIST: return "list";
    case OBJ_SET: return "set";
    case OBJ_ZSET: return "zset";
    case OBJ_HASH: return "hash";
    case OBJ_STREAM: return "stream";
    default: return "unknown";
    }
}

const char *dbEncodingName(dbEntry *e) {
    switch (e->enc) {
    case ENC_INT: return "int";
    case ENC_INLINE: return e->v.len <= OBJ_EMBSTR_REPORT_LIMIT ? "embstr" : "raw";
    case ENC_RAW: return "raw";
    case ENC_LISTPACK: return "listpack";
    case ENC_HASHTABLE: return "hashtable";
    case ENC_QUICKLIST: return "quicklist";
    case ENC_INTSET: return "intset";
    case ENC_SKIPLIST: return "skiplist";
    case ENC_STREAM: return "stream";
    }
    return "unknown";
}

/* ---- active expiry ------------------------------------------------------
 * Walks each db's expire index with a scan cursor (so every volatile key is
 * visited in turn, not sampled at random), deleting what has expired, within
 * a time budget: 25% of a cron tick for the slow cycle, 1 ms for the fast
 * cycle run before sleeping while the slow one keeps finding work. */

#define EXPIRE_KEYS_PER_LOOP 20
#define EXPIRE_SLOW_PERC 25
#define EXPIRE_FAST_US 1000
#define EXPIRE_ACCEPTABLE_STALE 10 /* % of expired keys found before we stop */

typedef struct expireScan {
    dbEntry *found[512];
    int count;
    long sampled;
} expireScan;

static void expireScanCb(void *priv, dictNode *n) {
    expireScan *s = priv;
    expireNode *x = (expireNode *)n;
    s->sampled++;
    if (x->e->expire <= srv.mstime && s->count < (int)(sizeof(s->found) / sizeof(s->found[0])))
        s->found[s->count++] = x->e;
}

static int lastCycleTimedOut;
static long long lastFastCycleUs;
static int currentDb;

void dbActiveExpireCycle(int fast) {
    if (!srv.activeExpireEnabled || pauseActive()) return;
    if (replIsReplica()) return; /* the primary expires, and sends the DELs */
    long long start = ustime();
    long long budget;
    if (fast) {
        if (!lastCycleTimedOut) return;
        if (start < lastFastCycleUs + EXPIRE_FAST_US * 2) return;
        lastFastCycleUs = start;
        budget = EXPIRE_FAST_US;
    } else {
        budget = 1000000LL * EXPIRE_SLOW_PERC / 100 / (srv.hz ? srv.hz : 10);
    }
    int effort = srv.activeExpireEffort > 0 ? srv.activeExpireEffort - 1 : 0;
    long perLoop = EXPIRE_KEYS_PER_LOOP + EXPIRE_KEYS_PER_LOOP / 4 * effort;
    long long saveMs = srv.mstime;
    srv.mstime = mstime();
    lastCycleTimedOut = 0;
    int dbs = srv.dbnum;
    for (int j = 0; j < dbs; j++) {
        cdb *db = &srv.db[currentDb % srv.dbnum];
        currentDb++;
        if (dictSize(&db->expires) == 0) continue;
        int iterations = 0;
        for (;;) {
            expireScan s;
            s.count = 0;
            s.sampled = 0;
            long buckets = 0;
            /* A loop visits about perLoop keys (or 20x as many empty buckets). */
            while (s.sampled < perLoop && buckets < perLoop * 20) {
                db->expireCursor = dictScan(&db->expires, db->expireCursor, expireScanCb, &s);
                buckets++;
                if (db->expireCursor == 0) break;
            }
            for (int i = 0; i < s.count; i++) {
                dbEntry *e = s.found[i];
                propDeletion(db, e->key, e->keylen, srv.lazyfreeLazyExpire);
                dbDeleteGeneric(db, e->key, e->keylen, srv.lazyfreeLazyExpire);
                srv.statExpiredKeys++;
            }
            iterations++;
            if ((iterations & 15) == 0 && ustime() - start > budget) {
                lastCycleTimedOut = 1;
                goto done;
            }
            if (db->expireCursor == 0 || dictSize(&db->expires) == 0) break;
            if (s.sampled == 0 || s.count * 100 / s.sampled <= EXPIRE_ACCEPTABLE_STALE) break;
        }
    }
done:
    srv.expireCycleTimeUsed += ustime() - start;
    srv.mstime = saveMs > srv.mstime ? saveMs : srv.mstime;
}

void dbCron(void) {
    /* Resize and incrementally rehash: 1 ms per tick spread over dbs. */
    for (int i = 0; i < srv.dbnum; i++) {
        cdb *db = &srv.db[i];
        kvsCron(&db->keys, 1000);
        dictShrinkIfNeeded(&db->expires);
        if (dictIsRehashing(&db->expires)) dictRehashMicroseconds(&db->expires, 1000);
    }
}
