#!/usr/bin/python3
"""How fast does active expiry reclaim a mass of keys, and does it stall the
server meanwhile?

Starts its own server ($CACHET_SERVER or build/cachet-server; --redis runs
Debian's redis-server instead, for comparison) on a free loopback port,
loads N keys (default 1,000,000) with `SET key value PX 1000` pipelined over
a raw socket (redis-py is too slow to load 1M keys inside a 1 s TTL), then
polls DBSIZE until it is below 5% of N while a second connection sends PING
in a loop and records the slowest round trip. Nothing reads the keys, so only
active expiry can remove them. The server is stopped by its PID at the end.

Usage: bench/expire_measure.py [--keys N] [--ttl-ms MS] [--redis]
"""
import argparse
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
CACHET = os.environ.get("CACHET_SERVER", os.path.join(ROOT, "build", "cachet-server"))
REDIS = shutil.which("redis-server") or "/usr/bin/redis-server"


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def command(*args):
    out = [b"*%d\r\n" % len(args)]
    for a in args:
        a = a if isinstance(a, bytes) else str(a).encode()
        out.append(b"$%d\r\n%s\r\n" % (len(a), a))
    return b"".join(out)


class Conn:
    def __init__(self, port):
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=30)
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.f = self.sock.makefile("rb")

    def call(self, *args):
        self.sock.sendall(command(*args))
        line = self.f.readline()
        if line[:1] == b":":
            return int(line[1:-2])
        if line[:1] == b"-":
            raise RuntimeError(line.decode().strip())
        return line[1:-2].decode()

    def close(self):
        self.f.close()
        self.sock.close()


def wait_ping(port, proc, timeout=10):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError("server exited early")
        try:
            c = Conn(port)
            ok = c.call("PING") == "PONG"
            c.close()
            if ok:
                return
        except OSError:
            pass
        time.sleep(0.05)
    raise RuntimeError("server did not answer PING")


def load(port, n, ttl_ms, batch=10000):
    """Pipelined SET ... PX; a reader thread drains replies so neither side
    blocks on a full socket buffer. Returns (seconds, errors)."""
    c = Conn(port)
    errors = []

    def reader():
        got = 0
        while got < n:
            line = c.f.readline()
            if not line:
                errors.append("connection closed")
                return
            if line[:1] != b"+":
                errors.append(line)
            got += 1

    t = threading.Thread(target=reader, daemon=True)
    start = time.monotonic()
    t.start()
    px = str(ttl_ms).encode()
    for base in range(0, n, batch):
        buf = b"".join(command(b"SET", b"key:%08d" % i, b"value-16-bytes!!", b"PX", px)
                       for i in range(base, min(n, base + batch)))
        c.sock.sendall(buf)
    t.join()
    c.close()
    return time.monotonic() - start, errors


class PingProbe(threading.Thread):
    def __init__(self, port):
        super().__init__(daemon=True)
        self.conn = Conn(port)
        self.max = 0.0
        self.count = 0
        self.error = None
        self.stop = threading.Event()

    def run(self):
        while not self.stop.is_set():
            t0 = time.monotonic()
            try:
                self.conn.call("PING")
            except OSError as e:
                self.error = e
                return
            self.max = max(self.max, time.monotonic() - t0)
            self.count += 1
            time.sleep(0.001)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--keys", type=int, default=1_000_000)
    ap.add_argument("--ttl-ms", type=int, default=1000)
    ap.add_argument("--redis", action="store_true", help="measure redis-server instead")
    ap.add_argument("--timeout", type=float, default=60)
    ap.add_argument("--trace", action="store_true", help="print DBSIZE every 100 ms after the load")
    args = ap.parse_args()

    port = free_port()
    workdir = tempfile.mkdtemp(prefix="expire-measure-")
    if args.redis:
        argv = [REDIS, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
                "--dir", workdir]
        name = "redis-server"
    else:
        argv = [CACHET, "--port", str(port), "--bind", "127.0.0.1", "--dir", workdir]
        name = "cachet-server"
    log = open(os.path.join(workdir, "server.log"), "w")
    proc = subprocess.Popen(argv, stdout=log, stderr=subprocess.STDOUT, cwd=workdir)
    try:
        wait_ping(port, proc)
        probe = PingProbe(port)
        probe.start()
        load_s, errors = load(port, args.keys, args.ttl_ms)
        if errors:
            print("load errors:", errors[:5], file=sys.stderr)
            return 1
        load_end = time.monotonic()
        load_max_ping = probe.max
        probe.max = 0.0
        mon = Conn(port)
        size_at_load_end = mon.call("DBSIZE")
        target = args.keys * 0.05
        done = None
        last_trace = 0.0
        while time.monotonic() - load_end < args.timeout:
            size = mon.call("DBSIZE")
            now = time.monotonic() - load_end
            if args.trace and now - last_trace >= 0.1:
                print(f"  t={now:5.2f} s  DBSIZE {size}")
                last_trace = now
            if size < target:
                done = now
                break
            time.sleep(0.02)
        probe.stop.set()
        probe.join(timeout=10)
        mon.close()
        print(f"server:                      {name}")
        print(f"keys loaded:                 {args.keys} with PX {args.ttl_ms} in {load_s:.2f} s "
              f"(DBSIZE {size_at_load_end} at load end)")
        if done is None:
            print(f"DBSIZE < 5%:                 NOT reached within {args.timeout:.0f} s")
        else:
            ttl = args.ttl_ms / 1000
            print(f"DBSIZE < 5% after load end:  {done:.2f} s "
                  f"({done - ttl:+.2f} s relative to the last key's deadline)")
        if probe.error:
            print(f"PING probe failed: {probe.error}")
        print(f"max PING latency:            {probe.max * 1000:.1f} ms while expiring "
              f"({probe.count} pings), {load_max_ping * 1000:.1f} ms during the load")
        return 0 if done is not None else 2
    finally:
        if proc.poll() is None:
            os.kill(proc.pid, signal.SIGTERM)
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.kill(proc.pid, signal.SIGKILL)
                proc.wait(timeout=10)
        log.close()
        shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
