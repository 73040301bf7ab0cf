/* script_cmsgpack.c - cmsgpack for scripts: MessagePack encoding of Lua
 * values and decoding back, with the choices Redis 7.0's lua-cmsgpack
 * 0.4.0 makes (written here from the MessagePack spec; replies compared
 * byte for byte with redis-server 7.0 in tests/integration/test_script_libs.py):
 *
 *   - a number equal to a 64-bit integer is the smallest integer form
 *     (positive fixint, uint8..64, negative fixint, int8..64); any other
 *     number a float32 when that keeps its value exactly, else a float64;
 *   - strings are fixstr/str8/str16/str32; true/false/nil as such; other
 *     types (functions, userdata, threads) as nil;
 *   - a table whose keys are exactly 1..n (n may be 0) is an array of
 *     lua_objlen() elements, any other a map; tables nested deeper than
 *     16 levels are encoded as nil (so cycles end);
 *   - decoding gives unsigned and signed integers as Lua numbers through
 *     lua_Integer (a uint64 above 2^63 wraps, as Redis' does), arrays and
 *     maps as tables; bin, ext and the fixext types are "Bad data format".
 *
 * Owns: nothing between calls. The encode buffer is a userdata on the Lua
 * stack (replaced by a bigger one as it grows), so an error raised in the
 * middle of an encoding leaks nothing and Lua's heap accounting stays
 * exact. Must never: read past the input (every read is preceded by a
 * length check), or recurse without bound. */
#include "script_cmsgpack.h"
#include <lauxlib.h>
#include <lua.h>
#include <limits.h>
#include <math.h>
#include <stdint.h>
#include <string.h>

#define MP_MAX_NESTING 16

/* ---- encoding ------------------------------------------------------------ */

typedef struct mpBuf {
    unsigned char *b;
    size_t len, cap;
    int idx; /* absolute stack index of the userdata holding b */
} mpBuf;

static void mpReserve(lua_State *L, mpBuf *buf, size_t more) {
    if (buf->cap - buf->len >= more) return;
    size_t cap = buf->cap ? buf->cap : 64;
    while (cap - buf->len < more) {
        if (cap > SIZE_MAX / 2) luaL_error(L, "not enough memory");
        cap *= 2;
    }
    unsigned char *nb = lua_newuserdata(L, cap);
    if (buf->len) memcpy(nb, buf->b, buf->len);
    lua_replace(L, buf->idx);
    buf->b = nb;
    buf->cap = cap;
}

static void mpAppend(lua_State *L, mpBuf *buf, const void *p, size_t n) {
    mpReserve(L, buf, n);
    memcpy(buf->b + buf->len, p, n);
    buf->len += n;
}

/* Writes the type byte then v in n big-endian bytes. */
static void mpPutBE(lua_State *L, mpBuf *buf, unsigned char type, uint64_t v, int n) {
    unsigned char h[9];
    h[0] = type;
    for (int i = n; i >= 1; i--) {
        h[i] = (unsigned char)(v & 0xff);
        v >>= 8;
    }
    mpAppend(L, buf, h, (size_t)n + 1);
}

static void mpEncodeInt(lua_State *L, mpBuf *buf, int64_t n) {
    if (n >= 0) {
        if (n <= 127) {
            unsigned char b = (unsigned char)n;
            mpAppend(L, buf, &b, 1);
        } else if (n <= 0xff) {
            mpPutBE(L, buf, 0xcc, (uint64_t)n, 1);
        } else if (n <= 0xffff) {
            mpPutBE(L, buf, 0xcd, (uint64_t)n, 2);
        } else if (n <= 0xffffffffLL) {
            mpPutBE(L, buf, 0xce, (uint64_t)n, 4);
        } else {
            mpPutBE(L, buf, 0xcf, (uint64_t)n, 8);
        }
    } else {
        if (n >= -32) {
            unsigned char b = (unsigned char)(n & 0xff);
            mpAppend(L, buf, &b, 1);
        } else if (n >= -128) {
            mpPutBE(L, buf, 0xd0, (uint64_t)n, 1);
        } else if (n >= -32768) {
            mpPutBE(L, buf, 0xd1, (uint64_t)n, 2);
        } else if (n >= -2147483648LL) {
            mpPutBE(L, buf, 0xd2, (uint64_t)n, 4);
        } else {
            mpPutBE(L, buf, 0xd3, (uint64_t)n, 8);
        }
    }
}

/* The double d as an int64 when it is exactly one (C's cast is undefined
 * outside the range, so the range is checked first; 2^63 itself is not). */
static int mpIsInt64(double d, int64_t *out) {
    if (!(d >= -9223372036854775808.0 && d < 9223372036854775808.0)) return 0;
    int64_t i = (int64_t)d;
    if ((double)i != d) return 0;
    *out = i;
    return 1;
}

static void mpEncodeNumber(lua_State *L, mpBuf *buf, double d) {
    int64_t i;
    if (mpIsInt64(d, &i)) {
        mpEncodeInt(L, buf, i);
        return;
    }
    float f = (float)d;
    if ((double)f == d) {
        uint32_t u;
        memcpy(&u, &f, 4);
        mpPutBE(L, buf, 0xca, u, 4);
    } else {
        uint64_t u;
        memcpy(&u, &d, 8);
        mpPutBE(L, buf, 0xcb, u, 8);
    }
}

static void mpEncodeString(lua_State *L, mpBuf *buf, const char *s, size_t len) {
    if (len < 32) {
        unsigned char b = (unsigned char)(0xa0 | len);
        mpAppend(L, buf, &b, 1);
    } else if (len <= 0xff) {
        mpPutBE(L, buf, 0xd9, len, 1);
    } else if (len <= 0xffff) {
        mpPutBE(L, buf, 0xda, len, 2);
    } else {
        mpPutBE(L, buf, 0xdb, len & 0xffffffffu, 4);
    }
    mpAppend(L, buf, s, len);
}

static void mpEncodeHeader(lua_State *L, mpBuf *buf, size_t n, unsigned char fix, unsigned char t16,
                           unsigned char t32) {
    if (n <= 15) {
        unsigned char b = (unsigned char)(fix | n);
        mpAppend(L, buf, &b, 1);
    } else if (n <= 0xffff) {
        mpPutBE(L, buf, t16, n, 2);
    } else {
        mpPutBE(L, buf, t32, n & 0xffffffffu, 4);
    }
}

/* 1 when the table at the top has exactly the keys 1..n (n >= 0). */
static int mpTableIsArray(lua_State *L) {
    int top = lua_gettop(L);
    long count = 0, max = 0;
    lua_pushnil(L);
    while (lua_next(L, -2)) {
        lua_pop(L, 1);
        double n;
        if (lua_type(L, -1) != LUA_TNUMBER || (n = lua_tonumber(L, -1)) <= 0 ||
            !(n < 2147483648.0 && (double)(int)n == n)) {
            lua_settop(L, top);
            return 0;
        }
        if ((long)n > max) max = (long)n;
        count++;
    }
    lua_settop(L, top);
    return max == count;
}

static void mpEncodeValue(lua_State *L, mpBuf *buf, int level);

static void mpEncodeTable(lua_State *L, mpBuf *buf, int level) {
    if (mpTableIsArray(L)) {
        size_t len = lua_objlen(L, -1);
        mpEncodeHeader(L, buf, len, 0x90, 0xdc, 0xdd);
        luaL_checkstack(L, 1, "in function mp_encode_lua_table_as_array");
        for (size_t j = 1; j <= len; j++) {
            lua_pushnumber(L, (lua_Number)j);
            lua_gettable(L, -2);
            mpEncodeValue(L, buf, level + 1);
        }
        return;
    }
    size_t len = 0;
    luaL_checkstack(L, 3, "in function mp_encode_lua_table_as_map");
    lua_pushnil(L);
    while (lua_next(L, -2)) {
        lua_pop(L, 1);
        len++;
    }
    mpEncodeHeader(L, buf, len, 0x80, 0xde, 0xdf);
    lua_pushnil(L);
    while (lua_next(L, -2)) {
        lua_pushvalue(L, -2); /* key value key */
        mpEncodeValue(L, buf, level + 1); /* the key (pops the copy) */
        mpEncodeValue(L, buf, level + 1); /* the value */
    }
}

/* Encodes the value at the top of the stack and pops it. */
static void mpEncodeValue(lua_State *L, mpBuf *buf, int level) {
    int t = lua_type(L, -1);
    if (t == LUA_TTABLE && level == MP_MAX_NESTING) t = LUA_TNIL;
    switch (t) {
    case LUA_TSTRING: {
        size_t len;
        const char *s = lua_tolstring(L, -1, &len);
        mpEncodeString(L, buf, s, len);
        break;
    }
    case LUA_TBOOLEAN: {
        unsigned char b = lua_toboolean(L, -1) ? 0xc3 : 0xc2;
        mpAppend(L, buf, &b, 1);
        break;
    }
    case LUA_TNUMBER: mpEncodeNumber(L, buf, lua_tonumber(L, -1)); break;
    case LUA_TTABLE: mpEncodeTable(L, buf, level); break;
    default: {
        unsigned char b = 0xc0;
        mpAppend(L, buf, &b, 1);
        break;
    }
    }
    lua_pop(L, 1);
}

static int mpPack(lua_State *L) {
    int nargs = lua_gettop(L);
    if (nargs == 0) return luaL_argerror(L, 0, "MessagePack pack needs input.");
    if (!lua_checkstack(L, nargs)) return luaL_argerror(L, 0, "Too many arguments for MessagePack pack.");
    mpBuf buf = {NULL, 0, 0, 0};
    lua_pushnil(L); /* the buffer's slot */
    buf.idx = lua_gettop(L);
    for (int i = 1; i <= nargs; i++) {
        luaL_checkstack(L, 1, "in function mp_check");
        lua_pushvalue(L, i);
        mpEncodeValue(L, &buf, 0);
    }
    lua_pushlstring(L, buf.len ? (const char *)buf.b : "", buf.len);
    return 1;
}

/* ---- decoding ------------------------------------------------------------ */

typedef struct mpCur {
    const unsigned char *p;
    size_t left;
    int err; /* MP_ERR_* */
} mpCur;

#define MP_ERR_NONE 0
#define MP_ERR_EOF 1    /* "Missing bytes in input." */
#define MP_ERR_BADFMT 2 /* "Bad data format in input." */

static int mpNeed(mpCur *c, size_t n) {
    if (c->left < n) {
        c->err = MP_ERR_EOF;
        return 0;
    }
    return 1;
}

static void mpConsume(mpCur *c, size_t n) {
    c->p += n;
    c->left -= n;
}

static uint64_t mpGetBE(const unsigned char *p, int n) {
    uint64_t v = 0;
    for (int i = 0; i < n; i++) v = (v << 8) | p[i];
    return v;
}

static void mpDecodeValue(lua_State *L, mpCur *c);

static void mpDecodeArray(lua_State *L, mpCur *c, size_t len) {
    lua_newtable(L);
    luaL_checkstack(L, 1, "in function mp_decode_to_lua_array");
    for (size_t i = 1; i <= len; i++) {
        lua_pushnumber(L, (lua_Number)i);
        mpDecodeValue(L, c);
        if (c->err) return;
        lua_settable(L, -3);
    }
}

static void mpDecodeMap(lua_State *L, mpCur *c, size_t len) {
    lua_newtable(L);
    while (len--) {
        mpDecodeValue(L, c);
        if (c->err) return;
        mpDecodeValue(L, c);
        if (c->err) return;
        lua_settable(L, -3);
    }
}

/* A length-prefixed string: n bytes of length after the type byte. */
static void mpDecodeStr(lua_State *L, mpCur *c, int n) {
    if (!mpNeed(c, 1 + (size_t)n)) return;
    size_t len = (size_t)mpGetBE(c->p + 1, n);
    if (!mpNeed(c, 1 + (size_t)n + len)) return;
    lua_pushlstring(L, (const char *)c->p + 1 + n, len);
    mpConsume(c, 1 + (size_t)n + len);
}

/* An array or map with an n-byte length. */
static void mpDecodeAggregate(lua_State *L, mpCur *c, int n, int isMap) {
    if (!mpNeed(c, 1 + (size_t)n)) return;
    size_t len = (size_t)mpGetBE(c->p + 1, n);
    mpConsume(c, 1 + (size_t)n);
    if (isMap) mpDecodeMap(L, c, len);
    else mpDecodeArray(L, c, len);
}

/* An integer of n bytes after the type byte, signed or not; lua_Integer
 * is 64 bits, so a uint64 above INT64_MAX comes out negative, as Redis'. */
static void mpDecodeInt(lua_State *L, mpCur *c, int n, int isSigned) {
    if (!mpNeed(c, 1 + (size_t)n)) return;
    uint64_t v = mpGetBE(c->p + 1, n);
    int64_t i;
    if (isSigned && n < 8 && (v >> (n * 8 - 1)) & 1) v |= ~(uint64_t)0 << (n * 8);
    memcpy(&i, &v, sizeof(i));
    lua_pushinteger(L, (lua_Integer)i);
    mpConsume(c, 1 + (size_t)n);
}

static void mpDecodeValue(lua_State *L, mpCur *c) {
    if (!mpNeed(c, 1)) return;
    luaL_checkstack(L, 1, "too many return values at once; use unpack_one or unpack_limit instead.");
    unsigned char t = c->p[0];
    switch (t) {
    case 0xcc: mpDecodeInt(L, c, 1, 0); return;
    case 0xcd: mpDecodeInt(L, c, 2, 0); return;
    case 0xce: mpDecodeInt(L, c, 4, 0); return;
    case 0xcf: mpDecodeInt(L, c, 8, 0); return;
    case 0xd0: mpDecodeInt(L, c, 1, 1); return;
    case 0xd1: mpDecodeInt(L, c, 2, 1); return;
    case 0xd2: mpDecodeInt(L, c, 4, 1); return;
    case 0xd3: mpDecodeInt(L, c, 8, 1); return;
    case 0xc0: lua_pushnil(L); mpConsume(c, 1); return;
    case 0xc2: lua_pushboolean(L, 0); mpConsume(c, 1); return;
    case 0xc3: lua_pushboolean(L, 1); mpConsume(c, 1); return;
    case 0xca: {
        if (!mpNeed(c, 5)) return;
        uint32_t u = (uint32_t)mpGetBE(c->p + 1, 4);
        float f;
        memcpy(&f, &u, 4);
        lua_pushnumber(L, (lua_Number)f);
        mpConsume(c, 5);
        return;
    }
    case 0xcb: {
        if (!mpNeed(c, 9)) return;
        uint64_t u = mpGetBE(c->p + 1, 8);
        double d;
        memcpy(&d, &u, 8);
        lua_pushnumber(L, d);
        mpConsume(c, 9);
        return;
    }
    case 0xd9: mpDecodeStr(L, c, 1); return;
    case 0xda: mpDecodeStr(L, c, 2); return;
    case 0xdb: mpDecodeStr(L, c, 4); return;
    case 0xdc: mpDecodeAggregate(L, c, 2, 0); return;
    case 0xdd: mpDecodeAggregate(L, c, 4, 0); return;
    case 0xde: mpDecodeAggregate(L, c, 2, 1); return;
    case 0xdf: mpDecodeAggregate(L, c, 4, 1); return;
    default: break;
    }
    if ((t & 0x80) == 0) { /* positive fixint */
        lua_pushinteger(L, t);
        mpConsume(c, 1);
    } else if ((t & 0xe0) == 0xe0) { /* negative fixint */
        lua_pushinteger(L, (lua_Integer)t - 256);
        mpConsume(c, 1);
    } else if ((t & 0xe0) == 0xa0) { /* fixstr */
        size_t len = t & 0x1f;
        if (!mpNeed(c, 1 + len)) return;
        lua_pushlstring(L, (const char *)c->p + 1, len);
        mpConsume(c, 1 + len);
    } else if ((t & 0xf0) == 0x90) { /* fixarray */
        mpConsume(c, 1);
        mpDecodeArray(L, c, t & 0xf);
    } else if ((t & 0xf0) == 0x80) { /* fixmap */
        mpConsume(c, 1);
        mpDecodeMap(L, c, t & 0xf);
    } else {
        c->err = MP_ERR_BADFMT;
    }
}

/* Decodes up to limit values from offset (both 0: all of them, and no
 * offset result); returns them, preceded by the next offset (-1 once the
 * input is consumed) unless everything was asked for. The %d of the
 * messages print ints, as Redis' (a length past INT_MAX prints wrapped). */
static int mpUnpackFull(lua_State *L, int limit, int offset) {
    size_t len;
    const char *s = luaL_checklstring(L, 1, &len);
    int all = !limit && !offset;
    if (offset < 0 || limit < 0)
        return luaL_error(L, "Invalid request to unpack with offset of %d and limit of %d.", offset, (int)len);
    if ((size_t)offset > len) return luaL_error(L, "Start offset %d greater than input length %d.", offset, (int)len);
    if (all) limit = INT_MAX;
    mpCur c = {(const unsigned char *)s + offset, len - (size_t)offset, MP_ERR_NONE};
    int cnt;
    for (cnt = 0; c.left > 0 && cnt < limit; cnt++) {
        mpDecodeValue(L, &c);
        if (c.err == MP_ERR_EOF) return luaL_error(L, "Missing bytes in input.");
        if (c.err == MP_ERR_BADFMT) return luaL_error(L, "Bad data format in input.");
    }
    if (!all) {
        luaL_checkstack(L, 1, "in function mp_unpack_full");
        lua_pushinteger(L, c.left == 0 ? -1 : (lua_Integer)(len - c.left));
        lua_insert(L, 2); /* the offset comes first, after the input */
        cnt++;
    }
    return cnt;
}

static int mpUnpack(lua_State *L) { return mpUnpackFull(L, 0, 0); }

static int mpUnpackOne(lua_State *L) {
    int offset = (int)luaL_optinteger(L, 2, 0);
    lua_settop(L, 1);
    return mpUnpackFull(L, 1, offset);
}

static int mpUnpackLimit(lua_State *L) {
    int limit = (int)luaL_checkinteger(L, 2);
    int offset = (int)luaL_optinteger(L, 3, 0);
    lua_settop(L, 1);
    return mpUnpackFull(L, limit, offset);
}

int slOpenCmsgpack(lua_State *L) {
    static const luaL_Reg fns[] = {
        {"pack", mpPack}, {"unpack", mpUnpack}, {"unpack_one", mpUnpackOne}, {"unpack_limit", mpUnpackLimit},
        {NULL, NULL}};
    lua_newtable(L);
    for (int i = 0; fns[i].name; i++) {
        lua_pushcfunction(L, fns[i].func);
        lua_setfield(L, -2, fns[i].name);
    }
    lua_pushliteral(L, "cmsgpack");
    lua_setfield(L, -2, "_NAME");
    lua_pushliteral(L, "lua-cmsgpack 0.4.0");
    lua_setfield(L, -2, "_VERSION");
    lua_pushliteral(L, "Copyright (C) 2012, Salvatore Sanfilippo");
    lua_setfield(L, -2, "_COPYRIGHT");
    lua_pushliteral(L, "MessagePack C implementation for Lua");
    lua_setfield(L, -2, "_DESCRIPTION");
    return 1;
}
