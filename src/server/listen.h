/* listen.h - the data node's listening sockets: the main port (plain, or
 * sniffing its first byte under tls-mode preferred/required) and the
 * tls-port, both on the configured bind addresses. The mechanism is the
 * library's listener.h; this module owns the two listeners and brings them
 * to the configuration (start-up, CONFIG SET port|bind|tls-port).
 * Errors: -1 with a message in err; on failure nothing moved. */
#ifndef CACHET_LISTEN_H
#define CACHET_LISTEN_H

#include <stddef.h>

/* Main port on the configured port/bind (tls-port: listenApplyTls). */
int listenApplyMain(char *err, size_t errlen);
/* tls-port on the configured bind; 0 closes it. */
int listenApplyTls(char *err, size_t errlen);
/* 1 when the tls-port sockets do not serve the configured tls-port/bind. */
int listenTlsStale(void);
int listenSocketCount(void);  /* open listening sockets, both kinds */
void listenCloseAll(void);    /* SHUTDOWN */
void listenCloseInChild(void); /* a forked child must not keep the ports */
#endif
