/* api_meta.h - the ElastiCache actions around replication groups rather
 * than on them: cache subnet groups (stored), the fixed parameter groups
 * and engine versions, and tags on replication groups, clusters and subnet
 * groups (stored, record kind "tags", id "<arn type>:<name>"; a change
 * to a replication group's tags is made to its clusters' too, as
 * ElastiCache replicates it to the group's nodes).
 *
 * Must never be used without cd.lock held; never talks to a node. */
#ifndef CACHETD_API_META_H
#define CACHETD_API_META_H
#include "group.h"
#include "query.h"

/* Runs action if it is one of this file's: 1 (out filled), else 0. */
int cdMetaDispatch(const char *action, const cdParams *p, const char *rid, cdReply *out);

/* CreateReplicationGroup's checks, before it writes anything: the named
 * subnet group exists ("default" always does), the request's
 * Tags.Tag.N.Key/Value are valid and at most 50. 0 ok, else -1 and the
 * error in out. */
int cdMetaCheckCreate(const cdParams *p, cdReply *out, const char *rid);
/* Inside the caller's transaction: the request's Tags as resource's tags
 * (resource "replicationgroup:<id>", "cluster:<id>"). 0 ok, -1 store error. */
int cdTagsPutFromRequest(const char *resource, const cdParams *p);
/* Inside the caller's transaction: resource's tags removed. */
int cdTagsDrop(const char *resource);
#endif
