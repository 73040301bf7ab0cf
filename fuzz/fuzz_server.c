/* fuzz_server.c - the whole server in-process: a real client on one end of
 * a socketpair (plain conn, the same read handler, parser, dispatcher, ACL
 * check, MULTI, blocking, pub/sub and reply writer a TCP client meets); the
 * input is what the peer sends, then EOF. The event loop runs until the
 * client is gone (EOF, QUIT, a protocol error, CLIENT KILL...) or 2000
 * iterations pass; replies are read from the peer end and dropped.
 *
 * Server set-up once: config defaults plus small limits (proto-max-bulk-len
 * and client-query-buffer-limit 1mb, so one SETRANGE cannot ask for 512 MB),
 * the databases, no listener. Commands that would outlive one input or
 * leave the process are disabled in the table (replied with an error):
 * SHUTDOWN, CONFIG SET / REWRITE, DEBUG SLEEP, SAVE / BGSAVE /
 * BGREWRITEAOF when present, EVAL and its kin (a script may never end).
 * Between inputs every db is emptied (dbEmpty), users go back to the
 * default, the slowlog is reset, active expire is back on: memory does not
 * grow from one input to the next.
 * Seeds: fuzz/corpus/server (command streams of every type, RESP and
 * inline); dictionary: fuzz/server.dict (every command name). Never exits. */
#include "fuzz_common.h"
#include "db.h"
#include "client.h"
#include "reply.h"
#include "cmd.h"
#include "block.h"
#include "slowlog.h"
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/socket.h>

static cmdProc *origDebug;

static void disabledCommand(client *c) { replyError(c, "command disabled in the fuzz harness"); }

static void debugNoSleep(client *c) {
    /* RELOAD writes and reads dump.rdb in the working directory. */
    if (c->argc >= 2 && (sliceEqNocase(c->argv[1], "sleep") || sliceEqNocase(c->argv[1], "reload"))) {
        disabledCommand(c);
        return;
    }
    origDebug(c);
}

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
    /* DEBUG and MODULE are off by default (Redis 7.0): on here, so their
     * code stays fuzzed (DEBUG SLEEP is stubbed below). */
    fuzzServerInit("proto-max-bulk-len 1mb\nclient-query-buffer-limit 1mb\nenable-debug-command yes\n"
                   "enable-module-command yes\n");
    disable("shutdown", NULL);
    disable("save", NULL);
    disable("bgsave", NULL);
    disable("bgrewriteaof", NULL);
    disable("config", "set");
    disable("config", "rewrite");
    /* A script can loop for ever (only SCRIPT KILL from another client
     * stops it), which libFuzzer would report as a timeout. */
    disable("eval", NULL);
    disable("evalsha", NULL);
    disable("eval_ro", NULL);
    disable("evalsha_ro", NULL);
    cmdDef *dbg = cmdLookup("debug", 5);
    if (dbg) {
        origDebug = dbg->proc;
        dbg->proc = debugNoSleep;
    }
    return 0;
}

static struct {
    const uint8_t *data;
    size_t size, written;
    int peer;
    long long clientId;
    int iterations;
    int eofSent;
} run;

static void drainPeer(void) {
    char sink[16384];
    while (read(run.peer, sink, sizeof(sink)) > 0) {
    }
}

/* The server's beforeSleep, plus feeding the peer and deciding to stop. */
static void hook(elLoop *el) {
    serverUpdateCachedTime();
    elSetDontWait(el, 1);
    if (run.written < run.size) {
        ssize_t n = write(run.peer, run.data + run.written, run.size - run.written);
        if (n > 0) run.written += (size_t)n;
    }
    if (run.written == run.size && !run.eofSent) {
        shutdown(run.peer, SHUT_WR);
        run.eofSent = 1;
    }
    drainPeer();
    connTlsBeforeSleep();
    dbActiveExpireCycle(1);
    blockHandleReady();
    clientHandlePendingWrites();
    clientFreeScheduled();
    drainPeer();
    if (!clientById(run.clientId) || ++run.iterations > 2000) elStop(el);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (size > 256 * 1024) return 0;
    int sv[2];
    if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv) == -1) abort();
    fcntl(sv[0], F_SETFL, O_NONBLOCK);
    fcntl(sv[1], F_SETFL, O_NONBLOCK);
    serverUpdateCachedTime();
    conn *cn = connCreatePlain(srv.el, sv[0]);
    client *c = clientCreate(cn);
    run.data = data;
    run.size = size;
    run.written = 0;
    run.peer = sv[1];
    run.clientId = c->id;
    run.iterations = 0;
    run.eofSent = 0;

    elSetBeforeSleep(srv.el, hook);
    elMain(srv.el);

    /* Periodic work once per input, while the client may still exist. */
    clientsCron();
    dbActiveExpireCycle(0);
    dbCron();
    client *still = clientById(run.clientId);
    if (still) clientFree(still);
    clientFreeScheduled();
    close(sv[1]);

    fuzzEmptyAllDbs();
    fuzzResetUsers();
    slowlogReset();
    srv.activeExpireEnabled = 1;
    srv.shutdownAsap = 0;
    return 0;
}
