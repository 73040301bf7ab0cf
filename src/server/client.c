/* client.c - client lifecycle: accept, read and parse requests, hand them to
 * the dispatcher, flush replies, enforce buffer limits and timeouts, close.
 *
 * Owns: client structs, their query buffers and argv arrays, the client list,
 * the pending-write list and the close-asap list.
 * States of a client (flags):
 *   normal -> CLOSE_AFTER_REPLY (protocol error, QUIT: stop reading, close
 *             when the output is flushed)
 *   any    -> CLOSE_ASAP (limits, CLIENT KILL, I/O error: freed in
 *             beforeSleep, never from inside a command)
 * Invariants: a client is on srv.pendingWrites iff CLIENT_PENDING_WRITE;
 * while a command runs (srv.current == c) the query buffer is not moved, so
 * argv slices stay valid. Must never block or read from within a command. */
#include "server.h"
#include "cluster.h"
#include "client.h"
#include "reply.h"
#include "cmd.h"
#include "block.h"
#include "evict.h"
#include "acl.h"
#include "multi.h"
#include "pubsub.h"
#include "repl.h"
#include "pause.h"
#include "migrate.h"
#include "net.h"
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <sys/uio.h>
#include <unistd.h>

#define NET_MAX_WRITES_PER_EVENT (1024 * 64)
#define QUERYBUF_SHRINK_IDLE_MS 2000

static void readHandler(conn *cn);
static void writeHandler(conn *cn);

static void listLink(client *c) {
    c->prev = NULL;
    c->next = srv.clients;
    if (srv.clients) srv.clients->prev = c;
    srv.clients = c;
    srv.numClients++;
}

static void listUnlink(client *c) {
    if (c->prev) c->prev->next = c->next;
    else if (srv.clients == c) srv.clients = c->next;
    if (c->next) c->next->prev = c->prev;
    c->prev = c->next = NULL;
    srv.numClients--;
}

static void pendingUnlink(client *c) {
    if (!(c->flags & CLIENT_PENDING_WRITE)) return;
    if (c->pendingPrev) c->pendingPrev->pendingNext = c->pendingNext;
    else srv.pendingWrites = c->pendingNext;
    if (c->pendingNext) c->pendingNext->pendingPrev = c->pendingPrev;
    c->pendingPrev = c->pendingNext = NULL;
    c->flags &= ~(uint64_t)CLIENT_PENDING_WRITE;
}

client *clientCreate(conn *cn) {
    client *c = memCalloc(sizeof(*c));
    c->id = srv.nextClientId++;
    c->conn = cn;
    c->resp = 2;
    c->db = &srv.db[0];
    c->ctime = c->lastInteraction = srv.mstime;
    respReqReset(&c->req);
    pubsubClientInit(c);
    c->user = aclDefaultUser();
    if (aclDefaultAutoAuth()) c->flags |= CLIENT_AUTHENTICATED;
    if (cn) {
        cn->data = c;
        connPeerAddr(cn, c->addr, sizeof(c->addr));
        connLocalAddr(cn, c->laddr, sizeof(c->laddr));
        connSetReadHandler(cn, readHandler);
    }
    listLink(c);
    return c;
}

static void freeReplyList(client *c) {
    replyBlock *b = c->reply;
    while (b) {
        replyBlock *n = b->next;
        memFree(b);
        b = n;
    }
    c->reply = c->replyTail = NULL;
    c->replyBytes = 0;
}

void clientFree(client *c) {
    if (srv.current == c) {
        /* Never free the client running a command: defer. */
        clientFreeAsync(c);
        return;
    }
    if (c->conn) {
        connClose(c->conn);
        c->conn = NULL;
    }
    if (c->flags & (CLIENT_REPLICA | CLIENT_WAIT_ACK) || c->repl) replPrimaryClientFree(c);
    if (c->flags & CLIENT_MASTER) replMasterClientFree(c);
    pauseClientFree(c);
    migrateClientFree(c); /* its MIGRATE runs on, answering no one */
    pendingUnlink(c);
    blockClientFree(c); /* out of every key's queue of waiters */
    multiDiscard(c);
    multiUnwatchAll(c);
    pubsubClientFree(c);
    freeReplyList(c);
    for (int i = 0; i < srv.closeAsapCount; i++)
        if (srv.closeAsap[i] == c) srv.closeAsap[i] = NULL;
    memFree(c->querybuf);
    memFree(c->reqArgv);
    memFree(c->argv);
    memFree(c->name);
    memFree(c->libName);
    memFree(c->libVer);
    listUnlink(c);
    memFree(c);
}

void clientFreeAsync(client *c) {
    if (c->flags & CLIENT_CLOSE_ASAP) return;
    c->flags |= CLIENT_CLOSE_ASAP;
    if (srv.closeAsapCount == srv.closeAsapCap) {
        srv.closeAsapCap = srv.closeAsapCap ? srv.closeAsapCap * 2 : 16;
        srv.closeAsap = memRealloc(srv.closeAsap, sizeof(client *) * (size_t)srv.closeAsapCap);
    }
    srv.closeAsap[srv.closeAsapCount++] = c;
}

void clientFreeScheduled(void) {
    /* clientFree may schedule more; loop until the list is stable. */
    while (srv.closeAsapCount) {
        client *c = srv.closeAsap[--srv.closeAsapCount];
        if (!c) continue;
        c->flags &= ~(uint64_t)CLIENT_CLOSE_ASAP; /* so clientFree's scan ignores it */
        if (srv.current == c) {
            c->flags |= CLIENT_CLOSE_ASAP;
            continue;
        }
        clientFree(c);
    }
}

int clientHasPendingReplies(client *c) { return c->bufpos > 0 || c->reply != NULL; }

/* Bad input is logged, but at most once a second per kind, so a hostile
 * client cannot flood the log (or the disk under it). */
/* ---- accepting ---------------------------------------------------------- */

/* A connection accepted by a listener (listen.c chose its transport). */
void clientAccept(conn *cn, const char *ip) {
    if (srv.numClients >= srv.maxclients) {
        static const char *msg = "-ERR max number of clients reached\r\n";
        /* Best effort, non-blocking: the client may not be reading. */
        struct iovec iov = {(void *)msg, strlen(msg)};
        connWritev(cn, &iov, 1);
        srv.statRejectedConn++;
        static long long lastLog;
        if (logRateAllowed(&lastLog))
            logNotice("Rejected connection from %s: max number of clients reached (maxclients %u)", ip, srv.maxclients);
        connClose(cn);
        return;
    }
    connEnableNoDelay(cn);
    if (srv.tcpKeepalive) connKeepAlive(cn, srv.tcpKeepalive);
    client *c = clientCreate(cn);
    srv.statNumConnections++;
    /* Protected mode: with no password for the default user only loopback
     * clients are served, whatever bind says (Redis 7.0: "bind 0.0.0.0"
     * with no password must not make an open server). */
    if (srv.protectedMode && aclDefaultNoPass() && !netIsLoopback(ip)) {
        static const char *err =
            "-DENIED Redis is running in protected mode because protected mode is enabled and no password is set "
            "for the default user. In this mode connections are only accepted from the loopback interface. If you "
            "want to connect from external computers to Redis you may adopt one of the following solutions: 1) Just "
            "disable protected mode sending the command 'CONFIG SET protected-mode no' from the loopback interface "
            "by connecting to Redis from the same host the server is running, however MAKE SURE Redis is not "
            "publicly accessible from internet if you do so. Use CONFIG REWRITE to make this change permanent. 2) "
            "Alternatively you can just disable the protected mode by editing the Redis configuration file, and "
            "setting the protected mode option to 'no', and then restarting the server. 3) If you started the "
            "server manually just for testing, restart it with the '--protected-mode no' option. 4) Setup a an "
            "authentication password for the default user. NOTE: You only need to do one of the above things in "
            "order for the server to start accepting connections from the outside.\r\n";
        replyRaw(c, err, strlen(err));
        c->flags |= CLIENT_CLOSE_AFTER_REPLY;
    }
}

/* ---- reading and parsing ---------------------------------------------- */

static void protocolError(client *c, const char *err) {
    static long long lastLog;
    if (logRateAllowed(&lastLog)) {
        char *info = clientInfoString(c);
        logNotice("Protocol error (%s) from client: %s", err, info);
        memFree(info);
    }
    replyError(c, err);
    c->flags |= CLIENT_CLOSE_AFTER_REPLY | CLIENT_PROTOCOL_ERROR;
}

static void ensureArgv(client *c, int argc) {
    if (argc > c->argvCap) {
        int cap = argc < 16 ? 16 : argc;
        c->argv = memRealloc(c->argv, sizeof(slice) * (size_t)cap);
        c->argvCap = cap;
    }
}

/* Parse and execute every complete request in the query buffer. */
static void processInput(client *c) {
    while (c->qpos < c->qlen) {
        if (c->flags & (CLIENT_CLOSE_AFTER_REPLY | CLIENT_CLOSE_ASAP | CLIENT_BLOCKED | CLIENT_PAUSED)) break;
        char *base = c->querybuf + c->qpos;
        size_t avail = c->qlen - c->qpos;
        if (c->req.need && avail < c->req.need) break; /* nothing new to parse */
        c->req.argv = c->reqArgv;
        c->req.argvCap = c->reqArgvCap;
        const char *err = NULL;
        c->req.unauthenticated = !(c->flags & CLIENT_AUTHENTICATED);
        respStatus st = respParse(base, avail, &c->req, srv.protoMaxBulkLen, &err);
        if (st == RESP_NEED_ARGV) {
            c->reqArgvCap = c->req.argcWant;
            c->reqArgv = memRealloc(c->reqArgv, sizeof(respArg) * (size_t)c->reqArgvCap);
            continue;
        }
        if (st == RESP_PARTIAL) break;
        if (st == RESP_ERROR) {
            if (c->flags & CLIENT_MASTER) {
                /* Nothing would ever be written to flush the close: drop the
                 * link now; the cron reconnects and resyncs. */
                logWarning("Protocol error (%s) in the stream from MASTER: dropping the link", err);
                clientFreeAsync(c);
                c->qpos = c->qlen;
                break;
            }
            protocolError(c, err);
            c->qpos = c->qlen;
            break;
        }
        /* A whole request. */
        long argc = c->req.argc;
        size_t consumed = c->req.pos;
        if (argc > 0) {
            ensureArgv(c, (int)argc);
            for (long i = 0; i < argc; i++) {
                c->argv[i].p = base + c->reqArgv[i].off;
                c->argv[i].len = c->reqArgv[i].len;
            }
            c->argc = (int)argc;
            c->lastInteraction = srv.mstime;
            int rc = cmdProcess(c);
            if (!rc) return; /* client gone */
            c->argc = 0;
            if (rc == 2) {
                /* Paused: the request stays unconsumed and is parsed again
                 * when pause.c resumes the client. */
                respReqReset(&c->req);
                break;
            }
            /* Marked to close by its own command with nothing left to write
             * (CLIENT REPLY OFF): the write path would never see the flag. */
            if ((c->flags & CLIENT_CLOSE_AFTER_REPLY) && !clientHasPendingReplies(c)) clientFreeAsync(c);
        }
        /* Our primary's stream: the offset advances by exactly the bytes
         * applied, and sub-replicas get them as they came. */
        if (c->flags & CLIENT_MASTER) replMasterApplied(c, base, consumed);
        c->qpos += consumed;
        respReqReset(&c->req);
        /* Before AUTH a request has at most 10 arguments, but an inline one
         * may split into 32k: an unauthenticated client does not get to keep
         * the arrays such a line made it allocate (1 MB a connection). */
        if (!(c->flags & CLIENT_AUTHENTICATED) && c->reqArgvCap > RESP_UNAUTH_MAX_MULTIBULK * 4) {
            memFree(c->reqArgv);
            memFree(c->argv);
            c->reqArgv = NULL;
            c->argv = NULL;
            c->reqArgvCap = 0;
            c->argvCap = 0;
        }
    }
    if (c->qpos == c->qlen) {
        c->qpos = c->qlen = 0;
    } else if (c->qpos > 0 && (c->qpos >= c->qcap / 2 || c->qcap - c->qlen < 1024)) {
        /* Keep the unparsed tail at the front; offsets in req are relative
         * to qpos so they survive the move. */
        memmove(c->querybuf, c->querybuf + c->qpos, c->qlen - c->qpos);
        c->qlen -= c->qpos;
        c->qpos = 0;
    }
}

/* block.c: a client just unblocked resumes the requests it pipelined after
 * its blocking command. Called from beforeSleep, never inside a command. */
void clientProcessPendingInput(client *c) {
    if (c->flags & (CLIENT_BLOCKED | CLIENT_PAUSED | CLIENT_CLOSE_ASAP)) return;
    if (srv.current) return;
    processInput(c);
}

static void readHandler(conn *cn) {
    client *c = cn->data;
    if (c->flags & CLIENT_SCRIPT_CALLER) return; /* its EVAL is still on the stack: read after it */
    if (c->flags & (CLIENT_CLOSE_ASAP | CLIENT_CLOSE_AFTER_REPLY)) {
        /* Drain and drop: we no longer serve this client's requests. */
        char sink[4096];
        ssize_t n = connRead(cn, sink, sizeof(sink));
        if (n == 0 || (n < 0 && errno != EAGAIN)) clientFreeAsync(c);
        return;
    }
    size_t readlen = PROTO_IOBUF_LEN;
    /* A big bulk in progress: read it whole, straight into place. */
    size_t pending = c->qlen - c->qpos;
    if (c->req.need > pending && c->req.need - pending > readlen) readlen = c->req.need - pending;
    if (c->qcap - c->qlen < readlen) {
        if (c->qpos > 0) {
            memmove(c->querybuf, c->querybuf + c->qpos, pending);
            c->qlen = pending;
            c->qpos = 0;
        }
        if (c->qcap - c->qlen < readlen) {
            /* Grow geometrically: a request of a million small arguments
             * arrives 16 KiB at a time, and growing by the read size would
             * copy the buffer once per read. */
            size_t cap = c->qlen + readlen;
            if (cap < c->qcap * 2) cap = c->qcap * 2;
            c->querybuf = memRealloc(c->querybuf, cap);
            c->qcap = memUsableSize(c->querybuf);
        }
    }
    ssize_t n = connRead(cn, c->querybuf + c->qlen, c->qcap - c->qlen);
    if (n == 0) {
        logVerbose("Client closed connection id=%lld addr=%s", c->id, c->addr);
        clientFreeAsync(c);
        return;
    }
    if (n < 0) {
        if (errno == EAGAIN || errno == EWOULDBLOCK) return;
        logVerbose("Reading from client: %s", strerror(errno));
        clientFreeAsync(c);
        return;
    }
    c->qlen += (size_t)n;
    c->netInBytes += n;
    srv.statNetInputBytes += n;
    srv.statTotalReadsProcessed++;
    serverUpdateCachedTime(); /* one clock read per read event, as Redis */
    c->lastInteraction = srv.mstime;
    if (c->qlen - c->qpos > c->qpeak) c->qpeak = c->qlen - c->qpos;
    if (srv.clientMaxQuerybufLen && c->qlen - c->qpos > (size_t)srv.clientMaxQuerybufLen &&
        !(c->flags & CLIENT_MASTER)) { /* a big MULTI from the primary is not abuse */
        char *info = clientInfoString(c);
        logWarning("Closing client that reached max query buffer length: %s", info);
        memFree(info);
        srv.statClientQbufLimitDisconnections++;
        clientFreeAsync(c);
        return;
    }
    srv.current = NULL;
    processInput(c);
}

/* ---- writing ------------------------------------------------------------ */

/* Write as much pending output as the socket takes. Returns -1 if the client
 * was scheduled for closing. */
static int writeToClient(client *c) {
    ssize_t total = 0;
    while (clientHasPendingReplies(c)) {
        struct iovec iov[16];
        int iovcnt = 0;
        size_t batch = 0;
        if (c->bufpos > 0) {
            iov[iovcnt].iov_base = c->buf + c->sentlen;
            iov[iovcnt].iov_len = c->bufpos - c->sentlen;
            batch += iov[iovcnt].iov_len;
            iovcnt++;
        }
        size_t off = c->bufpos > 0 ? 0 : c->sentlen;
        for (replyBlock *b = c->reply; b && iovcnt < 16; b = b->next) {
            if (b->used - off == 0) {
                off = 0;
                continue;
            }
            iov[iovcnt].iov_base = b->buf + off;
            iov[iovcnt].iov_len = b->used - off;
            batch += iov[iovcnt].iov_len;
            iovcnt++;
            off = 0;
        }
        if (iovcnt == 0) break;
        ssize_t n = connWritev(c->conn, iov, iovcnt);
        if (n < 0) {
            if (errno == EAGAIN || errno == EWOULDBLOCK) break;
            logVerbose("Error writing to client: %s", strerror(errno));
            clientFreeAsync(c);
            return -1;
        }
        total += n;
        /* Consume n bytes: buf first, then blocks. */
        size_t left = (size_t)n;
        if (c->bufpos > 0) {
            size_t inbuf = c->bufpos - c->sentlen;
            if (left >= inbuf) {
                left -= inbuf;
                c->bufpos = 0;
                c->sentlen = 0;
            } else {
                c->sentlen += left;
                left = 0;
            }
        }
        while (left > 0 && c->reply) {
            replyBlock *b = c->reply;
            size_t inb = b->used - c->sentlen;
            if (left >= inb) {
                left -= inb;
                c->reply = b->next;
                if (!c->reply) c->replyTail = NULL;
                c->replyBytes -= b->used;
                c->sentlen = 0;
                memFree(b);
            } else {
                c->sentlen += left;
                left = 0;
            }
        }
        if ((size_t)n < batch) break; /* the socket is full */
        /* Be fair to other clients, unless memory is tight. */
        if (total > NET_MAX_WRITES_PER_EVENT &&
            !(srv.maxmemory && evictUsedMemory() > srv.maxmemory))
            break;
    }
    c->netOutBytes += total;
    srv.statNetOutputBytes += total;
    srv.statTotalWritesProcessed++;
    if (total > 0) c->lastInteraction = srv.mstime;
    if (!clientHasPendingReplies(c)) {
        c->sentlen = 0;
        if (connHasWriteHandler(c->conn)) connSetWriteHandler(c->conn, NULL);
        if (c->flags & CLIENT_CLOSE_AFTER_REPLY) {
            clientFreeAsync(c);
            return -1;
        }
        if (c->obufSoftSince) c->obufSoftSince = 0;
    }
    return 0;
}

static void writeHandler(conn *cn) {
    client *c = cn->data;
    writeToClient(c);
}

void clientInstallWriteIfNeeded(client *c) {
    if (c->conn && clientHasPendingReplies(c) && !connHasWriteHandler(c->conn))
        connSetWriteHandler(c->conn, writeHandler);
}

/* Called before sleeping: write replies directly, so most replies never
 * need a writable event. Returns clients handled. */
int clientHandlePendingWrites(void) {
    int handled = 0;
    while (srv.pendingWrites) {
        client *c = srv.pendingWrites;
        pendingUnlink(c);
        handled++;
        if (!c->conn || (c->flags & CLIENT_CLOSE_ASAP)) continue;
        if (writeToClient(c) == -1) continue;
        clientInstallWriteIfNeeded(c);
    }
    return handled;
}

/* ---- periodic work -------------------------------------------------------- */

void clientsCron(void) {
    long long now = srv.mstime;
    /* Every client, every tick: a few hundred ns each, so 10k clients cost
     * about a millisecond a second. */
    for (client *c = srv.clients; c; c = c->next) {
        if (c->flags & CLIENT_CLOSE_ASAP) continue;
        if (c->conn && connHandshakeExpired(c->conn, now)) {
            tlsStat.handshakesTimedOut++;
            logVerbose("Closing client id=%lld addr=%s: no TLS handshake within tls-handshake-timeout", c->id,
                       c->addr);
            clientFreeAsync(c);
            continue;
        }
        if (srv.idleTimeout && !(c->flags & (CLIENT_PUBSUB | CLIENT_BLOCKED | CLIENT_MASTER | CLIENT_REPLICA)) &&
            now - c->lastInteraction > srv.idleTimeout * 1000) {
            logVerbose("Closing idle client id=%lld addr=%s", c->id, c->addr);
            clientFreeAsync(c);
            continue;
        }
        /* Give back a big idle query buffer. */
        if (c->qlen == 0 && c->qcap > PROTO_IOBUF_LEN * 2 && now - c->lastInteraction > QUERYBUF_SHRINK_IDLE_MS) {
            memFree(c->querybuf);
            c->querybuf = NULL;
            c->qcap = 0;
            c->qpeak = 0;
        }
        /* Soft output limits need time to pass even without new replies. */
        if (c->reply && c->obufSoftSince) {
            obufLimit *l = &srv.obufLimits[clientObufClass(c)];
            if (l->soft && now - c->obufSoftSince >= l->softSeconds * 1000) {
                logWarning("Client id=%lld addr=%s closed for overcoming of output buffer limits.", c->id, c->addr);
                srv.statClientObufLimitDisconnections++;
                clientFreeAsync(c);
            }
        }
    }
}

/* ---- introspection ------------------------------------------------------ */

int clientObufClass(client *c) {
    if (c->flags & CLIENT_REPLICA) return OBUF_REPLICA;
    return (c->flags & CLIENT_PUBSUB) ? OBUF_PUBSUB : OBUF_NORMAL;
}

const char *clientObufClassName(int cls) {
    switch (cls) {
    case OBUF_REPLICA: return "replica";
    case OBUF_PUBSUB: return "pubsub";
    default: return "normal";
    }
}

client *clientById(long long id) {
    for (client *c = srv.clients; c; c = c->next)
        if (c->id == id) return c;
    return NULL;
}

void clientSetName(client *c, const char *name, size_t len) {
    memFree(c->name);
    c->name = len ? memDupBytes(name, len) : NULL;
}

static void flagString(client *c, char *out) {
    char *p = out;
    if (c->flags & CLIENT_REPLICA) *p++ = 'S';
    if (c->flags & CLIENT_MASTER) *p++ = 'M';
    if (c->flags & CLIENT_MULTI) *p++ = 'x';
    if (c->flags & (CLIENT_BLOCKED | CLIENT_PAUSED)) *p++ = 'b'; /* a paused request is a blocked client in Redis */
    if (c->flags & CLIENT_DIRTY_CAS) *p++ = 'd';
    if (c->flags & CLIENT_CLOSE_AFTER_REPLY) *p++ = 'c';
    if (c->flags & CLIENT_CLOSE_ASAP) *p++ = 'A';
    if (c->flags & CLIENT_PUBSUB) *p++ = 'P';
    if (c->flags & CLIENT_READONLY) *p++ = 'r'; /* READONLY (cluster mode), before 'e' as in Redis */
    if (c->flags & CLIENT_NO_EVICT) *p++ = 'e';
    if (c->flags & CLIENT_NO_TOUCH) *p++ = 'T';
    if (p == out) *p++ = 'N';
    *p = '\0';
}

char *clientInfoString(client *c) {
    char flags[16], events[3] = {0}, cmdname[80];
    flagString(c, flags);
    char *e = events;
    if (c->conn && connHasReadHandler(c->conn)) *e++ = 'r';
    if (c->conn && connHasWriteHandler(c->conn)) *e++ = 'w';
    *e = '\0';
    if (c->lastcmd) snprintf(cmdname, sizeof(cmdname), "%s", c->lastcmd->fullname);
    else snprintf(cmdname, sizeof(cmdname), "NULL");
    size_t obl = c->bufpos, oll = 0;
    for (replyBlock *b = c->reply; b; b = b->next) oll++;
    size_t qbuf = c->qlen - c->qpos;
    size_t totmem = sizeof(client) + memUsableSize(c->querybuf) + c->replyBytes + memUsableSize(c->argv);
    /* Room for every field of unbounded length (an ACL user name too), so
     * the line is never cut before "tls=". */
    const char *user = aclUserName(c->user);
    size_t cap = 1024 + (c->name ? strlen(c->name) : 0) + (c->libName ? strlen(c->libName) : 0) +
                 (c->libVer ? strlen(c->libVer) : 0) + strlen(user);
    char *out = memAlloc(cap);
    snprintf(out, cap,
             "id=%lld addr=%s laddr=%s fd=%d name=%s age=%lld idle=%lld flags=%s db=%d sub=%d psub=%d ssub=%d "
             "multi=%d qbuf=%zu qbuf-free=%zu argv-mem=%zu multi-mem=0 rbs=%zu rbp=%zu obl=%zu oll=%zu omem=%zu "
             "tot-mem=%zu events=%s cmd=%s user=%s redir=-1 resp=%d lib-name=%s lib-ver=%s tls=%s",
             c->id, c->addr, c->laddr, c->conn ? connFd(c->conn) : -1, c->name ? c->name : "",
             (srv.mstime - c->ctime) / 1000, (srv.mstime - c->lastInteraction) / 1000, flags, c->db->id,
             (int)dictSize(&c->pubsubChannels), (int)dictSize(&c->pubsubPatterns), (int)dictSize(&c->pubsubShardChannels),
             (c->flags & CLIENT_MULTI) ? c->mcount : -1, qbuf, c->qcap - c->qlen, (size_t)0, c->qcap, c->qpeak,
             obl, oll, c->replyBytes, totmem, events, cmdname, user, c->resp,
             c->libName ? c->libName : "", c->libVer ? c->libVer : "",
             c->conn && connIsTls(c->conn) ? "yes" : "no");
    return out;
}

void clientResetState(client *c) {
    multiDiscard(c);
    multiUnwatchAll(c);
    pubsubClientFree(c);
    pubsubClientInit(c);
    c->flags &= ~(uint64_t)(CLIENT_REPLY_OFF | CLIENT_REPLY_SKIP | CLIENT_REPLY_SKIP_NEXT | CLIENT_NO_EVICT |
                            CLIENT_NO_TOUCH | CLIENT_PUBSUB);
    c->flags &= ~(uint64_t)(CLIENT_READONLY | CLIENT_ASKING | CLIENT_ASKING_NOW); /* cluster.h: RESET ends READONLY too */
    c->db = &srv.db[0];
    c->resp = 2;
    clientSetName(c, NULL, 0);
    /* RESET logs the client out: back to the default user, authenticated
     * only if that user needs no password (Redis 7). */
    c->user = aclDefaultUser();
    if (aclDefaultAutoAuth()) c->flags |= CLIENT_AUTHENTICATED;
    else c->flags &= ~(uint64_t)CLIENT_AUTHENTICATED;
}
