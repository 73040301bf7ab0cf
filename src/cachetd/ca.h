/* ca.h - cachetd's certificate authority: ECDSA P-256 (or RSA) CAs in the data
 * directory (ca-G.key 0600 and ca-G.crt for generation G), the bundle
 * clients and nodes trust (ca.pem, served at GET /ca.pem), its rotation with
 * an overlap window, and the certificates it issues (nodes, the HTTPS API).
 *
 * Rotation state (the store's "ca" record "state": active = the generation
 * that signs, old = the generation still trusted, 0 when none):
 *   stable    old == 0   bundle = [active]
 *   rotating  old != 0   bundle = [old, active]; new certificates come
 *                        from active, certificates of old stay valid
 * Transitions, each one store transaction, the bundle file rewritten after:
 *   cdCaRotateStart   stable -> rotating  (a new CA generated first)
 *   cdCaRotateFinish  rotating -> stable  (the old CA forgotten)
 * The bundle file is derived from the record at every start, so a crash
 * between the commit and the write only delays it.
 *
 * Must never write a private key with a mode other than 0600, nor return
 * key material to an API caller. Callers hold cd.lock. */
#ifndef CACHETD_CA_H
#define CACHETD_CA_H
#include <stddef.h>

/* What a certificate is: the CA generation that signed it, when it was
 * issued and when it expires (Unix seconds). */
typedef struct cdCertInfo {
    long long gen, issued, notAfter;
} cdCertInfo;

/* The type of the keys made from now on: "ecdsa" (P-256, the default) or
 * "rsa" (2048 bits). Call before cdCaInit. */
int cdCaSetKeyType(const char *name, char *err, size_t errlen);
/* Loads the CA state from the store and the files, creating generation 1
 * on first start (or taking over a ca.key/ca.pem of an older cachetd), and
 * writes the bundle file. */
int cdCaInit(const char *dir, char *err, size_t errlen);
void cdCaFree(void);
/* The CA bundle (PEM) as a new string; caller memFree()s. */
char *cdCaBundle(void);
long long cdCaActive(void);
long long cdCaOld(void); /* 0: no rotation in progress */
/* An id of the bundle's contents ("1" or "1+2"): a node whose recorded
 * trust differs must be given the bundle again. */
void cdCaTrustId(char *out, size_t len);
/* The active CA's notAfter (Unix seconds). */
long long cdCaNotAfter(void);
int cdCaRotateStart(char *err, size_t errlen);
int cdCaRotateFinish(char *err, size_t errlen);
/* Writes certPath/keyPath (each replaced by a rename): a certificate of
 * CA generation gen (the active one, or during a rotation the old one:
 * reconcile.c's rule for a group not yet trusting the new CA everywhere)
 * for "localhost", 127.0.0.1 and host (an announced name or IP; may be
 * NULL), valid validSeconds; info filled when not NULL. -1 for a
 * generation that is neither. */
int cdCaIssue(long long gen, const char *certPath, const char *keyPath, const char *host, long long validSeconds, cdCertInfo *info,
              char *err, size_t errlen);
/* 0 when the pair is readable, matches, is signed by a CA of the bundle
 * and has more than a third of its validity left; info filled. -1
 * otherwise. (A node may start with it; cdCaDue still says whether to
 * replace it.) */
int cdCaCheck(const char *certPath, const char *keyPath, cdCertInfo *info);
/* 1 when a certificate should be replaced by one of CA generation want:
 * of neither want nor the active CA (one of the active CA is never traded
 * for one of the old), or less than a third of its validity left. */
int cdCaDue(const cdCertInfo *info, long long want, long long now);
#endif
