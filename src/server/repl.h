/* repl.h - replication: what the rest of the data node may use.
 *
 * Three files share the work (Redis 7.0's PSYNC protocol, both ways):
 *   repl.c          the replication history this node is at (replid, replid2,
 *                   master_repl_offset, second_repl_offset), the role, the
 *                   stream feed, ROLE and INFO's # Replication section.
 *   repl_primary.c  the source side: the backlog, the replicas attached to
 *                   us (SYNC/PSYNC/REPLCONF, full sync by a forked child,
 *                   +CONTINUE), the propagation of our own writes, WAIT,
 *                   min-replicas-to-write.
 *   repl_replica.c  the sink side: REPLICAOF/SLAVEOF, the link to our
 *                   primary (handshake, snapshot transfer and load, the
 *                   master client that applies the stream), replica-read-only
 *                   and expiry as a replica.
 * A node is a primary or a replica; a replica may itself have replicas (a
 * chain): it proxies what its primary sends, byte for byte, to them.
 *
 * The history invariant (PSYNC2): replOffset() counts every byte ever fed to
 * replFeedStream under the current replid. A replica that follows us and
 * asks PSYNC <id> <off> can continue iff id == replid and off is within the
 * backlog, or id == replid2 and off <= second_repl_offset. */
#ifndef CACHET_REPL_H
#define CACHET_REPL_H

#include "server.h"
#include "client.h"
#include "cmd.h"

#define REPL_ID_LEN 40

/* ---- repl.c: history, role, feed, ROLE, INFO --------------------------- */
void replInit(void);                 /* a fresh random replid, offset 0 */
const char *replId(void);
const char *replId2(void);           /* 40 zeros when none */
long long replOffset(void);          /* master_repl_offset */
long long replSecondOffset(void);    /* second_repl_offset, -1 when none */
/* A new random history (e.g. a replica that lost its primary's dataset). */
void replNewHistory(void);
/* Promotion, or a primary that moved to a new history (+CONTINUE <newid>):
 * replid2 := replid, second_repl_offset := offset + 1, replid := newId
 * (random when NULL). Replicas of ours can then continue partially. */
void replShiftHistory(const char *newId);
/* After a full sync from a primary: we are at its history, at offset. */
void replAdoptHistory(const char *replid, long long offset);
/* Appends bytes of the replication stream: offset += len and the primary
 * side (backlog, attached replicas) gets them. Our own writes come here
 * through replPropagate; a replica feeds what it applied from its primary. */
void replFeedStream(const char *buf, size_t len);
/* The role: 1 while we follow a primary (REPLICAOF host port). */
int replIsReplica(void);
void replSetReplica(int yes);        /* repl_replica.c only */
void roleCommand(client *c);
/* Command tables (cmd.c registers them): ROLE; SYNC, PSYNC, REPLCONF, WAIT,
 * FAILOVER; REPLICAOF, SLAVEOF. */
extern cmdDef replCommands[], replPrimaryCommands[], replReplicaCommands[];
void replInfo(textBuf *b);           /* body of INFO's # Replication */

/* ---- repl_primary.c: the source side ------------------------------------ */
void replPrimaryInit(void);
void replPrimaryCron(void);          /* once per serverCron */
void replPrimaryFeed(const char *buf, size_t len); /* replFeedStream's half */
/* Our own write, as it must run on replicas: argv is the effect (already
 * rewritten: PEXPIREAT for relative expiries, SREM for SPOP...). Adds a
 * SELECT when dbid differs from the stream's. No-op on a replica (it
 * proxies its primary's stream instead) and without replicas or backlog. */
void replPropagate(int dbid, const slice *argv, int argc);
void replDisconnectReplicas(void);   /* make them reconnect (and PSYNC) */
/* Drop the history kept so far (after replAdoptHistory): the backlog, if
 * any or if we are a replica, restarts empty at replOffset() + 1 so that
 * replicas of ours can continue from the adopted history. */
void replBacklogReset(void);
/* Start-up, after loading the snapshot: when it carried repl-id and
 * repl-offset (Redis 7.0's aux fields), we are at that history again, with
 * an empty backlog from offset + 1. A restarted primary then answers
 * +CONTINUE to the replicas it had; a restarted replica asks its primary
 * for a partial resync. */
void replRestoreHistory(void);
void replBacklogApplySize(void);     /* config: repl-backlog-size changed */
int replBacklogExists(void);         /* writes are being recorded for replicas */
/* min-replicas-to-write: 0 when a write must be refused with -NOREPLICAS. */
int replPrimaryWritesAllowed(void);
int replConnectedReplicas(void);     /* online replicas */
int replReplicaLinkCount(void);      /* replicas attached, in any state */
/* failover.c: the replica announcing (or connected from) host with
 * listening port port: 1 online (*ackOff its last ACK), 0 not online yet,
 * -1 none. */
int replFindReplica(const char *host, int port, long long *ackOff);
/* failover.c: 1 and its address when a replica has ACKed replOffset(). */
int replCaughtUpReplica(char *host, size_t hostCap, int *port);
void replPrimaryInfo(textBuf *b);    /* connected_slaves ... repl_backlog_histlen */
/* INFO memory / MEMORY STATS: the bytes a replica link holds besides its
 * client (the snapshot preamble and the stream kept while it syncs), and
 * the backlog's allocation. */
long long replLinkMemory(client *c);
long long replBacklogMemory(void);
void replPrimaryRole(client *c);     /* ROLE as a primary */
void replPrimaryClientFree(client *c); /* a CLIENT_REPLICA client goes away */
/* snapshot.c: the child ended (ok or not); toPipe: it was ours, streaming
 * to replicas; else a BGSAVE to the file, which disk-based syncs wait for. */
void replPrimaryChildDone(int ok, int toPipe);

/* ---- repl_replica.c: the sink side -------------------------------------- */
void replReplicaInit(void);          /* `replicaof` from the configuration */
void replReplicaCron(void);          /* once per serverCron: connect, timeouts, ACK */
client *replMasterClient(void);      /* the client applying the stream, or NULL */
void replReplicaInfo(textBuf *b);    /* master_host ... replica_announced */
void replReplicaRole(client *c);     /* ROLE as a replica */
void replMasterClientFree(client *c); /* the CLIENT_MASTER client goes away */
/* client.c: the master client c applied these request bytes (its whole
 * request, after running it): they go to replFeedStream, held back while
 * c is inside MULTI until the EXEC, so the offset never counts half a
 * transaction. */
void replMasterApplied(client *c, const char *buf, size_t len);
/* cmd.c: a request from the master client answered here instead of run
 * (REPLCONF GETACK -> REPLCONF ACK <offset>); 1 when handled. */
int replMasterIntercept(client *c);
int replReplicaLinkUp(void);         /* a replica whose link is up (CONNECTED) */
/* config_rewrite.c: the primary we follow (the host as REPLICAOF was given
 * it, *port), or NULL when we are a primary. */
const char *replReplicaTarget(int *port);
void replReplicaShutdown(void);      /* server.c, SHUTDOWN: removes the transfer's temp file */
/* config.c: `replicaof host port` (or `no one`) from the file / command
 * line; -1 with *err ("Invalid master port") on bad input. */
int replReplicaConfigure(const char *host, const char *port, char *err, size_t errlen);
/* config.c: tls-replication or tls-client-* changed: a live link reconnects
 * with the new transport (and continues by PSYNC). 0 always. */
int replReplicaTransportApply(char *err, size_t errlen);
/* REPLCONF GETACK received from our primary: send REPLCONF ACK now.
 * repl_primary.c (which owns REPLCONF) holds a weak no-op until this file
 * defines it. */
void replReplicaSendAck(void);
/* failover.c: a primary becomes a replica of host:port (its PSYNC then
 * says FAILOVER); -1 when host is no address we can connect to. */
int replReplicaFailoverTo(const char *host, int port);

#endif
