/* api.c - HTTP requests to actions (api.h). Owns the MHD daemon and each
 * request's body buffer. Must never hold cd.lock longer than one action,
 * nor accept a body over CD_MAX_BODY. */
#include "api.h"

#include <arpa/inet.h>
#include <microhttpd.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "ca.h"
#include "cachetd.h"
#include "group.h"
#include "mem.h"
#include "query.h"
#include "sigv4.h"
#include "util.h"

#define CD_MAX_BODY (1024 * 1024)

static struct MHD_Daemon *daemonHandle;

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

int cdApiStart(const char *host, int port, char *err, size_t errlen) {
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((unsigned short)port)};
    if (inet_pton(AF_INET, host, &a.sin_addr) != 1) {
        snprintf(err, errlen, "--listen: %s is not an IPv4 address", host);
        return -1;
    }
    daemonHandle = MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL | MHD_USE_ERROR_LOG,
                                    (uint16_t)port, NULL, NULL, handle, NULL, MHD_OPTION_SOCK_ADDR, &a,
                                    MHD_OPTION_NOTIFY_COMPLETED, completed, NULL, MHD_OPTION_CONNECTION_TIMEOUT,
                                    (unsigned)60, MHD_OPTION_END);
    if (!daemonHandle) {
        snprintf(err, errlen, "can't listen on %s:%d", host, port);
        return -1;
    }
    return 0;
}

void cdApiStop(void) {
    if (daemonHandle) MHD_stop_daemon(daemonHandle);
    daemonHandle = NULL;
}
