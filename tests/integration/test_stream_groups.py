"""Streams part two: XREAD (COUNT, BLOCK, $), consumer groups (XGROUP,
XREADGROUP, XACK, XPENDING, XCLAIM, XAUTOCLAIM, XINFO) and streams with
groups in snapshots and DUMP/RESTORE, against Debian's redis-server 7.0.

Most checks are differential: the same commands go to redis-server 7.0
and to Cachet and the reply trees must be equal, RESP2 and RESP3. Fields
that depend on the clock (idle times, delivery and seen times) and on
Redis' radix tree internals (radix-tree-nodes) are normalised; min-idle
arguments are 0 or an hour so that what is claimed never depends on time.
"""
import os
import random
import shutil
import time

import pytest
import redis

from conftest import Server, cmd, wait_until
from test_differential import Reader

from test_stream import REDIS, cachet_conn, crc64, need_redis, redis_ref  # noqa: F401 - fixtures
from test_stream import run_script as stream_run_script

TIMED_KEYS = {b"idle", b"seen-time", b"radix-tree-nodes"}
T = (b"T", b"")


def normalise(args, reply):
    """Clock- and rax-dependent values become T (see the module comment)."""
    name = args[0].upper()

    def walk(node, parent_key=None):
        kind, value = node
        if not isinstance(value, list):
            if kind == b":" and value.lstrip(b"-").isdigit() and int(value) > 10**12:
                return T  # a unix-ms delivery or seen time
            return node
        out = []
        for i, item in enumerate(value):
            prev = value[i - 1] if i else None
            if prev is not None and i % 2 == 1 and prev[0] in (b"$", b"+") and prev[1] in TIMED_KEYS:
                out.append(T)
            else:
                out.append(walk(item))
        return kind, out

    reply = walk(reply)
    if name == "XPENDING" and len(args) > 3 and isinstance(reply[1], list):
        reply = (reply[0], [(k, [v[0], v[1], T, v[3]]) if isinstance(v, list) and len(v) == 4 else (k, v)
                            for k, v in reply[1]])
    return reply


def run_script(sock, script, resp3):
    return [(args, normalise(args, reply)) for args, reply in stream_run_script(sock, script, resp3)]


def compare(cachet_sock, redis_sock, script, resp3):
    got = run_script(cachet_sock, script, resp3)
    want = run_script(redis_sock, script, resp3)
    for (args, g), (_, w) in zip(got, want):
        assert g == w, f"{args}: cachet {g!r} != redis {w!r}"


FIXED = [
    ("CONFIG", "SET", "stream-node-max-entries", "3"),
    ("XADD", "s", "1-1", "a", "1"), ("XADD", "s", "2-1", "b", "2"), ("XADD", "s", "3-1", "a", "3"),
    ("XADD", "s", "4-1", "a", "4", "c", "5"), ("SET", "str", "x"),
    # XGROUP
    ("XGROUP", "HELP"), ("XGROUP", "foo"), ("XGROUP", "CREATE", "s"),
    ("XGROUP", "CREATE", "nokey", "g", "0"), ("XGROUP", "CREATE", "str", "g", "0"),
    ("XGROUP", "CREATE", "s", "g", "0", "MKSTREAM", "foo"),
    ("XGROUP", "CREATE", "s", "g", "0", "ENTRIESREAD", "-2"),
    ("XGROUP", "CREATE", "s", "g", "0", "ENTRIESREAD", "x"),
    ("XGROUP", "CREATE", "s", "g", "bad"),
    ("XGROUP", "CREATE", "s", "g", "0"), ("XGROUP", "CREATE", "s", "g", "0"),
    ("XGROUP", "CREATE", "s", "g2", "$"), ("XGROUP", "CREATE", "s", "g3", "2-1", "ENTRIESREAD", "2"),
    ("XGROUP", "CREATE", "new", "g", "$", "MKSTREAM"), ("TYPE", "new"), ("XLEN", "new"),
    ("XGROUP", "SETID", "nokey", "g", "0"), ("XGROUP", "SETID", "s", "nog", "0"),
    ("XGROUP", "SETID", "s", "g3", "0", "foo", "1"), ("XGROUP", "SETID", "s", "g3", "0", "ENTRIESREAD"),
    ("XGROUP", "SETID", "s", "g3", "0", "ENTRIESREAD", "-3"), ("XGROUP", "SETID", "s", "g3", "bad"),
    ("XGROUP", "SETID", "s", "g3", "-"), ("XGROUP", "SETID", "s", "g3", "$", "ENTRIESREAD", "4"),
    ("XGROUP", "DESTROY", "nokey", "g"), ("XGROUP", "DESTROY", "s", "nog"),
    ("XGROUP", "CREATECONSUMER", "s", "nog", "c"), ("XGROUP", "CREATECONSUMER", "s", "g", "c9"),
    ("XGROUP", "CREATECONSUMER", "s", "g", "c9"), ("XGROUP", "DELCONSUMER", "s", "g", "nobody"),
    # XREAD / XREADGROUP
    ("XREAD", "STREAMS", "s", "0"), ("XREAD", "COUNT", "2", "STREAMS", "s", "new", "0", "0"),
    ("XREAD", "STREAMS", "s", "$"), ("XREAD", "STREAMS", "nokey", "0"), ("XREAD", "STREAMS", "str", "0"),
    ("XREAD", "STREAMS", "s", ">"), ("XREAD", "GROUP", "g", "c", "STREAMS", "s", "0"),
    ("XREAD", "NOACK", "STREAMS", "s", "0"), ("XREAD", "COUNT", "x", "STREAMS", "s", "0"),
    ("XREAD", "BLOCK", "-1", "STREAMS", "s", "0"), ("XREAD", "BLOCK", "x", "STREAMS", "s", "0"),
    ("XREAD", "BLOCK", "1.5", "STREAMS", "s", "0"), ("XREAD", "STREAMS", "s"), ("XREAD", "COUNT", "1"),
    ("XREAD", "foo", "STREAMS", "s", "0"), ("XREAD", "STREAMS", "s", "t", "0"),
    ("XREAD", "COUNT", "-5", "STREAMS", "s", "2"), ("XREAD", "STREAMS", "s", "bad"),
    ("XREAD", "BLOCK", "10", "STREAMS", "s", "0"),
    ("XREADGROUP", "COUNT", "1", "STREAMS", "s", ">"), ("XREADGROUP", "GROUP", "g", "c", "STREAMS", "s"),
    ("XREADGROUP", "GROUP", "g", "c", "STREAMS", "s", "$"), ("XREADGROUP", "GROUP", "nog", "c", "STREAMS", "s", ">"),
    ("XREADGROUP", "GROUP", "g", "c", "STREAMS", "nokey", ">"),
    ("XREADGROUP", "GROUP", "g", "c", "STREAMS", "str", ">"),
    ("XREADGROUP", "GROUP", "g", "c1", "COUNT", "2", "STREAMS", "s", ">"),
    ("XREADGROUP", "GROUP", "g", "c2", "COUNT", "1", "STREAMS", "s", ">"),
    ("XREADGROUP", "GROUP", "g", "c3", "NOACK", "COUNT", "1", "STREAMS", "s", ">"),
    ("XREADGROUP", "GROUP", "g", "c1", "STREAMS", "s", "0"),
    ("XREADGROUP", "GROUP", "g", "c1", "COUNT", "1", "STREAMS", "s", "1-1"),
    ("XREADGROUP", "GROUP", "g", "c1", "STREAMS", "s", ">"),
    ("XREADGROUP", "GROUP", "g2", "c1", "STREAMS", "s", "new", ">", ">"),
    # XPENDING
    ("XPENDING", "s"), ("XPENDING", "s", "nog"), ("XPENDING", "nokey", "g"), ("XPENDING", "str", "g"),
    ("XPENDING", "s", "g"), ("XPENDING", "s", "g2"),
    ("XPENDING", "s", "g", "-", "+", "x"), ("XPENDING", "s", "g", "IDLE", "10", "-", "+"),
    ("XPENDING", "s", "g", "-", "+", "10"), ("XPENDING", "s", "g", "-", "+", "10", "c1"),
    ("XPENDING", "s", "g", "-", "+", "10", "nobody"), ("XPENDING", "s", "g", "IDLE", "x", "-", "+", "10"),
    ("XPENDING", "s", "g", "IDLE", "3600000", "-", "+", "10"), ("XPENDING", "s", "g", "-", "+", "-1"),
    ("XPENDING", "s", "g", "bad", "+", "10"), ("XPENDING", "s", "g", "(1-1", "+", "10"),
    ("XPENDING", "s", "g", "-", "(2-1", "10"), ("XPENDING", "s", "g", "-", "+", "10", "c1", "extra"),
    ("XPENDING", "s", "g", "-", "+", "10", "c1", "extra", "more", "args"),
    # XINFO
    ("XINFO", "HELP"), ("XINFO", "foo"), ("XINFO", "STREAM", "nokey"), ("XINFO", "GROUPS", "nokey"),
    ("XINFO", "STREAM", "str"), ("XINFO", "CONSUMERS", "s", "nog"), ("XINFO", "STREAM", "s", "foo"),
    ("XINFO", "STREAM", "s", "FULL", "COUNT", "x"), ("XINFO", "STREAM", "s", "FULL", "COUNT"),
    ("XINFO", "STREAM", "s"), ("XINFO", "STREAM", "s", "FULL"), ("XINFO", "STREAM", "s", "FULL", "COUNT", "1"),
    ("XINFO", "STREAM", "s", "FULL", "COUNT", "0"), ("XINFO", "STREAM", "s", "FULL", "COUNT", "-1"),
    ("XINFO", "GROUPS", "s"), ("XINFO", "CONSUMERS", "s", "g"), ("XINFO", "STREAM", "new"),
    # XCLAIM / XAUTOCLAIM
    ("XCLAIM", "s", "g", "c", "x", "1-1"), ("XCLAIM", "s", "g", "c", "0", "1-1", "foo"),
    ("XCLAIM", "s", "g", "c", "0", "1-1", "IDLE", "x"), ("XCLAIM", "s", "g", "c", "0", "1-1", "TIME", "x"),
    ("XCLAIM", "s", "g", "c", "0", "1-1", "RETRYCOUNT", "x"), ("XCLAIM", "s", "g", "c", "0", "1-1", "LASTID", "x"),
    ("XCLAIM", "s", "nog", "c", "0", "1-1"), ("XCLAIM", "str", "g", "c", "0", "1-1"),
    ("XCLAIM", "s", "g", "c4", "3600000", "1-1"), ("XCLAIM", "s", "g", "c4", "0", "1-1", "2-1", "JUSTID"),
    ("XCLAIM", "s", "g", "c4", "0", "1-1", "RETRYCOUNT", "7", "IDLE", "7200000"),
    ("XCLAIM", "s", "g", "c5", "0", "4-1", "FORCE"), ("XCLAIM", "s", "g", "c5", "0", "3-1", "FORCE", "JUSTID"),
    ("XCLAIM", "s", "g", "c5", "0", "9-9", "FORCE"), ("XCLAIM", "s", "g", "c5", "0", "2-1", "LASTID", "9-0"),
    ("XCLAIM", "s", "g", "c5", "0", "2-1", "TIME", "-5"),
    ("XAUTOCLAIM", "s", "g", "c", "x", "0"), ("XAUTOCLAIM", "s", "g", "c", "0", "x"),
    ("XAUTOCLAIM", "s", "g", "c", "0", "0", "COUNT", "0"), ("XAUTOCLAIM", "s", "g", "c", "0", "0", "foo"),
    ("XAUTOCLAIM", "s", "nog", "c", "0", "0"), ("XAUTOCLAIM", "str", "g", "c", "0", "0"),
    ("XAUTOCLAIM", "s", "g", "c", "0", "(18446744073709551615-18446744073709551615"),
    ("XAUTOCLAIM", "s", "g", "c6", "3600000", "0"), ("XAUTOCLAIM", "s", "g", "c6", "0", "0", "COUNT", "1"),
    ("XAUTOCLAIM", "s", "g", "c6", "0", "(1-1", "COUNT", "1", "JUSTID"),
    ("XDEL", "s", "2-1"), ("XAUTOCLAIM", "s", "g", "c7", "0", "0"),
    ("XREADGROUP", "GROUP", "g", "c5", "STREAMS", "s", "0"),
    ("XPENDING", "s", "g"), ("XINFO", "STREAM", "s", "FULL"),
    # XACK and consumer deletion
    ("XACK", "s", "g"), ("XACK", "s", "g", "bad"), ("XACK", "nokey", "g", "1-1"), ("XACK", "str", "g", "1-1"),
    ("XACK", "s", "nog", "1-1"), ("XACK", "s", "g", "1-1", "1-1", "9-9"),
    ("XGROUP", "DELCONSUMER", "s", "g", "c7"), ("XGROUP", "DELCONSUMER", "s", "g", "c5"),
    ("XINFO", "GROUPS", "s"), ("XPENDING", "s", "g"), ("XTRIM", "s", "MAXLEN", "1"), ("XINFO", "GROUPS", "s"),
    ("XGROUP", "DESTROY", "s", "g"), ("XINFO", "GROUPS", "s"),
    ("COMMAND", "GETKEYS", "XREAD", "COUNT", "1", "STREAMS", "a", "b", "0", "0"),
    ("COMMAND", "GETKEYS", "XREADGROUP", "GROUP", "g", "c", "NOACK", "STREAMS", "a", ">"),
    ("COMMAND", "GETKEYS", "XREAD", "STREAMS", "a", "b", "0"),
    ("EVAL", "return redis.pcall('xRead','BLOCK','0','STREAMS',KEYS[1],'0')", "1", "s"),
    ("EVAL", "return redis.pcall('XREADGROUP','GROUP','g2','c','BLOCK','0','STREAMS',KEYS[1],'>')", "1", "s"),
    ("EVAL", "return redis.pcall('XREAD','COUNT','1','STREAMS',KEYS[1],'0')", "1", "s"),
]


@need_redis
@pytest.mark.parametrize("resp3", [False, True])
def test_fixed_script(cachet_conn, redis_ref, resp3):
    _, connect = cachet_conn
    compare(connect(), redis_ref.raw(), FIXED, resp3)


def random_script(rng, n):
    keys = ["s1", "s2"]
    groups = ["g1", "g2", "nog"]
    consumers = ["c1", "c2", "c3"]
    top = {k: 0 for k in keys + ["str"]}
    out = [("CONFIG", "SET", "stream-node-max-entries", str(rng.choice([2, 4, 100])))]

    def some_id(k):
        return f"{rng.randint(0, top[k] + 2)}-{rng.randint(0, 2)}"

    for _ in range(n):
        k = rng.choice(keys + ["str"] if rng.random() < 0.03 else keys)
        g, c = rng.choice(groups), rng.choice(consumers)
        op = rng.random()
        if op < 0.25:
            top.setdefault(k, 0)
            top[k] = top.get(k, 0) + rng.randint(0, 2)
            out.append(("XADD", k, f"{top[k]}-{rng.randint(0, 3)}", "f", str(rng.randint(0, 9)),
                        *(("x", "y") if rng.random() < 0.3 else ())))
        elif op < 0.40:
            ids = [">" if rng.random() < 0.7 else some_id(k)]
            opts = []
            if rng.random() < 0.5:
                opts += ["COUNT", str(rng.randint(0, 3))]
            if rng.random() < 0.15:
                opts.append("NOACK")
            out.append(("XREADGROUP", "GROUP", g, c, *opts, "STREAMS", k, *ids))
        elif op < 0.48:
            out.append(("XACK", k, g, *[some_id(k) for _ in range(rng.randint(1, 3))]))
        elif op < 0.55:
            opts = []
            for o in ("JUSTID", "FORCE"):
                if rng.random() < 0.2:
                    opts.append(o)
            if rng.random() < 0.2:
                opts += ["RETRYCOUNT", str(rng.randint(0, 5))]
            if rng.random() < 0.2:
                opts += ["IDLE", rng.choice(["0", "7200000"])]
            if rng.random() < 0.1:
                opts += ["LASTID", some_id(k)]
            if rng.random() < 0.05:
                opts.append("bogus")
            out.append(("XCLAIM", k, g, c, rng.choice(["0", "3600000"]),
                        *[some_id(k) for _ in range(rng.randint(1, 3))], *opts))
        elif op < 0.62:
            opts = []
            if rng.random() < 0.5:
                opts += ["COUNT", str(rng.randint(0, 4))]
            if rng.random() < 0.3:
                opts.append("JUSTID")
            out.append(("XAUTOCLAIM", k, g, c, rng.choice(["0", "3600000"]),
                        rng.choice(["0", "-", some_id(k), "(" + some_id(k)]), *opts))
        elif op < 0.70:
            r = rng.random()
            if r < 0.4:
                out.append(("XPENDING", k, g))
            else:
                extra = [c] if rng.random() < 0.4 else []
                idle = ["IDLE", rng.choice(["0", "3600000"])] if rng.random() < 0.3 else []
                out.append(("XPENDING", k, g, *idle, rng.choice(["-", some_id(k)]), rng.choice(["+", some_id(k)]),
                            str(rng.randint(-1, 5)), *extra))
        elif op < 0.75:
            out.append(("XDEL", k, *[some_id(k) for _ in range(rng.randint(1, 2))]))
        elif op < 0.78:
            out.append(("XTRIM", k, "MAXLEN", str(rng.randint(0, 6))))
        elif op < 0.88:
            sub = rng.choice(["CREATE", "CREATE", "SETID", "DESTROY", "CREATECONSUMER", "DELCONSUMER"])
            if sub == "CREATE":
                extra = ["MKSTREAM"] if rng.random() < 0.5 else []
                if rng.random() < 0.2:
                    extra += ["ENTRIESREAD", str(rng.randint(-2, 5))]
                out.append(("XGROUP", "CREATE", k, g, rng.choice(["0", "$", some_id(k)]), *extra))
            elif sub == "SETID":
                extra = ["ENTRIESREAD", str(rng.randint(-1, 5))] if rng.random() < 0.3 else []
                out.append(("XGROUP", "SETID", k, g, rng.choice(["0", "$", some_id(k)]), *extra))
            elif sub == "DESTROY":
                out.append(("XGROUP", "DESTROY", k, g))
            else:
                out.append(("XGROUP", sub, k, g, c))
        elif op < 0.94:
            r = rng.random()
            if r < 0.3:
                out.append(("XINFO", "GROUPS", k))
            elif r < 0.5:
                out.append(("XINFO", "CONSUMERS", k, g))
            elif r < 0.7:
                out.append(("XINFO", "STREAM", k))
            else:
                out.append(("XINFO", "STREAM", k, "FULL", "COUNT", str(rng.randint(0, 3))))
        elif op < 0.97:
            out.append(("XREAD", "COUNT", str(rng.randint(0, 3)), "STREAMS", k, rng.choice(["$", "0", some_id(k)])))
        else:
            out.append(("XSETID", k, f"{top[k] + rng.randint(0, 3)}-9"))
    for k in keys:
        out.append(("XINFO", "STREAM", k, "FULL", "COUNT", "0"))
        for g in groups:
            out.append(("XPENDING", k, g, "-", "+", "1000"))
    return out


@need_redis
@pytest.mark.parametrize("seed", range(6))
def test_random_sequences(server, redis_ref, seed):
    rng = random.Random(seed)
    script = random_script(rng, 400)
    compare(server.raw(), redis_ref.raw(), script, resp3=seed % 2 == 1)


# ---- blocking -----------------------------------------------------------


def read_reply(sock):
    return Reader(sock).read()


def test_xread_block_served_by_xadd(cachet_conn):
    srv, connect = cachet_conn
    waiter, writer = connect(), connect()
    rd = Reader(waiter)
    waiter.sendall(cmd("XREAD", "BLOCK", "0", "STREAMS", "s", "$"))
    c = srv.client()
    wait_until(lambda: c.info("clients")["blocked_clients"] == 1, what="XREAD to block")
    writer.sendall(cmd("XADD", "s", "5-1", "f", "v"))
    assert Reader(writer).read() == (b"$", b"5-1")
    assert rd.read() == (b"*", [(b"*", [(b"$", b"s"), (b"*", [(b"*", [(b"$", b"5-1"), (b"*", [(b"$", b"f"), (b"$", b"v")])])])])])
    # "$" meant the last id when it blocked: an existing stream too
    waiter.sendall(cmd("XREAD", "BLOCK", "0", "COUNT", "5", "STREAMS", "s", "$"))
    wait_until(lambda: c.info("clients")["blocked_clients"] == 1, what="XREAD to block again")
    c.execute_command("XADD", "s", "6-1", "g", "w")
    got = rd.read()
    assert got[1][0][1][1][1][0][1][0] == (b"$", b"6-1")


def test_xread_block_timeout_and_resp3(cachet_conn):
    srv, connect = cachet_conn
    sock = connect()
    rd = Reader(sock)
    t0 = time.monotonic()
    sock.sendall(cmd("XREAD", "BLOCK", "50", "STREAMS", "s", "0"))
    assert rd.read() == (b"*", None)
    assert time.monotonic() - t0 >= 0.045
    sock.sendall(cmd("HELLO", "3"))
    rd.read()
    sock.sendall(cmd("XREAD", "BLOCK", "30", "STREAMS", "s", "0"))
    assert rd.read() == (b"_", b"")
    c = srv.client()
    sock.sendall(cmd("XREAD", "BLOCK", "0", "STREAMS", "s", "0"))
    wait_until(lambda: c.info("clients")["blocked_clients"] == 1, what="XREAD to block")
    c.execute_command("XADD", "s", "1-1", "f", "v")
    assert rd.read() == (b"%", [(b"$", b"s"), (b"*", [(b"*", [(b"$", b"1-1"), (b"*", [(b"$", b"f"), (b"$", b"v")])])])])
    # MULTI never blocks: a null reply as a timeout
    sock.sendall(cmd("MULTI") + cmd("XREAD", "BLOCK", "0", "STREAMS", "s", "9") + cmd("EXEC"))
    rd.read(), rd.read()
    assert rd.read() == (b"*", [(b"_", b"")])


def test_xreadgroup_block(cachet_conn):
    srv, connect = cachet_conn
    c = srv.client()
    c.execute_command("XGROUP", "CREATE", "s", "g", "$", "MKSTREAM")
    a, b = connect(), connect()
    ra, rb_ = Reader(a), Reader(b)
    a.sendall(cmd("XREADGROUP", "GROUP", "g", "alice", "BLOCK", "0", "STREAMS", "s", ">"))
    wait_until(lambda: c.info("clients")["blocked_clients"] == 1, what="alice to block")
    b.sendall(cmd("XREADGROUP", "GROUP", "g", "bob", "BLOCK", "0", "STREAMS", "s", ">"))
    wait_until(lambda: c.info("clients")["blocked_clients"] == 2, what="bob to block")
    c.execute_command("XADD", "s", "1-1", "f", "v")
    got = ra.read()
    assert got[1][0][1][1][1][0][1][0] == (b"$", b"1-1")
    assert c.info("clients")["blocked_clients"] == 1  # bob keeps waiting: alice took it
    c.execute_command("XADD", "s", "2-1", "f", "v")
    got = rb_.read()
    assert got[1][0][1][1][1][0][1][0] == (b"$", b"2-1")
    assert c.xpending("s", "g")["consumers"] == [{"name": b"alice", "pending": 1}, {"name": b"bob", "pending": 1}]
    # destroyed while waiting: -NOGROUP
    a.sendall(cmd("XREADGROUP", "GROUP", "g", "alice", "BLOCK", "0", "STREAMS", "s", ">"))
    wait_until(lambda: c.info("clients")["blocked_clients"] == 1, what="alice to block again")
    c.execute_command("XGROUP", "DESTROY", "s", "g")
    assert ra.read() == (b"-", b"NOGROUP the consumer group this client was blocked on no longer exists")
    # timeout
    c.execute_command("XGROUP", "CREATE", "s", "g", "$")
    a.sendall(cmd("XREADGROUP", "GROUP", "g", "alice", "BLOCK", "40", "STREAMS", "s", ">"))
    assert ra.read() == (b"*", None)


@need_redis
def test_blocking_replies_match_redis(server, redis_ref):
    """The bytes a served XREAD / XREADGROUP receives, as Redis sends them."""
    out = []
    for s in (server, redis_ref):
        c = s.client()
        c.execute_command("XGROUP", "CREATE", "s", "g", "$", "MKSTREAM")
        got = []
        for args in (("XREAD", "BLOCK", "0", "COUNT", "1", "STREAMS", "s", "t", "$", "$"),
                     ("XREADGROUP", "GROUP", "g", "c", "BLOCK", "0", "STREAMS", "s", ">")):
            c.execute_command("XGROUP", "SETID", "s", "g", "$")
            w = s.raw()
            w.sendall(cmd(*args))
            wait_until(lambda: c.info("clients")["blocked_clients"] == 1, what="a block")
            c.execute_command("XADD", "s", f"{len(got) + 1}-0", "f", "v", "x", "yy")
            got.append(Reader(w).read())
        got.append(c.execute_command("XINFO", "GROUPS", "s"))
        out.append(got)
    assert out[0] == out[1]


# ---- key specs and scale -----------------------------------------------


def test_pel_scales(server):
    """100k pending entries, acked in an order that is neither head nor tail
    first: must stay fast (no quadratic work)."""
    c = server.client()
    c.execute_command("XGROUP", "CREATE", "s", "g", "0", "MKSTREAM")
    p = c.pipeline(transaction=False)
    for i in range(1, 100001):
        p.execute_command("XADD", "s", f"{i}-0", "f", "v")
    p.execute()
    t0 = time.monotonic()
    c.execute_command("XREADGROUP", "GROUP", "g", "c", "STREAMS", "s", ">")
    assert c.xpending("s", "g")["pending"] == 100000
    rng = random.Random(1)
    ids = [f"{i}-0" for i in range(1, 100001)]
    rng.shuffle(ids)
    for i in range(0, len(ids), 1000):
        p.execute_command("XACK", "s", "g", *ids[i:i + 1000])
    assert sum(p.execute()) == 100000
    assert c.xpending("s", "g")["pending"] == 0
    assert time.monotonic() - t0 < 20


# ---- snapshots and DUMP/RESTORE with groups -----------------------------


def fill_groups(c):
    c.config_set("stream-node-max-entries", "4")
    for i in range(1, 30):
        c.execute_command("XADD", "s", f"{i}-{i % 2}", "a", i, "b", "x" * (i % 5))
    c.execute_command("XGROUP", "CREATE", "s", "g1", "0")
    c.execute_command("XGROUP", "CREATE", "s", "g2", "$", "ENTRIESREAD", "29")
    c.execute_command("XGROUP", "CREATE", "s", "g3", "5-1")
    c.execute_command("XREADGROUP", "GROUP", "g1", "alice", "COUNT", "7", "STREAMS", "s", ">")
    c.execute_command("XREADGROUP", "GROUP", "g1", "bob", "COUNT", "5", "STREAMS", "s", ">")
    c.execute_command("XREADGROUP", "GROUP", "g1", "carol", "NOACK", "COUNT", "2", "STREAMS", "s", ">")
    c.execute_command("XREADGROUP", "GROUP", "g3", "alice", "COUNT", "3", "STREAMS", "s", ">")
    c.execute_command("XGROUP", "CREATECONSUMER", "s", "g2", "idle")
    c.execute_command("XACK", "s", "g1", "2-0", "4-0")
    c.execute_command("XCLAIM", "s", "g1", "bob", "0", "1-1", "3-1", "RETRYCOUNT", "5", "TIME", "1700000000000")
    c.execute_command("XDEL", "s", "6-0", "9-1")
    c.execute_command("XGROUP", "CREATE", "empty", "g", "$", "MKSTREAM")


def plain(c):
    """A redis-py client that leaves replies as the server sent them."""
    c.response_callbacks.clear()
    return c


def full_view(c):
    plain(c)
    return c.execute_command("XINFO", "STREAM", "s", "FULL", "COUNT", "0"), \
        c.execute_command("XINFO", "STREAM", "empty", "FULL"), \
        c.execute_command("XPENDING", "s", "g1", "-", "+", "100")[:0] or [x[:2] + x[3:] for x in
                                                                        c.execute_command("XPENDING", "s", "g1", "-", "+", "100")]


def strip_rax_nodes(view):
    """radix-tree-nodes is Redis' rax internals (see the module comment)."""
    def walk(x):
        if isinstance(x, list):
            out = []
            for i, v in enumerate(x):
                out.append("T" if i and x[i - 1] == b"radix-tree-nodes" else walk(v))
            return out
        return x
    return walk(list(view))


@need_redis
def test_rdb_groups_both_ways(tmp_path):
    red = Server(tmp_path / "r1", binary=REDIS)
    try:
        c = red.client()
        fill_groups(c)
        want = strip_rax_nodes(full_view(c))
        c.save()
        d = tmp_path / "c1"
        d.mkdir()
        shutil.copy(os.path.join(red.dir, "dump.rdb"), d / "dump.rdb")
    finally:
        red.stop()
    cs = Server(d, [])
    try:
        cc = cs.client()
        assert strip_rax_nodes(full_view(cc)) == want
        cc.execute_command("XREADGROUP", "GROUP", "g2", "dave", "STREAMS", "s", ">")
        cc.execute_command("XADD", "s", "40-0", "f", "v")
        cc.execute_command("XREADGROUP", "GROUP", "g2", "dave", "STREAMS", "s", ">")
        want2 = strip_rax_nodes(full_view(cc))
        cc.save()
        d2 = tmp_path / "r2"
        d2.mkdir()
        shutil.copy(os.path.join(cs.dir, "dump.rdb"), d2 / "dump.rdb")
    finally:
        cs.stop()
    red2 = Server(d2, binary=REDIS)
    try:
        assert strip_rax_nodes(full_view(red2.client())) == want2
    finally:
        red2.stop()


def test_restart_keeps_groups(server_factory):
    s = server_factory()
    c = s.client()
    fill_groups(c)
    want = full_view(c)
    c.save()
    s.stop()
    s2 = Server(s.dir, [])
    try:
        assert full_view(s2.client()) == want
    finally:
        s2.stop()


@need_redis
def test_dump_restore_groups_both_ways(server, redis_ref):
    cachet, red = plain(server.client()), plain(redis_ref.client())
    for c in (cachet, red):
        c.config_set("rdbcompression", "no")
        fill_groups(c)
    d_cachet, d_redis = cachet.dump("s"), red.dump("s")
    red.restore("from_cachet", 0, d_cachet)
    cachet.restore("from_redis", 0, d_redis)
    for dst, src, key in ((red, cachet, "from_cachet"), (cachet, red, "from_redis")):
        a = dst.execute_command("XINFO", "STREAM", key, "FULL", "COUNT", "0")
        b = src.execute_command("XINFO", "STREAM", "s", "FULL", "COUNT", "0")
        assert strip_rax_nodes([a]) == strip_rax_nodes([b])  # times included: they travel with the PELs
    # COPY and RENAME carry the groups; MEMORY USAGE counts them
    before = cachet.memory_usage("s")
    cachet.execute_command("COPY", "s", "s_copy")
    cachet.rename("s", "s_renamed")
    assert cachet.xinfo_groups("s_copy") == cachet.xinfo_groups("s_renamed")
    cachet.execute_command("XREADGROUP", "GROUP", "g1", "x", "STREAMS", "s_copy", ">")
    assert cachet.xinfo_groups("s_copy") != cachet.xinfo_groups("s_renamed")
    cachet.execute_command("XGROUP", "DESTROY", "s_renamed", "g1")
    assert int(cachet.memory_usage("s_renamed")) < int(before)


def test_restore_rejects_bad_groups(server):
    """A group PEL entry without a consumer, or a consumer PEL entry not in
    its group's PEL, is refused; flipping bytes never crashes (ASan run)."""
    c = server.client()
    c.execute_command("XADD", "s", "1-1", "f", "v")
    c.execute_command("XADD", "s", "2-1", "f", "v")
    c.execute_command("XGROUP", "CREATE", "s", "g", "0")
    c.execute_command("XREADGROUP", "GROUP", "g", "c", "STREAMS", "s", ">")
    d = c.dump("s")
    body = d[:-8]
    refused = 0
    for i in range(len(body) - 60, len(body) - 2):
        for flip in (0x01, 0x80, 0xFF):
            x = bytearray(body)
            x[i] ^= flip
            x = bytes(x) + crc64(bytes(x)).to_bytes(8, "little")
            try:
                c.restore("k", 0, x, replace=True)
            except Exception:  # noqa: BLE001
                refused += 1
                continue
            plain(c).execute_command("XINFO", "STREAM", "k", "FULL")
            try:
                c.execute_command("XPENDING", "k", "g", "-", "+", "10")
            except Exception:  # noqa: BLE001 - the group's name may be the flipped byte
                pass
    assert refused > 0
    assert c.ping()


@need_redis
def test_group_changes_keep_watch(server, redis_ref):
    """Redis 7.0 does not mark the key modified for group operations: a
    WATCH on the stream survives them (XADD does abort it)."""
    ops = [("XREADGROUP", "GROUP", "g", "c", "COUNT", "1", "STREAMS", "s", ">"), ("XACK", "s", "g", "1-1"),
           ("XCLAIM", "s", "g", "d", "0", "2-1"), ("XAUTOCLAIM", "s", "g", "e", "0", "0"),
           ("XGROUP", "CREATECONSUMER", "s", "g", "zz"), ("XGROUP", "DELCONSUMER", "s", "g", "zz"),
           ("XGROUP", "SETID", "s", "g", "0"), ("XGROUP", "CREATE", "s", "g9", "0"), ("XGROUP", "DESTROY", "s", "g9"),
           ("XADD", "s", "3-1", "f", "v")]
    out = []
    for srv in (server, redis_ref):
        a, b = srv.client(), srv.client()
        a.execute_command("XADD", "s", "1-1", "f", "v")
        a.execute_command("XADD", "s", "2-1", "f", "v")
        a.execute_command("XGROUP", "CREATE", "s", "g", "0")
        got = []
        for op in ops:
            p = a.pipeline(transaction=True)
            p.watch("s")
            b.execute_command(*op)
            p.multi()
            p.ping()
            try:
                p.execute()
                got.append("kept")
            except redis.WatchError:
                got.append("aborted")
        out.append(got)
    assert out[0] == out[1]
    assert out[0][-1] == "aborted"


@need_redis
def test_deleted_while_blocked(server, redis_ref):
    """Redis 7.0.15: deleting the key answers XREADGROUP -UNBLOCKED and
    leaves XREAD waiting; a new stream under the name serves XREAD."""
    out = []
    for srv in (server, redis_ref):
        c = srv.client()
        c.execute_command("XGROUP", "CREATE", "s", "g", "$", "MKSTREAM")
        r1, r2 = srv.raw(), srv.raw()
        r2.sendall(cmd("XREAD", "BLOCK", "0", "STREAMS", "s", "$"))  # first in the queue: must not hide r1
        wait_until(lambda: c.info("clients")["blocked_clients"] == 1, what="XREAD to block")
        r1.sendall(cmd("XREADGROUP", "GROUP", "g", "c", "BLOCK", "0", "STREAMS", "s", ">"))
        wait_until(lambda: c.info("clients")["blocked_clients"] == 2, what="both to block")
        c.delete("s")
        c.execute_command("SET", "s", "not a stream")
        c.delete("s")
        still = c.info("clients")["blocked_clients"]
        c.execute_command("XADD", "s", "7-7", "f", "v")
        out.append((still, Reader(r1).read(), Reader(r2).read()))
    assert out[0] == out[1]
    assert out[0][0] == 1 and out[0][1] == (b"-", b"UNBLOCKED the stream key no longer exists")


@need_redis
@pytest.mark.parametrize("how", [("SET", "s", "x"), ("RENAME", "s", "t"), ("RESTORE", "s", "0", None, "REPLACE"),
                                 ("EXPIRE", "s", "0"), ("FLUSHALL",)])
def test_stream_replaced_while_blocked(server, redis_ref, how):
    out = []
    for srv in (server, redis_ref):
        c = srv.client()
        c.execute_command("XGROUP", "CREATE", "s", "g", "$", "MKSTREAM")
        c.execute_command("RPUSH", "l", "a")
        args = [c.dump("l") if a is None else a for a in how]
        r1 = srv.raw()
        r1.sendall(cmd("XREADGROUP", "GROUP", "g", "c", "BLOCK", "0", "STREAMS", "s", ">"))
        wait_until(lambda: c.info("clients")["blocked_clients"] == 1, what="XREADGROUP to block")
        c.execute_command(*args)
        c.execute_command("XADD", "s2", "1-1", "f", "v")  # a command after: served by then
        still = c.info("clients")["blocked_clients"]
        out.append((still, Reader(r1).read() if still == 0 else None))
        r1.close()
    assert out[0] == out[1]
