"""Redis 7.0 functions: FUNCTION LOAD|DELETE|FLUSH|LIST|DUMP|RESTORE|STATS|
KILL|HELP, FCALL and FCALL_RO. Replies are compared byte for byte with
Debian's redis-server 7.0 (fresh for each comparison), over plaintext and
TLS, in RESP2 and RESP3; libraries travel both ways between the two servers
in FUNCTION DUMP payloads and in RDB snapshot files."""
import os
import shutil

import pytest

from conftest import Server, wait_until
from test_scripting import REDIS_BIN, RawReplies, compare, needs_redis, py_client, raw_conn, tls_args
from tlsutil import enc

LIB = """#!lua name=mylib
local function helper(keys, args)
    return redis.call('set', keys[1], args[1])
end
redis.register_function('setit', helper)
redis.register_function{function_name='getit', callback=function(keys, args) return redis.call('get', keys[1]) end,
    flags={'no-writes'}, description='reads a key'}
redis.register_function{function_name='echo_all', callback=function(keys, args) return {keys, args, 3.5, true, false} end,
    flags={'no-writes', 'allow-oom', 'allow-stale', 'no-cluster', 'allow-cross-slot-keys'}}
redis.register_function('types', function(keys, args)
    return {redis.status_reply('FINE'), {1, 2, {'x'}}, redis.call('hgetall', 'nohash')}
end)
redis.register_function('fail', function(keys, args) return redis.error_reply('MYERR custom') end)
redis.register_function('boom', function(keys, args) error('exploded') end)
redis.register_function('globals', function(keys, args) return KEYS end)
redis.register_function('newglobal', function(keys, args) x = 1 end)
redis.register_function('badcall', function(keys, args) return redis.call('nosuchcommand') end)
redis.register_function('setother', function(keys, args) return redis.call('set', 'other', 'v') end)
"""

LIB2 = """#!lua name=other
redis.register_function('other_fn', function(keys, args) return #keys + #args end)
"""


def load(code):
    return ("FUNCTION", "LOAD", "#!lua name=t\n" + code)


# Interactions whose replies must equal Redis 7.0's, in order (state carries
# from one to the next).
CALLS = [
    ("FUNCTION", "LIST"), ("FUNCTION", "STATS"),
    ("FUNCTION", "LOAD", LIB), ("FUNCTION", "LOAD", LIB), ("FUNCTION", "LOAD", "REPLACE", LIB),
    ("FUNCTION", "LOAD", LIB2),
    ("FUNCTION", "LIST"), ("FUNCTION", "LIST", "WITHCODE"), ("FUNCTION", "LIST", "LIBRARYNAME", "my*"),
    ("FUNCTION", "LIST", "LIBRARYNAME", "nomatch*"), ("FUNCTION", "LIST", "WITHCODE", "LIBRARYNAME", "oth*"),
    ("FUNCTION", "LIST", "LIBRARYNAME"), ("FUNCTION", "LIST", "bogus"), ("FUNCTION", "LIST", "WITHCODE", "WITHCODE"),
    ("FUNCTION", "STATS"),
    ("FCALL", "setit", "1", "k", "v"), ("FCALL", "getit", "1", "k"), ("FCALL_RO", "getit", "1", "k"),
    ("FCALL_RO", "setit", "1", "k", "v"), ("FCALL", "echo_all", "2", "a", "b", "c", "d"),
    ("FCALL", "types", "0"), ("FCALL", "fail", "0"), ("FCALL", "boom", "0"), ("FCALL", "globals", "0"),
    ("FCALL", "newglobal", "0"), ("FCALL", "badcall", "0"), ("FCALL", "other_fn", "1", "a", "b", "c"),
    ("FCALL", "nosuch", "0"), ("FCALL", "getit", "x"), ("FCALL", "getit", "-1"), ("FCALL", "getit", "3", "a"),
    ("FCALL",), ("FCALL", "getit"), ("FCALL_RO", "getit"),
    ("FUNCTION", "LOAD", "no shebang"), ("FUNCTION", "LOAD", "#!lua name=x"), ("FUNCTION", "LOAD", "#!lua\nx"),
    ("FUNCTION", "LOAD", "#!js name=x\nx"), ("FUNCTION", "LOAD", "#!lua name=x foo=bar\nx"),
    ("FUNCTION", "LOAD", "#!lua name=bad-name\nx"), ("FUNCTION", "LOAD", "#!lua name=x\n"),
    ("FUNCTION", "LOAD", "#!lua name=x\nreturn 1 +"), ("FUNCTION", "LOAD", "BOGUS", LIB2),
    ("FUNCTION", "LOAD", "REPLACE"), ("FUNCTION", "LOAD"),
    load("redis.call('ping')"), load("redis.register_function('1b-ad', function() end)"),
    load("redis.register_function('h', 5)"), load("redis.register_function('h', function() end, 1)"),
    load("redis.register_function()"), load("redis.register_function('x')"),
    load("redis.register_function{function_name='h', callback=function() end, flags={'bogus'}}"),
    load("redis.register_function{function_name='h', callback=function() end, flags='no-writes'}"),
    load("redis.register_function{function_name='h', callback=function() end, foo=1}"),
    load("redis.register_function{callback=function() end}"), load("redis.register_function{function_name='h'}"),
    load("redis.register_function('h', function() end) redis.register_function('h', function() end)"),
    load("redis.register_function('other_fn', function() end)"), load("string.len('x')"), load("y = 1"),
    load("error('load failed')"), load("local t = redis.REDIS_VERSION_NUM redis.log(redis.LOG_DEBUG, 'x')"),
    load("while true do end"), load("redis.setresp(3)"),
    ("FUNCTION", "DELETE", "t"), ("FUNCTION", "DELETE", "nosuch"), ("FUNCTION", "DELETE"),
    ("FUNCTION", "DELETE", "other"), ("FUNCTION", "DELETE", "other"),
    ("FUNCTION", "KILL"), ("FUNCTION", "STATS"), ("FUNCTION", "HELP"), ("FUNCTION", "BOGUS"), ("FUNCTION",),
    ("FUNCTION", "FLUSH", "bad"), ("FUNCTION", "FLUSH", "sync", "x"),
    ("FUNCTION", "RESTORE", "garbage"), ("FUNCTION", "RESTORE", "garbage", "bad"),
    ("FUNCTION", "RESTORE", "x", "FLUSH", "extra"),
    ("FUNCTION", "FLUSH", "ASYNC"), ("FUNCTION", "LIST"), ("FCALL", "getit", "1", "k"),
    ("FUNCTION", "LOAD", LIB), ("FUNCTION", "FLUSH", "SYNC"), ("FUNCTION", "FLUSH"), ("FUNCTION", "DUMP"),
]


def parse(buf, pos=0):
    """One RESP2/RESP3 reply from buf at pos: (value, next pos). Aggregates
    become tuples tagged with their type byte, so shapes compare too."""
    e = buf.index(b"\r\n", pos)
    t, rest, nxt = buf[pos:pos + 1], buf[pos + 1:e], e + 2
    if t in (b"$", b"=", b"!"):
        n = int(rest)
        return ((t, None) if n < 0 else (t, buf[nxt:nxt + n])), (nxt if n < 0 else nxt + n + 2)
    if t in (b"*", b"~", b"%", b">"):
        n = int(rest)
        if n < 0:
            return (t, None), nxt
        items = []
        for _ in range(n * 2 if t == b"%" else n):
            v, nxt = parse(buf, nxt)
            items.append(v)
        return (t, tuple(items)), nxt
    return (t, rest), nxt


def canon(v):
    """Order-free form of a FUNCTION LIST reply: Redis lists libraries and
    their functions in hash-table order (seeded at random per process)."""
    t, x = v
    if not isinstance(x, tuple):
        return v
    x = tuple(canon(i) for i in x)
    if t == b"%":
        return (t, tuple(sorted(zip(x[0::2], x[1::2]), key=repr)))
    if x and all(isinstance(i[1], tuple) for i in x):
        return (t, tuple(sorted(x, key=repr)))
    return (t, x)


def compare_calls(c, ref, calls):
    diffs = []
    for args in calls:
        a, b = c.call(*args), ref.call(*args)
        if args[:2] == ("FUNCTION", "LIST") and a.startswith((b"*", b"%")):
            same = canon(parse(a)[0]) == canon(parse(b)[0])
        else:
            same = a == b
        if not same:
            diffs.append(f"{args!r}\n  cachet: {a[:400]!r}\n  redis:  {b[:400]!r}")
    assert not diffs, "%d replies differ from Redis 7.0:\n" % len(diffs) + "\n".join(diffs)


@pytest.fixture
def reference(tmp_path):
    d = tmp_path / "redis"
    d.mkdir()
    s = Server(d, ("--save", ""), binary=REDIS_BIN)
    yield s
    s.stop()


@pytest.fixture(params=["plain", "tls"])
def transport(request):
    return request.param


@pytest.fixture
def cachet(server_factory, tls_certs):
    return server_factory("--save", "", *tls_args(tls_certs))


@needs_redis
@pytest.mark.parametrize("proto", [2, 3])
def test_function_replies_match_redis(cachet, reference, tls_certs, transport, proto):
    c, ref = raw_conn(cachet, transport, tls_certs), raw_conn(reference, "plain", tls_certs)
    if proto == 3:
        assert c.call("HELLO", "3").startswith(b"%") and ref.call("HELLO", "3").startswith(b"%")
    compare_calls(c, ref, CALLS)


def payload_of(conn):
    reply = conn.call("FUNCTION", "DUMP")
    assert reply.startswith(b"$")
    head, _, rest = reply.partition(b"\r\n")
    return rest[:int(head[1:])]


def restore_steps(p):
    """RESTORE with each policy, the collisions' errors, and damaged payloads."""
    return [("FUNCTION", "RESTORE", p), ("FUNCTION", "RESTORE", p, "APPEND"), ("FUNCTION", "RESTORE", p, "replace"),
            ("FUNCTION", "LIST", "WITHCODE"), ("FUNCTION", "RESTORE", p, "FLUSH"), ("FUNCTION", "LIST", "WITHCODE"),
            ("FCALL", "other_fn", "1", "a", "b"), ("FUNCTION", "RESTORE", p[:-1] + bytes([p[-1] ^ 1])),
            ("FUNCTION", "RESTORE", b"\x07" + p[1:]), ("FUNCTION", "RESTORE", p, "bogus")]


def replies(conn, steps):
    out = []
    for s in steps:
        r = conn.call(*s)
        out.append(canon(parse(r)[0]) if s[:2] == ("FUNCTION", "LIST") else r)
    return out


@needs_redis
def test_dump_restore_both_ways(cachet, reference, tls_certs, transport):
    c, ref = raw_conn(cachet, transport, tls_certs), raw_conn(reference, "plain", tls_certs)
    for conn in (c, ref):
        assert conn.call("FUNCTION", "LOAD", LIB) == b"$5\r\nmylib\r\n"
        assert conn.call("FUNCTION", "LOAD", LIB2) == b"$5\r\nother\r\n"
    # (The payloads' bytes differ: Redis' LZF finds other matches.)
    from_cachet, from_redis = payload_of(c), payload_of(ref)
    for conn in (c, ref):
        assert conn.call("FUNCTION", "DELETE", "other") == b"+OK\r\n"
    # Cachet's payload into Redis, Redis' into Cachet: the same replies as
    # each server restoring its own.
    redis_gets_cachet = replies(ref, restore_steps(from_cachet))
    assert redis_gets_cachet[0] == b"-ERR Library mylib already exists\r\n"
    assert redis_gets_cachet[2] == b"+OK\r\n" and redis_gets_cachet[6] == b":2\r\n"
    assert replies(c, restore_steps(from_redis)) == redis_gets_cachet
    # A function name another library owns: REPLACE fails too, as Redis.
    clash = "#!lua name=clash\nredis.register_function('setit', function() end)"
    tail = [("FUNCTION", "FLUSH"), ("FUNCTION", "LOAD", clash), ("FUNCTION", "RESTORE", from_cachet, "REPLACE"),
            ("FUNCTION", "RESTORE", from_cachet), ("FUNCTION", "LIST")]
    assert replies(c, tail) == replies(ref, tail)
    # An empty set of libraries dumps to a payload both take.
    for conn in (c, ref):
        conn.call("FUNCTION", "FLUSH")
    assert payload_of(c) == payload_of(ref)
    assert c.call("FUNCTION", "RESTORE", payload_of(ref)) == b"+OK\r\n"


def rdb_path(server):
    return os.path.join(server.dir, "dump.rdb")


def libraries(r, withcode=False):
    """FUNCTION LIST as {library name: code or None} (RESP2 flat pairs)."""
    out = {}
    for entry in r.function_list(withcode=withcode):
        d = dict(zip(entry[0::2], entry[1::2]))
        out[d["library_name"]] = d.get("library_code")
    return out


def restart_with_file(tmp_path, name, src, binary=None, args=()):
    d = tmp_path / name
    d.mkdir()
    shutil.copy(src, d / "dump.rdb")
    return Server(d, ("--save", "") + tuple(args), binary=binary)


@needs_redis
def test_snapshots_carry_functions_both_ways(server_factory, tmp_path):
    # Cachet -> Redis.
    s = server_factory("--save", "")
    r = s.client(decode_responses=True)
    r.function_load(LIB)
    r.set("k", "from-cachet")
    assert r.save()
    red = restart_with_file(tmp_path, "redis_in", rdb_path(s), binary=REDIS_BIN)
    try:
        rr = red.client(decode_responses=True)
        assert rr.fcall("getit", 1, "k") == "from-cachet"
        assert libraries(rr, withcode=True) == {"mylib": LIB}
        # Redis -> Cachet.
        rr.function_load(LIB2)
        rr.set("k2", "from-redis")
        assert rr.save()
        back = restart_with_file(tmp_path, "cachet_in", rdb_path(red), args=("--enable-debug-command", "yes"))
    finally:
        red.stop()
    try:
        rb = back.client(decode_responses=True)
        assert rb.fcall("other_fn", 1, "a", "b") == 2
        assert rb.fcall_ro("getit", 1, "k2") == "from-redis"
        assert libraries(rb, withcode=True) == {"mylib": LIB, "other": LIB2}
        # DEBUG RELOAD replaces the libraries with the file's.
        assert rb.save()
        rb.function_delete("other")
        rb.execute_command("DEBUG", "RELOAD", "NOSAVE")
        assert libraries(rb, withcode=True) == {"mylib": LIB, "other": LIB2}
    finally:
        back.stop()


def test_restart_keeps_functions(server_factory, tmp_path):
    s = server_factory()
    r = s.client(decode_responses=True)
    r.function_load(LIB)
    r.function_load(LIB2)
    r.function_delete("other")
    assert r.save()
    s.stop()
    again = restart_with_file(tmp_path, "again", rdb_path(s))
    try:
        r2 = again.client(decode_responses=True)
        assert r2.fcall("setit", 1, "k", "v") == "OK" and r2.fcall("getit", 1, "k") == "v"
        assert libraries(r2, withcode=True) == {"mylib": LIB}
    finally:
        again.stop()


def acl_flow(server, transport, certs):
    admin = raw_conn(server, transport, certs)
    out = [admin.call("FUNCTION", "LOAD", LIB),
           admin.call("ACL", "SETUSER", "fn", "on", ">pw", "~k*", "+fcall", "+fcall_ro", "+get", "+set"),
           admin.call("ACL", "SETUSER", "nofn", "on", ">pw", "~*", "+get")]
    u = raw_conn(server, transport, certs)
    out += [u.call("AUTH", "fn", "pw"), u.call("FCALL", "setit", "1", "k1", "v"), u.call("FCALL", "getit", "1", "k1"),
            u.call("FCALL", "setit", "1", "other", "v"), u.call("FUNCTION", "LIST"), u.call("FCALL", "setother", "0"),
            u.call("FUNCTION", "LOAD", LIB2)]
    n = raw_conn(server, transport, certs)
    out += [n.call("AUTH", "nofn", "pw"), n.call("FCALL", "getit", "1", "k1"), n.call("FCALL_RO", "getit", "1", "k1")]
    return out


@needs_redis
def test_acl_applies_as_redis(cachet, reference, tls_certs, transport):
    got = acl_flow(cachet, transport, tls_certs)
    assert got == acl_flow(reference, "plain", tls_certs)
    assert got[5] == b"$1\r\nv\r\n"
    assert got[6] == b"-NOPERM this user has no permissions to access one of the keys used as arguments\r\n"
    assert got[7] == b"-NOPERM this user has no permissions to run the 'function|list' command\r\n"
    assert got[8].startswith(b"-ERR The user executing the script can't access at least one of the keys")
    assert got[-2].startswith(b"-NOPERM") and got[-1].startswith(b"-NOPERM")


LOOP_LIB = """#!lua name=loops
redis.register_function('spin', function(keys, args) local i = 0 while true do i = i + 1 end end)
redis.register_function('write_spin', function(keys, args)
    redis.call('set', keys[1], 'half') local i = 0 while true do i = i + 1 end end)
"""


def busy_flow(server, transport, certs):
    a, b = raw_conn(server, transport, certs), raw_conn(server, transport, certs)
    out = [b.call("CONFIG", "SET", "busy-reply-threshold", "100"), b.call("FUNCTION", "LOAD", LOOP_LIB)]
    a.sock.sendall(enc("FCALL", "spin", "0") + enc("PING"))
    wait_until(lambda: b.call("PING").startswith(b"-BUSY"), timeout=10, what="-BUSY from a long function")
    stats = b.call("FUNCTION", "STATS")
    out += [b"name" in stats and b"spin" in stats and b"duration_ms" in stats]
    out += [b.call("GET", "x"), b.call("FCALL", "spin", "0"), b.call("SCRIPT", "KILL"), b.call("FUNCTION", "KILL")]
    out += [a.call("ECHO", "after"), a.call("ECHO", "again")]
    out += [b.call("FUNCTION", "KILL"), b.call("PING")]
    a.sock.sendall(enc("EVAL", "local i = 0 while true do i = i + 1 end", "0"))
    wait_until(lambda: b.call("PING").startswith(b"-BUSY"), timeout=10, what="-BUSY from a long script")
    out += [b.call("FUNCTION", "KILL"), b.call("SCRIPT", "KILL"), a.call("PING"), a.call("PING")]
    a.sock.sendall(enc("FCALL", "write_spin", "1", "k"))
    wait_until(lambda: b.call("PING").startswith(b"-BUSY"), timeout=10, what="-BUSY from a writing function")
    out.append(b.call("FUNCTION", "KILL"))
    b.sock.sendall(enc("SHUTDOWN", "NOSAVE"))
    wait_until(lambda: server.proc.poll() is not None, timeout=10, what="SHUTDOWN NOSAVE to stop the server")
    return out


@needs_redis
def test_busy_function_kill_as_redis(cachet, reference, tls_certs, transport):
    got = busy_flow(cachet, transport, tls_certs)
    # The last step (FUNCTION KILL of a function that wrote) is checked on
    # Cachet only: redis-server 7.0 sometimes answers it -NOTBUSY.
    assert got[:-1] == busy_flow(reference, "plain", tls_certs)[:-1]
    assert got[3] == b"-BUSY Redis is busy running a script. You can only call FUNCTION KILL or SHUTDOWN NOSAVE.\r\n"
    assert got[6] == b"+OK\r\n"
    assert got[7].startswith(b"-ERR Script killed by user with SCRIPT KILL... script: spin")
    assert got[-1].startswith(b"-UNKILLABLE")


@needs_redis
def test_command_entries_as_redis(cachet, reference, tls_certs, transport):
    c, ref = raw_conn(cachet, transport, tls_certs), raw_conn(reference, "plain", tls_certs)
    compare(c, ref, [("COMMAND", "GETKEYS", "FCALL", "f", "2", "a", "b", "c"),
                     ("COMMAND", "GETKEYS", "FCALL_RO", "f", "1", "a", "b"),
                     ("COMMAND", "GETKEYS", "FCALL", "f", "0", "a"),
                     ("COMMAND", "GETKEYS", "FCALL", "f", "3", "a")])
    for name, flag in (("fcall", b"noscript"), ("fcall_ro", b"readonly")):
        info = c.call("COMMAND", "INFO", name)
        assert info.startswith(b"*1\r\n*10\r\n$%d\r\n%s\r\n:-3\r\n" % (len(name), name.encode()))
        assert b"+" + flag + b"\r\n" in info and b"+movablekeys\r\n" in info
    info = c.call("COMMAND", "INFO", "function")
    for sub in (b"function|load", b"function|list", b"function|dump", b"function|restore", b"function|kill"):
        assert sub in info
