/* t_zset.c - the zset type (placeholder until the module lands). */
#include "server.h"

void zsetFreeValue(dbEntry *e) { (void)e; }
void *zsetDupValue(const dbEntry *e) { (void)e; return NULL; }
size_t zsetValueMemory(const dbEntry *e) { (void)e; return 0; }

cmdDef zsetCommands[] = {{0}};
