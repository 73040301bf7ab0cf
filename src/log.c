/* log.c - the server log, in Redis' line format so existing log tooling
 * parses it: "pid:role dd Mon yyyy hh:mm:ss.mmm <level> message".
 * Owns: nothing but the open/append of the log file per line (so log rotation
 * by rename works without a signal). Must never log secrets (passwords,
 * keys); callers pass what is safe to print. */
#include "server.h"
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

void logMsg(int level, const char *fmt, ...) {
    if (level < srv.verbosity) return;
    char msg[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);

    static const char marks[] = ".-*#";
    struct timeval tv;
    gettimeofday(&tv, NULL);
    struct tm tm;
    localtime_r(&tv.tv_sec, &tm);
    char tbuf[64];
    size_t off = strftime(tbuf, sizeof(tbuf), "%d %b %Y %H:%M:%S.", &tm);
    snprintf(tbuf + off, sizeof(tbuf) - off, "%03d", (int)tv.tv_usec / 1000);

    int toStdout = srv.logfile == NULL || srv.logfile[0] == '\0';
    FILE *fp = toStdout ? stdout : fopen(srv.logfile, "a");
    if (!fp) return;
    fprintf(fp, "%d:M %s %c %s\n", (int)getpid(), tbuf, marks[level & 3], msg);
    fflush(fp);
    if (!toStdout) fclose(fp);
}

/* 1 at most once a second per *last: bad input from clients is logged, but a
 * client sending a flood of it cannot flood the log. */
int logRateAllowed(long long *last) {
    if (srv.mstime - *last < 1000) return 0;
    *last = srv.mstime;
    return 1;
}
