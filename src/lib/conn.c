/* conn.c - the transport-independent part of conn.h: the state machine's
 * transition check and invariants, the deferred free of a conn closed from
 * inside its own handler, and the socket facts callers may ask for.
 *
 * Owns: nothing but these rules; the states themselves are documented at the
 * top of conn.h. Must never know an implementation's types or lists beyond
 * the CONN_F_* bits, and never free a conn while a handler runs on it. */
#include "conn.h"
#include "log.h"
#include "mem.h"
#include "util.h"
#include "dassert.h"
#include "net.h"
#include <unistd.h>

/* The moves of conn.h's diagram (every state may also go to CLOSED). */
static int legalMove(connState from, connState to) {
    if (to == CONN_STATE_CLOSED) return from != CONN_STATE_CLOSED;
    switch (from) {
    case CONN_STATE_SNIFFING:
        return to == CONN_STATE_ACCEPTING || to == CONN_STATE_OPEN || to == CONN_STATE_ERROR;
    case CONN_STATE_ACCEPTING:
        return to == CONN_STATE_HANDSHAKE || to == CONN_STATE_ERROR;
    case CONN_STATE_HANDSHAKE:
    case CONN_STATE_CONNECTING:
        return to == CONN_STATE_OPEN || to == CONN_STATE_ERROR;
    case CONN_STATE_OPEN:
        return to == CONN_STATE_SNIFFING || to == CONN_STATE_ERROR;
    case CONN_STATE_ERROR:
    case CONN_STATE_CLOSED:
        return 0;
    }
    return 0;
}

void connCheckInvariants(const conn *c) {
    (void)c;
    switch (c->state) {
    case CONN_STATE_SNIFFING:
        CACHET_ASSERT(c->fd >= 0 && c->ssl == NULL && c->out == NULL);
        CACHET_ASSERT(!(c->flags & (CONN_F_ON_LIST | CONN_F_CHECK_HELLO)));
        break;
    case CONN_STATE_ACCEPTING:
        CACHET_ASSERT(c->fd >= 0 && c->ssl != NULL && c->out == NULL);
        CACHET_ASSERT(!(c->flags & (CONN_F_PENDING | CONN_F_BATCH)));
        break;
    case CONN_STATE_HANDSHAKE:
        CACHET_ASSERT(c->fd >= 0 && c->ssl != NULL && c->out == NULL);
        CACHET_ASSERT(!(c->flags & CONN_F_ON_LIST));
        break;
    case CONN_STATE_CONNECTING:
        CACHET_ASSERT(c->fd >= 0 && c->out != NULL);
        CACHET_ASSERT(!(c->flags & CONN_F_ON_LIST));
        break;
    case CONN_STATE_OPEN:
        CACHET_ASSERT(c->fd >= 0 && c->out == NULL);
        CACHET_ASSERT((c->ssl != NULL) == (c->type->isTls != 0));
        CACHET_ASSERT(!(c->flags & CONN_F_DEFERRED));
        break;
    case CONN_STATE_ERROR:
        CACHET_ASSERT(c->out == NULL);
        CACHET_ASSERT(!(c->flags & CONN_F_ON_LIST));
        break;
    case CONN_STATE_CLOSED:
        CACHET_ASSERT(c->fd == -1 && c->ssl == NULL && c->out == NULL);
        CACHET_ASSERT(c->readHandler == NULL && c->writeHandler == NULL);
        CACHET_ASSERT(!(c->flags & CONN_F_ON_LIST));
        break;
    }
}

void connSetState(conn *c, connState to) {
    CACHET_ASSERT(legalMove(c->state, to));
    c->state = to;
    connCheckInvariants(c);
}

void connFail(conn *c, int err) {
    c->lastErrno = err;
    connSetState(c, CONN_STATE_ERROR);
}

int connHandlerLeave(conn *c) {
    CACHET_ASSERT(c->inHandler > 0);
    c->inHandler--;
    if (c->state == CONN_STATE_CLOSED && c->inHandler == 0) {
        memFree(c);
        return 0;
    }
    return 1;
}

void connCloseSocket(conn *c) {
    if (c->fd >= 0) {
        elDelFile(c->el, c->fd, EL_READABLE | EL_WRITABLE);
        close(c->fd);
    }
    c->fd = -1;
    c->readHandler = c->writeHandler = NULL;
    connSetState(c, CONN_STATE_CLOSED);
    if (c->inHandler == 0) memFree(c);
}

int connFd(const conn *c) { return c->fd; }
int connPeerAddr(const conn *c, char *buf, int len) { return netPeerName(c->fd, buf, len); }
int connLocalAddr(const conn *c, char *buf, int len) { return netSockName(c->fd, buf, len); }
int connEnableNoDelay(conn *c) { return netNoDelay(c->fd, 1); }
int connKeepAlive(conn *c, int interval) { return netKeepAlive(c->fd, interval); }

int connPeerCertName(conn *c, char *buf, size_t cap, size_t *len) {
    *len = 0;
    if (!c->type->peerCertName) return 0;
    return c->type->peerCertName(c, buf, cap, len);
}
