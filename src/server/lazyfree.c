/* lazyfree.c - the lazy-free thread: large values and whole flushed
 * databases are freed here instead of on the event loop, as Redis' lazyfree.c
 * and bio.c do (UNLINK, FLUSHALL/FLUSHDB ASYNC and the lazyfree-lazy-*
 * parameters choose what comes here; db.c decides, this file only frees).
 *
 * Owns: one thread, started on the first job, and a FIFO of jobs under one
 * mutex. A job owns what it frees from the moment it is queued: the caller
 * has unlinked it from the keyspace, the expire index, WATCH and blocking
 * (which hold key names, not entries) and holds no iterator over it.
 * Memory accounting: the thread marks itself a helper (mem.c), so its frees
 * go to mem.c's atomic counter and used_memory falls as it works.
 * Must never: run anything but free() on the thread (no srv state, no
 * logging, no allocation), hold the queue lock while freeing, or be used by
 * a forked snapshot child (the thread does not exist there: a child frees
 * inline; the lock may have been held at fork, so the child never takes it).
 * Shutdown joins the thread after it drains the queue, so nothing is left
 * for the leak checker. */
#include "lazyfree.h"
#include "server.h"
#include "db.h"
#include "quicklist.h"
#include "stream.h"
#include "zset.h"
#include <pthread.h>
#include <stdatomic.h>
#include <unistd.h>

enum { JOB_ENTRY, JOB_DB };

typedef struct lazyJob {
    struct lazyJob *next;
    int kind;
    size_t objects;  /* what INFO counts: 1 per entry, the key count per db */
    dbEntry *entry;  /* JOB_ENTRY */
    kvstore keys;       /* JOB_DB: the tables taken over */
    dict expires;
} lazyJob;

static pthread_mutex_t queueLock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t queueCond = PTHREAD_COND_INITIALIZER;
static lazyJob *queueHead, *queueTail;
static int stopping;            /* under queueLock */
static int started, unavailable; /* loop thread only */
static pid_t ownerPid;          /* the process the thread runs in */
static pthread_t thread;
static _Atomic size_t pendingObjects, freedObjects;

size_t lazyfreeEffort(const dbEntry *e) {
    if (!e->v.ptr) return 1;
    switch (e->type) {
    case OBJ_LIST: return ((const quicklist *)e->v.ptr)->len;
    case OBJ_SET:
    case OBJ_HASH: return e->enc == ENC_HASHTABLE ? dictSize((const dict *)e->v.ptr) : 1;
    case OBJ_ZSET: return e->enc == ENC_SKIPLIST ? ((const zset *)e->v.ptr)->zsl.length : 1;
    case OBJ_STREAM: return ((const stream *)e->v.ptr)->nnodes; /* as Redis: one per node */
    default: return 1; /* strings, listpacks, intsets: one allocation */
    }
}

static void freeEntryNode(dictNode *n, void *priv) {
    (void)priv;
    dbEntryFree((dbEntry *)n);
}
static void freeExpireNode(dictNode *n, void *priv) {
    (void)priv;
    memFree(n);
}

static void runJob(lazyJob *j) {
    if (j->kind == JOB_ENTRY) {
        dbEntryFree(j->entry);
    } else {
        dictEmpty(&j->expires, freeExpireNode, NULL);
        kvsRelease(&j->keys, freeEntryNode, NULL);
    }
}

static void *lazyfreeMain(void *arg) {
    (void)arg;
    memSetHelperThread();
    pthread_mutex_lock(&queueLock);
    for (;;) {
        while (!queueHead && !stopping) pthread_cond_wait(&queueCond, &queueLock);
        lazyJob *j = queueHead;
        if (!j) break; /* stopping and drained */
        queueHead = j->next;
        if (!queueHead) queueTail = NULL;
        pthread_mutex_unlock(&queueLock);
        size_t n = j->objects;
        runJob(j);
        memFree(j);
        atomic_fetch_sub_explicit(&pendingObjects, n, memory_order_relaxed);
        atomic_fetch_add_explicit(&freedObjects, n, memory_order_relaxed);
        pthread_mutex_lock(&queueLock);
    }
    pthread_mutex_unlock(&queueLock);
    return NULL;
}

/* 1 when jobs can be queued: the thread runs (started now if needed) and
 * this is the process it runs in. */
static int threadReady(void) {
    if (started) return getpid() == ownerPid;
    if (unavailable) return 0;
    ownerPid = getpid();
    if (pthread_create(&thread, NULL, lazyfreeMain, NULL) != 0) {
        unavailable = 1; /* free inline from now on: slower, still correct */
        logWarning("Can't create the lazy-free thread: values will be freed synchronously");
        return 0;
    }
    started = 1;
    return 1;
}

static void enqueue(lazyJob *j) {
    j->next = NULL;
    atomic_fetch_add_explicit(&pendingObjects, j->objects, memory_order_relaxed);
    pthread_mutex_lock(&queueLock);
    if (queueTail) queueTail->next = j;
    else queueHead = j;
    queueTail = j;
    pthread_cond_signal(&queueCond);
    pthread_mutex_unlock(&queueLock);
}

void lazyfreeEntry(dbEntry *e) {
    if (lazyfreeEffort(e) <= LAZYFREE_THRESHOLD || !threadReady()) {
        dbEntryFree(e);
        return;
    }
    lazyJob *j = memCalloc(sizeof(*j));
    j->kind = JOB_ENTRY;
    j->objects = 1;
    j->entry = e;
    enqueue(j);
}

void lazyfreeKeyspace(kvstore *keys, dict *expires, size_t nkeys) {
    const dictType *et = expires->type;
    if (!threadReady()) {
        dictEmpty(expires, freeExpireNode, NULL);
        kvsEmpty(keys, freeEntryNode, NULL);
        return;
    }
    lazyJob *j = memCalloc(sizeof(*j));
    j->kind = JOB_DB;
    j->objects = nkeys;
    kvsMove(&j->keys, keys);
    j->expires = *expires;
    dictInit(expires, et);
    enqueue(j);
}

size_t lazyfreePendingObjects(void) { return atomic_load_explicit(&pendingObjects, memory_order_relaxed); }
size_t lazyfreedObjects(void) { return atomic_load_explicit(&freedObjects, memory_order_relaxed); }
void lazyfreeResetStats(void) { atomic_store_explicit(&freedObjects, 0, memory_order_relaxed); }

void lazyfreeShutdown(void) {
    if (!started || getpid() != ownerPid) return;
    pthread_mutex_lock(&queueLock);
    stopping = 1;
    pthread_cond_signal(&queueCond);
    pthread_mutex_unlock(&queueLock);
    pthread_join(thread, NULL);
    started = 0;
    unavailable = 1;
}
