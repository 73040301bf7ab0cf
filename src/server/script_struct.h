/* script_struct.h - the struct Lua library scripts get (Roberto
 * Ierusalimschy's struct 0.2 semantics, as Redis 7.0 ships it), written
 * here: binary packing of numbers and strings by a format string.
 *
 * Owns: the library table and its three functions. Must never: read or
 * write outside its buffers, or raise an error other than through
 * luaL_error/luaL_argerror (so the script's pcall catches it). */
#ifndef CACHET_SCRIPT_STRUCT_H
#define CACHET_SCRIPT_STRUCT_H

struct lua_State;

/* Pushes the struct table (pack, unpack, size); returns 1. */
int slOpenStruct(struct lua_State *L);

#endif
