#!/usr/bin/python3
"""Snapshot speed, side by side with Debian's redis-server in one run: the
same 1,000,000 keys of mixed types (strings, hashes, lists, sets, sorted
sets) go into both with redis-cli --pipe; then, alternating the servers
every round, each times

  SAVE     a foreground save (the reply comes when the file is on disk),
  BGSAVE   from the command to rdb_bgsave_in_progress:0 (polled every 5 ms;
           both servers run at hz 100, because each notices its child's exit
           in its cron and at the default hz 10 the times come in 100 ms steps),
  load     the "DB loaded from disk: X seconds" line of a restart on the file,
  redis loads cachet's file   the same line when redis-server starts on the
           file Cachet saved (migrating a dataset from Cachet to Redis),

plain for both, and encrypted (snapshot-encryption yes) for Cachet. Ratios
are Cachet's time over Redis' (target: <= 1.0 plain) and the encryption
overhead over Cachet plain (target: < 15%). Medians of --rounds. The fork's
copy-on-write size (rdb_last_cow_size) is reported for a BGSAVE during which
a client keeps overwriting keys.

Servers are pinned to CPU 1 and the clients (redis-cli) to CPU 0, as in
run.py; each operation also reports the server's CPU seconds (utime+stime
from /proc/PID/stat: SAVE's own, BGSAVE's fork child once reaped, and a
restart's CPU up to its first reply, which is mostly the load).

Usage: bench/snapshot.py [--rounds N] [--keys N] [--quick]
"""
import argparse
import os
import shutil
import re
import statistics
import subprocess
import sys
import tempfile
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from run import CACHET, CLI, REDIS, Report, Srv, free_port, pin_client, ratio, write_commands  # noqa: E402

KEYRING = "# bench keyring\nkey bench-key %s\ndefault bench-key\n" % ("ab" * 32)


def dataset(n):
    """n keys: 70% 16-byte strings, 10% hashes, 10% lists, 5% sets (half of
    them integers), 5% sorted sets; five elements per collection."""
    for i in range(n):
        k = i % 20
        if k < 14:
            yield (b"SET", b"s:%09d" % i, b"value-%010d" % i)
        elif k < 16:
            yield (b"HSET", b"h:%09d" % i, b"name", b"n%d" % i, b"age", b"%d" % (i % 90), b"plan", b"free",
                   b"visits", b"%d" % i, b"token", b"%016x" % i)
        elif k < 18:
            yield (b"RPUSH", b"l:%09d" % i, b"a%d" % i, b"b", b"c", b"%d" % i, b"e")
        elif k == 18:
            if i % 40 < 20:
                yield (b"SADD", b"si:%09d" % i, b"1", b"2", b"%d" % i, b"4", b"5")
            else:
                yield (b"SADD", b"ss:%09d" % i, b"x%d" % i, b"y", b"z", b"w", b"v")
        else:
            yield (b"ZADD", b"z:%09d" % i, b"1", b"m1", b"2.5", b"m%d" % i, b"3", b"a", b"4", b"b", b"5", b"c")


def start(name, binary, wd, extra=()):
    port = free_port()
    argv = [binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--dir", wd,
            "--dbfilename", name + ".rdb", "--hz", "100"] + list(extra)
    return Srv(name, argv, port, wd)


def timed_save(s):
    """(seconds, server CPU seconds) of a SAVE."""
    c, t = s.cpu(), time.monotonic()
    s.cli("save")
    return time.monotonic() - t, s.cpu() - c


def timed_bgsave(s):
    """(seconds, CPU seconds of the server and of its reaped fork child) of a
    BGSAVE."""
    before = int(s.info("persistence")["rdb_saves"]) if "rdb_saves" in s.info("persistence") else None
    c, t = s.cpu(children=True), time.monotonic()
    s.cli("bgsave")
    while True:
        p = s.info("persistence")
        if p["rdb_bgsave_in_progress"] == "0" and (before is None or int(p["rdb_saves"]) > before):
            return time.monotonic() - t, s.cpu(children=True) - c
        time.sleep(0.005)


def load_seconds(s, name, binary, wd, extra):
    """Restarts on the saved file; returns the new server, its own load
    time and its CPU seconds up to its first reply."""
    s.stop()
    s2 = start(name, binary, wd, extra)
    cpu = s2.cpu()
    with open(os.path.join(wd, name + ".log")) as f:
        m = re.search(r"DB loaded from disk: ([0-9.]+) seconds", f.read())
    return s2, (float(m.group(1)) if m else float("nan"), cpu)


def cow_size(s):
    """BGSAVE while a client overwrites 100k string keys."""
    stop = threading.Event()

    def writer():
        path = os.path.join(tempfile.gettempdir(), "cow-%d.resp" % os.getpid())
        write_commands(path, ((b"SET", b"s:%09d" % i, b"changed-%08d" % i) for i in range(0, 2_000_000, 20)))
        while not stop.is_set():
            with open(path, "rb") as f:
                subprocess.run([CLI, "-p", str(s.port), "--pipe"], stdin=f, capture_output=True)
        os.unlink(path)

    t = threading.Thread(target=writer)
    t.start()
    time.sleep(0.3)
    timed_bgsave(s)
    stop.set()
    t.join()
    return int(s.info("persistence")["rdb_last_cow_size"])


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--rounds", type=int, default=None, help="default 3 (1 with --quick)")
    ap.add_argument("--keys", type=int, default=None, help="default 1000000 (20000 with --quick)")
    ap.add_argument("--quick", action="store_true", help="1 round, few keys: a smoke test")
    a = ap.parse_args()
    a.rounds = a.rounds or (1 if a.quick else 3)
    a.keys = a.keys or (20_000 if a.quick else 1_000_000)
    pin_client()
    with tempfile.TemporaryDirectory() as wd:
        with open(os.path.join(wd, "keyring"), "w") as f:
            f.write(KEYRING)
        os.chmod(os.path.join(wd, "keyring"), 0o600)
        enc = ["--keyring-file", os.path.join(wd, "keyring"), "--snapshot-encryption", "yes"]
        path = os.path.join(wd, "load.resp")
        write_commands(path, dataset(a.keys))
        kinds = [("redis", REDIS, []), ("cachet", CACHET, []), ("cachet-enc", CACHET, enc)]
        srvs = {}
        for name, binary, extra in kinds:
            srvs[name] = start(name, binary, wd, extra)
            with open(path, "rb") as f:
                subprocess.run([CLI, "-p", str(srvs[name].port), "--pipe"], stdin=f, capture_output=True, check=True)
            n = int(srvs[name].cli("dbsize"))
            assert n == a.keys, (name, n)
        os.unlink(path)
        res = {k: {"save": [], "bgsave": [], "load": []} for k, _, _ in kinds}
        try:
            for rnd in range(a.rounds):
                order = kinds if rnd % 2 == 0 else list(reversed(kinds))
                for name, binary, extra in order:
                    s = srvs[name]
                    res[name]["save"].append(timed_save(s))
                    res[name]["bgsave"].append(timed_bgsave(s))
                    srvs[name], got = load_seconds(s, name, binary, wd, extra)
                    res[name]["load"].append(got)
                    assert int(srvs[name].cli("dbsize")) == a.keys, name
                print("  round %d: %s" % (rnd + 1, {k: {m: round(v[-1][0], 3) for m, v in r.items()}
                                                    for k, r in res.items()}), file=sys.stderr)
            size = {k: os.path.getsize(os.path.join(wd, k + ".rdb")) for k, _, _ in kinds}
            # Redis starting on Cachet's file, as many times as the rounds.
            xload = []
            for _ in range(a.rounds):
                shutil.copyfile(os.path.join(wd, "cachet.rdb"), os.path.join(wd, "redis-x.rdb"))
                x = start("redis-x", REDIS, wd)
                try:
                    assert int(x.cli("dbsize")) == a.keys
                    with open(os.path.join(wd, "redis-x.log")) as f:
                        m = re.search(r"DB loaded from disk: ([0-9.]+) seconds", f.read())
                    xload.append(float(m.group(1)) if m else float("nan"))
                finally:
                    x.stop()
            cow = {k: cow_size(srvs[k]) for k in ("redis", "cachet")}
        finally:
            for s in srvs.values():
                s.stop()
    # Medians of the times and of the CPU seconds, each on its own.
    med = {k: {m: tuple(statistics.median(x[j] for x in v) for j in (0, 1)) for m, v in r.items()}
           for k, r in res.items()}
    rep = Report("snapshot", "Snapshots: %d keys of mixed types (medians of %d rounds)" % (a.keys, a.rounds))
    rep.add("| operation | redis s | cachet s | cachet/redis | cachet encrypted s | encryption cost "
            "| redis CPU s | cachet CPU s | CPU cachet/redis | cachet encrypted CPU s |")
    rep.add("|---|---|---|---|---|---|---|---|---|---|")
    for m, label in (("save", "SAVE"), ("bgsave", "BGSAVE (CPU: server and its fork child)"),
                     ("load", "load at start-up (CPU: the process, to its first reply)")):
        (r, rc), (c, cc), (e, ec) = med["redis"][m], med["cachet"][m], med["cachet-enc"][m]
        rep.add("| %s | %.3f | %.3f | %s | %.3f | %+.1f%% | %.2f | %.2f | %s | %.2f |" % (
            label, r, c, ratio(c, r), e, (e - c) / c * 100 if c else float("nan"), rc, cc, ratio(cc, rc), ec))
    xl = statistics.median(xload)
    rep.add("| redis-server loading Cachet's file | %.3f | | %.2f of redis loading its own | | | | | | |" %
            (xl, xl / med["redis"]["load"][0]))
    rep.add()
    rep.add("file size: redis %.1f MiB, cachet %.1f MiB, cachet encrypted %.1f MiB" %
            tuple(size[k] / 2**20 for k in ("redis", "cachet", "cachet-enc")))
    rep.add("fork copy-on-write during BGSAVE with a writer: redis %.1f MiB, cachet %.1f MiB" %
            (cow["redis"] / 2**20, cow["cachet"] / 2**20))
    rep.save()


if __name__ == "__main__":
    main()
