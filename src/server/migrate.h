/* migrate.h - MIGRATE (migrate.c): keys moved to another instance as
 * RESTORE / RESTORE-ASKING over an outbound connection, without blocking
 * the event loop. The calling client waits (CLIENT_BLOCKED | CLIENT_MIGRATE)
 * while the loop serves everyone else; writes of other clients to the keys
 * being moved wait too (postponed as by CLIENT PAUSE) until the target has
 * answered, so nothing written meanwhile is lost with the local copy. */
#ifndef CACHET_MIGRATE_H
#define CACHET_MIGRATE_H

#include "client.h"
#include "cmd.h"

/* The client waits for its MIGRATE (with CLIENT_BLOCKED). A high bit, clear
 * of those client.h and cluster.h use. */
#define CLIENT_MIGRATE (1ULL << 43)

extern cmdDef migrateCommands[];
/* 1 when c's command must wait (cmd.c, next to the pause check): it may
 * write and names a key a running MIGRATE (not COPY) is moving. The caller
 * then postpones it as pause.c does; it is checked again each loop. */
int migrateMustWait(client *c, cmdDef *cmd);
/* clientFree: a client waiting for its MIGRATE goes away. The operation
 * runs to its end (keys the target acknowledged are deleted here), without
 * anyone to answer. */
void migrateClientFree(client *c);
int migrateIsMigrateCommand(const cmdDef *cmd);
long long migrateWaitingClients(void); /* clients waiting for their MIGRATE (INFO blocked_clients) */

#endif
