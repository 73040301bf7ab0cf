/* conn.h - the connection layer: one interface over a client socket.
 *
 * Owns: the fd and its event-loop registration, plus any transport state
 * (a TLS session, later). Everything above this layer (client.c) reads and
 * writes through conn* calls and never touches the fd or epoll itself, so a
 * TLS transport can be slid in underneath without the client noticing.
 * Must never call back into a handler after connClose. */
#ifndef CACHET_CONN_H
#define CACHET_CONN_H
#include <stddef.h>
#include <sys/types.h>
#include <sys/uio.h>
#include "el.h"

typedef struct conn conn;
typedef void connHandler(conn *c);

typedef enum {
    CONN_STATE_CONNECTED = 0,
    CONN_STATE_ERROR,
    CONN_STATE_CLOSED
} connState;

typedef struct connType {
    const char *name;
    ssize_t (*read)(conn *c, void *buf, size_t len);
    ssize_t (*writev)(conn *c, const struct iovec *iov, int iovcnt);
    void (*close)(conn *c);
    int (*setReadHandler)(conn *c, connHandler *h);
    int (*setWriteHandler)(conn *c, connHandler *h);
    int isTls;
} connType;

struct conn {
    const connType *type;
    elLoop *el;
    int fd;
    connState state;
    int lastErrno;
    connHandler *readHandler;
    connHandler *writeHandler;
    int inHandler; /* >0 while a handler runs: close then defers the free */
    void *data; /* the owner (a client); not freed by conn */
};

/* Wraps an accepted plain TCP socket. The conn owns fd from now on. */
conn *connCreatePlain(elLoop *el, int fd);

/* read: >0 bytes, 0 on orderly EOF, -1 on error (errno EAGAIN: try later). */
static inline ssize_t connRead(conn *c, void *buf, size_t len) { return c->type->read(c, buf, len); }
static inline ssize_t connWritev(conn *c, const struct iovec *iov, int n) { return c->type->writev(c, iov, n); }
/* Frees the conn and closes its fd. */
static inline void connClose(conn *c) { c->type->close(c); }
static inline int connSetReadHandler(conn *c, connHandler *h) { return c->type->setReadHandler(c, h); }
static inline int connSetWriteHandler(conn *c, connHandler *h) { return c->type->setWriteHandler(c, h); }
static inline int connIsTls(const conn *c) { return c->type->isTls; }
static inline int connHasWriteHandler(const conn *c) { return c->writeHandler != NULL; }
#endif
