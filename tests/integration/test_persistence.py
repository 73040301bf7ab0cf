"""Snapshots as an operator sees them: SAVE, BGSAVE (a forked child while the
parent keeps serving), LASTSAVE, the save schedule, INFO persistence, the
save on shutdown, FLUSHALL, -MISCONF after a failed save, and crashes
(kill -9 of the child or of the server) that must leave the previous
snapshot intact. The format itself (both ways with redis-server, DUMP and
RESTORE, corrupt files) is test_rdb.py's.

`rdb-key-save-delay` (microseconds per key, as in Redis) makes a BGSAVE slow
enough to act on while it runs, without sleeping in the test.
"""
import hashlib
import os
import shutil
import signal
import subprocess
import threading

import pytest
import redis

from conftest import SERVER_BIN, Server, cmd, free_port, resp_exchange, wait_until


def raw(s, *args):
    """One command on a fresh socket; the reply's bytes (redis-py turns
    BGSAVE's status into True and sends BGSAVE SCHEDULE for bgsave())."""
    with s.raw() as sock:
        return resp_exchange(sock, cmd(*args))


def info(r):
    return r.info("persistence")


def sha(path):
    with open(path, "rb") as f:
        return hashlib.sha256(f.read()).hexdigest()


def restart(srv, *args):
    """Stops srv (SIGTERM) and starts a new server on the same directory."""
    srv.stop()
    return Server(srv.dir, args)


@pytest.fixture
def started():
    """Servers started by Server() directly, stopped even when a test fails."""
    servers = []
    yield servers
    for s in servers:
        s.stop()


def test_save_writes_the_dump_and_a_restart_loads_it(server_factory, started):
    s = server_factory()
    r = s.client(decode_responses=True)
    r.set("k", "v")
    r.rpush("l", "a", "b", "c")
    r.select(3)
    r.set("in3", "x")
    r.expire("in3", 1000)
    before = r.lastsave()
    assert info(r)["rdb_changes_since_last_save"] > 0
    assert r.execute_command("SAVE") is True
    assert os.path.exists(os.path.join(s.dir, "dump.rdb"))
    assert info(r)["rdb_changes_since_last_save"] == 0
    assert r.lastsave() >= before
    s2 = restart(s)
    started.append(s2)
    r2 = s2.client(decode_responses=True)
    assert r2.get("k") == "v"
    assert r2.lrange("l", 0, -1) == ["a", "b", "c"]
    r2.select(3)
    assert r2.get("in3") == "x"
    assert 990 <= r2.ttl("in3") <= 1000
    assert "keys loaded: 3" in s2.log()


def test_no_file_starts_empty(server_factory):
    s = server_factory()
    r = s.client()
    assert r.dbsize() == 0
    assert info(r)["rdb_last_load_keys_loaded"] == 0


def test_bgsave_runs_in_a_child_while_the_parent_serves(server_factory, started):
    s = server_factory("--rdb-key-save-delay", "2000")
    r = s.client(decode_responses=True)
    for i in range(0, 1000, 100):
        r.mset({f"k{j}": str(j) for j in range(i, i + 100)})
    assert raw(s, "BGSAVE") == b"+Background saving started\r\n"
    assert info(r)["rdb_bgsave_in_progress"] == 1
    # The parent keeps answering while the child (about 2 s) writes.
    r.set("after-fork", "1")
    assert r.get("k5") == "5"
    assert raw(s, "BGSAVE") == b"-ERR Background save already in progress\r\n"
    with pytest.raises(redis.ResponseError, match="^Background save already in progress$"):
        r.execute_command("SAVE")
    wait_until(lambda: info(r)["rdb_bgsave_in_progress"] == 0, timeout=30, what="BGSAVE to finish")
    i = info(r)
    assert i["rdb_last_bgsave_status"] == "ok"
    assert i["rdb_saves"] == 1
    assert i["rdb_last_bgsave_time_sec"] >= 0
    assert i["rdb_last_cow_size"] >= 0
    # Only the write made after the fork is still unsaved.
    assert i["rdb_changes_since_last_save"] == 1
    assert not [f for f in os.listdir(s.dir) if f.startswith("temp-")]
    s2 = restart(s)
    started.append(s2)
    r2 = s2.client(decode_responses=True)
    assert r2.dbsize() == 1000  # the snapshot is the data at fork time
    assert r2.get("after-fork") is None


def test_bgsave_schedule_runs_after_the_current_one(server_factory):
    s = server_factory("--rdb-key-save-delay", "1000")
    r = s.client(decode_responses=True)
    r.mset({f"k{j}": "v" for j in range(500)})
    raw(s, "BGSAVE")
    assert raw(s, "BGSAVE", "SCHEDULE") == b"+Background saving scheduled\r\n"
    wait_until(lambda: info(r)["rdb_saves"] == 2 and info(r)["rdb_bgsave_in_progress"] == 0, timeout=30,
               what="the scheduled BGSAVE")
    with pytest.raises(redis.ResponseError, match="^syntax error$"):
        r.execute_command("BGSAVE", "NOW")


def test_bgsave_inside_multi_is_scheduled(server_factory):
    s = server_factory()
    r = s.client(decode_responses=True)
    r.set("k", "v")
    with s.raw() as sock:
        got = resp_exchange(sock, cmd("MULTI") + cmd("BGSAVE") + cmd("EXEC"), until=b"scheduled\r\n")
    assert got == b"+OK\r\n+QUEUED\r\n*1\r\n+Background saving scheduled\r\n"
    wait_until(lambda: info(r)["rdb_saves"] == 1, timeout=10, what="the scheduled BGSAVE")
    with pytest.raises(redis.ResponseError, match="SAVE"):
        p = r.pipeline(transaction=True)
        p.execute_command("SAVE")
        p.execute()


def test_acknowledged_writes_before_bgsave_are_all_in_it(server_factory, started):
    """Writers run flat out; every write acknowledged before BGSAVE's reply
    must be in the snapshot, as the fork happens after them."""
    s = server_factory()
    stop = threading.Event()
    acked = [[] for _ in range(4)]

    def writer(n):
        c = s.client()
        i = 0
        while not stop.is_set():
            c.set(f"w{n}:{i}", i)
            acked[n].append(i)
            i += 1

    threads = [threading.Thread(target=writer, args=(n,)) for n in range(4)]
    for t in threads:
        t.start()
    r = s.client(decode_responses=True)
    wait_until(lambda: all(len(a) > 200 for a in acked), what="writers to get going")
    marks = [len(a) for a in acked]  # acknowledged before BGSAVE is sent
    raw(s, "BGSAVE")
    stop.set()
    for t in threads:
        t.join()
    wait_until(lambda: info(r)["rdb_bgsave_in_progress"] == 0 and info(r)["rdb_saves"] == 1, timeout=30,
               what="BGSAVE")
    s2 = restart(s)
    started.append(s2)
    r2 = s2.client(decode_responses=True)
    for n, m in enumerate(marks):
        keys = [f"w{n}:{i}" for i in range(m)]
        vals = r2.mget(keys)
        assert all(v is not None for v in vals), f"writer {n}: lost an acknowledged write"


def test_killed_child_leaves_the_previous_snapshot(server_factory):
    s = server_factory("--rdb-key-save-delay", "5000")
    r = s.client(decode_responses=True)
    r.set("old", "1")
    r.config_set("rdb-key-save-delay", 0)
    r.execute_command("SAVE")
    dump = os.path.join(s.dir, "dump.rdb")
    old = sha(dump)
    r.config_set("rdb-key-save-delay", 5000)
    r.mset({f"k{j}": "v" for j in range(1000)})
    raw(s, "BGSAVE")
    child = [p for p in os.listdir("/proc") if p.isdigit() and _ppid(p) == s.pid]
    assert len(child) == 1
    wait_until(lambda: any(f.startswith("temp-") for f in os.listdir(s.dir)), what="the child's temp file")
    os.kill(int(child[0]), signal.SIGKILL)
    wait_until(lambda: info(r)["rdb_bgsave_in_progress"] == 0, what="the parent to reap the child")
    assert info(r)["rdb_last_bgsave_status"] == "err"
    assert sha(dump) == old
    assert not [f for f in os.listdir(s.dir) if f.startswith("temp-")]
    assert r.set("still", "writable")  # no save schedule: no MISCONF
    assert "Background saving terminated by signal 9" in s.log()


def _ppid(pid):
    try:
        with open(f"/proc/{pid}/stat") as f:
            return int(f.read().rsplit(")", 1)[1].split()[1])
    except (OSError, IndexError, ValueError):
        return -1


def test_server_killed_during_bgsave_restarts_on_the_previous_snapshot(server_factory, started):
    s = server_factory("--rdb-key-save-delay", "0")
    r = s.client(decode_responses=True)
    r.set("old", "1")
    r.execute_command("SAVE")
    dump = os.path.join(s.dir, "dump.rdb")
    old = sha(dump)
    r.config_set("rdb-key-save-delay", 5000)
    r.mset({f"k{j}": "v" for j in range(1000)})
    raw(s, "BGSAVE")
    wait_until(lambda: any(f.startswith("temp-") for f in os.listdir(s.dir)), what="the child's temp file")
    child = [int(p) for p in os.listdir("/proc") if p.isdigit() and _ppid(p) == s.pid]
    s.proc.kill()
    s.proc.wait(timeout=10)
    # The child must not outlive its server: it would rename an old
    # snapshot over whatever a restarted server saves.
    wait_until(lambda: all(not os.path.exists(f"/proc/{c}") or _zombie(c) for c in child), what="the child to die")
    assert sha(dump) == old
    s.stop()
    s2 = Server(s.dir, ())
    started.append(s2)
    r2 = s2.client(decode_responses=True)
    assert r2.get("old") == "1"
    assert r2.dbsize() == 1


def _zombie(pid):
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] == "Z"
    except OSError:
        return True


def test_save_schedule_triggers_a_bgsave(server_factory):
    s = server_factory("--save", "1 2")
    r = s.client(decode_responses=True)
    r.set("a", "1")
    r.set("b", "2")
    wait_until(lambda: info(r)["rdb_saves"] >= 1, timeout=15, what="the scheduled save")
    wait_until(lambda: info(r)["rdb_changes_since_last_save"] == 0, what="dirty to reset")
    assert os.path.exists(os.path.join(s.dir, "dump.rdb"))
    assert "changes in 1 seconds. Saving..." in s.log()


def test_one_change_below_the_threshold_does_not_save(server_factory):
    s = server_factory("--save", "1 100")
    r = s.client()
    r.set("a", "1")
    # Cron runs every 100 ms; a few seconds of it must not have saved.
    with pytest.raises(AssertionError):
        wait_until(lambda: info(r)["rdb_saves"] > 0, timeout=2.5, what="no save")
    assert not os.path.exists(os.path.join(s.dir, "dump.rdb"))


@pytest.mark.parametrize("how", ["shutdown", "sigterm"])
def test_shutdown_saves_when_a_schedule_is_set(server_factory, started, how):
    s = server_factory("--save", "3600 1")
    r = s.client(decode_responses=True)
    r.set("k", "v")
    if how == "shutdown":
        with pytest.raises(redis.ConnectionError):
            r.execute_command("SHUTDOWN")
    else:
        s.proc.send_signal(signal.SIGTERM)
    assert s.proc.wait(timeout=20) == 0
    assert "Saving the final RDB snapshot before exiting." in s.log()
    s2 = Server(s.dir, ())
    started.append(s2)
    assert s2.client(decode_responses=True).get("k") == "v"


def test_shutdown_without_schedule_does_not_save_unless_asked(server_factory, started):
    s = server_factory()
    r = s.client(decode_responses=True)
    r.set("k", "v")
    with pytest.raises(redis.ConnectionError):
        r.execute_command("SHUTDOWN")
    s.proc.wait(timeout=20)
    assert not os.path.exists(os.path.join(s.dir, "dump.rdb"))
    s2 = Server(s.dir, ())
    started.append(s2)
    r2 = s2.client(decode_responses=True)
    r2.set("k2", "v2")
    with pytest.raises(redis.ConnectionError):
        r2.execute_command("SHUTDOWN", "SAVE")
    s2.proc.wait(timeout=20)
    s3 = Server(s.dir, ())
    started.append(s3)
    assert s3.client(decode_responses=True).get("k2") == "v2"


def test_shutdown_nosave_with_schedule_keeps_the_old_file(server_factory):
    s = server_factory("--save", "3600 1")
    r = s.client(decode_responses=True)
    r.set("k", "v")
    r.execute_command("SAVE")
    old = sha(os.path.join(s.dir, "dump.rdb"))
    r.set("k", "changed")
    with pytest.raises(redis.ConnectionError):
        r.execute_command("SHUTDOWN", "NOSAVE")
    s.proc.wait(timeout=20)
    assert sha(os.path.join(s.dir, "dump.rdb")) == old


def _lose_dir(s, r):
    """Makes saving fail: the server's working directory disappears (root
    ignores permission bits, so a read-only mode would not do)."""
    shutil.rmtree(s.dir + "/gone", ignore_errors=True)
    os.mkdir(s.dir + "/gone")
    r.config_set("dir", s.dir + "/gone")
    os.rmdir(s.dir + "/gone")


def test_failed_save_is_reported_and_shutdown_refuses(server_factory):
    s = server_factory("--enable-protected-configs", "yes")
    r = s.client(decode_responses=True)
    r.set("k", "v")
    _lose_dir(s, r)
    with pytest.raises(redis.ResponseError, match="^$"):  # a bare "-ERR", as Redis
        r.execute_command("SAVE")
    assert "Failed opening the temp RDB file" in s.log()
    with pytest.raises(redis.ResponseError, match="^Errors trying to SHUTDOWN. Check logs.$"):
        r.execute_command("SHUTDOWN", "SAVE")
    assert r.get("k") == "v"  # still serving
    with pytest.raises(redis.ConnectionError):
        r.execute_command("SHUTDOWN", "SAVE", "FORCE")
    assert s.proc.wait(timeout=20) == 0


def test_failed_scheduled_save_stops_writes_with_misconf(server_factory, tmp_path):
    s = server_factory("--save", "1 1", "--enable-protected-configs", "yes")
    r = s.client(decode_responses=True)
    r.set("k", "v")
    wait_until(lambda: info(r)["rdb_saves"] >= 1, timeout=15, what="first save")
    _lose_dir(s, r)
    r.set("k2", "v2")
    wait_until(lambda: info(r)["rdb_last_bgsave_status"] == "err", timeout=15, what="the failing save")
    with pytest.raises(redis.ResponseError, match="^MISCONF Redis is configured to save RDB snapshots"):
        r.set("k3", "v3")
    with pytest.raises(redis.ResponseError, match="^MISCONF"):
        r.ping()
    with pytest.raises(redis.ResponseError, match="MISCONF"):
        p = r.pipeline(transaction=True)
        p.set("k4", "v4")
        p.execute()
    assert r.get("k") == "v"  # reads keep working
    assert r.get("k3") is None
    # The operator lifts the stop, or fixes the directory and saves.
    r.config_set("stop-writes-on-bgsave-error", "no")
    assert r.set("k3", "v3")
    r.config_set("stop-writes-on-bgsave-error", "yes")
    good = tmp_path / "good"
    good.mkdir()
    r.config_set("dir", str(good))
    wait_until(lambda: info(r)["rdb_last_bgsave_status"] == "ok", timeout=20, what="the retried save")
    assert r.set("k5", "v5")
    assert (good / "dump.rdb").exists()


def test_flushall_saves_an_empty_dataset_with_a_schedule(server_factory, started):
    s = server_factory("--save", "3600 1")
    r = s.client(decode_responses=True)
    r.set("k", "v")
    r.execute_command("SAVE")
    r.flushall()
    assert info(r)["rdb_changes_since_last_save"] == 1
    s.proc.kill()  # no shutdown save: the file must already be empty
    s.proc.wait(timeout=10)
    s.stop()
    s2 = Server(s.dir, ())
    started.append(s2)
    assert s2.client().dbsize() == 0


def test_flushall_abandons_a_running_bgsave(server_factory):
    s = server_factory("--rdb-key-save-delay", "5000")
    r = s.client(decode_responses=True)
    r.mset({f"k{j}": "v" for j in range(1000)})
    raw(s, "BGSAVE")
    r.flushall()
    i = info(r)
    assert i["rdb_bgsave_in_progress"] == 0
    assert i["rdb_last_bgsave_status"] == "ok"  # abandoned on purpose, not failed
    assert not [f for f in os.listdir(s.dir) if f.startswith("temp-")]


def test_debug_reload_keeps_the_data(server_factory):
    s = server_factory("--enable-debug-command", "yes")
    r = s.client(decode_responses=True)
    r.set("k", "v", px=100000)
    r.hset("h", mapping={"a": "1", "b": "2"})
    assert r.execute_command("DEBUG", "RELOAD") == "OK"
    assert r.get("k") == "v"
    assert 90000 < r.pttl("k") <= 100000
    assert r.hgetall("h") == {"a": "1", "b": "2"}
    r.set("later", "1")
    assert r.execute_command("DEBUG", "RELOAD", "NOSAVE") == "OK"
    assert r.get("later") is None  # the file was loaded as it was
    with pytest.raises(redis.ResponseError):
        r.execute_command("DEBUG", "RELOAD", "BOGUS")


def test_command_info_matches_redis(server_factory):
    s = server_factory()
    got = raw(s, "COMMAND", "INFO", "save", "bgsave", "lastsave")
    assert got.startswith(b"*3\r\n*10\r\n$4\r\nsave\r\n:1\r\n*4\r\n+admin\r\n+noscript\r\n+no_async_loading\r\n"
                          b"+no_multi\r\n:0\r\n:0\r\n:0\r\n*3\r\n+@admin\r\n+@slow\r\n+@dangerous\r\n"), got
    assert b"$8\r\nlastsave\r\n:1\r\n*3\r\n+loading\r\n+stale\r\n+fast\r\n:0\r\n:0\r\n:0\r\n*3\r\n+@admin\r\n" \
           b"+@fast\r\n+@dangerous\r\n" in got


def test_bgsave_over_tls(server_factory, tls_certs):
    from tlsutil import tls_client
    s = server_factory("--tls-mode", "required", "--tls-cert-file", tls_certs["server_crt"], "--tls-key-file",
                       tls_certs["server_key"], "--tls-ca-cert-file", tls_certs["ca_crt"])
    r = tls_client(s, tls_certs)
    r.set("k", "v")
    assert r.execute_command("BGSAVE")
    wait_until(lambda: r.info("persistence")["rdb_saves"] == 1, timeout=20, what="BGSAVE over TLS")
    assert r.lastsave()


# ---- encryption at rest (the sealed container itself: test_snapshot_tool.py)

KEY_A = "11" * 32
KEY_B = "22" * 32


def keyring(path, *entries, default):
    with open(path, "w") as f:
        for kid, hexkey in entries:
            f.write(f"key {kid} {hexkey}\n")
        f.write(f"default {default}\n")
    os.chmod(path, 0o600)
    return str(path)


def enc_args(ring, *extra):
    return ("--keyring-file", ring, "--snapshot-encryption", "yes") + extra


def start_on(d, *args):
    """A server on directory d expected to refuse to start: its exit status
    and log."""
    p = subprocess.run([SERVER_BIN, "--port", str(free_port()), "--bind", "127.0.0.1", "--dir", str(d)] +
                       [str(a) for a in args], capture_output=True, text=True, timeout=30)
    return p.returncode, p.stdout + p.stderr


def test_encrypted_snapshot_round_trip_and_refusals(server_factory, started, tmp_path):
    ring = keyring(tmp_path / "ring", ("alias/cache-backups", KEY_A), ("key-2026-11", KEY_B),
                   default="alias/cache-backups")
    s = server_factory(*enc_args(ring))
    r = s.client(decode_responses=True)
    r.set("secret", "value")
    r.hset("h", mapping={"f": "v"})
    r.execute_command("SAVE")
    dump = os.path.join(s.dir, "dump.rdb")
    with open(dump, "rb") as f:
        data = f.read()
    assert data.startswith(b"CACHETSEAL") and b"alias/cache-backups" in data
    assert b"secret" not in data and b"value" not in data
    # BGSAVE with the other key named explicitly.
    r.config_set("snapshot-encryption-key-id", "key-2026-11")
    raw(s, "BGSAVE")
    wait_until(lambda: info(r)["rdb_saves"] == 2 and info(r)["rdb_bgsave_in_progress"] == 0, what="BGSAVE")
    with open(dump, "rb") as f:
        assert b"key-2026-11" in f.read(64 + len("key-2026-11"))
    # Key material never shows.
    everything = str(r.info("everything")) + str(r.config_get("*")) + s.log()
    assert KEY_A not in everything and KEY_B not in everything
    with pytest.raises(redis.ResponseError):
        r.config_set("snapshot-encryption-key-id", "no-such-key")
    assert r.config_get("snapshot-encryption-key-id")["snapshot-encryption-key-id"] == "key-2026-11"
    s.stop()
    # The same keyring loads it.
    s2 = Server(s.dir, enc_args(ring))
    started.append(s2)
    r2 = s2.client(decode_responses=True)
    assert r2.get("secret") == "value" and r2.hgetall("h") == {"f": "v"}
    s2.stop()
    # No keyring, or one without that key id: refused, nothing served.
    code, log = start_on(s.dir)
    assert code != 0 and "Fatal error loading the DB" in log
    other = keyring(tmp_path / "other", ("alias/cache-backups", KEY_A), default="alias/cache-backups")
    code, log = start_on(s.dir, "--keyring-file", other)
    assert code != 0 and "key-2026-11" in log
    # The right id with the wrong bytes.
    wrong = keyring(tmp_path / "wrong", ("key-2026-11", KEY_A), default="key-2026-11")
    code, log = start_on(s.dir, "--keyring-file", wrong)
    assert code != 0 and "wrong key" in log.lower()
    # One flipped byte in the sealed body.
    body = bytearray(open(dump, "rb").read())
    body[len(body) // 2] ^= 0x01
    open(dump, "wb").write(bytes(body))
    code, log = start_on(s.dir, "--keyring-file", ring)
    assert code != 0 and "offset" in log


def test_plain_file_loads_with_encryption_on_and_next_save_seals(server_factory, started, tmp_path):
    s = server_factory()
    r = s.client(decode_responses=True)
    r.set("k", "v")
    r.execute_command("SAVE")
    s.stop()
    ring = keyring(tmp_path / "ring", ("k1", KEY_A), default="k1")
    s2 = Server(s.dir, enc_args(ring))
    started.append(s2)
    r2 = s2.client(decode_responses=True)
    assert r2.get("k") == "v"
    r2.execute_command("SAVE")
    with open(os.path.join(s.dir, "dump.rdb"), "rb") as f:
        assert f.read(10) == b"CACHETSEAL"
