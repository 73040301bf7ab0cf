/* evict.c - STUB: LRU clock only; eviction policies to come. */
#include "server.h"
#include <strings.h>

uint32_t evictLruClock(void) { return (uint32_t)((mstime() / 1000) & 0xFFFFFF); }
unsigned long evictIdleTime(dbEntry *e) { (void)e; return 0; }
void evictLfuTouch(dbEntry *e) { (void)e; }
uint8_t evictLfuCounter(dbEntry *e) { return (uint8_t)(e->lru & 0xff); }
unsigned long long evictUsedMemory(void) { return memUsed(); }
int evictPerform(void) { return memUsed() > srv.maxmemory ? -1 : 0; }
static const char *policyNames[] = {"noeviction",  "allkeys-lru",  "allkeys-lfu",     "allkeys-random",
                                    "volatile-lru", "volatile-lfu", "volatile-random", "volatile-ttl"};
const char *evictPolicyName(int p) { return p >= 0 && p < 8 ? policyNames[p] : "noeviction"; }
/* Returns the MAXMEMORY_* value, or -1 for an unknown name. */
int evictPolicyFromName(const char *n) {
    for (int i = 0; i < 8; i++)
        if (!strcasecmp(policyNames[i], n)) return i;
    return -1;
}
