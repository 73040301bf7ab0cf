"""Soak tests (issue 7): many connections at once, clients that vanish at
every awkward moment, and clients that never read.

- 10,000 concurrent connections on one tls-mode=preferred port, half TLS,
  each running a few checked commands while all are open; afterwards the
  client count, used_memory and RSS come back to their baselines.
- Clients that vanish mid-request, mid-reply, mid-TLS-handshake, mid-MULTI,
  blocked in BLPOP and subscribed, each over plaintext and TLS, closing with
  a FIN and with a reset: the server keeps answering, its client counters
  return to the baseline and nothing leaks (the ASan run checks at exit).
- Clients that never read, under client-output-buffer-limit normal and the
  default pubsub limits: they are disconnected, used_memory stays bounded
  while they push and other clients keep getting fast replies.

The figures measured are in docs/hardening.md ("Soak"). Each test prints a
SOAK line (pytest -s) with what it measured.
"""
import asyncio
import resource
import socket
import ssl
import struct
import threading
import time

import pytest

from conftest import SERVER_BIN, wait_until

pytestmark = pytest.mark.solo  # thousands of sockets and a stall bound: alone (conftest.py)
from tlsutil import client_context, client_hello_bytes, enc, info

MIB = 1 << 20


def _is_asan_build():
    """The ASan+UBSan binary embeds the sanitizer runtime (clang links it
    statically): its RSS says nothing about leaks (quarantine, shadow) and
    its TLS work is slower."""
    try:
        with open(SERVER_BIN, "rb") as f:
            return b"__asan_init" in f.read()
    except OSError:
        return False


ASAN = _is_asan_build()


def _raise_nofile(n):
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < n:
        if hard != resource.RLIM_INFINITY and hard < n:
            pytest.skip("RLIMIT_NOFILE hard limit %d < %d" % (hard, n))
        resource.setrlimit(resource.RLIMIT_NOFILE, (n, hard))


def tls_args(c, *extra):
    return ("--tls-mode", "preferred", "--tls-cert-file", c["server_crt"], "--tls-key-file", c["server_key"],
            "--tls-ca-cert-file", c["ca_crt"]) + tuple(extra)


def vm_rss(pid):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    raise AssertionError("no VmRSS for pid %d" % pid)


def ival(client, field, section="everything"):
    return int(info(client, section)[field])


def say(*parts):
    print("SOAK", *parts, flush=True)


# ---- 1. ten thousand connections, half of them TLS ---------------------------

N_CONN = 10000
MSG = b"*3\r\n$7\r\nmessage\r\n$9\r\nsoak:chan\r\n$6\r\n"


def _round1(i):
    k = b"soak:%d" % i
    v = b"v%d" % i
    req = (enc("SET", k + b":s", v) + enc("GET", k + b":s") + enc("INCR", k + b":n") + enc("INCR", k + b":n")
           + enc("LPUSH", k + b":l", "a", "b") + enc("HSET", k + b":h", "f", v) + enc("SADD", k + b":z", "m1", "m2", "m1")
           + enc("EXPIRE", k + b":s", 1000) + enc("PUBLISH", "soak:chan", b"%06d" % i))
    rep = (b"+OK\r\n" + b"$%d\r\n%s\r\n" % (len(v), v) + b":1\r\n:2\r\n:2\r\n:1\r\n:2\r\n:1\r\n:1\r\n")
    return req, rep


def _round2(i):
    k = b"soak:%d" % i
    v = b"v%d" % i
    req = (enc("HGET", k + b":h", "f") + enc("LRANGE", k + b":l", 0, -1) + enc("SCARD", k + b":z")
           + enc("GET", k + b":n") + enc("DEL", k + b":s", k + b":n", k + b":l", k + b":h", k + b":z"))
    rep = (b"$%d\r\n%s\r\n" % (len(v), v) + b"*2\r\n$1\r\nb\r\n$1\r\na\r\n" + b":2\r\n" + b"$1\r\n2\r\n" + b":5\r\n")
    return req, rep


async def _async_info(port, section):
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        writer.write(enc("INFO", section))
        head = await reader.readline()
        assert head.startswith(b"$"), head
        body = await reader.readexactly(int(head[1:]) + 2)
    finally:
        writer.close()
        await writer.wait_closed()
    out = {}
    for line in body.decode().splitlines():
        if ":" in line and not line.startswith("#"):
            k, v = line.split(":", 1)
            out[k] = v
    return out


async def _mass_connections(port, ca, n, base_clients):
    ctx = client_context(ca)
    sem = asyncio.Semaphore(200)  # connects + handshakes in flight (the listen backlog is 511)
    all_open = asyncio.Event()
    go = asyncio.Event()  # set once the peak was measured
    state = {"open": 0, "done": 0, "peak": None}

    # One subscriber sees every client's PUBLISH.
    sub_r, sub_w = await asyncio.open_connection("127.0.0.1", port)
    sub_w.write(enc("SUBSCRIBE", "soak:chan"))
    assert await sub_r.readexactly(len(b"*3\r\n$9\r\nsubscribe\r\n$9\r\nsoak:chan\r\n:1\r\n")) == \
        b"*3\r\n$9\r\nsubscribe\r\n$9\r\nsoak:chan\r\n:1\r\n"

    async def read_messages():
        seen = set()
        size = len(MSG) + 8
        for _ in range(n):
            frame = await sub_r.readexactly(size)
            assert frame[:len(MSG)] == MSG, frame
            seen.add(int(frame[len(MSG):len(MSG) + 6]))
        return seen

    sub_task = asyncio.ensure_future(read_messages())

    async def one(i):
        tls = i % 2 == 0
        async with sem:
            reader, writer = await asyncio.open_connection("127.0.0.1", port, ssl=ctx if tls else None,
                                                           server_hostname="localhost" if tls else None)
            req, rep = _round1(i)
            writer.write(req)
            got = await reader.readexactly(len(rep))
            assert got == rep, (i, got)
        state["open"] += 1
        if state["open"] == n:
            all_open.set()
        await go.wait()
        req, rep = _round2(i)
        writer.write(req)
        got = await reader.readexactly(len(rep))
        assert got == rep, (i, got)
        writer.close()
        try:
            await asyncio.wait_for(writer.wait_closed(), 30)
        except (ConnectionError, ssl.SSLError):
            pass
        state["done"] += 1

    async def watch_peak():
        await all_open.wait()
        state["peak"] = await _async_info(port, "everything")
        go.set()

    t0 = time.monotonic()
    tasks = [asyncio.ensure_future(one(i)) for i in range(n)]
    peak_task = asyncio.ensure_future(watch_peak())
    # The peak is read while every client waits for `go`, all connected,
    # so the count is exact.
    await asyncio.wait_for(all_open.wait(), 600)
    t_open = time.monotonic() - t0
    await asyncio.wait_for(peak_task, 60)
    await asyncio.wait_for(asyncio.gather(*tasks), 600)
    seen = await asyncio.wait_for(sub_task, 60)
    sub_w.close()
    await sub_w.wait_closed()
    return state, seen, t_open, time.monotonic() - t0


def test_ten_thousand_connections_half_tls(server_factory, tls_certs):
    _raise_nofile(N_CONN + 1000)
    s = server_factory(*tls_args(tls_certs, "--maxclients", str(N_CONN + 200)))
    r = s.client()
    assert ival(r, "maxclients", "clients") == N_CONN + 200  # the server raised its own fd limit
    base_clients = ival(r, "connected_clients", "clients")
    base_mem = ival(r, "used_memory", "memory")
    base_rss = vm_rss(s.pid)
    state, seen, t_open, t_all = asyncio.run(_mass_connections(s.port, tls_certs["ca_crt"], N_CONN, base_clients))
    peak = state["peak"]
    peak_clients = int(peak["connected_clients"])
    assert peak_clients == base_clients + N_CONN + 2  # + the subscriber and the INFO connection
    assert int(peak["tls_mode_connected_tls_clients"]) == N_CONN // 2
    assert int(peak["tls_handshakes_ok"]) == N_CONN // 2
    assert seen == set(range(N_CONN))
    peak_mem, peak_rss = int(peak["used_memory"]), vm_rss(s.pid)
    wait_until(lambda: ival(r, "connected_clients", "clients") == base_clients, timeout=60,
               what="all %d clients to be freed" % N_CONN)
    assert r.dbsize() == 0
    assert r.ping() is True
    # used_memory: everything the clients allocated is freed (measured: +7 KiB
    # of arrays that keep their grown capacity); the margin is 256 KiB.
    mem_margin = 256 * 1024
    wait_until(lambda: ival(r, "used_memory", "memory") <= base_mem + mem_margin, timeout=30,
               what="used_memory back within %d bytes of %d" % (mem_margin, base_mem))
    after_mem = ival(r, "used_memory", "memory")
    # RSS: jemalloc returns dirty pages on its decay curve (10 s; the server
    # ticks it from cron). Measured: 9.3 MiB before, ~160 MiB at the peak,
    # 16.9 MiB after (allocator metadata and OpenSSL state that stay): the
    # margin is 16 MiB. Not checked under ASan (quarantine keeps pages).
    rss_margin = 16 * MIB
    rss_ok = ASAN
    deadline = time.monotonic() + 30
    while not rss_ok and time.monotonic() < deadline:
        rss_ok = vm_rss(s.pid) <= base_rss + rss_margin
        if not rss_ok:
            time.sleep(0.2)
    after_rss = vm_rss(s.pid)
    say("10k: open in %.1fs, total %.1fs; clients base=%d peak=%d; used_memory base=%d peak=%d after=%d; "
        "rss base=%d peak=%d after=%d (MiB %.1f/%.1f/%.1f)%s" % (
            t_open, t_all, base_clients, peak_clients, base_mem, peak_mem, after_mem, base_rss, peak_rss,
            after_rss, base_rss / MIB, peak_rss / MIB, after_rss / MIB, " [asan]" if ASAN else ""))
    assert rss_ok, "RSS %.1f MiB, baseline %.1f MiB + margin %d MiB" % (after_rss / MIB, base_rss / MIB,
                                                                        rss_margin // MIB)
    assert s.alive()


# ---- 2. clients that vanish ------------------------------------------------

def connect(s, certs, transport, rcvbuf=None, timeout=5.0):
    """A plain or TLS (handshake done) socket to s, closed at teardown."""
    raw = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    if rcvbuf:
        raw.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
    raw.settimeout(timeout)
    raw.connect(("127.0.0.1", s.port))
    sock = raw
    if transport == "tls":
        sock = client_context(certs["ca_crt"]).wrap_socket(raw, server_hostname="localhost")
    s._clients.append(sock)
    return sock


def vanish(sock, how):
    """Close without a goodbye: a FIN, or a reset (SO_LINGER 0). A TLS
    socket closes without close_notify (Python sends one only on unwrap)."""
    if how == "rst":
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    sock.close()


def recv_exact(sock, n, timeout=10.0):
    sock.settimeout(timeout)
    data = b""
    while len(data) < n:
        chunk = sock.recv(n - len(data))
        if not chunk:
            raise EOFError("closed after %r" % data)
        data += chunk
    return data


def call(sock, payload, expected):
    sock.sendall(payload)
    got = recv_exact(sock, len(expected))
    assert got == expected
    return got


class Observer:
    """The one client that stays: its counters define the baseline."""

    def __init__(self, s):
        self.s = s
        self.r = s.client(decode_responses=True)
        self.id = self.r.client_id()

    def others(self):
        """CLIENT LIST entries of every other client, as dicts."""
        out = []
        for line in self.r.execute_command("CLIENT", "LIST").splitlines():
            f = dict(kv.split("=", 1) for kv in line.split(" ") if "=" in kv)
            if int(f["id"]) != self.id:
                out.append(f)
        return out

    def field(self, name, section="everything"):
        return ival(self.r, name, section)

    def settle(self, clients=1, blocked=0, timeout=15):
        def ok():
            i = info(self.r, "clients")
            timeouts_ok = blocked > 0 or int(i["clients_in_timeout_table"]) == 0
            return (int(i["connected_clients"]), int(i["blocked_clients"])) == (clients, blocked) and timeouts_ok
        wait_until(ok, timeout=timeout, what="clients back to %d (blocked %d)" % (clients, blocked))
        assert self.r.ping() is True
        assert self.s.alive()


@pytest.fixture(params=["plain", "tls"])
def transport(request):
    return request.param


@pytest.fixture
def obs(server_factory, tls_certs):
    s = server_factory(*tls_args(tls_certs))
    return Observer(s)


HOWS = ["fin", "rst"]


@pytest.mark.parametrize("how", HOWS)
def test_vanish_mid_request(obs, tls_certs, transport, how):
    s, r = obs.s, obs.r
    base_mem = obs.field("used_memory", "memory")
    partials = [
        b"*3\r\n$3\r\nSET\r\n$4\r\nmr:a\r\n$5\r\nva",                       # inside a bulk
        b"*3\r\n$3\r\nSET\r\n$4\r\nmr:b\r\n$8000000\r\n" + b"x" * MIB,      # 1 MiB of an 8 MB bulk
        b"*3\r\n$3\r\nSET\r\n$4\r\nmr:c",                                   # inside the header
        b"SET mr:d inline-without-newline",                                 # inline, unterminated
        enc("SET", "mr:e", "1") + b"*2\r\n$4\r\nINCR\r\n$4\r\nmr:",         # one whole, one partial
    ]
    for payload in partials:
        c = connect(s, tls_certs, transport)
        c.sendall(payload)
        # The server has read it all (query buffer) before the client goes.
        want = min(len(payload), MIB)
        wait_until(lambda: any(int(f["qbuf"]) >= want - 64 or f["cmd"] == "set" for f in obs.others()),
                   what="the partial request to be read")
        vanish(c, how)
        obs.settle()
    assert r.exists("mr:a", "mr:b", "mr:c", "mr:d") == 0
    assert r.get("mr:e") == "1"  # the whole command before the partial one ran, once
    wait_until(lambda: obs.field("used_memory", "memory") <= base_mem + 256 * 1024,
               what="the 8 MB bulk's buffer to be freed")


@pytest.mark.parametrize("how", HOWS)
def test_vanish_mid_reply(obs, tls_certs, transport, how):
    s, r = obs.s, obs.r
    r.set("big", "x" * (4 * MIB))
    base_mem = obs.field("used_memory", "memory")
    c = connect(s, tls_certs, transport, rcvbuf=4096)
    c.sendall(enc("GET", "big") * 5)  # 20 MiB of replies, never read
    wait_until(lambda: any(int(f["omem"]) > MIB for f in obs.others()), what="the replies to be pending")
    vanish(c, how)
    obs.settle()
    wait_until(lambda: obs.field("used_memory", "memory") <= base_mem + 256 * 1024,
               what="the pending replies to be freed")
    assert r.strlen("big") == 4 * MIB


def _membio_tls(port, ca):
    """A TLS client driven through MemoryBIOs over a raw socket, so the test
    can send part of a record. Returns (raw socket, SSLObject, outgoing BIO)."""
    inc, out = ssl.MemoryBIO(), ssl.MemoryBIO()
    obj = client_context(ca).wrap_bio(inc, out, server_hostname="localhost")
    raw = socket.create_connection(("127.0.0.1", port), timeout=5)
    while True:
        try:
            obj.do_handshake()
            break
        except ssl.SSLWantReadError:
            pending = out.read()
            if pending:
                raw.sendall(pending)
            chunk = raw.recv(65536)
            if not chunk:
                raise EOFError("server closed during the handshake")
            inc.write(chunk)
    pending = out.read()
    if pending:
        raw.sendall(pending)  # TLS 1.3: the client's Finished
    return raw, obj, out


@pytest.mark.parametrize("how", HOWS)
@pytest.mark.parametrize("stage", ["half-hello", "hello", "hello-answered", "partial-record", "no-close-notify"])
def test_vanish_mid_tls_handshake(obs, tls_certs, stage, how):
    s, r = obs.s, obs.r
    hello = client_hello_bytes()
    before = info(r, "ssl")
    if stage in ("half-hello", "hello", "hello-answered"):
        c = socket.create_connection(("127.0.0.1", s.port), timeout=5)
        c.sendall(hello[:len(hello) // 2] if stage == "half-hello" else hello)
        wait_until(lambda: obs.field("connected_clients", "clients") == 2, what="the connection to be accepted")
        if stage == "hello-answered":
            assert recv_exact(c, 1) == b"\x16"  # the ServerHello is on its way
    elif stage == "partial-record":
        c, obj, out = _membio_tls(s.port, tls_certs["ca_crt"])
        wait_until(lambda: obs.field("tls_handshakes_ok", "ssl") == int(before["tls_handshakes_ok"]) + 1,
                   what="the handshake to finish")
        obj.write(enc("SET", "hs:k", "v"))
        rec = out.read()
        c.sendall(rec[:len(rec) // 2])  # half an application-data record
    else:
        c = connect(s, tls_certs, "tls")
        call(c, enc("SET", "hs:j", "v"), b"+OK\r\n")
    vanish(c, how)
    obs.settle()
    assert r.exists("hs:k") == 0
    # A new TLS client is served as before.
    t = connect(s, tls_certs, "tls")
    call(t, enc("PING"), b"+PONG\r\n")
    t.close()
    obs.settle()


@pytest.mark.parametrize("how", HOWS)
def test_vanish_mid_multi(obs, tls_certs, transport, how):
    s, r = obs.s, obs.r
    c = connect(s, tls_certs, transport)
    call(c, enc("WATCH", "mm:w") + enc("MULTI") + enc("SET", "mm:a", "1") + enc("INCR", "mm:n")
         + enc("LPUSH", "mm:l", "x") + enc("HSET", "mm:h", "f", "v"),
         b"+OK\r\n+OK\r\n+QUEUED\r\n+QUEUED\r\n+QUEUED\r\n+QUEUED\r\n")
    c.sendall(b"*1\r\n$4\r\nEX")  # EXEC never completes
    wait_until(lambda: any(f["flags"] == "x" for f in obs.others()), what="the transaction to be open")
    vanish(c, how)
    obs.settle()
    assert r.exists("mm:a", "mm:n", "mm:l", "mm:h") == 0  # nothing applied
    # Touching the key the dead client watched walks no freed watcher.
    assert r.set("mm:w", "1") is True
    # A live transaction on the same keys works.
    p = r.pipeline(transaction=True)
    p.set("mm:a", "2").incr("mm:n")
    assert p.execute() == [True, 1]


@pytest.mark.parametrize("how", HOWS)
def test_vanish_while_blocked_in_blpop(obs, tls_certs, transport, how):
    s, r = obs.s, obs.r
    doomed1 = connect(s, tls_certs, transport)
    doomed1.sendall(enc("BLPOP", "bq", 0))
    live1 = connect(s, tls_certs, transport)
    live1.sendall(enc("BLPOP", "bq", 0))
    doomed2 = connect(s, tls_certs, transport)
    doomed2.sendall(enc("BLPOP", "bq", "other", 0))
    live2 = connect(s, tls_certs, "plain")
    doomed3 = connect(s, tls_certs, transport)
    doomed3.sendall(enc("BLPOP", "bq", "0.5"))  # in the timeout table too
    wait_until(lambda: obs.field("blocked_clients", "clients") == 4, what="four blocked")
    live2.sendall(enc("BLPOP", "bq", 0))  # blocks after the others: last in line
    wait_until(lambda: obs.field("blocked_clients", "clients") == 5, what="five blocked")
    for d in (doomed1, doomed2, doomed3):
        vanish(d, how)
    obs.settle(clients=3, blocked=2)
    assert obs.field("clients_in_timeout_table", "clients") == 0
    # No element goes to a dead client: the live waiters get theirs in order
    # and the rest stays in the list.
    assert r.rpush("bq", "a", "b", "c") == 3
    for sock, elem in ((live1, b"a"), (live2, b"b")):
        want = b"*2\r\n$2\r\nbq\r\n$1\r\n%s\r\n" % elem
        assert recv_exact(sock, len(want)) == want
    assert r.lrange("bq", 0, -1) == ["c"]
    # With no live waiter at all, a push after the waiter died stays.
    d = connect(s, tls_certs, transport)
    d.sendall(enc("BLPOP", "bq2", 0))
    wait_until(lambda: obs.field("blocked_clients", "clients") == 1, what="blocked")
    vanish(d, how)
    obs.settle(clients=3)
    assert r.lpush("bq2", "kept") == 1
    assert r.lrange("bq2", 0, -1) == ["kept"]
    live1.close()
    live2.close()
    obs.settle()


@pytest.mark.parametrize("how", HOWS)
def test_vanish_while_subscribed(obs, tls_certs, transport, how):
    s, r = obs.s, obs.r
    c = connect(s, tls_certs, transport, rcvbuf=4096)
    c.sendall(enc("SUBSCRIBE", "sc:1", "sc:2") + enc("PSUBSCRIBE", "sp:*"))
    got = recv_exact(c, len(b"*3\r\n$9\r\nsubscribe\r\n$4\r\nsc:1\r\n:1\r\n") * 2
                     + len(b"*3\r\n$10\r\npsubscribe\r\n$4\r\nsp:*\r\n:3\r\n"))
    assert got.endswith(b"*3\r\n$10\r\npsubscribe\r\n$4\r\nsp:*\r\n:3\r\n")
    assert r.pubsub_numsub("sc:1", "sc:2") == [("sc:1", 1), ("sc:2", 1)]
    # Messages it will never read are pending when it goes.
    for _ in range(20):
        assert r.publish("sc:1", "m" * 100000) == 1
        assert r.publish("sp:x", "m" * 1000) == 1
    vanish(c, how)
    obs.settle()
    assert r.pubsub_numsub("sc:1", "sc:2") == [("sc:1", 0), ("sc:2", 0)]
    assert r.pubsub_numpat() == 0
    assert obs.field("pubsub_clients", "clients") == 0
    assert r.publish("sc:1", "after") == 0
    assert r.publish("sp:y", "after") == 0


# ---- 3. clients that never read ---------------------------------------------

class Sampler(threading.Thread):
    """Samples used_memory and a PING round trip on its own connection
    while non-readers push, until stopped."""

    def __init__(self, s):
        super().__init__(daemon=True)
        self.r = s.client()
        self.stop_evt = threading.Event()
        self.peak_mem = 0
        self.max_rtt = 0.0
        self.samples = 0
        self.error = None

    def run(self):
        try:
            while not self.stop_evt.is_set():
                t = time.monotonic()
                assert self.r.ping() is True
                self.max_rtt = max(self.max_rtt, time.monotonic() - t)
                self.peak_mem = max(self.peak_mem, ival(self.r, "used_memory", "memory"))
                self.samples += 1
                self.stop_evt.wait(0.005)
        except Exception as e:  # noqa: BLE001 - reported by stop()
            self.error = e

    def stop(self):
        self.stop_evt.set()
        self.join(30)
        self.r.connection_pool.disconnect()
        if self.error:
            raise self.error


# A stall, not speed, is what fails it. The round trip is measured from a
# thread of this process while its main thread drives 50 TLS and plain
# sockets (the GIL), on two cores the build steps of `make test` share at
# idle priority: 0.5 s was crossed twice (0.56, 0.73 s) with no stall in the
# server. A stalled loop (a synchronous free of every buffer, a blocking
# write) takes seconds here.
RTT_BOUND = 2.0 if ASAN else 1.0


def test_non_readers_hit_the_hard_limit_and_memory_stays_bounded(obs, tls_certs):
    s, r = obs.s, obs.r
    assert r.config_set("client-output-buffer-limit", "normal 2mb 0 0")
    big = "b" * 100000
    r.set("big", big)
    base_mem = obs.field("used_memory", "memory")
    base_disc = obs.field("client_output_buffer_limit_disconnections", "stats")
    sampler = Sampler(s)
    sampler.start()
    n = 50
    socks = []
    try:
        for i in range(n):
            socks.append(connect(s, tls_certs, "tls" if i % 2 else "plain", rcvbuf=4096))
        # 20 MB of replies each, never read, asked for in rounds so the
        # sampler sees memory while it grows.
        for _ in range(4):
            for c in socks:
                try:
                    c.sendall(enc("GET", "big") * 50)
                except OSError:
                    pass  # already disconnected
            seen = sampler.samples
            wait_until(lambda: sampler.samples >= seen + 2, what="memory samples")
        wait_until(lambda: obs.field("client_output_buffer_limit_disconnections", "stats") == base_disc + n,
                   timeout=30, what="all %d non-readers to be disconnected" % n)
        obs.settle(clients=2)  # the observer and the sampler
        # A reading client is served big replies all along.
        for _ in range(5):
            assert r.get("big") == big
    finally:
        sampler.stop()
        for c in socks:
            c.close()
    assert "for overcoming of output buffer limits" in s.log()
    # Each holds at most the limit plus the reply that crossed it (and its
    # query buffer): the bound is that times n plus 8 MiB.
    bound = base_mem + n * (2 * MIB + 100000 + 64 * 1024) + 8 * MIB
    say("non-readers(hard 2mb, %d clients): used_memory base=%d peak=%d bound=%d; max PING rtt %.3fs over %d samples"
        % (n, base_mem, sampler.peak_mem, bound, sampler.max_rtt, sampler.samples))
    assert sampler.samples > 0
    # The server's own peak (sampled by cron) covers what the sampler missed.
    assert max(sampler.peak_mem, obs.field("used_memory_peak", "memory")) <= bound
    assert sampler.max_rtt < RTT_BOUND
    wait_until(lambda: obs.field("used_memory", "memory") <= base_mem + 256 * 1024, what="memory back")


def test_non_readers_over_the_soft_limit_are_closed_after_its_time(obs, tls_certs):
    s, r = obs.s, obs.r
    assert r.config_set("client-output-buffer-limit", "normal 0 512kb 1")
    r.set("big", "b" * 100000)
    base_mem = obs.field("used_memory", "memory")
    base_disc = obs.field("client_output_buffer_limit_disconnections", "stats")
    n = 10
    socks = []
    for i in range(n):
        c = connect(s, tls_certs, "tls" if i % 2 else "plain", rcvbuf=4096)
        # 8 MB: loopback socket buffers take up to ~4 MB, the rest stays
        # over the soft limit (no hard limit), then the client is silent.
        c.sendall(enc("GET", "big") * 80)
        socks.append(c)
    t0 = time.monotonic()
    wait_until(lambda: obs.field("client_output_buffer_limit_disconnections", "stats") == base_disc + n,
               timeout=15, what="the soft limit to close them after 1 s")
    took = time.monotonic() - t0
    for c in socks:
        c.close()
    obs.settle()
    assert took >= 0.5  # not at once: after the soft limit's seconds
    assert obs.field("used_memory", "memory") <= base_mem + 256 * 1024


def test_pubsub_subscribers_that_never_read(obs, tls_certs):
    s, r = obs.s, obs.r
    assert r.config_get("client-output-buffer-limit")["client-output-buffer-limit"].endswith(
        "pubsub 33554432 8388608 60")  # the defaults
    base_mem = obs.field("used_memory", "memory")
    base_disc = obs.field("client_output_buffer_limit_disconnections", "stats")
    n = 4
    subs = []
    for i in range(n):
        c = connect(s, tls_certs, "tls" if i % 2 else "plain", rcvbuf=4096)
        call(c, enc("SUBSCRIBE", "nr"), b"*3\r\n$9\r\nsubscribe\r\n$2\r\nnr\r\n:1\r\n")
        subs.append(c)
    sampler = Sampler(s)
    sampler.start()
    msg = b"p" * 100000
    pub = connect(s, tls_certs, "plain")
    published = 0
    try:
        # Publish in pipelined batches until no subscriber is left.
        receivers = n
        while receivers:
            assert published < 2000, "subscribers never disconnected"
            batch = 20
            pub.sendall(enc("PUBLISH", "nr", msg) * batch)
            data = b""
            while data.count(b"\r\n") < batch:
                data += recv_exact(pub, 1)
            receivers = int(data.split(b"\r\n")[-2][1:])
            published += batch
        wait_until(lambda: obs.field("client_output_buffer_limit_disconnections", "stats") == base_disc + n,
                   what="the subscribers to be counted as disconnected")
    finally:
        sampler.stop()
        for c in subs:
            c.close()
    bound = base_mem + n * (32 * MIB + 2 * 100000) + 16 * MIB
    say("pubsub non-readers(%d, default limits): %d messages of 100 kB; used_memory base=%d peak=%d bound=%d; "
        "max PING rtt %.3fs" % (n, published, base_mem, sampler.peak_mem, bound, sampler.max_rtt))
    assert sampler.peak_mem <= bound
    assert sampler.max_rtt < RTT_BOUND
    assert r.pubsub_numsub("nr") == [("nr", 0)]
    pub.close()
    obs.settle()
    wait_until(lambda: obs.field("used_memory", "memory") <= base_mem + 256 * 1024, what="memory back")
