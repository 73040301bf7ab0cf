/* block.c - clients blocked on keys (BLPOP, BRPOP, BLMOVE, BLMPOP,
 * BZPOPMIN, ...), Redis 7 style: a blocking command that finds nothing calls
 * blockForKeys(); when a key it waits on is created, blockServeReadyKeys()
 * re-executes the saved command through cmdCall, oldest waiter first. That
 * runs after every top-level command (cmd.c, after EXEC as a whole for a
 * transaction), as Redis' handleClientsBlockedOnKeys does: a client that
 * pipelines "LPUSH l x" and "BLPOP l 0" must not take the element from one
 * already waiting. blockHandleReady() (beforeSleep) also resumes the input
 * of the clients unblocked meanwhile.
 *
 * Owns: each blocked client's blockState (c->bstate: its own copy of the
 * command's argv, its deadline, its place in every key's queue), the per-db
 * index of waited-on keys (blockKey: a FIFO of waiters), the ready-key list,
 * the deadline heap and its single el timer, and the list of clients
 * unblocked whose pipelined input still has to be resumed.
 * Invariants:
 *  - CLIENT_BLOCKED is set  <=>  c->bstate != NULL (except while a blocked
 *    command is being re-executed: the flag is then cleared, bstate kept);
 *  - a blockKey lives while it has waiters or is on the ready list;
 *  - bs->heapIdx >= 0  <=>  bs has a deadline and is in the heap.
 * Must never: run a command or resume a client's input from inside another
 * command (serving waits until the command returns; resuming input waits
 * for beforeSleep), keep pointers into a query buffer, or hand data to a
 * client that is being closed. */
#include "server.h"
#include "db.h"
#include "client.h"
#include "reply.h"
#include "cmd.h"
#include "block.h"
#include "args.h"
#include <limits.h>
#include <math.h>
#include <string.h>

typedef struct blockState blockState;

/* One client's place in one key's queue. */
typedef struct blockWaiter {
    struct blockWaiter *prev, *next;
    struct blockKey *bk;
    blockState *bs;
} blockWaiter;

/* A key at least one client waits on, node of keyIndex[db->id]. */
typedef struct blockKey {
    dictNode link; /* must be first (dict.h) */
    cdb *db;
    blockWaiter *head, *tail;
    struct blockKey *readyNext;
    int ready; /* on the ready list (or being served) */
    size_t keylen;
    char key[];
} blockKey;

struct blockState {
    client *c;
    cdb *db;
    cmdDef *cmd;
    long long deadline; /* unix ms, 0 = forever */
    int nullArray;      /* timeout reply: null array (1) or null bulk (0) */
    int wantType;       /* OBJ_LIST / OBJ_ZSET, or -1: any of them */
    int argc;
    slice *argv;        /* own copy; bytes follow the slices in one allocation */
    int nwaiters;
    blockWaiter *waiters;
    int heapIdx;        /* -1: no deadline */
    int reexec;         /* its command is running again now */
    int reblocked;      /* ... and called blockForKeys again */
};

static void bkKey(const dictNode *n, const char **p, size_t *len) {
    const blockKey *bk = (const blockKey *)n;
    *p = bk->key;
    *len = bk->keylen;
}
static const dictType blockKeyDictType = {.key = bkKey, .nocase = 0};

static dict *keyIndex;                 /* srv.dbnum dicts, made on first block */
static blockKey *readyHead, *readyTail;
static long long blockedCount;
static blockState **heap;              /* min-heap on deadline */
static int heapLen, heapCap;
static long long timerId;              /* 0: none armed */
static long long timerWhen;            /* deadline the timer is armed for */
static int inTimer;
static client **unblocked;             /* to resume input; NULL = freed since */
static int unblockedLen, unblockedCap;
static int handling; /* blockHandleReady is running */
static int serving;  /* blockServeReadyKeys is running */

/* ---- timeout parsing ---------------------------------------------------- */

int blockGetTimeout(client *c, slice arg, long long *deadlineMs) {
    long double ft;
    if (getLongDoubleFromSliceOrReply(c, arg, &ft, "timeout is not a float or out of range") == -1) return -1;
    ft *= 1000.0L;
    /* Redis 7.0 converts to long long without a range check, so anything too
     * big for it (inf included) comes out negative and is reported so. */
    if (!(ft < (long double)LLONG_MAX) || ft < 0) {
        replyError(c, "timeout is negative");
        return -1;
    }
    long long ms = (long long)ceill(ft); /* 0.0001 s still means "a bit", not forever */
    if (ms == 0) {
        *deadlineMs = 0;
        return 0;
    }
    long long now = srv.mstime;
    *deadlineMs = ms > LLONG_MAX - now ? LLONG_MAX : now + ms;
    return 0;
}

/* EXEC keeps CLIENT_MULTI set while the queue runs; a blocking command is
 * only executed with that flag inside EXEC (otherwise it is queued). */
int blockAllowed(client *c) { return !(c->flags & (CLIENT_MULTI | CLIENT_SCRIPT)); } /* scripts never block */

long long blockedClientCount(void) { return blockedCount; }
long long blockTimeoutTableCount(void) { return heapLen; }

/* ---- deadline heap and timer -------------------------------------------- */

static void heapSwap(int a, int b) {
    blockState *t = heap[a];
    heap[a] = heap[b];
    heap[b] = t;
    heap[a]->heapIdx = a;
    heap[b]->heapIdx = b;
}

static void heapUp(int i) {
    while (i > 0) {
        int p = (i - 1) / 2;
        if (heap[p]->deadline <= heap[i]->deadline) break;
        heapSwap(i, p);
        i = p;
    }
}

static void heapDown(int i) {
    for (;;) {
        int l = 2 * i + 1, r = l + 1, m = i;
        if (l < heapLen && heap[l]->deadline < heap[m]->deadline) m = l;
        if (r < heapLen && heap[r]->deadline < heap[m]->deadline) m = r;
        if (m == i) return;
        heapSwap(i, m);
        i = m;
    }
}

static void heapRemove(blockState *bs) {
    int i = bs->heapIdx;
    if (i < 0) return;
    bs->heapIdx = -1;
    heapLen--;
    if (i == heapLen) return;
    heap[i] = heap[heapLen];
    heap[i]->heapIdx = i;
    heapUp(i);
    heapDown(heap[i]->heapIdx);
}

static long timeoutTimer(elLoop *el, long long id, void *data);

/* One timer, for the nearest deadline. Re-armed only when a nearer deadline
 * arrives: a timer left for a later one just fires early and re-arms. */
static void armTimer(void) {
    if (inTimer || heapLen == 0) return;
    long long when = heap[0]->deadline;
    if (timerId && timerWhen <= when) return;
    if (timerId) elDelTimer(srv.el, timerId);
    long long delay = when - elNowMs();
    timerId = elAddTimer(srv.el, delay < 0 ? 0 : delay, timeoutTimer, NULL);
    timerWhen = when;
}

/* ---- queues --------------------------------------------------------------- */

static void addUnblocked(client *c) {
    if (unblockedLen == unblockedCap) {
        unblockedCap = unblockedCap ? unblockedCap * 2 : 16;
        unblocked = memRealloc(unblocked, sizeof(client *) * (size_t)unblockedCap);
    }
    unblocked[unblockedLen++] = c;
}

static void freeBlockKeyIfUnused(blockKey *bk) {
    if (bk->head || bk->ready) return;
    dictUnlink(&keyIndex[bk->db->id], bk->key, bk->keylen);
    memFree(bk);
}

static void waiterUnlink(blockWaiter *w) {
    blockKey *bk = w->bk;
    if (w->prev) w->prev->next = w->next;
    else bk->head = w->next;
    if (w->next) w->next->prev = w->prev;
    else bk->tail = w->prev;
    w->prev = w->next = NULL;
    freeBlockKeyIfUnused(bk);
}

/* Takes c out of every queue and the heap; it is no longer blocked. */
static void unblockRemove(client *c) {
    blockState *bs = c->bstate;
    if (!bs) return;
    for (int i = 0; i < bs->nwaiters; i++) waiterUnlink(&bs->waiters[i]);
    heapRemove(bs);
    memFree(bs->waiters);
    memFree(bs->argv);
    memFree(bs);
    c->bstate = NULL;
    c->flags &= ~(uint64_t)CLIENT_BLOCKED;
    c->lastInteraction = srv.mstime; /* the idle timeout counts from here */
    blockedCount--;
}

/* Unblocked by timeout or CLIENT UNBLOCK: its pending input resumes in
 * beforeSleep. */
static void unblockAndResume(client *c) {
    unblockRemove(c);
    addUnblocked(c);
}

static void replyTimeout(client *c, int nullArray) {
    if (nullArray) replyNullArray(c);
    else replyNull(c);
}

static int typeFromCommand(cmdDef *cmd) {
    if (!cmd) return -1;
    if (cmd->acl & ACL_LIST) return OBJ_LIST;
    if (cmd->acl & ACL_SORTEDSET) return OBJ_ZSET;
    if (cmd->acl & ACL_STREAM) return OBJ_STREAM;
    return -1;
}

void blockForKeys(client *c, slice *keys, int nkeys, long long deadlineMs, int nullArrayOnTimeout) {
    if (c->bstate && c->bstate->reexec) {
        /* Re-executed and still nothing for it: it keeps its place at the
         * head of every queue and its original deadline. */
        c->bstate->reblocked = 1;
        c->flags |= CLIENT_BLOCKED;
        return;
    }
    if (!blockAllowed(c) || c->bstate) {
        /* Never block inside EXEC: answer as a timeout, as Redis. */
        replyTimeout(c, nullArrayOnTimeout);
        return;
    }
    if (!keyIndex) {
        keyIndex = memAlloc(sizeof(dict) * (size_t)srv.dbnum);
        for (int i = 0; i < srv.dbnum; i++) dictInit(&keyIndex[i], &blockKeyDictType);
    }
    blockState *bs = memCalloc(sizeof(*bs));
    bs->c = c;
    bs->db = c->db;
    bs->cmd = c->cmd;
    bs->deadline = deadlineMs;
    bs->nullArray = nullArrayOnTimeout;
    bs->wantType = typeFromCommand(c->cmd);
    bs->heapIdx = -1;

    /* The argv slices point into the query buffer, which moves after this
     * call returns: copy them to re-execute later. */
    size_t bytes = 0;
    for (int i = 0; i < c->argc; i++) bytes += c->argv[i].len;
    bs->argc = c->argc;
    bs->argv = memAlloc(sizeof(slice) * (size_t)c->argc + bytes + 1);
    char *p = (char *)(bs->argv + c->argc);
    for (int i = 0; i < c->argc; i++) {
        if (c->argv[i].len) memcpy(p, c->argv[i].p, c->argv[i].len);
        bs->argv[i].p = p;
        bs->argv[i].len = c->argv[i].len;
        p += c->argv[i].len;
    }

    bs->waiters = memAlloc(sizeof(blockWaiter) * (size_t)(nkeys > 0 ? nkeys : 1));
    dict *d = &keyIndex[c->db->id];
    for (int i = 0; i < nkeys; i++) {
        blockKey *bk = (blockKey *)dictFind(d, keys[i].p, keys[i].len);
        /* BLPOP k k: one place in k's queue. We were appended last, so a
         * repeated key finds us at its tail (O(1), even for many keys). */
        if (bk && bk->tail && bk->tail->bs == bs) continue;
        if (!bk) {
            bk = memCalloc(sizeof(*bk) + keys[i].len + 1);
            bk->db = c->db;
            bk->keylen = keys[i].len;
            memcpy(bk->key, keys[i].p, keys[i].len);
            dictAdd(d, &bk->link);
        }
        blockWaiter *w = &bs->waiters[bs->nwaiters++];
        w->bk = bk;
        w->bs = bs;
        w->next = NULL;
        w->prev = bk->tail;
        if (bk->tail) bk->tail->next = w;
        else bk->head = w;
        bk->tail = w;
    }

    if (deadlineMs) {
        if (heapLen == heapCap) {
            heapCap = heapCap ? heapCap * 2 : 16;
            heap = memRealloc(heap, sizeof(blockState *) * (size_t)heapCap);
        }
        bs->heapIdx = heapLen;
        heap[heapLen++] = bs;
        heapUp(bs->heapIdx);
        armTimer();
    }
    c->bstate = bs;
    c->flags |= CLIENT_BLOCKED;
    blockedCount++;
}

void blockSignalKeyReady(cdb *db, const char *key, size_t len) {
    if (blockedCount == 0) return;
    blockKey *bk = (blockKey *)dictFind(&keyIndex[db->id], key, len);
    if (!bk || bk->ready) return;
    bk->ready = 1;
    bk->readyNext = NULL;
    if (readyTail) readyTail->readyNext = bk;
    else readyHead = bk;
    readyTail = bk;
}

void blockSignalFlushedDb(cdb *db) {
    if (blockedCount == 0 || !keyIndex) return;
    dictIter it;
    dictIterInit(&it, &keyIndex[db->id], 0);
    dictNode *n;
    while ((n = dictNext(&it))) {
        blockKey *bk = (blockKey *)n;
        dbEntry *e = dbFind(db, bk->key, bk->keylen);
        if (e && e->type == OBJ_STREAM) blockSignalKeyReady(db, bk->key, bk->keylen);
    }
    dictIterEnd(&it);
}

/* ---- serving -------------------------------------------------------------- */

/* Runs c's saved command again; returns 1 if it was served (unblocked). */
static int reexecute(client *c) {
    blockState *bs = c->bstate;
    slice *origArgv = c->argv;
    int origArgc = c->argc;
    c->argv = bs->argv;
    c->argc = bs->argc;
    c->db = bs->db;
    c->flags &= ~(uint64_t)CLIENT_BLOCKED;
    c->flags |= CLIENT_REEXEC;
    bs->reexec = 1;
    bs->reblocked = 0;
    cmdCall(c, bs->cmd);
    bs->reexec = 0;
    c->flags &= ~(uint64_t)CLIENT_REEXEC;
    c->argv = origArgv;
    c->argc = origArgc;
    if (bs->reblocked) {
        c->flags |= CLIENT_BLOCKED;
        return 0;
    }
    return 1;
}

/* Serves the waiters of one ready key in FIFO order while it holds data. */
static void serveKey(blockKey *bk) {
    blockWaiter *w = bk->head;
    while (w) {
        dbEntry *e = dbFind(bk->db, bk->key, bk->keylen);
        blockState *bs = w->bs;
        client *c = bs->c;
        if ((!e || e->type != OBJ_STREAM) && bs->wantType == OBJ_STREAM && (bs->cmd->flags & CMD_WRITE)) {
            /* XREADGROUP on a stream deleted or replaced: answered, as Redis
             * 7.0 does (XREAD keeps waiting). */
            blockWaiter *next = w->next;
            replyError(c, "-UNBLOCKED the stream key no longer exists");
            unblockAndResume(c);
            w = next;
            continue;
        }
        /* Gone, or turned into something no blocking command takes (Redis 7.0
         * leaves the waiters blocked then): only XREADGROUP ones (above)
         * may still need an answer. */
        if (!e || (e->type != OBJ_LIST && e->type != OBJ_ZSET && e->type != OBJ_STREAM)) {
            w = w->next;
            continue;
        }
        if ((bs->wantType != -1 && (int)e->type != bs->wantType) || (c->flags & CLIENT_CLOSE_ASAP)) {
            /* A BZPOPMIN waiter on a list, or a client about to be closed
             * (it would take the data with it): leave it, try the next. */
            w = w->next;
            continue;
        }
        int served = reexecute(c);
        /* The command only touched data and its own state, so the queue is
         * as it was: w is still linked until we unblock c. */
        blockWaiter *next = w->next;
        if (served) unblockAndResume(c);
        w = next;
    }
}

void blockServeReadyKeys(void) {
    if (serving || !readyHead) return;
    serving = 1;
    while (readyHead) {
        /* Detach: keys made ready while serving (an LMOVE or BLMOVE into
         * another waited-on key) form the next round. */
        blockKey *bk = readyHead;
        readyHead = readyTail = NULL;
        while (bk) {
            blockKey *next = bk->readyNext;
            bk->readyNext = NULL;
            serveKey(bk);
            bk->ready = 0;
            freeBlockKeyIfUnused(bk);
            bk = next;
        }
    }
    serving = 0;
}

void blockHandleReady(void) {
    if (handling) return;
    handling = 1;
    while (readyHead || unblockedLen) {
        blockServeReadyKeys();
        /* Resume the pipelined input of clients unblocked meanwhile; that
         * input may make more keys ready (served after each of its
         * commands, by cmd.c), or unblock more clients (appended here). */
        for (int i = 0; i < unblockedLen; i++) {
            client *c = unblocked[i];
            if (!c) continue;
            unblocked[i] = NULL;
            clientProcessPendingInput(c);
        }
        unblockedLen = 0;
    }
    handling = 0;
}

/* ---- timeouts, CLIENT UNBLOCK, disconnection ------------------------------ */

static long timeoutTimer(elLoop *el, long long id, void *data) {
    (void)el;
    (void)id;
    (void)data;
    serverUpdateCachedTime();
    long long now = elNowMs();
    inTimer = 1;
    while (heapLen && heap[0]->deadline <= now) {
        client *c = heap[0]->c;
        replyTimeout(c, heap[0]->nullArray);
        unblockAndResume(c);
    }
    inTimer = 0;
    if (heapLen == 0) {
        timerId = 0;
        return EL_TIMER_STOP;
    }
    timerWhen = heap[0]->deadline;
    long long delay = timerWhen - now;
    return delay < 1 ? 1 : (long)delay;
}

int blockUnblockClient(client *c, int error) {
    if (!(c->flags & CLIENT_BLOCKED) || !c->bstate) return 0;
    if (error) replyError(c, "-UNBLOCKED client unblocked via CLIENT UNBLOCK");
    else replyTimeout(c, c->bstate->nullArray);
    unblockAndResume(c);
    return 1;
}

void blockRedirectWhere(blockRedirectFn *redirect) {
    if (blockedCount == 0 || !keyIndex) return;
    /* Collected first: unblocking unlinks waiters and frees keys the walk
     * would step on. A client is taken once, at its first key's queue. */
    client **list = memAlloc(sizeof(client *) * (size_t)blockedCount);
    long long n = 0;
    for (int db = 0; db < srv.dbnum; db++) {
        dictIter it;
        dictIterInit(&it, &keyIndex[db], 0);
        dictNode *dn;
        while ((dn = dictNext(&it))) {
            for (blockWaiter *w = ((blockKey *)dn)->head; w; w = w->next)
                if (w == &w->bs->waiters[0] && !w->bs->reexec && n < blockedCount) list[n++] = w->bs->c;
        }
        dictIterEnd(&it);
    }
    for (long long i = 0; i < n; i++) {
        client *c = list[i];
        blockState *bs = c->bstate;
        char err[512];
        if (!bs || !redirect(c, bs->cmd, bs->waiters[0].bk->key, bs->waiters[0].bk->keylen, err, sizeof(err)))
            continue;
        replyError(c, err);
        unblockAndResume(c);
    }
    memFree(list);
}

void blockClientFree(client *c) {
    unblockRemove(c);
    for (int i = 0; i < unblockedLen; i++)
        if (unblocked[i] == c) unblocked[i] = NULL;
}
