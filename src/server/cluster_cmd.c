/* cluster_cmd.c - the CLUSTER command family, READONLY/READWRITE and INFO's
 * cluster section: the map of cluster.c shown in Redis 7.0's formats
 * (CLUSTER NODES lines, CLUSTER SLOTS and SHARDS entries, CLUSTER INFO
 * fields), and CLUSTER SETTOPOLOGY, the one way a control plane changes it.
 *
 * Owns: nothing but reply building.
 * Must never change the map itself: cluster.c validates and swaps it. */
#include "server.h"
#include "cluster.h"
#include "client.h"
#include "reply.h"
#include "cmd.h"
#include "args.h"
#include "db.h"
#include "repl.h"
#include <stdio.h>
#include <string.h>

#define CLUSTER_DISABLED_ERR "This instance has cluster support disabled"

static int clusterEnabledOrReply(client *c) {
    if (srv.clusterEnabled) return 1;
    replyError(c, CLUSTER_DISABLED_ERR);
    return 0;
}

static int findNode(const clusterMap *m, slice id) {
    for (int i = 0; i < m->nnodes; i++)
        if (id.len == CLUSTER_NAMELEN && !memcmp(m->nodes[i].id, id.p, CLUSTER_NAMELEN)) return i;
    return -1;
}

/* ---- CLUSTER NODES ----------------------------------------------------------- */

/* One line as Redis 7.0's clusterGenNodeDescription: id ip:port@cport[,hostname]
 * flags primary ping-sent pong-recv config-epoch link-state slot... There is
 * no cluster bus: cport is port+10000 (Redis' default) when that is a port. */
static void nodeLine(textBuf *b, const clusterMap *m, int i) {
    const clusterNode *n = &m->nodes[i];
    int cport = n->port + 10000 <= 65535 ? n->port + 10000 : 0;
    textAppend(b, "%s %s:%d@%d", n->id, n->ip, n->port, cport);
    if (n->hostname[0]) textAppend(b, ",%s", n->hostname);
    textAppend(b, " %s%s %s 0 %lld %llu connected", i == m->myself ? "myself," : "",
               n->isPrimary ? "master" : "slave", n->isPrimary ? "-" : m->nodes[n->primary].id,
               i == m->myself ? 0LL : srv.mstime / 1000 * 1000, m->epoch);
    for (int s = 0; s < CLUSTER_SLOTS && n->isPrimary; s++) {
        if (m->owner[s] != i) continue;
        int e = s;
        while (e + 1 < CLUSTER_SLOTS && m->owner[e + 1] == i) e++;
        if (e == s) textAppend(b, " %d", s);
        else textAppend(b, " %d-%d", s, e);
        s = e;
    }
    for (int s = 0; s < CLUSTER_SLOTS && i == m->myself; s++) {
        int to = clusterSlotMigratingTo(s), from = clusterSlotImportingFrom(s);
        if (to >= 0) textAppend(b, " [%d->-%s]", s, m->nodes[to].id);
        else if (from >= 0) textAppend(b, " [%d-<-%s]", s, m->nodes[from].id);
    }
    textAppend(b, "\n");
}

static void clusterNodesCommand(client *c) {
    const clusterMap *m = clusterGetMap();
    textBuf b = {0};
    for (int i = 0; i < m->nnodes; i++) nodeLine(&b, m, i);
    replyVerbatim(c, b.p ? b.p : "", b.len, "txt");
    memFree(b.p);
}

static void clusterReplicasCommand(client *c) {
    const clusterMap *m = clusterGetMap();
    int p = findNode(m, c->argv[2]);
    if (p < 0) {
        replyErrorFormat(c, "Unknown node %.*s", (int)(c->argv[2].len > 128 ? 128 : c->argv[2].len), c->argv[2].p);
        return;
    }
    if (!m->nodes[p].isPrimary) {
        replyError(c, "The specified node is not a master");
        return;
    }
    long count = 0;
    for (int i = 0; i < m->nnodes; i++)
        if (m->nodes[i].primary == p) count++;
    replyArrayLen(c, count);
    for (int i = 0; i < m->nnodes; i++) {
        if (m->nodes[i].primary != p) continue;
        textBuf b = {0};
        nodeLine(&b, m, i);
        replyBulk(c, b.p, b.len);
        memFree(b.p);
    }
}

/* ---- CLUSTER SLOTS ------------------------------------------------------------- */

/* [endpoint, port, id, {other endpoints}] as Redis 7.0's addNodeToNodeReply. */
static void replyNodeEntry(client *c, const clusterNode *n) {
    replyArrayLen(c, 4);
    if (srv.clusterPreferredEndpointType == CLUSTER_ENDPOINT_UNKNOWN) replyNull(c);
    else replyBulkCString(c, clusterNodeEndpoint(n));
    replyLongLong(c, n->port);
    replyBulk(c, n->id, CLUSTER_NAMELEN);
    int ip = srv.clusterPreferredEndpointType != CLUSTER_ENDPOINT_IP;
    int host = srv.clusterPreferredEndpointType != CLUSTER_ENDPOINT_HOSTNAME && n->hostname[0];
    replyMapLen(c, ip + host);
    if (ip) {
        replyBulkCString(c, "ip");
        replyBulkCString(c, n->ip);
    }
    if (host) {
        replyBulkCString(c, "hostname");
        replyBulkCString(c, n->hostname);
    }
}

static void clusterSlotsCommand(client *c) {
    const clusterMap *m = clusterGetMap();
    void *len = replyDeferredLen(c);
    long ranges = 0;
    for (int s = 0; s < CLUSTER_SLOTS; s++) {
        int o = m->owner[s];
        if (o < 0) continue;
        int e = s;
        while (e + 1 < CLUSTER_SLOTS && m->owner[e + 1] == o) e++;
        int nrep = 0;
        for (int i = 0; i < m->nnodes; i++)
            if (m->nodes[i].primary == o) nrep++;
        replyArrayLen(c, 3 + nrep);
        replyLongLong(c, s);
        replyLongLong(c, e);
        replyNodeEntry(c, &m->nodes[o]);
        for (int i = 0; i < m->nnodes; i++)
            if (m->nodes[i].primary == o) replyNodeEntry(c, &m->nodes[i]);
        ranges++;
        s = e;
    }
    replySetDeferredArrayLen(c, len, ranges);
}

/* ---- CLUSTER SHARDS ------------------------------------------------------------ */

static void replyShardNode(client *c, const clusterMap *m, int i) {
    const clusterNode *n = &m->nodes[i];
    replyMapLen(c, 7 + (n->tlsPort ? 1 : 0) + (n->hostname[0] ? 1 : 0));
    replyBulkCString(c, "id");
    replyBulk(c, n->id, CLUSTER_NAMELEN);
    replyBulkCString(c, "port");
    replyLongLong(c, n->port);
    if (n->tlsPort) {
        replyBulkCString(c, "tls-port");
        replyLongLong(c, n->tlsPort);
    }
    replyBulkCString(c, "ip");
    replyBulkCString(c, n->ip);
    replyBulkCString(c, "endpoint");
    replyBulkCString(c, clusterNodeEndpoint(n));
    if (n->hostname[0]) {
        replyBulkCString(c, "hostname");
        replyBulkCString(c, n->hostname);
    }
    replyBulkCString(c, "role");
    replyBulkCString(c, n->isPrimary ? "master" : "replica");
    replyBulkCString(c, "replication-offset");
    replyLongLong(c, i == m->myself ? replOffset() : 0);
    replyBulkCString(c, "health");
    replyBulkCString(c, "online");
}

static void clusterShardsCommand(client *c) {
    const clusterMap *m = clusterGetMap();
    long shards = 0;
    for (int i = 0; i < m->nnodes; i++)
        if (m->nodes[i].isPrimary) shards++;
    replyArrayLen(c, shards);
    for (int p = 0; p < m->nnodes; p++) {
        if (!m->nodes[p].isPrimary) continue;
        replyMapLen(c, 2);
        replyBulkCString(c, "slots");
        void *len = replyDeferredLen(c);
        long n = 0;
        for (int s = 0; s < CLUSTER_SLOTS; s++) {
            if (m->owner[s] != p) continue;
            int e = s;
            while (e + 1 < CLUSTER_SLOTS && m->owner[e + 1] == p) e++;
            replyLongLong(c, s);
            replyLongLong(c, e);
            n += 2;
            s = e;
        }
        replySetDeferredArrayLen(c, len, n);
        replyBulkCString(c, "nodes");
        long nn = 1;
        for (int i = 0; i < m->nnodes; i++)
            if (m->nodes[i].primary == p) nn++;
        replyArrayLen(c, nn);
        replyShardNode(c, m, p);
        for (int i = 0; i < m->nnodes; i++)
            if (m->nodes[i].primary == p) replyShardNode(c, m, i);
    }
}

/* ---- the rest -------------------------------------------------------------------- */

static void clusterInfoCommand(client *c) {
    textBuf b = {0};
    clusterInfoText(&b);
    replyVerbatim(c, b.p, b.len, "txt");
    memFree(b.p);
}

static void clusterMyIdCommand(client *c) {
    const clusterMap *m = clusterGetMap();
    replyBulk(c, m->nodes[m->myself].id, CLUSTER_NAMELEN);
}

static void clusterMyShardIdCommand(client *c) {
    const clusterMap *m = clusterGetMap();
    replyBulk(c, m->nodes[m->myself].shardId, CLUSTER_NAMELEN);
}

static void clusterKeySlotCommand(client *c) {
    replyLongLong(c, clusterKeySlot(c->argv[2].p, c->argv[2].len));
}

static void clusterCountKeysInSlotCommand(client *c) {
    long long slot;
    if (getLongLongFromSliceOrReply(c, c->argv[2], &slot, NULL) == -1) return;
    if (slot < 0 || slot >= CLUSTER_SLOTS) {
        replyError(c, "Invalid slot");
        return;
    }
    replyLongLong(c, dbSlotCount(&srv.db[0], (unsigned)slot));
}

static void clusterGetKeysInSlotCommand(client *c) {
    long long slot, max;
    if (getLongLongFromSliceOrReply(c, c->argv[2], &slot, NULL) == -1) return;
    if (getLongLongFromSliceOrReply(c, c->argv[3], &max, NULL) == -1) return;
    if (slot < 0 || slot >= CLUSTER_SLOTS || max < 0) {
        replyError(c, "Invalid slot or number of keys");
        return;
    }
    long long have = dbSlotCount(&srv.db[0], (unsigned)slot);
    long long n = max < have ? max : have;
    dbEntry **es = memAlloc(sizeof(dbEntry *) * (size_t)(n ? n : 1));
    size_t got = dbSlotKeys(&srv.db[0], (unsigned)slot, es, (size_t)n);
    replyArrayLen(c, (long)got);
    for (size_t i = 0; i < got; i++) replyBulk(c, es[i]->key, es[i]->keylen);
    memFree(es);
}

static void clusterLinksCommand(client *c) { replyArrayLen(c, 0); }

static void clusterResetCommand(client *c) {
    int hard = 0;
    if (c->argc == 3) {
        if (sliceEqNocase(c->argv[2], "hard")) hard = 1;
        else if (!sliceEqNocase(c->argv[2], "soft")) {
            replyErrorSyntax(c);
            return;
        }
    } else if (c->argc > 3) {
        replyErrorSyntax(c);
        return;
    }
    const clusterMap *m = clusterGetMap();
    if (m->nodes[m->myself].isPrimary && dbSize(&srv.db[0]) != 0) {
        replyError(c, "CLUSTER RESET can't be called with master nodes containing keys");
        return;
    }
    char err[512];
    if (clusterReset(hard, err, sizeof(err)) == -1) {
        replyError(c, err);
        return;
    }
    replyOk(c);
}

static void clusterSetTopologyCommand(client *c) {
    char err[512];
    if (clusterSetTopology(c->argv + 2, c->argc - 2, err, sizeof(err)) == -1) {
        replyError(c, err);
        return;
    }
    replyOk(c);
}

static void clusterSetSlotCommand(client *c) {
    const clusterMap *m = clusterGetMap();
    if (!m->nodes[m->myself].isPrimary) {
        replyError(c, "Please use SETSLOT only with masters.");
        return;
    }
    long long slot;
    if (!string2ll(c->argv[2].p, c->argv[2].len, &slot) || slot < 0 || slot >= CLUSTER_SLOTS) {
        replyError(c, "Invalid or out of range slot");
        return;
    }
    const char *action = NULL;
    slice id = {"", 0};
    if (c->argc == 5 && sliceEqNocase(c->argv[3], "migrating")) action = "migrating";
    else if (c->argc == 5 && sliceEqNocase(c->argv[3], "importing")) action = "importing";
    else if (c->argc == 5 && sliceEqNocase(c->argv[3], "node")) action = "node";
    else if (c->argc == 4 && sliceEqNocase(c->argv[3], "stable")) action = "stable";
    if (!action) {
        replyError(c, "Invalid CLUSTER SETSLOT action or number of arguments. Try CLUSTER HELP");
        return;
    }
    if (c->argc == 5) id = c->argv[4];
    char err[512];
    if (clusterSetSlot((int)slot, action, id, err, sizeof(err)) == -1) {
        replyError(c, err);
        return;
    }
    replyOk(c);
}

static void clusterHelpCommand(client *c) {
    static const char *help[] = {
        "COUNTKEYSINSLOT <slot>",
        "    Return the number of keys in <slot>.",
        "GETKEYSINSLOT <slot> <count>",
        "    Return key names stored by current node in a slot.",
        "INFO",
        "    Return information about the cluster.",
        "KEYSLOT <key>",
        "    Return the hash slot for <key>.",
        "LINKS",
        "    Return information about all network links between this node and its peers.",
        "MYID",
        "    Return the node id.",
        "MYSHARDID",
        "    Return the node's shard id.",
        "NODES",
        "    Return cluster configuration seen by node. Output format:",
        "    <id> <ip:port@cport[,hostname]> <flags> <master> <pings> <pongs> <epoch> <link> <slot> ...",
        "REPLICAS <node-id>",
        "    Return <node-id> replicas.",
        "RESET [HARD|SOFT]",
        "    Reset current node (default: soft).",
        "SETTOPOLOGY <epoch> NODE <id> <ip> <port> <tls-port> <hostname|-> PRIMARY <slots|-> | REPLICA <primary-id> ...",
        "    Replace this node's whole view of the cluster (docs/cluster.md).",
        "SETSLOT <slot> (IMPORTING <node-id>|MIGRATING <node-id>|STABLE|NODE <node-id>)",
        "    Set slot state.",
        "SHARDS",
        "    Return information about slot range mappings and the nodes associated with them.",
        "SLAVES <node-id>",
        "    Return <node-id> replicas.",
        "SLOTS",
        "    Return information about slots range mappings. Each range is made of:",
        "    start, end, master and replicas IP addresses, ports and ids",
        NULL};
    replyHelp(c, help);
}

/* Every CLUSTER subcommand answers the disabled error outside cluster mode. */
#define GUARDED(fn)                                                                                                  \
    static void fn##Guarded(client *c) {                                                                             \
        if (clusterEnabledOrReply(c)) fn(c);                                                                         \
    }
GUARDED(clusterNodesCommand)
GUARDED(clusterReplicasCommand)
GUARDED(clusterSlotsCommand)
GUARDED(clusterShardsCommand)
GUARDED(clusterInfoCommand)
GUARDED(clusterMyIdCommand)
GUARDED(clusterMyShardIdCommand)
GUARDED(clusterKeySlotCommand)
GUARDED(clusterCountKeysInSlotCommand)
GUARDED(clusterGetKeysInSlotCommand)
GUARDED(clusterLinksCommand)
GUARDED(clusterResetCommand)
GUARDED(clusterSetTopologyCommand)
GUARDED(clusterSetSlotCommand)

static void readonlyCommand(client *c) {
    if (!clusterEnabledOrReply(c)) return;
    c->flags |= CLIENT_READONLY;
    replyOk(c);
}

static void readwriteCommand(client *c) {
    if (!clusterEnabledOrReply(c)) return;
    c->flags &= ~CLIENT_READONLY;
    replyOk(c);
}

static void askingCommand(client *c) {
    if (!clusterEnabledOrReply(c)) return;
    c->flags |= CLIENT_ASKING;
    replyOk(c);
}
cmdProc *const clusterAskingProc = askingCommand;

void clusterInfoSection(textBuf *b) { textAppend(b, "cluster_enabled:%d\r\n", srv.clusterEnabled ? 1 : 0); }

#define CL_SUB (CMD_LOADING | CMD_STALE)
static cmdDef clusterSubcommands[] = {
    {.name = "countkeysinslot", .proc = clusterCountKeysInSlotCommandGuarded, .arity = 3, .flags = CL_SUB, .since = "3.0.0", .summary = "Return the number of local keys in the specified hash slot", .complexity = "O(1)"},
    {.name = "getkeysinslot", .proc = clusterGetKeysInSlotCommandGuarded, .arity = 4, .flags = CL_SUB, .since = "3.0.0", .summary = "Return local key names in the specified hash slot", .complexity = "O(log(N)) where N is the number of requested keys"},
    {.name = "help", .proc = clusterHelpCommand, .arity = 2, .flags = CL_SUB, .since = "5.0.0", .summary = "Show helpful text about the different subcommands", .complexity = "O(1)"},
    {.name = "info", .proc = clusterInfoCommandGuarded, .arity = 2, .flags = CL_SUB, .since = "3.0.0", .summary = "Provides info about Redis Cluster node state", .complexity = "O(1)"},
    {.name = "keyslot", .proc = clusterKeySlotCommandGuarded, .arity = 3, .flags = CL_SUB, .since = "3.0.0", .summary = "Returns the hash slot of the specified key", .complexity = "O(N) where N is the number of bytes in the key"},
    {.name = "links", .proc = clusterLinksCommandGuarded, .arity = 2, .flags = CL_SUB, .since = "7.0.0", .summary = "Returns a list of all TCP links to and from peer nodes in cluster", .complexity = "O(N) where N is the total number of Cluster nodes"},
    {.name = "myid", .proc = clusterMyIdCommandGuarded, .arity = 2, .flags = CL_SUB, .since = "3.0.0", .summary = "Return the node id", .complexity = "O(1)"},
    {.name = "myshardid", .proc = clusterMyShardIdCommandGuarded, .arity = 2, .flags = CL_SUB, .since = "7.2.0", .summary = "Return the node shard id", .complexity = "O(1)"},
    {.name = "nodes", .proc = clusterNodesCommandGuarded, .arity = 2, .flags = CL_SUB, .since = "3.0.0", .summary = "Get Cluster config for the node", .complexity = "O(N) where N is the total number of Cluster nodes"},
    {.name = "replicas", .proc = clusterReplicasCommandGuarded, .arity = 3, .flags = CMD_ADMIN | CL_SUB, .since = "5.0.0", .summary = "List replica nodes of the specified master node", .complexity = "O(1)"},
    {.name = "slaves", .proc = clusterReplicasCommandGuarded, .arity = 3, .flags = CMD_ADMIN | CL_SUB, .since = "3.0.0", .summary = "List replica nodes of the specified master node", .complexity = "O(1)"},
    {.name = "reset", .proc = clusterResetCommandGuarded, .arity = -2, .flags = CMD_ADMIN | CMD_STALE | CMD_NOSCRIPT, .since = "3.0.0", .summary = "Reset a Redis Cluster node", .complexity = "O(N) where N is the number of known nodes. The command may execute a FLUSHALL as a side effect."},
    {.name = "setslot", .proc = clusterSetSlotCommandGuarded, .arity = -4, .flags = CMD_ADMIN | CMD_STALE | CMD_NOSCRIPT, .since = "3.0.0", .summary = "Bind a hash slot to a specific node", .complexity = "O(1)"},
    {.name = "settopology", .proc = clusterSetTopologyCommandGuarded, .arity = -3, .flags = CMD_ADMIN | CMD_STALE | CMD_NOSCRIPT, .since = "7.0.0", .summary = "Replace this node's view of the cluster (Cachet: the topology pushed by the control plane)", .complexity = "O(N) where N is the number of nodes and slot ranges"},
    {.name = "shards", .proc = clusterShardsCommandGuarded, .arity = 2, .flags = CL_SUB, .since = "7.0.0", .summary = "Get array of cluster slots to node mappings", .complexity = "O(N) where N is the total number of cluster nodes"},
    {.name = "slots", .proc = clusterSlotsCommandGuarded, .arity = 2, .flags = CL_SUB, .since = "3.0.0", .summary = "Get array of Cluster slot to node mappings", .complexity = "O(N) where N is the total number of Cluster nodes"},
    {0}};

static void clusterDispatch(client *c) { clusterHelpCommand(c); }

cmdDef clusterCommands[] = {
    {.name = "cluster", .proc = clusterDispatch, .arity = -2, .flags = 0, .group = "cluster", .since = "3.0.0", .summary = "A container for cluster commands", .complexity = "Depends on subcommand.", .subcmds = clusterSubcommands},
    {.name = "readonly", .proc = readonlyCommand, .arity = 1, .flags = CMD_FAST | CMD_LOADING | CMD_STALE, .acl = ACL_CONNECTION, .group = "cluster", .since = "3.0.0", .summary = "Enables read queries for a connection to a cluster replica node", .complexity = "O(1)"},
    {.name = "readwrite", .proc = readwriteCommand, .arity = 1, .flags = CMD_FAST | CMD_LOADING | CMD_STALE, .acl = ACL_CONNECTION, .group = "cluster", .since = "3.0.0", .summary = "Disables read queries for a connection to a cluster replica node", .complexity = "O(1)"},
    {.name = "asking", .proc = askingCommand, .arity = 1, .flags = CMD_FAST, .acl = ACL_CONNECTION, .group = "cluster", .since = "3.0.0", .summary = "Sent by cluster clients after an -ASK redirect", .complexity = "O(1)"},
    {0}};
