"""Generic key commands (cmd_keys.c): DEL UNLINK EXISTS TOUCH TYPE, the EXPIRE
family and its options, TTL/PTTL/EXPIRETIME/PEXPIRETIME, PERSIST, RENAME,
RENAMENX, COPY, MOVE, KEYS, SCAN, RANDOMKEY.

Reply values and error texts are those of Redis 7.0 (checked against the
real redis-server). Expiry over time is in test_expire.py.
"""
import time

import pytest
import redis

from conftest import resp_exchange, wait_until


def err(r, *args):
    """Run a command that must fail; return the error text."""
    with pytest.raises(redis.ResponseError) as e:
        r.execute_command(*args)
    return str(e.value)


# ---- DEL UNLINK EXISTS TOUCH TYPE ----------------------------------------


def test_del_counts_only_existing_keys(r):
    r.set("a", "1")
    r.set("b", "2")
    assert r.delete("a", "b", "nokey") == 2
    assert r.exists("a", "b") == 0
    r.set("a", "1")
    assert r.execute_command("DEL", "a", "a") == 1  # a key named twice is deleted once
    assert r.delete("a") == 0


def test_unlink_is_del(r):
    r.set("a", "1")
    r.set("b", "x" * 100000)
    assert r.unlink("a", "b", "c") == 2
    assert r.get("a") is None and r.get("b") is None


def test_exists_counts_repeats(r):
    r.set("a", "1")
    assert r.exists("a") == 1
    assert r.exists("a", "a", "nokey", "a") == 3
    assert r.exists("nokey") == 0


def test_touch_counts_existing(r):
    r.set("a", "1")
    r.set("b", "1")
    assert r.touch("a", "b", "nokey", "a") == 3


def test_type(r):
    r.set("s", "v")
    r.set("i", "12345")
    assert r.type("s") == "string"
    assert r.type("i") == "string"
    assert r.type("nokey") == "none"


def test_arity_errors(r):
    for cmd in (["DEL"], ["EXISTS"], ["TYPE"], ["TYPE", "a", "b"], ["EXPIRE", "a"], ["TTL"],
                ["RENAME", "a"], ["COPY", "a"], ["MOVE", "a"], ["KEYS"], ["SCAN"], ["RANDOMKEY", "x"]):
        assert "wrong number of arguments for '%s' command" % cmd[0].lower() in err(r, *cmd)


# ---- EXPIRE family -------------------------------------------------------


def test_expire_sets_ttl_and_returns_1(r):
    r.set("a", "1")
    assert r.execute_command("EXPIRE", "a", 100) == 1
    assert 99 <= r.ttl("a") <= 100
    assert r.execute_command("PEXPIRE", "a", 200000) == 1
    assert 199000 <= r.pttl("a") <= 200000
    at = int(time.time()) + 500
    assert r.execute_command("EXPIREAT", "a", at) == 1
    assert r.expiretime("a") == at
    assert r.pexpiretime("a") == at * 1000
    pat = int(time.time() * 1000) + 600000
    assert r.execute_command("PEXPIREAT", "a", pat) == 1
    assert r.pexpiretime("a") == pat


def test_expire_missing_key_returns_0(r):
    for cmd in ("EXPIRE", "PEXPIRE", "EXPIREAT", "PEXPIREAT"):
        assert r.execute_command(cmd, "nokey", 100) == 0
        assert r.execute_command(cmd, "nokey", 100, "NX") == 0
    assert r.exists("nokey") == 0


def test_expire_in_the_past_deletes_and_returns_1(r):
    r.set("a", "1")
    assert r.execute_command("EXPIREAT", "a", 1) == 1
    assert r.exists("a") == 0
    r.set("a", "1")
    assert r.execute_command("EXPIRE", "a", 0) == 1
    assert r.exists("a") == 0
    r.set("a", "1")
    assert r.execute_command("PEXPIRE", "a", -5) == 1
    assert r.get("a") is None
    r.set("a", "1")
    assert r.execute_command("PEXPIREAT", "a", int(time.time() * 1000) - 1000) == 1
    assert r.exists("a") == 0


def test_expire_nx_xx(r):
    r.set("a", "1")
    assert r.execute_command("EXPIRE", "a", 100, "XX") == 0  # no TTL yet
    assert r.ttl("a") == -1
    assert r.execute_command("EXPIRE", "a", 100, "NX") == 1
    assert r.execute_command("EXPIRE", "a", 300, "NX") == 0  # has a TTL now
    assert 99 <= r.ttl("a") <= 100
    assert r.execute_command("EXPIRE", "a", 300, "xx") == 1
    assert 299 <= r.ttl("a") <= 300


def test_expire_gt_lt(r):
    r.set("a", "1")
    r.expire("a", 100)
    assert r.execute_command("EXPIRE", "a", 50, "GT") == 0
    assert r.execute_command("EXPIRE", "a", 200, "GT") == 1
    assert 199 <= r.ttl("a") <= 200
    assert r.execute_command("EXPIRE", "a", 300, "LT") == 0
    assert r.execute_command("EXPIRE", "a", 150, "lt") == 1
    assert 149 <= r.ttl("a") <= 150
    assert r.execute_command("EXPIRE", "a", 150000, "GT", "XX") == 1
    # Equal is not greater: use an absolute deadline so time cannot move it.
    at = int(time.time()) + 100000
    assert r.execute_command("EXPIREAT", "a", at, "GT") == 0  # earlier than now+150000
    assert r.execute_command("EXPIREAT", "a", at, "LT") == 1
    assert r.execute_command("EXPIREAT", "a", at, "GT") == 0
    assert r.execute_command("EXPIREAT", "a", at, "LT") == 0


def test_expire_gt_lt_on_persistent_key_means_infinite_ttl(r):
    r.set("a", "1")
    # No TTL = infinite: GT can never beat it, LT always does.
    assert r.execute_command("EXPIRE", "a", 100, "GT") == 0
    assert r.ttl("a") == -1
    assert r.execute_command("EXPIRE", "a", 100, "LT") == 1
    assert 99 <= r.ttl("a") <= 100
    r.set("b", "1")
    assert r.execute_command("EXPIRE", "b", -1, "GT") == 0
    assert r.exists("b") == 1
    assert r.execute_command("EXPIRE", "b", -1, "LT") == 1  # in the past: deleted
    assert r.exists("b") == 0


def test_expire_option_errors_change_nothing(r):
    r.set("a", "1")
    nxmsg = "NX and XX, GT or LT options at the same time are not compatible"
    assert err(r, "EXPIRE", "a", 100, "NX", "XX") == nxmsg
    assert err(r, "EXPIRE", "a", 100, "NX", "GT") == nxmsg
    assert err(r, "PEXPIRE", "a", 100, "lt", "nx") == nxmsg
    assert err(r, "EXPIRE", "a", 100, "GT", "LT") == "GT and LT options at the same time are not compatible"
    assert err(r, "EXPIRE", "a", 100, "foo") == "Unsupported option foo"
    assert err(r, "EXPIREAT", "a", 100, "NX", "bar") == "Unsupported option bar"
    # Options are checked before the number.
    assert err(r, "EXPIRE", "a", "abc", "NX", "XX") == nxmsg
    assert err(r, "EXPIRE", "a", "abc") == "value is not an integer or out of range"
    assert err(r, "EXPIRE", "a", "1.5") == "value is not an integer or out of range"
    assert r.ttl("a") == -1 and r.get("a") == "1"


def test_expire_overflow_errors(r):
    r.set("a", "1")
    big = 2**63 - 1
    assert err(r, "EXPIRE", "a", big) == "invalid expire time in 'expire' command"
    assert err(r, "EXPIRE", "a", big // 1000) == "invalid expire time in 'expire' command"
    assert err(r, "EXPIRE", "a", -(2**63)) == "invalid expire time in 'expire' command"
    assert err(r, "PEXPIRE", "a", big) == "invalid expire time in 'pexpire' command"
    assert err(r, "EXPIREAT", "a", big) == "invalid expire time in 'expireat' command"
    assert r.ttl("a") == -1
    # The largest absolute times are accepted.
    assert r.execute_command("PEXPIREAT", "a", big) == 1
    assert r.pexpiretime("a") == big
    assert r.execute_command("EXPIREAT", "a", big // 1000) == 1
    assert r.expiretime("a") == big // 1000


def test_ttl_family_missing_and_persistent(r):
    for cmd in ("TTL", "PTTL", "EXPIRETIME", "PEXPIRETIME"):
        assert r.execute_command(cmd, "nokey") == -2
    r.set("a", "1")
    for cmd in ("TTL", "PTTL", "EXPIRETIME", "PEXPIRETIME"):
        assert r.execute_command(cmd, "a") == -1


def test_ttl_rounds_to_nearest_second(r):
    r.set("a", "1")
    r.pexpire("a", 10400)
    assert r.ttl("a") == 10
    r.pexpire("a", 10600)
    assert r.ttl("a") == 11


def test_persist(r):
    r.set("a", "1")
    assert r.persist("a") == 0  # no TTL
    assert r.persist("nokey") == 0
    r.expire("a", 100)
    assert r.persist("a") == 1
    assert r.ttl("a") == -1
    assert r.persist("a") == 0


def test_expire_invalidates_watch(server):
    r = server.client(decode_responses=True)
    r.set("a", "1")
    with r.pipeline() as p:
        p.watch("a")
        other = server.client(decode_responses=True)
        assert other.expire("a", 100) == 1
        p.multi()
        p.set("a", "2")
        with pytest.raises(redis.WatchError):
            p.execute()
    assert r.get("a") == "1"


# ---- RENAME RENAMENX -----------------------------------------------------


def test_rename(r):
    assert err(r, "RENAME", "nokey", "b") == "no such key"
    assert err(r, "RENAME", "nokey", "nokey") == "no such key"
    assert err(r, "RENAMENX", "nokey", "b") == "no such key"
    r.set("a", "1")
    assert r.rename("a", "a") is True  # onto itself: OK, nothing changes
    assert r.get("a") == "1"
    assert r.renamenx("a", "a") is False
    assert r.rename("a", "b") is True
    assert r.get("a") is None and r.get("b") == "1"
    r.set("c", "3")
    assert r.rename("b", "c") is True  # overwrites
    assert r.get("c") == "1" and r.exists("b") == 0
    assert r.dbsize() == 1


def test_renamenx(r):
    r.set("a", "1")
    r.set("b", "2")
    assert r.renamenx("a", "b") is False
    assert r.get("a") == "1" and r.get("b") == "2"
    assert r.renamenx("a", "c") is True
    assert r.get("c") == "1" and r.exists("a") == 0


def test_rename_keeps_ttl_and_drops_destination_ttl(r):
    r.set("a", "1")
    r.expire("a", 100)
    r.set("b", "2")
    r.expire("b", 5000)
    r.rename("a", "b")
    assert 99 <= r.ttl("b") <= 100
    r.set("p", "persistent")
    r.set("q", "x")
    r.expire("q", 100)
    r.rename("p", "q")
    assert r.ttl("q") == -1  # the source had no TTL: the result has none


def test_rename_large_value_and_binary_keys(rb):
    big = bytes(range(256)) * 4096  # 1 MiB, every byte value
    rb.set(b"src\x00\r\n", big)
    assert rb.rename(b"src\x00\r\n", b"dst \x00\xff") is True
    assert rb.get(b"dst \x00\xff") == big
    assert rb.exists(b"src\x00\r\n") == 0
    rb.set(b"n", b"12345")  # integer-encoded value
    rb.rename(b"n", b"m")
    assert rb.get(b"m") == b"12345"


def test_rename_invalidates_watch_on_both_keys(server):
    r = server.client(decode_responses=True)
    r.set("a", "1")
    for watched in ("a", "b"):
        r.set("a", "1")
        r.delete("b")
        with r.pipeline() as p:
            p.watch(watched)
            server.client().rename("a", "b")
            p.multi()
            p.set("x", "1")
            with pytest.raises(redis.WatchError):
                p.execute()


# ---- COPY ----------------------------------------------------------------


def test_copy_same_db(r):
    r.set("a", "hello")
    assert r.copy("a", "b") is True
    assert r.get("b") == "hello"
    r.set("b", "changed")
    assert r.get("a") == "hello"  # a real copy
    assert r.copy("a", "b") is False  # exists
    assert r.get("b") == "changed"
    assert r.execute_command("COPY", "a", "b", "REPLACE") == 1
    assert r.get("b") == "hello"
    assert r.copy("nokey", "b") is False
    assert r.get("b") == "hello"


def test_copy_keeps_ttl_and_big_values(rb):
    big = b"v" * 300000
    rb.set("a", big)
    rb.expire("a", 100)
    assert rb.copy("a", "b") is True
    assert 99 <= rb.ttl("b") <= 100
    assert rb.get("b") == big
    rb.set("p", "1")
    assert rb.execute_command("COPY", "p", "b", "REPLACE") == 1
    assert rb.ttl("b") == -1  # replaced by a copy without TTL


def test_copy_across_dbs(server):
    r0 = server.client(decode_responses=True, db=0)
    r3 = server.client(decode_responses=True, db=3)
    r0.set("a", "1")
    r0.expire("a", 100)
    assert r0.execute_command("COPY", "a", "a", "DB", 3) == 1  # same name, other db: fine
    assert r3.get("a") == "1"
    assert 99 <= r3.ttl("a") <= 100
    assert r0.get("a") == "1"
    r3.set("b", "other")
    assert r0.execute_command("COPY", "a", "b", "db", "3") == 0
    assert r0.execute_command("COPY", "a", "b", "DB", 3, "REPLACE") == 1
    assert r3.get("b") == "1"
    assert r0.exists("b") == 0


def test_copy_errors_change_nothing(r):
    r.set("a", "1")
    assert err(r, "COPY", "a", "a") == "source and destination objects are the same"
    assert err(r, "COPY", "a", "a", "DB", 0) == "source and destination objects are the same"
    assert err(r, "COPY", "nokey", "nokey") == "source and destination objects are the same"
    assert err(r, "COPY", "a", "b", "DB", 16) == "DB index is out of range"
    assert err(r, "COPY", "a", "b", "DB", -1) == "DB index is out of range"
    assert err(r, "COPY", "a", "b", "DB", "abc") == "value is not an integer or out of range"
    assert err(r, "COPY", "a", "b", "DB", 2**40) == \
        "value is out of range, value must between -2147483648 and 2147483647"
    assert err(r, "COPY", "a", "b", "DB") == "syntax error"
    assert err(r, "COPY", "a", "b", "foo") == "syntax error"
    assert r.keys("*") == ["a"]


# ---- MOVE ----------------------------------------------------------------


def test_move_across_dbs(server):
    r0 = server.client(decode_responses=True, db=0)
    r1 = server.client(decode_responses=True, db=1)
    big = "x" * 200000
    r0.set("a", big)
    r0.expire("a", 100)
    assert r0.move("a", 1) is True
    assert r0.exists("a") == 0
    assert r1.get("a") == big
    assert 99 <= r1.ttl("a") <= 100
    assert r0.move("a", 1) is False  # gone from db 0
    r0.set("a", "new")
    assert r0.move("a", 1) is False  # exists in db 1
    assert r0.get("a") == "new" and r1.get("a") == big
    assert r1.move("a", 0) is False
    r1.persist("a")
    r0.delete("a")
    assert r1.move("a", 0) is True
    assert r0.ttl("a") == -1 and r0.get("a") == big


def test_move_errors(r):
    r.set("a", "1")
    assert err(r, "MOVE", "a", 0) == "source and destination objects are the same"
    assert err(r, "MOVE", "a", 16) == "DB index is out of range"
    assert err(r, "MOVE", "a", -1) == "DB index is out of range"
    assert err(r, "MOVE", "a", "x") == "value is not an integer or out of range"
    assert err(r, "MOVE", "a", 2**40) == "value is out of range, value must between -2147483648 and 2147483647"
    assert r.get("a") == "1"


# ---- KEYS ----------------------------------------------------------------


def test_keys_patterns(r):
    names = ["a1", "b1", "c1", "d1", "ab", "a*", "a?", "abc", "x[y"]
    for n in names:
        r.set(n, "v")
    assert sorted(r.keys("*")) == sorted(names)
    assert sorted(r.keys("[a-c]1")) == ["a1", "b1", "c1"]
    assert sorted(r.keys("[^a-c]1")) == ["d1"]
    assert sorted(r.keys("a?")) == ["a*", "a1", "a?", "ab"]
    assert r.keys(r"a\*") == ["a*"]
    assert r.keys(r"a\?") == ["a?"]
    assert sorted(r.keys("a*")) == ["a*", "a1", "a?", "ab", "abc"]
    assert r.keys(r"x\[y") == ["x[y"]
    assert r.keys("nomatch*") == []


def test_keys_binary_safe(rb):
    k = b"k\x00\r\n\xff"
    rb.set(k, b"v")
    rb.set(b"other", b"v")
    assert rb.keys(b"k*") == [k]
    assert rb.keys(b"k?\r\n?") == [k]
    assert rb.exists(k) == 1
    assert rb.type(k) == b"string"


def test_keys_skips_expired(r):
    r.set("live", "1")
    r.set("dead", "1")
    start = time.monotonic()
    r.pexpire("dead", 100)
    assert sorted(r.keys("*")) == ["dead", "live"]
    wait_until(lambda: time.monotonic() - start > 0.15, what="100 ms to pass")
    assert r.keys("*") == ["live"]


# ---- SCAN ----------------------------------------------------------------


def full_scan(r, **kw):
    seen, cursor, calls = [], 0, 0
    while True:
        cursor, keys = r.scan(cursor, **kw)
        seen.extend(keys)
        calls += 1
        if cursor == 0:
            return seen, calls


def test_scan_returns_every_key(r):
    with r.pipeline(transaction=False) as p:
        for i in range(1000):
            p.set(f"key:{i}", i)
        p.execute()
    seen, calls = full_scan(r)
    assert set(seen) == {f"key:{i}" for i in range(1000)}
    assert calls > 10  # COUNT 10 by default: not everything in one call
    seen, calls = full_scan(r, count=1000)
    assert set(seen) == {f"key:{i}" for i in range(1000)}
    assert calls <= 5


def test_scan_empty_db(r):
    assert r.scan(0) == (0, [])
    assert r.scan(0, match="*", count=100, _type="string") == (0, [])


def test_scan_match_and_type(r):
    for i in range(200):
        r.set(f"user:{i}", "v")
        r.set(f"item:{i}", "v")
    seen, _ = full_scan(r, match="user:1?")
    assert sorted(seen) == sorted(f"user:{i}" for i in range(10, 20))
    seen, _ = full_scan(r, _type="string", count=50)
    assert len(set(seen)) == 400
    seen, _ = full_scan(r, _type="STRING", count=50)  # type name is case-insensitive
    assert len(set(seen)) == 400
    seen, _ = full_scan(r, _type="list", count=50)
    assert seen == []
    seen, _ = full_scan(r, match="item:*", _type="string", count=1000)
    assert len(set(seen)) == 200 and all(k.startswith("item:") for k in seen)


def test_scan_binary_keys(rb):
    keys = {b"\x00", b"a\r\nb", b"\xff\xfe", b"sp ace", b""}
    for k in keys:
        rb.set(k, b"v")
    seen, _ = full_scan(rb)
    assert set(seen) == keys


def test_scan_errors(r):
    r.set("a", "1")
    for bad in ("abc", " 1", "1x", "1.0", "99999999999999999999999999"):
        assert err(r, "SCAN", bad) == "invalid cursor"
    assert err(r, "SCAN", 0, "COUNT", 0) == "syntax error"
    assert err(r, "SCAN", 0, "COUNT", -5) == "syntax error"
    assert err(r, "SCAN", 0, "COUNT", "x") == "value is not an integer or out of range"
    assert err(r, "SCAN", 0, "COUNT") == "syntax error"
    assert err(r, "SCAN", 0, "MATCH") == "syntax error"
    assert err(r, "SCAN", 0, "FOO", "bar") == "syntax error"
    # The cursor is checked first.
    assert err(r, "SCAN", "x", "COUNT", 0) == "invalid cursor"


def test_scan_during_growth_returns_every_original_key(r):
    """Keys present for the whole scan are returned at least once even while
    thousands of keys are added between calls (the table grows and rehashes
    under the cursor)."""
    original = {f"orig:{i}" for i in range(2000)}
    with r.pipeline(transaction=False) as p:
        for k in original:
            p.set(k, "v")
        p.execute()
    seen, cursor, batch, calls = set(), 0, 0, 0
    while True:
        cursor, keys = r.scan(cursor, count=20)
        seen.update(keys)
        calls += 1
        if cursor == 0:
            break
        if calls % 5 == 0 and batch < 40:
            with r.pipeline(transaction=False) as p:
                for i in range(2500):
                    p.set(f"new:{batch}:{i}", "v")
                p.execute()
            batch += 1
    assert batch >= 10, "scan ended before the table grew much"
    assert r.dbsize() >= 2000 + batch * 2500
    assert original <= seen


def test_scan_during_shrink_returns_every_kept_key(r):
    """Same guarantee while most keys are deleted between calls (the table
    shrinks under the cursor once the cron resizes it)."""
    with r.pipeline(transaction=False) as p:
        for i in range(30000):
            p.set(f"k:{i}", "v")
        p.execute()
    kept = {f"k:{i}" for i in range(0, 30000, 100)}
    doomed = [f"k:{i}" for i in range(30000) if i % 100]
    seen, cursor, calls = set(), 0, 0
    while True:
        cursor, keys = r.scan(cursor, count=50)
        seen.update(keys)
        calls += 1
        if calls == 3:
            with r.pipeline(transaction=False) as p:
                for i in range(0, len(doomed), 500):
                    p.delete(*doomed[i:i + 500])
                p.execute()
            # Give the cron (10 Hz) time to shrink the table before going on.
            t = time.monotonic()
            wait_until(lambda: time.monotonic() - t > 0.3, what="a few cron ticks")
        if cursor == 0:
            break
    assert kept <= seen


def test_scan_skips_expired(r):
    r.set("live", "1")
    r.set("dead", "1")
    start = time.monotonic()
    r.pexpire("dead", 100)
    wait_until(lambda: time.monotonic() - start > 0.15, what="100 ms to pass")
    seen, _ = full_scan(r)
    assert seen == ["live"]


# ---- RANDOMKEY -------------------------------------------------------------


def test_randomkey(r):
    assert r.randomkey() is None
    r.set("only", "1")
    assert r.randomkey() == "only"
    for i in range(50):
        r.set(f"k{i}", "1")
    got = {r.randomkey() for _ in range(300)}
    assert got <= {"only"} | {f"k{i}" for i in range(50)}
    assert len(got) > 10


def test_randomkey_all_expired_returns_nil(r):
    """Every key logically expired at once (most still in the table, as the
    active cycle has not got to them): RANDOMKEY must answer nil, fast."""
    n = 50000
    with r.pipeline(transaction=False) as p:
        for i in range(n):
            p.set(f"k{i}", "1")
        p.execute()
    deadline_ms = int(time.time() * 1000) + 300
    with r.pipeline(transaction=False) as p:
        for i in range(n):
            p.pexpireat(f"k{i}", deadline_ms)
        p.execute()
    wait_until(lambda: time.time() * 1000 > deadline_ms + 20, what="the common deadline to pass")
    t0 = time.monotonic()
    assert r.randomkey() is None
    assert time.monotonic() - t0 < 1.0
    # A live key among a mass of expired ones: each call does bounded work
    # (it may still answer nil while >99% of the db is expired but not yet
    # reclaimed) and reclaims what it meets, so the answers converge.
    r.set("live", "1")
    wait_until(lambda: r.randomkey() == "live", timeout=10, what="RANDOMKEY to find the live key")
    wait_until(lambda: r.dbsize() == 1, timeout=10, what="the expired keys to be reclaimed")
    assert {r.randomkey() for _ in range(20)} == {"live"}


def test_randomkey_resp3_nil(server):
    s = server.raw()
    # HELLO 3's reply ends with the empty "modules" array; RANDOMKEY follows.
    out = resp_exchange(s, b"HELLO 3\r\nRANDOMKEY\r\n", until=b"modules\r\n*0\r\n_\r\n")
    assert out.endswith(b"modules\r\n*0\r\n_\r\n")
    assert resp_exchange(s, b"SCAN 0\r\n", until=b"*0\r\n") == b"*2\r\n$1\r\n0\r\n*0\r\n"


def test_randomkey_resp2_nil_is_null_bulk(server):
    s = server.raw()
    assert resp_exchange(s, b"RANDOMKEY\r\n") == b"$-1\r\n"


# ---- COMMAND INFO / DOCS -----------------------------------------------------

# name: (arity, flags, first, last, step, acl categories) from redis-server 7.0.
COMMAND_INFO = {
    "del": (-2, {"write"}, 1, -1, 1, {"@keyspace", "@write", "@slow"}),
    "unlink": (-2, {"write", "fast"}, 1, -1, 1, {"@keyspace", "@write", "@fast"}),
    "exists": (-2, {"readonly", "fast"}, 1, -1, 1, {"@keyspace", "@read", "@fast"}),
    "touch": (-2, {"readonly", "fast"}, 1, -1, 1, {"@keyspace", "@read", "@fast"}),
    "type": (2, {"readonly", "fast"}, 1, 1, 1, {"@keyspace", "@read", "@fast"}),
    "expire": (-3, {"write", "fast"}, 1, 1, 1, {"@keyspace", "@write", "@fast"}),
    "pexpire": (-3, {"write", "fast"}, 1, 1, 1, {"@keyspace", "@write", "@fast"}),
    "expireat": (-3, {"write", "fast"}, 1, 1, 1, {"@keyspace", "@write", "@fast"}),
    "pexpireat": (-3, {"write", "fast"}, 1, 1, 1, {"@keyspace", "@write", "@fast"}),
    "ttl": (2, {"readonly", "fast"}, 1, 1, 1, {"@keyspace", "@read", "@fast"}),
    "pttl": (2, {"readonly", "fast"}, 1, 1, 1, {"@keyspace", "@read", "@fast"}),
    "expiretime": (2, {"readonly", "fast"}, 1, 1, 1, {"@keyspace", "@read", "@fast"}),
    "pexpiretime": (2, {"readonly", "fast"}, 1, 1, 1, {"@keyspace", "@read", "@fast"}),
    "persist": (2, {"write", "fast"}, 1, 1, 1, {"@keyspace", "@write", "@fast"}),
    "rename": (3, {"write"}, 1, 2, 1, {"@keyspace", "@write", "@slow"}),
    "renamenx": (3, {"write", "fast"}, 1, 2, 1, {"@keyspace", "@write", "@fast"}),
    "copy": (-3, {"write", "denyoom"}, 1, 2, 1, {"@keyspace", "@write", "@slow"}),
    "keys": (2, {"readonly"}, 0, 0, 0, {"@keyspace", "@read", "@slow", "@dangerous"}),
    "scan": (-2, {"readonly"}, 0, 0, 0, {"@keyspace", "@read", "@slow"}),
    "randomkey": (1, {"readonly"}, 0, 0, 0, {"@keyspace", "@read", "@slow"}),
    "move": (3, {"write", "fast"}, 1, 1, 1, {"@keyspace", "@write", "@fast"}),
}


def test_command_info_matches_redis(server):
    # Read raw: redis-py's COMMAND INFO parser drops fields.
    names = sorted(COMMAND_INFO)
    s = server.raw()
    payload = b"*%d\r\n$7\r\nCOMMAND\r\n$4\r\nINFO\r\n" % (len(names) + 2)
    for n in names:
        payload += b"$%d\r\n%s\r\n" % (len(n), n.encode())
    s.sendall(payload)
    f = s.makefile("rb")

    def read():
        line = f.readline()
        t, rest = line[:1], line[1:-2]
        if t in (b"+", b"-"):
            return rest.decode()
        if t == b":":
            return int(rest)
        if t == b"$":
            n = int(rest)
            return None if n < 0 else f.read(n + 2)[:-2].decode()
        if t in (b"*", b"~", b"%"):
            n = int(rest)
            return None if n < 0 else [read() for _ in range(n * (2 if t == b"%" else 1))]
        raise AssertionError(line)

    infos = read()
    assert len(infos) == len(names)
    for n, info in zip(names, infos):
        arity, flags, first, last, step, acl = COMMAND_INFO[n]
        assert info[0] == n
        assert (info[1], set(info[2]), info[3], info[4], info[5], set(info[6])) == \
            (arity, flags, first, last, step, acl), n
    s.sendall(b"COMMAND DOCS scan\r\n")
    docs = read()
    assert docs[0] == "scan"
    fields = dict(zip(docs[1][::2], docs[1][1::2]))
    assert fields["group"] == "generic" and fields["since"] == "2.8.0"
    assert fields["summary"] == "Incrementally iterate the keys space"
