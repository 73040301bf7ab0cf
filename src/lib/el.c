/* el.c - epoll event loop with timers.
 *
 * Level-triggered epoll: simpler to reason about (a handler that leaves data
 * unread is called again) and measured fast enough; revisit only with numbers.
 * Timers are a short unsorted list: the server keeps a handful (cron, a few
 * per blocked client at most), so a heap is not worth its code.
 * Under load the loop polls briefly before it sleeps (waitEvents).
 * Invariant: events[fd].mask == the mask registered with epoll for fd. */
#include "el.h"
#include "mem.h"
#include <sys/epoll.h>
#include <errno.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <stdio.h>

/* Busy polling is decided once per window of this length, and is on in a
 * window after one in which the loop worked at least this percent of the
 * time (measured: a 50-client pipeline-1 load keeps the loop 50-60% busy, a
 * single client 25%). */
#define EL_LOAD_WINDOW_US 25000
#define EL_SPIN_MIN_BUSY 40

typedef struct elFile {
    int mask;
    elFileProc *proc;
    void *data;
} elFile;

typedef struct elTimer {
    long long id;
    long long whenMs; /* monotonic ms */
    elTimerProc *proc;
    void *data;
    int deleted;
    struct elTimer *next;
} elTimer;

struct elLoop {
    int epfd;
    int setsize;
    elFile *files;
    struct epoll_event *fired;
    elTimer *timers;
    long long nextTimerId;
    int stop;
    elHookProc *beforeSleep;
    int dontWait;
    /* Busy polling (see waitEvents). */
    int busyPollUs;        /* longest spin before sleeping; 0 = never spin */
    int spinning;          /* the last window was busy enough to spin in this one */
    int lastFired;         /* the last wait returned events */
    long long winStartUs;  /* start of the current load-measuring window */
    long long winIdleUs;   /* time spent waiting (spinning or asleep) in it */
    long long spinUsTotal; /* time spent spinning since start */
};

long long elMonoUs(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}
long long elNowUs(void) {
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (long long)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}
long long elNowMs(void) { return elNowUs() / 1000; }
static long long monoMs(void) { return elMonoUs() / 1000; }

elLoop *elCreate(int setsize, char **err) {
    elLoop *el = memCalloc(sizeof(*el));
    el->epfd = epoll_create1(EPOLL_CLOEXEC);
    if (el->epfd < 0) {
        if (err) *err = strerror(errno);
        memFree(el);
        return NULL;
    }
    el->setsize = setsize;
    el->files = memCalloc(sizeof(elFile) * (size_t)setsize);
    el->fired = memCalloc(sizeof(struct epoll_event) * (size_t)setsize);
    el->nextTimerId = 1;
    return el;
}

void elDestroy(elLoop *el) {
    if (!el) return;
    close(el->epfd);
    memFree(el->files);
    memFree(el->fired);
    elTimer *t = el->timers;
    while (t) {
        elTimer *n = t->next;
        memFree(t);
        t = n;
    }
    memFree(el);
}

int elSetSize(elLoop *el) { return el->setsize; }

int elResize(elLoop *el, int setsize) {
    if (setsize <= el->setsize) return 0;
    el->files = memRealloc(el->files, sizeof(elFile) * (size_t)setsize);
    el->fired = memRealloc(el->fired, sizeof(struct epoll_event) * (size_t)setsize);
    memset(el->files + el->setsize, 0, sizeof(elFile) * (size_t)(setsize - el->setsize));
    el->setsize = setsize;
    return 0;
}

static int applyMask(elLoop *el, int fd, int oldmask, int mask) {
    struct epoll_event ee = {0};
    ee.events = 0;
    if (mask & EL_READABLE) ee.events |= EPOLLIN;
    if (mask & EL_WRITABLE) ee.events |= EPOLLOUT;
    ee.data.fd = fd;
    int op = oldmask == EL_NONE ? EPOLL_CTL_ADD : (mask == EL_NONE ? EPOLL_CTL_DEL : EPOLL_CTL_MOD);
    return epoll_ctl(el->epfd, op, fd, &ee);
}

int elAddFile(elLoop *el, int fd, int mask, elFileProc *proc, void *data) {
    if (fd >= el->setsize) {
        errno = ERANGE;
        return -1;
    }
    elFile *f = &el->files[fd];
    int newmask = f->mask | mask;
    if (newmask != f->mask && applyMask(el, fd, f->mask, newmask) == -1) return -1;
    f->mask = newmask;
    f->proc = proc;
    f->data = data;
    return 0;
}

void elDelFile(elLoop *el, int fd, int mask) {
    if (fd < 0 || fd >= el->setsize) return;
    elFile *f = &el->files[fd];
    if (f->mask == EL_NONE) return;
    int newmask = f->mask & ~mask;
    if (newmask != f->mask) applyMask(el, fd, f->mask, newmask);
    f->mask = newmask;
}

int elGetMask(elLoop *el, int fd) {
    if (fd < 0 || fd >= el->setsize) return 0;
    return el->files[fd].mask;
}

long long elAddTimer(elLoop *el, long long ms, elTimerProc *proc, void *data) {
    elTimer *t = memCalloc(sizeof(*t));
    t->id = el->nextTimerId++;
    t->whenMs = monoMs() + ms;
    t->proc = proc;
    t->data = data;
    t->next = el->timers;
    el->timers = t;
    return t->id;
}

void elDelTimer(elLoop *el, long long id) {
    for (elTimer *t = el->timers; t; t = t->next)
        if (t->id == id) t->deleted = 1;
}

void elSetBeforeSleep(elLoop *el, elHookProc *proc) { el->beforeSleep = proc; }
void elSetDontWait(elLoop *el, int on) { el->dontWait = on; }
void elStop(elLoop *el) { el->stop = 1; }

static long long msUntilNextTimer(elLoop *el) {
    long long now = monoMs(), best = -1;
    for (elTimer *t = el->timers; t; t = t->next) {
        if (t->deleted) continue;
        long long d = t->whenMs - now;
        if (d < 0) d = 0;
        if (best < 0 || d < best) best = d;
    }
    return best;
}

static void runTimers(elLoop *el) {
    long long now = monoMs();
    /* Timers added by callbacks have ids >= maxId and wait for the next pass. */
    long long maxId = el->nextTimerId;
    elTimer **link = &el->timers;
    while (*link) {
        elTimer *t = *link;
        if (t->deleted) {
            *link = t->next;
            memFree(t);
            continue;
        }
        if (t->id < maxId && t->whenMs <= now) {
            long r = t->proc(el, t->id, t->data);
            if (r == EL_TIMER_STOP) t->deleted = 1;
            else t->whenMs = monoMs() + r;
            now = monoMs();
        }
        link = &t->next;
    }
}

static void dispatchFired(elLoop *el, int n) {
    for (int i = 0; i < n; i++) {
        struct epoll_event *e = &el->fired[i];
        int fd = e->data.fd;
        elFile *f = &el->files[fd];
        int fired = 0;
        if (e->events & (EPOLLIN | EPOLLERR | EPOLLHUP)) fired |= EL_READABLE;
        if (e->events & (EPOLLOUT | EPOLLERR | EPOLLHUP)) fired |= EL_WRITABLE;
        /* Re-check the live mask: an earlier handler may have closed fd. */
        int live = f->mask & fired;
        if (live && f->proc) f->proc(el, fd, f->data, live);
    }
}

void elSetBusyPoll(elLoop *el, int usec) {
    el->busyPollUs = usec > 0 ? usec : 0;
    if (!el->busyPollUs) el->spinning = 0;
}

int elBusyPolling(elLoop *el) { return el->spinning; }
long long elBusyPollUs(elLoop *el) { return el->spinUsTotal; }

/* Waits up to timeoutMs for events (-1: at most a second; the caller
 * re-checks its timers anyway).
 *
 * Under load it first polls, for up to busyPollUs. The reason is the other
 * side of the socket: a request written while this thread polls costs its
 * sender a plain copy, one written while this thread sleeps also costs the
 * sender a wake-up of this thread on another CPU (an inter-processor
 * interrupt, a VM exit on a virtual machine). At pipeline 1 that wake-up is
 * a large part of a client's cost per request: measured on 2 cores, polling
 * raised a 50-client redis-benchmark GET by about 15% and cut its p50.
 *
 * The price is CPU, so "under load" is measured, not assumed: the loop
 * polls only after a 25 ms window in which it spent at least
 * EL_SPIN_MIN_BUSY of the time working (not waiting), and only right after
 * a wait that returned events. An idle or lightly loaded server sleeps as
 * it always did; time spent polling counts as waiting and is reported. */
static int waitEvents(elLoop *el, long long timeoutMs) {
    long long t0 = elMonoUs(), t1;
    int n = 0;
    if (timeoutMs != 0 && el->spinning && el->lastFired) {
        long long until = t0 + el->busyPollUs;
        do {
            n = epoll_wait(el->epfd, el->fired, el->setsize, 0);
            t1 = elMonoUs();
        } while (n == 0 && t1 < until);
        el->spinUsTotal += t1 - t0;
    }
    if (n == 0) n = epoll_wait(el->epfd, el->fired, el->setsize, timeoutMs < 0 ? 1000 : (int)timeoutMs);
    t1 = elMonoUs();
    el->lastFired = n > 0;
    el->winIdleUs += t1 - t0;
    long long win = t1 - el->winStartUs;
    if (win >= EL_LOAD_WINDOW_US) {
        el->spinning = el->busyPollUs && (win - el->winIdleUs) * 100 >= win * EL_SPIN_MIN_BUSY;
        el->winStartUs = t1;
        el->winIdleUs = 0;
    }
    return n;
}

void elMain(elLoop *el) {
    el->stop = 0;
    /* Start-up work before the loop is not load. */
    el->winStartUs = elMonoUs();
    el->winIdleUs = 0;
    while (!el->stop) {
        if (el->beforeSleep) el->beforeSleep(el);
        if (el->stop) break;
        int n = waitEvents(el, el->dontWait ? 0 : msUntilNextTimer(el));
        dispatchFired(el, n);
        runTimers(el);
    }
}

int elPollFiles(elLoop *el) {
    int n = epoll_wait(el->epfd, el->fired, el->setsize, 0);
    dispatchFired(el, n);
    return n > 0 ? n : 0;
}
