/* pubsub.c - STUB. */
#include "server.h"
static void subKey(const dictNode *n, const char **p, size_t *len) { (void)n; *p = ""; *len = 0; }
static const dictType subType = {.key = subKey};
void pubsubInit(void) {}
void pubsubClientInit(client *c) { dictInit(&c->pubsubChannels, &subType); dictInit(&c->pubsubPatterns, &subType); }
void pubsubClientFree(client *c) { (void)c; }
int pubsubClientCount(client *c) { (void)c; return 0; }
cmdDef pubsubCommands[] = {{0}};
