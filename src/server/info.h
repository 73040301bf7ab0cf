/* info.h - INFO's counters that other modules feed (cmd_info.c). */
#ifndef CACHET_INFO_H
#define CACHET_INFO_H

#include <stddef.h>

/* cmd_info.c */
/* Count an error reply for INFO errorstats: prefix is the error code without
 * '-' ("ERR", "WRONGTYPE"), len its length. Called from replyError. */
void infoCountError(const char *prefix, size_t len);
void infoResetStats(void);                  /* CONFIG RESETSTAT: error stats */

#endif
