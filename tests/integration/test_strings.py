"""String commands (t_string.c): GET/SET and every option, SETNX/SETEX/
PSETEX, MGET/MSET/MSETNX, GETSET/GETDEL/GETEX, the INCR family,
INCRBYFLOAT, APPEND/STRLEN/GETRANGE/SUBSTR/SETRANGE and LCS.

Expected replies and error texts were taken from Redis 7.0's redis-server;
where the wire format is subtle the raw bytes are asserted.
"""
import time

import pytest
import redis

from conftest import resp_exchange, wait_until

NOT_INT = "value is not an integer or out of range"
OVERFLOW = "increment or decrement would overflow"
NOT_FLOAT = "value is not a valid float"
NAN_INF = "increment would produce NaN or Infinity"
SYNTAX = "syntax error"
WRONGTYPE = "WRONGTYPE Operation against a key holding the wrong kind of value"
TOO_BIG = "string exceeds maximum allowed size (proto-max-bulk-len)"
LLONG_MAX = 2**63 - 1
LLONG_MIN = -(2**63)


def err(r, *args):
    """The error text a command answers (redis-py strips the '-')."""
    with pytest.raises(redis.ResponseError) as e:
        r.execute_command(*args)
    return str(e.value)


def invalid_expire(cmd):
    return f"invalid expire time in '{cmd}' command"


def raw_cmd(*args):
    out = b"*%d\r\n" % len(args)
    for a in args:
        a = a if isinstance(a, bytes) else str(a).encode()
        out += b"$%d\r\n%s\r\n" % (len(a), a)
    return out


@pytest.fixture
def rr(server):
    """Decoded client without redis-py's reply post-processing (SET with GET
    returns the old value, INCRBYFLOAT a string, COMMAND its raw array)."""
    c = server.client(decode_responses=True)
    c.response_callbacks.clear()
    return c


def make_non_string(r, key):
    """Create a key of another type (a list)."""
    r.execute_command("RPUSH", key, "x")


# ---- GET / SET ------------------------------------------------------------


def test_get_set_basic(r):
    assert r.get("k") is None
    assert r.set("k", "v") is True
    assert r.get("k") == "v"
    assert r.set("k", "v2") is True
    assert r.get("k") == "v2"
    assert r.set("empty", "") is True
    assert r.get("empty") == ""
    assert r.strlen("empty") == 0


def test_set_get_binary_safe(rb):
    val = b"a\x00b\r\n\x00\xff\xfe" * 10
    rb.set(b"bin\x00key", val)
    assert rb.get(b"bin\x00key") == val
    assert rb.get(b"bin") is None
    assert rb.strlen(b"bin\x00key") == len(val)


def test_one_mib_value(rb):
    val = bytes(range(256)) * 4096  # 1 MiB, every byte value
    assert rb.set("big", val) is True
    assert rb.get("big") == val
    assert rb.strlen("big") == 1 << 20
    assert rb.getrange("big", (1 << 20) - 3, -1) == val[-3:]


def test_integer_values_round_trip(r):
    for v in ("0", "-1", "123", str(LLONG_MAX), str(LLONG_MIN), "01", "+1", " 1", "1.0", "-0",
              "99999999999999999999", "123456789012345678901234567890"):
        r.set("k", v)
        assert r.get("k") == v
        assert r.strlen("k") == len(v)


def test_set_nx_xx(r):
    assert r.set("k", "v", xx=True) is None
    assert r.exists("k") == 0
    assert r.set("k", "v", nx=True) is True
    assert r.set("k", "w", nx=True) is None
    assert r.get("k") == "v"
    assert r.set("k", "w", xx=True) is True
    assert r.get("k") == "w"


def test_set_nx_xx_raw_null(server):
    s = server.raw()
    assert resp_exchange(s, raw_cmd("SET", "k", "v")) == b"+OK\r\n"
    assert resp_exchange(s, raw_cmd("SET", "k", "v", "NX")) == b"$-1\r\n"
    assert resp_exchange(s, raw_cmd("SET", "nokey", "v", "XX")) == b"$-1\r\n"


@pytest.mark.parametrize("opts", [
    ["NX", "XX"], ["XX", "NX"], ["EX", "10", "PX", "100"], ["PX", "10", "EX", "10"],
    ["EX", "10", "EXAT", "99999999999"], ["PXAT", "99999999999999", "PX", "10"],
    ["KEEPTTL", "EX", "10"], ["EX", "10", "KEEPTTL"], ["PX", "10", "KEEPTTL"], ["EXAT", "9999999999", "KEEPTTL"],
    ["EX"], ["PX"], ["EXAT"], ["PXAT"], ["foo"], ["PERSIST"], ["EX", "10", "foo"], ["NX", "bar"],
    ["EXX", "10"], ["N"],
])
def test_set_option_conflicts_are_syntax_errors(r, opts):
    r.set("k", "old")
    assert err(r, "SET", "k", "new", *opts) == SYNTAX
    assert r.get("k") == "old"
    assert r.ttl("k") == -1


@pytest.mark.parametrize("opts", [
    ["NX", "NX"], ["XX", "XX"], ["GET", "GET"], ["KEEPTTL", "KEEPTTL"], ["EX", "10", "EX", "20"],
    ["px", "100000", "Px", "200000"], ["nx", "get"], ["get", "xx"], ["kEePtTl"], ["ex", "100"],
])
def test_set_accepted_option_combinations(r, opts):
    r.set("k", "old")
    r.execute_command("SET", "k", "v", *opts)  # no error
    assert r.get("k") == ("old" if "nx" in [o.lower() for o in opts] else "v")


def test_set_repeated_expire_last_wins(r):
    assert r.execute_command("SET", "k", "v", "EX", "1000", "EX", "20") is True
    assert 15 <= r.ttl("k") <= 20


@pytest.mark.parametrize("opts", [
    ["EX", "0"], ["EX", "-1"], ["PX", "0"], ["PX", "-5"], ["EXAT", "0"], ["PXAT", "0"], ["EXAT", "-1"],
    ["EX", str(LLONG_MAX)], ["EX", str(LLONG_MAX // 1000 + 1)], ["PX", str(LLONG_MAX)],
    ["PX", str(LLONG_MAX - 1000)], ["EXAT", str(LLONG_MAX // 1000 + 1)],
])
def test_set_invalid_expire_time(r, opts):
    r.set("k", "old")
    assert err(r, "SET", "k", "new", *opts) == invalid_expire("set")
    assert r.get("k") == "old"


@pytest.mark.parametrize("val", ["abc", "1.5", "", " 10", "10 ", "99999999999999999999"])
def test_set_expire_not_integer(r, val):
    assert err(r, "SET", "k", "v", "EX", val) == NOT_INT
    assert err(r, "SET", "k", "v", "PXAT", val) == NOT_INT
    assert r.exists("k") == 0


def test_set_expire_error_wins_over_nx(r):
    r.set("k", "v")
    assert err(r, "SET", "k", "v", "NX", "EX", "0") == invalid_expire("set")


def test_set_ex_px_ttl(r):
    assert r.set("k", "v", ex=100) is True
    assert 95 <= r.ttl("k") <= 100
    assert r.set("k", "v", px=100000) is True
    assert 95000 <= r.pttl("k") <= 100000
    now = int(time.time())
    assert r.set("k", "v", exat=now + 200) is True
    assert 190 <= r.ttl("k") <= 200
    assert r.set("k", "v", pxat=(now + 300) * 1000) is True
    assert 290 <= r.ttl("k") <= 300
    assert r.expiretime("k") == now + 300


def test_set_px_expires(r):
    assert r.set("k", "v", px=50) is True
    assert r.get("k") == "v"
    wait_until(lambda: r.get("k") is None, timeout=5, what="k to expire")
    assert r.exists("k") == 0


def test_set_clears_ttl_unless_keepttl(r):
    r.set("k", "v", ex=100)
    assert r.set("k", "w") is True
    assert r.ttl("k") == -1
    r.set("k", "v", ex=100)
    assert r.set("k", "w", keepttl=True) is True
    assert r.get("k") == "w"
    assert 95 <= r.ttl("k") <= 100
    # KEEPTTL on a key without TTL, and on a missing key, leaves no TTL.
    r.set("p", "v")
    r.set("p", "w", keepttl=True)
    assert r.ttl("p") == -1
    assert r.set("new", "v", keepttl=True) is True
    assert r.ttl("new") == -1


def test_set_keepttl_then_expires(r):
    r.set("k", "v", px=80)
    r.set("k", "w", keepttl=True)
    assert r.get("k") == "w"
    wait_until(lambda: r.get("k") is None, timeout=5, what="k to expire with its kept TTL")


@pytest.mark.parametrize("opt", ["EXAT", "PXAT"])
def test_set_absolute_time_in_past_deletes(r, opt):
    r.set("k", "old")
    assert r.execute_command("SET", "k", "new", opt, "1") is True
    assert r.get("k") is None
    assert r.exists("k") == 0
    assert r.dbsize() == 0
    # On a missing key: OK, and nothing is created.
    assert r.execute_command("SET", "nokey", "v", opt, "1") is True
    assert r.exists("nokey") == 0
    assert r.dbsize() == 0


def test_set_get_option(r):
    assert r.set("k", "v", get=True) is None
    assert r.get("k") == "v"
    assert r.set("k", "w", get=True) == "v"
    assert r.get("k") == "w"
    r.set("n", 42)
    assert r.set("n", "x", get=True) == "42"


def test_set_get_with_nx_xx(rr):
    rr.set("k", "v")
    # NX on an existing key: old value returned, nothing changed.
    assert rr.execute_command("SET", "k", "w", "NX", "GET") == "v"
    assert rr.get("k") == "v"
    # XX on a missing key: nil, nothing created.
    assert rr.execute_command("SET", "nokey", "w", "XX", "GET") is None
    assert rr.exists("nokey") == 0
    assert rr.execute_command("SET", "k", "w", "XX", "GET") == "v"
    assert rr.get("k") == "w"
    assert rr.execute_command("SET", "fresh", "w", "NX", "GET") is None
    assert rr.get("fresh") == "w"


def test_set_get_pxat_past_returns_old_and_deletes(rr):
    rr.set("k", "old")
    assert rr.execute_command("SET", "k", "new", "GET", "PXAT", "1") == "old"
    assert rr.exists("k") == 0


def test_set_get_with_ttl(rr):
    rr.set("k", "v", ex=100)
    assert rr.execute_command("SET", "k", "w", "GET", "KEEPTTL") == "v"
    assert 95 <= rr.ttl("k") <= 100
    assert rr.execute_command("SET", "k", "x", "GET", "PX", "50000") == "w"
    assert 45000 < rr.pttl("k") <= 50000


def test_set_arity(r):
    assert err(r, "SET", "k") == "wrong number of arguments for 'set' command"
    assert err(r, "GET") == "wrong number of arguments for 'get' command"
    assert err(r, "GET", "a", "b") == "wrong number of arguments for 'get' command"


# ---- SETNX / SETEX / PSETEX -------------------------------------------------


def test_setnx(r):
    assert r.setnx("k", "v") is True
    assert r.setnx("k", "w") is False
    assert r.get("k") == "v"


def test_setnx_raw_integer_replies(server):
    s = server.raw()
    assert resp_exchange(s, raw_cmd("SETNX", "k", "v")) == b":1\r\n"
    assert resp_exchange(s, raw_cmd("SETNX", "k", "v")) == b":0\r\n"


def test_setnx_on_expired_key(r):
    r.set("k", "v", px=30)
    wait_until(lambda: r.setnx("k", "w"), timeout=5, what="SETNX to succeed after expiry")
    assert r.get("k") == "w"
    assert r.ttl("k") == -1


def test_setex_psetex(r):
    assert r.setex("k", 100, "v") is True
    assert r.get("k") == "v"
    assert 95 <= r.ttl("k") <= 100
    assert r.psetex("p", 100000, "v") is True
    assert 95000 <= r.pttl("p") <= 100000
    r.psetex("short", 40, "v")
    wait_until(lambda: r.get("short") is None, timeout=5, what="PSETEX key to expire")


@pytest.mark.parametrize("cmd", ["SETEX", "PSETEX"])
def test_setex_errors(r, cmd):
    r.set("k", "old")
    for bad in ("0", "-1"):
        assert err(r, cmd, "k", bad, "v") == invalid_expire(cmd.lower())
    assert err(r, cmd, "k", "abc", "v") == NOT_INT
    assert err(r, cmd, "k", "1.5", "v") == NOT_INT
    assert r.get("k") == "old"
    assert err(r, cmd, "k", "10") == f"wrong number of arguments for '{cmd.lower()}' command"


def test_setex_overflow(r):
    assert err(r, "SETEX", "k", str(LLONG_MAX), "v") == invalid_expire("setex")
    assert err(r, "PSETEX", "k", str(LLONG_MAX), "v") == invalid_expire("psetex")
    assert r.exists("k") == 0


# ---- MGET / MSET / MSETNX ---------------------------------------------------


def test_mget(r):
    r.set("a", "1")
    r.set("b", "two")
    assert r.mget("a", "missing", "b", "a") == ["1", None, "two", "1"]
    assert err(r, "MGET") == "wrong number of arguments for 'mget' command"


def test_mget_raw(server):
    s = server.raw()
    resp_exchange(s, raw_cmd("SET", "a", "1"))
    assert resp_exchange(s, raw_cmd("MGET", "a", "x"), until=b"$-1\r\n") == b"*2\r\n$1\r\n1\r\n$-1\r\n"


def test_mset(r):
    r.set("a", "old", ex=100)
    assert r.mset({"a": "1", "b": "2", "c": "3"}) is True
    assert r.mget("a", "b", "c") == ["1", "2", "3"]
    assert r.ttl("a") == -1  # MSET clears the TTL like SET
    assert r.execute_command("MSET", "d", "x", "d", "y") is True
    assert r.get("d") == "y"  # the last one wins


def test_mset_wrong_arity(r):
    assert err(r, "MSET", "a", "1", "b") == "wrong number of arguments for 'mset' command"
    assert err(r, "MSET", "a") == "wrong number of arguments for 'mset' command"
    assert r.exists("a") == 0
    assert err(r, "MSETNX", "a", "1", "b") == "wrong number of arguments for 'msetnx' command"
    assert r.exists("a") == 0


def test_msetnx(r):
    assert r.msetnx({"a": "1", "b": "2"}) is True
    assert r.msetnx({"b": "x", "c": "3"}) is False
    assert r.exists("c") == 0  # all or nothing
    assert r.get("b") == "2"
    # A key repeated in one MSETNX: both pairs apply, the last wins.
    assert r.execute_command("MSETNX", "q", "1", "q", "2") == 1
    assert r.get("q") == "2"


def test_msetnx_sees_expired_key_as_absent(r):
    r.set("a", "v", px=30)
    wait_until(lambda: r.pttl("a") == -2, timeout=5, what="a to expire")
    assert r.msetnx({"a": "1", "b": "2"}) is True


# ---- GETSET / GETDEL / GETEX --------------------------------------------------


def test_getset(r):
    assert r.getset("k", "v") is None
    assert r.get("k") == "v"
    r.expire("k", 100)
    assert r.getset("k", "w") == "v"
    assert r.get("k") == "w"
    assert r.ttl("k") == -1  # GETSET clears the TTL


def test_getdel(r):
    r.set("k", "v")
    r.set("n", 7)
    assert r.getdel("k") == "v"
    assert r.exists("k") == 0
    assert r.getdel("k") is None
    assert r.getdel("n") == "7"
    assert r.dbsize() == 0


def test_getex_without_options_keeps_ttl(r):
    assert r.getex("missing") is None
    r.set("k", "v", ex=100)
    assert r.getex("k") == "v"
    assert 95 <= r.ttl("k") <= 100


def test_getex_sets_ttl(r):
    r.set("k", "v")
    assert r.getex("k", ex=100) == "v"
    assert 95 <= r.ttl("k") <= 100
    assert r.getex("k", px=200000) == "v"
    assert 195000 <= r.pttl("k") <= 200000
    now = int(time.time())
    assert r.getex("k", exat=now + 300) == "v"
    assert 290 <= r.ttl("k") <= 300
    assert r.getex("k", pxat=(now + 400) * 1000) == "v"
    assert r.expiretime("k") == now + 400
    assert r.getex("k", persist=True) == "v"
    assert r.ttl("k") == -1
    assert r.getex("k", persist=True) == "v"  # no TTL to remove: still fine
    assert r.ttl("k") == -1


def test_getex_px_expires(r):
    r.set("k", "v")
    assert r.getex("k", px=50) == "v"
    wait_until(lambda: r.get("k") is None, timeout=5, what="k to expire after GETEX PX")


@pytest.mark.parametrize("opt", ["EXAT", "PXAT"])
def test_getex_absolute_past_deletes(r, opt):
    r.set("k", "v")
    assert r.execute_command("GETEX", "k", opt, "1") == "v"
    assert r.exists("k") == 0


@pytest.mark.parametrize("opts", [
    ["PERSIST", "EX", "10"], ["EX", "10", "PERSIST"], ["EX", "10", "PX", "100"], ["KEEPTTL"], ["NX"], ["XX"],
    ["GET"], ["EX"], ["PXAT"], ["foo"], ["EXAT", "1", "EX", "1"],
])
def test_getex_syntax_errors(r, opts):
    r.set("k", "v", ex=100)
    assert err(r, "GETEX", "k", *opts) == SYNTAX
    assert 95 <= r.ttl("k") <= 100
    # Syntax is checked before the key is looked up.
    assert err(r, "GETEX", "missing", *opts) == SYNTAX


def test_getex_invalid_expire(r):
    r.set("k", "v")
    for opts in (["EX", "0"], ["PX", "-1"], ["EXAT", "0"], ["EX", str(LLONG_MAX)], ["PX", str(LLONG_MAX)]):
        assert err(r, "GETEX", "k", *opts) == invalid_expire("getex")
    assert err(r, "GETEX", "k", "EX", "abc") == NOT_INT
    assert r.ttl("k") == -1
    # On a missing key the value is not looked at: nil, as Redis.
    assert r.execute_command("GETEX", "missing", "EX", "abc") is None
    assert r.execute_command("GETEX", "missing", "EX", "0") is None


def test_getex_repeated_option_last_wins(r):
    r.set("k", "v")
    assert r.execute_command("GETEX", "k", "EX", "1000", "EX", "20") == "v"
    assert 15 <= r.ttl("k") <= 20


# ---- INCR family ----------------------------------------------------------------


def test_incr_decr(r):
    assert r.incr("i") == 1
    assert r.incr("i") == 2
    assert r.decr("i") == 1
    assert r.decr("i") == 0
    assert r.decr("i") == -1
    assert r.incrby("i", 10) == 9
    assert r.incrby("i", -20) == -11
    assert r.decrby("i", 5) == -16
    assert r.decrby("i", -16) == 0
    assert r.get("i") == "0"
    assert r.decr("d") == -1
    assert r.incrby("b", 0) == 0
    assert r.get("b") == "0"


def test_incr_on_string_integers(r):
    r.set("i", "41")
    assert r.incr("i") == 42
    r.set("i", str(LLONG_MIN + 1))
    assert r.decr("i") == LLONG_MIN
    # A number built by APPEND (a raw string) is parsed and counted on.
    r.set("a", "1")
    r.append("a", "2")
    assert r.incr("a") == 13
    assert r.get("a") == "13"
    assert r.append("a", "5") == 3
    assert r.decrby("a", 100) == 35


@pytest.mark.parametrize("val", ["  1", " 1", "1 ", "01", "+1", "-0", "1a", "", "1.0", "1e3", "0x10",
                                 "99999999999999999999", "9223372036854775808", "-9223372036854775809", "abc"])
def test_incr_rejects_non_integers(r, val):
    r.set("i", val)
    for cmd in (["INCR", "i"], ["DECR", "i"], ["INCRBY", "i", "1"], ["DECRBY", "i", "1"]):
        assert err(r, *cmd) == NOT_INT
    assert r.get("i") == val


@pytest.mark.parametrize("arg", ["abc", "1.5", " 1", "+1", "01", "", "9223372036854775808"])
def test_incrby_bad_argument(r, arg):
    assert err(r, "INCRBY", "i", arg) == NOT_INT
    assert err(r, "DECRBY", "i", arg) == NOT_INT
    assert r.exists("i") == 0


def test_incr_overflow_edges(r):
    r.set("i", LLONG_MAX)
    assert err(r, "INCR", "i") == OVERFLOW
    assert err(r, "INCRBY", "i", "1") == OVERFLOW
    assert err(r, "DECRBY", "i", "-1") == OVERFLOW
    assert r.incrby("i", 0) == LLONG_MAX
    assert r.incrby("i", -1) == LLONG_MAX - 1
    assert r.incr("i") == LLONG_MAX
    r.set("i", LLONG_MIN)
    assert err(r, "DECR", "i") == OVERFLOW
    assert err(r, "DECRBY", "i", "1") == OVERFLOW
    assert err(r, "INCRBY", "i", str(LLONG_MIN)) == OVERFLOW
    assert r.incrby("i", LLONG_MAX) == -1
    r.set("i", LLONG_MIN)
    assert r.get("i") == str(LLONG_MIN)
    r.set("z", 1)
    assert r.incrby("z", LLONG_MAX - 1) == LLONG_MAX
    assert r.get("z") == str(LLONG_MAX)


def test_decrby_llong_min(r):
    assert err(r, "DECRBY", "i", str(LLONG_MIN)) == "decrement would overflow"
    assert r.exists("i") == 0
    r.set("i", "-1")
    assert err(r, "DECRBY", "i", str(LLONG_MIN)) == "decrement would overflow"
    assert r.decrby("i", LLONG_MAX) == LLONG_MIN


def test_incr_keeps_ttl_and_encoding(r):
    r.set("i", 5, ex=100)
    assert r.incr("i") == 6
    assert 95 <= r.ttl("i") <= 100
    assert r.object("encoding", "i") == "int"
    r.set("a", "1")
    r.append("a", "0")
    assert r.object("encoding", "a") == "raw"
    r.expire("a", 100)
    assert r.incr("a") == 11
    assert r.object("encoding", "a") == "int"
    assert 95 <= r.ttl("a") <= 100


def test_incr_raw_reply(server):
    s = server.raw()
    assert resp_exchange(s, raw_cmd("INCRBY", "i", str(LLONG_MIN + 1))) == b":-9223372036854775807\r\n"
    assert resp_exchange(s, raw_cmd("DECR", "i")) == b":-9223372036854775808\r\n"


def test_incr_many_pipelined(r):
    p = r.pipeline(transaction=False)
    for _ in range(1000):
        p.incr("c")
    assert p.execute()[-1] == 1000
    assert r.get("c") == "1000"


# ---- INCRBYFLOAT ------------------------------------------------------------------


def test_incrbyfloat_formatting(rr):
    rr.set("f", "10.5")
    assert rr.execute_command("INCRBYFLOAT", "f", "0.1") == "10.6"
    assert rr.execute_command("INCRBYFLOAT", "f", "5.0e3") == "5010.60000000000000009"
    assert rr.execute_command("INCRBYFLOAT", "f", "-5010.6") == "0"
    assert rr.execute_command("INCRBYFLOAT", "g", "3") == "3"
    assert rr.execute_command("INCRBYFLOAT", "g", "1.5e-10") == "3.00000000015"
    assert rr.execute_command("INCRBYFLOAT", "g", "-3.00000000015") == "0"
    assert rr.execute_command("INCRBYFLOAT", "h", "1.1") == "1.1"
    assert rr.execute_command("INCRBYFLOAT", "h", "2.2") == "3.3"
    assert rr.get("h") == "3.3"
    rr.set("i", 5)
    assert rr.execute_command("INCRBYFLOAT", "i", "-5") == "0"
    assert rr.execute_command("INCRBYFLOAT", "i", "-0.1") == "-0.1"
    assert rr.execute_command("INCRBYFLOAT", "j", "12345678901234567890") == "12345678901234567890"
    assert rr.execute_command("INCRBYFLOAT", "k", "0x10") == "16"
    assert rr.execute_command("INCRBYFLOAT", "l", "1.23e5") == "123000"
    assert rr.execute_command("INCRBYFLOAT", "m", "1e20") == "100000000000000000000"
    assert rr.execute_command("INCRBYFLOAT", "n", "0.000000000000000001") == "0"
    rr.set("o", "1e17")
    assert rr.execute_command("INCRBYFLOAT", "o", "1") == "100000000000000001"


def test_incrbyfloat_long_double_range(rr):
    # Long double: 1e308 * 3 does not overflow (it would in a double).
    rr.set("f", "1e308")
    out = rr.execute_command("INCRBYFLOAT", "f", "2e308")
    assert out.startswith("29999999999999999998") and len(out) == 309
    rr.set("g", "1e4932")
    assert err(rr, "INCRBYFLOAT", "g", "1e4932") == NAN_INF
    assert rr.get("g") == "1e4932"
    assert err(rr, "INCRBYFLOAT", "h", "1e4933") == NOT_FLOAT  # out of range even for long double


def test_incrbyfloat_errors(r):
    r.set("f", "1.5")
    for bad in ("abc", " 1", "1 ", "", "1.5.5", "nan", "1e"):
        assert err(r, "INCRBYFLOAT", "f", bad) == NOT_FLOAT
    for bad in ("inf", "-inf", "+inf"):
        assert err(r, "INCRBYFLOAT", "f", bad) == NAN_INF
    assert r.get("f") == "1.5"
    for val in ("abc", " 1.5", "1.5 ", "", "1,5"):
        r.set("v", val)
        assert err(r, "INCRBYFLOAT", "v", "1") == NOT_FLOAT
        assert r.get("v") == val
    # The key's value is checked before the increment.
    r.set("v", "x")
    assert err(r, "INCRBYFLOAT", "v", "inf") == NOT_FLOAT
    # A NUL inside the number (SETRANGE past the end pads with NULs) ends
    # the C string early; the whole value must still be a number.
    r.set("v", "1")
    assert r.setrange("v", 3, "2") == 4
    assert err(r, "INCRBYFLOAT", "v", "1") == NOT_FLOAT
    assert err(r, "INCRBYFLOAT", "f", "1\x00") == NOT_FLOAT
    assert r.get("v") == "1\x00\x002" and r.get("f") == "1.5"
    assert r.exists("missing") == 0
    assert err(r, "INCRBYFLOAT", "missing", "abc") == NOT_FLOAT
    assert r.exists("missing") == 0


def test_incrbyfloat_keeps_ttl_and_is_a_string(rr):
    rr.set("f", 3, ex=100)
    assert rr.execute_command("INCRBYFLOAT", "f", "0") == "3"
    assert 95 <= rr.ttl("f") <= 100
    assert rr.object("encoding", "f") == "embstr"  # as Redis: not int-encoded
    assert rr.incr("f") == 4  # but still an integer for INCR


def test_incrbyfloat_on_int_and_back(rr):
    rr.set("x", 10)
    assert rr.execute_command("INCRBYFLOAT", "x", "1.5") == "11.5"
    assert err(rr, "INCR", "x") == NOT_INT
    assert rr.execute_command("INCRBYFLOAT", "x", "-0.5") == "11"
    assert rr.incr("x") == 12


# ---- APPEND / STRLEN ---------------------------------------------------------------


def test_append(r):
    assert r.append("k", "hello") == 5
    assert r.append("k", " world") == 11
    assert r.get("k") == "hello world"
    assert r.append("k", "") == 11
    assert r.append("e", "") == 0
    assert r.exists("e") == 1  # APPEND of "" on a missing key creates it
    assert r.get("e") == ""


def test_append_to_integer(r):
    r.set("n", 123)
    assert r.append("n", "45") == 5
    assert r.get("n") == "12345"
    r.set("m", -5)
    assert r.append("m", "x") == 3
    assert r.get("m") == "-5x"


def test_append_binary_and_growth(rb):
    chunk = b"\x00\x01ab\r\n\xff"
    p = rb.pipeline(transaction=False)
    for _ in range(3000):
        p.append("k", chunk)
    lens = p.execute()
    assert lens[-1] == 3000 * len(chunk)
    assert lens == [len(chunk) * (i + 1) for i in range(3000)]
    assert rb.get("k") == chunk * 3000


def test_append_large(rb):
    big = b"x" * (1 << 20)
    rb.set("k", b"a")
    assert rb.append("k", big) == (1 << 20) + 1
    assert rb.append("k", b"z") == (1 << 20) + 2
    v = rb.get("k")
    assert v[:2] == b"ax" and v[-2:] == b"xz" and len(v) == (1 << 20) + 2


def test_append_keeps_ttl(r):
    r.set("k", "v", ex=100)
    r.append("k", "w")
    assert 95 <= r.ttl("k") <= 100
    assert r.get("k") == "vw"


def test_strlen(r):
    assert r.strlen("missing") == 0
    r.set("k", "hello")
    assert r.strlen("k") == 5
    r.set("n", -123)
    assert r.strlen("n") == 4
    r.set("n", LLONG_MIN)
    assert r.strlen("n") == 20


# ---- GETRANGE / SUBSTR ----------------------------------------------------------


@pytest.mark.parametrize("start,end,expected", [
    (0, 4, "hello"), (-5, -1, "world"), (0, -1, "hello world"), (100, 200, ""), (-100, 2, "hel"),
    (5, 3, ""), (-1, -5, ""), (0, 100, "hello world"), (LLONG_MIN, LLONG_MAX, "hello world"),
    (-1, -1, "d"), (10, 10, "d"), (11, 11, ""), (0, 0, "h"), (-11, -11, "h"), (-12, -12, "h"), (3, -3, "lo wor"),
])
def test_getrange(r, start, end, expected):
    r.set("k", "hello world")
    assert r.getrange("k", start, end) == expected
    assert r.execute_command("SUBSTR", "k", start, end) == expected


def test_getrange_special(r):
    assert r.getrange("missing", 0, -1) == ""
    r.set("e", "")
    assert r.getrange("e", 0, -1) == ""
    assert r.getrange("e", -1, 0) == ""
    r.set("n", 12345)
    assert r.getrange("n", 1, 2) == "23"
    assert r.getrange("n", -2, -1) == "45"
    assert err(r, "GETRANGE", "k", "a", "1") == NOT_INT
    assert err(r, "GETRANGE", "k", "0", "1.5") == NOT_INT
    assert err(r, "GETRANGE", "k", "0") == "wrong number of arguments for 'getrange' command"


def test_getrange_raw_empty_bulk(server):
    s = server.raw()
    assert resp_exchange(s, raw_cmd("GETRANGE", "missing", "0", "-1"), until=b"\r\n\r\n") == b"$0\r\n\r\n"
    out = resp_exchange(s, raw_cmd("SUBSTR", "missing", "0", "-1"), until=b"\r\n\r\n")
    assert out == b"$0\r\n\r\n"


# ---- SETRANGE ------------------------------------------------------------------------


def test_setrange_create_and_pad(rb):
    assert rb.setrange("k", 5, b"abc") == 8
    assert rb.get("k") == b"\x00" * 5 + b"abc"
    assert rb.setrange("k", 0, b"XY") == 8
    assert rb.get("k") == b"XY\x00\x00\x00abc"
    assert rb.setrange("k", 10, b"Z") == 11
    assert rb.get("k") == b"XY\x00\x00\x00abc\x00\x00Z"
    assert rb.setrange("k", 1, b"\x00\xff") == 11
    assert rb.get("k") == b"X\x00\xff\x00\x00abc\x00\x00Z"


def test_setrange_zero_length(r):
    assert r.setrange("missing", 0, "") == 0
    assert r.setrange("missing", 100, "") == 0
    assert r.exists("missing") == 0
    r.set("k", "hello")
    assert r.setrange("k", 100, "") == 5
    assert r.get("k") == "hello"


def test_setrange_on_integer(r):
    r.set("n", 12345)
    assert r.setrange("n", 0, "9") == 5
    assert r.get("n") == "92345"
    assert r.incr("n") == 92346
    assert r.setrange("n", 5, "x") == 6
    assert r.get("n") == "92346x"


def test_setrange_errors(r):
    r.set("k", "hello")
    assert err(r, "SETRANGE", "k", "-1", "x") == "offset is out of range"
    assert err(r, "SETRANGE", "k", "abc", "x") == NOT_INT
    assert err(r, "SETRANGE", "k", "1.5", "x") == NOT_INT
    assert err(r, "SETRANGE", "k", "536870912", "x") == TOO_BIG
    assert err(r, "SETRANGE", "k", str(LLONG_MAX), "x") == TOO_BIG
    assert err(r, "SETRANGE", "new", "536870912", "x") == TOO_BIG
    assert err(r, "SETRANGE", "new", "536870910", "xyz") == TOO_BIG
    assert r.exists("new") == 0
    assert r.get("k") == "hello"
    # Zero-length at a huge offset is not an error: nothing to write.
    assert r.setrange("k", 536870912, "") == 5
    assert r.setrange("new", LLONG_MAX, "") == 0


def test_setrange_keeps_ttl(r):
    r.set("k", "hello", ex=100)
    r.setrange("k", 0, "J")
    assert r.get("k") == "Jello"
    assert 95 <= r.ttl("k") <= 100


def _set_proto_max(r, value):
    r.config_set("proto-max-bulk-len", value)


def test_proto_max_bulk_len_limits_append_and_setrange(r):
    _set_proto_max(r, "1mb")
    mib = 1 << 20
    assert r.setrange("k", mib - 1, "x") == mib
    assert err(r, "SETRANGE", "k", mib, "x") == TOO_BIG
    assert err(r, "APPEND", "k", "y") == TOO_BIG
    assert r.strlen("k") == mib
    assert err(r, "SETRANGE", "other", mib - 1, "xy") == TOO_BIG
    assert r.exists("other") == 0


# ---- LCS -------------------------------------------------------------------------------


def test_lcs(r):
    r.mset({"a": "ohmytext", "b": "mynewtext"})
    assert r.execute_command("LCS", "a", "b") == "mytext"
    assert r.execute_command("LCS", "a", "b", "LEN") == 6
    assert r.execute_command("LCS", "nope1", "nope2") == ""
    assert r.execute_command("LCS", "a", "nope", "LEN") == 0
    r.mset({"x": "rosettacode", "y": "raisethysword"})
    assert r.execute_command("LCS", "x", "y") == "rsetod"


def test_lcs_idx(r):
    r.mset({"a": "ohmytext", "b": "mynewtext"})
    assert r.execute_command("LCS", "a", "b", "IDX") == [
        "matches", [[[4, 7], [5, 8]], [[2, 3], [0, 1]]], "len", 6]
    assert r.execute_command("LCS", "a", "b", "IDX", "MINMATCHLEN", "4") == ["matches", [[[4, 7], [5, 8]]], "len", 6]
    assert r.execute_command("LCS", "a", "b", "IDX", "MINMATCHLEN", "4", "WITHMATCHLEN") == [
        "matches", [[[4, 7], [5, 8], 4]], "len", 6]
    assert r.execute_command("LCS", "a", "b", "IDX", "MINMATCHLEN", "-5", "WITHMATCHLEN") == [
        "matches", [[[4, 7], [5, 8], 4], [[2, 3], [0, 1], 2]], "len", 6]
    r.mset({"c": "12345", "d": "1x2x3x45"})
    assert r.execute_command("LCS", "c", "d", "IDX", "WITHMATCHLEN") == [
        "matches", [[[3, 4], [6, 7], 2], [[2, 2], [4, 4], 1], [[1, 1], [2, 2], 1], [[0, 0], [0, 0], 1]], "len", 5]
    assert r.execute_command("LCS", "nope1", "nope2", "IDX") == ["matches", [], "len", 0]


def test_lcs_errors(r):
    r.mset({"a": "ohmytext", "b": "mynewtext"})
    assert err(r, "LCS", "a", "b", "IDX", "LEN") == "If you want both the length and indexes, please just use IDX."
    assert err(r, "LCS", "a", "b", "foo") == SYNTAX
    assert err(r, "LCS", "a", "b", "MINMATCHLEN") == SYNTAX
    assert err(r, "LCS", "a", "b", "MINMATCHLEN", "x") == NOT_INT
    assert err(r, "LCS", "a") == "wrong number of arguments for 'lcs' command"


# ---- type errors (need a non-string type) ---------------------------------------


@pytest.mark.parametrize("cmd", [
    ["GET", "L"], ["SET", "L", "v", "GET"], ["GETSET", "L", "v"], ["GETDEL", "L"], ["GETEX", "L"],
    ["GETEX", "L", "EX", "10"], ["INCR", "L"], ["DECR", "L"], ["INCRBY", "L", "1"], ["DECRBY", "L", "1"],
    ["INCRBYFLOAT", "L", "1"], ["APPEND", "L", "x"], ["STRLEN", "L"], ["GETRANGE", "L", "0", "-1"],
    ["SUBSTR", "L", "0", "-1"], ["SETRANGE", "L", "0", "x"], ["SETRANGE", "L", "0", ""],
    ["SET", "L", "v", "NX", "GET"], ["SET", "L", "v", "XX", "GET", "EX", "10"],
])
def test_wrongtype(r, cmd):
    make_non_string(r, "L")
    before = r.type("L")
    assert err(r, *cmd) == WRONGTYPE
    assert r.type("L") == before
    assert r.ttl("L") == -1


def test_non_string_in_multi_key_commands(r):
    make_non_string(r, "L")
    r.set("s", "v")
    assert r.mget("s", "L", "missing") == ["v", None, None]
    assert err(r, "LCS", "s", "L") == "The specified keys must contain string values"
    assert r.msetnx({"L": "x", "new": "y"}) is False
    assert r.exists("new") == 0
    # Plain SET, GET-less, overwrites any type.
    assert r.set("L", "now a string") is True
    assert r.get("L") == "now a string"


# ---- RESP3 -------------------------------------------------------------------------------


def _hello3(server):
    s = server.raw()
    out = resp_exchange(s, raw_cmd("HELLO", "3"))
    assert out.startswith(b"%")
    if b"modules\r\n*0\r\n" not in out:
        out += resp_exchange(s, b"", until=b"modules\r\n*0\r\n")
    return s


def test_resp3_nulls(server):
    s = _hello3(server)
    assert resp_exchange(s, raw_cmd("GET", "missing")) == b"_\r\n"
    assert resp_exchange(s, raw_cmd("SET", "k", "v", "XX")) == b"_\r\n"
    assert resp_exchange(s, raw_cmd("SET", "k", "v", "GET")) == b"_\r\n"
    assert resp_exchange(s, raw_cmd("GETDEL", "nope")) == b"_\r\n"
    assert resp_exchange(s, raw_cmd("GETEX", "nope")) == b"_\r\n"
    assert resp_exchange(s, raw_cmd("MGET", "k", "x"), until=b"_\r\n") == b"*2\r\n$1\r\nv\r\n_\r\n"


def test_resp3_lcs_idx_is_a_map(server):
    s = _hello3(server)
    resp_exchange(s, raw_cmd("MSET", "a", "ab", "b", "ab"))
    out = resp_exchange(s, raw_cmd("LCS", "a", "b", "IDX"), until=b"len\r\n:2\r\n")
    assert out == (b"%2\r\n$7\r\nmatches\r\n*1\r\n*2\r\n*2\r\n:0\r\n:1\r\n*2\r\n:0\r\n:1\r\n"
                   b"$3\r\nlen\r\n:2\r\n")


# ---- WATCH sees in-place changes ----------------------------------------------------------


@pytest.mark.parametrize("cmd", [
    ["INCR", "k"], ["DECRBY", "k", "2"], ["INCRBYFLOAT", "k", "1.5"], ["APPEND", "k", "0"],
    ["SETRANGE", "k", "0", "9"], ["GETEX", "k", "EX", "100"], ["GETDEL", "k"], ["SET", "k", "1", "KEEPTTL"],
    ["GETSET", "k", "2"], ["MSET", "k", "3"], ["SET", "k", "1", "PXAT", "1"],
])
def test_watch_invalidated_by_string_writes(server, cmd):
    r1 = server.client(decode_responses=True)
    r2 = server.client(decode_responses=True)
    r1.set("k", "5")
    with r1.pipeline() as p:
        p.watch("k")
        r2.execute_command(*cmd)
        p.multi()
        p.get("k")
        with pytest.raises(redis.WatchError):
            p.execute()


def test_watch_not_invalidated_by_reads(server):
    r1 = server.client(decode_responses=True)
    r2 = server.client(decode_responses=True)
    r1.set("k", "5")
    with r1.pipeline() as p:
        p.watch("k")
        r2.get("k")
        r2.strlen("k")
        r2.getrange("k", 0, -1)
        r2.execute_command("SET", "k", "x", "NX")  # aborted: no change
        p.multi()
        p.incr("k")
        assert p.execute() == [6]


# ---- command table ------------------------------------------------------------------------

COMMAND_INFO = {
    # name: (arity, flags, first, last, step, acl categories) from Redis 7.0 COMMAND INFO
    "get": (2, ["readonly", "fast"], 1, 1, 1, ["@read", "@string", "@fast"]),
    "set": (-3, ["write", "denyoom"], 1, 1, 1, ["@write", "@string", "@slow"]),
    "setnx": (3, ["write", "denyoom", "fast"], 1, 1, 1, ["@write", "@string", "@fast"]),
    "setex": (4, ["write", "denyoom"], 1, 1, 1, ["@write", "@string", "@slow"]),
    "psetex": (4, ["write", "denyoom"], 1, 1, 1, ["@write", "@string", "@slow"]),
    "mget": (-2, ["readonly", "fast"], 1, -1, 1, ["@read", "@string", "@fast"]),
    "mset": (-3, ["write", "denyoom"], 1, -1, 2, ["@write", "@string", "@slow"]),
    "msetnx": (-3, ["write", "denyoom"], 1, -1, 2, ["@write", "@string", "@slow"]),
    "getset": (3, ["write", "denyoom", "fast"], 1, 1, 1, ["@write", "@string", "@fast"]),
    "getdel": (2, ["write", "fast"], 1, 1, 1, ["@write", "@string", "@fast"]),
    "getex": (-2, ["write", "fast"], 1, 1, 1, ["@write", "@string", "@fast"]),
    "incr": (2, ["write", "denyoom", "fast"], 1, 1, 1, ["@write", "@string", "@fast"]),
    "decr": (2, ["write", "denyoom", "fast"], 1, 1, 1, ["@write", "@string", "@fast"]),
    "incrby": (3, ["write", "denyoom", "fast"], 1, 1, 1, ["@write", "@string", "@fast"]),
    "decrby": (3, ["write", "denyoom", "fast"], 1, 1, 1, ["@write", "@string", "@fast"]),
    "incrbyfloat": (3, ["write", "denyoom", "fast"], 1, 1, 1, ["@write", "@string", "@fast"]),
    "append": (3, ["write", "denyoom", "fast"], 1, 1, 1, ["@write", "@string", "@fast"]),
    "strlen": (2, ["readonly", "fast"], 1, 1, 1, ["@read", "@string", "@fast"]),
    "getrange": (4, ["readonly"], 1, 1, 1, ["@read", "@string", "@slow"]),
    "substr": (4, ["readonly"], 1, 1, 1, ["@read", "@string", "@slow"]),
    "setrange": (4, ["write", "denyoom"], 1, 1, 1, ["@write", "@string", "@slow"]),
    "lcs": (-3, ["readonly"], 1, 2, 1, ["@read", "@string", "@slow"]),
}


def _parse(buf, i):
    """Parse one RESP2 reply from buf at i; returns (value, next index) or
    raises IndexError when buf is incomplete. Values keep their type tag."""
    j = buf.index(b"\r\n", i)
    t, line = buf[i:i + 1], buf[i + 1:j]
    if t in (b"+", b"-"):
        return (t, line), j + 2
    if t == b":":
        return int(line), j + 2
    if t == b"$":
        n = int(line)
        if n < 0:
            return None, j + 2
        if len(buf) < j + 2 + n + 2:
            raise IndexError
        return buf[j + 2:j + 2 + n], j + 4 + n
    if t == b"*":
        out, k = [], j + 2
        for _ in range(int(line)):
            v, k = _parse(buf, k)
            out.append(v)
        return out, k
    raise AssertionError(f"unexpected reply type {t!r}")


def read_reply(sock, timeout=5.0):
    deadline = time.monotonic() + timeout
    buf = b""
    while time.monotonic() < deadline:
        try:
            v, n = _parse(buf, 0)
            assert n == len(buf)
            return v
        except (IndexError, ValueError):
            pass
        chunk = sock.recv(65536)
        if not chunk:
            break
        buf += chunk
    raise AssertionError(f"incomplete reply: {buf[:200]!r}")


def test_command_info(server):
    s = server.raw()
    names = list(COMMAND_INFO)
    s.sendall(raw_cmd("COMMAND", "INFO", *names))
    infos = read_reply(s)
    assert len(infos) == len(names)
    for name, info in zip(names, infos):
        arity, flags, first, last, step, acl = COMMAND_INFO[name]
        assert info[0] == name.encode()
        assert info[1] == arity, name
        assert info[2] == [(b"+", f.encode()) for f in flags], name
        assert info[3:6] == [first, last, step], name
        assert info[6] == [(b"+", a.encode()) for a in acl], name


def test_command_getkeys_mset(rr):
    assert rr.execute_command("COMMAND", "GETKEYS", "MSET", "a", "1", "b", "2") == ["a", "b"]
    assert rr.execute_command("COMMAND", "GETKEYS", "LCS", "a", "b", "LEN") == ["a", "b"]
