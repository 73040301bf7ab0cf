"""List commands (t_list.c over quicklist.c): LPUSH/RPUSH/LPUSHX/RPUSHX,
LPOP/RPOP with count, LLEN, LRANGE, LINDEX, LSET, LREM, LTRIM, LINSERT, LPOS,
LMOVE, RPOPLPUSH, LMPOP and the basic behaviour of the blocking BLPOP, BRPOP,
BLMOVE, BRPOPLPUSH, BLMPOP (the deep blocking tests live in test_blocking.py).

Expected replies and error texts were taken from Redis 7.0's redis-server;
where RESP2 and RESP3 differ the raw bytes are asserted. Big lists are
checked against a Python model with list-max-listpack-size 4, so they span
thousands of quicklist nodes.
"""
import random
import threading

import pytest
import redis

from conftest import cmd, resp_exchange, wait_until

WRONGTYPE = "WRONGTYPE Operation against a key holding the wrong kind of value"
NOT_INT = "value is not an integer or out of range"
SYNTAX = "syntax error"
POSITIVE = "value is out of range, must be positive"
RANK_ZERO = ("RANK can't be zero: use 1 to start from the first match, 2 from the second ... "
             "or use negative to start from the end of the list")


def err(r, *args):
    """The error text a command answers (redis-py strips the '-')."""
    with pytest.raises(redis.ResponseError) as e:
        r.execute_command(*args)
    return str(e.value)


def resp3(server):
    """A raw socket switched to RESP3."""
    s = server.raw()
    assert resp_exchange(s, cmd("HELLO", 3), until=b"modules\r\n*0\r\n").startswith(b"%7\r\n")
    return s


def exchange(s, *args):
    return resp_exchange(s, cmd(*args))


# ---- push / pop ---------------------------------------------------------------


def test_push_order_and_length(r):
    assert r.rpush("l", "a", "b") == 2
    assert r.lpush("l", "x", "y") == 4
    assert r.lrange("l", 0, -1) == ["y", "x", "a", "b"]
    assert r.llen("l") == 4
    assert r.type("l") == "list"
    assert r.object("encoding", "l") == "quicklist"


def test_pushx_only_on_existing(r):
    assert r.lpushx("nokey", "a") == 0
    assert r.execute_command("RPUSHX", "nokey", "a", "b") == 0
    assert r.exists("nokey") == 0
    r.rpush("l", "m")
    assert r.lpushx("l", "a", "b") == 3
    assert r.rpushx("l", "z") == 4
    assert r.lrange("l", 0, -1) == ["b", "a", "m", "z"]


def test_values_round_trip_bytes(rb):
    vals = [b"", b"0", b"-1", b"127", b"128", b"-4096", b"9223372036854775807", b"-9223372036854775808",
            b"9223372036854775808", b"01", b"+1", b" 1", b"1.5", b"\x00\xff\r\n", b"x" * 63, b"y" * 64,
            b"z" * 4095, b"w" * 4096, b"v" * 70000]
    rb.rpush("l", *vals)
    assert rb.lrange("l", 0, -1) == vals
    assert [rb.lindex("l", i) for i in range(len(vals))] == vals


def test_pop_single_and_count(r):
    r.rpush("l", "a", "b", "c", "d", "e")
    assert r.lpop("l") == "a"
    assert r.rpop("l") == "e"
    assert r.execute_command("LPOP", "l", 2) == ["b", "c"]
    r.rpush("l", "x", "y")
    assert r.execute_command("RPOP", "l", 2) == ["y", "x"]  # in pop order
    assert r.execute_command("RPOP", "l", 10) == ["d"]
    assert r.exists("l") == 0


def test_pop_count_zero_and_missing_key_resp2(server, r):
    r.rpush("l", "a")
    s = server.raw()
    assert exchange(s, "LPOP", "l", 0) == b"*0\r\n"
    assert exchange(s, "LPOP", "nokey", 0) == b"*-1\r\n"
    assert exchange(s, "RPOP", "nokey", 3) == b"*-1\r\n"
    assert exchange(s, "RPOP", "nokey") == b"$-1\r\n"
    assert exchange(s, "RPOP", "l", 1) == b"*1\r\n$1\r\na\r\n"


def test_pop_count_zero_and_missing_key_resp3(server, r):
    r.rpush("l", "a", "b")
    s = resp3(server)
    assert exchange(s, "LPOP", "l", 0) == b"*0\r\n"
    assert exchange(s, "LPOP", "nokey", 0) == b"_\r\n"
    assert exchange(s, "RPOP", "nokey", 2) == b"_\r\n"
    assert exchange(s, "LPOP", "nokey") == b"_\r\n"
    assert exchange(s, "RPOP", "l", 5) == b"*2\r\n$1\r\nb\r\n$1\r\na\r\n"


def test_pop_errors_change_nothing(r):
    r.rpush("l", "a", "b")
    assert err(r, "LPOP", "l", -1) == POSITIVE
    assert err(r, "RPOP", "l", "x") == POSITIVE
    assert err(r, "RPOP", "l", "1.5") == POSITIVE
    assert err(r, "RPOP", "l", "99999999999999999999") == POSITIVE
    assert err(r, "LPOP", "nokey", -1) == POSITIVE  # the count is checked first
    assert err(r, "LPOP", "l", 1, 2) == "wrong number of arguments for 'lpop' command"
    assert r.lrange("l", 0, -1) == ["a", "b"]


def test_pop_last_element_deletes_key(r):
    r.rpush("l", "only")
    assert r.lpop("l") == "only"
    assert r.exists("l") == 0
    assert r.type("l") == "none"
    r.rpush("l", "a", "b")
    r.execute_command("RPOP", "l", 2)
    assert r.exists("l") == 0


# ---- reading --------------------------------------------------------------------


def test_lrange_matches_python_slicing(r):
    items = [str(i) for i in range(20)]
    r.rpush("l", *items)
    for start in range(-25, 25, 3):
        for end in range(-25, 25, 4):
            n = len(items)
            s = start + n if start < 0 else start
            e = end + n if end < 0 else end
            s = max(s, 0)
            want = items[s:e + 1] if s <= e else []
            assert r.lrange("l", start, end) == want, (start, end)
    assert r.lrange("nokey", 0, -1) == []
    assert err(r, "LRANGE", "l", "a", 1) == NOT_INT
    assert err(r, "LRANGE", "l", 0, "1.5") == NOT_INT


def test_lindex(r):
    r.rpush("l", "a", "b", "c")
    assert r.lindex("l", 0) == "a"
    assert r.lindex("l", -1) == "c"
    assert r.lindex("l", -3) == "a"
    assert r.lindex("l", 3) is None
    assert r.lindex("l", -4) is None
    assert r.lindex("nokey", "notanumber") is None  # the key is looked up first
    assert err(r, "LINDEX", "l", "x") == NOT_INT
    assert r.lindex("l", -(2 ** 63)) is None


def test_llen_missing_and_wrongtype(r):
    assert r.llen("nokey") == 0
    r.set("s", "x")
    assert err(r, "LLEN", "s") == WRONGTYPE


# ---- editing -----------------------------------------------------------------------


def test_lset(r):
    r.rpush("l", "a", "b", "c")
    assert r.lset("l", 1, "B") is True
    assert r.lset("l", -1, "C") is True
    assert r.lrange("l", 0, -1) == ["a", "B", "C"]
    assert err(r, "LSET", "nokey", 0, "x") == "no such key"
    assert err(r, "LSET", "l", 3, "x") == "index out of range"
    assert err(r, "LSET", "l", -4, "x") == "index out of range"
    assert err(r, "LSET", "l", "x", "x") == NOT_INT
    assert r.lrange("l", 0, -1) == ["a", "B", "C"]
    assert r.exists("nokey") == 0


def test_lrem(r):
    r.rpush("l", "a", "b", "a", "c", "a", "b", "a")
    assert r.lrem("l", 2, "a") == 2
    assert r.lrange("l", 0, -1) == ["b", "c", "a", "b", "a"]
    assert r.lrem("l", -1, "b") == 1
    assert r.lrange("l", 0, -1) == ["b", "c", "a", "a"]
    assert r.lrem("l", 0, "a") == 2
    assert r.lrem("l", 0, "zz") == 0
    assert r.lrange("l", 0, -1) == ["b", "c"]
    assert r.lrem("nokey", 0, "a") == 0
    assert err(r, "LREM", "l", "x", "b") == NOT_INT
    assert r.lrem("l", 0, "b") == 1
    assert r.lrem("l", -5, "c") == 1
    assert r.exists("l") == 0


def test_lrem_integer_encoded_values(r):
    r.rpush("l", "1", "01", "1", "1.0", "-0", "0")
    assert r.lrem("l", 0, "1") == 2
    assert r.lrange("l", 0, -1) == ["01", "1.0", "-0", "0"]
    assert r.lrem("l", 0, "0") == 1
    assert r.lrange("l", 0, -1) == ["01", "1.0", "-0"]


def test_ltrim(r):
    r.rpush("l", *"abcdefg")
    assert r.ltrim("l", 1, -2) is True
    assert r.lrange("l", 0, -1) == list("bcdef")
    assert r.ltrim("l", -3, 100) is True
    assert r.lrange("l", 0, -1) == list("def")
    assert r.ltrim("nokey", 0, 1) is True
    assert err(r, "LTRIM", "l", "x", 1) == NOT_INT
    assert r.ltrim("l", 5, 10) is True  # out of range empties the list
    assert r.exists("l") == 0
    r.rpush("l", "a", "b")
    assert r.ltrim("l", 1, 0) is True
    assert r.exists("l") == 0


def test_linsert(r):
    r.rpush("l", "a", "b", "c")
    assert r.linsert("l", "before", "b", "x") == 4
    assert r.linsert("l", "AFTER", "c", "y") == 5
    assert r.lrange("l", 0, -1) == ["a", "x", "b", "c", "y"]
    assert r.linsert("l", "before", "zz", "q") == -1
    assert r.linsert("nokey", "before", "a", "q") == 0
    assert r.exists("nokey") == 0
    assert err(r, "LINSERT", "l", "middle", "a", "q") == SYNTAX
    assert err(r, "LINSERT", "nokey", "middle", "a", "q") == SYNTAX
    assert r.llen("l") == 5


def test_lpos(r):
    r.rpush("l", "a", "b", "c", "1", "2", "3", "c", "c")
    assert r.lpos("l", "c") == 2
    assert r.lpos("l", "c", rank=2) == 6
    assert r.lpos("l", "c", rank=-1) == 7
    assert r.lpos("l", "c", rank=-3) == 2
    assert r.lpos("l", "c", count=0) == [2, 6, 7]
    assert r.lpos("l", "c", count=2) == [2, 6]
    assert r.lpos("l", "c", rank=-1, count=2) == [7, 6]
    assert r.lpos("l", "c", count=0, maxlen=7) == [2, 6]
    assert r.lpos("l", "c", rank=-1, maxlen=1) == 7
    assert r.lpos("l", "c", rank=-1, maxlen=2, count=0) == [7, 6]
    assert r.lpos("l", "3") == 5
    assert r.lpos("l", "zz") is None
    assert r.lpos("l", "zz", count=1) == []
    assert r.lpos("nokey", "a") is None
    assert r.lpos("nokey", "a", count=3) == []
    assert r.lpos("l", "c", rank=4) is None


def test_lpos_errors(r):
    r.rpush("l", "a")
    assert err(r, "LPOS", "l", "a", "RANK", 0) == RANK_ZERO
    assert err(r, "LPOS", "l", "a", "COUNT", -1) == "COUNT can't be negative"
    assert err(r, "LPOS", "l", "a", "MAXLEN", -1) == "MAXLEN can't be negative"
    assert err(r, "LPOS", "l", "a", "COUNT", "x") == "COUNT can't be negative"
    assert err(r, "LPOS", "l", "a", "RANK", "x") == NOT_INT
    assert err(r, "LPOS", "l", "a", "FOO") == SYNTAX
    assert err(r, "LPOS", "l", "a", "RANK") == SYNTAX
    assert err(r, "LPOS", "nokey", "a", "RANK", 0) == RANK_ZERO  # options before the key


def test_lpos_resp3_nulls(server, r):
    r.rpush("l", "a")
    s = resp3(server)
    assert exchange(s, "LPOS", "l", "zz") == b"_\r\n"
    assert exchange(s, "LPOS", "nokey", "a", "COUNT", 2) == b"*0\r\n"
    assert exchange(s, "LPOS", "l", "a", "COUNT", 0) == b"*1\r\n:0\r\n"


# ---- moving ------------------------------------------------------------------------


@pytest.mark.parametrize("src_side,dst_side,moved,src_after,dst_after", [
    ("LEFT", "LEFT", "a", ["b", "c"], ["a", "x"]),
    ("LEFT", "RIGHT", "a", ["b", "c"], ["x", "a"]),
    ("RIGHT", "LEFT", "c", ["a", "b"], ["c", "x"]),
    ("right", "right", "c", ["a", "b"], ["x", "c"]),
])
def test_lmove_directions(r, src_side, dst_side, moved, src_after, dst_after):
    r.rpush("src", "a", "b", "c")
    r.rpush("dst", "x")
    assert r.execute_command("LMOVE", "src", "dst", src_side, dst_side) == moved
    assert r.lrange("src", 0, -1) == src_after
    assert r.lrange("dst", 0, -1) == dst_after


def test_lmove_creates_destination_and_deletes_empty_source(r):
    r.rpush("src", "only")
    assert r.lmove("src", "dst", "LEFT", "RIGHT") == "only"
    assert r.exists("src") == 0
    assert r.lrange("dst", 0, -1) == ["only"]
    assert r.lmove("nokey", "dst", "LEFT", "RIGHT") is None
    assert r.lrange("dst", 0, -1) == ["only"]


def test_lmove_same_key_rotates(r):
    r.rpush("l", "a", "b", "c")
    assert r.lmove("l", "l", "LEFT", "RIGHT") == "a"
    assert r.lrange("l", 0, -1) == ["b", "c", "a"]
    assert r.rpoplpush("l", "l") == "a"
    assert r.lrange("l", 0, -1) == ["a", "b", "c"]
    r.rpush("one", "x")
    assert r.rpoplpush("one", "one") == "x"
    assert r.lrange("one", 0, -1) == ["x"]


def test_lmove_checks_destination_type_before_popping(r):
    r.rpush("src", "a", "b")
    r.set("s", "str")
    assert err(r, "LMOVE", "src", "s", "LEFT", "LEFT") == WRONGTYPE
    assert err(r, "RPOPLPUSH", "src", "s") == WRONGTYPE
    assert r.lrange("src", 0, -1) == ["a", "b"]
    assert r.get("s") == "str"
    assert err(r, "LMOVE", "s", "src", "LEFT", "LEFT") == WRONGTYPE
    assert r.lmove("nokey", "s", "LEFT", "LEFT") is None  # missing source wins
    assert err(r, "LMOVE", "src", "dst", "UP", "LEFT") == SYNTAX
    assert err(r, "LMOVE", "src", "dst", "LEFT", "DOWN") == SYNTAX
    assert r.lrange("src", 0, -1) == ["a", "b"]


def test_rpoplpush(r):
    r.rpush("a", "1", "2", "3")
    assert r.rpoplpush("a", "b") == "3"
    assert r.rpoplpush("a", "b") == "2"
    assert r.lrange("b", 0, -1) == ["2", "3"]
    assert r.rpoplpush("nokey", "b") is None


def test_lmpop(r):
    r.rpush("l1", "a", "b", "c")
    r.rpush("l2", "x")
    assert r.execute_command("LMPOP", 2, "nokey", "l1", "LEFT") == ["l1", ["a"]]
    assert r.execute_command("LMPOP", 2, "l1", "l2", "RIGHT", "COUNT", 5) == ["l1", ["c", "b"]]
    assert r.exists("l1") == 0
    assert r.execute_command("LMPOP", 1, "l2", "left", "count", 1) == ["l2", ["x"]]
    assert r.execute_command("LMPOP", 2, "l1", "l2", "LEFT") is None


def test_lmpop_errors(r):
    r.rpush("l", "a")
    r.set("s", "x")
    assert err(r, "LMPOP", 0, "l", "LEFT") == "numkeys should be greater than 0"
    assert err(r, "LMPOP", -1, "l", "LEFT") == "numkeys should be greater than 0"
    assert err(r, "LMPOP", "x", "l", "LEFT") == "numkeys should be greater than 0"
    assert err(r, "LMPOP", 2, "l", "LEFT") == SYNTAX
    assert err(r, "LMPOP", 99999999999, "l", "LEFT") == SYNTAX
    assert err(r, "LMPOP", 1, "l", "MIDDLE") == SYNTAX
    assert err(r, "LMPOP", 1, "l", "LEFT", "COUNT", 0) == "count should be greater than 0"
    assert err(r, "LMPOP", 1, "l", "LEFT", "COUNT", "x") == "count should be greater than 0"
    assert err(r, "LMPOP", 1, "l", "LEFT", "COUNT") == SYNTAX
    assert err(r, "LMPOP", 1, "l", "LEFT", "COUNT", 1, "COUNT", 1) == SYNTAX
    assert err(r, "LMPOP", 1, "l", "LEFT", "FOO") == SYNTAX
    assert err(r, "LMPOP", 2, "s", "l", "LEFT") == WRONGTYPE
    assert err(r, "LMPOP", 1, "l") == "wrong number of arguments for 'lmpop' command"
    assert r.lrange("l", 0, -1) == ["a"]


def test_lmpop_raw_resp2_and_resp3(server, r):
    r.rpush("l", "a", "b")
    s = server.raw()
    assert exchange(s, "LMPOP", 1, "nokey", "LEFT") == b"*-1\r\n"
    assert exchange(s, "LMPOP", 2, "nokey", "l", "LEFT", "COUNT", 1) == b"*2\r\n$1\r\nl\r\n*1\r\n$1\r\na\r\n"
    s3 = resp3(server)
    assert exchange(s3, "LMPOP", 1, "nokey", "LEFT") == b"_\r\n"
    assert exchange(s3, "LMPOP", 1, "l", "RIGHT", "COUNT", 9) == b"*2\r\n$1\r\nl\r\n*1\r\n$1\r\nb\r\n"


def test_wrongtype_for_every_command(r):
    r.set("s", "x")
    calls = [
        ("LPUSH", "s", "a"), ("RPUSH", "s", "a"), ("LPUSHX", "s", "a"), ("RPUSHX", "s", "a"),
        ("LPOP", "s"), ("RPOP", "s", 2), ("LLEN", "s"), ("LRANGE", "s", 0, -1), ("LINDEX", "s", 0),
        ("LSET", "s", 0, "a"), ("LREM", "s", 0, "a"), ("LTRIM", "s", 0, 1), ("LINSERT", "s", "BEFORE", "a", "b"),
        ("LPOS", "s", "a"), ("LMOVE", "s", "d", "LEFT", "LEFT"), ("RPOPLPUSH", "s", "d"),
        ("LMPOP", 1, "s", "LEFT"), ("BLPOP", "s", 0.01), ("BRPOP", "s", 0.01),
        ("BLMOVE", "s", "d", "LEFT", "LEFT", 0.01), ("BRPOPLPUSH", "s", "d", 0.01),
        ("BLMPOP", 0.01, 1, "s", "LEFT"),
    ]
    for c in calls:
        assert err(r, *c) == WRONGTYPE, c
    assert r.get("s") == "x"
    assert r.exists("d") == 0


# ---- keyspace integration -------------------------------------------------------


def test_copy_rename_type_memory(r):
    r.rpush("l", *[str(i) for i in range(1000)])
    assert r.copy("l", "c") is True
    r.lset("c", 0, "changed")
    assert r.lindex("l", 0) == "0"  # deep copy
    assert r.lrange("c", 0, 2) == ["changed", "1", "2"]
    r.rename("l", "m")
    assert r.exists("l") == 0
    assert r.llen("m") == 1000
    assert r.type("m") == "list"
    assert r.object("encoding", "c") == "quicklist"
    mem = r.memory_usage("m")
    assert 1000 < mem < 40000


def test_watch_is_invalidated_by_list_writes(server, r):
    r.rpush("l", "a", "b")
    other = server.client(decode_responses=True)
    for write in (lambda: other.rpush("l", "c"), lambda: other.lpop("l"), lambda: other.lset("l", 0, "z"),
                  lambda: other.ltrim("l", 0, 5), lambda: other.linsert("l", "before", "z", "q")):
        p = r.pipeline()
        p.watch("l")
        p.multi()
        p.llen("l")
        write()
        with pytest.raises(redis.WatchError):
            p.execute()


def test_element_costs_bytes_not_a_heap_node(r):
    before = r.info("memory")["used_memory"]
    for chunk in range(10):
        r.rpush("l", *[str(chunk * 10000 + i) for i in range(10000)])
    after = r.info("memory")["used_memory"]
    per_element = (after - before) / 100000
    assert per_element < 12, per_element


# ---- big lists across many nodes against a model ----------------------------------


def test_big_list_against_model(server_factory):
    srv = server_factory("--list-max-listpack-size", "4")
    r = srv.client(decode_responses=True)
    rnd = random.Random(7)
    model = [str(i) if i % 3 else "v%d" % (i % 50) for i in range(10000)]
    p = r.pipeline(transaction=False)
    for i in range(0, len(model), 1000):
        p.rpush("l", *model[i:i + 1000])
    p.execute()
    assert r.lrange("l", 0, -1) == model

    for step in range(300):
        n = len(model)
        op = rnd.randrange(6)
        if op == 0:
            a, b = rnd.randrange(-n - 5, n + 5), rnd.randrange(-n - 5, n + 5)
            s, e = (a + n if a < 0 else a), (b + n if b < 0 else b)
            s = max(s, 0)
            assert r.lrange("l", a, b) == (model[s:e + 1] if s <= e else [])
        elif op == 1:
            i = rnd.randrange(-n, n)
            assert r.lindex("l", i) == model[i]
        elif op == 2:
            i = rnd.randrange(-n, n)
            v = rnd.choice(["s%d" % step, str(step), "x" * rnd.randrange(100)])
            r.lset("l", i, v)
            model[i] = v
        elif op == 3:
            pivot = rnd.choice(model)
            where = rnd.choice(["BEFORE", "AFTER"])
            v = "ins%d" % step
            idx = model.index(pivot)
            assert r.linsert("l", where, pivot, v) == n + 1
            model.insert(idx if where == "BEFORE" else idx + 1, v)
        elif op == 4:
            v = "v%d" % rnd.randrange(50)
            cnt = rnd.choice([0, 1, 3, -1, -3])
            pos = [k for k, x in enumerate(model) if x == v]
            gone = pos if cnt == 0 else (pos[:cnt] if cnt > 0 else pos[cnt:])
            assert r.lrem("l", cnt, v) == len(gone)
            drop = set(gone)
            model = [x for k, x in enumerate(model) if k not in drop]
        else:
            if n > 2000 and rnd.random() < 0.5:
                a, b = rnd.randrange(0, 50), rnd.randrange(-50, -1)
                r.ltrim("l", a, b)
                model = model[a:n + b + 1]
        if step % 50 == 0:
            assert r.lrange("l", 0, -1) == model
    assert r.llen("l") == len(model)
    assert r.lrange("l", 0, -1) == model
    assert r.execute_command("RPOP", "l", 5) == model[::-1][:5]


# ---- blocking (basics; the deep tests are the block module's) --------------------


def test_blpop_served_at_once(r):
    r.rpush("b", "x", "y")
    assert r.blpop(["nokey", "b"], timeout=1) == ("b", "x")
    assert r.brpop(["b"], timeout=1) == ("b", "y")
    assert r.exists("b") == 0


def test_blpop_woken_by_push_from_another_client(server, r):
    out = {}
    blocked = server.client(decode_responses=True)

    def run():
        out["v"] = blocked.blpop(["q1", "q2"], timeout=5)

    t = threading.Thread(target=run)
    t.start()
    wait_until(lambda: r.info("clients")["blocked_clients"] == 1, what="client to block")
    assert r.rpush("q2", "hello", "world") == 2
    t.join(10)
    assert out["v"] == ("q2", "hello")
    assert r.lrange("q2", 0, -1) == ["world"]


def test_blmove_and_blmpop_woken(server, r):
    out = {}
    c1 = server.client(decode_responses=True)
    c2 = server.client(decode_responses=True)
    t1 = threading.Thread(target=lambda: out.__setitem__("move", c1.blmove("src", "dst", 5, "RIGHT", "LEFT")))
    t2 = threading.Thread(target=lambda: out.__setitem__(
        "mpop", c2.execute_command("BLMPOP", 5, 1, "m", "RIGHT", "COUNT", 2)))
    t1.start()
    t2.start()
    wait_until(lambda: r.info("clients")["blocked_clients"] == 2, what="clients to block")
    r.rpush("src", "a", "b")
    r.rpush("m", "1", "2", "3")
    t1.join(10)
    t2.join(10)
    assert out["move"] == "b"
    assert r.lrange("dst", 0, -1) == ["b"]
    assert out["mpop"] == ["m", ["3", "2"]]


def test_blocking_timeouts(server, r):
    assert r.blpop(["nokey"], timeout=0.1) is None
    assert r.execute_command("BRPOP", "nokey", "0.1") is None
    assert r.execute_command("BLMPOP", "0.1", 1, "nokey", "LEFT") is None
    s = server.raw()
    # Redis 7.0 times out every list command with a null array, BLMOVE too.
    assert resp_exchange(s, cmd("BLMOVE", "nokey", "d", "LEFT", "LEFT", "0.1")) == b"*-1\r\n"
    assert resp_exchange(s, cmd("BRPOPLPUSH", "nokey", "d", "0.1")) == b"*-1\r\n"


def test_blocking_inside_multi_replies_at_once(server):
    s = server.raw()
    for c in (cmd("MULTI"), cmd("BLPOP", "nokey", 0), cmd("BLMOVE", "nokey", "d", "LEFT", "LEFT", 0),
              cmd("BLMPOP", 0, 1, "nokey", "LEFT")):
        resp_exchange(s, c)
    assert resp_exchange(s, cmd("EXEC"), until=b"*-1\r\n$-1\r\n*-1\r\n") == b"*3\r\n*-1\r\n$-1\r\n*-1\r\n"


def test_blocking_argument_errors(r):
    assert err(r, "BLPOP", "k", "x") == "timeout is not a float or out of range"
    assert err(r, "BLPOP", "k", -1) == "timeout is negative"
    assert err(r, "BRPOPLPUSH", "k", "d", "x") == "timeout is not a float or out of range"
    assert err(r, "BLMOVE", "k", "d", "UP", "LEFT", 0) == SYNTAX  # directions before the timeout
    assert err(r, "BLMOVE", "k", "d", "LEFT", "LEFT", -1) == "timeout is negative"
    assert err(r, "BLMPOP", -1, 1, "k", "LEFT") == "timeout is negative"
    assert err(r, "BLMPOP", 0, 0, "k", "LEFT") == "numkeys should be greater than 0"
    assert err(r, "BLMPOP", 0, 1, "k", "LEFT", "COUNT", 0) == "count should be greater than 0"
    # As in Redis, numkeys, direction and COUNT are checked before the timeout.
    assert err(r, "BLMPOP", -1, 0, "k", "LEFT") == "numkeys should be greater than 0"
    assert err(r, "BLMPOP", "x", 2, "k", "LEFT") == SYNTAX
    assert err(r, "BLMPOP", "x", 1, "k", "MID") == SYNTAX
    assert err(r, "BLMPOP", -1, 1, "k", "LEFT", "COUNT", 0) == "count should be greater than 0"
    r.rpush("full", "a")  # a bad timeout is an error even when the list has data
    assert err(r, "BLMPOP", "x", 1, "full", "LEFT") == "timeout is not a float or out of range"
    assert err(r, "BZMPOP", -1, 0, "k", "MIN") == "numkeys should be greater than 0"
    assert r.lrange("full", 0, -1) == ["a"]


# ---- command table --------------------------------------------------------------

# (arity, flags, first, last, step, categories) from redis-server 7.0 COMMAND INFO.
COMMAND_INFO = {
    "lpush": (-3, ["write", "denyoom", "fast"], 1, 1, 1, ["@write", "@list", "@fast"]),
    "lpushx": (-3, ["write", "denyoom", "fast"], 1, 1, 1, ["@write", "@list", "@fast"]),
    "lpop": (-2, ["write", "fast"], 1, 1, 1, ["@write", "@list", "@fast"]),
    "llen": (2, ["readonly", "fast"], 1, 1, 1, ["@read", "@list", "@fast"]),
    "lrange": (4, ["readonly"], 1, 1, 1, ["@read", "@list", "@slow"]),
    "lset": (4, ["write", "denyoom"], 1, 1, 1, ["@write", "@list", "@slow"]),
    "lrem": (4, ["write"], 1, 1, 1, ["@write", "@list", "@slow"]),
    "lpos": (-3, ["readonly"], 1, 1, 1, ["@read", "@list", "@slow"]),
    "lmove": (5, ["write", "denyoom"], 1, 2, 1, ["@write", "@list", "@slow"]),
    "rpoplpush": (3, ["write", "denyoom"], 1, 2, 1, ["@write", "@list", "@slow"]),
    "lmpop": (-4, ["write", "movablekeys"], 0, 0, 0, ["@write", "@list", "@slow"]),
    "blpop": (-3, ["write", "noscript", "blocking"], 1, -2, 1, ["@write", "@list", "@slow", "@blocking"]),
    "blmove": (6, ["write", "denyoom", "noscript", "blocking"], 1, 2, 1, ["@write", "@list", "@slow", "@blocking"]),
    "brpoplpush": (4, ["write", "denyoom", "noscript", "blocking"], 1, 2, 1,
                   ["@write", "@list", "@slow", "@blocking"]),
    "blmpop": (-5, ["write", "blocking", "movablekeys"], 0, 0, 0, ["@write", "@list", "@slow", "@blocking"]),
}


def test_command_info_matches_redis(r):
    for name, (arity, flags, first, last, step, cats) in COMMAND_INFO.items():
        info = r.execute_command("COMMAND INFO", name)[0]
        assert info[0] == name
        assert info[1] == arity, name
        assert sorted(info[2]) == sorted(flags), name
        assert info[3:6] == [first, last, step], name
        assert sorted(info[6]) == sorted(cats), name
