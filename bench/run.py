#!/usr/bin/python3
"""Side-by-side benchmark: Debian's redis-server against cachet-server.

Both servers run on this machine with matching settings (no persistence,
same bind); redis-benchmark drives them in turn, row by row, and each row is
repeated ROUNDS times, alternating the servers, so drifting machine load hits
both alike. The table quotes medians and the ratio cachet/redis
(requests/s: higher is better; latency: lower is better).

Collection types: redis-benchmark's LPUSH, LPOP, SADD, HSET, ZADD and
LRANGE_100 tests, pipeline 1 and 16.

Memory: 1,000,000 keys with 16-byte values; 1,000,000 hashes of 5 small
fields; one sorted set of 1,000,000 members. Each is loaded into a fresh pair
of servers with `redis-cli --pipe`, then used_memory and RSS are read from
INFO.

Usage: bench/run.py [--rounds N] [--requests N] [--quick] [--no-memory]
                    [--only-memory] [--memory TEXT] [--no-types]
Results are printed as a Markdown table and written to bench/results/.
"""
import argparse
import csv
import io
import os
import platform
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
CACHET = os.environ.get("CACHET_SERVER", os.path.join(ROOT, "build", "cachet-server"))
REDIS = shutil.which("redis-server") or "/usr/bin/redis-server"
BENCH = shutil.which("redis-benchmark") or "/usr/bin/redis-benchmark"
CLI = shutil.which("redis-cli") or "/usr/bin/redis-cli"


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_ping(port, proc, timeout=10):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError("server exited early")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1) as s:
                s.sendall(b"PING\r\n")
                if s.recv(16).startswith(b"+PONG"):
                    return
        except OSError:
            pass
        time.sleep(0.05)
    raise RuntimeError("server did not answer PING on %d" % port)


class Srv:
    def __init__(self, name, argv, port, workdir):
        self.name, self.port = name, port
        self.log = open(os.path.join(workdir, name + ".log"), "w")
        self.proc = subprocess.Popen(argv, stdout=self.log, stderr=subprocess.STDOUT, cwd=workdir)
        wait_ping(port, self.proc)

    def cli(self, *args):
        return subprocess.run([CLI, "-p", str(self.port)] + list(args), capture_output=True, text=True,
                              check=True).stdout

    def info(self, section):
        out = {}
        for line in self.cli("info", section).splitlines():
            if ":" in line:
                k, v = line.split(":", 1)
                out[k] = v.strip()
        return out

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.log.close()


def start_pair(workdir):
    rp, cp = free_port(), free_port()
    common = ["--bind", "127.0.0.1", "--protected-mode", "no", "--save", "", "--appendonly", "no"]
    redis = Srv("redis", [REDIS, "--port", str(rp)] + common + ["--dir", workdir], rp, workdir)
    try:
        cachet = Srv("cachet", [CACHET, "--port", str(cp)] + common + ["--dir", workdir], cp, workdir)
    except Exception:
        redis.stop()
        raise
    return redis, cachet


def run_benchmark(port, test, pipeline, size, requests, clients):
    # LPOP pops what an LPUSH run just pushed (alone it would time pops of
    # an empty list); LRANGE_100 fills its list itself. The row measured is
    # the last one redis-benchmark prints.
    tests = "lpush,lpop" if test == "lpop" else test
    argv = [BENCH, "-p", str(port), "-c", str(clients), "-n", str(requests), "-P", str(pipeline),
            "-d", str(size), "-r", "100000", "-t", tests, "--csv"]
    out = subprocess.run(argv, capture_output=True, text=True, check=True).stdout
    rows = [r for r in csv.reader(io.StringIO(out)) if r]
    hdr, data = rows[0], rows[-1]
    rec = dict(zip(hdr, data))
    return float(rec["rps"]), float(rec["p50_latency_ms"]), float(rec["p99_latency_ms"])


def bench_rows(redis, cachet, rounds, requests, clients, rows):
    results = []
    for test, pipeline, size in rows:
        per = {"redis": [], "cachet": []}
        n = requests * (4 if pipeline > 1 else 1)
        for i in range(rounds):
            order = [("redis", redis), ("cachet", cachet)]
            if i % 2:
                order.reverse()
            for name, s in order:
                per[name].append(run_benchmark(s.port, test, pipeline, size, n, clients))
        med = {k: tuple(statistics.median(x[j] for x in v) for j in range(3)) for k, v in per.items()}
        results.append((test.upper(), pipeline, size, med["redis"], med["cachet"]))
        print("  %-6s P=%-2d %5dB  redis %10.0f rps  cachet %10.0f rps  ratio %.2f" %
              (test.upper(), pipeline, size, med["redis"][0], med["cachet"][0], med["cachet"][0] / med["redis"][0]),
              file=sys.stderr)
    return results


def write_commands(path, commands):
    """Writes RESP-encoded commands (iterables of bytes) to path."""
    with open(path, "wb") as f:
        buf = []
        for args in commands:
            out = [b"*%d\r\n" % len(args)]
            for a in args:
                out.append(b"$%d\r\n%s\r\n" % (len(a), a))
            buf.append(b"".join(out))
            if len(buf) >= 10000:
                f.write(b"".join(buf))
                buf = []
        f.write(b"".join(buf))


def strings_load(n=1_000_000, vsize=16):
    value = b"v" * vsize
    return (("SET", b"key:%012d" % i, value) for i in range(n))


def hashes_load(n=1_000_000):
    # Five small fields each: a session-like record.
    return (("HSET", b"user:%09d" % i, b"name", b"user%d" % i, b"age", b"%d" % (20 + i % 50), b"plan", b"free",
             b"visits", b"%d" % (i % 1000), b"token", b"%016x" % i) for i in range(n))


def zset_load(n=1_000_000, batch=100):
    for start in range(0, n, batch):
        args = [b"ZADD", b"leaderboard"]
        for i in range(start, min(n, start + batch)):
            args += [b"%d" % ((i * 7919) % 1000003), b"player:%09d" % i]
        yield args


MEMORY_SCENARIOS = [
    ("1M keys x 16 B strings", strings_load, "keys"),
    ("1M hashes x 5 fields", hashes_load, "keys"),
    ("1 sorted set x 1M members", zset_load, "members"),
]


def memory_rows(workdir, which):
    """Each scenario loads into a fresh pair of servers (so one scenario's
    freed pages do not count against the next), with redis-cli --pipe."""
    out = []
    for label, gen, unit in MEMORY_SCENARIOS:
        if which and not any(w in label for w in which):
            continue
        path = os.path.join(workdir, "load.resp")
        write_commands(path, ([a if isinstance(a, bytes) else a.encode() for a in cmd] for cmd in gen()))
        redis, cachet = start_pair(workdir)
        try:
            res = []
            for s in (redis, cachet):
                with open(path, "rb") as f:
                    subprocess.run([CLI, "-p", str(s.port), "--pipe"], stdin=f, capture_output=True, check=True)
                if unit == "keys":
                    count = int(s.cli("dbsize").strip())
                else:
                    count = int(s.cli("zcard", "leaderboard").strip())
                # RSS settles once the allocator has returned what it does not need.
                time.sleep(1)
                m = s.info("memory")
                res.append((s.name, count, int(m["used_memory"]), int(m.get("used_memory_rss", 0))))
            out.append((label, unit, res))
        finally:
            redis.stop()
            cachet.stop()
            os.unlink(path)
        print("  memory %s: redis RSS %.1f MiB, cachet RSS %.1f MiB" % (label, res[0][3] / 2**20, res[1][3] / 2**20),
              file=sys.stderr)
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--requests", type=int, default=200000)
    ap.add_argument("--clients", type=int, default=50)
    ap.add_argument("--quick", action="store_true", help="1 round, fewer requests")
    ap.add_argument("--no-memory", action="store_true")
    ap.add_argument("--only-memory", action="store_true")
    ap.add_argument("--memory", action="append", default=[], help="only memory scenarios containing this text")
    ap.add_argument("--no-types", action="store_true", help="skip the collection-type rows")
    args = ap.parse_args()
    if args.quick:
        args.rounds, args.requests = 1, 50000
    rows = [(t, p, d) for d in (3, 1024) for p in (1, 16) for t in ("set", "get")]
    if not args.no_types:
        # redis-benchmark's own tests of the collection types (lrange_100
        # fills its list first itself).
        rows += [(t, p, 3) for p in (1, 16) for t in ("lpush", "lpop", "sadd", "hset", "zadd", "lrange_100")]
    if args.only_memory:
        rows = []
    workdir = tempfile.mkdtemp(prefix="cachet-bench-")
    try:
        res = []
        if rows:
            redis, cachet = start_pair(workdir)
            try:
                print("benchmarking (%d rounds, medians)..." % args.rounds, file=sys.stderr)
                res = bench_rows(redis, cachet, args.rounds, args.requests, args.clients, rows)
            finally:
                redis.stop()
                cachet.stop()
        mem = None if args.no_memory else memory_rows(workdir, args.memory)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)

    lines = []
    lines.append("Machine: %d cores, %s, %s; %s; redis-benchmark -c %d, %d rounds, medians." % (
        os.cpu_count(), platform.machine(), time.strftime("%Y-%m-%d"),
        subprocess.run([REDIS, "--version"], capture_output=True, text=True).stdout.split(" sha")[0],
        args.clients, args.rounds))
    lines.append("")
    lines.append("| test | pipeline | value | redis rps | cachet rps | ratio | redis p50/p99 ms | cachet p50/p99 ms |")
    lines.append("|---|---|---|---|---|---|---|---|")
    for test, p, d, rm, cm in res:
        lines.append("| %s | %d | %d B | %.0f | %.0f | **%.2f** | %.3f / %.3f | %.3f / %.3f |" % (
            test, p, d, rm[0], cm[0], cm[0] / rm[0], rm[1], rm[2], cm[1], cm[2]))
    if mem:
        lines.append("")
        lines.append("| memory | count | redis used_memory | cachet used_memory | ratio | redis RSS | cachet RSS | ratio |")
        lines.append("|---|---|---|---|---|---|---|---|")
        for label, unit, (r, c) in mem:
            lines.append("| %s | %d / %d %s | %.1f MiB | %.1f MiB | **%.2f** | %.1f MiB | %.1f MiB | **%.2f** |" % (
                label, r[1], c[1], unit, r[2] / 2**20, c[2] / 2**20, c[2] / r[2], r[3] / 2**20, c[3] / 2**20,
                c[3] / r[3]))
    text = "\n".join(lines)
    print(text)
    os.makedirs(os.path.join(ROOT, "bench", "results"), exist_ok=True)
    with open(os.path.join(ROOT, "bench", "results", time.strftime("%Y%m%d-%H%M%S") + ".md"), "w") as f:
        f.write(text + "\n")


if __name__ == "__main__":
    main()
