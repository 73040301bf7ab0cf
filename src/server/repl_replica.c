/* repl_replica.c - the sink side of replication (repl.h): REPLICAOF, the
 * link to our primary and the master client that applies its stream.
 *
 * Owns: the primary's address, the link (an outbound conn, conn_out.h) and
 * its state machine, the transfer of the snapshot into a temp file in `dir`,
 * the master client (CLIENT_MASTER) and the bytes of a transaction it has
 * not finished applying.
 * Must never block the event loop while the link is being set up or the
 * snapshot arrives, and never apply a byte of the stream twice or skip one:
 * replOffset() counts exactly the bytes applied (fed to replFeedStream), and
 * a reconnection asks PSYNC <replid> <replOffset()+1>.
 *
 * ---- The link's state machine (R.state) ----------------------------------
 *
 *   NONE        not a replica. host == NULL, link == NULL, master == NULL.
 *               -> CONNECT     replicaSet       (REPLICAOF host port, config)
 *   CONNECT     a replica waiting for the cron (or the command) to connect.
 *               host set, link == NULL, master == NULL.
 *               -> CONNECTING  linkConnect      (connOutConnect started)
 *   CONNECTING  the outbound connect (and TLS handshake) runs. link set,
 *               not yet open; master == NULL.
 *               -> HANDSHAKE   linkConnected    (conn open: PING sent)
 *               -> CONNECT     linkDrop         (refused, timeout, TLS error)
 *   HANDSHAKE   PING, AUTH, REPLCONF, PSYNC: R.hs names the reply awaited.
 *               link set and open, fd == -1, master == NULL.
 *               -> TRANSFER    hsPsyncReply     (+FULLRESYNC: temp file open)
 *               -> CONNECTED   masterCreate     (+CONTINUE)
 *               -> CONNECT     linkDrop         (error reply, I/O, timeout)
 *   TRANSFER    the snapshot arrives into R.fd (temp file in dir).
 *               link set, fd >= 0, master == NULL.
 *               -> CONNECTED   masterCreate     (snapshot complete and loaded)
 *               -> CONNECT     linkDrop         (truncated, bad, I/O, timeout)
 *   CONNECTED   the master client applies the stream. link == NULL (the
 *               conn belongs to the master client), master set, fd == -1.
 *               -> CONNECT     replMasterClientFree (link lost, CLIENT KILL,
 *                                                   timeout)
 *   Every state -> NONE by replicaUnset (REPLICAOF NO ONE), and any state
 *   but NONE -> CONNECT by replicaSet (REPLICAOF another primary).
 * checkInvariants() asserts the per-state facts above (CACHET_ASSERTS). */
#include "repl.h"
#include "tls.h"
#include "net.h"
#include "client.h"
#include "cmd.h"
#include "reply.h"
#include "args.h"
#include "db.h"
#include "config.h"
#include "snapshot.h"
#include "function.h"
#include "rdb.h"
#include "crc64.h"
#include "conn_out.h"
#include "dassert.h"
#include "failover.h"
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

typedef enum { RS_NONE, RS_CONNECT, RS_CONNECTING, RS_HANDSHAKE, RS_TRANSFER, RS_CONNECTED } replState;
/* Replies awaited in HANDSHAKE, in the order the requests were sent. */
typedef enum { HS_PING, HS_AUTH, HS_PORT, HS_IP, HS_CAPA, HS_PSYNC } hsStep;

#define LINK_LINE_MAX (64 * 1024) /* a handshake reply longer than this is garbage */
#define EOF_MARK_LEN 40

static struct {
    replState state;
    char *host;            /* as given to REPLICAOF (INFO, ROLE); memAlloc'd */
    char addr[INET6_ADDRSTRLEN]; /* numeric address actually connected to */
    int port;
    conn *link;            /* CONNECTING .. TRANSFER */
    client *master;        /* CONNECTED */
    hsStep hs[6];          /* HANDSHAKE: replies awaited, hs[hsPos] is next */
    int hsCount, hsPos;
    char *in;              /* link bytes read but not consumed (HANDSHAKE, TRANSFER) */
    size_t inLen, inCap;
    char *out;             /* handshake requests not yet written */
    size_t outLen, outPos, outCap;
    long long lastIo;      /* ms: last byte from the primary on the link */
    long long lastConnect; /* ms: last connect attempt (the cron retries once a second) */
    long long lastAck;     /* ms: last REPLCONF ACK sent */
    long long downSince;   /* unix s the link went down; 0: it never was up */
    int haveHistory;       /* PSYNC <replid> <offset+1>, else PSYNC ? -1 */
    int cachedDb;          /* the master client's db when the link dropped */
    int linkTls;           /* the transport the current link was opened with */
    /* TRANSFER */
    int fd;
    char tmpName[96];
    long long size;        /* -1: header not read yet; 0: $EOF framing; else $<size> */
    int eofFraming;
    char eofMark[EOF_MARK_LEN];
    long long readBytes;   /* snapshot bytes written to fd */
    char fullId[REPL_ID_LEN + 1];
    long long fullOffset;
    /* The applied bytes of a MULTI the master client has not EXECuted yet:
     * fed to the stream with the EXEC, dropped if the link breaks first
     * (the primary then resends the whole transaction). */
    char *txn;
    size_t txnLen, txnCap;
} R = {.fd = -1};

static const char *stateName(void) {
    switch (R.state) {
    case RS_NONE: return "none";
    case RS_CONNECT: return "connect";
    case RS_CONNECTING: return "connecting";
    case RS_HANDSHAKE: return "handshake";
    case RS_TRANSFER: return "sync";
    case RS_CONNECTED: return "connected";
    }
    return "unknown";
}

static void checkInvariants(void) {
    switch (R.state) {
    case RS_NONE:
        CACHET_ASSERT(!R.host && !R.link && !R.master && R.fd == -1);
        break;
    case RS_CONNECT:
        CACHET_ASSERT(R.host && !R.link && !R.master && R.fd == -1);
        break;
    case RS_CONNECTING:
    case RS_HANDSHAKE:
        CACHET_ASSERT(R.host && R.link && !R.master && R.fd == -1);
        break;
    case RS_TRANSFER:
        CACHET_ASSERT(R.host && R.link && !R.master && R.fd >= 0);
        break;
    case RS_CONNECTED:
        CACHET_ASSERT(R.host && !R.link && R.master && R.fd == -1);
        break;
    }
}

static void setState(replState to) {
    R.state = to;
    checkInvariants();
}

/* ---- addresses ----------------------------------------------------------- */

static int resolveHost(const char *host, char *out, size_t outlen) { return netResolveHost(host, out, outlen); }

static int parsePort(const char *p, size_t len, int *port) {
    long long v;
    if (!string2ll(p, len, &v) || v < 0 || v > 65535) return -1;
    *port = (int)v;
    return 0;
}

/* ---- the link: buffers and teardown -------------------------------------- */

static void transferAbort(void) {
    if (R.fd != -1) {
        close(R.fd);
        R.fd = -1;
        unlink(R.tmpName);
    }
}

static void linkBuffersFree(void) {
    memFree(R.in);
    R.in = NULL;
    R.inLen = R.inCap = 0;
    memFree(R.out);
    R.out = NULL;
    R.outLen = R.outPos = R.outCap = 0;
    R.hsCount = R.hsPos = 0;
}

/* Any link state -> CONNECT (or stays as it is when there is no link): the
 * cron retries. The old dataset stays as it was. */
static void linkDrop(void) {
    /* A FAILOVER waits for this link's PSYNC reply: it will not come. */
    if (R.state == RS_CONNECTING || R.state == RS_HANDSHAKE) failoverLinkFailed();
    transferAbort();
    if (R.link) {
        connClose(R.link);
        R.link = NULL;
    }
    linkBuffersFree();
    if (R.state == RS_CONNECTING || R.state == RS_HANDSHAKE || R.state == RS_TRANSFER) setState(RS_CONNECT);
}

static void linkWrite(conn *cn);

static void linkFlush(void) {
    while (R.outPos < R.outLen) {
        struct iovec iov = {R.out + R.outPos, R.outLen - R.outPos};
        ssize_t n = connWritev(R.link, &iov, 1);
        if (n < 0) {
            if (errno == EAGAIN || errno == EWOULDBLOCK) break;
            logWarning("Error writing to MASTER: %s", strerror(errno));
            linkDrop();
            return;
        }
        R.outPos += (size_t)n;
    }
    if (R.outPos == R.outLen) {
        R.outPos = R.outLen = 0;
        if (connHasWriteHandler(R.link)) connSetWriteHandler(R.link, NULL);
    } else if (!connHasWriteHandler(R.link)) {
        connSetWriteHandler(R.link, linkWrite);
    }
}

static void linkWrite(conn *cn) {
    (void)cn;
    if (R.link) linkFlush();
}

/* Queues one request in RESP (binary safe: passwords may hold anything). */
static void linkSend(int argc, const char **argv) {
    char head[32];
    for (int i = -1; i < argc; i++) {
        size_t alen = i < 0 ? 0 : strlen(argv[i]);
        int hl = i < 0 ? snprintf(head, sizeof(head), "*%d\r\n", argc) : snprintf(head, sizeof(head), "$%zu\r\n", alen);
        size_t need = R.outLen + (size_t)hl + alen + 2;
        if (need > R.outCap) {
            R.outCap = need + 256;
            R.out = memRealloc(R.out, R.outCap);
        }
        memcpy(R.out + R.outLen, head, (size_t)hl);
        R.outLen += (size_t)hl;
        if (i >= 0) {
            memcpy(R.out + R.outLen, argv[i], alen);
            R.outLen += alen;
            memcpy(R.out + R.outLen, "\r\n", 2);
            R.outLen += 2;
        }
    }
}

/* ---- the master client --------------------------------------------------- */

static void sendAck(void) {
    if (!R.master) return;
    char off[32];
    int n = snprintf(off, sizeof(off), "%lld", replOffset());
    char buf[96];
    int len = snprintf(buf, sizeof(buf), "*3\r\n$8\r\nREPLCONF\r\n$3\r\nACK\r\n$%d\r\n%s\r\n", n, off);
    R.master->flags |= CLIENT_MASTER_FORCE_REPLY;
    replyRaw(R.master, buf, (size_t)len);
    R.master->flags &= ~(uint64_t)CLIENT_MASTER_FORCE_REPLY;
    R.lastAck = srv.mstime;
}

void replReplicaSendAck(void) { sendAck(); }

/* HANDSHAKE or TRANSFER -> CONNECTED: the link's conn becomes the master
 * client's; bytes already read past the snapshot or the +CONTINUE line are
 * the first bytes of the stream. */
static void masterCreate(int dbid, int ackNow) {
    CACHET_ASSERT(R.outPos == R.outLen); /* PSYNC was answered, so it was sent whole */
    conn *cn = R.link;
    R.link = NULL;
    if (connHasWriteHandler(cn)) connSetWriteHandler(cn, NULL);
    client *m = clientCreate(cn);
    m->flags |= CLIENT_MASTER | CLIENT_AUTHENTICATED;
    if (dbid < 0 || dbid >= srv.dbnum) dbid = 0;
    m->db = &srv.db[dbid];
    size_t left = R.inLen;
    if (left) {
        m->querybuf = memAlloc(left < PROTO_IOBUF_LEN ? PROTO_IOBUF_LEN : left);
        m->qcap = memUsableSize(m->querybuf);
        memcpy(m->querybuf, R.in, left);
        m->qlen = left;
    }
    linkBuffersFree();
    R.txnLen = 0;
    R.master = m;
    R.lastAck = 0;
    setState(RS_CONNECTED);
    if (ackNow) sendAck(); /* a diskless primary streams only after our first ACK */
    if (left) clientProcessPendingInput(m);
}

void replMasterApplied(client *c, const char *buf, size_t len) {
    if (c != R.master) return; /* a master client being dropped: nothing counts */
    if (c->flags & CLIENT_MULTI) {
        if (R.txnLen + len > R.txnCap) {
            R.txnCap = (R.txnLen + len) * 2;
            R.txn = memRealloc(R.txn, R.txnCap);
        }
        memcpy(R.txn + R.txnLen, buf, len);
        R.txnLen += len;
        return;
    }
    if (R.txnLen) {
        replFeedStream(R.txn, R.txnLen);
        R.txnLen = 0;
    }
    replFeedStream(buf, len);
}

int replMasterIntercept(client *c) {
    /* REPLCONF GETACK: the one request of the stream that is answered. */
    if (c != R.master || c->argc < 2 || !sliceEqNocase(c->argv[0], "replconf") ||
        !sliceEqNocase(c->argv[1], "getack"))
        return 0;
    sendAck();
    return 1;
}

void replMasterClientFree(client *c) {
    if (c != R.master) return;
    R.cachedDb = c->db ? c->db->id : 0;
    R.master = NULL;
    R.txnLen = 0; /* an unfinished transaction was not applied (multiDiscard) */
    R.haveHistory = 1;
    R.downSince = srv.mstime / 1000;
    if (R.state == RS_CONNECTED) {
        logNotice("Connection with master lost.");
        logNotice("Caching the disconnected master state.");
        setState(RS_CONNECT);
    }
}

client *replMasterClient(void) { return R.master; }

int replReplicaLinkUp(void) { return R.state == RS_CONNECTED; }

/* ---- the snapshot -------------------------------------------------------- */

/* A snapshot that is not whole must not replace the data: the magic, and the
 * CRC-64 trailer when the primary wrote one (not 0). */
static int snapshotLooksWhole(const char *path, char *err, size_t errlen) {
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd == -1) {
        snprintf(err, errlen, "cannot reopen %s: %s", path, strerror(errno));
        return -1;
    }
    struct stat st;
    int rc = 0;
    if (fstat(fd, &st) == -1 || st.st_size < 9 + 1 + 8) {
        snprintf(err, errlen, "snapshot too short (%lld bytes)", (long long)st.st_size);
        close(fd);
        return -1;
    }
    char head[9];
    if (pread(fd, head, 9, 0) != 9 || memcmp(head, "REDIS", 5) != 0) {
        snprintf(err, errlen, "not an RDB snapshot (bad magic)");
        close(fd);
        return -1;
    }
    unsigned char trailer[8];
    if (pread(fd, trailer, 8, st.st_size - 8) != 8) {
        snprintf(err, errlen, "cannot read the checksum: %s", strerror(errno));
        close(fd);
        return -1;
    }
    uint64_t want = 0;
    for (int i = 7; i >= 0; i--) want = want << 8 | trailer[i];
    if (want != 0) {
        uint64_t crc = 0;
        char buf[64 * 1024];
        off_t left = st.st_size - 8, pos = 0;
        while (left > 0) {
            size_t chunk = left > (off_t)sizeof(buf) ? sizeof(buf) : (size_t)left;
            ssize_t n = pread(fd, buf, chunk, pos);
            if (n <= 0) {
                snprintf(err, errlen, "cannot read the snapshot: %s", n < 0 ? strerror(errno) : "short read");
                rc = -1;
                break;
            }
            crc = crc64(crc, buf, (size_t)n);
            pos += n;
            left -= n;
        }
        if (rc == 0 && crc != want) {
            snprintf(err, errlen, "checksum mismatch (the snapshot is not the one announced)");
            rc = -1;
        }
    }
    close(fd);
    return rc;
}

/* TRANSFER: the whole snapshot is in R.tmpName. Returns 0 when it is loaded
 * (-> CONNECTED), -1 after dropping the link. */
static int transferDone(void) {
    if (fsync(R.fd) == -1) logVerbose("fsync of the replication temp file: %s", strerror(errno));
    close(R.fd);
    R.fd = -1;
    char err[256];
    if (snapshotLooksWhole(R.tmpName, err, sizeof(err)) == -1) {
        logWarning("MASTER <-> REPLICA sync: the snapshot received is not valid (%s): keeping the old data", err);
        unlink(R.tmpName);
        linkDrop();
        return -1;
    }
    logNotice("MASTER <-> REPLICA sync: Flushing old data");
    for (int i = 0; i < srv.dbnum; i++) dbEmptyGeneric(&srv.db[i], srv.replicaLazyFlush);
    fnFlushAll();
    logNotice("MASTER <-> REPLICA sync: Loading DB in memory");
    int rc = rdbLoadFile(R.tmpName, err, sizeof(err));
    unlink(R.tmpName);
    serverUpdateCachedTime();
    if (rc != 0) {
        logWarning("Failed trying to load the MASTER synchronization DB from disk, check server logs. (%s)",
                   rc == 1 ? "file vanished" : err);
        for (int i = 0; i < srv.dbnum; i++) dbEmptyGeneric(&srv.db[i], 1);
        fnFlushAll();
        /* The data is gone: our old history no longer describes it. */
        replNewHistory();
        R.haveHistory = 0;
        linkDrop();
        return -1;
    }
    logNotice("Done loading RDB, keys loaded: %lld, keys expired: %lld.", srv.loadKeysLoaded, srv.loadKeysExpired);
    replAdoptHistory(R.fullId, R.fullOffset);
    replBacklogReset();
    R.haveHistory = 1;
    /* The stream goes on in the db the snapshot names (a primary that is
     * itself a replica proxies without a SELECT of its own). */
    int streamDb = rdbLoadedReplStreamDb();
    masterCreate(streamDb >= 0 ? streamDb : 0, 1);
    logNotice("MASTER <-> REPLICA sync: Finished with success");
    return 0;
}

static void consume(size_t n) {
    memmove(R.in, R.in + n, R.inLen - n);
    R.inLen -= n;
}

static int writeAll(const char *p, size_t n) {
    while (n) {
        ssize_t w = write(R.fd, p, n);
        if (w < 0) {
            if (errno == EINTR) continue;
            logWarning("Write error saving the DB to disk while syncing with MASTER: %s", strerror(errno));
            linkDrop();
            return -1;
        }
        p += w;
        n -= (size_t)w;
        R.readBytes += w;
    }
    return 0;
}

/* Takes the next line (without CR LF) from R.in into line; 1 when there was
 * one, 0 when more bytes are needed, -1 (link dropped) when too long. */
static int takeLine(char *line, size_t cap) {
    char *nl = memchr(R.in, '\n', R.inLen);
    if (!nl) {
        if (R.inLen > LINK_LINE_MAX) {
            logWarning("MASTER <-> REPLICA sync: reply from MASTER too long (%zu bytes without a newline)", R.inLen);
            linkDrop();
            return -1;
        }
        return 0;
    }
    size_t n = (size_t)(nl - R.in), keep = n;
    if (keep && R.in[keep - 1] == '\r') keep--;
    if (keep >= cap) keep = cap - 1;
    memcpy(line, R.in, keep);
    line[keep] = '\0';
    consume(n + 1);
    return 1;
}

/* TRANSFER: consumes R.in. 1: call again (more to do), 0: needs bytes. */
static int transferStep(void) {
    if (R.size == -1) {
        char line[LINK_LINE_MAX + 1];
        int got = takeLine(line, sizeof(line));
        if (got <= 0) return 0;
        if (line[0] == '\0') return 1; /* the primary's keepalive newline while it prepares */
        if (line[0] == '-') {
            logWarning("MASTER aborted replication with an error: %s", line + 1);
            linkDrop();
            return 0;
        }
        if (line[0] != '$') {
            logWarning("Bad protocol from MASTER, the first byte is not '$' (we received '%.64s'), are you sure the "
                       "host and port are right?",
                       line);
            linkDrop();
            return 0;
        }
        if (!strncmp(line + 1, "EOF:", 4) && strlen(line + 5) >= EOF_MARK_LEN) {
            memcpy(R.eofMark, line + 5, EOF_MARK_LEN);
            R.eofFraming = 1;
            R.size = 0;
            logNotice("MASTER <-> REPLICA sync: receiving streamed RDB from master with EOF to disk");
        } else {
            long long v;
            if (!string2ll(line + 1, strlen(line + 1), &v) || v < 0) {
                logWarning("Bad protocol from MASTER, invalid snapshot length '%.64s'", line + 1);
                linkDrop();
                return 0;
            }
            R.size = v;
            R.eofFraming = 0;
            logNotice("MASTER <-> REPLICA sync: receiving %lld bytes from master to disk", v);
            if (v == 0) {
                transferDone();
                return 0;
            }
        }
        return 1;
    }
    if (!R.eofFraming) {
        long long want = R.size - R.readBytes;
        size_t n = (long long)R.inLen < want ? R.inLen : (size_t)want;
        if (n && writeAll(R.in, n) == -1) return 0;
        consume(n);
        if (R.readBytes == R.size) transferDone();
        return 0;
    }
    /* $EOF: the last 40 bytes are the mark. Hold back 39 bytes, which may be
     * the start of it, until more arrive. */
    char *m = R.inLen >= EOF_MARK_LEN ? memmem(R.in, R.inLen, R.eofMark, EOF_MARK_LEN) : NULL;
    if (m) {
        size_t n = (size_t)(m - R.in);
        if (n && writeAll(R.in, n) == -1) return 0;
        consume(n + EOF_MARK_LEN);
        transferDone();
        return 0;
    }
    if (R.inLen > EOF_MARK_LEN - 1) {
        size_t n = R.inLen - (EOF_MARK_LEN - 1);
        if (writeAll(R.in, n) == -1) return 0;
        consume(n);
    }
    return 0;
}

/* ---- the handshake ------------------------------------------------------- */

static void sendPsync(void) {
    char off[32];
    const char *argv[4] = {"PSYNC", "?", "-1", "FAILOVER"};
    if (R.haveHistory) {
        snprintf(off, sizeof(off), "%lld", replOffset() + 1);
        argv[1] = replId();
        argv[2] = off;
        logNotice("Trying a partial resynchronization (request %s:%s).", argv[1], off);
    } else {
        logNotice("Partial resynchronization not possible (no cached master)");
    }
    /* A primary handing its role to this one (failover.c) says so: the
     * target promotes itself before answering. */
    linkSend(failoverGetState() == FAILOVER_IN_PROGRESS ? 4 : 3, argv);
    R.hs[0] = HS_PSYNC;
    R.hsCount = 1;
    R.hsPos = 0;
    linkFlush();
}

/* After PING: AUTH, REPLCONF listening-port [ip-address], capa, pipelined
 * as Redis 7.0 sends them. */
static void sendHandshake(void) {
    R.hsCount = R.hsPos = 0;
    if (srv.masterAuth && srv.masterAuth[0]) {
        if (srv.masterUser && srv.masterUser[0]) {
            const char *a[3] = {"AUTH", srv.masterUser, srv.masterAuth};
            linkSend(3, a);
        } else {
            const char *a[2] = {"AUTH", srv.masterAuth};
            linkSend(2, a);
        }
        R.hs[R.hsCount++] = HS_AUTH;
    }
    char port[16];
    snprintf(port, sizeof(port), "%d", srv.replicaAnnouncePort ? srv.replicaAnnouncePort : srv.port);
    const char *lp[3] = {"REPLCONF", "listening-port", port};
    linkSend(3, lp);
    R.hs[R.hsCount++] = HS_PORT;
    if (srv.replicaAnnounceIp && srv.replicaAnnounceIp[0]) {
        const char *ip[3] = {"REPLCONF", "ip-address", srv.replicaAnnounceIp};
        linkSend(3, ip);
        R.hs[R.hsCount++] = HS_IP;
    }
    const char *capa[5] = {"REPLCONF", "capa", "eof", "capa", "psync2"};
    linkSend(5, capa);
    R.hs[R.hsCount++] = HS_CAPA;
    linkFlush();
}

static int openTransferFile(void) {
    for (int tries = 0; tries < 5; tries++) {
        snprintf(R.tmpName, sizeof(R.tmpName), "temp-%lld.%d.rdb", (long long)(srv.mstime / 1000) + tries,
                 (int)getpid());
        R.fd = open(R.tmpName, O_CREAT | O_WRONLY | O_EXCL | O_CLOEXEC, 0644);
        if (R.fd != -1) return 0;
        if (errno != EEXIST) break;
    }
    logWarning("Opening the temp file needed for MASTER <-> REPLICA synchronization: %s", strerror(errno));
    return -1;
}

static void hsPsyncReply(const char *line) {
    if (line[0] == '\0') return; /* keepalive newline before the reply */
    if (!strncmp(line, "+FULLRESYNC", 11)) {
        const char *id = line + 11;
        while (*id == ' ') id++;
        const char *sp = strchr(id, ' ');
        long long off;
        if (!sp || sp - id != REPL_ID_LEN || !string2ll(sp + 1, strlen(sp + 1), &off) || off < 0) {
            logWarning("Master replied with wrong +FULLRESYNC syntax: '%.128s'", line);
            linkDrop();
            return;
        }
        failoverPsyncAnswered(1);
        memcpy(R.fullId, id, REPL_ID_LEN);
        R.fullId[REPL_ID_LEN] = '\0';
        R.fullOffset = off;
        logNotice("Full resync from master: %s:%lld", R.fullId, off);
        /* Sub-replicas follow a history we are about to leave. */
        replDisconnectReplicas();
        if (openTransferFile() == -1) {
            linkDrop();
            return;
        }
        R.size = -1;
        R.readBytes = 0;
        R.eofFraming = 0;
        R.hsCount = R.hsPos = 0;
        setState(RS_TRANSFER);
        return;
    }
    if (!strncmp(line, "+CONTINUE", 9)) {
        const char *id = line + 9;
        while (*id == ' ') id++;
        if (strlen(id) >= REPL_ID_LEN && strncmp(id, replId(), REPL_ID_LEN) != 0) {
            char newId[REPL_ID_LEN + 1];
            memcpy(newId, id, REPL_ID_LEN);
            newId[REPL_ID_LEN] = '\0';
            replShiftHistory(newId);
            logNotice("Master replication ID changed to %s", newId);
            replDisconnectReplicas(); /* they must learn the new id */
        }
        failoverPsyncAnswered(1);
        logNotice("Successful partial resynchronization with master.");
        logNotice("MASTER <-> REPLICA sync: Master accepted a Partial Resynchronization.");
        masterCreate(R.cachedDb, 0);
        return;
    }
    if (!strncmp(line, "-NOMASTERLINK", 13) || !strncmp(line, "-LOADING", 8)) {
        logNotice("Master is currently unable to PSYNC but should be in the future: %.200s", line);
    } else if (line[0] == '-') {
        logWarning("Unexpected reply to PSYNC from master: %.200s", line);
    } else {
        logWarning("Unexpected reply to PSYNC from master: '%.200s'", line);
    }
    if (failoverGetState() == FAILOVER_IN_PROGRESS) {
        /* The target refused: we are a primary again, at once (the abort
         * drops this link itself). */
        failoverPsyncAnswered(0);
        return;
    }
    linkDrop();
}

/* One reply line in HANDSHAKE. */
static void hsReply(const char *line) {
    hsStep step = R.hs[R.hsPos];
    switch (step) {
    case HS_PING:
        if (line[0] == '-' && strncmp(line, "-NOAUTH", 7) && strncmp(line, "-NOPERM", 7) &&
            strncmp(line, "-ERR operation not permitted", 28)) {
            logWarning("Error reply to PING from master: '%.200s'", line);
            linkDrop();
            return;
        }
        logNotice("Master replied to PING, replication can continue...");
        R.hsPos = R.hsCount = 0;
        sendHandshake();
        return;
    case HS_AUTH:
        if (line[0] == '-') {
            logWarning("Unable to AUTH to MASTER: %.200s", line);
            linkDrop();
            return;
        }
        break;
    case HS_PORT:
        if (line[0] == '-') logNotice("(Non critical) Master does not understand REPLCONF listening-port: %.200s", line);
        break;
    case HS_IP:
        if (line[0] == '-') logNotice("(Non critical) Master does not understand REPLCONF ip-address: %.200s", line);
        break;
    case HS_CAPA:
        if (line[0] == '-') logNotice("(Non critical) Master does not understand REPLCONF capa: %.200s", line);
        break;
    case HS_PSYNC:
        hsPsyncReply(line);
        return;
    }
    if (++R.hsPos == R.hsCount) sendPsync();
}

/* Consumes what R.in holds, as far as the state allows. */
static void linkProcess(void) {
    while (R.link && R.inLen) {
        if (R.state == RS_HANDSHAKE) {
            char line[1024];
            int got = takeLine(line, sizeof(line));
            if (got <= 0) return;
            if (line[0] == '\0' && R.hs[R.hsPos] != HS_PSYNC) continue; /* stray keepalive */
            hsReply(line);
        } else if (R.state == RS_TRANSFER) {
            if (!transferStep()) return;
        } else {
            return;
        }
    }
}

static void linkRead(conn *cn) {
    if (cn != R.link) return;
    if (R.inCap - R.inLen < PROTO_IOBUF_LEN) {
        R.inCap = R.inLen + PROTO_IOBUF_LEN * 4;
        R.in = memRealloc(R.in, R.inCap);
    }
    ssize_t n = connRead(cn, R.in + R.inLen, R.inCap - R.inLen);
    if (n == 0) {
        if (R.state == RS_TRANSFER)
            logWarning("I/O error trying to sync with MASTER: connection lost (snapshot truncated at %lld bytes)",
                       R.readBytes);
        else
            logWarning("Master closed the connection during the replication handshake");
        linkDrop();
        return;
    }
    if (n < 0) {
        if (errno == EAGAIN || errno == EWOULDBLOCK) return;
        logWarning("I/O error trying to sync with MASTER: %s", strerror(errno));
        linkDrop();
        return;
    }
    R.inLen += (size_t)n;
    srv.statNetInputBytes += n;
    serverUpdateCachedTime();
    R.lastIo = srv.mstime;
    linkProcess();
}

static void linkConnected(conn *cn, int status, const char *err, void *privdata) {
    (void)privdata;
    if (cn != R.link) {
        connClose(cn);
        return;
    }
    if (status != 0) {
        logWarning("Error condition on socket for SYNC: %s", err ? err : "connect failed");
        linkDrop();
        return;
    }
    logNotice("Non blocking connect for SYNC fired the event.");
    serverUpdateCachedTime();
    R.lastIo = srv.mstime;
    connEnableNoDelay(cn);
    if (srv.tcpKeepalive) connKeepAlive(cn, srv.tcpKeepalive);
    connSetReadHandler(cn, linkRead);
    setState(RS_HANDSHAKE);
    const char *ping[1] = {"PING"};
    linkSend(1, ping);
    R.hs[0] = HS_PING;
    R.hsCount = 1;
    R.hsPos = 0;
    linkFlush();
}

/* CONNECT -> CONNECTING. Failing at once leaves CONNECT for the next try. */
static void linkConnect(void) {
    CACHET_ASSERT(R.state == RS_CONNECT);
    R.lastConnect = srv.mstime;
    logNotice("Connecting to MASTER %s:%d", R.host, R.port);
    char err[256];
    connOutTls *tls = NULL;
    R.linkTls = srv.tlsReplication;
    if (srv.tlsReplication) {
        tls = tlsOutboundContext(R.host, R.addr, err, sizeof(err));
        if (!tls) {
            logWarning("Unable to connect to MASTER: TLS configuration: %s", err);
            return;
        }
    }
    long timeoutMs = srv.replTimeout > 0 ? (long)(srv.replTimeout * 1000) : 60000;
    conn *cn = connOutConnect(srv.el, R.addr, R.port, tls, timeoutMs, linkConnected, NULL, err, sizeof(err));
    connOutTlsFree(tls);
    if (!cn) {
        logWarning("Unable to connect to MASTER: %s", err);
        return;
    }
    R.link = cn;
    R.lastIo = srv.mstime;
    setState(RS_CONNECTING);
    logNotice("MASTER <-> REPLICA sync started");
}

/* ---- REPLICAOF ----------------------------------------------------------- */

/* Drops the link or the master client, whatever the state. */
static void linkOrMasterClose(void) {
    linkDrop();
    if (R.master) {
        client *m = R.master;
        R.master = NULL; /* replMasterClientFree then ignores it */
        R.cachedDb = m->db ? m->db->id : 0;
        R.txnLen = 0;
        clientFree(m);
    }
}

/* Any state -> CONNECT, following host:port. addr is host resolved. */
static void replicaSet(const char *host, const char *addr, int port) {
    int wasReplica = R.state != RS_NONE;
    linkOrMasterClose();
    if (!wasReplica) {
        /* Our own history is what the new primary may continue from (a
         * former replica of it, promoted, PSYNCs back partially). */
        R.haveHistory = 1;
        R.cachedDb = 0;
    }
    memFree(R.host);
    R.host = memStrdup(host);
    snprintf(R.addr, sizeof(R.addr), "%s", addr);
    R.port = port;
    R.downSince = 0;
    R.lastConnect = 0;
    R.state = RS_CONNECT;
    checkInvariants();
    replSetReplica(1);
}

/* Any state -> NONE, keeping the data; the history shifts so that the other
 * replicas of the old primary can continue from us partially. */
static void replicaUnset(void) {
    if (R.state == RS_NONE) return;
    linkOrMasterClose();
    memFree(R.host);
    R.host = NULL;
    R.state = RS_NONE;
    checkInvariants();
    replShiftHistory(NULL);
    replSetReplica(0);
    replDisconnectReplicas();
}

/* config.c, CONFIG SET tls-replication / tls-client-*: the transport of the
 * link is chosen when it connects, so a live link on the other transport
 * is dropped and the cron connects again at once with the new one, asking
 * PSYNC for the history it has (a partial resync). New client certificate
 * files alone (a rotation) keep the link: its session stays valid and the
 * next connection presents them. Never fails: a transport that cannot be
 * set up shows as a link that keeps retrying (master_link_status:down). */
int replReplicaTransportApply(char *err, size_t errlen) {
    (void)err;
    (void)errlen;
    if (R.state == RS_NONE || R.state == RS_CONNECT) return 0;
    if (R.linkTls == srv.tlsReplication) return 0;
    logNotice("Replication transport changed (tls-replication %s): reconnecting to the MASTER",
              srv.tlsReplication ? "yes" : "no");
    if (R.master) {
        /* Not freed here: the caller may be running inside a command;
         * replMasterClientFree moves us to CONNECT and keeps the history. */
        clientFreeAsync(R.master);
    } else {
        linkDrop();
    }
    R.lastConnect = 0;
    return 0;
}

int replReplicaConfigure(const char *host, const char *port, char *err, size_t errlen) {
    if (!strcasecmp(host, "no") && !strcasecmp(port, "one")) {
        replicaUnset();
        return 0;
    }
    int p;
    if (parsePort(port, strlen(port), &p) == -1) {
        snprintf(err, errlen, "Invalid master port");
        return -1;
    }
    char addr[INET6_ADDRSTRLEN];
    if (resolveHost(host, addr, sizeof(addr)) == -1) {
        snprintf(err, errlen, "Invalid master host: use a numeric IPv4/IPv6 address or localhost");
        return -1;
    }
    replicaSet(host, addr, p);
    R.haveHistory = 0; /* from the configuration at start-up: nothing to continue from */
    return 0;
}

static void replicaofCommand(client *c) {
    if (c->flags & CLIENT_REPLICA) {
        replyError(c, "Command is not valid when client is a replica.");
        return;
    }
    if (failoverGetState() != FAILOVER_NONE) {
        replyError(c, "REPLICAOF not allowed while failing over.");
        return;
    }
    if (sliceEqNocase(c->argv[1], "no") && sliceEqNocase(c->argv[2], "one")) {
        if (R.state != RS_NONE) {
            replicaUnset();
            char *info = clientInfoString(c);
            logNotice("MASTER MODE enabled (user request from '%s')", info);
            memFree(info);
        }
        replyOk(c);
        return;
    }
    int port;
    if (parsePort(c->argv[2].p, c->argv[2].len, &port) == -1) {
        replyError(c, "Invalid master port");
        return;
    }
    char host[256];
    if (c->argv[1].len >= sizeof(host) || memchr(c->argv[1].p, '\0', c->argv[1].len)) {
        replyError(c, "Invalid master host: use a numeric IPv4/IPv6 address or localhost");
        return;
    }
    memcpy(host, c->argv[1].p, c->argv[1].len);
    host[c->argv[1].len] = '\0';
    char addr[INET6_ADDRSTRLEN];
    if (resolveHost(host, addr, sizeof(addr)) == -1) {
        replyError(c, "Invalid master host: use a numeric IPv4/IPv6 address or localhost");
        return;
    }
    if (R.state != RS_NONE && !strcasecmp(R.host, host) && R.port == port) {
        logNotice("REPLICAOF would result into synchronization with the master we are already connected with. No "
                  "operation performed.");
        replyStatus(c, "OK Already connected to specified master");
        return;
    }
    replicaSet(host, addr, port);
    char *info = clientInfoString(c);
    logNotice("REPLICAOF %s:%d enabled (user request from '%s')", host, port, info);
    memFree(info);
    linkConnect(); /* at once, as Redis 7.0; the cron retries if it fails */
    replyOk(c);
}

int replReplicaFailoverTo(const char *host, int port) {
    char addr[INET6_ADDRSTRLEN];
    if (resolveHost(host, addr, sizeof(addr)) == -1) return -1;
    replicaSet(host, addr, port);
    logNotice("Connecting to the FAILOVER target %s:%d", host, port);
    linkConnect();
    if (R.state != RS_CONNECTING) failoverLinkFailed(); /* failed at once: no retry, abort */
    return 0;
}

const char *replReplicaTarget(int *port) {
    if (R.state == RS_NONE) return NULL;
    *port = R.port;
    return R.host;
}

/* ---- cron, INFO, ROLE ---------------------------------------------------- */

void replReplicaInit(void) {
    R.fd = -1;
    /* Called after the start-up load: a replica restarted from its own
     * snapshot continues (PSYNC) in the db its stream was in. */
    int streamDb = rdbLoadedReplStreamDb();
    if (streamDb >= 0) R.cachedDb = streamDb;
}

void replReplicaShutdown(void) {
    if (R.fd != -1) logNotice("Removing the temp file of the unfinished MASTER <-> REPLICA sync");
    transferAbort();
}

void replReplicaCron(void) {
    if (R.state == RS_NONE) return;
    long long now = srv.mstime;
    long long timeoutMs = srv.replTimeout * 1000;
    switch (R.state) {
    case RS_CONNECT:
        if (now - R.lastConnect >= 1000) linkConnect();
        break;
    case RS_CONNECTING:
    case RS_HANDSHAKE:
        if (now - R.lastIo > timeoutMs) {
            logWarning("Timeout connecting to the MASTER...");
            linkDrop();
        }
        break;
    case RS_TRANSFER:
        if (now - R.lastIo > timeoutMs) {
            logWarning("Timeout receiving bulk data from MASTER... If the problem persists try to set the "
                       "'repl-timeout' parameter in redis.conf to a larger value.");
            linkDrop();
        }
        break;
    case RS_CONNECTED:
        if (now - R.master->lastInteraction > timeoutMs) {
            logWarning("MASTER timeout: no data nor PING received...");
            clientFreeAsync(R.master);
            break;
        }
        if (now - R.lastAck >= 1000) sendAck();
        break;
    case RS_NONE:
        break;
    }
}

void replReplicaInfo(textBuf *b) {
    long long now = srv.mstime;
    long long readOff = replOffset();
    if (R.master) readOff += (long long)R.txnLen + (long long)(R.master->qlen - R.master->qpos);
    textAppend(b,
               "master_host:%s\r\n"
               "master_port:%d\r\n"
               "master_link_status:%s\r\n"
               "master_last_io_seconds_ago:%d\r\n"
               "master_sync_in_progress:%d\r\n"
               "slave_read_repl_offset:%lld\r\n"
               "slave_repl_offset:%lld\r\n",
               R.host ? R.host : "", R.port, R.state == RS_CONNECTED ? "up" : "down",
               R.master ? (int)((now - R.master->lastInteraction) / 1000) : -1, R.state == RS_TRANSFER, readOff,
               replOffset());
    if (R.state == RS_TRANSFER) {
        double perc = R.size ? (double)R.readBytes / (double)R.size * 100 : 0;
        textAppend(b,
                   "master_sync_total_bytes:%lld\r\n"
                   "master_sync_read_bytes:%lld\r\n"
                   "master_sync_left_bytes:%lld\r\n"
                   "master_sync_perc:%.2f\r\n"
                   "master_sync_last_io_seconds_ago:%d\r\n",
                   R.size, R.readBytes, R.size - R.readBytes, perc, (int)((now - R.lastIo) / 1000));
    }
    if (R.state != RS_CONNECTED)
        textAppend(b, "master_link_down_since_seconds:%lld\r\n", R.downSince ? now / 1000 - R.downSince : -1LL);
    textAppend(b,
               "slave_priority:%d\r\n"
               "slave_read_only:%d\r\n"
               "replica_announced:%d\r\n",
               srv.replicaPriority, srv.replicaReadOnly, srv.replicaAnnounced);
}

void replReplicaRole(client *c) {
    replyArrayLen(c, 5);
    replyBulkCString(c, "slave");
    replyBulkCString(c, R.host ? R.host : "");
    replyLongLong(c, R.port);
    replyBulkCString(c, stateName());
    replyLongLong(c, R.master ? replOffset() : -1);
}

/* REPLICAOF, SLAVEOF. */
cmdDef replReplicaCommands[] = {
    {.name = "replicaof", .proc = replicaofCommand, .arity = 3, .flags = CMD_ADMIN | CMD_NOSCRIPT | CMD_STALE | CMD_NO_ASYNC_LOADING, .group = "server", .since = "5.0.0", .summary = "Make the server a replica of another instance, or promote it as master.", .complexity = "O(1)"},
    {.name = "slaveof", .proc = replicaofCommand, .arity = 3, .flags = CMD_ADMIN | CMD_NOSCRIPT | CMD_STALE | CMD_NO_ASYNC_LOADING, .group = "server", .since = "1.0.0", .summary = "Make the server a replica of another instance, or promote it as master.", .complexity = "O(1)"},
    {0}};
