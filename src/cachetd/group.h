/* group.h - replication groups: the ElastiCache actions on them and the
 * reconciler that makes running nodes match the store.
 *
 * A group is shards (one with cluster mode disabled), each a primary and
 * the same number of replicas; with cluster mode enabled every node also
 * holds the group's slot map (CLUSTER SETTOPOLOGY, record field "epoch").
 *
 * State machine of a group (record field "status"):
 *   creating  -> available       every node launched and answering PING, a
 *                                cluster node at the map's epoch, every
 *                                replica's master_link_status:up (reconcile)
 *   creating  -> create-failed   not all of that in 30 s (reconcile)
 *   available -> modifying       ModifyReplicationGroup changing the TLS mode
 *   modifying -> available       every node at the target TLS mode, every
 *                                replica link at its target transport and up
 *                                (reconcile; the steps: migrateGroup, reconcile.c)
 *   available|create-failed -> deleting   DeleteReplicationGroup
 *   deleting  -> (gone)          nodes stopped, records removed (reconcile)
 * Invariants: the API only moves a group out of a stable state (available,
 * create-failed); only the reconciler moves it out of a transitional one, so
 * the two never race. Every transition is one store transaction; so is each
 * node step inside one (a launch, a map pushed, a mode or link changed).
 * Must never block on a node from an API handler (cd.lock is held there). */
#ifndef CACHETD_GROUP_H
#define CACHETD_GROUP_H
#include "query.h"
#include "util.h"

/* The result of an action: status 200 with XML body, or an AWS error. */
typedef struct cdReply {
    int status;
    char *body; /* memAlloc'd XML */
} cdReply;

void replyError(cdReply *out, int status, const char *code, const char *msg, const char *rid);
void replyOk(cdReply *out, const char *action, const char *body, const char *rid);
/* MaxRecords (20-100, default 100) into *max, or an InvalidParameterValue
 * reply and -1. */
int pageArgs(const cdParams *p, long long *max, cdReply *out, const char *rid);
/* Emits one record of kind as XML; 1 emitted, 0 filtered out. */
typedef int itemXml(textBuf *b, const char *id, void *ctx);
/* The paginated listing every Describe shares: records of kind in id order
 * after marker, at most max emitted inside <wrap>, then <Marker> (the last
 * id emitted) when more remain. Returns how many were emitted. */
int pagedList(textBuf *b, const char *kind, const char *marker, long long max, const char *wrap, itemXml *fn,
              void *ctx);

/* Runs Action from params (cd.lock held by the caller). */
void cdDispatch(const cdParams *params, const char *requestId, cdReply *out);
/* One pass of the reconciler (main thread, takes cd.lock itself); 1 while
 * a group is in a transitional state (the next pass should come soon). */
int cdReconcile(void);
/* Stops every node of every group (cachetd --stop-nodes-on-exit, after the
 * API has stopped): replicas first, SIGTERM then SIGKILL after 5 s. The
 * records are kept, so the next cachetd starts the nodes again on their
 * recorded ports as it restarts any dead node. */
void cdStopAllNodes(void);
#endif
