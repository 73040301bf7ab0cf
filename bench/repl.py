#!/usr/bin/python3
"""Replication speed, side by side with Debian's redis-server in one run:
Cachet -> Cachet against Redis -> Redis, the pairs alternating round by
round.

  full sync   1,000,000 keys of mixed types (bench/snapshot.py's dataset)
              in the primary; a fresh replica is told REPLICAOF; timed until
              it reports master_link_status:up and holds every key. Disk-based
              and diskless (repl-diskless-sync yes, delay 0), plaintext and
              TLS (tls-replication yes). Beside the time: the primary's peak
              RSS growth during the sync (what the replica's output buffer and
              the fork cost it), sampled every 10 ms.
  memory      the same full sync (diskless, plaintext) with redis-benchmark
              SET -P 16 writing into the primary all along: the sync's time,
              and the primary's peak mem_clients_slaves (the replica's output
              buffer: the writes kept for it until its snapshot is loaded),
              used_memory growth and RSS growth, from INFO every 10 ms.
  writes      redis-benchmark SET at pipeline 16 against the primary with
              one replica attached: requests/s, the primary's CPU per
              operation, the replica's lag in bytes (the primary's
              master_repl_offset minus the replica's) and in ms (how long ago
              the primary's offset passed the one the replica has reached,
              interpolated between the primary's samples), both sampled every
              5 ms over one connection to each (bytes: median and p99; ms: mean
              and p99, the median being 0 at this load), and how long
              the replica takes to catch up once the load stops.

Pinning: the primary on CPU 1; the replica and the clients (redis-benchmark,
redis-cli) on CPU 0 -- on two cores the replica has to share one with
someone, and sharing with the client keeps the primary's core its own. Say so
when quoting. Ratios are cachet/redis (time, lag, CPU: lower is better;
requests/s: higher is better). Medians of --rounds.

Usage: bench/repl.py [--rounds N] [--keys N] [--requests N] [--quick] [--no-tls]
"""
import argparse
import bisect
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from run import (BENCH, CACHET, CLI, PIN, REDIS, Report, Srv, csv_last, free_port, pin_client, ratio,  # noqa: E402
                 write_commands)
from snapshot import dataset  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def _pin_replica():
    os.sched_setaffinity(0, {PIN[0]})


class Node(Srv):
    """A Srv whose CPU is chosen: the primary's (CPU 1, as Srv) or the
    replica's (CPU 0)."""

    def __init__(self, name, argv, port, workdir, replica=False, tls=None):
        if not replica:
            super().__init__(name, argv, port, workdir)
            self.tls = tls
            return
        self.name, self.port, self.tls = name, port, tls
        self.log = open(os.path.join(workdir, name + ".log"), "w")
        self.proc = subprocess.Popen(argv, stdout=self.log, stderr=subprocess.STDOUT, cwd=workdir,
                                     preexec_fn=_pin_replica if PIN else None)
        from run import wait_ping
        try:
            wait_ping(port, self.proc)
        except Exception:
            self.stop()
            raise


class Info:
    """INFO over one kept connection (a redis-cli per sample would cost the
    client CPU a fork each and limit the sampling rate)."""

    def __init__(self, port):
        self.s = socket.create_connection(("127.0.0.1", port), timeout=30)
        self.buf = b""

    def _line(self):
        while b"\r\n" not in self.buf:
            chunk = self.s.recv(65536)
            if not chunk:
                raise ConnectionError("server closed the connection")
            self.buf += chunk
        line, self.buf = self.buf.split(b"\r\n", 1)
        return line

    def get(self, section):
        self.s.sendall(b"INFO %s\r\n" % section.encode())
        n = int(self._line()[1:])
        while len(self.buf) < n + 2:
            chunk = self.s.recv(65536)
            if not chunk:
                raise ConnectionError("server closed the connection")
            self.buf += chunk
        body, self.buf = self.buf[:n], self.buf[n + 2:]
        out = {}
        for line in body.decode().split("\r\n"):
            if ":" in line:
                k, v = line.split(":", 1)
                out[k] = v
        return out

    def close(self):
        self.s.close()


def lag_ms(prim, repl):
    """prim: (t, primary offset) samples; repl: (t, replica offset, primary
    offset just before). For each replica sample, ms since the primary's
    offset first passed the replica's (linear between the primary's
    samples); 0 when the replica had what the primary had."""
    ts = [t for t, _ in prim]
    offs = [o for _, o in prim]
    out = []
    for t, ro, po in repl:
        if ro >= po:
            out.append(0.0)
            continue
        i = bisect.bisect_left(offs, ro)
        if i == 0:
            reached = ts[0]
        elif i >= len(offs):
            out.append(0.0)
            continue
        else:
            o0, o1, t0, t1 = offs[i - 1], offs[i], ts[i - 1], ts[i]
            reached = t0 + (t1 - t0) * (ro - o0) / (o1 - o0) if o1 > o0 else t1
        out.append(max(0.0, t - reached) * 1000)
    return out


def pct(xs, q):
    if not xs:
        return 0
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(q * len(xs)))]


def certs(workdir):
    d = os.path.join(workdir, "tls")
    subprocess.run([os.path.join(ROOT, "scripts", "gen-certs.sh"), d], check=True, capture_output=True)
    return {"ca": os.path.join(d, "ca.crt"), "crt": os.path.join(d, "server.crt"), "key": os.path.join(d, "server.key")}


def node_argv(kind, port, wd, name, tls=None, tls_port=None):
    binary = REDIS if kind == "redis" else CACHET
    argv = [binary, "--port", str(port), "--bind", "127.0.0.1", "--protected-mode", "no", "--save", "",
            "--appendonly", "no", "--dir", wd, "--dbfilename", name + ".rdb", "--hz", "100",
            "--repl-diskless-sync-delay", "0", "--client-output-buffer-limit", "replica 0 0 0"]
    if tls:
        files = ["--tls-cert-file", tls["crt"], "--tls-key-file", tls["key"], "--tls-ca-cert-file", tls["ca"],
                 "--tls-replication", "yes", "--tls-auth-clients", "no"]
        if kind == "redis":
            argv += ["--tls-port", str(tls_port)] + files
        else:
            argv += ["--tls-mode", "preferred"] + files
    return argv


def start_node(kind, name, wd, tls=None, replica=False):
    port = free_port()
    tls_port = free_port() if (tls and kind == "redis") else None
    n = Node(name, node_argv(kind, port, wd, name, tls, tls_port), port, wd, replica=replica, tls=tls)
    # Where a replica connects: redis' tls-port, or cachet's one port.
    n.repl_port = tls_port if tls_port else port
    return n


def load(primary, path):
    with open(path, "rb") as f:
        subprocess.run([CLI, "-p", str(primary.port), "--pipe"], stdin=f, capture_output=True, check=True)


def rss_kb(pid):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def full_sync(kind, wd, path, keys, diskless, tls, write_load=False):
    """Seconds from REPLICAOF to link up with every key, and the primary's
    peak growth meanwhile: (secs, RSS bytes, used_memory bytes, peak
    mem_clients_slaves bytes, commands the primary ran meanwhile).
    write_load: redis-benchmark SET -P 16 into the primary from before the
    REPLICAOF until the replica is up."""
    p = start_node(kind, kind + "-p", wd, tls)
    r = bench = None
    conn = None
    try:
        load(p, path)
        p.cli("config", "set", "repl-diskless-sync", "yes" if diskless else "no")
        r = start_node(kind, kind + "-r", wd, tls, replica=True)
        if write_load:
            bench = subprocess.Popen([BENCH, "-p", str(p.port), "-c", "50", "-n", "1000000000", "-P", "16", "-t",
                                      "set", "-r", "100000", "-q"], stdout=subprocess.DEVNULL,
                                     stderr=subprocess.DEVNULL)
            time.sleep(0.5)  # the load running before the sync starts
        conn = Info(p.port)
        base_rss = rss_kb(p.proc.pid)
        base_used = int(conn.get("memory")["used_memory"])
        peak = {"rss": base_rss, "used": base_used, "slaves": 0}
        stop = threading.Event()

        def sample():
            while not stop.is_set():
                peak["rss"] = max(peak["rss"], rss_kb(p.proc.pid))
                m = conn.get("memory")
                peak["used"] = max(peak["used"], int(m["used_memory"]))
                peak["slaves"] = max(peak["slaves"], int(m.get("mem_clients_slaves", 0)))
                time.sleep(0.01)

        t = threading.Thread(target=sample)
        t.start()
        ops0 = int(p.info("stats")["total_commands_processed"])
        start = time.monotonic()
        r.cli("replicaof", "127.0.0.1", str(p.repl_port))
        deadline = start + 600
        while time.monotonic() < deadline:
            i = r.info("replication")
            if i.get("master_link_status") == "up" and int(r.cli("dbsize").strip() or 0) >= keys:
                break
            time.sleep(0.005)
        else:
            raise RuntimeError("%s replica never caught up" % kind)
        secs = time.monotonic() - start
        ops = int(p.info("stats")["total_commands_processed"]) - ops0
        stop.set()
        t.join()
        return secs, (peak["rss"] - base_rss) * 1024, peak["used"] - base_used, peak["slaves"], ops
    finally:
        if bench:
            bench.kill()
            bench.wait()
        if conn:
            conn.close()
        if r:
            r.stop()
        p.stop()


def writes(kind, wd, requests, tls):
    """(rps, primary CPU us/op, lag bytes median, lag bytes p99, catch-up s,
    lag ms mean, lag ms p99)."""
    p = start_node(kind, kind + "-wp", wd, tls)
    r = start_node(kind, kind + "-wr", wd, tls, replica=True)
    try:
        r.cli("replicaof", "127.0.0.1", str(p.repl_port))
        while r.info("replication").get("master_link_status") != "up":
            time.sleep(0.01)
        lags, prim, repl = [], [], []
        stop = threading.Event()
        pconn, rconn = Info(p.port), Info(r.port)

        def sample():
            while not stop.is_set():
                po = int(pconn.get("replication")["master_repl_offset"])
                prim.append((time.monotonic(), po))
                ro = int(rconn.get("replication").get("slave_repl_offset", "0"))
                repl.append((time.monotonic(), ro, po))
                lags.append(max(0, po - ro))
                time.sleep(0.005)

        t = threading.Thread(target=sample)
        t.start()
        cpu = p.cpu()
        out = subprocess.run([BENCH, "-p", str(p.port), "-c", "50", "-n", str(requests), "-P", "16", "-t", "set",
                              "-r", "100000", "--csv"], capture_output=True, text=True, check=True).stdout
        cpu = p.cpu() - cpu
        stop.set()
        t.join()
        rps = float(csv_last(out)["rps"])
        t0 = time.monotonic()
        target = int(p.info("replication")["master_repl_offset"])
        while int(r.info("replication").get("slave_repl_offset", "0")) < target:
            if time.monotonic() - t0 > 120:
                raise RuntimeError("%s replica never caught up after the load" % kind)
            time.sleep(0.002)
        catch = time.monotonic() - t0
        pconn.close()
        rconn.close()
        ms = lag_ms(prim, repl)
        return (rps, cpu / requests * 1e6, statistics.median(lags) if lags else 0, pct(lags, 0.99), catch,
                statistics.mean(ms) if ms else 0, pct(ms, 0.99))
    finally:
        r.stop()
        p.stop()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--keys", type=int, default=1_000_000)
    ap.add_argument("--requests", type=int, default=2_000_000)
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--no-tls", action="store_true")
    ap.add_argument("--only", choices=["sync", "memory", "writes"], action="append",
                    help="run only these parts (repeatable); all by default")
    a = ap.parse_args()
    if a.quick:
        a.rounds, a.keys, a.requests = 1, 50_000, 200_000
    pin_client()
    rep = Report("repl", "Replication: cachet -> cachet against redis -> redis")
    wd = tempfile.mkdtemp(prefix="cachet-bench-repl-")
    try:
        path = os.path.join(wd, "data.resp")
        write_commands(path, dataset(a.keys))
        tls = None if a.no_tls else certs(wd)
        rep.add("%d keys (mixed types) for the full syncs; SET -P 16 -c 50, %d requests, keys out of 100,000 for "
                "the write rows; medians of %d rounds, the pairs alternating." % (a.keys, a.requests, a.rounds))
        rep.add("Primary on CPU 1; replica and clients on CPU 0.")
        rep.add("")
        parts = set(a.only or ["sync", "memory", "writes"])
        rep.add("| full sync | redis s | cachet s | ratio | redis primary RSS growth | cachet primary RSS growth |")
        rep.add("|---|---|---|---|---|---|")
        variants = [("disk", False, None), ("diskless", True, None)]
        if tls:
            variants += [("disk, TLS", False, tls), ("diskless, TLS", True, tls)]
        for label, diskless, t in (variants if "sync" in parts else []):
            res = {"redis": [], "cachet": []}
            for i in range(a.rounds):
                for kind in (["redis", "cachet"] if i % 2 == 0 else ["cachet", "redis"]):
                    res[kind].append(full_sync(kind, wd, path, a.keys, diskless, t))
            rs = statistics.median(x[0] for x in res["redis"])
            cs = statistics.median(x[0] for x in res["cachet"])
            rm = statistics.median(x[1] for x in res["redis"]) / 2**20
            cm = statistics.median(x[1] for x in res["cachet"]) / 2**20
            rep.add("| %s | %.2f | %.2f | **%s** | %.1f MiB | %.1f MiB |" % (label, rs, cs, ratio(cs, rs), rm, cm))
        rep.add("")
        rep.add("| full sync under SET -P 16 (diskless) | redis s | cachet s | ratio | redis / cachet writes served "
                "meanwhile | ratio | redis / cachet peak mem_clients_slaves | ratio | per write served: ratio "
                "| redis / cachet used_memory growth | ratio | redis / cachet RSS growth | ratio |")
        rep.add("|---|---|---|---|---|---|---|---|---|---|---|---|---|")
        if "memory" in parts:
            res = {"redis": [], "cachet": []}
            for i in range(a.rounds):
                for kind in (["redis", "cachet"] if i % 2 == 0 else ["cachet", "redis"]):
                    res[kind].append(full_sync(kind, wd, path, a.keys, True, None, write_load=True))
            m = {k: [statistics.median(x[j] for x in v) for j in range(5)] for k, v in res.items()}
            per = {k: statistics.median(x[3] / max(1, x[4]) for x in v) for k, v in res.items()}
            r_, c_ = m["redis"], m["cachet"]
            mib = 2.0**20
            rep.add("| plaintext | %.2f | %.2f | **%s** | %.2fM / %.2fM | **%s** | %.1f / %.1f MiB | **%s** | **%s** "
                    "| %.1f / %.1f MiB | **%s** | %.1f / %.1f MiB | **%s** |"
                    % (r_[0], c_[0], ratio(c_[0], r_[0]), r_[4] / 1e6, c_[4] / 1e6, ratio(c_[4], r_[4]),
                       r_[3] / mib, c_[3] / mib, ratio(c_[3], r_[3]), ratio(per["cachet"], per["redis"]),
                       r_[2] / mib, c_[2] / mib, ratio(c_[2], r_[2]), r_[1] / mib, c_[1] / mib, ratio(c_[1], r_[1])))
        rep.add("")
        rep.add("| writes, one replica | redis rps | cachet rps | ratio | redis CPU µs/op | cachet CPU µs/op | CPU ratio "
                "| redis lag bytes median / p99 | cachet lag bytes median / p99 | redis lag ms mean / p99 "
                "| cachet lag ms mean / p99 | lag ms ratio (mean) | redis catch-up ms | cachet catch-up ms |")
        rep.add("|---|---|---|---|---|---|---|---|---|---|---|---|---|---|")
        for label, t in ([("plaintext", None)] + ([("TLS link", tls)] if tls else [])) if "writes" in parts else []:
            res = {"redis": [], "cachet": []}
            for i in range(a.rounds):
                for kind in (["redis", "cachet"] if i % 2 == 0 else ["cachet", "redis"]):
                    res[kind].append(writes(kind, wd, a.requests, t))
            m = {k: [statistics.median(x[j] for x in v) for j in range(7)] for k, v in res.items()}
            r_, c_ = m["redis"], m["cachet"]
            rep.add("| SET P=16, %s | %.0f | %.0f | **%s** | %.2f | %.2f | **%s** | %.0f / %.0f | %.0f / %.0f "
                    "| %.2f / %.2f | %.2f / %.2f | **%s** | %.0f | %.0f |"
                    % (label, r_[0], c_[0], ratio(c_[0], r_[0]), r_[1], c_[1], ratio(c_[1], r_[1]), r_[2], r_[3],
                       c_[2], c_[3], r_[5], r_[6], c_[5], c_[6], ratio(c_[5], r_[5]), r_[4] * 1000, c_[4] * 1000))
        rep.save()
    finally:
        shutil.rmtree(wd, ignore_errors=True)


if __name__ == "__main__":
    main()
