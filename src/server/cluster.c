/* cluster.c - cluster mode: key hash slots, the node's view of the cluster
 * (one clusterMap, pushed whole by a control plane: no gossip, no bus), its
 * persistence in cluster-config-file, and the dispatch's redirection check
 * (Redis' getNodeByQuery). The CLUSTER commands are cluster_cmd.c's.
 *
 * Owns: the map (`map`), this node's id, the cluster-config-file.
 * Invariants:
 *  - map.nodes[map.myself].id is this node's id; the id never changes
 *    except by CLUSTER RESET HARD.
 *  - map.owner[s] is -1 or the index of a primary; every replica's primary
 *    index names a primary of the same map.
 *  - a map is in force only after it is in cluster-config-file: the file
 *    is written (temp file, fsync, rename, directory fsync) before the swap,
 *    so after a crash the node restarts with the old map or the new one.
 * A map that takes a slot from this primary deletes its keys of that slot
 * (propagated, as Redis' delKeysInSlot) and redirects the clients blocked
 * on them (block.c's blockRedirectWhere).
 * Must never: keep part of a refused map, delete a key for a refused map,
 * or redirect the replication stream (CLIENT_MASTER) or a script's own
 * calls. */
#include "server.h"
#include "cluster.h"
#include "client.h"
#include "cmd.h"
#include "config.h"
#include "crc16.h"
#include "dassert.h"
#include "db.h"
#include "migrate.h"
#include "block.h"
#include "multi.h"
#include "propagate.h"
#include "pubsub.h"
#include "repl.h"
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

static clusterMap map;
static char myId[CLUSTER_NAMELEN + 1];
/* Slot migration (Redis' migrating_slots_to / importing_slots_from): this
 * node's own state, set by CLUSTER SETSLOT, not part of the pushed map and
 * not persisted (a migration tool resumes from CLUSTER NODES). Indexes into
 * map.nodes, -1 when none; remapped by id when a new map comes in, and
 * dropped when the new map makes them meaningless. */
static int16_t migratingTo[CLUSTER_SLOTS], importingFrom[CLUSTER_SLOTS];

/* Slots served here with no migration either way (owner myself, no
 * migratingTo, no importingFrom), one bit each: for those the dispatch's
 * check answers "runs here" from these 2 KiB, which stay in L1, instead of
 * reading the three 32 KiB per-slot arrays (their cache misses were most
 * of the check's cost in cluster mode). Recomputed by plainSlotsRefresh
 * after every change to any of the three, and asserted against them under
 * CACHET_ASSERTS. */
static uint64_t plainSlots[CLUSTER_SLOTS / 64];

static int channelInSlots(const char *ch, size_t len, void *priv);

static int slotIsPlain(int s) {
    return map.owner[s] >= 0 && map.owner[s] == map.myself && migratingTo[s] < 0 && importingFrom[s] < 0;
}

static void plainSlotsRefresh(void) {
    memset(plainSlots, 0, sizeof(plainSlots));
    for (int s = 0; s < CLUSTER_SLOTS; s++)
        if (slotIsPlain(s)) plainSlots[s >> 6] |= 1ULL << (s & 63);
}

static inline int plainSlot(int s) {
    int plain = (int)((plainSlots[s >> 6] >> (s & 63)) & 1);
    CACHET_ASSERT(plain == slotIsPlain(s));
    return plain;
}

static void migrationsClear(void) {
    for (int s = 0; s < CLUSTER_SLOTS; s++) migratingTo[s] = importingFrom[s] = -1;
    plainSlotsRefresh();
}

/* ---- slots ---------------------------------------------------------------- */

/* Redis' rule: when the key holds a '{' followed later by a '}' with at least
 * one byte between them, only those bytes are hashed. */
unsigned int clusterKeySlot(const char *key, size_t len) {
    /* memchr: libc's vector scan beats a byte loop even on short keys, and
     * this runs for every key of every command. */
    const char *open = len ? memchr(key, '{', len) : NULL;
    if (!open) return crc16(key, len) & (CLUSTER_SLOTS - 1);
    size_t s = (size_t)(open - key), e;
    for (e = s + 1; e < len; e++)
        if (key[e] == '}') break;
    if (e == len || e == s + 1) return crc16(key, len) & (CLUSTER_SLOTS - 1);
    return crc16(key + s + 1, e - s - 1) & (CLUSTER_SLOTS - 1);
}

const clusterMap *clusterGetMap(void) { return &map; }

/* ---- the map ---------------------------------------------------------------- */

static void mapFree(clusterMap *m) {
    for (int i = 0; i < m->nnodes; i++) {
        memFree(m->nodes[i].ip);
        memFree(m->nodes[i].hostname);
    }
    memFree(m->nodes);
    m->nodes = NULL;
    m->nnodes = 0;
}

/* The map of a node nobody has told anything yet: itself, a primary
 * without slots, at its announced endpoint. */
static void mapInitEmpty(clusterMap *m, unsigned long long epoch) {
    m->epoch = epoch;
    m->nnodes = 1;
    m->nodes = memCalloc(sizeof(clusterNode));
    m->myself = 0;
    clusterNode *n = &m->nodes[0];
    memcpy(n->id, myId, sizeof(n->id));
    memcpy(n->shardId, myId, sizeof(n->shardId));
    n->ip = memStrdup(srv.clusterAnnounceIp ? srv.clusterAnnounceIp : "");
    n->hostname = memStrdup(srv.clusterAnnounceHostname ? srv.clusterAnnounceHostname : "");
    n->port = srv.clusterAnnouncePort ? srv.clusterAnnouncePort : srv.port;
    n->tlsPort = srv.clusterAnnounceTlsPort ? srv.clusterAnnounceTlsPort : srv.tlsPort;
    n->isPrimary = 1;
    n->primary = -1;
    for (int s = 0; s < CLUSTER_SLOTS; s++) m->owner[s] = -1;
}

/* Slots with an owner, and primaries owning at least one (cluster_size):
 * counted once per change of the map (mapChanged), never per command. */
static int slotsAssigned, clusterSize;

static void mapChanged(void) {
    char serving[CLUSTER_MAX_NODES] = {0};
    slotsAssigned = clusterSize = 0;
    for (int s = 0; s < CLUSTER_SLOTS; s++) {
        if (map.owner[s] < 0) continue;
        slotsAssigned++;
        if (!serving[map.owner[s]]) {
            serving[map.owner[s]] = 1;
            clusterSize++;
        }
    }
    plainSlotsRefresh();
}

static void countSlots(int *assigned, int *size) {
    *assigned = slotsAssigned;
    *size = clusterSize;
}

/* As Redis' clusterUpdateState without failures to detect: fail while no
 * primary serves a slot, or (cluster-require-full-coverage) a slot has no
 * owner. */
int clusterStateOk(void) {
    int assigned, size;
    countSlots(&assigned, &size);
    if (size == 0) return 0;
    return !srv.clusterRequireFullCoverage || assigned == CLUSTER_SLOTS;
}

static int isHexId(slice s) {
    if (s.len != CLUSTER_NAMELEN) return 0;
    for (size_t i = 0; i < s.len; i++)
        if (!((s.p[i] >= '0' && s.p[i] <= '9') || (s.p[i] >= 'a' && s.p[i] <= 'f'))) return 0;
    return 1;
}

static int validHostname(slice s) {
    if (s.len > 255) return 0;
    for (size_t i = 0; i < s.len; i++) {
        char ch = s.p[i];
        if (!((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') || ch == '-' ||
              ch == '.'))
            return 0;
    }
    return 1;
}

static int validIp(slice s) {
    char buf[64];
    unsigned char addr[16];
    if (s.len == 0 || s.len >= sizeof(buf)) return 0;
    memcpy(buf, s.p, s.len);
    buf[s.len] = '\0';
    return inet_pton(AF_INET, buf, addr) == 1 || inet_pton(AF_INET6, buf, addr) == 1;
}

int clusterCheckAnnounceIp(const char *v, char *err, size_t errlen) {
    if (!v || !*v || validIp((slice){v, strlen(v)})) return 0;
    snprintf(err, errlen, "cluster-announce-ip must be an IPv4 or IPv6 address");
    return -1;
}

int clusterCheckAnnounceHostname(const char *v, char *err, size_t errlen) {
    if (!v || validHostname((slice){v, strlen(v)})) return 0;
    snprintf(err, errlen, "Hostnames must be less than 256 characters and only contain alphanumeric characters, '-' or '.'");
    return -1;
}

static int parsePort(slice s, int min, int *out) {
    long long v;
    if (!string2ll(s.p, s.len, &v) || v < min || v > 65535) return 0;
    *out = (int)v;
    return 1;
}

/* "0-5460,5461,6000-6001" into owner[] for node idx. "-" is no slot. */
static int parseRanges(clusterMap *m, slice s, int idx, char *err, size_t errlen) {
    if (s.len == 1 && s.p[0] == '-') return 0;
    size_t i = 0;
    while (i <= s.len) {
        size_t j = i;
        while (j < s.len && s.p[j] != ',') j++;
        slice r = {s.p + i, j - i};
        const char *dash = memchr(r.p, '-', r.len);
        long long a, b;
        int ok;
        if (dash) {
            ok = string2ll(r.p, (size_t)(dash - r.p), &a) &&
                 string2ll(dash + 1, r.len - (size_t)(dash - r.p) - 1, &b);
        } else {
            ok = string2ll(r.p, r.len, &a);
            b = a;
        }
        if (!ok || a < 0 || b >= CLUSTER_SLOTS || a > b) {
            snprintf(err, errlen, "-ERR invalid slot range '%.*s' for node %s", (int)(r.len > 64 ? 64 : r.len),
                     r.p, m->nodes[idx].id);
            return -1;
        }
        for (long long k = a; k <= b; k++) {
            if (m->owner[k] != -1) {
                snprintf(err, errlen, "-ERR slot %lld is assigned to both %s and %s", k, m->nodes[m->owner[k]].id,
                         m->nodes[idx].id);
                return -1;
            }
            m->owner[k] = (int16_t)idx;
        }
        i = j + 1;
    }
    return 0;
}

#define NODE_SPEC_ARGS 8 /* NODE <id> <ip> <port> <tls-port> <hostname> PRIMARY|REPLICA <slots>|<primary-id> */

/* Builds *m from "<epoch> NODE ..." without touching the live map. */
static int parseTopology(const slice *argv, int argc, clusterMap *m, char *err, size_t errlen) {
    memset(m, 0, sizeof(*m));
    m->myself = -1;
    for (int s = 0; s < CLUSTER_SLOTS; s++) m->owner[s] = -1;
    long long epoch;
    if (argc < 1 || !string2ll(argv[0].p, argv[0].len, &epoch) || epoch < 0) {
        snprintf(err, errlen, "-ERR invalid epoch: it must be an integer >= 0");
        return -1;
    }
    m->epoch = (unsigned long long)epoch;
    if (argc == 1 || (argc - 1) % NODE_SPEC_ARGS != 0) {
        snprintf(err, errlen, "-ERR syntax error: each node is NODE <id> <ip> <port> <tls-port> <hostname> "
                              "PRIMARY <slot-ranges>|REPLICA <primary-id>");
        return -1;
    }
    int n = (argc - 1) / NODE_SPEC_ARGS;
    if (n > CLUSTER_MAX_NODES) {
        snprintf(err, errlen, "-ERR too many nodes (at most %d)", CLUSTER_MAX_NODES);
        return -1;
    }
    m->nodes = memCalloc(sizeof(clusterNode) * (size_t)n);
    for (int i = 0; i < n; i++) {
        const slice *a = argv + 1 + i * NODE_SPEC_ARGS;
        clusterNode *nd = &m->nodes[i];
        m->nnodes = i + 1;
        nd->ip = memStrdup("");
        nd->hostname = memStrdup("");
        nd->primary = -1;
        if (!sliceEqNocase(a[0], "node")) {
            snprintf(err, errlen, "-ERR syntax error at node %d: expected NODE", i + 1);
            return -1;
        }
        if (!isHexId(a[1])) {
            snprintf(err, errlen, "-ERR invalid node id '%.*s': 40 lower-case hex characters expected",
                     (int)(a[1].len > 64 ? 64 : a[1].len), a[1].p);
            return -1;
        }
        memcpy(nd->id, a[1].p, CLUSTER_NAMELEN);
        for (int j = 0; j < i; j++) {
            if (!memcmp(m->nodes[j].id, nd->id, CLUSTER_NAMELEN)) {
                snprintf(err, errlen, "-ERR node %s appears twice", nd->id);
                return -1;
            }
        }
        if (!validIp(a[2])) {
            snprintf(err, errlen, "-ERR invalid ip '%.*s' for node %s", (int)(a[2].len > 64 ? 64 : a[2].len), a[2].p,
                     nd->id);
            return -1;
        }
        memFree(nd->ip);
        nd->ip = memDupBytes(a[2].p, a[2].len);
        if (!parsePort(a[3], 1, &nd->port) || !parsePort(a[4], 0, &nd->tlsPort)) {
            snprintf(err, errlen, "-ERR invalid port for node %s", nd->id);
            return -1;
        }
        slice h = a[5];
        if (h.len == 1 && h.p[0] == '-') h.len = 0;
        if (!validHostname(h)) {
            snprintf(err, errlen, "-ERR invalid hostname for node %s", nd->id);
            return -1;
        }
        memFree(nd->hostname);
        nd->hostname = memDupBytes(h.p, h.len);
        if (!memcmp(nd->id, myId, CLUSTER_NAMELEN)) m->myself = i;
        if (sliceEqNocase(a[6], "primary")) {
            nd->isPrimary = 1;
            memcpy(nd->shardId, nd->id, sizeof(nd->shardId));
            if (parseRanges(m, a[7], i, err, errlen) == -1) return -1;
        } else if (sliceEqNocase(a[6], "replica")) {
            nd->isPrimary = 0;
            if (!isHexId(a[7])) {
                snprintf(err, errlen, "-ERR invalid primary id for replica %s", nd->id);
                return -1;
            }
        } else {
            snprintf(err, errlen, "-ERR invalid role for node %s: PRIMARY or REPLICA expected", nd->id);
            return -1;
        }
    }
    /* Replicas name their primary by id: resolved once every node is known. */
    for (int i = 0; i < n; i++) {
        if (m->nodes[i].isPrimary) continue;
        const slice *a = argv + 1 + i * NODE_SPEC_ARGS;
        for (int j = 0; j < n; j++)
            if (!memcmp(m->nodes[j].id, a[7].p, CLUSTER_NAMELEN)) m->nodes[i].primary = j;
        int p = m->nodes[i].primary;
        if (p < 0 || !m->nodes[p].isPrimary) {
            snprintf(err, errlen, "-ERR replica %s names %.40s as its primary, which is not a primary of this map",
                     m->nodes[i].id, a[7].p);
            return -1;
        }
        memcpy(m->nodes[i].shardId, m->nodes[p].id, sizeof(m->nodes[i].shardId));
    }
    if (m->myself < 0) {
        snprintf(err, errlen, "-ERR the map does not include this node (%s)", myId);
        return -1;
    }
    return 0;
}

/* ---- cluster-config-file ------------------------------------------------ */

/* The file holds this node's id and the map in SETTOPOLOGY's own syntax, so
 * loading goes through the same validation as the command:
 *     cachet-cluster 1
 *     myid <id>
 *     topology <epoch> NODE <id> <ip> <port> <tls-port> <hostname|-> ...
 * An empty map is written as "topology <epoch>" alone. */
static char *mapSerialize(const clusterMap *m, size_t *len) {
    textBuf b = {0};
    textAppend(&b, "cachet-cluster 1\nmyid %s\ntopology %llu", myId, m->epoch);
    int empty = m->nnodes == 1 && m->nodes[0].ip[0] == '\0'; /* the unannounced map of a fresh node */
    for (int i = 0; i < m->nnodes && !empty; i++) {
        const clusterNode *n = &m->nodes[i];
        textAppend(&b, " NODE %s %s %d %d %s ", n->id, n->ip, n->port, n->tlsPort, n->hostname[0] ? n->hostname : "-");
        if (!n->isPrimary) {
            textAppend(&b, "REPLICA %s", m->nodes[n->primary].id);
            continue;
        }
        textAppend(&b, "PRIMARY ");
        int any = 0;
        for (int s = 0; s < CLUSTER_SLOTS; s++) {
            if (m->owner[s] != i) continue;
            int e = s;
            while (e + 1 < CLUSTER_SLOTS && m->owner[e + 1] == i) e++;
            if (e == s) textAppend(&b, "%s%d", any ? "," : "", s);
            else textAppend(&b, "%s%d-%d", any ? "," : "", s, e);
            any = 1;
            s = e;
        }
        if (!any) textAppend(&b, "-");
    }
    textAppend(&b, "\n");
    *len = b.len;
    return b.p;
}

static int saveConfig(const clusterMap *m, char *err, size_t errlen) {
    size_t len;
    char *content = mapSerialize(m, &len);
    size_t plen = strlen(srv.clusterConfigFile);
    char *tmp = memAlloc(plen + 32);
    snprintf(tmp, plen + 32, "%s.tmp-%d", srv.clusterConfigFile, (int)getpid());
    int e = 0;
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (fd == -1) e = errno;
    if (!e && (fdWriteAll(fd, content, len) == -1 || fsync(fd) == -1)) e = errno;
    if (fd != -1 && close(fd) == -1 && !e) e = errno;
    /* Test aid (hidden config): a window in which the temp file is complete
     * but not yet renamed, for a kill -9 mid-write. */
    if (!e && srv.clusterConfigSaveDelay > 0) usleep((useconds_t)srv.clusterConfigSaveDelay * 1000);
    if (!e && rename(tmp, srv.clusterConfigFile) == -1) e = errno;
    memFree(content);
    if (e) {
        unlink(tmp);
        memFree(tmp);
        snprintf(err, errlen, "-ERR can't save the cluster config file %s: %s", srv.clusterConfigFile, strerror(e));
        return -1;
    }
    memFree(tmp);
    char *dir = memStrdup(srv.clusterConfigFile);
    char *slash = strrchr(dir, '/');
    const char *d = ".";
    if (slash) {
        slash[slash == dir ? 1 : 0] = '\0';
        d = dir;
    }
    int dfd = open(d, O_RDONLY | O_DIRECTORY);
    if (dfd != -1) {
        fsync(dfd);
        close(dfd);
    }
    memFree(dir);
    return 0;
}

/* Splits a line into slices on spaces (the file is written by us: no quoting). */
static int splitSpaces(char *line, slice *out, int max) {
    int n = 0;
    char *p = line;
    while (*p) {
        while (*p == ' ') p++;
        if (!*p) break;
        char *s = p;
        while (*p && *p != ' ') p++;
        if (n == max) return -1;
        out[n].p = s;
        out[n].len = (size_t)(p - s);
        n++;
    }
    return n;
}

static int loadConfig(FILE *fp, char *err, size_t errlen) {
    char *buf = NULL;
    size_t len = 0, cap = 0;
    int c;
    while ((c = fgetc(fp)) != EOF) {
        if (len + 1 >= cap) {
            cap = cap ? cap * 2 : 4096;
            buf = memRealloc(buf, cap);
        }
        buf[len++] = (char)c;
    }
    if (!buf) {
        snprintf(err, errlen, "the cluster config file %s is empty", srv.clusterConfigFile);
        return -1;
    }
    buf[len] = '\0';
    int rc = -1;
    char *l1 = buf, *l2 = strchr(l1, '\n');
    char *l3 = l2 ? strchr(l2 + 1, '\n') : NULL;
    char *end = l3 ? strchr(l3 + 1, '\n') : NULL;
    if (!l2 || !l3 || !end || strncmp(l1, "cachet-cluster 1\n", 17) || strncmp(l2 + 1, "myid ", 5) ||
        strncmp(l3 + 1, "topology ", 9)) {
        snprintf(err, errlen, "the cluster config file %s is not a Cachet cluster file (or is truncated)",
                 srv.clusterConfigFile);
        goto done;
    }
    *l3 = '\0';
    *end = '\0';
    slice id = {l2 + 6, strlen(l2 + 6)};
    if (!isHexId(id)) {
        snprintf(err, errlen, "bad node id in the cluster config file %s", srv.clusterConfigFile);
        goto done;
    }
    memcpy(myId, id.p, CLUSTER_NAMELEN);
    myId[CLUSTER_NAMELEN] = '\0';
    int maxArgs = 2 + CLUSTER_MAX_NODES * NODE_SPEC_ARGS;
    slice *argv = memAlloc(sizeof(slice) * (size_t)maxArgs);
    int argc = splitSpaces(l3 + 10, argv, maxArgs);
    clusterMap m;
    char perr[256];
    if (argc == 1) {
        long long epoch;
        if (!string2ll(argv[0].p, argv[0].len, &epoch) || epoch < 0) {
            snprintf(err, errlen, "bad epoch in the cluster config file %s", srv.clusterConfigFile);
        } else {
            mapInitEmpty(&map, (unsigned long long)epoch);
            mapChanged();
            rc = 0;
        }
    } else if (argc < 1 || parseTopology(argv, argc, &m, perr, sizeof(perr)) == -1) {
        if (argc >= 1) mapFree(&m);
        snprintf(err, errlen, "the cluster config file %s holds a bad map: %s", srv.clusterConfigFile,
                 argc < 1 ? "no topology" : perr + 5);
    } else {
        map = m;
        mapChanged();
        rc = 0;
    }
    memFree(argv);
done:
    memFree(buf);
    return rc;
}

int clusterInit(char *err, size_t errlen) {
    if (!srv.clusterEnabled) return 0;
    migrationsClear();
    FILE *fp = fopen(srv.clusterConfigFile, "r");
    if (fp) {
        int rc = loadConfig(fp, err, errlen);
        fclose(fp);
        if (rc == 0) logNotice("Cluster config file %s loaded: node %s, epoch %llu, %d nodes", srv.clusterConfigFile,
                               myId, map.epoch, map.nnodes);
        return rc;
    }
    if (errno != ENOENT) {
        snprintf(err, errlen, "can't open the cluster config file %s: %s", srv.clusterConfigFile, strerror(errno));
        return -1;
    }
    if (randomHex(myId, CLUSTER_NAMELEN) == -1) {
        snprintf(err, errlen, "no random bytes for the node id");
        return -1;
    }
    myId[CLUSTER_NAMELEN] = '\0';
    mapInitEmpty(&map, 0);
    mapChanged();
    char serr[512];
    if (saveConfig(&map, serr, sizeof(serr)) == -1) {
        snprintf(err, errlen, "%s", serr + 5);
        return -1;
    }
    logNotice("No cluster configuration found, I'm %s", myId);
    return 0;
}

static int findById(const clusterMap *m, const char *id) {
    for (int i = 0; i < m->nnodes; i++)
        if (!memcmp(m->nodes[i].id, id, CLUSTER_NAMELEN)) return i;
    return -1;
}

/* A migration survives a new map while it still makes sense there: we still
 * own a slot we migrate (to a primary the map knows), we still do not own a
 * slot we import (from a node the map knows). */
static void remapMigrations(const clusterMap *m) {
    for (int s = 0; s < CLUSTER_SLOTS; s++) {
        if (migratingTo[s] >= 0) {
            int t = findById(m, map.nodes[migratingTo[s]].id);
            migratingTo[s] = (int16_t)((t >= 0 && t != m->myself && m->nodes[t].isPrimary && m->owner[s] == m->myself) ? t : -1);
        }
        if (importingFrom[s] >= 0) {
            int f = findById(m, map.nodes[importingFrom[s]].id);
            importingFrom[s] = (int16_t)((f >= 0 && f != m->myself && m->owner[s] != m->myself) ? f : -1);
        }
    }
}

int clusterSlotMigratingTo(int slot) { return migratingTo[slot]; }
int clusterSlotImportingFrom(int slot) { return importingFrom[slot]; }

int clusterSetSlot(int slot, const char *action, slice id, char *err, size_t errlen) {
    clusterNode *me = &map.nodes[map.myself];
    if (!me->isPrimary) {
        snprintf(err, errlen, "-ERR Please use SETSLOT only with masters.");
        return -1;
    }
    if (!strcmp(action, "stable")) {
        migratingTo[slot] = importingFrom[slot] = -1;
        plainSlotsRefresh();
        return 0;
    }
    int n = -1;
    for (int i = 0; i < map.nnodes; i++)
        if (id.len == CLUSTER_NAMELEN && !memcmp(map.nodes[i].id, id.p, CLUSTER_NAMELEN)) n = i;
    int idlen = (int)(id.len > 64 ? 64 : id.len);
    if (!strcmp(action, "migrating") || !strcmp(action, "importing")) {
        int migrating = action[0] == 'm';
        if ((map.owner[slot] == map.myself) != migrating) {
            snprintf(err, errlen, migrating ? "-ERR I'm not the owner of hash slot %d"
                                            : "-ERR I'm already the owner of hash slot %d", slot);
            return -1;
        }
        if (n < 0) {
            snprintf(err, errlen, "-ERR I don't know about node %.*s", idlen, id.p);
            return -1;
        }
        if (!map.nodes[n].isPrimary) {
            snprintf(err, errlen, "-ERR Target node is not a master");
            return -1;
        }
        if (migrating) migratingTo[slot] = (int16_t)n;
        else importingFrom[slot] = (int16_t)n;
        plainSlotsRefresh();
        return 0;
    }
    /* NODE: the local step that ends a migration; the control plane then
     * pushes the map that says so, under a new epoch. */
    if (n < 0) {
        snprintf(err, errlen, "-ERR Unknown node %.*s", idlen, id.p);
        return -1;
    }
    if (!map.nodes[n].isPrimary) {
        snprintf(err, errlen, "-ERR Target node is not a master");
        return -1;
    }
    if (map.owner[slot] == map.myself && n != map.myself && dbSlotCount(&srv.db[0], (unsigned)slot) != 0) {
        snprintf(err, errlen,
                 "-ERR Can't assign hashslot %d to a different node while I still hold keys for this hash slot.", slot);
        return -1;
    }
    int16_t prev = map.owner[slot];
    map.owner[slot] = (int16_t)n;
    if (saveConfig(&map, err, errlen) == -1) {
        map.owner[slot] = prev;
        return -1;
    }
    mapChanged();
    if (n != map.myself) migratingTo[slot] = -1;
    if (n == map.myself) importingFrom[slot] = -1;
    plainSlotsRefresh();
    if (prev == map.myself && n != map.myself) {
        char *lost = memCalloc(CLUSTER_SLOTS);
        lost[slot] = 1;
        pubsubShardUnsubscribeWhere(channelInSlots, lost);
        memFree(lost);
    }
    clusterRedirectBlockedClients();
    return 0;
}

static int channelInSlots(const char *ch, size_t len, void *priv) {
    return ((const char *)priv)[clusterKeySlot(ch, len)];
}

/* Shard channels are served where a slot's data is: its primary and the
 * primary's replicas. */
static int servesSlot(const clusterMap *m, int s) {
    int o = m->owner[s];
    return o >= 0 && (o == m->myself || o == m->nodes[m->myself].primary);
}

/* The slots this node serves in old and not in now (memAlloc'd flags), or
 * NULL when none. */
static char *lostSlots(const clusterMap *old, const clusterMap *now) {
    char *lost = NULL;
    for (int s = 0; s < CLUSTER_SLOTS; s++) {
        if (!servesSlot(old, s) || servesSlot(now, s)) continue;
        if (!lost) lost = memCalloc(CLUSTER_SLOTS);
        lost[s] = 1;
    }
    return lost;
}

/* Redis' delKeysInSlot: a primary that a newer map takes a slot from drops
 * its keys of that slot (nobody could reach them any more, and keeping
 * them would resurrect stale data if the slot ever came back). Each goes
 * down the replication stream as a DEL (UNLINK under
 * lazyfree-lazy-server-del), as Redis 7.0 propagates them, so replicas
 * stay the primary's copy. The slot's entries are listed first, then
 * deleted one by one: a delete frees only its own entry (waking blocked
 * clients and WATCH only marks them), so the others stay valid. Returns
 * the keys deleted. */
static long long delKeysInSlot(int slot) {
    cdb *db = &srv.db[0];
    size_t have = (size_t)dbSlotCount(db, (unsigned)slot);
    if (have == 0) return 0;
    dbEntry **es = memAlloc(sizeof(dbEntry *) * have);
    size_t got = dbSlotKeys(db, (unsigned)slot, es, have);
    long long n = 0;
    for (size_t i = 0; i < got; i++) {
        char buf[256];
        size_t len = es[i]->keylen;
        char *key = len <= sizeof(buf) ? buf : memAlloc(len);
        memcpy(key, es[i]->key, len); /* the entry is freed by the delete */
        int gone = dbDelete(db, key, len); /* also touches WATCH and stream waiters */
        if (gone) propDeletion(db, key, len, srv.lazyfreeLazyServerDel);
        if (key != buf) memFree(key);
        if (!gone) continue;
        srv.dirty++;
        n++;
    }
    memFree(es);
    return n;
}

int clusterSetTopology(const slice *argv, int argc, char *err, size_t errlen) {
    clusterMap m;
    if (parseTopology(argv, argc, &m, err, errlen) == -1) {
        mapFree(&m);
        return -1;
    }
    if (m.epoch < map.epoch) {
        snprintf(err, errlen, "-ERR stale topology: epoch %llu is lower than the current epoch %llu", m.epoch,
                 map.epoch);
        mapFree(&m);
        return -1;
    }
    if (saveConfig(&m, err, errlen) == -1) {
        mapFree(&m);
        return -1;
    }
    remapMigrations(&m);
    char *lost = lostSlots(&map, &m);
    /* Slots this primary owned, with keys, that the new map gives away.
     * During a resharding SETSLOT NODE (refused while the slot holds keys)
     * has already moved the slot, so a map confirming a finished move finds
     * nothing here; only keys a migration left behind, or a slot taken by
     * force, are dropped. Not on a node that the new map makes a replica,
     * or that already follows a primary (a failover: its data is that
     * primary's, as Redis turns such a node into a replica instead). */
    char *dirty = NULL;
    int deletes = m.nodes[m.myself].isPrimary && !replIsReplica();
    for (int s = 0; s < CLUSTER_SLOTS && deletes; s++) {
        if (map.owner[s] != map.myself || m.owner[s] == m.myself || dbSlotCount(&srv.db[0], (unsigned)s) == 0)
            continue;
        if (!dirty) dirty = memCalloc(CLUSTER_SLOTS);
        dirty[s] = 1;
    }
    mapFree(&map);
    map = m;
    mapChanged();
    if (lost) pubsubShardUnsubscribeWhere(channelInSlots, lost);
    memFree(lost);
    logNotice("Cluster topology applied: epoch %llu, %d nodes", map.epoch, map.nnodes);
    for (int s = 0; dirty && s < CLUSTER_SLOTS; s++) {
        if (!dirty[s]) continue;
        long long n = delKeysInSlot(s);
        logWarning("Slot %d was assigned to another node by the map of epoch %llu: deleted the %lld keys I had in it",
                   s, map.epoch, n);
    }
    memFree(dirty);
    clusterRedirectBlockedClients();
    return 0;
}

int clusterReset(int hard, char *err, size_t errlen) {
    char oldId[sizeof(myId)];
    memcpy(oldId, myId, sizeof(myId));
    if (hard && randomHex(myId, CLUSTER_NAMELEN) == -1) {
        snprintf(err, errlen, "-ERR no random bytes for a new node id");
        return -1;
    }
    clusterMap m;
    migrationsClear();
    mapInitEmpty(&m, hard ? 0 : map.epoch);
    if (saveConfig(&m, err, errlen) == -1) {
        memcpy(myId, oldId, sizeof(myId));
        mapFree(&m);
        return -1;
    }
    mapFree(&map);
    map = m;
    mapChanged();
    clusterRedirectBlockedClients(); /* no slot left: the cluster is down */
    return 0;
}

/* ---- endpoints ---------------------------------------------------------- */

const char *clusterNodeEndpoint(const clusterNode *n) {
    switch (srv.clusterPreferredEndpointType) {
    case CLUSTER_ENDPOINT_IP: return n->ip;
    case CLUSTER_ENDPOINT_HOSTNAME: return n->hostname[0] ? n->hostname : "?";
    default: return "?";
    }
}

/* ---- the dispatch's check -------------------------------------------------- */

/* Folds the keys of one call into *slot; 0, or -1 on a cross-slot call. */
static int foldKeys(const cmdDef *cmd, const slice *argv, int argc, int *slot) {
    cmdKeyIter it;
    cmdKeysInit(&it, cmd, argv, argc);
    for (int k; (k = cmdKeysNext(&it)) != -1;) {
        int s = (int)clusterKeySlot(argv[k].p, argv[k].len);
        if (*slot == -1) *slot = s;
        else if (*slot != s) return -1;
    }
    return 0;
}

static int isReadOnlyCall(const cmdDef *cmd) {
    return (cmd->flags & CMD_READONLY) && !(cmd->flags & CMD_WRITE);
}

/* Keys of one call that this node has (expired ones count as missing, and
 * nothing is expired here: the check must not write). */
static void countPresent(const cmdDef *cmd, const slice *argv, int argc, int *missing, int *existing) {
    cmdKeyIter it;
    cmdKeysInit(&it, cmd, argv, argc);
    for (int k; (k = cmdKeysNext(&it)) != -1;) {
        const dbEntry *e = (const dbEntry *)kvsFind(&srv.db[0].keys, argv[k].p, argv[k].len);
        if (e && (!e->expire || e->expire > srv.mstime)) (*existing)++;
        else (*missing)++;
    }
}

/* Everything past the common case: multi-key calls, EXEC, and slots that
 * are not plainly ours (redirections, migrations, a cluster down). */
static int checkSlow(client *c, cmdDef *cmd, int isExec, int asking, char *err, size_t errlen) {
    int slot = -1, readOnly = 1, write = 0, shardPubsub = 0, missing = 0, existing = 0;
    if (isExec) {
        if (!(c->flags & CLIENT_MULTI)) return 0; /* EXEC without MULTI answers its own error */
        for (int i = 0; i < c->mcount; i++) {
            multiCmd *q = &c->mstate[i];
            if (foldKeys(q->cmd, q->argv, q->argc, &slot) == -1) goto crossslot;
            if (!isReadOnlyCall(q->cmd)) readOnly = 0;
            if (q->cmd->flags & CMD_WRITE) write = 1;
        }
    } else {
        if (foldKeys(cmd, c->argv, c->argc, &slot) == -1) goto crossslot;
        readOnly = isReadOnlyCall(cmd);
        write = (cmd->flags & CMD_WRITE) != 0;
        shardPubsub = (cmd->flags & CMD_PUBSUB) != 0; /* keyed pub/sub: the sharded commands (not in EXEC, as 7.0) */
    }
    if (slot == -1) return 0; /* no key after all (EVAL with 0 keys) */
    if (plainSlot(slot) && clusterStateOk()) return 0; /* as the code below would decide */
    int owner = map.owner[slot];
    if (owner < 0) {
        snprintf(err, errlen, "-CLUSTERDOWN Hash slot not served");
        return -1;
    }
    /* Down (Redis 7.0's getNodeByQuery): SPUBLISH/SSUBSCRIBE/SUNSUBSCRIBE
     * go on while cluster-allow-pubsubshard-when-down (default yes);
     * anything else is refused, or with
     * cluster-allow-reads-when-down only writes (CLUSTER_REDIR_DOWN_RO_STATE).
     * What goes on meets the usual checks (MOVED for another node's slot). */
    if (!clusterStateOk()) {
        const char *down = NULL;
        if (shardPubsub) {
            if (!srv.clusterAllowPubsubshardWhenDown) down = "-CLUSTERDOWN The cluster is down";
        } else if (!srv.clusterAllowReadsWhenDown) {
            down = "-CLUSTERDOWN The cluster is down";
        } else if (write) {
            down = "-CLUSTERDOWN The cluster is down and only accepts read commands";
        }
        if (down) {
            snprintf(err, errlen, "%s", down);
            return -1;
        }
    }
    int migrating = owner == map.myself && migratingTo[slot] >= 0;
    int importing = importingFrom[slot] >= 0;
    if (migrating || importing) {
        if (isExec) {
            for (int i = 0; i < c->mcount; i++)
                countPresent(c->mstate[i].cmd, c->mstate[i].argv, c->mstate[i].argc, &missing, &existing);
        } else {
            countPresent(cmd, c->argv, c->argc, &missing, &existing);
        }
    }
    /* MIGRATE runs here while the slot is open, whatever keys are left
     * (Redis: keys must move freely between the two nodes). */
    if ((migrating || importing) && migrateIsMigrateCommand(cmd)) return 0;
    /* A slot on its way out: keys already gone are asked for at the target;
     * a call that has some keys here and some there must wait. */
    if (migrating && missing) {
        if (existing) goto tryagain;
        const clusterNode *t = &map.nodes[migratingTo[slot]];
        snprintf(err, errlen, "-ASK %d %s:%d", slot, clusterNodeEndpoint(t), t->port);
        return -1;
    }
    if (importing && (asking || (cmd->flags & CMD_ASKING))) {
        if (missing && missing + existing > 1) goto tryagain;
        return 0;
    }
    if (owner == map.myself) return 0;
    const clusterNode *me = &map.nodes[map.myself];
    if (!me->isPrimary && me->primary == owner && readOnly && (c->flags & CLIENT_READONLY)) return 0;
    const clusterNode *n = &map.nodes[owner];
    snprintf(err, errlen, "-MOVED %d %s:%d", slot, clusterNodeEndpoint(n), n->port);
    return -1;
crossslot:
    snprintf(err, errlen, "-CROSSSLOT Keys in request don't hash to the same slot");
    return -1;
tryagain:
    snprintf(err, errlen, "-TRYAGAIN Multiple keys request during rehashing of slot");
    return -1;
}

/* Before the command is even looked up: most commands with a second
 * argument have their key there (GET, SET, ...), so its slot's head is
 * fetched while the lookup, ACL and the checks run. A wrong guess costs a
 * CRC16 and a hash. */
void clusterPrefetch(client *c) {
    if (c->argc >= 2 && !(c->flags & CLIENT_MASTER)) kvsPrefetchHead(&srv.db[0].keys, c->argv[1].p, c->argv[1].len);
}

int clusterCheckCommand(client *c, cmdDef *cmd, char *err, size_t errlen) {
    if (!srv.clusterEnabled || (c->flags & (CLIENT_MASTER | CLIENT_SCRIPT))) return 0;
    /* ASKING holds for the next command only (for a transaction: to its end). */
    int asking = (c->flags & CLIENT_ASKING) != 0;
    int isExec = !cmd->parent && cmd->name[0] == 'e' && !strcmp(cmd->name, "exec");
    c->flags &= ~CLIENT_ASKING_NOW;
    if (asking) c->flags |= CLIENT_ASKING_NOW;
    if (!(c->flags & CLIENT_MULTI) && cmd->proc != clusterAskingProc &&
        (cmd->parent || cmd->name[0] != 'm' || strcmp(cmd->name, "multi")))
        c->flags &= ~CLIENT_ASKING;
    if (isExec) return checkSlow(c, cmd, 1, asking, err, errlen);
    if (cmd->firstKey <= 0 && cmd->numkeysIdx <= 0) return 0; /* keyless: runs here */
    /* The common case, GET or SET in a slot served here: one key, whose
     * slot is computed without the key iterator and checked in the bitmap. */
    if (cmd->firstKey == cmd->lastKey && !cmd->numkeysIdx && !cmd->streamsKeys && cmd->firstKey < c->argc) {
        const slice *k = &c->argv[cmd->firstKey];
        unsigned slot = kvsSlotOf(&srv.db[0].keys, k->p, k->len); /* memoised by clusterPrefetch */
        if (plainSlot((int)slot) && clusterStateOk()) {
            kvsPrefetchBucket(&srv.db[0].keys, k->p, k->len); /* the lookup comes after the checks that follow */
            return 0;
        }
    }
    return checkSlow(c, cmd, 0, asking, err, errlen);
}

int clusterCallerSlot(client *caller) {
    int slot = -1;
    if (!srv.clusterEnabled || !caller->cmd) return -1;
    if (foldKeys(caller->cmd, caller->argv, caller->argc, &slot) == -1) return -1;
    return slot;
}

int clusterCheckScriptCall(client *caller, cmdDef *cmd, const slice *argv, int argc, int *scriptSlot,
                           int allowCrossSlot, char *err, size_t errlen) {
    if (!srv.clusterEnabled || (caller->flags & CLIENT_MASTER)) return 0;
    int slot = -1;
    int ok = foldKeys(cmd, argv, argc, &slot) == 0;
    if (ok && slot != -1) {
        int owner = map.owner[slot];
        if (owner >= 0 && !clusterStateOk() && (!srv.clusterAllowReadsWhenDown || (cmd->flags & CMD_WRITE))) {
            snprintf(err, errlen, srv.clusterAllowReadsWhenDown
                                      ? "Script attempted to execute a write command while the cluster is down and readonly"
                                      : "Script attempted to execute a command while the cluster is down");
            return -1;
        }
        const clusterNode *me = &map.nodes[map.myself];
        int missing = 0, existing = 0;
        if (owner == map.myself && migratingTo[slot] >= 0) countPresent(cmd, argv, argc, &missing, &existing);
        ok = (owner == map.myself && !missing) ||
             (importingFrom[slot] >= 0 && (caller->flags & (CLIENT_ASKING | CLIENT_ASKING_NOW))) ||
             (owner >= 0 && !me->isPrimary && me->primary == owner && isReadOnlyCall(cmd) &&
              (caller->flags & CLIENT_READONLY));
    }
    if (!ok) {
        snprintf(err, errlen, "Script attempted to access a non local key in a cluster node");
        return -1;
    }
    if (slot != -1 && !allowCrossSlot) {
        if (*scriptSlot == -1) {
            *scriptSlot = slot;
        } else if (*scriptSlot != slot) {
            snprintf(err, errlen, "Script attempted to access keys that do not hash to the same slot");
            return -1;
        }
    }
    return 0;
}

/* ---- blocked clients ------------------------------------------------------ */

/* Redis 7.0's clusterRedirectBlockedClientIfNeeded: a client blocked on a
 * key (BLPOP, BLMOVE, BZPOPMIN, XREAD BLOCK, ...) whose slot this node no
 * longer serves would wait for a write that can never come here. It gets
 * the redirection its command would get now: CLUSTERDOWN while the cluster
 * is down (even for reads), "Hash slot not served" for a slot without
 * owner, else MOVED; a READONLY read on a replica of the slot's primary
 * keeps waiting, and so does a client of a slot this node imports. The
 * keys of one blocked call share a slot (the dispatch checked), so the
 * first key decides. */
static int blockedRedirect(client *c, cmdDef *cmd, const char *key, size_t len, char *err, size_t errlen) {
    if (!clusterStateOk()) {
        snprintf(err, errlen, "-CLUSTERDOWN The cluster is down");
        return 1;
    }
    int slot = (int)clusterKeySlot(key, len);
    int owner = map.owner[slot];
    const clusterNode *me = &map.nodes[map.myself];
    if ((c->flags & CLIENT_READONLY) && !(cmd->flags & CMD_WRITE) && !me->isPrimary && owner >= 0 &&
        me->primary == owner)
        owner = map.myself;
    if (owner == map.myself || importingFrom[slot] >= 0) return 0;
    if (owner < 0) {
        snprintf(err, errlen, "-CLUSTERDOWN Hash slot not served");
        return 1;
    }
    const clusterNode *n = &map.nodes[owner];
    snprintf(err, errlen, "-MOVED %d %s:%d", slot, clusterNodeEndpoint(n), n->port);
    return 1;
}

void clusterRedirectBlockedClients(void) {
    if (srv.clusterEnabled) blockRedirectWhere(blockedRedirect);
}

int clusterCoverageApply(char *err, size_t errlen) {
    (void)err;
    (void)errlen;
    clusterRedirectBlockedClients(); /* the cluster may be down now */
    return 0;
}

/* ---- CLUSTER INFO ------------------------------------------------------------ */

void clusterInfoText(textBuf *b) {
    int assigned, size;
    countSlots(&assigned, &size);
    textAppend(b,
               "cluster_state:%s\r\n"
               "cluster_slots_assigned:%d\r\n"
               "cluster_slots_ok:%d\r\n"
               "cluster_slots_pfail:0\r\n"
               "cluster_slots_fail:0\r\n"
               "cluster_known_nodes:%d\r\n"
               "cluster_size:%d\r\n"
               "cluster_current_epoch:%llu\r\n"
               "cluster_my_epoch:%llu\r\n"
               "cluster_stats_messages_sent:0\r\n"
               "cluster_stats_messages_received:0\r\n"
               "total_cluster_links_buffer_limit_exceeded:0\r\n",
               clusterStateOk() ? "ok" : "fail", assigned, assigned, map.nnodes, size, map.epoch, map.epoch);
}
