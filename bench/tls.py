#!/usr/bin/python3
"""TLS rows of `make bench`: Debian's redis-server (TLS on its tls-port,
plaintext port off) against cachet-server (tls-mode preferred: TLS and
plaintext on its one port), in the same run, alternating every round.

Rows:
- SET/GET at pipeline 1 and 16 over TLS (redis-benchmark --tls), ratio
  cachet/redis; and cachet's own TLS/plaintext ratio, the plaintext rows
  measured on the same cachet port in the same rounds.
- New TLS connections per second: redis-benchmark -k 0 (every request on a
  new connection: connect, full handshake, PING, close; 8 clients), and
  `openssl s_time -new` / `-reuse` (one connection at a time; -reuse times
  session resumption with TLS 1.2 session ids, which redis-benchmark
  cannot do).

Every row also gives the server's CPU time per request (per connection for
the connection rows), from /proc/PID/stat around each run, as in run.py;
servers are pinned to CPU 1 and clients to CPU 0 as in run.py.

Usage: bench/tls.py [--rounds N] [--requests N] [--seconds S] [--quick]
"""
import argparse
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from run import (CACHET, REDIS, ROOT, Report, Srv, bench_argv, csv_last, free_port, pin_client,  # noqa: E402
                 ratio, rotation)

OPENSSL = "/usr/bin/openssl"


def tls_ready(ca):
    """Srv readiness over TLS (run.py's default PING is plaintext)."""
    def ready(srv):
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            if srv.proc.poll() is not None:
                raise RuntimeError("%s exited early" % srv.name)
            p = subprocess.run(["redis-cli", "-p", str(srv.port), "--tls", "--cacert", ca, "PING"],
                               capture_output=True, text=True)
            if p.stdout.strip() == "PONG":
                return
            time.sleep(0.05)
        raise RuntimeError("%s did not answer PING over TLS" % srv.name)
    return ready


def bench_rps(srv, test, pipeline, requests, clients, tls_ca=None, extra=()):
    """(rps, server CPU seconds per request) of one redis-benchmark run."""
    extra = list(extra) + (["--tls", "--cacert", tls_ca] if tls_ca else [])
    c0 = srv.cpu()
    out = subprocess.run(bench_argv(srv.port, clients, requests, pipeline, 3, ["-t", test], extra),
                         capture_output=True, text=True, check=True).stdout
    c1 = srv.cpu()
    return float(csv_last(out)["rps"]), (c1 - c0) / requests


def conn_rate(srv, ca, seconds, reuse):
    """(connections/s, server CPU seconds per connection) of openssl s_time."""
    argv = [OPENSSL, "s_time", "-connect", "127.0.0.1:%d" % srv.port, "-CAfile", ca, "-time", str(seconds)]
    argv += ["-reuse", "-tls1_2"] if reuse else ["-new"]
    c0 = srv.cpu()
    out = subprocess.run(argv, capture_output=True, text=True, timeout=seconds * 4 + 30).stdout
    c1 = srv.cpu()
    m = re.findall(r"(\d+) connections in (\d+) real seconds", out)
    if not m:
        raise RuntimeError("openssl s_time said:\n" + out)
    n, secs = (int(x) for x in m[-1])
    return n / max(secs, 1), (c1 - c0) / max(n, 1)


def medians(got):
    return {k: (statistics.median(x[0] for x in v), statistics.median(x[1] for x in v)) for k, v in got.items()}


def us(x):
    return "%.2f" % (x * 1e6)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--rounds", type=int, default=None, help="default 3 (1 with --quick)")
    ap.add_argument("--requests", type=int, default=None, help="default 100000 (5000 with --quick)")
    ap.add_argument("--clients", type=int, default=50)
    ap.add_argument("--seconds", type=int, default=None, help="per s_time run; default 3 (1 with --quick)")
    ap.add_argument("--quick", action="store_true", help="1 round, few requests: a smoke test")
    a = ap.parse_args()
    a.rounds = a.rounds or (1 if a.quick else 3)
    a.requests = a.requests or (5000 if a.quick else 100000)
    a.seconds = a.seconds or (1 if a.quick else 3)
    conns = 300 if a.quick else 3000
    pin_client()
    with tempfile.TemporaryDirectory() as wd:
        certs = os.path.join(wd, "tls")
        subprocess.run([os.path.join(ROOT, "scripts", "gen-certs.sh"), certs], check=True, capture_output=True)
        ca, crt, key = (os.path.join(certs, f) for f in ("ca.crt", "server.crt", "server.key"))
        rp, cp = free_port(), free_port()
        common = ["--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--dir", wd,
                  "--tls-cert-file", crt, "--tls-key-file", key, "--tls-ca-cert-file", ca, "--tls-auth-clients", "no"]
        redis = Srv("redis", [REDIS, "--port", "0", "--tls-port", str(rp)] + common, rp, wd, tls_ready(ca))
        try:
            cachet = Srv("cachet", [CACHET, "--port", str(cp), "--tls-mode", "preferred"] + common, cp, wd,
                         tls_ready(ca))
        except Exception:
            redis.stop()
            raise
        rep = Report("tls", "TLS: redis-server (tls-port) against cachet-server (tls-mode preferred)")
        rep.add("redis-benchmark -c %d, -n %d at pipeline 1 and %d at 16; medians of %d rounds, servers alternating. "
                "CPU: server utime+stime from /proc/PID/stat around each run, per request (per connection in the "
                "connection rows); ratios are cachet/redis." % (a.clients, a.requests, a.requests * 4, a.rounds))
        rep.add()
        try:
            rep.add("| row | redis rps | cachet rps | ratio | redis CPU µs/op | cachet CPU µs/op | CPU ratio "
                    "| cachet TLS/plain rps | cachet plain CPU µs/op |")
            rep.add("|---|---|---|---|---|---|---|---|---|")
            for test, pipeline in (("set", 1), ("get", 1), ("set", 16), ("get", 16)):
                n = a.requests * (4 if pipeline > 1 else 1)
                got = {"redis": [], "cachet": [], "plain": []}
                runs = [("redis", redis, ca), ("cachet", cachet, ca), ("plain", cachet, None)]
                for i in range(a.rounds):
                    for name, srv, tca in rotation(runs, i):
                        got[name].append(bench_rps(srv, test, pipeline, n, a.clients, tca))
                m = medians(got)
                (r, rc), (c, cc), (p, pc) = m["redis"], m["cachet"], m["plain"]
                rep.add("| %s P=%d over TLS | %.0f | %.0f | **%s** | %s | %s | **%s** | %s | %s |" % (
                    test.upper(), pipeline, r, c, ratio(c, r), us(rc), us(cc), ratio(cc, rc), ratio(c, p), us(pc)))
            got = {"redis": [], "cachet": []}
            for i in range(a.rounds):
                for name, srv in rotation([("redis", redis), ("cachet", cachet)], i):
                    got[name].append(bench_rps(srv, "ping_mbulk", 1, conns, 8, ca, ["-k", "0"]))
            (r, rc), (c, cc) = medians(got)["redis"], medians(got)["cachet"]
            rep.add("| new TLS conns/s: connect, handshake, PING, close (8 clients); CPU µs/conn | %.0f | %.0f | "
                    "**%s** | %s | %s | **%s** | | |" % (r, c, ratio(c, r), us(rc), us(cc), ratio(cc, rc)))
            for reuse in (False, True):
                got = {"redis": [], "cachet": []}
                for i in range(a.rounds):
                    for name, srv in rotation([("redis", redis), ("cachet", cachet)], i):
                        got[name].append(conn_rate(srv, ca, a.seconds, reuse))
                (r, rc), (c, cc) = medians(got)["redis"], medians(got)["cachet"]
                label = "s_time: new TLS conns/s, " + ("resumed (TLS 1.2)" if reuse else "full handshake")
                rep.add("| %s; CPU µs/conn | %.0f | %.0f | **%s** | %s | %s | **%s** | | |" % (
                    label, r, c, ratio(c, r), us(rc), us(cc), ratio(cc, rc)))
            st = {}
            for line in subprocess.run(["redis-cli", "-p", str(cp), "--tls", "--cacert", ca, "INFO", "ssl"],
                                       capture_output=True, text=True).stdout.splitlines():
                if ":" in line:
                    st[line.split(":")[0]] = line.split(":", 1)[1].strip()
            rep.add()
            rep.add("(cachet: tls_handshakes_ok=%s, of which resumed=%s)" % (st.get("tls_handshakes_ok"),
                                                                          st.get("tls_handshakes_resumed")))
        finally:
            redis.stop()
            cachet.stop()
        rep.save()


if __name__ == "__main__":
    main()
