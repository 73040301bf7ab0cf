#!/usr/bin/python3
"""What the ACL check costs: one cachet-server, redis-benchmark's SET and GET
at pipeline 1 and 16, run as the default user (unrestricted: the check is a
flag test) and as a restricted user `~key:* +@read +@write` (command bitmap
plus a key pattern match per key), alternating the two every round so
machine drift hits both alike. Prints medians and the cost in percent
(target: under 3%). redis-benchmark's keys are all `key:...`, so every
request of the restricted user passes the check, as it must.

The server's CPU time per request (/proc/PID/stat around each run) is
reported for both users too; the server is pinned to CPU 1 and
redis-benchmark to CPU 0, as in run.py.

Usage: bench/acl.py [--rounds N] [--requests N] [--quick]
"""
import argparse
import os
import statistics
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from run import (CACHET, Report, Srv, bench_argv, csv_last, free_port, pin_client,  # noqa: E402
                 rotation)

ROWS = [("set", 1), ("get", 1), ("set", 16), ("get", 16)]


def rps(srv, test, pipeline, requests, clients, auth):
    """(rps, server CPU seconds per request) of one redis-benchmark run."""
    c0 = srv.cpu()
    out = subprocess.run(bench_argv(srv.port, clients, requests, pipeline, 3, ["-t", test], auth),
                         capture_output=True, text=True, check=True).stdout
    c1 = srv.cpu()
    return float(csv_last(out)["rps"]), (c1 - c0) / requests


def pct(base, x):
    """How much x exceeds base, in percent of base (+0.0 turns -0.0 into 0.0)."""
    return "%+.1f%%" % ((x - base) / base * 100 + 0.0) if base else "n/a"


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--rounds", type=int, default=None, help="default 5 (1 with --quick)")
    ap.add_argument("--requests", type=int, default=None, help="default 200000 (5000 with --quick)")
    ap.add_argument("--clients", type=int, default=50)
    ap.add_argument("--quick", action="store_true", help="1 round, few requests: a smoke test")
    a = ap.parse_args()
    a.rounds = a.rounds or (1 if a.quick else 5)
    a.requests = a.requests or (5000 if a.quick else 200000)
    pin_client()
    with tempfile.TemporaryDirectory() as wd:
        port = free_port()
        s = Srv("cachet", [CACHET, "--port", str(port), "--bind", "127.0.0.1", "--save", ""], port, wd)
        rep = Report("acl", "ACL check: cachet-server, default user against a restricted one")
        rep.add("redis-benchmark -c %d, -n %d at pipeline 1 and %d at 16; medians of %d rounds, users alternating. "
                "CPU: server utime+stime from /proc/PID/stat around each run, per request." % (
                    a.clients, a.requests, a.requests * 4, a.rounds))
        rep.add()
        try:
            s.cli("ACL", "SETUSER", "bench", "on", ">bench", "~key:*", "+@read", "+@write")
            users = [("default", []), ("restricted", ["--user", "bench", "-a", "bench"])]
            rep.add("| test | default user rps | restricted user rps | cost | default CPU µs/op "
                    "| restricted CPU µs/op | CPU cost |")
            rep.add("|---|---|---|---|---|---|---|")
            for test, pipeline in ROWS:
                got = {u: [] for u, _ in users}
                n = a.requests * (4 if pipeline > 1 else 1)
                for i in range(a.rounds):
                    for u, auth in rotation(users, i):
                        got[u].append(rps(s, test, pipeline, n, a.clients, auth))
                med = {u: (statistics.median(x[0] for x in v), statistics.median(x[1] for x in v))
                       for u, v in got.items()}
                (d, dc), (r, rc) = med["default"], med["restricted"]
                # Both costs positive when the restricted user is dearer:
                # fewer requests/s, more CPU per request.
                slower = "%+.1f%%" % ((d - r) / d * 100 + 0.0) if d else "n/a"
                rep.add("| %s P=%d | %.0f | %.0f | %s | %.2f | %.2f | %s |" % (
                    test.upper(), pipeline, d, r, slower, dc * 1e6, rc * 1e6, pct(dc, rc)))
            denied = s.info("stats").get("acl_access_denied_cmd", "?")
            rep.add()
            rep.add("(acl_access_denied_cmd=%s: redis-benchmark's CONFIG GET at start-up, denied to the restricted"
                    " user)" % denied)
        finally:
            s.stop()
        rep.save()


if __name__ == "__main__":
    main()
