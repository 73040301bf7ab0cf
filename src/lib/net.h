/* net.h - socket helpers: listen, accept, socket options, peer names.
 * Owns nothing beyond the fds it returns (caller closes). Errors come back as
 * -1 plus a message in err (at least NET_ERR_LEN bytes); never exits. */
#ifndef CACHET_NET_H
#define CACHET_NET_H
#define NET_ERR_LEN 256
#define NET_ADDR_LEN 64
#include <stddef.h>

int netListen(const char *addr, int port, int backlog, char *err);
/* Returns the new fd (non-blocking, close-on-exec) or -1; EAGAIN sets err "". */
int netAccept(int lfd, char *ip, int iplen, int *port, char *err);
int netNonBlock(int fd);
int netNoDelay(int fd, int on);
int netKeepAlive(int fd, int interval);
int netSendTimeout(int fd, long long ms);
/* "ip:port" of the peer or of our side of the socket. */
int netPeerName(int fd, char *buf, int len);
int netSockName(int fd, char *buf, int len);
int netBoundPort(int fd);
/* 1 if addr (an IP, "ip:port" or "[ipv6]:port") is a loopback address:
 * 127.0.0.0/8, ::1, or an IPv4-mapped 127.x. Anything unparsable is not. */
int netIsLoopback(const char *addr);
/* Numeric IPv4/IPv6 addresses as they are; "localhost" as 127.0.0.1
 * (resolved here so the loop never waits on a resolver). Other names: -1. */
int netResolveHost(const char *host, char *out, size_t outlen);
#endif
