/* sigv4.c - SigV4 verification (sigv4.h): canonical request, string to
 * sign, the HMAC-SHA256 key chain, constant-time comparison; and the
 * credentials file. Must never log the secret or a computed signature. */
#include "sigv4.h"

#include <errno.h>
#include <fcntl.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/sha.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "mem.h"
#include "query.h"
#include "util.h"

static void hexOf(const unsigned char *d, size_t n, char *out) {
    static const char hx[] = "0123456789abcdef";
    for (size_t i = 0; i < n; i++) {
        out[2 * i] = hx[d[i] >> 4];
        out[2 * i + 1] = hx[d[i] & 15];
    }
    out[2 * n] = 0;
}

static void sha256Hex(const void *p, size_t n, char *out) {
    unsigned char d[SHA256_DIGEST_LENGTH];
    SHA256(p, n, d);
    hexOf(d, sizeof(d), out);
}

static void hmac(const unsigned char *key, size_t klen, const char *msg, unsigned char *out) {
    unsigned int olen = 32;
    HMAC(EVP_sha256(), key, (int)klen, (const unsigned char *)msg, strlen(msg), out, &olen);
}

typedef struct qpair {
    char *k, *v; /* encoded */
} qpair;

static int qpairCmp(const void *a, const void *b) {
    const qpair *x = a, *y = b;
    int c = strcmp(x->k, y->k);
    return c ? c : strcmp(x->v, y->v);
}

/* The query string re-encoded the SigV4 way and sorted by name then value. */
static void canonicalQuery(textBuf *out, const char *q) {
    int n = 0, cap = 8;
    qpair *ps = memAlloc(sizeof(qpair) * (size_t)cap);
    const char *s = q;
    while (*s) {
        const char *e = strchr(s, '&');
        size_t len = e ? (size_t)(e - s) : strlen(s);
        if (len) {
            cdParams one = {0};
            char err[64];
            /* '+' in a query string is a literal plus to SigV4 only after
             * decoding; botocore never sends one unencoded. */
            if (cdFormDecode(s, len, &one, err, sizeof(err)) == 0 && one.n == 1) {
                textBuf k = {0}, v = {0};
                textAppend(&k, "%s", "");
                textAppend(&v, "%s", "");
                cdUriEncode(&k, one.k[0], strlen(one.k[0]), 0);
                cdUriEncode(&v, one.v[0], strlen(one.v[0]), 0);
                if (n == cap) ps = memRealloc(ps, sizeof(qpair) * (size_t)(cap *= 2));
                ps[n].k = k.p;
                ps[n].v = v.p;
                n++;
            }
            cdParamsFree(&one);
        }
        if (!e) break;
        s = e + 1;
    }
    qsort(ps, (size_t)n, sizeof(qpair), qpairCmp);
    for (int i = 0; i < n; i++) {
        textAppend(out, "%s%s=%s", i ? "&" : "", ps[i].k, ps[i].v);
        memFree(ps[i].k);
        memFree(ps[i].v);
    }
    memFree(ps);
}

/* A header value trimmed, inner runs of spaces folded to one. */
static void appendTrimmed(textBuf *b, const char *v) {
    while (*v == ' ' || *v == '\t') v++;
    size_t n = strlen(v);
    while (n && (v[n - 1] == ' ' || v[n - 1] == '\t')) n--;
    int sp = 0;
    for (size_t i = 0; i < n; i++) {
        if (v[i] == ' ' || v[i] == '\t') {
            sp = 1;
            continue;
        }
        if (sp) textAppend(b, " ");
        sp = 0;
        textAppend(b, "%c", v[i]);
    }
}

void cdSigV4Compute(const cdSigReq *r, const char *secret, const char *amzDate, const char *scopeDate,
                    const char *region, const char *service, const char *signedHeaders, char *out) {
    textBuf cr = {0};
    textAppend(&cr, "%s\n", r->method);
    cdUriEncode(&cr, r->path, strlen(r->path), 1);
    textAppend(&cr, "\n");
    canonicalQuery(&cr, r->query ? r->query : "");
    textAppend(&cr, "\n");
    const char *h = signedHeaders;
    while (*h) {
        const char *e = strchr(h, ';');
        size_t len = e ? (size_t)(e - h) : strlen(h);
        char name[128];
        if (len < sizeof(name)) {
            memcpy(name, h, len);
            name[len] = 0;
            for (size_t i = 0; i < len; i++)
                if (name[i] >= 'A' && name[i] <= 'Z') name[i] = (char)(name[i] - 'A' + 'a');
            const char *v = r->header(r->ctx, name);
            textAppend(&cr, "%s:", name);
            appendTrimmed(&cr, v ? v : "");
            textAppend(&cr, "\n");
        }
        if (!e) break;
        h = e + 1;
    }
    char bodyHash[65];
    sha256Hex(r->body ? r->body : "", r->bodyLen, bodyHash);
    textAppend(&cr, "\n%s\n%s", signedHeaders, bodyHash);
    char crHash[65];
    sha256Hex(cr.p, cr.len, crHash);
    memFree(cr.p);

    textBuf sts = {0};
    textAppend(&sts, "AWS4-HMAC-SHA256\n%s\n%s/%s/%s/aws4_request\n%s", amzDate, scopeDate, region, service, crHash);
    textBuf k0 = {0};
    textAppend(&k0, "AWS4%s", secret);
    unsigned char k1[32], k2[32], k3[32], k4[32], sig[32];
    hmac((unsigned char *)k0.p, k0.len, scopeDate, k1);
    hmac(k1, 32, region, k2);
    hmac(k2, 32, service, k3);
    hmac(k3, 32, "aws4_request", k4);
    hmac(k4, 32, sts.p, sig);
    OPENSSL_cleanse(k0.p, k0.len);
    memFree(k0.p);
    memFree(sts.p);
    hexOf(sig, 32, out);
}

/* Copies the value of "name=" from the Authorization parameters (separated
 * by commas and optional spaces) into out; 0 found, -1 absent/too long. */
static int authParam(const char *params, const char *name, char *out, size_t outlen) {
    size_t nl = strlen(name);
    const char *p = params;
    while (*p) {
        while (*p == ' ' || *p == ',') p++;
        const char *e = strchr(p, ',');
        size_t len = e ? (size_t)(e - p) : strlen(p);
        if (len > nl && !strncmp(p, name, nl) && p[nl] == '=') {
            size_t vl = len - nl - 1;
            while (vl && p[nl + 1 + vl - 1] == ' ') vl--;
            if (vl >= outlen) return -1;
            memcpy(out, p + nl + 1, vl);
            out[vl] = 0;
            return 0;
        }
        if (!e) break;
        p = e + 1;
    }
    return -1;
}

static int fail(char *code, char *msg, const char *c, const char *m) {
    snprintf(code, CD_SIG_CODE_LEN, "%s", c);
    snprintf(msg, CD_SIG_MSG_LEN, "%s", m);
    return -1;
}

static int digits(const char *s, int n) {
    int v = 0;
    for (int i = 0; i < n; i++) v = v * 10 + (s[i] - '0');
    return v;
}

/* "yyyymmddThhmmssZ" (ISO 8601 basic, UTC) to Unix seconds; -1 if it is
 * not exactly that or names no real time. */
static long long amzDateSeconds(const char *d) {
    if (strlen(d) != 16 || d[8] != 'T' || d[15] != 'Z') return -1;
    for (int i = 0; i < 15; i++)
        if (i != 8 && (d[i] < '0' || d[i] > '9')) return -1;
    struct tm tm = {0};
    tm.tm_year = digits(d, 4) - 1900;
    tm.tm_mon = digits(d + 4, 2) - 1;
    tm.tm_mday = digits(d + 6, 2);
    tm.tm_hour = digits(d + 9, 2);
    tm.tm_min = digits(d + 11, 2);
    tm.tm_sec = digits(d + 13, 2);
    if (tm.tm_mon > 11 || tm.tm_mday < 1 || tm.tm_mday > 31 || tm.tm_hour > 23 || tm.tm_min > 59 || tm.tm_sec > 60)
        return -1;
    return (long long)timegm(&tm);
}

static void amzDateOf(long long t, char *out, size_t len) {
    time_t tt = (time_t)t;
    struct tm tm;
    gmtime_r(&tt, &tm);
    strftime(out, len, "%Y%m%dT%H%M%SZ", &tm);
}

/* AWS' replay window: a signature more than 15 minutes from the server's
 * clock either way is refused, with AWS' own wording (clients and users
 * recognise a clock skew by it). */
static int checkWindow(const char *amzDate, long long now, char *code, char *msg) {
    long long t = amzDateSeconds(amzDate);
    char a[32], b[32];
    amzDateOf(now, b, sizeof(b));
    if (t < now - CD_SIG_WINDOW_S) {
        amzDateOf(now - CD_SIG_WINDOW_S, a, sizeof(a));
        snprintf(code, CD_SIG_CODE_LEN, "SignatureDoesNotMatch");
        snprintf(msg, CD_SIG_MSG_LEN, "Signature expired: %s is now earlier than %s (%s - %d min.)", amzDate, a, b,
                 CD_SIG_WINDOW_S / 60);
        return -1;
    }
    if (t > now + CD_SIG_WINDOW_S) {
        amzDateOf(now + CD_SIG_WINDOW_S, a, sizeof(a));
        snprintf(code, CD_SIG_CODE_LEN, "SignatureDoesNotMatch");
        snprintf(msg, CD_SIG_MSG_LEN, "Signature not yet current: %s is still later than %s (%s + %d min.)", amzDate,
                 a, b, CD_SIG_WINDOW_S / 60);
        return -1;
    }
    return 0;
}

int cdSigV4Verify(const cdSigReq *r, const char *accessKey, const char *secret, int anySignature, char *code,
                  char *msg) {
    const char *auth = r->header(r->ctx, "authorization");
    if (!auth || !*auth) {
        if (anySignature) return 0;
        return fail(code, msg, "MissingAuthenticationToken", "Request is missing Authentication Token");
    }
    const char *alg = "AWS4-HMAC-SHA256 ";
    if (strncmp(auth, alg, strlen(alg))) {
        if (anySignature) return 0;
        return fail(code, msg, "IncompleteSignature",
                    "Authorization header requires the AWS4-HMAC-SHA256 algorithm.");
    }
    const char *params = auth + strlen(alg);
    char cred[256], signedHeaders[1024], sig[128];
    if (authParam(params, "Credential", cred, sizeof(cred)) || authParam(params, "SignedHeaders", signedHeaders,
                                                                         sizeof(signedHeaders)) ||
        authParam(params, "Signature", sig, sizeof(sig))) {
        if (anySignature) return 0;
        return fail(code, msg, "IncompleteSignature",
                    "Authorization header requires 'Credential', 'Signature' and 'SignedHeaders' parameters.");
    }
    /* Credential = AKID/yyyymmdd/region/service/aws4_request */
    char *parts[5];
    int np = 0;
    char *save = NULL;
    for (char *t = strtok_r(cred, "/", &save); t && np < 5; t = strtok_r(NULL, "/", &save)) parts[np++] = t;
    if (np != 5 || strcmp(parts[4], "aws4_request") || strlen(parts[1]) != 8) {
        if (anySignature) return 0;
        return fail(code, msg, "IncompleteSignature",
                    "Credential should be scoped to a valid region, and to the service, as "
                    "'ACCESSKEY/yyyymmdd/region/service/aws4_request'.");
    }
    if (anySignature) return 0;
    if (strcmp(parts[0], accessKey))
        return fail(code, msg, "InvalidClientTokenId", "The security token included in the request is invalid.");
    const char *amzDate = r->header(r->ctx, "x-amz-date");
    if (!amzDate || amzDateSeconds(amzDate) < 0 || strncmp(amzDate, parts[1], 8) || !strstr(signedHeaders, "host"))
        return fail(code, msg, "IncompleteSignature",
                    "Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header, signed "
                    "together with 'host', dated the day of the credential scope.");
    char want[65];
    cdSigV4Compute(r, secret, amzDate, parts[1], parts[2], parts[3], signedHeaders, want);
    if (strlen(sig) != 64 || CRYPTO_memcmp(want, sig, 64))
        return fail(code, msg, "SignatureDoesNotMatch",
                    "The request signature we calculated does not match the signature you provided. Check your "
                    "AWS Secret Access Key and signing method. Consult the service documentation for details.");
    return checkWindow(amzDate, r->now, code, msg);
}

static void randomFrom(char *out, size_t n, const char *alphabet) {
    unsigned char rb[64];
    size_t al = strlen(alphabet);
    randomBytes(rb, n);
    for (size_t i = 0; i < n; i++) out[i] = alphabet[rb[i] % al];
    out[n] = 0;
}

int cdCredentialsLoad(const char *path, char *akid, size_t akidLen, char *secret, size_t secretLen, char *err,
                      size_t errlen) {
    FILE *f = fopen(path, "r");
    if (!f && errno == ENOENT) {
        char id[21], key[41];
        snprintf(id, sizeof(id), "AKIA");
        randomFrom(id + 4, 16, "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567");
        randomFrom(key, 40, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/");
        int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
        if (fd < 0) {
            snprintf(err, errlen, "can't create %s: %s", path, strerror(errno));
            return -1;
        }
        char text[256];
        int n = snprintf(text, sizeof(text), "[default]\naws_access_key_id = %s\naws_secret_access_key = %s\n", id,
                         key);
        int rc = fdWriteAll(fd, text, (size_t)n);
        OPENSSL_cleanse(text, sizeof(text));
        close(fd);
        if (rc) {
            snprintf(err, errlen, "can't write %s", path);
            return -1;
        }
        f = fopen(path, "r");
    }
    if (!f) {
        snprintf(err, errlen, "can't read %s: %s", path, strerror(errno));
        return -1;
    }
    char line[512];
    int inDefault = 0;
    akid[0] = secret[0] = 0;
    while (fgets(line, sizeof(line), f)) {
        char *s = line;
        while (*s == ' ' || *s == '\t') s++;
        size_t n = strlen(s);
        while (n && (s[n - 1] == '\n' || s[n - 1] == '\r' || s[n - 1] == ' ')) s[--n] = 0;
        if (*s == '[') {
            inDefault = !strcmp(s, "[default]");
            continue;
        }
        char *eq = strchr(s, '=');
        if (!inDefault || !eq) continue;
        char *k = s, *v = eq + 1;
        char *ke = eq;
        while (ke > k && ke[-1] == ' ') ke--;
        *ke = 0;
        while (*v == ' ') v++;
        if (!strcmp(k, "aws_access_key_id")) snprintf(akid, akidLen, "%s", v);
        if (!strcmp(k, "aws_secret_access_key")) snprintf(secret, secretLen, "%s", v);
    }
    OPENSSL_cleanse(line, sizeof(line));
    fclose(f);
    if (!akid[0] || !secret[0]) {
        snprintf(err, errlen, "%s has no [default] aws_access_key_id and aws_secret_access_key", path);
        return -1;
    }
    return 0;
}
