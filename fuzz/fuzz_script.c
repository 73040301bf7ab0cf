/* fuzz_script.c - the input is the body of a Lua script, run by EVAL (0
 * keys, ARGV = {"a", "1"}) from a client with no connection: the shebang
 * parser, the compiler and the sandbox, redis.call and the RESP <-> Lua
 * conversions both ways, the error paths and the heap cap all run.
 *
 * Scripts that run long: busy-reply-threshold is 20 ms, so the count hook
 * soon serves the event loop, where a pipe that is always readable sets
 * srv.shutdownAsap, which stops any script (as SHUTDOWN NOSAVE does); the
 * flag is cleared after the input. Between inputs the script cache is
 * flushed (SCRIPT FLUSH) and every db emptied: nothing grows from one input
 * to the next. Seeds: fuzz/corpus/script; dictionary: fuzz/script.dict. */
#include "fuzz_common.h"
#include "client.h"
#include "cmd.h"
#include "script_lua.h"
#include <fcntl.h>
#include <signal.h>

static client *caller;

static void stopScripts(elLoop *el, int fd, void *data, int mask) {
    (void)el;
    (void)fd;
    (void)data;
    (void)mask;
    srv.shutdownAsap = 1; /* never read: stays readable, fires every poll */
}

int LLVMFuzzerInitialize(int *argc, char ***argv) {
    (void)argc;
    (void)argv;
    signal(SIGPIPE, SIG_IGN);
    fuzzServerInit("busy-reply-threshold 20\nproto-max-bulk-len 1mb\n");
    int p[2];
    if (pipe(p) == -1 || write(p[1], "x", 1) != 1) abort();
    if (elAddFile(srv.el, p[0], EL_READABLE, stopScripts, NULL) == -1) abort();
    caller = clientCreate(NULL);
    slSetHeapLimit(32 << 20); /* a memory bomb reaches the cap in milliseconds, not seconds */
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (size > 64 * 1024) return 0;
    const char *eval[] = {"EVAL", (const char *)data, "0", "a"};
    const size_t evalLen[] = {4, size, 1, 1};
    fuzzRunCommand(caller, eval, evalLen, 4);
    srv.shutdownAsap = 0;
    const char *flush[] = {"SCRIPT", "FLUSH"};
    const size_t flushLen[] = {6, 5};
    fuzzRunCommand(caller, flush, flushLen, 2);
    fuzzEmptyAllDbs();
    return 0;
}
