/* fuzz_scriptlibs.c - the cmsgpack and struct libraries scripts get
 * (script_cmsgpack.c, script_struct.c), fed raw bytes: the first input byte
 * picks one of the scripts below, the rest is split at its first NUL into
 * ARGV[1] and ARGV[2] (a struct format and its data, or MessagePack input
 * and nothing). Decoders see every byte the fuzzer makes; what decodes is
 * packed again, so the encoder runs on decoded shapes (nested, sparse,
 * NaN keys refused). Each script catches its own errors with pcall, so
 * the run reaches the reply conversion either way.
 *
 * Between inputs the script cache is flushed: nothing grows across inputs.
 * Seeds: fuzz/corpus/scriptlibs (fuzz/seeds.py). */
#include "fuzz_common.h"
#include "client.h"
#include "cmd.h"
#include <string.h>

static client *caller;

static const char *const scripts[] = {
    "return {pcall(cmsgpack.unpack, ARGV[1])}",
    "return {pcall(cmsgpack.unpack_limit, ARGV[1], 3, 1)}",
    "return {pcall(cmsgpack.unpack_one, ARGV[1], 2)}",
    "local t = {pcall(cmsgpack.unpack, ARGV[1])} if t[1] then return {pcall(cmsgpack.pack, unpack(t, 2))} end",
    "return {pcall(struct.unpack, ARGV[1], ARGV[2])}",
    "return {pcall(struct.unpack, ARGV[1], ARGV[2], 3)}",
    "return {pcall(struct.pack, ARGV[1], 1, -2, 3.5, 'abc', 'defgh', 2^40, -2^63, 0/0)}",
    "return {pcall(struct.size, ARGV[1])}",
};
#define NSCRIPTS (sizeof(scripts) / sizeof(scripts[0]))

int LLVMFuzzerInitialize(int *argc, char ***argv) {
    (void)argc;
    (void)argv;
    fuzzServerInit("proto-max-bulk-len 1mb\n");
    caller = clientCreate(NULL);
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (size < 1 || size > 64 * 1024) return 0;
    const char *script = scripts[data[0] % NSCRIPTS];
    const char *rest = (const char *)data + 1;
    size_t restLen = size - 1;
    const char *nul = memchr(rest, '\0', restLen);
    size_t a1 = nul ? (size_t)(nul - rest) : restLen;
    const char *arg2 = nul ? nul + 1 : "";
    size_t a2 = nul ? restLen - a1 - 1 : 0;
    const char *eval[] = {"EVAL", script, "0", rest, arg2};
    const size_t evalLen[] = {4, strlen(script), 1, a1, a2};
    fuzzRunCommand(caller, eval, evalLen, 5);
    const char *flush[] = {"SCRIPT", "FLUSH"};
    const size_t flushLen[] = {6, 5};
    fuzzRunCommand(caller, flush, flushLen, 2);
    fuzzEmptyAllDbs();
    return 0;
}
