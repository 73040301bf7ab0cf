/* listen.c - the data node's listeners (listen.h).
 *
 * Owns: the main-port and tls-port listeners. Must never leave one of them
 * half moved: listener.c's listenerBind is all or nothing, and the config
 * layer rolls port/bind back (and calls us again) when a later step fails. */
#include "listen.h"
#include "listener.h"
#include "server.h"
#include "client.h"

static listener mainPort, tlsPort;
static int ready;

static void onAccept(conn *c, const char *ip, void *privdata) {
    (void)privdata;
    clientAccept(c, ip);
}

static void init(void) {
    if (ready) return;
    listenerInit(&mainPort, LISTENER_MAIN, srv.el, onAccept, NULL);
    listenerInit(&tlsPort, LISTENER_TLS, srv.el, onAccept, NULL);
    ready = 1;
}

int listenApplyMain(char *err, size_t errlen) {
    if (!srv.el) return 0; /* configuration read before start-up: serverInit binds */
    init();
    if (listenerBind(&mainPort, srv.bindaddr, srv.bindaddrCount, srv.port, srv.tcpBacklog, err, errlen) == -1) {
        logWarning("Failed to listen on port %d: %s", srv.port, err);
        return -1;
    }
    return 0;
}

int listenTlsStale(void) { return !ready || !listenerServes(&tlsPort, srv.bindaddr, srv.bindaddrCount, srv.tlsPort); }

int listenApplyTls(char *err, size_t errlen) {
    if (!srv.el) return 0;
    init();
    if (!listenTlsStale()) return 0;
    if (listenerBind(&tlsPort, srv.bindaddr, srv.bindaddrCount, srv.tlsPort, srv.tcpBacklog, err, errlen) == -1) {
        logWarning("Failed to listen for TLS on tls-port %d: %s", srv.tlsPort, err);
        return -1;
    }
    if (srv.tlsPort) logNotice("Listening for TLS on tls-port %d", srv.tlsPort);
    return 0;
}

int listenSocketCount(void) { return ready ? mainPort.nfds + tlsPort.nfds : 0; }

void listenCloseAll(void) {
    if (!ready) return;
    listenerClose(&mainPort);
    listenerClose(&tlsPort);
}

void listenCloseInChild(void) {
    if (!ready) return;
    listenerCloseInChild(&mainPort);
    listenerCloseInChild(&tlsPort);
}
