/* migrate.c - MIGRATE host port key|"" destination-db timeout [COPY] [REPLACE]
 * [AUTH password] [AUTH2 username password] [KEYS key ...], Redis 7.0's
 * semantics and replies, on the outbound connection layer (conn_out.c) and
 * without blocking the event loop.
 *
 * Owns: the MIGRATE operations in flight (one migOp each: its conn, its
 * request and reply buffers, its timer, the names of the keys it moves) and
 * the set of keys they lock. Must never: block the loop (connect, TLS,
 * writes and reads are all event driven); delete a local key before the
 * target acknowledged its RESTORE (an unreachable target, a wrong password,
 * a target error: the key stays); let another client change a key between
 * its DUMP and its deletion (writes naming a locked key are postponed);
 * answer a client twice or after it is gone; exit.
 *
 * The operation, one state machine per MIGRATE that has something to send:
 *
 *   CONNECTING --connected--> SENDING --all written--> AWAITING --all replies--> DONE
 *        |                       |                        |
 *        +-- refused, timeout ---+-- write error, timeout +-- EOF, error, timeout --> DONE
 *
 *   CONNECTING  connOutConnect started (TLS when tls-mode is not none); the
 *               request (AUTH, SELECT, one RESTORE[-ASKING] per key) is
 *               already built in `out`. Transition: opConnected.
 *   SENDING     the request is being written (64 KiB writes, a write handler
 *               while the socket is full); replies are read as they come.
 *               Transition: opFlush when the last byte is out.
 *   AWAITING    everything sent; one reply line per command is read. Each
 *               +OK to a RESTORE deletes that key here (not COPY) and
 *               propagates a DEL. Transition: opReadReplies at the last one.
 *               While a pause is in force (CLIENT PAUSE, FAILOVER) replies
 *               are read but not acted on (`held`): the dataset stays as it
 *               is until the pause ends, as pause.c promises.
 *   DONE        opFinish: conn closed, timer gone, locks released, the
 *               client (if still there) answered and resumed, op freed.
 *
 * Invariants (opCheck, under CACHET_ASSERTS):
 *   - an op is on `ops` <=> its state is not DONE; then cn != NULL;
 *   - CONNECTING: nothing written, no reply read;
 *   - SENDING: outPos < outLen; AWAITING: outPos == outLen;
 *   - got <= expect (replies read never exceed the commands sent);
 *   - op->c != NULL  =>  c has CLIENT_MIGRATE | CLIENT_BLOCKED and no other
 *     op names it.
 * Timeouts follow Redis' per-I/O timeout: the deadline moves `timeout` ms
 * past the last progress (connect, bytes written, a reply read). */
#include "server.h"
#include "migrate.h"
#include "args.h"
#include "client.h"
#include "cluster.h"
#include "cmd.h"
#include "conn_out.h"
#include "dassert.h"
#include "db.h"
#include "el.h"
#include "net.h"
#include "pause.h"
#include "propagate.h"
#include "rdb.h"
#include "reply.h"
#include "tls.h"
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

typedef enum { MIG_CONNECTING, MIG_SENDING, MIG_AWAITING, MIG_DONE } migState;

typedef enum { IO_OK = 0, IO_CONNECT, IO_WRITE, IO_READ } migIoError;

typedef struct migOp {
    migState state;
    client *c;           /* the caller; NULL once it left */
    cdb *db;
    int copy;            /* COPY: keys are not deleted nor locked */
    int tls;             /* the link is TLS */
    conn *cn;
    long long timer;     /* el timer id, -1 none */
    long timeoutMs;
    long long deadline;  /* unix ms */
    char *out;           /* the whole request */
    size_t outLen, outPos, outCap;
    char *in;            /* reply bytes not yet consumed */
    size_t inLen, inCap;
    int nkeys;           /* RESTOREs sent, in order */
    char **keys;
    size_t *keyLens;
    int hasAuth;         /* 1 when AUTH leads the request */
    int expect, got;     /* replies expected (AUTH + SELECT + nkeys) and read */
    char *authErr, *selectErr; /* their error lines (without '-'), or NULL */
    char *firstErr;      /* the first error the target gave, reported */
    migIoError io;
    int held;            /* replies wait for a pause to end (opReadReplies) */
    struct migOp *next;
} migOp;

static migOp *ops;            /* in flight */
static long long lockingOps;  /* of them, those that lock their keys (not COPY) */

/* ---- invariants ------------------------------------------------------------ */

static void opCheck(const migOp *op) {
#ifdef CACHET_ASSERTS
    int listed = 0;
    for (const migOp *o = ops; o; o = o->next) {
        if (o == op) listed = 1;
        else CACHET_ASSERT(!op->c || o->c != op->c);
    }
    CACHET_ASSERT(listed == (op->state != MIG_DONE));
    CACHET_ASSERT(op->state == MIG_DONE || op->cn != NULL);
    CACHET_ASSERT(op->state != MIG_CONNECTING || (op->outPos == 0 && op->got == 0));
    CACHET_ASSERT(op->state != MIG_SENDING || op->outPos < op->outLen);
    CACHET_ASSERT(op->state != MIG_AWAITING || op->outPos == op->outLen);
    CACHET_ASSERT(op->got <= op->expect);
    CACHET_ASSERT(!op->c || (op->c->flags & (CLIENT_MIGRATE | CLIENT_BLOCKED)) == (CLIENT_MIGRATE | CLIENT_BLOCKED));
#else
    (void)op;
#endif
}

/* ---- the request ------------------------------------------------------------ */

static void outAppend(migOp *op, const char *p, size_t len) {
    if (op->outLen + len > op->outCap) {
        op->outCap = (op->outLen + len) * 2 + 256;
        op->out = memRealloc(op->out, op->outCap);
    }
    memcpy(op->out + op->outLen, p, len);
    op->outLen += len;
}

static void outCount(migOp *op, int n) {
    char h[32];
    int hl = snprintf(h, sizeof(h), "*%d\r\n", n);
    outAppend(op, h, (size_t)hl);
}

static void outBulk(migOp *op, const char *p, size_t len) {
    char h[32];
    int hl = snprintf(h, sizeof(h), "$%zu\r\n", len);
    outAppend(op, h, (size_t)hl);
    outAppend(op, p, len);
    outAppend(op, "\r\n", 2);
}

static void outBulkLL(migOp *op, long long v) {
    char num[32];
    int nl = snprintf(num, sizeof(num), "%lld", v);
    outBulk(op, num, (size_t)nl);
}

/* ---- locks ----------------------------------------------------------------- */

static int keyLocked(const cdb *db, const char *k, size_t len) {
    for (const migOp *op = ops; op; op = op->next) {
        if (op->copy || op->db != db) continue;
        for (int i = 0; i < op->nkeys; i++)
            if (op->keyLens[i] == len && !memcmp(op->keys[i], k, len)) return 1;
    }
    return 0;
}

static int namesLocked(const cdb *db, const cmdDef *cmd, const slice *argv, int argc) {
    cmdKeyIter it;
    cmdKeysInit(&it, cmd, argv, argc);
    for (int k; (k = cmdKeysNext(&it)) != -1;)
        if (keyLocked(db, argv[k].p, argv[k].len)) return 1;
    return 0;
}

int migrateMustWait(client *c, cmdDef *cmd) {
    if (!lockingOps || (c->flags & (CLIENT_MASTER | CLIENT_SCRIPT))) return 0;
    int isExec = !cmd->parent && !strcmp(cmd->name, "exec");
    if (isExec) {
        if (!(c->flags & CLIENT_MULTI)) return 0;
        for (int i = 0; i < c->mcount; i++) {
            const multiCmd *q = &c->mstate[i];
            if (q->mayReplicate && namesLocked(c->db, q->cmd, q->argv, q->argc)) return 1;
        }
        return 0;
    }
    if (c->flags & CLIENT_MULTI) return 0; /* queued: EXEC decides */
    if (!(cmd->flags & (CMD_WRITE | CMD_MAY_REPLICATE))) return 0;
    return namesLocked(c->db, cmd, c->argv, c->argc);
}

long long migrateWaitingClients(void) {
    long long n = 0;
    for (const migOp *op = ops; op; op = op->next) n += op->c != NULL;
    return n;
}

/* ---- the end ---------------------------------------------------------------- */

static void opFree(migOp *op) {
    for (int i = 0; i < op->nkeys; i++) memFree(op->keys[i]);
    memFree(op->keys);
    memFree(op->keyLens);
    memFree(op->out);
    memFree(op->in);
    memFree(op->authErr);
    memFree(op->selectErr);
    memFree(op->firstErr);
    memFree(op);
}

/* Any state -> DONE. Called from the loop only (a handler or the timer),
 * never from inside a command, so the client may be resumed here. */
static void opFinish(migOp *op) {
    CACHET_ASSERT(op->state != MIG_DONE);
    for (migOp **p = &ops; *p; p = &(*p)->next)
        if (*p == op) {
            *p = op->next;
            break;
        }
    if (!op->copy) lockingOps--;
    if (op->timer != -1) elDelTimer(srv.el, op->timer);
    op->timer = -1;
    if (op->cn) connClose(op->cn);
    op->cn = NULL;
    op->state = MIG_DONE;
    client *c = op->c;
    if (c) {
        c->flags &= ~(uint64_t)(CLIENT_MIGRATE | CLIENT_BLOCKED);
        if (op->firstErr) {
            replyErrorFormat(c, "Target instance replied with error: %s", op->firstErr);
        } else if (op->io == IO_CONNECT) {
            replyError(c, "-IOERR error or timeout connecting to the client");
        } else if (op->io != IO_OK) {
            replyErrorFormat(c, "-IOERR error or timeout %s to target instance",
                             op->io == IO_WRITE ? "writing" : "reading");
        } else {
            replyOk(c);
        }
        op->c = NULL;
        opCheck(op);
        clientInstallWriteIfNeeded(c);
        clientProcessPendingInput(c);
    }
    opFree(op);
}

static void opFail(migOp *op, migIoError io) {
    if (op->io == IO_OK) op->io = io;
    opFinish(op);
}

static void touchDeadline(migOp *op) {
    serverUpdateCachedTime();
    op->deadline = srv.mstime + op->timeoutMs;
}

static int opReadReplies(migOp *op);

static long opTimer(elLoop *el, long long id, void *data) {
    (void)el;
    (void)id;
    migOp *op = data;
    serverUpdateCachedTime();
    if (op->held) {
        /* The target answered; only a pause holds the replies back. */
        op->deadline = srv.mstime + op->timeoutMs;
        if (pauseActive()) return 10;
        op->timer = -1; /* opFinish must not delete the timer that runs */
        if (opReadReplies(op)) return EL_TIMER_STOP;
        op->timer = id;
    }
    if (op->held) return 10;
    if (srv.mstime < op->deadline) return (long)(op->deadline - srv.mstime);
    op->timer = -1; /* this timer ends with this call */
    opFail(op, op->state == MIG_CONNECTING ? IO_CONNECT : op->state == MIG_SENDING ? IO_WRITE : IO_READ);
    return EL_TIMER_STOP;
}

/* ---- replies ------------------------------------------------------------------ */

static char *dupLine(const char *p, size_t len) {
    char *s = memAlloc(len + 1);
    memcpy(s, p, len);
    s[len] = '\0';
    return s;
}

/* One reply line (without CRLF), in the order the commands went out: as
 * Redis' migrateCommand, an AUTH or SELECT error makes every RESTORE count
 * as failed, and the first error is the one reported. */
static void opReply(migOp *op, const char *line, size_t len) {
    int idx = op->got++;
    int isErr = len > 0 && line[0] == '-';
    if (idx < op->hasAuth) {
        if (isErr) op->authErr = dupLine(line + 1, len - 1);
        return;
    }
    if (idx < op->hasAuth + 1) {
        if (isErr) op->selectErr = dupLine(line + 1, len - 1);
        return;
    }
    int k = idx - op->hasAuth - 1;
    if (op->authErr || op->selectErr || isErr) {
        if (!op->firstErr)
            op->firstErr = op->authErr     ? dupLine(op->authErr, strlen(op->authErr))
                           : op->selectErr ? dupLine(op->selectErr, strlen(op->selectErr))
                                           : dupLine(line + 1, len - 1);
        return;
    }
    if (op->copy) return;
    /* Acknowledged: the local copy goes, and the replicas see a DEL. */
    const char *key = op->keys[k];
    size_t klen = op->keyLens[k];
    if (dbDelete(op->db, key, klen)) {
        dbTouchKey(op->db, key, klen);
        srv.dirty++;
        propDeletion(op->db, key, klen, 0);
    }
}

/* Consumes the complete lines read so far; AWAITING -> DONE at the last
 * (then returns 1: op is freed). While a pause is in force (CLIENT PAUSE,
 * FAILOVER) the dataset must stay as it is: the replies wait, unread, and
 * the timer looks again every 10 ms. */
static int opReadReplies(migOp *op) {
    if (!op->copy && pauseActive()) {
        op->held = 1;
        return 0;
    }
    op->held = 0;
    size_t pos = 0;
    while (op->got < op->expect) {
        char *nl = memchr(op->in + pos, '\n', op->inLen - pos);
        if (!nl) break;
        size_t len = (size_t)(nl - (op->in + pos));
        if (len && op->in[pos + len - 1] == '\r') len--;
        opReply(op, op->in + pos, len);
        pos = (size_t)(nl - op->in) + 1;
    }
    memmove(op->in, op->in + pos, op->inLen - pos);
    op->inLen -= pos;
    opCheck(op);
    if (op->got == op->expect && op->state == MIG_AWAITING) {
        opFinish(op);
        return 1;
    }
    return 0;
}

static void opRead(conn *cn) {
    migOp *op = cn->data;
    if (op->inCap - op->inLen < 4096) {
        op->inCap = op->inLen + 16384;
        op->in = memRealloc(op->in, op->inCap);
    }
    ssize_t n = connRead(cn, op->in + op->inLen, op->inCap - op->inLen);
    if (n == 0 || (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK)) {
        opFail(op, op->state == MIG_SENDING ? IO_WRITE : IO_READ);
        return;
    }
    if (n < 0) return;
    op->inLen += (size_t)n;
    srv.statNetInputBytes += n;
    touchDeadline(op);
    if (!opReadReplies(op) && op->held && op->timer != -1) {
        elDelTimer(srv.el, op->timer);
        op->timer = elAddTimer(srv.el, 10, opTimer, op);
    }
}

/* ---- sending ----------------------------------------------------------------- */

static void opWrite(conn *cn);

/* SENDING -> AWAITING once the last byte is out. */
static void opFlush(migOp *op) {
    while (op->outPos < op->outLen) {
        size_t chunk = op->outLen - op->outPos;
        if (chunk > 64 * 1024) chunk = 64 * 1024;
        struct iovec iov = {op->out + op->outPos, chunk};
        ssize_t n = connWritev(op->cn, &iov, 1);
        if (n < 0) {
            if (errno == EAGAIN || errno == EWOULDBLOCK) break;
            opFail(op, IO_WRITE);
            return;
        }
        op->outPos += (size_t)n;
        srv.statNetOutputBytes += n;
        touchDeadline(op);
    }
    if (op->outPos < op->outLen) {
        if (!connHasWriteHandler(op->cn)) connSetWriteHandler(op->cn, opWrite);
        return;
    }
    if (connHasWriteHandler(op->cn)) connSetWriteHandler(op->cn, NULL);
    op->state = MIG_AWAITING;
    opCheck(op);
    if (op->got == op->expect) opFinish(op);
}

static void opWrite(conn *cn) { opFlush(cn->data); }

/* What Redis 7.0 reports for a failed connect: over TLS its blocking
 * connect fails ("connecting"); over TCP a refused or timed-out connect
 * still counts as connected, and the first write fails ("writing"). */
static migIoError connFailure(int tls) { return tls ? IO_CONNECT : IO_WRITE; }

/* CONNECTING -> SENDING, or DONE when the connect failed. */
static void opConnected(conn *cn, int status, const char *err, void *privdata) {
    migOp *op = privdata;
    if (status != 0) {
        logVerbose("MIGRATE: cannot connect: %s", err ? err : "connect failed");
        opFail(op, connFailure(op->tls));
        return;
    }
    cn->data = op;
    connEnableNoDelay(cn);
    touchDeadline(op);
    op->state = MIG_SENDING;
    opCheck(op);
    connSetReadHandler(cn, opRead);
    opFlush(op);
}

/* ---- the command ----------------------------------------------------------------- */

/* Redis' migrateGetKeys: the key at 3, or every argument after KEYS when
 * the key is "". */
static void migrateGetKeys(cmdKeyIter *it, const slice *argv, int argc) {
    if (argc <= 6 || argv[3].len != 0) return;
    for (int i = 6; i < argc; i++) {
        if (sliceEqNocase(argv[i], "keys")) {
            it->pos = i + 1;
            it->last = argc - 1;
            return;
        }
    }
}

static void migrateCommand(client *c) {
    int copy = 0, replace = 0, firstKey = 3, numKeys = 1;
    slice user = {NULL, 0}, pass = {NULL, 0};
    int hasPass = 0;
    for (int j = 6; j < c->argc; j++) {
        int more = c->argc - 1 - j;
        if (sliceEqNocase(c->argv[j], "copy")) {
            copy = 1;
        } else if (sliceEqNocase(c->argv[j], "replace")) {
            replace = 1;
        } else if (sliceEqNocase(c->argv[j], "auth")) {
            if (!more) {
                replyErrorSyntax(c);
                return;
            }
            pass = c->argv[++j];
            hasPass = 1;
        } else if (sliceEqNocase(c->argv[j], "auth2")) {
            if (more < 2) {
                replyErrorSyntax(c);
                return;
            }
            user = c->argv[++j];
            pass = c->argv[++j];
            hasPass = 1;
        } else if (sliceEqNocase(c->argv[j], "keys")) {
            if (c->argv[3].len != 0) {
                replyError(c, "When using MIGRATE KEYS option, the key argument must be set to the empty string");
                return;
            }
            firstKey = j + 1;
            numKeys = c->argc - j - 1;
            break;
        } else {
            replyErrorSyntax(c);
            return;
        }
    }
    long timeout, dbid;
    if (getLongFromSliceOrReply(c, c->argv[5], &timeout, NULL) == -1) return;
    if (getLongFromSliceOrReply(c, c->argv[4], &dbid, NULL) == -1) return;
    if (timeout <= 0) timeout = 1000;

    /* The keys that are here; none: +NOKEY (often a key that just expired). */
    dbEntry **found = memAlloc(sizeof(dbEntry *) * (size_t)(numKeys ? numKeys : 1));
    int *argIdx = memAlloc(sizeof(int) * (size_t)(numKeys ? numKeys : 1));
    int n = 0;
    for (int j = 0; j < numKeys; j++) {
        dbEntry *e = dbLookupRead(c->db, c->argv[firstKey + j]);
        if (e) {
            found[n] = e;
            argIdx[n++] = firstKey + j;
        }
    }
    if (n == 0) {
        memFree(found);
        memFree(argIdx);
        replyRaw(c, "+NOKEY\r\n", 8);
        return;
    }
    if ((c->flags & (CLIENT_MULTI | CLIENT_SCRIPT)) || srv.current != c) {
        /* Nothing may wait inside a transaction or a script, and this
         * node never blocks its loop on a socket. */
        memFree(found);
        memFree(argIdx);
        replyError(c, "MIGRATE is not supported inside MULTI/EXEC or scripts");
        return;
    }

    /* Where to: a numeric address or localhost (no resolver on the loop). */
    char host[256], addr[NET_ADDR_LEN];
    long long port;
    snprintf(host, sizeof(host), "%.*s", (int)(c->argv[1].len < 255 ? c->argv[1].len : 255), c->argv[1].p);
    int badTarget = netResolveHost(host, addr, sizeof(addr)) == -1;
    if (!string2ll(c->argv[2].p, c->argv[2].len, &port) || port < 0 || port > 65535) port = 0; /* Redis: atoi */

    migOp *op = memCalloc(sizeof(*op));
    op->timer = -1;
    op->db = c->db;
    op->copy = copy;
    op->timeoutMs = timeout;
    op->hasAuth = hasPass;
    if (hasPass) {
        outCount(op, user.p ? 3 : 2);
        outBulk(op, "AUTH", 4);
        if (user.p) outBulk(op, user.p, user.len);
        outBulk(op, pass.p, pass.len);
    }
    /* A new connection each time (no cached sockets): SELECT always. */
    outCount(op, 2);
    outBulk(op, "SELECT", 6);
    outBulkLL(op, dbid);
    op->keys = memAlloc(sizeof(char *) * (size_t)n);
    op->keyLens = memAlloc(sizeof(size_t) * (size_t)n);
    const char *restore = srv.clusterEnabled ? "RESTORE-ASKING" : "RESTORE";
    for (int j = 0; j < n; j++) {
        long long ttl = 0;
        if (found[j]->expire) {
            ttl = found[j]->expire - srv.mstime;
            if (ttl < 0) continue; /* expired since the lookup */
            if (ttl < 1) ttl = 1;
        }
        slice k = c->argv[argIdx[j]];
        op->keys[op->nkeys] = dupLine(k.p, k.len);
        op->keyLens[op->nkeys++] = k.len;
        outCount(op, replace ? 5 : 4);
        outBulk(op, restore, strlen(restore));
        outBulk(op, k.p, k.len);
        outBulkLL(op, ttl);
        size_t plen;
        char *payload = rdbDumpPayload(found[j], &plen);
        outBulk(op, payload, plen);
        memFree(payload);
        if (replace) outBulk(op, "REPLACE", 7);
    }
    memFree(found);
    memFree(argIdx);
    op->expect = op->hasAuth + 1 + op->nkeys;

    conn *cn = NULL;
    migIoError fail = IO_CONNECT; /* a target that cannot be resolved */
    op->tls = srv.tlsMode != TLS_MODE_NONE;
    if (!badTarget) {
        fail = connFailure(op->tls);
        char err[256];
        connOutTls *tls = NULL;
        if (srv.tlsMode != TLS_MODE_NONE) {
            tls = tlsOutboundContext(host, addr, err, sizeof(err));
            if (!tls) logWarning("MIGRATE: TLS configuration: %s", err);
        }
        if (tls || srv.tlsMode == TLS_MODE_NONE)
            cn = connOutConnect(srv.el, addr, (int)port, tls, timeout, opConnected, op, err, sizeof(err));
        connOutTlsFree(tls);
        if (!cn && tls) logVerbose("MIGRATE: cannot connect: %s", err);
    }
    if (!cn) {
        opFree(op);
        if (fail == IO_CONNECT) replyError(c, "-IOERR error or timeout connecting to the client");
        else replyError(c, "-IOERR error or timeout writing to target instance");
        return;
    }
    op->cn = cn;
    op->state = MIG_CONNECTING;
    op->c = c;
    c->flags |= CLIENT_MIGRATE | CLIENT_BLOCKED;
    op->next = ops;
    ops = op;
    if (!copy) lockingOps++;
    op->deadline = srv.mstime + timeout;
    op->timer = elAddTimer(srv.el, timeout, opTimer, op);
    opCheck(op);
}

void migrateClientFree(client *c) {
    if (!(c->flags & CLIENT_MIGRATE)) return;
    for (migOp *op = ops; op; op = op->next)
        if (op->c == c) op->c = NULL;
    c->flags &= ~(uint64_t)(CLIENT_MIGRATE | CLIENT_BLOCKED);
}

static cmdProc *const migrateProc = migrateCommand;

int migrateIsMigrateCommand(const cmdDef *cmd) { return cmd->proc == migrateProc; }

cmdDef migrateCommands[] = {
    {.name = "migrate", .proc = migrateCommand, .arity = -6, .flags = CMD_WRITE | CMD_MOVABLE_KEYS,
     .acl = ACL_KEYSPACE | ACL_DANGEROUS, .firstKey = 3, .lastKey = 3, .keyStep = 1, .getKeys = migrateGetKeys,
     .group = "generic", .since = "2.6.0", .summary = "Atomically transfer a key from a Redis instance to another one.",
     .complexity = "This command actually executes a DUMP+DEL in the source instance, and a RESTORE in the target "
                   "instance. See the pages of these commands for time complexity. Also an O(N) data transfer "
                   "between the two instances is performed."},
    {0}};
