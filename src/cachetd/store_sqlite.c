/* store_sqlite.c - store.h on SQLite: one table (kind, id, value) in
 * DIR/cachetd.db, WAL journal, synchronous=FULL so a committed state change
 * survives a crash of the machine, not only of the process.
 * Reads are the hot path (DescribeReplicationGroups reads every group and
 * node record): the four statements are prepared once, and the database is
 * opened in exclusive locking mode, so a read takes no file lock (no fcntl
 * per statement) and no second cachetd can use the same directory at once.
 * Must never hold a transaction open across a return to the event loop. */
#include "store.h"

#include <sqlite3.h>
#include <stdio.h>
#include <string.h>

#include "log.h"
#include "mem.h"

struct cdStore {
    sqlite3 *db;
    sqlite3_stmt *get, *put, *del, *list; /* prepared on first use, reset after each */
};

/* The statement in *slot, prepared on first use; NULL on error. */
static sqlite3_stmt *stmt(cdStore *s, sqlite3_stmt **slot, const char *sql) {
    if (!*slot && sqlite3_prepare_v2(s->db, sql, -1, slot, NULL) != SQLITE_OK) {
        logWarning("store: %s: %s", sql, sqlite3_errmsg(s->db));
        *slot = NULL;
    }
    return *slot;
}

static void done(sqlite3_stmt *st) {
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
}

static int execSql(cdStore *s, const char *sql) {
    char *msg = NULL;
    if (sqlite3_exec(s->db, sql, NULL, NULL, &msg) != SQLITE_OK) {
        logWarning("store: %s: %s", sql, msg ? msg : "?");
        sqlite3_free(msg);
        return -1;
    }
    return 0;
}

cdStore *cdStoreOpen(const char *dir, char *err, size_t errlen) {
    char path[4096];
    snprintf(path, sizeof(path), "%s/cachetd.db", dir);
    cdStore *s = memCalloc(sizeof(*s));
    if (sqlite3_open_v2(path, &s->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, NULL) !=
        SQLITE_OK) {
        snprintf(err, errlen, "can't open %s: %s", path, s->db ? sqlite3_errmsg(s->db) : "out of memory");
        cdStoreClose(s);
        return NULL;
    }
    /* Exclusive first: WAL then keeps its index in heap memory, not a
     * shared-memory file, and the lock taken by the first read is kept. */
    if (execSql(s, "PRAGMA locking_mode=EXCLUSIVE") || execSql(s, "PRAGMA journal_mode=WAL") || execSql(s, "PRAGMA synchronous=FULL") ||
        execSql(s, "CREATE TABLE IF NOT EXISTS records (kind TEXT NOT NULL, id TEXT NOT NULL, value TEXT NOT NULL, "
                   "PRIMARY KEY (kind, id))")) {
        int busy = sqlite3_errcode(s->db) == SQLITE_BUSY;
        snprintf(err, errlen, "can't initialise %s%s", path,
                 busy ? ": another cachetd uses this data directory" : "");
        cdStoreClose(s);
        return NULL;
    }
    return s;
}

void cdStoreClose(cdStore *s) {
    if (!s) return;
    sqlite3_finalize(s->get);
    sqlite3_finalize(s->put);
    sqlite3_finalize(s->del);
    sqlite3_finalize(s->list);
    sqlite3_close(s->db);
    memFree(s);
}

int cdStoreBegin(cdStore *s) { return execSql(s, "BEGIN IMMEDIATE"); }
int cdStoreCommit(cdStore *s) { return execSql(s, "COMMIT"); }
void cdStoreRollback(cdStore *s) { (void)execSql(s, "ROLLBACK"); }

int cdStoreGet(cdStore *s, const char *kind, const char *id, cdParams *rec) {
    sqlite3_stmt *st = stmt(s, &s->get, "SELECT value FROM records WHERE kind=?1 AND id=?2");
    if (!st) return -1;
    sqlite3_bind_text(st, 1, kind, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, id, -1, SQLITE_STATIC);
    int rc = sqlite3_step(st), ret = 0;
    if (rc == SQLITE_ROW) {
        const char *v = (const char *)sqlite3_column_text(st, 0);
        char err[64];
        ret = cdFormDecode(v, strlen(v), rec, err, sizeof(err)) ? -1 : 1;
    } else if (rc != SQLITE_DONE) {
        ret = -1;
    }
    done(st);
    return ret;
}

int cdStorePut(cdStore *s, const char *kind, const char *id, const cdParams *rec) {
    sqlite3_stmt *st = stmt(s, &s->put, "INSERT OR REPLACE INTO records (kind, id, value) VALUES (?1, ?2, ?3)");
    if (!st) return -1;
    char *v = cdFormEncode(rec);
    sqlite3_bind_text(st, 1, kind, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, id, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 3, v, -1, SQLITE_STATIC);
    int rc = sqlite3_step(st);
    done(st);
    memFree(v);
    return rc == SQLITE_DONE ? 0 : -1;
}

int cdStoreDelete(cdStore *s, const char *kind, const char *id) {
    sqlite3_stmt *st = stmt(s, &s->del, "DELETE FROM records WHERE kind=?1 AND id=?2");
    if (!st) return -1;
    sqlite3_bind_text(st, 1, kind, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, id, -1, SQLITE_STATIC);
    int rc = sqlite3_step(st);
    done(st);
    return rc == SQLITE_DONE ? 0 : -1;
}

int cdStoreList(cdStore *s, const char *kind, char ***ids) {
    *ids = NULL;
    sqlite3_stmt *st = stmt(s, &s->list, "SELECT id FROM records WHERE kind=?1 ORDER BY id");
    if (!st) return -1;
    sqlite3_bind_text(st, 1, kind, -1, SQLITE_STATIC);
    int n = 0, cap = 0, rc;
    char **out = NULL;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        if (n == cap) out = memRealloc(out, sizeof(char *) * (size_t)(cap = cap ? cap * 2 : 16));
        out[n++] = memStrdup((const char *)sqlite3_column_text(st, 0));
    }
    done(st);
    if (rc != SQLITE_DONE) {
        cdStoreFreeList(out, n);
        return -1;
    }
    *ids = out;
    return n;
}

void cdStoreFreeList(char **ids, int n) {
    for (int i = 0; i < n; i++) memFree(ids[i]);
    memFree(ids);
}
