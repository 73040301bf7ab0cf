/* tls.h - the data node's TLS set-up (tls.c): contexts from the tls-*
 * configuration, the mode switches, rotation, INFO # SSL. The transport
 * itself is the library's connection layer (conn.h). */
#ifndef CACHET_TLS_H
#define CACHET_TLS_H

#include "util.h"

/* ---- tls.c: TLS contexts, modes, rotation ---- */
#define TLS_CLIENT_AUTH_NO 0
#define TLS_CLIENT_AUTH_OPTIONAL 1
#define TLS_CLIENT_AUTH_YES 2
struct textBuf;
/* Start-up: loads the context the configuration asks for and opens the
 * tls-port. Returns -1 with a message in err. */
int tlsInit(char *err, size_t errlen);
/* CONFIG SET apply for every tls-* parameter: rebuilds the context, switches
 * mode, moves the tls-port. On failure nothing changed. */
int tlsApplyConfig(char *err, size_t errlen);
void tlsCron(void);                 /* once a second: tls-auto-reload */
void tlsInfo(struct textBuf *b);    /* the body of INFO's # SSL section */
void tlsResetStats(void);
void *tlsCurrentContext(void);      /* SSL_CTX * for new connections, or NULL */
const char *tlsModeName(int mode);
/* The client context of this node's outbound links (replication, MIGRATE):
 * tls-ca-cert-file/dir to verify the peer, tls-client-cert-file (else
 * tls-cert-file) to show, tls-protocols. host is the name the caller was
 * given and addr its numeric form: a name (localhost) is sent as SNI and
 * checked against the certificate, an address is checked as an IP SAN.
 * NULL with a message in err when the files do not load. */
struct connOutTls;
struct connOutTls *tlsOutboundContext(const char *host, const char *addr, char *err, size_t errlen);

#endif
