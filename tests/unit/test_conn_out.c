/* test_conn_out.c - outbound connections (conn_out.c) on a real event loop:
 * to cachet-server (build/cachet-server, plaintext and TLS, tls-mode
 * preferred and required), to `openssl s_server` (verification, wrong CA,
 * wrong host name, client certificates), to a closed port and to listeners
 * that never answer.
 *
 * Owns: the processes it starts (killed by PID at the end, even after a
 * failed check) and a temporary directory of certificates made with
 * scripts/gen-certs.sh. Runs from the repository root (make test-unit does).
 * Must never touch anything outside 127.0.0.1 / ::1, and never wait without
 * a deadline. */
#include "server.h"
#include "client.h"
#include "conn_out.h"
#include "unit.h"
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>


static elLoop *loop;
/* $CACHET_SERVER, or the server built next to this test binary:
 * BUILD/tests/test_conn_out -> BUILD/cachet-server. */
static const char *serverBin = "build/cachet-server";
static char serverBinBuf[1024];
static char tmpDir[] = "/tmp/cachet-conn-out-XXXXXX";
static pid_t children[8];
static int nchildren;

/* ---- processes and ports ------------------------------------------------------- */

static pid_t spawn(char *const argv[]) {
    pid_t pid = fork();
    if (pid == 0) {
        int devnull = open("/dev/null", O_RDWR);
        if (devnull >= 0) {
            dup2(devnull, 0);
            dup2(devnull, 1);
            dup2(devnull, 2);
        }
        execvp(argv[0], argv);
        _exit(127);
    }
    if (pid > 0 && nchildren < (int)(sizeof(children) / sizeof(children[0]))) children[nchildren++] = pid;
    return pid;
}

static void stopChildren(void) {
    for (int i = 0; i < nchildren; i++) {
        if (children[i] <= 0) continue;
        kill(children[i], SIGTERM);
        int status;
        long long deadline = elNowMs() + 5000;
        while (waitpid(children[i], &status, WNOHANG) == 0) {
            if (elNowMs() > deadline) {
                kill(children[i], SIGKILL);
                waitpid(children[i], &status, 0);
                break;
            }
            usleep(10000);
        }
        children[i] = 0;
    }
    nchildren = 0;
}

static int freePort(void) {
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t len = sizeof(sa);
    if (fd < 0 || bind(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0 || getsockname(fd, (struct sockaddr *)&sa, &len) != 0) {
        if (fd >= 0) close(fd);
        return -1;
    }
    close(fd);
    return ntohs(sa.sin_port);
}

/* Polls until something accepts TCP on port (the child is up), with a deadline. */
static int waitPort(int port, pid_t pid) {
    long long deadline = elNowMs() + 10000;
    while (elNowMs() < deadline) {
        int status;
        if (waitpid(pid, &status, WNOHANG) == pid) return 0;
        int fd = socket(AF_INET, SOCK_STREAM, 0);
        struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port),
                                 .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
        int ok = fd >= 0 && connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0;
        if (fd >= 0) close(fd);
        if (ok) return 1;
        usleep(20000);
    }
    return 0;
}

static int listener(int family, int port, int backlog) {
    int fd = socket(family, SOCK_STREAM, 0);
    if (fd < 0) return -1;
    int one = 1;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    int rc;
    if (family == AF_INET) {
        struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port),
                                 .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
        rc = bind(fd, (struct sockaddr *)&sa, sizeof(sa));
    } else {
        struct sockaddr_in6 sa = {.sin6_family = AF_INET6, .sin6_port = htons((uint16_t)port),
                                  .sin6_addr = IN6ADDR_LOOPBACK_INIT};
        rc = bind(fd, (struct sockaddr *)&sa, sizeof(sa));
    }
    if (rc != 0 || listen(fd, backlog) != 0) {
        close(fd);
        return -1;
    }
    return fd;
}

static int localPort(int fd) {
    struct sockaddr_storage ss;
    socklen_t len = sizeof(ss);
    if (getsockname(fd, (struct sockaddr *)&ss, &len) != 0) return -1;
    return ss.ss_family == AF_INET ? ntohs(((struct sockaddr_in *)&ss)->sin_port)
                                   : ntohs(((struct sockaddr_in6 *)&ss)->sin6_port);
}

static void path(char *buf, size_t len, const char *dir, const char *file) {
    snprintf(buf, len, "%s/%s/%s", tmpDir, dir, file);
}

/* ---- running the loop ------------------------------------------------------------- */

typedef struct result {
    int done;       /* the connect callback ran */
    int status;
    char err[512];
    long long ms;   /* how long the connect took */
    char buf[8192]; /* what was read */
    size_t len;
    const char *until;
    int eof, readErr, stop;
} result;

static void beforeSleep(elLoop *el) { elSetDontWait(el, connTlsBeforeSleep()); }

static long onDeadline(elLoop *el, long long id, void *data) {
    (void)id;
    *(int *)data = 1;
    elStop(el);
    return EL_TIMER_STOP;
}

/* Runs the loop until *flag is set (a handler stops the loop) or ms pass. */
static void runUntil(const int *flag, long ms) {
    int expired = 0;
    long long t = elAddTimer(loop, ms, onDeadline, &expired);
    while (!*flag && !expired) elMain(loop);
    if (!expired) elDelTimer(loop, t);
}

static void onDone(conn *c, int status, const char *err, void *privdata) {
    (void)c;
    result *r = privdata;
    r->done = 1;
    r->status = status;
    snprintf(r->err, sizeof(r->err), "%s", err ? err : "");
    if (getenv("TEST_VERBOSE")) printf("  done %d: %s\n", status, r->err);
    elStop(loop);
}

static void onDoneClose(conn *c, int status, const char *err, void *privdata) {
    onDone(c, status, err, privdata);
    connClose(c);
}

static conn *doConnect(const char *addr, int port, const connOutTls *tls, long timeoutMs, result *r) {
    memset(r, 0, sizeof(*r));
    long long start = elNowMs();
    conn *c = connOutConnect(loop, addr, port, tls, timeoutMs, onDone, r, r->err, sizeof(r->err));
    if (!c) {
        r->done = 1;
        r->status = -1;
        return NULL;
    }
    CHECK_EQ_INT(c->state, CONN_STATE_CONNECTING);
    runUntil(&r->done, timeoutMs + 5000);
    r->ms = elNowMs() - start;
    CHECKF(r->done, "connect to %s:%d never reported", addr, port);
    return c;
}

static void onRead(conn *c) {
    result *r = c->data;
    ssize_t n = connRead(c, r->buf + r->len, sizeof(r->buf) - 1 - r->len);
    if (n > 0) {
        r->len += (size_t)n;
        r->buf[r->len] = '\0';
        if (strstr(r->buf, r->until) || r->len == sizeof(r->buf) - 1) r->stop = 1;
    } else if (n == 0) {
        r->eof = r->stop = 1;
    } else if (errno != EAGAIN) {
        r->readErr = errno;
        r->stop = 1;
    }
    if (r->stop) elStop(loop);
}

/* Sends req on an open conn and reads until `until` shows up, EOF, an error
 * or 5 s. Returns 1 when `until` was read. */
static int exchange(conn *c, result *r, const char *req, const char *until) {
    r->len = 0;
    r->buf[0] = '\0';
    r->until = until;
    r->eof = r->readErr = r->stop = 0;
    size_t off = 0, len = strlen(req);
    long long deadline = elNowMs() + 5000;
    while (off < len && elNowMs() < deadline) {
        struct iovec iov = {(void *)(req + off), len - off};
        ssize_t n = connWritev(c, &iov, 1);
        if (n > 0) off += (size_t)n;
        else if (errno != EAGAIN) break;
        else elPollFiles(loop);
    }
    if (off < len) return 0;
    connSetReadHandler(c, onRead);
    runUntil(&r->stop, 5000);
    return strstr(r->buf, until) != NULL;
}

static connOutTls *makeTls(const char *caDir, const char *sni, int withClientCert, const char *protocols) {
    char ca[512], crt[512], key[512], err[256] = "";
    path(ca, sizeof(ca), caDir, "ca.crt");
    path(crt, sizeof(crt), "certs", "client.crt");
    path(key, sizeof(key), "certs", "client.key");
    connOutTlsOptions o = {.caFile = ca, .sni = sni, .protocols = protocols};
    if (withClientCert) o.certFile = crt, o.keyFile = key;
    connOutTls *t = connOutTlsCreate(&o, err, sizeof(err));
    CHECKF(t != NULL, "connOutTlsCreate: %s", err);
    return t;
}

/* ---- the tests -------------------------------------------------------------------- */

static void testOptions(void) {
    UNIT_SECTION("options");
    char err[256] = "";
    connOutTlsOptions bad = {.protocols = "TLSv1.1"};
    CHECK(connOutTlsCreate(&bad, err, sizeof(err)) == NULL);
    CHECKF(strstr(err, "Invalid TLS protocol TLSv1.1") != NULL, "%s", err);
    connOutTlsOptions missing = {.caFile = "/nonexistent/ca.crt"};
    CHECK(connOutTlsCreate(&missing, err, sizeof(err)) == NULL);
    CHECKF(strstr(err, "/nonexistent/ca.crt") != NULL, "%s", err);
    connOutTlsOptions half = {.certFile = "x.crt"};
    CHECK(connOutTlsCreate(&half, err, sizeof(err)) == NULL);
    CHECKF(strstr(err, "both") != NULL, "%s", err);
    result r;
    CHECK(doConnect("localhost", 6379, NULL, 1000, &r) == NULL);
    CHECKF(strstr(r.err, "Not a numeric IPv4/IPv6 address: localhost") != NULL, "%s", r.err);
}

static void pingPong(const char *what, const char *addr, int port, const connOutTls *tls, int wantTls) {
    result r;
    conn *c = doConnect(addr, port, tls, 5000, &r);
    CHECKF(c && r.status == 0, "%s: %s", what, r.err);
    if (!c) return;
    if (r.status == 0) {
        CHECK_EQ_INT(c->state, CONN_STATE_OPEN);
        CHECK_EQ_INT(connIsTls(c), wantTls);
        CHECKF(exchange(c, &r, "PING\r\n", "+PONG\r\n"), "%s: read \"%s\"", what, r.buf);
        CHECK_EQ_STR(r.buf, "+PONG\r\n");
    }
    connClose(c);
}

static void testCachet(void) {
    UNIT_SECTION("cachet-server");
    if (access(serverBin, X_OK) != 0) {
        CHECKF(0, "%s not built (run make all first)", serverBin);
        return;
    }
    char crt[512], key[512], ca[512], dir[512], portArg[16];
    path(crt, sizeof(crt), "certs", "server.crt");
    path(key, sizeof(key), "certs", "server.key");
    path(ca, sizeof(ca), "certs", "ca.crt");
    snprintf(dir, sizeof(dir), "%s", tmpDir);
    connOutTls *byIp = makeTls("certs", NULL, 0, NULL);
    connOutTls *byName = makeTls("certs", "localhost", 0, NULL);
    connOutTls *tls12 = makeTls("certs", "localhost", 0, "TLSv1.2");
    static const char *const modes[] = {"preferred", "required"};
    for (size_t m = 0; m < 2; m++) {
        int port = freePort();
        snprintf(portArg, sizeof(portArg), "%d", port);
        char *argv[] = {(char *)serverBin, "--port", portArg, "--bind", "127.0.0.1", "--dir", dir, "--save", "",
                        "--tls-mode", (char *)modes[m], "--tls-cert-file", crt, "--tls-key-file", key,
                        "--tls-ca-cert-file", ca, NULL};
        pid_t pid = spawn(argv);
        CHECKF(waitPort(port, pid), "cachet-server (tls-mode %s) did not start on %d", modes[m], port);
        pingPong("TLS, IP check", "127.0.0.1", port, byIp, 1);
        pingPong("TLS, SNI localhost", "127.0.0.1", port, byName, 1);
        pingPong("TLSv1.2", "127.0.0.1", port, tls12, 1);
        if (m == 0) {
            pingPong("plaintext", "127.0.0.1", port, NULL, 0);
        } else {
            /* Required: the plaintext connect succeeds (TCP), the server
             * answers the first command with its refusal. */
            result r;
            conn *c = doConnect("127.0.0.1", port, NULL, 5000, &r);
            CHECKF(c && r.status == 0, "%s", r.err);
            if (c && r.status == 0) {
                exchange(c, &r, "PING\r\n", "\r\n");
                CHECKF(strstr(r.buf, "-ERR TLS is required") != NULL, "read \"%s\"", r.buf);
            }
            if (c) connClose(c);
        }
        stopChildren();
    }
    connOutTlsFree(byIp);
    connOutTlsFree(byName);
    connOutTlsFree(tls12);
}

static pid_t startSServer(int port, int requireClientCert) {
    char crt[512], key[512], ca[512], accept[64];
    path(crt, sizeof(crt), "certs", "server.crt");
    path(key, sizeof(key), "certs", "server.key");
    path(ca, sizeof(ca), "certs", "ca.crt");
    snprintf(accept, sizeof(accept), "127.0.0.1:%d", port);
    char *plain[] = {"openssl", "s_server", "-accept", accept, "-cert", crt, "-key", key, "-www", "-quiet", NULL};
    char *mutual[] = {"openssl", "s_server", "-accept", accept, "-cert", crt, "-key", key, "-www", "-quiet",
                      "-Verify", "1", "-CAfile", ca, NULL};
    pid_t pid = spawn(requireClientCert ? mutual : plain);
    CHECKF(waitPort(port, pid), "openssl s_server did not start on %d", port);
    return pid;
}

static const char httpGet[] = "GET / HTTP/1.0\r\n\r\n";

static void testSServer(void) {
    UNIT_SECTION("openssl s_server");
    int port = freePort();
    startSServer(port, 0);
    result r;

    connOutTls *good = makeTls("certs", "localhost", 0, NULL);
    conn *c = doConnect("127.0.0.1", port, good, 5000, &r);
    CHECKF(r.status == 0, "verified connect: %s", r.err);
    if (c && r.status == 0) CHECKF(exchange(c, &r, httpGet, "HTTP/1.0 200"), "read \"%.80s\"", r.buf);
    if (c) connClose(c);

    connOutTls *otherCa = makeTls("other", "localhost", 0, NULL);
    c = doConnect("127.0.0.1", port, otherCa, 5000, &r);
    CHECK_EQ_INT(r.status, -1);
    CHECKF(strstr(r.err, "certificate verify failed: unable to get local issuer certificate") != NULL, "%s", r.err);
    if (c) {
        CHECK_EQ_INT(c->state, CONN_STATE_ERROR);
        char b[8];
        CHECK_EQ_INT(connRead(c, b, sizeof(b)), -1);
        connClose(c);
    }

    connOutTls *wrongHost = makeTls("certs", "wrong.example", 0, NULL);
    c = doConnect("127.0.0.1", port, wrongHost, 5000, &r);
    CHECK_EQ_INT(r.status, -1);
    CHECKF(strstr(r.err, "host name mismatch") && strstr(r.err, "wrong.example"), "%s", r.err);
    if (c) connClose(c);

    /* The certificate names 127.0.0.1 but not 127.0.0.2 (IP SAN check). */
    connOutTls *wrongIp = makeTls("certs", "127.0.0.2", 0, NULL);
    c = doConnect("127.0.0.1", port, wrongIp, 5000, &r);
    CHECK_EQ_INT(r.status, -1);
    CHECKF(strstr(r.err, "IP address mismatch (the certificate is not for 127.0.0.2)") != NULL, "%s", r.err);
    if (c) connClose(c);

    /* The CA from a hashed directory instead of a file. */
    char hashDir[512];
    snprintf(hashDir, sizeof(hashDir), "%s/cadir", tmpDir);
    char cmd0[2048];
    snprintf(cmd0, sizeof(cmd0), "mkdir -p '%s' && cp '%s/certs/ca.crt' '%s/' && openssl rehash '%s' >/dev/null 2>&1",
             hashDir, tmpDir, hashDir, hashDir);
    CHECK(system(cmd0) == 0);
    char err[256];
    connOutTlsOptions byDir = {.caDir = hashDir, .sni = "localhost"};
    connOutTls *dirTls = connOutTlsCreate(&byDir, err, sizeof(err));
    CHECKF(dirTls != NULL, "%s", err);
    if (dirTls) {
        c = doConnect("127.0.0.1", port, dirTls, 5000, &r);
        CHECKF(r.status == 0, "CA directory: %s", r.err);
        if (c) connClose(c);
        connOutTlsFree(dirTls);
    }

    /* The same server, verification off: any certificate is accepted. */
    connOutTlsOptions any = {.noVerify = 1, .sni = "wrong.example"};
    connOutTls *noVerify = connOutTlsCreate(&any, err, sizeof(err));
    CHECKF(noVerify != NULL, "%s", err);
    if (noVerify) {
        c = doConnect("127.0.0.1", port, noVerify, 5000, &r);
        CHECKF(r.status == 0, "unverified connect: %s", r.err);
        if (c) connClose(c);
    }
    stopChildren();

    /* s_server -Verify 1: a client certificate is required. */
    port = freePort();
    startSServer(port, 1);
    connOutTls *withCert = makeTls("certs", "localhost", 1, NULL);
    c = doConnect("127.0.0.1", port, withCert, 5000, &r);
    CHECKF(r.status == 0, "connect with a client certificate: %s", r.err);
    if (c && r.status == 0) CHECKF(exchange(c, &r, httpGet, "HTTP/1.0 200"), "read \"%.80s\"", r.buf);
    if (c) connClose(c);
    /* An encrypted client key, its passphrase given. */
    char encKey[512], crt[512], cmd[2048];
    path(encKey, sizeof(encKey), "certs", "client-enc.key");
    path(crt, sizeof(crt), "certs", "client.crt");
    snprintf(cmd, sizeof(cmd), "openssl pkey -in '%s/certs/client.key' -aes256 -passout pass:s3cret -out '%s' 2>/dev/null",
             tmpDir, encKey);
    CHECK(system(cmd) == 0);
    char caPath[512];
    path(caPath, sizeof(caPath), "certs", "ca.crt");
    connOutTlsOptions wrongPass = {.caFile = caPath, .certFile = crt, .keyFile = encKey, .keyPass = "nope"};
    CHECK(connOutTlsCreate(&wrongPass, err, sizeof(err)) == NULL);
    CHECKF(strstr(err, "Failed to load client key") != NULL, "%s", err);
    connOutTlsOptions rightPass = {.caFile = caPath, .certFile = crt, .keyFile = encKey, .keyPass = "s3cret",
                                   .sni = "localhost"};
    connOutTls *withEncKey = connOutTlsCreate(&rightPass, err, sizeof(err));
    CHECKF(withEncKey != NULL, "%s", err);
    if (withEncKey) {
        c = doConnect("127.0.0.1", port, withEncKey, 5000, &r);
        CHECKF(r.status == 0, "connect with an encrypted client key: %s", r.err);
        if (c && r.status == 0) CHECKF(exchange(c, &r, httpGet, "HTTP/1.0 200"), "read \"%.80s\"", r.buf);
        if (c) connClose(c);
        connOutTlsFree(withEncKey);
    }
    /* TLS 1.3: the client's handshake ends before the server checks the
     * certificate, so the refusal comes as the first read's error. */
    c = doConnect("127.0.0.1", port, good, 5000, &r);
    if (c && r.status == 0) {
        CHECK(!exchange(c, &r, httpGet, "HTTP/1.0 200"));
        CHECKF(r.eof || r.readErr, "no certificate, TLS 1.3: read \"%.80s\"", r.buf);
    } else {
        CHECKF(r.err[0] != '\0', "no certificate, TLS 1.3: no message");
    }
    if (c) connClose(c);
    /* TLS 1.2: the refusal ends the handshake itself. */
    connOutTls *tls12 = makeTls("certs", "localhost", 0, "TLSv1.2");
    c = doConnect("127.0.0.1", port, tls12, 5000, &r);
    CHECK_EQ_INT(r.status, -1);
    CHECKF(strstr(r.err, "TLS handshake with 127.0.0.1:") && strstr(r.err, "alert"), "%s", r.err);
    if (c) connClose(c);
    stopChildren();

    connOutTlsFree(good);
    connOutTlsFree(otherCa);
    connOutTlsFree(wrongHost);
    connOutTlsFree(wrongIp);
    connOutTlsFree(noVerify);
    connOutTlsFree(withCert);
    connOutTlsFree(tls12);
}

static void testRefusedAndTimeouts(void) {
    UNIT_SECTION("refused, timeouts, IPv6");
    result r;
    int port = freePort();
    conn *c = doConnect("127.0.0.1", port, NULL, 2000, &r);
    CHECK_EQ_INT(r.status, -1);
    CHECKF(strstr(r.err, "Connection refused") != NULL, "%s", r.err);
    if (c) connClose(c);

    /* A listener nobody accepts on: TCP completes in the kernel, the TLS
     * handshake gets no answer. */
    int lfd = listener(AF_INET, 0, 16);
    CHECK(lfd >= 0);
    if (lfd < 0) return;
    connOutTls *tls = makeTls("certs", "localhost", 0, NULL);
    c = doConnect("127.0.0.1", localPort(lfd), tls, 300, &r);
    CHECK_EQ_INT(r.status, -1);
    CHECKF(strstr(r.err, "TLS handshake with 127.0.0.1:") && strstr(r.err, "timed out after 300 ms"), "%s", r.err);
    CHECKF(r.ms >= 250 && r.ms < 3000, "took %lld ms", r.ms);
    if (c) {
        CHECK_EQ_INT(c->state, CONN_STATE_ERROR);
        connClose(c);
    }

    /* A full accept queue: the kernel drops the SYN, so connect itself
     * times out. backlog 0 admits one connection; the second fills it. */
    int lfd0 = listener(AF_INET, 0, 0);
    int fill[2] = {-1, -1};
    for (int i = 0; i < 2 && lfd0 >= 0; i++) {
        fill[i] = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
        struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)localPort(lfd0)),
                                 .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
        (void)connect(fill[i], (struct sockaddr *)&sa, sizeof(sa));
    }
    if (lfd0 >= 0) {
        c = doConnect("127.0.0.1", localPort(lfd0), NULL, 300, &r);
        CHECK_EQ_INT(r.status, -1);
        CHECKF(strstr(r.err, "timed out after 300 ms") != NULL, "%s", r.err);
        if (c) connClose(c);
    }
    for (int i = 0; i < 2; i++)
        if (fill[i] >= 0) close(fill[i]);
    if (lfd0 >= 0) close(lfd0);

    /* Closing while connecting: done is never called. */
    memset(&r, 0, sizeof(r));
    char err[256];
    c = connOutConnect(loop, "127.0.0.1", localPort(lfd), tls, 5000, onDone, &r, err, sizeof(err));
    CHECKF(c != NULL, "%s", err);
    if (c) connClose(c);
    int never = 0;
    runUntil(&never, 100);
    CHECK(!r.done);

    /* A done callback that closes its conn, on failure and on success:
     * the free waits until the callback returns (ASan checks). */
    memset(&r, 0, sizeof(r));
    c = connOutConnect(loop, "127.0.0.1", freePort(), NULL, 2000, onDoneClose, &r, err, sizeof(err));
    if (c) runUntil(&r.done, 5000);
    CHECKF(r.done && r.status == -1, "%s", r.err);
    int lacc = listener(AF_INET, 0, 16);
    if (lacc >= 0) {
        memset(&r, 0, sizeof(r));
        c = connOutConnect(loop, "127.0.0.1", localPort(lacc), NULL, 2000, onDoneClose, &r, err, sizeof(err));
        if (c) runUntil(&r.done, 5000);
        CHECKF(r.done && r.status == 0, "%s", r.err);
        close(lacc);
    }

    /* A read handler set while connecting takes effect once open. */
    int lecho = listener(AF_INET, 0, 16);
    if (lecho >= 0) {
        port = localPort(lecho);
        memset(&r, 0, sizeof(r));
        r.until = "hello";
        c = connOutConnect(loop, "127.0.0.1", port, NULL, 2000, onDone, &r, err, sizeof(err));
        CHECKF(c != NULL, "%s", err);
        if (c) {
            connSetReadHandler(c, onRead);
            runUntil(&r.done, 5000);
            CHECK_EQ_INT(r.status, 0);
            int afd = accept(lecho, NULL, NULL);
            CHECK(afd >= 0);
            if (afd >= 0) {
                CHECK(write(afd, "hello", 5) == 5);
                runUntil(&r.stop, 5000);
                CHECK_EQ_STR(r.buf, "hello");
                close(afd);
            }
            connClose(c);
        }
        close(lecho);
    }

    /* IPv6, plaintext, when the host has ::1. */
    int l6 = listener(AF_INET6, 0, 16);
    if (l6 >= 0) {
        c = doConnect("::1", localPort(l6), NULL, 2000, &r);
        CHECKF(r.status == 0, "::1: %s", r.err);
        if (c) connClose(c);
        int port6 = localPort(l6);
        close(l6);
        c = doConnect("::1", port6, NULL, 2000, &r);
        CHECKF(r.status == -1 && strstr(r.err, "connect to [::1]:"), "%s", r.err);
        if (c) connClose(c);
    }
    close(lfd);
    connOutTlsFree(tls);
}

static int genCerts(const char *dir, const char *name) {
    char cmd[1024];
    snprintf(cmd, sizeof(cmd), "scripts/gen-certs.sh '%s/%s' '%s' >/dev/null 2>&1", tmpDir, dir, name);
    return system(cmd) == 0;
}

int main(int argc, char **argv) {
    signal(SIGPIPE, SIG_IGN);
    const char *tests = argc > 0 ? strstr(argv[0], "tests/test_conn_out") : NULL;
    if (tests && (size_t)(tests - argv[0]) < sizeof(serverBinBuf) - 16) {
        snprintf(serverBinBuf, sizeof(serverBinBuf), "%.*scachet-server", (int)(tests - argv[0]), argv[0]);
        serverBin = serverBinBuf;
    }
    if (getenv("CACHET_SERVER")) serverBin = getenv("CACHET_SERVER");
    {
        char *early = NULL;
        if (serverEarlyInit("test_conn_out", &early) == -1) {
            fprintf(stderr, "%s\n", early);
            abort();
        }
    }
    char *err = NULL;
    loop = elCreate(1024, &err);
    if (!loop || !mkdtemp(tmpDir)) {
        fprintf(stderr, "setup failed: %s\n", err ? err : strerror(errno));
        return 1;
    }
    elSetBeforeSleep(loop, beforeSleep);
    UNIT_SECTION("certificates");
    int certs = genCerts("certs", "Cachet test") && genCerts("other", "Other test");
    CHECKF(certs, "scripts/gen-certs.sh failed (run from the repository root)");
    testOptions();
    if (certs) {
        testCachet();
        testSServer();
        testRefusedAndTimeouts();
    }
    stopChildren();
    char cmd[256];
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpDir);
    if (system(cmd) != 0) fprintf(stderr, "could not remove %s\n", tmpDir);
    elDestroy(loop);
    return unitDone();
}
