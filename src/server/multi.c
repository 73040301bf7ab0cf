/* multi.c - transactions: MULTI / EXEC / DISCARD, and optimistic locking
 * with WATCH / UNWATCH, with Redis 7.0 semantics.
 *
 * Owns: each client's queue of commands (c->mstate, one heap blob per
 * queued command holding its argv copy), each client's watch list
 * (c->watched) and every db's index of watched keys (db->watched).
 * Invariants:
 *  - a client is in the watcher array of a watchedKey  <=>  c->watched holds
 *    a reference to that watchedKey; a watchedKey with no watcher is freed.
 *  - CLIENT_DIRTY_CAS is only ever set on a client that watches something
 *    (or did, until EXEC / DISCARD / UNWATCH clears it).
 * Must never: make a write path slower when nothing is watched in its db
 * (multiTouchWatchedKey returns at once), run a queued command when the
 * transaction is dirty, or keep pointers into the client's query buffer. */
#include "server.h"
#include "db.h"
#include "client.h"
#include "reply.h"
#include "cmd.h"
#include "evict.h"
#include "acl.h"
#include "multi.h"
#include "pause.h"
#include "script.h"
#include <string.h>

/* One client's interest in a watched key. 'expired' records that the key was
 * already logically expired when WATCH ran: its later (lazy or active)
 * deletion is then no change, as in Redis 7. */
typedef struct watcher {
    client *c;
    int expired;
} watcher;

/* A key watched in one db by at least one client; node of db->watched. */
typedef struct watchedKey {
    dictNode link; /* must be first (dict.h) */
    watcher *w;
    int count, cap;
    size_t keylen;
    char key[];
} watchedKey;

/* What one client watches: (db, key) references, in WATCH order. */
struct watchRef {
    cdb *db;
    watchedKey *wk;
};
struct watchList {
    int count, cap;
    struct watchRef items[];
};

static void wkKey(const dictNode *n, const char **p, size_t *len) {
    const watchedKey *wk = (const watchedKey *)n;
    *p = wk->key;
    *len = wk->keylen;
}
const dictType multiWatchedDictType = {.key = wkKey, .nocase = 0};

/* ---- queue ------------------------------------------------------------- */

void multiQueueCommand(client *c, cmdDef *cmd) {
    if (c->mcount == c->mcap) {
        c->mcap = c->mcap ? c->mcap * 2 : 4;
        c->mstate = memRealloc(c->mstate, sizeof(multiCmd) * (size_t)c->mcap);
    }
    /* argv slices point into the query buffer, which is compacted and
     * reallocated as input arrives: copy them into one allocation, the
     * slice array first, the bytes after it. */
    size_t bytes = 0;
    for (int i = 0; i < c->argc; i++) bytes += c->argv[i].len;
    size_t head = sizeof(slice) * (size_t)c->argc;
    char *blob = memAlloc(head + bytes + 1);
    slice *argv = (slice *)(void *)blob;
    char *p = blob + head;
    for (int i = 0; i < c->argc; i++) {
        if (c->argv[i].len) memcpy(p, c->argv[i].p, c->argv[i].len);
        argv[i].p = p;
        argv[i].len = c->argv[i].len;
        p += c->argv[i].len;
    }
    multiCmd *m = &c->mstate[c->mcount++];
    m->cmd = cmd;
    m->argc = c->argc;
    m->argv = argv;
    m->blob = blob;
    m->mayReplicate = pauseMayReplicate(c, cmd);
    m->denyOom = (cmd->flags & CMD_DENYOOM) || scriptCallDeniesOOM(c, cmd);
}

int multiMayReplicate(client *c) {
    for (int i = 0; i < c->mcount; i++)
        if (c->mstate[i].mayReplicate) return 1;
    return 0;
}

static void freeQueue(multiCmd *q, int count) {
    for (int i = 0; i < count; i++) memFree(q[i].blob);
    memFree(q);
}

/* Leaves the MULTI state: frees the queue, forgets the watched keys (as
 * Redis' discardTransaction does) and clears the transaction flags. */
void multiDiscard(client *c) {
    freeQueue(c->mstate, c->mcount);
    c->mstate = NULL;
    c->mcount = c->mcap = 0;
    c->flags &= ~(uint64_t)(CLIENT_MULTI | CLIENT_DIRTY_CAS | CLIENT_DIRTY_EXEC);
    multiUnwatchAll(c);
}

/* A command was rejected while queueing: EXEC will answer EXECABORT. */
void multiFlagExecAbort(client *c) {
    if (c->flags & CLIENT_MULTI) c->flags |= CLIENT_DIRTY_EXEC;
}

void multiExecAbort(client *c, const char *err) {
    if (err[0] == '-') err++;
    multiDiscard(c);
    replyErrorFormat(c, "-EXECABORT Transaction discarded because of: %s", err);
}

/* ---- WATCH --------------------------------------------------------------- */

/* Present in the dict but past its TTL, not yet deleted. Looks at the raw
 * dict: a lookup through db.c would delete the key (and touch watchers). */
static int keyIsExpired(cdb *db, const char *key, size_t len) {
    dbEntry *e = (dbEntry *)kvsFind(&db->keys, key, len);
    return e && e->expire && e->expire <= srv.mstime;
}

static void watchKey(client *c, cdb *db, const char *key, size_t len) {
    watchedKey *wk = (watchedKey *)dictFind(&db->watched, key, len);
    if (wk) {
        for (int i = 0; i < wk->count; i++)
            if (wk->w[i].c == c) return; /* already watched by this client */
    } else {
        wk = memAlloc(sizeof(*wk) + len);
        wk->link.next = NULL;
        wk->w = NULL;
        wk->count = wk->cap = 0;
        wk->keylen = len;
        memcpy(wk->key, key, len);
        dictAdd(&db->watched, &wk->link);
    }
    if (wk->count == wk->cap) {
        wk->cap = wk->cap ? wk->cap * 2 : 2;
        wk->w = memRealloc(wk->w, sizeof(watcher) * (size_t)wk->cap);
    }
    wk->w[wk->count].c = c;
    wk->w[wk->count].expired = keyIsExpired(db, key, len);
    wk->count++;

    struct watchList *wl = c->watched;
    if (!wl || wl->count == wl->cap) {
        int cap = wl ? wl->cap * 2 : 4;
        wl = memRealloc(wl, sizeof(struct watchList) + sizeof(struct watchRef) * (size_t)cap);
        if (!c->watched) wl->count = 0;
        wl->cap = cap;
        c->watched = wl;
    }
    wl->items[wl->count].db = db;
    wl->items[wl->count].wk = wk;
    wl->count++;
}

void multiUnwatchAll(client *c) {
    struct watchList *wl = c->watched;
    if (!wl) return;
    for (int i = 0; i < wl->count; i++) {
        watchedKey *wk = wl->items[i].wk;
        for (int j = 0; j < wk->count; j++) {
            if (wk->w[j].c != c) continue;
            memmove(&wk->w[j], &wk->w[j + 1], sizeof(watcher) * (size_t)(wk->count - j - 1));
            wk->count--;
            break;
        }
        if (wk->count == 0) {
            dictUnlink(&wl->items[i].db->watched, wk->key, wk->keylen);
            memFree(wk->w);
            memFree(wk);
        }
    }
    memFree(wl);
    c->watched = NULL;
}

/* Called on every change to a key's value or existence: the hot path of
 * every write, hence the early return when nothing in the db is watched. */
void multiTouchWatchedKey(cdb *db, const char *key, size_t len) {
    if (dictSize(&db->watched) == 0) return;
    watchedKey *wk = (watchedKey *)dictFind(&db->watched, key, len);
    if (!wk) return;
    int exists = -1; /* computed on first need */
    for (int i = 0; i < wk->count; i++) {
        watcher *w = &wk->w[i];
        if (w->expired) {
            if (exists < 0) exists = kvsFind(&db->keys, key, len) != NULL;
            if (!exists) {
                /* The key was already expired at WATCH time and is now
                 * deleted: logically nothing changed. From now on it is a
                 * plain missing key. */
                w->expired = 0;
                continue;
            }
            w->expired = 0;
        }
        w->c->flags |= CLIENT_DIRTY_CAS;
    }
}

/* FLUSHDB / FLUSHALL, called before the db is emptied: like Redis, only
 * watchers of keys that exist are invalidated (watching a missing key and
 * flushing is no change). */
void multiTouchAllWatched(cdb *db) {
    if (dictSize(&db->watched) == 0) return;
    dictIter it;
    dictIterInit(&it, &db->watched, 0);
    dictNode *n;
    while ((n = dictNext(&it))) {
        watchedKey *wk = (watchedKey *)n;
        if (!kvsFind(&db->keys, wk->key, wk->keylen)) continue;
        for (int i = 0; i < wk->count; i++) {
            if (wk->w[i].expired) {
                wk->w[i].expired = 0; /* an expired key deleted: no change */
                continue;
            }
            wk->w[i].c->flags |= CLIENT_DIRTY_CAS;
        }
    }
    dictIterEnd(&it);
}

/* Redis 7 fails EXEC when a watched key expired after WATCH, even if no
 * lookup has deleted it yet. */
static int watchedKeyExpired(client *c) {
    struct watchList *wl = c->watched;
    if (!wl) return 0;
    for (int i = 0; i < wl->count; i++) {
        watchedKey *wk = wl->items[i].wk;
        for (int j = 0; j < wk->count; j++) {
            if (wk->w[j].c != c) continue;
            if (!wk->w[j].expired && keyIsExpired(wl->items[i].db, wk->key, wk->keylen)) return 1;
            break;
        }
    }
    return 0;
}

/* ---- commands -------------------------------------------------------------- */

static void multiCommand(client *c) {
    if (c->flags & CLIENT_MULTI) {
        /* Not a queueing error: the transaction stays valid, as in Redis. */
        replyError(c, "MULTI calls can not be nested");
        return;
    }
    c->flags |= CLIENT_MULTI;
    replyOk(c);
}

static void discardCommand(client *c) {
    if (!(c->flags & CLIENT_MULTI)) {
        replyError(c, "DISCARD without MULTI");
        return;
    }
    multiDiscard(c);
    replyOk(c);
}

int multiHasQueuedWrite(client *c) {
    for (int i = 0; i < c->mcount; i++)
        if (c->mstate[i].cmd->flags & CMD_WRITE) return 1;
    return 0;
}

static int queueDeniesOom(client *c) {
    for (int i = 0; i < c->mcount; i++)
        if (c->mstate[i].denyOom) return 1;
    return 0;
}

static void execCommand(client *c) {
    if (!(c->flags & CLIENT_MULTI)) {
        replyError(c, "EXEC without MULTI");
        return;
    }
    /* Redis checks memory for the whole transaction before running it and,
     * when a queued command may grow memory and eviction cannot make room,
     * rejects EXEC (a rejected call, not a failed one) and discards. */
    if (srv.maxmemory && queueDeniesOom(c) && evictPerform() == -1) {
        cmdDef *self = c->cmd;
        if (self) self->rejectedCalls++;
        c->cmd = NULL;
        multiExecAbort(c, "-OOM command not allowed when used memory > 'maxmemory'.");
        c->cmd = self;
        return;
    }
    if (watchedKeyExpired(c)) c->flags |= CLIENT_DIRTY_CAS;
    if (c->flags & CLIENT_DIRTY_EXEC) {
        replyError(c, "-EXECABORT Transaction discarded because of previous errors.");
        multiDiscard(c);
        return;
    }
    if (c->flags & CLIENT_DIRTY_CAS) {
        replyNullArray(c);
        multiDiscard(c);
        return;
    }
    /* Unwatch first: our own writes must not flag us. The queue is detached
     * so that nothing a queued command does can free it under us; the MULTI
     * flag stays set while the queue runs, as in Redis (commands that must
     * not block or subscribe to shard channels look at it). */
    multiUnwatchAll(c);
    multiCmd *q = c->mstate;
    int count = c->mcount;
    c->mstate = NULL;
    c->mcount = c->mcap = 0;

    cmdDef *self = c->cmd;
    slice *origArgv = c->argv;
    int origArgc = c->argc;
    /* CLIENT REPLY SKIP before EXEC silences the whole reply; cmdCall
     * would clear the skip flag for the first queued command. */
    int silenced = (c->flags & CLIENT_REPLY_SKIP) && !(c->flags & CLIENT_REPLY_OFF);
    if (silenced) c->flags |= CLIENT_REPLY_OFF;

    replyArrayLen(c, count);
    for (int i = 0; i < count; i++) {
        c->argv = q[i].argv;
        c->argc = q[i].argc;
        /* The rules may have changed since the command was queued. */
        if (aclDenyQueued(c, q[i].cmd)) continue;
        cmdCall(c, q[i].cmd);
    }

    if (silenced) c->flags &= ~(uint64_t)CLIENT_REPLY_OFF;
    c->argv = origArgv;
    c->argc = origArgc;
    c->cmd = self;
    freeQueue(q, count);
    multiDiscard(c); /* clears MULTI and the dirty flags */
}

static void watchCommand(client *c) {
    if (c->flags & CLIENT_MULTI) {
        replyError(c, "WATCH inside MULTI is not allowed");
        return;
    }
    for (int i = 1; i < c->argc; i++) watchKey(c, c->db, c->argv[i].p, c->argv[i].len);
    replyOk(c);
}

static void unwatchCommand(client *c) {
    multiUnwatchAll(c);
    c->flags &= ~(uint64_t)CLIENT_DIRTY_CAS;
    replyOk(c);
}

#define MULTI_FLAGS (CMD_NOSCRIPT | CMD_LOADING | CMD_STALE | CMD_FAST | CMD_ALLOW_BUSY)

cmdDef multiCommands[] = {
    {.name = "multi", .proc = multiCommand, .arity = 1, .flags = MULTI_FLAGS, .acl = ACL_TRANSACTION,
     .group = "transactions", .since = "1.2.0", .summary = "Mark the start of a transaction block", .complexity = "O(1)"},
    {.name = "exec", .proc = execCommand, .arity = 1, .flags = CMD_NOSCRIPT | CMD_LOADING | CMD_STALE | CMD_SKIP_SLOWLOG,
     .acl = ACL_TRANSACTION, .group = "transactions", .since = "1.2.0",
     .summary = "Execute all commands issued after MULTI", .complexity = "Depends on commands in the transaction"},
    {.name = "discard", .proc = discardCommand, .arity = 1, .flags = MULTI_FLAGS, .acl = ACL_TRANSACTION,
     .group = "transactions", .since = "2.0.0", .summary = "Discard all commands issued after MULTI",
     .complexity = "O(N), when N is the number of queued commands"},
    {.name = "watch", .proc = watchCommand, .arity = -2, .flags = MULTI_FLAGS, .acl = ACL_TRANSACTION, .firstKey = 1,
     .lastKey = -1, .keyStep = 1, .group = "transactions", .since = "2.2.0",
     .summary = "Watch the given keys to determine execution of the MULTI/EXEC block", .complexity = "O(1) for every key."},
    {.name = "unwatch", .proc = unwatchCommand, .arity = 1, .flags = MULTI_FLAGS, .acl = ACL_TRANSACTION,
     .group = "transactions", .since = "2.2.0", .summary = "Forget about all watched keys", .complexity = "O(1)"},
    {0}};
