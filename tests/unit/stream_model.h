/* stream_model.h - drives the stream encoding (stream.c) with an operation
 * sequence read from bytes and checks it against a plain array model after
 * every step; shared by tests/unit/test_stream.c (seeded bytes) and
 * fuzz/fuzz_stream.c (libFuzzer's bytes).
 *
 * Owns: the model. Checked after each operation: length and first id,
 * every node valid (streamValidateNode: counts, ids ascending, Redis' layout),
 * forward and reverse iteration over random ranges equal to the model's,
 * and a duplicate equal to the original. Must never: depend on the clock
 * (ids are explicit or derived from a fixed "now"). */
#ifndef CACHET_STREAM_MODEL_H
#define CACHET_STREAM_MODEL_H
#include "lpack.h"
#include "server.h"
#include "db.h"
#include "stream.h"
#include <stdlib.h>
#include <string.h>

typedef struct smBytes {
    const unsigned char *p;
    size_t len, pos;
} smBytes;

static unsigned smByte(smBytes *b) { return b->pos < b->len ? b->p[b->pos++] : 0; }
static int smMore(smBytes *b) { return b->pos < b->len; }

#define SM_MAXF 4
typedef struct smEntry {
    streamID id;
    int nf;
    char f[SM_MAXF][24], v[SM_MAXF][24];
    size_t fl[SM_MAXF], vl[SM_MAXF];
} smEntry;

typedef struct smModel {
    smEntry *e;
    size_t n, cap;
} smModel;

/* Reports a failed check; returns 0 so callers can `return smFail(...)`. */
typedef int smFailFn(const char *what);

static void smPush(smModel *m, const smEntry *e) {
    if (m->n == m->cap) {
        m->cap = m->cap ? m->cap * 2 : 64;
        m->e = realloc(m->e, m->cap * sizeof(*m->e));
    }
    m->e[m->n++] = *e;
}

static int smCheckRange(stream *s, smModel *m, const streamID *lo, const streamID *hi, int rev, smFailFn *fail) {
    streamIter it;
    streamID id;
    int64_t nf;
    streamIterStart(&it, s, lo, hi, rev);
    size_t i = rev ? m->n : 0;
    for (;;) {
        /* Next model entry in range. */
        const smEntry *want = NULL;
        while (rev ? i > 0 : i < m->n) {
            const smEntry *c = rev ? &m->e[--i] : &m->e[i++];
            if (streamCompareID(&c->id, lo) >= 0 && streamCompareID(&c->id, hi) <= 0) {
                want = c;
                break;
            }
        }
        int got = streamIterNext(&it, &id, &nf);
        if (!want) return got ? fail("iterator returned an entry past the model's range") : 1;
        if (!got) return fail("iterator ended before the model");
        if (streamCompareID(&id, &want->id) != 0) return fail("iterator id differs");
        if (nf != want->nf) return fail("field count differs");
        for (int k = 0; k < want->nf; k++) {
            char fb[LP_INTBUF_SIZE], vb[LP_INTBUF_SIZE];
            const char *f, *v;
            size_t fl, vl;
            streamIterField(&it, fb, &f, &fl, vb, &v, &vl);
            if (fl != want->fl[k] || memcmp(f, want->f[k], fl) != 0) return fail("field differs");
            if (vl != want->vl[k] || memcmp(v, want->v[k], vl) != 0) return fail("value differs");
        }
    }
}

static int smCheckAll(stream *s, smModel *m, smBytes *b, smFailFn *fail) {
    if (s->length != m->n) return fail("length differs from the model");
    streamID first = {0, 0};
    if (m->n) first = m->e[0].id;
    if (streamCompareID(&s->firstId, &first) != 0) return fail("first id differs");
    streamID after = {0, 0};
    uint64_t live = 0;
    for (size_t i = 0; i < s->nnodes; i++) {
        if (i && streamCompareID(&s->nodes[i].master, &s->nodes[i - 1].master) <= 0) return fail("node order");
        if (!streamValidateNode(s->nodes[i].lp, streamNodeBytes(s->nodes[i].lp), &s->nodes[i].master, &after, &live))
            return fail("node does not validate");
    }
    if (live != s->length) return fail("live entries in nodes differ from length");
    if (s->nnodes && streamCompareID(&after, &s->lastId) > 0) return fail("entry above last id");
    streamID lo = {0, 0}, hi = {UINT64_MAX, UINT64_MAX};
    if (!smCheckRange(s, m, &lo, &hi, 0, fail) || !smCheckRange(s, m, &lo, &hi, 1, fail)) return 0;
    if (m->n) {
        /* A random range around existing ids. */
        streamID a = m->e[smByte(b) % m->n].id, z = m->e[smByte(b) % m->n].id;
        if (smByte(b) & 1) streamIncrID(&a);
        if (smByte(b) & 1) streamDecrID(&z);
        if (!smCheckRange(s, m, &a, &z, 0, fail) || !smCheckRange(s, m, &a, &z, 1, fail)) return 0;
    }
    return 1;
}

static void smFillEntry(smBytes *b, smEntry *e) {
    static const char *names[] = {"a", "b", "field", "12", "-7", ""};
    unsigned shape = smByte(b);
    e->nf = 1 + (int)(shape % SM_MAXF);
    for (int k = 0; k < e->nf; k++) {
        const char *n = names[(shape / 4 + (unsigned)k) % 6];
        e->fl[k] = strlen(n);
        memcpy(e->f[k], n, e->fl[k]);
        unsigned kind = smByte(b) % 4;
        if (kind == 0) { /* an integer of some width */
            long long v = (long long)((uint64_t)(int64_t)(int8_t)smByte(b) << (smByte(b) % 56));
            e->vl[k] = (size_t)ll2string(e->v[k], sizeof(e->v[k]), v);
        } else {
            size_t len = smByte(b) % sizeof(e->v[k]);
            for (size_t j = 0; j < len; j++) e->v[k][j] = (char)('a' + smByte(b) % 26);
            if (kind == 1 && len) e->v[k][0] = '0'; /* leading zero: stays a string */
            e->vl[k] = len;
        }
    }
}

/* Runs the operations in b; returns 1 when every check held. */
static int smRun(smBytes *b, smFailFn *fail) {
    long long maxBytes = (long long)(smByte(b) % 4) * 200, maxEntries = smByte(b) % 12;
    stream *s = streamNew();
    smModel m = {0};
    int ok = 1;
    long long now = 1000;
    while (ok && smMore(b)) {
        unsigned op = smByte(b) % 8;
        if (op <= 3) { /* append */
            smEntry e;
            smFillEntry(b, &e);
            streamField fv[SM_MAXF * 2];
            for (int k = 0; k < e.nf; k++) {
                fv[2 * k] = (streamField){e.f[k], e.fl[k]};
                fv[2 * k + 1] = (streamField){e.v[k], e.vl[k]};
            }
            unsigned how = smByte(b) % 4;
            streamID use = s->lastId, got;
            int seqGiven = 1;
            const streamID *up = &use;
            if (how == 0) {
                up = NULL;
                now += smByte(b) % 3;
            } else if (how == 1) {
                use.ms += smByte(b) % 3;
                seqGiven = 0;
            } else {
                use.ms += smByte(b) % 2;
                use.seq = use.seq + smByte(b) % 3; /* may be equal: refused */
            }
            streamID before = s->lastId;
            int rc = streamAppend(s, fv, e.nf, &got, up, seqGiven, maxBytes, maxEntries, now);
            if (rc == 0) {
                if (streamCompareID(&got, &before) <= 0) ok = fail("appended id not above the last");
                e.id = got;
                smPush(&m, &e);
            } else if (up && seqGiven && streamCompareID(up, &before) > 0) {
                ok = fail("append refused an id above the last");
            }
        } else if (op == 4 && m.n) { /* delete a live id, or one that is not there */
            size_t i = smByte(b) % m.n;
            streamID id = m.e[i].id;
            int miss = smByte(b) & 1;
            if (miss) streamIncrID(&id);
            int present = !miss || (i + 1 < m.n && streamCompareID(&m.e[i + 1].id, &id) == 0);
            int d = streamDeleteID(s, &id);
            if (d != present) ok = fail("delete result differs");
            if (d) {
                size_t at = miss ? i + 1 : i;
                memmove(m.e + at, m.e + at + 1, (m.n - at - 1) * sizeof(*m.e));
                m.n--;
                /* t_stream.c's XDEL bookkeeping */
                if (m.n == 0) s->firstId.ms = s->firstId.seq = 0;
                else streamEdgeID(s, 1, &s->firstId);
            }
        } else if (op == 5 || op == 6) { /* trim */
            int strategy = op == 5 ? STREAM_TRIM_MAXLEN : STREAM_TRIM_MINID;
            int approx = smByte(b) & 1;
            int64_t limit = approx ? (int64_t)(smByte(b) % 30) : 0;
            uint64_t maxlen = smByte(b) % 40;
            streamID minid = {0, 0};
            if (m.n) minid = m.e[smByte(b) % m.n].id;
            size_t before = m.n;
            int64_t del = streamTrim(s, strategy, maxlen, &minid, approx, limit);
            if (del < 0 || (size_t)del > m.n) {
                ok = fail("trim count out of range");
                break;
            }
            /* Trimming removes from the head only. */
            if (del) memmove(m.e, m.e + del, (m.n - (size_t)del) * sizeof(*m.e));
            m.n -= (size_t)del;
            if (!approx && strategy == STREAM_TRIM_MAXLEN && m.n != (before < maxlen ? before : maxlen))
                ok = fail("exact MAXLEN left the wrong length");
            if (!approx && strategy == STREAM_TRIM_MINID && m.n && streamCompareID(&m.e[0].id, &minid) < 0)
                ok = fail("exact MINID left an entry below the id");
            if (strategy == STREAM_TRIM_MAXLEN && before > maxlen && m.n < maxlen) ok = fail("MAXLEN removed too much");
        } else if (op == 7) { /* duplicate, then continue on the copy */
            stream *d = streamDup(s);
            streamFree(s);
            s = d;
        }
        if (ok) ok = smCheckAll(s, &m, b, fail);
    }
    streamFree(s);
    free(m.e);
    return ok;
}

#endif
