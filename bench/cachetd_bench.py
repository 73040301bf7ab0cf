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
GROUPS = int(sys.argv[1]) if len(sys.argv) > 1 else 20
RUNS = int(sys.argv[2]) if len(sys.argv) > 2 else 5
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


def main():
    data = tempfile.mkdtemp(prefix="cachetd-bench-")
    port = free_port()
    proc = subprocess.Popen([os.path.join(ROOT, "build", "cachetd"), "--data-dir", data, "--listen",
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
