/* fuzz_sniffer.c - the main port's first-byte sniffer and what follows it
 * (conn_tls.c): plaintext vs ClientHello, tls-mode none / preferred /
 * required, the refusal paths, the start of the TLS handshake on whatever
 * bytes the peer sends, and the hand-over to a plain conn and the client's
 * parser.
 *
 * Set-up once: a self-signed P-256 certificate made in memory and written to
 * a private temporary directory, loaded by tlsInit as the TLS context.
 * Input: byte 0: bits 0-1 the tls-mode (3 = preferred), bit 2 the peer
 * closes its side after sending (EOF), bit 3 the peer sends in two pieces;
 * the rest is what the peer sends on a socketpair whose other end is a
 * sniffing conn owned by a real client. The event loop runs until the client
 * is gone or 300 iterations pass; replies are drained and dropped.
 * Between inputs: the client and conn are freed, the dbs emptied, tls-mode
 * restored. Never exits. */
#include "fuzz_common.h"
#include "client.h"
#include "tls.h"
#include <fcntl.h>
#include <signal.h>
#include <sys/socket.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

static char certDir[64];

static void removeCert(void) {
    char path[128];
    snprintf(path, sizeof(path), "%s/server.crt", certDir);
    unlink(path);
    snprintf(path, sizeof(path), "%s/server.key", certDir);
    unlink(path);
    rmdir(certDir);
}

static void makeCert(void) {
    snprintf(certDir, sizeof(certDir), "/tmp/cachet-fuzz-tls-XXXXXX");
    if (!mkdtemp(certDir)) abort();
    atexit(removeCert);
    EVP_PKEY *key = EVP_EC_gen("P-256");
    X509 *x = X509_new();
    if (!key || !x) abort();
    X509_set_version(x, 2);
    ASN1_INTEGER_set(X509_get_serialNumber(x), 1);
    X509_gmtime_adj(X509_getm_notBefore(x), -3600);
    X509_gmtime_adj(X509_getm_notAfter(x), 3600L * 24 * 365 * 10);
    X509_set_pubkey(x, key);
    X509_NAME *n = X509_get_subject_name(x);
    X509_NAME_add_entry_by_txt(n, "CN", MBSTRING_ASC, (const unsigned char *)"localhost", -1, -1, 0);
    X509_set_issuer_name(x, n);
    if (!X509_sign(x, key, EVP_sha256())) abort();
    char path[128];
    snprintf(path, sizeof(path), "%s/server.crt", certDir);
    FILE *f = fopen(path, "w");
    if (!f || !PEM_write_X509(f, x)) abort();
    fclose(f);
    memFree(srv.tlsCertFile);
    srv.tlsCertFile = memStrdup(path);
    snprintf(path, sizeof(path), "%s/server.key", certDir);
    f = fopen(path, "w");
    if (!f || !PEM_write_PrivateKey(f, key, NULL, NULL, 0, NULL, NULL)) abort();
    fclose(f);
    memFree(srv.tlsKeyFile);
    srv.tlsKeyFile = memStrdup(path);
    X509_free(x);
    EVP_PKEY_free(key);
}

int LLVMFuzzerInitialize(int *argc, char ***argv) {
    (void)argc;
    (void)argv;
    signal(SIGPIPE, SIG_IGN);
    fuzzServerInit(NULL);
    makeCert();
    srv.tlsMode = TLS_MODE_PREFERRED;
    char err[1024];
    if (tlsInit(err, sizeof(err)) == -1 || !tlsCurrentContext()) {
        fprintf(stderr, "fuzz: tlsInit: %s\n", err);
        abort();
    }
    return 0;
}

static struct {
    const uint8_t *data;
    size_t size, written, firstPiece;
    int peer, eof, iterations;
    long long clientId;
} run;

static void drainPeer(void) {
    char sink[16384];
    while (read(run.peer, sink, sizeof(sink)) > 0) {
    }
}

static void hook(elLoop *el) {
    serverUpdateCachedTime();
    elSetDontWait(el, 1);
    /* The second piece only after the server has had a turn. */
    size_t limit = run.iterations < 3 ? run.firstPiece : run.size;
    if (run.written < limit) {
        ssize_t n = write(run.peer, run.data + run.written, limit - run.written);
        if (n > 0) run.written += (size_t)n;
    }
    if (run.eof == 1 && run.written == run.size) {
        shutdown(run.peer, SHUT_WR);
        run.eof = 2;
    }
    drainPeer();
    connTlsBeforeSleep();
    clientHandlePendingWrites();
    clientFreeScheduled();
    drainPeer();
    if (!clientById(run.clientId) || ++run.iterations > 300) elStop(el);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (size < 1 || size > 64 * 1024) return 0;
    static const int modes[4] = {TLS_MODE_NONE, TLS_MODE_PREFERRED, TLS_MODE_REQUIRED, TLS_MODE_PREFERRED};
    int savedMode = srv.tlsMode;
    srv.tlsMode = modes[data[0] & 3];
    int sv[2];
    if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv) == -1) abort();
    fcntl(sv[0], F_SETFL, O_NONBLOCK);
    fcntl(sv[1], F_SETFL, O_NONBLOCK);
    serverUpdateCachedTime();
    conn *cn = connCreateSniffing(srv.el, sv[0]);
    client *c = clientCreate(cn);
    run.data = data + 1;
    run.size = size - 1;
    run.written = 0;
    run.firstPiece = (data[0] & 8) ? run.size / 2 : run.size;
    run.peer = sv[1];
    run.eof = (data[0] & 4) ? 1 : 0;
    run.iterations = 0;
    run.clientId = c->id;

    elSetBeforeSleep(srv.el, hook);
    elMain(srv.el);

    /* What the cron would do to a conn still deciding or handshaking. */
    client *still = clientById(run.clientId);
    if (still && still->conn) (void)connHandshakeExpired(still->conn, srv.mstime + 3600 * 1000);
    if (still) clientFree(still);
    clientFreeScheduled();
    close(sv[1]);
    fuzzEmptyAllDbs();
    fuzzResetUsers();
    srv.tlsMode = savedMode;
    return 0;
}
