/* ca.c - the certificate authority (ca.h), on OpenSSL 3.
 * Owns the CA key and certificate while the daemon runs.
 * Must never write a private key readable by others. */
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
#include <unistd.h>

#include "mem.h"

static EVP_PKEY *caKey;
static X509 *caCert;
static char caPemPath[4096];

static EVP_PKEY *newKey(void) { return EVP_EC_gen("P-256"); }

/* Writes a PEM private key with mode 0600 from the first byte. */
static int writeKey(const char *path, EVP_PKEY *k) {
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0) return -1;
    (void)fchmod(fd, 0600);
    FILE *f = fdopen(fd, "w");
    if (!f) {
        close(fd);
        return -1;
    }
    int ok = PEM_write_PrivateKey(f, k, NULL, NULL, 0, NULL, NULL);
    return (fclose(f) == 0 && ok) ? 0 : -1;
}

static int writeCert(const char *path, X509 *c) {
    FILE *f = fopen(path, "w");
    if (!f) return -1;
    int ok = PEM_write_X509(f, c);
    return (fclose(f) == 0 && ok) ? 0 : -1;
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

static X509 *newCert(EVP_PKEY *pub, const char *cn, long days) {
    X509 *c = X509_new();
    X509_set_version(c, 2);
    unsigned char serial[16];
    RAND_bytes(serial, sizeof(serial));
    serial[0] &= 0x7f;
    BIGNUM *bn = BN_bin2bn(serial, sizeof(serial), NULL);
    BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(c));
    BN_free(bn);
    X509_gmtime_adj(X509_getm_notBefore(c), -3600);
    X509_gmtime_adj(X509_getm_notAfter(c), days * 86400L);
    X509_set_pubkey(c, pub);
    X509_NAME *name = X509_get_subject_name(c);
    X509_NAME_add_entry_by_txt(name, "O", MBSTRING_ASC, (const unsigned char *)"cachetd", -1, -1, 0);
    X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, (const unsigned char *)cn, -1, -1, 0);
    return c;
}

int cdCaInit(const char *dir, char *err, size_t errlen) {
    char keyPath[4096];
    snprintf(keyPath, sizeof(keyPath), "%s/ca.key", dir);
    snprintf(caPemPath, sizeof(caPemPath), "%s/ca.pem", dir);
    FILE *kf = fopen(keyPath, "r");
    if (kf) {
        caKey = PEM_read_PrivateKey(kf, NULL, NULL, NULL);
        fclose(kf);
        FILE *cf = fopen(caPemPath, "r");
        if (cf) {
            caCert = PEM_read_X509(cf, NULL, NULL, NULL);
            fclose(cf);
        }
        if (!caKey || !caCert) {
            snprintf(err, errlen, "can't read the CA in %s (ca.key, ca.pem)", dir);
            return -1;
        }
        return 0;
    }
    caKey = newKey();
    if (!caKey) {
        snprintf(err, errlen, "can't generate the CA key");
        return -1;
    }
    caCert = newCert(caKey, "cachetd CA", 3650);
    X509_set_issuer_name(caCert, X509_get_subject_name(caCert));
    addExt(caCert, caCert, NID_basic_constraints, "critical,CA:TRUE");
    addExt(caCert, caCert, NID_key_usage, "critical,keyCertSign,cRLSign");
    addExt(caCert, caCert, NID_subject_key_identifier, "hash");
    if (!X509_sign(caCert, caKey, EVP_sha256()) || writeKey(keyPath, caKey) || writeCert(caPemPath, caCert)) {
        snprintf(err, errlen, "can't write the CA to %s: %s", dir, strerror(errno));
        return -1;
    }
    return 0;
}

void cdCaFree(void) {
    EVP_PKEY_free(caKey);
    X509_free(caCert);
    caKey = NULL;
    caCert = NULL;
}

char *cdCaBundle(void) {
    BIO *b = BIO_new(BIO_s_mem());
    PEM_write_bio_X509(b, caCert);
    char *p;
    long n = BIO_get_mem_data(b, &p);
    char *out = memDupBytes(p, (size_t)n);
    BIO_free(b);
    return out;
}

int cdCaIssue(const char *certPath, const char *keyPath, const char *host, char *err, size_t errlen) {
    EVP_PKEY *k = newKey();
    if (!k) {
        snprintf(err, errlen, "can't generate a node key");
        return -1;
    }
    X509 *c = newCert(k, host && *host ? host : "localhost", 365);
    X509_set_issuer_name(c, X509_get_subject_name(caCert));
    char san[512];
    unsigned char ip[16];
    if (host && *host && strcmp(host, "localhost") && strcmp(host, "127.0.0.1"))
        snprintf(san, sizeof(san), "DNS:localhost,IP:127.0.0.1,%s:%s", inet_pton(AF_INET, host, ip) == 1 ? "IP" : "DNS",
                 host);
    else
        snprintf(san, sizeof(san), "DNS:localhost,IP:127.0.0.1");
    addExt(c, caCert, NID_subject_alt_name, san);
    addExt(c, caCert, NID_basic_constraints, "critical,CA:FALSE");
    addExt(c, caCert, NID_key_usage, "critical,digitalSignature,keyEncipherment");
    addExt(c, caCert, NID_ext_key_usage, "serverAuth,clientAuth");
    int rc = 0;
    if (!X509_sign(c, caKey, EVP_sha256()) || writeKey(keyPath, k) || writeCert(certPath, c)) {
        snprintf(err, errlen, "can't write %s: %s", certPath, strerror(errno));
        rc = -1;
    }
    X509_free(c);
    EVP_PKEY_free(k);
    return rc;
}
