/* block.c - clients blocked on keys (placeholder until the module lands). */
#include "server.h"

int blockGetTimeout(client *c, slice arg, long long *deadlineMs) { (void)c; (void)arg; *deadlineMs = 0; return 0; }
int blockAllowed(client *c) { (void)c; return 0; }
void blockForKeys(client *c, slice *keys, int nkeys, long long deadlineMs, int nullArrayOnTimeout) {
    (void)c; (void)keys; (void)nkeys; (void)deadlineMs; (void)nullArrayOnTimeout;
}
void blockSignalKeyReady(cdb *db, const char *key, size_t len) { (void)db; (void)key; (void)len; }
void blockHandleReady(void) {}
void blockClientFree(client *c) { (void)c; }
int blockUnblockClient(client *c, int error) { (void)c; (void)error; return 0; }
long long blockedClientCount(void) { return 0; }
