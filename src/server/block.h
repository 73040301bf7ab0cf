/* block.h - clients blocked on keys (block.c). */
#ifndef CACHET_BLOCK_H
#define CACHET_BLOCK_H

#include "client.h"
#include "cmd.h"
#include "db.h"

/* block.c: clients blocked on keys (BLPOP, BZPOPMIN, ...).
 * A blocking command that finds nothing to serve calls blockForKeys() and
 * returns without replying. When one of the keys is created (dbInsert of a
 * list or zset calls blockSignalKeyReady), the end of the command that did it
 * (cmd.c: blockServeReadyKeys) and beforeSleep (blockHandleReady) run,
 * which re-executes the command of each client blocked on that key, oldest
 * first; the command, finding data, replies as usual, or calls blockForKeys()
 * again, which keeps the client's place and deadline. On timeout the client
 * gets a null array (RESP2 *-1, RESP3 _), or the null reply the command chose. */
/* Parses a blocking timeout in seconds (float ok) into an absolute unix-ms
 * deadline (0 = forever). Replies "timeout is not a float or out of range" /
 * "timeout is negative" and returns -1 on bad input. */
int blockGetTimeout(client *c, slice arg, long long *deadlineMs);
/* 1 when c may block now: not inside MULTI/EXEC (there a blocking command
 * behaves as if it timed out at once, as Redis). */
int blockAllowed(client *c);
/* Blocks c on keys[0..nkeys) (in c->db) until deadlineMs (0 = forever).
 * nullArrayOnTimeout: 1 replies a null array on timeout, 0 a null bulk. */
void blockForKeys(client *c, slice *keys, int nkeys, long long deadlineMs, int nullArrayOnTimeout);
void blockSignalKeyReady(cdb *db, const char *key, size_t len);
/* FLUSHDB/FLUSHALL: the streams waited on are about to go (XREADGROUP waiters get -UNBLOCKED). */
void blockSignalFlushedDb(cdb *db);
void blockHandleReady(void);            /* beforeSleep */
void blockServeReadyKeys(void); /* after each top-level command (cmd.c): serve, do not resume input */
void blockClientFree(client *c);        /* client going away while blocked */
/* CLIENT UNBLOCK: 1 when c was blocked; error=1 replies
 * "-UNBLOCKED client unblocked via CLIENT UNBLOCK", else the timeout reply. */
int blockUnblockClient(client *c, int error);
/* Cluster mode: redirect(c, its command, its first key) is asked for each
 * blocked client; one for which it returns 1 gets the error it wrote in
 * err (with its '-' code) and is unblocked. Safe inside a command: input
 * resumes in beforeSleep. */
typedef int blockRedirectFn(client *c, cmdDef *cmd, const char *key, size_t len, char *err, size_t errlen);
void blockRedirectWhere(blockRedirectFn *redirect);
long long blockedClientCount(void);
long long blockTimeoutTableCount(void); /* blocked with a deadline (INFO) */

#endif
