/* fuzz_stream_cg.c - libFuzzer harness for consumer groups (stream_cg.c):
 * the input is a sequence of operations on one stream's groups: create and
 * destroy groups, create and delete consumers, deliver ids (new NACKs or
 * handed over), ack, move between consumers, duplicate the whole set; the
 * PELs are checked after every step against a plain model (an array of
 * (id, group, consumer) triples), and the idmap's order, seek and edges
 * against the sorted model. Invariants of stream_cg.h are asserted by
 * streamCGCheck (CACHET_ASSERTS is on in fuzz builds).
 *
 * Owns: nothing. Must never keep state between inputs. */
#include "stream.h"
#include "db.h"
#include "stream_cg.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define NG 3
#define NC 4
#define MAXP 4096

typedef struct {
    streamID id;
    int g, c;
} pend;

static pend model[MAXP];
static int nmodel;

static void fail(const char *what) {
    fprintf(stderr, "fuzz_stream_cg: %s\n", what);
    abort();
}

static const char *gname[NG] = {"g0", "g1", "group2"};
static const char *cname[NC] = {"a", "b", "bb", "consumer"};

static int mfind(const streamID *id, int g) {
    for (int i = 0; i < nmodel; i++)
        if (model[i].g == g && streamCompareID(&model[i].id, id) == 0) return i;
    return -1;
}

static int cmpPend(const void *a, const void *b) { return streamCompareID(&((const pend *)a)->id, &((const pend *)b)->id); }

/* Every group's PEL (and each consumer's) holds exactly the model's ids, in order. */
static void check(stream *s) {
    streamCGCheck(s);
    static pend sorted[MAXP];
    memcpy(sorted, model, sizeof(pend) * (size_t)nmodel);
    qsort(sorted, (size_t)nmodel, sizeof(pend), cmpPend);
    for (int g = 0; g < NG; g++) {
        streamCG *cg = streamCGLookup(s, gname[g], strlen(gname[g]));
        if (!cg) continue;
        idmapPos pos;
        streamID id;
        void *v;
        int k = 0;
        idmapSeek(&cg->pel, NULL, &pos);
        while (idmapNext(&cg->pel, &pos, &id, &v)) {
            while (k < nmodel && sorted[k].g != g) k++;
            if (k == nmodel || streamCompareID(&sorted[k].id, &id) != 0) fail("group PEL differs from the model");
            const streamNACK *n = v;
            if (strcmp(n->consumer->name, cname[sorted[k].c]) != 0) fail("wrong owner");
            k++;
        }
        while (k < nmodel && sorted[k].g != g) k++;
        if (k != nmodel) fail("model has more pending entries");
    }
}

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size);
int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size) {
    stream *s = streamNew();
    nmodel = 0;
    for (size_t i = 0; i + 3 <= size; i += 3) {
        int op = data[i] % 9, g = (data[i] >> 4) % NG, c = data[i + 1] % NC;
        streamID id = {data[i + 2] % 64, data[i + 1] >> 6};
        streamCG *cg = streamCGLookup(s, gname[g], strlen(gname[g]));
        switch (op) {
        case 0: /* create the group */
            if (!cg) {
                streamID z = {0, 0};
                if (!streamCGCreate(s, gname[g], strlen(gname[g]), &z, -1)) fail("create failed");
            } else if (streamCGCreate(s, gname[g], strlen(gname[g]), &id, -1)) {
                fail("created twice");
            }
            break;
        case 1: /* destroy it */
            if (streamCGDestroy(s, gname[g], strlen(gname[g])) != (cg != NULL)) fail("destroy result");
            for (int k = 0; k < nmodel;)
                if (model[k].g == g) model[k] = model[--nmodel];
                else k++;
            break;
        case 2: case 3: { /* deliver id to c: new, or handed over */
            if (!cg || nmodel == MAXP) break;
            streamConsumer *sc = streamConsumerLookup(cg, cname[c], strlen(cname[c]));
            if (!sc) sc = streamConsumerCreate(cg, cname[c], strlen(cname[c]), 0);
            streamNACK *n = idmapFind(&cg->pel, &id);
            int k = mfind(&id, g);
            if ((n != NULL) != (k >= 0)) fail("find differs from the model");
            if (n) {
                streamNACKMove(&id, n, sc);
                model[k].c = c;
            } else {
                n = streamNACKNew(sc, 0);
                if (!idmapInsert(&cg->pel, &id, n) || !idmapInsert(&sc->pel, &id, n)) fail("insert failed");
                model[nmodel++] = (pend){id, g, c};
            }
            break;
        }
        case 4: { /* ack */
            if (!cg) break;
            streamNACK *n = idmapFind(&cg->pel, &id);
            int k = mfind(&id, g);
            if ((n != NULL) != (k >= 0)) fail("ack find differs");
            if (n) {
                streamNACKDelete(cg, &id, n);
                model[k] = model[--nmodel];
            }
            break;
        }
        case 5: { /* delete the consumer */
            if (!cg) break;
            streamConsumer *sc = streamConsumerLookup(cg, cname[c], strlen(cname[c]));
            if (!sc) break;
            uint64_t had = 0;
            for (int k = 0; k < nmodel;)
                if (model[k].g == g && model[k].c == c) {
                    model[k] = model[--nmodel];
                    had++;
                } else {
                    k++;
                }
            if (streamConsumerDelete(cg, sc) != had) fail("delconsumer count");
            break;
        }
        case 6: { /* seek: the first id >= id, as the model says */
            if (!cg) break;
            idmapPos pos;
            streamID got, want = {UINT64_MAX, UINT64_MAX};
            int found = 0;
            for (int k = 0; k < nmodel; k++)
                if (model[k].g == g && streamCompareID(&model[k].id, &id) >= 0 &&
                    streamCompareID(&model[k].id, &want) <= 0) {
                    want = model[k].id;
                    found = 1;
                }
            int has = idmapSeek(&cg->pel, &id, &pos) && idmapNext(&cg->pel, &pos, &got, NULL);
            if (has != found || (has && streamCompareID(&got, &want) != 0)) fail("seek differs");
            break;
        }
        case 7: { /* duplicate and swap: the copy must be equivalent */
            if (!s->cgroups) break;
            streamCGs *d = streamCGsDup(s->cgroups);
            streamCGsFree(s->cgroups);
            s->cgroups = d;
            break;
        }
        default: /* many deliveries to one consumer: chunks split */
            if (!cg) break;
            for (int k = 0; k < 200 && nmodel < MAXP; k++) {
                streamID big = {1000 + (uint64_t)data[i + 2] * 256 + (uint64_t)k, 0};
                if (idmapFind(&cg->pel, &big)) continue;
                streamConsumer *sc = streamConsumerLookup(cg, cname[c], strlen(cname[c]));
                if (!sc) sc = streamConsumerCreate(cg, cname[c], strlen(cname[c]), 0);
                streamNACK *n = streamNACKNew(sc, 0);
                idmapInsert(&cg->pel, &big, n);
                idmapInsert(&sc->pel, &big, n);
                model[nmodel++] = (pend){big, g, c};
            }
        }
        check(s);
    }
    (void)streamCGsMemory;
    streamFree(s);
    return 0;
}
