/* test_crc16.c - unit tests for crc16.c (CRC-16/XMODEM) and cluster.c's key
 * slot rule. The table is checked against the bitwise definition, and slots
 * against values redis-server 7.0.15 answers to CLUSTER KEYSLOT.
 *
 * Owns: nothing in the server. Must never need a running server. */
#include "server.h"
#include "cluster.h"
#include "crc16.h"
#include "unit.h"
#include <string.h>

static uint16_t crc16Bitwise(const char *p, size_t n) {
    uint16_t crc = 0;
    for (size_t i = 0; i < n; i++) {
        crc ^= (uint16_t)((uint8_t)p[i] << 8);
        for (int b = 0; b < 8; b++) crc = (uint16_t)((crc & 0x8000) ? (crc << 1) ^ 0x1021 : crc << 1);
    }
    return crc;
}

static void testCrc16(void) {
    UNIT_SECTION("crc16");
    CHECK_EQ_INT(crc16("123456789", 9), 0x31c3);
    CHECK_EQ_INT(crc16("", 0), 0);
    char buf[256];
    for (int i = 0; i < 256; i++) buf[i] = (char)(i * 7 + 3);
    for (size_t n = 0; n <= sizeof(buf); n += 17) CHECK_EQ_INT(crc16(buf, n), crc16Bitwise(buf, n));
    /* Every length around the 8-byte steps, from every alignment. */
    for (size_t off = 0; off < 8; off++)
        for (size_t n = 0; n <= 80; n++) CHECK_EQ_INT(crc16(buf + off, n), crc16Bitwise(buf + off, n));
}

static unsigned slotOf(const char *k) { return clusterKeySlot(k, strlen(k)); }

static void testKeySlot(void) {
    UNIT_SECTION("clusterKeySlot");
    CHECK_EQ_INT(slotOf("foo"), 12182);      /* redis-server 7.0: MOVED 12182 */
    CHECK_EQ_INT(slotOf("{user1}:a"), 8106); /* CLUSTER KEYSLOT {user1}:a */
    CHECK_EQ_INT(slotOf("{user1}:b"), slotOf("user1"));
    CHECK_EQ_INT(slotOf("a{}b"), crc16("a{}b", 4) & 16383); /* empty tag: the whole key */
    CHECK_EQ_INT(slotOf("x{"), crc16("x{", 2) & 16383);     /* no closing brace */
    CHECK_EQ_INT(slotOf("a{b}c{d}"), slotOf("b"));          /* the first tag only */
    CHECK_EQ_INT(slotOf("{{a}}"), crc16("{a", 2) & 16383);  /* up to the first '}' */
    CHECK_EQ_INT(slotOf(""), 0);
}

int main(void) {
    testCrc16();
    testKeySlot();
    return unitDone();
}
