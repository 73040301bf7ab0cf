/* fuzz_config.c - the config-file parser (config.c): configSplitArgs on the
 * whole input as one line, then the loader on the input as a config file
 * (configLoadString: every directive, "user" lines through acl.c, list
 * values such as bind/save/client-output-buffer-limit given as one quoted
 * argument), then the values read back as CONFIG GET would.
 *
 * Between inputs: every parameter back to its default (configInitDefaults,
 * which frees what it replaces), users back to the built-in default, and the
 * working directory back where it was (a "dir" line chdir()s, as Redis).
 * Checks: no crash, leak or UB; a failed load names a line; configSplitArgs
 * gives NUL-terminated copies. Never exits. */
#include "fuzz_common.h"
#include "acl.h"
#include "config.h"
#include <fcntl.h>

static int cwdFd = -1;

int LLVMFuzzerInitialize(int *argc, char ***argv) {
    (void)argc;
    (void)argv;
    fuzzServerInit(NULL);
    cwdFd = open(".", O_RDONLY | O_DIRECTORY);
    if (cwdFd == -1) abort();
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    /* One line's split: copies are NUL-terminated and no longer than the
     * line (unescaping only shrinks). */
    char **argv;
    int argc = configSplitArgs((const char *)data, size, &argv);
    if (argc >= 0) {
        for (int i = 0; i < argc; i++)
            if (strlen(argv[i]) > size) abort();
        configFreeArgs(argv, argc);
    } else if (argv != NULL) {
        abort();
    }

    /* The loader. */
    char *err = NULL;
    int rc = configLoadString((const char *)data, size, &err);
    if (rc == -1) {
        if (!err || strncmp(err, "Reading the configuration file, at line ", 40) != 0) {
            fprintf(stderr, "load failed without a line report: %s\n", err ? err : "(null)");
            abort();
        }
    } else if (rc != 0 || err) {
        abort();
    }
    memFree(err);
    /* What a loaded config turns into elsewhere: the users' descriptions
     * (ACL LIST) and the default user's state. */
    char *d = aclDescribeUser(aclDefaultUser());
    memFree(d);
    (void)aclDefaultAutoAuth();

    configInitDefaults();
    srv.verbosity = LL_WARNING + 1;
    fuzzResetUsers();
    if (fchdir(cwdFd) == -1) abort();
    return 0;
}
