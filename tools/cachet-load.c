/* cachet-load: a load generator that proves a server change (TLS migration,
 * certificate rotation, ...) costs the clients nothing.
 *
 * N connections (plain, TLS, or a mix) each own a slice of K keys under
 * --prefix, prefill them, then run random GET/SET one request at a time, the
 * way a client library does, reconnecting with exponential backoff when a
 * connection dies. Every GET of a key whose value it knows is verified. At
 * the end (duration, SIGINT or SIGTERM) it prints one JSON object on stdout;
 * a progress line goes to stderr every second.
 *
 * It owns its connections, the keys under its prefix and its output files.
 * It must never touch keys outside its prefix, never block (one thread,
 * poll, non-blocking sockets and TLS) and never exit non-zero because the
 * server misbehaved: failures are the measurement, reported in the JSON.
 * Exit codes: 0 run finished, 2 usage or setup error (bad option, bad file).
 *
 * Accounting, as a client application would see it:
 *  - an op fails on an error reply, a connection error/EOF, or a timeout
 *    (an op in flight when its connection dies is failed);
 *  - a connect attempt = TCP connect + TLS handshake + CLIENT SETNAME (the
 *    kind of hello a client library sends); any failure in it, including
 *    the `-ERR TLS is required...` line a server in tls-mode required sends
 *    to plaintext, is a connect error;
 *  - timeouts counts ops and connect attempts older than --timeout (the
 *    connection is then closed and reconnected, as a client library does);
 *  - downtime_ms = sum over connections of the time from the start of the
 *    first failed attempt (op or connect) to the end of the next successful
 *    op (or the end of the run).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

/* ---- options ------------------------------------------------------------ */

static struct {
    const char *host, *cacert, *cert, *key, *sni, *prefix, *readyFile, *statsFile;
    int port, conns, tlsConns;
    double tlsRatio; /* < 0: not given */
    long keys, valueSize, timeoutMs, rate;
    double duration, setRatio;
    bool noVerify, quiet;
} opt = {
    .host = "127.0.0.1", .port = 6379, .conns = 8, .tlsConns = -1, .tlsRatio = -1,
    .prefix = "cachet-load", .keys = 1000, .valueSize = 64, .timeoutMs = 1000,
    .duration = 10, .setRatio = 0.2,
};

/* ---- time, randomness, signals -------------------------------------------- */

static int64_t nowUs(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static uint64_t rngState = 88172645463325252ULL;
static uint64_t rnd(void) { /* xorshift64: fast, good enough to pick keys */
    rngState ^= rngState << 13;
    rngState ^= rngState >> 7;
    rngState ^= rngState << 17;
    return rngState;
}

static volatile sig_atomic_t stopRequested;
static void onSignal(int sig) { (void)sig; stopRequested = 1; }

/* ---- latency histogram (log buckets, ~6% precision) ----------------------- */

#define HSUB 16
#define HBUCKETS (2 * HSUB + 60 * HSUB)

static int histIndex(uint64_t v) {
    if (v < 2 * HSUB) return (int)v;
    int e = 63 - __builtin_clzll(v); /* v in [2^e, 2^(e+1)), e >= 5 */
    int sub = (int)((v >> (e - 4)) & (HSUB - 1));
    return 2 * HSUB + (e - 5) * HSUB + sub;
}

static uint64_t histUpper(int i) { /* largest value that lands in bucket i */
    if (i < 2 * HSUB) return (uint64_t)i;
    int e = (i - 2 * HSUB) / HSUB + 5, sub = (i - 2 * HSUB) % HSUB;
    uint64_t lower = (uint64_t)(HSUB + sub) << (e - 4);
    return lower + ((uint64_t)1 << (e - 4)) - 1;
}

/* ---- statistics, one set per connection kind ------------------------------ */

typedef struct {
    uint64_t ok, failed, gets, sets, verifyErrors, connectErrors, timeouts, reconnects;
    uint64_t downtimeUs, maxUs;
    uint64_t hist[HBUCKETS];
} stats;

enum { KIND_PLAIN, KIND_TLS };
static stats kindStats[2];

static void statsAdd(stats *dst, const stats *s) {
    dst->ok += s->ok; dst->failed += s->failed; dst->gets += s->gets; dst->sets += s->sets;
    dst->verifyErrors += s->verifyErrors; dst->connectErrors += s->connectErrors;
    dst->timeouts += s->timeouts; dst->reconnects += s->reconnects;
    dst->downtimeUs += s->downtimeUs;
    if (s->maxUs > dst->maxUs) dst->maxUs = s->maxUs;
    for (int i = 0; i < HBUCKETS; i++) dst->hist[i] += s->hist[i];
}

static uint64_t statsPercentile(const stats *s, double p) {
    uint64_t n = 0, seen = 0;
    for (int i = 0; i < HBUCKETS; i++) n += s->hist[i];
    if (n == 0) return 0;
    uint64_t target = (uint64_t)(p * (double)n + 0.999999);
    if (target == 0) target = 1;
    for (int i = 0; i < HBUCKETS; i++) {
        seen += s->hist[i];
        if (seen >= target) {
            uint64_t u = histUpper(i);
            return u > s->maxUs ? s->maxUs : u;
        }
    }
    return s->maxUs;
}

static void statsJson(FILE *f, const stats *s) {
    fprintf(f, "\"ops\":%llu,\"ok\":%llu,\"failed\":%llu,\"gets\":%llu,\"sets\":%llu,"
               "\"verify_errors\":%llu,\"connect_errors\":%llu,\"timeouts\":%llu,"
               "\"reconnects\":%llu,\"downtime_ms\":%llu,\"p50_us\":%llu,\"p99_us\":%llu,"
               "\"max_us\":%llu",
            (unsigned long long)(s->ok + s->failed), (unsigned long long)s->ok,
            (unsigned long long)s->failed, (unsigned long long)s->gets,
            (unsigned long long)s->sets, (unsigned long long)s->verifyErrors,
            (unsigned long long)s->connectErrors, (unsigned long long)s->timeouts,
            (unsigned long long)s->reconnects, (unsigned long long)(s->downtimeUs / 1000),
            (unsigned long long)statsPercentile(s, 0.50),
            (unsigned long long)statsPercentile(s, 0.99), (unsigned long long)s->maxUs);
}

/* ---- keys and their expected values -------------------------------------- */

/* Key i is owned by connection i % conns: only its owner reads or writes it,
 * so the expected value is exact. A key whose last write has an unknown
 * outcome (SET in flight when the connection died, or a verify mismatch) is
 * not verified until its owner rewrote it. */
static uint32_t *keyVersion;
static bool *keyKnown;
static char *valueScratch;

static void makeValue(char *out, long key, uint32_t ver) {
    char hdr[48];
    int h = snprintf(hdr, sizeof hdr, "%ld:%u:", key, ver);
    uint64_t s = ((uint64_t)key * 0x9E3779B97F4A7C15ULL) ^ ((uint64_t)ver << 32) ^ 0x5851F42D4C957F2DULL;
    for (long i = 0; i < opt.valueSize; i++) {
        if (i < h) {
            out[i] = hdr[i];
        } else {
            s ^= s << 13; s ^= s >> 7; s ^= s << 17;
            out[i] = (char)('a' + s % 26);
        }
    }
}

/* ---- connections ----------------------------------------------------------- */

typedef enum { C_DOWN, C_CONNECTING, C_HANDSHAKE, C_HELLO, C_IDLE, C_BUSY } cstate;
enum { OP_GET, OP_SET };

typedef struct {
    int id, kind;
    int fd;
    SSL *ssl;
    cstate st;
    short events;          /* what the last would-block asked poll for */
    int64_t attemptStart;  /* connect attempt or op start */
    int64_t nextAt;        /* C_DOWN: reconnect time; C_IDLE: next op time (rate) */
    int failedConnects;    /* consecutive, for the backoff */
    bool everConnected;
    int64_t failSince;     /* start of the current failure streak, 0 = healthy */
    char *wbuf; size_t wlen, wpos, wcap;
    char *rbuf; size_t rlen, rcap;
    int opKind; long opKey; uint32_t opVer; bool opPrefill;
    long nOwn, prefillNext, repairKey;
    stats *s;
} conn;

static conn *conns;
static struct sockaddr_storage addr;
static socklen_t addrLen;
static SSL_CTX *sslCtx;
static int nConnected, nPrefilled;
static bool sniIsSet;
static int64_t prefillUs = -1; /* prefill + every connection up took this long */

static void logMsg(const char *fmt, ...) {
    if (opt.quiet) return;
    va_list ap;
    va_start(ap, fmt);
    fputs("cachet-load: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
}

/* The first few failures are worth seeing; a storm of them is not. */
static int failLogBudget = 20;
static void logFailure(conn *c, const char *what, const char *detail) {
    if (failLogBudget <= 0) return;
    if (--failLogBudget == 0) {
        logMsg("(further failure messages suppressed)");
        return;
    }
    logMsg("conn %d (%s): %s%s%s", c->id, c->kind == KIND_TLS ? "tls" : "plain", what,
           detail ? ": " : "", detail ? detail : "");
}

static void markFail(conn *c, int64_t t) {
    if (!c->failSince) c->failSince = t ? t : 1;
}

static void connClose(conn *c) {
    if (c->ssl) {
        SSL_free(c->ssl); /* no close_notify: the connection is already broken or we stop */
        c->ssl = NULL;
    }
    if (c->fd >= 0) close(c->fd);
    c->fd = -1;
    if (c->st == C_IDLE || c->st == C_BUSY) nConnected--;
    c->st = C_DOWN;
    c->rlen = c->wlen = c->wpos = 0;
    c->events = 0;
}

static void connectFailed(conn *c, const char *why, const char *detail, bool timeout) {
    c->s->connectErrors++;
    if (timeout) c->s->timeouts++;
    logFailure(c, why, detail);
    markFail(c, c->attemptStart);
    connClose(c);
    c->failedConnects++;
    /* 10 ms doubling to 1 s after consecutive failed connects. */
    int64_t backoff = 10000LL << (c->failedConnects > 8 ? 7 : c->failedConnects - 1);
    if (backoff > 1000000) backoff = 1000000;
    c->nextAt = nowUs() + backoff;
}

/* --rate spreads ops evenly over the connections; prefill runs flat out. */
static int64_t opGap(const conn *c) {
    return opt.rate > 0 && !c->opPrefill ? (int64_t)opt.conns * 1000000 / opt.rate : 0;
}

static void opFailed(conn *c, const char *why, const char *detail, bool closeIt, bool timeout) {
    c->s->failed++;
    if (timeout) c->s->timeouts++;
    logFailure(c, why, detail);
    markFail(c, c->attemptStart);
    if (c->opKind == OP_SET && !c->opPrefill && closeIt) {
        /* The write may or may not have happened: stop verifying the key
         * until it is rewritten, and rewrite it first. */
        keyKnown[c->opKey] = false;
        c->repairKey = c->opKey;
    }
    if (closeIt) {
        connClose(c);
        c->nextAt = nowUs(); /* first reconnect at once, as client libraries do */
    } else {
        c->st = C_IDLE;
        c->nextAt = c->attemptStart + opGap(c);
    }
}

static void sslErrDetail(char *buf, size_t n) {
    unsigned long e = ERR_get_error();
    if (e) ERR_error_string_n(e, buf, n);
    else snprintf(buf, n, "%s", errno ? strerror(errno) : "connection closed");
    ERR_clear_error();
}

/* Non-blocking I/O over plain or TLS: >0 bytes, 0 would block (events set),
 * -1 error or EOF (detail in errbuf). */
static ssize_t connWrite(conn *c, const char *p, size_t n, char *errbuf, size_t errn) {
    if (!c->ssl) {
        ssize_t w = send(c->fd, p, n, MSG_NOSIGNAL);
        if (w >= 0) return w;
        if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR) {
            c->events = POLLOUT;
            return 0;
        }
        snprintf(errbuf, errn, "%s", strerror(errno));
        return -1;
    }
    ERR_clear_error();
    errno = 0;
    int w = SSL_write(c->ssl, p, (int)n);
    if (w > 0) return w;
    int e = SSL_get_error(c->ssl, w);
    if (e == SSL_ERROR_WANT_WRITE) { c->events = POLLOUT; return 0; }
    if (e == SSL_ERROR_WANT_READ) { c->events = POLLIN; return 0; }
    sslErrDetail(errbuf, errn);
    return -1;
}

static ssize_t connRead(conn *c, char *p, size_t n, char *errbuf, size_t errn) {
    if (!c->ssl) {
        ssize_t r = recv(c->fd, p, n, 0);
        if (r > 0) return r;
        if (r == 0) { snprintf(errbuf, errn, "connection closed by server"); return -1; }
        if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR) {
            c->events = POLLIN;
            return 0;
        }
        snprintf(errbuf, errn, "%s", strerror(errno));
        return -1;
    }
    ERR_clear_error();
    errno = 0;
    int r = SSL_read(c->ssl, p, (int)n);
    if (r > 0) return r;
    int e = SSL_get_error(c->ssl, r);
    if (e == SSL_ERROR_WANT_READ) { c->events = POLLIN; return 0; }
    if (e == SSL_ERROR_WANT_WRITE) { c->events = POLLOUT; return 0; }
    if (e == SSL_ERROR_ZERO_RETURN || (e == SSL_ERROR_SYSCALL && errno == 0))
        snprintf(errbuf, errn, "connection closed by server");
    else
        sslErrDetail(errbuf, errn);
    return -1;
}

/* Queue a command (RESP array of bulk strings) in the write buffer. */
static void queueCommand(conn *c, int argc, const char **argv, const size_t *lens) {
    size_t need = 32;
    for (int i = 0; i < argc; i++) need += lens[i] + 32;
    if (need > c->wcap) {
        c->wbuf = realloc(c->wbuf, need);
        if (!c->wbuf) { fputs("cachet-load: out of memory\n", stderr); exit(2); }
        c->wcap = need;
    }
    size_t o = (size_t)sprintf(c->wbuf, "*%d\r\n", argc);
    for (int i = 0; i < argc; i++) {
        o += (size_t)sprintf(c->wbuf + o, "$%zu\r\n", lens[i]);
        memcpy(c->wbuf + o, argv[i], lens[i]);
        o += lens[i];
        c->wbuf[o++] = '\r';
        c->wbuf[o++] = '\n';
    }
    c->wlen = o;
    c->wpos = 0;
}

static void startConnect(conn *c) {
    c->attemptStart = nowUs();
    c->fd = socket(addr.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (c->fd < 0) {
        c->st = C_CONNECTING;
        connectFailed(c, "socket", strerror(errno), false);
        return;
    }
    int one = 1;
    setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    c->st = C_CONNECTING;
    c->events = POLLOUT;
    if (connect(c->fd, (struct sockaddr *)&addr, addrLen) < 0 && errno != EINPROGRESS)
        connectFailed(c, "connect", strerror(errno), false);
}

static void startHello(conn *c) {
    char name[128];
    int n = snprintf(name, sizeof name, "load-%s-%s-%d", opt.prefix,
                     c->kind == KIND_TLS ? "tls" : "plain", c->id);
    if (n >= (int)sizeof name) n = sizeof name - 1;
    for (int i = 0; i < n; i++) /* a client name may not hold spaces */
        if (name[i] <= ' ' || name[i] > '~') name[i] = '_';
    const char *argv[] = {"CLIENT", "SETNAME", name};
    size_t lens[] = {6, 7, (size_t)n};
    queueCommand(c, 3, argv, lens);
    c->st = C_HELLO;
}

static void startOp(conn *c) {
    char key[256];
    long k;
    c->opPrefill = c->prefillNext < c->nOwn;
    if (c->opPrefill) {
        k = c->id + c->prefillNext * opt.conns;
        c->opKind = OP_SET;
        c->opVer = 0;
    } else if (c->repairKey >= 0) {
        k = c->repairKey;
        c->opKind = OP_SET;
        c->opVer = keyVersion[k] + 1;
    } else {
        k = c->id + (long)(rnd() % (uint64_t)c->nOwn) * opt.conns;
        c->opKind = (double)(rnd() % 1000000) < opt.setRatio * 1000000.0 ? OP_SET : OP_GET;
        c->opVer = keyVersion[k] + 1;
    }
    c->opKey = k;
    int kl = snprintf(key, sizeof key, "%s:%ld", opt.prefix, k);
    if (c->opKind == OP_SET) {
        makeValue(valueScratch, k, c->opVer);
        const char *argv[] = {"SET", key, valueScratch};
        size_t lens[] = {3, (size_t)kl, (size_t)opt.valueSize};
        queueCommand(c, 3, argv, lens);
    } else {
        const char *argv[] = {"GET", key};
        size_t lens[] = {3, (size_t)kl};
        queueCommand(c, 2, argv, lens);
    }
    c->attemptStart = nowUs();
    c->st = C_BUSY;
}

/* Parse one RESP2 reply at b[0..n). Returns 1 complete (*used bytes), 0 need
 * more, -1 protocol error. *type is the first byte; payload/plen the line or
 * the bulk body (plen -1 for a null bulk). */
static int respParse(const char *b, size_t n, size_t *used, char *type, const char **payload,
                     long *plen) {
    const char *nl = n ? memchr(b, '\n', n) : NULL;
    if (!nl) return n > 65536 ? -1 : 0;
    size_t line = (size_t)(nl - b) + 1;
    if (line < 3 || b[line - 2] != '\r') return -1;
    *type = b[0];
    if (b[0] == '+' || b[0] == '-' || b[0] == ':') {
        *payload = b + 1;
        *plen = (long)line - 3;
        *used = line;
        return 1;
    }
    if (b[0] != '$') return -1;
    long len = strtol(b + 1, NULL, 10);
    if (len < 0) {
        *payload = NULL;
        *plen = -1;
        *used = line;
        return 1;
    }
    if (n < line + (size_t)len + 2) return 0;
    *payload = b + line;
    *plen = len;
    *used = line + (size_t)len + 2;
    return 1;
}

static void histRecord(stats *s, uint64_t us) {
    s->hist[histIndex(us)]++;
    if (us > s->maxUs) s->maxUs = us;
}

static void opSucceeded(conn *c, int64_t now) {
    c->s->ok++;
    histRecord(c->s, (uint64_t)(now - c->attemptStart));
    if (c->failSince) {
        c->s->downtimeUs += (uint64_t)(now - c->failSince);
        c->failSince = 0;
    }
}

static void handleReply(conn *c, char type, const char *p, long plen) {
    int64_t now = nowUs();
    char detail[160];
    if (c->st == C_HELLO) {
        if (type != '+') {
            snprintf(detail, sizeof detail, "%.*s", (int)(plen > 150 ? 150 : plen), p ? p : "");
            connectFailed(c, "hello refused", detail, false);
            return;
        }
        if (c->everConnected) c->s->reconnects++;
        c->everConnected = true;
        c->failedConnects = 0;
        c->st = C_IDLE;
        c->nextAt = now;
        nConnected++;
        return;
    }
    /* C_BUSY: the reply to our op. */
    if (type == '-') {
        snprintf(detail, sizeof detail, "%.*s", (int)(plen > 150 ? 150 : plen), p);
        opFailed(c, "error reply", detail, false, false);
        return;
    }
    if (c->opKind == OP_SET) {
        c->s->sets++;
        if (type != '+') { opFailed(c, "unexpected SET reply", NULL, true, false); return; }
        keyVersion[c->opKey] = c->opVer;
        keyKnown[c->opKey] = true;
        if (c->opPrefill) {
            if (++c->prefillNext == c->nOwn) nPrefilled++;
        }
        if (c->repairKey == c->opKey) c->repairKey = -1;
    } else {
        c->s->gets++;
        if (type != '$') { opFailed(c, "unexpected GET reply", NULL, true, false); return; }
        if (keyKnown[c->opKey]) {
            makeValue(valueScratch, c->opKey, keyVersion[c->opKey]);
            if (plen != opt.valueSize || memcmp(p, valueScratch, (size_t)opt.valueSize) != 0) {
                c->s->verifyErrors++;
                snprintf(detail, sizeof detail, "key %s:%ld: expected version %u, got %s%.*s",
                         opt.prefix, c->opKey, keyVersion[c->opKey], plen < 0 ? "(nil)" : "",
                         (int)(plen > 40 ? 40 : plen < 0 ? 0 : plen), p ? p : "");
                logFailure(c, "verify error", detail);
                keyKnown[c->opKey] = false; /* rewrite it, then verify again */
                c->repairKey = c->opKey;
            }
        }
    }
    opSucceeded(c, now);
    c->st = C_IDLE;
    c->nextAt = c->attemptStart + opGap(c);
}

/* Move c forward as far as it can go without blocking. revents are poll's
 * results for it (0 when called for a timer). */
static void connDrive(conn *c, short revents) {
    char err[256];
    int opsStarted = 0;
    for (;;) {
        switch (c->st) {
        case C_DOWN:
            if (nowUs() < c->nextAt || stopRequested) return;
            startConnect(c);
            continue;
        case C_CONNECTING: {
            if (!(revents & (POLLOUT | POLLERR | POLLHUP))) return;
            int soerr = 0;
            socklen_t sl = sizeof soerr;
            getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &soerr, &sl);
            if (soerr) { connectFailed(c, "connect", strerror(soerr), false); return; }
            if (c->kind == KIND_TLS) {
                c->ssl = SSL_new(sslCtx);
                if (!c->ssl) { sslErrDetail(err, sizeof err); connectFailed(c, "SSL_new", err, false); return; }
                SSL_set_fd(c->ssl, c->fd);
                if (sniIsSet) SSL_set_tlsext_host_name(c->ssl, opt.sni);
                if (!opt.noVerify) {
                    X509_VERIFY_PARAM *vp = SSL_get0_param(c->ssl);
                    struct in6_addr tmp;
                    const char *name = opt.sni ? opt.sni : opt.host;
                    if (inet_pton(AF_INET, name, &tmp) == 1 || inet_pton(AF_INET6, name, &tmp) == 1)
                        X509_VERIFY_PARAM_set1_ip_asc(vp, name);
                    else
                        X509_VERIFY_PARAM_set1_host(vp, name, 0);
                }
                c->st = C_HANDSHAKE;
            } else {
                startHello(c);
            }
            continue;
        }
        case C_HANDSHAKE: {
            ERR_clear_error();
            errno = 0;
            int r = SSL_connect(c->ssl);
            if (r == 1) { startHello(c); continue; }
            int e = SSL_get_error(c->ssl, r);
            if (e == SSL_ERROR_WANT_READ) { c->events = POLLIN; return; }
            if (e == SSL_ERROR_WANT_WRITE) { c->events = POLLOUT; return; }
            long vr = SSL_get_verify_result(c->ssl);
            if (vr != X509_V_OK) snprintf(err, sizeof err, "certificate: %s", X509_verify_cert_error_string(vr));
            else if (e == SSL_ERROR_SYSCALL && errno == 0) snprintf(err, sizeof err, "connection closed by server");
            else sslErrDetail(err, sizeof err);
            connectFailed(c, "TLS handshake", err, false);
            return;
        }
        case C_IDLE:
            /* Replies can come back within this call; yield after a few ops so
             * one fast connection does not starve the others (the main loop
             * drives an idle connection whose time has come). */
            if (stopRequested || nowUs() < c->nextAt || ++opsStarted > 8) return;
            startOp(c);
            continue;
        case C_HELLO:
        case C_BUSY: {
            while (c->wpos < c->wlen) {
                ssize_t w = connWrite(c, c->wbuf + c->wpos, c->wlen - c->wpos, err, sizeof err);
                if (w == 0) return;
                if (w < 0) goto ioerror;
                c->wpos += (size_t)w;
            }
            for (;;) {
                size_t used; char type; const char *p; long plen;
                int pr = respParse(c->rbuf, c->rlen, &used, &type, &p, &plen);
                if (pr < 0) { snprintf(err, sizeof err, "protocol error"); goto ioerror; }
                if (pr > 0) {
                    cstate was = c->st;
                    handleReply(c, type, p, plen);
                    if (c->st == C_DOWN) return;
                    memmove(c->rbuf, c->rbuf + used, c->rlen - used);
                    c->rlen -= used;
                    if (was == C_HELLO || c->st != C_BUSY) break;
                    continue;
                }
                if (c->rcap - c->rlen < 16384) {
                    c->rcap = c->rcap * 2 + 16384;
                    c->rbuf = realloc(c->rbuf, c->rcap);
                    if (!c->rbuf) { fputs("cachet-load: out of memory\n", stderr); exit(2); }
                }
                ssize_t r = connRead(c, c->rbuf + c->rlen, c->rcap - c->rlen, err, sizeof err);
                if (r == 0) return;
                if (r < 0) goto ioerror;
                c->rlen += (size_t)r;
            }
            continue;
        ioerror:
            if (c->st == C_HELLO) connectFailed(c, "hello", err, false);
            else opFailed(c, "connection error", err, true, false);
            return;
        }
        }
    }
}

/* Timeouts: an op, or a connect attempt, older than --timeout. */
static void checkTimeouts(int64_t now) {
    int64_t limit = opt.timeoutMs * 1000;
    for (int i = 0; i < opt.conns; i++) {
        conn *c = &conns[i];
        if (now - c->attemptStart < limit) continue;
        if (c->st == C_BUSY) opFailed(c, "timeout", NULL, true, true);
        else if (c->st == C_CONNECTING || c->st == C_HANDSHAKE || c->st == C_HELLO)
            connectFailed(c, "connect timeout", NULL, true);
    }
}

/* ---- output ------------------------------------------------------------------ */

/* The counters as of now: per kind, with the failure streaks still open
 * counted up to now (so a progress line shows downtime while it happens). */
static void statsSnapshot(stats snap[2], stats *total) {
    int64_t now = nowUs();
    memcpy(snap, kindStats, sizeof kindStats);
    for (int i = 0; i < opt.conns; i++)
        if (conns[i].failSince) snap[conns[i].kind].downtimeUs += (uint64_t)(now - conns[i].failSince);
    memset(total, 0, sizeof *total);
    statsAdd(total, &snap[KIND_PLAIN]);
    statsAdd(total, &snap[KIND_TLS]);
}

static void printJson(FILE *f, double elapsed, bool running) {
    static stats snap[2], total; /* large (histograms): not on the stack */
    statsSnapshot(snap, &total);
    fputc('{', f);
    statsJson(f, &total);
    fprintf(f, ",\"duration_s\":%.3f,\"conns\":%d,\"tls_conns\":%d,\"connected\":%d,\"keys\":%ld,"
               "\"value_size\":%ld,\"prefill_ms\":%lld,\"running\":%s,\"plain\":{",
            elapsed, opt.conns, opt.tlsConns, nConnected, opt.keys, opt.valueSize,
            (long long)(prefillUs < 0 ? -1 : prefillUs / 1000), running ? "true" : "false");
    statsJson(f, &snap[KIND_PLAIN]);
    fputs("},\"tls\":{", f);
    statsJson(f, &snap[KIND_TLS]);
    fputs("}}\n", f);
}

/* Write path atomically (tmp + rename) so a poller never reads half a file. */
static void writeFileAtomic(const char *path, double elapsed, bool running, const char *text) {
    char tmp[4096];
    snprintf(tmp, sizeof tmp, "%s.tmp", path);
    FILE *f = fopen(tmp, "w");
    if (!f) { logMsg("cannot write %s: %s", tmp, strerror(errno)); return; }
    if (text) fputs(text, f);
    else printJson(f, elapsed, running);
    fclose(f);
    if (rename(tmp, path) < 0) logMsg("cannot rename %s: %s", tmp, strerror(errno));
}

/* Downtime still open at the end of the run counts up to now. */
static void closeOpenDowntime(int64_t now) {
    for (int i = 0; i < opt.conns; i++) {
        conn *c = &conns[i];
        if (c->failSince) {
            c->s->downtimeUs += (uint64_t)(now - c->failSince);
            c->failSince = 0;
        }
    }
}

/* ---- setup ------------------------------------------------------------------- */

static void usage(FILE *f) {
    fprintf(f,
        "Usage: cachet-load [options]\n"
        "  -h, --host H          server address (127.0.0.1)\n"
        "  -p, --port P          port (6379)\n"
        "  -c, --conns N         connections in all (8)\n"
        "  -t, --tls-conns N     how many of them use TLS (0)\n"
        "      --tls-ratio R     or: this fraction of them (0..1)\n"
        "      --tls             all connections use TLS\n"
        "      --cacert F        CA bundle to verify the server (default: system store)\n"
        "      --cert F --key F  client certificate and key\n"
        "      --sni NAME        SNI and name to verify (default: the host; SNI is not sent for an IP)\n"
        "      --no-verify       do not verify the server certificate\n"
        "  -k, --keys K          keys to prefill and use (1000; at least one per connection)\n"
        "  -d, --value-size B    value size in bytes (64)\n"
        "  -D, --duration S      seconds to run, prefill included; 0 = until SIGINT/SIGTERM (10)\n"
        "      --timeout MS      per op and per connect attempt (1000)\n"
        "      --set-ratio R     fraction of ops that are SET (0.2)\n"
        "      --rate N          total ops per second after prefill (0 = as fast as possible)\n"
        "      --prefix P        key prefix, so two loaders do not clash (cachet-load)\n"
        "      --ready-file F    written once prefill is done and every connection is up\n"
        "      --stats-file F    the JSON summary so far, rewritten every second\n"
        "  -q, --quiet           no progress or failure lines on stderr\n"
        "      --help            this text\n"
        "Prints one JSON object on stdout at the end. Exit 0 when the run finished\n"
        "(failures are in the JSON), 2 on a usage or setup error.\n");
}

static bool parseLong(const char *s, long lo, long hi, long *out) {
    char *end;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (errno || end == s || *end || v < lo || v > hi) return false;
    *out = v;
    return true;
}

static bool parseDouble(const char *s, double lo, double hi, double *out) {
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (errno || end == s || *end || !(v >= lo && v <= hi)) return false;
    *out = v;
    return true;
}

static int usageError(const char *fmt, const char *arg) {
    fprintf(stderr, "cachet-load: ");
    fprintf(stderr, fmt, arg);
    fprintf(stderr, "\n(cachet-load --help for usage)\n");
    return 2;
}

enum { O_TLS = 1000, O_TLSRATIO, O_CACERT, O_CERT, O_KEY, O_SNI, O_NOVERIFY, O_TIMEOUT,
       O_SETRATIO, O_RATE, O_PREFIX, O_READY, O_STATS, O_HELP };

static int parseArgs(int argc, char **argv) {
    static const struct option longopts[] = {
        {"host", required_argument, 0, 'h'}, {"port", required_argument, 0, 'p'},
        {"conns", required_argument, 0, 'c'}, {"tls-conns", required_argument, 0, 't'},
        {"tls-ratio", required_argument, 0, O_TLSRATIO}, {"tls", no_argument, 0, O_TLS},
        {"cacert", required_argument, 0, O_CACERT}, {"cert", required_argument, 0, O_CERT},
        {"key", required_argument, 0, O_KEY}, {"sni", required_argument, 0, O_SNI},
        {"no-verify", no_argument, 0, O_NOVERIFY}, {"keys", required_argument, 0, 'k'},
        {"value-size", required_argument, 0, 'd'}, {"duration", required_argument, 0, 'D'},
        {"timeout", required_argument, 0, O_TIMEOUT}, {"set-ratio", required_argument, 0, O_SETRATIO},
        {"rate", required_argument, 0, O_RATE}, {"prefix", required_argument, 0, O_PREFIX},
        {"ready-file", required_argument, 0, O_READY}, {"stats-file", required_argument, 0, O_STATS},
        {"quiet", no_argument, 0, 'q'}, {"help", no_argument, 0, O_HELP}, {0, 0, 0, 0}};
    long v;
    int ch;
    bool allTls = false;
    opterr = 0;
    while ((ch = getopt_long(argc, argv, ":h:p:c:t:k:d:D:q", longopts, NULL)) != -1) {
        switch (ch) {
        case 'h': opt.host = optarg; break;
        case 'p': if (!parseLong(optarg, 1, 65535, &v)) return usageError("bad port '%s'", optarg); opt.port = (int)v; break;
        case 'c': if (!parseLong(optarg, 1, 100000, &v)) return usageError("bad connection count '%s'", optarg); opt.conns = (int)v; break;
        case 't': if (!parseLong(optarg, 0, 100000, &v)) return usageError("bad TLS connection count '%s'", optarg); opt.tlsConns = (int)v; break;
        case O_TLSRATIO: if (!parseDouble(optarg, 0, 1, &opt.tlsRatio)) return usageError("bad --tls-ratio '%s' (0..1)", optarg); break;
        case O_TLS: allTls = true; break;
        case O_CACERT: opt.cacert = optarg; break;
        case O_CERT: opt.cert = optarg; break;
        case O_KEY: opt.key = optarg; break;
        case O_SNI: opt.sni = optarg; break;
        case O_NOVERIFY: opt.noVerify = true; break;
        case 'k': if (!parseLong(optarg, 1, 100000000, &opt.keys)) return usageError("bad key count '%s'", optarg); break;
        case 'd': if (!parseLong(optarg, 1, 512L * 1024 * 1024, &opt.valueSize)) return usageError("bad value size '%s'", optarg); break;
        case 'D': if (!parseDouble(optarg, 0, 1e9, &opt.duration)) return usageError("bad duration '%s'", optarg); break;
        case O_TIMEOUT: if (!parseLong(optarg, 1, 3600000, &opt.timeoutMs)) return usageError("bad --timeout '%s' (ms)", optarg); break;
        case O_SETRATIO: if (!parseDouble(optarg, 0, 1, &opt.setRatio)) return usageError("bad --set-ratio '%s' (0..1)", optarg); break;
        case O_RATE: if (!parseLong(optarg, 0, 100000000, &opt.rate)) return usageError("bad --rate '%s'", optarg); break;
        case O_PREFIX: opt.prefix = optarg; break;
        case O_READY: opt.readyFile = optarg; break;
        case O_STATS: opt.statsFile = optarg; break;
        case 'q': opt.quiet = true; break;
        case O_HELP: usage(stdout); exit(0);
        case ':': return usageError("option '%s' needs a value", argv[optind - 1]);
        default: return usageError("unknown option '%s'", argv[optind - 1]);
        }
    }
    if (optind < argc) return usageError("unexpected argument '%s'", argv[optind]);
    if (allTls) opt.tlsConns = opt.conns;
    else if (opt.tlsRatio >= 0) opt.tlsConns = (int)(opt.tlsRatio * opt.conns + 0.5);
    else if (opt.tlsConns < 0) opt.tlsConns = 0;
    if (opt.tlsConns > opt.conns) return usageError("%s", "--tls-conns is larger than --conns");
    if (!opt.cert != !opt.key) return usageError("%s", "--cert and --key go together");
    if (opt.keys < opt.conns) opt.keys = opt.conns; /* every connection owns a key */
    return 0;
}

static int setupTls(void) {
    sslCtx = SSL_CTX_new(TLS_client_method());
    if (!sslCtx) return 2;
    SSL_CTX_set_min_proto_version(sslCtx, TLS1_2_VERSION);
    /* SSL_write may be retried with a moved buffer after WANT_*: our
     * buffer can be reallocated between attempts only when empty, but be safe. */
    SSL_CTX_set_mode(sslCtx, SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER | SSL_MODE_ENABLE_PARTIAL_WRITE);
    if (opt.noVerify) {
        SSL_CTX_set_verify(sslCtx, SSL_VERIFY_NONE, NULL);
    } else {
        SSL_CTX_set_verify(sslCtx, SSL_VERIFY_PEER, NULL);
        int ok = opt.cacert ? SSL_CTX_load_verify_locations(sslCtx, opt.cacert, NULL)
                            : SSL_CTX_set_default_verify_paths(sslCtx);
        if (ok != 1) {
            char err[256];
            sslErrDetail(err, sizeof err);
            fprintf(stderr, "cachet-load: cannot load CA '%s': %s\n", opt.cacert ? opt.cacert : "(default)", err);
            return 2;
        }
    }
    if (opt.cert) {
        if (SSL_CTX_use_certificate_chain_file(sslCtx, opt.cert) != 1 ||
            SSL_CTX_use_PrivateKey_file(sslCtx, opt.key, SSL_FILETYPE_PEM) != 1 ||
            SSL_CTX_check_private_key(sslCtx) != 1) {
            char err[256];
            sslErrDetail(err, sizeof err);
            fprintf(stderr, "cachet-load: cannot load client certificate '%s' / key '%s': %s\n", opt.cert, opt.key, err);
            return 2;
        }
    }
    /* SNI carries a host name, never an address. */
    const char *name = opt.sni ? opt.sni : opt.host;
    struct in6_addr tmp;
    if (inet_pton(AF_INET, name, &tmp) != 1 && inet_pton(AF_INET6, name, &tmp) != 1) {
        opt.sni = name;
        sniIsSet = true;
    }
    return 0;
}

int main(int argc, char **argv) {
    int rc = parseArgs(argc, argv);
    if (rc) return rc;

    char portStr[16];
    snprintf(portStr, sizeof portStr, "%d", opt.port);
    struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM}, *res;
    int gai = getaddrinfo(opt.host, portStr, &hints, &res);
    if (gai) {
        fprintf(stderr, "cachet-load: cannot resolve %s: %s\n", opt.host, gai_strerror(gai));
        return 2;
    }
    memcpy(&addr, res->ai_addr, res->ai_addrlen);
    addrLen = res->ai_addrlen;
    freeaddrinfo(res);
    if (opt.tlsConns > 0 && (rc = setupTls())) return rc;

    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = onSignal; /* no SA_RESTART: poll returns EINTR and we stop */
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);
    rngState ^= (uint64_t)nowUs() * 0x9E3779B97F4A7C15ULL ^ (uint64_t)getpid();
    if (!rngState) rngState = 1;

    keyVersion = calloc((size_t)opt.keys, sizeof *keyVersion);
    keyKnown = calloc((size_t)opt.keys, sizeof *keyKnown);
    valueScratch = malloc((size_t)opt.valueSize);
    conns = calloc((size_t)opt.conns, sizeof *conns);
    struct pollfd *pfds = calloc((size_t)opt.conns, sizeof *pfds);
    int *pidx = calloc((size_t)opt.conns, sizeof *pidx);
    if (!keyVersion || !keyKnown || !valueScratch || !conns || !pfds || !pidx) {
        fputs("cachet-load: out of memory\n", stderr);
        return 2;
    }
    int64_t start = nowUs();
    for (int i = 0; i < opt.conns; i++) {
        conn *c = &conns[i];
        c->id = i;
        c->kind = i < opt.tlsConns ? KIND_TLS : KIND_PLAIN;
        c->s = &kindStats[c->kind];
        c->fd = -1;
        c->st = C_DOWN;
        c->nextAt = start;
        c->nOwn = (opt.keys - i + opt.conns - 1) / opt.conns;
        c->repairKey = -1;
        c->rcap = 16384 + (size_t)opt.valueSize;
        c->rbuf = malloc(c->rcap);
        if (!c->rbuf) { fputs("cachet-load: out of memory\n", stderr); return 2; }
    }
    logMsg("%d connections (%d TLS) to %s:%d, %ld keys of %ld bytes under '%s:'",
           opt.conns, opt.tlsConns, opt.host, opt.port, opt.keys, opt.valueSize, opt.prefix);

    int64_t nextTick = start + 1000000;
    uint64_t lastOps = 0;
    bool readyWritten = false;
    while (!stopRequested) {
        int64_t now = nowUs();
        if (!readyWritten && nPrefilled == opt.conns && nConnected == opt.conns) {
            readyWritten = true;
            prefillUs = now - start;
            logMsg("prefill done in %.3f s, all %d connections up", (double)(now - start) / 1e6, opt.conns);
            if (opt.readyFile) writeFileAtomic(opt.readyFile, 0, true, "ready\n");
        }
        if (opt.duration > 0 && now - start >= (int64_t)(opt.duration * 1e6)) break;
        if (now >= nextTick) {
            static stats snap[2], t;
            statsSnapshot(snap, &t);
            uint64_t ops = t.ok + t.failed;
            logMsg("%.0fs ops=%llu (%llu/s) ok=%llu failed=%llu verify_errors=%llu connect_errors=%llu "
                   "timeouts=%llu reconnects=%llu downtime_ms=%llu connected=%d/%d",
                   (double)(now - start) / 1e6, (unsigned long long)ops, (unsigned long long)(ops - lastOps),
                   (unsigned long long)t.ok, (unsigned long long)t.failed, (unsigned long long)t.verifyErrors,
                   (unsigned long long)t.connectErrors, (unsigned long long)t.timeouts,
                   (unsigned long long)t.reconnects, (unsigned long long)(t.downtimeUs / 1000),
                   nConnected, opt.conns);
            lastOps = ops;
            if (opt.statsFile) writeFileAtomic(opt.statsFile, (double)(now - start) / 1e6, true, NULL);
            while (nextTick <= now) nextTick += 1000000;
        }

        /* Timers first (reconnect, rate-limited next op), then poll. */
        int64_t wake = nextTick;
        for (int i = 0; i < opt.conns; i++) {
            conn *c = &conns[i];
            if (c->st == C_DOWN || c->st == C_IDLE) {
                if (c->nextAt <= now) connDrive(c, 0);
            }
            int64_t t = (c->st == C_DOWN || c->st == C_IDLE) ? c->nextAt : c->attemptStart + opt.timeoutMs * 1000;
            if (t < wake) wake = t;
        }
        if (opt.duration > 0) {
            int64_t end = start + (int64_t)(opt.duration * 1e6);
            if (end < wake) wake = end;
        }
        int n = 0;
        for (int i = 0; i < opt.conns; i++) {
            conn *c = &conns[i];
            if (c->fd < 0 || c->st == C_IDLE || c->st == C_DOWN) continue;
            pfds[n].fd = c->fd;
            pfds[n].events = c->events ? c->events : POLLIN;
            pfds[n].revents = 0;
            pidx[n++] = i;
        }
        now = nowUs();
        int waitMs = wake <= now ? 0 : (int)((wake - now + 999) / 1000);
        if (waitMs > 1000) waitMs = 1000;
        int pr = poll(pfds, (nfds_t)n, waitMs);
        if (pr < 0 && errno != EINTR) {
            logMsg("poll: %s", strerror(errno));
            break;
        }
        for (int j = 0; pr > 0 && j < n; j++)
            if (pfds[j].revents) connDrive(&conns[pidx[j]], pfds[j].revents);
        checkTimeouts(nowUs());
    }

    int64_t end = nowUs();
    closeOpenDowntime(end);
    double elapsed = (double)(end - start) / 1e6;
    printJson(stdout, elapsed, false); /* before closing: "connected" is the state at the end */
    fflush(stdout);
    if (opt.statsFile) writeFileAtomic(opt.statsFile, elapsed, false, NULL);
    for (int i = 0; i < opt.conns; i++) {
        connClose(&conns[i]);
        free(conns[i].rbuf);
        free(conns[i].wbuf);
    }
    if (sslCtx) SSL_CTX_free(sslCtx);
    free(keyVersion); free(keyKnown); free(valueScratch); free(conns); free(pfds); free(pidx);
    return 0;
}
