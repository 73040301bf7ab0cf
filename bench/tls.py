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

Usage: bench/tls.py [--rounds N] [--requests N] [--seconds S]
"""
import argparse
import csv
import io
import os
import re
import statistics
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from run import BENCH, CACHET, REDIS, ROOT, Srv, free_port  # noqa: E402

OPENSSL = "/usr/bin/openssl"


class TlsSrv(Srv):
    """Srv whose readiness PING goes over TLS (wait_ping in run.py is plaintext)."""

    def __init__(self, name, argv, port, workdir, ca):
        import time
        self.name, self.port = name, port
        self.log = open(os.path.join(workdir, name + ".log"), "w")
        self.proc = subprocess.Popen(argv, stdout=self.log, stderr=subprocess.STDOUT, cwd=workdir)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            p = subprocess.run(["redis-cli", "-p", str(port), "--tls", "--cacert", ca, "PING"], capture_output=True,
                               text=True)
            if p.stdout.strip() == "PONG":
                return
            time.sleep(0.05)
        raise RuntimeError("%s did not answer PING over TLS" % name)


def bench_rps(port, test, pipeline, requests, clients, tls_ca=None, extra=()):
    argv = [BENCH, "-p", str(port), "-c", str(clients), "-n", str(requests), "-P", str(pipeline), "-r", "100000",
            "-t", test, "--csv"] + list(extra)
    if tls_ca:
        argv += ["--tls", "--cacert", tls_ca]
    out = subprocess.run(argv, capture_output=True, text=True, check=True).stdout
    rows = [r for r in csv.reader(io.StringIO(out)) if r]
    return float(dict(zip(rows[0], rows[-1]))["rps"])


def conn_rate(port, ca, seconds, reuse):
    argv = [OPENSSL, "s_time", "-connect", "127.0.0.1:%d" % port, "-CAfile", ca, "-time", str(seconds)]
    argv += ["-reuse", "-tls1_2"] if reuse else ["-new"]
    out = subprocess.run(argv, capture_output=True, text=True, timeout=seconds * 4 + 30).stdout
    m = re.findall(r"(\d+) connections in (\d+) real seconds", out)
    if not m:
        raise RuntimeError("openssl s_time said:\n" + out)
    n, secs = (int(x) for x in m[-1])
    return n / max(secs, 1)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--requests", type=int, default=100000)
    ap.add_argument("--clients", type=int, default=50)
    ap.add_argument("--seconds", type=int, default=3)
    a = ap.parse_args()
    with tempfile.TemporaryDirectory() as wd:
        certs = os.path.join(wd, "tls")
        subprocess.run([os.path.join(ROOT, "scripts", "gen-certs.sh"), certs], check=True, capture_output=True)
        ca, crt, key = (os.path.join(certs, f) for f in ("ca.crt", "server.crt", "server.key"))
        rp, cp = free_port(), free_port()
        common = ["--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--dir", wd,
                  "--tls-cert-file", crt, "--tls-key-file", key, "--tls-ca-cert-file", ca, "--tls-auth-clients", "no"]
        redis = TlsSrv("redis", [REDIS, "--port", "0", "--tls-port", str(rp)] + common, rp, wd, ca)
        try:
            cachet = TlsSrv("cachet", [CACHET, "--port", str(cp), "--tls-mode", "preferred"] + common, cp, wd, ca)
        except Exception:
            redis.stop()
            raise
        try:
            print("| row | redis rps | cachet rps | ratio | cachet TLS/plain |")
            print("|---|---|---|---|---|")
            for test, pipeline in (("set", 1), ("get", 1), ("set", 16), ("get", 16)):
                n = a.requests * (4 if pipeline > 1 else 1)
                got = {"redis": [], "cachet": [], "plain": []}
                for i in range(a.rounds):
                    order = [("redis", rp, ca), ("cachet", cp, ca), ("plain", cp, None)]
                    if i % 2:
                        order.reverse()
                    for name, port, tca in order:
                        got[name].append(bench_rps(port, test, pipeline, n, a.clients, tca))
                r, c, p = (statistics.median(got[k]) for k in ("redis", "cachet", "plain"))
                print("| %s P=%d over TLS | %.0f | %.0f | %.2f | %.2f |" % (test.upper(), pipeline, r, c, c / r, c / p))
            got = {"redis": [], "cachet": []}
            for i in range(a.rounds):
                for name, port in ([("redis", rp), ("cachet", cp)] if i % 2 == 0 else [("cachet", cp), ("redis", rp)]):
                    got[name].append(bench_rps(port, "ping_mbulk", 1, 3000, 8, ca, ["-k", "0"]))
            r, c = statistics.median(got["redis"]), statistics.median(got["cachet"])
            print("| new TLS conns/s: connect, handshake, PING, close (8 clients) | %.0f | %.0f | %.2f | |" % (r, c, c / r))
            for reuse in (False, True):
                got = {"redis": [], "cachet": []}
                for i in range(a.rounds):
                    order = [("redis", rp), ("cachet", cp)]
                    if i % 2:
                        order.reverse()
                    for name, port in order:
                        got[name].append(conn_rate(port, ca, a.seconds, reuse))
                r, c = statistics.median(got["redis"]), statistics.median(got["cachet"])
                label = "s_time: new TLS conns/s, resumed (TLS 1.2)" if reuse else "s_time: new TLS conns/s, full handshake"
                print("| %s | %.0f | %.0f | %.2f | |" % (label, r, c, c / r))
            st = {}
            for line in subprocess.run(["redis-cli", "-p", str(cp), "--tls", "--cacert", ca, "INFO", "ssl"],
                                       capture_output=True, text=True).stdout.splitlines():
                if ":" in line:
                    st[line.split(":")[0]] = line.split(":", 1)[1].strip()
            print("\n(cachet: tls_handshakes_ok=%s, of which resumed=%s)" % (st.get("tls_handshakes_ok"),
                                                                         st.get("tls_handshakes_resumed")))
        finally:
            redis.stop()
            cachet.stop()


if __name__ == "__main__":
    main()
