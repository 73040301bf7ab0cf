/* conn_plain.c - the plain TCP implementation of conn.h.
 * Must never block: the fd is non-blocking and EAGAIN goes back to the caller.
 * A conn accepted as plain (tls-mode none) refuses a TLS ClientHello as its
 * first byte: the client gets a clean close instead of an error reply it
 * would take for a broken handshake. */
#include "conn.h"
#include "log.h"
#include "mem.h"
#include "util.h"
#include "dassert.h"
#include <errno.h>
#include <unistd.h>

static void plainEvent(elLoop *el, int fd, void *data, int mask) {
    (void)el;
    (void)fd;
    conn *c = data;
    /* A handler may close the conn: the free is deferred to here. */
    connHandlerEnter(c);
    if ((mask & EL_READABLE) && c->readHandler) c->readHandler(c);
    if ((mask & EL_WRITABLE) && c->writeHandler && c->state != CONN_STATE_CLOSED) c->writeHandler(c);
    connHandlerLeave(c);
}

/* A failed read or write: OPEN -> ERROR; a conn already in ERROR (a write
 * after a failed read) only records the newer errno. */
static void ioFailed(conn *c) {
    int err = errno;
    if (c->state == CONN_STATE_OPEN) connFail(c, err);
    else c->lastErrno = err;
    errno = err;
}

static ssize_t plainRead(conn *c, void *buf, size_t len) {
    if (c->state == CONN_STATE_ERROR) {
        errno = c->lastErrno ? c->lastErrno : EIO;
        return -1;
    }
    ssize_t n = read(c->fd, buf, len);
    if (n > 0 && (c->flags & CONN_F_CHECK_HELLO)) {
        c->flags &= ~CONN_F_CHECK_HELLO;
        if (((unsigned char *)buf)[0] == 0x16) {
            static long long lastLog;
            tlsStat.helloRejected++;
            if (logRateAllowed(&lastLog)) logVerbose("Closed a TLS connection: tls-mode is none");
            connFail(c, ECONNREFUSED);
            errno = ECONNREFUSED;
            return -1;
        }
    }
    if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) ioFailed(c);
    if (n < 0 && errno == EINTR) errno = EAGAIN;
    return n;
}

static ssize_t plainWritev(conn *c, const struct iovec *iov, int iovcnt) {
    ssize_t n = iovcnt == 1 ? write(c->fd, iov[0].iov_base, iov[0].iov_len) : writev(c->fd, iov, iovcnt);
    if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) ioFailed(c);
    if (n < 0 && errno == EINTR) errno = EAGAIN;
    return n;
}

static int setHandler(conn *c, connHandler *h, int mask) {
    if (h) {
        if (elAddFile(c->el, c->fd, mask, plainEvent, c) == -1) return -1;
    } else {
        elDelFile(c->el, c->fd, mask);
    }
    return 0;
}

static int plainSetRead(conn *c, connHandler *h) {
    c->readHandler = h;
    return setHandler(c, h, EL_READABLE);
}

static int plainSetWrite(conn *c, connHandler *h) {
    c->writeHandler = h;
    return setHandler(c, h, EL_WRITABLE);
}

static const connType plainType = {
    .name = "tcp",
    .read = plainRead,
    .writev = plainWritev,
    .close = connCloseSocket,
    .setReadHandler = plainSetRead,
    .setWriteHandler = plainSetWrite,
    .isTls = 0,
};

/* SNIFFING -> OPEN (a byte that is not a ClientHello), CONNECTING -> OPEN
 * (conn_out.c's finishOpen, for a plain outbound conn). */
void connBecomePlain(conn *c) {
    CACHET_ASSERT(c->state == CONN_STATE_SNIFFING || c->state == CONN_STATE_CONNECTING);
    c->type = &plainType;
    c->flags = 0;
    connSetState(c, CONN_STATE_OPEN);
    /* Re-register: the fd's handler changes from the sniffer's to ours. */
    elDelFile(c->el, c->fd, EL_READABLE | EL_WRITABLE);
    if (c->readHandler) setHandler(c, c->readHandler, EL_READABLE);
    if (c->writeHandler) setHandler(c, c->writeHandler, EL_WRITABLE);
}

int connPlainUndecided(const conn *c) {
    return c->type == &plainType && c->state == CONN_STATE_OPEN && (c->flags & CONN_F_CHECK_HELLO);
}

conn *connCreatePlain(elLoop *el, int fd) {
    conn *c = memCalloc(sizeof(*c));
    c->type = &plainType;
    c->el = el;
    c->fd = fd;
    c->state = CONN_STATE_OPEN;
    c->flags = CONN_F_CHECK_HELLO;
    connCheckInvariants(c);
    return c;
}
