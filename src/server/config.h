/* config.h - the configuration (config.c): defaults, the file, CONFIG
 * GET/SET/REWRITE. config_int.h is the parameter table's own header. */
#ifndef CACHET_CONFIG_H
#define CACHET_CONFIG_H

#include <stddef.h>
#include "client.h"

/* config.c */
int configSplitArgs(const char *line, size_t len, char ***argv); /* -1 on unbalanced quotes */
int configSplitArgsLen(const char *line, size_t len, char ***argv, size_t **lens); /* and each length */
/* enable-debug-command / -module-command / -protected-configs: 0 no, 1 yes,
 * 2 local (loopback clients only). */
int configProtectedActionAllowed(int setting, client *c);
void configFreeArgs(char **argv, int argc);
int configLoadFile(const char *path, const char *extra, char **err);
int configLoadString(const char *text, size_t len, char **err); /* in-memory (tests, fuzzer) */
void configInitDefaults(void);
void configCommand(client *c);

#endif
