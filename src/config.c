/* config.c - STUB: defaults and a minimal "name value" parser. To be
 * replaced by the full config module (file, command line, CONFIG GET/SET/
 * RESETSTAT/REWRITE). */
#include "server.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void configInitDefaults(void) {
    srv.port = 6379;
    srv.tcpBacklog = 511;
    srv.protectedMode = 1;
    srv.maxclients = 10000;
    srv.idleTimeout = 0;
    srv.tcpKeepalive = 300;
    srv.dbnum = 16;
    srv.maxmemory = 0;
    srv.maxmemoryPolicy = MAXMEMORY_NO_EVICTION;
    srv.maxmemorySamples = 5;
    srv.lfuLogFactor = 10;
    srv.lfuDecayTime = 1;
    srv.protoMaxBulkLen = 512LL * 1024 * 1024;
    srv.clientMaxQuerybufLen = 1024LL * 1024 * 1024;
    srv.obufLimits[OBUF_NORMAL] = (obufLimit){0, 0, 0};
    srv.obufLimits[OBUF_REPLICA] = (obufLimit){256ULL << 20, 64ULL << 20, 60};
    srv.obufLimits[OBUF_PUBSUB] = (obufLimit){32ULL << 20, 8ULL << 20, 60};
    srv.hz = 10;
    srv.verbosity = LL_NOTICE;
    srv.logfile = memStrdup("");
    srv.dir = NULL;
    srv.activeExpireEnabled = 1;
    srv.activeExpireEffort = 1;
    srv.slowlogLogSlowerThan = 10000;
    srv.slowlogMaxLen = 128;
    srv.nextClientId = 1;
}

int configLoadFile(const char *path, const char *extra, char **err) {
    (void)path;
    (void)err;
    /* Minimal: only --port from the command line. */
    const char *p = strstr(extra, "port ");
    if (p) srv.port = atoi(p + 5 + (p[5] == '"'));
    return 0;
}

void configCommand(client *c) { replyError(c, "not implemented"); }
cmdDef configCommands[] = {{0}};
