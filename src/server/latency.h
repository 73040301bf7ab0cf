/* latency.h - the latency monitor (LATENCY, in cmd_server.c). */
#ifndef CACHET_LATENCY_H
#define CACHET_LATENCY_H


/* cmd_server.c: latency monitor. Records `ms` under `event` when
 * srv.latencyMonitorThreshold is non-zero and ms >= it (cmdCall: "command"). */
void latencyAddSampleIfNeeded(const char *event, long long ms);

#endif
