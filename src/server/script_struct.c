/* script_struct.c - struct for scripts: struct.pack(fmt, ...),
 * struct.unpack(fmt, s [, pos]) and struct.size(fmt), with the semantics
 * of the struct 0.2 library Redis 7.0 ships (written here; replies are
 * compared byte for byte with redis-server 7.0 in
 * tests/integration/test_script_libs.py).
 *
 * Format: '<' little endian, '>' big endian (native until one is given; no
 * '='), '![n]' maximum
 * alignment n (a power of 2; 8 without n), ' ' ignored; 'b'/'B' char,
 * 'h'/'H' short, 'l'/'L' long, 'T' size_t, 'i[n]'/'I[n]' an n-byte int
 * (default 4, at most 32), lower case signed; 'f' float, 'd' double;
 * 's' a zero-terminated string; 'c[n]' n chars ('c0': pack takes the whole
 * string, unpack takes the previous number as the length); 'x' a pad byte.
 * Alignment is 1 until '!' says otherwise.
 *
 * Owns: nothing between calls. Must never: read outside the data string
 * (every read checks the length first), or write past its local buffers. */
#include "script_struct.h"
#include <ctype.h>
#include <lauxlib.h>
#include <lua.h>
#include <limits.h>
#include <stdint.h>
#include <string.h>

#define ST_MAXINTSIZE 32
#define ST_MAXALIGN 8 /* alignment of double on the platforms we build for */
#define ST_BIG 0
#define ST_LITTLE 1

typedef struct stHeader {
    int endian;
    int align;
} stHeader;

static int stNativeEndian(void) {
    const uint16_t one = 1;
    unsigned char b;
    memcpy(&b, &one, 1);
    return b ? ST_LITTLE : ST_BIG;
}

static int stGetNum(lua_State *L, const char **fmt, int df) {
    if (!isdigit((unsigned char)**fmt)) return df;
    int a = 0;
    do {
        int d = **fmt - '0';
        if (a > INT_MAX / 10 || a * 10 > INT_MAX - d) luaL_error(L, "integral size overflow");
        a = a * 10 + d;
        (*fmt)++;
    } while (isdigit((unsigned char)**fmt));
    return a;
}

static size_t stOptSize(lua_State *L, int opt, const char **fmt) {
    switch (opt) {
    case 'B': case 'b': return sizeof(char);
    case 'H': case 'h': return sizeof(short);
    case 'L': case 'l': return sizeof(long);
    case 'T': return sizeof(size_t);
    case 'f': return sizeof(float);
    case 'd': return sizeof(double);
    case 'x': return 1;
    case 'c': return (size_t)stGetNum(L, fmt, 1);
    case 'i': case 'I': {
        int sz = stGetNum(L, fmt, (int)sizeof(int));
        if (sz > ST_MAXINTSIZE) luaL_error(L, "integral size %d is larger than limit of %d", sz, ST_MAXINTSIZE);
        return (size_t)sz;
    }
    default: return 0;
    }
}

/* Padding before an element of size bytes at offset len. */
static size_t stToAlign(size_t len, const stHeader *h, int opt, size_t size) {
    if (size == 0 || opt == 'c') return 0;
    if (size > (size_t)h->align) size = (size_t)h->align;
    return (size - (len & (size - 1))) & (size - 1);
}

static void stControl(lua_State *L, int opt, const char **fmt, stHeader *h) {
    switch (opt) {
    case ' ': return;
    case '>': h->endian = ST_BIG; return;
    case '<': h->endian = ST_LITTLE; return;
    case '!': {
        int a = stGetNum(L, fmt, ST_MAXALIGN);
        if (!(a > 0 && (a & (a - 1)) == 0)) luaL_error(L, "alignment %d is not a power of 2", a);
        h->align = a;
        return;
    }
    default: {
        const char *msg = lua_pushfstring(L, "invalid format option '%c'", opt);
        luaL_argerror(L, 1, msg);
    }
    }
}

/* A double as an x86-64 build converts it to size_t (the c0 length: a
 * negative, huge or NaN previous number gives what Redis' build reads,
 * so the same "data string too short" follows): below 2^63 through the
 * signed conversion, whose out-of-range answer is INT64_MIN; above, by
 * subtracting 2^63 first. C leaves these cases undefined. */
static int64_t stToInt64(double d) {
    return d >= -9223372036854775808.0 && d < 9223372036854775808.0 ? (int64_t)d : INT64_MIN;
}

static size_t stToSize(double d) {
    if (d < 9223372036854775808.0) return (size_t)(uint64_t)stToInt64(d);
    return (size_t)((uint64_t)stToInt64(d - 9223372036854775808.0) ^ (1ULL << 63));
}

/* Integers: the number is cast to a 64-bit integer (through the signed
 * type when negative) and its low bytes written; bytes past the eighth of
 * a wider 'i' are zero. */
static void stPutInt(lua_State *L, luaL_Buffer *b, int arg, int endian, size_t size) {
    lua_Number n = luaL_checknumber(L, arg);
    uint64_t v;
    if (n < 0) v = (uint64_t)stToInt64(n);
    else v = (uint64_t)stToSize(n); /* 0 past 2^64, as x86 */
    char buf[ST_MAXINTSIZE];
    for (size_t k = 0; k < size; k++) {
        size_t at = endian == ST_LITTLE ? k : size - 1 - k;
        buf[at] = (char)(v & 0xff);
        v = k < 7 ? v >> 8 : 0;
    }
    luaL_addlstring(b, buf, size);
}

/* Copies n bytes (a float or double's) in the order endian asks. */
static void stOrdered(char *dst, const void *src, size_t n, int endian) {
    memcpy(dst, src, n);
    if (endian != stNativeEndian()) {
        for (size_t i = 0; i < n / 2; i++) {
            char t = dst[i];
            dst[i] = dst[n - 1 - i];
            dst[n - 1 - i] = t;
        }
    }
}

static int stPack(lua_State *L) {
    const char *fmt = luaL_checkstring(L, 1);
    stHeader h = {stNativeEndian(), 1};
    int arg = 2;
    size_t total = 0;
    luaL_Buffer b;
    lua_pushnil(L); /* separates the arguments from the buffer's pieces */
    luaL_buffinit(L, &b);
    while (*fmt) {
        int opt = (unsigned char)*fmt++;
        size_t size = stOptSize(L, opt, &fmt);
        size_t pad = stToAlign(total, &h, opt, size);
        total += pad;
        while (pad-- > 0) luaL_addchar(&b, '\0');
        switch (opt) {
        case 'b': case 'B': case 'h': case 'H': case 'l': case 'L': case 'T': case 'i': case 'I':
            stPutInt(L, &b, arg++, h.endian, size);
            break;
        case 'x': luaL_addchar(&b, '\0'); break;
        case 'f': {
            float f = (float)luaL_checknumber(L, arg++);
            char tmp[sizeof(f)];
            stOrdered(tmp, &f, sizeof(f), h.endian);
            luaL_addlstring(&b, tmp, sizeof(f));
            break;
        }
        case 'd': {
            double d = luaL_checknumber(L, arg++);
            char tmp[sizeof(d)];
            stOrdered(tmp, &d, sizeof(d), h.endian);
            luaL_addlstring(&b, tmp, sizeof(d));
            break;
        }
        case 'c': case 's': {
            size_t l;
            const char *s = luaL_checklstring(L, arg++, &l);
            if (size == 0) size = l;
            /* the argument number reported is the next one, as in Redis */
            luaL_argcheck(L, l >= size, arg, "string too short");
            luaL_addlstring(&b, s, size);
            if (opt == 's') {
                luaL_addchar(&b, '\0');
                size++;
            }
            break;
        }
        default: stControl(L, opt, &fmt, &h);
        }
        total += size;
    }
    luaL_pushresult(&b);
    return 1;
}

static lua_Number stGetInt(const char *p, int endian, int isSigned, size_t size) {
    uint64_t v = 0;
    for (size_t k = 0; k < size; k++) {
        size_t at = endian == ST_BIG ? k : size - 1 - k;
        v = (v << 8) | (unsigned char)p[at];
    }
    if (!isSigned) return (lua_Number)v;
    /* the sign bit of a size-byte integer (x86 masks the shift count, so
     * a width past 8 bytes tests bit 63, as Redis' build does) */
    uint64_t mask = ~(uint64_t)0 << ((size * 8 - 1) & 63);
    if (v & mask) v |= mask;
    int64_t i;
    memcpy(&i, &v, sizeof(i));
    return (lua_Number)i;
}

static int stUnpack(lua_State *L) {
    const char *fmt = luaL_checkstring(L, 1);
    size_t ld;
    const char *data = luaL_checklstring(L, 2, &ld);
    size_t pos = (size_t)luaL_optinteger(L, 3, 1);
    int n = 0;
    luaL_argcheck(L, pos > 0, 3, "offset must be 1 or greater");
    pos--; /* a negative offset wraps to a huge one: "data string too short" below */
    stHeader h = {stNativeEndian(), 1};
    while (*fmt) {
        int opt = (unsigned char)*fmt++;
        size_t size = stOptSize(L, opt, &fmt);
        pos += stToAlign(pos, &h, opt, size);
        luaL_argcheck(L, size <= ld && pos <= ld - size, 2, "data string too short");
        luaL_checkstack(L, 2, "too many results");
        switch (opt) {
        case 'b': case 'B': case 'h': case 'H': case 'l': case 'L': case 'T': case 'i': case 'I':
            lua_pushnumber(L, stGetInt(data + pos, h.endian, islower(opt), size));
            n++;
            break;
        case 'x': break;
        case 'f': {
            float f;
            char tmp[sizeof(f)];
            stOrdered(tmp, data + pos, sizeof(f), h.endian);
            memcpy(&f, tmp, sizeof(f));
            lua_pushnumber(L, (lua_Number)f);
            n++;
            break;
        }
        case 'd': {
            double d;
            char tmp[sizeof(d)];
            stOrdered(tmp, data + pos, sizeof(d), h.endian);
            memcpy(&d, tmp, sizeof(d));
            lua_pushnumber(L, d);
            n++;
            break;
        }
        case 'c':
            if (size == 0) {
                if (n == 0 || !lua_isnumber(L, -1)) luaL_error(L, "format 'c0' needs a previous size");
                size = stToSize(lua_tonumber(L, -1));
                lua_pop(L, 1);
                n--;
                luaL_argcheck(L, size <= ld && pos <= ld - size, 2, "data string too short");
            }
            lua_pushlstring(L, data + pos, size);
            n++;
            break;
        case 's': {
            const char *e = memchr(data + pos, '\0', ld - pos);
            if (!e) luaL_error(L, "unfinished string in data");
            size = (size_t)(e - (data + pos)) + 1;
            lua_pushlstring(L, data + pos, size - 1);
            n++;
            break;
        }
        default: stControl(L, opt, &fmt, &h);
        }
        pos += size;
    }
    lua_pushinteger(L, (lua_Integer)pos + 1);
    return n + 1;
}

static int stSize(lua_State *L) {
    const char *fmt = luaL_checkstring(L, 1);
    size_t pos = 0;
    stHeader h = {stNativeEndian(), 1};
    while (*fmt) {
        int opt = (unsigned char)*fmt++;
        size_t size = stOptSize(L, opt, &fmt);
        pos += stToAlign(pos, &h, opt, size);
        if (opt == 's') luaL_argerror(L, 1, "option 's' has no fixed size");
        else if (opt == 'c' && size == 0) luaL_argerror(L, 1, "option 'c0' has no fixed size");
        /* letters other than the sizes above count 0; the rest are options */
        if (!isalnum(opt)) stControl(L, opt, &fmt, &h);
        pos += size;
    }
    lua_pushinteger(L, (lua_Integer)pos);
    return 1;
}

int slOpenStruct(lua_State *L) {
    static const luaL_Reg fns[] = {{"pack", stPack}, {"unpack", stUnpack}, {"size", stSize}, {NULL, NULL}};
    lua_newtable(L);
    luaL_register(L, NULL, fns);
    return 1;
}
