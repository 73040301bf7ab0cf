#!/usr/bin/python3
"""Scripting and streams, side by side: Debian's redis-server 7.0 against
cachet-server in one run, pinned as bench/run.py pins (its helpers: the
servers on the server CPU, this script and its clients on the other).

Rows (ROUNDS rounds, servers alternating, medians; ratios cachet/redis, the
median of each round's ratio):
  EVALSHA P1, P16   redis-benchmark sending EVALSHA of a small script
                    (`return redis.call('INCR', KEYS[1])`, 100,000 keys)
  XADD P16          redis-benchmark: XADD bench:stream * field <random>
  XREADGROUP+XACK   4 consumers of one group (4 connections, one client
                    thread), each looping XREADGROUP COUNT 100 then XACK of
                    the ids it got, over a stream filled beforehand
                    (untimed); an operation is one entry read and
                    acknowledged
Beside requests/s, the server's CPU per operation: utime+stime from
/proc/PID/stat around each run, over its operations.

Memory: one stream of 1,000,000 entries (3 fields each, `*` ids) loaded
with redis-cli --pipe into a fresh pair; used_memory and RSS from INFO.

Usage: bench/script.py [--rounds N] [--requests N] [--entries N] [--quick]
Results are printed as a Markdown table and written to bench/results/.
"""
import argparse
import os
import re
import selectors
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from expire_measure import command as resp  # noqa: E402
from run import (CLI, TICK, Report, bench_argv, csv_last, pin_client, rotation,  # noqa: E402
                 start_pair, write_commands)

SCRIPT = "return redis.call('INCR', KEYS[1])"
BATCH = 100  # entries per XREADGROUP in the consumer loop
CONSUMERS = 4  # consumer connections, served by one thread
ID_RE = re.compile(rb"\*2\r\n\$\d+\r\n(\d+-\d+)\r\n")


class Conn:
    """A bare RESP connection: send, then read until a complete reply of the
    two shapes this script needs (an integer/status or XREADGROUP's)."""

    def __init__(self, port):
        self.s = socket.create_connection(("127.0.0.1", port), timeout=30)
        self.s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def recv_until(self, done):
        buf = b""
        while not done(buf):
            d = self.s.recv(1 << 20)
            if not d:
                raise EOFError("server closed the connection")
            buf += d
        return buf

    def close(self):
        self.s.close()


def evalsha_run(srv, sha, pipeline, requests, clients):
    c0 = srv.cpu()
    out = subprocess.run(bench_argv(srv.port, clients, requests, pipeline, 3,
                                    ["EVALSHA", sha, "1", "key:__rand_int__"]),
                         capture_output=True, text=True, check=True).stdout
    c1 = srv.cpu()
    return float(csv_last(out)["rps"]), (c1 - c0) / requests


def xadd_run(srv, pipeline, requests, clients):
    c0 = srv.cpu()
    out = subprocess.run(bench_argv(srv.port, clients, requests, pipeline, 3,
                                    ["XADD", "bench:stream", "*", "field", "__rand_int__"]),
                         capture_output=True, text=True, check=True).stdout
    c1 = srv.cpu()
    return float(csv_last(out)["rps"]), (c1 - c0) / requests


HEADER_RE = re.compile(rb"^\*1\r\n\*2\r\n\$\d+\r\n[^\r]*\r\n\*(\d+)\r\n")


def read_complete(buf):
    """XREADGROUP's reply in buf: (ids) once complete, [] for a null reply
    (nothing left), None while more bytes are due."""
    if buf == b"*-1\r\n":
        return []
    m = HEADER_RE.match(buf)
    if not m or not buf.endswith(b"$4\r\n21.5\r\n"):
        return None
    ids = ID_RE.findall(buf)
    return ids if len(ids) == int(m.group(1)) else None


def consume_run(srv, entries, key):
    """Fills key with entries (untimed, pipelined), creates group g, then
    CONSUMERS connections (consumers c0..cN of g) each loop XREADGROUP COUNT
    BATCH > then XACK of the ids it got, until the stream is consumed; one
    thread serves them all (selectors), so the server always has a request
    while this client parses another's reply."""
    c = Conn(srv.port)
    conns = []
    try:
        chunk = 1000
        for start in range(0, entries, chunk):
            n = min(chunk, entries - start)
            c.s.sendall(b"".join(resp("XADD", key, "*", "sensor", "s%d" % (i % 64), "temp", "21.5")
                                 for i in range(start, start + n)))
            c.recv_until(lambda b, n=n: b.count(b"\r\n") >= 2 * n)  # $len and the id
        c.s.sendall(resp("XGROUP", "CREATE", key, "g", "0"))
        c.recv_until(lambda b: b.endswith(b"\r\n"))
        sel = selectors.DefaultSelector()
        for i in range(CONSUMERS):
            k = Conn(srv.port)
            conns.append(k)
            k.read = resp("XREADGROUP", "GROUP", "g", "c%d" % i, "COUNT", BATCH, "STREAMS", key, ">")
            k.buf, k.acking, k.ids = b"", False, []
            sel.register(k.s, selectors.EVENT_READ, k)
        done, live, t0, c0 = 0, len(conns), time.monotonic(), srv.cpu()
        for k in conns:
            k.s.sendall(k.read)
        while live:
            for ev, _ in sel.select(30):
                k = ev.data
                d = k.s.recv(1 << 20)
                if not d:
                    raise EOFError("server closed the connection")
                k.buf += d
                if k.acking:
                    if not k.buf.endswith(b"\r\n"):
                        continue
                    if k.buf != b":%d\r\n" % len(k.ids):
                        raise RuntimeError("XACK answered %r" % k.buf[:80])
                    done += len(k.ids)
                    k.buf, k.acking = b"", False
                    k.s.sendall(k.read)
                    continue
                ids = read_complete(k.buf)
                if ids is None:
                    continue
                k.buf = b""
                if not ids:
                    sel.unregister(k.s)
                    live -= 1
                    continue
                k.ids, k.acking = ids, True
                k.s.sendall(resp("XACK", key, "g", *ids))
        t1, c1 = time.monotonic(), srv.cpu()
        if done != entries:
            raise RuntimeError("consumed %d of %d entries" % (done, entries))
        return done / (t1 - t0), (c1 - c0) / done
    finally:
        c.close()
        for k in conns:
            k.close()


def stream_load(n):
    return ((b"XADD", b"events", b"*", b"sensor", b"s%d" % (i % 64), b"temp", b"%d.%d" % (15 + i % 20, i % 10),
             b"status", b"ok") for i in range(n))


def memory_row(workdir, n):
    path = os.path.join(workdir, "stream.resp")
    write_commands(path, stream_load(n))
    redis, cachet = start_pair(workdir)
    res = []
    try:
        for s in (redis, cachet):
            with open(path, "rb") as f:
                subprocess.run([CLI, "-p", str(s.port), "--pipe"], stdin=f, capture_output=True, check=True)
            count = int(s.cli("xlen", "events").strip())
            time.sleep(1)  # RSS settles once the allocator has returned what it does not need
            m = s.info("memory")
            res.append((s.name, count, int(m["used_memory"]), int(m.get("used_memory_rss", 0))))
    finally:
        redis.stop()
        cachet.stop()
        os.unlink(path)
    return res


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--rounds", type=int, help="default 3 (1 with --quick)")
    ap.add_argument("--requests", type=int, help="per run at pipeline 1, 4x at 16; default 200000 (20000 quick)")
    ap.add_argument("--entries", type=int, help="XREADGROUP+XACK entries per run; default 200000 (20000 quick)")
    ap.add_argument("--stream", type=int, help="the memory row's entries; default 1000000 (100000 quick)")
    ap.add_argument("--clients", type=int, default=50)
    ap.add_argument("--quick", action="store_true", help="1 round, few requests: a smoke test")
    a = ap.parse_args()
    defaults = {"rounds": (3, 1), "requests": (200000, 20000), "entries": (200000, 20000), "stream": (1000000, 100000)}
    for k, (full, quick) in defaults.items():
        if getattr(a, k) is None:
            setattr(a, k, quick if a.quick else full)
    pin_client()
    rep = Report("script", "Scripting and streams: redis-server against cachet-server")
    rep.add("redis-benchmark -c %d, -n %d at pipeline 1 and %d at 16; the consumers %d entries per run; "
            "medians of %d rounds, servers alternating. CPU/op: server utime+stime (%d ticks/s) over the run's "
            "operations; ratios are cachet/redis, the median of each round's ratio." % (
                a.clients, a.requests, a.requests * 4, a.entries, a.rounds, TICK))
    rep.add()
    workdir = tempfile.mkdtemp(prefix="cachet-bench-script-")
    rows = [("EVALSHA", 1), ("EVALSHA", 16), ("XADD", 16), ("XREADGROUP+XACK", BATCH)]
    try:
        servers = list(start_pair(workdir))
        try:
            sha = {}
            for s in servers:
                sha[s.name] = s.cli("script", "load", SCRIPT).strip()
            per = {(r, s.name): [] for r in rows for s in servers}
            for i in range(a.rounds):
                for row in rows:
                    for s in rotation(servers, i):
                        name, p = row
                        if name == "EVALSHA":
                            per[(row, s.name)].append(evalsha_run(s, sha[s.name], p, a.requests * (4 if p > 1 else 1),
                                                                  a.clients))
                        elif name == "XADD":
                            per[(row, s.name)].append(xadd_run(s, p, a.requests * 4, a.clients))
                        else:
                            per[(row, s.name)].append(consume_run(s, a.entries, "bench:consume:%d" % i))
                        r = per[(row, s.name)][-1]
                        print("  round %d %s P=%d %s: %.0f ops/s %.2f us/op" % (i + 1, name, p, s.name, r[0],
                                                                               r[1] * 1e6), file=sys.stderr)
        finally:
            for s in servers:
                s.stop()
        mem = memory_row(workdir, a.stream)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)

    rep.add("| row | pipeline | redis ops/s | cachet ops/s | ratio | redis CPU µs/op | cachet CPU µs/op | CPU ratio |")
    rep.add("|---|---|---|---|---|---|---|---|")
    for row in rows:
        rs, cs = per[(row, "redis")], per[(row, "cachet")]
        r = [statistics.median(x[j] for x in rs) for j in (0, 1)]
        c = [statistics.median(x[j] for x in cs) for j in (0, 1)]
        # The ratios are medians of each round's own ratio: the two servers of
        # a round ran back to back, so load that drifts between rounds cancels.
        paired = ["%.2f" % statistics.median(b[j] / a[j] for a, b in zip(rs, cs) if a[j]) for j in (0, 1)]
        rep.add("| %s | %s | %.0f | %.0f | **%s** | %.2f | %.2f | **%s** |" % (
            row[0], "batch %d" % row[1] if row[0].startswith("XREAD") else row[1], r[0], c[0], paired[0],
            r[1] * 1e6, c[1] * 1e6, paired[1]))
    rep.add()
    (rn, rc, ru, rr), (cn, cc, cu, cr) = mem
    rep.add("| memory | entries | redis used_memory | cachet used_memory | ratio | redis RSS | cachet RSS | ratio |")
    rep.add("|---|---|---|---|---|---|---|---|")
    rep.add("| 1 stream x %d entries x 3 fields | %d / %d | %.1f MiB | %.1f MiB | **%.2f** | %.1f MiB | %.1f MiB | "
            "**%.2f** |" % (a.stream, rc, cc, ru / 2**20, cu / 2**20, cu / ru, rr / 2**20, cr / 2**20, cr / rr))
    rep.save()


if __name__ == "__main__":
    main()
