/* function.h - Redis 7.0 functions: FUNCTION LOAD|DELETE|FLUSH|LIST|DUMP|
 * RESTORE|STATS|KILL|HELP, FCALL and FCALL_RO (function.c).
 *
 * function.c owns the libraries (name, code, registered functions) and the
 * Lua state they live in, separate from EVAL's; running a function is
 * script_lua.c's (slRunFunction). rdb.c calls the hooks below to keep the
 * libraries in snapshots as RDB_OPCODE_FUNCTION2 records. */
#ifndef CACHET_FUNCTION_H
#define CACHET_FUNCTION_H

#include "server.h"
#include "client.h"
#include "cmd.h"

extern cmdDef functionCommands[];
int functionCallFlags(client *c);
int functionMayWrite(client *c); /* FCALL: 0 when the function declared no-writes */

struct rdbW;
/* Writes one RDB_OPCODE_FUNCTION2 record (opcode + library code) per
 * library. Safe in a forked child: reads memory only. */
void fnRdbSave(struct rdbW *w);
/* Creates the library whose code a FUNCTION2 record held (as FUNCTION LOAD
 * without REPLACE). 0, or -1 with Redis' reason in err. */
int fnRdbLoadLibrary(const char *code, size_t len, char *err, size_t errlen);
/* Drops every library (before a snapshot replaces the dataset). */
void fnFlushAll(void);

/* INFO memory / MEMORY STATS: the functions' Lua state memory (0 before
 * the first FUNCTION LOAD), the libraries' bookkeeping (code, names,
 * records), and how many libraries and functions are loaded. */
long long fnVmMemory(void);
long long fnCacheMemory(void);
long long fnLibraryCount(void);
long long fnFunctionCount(void);

#endif
