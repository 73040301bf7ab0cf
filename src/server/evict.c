/* evict.c - maxmemory eviction as Redis 7.0 does it: the LRU clock, the LFU
 * logarithmic counter, the eviction pool, and the eviction loop run before
 * every command when maxmemory is set.
 *
 * Owns: the eviction pool (static, best candidates across calls), the
 * background eviction timer, and the meaning of dbEntry.lru:
 *   LRU policies: 24-bit clock in seconds (LRU_CLOCK_RESOLUTION 1000 ms);
 *   LFU policies: 16 bits of minutes (last decrement time) << 8 | 8-bit
 *   logarithmic counter.
 * Must never: take a dbEntry pointer across a deletion (the pool keeps key
 * copies and finds them again, candidates that vanished are "ghosts"); spend
 * more than ~500 us per call evicting (a big overage continues from a timer,
 * as Redis's evictionTimeProc); do more than one comparison when under the
 * limit (evictPerform is on every command's path). */
#include "server.h"
#include "db.h"
#include "evict.h"
#include "pause.h"
#include "lazyfree.h"
#include "propagate.h"
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

/* ---- LRU clock ----------------------------------------------------------- */

#define LRU_CLOCK_MAX ((1 << 24) - 1) /* max value of dbEntry.lru */
#define LRU_CLOCK_RESOLUTION 1000     /* ms per LRU clock tick */

/* The clock from the wall time. server.c calls this from its cron (every
 * 1000/hz ms, and hz >= 1, so the cached value is never more than one
 * resolution tick behind, which is Redis's condition for using it). */
uint32_t evictLruClockCompute(void) { return (uint32_t)((mstime() / LRU_CLOCK_RESOLUTION) & LRU_CLOCK_MAX); }

/* The cached clock: called on every key access, so it only reads. */
uint32_t evictLruClock(void) { return srv.lruclock; }

/* Milliseconds since the entry was last accessed (estimateObjectIdleTime):
 * the clock wraps every 194 days, then the idle time is underestimated. */
unsigned long evictIdleTime(dbEntry *e) {
    unsigned long long clock = evictLruClock();
    if (clock >= e->lru) return (unsigned long)((clock - e->lru) * LRU_CLOCK_RESOLUTION);
    return (unsigned long)((clock + (LRU_CLOCK_MAX - e->lru)) * LRU_CLOCK_RESOLUTION);
}

/* ---- LFU ----------------------------------------------------------------- */

#define LFU_INIT_VAL 5 /* new keys start here so they are not evicted at once */

static unsigned long lfuTimeInMinutes(void) { return (unsigned long)((srv.mstime / 1000 / 60) & 65535); }

/* Minutes since ldt, wrapping at 16 bits (at most one wrap is assumed). */
static unsigned long lfuTimeElapsed(unsigned long ldt) {
    unsigned long now = lfuTimeInMinutes();
    if (now >= ldt) return now - ldt;
    return 65535 - ldt + now;
}

/* Increment with probability 1/((counter-LFU_INIT_VAL)*lfu_log_factor+1):
 * with factor 10 the counter reaches 255 after about a million hits. */
static uint8_t lfuLogIncr(uint8_t counter) {
    if (counter == 255) return 255;
    double r = (double)random() / RAND_MAX;
    double baseval = counter - LFU_INIT_VAL;
    if (baseval < 0) baseval = 0;
    double p = 1.0 / (baseval * srv.lfuLogFactor + 1);
    if (r < p) counter++;
    return counter;
}

/* The counter after decay: minus one per lfu-decay-time minutes elapsed since
 * the last decrement (LFUDecrAndReturn). Does not store it. */
uint8_t evictLfuCounter(dbEntry *e) {
    unsigned long ldt = e->lru >> 8;
    unsigned long counter = e->lru & 255;
    unsigned long periods = srv.lfuDecayTime ? lfuTimeElapsed(ldt) / (unsigned long)srv.lfuDecayTime : 0;
    if (periods) counter = periods > counter ? 0 : counter - periods;
    return (uint8_t)counter;
}

/* On access: decay, then the logarithmic increment, stamped with now. */
void evictLfuTouch(dbEntry *e) {
    uint8_t counter = lfuLogIncr(evictLfuCounter(e));
    e->lru = (uint32_t)((lfuTimeInMinutes() << 8) | counter);
}

/* The lru field of a key created now under an LFU policy. */
int evictPolicyIsLfu(void) {
    return srv.maxmemoryPolicy == MAXMEMORY_ALLKEYS_LFU || srv.maxmemoryPolicy == MAXMEMORY_VOLATILE_LFU;
}

uint32_t evictLfuInitValue(void) { return (uint32_t)((lfuTimeInMinutes() << 8) | LFU_INIT_VAL); }

/* ---- memory -------------------------------------------------------------- */

/* Memory counted against maxmemory. Redis subtracts the replicas' output
 * buffers and the AOF buffers (freeMemoryGetNotCountedMemory) so that
 * evicting does not feed itself; we have neither, so it is all of
 * used_memory (INFO mem_not_counted_for_evict:0). */
unsigned long long evictUsedMemory(void) { return memUsed(); }

/* ---- the eviction pool --------------------------------------------------- */

#define EVPOOL_SIZE 16
#define EVPOOL_CACHED_KEY_SIZE 255

/* Sorted by idle ascending: the best candidate is the rightmost non-empty
 * slot. Slots fill from the left, so the non-empty ones are a prefix. Each
 * slot owns a buffer for short keys ('cached'); a key that does not fit is
 * memAlloc'd. Memmoves carry 'cached' with them, so it is swapped back like
 * Redis's pool does, keeping one buffer per slot. */
typedef struct evictPoolEntry {
    unsigned long long idle; /* higher = better candidate */
    char *key;               /* NULL: empty slot; == cached or heap copy */
    size_t keylen;
    int dbid;
    char *cached;
} evictPoolEntry;

static evictPoolEntry pool[EVPOOL_SIZE];
static char poolBufs[EVPOOL_SIZE][EVPOOL_CACHED_KEY_SIZE];
static int poolReady;

static void poolInit(void) {
    for (int k = 0; k < EVPOOL_SIZE; k++) {
        pool[k].key = NULL;
        pool[k].cached = poolBufs[k];
    }
    poolReady = 1;
}

static void poolClearSlot(evictPoolEntry *p) {
    if (p->key && p->key != p->cached) memFree(p->key);
    p->key = NULL;
    p->idle = 0;
}

static int policyIsLru(void) {
    return srv.maxmemoryPolicy == MAXMEMORY_ALLKEYS_LRU || srv.maxmemoryPolicy == MAXMEMORY_VOLATILE_LRU;
}
static int policyIsAllkeys(void) {
    return srv.maxmemoryPolicy == MAXMEMORY_ALLKEYS_LRU || srv.maxmemoryPolicy == MAXMEMORY_ALLKEYS_LFU ||
           srv.maxmemoryPolicy == MAXMEMORY_ALLKEYS_RANDOM;
}

/* Sample maxmemory-samples keys of one db and merge them into the pool
 * (evictionPoolPopulate). volatile: the sample comes from db->expires. */
static void poolPopulate(int dbid, cdb *db, int volatileDict) {
    enum { MAX_STACK_SAMPLES = 64 };
    dictNode *stackSamples[MAX_STACK_SAMPLES];
    size_t want = srv.maxmemorySamples > 0 ? (size_t)srv.maxmemorySamples : 1;
    dictNode **samples = want <= MAX_STACK_SAMPLES ? stackSamples : memAlloc(sizeof(dictNode *) * want);
    size_t count = volatileDict ? dictSampleNodes(&db->expires, samples, want) : kvsSample(&db->keys, samples, want);

    for (size_t j = 0; j < count; j++) {
        dbEntry *e = volatileDict ? ((expireNode *)samples[j])->e : (dbEntry *)samples[j];
        unsigned long long idle;
        if (policyIsLru())
            idle = evictIdleTime(e);
        else if (evictPolicyIsLfu())
            idle = 255 - evictLfuCounter(e); /* least frequently used first */
        else                                 /* volatile-ttl: sooner expiry first */
            idle = ULLONG_MAX - (unsigned long long)e->expire;

        int k = 0;
        while (k < EVPOOL_SIZE && pool[k].key && pool[k].idle < idle) k++;
        if (k == 0 && pool[EVPOOL_SIZE - 1].key != NULL) {
            continue; /* worse than everything in a full pool */
        } else if (k < EVPOOL_SIZE && pool[k].key == NULL) {
            /* empty slot: insert in place */
        } else if (pool[EVPOOL_SIZE - 1].key == NULL) {
            /* room on the right: shift k.. right by one */
            char *cached = pool[EVPOOL_SIZE - 1].cached;
            memmove(pool + k + 1, pool + k, sizeof(pool[0]) * (size_t)(EVPOOL_SIZE - k - 1));
            pool[k].cached = cached;
            pool[k].key = NULL;
        } else {
            /* full: drop the worst (leftmost), shift ..k-1 left by one */
            k--;
            char *cached = pool[0].cached;
            if (pool[0].key != pool[0].cached) memFree(pool[0].key);
            memmove(pool, pool + 1, sizeof(pool[0]) * (size_t)k);
            pool[k].cached = cached;
            pool[k].key = NULL;
        }
        if (e->keylen <= EVPOOL_CACHED_KEY_SIZE) {
            memcpy(pool[k].cached, e->key, e->keylen);
            pool[k].key = pool[k].cached;
        } else {
            pool[k].key = memDupBytes(e->key, e->keylen);
        }
        pool[k].keylen = e->keylen;
        pool[k].idle = idle;
        pool[k].dbid = dbid;
    }
    if (samples != stackSamples) memFree(samples);
}

/* ---- choosing and evicting a key ---------------------------------------- */

/* Evicts one key by the policy; returns 0 when there was none to evict. */
static int evictOneKey(void) {
    static unsigned int nextDb; /* random policies go round the dbs */
    cdb *bestDb = NULL;
    int allkeys = policyIsAllkeys();

    if (srv.maxmemoryPolicy == MAXMEMORY_ALLKEYS_RANDOM || srv.maxmemoryPolicy == MAXMEMORY_VOLATILE_RANDOM) {
        for (int i = 0; i < srv.dbnum; i++) {
            cdb *db = &srv.db[++nextDb % (unsigned)srv.dbnum];
            dictNode *n = allkeys ? kvsRandom(&db->keys) : dictRandomNode(&db->expires);
            if (!n) continue;
            dbEntry *e = allkeys ? (dbEntry *)n : ((expireNode *)n)->e;
            /* e->key stays valid until the entry is freed, after the unlink */
            propDeletion(db, e->key, e->keylen, srv.lazyfreeLazyEviction);
            dbDeleteGeneric(db, e->key, e->keylen, srv.lazyfreeLazyEviction);
            return 1;
        }
        return 0;
    }

    if (!poolReady) poolInit();
    while (bestDb == NULL) {
        unsigned long total = 0;
        for (int i = 0; i < srv.dbnum; i++) {
            cdb *db = &srv.db[i];
            size_t n = allkeys ? kvsSize(&db->keys) : dictSize(&db->expires);
            if (n == 0) continue;
            poolPopulate(i, db, !allkeys);
            total += n;
        }
        if (!total) return 0; /* nothing to evict (volatile-*: no key has a TTL) */
        /* From the best candidate down: the first one still present wins;
         * the others are ghosts (deleted since they were pooled). */
        for (int k = EVPOOL_SIZE - 1; k >= 0; k--) {
            if (pool[k].key == NULL) continue;
            cdb *db = &srv.db[pool[k].dbid];
            int found = (allkeys ? kvsFind(&db->keys, pool[k].key, pool[k].keylen)
                                 : dictFind(&db->expires, pool[k].key, pool[k].keylen)) != NULL;
            if (found) {
                propDeletion(db, pool[k].key, pool[k].keylen, srv.lazyfreeLazyEviction);
                dbDeleteGeneric(db, pool[k].key, pool[k].keylen, srv.lazyfreeLazyEviction);
                bestDb = db;
            }
            poolClearSlot(&pool[k]);
            if (found) break;
        }
    }
    return 1;
}

/* ---- the eviction loop --------------------------------------------------- */

/* Redis's maxmemory-eviction-tenacity 10 (the default): 500 us per call. */
#define EVICT_TIME_LIMIT_US 500

static int evictTimerRunning;

static long evictTimerProc(elLoop *el, long long id, void *data);

/* Evicts until used memory is under maxmemory, for at most
 * EVICT_TIME_LIMIT_US. Returns 0 when under the limit, or when the time ran
 * out but keys were freed and the background timer goes on evicting (Redis's
 * EVICT_RUNNING, which processCommand treats as not out of memory); -1 when
 * over the limit with nothing (more) that the policy allows to evict. */
int evictPerform(void) {
    if (evictUsedMemory() <= srv.maxmemory) return 0;
    if (pauseActive()) return 0; /* the dataset stays as it is; writes wait anyway */
    if (srv.maxmemory == 0) return 0;
    if (srv.maxmemoryPolicy == MAXMEMORY_NO_EVICTION) return -1;

    long long start = ustime();
    long long freed = 0;
    while (evictUsedMemory() > srv.maxmemory) {
        if (!evictOneKey()) {
            /* Nothing left to evict, but the lazy-free thread may still be
             * freeing what we evicted (lazyfree-lazy-eviction): wait for it
             * briefly, as Redis does, before calling it out of memory. */
            if (lazyfreePendingObjects() > 0) {
                usleep(EVICT_TIME_LIMIT_US);
                if (evictUsedMemory() <= srv.maxmemory) return 0;
            }
            return -1;
        }
        srv.statEvictedKeys++;
        srv.dirty++;
        freed++;
        /* Check the clock every 16 keys, as Redis: cheap and frequent enough. */
        if (freed % 16 == 0 && srv.el && ustime() - start > EVICT_TIME_LIMIT_US) {
            if (!evictTimerRunning) {
                evictTimerRunning = 1;
                elAddTimer(srv.el, 0, evictTimerProc, NULL);
            }
            return 0;
        }
    }
    return 0;
}

/* Continues a large eviction between event loop iterations. */
static long evictTimerProc(elLoop *el, long long id, void *data) {
    (void)el;
    (void)id;
    (void)data;
    if (srv.maxmemory && evictUsedMemory() > srv.maxmemory && evictPerform() == 0 &&
        evictUsedMemory() > srv.maxmemory)
        return 0; /* time ran out again: keep going next iteration */
    evictTimerRunning = 0;
    return EL_TIMER_STOP;
}

/* ---- policy names -------------------------------------------------------- */

static const char *policyNames[] = {"noeviction",  "allkeys-lru",  "allkeys-lfu",     "allkeys-random",
                                    "volatile-lru", "volatile-lfu", "volatile-random", "volatile-ttl"};
const char *evictPolicyName(int p) { return p >= 0 && p < 8 ? policyNames[p] : "noeviction"; }
/* Returns the MAXMEMORY_* value, or -1 for an unknown name. */
int evictPolicyFromName(const char *n) {
    for (int i = 0; i < 8; i++)
        if (!strcasecmp(policyNames[i], n)) return i;
    return -1;
}
