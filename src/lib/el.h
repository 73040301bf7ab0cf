/* el.h - the event loop: epoll readiness plus millisecond timers, one thread.
 *
 * Owns: the epoll fd, the per-fd handler table, the timer list.
 * Must never block except in epoll_wait, and never call a handler for an fd
 * that was deleted earlier in the same iteration. */
#ifndef CACHET_EL_H
#define CACHET_EL_H
#include <stdint.h>

#define EL_NONE 0
#define EL_READABLE 1
#define EL_WRITABLE 2

#define EL_TIMER_STOP (-1) /* timer callback return value: do not re-arm */

typedef struct elLoop elLoop;
typedef void elFileProc(elLoop *el, int fd, void *data, int mask);
/* Returns the delay in ms before the next call, or EL_TIMER_STOP. */
typedef long elTimerProc(elLoop *el, long long id, void *data);
typedef void elHookProc(elLoop *el);

elLoop *elCreate(int setsize, char **err);
void elDestroy(elLoop *el);
int elSetSize(elLoop *el);
int elResize(elLoop *el, int setsize);
/* Add mask bits to fd's interest; one handler per fd for both directions. */
int elAddFile(elLoop *el, int fd, int mask, elFileProc *proc, void *data);
void elDelFile(elLoop *el, int fd, int mask);
int elGetMask(elLoop *el, int fd);
long long elAddTimer(elLoop *el, long long ms, elTimerProc *proc, void *data);
void elDelTimer(elLoop *el, long long id);
void elSetBeforeSleep(elLoop *el, elHookProc *proc);
/* While set, the next wait polls (timeout 0) instead of sleeping. */
void elSetDontWait(elLoop *el, int on);
/* Under load, poll for up to usec before sleeping (0: never). */
void elSetBusyPoll(elLoop *el, int usec);
int elBusyPolling(elLoop *el); /* 1 while the loop is spinning under load */
/* Under load, poll for up to usec before sleeping (0: never poll). */
void elSetBusyPoll(elLoop *el, int usec);
int elBusyPolling(elLoop *el);       /* 1 while the loop polls under load */
long long elBusyPollUs(elLoop *el);  /* microseconds spent polling so far */
/* Runs until elStop. */
void elMain(elLoop *el);
/* One pass over the file events that are ready now: no waiting, no timers,
 * no before-sleep hook. For work that must run outside the loop but keep
 * sockets served (the start-up load answers -LOADING). */
int elPollFiles(elLoop *el);
void elStop(elLoop *el);
long long elNowMs(void);   /* wall clock, ms */
long long elNowUs(void);   /* wall clock, us */
long long elMonoUs(void);  /* monotonic, us */

#endif
