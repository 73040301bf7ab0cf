/* conn.h - the connection layer: one interface over a client socket.
 *
 * Owns: the fd and its event-loop registration, plus any transport state
 * (the TLS session). Everything above this layer (client.c) reads and writes
 * through conn* calls and never touches the fd or epoll itself, so it is
 * blind to TLS.
 * Three implementations: plain TCP (conn_plain.c), TLS and the sniffer that
 * turns a new connection on the main port into one of the two by its first
 * byte (conn_tls.c). Outbound conns (conn_out.c) connect and handshake
 * under their own type, then become plain or TLS ones.
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
    CONN_STATE_CLOSED,
    CONN_STATE_CONNECTING /* outbound, connect or TLS handshake in progress (conn_out.c) */
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
    /* TLS and sniffing only (conn_tls.c). */
    void *ssl;           /* SSL *, owned */
    int tflags;          /* CONN_T_* */
    long long acceptMs;  /* when accepted: the handshake deadline counts from here */
    conn *listPrev, *listNext; /* on the pending-data or deferred-handshake list */
    void *out; /* outbound only, while connecting: conn_out.c's state, owned */
};

/* Wraps an accepted plain TCP socket. The conn owns fd from now on. */
conn *connCreatePlain(elLoop *el, int fd);
/* Turns a sniffed conn into a plain one (conn_tls.c calls it), keeping its
 * handlers; registers the fd with the plain event handler. */
void connBecomePlain(conn *c);
/* Accepted plain (tls-mode none) and no byte read yet. */
int connPlainUndecided(const conn *c);
/* tls-mode leaves none: an undecided plain conn becomes a sniffing one, so
 * its first byte is judged by the new mode (conn_tls.c). */
void connBecomeSniffing(conn *c);
/* The common end of every close: unregister, close the fd, mark CLOSED and
 * free the conn now, or when the handler running on it returns. */
void connCloseSocket(conn *c);

/* conn_tls.c. A conn on the main port: sniffs the first byte and becomes
 * plain or TLS as tls-mode says at that moment. */
conn *connCreateSniffing(elLoop *el, int fd);
/* A conn on the tls-port: TLS from the first byte. */
conn *connCreateTls(elLoop *el, int fd);
/* Still deciding or handshaking, and past tls-handshake-timeout: the owner
 * should close it (counted as a timed-out handshake). */
int connHandshakeExpired(conn *c, long long nowMs);
int connIsSniffing(const conn *c);
int connIsHandshaking(const conn *c);
/* Done once per event-loop cycle, before sleeping: serves conns whose TLS
 * session holds decrypted bytes the socket will not signal again, and starts
 * handshakes deferred by max-new-tls-connections-per-cycle. Returns 1 when
 * work is left, so the loop must not sleep. */
int connTlsBeforeSleep(void);
/* The peer certificate's subject CN, if the peer sent a verified one with
 * exactly one CN of 1..cap bytes (UTF-8) and no NUL: 1, the bytes in buf
 * (not NUL-terminated) and their count in *len; else 0. (Seam for logging a
 * client in by its certificate: compare with the length, never strlen.) */
#define CONN_TLS_CN_MAX 256
int connTlsPeerCommonName(conn *c, char *buf, size_t cap, size_t *len);
/* The same rule on an X509_NAME * (exposed for the fuzz harness). */
int tlsSubjectCommonName(const void *subject, char *buf, size_t cap, size_t *len);
/* Turns an outbound conn whose client handshake (c->ssl) just completed
 * into an established TLS conn, keeping its handlers (conn_out.c calls it).
 * Its data is the caller's, not a client. */
void connBecomeTlsClient(conn *c);

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
