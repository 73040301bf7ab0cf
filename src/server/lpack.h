/* lpack.h - a packed array of small strings and integers in one allocation
 * (the role Redis' listpack plays): small hashes, small sorted sets and the
 * nodes of a quicklist live in one of these instead of one heap node per
 * element.
 *
 * Layout: a 4-byte total size and a 2-byte element count (65535: count by
 * walking), then the elements,
 * then one 0xFF end byte. Each element is a header byte (integer or string
 * length, see lpack.c), its payload, and its own size written backwards
 * (1..5 bytes) so the array can be walked from either end.
 *
 * Element positions are `unsigned char *` into the array. Every function that
 * may grow or shrink the array returns the (possibly moved) array: positions
 * taken before such a call are invalid after it, except the ones the call
 * hands back through an out parameter. Strings that are canonical decimal
 * integers (string2ll) are stored as integers and read back as the same
 * bytes, so callers never see the difference.
 *
 * Never: store a pointer to anything outside the array, or grow past 4 GiB
 * (callers convert to a bigger structure long before: see the *-max-listpack-*
 * configs). */
#ifndef CACHET_LPACK_H
#define CACHET_LPACK_H

#include <stddef.h>
#include <stdint.h>

#define LP_INTBUF_SIZE 21 /* room for a long long in decimal, no NUL needed */

unsigned char *lpNew(size_t capacity);   /* empty array; capacity is a hint */
void lpFree(unsigned char *lp);
size_t lpBytes(const unsigned char *lp); /* total size in bytes */
unsigned long lpLength(const unsigned char *lp); /* number of elements */

/* Walking. All return NULL past either end or for an empty array. */
unsigned char *lpFirst(unsigned char *lp);
unsigned char *lpLast(unsigned char *lp);
unsigned char *lpNext(unsigned char *lp, unsigned char *p);
unsigned char *lpPrev(unsigned char *lp, unsigned char *p);
/* Element at index (negative counts from the end: -1 is the last). */
unsigned char *lpSeek(unsigned char *lp, long index);

/* The value at p. Integers come back as decimal text written into buf
 * (LP_INTBUF_SIZE bytes); strings point into the array. When ival is not
 * NULL and the element is an integer, *ival is set and 1 returned through
 * *isint (isint may be NULL). Returns the bytes; *len their length. */
const char *lpGet(const unsigned char *p, char *buf, size_t *len, long long *ival, int *isint);
/* 1 when the element at p equals s[0..len) as bytes. */
int lpEq(const unsigned char *p, const char *s, size_t len);

/* Adding. where: LP_BEFORE or LP_AFTER the element at p. When newp is not
 * NULL it receives the position of the inserted element. */
#define LP_BEFORE 0
#define LP_AFTER 1
unsigned char *lpAppend(unsigned char *lp, const char *s, size_t len);
unsigned char *lpPrepend(unsigned char *lp, const char *s, size_t len);
unsigned char *lpAppendInteger(unsigned char *lp, long long v);
unsigned char *lpInsert(unsigned char *lp, unsigned char *p, int where, const char *s, size_t len,
                        unsigned char **newp);
/* Replaces the element at *p with s; *p is updated to the new position. */
unsigned char *lpReplace(unsigned char *lp, unsigned char **p, const char *s, size_t len);

/* Removing. lpDelete: *next (may be NULL) receives the element that followed
 * p, or NULL when p was the last. lpDeleteRange: num elements from index
 * (negative from the end); fewer if the array ends first. */
unsigned char *lpDelete(unsigned char *lp, unsigned char *p, unsigned char **next);
unsigned char *lpDeleteRange(unsigned char *lp, long index, unsigned long num);

/* Searching: the first element at or after p, looking at p and then every
 * (skip+1)th element, equal to s (skip=1 walks the fields of a
 * field,value,field,value array). NULL when absent. */
unsigned char *lpFind(unsigned char *lp, unsigned char *p, const char *s, size_t len, unsigned int skip);

/* Size-check helpers for the conversions to full structures. */
int lpSafeToAdd(const unsigned char *lp, size_t add); /* 1 while well under 1 GiB */

#endif
