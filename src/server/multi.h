/* multi.h - MULTI/EXEC/WATCH (multi.c). */
#ifndef CACHET_MULTI_H
#define CACHET_MULTI_H

#include "client.h"
#include "cmd.h"
#include "db.h"

/* multi.c */
void multiQueueCommand(client *c, cmdDef *cmd);
int multiHasQueuedWrite(client *c);
int multiMayReplicate(client *c);     /* a queued command writes or may replicate (pause.c) */   /* EXEC of a queued write: -MISCONF applies */
void multiDiscard(client *c);
void multiTouchWatchedKey(cdb *db, const char *key, size_t len);
void multiTouchAllWatched(cdb *db);   /* FLUSHDB / FLUSHALL */
void multiUnwatchAll(client *c);
void multiFlagExecAbort(client *c);
/* EXEC itself rejected (arity, OOM...): discard and reply
 * "-EXECABORT Transaction discarded because of: <err>", as Redis. */
void multiExecAbort(client *c, const char *err);

#endif
