/* script_cmsgpack.h - the cmsgpack Lua library scripts get (Redis 7.0's
 * lua-cmsgpack 0.4.0 semantics), written here from the MessagePack spec.
 *
 * Owns: the library table and its four functions. Must never: keep state
 * between calls, read past its input, or raise a Lua error except through
 * luaL_error/luaL_argerror (so the script's pcall catches it). */
#ifndef CACHET_SCRIPT_CMSGPACK_H
#define CACHET_SCRIPT_CMSGPACK_H

struct lua_State;

/* Pushes the cmsgpack table (pack, unpack, unpack_one, unpack_limit,
 * _NAME, _VERSION, _COPYRIGHT, _DESCRIPTION); returns 1. */
int slOpenCmsgpack(struct lua_State *L);

#endif
