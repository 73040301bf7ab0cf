#!/usr/bin/python3
"""The cost of cluster mode on one node, interleaved: server CPU per
operation with `cluster-enabled yes` (owning all 16,384 slots) over the same
binary with `cluster-enabled no`.

Why interleaved: on a shared 2-vCPU machine the same binary's yes/no ratio
moves by 10-20% between runs made one after the other (bench/cluster.py
--single). Here every server is up at once and each round runs every
server once per test, in a random order, so a round's runs share the
machine's load of the moment; the figure is the median over rounds of the
round's yes/no ratio. CPU per operation is INFO's used_cpu_user+sys
(microsecond resolution) around the run, over its requests.

--baseline BINARY adds a second binary's yes/no pair to every round (an
older build, to compare a change's cost in the same run).

Pinning is bench/run.py's: servers on the server CPU, redis-benchmark on
the client CPU. redis-benchmark -c 50 -d 3 -r 100000, -n 100,000 at
pipeline 1 and 400,000 at 16.

Usage: bench/cluster_cost.py [--rounds N] [--baseline BINARY] [--p16-only]
Results are printed as Markdown and written to bench/results/.
"""
import argparse
import os
import random
import statistics
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from run import BENCH, CACHET, Report, Srv, free_port, pin_client  # noqa: E402

import subprocess  # noqa: E402

import redis  # noqa: E402


def start(name, binary, mode, workdir):
    port = free_port()
    s = Srv(name, [binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--cluster-enabled", mode],
            port, workdir)
    r = redis.Redis(port=port, decode_responses=True)
    try:
        if mode == "yes":
            me = r.execute_command("CLUSTER", "MYID")
            r.execute_command("CLUSTER", "SETTOPOLOGY", 1, "NODE", me, "127.0.0.1", port, 0, "-", "PRIMARY",
                              "0-16383")
    except Exception:
        s.stop()
        raise
    return s, r


def cpu(r):
    i = r.info("cpu")
    return float(i["used_cpu_user"]) + float(i["used_cpu_sys"])


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--rounds", type=int, default=9)
    ap.add_argument("--baseline", help="another cachet-server binary measured beside this build's")
    ap.add_argument("--p16-only", action="store_true", help="only pipeline 16 (pipeline 1 is mostly system calls)")
    args = ap.parse_args()
    pin_client()
    binaries = [("this", CACHET)] + ([("baseline", args.baseline)] if args.baseline else [])
    tests = [("set", 16), ("get", 16)] + ([] if args.p16_only else [("set", 1), ("get", 1)])
    rep = Report("cluster-cost", "cost of cluster mode on one node, interleaved (bench/cluster_cost.py)")
    rep.add("redis-benchmark -c 50 -d 3 -r 100000, -n 100000 at pipeline 1 and 400000 at 16; %d rounds, every "
            "server once per test and round in a random order; median over rounds of the round's yes/no ratio of "
            "CPU per op (INFO used_cpu_user+sys)." % args.rounds)
    rep.add("")
    servers = {}
    with tempfile.TemporaryDirectory() as workdir:
        try:
            for b, path in binaries:
                for mode in ("yes", "no"):
                    servers[(b, mode)] = start("%s-%s" % (b, mode), path, mode, workdir)
            us = {}
            for rnd in range(args.rounds):
                for t, p in tests:
                    n = 400000 if p == 16 else 100000
                    order = list(servers)
                    random.shuffle(order)
                    for key in order:
                        s, r = servers[key]
                        c0 = cpu(r)
                        subprocess.run([BENCH, "-p", str(s.port), "-c", "50", "-d", "3", "-r", "100000", "-n",
                                        str(n), "-P", str(p), "-t", t, "-q"], stdout=subprocess.DEVNULL, check=True)
                        us.setdefault((t, p) + key, []).append((cpu(r) - c0) / n * 1e6)
                print("round %d done" % (rnd + 1), file=sys.stderr)
            head = "| test | pipeline |" + "".join(" %s yes/no | %s µs/op yes, no |" % (b, b) for b, _ in binaries)
            rep.add(head)
            rep.add("|---|---|" + "---|---|" * len(binaries))
            for t, p in tests:
                row = "| %s | %d |" % (t.upper(), p)
                for b, _ in binaries:
                    yes, no = us[(t, p, b, "yes")], us[(t, p, b, "no")]
                    ratios = [y / x for y, x in zip(yes, no)]
                    row += " %.3f | %.2f, %.2f |" % (statistics.median(ratios), statistics.median(yes),
                                                     statistics.median(no))
                rep.add(row)
        finally:
            for s, _ in servers.values():
                s.stop()
    rep.save()


if __name__ == "__main__":
    main()
