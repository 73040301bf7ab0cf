/* intset.h - a sorted array of distinct integers, as Redis' intset: the
 * compact encoding of a set whose members are all integers (ENC_INTSET).
 *
 * Owns: one allocation per set (header + elements). Every element has the
 * width of the widest value (2, 4 or 8 bytes); adding a value that does not
 * fit upgrades the whole array to the wider width, and it is never
 * downgraded (as Redis). Elements are kept sorted ascending, so lookups are
 * a binary search and iteration order is numeric.
 * Must never: hold duplicates, or be used through a stale pointer after a
 * call that returns a new one (Add/Remove may reallocate). Elements are kept
 * in native byte order (Redis keeps little endian for its RDB format; a
 * snapshot writer must convert). */
#ifndef CACHET_INTSET_H
#define CACHET_INTSET_H
#include <stddef.h>
#include <stdint.h>

#define INTSET_ENC_INT16 ((uint32_t)sizeof(int16_t))
#define INTSET_ENC_INT32 ((uint32_t)sizeof(int32_t))
#define INTSET_ENC_INT64 ((uint32_t)sizeof(int64_t))

typedef struct intset {
    uint32_t encoding; /* bytes per element: INTSET_ENC_* */
    uint32_t length;   /* elements */
    int8_t contents[];
} intset;

intset *intsetNew(void);
void intsetFree(intset *is);
intset *intsetDup(const intset *is);
/* Adds value; *success is 1 when it was not there. Returns the set to use. */
intset *intsetAdd(intset *is, int64_t value, uint8_t *success);
/* Removes value; *success is 1 when it was there. Returns the set to use. */
intset *intsetRemove(intset *is, int64_t value, int *success);
uint8_t intsetFind(const intset *is, int64_t value);
/* Uniformly random element; the set must not be empty. */
int64_t intsetRandom(const intset *is);
/* Element at pos (0-based, ascending); returns 0 when pos is out of range. */
uint8_t intsetGet(const intset *is, uint32_t pos, int64_t *value);
uint32_t intsetLen(const intset *is);
size_t intsetBlobLen(const intset *is); /* header + elements, in bytes */
/* The encoding a value needs: INTSET_ENC_INT16/32/64. */
uint32_t intsetValueEncoding(int64_t v);

#endif
