/* reconcile.c - the reconciler (group.h's cdReconcile): every pass makes
 * the running nodes match the store. It launches a creating group's nodes
 * (a shard's primary, then its replicas), pushes a cluster-mode group's slot
 * map, supervises (restarts a dead node, adopts a live one after a cachetd
 * restart), drives the TLS migration of nodes and replication links
 * (migrateGroup: its states and invariants at its head), hands nodes the
 * CA bundle and new certificates (caPass: CA rotation and renewal), stops
 * and removes a deleting group, and prunes old events. Owns the node
 * processes.
 * Must never hold cd.lock across node I/O, nor keep a store transaction
 * open across it. */
#include <ftw.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "ca.h"
#include "cachetd.h"
#include "group.h"
#include "group_int.h"
#include "log.h"
#include "mem.h"
#include "node.h"
#include "store.h"

#define CREATE_TIMEOUT_MS 30000
#define EVENT_KEEP_MS (14LL * 24 * 3600 * 1000) /* ElastiCache keeps 14 days */
#define RESTART_BACKOFF_MAX_MS 30000

static int rmOne(const char *path, const struct stat *sb, int flag, struct FTW *ftw) {
    (void)sb;
    (void)flag;
    (void)ftw;
    return remove(path);
}

/* The node's certificate as recorded ("certca" its CA generation, "certat"
 * issued, "certna" notAfter) and the bundle it was given ("trust"). */
static void recCert(const cdParams *n, cdCertInfo *ci) {
    ci->gen = recInt(n, "certca");
    ci->issued = recInt(n, "certat");
    ci->notAfter = recInt(n, "certna");
}

static void setRecCert(cdParams *n, const cdCertInfo *ci) {
    char trust[64];
    recSetInt(n, "certca", ci->gen);
    recSetInt(n, "certat", ci->issued);
    recSetInt(n, "certna", ci->notAfter);
    cdCaTrustId(trust, sizeof(trust));
    cdParamsSet(n, "trust", trust);
}

/* The CA generation that signs a certificate issued now to a node of this
 * group: the active one, except during a rotation while some node of the
 * group that holds TLS files lacks the current bundle (the bundle step of
 * caPass): then the old one, which every node trusts. The same rule as
 * caPass's, for every path that issues a node certificate (caPass, a
 * migration bringing a node or link into TLS, a restart), so a node never
 * presents a certificate some node of its group (a replica verifying its
 * primary) does not trust yet. A node without TLS files is not waited for:
 * it trusts nothing, and is given the current bundle in the same CONFIG SET
 * (or node.conf) as its certificate when it starts using TLS. */
static long long certGen(const groupNode *v, int num) {
    if (!cdCaOld()) return cdCaActive();
    char trust[64];
    cdCaTrustId(trust, sizeof(trust));
    for (int i = 0; i < num; i++)
        if (v[i].have && nodeUsesTls(&v[i].rec) && strcmp(recStr(&v[i].rec, "trust"), trust)) return cdCaOld();
    return cdCaActive();
}

/* Writes the node's config from its record and starts it, unless the
 * process its pid file names is already this node (adopted). v[i] is the
 * node, v[primaryOf(i)] its shard's primary. */
static int ensureRunning(groupNode *v, int num, int i, const groupShape *s) {
    const char *nid = v[i].id;
    cdParams *n = &v[i].rec;
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
    int replica = v[i].member > 1, replTls = replica && !strcmp(recStr(n, "link"), "tls");
    char cert[4300], key[4300];
    snprintf(cert, sizeof(cert), "%s/node.crt", dir);
    snprintf(key, sizeof(key), "%s/node.key", dir);
    if (strcmp(mode, "none") || replTls) {
        /* A certificate of a CA in the bundle with time left will do (the CA
         * pass replaces an old CA's later, once the group trusts the new);
         * else a new one, of the CA certGen names: mid-rotation, the old CA
         * until every node of the group has the bundle. */
        cdCertInfo ci;
        if (cdCaCheck(cert, key, &ci) &&
            cdCaIssue(certGen(v, num), cert, key, "127.0.0.1", cd.certSeconds, &ci, err, sizeof(err))) {
            logWarning("node %s: %s", nid, err);
            return -1;
        }
        setRecCert(n, &ci);
    }
    cdNodeConf c = {.dir = dir, .port = (int)recInt(n, "port"), .adminPass = recStr(n, "pass"), .tlsMode = mode,
                    .cert = cert, .key = key, .ca = cd.caFile, .replTls = replTls};
    if (s->cluster) c.clusterId = recStr(n, "cid");
    groupNode *pn = &v[primaryOf(s, i)];
    if (replica && pn->have) {
        c.primaryHost = "127.0.0.1";
        c.primaryPort = (int)recInt(&pn->rec, "port");
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
 * node. Safe by the state machine's invariant: the reconciler drives nodes
 * of groups in a transitional state, which the API never changes; the CA
 * pass also talks to nodes of available groups, whose node records the API
 * never writes either (only a create does, before the nodes exist). No
 * store transaction is open across the call; the caller's copies of the
 * records stay current. */
static int nodeCmd(const cdParams *n, int argc, const char **argv, char *reply, size_t len) {
    int tls = !strcmp(recStr(n, "tls"), "required");
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

/* Stops node n's process: the recorded pid, and the one its pid file names
 * (launched just before a crash, not yet recorded). dir gets its directory. */
static void stopNodeProcess(const groupNode *n, char *dir, size_t len) {
    nodeDir(dir, len, n->id);
    if (n->have) nodeStop((pid_t)recInt(&n->rec, "pid"), dir);
    pid_t filePid = cdNodePidFile(dir);
    if (filePid) nodeStop(filePid, dir);
}

/* One transaction: the node's record and, when msg is set, its event. */
static void saveNode(groupNode *n, const char *msg) {
    cdStoreBegin(cd.store);
    cdStorePut(cd.store, "node", n->id, &n->rec);
    if (msg) addEvent(n->id, "cache-cluster", msg);
    if (cdStoreCommit(cd.store)) cdStoreRollback(cd.store);
}

/* 1 when the replica reports master_link_status:up. */
static int linkUp(const groupNode *n) {
    char reply[4096];
    const char *info[] = {"INFO", "replication"};
    return nodeCmd(&n->rec, 2, info, reply, sizeof(reply)) == 0 && strstr(reply, "master_link_status:up") != NULL;
}

/* The node's certificate, issued again by CA generation gen (certGen) when
 * it is due (cdCaDue: of neither gen nor the active CA, or a third of its
 * validity left) or force is set, and its files and the bundle loaded by
 * the node (one CONFIG SET: the node checks the three together and keeps
 * what it had if any fails). */
static int loadCert(groupNode *n, int force, long long gen) {
    char dir[4200], cert[4300], key[4300], err[512], reply[512];
    nodeDir(dir, sizeof(dir), n->id);
    snprintf(cert, sizeof(cert), "%s/node.crt", dir);
    snprintf(key, sizeof(key), "%s/node.key", dir);
    cdCertInfo ci;
    recCert(&n->rec, &ci);
    if ((force || access(cert, R_OK) || cdCaDue(&ci, gen, (long long)time(NULL))) &&
        cdCaIssue(gen, cert, key, "127.0.0.1", cd.certSeconds, &ci, err, sizeof(err))) {
        logWarning("node %s: %s", n->id, err);
        return -1;
    }
    const char *files[] = {"CONFIG", "SET", "tls-cert-file", cert, "tls-key-file", key, "tls-ca-cert-file", cd.caFile};
    if (nodeCmd(&n->rec, 8, files, reply, sizeof(reply))) {
        logWarning("node %s: CONFIG SET tls files: %s", n->id, reply);
        return -1;
    }
    setRecCert(&n->rec, &ci);
    return 0;
}

/* The bundle alone, given to a node again after it changed (a rotation's
 * start or finish): its certificate and key stay. */
static int loadTrust(groupNode *n) {
    char reply[512], trust[64];
    cdCaTrustId(trust, sizeof(trust)); /* before the I/O: the bundle may change meanwhile, then it is sent again */
    const char *set[] = {"CONFIG", "SET", "tls-ca-cert-file", cd.caFile};
    if (nodeCmd(&n->rec, 4, set, reply, sizeof(reply))) {
        logWarning("node %s: CONFIG SET tls-ca-cert-file: %s", n->id, reply);
        return -1;
    }
    cdParamsSet(&n->rec, "trust", trust);
    return 0;
}

/* A node's client-facing mode to target: certificates first (of CA
 * generation gen, certGen), then the mode. */
static int migrateMode(groupNode *n, const char *target, long long gen) {
    char reply[512];
    if (strcmp(target, "none") && loadCert(n, 0, gen)) return -1;
    const char *set[] = {"CONFIG", "SET", "tls-mode", target};
    if (nodeCmd(&n->rec, 4, set, reply, sizeof(reply))) {
        logWarning("node %s: CONFIG SET tls-mode %s: %s", n->id, target, reply);
        return -1;
    }
    cdParamsSet(&n->rec, "tls", target);
    return 0;
}

/* A replica's link to its primary to TLS (tls) or plaintext: the node
 * reconnects at once and continues with PSYNC (docs/replication.md). */
static int migrateLink(groupNode *n, int tls, long long gen) {
    char reply[512];
    if (tls && loadCert(n, 0, gen)) return -1;
    const char *set[] = {"CONFIG", "SET", "tls-replication", tls ? "yes" : "no"};
    if (nodeCmd(&n->rec, 4, set, reply, sizeof(reply))) {
        logWarning("node %s: CONFIG SET tls-replication: %s", n->id, reply);
        return -1;
    }
    cdParamsSet(&n->rec, "link", tls ? "tls" : "plain");
    return 0;
}

/* Does a node in this tls-mode accept a TLS (tls=1) or plaintext client? */
static int modeAccepts(const char *mode, int tls) { return tls ? strcmp(mode, "none") != 0 : strcmp(mode, "required") != 0; }

/* The TLS migration of a group, one pass (reconciler, status modifying).
 *
 * Each node has a mode (record "tls": none|preferred|required) and each
 * replica a link to its primary (record "link": plain|tls). The target link
 * is tls unless the target mode is none. A pass moves, in order:
 *   1. each replica's link whose primary already accepts the target link's
 *      transport (tls-replication; then wait for master_link_status:up);
 *   2. each replica's mode (certificates first, then tls-mode);
 *   3. each primary's mode, once every replica of its shard is at the
 *      target mode and its link is done and up, or waits for this very
 *      primary (none -> preferred: the primary must accept TLS first).
 * Invariants: a primary never leaves a mode its replicas' links need (it
 * goes required only after every link is TLS and up, none only after every
 * link is plaintext and up); a client-facing port never changes; every
 * step is one CONFIG SET, idempotent, recorded in its own transaction, so a
 * pass may stop anywhere (a node down, cachetd killed) and the next resumes.
 * Returns 1 when every node is at the target and every link up. */
static int migrateGroup(groupNode *v, int num, const groupShape *s, const char *target) {
    char msg[256];
    int wantTls = strcmp(target, "none") != 0, done = 1;
    const char *wantLink = wantTls ? "tls" : "plain";
    int *up = memCalloc(sizeof(int) * (size_t)num);
    for (int i = 0; i < num; i++) { /* 1. links */
        groupNode *n = &v[i], *p = &v[primaryOf(s, i)];
        if (n->member == 1 || !n->have || !p->have) continue;
        if (strcmp(recStr(&n->rec, "link"), wantLink) && modeAccepts(recStr(&p->rec, "tls"), wantTls) &&
            migrateLink(n, wantTls, certGen(v, num)) == 0) {
            snprintf(msg, sizeof(msg), "Cache node %s replicates over %s", n->id, wantTls ? "TLS" : "plaintext");
            saveNode(n, msg);
        }
    }
    for (int i = 0; i < num; i++) { /* 2. replicas' modes */
        groupNode *n = &v[i];
        if (n->member == 1 || !n->have || !strcmp(recStr(&n->rec, "tls"), target)) continue;
        if (migrateMode(n, target, certGen(v, num)) == 0) {
            snprintf(msg, sizeof(msg), "Cache node %s now in tls-mode %s", n->id, target);
            saveNode(n, msg);
        }
    }
    for (int i = 0; i < num; i++) /* links done and up */
        up[i] = v[i].member == 1 || (v[i].have && !strcmp(recStr(&v[i].rec, "link"), wantLink) && linkUp(&v[i]));
    for (int i = 0; i < num; i++) { /* 3. primaries */
        groupNode *p = &v[i];
        if (p->member != 1 || !p->have || !strcmp(recStr(&p->rec, "tls"), target)) continue;
        int ready = 1;
        for (int j = i + 1; j <= i + s->replicas && j < num; j++) {
            int waitsForMe = strcmp(recStr(&v[j].rec, "link"), wantLink) && !modeAccepts(recStr(&p->rec, "tls"), wantTls);
            ready &= v[j].have && !strcmp(recStr(&v[j].rec, "tls"), target) && (up[j] || waitsForMe);
        }
        if (ready && migrateMode(p, target, certGen(v, num)) == 0) {
            snprintf(msg, sizeof(msg), "Cache node %s now in tls-mode %s", p->id, target);
            saveNode(p, msg);
        }
    }
    for (int i = 0; i < num; i++) done &= v[i].have && !strcmp(recStr(&v[i].rec, "tls"), target) && up[i];
    memFree(up);
    return done;
}

/* The CA pass over a group's nodes that hold TLS files (every pass of a
 * group that is available or modifying; ca.h has the rotation's states):
 *   1. each node whose recorded bundle ("trust") is not the current one is
 *      given it (CONFIG SET tls-ca-cert-file);
 *   2. each node whose certificate is due gets a new one of the CA certGen
 *      names: once every such node of the group trusts the current bundle,
 *      the active CA (a certificate of the old CA is due then); before, the
 *      old one, and only for a certificate with less than a third of its
 *      validity left (renewal goes on during a long bundle step).
 * Invariant: a node presents a certificate of the new CA only when every
 * node of its group (the other end of each replication link) trusts that
 * CA, and clients were given the bundle at the rotation's start; the
 * migration and a restart issue by the same rule (certGen). The
 * certificate is replaced with one CONFIG SET, so connected clients and
 * links keep their sessions and new ones get the new certificate. Each step
 * is recorded in its own transaction; a step repeated after a crash is
 * harmless. Returns 1 while work remains. */
static int caPass(groupNode *v, int num) {
    char trust[64], msg[256];
    cdCaTrustId(trust, sizeof(trust));
    int pending = 0;
    for (int i = 0; i < num; i++) {
        groupNode *n = &v[i];
        if (!n->have || !nodeUsesTls(&n->rec) || !strcmp(recStr(&n->rec, "trust"), trust)) continue;
        if (loadTrust(n) == 0) {
            snprintf(msg, sizeof(msg), "Cache node %s trusts CA bundle %s", n->id, recStr(&n->rec, "trust"));
            saveNode(n, msg);
        }
        pending |= strcmp(recStr(&n->rec, "trust"), trust) != 0;
    }
    long long now = (long long)time(NULL), gen = certGen(v, num);
    for (int i = 0; i < num; i++) {
        groupNode *n = &v[i];
        cdCertInfo ci;
        recCert(&n->rec, &ci);
        if (!n->have || !nodeUsesTls(&n->rec) || !cdCaDue(&ci, gen, now)) continue;
        if (loadCert(n, 1, gen) == 0) {
            recCert(&n->rec, &ci);
            snprintf(msg, sizeof(msg), "Cache node %s has a new certificate of CA %lld", n->id, ci.gen);
            saveNode(n, msg);
        } else {
            pending = 1;
        }
    }
    return pending;
}

/* Pushes the group's slot map (epoch-stamped, docs/cluster.md) to node n
 * unless it already has this epoch: 0 done, -1 not now. */
static int pushTopology(groupNode *v, int num, const groupShape *s, const cdParams *g, groupNode *n) {
    long long epoch = recInt(g, "epoch");
    if (recInt(&n->rec, "epoch") >= epoch) return 0;
    const char **argv = memAlloc(sizeof(char *) * (size_t)(3 + 8 * num));
    char (*ports)[16] = memAlloc(16 * (size_t)num), ep[32], key[32], reply[512];
    int argc = 0;
    snprintf(ep, sizeof(ep), "%lld", epoch);
    argv[argc++] = "CLUSTER";
    argv[argc++] = "SETTOPOLOGY";
    argv[argc++] = ep;
    int ok = 1;
    for (int i = 0; i < num; i++) {
        if (!v[i].have) ok = 0;
        snprintf(ports[i], 16, "%lld", recInt(&v[i].rec, "port"));
        argv[argc++] = "NODE";
        argv[argc++] = recStr(&v[i].rec, "cid");
        argv[argc++] = "127.0.0.1";
        argv[argc++] = ports[i];
        argv[argc++] = "0";
        argv[argc++] = "-";
        if (v[i].member == 1) {
            argv[argc++] = "PRIMARY";
            snprintf(key, sizeof(key), "slots.%d", v[i].shard);
            argv[argc++] = recStr(g, key);
        } else {
            argv[argc++] = "REPLICA";
            argv[argc++] = recStr(&v[primaryOf(s, i)].rec, "cid");
        }
    }
    int rc = -1;
    if (ok && nodeCmd(&n->rec, argc, argv, reply, sizeof(reply)) == 0) {
        recSetInt(&n->rec, "epoch", epoch);
        saveNode(n, NULL);
        rc = 0;
    } else if (ok) {
        logWarning("node %s: CLUSTER SETTOPOLOGY: %s", n->id, reply);
    }
    memFree(ports);
    memFree(argv);
    return rc;
}

/* One pass over one group (the state machine is in group.h); 1 while the
 * group is in a transitional state (the reconciler then comes back soon). */
static int reconcileGroup(const char *id, cdParams *g) {
    const char *st = recStr(g, "status");
    groupShape s = shapeOf(g);
    groupNode *v;
    int num = loadNodes(id, &s, &v);
    char msg[256];
    if (!strcmp(st, "deleting")) {
        for (int i = num - 1; i >= 0; i--) {
            char dir[4200];
            stopNodeProcess(&v[i], dir, sizeof(dir));
            nftw(dir, rmOne, 16, FTW_DEPTH | FTW_PHYS);
        }
        cdStoreBegin(cd.store);
        for (int i = 0; i < num; i++) cdStoreDelete(cd.store, "node", v[i].id);
        cdStoreDelete(cd.store, "group", id);
        addEvent(id, "replication-group", "Replication group deleted");
        if (cdStoreCommit(cd.store)) cdStoreRollback(cd.store);
        freeNodes(v, num);
        return 0;
    }
    if (!strcmp(st, "create-failed")) {
        freeNodes(v, num);
        return 0;
    }
    /* creating, available, modifying: every node must run, a shard's
     * primary before its replicas so their replicaof finds it; a cluster
     * node must hold the group's map. */
    int ready = 0, creating = !strcmp(st, "creating");
    int *alive = memCalloc(sizeof(int) * (size_t)(num ? num : 1));
    for (int i = 0; i < num; i++) {
        groupNode *n = &v[i];
        char reply[256];
        if (!n->have) continue;
        /* While creating, a replica starts once its primary answers: its
         * first connect then succeeds (a refused one is retried a second
         * later only). */
        if (creating && n->member > 1 && !alive[primaryOf(&s, i)]) continue;
        int r = ensureRunning(v, num, i, &s);
        if (r != 0) { /* started, adopted, or a failed attempt (its backoff) */
            if (r == 1 && strcmp(st, "creating")) snprintf(msg, sizeof(msg), "Cache node %s restarted", n->id);
            saveNode(n, r == 1 && strcmp(st, "creating") ? msg : NULL);
        }
        if (r < 0) continue;
        const char *ping[] = {"PING"};
        if (creating) alive[i] = nodeCmd(&n->rec, 1, ping, reply, sizeof(reply)) == 0;
        int ok = (!creating || alive[i]) && (!s.cluster || pushTopology(v, num, &s, g, n) == 0);
        ready += creating && ok && (n->member == 1 || linkUp(n));
    }
    memFree(alive);
    int busy = strcmp(st, "available") != 0;
    if (!creating) busy |= caPass(v, num);
    if (!strcmp(st, "creating")) {
        const char *next = NULL;
        if (ready == num)
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
    } else if (!strcmp(st, "modifying")) {
        char target[16]; /* a copy: the record's value changes below */
        snprintf(target, sizeof(target), "%s", recStr(g, "target"));
        if (migrateGroup(v, num, &s, target)) {
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
    freeNodes(v, num);
    return busy;
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

void cdStopAllNodes(void) {
    pthread_mutex_lock(&cd.lock);
    char **ids;
    int n = cdStoreList(cd.store, "group", &ids);
    for (int i = 0; i < n; i++) {
        cdParams g = {0};
        if (cdStoreGet(cd.store, "group", ids[i], &g) != 1) continue;
        groupShape s = shapeOf(&g);
        groupNode *v;
        int num = loadNodes(ids[i], &s, &v);
        for (int j = num - 1; j >= 0; j--) { /* replicas before their primary: no reconnect attempts */
            char dir[4200];
            stopNodeProcess(&v[j], dir, sizeof(dir));
        }
        freeNodes(v, num);
        cdParamsFree(&g);
    }
    cdStoreFreeList(ids, n);
    pthread_mutex_unlock(&cd.lock);
}

/* cd.lock is taken per group, not for the whole pass: an API request
 * (DescribeReplicationGroups over 100 groups, say) waits for one group's
 * pass at most, never for all of them. Safe because each group's records
 * are read afresh under the lock, and a group created or deleted meanwhile
 * is simply seen (or missed) by this pass and handled by the next. */
int cdReconcile(void) {
    int busy = 0;
    pthread_mutex_lock(&cd.lock);
    while (waitpid(-1, NULL, WNOHANG) > 0) {
    }
    char **ids;
    int n = cdStoreList(cd.store, "group", &ids);
    pthread_mutex_unlock(&cd.lock);
    for (int i = 0; i < n; i++) {
        cdParams g = {0};
        pthread_mutex_lock(&cd.lock);
        if (cdStoreGet(cd.store, "group", ids[i], &g) == 1) busy |= reconcileGroup(ids[i], &g);
        pthread_mutex_unlock(&cd.lock);
        cdParamsFree(&g);
    }
    pthread_mutex_lock(&cd.lock);
    cdStoreFreeList(ids, n);
    pruneEvents();
    pthread_mutex_unlock(&cd.lock);
    return busy;
}
