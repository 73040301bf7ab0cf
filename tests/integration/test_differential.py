"""Differential check against Debian's redis-server 7.0: the same seeded
stream of random commands (strings, keys, hashes, lists, sets, sorted sets,
streams and consumer groups, Lua scripts and functions; valid and invalid
arguments, wrong types) goes to both servers over raw sockets, and every
reply must be the same bytes, RESP2 and RESP3, with small and big
collection encodings. Scripts (EVAL, EVALSHA, EVAL_RO, EVALSHA_RO, SCRIPT
EXISTS/LOAD/FLUSH, FCALL/FCALL_RO of a library loaded at the start) are a
fixed set of small deterministic bodies over the random keys: reads,
writes, wrong types, errors from redis.call/pcall, tables, nested tables,
nil, booleans, floats, error_reply/status_reply, RESP3 via redis.setresp(3),
shebang flags, and bodies that do not compile (whose error texts carry
the `f_<sha>` name and line numbers).

What is left out, and why: SPOP and RANDOMKEY, whose effect or answer is
random by design (for SRANDMEMBER, HRANDFIELD and ZRANDMEMBER only the
reply's type and length are compared, which their count decides), DBSIZE and KEYS
(which count a key that expires between the two servers' turns), and
expiries shorter than the run; XADD with `*` ids (the id is the clock:
explicit and `<ms>-*` ids are sent instead) and XREAD/XREADGROUP BLOCK;
XINFO STREAM's and XPENDING's times (idle, seen-time, delivery times) are
compared as integers in their place but not by value (no script returns
them); MEMORY USAGE (the encodings' sizes differ). Scripts returning a
hash's or a set's members compare as multisets; no script reads the clock
or randomness (TIME, RANDOMKEY, SPOP), and none raises error({}) without an
err field, which crashes redis-server 7.0.15 (SIGSEGV; Cachet answers an
error). test_stream_radix_tree_counts_as_redis compares XINFO STREAM's
radix-tree counts over many small nodes. Unordered replies (SMEMBERS, HGETALL, ...)
are compared as multisets, since the two hash tables order differently.
TTL and EXPIRETIME may differ by one second (the two servers read the clock
a few microseconds apart). Lexical ranges are sent only to sets whose scores
are all equal; test_zset.py covers sets where they differ.

DIFFERENTIAL_SEED=N (default 0) shifts every stream, to run other commands.
"""
import hashlib
import os
import random
import socket
import zlib

import pytest

from conftest import Server, cmd
from tlsutil import Resp


class Reader(Resp):
    """Reads whole RESP2/RESP3 replies as (type, value) trees, so that two
    servers' replies compare type for type (Resp.read decodes RESP2 only)."""

    def read(self):
        line = self._line()
        kind, rest = line[:1], line[1:]
        if kind in b"+-:,#_(":
            return kind, rest
        if kind in b"$=!":
            n = int(rest)
            return kind, None if n < 0 else self._exact(n)
        if kind in b"*~%>":
            n = int(rest)
            if n < 0:
                return kind, None
            return kind, [self.read() for _ in range(2 * n if kind == b"%" else n)]
        raise AssertionError(f"not RESP: {line[:80]!r}")


def canonical(reply, unordered):
    kind, value = reply
    if not isinstance(value, list):
        return reply
    items = [canonical(v, False) for v in value]
    if unordered:
        if kind == b"%":
            pairs = sorted(zip(items[::2], items[1::2]), key=repr)
            items = [x for pair in pairs for x in pair]
        else:
            items = sorted(items, key=repr)
    return kind, items


UNORDERED = {"SMEMBERS", "SUNION", "SINTER", "SDIFF", "HGETALL", "HKEYS", "HVALS"}
SCRIPT_CALLS = {"EVAL", "EVALSHA", "EVAL_RO", "EVALSHA_RO"}  # a RESP3 set or map they return: in any order
CLOCK = {"TTL", "EXPIRETIME"}
RANDOM = {"SRANDMEMBER", "HRANDFIELD", "ZRANDMEMBER"}

FAMILY_KEYS = {
    "string": ["k1", "k2", "k3", "{t}a"],
    "hash": ["h1", "h2", "{t}a"],
    "list": ["l1", "l2", "{t}b"],
    "set": ["s1", "s2", "{t}b"],
    "zset": ["z1", "z2", "{t}a"],
    "lex": ["x1", "x2"],  # sorted sets whose scores are all 0
    "misc": ["k1", "h1", "l1", "s1", "z1", "{t}a", "{t}b"],  # keyspace, transactions, connection
    "stream": ["x:1", "x:2", "{t}c"],
    "script": ["k1", "h1", "l1", "z1", "x:1", "{t}a", "{t}b"],
}
ALL_KEYS = sorted({k for keys in FAMILY_KEYS.values() for k in keys})
FIELDS = ["f1", "f2", "f3", "a", "b", "1", "2", "-1", "10", "3.5", ""]
NUMS = ["0", "1", "-1", "2", "3", "10", "-5", "100", "abc", "1.5", "9223372036854775807", "-9223372036854775808",
        "99999999999999999999", "inf", "-inf", "+inf", "nan", "1e3", " 1", "0x10"]
EXPIRY = ["100000", "1000000", "-1", "0", "abc", "9223372036854775807", "-9223372036854775808", " 1", "1.5"]
SCORES = ["0", "1", "-1", "2.5", "(1", "(2.5", "-inf", "+inf", "inf", "nan", "abc", "[a", "(b", "-", "+", "1e400", "3"]
LEX = ["-", "+", "[a", "(a", "[b", "(c", "a", "[", "(", "[f2", "[10", "(-1"]


# Small deterministic scripts: KEYS[1..2] are random keys, ARGV[1..2] random
# fields. Each one runs on both servers; the replies must be the same bytes.
SCRIPTS = [
    "return redis.call('GET', KEYS[1])",
    "return redis.pcall('GET', KEYS[1])",
    "return redis.call('SET', KEYS[1], ARGV[1])",
    "return redis.call('INCR', KEYS[1])",
    "return redis.pcall('INCR', KEYS[1])",
    "return redis.pcall('LPUSH', KEYS[1], ARGV[1])",
    "return redis.call('LPUSH', KEYS[1], ARGV[1])",
    "return redis.call('HMGET', KEYS[1], ARGV[1], ARGV[2])",
    "return redis.call('LRANGE', KEYS[1], 0, -1)",
    "return redis.call('ZRANGE', KEYS[1], 0, -1, 'WITHSCORES')",
    "return redis.pcall('ZADD', KEYS[1], ARGV[1], ARGV[2])",
    "return redis.pcall('HINCRBYFLOAT', KEYS[1], ARGV[1], 1.5)",
    "return redis.call('XRANGE', KEYS[1], '-', '+')",
    "return redis.pcall('XLEN', KEYS[1])",
    "return redis.pcall('TYPE', KEYS[1])",
    "return redis.call('EXISTS', KEYS[1], KEYS[2])",
    "return {1, 2.5, 'x', {3, {4, false}}, true, nil, 9}",
    "return {err = 'My Error'}",
    "return {ok = 'fine'}",
    "return redis.error_reply('ERR custom ' .. ARGV[1])",
    "return redis.error_reply('no prefix')",
    "return redis.status_reply('STATUS ' .. ARGV[1])",
    "return 3.99",
    "return -0.5",
    "return true",
    "return false",
    "return nil",
    "return {}",
    "local t = redis.pcall('INCR', KEYS[1]); if type(t) == 'table' then return t.err end; return t",
    "local r = redis.pcall('NOPE'); return r",
    "return redis.call('NOPE')",
    "return redis.call('GET')",
    "return redis.call()",
    "return redis.call('SET', KEYS[1])",
    "redis.setresp(3); return redis.call('HGETALL', KEYS[1])",
    "redis.setresp(3); return redis.pcall('ZSCORE', KEYS[1], ARGV[1])",
    "redis.setresp(3); return redis.call('SMEMBERS', KEYS[1])",
    "redis.setresp(3); return redis.pcall('XINFO', 'STREAM', KEYS[1])",
    "redis.setresp(3); return redis.call('GET', 'nokey:' .. ARGV[1])",
    "redis.setresp(3); return redis.call('ZRANGE', KEYS[1], 0, -1, 'WITHSCORES')",
    "redis.setresp(3); return {double = 1.25}",
    "redis.setresp(3); return {double = 0/0}",
    "redis.setresp(3); return {double = -(0/0)}",
    "redis.setresp(3); return {map = {a = 1}}",
    "redis.setresp(3); return {set = {a = true}}",
    "redis.setresp(4)",
    "return redis.sha1hex(ARGV[1] or '')",
    "return tostring(KEYS[1]) .. '/' .. #ARGV",
    "return cjson.encode({redis.call('TYPE', KEYS[1])})",
    "return redis.pcall('SET', KEYS[1], ARGV[1], 'EX', ARGV[2] .. '00000')",  # never shorter than the run
    "return redis.pcall('EVAL', 'return 1', 0)",
    "return x",
    "x = 1",
    "error('boom')",
    "error({err = 'ERR table err'})",
    "return 1 +",
    "local = 2",
    "return redis.call('DEL', KEYS[1])",
    "#!lua flags=no-writes\nreturn redis.call('GET', KEYS[1])",
    "#!lua flags=no-writes\nreturn redis.pcall('SET', KEYS[1], ARGV[1])",
    "#!lua flags=bad\nreturn 1",
    "#!lua name=x\nreturn 1",
    "#!lua\nreturn redis.call('INCRBY', KEYS[1], ARGV[1])",
]
FUNCTION_LIB = """#!lua name=difflib
redis.register_function('fget', function(keys, args) return redis.call('GET', keys[1]) end)
redis.register_function('fincr', function(keys, args) return redis.pcall('INCRBY', keys[1], args[1]) end)
redis.register_function{function_name='fro', callback=function(keys, args) return redis.pcall('SET', keys[1], 'v') end,
                        flags={'no-writes'}}
redis.register_function('ferr', function(keys, args) return redis.error_reply('ERR from function') end)
redis.register_function('ftab', function(keys, args) return {1, {2, 'x'}, false, 3.5} end)
"""
# Scripts returning a hash's or a set's members: in any order, as the two hash
# tables order them.
UNORDERED_SCRIPTS = {x for body in SCRIPTS if "HGETALL" in body or "SMEMBERS" in body
                     for x in (body, hashlib.sha1(body.encode()).hexdigest())}
STREAM_IDS = ["0", "0-1", "1", "1-0", "1-1", "2-5", "3", "5-*", "7-*", "10-0", "10-1", "12", "12-*", "-", "+", "(1",
              "(2-5", "(0", "$", ">", "abc", "18446744073709551615-18446744073709551615", "99-99", "1-x"]
STREAM_GROUPS = ["g1", "g2"]
STREAM_CONSUMERS = ["c1", "c2", "c3"]


class Gen:
    def __init__(self, seed):
        self.rng = random.Random(seed)
        self.family = "string"
        self.ms = 0  # XADD's explicit ids grow, so that most XADDs succeed

    def k(self):
        if self.rng.random() < 0.02:  # now and then, a key of another type
            return self.rng.choice(ALL_KEYS)
        return self.rng.choice(FAMILY_KEYS[self.family])

    def one(self, seq):
        return self.rng.choice(seq)

    def maybe(self, *options):
        return [self.rng.choice(options)] if self.rng.random() < 0.5 else []

    def string(self):
        k, f, n, e, m = self.k, lambda: self.one(FIELDS), lambda: self.one(NUMS), lambda: self.one(EXPIRY), self.maybe
        return self.one([
            lambda: ["SET", k(), f()] + self.one([[], ["NX"], ["XX"], ["GET"], ["EX", e()], ["PX", e()], ["KEEPTTL"],
                                                 ["EX", "10", "KEEPTTL"], ["NX", "GET"], ["EXAT", e()]]),
            lambda: ["GET", k()], lambda: ["INCR", k()], lambda: ["INCRBY", k(), n()], lambda: ["DECRBY", k(), n()],
            lambda: ["INCRBYFLOAT", k(), n()], lambda: ["APPEND", k(), f()], lambda: ["STRLEN", k()],
            lambda: ["GETRANGE", k(), n(), n()], lambda: ["SETRANGE", k(), n(), f()],
            lambda: ["GETEX", k()] + self.one([[], ["PERSIST"], ["EX", e()], ["PX", e()]]),
            lambda: ["GETDEL", k()], lambda: ["MSET", k(), f(), k(), f()], lambda: ["MSETNX", k(), f(), k(), f()],
            lambda: ["MGET", k(), k()], lambda: ["SETNX", k(), f()], lambda: ["SETEX", k(), e(), f()],
            lambda: ["PSETEX", k(), e(), f()], lambda: ["GETSET", k(), f()], lambda: ["SUBSTR", k(), n(), n()],
            lambda: ["DEL", k(), k()], lambda: ["EXISTS", k(), k()], lambda: ["TYPE", k()], lambda: ["TTL", k()],
            lambda: ["EXPIRE", k(), e()] + m("NX", "XX", "GT", "LT", "BAD"), lambda: ["PERSIST", k()],
            lambda: ["RENAME", k(), k()], lambda: ["RENAMENX", k(), k()], lambda: ["COPY", k(), k()] + m("REPLACE"),
            lambda: ["OBJECT", "ENCODING", k()], lambda: ["EXPIRETIME", k()], lambda: ["TOUCH", k()],
        ])()

    def hash(self):
        k, f, n = self.k, lambda: self.one(FIELDS), lambda: self.one(NUMS)
        return self.one([
            lambda: ["HSET", k(), f(), f()] + self.maybe(f()), lambda: ["HSETNX", k(), f(), f()],
            lambda: ["HGET", k(), f()], lambda: ["HMGET", k(), f(), f()], lambda: ["HDEL", k(), f(), f()],
            lambda: ["HGETALL", k()], lambda: ["HKEYS", k()], lambda: ["HVALS", k()], lambda: ["HLEN", k()],
            lambda: ["HEXISTS", k(), f()], lambda: ["HSTRLEN", k(), f()], lambda: ["HINCRBY", k(), f(), n()],
            lambda: ["HINCRBYFLOAT", k(), f(), n()], lambda: ["HMSET", k(), f(), f()],
            lambda: ["OBJECT", "ENCODING", k()], lambda: ["TYPE", k()],
            lambda: ["HRANDFIELD", k()] + self.one([[], [n()], [n(), "WITHVALUES"], ["1", "WITHVALUES"]]),
        ])()

    def list(self):
        k, f, n = self.k, lambda: self.one(FIELDS), lambda: self.one(NUMS)
        side = lambda: self.one(["LEFT", "RIGHT"])  # noqa: E731
        return self.one([
            lambda: [self.one(["LPUSH", "RPUSH", "LPUSHX", "RPUSHX"]), k(), f(), f()],
            lambda: [self.one(["LPOP", "RPOP"]), k()] + self.maybe(n()), lambda: ["LLEN", k()],
            lambda: ["LRANGE", k(), n(), n()], lambda: ["LINDEX", k(), n()], lambda: ["LSET", k(), n(), f()],
            lambda: ["LREM", k(), n(), f()], lambda: ["LTRIM", k(), n(), n()],
            lambda: ["LINSERT", k(), self.one(["BEFORE", "AFTER", "MIDDLE"]), f(), f()],
            lambda: ["LPOS", k(), f()] + self.one([[], ["RANK", n()], ["COUNT", n()], ["MAXLEN", n()],
                                                  ["RANK", n(), "COUNT", n()]]),
            lambda: ["LMOVE", k(), k(), self.one(["LEFT", "RIGHT", "UP"]), side()],
            lambda: ["RPOPLPUSH", k(), k()],
            lambda: ["LMPOP", self.one(["1", "2", "0", "-1", "x"]), k(), k(), self.one(["LEFT", "RIGHT", "MID"])]
            + self.one([[], ["COUNT"], ["COUNT", n()]]),
            lambda: ["OBJECT", "ENCODING", k()],
        ])()

    def set(self):
        k, f, n = self.k, lambda: self.one(FIELDS), lambda: self.one(NUMS)
        return self.one([
            lambda: ["SADD", k(), f(), f()], lambda: ["SREM", k(), f()], lambda: ["SMEMBERS", k()],
            lambda: ["SISMEMBER", k(), f()], lambda: ["SMISMEMBER", k(), f(), f()], lambda: ["SCARD", k()],
            lambda: ["SMOVE", k(), k(), f()], lambda: [self.one(["SINTER", "SUNION", "SDIFF"]), k(), k()],
            lambda: [self.one(["SINTERSTORE", "SUNIONSTORE", "SDIFFSTORE"]), k(), k(), k()],
            lambda: ["SINTERCARD", self.one(["1", "2", "0", "x"]), k(), k()] + self.one([[], ["LIMIT"],
                                                                                         ["LIMIT", n()]]),
            lambda: ["SRANDMEMBER", k(), n()],
            lambda: ["OBJECT", "ENCODING", k()],
        ])()

    def zset(self):
        k, f, n, s = self.k, lambda: self.one(FIELDS), lambda: self.one(NUMS), lambda: self.one(SCORES)
        return self.one([
            lambda: ["ZADD", k()] + self.one([[], ["NX"], ["XX"], ["GT"], ["LT"], ["CH"], ["INCR"], ["NX", "GT"],
                                             ["XX", "CH"]]) + [s(), f()] + self.maybe(s()),
            lambda: ["ZREM", k(), f()], lambda: ["ZSCORE", k(), f()], lambda: ["ZMSCORE", k(), f(), f()],
            lambda: ["ZINCRBY", k(), s(), f()], lambda: ["ZCARD", k()], lambda: ["ZCOUNT", k(), s(), s()],
            lambda: ["ZRANGE", k(), s(), s()] + self.one([[], ["BYSCORE"], ["REV"], ["WITHSCORES"],
                                                         ["BYSCORE", "LIMIT", n(), n()],
                                                         ["BYSCORE", "REV", "WITHSCORES"], ["LIMIT", "0", "1"]]),
            lambda: [self.one(["ZRANGEBYSCORE", "ZREVRANGEBYSCORE"]), k(), s(), s()] + self.maybe("WITHSCORES")
            + self.one([[], ["LIMIT", n(), n()]]),
            lambda: ["ZRANDMEMBER", k()] + self.one([[], [n()], [n(), "WITHSCORES"]]),
            lambda: ["ZREVRANGE", k(), n(), n()] + self.maybe("WITHSCORES"),
            lambda: [self.one(["ZRANK", "ZREVRANK"]), k(), f()],
            lambda: [self.one(["ZPOPMIN", "ZPOPMAX"]), k()] + self.maybe(n()),
            lambda: ["ZMPOP", self.one(["1", "2", "0"]), k(), k(), self.one(["MIN", "MAX", "X"])]
            + self.one([[], ["COUNT"], ["COUNT", n()]]),
            lambda: ["ZREMRANGEBYRANK", k(), n(), n()], lambda: ["ZREMRANGEBYSCORE", k(), s(), s()],
            lambda: [self.one(["ZUNION", "ZINTER", "ZDIFF"]), self.one(["1", "2", "0", "x"]), k(), k()]
            + self.one([[], ["WITHSCORES"], ["WEIGHTS", "2", "3"], ["AGGREGATE", "MAX"], ["AGGREGATE", "min"],
                        ["WEIGHTS", "x"]]),
            lambda: [self.one(["ZUNIONSTORE", "ZINTERSTORE", "ZDIFFSTORE"]), k(), self.one(["1", "2"]), k(), k()]
            + self.one([[], ["WEIGHTS", "2", "nan"], ["AGGREGATE", "SUM"]]),
            lambda: ["ZINTERCARD", self.one(["1", "2"]), k(), k()] + self.one([[], ["LIMIT"], ["LIMIT", n()]]),
            lambda: ["ZRANGESTORE", k(), k(), n(), n()] + self.maybe("REV"),
            lambda: ["OBJECT", "ENCODING", k()],
        ])()

    def lex(self):
        k, f, n, b = self.k, lambda: self.one(FIELDS), lambda: self.one(NUMS), lambda: self.one(LEX)
        return self.one([
            lambda: ["ZADD", k()] + self.maybe("NX", "XX", "CH") + ["0", f(), "0", f()],
            lambda: ["ZREM", k(), f()], lambda: ["ZLEXCOUNT", k(), b(), b()],
            lambda: [self.one(["ZRANGEBYLEX", "ZREVRANGEBYLEX"]), k(), b(), b()]
            + self.one([[], ["LIMIT", n(), n()], ["LIMIT"]]),
            lambda: ["ZRANGE", k(), b(), b(), "BYLEX"] + self.maybe("REV") + self.maybe("WITHSCORES"),
            lambda: ["ZRANGESTORE", k(), k(), b(), b(), "BYLEX"] + self.maybe("REV"),
            lambda: ["ZREMRANGEBYLEX", k(), b(), b()], lambda: ["ZRANGE", k(), "0", "-1", "WITHSCORES"],
        ])()

    def misc(self):
        k, f, n, e, m = self.k, lambda: self.one(FIELDS), lambda: self.one(NUMS), lambda: self.one(EXPIRY), self.maybe
        t = lambda: self.one(["0.001", "-1", "abc", "1e-3", "0.01"])  # noqa: E731  never 0: blocks
        return self.one([
            lambda: ["MULTI"], lambda: ["EXEC"], lambda: ["DISCARD"], lambda: ["WATCH", k(), k()],
            lambda: ["UNWATCH"], lambda: ["ECHO", f()], lambda: ["PING"] + m(f()),
            lambda: ["SELECT", self.one(["0", "0", "0", "1", "15", "16", "-1", "x"])],
            lambda: ["MOVE", k(), self.one(["0", "1", "16", "x"])], lambda: ["COPY", k(), k(), "DB"] + m("0", "1", "16"),
            lambda: [self.one(["EXPIRE", "PEXPIRE", "EXPIREAT", "PEXPIREAT"]), k(), e()] + m("NX", "XX", "GT", "LT"),
            lambda: ["PERSIST", k()], lambda: ["UNLINK", k(), k()], lambda: ["TYPE", k()],
            lambda: ["SCAN", "0", "COUNT", "1000"] + self.one([[], ["MATCH", "*1"], ["MATCH", "{t}*"],
                                                              ["TYPE", self.one(["string", "zset", "list", "x"])]]),
            lambda: [self.one(["SSCAN", "HSCAN", "ZSCAN"]), k(), "0", "COUNT", "1000"] + m("MATCH"),
            lambda: ["OBJECT", self.one(["FREQ", "ENCODING", "NOPE"]), k()],
            lambda: [self.one(["BLPOP", "BRPOP"]), k(), k(), t()],
            lambda: ["BLMOVE", k(), k(), self.one(["LEFT", "RIGHT"]), self.one(["LEFT", "RIGHT", "UP"]), t()],
            lambda: ["BRPOPLPUSH", k(), k(), t()],
            lambda: ["BLMPOP", t(), self.one(["1", "2", "0"]), k(), k(), self.one(["LEFT", "RIGHT"])] + m("COUNT"),
            lambda: [self.one(["BZPOPMIN", "BZPOPMAX"]), k(), t()],
            lambda: ["BZMPOP", t(), "1", k(), self.one(["MIN", "MAX"]), "COUNT", n()],
            lambda: [self.one(["LPUSH", "SADD"]), k(), f()], lambda: ["ZADD", k(), n(), f()],
            lambda: ["HSET", k(), f(), f()], lambda: ["SET", k(), f()],
        ])()

    def stream(self):
        k, f, n, m = self.k, lambda: self.one(FIELDS), lambda: self.one(NUMS), self.maybe
        i, g, c = lambda: self.one(STREAM_IDS), lambda: self.one(STREAM_GROUPS), lambda: self.one(STREAM_CONSUMERS)
        cnt = lambda: self.one(["1", "2", "3", "0", "-1", "x", "100"])  # noqa: E731

        def newid():
            if self.rng.random() < 0.8:
                self.ms += self.rng.randint(0, 2)
                return self.one([f"{self.ms}-{self.rng.randint(0, 3)}", f"{self.ms}-*", f"{self.ms}"])
            return i()

        def trim():
            return self.one([["MAXLEN", self.one(["0", "1", "2", "5", "-1", "x"])], ["MAXLEN", "=", "3"],
                             ["MAXLEN", "~", "2"], ["MINID", i()], ["MINID", "=", str(max(0, self.ms - 3))],
                             ["MINID", "~", str(self.ms)], ["MAXLEN", "~", "3", "LIMIT", self.one(["0", "10", "-1"])],
                             ["MAXLEN", "=", "1", "LIMIT", "5"]])

        return self.one([
            lambda: ["XADD", k()] + m("NOMKSTREAM") + self.one([[], [], trim()]) + [newid(), f(), f()]
            + self.one([[], [f(), f()]]),
            lambda: ["XADD", k(), newid(), f(), f()],
            lambda: ["XADD", k(), newid(), f(), f(), f(), f()],
            lambda: ["XADD", k(), newid()] + self.one([[], [f()], [f(), f()]]),
            lambda: ["XLEN", k()],
            lambda: [self.one(["XRANGE", "XREVRANGE"]), k(), i(), i()] + self.one([[], ["COUNT", cnt()], ["COUNT"]]),
            lambda: [self.one(["XRANGE", "XREVRANGE"]), k(), self.one(["-", "+"]), self.one(["-", "+"])],
            lambda: ["XDEL", k(), i()] + m(i()),
            lambda: ["XTRIM", k()] + trim(),
            lambda: ["XTRIM", k(), self.one(["MAXLEN", "MINID", "BAD"])] + self.one([[], ["1"]]),
            lambda: ["XGROUP", "CREATE", k(), g(), self.one(["$", "0", "1-1", "abc", "-"])] + m("MKSTREAM")
            + self.one([[], ["ENTRIESREAD", self.one(["0", "1", "5", "-1", "x"])]]),
            lambda: ["XGROUP", "SETID", k(), g(), self.one(["$", "0", "1-1", "abc"])]
            + self.one([[], ["ENTRIESREAD", self.one(["0", "2", "-1"])]]),
            lambda: ["XGROUP", "DESTROY", k(), g()],
            lambda: ["XGROUP", "CREATECONSUMER", k(), g(), c()],
            lambda: ["XGROUP", "DELCONSUMER", k(), g(), c()],
            lambda: ["XGROUP", self.one(["NOPE", "HELP", "CREATE"]), k()],
            lambda: ["XREADGROUP", "GROUP", g(), c()] + self.one([[], ["COUNT", cnt()]]) + m("NOACK")
            + ["STREAMS", k(), self.one([">", ">", "0", "1-1", "$", "x"])],
            lambda: ["XREADGROUP", "GROUP", g(), c(), "STREAMS", k(), k(), ">", self.one([">", "0"])],
            lambda: [self.one(["XREADGROUP", "XREADGROUP", "XREAD"])] + self.one([["GROUP", g(), c()], []])
            + ["STREAMS", k(), k(), ">"],
            lambda: ["XREAD"] + self.one([[], ["COUNT", cnt()]]) + ["STREAMS", k(), self.one(["0", "1-1", "$", "x", "+"])],
            lambda: ["XACK", k(), g(), i()] + m(i()),
            lambda: ["XPENDING", k(), g()],
            lambda: ["XPENDING", k(), g()] + m("IDLE", "0") + ["-", "+", cnt()] + m(c()),
            lambda: ["XPENDING", k(), g(), i(), i(), cnt()],
            lambda: ["XCLAIM", k(), g(), c(), "0", i()] + m(i()) + m("JUSTID") + m("FORCE")
            + self.one([[], ["RETRYCOUNT", "3"], ["LASTID", i()]]),
            lambda: ["XAUTOCLAIM", k(), g(), c(), "0", i()] + self.one([[], ["COUNT", cnt()]]) + m("JUSTID"),
            lambda: ["XINFO", "STREAM", k()] + self.one([[], [], ["FULL"], ["FULL", "COUNT", cnt()]]),
            lambda: ["XINFO", self.one(["GROUPS", "GROUPS", "NOPE"]), k()],
            lambda: ["XINFO", "CONSUMERS", k(), g()],
            lambda: ["XSETID", k(), i()] + self.one([[], ["ENTRIESADDED", n()], ["MAXDELETEDID", i()]]),
            lambda: ["TYPE", k()], lambda: ["OBJECT", "ENCODING", k()], lambda: ["DEL", k()],
        ])()

    def script(self):
        k, f = self.k, lambda: self.one(FIELDS + NUMS)
        body = self.one(SCRIPTS)
        sha = hashlib.sha1(body.encode()).hexdigest()
        keys = [k(), k()]
        return self.one([
            lambda: ["EVAL", body, "2"] + keys + [f(), f()],
            lambda: ["EVAL", body, "2"] + keys + [f(), f()],
            lambda: ["EVALSHA", sha, "2"] + keys + [f(), f()],
            lambda: ["EVAL_RO", body, "1", keys[0], f()],
            lambda: ["EVALSHA_RO", sha, "1", keys[0], f()],
            lambda: ["EVAL", body, self.one(["-1", "3", "x"])] + keys,
            lambda: ["SCRIPT", "EXISTS", sha, hashlib.sha1(self.one(SCRIPTS).encode()).hexdigest()],
            lambda: ["SCRIPT", "LOAD", body],
            lambda: ["SCRIPT", "FLUSH"] if self.rng.random() < 0.1 else ["SCRIPT", "EXISTS", sha],
            lambda: [self.one(["FCALL", "FCALL_RO"]), self.one(["fget", "fincr", "fro", "ferr", "ftab", "nope"]),
                     self.one(["1", "1", "0", "2", "x"]), keys[0], f()],
        ])()

    def config(self):
        """CONFIG SET/GET of parameters that cannot make the two servers
        diverge (no maxmemory: used memory differs; no timeout: it closes the
        connection; no hz: it sets how soon Redis times blocked clients
        out), with values of every shape, so the parse, the bounds and
        their error texts are compared, and encodings convert mid-stream."""
        name = self.one(["maxmemory-samples", "lfu-log-factor", "lfu-decay-time", "slowlog-log-slower-than",
                         "slowlog-max-len", "hash-max-listpack-value", "zset-max-listpack-value",
                         "hash-max-listpack-entries", "zset-max-listpack-entries", "set-max-intset-entries",
                         "list-max-listpack-size", "proto-max-bulk-len", "client-query-buffer-limit",
                         "maxmemory-policy", "loglevel", "tcp-keepalive", "list-compress-depth",
                         "stream-node-max-entries", "stream-node-max-bytes", "nope"])
        value = self.one(["0", "1", "3", "4", "64", "-1", "-2", "", "abc", "1k", "2kb", "01", "1mb", "1gb", "-1mb",
                          "18446744073709551616", "99999999999999999999", "9223372036854775808", "1.5", " 1",
                          "allkeys-lru", "volatile-ttl", "notice", "warning", "yes"])
        if self.rng.random() < 0.3:
            return ["CONFIG", "GET", name]
        return ["CONFIG", "SET", name, value]

    def next(self):
        if self.rng.random() < 0.02:  # keeps keys from staying the wrong type for long
            return ["DEL", self.one(ALL_KEYS)]
        if self.rng.random() < 0.01:
            return self.config()
        self.family = self.one(list(FAMILY_KEYS))
        while True:
            args = getattr(self, self.family)()
            # A lex-family key must keep all-zero scores: only lex commands
            # may write to it.
            if self.family == "lex" or not set(args[1:]) & set(FAMILY_KEYS["lex"]):
                return args


SCANS = {"SCAN", "SSCAN"}  # [cursor, [keys]]: keys in any order
PAIR_SCANS = {"HSCAN", "ZSCAN"}  # [cursor, [field, value, ...]]: pairs in any order


CLOCK_FIELDS = {b"idle", b"seen-time", b"active-time", b"inactive"}


def masked(reply, name):
    """Stream replies with times in them (XINFO's idle/seen-time, XPENDING's
    and XINFO FULL's delivery times): those integers become 0, so that only
    their place and type are compared."""
    kind, value = reply
    if not isinstance(value, list):
        return reply
    items = [masked(v, name) for v in value]
    for j in range(1, len(items)):
        if items[j - 1][0] in b"$+" and items[j - 1][1] in CLOCK_FIELDS and items[j][0] == b":":
            items[j] = (b":", b"0")
    ints = [x[0] == b":" for x in items]
    if name in ("XPENDING", "XINFO") and kind == b"*":
        if len(items) == 4 and ints == [False, False, True, True]:  # [id, consumer, delivery time, count]
            items[2] = (b":", b"0")
        elif name == "XINFO" and len(items) == 3 and ints == [False, True, True]:  # [id, delivery time, count]
            items[1] = (b":", b"0")
    return kind, items


def same(a, b, name, queued=()):
    if name in ("XPENDING", "XINFO"):
        a, b = masked(a, name), masked(b, name)
    if name == "EXEC" and a[0] == b[0] == b"*" and isinstance(a[1], list) and isinstance(b[1], list):
        return len(a[1]) == len(b[1]) == len(queued) and all(
            same(x, y, q) for x, y, q in zip(a[1], b[1], queued))
    if name in SCANS | PAIR_SCANS and a[0] == b[0] == b"*":
        if a[1][0] != b[1][0]:
            return False
        items = [canonical(a[1][1], False)[1], canonical(b[1][1], False)[1]]
        if name in PAIR_SCANS:
            items = [list(zip(x[::2], x[1::2])) for x in items]
        return sorted(items[0], key=repr) == sorted(items[1], key=repr)
    if name in CLOCK and a[0] == b[0] == b":":
        return abs(int(a[1]) - int(b[1])) <= 1
    if name in RANDOM and a[0] != b"-":  # same type, same length (or both nil)
        size = lambda r: len(r[1]) if isinstance(r[1], list) else r[1] is None  # noqa: E731
        return a[0] == b[0] and size(a) == size(b)
    unordered = name in UNORDERED or (name in SCRIPT_CALLS and a[0] in b"~%")
    return canonical(a, unordered) == canonical(b, unordered)


COMMANDS = 15000  # per run; about 2 s each against 2 servers

SETTINGS = {  # both servers get the same encoding thresholds
    "small": {"zset-max-listpack-entries": 4, "hash-max-listpack-entries": 4, "set-max-intset-entries": 4,
              "list-max-listpack-size": 4},
    "big": {"zset-max-listpack-entries": 0, "hash-max-listpack-entries": 0, "set-max-intset-entries": 0},
    "default": {},
}


@pytest.mark.parametrize("proto", ["2", "3"])
@pytest.mark.parametrize("settings", list(SETTINGS))
def test_random_commands_answer_as_redis(tmp_path, server, settings, proto):
    ref = Server(tmp_path / "redis", ["--save", "", "--appendonly", "no"], binary="redis-server")
    socks = []
    try:
        for srv in (ref, server):
            s = socket.create_connection(("127.0.0.1", srv.port), timeout=10)
            socks.append(s)
        readers = [Reader(s) for s in socks]

        def send(args):
            for s in socks:
                s.sendall(cmd(*args))
            return [r.read() for r in readers]

        # hz 500: Redis times blocked clients out in its cron, at 100 ms steps by default
        for name, value in list(SETTINGS[settings].items()) + [("hz", 500)]:
            assert send(["CONFIG", "SET", name, value]) == [(b"+", b"OK")] * 2
        assert all(reply[0] in b"*%" for reply in send(["HELLO", proto]))
        assert send(["FUNCTION", "LOAD", "REPLACE", FUNCTION_LIB]) == [(b"$", b"difflib")] * 2

        gen = Gen(seed=zlib.crc32(f"{settings}-{proto}".encode()) + int(os.environ.get("DIFFERENTIAL_SEED", "0")))
        kinds = {}
        queued = None  # names of the commands queued since MULTI
        history = []
        for i in range(COMMANDS):
            args = gen.next()
            redis_reply, cachet_reply = send(args)
            name = args[0].upper()
            if name in SCRIPT_CALLS and args[1] in UNORDERED_SCRIPTS:
                name = "SMEMBERS"
            kinds[redis_reply[0]] = kinds.get(redis_reply[0], 0) + 1
            history.append(args)
            assert same(redis_reply, cachet_reply, name, queued or ()), \
                f"command #{i} {args}:\n  redis:  {redis_reply}\n  cachet: {cachet_reply}\n" + \
                "  after: " + "\n         ".join(map(str, [h for h in history[-3000:] if set(h[1:]) & set(args[1:]) or h[0] == "CONFIG"][-60:]))
            if name == "MULTI" and redis_reply == (b"+", b"OK"):
                queued = []
            elif name in ("EXEC", "DISCARD"):
                queued = None
            elif redis_reply == (b"+", b"QUEUED"):
                queued.append(name)
        # The stream must exercise real work, not only error paths.
        errors = kinds.pop(b"-", 0)
        assert errors < COMMANDS * 0.6 and sum(kinds.values()) > COMMANDS * 0.4, kinds
    finally:
        for s in socks:
            s.close()
        ref.stop()


def test_stream_radix_tree_counts_as_redis(tmp_path, server):
    """XINFO STREAM's radix-tree-keys and radix-tree-nodes as Redis' rax
    counts them, for many small nodes with ids that share long and short
    prefixes, through XDEL and XTRIM."""
    ref = Server(tmp_path / "redis", ["--save", "", "--appendonly", "no"], binary="redis-server")
    socks = []
    try:
        for srv in (ref, server):
            socks.append(socket.create_connection(("127.0.0.1", srv.port), timeout=10))
        readers = [Reader(s) for s in socks]

        def send(*args):
            for s in socks:
                s.sendall(cmd(*args))
            return [r.read() for r in readers]

        rng = random.Random(7)
        ms = 0
        for entries in ("2", "1", "5"):
            assert send("CONFIG", "SET", "stream-node-max-entries", entries) == [(b"+", b"OK")] * 2
            for _ in range(300):
                ms += rng.choice([1, 1, 2, 255, 256, 65536, 1 << 24, 1 << 33, 12345678901])
                last = f"{ms}-{rng.choice([0, 1, 255, 256, 1 << 40])}"
                send("XADD", "s", last, "f", "v")
                if rng.random() < 0.1:
                    send("XDEL", "s", last)
                if rng.random() < 0.03:
                    send("XTRIM", "s", "MAXLEN", str(rng.randint(0, 50)))
                if rng.random() < 0.03:
                    send("XTRIM", "s", "MINID", str(ms - rng.randint(0, 1 << 30)))
                a, b = send("XINFO", "STREAM", "s")
                assert a == b
    finally:
        for s in socks:
            s.close()
        ref.stop()
