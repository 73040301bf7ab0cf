/* unit.h - the tiny assertion kit for Cachet's C unit tests.
 *
 * Owns: the pass/fail counters of one test binary. Each check counts as
 * passed or failed; a failure prints file:line and what was compared, and
 * testing goes on (a test binary reports every broken check, not only the
 * first). unitDone() prints the closing line "N passed, N failed" alone on
 * a line and returns the exit status: non-zero when anything failed.
 * Must never abort on a failed check: the count is the report. */
#ifndef CACHET_UNIT_H
#define CACHET_UNIT_H
#include <stdio.h>
#include <string.h>

static long unitPassed, unitFailed;
static const char *unitCurrent = "";

static inline void unitPrintBytes(const char *p, size_t len) {
    size_t shown = len < 200 ? len : 200;
    putc('"', stdout);
    for (size_t i = 0; i < shown; i++) {
        unsigned char ch = (unsigned char)p[i];
        if (ch == '\r') fputs("\\r", stdout);
        else if (ch == '\n') fputs("\\n", stdout);
        else if (ch == '"' || ch == '\\') printf("\\%c", ch);
        else if (ch < 32 || ch > 126) printf("\\x%02x", ch);
        else putc(ch, stdout);
    }
    putc('"', stdout);
    if (shown < len) printf("...(%zu bytes)", len);
}

#define UNIT_FAIL_HEAD() printf("FAIL %s:%d [%s] ", __FILE__, __LINE__, unitCurrent)

/* A boolean condition. */
#define CHECK(cond)                                                                                                    \
    do {                                                                                                               \
        if (cond) {                                                                                                    \
            unitPassed++;                                                                                              \
        } else {                                                                                                       \
            unitFailed++;                                                                                              \
            UNIT_FAIL_HEAD();                                                                                          \
            printf("%s\n", #cond);                                                                                     \
        }                                                                                                              \
    } while (0)

/* A condition with a printf-style explanation on failure. */
#define CHECKF(cond, ...)                                                                                              \
    do {                                                                                                               \
        if (cond) {                                                                                                    \
            unitPassed++;                                                                                              \
        } else {                                                                                                       \
            unitFailed++;                                                                                              \
            UNIT_FAIL_HEAD();                                                                                          \
            printf("%s: ", #cond);                                                                                     \
            printf(__VA_ARGS__);                                                                                       \
            putc('\n', stdout);                                                                                        \
        }                                                                                                              \
    } while (0)

/* Two integers (any integer type, compared as long long). */
#define CHECK_EQ_INT(a, b)                                                                                             \
    do {                                                                                                               \
        long long unitA_ = (long long)(a), unitB_ = (long long)(b);                                                    \
        if (unitA_ == unitB_) {                                                                                        \
            unitPassed++;                                                                                              \
        } else {                                                                                                       \
            unitFailed++;                                                                                              \
            UNIT_FAIL_HEAD();                                                                                          \
            printf("%s == %s: got %lld, want %lld\n", #a, #b, unitA_, unitB_);                                         \
        }                                                                                                              \
    } while (0)

/* Byte strings: (p, len) against (q, qlen). */
#define CHECK_EQ_BYTES(p, len, q, qlen)                                                                                \
    do {                                                                                                               \
        const char *unitP_ = (const char *)(p), *unitQ_ = (const char *)(q);                                           \
        size_t unitPl_ = (size_t)(len), unitQl_ = (size_t)(qlen);                                                      \
        if (unitPl_ == unitQl_ && (unitPl_ == 0 || memcmp(unitP_, unitQ_, unitPl_) == 0)) {                            \
            unitPassed++;                                                                                              \
        } else {                                                                                                       \
            unitFailed++;                                                                                              \
            UNIT_FAIL_HEAD();                                                                                          \
            printf("%s: got ", #p);                                                                                    \
            unitPrintBytes(unitP_, unitPl_);                                                                           \
            printf(", want ");                                                                                         \
            unitPrintBytes(unitQ_, unitQl_);                                                                           \
            putc('\n', stdout);                                                                                        \
        }                                                                                                              \
    } while (0)

/* A C string against a C string. */
#define CHECK_EQ_STR(a, b)                                                                                             \
    do {                                                                                                               \
        const char *unitSa_ = (a), *unitSb_ = (b);                                                                     \
        CHECK_EQ_BYTES(unitSa_, strlen(unitSa_), unitSb_, strlen(unitSb_));                                            \
    } while (0)

/* Names the group of checks that follow, for failure messages. */
#define UNIT_SECTION(name) (unitCurrent = (name))

static inline int unitDone(void) {
    fflush(stdout);
    printf("%ld passed, %ld failed\n", unitPassed, unitFailed);
    fflush(stdout);
    return unitFailed ? 1 : 0;
}

#endif
