/* repl_primary.c - the source side of replication (repl.h): the backlog,
 * the replicas attached to us (SYNC/PSYNC/REPLCONF, full sync by a forked
 * child, +CONTINUE), the encoding of propagated writes, WAIT and
 * min-replicas-to-write, as Redis 7.0 does them.
 *
 * Owns: the backlog (backlog.c), the replica links (one replLink per
 * CLIENT_REPLICA client, c->repl), the diskless relay pipe, the clients
 * blocked in WAIT, and the db the stream last SELECTed.
 * Must never block the event loop (full syncs are produced by a forked
 * child; the parent only relays bytes) and never lose a byte of the stream
 * for an online replica: one that cannot keep up is disconnected
 * (client-output-buffer-limit replica), never silently skipped.
 *
 * A replica link's states (Redis' names), and who moves it:
 *   WAIT_START  asked for a full sync; no child for it yet. Nothing is sent
 *               (but "\n" keepalives). -> WAIT_END by startFullSync.
 *   WAIT_END    +FULLRESYNC queued at fork time (its offset is the
 *               snapshot's); stream bytes from then on collect in pend.
 *               Disk: the BGSAVE runs; -> SEND_BULK by childDone. Diskless:
 *               the child's pipe is relayed into out; -> ONLINE by
 *               goOnline once the pipe ended, the child exited well and out
 *               drained.
 *   SEND_BULK   disk: the file is read chunk by chunk into out. -> ONLINE.
 *   ONLINE      the stream goes into the client's normal output (reply.c),
 *               under the replica output-buffer limits.
 * Invariants: out/pend are only used before ONLINE; while out holds bytes
 * the conn's write handler is linkWrite (or client.c's, flushing a reply
 * queued before the sync began: linkKick waits for it). */
#include "repl.h"
#include "rdb.h"
#include "client.h"
#include "reply.h"
#include "cmd.h"
#include "args.h"
#include "snapshot.h"
#include "backlog.h"
#include "propagate.h"
#include "failover.h"
#include "config.h"
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>

enum { LINK_WAIT_START, LINK_WAIT_END, LINK_SEND_BULK, LINK_ONLINE };

#define RELAY_CHUNK (64 * 1024)
#define RELAY_HIGH_WATER (256 * 1024) /* stop reading the child's pipe while a replica holds this much */
#define RELAY_ROUNDS 64               /* chunks relayed per readable event at most (4 MiB) */
#define EOF_MARK_LEN 40

typedef struct byteBuf {
    char *p;
    size_t len, pos, cap; /* bytes [pos, len) are unsent / unused */
} byteBuf;

typedef struct replLink {
    client *c;
    int state;
    int capaEof, capaPsync2, prePsync; /* prePsync: SYNC (no +FULLRESYNC line, no ACKs) */
    int diskless;                      /* this sync is relayed from the pipe */
    int listeningPort;
    char announceIp[64];
    long long ackOffset;
    long long ackTime;                 /* unix ms of the last ACK (or of going online) */
    long long waitSince;               /* unix ms the full sync was asked for */
    long long lastNewline;             /* WAIT_START keepalives */
    byteBuf out;                       /* preamble and bulk bytes, before ONLINE */
    byteBuf pend;                      /* stream bytes fed while syncing */
    int fd;                            /* SEND_BULK: the snapshot file */
    int disklessDone;                  /* the whole RDB and the EOF mark are in out */
    int streamOnAck;                   /* ONLINE after a diskless sync: pend waits for the first ACK */
    int rdbExclude;                    /* RDB_SAVE_NO_*: REPLCONF rdb-filter-only (diskless syncs only) */
} replLink;

static struct {
    backlog *bl;
    replLink **links;
    int nlinks, caplinks;
    int selDb;              /* db of the last SELECT in the stream, -1: emit one */
    long long noReplicasSince; /* unix ms the last replica left (repl-backlog-ttl) */
    int childOurs;          /* the running child was started for replicas */
    int pipeFd;             /* diskless: the child's pipe, -1 when none */
    int pipePaused;         /* its read handler is removed: a replica is full */
    int pipeEof;
    int childExited, childOk;
    char eofMark[EOF_MARK_LEN + 1];
    long long lastPing;
    client **waiters;       /* WAIT */
    int nwaiters, capwaiters;
    long long waitTimer;
    int goodReplicas;
} P = {.selDb = -1, .pipeFd = -1, .waitTimer = -1};

/* Per WAITing client: what it waits for (parallel to P.waiters). */
typedef struct waitInfo {
    long long offset, deadline;
    long numreplicas;
} waitInfo;
static waitInfo *waitInfos;

static void buf_append(byteBuf *b, const char *p, size_t n) {
    if (b->pos && b->pos == b->len) b->pos = b->len = 0;
    if (b->len + n > b->cap) {
        if (b->pos) { /* slide the unsent bytes down first */
            memmove(b->p, b->p + b->pos, b->len - b->pos);
            b->len -= b->pos;
            b->pos = 0;
        }
        if (b->len + n > b->cap) {
            /* Doubling while small; past 1 MiB (the stream kept for a
             * replica in a full sync under load) by a quarter, so the
             * capacity counted in mem_clients_slaves stays near the bytes. */
            size_t cap = b->cap ? b->cap : 16384;
            while (cap < b->len + n) cap += cap < (1u << 20) ? cap : cap / 4;
            b->p = memRealloc(b->p, cap);
            b->cap = cap;
        }
    }
    memcpy(b->p + b->len, p, n);
    b->len += n;
}

static size_t buf_pending(const byteBuf *b) { return b->len - b->pos; }

static void buf_free(byteBuf *b) {
    memFree(b->p);
    b->p = NULL;
    b->len = b->pos = b->cap = 0;
}

/* "ip:port" as Redis names a replica in its log. */
static const char *linkName(replLink *l, char *buf, size_t cap) {
    char ip[64];
    if (l->announceIp[0]) {
        snprintf(ip, sizeof(ip), "%s", l->announceIp);
    } else {
        snprintf(ip, sizeof(ip), "%s", l->c->addr);
        char *colon = strrchr(ip, ':');
        if (colon) *colon = '\0';
    }
    if (l->listeningPort) snprintf(buf, cap, "%s:%d", ip, l->listeningPort);
    else snprintf(buf, cap, "%s:<unknown-replica-port>", ip);
    return buf;
}

static void linkIp(replLink *l, char *ip, size_t cap) {
    if (l->announceIp[0]) {
        snprintf(ip, cap, "%s", l->announceIp);
        return;
    }
    snprintf(ip, cap, "%s", l->c->addr);
    char *colon = strrchr(ip, ':');
    if (colon) *colon = '\0';
}

/* ---- the backlog -------------------------------------------------------- */

int replBacklogExists(void) { return P.bl != NULL; }

static void backlogCreateNow(void) {
    P.bl = backlogCreate(srv.replBacklogSize, replOffset() + 1);
}

void replBacklogReset(void) {
    int had = P.bl != NULL;
    backlogFree(P.bl);
    P.bl = NULL;
    if (had || replIsReplica()) backlogCreateNow();
    P.selDb = -1;
}

void replRestoreHistory(void) {
    char id[REPL_ID_LEN + 1];
    long long off;
    if (!rdbLoadedReplInfo(id, &off)) return;
    replAdoptHistory(id, off);
    backlogFree(P.bl);
    backlogCreateNow();
    P.selDb = -1;
    P.noReplicasSince = mstime(); /* repl-backlog-ttl counts from now */
    logNotice("Replication history restored from the RDB: replid %s, offset %lld", id, off);
}

void replBacklogApplySize(void) {
    if (P.bl) backlogResize(P.bl, srv.replBacklogSize);
}

/* ---- the stream -------------------------------------------------------- */

static void linkKick(replLink *l);

void replPrimaryFeed(const char *buf, size_t len) {
    if (P.bl) backlogFeed(P.bl, buf, len);
    for (int i = 0; i < P.nlinks; i++) {
        replLink *l = P.links[i];
        client *c = l->c;
        if (c->flags & CLIENT_CLOSE_ASAP) continue;
        if (l->state == LINK_ONLINE && !l->streamOnAck) {
            replyRaw(c, buf, len);
        } else if (l->state != LINK_WAIT_START) {
            buf_append(&l->pend, buf, len);
            /* What waits behind the snapshot counts against the replica's
             * output limit, as Redis counts it. */
            obufLimit *lim = &srv.obufLimits[OBUF_REPLICA];
            size_t used = buf_pending(&l->pend);
            if (lim->hard && used >= lim->hard) {
                char name[128];
                logWarning("Client %s scheduled to be closed ASAP for overcoming of output buffer limits.",
                           linkName(l, name, sizeof(name)));
                srv.statClientObufLimitDisconnections++;
                clientFreeAsync(c);
            }
        }
    }
}

static void appendBulk(char *p, size_t *off, const char *s, size_t len) {
    char hdr[32];
    int n = snprintf(hdr, sizeof(hdr), "$%zu\r\n", len);
    memcpy(p + *off, hdr, (size_t)n);
    *off += (size_t)n;
    if (len) memcpy(p + *off, s, len);
    *off += len;
    p[(*off)++] = '\r';
    p[(*off)++] = '\n';
}

/* Encodes argv as RESP and feeds it. dbid < 0: no SELECT (PING, GETACK). */
static void feedCommand(int dbid, const slice *argv, int argc) {
    if (dbid >= 0 && dbid != P.selDb) {
        char num[LONG_STR_SIZE];
        slice sel[2] = {{"SELECT", 6}, propLL(num, dbid)};
        P.selDb = dbid; /* before the recursive feed, which must not select again */
        feedCommand(-1, sel, 2);
    }
    size_t total = 16;
    for (int i = 0; i < argc; i++) total += argv[i].len + 32;
    char stackbuf[512];
    char *p = total <= sizeof(stackbuf) ? stackbuf : memAlloc(total);
    size_t off = (size_t)snprintf(p, total, "*%d\r\n", argc);
    for (int i = 0; i < argc; i++) appendBulk(p, &off, argv[i].p, argv[i].len);
    replFeedStream(p, off);
    if (p != stackbuf) memFree(p);
}

void replPropagate(int dbid, const slice *argv, int argc) {
    if (replIsReplica() || !P.bl) return;
    feedCommand(dbid, argv, argc);
}

/* ---- links ---------------------------------------------------------------- */

static replLink *linkFor(client *c) {
    if (c->repl) return c->repl;
    replLink *l = memAlloc(sizeof(*l));
    memset(l, 0, sizeof(*l));
    l->c = c;
    l->fd = -1;
    l->state = -1; /* not a replica yet: only REPLCONF options recorded */
    c->repl = l;
    return l;
}

static void linkAttach(replLink *l) {
    if (P.nlinks == P.caplinks) {
        P.caplinks = P.caplinks ? P.caplinks * 2 : 4;
        P.links = memRealloc(P.links, sizeof(replLink *) * (size_t)P.caplinks);
    }
    P.links[P.nlinks++] = l;
    l->c->flags |= CLIENT_REPLICA;
}

static void refreshGoodReplicas(void) {
    int good = 0;
    long long now = srv.mstime;
    for (int i = 0; i < P.nlinks; i++) {
        replLink *l = P.links[i];
        if (l->state == LINK_ONLINE && (now - l->ackTime) / 1000 <= srv.minReplicasMaxLag) good++;
    }
    P.goodReplicas = good;
}

void replPrimaryClientFree(client *c) {
    replLink *l = c->repl;
    if (c->flags & CLIENT_WAIT_ACK) {
        for (int i = 0; i < P.nwaiters; i++)
            if (P.waiters[i] == c) {
                P.nwaiters--;
                P.waiters[i] = P.waiters[P.nwaiters];
                waitInfos[i] = waitInfos[P.nwaiters];
                break;
            }
        c->flags &= ~(uint64_t)CLIENT_WAIT_ACK;
    }
    if (!l) return;
    for (int i = 0; i < P.nlinks; i++)
        if (P.links[i] == l) {
            memmove(P.links + i, P.links + i + 1, sizeof(replLink *) * (size_t)(P.nlinks - i - 1));
            P.nlinks--;
            char name[128];
            logNotice("Connection with replica %s lost.", linkName(l, name, sizeof(name)));
            break;
        }
    if (l->fd != -1) close(l->fd);
    buf_free(&l->out);
    buf_free(&l->pend);
    memFree(l);
    c->repl = NULL;
    c->flags &= ~(uint64_t)CLIENT_REPLICA;
    if (P.nlinks == 0) P.noReplicasSince = srv.mstime;
    refreshGoodReplicas();
}

long long replLinkMemory(client *c) {
    replLink *l = c->repl;
    if (!(c->flags & CLIENT_REPLICA) || !l) return 0;
    size_t bytes = memUsableSize(l) + memUsableSize(l->out.p) + memUsableSize(l->pend.p);
    return (long long)bytes;
}

long long replBacklogMemory(void) {
    if (!P.bl) return 0;
    size_t bytes = memUsableSize(P.bl) + memUsableSize(P.bl->buf);
    return (long long)bytes;
}

void replDisconnectReplicas(void) {
    for (int i = 0; i < P.nlinks; i++) clientFreeAsync(P.links[i]->c);
}

int replConnectedReplicas(void) {
    int n = 0;
    for (int i = 0; i < P.nlinks; i++)
        if (P.links[i]->state == LINK_ONLINE) n++;
    return n;
}

int replReplicaLinkCount(void) { return P.nlinks; }

/* Redis' findReplica: the announced ip (or the peer's) and the listening
 * port, the host compared without case. */
static replLink *findLink(const char *host, int port) {
    for (int i = 0; i < P.nlinks; i++) {
        char ip[64];
        linkIp(P.links[i], ip, sizeof(ip));
        if (!strcasecmp(host, ip) && port == P.links[i]->listeningPort) return P.links[i];
    }
    return NULL;
}

int replFindReplica(const char *host, int port, long long *ackOff) {
    replLink *l = findLink(host, port);
    if (!l) return -1;
    *ackOff = l->ackOffset;
    return l->state == LINK_ONLINE;
}

int replCaughtUpReplica(char *host, size_t hostCap, int *port) {
    for (int i = 0; i < P.nlinks; i++) {
        replLink *l = P.links[i];
        if (l->state != LINK_ONLINE || l->ackOffset != replOffset()) continue;
        linkIp(l, host, hostCap);
        *port = l->listeningPort;
        return 1;
    }
    return 0;
}

static void startStream(replLink *l) {
    l->streamOnAck = 0;
    size_t n = buf_pending(&l->pend);
    if (n) replyRaw(l->c, l->pend.p + l->pend.pos, n);
    buf_free(&l->pend);
    clientInstallWriteIfNeeded(l->c);
}

static void goOnline(replLink *l) {
    client *c = l->c;
    if (l->fd != -1) {
        close(l->fd);
        l->fd = -1;
    }
    l->state = LINK_ONLINE;
    l->ackTime = srv.mstime;
    if (connHasWriteHandler(c->conn)) connSetWriteHandler(c->conn, NULL);
    buf_free(&l->out);
    /* A replica reading an EOF-marked payload finds the mark only at the
     * end of what it read: nothing may follow it until the replica says it
     * loaded (its first ACK), as Redis' repl_start_cmd_stream_on_ack. */
    if (l->diskless) l->streamOnAck = 1;
    else startStream(l);
    char name[128];
    logNotice("Synchronization with replica %s succeeded", linkName(l, name, sizeof(name)));
    refreshGoodReplicas();
}

static void relayMaybeResume(void);

/* Writes out; refills it from the file (disk) or finishes the sync. */
static void linkWrite(conn *cn) {
    client *c = cn->data;
    replLink *l = c->repl;
    if (!l || l->state == LINK_ONLINE || (c->flags & CLIENT_CLOSE_ASAP)) {
        connSetWriteHandler(cn, NULL);
        return;
    }
    for (;;) {
        if (buf_pending(&l->out) == 0) {
            if (l->state == LINK_SEND_BULK) {
                char chunk[RELAY_CHUNK];
                ssize_t r = read(l->fd, chunk, sizeof(chunk));
                if (r < 0) {
                    char name[128];
                    logWarning("Read error sending DB to replica %s: %s", linkName(l, name, sizeof(name)),
                               strerror(errno));
                    clientFreeAsync(c);
                    return;
                }
                if (r == 0) {
                    goOnline(l);
                    return;
                }
                buf_append(&l->out, chunk, (size_t)r);
            } else if (l->diskless && l->disklessDone) {
                goOnline(l);
                relayMaybeResume();
                return;
            } else {
                connSetWriteHandler(cn, NULL); /* nothing to send until the relay or the child gives more */
                relayMaybeResume();
                return;
            }
        }
        struct iovec iov = {l->out.p + l->out.pos, buf_pending(&l->out)};
        ssize_t n = connWritev(cn, &iov, 1);
        if (n < 0) {
            if (errno == EAGAIN || errno == EWOULDBLOCK) return;
            char name[128];
            logWarning("Write error sending DB to replica %s: %s", linkName(l, name, sizeof(name)), strerror(errno));
            clientFreeAsync(c);
            return;
        }
        l->out.pos += (size_t)n;
        c->netOutBytes += n;
        srv.statNetOutputBytes += n;
        if ((size_t)n < iov.iov_len) return; /* the socket is full */
    }
}

/* Installs linkWrite once the client's own output (a reply queued before
 * the sync began) has gone out. */
static void linkKick(replLink *l) {
    client *c = l->c;
    if (!c->conn || (c->flags & CLIENT_CLOSE_ASAP) || l->state == LINK_ONLINE) return;
    if (clientHasPendingReplies(c)) return; /* the cron tries again */
    if (buf_pending(&l->out) == 0 && l->state != LINK_SEND_BULK && !(l->diskless && l->disklessDone)) return;
    if (!connHasWriteHandler(c->conn)) connSetWriteHandler(c->conn, linkWrite);
}

/* ---- full sync ------------------------------------------------------------ */

static void dropSyncing(int diskless, const char *why) {
    for (int i = 0; i < P.nlinks; i++) {
        replLink *l = P.links[i];
        if ((l->state == LINK_WAIT_END || l->state == LINK_SEND_BULK) && l->diskless == diskless) {
            char name[128];
            logWarning("SYNC failed for replica %s: %s", linkName(l, name, sizeof(name)), why);
            clientFreeAsync(l->c);
        }
    }
}

static void relayClose(void) {
    if (P.pipeFd == -1) return;
    if (!P.pipePaused) elDelFile(srv.el, P.pipeFd, EL_READABLE);
    close(P.pipeFd);
    P.pipeFd = -1;
    P.pipePaused = 0;
}

/* The diskless transfer is complete when the child's pipe ended and the
 * child exited well: then the EOF mark ends every replica's payload. */
static void relayMaybeFinish(void) {
    if (!P.pipeEof || !P.childExited) return;
    relayClose();
    P.pipeEof = 0;
    P.childExited = 0;
    if (!P.childOk) {
        dropSyncing(1, "the child producing the RDB failed");
        return;
    }
    for (int i = 0; i < P.nlinks; i++) {
        replLink *l = P.links[i];
        if (l->state != LINK_WAIT_END || !l->diskless) continue;
        buf_append(&l->out, P.eofMark, EOF_MARK_LEN);
        l->disklessDone = 1;
        linkKick(l);
    }
    logNotice("Diskless rdb transfer, done reading from pipe, %d replicas still up.", P.nlinks);
}

/* The child's pipe is readable: relays it to the replicas of this
 * transfer. As Redis' rdbPipeReadHandler, it goes on reading while every
 * replica's socket takes what was read (written here at once, not on the
 * next loop iteration), so a loop made slow by client load still moves the
 * snapshot at the sockets' pace; it stops when the pipe is empty, a socket
 * is full (its write handler takes over) or after RELAY_ROUNDS chunks, so
 * clients wait at most that long. */
static void relayRead(elLoop *el, int fd, void *data, int mask) {
    (void)el;
    (void)data;
    (void)mask;
    char chunk[RELAY_CHUNK];
    for (int round = 0; round < RELAY_ROUNDS; round++) {
        ssize_t n = read(fd, chunk, sizeof(chunk));
        if (n < 0) {
            if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR) return;
            logWarning("Diskless rdb transfer, read error from the child: %s", strerror(errno));
            relayClose();
            dropSyncing(1, "read error from the RDB child");
            return;
        }
        if (n == 0) {
            elDelFile(srv.el, P.pipeFd, EL_READABLE);
            P.pipePaused = 1;
            P.pipeEof = 1;
            relayMaybeFinish();
            return;
        }
        int full = 0, any = 0, waiting = 0;
        for (int i = 0; i < P.nlinks; i++) {
            replLink *l = P.links[i];
            if (l->state != LINK_WAIT_END || !l->diskless || (l->c->flags & CLIENT_CLOSE_ASAP)) continue;
            any = 1;
            buf_append(&l->out, chunk, (size_t)n);
            linkKick(l);
            if (l->c->conn && connHasWriteHandler(l->c->conn)) linkWrite(l->c->conn); /* at once */
            if (buf_pending(&l->out)) waiting = 1;
            if (buf_pending(&l->out) >= RELAY_HIGH_WATER) full = 1;
        }
        if (!any) {
            /* Every replica of this transfer is gone: stop the child. */
            relayClose();
            snapshotKillChild();
            return;
        }
        if (full) {
            elDelFile(srv.el, P.pipeFd, EL_READABLE);
            P.pipePaused = 1;
            return;
        }
        if (waiting) return; /* a socket is full: its write handler goes on */
    }
}

static void relayMaybeResume(void) {
    if (P.pipeFd == -1 || !P.pipePaused || P.pipeEof) return;
    for (int i = 0; i < P.nlinks; i++) {
        replLink *l = P.links[i];
        if (l->state == LINK_WAIT_END && l->diskless && !(l->c->flags & CLIENT_CLOSE_ASAP) &&
            buf_pending(&l->out) >= RELAY_HIGH_WATER / 2)
            return;
    }
    if (elAddFile(srv.el, P.pipeFd, EL_READABLE, relayRead, NULL) == 0) P.pipePaused = 0;
}

static int wantsDiskless(replLink *l) {
    if (!l->capaEof) return 0;
    /* A sealed snapshot file is not what a replica can load: encrypted
     * nodes always stream a plain RDB through the pipe. */
    return srv.replDisklessSync || srv.snapshotEncryption;
}

/* Queues +FULLRESYNC with the offset of the snapshot about to be forked. */
static void setupFullResync(replLink *l, int diskless) {
    l->state = LINK_WAIT_END;
    l->diskless = diskless;
    l->disklessDone = 0;
    if (!l->prePsync) {
        char line[128];
        int n = snprintf(line, sizeof(line), "+FULLRESYNC %s %lld\r\n", replId(), replOffset());
        buf_append(&l->out, line, (size_t)n);
    }
    if (diskless) {
        char hdr[64];
        int n = snprintf(hdr, sizeof(hdr), "$EOF:%s\r\n", P.eofMark);
        buf_append(&l->out, hdr, (size_t)n);
    }
    linkKick(l);
}

/* Starts the child for the replicas waiting, if it is time. One child
 * serves the diskless replicas that asked for the same parts of the
 * snapshot (rdb-filter-only) as the one waiting longest; the others wait
 * for the next child, as in Redis 7.0. */
static void maybeStartSync(void) {
    if (snapshotChildRunning()) return;
    int waiting = 0, disklessWaiting = 0, exclude = 0;
    long long oldest = 0;
    for (int i = 0; i < P.nlinks; i++) {
        replLink *l = P.links[i];
        if (l->state != LINK_WAIT_START || (l->c->flags & CLIENT_CLOSE_ASAP)) continue;
        waiting++;
        if (wantsDiskless(l)) {
            disklessWaiting++;
            if (!oldest || l->waitSince < oldest) {
                oldest = l->waitSince;
                exclude = l->rdbExclude;
            }
        }
    }
    if (!waiting) return;
    char err[256];
    if (disklessWaiting) {
        int maxed = srv.replDisklessSyncMaxReplicas > 0 && disklessWaiting >= srv.replDisklessSyncMaxReplicas;
        if (!maxed && srv.mstime - oldest < (long long)srv.replDisklessSyncDelay * 1000) return;
        if (randomHex(P.eofMark, EOF_MARK_LEN) == -1) return;
        P.eofMark[EOF_MARK_LEN] = '\0';
        int fd;
        if (snapshotForkToPipe(&fd, exclude, err, sizeof(err)) == -1) {
            logWarning("BGSAVE for replication failed: %s", err);
            return;
        }
        P.childOurs = 1;
        P.pipeFd = fd;
        P.pipePaused = 0;
        P.pipeEof = 0;
        P.childExited = 0;
        elAddFile(srv.el, fd, EL_READABLE, relayRead, NULL);
        P.selDb = -1; /* the replica starts the stream in db 0 after loading */
        for (int i = 0; i < P.nlinks; i++) {
            replLink *l = P.links[i];
            if (l->state == LINK_WAIT_START && wantsDiskless(l) && l->rdbExclude == exclude &&
                !(l->c->flags & CLIENT_CLOSE_ASAP))
                setupFullResync(l, 1);
        }
        return;
    }
    logNotice("Starting BGSAVE for SYNC with target: disk");
    if (snapshotBgsave(err, sizeof(err)) == -1) {
        logWarning("BGSAVE for replication failed: %s", err);
        return;
    }
    P.childOurs = 1;
    P.selDb = -1;
    for (int i = 0; i < P.nlinks; i++) {
        replLink *l = P.links[i];
        if (l->state == LINK_WAIT_START && !(l->c->flags & CLIENT_CLOSE_ASAP)) setupFullResync(l, 0);
    }
}

void replPrimaryChildDone(int ok, int toPipe) {
    int ours = P.childOurs;
    P.childOurs = 0;
    if (toPipe) {
        P.childExited = 1;
        P.childOk = ok;
        relayMaybeFinish();
    } else if (ours) {
        for (int i = 0; i < P.nlinks; i++) {
            replLink *l = P.links[i];
            if (l->state != LINK_WAIT_END || l->diskless || (l->c->flags & CLIENT_CLOSE_ASAP)) continue;
            char name[128];
            if (!ok) {
                logWarning("SYNC failed. BGSAVE child returned an error");
                clientFreeAsync(l->c);
                continue;
            }
            int fd = open(srv.dbfilename, O_RDONLY | O_CLOEXEC);
            struct stat st;
            if (fd == -1 || fstat(fd, &st) == -1) {
                logWarning("SYNC failed. Can't open/stat DB after BGSAVE: %s", strerror(errno));
                if (fd != -1) close(fd);
                clientFreeAsync(l->c);
                continue;
            }
            l->fd = fd;
            char hdr[64];
            int n = snprintf(hdr, sizeof(hdr), "$%lld\r\n", (long long)st.st_size);
            buf_append(&l->out, hdr, (size_t)n);
            l->state = LINK_SEND_BULK;
            logNotice("Streamed RDB transfer with replica %s started", linkName(l, name, sizeof(name)));
            linkKick(l);
        }
    }
    maybeStartSync();
}

/* ---- SYNC / PSYNC / REPLCONF ---------------------------------------------- */

static int tryPartial(client *c, replLink *l, slice id, long long want) {
    int isId = id.len == REPL_ID_LEN && !strncasecmp(id.p, replId(), REPL_ID_LEN);
    int isId2 = id.len == REPL_ID_LEN && !strncasecmp(id.p, replId2(), REPL_ID_LEN);
    char name[128];
    if (!isId && (!isId2 || want > replSecondOffset())) {
        if (id.len && id.p[0] != '?') {
            if (!isId && !isId2)
                logNotice("Partial resynchronization not accepted: Replication ID mismatch (Replica asked for '%.*s', "
                          "my replication IDs are '%s' and '%s')",
                          (int)(id.len > 64 ? 64 : id.len), id.p, replId(), replId2());
            else
                logNotice("Partial resynchronization not accepted: Requested offset for second ID was %lld, but I "
                          "can reply up to %lld",
                          want, replSecondOffset());
        } else {
            logNotice("Full resync requested by replica %s", linkName(l, name, sizeof(name)));
        }
        return -1;
    }
    if (!P.bl || !backlogCanServe(P.bl, want)) {
        logNotice("Unable to partial resync with replica %s for lack of backlog (Replica request was: %lld).",
                  linkName(l, name, sizeof(name)), want);
        if (want > replOffset())
            logWarning("Warning: replica %s tried to PSYNC with an offset that is greater than the master "
                       "replication offset.",
                       linkName(l, name, sizeof(name)));
        return -1;
    }
    linkAttach(l);
    l->state = LINK_ONLINE;
    l->ackTime = srv.mstime;
    char line[128];
    int n = l->capaPsync2 ? snprintf(line, sizeof(line), "+CONTINUE %s\r\n", replId())
                          : snprintf(line, sizeof(line), "+CONTINUE\r\n");
    replyRaw(c, line, (size_t)n);
    long long sent = 0, from = want;
    char chunk[RELAY_CHUNK];
    for (;;) {
        size_t got = backlogRead(P.bl, from, chunk, sizeof(chunk));
        if (!got) break;
        replyRaw(c, chunk, got);
        from += (long long)got;
        sent += (long long)got;
    }
    logNotice("Partial resynchronization request from %s accepted. Sending %lld bytes of backlog starting from "
              "offset %lld.",
              linkName(l, name, sizeof(name)), sent, want);
    refreshGoodReplicas();
    return 0;
}

static void syncCommand(client *c) {
    if (c->flags & CLIENT_REPLICA) return; /* already one: ignored, as Redis */
    /* PSYNC <replid> <offset> FAILOVER: our primary hands us its role. Only
     * when it asks with the history we follow (we are its replica, caught
     * up): we promote ourselves as REPLICAOF NO ONE does, and the PSYNC
     * below continues from our second id. */
    if (c->argc > 3 && !strcasecmp(c->cmd->name, "psync") && sliceEqNocase(c->argv[3], "failover")) {
        if (c->argv[1].len != REPL_ID_LEN || strncasecmp(c->argv[1].p, replId(), REPL_ID_LEN) != 0) {
            replyError(c, "PSYNC FAILOVER replid must match my replid.");
            return;
        }
        char err[128];
        replReplicaConfigure("no", "one", err, sizeof(err)); /* "no one" cannot fail */
        logNotice("Failover request received for replid %s.", replId2());
    }
    if (failoverGetState() != FAILOVER_NONE) {
        replyError(c, "-NOMASTERLINK Can't SYNC while failing over");
        return;
    }
    if (replIsReplica() && !replMasterClient()) {
        replyError(c, "-NOMASTERLINK Can't SYNC while not connected with my master");
        return;
    }
    if (clientHasPendingReplies(c)) {
        replyError(c, "SYNC and PSYNC are invalid with pending output");
        return;
    }
    replLink *l = linkFor(c);
    char name[128];
    logNotice("Replica %s asks for synchronization", linkName(l, name, sizeof(name)));
    int psync = !strcasecmp(c->cmd->name, "psync");
    if (psync) {
        long long want;
        if (getLongLongFromSliceOrReply(c, c->argv[2], &want, NULL) == -1) {
            logWarning("Replica %s asks for synchronization but with a wrong offset", linkName(l, name, sizeof(name)));
            return;
        }
        if (tryPartial(c, l, c->argv[1], want) == 0) {
            srv.statSyncPartialOk++;
            return;
        }
        if (!(c->argv[1].len && c->argv[1].p[0] == '?')) srv.statSyncPartialErr++;
    } else {
        l->prePsync = 1;
    }
    srv.statSyncFull++;
    linkAttach(l);
    l->state = LINK_WAIT_START;
    l->waitSince = srv.mstime;
    l->lastNewline = srv.mstime;
    l->ackTime = srv.mstime;
    if (!P.bl) {
        /* No history kept: a new id, so nobody continues from an old one.
         * A replica keeps its primary's id (its sub-replicas follow it). */
        if (!replIsReplica()) replNewHistory();
        backlogCreateNow();
        logNotice("Replication backlog created, my new replication IDs are '%s' and '%s'", replId(), replId2());
    }
    if (wantsDiskless(l) && srv.replDisklessSyncDelay) logNotice("Delay next BGSAVE for diskless SYNC");
    else if (snapshotChildRunning()) logNotice("No BGSAVE in progress, but another BG operation is active. BGSAVE for replication delayed");
    maybeStartSync();
}


static void processWaiters(void);

/* REPLCONF rdb-filter-only "<filters>" (Redis 7.0; redis-cli
 * --functions-rdb): the parts of the snapshot to include, space separated,
 * "" for none; "functions" is the only one known. Everything else is left
 * out of this replica's (diskless) snapshot. -1 after replying an error. */
static int rdbFilterOnly(client *c, slice val) {
    char **argv; /* the value read as a C string, as Redis does */
    int argc = configSplitArgs(val.p, strnlen(val.p, val.len), &argv);
    if (argc < 0) {
        replyError(c, "Missing rdb-filter-only values");
        return -1;
    }
    int exclude = RDB_SAVE_NO_DATA | RDB_SAVE_NO_FUNCTIONS;
    int rc = 0;
    for (int i = 0; i < argc && rc == 0; i++) {
        if (!strcasecmp(argv[i], "functions")) {
            exclude &= ~RDB_SAVE_NO_FUNCTIONS;
        } else {
            replyErrorFormat(c, "Unsupported rdb-filter-only option: %s", argv[i]);
            rc = -1;
        }
    }
    configFreeArgs(argv, argc);
    if (rc == 0) linkFor(c)->rdbExclude = exclude;
    return rc;
}

static void replconfCommand(client *c) {
    if (c->argc % 2 == 0) {
        replyErrorSyntax(c);
        return;
    }
    for (int j = 1; j < c->argc; j += 2) {
        slice opt = c->argv[j], val = c->argv[j + 1];
        if (sliceEqNocase(opt, "listening-port")) {
            long port;
            if (getLongFromSliceOrReply(c, val, &port, NULL) == -1) return;
            linkFor(c)->listeningPort = (int)port;
        } else if (sliceEqNocase(opt, "ip-address")) {
            if (val.len >= 256) { /* Redis' NET_HOST_STR_LEN */
                replyErrorFormat(c, "REPLCONF ip-address provided by replica instance is too long: %zu bytes",
                                 val.len);
                return;
            }
            replLink *l = linkFor(c);
            size_t n = val.len < sizeof(l->announceIp) - 1 ? val.len : sizeof(l->announceIp) - 1;
            memcpy(l->announceIp, val.p, n);
            l->announceIp[n] = '\0';
        } else if (sliceEqNocase(opt, "capa")) {
            if (sliceEqNocase(val, "eof")) linkFor(c)->capaEof = 1;
            else if (sliceEqNocase(val, "psync2")) linkFor(c)->capaPsync2 = 1;
        } else if (sliceEqNocase(opt, "ack")) {
            if (!(c->flags & CLIENT_REPLICA) || !c->repl) return;
            long long off;
            if (!string2ll(val.p, val.len, &off)) return;
            replLink *l = c->repl;
            if (off > l->ackOffset) l->ackOffset = off;
            l->ackTime = srv.mstime;
            if (l->state == LINK_ONLINE && l->streamOnAck) startStream(l);
            if (P.nwaiters) processWaiters();
            return; /* no reply, ever */
        } else if (sliceEqNocase(opt, "getack")) {
            if (replIsReplica()) replReplicaSendAck();
            return;
        } else if (sliceEqNocase(opt, "rdb-only")) {
            long long v;
            if (!string2ll(val.p, val.len, &v)) {
                replyError(c, "value is not an integer or out of range");
                return;
            }
            if (v != 0 && v != 1) {
                replyError(c, "value is out of range, value must between 0 and 1");
                return;
            }
        } else if (sliceEqNocase(opt, "rdb-filter-only")) {
            if (rdbFilterOnly(c, val) == -1) return;
        } else {
            replyErrorFormat(c, "Unrecognized REPLCONF option: %.*s", (int)(opt.len > 128 ? 128 : opt.len), opt.p);
            return;
        }
    }
    replyOk(c);
}

/* ---- WAIT, min-replicas-to-write -------------------------------------------- */

static long countAcks(long long offset) {
    long n = 0;
    for (int i = 0; i < P.nlinks; i++)
        if (P.links[i]->state == LINK_ONLINE && P.links[i]->ackOffset >= offset) n++;
    return n;
}


static void requestAcks(void) {
    static const slice getack[3] = {{"REPLCONF", 8}, {"GETACK", 6}, {"*", 1}};
    if (P.bl && P.nlinks) feedCommand(-1, getack, 3);
}

static void unblockWaiter(int i, long acks) {
    client *c = P.waiters[i];
    P.waiters[i] = P.waiters[P.nwaiters - 1];
    waitInfos[i] = waitInfos[P.nwaiters - 1];
    P.nwaiters--;
    c->flags &= ~(uint64_t)(CLIENT_WAIT_ACK | CLIENT_BLOCKED);
    replyLongLong(c, acks);
    clientInstallWriteIfNeeded(c);
    clientProcessPendingInput(c); /* only from the event loop: never inside a command */
}

static long waitTimerProc(elLoop *el, long long id, void *data) {
    (void)el;
    (void)id;
    (void)data;
    P.waitTimer = -1;
    serverUpdateCachedTime();
    for (int i = 0; i < P.nwaiters;) {
        waitInfo *w = &waitInfos[i];
        long acks = countAcks(w->offset);
        if (acks >= w->numreplicas || (w->deadline && srv.mstime >= w->deadline)) unblockWaiter(i, acks);
        else i++;
    }
    return -1;
}

/* From inside a command (an ACK arrived): the replies and the resumed
 * input wait for a timer, outside of any command. */
static void processWaiters(void) {
    if (P.waitTimer == -1) P.waitTimer = elAddTimer(srv.el, 0, waitTimerProc, NULL);
}

static void waitCommand(client *c) {
    if (replIsReplica()) {
        replyError(c, "WAIT cannot be used with replica instances. Please also note that since Redis 4.0 if a "
                      "replica is configured to be writable (which is not the default) writes to replicas are just "
                      "local and are not propagated.");
        return;
    }
    long numreplicas;
    long long timeout;
    if (getLongFromSliceOrReply(c, c->argv[1], &numreplicas, NULL) == -1) return;
    if (getLongLongFromSliceOrReply(c, c->argv[2], &timeout, "timeout is not an integer or out of range") == -1)
        return;
    if (timeout < 0) {
        replyError(c, "timeout is negative");
        return;
    }
    long acks = countAcks(c->woff);
    if (acks >= numreplicas || (c->flags & CLIENT_MULTI) || (c->flags & CLIENT_SCRIPT)) {
        replyLongLong(c, acks);
        return;
    }
    if (P.nwaiters == P.capwaiters) {
        P.capwaiters = P.capwaiters ? P.capwaiters * 2 : 8;
        P.waiters = memRealloc(P.waiters, sizeof(client *) * (size_t)P.capwaiters);
        waitInfos = memRealloc(waitInfos, sizeof(*waitInfos) * (size_t)P.capwaiters);
    }
    P.waiters[P.nwaiters] = c;
    waitInfos[P.nwaiters].offset = c->woff;
    waitInfos[P.nwaiters].deadline = timeout ? srv.mstime + timeout : 0;
    waitInfos[P.nwaiters].numreplicas = numreplicas;
    P.nwaiters++;
    c->flags |= CLIENT_WAIT_ACK | CLIENT_BLOCKED;
    requestAcks();
}

int replPrimaryWritesAllowed(void) {
    if (replIsReplica() || !srv.minReplicasToWrite || !srv.minReplicasMaxLag) return 1;
    refreshGoodReplicas();
    return P.goodReplicas >= srv.minReplicasToWrite;
}

/* ---- cron, INFO, ROLE --------------------------------------------------------- */

void replPrimaryInit(void) {}

void replPrimaryCron(void) {
    long long now = srv.mstime;
    /* Keepalive in the stream (only as the origin of it: a replica proxies
     * its primary's pings). */
    /* Nor while a FAILOVER waits: a PING would move the offset the target
     * must reach. */
    if (!replIsReplica() && P.nlinks && failoverGetState() == FAILOVER_NONE &&
        now - P.lastPing >= (long long)srv.replPingReplicaPeriod * 1000) {
        static const slice ping = {"PING", 4};
        P.lastPing = now;
        if (P.bl) feedCommand(-1, &ping, 1);
    }
    for (int i = 0; i < P.nlinks; i++) {
        replLink *l = P.links[i];
        client *c = l->c;
        if (c->flags & CLIENT_CLOSE_ASAP) continue;
        if (l->state == LINK_WAIT_START && now - l->lastNewline >= 1000 && !clientHasPendingReplies(c)) {
            /* A newline a second keeps a replica waiting for its snapshot
             * to start from timing out (Redis sends the same). */
            l->lastNewline = now;
            struct iovec iov = {"\n", 1};
            if (connWritev(c->conn, &iov, 1) < 0 && errno != EAGAIN && errno != EWOULDBLOCK) {
                clientFreeAsync(c);
                continue;
            }
        }
        if (l->state == LINK_ONLINE && !l->prePsync && now - l->ackTime > (long long)srv.replTimeout * 1000) {
            char name[128];
            logWarning("Disconnecting timedout replica (streaming sync): %s", linkName(l, name, sizeof(name)));
            clientFreeAsync(c);
            continue;
        }
        if (l->state != LINK_ONLINE) linkKick(l);
    }
    /* The backlog outlives its replicas by repl-backlog-ttl. A replica's
     * is not subject to it, and a promoted replica counts it from the
     * promotion (Redis 7.0 restarts the timer in replicationUnsetMaster):
     * its backlog is what the old primary and the other replicas continue
     * from. So the timer follows the clock while we follow a primary. */
    if (replIsReplica() && P.nlinks == 0) P.noReplicasSince = now;
    if (!replIsReplica() && P.bl && P.nlinks == 0 && srv.replBacklogTtl &&
        now - P.noReplicasSince > srv.replBacklogTtl * 1000) {
        replNewHistory();
        backlogFree(P.bl);
        P.bl = NULL;
        logNotice("Replication backlog freed after %lld seconds without connected replicas.", srv.replBacklogTtl);
    }
    maybeStartSync();
    if (P.nwaiters) processWaiters();
    refreshGoodReplicas();
}

void replPrimaryInfo(textBuf *b) {
    textAppend(b, "connected_slaves:%d\r\n", P.nlinks);
    if (srv.minReplicasToWrite && srv.minReplicasMaxLag) {
        refreshGoodReplicas();
        textAppend(b, "min_slaves_good_slaves:%d\r\n", P.goodReplicas);
    }
    for (int i = 0; i < P.nlinks; i++) {
        replLink *l = P.links[i];
        const char *state = l->state == LINK_ONLINE      ? "online"
                            : l->state == LINK_SEND_BULK ? "send_bulk"
                                                         : "wait_bgsave";
        char ip[64];
        linkIp(l, ip, sizeof(ip));
        textAppend(b, "slave%d:ip=%s,port=%d,state=%s,offset=%lld,lag=%lld\r\n", i, ip, l->listeningPort, state,
                   l->ackOffset, (srv.mstime - l->ackTime) / 1000);
    }
    textAppend(b,
               "master_failover_state:%s\r\n"
               "master_replid:%s\r\n"
               "master_replid2:%s\r\n"
               "master_repl_offset:%lld\r\n"
               "second_repl_offset:%lld\r\n"
               "repl_backlog_active:%d\r\n"
               "repl_backlog_size:%lld\r\n"
               "repl_backlog_first_byte_offset:%lld\r\n"
               "repl_backlog_histlen:%lld\r\n",
               failoverStateName(), replId(), replId2(), replOffset(), replSecondOffset(), P.bl != NULL, srv.replBacklogSize,
               P.bl ? P.bl->firstOffset : 0, P.bl ? P.bl->histlen : 0);
}

void replPrimaryRole(client *c) {
    replyArrayLen(c, 3);
    replyBulkCString(c, "master");
    replyLongLong(c, replOffset());
    replyArrayLen(c, replConnectedReplicas());
    for (int i = 0; i < P.nlinks; i++) {
        replLink *l = P.links[i];
        if (l->state != LINK_ONLINE) continue;
        char ip[64];
        linkIp(l, ip, sizeof(ip));
        replyArrayLen(c, 3);
        replyBulkCString(c, ip);
        replyBulkLongLong(c, l->listeningPort);
        replyBulkLongLong(c, l->ackOffset);
    }
}

/* SYNC, PSYNC, REPLCONF, WAIT (Redis 7.0's flags and categories). */
cmdDef replPrimaryCommands[] = {
    {.name = "sync", .proc = syncCommand, .arity = 1, .flags = CMD_ADMIN | CMD_NOSCRIPT | CMD_NO_ASYNC_LOADING | CMD_NO_MULTI, .acl = ACL_DANGEROUS, .group = "server", .since = "1.0.0", .summary = "Internal command used for replication", .complexity = NULL},
    {.name = "psync", .proc = syncCommand, .arity = -3, .flags = CMD_ADMIN | CMD_NOSCRIPT | CMD_NO_ASYNC_LOADING | CMD_NO_MULTI, .acl = ACL_DANGEROUS, .group = "server", .since = "2.8.0", .summary = "Internal command used for replication", .complexity = NULL},
    {.name = "replconf", .proc = replconfCommand, .arity = -1, .flags = CMD_ADMIN | CMD_NOSCRIPT | CMD_LOADING | CMD_STALE | CMD_ALLOW_BUSY, .acl = ACL_DANGEROUS, .group = "server", .since = "3.0.0", .summary = "An internal command for configuring the replication stream", .complexity = "O(1)"},
    {.name = "wait", .proc = waitCommand, .arity = 3, .flags = CMD_NOSCRIPT, .acl = ACL_CONNECTION, .group = "generic", .since = "3.0.0", .summary = "Wait for the synchronous replication of all the write commands sent in the context of the current connection", .complexity = "O(1)"},
    {0}};
