"""Lua scripting: EVAL, EVALSHA, EVAL_RO, EVALSHA_RO, SCRIPT, the redis.*
API, the sandbox. Replies are compared byte for byte with Debian's
redis-server 7.0 (started fresh for each comparison, so state-dependent
results such as math.random's sequence agree too), over plaintext and TLS,
in RESP2 and RESP3; and real client code (redis-py's Lock,
register_script, a sliding-window rate limiter) runs against Cachet."""
import hashlib
import os
import time

import pytest
import redis

from conftest import Server, wait_until
from tlsutil import client_context, enc, tls_client, tls_socket

REDIS_BIN = "/usr/bin/redis-server"
needs_redis = pytest.mark.skipif(not os.path.exists(REDIS_BIN), reason="redis-server 7.0 not installed")


def tls_args(certs):
    return ("--tls-mode", "preferred", "--tls-cert-file", certs["server_crt"], "--tls-key-file",
            certs["server_key"], "--tls-ca-cert-file", certs["ca_crt"], "--tls-auth-clients", "no")


class RawReplies:
    """Sends commands and returns each whole reply as the bytes on the wire
    (RESP2 and RESP3 types), for byte-for-byte comparisons."""

    def __init__(self, sock, timeout=10.0):
        self.sock = sock
        self.buf = b""
        sock.settimeout(timeout)

    def _fill(self):
        d = self.sock.recv(1 << 20)
        if not d:
            raise EOFError("connection closed by server")
        self.buf += d

    def _end(self, pos):
        while True:
            e = self.buf.find(b"\r\n", pos)
            if e >= 0:
                break
            self._fill()
        t, rest, nxt = self.buf[pos:pos + 1], self.buf[pos + 1:e], e + 2
        if t in (b"$", b"=", b"!"):
            n = int(rest)
            if n < 0:
                return nxt
            while len(self.buf) < nxt + n + 2:
                self._fill()
            return nxt + n + 2
        if t in (b"*", b"~", b">", b"%", b"|"):
            n = int(rest)
            if n < 0:
                return nxt
            if t in (b"%", b"|"):
                n *= 2
            for _ in range(n):
                nxt = self._end(nxt)
            if t == b"|":
                nxt = self._end(nxt)
            return nxt
        return nxt

    def call(self, *args):
        self.sock.sendall(enc(*args))
        end = self._end(0)
        r, self.buf = self.buf[:end], self.buf[end:]
        return r


def raw_conn(server, transport, certs):
    if transport == "tls":
        return RawReplies(tls_socket(server.port, client_context(certs["ca_crt"]), owner=server))
    return RawReplies(server.raw(timeout=10))


def py_client(server, transport, certs, **kw):
    if transport == "tls":
        return tls_client(server, certs, **kw)
    return server.client(**kw)


@pytest.fixture
def reference(tmp_path):
    """A fresh Debian redis-server 7.0 on loopback, stopped by PID."""
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


# Scripts whose replies (values and errors) must match Redis 7.0 byte for
# byte. (script, numkeys-and-arguments...)
CONVERSIONS = [
    ("return 1",), ("return 'x'",), ("return 3.99",), ("return -3.99",), ("return true",), ("return false",),
    # Numbers no integer can hold (the fuzzer found the conversion was undefined behaviour).
    ("return 1e20",), ("return -1e20",), ("return 0/0",), ("return {1e300}",),
    ("redis.log(3444444444444444, 'x')",), ("redis.setresp(1e300)",), ("redis.set_repl(-1e300)",),
    ("return nil",), ("return {1,2,3,'x',nil,5}",), ("return {1,{2,{3}},true,false}",),
    ("return {err='MY err'}",), ("return {ok='fine\\r\\nx'}",), ("return {1, 'a', {ok='x'}, {err='E y'}}",),
    ("return redis.error_reply('foo bar')",), ("return redis.error_reply('-foo bar')",),
    ("return redis.error_reply('foo')",), ("return redis.error_reply()",),
    ("return redis.status_reply('yes')",), ("return redis.status_reply(1)",),
    ("return {double=3.5}",), ("return {map={a=1}}",), ("return {set={a=true}}",), ("return {big_number='123'}",),
    ("return {verbatim_string={format='txt',string='hi'}}",),
    ("redis.setresp(3); return {double=3.5}",), ("redis.setresp(3); return true",),
    ("redis.setresp(3); return {double=0/0}",), ("redis.setresp(3); return {double=-(0/0)}",),
    ("redis.setresp(3); return false",), ("redis.setresp(3); return {map={a=1}}",),
    ("redis.setresp(3); return {set={a=true}}",), ("redis.setresp(3); return nil",),
    ("return redis.call('set','k','v')",), ("return redis.call('get','k')",),
    ("return redis.call('get','nokey')",), ("return type(redis.call('get','nokey'))",),
    ("return redis.call('incr','cnt')",), ("return redis.pcall('incr','k')",), ("return redis.call('incr','k')",),
    ("redis.call('del','h'); redis.call('hset','h','a','1','b','2'); return redis.call('hgetall','h')",),
    ("redis.setresp(3); return redis.call('hgetall','h')",),
    ("redis.setresp(3); local r = redis.call('hgetall','h'); return {type(r.map), r.map.a}",),
    ("redis.call('zadd','zz',1.5,'m'); return redis.call('zscore','zz','m')",),
    ("redis.setresp(3); local r = redis.call('zscore','zz','m'); return {type(r), r.double}",),
    ("redis.setresp(3); return redis.call('zscore','zz','m')",),
    ("redis.setresp(3); return redis.call('get','nokey')",),
    ("redis.setresp(3); return type(redis.call('get','nokey'))",),
    ("redis.call('sadd','s1','a'); redis.setresp(3); return redis.call('smembers','s1')",),
    ("return redis.call('lrange','nolist',0,-1)",),
    ("return redis.call('nosuch')",), ("return redis.call('get')",), ("return redis.call('subscribe','x')",),
    ("return redis.call()",), ("return redis.call({})",), ("return redis.pcall('nosuch')",),
    ("return redis.pcall('get')",), ("return redis.call('multi')",), ("return redis.call('eval','return 1',0)",),
    ("return redis.call('echo', 12.5)",), ("return redis.call('echo', 1e20)",), ("return redis.call('echo', 3)",),
    ("return redis.call('blmove', 'nolist', 'x', 'left', 'left', 0)",),
    ("return pcall(redis.call, 'nosuch')",), ("return {pcall(redis.call, 'nosuch')}",),
    ("local ok, e = pcall(function() redis.call('nosuch') end); return e",),
    ("local ok, e = pcall(function() redis.call('nosuch') end); error(e)",),
    ("local ok, e = pcall(function() error({err='A b'}) end); return e",),
    ("local ok, e = pcall(function() error('x') end); return e",),
    ("x = 1",), ("return y",), ("return os",), ("return io",), ("return debug",), ("return package",),
    ("return require",), ("return loadfile",), ("return dofile",), ("return print",), ("return getfenv",),
    ("return setfenv",), ("return newproxy",),
    ("error('boom')",), ("error({err='MY thing'})",), ("error(12)",),
    ("local a = 1\nlocal b = nil\nreturn a + b",), ("return 1 +",),
    ("return KEYS[1]..ARGV[1]", "1", "k1", "a1"), ("return {KEYS, ARGV}", "2", "k1", "k2", "a1", "a2"),
    ("return #KEYS",),
    ("return redis.sha1hex('')",), ("return redis.sha1hex('abc')",), ("return redis.sha1hex()",),
    ("return {math.random(), math.random(100), math.random(5,10)}",),
    ("return {tostring(math.random()), tostring(math.random())}",),
    ("math.randomseed(42); return {math.random(100), math.random(100)}",),
    ("return math.random(0)",),
    ("return tostring(loadstring('\\27Lua'))",), ("return {select(2, loadstring('\\27Lua'))}",),
    ("return {select(2, loadstring(string.dump(function() return 1 end)))}",),
    ("rawset(_G,'x',1)",), ("setmetatable(_G, nil)",), ("redis.call = nil",), ("string.rep = nil",),
    ("getmetatable('').__index = {}",), ("getmetatable('').__index.upper = nil",),
    ("_G.x = 1",), ("table.insert = nil",), ("math.pi = 3",), ("cjson.encode = nil",), ("bit.band = nil",),
    ("return cjson.encode({1,2})",), ("return cjson.decode('[1,2,3]')",), ("return bit.band(7,3)",),
    ("return bit.tohex(255)",), ("return ('abc'):upper()",), ("return _VERSION",),
    ("return redis.setresp(4)",), ("return redis.log(redis.LOG_WARNING, 'hello', 'world')",),
    ("return redis.log()",), ("return redis.log('x', 'y')",), ("return redis.log(99, 'y')",),
    ("return redis.replicate_commands()",), ("return redis.set_repl(redis.REPL_ALL)",),
    ("return redis.set_repl(99)",), ("return redis.REDIS_VERSION",), ("return redis.REDIS_VERSION_NUM",),
    ("return redis.breakpoint()",),
    ("#!lua flags=no-writes\nreturn redis.call('set','a','b')",), ("#!lua flags=bogus\nreturn 1",),
    ("#!lua name=x\nreturn 1",), ("#!luax\nreturn 1",), ("#!lua",),
    ("#!lua\nreturn redis.call('set','a','b')",), ("#!lua flags=no-writes,allow-oom\nreturn redis.call('get','a')",),
    ("#!lua flags=\nreturn 2",), ("#!lua flags=no-writes\nerror('line two')",),
]

# Other commands of the family, run in order on one connection.
COMMANDS = [
    ("EVAL_RO", "return redis.call('set','a','b')", "0"),
    ("EVAL_RO", "return redis.call('get','a')", "0"),
    ("EVAL_RO", "#!lua\nreturn redis.call('get','a')", "0"),
    ("EVAL_RO", "#!lua flags=no-writes\nreturn redis.call('get','a')", "0"),
    ("SCRIPT", "LOAD", "return 'loaded'"),
    ("EVALSHA", "A1B2C3", "0"),
    ("EVALSHA", "B534286061D4B9E4026607613B95C06C06015AE8", "0"),
    ("EVALSHA_RO", "b534286061d4b9e4026607613b95c06c06015ae8", "0"),
    ("SCRIPT", "EXISTS", "b534286061d4b9e4026607613b95c06c06015ae8", "nope", "B534286061D4B9E4026607613B95C06C06015AE8"),
    ("SCRIPT", "FLUSH", "bogus"), ("SCRIPT", "FLUSH", "ASYNC", "x"), ("SCRIPT", "FLUSH", "SYNC"),
    ("SCRIPT", "EXISTS", "b534286061d4b9e4026607613b95c06c06015ae8"),
    ("EVALSHA", "b534286061d4b9e4026607613b95c06c06015ae8", "0"),
    ("SCRIPT", "LOAD", "return 'again'"), ("SCRIPT", "FLUSH", "ASYNC"), ("SCRIPT", "FLUSH"),
    ("SCRIPT", "KILL"), ("SCRIPT", "KILL", "x"), ("SCRIPT", "LOAD", "return +"),
    ("SCRIPT", "LOAD", "#!lua flags=bad\nreturn 1"), ("SCRIPT", "NOPE"), ("SCRIPT",), ("SCRIPT", "HELP"),
    ("EVAL", "return 1"), ("EVAL", "return 1", "-1"), ("EVAL", "return 1", "2", "a"), ("EVAL", "return 1", "x"),
    ("COMMAND", "GETKEYS", "EVAL", "return 1", "2", "a", "b", "c"),
    ("COMMAND", "GETKEYS", "EVAL", "return 1", "0"),
    ("COMMAND", "GETKEYS", "EVALSHA_RO", "abc", "1", "a"),
    ("MULTI",), ("EVAL", "return redis.call('incr','ctr')", "0"), ("EVAL", "return redis.call('incr','ctr')", "0"),
    ("EXEC",),
    ("EVAL", "redis.call('set','x','1'); redis.call('nosuch')", "0"), ("GET", "x"),
    ("EVAL", "redis.call('select', 3); return redis.call('set','indb3','1')", "0"), ("GET", "indb3"),
    ("SELECT", "3"), ("GET", "indb3"), ("SELECT", "0"),
    ("EVAL", "return redis.call('client','list')", "0"),
    ("EVAL", "return redis.call('config','get','maxmemory')", "0"),
    ("EVAL", "return redis.call('publish','ch','m')", "0"),
    ("EVAL", "return redis.call('script','load','return 1')", "0"),
    ("EVAL", "return redis.call('hello','3')", "0"),
    ("EVAL", "return redis.call('watch','x')", "0"),
    ("EVAL", "return redis.call('dbsize')", "0"),
    ("ACL", "SETUSER", "u", "on", "nopass", "+eval", "+get", "~k*", "+evalsha"),
    ("AUTH", "u", "x"),
    ("EVAL", "return redis.call('set','k1','v')", "0"),
    ("EVAL", "return redis.pcall('set','k1','v')", "0"),
    ("EVAL", "return redis.call('get','other')", "0"),
    ("EVAL", "return redis.call('get','k1')", "0"),
    ("EVAL", "return redis.acl_check_cmd('set','k1','v')", "0"),
    ("EVAL", "return redis.acl_check_cmd('get','k1')", "0"),
    ("EVAL", "return 1", "1", "other"),
    ("AUTH", "default", "x"),
]


def compare(cachet_conn, ref_conn, calls):
    diffs = []
    for args in calls:
        a, b = cachet_conn.call(*args), ref_conn.call(*args)
        if a != b:
            diffs.append(f"{args!r}\n  cachet: {a[:400]!r}\n  redis:  {b[:400]!r}")
    assert not diffs, "%d replies differ from Redis 7.0:\n" % len(diffs) + "\n".join(diffs)


@needs_redis
@pytest.mark.parametrize("proto", [2, 3])
def test_conversions_and_errors_match_redis(cachet, reference, tls_certs, transport, proto):
    c, ref = raw_conn(cachet, transport, tls_certs), raw_conn(reference, "plain", tls_certs)
    if proto == 3:
        assert c.call("HELLO", "3").startswith(b"%") and ref.call("HELLO", "3").startswith(b"%")
    compare(c, ref, [("EVAL", s[0], *(s[1:] or ("0",))) for s in CONVERSIONS])


@needs_redis
def test_commands_match_redis(cachet, reference, tls_certs, transport):
    compare(raw_conn(cachet, transport, tls_certs), raw_conn(reference, "plain", tls_certs), COMMANDS)


def test_evalsha_and_cache(cachet, tls_certs, transport):
    r = py_client(cachet, transport, tls_certs, decode_responses=True)
    sha = r.script_load("return {KEYS[1], ARGV[1]}")
    assert sha == hashlib.sha1(b"return {KEYS[1], ARGV[1]}").hexdigest()
    assert r.evalsha(sha, 1, "k", "v") == ["k", "v"]
    assert r.evalsha(sha.upper(), 1, "k", "v") == ["k", "v"]
    assert r.script_exists(sha, "0" * 40) == [True, False]
    assert r.script_flush() is True
    with pytest.raises(redis.exceptions.NoScriptError, match="No matching script. Please use EVAL."):
        r.evalsha(sha, 1, "k", "v")
    # EVAL caches what it runs.
    assert r.eval("return 'cached'", 0) == "cached"
    assert r.script_exists(hashlib.sha1(b"return 'cached'").hexdigest()) == [True]


def test_redis_py_lock(cachet, tls_certs, transport):
    a = py_client(cachet, transport, tls_certs)
    b = py_client(cachet, transport, tls_certs)
    la = a.lock("resource", timeout=10, blocking=False)
    lb = b.lock("resource", timeout=10, blocking=False)
    assert la.acquire()
    assert not lb.acquire()
    assert la.owned() and not lb.owned()
    assert la.extend(5)
    assert 10000 < a.pttl("resource") <= 15000
    assert la.reacquire()
    lb.local.token = b"not-the-owner"
    with pytest.raises(redis.exceptions.LockNotOwnedError):
        lb.release()  # a release by a non-owner is refused by the Lua script
    lb.local.token = None
    la.release()
    assert lb.acquire()
    lb.release()
    assert a.exists("resource") == 0


def test_register_script(cachet, tls_certs, transport):
    r = py_client(cachet, transport, tls_certs, decode_responses=True)
    incrby = r.register_script("return redis.call('incrby', KEYS[1], ARGV[1])")
    assert incrby(keys=["n"], args=[5]) == 5  # EVALSHA, NOSCRIPT, then EVAL
    assert incrby(keys=["n"], args=[2]) == 7  # cached now
    r.script_flush()
    assert incrby(keys=["n"], args=[1]) == 8
    pipe = r.pipeline()
    incrby(keys=["n"], args=[10], client=pipe)
    pipe.get("n")
    assert pipe.execute() == [18, "18"]


RATE_LIMITER = """
local key, now, window, limit = KEYS[1], tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3])
redis.call('ZREMRANGEBYSCORE', key, '-inf', now - window)
local count = redis.call('ZCARD', key)
if count >= limit then
  local oldest = redis.call('ZRANGE', key, 0, 0, 'WITHSCORES')
  return {0, count, tonumber(oldest[2]) + window - now}
end
redis.call('ZADD', key, now, ARGV[4])
redis.call('PEXPIRE', key, window)
return {1, count + 1, 0}
"""


def test_sliding_window_rate_limiter(cachet, tls_certs, transport):
    r = py_client(cachet, transport, tls_certs)
    limiter = r.register_script(RATE_LIMITER)
    t = 1_000_000
    results = [limiter(keys=["rl:user"], args=[t + i, 1000, 5, f"req{i}"]) for i in range(7)]
    assert [x[0] for x in results] == [1, 1, 1, 1, 1, 0, 0]
    assert results[4][1] == 5 and results[5] == [0, 5, 1000 - 5]
    # Once the window slides past the first requests, they are allowed again.
    # 1001 ms later the first two requests left the window: room again.
    assert limiter(keys=["rl:user"], args=[t + 1001, 1000, 5, "late"]) == [1, 4, 0]
    assert r.zcard("rl:user") == 4
    assert 0 < r.pttl("rl:user") <= 1000


def test_sandbox_escapes_fail_and_leave_no_trace(cachet, tls_certs, transport):
    r = py_client(cachet, transport, tls_certs, decode_responses=True)
    escapes = {
        "return os.execute('touch /tmp/cachet-pwned')": "nonexistent global variable 'os'",
        "return io.open('/etc/passwd'):read('*a')": "nonexistent global variable 'io'",
        "return require('os')": "nonexistent global variable 'require'",
        "return loadstring(string.dump(function() return 1 end))()": "attempt to call a nil value",
        "local f = load(function() return nil end); return 1": None,
        "local parts = {string.dump(function() return 1 end)}; local i = 0; "
        "return load(function() i = i + 1; return parts[i] end)()": "attempt to call a nil value",
        "evil = 1": "Attempt to modify a readonly table",
        "rawset(_G, 'evil', 1)": "Attempt to modify a readonly table",
        "setmetatable(_G, nil)": "Attempt to modify a readonly table",
        "getmetatable(_G).__newindex = nil": "attempt to index a boolean value",
        "redis.call = function() return 'pwned' end": "Attempt to modify a readonly table",
        "string.upper = function() return 'pwned' end": "Attempt to modify a readonly table",
        "getmetatable('').__index.upper = function() return 'pwned' end": "Attempt to modify a readonly table",
        "getmetatable('').__index = {upper = function() return 'pwned' end}": "Attempt to modify a readonly table",
        "_G.KEYS = {}": "Attempt to modify a readonly table",
        "return debug.getregistry()": "nonexistent global variable 'debug'",
        "return getfenv(redis.call)": "nonexistent global variable 'getfenv'",
    }
    for script, err in escapes.items():
        if err is None:
            r.eval(script, 0)
            continue
        with pytest.raises(redis.exceptions.ResponseError, match=err):
            r.eval(script, 0)
    assert not os.path.exists("/tmp/cachet-pwned")
    # Nothing above changed what the next script sees.
    assert r.eval("return {('a'):upper(), string.upper('b'), redis.call('ping')['ok']}", 0) == ["A", "B", "PONG"]
    assert r.eval("return redis.call('set', 'k', 'v')['ok']", 0) == "OK"
    with pytest.raises(redis.exceptions.ResponseError, match="nonexistent global variable 'evil'"):
        r.eval("return evil", 0)


def test_memory_bombs_fail_and_server_survives(cachet, tls_certs, transport):
    # Each bomb runs until the Lua allocator refuses: seconds under ASan or
    # on a loaded machine, so the reply may take longer than the default 10 s.
    r = py_client(cachet, transport, tls_certs, decode_responses=True, socket_timeout=120)
    with pytest.raises(redis.exceptions.ResponseError, match="not enough memory"):
        r.eval("return #string.rep('x', 2^40)", 0)
    with pytest.raises(redis.exceptions.ResponseError, match="not enough memory"):
        r.eval("local s = 'xxxxxxxxxxxxxxxx' while true do s = s .. s end", 0)
    with pytest.raises(redis.exceptions.ResponseError, match="not enough memory"):
        r.eval("local t, s = {}, string.rep('x', 1000000) for i = 1, 1e9 do t[i] = s .. i end", 0)
    assert r.eval("return #string.rep('ab', 1000)", 0) == 2000
    # A table that contains itself is cut at the depth limit, not followed
    # until the C stack runs out.
    raw = raw_conn(cachet, transport, tls_certs)
    raw.sock.sendall(enc("EVAL", "local t = {} t[1] = t return t", "0"))
    deadline = time.monotonic() + 10
    while b"-ERR reached lua stack limit\r\n" not in raw.buf and time.monotonic() < deadline:
        raw._fill()
    assert raw.buf.startswith(b"*1\r\n*1\r\n") and b"-ERR reached lua stack limit\r\n" in raw.buf
    # A script that stops the collector does not leave it stopped.
    r.eval("collectgarbage('stop') return 1", 0)
    assert r.eval("local a = 0 for i = 1, 200000 do a = a + #tostring(i) end return a", 0) > 0
    assert r.eval("return collectgarbage('count') < 100000", 0) == 1
    assert r.ping()


def test_blocking_commands_do_not_block_in_scripts(cachet, tls_certs, transport):
    r = py_client(cachet, transport, tls_certs, decode_responses=True)
    # BLMPOP and BZMPOP are allowed in scripts (BLPOP & co. are noscript,
    # as in Redis 7.0) and answer at once, as if their timeout had passed.
    start = time.monotonic()
    assert r.eval("return redis.call('blmpop', 0, 1, KEYS[1], 'LEFT')", 1, "src") is None
    assert r.eval("return redis.call('bzmpop', 0, 1, KEYS[1], 'MIN')", 1, "z") is None
    assert time.monotonic() - start < 5
    r.rpush("src", "v")
    assert r.eval("return redis.call('blmpop', 0, 1, KEYS[1], 'LEFT')", 1, "src") == ["src", ["v"]]


def test_no_writes_flag_and_ro_commands(cachet, tls_certs, transport):
    r = py_client(cachet, transport, tls_certs, decode_responses=True)
    r.set("a", "1")
    assert r.execute_command("EVAL_RO", "return redis.call('get', KEYS[1])", 1, "a") == "1"
    with pytest.raises(redis.exceptions.ResponseError, match="Write commands are not allowed from read-only scripts"):
        r.execute_command("EVAL_RO", "return redis.call('set', KEYS[1], 'x')", 1, "a")
    with pytest.raises(redis.exceptions.ResponseError, match="Write commands are not allowed from read-only scripts"):
        r.eval("#!lua flags=no-writes\nreturn redis.call('del', KEYS[1])", 1, "a")
    assert r.get("a") == "1"


def test_script_runs_atomically_and_errors_keep_earlier_writes(cachet, tls_certs, transport):
    r = py_client(cachet, transport, tls_certs, decode_responses=True)
    script = "for i = 1, 200 do redis.call('incr', KEYS[1]) end return redis.call('get', KEYS[1])"
    clients = [py_client(cachet, transport, tls_certs, decode_responses=True) for _ in range(3)]
    pipes = [c.pipeline(transaction=False) for c in clients]
    for p in pipes:
        for _ in range(5):
            p.eval(script, 1, "ctr")
    results = [p.execute() for p in pipes]
    for res in results:  # every reply is a multiple of 200: no script saw another's half-done work
        assert all(int(v) % 200 == 0 for v in res)
    assert r.get("ctr") == str(200 * 15)
    with pytest.raises(redis.exceptions.ResponseError):
        r.eval("redis.call('set', KEYS[1], 'written'); error('late failure')", 1, "w")
    assert r.get("w") == "written"  # no rollback, as Redis


def test_acl_applies_inside_scripts(cachet, tls_certs, transport):
    admin = py_client(cachet, transport, tls_certs, decode_responses=True)
    admin.acl_setuser("limited", enabled=True, nopass=True, commands=["+eval", "+get"], keys=["k*"])
    u = py_client(cachet, transport, tls_certs, decode_responses=True, username="limited", password="x")
    admin.set("k1", "v1")
    assert u.eval("return redis.call('get', KEYS[1])", 1, "k1") == "v1"
    with pytest.raises(redis.exceptions.ResponseError, match="can't run this command or subcommand"):
        u.eval("return redis.call('set', 'k1', 'x')", 0)
    with pytest.raises(redis.exceptions.ResponseError, match="can't access at least one of the keys"):
        u.eval("return redis.call('get', 'other')", 0)
    assert admin.get("k1") == "v1"
    log = admin.acl_log()
    assert any(e["object"] == "set" and e["username"] == "limited" for e in log)


def test_acl_log_context_of_script_denials_is_lua(cachet, tls_certs, transport):
    """Redis 7.0 logs a denial inside a script with context "lua", in MULTI
    too; toplevel denials keep "toplevel" and are counted apart."""
    admin = py_client(cachet, transport, tls_certs, decode_responses=True)
    admin.acl_setuser("limited", enabled=True, nopass=True, commands=["+@all"], keys=["k*"])
    u = py_client(cachet, transport, tls_certs, decode_responses=True, username="limited", password="x")
    with pytest.raises(redis.exceptions.NoPermissionError):
        u.get("secret")
    with pytest.raises(redis.exceptions.ResponseError, match="can't access at least one of the keys"):
        u.eval("return redis.call('get', 'secret')", 0)
    p = u.pipeline(transaction=True)
    p.eval("return redis.call('get', 'secret')", 0)
    assert isinstance(p.execute(raise_on_error=False)[0], redis.exceptions.ResponseError)
    got = sorted((e["context"], e["object"], int(e["count"])) for e in admin.acl_log())
    assert got == [("lua", "secret", 2), ("toplevel", "secret", 1)]


def test_command_entries(cachet, tls_certs, transport):
    r = py_client(cachet, transport, tls_certs, decode_responses=True)
    raw = raw_conn(cachet, transport, tls_certs)
    assert raw.call("COMMAND", "GETKEYS", "EVAL", "return 1", "2", "a", "b", "c") == b"*2\r\n$1\r\na\r\n$1\r\nb\r\n"
    for name, arity, flag in (("eval", -3, b"noscript"), ("evalsha", -3, b"noscript"), ("eval_ro", -3, b"readonly"),
                              ("evalsha_ro", -3, b"readonly"), ("script", -2, None)):
        info = raw.call("COMMAND", "INFO", name)
        assert info.startswith(b"*1\r\n*10\r\n$%d\r\n%s\r\n:%d\r\n" % (len(name), name.encode(), arity))
        if flag:
            assert b"+" + flag + b"\r\n" in info and b"+movablekeys\r\n" in info
    assert raw.call("COMMAND", "COUNT").startswith(b":")


LOOP = "local i = 0 while true do i = i + 1 end"
WRITE_THEN_LOOP = "redis.call('set', KEYS[1], 'half') local i = 0 while true do i = i + 1 end"


def busy_flow(server, transport, certs):
    """A script past busy-reply-threshold: other clients get -BUSY, SCRIPT
    KILL stops it, a script that wrote is unkillable, SHUTDOWN NOSAVE ends
    it. Returns every reply (bytes) for comparison with Redis."""
    a, b = raw_conn(server, transport, certs), raw_conn(server, transport, certs)
    out = [b.call("CONFIG", "SET", "busy-reply-threshold", "100"), b.call("CONFIG", "GET", "lua-time-limit")]
    # The caller pipelines a PING behind its EVAL: it is answered after it.
    a.sock.sendall(enc("EVAL", LOOP, "0") + enc("PING"))
    wait_until(lambda: b.call("PING").startswith(b"-BUSY"), timeout=10, what="-BUSY from a long script")
    out += [b.call("GET", "x"), b.call("EVAL", "return 1", "0"), b.call("MULTI"), b.call("GET", "x"),
            b.call("EXEC"), b.call("SHUTDOWN"), b.call("SCRIPT", "KILL")]
    out += [a.call("ECHO", "after"), a.call("ECHO", "again")]  # the killed EVAL's error, then its PING
    out += [b.call("SCRIPT", "KILL"), b.call("PING")]
    a.sock.sendall(enc("EVAL", WRITE_THEN_LOOP, "1", "k"))
    wait_until(lambda: b.call("PING").startswith(b"-BUSY"), timeout=10, what="-BUSY from a writing script")
    out.append(b.call("SCRIPT", "KILL"))
    b.sock.sendall(enc("SHUTDOWN", "NOSAVE"))
    wait_until(lambda: server.proc.poll() is not None, timeout=10, what="SHUTDOWN NOSAVE to stop the server")
    return out


@needs_redis
def test_busy_script_kill_and_shutdown_as_redis(cachet, reference, tls_certs, transport):
    got = busy_flow(cachet, transport, tls_certs)
    assert got == busy_flow(reference, "plain", tls_certs)
    busy = b"-BUSY Redis is busy running a script. You can only call SCRIPT KILL or SHUTDOWN NOSAVE.\r\n"
    assert got[2] == busy and got[3] == busy
    assert got[8] == b"+OK\r\n"
    assert got[9].startswith(b"-ERR Script killed by user with SCRIPT KILL... script: ")
    assert got[10] == b"+PONG\r\n" and got[11].startswith(b"-NOTBUSY")
    assert got[13].startswith(b"-UNKILLABLE Sorry the script already executed write commands")


def test_busy_threshold_zero_never_serves_busy(server_factory):
    s = server_factory("--busy-reply-threshold", "0")
    r = s.client(decode_responses=True)
    assert r.config_get("lua-time-limit") == {"lua-time-limit": "0"}
    assert r.eval("local i = 0 for j = 1, 3000000 do i = i + 1 end return i", 0) == 3000000


OOM_LIB = """#!lua name=oomlib
redis.register_function('w', function(k, a) return redis.call('set', k[1], 'v') end)
redis.register_function{function_name='ro', callback=function(k, a) return redis.call('get', k[1]) end,
                        flags={'no-writes'}}
redis.register_function{function_name='ao', callback=function(k, a) return redis.call('set', k[1], 'v') end,
                        flags={'allow-oom'}}
"""
# Over maxmemory with noeviction: a script that declared flags without
# allow-oom or no-writes is refused before it runs (the plain OOM error,
# even by EVAL_RO); one without a shebang runs and its first growing
# redis.call fails; allow-oom and read-only scripts run. Lua's own memory
# does not count (Redis 7.0 leaves it out of used_memory).
OOM_CALLS = [
    ("FUNCTION", "LOAD", OOM_LIB), ("SET", "x", "y"),
    ("CONFIG", "SET", "maxmemory-policy", "noeviction"), ("CONFIG", "SET", "maxmemory", "1"),
    ("EVAL", "return redis.call('set',KEYS[1],'b')", "1", "a"),
    ("EVAL", "return redis.pcall('set',KEYS[1],'b')", "1", "a"),
    ("EVAL", "return redis.call('get',KEYS[1])", "1", "x"),
    ("EVAL", "#!lua\nreturn redis.call('set',KEYS[1],'b')", "1", "a"),
    ("EVAL", "#!lua\nreturn redis.call('get',KEYS[1])", "1", "x"),
    ("EVAL", "#!lua flags=allow-oom\nreturn redis.call('set',KEYS[1],'b')", "1", "a"),
    ("EVAL", "#!lua flags=no-writes\nreturn redis.call('get',KEYS[1])", "1", "x"),
    ("EVAL", "#!lua flags=no-writes,allow-oom\nreturn redis.call('get',KEYS[1])", "1", "x"),
    ("EVAL", "return redis.call('del',KEYS[1])", "1", "zz"),
    ("EVAL_RO", "return redis.call('get',KEYS[1])", "1", "x"),
    ("EVAL_RO", "#!lua\nreturn redis.call('get',KEYS[1])", "1", "x"),
    ("SCRIPT", "LOAD", "#!lua\nreturn 1"), ("EVALSHA", hashlib.sha1(b"#!lua\nreturn 1").hexdigest(), "0"),
    ("EVALSHA_RO", hashlib.sha1(b"#!lua\nreturn 1").hexdigest(), "0"),
    ("FCALL", "w", "1", "a"), ("FCALL", "ro", "1", "a"), ("FCALL", "ao", "1", "a"), ("FCALL_RO", "ro", "1", "a"),
    ("FCALL_RO", "w", "1", "a"), ("FCALL", "nope", "0"),
    ("MULTI",), ("EVAL", "#!lua\nreturn 1", "0"), ("EXEC",),
    ("MULTI",), ("FCALL", "ro", "1", "x"), ("EXEC",),
    ("CONFIG", "SET", "maxmemory", "0"), ("EVAL", "#!lua\nreturn redis.call('set',KEYS[1],'b')", "1", "a"),
]


@needs_redis
def test_scripts_over_maxmemory_as_redis(cachet, reference, tls_certs):
    compare(raw_conn(cachet, "plain", tls_certs), raw_conn(reference, "plain", tls_certs), OOM_CALLS)


@needs_redis
def test_queued_scripts_over_maxmemory_abort_exec_as_redis(cachet, reference, tls_certs):
    """A script queued in MULTI is judged by its flags when EXEC finds the
    server over maxmemory: a deny-oom one discards the transaction."""
    conns = {name: (raw_conn(srv, "plain", tls_certs), raw_conn(srv, "plain", tls_certs))
             for name, srv in (("cachet", cachet), ("redis", reference))}
    replies = {name: [] for name in conns}
    lib = "#!lua name=l\nredis.register_function('w', function(k, a) return redis.call('set', k[1], 'v') end)"
    for name, (a, b) in conns.items():
        out = replies[name]
        out += [a.call("FUNCTION", "LOAD", lib), b.call("CONFIG", "SET", "maxmemory-policy", "noeviction")]
        for queued in [("EVAL", "#!lua\nreturn redis.call('set','a','b')", "0"), ("FCALL", "w", "1", "a"),
                       ("EVAL", "return redis.call('set','a','b')", "0"),
                       ("EVAL", "#!lua flags=allow-oom\nreturn redis.call('set','a','b')", "0"),
                       ("EVAL", "#!lua flags=no-writes\nreturn 1", "0")]:
            out += [a.call("MULTI"), a.call(*queued), b.call("CONFIG", "SET", "maxmemory", "1"), a.call("EXEC"),
                    b.call("CONFIG", "SET", "maxmemory", "0")]
    assert replies["cachet"] == replies["redis"]


# A replica whose primary is away, then a primary short of replicas: a
# script's writes meet READONLY/NOREPLICAS inside redis.call, and
# replica-serve-stale-data no refuses a known script (with or without a
# shebang) unless it declared allow-stale, as Redis 7.0 does.
REPLICA_CALLS = [
    ("FUNCTION", "LOAD", "#!lua name=l\nredis.register_function('f', function() return 1 end)\n"
     "redis.register_function{function_name='s', callback=function() return 1 end, flags={'allow-stale','no-writes'}}"),
    ("SCRIPT", "LOAD", "return 1"), ("REPLICAOF", "127.0.0.1", "1"),
    ("EVAL", "#!lua\nreturn 1", "0"), ("EVAL", "return redis.call('set','a','b')", "0"),
    ("EVAL", "return redis.pcall('set','a','b')", "0"), ("EVAL", "return redis.call('get','a')", "0"),
    ("EVAL", "#!lua flags=no-writes\nreturn 1", "0"),
    ("CONFIG", "SET", "replica-serve-stale-data", "no"),
    ("EVAL", "return 1", "0"), ("EVAL_RO", "return 1", "0"), ("EVALSHA", hashlib.sha1(b"return 1").hexdigest(), "0"),
    ("EVALSHA", "f" * 40, "0"), ("EVALSHA_RO", "f" * 40, "0"), ("EVALSHA", "abc", "0"),
    ("EVAL", "#!lua flags=allow-stale\nreturn 1", "0"), ("EVAL", "#!lua flags=allow-stale,no-writes\nreturn 1", "0"),
    ("EVAL", "#!lua flags=no-writes\nreturn 1", "0"), ("EVAL", "#!lua flags=bad\nreturn 1", "0"),
    ("FCALL", "f", "0"), ("FCALL", "s", "0"), ("FCALL", "nope", "0"), ("FCALL_RO", "s", "0"),
    ("REPLICAOF", "NO", "ONE"), ("CONFIG", "SET", "min-replicas-to-write", "1"),
    ("EVAL", "#!lua\nreturn 1", "0"), ("EVAL", "return 1", "0"), ("EVAL", "return redis.call('set','a','b')", "0"),
    ("EVAL", "return redis.pcall('set','a','b')", "0"), ("EVAL", "#!lua flags=no-writes\nreturn 1", "0"),
    ("CONFIG", "SET", "min-replicas-to-write", "0"),
]


@needs_redis
def test_scripts_on_replica_and_without_replicas_as_redis(cachet, reference, tls_certs):
    compare(raw_conn(cachet, "plain", tls_certs), raw_conn(reference, "plain", tls_certs), REPLICA_CALLS)
