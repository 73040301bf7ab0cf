/* cli.c - `cachetd rotate-ca [--finish | --status] [--data-dir DIR]`
 * (cli.h): one signed POST to the running daemon, its result printed as
 * "Field value" lines, an error as "cachetd: Code: Message" (exit 1).
 * Owns one blocking connection for one request; runs in its own process,
 * never inside the daemon. */
#include "cli.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include "mem.h"
#include "sigv4.h"
#include "util.h"

int cdCliWriteEndpoint(const char *dir, const char *url) {
    char path[4200], tmp[4300];
    snprintf(path, sizeof(path), "%s/endpoint", dir);
    snprintf(tmp, sizeof(tmp), "%s.tmp", path);
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0) return -1;
    int rc = fdWriteAll(fd, url, strlen(url)) || fdWriteAll(fd, "\n", 1);
    close(fd);
    return rc || rename(tmp, path) ? -1 : 0;
}

typedef struct sigHeaders {
    const char *host, *date;
} sigHeaders;

static const char *lookup(void *ctx, const char *name) {
    const sigHeaders *h = ctx;
    return !strcmp(name, "host") ? h->host : !strcmp(name, "x-amz-date") ? h->date : NULL;
}

/* The whole reply of one request (Connection: close) into *out. */
static int roundTrip(const char *ip, int port, int https, const char *caFile, const char *req, textBuf *out,
                     char *err, size_t errlen) {
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((unsigned short)port)};
    struct timeval tv = {10, 0};
    SSL_CTX *ctx = NULL;
    SSL *ssl = NULL;
    int rc = -1;
    if (fd < 0 || inet_pton(AF_INET, ip, &a.sin_addr) != 1) {
        snprintf(err, errlen, "bad address %s", ip);
        goto done;
    }
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
    if (connect(fd, (struct sockaddr *)&a, sizeof(a))) {
        snprintf(err, errlen, "can't connect to %s:%d: %s (is cachetd running?)", ip, port, strerror(errno));
        goto done;
    }
    if (https) {
        ctx = SSL_CTX_new(TLS_client_method());
        if (!ctx || SSL_CTX_load_verify_locations(ctx, caFile, NULL) != 1) {
            snprintf(err, errlen, "can't load %.300s", caFile);
            goto done;
        }
        SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, NULL);
        ssl = SSL_new(ctx);
        SSL_set_fd(ssl, fd);
        SSL_set1_host(ssl, ip);
        if (SSL_connect(ssl) != 1) {
            snprintf(err, errlen, "TLS with %s:%d failed (certificate not of %.300s?)", ip, port, caFile);
            goto done;
        }
    }
    size_t len = strlen(req);
    for (size_t off = 0; off < len;) {
        ssize_t w = ssl ? SSL_write(ssl, req + off, (int)(len - off)) : write(fd, req + off, len - off);
        if (w <= 0) {
            snprintf(err, errlen, "can't send the request");
            goto done;
        }
        off += (size_t)w;
    }
    char buf[4096];
    for (;;) {
        ssize_t r = ssl ? SSL_read(ssl, buf, sizeof(buf)) : read(fd, buf, sizeof(buf));
        if (r <= 0) break;
        textAppendBytes(out, buf, (size_t)r); /* binary-safe: a NUL in a reply must not cut it */
    }
    rc = 0;
done:
    ERR_clear_error();
    if (ssl) SSL_free(ssl);
    SSL_CTX_free(ctx);
    if (fd >= 0) close(fd);
    return rc;
}

/* The text of <tag>...</tag> after p into out; pointer past it, or NULL. */
static const char *nextElem(const char *p, const char *end, char *tag, size_t taglen, char *val, size_t vallen) {
    const char *lt = strchr(p, '<');
    if (!lt || lt >= end || lt[1] == '/') return NULL;
    const char *gt = strchr(lt, '>'), *close = gt ? strchr(gt, '<') : NULL;
    if (!gt || !close || close >= end) return NULL;
    snprintf(tag, taglen, "%.*s", (int)(gt - lt - 1), lt + 1);
    snprintf(val, vallen, "%.*s", (int)(close - gt - 1), gt + 1);
    const char *after = strchr(close, '>');
    return after ? after + 1 : NULL;
}

/* Prints the flat elements between <open> and </close> as "Tag value". */
static void printFields(const char *xml, const char *open, const char *closeTag) {
    const char *p = strstr(xml, open), *end = strstr(xml, closeTag);
    if (!p || !end) return;
    p += strlen(open);
    char tag[128], val[1024];
    while ((p = nextElem(p, end, tag, sizeof(tag), val, sizeof(val))) != NULL) printf("%s %s\n", tag, val);
}

static int readCredentials(const char *dir, char *akid, size_t al, char *secret, size_t sl) {
    char path[4200], line[512];
    snprintf(path, sizeof(path), "%s/credentials", dir);
    FILE *f = fopen(path, "r");
    if (!f) return -1;
    akid[0] = secret[0] = 0;
    while (fgets(line, sizeof(line), f)) {
        char *eq = strchr(line, '=');
        if (!eq) continue;
        char *v = eq + 1;
        while (*v == ' ') v++;
        v[strcspn(v, "\r\n")] = 0;
        if (!strncmp(line, "aws_access_key_id", 17)) snprintf(akid, al, "%s", v);
        else if (!strncmp(line, "aws_secret_access_key", 21)) snprintf(secret, sl, "%s", v);
    }
    fclose(f);
    return akid[0] && secret[0] ? 0 : -1;
}

int cdCliRotateCa(int argc, char **argv) {
    const char *dir = "./cachetd-data", *action = "RotateCertificateAuthority", *region = "us-east-1";
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--data-dir") && i + 1 < argc) dir = argv[++i];
        else if (!strcmp(argv[i], "--region") && i + 1 < argc) region = argv[++i];
        else if (!strcmp(argv[i], "--finish")) action = "CompleteCertificateAuthorityRotation";
        else if (!strcmp(argv[i], "--status")) action = "DescribeCertificateAuthority";
        else {
            fprintf(stderr, "cachetd: unknown or incomplete option %s\n"
                            "Usage: cachetd rotate-ca [--finish | --status] [--data-dir DIR] [--region REGION]\n",
                    argv[i]);
            return 2;
        }
    }
    char path[4200], url[512], akid[128], secret[128], caFile[4200], err[512];
    snprintf(path, sizeof(path), "%s/endpoint", dir);
    snprintf(caFile, sizeof(caFile), "%s/ca.pem", dir);
    FILE *f = fopen(path, "r");
    int got = f && fgets(url, sizeof(url), f);
    if (f) fclose(f);
    char ip[64];
    int https = got && !strncmp(url, "https://", 8);
    long long port = 0;
    const char *hostPart = got ? url + (https ? 8 : 7) : "", *colon = strrchr(hostPart, ':');
    url[strcspn(url, "\r\n")] = 0;
    if (!got || !colon || colon - hostPart >= (long)sizeof(ip) || !string2ll(colon + 1, strlen(colon + 1), &port) ||
        port <= 0 || port > 65535) {
        fprintf(stderr, "cachetd: can't read the API's address from %s (is cachetd running on %s?)\n", path, dir);
        return 1;
    }
    snprintf(ip, sizeof(ip), "%.*s", (int)(colon - hostPart), hostPart);
    if (readCredentials(dir, akid, sizeof(akid), secret, sizeof(secret))) {
        fprintf(stderr, "cachetd: can't read %s/credentials\n", dir);
        return 1;
    }
    char body[128], host[96], amzDate[20], scopeDate[9], sig[65];
    snprintf(body, sizeof(body), "Action=%s&Version=2015-02-02", action);
    snprintf(host, sizeof(host), "%s:%lld", ip, port);
    time_t now = time(NULL);
    struct tm tm;
    gmtime_r(&now, &tm);
    strftime(amzDate, sizeof(amzDate), "%Y%m%dT%H%M%SZ", &tm);
    strftime(scopeDate, sizeof(scopeDate), "%Y%m%d", &tm);
    sigHeaders h = {host, amzDate};
    cdSigReq sr = {.method = "POST", .path = "/", .query = "", .body = body, .bodyLen = strlen(body),
                   .header = lookup, .ctx = &h};
    cdSigV4Compute(&sr, secret, amzDate, scopeDate, region, "elasticache", "host;x-amz-date", sig);
    textBuf req = {0}, reply = {0};
    textAppend(&req,
               "POST / HTTP/1.1\r\nHost: %s\r\nX-Amz-Date: %s\r\nContent-Type: application/x-www-form-urlencoded\r\n"
               "Authorization: AWS4-HMAC-SHA256 Credential=%s/%s/%s/elasticache/aws4_request, "
               "SignedHeaders=host;x-amz-date, Signature=%s\r\nContent-Length: %zu\r\nConnection: close\r\n\r\n%s",
               host, amzDate, akid, scopeDate, region, sig, strlen(body), body);
    textAppend(&reply, "%s", "");
    int rc = roundTrip(ip, (int)port, https, caFile, req.p, &reply, err, sizeof(err));
    memFree(req.p);
    if (rc) {
        fprintf(stderr, "cachetd: %s\n", err);
        memFree(reply.p);
        return 1;
    }
    char open[128], close[128];
    long long status = 0; /* "HTTP/1.1 200 OK" */
    if (reply.len < 12 || strncmp(reply.p, "HTTP/1.", 7) || !string2ll(reply.p + 9, 3, &status)) status = 0;
    if (status == 200) {
        snprintf(open, sizeof(open), "<%sResult>", action);
        snprintf(close, sizeof(close), "</%sResult>", action);
        printFields(reply.p, open, close);
    } else {
        char tag[128], code[1024] = "", msg[1024] = "";
        const char *p = strstr(reply.p, "<Error>"), *end = strstr(reply.p, "</Error>");
        char val[1024];
        if (p && end) {
            p += 7;
            while ((p = nextElem(p, end, tag, sizeof(tag), val, sizeof(val))) != NULL) {
                if (!strcmp(tag, "Code")) snprintf(code, sizeof(code), "%s", val);
                if (!strcmp(tag, "Message")) snprintf(msg, sizeof(msg), "%s", val);
            }
        }
        fprintf(stderr, "cachetd: %s: %s\n", code[0] ? code : "HTTP error", msg[0] ? msg : "(no message)");
    }
    memFree(reply.p);
    return status == 200 ? 0 : 1;
}
