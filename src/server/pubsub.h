/* pubsub.h - Pub/Sub (pubsub.c). */
#ifndef CACHET_PUBSUB_H
#define CACHET_PUBSUB_H

#include <stddef.h>
#include "acl.h"
#include "client.h"

/* pubsub.c */
void pubsubInit(void);
void pubsubCounts(long long *channels, long long *patterns, long long *shardChannels); /* INFO */
void pubsubClientInit(client *c);
void pubsubClientFree(client *c);
int pubsubClientCount(client *c);   /* channels + patterns */
long long pubsubPublish(const char *ch, size_t chlen, const char *msg, size_t msglen);
/* Unsubscribes (and notifies) every subscriber of the shard channels for
 * which match returns non-zero (cluster.c: slots a new map took away). */
void pubsubShardUnsubscribeWhere(int (*match)(const char *ch, size_t len, void *priv), void *priv);
/* Whether every channel and pattern c is subscribed to passes allowed(u, ...). */
int pubsubClientAllowed(client *c, const aclUser *u,
                        int (*allowed)(const void *u, const char *ch, size_t len, int isPattern));

#endif
