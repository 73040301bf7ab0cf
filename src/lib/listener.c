/* listener.c - listening sockets, their accept loop and the transport of
 * each accepted socket (listener.h has the contract).
 *
 * Owns: each listener's fds and their registration in the event loop.
 * Must never leave a listener half moved (some addresses old, some new),
 * never accept more than a bounded batch per readable event (the loop must
 * get back to the clients), and never block. */
#include "listener.h"
#include "log.h"
#include "net.h"
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#define ACCEPTS_PER_EVENT 1000

void listenerInit(listener *l, listenerKind kind, elLoop *el, listenerAcceptFn *onAccept, void *privdata) {
    memset(l, 0, sizeof(*l));
    l->kind = kind;
    l->el = el;
    l->onAccept = onAccept;
    l->privdata = privdata;
}

static void describe(char *const *addrs, int naddrs, char *out, size_t cap) {
    size_t used = 0;
    out[0] = '\0';
    for (int i = 0; i < naddrs && used < cap; i++) {
        int n = snprintf(out + used, cap - used, "%s%s", i ? " " : "", addrs[i]);
        if (n < 0) break;
        used += (size_t)n;
    }
}

int listenerServes(const listener *l, char *const *addrs, int naddrs, int port) {
    if (l->port != port) return 0;
    if (port == 0) return 1;
    char b[LISTENER_BIND_LEN];
    describe(addrs, naddrs, b, sizeof(b));
    return strcmp(b, l->bind) == 0;
}

static void closeFds(const int *fds, int n) {
    for (int i = 0; i < n; i++) close(fds[i]);
}

/* Opens port on addrs into fds (up to LISTENER_MAX_FDS); nothing is
 * registered. On failure every fd opened here is closed again. */
static int openAll(char *const *addrs, int naddrs, int port, int backlog, int *fds, int *count, char *err,
                   size_t errlen) {
    char nerr[NET_ERR_LEN];
    *count = 0;
    if (naddrs == 0) {
        nerr[0] = '\0';
        int fd = netListen("0.0.0.0", port, backlog, nerr);
        if (fd == -1) {
            snprintf(err, errlen, "Could not create server TCP listening socket *:%d: %s", port, nerr);
            return -1;
        }
        fds[(*count)++] = fd;
        nerr[0] = '\0';
        fd = netListen("::", port, backlog, nerr); /* IPv6 only when the host has it */
        if (fd != -1) fds[(*count)++] = fd;
        return 0;
    }
    for (int i = 0; i < naddrs && *count < LISTENER_MAX_FDS; i++) {
        const char *addr = addrs[i];
        int optional = addr[0] == '-';
        if (optional) addr++;
        if (!strcmp(addr, "*")) addr = "0.0.0.0";
        else if (!strcmp(addr, "::*")) addr = "::";
        nerr[0] = '\0';
        int fd = netListen(addr, port, backlog, nerr);
        if (fd == -1) {
            if (optional) continue;
            snprintf(err, errlen, "Could not create server TCP listening socket %s:%d: %s", addr, port, nerr);
            closeFds(fds, *count);
            *count = 0;
            return -1;
        }
        fds[(*count)++] = fd;
    }
    if (*count == 0) {
        snprintf(err, errlen, "Failed listening on all bind addresses");
        return -1;
    }
    return 0;
}

static void acceptHandler(elLoop *el, int fd, void *data, int mask);

static void unregister(listener *l) {
    for (int i = 0; i < l->nfds; i++) elDelFile(l->el, l->fds[i], EL_READABLE);
}

/* Registers fds with the loop; on failure nothing stays registered. */
static int registerAll(listener *l, const int *fds, int n, char *err, size_t errlen) {
    for (int i = 0; i < n; i++) {
        if (elAddFile(l->el, fds[i], EL_READABLE, acceptHandler, l) == -1) {
            for (int j = 0; j < i; j++) elDelFile(l->el, fds[j], EL_READABLE);
            snprintf(err, errlen, "Unrecoverable error creating server listening file event.");
            return -1;
        }
    }
    return 0;
}

static void install(listener *l, const int *fds, int n, int port, const char *bind) {
    if (n) memcpy(l->fds, fds, sizeof(int) * (size_t)n);
    l->nfds = n;
    l->port = n ? port : 0;
    snprintf(l->bind, sizeof(l->bind), "%s", n ? bind : "");
}

int listenerBind(listener *l, char *const *addrs, int naddrs, int port, int backlog, char *err, size_t errlen) {
    if (listenerServes(l, addrs, naddrs, port)) return 0;
    char bind[LISTENER_BIND_LEN];
    describe(addrs, naddrs, bind, sizeof(bind));
    if (port == 0) {
        listenerClose(l);
        return 0;
    }
    int fds[LISTENER_MAX_FDS], n = 0;
    if (openAll(addrs, naddrs, port, backlog, fds, &n, err, errlen) == 0) {
        if (registerAll(l, fds, n, err, errlen) == -1) {
            closeFds(fds, n);
            return -1;
        }
        listenerClose(l);
        install(l, fds, n, port, bind);
        return 0;
    }
    /* Same port, other addresses: the new set may include an address we
     * hold already. Close ours, try again, and put ours back on failure. */
    if (port != l->port || l->nfds == 0) return -1;
    int oldPort = l->port;
    char oldBind[LISTENER_BIND_LEN];
    memcpy(oldBind, l->bind, sizeof(oldBind));
    listenerClose(l);
    char err2[256];
    if (openAll(addrs, naddrs, port, backlog, fds, &n, err2, sizeof(err2)) == 0 &&
        registerAll(l, fds, n, err2, sizeof(err2)) == 0) {
        install(l, fds, n, port, bind);
        return 0;
    }
    snprintf(err, errlen, "%s", err2);
    /* Put back what we served: parse our own description again. */
    char *argv[LISTENER_MAX_FDS];
    int argc = 0;
    char *save = NULL;
    for (char *p = strtok_r(oldBind, " ", &save); p && argc < LISTENER_MAX_FDS; p = strtok_r(NULL, " ", &save))
        argv[argc++] = p;
    char err3[256];
    if (openAll(argv, argc, oldPort, backlog, fds, &n, err3, sizeof(err3)) == 0 &&
        registerAll(l, fds, n, err3, sizeof(err3)) == 0) {
        describe(argv, argc, bind, sizeof(bind));
        install(l, fds, n, oldPort, bind);
    } else {
        logWarning("Could not restore the previous listening sockets on port %d: %s", oldPort, err3);
    }
    return -1;
}

void listenerClose(listener *l) {
    unregister(l);
    closeFds(l->fds, l->nfds);
    install(l, NULL, 0, 0, "");
}

void listenerCloseInChild(listener *l) {
    closeFds(l->fds, l->nfds);
    l->nfds = 0;
}

/* The transport of an accepted socket: the tls-port is TLS from the first
 * byte; the main port is plain in tls-mode none (the plain read refuses a
 * ClientHello itself, at no extra cost) and sniffs its first byte
 * otherwise, judged by the mode in force when that byte arrives. */
static conn *transportFor(listener *l, int fd) {
    if (l->kind == LISTENER_TLS) return connCreateTls(l->el, fd);
    if (connTlsMode() != TLS_MODE_NONE) return connCreateSniffing(l->el, fd);
    return connCreatePlain(l->el, fd);
}

static void acceptHandler(elLoop *el, int fd, void *data, int mask) {
    (void)mask;
    listener *l = data;
    char ip[NET_ADDR_LEN], err[NET_ERR_LEN];
    int port;
    for (int i = 0; i < ACCEPTS_PER_EVENT; i++) {
        int cfd = netAccept(fd, ip, sizeof(ip), &port, err);
        if (cfd == -1) {
            if (err[0]) logVerbose("Accepting client connection: %s", err);
            return;
        }
        if (cfd >= elSetSize(el)) {
            logWarning("Error registering fd event for the new client: fd out of range");
            close(cfd);
            continue;
        }
        l->onAccept(transportFor(l, cfd), ip, l->privdata);
    }
}
