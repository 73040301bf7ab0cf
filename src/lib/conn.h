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
 * Must never call back into a handler after connClose, nor let a caller
 * reach into transport state (SSL objects, flags): what callers need is a
 * function here or an operation of connType. */
#ifndef CACHET_CONN_H
#define CACHET_CONN_H
#include <stddef.h>
#include <sys/types.h>
#include <sys/uio.h>
#include "el.h"

typedef struct conn conn;
typedef void connHandler(conn *c);

/* ---- the state machine (c->state) -------------------------------------------------
 *
 * Every conn is in exactly one state; only the functions named below move it,
 * and each move goes through connSetState (conn.c), which asserts (under
 * CACHET_ASSERTS) that the move is one of these and that the new state's
 * invariants hold. "Lists" are conn_tls.c's pending-data, batch and
 * deferred-handshake lists (CONN_F_ON_LIST).
 *
 *   SNIFFING    main port, no byte seen yet (conn_tls.c's sniffType).
 *               fd >= 0, no SSL object, no c->out, on no list. Interest:
 *               readable only; the owner's handlers are kept, never called.
 *               -> ACCEPTING  startTls        (first byte 0x16, TLS allowed)
 *               -> OPEN       connBecomePlain (any other byte, EOF, error)
 *               -> ERROR      tlsFail         (refused by tls-mode)
 *   ACCEPTING   TLS server side, SSL object made, no handshake crypto done
 *               yet (so it is still bounded by max-new-tls-connections-per-
 *               cycle). fd >= 0, SSL object, no c->out; may be on the
 *               deferred list (no interest then), on no other list.
 *               -> HANDSHAKE  handshakeStep   (this cycle's budget allows it)
 *               -> ERROR      tlsFail         (peer already gone)
 *   HANDSHAKE   SSL_accept in progress. fd >= 0, SSL object, no c->out, on
 *               no list. Interest: what OpenSSL asked for (CONN_F_HS_WANT_WRITE).
 *               -> OPEN       handshakeStep   (SSL_accept returned 1)
 *               -> ERROR      tlsFail         (handshake failed)
 *   CONNECTING  outbound (conn_out.c): connect, then the client handshake.
 *               fd >= 0, c->out set (its phase says which step); on no list.
 *               -> OPEN       finishOpen      (then connBecomePlain/TlsClient)
 *               -> ERROR      failOut         (refused, timed out, bad cert)
 *   OPEN        established, plain or TLS. fd >= 0, no c->out, not on the
 *               deferred list; an SSL object exactly when the type is TLS.
 *               Handlers: the owner's, plus the opposite direction while a
 *               TLS read wants a write or vice versa. May be on the pending
 *               or batch list (TLS only).
 *               -> SNIFFING   connBecomeSniffing (plain, no byte read yet,
 *                                              tls-mode leaves none)
 *               -> ERROR      connFail / tlsFail (I/O error, TLS alert,
 *                                              TLS ClientHello on a plain conn)
 *   ERROR       failed. No c->out, on no list, no interest of the
 *               implementation's own; reads and writes fail with
 *               c->lastErrno. Only the owner's close leaves it.
 *   CLOSED      connCloseSocket: fd == -1, no handlers, no SSL object, no
 *               c->out, on no list. The memory is freed now, or by
 *               connHandlerLeave when the handler running on it returns.
 *   Every state -> CLOSED by connClose (the owner's close).
 * A failed conn (ERROR) gets its read handler called once when the failure
 * was not the owner's own read or write: the owner's read then fails and
 * the owner closes it, so only the owner ever frees its conn. */
typedef enum {
    CONN_STATE_OPEN = 0,
    CONN_STATE_SNIFFING,
    CONN_STATE_ACCEPTING,
    CONN_STATE_HANDSHAKE,
    CONN_STATE_CONNECTING,
    CONN_STATE_ERROR,
    CONN_STATE_CLOSED
} connState;

/* c->flags: bookkeeping that is not a state; every bit has its own meaning
 * in every state (no bit is reused by another implementation). Only the
 * conn implementations (conn*.c) touch them. */
#define CONN_F_CHECK_HELLO (1 << 0)      /* plain, accepted in tls-mode none: first byte not read yet */
#define CONN_F_PENDING (1 << 1)          /* on the pending-data list (conn_tls.c) */
#define CONN_F_BATCH (1 << 2)            /* on the pending batch being served now */
#define CONN_F_DEFERRED (1 << 3)         /* on the deferred-handshake list */
#define CONN_F_READ_WANTS_WRITE (1 << 4) /* TLS: the last read wants writability */
#define CONN_F_WRITE_WANTS_READ (1 << 5) /* TLS: the last write wants readability */
#define CONN_F_HS_WANT_WRITE (1 << 6)    /* handshake: OpenSSL waits for writability */
#define CONN_F_OUTBOUND (1 << 7)         /* made by conn_out.c: data is not a client */
#define CONN_F_ON_LIST (CONN_F_PENDING | CONN_F_BATCH | CONN_F_DEFERRED)

typedef struct connType {
    const char *name;
    ssize_t (*read)(conn *c, void *buf, size_t len);
    ssize_t (*writev)(conn *c, const struct iovec *iov, int iovcnt);
    void (*close)(conn *c);
    int (*setReadHandler)(conn *c, connHandler *h);
    int (*setWriteHandler)(conn *c, connHandler *h);
    /* The peer certificate's verified single CN (see connPeerCertName);
     * NULL for a type without certificates. */
    int (*peerCertName)(conn *c, char *buf, size_t cap, size_t *len);
    int isTls;
} connType;

struct conn {
    const connType *type;
    elLoop *el;
    int fd;
    connState state;
    int flags; /* CONN_F_* */
    int lastErrno;
    connHandler *readHandler;
    connHandler *writeHandler;
    int inHandler; /* >0 while a handler runs: close then defers the free */
    void *data; /* the owner (a client); not freed by conn */
    /* Implementation-private below: callers use the functions of this file. */
    void *ssl;           /* SSL *, owned (TLS, and outbound while handshaking) */
    long long acceptMs;  /* when accepted: the handshake deadline counts from here */
    conn *listPrev, *listNext; /* on the pending-data, batch or deferred-handshake list */
    void *out; /* outbound only, while connecting: conn_out.c's state, owned */
};

/* ---- conn.c: transitions, the deferred free, socket facts ------------------- */

/* Moves c to state to; asserts the move is legal and to's invariants. */
void connSetState(conn *c, connState to);
/* Puts c in ERROR with err as its errno (the common part of every failure;
 * an implementation first takes the conn off its lists and interest). */
void connFail(conn *c, int err);
/* Asserts the invariants of c's current state (no-op in release builds). */
void connCheckInvariants(const conn *c);
/* Every call into a handler from the loop or from before-sleep work is
 * bracketed by these: a handler may close the conn, and its memory is then
 * freed by connHandlerLeave, never while the handler still runs. Leave
 * returns 0 when the conn is gone. */
static inline void connHandlerEnter(conn *c) { c->inHandler++; }
int connHandlerLeave(conn *c);
/* The socket, for CLIENT LIST's fd= only: never read or write it. */
int connFd(const conn *c);
/* The peer's and our own address as "ip:port" ("?" style as net.c). */
int connPeerAddr(const conn *c, char *buf, int len);
int connLocalAddr(const conn *c, char *buf, int len);
/* TCP_NODELAY and keepalive (interval in seconds, as tcp-keepalive). */
int connEnableNoDelay(conn *c);
int connKeepAlive(conn *c, int interval);
/* Has the owner asked for readability / writability? */
static inline int connHasReadHandler(const conn *c) { return c->readHandler != NULL; }
/* The peer certificate's subject CN, if the peer sent a verified one with
 * exactly one CN of 1..cap bytes (UTF-8) and no NUL: 1, the bytes in buf
 * (not NUL-terminated) and their count in *len; else 0 (also for a conn
 * that is not TLS or still handshaking). (Seam for logging a client in by
 * its certificate: compare with the length, never strlen.) */
#define CONN_TLS_CN_MAX 256
int connPeerCertName(conn *c, char *buf, size_t cap, size_t *len);

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
/* The common end of every close (conn.c): unregister, close the fd, mark
 * CLOSED and free the conn now, or when the handler running on it returns.
 * The implementation has already dropped its own state (lists, SSL). */
void connCloseSocket(conn *c);

/* conn_tls.c: accepting TLS. The policy lives in the binary's configuration
 * (stored there once) and is read through these pointers at each decision:
 * the sniffer judges a first byte by the mode in force at that moment. */
#define TLS_MODE_NONE 0
#define TLS_MODE_PREFERRED 1
#define TLS_MODE_REQUIRED 2
typedef struct connTlsPolicy {
    const int *mode;                  /* TLS_MODE_* */
    const long long *handshakeTimeoutMs;
    const int *maxHandshakesPerCycle; /* handshakes started per loop cycle */
    void *(*context)(void);           /* SSL_CTX * for accepted conns, or NULL */
} connTlsPolicy;
void connTlsBindPolicy(const connTlsPolicy *p); /* copied; pointers must outlive every conn */
int connTlsMode(void); /* the TLS_MODE_* in force */
/* Counters kept by conn_plain.c, conn_tls.c and the accept path's owner. */
typedef struct tlsStats {
    long long handshakesOk, handshakesFailed, handshakesResumed, handshakesTimedOut;
    long long handshakesAbandoned; /* the peer hung up before we did its crypto */
    long long plaintextRejected, helloRejected;
} tlsStats;
extern tlsStats tlsStat;

/* A conn on the main port: sniffs the first byte and becomes
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
