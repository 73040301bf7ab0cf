/* reply.c - reply builders: RESP2/RESP3 encodings into a client's output.
 *
 * Owns: the client's output buffer (c->buf) and reply block list. Bytes go
 * into c->buf until it is full or a block list exists; after that they go to
 * the list tail, so the order on the wire is buf, then blocks in order.
 * Every builder marks the client as having pending writes; the event loop
 * flushes them before sleeping (client.c). Must never write to the socket.
 * Error texts here are Redis 7's exactly: clients parse them. */
#include "server.h"
#include "db.h"
#include "client.h"
#include "cmd.h"
#include "reply.h"
#include "info.h"
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <math.h>

static void markPending(client *c) {
    if (!(c->flags & (CLIENT_PENDING_WRITE | CLIENT_SCRIPT))) {
        c->flags |= CLIENT_PENDING_WRITE;
        c->pendingPrev = NULL;
        c->pendingNext = srv.pendingWrites;
        if (srv.pendingWrites) srv.pendingWrites->pendingPrev = c;
        srv.pendingWrites = c;
    }
}

static void checkObufLimits(client *c);

/* Whether replies should be produced at all (CLIENT REPLY OFF/SKIP, closing).
 * REPLY OFF/SKIP silence command replies only: pub/sub pushes still go out
 * (a subscriber that asked for silence would otherwise lose every message
 * PUBLISH counted it for). A client marked CLOSE_AFTER_REPLY gets the rest
 * of the command that marked it (QUIT's +OK, the CONFIG SET that revoked
 * plaintext) and nothing after: no pub/sub message, no reply of a served
 * blocked pop, as Redis' _addReplyToBufferOrList. */
static int shouldReply(client *c) {
    if (c->flags & CLIENT_CLOSE_ASAP) return 0;
    /* Our primary gets no replies to its stream, only REPLCONF ACK. */
    if ((c->flags & CLIENT_MASTER) && !(c->flags & CLIENT_MASTER_FORCE_REPLY)) return 0;
    if ((c->flags & (CLIENT_REPLY_OFF | CLIENT_REPLY_SKIP)) && !(c->flags & CLIENT_PUSHING)) return 0;
    if ((c->flags & CLIENT_CLOSE_AFTER_REPLY) && c != srv.current) return 0;
    if (!c->conn) return (c->flags & CLIENT_SCRIPT) != 0; /* the script client reads its replies back */
    return 1;
}

static void appendToList(client *c, const char *s, size_t len) {
    replyBlock *tail = c->replyTail;
    if (tail && tail->size - tail->used > 0) {
        size_t avail = tail->size - tail->used;
        size_t n = len < avail ? len : avail;
        memcpy(tail->buf + tail->used, s, n);
        tail->used += n;
        c->replyBytes += n;
        s += n;
        len -= n;
    }
    if (len) {
        size_t size = len < PROTO_REPLY_CHUNK ? PROTO_REPLY_CHUNK : len;
        replyBlock *b = memAlloc(sizeof(*b) + size);
        b->size = memUsableSize(b) - sizeof(*b);
        b->used = len;
        b->next = NULL;
        memcpy(b->buf, s, len);
        if (tail) tail->next = b;
        else c->reply = b;
        c->replyTail = b;
        c->replyBytes += len;
    }
    checkObufLimits(c);
}

/* A client that has not authenticated can only be owed small replies
 * (-NOAUTH, -WRONGPASS, -DENIED...): one that keeps sending requests without
 * reading them is closed once this much is waiting, so it cannot grow its
 * output (and, under maxmemory, evict the dataset). Redis 7.0.15 (CVE-2025-
 * 21605) allows 1024 bytes past its 16 KiB static buffer; this counts every
 * unsent byte, static buffer included, so ~30 -NOAUTH replies at most. */
#define CLIENT_UNAUTH_OBUF_MAX 1024

static void checkUnauthObuf(client *c) {
    if (c->flags & (CLIENT_AUTHENTICATED | CLIENT_CLOSE_ASAP)) return;
    /* sentlen counts into buf while it holds bytes, else into the first block. */
    size_t pending = (c->bufpos ? c->bufpos - c->sentlen : 0) + c->replyBytes;
    if (pending <= CLIENT_UNAUTH_OBUF_MAX) return;
    static long long lastLog;
    if (logRateAllowed(&lastLog))
        logWarning("Closing unauthenticated client id=%lld addr=%s: over %d bytes of replies unread", c->id, c->addr,
                   CLIENT_UNAUTH_OBUF_MAX);
    srv.statClientObufLimitDisconnections++;
    clientFreeAsync(c);
}

void replyRaw(client *c, const char *s, size_t len) {
    if (!shouldReply(c)) return;
    markPending(c);
    if (c->reply == NULL) {
        size_t avail = CLIENT_BUF_LEN - c->bufpos;
        if (len <= avail) {
            memcpy(c->buf + c->bufpos, s, len);
            c->bufpos += len;
            if (!(c->flags & CLIENT_AUTHENTICATED)) checkUnauthObuf(c);
            return;
        }
        memcpy(c->buf + c->bufpos, s, avail);
        c->bufpos += avail;
        s += avail;
        len -= avail;
    }
    appendToList(c, s, len);
    if (!(c->flags & CLIENT_AUTHENTICATED)) checkUnauthObuf(c);
}

size_t clientReplyBytes(client *c) { return c->replyBytes; }

/* Output buffer limits, by class: a hard limit closes at once, a soft one
 * when exceeded continuously for softSeconds. Only the block list counts:
 * c->buf is fixed. */
static void checkObufLimits(client *c) {
    if (c->flags & CLIENT_SCRIPT) return; /* emptied after every redis.call */
    obufLimit *l = &srv.obufLimits[clientObufClass(c)];
    size_t used = c->replyBytes;
    int hard = l->hard && used >= l->hard;
    int soft = 0;
    if (l->soft && used >= l->soft) {
        if (c->obufSoftSince == 0) c->obufSoftSince = srv.mstime;
        else if (srv.mstime - c->obufSoftSince >= l->softSeconds * 1000) soft = 1;
    } else {
        c->obufSoftSince = 0;
    }
    if ((hard || soft) && !(c->flags & CLIENT_CLOSE_ASAP)) {
        char *info = clientInfoString(c);
        logWarning("Client %s scheduled to be closed ASAP for overcoming of output buffer limits.", info);
        memFree(info);
        srv.statClientObufLimitDisconnections++;
        clientFreeAsync(c);
    }
}

void replyStatus(client *c, const char *s) {
    char buf[128];
    size_t len = strlen(s);
    if (len + 3 <= sizeof(buf)) {
        buf[0] = '+';
        memcpy(buf + 1, s, len); // NOLINT(bugprone-not-null-terminated-result): a RESP frame, not a C string
        buf[len + 1] = '\r';
        buf[len + 2] = '\n';
        replyRaw(c, buf, len + 3);
    } else {
        replyRaw(c, "+", 1);
        replyRaw(c, s, len);
        replyRaw(c, "\r\n", 2);
    }
}

void replyOk(client *c) { replyRaw(c, "+OK\r\n", 5); }

/* INFO errorstats counts by the error code: the first word ("ERR",
 * "WRONGTYPE", "NOAUTH"...). */
static void countError(client *c, const char *err) {
    if (err[0] != '-') {
        infoCountError("ERR", 3);
    } else {
        const char *sp = memchr(err, ' ', strnlen(err, 32));
        if (sp) infoCountError(err + 1, (size_t)(sp - err - 1));
        else infoCountError("ERR", 3);
    }
    srv.statTotalErrorReplies++;
    if (c->cmd) c->cmd->failedCalls++;
}

void replyError(client *c, const char *err) {
    size_t len = strlen(err);
    countError(c, err);
    if (c->flags & CLIENT_MASTER) { /* dropped, but a diverging replica must be visible */
        static long long lastLog;
        if (logRateAllowed(&lastLog))
            logWarning("== CRITICAL == This replica is sending an error to its master: '%.128s' after processing the "
                       "command '%s'", err, c->cmd ? c->cmd->fullname : "<unknown>");
    }
    /* Newlines would break the protocol: Redis replaces them with spaces. */
    char local[512];
    char *p = len + 1 <= sizeof(local) ? local : memAlloc(len + 1);
    memcpy(p, err, len + 1);
    for (size_t i = 0; i < len; i++)
        if (p[i] == '\r' || p[i] == '\n') p[i] = ' ';
    if (p[0] == '-') {
        replyRaw(c, p, len);
    } else {
        replyRaw(c, "-ERR ", 5);
        replyRaw(c, p, len);
    }
    replyRaw(c, "\r\n", 2);
    if (p != local) memFree(p);
}

void replyErrorFormat(client *c, const char *fmt, ...) {
    char buf[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof(buf), fmt, ap);
    va_end(ap);
    replyError(c, buf);
}

void replyBulkFormat(client *c, const char *fmt, ...) {
    char buf[1024];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(buf, sizeof(buf), fmt, ap);
    va_end(ap);
    replyBulk(c, buf, n < 0 ? 0 : (size_t)n < sizeof(buf) ? (size_t)n : sizeof(buf) - 1);
}

void replyErrorArity(client *c) {
    replyErrorFormat(c, "wrong number of arguments for '%s' command", c->cmd ? c->cmd->fullname : "?");
}
void replyErrorSyntax(client *c) { replyError(c, "syntax error"); }
void replyErrorNotInt(client *c) { replyError(c, "value is not an integer or out of range"); }
void replyErrorWrongType(client *c) {
    replyError(c, "-WRONGTYPE Operation against a key holding the wrong kind of value");
}

/* "<prefix><n>\r\n" */
static void replyPrefixed(client *c, char prefix, long long n) {
    char buf[32];
    buf[0] = prefix;
    int len = ll2string(buf + 1, sizeof(buf) - 1, n);
    buf[len + 1] = '\r';
    buf[len + 2] = '\n';
    replyRaw(c, buf, (size_t)len + 3);
}

void replyLongLong(client *c, long long v) {
    if (v == 0) replyRaw(c, ":0\r\n", 4);
    else if (v == 1) replyRaw(c, ":1\r\n", 4);
    else replyPrefixed(c, ':', v);
}

void replyBulk(client *c, const char *p, size_t len) {
    /* Small bulks are built in one piece: one copy into the buffer. */
    if (len <= 256) {
        char buf[300];
        buf[0] = '$';
        int n = ll2string(buf + 1, 32, (long long)len);
        size_t off = (size_t)n + 1;
        buf[off++] = '\r';
        buf[off++] = '\n';
        memcpy(buf + off, p, len);
        off += len;
        buf[off++] = '\r';
        buf[off++] = '\n';
        replyRaw(c, buf, off);
        return;
    }
    replyPrefixed(c, '$', (long long)len);
    replyRaw(c, p, len);
    replyRaw(c, "\r\n", 2);
}

void replyBulkCString(client *c, const char *s) {
    if (!s) replyNull(c);
    else replyBulk(c, s, strlen(s));
}

void replyBulkLongLong(client *c, long long v) {
    char buf[LONG_STR_SIZE];
    int len = ll2string(buf, sizeof(buf), v);
    replyBulk(c, buf, (size_t)len);
}

void replySlice(client *c, slice s) { replyBulk(c, s.p, s.len); }

void replyNull(client *c) {
    if (c->resp >= 3) replyRaw(c, "_\r\n", 3);
    else replyRaw(c, "$-1\r\n", 5);
}

void replyNullArray(client *c) {
    if (c->resp >= 3) replyRaw(c, "_\r\n", 3);
    else replyRaw(c, "*-1\r\n", 5);
}

void replyArrayLen(client *c, long len) { replyPrefixed(c, '*', len); }
void replyMapLen(client *c, long len) {
    if (c->resp >= 3) replyPrefixed(c, '%', len);
    else replyPrefixed(c, '*', len * 2);
}
void replySetLen(client *c, long len) { replyPrefixed(c, c->resp >= 3 ? '~' : '*', len); }
void replyPushLen(client *c, long len) { replyPrefixed(c, c->resp >= 3 ? '>' : '*', len); }

void replyDouble(client *c, double d) {
    char buf[128];
    int len;
    if (isinf(d)) {
        const char *s = d > 0 ? "inf" : "-inf";
        if (c->resp >= 3) {
            len = snprintf(buf, sizeof(buf), ",%s\r\n", s);
            replyRaw(c, buf, (size_t)len);
        } else {
            replyBulkCString(c, s);
        }
        return;
    }
    char num[64];
    /* Redis 7.0's addReplyDouble prints with %.17g, so a NaN (only a
     * script's {double=0/0} makes one) keeps its sign: "-nan" on x86. */
    int n = isnan(d) ? snprintf(num, sizeof(num), "%.17g", d) : d2string(num, sizeof(num), d);
    if (c->resp >= 3) {
        len = snprintf(buf, sizeof(buf), ",%.*s\r\n", n, num);
        replyRaw(c, buf, (size_t)len);
    } else {
        replyBulk(c, num, (size_t)n);
    }
}

void replyBool(client *c, int b) {
    if (c->resp >= 3) replyRaw(c, b ? "#t\r\n" : "#f\r\n", 4);
    else replyLongLong(c, b ? 1 : 0);
}

void replyVerbatim(client *c, const char *p, size_t len, const char *ext) {
    if (c->resp < 3) {
        replyBulk(c, p, len);
        return;
    }
    char hdr[64];
    int n = snprintf(hdr, sizeof(hdr), "=%zu\r\n%.3s:", len + 4, ext);
    replyRaw(c, hdr, (size_t)n);
    replyRaw(c, p, len);
    replyRaw(c, "\r\n", 2);
}

void replyHelp(client *c, const char **lines) {
    const char *cmd = c->argv[0].p;
    int cmdlen = (int)c->argv[0].len;
    char first[256];
    int count = 0;
    while (lines[count]) count++;
    replyArrayLen(c, count + 3); /* first line, lines, HELP and its text */
    /* "<COMMAND> <subcommand> [<arg> ...]. Subcommands are:" */
    int n = snprintf(first, sizeof(first), "%.*s <subcommand> [<arg> [value] [opt] ...]. Subcommands are:", cmdlen, cmd);
    for (int i = 0; i < cmdlen && i < (int)sizeof(first); i++)
        if (first[i] >= 'a' && first[i] <= 'z') first[i] = (char)(first[i] - 32);
    replyStatus(c, n > 0 ? first : "");
    for (int i = 0; i < count; i++) replyStatus(c, lines[i]);
    replyStatus(c, "HELP");
    replyStatus(c, "    Prints this help.");
}

/* A deferred length is an empty block in the list, filled in later; the
 * bytes produced after it go into following blocks. */
void *replyDeferredLen(client *c) {
    if (!shouldReply(c)) return NULL;
    markPending(c);
    replyBlock *b = memAlloc(sizeof(*b) + 32);
    b->size = 0; /* full: nothing may be appended to it */
    b->used = 0;
    b->next = NULL;
    if (c->replyTail) c->replyTail->next = b;
    else c->reply = b;
    c->replyTail = b;
    return b;
}

static void setDeferred(client *c, void *node, char prefix, long len) {
    replyBlock *b = node;
    if (!b) return;
    char buf[32];
    buf[0] = prefix;
    int n = ll2string(buf + 1, sizeof(buf) - 1, len);
    buf[n + 1] = '\r';
    buf[n + 2] = '\n';
    memcpy(b->buf, buf, (size_t)n + 3);
    b->used = (size_t)n + 3;
    b->size = b->used;
    c->replyBytes += b->used;
}

void replySetDeferredArrayLen(client *c, void *node, long len) { setDeferred(c, node, '*', len); }
void replySetDeferredMapLen(client *c, void *node, long len) {
    if (c->resp >= 3) setDeferred(c, node, '%', len);
    else setDeferred(c, node, '*', len * 2);
}
void replySetDeferredSetLen(client *c, void *node, long len) { setDeferred(c, node, c->resp >= 3 ? '~' : '*', len); }
