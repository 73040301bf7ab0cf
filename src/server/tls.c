/* tls.c - TLS contexts and the transit encryption mode of the node.
 *
 * Owns: the SSL_CTX new connections get (built from the tls-* parameters),
 * what INFO says about its certificate, the mode the main port was last
 * switched to, and the tls-port listeners.
 * Must never: swap in a context that failed any check (a bad file leaves the
 * old one serving), touch a TLS client when the mode changes, or block.
 *
 * Contexts are immutable once built. OpenSSL reference-counts an SSL_CTX and
 * every SSL made from it holds a reference, so replacing `current` only
 * affects new connections: existing ones keep the context they started with
 * until they close.
 *
 * Mode transitions (tlsApplyConfig, on CONFIG SET):
 *   any -> preferred|required  needs a context (else the SET fails, nothing changes)
 *   any -> required            every plaintext client is closed once the
 *                              replies it was owed at the switch are written;
 *                              nothing produced after the switch reaches it
 *                              (revokePlaintext); a connection that has not
 *                              sent its first byte is judged by that byte
 *   none -> preferred|required a connection accepted plain in none that has
 *                              not sent a byte starts sniffing
 *   required -> preferred|none no client is closed; new connections follow
 *                              the new mode when their first byte arrives
 * Every transition is logged with the clients kept and closed. */
#include "server.h"
#include "db.h"
#include "client.h"
#include "block.h"
#include "tls.h"
#include "multi.h"
#include "pubsub.h"
#include "listen.h"
#include "net.h"
#include "conn_out.h"
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

/* What identifies the files a context was built from: a change in any of
 * them (or in a parameter) means the context is stale. */
typedef struct fileStamp {
    dev_t dev;
    ino_t ino;
    off_t size;
    long long mtimeNs;
    int exists;
} fileStamp;

typedef struct ctxInfo {
    char notBefore[64], notAfter[64], serial[96];
    time_t certNotAfter;
    time_t caEarliestNotAfter; /* 0: no CA file */
    unsigned char params[32];  /* digest of the parameters it was built from */
    fileStamp cert, key, ca;
} ctxInfo;

static SSL_CTX *current;
static ctxInfo currentInfo;
static int appliedMode = TLS_MODE_NONE;
static fileStamp failedStamps[3]; /* auto-reload: files that already failed once */

void *tlsCurrentContext(void) { return current; }

const char *tlsModeName(int mode) {
    switch (mode) {
    case TLS_MODE_PREFERRED: return "preferred";
    case TLS_MODE_REQUIRED: return "required";
    default: return "none";
    }
}

/* ---- building a context ------------------------------------------------------ */

static int isSet(const char *s) { return s && s[0]; }

static void stampFile(const char *path, fileStamp *st) {
    struct stat sb;
    memset(st, 0, sizeof(*st));
    if (!isSet(path) || stat(path, &sb) == -1) return;
    st->exists = 1;
    st->dev = sb.st_dev;
    st->ino = sb.st_ino;
    st->size = sb.st_size;
    st->mtimeNs = (long long)sb.st_mtim.tv_sec * 1000000000LL + sb.st_mtim.tv_nsec;
}

static int stampEqual(const fileStamp *a, const fileStamp *b) {
    return a->exists == b->exists && a->dev == b->dev && a->ino == b->ino && a->size == b->size &&
           a->mtimeNs == b->mtimeNs;
}

/* A digest of every parameter a context is built from, each string with its
 * length: paths of any length and any bytes ('|' included) compare exactly
 * (a fixed text buffer cut long paths, so a new long path looked unchanged). */
static void describeParams(unsigned char out[32]) {
    const char *strs[] = {srv.tlsCertFile,   srv.tlsKeyFile,  srv.tlsKeyFilePass, srv.tlsCaCertFile,
                          srv.tlsCaCertDir,  srv.tlsProtocols, srv.tlsCiphers,    srv.tlsCiphersuites};
    long long nums[] = {srv.tlsAuthClients, srv.tlsPreferServerCiphers, srv.tlsSessionCaching,
                        srv.tlsSessionCacheSize, srv.tlsSessionCacheTimeout};
    memset(out, 0, 32);
    EVP_MD_CTX *md = EVP_MD_CTX_new();
    if (!md) return;
    EVP_DigestInit_ex(md, EVP_sha256(), NULL);
    for (size_t i = 0; i < sizeof(strs) / sizeof(strs[0]); i++) {
        size_t n = strs[i] ? strlen(strs[i]) : 0;
        EVP_DigestUpdate(md, &n, sizeof(n));
        if (n) EVP_DigestUpdate(md, strs[i], n);
    }
    EVP_DigestUpdate(md, nums, sizeof(nums));
    EVP_DigestFinal_ex(md, out, NULL);
    EVP_MD_CTX_free(md);
}

static void stampAll(ctxInfo *info) {
    describeParams(info->params);
    stampFile(srv.tlsCertFile, &info->cert);
    stampFile(srv.tlsKeyFile, &info->key);
    stampFile(srv.tlsCaCertFile, &info->ca);
}

/* The newest OpenSSL error as text, after a prefix. */
static void sslError(char *err, size_t len, const char *fmt, const char *arg) {
    char what[256];
    snprintf(what, sizeof(what), fmt, arg);
    unsigned long e = ERR_peek_last_error();
    char reason[256] = "";
    if (e) ERR_error_string_n(e, reason, sizeof(reason));
    ERR_clear_error();
    if (reason[0]) snprintf(err, len, "%s: %s", what, reason);
    else snprintf(err, len, "%s", what);
}

/* A missing or unreadable file is named plainly, before OpenSSL reports it
 * as "system lib". */
static int checkReadable(const char *path, const char *what, char *err, size_t errlen) {
    FILE *f = fopen(path, "r");
    if (!f) {
        snprintf(err, errlen, "Cannot read %s %s: %s", what, path, strerror(errno));
        return -1;
    }
    fclose(f);
    return 0;
}

static int passwordCallback(char *buf, int size, int rwflag, void *u) {
    (void)rwflag;
    const char *pass = u;
    if (!pass) return 0;
    int n = (int)strlen(pass);
    if (n > size) n = size;
    memcpy(buf, pass, (size_t)n);
    return n;
}

/* "TLSv1.2 TLSv1.3" -> protocol range. Returns -1 on an unknown name. */
static int parseProtocols(const char *spec, int *minv, int *maxv, char *err, size_t errlen) {
    static const struct { const char *name; int v; } names[] = {
        {"TLSv1", TLS1_VERSION}, {"TLSv1.1", TLS1_1_VERSION}, {"TLSv1.2", TLS1_2_VERSION}, {"TLSv1.3", TLS1_3_VERSION}};
    *minv = TLS1_2_VERSION;
    *maxv = TLS1_3_VERSION;
    if (!isSet(spec)) return 0;
    int lo = 0, hi = 0;
    char buf[256];
    if (strlen(spec) >= sizeof(buf)) { /* cut, it could lose a version: refuse */
        snprintf(err, errlen, "Invalid tls-protocols specified");
        return -1;
    }
    snprintf(buf, sizeof(buf), "%s", spec);
    for (char *save = NULL, *tok = strtok_r(buf, " ,", &save); tok; tok = strtok_r(NULL, " ,", &save)) {
        int v = 0;
        for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
            if (!strcasecmp(tok, names[i].name)) v = names[i].v;
        if (!v) {
            snprintf(err, errlen, "Invalid tls-protocols specified: %s", tok);
            return -1;
        }
        if (!lo || v < lo) lo = v;
        if (v > hi) hi = v;
    }
    if (!lo) {
        snprintf(err, errlen, "Invalid tls-protocols specified");
        return -1;
    }
    *minv = lo;
    *maxv = hi;
    return 0;
}

static void timeText(const ASN1_TIME *t, char *out, size_t len) {
    out[0] = '\0';
    BIO *b = BIO_new(BIO_s_mem());
    if (!b) return;
    if (ASN1_TIME_print(b, t)) {
        int n = BIO_read(b, out, (int)len - 1);
        out[n > 0 ? n : 0] = '\0';
    }
    BIO_free(b);
}

static time_t timeValue(const ASN1_TIME *t) {
    struct tm tm;
    if (!ASN1_TIME_to_tm(t, &tm)) return 0;
    return timegm(&tm);
}

static void describeCert(X509 *x, ctxInfo *info) {
    timeText(X509_get0_notBefore(x), info->notBefore, sizeof(info->notBefore));
    timeText(X509_get0_notAfter(x), info->notAfter, sizeof(info->notAfter));
    info->certNotAfter = timeValue(X509_get0_notAfter(x));
    info->serial[0] = '\0';
    BIGNUM *bn = ASN1_INTEGER_to_BN(X509_get0_serialNumber(x), NULL);
    if (bn) {
        char *hex = BN_bn2hex(bn);
        if (hex) {
            snprintf(info->serial, sizeof(info->serial), "%s", hex);
            OPENSSL_free(hex);
        }
        BN_free(bn);
    }
}

/* Checks a certificate's validity window; returns -1 with a message. */
static int checkDates(X509 *x, const char *what, const char *path, char *err, size_t errlen) {
    if (X509_cmp_current_time(X509_get0_notBefore(x)) > 0) {
        char when[64];
        timeText(X509_get0_notBefore(x), when, sizeof(when));
        snprintf(err, errlen, "%s %s is not valid yet (not before %s)", what, path, when);
        return -1;
    }
    if (X509_cmp_current_time(X509_get0_notAfter(x)) < 0) {
        char when[64];
        timeText(X509_get0_notAfter(x), when, sizeof(when));
        snprintf(err, errlen, "%s %s has expired (not after %s)", what, path, when);
        return -1;
    }
    return 0;
}

/* The earliest expiry among the CA file's certificates (0 if none). */
static time_t caEarliest(const char *path) {
    BIO *b = BIO_new_file(path, "r");
    if (!b) return 0;
    time_t earliest = 0;
    X509 *x;
    while ((x = PEM_read_bio_X509(b, NULL, NULL, NULL)) != NULL) {
        time_t t = timeValue(X509_get0_notAfter(x));
        if (t && (!earliest || t < earliest)) earliest = t;
        X509_free(x);
    }
    ERR_clear_error(); /* the read ends with a "no start line" error */
    BIO_free(b);
    return earliest;
}

/* Builds a server context from the tls-* parameters. Returns NULL with a
 * message in err; never changes the current context. */
static SSL_CTX *buildContext(ctxInfo *info, char *err, size_t errlen) {
    memset(info, 0, sizeof(*info));
    stampAll(info);
    if (!isSet(srv.tlsCertFile) || !isSet(srv.tlsKeyFile)) {
        snprintf(err, errlen, "TLS is not configured: tls-cert-file and tls-key-file must both be set");
        return NULL;
    }
    if (checkReadable(srv.tlsCertFile, "certificate", err, errlen) == -1 ||
        checkReadable(srv.tlsKeyFile, "private key", err, errlen) == -1 ||
        (isSet(srv.tlsCaCertFile) && checkReadable(srv.tlsCaCertFile, "CA certificate file", err, errlen) == -1))
        return NULL;
    int minv, maxv;
    if (parseProtocols(srv.tlsProtocols, &minv, &maxv, err, errlen) == -1) return NULL;
    ERR_clear_error();
    SSL_CTX *ctx = SSL_CTX_new(TLS_server_method());
    if (!ctx) {
        sslError(err, errlen, "Failed to create a TLS context%s", "");
        return NULL;
    }
    /* Renegotiation off both ways (OpenSSL 3 refuses client-initiated ones
     * unless SSL_OP_ALLOW_CLIENT_RENEGOTIATION is set, which we never set). */
    long opts = SSL_OP_NO_COMPRESSION | SSL_OP_NO_RENEGOTIATION |
                SSL_OP_IGNORE_UNEXPECTED_EOF;
    if (srv.tlsPreferServerCiphers) opts |= SSL_OP_CIPHER_SERVER_PREFERENCE;
    if (!srv.tlsSessionCaching) opts |= SSL_OP_NO_TICKET;
    SSL_CTX_set_options(ctx, opts);
    SSL_CTX_set_min_proto_version(ctx, minv);
    SSL_CTX_set_max_proto_version(ctx, maxv);
    SSL_CTX_set_mode(ctx, SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
    if (srv.tlsSessionCaching) {
        SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_SERVER);
        SSL_CTX_sess_set_cache_size(ctx, srv.tlsSessionCacheSize);
        SSL_CTX_set_timeout(ctx, srv.tlsSessionCacheTimeout);
        static const unsigned char sid[] = "cachet";
        SSL_CTX_set_session_id_context(ctx, sid, sizeof(sid) - 1);
    } else {
        SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_OFF);
    }
    if (isSet(srv.tlsCiphers) && !SSL_CTX_set_cipher_list(ctx, srv.tlsCiphers)) {
        sslError(err, errlen, "Failed to configure ciphers %s", srv.tlsCiphers);
        goto fail;
    }
    if (isSet(srv.tlsCiphersuites) && !SSL_CTX_set_ciphersuites(ctx, srv.tlsCiphersuites)) {
        sslError(err, errlen, "Failed to configure ciphersuites %s", srv.tlsCiphersuites);
        goto fail;
    }
    SSL_CTX_set_default_passwd_cb(ctx, passwordCallback);
    SSL_CTX_set_default_passwd_cb_userdata(ctx, isSet(srv.tlsKeyFilePass) ? srv.tlsKeyFilePass : NULL);
    if (SSL_CTX_use_certificate_chain_file(ctx, srv.tlsCertFile) <= 0) {
        sslError(err, errlen, "Failed to load certificate %s", srv.tlsCertFile);
        goto fail;
    }
    if (SSL_CTX_use_PrivateKey_file(ctx, srv.tlsKeyFile, SSL_FILETYPE_PEM) <= 0) {
        sslError(err, errlen, "Failed to load private key %s", srv.tlsKeyFile);
        goto fail;
    }
    if (!SSL_CTX_check_private_key(ctx)) {
        snprintf(err, errlen, "Private key %s does not match certificate %s", srv.tlsKeyFile, srv.tlsCertFile);
        ERR_clear_error();
        goto fail;
    }
    X509 *cert = SSL_CTX_get0_certificate(ctx);
    if (!cert) {
        snprintf(err, errlen, "No certificate in %s", srv.tlsCertFile);
        goto fail;
    }
    if (checkDates(cert, "Certificate", srv.tlsCertFile, err, errlen) == -1) goto fail;
    describeCert(cert, info);
    if (isSet(srv.tlsCaCertFile) || isSet(srv.tlsCaCertDir)) {
        if (SSL_CTX_load_verify_locations(ctx, isSet(srv.tlsCaCertFile) ? srv.tlsCaCertFile : NULL,
                                          isSet(srv.tlsCaCertDir) ? srv.tlsCaCertDir : NULL) <= 0) {
            sslError(err, errlen, "Failed to load CA certificates from %s",
                     isSet(srv.tlsCaCertFile) ? srv.tlsCaCertFile : srv.tlsCaCertDir);
            goto fail;
        }
        if (isSet(srv.tlsCaCertFile)) {
            info->caEarliestNotAfter = caEarliest(srv.tlsCaCertFile);
            /* Tell clients which CAs we accept their certificates from. */
            STACK_OF(X509_NAME) *names = SSL_load_client_CA_file(srv.tlsCaCertFile);
            if (names) SSL_CTX_set_client_CA_list(ctx, names);
            ERR_clear_error();
        }
    } else if (srv.tlsAuthClients != TLS_CLIENT_AUTH_NO) {
        snprintf(err, errlen, "tls-auth-clients needs tls-ca-cert-file or tls-ca-cert-dir to verify clients against");
        goto fail;
    }
    switch (srv.tlsAuthClients) {
    case TLS_CLIENT_AUTH_YES: SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT, NULL); break;
    case TLS_CLIENT_AUTH_OPTIONAL: SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, NULL); break;
    default: SSL_CTX_set_verify(ctx, SSL_VERIFY_NONE, NULL); break;
    }
    return ctx;
fail:
    SSL_CTX_free(ctx);
    return NULL;
}

/* The context the parameters ask for: the current one when nothing it was
 * built from changed, else a new one. *fresh says which. */
static SSL_CTX *contextForConfig(ctxInfo *info, int *fresh, char *err, size_t errlen) {
    *fresh = 0;
    if (current) {
        ctxInfo now;
        memset(&now, 0, sizeof(now));
        stampAll(&now);
        if (!memcmp(now.params, currentInfo.params, sizeof(now.params)) && stampEqual(&now.cert, &currentInfo.cert) &&
            stampEqual(&now.key, &currentInfo.key) && stampEqual(&now.ca, &currentInfo.ca)) {
            *info = currentInfo;
            return current;
        }
    }
    SSL_CTX *ctx = buildContext(info, err, errlen);
    if (ctx) *fresh = 1;
    return ctx;
}

static void installContext(SSL_CTX *ctx, const ctxInfo *info) {
    if (ctx == current) return;
    if (current) SSL_CTX_free(current); /* connections using it hold their own reference */
    current = ctx;
    if (info) currentInfo = *info;
    else memset(&currentInfo, 0, sizeof(currentInfo));
}

/* ---- modes --------------------------------------------------------------------- */

/* A plaintext client under tls-mode required: it gets what it was owed at
 * the switch and nothing produced after it. It leaves its channels and the
 * queues of the keys it waits on at once (no message, no popped element, no
 * PUBLISH count), its transaction is dropped, and it reads no further
 * request (CLOSE_AFTER_REPLY: reply.c appends nothing more, the read handler
 * drops input). The caller of the CONFIG SET still gets its reply. */
static void revokePlaintext(client *c) {
    blockClientFree(c);
    pubsubClientFree(c);
    pubsubClientInit(c);
    /* The caller may be inside EXEC, iterating its own queue. */
    if (c != srv.current) multiDiscard(c);
    multiUnwatchAll(c);
    if (c == srv.current || clientHasPendingReplies(c)) c->flags |= CLIENT_CLOSE_AFTER_REPLY;
    else clientFreeAsync(c);
}

static void switchMode(int from, int to) {
    long tlsKept = 0, plainKept = 0, plainClosed = 0, sniffing = 0;
    for (client *c = srv.clients; c; c = c->next) {
        if (!c->conn) continue;
        if (connIsTls(c->conn)) {
            tlsKept++;
            continue;
        }
        /* Our own outbound link to a primary: its transport follows
         * tls-replication (repl_replica.c), not the mode of our listener. */
        if (c->flags & CLIENT_MASTER) continue;
        /* No byte yet: it is neither, and is judged by its first byte under
         * the mode of that moment (a TLS client whose ClientHello is in
         * flight must not be taken for plaintext). */
        if (connIsSniffing(c->conn)) {
            sniffing++;
            continue;
        }
        /* Accepted in none (plain from the start) and silent so far: when
         * TLS becomes possible it sniffs like a connection accepted now. */
        if (from == TLS_MODE_NONE && to != TLS_MODE_NONE && connPlainUndecided(c->conn) &&
            !connHasWriteHandler(c->conn) && !(c->flags & (CLIENT_CLOSE_AFTER_REPLY | CLIENT_CLOSE_ASAP))) {
            connBecomeSniffing(c->conn);
            sniffing++;
            continue;
        }
        if (to != TLS_MODE_REQUIRED) {
            plainKept++;
            continue;
        }
        plainClosed++;
        /* A replica's stream is written by repl_primary.c, not through the
         * replies CLOSE_AFTER_REPLY holds back: the link closes now, and
         * the replica reconnects over TLS and continues with PSYNC. */
        if (c->flags & CLIENT_REPLICA) clientFreeAsync(c);
        else revokePlaintext(c);
    }
    appliedMode = to;
    logNotice("TLS mode changed from %s to %s: %ld TLS clients kept, %ld plaintext clients kept, "
              "%ld plaintext clients closed, %ld new connections still to send their first byte",
              tlsModeName(from), tlsModeName(to), tlsKept, plainKept, plainClosed, sniffing);
}

/* ---- entry points ---------------------------------------------------------------- */

/* Everything tlsInit and tlsApplyConfig share: validate, then commit. */
static int configure(char *err, size_t errlen) {
    ctxInfo info;
    int fresh = 0;
    SSL_CTX *ctx = NULL;
    int wantTls = srv.tlsMode != TLS_MODE_NONE || srv.tlsPort != 0;
    if (isSet(srv.tlsCertFile) || isSet(srv.tlsKeyFile) || wantTls) {
        ctx = contextForConfig(&info, &fresh, err, errlen);
        if (!ctx) return -1;
    }
    /* The tls-port moves first (all or nothing): the context is installed
     * only once nothing else can fail. */
    if (listenApplyTls(err, errlen) == -1) {
        if (fresh) SSL_CTX_free(ctx);
        return -1;
    }
    /* Nothing can fail from here on. */
    if (fresh)
        logNotice("TLS context loaded: certificate %s, serial %s, valid until %s", srv.tlsCertFile, info.serial,
                  info.notAfter);
    installContext(ctx, ctx ? &info : NULL);
    if (srv.tlsMode != appliedMode) switchMode(appliedMode, srv.tlsMode);
    return 0;
}

int tlsInit(char *err, size_t errlen) {
    appliedMode = srv.tlsMode;
    if (configure(err, errlen) == -1) return -1;
    if (srv.tlsMode != TLS_MODE_NONE) logNotice("TLS mode %s on port %d", tlsModeName(srv.tlsMode), srv.port);
    return 0;
}

int tlsApplyConfig(char *err, size_t errlen) { return configure(err, errlen); }

void tlsCron(void) {
    if (!srv.tlsAutoReload || !current) return;
    fileStamp now[3];
    stampFile(srv.tlsCertFile, &now[0]);
    stampFile(srv.tlsKeyFile, &now[1]);
    stampFile(srv.tlsCaCertFile, &now[2]);
    if (stampEqual(&now[0], &currentInfo.cert) && stampEqual(&now[1], &currentInfo.key) &&
        stampEqual(&now[2], &currentInfo.ca))
        return;
    /* Already tried these very files and failed: wait for the next change. */
    if (stampEqual(&now[0], &failedStamps[0]) && stampEqual(&now[1], &failedStamps[1]) &&
        stampEqual(&now[2], &failedStamps[2]))
        return;
    char err[1024];
    ctxInfo info;
    SSL_CTX *ctx = buildContext(&info, err, sizeof(err));
    if (!ctx) {
        memcpy(failedStamps, now, sizeof(now));
        logWarning("tls-auto-reload: the changed TLS files were not loaded, the previous certificate keeps "
                   "serving: %s", err);
        return;
    }
    installContext(ctx, &info);
    logNotice("tls-auto-reload: TLS files changed, new certificate serial %s, valid until %s", info.serial,
              info.notAfter);
}

void tlsResetStats(void) { memset(&tlsStat, 0, sizeof(tlsStat)); }

void tlsInfo(textBuf *b) {
    long tcp = 0, tls = 0;
    for (client *c = srv.clients; c; c = c->next) {
        if (!c->conn || connIsSniffing(c->conn)) continue;
        if (!connIsTls(c->conn)) tcp++;
        else if (!connIsHandshaking(c->conn)) tls++;
    }
    textAppend(b, "ssl_enabled:%s\r\n", srv.tlsMode != TLS_MODE_NONE || srv.tlsPort ? "yes" : "no");
    if (current) {
        textAppend(b, "ssl_current_certificate_not_before_date:%s\r\n", currentInfo.notBefore);
        textAppend(b, "ssl_current_certificate_not_after_date:%s\r\n", currentInfo.notAfter);
        textAppend(b, "ssl_current_certificate_serial:%s\r\n", currentInfo.serial);
    }
    textAppend(b, "tls_mode_connected_tcp_clients:%ld\r\n", tcp);
    textAppend(b, "tls_mode_connected_tls_clients:%ld\r\n", tls);
    textAppend(b, "tls_mode:%s\r\n", tlsModeName(srv.tlsMode));
    textAppend(b, "tls_port:%d\r\n", srv.tlsPort);
    time_t now = time(NULL);
    if (current) {
        textAppend(b, "tls_server_cert_expires_in_seconds:%lld\r\n", (long long)(currentInfo.certNotAfter - now));
        if (currentInfo.caEarliestNotAfter)
            textAppend(b, "tls_ca_cert_expires_in_seconds:%lld\r\n",
                       (long long)(currentInfo.caEarliestNotAfter - now));
    }
    textAppend(b,
               "tls_handshakes_ok:%lld\r\ntls_handshakes_failed:%lld\r\ntls_handshakes_resumed:%lld\r\n"
               "tls_handshakes_timed_out:%lld\r\ntls_handshakes_abandoned:%lld\r\n"
               "tls_plaintext_rejected:%lld\r\ntls_hello_rejected:%lld\r\n",
               tlsStat.handshakesOk, tlsStat.handshakesFailed, tlsStat.handshakesResumed, tlsStat.handshakesTimedOut,
               tlsStat.handshakesAbandoned, tlsStat.plaintextRejected, tlsStat.helloRejected);
}

/* ---- outbound links ------------------------------------------------------ */

static const char *setOrNull(const char *v) { return v && v[0] ? v : NULL; }

connOutTls *tlsOutboundContext(const char *host, const char *addr, char *err, size_t errlen) {
    connOutTlsOptions o = {0};
    o.caFile = setOrNull(srv.tlsCaCertFile);
    o.caDir = setOrNull(srv.tlsCaCertDir);
    /* Redis 7: the client certificate, else the server's. */
    int own = setOrNull(srv.tlsClientCertFile) != NULL;
    o.certFile = setOrNull(own ? srv.tlsClientCertFile : srv.tlsCertFile);
    o.keyFile = setOrNull(own ? srv.tlsClientKeyFile : srv.tlsKeyFile);
    o.keyPass = setOrNull(own ? srv.tlsClientKeyFilePass : srv.tlsKeyFilePass);
    if (!o.certFile || !o.keyFile) o.certFile = o.keyFile = o.keyPass = NULL;
    o.sni = strcmp(host, addr) ? host : NULL; /* a name (localhost): SNI and name check */
    o.protocols = setOrNull(srv.tlsProtocols);
    return connOutTlsCreate(&o, err, errlen);
}
