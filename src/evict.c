/* evict.c - STUB: LRU clock only; eviction policies to come. */
#include "server.h"

uint32_t evictLruClock(void) { return (uint32_t)((mstime() / 1000) & 0xFFFFFF); }
unsigned long evictIdleTime(dbEntry *e) { (void)e; return 0; }
void evictLfuTouch(dbEntry *e) { (void)e; }
uint8_t evictLfuCounter(dbEntry *e) { return (uint8_t)(e->lru & 0xff); }
unsigned long long evictUsedMemory(void) { return memUsed(); }
int evictPerform(void) { return memUsed() > srv.maxmemory ? -1 : 0; }
const char *evictPolicyName(int p) { (void)p; return "noeviction"; }
int evictPolicyFromName(const char *n) { (void)n; return 0; }
