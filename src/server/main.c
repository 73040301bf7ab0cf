/* main.c - the cachet-server program: command line to configuration, then
 * hand over to server.c. The only place allowed to exit the process. */
#include "server.h"
#include "db.h"
#include "config.h"
#include "snaptool.h"
#include <stdio.h>
#include <string.h>

static void usage(void) {
    fprintf(stderr,
            "Usage: ./cachet-server [/path/to/cachet.conf] [options] [-]\n"
            "       ./cachet-server - (read config from stdin)\n"
            "       ./cachet-server -v or --version\n"
            "       ./cachet-server -h or --help\n\n"
            "Examples:\n"
            "       ./cachet-server (run the server with default config)\n"
            "       ./cachet-server /etc/cachet/6379.conf\n"
            "       ./cachet-server --port 7777\n"
            "       ./cachet-server /etc/mycachet.conf --loglevel verbose\n");
}

int main(int argc, char **argv) {
    char *early = NULL; /* static text */
    if (serverEarlyInit(argv[0], &early) == -1) {
        fprintf(stderr, "Fatal: %s\n", early);
        return 1;
    }
    /* The same binary is the cachet-snapshot tool (like redis-check-rdb). */
    const char *base = strrchr(argv[0], '/');
    if (!strcmp(base ? base + 1 : argv[0], "cachet-snapshot")) return snaptoolMain(argc, argv);

    /* cachet-server [configfile] [--name value ...] */
    int j = 1;
    const char *cfile = NULL;
    if (argc >= 2) {
        if (!strcmp(argv[1], "-v") || !strcmp(argv[1], "--version")) {
            printf("Cachet server v=%s (redis compatible %s) malloc=%s bits=64\n", CACHET_OWN_VERSION, CACHET_VERSION,
                   memAllocatorName());
            return 0;
        }
        if (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help")) {
            usage();
            return 0;
        }
        if (argv[1][0] != '-') {
            cfile = argv[1];
            j = 2;
        }
    }
    /* Options become config lines: "--port 7000 --bind a b" -> "port 7000\nbind a b\n". */
    size_t cap = 1024, len = 0;
    char *extra = memAlloc(cap);
    extra[0] = '\0';
    for (; j < argc; j++) {
        const char *a = argv[j];
        size_t need = strlen(a) * 4 + 8;
        if (len + need >= cap) {
            cap = (len + need) * 2;
            extra = memRealloc(extra, cap);
        }
        if (a[0] == '-' && a[1] == '-' && a[2]) {
            if (len) extra[len++] = '\n';
            len += (size_t)snprintf(extra + len, cap - len, "%s", a + 2);
        } else if (!strcmp(a, "-") && len == 0 && !cfile) {
            cfile = "-";
        } else {
            /* Quote values so spaces and specials survive the config parser. */
            extra[len++] = ' ';
            extra[len++] = '"';
            for (const char *p = a; *p; p++) {
                if (*p == '"' || *p == '\\') extra[len++] = '\\';
                extra[len++] = *p;
            }
            extra[len++] = '"';
            extra[len] = '\0';
        }
    }
    char *err = NULL;
    if (configLoadFile(cfile, extra, &err) == -1) {
        fprintf(stderr, "\n*** FATAL CONFIG FILE ERROR (Cachet %s) ***\n%s\n", CACHET_OWN_VERSION, err ? err : "");
        memFree(err); /* both owned here: the sanitizer run checks this path for leaks */
        memFree(extra);
        return 1;
    }
    memFree(extra);

    if (serverInit(&err) == -1) {
        logWarning("%s", err);
        return 1;
    }
    serverRun();
    return 0;
}
