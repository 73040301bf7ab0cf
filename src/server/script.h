/* script.h - EVAL, EVALSHA, EVAL_RO, EVALSHA_RO and SCRIPT (script.c).
 *
 * script.c owns the script cache (by SHA1 of the body, kept in the Lua
 * state script_lua.c builds) and the shebang flags of each script. */
#ifndef CACHET_SCRIPT_H
#define CACHET_SCRIPT_H

#include "server.h"
#include "client.h"
#include "cmd.h"

extern cmdDef scriptCommands[];

/* Shebang flags (#!lua flags=...), as Redis 7.0 names them. */
#define SCRIPT_FLAG_NO_WRITES (1 << 0)
#define SCRIPT_FLAG_ALLOW_OOM (1 << 1)
#define SCRIPT_FLAG_ALLOW_STALE (1 << 2)
#define SCRIPT_FLAG_NO_CLUSTER (1 << 3)
#define SCRIPT_FLAG_ALLOW_CROSS_SLOT (1 << 4)
#define SCRIPT_FLAG_EVAL_COMPAT (1 << 5) /* no shebang: Redis 6 semantics */

/* Parses the shebang line of body, if any. Returns 0 with *flags and
 * *shebangLen (bytes before the line feed that ends it; 0 without a
 * shebang) or -1 with Redis' error text in err. */
int scriptParseShebang(const char *body, size_t len, int *flags, size_t *shebangLen, char *err, size_t errlen);

/* While a script runs past busy-reply-threshold, the error other clients'
 * commands get (-BUSY ...), or NULL for those that may run (SCRIPT KILL,
 * SHUTDOWN NOSAVE, commands flagged allow-busy). */
const char *scriptBusyError(client *c, cmdDef *cmd);
/* EVAL/EVALSHA/FCALL: 0 when what it runs declared no-writes (a pause
 * lets it through), 1 when it may write. */
int scriptEvalMayWrite(client *c);
int scriptCallMayWrite(client *c, cmdDef *cmd);
int scriptCallDeniesOOM(client *c, cmdDef *cmd);
int scriptCallDeniesStale(client *c, cmdDef *cmd);
int scriptCallDeclaresWrite(client *c, cmdDef *cmd);

/* INFO memory / MEMORY STATS: the EVAL Lua state's memory (0 before the
 * first script), the script cache's (bodies, SHA1s and per-script
 * bookkeeping, as Redis 7.0's evalScriptsMemory counts them) and the
 * number of cached scripts. */
long long scriptVmMemory(void);
long long scriptCacheMemory(void);
long long scriptCachedCount(void);

#endif
