/* t_hash.c - the hash type (placeholder until the module lands). */
#include "server.h"

void hashFreeValue(dbEntry *e) { (void)e; }
void *hashDupValue(const dbEntry *e) { (void)e; return NULL; }
size_t hashValueMemory(const dbEntry *e) { (void)e; return 0; }

cmdDef hashCommands[] = {{0}};
