/* api.h - the HTTP face of cachetd: libmicrohttpd on its own internal
 * thread (HTTPS with --https), SigV4 checking, the Query protocol,
 * GET /ca.pem.
 * Must never block a handler on a node: actions only read and write the
 * store under cd.lock; the reconciler does the slow work. */
#ifndef CACHETD_API_H
#define CACHETD_API_H
#include <stddef.h>

int cdApiStart(const char *host, int port, char *err, size_t errlen);
void cdApiStop(void);
/* Main thread, every reconciler tick: with --https, replaces the API's
 * certificate when it is due or of a CA the bundle no longer holds. */
void cdApiTick(void);
#endif
