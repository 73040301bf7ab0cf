/* conn_tls.c - the TLS transport and the first-byte sniffer of conn.h.
 *
 * Owns: each TLS conn's SSL object, the list of conns whose SSL object holds
 * decrypted bytes (the socket will not signal them again), the list of
 * handshakes deferred to the next cycle, and the TLS counters (tlsStat).
 * Must never block (every socket is non-blocking and OpenSSL's WANT_READ /
 * WANT_WRITE go back to the loop), never renegotiate, never call a handler
 * of a closed conn, and never do a handshake's crypto for a peer that has
 * already hung up.
 *
 * States handled here (conn.h's diagram has the invariants):
 *   SNIFFING  on the first byte: 0x16 (a TLS handshake record) -> ACCEPTING,
 *             unless tls-mode is none (ERROR, counted in helloRejected);
 *             anything else -> OPEN as plain (connBecomePlain), unless
 *             tls-mode is required (one plaintext error line, ERROR,
 *             plaintextRejected).
 *   ACCEPTING no handshake crypto done yet: the step that starts it is
 *             bounded per cycle; over the budget it waits on the deferred
 *             list with no interest, and connTlsBeforeSleep starts it.
 *   HANDSHAKE SSL_accept in progress; interest is what OpenSSL asked for.
 *   OPEN      interest = the owner's handlers, plus the opposite direction
 *             while a read wants a write or vice versa.
 * A conn failed here (rejected, handshake error) goes to ERROR through
 * tlsFail, which calls its read handler once (see conn.h). */
#include "conn.h"
#include "log.h"
#include "mem.h"
#include "util.h"
#include <errno.h>
#include <poll.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#define TLS_RECORD_MAX (16 * 1024)

tlsStats tlsStat;

static const int defaultMode = TLS_MODE_NONE, defaultMaxPerCycle = 16;
static const long long defaultTimeoutMs = 5000;
static connTlsPolicy policy;

static void *noContext(void) { return NULL; }

void connTlsBindPolicy(const connTlsPolicy *p) { policy = *p; }

static int policyMode(void) { return policy.mode ? *policy.mode : defaultMode; }
int connTlsMode(void) { return policyMode(); }
static int policyMaxPerCycle(void) { return policy.maxHandshakesPerCycle ? *policy.maxHandshakesPerCycle : defaultMaxPerCycle; }
static long long policyTimeoutMs(void) { return policy.handshakeTimeoutMs ? *policy.handshakeTimeoutMs : defaultTimeoutMs; }
static void *policyContext(void) { return (policy.context ? policy.context : noContext)(); }

static conn *pendingHead;   /* decrypted bytes waiting */
static conn *deferredHead;  /* handshakes for the next cycle */
static conn *batchHead;     /* pending conns being served by connTlsBeforeSleep */
static int handshakesThisCycle;

static const connType tlsType;
static const connType sniffType;

/* ---- the two lists (a conn is on at most one) -------------------------------- */

static void listAdd(conn **head, conn *c, int flag) {
    if (c->flags & flag) return;
    c->flags |= flag;
    c->listPrev = NULL;
    c->listNext = *head;
    if (*head) (*head)->listPrev = c;
    *head = c;
}

static void listRemove(conn **head, conn *c, int flag) {
    if (!(c->flags & flag)) return;
    c->flags &= ~flag;
    if (c->listPrev) c->listPrev->listNext = c->listNext;
    else *head = c->listNext;
    if (c->listNext) c->listNext->listPrev = c->listPrev;
    c->listPrev = c->listNext = NULL;
}

/* ---- event interest ------------------------------------------------------------ */

static void tlsEvent(elLoop *el, int fd, void *data, int mask);

static int wantedMask(conn *c) {
    switch (c->state) {
    case CONN_STATE_SNIFFING:
        return EL_READABLE;
    case CONN_STATE_ACCEPTING:
    case CONN_STATE_HANDSHAKE:
        if (c->flags & CONN_F_DEFERRED) return 0;
        return (c->flags & CONN_F_HS_WANT_WRITE) ? EL_WRITABLE : EL_READABLE;
    case CONN_STATE_OPEN:
        break;
    default:
        return 0;
    }
    int m = 0;
    if (c->readHandler || (c->flags & CONN_F_WRITE_WANTS_READ)) m |= EL_READABLE;
    if (c->writeHandler || (c->flags & CONN_F_READ_WANTS_WRITE)) m |= EL_WRITABLE;
    return m;
}

static void updateEvents(conn *c) {
    if (c->fd < 0) return;
    int want = wantedMask(c), have = elGetMask(c->el, c->fd);
    if (have & ~want) elDelFile(c->el, c->fd, have & ~want);
    if (want & ~have) elAddFile(c->el, c->fd, want & ~have, tlsEvent, c);
}

/* ---- failing a conn ------------------------------------------------------------- */

static void listsRemove(conn *c) {
    listRemove(&pendingHead, c, CONN_F_PENDING);
    listRemove(&batchHead, c, CONN_F_BATCH);
    listRemove(&deferredHead, c, CONN_F_DEFERRED);
}

/* OPEN -> ERROR from an I/O call of the owner (its read or write reports
 * the failure itself): off the lists; a conn already in ERROR only records
 * the newer errno. */
static void ioFailed(conn *c, int err) {
    listsRemove(c);
    if (c->state == CONN_STATE_ERROR) c->lastErrno = err;
    else connFail(c, err);
}

/* SNIFFING/ACCEPTING/HANDSHAKE -> ERROR from the loop: drops interest and
 * lets the owner find out through a read. */
static void tlsFail(conn *c, int err) {
    listsRemove(c);
    connFail(c, err);
    if (c->fd >= 0) elDelFile(c->el, c->fd, EL_READABLE | EL_WRITABLE);
    if (c->readHandler) c->readHandler(c);
}

/* Reads and drops what the peer already sent, so that closing the socket
 * sends a FIN rather than a reset that could discard our last words. */
static void drainInput(int fd) {
    char sink[4096];
    for (int i = 0; i < 16; i++)
        if (recv(fd, sink, sizeof(sink), MSG_DONTWAIT) <= 0) break;
}

static void logOpenSslError(const char *what, conn *c) {
    static long long lastLog;
    unsigned long e = ERR_peek_last_error();
    char buf[256] = "";
    if (e) ERR_error_string_n(e, buf, sizeof(buf));
    ERR_clear_error();
    if (logRateAllowed(&lastLog)) {
        char addr[64];
        connPeerAddr(c, addr, sizeof(addr));
        logVerbose("%s from %s: %s", what, addr, buf[0] ? buf : "connection closed");
    }
}

/* ---- handshake ------------------------------------------------------------------ */

/* A peer that already hung up (FIN or reset) does not get our crypto: a
 * handshake storm from clients that gave up costs only this poll. */
static int peerGone(int fd) {
    struct pollfd p = {.fd = fd, .events = POLLIN | POLLRDHUP};
    if (poll(&p, 1, 0) != 1) return 0;
    return (p.revents & (POLLRDHUP | POLLHUP | POLLERR)) != 0;
}

static void handshakeStep(conn *c) {
    if (c->state == CONN_STATE_ACCEPTING) {
        if (handshakesThisCycle >= policyMaxPerCycle()) {
            listAdd(&deferredHead, c, CONN_F_DEFERRED);
            updateEvents(c);
            return;
        }
        handshakesThisCycle++;
        if (peerGone(c->fd)) {
            tlsStat.handshakesAbandoned++;
            tlsFail(c, ECONNABORTED);
            return;
        }
        connSetState(c, CONN_STATE_HANDSHAKE);
    }
    ERR_clear_error();
    int rc = SSL_accept(c->ssl);
    if (rc == 1) {
        c->flags &= ~CONN_F_HS_WANT_WRITE;
        connSetState(c, CONN_STATE_OPEN);
        tlsStat.handshakesOk++;
        if (SSL_session_reused(c->ssl)) tlsStat.handshakesResumed++;
        updateEvents(c);
        /* The client's first request may have come with its Finished
         * message and sit in OpenSSL's buffer already. */
        listAdd(&pendingHead, c, CONN_F_PENDING);
        return;
    }
    int err = SSL_get_error(c->ssl, rc);
    if (err == SSL_ERROR_WANT_READ) {
        c->flags &= ~CONN_F_HS_WANT_WRITE;
        updateEvents(c);
        return;
    }
    if (err == SSL_ERROR_WANT_WRITE) {
        c->flags |= CONN_F_HS_WANT_WRITE;
        updateEvents(c);
        return;
    }
    tlsStat.handshakesFailed++;
    logOpenSslError("TLS handshake failed", c);
    tlsFail(c, ECONNABORTED);
}

static int startTls(conn *c) {
    SSL_CTX *ctx = policyContext();
    SSL *ssl = ctx ? SSL_new(ctx) : NULL;
    if (!ssl || !SSL_set_fd(ssl, c->fd)) {
        if (ssl) SSL_free(ssl);
        tlsStat.handshakesFailed++;
        return -1;
    }
    SSL_set_accept_state(ssl);
    c->ssl = ssl;
    c->type = &tlsType;
    connSetState(c, CONN_STATE_ACCEPTING);
    return 0;
}

/* ---- sniffing ------------------------------------------------------------------- */

static void rejectPlaintext(conn *c) {
    static const char msg[] = "-ERR TLS is required on this port; connect with TLS (e.g. redis-cli --tls)\r\n";
    static long long lastLog;
    tlsStat.plaintextRejected++;
    if (logRateAllowed(&lastLog)) {
        char addr[64];
        connPeerAddr(c, addr, sizeof(addr));
        logVerbose("Refused a plaintext connection from %s: tls-mode is required", addr);
    }
    drainInput(c->fd);
    /* Best effort: one line fits any socket buffer. */
    ssize_t n = send(c->fd, msg, sizeof(msg) - 1, MSG_DONTWAIT | MSG_NOSIGNAL);
    (void)n;
    shutdown(c->fd, SHUT_WR);
    tlsFail(c, ECONNREFUSED);
}

static void sniff(conn *c) {
    unsigned char b;
    ssize_t n = recv(c->fd, &b, 1, MSG_PEEK | MSG_DONTWAIT);
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)) return;
    if (n == 1 && b == 0x16) {
        if (policyMode() == TLS_MODE_NONE || !policyContext()) {
            static long long lastLog;
            tlsStat.helloRejected++;
            if (logRateAllowed(&lastLog)) {
                char addr[64];
                connPeerAddr(c, addr, sizeof(addr));
                logVerbose("Closed a TLS connection from %s: tls-mode is none", addr);
            }
            drainInput(c->fd);
            tlsFail(c, ECONNREFUSED);
            return;
        }
        if (startTls(c) == -1) {
            tlsFail(c, ENOMEM);
            return;
        }
        handshakeStep(c);
        return;
    }
    if (n == 1 && policyMode() == TLS_MODE_REQUIRED) {
        rejectPlaintext(c);
        return;
    }
    /* Plaintext (or EOF / error, which the plain read reports to the owner). */
    connBecomePlain(c);
    if (c->readHandler) c->readHandler(c);
}

/* ---- the event handler ---------------------------------------------------------- */

static void tlsEvent(elLoop *el, int fd, void *data, int mask) {
    (void)el;
    (void)fd;
    conn *c = data;
    connHandlerEnter(c);
    if (c->state == CONN_STATE_SNIFFING) {
        sniff(c);
    } else if (c->state == CONN_STATE_ACCEPTING || c->state == CONN_STATE_HANDSHAKE) {
        handshakeStep(c);
    } else if (c->state == CONN_STATE_OPEN) {
        int readable = mask & EL_READABLE, writable = mask & EL_WRITABLE;
        int doRead = (readable && !(c->flags & CONN_F_WRITE_WANTS_READ)) ||
                     (writable && (c->flags & CONN_F_READ_WANTS_WRITE));
        int doWrite = (writable && !(c->flags & CONN_F_READ_WANTS_WRITE)) ||
                      (readable && (c->flags & CONN_F_WRITE_WANTS_READ));
        if (doRead && c->readHandler && c->state == CONN_STATE_OPEN) c->readHandler(c);
        if (doWrite && c->writeHandler && c->state == CONN_STATE_OPEN) c->writeHandler(c);
    }
    connHandlerLeave(c);
}

/* ---- the connType ---------------------------------------------------------------- */

static int notReady(conn *c) {
    if (c->state == CONN_STATE_ERROR) {
        errno = c->lastErrno ? c->lastErrno : EIO;
        return 1;
    }
    if (c->state != CONN_STATE_OPEN) {
        errno = EAGAIN;
        return 1;
    }
    return 0;
}

/* Maps a failed SSL_read/SSL_write to errno; returns -1 or 0 (EOF). */
static ssize_t sslFailure(conn *c, int rc, int wantFlagOnOpposite) {
    int err = SSL_get_error(c->ssl, rc);
    switch (err) {
    case SSL_ERROR_WANT_READ:
        if (wantFlagOnOpposite == CONN_F_WRITE_WANTS_READ && !(c->flags & CONN_F_WRITE_WANTS_READ)) {
            c->flags |= CONN_F_WRITE_WANTS_READ;
            updateEvents(c);
        }
        errno = EAGAIN;
        return -1;
    case SSL_ERROR_WANT_WRITE:
        if (wantFlagOnOpposite == CONN_F_READ_WANTS_WRITE && !(c->flags & CONN_F_READ_WANTS_WRITE)) {
            c->flags |= CONN_F_READ_WANTS_WRITE;
            updateEvents(c);
        }
        errno = EAGAIN;
        return -1;
    case SSL_ERROR_ZERO_RETURN:
        return 0; /* close_notify */
    case SSL_ERROR_SYSCALL:
        if (errno == 0) return 0;
        ioFailed(c, errno);
        ERR_clear_error();
        errno = c->lastErrno;
        return -1;
    default:
        logOpenSslError("TLS error", c);
        ioFailed(c, c->lastErrno ? c->lastErrno : EPROTO);
        errno = c->lastErrno;
        return -1;
    }
}

static ssize_t tlsRead(conn *c, void *buf, size_t len) {
    if (notReady(c)) return -1;
    if (len > INT_MAX) len = INT_MAX;
    ERR_clear_error();
    errno = 0;
    int n = SSL_read(c->ssl, buf, (int)len);
    if (n > 0) {
        if (c->flags & CONN_F_READ_WANTS_WRITE) {
            c->flags &= ~CONN_F_READ_WANTS_WRITE;
            updateEvents(c);
        }
        /* Bytes OpenSSL decrypted but we had no room for: epoll will not
         * report them, so they are served before the next sleep. */
        if (SSL_pending(c->ssl) > 0) listAdd(&pendingHead, c, CONN_F_PENDING);
        return n;
    }
    return sslFailure(c, n, CONN_F_READ_WANTS_WRITE);
}

static ssize_t tlsWritev(conn *c, const struct iovec *iov, int iovcnt) {
    static char coalesce[TLS_RECORD_MAX];
    if (notReady(c)) return -1;
    const void *p = iov[0].iov_base;
    size_t len = iov[0].iov_len;
    /* Several small pieces go out as one record; a big first piece goes as
     * is. A retry after WANT_WRITE starts with the same bytes either way,
     * which is all OpenSSL asks (moving buffers are allowed). */
    if (iovcnt > 1 && len < TLS_RECORD_MAX) {
        size_t used = 0;
        for (int i = 0; i < iovcnt && used < TLS_RECORD_MAX; i++) {
            size_t take = iov[i].iov_len;
            if (take > TLS_RECORD_MAX - used) take = TLS_RECORD_MAX - used;
            memcpy(coalesce + used, iov[i].iov_base, take);
            used += take;
        }
        p = coalesce;
        len = used;
    }
    if (len > INT_MAX) len = INT_MAX;
    ERR_clear_error();
    errno = 0;
    int n = SSL_write(c->ssl, p, (int)len);
    if (n > 0) {
        if (c->flags & CONN_F_WRITE_WANTS_READ) {
            c->flags &= ~CONN_F_WRITE_WANTS_READ;
            updateEvents(c);
        }
        return n;
    }
    ssize_t r = sslFailure(c, n, CONN_F_WRITE_WANTS_READ);
    if (r == 0) {
        errno = EPIPE;
        r = -1;
    }
    return r;
}

static void tlsClose(conn *c) {
    listsRemove(c);
    if (c->ssl) {
        /* A polite close_notify when the session is healthy; never wait. */
        if (c->state == CONN_STATE_OPEN) {
            ERR_clear_error();
            SSL_shutdown(c->ssl);
        }
        ERR_clear_error();
        SSL_free(c->ssl);
        c->ssl = NULL;
    }
    connCloseSocket(c);
}

static int tlsSetRead(conn *c, connHandler *h) {
    c->readHandler = h;
    updateEvents(c);
    return 0;
}

static int tlsSetWrite(conn *c, connHandler *h) {
    c->writeHandler = h;
    updateEvents(c);
    return 0;
}

/* Before the first byte a sniffing conn writes plaintext: only the accept
 * path's refusals (maxclients, protected mode) write that early. */
static ssize_t sniffRead(conn *c, void *buf, size_t len) {
    (void)buf;
    (void)len;
    if (c->state == CONN_STATE_ERROR) {
        errno = c->lastErrno ? c->lastErrno : EIO;
        return -1;
    }
    errno = EAGAIN;
    return -1;
}

static ssize_t sniffWritev(conn *c, const struct iovec *iov, int iovcnt) {
    if (c->state == CONN_STATE_ERROR) {
        errno = c->lastErrno ? c->lastErrno : EIO;
        return -1;
    }
    return writev(c->fd, iov, iovcnt);
}

static int tlsPeerCertName(conn *c, char *buf, size_t cap, size_t *len);

static const connType tlsType = {
    .name = "tls",
    .read = tlsRead,
    .writev = tlsWritev,
    .close = tlsClose,
    .setReadHandler = tlsSetRead,
    .setWriteHandler = tlsSetWrite,
    .peerCertName = tlsPeerCertName,
    .isTls = 1,
};

static const connType sniffType = {
    .name = "sniff",
    .read = sniffRead,
    .writev = sniffWritev,
    .close = tlsClose,
    .setReadHandler = tlsSetRead,
    .setWriteHandler = tlsSetWrite,
    .isTls = 0,
};

/* ---- public --------------------------------------------------------------------- */

static conn *newConn(elLoop *el, int fd) {
    conn *c = memCalloc(sizeof(*c));
    c->el = el;
    c->fd = fd;
    c->type = &sniffType;
    c->state = CONN_STATE_SNIFFING;
    c->acceptMs = elNowMs();
    connCheckInvariants(c);
    return c;
}

conn *connCreateSniffing(elLoop *el, int fd) {
    conn *c = newConn(el, fd);
    updateEvents(c);
    return c;
}

void connBecomeSniffing(conn *c) {
    /* The fd's handler changes from the plain one to ours. */
    elDelFile(c->el, c->fd, EL_READABLE | EL_WRITABLE);
    c->type = &sniffType;
    c->flags = 0;
    connSetState(c, CONN_STATE_SNIFFING);
    /* Its handshake deadline counts from now: TLS was not possible before. */
    c->acceptMs = elNowMs();
    updateEvents(c);
}

conn *connCreateTls(elLoop *el, int fd) {
    conn *c = newConn(el, fd); /* SNIFFING for no time: startTls decides */
    if (startTls(c) == -1) connFail(c, ENOMEM);
    updateEvents(c);
    return c;
}

static int ours(const conn *c) { return c->type == &sniffType || c->type == &tlsType; }

int connIsSniffing(const conn *c) { return c->state == CONN_STATE_SNIFFING; }
/* Did SSL_accept complete (the client's Finished arrived)? Stays true
 * after a later fatal error, unlike SSL_is_init_finished. */
static int handshakeDone(const conn *c) { return c->ssl && SSL_get_peer_finished(c->ssl, NULL, 0) > 0; }

/* A server conn that failed during its handshake (ERROR, handshake never
 * done) still counts as handshaking: it never was an established TLS client
 * (INFO's counts, the handshake timeout). */
int connIsHandshaking(const conn *c) {
    if (c->state == CONN_STATE_ACCEPTING || c->state == CONN_STATE_HANDSHAKE) return 1;
    return c->state == CONN_STATE_ERROR && c->type == &tlsType && !(c->flags & CONN_F_OUTBOUND) && c->ssl &&
           !handshakeDone(c);
}

int connHandshakeExpired(conn *c, long long nowMs) {
    if (!ours(c)) return 0;
    if (c->state == CONN_STATE_ERROR && c->ssl == NULL && c->type == &sniffType) return 1; /* never started */
    if (nowMs - c->acceptMs <= policyTimeoutMs()) return 0;
    if (connIsHandshaking(c)) return 1;
    /* A silent new connection is only a stalled handshake when nothing but
     * TLS is accepted; in the other modes it may be an idle plaintext client. */
    return c->state == CONN_STATE_SNIFFING && policyMode() == TLS_MODE_REQUIRED;
}

int connTlsBeforeSleep(void) {
    handshakesThisCycle = 0;
    while (deferredHead && handshakesThisCycle < policyMaxPerCycle()) {
        conn *c = deferredHead;
        listRemove(&deferredHead, c, CONN_F_DEFERRED);
        connHandlerEnter(c);
        handshakeStep(c);
        connHandlerLeave(c);
    }
    /* Serve buffered plaintext. A handler may put its conn back (more
     * pending): serve the list as it is now, as a batch, so this ends. A
     * handler may also close another conn of the batch: tlsClose takes it
     * off the batch list. */
    while (pendingHead) {
        conn *c = pendingHead;
        listRemove(&pendingHead, c, CONN_F_PENDING);
        listAdd(&batchHead, c, CONN_F_BATCH);
    }
    while (batchHead) {
        conn *c = batchHead;
        listRemove(&batchHead, c, CONN_F_BATCH);
        if (c->state != CONN_STATE_OPEN || !c->readHandler) continue;
        connHandlerEnter(c);
        c->readHandler(c);
        connHandlerLeave(c);
    }
    return pendingHead != NULL || deferredHead != NULL;
}

/* The one CN of a subject, whole: its ASN.1 value converted to UTF-8 and
 * compared by length by the caller, never as a C string. A name with no CN,
 * with several (which one would be the user?), an empty one, one with a NUL
 * inside ("admin\0.tenant7" is not "admin") or one longer than cap (not its
 * truncation) gives 0. */
int tlsSubjectCommonName(const void *subject, char *buf, size_t cap, size_t *len) {
    const X509_NAME *name = subject;
    *len = 0;
    if (!name) return 0;
    int idx = X509_NAME_get_index_by_NID(name, NID_commonName, -1);
    if (idx < 0 || X509_NAME_get_index_by_NID(name, NID_commonName, idx) >= 0) return 0;
    const ASN1_STRING *v = X509_NAME_ENTRY_get_data(X509_NAME_get_entry(name, idx));
    unsigned char *utf8 = NULL;
    int n = v ? ASN1_STRING_to_UTF8(&utf8, v) : -1;
    int ok = n > 0 && (size_t)n <= cap && memchr(utf8, '\0', (size_t)n) == NULL;
    if (ok) {
        memcpy(buf, utf8, (size_t)n);
        *len = (size_t)n;
    }
    OPENSSL_free(utf8);
    ERR_clear_error();
    return ok;
}

/* CONNECTING -> OPEN for a TLS outbound conn (conn_out.c's finishOpen). */
void connBecomeTlsClient(conn *c) {
    c->type = &tlsType;
    c->flags = CONN_F_OUTBOUND;
    if (c->fd >= 0) elDelFile(c->el, c->fd, EL_READABLE | EL_WRITABLE);
    connSetState(c, CONN_STATE_OPEN);
    updateEvents(c);
    /* The server's first bytes may have come with its last handshake
     * flight and sit decrypted in OpenSSL's buffer already. */
    if (SSL_pending(c->ssl) > 0) listAdd(&pendingHead, c, CONN_F_PENDING);
}

static int tlsPeerCertName(conn *c, char *buf, size_t cap, size_t *len) {
    *len = 0;
    if (!c->ssl || connIsHandshaking(c)) return 0;
    X509 *peer = SSL_get0_peer_certificate(c->ssl);
    if (!peer || SSL_get_verify_result(c->ssl) != X509_V_OK) return 0;
    return tlsSubjectCommonName(X509_get_subject_name(peer), buf, cap, len);
}
