/* test_net.c - unit tests for net.c's netIsLoopback, the address check
 * behind protected mode and the "local" settings of enable-debug-command,
 * enable-module-command and enable-protected-configs.
 *
 * Owns: nothing in the server. Must never open a socket: only the address
 * strings are checked, as accept and netPeerName write them. */
#include "net.h"
#include "unit.h"

static void testLoopback(void) {
    UNIT_SECTION("netIsLoopback");
    static const struct {
        const char *addr;
        int loopback;
    } cases[] = {
        {"127.0.0.1", 1},
        {"127.0.0.2", 1},
        {"127.255.255.254", 1},
        {"127.0.0.1:6379", 1},
        {"::1", 1},
        {"[::1]:6379", 1},
        {"::ffff:127.0.0.1", 1},
        {"[::ffff:127.9.8.7]:1", 1},
        {"10.0.0.1", 0},
        {"10.0.0.1:6379", 0},
        {"128.0.0.1", 0},
        {"126.255.255.255", 0},
        {"0.0.0.0", 0},
        {"::", 0},
        {"::2", 0},
        {"[::ffff:10.0.0.1]:1", 0},
        {"fe80::1", 0},
        {"::127.0.0.1", 0}, /* IPv4-compatible, not mapped: not loopback */
        /* Fail closed on anything that does not parse. */
        {"", 0},
        {"localhost", 0},
        {"127.0.0.1.evil", 0},
        {"127.1", 0},
        {"[::1", 0},
        {"[]:1", 0},
        {"?:0", 0},
        {"/tmp/redis.sock", 0},
        {"127.0.0.1:6379:1", 0},
        {"1270000000000000000000000000000000000000000000000000000000000000000000000000000001", 0},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        int got = netIsLoopback(cases[i].addr);
        if (got != cases[i].loopback) printf("  for %s\n", cases[i].addr);
        CHECK_EQ_INT(got, cases[i].loopback);
    }
}

int main(void) {
    testLoopback();
    return unitDone();
}
