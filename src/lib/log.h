/* log.h - the process log, in Redis' line format so existing log tooling
 * parses it: "pid:role dd Mon yyyy hh:mm:ss.mmm <level> message".
 * The level and file are read through pointers the binary binds at start-up
 * (logBind), so a CONFIG SET of loglevel takes effect on the next line
 * without this module knowing the configuration. Must never log secrets
 * (passwords, keys): callers pass what is safe to print. */
#ifndef CACHET_LOG_H
#define CACHET_LOG_H

#define LL_DEBUG 0
#define LL_VERBOSE 1
#define LL_NOTICE 2
#define LL_WARNING 3

/* level: where the minimum level lives; file: where the path lives ("" or
 * NULL: standard output). Either pointer may be NULL (notice, stdout). */
void logBind(const int *level, char *const *file);
/* The role letter after the pid: 'M' primary, 'S' replica, 'C' a child. */
void logSetRole(char role);
int logLevelEnabled(int level);
void logMsg(int level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
#define logWarning(...) logMsg(LL_WARNING, __VA_ARGS__)
#define logNotice(...) logMsg(LL_NOTICE, __VA_ARGS__)
#define logVerbose(...) logMsg(LL_VERBOSE, __VA_ARGS__)
#define logDebug(...) logMsg(LL_DEBUG, __VA_ARGS__)
int logRateAllowed(long long *last); /* 1 at most once a second per *last */

#endif
