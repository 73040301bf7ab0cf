/* net.c - thin, checked wrappers over the BSD socket calls (see net.h). */
#include "net.h"
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

static int fail(char *err, const char *what) {
    if (err) snprintf(err, NET_ERR_LEN, "%s: %s", what, strerror(errno));
    return -1;
}

int netNonBlock(int fd) {
    int flags = fcntl(fd, F_GETFL);
    if (flags < 0) return -1;
    return fcntl(fd, F_SETFL, flags | O_NONBLOCK);
}

int netNoDelay(int fd, int on) { return setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &on, sizeof(on)); }

int netKeepAlive(int fd, int interval) {
    int yes = 1;
    if (setsockopt(fd, SOL_SOCKET, SO_KEEPALIVE, &yes, sizeof(yes)) == -1) return -1;
    if (interval <= 0) return 0;
    int idle = interval, intvl = interval / 3 ? interval / 3 : 1, cnt = 3;
    setsockopt(fd, IPPROTO_TCP, TCP_KEEPIDLE, &idle, sizeof(idle));
    setsockopt(fd, IPPROTO_TCP, TCP_KEEPINTVL, &intvl, sizeof(intvl));
    setsockopt(fd, IPPROTO_TCP, TCP_KEEPCNT, &cnt, sizeof(cnt));
    return 0;
}

int netSendTimeout(int fd, long long ms) {
    struct timeval tv = {.tv_sec = ms / 1000, .tv_usec = (ms % 1000) * 1000};
    return setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
}

int netListen(const char *addr, int port, int backlog, char *err) {
    struct addrinfo hints, *res, *p;
    char portstr[16];
    snprintf(portstr, sizeof(portstr), "%d", port);
    memset(&hints, 0, sizeof(hints));
    hints.ai_family = strchr(addr, ':') ? AF_INET6 : AF_INET;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_PASSIVE | AI_NUMERICHOST;
    int rv = getaddrinfo(addr, portstr, &hints, &res);
    if (rv != 0) {
        snprintf(err, NET_ERR_LEN, "bad bind address '%s': %s", addr, gai_strerror(rv));
        return -1;
    }
    int fd = -1;
    for (p = res; p; p = p->ai_next) {
        fd = socket(p->ai_family, p->ai_socktype | SOCK_CLOEXEC | SOCK_NONBLOCK, p->ai_protocol);
        if (fd < 0) continue;
        int yes = 1;
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof(yes));
        if (p->ai_family == AF_INET6) setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &yes, sizeof(yes));
        if (bind(fd, p->ai_addr, p->ai_addrlen) == -1) {
            fail(err, "bind");
            close(fd);
            fd = -1;
            continue;
        }
        if (listen(fd, backlog) == -1) {
            fail(err, "listen");
            close(fd);
            fd = -1;
            continue;
        }
        break;
    }
    freeaddrinfo(res);
    if (fd < 0 && err[0] == '\0') snprintf(err, NET_ERR_LEN, "cannot listen on %s:%d", addr, port);
    return fd;
}

static void formatAddr(struct sockaddr_storage *sa, char *ip, int iplen, int *port) {
    if (sa->ss_family == AF_INET) { // NOLINT(clang-analyzer-core.UndefinedBinaryOperatorResult): callers pass what accept4/getsockname/getpeername filled; the analyzer does not model them
        struct sockaddr_in *s = (struct sockaddr_in *)sa;
        if (ip) inet_ntop(AF_INET, &s->sin_addr, ip, (socklen_t)iplen);
        if (port) *port = ntohs(s->sin_port);
    } else if (sa->ss_family == AF_INET6) {
        struct sockaddr_in6 *s = (struct sockaddr_in6 *)sa;
        if (ip) inet_ntop(AF_INET6, &s->sin6_addr, ip, (socklen_t)iplen);
        if (port) *port = ntohs(s->sin6_port);
    } else {
        if (ip) snprintf(ip, (size_t)iplen, "?");
        if (port) *port = 0;
    }
}

int netAccept(int lfd, char *ip, int iplen, int *port, char *err) {
    struct sockaddr_storage sa;
    socklen_t salen = sizeof(sa);
    int fd;
    do {
        fd = accept4(lfd, (struct sockaddr *)&sa, &salen, SOCK_NONBLOCK | SOCK_CLOEXEC);
    } while (fd == -1 && errno == EINTR);
    if (fd == -1) {
        if (errno == EAGAIN || errno == EWOULDBLOCK) {
            if (err) err[0] = '\0';
            return -1;
        }
        return fail(err, "accept");
    }
    formatAddr(&sa, ip, iplen, port);
    return fd;
}

static int nameOf(int fd, char *buf, int len, int peer) {
    struct sockaddr_storage sa;
    socklen_t salen = sizeof(sa);
    int r = peer ? getpeername(fd, (struct sockaddr *)&sa, &salen) : getsockname(fd, (struct sockaddr *)&sa, &salen);
    if (r == -1) {
        snprintf(buf, (size_t)len, "?:0");
        return -1;
    }
    char ip[NET_ADDR_LEN];
    int port;
    formatAddr(&sa, ip, sizeof(ip), &port);
    if (sa.ss_family == AF_INET6) snprintf(buf, (size_t)len, "[%s]:%d", ip, port);
    else snprintf(buf, (size_t)len, "%s:%d", ip, port);
    return 0;
}

int netPeerName(int fd, char *buf, int len) { return nameOf(fd, buf, len, 1); }
int netSockName(int fd, char *buf, int len) { return nameOf(fd, buf, len, 0); }

int netBoundPort(int fd) {
    struct sockaddr_storage sa;
    socklen_t salen = sizeof(sa);
    if (getsockname(fd, (struct sockaddr *)&sa, &salen) == -1) return -1;
    int port;
    formatAddr(&sa, NULL, 0, &port);
    return port;
}

/* Protected mode and the "local" settings of enable-*-command hang on this:
 * it must fail closed (an address it cannot parse is not loopback). */
int netIsLoopback(const char *addr) {
    char ip[NET_ADDR_LEN];
    const char *start = addr, *end;
    if (addr[0] == '[') { /* "[v6]:port" as netPeerName writes it */
        start = addr + 1;
        end = strchr(start, ']');
        if (!end) return 0;
    } else {
        const char *colon = strchr(addr, ':');
        /* One colon: "v4:port"; more: a bare IPv6 address. */
        end = (colon && !strchr(colon + 1, ':')) ? colon : addr + strlen(addr);
    }
    size_t len = (size_t)(end - start);
    if (len == 0 || len >= sizeof(ip)) return 0;
    memcpy(ip, start, len);
    ip[len] = '\0';
    struct in_addr a4;
    struct in6_addr a6;
    if (inet_pton(AF_INET, ip, &a4) == 1) return (ntohl(a4.s_addr) >> 24) == 127;
    if (inet_pton(AF_INET6, ip, &a6) != 1) return 0;
    if (IN6_IS_ADDR_LOOPBACK(&a6)) return 1;
    return IN6_IS_ADDR_V4MAPPED(&a6) && a6.s6_addr[12] == 127;
}

int netResolveHost(const char *host, char *out, size_t outlen) {
    unsigned char bin[16];
    if (inet_pton(AF_INET, host, bin) == 1 || inet_pton(AF_INET6, host, bin) == 1) {
        snprintf(out, outlen, "%s", host);
        return 0;
    }
    if (!strcasecmp(host, "localhost")) {
        snprintf(out, outlen, "127.0.0.1");
        return 0;
    }
    return -1;
}
