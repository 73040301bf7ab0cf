"""Replication helpers shared by the test_repl_* files: INFO replication,
waiting until a replica reached its primary's offset, a key-by-key dataset
comparison (TYPE, value, PEXPIRETIME exact) and a seeded random write load
of every data type in a thread."""
import random
import threading

import redis

from conftest import wait_until


def info(c, section="replication"):
    return c.info(section)


def wait_in_sync(p, r, timeout=30):
    def same():
        pi, ri = info(p), info(r)
        return ri.get("master_link_status") == "up" and ri["master_repl_offset"] == pi["master_repl_offset"]
    wait_until(same, timeout=timeout, interval=0.05, what="the replica to reach the primary's offset")


def dump_db(c):
    out = {}
    for k in c.keys("*"):
        t = c.type(k)
        if t == b"string":
            v = c.get(k)
        elif t == b"list":
            v = c.lrange(k, 0, -1)
        elif t == b"hash":
            v = c.hgetall(k)
        elif t == b"set":
            v = sorted(c.smembers(k))
        elif t == b"zset":
            v = c.zrange(k, 0, -1, withscores=True)
        elif t == b"stream":
            v = c.xrange(k)
        else:
            v = None
        out[k] = (t, v, c.execute_command("PEXPIRETIME", k))  # absolute: comparable at any moment
    return out


def compare(p, r, dbs=(0, 1)):
    for db in dbs:
        pc = redis.Redis(port=p.port, db=db)
        rc = redis.Redis(port=r.port, db=db)
        try:
            a, b = dump_db(pc), dump_db(rc)
        finally:
            pc.close()
            rc.close()
        assert set(a) == set(b), f"db {db}: keys differ: only primary {set(a) - set(b)}, only replica {set(b) - set(a)}"
        for k in a:
            ta, va, pa = a[k]
            tb, vb, pb = b[k]
            assert (ta, va) == (tb, vb), f"db {db} key {k!r}: {ta} {va!r} != {tb} {vb!r}"
            # Expiry times travel as absolute times (PXAT, PEXPIREAT, the RDB): they
            # must be equal to the millisecond.
            assert pa == pb, f"db {db} key {k!r}: pexpiretime {pa} vs {pb}"


class Load:
    """A seeded random write load of every type, in a thread, against db 0
    and db 1 (so SELECT shows up in the stream)."""

    def __init__(self, port, seed):
        self.rnd = random.Random(seed)
        self.c = redis.Redis(port=port)
        self.stop_ev = threading.Event()
        self.errors = []
        self.ops = 0
        self.thread = threading.Thread(target=self.run, daemon=True)

    def one(self):
        rnd, c = self.rnd, self.c
        k = f"k{rnd.randrange(200)}"
        op = rnd.randrange(16)
        c.execute_command("SELECT", rnd.choice((0, 0, 0, 1)))
        try:
            if op == 0:
                c.set("s:" + k, rnd.randbytes(rnd.randrange(1, 40)))
            elif op == 1:
                c.set("t:" + k, rnd.randbytes(8), ex=rnd.randrange(100, 1000))
            elif op == 2:
                c.set("t:" + k, "x", px=rnd.randrange(100000, 900000))
            elif op == 3:
                c.rpush("l:" + k, *[rnd.randrange(1000) for _ in range(rnd.randrange(1, 5))])
            elif op == 4:
                c.lpop("l:" + k)
            elif op == 5:
                c.hset("h:" + k, mapping={f"f{rnd.randrange(20)}": rnd.randrange(1000)})
            elif op == 6:
                c.sadd("set:" + k, *[rnd.randrange(100) for _ in range(rnd.randrange(1, 6))])
            elif op == 7:
                c.spop("set:" + k, rnd.choice((None, 2)))
            elif op == 8:
                c.zadd("z:" + k, {f"m{rnd.randrange(50)}": rnd.random() * 100})
            elif op == 9:
                c.xadd("x:" + k, {"a": rnd.randrange(100)}, maxlen=rnd.choice((None, 5)), approximate=False)
            elif op == 10:
                c.incrbyfloat("f:" + k, rnd.random())
            elif op == 11:
                c.expire("s:" + k, rnd.randrange(100, 1000))
            elif op == 12:
                p = c.pipeline(transaction=True)
                p.incr("n:" + k)
                p.hincrbyfloat("h:" + k, "fl", 0.5)
                p.rpush("l:" + k, "m")
                p.execute()
            elif op == 13:
                c.eval("redis.call('set', KEYS[1], ARGV[1]); redis.call('spop', KEYS[2]); "
                       "return redis.call('incr', KEYS[3])", 3, "e:" + k, "set:" + k, "n:" + k, rnd.randrange(99))
            elif op == 14:
                c.getdel("s:" + k)
            else:
                c.zpopmin("z:" + k)
        except redis.ResponseError as e:
            if "WRONGTYPE" not in str(e):
                self.errors.append(e)
        self.ops += 1

    def run(self):
        while not self.stop_ev.is_set():
            self.one()

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.stop_ev.set()
        self.thread.join(30)
        self.c.close()
        assert not self.errors, self.errors
