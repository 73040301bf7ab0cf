/* server.c - the process: start-up (config, listeners, databases), the
 * cron timer, the before-sleep hook, signals and shutdown.
 *
 * Owns: the global `srv`, listening sockets, the pid file.
 * Must never exit() anywhere but main() (and the OOM handler): modules return
 * errors with a message and main decides. */
#include "server.h"
#include "db.h"
#include "client.h"
#include "cmd.h"
#include "block.h"
#include "evict.h"
#include "tls.h"
#include "acl.h"
#include "config.h"
#include "pubsub.h"
#include "slowlog.h"
#include "snapshot.h"
#include "keyring.h"
#include "lazyfree.h"
#include "listen.h"
#include "repl.h"
#include "cluster.h"
#include "failover.h"
#include "pause.h"
#include "net.h"
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>
#include <fcntl.h>
#include <limits.h>

server srv;
static volatile sig_atomic_t shutdownSignal;

void serverUpdateCachedTime(void) {
    srv.ustime = ustime();
    srv.mstime = srv.ustime / 1000;
}

long long serverUptimeSeconds(void) { return (srv.mstime - srv.startTimeMs) / 1000; }

static void trackInstantaneous(void) {
    long long now = srv.mstime;
    long long dt = now - srv.opsLastTime;
    if (dt <= 0) return;
    int idx = (int)(srv.opsSampleIdx % 16);
    srv.opsSamples[idx] = (srv.statNumCommands - srv.opsLastCount) * 1000 / dt;
    srv.inSamples[idx] = (srv.statNetInputBytes - srv.inLast) * 1000 / dt;
    srv.outSamples[idx] = (srv.statNetOutputBytes - srv.outLast) * 1000 / dt;
    srv.opsSampleIdx++;
    srv.opsLastTime = now;
    srv.opsLastCount = srv.statNumCommands;
    srv.inLast = srv.statNetInputBytes;
    srv.outLast = srv.statNetOutputBytes;
}

static long serverCron(elLoop *el, long long id, void *data) {
    (void)el;
    (void)id;
    (void)data;
    serverUpdateCachedTime();
    srv.lruclock = evictLruClockCompute();
    srv.cronloops++;
    if (shutdownSignal) {
        char *err = NULL;
        logWarning("Received %s scheduling shutdown...", shutdownSignal == SIGINT ? "SIGINT" : "SIGTERM");
        serverShutdown(0, 0, 0, &err);
        if (err)
            logWarning("%s received but errors trying to shut down the server, check the logs for more information",
                       shutdownSignal == SIGINT ? "SIGINT" : "SIGTERM");
        shutdownSignal = 0;
    }
    size_t used = memUsed();
    if ((long long)used > srv.statPeakMemory) srv.statPeakMemory = (long long)used;
    if (srv.cronloops % (srv.hz / 10 ? srv.hz / 10 : 1) == 0) trackInstantaneous();
    clientsCron();
    if (srv.cronloops % (srv.hz ? srv.hz : 10) == 0) tlsCron();
    if (srv.cronloops % (srv.hz ? srv.hz : 10) == 0) memAllocatorDecay();
    dbActiveExpireCycle(0);
    dbCron();
    snapshotCron();
    replPrimaryCron();
    replReplicaCron();
    return 1000 / (srv.hz ? srv.hz : 10);
}

static void beforeSleep(elLoop *el) {
    serverUpdateCachedTime();
    /* TLS bytes already decrypted and handshakes held back: served now, and
     * while any are left the loop polls instead of sleeping. */
    elSetDontWait(el, connTlsBeforeSleep());
    dbActiveExpireCycle(1);
    failoverBeforeSleep(); /* may end the failover pause: before the pause is checked */
    pauseBeforeSleep(); /* ends timed-out pauses and runs the requests that waited */
    blockHandleReady(); /* serve clients blocked on keys made ready; before the writes */
    clientHandlePendingWrites();
    clientFreeScheduled();
    if (srv.shutdownAsap) elStop(srv.el);
}

static void onSignal(int sig) { shutdownSignal = sig; }

/* Called by the loader after every key. About every 10 ms of a start-up
 * load it serves the sockets once, as Redis does while loading: clients get
 * -LOADING (or INFO, CONFIG, SHUTDOWN...) instead of waiting unanswered in
 * the backlog. No timers and no active expiry run: the cron would reap,
 * evict and expire a dataset that is only half there. */
int serverLoadShouldStop(void) {
    static long long lastPollUs, keys;
    if (!srv.loading) return 0;
    if (!shutdownSignal && !srv.shutdownAsap && ((++keys & 63) == 0 || srv.keyLoadDelay)) {
        long long now = elMonoUs();
        if (now - lastPollUs >= 10000) {
            lastPollUs = now;
            serverUpdateCachedTime();
            elPollFiles(srv.el);
            connTlsBeforeSleep(); /* TLS records already decrypted; the rest waits 10 ms */
            clientHandlePendingWrites();
            clientFreeScheduled();
        }
    }
    return shutdownSignal || srv.shutdownAsap;
}

static void onOom(size_t size) {
    fprintf(stderr, "Out Of Memory allocating %zu bytes!\n", size);
    fflush(stderr);
    abort();
}

static void writePidfile(void) {
    if (!srv.pidfile || !srv.pidfile[0]) return;
    FILE *fp = fopen(srv.pidfile, "w");
    if (fp) {
        fprintf(fp, "%d\n", (int)getpid());
        fclose(fp);
    }
}

/* Saves first when asked to (SHUTDOWN SAVE) or when a save schedule is set
 * and NOSAVE was not given, as Redis does. A failed save stops the shutdown
 * unless forced: *err is then set and the server keeps serving. */
void serverShutdown(int save, int nosave, int force, char **err) {
    logWarning("User requested shutdown...");
    /* A running BGSAVE would finish a snapshot older than the one below. */
    snapshotKillChild();
    /* During the start-up load the dataset is partial: saving it would
     * replace the good snapshot with half of it (Redis forces NOSAVE too). */
    if (srv.loading) nosave = 1;
    if (!nosave && (save || snapshotSaveConfigured())) {
        char serr[512];
        logNotice("Saving the final RDB snapshot before exiting.");
        if (snapshotSave(serr, sizeof(serr)) == -1) {
            if (!force) {
                logWarning("Error trying to save the DB, can't exit.");
                *err = "Errors trying to SHUTDOWN. Check logs.";
                return;
            }
            logWarning("Error trying to save the DB. Exit anyway.");
        }
    }
    replReplicaShutdown(); /* a snapshot half received is no use to anyone */
    if (srv.pidfile && srv.pidfile[0]) unlink(srv.pidfile);
    listenCloseAll();
    srv.shutdownAsap = 1;
    logWarning("Redis is now ready to exit, bye bye...");
}

static void raiseFdLimit(void) {
    /* Clients plus some room for listeners, logs and snapshot files. */
    rlim_t want = (rlim_t)srv.maxclients + 32;
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) == -1) return;
    if (rl.rlim_cur >= want) return;
    rlim_t target = want;
    if (rl.rlim_max != RLIM_INFINITY && target > rl.rlim_max) target = rl.rlim_max;
    rl.rlim_cur = target;
    if (setrlimit(RLIMIT_NOFILE, &rl) == -1 || target < want) {
        unsigned int old = srv.maxclients;
        srv.maxclients = target > 32 ? (unsigned int)(target - 32) : 1;
        logWarning("You requested maxclients of %u requiring at least %llu max file descriptors. "
                   "Server can't set maximum open files to %llu; maxclients set to %u.",
                   old, (unsigned long long)want, (unsigned long long)want, srv.maxclients);
    }
}

static void daemonizeSelf(void) {
    if (fork() != 0) exit(0);
    setsid();
    int fd = open("/dev/null", O_RDWR);
    if (fd != -1) {
        dup2(fd, STDIN_FILENO);
        dup2(fd, STDOUT_FILENO);
        dup2(fd, STDERR_FILENO);
        if (fd > STDERR_FILENO) close(fd);
    }
}

/* Everything after configuration: signals, fd limit, loop, databases,
 * command table, listeners, cron. Returns -1 with *err set on failure. */
int serverInit(char **err) {
    if (srv.daemonize) daemonizeSelf();
    srv.pid = getpid();
    signal(SIGPIPE, SIG_IGN);
    signal(SIGHUP, SIG_IGN);
    /* A file-size limit (ulimit -f) would kill the server during SAVE, or
     * the child with a bare "terminated by signal 25"; ignored, the write
     * fails with EFBIG and the log says "File too large". */
    signal(SIGXFSZ, SIG_IGN);
    struct sigaction act;
    memset(&act, 0, sizeof(act));
    act.sa_handler = onSignal;
    sigaction(SIGTERM, &act, NULL);
    sigaction(SIGINT, &act, NULL);

    raiseFdLimit();
    srv.el = elCreate((int)srv.maxclients + 128, err);
    if (!srv.el) return -1;
    elSetBusyPoll(srv.el, srv.busyPollUsec);
    serverUpdateCachedTime();
    srv.startTimeMs = srv.statStartTimeMs = srv.mstime;
    srv.opsLastTime = srv.mstime;
    srv.lruclock = evictLruClockCompute();
    dbInitAll();
    pubsubInit();
    slowlogInit();
    char aerr[1024];
    if (aclInitFromConfig(aerr, sizeof(aerr)) == -1) {
        static char aclErr[1100];
        snprintf(aclErr, sizeof(aclErr), "%s", aerr);
        *err = aclErr;
        return -1;
    }
    static char keyringErr[1100];
    if (keyringInitFromConfig(keyringErr, sizeof(keyringErr)) == -1) {
        *err = keyringErr;
        return -1;
    }
    static char clusterErr[600];
    if (clusterInit(clusterErr, sizeof(clusterErr)) == -1) {
        *err = clusterErr;
        return -1;
    }
    static char listenErr[256];
    if (listenApplyMain(listenErr, sizeof(listenErr)) == -1) {
        *err = listenErr;
        return -1;
    }
    static char tlsErr[1100];
    char terr[1024];
    if (tlsInit(terr, sizeof(terr)) == -1) {
        snprintf(tlsErr, sizeof(tlsErr), "TLS: %s", terr);
        *err = tlsErr;
        return -1;
    }
    if (listenSocketCount() == 0) {
        *err = "Configured to not listen anywhere, exiting.";
        return -1;
    }
    writePidfile();
    srv.statStartupMemory = (long long)memUsed();
    /* Listeners are open but the loop has not run: clients wait in the
     * backlog until the data is there, and none sees a partial dataset. */
    snapshotInit(srv.mstime / 1000);
    static char loadErr[1100];
    char lerr[1024];
    srv.loading = 1;
    int lrc = snapshotLoad(1, lerr, sizeof(lerr));
    srv.loading = 0;
    if (lrc == 2) {
        /* As Redis 7: a shutdown during loading never saves, the partial
         * dataset must not replace the good snapshot. serverRun then
         * returns at once and main exits 0. A SHUTDOWN command served
         * during the load has already done the shutdown. */
        if (shutdownSignal) {
            logWarning("Received %s during loading (%lld keys read), shutting down without saving...",
                       shutdownSignal == SIGINT ? "SIGINT" : "SIGTERM", srv.loadKeysLoaded);
            char *serr = NULL;
            serverShutdown(0, 1, 1, &serr);
            shutdownSignal = 0;
        }
        clientHandlePendingWrites(); /* the SHUTDOWN caller's reply, if any */
        return 0;
    }
    if (lrc == -1) {
        snprintf(loadErr, sizeof(loadErr), "Fatal error loading the DB (%s/%s): %s. Exiting.", srv.dir ? srv.dir : ".",
                 srv.dbfilename, lerr);
        *err = loadErr;
        return -1;
    }
    replPrimaryInit();
    replReplicaInit(); /* `replicaof` in the configuration: the link starts from the cron */
    if (lrc == 0) replRestoreHistory();
    elAddTimer(srv.el, 1, serverCron, NULL);
    elSetBeforeSleep(srv.el, beforeSleep);
    return 0;
}

void serverRun(void) {
    if (srv.shutdownAsap) return; /* stopped during loading */
    logNotice("Cachet %s (Redis %s compatible) started, pid=%d, port=%d", CACHET_OWN_VERSION, CACHET_VERSION,
              (int)srv.pid, srv.port);
    logNotice("Ready to accept connections tcp");
    elMain(srv.el);
    lazyfreeShutdown(); /* the thread drains its queue: nothing left for the leak checker */
}

/* Process-wide set-up that must precede configuration. Fails (-1, *err
 * static) only when the system has no strong random bytes to give. */
int serverEarlyInit(const char *argv0, char **err) {
    memSetOomHandler(onOom);
    uint8_t seed[16];
    if (randomBytes(seed, sizeof(seed)) == -1 || randomHex(srv.runid, 40) == -1) {
        *err = "no random bytes from getrandom() or OpenSSL: cannot seed the key hash or make the run id";
        return -1;
    }
    srv.runid[40] = '\0';
    replInit();
    dictSetSeed(seed);
    srandom((unsigned)getpid() ^ (unsigned)ustime());
    /* The command table and the default user exist before the config file,
     * whose "user" and requirepass lines change them. */
    cmdInitTable();
    aclInit();
    configInitDefaults();
    srv.pid = getpid();
    srv.executable = (char *)argv0;
    return 0;
}
