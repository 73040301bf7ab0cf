/* evict.h - maxmemory policies, eviction and the LRU/LFU clock (evict.c). */
#ifndef CACHET_EVICT_H
#define CACHET_EVICT_H

#include <stdint.h>
#include "db.h"

#define MAXMEMORY_NO_EVICTION 0
#define MAXMEMORY_ALLKEYS_LRU 1
#define MAXMEMORY_ALLKEYS_LFU 2
#define MAXMEMORY_ALLKEYS_RANDOM 3
#define MAXMEMORY_VOLATILE_LRU 4
#define MAXMEMORY_VOLATILE_LFU 5
#define MAXMEMORY_VOLATILE_RANDOM 6
#define MAXMEMORY_VOLATILE_TTL 7

/* evict.c */
int evictPerform(void);          /* 0 ok, -1 still over maxmemory */
uint32_t evictLruClock(void);        /* cached srv.lruclock: cheap, per key access */
uint32_t evictLruClockCompute(void); /* from the wall clock: cron sets srv.lruclock to it */
uint32_t evictLfuInitValue(void);    /* lru field of a new key under an LFU policy */
int evictPolicyIsLfu(void);          /* allkeys-lfu or volatile-lfu */
unsigned long evictIdleTime(dbEntry *e);
void evictLfuTouch(dbEntry *e);
uint8_t evictLfuCounter(dbEntry *e);
unsigned long long evictUsedMemory(void);
const char *evictPolicyName(int policy);
int evictPolicyFromName(const char *name);

#endif
