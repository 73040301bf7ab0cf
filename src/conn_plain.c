/* conn_plain.c - the plain TCP implementation of conn.h.
 * Must never block: the fd is non-blocking and EAGAIN goes back to the caller. */
#include "conn.h"
#include "mem.h"
#include <errno.h>
#include <unistd.h>

static void plainEvent(elLoop *el, int fd, void *data, int mask) {
    (void)el;
    (void)fd;
    conn *c = data;
    /* A handler may close the conn: the free is deferred to here. */
    c->inHandler++;
    if ((mask & EL_READABLE) && c->readHandler) c->readHandler(c);
    if ((mask & EL_WRITABLE) && c->writeHandler && c->state != CONN_STATE_CLOSED) c->writeHandler(c);
    c->inHandler--;
    if (c->state == CONN_STATE_CLOSED && c->inHandler == 0) memFree(c);
}

static ssize_t plainRead(conn *c, void *buf, size_t len) {
    ssize_t n = read(c->fd, buf, len);
    if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) {
        c->state = CONN_STATE_ERROR;
        c->lastErrno = errno;
    }
    if (n < 0 && errno == EINTR) errno = EAGAIN;
    return n;
}

static ssize_t plainWritev(conn *c, const struct iovec *iov, int iovcnt) {
    ssize_t n = iovcnt == 1 ? write(c->fd, iov[0].iov_base, iov[0].iov_len) : writev(c->fd, iov, iovcnt);
    if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) {
        c->state = CONN_STATE_ERROR;
        c->lastErrno = errno;
    }
    if (n < 0 && errno == EINTR) errno = EAGAIN;
    return n;
}

static void plainClose(conn *c) {
    if (c->fd >= 0) {
        elDelFile(c->el, c->fd, EL_READABLE | EL_WRITABLE);
        close(c->fd);
    }
    c->state = CONN_STATE_CLOSED;
    c->fd = -1;
    c->readHandler = c->writeHandler = NULL;
    if (c->inHandler == 0) memFree(c);
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
    .close = plainClose,
    .setReadHandler = plainSetRead,
    .setWriteHandler = plainSetWrite,
    .isTls = 0,
};

conn *connCreatePlain(elLoop *el, int fd) {
    conn *c = memCalloc(sizeof(*c));
    c->type = &plainType;
    c->el = el;
    c->fd = fd;
    c->state = CONN_STATE_CONNECTED;
    return c;
}
