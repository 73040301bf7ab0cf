/* slowlog.c - STUB. */
#include "server.h"
void slowlogInit(void) {}
void slowlogPush(client *c, slice *argv, int argc, long long us) { (void)c; (void)argv; (void)argc; (void)us; }
void slowlogReset(void) {}
