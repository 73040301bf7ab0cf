/* resp.h - request parser for RESP multibulk and inline commands.
 *
 * Contract (in the manner of picohttpparser): given the bytes received so
 * far, respParse says OK (a whole request, r->pos bytes long), PARTIAL (need
 * more bytes), ERROR (a protocol error, with Redis' text) or NEED_ARGV (the
 * caller's argv array is too small: grow it to at least r->argcWant and call
 * again). It never allocates. Arguments are (offset, length) pairs into the
 * buffer, so they stay valid when the caller reallocates the buffer.
 *
 * The resume fields in respReq make re-parsing after PARTIAL cost only the
 * new bytes; parsing from a zeroed respReq gives the same answer, so the
 * state is an optimisation, not a dependency (tested with every prefix).
 * Inline requests are unescaped in place, so buf must be writable; nothing is
 * written before the whole line has arrived. */
#ifndef CACHET_RESP_H
#define CACHET_RESP_H
#include <stddef.h>

#define RESP_MAX_MULTIBULK (1024 * 1024)
#define RESP_MAX_INLINE (64 * 1024)
#define RESP_UNAUTH_MAX_MULTIBULK 10   /* arguments before AUTH, as Redis 7 */
#define RESP_UNAUTH_MAX_BULK 16384     /* bytes per argument before AUTH */

typedef enum { RESP_OK = 0, RESP_PARTIAL, RESP_ERROR, RESP_NEED_ARGV } respStatus;

typedef struct respArg {
    size_t off;
    size_t len;
} respArg;

typedef struct respReq {
    /* Resume state: zero it (respReqReset) before each new request. */
    size_t pos;        /* bytes consumed so far / whole request on OK */
    long long argcTotal; /* declared multibulk count; -1 before the header */
    long argc;         /* arguments completed */
    size_t need;       /* PARTIAL: buffer length needed before progress is possible */
    long argcWant;     /* NEED_ARGV: entries the argv array must hold */
    int isInline;
    /* Set by the caller before each call: a client that has not
     * authenticated may only send small requests (Redis 7 limits). */
    int unauthenticated;
    /* Caller-owned storage for arguments. */
    respArg *argv;
    long argvCap;
} respReq;

void respReqReset(respReq *r);
/* maxBulk: the proto-max-bulk-len limit. *err is a static string on ERROR. */
respStatus respParse(char *buf, size_t len, respReq *r, long long maxBulk, const char **err);
/* Splits an inline line (quotes and escapes as redis-cli writes them) in
 * place; returns argc or -1 for unbalanced quotes. Shared with the config
 * file parser. */
long respSplitInline(char *line, size_t len, size_t base, respArg *argv, long cap, long *want);
#endif
