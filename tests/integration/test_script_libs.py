"""The cmsgpack and struct Lua libraries scripts get (src/server/script_cmsgpack.c,
script_struct.c): every script of the tables below runs on Cachet and on
Debian's redis-server 7.0, and the replies (packed bytes, unpacked values,
error texts) are compared byte for byte."""
import os
import random
import sys

import pytest

from test_scripting import RawReplies, compare, needs_redis, reference  # noqa: F401 (reference: a fixture)

P = "return cmsgpack.pack(%s)"
# Values whose tostring() shows every digit, so floats compare exactly.
SHOW = ("local function show(t) if type(t) ~= 'table' then return tostring(t) end "
        "local o = {} for i = 1, #t do o[i] = show(t[i]) end return o end ")

INTS = ["0", "1", "127", "128", "255", "256", "65535", "65536", "4294967295", "4294967296", "2^53", "2^62",
        "2^63", "-2^63", "-1", "-31", "-32", "-33", "-127", "-128", "-129", "-32767", "-32768", "-32769",
        "-2147483648", "-2147483649", "-2^53", "-2^63-4096"]
FLOATS = ["0.5", "-1.5", "1.1", "-3.25e-5", "1e300", "-1e300", "1/0", "-1/0", "0/0", "2^64", "3.4028234663852886e38",
          "1e-320"]
STRS = ["''", "'a'", "string.rep('x', 31)", "string.rep('x', 32)", "string.rep('y', 255)", "string.rep('y', 256)",
        "string.rep('z', 65535)", "string.rep('z', 65536)", "'a\\0b'"]
TABLES = ["{}", "{1,2,3}", "{'a',{'b',{'c',{}}}}", "{a=1}", "{[1]=1,[3]=3}", "{true,false}", "{[0]=1}",
          "{[1.5]=2}", "{[-1]=2}", "{x={y={z={1}}}}", "{1,nil,3}", "{n=nil}", "{{},{}}",
          "(function() local t = {} for i = 1, 16 do t[i] = i end return t end)()",
          "(function() local t = {} for i = 1, 70000 do t[i] = i % 200 end return t end)()",
          "(function() local t = {} for i = 1, 17 do t['k'..i] = i end return t end)()",
          "(function() local t = {} local c = t for i = 1, 20 do c[1] = {} c = c[1] end return t end)()",
          "(function() local t = {} t[1] = t return t end)()",
          "function() end", "coroutine.create(function() end)", "nil", "true", "false", "1, 'two', {3}, nil, 4.5"]

PACK = [P % v for v in INTS + FLOATS + STRS + TABLES]

# Hand-made inputs: every type byte, truncations, offsets.
RAW = ["'\\204\\200'", "'\\205\\1\\0'", "'\\206\\255\\255\\255\\255'", "'\\207\\255\\255\\255\\255\\255\\255\\255\\255'",
       "'\\207\\127\\255\\255\\255\\255\\255\\255\\255'", "'\\208\\128'", "'\\209\\128\\0'", "'\\210\\128\\0\\0\\0'",
       "'\\211\\128\\0\\0\\0\\0\\0\\0\\0'", "'\\211\\255\\255\\255\\255\\255\\255\\255\\255'", "'\\224'", "'\\255'",
       "'\\202\\63\\192\\0\\0'", "'\\203\\64\\9\\33\\251\\84\\68\\45\\24'", "'\\217\\3abc'", "'\\218\\0\\2ab'",
       "'\\219\\0\\0\\0\\1a'", "'\\220\\0\\2\\1\\2'", "'\\221\\0\\0\\0\\1\\192'", "'\\222\\0\\1\\161a\\1'",
       "'\\223\\0\\0\\0\\1\\1\\2'", "'\\145\\192'", "'\\146\\1'", "'\\129\\161a'", "'\\192\\194\\195'", "'\\1\\2\\3'"]
BAD = ["''", "'\\193'", "'\\196\\1a'", "'\\199\\1\\1a'", "'\\212\\1\\1'", "'\\205\\1'", "'\\207\\1\\2\\3'",
       "'\\218\\0\\5ab'", "'\\163ab'", "'\\221\\0\\0'", "'\\129\\192\\1'", "'\\129\\203\\127\\248\\0\\0\\0\\0\\0\\0\\1'",
       "'\\1\\193'", "nil", "{}", "12"]

UNPACK = (["return {pcall(cmsgpack.unpack, %s)}" % s for s in RAW + BAD] +
          [SHOW + "return show({cmsgpack.unpack(%s)})" % s for s in RAW] +
          [SHOW + "return show({cmsgpack.unpack(cmsgpack.pack(%s))})" % v for v in INTS + FLOATS + STRS[:6]] + [
    "local t = cmsgpack.unpack(cmsgpack.pack({a=1,b={1,2,{c='d'}}})); return {t.a, t.b[1], t.b[2], t.b[3].c}",
    "return cmsgpack.unpack(cmsgpack.pack({1,{2,{3,{4}}}}))",
    "return #cmsgpack.unpack(cmsgpack.pack((function() local t = {} for i = 1, 70000 do t[i] = i end return t end)()))",
    "return {cmsgpack.unpack(cmsgpack.pack(1, 2, 3))}",
    "return {cmsgpack.unpack_one(cmsgpack.pack(1, 2, 3))}",
    "return {cmsgpack.unpack_one(cmsgpack.pack(1, 2, 3), 1)}",
    "return {cmsgpack.unpack_one(cmsgpack.pack(1, 2, 3), 2)}",
    "return {cmsgpack.unpack_one(cmsgpack.pack(1, 2, 3), 3)}",
    "return {cmsgpack.unpack_one(cmsgpack.pack(1, 2, 3), 4)}",
    "return {cmsgpack.unpack_one(cmsgpack.pack(1, 2, 3), -1)}",
    "return {cmsgpack.unpack_one(cmsgpack.pack(300, 'abc', 3), 3)}",
    "return {cmsgpack.unpack_one(cmsgpack.pack(300, 'abc', 3), 1)}",
    "return {cmsgpack.unpack_limit(cmsgpack.pack(1, 2, 3), 2)}",
    "return {cmsgpack.unpack_limit(cmsgpack.pack(1, 2, 3), 2, 2)}",
    "return {cmsgpack.unpack_limit(cmsgpack.pack(1, 2, 3), 5, 1)}",
    "return {cmsgpack.unpack_limit(cmsgpack.pack(1, 2, 3), 0)}",
    "return {cmsgpack.unpack_limit(cmsgpack.pack(1, 2, 3), 0, 1)}",
    "return {cmsgpack.unpack_limit(cmsgpack.pack(1, 2, 3), -1)}",
    "return {cmsgpack.unpack_limit(cmsgpack.pack(1, 2, 3))}",
    "return {cmsgpack.unpack_limit(cmsgpack.pack(1, 2, 3), 'x')}",
    "return {cmsgpack.unpack_one(cmsgpack.pack(1, 2, 3), 'x')}",
    "return {cmsgpack.unpack_one('\\205\\1', 0)}",
    "local s = cmsgpack.pack(10, 20, 30) local o, v, out = 0, nil, {} "
    "while o ~= -1 do o, v = cmsgpack.unpack_one(s, o) out[#out+1] = v end return out",
    "return {cmsgpack.unpack(string.rep('\\1', 100))}",
    "return #{cmsgpack.unpack(string.rep('\\1', 100000))}",
    "return cmsgpack.pack()",
    "return {pcall(cmsgpack.pack)}",
    "return {cmsgpack._NAME, cmsgpack._VERSION, cmsgpack._COPYRIGHT, cmsgpack._DESCRIPTION}",
    "cmsgpack.pack = nil", "cmsgpack.x = 1", "return type(cmsgpack)", "return cmsgpack.unpack('\\1', 2)",
    # Nesting and sizes past what the Lua stack holds.
    "return #{cmsgpack.unpack(string.rep('\\145', 100000))}",
    "return {pcall(cmsgpack.unpack, string.rep('\\129', 100000))}",
    "return {pcall(cmsgpack.unpack, string.rep('\\221\\255\\255\\255\\255', 10))}",
    "return {pcall(cmsgpack.unpack, '\\223\\255\\255\\255\\255')}",
    "return {pcall(struct.unpack, string.rep('b', 10000), string.rep('a', 10000))}",
    "return {pcall(struct.unpack, 'i', 'abc', 2^40)}",
])

S = "return struct.pack(%s)"
STRUCT_PACK = [S % a for a in [
    "'>i', 1", "'<i', 1", "'i', -2", "'>I', 4294967295", "'>b', -1", "'>B', 255", "'>b', 200", "'<h', -2",
    "'>H', 65535", "'>h', 40000", "'>l', -3", "'<L', 2^53", "'>l', 2^63", "'>L', -1", "'>i1', 5", "'>i3', -70000",
    "'<I5', 2^39", "'>i8', -1", "'>i16', -1", "'<I16', 2^60", "'>i32', 1", "'>i33', 1", "'>i0', 1",
    "'>f', 1.5", "'<f', -0.1", "'>d', 1/3", "'<d', -1e300", "'>f', 1e300", "'>d', 0/0",
    "'s', 'hello'", "'s', ''", "'c5', 'hello world'", "'c5', 'hi'", "'c0', 'whole string'", "'c', 'xy'",
    "'x'", "'bxb', 1, 2", "'!4 b i', 1, 2", "'!2 b d', 1, 2", "'! b d', 1, 2", "'!8 b h b l', 1, 2, 3, 4",
    "'!3 b', 1", "'!16 b d', 1, 2", "'!4 b c3 i', 1, 'abc', 2", "'=i', 7", "'> i <i', 1, 1",
    "'q', 1", "'>i'", "'>i', 'x'", "'>i', '12'", "'s', 1", "'s', {}", "''", "'b', 1, 2", "12, 1",
    "'i99999999999', 1", "'>bBhHlLiIfd', -1, 255, -300, 60000, -5, 5, -7, 7, 0.25, 1e-10",
    "'<bBhHlLiIfd', -1, 255, -300, 60000, -5, 5, -7, 7, 0.25, 1e-10",
    "'!bBhHlLiIfd', -1, 255, -300, 60000, -5, 5, -7, 7, 0.25, 1e-10",
    "'>T', 10", "'>sxs', 'a', 'b'",
]] + ["return struct.pack()", "return {pcall(struct.pack, 'q')}"]

U = SHOW + "return show({struct.unpack(%s)})"
STRUCT_UNPACK = [U % a for a in [
    "'>i', struct.pack('>i', -5)", "'<I', struct.pack('<I', 3000000000)", "'>b', '\\255'", "'>B', '\\255'",
    "'>h', '\\255\\254'", "'<H', '\\255\\254'", "'>l', string.rep('\\255', 8)", "'>L', string.rep('\\255', 8)",
    "'>i3', '\\255\\0\\1'", "'>I3', '\\255\\0\\1'", "'>i16', string.rep('\\255', 16)",
    "'>i12', string.rep('\\0', 4)..string.rep('\\255', 8)", "'<i12', string.rep('\\255', 12)",
    "'>f', struct.pack('>f', 1.5)", "'<d', struct.pack('<d', 1/3)", "'>f', '\\127\\192\\0\\0'",
    "'s', 'abc\\0def\\0'", "'ss', 'abc\\0def\\0'", "'s', 'abc'", "'c3', 'abcdef'", "'c3c3', 'abcdef'",
    "'c7', 'abcdef'", "'Bc0', '\\3abcdef'", "'>hc0', '\\0\\2abcdef'", "'c0', 'abc'", "'bc0', '\\9abc'",
    "'xb', '\\1\\2'", "'!4 b i', struct.pack('!4 b i', 1, 2)", "'!4 b i', '\\1\\0\\0'",
    "'>i', struct.pack('>i', 1)..struct.pack('>i', 2), 5", "'>i', 'abcdabcd', 8", "'>i', 'abcd', 0",
    "'>i', 'abcd', 6", "'>i', 'abcd', -1", "'>i', 'abcd', 5", "'>i', 'abcd', 1.5", "'', 'abc'", "'#', 'abc'", "'', 'abc', 4", "'q', 'abc'",
    "'>i'", "'>i', 1234", "'>bBhHlLiIfd', struct.pack('>bBhHlLiIfd', -1, 255, -300, 60000, -5, 5, -7, 7, 0.25, 1e-10)",
    "'!bBhHlLiIfd', struct.pack('!bBhHlLiIfd', -1, 255, -300, 60000, -5, 5, -7, 7, 0.25, 1e-10)",
    "'!3 b', 'a'", "'i33', 'a'",
]]

STRUCT_SIZE = ["return struct.size(%s)" % a for a in [
    "'i'", "'b'", "'h'", "'l'", "'d'", "'f'", "'T'", "'x'", "'c5'", "'i3'", "'bhlid'", "'!8 b d'", "'! b d'",
    "'!4 b i'", "'s'", "'c0'", "'q'", "'#'", "'!3'", "'<!2 b h'", "'b!2h'", "'i40'", "''", "nil", "'>i <h'",
]] + ["return {struct}==nil", "struct.pack = nil", "struct.new = 1", "return type(struct.unpack)"]

ALL = PACK + UNPACK + STRUCT_PACK + STRUCT_UNPACK + STRUCT_SIZE


@pytest.fixture
def cachet(server_factory):
    return server_factory("--save", "")


@needs_redis
@pytest.mark.parametrize("proto", [2, 3])
def test_libraries_match_redis(cachet, reference, proto):
    c, ref = RawReplies(cachet.raw(timeout=30), 30), RawReplies(reference.raw(timeout=30), 30)
    if proto == 3:
        assert c.call("HELLO", "3").startswith(b"%") and ref.call("HELLO", "3").startswith(b"%")
    compare(c, ref, [("EVAL", s, "0") for s in ALL])


@needs_redis
def test_functions_see_the_libraries(cachet, reference):
    """A library loaded with FUNCTION LOAD sees cmsgpack and struct too."""
    lib = ("#!lua name=libs\n"
           "redis.register_function('mp', function(keys, args) return cmsgpack.pack(args[1], tonumber(args[2])) end)\n"
           "redis.register_function('st', function(keys, args) return {struct.unpack('>i2', args[1])} end)\n")
    c, ref = RawReplies(cachet.raw()), RawReplies(reference.raw())
    compare(c, ref, [("FUNCTION", "LOAD", lib), ("FCALL", "mp", "0", "x", "300"), ("FCALL", "st", "0", "\x01\x02")])


@needs_redis
def test_random_inputs_match_redis(cachet, reference):
    """Random bytes into cmsgpack's decoders and random formats into
    struct's, from a fixed seed: the same values or the same errors.
    CACHET_LIBS_SEED / CACHET_LIBS_CASES widen the search (3 seeds x 3000
    cases matched when this was written)."""
    rnd = random.Random(int(os.environ.get("CACHET_LIBS_SEED", "7")))
    alphabet = "<>!bBhHlLiIfdsxc0123489 q"
    calls = []
    for _ in range(int(os.environ.get("CACHET_LIBS_CASES", "300"))):
        data = bytes(rnd.choice([0x00, 0x01, 0x7f, 0x80, 0x81, 0x91, 0xa3, 0xc0, 0xc2, 0xc3, 0xca, 0xcb, 0xcc, 0xcd,
                                 0xd0, 0xd3, 0xd9, 0xdc, 0xde, 0xe0, 0xff, rnd.randrange(256)])
                     for _ in range(rnd.randrange(1, 24)))
        calls.append(("EVAL", SHOW + "return show({pcall(cmsgpack.unpack, ARGV[1])})", "0", data))
        calls.append(("EVAL", SHOW + "return show({pcall(cmsgpack.unpack_limit, ARGV[1], 2, tonumber(ARGV[2]))})",
                      "0", data, str(rnd.randrange(0, 4))))
        fmt = "".join(rnd.choice(alphabet) for _ in range(rnd.randrange(1, 8)))
        calls.append(("EVAL", SHOW + "return show({pcall(struct.unpack, ARGV[1], ARGV[2])})", "0", fmt,
                      bytes(rnd.randrange(256) for _ in range(rnd.randrange(0, 40)))))
        calls.append(("EVAL", "return {pcall(struct.size, ARGV[1])}", "0", fmt))
    compare(RawReplies(cachet.raw(timeout=30), 30), RawReplies(reference.raw(timeout=30), 30), calls)


@needs_redis
def test_deep_replies_match_redis(cachet, reference):
    """A script's reply nested thousands deep converts as in Redis: cut with
    "reached lua stack limit" where the Lua stack ends (about 7,995
    levels), not earlier."""
    sys.setrecursionlimit(max(sys.getrecursionlimit(), 60000))  # RawReplies walks a reply recursively
    nest = "local t = {} local c = t for i = 1, %d do c[1] = {} c = c[1] end return t"
    calls = [("EVAL", nest % d, "0") for d in (999, 1001, 4000, 7994, 7995, 9000)]
    calls += [("EVAL", "local t = {} t[1] = t return t", "0"),
              ("EVAL", "local t = {} t.map = t return t", "0"),
              ("EVAL", "return cmsgpack.unpack(string.rep('\\145', 7990))", "0")]
    compare(RawReplies(cachet.raw(timeout=30), 30), RawReplies(reference.raw(timeout=30), 30), calls)
    c, ref = RawReplies(cachet.raw(timeout=30), 30), RawReplies(reference.raw(timeout=30), 30)
    assert c.call("HELLO", "3").startswith(b"%") and ref.call("HELLO", "3").startswith(b"%")
    compare(c, ref, [("EVAL", "redis.setresp(3) " + a[1], "0") for a in calls])


def random_lua_value(rnd, depth=0):
    """A Lua expression: numbers of every range, strings, booleans, nil and
    tables (arrays, maps, mixed, sparse) nested up to 4 levels."""
    k = rnd.randrange(8 if depth < 4 else 5)
    if k == 0:
        return str(rnd.choice([0, 1, -1, 127, 128, -32, -33, 255, 256, 65535, 65536, -32768, -32769, 2**31, -2**31 - 1,
                               2**32, 2**53, -2**53, rnd.randrange(-2**40, 2**40)]))
    if k == 1:
        return rnd.choice(["0.5", "-0.25", "1e300", "1/0", "-1/0", "3.14159", "1e-5", "%d.5" % rnd.randrange(1000)])
    if k == 2:
        return "string.rep('%s', %d)" % (rnd.choice("abz"), rnd.choice([0, 1, 31, 32, 33, 255, 256, 300]))
    if k == 3:
        return rnd.choice(["true", "false", "nil"])
    if k == 4:
        return "'k%d'" % rnd.randrange(100)
    n = rnd.randrange(0, 6)
    if k == 5:
        return "{" + ",".join(random_lua_value(rnd, depth + 1) for _ in range(n)) + "}"
    keys = ["k%d" % rnd.randrange(50), "[%d]" % rnd.randrange(-3, 10), "[%s]" % rnd.choice(["0.5", "true", "'x'"])]
    return "{" + ",".join("%s=%s" % (rnd.choice(keys), random_lua_value(rnd, depth + 1)) for _ in range(n)) + "}"


@needs_redis
def test_random_values_pack_as_redis_does(cachet, reference):
    rnd = random.Random(int(os.environ.get("CACHET_LIBS_SEED", "7")))
    calls = []
    for _ in range(int(os.environ.get("CACHET_LIBS_CASES", "300"))):
        v = ", ".join(random_lua_value(rnd) for _ in range(rnd.randrange(1, 4)))
        calls.append(("EVAL", "return cmsgpack.pack(%s)" % v, "0"))
        calls.append(("EVAL", SHOW + "return show({cmsgpack.unpack(cmsgpack.pack(%s))})" % v, "0"))
    compare(RawReplies(cachet.raw(timeout=30), 30), RawReplies(reference.raw(timeout=30), 30), calls)


def test_pack_is_what_the_spec_says(cachet):
    """Hand-checked encodings, so a change in both servers would show."""
    r = cachet.client()
    assert r.eval(P % "1, -1, 200, -200, 70000, 'ab', true, nil, {1}, {a=2}, 0.5", 0) == (
        b"\x01\xff\xcc\xc8\xd1\xff\x38\xce\x00\x01\x11\x70\xa2ab\xc3\xc0\x91\x01\x81\xa1a\x02\xca\x3f\x00\x00\x00")
    assert r.eval(S % "'>i2 <i2 s', 1, 1, 'x'", 0) == b"\x00\x01\x01\x00x\x00"


LUA_FIELDS = ["used_memory_lua", "used_memory_vm_eval", "used_memory_lua_human", "used_memory_scripts_eval",
              "number_of_cached_scripts", "number_of_functions", "number_of_libraries", "used_memory_vm_functions",
              "used_memory_vm_total", "used_memory_vm_total_human", "used_memory_functions", "used_memory_scripts",
              "used_memory_scripts_human"]


def memory_lines(r):
    """INFO memory's (field, value) pairs in order, values as text."""
    return [(k, str(v)) for k, v in r.info("memory").items()]


@needs_redis
def test_info_memory_lua_fields_as_redis_names_them(cachet, reference):
    """The scripting fields of INFO memory and MEMORY STATS: the same names,
    in the same order, as Redis 7.0."""
    def names(r):
        return [k for k, _ in memory_lines(r) if k in LUA_FIELDS]
    assert names(cachet.client()) == names(reference.client()) == LUA_FIELDS
    for r in (cachet.client(), reference.client()):
        stats = r.execute_command("MEMORY", "STATS")
        keys = [stats[i] for i in range(0, len(stats), 2)]
        assert b"lua.caches" in keys and b"functions.caches" in keys


def test_info_memory_follows_script_load_and_flush(cachet):
    r = cachet.client()

    def info():
        return {k: v for k, v in memory_lines(r)}

    def stats():
        s = r.execute_command("MEMORY", "STATS")
        return dict(zip(s[::2], s[1::2]))

    r.eval("return 1", 0)
    base = info()
    assert int(base["used_memory_lua"]) > 0 and int(base["used_memory_lua"]) % 1024 == 0
    assert base["used_memory_vm_eval"] == base["used_memory_lua"]
    assert base["number_of_cached_scripts"] == "1"
    body = "return '%s'" % ("x" * 100000)
    r.script_load(body)
    for i in range(200):
        r.script_load("return 'n%d'" % i)
    after = info()
    assert after["number_of_cached_scripts"] == "202"
    assert int(after["used_memory_scripts_eval"]) > int(base["used_memory_scripts_eval"]) + 100000
    assert int(after["used_memory_lua"]) > int(base["used_memory_lua"]) + 100000
    assert after["used_memory_lua_human"].endswith("K") or after["used_memory_lua_human"].endswith("M")
    assert int(after["used_memory_scripts"]) == int(after["used_memory_scripts_eval"]) + int(
        after["used_memory_functions"])
    assert stats()[b"lua.caches"] == int(after["used_memory_scripts_eval"])
    assert r.script_flush() is True
    flushed = info()
    assert flushed["number_of_cached_scripts"] == "0"
    assert flushed["used_memory_scripts_eval"] == "0"
    assert int(flushed["used_memory_lua"]) < int(after["used_memory_lua"])
    assert stats()[b"lua.caches"] == 0

    # Functions: their own state and bookkeeping.
    assert info()["number_of_libraries"] == "0"
    r.function_load("#!lua name=m\nredis.register_function('f1', function() return 1 end)\n"
                    "redis.register_function('f2', function() return 2 end)")
    fn = info()
    assert (fn["number_of_libraries"], fn["number_of_functions"]) == ("1", "2")
    assert int(fn["used_memory_vm_functions"]) > 0 and int(fn["used_memory_functions"]) > 0
    assert int(fn["used_memory_vm_total"]) == int(fn["used_memory_vm_eval"]) + int(fn["used_memory_vm_functions"])
    assert stats()[b"functions.caches"] == int(fn["used_memory_functions"])
    r.function_flush()
    done = info()
    assert (done["number_of_libraries"], done["number_of_functions"], done["used_memory_functions"]) == ("0", "0", "0")
