/* failover.h - FAILOVER [TO host port] [FORCE] [TIMEOUT ms] / FAILOVER ABORT
 * (failover.c): a primary hands its role to one of its replicas without
 * losing a write, as Redis 6.2+/7.0 does. What the replication files and
 * the server loop may use. */
#ifndef CACHET_FAILOVER_H
#define CACHET_FAILOVER_H

#include "cmd.h"

typedef enum { FAILOVER_NONE = 0, FAILOVER_WAIT_FOR_SYNC = 1, FAILOVER_IN_PROGRESS = 2 } failoverState;

failoverState failoverGetState(void);
/* INFO's master_failover_state value: no-failover, waiting-for-sync,
 * failover-in-progress. */
const char *failoverStateName(void);
/* server.c, every loop iteration (before the pause is checked): notices a
 * caught-up target, the timeout, a link to the target that failed. */
void failoverBeforeSleep(void);
/* repl_replica.c, the old primary's PSYNC to the target was answered:
 * ok (+CONTINUE, +FULLRESYNC) ends the failover, else it is aborted. */
void failoverPsyncAnswered(int ok);
/* repl_replica.c: the link to the target dropped before the PSYNC reply;
 * the failover is aborted from failoverBeforeSleep (not from inside the
 * link code, which the abort re-enters). */
void failoverLinkFailed(void);
extern cmdDef failoverCommands[];

#endif
