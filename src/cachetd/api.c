/* api.c - HTTP requests to actions (api.h). Owns the MHD daemon and each
 * request's body buffer. Must never hold cd.lock longer than one action,
 * nor accept a body over CD_MAX_BODY. */
#include "api.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <microhttpd.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "ca.h"
#include "cachetd.h"
#include "group.h"
#include "log.h"
#include "mem.h"
#include "query.h"
#include "sigv4.h"
#include "util.h"

#define CD_MAX_BODY (1024 * 1024)

static struct MHD_Daemon *daemonHandle;
static void apiCertRefreshLocked(void);

typedef struct request {
    textBuf body;
    int tooBig;
} request;

static const char *lookupHeader(void *ctx, const char *name) {
    return MHD_lookup_connection_value((struct MHD_Connection *)ctx, MHD_HEADER_KIND, name);
}

static enum MHD_Result collectArg(void *cls, enum MHD_ValueKind kind, const char *key, const char *value) {
    (void)kind;
    textBuf *q = cls;
    if (q->len) textAppend(q, "&");
    cdUriEncode(q, key, strlen(key), 0);
    textAppend(q, "=");
    if (value) cdUriEncode(q, value, strlen(value), 0);
    return MHD_YES;
}

static enum MHD_Result sendReply(struct MHD_Connection *c, int status, const char *ctype, char *body) {
    struct MHD_Response *r = MHD_create_response_from_buffer(strlen(body), body, MHD_RESPMEM_MUST_COPY);
    MHD_add_response_header(r, "Content-Type", ctype);
    enum MHD_Result ret = MHD_queue_response(c, (unsigned)status, r);
    MHD_destroy_response(r);
    return ret;
}

static void requestId(char *out) {
    char hex[33];
    randomHex(hex, 32);
    snprintf(out, 40, "%.8s-%.4s-%.4s-%.4s-%.12s", hex, hex + 8, hex + 12, hex + 16, hex + 20);
}

static enum MHD_Result handle(void *cls, struct MHD_Connection *conn, const char *url, const char *method,
                              const char *version, const char *upload, size_t *uploadSize, void **state) {
    (void)cls;
    (void)version;
    memSetHelperThread(); /* MHD's thread: its bytes go to mem.c's atomic counter */
    request *rq = *state;
    if (!rq) {
        rq = memCalloc(sizeof(*rq));
        textAppend(&rq->body, "%s", "");
        *state = rq;
        return MHD_YES;
    }
    if (*uploadSize) {
        if (rq->body.len + *uploadSize > CD_MAX_BODY)
            rq->tooBig = 1;
        else
            textAppend(&rq->body, "%.*s", (int)*uploadSize, upload);
        *uploadSize = 0;
        return MHD_YES;
    }
    char rid[40];
    requestId(rid);
    if (!strcmp(method, "GET") && !strcmp(url, "/ca.pem")) {
        pthread_mutex_lock(&cd.lock);
        char *pem = cdCaBundle();
        pthread_mutex_unlock(&cd.lock);
        enum MHD_Result r = sendReply(conn, 200, "application/x-pem-file", pem);
        memFree(pem);
        return r;
    }
    char *xml;
    int status;
    if (rq->tooBig) {
        xml = cdXmlError("RequestEntityTooLarge", "The request body is larger than 1 MiB.", rid);
        enum MHD_Result r = sendReply(conn, 413, "text/xml", xml);
        memFree(xml);
        return r;
    }
    if (strcmp(method, "POST") && strcmp(method, "GET")) {
        xml = cdXmlError("InvalidAction", "Only GET and POST are supported.", rid);
        enum MHD_Result r = sendReply(conn, 405, "text/xml", xml);
        memFree(xml);
        return r;
    }
    textBuf query = {0};
    textAppend(&query, "%s", "");
    MHD_get_connection_values(conn, MHD_GET_ARGUMENT_KIND, collectArg, &query);
    cdSigReq sr = {.method = method, .path = url, .query = query.p, .body = rq->body.p, .bodyLen = rq->body.len,
                   .header = lookupHeader, .ctx = conn, .now = (long long)time(NULL)};
    char code[CD_SIG_CODE_LEN], msg[CD_SIG_MSG_LEN];
    cdParams params = {0};
    char err[128];
    if (cdSigV4Verify(&sr, cd.accessKey, cd.secret, cd.anySignature, code, msg)) {
        status = 403;
        xml = cdXmlError(code, msg, rid);
    } else if (cdFormDecode(query.p, query.len, &params, err, sizeof(err)) ||
               cdFormDecode(rq->body.p, rq->body.len, &params, err, sizeof(err))) {
        status = 400;
        xml = cdXmlError("MalformedQueryString", err, rid);
    } else {
        cdReply out = {0};
        pthread_mutex_lock(&cd.lock);
        cdDispatch(&params, rid, &out);
        apiCertRefreshLocked(); /* a finished rotation: the API leaves the old CA with it */
        pthread_mutex_unlock(&cd.lock);
        status = out.status;
        xml = out.body;
    }
    cdParamsFree(&params);
    memFree(query.p);
    enum MHD_Result r = sendReply(conn, status, "text/xml", xml);
    memFree(xml);
    return r;
}

static void completed(void *cls, struct MHD_Connection *c, void **state, enum MHD_RequestTerminationCode t) {
    (void)cls;
    (void)c;
    (void)t;
    memSetHelperThread();
    request *rq = *state;
    if (!rq) return;
    memFree(rq->body.p);
    memFree(rq);
    *state = NULL;
}

/* HTTPS (--https): MHD's own TLS (GnuTLS inside Debian's libmicrohttpd)
 * with a certificate of cachetd's CA in DIR/api.crt, api.key. A new
 * certificate (renewal, or the CA a finished rotation left) means a new
 * daemon on the same listening socket (a dup of it, so the two daemons
 * never share a descriptor): the new daemon is started first, and only once
 * it runs is the old one quiesced (accepts nothing more) and stopped after
 * its connections' idle timeout, so no request in flight is cut. If the new
 * one cannot start (descriptors or threads exhausted, a certificate GnuTLS
 * refuses), the old one keeps serving with the certificate that worked, and
 * the start is retried every RETRY_S with the same new certificate: the
 * API is never left without a daemon. During a rotation the API keeps its
 * certificate of the old CA, which both bundles clients may hold accept;
 * the finish switches it in the same request that drops the old CA from
 * ca.pem. The daemons and their PEM are changed under cd.lock only.
 *
 * States of the API certificate (apiCertRefreshLocked):
 *   serving   tlsCert in use, no pendCert
 *   pending   a new certificate issued (pendCert) whose daemon did not
 *             start: tlsCert still in use, the start retried at retryAt
 * serving -> pending   tlsCert stale and the new daemon fails to start
 * serving, pending -> serving   the new daemon runs: it and its PEM become
 *                      the current ones, the old daemon is retired
 * A pending certificate that goes stale itself is dropped and issued again
 * at the next attempt. */
#define CONN_TIMEOUT_S 60
#define MAX_RETIRED 8
#define RETRY_S 2

typedef struct apiDaemon {
    struct MHD_Daemon *d;
    char *cert, *key; /* PEM, alive as long as the daemon */
    MHD_socket fd;    /* its listening descriptor, returned by the quiesce; ours to close after the stop */
    long long since;  /* retired at (Unix seconds) */
} apiDaemon;

static struct sockaddr_in listenAddr;
static char listenHost[64];
static apiDaemon retired[MAX_RETIRED];
static char *tlsCert, *tlsKey; /* the current daemon's */
static cdCertInfo apiCert;
static char *pendCert, *pendKey; /* issued, its daemon not started yet */
static cdCertInfo pendInfo;
static long long retryAt;

static char *readFile(const char *path) {
    FILE *f = fopen(path, "r");
    if (!f) return NULL;
    textBuf b = {0};
    textAppend(&b, "%s", "");
    char buf[4096];
    size_t n;
    while ((n = fread(buf, 1, sizeof(buf), f)) > 0) textAppend(&b, "%.*s", (int)n, buf);
    fclose(f);
    return b.p;
}

/* Does a certificate of the API need replacing: less than a third of its
 * validity left, or of a CA the bundle no longer holds? */
static int apiCertStale(const cdCertInfo *ci) {
    return !ci->gen || (ci->gen != cdCaActive() && ci->gen != cdCaOld()) ||
           cdCaDue(ci, ci->gen, (long long)time(NULL)); /* the time rule alone */
}

/* A certificate for the API into *cert, *key (PEM, memAlloc'd) and *info:
 * with reuse (first start), the one on disk if it is of a CA of the bundle
 * with time left; else a new one of the active CA, written to disk. */
static int apiCertMake(int reuse, char **cert, char **key, cdCertInfo *info, char *err, size_t errlen) {
    char cp[4200], kp[4200];
    snprintf(cp, sizeof(cp), "%s/api.crt", cd.dataDir);
    snprintf(kp, sizeof(kp), "%s/api.key", cd.dataDir);
    if ((!reuse || cdCaCheck(cp, kp, info)) &&
        cdCaIssue(cdCaActive(), cp, kp, listenHost, cd.certSeconds, info, err, errlen))
        return -1;
    char *c = readFile(cp), *k = readFile(kp);
    if (!c || !k) {
        memFree(c);
        memFree(k);
        snprintf(err, errlen, "can't read %s", cp);
        return -1;
    }
    *cert = c;
    *key = k;
    return 0;
}

static struct MHD_Daemon *startDaemon(MHD_socket fd, const char *cert, const char *key) {
    unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL | MHD_USE_ERROR_LOG | MHD_USE_ITC;
    if (cd.https) flags |= MHD_USE_TLS;
    if (!cd.https) cert = key = NULL;
    uint16_t port = ntohs(listenAddr.sin_port);
    if (fd == MHD_INVALID_SOCKET)
        return MHD_start_daemon(flags, port, NULL, NULL, handle, NULL, MHD_OPTION_SOCK_ADDR, &listenAddr,
                                MHD_OPTION_NOTIFY_COMPLETED, completed, NULL, MHD_OPTION_CONNECTION_TIMEOUT,
                                (unsigned)CONN_TIMEOUT_S, MHD_OPTION_HTTPS_MEM_CERT, cert, MHD_OPTION_HTTPS_MEM_KEY,
                                key, MHD_OPTION_END);
    return MHD_start_daemon(flags, port, NULL, NULL, handle, NULL, MHD_OPTION_LISTEN_SOCKET, fd,
                            MHD_OPTION_NOTIFY_COMPLETED, completed, NULL, MHD_OPTION_CONNECTION_TIMEOUT,
                            (unsigned)CONN_TIMEOUT_S, MHD_OPTION_HTTPS_MEM_CERT, cert, MHD_OPTION_HTTPS_MEM_KEY, key,
                            MHD_OPTION_END);
}

/* A daemon for pendCert on a dup of the current daemon's listening socket,
 * or NULL. MHD closes the descriptor it was given on some failures (a
 * certificate GnuTLS refuses) and not on others (no descriptor for its
 * epoll or ITC): dup is closed here only if it still is this socket, so a
 * number another thread got meanwhile is never closed. */
static struct MHD_Daemon *startNext(void) {
    const union MHD_DaemonInfo *li = MHD_get_daemon_info(daemonHandle, MHD_DAEMON_INFO_LISTEN_FD);
    struct stat want, st;
    if (!li || fstat(li->listen_fd, &want)) return NULL;
    MHD_socket dup = fcntl(li->listen_fd, F_DUPFD_CLOEXEC, 0);
    if (dup < 0) return NULL;
    struct MHD_Daemon *next = startDaemon(dup, pendCert, pendKey);
    int e = errno; /* MHD's cause, for the log */
    if (!next && fstat(dup, &st) == 0 && st.st_ino == want.st_ino && st.st_dev == want.st_dev) close(dup);
    errno = e;
    return next;
}

/* With cd.lock held, on the main thread or an HTTP handler (MHD allows
 * quiescing and starting daemons from a handler; stopping one is left to
 * the main thread). Replaces the API's certificate when it is stale (the
 * states above). */
static void apiCertRefreshLocked(void) {
    if (!cd.https || !daemonHandle) return;
    long long now = (long long)time(NULL);
    if (pendCert && apiCertStale(&pendInfo)) { /* waited so long it is stale itself */
        memFree(pendCert);
        memFree(pendKey);
        pendCert = pendKey = NULL;
    }
    if (!pendCert && !apiCertStale(&apiCert)) return;
    if (now < retryAt) return;
    int slot = 0;
    while (slot < MAX_RETIRED && retired[slot].d) slot++;
    if (slot == MAX_RETIRED) return; /* the next tick, once one is stopped */
    char err[512];
    if (!pendCert && apiCertMake(0, &pendCert, &pendKey, &pendInfo, err, sizeof(err))) {
        logWarning("HTTPS certificate: %s; the API keeps its certificate of CA %lld, retried in %d s", err, apiCert.gen,
                   RETRY_S);
        retryAt = now + RETRY_S;
        return;
    }
    struct MHD_Daemon *next = startNext();
    if (!next) {
        logWarning("HTTPS certificate: can't start the API with the new certificate (%s); it keeps serving with its "
                   "certificate of CA %lld, retried in %d s",
                   strerror(errno), apiCert.gen, RETRY_S);
        retryAt = now + RETRY_S;
        return;
    }
    /* Only now the old daemon stops accepting; it cannot fail here (an ITC
     * daemon that listens), and if it did both would serve until the old
     * one's stop: still never none. */
    MHD_socket fd = MHD_quiesce_daemon(daemonHandle);
    retired[slot] = (apiDaemon){.d = daemonHandle, .cert = tlsCert, .key = tlsKey, .fd = fd, .since = now};
    daemonHandle = next;
    tlsCert = pendCert;
    tlsKey = pendKey;
    apiCert = pendInfo;
    pendCert = pendKey = NULL;
    retryAt = 0;
    logNotice("HTTPS certificate of CA %lld loaded", apiCert.gen);
}

int cdApiStart(const char *host, int port, char *err, size_t errlen) {
    listenAddr = (struct sockaddr_in){.sin_family = AF_INET, .sin_port = htons((unsigned short)port)};
    if (inet_pton(AF_INET, host, &listenAddr.sin_addr) != 1) {
        snprintf(err, errlen, "--listen: %s is not an IPv4 address", host);
        return -1;
    }
    snprintf(listenHost, sizeof(listenHost), "%s", host);
    if (cd.https) {
        if (MHD_is_feature_supported(MHD_FEATURE_TLS) != MHD_YES) {
            snprintf(err, errlen, "--https: this libmicrohttpd was built without TLS");
            return -1;
        }
        pthread_mutex_lock(&cd.lock);
        int r = apiCertMake(1, &tlsCert, &tlsKey, &apiCert, err, errlen);
        pthread_mutex_unlock(&cd.lock);
        if (r) return -1;
    }
    daemonHandle = startDaemon(MHD_INVALID_SOCKET, tlsCert, tlsKey);
    if (!daemonHandle) {
        snprintf(err, errlen, "can't listen on %s:%d", host, port);
        return -1;
    }
    return 0;
}

static void stopRetired(apiDaemon *a) {
    MHD_stop_daemon(a->d);
    if (a->fd != MHD_INVALID_SOCKET) close(a->fd); /* after the stop: MHD may use it until then */
    memFree(a->cert);
    memFree(a->key);
    memset(a, 0, sizeof(*a));
}

void cdApiTick(void) {
    if (!cd.https || !daemonHandle) return;
    apiDaemon done[MAX_RETIRED];
    int ndone = 0;
    long long now = (long long)time(NULL);
    pthread_mutex_lock(&cd.lock);
    for (int i = 0; i < MAX_RETIRED; i++)
        if (retired[i].d && now - retired[i].since > CONN_TIMEOUT_S + 5) {
            done[ndone++] = retired[i];
            memset(&retired[i], 0, sizeof(retired[i]));
        }
    apiCertRefreshLocked();
    pthread_mutex_unlock(&cd.lock);
    /* Outside the lock: stopping waits for the daemon's thread, which may
     * be waiting for cd.lock in a handler. */
    for (int i = 0; i < ndone; i++) stopRetired(&done[i]);
}

void cdApiStop(void) {
    for (int i = 0; i < MAX_RETIRED; i++)
        if (retired[i].d) stopRetired(&retired[i]);
    if (daemonHandle) MHD_stop_daemon(daemonHandle);
    daemonHandle = NULL;
    memFree(tlsCert);
    memFree(tlsKey);
    memFree(pendCert);
    memFree(pendKey);
    tlsCert = tlsKey = pendCert = pendKey = NULL;
}
