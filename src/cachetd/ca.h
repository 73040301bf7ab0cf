/* ca.h - cachetd's certificate authority: an ECDSA P-256 CA in the data
 * directory (ca.key 0600, ca.pem: the bundle clients trust, served at
 * GET /ca.pem) and node certificates signed by it.
 * Must never write a private key with a mode other than 0600, nor return
 * key material to an API caller. */
#ifndef CACHETD_CA_H
#define CACHETD_CA_H
#include <stddef.h>

/* Loads DIR/ca.key and DIR/ca.pem, creating them on first start. */
int cdCaInit(const char *dir, char *err, size_t errlen);
void cdCaFree(void);
/* The CA bundle (PEM) as a new string; caller memFree()s. */
char *cdCaBundle(void);
/* Writes certPath/keyPath: a node certificate for "localhost", 127.0.0.1
 * and host (an announced name or IP; may be NULL), valid 1 year. */
int cdCaIssue(const char *certPath, const char *keyPath, const char *host, char *err, size_t errlen);
#endif
