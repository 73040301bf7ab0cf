/* group.c - replication groups (group.h): the API actions and their XML,
 * the records' helpers shared with the reconciler (group_int.h), the group
 * state machine's one setter, the events. Owns the "group", "node" and
 * "event" records' layout. Must never talk to a node (the reconciler,
 * reconcile.c, does). */
#include "group.h"

#include <ctype.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "api_ca.h"
#include "api_meta.h"
#include "cachetd.h"
#include "dassert.h"
#include "group_int.h"
#include "log.h"
#include "mem.h"
#include "node.h"
#include "store.h"


/* ---- small helpers ----------------------------------------------------- */

void replyError(cdReply *out, int status, const char *code, const char *msg, const char *rid) {
    out->status = status;
    out->body = cdXmlError(code, msg, rid);
}

void replyOk(cdReply *out, const char *action, const char *body, const char *rid) {
    out->status = 200;
    out->body = cdXmlResponse(action, body, rid);
}

const char *recStr(const cdParams *r, const char *k) {
    const char *v = cdParamsGet(r, k);
    return v ? v : "";
}

/* Records only hold integers cachetd wrote; a damaged one reads as 0. */
long long recInt(const cdParams *r, const char *k) {
    const char *v = recStr(r, k);
    long long n;
    return string2ll(v, strlen(v), &n) ? n : 0;
}

int nodeUsesTls(const cdParams *n) { return strcmp(recStr(n, "tls"), "none") || !strcmp(recStr(n, "link"), "tls"); }

void recSetInt(cdParams *r, const char *k, long long v) {
    char b[32];
    snprintf(b, sizeof(b), "%lld", v);
    cdParamsSet(r, k, b);
}

void addEvent(const char *src, const char *type, const char *msg) {
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

groupShape shapeOf(const cdParams *g) {
    groupShape s = {(int)recInt(g, "shards"), (int)recInt(g, "replicas"), (int)recInt(g, "cluster")};
    if (s.shards < 1) {
        s.shards = 1;
        s.replicas = (int)recInt(g, "num") - 1;
    }
    if (s.replicas < 0) s.replicas = 0;
    return s;
}

/* ElastiCache's member cluster names: <group>-001, -002 (cluster mode
 * disabled); <group>-0001-001 (shard 1, its first node) when enabled. */
void memberId(char *out, size_t len, const char *group, const groupShape *s, int shard, int member) {
    if (s->cluster)
        snprintf(out, len, "%s-%04d-%03d", group, shard, member);
    else
        snprintf(out, len, "%s-%03d", group, member);
}

int loadNodes(const char *gid, const groupShape *s, groupNode **out) {
    int per = s->replicas + 1, n = s->shards * per;
    groupNode *v = memCalloc((size_t)n * sizeof(*v));
    for (int i = 0; i < n; i++) {
        v[i].shard = i / per + 1;
        v[i].member = i % per + 1;
        memberId(v[i].id, sizeof(v[i].id), gid, s, v[i].shard, v[i].member);
        v[i].have = cdStoreGet(cd.store, "node", v[i].id, &v[i].rec) == 1;
    }
    *out = v;
    return n;
}

void freeNodes(groupNode *v, int n) {
    for (int i = 0; i < n; i++) cdParamsFree(&v[i].rec);
    memFree(v);
}

/* The index of node i's shard primary. */
int primaryOf(const groupShape *s, int i) { return i - i % (s->replicas + 1); }

void nodeDir(char *out, size_t len, const char *nid) { snprintf(out, len, "%s/nodes/%s", cd.dataDir, nid); }

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
void setStatus(cdParams *g, const char *to) {
    CACHET_ASSERT(validTransition(cdParamsGet(g, "status"), to));
    cdParamsSet(g, "status", to);
}

/* ---- XML of a group and its clusters ---------------------------------- */

static void endpointXml(textBuf *b, const char *name, int port) {
    textAppend(b, "<%s><Address>127.0.0.1</Address><Port>%d</Port></%s>", name, port, name);
}

static void groupXml(textBuf *b, const char *id, const cdParams *g) {
    groupShape s = shapeOf(g);
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
    groupNode *nodes;
    int num = loadNodes(id, &s, &nodes), per = s.replicas + 1;
    textAppend(b, "<MemberClusters>");
    for (int i = 0; i < num; i++) cdXmlElem(b, "ClusterId", nodes[i].id);
    textAppend(b, "</MemberClusters>");
    textAppend(b, "<NodeGroups>");
    for (int sh = 0; sh < s.shards; sh++) {
        groupNode *p = &nodes[sh * per];
        textAppend(b, "<NodeGroup><NodeGroupId>%04d</NodeGroupId>", sh + 1);
        cdXmlElem(b, "Status", recStr(g, "status"));
        if (s.cluster) {
            char key[32];
            snprintf(key, sizeof(key), "slots.%d", sh + 1);
            cdXmlElem(b, "Slots", recStr(g, key));
        } else if (p->have) {
            /* One reader endpoint for the shard: its first replica (the
             * primary when it has none); ElastiCache's is a DNS name over them. */
            endpointXml(b, "PrimaryEndpoint", (int)recInt(&p->rec, "port"));
            groupNode *r = s.replicas && p[1].have ? &p[1] : p;
            endpointXml(b, "ReaderEndpoint", (int)recInt(&r->rec, "port"));
        }
        textAppend(b, "<NodeGroupMembers>");
        for (int m = 0; m < per; m++) {
            groupNode *n = &p[m];
            if (!n->have) continue;
            textAppend(b, "<NodeGroupMember>");
            cdXmlElem(b, "CacheClusterId", n->id);
            cdXmlElem(b, "CacheNodeId", "0001");
            /* ElastiCache gives cluster-mode members no ReadEndpoint or role:
             * clients find them through the configuration endpoint. */
            if (!s.cluster) endpointXml(b, "ReadEndpoint", (int)recInt(&n->rec, "port"));
            cdXmlElem(b, "PreferredAvailabilityZone", "local");
            if (!s.cluster) cdXmlElem(b, "CurrentRole", m == 0 ? "primary" : "replica");
            textAppend(b, "</NodeGroupMember>");
        }
        textAppend(b, "</NodeGroupMembers></NodeGroup>");
    }
    textAppend(b, "</NodeGroups>");
    /* One port serves plaintext and TLS (tls-mode preferred), so neither
     * this nor any other endpoint changes during a TLS migration. */
    if (s.cluster && num && nodes[0].have) endpointXml(b, "ConfigurationEndpoint", (int)recInt(&nodes[0].rec, "port"));
    freeNodes(nodes, num);
    cdXmlElem(b, "AutomaticFailover", recInt(g, "auto_failover") ? "enabled" : "disabled");
    cdXmlElem(b, "MultiAZ", recInt(g, "multi_az") ? "enabled" : "disabled");
    cdXmlElemInt(b, "SnapshotRetentionLimit", 0);
    cdXmlElemBool(b, "ClusterEnabled", s.cluster);
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

#define MAX_SHARDS 90
#define MAX_NODES 90 /* ElastiCache's default quota of nodes per cluster */
#define NGC "NodeGroupConfiguration.NodeGroupConfiguration."

static void freeSlots(char **slots) {
    for (int i = 0; i < MAX_SHARDS; i++) {
        memFree(slots[i]);
        slots[i] = NULL;
    }
}

static char *dupStr(const char *s) {
    size_t n = strlen(s) + 1;
    char *d = memAlloc(n);
    memcpy(d, s, n);
    return d;
}

/* A Slots value ("0-8191", or ranges and slots joined by commas): 0 when
 * every slot it names is in 0-16383 and not yet in used, which it marks. */
static int markSlots(const char *v, unsigned char *used) {
    const char *c = v;
    if (!*c) return -1;
    while (*c) {
        char *e;
        if (!isdigit((unsigned char)*c)) return -1;
        long a = strtol(c, &e, 10), z = a;
        if (*e == '-') {
            if (!isdigit((unsigned char)e[1])) return -1;
            z = strtol(e + 1, &e, 10);
        }
        if (a < 0 || z > 16383 || a > z || (*e && *e != ',') || (*e == ',' && !e[1])) return -1;
        for (long x = a; x <= z; x++) {
            if (used[x]) return -1;
            used[x] = 1;
        }
        c = *e ? e + 1 : e;
    }
    return 0;
}

/* The shape a CreateReplicationGroup asks for, with ElastiCache's rules:
 * cluster mode is enabled by ClusterMode=enabled|compatible, a *.cluster.on
 * parameter group, NumNodeGroups or NodeGroupConfiguration; disabled groups
 * take NumCacheClusters (1-6) or ReplicasPerNodeGroup (0-5). slots[i] gets
 * shard i+1's slot ranges (an even split unless NodeGroupConfiguration gives
 * them). 0, or -1 with the error replied. */
static int parseShape(const cdParams *p, groupShape *s, char **slots, cdReply *out, const char *rid) {
    long long num, rpng, nng;
    if (cdParamInt(p, "NumCacheClusters", 0, &num) || cdParamInt(p, "ReplicasPerNodeGroup", -1, &rpng) ||
        cdParamInt(p, "NumNodeGroups", 0, &nng)) {
        replyError(out, 400, "InvalidParameterValue", "Invalid integer parameter.", rid);
        return -1;
    }
    const char *cm = cdParamsGet(p, "ClusterMode"), *pg = cdParamsGet(p, "CacheParameterGroupName");
    size_t pgl = pg ? strlen(pg) : 0;
    int pgOn = pgl > 11 && !strcmp(pg + pgl - 11, ".cluster.on");
    int ngc = 0; /* NodeGroupConfiguration members given */
    for (int i = 0; i < p->n; i++)
        if (!strncmp(p->k[i], NGC, strlen(NGC))) {
            /* Clamped: a member number past the limit is refused below
             * without walking up to it. */
            long k = strtol(p->k[i] + strlen(NGC), NULL, 10);
            if (k > MAX_SHARDS) k = MAX_SHARDS + 1;
            if (k > ngc) ngc = (int)k;
        }
    int numGiven = cdParamsGet(p, "NumCacheClusters") != NULL, nngGiven = cdParamsGet(p, "NumNodeGroups") != NULL;
    const char *msg = NULL, *code = "InvalidParameterCombination";
    if (cm && strcasecmp(cm, "enabled") && strcasecmp(cm, "disabled") && strcasecmp(cm, "compatible")) {
        msg = "ClusterMode must be one of: enabled, disabled, compatible.";
        code = "InvalidParameterValue";
    } else if (cm && !strcasecmp(cm, "disabled") && (pgOn || nng > 1 || ngc > 1)) {
        msg = "Cluster mode is disabled: NumNodeGroups, NodeGroupConfiguration and a cluster.on parameter group "
              "can't be used.";
    }
    s->cluster = (cm && strcasecmp(cm, "disabled")) || pgOn || ((nngGiven || ngc) && !(cm && !strcasecmp(cm, "disabled")));
    if (!msg && numGiven && (s->cluster || nngGiven))
        msg = "NumCacheClusters can't be used with NumNodeGroups or cluster mode enabled; use NumNodeGroups and "
              "ReplicasPerNodeGroup.";
    if (!msg && numGiven && rpng >= 0) msg = "Cannot specify both NumCacheClusters and ReplicasPerNodeGroup.";
    if (!msg && nngGiven && ngc && nng != ngc)
        msg = "NumNodeGroups must equal the number of NodeGroupConfiguration members.";
    if (msg) {
        replyError(out, 400, code, msg, rid);
        return -1;
    }
    code = "InvalidParameterValue";
    if (!s->cluster) {
        if (!numGiven) num = rpng >= 0 ? rpng + 1 : 1;
        s->shards = 1;
        s->replicas = (int)num - 1;
        if (num < 1 || num > 6) msg = "NumCacheClusters must be between 1 and 6 (1 primary plus up to 5 replicas).";
    } else {
        long long shards = ngc ? ngc : nngGiven ? nng : 1;
        s->shards = shards > MAX_SHARDS ? MAX_SHARDS + 1 : (int)shards; /* refused below, never truncated */
        /* ReplicaCount of NodeGroupConfiguration: the same for every shard
         * here (cachetd builds uniform shards). */
        long long rc = -1;
        for (int i = 1; i <= ngc && !msg; i++) {
            char k[128];
            long long v;
            snprintf(k, sizeof(k), NGC "%d.ReplicaCount", i);
            if (cdParamInt(p, k, -1, &v)) msg = "Invalid integer parameter.";
            else if (v >= 0 && rc >= 0 && v != rc) msg = "Every node group must have the same ReplicaCount.";
            else if (v >= 0) rc = v;
        }
        if (!msg && rc >= 0 && rpng >= 0 && rc != rpng) msg = "ReplicaCount and ReplicasPerNodeGroup differ.";
        long long replicas = rc >= 0 ? rc : rpng >= 0 ? rpng : 0;
        s->replicas = replicas > 5 ? 6 : (int)replicas; /* refused below, never truncated */
        if (!msg && (s->shards < 1 || s->shards > MAX_SHARDS)) msg = "NumNodeGroups must be between 1 and 90.";
        if (!msg && (s->replicas < 0 || s->replicas > 5)) msg = "ReplicasPerNodeGroup must be between 0 and 5.";
    }
    if (!msg && s->shards * (s->replicas + 1) > MAX_NODES) {
        replyError(out, 400, "NodeQuotaForClusterExceeded",
                   "The request would exceed the maximum of 90 nodes in a replication group.", rid);
        return -1;
    }
    if (!msg && s->cluster) {
        unsigned char *used = memCalloc(16384);
        int given = 0;
        for (int i = 0; i < s->shards && !msg; i++) {
            char k[128];
            snprintf(k, sizeof(k), NGC "%d.Slots", i + 1);
            const char *v = cdParamsGet(p, k);
            given += v != NULL;
            if (v && markSlots(v, used)) msg = "Slots must be slot ranges (first-last, comma-separated) within "
                                               "0-16383 that no other node group has.";
            else if (v) slots[i] = dupStr(v);
        }
        for (int x = 0; x < 16384 && !msg && given; x++)
            if (!used[x]) msg = "The node groups' Slots must cover every slot 0-16383.";
        if (!msg && given && given != s->shards) msg = "Slots must be given for every node group or none.";
        for (int i = 0; i < s->shards && !msg && !given; i++) {
            /* Even split as ElastiCache makes it: 0-8191,8192-16383 for two. */
            char v[32];
            int first = (int)(((long)i * 16384 + s->shards - 1) / s->shards);
            int last = (int)(((long)(i + 1) * 16384 + s->shards - 1) / s->shards) - 1;
            snprintf(v, sizeof(v), "%d-%d", first, last);
            slots[i] = dupStr(v);
        }
        memFree(used);
    }
    if (msg) {
        freeSlots(slots);
        replyError(out, 400, code, msg, rid);
        return -1;
    }
    return 0;
}

/* The remaining options' checks: NULL when they are valid, else a message
 * prefixed with 'V' (InvalidParameterValue) or 'C' (...Combination). */
static const char *createOptions(const cdParams *p, const groupShape *s, int num) {
    int af = cdParamBool(p, "AutomaticFailoverEnabled", -2), maz = cdParamBool(p, "MultiAZEnabled", 0);
    int te = cdParamBool(p, "TransitEncryptionEnabled", 0);
    const char *tm = cdParamsGet(p, "TransitEncryptionMode");
    if (af == -1 || maz < 0 || te < 0) return "VBoolean parameters must be true or false.";
    if (s->cluster && af == 0)
        return "CRedis with cluster mode enabled cannot be created with automatic failover disabled.";
    if (!s->cluster && af == 1 && num < 2)
        return "CAutomatic failover requires at least 2 cache clusters (NumCacheClusters >= 2).";
    if (maz && !s->cluster && af != 1) return "CMulti-AZ requires automatic failover to be enabled.";
    if (tm && strcmp(tm, "preferred") && strcmp(tm, "required"))
        return "VTransitEncryptionMode must be one of: preferred, required.";
    if (tm && !te) return "CTransitEncryptionMode requires TransitEncryptionEnabled to be true.";
    return NULL;
}


/* A map of the 65536 ports: 1 where a node record (of any group) holds the
 * port. A node that is down for a moment (restarting, or stopped with
 * cachetd) keeps its port, so no new node may take it meanwhile. */
static unsigned char *portsTaken(void) {
    unsigned char *t = memCalloc(65536);
    char **ids;
    int n = cdStoreList(cd.store, "node", &ids);
    for (int i = 0; i < n; i++) {
        cdParams r = {0};
        if (cdStoreGet(cd.store, "node", ids[i], &r) == 1) {
            long long q = recInt(&r, "port");
            if (q > 0 && q < 65536) t[q] = 1;
        }
        cdParamsFree(&r);
    }
    cdStoreFreeList(ids, n);
    return t;
}

/* Port given: the group's nodes take port .. port+num-1, each of which must
 * be free now and held by no other node. 0, or -1 with the message. */
static int portsRefused(long long port, int num, const unsigned char *taken, char *msg, size_t len) {
    for (int i = 0; i < num; i++) {
        int q = (int)port + i;
        if (taken[q] || !cdPortFree(q)) {
            snprintf(msg, len,
                     "Port %lld is not available: the replication group's %d node(s) take ports %lld-%lld, and "
                     "127.0.0.1:%d is %s.",
                     port, num, port, port + num - 1, q, taken[q] ? "another cache node's" : "in use");
            return -1;
        }
    }
    return 0;
}

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
    long long port;
    if (cdParamInt(p, "Port", 6379, &port))
        return replyError(out, 400, "InvalidParameterValue", "Invalid integer parameter.", rid);
    groupShape shape;
    char *slots[MAX_SHARDS] = {0};
    if (parseShape(p, &shape, slots, out, rid)) return;
    int num = shape.shards * (shape.replicas + 1);
    /* Port given: node i of the group (member order, primary first) takes
     * Port + i, so all of them must fit below 65536. */
    int portGiven = cdParamsGet(p, "Port") != NULL;
    if (port < 1 || port > 65535 || (portGiven && port + num - 1 > 65535)) {
        freeSlots(slots);
        return replyError(out, 400, "InvalidParameterValue",
                          portGiven && port >= 1 && port <= 65535
                              ? "Port must be between 1 and 65535, and each node takes the next one: Port plus the "
                                "number of nodes minus 1 must not exceed 65535."
                              : "Port must be between 1 and 65535.",
                          rid);
    }
    const char *bad = createOptions(p, &shape, num);
    if (bad) {
        freeSlots(slots);
        return replyError(out, 400, bad[0] == 'V' ? "InvalidParameterValue" : "InvalidParameterCombination", bad + 1,
                          rid);
    }
    if (cdMetaCheckCreate(p, out, rid)) { /* subnet group exists, Tags valid */
        freeSlots(slots);
        return;
    }
    /* Cluster mode enabled: automatic failover is always on (ElastiCache). */
    int af = shape.cluster ? 1 : cdParamBool(p, "AutomaticFailoverEnabled", 0);
    int maz = cdParamBool(p, "MultiAZEnabled", 0), te = cdParamBool(p, "TransitEncryptionEnabled", 0);
    const char *tm = cdParamsGet(p, "TransitEncryptionMode");
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
        freeSlots(slots);
        return;
    }
    unsigned char *taken = portsTaken();
    if (portGiven && portsRefused(port, num, taken, msg, sizeof(msg))) {
        memFree(taken);
        memFree(key);
        freeSlots(slots);
        return replyError(out, 400, "InvalidParameterValue", msg, rid);
    }
    cdParams g = {0};
    cdParamsSet(&g, "desc", desc);
    setStatus(&g, "creating");
    cdParamsSet(&g, "engine", "redis");
    cdParamsSet(&g, "engine_version", cdParamsGet(p, "EngineVersion") ? cdParamsGet(p, "EngineVersion") : "7.0");
    cdParamsSet(&g, "node_type", cdParamsGet(p, "CacheNodeType") ? cdParamsGet(p, "CacheNodeType") : "cache.t4g.micro");
    recSetInt(&g, "num", num);
    recSetInt(&g, "shards", shape.shards);
    recSetInt(&g, "replicas", shape.replicas);
    recSetInt(&g, "cluster", shape.cluster);
    if (shape.cluster) recSetInt(&g, "epoch", 1); /* the first map pushed */
    for (int i = 0; i < shape.shards && shape.cluster; i++) {
        char k[32];
        snprintf(k, sizeof(k), "slots.%d", i + 1);
        cdParamsSet(&g, k, slots[i]);
    }
    freeSlots(slots);
    recSetInt(&g, "port", port);
    cdParamsSet(&g, "mode", mode);
    recSetInt(&g, "auto_failover", af);
    recSetInt(&g, "multi_az", maz);
    recSetInt(&g, "created", mstime());
    cdParamsSet(&g, "req", key);
    for (int i = 0; i < p->n; i++)
        if (!strncmp(p->k[i], "Tags.", 5)) cdParamsSet(&g, p->k[i], p->v[i]);
    if (cdParamsGet(p, "CacheSubnetGroupName")) {
        char sg[256];
        snprintf(sg, sizeof(sg), "%s", cdParamsGet(p, "CacheSubnetGroupName"));
        for (char *c = sg; *c; c++) *c = (char)tolower((unsigned char)*c);
        cdParamsSet(&g, "subnet_group", sg);
    }
    int err = cdStoreBegin(cd.store);
    err |= cdStorePut(cd.store, "group", id, &g);
    char res[96];
    snprintf(res, sizeof(res), "replicationgroup:%s", id);
    err |= cdTagsPutFromRequest(res, p);
    int ports[MAX_NODES];
    for (int i = 0; i < num && !err; i++) {
        int shard = i / (shape.replicas + 1) + 1, member = i % (shape.replicas + 1) + 1;
        char nid[64], pass[33], cid[41];
        memberId(nid, sizeof(nid), id, &shape, shard, member);
        cdParams n = {0};
        cdParamsSet(&n, "group", id);
        recSetInt(&n, "shard", shard);
        recSetInt(&n, "index", member);
        /* Port given: consecutive ports, checked above. Else free ports
         * (bound then released) that no node record holds, distinct within
         * the group. */
        for (int again = 1; again;) {
            ports[i] = portGiven ? (int)port + i : cdFreePort();
            again = !portGiven && (ports[i] <= 0 || taken[ports[i]]);
            for (int j = 0; j < i && !again; j++) again = ports[j] == ports[i];
        }
        recSetInt(&n, "port", ports[i]);
        recSetInt(&n, "pid", 0);
        randomHex(pass, 32);
        pass[32] = 0;
        cdParamsSet(&n, "pass", pass);
        cdParamsSet(&n, "tls", mode);
        /* A replica's link is TLS whenever its group's mode is on. */
        if (member > 1) cdParamsSet(&n, "link", strcmp(mode, "none") ? "tls" : "plain");
        if (shape.cluster) {
            randomHex(cid, 40);
            cid[40] = 0;
            cdParamsSet(&n, "cid", cid);
            recSetInt(&n, "epoch", 0);
        }
        recSetInt(&n, "created", mstime());
        err |= cdStorePut(cd.store, "node", nid, &n);
        snprintf(res, sizeof(res), "cluster:%s", nid); /* a group's tags are its clusters' too */
        err |= cdTagsPutFromRequest(res, p);
        cdParamsFree(&n);
    }
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
    memFree(taken);
    memFree(key);
}

/* ---- Describe / Delete / Modify ---------------------------------------- */

static int groupNotFound(cdReply *out, const char *id, const char *rid) {
    char msg[256];
    snprintf(msg, sizeof(msg), "ReplicationGroup %s not found.", id);
    replyError(out, 404, "ReplicationGroupNotFoundFault", msg, rid);
    return -1;
}

int pageArgs(const cdParams *p, long long *max, cdReply *out, const char *rid) {
    if (cdParamInt(p, "MaxRecords", 100, max) || *max < 20 || *max > 100) {
        replyError(out, 400, "InvalidParameterValue", "MaxRecords must be between 20 and 100.", rid);
        return -1;
    }
    return 0;
}

int pagedList(textBuf *b, const char *kind, const char *marker, long long max, const char *wrap,
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
            textAppendBytes(b, item.p, item.len);
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
    /* The tags go with the group (and its clusters') deletion. */
    char res[96];
    snprintf(res, sizeof(res), "replicationgroup:%s", id);
    (void)cdTagsDrop(res);
    groupShape s = shapeOf(&g);
    groupNode *nodes;
    int num = loadNodes(id, &s, &nodes);
    for (int i = 0; i < num; i++) {
        snprintf(res, sizeof(res), "cluster:%s", nodes[i].id);
        (void)cdTagsDrop(res);
    }
    freeNodes(nodes, num);
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
    long long since, until; /* ms, both inclusive */
} eventFilter;

static int eventItem(textBuf *b, const char *id, void *ctx) {
    eventFilter *f = ctx;
    cdParams e = {0};
    int ok = cdStoreGet(cd.store, "event", id, &e) == 1 && recInt(&e, "date") >= f->since && recInt(&e, "date") <= f->until &&
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
    /* As ElastiCache: StartTime and/or EndTime replace the Duration window;
     * EndTime alone gives the Duration (default 60 minutes) before it. */
    eventFilter f = {cdParamsGet(p, "SourceIdentifier"), cdParamsGet(p, "SourceType"), mstime() - duration * 60000,
                     LLONG_MAX};
    const char *st = cdParamsGet(p, "StartTime"), *et = cdParamsGet(p, "EndTime");
    if ((st && cdParseTime(st, &f.since)) || (et && cdParseTime(et, &f.until)))
        return replyError(out, 400, "InvalidParameterValue",
                          "StartTime and EndTime must be ISO 8601 times, such as 2017-03-30T07:03:49.555Z.", rid);
    if (et && !st) f.since = f.until - duration * 60000;
    if (f.since > f.until)
        return replyError(out, 400, "InvalidParameterCombination", "StartTime must be before EndTime.", rid);
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
    if (cdMetaDispatch(action, p, rid, out) || cdCaDispatch(action, p, rid, out)) return;
    snprintf(msg, sizeof(msg), "Could not find operation %s for version 2015-02-02", action);
    replyError(out, 400, "InvalidAction", msg, rid);
}
