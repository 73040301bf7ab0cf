/* fuzz_stream.c - libFuzzer harness for the stream encoding (stream.c):
 * the input is a sequence of appends (explicit, partial and clock ids, field
 * sets that do and do not match the node's master entry, integer and string
 * values), deletes, exact and approximate trims and copies, checked after
 * every step against a plain model (tests/unit/stream_model.h): length,
 * first id, every node valid in Redis' layout, iteration both ways.
 *
 * Owns: nothing. Must never keep state between inputs. */
#include "../tests/unit/stream_model.h"
#include <stdio.h>
#include <stdlib.h>

static int fuzzSmFail(const char *what) {
    fprintf(stderr, "fuzz_stream: %s\n", what);
    abort();
}

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size);
int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size) {
    smBytes b = {data, size, 0};
    smRun(&b, fuzzSmFail);
    return 0;
}
