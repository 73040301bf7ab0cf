/* util.h - number and string conversions with Redis' exact rules, glob
 * matching, strong randomness, clocks, whole-buffer writes and growable text.
 * Pure helpers shared by every binary: they own no state beyond the random
 * source and never reply to anyone (the data node's argument parsers that
 * reply errors live in server/args.c). */
#ifndef CACHET_UTIL_H
#define CACHET_UTIL_H

#include <stddef.h>

#define LONG_STR_SIZE 21
#define MAX_LONG_DOUBLE_CHARS (5 * 1024)

/* A byte string view: bytes that live elsewhere (a query buffer, a MULTI
 * queue copy) for as long as the view is used. Not NUL-terminated. */
typedef struct slice {
    const char *p;
    size_t len;
} slice;

/* 1 on success (Redis' rules: no "+1", " 1" or "01"), 0 otherwise. */
int string2ll(const char *s, size_t len, long long *v);
int string2ld(const char *s, size_t len, long double *v);
int string2d(const char *s, size_t len, double *v);
int ll2string(char *dst, size_t dstlen, long long v);
int d2string(char *buf, size_t len, double value);
int ld2string(char *buf, size_t len, long double value, int humanfriendly);
int globMatch(const char *pat, size_t patlen, const char *s, size_t slen, int nocase);
int sliceEqNocase(slice s, const char *lit);
int memtoull(const char *p, size_t len, unsigned long long *out); /* "1gb" */
void bytesToHuman(char *s, size_t size, unsigned long long n);
/* Cryptographically strong bytes (getrandom, else OpenSSL); -1 if neither
 * can give them: the caller fails, it never falls back to weaker ones. */
int randomHex(char *p, size_t len);
int randomBytes(unsigned char *p, size_t len);
int fdWriteAll(int fd, const void *p, size_t n); /* 0, or -1 with errno */
long long ustime(void);
long long mstime(void);

/* Growable NUL-terminated text (INFO, LATENCY DOCTOR...): start from
 * {0}; b->p is memAlloc'd and owned by the caller. */
typedef struct textBuf {
    char *p;
    size_t len, cap;
} textBuf;
void textAppend(textBuf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* n bytes of s as they are (no format): the fast path for text built from
 * many small pieces (cachetd's XML). */
void textAppendBytes(textBuf *b, const char *s, size_t n);

#endif
