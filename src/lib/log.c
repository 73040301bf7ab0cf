/* log.c - the process log (log.h says the format and the binding).
 * Owns: the bound level/file pointers, the role letter and the open/append of
 * the log file per line (so log rotation by rename works without a signal).
 * Must never log secrets (passwords, keys); callers pass what is safe to
 * print. */
#include "log.h"
#include "util.h"
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

static const int *boundLevel;
static char *const *boundFile;
static char roleLetter = 'M';

void logBind(const int *level, char *const *file) {
    boundLevel = level;
    boundFile = file;
}

void logSetRole(char role) { roleLetter = role; }

int logLevelEnabled(int level) { return level >= (boundLevel ? *boundLevel : LL_NOTICE); }

void logMsg(int level, const char *fmt, ...) {
    if (!logLevelEnabled(level)) return;
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

    const char *file = boundFile ? *boundFile : NULL;
    int toStdout = file == NULL || file[0] == '\0';
    FILE *fp = toStdout ? stdout : fopen(file, "a");
    if (!fp) return;
    fprintf(fp, "%d:%c %s %c %s\n", (int)getpid(), roleLetter, tbuf, marks[level & 3], msg);
    fflush(fp);
    if (!toStdout) fclose(fp);
}

/* 1 at most once a second per *last: bad input from clients is logged, but a
 * client sending a flood of it cannot flood the log. */
int logRateAllowed(long long *last) {
    long long now = mstime();
    if (now - *last < 1000) return 0;
    *last = now;
    return 1;
}
