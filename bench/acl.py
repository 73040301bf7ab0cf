#!/usr/bin/python3
"""What the ACL check costs: one cachet-server, redis-benchmark's SET and GET
at pipeline 1 and 16, run as the default user (unrestricted: the check is a
flag test) and as a restricted user `~key:* +@read +@write` (command bitmap
plus a key pattern match per key), alternating the two every round so
machine drift hits both alike. Prints medians and the cost in percent
(target: under 3%). redis-benchmark's keys are all `key:...`, so every
request of the restricted user passes the check, as it must.

Usage: bench/acl.py [--rounds N] [--requests N]
"""
import argparse
import csv
import io
import os
import statistics
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from run import BENCH, CACHET, Srv, free_port  # noqa: E402

ROWS = [("set", 1), ("get", 1), ("set", 16), ("get", 16)]


def rps(port, test, pipeline, requests, clients, auth):
    argv = [BENCH, "-p", str(port), "-c", str(clients), "-n", str(requests), "-P", str(pipeline), "-r", "100000",
            "-t", test, "--csv"] + auth
    out = subprocess.run(argv, capture_output=True, text=True, check=True).stdout
    rows = [r for r in csv.reader(io.StringIO(out)) if r]
    return float(dict(zip(rows[0], rows[-1]))["rps"])


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--requests", type=int, default=200000)
    ap.add_argument("--clients", type=int, default=50)
    a = ap.parse_args()
    with tempfile.TemporaryDirectory() as wd:
        port = free_port()
        s = Srv("cachet", [CACHET, "--port", str(port), "--bind", "127.0.0.1", "--save", ""], port, wd)
        try:
            s.cli("ACL", "SETUSER", "bench", "on", ">bench", "~key:*", "+@read", "+@write")
            users = {"default": [], "restricted": ["--user", "bench", "-a", "bench"]}
            print("| test | default user rps | restricted user rps | cost |")
            print("|---|---|---|---|")
            for test, pipeline in ROWS:
                got = {u: [] for u in users}
                n = a.requests * (4 if pipeline > 1 else 1)
                for i in range(a.rounds):
                    order = list(users) if i % 2 == 0 else list(reversed(list(users)))
                    for u in order:
                        got[u].append(rps(port, test, pipeline, n, a.clients, users[u]))
                d, r = statistics.median(got["default"]), statistics.median(got["restricted"])
                print("| %s P=%d | %.0f | %.0f | %+.1f%% |" % (test.upper(), pipeline, d, r, (d - r) / d * 100))
            denied = s.info("stats").get("acl_access_denied_cmd", "?")
            print("\n(acl_access_denied_cmd=%s: redis-benchmark's CONFIG GET at start-up, denied to the restricted"
                  " user)" % denied)
        finally:
            s.stop()


if __name__ == "__main__":
    main()
