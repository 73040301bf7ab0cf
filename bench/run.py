#!/usr/bin/python3
"""Side-by-side benchmark: Debian's redis-server against cachet-server.

Both servers run on this machine with matching settings (no persistence,
same bind); redis-benchmark drives them in turn, row by row, and each row is
repeated ROUNDS times, alternating the servers, so drifting machine load hits
both alike. The table quotes medians and the ratio cachet/redis
(requests/s: higher is better; latency and CPU per operation: lower is
better).

Pinning: with two CPUs or more, every server runs on one CPU (the second
usable one, CPU 1) and redis-benchmark, with this script, on another (CPU 0).
Unpinned, the client and the server share the cores and requests/s mostly
measures the scheduler; pinned, it measures the server. With one CPU,
pinning is impossible: the header says so and everything runs unpinned.

CPU per operation: the server's utime+stime (/proc/PID/stat, all threads)
read before and after each redis-benchmark run, divided by the run's request
count. What a row needs first (LPOP's list, LRANGE's 100 elements) is loaded
by an untimed redis-benchmark run before the timed one, so only the row's
own command is counted.

Collection types: redis-benchmark's LPUSH, LPOP, SADD, HSET, ZADD and
LRANGE_100 tests, pipeline 1 and 16.

--busy-poll [USEC] adds a third server, cachet with busy-poll-usec USEC
(default 50), reported beside the default configuration (busy polling off).

Memory: 1,000,000 keys with 16-byte values; 1,000,000 hashes of 5 small
fields; one sorted set of 1,000,000 members. Each is loaded into a fresh pair
of servers with `redis-cli --pipe`, then used_memory and RSS are read from
INFO (100,000 of each with --quick).

Usage: bench/run.py [--rounds N] [--requests N] [--quick] [--no-memory]
                    [--only-memory] [--memory TEXT] [--no-types] [--busy-poll [USEC]]
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
TICK = os.sysconf("SC_CLK_TCK")


def pick_cpus():
    """(client CPU, server CPU): the first two this process may use (0 and 1
    on an ordinary 2-core machine); None with fewer than two."""
    cpus = sorted(os.sched_getaffinity(0))
    return (cpus[0], cpus[1]) if len(cpus) >= 2 else None


PIN = pick_cpus()


def pin_client():
    """Moves this script, and so every client it starts (redis-benchmark,
    redis-cli, openssl), to the client CPU. Servers are pinned at exec (Srv),
    so the threads they start inherit their CPU."""
    if PIN:
        os.sched_setaffinity(0, {PIN[0]})


def _pin_server():
    os.sched_setaffinity(0, {PIN[1]})


def pinning_text():
    if PIN:
        return ("Pinned: servers on CPU %d, redis-benchmark and other clients on CPU %d (one at a time, "
                "alternating)." % (PIN[1], PIN[0]))
    return ("NOT pinned: only %d CPU usable, so the server and the client cannot have a core each; they share it "
            "and the figures mostly measure the scheduler." % len(os.sched_getaffinity(0)))


def cpu_seconds(pid, children=False):
    """utime+stime of every thread of pid (and, with children, of its
    reaped children: a BGSAVE's fork), in seconds; 1/TICK s resolution."""
    with open("/proc/%d/stat" % pid) as f:
        # The command name, field 2, is in parentheses and may hold spaces.
        fields = f.read().rsplit(")", 1)[1].split()
    ticks = int(fields[11]) + int(fields[12])  # utime, stime: fields 14, 15
    if children:
        ticks += int(fields[13]) + int(fields[14])  # cutime, cstime
    return ticks / TICK


def machine_lines(what):
    """Header of every results table: what ran, where, and how it was pinned."""
    model = "?"
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    model = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    commit = subprocess.run(["git", "-C", ROOT, "describe", "--always", "--dirty"], capture_output=True,
                            text=True).stdout.strip() or "?"
    redis = subprocess.run([REDIS, "--version"], capture_output=True, text=True).stdout.split(" sha")[0]
    return ["### %s" % what, "",
            "%s UTC; nproc %d, %s, Linux %s (%s); %s; cachet %s." % (
                time.strftime("%Y-%m-%d %H:%M", time.gmtime()), os.cpu_count(), model, platform.release(),
                platform.machine(), redis, commit),
            pinning_text(), ""]


class Report:
    """Lines printed as they come and, at the end, written to
    bench/results/<date>-<name>.md."""

    def __init__(self, name, what):
        self.name, self.lines = name, []
        for line in machine_lines(what):
            self.add(line)

    def add(self, line=""):
        print(line, flush=True)
        self.lines.append(line)

    def save(self):
        d = os.path.join(ROOT, "bench", "results")
        os.makedirs(d, exist_ok=True)
        path = os.path.join(d, "%s-%s.md" % (time.strftime("%Y%m%d-%H%M%S"), self.name))
        with open(path, "w") as f:
            f.write("\n".join(self.lines) + "\n")
        print("(written to %s)" % os.path.relpath(path, ROOT), file=sys.stderr)


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
    """A server on the server CPU. ready(srv) waits until it answers (default:
    a plaintext PING); a server that never does is stopped before the error."""

    def __init__(self, name, argv, port, workdir, ready=None):
        self.name, self.port = name, port
        self.log = open(os.path.join(workdir, name + ".log"), "w")
        self.proc = subprocess.Popen(argv, stdout=self.log, stderr=subprocess.STDOUT, cwd=workdir,
                                     preexec_fn=_pin_server if PIN else None)
        try:
            if ready:
                ready(self)
            else:
                wait_ping(port, self.proc)
        except Exception:
            self.stop()
            raise

    def cpu(self, children=False):
        return cpu_seconds(self.proc.pid, children)

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


COMMON = ["--bind", "127.0.0.1", "--protected-mode", "no", "--save", "", "--appendonly", "no"]


def start_servers(workdir, busy_poll=None):
    """redis, cachet (default configuration) and, with busy_poll, cachet
    with busy-poll-usec busy_poll; all stopped if one fails to start."""
    kinds = [("redis", REDIS, []), ("cachet", CACHET, [])]
    if busy_poll is not None:
        kinds.append(("cachet-bp%d" % busy_poll, CACHET, ["--busy-poll-usec", str(busy_poll)]))
    out = []
    try:
        for name, binary, extra in kinds:
            port = free_port()
            out.append(Srv(name, [binary, "--port", str(port)] + COMMON + ["--dir", workdir] + extra, port,
                           workdir))
    except Exception:
        for s in out:
            s.stop()
        raise
    return out


def start_pair(workdir):
    return tuple(start_servers(workdir))


def bench_argv(port, clients, requests, pipeline, size, what, extra=()):
    """what: "-t test" options or a command of its own."""
    return ([BENCH, "-p", str(port), "-c", str(clients), "-n", str(requests), "-P", str(pipeline), "-d", str(size),
             "-r", "100000", "--csv"] + list(extra) + list(what))


def csv_last(out):
    """The last row of redis-benchmark --csv output (the row measured), as a dict."""
    rows = [r for r in csv.reader(io.StringIO(out)) if r]
    return dict(zip(rows[0], rows[-1]))


# What each row runs, untimed, before the timed run: LPOP pops what LPUSH
# pushed (alone it would time pops of an empty list). LRANGE_100 is sent as
# its own command (the same LRANGE mylist 0 99 redis-benchmark's test sends)
# because that test runs its LPUSHes itself, inside the timed run.
PREFILL = {"lpop": ["-t", "lpush"], "lrange_100": ["-t", "lpush"]}
TIMED = {"lrange_100": ["LRANGE", "mylist", "0", "99"]}


def run_benchmark(srv, test, pipeline, size, requests, clients, extra=()):
    """One timed redis-benchmark run against srv: (rps, p50 ms, p99 ms,
    server CPU seconds per request)."""
    if test in PREFILL:
        subprocess.run(bench_argv(srv.port, clients, requests, pipeline, size, PREFILL[test], extra),
                       capture_output=True, check=True)
    what = TIMED.get(test, ["-t", test])
    c0 = srv.cpu()
    out = subprocess.run(bench_argv(srv.port, clients, requests, pipeline, size, what, extra), capture_output=True,
                         text=True, check=True).stdout
    c1 = srv.cpu()
    rec = csv_last(out)
    return float(rec["rps"]), float(rec["p50_latency_ms"]), float(rec["p99_latency_ms"]), (c1 - c0) / requests


def rotation(items, i):
    """Round i's order: each server goes first in turn, so drift hits all alike."""
    k = i % len(items)
    return items[k:] + items[:k]


def ratio(a, b):
    return "%.2f" % (a / b) if b else "n/a"


def bench_rows(servers, rounds, requests, clients, rows):
    """For each row, the median over rounds of (rps, p50, p99, CPU s/op) per
    server name; and the least server CPU seconds any run used."""
    results, least = [], float("inf")
    for test, pipeline, size in rows:
        per = {s.name: [] for s in servers}
        n = requests * (4 if pipeline > 1 else 1)
        for i in range(rounds):
            for s in rotation(servers, i):
                per[s.name].append(run_benchmark(s, test, pipeline, size, n, clients))
                least = min(least, per[s.name][-1][3] * n)
        med = {k: tuple(statistics.median(x[j] for x in v) for j in range(4)) for k, v in per.items()}
        results.append((test.upper(), pipeline, size, med))
        r = med["redis"]
        print("  %-10s P=%-2d %5dB  redis %8.0f rps %6.2f us/op" % (test.upper(), pipeline, size, r[0], r[3] * 1e6) +
              "".join("  %s %8.0f rps %6.2f us/op (x%s)" % (s.name, med[s.name][0], med[s.name][3] * 1e6,
                                                             ratio(med[s.name][3], r[3]))
                      for s in servers[1:]), file=sys.stderr)
    return results, least


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
    ("%s keys x 16 B strings", strings_load, "keys"),
    ("%s hashes x 5 fields", hashes_load, "keys"),
    ("1 sorted set x %s members", zset_load, "members"),
]


def memory_rows(workdir, which, n=1_000_000):
    """Each scenario (n keys or members) loads into a fresh pair of servers
    (so one scenario's freed pages do not count against the next), with
    redis-cli --pipe."""
    out = []
    for label, gen, unit in MEMORY_SCENARIOS:
        label %= ("%dM" % (n // 1_000_000) if n % 1_000_000 == 0 else "%dk" % (n // 1000) if n % 1000 == 0
                  else "%d" % n)
        if which and not any(w in label for w in which):
            continue
        path = os.path.join(workdir, "load.resp")
        write_commands(path, ([a if isinstance(a, bytes) else a.encode() for a in cmd] for cmd in gen(n)))
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
    ap.add_argument("--rounds", type=int, default=None, help="default 3 (1 with --quick)")
    ap.add_argument("--requests", type=int, default=None, help="per run at pipeline 1, 4x at 16; default 200000 "
                    "(50000 with --quick)")
    ap.add_argument("--clients", type=int, default=50)
    ap.add_argument("--quick", action="store_true", help="1 round, fewer requests, 100k keys: a smoke test")
    ap.add_argument("--no-memory", action="store_true")
    ap.add_argument("--only-memory", action="store_true")
    ap.add_argument("--memory", action="append", default=[], help="only memory scenarios containing this text")
    ap.add_argument("--no-types", action="store_true", help="skip the collection-type rows")
    ap.add_argument("--busy-poll", type=int, nargs="?", const=50, default=None, metavar="USEC",
                    help="also run cachet with busy-poll-usec USEC (default 50) as a third column")
    args = ap.parse_args()
    if args.rounds is None:
        args.rounds = 1 if args.quick else 3
    if args.requests is None:
        args.requests = 50000 if args.quick else 200000
    pin_client()
    rows = [(t, p, d) for d in (3, 1024) for p in (1, 16) for t in ("set", "get")]
    if not args.no_types:
        rows += [(t, p, 3) for p in (1, 16) for t in ("lpush", "lpop", "sadd", "hset", "zadd", "lrange_100")]
    if args.only_memory:
        rows = []
    rep = Report("run", "redis-server against cachet-server")
    rep.add("redis-benchmark -c %d, -n %d at pipeline 1 and %d at 16; medians of %d rounds, servers alternating. "
            "CPU/op: server utime+stime from /proc/PID/stat around each run over its requests (%d ticks/s); "
            "ratios are cachet/redis." % (args.clients, args.requests, args.requests * 4, args.rounds, TICK))
    if args.busy_poll is not None:
        rep.add("cachet: default configuration (busy-poll-usec 0); cachet-bp%d: busy-poll-usec %d." %
                (args.busy_poll, args.busy_poll))
    rep.add()
    workdir = tempfile.mkdtemp(prefix="cachet-bench-")
    try:
        res, names, least = [], [], 0
        if rows:
            servers = start_servers(workdir, args.busy_poll)
            names = [s.name for s in servers]
            try:
                print("benchmarking (%d rounds, medians)..." % args.rounds, file=sys.stderr)
                res, least = bench_rows(servers, args.rounds, args.requests, args.clients, rows)
            finally:
                for s in servers:
                    s.stop()
        mem = None if args.no_memory else memory_rows(workdir, args.memory, 100_000 if args.quick else 1_000_000)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)

    if res:
        others = names[1:]
        hdr = ["test", "pipeline", "value", "redis rps"]
        for n in others:
            hdr += ["%s rps" % n, "ratio"]
        hdr.append("redis CPU µs/op")
        for n in others:
            hdr += ["%s CPU µs/op" % n, "CPU ratio"]
        hdr += ["%s p50/p99 ms" % n for n in names]
        rep.add("| " + " | ".join(hdr) + " |")
        rep.add("|" + "---|" * len(hdr))
        over = []
        for test, p, d, med in res:
            r = med["redis"]
            cells = [test, "%d" % p, "%d B" % d, "%.0f" % r[0]]
            for n in others:
                cells += ["%.0f" % med[n][0], "**%s**" % ratio(med[n][0], r[0])]
            cells.append("%.2f" % (r[3] * 1e6))
            for n in others:
                cells += ["%.2f" % (med[n][3] * 1e6), "**%s**" % ratio(med[n][3], r[3])]
            cells += ["%.3f / %.3f" % (med[n][1], med[n][2]) for n in names]
            rep.add("| " + " | ".join(cells) + " |")
            if med["cachet"][3] > r[3]:
                over.append("%s P=%d %d B" % (test, p, d))
        rep.add()
        # The target: busy polling, or anything else on by default, must not
        # cost more server CPU per request than redis-server spends.
        rep.add("cachet (default configuration) server CPU per operation at most redis-server's on every row: %s" %
                ("yes" if not over else "NO, above on " + ", ".join(over)))
        # /proc counts CPU in 1/TICK s: a run that used little of it gives a
        # CPU/op coarser than the differences the table is read for.
        if least * TICK < 100:
            rep.add("Caution: a run used only %.2f s of server CPU, and /proc counts it in 1/%d s, so CPU/op "
                    "figures are coarse (over 1%%); use more --requests." % (least, TICK))
    if mem:
        rep.add()
        rep.add("| memory | count | redis used_memory | cachet used_memory | ratio | redis RSS | cachet RSS | ratio |")
        rep.add("|---|---|---|---|---|---|---|---|")
        for label, unit, (r, c) in mem:
            rep.add("| %s | %d / %d %s | %.1f MiB | %.1f MiB | **%.2f** | %.1f MiB | %.1f MiB | **%.2f** |" % (
                label, r[1], c[1], unit, r[2] / 2**20, c[2] / 2**20, c[2] / r[2], r[3] / 2**20, c[3] / 2**20,
                c[3] / r[3]))
    rep.save()


if __name__ == "__main__":
    main()
