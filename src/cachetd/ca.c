/* ca.c - the certificate authority (ca.h), on OpenSSL 3: the active and
 * the old CA generation, the rotation state record, the bundle file and
 * the certificates it issues.
 * Owns the CA keys and certificates while the daemon runs.
 * Must never write a private key readable by others, nor leave a file
 * half-written under its final name (every write is a rename). */
#include "ca.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "cachetd.h"
#include "mem.h"
#include "query.h"
#include "store.h"
#include "util.h"

#define CA_DAYS 3650
/* Certificates start this long before their issue (clock steps); the
 * issue time is notBefore + BACKDATE. */
#define BACKDATE 300

typedef struct caGen {
    long long gen; /* 0: none */
    EVP_PKEY *key;
    X509 *cert;
} caGen;

static caGen active, old;
static char caDir[4096];

/* The type of every key made from now on (CA generations, node and API
 * certificates): ECDSA P-256 by default, RSA 2048 on request (clients or
 * policies that take only RSA). Keys already made keep their type: a
 * rotation brings the CA to the new one. */
static int keyRsa;

int cdCaSetKeyType(const char *name, char *err, size_t errlen) {
    if (!strcmp(name, "ecdsa")) keyRsa = 0;
    else if (!strcmp(name, "rsa")) keyRsa = 1;
    else {
        snprintf(err, errlen, "--key-type wants ecdsa or rsa, got %s", name);
        return -1;
    }
    return 0;
}

static EVP_PKEY *newKey(void) { return keyRsa ? EVP_RSA_gen(2048) : EVP_EC_gen("P-256"); }

static void genPath(char *out, size_t len, long long gen, const char *ext) {
    snprintf(out, len, "%s/ca-%lld.%s", caDir, gen, ext);
}

/* Writes path.tmp (mode 0600 for keys, 0644 otherwise), fsyncs it and
 * renames it over path. */
static int writePem(const char *path, EVP_PKEY *k, X509 *const *certs, int ncerts) {
    char tmp[4200];
    snprintf(tmp, sizeof(tmp), "%s.tmp", path);
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, k ? 0600 : 0644);
    if (fd < 0) return -1;
    if (k) (void)fchmod(fd, 0600);
    FILE *f = fdopen(fd, "w");
    if (!f) {
        close(fd);
        return -1;
    }
    int ok = k ? PEM_write_PrivateKey(f, k, NULL, NULL, 0, NULL, NULL) : 1;
    for (int i = 0; i < ncerts && ok; i++) ok = PEM_write_X509(f, certs[i]);
    ok = ok && fflush(f) == 0 && fsync(fd) == 0;
    if (fclose(f) != 0 || !ok || rename(tmp, path)) {
        unlink(tmp);
        return -1;
    }
    return 0;
}

static void addExt(X509 *c, X509 *issuer, int nid, const char *value) {
    X509V3_CTX ctx;
    X509V3_set_ctx_nodb(&ctx);
    X509V3_set_ctx(&ctx, issuer, c, NULL, NULL, 0);
    X509_EXTENSION *ex = X509V3_EXT_conf_nid(NULL, &ctx, nid, value);
    if (ex) {
        X509_add_ext(c, ex, -1);
        X509_EXTENSION_free(ex);
    }
}

static X509 *newCert(EVP_PKEY *pub, const char *cn, long long seconds) {
    X509 *c = X509_new();
    X509_set_version(c, 2);
    unsigned char serial[16];
    RAND_bytes(serial, sizeof(serial));
    serial[0] &= 0x7f;
    BIGNUM *bn = BN_bin2bn(serial, sizeof(serial), NULL);
    BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(c));
    BN_free(bn);
    X509_gmtime_adj(X509_getm_notBefore(c), -BACKDATE);
    X509_gmtime_adj(X509_getm_notAfter(c), (long)seconds);
    X509_set_pubkey(c, pub);
    X509_NAME *name = X509_get_subject_name(c);
    X509_NAME_add_entry_by_txt(name, "O", MBSTRING_ASC, (const unsigned char *)"cachetd", -1, -1, 0);
    X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, (const unsigned char *)cn, -1, -1, 0);
    return c;
}

static long long asn1Time(const ASN1_TIME *t) {
    struct tm tm;
    if (ASN1_TIME_to_tm(t, &tm) != 1) return 0;
    return (long long)timegm(&tm);
}

static void genFree(caGen *g) {
    EVP_PKEY_free(g->key);
    X509_free(g->cert);
    memset(g, 0, sizeof(*g));
}

static int genLoad(caGen *g, long long gen, const char *keyPath, const char *certPath) {
    FILE *kf = fopen(keyPath, "r"), *cf = fopen(certPath, "r");
    g->gen = gen;
    if (kf) g->key = PEM_read_PrivateKey(kf, NULL, NULL, NULL);
    if (cf) g->cert = PEM_read_X509(cf, NULL, NULL, NULL);
    if (kf) fclose(kf);
    if (cf) fclose(cf);
    if (g->key && g->cert) return 0;
    genFree(g);
    return -1;
}

/* A new CA of generation gen, its files written (not yet part of the state). */
/* genLoad of generation gen's files in the data directory; what names it
 * in the error ("CA", "old CA"). */
static int genLoadFiles(caGen *g, long long gen, const char *what, char *err, size_t errlen) {
    char kp[4200], cp[4200];
    genPath(kp, sizeof(kp), gen, "key");
    genPath(cp, sizeof(cp), gen, "crt");
    if (!genLoad(g, gen, kp, cp)) return 0;
    snprintf(err, errlen, "can't read the %s in %s (ca-%lld.key, ca-%lld.crt)", what, caDir, gen, gen);
    return -1;
}

static int genCreate(caGen *g, long long gen) {
    char kp[4200], cp[4200], cn[64];
    g->gen = gen;
    g->key = newKey();
    if (!g->key) return -1;
    snprintf(cn, sizeof(cn), "cachetd CA %lld", gen);
    g->cert = newCert(g->key, cn, CA_DAYS * 86400LL);
    X509_set_issuer_name(g->cert, X509_get_subject_name(g->cert));
    addExt(g->cert, g->cert, NID_basic_constraints, "critical,CA:TRUE");
    addExt(g->cert, g->cert, NID_key_usage, "critical,keyCertSign,cRLSign");
    addExt(g->cert, g->cert, NID_subject_key_identifier, "hash");
    genPath(kp, sizeof(kp), gen, "key");
    genPath(cp, sizeof(cp), gen, "crt");
    if (!X509_sign(g->cert, g->key, EVP_sha256()) || writePem(kp, g->key, NULL, 0) ||
        writePem(cp, NULL, &g->cert, 1)) {
        genFree(g);
        return -1;
    }
    return 0;
}

static int writeBundle(void) {
    char path[4200];
    snprintf(path, sizeof(path), "%s/ca.pem", caDir);
    X509 *certs[2];
    int n = 0;
    if (old.gen) certs[n++] = old.cert;
    certs[n++] = active.cert;
    return writePem(path, NULL, certs, n);
}

/* One transaction: the state record. */
static int saveState(long long act, long long prev) {
    cdParams r = {0};
    char a[32], o[32];
    snprintf(a, sizeof(a), "%lld", act);
    snprintf(o, sizeof(o), "%lld", prev);
    cdParamsSet(&r, "active", a);
    cdParamsSet(&r, "old", o);
    int rc = cdStoreBegin(cd.store) || cdStorePut(cd.store, "ca", "state", &r) || cdStoreCommit(cd.store);
    if (rc) cdStoreRollback(cd.store);
    cdParamsFree(&r);
    return rc ? -1 : 0;
}

static void genUnlink(long long gen) {
    char p[4200];
    genPath(p, sizeof(p), gen, "key");
    unlink(p);
    genPath(p, sizeof(p), gen, "crt");
    unlink(p);
}

int cdCaInit(const char *dir, char *err, size_t errlen) {
    snprintf(caDir, sizeof(caDir), "%s", dir);
    cdParams st = {0};
    long long act = 0, prev = 0;
    int have = cdStoreGet(cd.store, "ca", "state", &st);
    if (have == 1) {
        const char *a = cdParamsGet(&st, "active"), *o = cdParamsGet(&st, "old");
        if (!a || !string2ll(a, strlen(a), &act)) act = 0; /* damaged: refused below */
        if (!o || !string2ll(o, strlen(o), &prev)) prev = 0;
    }
    cdParamsFree(&st);
    if (have < 0 || (have == 1 && act <= 0)) { /* never a new CA over one the store names */
        snprintf(err, errlen, "can't read the CA state from the store");
        return -1;
    }
    char kp[4200], cp[4200];
    if (act > 0) {
        if (genLoadFiles(&active, act, "CA", err, errlen)) return -1;
        if (prev > 0) {
            if (genLoadFiles(&old, prev, "old CA", err, errlen)) return -1;
        } else if (act > 1) {
            genUnlink(act - 1); /* a finish that crashed before removing them */
        }
    } else {
        /* First start, or a data directory of a cachetd before rotation:
         * its ca.key/ca.pem become generation 1. */
        char legacyKey[4200], legacyPem[4200];
        snprintf(legacyKey, sizeof(legacyKey), "%s/ca.key", dir);
        snprintf(legacyPem, sizeof(legacyPem), "%s/ca.pem", dir);
        if (access(legacyKey, F_OK) == 0) {
            genPath(kp, sizeof(kp), 1, "key");
            genPath(cp, sizeof(cp), 1, "crt");
            if (genLoad(&active, 1, legacyKey, legacyPem) || writePem(kp, active.key, NULL, 0) ||
                writePem(cp, NULL, &active.cert, 1)) {
                snprintf(err, errlen, "can't take over the CA in %s (ca.key, ca.pem)", dir);
                return -1;
            }
        } else if (genCreate(&active, 1)) {
            snprintf(err, errlen, "can't create the CA in %s: %s", dir, strerror(errno));
            return -1;
        }
        if (saveState(1, 0)) {
            snprintf(err, errlen, "can't record the CA state");
            return -1;
        }
        unlink(legacyKey);
    }
    if (writeBundle()) {
        snprintf(err, errlen, "can't write %s/ca.pem: %s", dir, strerror(errno));
        return -1;
    }
    return 0;
}

void cdCaFree(void) {
    genFree(&active);
    genFree(&old);
}

char *cdCaBundle(void) {
    BIO *b = BIO_new(BIO_s_mem());
    if (old.gen) PEM_write_bio_X509(b, old.cert);
    PEM_write_bio_X509(b, active.cert);
    char *p;
    long n = BIO_get_mem_data(b, &p);
    char *out = memDupBytes(p, (size_t)n);
    BIO_free(b);
    return out;
}

long long cdCaActive(void) { return active.gen; }
long long cdCaOld(void) { return old.gen; }
long long cdCaNotAfter(void) { return asn1Time(X509_get0_notAfter(active.cert)); }

void cdCaTrustId(char *out, size_t len) {
    if (old.gen)
        snprintf(out, len, "%lld+%lld", old.gen, active.gen);
    else
        snprintf(out, len, "%lld", active.gen);
}

int cdCaRotateStart(char *err, size_t errlen) {
    if (old.gen) {
        snprintf(err, errlen, "A CA rotation is already in progress (CA %lld to %lld).", old.gen, active.gen);
        return -1;
    }
    caGen next = {0};
    if (genCreate(&next, active.gen + 1)) {
        snprintf(err, errlen, "Can't create the new CA: %s", strerror(errno));
        return -1;
    }
    if (saveState(next.gen, active.gen)) {
        genFree(&next);
        snprintf(err, errlen, "Can't record the CA rotation.");
        return -1;
    }
    old = active;
    active = next;
    (void)writeBundle(); /* rewritten at the next start if this fails */
    return 0;
}

int cdCaRotateFinish(char *err, size_t errlen) {
    if (!old.gen) {
        snprintf(err, errlen, "No CA rotation is in progress.");
        return -1;
    }
    if (saveState(active.gen, 0)) {
        snprintf(err, errlen, "Can't record the end of the CA rotation.");
        return -1;
    }
    long long gone = old.gen;
    genFree(&old);
    (void)writeBundle();
    genUnlink(gone);
    return 0;
}

int cdCaIssue(long long gen, const char *certPath, const char *keyPath, const char *host, long long validSeconds,
              cdCertInfo *info, char *err, size_t errlen) {
    const caGen *ca = gen == active.gen ? &active : old.gen && gen == old.gen ? &old : NULL;
    if (!ca) {
        snprintf(err, errlen, "no CA of generation %lld to sign %s", gen, certPath);
        return -1;
    }
    EVP_PKEY *k = newKey();
    if (!k) {
        snprintf(err, errlen, "can't generate a key");
        return -1;
    }
    X509 *c = newCert(k, host && *host ? host : "localhost", validSeconds);
    X509_set_issuer_name(c, X509_get_subject_name(ca->cert));
    char san[512];
    unsigned char ip[16];
    if (host && *host && strcmp(host, "localhost") && strcmp(host, "127.0.0.1"))
        snprintf(san, sizeof(san), "DNS:localhost,IP:127.0.0.1,%s:%s", inet_pton(AF_INET, host, ip) == 1 ? "IP" : "DNS",
                 host);
    else
        snprintf(san, sizeof(san), "DNS:localhost,IP:127.0.0.1");
    addExt(c, ca->cert, NID_subject_alt_name, san);
    addExt(c, ca->cert, NID_basic_constraints, "critical,CA:FALSE");
    addExt(c, ca->cert, NID_key_usage, "critical,digitalSignature,keyEncipherment");
    addExt(c, ca->cert, NID_ext_key_usage, "serverAuth,clientAuth");
    addExt(c, ca->cert, NID_authority_key_identifier, "keyid:always");
    int rc = 0;
    /* The key first: a node restarted between the two renames finds a
     * pair that does not match, which cdCaCheck refuses (issued again). */
    if (!X509_sign(c, ca->key, EVP_sha256()) || writePem(keyPath, k, NULL, 0) || writePem(certPath, NULL, &c, 1)) {
        snprintf(err, errlen, "can't write %s: %s", certPath, strerror(errno));
        rc = -1;
    } else if (info) {
        info->gen = ca->gen;
        info->issued = asn1Time(X509_get0_notBefore(c)) + BACKDATE;
        info->notAfter = asn1Time(X509_get0_notAfter(c));
    }
    X509_free(c);
    EVP_PKEY_free(k);
    return rc;
}

int cdCaDue(const cdCertInfo *info, long long want, long long now) {
    if ((info->gen != want && info->gen != active.gen) || info->notAfter <= info->issued) return 1;
    return now >= info->issued + (info->notAfter - info->issued) * 2 / 3;
}

int cdCaCheck(const char *certPath, const char *keyPath, cdCertInfo *info) {
    caGen g = {0};
    if (genLoad(&g, 0, keyPath, certPath)) return -1;
    int rc = -1;
    if (X509_check_private_key(g.cert, g.key) == 1) {
        if (X509_verify(g.cert, X509_get0_pubkey(active.cert)) == 1)
            info->gen = active.gen;
        else if (old.gen && X509_verify(g.cert, X509_get0_pubkey(old.cert)) == 1)
            info->gen = old.gen;
        else
            info->gen = 0;
        info->issued = asn1Time(X509_get0_notBefore(g.cert)) + BACKDATE;
        info->notAfter = asn1Time(X509_get0_notAfter(g.cert));
        long long now = (long long)time(NULL);
        if (info->gen && info->notAfter > info->issued &&
            now < info->issued + (info->notAfter - info->issued) * 2 / 3)
            rc = 0;
    }
    genFree(&g);
    return rc;
}
