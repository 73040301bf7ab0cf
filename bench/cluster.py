#!/usr/bin/python3
"""Cluster mode speed, side by side with Debian's redis-server in one run.

1. `redis-benchmark --cluster -t set|get` (pipeline 1 and 16) against a
   3-shard Cachet cluster (3 primaries, no replicas, the map pushed with
   CLUSTER SETTOPOLOGY) and a Redis 7.0 cluster of the same shape built with
   `redis-cli --cluster create`. Reported: requests/s and the servers' CPU
   per operation, summed over the three nodes (utime+stime from /proc).
2. The cost of cluster mode on a single node: plain `redis-benchmark -t
   set|get` (pipeline 1 and 16) against one Cachet with `cluster-enabled yes`
   (owning every slot) and one with `cluster-enabled no` (issue 19's target:
   under 3% more server CPU per operation).

Pinning and CPU accounting are bench/run.py's (its Srv, pin_client,
cpu_seconds): every server on the server CPU, redis-benchmark on the client
CPU. Each row is run --rounds times, the two sides alternating who goes
first; the tables quote medians and ratios cachet/redis (or yes/no).
MIGRATE speed is bench/migrate.py's.

Usage: bench/cluster.py [--rounds N] [--requests N] [--clients N] [--quick] [--single]
Results are printed as Markdown and written to bench/results/.
"""
import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from run import (BENCH, CACHET, CLI, COMMON, REDIS, TICK, Report, Srv, csv_last, free_port,  # noqa: E402
                 pin_client, ratio, rotation)

RANGES3 = ["0-5460", "5461-10922", "10923-16383"]


def cluster_port():
    """A free port whose bus port (+10000, Redis') is a port too."""
    while True:
        p = free_port()
        if p + 10000 <= 65535:
            return p


def wait_for(pred, what, timeout=30):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if pred():
            return
        time.sleep(0.05)
    raise RuntimeError("timed out waiting for " + what)


class Group:
    """Servers measured together: their CPU is the sum over them."""

    def __init__(self, name, nodes):
        self.name, self.nodes = name, nodes

    def cpu(self):
        return sum(n.cpu() for n in self.nodes)

    def stop(self):
        for n in self.nodes:
            n.stop()


def stopping_on_error(nodes, step):
    """Runs step(); on an error stops the nodes started so far and re-raises."""
    try:
        step()
    except Exception:
        for s in nodes:
            s.stop()
        raise


def start_nodes(prefix, binary, workdir, n, extra):
    nodes = []

    def start():
        for i in range(n):
            port = cluster_port()
            d = os.path.join(workdir, "%s%d" % (prefix, i))
            os.makedirs(d, exist_ok=True)
            nodes.append(Srv("%s%d" % (prefix, i), [binary, "--port", str(port)] + COMMON + ["--dir", d] + extra,
                             port, d))
    stopping_on_error(nodes, start)
    return nodes


def cluster_ok(node):
    return "cluster_state:ok" in node.cli("cluster", "info")


def cachet_cluster(workdir, ranges):
    nodes = start_nodes("cachet", CACHET, workdir, len(ranges), ["--cluster-enabled", "yes"])

    def push():
        ids = [s.cli("cluster", "myid").strip() for s in nodes]
        spec = ["1"]
        for s, i, r in zip(nodes, ids, ranges):
            spec += ["NODE", i, "127.0.0.1", str(s.port), "0", "-", "PRIMARY", r]
        for s in nodes:
            out = s.cli("cluster", "settopology", *spec).strip()
            if out != "OK":
                raise RuntimeError("SETTOPOLOGY: " + out)
        for s in nodes:
            wait_for(lambda: cluster_ok(s), "cachet cluster_state ok")
    stopping_on_error(nodes, push)
    return Group("cachet", nodes)


def redis_cluster(workdir):
    nodes = start_nodes("redis", REDIS, workdir, 3, ["--cluster-enabled", "yes"])

    def create():
        subprocess.run([CLI, "--cluster", "create"] + ["127.0.0.1:%d" % s.port for s in nodes] + ["--cluster-yes"],
                       capture_output=True, timeout=60, check=True)
        for s in nodes:
            wait_for(lambda: cluster_ok(s), "redis cluster_state ok")
    stopping_on_error(nodes, create)
    return Group("redis", nodes)


def run_one(group, test, pipeline, requests, clients, cluster):
    """One timed redis-benchmark run: (rps, server CPU seconds per request, summed over the group)."""
    argv = [BENCH, "-p", str(group.nodes[0].port), "-c", str(clients), "-n", str(requests), "-P", str(pipeline),
            "-d", "3", "-r", "100000", "--csv", "-t", test]
    if cluster:
        argv.insert(1, "--cluster")
    c0 = group.cpu()
    p = subprocess.run(argv, capture_output=True, text=True, timeout=600)
    c1 = group.cpu()
    if p.returncode != 0 or "error" in (p.stdout + p.stderr).lower():
        raise RuntimeError("redis-benchmark failed against %s: %s %s" % (group.name, p.stdout, p.stderr))
    # --cluster prints the masters it found before the CSV: start at its header.
    return float(csv_last(p.stdout[p.stdout.index('"test"'):])["rps"]), (c1 - c0) / requests


def rows(groups, rounds, requests, clients, cluster, pipelines):
    """[(TEST, pipeline, {group name: (median rps, median CPU s/op)})]"""
    out = []
    for pipeline in pipelines:
        for test in ("set", "get"):
            n = requests * (4 if pipeline > 1 else 1)
            per = {g.name: [] for g in groups}
            for i in range(rounds):
                for g in rotation(groups, i):
                    per[g.name].append(run_one(g, test, pipeline, n, clients, cluster))
            med = {k: (statistics.median(x[0] for x in v), statistics.median(x[1] for x in v))
                   for k, v in per.items()}
            print("  %s P%d %s" % (test.upper(), pipeline, "  ".join(
                "%s %.0f rps %.2f us/op" % (k, v[0], v[1] * 1e6) for k, v in med.items())), file=sys.stderr)
            out.append((test.upper(), pipeline, med))
    return out


def measure(starters, args, cluster):
    """Starts the groups (each starter returns one), runs rows() at pipelines
    1 and 16, and stops them whatever happens."""
    groups = []
    try:
        for start in starters:
            groups.append(start())
        return rows(groups, args.rounds, args.requests, args.clients, cluster, (1, 16))
    finally:
        for g in groups:
            g.stop()


def table(rep, res, a, b):
    rep.add("| test | pipeline | %s rps | %s rps | rps ratio | %s CPU µs/op | %s CPU µs/op | CPU ratio |" %
            (a, b, a, b))
    rep.add("|---|---|---|---|---|---|---|---|")
    for test, pipeline, med in res:
        ra, rb = med[a], med[b]
        rep.add("| %s | %d | %.0f | %.0f | %s | %.2f | %.2f | %s |" % (
            test, pipeline, ra[0], rb[0], ratio(ra[0], rb[0]), ra[1] * 1e6, rb[1] * 1e6, ratio(ra[1], rb[1])))
    rep.add()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--rounds", type=int, default=None, help="default 3 (1 with --quick)")
    ap.add_argument("--requests", type=int, default=None, help="per run at pipeline 1, 4x at 16; default 100000 "
                    "(10000 with --quick)")
    ap.add_argument("--clients", type=int, default=50)
    ap.add_argument("--quick", action="store_true", help="1 round, fewer requests: a smoke test")
    ap.add_argument("--single", action="store_true", help="only part 2, the single-node cost of cluster mode")
    args = ap.parse_args()
    if args.rounds is None:
        args.rounds = 1 if args.quick else 3
    if args.requests is None:
        args.requests = 10000 if args.quick else 100000
    pin_client()
    rep = Report("cluster", "cluster mode: Cachet against Redis 7.0")
    rep.add("redis-benchmark -c %d -d 3 -r 100000, -n %d at pipeline 1 and %d at 16; medians of %d rounds, "
            "the two sides alternating. CPU/op: utime+stime of the servers (summed over a cluster's nodes, "
            "%d ticks/s) around each run over its requests." %
            (args.clients, args.requests, args.requests * 4, args.rounds, TICK))
    rep.add()
    workdir = tempfile.mkdtemp(prefix="cachet-bench-cluster-")
    try:
        if not args.single:
            print("redis-benchmark --cluster, 3 primaries each...", file=sys.stderr)
            res = measure([lambda: cachet_cluster(workdir, RANGES3), lambda: redis_cluster(workdir)], args, True)
            rep.add("#### 3-shard cluster (3 primaries, no replicas), `redis-benchmark --cluster`; ratio cachet/redis")
            rep.add()
            table(rep, res, "cachet", "redis")

        def cluster_yes():
            g = cachet_cluster(os.path.join(workdir, "single"), ["0-16383"])
            g.name = "cluster-yes"
            return g
        print("one node, cluster-enabled yes against no...", file=sys.stderr)
        res = measure([cluster_yes, lambda: Group("cluster-no", start_nodes("plain", CACHET, workdir, 1, []))], args,
                      False)
        rep.add("#### cost of cluster mode on one Cachet node (owning all slots); ratio yes/no")
        rep.add()
        table(rep, res, "cluster-yes", "cluster-no")
        rep.add("MIGRATE keys/s: bench/migrate.py.")
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    rep.save()


if __name__ == "__main__":
    main()
