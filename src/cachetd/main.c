/* main.c - the cachetd program: command line, data directory, credentials,
 * CA, store, the HTTP server (its own thread) and the reconciler on the
 * library event loop in the main thread (a 200 ms timer).
 * Why a timer on the main thread: the reconciler's node work (launch, the
 * admin client, stop) blocks briefly; doing it here keeps every HTTP
 * handler fast and leaves one writer of node state.
 * Must never stop the nodes when cachetd itself stops (they keep serving
 * and the next cachetd adopts them), unless told to by
 * --stop-nodes-on-exit (make run: ^C leaves nothing running). */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "api.h"
#include "ca.h"
#include "cachetd.h"
#include "cli.h"
#include "el.h"
#include "group.h"
#include "log.h"
#include "sigv4.h"
#include "store.h"
#include "util.h"

cdDaemon cd = {.lock = PTHREAD_MUTEX_INITIALIZER};
static elLoop *loop;

#define DEFAULT_DATA_DIR "./cachetd-data"
#define DEFAULT_LISTEN "127.0.0.1:9736"

static void usage(FILE *f) {
    fprintf(f, "Usage: cachetd rotate-ca [--finish | --status] [--data-dir DIR]   (the running daemon's CA)\n"
               "       cachetd [--data-dir DIR] [--listen IP:PORT] [--server-bin PATH] [--region REGION]\n"
               "               [--https] [--cert-seconds N] [--key-type ecdsa|rsa] [--insecure-any-signature]\n"
               "               [--stop-nodes-on-exit]\n"
               "  --data-dir DIR      state, CA, credentials and nodes (default " DEFAULT_DATA_DIR ")\n"
               "  --listen IP:PORT    the ElastiCache API (default " DEFAULT_LISTEN ")\n"
               "  --server-bin PATH   cachet-server to run (default: next to cachetd)\n"
               "  --region REGION     the region in ARNs (default us-east-1)\n"
               "  --https             serve the API over TLS (a certificate of cachetd's CA)\n"
               "  --cert-seconds N    validity of node and API certificates (default 1 year);\n"
               "                      renewed once less than a third of it is left\n"
               "  --key-type T        ecdsa (P-256, default) or rsa (2048 bits): keys made from now on\n"
               "  --insecure-any-signature  accept any or no SigV4 signature (tests only)\n"
               "  --stop-nodes-on-exit      stop every node when cachetd stops (default: they keep running)\n");
}

static volatile sig_atomic_t stopRequested;
static int wakePipe[2] = {-1, -1};

void cdWakeReconciler(void) {
    if (wakePipe[1] >= 0) (void)!write(wakePipe[1], "w", 1); /* full pipe: a pass is pending anyway */
}

static void onWake(elLoop *el, int fd, void *data, int mask) {
    (void)el;
    (void)data;
    (void)mask;
    char buf[64];
    while (read(fd, buf, sizeof(buf)) > 0) {
    }
    cdReconcile();
}

static long tick(elLoop *el, long long id, void *data) {
    (void)id;
    (void)data;
    if (stopRequested) {
        elStop(el);
        return EL_TIMER_STOP;
    }
    /* 20 ms while a group is being created, migrated or deleted (a step
     * waits for a node or a replication link), 200 ms otherwise. */
    int busy = cdReconcile();
    cdApiTick();
    return busy ? 20 : 200;
}

/* Only a flag: the next tick (within 200 ms) stops the loop. */
static void onSignal(int sig) {
    (void)sig;
    stopRequested = 1;
}

int main(int argc, char **argv) {
    const char *dataDir = DEFAULT_DATA_DIR, *listen = DEFAULT_LISTEN, *bin = NULL;
    int stopNodes = 0;
    snprintf(cd.region, sizeof(cd.region), "us-east-1");
    snprintf(cd.account, sizeof(cd.account), "000000000000");
    cd.certSeconds = 365LL * 86400;
    if (argc > 1 && !strcmp(argv[1], "rotate-ca")) return cdCliRotateCa(argc - 1, argv + 1);
    for (int i = 1; i < argc; i++) {
        int more = i + 1 < argc;
        if (!strcmp(argv[i], "--data-dir") && more) dataDir = argv[++i];
        else if (!strcmp(argv[i], "--listen") && more) listen = argv[++i];
        else if (!strcmp(argv[i], "--server-bin") && more) bin = argv[++i];
        else if (!strcmp(argv[i], "--region") && more) snprintf(cd.region, sizeof(cd.region), "%s", argv[++i]);
        else if (!strcmp(argv[i], "--insecure-any-signature")) cd.anySignature = 1;
        else if (!strcmp(argv[i], "--https")) cd.https = 1;
        else if (!strcmp(argv[i], "--cert-seconds") && more) {
            const char *v = argv[++i];
            long long secs = 0;
            if (!string2ll(v, strlen(v), &secs) || secs < 10 || secs > 100LL * 365 * 86400) {
                fprintf(stderr, "cachetd: --cert-seconds wants 10 to 3153600000, got %s\n", v);
                return 1;
            }
            cd.certSeconds = secs;
        }
        else if (!strcmp(argv[i], "--stop-nodes-on-exit")) stopNodes = 1;
        else if (!strcmp(argv[i], "--key-type") && more) {
            char err[128];
            if (cdCaSetKeyType(argv[++i], err, sizeof(err))) {
                fprintf(stderr, "cachetd: %s\n", err);
                return 1;
            }
        }
        else if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help")) {
            usage(stdout);
            return 0;
        } else {
            fprintf(stderr, "cachetd: unknown or incomplete option %s\n", argv[i]);
            usage(stderr);
            return 1;
        }
    }
    logBind(NULL, NULL);
    logSetRole('D');
    if (mkdir(dataDir, 0700) && errno != EEXIST) {
        fprintf(stderr, "cachetd: can't create %s: %s\n", dataDir, strerror(errno));
        return 1;
    }
    if (!realpath(dataDir, cd.dataDir)) {
        fprintf(stderr, "cachetd: %s: %s\n", dataDir, strerror(errno));
        return 1;
    }
    if (bin) {
        snprintf(cd.serverBin, sizeof(cd.serverBin), "%s", bin);
    } else {
        char self[4096];
        ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);
        if (n < 0) n = 0;
        self[n] = 0;
        char *slash = strrchr(self, '/');
        if (slash) *slash = 0;
        snprintf(cd.serverBin, sizeof(cd.serverBin), "%s/cachet-server", self);
    }
    char host[64], err[512];
    const char *colon = strrchr(listen, ':');
    long long port = 0;
    if (colon && !string2ll(colon + 1, strlen(colon + 1), &port)) port = 0;
    if (!colon || (size_t)(colon - listen) >= sizeof(host) || port <= 0 || port > 65535) {
        fprintf(stderr, "cachetd: --listen wants IP:PORT, got %s\n", listen);
        return 1;
    }
    snprintf(host, sizeof(host), "%.*s", (int)(colon - listen), listen);
    char credPath[4200];
    snprintf(credPath, sizeof(credPath), "%s/credentials", cd.dataDir);
    snprintf(cd.caFile, sizeof(cd.caFile), "%s/ca.pem", cd.dataDir);
    if (cdCredentialsLoad(credPath, cd.accessKey, sizeof(cd.accessKey), cd.secret, sizeof(cd.secret), err,
                          sizeof(err))) {
        fprintf(stderr, "cachetd: %s\n", err);
        return 1;
    }
    cd.store = cdStoreOpen(cd.dataDir, err, sizeof(err));
    if (!cd.store || cdCaInit(cd.dataDir, err, sizeof(err))) { /* the CA's state is in the store */
        fprintf(stderr, "cachetd: %s\n", err);
        return 1;
    }
    signal(SIGPIPE, SIG_IGN);
    loop = elCreate(1024, NULL);
    if (!loop) {
        fprintf(stderr, "cachetd: can't create the event loop\n");
        return 1;
    }
    /* Adopt or restart nodes before taking requests. */
    cdReconcile();
    if (cdApiStart(host, (int)port, err, sizeof(err))) {
        fprintf(stderr, "cachetd: %s\n", err);
        return 1;
    }
    char url[128];
    snprintf(url, sizeof(url), "http%s://%s:%lld", cd.https ? "s" : "", host, port);
    if (cdCliWriteEndpoint(cd.dataDir, url)) logWarning("can't write %s/endpoint: %s", cd.dataDir, strerror(errno));
    signal(SIGTERM, onSignal);
    signal(SIGINT, onSignal);
    logNotice("cachetd ready on http%s://%s:%lld (data %s, server %s%s)", cd.https ? "s" : "", host, port, cd.dataDir, cd.serverBin,
              cd.anySignature ? ", ANY signature accepted" : "");
    if (pipe2(wakePipe, O_NONBLOCK | O_CLOEXEC) == 0) elAddFile(loop, wakePipe[0], EL_READABLE, onWake, NULL);
    elAddTimer(loop, 200, tick, NULL);
    elMain(loop);
    logNotice(stopNodes ? "cachetd stopping with its nodes" : "cachetd stopping; nodes keep running");
    cdApiStop();
    if (stopNodes) cdStopAllNodes();
    elDestroy(loop);
    cdStoreClose(cd.store);
    cdCaFree();
    return 0;
}
