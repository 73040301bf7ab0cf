/* cachetd.h - the daemon's shared state: paths, credentials, the store and
 * the one lock that serialises the HTTP thread and the reconciler.
 * Owns nothing itself (main.c fills it). Must never be written without
 * cd.lock held once the HTTP server has started. */
#ifndef CACHETD_CACHETD_H
#define CACHETD_CACHETD_H
#include <limits.h>
#include <pthread.h>

#include "store.h"

typedef struct cdDaemon {
    char dataDir[PATH_MAX];
    char serverBin[4200];
    char caFile[4200]; /* DIR/ca.pem */
    char accessKey[128], secret[128];
    int anySignature;
    long long certSeconds; /* validity of the certificates cachetd issues (--cert-seconds) */
    int https;             /* the API over TLS (--https) */
    char region[64], account[16];
    cdStore *store;
    pthread_mutex_t lock;
} cdDaemon;

extern cdDaemon cd;

/* Asks the reconciler for a pass now rather than at its next tick (an
 * action just moved a group into a transitional state). Any thread. */
void cdWakeReconciler(void);
#endif
