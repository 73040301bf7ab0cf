#!/usr/bin/python3
"""MIGRATE speed, side by side with Debian's redis-server in one run:
Cachet -> Cachet against Redis -> Redis, the pairs alternating round by
round.

The source holds --keys string keys (16-byte values); one client moves them
all with `MIGRATE host port "" 0 5000 KEYS k1..kB` in batches of --batch
(the way `redis-cli --cluster reshard --cluster-pipeline B` and
tools/cachet-cluster do), one batch at a time. Reported: keys moved per
second (higher is better) and the source's CPU seconds per 1,000 keys moved
(lower is better). Servers on the server CPU as bench/run.py pins them, the
client on the other; medians of --rounds.

Usage: bench/migrate.py [--rounds N] [--keys N] [--batch B]
"""
import argparse
import os
import statistics
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from run import CACHET, REDIS, Srv, free_port, pin_client, ratio  # noqa: E402

import redis  # noqa: E402


def one_round(binary, workdir, nkeys, batch):
    ports = [free_port(), free_port()]
    src = Srv("src", [binary, "--port", str(ports[0]), "--bind", "127.0.0.1", "--save", ""], ports[0], workdir)
    dst = Srv("dst", [binary, "--port", str(ports[1]), "--bind", "127.0.0.1", "--save", ""], ports[1], workdir)
    try:
        r = redis.Redis(port=ports[0])
        pipe = r.pipeline(transaction=False)
        for i in range(nkeys):
            pipe.set(f"key:{i}", "v" * 16)
            if i % 10000 == 9999:
                pipe.execute()
        pipe.execute()
        cpu0, t0 = src.cpu(), time.monotonic()
        for i in range(0, nkeys, batch):
            keys = [f"key:{j}" for j in range(i, min(i + batch, nkeys))]
            assert r.execute_command("MIGRATE", "127.0.0.1", ports[1], "", 0, 5000, "KEYS", *keys) == b"OK"
        took, cpu = time.monotonic() - t0, src.cpu() - cpu0
        assert r.dbsize() == 0 and redis.Redis(port=ports[1]).dbsize() == nkeys
        return nkeys / took, cpu / nkeys * 1e6  # ms per 1,000 keys
    finally:
        src.stop()
        dst.stop()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--keys", type=int, default=100000)
    ap.add_argument("--batch", type=int, default=100)
    a = ap.parse_args()
    pin_client()
    res = {"cachet": [], "redis": []}
    with tempfile.TemporaryDirectory() as d:
        for _ in range(a.rounds):
            for name, binary in (("cachet", CACHET), ("redis", REDIS)):
                res[name].append(one_round(binary, d, a.keys, a.batch))
    med = {n: (statistics.median(x[0] for x in v), statistics.median(x[1] for x in v)) for n, v in res.items()}
    print(f"MIGRATE {a.keys} keys, batches of {a.batch}, medians of {a.rounds} rounds")
    print(f"{'':8} {'keys/s':>10} {'src CPU ms/1k keys':>20}")
    for n in ("cachet", "redis"):
        print(f"{n:8} {med[n][0]:10.0f} {med[n][1]:20.1f}")
    print(f"ratio cachet/redis: keys/s {ratio(med['cachet'][0], med['redis'][0])}, "
          f"CPU {ratio(med['cachet'][1], med['redis'][1])}")


if __name__ == "__main__":
    main()
