/* listener.h - listening sockets: one listener is a port on a set of bind
 * addresses, with its accept loop and the choice of transport for each
 * accepted socket. Every binary that serves clients (the data node today,
 * cachetd and cachet-proxy later) owns its listeners through this.
 *
 * Kinds: LISTENER_MAIN accepts whatever the TLS mode in force says
 * (conn.h's policy): plain in `none`, a first-byte sniffer in `preferred`
 * and `required`; LISTENER_TLS is TLS from the first byte (tls-port).
 *
 * Moving a listener (listenerBind) is all or nothing: on failure it still
 * serves exactly what it served before. Errors: -1 with a message in err. */
#ifndef CACHET_LISTENER_H
#define CACHET_LISTENER_H

#include "conn.h"
#include "el.h"

#define LISTENER_MAX_FDS 16
#define LISTENER_BIND_LEN 1024

typedef enum { LISTENER_MAIN, LISTENER_TLS } listenerKind;

/* A new connection: the callee owns c from now on (it may close it at
 * once). ip is the peer's address without the port. */
typedef void listenerAcceptFn(conn *c, const char *ip, void *privdata);

typedef struct listener {
    listenerKind kind;
    listenerAcceptFn *onAccept;
    void *privdata;
    elLoop *el;
    int fds[LISTENER_MAX_FDS];
    int nfds;
    int port;                      /* what the fds serve; 0 when closed */
    char bind[LISTENER_BIND_LEN];  /* the addresses they serve, space-separated */
} listener;

/* A closed listener of the given kind; no sockets until listenerBind. */
void listenerInit(listener *l, listenerKind kind, elLoop *el, listenerAcceptFn *onAccept, void *privdata);
/* Serve port on addrs (Redis' bind syntax: "-addr" optional, "*" every
 * IPv4, "::*" every IPv6; none: "0.0.0.0" and, when available, "::").
 * port 0 closes the listener. New sockets are opened while the old ones
 * still serve; when an address collides with one we hold (same port), the
 * old sockets are closed first and reopened if the new ones fail. */
int listenerBind(listener *l, char *const *addrs, int naddrs, int port, int backlog, char *err, size_t errlen);
/* 1 when l already serves exactly port on addrs. */
int listenerServes(const listener *l, char *const *addrs, int naddrs, int port);
void listenerClose(listener *l);
/* In a forked child: close the fds without touching the parent's loop. */
void listenerCloseInChild(listener *l);
#endif
