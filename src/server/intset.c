/* intset.c - sorted integer array with 16/32/64-bit upgrade (see intset.h).
 *
 * Owns: the intset allocation only; callers keep the returned pointer.
 * Must never: read or write an element except through getEncoded/setEncoded
 * (memcpy: contents are not aligned for 8-byte access), or leave the array
 * unsorted or with a duplicate. Memory goes through mem.h. */
#include "intset.h"
#include "db.h"
#include "mem.h"
#include <stdlib.h>
#include <string.h>

uint32_t intsetValueEncoding(int64_t v) {
    if (v < INT32_MIN || v > INT32_MAX) return INTSET_ENC_INT64;
    if (v < INT16_MIN || v > INT16_MAX) return INTSET_ENC_INT32;
    return INTSET_ENC_INT16;
}

static int64_t getEncoded(const intset *is, uint32_t pos, uint32_t enc) {
    if (enc == INTSET_ENC_INT64) {
        int64_t v;
        memcpy(&v, is->contents + (size_t)pos * 8, 8);
        return v;
    } else if (enc == INTSET_ENC_INT32) {
        int32_t v;
        memcpy(&v, is->contents + (size_t)pos * 4, 4);
        return v;
    } else {
        int16_t v;
        memcpy(&v, is->contents + (size_t)pos * 2, 2);
        return v;
    }
}

static int64_t getAt(const intset *is, uint32_t pos) { return getEncoded(is, pos, is->encoding); }

static void setAt(intset *is, uint32_t pos, int64_t value) {
    if (is->encoding == INTSET_ENC_INT64) {
        memcpy(is->contents + (size_t)pos * 8, &value, 8);
    } else if (is->encoding == INTSET_ENC_INT32) {
        int32_t v = (int32_t)value;
        memcpy(is->contents + (size_t)pos * 4, &v, 4);
    } else {
        int16_t v = (int16_t)value;
        memcpy(is->contents + (size_t)pos * 2, &v, 2);
    }
}

intset *intsetNew(void) {
    intset *is = memAlloc(sizeof(*is));
    is->encoding = INTSET_ENC_INT16;
    is->length = 0;
    return is;
}

void intsetFree(intset *is) { memFree(is); }

intset *intsetDup(const intset *is) {
    size_t n = intsetBlobLen(is);
    intset *c = memAlloc(n);
    memcpy(c, is, n);
    return c;
}

static intset *resize(intset *is, uint32_t len) {
    return memRealloc(is, sizeof(intset) + (size_t)len * is->encoding);
}

/* Binary search. Returns 1 and the position when found; otherwise 0 and the
 * position where value would be inserted. */
static uint8_t search(const intset *is, int64_t value, uint32_t *pos) {
    if (is->length == 0) {
        if (pos) *pos = 0;
        return 0;
    }
    /* Fast answers at either end: appends of growing ids are common. */
    if (value > getAt(is, is->length - 1)) {
        if (pos) *pos = is->length;
        return 0;
    }
    if (value < getAt(is, 0)) {
        if (pos) *pos = 0;
        return 0;
    }
    int64_t lo = 0, hi = (int64_t)is->length - 1;
    while (lo <= hi) {
        int64_t mid = lo + (hi - lo) / 2;
        int64_t cur = getAt(is, (uint32_t)mid);
        if (value > cur) lo = mid + 1;
        else if (value < cur) hi = mid - 1;
        else {
            if (pos) *pos = (uint32_t)mid;
            return 1;
        }
    }
    if (pos) *pos = (uint32_t)lo;
    return 0;
}

/* value does not fit the current width, so it is smaller or larger than
 * every element: it goes first or last. Elements are widened back to front
 * so that none is overwritten before it is read. */
static intset *upgradeAndAdd(intset *is, int64_t value) {
    uint32_t oldEnc = is->encoding;
    int prepend = value < 0 ? 1 : 0;
    uint32_t len = is->length;
    is->encoding = intsetValueEncoding(value);
    is = resize(is, len + 1);
    for (uint32_t i = len; i-- > 0;) setAt(is, i + (uint32_t)prepend, getEncoded(is, i, oldEnc));
    if (prepend) setAt(is, 0, value);
    else setAt(is, len, value);
    is->length = len + 1;
    return is;
}

static void moveTail(intset *is, uint32_t from, uint32_t to) {
    size_t bytes = (size_t)(is->length - from) * is->encoding;
    memmove(is->contents + (size_t)to * is->encoding, is->contents + (size_t)from * is->encoding, bytes);
}

intset *intsetAdd(intset *is, int64_t value, uint8_t *success) {
    uint32_t pos;
    if (success) *success = 1;
    if (intsetValueEncoding(value) > is->encoding) return upgradeAndAdd(is, value);
    if (search(is, value, &pos)) {
        if (success) *success = 0;
        return is;
    }
    is = resize(is, is->length + 1);
    if (pos < is->length) moveTail(is, pos, pos + 1);
    setAt(is, pos, value);
    is->length++;
    return is;
}

intset *intsetRemove(intset *is, int64_t value, int *success) {
    uint32_t pos;
    if (success) *success = 0;
    if (intsetValueEncoding(value) > is->encoding || !search(is, value, &pos)) return is;
    if (success) *success = 1;
    if (pos < is->length - 1) moveTail(is, pos + 1, pos);
    is->length--;
    return resize(is, is->length);
}

uint8_t intsetFind(const intset *is, int64_t value) {
    return intsetValueEncoding(value) <= is->encoding && search(is, value, NULL);
}

int64_t intsetRandom(const intset *is) {
    /* random() gives 31 bits: combine two for sets beyond 2^31 elements. */
    uint64_t r = ((uint64_t)random() << 31) ^ (uint64_t)random();
    return getAt(is, (uint32_t)(r % is->length));
}

uint8_t intsetGet(const intset *is, uint32_t pos, int64_t *value) {
    if (pos >= is->length) return 0;
    *value = getAt(is, pos);
    return 1;
}

uint32_t intsetLen(const intset *is) { return is->length; }

size_t intsetBlobLen(const intset *is) { return sizeof(intset) + (size_t)is->length * is->encoding; }
