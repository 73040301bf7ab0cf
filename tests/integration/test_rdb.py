"""RDB snapshots on the wire, against Debian's redis-server 7.0 as the reference.

What a user relies on: a dump.rdb written by Cachet loads into Redis 7.0 with
every key, type, value and TTL intact, and one written by Redis loads into
Cachet; a restart or DEBUG RELOAD keeps the data; DUMP payloads move between
the two servers both ways, and RESTORE answers every bad input with Redis'
exact error; a truncated or corrupt file at start-up is refused (non-zero
exit, never serves, the log names the offset or reason, the file untouched);
LASTSAVE and INFO persistence track SAVE.

Every comparison goes through one helper (dataset_of + assert_same_data):
TYPE, the whole value, PTTL within a tolerance, and DBSIZE for all 16 dbs.
test_compare_helper_* validate that helper with Redis on both sides.

Set RDBTEST_TARGET=redis to run the whole file with redis-server in Cachet's
place: that checks the tests themselves encode Redis' behaviour (log wording
is then not checked, since Redis words its messages its own way).
"""
import os
import random
import re
import shutil
import socket
import subprocess
import time

import pytest
import redis

from conftest import SANITIZER_MARKERS, SERVER_BIN, Server, cmd, free_port, resp_exchange, wait_until

REFERENCE_MODE = os.environ.get("RDBTEST_TARGET") == "redis"
TTL_TOLERANCE_MS = 15000   # TTLs in the dataset are >= 1 h; this covers the test's own run time
MARKER = b"MARKER-q7Zp2Lk9Xw4Rt8Vb1Nc6Hy3J"   # not LZF-compressible: stored verbatim in the file


# ---------------------------------------------------------------- processes

def _redis_ready(srv):
    # PING answers -LOADING while a file loads; DBSIZE only works after.
    c = redis.Redis(host="127.0.0.1", port=srv.port, socket_timeout=2)
    try:
        c.dbsize()
        return True
    finally:
        c.close()


def RedisServer(directory, dbfilename="dump.rdb", args=()):
    """Debian's redis-server on a free port in its own directory, no save
    schedule, no AOF; a conftest.Server, so stopped by PID like the rest."""
    return Server(directory, ["--save", "", "--appendonly", "no", "--dbfilename", dbfilename, "--daemonize", "no",
                              "--enable-debug-command", "yes"] + list(args),
                  binary="redis-server", ready=_redis_ready, ready_timeout=20, client_timeout=20)


@pytest.fixture
def procs(tmp_path):
    """Starts redis-server (procs.redis) and cachet-server (procs.cachet) in
    directories of the test's tmp dir; everything is stopped by PID at
    teardown, even when the test fails, and a sanitizer report in a Cachet
    log fails the test."""

    class Procs:
        def __init__(self):
            self.started = []
            self.n = 0

        def newdir(self, name):
            self.n += 1
            d = tmp_path / f"{name}{self.n}"
            d.mkdir()
            return d

        def redis(self, directory=None, args=()):
            s = RedisServer(directory or self.newdir("redis"), args=args)
            self.started.append(s)
            return s

        def cachet(self, directory=None, args=()):
            d = directory or self.newdir("cachet")
            if REFERENCE_MODE:
                s = RedisServer(d, args=args)
            else:
                # DEBUG RELOAD below: DEBUG is off by default, as in Redis 7.0.
                s = Server(d, ("--save", "", "--appendonly", "no", "--enable-debug-command", "yes") + tuple(args))
            self.started.append(s)
            return s

    p = Procs()
    yield p
    reports = []
    for s in p.started:
        s.stop()
        rep = s.sanitizer_report()
        if rep:
            reports.append(rep)
    if reports:
        pytest.fail("sanitizer report in server log:\n" + "\n".join(reports))


def cachet_argv(port, directory):
    if REFERENCE_MODE:
        return ["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
                "--dir", str(directory), "--dbfilename", "dump.rdb", "--daemonize", "no",
                "--enable-debug-command", "yes"]
    return [SERVER_BIN, "--port", str(port), "--bind", "127.0.0.1", "--dir", str(directory),
            "--save", "", "--appendonly", "no"]


# ---------------------------------------------------------------- dataset

def _rand_bytes(n, seed):
    return random.Random(seed).randbytes(n)


def dataset_commands():
    """{db: [command, ...]}: every type in every encoding Redis 7.0 (and
    Cachet) uses, awkward strings and scores, TTLs, and dbs 0, 3 and 15."""
    c0 = [
        ("SET", "str:short", "hello"),
        ("SET", "str:empty", ""),
        ("SET", "str:int", "12345"),
        ("SET", "str:negint", "-987654321"),
        ("SET", "str:int64max", "9223372036854775807"),
        ("SET", "str:int64min", "-9223372036854775808"),
        ("SET", "str:notint-big", "92233720368547758070"),
        ("SET", "str:notint-zero", "007"),
        ("SET", "str:notint-plus", "+5"),
        ("SET", "str:long-compressible", "abc" * 40),
        ("SET", "str:binary", b"\x00\r\n\xff\x00bin\r\n\x01\x02" + MARKER[:4]),
        ("SET", "str:marker", MARKER),
        ("SET", "str:1mb-random", _rand_bytes(1 << 20, 1)),
        ("SET", "str:1mb-zeros", b"\x00" * (1 << 20)),
        ("SET", b"key\x00with\r\nbinary\xff", "binary key name"),
        ("SET", "shared", "db0"),
        ("RPUSH", "list:small", "a", "1", "-2", "bb", "", "9223372036854775807"),
        ("RPUSH", "list:large", *[str(i) if i % 2 else f"item-{i}" for i in range(300)]),
        ("RPUSH", "list:bigitems", *[f"big-{i}-" + "x" * 100 for i in range(20)]),
        ("RPUSH", "list:multinode", *[f"{i}:" + "y" * 10000 for i in range(40)]),
        ("SADD", "set:int", "1", "2", "3", "-5", str(2 ** 40), str(-2 ** 63), str(2 ** 63 - 1)),
        ("SADD", "set:small", "a", "b", "c", ""),
        ("SADD", "set:mixed", "1", "a", "2.5"),
        ("SADD", "set:bigint", *[str(i * 7) for i in range(600)]),
        ("SADD", "set:large", *[f"member-{i}" for i in range(300)]),
        ("HSET", "hash:small", "f1", "v1", "f2", "12", "", "empty-field", "empty-value", ""),
        ("HSET", "hash:large", *[x for i in range(600) for x in (f"field-{i}", f"value-{i}")]),
        ("HSET", "hash:longval", "f", "v" * 100, "g", "short"),
        ("ZADD", "zset:small", "1", "a", "-2.5", "b", "0.125", "c", "inf", "d", "-inf", "e",
         "0.1", "f", "1e300", "g", "0.33333333333333331", "h", "-17", "i"),
        ("ZADD", "zset:large", *[x for i in range(200) for x in (str(i * 1.5 - 100), f"m{i}")]),
        ("ZADD", "zset:longmember", "1", "m" * 100, "2", "short", "-inf", "low"),
        ("ZADD", "zset:inf-skiplist", *[x for i in range(150) for x in (("inf", "-inf", "0.1")[i % 3], f"n{i}")]),
        ("SET", "ttl:str", "expiring", "PX", "3600000"),
        ("HSET", "ttl:hash", "a", "1"),
        ("PEXPIRE", "ttl:hash", "7200000"),
        ("ZADD", "ttl:zset", *[x for i in range(200) for x in (str(i), f"z{i}")]),
        ("EXPIRE", "ttl:zset", "86400"),
        ("RPUSH", "ttl:list", "x", "y"),
        ("PEXPIREAT", "ttl:list", "4102444800000"),   # 2100-01-01
        ("SADD", "ttl:set", "1", "2"),
        ("EXPIRE", "ttl:set", "5000"),
    ]
    c3 = [
        ("SET", "shared", "db3"),
        ("SET", "db3:str", "three", "EX", "9000"),
        ("RPUSH", "db3:list", "a", "b", "c"),
        ("SADD", "db3:set", "5", "6"),
        ("ZADD", "db3:zset", "3", "x"),
    ]
    c15 = [
        ("SET", "shared", "db15"),
        ("HSET", "db15:hash", "k", "v" * 80),
        ("SET", "db15:int", "-1"),
        ("PEXPIRE", "db15:int", "4000000"),
    ]
    return {0: c0, 3: c3, 15: c15}


# The (type, encoding) pairs the dataset must produce on Redis 7.0 (and on
# Cachet, which mirrors its encodings): proof each encoder/decoder is exercised.
EXPECTED_ENCODINGS = {
    ("string", "int"), ("string", "embstr"), ("string", "raw"),
    ("list", "quicklist"),
    ("set", "intset"), ("set", "hashtable"),
    ("hash", "listpack"), ("hash", "hashtable"),
    ("zset", "listpack"), ("zset", "skiplist"),
}


def fill(srv, dbs=(0, 3, 15)):
    for db, cmds in dataset_commands().items():
        if db not in dbs:
            continue
        c = srv.client(db=db)
        p = c.pipeline(transaction=False)
        for command in cmds:
            p.execute_command(*command)
        for reply in p.execute(raise_on_error=True):
            assert reply is not False
        c.close()


def encodings_of(srv, db=0):
    c = srv.client(db=db)
    seen = set()
    for k in c.scan_iter(count=1000):
        seen.add((c.type(k).decode(), c.object("encoding", k).decode()))
    return seen


def dataset_of(srv, dbs=range(16)):
    """{db: (dbsize, {key: (type, value, pttl)})} read over the wire."""
    out = {}
    for db in dbs:
        c = redis.Redis(host="127.0.0.1", port=srv.port, db=db, socket_timeout=20)
        try:
            size = c.dbsize()
            entries = {}
            for k in set(c.scan_iter(count=1000)):
                t = c.type(k).decode()
                if t == "string":
                    v = c.get(k)
                elif t == "list":
                    v = c.execute_command("LRANGE", k, 0, -1)
                elif t == "set":
                    v = frozenset(c.smembers(k))
                elif t == "hash":
                    v = c.hgetall(k)
                elif t == "zset":
                    # raw reply: the score strings must match byte for byte
                    v = c.execute_command("ZRANGE", k, 0, -1, "WITHSCORES")
                else:
                    v = ("unexpected type", t)
                entries[k] = (t, v, c.pttl(k))
            out[db] = (size, entries)
        finally:
            c.close()
    return out


def _short(v):
    s = repr(v)
    return s if len(s) < 200 else s[:200] + f"...({len(s)} chars)"


def data_differences(a, b, tol_ms=TTL_TOLERANCE_MS):
    """Human-readable differences between two dataset_of() results."""
    diffs = []
    for db in sorted(set(a) | set(b)):
        (na, ea), (nb, eb) = a.get(db, (0, {})), b.get(db, (0, {}))
        if na != nb:
            diffs.append(f"db{db}: DBSIZE {na} != {nb}")
        for k in sorted(set(ea) - set(eb)):
            diffs.append(f"db{db}: key {k!r} only in the first")
        for k in sorted(set(eb) - set(ea)):
            diffs.append(f"db{db}: key {k!r} only in the second")
        for k in sorted(set(ea) & set(eb)):
            (ta, va, pa), (tb, vb, pb) = ea[k], eb[k]
            if ta != tb:
                diffs.append(f"db{db}: {k!r} TYPE {ta} != {tb}")
            elif va != vb:
                diffs.append(f"db{db}: {k!r} value {_short(va)} != {_short(vb)}")
            if (pa < 0 or pb < 0) and pa != pb:
                diffs.append(f"db{db}: {k!r} PTTL {pa} != {pb}")
            elif pa >= 0 and pb >= 0 and abs(pa - pb) > tol_ms:
                diffs.append(f"db{db}: {k!r} PTTL {pa} vs {pb} (more than {tol_ms} ms apart)")
    return diffs


def assert_same_data(a, b, what, tol_ms=TTL_TOLERANCE_MS):
    diffs = data_differences(a, b, tol_ms)
    assert not diffs, f"{what}: {len(diffs)} differences:\n" + "\n".join(diffs[:40])


def assert_full_dataset(d):
    """The dataset really is there (guards against comparing two empties)."""
    assert d[0][0] == len(dataset_commands()[0]) - 4  # 4 EXPIRE-family commands create no key
    assert d[3][0] == 5 and d[15][0] == 3
    assert all(d[db][0] == 0 for db in d if db not in (0, 3, 15))


def copy_dump(src_srv, dst_dir):
    src = os.path.join(src_srv.dir, "dump.rdb")
    assert os.path.exists(src), f"no dump.rdb in {src_srv.dir}"
    shutil.copyfile(src, os.path.join(str(dst_dir), "dump.rdb"))


def raw_reply(srv, *args):
    """One command over a fresh raw socket; the reply's exact bytes."""
    s = srv.raw()
    try:
        return resp_exchange(s, cmd(*args), timeout=10)
    finally:
        s.close()


def info_field(srv, section, field):
    c = srv.client(decode_responses=True)
    c.set_response_callback("INFO", lambda r, **kw: r)   # the raw text, as a user's parser sees it
    text = c.execute_command("INFO", section)
    m = re.search(rf"^{field}:(.*?)\r?$", text, re.M)
    assert m, f"INFO {section} has no {field}:\n{text}"
    return m.group(1)


# ---------------------------------------------------------------- CRC-64 (Redis' Jones polynomial)

def _crc64_table():
    poly = 0x95AC9329AC4BC9B5   # reflected 0xad93d23594c935a9
    table = []
    for i in range(256):
        crc = i
        for _ in range(8):
            crc = (crc >> 1) ^ poly if crc & 1 else crc >> 1
        table.append(crc)
    return table


_CRC_TABLE = _crc64_table()


def crc64(data, crc=0):
    for b in data:
        crc = _CRC_TABLE[(crc ^ b) & 0xFF] ^ (crc >> 8)
    return crc


def dump_payload(body, version=10):
    """A DUMP payload: body, 2-byte RDB version, CRC-64 of both (LE)."""
    head = body + version.to_bytes(2, "little")
    return head + crc64(head).to_bytes(8, "little")


def test_crc64_matches_redis():
    assert crc64(b"123456789") == 0xE9C6D914C4B8D9CA


# ---------------------------------------------------------------- the compare helper itself

def test_compare_helper_redis_to_redis(procs):
    """Redis SAVE -> Redis load compares equal; one changed value, TTL,
    type or missing key is reported."""
    a = procs.redis()
    fill(a)
    assert a.client().save()
    before = dataset_of(a)
    assert_full_dataset(before)
    assert EXPECTED_ENCODINGS <= encodings_of(a)
    d = procs.newdir("redis-copy")
    copy_dump(a, d)
    b = procs.redis(d)
    after = dataset_of(b)
    assert_same_data(before, after, "redis -> redis")

    cb = b.client()
    cb.zadd("zset:small", {"a": 1.0000000000000002})
    cb.pexpire("str:short", 50_000_000)
    cb.delete("set:int")
    cb.sadd("set:int", "1")
    cb.delete("hash:small")
    cb.set("hash:small", "x")
    diffs = data_differences(before, dataset_of(b))
    text = "\n".join(diffs)
    assert "'zset:small' value" in text
    assert "'str:short' PTTL" in text
    assert "'set:int' value" in text
    assert "'hash:small' TYPE" in text
    redis.Redis(host="127.0.0.1", port=b.port, db=3).delete("db3:list")
    assert any("db3: DBSIZE" in x for x in data_differences(before, dataset_of(b)))


# ---------------------------------------------------------------- 1. Cachet -> Redis

def test_cachet_snapshot_loads_into_redis(procs):
    c = procs.cachet()
    fill(c)
    assert EXPECTED_ENCODINGS <= encodings_of(c), "Cachet did not use every encoding for the dataset"
    before = dataset_of(c)
    assert_full_dataset(before)
    assert raw_reply(c, "SAVE") == b"+OK\r\n"
    d = procs.newdir("redis-from-cachet")
    copy_dump(c, d)
    r = procs.redis(d)
    assert_same_data(before, dataset_of(r), "cachet SAVE -> redis-server load")
    # Redis loaded it into the encodings it would choose itself.
    assert EXPECTED_ENCODINGS <= encodings_of(r)


# ---------------------------------------------------------------- 2. Redis -> Cachet

def test_redis_snapshot_loads_into_cachet(procs):
    r = procs.redis()
    fill(r)
    # Every encoding Redis writes actually occurs in the file.
    assert EXPECTED_ENCODINGS <= encodings_of(r)
    assert r.client().save()
    before = dataset_of(r)
    assert_full_dataset(before)
    d = procs.newdir("cachet-from-redis")
    copy_dump(r, d)
    c = procs.cachet(d)
    assert_same_data(before, dataset_of(c), "redis-server SAVE -> cachet load")
    assert EXPECTED_ENCODINGS <= encodings_of(c)
    # The loaded data is live: writes to loaded values work as usual.
    cc = c.client()
    assert cc.rpush("list:large", "new") == 301
    assert cc.sadd("set:int", "99") == 1
    assert cc.hincrby("hash:small", "f2", 1) == 13
    assert cc.zscore("zset:small", "d") == float("inf")
    assert cc.incr("str:int") == 12346


@pytest.mark.parametrize("opts", [("--list-compress-depth", "1"), ("--rdbcompression", "no"),
                                  ("--rdbchecksum", "no")], ids=["compressed-list-nodes", "no-lzf", "no-crc"])
def test_file_options_both_ways(procs, opts):
    """Files written with LZF-compressed quicklist nodes, without LZF, or
    without the CRC (zero trailer) load on the other side, both ways."""
    r = procs.redis(args=opts)
    fill(r, dbs=(0,))
    r.client().rpush("clist", *[f"{i}-" + "abcdefgh" * 50 for i in range(400)])
    assert r.client().save()
    before = dataset_of(r, dbs=[0])
    d = procs.newdir("cachet-from-redis")
    copy_dump(r, d)
    c = procs.cachet(d, args=opts)
    assert_same_data(before, dataset_of(c, dbs=[0]), f"redis {opts} -> cachet")
    assert raw_reply(c, "SAVE") == b"+OK\r\n"
    if opts[0] == "--rdbchecksum":
        with open(os.path.join(c.dir, "dump.rdb"), "rb") as f:
            assert f.read()[-8:] == b"\0" * 8, "rdbchecksum no: the trailer is zero, as Redis writes it"
    d2 = procs.newdir("redis-from-cachet")
    copy_dump(c, d2)
    assert_same_data(before, dataset_of(procs.redis(d2, args=opts), dbs=[0]), f"cachet {opts} -> redis")


@pytest.mark.parametrize("policy", ["allkeys-lru", "allkeys-lfu"])
def test_snapshots_with_lru_lfu_info_load_both_ways(procs, policy):
    """Under an LRU/LFU policy both servers store each key's idle time or
    frequency in the file (IDLE/FREQ opcodes): the other side must load it."""
    args = ("--maxmemory-policy", policy)
    r = procs.redis(args=args)
    fill(r, dbs=(0, 3))
    assert r.client().save()
    before = dataset_of(r)
    d = procs.newdir("cachet-from-redis")
    copy_dump(r, d)
    c = procs.cachet(d, args=args)
    assert_same_data(before, dataset_of(c), f"redis ({policy}) -> cachet")
    assert raw_reply(c, "SAVE") == b"+OK\r\n"
    d2 = procs.newdir("redis-from-cachet")
    copy_dump(c, d2)
    assert_same_data(before, dataset_of(procs.redis(d2, args=args)), f"cachet ({policy}) -> redis")


def test_dbfilename_and_dir_are_used(procs):
    """A file under another name is loaded with --dbfilename; SAVE writes
    to the configured dir/dbfilename (also after CONFIG SET)."""
    r = procs.redis()
    fill(r, dbs=(3,))
    assert r.client().save()
    before = dataset_of(r, dbs=[3])
    d = procs.newdir("cachet-named")
    shutil.copyfile(os.path.join(r.dir, "dump.rdb"), os.path.join(str(d), "backup-2026.rdb"))
    c = procs.cachet(d, args=("--dbfilename", "backup-2026.rdb", "--enable-protected-configs", "yes"))
    assert_same_data(before, dataset_of(c, dbs=[3]), "--dbfilename backup-2026.rdb")
    cl = c.client(decode_responses=True)
    cl.execute_command("SELECT", 3)
    cl.set("new", "1")
    assert raw_reply(c, "SAVE") == b"+OK\r\n"
    assert not os.path.exists(os.path.join(str(d), "dump.rdb"))
    other = procs.newdir("elsewhere")
    assert cl.config_set("dir", str(other))
    assert cl.config_set("dbfilename", "moved.rdb")
    assert cl.execute_command("SAVE") is True
    assert sorted(f for f in os.listdir(str(other)) if not f.endswith(".log")) == ["moved.rdb"]
    shutil.copyfile(os.path.join(str(other), "moved.rdb"), os.path.join(str(other), "dump.rdb"))
    os.remove(os.path.join(str(other), "moved.rdb"))
    r2 = procs.redis(other)
    assert redis.Redis(host="127.0.0.1", port=r2.port, db=3).get("new") == b"1"
    assert redis.Redis(host="127.0.0.1", port=r2.port, db=3).dbsize() == before[3][0] + 1


# ---------------------------------------------------------------- 3. restart

def test_restart_keeps_data(procs):
    c = procs.cachet()
    fill(c)
    assert raw_reply(c, "SAVE") == b"+OK\r\n"
    before = dataset_of(c)
    assert_full_dataset(before)
    c.stop()
    c2 = procs.cachet(c.dir)
    assert_same_data(before, dataset_of(c2), "cachet SAVE, stop, start")
    assert info_field(c2, "persistence", "rdb_changes_since_last_save") == "0"


def _expired_at_load(procs, writer):
    """writer is a started server: a key that expires between SAVE and the
    next start, next to keys that stay. Returns (dir with dump.rdb, expiry ms)."""
    cw = writer.client()
    cw.set("stays", "1")
    cw.set("stays-ttl", "2", ex=3600)
    cw.set("goes", "x", px=1500)
    cw.hset("goes-hash", "f", "v")
    cw.pexpire("goes-hash", 1500)
    deadline = time.time() + 1.5
    assert cw.save()
    assert cw.exists("goes", "goes-hash") == 2, "keys expired before SAVE: machine too slow"
    writer.stop()
    wait_until(lambda: time.time() > deadline + 0.1, timeout=5, what="the keys' expiry")
    return deadline


def _assert_expired_not_loaded(srv):
    cl = srv.client()
    assert cl.dbsize() == 2          # not counted: never loaded, not just lazily hidden
    assert sorted(cl.keys("*")) == [b"stays", b"stays-ttl"]
    assert cl.exists("goes", "goes-hash") == 0
    assert info_field(srv, "keyspace", "db0").startswith("keys=2,expires=1")
    assert info_field(srv, "persistence", "rdb_last_load_keys_loaded") == "2"
    assert info_field(srv, "persistence", "rdb_last_load_keys_expired") == "2"


def test_restart_does_not_load_expired_keys(procs):
    c = procs.cachet()
    _expired_at_load(procs, c)
    _assert_expired_not_loaded(procs.cachet(c.dir))


def test_redis_file_expired_keys_not_loaded(procs):
    r = procs.redis()
    _expired_at_load(procs, r)
    d = procs.newdir("cachet-from-redis")
    copy_dump(r, d)
    _assert_expired_not_loaded(procs.cachet(d))


# ---------------------------------------------------------------- 4. DEBUG RELOAD

def test_debug_reload_keeps_every_key_and_ttl(procs):
    c = procs.cachet()
    fill(c)
    before = dataset_of(c)
    assert raw_reply(c, "DEBUG", "RELOAD") == b"+OK\r\n"
    after = dataset_of(c)
    assert_full_dataset(after)
    assert_same_data(before, after, "DEBUG RELOAD")
    assert os.path.exists(os.path.join(c.dir, "dump.rdb"))   # as Redis: reload saves first
    assert info_field(c, "persistence", "rdb_changes_since_last_save") == "0"


# ---------------------------------------------------------------- 5. DUMP / RESTORE

def _move_by_dump(src, dst, db=0):
    cs, cd = src.client(db=db), dst.client(db=db)
    n = 0
    for k in cs.scan_iter(count=1000):
        payload = cs.dump(k)
        assert payload is not None
        pttl = cs.pttl(k)
        assert cd.restore(k, max(pttl, 0), payload) == b"OK", k
        n += 1
    return n


def test_dump_from_cachet_restores_into_redis(procs):
    c, r = procs.cachet(), procs.redis()
    fill(c, dbs=(0,))
    before = dataset_of(c, dbs=[0])
    assert _move_by_dump(c, r) == before[0][0]
    assert_same_data(before, dataset_of(r, dbs=[0]), "cachet DUMP -> redis RESTORE")


def test_dump_from_redis_restores_into_cachet(procs):
    c, r = procs.cachet(), procs.redis()
    fill(r, dbs=(0,))
    before = dataset_of(r, dbs=[0])
    assert _move_by_dump(r, c) == before[0][0]
    assert_same_data(before, dataset_of(c, dbs=[0]), "redis DUMP -> cachet RESTORE")
    assert EXPECTED_ENCODINGS <= encodings_of(c)


def test_dump_missing_key_is_nil(procs):
    c, r = procs.cachet(), procs.redis()
    assert raw_reply(c, "DUMP", "nosuchkey") == raw_reply(r, "DUMP", "nosuchkey") == b"$-1\r\n"


def test_restore_replace(procs):
    c, r = procs.cachet(), procs.redis()
    rc = r.client()
    rc.rpush("src", "a", "b")
    payload = rc.dump("src")
    for srv in (c, r):
        cl = srv.client()
        cl.set("k", "old", ex=100)
        with pytest.raises(redis.ResponseError, match="^BUSYKEY Target key name already exists.$"):
            cl.restore("k", 0, payload)
        assert cl.get("k") == b"old"
        assert cl.restore("k", 0, payload, replace=True) == b"OK"
        assert cl.lrange("k", 0, -1) == [b"a", b"b"]
        assert cl.pttl("k") == -1        # the old TTL went with the old value
        assert cl.restore("k", 5000, payload, replace=True) == b"OK"
        assert 0 < cl.pttl("k") <= 5000


def test_restore_absttl(procs):
    c, r = procs.cachet(), procs.redis()
    rc = r.client()
    rc.set("x", "value")
    payload = rc.dump("x")
    for srv in (c, r):
        cl = srv.client()
        at = int(time.time() * 1000) + 100_000
        assert cl.restore("abs", at, payload, absttl=True) == b"OK"
        assert 90_000 < cl.pttl("abs") <= 100_000
        # An absolute time in the past: +OK and no key (Redis: already expired).
        cl.set("old", "v")
        assert raw_reply(srv, "RESTORE", "past", "1000", payload, "ABSTTL") == b"+OK\r\n"
        assert cl.exists("past") == 0
        assert raw_reply(srv, "RESTORE", "old", "1000", payload, "ABSTTL", "REPLACE") == b"+OK\r\n"
        assert cl.exists("old") == 0     # REPLACE with a past time deletes the old key


def test_restore_idletime_and_freq(procs):
    c, r = procs.cachet(), procs.redis()
    rc = r.client()
    rc.set("x", "value")
    payload = rc.dump("x")
    for srv in (c, r):
        cl = srv.client()
        assert cl.restore("idle", 0, payload, idletime=1000) == b"OK"
        assert 1000 <= cl.object("idletime", "idle") <= 1010
        assert cl.config_set("maxmemory-policy", "allkeys-lfu")
        assert cl.restore("hot", 0, payload, frequency=100) == b"OK"
        assert cl.object("freq", "hot") == 100
        assert cl.config_set("maxmemory-policy", "noeviction")


def test_overwrite_keeps_the_lfu_counter_as_redis(procs):
    """Under an LFU policy a key SET again (in place or as a new entry, or
    by INCRBYFLOAT) keeps its access counter, as Redis 7.0's dbOverwrite
    does: a hot key stays hot. Compared with redis-server in one run."""
    got = []
    for srv in (procs.cachet(), procs.redis()):
        cl = srv.client()
        assert cl.config_set("maxmemory-policy", "allkeys-lfu")
        assert cl.config_set("lfu-log-factor", 0)  # every access counts one
        cl.set("k", "v1")
        for _ in range(40):
            cl.get("k")
        row = [cl.object("freq", "k")]
        cl.set("k", "v2")                 # same size: Cachet rewrites in place
        row.append(cl.object("freq", "k"))
        cl.set("k", "x" * 300)           # another size: a new entry
        row.append(cl.object("freq", "k"))
        cl.set("n", "1.5")
        for _ in range(10):
            cl.get("n")
        cl.incrbyfloat("n", 1)
        row.append(cl.object("freq", "n"))
        cl.set("fresh", "v")
        row.append(cl.object("freq", "fresh"))
        got.append(row)
    assert got[0][0] >= 40 and got[0][2] >= got[0][0]
    assert got[0] == got[1]


def _bad_body_payloads(valid_str_payload):
    body = valid_str_payload[:-10]
    return {
        # A string claiming 1000 bytes in a 20-byte payload. (Redis reads a
        # short overrun into the footer, so the claim must exceed the footer too.)
        "valid-crc-bad-body": dump_payload(b"\x00\x43\xe8abc"),
        "valid-crc-unknown-type": dump_payload(b"\x63\x01a"),        # RDB type 99
        # 12: newer than anything either server reads. (Cachet deliberately
        # also reads Redis 7.2's version 11, which Redis 7.0 refuses.)
        "version-too-new": dump_payload(body, version=12),
        "flipped-crc": valid_str_payload[:-1] + bytes([valid_str_payload[-1] ^ 1]),
        "flipped-body": bytes([body[0]]) + bytes([body[1] ^ 0x40]) + valid_str_payload[2:],
        "too-short": b"\x00\x01",
        "empty": b"",
        "trailing-garbage": valid_str_payload + b"x",
        "valid-crc-trailing-byte-in-body": dump_payload(body + b"\x00"),
        # Empty collections: no such key may exist.
        "empty-set": dump_payload(b"\x02\x00"),
        "empty-hash": dump_payload(b"\x04\x00"),
        "empty-zset": dump_payload(b"\x05\x00"),
        "empty-quicklist": dump_payload(b"\x12\x00"),
        "empty-hash-listpack": dump_payload(b"\x10" + _rdb_str(b"\x07\x00\x00\x00\x00\x00\xff")),
    }


def test_restore_errors_match_redis(procs):
    """Every bad RESTORE gets Redis 7.0's exact reply, and creates nothing."""
    c, r = procs.cachet(), procs.redis()
    rc = r.client()
    rc.set("x", "some value")
    good = rc.dump("x")
    assert good[-10:-8] == b"\x0a\x00" and crc64(good[:-8]) == int.from_bytes(good[-8:], "little")
    cases = [
        ("busy", "exists", "0", good),
        ("busy-before-ttl-check", "exists", "-1", good),
        ("busy-before-payload-check", "exists", "0", b"garbage"),
        ("negative-ttl", "new", "-1", good),
        ("ttl-not-int", "new", "abc", good),
        ("ttl-float", "new", "1.5", good),
        ("ttl-negative-before-payload", "new", "-5", b"garbage"),
        ("garbage-payload", "new", "0", b"garbage"),
        ("syntax-unknown-option", "new", "0", good, "BOGUS"),
        ("syntax-idletime-no-arg", "new", "0", good, "IDLETIME"),
        ("syntax-freq-no-arg", "new", "0", good, "FREQ"),
        ("idletime-negative", "new", "0", good, "IDLETIME", "-1"),
        ("idletime-not-int", "new", "0", good, "IDLETIME", "x"),
        ("freq-too-big", "new", "0", good, "FREQ", "256"),
        ("freq-negative", "new", "0", good, "FREQ", "-1"),
        ("idletime-and-freq", "new", "0", good, "IDLETIME", "10", "FREQ", "5"),
        ("freq-and-idletime", "new", "0", good, "FREQ", "5", "IDLETIME", "10"),
        ("options-before-busy", "exists", "0", good, "FREQ", "300"),
        ("arity", "new", "0"),
    ]
    for name, payload in _bad_body_payloads(good).items():
        cases.append((name, "new", "0", payload))
    for srv in (c, r):
        srv.client().set("exists", "keep")
    mismatches = []
    for name, *args in cases:
        want = (raw_reply(r, "RESTORE", *args), r.client().exists("new"))
        got = (raw_reply(c, "RESTORE", *args), c.client().exists("new"))
        if got != want:
            mismatches.append(f"{name}: cachet {got!r} != redis {want!r}")
        for srv in (c, r):
            srv.client().delete("new")
    assert not mismatches, "\n".join(mismatches)
    cl = c.client()
    assert cl.exists("new") == 0
    assert cl.get("exists") == b"keep" and cl.pttl("exists") == -1
    assert cl.dbsize() == 1


# ---------------------------------------------------------------- 6. corrupt files at start-up

@pytest.fixture(scope="module")
def redis_rdb(tmp_path_factory):
    """dump.rdb bytes written by redis-server: a few keys including MARKER
    (stored verbatim, so a flipped byte in it only the CRC can catch)."""
    d = tmp_path_factory.mktemp("rdbsrc")
    srv = RedisServer(d)
    try:
        c = srv.client()
        c.set("a", "1")
        c.set("str:marker", MARKER)
        c.rpush("list", *[f"e{i}" for i in range(50)])
        c.hset("hash", mapping={f"f{i}": f"v{i}" for i in range(20)})
        c.set("after", "z" * 10)
        c.save()
    finally:
        srv.stop()
    with open(os.path.join(str(d), "dump.rdb"), "rb") as f:
        data = f.read()
    assert data.startswith(b"REDIS0010") and data[-9] == 0xFF and data.count(MARKER) == 1
    return data


def _start_must_fail(tmp_path, content, args=()):
    """Start the server on dir/dump.rdb = content; it must exit non-zero
    without ever answering; the file must be untouched. Returns the log."""
    d = tmp_path / "corrupt"
    d.mkdir()
    path = d / "dump.rdb"
    path.write_bytes(content)
    st = os.stat(path)
    port = free_port()
    log_path = d / "server.log"
    served = []
    with open(log_path, "w") as log:
        proc = subprocess.Popen(cachet_argv(port, d) + list(args), stdout=log, stderr=subprocess.STDOUT, cwd=str(d))
        try:
            deadline = time.monotonic() + 15
            while proc.poll() is None and time.monotonic() < deadline:
                try:
                    with socket.create_connection(("127.0.0.1", port), timeout=0.5) as s:
                        s.sendall(b"*1\r\n$6\r\nDBSIZE\r\n")
                        got = s.recv(64)
                        if got.startswith(b":"):
                            served.append(got)
                            break
                except OSError:
                    pass
                time.sleep(0.01)
            still_running = proc.poll() is None
        finally:
            if proc.poll() is None:
                proc.kill()
            proc.wait(timeout=10)
    text = log_path.read_text(errors="replace")
    assert not served, f"server answered DBSIZE {served[0]!r} with a corrupt dump.rdb:\n{text}"
    assert not still_running, "server kept running on a corrupt dump.rdb:\n" + text
    assert proc.returncode != 0, "server exited 0 on a corrupt dump.rdb:\n" + text
    assert path.read_bytes() == content, "the failed start changed dump.rdb"
    assert os.stat(path).st_mtime_ns == st.st_mtime_ns
    assert sorted(os.listdir(d)) == ["dump.rdb", "server.log"], "the failed start left files behind"
    for m in SANITIZER_MARKERS:
        assert m not in text, text
    return text


TRUNCATIONS = ["empty", "mid-magic", "after-version", "mid-aux", "mid-key", "before-eof-opcode", "before-crc",
               "mid-crc"]


def _truncation_offsets(data):
    m = data.index(MARKER)
    return {
        "empty": 0,
        "mid-magic": 5,
        "after-version": 9,
        "mid-aux": 20,
        "mid-key": m + 10,
        "before-eof-opcode": len(data) - 9,
        "before-crc": len(data) - 8,
        "mid-crc": len(data) - 3,
    }


@pytest.mark.parametrize("where", TRUNCATIONS)
def test_truncated_file_refused(tmp_path, redis_rdb, where):
    off = _truncation_offsets(redis_rdb)[where]
    text = _start_must_fail(tmp_path, redis_rdb[:off])
    if not REFERENCE_MODE:
        assert re.search(r"offset\D{0,3}\d+", text, re.I), f"log does not name the offset:\n{text}"
        assert re.search(r"truncat|unexpected end|short read|eof", text, re.I), f"log gives no reason:\n{text}"


def test_flipped_byte_in_value_fails_checksum(tmp_path, redis_rdb):
    m = redis_rdb.index(MARKER)
    bad = bytearray(redis_rdb)
    bad[m + 12] ^= 0x01           # still a printable letter: the record parses, only the CRC differs
    text = _start_must_fail(tmp_path, bytes(bad))
    if not REFERENCE_MODE:
        assert re.search(r"checksum|crc", text, re.I), f"log does not say checksum:\n{text}"


@pytest.mark.parametrize("kind", ["random", "header-then-random", "text", "bad-version"])
def test_garbage_file_refused(tmp_path, redis_rdb, kind):
    rnd = _rand_bytes(4096, 7)
    content = {
        "random": rnd,
        "header-then-random": b"REDIS0010" + rnd,
        "text": b"this is not an rdb file\n" * 10,
        "bad-version": b"REDIS9999" + redis_rdb[9:],
    }[kind]
    text = _start_must_fail(tmp_path, content)
    if not REFERENCE_MODE:
        assert re.search(r"offset\D{0,3}\d+", text, re.I), f"log does not name the offset:\n{text}"


def _redis_file(tmp_path, setup):
    d = tmp_path / "redis-src"
    d.mkdir()
    srv = RedisServer(d)
    try:
        c = srv.client()
        c.set("a", "1")
        setup(c)
        assert c.save()
    finally:
        srv.stop()
    return (d / "dump.rdb").read_bytes()


def test_file_with_more_databases_than_configured_refused(tmp_path):
    """A key in db 15 with `databases 4`: refused, not silently dropped."""
    def setup(c):
        c.execute_command("SELECT", 15)
        c.set("in15", "x")
    text = _start_must_fail(tmp_path, _redis_file(tmp_path, setup), args=("--databases", "4"))
    if not REFERENCE_MODE:
        assert re.search(r"databases", text, re.I), f"log does not explain:\n{text}"


def test_file_with_function_library_loads_it(procs, tmp_path):
    """Redis 7.0 stores FUNCTION libraries in the file (FUNCTION2 records,
    before the data): they load with it and their functions run."""
    lib = "#!lua name=mylib\nredis.register_function('f', function(keys) return redis.call('get', keys[1]) end)"
    d = procs.newdir("cachet")
    (d / "dump.rdb").write_bytes(_redis_file(tmp_path, lambda c: c.execute_command("FUNCTION", "LOAD", lib)))
    c = procs.cachet(d).client(decode_responses=True)
    assert c.fcall("f", 1, "a") == "1"
    assert c.function_list(withcode=True)[0][-1] == lib


def test_file_with_bad_function_library_refused_clearly(tmp_path):
    """A FUNCTION2 record whose library does not load (here: registers
    nothing) or a pre-7.0-GA FUNCTION record: refused, saying why."""
    if REFERENCE_MODE:
        pytest.skip("the reason is Cachet's wording")   # reference runs only; never skipped against Cachet
    empty_lib = b"REDIS0010\xf5" + _rdb_str(b"#!lua name=x\nlocal a = 1") + b"\xff" + b"\0" * 8
    text = _start_must_fail(tmp_path, empty_lib)
    assert "Failed loading library: No functions registered" in text, f"log does not explain:\n{text}"


# ---------------------------------------------------------------- 7. LASTSAVE / INFO persistence

def _lastsave(srv):
    reply = raw_reply(srv, "LASTSAVE")
    assert re.fullmatch(rb":\d+\r\n", reply), reply
    return int(reply[1:-2])


def test_lastsave_and_info_persistence_follow_save(procs):
    c = procs.cachet()
    t0 = _lastsave(c)
    assert abs(t0 - time.time()) < 5        # start-up counts as the last save, as in Redis
    cl = c.client()
    cl.set("a", "1")
    cl.set("b", "2")
    cl.rpush("l", "x", "y", "z")           # 3 changes: one per element, as Redis counts
    assert info_field(c, "persistence", "rdb_changes_since_last_save") == "5"
    saves = int(info_field(c, "persistence", "rdb_saves"))
    wait_until(lambda: int(time.time()) > t0, timeout=3, what="the next second")
    assert raw_reply(c, "SAVE") == b"+OK\r\n"
    t1 = _lastsave(c)
    assert t0 < t1 <= time.time() + 1
    assert info_field(c, "persistence", "rdb_changes_since_last_save") == "0"
    assert int(info_field(c, "persistence", "rdb_last_save_time")) == t1
    assert info_field(c, "persistence", "rdb_last_bgsave_status") == "ok"
    assert int(info_field(c, "persistence", "rdb_saves")) == saves + 1
    assert os.path.getsize(os.path.join(c.dir, "dump.rdb")) > 0
    cl.set("c", "3")
    assert info_field(c, "persistence", "rdb_changes_since_last_save") == "1"
    assert _lastsave(c) == t1               # writes do not move LASTSAVE


# ---------------------------------------------------------------- legacy encodings (older Redis versions)

def _rdb_len(n):
    if n < 64:
        return bytes([n])
    if n < 16384:
        return bytes([0x40 | (n >> 8), n & 0xFF])
    return b"\x80" + n.to_bytes(4, "big")


def _rdb_str(b):
    b = b if isinstance(b, bytes) else str(b).encode()
    return _rdb_len(len(b)) + b


def _zl_entry(prevlen, v):
    pl = bytes([prevlen]) if prevlen < 254 else b"\xfe" + prevlen.to_bytes(4, "little")
    if isinstance(v, int):
        if 0 <= v <= 12:
            enc = bytes([0xF1 + v])
        elif -128 <= v < 128:
            enc = b"\xfe" + v.to_bytes(1, "little", signed=True)
        elif -2 ** 15 <= v < 2 ** 15:
            enc = b"\xc0" + v.to_bytes(2, "little", signed=True)
        elif -2 ** 23 <= v < 2 ** 23:
            enc = b"\xf0" + v.to_bytes(3, "little", signed=True)
        elif -2 ** 31 <= v < 2 ** 31:
            enc = b"\xd0" + v.to_bytes(4, "little", signed=True)
        else:
            enc = b"\xe0" + v.to_bytes(8, "little", signed=True)
    else:
        v = v if isinstance(v, bytes) else v.encode()
        if len(v) < 64:
            enc = bytes([len(v)]) + v
        elif len(v) < 16384:
            enc = bytes([0x40 | (len(v) >> 8), len(v) & 0xFF]) + v
        else:
            enc = b"\x80" + len(v).to_bytes(4, "big") + v
    return pl + enc


def ziplist(items):
    """A ziplist (Redis <= 6.2's compact encoding) holding items (int or str)."""
    body, prev, tail = b"", 0, 10
    for v in items:
        tail = 10 + len(body)
        e = _zl_entry(prev, v)
        body += e
        prev = len(e)
    total = 10 + len(body) + 1
    return total.to_bytes(4, "little") + tail.to_bytes(4, "little") + \
        min(len(items), 65535).to_bytes(2, "little") + body + b"\xff"


def intset(values, width):
    vals = sorted(values)
    return width.to_bytes(4, "little") + len(vals).to_bytes(4, "little") + \
        b"".join(v.to_bytes(width, "little", signed=True) for v in vals)


def zipmap(pairs):
    out = bytes([len(pairs)])
    for k, v in pairs:
        k, v = k.encode(), v.encode()
        out += bytes([len(k)]) + k + bytes([len(v)]) + b"\x00" + v
    return out + b"\xff"


def legacy_payloads():
    """{key: DUMP payload (RDB version 9)} in encodings Redis 7.0 no longer
    writes but still reads: ziplists, zipmap, quicklist of ziplists, linked
    list and string-score zset, intsets of every width."""
    big = "w" * 70
    return {
        "old:list-linked": b"\x01" + _rdb_len(3) + _rdb_str("a") + _rdb_str("12") + _rdb_str(""),
        "old:zset-strscore": b"\x03" + _rdb_len(3) + _rdb_str("a") + b"\x031.5" + _rdb_str("b") + b"\xfe"
                             + _rdb_str("c") + b"\xff",
        "old:hash-zipmap": b"\x09" + _rdb_str(zipmap([("f1", "v1"), ("f2", "22"), ("f3", "")])),
        "old:list-ziplist": b"\x0a" + _rdb_str(ziplist(["a", 7, -100, 30000, 2 ** 20, -2 ** 31, 2 ** 40, "", big])),
        "old:set-intset16": b"\x0b" + _rdb_str(intset([1, -2, 300], 2)),
        "old:set-intset32": b"\x0b" + _rdb_str(intset([1, 70000, -70000], 4)),
        "old:set-intset64": b"\x0b" + _rdb_str(intset([1, 2 ** 40, -2 ** 63], 8)),
        "old:zset-ziplist": b"\x0c" + _rdb_str(ziplist(["c", "-inf", "a", 1, "b", "2.5", "d", 100000])),
        "old:hash-ziplist": b"\x0d" + _rdb_str(ziplist(["f1", "v1", "f2", 5, "n", -3])),
        "old:hash-ziplist-bigval": b"\x0d" + _rdb_str(ziplist(["f", big, "g", "x"])),
        "old:list-quicklist": b"\x0e" + _rdb_len(2) + _rdb_str(ziplist(["x", 1, "y"]))
                              + _rdb_str(ziplist([f"n{i}" for i in range(200)])),
    }


def test_restore_legacy_encodings_like_redis(procs):
    """Payloads from Redis <= 6.2 (RDB 9: ziplist, zipmap, quicklist of
    ziplists, old list/zset types) restore into Cachet as into Redis 7.0,
    values and the encodings they convert to included."""
    c, r = procs.cachet(), procs.redis()
    wrong = []
    for key, body in legacy_payloads().items():
        payload = dump_payload(body, version=9)
        want = raw_reply(r, "RESTORE", key, "0", payload)
        assert want == b"+OK\r\n", f"the test's own {key} payload is wrong: redis says {want!r}"
        got = raw_reply(c, "RESTORE", key, "0", payload)
        if got != want:
            wrong.append(f"{key}: cachet {got!r}")
    assert not wrong, "\n".join(wrong)
    assert_same_data(dataset_of(r, dbs=[0]), dataset_of(c, dbs=[0]), "legacy payloads")
    cr, cc = r.client(), c.client()
    # Not old:hash-ziplist-bigval: Redis 7.0 keeps a ziplist hash with a value
    # over hash-max-listpack-value as listpack; honouring the limit is fine too.
    enc = {k: (cr.object("encoding", k), cc.object("encoding", k)) for k in legacy_payloads()
           if k != "old:hash-ziplist-bigval"}
    assert {k: v for k, v in enc.items() if v[0] != v[1]} == {}


# ---------------------------------------------------------------- damaged payloads with a valid CRC

def test_restore_damaged_payloads_never_crash(procs):
    """Every strict prefix of a real payload (CRC recomputed) is refused
    with "Bad data format"; every single-byte change is refused or yields a
    value that reads back whole. The server stays up throughout (and, under
    the sanitizer build, clean). Stricter than Redis 7.0, which lets a short
    body run on into the payload's footer: the prefix check is Cachet's own
    and is not made in RDBTEST_TARGET=redis runs, where Redis needs
    sanitize-dump-payload (without it Redis 7.0 crashes on some of these)."""
    c = procs.redis(args=("--sanitize-dump-payload", "yes")) if REFERENCE_MODE else procs.cachet()
    r = procs.redis()
    fill(r, dbs=(0,))
    rc = r.client()
    bodies = {k: rc.dump(k)[:-10] for k in ("str:short", "str:int", "str:long-compressible", "list:small",
                                            "list:large", "set:int", "set:small", "hash:small", "hash:longval",
                                            "zset:small", "zset:longmember", "ttl:hash")}
    bodies.update(legacy_payloads())
    cc = c.client()
    bad_prefix = []
    n = 0
    for key, body in bodies.items():
        p = cc.pipeline(transaction=False)
        for cut in range(len(body)):
            p.execute_command("RESTORE", "cut", 0, dump_payload(body[:cut]), "REPLACE")
        for cut, res in enumerate(p.execute(raise_on_error=False)):
            if not REFERENCE_MODE and not (isinstance(res, redis.ResponseError) and str(res) == "Bad data format"):
                bad_prefix.append(f"{key}[:{cut}] -> {res!r}")
        cc.delete("cut")
        p = cc.pipeline(transaction=False)
        for i in range(len(body)):
            for x in (0x01, 0x80, 0xFF):
                n += 1
                b = bytearray(body)
                b[i] ^= x
                p.execute_command("RESTORE", f"flip:{n}", 0, dump_payload(bytes(b)))
        for res in p.execute(raise_on_error=False):
            assert res == b"OK" or (isinstance(res, redis.ResponseError) and str(res) == "Bad data format"), res
        assert c.alive(), c.log()[-2000:]
    assert not bad_prefix, "\n".join(bad_prefix[:30])
    # Whatever was accepted reads back whole, with every read command.
    got = dataset_of(c, dbs=[0])
    assert cc.ping()
    count = {"string": "STRLEN", "list": "LLEN", "set": "SCARD", "hash": "HLEN", "zset": "ZCARD"}
    accepted = got[0][1]
    for k, (t, v, pttl) in accepted.items():
        assert t in count, (k, t)
        # The header's count agrees with what the reads return.
        n_items = len(v) // 2 if t in ("zset",) else len(v)
        assert cc.execute_command(count[t], k) == n_items, (k, t, v)
        # It survives a DUMP/RESTORE round trip and a DEBUG-free introspection.
        assert cc.restore(b"again:" + k, 0, cc.dump(k)) == b"OK"
        assert cc.object("encoding", k)
        assert cc.memory_usage(k) > 0
    assert c.alive()


# ---------------------------------------------------------------- Redis' own packed encodings

SMALL_INTS = [0, 1, 127, 128, -1, -4096, 4095, 4096, -4097, 32767, -32768, 32768, 8388607, -8388608, 8388608,
              2147483647, -2147483648, 2147483648, -9223372036854775808, 9223372036854775807]

PACKED_VALUES = {
    "hash": lambda c: c.hset("v", mapping={**{f"f{i}": str(n) for i, n in enumerate(SMALL_INTS)},
                                           "": "empty field", "s63": "x" * 63, "s64": "y" * 64,
                                           "007": "not an integer", "-0": "nor this", "1e3": "nor this"}),
    "zset": lambda c: c.zadd("v", {"a": 1, "b": -2.5, "c": 0.1, "d": 1e300, "e": float("inf"),
                                   "f": float("-inf"), "g": 3.0000000000000004, "h": -0.0, "10": 10,
                                   "i": 4611686018427387904, "j": 1.5e-300}),
    "list": lambda c: c.rpush("v", "", "a", *[str(n) for n in SMALL_INTS], "x" * 63, "x" * 64, "y" * 127,
                              "y" * 128, "z" * 4095, "12345678901234567890", "-"),
    "list-long-element": lambda c: c.rpush("v", "w" * 5000),
    "intset": lambda c: c.sadd("v", *SMALL_INTS[:12]),
}


@pytest.mark.parametrize("kind", sorted(PACKED_VALUES))
def test_small_values_dump_the_same_bytes_as_redis(procs, kind):
    """Small hashes and sorted sets, list nodes and integer sets go out in
    Redis 7.0's own encodings (listpack, quicklist of listpacks, intset):
    the DUMP payload (and so the snapshot record) is byte for byte what
    Redis writes for the same value, so Redis loads a Cachet snapshot without
    converting anything, and Cachet reads it back to the same value."""
    args = ("--rdbcompression", "no")   # LZF output is allowed to differ; the structure is not
    c, r = procs.cachet(args=args), procs.redis(args=args)
    for srv in (c, r):
        PACKED_VALUES[kind](srv.client())
    enc_c = c.client().object("encoding", "v")
    assert enc_c == r.client().object("encoding", "v")
    assert enc_c in (b"listpack", b"quicklist", b"intset")
    payload = c.client().dump("v")
    assert payload == r.client().dump("v")
    # And it reads back: into Redis and into Cachet, to the same value.
    for srv in (c, r):
        cl = srv.client()
        assert cl.restore("copy", 0, payload) == b"OK"
        assert cl.dump("copy") == payload
