#!/usr/bin/python3
"""cachetd timings (docs/control-plane.md, issue 20 "Speed"):
  - CreateReplicationGroup -> available, one node
  - each TLS migration step (none->preferred->required) until available again
  - cluster mode enabled, median of RUNS: create -> available for 1 shard x 1
    replica and 3 shards x 1 replica (6 nodes), and each migration step
    (none->preferred->required->preferred->none) on the 6-node group
  - DescribeReplicationGroups latency p50/p99 with GROUPS groups
  - cachetd's resident memory
Usage: /usr/bin/python3 bench/cachetd_bench.py [GROUPS [RUNS]]
       (GROUPS default 20, each group a process; RUNS default 5)
       /usr/bin/python3 bench/cachetd_bench.py describe [GROUPS [N]]
       (only DescribeReplicationGroups: GROUPS (default 100) groups of one
       node each, then N (default 300) rounds of: the full listing through
       boto3's paginator (MaxRecords 20 and 100 a page), one group by id, and
       the same two as raw HTTP (no client-side XML parsing), p50/p99 each)
CACHETD=PATH runs another cachetd binary (a before/after comparison).
Starts its own cachetd on a free port with a temporary data directory and
stops it and every node it started (by PID) at the end."""
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request

os.environ["AWS_DATA_PATH"] = "/usr/lib/python3/dist-packages/awscli/botocore/data"
import boto3  # noqa: E402
from botocore.config import Config  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
GROUPS = int(sys.argv[1]) if len(sys.argv) > 1 and sys.argv[1] != "describe" else 20
RUNS = int(sys.argv[2]) if len(sys.argv) > 2 and sys.argv[1] != "describe" else 5
STEPS = (("preferred", True), ("required", True), ("preferred", True), (None, False))


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_status(ec, gid, want="available"):
    while True:
        st = ec.describe_replication_groups(ReplicationGroupId=gid)["ReplicationGroups"][0]["Status"]
        if st == want:
            return
        assert st != "create-failed", gid
        time.sleep(0.005)


def ms_since(t):
    return 1000 * (time.monotonic() - t)


def median(xs):
    xs = sorted(xs)
    return xs[len(xs) // 2]


def cluster_runs(ec):
    """Median create -> available of 1x1 and 3x1 cluster-mode groups, and of
    each migration step on the 3x1 (6-node) group."""
    create = {1: [], 3: []}
    steps = [[] for _ in STEPS]
    for run in range(RUNS):
        for shards in (1, 3):
            gid = f"c{shards}x1-{run}"
            t = time.monotonic()
            ec.create_replication_group(ReplicationGroupId=gid, ReplicationGroupDescription="b",
                                        NumNodeGroups=shards, ReplicasPerNodeGroup=1)
            wait_status(ec, gid)
            create[shards].append(ms_since(t))
            if shards == 3:
                for i, (mode, on) in enumerate(STEPS):
                    kw = dict(TransitEncryptionMode=mode) if mode else {}
                    t = time.monotonic()
                    ec.modify_replication_group(ReplicationGroupId=gid, TransitEncryptionEnabled=on,
                                                ApplyImmediately=True, **kw)
                    wait_status(ec, gid)
                    steps[i].append(ms_since(t))
            ec.delete_replication_group(ReplicationGroupId=gid)
            while gid in [g["ReplicationGroupId"] for g in ec.describe_replication_groups()["ReplicationGroups"]]:
                time.sleep(0.01)
    for shards in (1, 3):
        print(f"cluster mode, {shards} shard(s) x 1 replica ({2 * shards} nodes): create -> available, median of "
              f"{RUNS}: {median(create[shards]):.0f} ms (all: {', '.join(f'{x:.0f}' for x in create[shards])})")
    prev = "none"
    for (mode, on), xs in zip(STEPS, steps):
        cur = mode or "none"
        print(f"migration step {prev} -> {cur} (6 nodes), median of {RUNS}: {median(xs):.0f} ms "
              f"(all: {', '.join(f'{x:.0f}' for x in xs)})")
        prev = cur


def pct(xs, q):
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(len(xs) * q))]


def cpu_ms(pid):
    """utime + stime of pid so far, in ms."""
    f = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()
    return (int(f[11]) + int(f[12])) * 1000 / os.sysconf("SC_CLK_TCK")


def describe_bench(ec, url, groups, rounds, pid):
    """DescribeReplicationGroups latencies with `groups` one-node groups."""
    t = time.monotonic()
    for i in range(groups):
        ec.create_replication_group(ReplicationGroupId=f"d{i:03d}", ReplicationGroupDescription="b")
    for i in range(groups):
        wait_status(ec, f"d{i:03d}")
    print(f"{groups} one-node groups created and available in {ms_since(t):.0f} ms")
    pag = ec.get_paginator("describe_replication_groups")
    raw_all = (url + "/?Action=DescribeReplicationGroups&Version=2015-02-02&MaxRecords=100")
    raw_one = (url + f"/?Action=DescribeReplicationGroups&Version=2015-02-02&ReplicationGroupId=d{groups // 2:03d}")
    cases = {
        "boto3 paginator, MaxRecords 20 (whole listing)": lambda: sum(
            len(p["ReplicationGroups"]) for p in pag.paginate(PaginationConfig={"PageSize": 20})),
        "boto3 paginator, MaxRecords 100 (whole listing)": lambda: sum(
            len(p["ReplicationGroups"]) for p in pag.paginate(PaginationConfig={"PageSize": 100})),
        "boto3, one group by id": lambda: len(
            ec.describe_replication_groups(ReplicationGroupId=f"d{groups // 2:03d}")["ReplicationGroups"]),
        "raw HTTP, MaxRecords 100 (one page)": lambda: urllib.request.urlopen(raw_all).read().count(
            b"<ReplicationGroup>"),
        "raw HTTP, one group by id": lambda: urllib.request.urlopen(raw_one).read().count(b"<ReplicationGroup>"),
    }
    lat = {k: [] for k in cases}
    for _ in range(rounds):
        for k, fn in cases.items():
            t = time.perf_counter()
            n = fn()
            lat[k].append(1000 * (time.perf_counter() - t))
            assert n >= 1, k
    for k, xs in lat.items():
        print(f"DescribeReplicationGroups, {groups} groups, {k}: p50 {pct(xs, 0.5):.2f} ms, "
              f"p99 {pct(xs, 0.99):.2f} ms")
    # cachetd's own CPU per listing: what a busy machine does not blur (the
    # reconciler's passes over the same seconds are included).
    n, c0, t0 = 3 * rounds, cpu_ms(pid), time.monotonic()
    for _ in range(n):
        urllib.request.urlopen(raw_all).read()
    print(f"cachetd CPU per 100-record listing (raw HTTP, {n} in {ms_since(t0):.0f} ms): "
          f"{(cpu_ms(pid) - c0) / n:.2f} ms")


def main():
    describe_only = len(sys.argv) > 1 and sys.argv[1] == "describe"
    data = tempfile.mkdtemp(prefix="cachetd-bench-")
    port = free_port()
    proc = subprocess.Popen([os.environ.get("CACHETD", os.path.join(ROOT, "build", "cachetd")), "--data-dir", data, "--listen",
                             f"127.0.0.1:{port}", "--insecure-any-signature"], stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    try:
        url = f"http://127.0.0.1:{port}"
        for _ in range(100):
            try:
                urllib.request.urlopen(url + "/ca.pem", timeout=1)
                break
            except OSError:
                time.sleep(0.05)
        ec = boto3.client("elasticache", endpoint_url=url, region_name="us-east-1", aws_access_key_id="x",
                          aws_secret_access_key="y", config=Config(retries={"max_attempts": 1}))
        if describe_only:
            describe_bench(ec, url, int(sys.argv[2]) if len(sys.argv) > 2 else 100,
                           int(sys.argv[3]) if len(sys.argv) > 3 else 300, proc.pid)
            return
        t = time.monotonic()
        ec.create_replication_group(ReplicationGroupId="b0", ReplicationGroupDescription="b")
        wait_status(ec, "b0")
        print(f"create -> available (1 node): {1000 * (time.monotonic() - t):.0f} ms")
        for mode in ("preferred", "required"):
            t = time.monotonic()
            ec.modify_replication_group(ReplicationGroupId="b0", TransitEncryptionEnabled=True,
                                        TransitEncryptionMode=mode, ApplyImmediately=True)
            wait_status(ec, "b0")
            print(f"migration step -> {mode} (1 node): {1000 * (time.monotonic() - t):.0f} ms")
        cluster_runs(ec)
        for i in range(1, GROUPS):
            ec.create_replication_group(ReplicationGroupId=f"b{i}", ReplicationGroupDescription="b")
        for i in range(1, GROUPS):
            wait_status(ec, f"b{i}")
        lat = []
        for _ in range(200):
            t = time.perf_counter()
            ec.describe_replication_groups(MaxRecords=100)
            lat.append(1000 * (time.perf_counter() - t))
        lat.sort()
        print(f"DescribeReplicationGroups, {GROUPS} groups, boto3 round trip: p50 {lat[len(lat) // 2]:.2f} ms, "
              f"p99 {lat[int(len(lat) * 0.99)]:.2f} ms")
        rss = [line for line in open(f"/proc/{proc.pid}/status") if line.startswith("VmRSS")][0].split()[1]
        print(f"cachetd RSS: {int(rss) // 1024} MiB")
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(10)
        nodes = os.path.join(data, "nodes")
        for nid in os.listdir(nodes) if os.path.isdir(nodes) else []:
            try:
                pid = int(open(os.path.join(nodes, nid, "node.pid")).read())
                if os.path.join(nodes, nid, "node.conf").encode() in open(f"/proc/{pid}/cmdline", "rb").read():
                    os.kill(pid, signal.SIGKILL)
            except (OSError, ValueError):
                pass
        shutil.rmtree(data, ignore_errors=True)


if __name__ == "__main__":
    main()
