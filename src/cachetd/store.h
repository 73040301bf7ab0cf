/* store.h - the control plane's durable state: records (form-encoded text,
 * see query.h) by kind and id, changed in transactions. SQLite in the data
 * directory today (store_sqlite.c); the interface is small so an etcd store
 * can take its place for a highly available control plane.
 *
 * Must never be used from two threads at once: callers hold cdLock
 * (main.c). Every state change is one transaction: cdStoreBegin, puts and
 * deletes, cdStoreCommit (or cdStoreRollback on any error). */
#ifndef CACHETD_STORE_H
#define CACHETD_STORE_H
#include <stddef.h>

#include "query.h"

typedef struct cdStore cdStore;

cdStore *cdStoreOpen(const char *dir, char *err, size_t errlen);
void cdStoreClose(cdStore *s);
int cdStoreBegin(cdStore *s);
int cdStoreCommit(cdStore *s);
void cdStoreRollback(cdStore *s);
/* 1 found (rec filled, caller cdParamsFree()s), 0 absent, -1 error. */
int cdStoreGet(cdStore *s, const char *kind, const char *id, cdParams *rec);
int cdStorePut(cdStore *s, const char *kind, const char *id, const cdParams *rec);
int cdStoreDelete(cdStore *s, const char *kind, const char *id);
/* Ids of kind in ascending order (strings memAlloc'd; caller frees each and
 * the array). Returns the count, -1 on error. */
int cdStoreList(cdStore *s, const char *kind, char ***ids);
void cdStoreFreeList(char **ids, int n);
#endif
