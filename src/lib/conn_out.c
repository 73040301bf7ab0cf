/* conn_out.c - outbound connections: non-blocking connect, then a client TLS
 * handshake if asked, on the same conn interface and event loop as accepted
 * connections (conn_out.h).
 *
 * Owns: the client SSL_CTX of a connOutTls, and while connecting the conn's
 * fd registration, its connect timer and its connOut state (c->out).
 * Must never block (non-blocking socket, numeric addresses only: no DNS on
 * the loop), never use the server's SSL_CTX, never call done twice or after
 * the caller closed the conn, and never free a conn a handler still runs on.
 *
 * State machine of an outbound conn (c->state, conn.h's diagram, and
 * c->out->phase while CONNECTING):
 *
 *   connOutConnect --> CONNECTING/TCP --(writable, SO_ERROR 0, TLS)--> CONNECTING/TLS
 *                           |  \--(writable, SO_ERROR 0, plain)--> OPEN
 *                           |                                          ^
 *                           |              CONNECTING/TLS --(SSL_connect 1)
 *                           \--(SO_ERROR, timer)--> ERROR <--(SSL error, timer)
 *   any state --(connClose by the caller)--> CLOSED (freed)
 *
 *   connOutConnect   creates the socket and starts connect(): CONNECTING/TCP.
 *                    An error the kernel reports at once returns NULL instead.
 *   connectStep      on writability reads SO_ERROR: to CONNECTING/TLS
 *                    (startHandshake) or open (finishOpen) or ERROR (failOut).
 *   handshakeStep    drives SSL_connect; interest is what OpenSSL asked for.
 *   onTimeout        the one timer of the attempt: ERROR "timed out".
 *   finishOpen       CONNECTING -> OPEN: frees c->out, hands the conn
 *                    to conn_plain.c (connBecomePlain) or conn_tls.c
 *                    (connBecomeTlsClient), which make the move, then calls done(c, 0).
 *   failOut          CONNECTING -> ERROR: frees c->out, drops interest,
 *                    then calls done(c, -1, message).
 *   outClose         any state -> CLOSED, for a conn still of outType (the
 *                    caller may close while connecting or after an error).
 *
 * Invariants (checkInvariants, asserted in CACHET_ASSERTS builds):
 *   CONNECTING  <=> c->out != NULL; then fd >= 0, type == &outType, a timer
 *               is armed, and c->ssl != NULL exactly when phase is TLS (the
 *               SSL is made at the start of the handshake).
 *   ERROR       from here: c->out == NULL, no timer, no fd interest; reads
 *               and writes fail with c->lastErrno.
 *   OPEN        type is the plain or TLS type, never outType; done was called.
 *   done is called at most once: failOut and finishOpen free c->out first,
 *   and only a conn with c->out reaches either. */
#include "log.h"
#include "mem.h"
#include "util.h"
#include "conn_out.h"
#include "dassert.h"
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

struct connOutTls {
    SSL_CTX *ctx;
    char *sni;    /* or NULL */
    int verify;
};

enum { OUT_TCP = 1, OUT_TLS = 2 };

typedef struct connOut {
    int phase;               /* OUT_TCP, OUT_TLS */
    long long timer;         /* el timer id */
    long timeoutMs;
    SSL_CTX *ctx;            /* a reference (SSL_CTX_up_ref) while OUT_TCP, or NULL */
    char *sni;               /* copied from the connOutTls: it may be freed meanwhile */
    int verify;
    connOutHandler *done;
    void *privdata;
    char peer[INET6_ADDRSTRLEN + 16]; /* "127.0.0.1:6379", "[::1]:6379" */
    char addr[INET6_ADDRSTRLEN];
} connOut;

static const connType outType;

/* ---- invariants ------------------------------------------------------------------- */

static void checkInvariants(const conn *c) {
    const connOut *o = c->out;
    CACHET_ASSERT((c->state == CONN_STATE_CONNECTING) == (o != NULL));
    if (o) {
        CACHET_ASSERT(c->type == &outType);
        CACHET_ASSERT(c->fd >= 0);
        CACHET_ASSERT(o->timer > 0);
        CACHET_ASSERT(o->phase == OUT_TCP || o->phase == OUT_TLS);
        CACHET_ASSERT((c->ssl != NULL) == (o->phase == OUT_TLS));
    }
    if (c->state == CONN_STATE_ERROR && c->type == &outType && c->fd >= 0)
        CACHET_ASSERT(elGetMask(c->el, c->fd) == EL_NONE);
    if (c->state == CONN_STATE_OPEN) CACHET_ASSERT(c->type != &outType);
    connCheckInvariants(c);
    (void)o;
}

/* ---- the client context ------------------------------------------------------------ */

static int passwordCallback(char *buf, int size, int rwflag, void *u) {
    (void)rwflag;
    const char *pass = u;
    if (!pass) return 0;
    if (size <= 0) return 0;
    size_t n = strnlen(pass, (size_t)size); /* OpenSSL wants no NUL: the length says */
    memcpy(buf, pass, n);
    return (int)n;
}

/* The reason text of OpenSSL's last error ("no such file", "key values
 * mismatch"), or what; clears the queue. */
static const char *sslReason(char *buf, size_t len, const char *what) {
    unsigned long e = ERR_peek_last_error();
    const char *r = e ? ERR_reason_error_string(e) : NULL;
    snprintf(buf, len, "%s", r ? r : what);
    ERR_clear_error();
    return buf;
}

static int parseProtocols(const char *spec, int *minv, int *maxv, char *err, size_t errlen) {
    *minv = TLS1_2_VERSION;
    *maxv = TLS1_3_VERSION;
    if (!spec || !spec[0]) return 0;
    int lo = 0, hi = 0;
    char buf[128];
    if (strlen(spec) >= sizeof(buf)) {
        snprintf(err, errlen, "Invalid TLS protocols: too long");
        return -1;
    }
    snprintf(buf, sizeof(buf), "%s", spec);
    for (char *save = NULL, *tok = strtok_r(buf, " ,", &save); tok; tok = strtok_r(NULL, " ,", &save)) {
        int v = 0;
        if (!strcasecmp(tok, "TLSv1.2")) v = TLS1_2_VERSION;
        else if (!strcasecmp(tok, "TLSv1.3")) v = TLS1_3_VERSION;
        if (!v) {
            snprintf(err, errlen, "Invalid TLS protocol %s (TLSv1.2, TLSv1.3)", tok);
            return -1;
        }
        if (!lo || v < lo) lo = v;
        if (v > hi) hi = v;
    }
    if (!lo) {
        snprintf(err, errlen, "Invalid TLS protocols: none given");
        return -1;
    }
    *minv = lo;
    *maxv = hi;
    return 0;
}

connOutTls *connOutTlsCreate(const connOutTlsOptions *o, char *err, size_t errlen) {
    char why[256];
    int minv, maxv;
    if (parseProtocols(o->protocols, &minv, &maxv, err, errlen) == -1) return NULL;
    if ((o->certFile && o->certFile[0]) != (o->keyFile && o->keyFile[0])) {
        snprintf(err, errlen, "A client certificate needs both a certificate file and a key file");
        return NULL;
    }
    ERR_clear_error();
    SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());
    if (!ctx) {
        snprintf(err, errlen, "Failed to create a TLS client context: %s", sslReason(why, sizeof(why), "out of memory"));
        return NULL;
    }
    SSL_CTX_set_min_proto_version(ctx, minv);
    SSL_CTX_set_max_proto_version(ctx, maxv);
    SSL_CTX_set_options(ctx, SSL_OP_NO_COMPRESSION | SSL_OP_NO_RENEGOTIATION);
    /* conn_tls.c's writev may retry a write from another buffer. */
    SSL_CTX_set_mode(ctx, SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
    SSL_CTX_set_verify(ctx, o->noVerify ? SSL_VERIFY_NONE : SSL_VERIFY_PEER, NULL);
    const char *caFile = o->caFile && o->caFile[0] ? o->caFile : NULL;
    const char *caDir = o->caDir && o->caDir[0] ? o->caDir : NULL;
    if (caFile || caDir) {
        if (SSL_CTX_load_verify_locations(ctx, caFile, caDir) != 1) {
            snprintf(err, errlen, "Failed to load CA certificates from %s: %s", caFile ? caFile : caDir,
                     sslReason(why, sizeof(why), "unreadable"));
            goto fail;
        }
    } else if (!o->noVerify && SSL_CTX_set_default_verify_paths(ctx) != 1) {
        snprintf(err, errlen, "Failed to load the system CA certificates: %s", sslReason(why, sizeof(why), "unreadable"));
        goto fail;
    }
    if (o->certFile && o->certFile[0]) {
        /* The passphrase is needed only while the key loads: no pointer to
         * the caller's string is kept. */
        SSL_CTX_set_default_passwd_cb(ctx, passwordCallback);
        SSL_CTX_set_default_passwd_cb_userdata(ctx, (void *)(o->keyPass ? o->keyPass : NULL));
        int ok = 1;
        if (SSL_CTX_use_certificate_chain_file(ctx, o->certFile) != 1) {
            snprintf(err, errlen, "Failed to load client certificate %s: %s", o->certFile,
                     sslReason(why, sizeof(why), "unreadable"));
            ok = 0;
        } else if (SSL_CTX_use_PrivateKey_file(ctx, o->keyFile, SSL_FILETYPE_PEM) != 1) {
            snprintf(err, errlen, "Failed to load client key %s: %s", o->keyFile,
                     sslReason(why, sizeof(why), "unreadable"));
            ok = 0;
        } else if (SSL_CTX_check_private_key(ctx) != 1) {
            snprintf(err, errlen, "Client key %s does not match certificate %s", o->keyFile, o->certFile);
            ERR_clear_error();
            ok = 0;
        }
        SSL_CTX_set_default_passwd_cb_userdata(ctx, NULL);
        if (!ok) goto fail;
    }
    connOutTls *t = memCalloc(sizeof(*t));
    t->ctx = ctx;
    t->sni = o->sni && o->sni[0] ? memStrdup(o->sni) : NULL;
    t->verify = !o->noVerify;
    return t;
fail:
    SSL_CTX_free(ctx);
    return NULL;
}

void connOutTlsFree(connOutTls *t) {
    if (!t) return;
    SSL_CTX_free(t->ctx);
    memFree(t->sni);
    memFree(t);
}

/* ---- moving between states ------------------------------------------------------------ */

static void outEvent(elLoop *el, int fd, void *data, int mask);

static void setInterest(conn *c, int want) {
    int have = elGetMask(c->el, c->fd);
    if (have & ~want) elDelFile(c->el, c->fd, have & ~want);
    if (want & ~have) elAddFile(c->el, c->fd, want & ~have, outEvent, c);
}

/* Frees c->out and what it holds; returns the callback to call. */
static connOutHandler *releaseOut(conn *c, void **privdata) {
    connOut *o = c->out;
    connOutHandler *done = o->done;
    *privdata = o->privdata;
    if (o->timer > 0) elDelTimer(c->el, o->timer);
    if (o->ctx) SSL_CTX_free(o->ctx);
    memFree(o->sni);
    memFree(o);
    c->out = NULL;
    return done;
}

static void failOut(conn *c, int err, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void failOut(conn *c, int err, const char *fmt, ...) {
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    void *privdata;
    connOutHandler *done = releaseOut(c, &privdata);
    connFail(c, err);
    elDelFile(c->el, c->fd, EL_READABLE | EL_WRITABLE);
    ERR_clear_error();
    checkInvariants(c);
    if (done) done(c, -1, msg, privdata);
}

static void finishOpen(conn *c) {
    void *privdata;
    connOutHandler *done = releaseOut(c, &privdata);
    elDelFile(c->el, c->fd, EL_READABLE | EL_WRITABLE);
    if (c->ssl) connBecomeTlsClient(c);
    else connBecomePlain(c);
    checkInvariants(c);
    if (done) done(c, 0, NULL, privdata);
}

/* Why the handshake failed, in words: the verify result first (it names the
 * certificate problem; OpenSSL's error queue only says "certificate verify
 * failed"), then the queue's reason, then the socket's. */
static void failHandshake(conn *c, int rc) {
    connOut *o = c->out;
    int sslErr = SSL_get_error(c->ssl, rc);
    int sysErr = errno;
    long vr = SSL_get_verify_result(c->ssl);
    if (o->verify && vr != X509_V_OK) {
        if (vr == X509_V_ERR_HOSTNAME_MISMATCH)
            failOut(c, EPROTO, "TLS handshake with %s failed: certificate verify failed: host name mismatch (the certificate is not for '%s')",
                    o->peer, o->sni ? o->sni : o->addr);
        else if (vr == X509_V_ERR_IP_ADDRESS_MISMATCH)
            failOut(c, EPROTO, "TLS handshake with %s failed: certificate verify failed: IP address mismatch (the certificate is not for %s)",
                    o->peer, o->sni ? o->sni : o->addr);
        else
            failOut(c, EPROTO, "TLS handshake with %s failed: certificate verify failed: %s", o->peer,
                    X509_verify_cert_error_string(vr));
        return;
    }
    unsigned long e = ERR_peek_last_error();
    const char *reason = e ? ERR_reason_error_string(e) : NULL;
    if (reason) failOut(c, EPROTO, "TLS handshake with %s failed: %s", o->peer, reason);
    else if (sslErr == SSL_ERROR_SYSCALL && sysErr != 0)
        failOut(c, sysErr, "TLS handshake with %s failed: %s", o->peer, strerror(sysErr));
    else failOut(c, ECONNRESET, "TLS handshake with %s failed: connection closed by the server", o->peer);
}

static void handshakeStep(conn *c) {
    ERR_clear_error();
    errno = 0;
    int rc = SSL_connect(c->ssl);
    if (rc == 1) {
        finishOpen(c);
        return;
    }
    int err = SSL_get_error(c->ssl, rc);
    if (err == SSL_ERROR_WANT_READ) {
        setInterest(c, EL_READABLE);
        return;
    }
    if (err == SSL_ERROR_WANT_WRITE) {
        setInterest(c, EL_WRITABLE);
        return;
    }
    failHandshake(c, rc);
}

static void startHandshake(conn *c) {
    connOut *o = c->out;
    SSL *ssl = SSL_new(o->ctx);
    if (!ssl || SSL_set_fd(ssl, c->fd) != 1) {
        if (ssl) SSL_free(ssl);
        failOut(c, ENOMEM, "TLS handshake with %s failed: cannot create the session", o->peer);
        return;
    }
    SSL_set_connect_state(ssl);
    int ok = 1;
    if (o->sni) {
        /* A literal address is checked as one and never sent as SNI
         * (RFC 6066 allows host names only). */
        unsigned char bin[sizeof(struct in6_addr)];
        int isIp = inet_pton(AF_INET, o->sni, bin) == 1 || inet_pton(AF_INET6, o->sni, bin) == 1;
        if (isIp) {
            ok = !o->verify || X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(ssl), o->sni) == 1;
        } else {
            ok = SSL_set_tlsext_host_name(ssl, o->sni) == 1;
            if (ok && o->verify) {
                SSL_set_hostflags(ssl, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
                ok = SSL_set1_host(ssl, o->sni) == 1;
            }
        }
    } else if (o->verify) {
        ok = X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(ssl), o->addr) == 1;
    }
    if (!ok) {
        SSL_free(ssl);
        failOut(c, EINVAL, "TLS handshake with %s failed: cannot use '%s' as the server name", o->peer,
                o->sni ? o->sni : o->addr);
        return;
    }
    SSL_CTX_free(o->ctx); /* the SSL holds its own reference */
    o->ctx = NULL;
    c->ssl = ssl;
    o->phase = OUT_TLS;
    checkInvariants(c);
    handshakeStep(c);
}

static void connectStep(conn *c) {
    int soErr = 0;
    socklen_t len = sizeof(soErr);
    if (getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &soErr, &len) == -1) soErr = errno;
    if (soErr == EINPROGRESS || soErr == EALREADY) return;
    if (soErr) {
        failOut(c, soErr, "connect to %s: %s", ((connOut *)c->out)->peer, strerror(soErr));
        return;
    }
    if (((connOut *)c->out)->ctx) startHandshake(c);
    else finishOpen(c);
}

static void outEvent(elLoop *el, int fd, void *data, int mask) {
    (void)el;
    (void)fd;
    (void)mask;
    conn *c = data;
    connHandlerEnter(c);
    checkInvariants(c);
    if (c->out) {
        if (((connOut *)c->out)->phase == OUT_TCP) connectStep(c);
        else handshakeStep(c);
    }
    connHandlerLeave(c);
}

static long onTimeout(elLoop *el, long long id, void *data) {
    (void)el;
    (void)id;
    conn *c = data;
    connOut *o = c->out;
    CACHET_ASSERT(o != NULL && o->timer == id);
    o->timer = 0; /* fired: not to be deleted again */
    connHandlerEnter(c);
    if (o->phase == OUT_TCP)
        failOut(c, ETIMEDOUT, "connect to %s timed out after %ld ms", o->peer, o->timeoutMs);
    else
        failOut(c, ETIMEDOUT, "TLS handshake with %s timed out after %ld ms", o->peer, o->timeoutMs);
    connHandlerLeave(c);
    return EL_TIMER_STOP;
}

/* ---- the connType while connecting (and after a failed connect) -------------------- */

static ssize_t outRead(conn *c, void *buf, size_t len) {
    (void)buf;
    (void)len;
    errno = c->state == CONN_STATE_ERROR ? (c->lastErrno ? c->lastErrno : EIO) : EAGAIN;
    return -1;
}

static ssize_t outWritev(conn *c, const struct iovec *iov, int iovcnt) {
    (void)iov;
    (void)iovcnt;
    errno = c->state == CONN_STATE_ERROR ? (c->lastErrno ? c->lastErrno : EIO) : EAGAIN;
    return -1;
}

static void outClose(conn *c) {
    if (c->out) {
        void *privdata;
        (void)releaseOut(c, &privdata); /* the caller closed: done is not called */
    }
    if (c->ssl) {
        ERR_clear_error();
        SSL_free(c->ssl);
        c->ssl = NULL;
    }
    connCloseSocket(c);
}

/* Handlers set while connecting take effect once the conn is open. */
static int outSetRead(conn *c, connHandler *h) {
    c->readHandler = h;
    return 0;
}

static int outSetWrite(conn *c, connHandler *h) {
    c->writeHandler = h;
    return 0;
}

static const connType outType = {
    .name = "outbound",
    .read = outRead,
    .writev = outWritev,
    .close = outClose,
    .setReadHandler = outSetRead,
    .setWriteHandler = outSetWrite,
    .isTls = 0,
};

/* ---- public ------------------------------------------------------------------------------ */

conn *connOutConnect(elLoop *el, const char *addr, int port, const connOutTls *tls, long timeoutMs,
                     connOutHandler *done, void *privdata, char *err, size_t errlen) {
    struct sockaddr_storage ss;
    socklen_t sslen;
    memset(&ss, 0, sizeof(ss));
    struct sockaddr_in *sin = (struct sockaddr_in *)&ss;
    struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&ss;
    char peer[INET6_ADDRSTRLEN + 16];
    if (port <= 0 || port > 65535) {
        snprintf(err, errlen, "Invalid port %d", port);
        return NULL;
    }
    if (timeoutMs <= 0) {
        snprintf(err, errlen, "Invalid connect timeout %ld ms", timeoutMs);
        return NULL;
    }
    if (addr && strlen(addr) < INET6_ADDRSTRLEN && inet_pton(AF_INET, addr, &sin->sin_addr) == 1) {
        sin->sin_family = AF_INET;
        sin->sin_port = htons((uint16_t)port);
        sslen = sizeof(*sin);
        snprintf(peer, sizeof(peer), "%s:%d", addr, port);
    } else if (addr && strlen(addr) < INET6_ADDRSTRLEN && inet_pton(AF_INET6, addr, &sin6->sin6_addr) == 1) {
        sin6->sin6_family = AF_INET6;
        sin6->sin6_port = htons((uint16_t)port);
        sslen = sizeof(*sin6);
        snprintf(peer, sizeof(peer), "[%s]:%d", addr, port);
    } else {
        snprintf(err, errlen, "Not a numeric IPv4/IPv6 address: %.64s (resolve host names before connecting)",
                 addr ? addr : "(null)");
        return NULL;
    }
    int fd = socket(ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd == -1) {
        snprintf(err, errlen, "connect to %s: socket: %s", peer, strerror(errno));
        return NULL;
    }
    int one = 1;
    (void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    if (connect(fd, (struct sockaddr *)&ss, sslen) == -1 && errno != EINPROGRESS) {
        snprintf(err, errlen, "connect to %s: %s", peer, strerror(errno));
        close(fd);
        return NULL;
    }
    conn *c = memCalloc(sizeof(*c));
    connOut *o = memCalloc(sizeof(*o));
    c->type = &outType;
    c->el = el;
    c->fd = fd;
    c->state = CONN_STATE_CONNECTING;
    c->data = privdata;
    c->acceptMs = elNowMs();
    c->out = o;
    o->phase = OUT_TCP;
    o->timeoutMs = timeoutMs;
    o->done = done;
    o->privdata = privdata;
    snprintf(o->peer, sizeof(o->peer), "%s", peer);
    snprintf(o->addr, sizeof(o->addr), "%s", addr);
    if (tls) {
        SSL_CTX_up_ref(tls->ctx);
        o->ctx = tls->ctx;
        o->sni = tls->sni ? memStrdup(tls->sni) : NULL;
        o->verify = tls->verify;
    }
    if (elAddFile(el, fd, EL_WRITABLE, outEvent, c) == -1) {
        snprintf(err, errlen, "connect to %s: cannot watch the socket (too many open files?)", peer);
        o->timer = 0;
        outClose(c);
        return NULL;
    }
    o->timer = elAddTimer(el, timeoutMs, onTimeout, c);
    checkInvariants(c);
    return c;
}
