/* group.h - replication groups: the ElastiCache actions on them and the
 * reconciler that makes running nodes match the store.
 *
 * State machine of a group (record field "status"):
 *   creating  -> available       all nodes launched and answering (reconcile)
 *   creating  -> create-failed   a node did not come up in time (reconcile)
 *   available -> modifying       ModifyReplicationGroup (cdActionModify)
 *   modifying -> available       every node at the target TLS mode (reconcile)
 *   available|create-failed -> deleting   DeleteReplicationGroup
 *   deleting  -> (gone)          nodes stopped, records removed (reconcile)
 * Invariants: the API only moves a group out of a stable state (available,
 * create-failed); only the reconciler moves it out of a transitional one, so
 * the two never race. Every transition is one store transaction.
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

/* Runs Action from params (cd.lock held by the caller). */
void cdDispatch(const cdParams *params, const char *requestId, cdReply *out);
/* One pass of the reconciler (main thread, takes cd.lock itself); 1 while
 * a group is in a transitional state (the next pass should come soon). */
int cdReconcile(void);
#endif
