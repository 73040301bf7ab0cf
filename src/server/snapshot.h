/* snapshot.h - SAVE/BGSAVE, the save schedule and loading at start-up
 * (snapshot.c). */
#ifndef CACHET_SNAPSHOT_H
#define CACHET_SNAPSHOT_H

#include <stddef.h>
#include "cmd.h"

/* snapshot.c: SAVE/BGSAVE/LASTSAVE, the save schedule, load at start-up,
 * shutdown save, DEBUG RELOAD. Writes go through rdb.c (and seal.c). */
extern cmdDef snapshotCommands[];

/* The writer's state and the outcome of saves (INFO persistence). */
typedef struct snapshotStats {
    int childPid;                /* the BGSAVE (or diskless sync) child, -1 when none runs */
    long long rdbSaveTimeStart;  /* ms when the running BGSAVE began */
    long long dirtyBeforeBgsave; /* srv.dirty at fork: what a successful child made durable */
    long long lastSave;          /* unix s of the last successful save (start-up time before any) */
    long long lastBgsaveTry;     /* unix s of the last BGSAVE attempt (failed saves retry after 5 s) */
    int lastBgsaveOk;            /* the last BGSAVE (or SAVE) succeeded */
    long long lastBgsaveTimeSec; /* -1 before any */
    long long rdbSaves;
    long long lastCowSize;       /* bytes the child copied on write, as it measured them */
} snapshotStats;
const snapshotStats *snapshotGetStats(void);         /* read-only view; snapshot.c alone writes it */
int snapshotChildRunning(void);                      /* a child (BGSAVE or diskless sync) exists: no other fork */
void snapshotInit(long long nowSec);                 /* start-up: "last save" is now, as in Redis */
int snapshotSave(char *err, size_t errlen);          /* foreground, whole dataset to dir/dbfilename */
int snapshotBgsave(char *err, size_t errlen);        /* forks; 0 = child started */
/* Forks a child that writes a plain RDB into a pipe whose non-blocking read
 * end is *readFd (diskless replication); the child is snapshotGetStats()->childPid.
 * exclude: RDB_SAVE_NO_* (rdb.h), the parts the replicas asked to leave out. */
int snapshotForkToPipe(int *readFd, int exclude, char *err, size_t errlen);
void snapshotCron(void);                             /* reaps the child, runs the save schedule */
int snapshotLoad(int atStartup, char *err, size_t errlen); /* dir/dbfilename into the (empty) dbs; 2 = stopped by a signal */
void snapshotLoadingProgress(long long *startTime, long long *totalBytes, long long *loadedBytes); /* INFO loading_* */
void snapshotKillChild(void);                        /* FLUSHALL, SHUTDOWN: abandon a running BGSAVE */
int snapshotWritesDenied(void);                      /* -MISCONF: last scheduled save failed */
int snapshotSaveConfigured(void);                    /* a `save` schedule is set */

#endif
