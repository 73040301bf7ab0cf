/* t_list.c - the list type (placeholder until the module lands). */
#include "server.h"

void listFreeValue(dbEntry *e) { (void)e; }
void *listDupValue(const dbEntry *e) { (void)e; return NULL; }
size_t listValueMemory(const dbEntry *e) { (void)e; return 0; }

cmdDef listCommands[] = {{0}};
