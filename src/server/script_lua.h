/* script_lua.h - the Lua side of scripting: the sandboxed Lua 5.1 state,
 * the redis.* API, and the conversions between Lua values and RESP.
 *
 * script.c owns the commands (EVAL, SCRIPT ...) and decides what a run may
 * do (the slRun flags); script_lua.c owns everything that touches a
 * lua_State. Must never: give a script os/io/debug/package, let one script
 * leave state (globals, changed library tables) for the next, load
 * bytecode, or let Lua's allocator take more than SL_HEAP_LIMIT bytes. */
#ifndef CACHET_SCRIPT_LUA_H
#define CACHET_SCRIPT_LUA_H

#include "server.h"
#include "client.h"

/* Lua's heap (scripts, their cache, their values) stops here: an
 * allocation past it fails with "not enough memory" inside the script,
 * which then ends with an error instead of taking the server down. */
#define SL_HEAP_LIMIT (512ULL * 1024 * 1024)

/* What the running script may do (script.c sets it for each run). */
#define SL_RUN_READONLY (1 << 0)  /* no-writes shebang flag, EVAL_RO, EVALSHA_RO */
#define SL_RUN_ALLOW_OOM (1 << 1) /* allow-oom shebang flag */
#define SL_RUN_ALLOW_CROSS_SLOT (1 << 2) /* allow-cross-slot-keys flag, or a script without shebang (Redis 7.0) */

/* Creates the sandboxed state; NULL with a message in err on failure. */
struct lua_State *slCreate(char *err, size_t errlen);
void slDestroy(struct lua_State *L);
size_t slHeapBytes(void); /* bytes Lua holds now (INFO-style accounting) */
/* The memory of one state as Redis 7.0 reports it (lua_gc LUA_GCCOUNT,
 * whole KiB, times 1024); 0 for NULL. */
long long slVmMemory(struct lua_State *L);
/* Turns the SL_HEAP_LIMIT cap on or off (on only inside a protected call:
 * a library's loading run); returns the previous setting. */
int slHeapCap(int on);
/* Lowers (or restores) the cap for tests and fuzzing, where a memory bomb
 * doubling a string up to 512 MiB costs seconds per input under ASan. */
void slSetHeapLimit(size_t bytes);

/* Compiles body (shebang line already blanked by the caller) as the
 * function f_<sha> and keeps it in the state; *ref is its registry
 * reference (what slRun runs). 0, or -1 with the Redis error text
 * ("Error compiling script (new function): ...") in err. */
int slCompile(struct lua_State *L, const char *sha, const char *body, size_t len, int *ref, char *err,
              size_t errlen);

/* Runs the script compiled as ref (sha: its name in errors and logs) for
 * client c with KEYS/ARGV and replies its result (or the error) to c.
 * flags: SL_RUN_*. */
void slRun(struct lua_State *L, client *c, const char *sha, int ref, slice *keys, int nkeys, slice *args, int nargs,
           int flags);

/* FCALL: runs the function at registry reference ref (named name in
 * errors and logs) as fn(keys, args) and replies its result to c. */
void slRunFunction(struct lua_State *L, client *c, const char *name, int ref, slice *keys, int nkeys, slice *args,
                   int nargs, int flags);
/* Registry field holding the read-only globals proxy scripts see as _G
 * (function.c gives a library's functions that environment). */
#define SL_REG_PROXY_G "__cachet_proxy_g"
/* The running script: its name (sha or function name; NULL when none),
 * whether it is an FCALL, when it started, who called it. */
const char *slRunName(void);
int slRunIsFunction(void);
long long slRunStartMs(void);
client *slRunCaller(void);

/* 1 while a script runs, and whether it has changed the dataset yet. */
int slRunning(void);
int slRunWrote(void);
/* 1 once the running script passed busy-reply-threshold: from then on it
 * serves other clients between instructions (-BUSY) and may be killed. */
int slRunBusy(void);
/* SCRIPT KILL: the running script stops at its next hook with an error. */
void slRunKill(void);

#endif
