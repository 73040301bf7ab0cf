"""Hash commands (t_hash.c): HSET/HSETNX/HMSET/HGET/HMGET/HDEL/HGETALL/
HKEYS/HVALS/HLEN/HEXISTS/HSTRLEN/HINCRBY/HINCRBYFLOAT/HRANDFIELD/HSCAN,
the listpack -> hashtable conversion, and the generic key commands on hashes.

Expected replies and error texts were taken from Redis 7.0.15's redis-server;
where RESP3 differs from RESP2 the raw bytes are asserted.
"""
import socket

import pytest
import redis

from conftest import cmd, exchange, resp_exchange, wait_until

WRONGTYPE = "WRONGTYPE Operation against a key holding the wrong kind of value"
NOT_INT = "value is not an integer or out of range"
HASH_NOT_INT = "hash value is not an integer"
OVERFLOW = "increment or decrement would overflow"
HASH_NOT_FLOAT = "hash value is not a float"
NOT_FLOAT = "value is not a valid float"
NAN_INF_INCR = "value is NaN or Infinity"
NAN_INF = "increment would produce NaN or Infinity"
SYNTAX = "syntax error"
LONG_MAX = 2**63 - 1


def err(r, *args):
    """The error text a command answers (redis-py strips the '-')."""
    with pytest.raises(redis.ResponseError) as e:
        r.execute_command(*args)
    return str(e.value)


@pytest.fixture
def rr(server):
    """Decoded client without redis-py's reply post-processing."""
    c = server.client(decode_responses=True)
    c.response_callbacks.clear()
    return c


def resp3(server):
    """A raw socket switched to RESP3 (HELLO 3 reply consumed)."""
    s = server.raw()
    got = resp_exchange(s, cmd("HELLO", "3"), until=b"modules\r\n*0\r\n")
    assert got.startswith(b"%7\r\n")
    return s


def big_hash(r, key, n, prefix="f"):
    """A hash of n fields (hashtable once n > 512), filled in batches."""
    for start in range(0, n, 500):
        mapping = {f"{prefix}{i}": f"v{i}" for i in range(start, min(n, start + 500))}
        r.hset(key, mapping=mapping)
    return {f"{prefix}{i}": f"v{i}" for i in range(n)}


def enc(r, key):
    return r.object("encoding", key)


# ---- HSET / HGET / HMSET / HMGET / HSETNX ---------------------------------------


def test_hset_hget_basic(r):
    assert r.hset("h", "a", "1") == 1
    assert r.hset("h", mapping={"a": "2", "b": "3", "c": "4"}) == 2  # a updated, b c added
    assert r.hget("h", "a") == "2"
    assert r.hget("h", "b") == "3"
    assert r.hget("h", "nope") is None
    assert r.hget("nokey", "a") is None
    # The same field twice in one call: created once, the last value wins.
    assert r.execute_command("HSET", "h2", "x", "1", "x", "2") == 1
    assert r.hget("h2", "x") == "2"
    assert r.type("h") == "hash"


def test_hset_odd_arguments_is_arity_error(r):
    r.hset("h", "a", "1")
    assert err(r, "HSET", "h", "a") == "wrong number of arguments for 'hset' command"
    assert err(r, "HSET", "h", "b", "2", "c") == "wrong number of arguments for 'hset' command"
    assert err(r, "HSET", "h") == "wrong number of arguments for 'hset' command"
    assert err(r, "HMSET", "h", "b", "2", "c") == "wrong number of arguments for 'hmset' command"
    assert err(r, "HSET", "new", "a") == "wrong number of arguments for 'hset' command"
    assert r.hgetall("h") == {"a": "1"}
    assert r.exists("new") == 0


def test_hmset_hmget(rr):
    assert rr.execute_command("HMSET", "h", "a", "1", "b", "2") == "OK"
    assert rr.execute_command("HMGET", "h", "a", "zz", "b") == ["1", None, "2"]
    assert rr.execute_command("HMGET", "nokey", "a", "b") == [None, None]


def test_hsetnx(r):
    assert r.hsetnx("h", "a", "1") == 1
    assert r.hsetnx("h", "a", "2") == 0
    assert r.hget("h", "a") == "1"
    assert r.hsetnx("h", "b", "2") == 1
    assert r.hgetall("h") == {"a": "1", "b": "2"}


def test_binary_safe_fields_and_values(rb):
    f, v = b"f\x00\r\n\xff", b"v\x00\r\nval\xfe"
    assert rb.hset("h", f, v) == 1
    assert rb.hget("h", f) == v
    assert rb.hgetall("h") == {f: v}
    assert rb.hstrlen("h", f) == len(v)
    assert rb.hset("h", b"", b"") == 1
    assert rb.hget("h", b"") == b""
    assert rb.hexists("h", b"") is True


def test_integer_looking_strings_round_trip_exactly(r):
    # Canonical integers are stored packed; every other spelling must come
    # back byte for byte.
    vals = ["0", "-0", "007", "1.0", "+1", " 1", "-1", "127", "128", "-4096", "4095", "65536",
            "9223372036854775807", "-9223372036854775808", "9223372036854775808",
            "-9223372036854775809", "12345678901234567890123"]
    mapping = {v: v for v in vals}
    r.hset("h", mapping=mapping)
    assert r.hgetall("h") == mapping
    for v in vals:
        assert r.hget("h", v) == v
        assert r.hstrlen("h", v) == len(v)
    assert sorted(r.hkeys("h")) == sorted(vals)
    assert sorted(r.hvals("h")) == sorted(vals)


# ---- reads ------------------------------------------------------------------------


def test_hgetall_hkeys_hvals_hlen_hexists_hstrlen(r):
    data = {"a": "1", "b": "hello", "c": "-42"}
    r.hset("h", mapping=data)
    assert r.hgetall("h") == data
    assert r.hkeys("h") == ["a", "b", "c"]  # listpack keeps insertion order
    assert r.hvals("h") == ["1", "hello", "-42"]
    assert r.hlen("h") == 3
    assert r.hexists("h", "b") is True
    assert r.hexists("h", "zz") is False
    assert r.hstrlen("h", "b") == 5
    assert r.hstrlen("h", "c") == 3
    assert r.hstrlen("h", "zz") == 0
    # Missing key: empty replies, not errors.
    assert r.hgetall("nokey") == {}
    assert r.hkeys("nokey") == []
    assert r.hvals("nokey") == []
    assert r.hlen("nokey") == 0
    assert r.hexists("nokey", "a") is False
    assert r.hstrlen("nokey", "a") == 0


def test_reads_on_hashtable_encoding(r):
    data = big_hash(r, "h", 1000)
    assert enc(r, "h") == "hashtable"
    assert r.hlen("h") == 1000
    assert r.hgetall("h") == data
    assert sorted(r.hkeys("h")) == sorted(data)
    assert sorted(r.hvals("h")) == sorted(data.values())
    assert r.hget("h", "f777") == "v777"
    assert r.hmget("h", "f1", "nope", "f999") == ["v1", None, "v999"]
    assert r.hstrlen("h", "f999") == 4
    assert r.hexists("h", "f0") is True
    assert r.hsetnx("h", "f0", "x") == 0
    assert r.hset("h", "f0", "a-much-longer-value-than-before" * 3) == 0
    assert r.hget("h", "f0") == "a-much-longer-value-than-before" * 3
    assert r.hset("h", "f0", "s") == 0
    assert r.hget("h", "f0") == "s"


# ---- HDEL and empty keys --------------------------------------------------------


@pytest.mark.parametrize("n", [3, 600])
def test_hdel_and_last_field_deletes_the_key(r, n):
    data = big_hash(r, "h", n)
    assert r.hdel("h", "f0", "f1", "nope") == 2
    assert r.hdel("h", "f0") == 0
    assert r.hlen("h") == n - 2
    assert r.hget("h", "f0") is None
    rest = [k for k in data if k not in ("f0", "f1")]
    # Fields after the one that empties the hash are ignored.
    assert r.hdel("h", *rest, "extra") == n - 2
    assert r.exists("h") == 0
    assert r.type("h") == "none"
    assert r.hdel("h", "x") == 0
    assert r.hdel("nokey", "a") == 0


def test_last_field_deleted_removes_ttl_too(r):
    r.hset("h", "a", "1")
    r.expire("h", 100)
    r.hset("h", "b", "2")  # writes keep the TTL
    assert 0 < r.ttl("h") <= 100
    r.hdel("h", "a", "b")
    assert r.exists("h") == 0
    r.hset("h", "a", "1")
    assert r.ttl("h") == -1


# ---- counters ---------------------------------------------------------------------


def test_hincrby(r):
    assert r.hincrby("h", "n", 5) == 5
    assert r.hincrby("h", "n", -7) == -2
    assert r.hget("h", "n") == "-2"
    assert r.hincrby("h", "new", 0) == 0
    r.hset("h", "big", str(LONG_MAX))
    assert r.hincrby("h", "big", -1) == LONG_MAX - 1
    r.hset("h", "neg", str(-LONG_MAX - 1))
    assert r.hincrby("h", "neg", 1) == -LONG_MAX
    r.hset("h", "padded", "007")  # not an integer for Redis
    assert err(r, "HINCRBY", "h", "padded", "1") == HASH_NOT_INT


def test_hincrby_errors_change_nothing(r):
    r.hset("h", mapping={"s": "abc", "big": str(LONG_MAX), "neg": str(-LONG_MAX - 1), "n": "1"})
    before = r.hgetall("h")
    assert err(r, "HINCRBY", "h", "s", "1") == HASH_NOT_INT
    assert err(r, "HINCRBY", "h", "big", "1") == OVERFLOW
    assert err(r, "HINCRBY", "h", "neg", "-1") == OVERFLOW
    assert err(r, "HINCRBY", "h", "n", "x") == NOT_INT
    assert err(r, "HINCRBY", "h", "n", "1.5") == NOT_INT
    assert err(r, "HINCRBY", "h", "n", "99999999999999999999") == NOT_INT
    assert err(r, "HINCRBY", "nokey", "n", "x") == NOT_INT
    assert r.hgetall("h") == before
    assert r.exists("nokey") == 0


def test_hincrbyfloat(rr):
    assert rr.execute_command("HINCRBYFLOAT", "h", "f", "10.5") == "10.5"
    assert rr.execute_command("HINCRBYFLOAT", "h", "f", "0.1") == "10.6"
    assert rr.execute_command("HINCRBYFLOAT", "h", "f", "-10.6") == "0"
    assert rr.execute_command("HINCRBYFLOAT", "h", "g", "5.0e3") == "5000"
    rr.execute_command("HSET", "h", "i", "7")
    assert rr.execute_command("HINCRBYFLOAT", "h", "i", "1") == "8"
    assert rr.execute_command("HGET", "h", "f") == "0"
    assert rr.execute_command("HGET", "h", "g") == "5000"


def test_hincrbyfloat_errors_change_nothing(r):
    r.hset("h", mapping={"s": "abc", "huge": "1e4932", "n": "1"})
    before = r.hgetall("h")
    assert err(r, "HINCRBYFLOAT", "h", "s", "1") == HASH_NOT_FLOAT
    assert err(r, "HINCRBYFLOAT", "h", "n", "abc") == NOT_FLOAT
    assert err(r, "HINCRBYFLOAT", "h", "n", "nan") == NOT_FLOAT
    assert err(r, "HINCRBYFLOAT", "h", "n", "inf") == NAN_INF_INCR
    assert err(r, "HINCRBYFLOAT", "h", "n", "-inf") == NAN_INF_INCR
    assert err(r, "HINCRBYFLOAT", "h", "huge", "1e4932") == NAN_INF
    assert err(r, "HINCRBYFLOAT", "nokey", "n", "x") == NOT_FLOAT
    r.hset("h", "nul", "1\x002")  # a NUL inside: not a number, as in Redis
    before["nul"] = "1\x002"
    assert err(r, "HINCRBYFLOAT", "h", "nul", "1") == HASH_NOT_FLOAT
    assert err(r, "HINCRBYFLOAT", "h", "n", "1\x00") == NOT_FLOAT
    assert r.hgetall("h") == before
    assert r.exists("nokey") == 0


# ---- WRONGTYPE ------------------------------------------------------------------------


@pytest.mark.parametrize("args", [
    ("HSET", "s", "a", "1"), ("HSETNX", "s", "a", "1"), ("HMSET", "s", "a", "1"), ("HGET", "s", "a"),
    ("HMGET", "s", "a"), ("HDEL", "s", "a"), ("HGETALL", "s"), ("HKEYS", "s"), ("HVALS", "s"),
    ("HLEN", "s"), ("HEXISTS", "s", "a"), ("HSTRLEN", "s", "a"), ("HINCRBY", "s", "a", "1"),
    ("HINCRBYFLOAT", "s", "a", "1"), ("HRANDFIELD", "s"), ("HRANDFIELD", "s", "2"),
    ("HRANDFIELD", "s", "0"), ("HRANDFIELD", "s", "-2", "WITHVALUES"), ("HSCAN", "s", "0"),
])
def test_wrongtype(r, args):
    r.set("s", "x")
    assert err(r, *args) == WRONGTYPE
    assert r.get("s") == "x"


def test_error_precedence_matches_redis(r):
    r.set("s", "x")
    # The increment / count / cursor is checked before the type.
    assert err(r, "HINCRBY", "s", "a", "x") == NOT_INT
    assert err(r, "HINCRBYFLOAT", "s", "a", "inf") == NAN_INF_INCR
    assert err(r, "HRANDFIELD", "s", "x") == NOT_INT
    assert err(r, "HSCAN", "s", "x") == "invalid cursor"
    # HSCAN on a missing key answers before looking at the options.
    assert r.hscan("nokey", 0, count=0) == (0, {})


# ---- HRANDFIELD ---------------------------------------------------------------------------


@pytest.mark.parametrize("n", [5, 1000])
def test_hrandfield(rr, n):
    r = rr
    data = big_hash(r, "h", n)
    assert r.execute_command("OBJECT", "ENCODING", "h") == ("listpack" if n <= 512 else "hashtable")
    for _ in range(20):
        assert r.execute_command("HRANDFIELD", "h") in data
    # Positive count: distinct fields, at most the hash size.
    for count in (1, 3, n // 2, n - 1, n, n + 10):
        got = r.execute_command("HRANDFIELD", "h", count)
        assert len(got) == min(count, n)
        assert len(set(got)) == len(got)
        assert set(got) <= set(data)
    assert sorted(r.execute_command("HRANDFIELD", "h", n + 10)) == sorted(data)
    # Negative count: exactly |count| picks, repeats allowed.
    got = r.execute_command("HRANDFIELD", "h", -(3 * n))
    assert len(got) == 3 * n
    assert set(got) <= set(data)
    if n == 5:
        assert len(set(got)) > 1
    # WITHVALUES: flat field, value list in RESP2, pairs consistent.
    for count in (2, -7, n + 1):
        flat = r.execute_command("HRANDFIELD", "h", count, "WITHVALUES")
        assert len(flat) == 2 * (min(count, n) if count > 0 else -count)
        for f, v in zip(flat[::2], flat[1::2]):
            assert data[f] == v
    assert r.execute_command("HRANDFIELD", "h", 0) == []
    assert r.execute_command("HRANDFIELD", "h", 0, "WITHVALUES") == []


def test_hrandfield_small_share_of_big_hash_is_distinct(rr):
    data = big_hash(rr, "h", 3000)
    for _ in range(10):
        got = rr.execute_command("HRANDFIELD", "h", 50, "WITHVALUES")
        fields = got[::2]
        assert len(fields) == 50 and len(set(fields)) == 50
        assert all(data[f] == v for f, v in zip(got[::2], got[1::2]))


def test_hrandfield_missing_key_and_errors(rr):
    r = rr
    assert r.execute_command("HRANDFIELD", "nokey") is None
    assert r.execute_command("HRANDFIELD", "nokey", 5) == []
    assert r.execute_command("HRANDFIELD", "nokey", -5, "WITHVALUES") == []
    r.execute_command("HSET", "h", "a", "1", "b", "2")
    assert err(r, "HRANDFIELD", "h", "x") == NOT_INT
    assert err(r, "HRANDFIELD", "h", "1.5") == NOT_INT
    assert err(r, "HRANDFIELD", "h", str(-2**63)) == \
        "value is out of range, value must between -9223372036854775807 and 9223372036854775807"
    assert err(r, "HRANDFIELD", "h", str(LONG_MAX), "WITHVALUES") == "value is out of range"
    assert err(r, "HRANDFIELD", "h", str(-(2**62)), "WITHVALUES") == "value is out of range"
    assert err(r, "HRANDFIELD", "h", str(2**62), "WITHVALUES") == "value is out of range"
    assert err(r, "HRANDFIELD", "h", "1", "WITHVALUESX") == SYNTAX
    assert err(r, "HRANDFIELD", "h", "1", "WITHVALUES", "x") == SYNTAX
    assert err(r, "HRANDFIELD", "h", "x", "WITHVALUES", "x") == NOT_INT
    # A huge positive count is just "the whole hash".
    assert sorted(r.execute_command("HRANDFIELD", "h", str(LONG_MAX))) == ["a", "b"]
    assert r.execute_command("HRANDFIELD", "h", "1", "withvalues") in (["a", "1"], ["b", "2"])


def test_hrandfield_huge_negative_count_stops_at_output_limit(server, r):
    # Redis streams such a reply until the client hits its output buffer
    # limit; the server must survive and keep serving others.
    r.hset("h", mapping={"a": "1", "b": "2"})
    r.config_set("client-output-buffer-limit", "normal 1mb 0 0")
    s = server.raw(timeout=10)
    s.sendall(cmd("HRANDFIELD", "h", str(-(2**62))))
    got = 0
    try:
        while True:
            chunk = s.recv(1 << 20)
            if not chunk:
                break
            got += len(chunk)
    except (ConnectionResetError, socket.timeout):
        pass
    assert got < 64 * 1024 * 1024
    assert r.ping() is True
    assert r.hlen("h") == 2


def test_hrandfield_resp3_shapes(server, r):
    r.hset("h", "a", "1")
    s = resp3(server)
    exchange(s, cmd("HRANDFIELD", "h", "1", "WITHVALUES"), b"*1\r\n*2\r\n$1\r\na\r\n$1\r\n1\r\n")
    exchange(s, cmd("HRANDFIELD", "h", "-2", "WITHVALUES"),
             b"*2\r\n*2\r\n$1\r\na\r\n$1\r\n1\r\n*2\r\n$1\r\na\r\n$1\r\n1\r\n")
    exchange(s, cmd("HRANDFIELD", "h", "5", "WITHVALUES"), b"*1\r\n*2\r\n$1\r\na\r\n$1\r\n1\r\n")
    exchange(s, cmd("HRANDFIELD", "h", "-2"), b"*2\r\n$1\r\na\r\n$1\r\na\r\n")
    exchange(s, cmd("HRANDFIELD", "h"), b"$1\r\na\r\n")
    exchange(s, cmd("HRANDFIELD", "nokey"), b"_\r\n")
    exchange(s, cmd("HRANDFIELD", "nokey", "2"), b"*0\r\n")
    exchange(s, cmd("HRANDFIELD", "h", "0", "WITHVALUES"), b"*0\r\n")
    # RESP2 for comparison: flat array.
    s2 = server.raw()
    exchange(s2, cmd("HRANDFIELD", "h", "-2", "WITHVALUES"), b"*4\r\n$1\r\na\r\n$1\r\n1\r\n$1\r\na\r\n$1\r\n1\r\n")
    exchange(s2, cmd("HRANDFIELD", "nokey"), b"$-1\r\n")


# ---- RESP3 reply shapes ------------------------------------------------------------------


def test_resp3_hgetall_map_and_others(server, r):
    r.hset("h", mapping={"a": "1", "b": "xy"})
    s = resp3(server)
    exchange(s, cmd("HGETALL", "h"), b"%2\r\n$1\r\na\r\n$1\r\n1\r\n$1\r\nb\r\n$2\r\nxy\r\n")
    exchange(s, cmd("HGETALL", "nokey"), b"%0\r\n")
    exchange(s, cmd("HKEYS", "h"), b"*2\r\n$1\r\na\r\n$1\r\nb\r\n")
    exchange(s, cmd("HVALS", "nokey"), b"*0\r\n")
    exchange(s, cmd("HINCRBYFLOAT", "h", "a", "1.5"), b"$3\r\n2.5\r\n")
    exchange(s, cmd("HINCRBYFLOAT", "h", "a", "abc"), b"-ERR value is not a valid float\r\n")
    exchange(s, cmd("HMGET", "h", "a", "zz"), b"*2\r\n$3\r\n2.5\r\n_\r\n")
    exchange(s, cmd("HGET", "h", "zz"), b"_\r\n")
    exchange(s, cmd("HSCAN", "h", "0"), b"*2\r\n$1\r\n0\r\n*4\r\n$1\r\na\r\n$3\r\n2.5\r\n$1\r\nb\r\n$2\r\nxy\r\n")
    exchange(s, cmd("HEXISTS", "h", "a"), b":1\r\n")
    # RESP2: the map is a flat array.
    s2 = server.raw()
    exchange(s2, cmd("HGETALL", "h"), b"*4\r\n$1\r\na\r\n$3\r\n2.5\r\n$1\r\nb\r\n$2\r\nxy\r\n")
    exchange(s2, cmd("HGETALL", "nokey"), b"*0\r\n")
    exchange(s2, cmd("HSET", "h", "a"), b"-ERR wrong number of arguments for 'hset' command\r\n")


# ---- HSCAN ---------------------------------------------------------------------------------


def test_hscan_listpack_returns_all_at_once(rr):
    r = rr
    r.execute_command("HSET", "h", "a1", "1", "a2", "2", "b1", "3")
    assert r.execute_command("HSCAN", "h", "0") == ["0", ["a1", "1", "a2", "2", "b1", "3"]]
    # Any cursor: a compact hash is always returned whole with cursor 0.
    assert r.execute_command("HSCAN", "h", "12345", "COUNT", "1") == ["0", ["a1", "1", "a2", "2", "b1", "3"]]
    assert r.execute_command("HSCAN", "h", "0", "MATCH", "a*") == ["0", ["a1", "1", "a2", "2"]]
    assert r.execute_command("HSCAN", "h", "0", "MATCH", "zz*") == ["0", []]
    assert r.execute_command("HSCAN", "h", "-1") == ["0", ["a1", "1", "a2", "2", "b1", "3"]]
    assert r.execute_command("HSCAN", "h", "") == ["0", ["a1", "1", "a2", "2", "b1", "3"]]
    assert r.execute_command("HSCAN", "nokey", "0") == ["0", []]


def test_hscan_errors(r):
    r.hset("h", "a", "1")
    assert err(r, "HSCAN", "h", "abc") == "invalid cursor"
    assert err(r, "HSCAN", "h", " 1") == "invalid cursor"
    assert err(r, "HSCAN", "h", "1x") == "invalid cursor"
    assert err(r, "HSCAN", "h", "18446744073709551616") == "invalid cursor"
    assert err(r, "HSCAN", "h", "0", "COUNT", "0") == SYNTAX
    assert err(r, "HSCAN", "h", "0", "COUNT", "-1") == SYNTAX
    assert err(r, "HSCAN", "h", "0", "COUNT", "x") == NOT_INT
    assert err(r, "HSCAN", "h", "0", "MATCH") == SYNTAX
    assert err(r, "HSCAN", "h", "0", "NOVALUES") == SYNTAX
    assert err(r, "HSCAN", "h", "0", "foo", "bar") == SYNTAX


def test_hscan_hashtable_full_iteration_with_match_and_count(r):
    data = big_hash(r, "h", 2000)
    seen = {}
    cursor = 0
    calls = 0
    while True:
        cursor, part = r.hscan("h", cursor, count=20)
        seen.update(part)
        calls += 1
        if cursor == 0:
            break
    assert seen == data
    assert calls > 10  # really incremental
    cursor, matched = 0, {}
    while True:
        cursor, part = r.hscan("h", cursor, match="f1*", count=100)
        matched.update(part)
        if cursor == 0:
            break
    assert matched == {k: v for k, v in data.items() if k.startswith("f1")}


def test_hscan_sees_every_field_across_rehash(r):
    # Fields present for the whole scan must be returned at least once while
    # the table grows (and shrinks) under the scan.
    base = big_hash(r, "h", 1000, prefix="base")
    assert r.object("encoding", "h") == "hashtable"
    seen = set()
    cursor, step, extra = 0, 0, 0
    while True:
        cursor, part = r.hscan("h", cursor, count=25)
        seen.update(part)
        step += 1
        # Interleaved writes: grow the table past several doublings...
        if step < 40:
            r.hset("h", mapping={f"x{extra + i}": "1" for i in range(200)})
            extra += 200
        # ...then delete the extras so it shrinks again.
        elif step == 40:
            for start in range(0, extra, 500):
                r.hdel("h", *[f"x{i}" for i in range(start, min(extra, start + 500))])
        if cursor == 0:
            break
    assert set(base) <= seen
    assert r.hlen("h") == 1000


# ---- encodings ----------------------------------------------------------------------------------


def test_encoding_listpack_then_hashtable_by_entries(r):
    for i in range(512):
        r.hset("h", f"f{i}", "v")
    assert enc(r, "h") == "listpack"
    r.hset("h", "f512", "v")
    assert enc(r, "h") == "hashtable"
    # One way: deleting back to one field keeps the table.
    r.hdel("h", *[f"f{i}" for i in range(1, 513)])
    assert r.hgetall("h") == {"f0": "v"}
    assert enc(r, "h") == "hashtable"


def test_encoding_by_value_and_field_length(r):
    r.hset("h1", "a", "x" * 64)
    assert enc(r, "h1") == "listpack"
    r.hset("h1", "b", "x" * 65)
    assert enc(r, "h1") == "hashtable"
    assert r.hget("h1", "a") == "x" * 64 and r.hget("h1", "b") == "x" * 65
    r.hset("h2", "f" * 65, "1")
    assert enc(r, "h2") == "hashtable"
    # Counters convert when the written field or value is too long.
    r.hincrby("h3", "f" * 70, 1)
    assert enc(r, "h3") == "hashtable"
    r.hincrbyfloat("h4", "f", "1e60")
    assert enc(r, "h4") == "listpack"
    r.hincrbyfloat("h4", "f", "1e70")  # 71 characters now
    assert enc(r, "h4") == "hashtable"
    assert r.hget("h4", "f") == "10000000001000000000187985003112119564714657093112162467133344534495232"
    # HSETNX on an existing field writes nothing, so nothing converts.
    r.hset("h5", "x", "1")
    assert r.hsetnx("h5", "x", "y" * 100) == 0
    assert enc(r, "h5") == "listpack"
    assert r.hsetnx("h5", "z", "y" * 100) == 1
    assert enc(r, "h5") == "hashtable"


def test_encoding_thresholds_follow_config_set(r):
    r.config_set("hash-max-listpack-entries", 2)
    r.hset("h", mapping={"a": "1", "b": "2"})
    assert enc(r, "h") == "listpack"
    r.hset("h", "c", "3")
    assert enc(r, "h") == "hashtable"
    assert r.hgetall("h") == {"a": "1", "b": "2", "c": "3"}
    r.config_set("hash-max-listpack-entries", 0)
    r.hset("h0", "a", "1")
    assert enc(r, "h0") == "hashtable"
    r.config_set("hash-max-listpack-entries", 512)
    r.config_set("hash-max-listpack-value", 3)
    r.hset("v", "abc", "abc")
    assert enc(r, "v") == "listpack"
    r.hset("v", "abcd", "1")
    assert enc(r, "v") == "hashtable"
    # The old ziplist names are aliases.
    r.config_set("hash-max-ziplist-value", 64)
    assert r.config_get("hash-max-listpack-value") == {"hash-max-listpack-value": "64"}
    r.hset("w", "abcd", "1")
    assert enc(r, "w") == "listpack"
    # Existing hashes are not converted by CONFIG SET alone.
    r.config_set("hash-max-listpack-entries", 1)
    r.hset("y", "only", "1")
    assert enc(r, "y") == "listpack"


@pytest.mark.parametrize("write, converts", [
    (("HSET", "h", "a", "9"), True), (("HMSET", "h", "a", "9"), True), (("HINCRBY", "h", "a", "1"), True),
    (("HINCRBYFLOAT", "h", "a", "1"), True), (("HSETNX", "h", "a", "9"), False), (("HDEL", "h", "a"), False),
    (("HGET", "h", "a"), False)])
def test_hash_over_a_lowered_limit_converts_on_its_next_write(r, write, converts):
    """As Redis' hashTypeSet: after every write of a field, updates too, a
    listpack with more fields than hash-max-listpack-entries converts."""
    r.hset("h", mapping={"a": "1", "b": "2", "c": "3"})
    r.config_set("hash-max-listpack-entries", 2)
    try:
        assert enc(r, "h") == "listpack"
        r.execute_command(*write)
        assert enc(r, "h") == ("hashtable" if converts else "listpack")
    finally:
        r.config_set("hash-max-listpack-entries", 512)


# ---- generic key commands on hashes ------------------------------------------------------


@pytest.mark.parametrize("n", [3, 700])
def test_copy_rename_type_memory_usage(r, n):
    data = big_hash(r, "h", n)
    encoding = "listpack" if n <= 512 else "hashtable"
    assert r.type("h") == "hash"
    assert enc(r, "h") == encoding
    assert r.copy("h", "c") is True
    assert enc(r, "c") == encoding
    assert r.hgetall("c") == data
    # A deep copy: changing one leaves the other alone.
    r.hset("c", "f0", "changed")
    r.hdel("c", "f1")
    assert r.hget("h", "f0") == "v0" and r.hget("h", "f1") == "v1"
    assert r.rename("c", "d") is True
    assert r.exists("c") == 0
    assert r.hget("d", "f0") == "changed"
    assert r.hlen("d") == n - 1
    mu = r.memory_usage("h")
    assert mu > sum(len(k) + len(v) for k, v in data.items())
    assert mu < 200 * n + 1000
    r.delete("h", "d")
    assert r.exists("h", "d") == 0


def test_memory_usage_grows_with_content(r):
    r.hset("h", "a", "1")
    small = r.memory_usage("h")
    r.hset("h", mapping={f"field{i}": "x" * 50 for i in range(100)})
    assert r.memory_usage("h") > small + 100 * 50


def test_watch_sees_hash_writes_only_when_they_change(server, r):
    r.hset("h", "a", "1")
    other = server.client(decode_responses=True)

    def run_watched(change):
        p = r.pipeline()
        p.watch("h")
        change()
        p.multi()
        p.hget("h", "a")
        try:
            return p.execute()
        except redis.WatchError:
            return None

    assert run_watched(lambda: other.hset("h", "a", "2")) is None
    assert run_watched(lambda: other.hincrby("h", "a", 1)) is None
    assert run_watched(lambda: other.hincrbyfloat("h", "a", 1)) is None
    assert run_watched(lambda: other.hdel("h", "zz")) == ["4"]   # nothing deleted
    assert run_watched(lambda: other.hsetnx("h", "a", "x")) == ["4"]  # nothing set
    assert run_watched(lambda: other.hsetnx("h", "b", "x")) is None
    assert run_watched(lambda: other.hdel("h", "b")) is None


def test_dirty_counts_writes(r):
    def changes():
        return int(r.info("persistence")["rdb_changes_since_last_save"])

    start = changes()
    r.hset("h", mapping={"a": "1", "b": "2"})
    r.hdel("h", "a", "nope")
    r.hincrby("h", "c", 1)
    r.hsetnx("h", "c", "9")  # no change
    r.hget("h", "b")
    assert changes() - start == 4  # 2 set + 1 deleted + 1 increment


def test_command_info_matches_redis(rr):
    expected = {
        "hset": (-4, ["write", "denyoom", "fast"], ["@write", "@hash", "@fast"]),
        "hsetnx": (4, ["write", "denyoom", "fast"], ["@write", "@hash", "@fast"]),
        "hget": (3, ["readonly", "fast"], ["@read", "@hash", "@fast"]),
        "hmset": (-4, ["write", "denyoom", "fast"], ["@write", "@hash", "@fast"]),
        "hmget": (-3, ["readonly", "fast"], ["@read", "@hash", "@fast"]),
        "hdel": (-3, ["write", "fast"], ["@write", "@hash", "@fast"]),
        "hgetall": (2, ["readonly"], ["@read", "@hash", "@slow"]),
        "hkeys": (2, ["readonly"], ["@read", "@hash", "@slow"]),
        "hvals": (2, ["readonly"], ["@read", "@hash", "@slow"]),
        "hlen": (2, ["readonly", "fast"], ["@read", "@hash", "@fast"]),
        "hexists": (3, ["readonly", "fast"], ["@read", "@hash", "@fast"]),
        "hstrlen": (3, ["readonly", "fast"], ["@read", "@hash", "@fast"]),
        "hincrby": (4, ["write", "denyoom", "fast"], ["@write", "@hash", "@fast"]),
        "hincrbyfloat": (4, ["write", "denyoom", "fast"], ["@write", "@hash", "@fast"]),
        "hrandfield": (-2, ["readonly"], ["@read", "@hash", "@slow"]),
        "hscan": (-3, ["readonly"], ["@read", "@hash", "@slow"]),
    }
    for name, (arity, flags, acl) in expected.items():
        info = rr.execute_command("COMMAND", "INFO", name)[0]
        assert info[0] == name
        assert info[1] == arity
        assert info[2] == flags
        assert info[3:6] == [1, 1, 1]
        assert info[6] == acl
