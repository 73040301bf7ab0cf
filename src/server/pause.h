/* pause.h - CLIENT PAUSE / UNPAUSE and the pause a coordinated FAILOVER
 * takes (pause.c). While a pause is in force, commands that may write
 * (WRITE) or all commands (ALL) of normal clients wait, postponed with their
 * request still in the query buffer, and the dataset stays as it is: no key
 * expires or is evicted (reads see logically expired keys as missing).
 * migrate.c's held-back writes use the same list (pausePostpone): with no
 * pause in force, postponed clients are retried every beforeSleep. */
#ifndef CACHET_PAUSE_H
#define CACHET_PAUSE_H

#include "client.h"
#include "cmd.h"

typedef enum { PAUSE_NONE = 0, PAUSE_WRITE = 1, PAUSE_ALL = 2 } pauseType;
typedef enum { PAUSE_BY_CLIENT = 0, PAUSE_BY_FAILOVER = 1, PAUSE_PURPOSES = 2 } pausePurpose;

/* Starts or extends a pause: per purpose the stricter type and the later
 * end (unix ms) win, as in Redis 7.0. */
void pauseStart(pausePurpose p, long long endMs, pauseType t);
void pauseEnd(pausePurpose p);
/* The type p holds now (PAUSE_NONE once its end passed). */
pauseType pausePurposeType(pausePurpose p);
/* 1 while any pause is in force: expiry and eviction wait. */
int pauseActive(void);
/* 1 when c's command must wait now (cmd.c, before running or queueing it);
 * the caller then calls pausePostpone and leaves the request unparsed. */
int pauseMustWait(client *c, cmdDef *cmd);
void pausePostpone(client *c);
/* Redis 7.0's is_may_replicate_command: writes, PUBLISH, scripts that did
 * not declare no-writes, an EXEC whose queue holds one of them. */
int pauseMayReplicate(client *c, cmdDef *cmd);
void pauseClientFree(client *c);   /* c goes away while postponed */
void pauseBeforeSleep(void);       /* ends timed-out pauses, resumes clients */
long long pausePostponedCount(void); /* INFO blocked_clients counts them */
long long pauseRemainingMs(void);
#endif
