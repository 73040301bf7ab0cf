/* dassert.h - debug assertions of invariants, on in sanitizer and fuzz builds.
 *
 * Owns: nothing. CACHET_ASSERT(cond) aborts with file:line and the condition
 * when the build defines CACHET_ASSERTS (the Makefile's test-sanitize and
 * fuzz builds do); otherwise it compiles the condition (so it stays valid C)
 * but never evaluates it, and costs nothing.
 * Must never be used for input checks: a release build skips it. */
#ifndef CACHET_DASSERT_H
#define CACHET_DASSERT_H

#ifdef CACHET_ASSERTS
#include <stdio.h>
#include <stdlib.h>
static inline void cachetAssertFail(const char *cond, const char *file, int line) {
    fprintf(stderr, "CACHET_ASSERT failed: %s (%s:%d)\n", cond, file, line);
    abort();
}
#define CACHET_ASSERT(cond) ((cond) ? (void)0 : cachetAssertFail(#cond, __FILE__, __LINE__))
#else
#define CACHET_ASSERT(cond) ((void)sizeof((cond) ? 1 : 0))
#endif

#endif
