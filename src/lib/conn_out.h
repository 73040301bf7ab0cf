/* conn_out.h - outbound connections (plain TCP or TLS as a client) on the
 * connection layer.
 *
 * Owns: the client SSL_CTX made from a connOutTlsOptions (never the server's
 * context) and each outbound conn until its connect completes. Once the
 * done callback reports success the conn is an ordinary plain or TLS conn of
 * conn.h: the caller reads, writes and closes it with the usual conn calls.
 * Must never block the event loop: connect is non-blocking and host names
 * are not resolved here (the caller resolves them up front, off the loop, and
 * passes a numeric IPv4/IPv6 address; the name goes in sni for SNI and
 * certificate host name verification). */
#ifndef CACHET_CONN_OUT_H
#define CACHET_CONN_OUT_H
#include <stddef.h>
#include "conn.h"

typedef struct connOutTlsOptions {
    const char *caFile;    /* PEM bundle the server certificate must chain to */
    const char *caDir;     /* and/or a hashed CA directory; neither: the system store */
    const char *certFile;  /* optional client certificate (chain, PEM)... */
    const char *keyFile;   /* ...and its key: both or neither */
    const char *keyPass;   /* passphrase of an encrypted keyFile, or NULL */
    const char *sni;       /* name sent as SNI and verified against the certificate;
                            * NULL: the numeric address is verified (IP SAN), no SNI */
    const char *protocols; /* "TLSv1.2 TLSv1.3" (the default); TLSv1.2 and up only */
    int noVerify;          /* 1: accept any server certificate. 0 (verify) is the default */
} connOutTlsOptions;

typedef struct connOutTls connOutTls;

/* Builds the client context; NULL and a message in err on failure (a file
 * that cannot be loaded, a key that does not match, a bad protocol name). */
connOutTls *connOutTlsCreate(const connOutTlsOptions *o, char *err, size_t errlen);
/* Conns already started keep what they need: free it whenever. */
void connOutTlsFree(connOutTls *t);

/* Called once when the connect ends, unless the caller closed the conn
 * first. status 0: c is open. status -1: c is in CONN_STATE_ERROR, err says
 * why (refused, timed out, certificate verify failed: reason, host name
 * mismatch, ...) and the caller must connClose(c), here or later. The
 * callback may close c either way. */
typedef void connOutHandler(conn *c, int status, const char *err, void *privdata);

/* Starts connecting to addr (numeric IPv4 or IPv6) port, as TLS when tls is
 * not NULL. timeoutMs (> 0) bounds the connect and the handshake together.
 * Returns the conn (c->data = privdata; state CONN_STATE_CONNECTING), or NULL
 * with a message in err when it fails at once: not a numeric address, a
 * socket error, a refusal the kernel reports before returning. */
conn *connOutConnect(elLoop *el, const char *addr, int port, const connOutTls *tls, long timeoutMs,
                     connOutHandler *done, void *privdata, char *err, size_t errlen);

#endif
