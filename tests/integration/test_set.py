"""The set type (t_set.c, intset.c): every command against Redis 7.0's
replies and error texts, the intset -> hashtable conversions, the *STORE
overwrite rules, SSCAN's guarantee across rehashing, RESP3 shapes, and the
generic key commands (COPY, RENAME, TYPE, OBJECT ENCODING, MEMORY USAGE) on
sets. Every error case also checks that nothing changed."""
import pytest
import redis

from conftest import cmd, exchange, read_exact, resp_exchange, wait_until

WRONGTYPE = "WRONGTYPE Operation against a key holding the wrong kind of value"


def enc(r, key):
    return r.object("encoding", key)


def err(r, *args):
    with pytest.raises(redis.ResponseError) as e:
        r.execute_command(*args)
    return str(e.value)


# ---- SADD / SREM / SCARD / SISMEMBER / SMISMEMBER / SMEMBERS ----------------


def test_sadd_srem_counts_and_membership(r):
    assert r.sadd("s", "a", "b", "c", "a") == 3
    assert r.sadd("s", "a", "d") == 1
    assert r.scard("s") == 4
    assert r.smembers("s") == {"a", "b", "c", "d"}
    assert r.sismember("s", "a") is True
    assert r.sismember("s", "zz") is False
    assert r.smismember("s", "a", "zz", "d") == [True, False, True]
    assert r.srem("s", "a", "zz", "a") == 1
    assert r.srem("nokey", "a") == 0
    assert r.scard("nokey") == 0
    assert r.sismember("nokey", "a") is False
    assert r.smismember("nokey", "a", "b") == [False, False]
    assert r.smembers("nokey") == set()
    assert r.type("s") == "set"


def test_srem_last_member_deletes_key(r):
    r.sadd("s", "1", "x")
    assert r.srem("s", "1", "x", "y") == 2
    assert r.exists("s") == 0
    r.sadd("i", 1, 2)
    assert r.srem("i", 1, 2) == 2
    assert r.exists("i") == 0


def test_binary_and_empty_members(rb):
    rb.sadd("b", b"\x00\xff", b"", b"a\r\nb")
    assert rb.smembers("b") == {b"\x00\xff", b"", b"a\r\nb"}
    assert rb.sismember("b", b"") is True
    assert rb.srem("b", b"") == 1
    assert rb.scard("b") == 2


def test_intset_members_sorted_and_64bit(r):
    vals = [5, -3, 70000, -70000, 2**63 - 1, -(2**63), 0]
    r.sadd("i", *vals)
    assert enc(r, "i") == "intset"
    assert r.sscan("i", 0) == (0, [str(v) for v in sorted(vals)])  # intset order: ascending
    assert r.sismember("i", 2**63 - 1)
    assert r.sismember("i", "70000")
    assert not r.sismember("i", "070000")  # not the same member: a string
    assert r.srem("i", -(2**63)) == 1
    assert r.scard("i") == 6


# ---- encodings ----------------------------------------------------------------


@pytest.mark.parametrize("member", ["a", "01", "-0", " 1", "1.5", "9223372036854775808", "+1"])
def test_non_integer_member_makes_hashtable(r, member):
    r.sadd("s", 1, 2)
    assert enc(r, "s") == "intset"
    r.sadd("s", member)
    assert enc(r, "s") == "hashtable"
    assert r.smembers("s") == {"1", "2", member}
    # one way: removing the string does not go back
    r.srem("s", member)
    assert enc(r, "s") == "hashtable"
    assert r.sismember("s", 1)


def test_first_member_decides_encoding(r):
    r.sadd("a", "x", 1)
    assert enc(r, "a") == "hashtable"
    r.sadd("b", 1, "x")
    assert enc(r, "b") == "hashtable"
    r.sadd("c", 1)
    assert enc(r, "c") == "intset"


def test_intset_size_limit_default_512(r):
    r.sadd("s", *range(512))
    assert enc(r, "s") == "intset"
    r.sadd("s", 5)  # already there: still 512
    assert enc(r, "s") == "intset"
    r.sadd("s", 512)
    assert enc(r, "s") == "hashtable"
    assert r.scard("s") == 513
    assert r.sismember("s", 0) and r.sismember("s", 512)
    r.srem("s", *range(100, 513))
    assert enc(r, "s") == "hashtable"
    assert r.scard("s") == 100


def test_config_set_max_intset_entries(r):
    assert r.config_get("set-max-intset-entries") == {"set-max-intset-entries": "512"}
    r.config_set("set-max-intset-entries", 3)
    r.sadd("s", 1, 2, 3)
    assert enc(r, "s") == "intset"
    r.sadd("s", 4)
    assert enc(r, "s") == "hashtable"
    r.sadd("t", 1, 2, 3, 4)
    assert enc(r, "t") == "hashtable"
    r.config_set("set-max-intset-entries", 0)
    r.sadd("z", 7)
    assert enc(r, "z") == "hashtable"
    assert r.smembers("z") == {"7"}


def test_store_result_encoding(r):
    r.sadd("a", 1, 2, 3)
    r.sadd("b", "x", 2, 3)
    assert enc(r, "b") == "hashtable"
    # members all integers: the result is an intset, whatever the sources were
    assert r.sinterstore("d", "a", "b") == 2
    assert enc(r, "d") == "intset"
    assert r.sunionstore("u", "a", "b") == 4
    assert enc(r, "u") == "hashtable"
    r.config_set("set-max-intset-entries", 2)
    assert r.sunionstore("u2", "a") == 3
    assert enc(r, "u2") == "hashtable"


# ---- SPOP ---------------------------------------------------------------------


def test_spop_single(r):
    r.sadd("s", "a", "b", "c")
    seen = set()
    for _ in range(3):
        seen.add(r.spop("s"))
    assert seen == {"a", "b", "c"}
    assert r.exists("s") == 0
    assert r.spop("s") is None


@pytest.mark.parametrize("members", [list(range(100)), [f"m{i}" for i in range(100)]],
                         ids=["intset", "hashtable"])
@pytest.mark.parametrize("count", [1, 10, 90, 99, 100, 1000])
def test_spop_count(r, members, count):
    r.sadd("s", *members)
    orig = {str(m) for m in members}
    popped = r.spop("s", count)
    assert len(popped) == min(count, 100)
    assert len(set(popped)) == len(popped)
    assert set(popped) <= orig
    rest = r.smembers("s")
    assert rest | set(popped) == orig
    assert not (rest & set(popped))
    if count >= 100:
        assert r.exists("s") == 0
    else:
        assert r.scard("s") == 100 - count


def test_spop_count_rebuilds_small_remainder(r):
    # Popping most of a set moves the few survivors to a new set whose first
    # member decides the encoding, as Redis 7.0: integers come back as intset.
    r.sadd("s", "x", *range(50))
    r.srem("s", "x")
    assert enc(r, "s") == "hashtable"
    r.spop("s", 48)
    assert enc(r, "s") == "intset"
    assert r.scard("s") == 2
    r.sadd("w", *[f"w{i}" for i in range(50)])
    r.spop("w", 48)
    assert enc(r, "w") == "hashtable"
    assert r.scard("w") == 2
    # popping a few one by one keeps the encoding
    r.sadd("k", "x", *range(50))
    r.srem("k", "x")
    r.spop("k", 5)
    assert enc(r, "k") == "hashtable"


def test_spop_count_edge_and_errors(r):
    r.sadd("s", 1, 2)
    assert r.spop("s", 0) == []
    assert r.spop("nokey", 3) == []
    for bad in ("-1", "abc", "99999999999999999999", "1.5", "-0", "+1"):
        assert err(r, "SPOP", "s", bad) == "value is out of range, must be positive"
    assert err(r, "SPOP", "nokey", "-1") == "value is out of range, must be positive"
    assert err(r, "SPOP", "s", "1", "2") == "syntax error"
    assert r.scard("s") == 2
    # a count way beyond the size pops everything
    assert sorted(r.spop("s", 2**63 - 1)) == ["1", "2"]
    assert r.exists("s") == 0


# ---- SRANDMEMBER --------------------------------------------------------------


@pytest.mark.parametrize("members", [list(range(60)), [f"m{i}" for i in range(60)]],
                         ids=["intset", "hashtable"])
def test_srandmember_counts(r, members):
    r.sadd("s", *members)
    orig = {str(m) for m in members}
    assert r.srandmember("s") in orig
    for count in (1, 5, 19, 20, 21, 59, 60):  # both the pick and the shuffle strategies
        got = r.srandmember("s", count)
        assert len(got) == count
        assert len(set(got)) == count
        assert set(got) <= orig
    got = r.srandmember("s", 1000)
    assert sorted(got) == sorted(orig)
    got = r.srandmember("s", -500)
    assert len(got) == 500
    assert set(got) <= orig
    assert len(set(got)) < 500  # repeats
    assert r.srandmember("s", 0) == []
    assert r.scard("s") == 60  # read only


def test_srandmember_negative_small_set(r):
    r.sadd("s", "only")
    assert r.srandmember("s", -5) == ["only"] * 5


def test_srandmember_missing_and_errors(r):
    assert r.srandmember("nokey") is None
    assert r.srandmember("nokey", 5) == []
    assert r.srandmember("nokey", -5) == []
    r.sadd("s", "a")
    assert err(r, "SRANDMEMBER", "s", "abc") == "value is not an integer or out of range"
    assert err(r, "SRANDMEMBER", "s", "99999999999999999999") == "value is not an integer or out of range"
    assert err(r, "SRANDMEMBER", "s", str(-(2**63))) == (
        "value is out of range, value must between -9223372036854775807 and 9223372036854775807")
    assert err(r, "SRANDMEMBER", "s", "1", "2") == "syntax error"
    assert r.srandmember("s", 2**63 - 1) == ["a"]


# ---- SMOVE --------------------------------------------------------------------


def test_smove(r):
    r.sadd("src", "a", "b")
    r.sadd("dst", "c")
    assert r.smove("src", "dst", "a") is True
    assert r.smembers("src") == {"b"}
    assert r.smembers("dst") == {"a", "c"}
    assert r.smove("src", "dst", "zz") is False
    assert r.smove("nokey", "dst", "a") is False
    # the last member: src goes away, a new dst is created
    assert r.smove("src", "new", "b") is True
    assert r.exists("src") == 0
    assert r.smembers("new") == {"b"}
    # dst already has it: src still loses it
    r.sadd("x", "c")
    assert r.smove("x", "dst", "c") is True
    assert r.exists("x") == 0
    assert r.smembers("dst") == {"a", "c"}


def test_smove_same_key_and_encodings(r):
    r.sadd("s", 1, 2)
    assert r.smove("s", "s", 1) is True
    assert r.smove("s", "s", 9) is False
    assert r.smembers("s") == {"1", "2"}
    assert r.smove("s", "n", 1) is True
    assert enc(r, "n") == "intset"
    r.sadd("h", "word")
    assert r.smove("h", "n", "word") is True
    assert enc(r, "n") == "hashtable"


def test_smove_wrongtype_changes_nothing(r):
    r.sadd("s", "a")
    r.set("str", "v")
    assert err(r, "SMOVE", "s", "str", "a") == WRONGTYPE
    assert err(r, "SMOVE", "str", "s", "a") == WRONGTYPE
    assert r.smembers("s") == {"a"}
    assert r.get("str") == "v"
    # missing source: 0 before the destination's type is looked at
    assert r.smove("nokey", "str", "a") is False


def test_smove_into_a_set_that_has_the_member_leaves_watchers_alone(server, r):
    """Only the source changes when the destination already holds the
    member, so (as in Redis) a transaction WATCHing the destination runs."""
    r.sadd("src", "m", "n")
    r.sadd("dst", "m")
    for watched, runs in (("dst", True), ("src", False)):
        r.sadd("src", "m")
        w = server.client(decode_responses=True)
        p = w.pipeline()
        p.watch(watched)
        assert r.smove("src", "dst", "m") is True
        p.multi()
        p.ping()
        if runs:
            assert p.execute() == [True]
        else:
            with pytest.raises(redis.WatchError):
                p.execute()
        w.close()
    assert r.smembers("dst") == {"m"} and r.smembers("src") == {"n"}


# ---- SINTER / SUNION / SDIFF / SINTERCARD ----------------------------------------


@pytest.fixture
def sets(r):
    r.sadd("a", 1, 2, 3, 4, "x")
    r.sadd("b", 2, 3, 5, "x")
    r.sadd("c", 3, 4, "x", "y")
    r.sadd("i", 2, 3, 4)
    return r


def test_sinter(sets):
    r = sets
    assert r.sinter("a", "b") == {"2", "3", "x"}
    assert r.sinter("a", "b", "c") == {"3", "x"}
    assert r.sinter("a", "i") == {"2", "3", "4"}
    assert r.sinter("a") == r.smembers("a")
    assert r.sinter("a", "a") == r.smembers("a")
    assert r.sinter("a", "nokey") == set()
    assert r.sinter("nokey") == set()


def test_sunion_sdiff(sets):
    r = sets
    assert r.sunion("a", "b", "c") == {"1", "2", "3", "4", "5", "x", "y"}
    assert r.sunion("a", "nokey") == r.smembers("a")
    assert r.sunion("nokey") == set()
    assert r.sdiff("a", "b") == {"1", "4"}
    assert r.sdiff("a", "b", "c") == {"1"}
    assert r.sdiff("a", "nokey") == r.smembers("a")
    assert r.sdiff("nokey", "a") == set()
    assert r.sdiff("a", "a") == set()
    assert r.sdiff("i", "a") == set()
    assert r.sdiff("a", "i") == {"1", "x"}


def test_sdiff_both_algorithms(r):
    # a big first set against small others, and a small first set against big others
    r.sadd("big", *range(1000))
    r.sadd("small", 5, 6, "z")
    assert r.sdiff("small", "big") == {"z"}
    assert r.sdiff("big", "small", "small") == {str(i) for i in range(1000)} - {"5", "6"}
    assert len(r.sdiff("big", *["small"] * 20)) == 998


def test_sintercard(sets):
    r = sets
    assert r.execute_command("SINTERCARD", 2, "a", "b") == 3
    assert r.execute_command("SINTERCARD", 3, "a", "b", "c") == 2
    assert r.execute_command("SINTERCARD", 2, "a", "b", "LIMIT", 1) == 1
    assert r.execute_command("SINTERCARD", 2, "a", "b", "limit", 0) == 3
    assert r.execute_command("SINTERCARD", 2, "a", "b", "LIMIT", 100) == 3
    assert r.execute_command("SINTERCARD", 1, "a", "LIMIT", 2, "LIMIT", 4) == 4
    assert r.execute_command("SINTERCARD", 2, "a", "nokey") == 0
    assert r.execute_command("SINTERCARD", 1, "nokey") == 0


def test_sintercard_errors(sets):
    r = sets
    for n in ("0", "-1", "abc", "99999999999999999999"):
        assert err(r, "SINTERCARD", n, "a") == "numkeys should be greater than 0"
    assert err(r, "SINTERCARD", 3, "a", "b") == "Number of keys can't be greater than number of args"
    assert err(r, "SINTERCARD", 1, "a", "LIMIT", -1) == "LIMIT can't be negative"
    assert err(r, "SINTERCARD", 1, "a", "LIMIT", "abc") == "LIMIT can't be negative"
    assert err(r, "SINTERCARD", 1, "a", "LIMIT") == "syntax error"
    assert err(r, "SINTERCARD", 1, "a", "b") == "syntax error"  # b is not an option
    assert err(r, "SINTERCARD", 1) == "wrong number of arguments for 'sintercard' command"


def test_set_ops_wrongtype(sets):
    r = sets
    r.set("str", "v")
    for c in ("SINTER", "SUNION", "SDIFF"):
        assert err(r, c, "a", "str") == WRONGTYPE
        # a missing key before the wrong one does not hide the error
        assert err(r, c, "nokey", "str") == WRONGTYPE
    assert err(r, "SINTERCARD", 2, "nokey", "str") == WRONGTYPE
    for c in ("SINTERSTORE", "SUNIONSTORE", "SDIFFSTORE"):
        assert err(r, c, "dst", "a", "str") == WRONGTYPE
        assert err(r, c, "b", "nokey", "str") == WRONGTYPE
    assert r.exists("dst") == 0
    assert r.smembers("b") == {"2", "3", "5", "x"}


# ---- *STORE -----------------------------------------------------------------


def test_store_commands(sets):
    r = sets
    assert r.sinterstore("d1", "a", "b") == 3
    assert r.smembers("d1") == {"2", "3", "x"}
    assert r.sunionstore("d2", "a", "b") == 6
    assert r.smembers("d2") == {"1", "2", "3", "4", "5", "x"}
    assert r.sdiffstore("d3", "a", "b") == 2
    assert r.smembers("d3") == {"1", "4"}
    # the destination may be one of the sources
    assert r.sinterstore("a", "a", "c") == 3
    assert r.smembers("a") == {"3", "4", "x"}


@pytest.mark.parametrize("command,args", [
    ("SINTERSTORE", ("b", "c")),
    ("SUNIONSTORE", ("b",)),
    ("SDIFFSTORE", ("b", "c")),
])
def test_store_overwrites_any_type_and_ttl(sets, command, args):
    r = sets
    r.set("dst", "string")
    r.expire("dst", 1000)
    n = r.execute_command(command, "dst", *args)
    assert n > 0
    assert r.type("dst") == "set"
    assert r.scard("dst") == n
    assert r.ttl("dst") == -1


@pytest.mark.parametrize("command,args", [
    ("SINTERSTORE", ("a", "nokey")),
    ("SINTERSTORE", ("i", "b", "c", "y-missing")),
    ("SUNIONSTORE", ("nokey",)),
    ("SDIFFSTORE", ("a", "a")),
    ("SDIFFSTORE", ("nokey", "a")),
])
def test_store_empty_result_deletes_destination(sets, command, args):
    r = sets
    r.set("dst", "old")
    assert r.execute_command(command, "dst", *args) == 0
    assert r.exists("dst") == 0
    r.sadd("dst2", "z")
    assert r.execute_command(command, "dst2", *args) == 0
    assert r.exists("dst2") == 0
    assert r.execute_command(command, "never", *args) == 0
    assert r.exists("never") == 0


# ---- SSCAN ------------------------------------------------------------------


def full_sscan(r, key, **kw):
    cursor, seen, calls = 0, [], 0
    while True:
        cursor, items = r.sscan(key, cursor, **kw)
        seen += items
        calls += 1
        if cursor == 0:
            return seen, calls


def test_sscan_intset_in_one_call(r):
    r.sadd("s", *range(1, 21))
    cursor, items = r.sscan("s", 0, count=2)
    assert cursor == 0
    assert items == [str(i) for i in range(1, 21)]
    cursor, items = r.sscan("s", 0, match="1*")
    assert cursor == 0
    assert items == ["1"] + [str(i) for i in range(10, 20)]
    assert r.sscan("nokey", 0) == (0, [])


def test_sscan_hashtable(r):
    members = {f"m{i}" for i in range(500)}
    r.sadd("s", *members)
    seen, calls = full_sscan(r, "s")
    assert set(seen) == members
    assert calls > 1
    seen, _ = full_sscan(r, "s", match="m1*", count=50)
    assert set(seen) == {m for m in members if m.startswith("m1")}
    cursor, items = r.sscan("s", 0, count=1000)
    assert cursor == 0 and set(items) == members


def test_sscan_across_rehash(r):
    """Members present for the whole scan are returned at least once while
    the table grows (and later shrinks) between calls."""
    stable = {f"s{i}" for i in range(200)}
    r.sadd("s", *stable)
    cursor, seen, step = 0, set(), 0
    while True:
        cursor, items = r.sscan("s", cursor, count=5)
        seen.update(items)
        step += 1
        if step < 40:
            r.sadd("s", *[f"g{step}_{j}" for j in range(100)])  # grows: rehash
        elif step < 80:
            r.srem("s", *[f"g{step - 39}_{j}" for j in range(100)])  # shrinks
        if cursor == 0:
            break
    assert stable <= seen


def test_sscan_errors(r):
    r.sadd("s", "a", "b")
    assert err(r, "SSCAN", "s", "abc") == "invalid cursor"
    assert err(r, "SSCAN", "s", "18446744073709551616") == "invalid cursor"
    assert err(r, "SSCAN", "s", " 1") == "invalid cursor"
    assert err(r, "SSCAN", "s", "0", "COUNT", "0") == "syntax error"
    assert err(r, "SSCAN", "s", "0", "COUNT", "abc") == "value is not an integer or out of range"
    assert err(r, "SSCAN", "s", "0", "MATCH") == "syntax error"
    assert err(r, "SSCAN", "s", "0", "TYPE", "string") == "syntax error"
    assert err(r, "SSCAN", "s") == "wrong number of arguments for 'sscan' command"
    r.set("str", "v")
    assert err(r, "SSCAN", "str", "0") == WRONGTYPE
    # a missing key answers the empty scan before options are looked at
    assert r.execute_command("SSCAN", "nokey", "0", "COUNT", "0") == (0, [])
    # strtoul's range: the largest cursor is valid
    assert r.execute_command("SSCAN", "s", "18446744073709551615")[0] == 0


# ---- errors: WRONGTYPE and arity for every command ----------------------------


@pytest.mark.parametrize("args", [
    ("SADD", "str", "a"), ("SREM", "str", "a"), ("SMEMBERS", "str"), ("SISMEMBER", "str", "a"),
    ("SMISMEMBER", "str", "a"), ("SCARD", "str"), ("SPOP", "str"), ("SPOP", "str", "2"),
    ("SRANDMEMBER", "str"), ("SRANDMEMBER", "str", "2"), ("SINTER", "str"), ("SUNION", "str"),
    ("SDIFF", "str"), ("SINTERCARD", "1", "str"), ("SSCAN", "str", "0"),
])
def test_wrongtype(r, args):
    r.set("str", "v")
    assert err(r, *args) == WRONGTYPE
    assert r.get("str") == "v"


@pytest.mark.parametrize("args", [
    ("SADD", "k"), ("SREM", "k"), ("SMEMBERS",), ("SMEMBERS", "k", "x"), ("SISMEMBER", "k"),
    ("SMISMEMBER", "k"), ("SCARD",), ("SPOP",), ("SRANDMEMBER",), ("SMOVE", "a", "b"),
    ("SINTER",), ("SUNION",), ("SDIFF",), ("SINTERSTORE", "d"), ("SUNIONSTORE", "d"),
    ("SDIFFSTORE", "d"), ("SSCAN", "k"), ("SINTERCARD", "1"),
])
def test_wrong_arity(r, args):
    assert err(r, *args) == f"wrong number of arguments for '{args[0].lower()}' command"


# ---- generic key commands on sets ---------------------------------------------


@pytest.mark.parametrize("members", [[1, 2, 3], ["a", "b", 3]], ids=["intset", "hashtable"])
def test_copy_rename_type_encoding(r, members):
    r.sadd("s", *members)
    e = enc(r, "s")
    assert r.copy("s", "c") is True
    assert enc(r, "c") == e
    assert r.smembers("c") == {str(m) for m in members}
    r.sadd("c", "new")  # deep copy: the source does not change
    assert not r.sismember("s", "new")
    assert r.rename("s", "t") is True
    assert r.exists("s") == 0
    assert r.type("t") == "set"
    assert r.smembers("t") == {str(m) for m in members}
    assert enc(r, "t") == e
    r.delete("t", "c")
    assert r.exists("t", "c") == 0


def test_memory_usage_grows(r):
    r.sadd("i", *range(10))
    r.sadd("h", *[f"m{i}" for i in range(10)])
    small_i = r.memory_usage("i")
    small_h = r.memory_usage("h")
    assert small_i > 0 and small_h > small_i
    r.sadd("i", *range(10, 400))
    assert r.memory_usage("i") >= small_i + 390 * 2  # 2 bytes per 16-bit member
    r.sadd("h", *[f"m{i}" for i in range(10, 2000)])
    big = r.memory_usage("h")
    assert big > small_h + 1990 * 16
    r.sadd("h2", *[f"m{i}" for i in range(2000)])
    assert abs(r.memory_usage("h2") - big) < big * 0.3


def test_watch_invalidated_by_set_write(server):
    r = server.client(decode_responses=True)
    other = server.client(decode_responses=True)
    r.sadd("s", "a")
    for write in (lambda: other.sadd("s", "b"), lambda: other.srem("s", "b"),
                  lambda: other.spop("s", 1), lambda: other.sadd("s", "c", "d"),
                  lambda: other.smove("s", "t", "c"), lambda: other.sunionstore("s", "t")):
        with r.pipeline() as p:
            p.watch("s")
            write()
            p.multi()
            p.scard("s")
            with pytest.raises(redis.WatchError):
                p.execute()


def test_expired_set_is_gone(r):
    r.sadd("s", "a")
    r.pexpire("s", 1)
    wait_until(lambda: r.exists("s") == 0, what="set expiry")
    assert r.sadd("s", "b") == 1
    assert r.smembers("s") == {"b"}


# ---- RESP3 shapes ---------------------------------------------------------------


def hello3(server):
    s = server.raw()
    resp_exchange(s, cmd("HELLO", "3"), until=b"modules\r\n*0\r\n")
    return s


def test_resp3_shapes(server):
    r = server.client()
    r.sadd("i", 3, 1, 2)
    r.sadd("h", "x")
    s = hello3(server)
    exchange(s, cmd("SMEMBERS", "i"), b"~3\r\n$1\r\n1\r\n$1\r\n2\r\n$1\r\n3\r\n")
    exchange(s, cmd("SINTER", "i", "i"), b"~3\r\n$1\r\n1\r\n$1\r\n2\r\n$1\r\n3\r\n")
    exchange(s, cmd("SINTER", "i", "h"), b"~0\r\n")
    exchange(s, cmd("SINTER", "i", "nokey"), b"~0\r\n")
    exchange(s, cmd("SUNION", "i"), b"~3\r\n$1\r\n1\r\n$1\r\n2\r\n$1\r\n3\r\n")
    exchange(s, cmd("SDIFF", "i", "h"), b"~3\r\n$1\r\n1\r\n$1\r\n2\r\n$1\r\n3\r\n")
    exchange(s, cmd("SMEMBERS", "nokey"), b"~0\r\n")
    exchange(s, cmd("SMEMBERS", "h"), b"~1\r\n$1\r\nx\r\n")
    exchange(s, cmd("SPOP", "nokey"), b"_\r\n")
    exchange(s, cmd("SRANDMEMBER", "nokey"), b"_\r\n")
    exchange(s, cmd("SPOP", "nokey", "2"), b"~0\r\n")
    exchange(s, cmd("SPOP", "h", "0"), b"~0\r\n")
    exchange(s, cmd("SRANDMEMBER", "h", "2"), b"*1\r\n$1\r\nx\r\n")  # an array: it may repeat
    exchange(s, cmd("SRANDMEMBER", "h", "-2"), b"*2\r\n$1\r\nx\r\n$1\r\nx\r\n")
    exchange(s, cmd("SRANDMEMBER", "nokey", "2"), b"*0\r\n")
    exchange(s, cmd("SMISMEMBER", "h", "x", "y"), b"*2\r\n:1\r\n:0\r\n")
    exchange(s, cmd("SSCAN", "i", "0"), b"*2\r\n$1\r\n0\r\n*3\r\n$1\r\n1\r\n$1\r\n2\r\n$1\r\n3\r\n")
    exchange(s, cmd("SSCAN", "nokey", "0"), b"*2\r\n$1\r\n0\r\n*0\r\n")
    exchange(s, cmd("SINTERCARD", "1", "i"), b":3\r\n")
    exchange(s, cmd("SPOP", "h", "5"), b"~1\r\n$1\r\nx\r\n")
    exchange(s, cmd("EXISTS", "h"), b":0\r\n")
    s.sendall(cmd("SPOP", "i", "1"))
    got = read_exact(s, b"~1\r\n$1\r\nX\r\n")
    assert got[:8] == b"~1\r\n$1\r\n" and got[8:9] in (b"1", b"2", b"3")
    # RESP2 on another connection: arrays and $-1
    s2 = server.raw()
    exchange(s2, cmd("SMEMBERS", "nokey"), b"*0\r\n")
    exchange(s2, cmd("SPOP", "nokey"), b"$-1\r\n")
    exchange(s2, cmd("SUNION", "nokey"), b"*0\r\n")


def test_command_info_for_set_commands(server):
    r = server.client(decode_responses=True)
    info = r.execute_command("COMMAND", "INFO", "sadd", "smove", "sinter", "sintercard", "sscan", "spop")
    want = {  # name: (arity, flags, first, last, step), as redis-server 7.0 reports
        "sadd": (-3, {"write", "denyoom", "fast"}, 1, 1, 1),
        "smove": (4, {"write", "fast"}, 1, 2, 1),
        "sinter": (-2, {"readonly"}, 1, -1, 1),
        "sintercard": (-3, {"readonly", "movablekeys"}, 0, 0, 0),
        "sscan": (-3, {"readonly"}, 1, 1, 1),
        "spop": (-2, {"write", "fast"}, 1, 1, 1),
    }
    for name, (arity, flags, first, last, step) in want.items():
        i = info[name]
        assert (i["arity"], set(i["flags"]), i["first_key_pos"], i["last_key_pos"], i["step_count"]) == (
            arity, flags, first, last, step), name
    # ACL categories (redis-py drops them: read the raw reply)
    s = server.raw()
    for name, cats in (("sadd", b"*3\r\n+@write\r\n+@set\r\n+@fast\r\n"),
                       ("sinter", b"*3\r\n+@read\r\n+@set\r\n+@slow\r\n"),
                       ("sinterstore", b"*3\r\n+@write\r\n+@set\r\n+@slow\r\n")):
        got = resp_exchange(s, cmd("COMMAND", "INFO", name) + cmd("PING"), until=b"+PONG\r\n")
        assert cats in got, name
