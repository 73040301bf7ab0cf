/* group.c - replication groups (group.h): the API actions, their XML, the
 * events, and the reconciler driving creation, supervision, the TLS
 * migration and deletion. Owns the "group", "node" and "event" records.
 * Must never talk to a node while handling an API request. */
#include "group.h"

#include <ctype.h>
#include <ftw.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "ca.h"
#include "cachetd.h"
#include "dassert.h"
#include "log.h"
#include "mem.h"
#include "node.h"
#include "store.h"

#define CREATE_TIMEOUT_MS 30000
#define EVENT_KEEP_MS (14LL * 24 * 3600 * 1000) /* ElastiCache keeps 14 days */
#define RESTART_BACKOFF_MAX_MS 30000

/* ---- small helpers ----------------------------------------------------- */

static void replyError(cdReply *out, int status, const char *code, const char *msg, const char *rid) {
    out->status = status;
    out->body = cdXmlError(code, msg, rid);
}

static void replyOk(cdReply *out, const char *action, const char *body, const char *rid) {
    out->status = 200;
    out->body = cdXmlResponse(action, body, rid);
}

static const char *recStr(const cdParams *r, const char *k) {
    const char *v = cdParamsGet(r, k);
    return v ? v : "";
}

/* Records only hold integers cachetd wrote; a damaged one reads as 0. */
static long long recInt(const cdParams *r, const char *k) {
    const char *v = recStr(r, k);
    long long n;
    return string2ll(v, strlen(v), &n) ? n : 0;
}

static void recSetInt(cdParams *r, const char *k, long long v) {
    char b[32];
    snprintf(b, sizeof(b), "%lld", v);
    cdParamsSet(r, k, b);
}

static void addEvent(const char *src, const char *type, const char *msg) {
    static int seq;
    char id[64];
    long long now = mstime();
    snprintf(id, sizeof(id), "%016lld-%06d", now, seq++ % 1000000);
    cdParams e = {0};
    cdParamsSet(&e, "src", src);
    cdParamsSet(&e, "type", type);
    cdParamsSet(&e, "msg", msg);
    recSetInt(&e, "date", now);
    (void)cdStorePut(cd.store, "event", id, &e);
    cdParamsFree(&e);
    logNotice("event %s %s: %s", type, src, msg);
}

/* ElastiCache's identifier rule: 1-40 letters, digits, hyphens; a letter
 * first; no trailing or double hyphen. Lower-cases id in place. */
static int validId(char *id) {
    size_t n = strlen(id);
    if (n < 1 || n > 40 || !isalpha((unsigned char)id[0]) || id[n - 1] == '-') return 0;
    for (size_t i = 0; i < n; i++) {
        if (!isalnum((unsigned char)id[i]) && id[i] != '-') return 0;
        if (id[i] == '-' && id[i + 1] == '-') return 0;
        id[i] = (char)tolower((unsigned char)id[i]);
    }
    return 1;
}

static void nodeId(char *out, size_t len, const char *group, int idx) { snprintf(out, len, "%s-%03d", group, idx); }

static void nodeDir(char *out, size_t len, const char *nid) { snprintf(out, len, "%s/nodes/%s", cd.dataDir, nid); }

/* 1 if from -> to is an edge of the state machine in group.h (from is NULL
 * for a group being created). */
static int validTransition(const char *from, const char *to) {
    if (!from) return !strcmp(to, "creating");
    if (!strcmp(from, "creating")) return !strcmp(to, "available") || !strcmp(to, "create-failed");
    if (!strcmp(from, "available")) return !strcmp(to, "modifying") || !strcmp(to, "deleting");
    if (!strcmp(from, "create-failed")) return !strcmp(to, "deleting");
    if (!strcmp(from, "modifying")) return !strcmp(to, "available");
    return 0;
}

/* The one place a group's status changes: asserts the transition. */
static void setStatus(cdParams *g, const char *to) {
    CACHET_ASSERT(validTransition(cdParamsGet(g, "status"), to));
    cdParamsSet(g, "status", to);
}

/* ---- XML of a group and its clusters ---------------------------------- */

static void endpointXml(textBuf *b, const char *name, int port) {
    textAppend(b, "<%s><Address>127.0.0.1</Address><Port>%d</Port></%s>", name, port, name);
}

static void groupXml(textBuf *b, const char *id, const cdParams *g) {
    int num = (int)recInt(g, "num");
    const char *mode = recStr(g, "mode");
    textAppend(b, "<ReplicationGroupId>%s</ReplicationGroupId>", id);
    cdXmlElem(b, "Description", recStr(g, "desc"));
    cdXmlElem(b, "Status", recStr(g, "status"));
    textAppend(b, "<PendingModifiedValues>");
    if (!strcmp(recStr(g, "status"), "modifying") && *recStr(g, "target")) {
        cdXmlElemBool(b, "TransitEncryptionEnabled", strcmp(recStr(g, "target"), "none") != 0);
        if (strcmp(recStr(g, "target"), "none")) cdXmlElem(b, "TransitEncryptionMode", recStr(g, "target"));
    }
    textAppend(b, "</PendingModifiedValues>");
    textAppend(b, "<MemberClusters>");
    for (int i = 1; i <= num; i++) {
        char nid[64];
        nodeId(nid, sizeof(nid), id, i);
        cdXmlElem(b, "ClusterId", nid);
    }
    textAppend(b, "</MemberClusters>");
    textAppend(b, "<NodeGroups><NodeGroup><NodeGroupId>0001</NodeGroupId>");
    cdXmlElem(b, "Status", recStr(g, "status"));
    int primaryPort = 0, readerPort = 0;
    textBuf members = {0};
    textAppend(&members, "%s", "");
    for (int i = 1; i <= num; i++) {
        char nid[64];
        nodeId(nid, sizeof(nid), id, i);
        cdParams n = {0};
        if (cdStoreGet(cd.store, "node", nid, &n) == 1) {
            int port = (int)recInt(&n, "port");
            if (i == 1) primaryPort = port;
            if (i == 2 || (num == 1 && i == 1)) readerPort = port;
            textAppend(&members, "<NodeGroupMember>");
            cdXmlElem(&members, "CacheClusterId", nid);
            cdXmlElem(&members, "CacheNodeId", "0001");
            endpointXml(&members, "ReadEndpoint", port);
            cdXmlElem(&members, "PreferredAvailabilityZone", "local");
            cdXmlElem(&members, "CurrentRole", i == 1 ? "primary" : "replica");
            textAppend(&members, "</NodeGroupMember>");
        }
        cdParamsFree(&n);
    }
    if (primaryPort) {
        endpointXml(b, "PrimaryEndpoint", primaryPort);
        endpointXml(b, "ReaderEndpoint", readerPort);
    }
    textAppend(b, "<NodeGroupMembers>%s</NodeGroupMembers></NodeGroup></NodeGroups>", members.p);
    memFree(members.p);
    cdXmlElem(b, "AutomaticFailover", recInt(g, "auto_failover") ? "enabled" : "disabled");
    cdXmlElem(b, "MultiAZ", recInt(g, "multi_az") ? "enabled" : "disabled");
    cdXmlElemInt(b, "SnapshotRetentionLimit", 0);
    cdXmlElemBool(b, "ClusterEnabled", 0);
    cdXmlElem(b, "CacheNodeType", recStr(g, "node_type"));
    cdXmlElemBool(b, "AuthTokenEnabled", 0);
    cdXmlElemBool(b, "TransitEncryptionEnabled", strcmp(mode, "none") != 0);
    cdXmlElemBool(b, "AtRestEncryptionEnabled", 0);
    textAppend(b, "<ARN>arn:aws:elasticache:%s:%s:replicationgroup:%s</ARN>", cd.region, cd.account, id);
    cdXmlElemTime(b, "ReplicationGroupCreateTime", recInt(g, "created"));
    cdXmlElem(b, "DataTiering", "disabled");
    cdXmlElemBool(b, "AutoMinorVersionUpgrade", 1);
    cdXmlElem(b, "NetworkType", "ipv4");
    cdXmlElem(b, "IpDiscovery", "ipv4");
    if (strcmp(mode, "none")) cdXmlElem(b, "TransitEncryptionMode", mode);
}

/* ---- CreateReplicationGroup -------------------------------------------- */

/* The request's parameters minus Action/Version, as a retry compares them. */
static char *requestKey(const cdParams *p) {
    cdParams c = {0};
    for (int i = 0; i < p->n; i++)
        if (strcmp(p->k[i], "Action") && strcmp(p->k[i], "Version")) cdParamsSet(&c, p->k[i], p->v[i]);
    char *s = cdFormEncode(&c);
    cdParamsFree(&c);
    return s;
}

static void actCreate(const cdParams *p, const char *rid, cdReply *out) {
    const char *rawId = cdParamsGet(p, "ReplicationGroupId");
    const char *desc = cdParamsGet(p, "ReplicationGroupDescription");
    char msg[512];
    if (!rawId) return replyError(out, 400, "MissingParameter",
                                  "The request must contain the parameter ReplicationGroupId", rid);
    if (!desc) return replyError(out, 400, "MissingParameter",
                                 "The request must contain the parameter ReplicationGroupDescription", rid);
    char id[64];
    snprintf(id, sizeof(id), "%s", rawId);
    if (strlen(rawId) >= sizeof(id) || !validId(id))
        return replyError(out, 400, "InvalidParameterValue",
                          "The parameter ReplicationGroupId must be provided and must not be blank. It must begin "
                          "with a letter, contain only ASCII letters, digits and hyphens, be 1 to 40 characters "
                          "long, and not end with a hyphen or contain two consecutive hyphens.",
                          rid);
    const char *engine = cdParamsGet(p, "Engine");
    if (engine && strcasecmp(engine, "redis"))
        return replyError(out, 400, "InvalidParameterValue", "Engine must be redis.", rid);
    long long num, port, rpng;
    if (cdParamInt(p, "NumCacheClusters", 0, &num) || cdParamInt(p, "Port", 6379, &port) ||
        cdParamInt(p, "ReplicasPerNodeGroup", -1, &rpng))
        return replyError(out, 400, "InvalidParameterValue", "Invalid integer parameter.", rid);
    if (cdParamsGet(p, "NumNodeGroups") || cdParamsGet(p, "NodeGroupConfiguration.NodeGroupConfiguration.1.Slots") ||
        (cdParamsGet(p, "ClusterMode") && strcasecmp(cdParamsGet(p, "ClusterMode"), "disabled")))
        return replyError(out, 400, "InvalidParameterValue",
                          "Cluster mode enabled replication groups are not supported by this cachetd yet.", rid);
    int numGiven = cdParamsGet(p, "NumCacheClusters") != NULL;
    if (numGiven && rpng >= 0)
        return replyError(out, 400, "InvalidParameterCombination",
                          "Cannot specify both NumCacheClusters and ReplicasPerNodeGroup.", rid);
    if (!numGiven) num = rpng >= 0 ? rpng + 1 : 1;
    if (num < 1 || num > 6)
        return replyError(out, 400, "InvalidParameterValue",
                          "NumCacheClusters must be between 1 and 6 (1 primary plus up to 5 replicas).", rid);
    if (port < 1 || port > 65535)
        return replyError(out, 400, "InvalidParameterValue", "Port must be between 1 and 65535.", rid);
    int af = cdParamBool(p, "AutomaticFailoverEnabled", 0), maz = cdParamBool(p, "MultiAZEnabled", 0);
    int te = cdParamBool(p, "TransitEncryptionEnabled", 0);
    if (af < 0 || maz < 0 || te < 0)
        return replyError(out, 400, "InvalidParameterValue", "Boolean parameters must be true or false.", rid);
    if (af && num < 2)
        return replyError(out, 400, "InvalidParameterCombination",
                          "Automatic failover requires at least 2 cache clusters (NumCacheClusters >= 2).", rid);
    if (maz && !af)
        return replyError(out, 400, "InvalidParameterCombination",
                          "Multi-AZ requires automatic failover to be enabled.", rid);
    const char *tm = cdParamsGet(p, "TransitEncryptionMode");
    if (tm && strcmp(tm, "preferred") && strcmp(tm, "required"))
        return replyError(out, 400, "InvalidParameterValue",
                          "TransitEncryptionMode must be one of: preferred, required.", rid);
    if (tm && !te)
        return replyError(out, 400, "InvalidParameterCombination",
                          "TransitEncryptionMode requires TransitEncryptionEnabled to be true.", rid);
    const char *mode = te ? (tm ? tm : "required") : "none";

    char *key = requestKey(p);
    cdParams old = {0};
    int found = cdStoreGet(cd.store, "group", id, &old);
    if (found == 1) {
        /* botocore retries a create on a 5xx or a lost reply: the same request
         * again gets the same group back, never a second one. */
        int same = !strcmp(recStr(&old, "req"), key);
        if (same) {
            textBuf b = {0};
            textAppend(&b, "<ReplicationGroup>");
            groupXml(&b, id, &old);
            textAppend(&b, "</ReplicationGroup>");
            replyOk(out, "CreateReplicationGroup", b.p, rid);
            memFree(b.p);
        } else {
            snprintf(msg, sizeof(msg), "Replication group %s already exists.", id);
            replyError(out, 400, "ReplicationGroupAlreadyExists", msg, rid);
        }
        cdParamsFree(&old);
        memFree(key);
        return;
    }
    cdParams g = {0};
    cdParamsSet(&g, "desc", desc);
    setStatus(&g, "creating");
    cdParamsSet(&g, "engine", "redis");
    cdParamsSet(&g, "engine_version", cdParamsGet(p, "EngineVersion") ? cdParamsGet(p, "EngineVersion") : "7.0");
    cdParamsSet(&g, "node_type", cdParamsGet(p, "CacheNodeType") ? cdParamsGet(p, "CacheNodeType") : "cache.t4g.micro");
    recSetInt(&g, "num", num);
    recSetInt(&g, "port", port);
    cdParamsSet(&g, "mode", mode);
    recSetInt(&g, "auto_failover", af);
    recSetInt(&g, "multi_az", maz);
    recSetInt(&g, "created", mstime());
    cdParamsSet(&g, "req", key);
    for (int i = 0; i < p->n; i++)
        if (!strncmp(p->k[i], "Tags.", 5)) cdParamsSet(&g, p->k[i], p->v[i]);
    int err = cdStoreBegin(cd.store);
    err |= cdStorePut(cd.store, "group", id, &g);
    for (int i = 1; i <= num && !err; i++) {
        char nid[64], pass[33];
        nodeId(nid, sizeof(nid), id, i);
        cdParams n = {0};
        cdParamsSet(&n, "group", id);
        recSetInt(&n, "index", i);
        recSetInt(&n, "port", cdFreePort());
        recSetInt(&n, "pid", 0);
        randomHex(pass, 32);
        pass[32] = 0;
        cdParamsSet(&n, "pass", pass);
        cdParamsSet(&n, "tls", mode);
        recSetInt(&n, "created", mstime());
        err |= cdStorePut(cd.store, "node", nid, &n);
        cdParamsFree(&n);
    }
    snprintf(msg, sizeof(msg), "Replication group %s created", id);
    if (!err) addEvent(id, "replication-group", "Replication group creation started");
    if (err || cdStoreCommit(cd.store)) {
        cdStoreRollback(cd.store);
        replyError(out, 500, "InternalFailure", "The state store failed; nothing was created.", rid);
    } else {
        cdWakeReconciler();
        textBuf b = {0};
        textAppend(&b, "<ReplicationGroup>");
        groupXml(&b, id, &g);
        textAppend(&b, "</ReplicationGroup>");
        replyOk(out, "CreateReplicationGroup", b.p, rid);
        memFree(b.p);
    }
    cdParamsFree(&g);
    memFree(key);
}

/* ---- Describe / Delete / Modify ---------------------------------------- */

static int groupNotFound(cdReply *out, const char *id, const char *rid) {
    char msg[256];
    snprintf(msg, sizeof(msg), "ReplicationGroup %s not found.", id);
    replyError(out, 404, "ReplicationGroupNotFoundFault", msg, rid);
    return -1;
}

static int pageArgs(const cdParams *p, long long *max, cdReply *out, const char *rid) {
    if (cdParamInt(p, "MaxRecords", 100, max) || *max < 20 || *max > 100) {
        replyError(out, 400, "InvalidParameterValue", "MaxRecords must be between 20 and 100.", rid);
        return -1;
    }
    return 0;
}

/* Emits one record of kind as XML; 1 emitted, 0 filtered out. */
typedef int itemXml(textBuf *b, const char *id, void *ctx);

/* The paginated listing every Describe shares: records of kind in id order
 * after marker, at most max emitted inside <wrap>, then <Marker> (the last
 * id emitted) when more remain. Returns how many were emitted. */
static int pagedList(textBuf *b, const char *kind, const char *marker, long long max, const char *wrap,
                     itemXml *fn, void *ctx) {
    char **ids;
    int n = cdStoreList(cd.store, kind, &ids), shown = 0, more = 0;
    char last[256] = "";
    textAppend(b, "<%s>", wrap);
    for (int i = 0; i < n; i++) {
        if (marker && strcmp(ids[i], marker) <= 0) continue;
        textBuf item = {0};
        textAppend(&item, "%s", "");
        if (fn(&item, ids[i], ctx)) {
            if (shown == max) {
                more = 1;
                memFree(item.p);
                break;
            }
            textAppend(b, "%s", item.p);
            snprintf(last, sizeof(last), "%s", ids[i]);
            shown++;
        }
        memFree(item.p);
    }
    textAppend(b, "</%s>", wrap);
    if (more) cdXmlElem(b, "Marker", last);
    cdStoreFreeList(ids, n);
    return shown;
}

static int groupItem(textBuf *b, const char *id, void *ctx) {
    (void)ctx;
    cdParams g = {0};
    int ok = cdStoreGet(cd.store, "group", id, &g) == 1;
    if (ok) {
        textAppend(b, "<ReplicationGroup>");
        groupXml(b, id, &g);
        textAppend(b, "</ReplicationGroup>");
    }
    cdParamsFree(&g);
    return ok;
}

static void actDescribe(const cdParams *p, const char *rid, cdReply *out) {
    long long max;
    if (pageArgs(p, &max, out, rid)) return;
    const char *want = cdParamsGet(p, "ReplicationGroupId");
    const char *marker = cdParamsGet(p, "Marker");
    textBuf b = {0};
    if (want) {
        char id[64];
        snprintf(id, sizeof(id), "%s", want);
        for (char *c = id; *c; c++) *c = (char)tolower((unsigned char)*c);
        textAppend(&b, "<ReplicationGroups>");
        if (strlen(want) >= sizeof(id) || !groupItem(&b, id, NULL)) {
            memFree(b.p);
            groupNotFound(out, want, rid);
            return;
        }
        textAppend(&b, "</ReplicationGroups>");
    } else {
        pagedList(&b, "group", marker, max, "ReplicationGroups", groupItem, NULL);
    }
    replyOk(out, "DescribeReplicationGroups", b.p, rid);
    memFree(b.p);
}

/* Loads the group named by ReplicationGroupId into g, or replies an error. */
static int loadGroup(const cdParams *p, char *id, size_t idlen, cdParams *g, cdReply *out, const char *rid) {
    const char *want = cdParamsGet(p, "ReplicationGroupId");
    if (!want) {
        replyError(out, 400, "MissingParameter", "The request must contain the parameter ReplicationGroupId", rid);
        return -1;
    }
    snprintf(id, idlen, "%s", want);
    for (char *c = id; *c; c++) *c = (char)tolower((unsigned char)*c);
    if (cdStoreGet(cd.store, "group", id, g) != 1) return groupNotFound(out, want, rid);
    return 0;
}

static void putGroupReply(const char *action, const char *id, cdParams *g, const char *rid, cdReply *out) {
    if (cdStorePut(cd.store, "group", id, g) || cdStoreCommit(cd.store)) {
        cdStoreRollback(cd.store);
        return replyError(out, 500, "InternalFailure", "The state store failed; nothing was changed.", rid);
    }
    cdWakeReconciler();
    textBuf b = {0};
    textAppend(&b, "<ReplicationGroup>");
    groupXml(&b, id, g);
    textAppend(&b, "</ReplicationGroup>");
    replyOk(out, action, b.p, rid);
    memFree(b.p);
}

static void actDelete(const cdParams *p, const char *rid, cdReply *out) {
    char id[64], msg[256];
    cdParams g = {0};
    if (loadGroup(p, id, sizeof(id), &g, out, rid)) return;
    const char *st = recStr(&g, "status");
    if (strcmp(st, "available") && strcmp(st, "create-failed")) {
        snprintf(msg, sizeof(msg), "Replication group %s is not in available state.", id);
        replyError(out, 400, "InvalidReplicationGroupState", msg, rid);
        cdParamsFree(&g);
        return;
    }
    setStatus(&g, "deleting");
    cdStoreBegin(cd.store);
    addEvent(id, "replication-group", "Replication group deletion started");
    putGroupReply("DeleteReplicationGroup", id, &g, rid, out);
    cdParamsFree(&g);
}

/* ElastiCache's TLS migration rules: on from none only to preferred; to
 * required only from preferred; off only from preferred. */
static void actModify(const cdParams *p, const char *rid, cdReply *out) {
    char id[64], msg[256];
    cdParams g = {0};
    if (loadGroup(p, id, sizeof(id), &g, out, rid)) return;
    const char *st = recStr(&g, "status");
    int te = cdParamBool(p, "TransitEncryptionEnabled", -2), ai = cdParamBool(p, "ApplyImmediately", 0);
    const char *tm = cdParamsGet(p, "TransitEncryptionMode");
    const char *cur = recStr(&g, "mode");
    const char *target = NULL;
    if (te == -1 || ai < 0) {
        replyError(out, 400, "InvalidParameterValue", "Boolean parameters must be true or false.", rid);
        goto done;
    }
    if (tm && strcmp(tm, "preferred") && strcmp(tm, "required")) {
        replyError(out, 400, "InvalidParameterValue", "TransitEncryptionMode must be one of: preferred, required.",
                   rid);
        goto done;
    }
    if (strcmp(st, "available")) {
        snprintf(msg, sizeof(msg), "Replication group %s is not in available state.", id);
        replyError(out, 400, "InvalidReplicationGroupState", msg, rid);
        goto done;
    }
    if (te == 0 && tm) {
        replyError(out, 400, "InvalidParameterCombination",
                   "TransitEncryptionMode can't be set when TransitEncryptionEnabled is false.", rid);
        goto done;
    }
    if (te == 1 || tm) {
        target = tm ? tm : "preferred";
        if (!strcmp(cur, "none") && strcmp(target, "preferred")) {
            replyError(out, 400, "InvalidParameterCombination",
                       "TransitEncryptionMode must be set to preferred when enabling in-transit encryption on an "
                       "existing replication group; it can be set to required afterwards.",
                       rid);
            goto done;
        }
    } else if (te == 0) {
        target = "none";
        if (!strcmp(cur, "required")) {
            replyError(out, 400, "InvalidParameterCombination",
                       "TransitEncryptionMode must be set to preferred before disabling in-transit encryption.", rid);
            goto done;
        }
    }
    if (target && strcmp(target, cur) && !ai) {
        replyError(out, 400, "InvalidParameterCombination",
                   "Changing in-transit encryption requires ApplyImmediately to be true.", rid);
        goto done;
    }
    cdStoreBegin(cd.store);
    if (cdParamsGet(p, "ReplicationGroupDescription"))
        cdParamsSet(&g, "desc", cdParamsGet(p, "ReplicationGroupDescription"));
    if (target && strcmp(target, cur)) {
        setStatus(&g, "modifying");
        cdParamsSet(&g, "target", target);
        snprintf(msg, sizeof(msg), "In-transit encryption mode change to %s started", target);
        addEvent(id, "replication-group", msg);
    }
    putGroupReply("ModifyReplicationGroup", id, &g, rid, out);
done:
    cdParamsFree(&g);
}

static void clusterXml(textBuf *b, const char *nid, const cdParams *n, const cdParams *g, int showNodes) {
    const char *gst = recStr(g, "status");
    const char *cst = !strcmp(gst, "create-failed") ? "create-failed" : gst;
    const char *mode = recStr(n, "tls");
    textAppend(b, "<CacheCluster>");
    cdXmlElem(b, "CacheClusterId", nid);
    cdXmlElem(b, "CacheNodeType", recStr(g, "node_type"));
    cdXmlElem(b, "Engine", "redis");
    cdXmlElem(b, "EngineVersion", recStr(g, "engine_version"));
    cdXmlElem(b, "CacheClusterStatus", cst);
    cdXmlElemInt(b, "NumCacheNodes", 1);
    cdXmlElem(b, "PreferredAvailabilityZone", "local");
    cdXmlElemTime(b, "CacheClusterCreateTime", recInt(n, "created"));
    if (showNodes) {
        textAppend(b, "<CacheNodes><CacheNode><CacheNodeId>0001</CacheNodeId>");
        cdXmlElem(b, "CacheNodeStatus", cst);
        cdXmlElemTime(b, "CacheNodeCreateTime", recInt(n, "created"));
        endpointXml(b, "Endpoint", (int)recInt(n, "port"));
        textAppend(b, "</CacheNode></CacheNodes>");
    }
    cdXmlElem(b, "ReplicationGroupId", recStr(n, "group"));
    cdXmlElemBool(b, "AuthTokenEnabled", 0);
    cdXmlElemBool(b, "TransitEncryptionEnabled", strcmp(mode, "none") != 0);
    cdXmlElemBool(b, "AtRestEncryptionEnabled", 0);
    textAppend(b, "<ARN>arn:aws:elasticache:%s:%s:cluster:%s</ARN>", cd.region, cd.account, nid);
    if (strcmp(mode, "none")) cdXmlElem(b, "TransitEncryptionMode", mode);
    textAppend(b, "</CacheCluster>");
}

typedef struct clusterFilter {
    const char *want;
    int showNodes;
} clusterFilter;

static int clusterItem(textBuf *b, const char *id, void *ctx) {
    clusterFilter *f = ctx;
    if (f->want && strcasecmp(f->want, id)) return 0;
    cdParams nd = {0}, g = {0};
    int ok = cdStoreGet(cd.store, "node", id, &nd) == 1 && cdStoreGet(cd.store, "group", recStr(&nd, "group"), &g) == 1;
    if (ok) clusterXml(b, id, &nd, &g, f->showNodes);
    cdParamsFree(&nd);
    cdParamsFree(&g);
    return ok;
}

static void actDescribeClusters(const cdParams *p, const char *rid, cdReply *out) {
    long long max;
    if (pageArgs(p, &max, out, rid)) return;
    clusterFilter f = {cdParamsGet(p, "CacheClusterId"), cdParamBool(p, "ShowCacheNodeInfo", 0) == 1};
    textBuf b = {0};
    int shown = pagedList(&b, "node", cdParamsGet(p, "Marker"), max, "CacheClusters", clusterItem, &f);
    if (f.want && !shown) {
        char msg[256];
        snprintf(msg, sizeof(msg), "CacheCluster not found: %s", f.want);
        replyError(out, 404, "CacheClusterNotFound", msg, rid);
    } else {
        replyOk(out, "DescribeCacheClusters", b.p, rid);
    }
    memFree(b.p);
}

typedef struct eventFilter {
    const char *src, *type;
    long long since;
} eventFilter;

static int eventItem(textBuf *b, const char *id, void *ctx) {
    eventFilter *f = ctx;
    cdParams e = {0};
    int ok = cdStoreGet(cd.store, "event", id, &e) == 1 && recInt(&e, "date") >= f->since &&
             (!f->src || !strcmp(f->src, recStr(&e, "src"))) && (!f->type || !strcmp(f->type, recStr(&e, "type")));
    if (ok) {
        textAppend(b, "<Event>");
        cdXmlElem(b, "SourceIdentifier", recStr(&e, "src"));
        cdXmlElem(b, "SourceType", recStr(&e, "type"));
        cdXmlElem(b, "Message", recStr(&e, "msg"));
        cdXmlElemTime(b, "Date", recInt(&e, "date"));
        textAppend(b, "</Event>");
    }
    cdParamsFree(&e);
    return ok;
}

static void actDescribeEvents(const cdParams *p, const char *rid, cdReply *out) {
    long long max, duration;
    if (pageArgs(p, &max, out, rid)) return;
    if (cdParamInt(p, "Duration", 60, &duration) || duration < 0 || duration > 20160)
        return replyError(out, 400, "InvalidParameterValue", "Duration must be between 0 and 20160 minutes.", rid);
    eventFilter f = {cdParamsGet(p, "SourceIdentifier"), cdParamsGet(p, "SourceType"), mstime() - duration * 60000};
    textBuf b = {0};
    pagedList(&b, "event", cdParamsGet(p, "Marker"), max, "Events", eventItem, &f);
    replyOk(out, "DescribeEvents", b.p, rid);
    memFree(b.p);
}

void cdDispatch(const cdParams *p, const char *rid, cdReply *out) {
    const char *action = cdParamsGet(p, "Action");
    const char *version = cdParamsGet(p, "Version");
    char msg[256];
    if (!action) return replyError(out, 400, "MissingAction", "Missing Action", rid);
    if (!version || strcmp(version, "2015-02-02")) {
        snprintf(msg, sizeof(msg), "Could not find operation %s for version %s", action, version ? version : "NO_VERSION_SPECIFIED");
        return replyError(out, 400, "InvalidAction", msg, rid);
    }
    if (!strcmp(action, "CreateReplicationGroup")) return actCreate(p, rid, out);
    if (!strcmp(action, "DescribeReplicationGroups")) return actDescribe(p, rid, out);
    if (!strcmp(action, "DeleteReplicationGroup")) return actDelete(p, rid, out);
    if (!strcmp(action, "ModifyReplicationGroup")) return actModify(p, rid, out);
    if (!strcmp(action, "DescribeCacheClusters")) return actDescribeClusters(p, rid, out);
    if (!strcmp(action, "DescribeEvents")) return actDescribeEvents(p, rid, out);
    snprintf(msg, sizeof(msg), "Could not find operation %s for version 2015-02-02", action);
    replyError(out, 400, "InvalidAction", msg, rid);
}

/* ---- the reconciler ------------------------------------------------------ */

static int rmOne(const char *path, const struct stat *sb, int flag, struct FTW *ftw) {
    (void)sb;
    (void)flag;
    (void)ftw;
    return remove(path);
}

/* Writes the node's config from its record and starts it, unless the
 * process its pid file names is already this node (adopted). */
static int ensureRunning(const char *nid, cdParams *n) {
    char dir[4200], err[512];
    nodeDir(dir, sizeof(dir), nid);
    pid_t pid = (pid_t)recInt(n, "pid");
    if (cdNodeIsOurs(pid, dir)) return 0;
    pid_t filePid = cdNodePidFile(dir);
    if (filePid != pid && cdNodeIsOurs(filePid, dir)) {
        recSetInt(n, "pid", filePid); /* launched just before a crash: adopt it */
        return 1;
    }
    /* A node that keeps dying is started again after 250 ms, then twice as
     * long each time (up to 30 s) while it dies within a minute of its start. */
    long long now = mstime(), last = recInt(n, "started"), restarts = recInt(n, "restarts");
    long long backoff = restarts >= 7 ? RESTART_BACKOFF_MAX_MS : 250LL << restarts;
    if (backoff > RESTART_BACKOFF_MAX_MS) backoff = RESTART_BACKOFF_MAX_MS;
    if (last && now - last < backoff) return 0;
    recSetInt(n, "restarts", last && now - last < 60000 ? restarts + 1 : 0);
    recSetInt(n, "started", now);
    mkdir(cd.dataDir, 0700);
    char nodes[4200];
    snprintf(nodes, sizeof(nodes), "%s/nodes", cd.dataDir);
    mkdir(nodes, 0700);
    mkdir(dir, 0700);
    const char *mode = recStr(n, "tls");
    char cert[4300], key[4300], primary[64];
    snprintf(cert, sizeof(cert), "%s/node.crt", dir);
    snprintf(key, sizeof(key), "%s/node.key", dir);
    if (strcmp(mode, "none") && access(cert, R_OK) && cdCaIssue(cert, key, "127.0.0.1", err, sizeof(err))) {
        logWarning("node %s: %s", nid, err);
        return -1;
    }
    cdNodeConf c = {.dir = dir, .port = (int)recInt(n, "port"), .adminPass = recStr(n, "pass"), .tlsMode = mode,
                    .cert = cert, .key = key, .ca = cd.caFile};
    if (recInt(n, "index") > 1) {
        /* The primary is node 001 of the same group. */
        snprintf(primary, sizeof(primary), "%.*s001", (int)(strlen(nid) - 3), nid);
        cdParams pn = {0};
        if (cdStoreGet(cd.store, "node", primary, &pn) == 1) {
            c.primaryHost = "127.0.0.1";
            c.primaryPort = (int)recInt(&pn, "port");
        }
        cdParamsFree(&pn);
    }
    if (cdNodeWriteConfig(&c, err, sizeof(err))) {
        logWarning("node %s: %s", nid, err);
        return -1;
    }
    pid = cdNodeLaunch(cd.serverBin, dir, err, sizeof(err));
    if (pid < 0) {
        logWarning("node %s: %s", nid, err);
        return -1;
    }
    logNotice("node %s: started pid %d on 127.0.0.1:%lld (tls-mode %s)", nid, (int)pid, recInt(n, "port"), mode);
    recSetInt(n, "pid", pid);
    return 1;
}

/* Node I/O runs with cd.lock released so the API never waits behind a slow
 * node. Safe by the state machine's invariant: the reconciler only talks to
 * nodes of groups in a transitional state, which the API never changes, and
 * no store transaction is open across the call; the caller's copies of the
 * records stay current. */
static int nodeCmd(const char *nid, const cdParams *n, int argc, const char **argv, char *reply, size_t len) {
    int tls = !strcmp(recStr(n, "tls"), "required");
    (void)nid;
    pthread_mutex_unlock(&cd.lock);
    int rc = cdNodeCommand((int)recInt(n, "port"), tls, cd.caFile, recStr(n, "pass"), argc, argv, reply, len);
    pthread_mutex_lock(&cd.lock);
    return rc;
}

static void nodeStop(pid_t pid, const char *dir) {
    pthread_mutex_unlock(&cd.lock);
    cdNodeStop(pid, dir, 5000);
    pthread_mutex_lock(&cd.lock);
}

/* One node one step toward target: certificates first, then the mode. */
static int migrateNode(const char *nid, cdParams *n, const char *target) {
    char dir[4200], cert[4300], key[4300], err[512], reply[512];
    nodeDir(dir, sizeof(dir), nid);
    snprintf(cert, sizeof(cert), "%s/node.crt", dir);
    snprintf(key, sizeof(key), "%s/node.key", dir);
    if (strcmp(target, "none")) {
        if (access(cert, R_OK) && cdCaIssue(cert, key, "127.0.0.1", err, sizeof(err))) {
            logWarning("node %s: %s", nid, err);
            return -1;
        }
        /* Replicas also move their link to the primary to TLS here, before
         * any primary can reach required (replicas go first). */
        const char *files[] = {"CONFIG", "SET", "tls-cert-file", cert, "tls-key-file", key, "tls-ca-cert-file",
                               cd.caFile, "tls-replication", "yes"};
        int argc = recInt(n, "index") > 1 ? 10 : 8;
        if (nodeCmd(nid, n, argc, files, reply, sizeof(reply))) {
            logWarning("node %s: CONFIG SET tls files: %s", nid, reply);
            return -1;
        }
    }
    /* Back to none: a replica's link goes plaintext while its primary
     * (migrated last) still accepts both. */
    const char *set[] = {"CONFIG", "SET", "tls-mode", target, "tls-replication", "no"};
    int argc = !strcmp(target, "none") && recInt(n, "index") > 1 ? 6 : 4;
    if (nodeCmd(nid, n, argc, set, reply, sizeof(reply))) {
        logWarning("node %s: CONFIG SET tls-mode %s: %s", nid, target, reply);
        return -1;
    }
    cdParamsSet(n, "tls", target);
    return 0;
}

static void reconcileGroup(const char *id, cdParams *g) {
    const char *st = recStr(g, "status");
    int num = (int)recInt(g, "num");
    char msg[256];
    if (!strcmp(st, "deleting")) {
        for (int i = num; i >= 1; i--) {
            char nid[64], dir[4200];
            nodeId(nid, sizeof(nid), id, i);
            nodeDir(dir, sizeof(dir), nid);
            cdParams n = {0};
            if (cdStoreGet(cd.store, "node", nid, &n) == 1) nodeStop((pid_t)recInt(&n, "pid"), dir);
            pid_t filePid = cdNodePidFile(dir);
            if (filePid) nodeStop(filePid, dir);
            cdParamsFree(&n);
            nftw(dir, rmOne, 16, FTW_DEPTH | FTW_PHYS);
        }
        cdStoreBegin(cd.store);
        for (int i = 1; i <= num; i++) {
            char nid[64];
            nodeId(nid, sizeof(nid), id, i);
            cdStoreDelete(cd.store, "node", nid);
        }
        cdStoreDelete(cd.store, "group", id);
        addEvent(id, "replication-group", "Replication group deleted");
        if (cdStoreCommit(cd.store)) cdStoreRollback(cd.store);
        return;
    }
    if (!strcmp(st, "create-failed")) return;
    /* creating, available, modifying: every node must run. Replicas after
     * the primary so their replicaof finds it. */
    int up = 0;
    for (int i = 1; i <= num; i++) {
        char nid[64], reply[256];
        nodeId(nid, sizeof(nid), id, i);
        cdParams n = {0};
        if (cdStoreGet(cd.store, "node", nid, &n) != 1) continue;
        int r = ensureRunning(nid, &n);
        if (r != 0) { /* started, adopted, or a failed attempt (its backoff) */
            cdStoreBegin(cd.store);
            cdStorePut(cd.store, "node", nid, &n);
            if (r == 1 && strcmp(st, "creating")) {
                snprintf(msg, sizeof(msg), "Cache node %s restarted", nid);
                addEvent(nid, "cache-cluster", msg);
            }
            if (cdStoreCommit(cd.store)) cdStoreRollback(cd.store);
        }
        if (!strcmp(st, "creating")) {
            const char *ping[] = {"PING"};
            if (r >= 0 && nodeCmd(nid, &n, 1, ping, reply, sizeof(reply)) == 0) up++;
        }
        cdParamsFree(&n);
    }
    if (!strcmp(st, "creating")) {
        const char *next = NULL;
        if (up == num)
            next = "available";
        else if (mstime() - recInt(g, "created") > CREATE_TIMEOUT_MS)
            next = "create-failed";
        if (next) {
            setStatus(g, next);
            cdStoreBegin(cd.store);
            cdStorePut(cd.store, "group", id, g);
            addEvent(id, "replication-group",
                     !strcmp(next, "available") ? "Replication group created" : "Replication group creation failed");
            if (cdStoreCommit(cd.store)) cdStoreRollback(cd.store);
        }
        return;
    }
    if (!strcmp(st, "modifying")) {
        char target[16]; /* a copy: the record's value is freed below */
        snprintf(target, sizeof(target), "%s", recStr(g, "target"));
        int done = 0;
        /* Replicas first, the primary (001) last. */
        for (int i = num; i >= 1; i--) {
            char nid[64];
            nodeId(nid, sizeof(nid), id, i);
            cdParams n = {0};
            if (cdStoreGet(cd.store, "node", nid, &n) == 1) {
                if (!strcmp(recStr(&n, "tls"), target)) {
                    done++;
                } else if (migrateNode(nid, &n, target) == 0) {
                    cdStoreBegin(cd.store);
                    cdStorePut(cd.store, "node", nid, &n);
                    snprintf(msg, sizeof(msg), "Cache node %s now in tls-mode %s", nid, target);
                    addEvent(nid, "cache-cluster", msg);
                    if (cdStoreCommit(cd.store)) cdStoreRollback(cd.store);
                    done++;
                }
            }
            cdParamsFree(&n);
        }
        if (done == num) {
            cdParamsSet(g, "mode", target);
            setStatus(g, "available");
            cdParamsDel(g, "target");
            cdStoreBegin(cd.store);
            cdStorePut(cd.store, "group", id, g);
            snprintf(msg, sizeof(msg), "In-transit encryption mode is now %s", target);
            addEvent(id, "replication-group", msg);
            if (cdStoreCommit(cd.store)) cdStoreRollback(cd.store);
        }
    }
}

/* Drops events older than EVENT_KEEP_MS, at most once a minute. Event ids
 * start with their time, so the oldest come first. */
static void pruneEvents(void) {
    static long long lastRun;
    long long now = mstime();
    if (now - lastRun < 60000) return;
    lastRun = now;
    char **ids;
    int n = cdStoreList(cd.store, "event", &ids);
    char limit[32];
    snprintf(limit, sizeof(limit), "%016lld", now - EVENT_KEEP_MS);
    if (n > 0 && strcmp(ids[0], limit) < 0 && cdStoreBegin(cd.store) == 0) {
        for (int i = 0; i < n && strcmp(ids[i], limit) < 0; i++) cdStoreDelete(cd.store, "event", ids[i]);
        if (cdStoreCommit(cd.store)) cdStoreRollback(cd.store);
    }
    cdStoreFreeList(ids, n);
}

void cdReconcile(void) {
    pthread_mutex_lock(&cd.lock);
    while (waitpid(-1, NULL, WNOHANG) > 0) {
    }
    char **ids;
    int n = cdStoreList(cd.store, "group", &ids);
    for (int i = 0; i < n; i++) {
        cdParams g = {0};
        if (cdStoreGet(cd.store, "group", ids[i], &g) == 1) reconcileGroup(ids[i], &g);
        cdParamsFree(&g);
    }
    cdStoreFreeList(ids, n);
    pruneEvents();
    pthread_mutex_unlock(&cd.lock);
}
