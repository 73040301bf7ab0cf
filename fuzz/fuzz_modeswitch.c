/* fuzz_modeswitch.c - CONFIG SET tls-mode required (tls.c switchMode) with
 * plaintext clients in every state: still sniffing (no byte yet), idle,
 * mid-pipeline, subscribed (channels, patterns, shard channels), blocked on
 * keys, inside MULTI, with replies they do not read, and the one running the
 * CONFIG SET itself (srv.current).
 *
 * Set-up once: a self-signed P-256 certificate made in memory (as in
 * fuzz_sniffer.c), loaded by tlsInit; the fuzz_server.c limits and disabled
 * commands. Input: byte 0 flags (bits 0-1: which client, if any, is the
 * caller of the switch; bit 2: start from tls-mode none instead of preferred;
 * bits 3-6: which of the four clients never read), then six parts separated
 * by NUL bytes: what clients 0-3 send before the switch (an empty part leaves
 * that client sniffing in preferred), commands a TLS stand-in (a client with
 * no connection) runs after the switch (PUBLISH, LPUSH...), and what every
 * plaintext client sends after the switch.
 * Checks, after the switch: a client that has sent no byte yet (sniffing,
 * or plain since tls-mode none) is not closed but sniffs; every
 * other plaintext client is subscribed to nothing, blocked on nothing, runs
 * no further command, and never has a byte added to its output (bytes
 * written + bytes waiting never grow). Between inputs every client is freed,
 * dbs emptied, users reset, the mode restored. Never exits. */
#include "fuzz_common.h"
#include "client.h"
#include "reply.h"
#include "cmd.h"
#include "block.h"
#include "tls.h"
#include "slowlog.h"
#include <fcntl.h>
#include <signal.h>
#include <sys/socket.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#define NCLIENTS 4

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

static void disabledCommand(client *c) { replyError(c, "command disabled in the fuzz harness"); }

static void disable(const char *name, const char *sub) {
    cmdDef *cmd = cmdLookup(name, strlen(name));
    if (!cmd) return;
    if (sub) {
        if (!cmd->subcmds) return;
        for (cmdDef *s = cmd->subcmds; s->name; s++)
            if (!strcmp(s->name, sub)) s->proc = disabledCommand;
        return;
    }
    cmd->proc = disabledCommand;
}

int LLVMFuzzerInitialize(int *argc, char ***argv) {
    (void)argc;
    (void)argv;
    signal(SIGPIPE, SIG_IGN);
    fuzzServerInit("proto-max-bulk-len 1mb\nclient-query-buffer-limit 1mb\n");
    makeCert();
    srv.tlsMode = TLS_MODE_PREFERRED;
    char err[1024];
    if (tlsInit(err, sizeof(err)) == -1 || !tlsCurrentContext()) {
        fprintf(stderr, "fuzz: tlsInit: %s\n", err);
        abort();
    }
    disable("shutdown", NULL);
    disable("save", NULL);
    disable("bgsave", NULL);
    disable("bgrewriteaof", NULL);
    disable("config", "set");
    disable("config", "rewrite");
    disable("debug", NULL);
    return 0;
}

static struct {
    int peer[NCLIENTS];
    long long id[NCLIENTS];
    int reads[NCLIENTS];
    const uint8_t *send[NCLIENTS];
    size_t sendLen[NCLIENTS], written[NCLIENTS];
    /* at the switch */
    int sniffing[NCLIENTS], plain[NCLIENTS];
    long long produced[NCLIENTS], commands[NCLIENTS];
} run;

static void drain(int fd) {
    char sink[16384];
    while (read(fd, sink, sizeof(sink)) > 0) {
    }
}

static long long produced(client *c) {
    long long unsent = c->bufpos ? (long long)(c->bufpos - c->sentlen) + (long long)c->replyBytes
                                 : (long long)c->replyBytes - (long long)c->sentlen;
    return c->netOutBytes + unsent;
}

static void cycle(void) {
    serverUpdateCachedTime();
    for (int i = 0; i < NCLIENTS; i++) {
        if (run.written[i] < run.sendLen[i]) {
            ssize_t n = write(run.peer[i], run.send[i] + run.written[i], run.sendLen[i] - run.written[i]);
            if (n > 0) run.written[i] += (size_t)n;
        }
        if (run.reads[i]) drain(run.peer[i]);
    }
    elPollFiles(srv.el);
    connTlsBeforeSleep();
    blockHandleReady();
    clientHandlePendingWrites();
    clientFreeScheduled();
}

static void checkRevoked(void) {
    for (int i = 0; i < NCLIENTS; i++) {
        if (!run.plain[i]) continue;
        client *c = clientById(run.id[i]);
        if (!c || (c->flags & CLIENT_CLOSE_ASAP)) continue;
        if (c->flags & CLIENT_BLOCKED) abort();
        if (dictSize(&c->pubsubChannels) || dictSize(&c->pubsubPatterns) || dictSize(&c->pubsubShardChannels))
            abort();
        if (c->commandsProcessed != run.commands[i]) abort();
        if (produced(c) > run.produced[i]) abort();
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (size < 1 || size > 64 * 1024) return 0;
    uint8_t flags = data[0];
    const uint8_t *part[6] = {0};
    size_t partLen[6] = {0};
    size_t pos = 1;
    for (int k = 0; k < 6; k++) {
        const uint8_t *end = pos < size ? memchr(data + pos, 0, size - pos) : NULL;
        size_t stop = end ? (size_t)(end - data) : size;
        part[k] = data + (pos < size ? pos : size);
        partLen[k] = stop > pos ? stop - pos : 0;
        pos = stop + 1;
    }
    static char applyErr[256]; /* tlsApplyConfig fills it on failure */
    srv.tlsMode = (flags & 4) ? TLS_MODE_NONE : TLS_MODE_PREFERRED;
    if (tlsApplyConfig(applyErr, sizeof(applyErr)) == -1) abort();

    memset(&run, 0, sizeof(run));
    for (int i = 0; i < NCLIENTS; i++) {
        int sv[2];
        if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv) == -1) abort();
        fcntl(sv[0], F_SETFL, O_NONBLOCK);
        fcntl(sv[1], F_SETFL, O_NONBLOCK);
        conn *cn = srv.tlsMode == TLS_MODE_NONE ? connCreatePlain(srv.el, sv[0]) : connCreateSniffing(srv.el, sv[0]);
        client *c = clientCreate(cn);
        run.peer[i] = sv[1];
        run.id[i] = c->id;
        run.reads[i] = !(flags & (8 << i));
        run.send[i] = part[i];
        run.sendLen[i] = partLen[i];
    }
    for (int it = 0; it < 40; it++) cycle();

    /* The switch, as CONFIG SET runs it (maybe from one of the clients). */
    int callerIdx = (flags & 3) - 1;
    client *caller = callerIdx >= 0 ? clientById(run.id[callerIdx]) : NULL;
    if (caller && (caller->flags & (CLIENT_BLOCKED | CLIENT_CLOSE_ASAP))) caller = NULL;
    for (int i = 0; i < NCLIENTS; i++) {
        client *c = clientById(run.id[i]);
        if (!c || !c->conn) continue;
        /* No byte yet (sniffing, or plain since tls-mode none): judged later. */
        run.sniffing[i] = connIsSniffing(c->conn) || connPlainUndecided(c->conn);
        run.plain[i] = !run.sniffing[i] && !connIsTls(c->conn);
    }
    srv.tlsMode = TLS_MODE_REQUIRED;
    srv.current = caller;
    if (tlsApplyConfig(applyErr, sizeof(applyErr)) == -1) abort();
    if (caller) replyOk(caller); /* the CONFIG SET's own reply */
    srv.current = NULL;
    for (int i = 0; i < NCLIENTS; i++) {
        client *c = clientById(run.id[i]);
        if (run.sniffing[i] && (!c || !c->conn || !connIsSniffing(c->conn) ||
                                (c->flags & (CLIENT_CLOSE_ASAP | CLIENT_CLOSE_AFTER_REPLY))))
            abort();
        if (c && run.plain[i]) {
            run.produced[i] = produced(c);
            run.commands[i] = c->commandsProcessed;
        }
    }
    checkRevoked();

    /* After the switch: a TLS client's commands, and more plaintext. */
    client *driver = clientCreate(NULL);
    if (partLen[4]) {
        driver->querybuf = memAlloc(partLen[4]);
        memcpy(driver->querybuf, part[4], partLen[4]);
        driver->qlen = partLen[4];
        driver->qcap = memUsableSize(driver->querybuf);
        clientProcessPendingInput(driver);
    }
    for (int i = 0; i < NCLIENTS; i++) {
        run.send[i] = part[5];
        run.sendLen[i] = partLen[5];
        run.written[i] = 0;
    }
    for (int it = 0; it < 40; it++) {
        cycle();
        checkRevoked();
    }

    clientsCron();
    clientFree(driver);
    for (int i = 0; i < NCLIENTS; i++) {
        client *c = clientById(run.id[i]);
        if (c) clientFree(c);
        close(run.peer[i]);
    }
    clientFreeScheduled();
    fuzzEmptyAllDbs();
    fuzzResetUsers();
    slowlogReset();
    srv.tlsMode = TLS_MODE_PREFERRED;
    if (tlsApplyConfig(applyErr, sizeof(applyErr)) == -1) abort();
    return 0;
}
