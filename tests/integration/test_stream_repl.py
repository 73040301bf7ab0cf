"""Replication of stream consumer-group commands: XREADGROUP, XCLAIM and
XAUTOCLAIM travel as their effects (XCLAIM ... FORCE JUSTID, XGROUP SETID,
XGROUP CREATECONSUMER), exactly as Redis 7.0 sends them.

Every check is differential: the same commands run on a Cachet primary and
on a Redis 7.0 primary, each with a hand-written replica on a raw socket
(the propagated forms must be equal, TIME values aside) and with a real
Redis 7.0 replica (XINFO STREAM FULL must be what Redis' own replica holds).
Every wait polls with a deadline; every server is stopped by PID.
"""
import random
import re
import select
import threading
import time

import redis

from conftest import wait_until
from test_repl_primary import REDIS, RawReplica, pytestmark, redis_replica, started, wait_in_sync  # noqa: F401

MARK = [b"SET", b"MARK", b"x"]


def raw_replica(port):
    """A raw replica whose command stream flows: Redis 7.0 starts it only on
    a REPLCONF ACK that arrives after the sync, so ack until something comes
    (a probe SET forces a byte)."""
    rr = RawReplica(port)
    c = redis.Redis(port=port)
    c.set("probe", "1")
    deadline = time.monotonic() + 10
    while not rr.buf and time.monotonic() < deadline:
        rr.ack()
        if select.select([rr.s], [], [], 0.05)[0]:
            rr.fill()
    c.close()
    assert rr.buf, "the primary never streamed"
    rr.commands_until(lambda a: a[:2] == [b"SET", b"probe"])
    return rr


class Side:
    """One primary (Cachet or Redis), its raw replica and a Redis replica."""

    def __init__(self, started, binary=None):
        self.p = started("--repl-diskless-sync-delay", "0", binary=binary)
        self.c = self.p.client()
        self.r = redis_replica(started, self.p)
        self.rc = self.r.client()
        wait_in_sync(self.c, self.rc)
        self.rr = raw_replica(self.p.port)
        for cl in (self.c, self.rc):  # raw replies: redis-py's parsers choke on some (XAUTOCLAIM JUSTID)
            for name in ("XINFO STREAM", "XAUTOCLAIM", "XCLAIM", "XREADGROUP", "XREAD", "XRANGE", "XPENDING"):
                cl.set_response_callback(name, lambda r, **kw: r)

    def run(self, *args):
        try:
            return self.c.execute_command(*args)
        except redis.ResponseError as e:
            return ("ERR", str(e))

    def forms(self):
        """What travelled since the previous call (TIME values masked)."""
        self.c.execute_command(*MARK)
        got = self.rr.commands_until(lambda a: a == MARK, limit=2000)[:-1]
        out = []
        for argv in got:
            argv = list(argv)
            for i in range(len(argv) - 1):
                if argv[0] == b"XCLAIM" and argv[i] == b"TIME" and \
                        abs(int(argv[i + 1]) - time.time() * 1000) < 60000:
                    argv[i + 1] = b"<t>"  # a clock reading (a time the client gave stays)
            out.append(argv)
        return out

    def blocked_read(self, read_args, add_args):
        """A blocking XREADGROUP served by an XADD from another client."""
        b = redis.Redis(port=self.p.port)
        b.set_response_callback("XREADGROUP", lambda r, **kw: r)
        b.set_response_callback("XREAD", lambda r, **kw: r)
        res = []
        t = threading.Thread(target=lambda: res.append(b.execute_command(*read_args)))
        t.start()
        wait_until(lambda: self.c.info("clients")["blocked_clients"] == 1, timeout=10, what="the reader blocked")
        self.run(*add_args)
        t.join(10)
        b.close()
        assert not t.is_alive()
        return res[0]


def normalise(info, times=False):
    """XINFO STREAM FULL with seen-times masked (a replica sets its own
    clock there), and with delivery times too when two servers' runs are
    compared (times=True)."""
    def walk(v, parent=None):
        if isinstance(v, list):
            out = [walk(x, v) for x in v]
            for i in range(len(out) - 1):
                if out[i] == b"seen-time":
                    out[i + 1] = "<seen>"
            if times and parent is not None and len(out) in (3, 4) and isinstance(out[0], bytes) and \
                    re.match(rb"\d+-\d+$", out[0]) and all(isinstance(x, int) for x in out[-2:]):
                out[-2] = "<t>"  # a pending entry: [id, (consumer,) delivery-time, count]
            return out
        return v
    return walk(info)


def state(side, key, replica=False):
    c = side.rc if replica else side.c
    if not c.exists(key):
        return None
    return c.execute_command("XINFO", "STREAM", key, "FULL")


def both(a, b, *args):
    ra, rb = a.run(*args), b.run(*args)
    assert ra == rb, f"{args}: cachet {ra!r} redis {rb!r}"
    return ra


def test_forms_of_group_commands(started):
    a, b = Side(started), Side(started, binary=REDIS)
    steps = [
        [("XADD", "s", "1-1", "f", "v"), ("XADD", "s", "2-1", "f", "v"), ("XGROUP", "CREATE", "s", "g", "0")],
        [("XREADGROUP", "GROUP", "g", "c1", "COUNT", "1", "STREAMS", "s", ">")],
        [("XREADGROUP", "GROUP", "g", "c2", "NOACK", "COUNT", "1", "STREAMS", "s", ">")],
        [("XREADGROUP", "GROUP", "g", "c1", "STREAMS", "s", ">")],  # nothing new: nothing sent
        [("XREADGROUP", "GROUP", "g", "c3", "STREAMS", "s", "0")],  # history: nothing (Redis 7.0)
        [("XREADGROUP", "GROUP", "g", "c1", "STREAMS", "s", "0")],
        [("XADD", "s", "3-1", "f", "v"), ("XREADGROUP", "GROUP", "g", "c4", "NOACK", "STREAMS", "s", ">")],
        [("XADD", "s", "4-1", "f", "v"), ("XREADGROUP", "GROUP", "g", "c1", "STREAMS", "s", ">")],
        [("XDEL", "s", "4-1"), ("XCLAIM", "s", "g", "c5", "0", "4-1", "1", "LASTID", "5-0")],
        [("XCLAIM", "s", "g", "c5", "0", "6", "LASTID", "6-0")],
        [("XCLAIM", "s", "g", "c5", "0", "1-1", "JUSTID")],
        [("XCLAIM", "s", "g", "c6", "999999", "1-1", "JUSTID")],
        [("XCLAIM", "s", "g", "c6", "0", "1-1", "2-1", "TIME", "1000", "RETRYCOUNT", "7", "FORCE")],
        [("XADD", "s", "7-1", "f", "v"), ("XADD", "s", "8-1", "f", "v"),
         ("XREADGROUP", "GROUP", "g", "c1", "STREAMS", "s", ">"), ("XDEL", "s", "7-1")],
        [("XAUTOCLAIM", "s", "g", "c7", "0", "0")],
        [("XAUTOCLAIM", "s", "g", "c8", "0", "0", "JUSTID")],
        [("XAUTOCLAIM", "s", "g", "c8", "99999", "0")],
        [("XREAD", "STREAMS", "s", "0")],
        [("XACK", "s", "g", "1-1"), ("XGROUP", "SETID", "s", "g", "$"), ("XGROUP", "CREATECONSUMER", "s", "g", "z"),
         ("XGROUP", "DELCONSUMER", "s", "g", "z")],
        [("MULTI",), ("XREADGROUP", "GROUP", "g", "c9", "STREAMS", "s", "0-0"), ("XADD", "s", "9-1", "f", "v"),
         ("XREADGROUP", "GROUP", "g", "c9", "STREAMS", "s", ">"), ("EXEC",)],
    ]
    for cmds in steps:
        for cmd in cmds:
            both(a, b, *cmd)
        fa, fb = a.forms(), b.forms()
        assert fa == fb, f"after {cmds}:\ncachet {fa}\nredis  {fb}"
    got = a.forms()
    assert got == []
    # Some steps above must have sent the rewritten forms (not a vacuous pass).
    both(a, b, "XADD", "s", "10-1", "f", "v")
    both(a, b, "XREADGROUP", "GROUP", "g", "c1", "STREAMS", "s", ">")
    fa = a.forms()
    assert fa[1][:6] == [b"XCLAIM", b"s", b"g", b"c1", b"0", b"10-1"] and fa[1][-6:] == [
        b"RETRYCOUNT", b"1", b"FORCE", b"JUSTID", b"LASTID", b"10-1"], fa
    assert fa == b.forms()


def test_blocked_reads_propagate_like_direct_ones(started):
    a, b = Side(started), Side(started, binary=REDIS)
    for s in (a, b):
        s.run("XADD", "s", "1-1", "f", "v")
        s.run("XGROUP", "CREATE", "s", "g", "$")
    for n, opts in enumerate(([], ["NOACK"], [], ["NOACK"])):
        read = ("XREADGROUP", "GROUP", "g", f"b{n % 2}", *opts, "BLOCK", 0, "STREAMS", "s", ">")
        add = ("XADD", "s", f"{n + 2}-1", "f", "v")
        assert a.blocked_read(read, add) == b.blocked_read(read, add)
        fa, fb = a.forms(), b.forms()
        assert fa == fb, f"{opts}:\ncachet {fa}\nredis  {fb}"
        assert any(f[0] in (b"XCLAIM", b"XGROUP") for f in fa)
    # XREAD, blocking or not, sends nothing.
    assert a.blocked_read(("XREAD", "BLOCK", 0, "STREAMS", "s", "$"), ("XADD", "s", "9-1", "f", "v"))
    assert a.forms() == [[b"XADD", b"s", b"9-1", b"f", b"v"]]
    wait_in_sync(a.c, a.rc)
    assert normalise(state(a, "s", replica=True)) == normalise(state(a, "s"))


def random_step(rng, n, ids):
    """One random group command (min-idle 0 or huge only: the two servers'
    clocks never decide an outcome)."""
    g = rng.choice(["g1", "g2"])
    cons = rng.choice(["c0", "c1", "c2", "c3"])
    pick = lambda: rng.choice(ids) if ids and rng.random() < 0.9 else f"{rng.randint(1, n + 2)}-1"  # noqa: E731
    r = rng.random()
    if r < 0.2:
        return ("XADD", "s", f"{n}-1", "f", str(n))
    if r < 0.4:
        extra = ["NOACK"] if rng.random() < 0.3 else []
        return ("XREADGROUP", "GROUP", g, cons, *extra, "COUNT", rng.randint(1, 3), "STREAMS", "s", ">")
    if r < 0.45:
        return ("XREADGROUP", "GROUP", g, cons, "STREAMS", "s", "0")
    if r < 0.52:
        return ("XACK", "s", g, pick(), pick())
    if r < 0.65:
        opts = []
        if rng.random() < 0.3:
            opts.append("JUSTID")
        if rng.random() < 0.2:
            opts.append("FORCE")
        if rng.random() < 0.2:
            opts += ["RETRYCOUNT", rng.randint(0, 5)]
        if rng.random() < 0.2:
            opts += ["LASTID", f"{n + rng.randint(-3, 3)}-1"]
        return ("XCLAIM", "s", g, cons, rng.choice([0, 10 ** 9]), pick(), pick(), *opts)
    if r < 0.75:
        return ("XAUTOCLAIM", "s", g, cons, rng.choice([0, 0, 10 ** 9]), "0", "COUNT", rng.randint(1, 4),
                *(["JUSTID"] if rng.random() < 0.3 else []))
    if r < 0.82:
        return ("XDEL", "s", pick())
    if r < 0.86:
        return ("XGROUP", "SETID", "s", g, rng.choice(["$", "0", pick()]))
    if r < 0.9:
        return ("XGROUP", "CREATECONSUMER", "s", g, cons)
    if r < 0.94:
        return ("XGROUP", "DELCONSUMER", "s", g, cons)
    if r < 0.97:
        return "BLOCK"
    return ("XTRIM", "s", "MAXLEN", rng.randint(3, 10))


def test_random_group_sequence(started):
    a, b = Side(started), Side(started, binary=REDIS)
    rng = random.Random(2107)
    ids = []
    n = 1
    for side in (a, b):
        side.run("XADD", "s", "1-1", "f", "0")
        side.run("XGROUP", "CREATE", "s", "g1", "0")
        side.run("XGROUP", "CREATE", "s", "g2", "$")
    ids.append("1-1")
    kinds = {}
    for step in range(300):
        cmd = random_step(rng, n + 1, ids)
        if cmd == "BLOCK":
            n += 1
            read = ("XREADGROUP", "GROUP", "g2", "blk", *(["NOACK"] if step % 2 else []), "BLOCK", 0, "COUNT", 1,
                    "STREAMS", "s", ">")
            add = ("XADD", "s", f"{n}-1", "f", "b")
            both(a, b, "XGROUP", "SETID", "s", "g2", "$")  # so the read must block
            assert a.blocked_read(read, add) == b.blocked_read(read, add)
            ids.append(f"{n}-1")
        else:
            if cmd[0] == "XADD":
                n += 1
                cmd = ("XADD", "s", f"{n}-1", "f", str(n))
                ids.append(f"{n}-1")
            both(a, b, *cmd)
        fa, fb = a.forms(), b.forms()
        assert fa == fb, f"step {step} {cmd}:\ncachet {fa}\nredis  {fb}"
        for f in fa:
            kinds[tuple(f[:2])] = kinds.get(tuple(f[:2]), 0) + 1
    # the sequence exercised every rewritten form
    assert kinds.get((b"XCLAIM", b"s"), 0) > 20 and kinds.get((b"XGROUP", b"SETID"), 0) > 5, kinds
    assert kinds.get((b"XGROUP", b"CREATECONSUMER"), 0) > 2 and kinds.get((b"MULTI",), 0) > 2, kinds
    wait_in_sync(a.c, a.rc)
    wait_in_sync(b.c, b.rc)
    pa, ra = state(a, "s"), state(a, "s", replica=True)
    pb, rb = state(b, "s"), state(b, "s", replica=True)
    # The primaries agree, and so do their replicas (delivery times aside:
    # the two runs read different clocks).
    assert normalise(pa, times=True) == normalise(pb, times=True)
    assert normalise(ra, times=True) == normalise(rb, times=True)
    # Where Redis 7.0's own replica equals its primary, so does ours.
    # Redis 7.0's replica differs from its primary where 7.0 sends no effect
    # (entries-read after reads without NOACK, history reads, consumers made
    # by such reads); ours must differ in exactly the same places.
    da, db = diff_paths(normalise(pa), normalise(ra)), diff_paths(normalise(pb), normalise(rb))
    assert da == db, f"cachet primary/replica differ at {da}, redis at {db}"
    assert len(pa[pa.index(b"groups") + 1]) == 2


def diff_paths(x, y, path=()):
    """Where two replies differ (list paths)."""
    if isinstance(x, list) and isinstance(y, list) and len(x) == len(y):
        out = []
        for i, (u, v) in enumerate(zip(x, y)):
            out += diff_paths(u, v, path + (i,))
        return out
    return [] if x == y else [path]
