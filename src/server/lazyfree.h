/* lazyfree.h - freeing large values off the event loop.
 *
 * Owns: the lazy-free thread, its job queue and its counters. Whatever is
 * handed over here must already be unreachable from the keyspace, the expire
 * index, WATCH, blocked clients and every iterator: the thread frees it at
 * any moment after the call. Must never be given something the loop still
 * uses, and never block the loop (the queue lock is held for a list push). */
#ifndef CACHET_LAZYFREE_H
#define CACHET_LAZYFREE_H
#include <stddef.h>

struct dbEntry;
struct dict;
struct kvstore;

/* Redis' LAZYFREE_THRESHOLD: values whose free effort (allocations to free)
 * is at most this are freed inline, cheaper than a hand-over. */
#define LAZYFREE_THRESHOLD 64

/* Number of allocations freeing e's value costs, as Redis' lazyfreeGetFreeEffort. */
size_t lazyfreeEffort(const struct dbEntry *e);
/* Frees an unlinked entry: in the thread when its effort is above the
 * threshold, here otherwise. */
void lazyfreeEntry(struct dbEntry *e);
/* Takes over the contents of a db's key and expire tables (both are left
 * empty and usable) and frees every entry and expire node in the thread.
 * nkeys is what INFO counts as pending. */
void lazyfreeKeyspace(struct kvstore *keys, struct dict *expires, size_t nkeys);

size_t lazyfreePendingObjects(void); /* INFO lazyfree_pending_objects */
size_t lazyfreedObjects(void);       /* INFO lazyfreed_objects */
void lazyfreeResetStats(void);
/* Joins the thread after it has freed every job (shutdown; no-op if it
 * never started). Later jobs free inline. */
void lazyfreeShutdown(void);

#endif
