/* test_util.c - unit tests for util.c: Redis-strict number parsing and
 * printing, memory units and glob matching.
 *
 * Owns: nothing in the server. The expectations are Redis 7.0's (checked
 * against redis-server 7.0.15): what it rejects, Cachet rejects; doubles
 * print as Redis 7.0 prints them. Must never accept a slow glob: the crafted
 * pattern tests have a time bound. */
#include "server.h"
#include "db.h"
#include "unit.h"
#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static int s2ll(const char *s, long long *v) { return string2ll(s, strlen(s), v); }

static void testString2ll(void) {
    UNIT_SECTION("string2ll");
    long long v = 12345;
    struct {
        const char *s;
        int ok;
        long long v;
    } cases[] = {
        {"0", 1, 0},
        {"1", 1, 1},
        {"-1", 1, -1},
        {"123456", 1, 123456},
        {"9223372036854775807", 1, LLONG_MAX},
        {"-9223372036854775808", 1, LLONG_MIN},
        {"-9223372036854775807", 1, LLONG_MIN + 1},
        {"9223372036854775808", 0, 0},   /* LLONG_MAX + 1 */
        {"-9223372036854775809", 0, 0},  /* LLONG_MIN - 1 */
        {"18446744073709551615", 0, 0},  /* ULLONG_MAX */
        {"18446744073709551616", 0, 0},  /* ULLONG_MAX + 1: must not wrap */
        {"99999999999999999999", 0, 0},
        {"100000000000000000000", 0, 0}, /* 21 chars */
        {"-0", 0, 0},
        {"01", 0, 0},
        {"00", 0, 0},
        {"-01", 0, 0},
        {"+1", 0, 0},
        {" 1", 0, 0},
        {"1 ", 0, 0},
        {"", 0, 0},
        {"-", 0, 0},
        {"1a", 0, 0},
        {"a1", 0, 0},
        {"1.0", 0, 0},
        {"1e3", 0, 0},
        {"0x10", 0, 0},
        {"--1", 0, 0},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        v = 777;
        int ok = s2ll(cases[i].s, &v);
        CHECKF(ok == cases[i].ok, "string2ll(\"%s\") returned %d", cases[i].s, ok);
        if (ok && cases[i].ok) CHECKF(v == cases[i].v, "string2ll(\"%s\") = %lld", cases[i].s, v);
    }
    /* Not NUL-terminated: only len bytes count. */
    CHECK(string2ll("123456", 3, &v) && v == 123);
    CHECK(string2ll("12\0" "3", 4, &v) == 0);
    CHECK(string2ll("-5xyz", 2, &v) && v == -5);
}

static void testLl2string(void) {
    UNIT_SECTION("ll2string");
    char buf[32];
    struct {
        long long v;
        const char *s;
    } cases[] = {{0, "0"},
                 {1, "1"},
                 {-1, "-1"},
                 {10, "10"},
                 {-10, "-10"},
                 {1234567890123LL, "1234567890123"},
                 {LLONG_MAX, "9223372036854775807"},
                 {LLONG_MIN, "-9223372036854775808"}};
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        int n = ll2string(buf, sizeof(buf), cases[i].v);
        CHECK_EQ_INT(n, strlen(cases[i].s));
        CHECK_EQ_STR(buf, cases[i].s);
        /* And back. */
        long long back;
        CHECK(string2ll(buf, (size_t)n, &back) && back == cases[i].v);
    }
    /* Too small a buffer: 0, and an empty string. */
    char small[4];
    CHECK_EQ_INT(ll2string(small, sizeof(small), 12345), 0);
    CHECK_EQ_STR(small, "");
    CHECK_EQ_INT(ll2string(small, sizeof(small), 123), 3); /* exactly fits with the NUL */
    CHECK_EQ_STR(small, "123");
    CHECK_EQ_INT(ll2string(small, sizeof(small), -123), 0);
    /* LONG_STR_SIZE holds every long long. */
    char exact[LONG_STR_SIZE];
    CHECK_EQ_INT(ll2string(exact, sizeof(exact), LLONG_MIN), 20);
}

static void testD2string(void) {
    UNIT_SECTION("d2string (Redis 7.0 format)");
    char buf[128];
    struct {
        double v;
        const char *s;
    } cases[] = {
        {3.0, "3"},
        {1.5, "1.5"},
        {-2.0, "-2"},
        {0.0, "0"},
        {-0.0, "-0"},
        {0.1, "0.10000000000000001"},
        {1.0 / 3, "0.33333333333333331"},
        {-1.25, "-1.25"},
        {1e15, "1000000000000000"},
        {4503599627370495.0, "4503599627370495"},  /* 2^52 - 1: integer path */
        {4503599627370496.0, "4503599627370496"},  /* 2^52: %.17g prints it the same */
        {1e20, "1e+20"},
        {123456789.25, "123456789.25"},
        {1e-5, "1.0000000000000001e-05"},
        {INFINITY, "inf"},
        {-INFINITY, "-inf"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        int n = d2string(buf, sizeof(buf), cases[i].v);
        CHECKF(n == (int)strlen(cases[i].s) && strcmp(buf, cases[i].s) == 0, "d2string(%.17g) = \"%s\", want \"%s\"",
               cases[i].v, buf, cases[i].s);
    }
    int n = d2string(buf, sizeof(buf), NAN);
    CHECK(n == 3 && strcmp(buf, "nan") == 0);
}

static void testLd2string(void) {
    UNIT_SECTION("ld2string");
    char buf[MAX_LONG_DOUBLE_CHARS];
    struct {
        long double v;
        int human;
        const char *s;
    } cases[] = {
        {3.0L, 1, "3"},
        {1.5L, 1, "1.5"},
        {10.6L, 1, "10.6"}, /* INCRBYFLOAT mykey 0.1 on 10.50 */
        {0.1L, 1, "0.1"},
        {5000.0L, 1, "5000"},
        {-1.25L, 1, "-1.25"},
        {-0.0L, 1, "0"},
        {0.0L, 1, "0"},
        {1e20L, 1, "100000000000000000000"},
        {0.00001L, 1, "0.00001"},
        {100.0L, 1, "100"},
        {INFINITY, 1, "inf"},
        {-INFINITY, 1, "-inf"},
        {1.5L, 0, "1.5"},
        {1e20L, 0, "1e+20"},
        {3.0L, 0, "3"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        int n = ld2string(buf, sizeof(buf), cases[i].v, cases[i].human);
        CHECKF(n == (int)strlen(cases[i].s) && strcmp(buf, cases[i].s) == 0, "ld2string(%.17Lg, %d) = \"%s\" (%d), want \"%s\"",
               cases[i].v, cases[i].human, buf, n, cases[i].s);
    }
    /* No room: 0, never an overflow. */
    char tiny[4];
    CHECK_EQ_INT(ld2string(tiny, sizeof(tiny), 12345.5L, 1), 0);
    CHECK_EQ_INT(ld2string(tiny, sizeof(tiny), INFINITY, 1), 0);
}

static void testString2d(void) {
    UNIT_SECTION("string2d / string2ld");
    double d;
    long double ld;
    CHECK(string2d("1.5", 3, &d) && d == 1.5);
    CHECK(string2d("-3", 2, &d) && d == -3);
    CHECK(string2d("1e3", 3, &d) && d == 1000);
    CHECK(string2d("inf", 3, &d) && isinf(d));
    CHECK(string2d("1.5xyz", 3, &d) && d == 1.5); /* only len bytes */
    CHECK(!string2d(" 1.5", 4, &d));
    CHECK(!string2d("1.5 ", 4, &d));
    CHECK(!string2d("", 0, &d));
    CHECK(!string2d("nan", 3, &d));
    CHECK(!string2d("abc", 3, &d));
    CHECK(!string2d("1e400", 5, &d)); /* overflow */
    CHECK(string2ld("10.5", 4, &ld) && ld == 10.5L);
    CHECK(!string2ld(" 1", 2, &ld));
    CHECK(!string2ld("1e99999", 7, &ld));
    CHECK(!string2ld("nan", 3, &ld));
    CHECK(!string2ld("1,5", 3, &ld));
}

static void testMemtoull(void) {
    UNIT_SECTION("memtoull");
    struct {
        const char *s;
        int ok;
        unsigned long long v;
    } cases[] = {
        {"0", 1, 0},
        {"100", 1, 100},
        {"100b", 1, 100},
        {"1k", 1, 1000},
        {"1kb", 1, 1024},
        {"1KB", 1, 1024},
        {"1Kb", 1, 1024},
        {"2m", 1, 2000000},
        {"2mb", 1, 2 * 1024 * 1024},
        {"1mb", 1, 1048576},
        {"3g", 1, 3000000000ULL},
        {"3gb", 1, 3ULL * 1024 * 1024 * 1024},
        {"512MB", 1, 512ULL * 1024 * 1024},
        {"-1", 0, 0},
        {"-1mb", 0, 0},
        {"1tb", 0, 0},
        {"1.5mb", 0, 0},
        {"1 mb", 0, 0},
        {"1mbx", 0, 0},
        {"+1", 0, 0},
        {" 1", 0, 0},
        /* Redis 7.0's quirks, kept: a bare unit and "" are 0, leading zeros
         * are fine, and too many digits saturate at 2^64-1. */
        {"mb", 1, 0},
        {"", 1, 0},
        {"01mb", 1, 1048576},
        {"007", 1, 7},
        {"18446744073709551615", 1, ULLONG_MAX},
        {"18446744073709551616", 1, ULLONG_MAX},
        /* Redis wraps the multiplication (this would be 2^64 - 2^30); we refuse. */
        {"99999999999999999999gb", 0, 0},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        unsigned long long v = 4242;
        int ok = memtoull(cases[i].s, strlen(cases[i].s), &v);
        CHECKF(ok == cases[i].ok, "memtoull(\"%s\") returned %d", cases[i].s, ok);
        if (ok && cases[i].ok) CHECKF(v == cases[i].v, "memtoull(\"%s\") = %llu", cases[i].s, v);
    }
    /* Overflow of the multiplication is refused, not wrapped. */
    unsigned long long v;
    CHECK(!memtoull("18446744073gb", 13, &v));
    /* A NUL ends the value, as in Redis' C-string parse. */
    CHECK(memtoull("2kb\0x", 6, &v) && v == 2048);
}

static int gm(const char *pat, const char *s, int nocase) {
    return globMatch(pat, strlen(pat), s, strlen(s), nocase);
}

static void testGlob(void) {
    UNIT_SECTION("globMatch");
    struct {
        const char *pat, *s;
        int nocase, want;
    } cases[] = {
        {"", "", 0, 1},
        {"", "a", 0, 0},
        {"*", "", 0, 1},
        {"*", "anything", 0, 1},
        {"**", "x", 0, 1},
        {"?", "", 0, 0},
        {"?", "a", 0, 1},
        {"?", "ab", 0, 0},
        {"a?c", "abc", 0, 1},
        {"h*llo", "hllo", 0, 1},
        {"h*llo", "heeeello", 0, 1},
        {"h*llo", "heeeellox", 0, 0},
        {"user:*:name", "user:1000:name", 0, 1},
        {"user:*:name", "user:1000:mail", 0, 0},
        {"abc***", "abc", 0, 1},
        {"*b*", "aab", 0, 1},
        {"*b", "abba", 0, 0},
        {"h[ae]llo", "hallo", 0, 1},
        {"h[ae]llo", "hello", 0, 1},
        {"h[ae]llo", "hillo", 0, 0},
        {"h[^e]llo", "hallo", 0, 1},
        {"h[^e]llo", "hello", 0, 0},
        {"h[a-b]llo", "hbllo", 0, 1},
        {"h[a-b]llo", "hcllo", 0, 0},
        {"[z-a]", "m", 0, 1}, /* a reversed range is the same range */
        {"[0-9][0-9]", "42", 0, 1},
        {"[0-9]", "x", 0, 0},
        {"[\\]]", "]", 0, 1},
        {"[\\-]", "-", 0, 1},
        {"[abc", "b", 0, 1}, /* unterminated class ends at the pattern's end */
        {"\\*", "*", 0, 1},
        {"\\*", "a", 0, 0},
        {"a\\?b", "a?b", 0, 1},
        {"a\\?b", "axb", 0, 0},
        {"\\[x]", "[x]", 0, 1},
        {"a\\", "a\\", 0, 1}, /* a trailing backslash is literal */
        {"HELLO", "hello", 0, 0},
        {"HELLO*", "hello world", 1, 1},
        {"[A-C]x", "bx", 1, 1},
        {"[a-c]X", "Bx", 1, 1},
        {"[^A]", "a", 1, 0},
        {"h?LLO", "hello", 1, 1},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        int got = gm(cases[i].pat, cases[i].s, cases[i].nocase);
        CHECKF(got == cases[i].want, "globMatch(\"%s\", \"%s\", nocase=%d) = %d", cases[i].pat, cases[i].s,
               cases[i].nocase, got);
    }
    /* Binary strings: NUL is an ordinary byte. */
    CHECK(globMatch("a?c", 3, "a\0c", 3, 0));
    CHECK(globMatch("a\0*", 3, "a\0xyz", 5, 0));
    CHECK(!globMatch("a\0*", 3, "a1xyz", 5, 0));

    /* Crafted patterns run in bounded time (no exponential backtracking). */
    size_t n = 10000;
    char *s = malloc(n + 1);
    memset(s, 'a', n);
    s[n] = '\0';
    const char *crafted[] = {"a*a*a*a*a*a*a*a*a*a*b", "*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*b",
                             "*?*?*?*?*?*?*?*?*?*?*?*?*?*?*?*?*?*?*?*?*?b", "[a]*[a]*[a]*[a]*[a]*[a]*[a]*[a]*c"};
    for (size_t k = 0; k < sizeof(crafted) / sizeof(crafted[0]); k++) {
        struct timespec t0, t1;
        clock_gettime(CLOCK_MONOTONIC, &t0);
        int got = globMatch(crafted[k], strlen(crafted[k]), s, n, 0);
        clock_gettime(CLOCK_MONOTONIC, &t1);
        double ms = (double)(t1.tv_sec - t0.tv_sec) * 1000 + (double)(t1.tv_nsec - t0.tv_nsec) / 1e6;
        CHECKF(got == 0, "crafted pattern %zu matched", k);
        /* Generous for a sanitizer build; exponential backtracking takes
         * far longer than any machine's lifetime. */
        CHECKF(ms < 500, "crafted pattern \"%s\" took %.1f ms on %zu bytes", crafted[k], ms, n);
    }
    /* And the same shape that does match is found. */
    s[n - 1] = 'b';
    CHECK(gm("a*a*a*a*a*a*a*a*a*a*b", s, 0));

    /* Redis 7.0 gives up past 1000 nested '*' runs (no match); a final
     * '*' and runs met after the string ended do not count. */
    size_t plen = 2 * 1001 + 2;
    char *pat = malloc(plen + 1);
    for (size_t k = 0; k < 1001; k++) memcpy(pat + 2 * k, "*a", 2);
    memcpy(pat + 2 * 1001, "*b", 3); /* 1002 runs before the end */
    CHECK(!globMatch(pat, plen, s, n, 0));
    CHECK(globMatch(pat + 4, plen - 4, s, n, 0)); /* 1000 runs: matches */
    CHECK(!globMatch(pat + 2, plen - 2, s, n, 0)); /* 1001 runs */
    pat[plen - 1] = '\0';                          /* "*a" x 1001 then a final '*' */
    CHECK(globMatch(pat + 2, plen - 3, s, n, 0));  /* 1000 runs + the final one */
    CHECK(!globMatch(pat, plen - 1, s, n, 0));     /* 1001 runs + the final one */
    free(pat);
    free(s);
    /* Ranges as Redis reads them: "x-]" is a range up to ']'. */
    CHECK(gm("[a-]", "_", 0) && gm("[a-]", "]", 0) && !gm("[a-]", "-", 0));
    CHECK(!gm("[Z-a]", "m", 1)); /* swapped, then lowered: z..a, empty */
    CHECK(!gm("[\\A]", "a", 1)); /* an escaped class character ignores nocase */
}

int main(void) {
    testString2ll();
    testLl2string();
    testD2string();
    testLd2string();
    testString2d();
    testMemtoull();
    testGlob();
    return unitDone();
}
