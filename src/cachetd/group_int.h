/* group_int.h - what group.c (the API) and reconcile.c (the reconciler)
 * share of a replication group: its records' fields, its shape, its nodes
 * loaded together, the status setter and the events. Included by those two
 * files only.
 *
 * Records (store kinds): "group" (status, mode, target, shards, replicas,
 * cluster, epoch, slots.N, ...), "node" (group, shard, index = member in the
 * shard, port, pid, pass, tls = its mode, link = a replica's transport,
 * cid = its cluster id, epoch = the map it holds, trust = the CA bundle it
 * was given, certca/certat/certna = its certificate's CA generation, issue
 * time and notAfter, ...), "event".
 * Must never be used without cd.lock held. */
#ifndef CACHETD_GROUP_INT_H
#define CACHETD_GROUP_INT_H
#include <stddef.h>

#include "query.h"

/* A group's shape: shards (node groups), each one primary (member 1) and
 * `replicas` replicas. Cluster mode disabled is one shard. Records written
 * before shards existed hold only "num" (one shard of num nodes). */
typedef struct groupShape {
    int shards, replicas, cluster;
} groupShape;

/* A group's nodes, loaded together: index (shard-1)*(replicas+1)+member-1,
 * so a shard's primary comes before its replicas. */
typedef struct groupNode {
    char id[64];
    int shard, member, have; /* have: the record exists */
    cdParams rec;
} groupNode;

/* A record's field; "" when absent. */
const char *recStr(const cdParams *r, const char *k);
/* Records only hold integers cachetd wrote; a damaged one reads as 0. */
long long recInt(const cdParams *r, const char *k);
void recSetInt(cdParams *r, const char *k, long long v);
/* Adds an event record (inside the caller's transaction) and logs it. */
void addEvent(const char *src, const char *type, const char *msg);
groupShape shapeOf(const cdParams *g);
/* ElastiCache's member cluster names: <group>-001, -002 (cluster mode
 * disabled); <group>-0001-001 (shard 1, its first node) when enabled. */
void memberId(char *out, size_t len, const char *group, const groupShape *s, int shard, int member);
/* Loads every node of the group into *out (memAlloc'd); their count. */
int loadNodes(const char *gid, const groupShape *s, groupNode **out);
void freeNodes(groupNode *v, int n);
/* Does the node (record) use TLS files: a client-facing mode other than
 * none, or a replica's link over TLS (its certificate is the link's client
 * side, its CA bundle verifies the primary)? */
int nodeUsesTls(const cdParams *n);
/* The index of node i's shard primary. */
int primaryOf(const groupShape *s, int i);
/* DIR/nodes/<node id> */
void nodeDir(char *out, size_t len, const char *nid);
/* The one place a group's status changes: asserts the transition is an
 * edge of the state machine in group.h. */
void setStatus(cdParams *g, const char *to);
#endif
