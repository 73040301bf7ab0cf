/* failover.c - FAILOVER: a primary hands its role to one of its replicas
 * without losing a write (Redis 6.2+/7.0 semantics, failover.h).
 *
 * Owns: the failover state, the target's address, the deadline, FORCE, and
 * the pause it takes (pause.h purpose PAUSE_BY_FAILOVER).
 * Must never touch a replica link or the link to the target itself: it asks
 * repl_primary.c (who acked what) and repl_replica.c (follow the target, or
 * stop following) through repl.h. Never acts from inside the link code's
 * callbacks when that would re-enter it: a failed link only sets a flag.
 *
 * ---- The state machine -----------------------------------------------------
 *
 *   NONE            no failover. No failover pause; target empty.
 *                   -> WAIT_FOR_SYNC  failoverCommand (FAILOVER [TO h p] ...)
 *   WAIT_FOR_SYNC   we are a primary; writes of normal clients are paused
 *                   (so master_repl_offset stands still: no writes, no
 *                   expiry, no eviction, no keepalive PING in the stream);
 *                   we wait for the target (or, without TO, any replica)
 *                   to ACK master_repl_offset. Replicas ACK once a second.
 *                   -> IN_PROGRESS    failoverBeforeSleep (caught up, or the
 *                                     deadline passed with FORCE): we become
 *                                     a replica of the target; our PSYNC
 *                                     carries FAILOVER
 *                   -> NONE           abort (FAILOVER ABORT; the deadline
 *                                     passed without FORCE)
 *   IN_PROGRESS     we are a replica of the target, the pause still on,
 *                   awaiting the reply to PSYNC <replid> <offset> FAILOVER
 *                   (the target, sharing our replid, promotes itself).
 *                   -> NONE  failoverPsyncAnswered(1) (+CONTINUE/+FULLRESYNC):
 *                            we stay its replica; the pause ends and the
 *                            writes that waited get -READONLY
 *                   -> NONE  abort: failoverPsyncAnswered(0) (an error
 *                            reply), the link failing before the reply
 *                            (failoverLinkFailed, acted on in
 *                            failoverBeforeSleep), FAILOVER ABORT: we are a
 *                            primary again (REPLICAOF NO ONE), pause ends
 * Invariants (checkInvariants, CACHET_ASSERT):
 *   - state != NONE  <=>  the failover pause (WRITE) is in force;
 *   - NONE: no target, no deadline, no FORCE, no pending link failure;
 *   - WAIT_FOR_SYNC: we are a primary; FORCE implies a target and deadline;
 *   - IN_PROGRESS: we are a replica with a target. */
#include "failover.h"
#include "repl.h"
#include "pause.h"
#include "reply.h"
#include "args.h"
#include "dassert.h"
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#define FAILOVER_HOST_MAX 256 /* Redis' NET_HOST_STR_LEN */

static struct {
    failoverState state;
    char host[FAILOVER_HOST_MAX]; /* target; "" while any replica will do */
    int port;
    long long endMs;              /* deadline (unix ms); 0: none */
    int force;
    int linkFailed;               /* IN_PROGRESS: the link to the target dropped */
} F;

static void checkInvariants(void) {
    CACHET_ASSERT((F.state != FAILOVER_NONE) == (pausePurposeType(PAUSE_BY_FAILOVER) == PAUSE_WRITE));
    switch (F.state) {
    case FAILOVER_NONE:
        CACHET_ASSERT(!F.host[0] && !F.endMs && !F.force && !F.linkFailed);
        break;
    case FAILOVER_WAIT_FOR_SYNC:
        CACHET_ASSERT(!replIsReplica() && (!F.force || (F.host[0] && F.endMs)));
        break;
    case FAILOVER_IN_PROGRESS:
        CACHET_ASSERT(replIsReplica() && F.host[0]);
        break;
    }
}

failoverState failoverGetState(void) { return F.state; }

const char *failoverStateName(void) {
    switch (F.state) {
    case FAILOVER_NONE: return "no-failover";
    case FAILOVER_WAIT_FOR_SYNC: return "waiting-for-sync";
    case FAILOVER_IN_PROGRESS: return "failover-in-progress";
    }
    return "unknown";
}

/* Any state -> NONE: forget the target, end the pause (the writes that
 * waited run in pauseBeforeSleep, later in this loop iteration). */
static void clearState(void) {
    memset(&F, 0, sizeof(F));
    F.state = FAILOVER_NONE;
    pauseEnd(PAUSE_BY_FAILOVER);
    checkInvariants();
}

/* WAIT_FOR_SYNC or IN_PROGRESS -> NONE, a primary again. */
static void abortFailover(const char *why) {
    if (F.state == FAILOVER_NONE) return;
    if (F.host[0]) logNotice("FAILOVER to %s:%d aborted: %s", F.host, F.port, why);
    else logNotice("FAILOVER to any replica aborted: %s", why);
    if (F.state == FAILOVER_IN_PROGRESS) {
        char err[128];
        F.state = FAILOVER_NONE; /* the link code calls back while closing: nothing to do then */
        replReplicaConfigure("no", "one", err, sizeof(err)); /* "no one" cannot fail */
    }
    clearState();
}

/* WAIT_FOR_SYNC -> IN_PROGRESS: follow the target; its PSYNC says FAILOVER
 * (repl_replica.c asks failoverGetState()). */
static void demote(void) {
    F.state = FAILOVER_IN_PROGRESS;
    if (replReplicaFailoverTo(F.host, F.port) == -1) {
        /* Not an address we can connect to (a replica announced a name):
         * we are still a primary. */
        F.state = FAILOVER_WAIT_FOR_SYNC;
        abortFailover("Failover target address cannot be resolved");
        return;
    }
    checkInvariants();
}

void failoverBeforeSleep(void) {
    if (F.state == FAILOVER_IN_PROGRESS && F.linkFailed) {
        abortFailover("Failover target could not be reached");
        return;
    }
    if (F.state != FAILOVER_WAIT_FOR_SYNC) return;
    if (F.endMs && F.endMs <= srv.mstime) {
        if (F.force) {
            logNotice("FAILOVER to %s:%d time out exceeded, failing over.", F.host, F.port);
            demote();
        } else {
            abortFailover("Replica never caught up before timeout");
        }
        return;
    }
    long long ack = -1;
    if (F.host[0]) {
        if (replFindReplica(F.host, F.port, &ack) == -1) ack = -1;
    } else if (replCaughtUpReplica(F.host, sizeof(F.host), &F.port)) {
        ack = replOffset();
    }
    if (ack == replOffset()) {
        logNotice("Failover target %s:%d is synced, failing over.", F.host, F.port);
        demote();
    }
}

void failoverPsyncAnswered(int ok) {
    if (F.state != FAILOVER_IN_PROGRESS) return;
    if (ok) {
        logNotice("FAILOVER to %s:%d succeeded: following it now.", F.host, F.port);
        clearState();
    } else {
        abortFailover("Failover target rejected psync request");
    }
}

void failoverLinkFailed(void) {
    if (F.state == FAILOVER_IN_PROGRESS) F.linkFailed = 1;
}

/* FAILOVER [TO host port] [FORCE] [TIMEOUT ms] | FAILOVER ABORT: the
 * arguments and the order of the checks are Redis 7.0's, so the same bad
 * input gets the same error. */
static void failoverCommand(client *c) {
    if (srv.clusterEnabled) {
        replyError(c, "FAILOVER not allowed in cluster mode. Use CLUSTER FAILOVER command instead.");
        return;
    }
    if (c->argc == 2 && sliceEqNocase(c->argv[1], "abort")) {
        if (F.state == FAILOVER_NONE) {
            replyError(c, "No failover in progress.");
            return;
        }
        abortFailover("Failover manually aborted");
        replyOk(c);
        return;
    }
    long timeout = 0, port = 0;
    int force = 0;
    slice host = {NULL, 0};
    for (int j = 1; j < c->argc; j++) {
        if (sliceEqNocase(c->argv[j], "timeout") && j + 1 < c->argc && timeout == 0) {
            if (getLongFromSliceOrReply(c, c->argv[j + 1], &timeout, NULL) == -1) return;
            if (timeout <= 0) {
                replyError(c, "FAILOVER timeout must be greater than 0");
                return;
            }
            j++;
        } else if (sliceEqNocase(c->argv[j], "to") && j + 2 < c->argc && !host.p) {
            if (getLongFromSliceOrReply(c, c->argv[j + 2], &port, NULL) == -1) return;
            host = c->argv[j + 1];
            j += 2;
        } else if (sliceEqNocase(c->argv[j], "force") && !force) {
            force = 1;
        } else {
            replyErrorSyntax(c);
            return;
        }
    }
    if (F.state != FAILOVER_NONE) {
        replyError(c, "FAILOVER already in progress.");
        return;
    }
    if (replIsReplica()) {
        replyError(c, "FAILOVER is not valid when server is a replica.");
        return;
    }
    if (replReplicaLinkCount() == 0) {
        replyError(c, "FAILOVER requires connected replicas.");
        return;
    }
    if (force && (!timeout || !host.p)) {
        replyError(c, "FAILOVER with force option requires both a timeout and target HOST and IP.");
        return;
    }
    if (host.p) {
        char h[FAILOVER_HOST_MAX];
        int found = -1;
        long long ack;
        if (host.len < sizeof(h) && !memchr(host.p, '\0', host.len) && port >= 0 && port <= INT_MAX) {
            memcpy(h, host.p, host.len);
            h[host.len] = '\0';
            found = replFindReplica(h, (int)port, &ack);
        }
        if (found == -1) {
            replyError(c, "FAILOVER target HOST and PORT is not a replica.");
            return;
        }
        if (found == 0) {
            replyError(c, "FAILOVER target replica is not online.");
            return;
        }
        memcpy(F.host, h, host.len + 1);
        F.port = (int)port;
        logNotice("FAILOVER requested to %s:%ld.", F.host, port);
    } else {
        logNotice("FAILOVER requested to any replica.");
    }
    if (timeout) F.endMs = srv.mstime + timeout;
    F.force = force;
    F.state = FAILOVER_WAIT_FOR_SYNC;
    /* Until the switch (or the abort): writes wait, so the offset the
     * target must reach stands still. */
    pauseStart(PAUSE_BY_FAILOVER, LLONG_MAX, PAUSE_WRITE);
    checkInvariants();
    replyOk(c);
}

cmdDef failoverCommands[] = {
    {.name = "failover", .proc = failoverCommand, .arity = -1, .flags = CMD_ADMIN | CMD_NOSCRIPT | CMD_STALE, .group = "server", .since = "6.2.0", .summary = "Start a coordinated failover between this server and one of its replicas.", .complexity = "O(1)"},
    {0}};
