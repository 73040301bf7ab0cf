/* multi.c - STUB. */
#include "server.h"
static void wkKey(const dictNode *n, const char **p, size_t *len) { (void)n; *p = ""; *len = 0; }
const dictType multiWatchedDictType = {.key = wkKey};
void multiQueueCommand(client *c, cmdDef *cmd) { (void)c; (void)cmd; }
void multiDiscard(client *c) { (void)c; }
void multiTouchWatchedKey(cdb *db, const char *key, size_t len) { (void)db; (void)key; (void)len; }
void multiTouchAllWatched(cdb *db) { (void)db; }
void multiUnwatchAll(client *c) { (void)c; }
void multiFlagExecAbort(client *c) { c->flags |= CLIENT_DIRTY_EXEC; }
cmdDef multiCommands[] = {{0}};
