/* fuzz_common.h - shared set-up for the libFuzzer harnesses in fuzz/.
 *
 * Owns: the once-per-process server initialisation a harness needs (command
 * table, default user, config defaults, event loop, databases, pub/sub and
 * slowlog), with no listener, no log output and no files.
 * Must never: be used outside fuzz/ (it pokes srv directly), or leave state
 * behind that a later input could see (each harness resets what it touches).
 * Static functions in a header: each harness is one translation unit. */
#ifndef CACHET_FUZZ_COMMON_H
#define CACHET_FUZZ_COMMON_H
#include "server.h"
#include "db.h"
#include "evict.h"
#include "acl.h"
#include "config.h"
#include "pubsub.h"
#include "slowlog.h"
#include "function.h"
#include "client.h"
#include "cmd.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

/* What serverEarlyInit + serverInit do, minus signals, fd limits, listeners,
 * TLS and the cron timer. extraConfig: config text applied before the
 * databases exist (NULL for none). */
static inline void fuzzServerInit(const char *extraConfig) {
    {
        char *early = NULL;
        if (serverEarlyInit("cachet-fuzz", &early) == -1) {
            fprintf(stderr, "%s\n", early);
            abort();
        }
    }
    srv.verbosity = LL_WARNING + 1; /* silent: libFuzzer's output only */
    if (extraConfig) {
        char *err = NULL;
        if (configLoadString(extraConfig, strlen(extraConfig), &err) == -1) {
            fprintf(stderr, "fuzz: bad harness config: %s\n", err ? err : "?");
            abort();
        }
        srv.verbosity = LL_WARNING + 1;
    }
    char *err = NULL;
    srv.el = elCreate(1024, &err);
    if (!srv.el) {
        fprintf(stderr, "fuzz: elCreate: %s\n", err ? err : "?");
        abort();
    }
    serverUpdateCachedTime();
    srv.startTimeMs = srv.statStartTimeMs = srv.mstime;
    srv.opsLastTime = srv.mstime;
    srv.lruclock = evictLruClockCompute();
    dbInitAll();
    pubsubInit();
    slowlogInit();
}

static inline void fuzzEmptyAllDbs(void) {
    for (int i = 0; i < srv.dbnum; i++) dbEmpty(&srv.db[i]);
    fnFlushAll(); /* libraries from FUNCTION2 records: no state across inputs */
}

/* Runs one command (argc <= 8 arguments) as client c, through the
 * dispatch checks; the arguments stay the caller's. */
static inline void fuzzRunCommand(client *c, const char *const *args, const size_t *lens, int argc) {
    slice argv[8];
    for (int i = 0; i < argc && i < 8; i++) {
        argv[i].p = args[i];
        argv[i].len = lens[i];
    }
    c->argv = argv;
    c->argc = argc < 8 ? argc : 8;
    serverUpdateCachedTime();
    cmdProcess(c);
    c->argv = NULL;
    c->argc = 0;
}

/* A file path whose bytes live in memory (memfd), for loaders that only
 * take a path (the ACL file). Rewritten per input. */
typedef struct fuzzMemFile {
    int fd;
    char path[64];
} fuzzMemFile;

static inline void fuzzMemFileInit(fuzzMemFile *f, const char *name) {
    f->fd = memfd_create(name, 0);
    if (f->fd == -1) {
        perror("memfd_create");
        abort();
    }
    snprintf(f->path, sizeof(f->path), "/proc/self/fd/%d", f->fd);
}

static inline void fuzzMemFileSet(fuzzMemFile *f, const void *p, size_t n) {
    if (ftruncate(f->fd, 0) == -1) abort();
    size_t off = 0;
    while (off < n) {
        ssize_t w = pwrite(f->fd, (const char *)p + off, n - off, (off_t)off);
        if (w <= 0) abort();
        off += (size_t)w;
    }
}

/* Users back to the built-in default only (every user defined by an input
 * is freed), through the ACL file loader itself. */
static inline void fuzzResetUsers(void) {
    static fuzzMemFile f;
    static int ready;
    if (!ready) {
        fuzzMemFileInit(&f, "fuzz-acl-reset");
        ready = 1;
    }
    static const char def[] = "user default on nopass ~* &* +@all\n";
    fuzzMemFileSet(&f, def, sizeof(def) - 1);
    char *saved = srv.aclfile;
    srv.aclfile = f.path;
    char err[4096];
    if (aclLoadFile(err, sizeof(err)) == -1) {
        fprintf(stderr, "fuzz: resetting users: %s\n", err);
        abort();
    }
    srv.aclfile = saved;
}
#endif
