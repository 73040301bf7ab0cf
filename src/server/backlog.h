/* backlog.h - the replication backlog: a circular buffer holding the last
 * `size` bytes of the replication stream, addressed by stream offset.
 *
 * Owns: its buffer. Pure data structure: never logs, never touches a client;
 * repl_primary.c decides when one exists and what is fed to it.
 *
 * Offsets follow Redis 7.0: the stream byte at offset o (1-based, as
 * repl_backlog_first_byte_offset) is kept iff firstOffset <= o <
 * firstOffset + histlen. A PSYNC asking for offset `want` means "I have
 * everything up to want-1; send from byte want". */
#ifndef CACHET_BACKLOG_H
#define CACHET_BACKLOG_H
#include <stddef.h>

typedef struct backlog {
    char *buf;              /* size bytes, memAlloc'd */
    long long size;
    long long idx;          /* where the next byte is written */
    long long histlen;      /* valid bytes, <= size */
    long long firstOffset;  /* stream offset of the oldest kept byte */
} backlog;

/* A backlog whose next byte will be the stream byte at offset nextOffset. */
backlog *backlogCreate(long long size, long long nextOffset);
void backlogFree(backlog *b);
void backlogFeed(backlog *b, const char *p, size_t len);
/* Bytes [from, end of history) can be served: 1, else 0. */
int backlogCanServe(const backlog *b, long long from);
/* Copies up to cap bytes of the history starting at stream offset from
 * (backlogCanServe must hold) into out; returns bytes copied. Call again
 * with from += returned to read the rest. */
size_t backlogRead(const backlog *b, long long from, char *out, size_t cap);
/* A new size keeping the newest history that fits. */
void backlogResize(backlog *b, long long size);
#endif
