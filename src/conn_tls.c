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
 * States of a conn handled here (tflags):
 *   SNIFF     main port, nothing received yet. Readable interest only. On the
 *             first byte: 0x16 (a TLS handshake record) -> HANDSHAKE, unless
 *             tls-mode is none (closed, counted in helloRejected); anything
 *             else -> plain (connBecomePlain), unless tls-mode is required
 *             (one plaintext error line, closed, plaintextRejected).
 *   HANDSHAKE SSL_accept in progress; interest is what OpenSSL asked for.
 *             Not yet STARTED means no handshake crypto was done: the step
 *             that starts it is bounded per cycle (DEFERRED otherwise).
 *   DEFERRED  on the deferred list, no interest; connTlsBeforeSleep starts it.
 *   (none)    established: interest = the owner's handlers, plus the
 *             opposite direction while a read wants a write or vice versa.
 * A failed conn (rejected, handshake error) is put in CONN_STATE_ERROR and its
 * read handler is called once: the owner's read then fails and the owner
 * closes it, so only the owner ever frees its conn. */
#include "server.h"
#include <errno.h>
#include <poll.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#define CONN_T_SNIFF (1 << 0)
#define CONN_T_HANDSHAKE (1 << 1)
#define CONN_T_STARTED (1 << 2)
#define CONN_T_DEFERRED (1 << 3)
#define CONN_T_PENDING (1 << 4)         /* on the pending-data list */
#define CONN_T_READ_WANTS_WRITE (1 << 5)
#define CONN_T_WRITE_WANTS_READ (1 << 6)
#define CONN_T_WANT_WRITE (1 << 7)      /* handshake: OpenSSL waits for writability */
#define CONN_T_BATCH (1 << 8)           /* on the pending batch being served now */
#define CONN_T_OUTBOUND (1 << 9)        /* made by conn_out.c: data is not a client */

#define TLS_RECORD_MAX (16 * 1024)

tlsStats tlsStat;

static conn *pendingHead;   /* decrypted bytes waiting */
static conn *deferredHead;  /* handshakes for the next cycle */
static conn *batchHead;     /* pending conns being served by connTlsBeforeSleep */
static int handshakesThisCycle;

static const connType tlsType;
static const connType sniffType;

/* ---- the two lists (a conn is on at most one) -------------------------------- */

static void listAdd(conn **head, conn *c, int flag) {
    if (c->tflags & flag) return;
    c->tflags |= flag;
    c->listPrev = NULL;
    c->listNext = *head;
    if (*head) (*head)->listPrev = c;
    *head = c;
}

static void listRemove(conn **head, conn *c, int flag) {
    if (!(c->tflags & flag)) return;
    c->tflags &= ~flag;
    if (c->listPrev) c->listPrev->listNext = c->listNext;
    else *head = c->listNext;
    if (c->listNext) c->listNext->listPrev = c->listPrev;
    c->listPrev = c->listNext = NULL;
}

/* ---- event interest ------------------------------------------------------------ */

static void tlsEvent(elLoop *el, int fd, void *data, int mask);

static int wantedMask(conn *c) {
    if (c->state != CONN_STATE_CONNECTED) return 0;
    if (c->tflags & CONN_T_DEFERRED) return 0;
    if (c->tflags & CONN_T_SNIFF) return EL_READABLE;
    if (c->tflags & CONN_T_HANDSHAKE) return (c->tflags & CONN_T_WANT_WRITE) ? EL_WRITABLE : EL_READABLE;
    int m = 0;
    if (c->readHandler || (c->tflags & CONN_T_WRITE_WANTS_READ)) m |= EL_READABLE;
    if (c->writeHandler || (c->tflags & CONN_T_READ_WANTS_WRITE)) m |= EL_WRITABLE;
    return m;
}

static void updateEvents(conn *c) {
    if (c->fd < 0) return;
    int want = wantedMask(c), have = elGetMask(c->el, c->fd);
    if (have & ~want) elDelFile(c->el, c->fd, have & ~want);
    if (want & ~have) elAddFile(c->el, c->fd, want & ~have, tlsEvent, c);
}

/* ---- failing a conn ------------------------------------------------------------- */

/* Marks the conn failed and lets its owner find out through a read. */
static void failConn(conn *c, int err) {
    c->state = CONN_STATE_ERROR;
    c->lastErrno = err;
    listRemove(&pendingHead, c, CONN_T_PENDING);
    listRemove(&batchHead, c, CONN_T_BATCH);
    listRemove(&deferredHead, c, CONN_T_DEFERRED);
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
        client *cl = (c->tflags & CONN_T_OUTBOUND) ? NULL : c->data;
        logVerbose("%s from %s: %s", what, cl ? cl->addr : "?", buf[0] ? buf : "connection closed");
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
    if (!(c->tflags & CONN_T_STARTED)) {
        if (handshakesThisCycle >= srv.maxNewTlsConnsPerCycle) {
            listAdd(&deferredHead, c, CONN_T_DEFERRED);
            updateEvents(c);
            return;
        }
        handshakesThisCycle++;
        if (peerGone(c->fd)) {
            tlsStat.handshakesAbandoned++;
            failConn(c, ECONNABORTED);
            return;
        }
        c->tflags |= CONN_T_STARTED;
    }
    ERR_clear_error();
    int rc = SSL_accept(c->ssl);
    if (rc == 1) {
        c->tflags &= ~(CONN_T_HANDSHAKE | CONN_T_WANT_WRITE);
        tlsStat.handshakesOk++;
        if (SSL_session_reused(c->ssl)) tlsStat.handshakesResumed++;
        updateEvents(c);
        /* The client's first request may have come with its Finished
         * message and sit in OpenSSL's buffer already. */
        listAdd(&pendingHead, c, CONN_T_PENDING);
        return;
    }
    int err = SSL_get_error(c->ssl, rc);
    if (err == SSL_ERROR_WANT_READ) {
        c->tflags &= ~CONN_T_WANT_WRITE;
        updateEvents(c);
        return;
    }
    if (err == SSL_ERROR_WANT_WRITE) {
        c->tflags |= CONN_T_WANT_WRITE;
        updateEvents(c);
        return;
    }
    tlsStat.handshakesFailed++;
    logOpenSslError("TLS handshake failed", c);
    failConn(c, ECONNABORTED);
}

static int startTls(conn *c) {
    SSL_CTX *ctx = tlsCurrentContext();
    SSL *ssl = ctx ? SSL_new(ctx) : NULL;
    if (!ssl || !SSL_set_fd(ssl, c->fd)) {
        if (ssl) SSL_free(ssl);
        tlsStat.handshakesFailed++;
        return -1;
    }
    SSL_set_accept_state(ssl);
    c->ssl = ssl;
    c->type = &tlsType;
    c->tflags = (c->tflags & ~CONN_T_SNIFF) | CONN_T_HANDSHAKE;
    return 0;
}

/* ---- sniffing ------------------------------------------------------------------- */

static void rejectPlaintext(conn *c) {
    static const char msg[] = "-ERR TLS is required on this port; connect with TLS (e.g. redis-cli --tls)\r\n";
    static long long lastLog;
    client *cl = c->data;
    tlsStat.plaintextRejected++;
    if (logRateAllowed(&lastLog))
        logVerbose("Refused a plaintext connection from %s: tls-mode is required", cl ? cl->addr : "?");
    drainInput(c->fd);
    /* Best effort: one line fits any socket buffer. */
    ssize_t n = send(c->fd, msg, sizeof(msg) - 1, MSG_DONTWAIT | MSG_NOSIGNAL);
    (void)n;
    shutdown(c->fd, SHUT_WR);
    failConn(c, ECONNREFUSED);
}

static void sniff(conn *c) {
    unsigned char b;
    ssize_t n = recv(c->fd, &b, 1, MSG_PEEK | MSG_DONTWAIT);
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)) return;
    if (n == 1 && b == 0x16) {
        if (srv.tlsMode == TLS_MODE_NONE || !tlsCurrentContext()) {
            static long long lastLog;
            client *cl = c->data;
            tlsStat.helloRejected++;
            if (logRateAllowed(&lastLog))
                logVerbose("Closed a TLS connection from %s: tls-mode is none", cl ? cl->addr : "?");
            drainInput(c->fd);
            failConn(c, ECONNREFUSED);
            return;
        }
        if (startTls(c) == -1) {
            failConn(c, ENOMEM);
            return;
        }
        handshakeStep(c);
        return;
    }
    if (n == 1 && srv.tlsMode == TLS_MODE_REQUIRED) {
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
    c->inHandler++;
    if (c->tflags & CONN_T_SNIFF) {
        sniff(c);
    } else if (c->tflags & CONN_T_HANDSHAKE) {
        handshakeStep(c);
    } else {
        int readable = mask & EL_READABLE, writable = mask & EL_WRITABLE;
        int doRead = (readable && !(c->tflags & CONN_T_WRITE_WANTS_READ)) ||
                     (writable && (c->tflags & CONN_T_READ_WANTS_WRITE));
        int doWrite = (writable && !(c->tflags & CONN_T_READ_WANTS_WRITE)) ||
                      (readable && (c->tflags & CONN_T_WRITE_WANTS_READ));
        if (doRead && c->readHandler && c->state == CONN_STATE_CONNECTED) c->readHandler(c);
        if (doWrite && c->writeHandler && c->state == CONN_STATE_CONNECTED) c->writeHandler(c);
    }
    c->inHandler--;
    if (c->state == CONN_STATE_CLOSED && c->inHandler == 0) memFree(c);
}

/* ---- the connType ---------------------------------------------------------------- */

static int notReady(conn *c) {
    if (c->state == CONN_STATE_ERROR) {
        errno = c->lastErrno ? c->lastErrno : EIO;
        return 1;
    }
    if (c->tflags & (CONN_T_SNIFF | CONN_T_HANDSHAKE | CONN_T_DEFERRED)) {
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
        if (wantFlagOnOpposite == CONN_T_WRITE_WANTS_READ && !(c->tflags & CONN_T_WRITE_WANTS_READ)) {
            c->tflags |= CONN_T_WRITE_WANTS_READ;
            updateEvents(c);
        }
        errno = EAGAIN;
        return -1;
    case SSL_ERROR_WANT_WRITE:
        if (wantFlagOnOpposite == CONN_T_READ_WANTS_WRITE && !(c->tflags & CONN_T_READ_WANTS_WRITE)) {
            c->tflags |= CONN_T_READ_WANTS_WRITE;
            updateEvents(c);
        }
        errno = EAGAIN;
        return -1;
    case SSL_ERROR_ZERO_RETURN:
        return 0; /* close_notify */
    case SSL_ERROR_SYSCALL:
        if (errno == 0) return 0;
        c->state = CONN_STATE_ERROR;
        c->lastErrno = errno;
        ERR_clear_error();
        return -1;
    default:
        logOpenSslError("TLS error", c);
        c->state = CONN_STATE_ERROR;
        c->lastErrno = c->lastErrno ? c->lastErrno : EPROTO;
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
        if (c->tflags & CONN_T_READ_WANTS_WRITE) {
            c->tflags &= ~CONN_T_READ_WANTS_WRITE;
            updateEvents(c);
        }
        /* Bytes OpenSSL decrypted but we had no room for: epoll will not
         * report them, so they are served before the next sleep. */
        if (SSL_pending(c->ssl) > 0) listAdd(&pendingHead, c, CONN_T_PENDING);
        return n;
    }
    return sslFailure(c, n, CONN_T_READ_WANTS_WRITE);
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
        if (c->tflags & CONN_T_WRITE_WANTS_READ) {
            c->tflags &= ~CONN_T_WRITE_WANTS_READ;
            updateEvents(c);
        }
        return n;
    }
    ssize_t r = sslFailure(c, n, CONN_T_WRITE_WANTS_READ);
    if (r == 0) {
        errno = EPIPE;
        r = -1;
    }
    return r;
}

static void tlsClose(conn *c) {
    listRemove(&pendingHead, c, CONN_T_PENDING);
    listRemove(&batchHead, c, CONN_T_BATCH);
    listRemove(&deferredHead, c, CONN_T_DEFERRED);
    if (c->ssl) {
        /* A polite close_notify when the session is healthy; never wait. */
        if (c->state == CONN_STATE_CONNECTED && !(c->tflags & CONN_T_HANDSHAKE)) {
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

static const connType tlsType = {
    .name = "tls",
    .read = tlsRead,
    .writev = tlsWritev,
    .close = tlsClose,
    .setReadHandler = tlsSetRead,
    .setWriteHandler = tlsSetWrite,
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
    c->state = CONN_STATE_CONNECTED;
    c->acceptMs = elNowMs();
    return c;
}

conn *connCreateSniffing(elLoop *el, int fd) {
    conn *c = newConn(el, fd);
    c->type = &sniffType;
    c->tflags = CONN_T_SNIFF;
    updateEvents(c);
    return c;
}

void connBecomeSniffing(conn *c) {
    /* The fd's handler changes from the plain one to ours. */
    elDelFile(c->el, c->fd, EL_READABLE | EL_WRITABLE);
    c->type = &sniffType;
    c->tflags = CONN_T_SNIFF;
    /* Its handshake deadline counts from now: TLS was not possible before. */
    c->acceptMs = elNowMs();
    updateEvents(c);
}

conn *connCreateTls(elLoop *el, int fd) {
    conn *c = newConn(el, fd);
    c->type = &sniffType; /* until startTls succeeds */
    if (startTls(c) == -1) c->state = CONN_STATE_ERROR, c->lastErrno = ENOMEM;
    updateEvents(c);
    return c;
}

/* tflags are per type (a plain conn uses bit 0 for its own first-byte
 * check): look at them only for our conns. */
static int ours(const conn *c) { return c->type == &sniffType || c->type == &tlsType; }

int connIsSniffing(const conn *c) { return ours(c) && (c->tflags & CONN_T_SNIFF) != 0; }
int connIsHandshaking(const conn *c) { return ours(c) && (c->tflags & (CONN_T_HANDSHAKE | CONN_T_DEFERRED)) != 0; }

int connHandshakeExpired(conn *c, long long nowMs) {
    if (!ours(c)) return 0;
    if (c->state == CONN_STATE_ERROR && c->ssl == NULL && c->type == &sniffType) return 1; /* never started */
    if (nowMs - c->acceptMs <= srv.tlsHandshakeTimeout) return 0;
    if (c->tflags & (CONN_T_HANDSHAKE | CONN_T_DEFERRED)) return 1;
    /* A silent new connection is only a stalled handshake when nothing but
     * TLS is accepted; in the other modes it may be an idle plaintext client. */
    return (c->tflags & CONN_T_SNIFF) && srv.tlsMode == TLS_MODE_REQUIRED;
}

int connTlsBeforeSleep(void) {
    handshakesThisCycle = 0;
    while (deferredHead && handshakesThisCycle < srv.maxNewTlsConnsPerCycle) {
        conn *c = deferredHead;
        listRemove(&deferredHead, c, CONN_T_DEFERRED);
        c->inHandler++;
        handshakeStep(c);
        c->inHandler--;
        if (c->state == CONN_STATE_CLOSED && c->inHandler == 0) memFree(c);
    }
    /* Serve buffered plaintext. A handler may put its conn back (more
     * pending): serve the list as it is now, as a batch, so this ends. A
     * handler may also close another conn of the batch: tlsClose takes it
     * off the batch list. */
    while (pendingHead) {
        conn *c = pendingHead;
        listRemove(&pendingHead, c, CONN_T_PENDING);
        listAdd(&batchHead, c, CONN_T_BATCH);
    }
    while (batchHead) {
        conn *c = batchHead;
        listRemove(&batchHead, c, CONN_T_BATCH);
        if (c->state != CONN_STATE_CONNECTED || !c->readHandler) continue;
        c->inHandler++;
        c->readHandler(c);
        c->inHandler--;
        if (c->state == CONN_STATE_CLOSED && c->inHandler == 0) memFree(c);
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

void connBecomeTlsClient(conn *c) {
    c->type = &tlsType;
    c->tflags = CONN_T_OUTBOUND;
    if (c->fd >= 0) elDelFile(c->el, c->fd, EL_READABLE | EL_WRITABLE);
    updateEvents(c);
    /* The server's first bytes may have come with its last handshake
     * flight and sit decrypted in OpenSSL's buffer already. */
    if (SSL_pending(c->ssl) > 0) listAdd(&pendingHead, c, CONN_T_PENDING);
}

int connTlsPeerCommonName(conn *c, char *buf, size_t cap, size_t *len) {
    *len = 0;
    if (!c->ssl || (c->tflags & CONN_T_HANDSHAKE)) return 0;
    X509 *peer = SSL_get0_peer_certificate(c->ssl);
    if (!peer || SSL_get_verify_result(c->ssl) != X509_V_OK) return 0;
    return tlsSubjectCommonName(X509_get_subject_name(peer), buf, cap, len);
}
