/* cachet-cluster: builds a Cachet cluster from running nodes (create:
 * roles, an even split of the slots, the map pushed at epoch 1, replicas
 * attached with REPLICAOF), adds and removes nodes (the map re-pushed under
 * epoch + 1), checks it, moves slots between its primaries and repairs a
 * move or push left half done, the way `redis-cli --cluster
 * create|add-node|del-node|check|reshard|fix` do, over the commands every
 * node speaks (CLUSTER NODES/INFO/SHARDS/SETSLOT/SETTOPOLOGY/GETKEYSINSLOT,
 * MIGRATE). docs/cluster.md describes it.
 *
 *   cachet-cluster create [--replicas N] HOST:PORT... [--tls --cacert FILE]
 *   cachet-cluster add-node NEW_HOST:PORT HOST:PORT [--tls --cacert FILE]
 *   cachet-cluster del-node HOST:PORT ID [--tls --cacert FILE]
 *   cachet-cluster check   HOST:PORT [--tls --cacert FILE]
 *   cachet-cluster reshard HOST:PORT --from ID --to ID --slots N
 *                          [--pipeline K] [--timeout MS] [--replace] [--push-map] [--tls --cacert FILE]
 *   cachet-cluster fix     HOST:PORT [--pipeline K] [--timeout MS] [--replace] [--tls --cacert FILE]
 *
 * It owns nothing but its connections (blocking sockets: it is a client
 * program, one request at a time). It must never move a slot that is not
 * the source's, delete a key (MIGRATE does, after the target has it), or
 * hide a half-done move: every step is printed; a move interrupted (the
 * tool killed) leaves the slot MIGRATING/IMPORTING, which `check` reports
 * and the next `reshard` between the same nodes finishes first. With
 * --push-map it ends by pushing the map the nodes now agree on (CLUSTER
 * SHARDS of the target) under the highest epoch + 1 (CLUSTER SETTOPOLOGY);
 * without it that is left to the control plane. A push that stopped half
 * way is finished by `fix`, not by the same reshard (that would move N more
 * slots): it finishes open slots, then pushes the map the primaries agree
 * on (each slot to the primary whose own line shows it) to the nodes that
 * do not hold it, under the epoch create's resume would choose.
 * Exit codes: 0 done / cluster fine, 1 the cluster has a problem or a step
 * failed, 2 usage error or a node cannot be reached. */
#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#define NSLOTS 16384
#define IDLEN 40

/* ---- a blocking RESP2 client ---------------------------------------------------- */

typedef struct reply {
    char type; /* '+', '-', ':', '$', '*'; '$' with len -1: null */
    long long integer;
    char *str;
    long long len;
    struct reply **elem;
} reply;

typedef struct rlink {
    int fd;
    SSL *ssl;
    char buf[16384];
    size_t pos, len;
    char name[300]; /* host:port */
} rlink;

static const char *tlsCa;
static int useTls;
static SSL_CTX *tlsCtx;

static void die(int code, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "[ERR] ");
    vfprintf(stderr, fmt, ap);
    fprintf(stderr, "\n");
    va_end(ap);
    exit(code);
}

static void freeReply(reply *r) {
    if (!r) return;
    if (r->type == '*')
        for (long long i = 0; i < r->len; i++) freeReply(r->elem[i]);
    free(r->elem);
    free(r->str);
    free(r);
}

static int linkFill(rlink *l) {
    ssize_t n = l->ssl ? SSL_read(l->ssl, l->buf, sizeof(l->buf)) : read(l->fd, l->buf, sizeof(l->buf));
    if (n <= 0) return -1;
    l->pos = 0;
    l->len = (size_t)n;
    return 0;
}

static int linkByte(rlink *l, char *c) {
    if (l->pos == l->len && linkFill(l) == -1) return -1;
    *c = l->buf[l->pos++];
    return 0;
}

static char *readLine(rlink *l) {
    size_t cap = 64, n = 0;
    char *s = malloc(cap), c;
    while (linkByte(l, &c) == 0) {
        if (c == '\n') {
            if (n && s[n - 1] == '\r') n--;
            s[n] = '\0';
            return s;
        }
        if (n + 2 > cap) s = realloc(s, cap *= 2);
        s[n++] = c;
    }
    free(s);
    return NULL;
}

static reply *readReply(rlink *l) {
    char *line = readLine(l);
    if (!line || !line[0]) {
        free(line);
        return NULL;
    }
    reply *r = calloc(1, sizeof(*r));
    r->type = line[0];
    if (r->type == '+' || r->type == '-') {
        r->str = strdup(line + 1);
        r->len = (long long)strlen(r->str);
    } else if (r->type == ':') {
        r->integer = strtoll(line + 1, NULL, 10);
    } else if (r->type == '$') {
        r->len = strtoll(line + 1, NULL, 10);
        if (r->len >= 0) {
            r->str = malloc((size_t)r->len + 1);
            for (long long i = 0; i < r->len + 2; i++) {
                char c;
                if (linkByte(l, &c) == -1) {
                    free(line);
                    freeReply(r);
                    return NULL;
                }
                if (i < r->len) r->str[i] = c;
            }
            r->str[r->len] = '\0';
        }
    } else if (r->type == '*') {
        r->len = strtoll(line + 1, NULL, 10);
        if (r->len > 0) r->elem = calloc((size_t)r->len, sizeof(reply *));
        for (long long i = 0; i < r->len; i++)
            if (!(r->elem[i] = readReply(l))) {
                free(line);
                freeReply(r);
                return NULL;
            }
        if (r->len < 0) r->len = 0;
    } else {
        free(line);
        freeReply(r);
        return NULL;
    }
    free(line);
    return r;
}

static int writeAll(rlink *l, const char *p, size_t len) {
    while (len) {
        ssize_t n = l->ssl ? SSL_write(l->ssl, p, (int)len) : write(l->fd, p, len);
        if (n <= 0) return -1;
        p += n;
        len -= (size_t)n;
    }
    return 0;
}

/* One request (argv of C strings), its reply or NULL when the rlink failed. */
static reply *callv(rlink *l, int argc, const char **argv) {
    size_t cap = 256, n = 0;
    char *out = malloc(cap);
    for (int i = -1; i < argc; i++) {
        size_t alen = i < 0 ? 0 : strlen(argv[i]);
        if (n + alen + 64 > cap) out = realloc(out, cap = (n + alen + 64) * 2);
        if (i < 0) {
            n += (size_t)sprintf(out + n, "*%d\r\n", argc);
        } else {
            n += (size_t)sprintf(out + n, "$%zu\r\n", alen);
            memcpy(out + n, argv[i], alen);
            n += alen;
            memcpy(out + n, "\r\n", 2);
            n += 2;
        }
    }
    int rc = writeAll(l, out, n);
    free(out);
    return rc == -1 ? NULL : readReply(l);
}

static reply *call(rlink *l, ...) {
    const char *argv[16];
    int argc = 0;
    va_list ap;
    va_start(ap, l);
    for (const char *a; argc < 16 && (a = va_arg(ap, const char *));) argv[argc++] = a;
    va_end(ap);
    return callv(l, argc, argv);
}

static int linkOpen(rlink *l, const char *host, int port) {
    memset(l, 0, sizeof(*l));
    l->fd = -1;
    snprintf(l->name, sizeof(l->name), "%s:%d", host, port);
    struct addrinfo hints = {0}, *res;
    hints.ai_socktype = SOCK_STREAM;
    char ps[16];
    snprintf(ps, sizeof(ps), "%d", port);
    if (getaddrinfo(host, ps, &hints, &res) != 0) return -1;
    for (struct addrinfo *a = res; a && l->fd == -1; a = a->ai_next) {
        int fd = socket(a->ai_family, a->ai_socktype, a->ai_protocol);
        if (fd == -1) continue;
        struct timeval tv = {30, 0};
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
        setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
        if (connect(fd, a->ai_addr, a->ai_addrlen) == 0) l->fd = fd;
        else close(fd);
    }
    freeaddrinfo(res);
    if (l->fd == -1) return -1;
    int one = 1;
    setsockopt(l->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    if (!useTls) return 0;
    l->ssl = SSL_new(tlsCtx);
    SSL_set_fd(l->ssl, l->fd);
    unsigned char bin[16];
    int isIp = inet_pton(AF_INET, host, bin) == 1 || inet_pton(AF_INET6, host, bin) == 1;
    X509_VERIFY_PARAM *vp = SSL_get0_param(l->ssl);
    if (isIp) {
        X509_VERIFY_PARAM_set1_ip_asc(vp, host);
    } else {
        SSL_set_tlsext_host_name(l->ssl, host);
        X509_VERIFY_PARAM_set1_host(vp, host, 0);
    }
    if (SSL_connect(l->ssl) != 1) {
        SSL_free(l->ssl);
        l->ssl = NULL;
        close(l->fd);
        l->fd = -1;
        return -1;
    }
    return 0;
}

static void linkClose(rlink *l) {
    if (l->ssl) {
        SSL_shutdown(l->ssl);
        SSL_free(l->ssl);
    }
    if (l->fd != -1) close(l->fd);
    l->fd = -1;
    l->ssl = NULL;
}

/* ---- the cluster as CLUSTER NODES shows it ---------------------------------- */

typedef struct node {
    char id[IDLEN + 1];
    char ip[64];
    int port;
    int primary;             /* flags say master */
    char primaryId[IDLEN + 1]; /* replicas: their primary; "-" */
    int migSlot[64];         /* slots this node migrates (shown as [s->-id]) */
    char migTo[64][IDLEN + 1];
    int nmig;
    char impFrom[64][IDLEN + 1];
    int impSlot[64];
    int nimp;
    rlink l;
    int connected;
    unsigned long long epoch;
} node;

typedef struct view {
    node *nodes;
    int n;
    int owner[NSLOTS]; /* node index, -1 */
} view;

/* Parses one node's CLUSTER NODES text into v (the node list and owners). */
static int parseNodes(const char *text, view *v) {
    memset(v, 0, sizeof(*v));
    for (int s = 0; s < NSLOTS; s++) v->owner[s] = -1;
    char *copy = strdup(text), *save = NULL;
    for (char *line = strtok_r(copy, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
        char *f[2048];
        int nf = 0;
        char *s2 = NULL;
        for (char *t = strtok_r(line, " ", &s2); t && nf < 2048; t = strtok_r(NULL, " ", &s2)) f[nf++] = t;
        if (nf < 8 || strlen(f[0]) != IDLEN) continue;
        v->nodes = realloc(v->nodes, sizeof(node) * (size_t)(v->n + 1));
        node *n = &v->nodes[v->n];
        memset(n, 0, sizeof(*n));
        n->l.fd = -1;
        memcpy(n->id, f[0], IDLEN + 1);
        char *colon = strrchr(f[1], ':');
        if (colon) {
            snprintf(n->ip, sizeof(n->ip), "%.*s", (int)(colon - f[1]), f[1]);
            n->port = atoi(colon + 1);
        }
        n->primary = strstr(f[2], "master") != NULL;
        snprintf(n->primaryId, sizeof(n->primaryId), "%s", f[3]);
        for (int i = 8; i < nf; i++) {
            char *t = f[i];
            if (t[0] == '[') {
                int slot = atoi(t + 1);
                char *arrow = strstr(t, "->-");
                char *back = strstr(t, "-<-");
                if (arrow && n->nmig < 64) {
                    snprintf(n->migTo[n->nmig], IDLEN + 1, "%.40s", arrow + 3);
                    n->migSlot[n->nmig++] = slot;
                } else if (back && n->nimp < 64) {
                    snprintf(n->impFrom[n->nimp], IDLEN + 1, "%.40s", back + 3);
                    n->impSlot[n->nimp++] = slot;
                }
                continue;
            }
            int a = atoi(t), b = a;
            char *dash = strchr(t, '-');
            if (dash) b = atoi(dash + 1);
            for (int s = a; s <= b && s >= 0 && s < NSLOTS; s++) v->owner[s] = v->n;
        }
        v->n++;
    }
    free(copy);
    return v->n ? 0 : -1;
}

static int findNode(const view *v, const char *id) {
    size_t len = strlen(id);
    int found = -1;
    for (int i = 0; i < v->n; i++)
        if (len && !strncmp(v->nodes[i].id, id, len)) {
            if (found != -1) return -2; /* ambiguous prefix */
            found = i;
        }
    return found;
}

static char *clusterNodesOf(rlink *l) {
    reply *r = call(l, "CLUSTER", "NODES", NULL);
    if (!r || r->type != '$') {
        if (r && r->type == '-') fprintf(stderr, "[ERR] %s: %s\n", l->name, r->str);
        freeReply(r);
        return NULL;
    }
    char *s = strdup(r->str);
    freeReply(r);
    return s;
}

static unsigned long long epochOf(rlink *l) {
    reply *r = call(l, "CLUSTER", "INFO", NULL);
    unsigned long long e = 0;
    if (r && r->type == '$') {
        char *p = strstr(r->str, "cluster_current_epoch:");
        if (p) e = strtoull(p + 22, NULL, 10);
    }
    freeReply(r);
    return e;
}

static void splitHostPort(const char *arg, char *host, size_t hlen, int *port) {
    const char *colon = strrchr(arg, ':');
    if (!colon) die(2, "expected HOST:PORT, got %s", arg);
    snprintf(host, hlen, "%.*s", (int)(colon - arg), arg);
    *port = atoi(colon + 1);
    if (*port <= 0 || *port > 65535) die(2, "bad port in %s", arg);
}

/* Reads the cluster through the node at hostPort, then connects to every
 * node it lists. */
static void loadView(const char *hostPort, view *v) {
    char host[256];
    int port;
    splitHostPort(hostPort, host, sizeof(host), &port);
    rlink seed;
    if (linkOpen(&seed, host, port) == -1) die(2, "cannot connect to %s", hostPort);
    char *text = clusterNodesOf(&seed);
    linkClose(&seed);
    if (!text || parseNodes(text, v) == -1) die(2, "%s: no cluster map (cluster-enabled yes?)", hostPort);
    free(text);
    for (int i = 0; i < v->n; i++) {
        node *n = &v->nodes[i];
        if (!n->ip[0]) snprintf(n->ip, sizeof(n->ip), "%.63s", host); /* an unannounced myself */
        n->connected = linkOpen(&n->l, n->ip, n->port) == 0;
        if (n->connected) n->epoch = epochOf(&n->l);
    }
}

static void viewFree(view *v) {
    for (int i = 0; i < v->n; i++) linkClose(&v->nodes[i].l);
    free(v->nodes);
    v->nodes = NULL;
    v->n = 0;
}

/* ---- check ------------------------------------------------------------------------ */

static int cmdCheck(const char *hostPort) {
    view v;
    loadView(hostPort, &v);
    int problems = 0;
    printf(">>> Performing Cluster Check (using node %s)\n", hostPort);
    for (int i = 0; i < v.n; i++) {
        node *n = &v.nodes[i];
        int slots = 0;
        for (int s = 0; s < NSLOTS; s++) slots += v.owner[s] == i;
        printf("%s: %s %s:%d slots:%d epoch:%llu%s%s\n", n->primary ? "M" : "S", n->id, n->ip, n->port, slots,
               n->epoch, n->primary ? "" : " replicates ", n->primary ? "" : n->primaryId);
        if (!n->connected) {
            printf("[ERR] Node %s:%d is not reachable.\n", n->ip, n->port);
            problems++;
        }
    }
    /* Every node must see the same owners, epoch and open slots. */
    unsigned long long epoch = 0;
    int first = 1;
    for (int i = 0; i < v.n; i++) {
        node *n = &v.nodes[i];
        if (!n->connected) continue;
        if (first) {
            epoch = n->epoch;
            first = 0;
        } else if (n->epoch != epoch) {
            printf("[ERR] Epochs differ: %s:%d has %llu, another node %llu.\n", n->ip, n->port, n->epoch, epoch);
            problems++;
        }
        char *text = clusterNodesOf(&n->l);
        view w;
        if (!text || parseNodes(text, &w) == -1) {
            printf("[ERR] Node %s:%d gives no map.\n", n->ip, n->port);
            problems++;
            free(text);
            continue;
        }
        free(text);
        int disagree = 0;
        for (int s = 0; s < NSLOTS; s++) {
            const char *a = v.owner[s] >= 0 ? v.nodes[v.owner[s]].id : "";
            const char *b = w.owner[s] >= 0 ? w.nodes[w.owner[s]].id : "";
            if (strcmp(a, b)) disagree++;
        }
        if (disagree) {
            printf("[ERR] Node %s:%d disagrees about the owner of %d slots.\n", n->ip, n->port, disagree);
            problems++;
        }
        /* Open slots are shown on each node's own line. */
        int me = findNode(&w, n->id);
        if (me >= 0) {
            node *self = &w.nodes[me];
            for (int k = 0; k < self->nmig; k++) {
                printf("[WARNING] Node %s:%d has slot %d in migrating state (to %s).\n", n->ip, n->port,
                       self->migSlot[k], self->migTo[k]);
                problems++;
            }
            for (int k = 0; k < self->nimp; k++) {
                printf("[WARNING] Node %s:%d has slot %d in importing state (from %s).\n", n->ip, n->port,
                       self->impSlot[k], self->impFrom[k]);
                problems++;
            }
        }
        free(w.nodes);
    }
    for (int i = 0; i < v.n; i++) {
        node *n = &v.nodes[i];
        if (n->primary) continue;
        int p = findNode(&v, n->primaryId);
        if (p < 0 || !v.nodes[p].primary) {
            printf("[ERR] Replica %s:%d has no primary in the map.\n", n->ip, n->port);
            problems++;
        }
    }
    int covered = 0;
    for (int s = 0; s < NSLOTS; s++) covered += v.owner[s] >= 0;
    if (covered == NSLOTS) {
        printf("[OK] All 16384 slots covered.\n");
    } else {
        printf("[ERR] Not all 16384 slots are covered by nodes (%d are).\n", covered);
        problems++;
    }
    if (!problems) printf("[OK] All nodes agree about slots configuration.\n");
    for (int i = 0; i < v.n; i++) linkClose(&v.nodes[i].l);
    free(v.nodes);
    return problems ? 1 : 0;
}

/* ---- reshard ------------------------------------------------------------------------ */

static int okReply(reply *r, const char *what, const node *n) {
    int ok = r && r->type == '+';
    if (!ok) printf("[ERR] %s on %s:%d: %s\n", what, n->ip, n->port, r ? (r->str ? r->str : "?") : "connection lost");
    freeReply(r);
    return ok;
}

/* Moves one slot's keys and ownership from src to dst; 0 or -1. */
static int moveSlot(view *v, int slot, node *src, node *dst, int pipeline, long timeout, int replace) {
    char sl[16], cnt[16], port[16], tmo[16];
    snprintf(sl, sizeof(sl), "%d", slot);
    snprintf(cnt, sizeof(cnt), "%d", pipeline);
    snprintf(port, sizeof(port), "%d", dst->port);
    snprintf(tmo, sizeof(tmo), "%ld", timeout);
    /* A run stopped between the target's SETSLOT NODE and the source's
     * leaves the target owning the slot (it refuses IMPORTING) and the
     * source MIGRATING with no key left: only the SETSLOT NODEs remain. */
    reply *imp = call(&dst->l, "CLUSTER", "SETSLOT", sl, "IMPORTING", src->id, NULL);
    if (imp && imp->type == '-' && imp->str && strstr(imp->str, "already the owner")) {
        printf("Slot %d: %s:%d already owns it\n", slot, dst->ip, dst->port);
        freeReply(imp);
    } else if (!okReply(imp, "SETSLOT IMPORTING", dst)) {
        return -1;
    }
    if (!okReply(call(&src->l, "CLUSTER", "SETSLOT", sl, "MIGRATING", dst->id, NULL), "SETSLOT MIGRATING", src))
        return -1;
    long moved = 0;
    for (;;) {
        reply *keys = call(&src->l, "CLUSTER", "GETKEYSINSLOT", sl, cnt, NULL);
        if (!keys || keys->type != '*') {
            printf("[ERR] GETKEYSINSLOT %d on %s:%d failed\n", slot, src->ip, src->port);
            freeReply(keys);
            return -1;
        }
        if (keys->len == 0) {
            freeReply(keys);
            break;
        }
        const char **argv = malloc(sizeof(char *) * (size_t)(keys->len + 10));
        int argc = 0;
        argv[argc++] = "MIGRATE";
        argv[argc++] = dst->ip;
        argv[argc++] = port;
        argv[argc++] = "";
        argv[argc++] = "0";
        argv[argc++] = tmo;
        if (replace) argv[argc++] = "REPLACE";
        argv[argc++] = "KEYS";
        for (long long i = 0; i < keys->len; i++) argv[argc++] = keys->elem[i]->str;
        reply *r = callv(&src->l, argc, argv);
        free(argv);
        if (!r || r->type == '-') {
            printf("[ERR] MIGRATE of slot %d from %s:%d to %s:%d: %s\n", slot, src->ip, src->port, dst->ip,
                   dst->port, r ? r->str : "connection lost");
            freeReply(r);
            freeReply(keys);
            return -1;
        }
        moved += (long)keys->len;
        freeReply(r);
        freeReply(keys);
    }
    /* The target first, so a client sent there by the source is served. */
    if (!okReply(call(&dst->l, "CLUSTER", "SETSLOT", sl, "NODE", dst->id, NULL), "SETSLOT NODE", dst) ||
        !okReply(call(&src->l, "CLUSTER", "SETSLOT", sl, "NODE", dst->id, NULL), "SETSLOT NODE", src))
        return -1;
    for (int i = 0; i < v->n; i++) {
        node *o = &v->nodes[i];
        if (o == src || o == dst || !o->primary || !o->connected) continue;
        okReply(call(&o->l, "CLUSTER", "SETSLOT", sl, "NODE", dst->id, NULL), "SETSLOT NODE", o);
    }
    v->owner[slot] = (int)(dst - v->nodes);
    printf("Moved slot %d from %s:%d to %s:%d (%ld keys)\n", slot, src->ip, src->port, dst->ip, dst->port, moved);
    fflush(stdout);
    return 0;
}

/* ---- the map ---------------------------------------------------------------------------- */

typedef struct strv {
    char **v;
    int n, cap;
} strv;

static void strvPush(strv *a, const char *fmt, ...) {
    if (a->n == a->cap) a->v = realloc(a->v, sizeof(char *) * (size_t)(a->cap = a->cap ? a->cap * 2 : 64));
    va_list ap;
    va_start(ap, fmt);
    if (vasprintf(&a->v[a->n], fmt, ap) < 0) die(2, "out of memory");
    va_end(ap);
    a->n++;
}

static const reply *field(const reply *map, const char *name) {
    for (long long i = 0; map && map->type == '*' && i + 1 < map->len; i += 2)
        if (map->elem[i]->str && !strcmp(map->elem[i]->str, name)) return map->elem[i + 1];
    return NULL;
}

static unsigned long long maxEpoch(view *v) {
    unsigned long long epoch = 0;
    for (int i = 0; i < v->n; i++)
        if (v->nodes[i].connected) {
            unsigned long long e = epochOf(&v->nodes[i].l);
            if (e > epoch) epoch = e;
        }
    return epoch;
}

/* Appends to a the NODE entries of the map the node at l has now (its
 * CLUSTER SHARDS, which SETSLOT NODE changed), leaving out the node
 * `skipId` (NULL: none); v (may be NULL) gives the address of a node that
 * announces none. 0 or -1. */
static int mapFromShards(view *v, rlink *l, strv *a, const char *skipId) {
    reply *shards = call(l, "CLUSTER", "SHARDS", NULL);
    if (!shards || shards->type != '*') {
        printf("[ERR] CLUSTER SHARDS on %s failed\n", l->name);
        freeReply(shards);
        return -1;
    }
    for (long long i = 0; i < shards->len; i++) {
        const reply *slots = field(shards->elem[i], "slots"), *nodes = field(shards->elem[i], "nodes");
        if (!slots || !nodes || nodes->type != '*' || nodes->len < 1) continue;
        char *ranges = strdup("");
        for (long long k = 0; slots->type == '*' && k + 1 < slots->len; k += 2) {
            char *next;
            long long a0 = slots->elem[k]->integer, b0 = slots->elem[k + 1]->integer;
            if (asprintf(&next, "%s%s%lld", ranges, ranges[0] ? "," : "", a0) < 0) die(2, "out of memory");
            free(ranges);
            ranges = next;
            if (b0 != a0) {
                if (asprintf(&next, "%s-%lld", ranges, b0) < 0) die(2, "out of memory");
                free(ranges);
                ranges = next;
            }
        }
        const char *primaryId = NULL;
        for (long long k = 0; k < nodes->len; k++) {
            const reply *nd = nodes->elem[k], *id = field(nd, "id"), *ip = field(nd, "ip"), *port = field(nd, "port"),
                        *tls = field(nd, "tls-port"), *host = field(nd, "hostname"), *role = field(nd, "role");
            if (!id || !port || !role) continue;
            if (!strcmp(role->str, "master")) primaryId = id->str;
            if (skipId && !strcmp(id->str, skipId)) continue;
            const char *addr = ip && ip->str && ip->str[0] ? ip->str : NULL;
            int known = v ? findNode(v, id->str) : -1;
            if (!addr && known >= 0) addr = v->nodes[known].ip; /* an unannounced node: where we reached it */
            strvPush(a, "NODE");
            strvPush(a, "%s", id->str);
            strvPush(a, "%s", addr ? addr : "127.0.0.1");
            strvPush(a, "%lld", port->integer);
            strvPush(a, "%lld", tls ? tls->integer : 0);
            strvPush(a, "%s", host && host->str && host->str[0] ? host->str : "-");
            if (!strcmp(role->str, "master")) {
                strvPush(a, "PRIMARY");
                strvPush(a, "%s", ranges[0] ? ranges : "-");
            } else {
                strvPush(a, "REPLICA");
                strvPush(a, "%s", primaryId ? primaryId : "-");
            }
        }
        free(ranges);
    }
    freeReply(shards);
    return 0;
}

/* Sends the command in a to every link of ls; the number that failed. */
static int pushTo(strv *a, rlink **ls, int n) {
    int failed = 0;
    for (int i = 0; i < n; i++) {
        reply *r = callv(ls[i], a->n, (const char **)a->v);
        if (!r || r->type != '+') {
            printf("[ERR] CLUSTER SETTOPOLOGY on %s: %s\n", ls[i]->name, r ? (r->str ? r->str : "?") : "connection lost");
            failed++;
        }
        freeReply(r);
    }
    return failed;
}

static void strvFree(strv *a) {
    for (int i = 0; i < a->n; i++) free(a->v[i]);
    free(a->v);
    a->v = NULL;
    a->n = a->cap = 0;
}

/* ---- resumable pushes (create, add-node, del-node) ---------------------------------------
 *
 * A run that stopped after some nodes took its map (one refused it, or could
 * not be reached) is finished by running the same command again: the map is
 * computed from the same inputs, so it comes out the same; nodes that
 * already hold it are left alone and the others get it. */

#define ENTRY_ARGS 8 /* NODE <id> <ip> <port> <tls-port> <hostname> PRIMARY|REPLICA <what> */

static int cmpStr(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

/* The NODE entries of a from index off, one line each, sorted: two maps
 * are the same whatever order their nodes were listed in. */
static char **entryLines(const strv *a, int off, int *n) {
    *n = (a->n - off) / ENTRY_ARGS;
    char **lines = calloc((size_t)(*n ? *n : 1), sizeof(char *));
    for (int i = 0; i < *n; i++) {
        char *const *e = a->v + off + i * ENTRY_ARGS;
        if (asprintf(&lines[i], "%s %s %s %s %s %s %s", e[1], e[2], e[3], e[4], e[5], e[6], e[7]) < 0)
            die(2, "out of memory");
    }
    qsort(lines, (size_t)*n, sizeof(char *), cmpStr);
    return lines;
}

/* 1 when the node at l holds the map whose NODE entries are a's from off. */
static int holdsMap(rlink *l, const strv *a, int off) {
    strv b = {0};
    if (mapFromShards(NULL, l, &b, NULL) == -1) return 0;
    int na, nb, same;
    char **la = entryLines(a, off, &na), **lb = entryLines(&b, 0, &nb);
    same = na == nb;
    for (int i = 0; same && i < na; i++) same = !strcmp(la[i], lb[i]);
    for (int i = 0; i < na; i++) free(la[i]);
    for (int i = 0; i < nb; i++) free(lb[i]);
    free(la);
    free(lb);
    strvFree(&b);
    return same;
}

/* Chooses the epoch of a (CLUSTER SETTOPOLOGY <epoch> NODE...: written to
 * a->v[2]) for the nodes ls[0..n): the epoch of the nodes that already
 * hold this map, unless a node without it is at that epoch or above (it
 * would refuse the map, or get a second map under one epoch); otherwise,
 * and when nobody holds it, the highest epoch + 1. holds[i]: node i has
 * the map; done[i]: at the chosen epoch (nothing to push). */
static unsigned long long planEpoch(strv *a, rlink **ls, int n, int *holds, int *done) {
    unsigned long long *ep = calloc((size_t)(n ? n : 1), sizeof(*ep)), top = 0, held = 0;
    int any = 0;
    for (int i = 0; i < n; i++) {
        ep[i] = epochOf(ls[i]);
        holds[i] = holdsMap(ls[i], a, 3);
        if (ep[i] > top) top = ep[i];
        if (holds[i] && (!any || ep[i] > held)) held = ep[i];
        any |= holds[i];
    }
    for (int i = 0; i < n && any; i++)
        if (!holds[i] && ep[i] >= held) any = 0;
    unsigned long long epoch = any ? held : top + 1;
    for (int i = 0; i < n; i++) done[i] = holds[i] && ep[i] == epoch;
    free(ep);
    free(a->v[2]);
    if (asprintf(&a->v[2], "%llu", epoch) < 0) die(2, "out of memory");
    return epoch;
}

/* Pushes a to the nodes of ls not done; the number that failed. */
static int pushRest(strv *a, rlink **ls, int n, const int *done) {
    rlink **rest = malloc(sizeof(rlink *) * (size_t)(n ? n : 1));
    int nr = 0;
    for (int i = 0; i < n; i++) {
        if (done[i]) printf("[OK] %s already holds this map (epoch %s)\n", ls[i]->name, a->v[2]);
        else rest[nr++] = ls[i];
    }
    int failed = pushTo(a, rest, nr);
    free(rest);
    return failed;
}

/* The end of a resumable run (create, add-node, del-node, fix): how to
 * finish it when it stopped after changing something, then its map, links
 * and flags freed, and v's links closed (v may be NULL). rc. */
static int endRun(int rc, int started, strv *a, rlink **ls, int *holds, int *done, view *v) {
    if (rc && started) printf("[ERR] Not finished: fix the cause and run the same command again to complete it.\n");
    strvFree(a);
    free(ls);
    free(holds);
    free(done);
    if (v) viewFree(v);
    return rc;
}

/* CLUSTER SETTOPOLOGY <max epoch + 1> with the owners `from` has now,
 * pushed to every node. */
static int pushMap(view *v, node *from) {
    unsigned long long epoch = maxEpoch(v);
    strv a = {0};
    strvPush(&a, "CLUSTER");
    strvPush(&a, "SETTOPOLOGY");
    strvPush(&a, "%llu", epoch + 1);
    if (mapFromShards(v, &from->l, &a, NULL) == -1) {
        strvFree(&a);
        return -1;
    }
    rlink **ls = malloc(sizeof(rlink *) * (size_t)v->n);
    int nl = 0, failed = 0;
    for (int i = 0; i < v->n; i++) {
        if (v->nodes[i].connected) ls[nl++] = &v->nodes[i].l;
        else failed++;
    }
    failed += pushTo(&a, ls, nl);
    if (!failed) printf("[OK] Map of epoch %llu pushed to %d nodes\n", epoch + 1, v->n);
    free(ls);
    strvFree(&a);
    return failed ? -1 : 0;
}

static int cmdReshard(const char *hostPort, const char *from, const char *to, int nslots, int pipeline,
                      long timeout, int replace, int push) {
    view v;
    loadView(hostPort, &v);
    int fi = findNode(&v, from), ti = findNode(&v, to);
    if (fi < 0 || ti < 0) die(2, "unknown or ambiguous node id %s", fi < 0 ? from : to);
    node *src = &v.nodes[fi], *dst = &v.nodes[ti];
    if (!src->primary || !dst->primary || fi == ti) die(2, "--from and --to must be two primaries");
    if (!src->connected || !dst->connected) die(2, "cannot reach both nodes");
    /* A move left half done between these nodes is finished first: the
     * source's own line shows [slot->-target]. */
    char *text = clusterNodesOf(&src->l);
    view sv;
    int resumed = 0;
    if (text && parseNodes(text, &sv) == 0) {
        int me = findNode(&sv, src->id);
        for (int k = 0; me >= 0 && k < sv.nodes[me].nmig; k++) {
            if (strcmp(sv.nodes[me].migTo[k], dst->id)) continue;
            int slot = sv.nodes[me].migSlot[k];
            printf("Resuming the move of slot %d\n", slot);
            if (moveSlot(&v, slot, src, dst, pipeline, timeout, replace) == -1) return 1;
            resumed++;
        }
        free(sv.nodes);
    }
    free(text);
    int done = 0;
    for (int s = 0; s < NSLOTS && done + resumed < nslots; s++) {
        if (v.owner[s] != fi) continue;
        if (moveSlot(&v, s, src, dst, pipeline, timeout, replace) == -1) return 1;
        done++;
    }
    printf("[OK] %d slots moved from %s to %s%s\n", done + resumed, src->id, dst->id,
           done + resumed < nslots ? " (the source had no more)" : "");
    int rc = 0;
    if (push) {
        rc = pushMap(&v, dst) == -1;
        /* Running reshard again would move N more slots: fix finishes the
         * push alone. */
        if (rc)
            printf("[ERR] The map did not reach every node: fix the cause and run 'cachet-cluster fix %s%s%s%s' "
                   "to finish (not this reshard again: it would move %d more slots).\n",
                   hostPort, useTls ? " --tls" : "", useTls && tlsCa ? " --cacert " : "", useTls && tlsCa ? tlsCa : "",
                   nslots);
    } else printf("Push a map naming the new owners (CLUSTER SETTOPOLOGY, a new epoch) to make it final.\n");
    for (int i = 0; i < v.n; i++) linkClose(&v.nodes[i].l);
    free(v.nodes);
    return rc;
}

/* ---- create, add-node, del-node ----------------------------------------------------- */

/* HOST:PORT into host and port; 0, or -1 with a message. */
static int parseHostPort(const char *arg, char *host, size_t hlen, int *port) {
    const char *colon = strrchr(arg, ':');
    if (colon) *port = atoi(colon + 1);
    if (!colon || colon == arg || *port <= 0 || *port > 65535) {
        printf("[ERR] expected HOST:PORT, got %s\n", arg);
        return -1;
    }
    snprintf(host, hlen, "%.*s", (int)(colon - arg), arg);
    return 0;
}

/* The address a map names for host: itself when numeric, else its first
 * IPv4 address (else IPv6); 0 or -1 with a message. */
static int mapIp(const char *host, char *out, size_t olen) {
    unsigned char bin[16];
    if (inet_pton(AF_INET, host, bin) == 1 || inet_pton(AF_INET6, host, bin) == 1) {
        size_t len = strlen(host);
        if (len >= olen) return -1;
        memcpy(out, host, len + 1);
        return 0;
    }
    struct addrinfo hints = {0}, *res;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_family = AF_INET; /* nodes bound to 127.0.0.1 are not on ::1 */
    int rc = getaddrinfo(host, NULL, &hints, &res);
    if (rc != 0) {
        hints.ai_family = AF_UNSPEC;
        rc = getaddrinfo(host, NULL, &hints, &res);
    }
    if (rc != 0) {
        printf("[ERR] cannot resolve %s\n", host);
        return -1;
    }
    const void *a = res->ai_family == AF_INET ? (const void *)&((struct sockaddr_in *)res->ai_addr)->sin_addr
                                              : (const void *)&((struct sockaddr_in6 *)res->ai_addr)->sin6_addr;
    int ok = inet_ntop(res->ai_family, a, out, (socklen_t)olen) != NULL;
    freeaddrinfo(res);
    return ok ? 0 : -1;
}

/* A node named on the command line, before it is in a map. */
typedef struct newnode {
    char arg[300], ip[64], id[IDLEN + 1], hostname[256];
    long long tlsPort;
    int fresh; /* alone in its map, no slot */
    int primary, primaryOf; /* replicas: index of their primary */
    int slotFirst, slotLast;
    rlink l;
} newnode;

static void notEmpty(const char *arg) {
    printf("[ERR] Node %s is not empty. Either the node already knows other nodes (check with CLUSTER NODES) "
           "or contains some key in database 0.\n", arg);
}

/* Connects to nn->arg and reads its id, whether it is fresh (alone in its
 * map, no slot), and its announced host name and TLS port (its own entry
 * of its CLUSTER SHARDS). 0 or -1 with a message. */
static int openNode(newnode *nn) {
    char host[256];
    int port;
    nn->l.fd = -1;
    if (parseHostPort(nn->arg, host, sizeof(host), &port) == -1 || mapIp(host, nn->ip, sizeof(nn->ip)) == -1)
        return -1;
    if (linkOpen(&nn->l, host, port) == -1) {
        printf("[ERR] cannot connect to %s\n", nn->arg);
        return -1;
    }
    reply *r = call(&nn->l, "CLUSTER", "MYID", NULL);
    if (!r || r->type != '$' || r->len != IDLEN) {
        printf("[ERR] %s: CLUSTER MYID: %s\n", nn->arg, r && r->str ? r->str : "no answer");
        freeReply(r);
        return -1;
    }
    memcpy(nn->id, r->str, IDLEN + 1);
    freeReply(r);
    r = call(&nn->l, "CLUSTER", "INFO", NULL);
    nn->fresh = r && r->type == '$' && strstr(r->str, "cluster_known_nodes:1\r\n") &&
                strstr(r->str, "cluster_slots_assigned:0\r\n");
    freeReply(r);
    r = call(&nn->l, "CLUSTER", "SHARDS", NULL);
    for (long long i = 0; r && r->type == '*' && i < r->len; i++) {
        const reply *nodes = field(r->elem[i], "nodes");
        for (long long k = 0; nodes && nodes->type == '*' && k < nodes->len; k++) {
            const reply *id = field(nodes->elem[k], "id"), *h = field(nodes->elem[k], "hostname"),
                        *t = field(nodes->elem[k], "tls-port");
            if (!id || !id->str || strcmp(id->str, nn->id)) continue;
            if (h && h->str) snprintf(nn->hostname, sizeof(nn->hostname), "%s", h->str);
            if (t) nn->tlsPort = t->integer;
        }
    }
    freeReply(r);
    return 0;
}

static void pushNewNode(strv *a, const newnode *nn, const newnode *all) {
    strvPush(a, "NODE");
    strvPush(a, "%s", nn->id);
    strvPush(a, "%s", nn->ip);
    strvPush(a, "%d", atoi(strrchr(nn->arg, ':') + 1));
    strvPush(a, "%lld", nn->tlsPort);
    strvPush(a, "%s", nn->hostname[0] ? nn->hostname : "-");
    if (nn->primary) {
        strvPush(a, "PRIMARY");
        /* written as CLUSTER SHARDS reads back (mapFromShards), so that a
         * rerun recognises the map on the nodes that took it */
        if (nn->slotFirst > nn->slotLast) strvPush(a, "-");
        else if (nn->slotFirst == nn->slotLast) strvPush(a, "%d", nn->slotFirst);
        else strvPush(a, "%d-%d", nn->slotFirst, nn->slotLast);
    } else {
        strvPush(a, "REPLICA");
        strvPush(a, "%s", all[nn->primaryOf].id);
    }
}

/* Waits (up to timeoutMs) for l's INFO replication to say its link is up. */
static int waitLinkUp(rlink *l, long timeoutMs) {
    for (long waited = 0; waited <= timeoutMs; waited += 100) {
        reply *r = call(l, "INFO", "replication", NULL);
        int up = r && r->type == '$' && strstr(r->str, "master_link_status:up");
        freeReply(r);
        if (up) return 0;
        usleep(100 * 1000);
    }
    return -1;
}

/* 1 when l already replicates ip:port (a rerun of create skips its REPLICAOF). */
static int replicates(rlink *l, const char *ip, const char *port) {
    reply *r = call(l, "INFO", "replication", NULL);
    char host[128], prt[32];
    snprintf(host, sizeof(host), "master_host:%s\r\n", ip);
    snprintf(prt, sizeof(prt), "master_port:%s\r\n", port);
    int yes = r && r->type == '$' && strstr(r->str, "role:slave\r\n") && strstr(r->str, host) && strstr(r->str, prt);
    freeReply(r);
    return yes;
}

static int cmdCreate(int nargs, char **args, int replicas) {
    int nprim = nargs / (replicas + 1), rc = 1, started = 0;
    if (nprim < 1) {
        printf("[ERR] %d nodes cannot make a cluster with %d replicas per primary\n", nargs, replicas);
        return 2;
    }
    newnode *nn = calloc((size_t)nargs, sizeof(*nn));
    rlink **ls = malloc(sizeof(rlink *) * (size_t)nargs);
    int *holds = calloc((size_t)nargs, sizeof(int)), *done = calloc((size_t)nargs, sizeof(int));
    for (int i = 0; i < nargs; i++) nn[i].l.fd = -1;
    strv a = {0};
    for (int i = 0; i < nargs; i++) {
        snprintf(nn[i].arg, sizeof(nn[i].arg), "%s", args[i]);
        if (openNode(&nn[i]) == -1) goto out;
        for (int k = 0; k < i; k++)
            if (!strcmp(nn[k].id, nn[i].id)) {
                printf("[ERR] %s and %s are the same node\n", nn[k].arg, nn[i].arg);
                goto out;
            }
        ls[i] = &nn[i].l;
    }
    for (int i = 0; i < nargs; i++) {
        nn[i].primary = i < nprim;
        if (nn[i].primary) {
            nn[i].slotFirst = (int)((long)NSLOTS * i / nprim);
            nn[i].slotLast = (int)((long)NSLOTS * (i + 1) / nprim) - 1;
        } else {
            nn[i].primaryOf = (i - nprim) % nprim;
        }
    }
    strvPush(&a, "CLUSTER");
    strvPush(&a, "SETTOPOLOGY");
    strvPush(&a, "0"); /* planEpoch's */
    for (int i = 0; i < nargs; i++) pushNewNode(&a, &nn[i], nn);
    /* Fresh nodes (epoch 0: the map goes out at 1), or nodes that already
     * took this very map in an earlier run that stopped; any other is
     * refused before anything is pushed. */
    unsigned long long epoch = planEpoch(&a, ls, nargs, holds, done);
    for (int i = 0; i < nargs; i++)
        if (!nn[i].fresh && !holds[i]) {
            notEmpty(nn[i].arg);
            goto out;
        }
    printf(">>> Creating a cluster of %d nodes: %d primaries, %d replicas\n", nargs, nprim, nargs - nprim);
    for (int i = 0; i < nargs; i++) {
        if (nn[i].primary)
            printf("M: %s %s slots:[%d-%d] (%d slots)\n", nn[i].id, nn[i].arg, nn[i].slotFirst, nn[i].slotLast,
                   nn[i].slotLast - nn[i].slotFirst + 1);
        else
            printf("S: %s %s replicates %s (%s)\n", nn[i].id, nn[i].arg, nn[nn[i].primaryOf].id,
                   nn[nn[i].primaryOf].arg);
    }
    printf(">>> Pushing the map (epoch %llu) to every node\n", epoch);
    started = 1;
    if (pushRest(&a, ls, nargs, done)) goto out;
    for (int i = nprim; i < nargs; i++) {
        const newnode *p = &nn[nn[i].primaryOf];
        char port[16];
        snprintf(port, sizeof(port), "%d", atoi(strrchr(p->arg, ':') + 1));
        if (replicates(&nn[i].l, p->ip, port)) {
            printf("[OK] %s already replicates %s:%s\n", nn[i].arg, p->ip, port);
            continue;
        }
        printf(">>> REPLICAOF %s %s on %s\n", p->ip, port, nn[i].arg);
        reply *r = call(&nn[i].l, "REPLICAOF", p->ip, port, NULL);
        int ok = r && r->type == '+';
        if (!ok) printf("[ERR] REPLICAOF on %s: %s\n", nn[i].arg, r && r->str ? r->str : "connection lost");
        freeReply(r);
        if (!ok) goto out;
    }
    for (int i = nprim; i < nargs; i++) {
        printf(">>> Waiting for the link of %s to its primary\n", nn[i].arg);
        if (waitLinkUp(&nn[i].l, 60000) == -1) {
            printf("[ERR] The replication link of %s is not up after 60 s\n", nn[i].arg);
            goto out;
        }
    }
    printf("[OK] Cluster created: %d primaries, %d replicas, all 16384 slots assigned, epoch %llu.\n", nprim,
           nargs - nprim, epoch);
    rc = 0;
out:
    for (int i = 0; i < nargs; i++) linkClose(&nn[i].l);
    free(nn);
    return endRun(rc, started, &a, ls, holds, done, NULL);
}

/* A connected primary of v other than skip, to read the map from; -1. */
static int mapSource(const view *v, int skip) {
    for (int i = 0; i < v->n; i++)
        if (i != skip && v->nodes[i].connected && v->nodes[i].primary) return i;
    return -1;
}

/* Links to the connected nodes of v other than skip (and extra when not
 * NULL) into ls; the number, *unreachable counts the others. */
static int viewLinks(view *v, int skip, rlink *extra, rlink **ls, int *unreachable) {
    int nl = 0;
    for (int i = 0; i < v->n; i++) {
        if (i == skip) continue;
        if (v->nodes[i].connected) ls[nl++] = &v->nodes[i].l;
        else {
            printf("[ERR] %s:%d cannot be reached\n", v->nodes[i].ip, v->nodes[i].port);
            (*unreachable)++;
        }
    }
    if (extra) ls[nl++] = extra;
    return nl;
}

static int cmdAddNode(const char *newArg, const char *hostPort) {
    newnode nn = {0};
    snprintf(nn.arg, sizeof(nn.arg), "%s", newArg);
    if (openNode(&nn) == -1) {
        linkClose(&nn.l);
        return 1;
    }
    view v;
    loadView(hostPort, &v);
    /* A run that stopped half way may have left the new node in the map of
     * the seed: it is then left out of the view's links and re-added. */
    int self = findNode(&v, nn.id);
    int src = mapSource(&v, self), rc = 1, started = 0;
    strv a = {0};
    rlink **ls = malloc(sizeof(rlink *) * (size_t)(v.n + 1));
    int *holds = calloc((size_t)v.n + 1, sizeof(int)), *done = calloc((size_t)v.n + 1, sizeof(int));
    if (src < 0) {
        printf("[ERR] no primary of the cluster can be read\n");
        goto out;
    }
    nn.primary = 1;
    nn.slotFirst = 1; /* first > last: no slots */
    nn.slotLast = 0;
    strvPush(&a, "CLUSTER");
    strvPush(&a, "SETTOPOLOGY");
    strvPush(&a, "0"); /* planEpoch's */
    if (mapFromShards(&v, &v.nodes[src].l, &a, nn.id) == -1) goto out;
    pushNewNode(&a, &nn, &nn);
    int failed = 0, nl = viewLinks(&v, self, &nn.l, ls, &failed);
    unsigned long long epoch = planEpoch(&a, ls, nl, holds, done);
    if (!nn.fresh && !holds[nl - 1]) {
        notEmpty(newArg);
        goto out;
    }
    int all = !failed;
    for (int i = 0; i < nl; i++) all &= done[i];
    if (all) {
        printf("[OK] Node %s (%s) is already in the cluster: every node holds its map (epoch %llu)\n", newArg,
               nn.id, epoch);
        rc = 0;
        goto out;
    }
    printf(">>> Adding node %s (%s) as a primary without slots: map of epoch %llu to %d nodes\n", newArg, nn.id,
           epoch, nl + failed);
    started = 1;
    failed += pushRest(&a, ls, nl, done);
    if (!failed) {
        printf("[OK] New node added; move slots to it with: cachet-cluster reshard %s --from ID --to %s --slots N "
               "--push-map\n", hostPort, nn.id);
        rc = 0;
    }
out:
    linkClose(&nn.l);
    return endRun(rc, started, &a, ls, holds, done, &v);
}

/* The view of a node that still lists id: the seed's, or, after a run that
 * pushed the map without it to some nodes (the seed among them), that of a
 * node it did not reach. The index of id in *v, or -1. */
static int viewWith(const char *hostPort, const char *id, view *v) {
    loadView(hostPort, v);
    int d = findNode(v, id);
    for (int i = 0; d == -1 && i < v->n; i++) {
        if (!v->nodes[i].connected) continue;
        char *text = clusterNodesOf(&v->nodes[i].l);
        view sv;
        int has = text && parseNodes(text, &sv) == 0 && findNode(&sv, id) >= 0;
        if (text) free(sv.nodes);
        free(text);
        if (!has) continue;
        char other[128];
        snprintf(other, sizeof(other), "%s:%d", v->nodes[i].ip, v->nodes[i].port);
        viewFree(v);
        printf(">>> %s still lists node %s: reading the cluster through it\n", other, id);
        loadView(other, v);
        d = findNode(v, id);
        break;
    }
    return d;
}

static int cmdDelNode(const char *hostPort, const char *id) {
    view v;
    int d = viewWith(hostPort, id, &v), rc = 1, started = 0;
    strv a = {0};
    rlink **ls = malloc(sizeof(rlink *) * (size_t)v.n);
    int *holds = calloc((size_t)v.n, sizeof(int)), *done = calloc((size_t)v.n, sizeof(int));
    if (d < 0) {
        printf("[ERR] No such node ID %s\n", id);
        goto out;
    }
    node *gone = &v.nodes[d];
    int slots = 0, reps = 0;
    for (int s = 0; s < NSLOTS; s++) slots += v.owner[s] == d;
    for (int i = 0; i < v.n; i++) reps += !v.nodes[i].primary && !strcmp(v.nodes[i].primaryId, gone->id);
    printf(">>> Removing node %s from cluster %s\n", gone->id, hostPort);
    if (slots) {
        printf("[ERR] Node %s:%d is not empty! Reshard data away and try again.\n", gone->ip, gone->port);
        goto out;
    }
    if (reps) {
        printf("[ERR] Node %s:%d has %d replicas; remove them first.\n", gone->ip, gone->port, reps);
        goto out;
    }
    int src = mapSource(&v, d);
    if (src < 0) {
        printf("[ERR] no other primary of the cluster can be read\n");
        goto out;
    }
    strvPush(&a, "CLUSTER");
    strvPush(&a, "SETTOPOLOGY");
    strvPush(&a, "0"); /* planEpoch's */
    if (mapFromShards(&v, &v.nodes[src].l, &a, gone->id) == -1) goto out;
    int failed = 0, nl = viewLinks(&v, d, NULL, ls, &failed);
    unsigned long long epoch = planEpoch(&a, ls, nl, holds, done);
    printf(">>> Pushing the map without it (epoch %llu) to the %d other nodes\n", epoch, nl + failed);
    started = 1;
    failed += pushRest(&a, ls, nl, done);
    if (failed) goto out;
    rc = 0;
    if (!gone->connected) {
        printf("[WARNING] %s:%d cannot be reached: it still holds the old map\n", gone->ip, gone->port);
        goto out;
    }
    if (!gone->primary) {
        /* As Redis' CLUSTER RESET on a replica: it becomes an empty primary. */
        printf(">>> REPLICAOF NO ONE and FLUSHALL on the former replica %s:%d\n", gone->ip, gone->port);
        freeReply(call(&gone->l, "REPLICAOF", "NO", "ONE", NULL));
        freeReply(call(&gone->l, "FLUSHALL", NULL));
    }
    printf(">>> Sending CLUSTER RESET SOFT to the deleted node.\n");
    reply *r = call(&gone->l, "CLUSTER", "RESET", "SOFT", NULL);
    if (!r || r->type != '+')
        printf("[WARNING] CLUSTER RESET on %s:%d: %s\n", gone->ip, gone->port, r && r->str ? r->str : "no answer");
    freeReply(r);
    printf("[OK] Node %s removed\n", gone->id);
out:
    return endRun(rc, started, &a, ls, holds, done, &v);
}

/* ---- fix ---------------------------------------------------------------------------------
 *
 * Finishes what a reshard (or a fix) left half done, without moving any
 * slot the primaries did not start to move: open slots first, then the map
 * the primaries agree on, to the nodes that do not hold it. */

/* n's CLUSTER NODES parsed into w; the index of n's own line, or -1 (w is
 * then empty). */
static int selfView(node *n, view *w) {
    char *text = clusterNodesOf(&n->l);
    int me = -1;
    if (text && parseNodes(text, w) == 0) me = findNode(w, n->id);
    else memset(w, 0, sizeof(*w));
    free(text);
    return me;
}

/* Finishes every slot a primary shows MIGRATING, then every slot one still
 * shows IMPORTING (a run stopped between the target's SETSLOT IMPORTING and
 * the source's MIGRATING), with reshard's moveSlot: forward, to the node
 * the move was going to. The number that could not be finished. */
static int finishOpenSlots(view *v, int pipeline, long timeout, int replace) {
    char *tried = calloc(NSLOTS, 1);
    int failed = 0, open = 0;
    for (int pass = 0; pass < 2; pass++) {
        for (int i = 0; i < v->n; i++) {
            node *n = &v->nodes[i];
            if (!n->connected) continue;
            view w;
            int me = selfView(n, &w);
            const node *self = me >= 0 ? &w.nodes[me] : NULL;
            int cnt = !self ? 0 : pass == 0 ? self->nmig : self->nimp;
            for (int k = 0; k < cnt; k++) {
                int slot = pass == 0 ? self->migSlot[k] : self->impSlot[k];
                const char *otherId = pass == 0 ? self->migTo[k] : self->impFrom[k];
                if (tried[slot]) continue; /* its source's MIGRATING was handled (or failed) */
                tried[slot] = 1;
                open++;
                int o = findNode(v, otherId);
                if (o < 0 || !v->nodes[o].connected || !v->nodes[o].primary) {
                    const char *why = o < 0                     ? "is not in the map"
                                      : !v->nodes[o].connected ? "cannot be reached"
                                                               : "is not a primary";
                    printf("[ERR] Slot %d of %s:%d is %s %s, which %s\n", slot, n->ip, n->port,
                           pass == 0 ? "migrating to" : "importing from", otherId, why);
                    failed++;
                    continue;
                }
                node *src = pass == 0 ? n : &v->nodes[o], *dst = pass == 0 ? &v->nodes[o] : n;
                printf(">>> Finishing the move of slot %d from %s:%d to %s:%d (%s)\n", slot, src->ip, src->port,
                       dst->ip, dst->port, pass == 0 ? "migrating" : "importing");
                if (moveSlot(v, slot, src, dst, pipeline, timeout, replace) == -1) failed++;
            }
            free(w.nodes);
        }
    }
    if (!open) printf("[OK] No slot is migrating or importing.\n");
    free(tried);
    return failed;
}

/* Slots of claim owned by who as CLUSTER SHARDS reads back (mapFromShards):
 * "a-b,c", "-" for none. */
static char *claimRanges(const int *claim, int who) {
    char *out = strdup(""), *next;
    for (int s = 0; s < NSLOTS; s++) {
        if (claim[s] != who) continue;
        int e = s;
        while (e + 1 < NSLOTS && claim[e + 1] == who) e++;
        if (e == s ? asprintf(&next, "%s%s%d", out, out[0] ? "," : "", s) < 0
                   : asprintf(&next, "%s%s%d-%d", out, out[0] ? "," : "", s, e) < 0)
            die(2, "out of memory");
        free(out);
        out = next;
        s = e;
    }
    if (!out[0]) {
        free(out);
        out = strdup("-");
    }
    return out;
}

/* Appends to a the map the primaries agree on: each slot goes to the
 * primary whose own line of CLUSTER NODES shows it (the node that serves
 * it and holds its keys, whatever map it was last pushed); nodes, roles
 * and addresses are those of the CLUSTER SHARDS of the primary with the
 * highest epoch (the last map pushed). 0, or -1 with a message when that
 * cannot be decided (nothing is pushed then). */
static int agreedMap(view *v, strv *a) {
    int *claim = malloc(sizeof(int) * NSLOTS), *seen = calloc((size_t)v->n + 1, sizeof(int));
    for (int s = 0; s < NSLOTS; s++) claim[s] = -1;
    int from = -1, rc = -1, twice = 0, firstTwice = -1, otherTwice = -1;
    unsigned long long top = 0;
    for (int i = 0; i < v->n; i++) {
        node *n = &v->nodes[i];
        if (!n->connected) {
            if (n->primary) {
                printf("[ERR] Primary %s:%d cannot be reached: the slots it owns are unknown.\n", n->ip, n->port);
                goto out;
            }
            continue;
        }
        view w;
        int me = selfView(n, &w);
        if (me < 0) {
            printf("[ERR] Node %s:%d gives no map.\n", n->ip, n->port);
            free(w.nodes);
            goto out;
        }
        if (w.nodes[me].primary) {
            n->epoch = epochOf(&n->l);
            if (from < 0 || n->epoch > top) {
                from = i;
                top = n->epoch;
            }
            for (int s = 0; s < NSLOTS; s++) {
                if (w.owner[s] != me) continue;
                if (claim[s] >= 0) {
                    if (!twice++) {
                        firstTwice = s;
                        otherTwice = claim[s];
                    }
                    continue;
                }
                claim[s] = i;
            }
        }
        free(w.nodes);
        if (twice) {
            node *o = &v->nodes[otherTwice];
            printf("[ERR] Slot %d is claimed by both %s:%d and %s:%d (%d slots in all): no map is pushed; give each "
                   "slot one owner (CLUSTER SETSLOT <slot> NODE <id> on the primaries) and run fix again.\n",
                   firstTwice, o->ip, o->port, n->ip, n->port, twice);
            goto out;
        }
    }
    if (from < 0) {
        printf("[ERR] No primary of the cluster can be read.\n");
        goto out;
    }
    int off = a->n;
    if (mapFromShards(v, &v->nodes[from].l, a, NULL) == -1) goto out;
    for (int e = off; e + ENTRY_ARGS <= a->n; e += ENTRY_ARGS) {
        char **en = a->v + e;
        int k = findNode(v, en[1]);
        if (k < 0) {
            printf("[ERR] %s:%d lists node %s, which the seed's map does not: finish the add-node or del-node "
                   "that was interrupted first.\n", v->nodes[from].ip, v->nodes[from].port, en[1]);
            goto out;
        }
        seen[k] = 1;
        if (!strcmp(en[6], "PRIMARY")) {
            free(en[7]);
            en[7] = claimRanges(claim, k);
        } else {
            char *r = claimRanges(claim, k);
            int owns = strcmp(r, "-") != 0;
            free(r);
            if (owns) {
                printf("[ERR] %s:%d owns slots but is a replica in the map of %s:%d.\n", v->nodes[k].ip,
                       v->nodes[k].port, v->nodes[from].ip, v->nodes[from].port);
                goto out;
            }
        }
    }
    for (int i = 0; i < v->n; i++)
        if (!seen[i]) {
            printf("[ERR] %s:%d does not list node %s:%d (%s): finish the add-node or del-node that was "
                   "interrupted first.\n", v->nodes[from].ip, v->nodes[from].port, v->nodes[i].ip, v->nodes[i].port,
                   v->nodes[i].id);
            goto out;
        }
    rc = 0;
out:
    free(claim);
    free(seen);
    return rc;
}

static int cmdFix(const char *hostPort, int pipeline, long timeout, int replace) {
    view v;
    loadView(hostPort, &v);
    printf(">>> Fixing the cluster (using node %s)\n", hostPort);
    int rc = 1, failed = 0;
    strv a = {0};
    rlink **ls = malloc(sizeof(rlink *) * (size_t)(v.n ? v.n : 1));
    int *holds = calloc((size_t)v.n + 1, sizeof(int)), *done = calloc((size_t)v.n + 1, sizeof(int));
    /* No map while a move is half done: it would name the source as the
     * owner of a slot whose keys are partly on the target. */
    if (finishOpenSlots(&v, pipeline, timeout, replace)) goto out;
    strvPush(&a, "CLUSTER");
    strvPush(&a, "SETTOPOLOGY");
    strvPush(&a, "0"); /* planEpoch's */
    if (agreedMap(&v, &a) == -1) goto out;
    int nl = viewLinks(&v, -1, NULL, ls, &failed);
    unsigned long long epoch = planEpoch(&a, ls, nl, holds, done);
    int all = 1;
    for (int i = 0; i < nl; i++) all &= done[i];
    if (all) {
        printf("[OK] Every reachable node holds the map the primaries agree on (epoch %llu).\n", epoch);
    } else {
        printf(">>> Pushing the map the primaries agree on (epoch %llu) to the nodes without it\n", epoch);
        failed += pushRest(&a, ls, nl, done);
    }
    if (failed) goto out;
    viewFree(&v);
    rc = cmdCheck(hostPort) ? 1 : 0;
out:
    return endRun(rc, 1, &a, ls, holds, done, &v); /* a refusal too: its cause is to be fixed, then fix rerun */
}

static void usage(void) {
    fprintf(stderr, "usage: cachet-cluster create [--replicas N] HOST:PORT... [--tls --cacert FILE]\n"
                    "       cachet-cluster add-node NEW_HOST:PORT HOST:PORT [--tls --cacert FILE]\n"
                    "       cachet-cluster del-node HOST:PORT ID [--tls --cacert FILE]\n"
                    "       cachet-cluster check HOST:PORT [--tls --cacert FILE]\n"
                    "       cachet-cluster reshard HOST:PORT --from ID --to ID --slots N [--pipeline K]\n"
                    "                      [--timeout MS] [--replace] [--push-map] [--tls --cacert FILE]\n"
                    "       cachet-cluster fix HOST:PORT [--pipeline K] [--timeout MS] [--replace]\n"
                    "                      [--tls --cacert FILE]\n");
    exit(2);
}

int main(int argc, char **argv) {
    if (argc < 3) usage();
    const char *from = NULL, *to = NULL;
    int nslots = -1, pipeline = 10, replace = 0, push = 0, replicas = 0, npos = 0;
    long timeout = 60000;
    char **pos = calloc((size_t)argc, sizeof(char *)); /* create's, add-node's and del-node's operands */
    int create = !strcmp(argv[1], "create"), two = !strcmp(argv[1], "add-node") || !strcmp(argv[1], "del-node");
    for (int i = create ? 2 : 3; i < argc; i++) {
        int more = i + 1 < argc;
        if ((create || two) && argv[i][0] != '-') pos[npos++] = argv[i];
        else if (create && !strcmp(argv[i], "--replicas") && more) replicas = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--from") && more) from = argv[++i];
        else if (!strcmp(argv[i], "--to") && more) to = argv[++i];
        else if (!strcmp(argv[i], "--slots") && more) nslots = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--pipeline") && more) pipeline = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--timeout") && more) timeout = atol(argv[++i]);
        else if (!strcmp(argv[i], "--replace")) replace = 1;
        else if (!strcmp(argv[i], "--push-map")) push = 1;
        else if (!strcmp(argv[i], "--tls")) useTls = 1;
        else if (!strcmp(argv[i], "--cacert") && more) tlsCa = argv[++i];
        else usage();
    }
    if (useTls) {
        tlsCtx = SSL_CTX_new(TLS_client_method());
        SSL_CTX_set_verify(tlsCtx, SSL_VERIFY_PEER, NULL);
        if (tlsCa ? SSL_CTX_load_verify_locations(tlsCtx, tlsCa, NULL) != 1 : SSL_CTX_set_default_verify_paths(tlsCtx) != 1)
            die(2, "cannot load the CA bundle %s", tlsCa ? tlsCa : "(system)");
    }
    setvbuf(stdout, NULL, _IOLBF, 0);
    if (create) {
        if (npos < 1 || replicas < 0) usage();
        return cmdCreate(npos, pos, replicas);
    }
    if (two) {
        if (npos != 1) usage();
        return !strcmp(argv[1], "add-node") ? cmdAddNode(argv[2], pos[0]) : cmdDelNode(argv[2], pos[0]);
    }
    if (!strcmp(argv[1], "check")) return cmdCheck(argv[2]);
    if (!strcmp(argv[1], "fix")) {
        if (pipeline <= 0 || timeout <= 0) usage();
        return cmdFix(argv[2], pipeline, timeout, replace);
    }
    if (!strcmp(argv[1], "reshard")) {
        if (!from || !to || nslots <= 0 || pipeline <= 0 || timeout <= 0) usage();
        return cmdReshard(argv[2], from, to, nslots, pipeline, timeout, replace, push);
    }
    usage();
    return 2;
}
