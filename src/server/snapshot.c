/* snapshot.c - when and where the dataset is saved and loaded: SAVE, BGSAVE
 * (a forked child writes while the parent keeps serving), LASTSAVE, the
 * `save <seconds> <changes>` schedule, loading dir/dbfilename at start-up,
 * the save on shutdown, DEBUG RELOAD, and the -MISCONF write stop.
 *
 * Owns: the BGSAVE child (at most one), the temp-<pid>.rdb files, the
 * writer's state and save outcome (`wr`; INFO persistence reads them through
 * snapshotGetStats).
 * The bytes themselves are rdb.c's (the format) and seal.c's (encryption at
 * rest); this file only opens, syncs and renames files around them.
 *
 * Invariants:
 *  - dir/dbfilename is only ever replaced by rename() of a complete, fsync'd
 *    file, followed by an fsync of the directory: a crash at any moment
 *    leaves the previous snapshot or the new one, never a mix.
 *  - a child never outlives the server (PR_SET_PDEATHSIG): an orphan could
 *    otherwise rename an old snapshot over a newer one written after a
 *    restart.
 *  - a failed load leaves the databases empty; at start-up the server then
 *    refuses to start rather than serve half the data.
 * Must never block the event loop except for SAVE, DEBUG RELOAD, FLUSHALL's
 * save and shutdown, which are synchronous in Redis too.
 *
 * ---- The writer's state machine (at most one child at a time) ------------
 *
 *   IDLE  no child. wr.childPid == -1, childPipe == -1, !childToPipe.
 *         -> FILE   snapshotBgsave      (BGSAVE, the schedule, a disk sync)
 *         -> PIPE   snapshotForkToPipe  (a diskless sync, repl_primary.c)
 *         (SAVE writes in the foreground and stays IDLE; it is refused
 *          outside IDLE, as every fork is.)
 *   FILE  a child writes temp-<childPid>.rdb and renames it over
 *         dir/dbfilename; it reports its copy-on-write size on childPipe.
 *         wr.childPid > 0, childPipe >= 0, !childToPipe.
 *         -> IDLE   childDone (reaped by snapshotCron, or killed by
 *                   snapshotKillChild: its temp file is removed)
 *   PIPE  a child writes an RDB into the replication pipe; no file, no save
 *         bookkeeping. wr.childPid > 0, childPipe == -1, childToPipe.
 *         -> IDLE   childDone
 * writerCheck asserts the state's invariants after every transition
 * (CACHET_ASSERTS builds).
 *
 * ---- Loading ---------------------------------------------------------------
 *
 *   NOT LOADING -> LOADING     snapshotLoad (start-up: srv.loading = 1 in
 *                              serverInit; DEBUG RELOAD; a replica's sync)
 *   LOADING     -> NOT LOADING the whole file read (complete dataset), or a
 *                              failure (the databases emptied: never half a
 *                              dataset), or stopped by a shutdown signal at
 *                              start-up (rc 2: the server exits unsaved). */
#include "server.h"
#include "db.h"
#include "client.h"
#include "reply.h"
#include "cmd.h"
#include "latency.h"
#include "snapshot.h"
#include "listen.h"
#include "rdb.h"
#include "seal.h"
#include "function.h"
#include "keyring.h"
#include "repl.h"
#include "dassert.h"
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#define BGSAVE_RETRY_DELAY 5 /* seconds before a failed scheduled save is retried (Redis' CONFIG_BGSAVE_RETRY_DELAY) */

/* The writer's state and its outcome, read by INFO persistence through
 * snapshotGetStats. Only this file writes it. */
static snapshotStats wr = {.childPid = -1, .lastBgsaveOk = 1, .lastBgsaveTimeSec = -1};
static int bgsaveScheduled; /* BGSAVE SCHEDULE (or BGSAVE inside EXEC) waits for the running child */
static int childPipe = -1;  /* the child writes its copy-on-write size here before exiting */
static int childToPipe;     /* the running child streams an RDB to a replication pipe (repl_primary.c) */

const snapshotStats *snapshotGetStats(void) { return &wr; }
int snapshotChildRunning(void) { return wr.childPid != -1; }
void snapshotInit(long long nowSec) { wr.lastSave = wr.lastBgsaveTry = nowSec; }

static void writerCheck(void) {
    if (wr.childPid == -1) {
        CACHET_ASSERT(childPipe == -1 && !childToPipe); /* IDLE */
    } else if (childToPipe) {
        CACHET_ASSERT(wr.childPid > 0 && childPipe == -1); /* PIPE */
    } else {
        CACHET_ASSERT(wr.childPid > 0 && childPipe >= 0); /* FILE */
    }
}

/* ---- writing a snapshot file ------------------------------------------- */

/* fsync of the directory holding path, so the rename itself is durable. */
static int syncDir(const char *path) {
    char *copy = memStrdup(path);
    int fd = open(dirname(copy), O_RDONLY | O_DIRECTORY);
    memFree(copy);
    if (fd == -1) return -1;
    int rc = fsync(fd);
    close(fd);
    return rc;
}

/* Writes the whole dataset to tmpPath (plain or sealed as configured),
 * fsyncs it and renames it over path. On failure the temp file is removed
 * and path is untouched. Runs in the parent (SAVE) or in the child. */
static int writeSnapshot(const char *tmpPath, const char *path, char *err, size_t errlen) {
    int fd = open(tmpPath, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (fd == -1) {
        snprintf(err, errlen, "Failed opening the temp RDB file %s (in server root dir %s) for saving: %s", tmpPath,
                 srv.dir ? srv.dir : ".", strerror(errno));
        return -1;
    }
    rdbSink file;
    rdbFdSinkInit(&file, fd);
    rdbSink sealed, *out = &file;
    int rc = 0, encrypt = 0;
    const keyringKey *key = keyringSnapshotKey(&encrypt, err, errlen);
    if (encrypt) {
        if (!key || sealSinkOpen(&sealed, &file, key, 0, err, errlen) == -1) rc = -1;
        else out = &sealed;
    }
    if (rc == 0 && rdbSaveAll(out, err, errlen) == -1) rc = -1;
    if (out == &sealed) {
        if (rc == 0) rc = sealSinkClose(&sealed, err, errlen);
        else sealSinkAbort(&sealed);
    }
    if (rc == 0 && rdbFdSinkFlush(&file) == -1) {
        snprintf(err, errlen, "Write error saving DB on disk: %s", strerror(errno));
        rc = -1;
    }
    rdbFdSinkFree(&file);
    if (rc == 0 && fsync(fd) == -1) {
        snprintf(err, errlen, "Write error saving DB on disk: %s", strerror(errno));
        rc = -1;
    }
    if (close(fd) == -1 && rc == 0) {
        snprintf(err, errlen, "Write error saving DB on disk: %s", strerror(errno));
        rc = -1;
    }
    if (rc == 0 && rename(tmpPath, path) == -1) {
        snprintf(err, errlen, "Error moving temp DB file %s on the final destination %s (in server root dir %s): %s",
                 tmpPath, path, srv.dir ? srv.dir : ".", strerror(errno));
        rc = -1;
    }
    if (rc == -1) {
        unlink(tmpPath);
        return -1;
    }
    if (syncDir(path) == -1) {
        /* The data is complete and renamed; only the directory entry's
         * durability is in doubt. Report it like a write error. */
        snprintf(err, errlen, "Failed to fsync the directory of %s: %s", path, strerror(errno));
        return -1;
    }
    return 0;
}

static void tempName(char *buf, size_t len, int pid) { snprintf(buf, len, "temp-%d.rdb", pid); }

static void saveSucceeded(void) {
    srv.dirty = 0;
    wr.lastSave = srv.mstime / 1000;
    wr.lastBgsaveOk = 1;
    wr.rdbSaves++;
}

int snapshotSave(char *err, size_t errlen) {
    if (wr.childPid != -1) {
        snprintf(err, errlen, "Background save already in progress");
        return -1;
    }
    char tmp[64];
    tempName(tmp, sizeof(tmp), (int)getpid());
    long long start = ustime();
    if (writeSnapshot(tmp, srv.dbfilename, err, errlen) == -1) {
        logWarning("%s", err);
        return -1;
    }
    serverUpdateCachedTime();
    logNotice("DB saved on disk (%.3f seconds)", (double)(ustime() - start) / 1e6);
    saveSucceeded();
    return 0;
}

/* ---- BGSAVE ------------------------------------------------------------ */

/* Private_Dirty of this process: pages the fork had to copy since it began
 * (plus the child's own small buffers), what Redis reports as COW size. */
static long long childCowBytes(void) {
    FILE *fp = fopen("/proc/self/smaps_rollup", "r");
    if (!fp) return 0;
    char line[256];
    long long kb = 0, v;
    while (fgets(line, sizeof(line), fp))
        if (sscanf(line, "Private_Dirty: %lld kB", &v) == 1) kb += v; // NOLINT(cert-err34-c): kernel-written smaps line; the count is checked
    fclose(fp);
    return kb * 1024;
}

/* In the child: no listener, no client socket, no timer is ours any more. */
static void childSetup(void) {
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (getppid() == 1) _exit(1); /* the parent died before prctl took effect */
    signal(SIGTERM, SIG_DFL);
    signal(SIGINT, SIG_DFL);
    listenCloseInChild();
    logSetRole('C');
}

static void childMain(int pipeFd) {
    childSetup();
    char tmp[64], err[512];
    tempName(tmp, sizeof(tmp), (int)getpid());
    int rc = writeSnapshot(tmp, srv.dbfilename, err, sizeof(err));
    if (rc == 0) {
        long long cow = childCowBytes();
        logNotice("Fork CoW for RDB: current %lld MB", cow >> 20);
        logNotice("DB saved on disk");
        if (write(pipeFd, &cow, sizeof(cow)) != (ssize_t)sizeof(cow)) { /* the parent reports 0 */
        }
    } else {
        logWarning("%s", err);
    }
    _exit(rc == 0 ? 0 : 1);
}

int snapshotBgsave(char *err, size_t errlen) {
    if (wr.childPid != -1) {
        snprintf(err, errlen, "Background save already in progress");
        return -1;
    }
    wr.lastBgsaveTry = srv.mstime / 1000;
    int fds[2];
    if (pipe2(fds, O_CLOEXEC) == -1) {
        snprintf(err, errlen, "Can't save in background: pipe: %s", strerror(errno));
        wr.lastBgsaveOk = 0;
        return -1;
    }
    wr.dirtyBeforeBgsave = srv.dirty;
    long long start = ustime();
    pid_t pid = fork();
    if (pid == 0) {
        close(fds[0]);
        childMain(fds[1]);
    }
    close(fds[1]);
    if (pid == -1) {
        close(fds[0]);
        wr.lastBgsaveOk = 0;
        snprintf(err, errlen, "Can't save in background: fork: %s", strerror(errno));
        logWarning("%s", err);
        return -1;
    }
    fcntl(fds[0], F_SETFL, O_NONBLOCK);
    childPipe = fds[0];
    wr.childPid = (int)pid;
    wr.rdbSaveTimeStart = start / 1000;
    latencyAddSampleIfNeeded("fork", (ustime() - start) / 1000);
    logNotice("Background saving started by pid %d", (int)pid);
    writerCheck();
    return 0;
}

static void childDone(int ok, int bySignal) {
    if (childToPipe) {
        /* A replication stream: no file, no save bookkeeping. */
        childToPipe = 0;
        if (!ok) logWarning("Background RDB transfer terminated %s %d", bySignal ? "by signal" : "with error",
                            bySignal);
        else logNotice("Background RDB transfer terminated with success");
        wr.childPid = -1;
        writerCheck();
        replPrimaryChildDone(ok, 1);
        return;
    }
    char tmp[64];
    tempName(tmp, sizeof(tmp), wr.childPid);
    long long cow = 0;
    if (childPipe != -1) {
        if (read(childPipe, &cow, sizeof(cow)) != (ssize_t)sizeof(cow)) cow = 0;
        close(childPipe);
        childPipe = -1;
    }
    if (ok) {
        logNotice("Background saving terminated with success");
        srv.dirty -= wr.dirtyBeforeBgsave;
        if (srv.dirty < 0) srv.dirty = 0;
        wr.lastSave = wr.rdbSaveTimeStart / 1000;
        wr.lastBgsaveOk = 1;
        wr.rdbSaves++;
        wr.lastCowSize = cow;
    } else {
        if (bySignal) logWarning("Background saving terminated by signal %d", bySignal);
        else logWarning("Background saving error");
        /* A child that died early leaves its temp file behind. */
        unlink(tmp);
        /* SIGUSR1 is how we abandon a child on purpose: not a failure. */
        if (bySignal != SIGUSR1) wr.lastBgsaveOk = 0;
    }
    wr.lastBgsaveTimeSec = (srv.mstime - wr.rdbSaveTimeStart) / 1000;
    wr.childPid = -1;
    writerCheck();
    replPrimaryChildDone(ok, 0); /* replicas waiting for this file, or for any child to end */
}

/* ---- diskless replication ------------------------------------------------ */

/* In the child: the plain RDB (replicas read Redis' format, never a sealed
 * one) into the pipe, then exit. */
static void pipeChildMain(int fd, int exclude) {
    childSetup();
    signal(SIGPIPE, SIG_IGN); /* the parent closing the pipe is an error to report, not a signal */
    char err[512];
    rdbSink sink;
    rdbFdSinkInit(&sink, fd);
    int rc = rdbSaveFiltered(&sink, exclude, err, sizeof(err));
    if (rc == 0 && rdbFdSinkFlush(&sink) == -1) rc = -1;
    rdbFdSinkFree(&sink);
    close(fd);
    _exit(rc == 0 ? 0 : 1);
}

int snapshotForkToPipe(int *readFd, int exclude, char *err, size_t errlen) {
    if (wr.childPid != -1) {
        snprintf(err, errlen, "Background save already in progress");
        return -1;
    }
    int fds[2];
    if (pipe2(fds, O_CLOEXEC) == -1) {
        snprintf(err, errlen, "Can't create the replication pipe: %s", strerror(errno));
        return -1;
    }
    long long start = ustime();
    pid_t pid = fork();
    if (pid == 0) {
        close(fds[0]);
        pipeChildMain(fds[1], exclude);
    }
    close(fds[1]);
    if (pid == -1) {
        close(fds[0]);
        snprintf(err, errlen, "Can't save in background: fork: %s", strerror(errno));
        return -1;
    }
    fcntl(fds[0], F_SETFL, O_NONBLOCK);
    childToPipe = 1;
    wr.childPid = (int)pid;
    wr.rdbSaveTimeStart = start / 1000;
    latencyAddSampleIfNeeded("fork", (ustime() - start) / 1000);
    logNotice("Starting BGSAVE for SYNC with target: replicas sockets");
    logNotice("Background RDB transfer started by pid %d", (int)pid);
    writerCheck();
    *readFd = fds[0];
    return 0;
}

void snapshotKillChild(void) {
    if (wr.childPid == -1) return;
    kill(wr.childPid, SIGUSR1);
    int status;
    while (waitpid(wr.childPid, &status, 0) == -1 && errno == EINTR) {
    }
    logNotice("Background saving child %d killed", wr.childPid);
    childDone(0, SIGUSR1);
}

/* ---- the schedule ------------------------------------------------------ */

int snapshotSaveConfigured(void) { return srv.saveParams && srv.saveParams[0]; }

/* The first `save` rule whose time and change count are both reached. */
static int scheduleDue(long long now) {
    const char *p = srv.saveParams ? srv.saveParams : "";
    char *end;
    for (;;) {
        long long secs = strtoll(p, &end, 10);
        if (end == p) return 0;
        p = end;
        long long changes = strtoll(p, &end, 10);
        if (end == p) return 0;
        p = end;
        if (srv.dirty >= changes && now - wr.lastSave > secs) {
            logNotice("%lld changes in %lld seconds. Saving...", changes, secs);
            return 1;
        }
    }
}

void snapshotCron(void) {
    if (wr.childPid != -1) {
        int status;
        pid_t pid = waitpid(wr.childPid, &status, WNOHANG);
        if (pid == wr.childPid) {
            int sig = WIFSIGNALED(status) ? WTERMSIG(status) : 0;
            childDone(!sig && WIFEXITED(status) && WEXITSTATUS(status) == 0, sig);
        } else if (pid == -1 && errno == ECHILD) {
            childDone(0, 0);
        }
        return;
    }
    long long now = srv.mstime / 1000;
    int retryOk = wr.lastBgsaveOk || now - wr.lastBgsaveTry > BGSAVE_RETRY_DELAY;
    int start = 0;
    if (bgsaveScheduled && retryOk) start = 1; // NOLINT(bugprone-branch-clone): two separate reasons to start, kept apart for reading
    else if (snapshotSaveConfigured() && retryOk && scheduleDue(now)) start = 1;
    if (start) {
        char err[256];
        bgsaveScheduled = 0;
        snapshotBgsave(err, sizeof(err));
    }
}

int snapshotWritesDenied(void) {
    return srv.stopWritesOnBgsaveErr && snapshotSaveConfigured() && !wr.lastBgsaveOk;
}

/* ---- loading ------------------------------------------------------------ */

static void emptyAll(void) {
    for (int i = 0; i < srv.dbnum; i++) dbEmpty(&srv.db[i]);
    fnFlushAll(); /* the libraries are part of what a snapshot holds */
}

/* INFO's loading_* fields: the file source being read, while a load runs. */
static const rdbSource *loadingFile;
static long long loadingStartTime, loadingTotalBytes;

void snapshotLoadingProgress(long long *startTime, long long *totalBytes, long long *loadedBytes) {
    *startTime = loadingStartTime;
    *totalBytes = loadingTotalBytes;
    *loadedBytes = loadingFile ? (long long)loadingFile->offset : 0;
}

int snapshotLoad(int atStartup, char *err, size_t errlen) {
    long long start = ustime();
    int fd = open(srv.dbfilename, O_RDONLY);
    if (fd == -1) {
        if (errno == ENOENT) return 1;
        snprintf(err, errlen, "%s", strerror(errno));
        return -1;
    }
    unsigned char head[16];
    ssize_t n = pread(fd, head, sizeof(head), 0);
    rdbSource file;
    rdbFdSourceInit(&file, fd);
    struct stat st;
    loadingTotalBytes = fstat(fd, &st) == 0 ? (long long)st.st_size : 0;
    loadingStartTime = start / 1000000;
    loadingFile = &file;
    rdbSource sealed, *in = &file;
    int rc = 0;
    if (n > 0 && sealIsSealed(head, (size_t)n)) {
        if (sealSourceOpen(&sealed, &file, keyringServer(), err, errlen) == -1) rc = -1;
        else in = &sealed;
    }
    if (rc == 0) {
        logNotice("Loading RDB from %s%s", srv.dbfilename, in == &sealed ? " (sealed)" : "");
        fnFlushAll(); /* DEBUG RELOAD: the file's libraries replace the loaded ones */
        rc = rdbLoadAll(in, err, errlen);
    }
    if (in == &sealed) {
        /* The chunk layer's reason (tampered, wrong key, truncated) beats
         * the loader's "short read"; a clean load must also have consumed
         * every chunk up to the final one and nothing may follow it. */
        if (rc == -1 && sealSourceError(&sealed)[0]) snprintf(err, errlen, "%s", sealSourceError(&sealed));
        else if (rc == 0) rc = sealSourceFinish(&sealed, err, errlen);
        sealSourceClose(&sealed);
    }
    loadingFile = NULL;
    rdbFdSourceFree(&file);
    close(fd);
    if (rc == -1) {
        emptyAll();
        if (serverLoadShouldStop()) return 2; /* SIGTERM while loading: the file is untouched */
        return -1;
    }
    serverUpdateCachedTime();
    logNotice("Done loading RDB, keys loaded: %lld, keys expired: %lld.", srv.loadKeysLoaded, srv.loadKeysExpired);
    if (atStartup) logNotice("DB loaded from disk: %.3f seconds", (double)(ustime() - start) / 1e6);
    return 0;
}

/* ---- commands ----------------------------------------------------------- */

static void saveCommand(client *c) {
    char err[512];
    if (wr.childPid != -1) {
        replyError(c, "Background save already in progress");
        return;
    }
    if (snapshotSave(err, sizeof(err)) == -1) {
        replyError(c, "-ERR"); /* Redis answers a bare ERR; the reason is in the log */
        return;
    }
    replyOk(c);
}

static void bgsaveCommand(client *c) {
    int schedule = 0;
    if (c->argc > 1) {
        if (c->argc == 2 && sliceEqNocase(c->argv[1], "schedule")) {
            schedule = 1;
        } else {
            replyErrorSyntax(c);
            return;
        }
    }
    if (wr.childPid != -1) {
        if (schedule) {
            bgsaveScheduled = 1;
            replyStatus(c, "Background saving scheduled");
        } else {
            replyError(c, "Background save already in progress");
        }
        return;
    }
    if (c->flags & CLIENT_MULTI) { /* set while EXEC runs the queue */
        /* Inside EXEC a fork would stall the transaction: do it from cron. */
        bgsaveScheduled = 1;
        replyStatus(c, "Background saving scheduled");
        return;
    }
    char err[512];
    if (snapshotBgsave(err, sizeof(err)) == -1) {
        replyError(c, "-ERR");
        return;
    }
    replyStatus(c, "Background saving started");
}

static void lastsaveCommand(client *c) { replyLongLong(c, wr.lastSave); }

cmdDef snapshotCommands[] = {
    {.name = "save", .proc = saveCommand, .arity = 1, .flags = CMD_ADMIN | CMD_NOSCRIPT | CMD_NO_ASYNC_LOADING | CMD_NO_MULTI, .acl = ACL_DANGEROUS, .group = "server", .since = "1.0.0", .summary = "Synchronously save the dataset to disk", .complexity = "O(N) where N is the total number of keys in all databases"},
    {.name = "bgsave", .proc = bgsaveCommand, .arity = -1, .flags = CMD_ADMIN | CMD_NOSCRIPT | CMD_NO_ASYNC_LOADING, .acl = ACL_DANGEROUS, .group = "server", .since = "1.0.0", .summary = "Asynchronously save the dataset to disk", .complexity = "O(1)"},
    {.name = "lastsave", .proc = lastsaveCommand, .arity = 1, .flags = CMD_LOADING | CMD_STALE | CMD_FAST, .acl = ACL_ADMIN | ACL_DANGEROUS, .group = "server", .since = "1.0.0", .summary = "Get the UNIX time stamp of the last successful save to disk", .complexity = "O(1)"},
    {0}};
