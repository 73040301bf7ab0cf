/* rdb_int.h - what rdb.c (the stream: sinks, sources, primitives, whole
 * files, DUMP framing) and rdb_obj.c (one value: encoders, decoders and the
 * builders behind them) share. Private to those two files.
 *
 * Owns: the writer (rdbW) and loader (rdbL) state. Must never be included
 * elsewhere: the public interface is rdb.h. */
#ifndef CACHET_RDB_INT_H
#define CACHET_RDB_INT_H
#include "rdb.h"
#include "server.h"
#include "db.h"
#include <stddef.h>
#include <stdint.h>

#define RDB_WBUF (16 * 1024)     /* writer staging buffer (CRC in big blocks) */
#define RDB_READ_STEP (1 << 20)  /* strings grow by at most this before data proves the length */
#define RDB_HINT_MAX (1 << 16)   /* cap on size hints taken from the input */
#define RDB_ENC_INT8 0
#define RDB_ENC_INT16 1
#define RDB_ENC_INT32 2
#define RDB_ENC_LZF 3

typedef struct rdbW rdbW;
void rdbWFlush(rdbW *w);

/* Staging buffer in front of the sink: values are written in small pieces,
 * the sink (and the CRC) see 16 KiB blocks. */
struct rdbW {
    rdbSink *s;
    int failed;
    int savedErrno;
    size_t len;
    unsigned char *lz; /* LZF output scratch */
    size_t lzcap;
    unsigned char *lp; /* Redis listpack being built (rdb_obj.c) */
    size_t lplen, lpcap;
    unsigned char buf[RDB_WBUF];
};

static inline void rdbWByte(rdbW *w, unsigned char b) {
    if (w->len == sizeof(w->buf)) rdbWFlush(w);
    w->buf[w->len++] = b;
}

typedef struct rdbBuf {
    char *p;
    size_t len, cap;
} rdbBuf;

typedef struct rdbL {
    rdbSource *in;
    char *err;
    size_t errlen;
    int failed;
    rdbBuf key, e1, e2, lz, blob; /* scratch: reused for every key */
    size_t crcLen;                 /* bytes read but not yet in in->crc */
    unsigned char crcPend[4096];
} rdbL;


/* ---- writer primitives (rdb.c) ---- */
void rdbWFlush(rdbW *w);
void rdbWBytes(rdbW *w, const void *p, size_t n);
void rdbWLen(rdbW *w, uint64_t len);
void rdbWLE(rdbW *w, uint64_t v, int n);
int rdbWIntEnc(rdbW *w, long long v);        /* 0 when v needs more than 32 bits */
void rdbWLongLong(rdbW *w, long long v);     /* an integer as an RDB string */
void rdbWString(rdbW *w, const char *p, size_t len); /* int / LZF / raw, as Redis */
void rdbWDouble(rdbW *w, double d);          /* 8 bytes, little endian */
rdbW *rdbWNew(rdbSink *s);
void rdbWFree(rdbW *w);
/* ---- value encoders (rdb_obj.c) ---- */
int rdbWType(const dbEntry *e);              /* the RDB type e is written as */
void rdbWValue(rdbW *w, const dbEntry *e);   /* the body after type (and key) */

/* ---- loader primitives (rdb.c) ---- */
int rdbLFail(rdbL *L, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void rdbBufFree(rdbBuf *b);
void rdbBufReserve(rdbBuf *b, size_t n);
int rdbLRead(rdbL *L, void *p, size_t n);
void rdbLCrcSync(rdbL *L);                   /* brings in->crc up to date */
int rdbLByte(rdbL *L, unsigned char *b);
int rdbLReadInto(rdbL *L, rdbBuf *b, size_t len);
uint64_t rdbLE(const unsigned char *p, int n);
int rdbLLen(rdbL *L, uint64_t *len, int *enc);
int rdbLCount(rdbL *L, uint64_t *n);
int rdbLString(rdbL *L, rdbBuf *b);
int rdbLDoubleText(rdbL *L, double *d);
int rdbLDoubleBin(rdbL *L, double *d);
void rdbLFree(rdbL *L);
/* ---- value decoders (rdb_obj.c) ---- */
int rdbIsObjectType(int t);
dbEntry *rdbLValue(rdbL *L, int type, const char *key, size_t keylen, int *empty);

#endif
