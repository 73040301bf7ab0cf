/* t_set.c - the set type (placeholder until the module lands). */
#include "server.h"

void setFreeValue(dbEntry *e) { (void)e; }
void *setDupValue(const dbEntry *e) { (void)e; return NULL; }
size_t setValueMemory(const dbEntry *e) { (void)e; return 0; }

cmdDef setCommands[] = {{0}};
