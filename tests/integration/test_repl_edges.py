"""Replication edge cases, most of them differential: the same assertions run
against cachet-server and Debian's redis-server 7.0 (parametrized
[cachet, redis]), so Cachet's behaviour is Redis' behaviour.

CONFIG REWRITE of the replicaof line; a loop of replicas (A follows B, B
follows A); REPLICAOF to the node's own address; a primary restarted without
a snapshot (its replica ends empty); `redis-cli --rdb`, `--functions-rdb`
and `--replica` against Cachet; the least-privilege replication user and the
NOPERM of a user without +psync; REPLCONF rdb-filter-only; and the
walk-through that moves a live Redis 7.0 primary into Cachet under a write
load (plaintext and TLS), by REPLICAOF NO ONE and by FAILOVER TO.

Every wait polls with a deadline; every server and redis-cli process is
stopped by PID in a fixture or a finally.
"""
import os
import shutil
import signal
import socket
import subprocess
import threading

import pytest
import redis

from conftest import SERVER_BIN, Server, wait_until
from conftest import cmd as resp
from replutil import Load, compare, info, wait_in_sync

REDIS = shutil.which("redis-server")
REDIS_CLI = shutil.which("redis-cli")
pytestmark = pytest.mark.skipif(not REDIS or not REDIS_CLI, reason="Debian's redis-server and redis-cli are needed")

KINDS = ["cachet", "redis"]


def binary(kind):
    return SERVER_BIN if kind == "cachet" else REDIS


def start(server_factory, kind, *args, config=None):
    """A node of that kind, no snapshots, diskless syncs without delay."""
    return server_factory("--save", "", "--appendonly", "no", "--repl-diskless-sync-delay", "0", *args,
                          config=config, binary=binary(kind))


def role(c):
    return c.execute_command("ROLE")


def err_text(fn, *args):
    with pytest.raises(redis.ResponseError) as e:
        fn(*args)
    return str(e.value)


def raw_call(port, payload, nlines, timeout=5):
    """Sends payload on a fresh socket; the first nlines reply lines."""
    s = socket.create_connection(("127.0.0.1", port), timeout=timeout)
    try:
        s.sendall(payload)
        buf = b""
        while buf.count(b"\r\n") < nlines:
            chunk = s.recv(65536)
            if not chunk:
                break
            buf += chunk
        return buf.split(b"\r\n")[:nlines]
    finally:
        s.close()


# ---- CONFIG REWRITE ------------------------------------------------------------


@pytest.mark.parametrize("kind", KINDS)
def test_config_rewrite_writes_and_removes_replicaof(server_factory, kind):
    p = start(server_factory, kind)
    s = start(server_factory, kind, config="# my config\nslaveof 127.0.0.1 1\n")
    path = os.path.join(s.dir, "cachet.conf")
    c = s.client(decode_responses=True)
    assert c.execute_command("REPLICAOF", "NO", "ONE") == "OK"
    assert c.config_rewrite() in (True, "OK")
    text = open(path).read()
    assert "slaveof" not in text and "replicaof" not in text  # a primary: the old line goes away
    assert text.startswith("# my config\n")

    assert c.execute_command("REPLICAOF", "127.0.0.1", p.port) == "OK"
    assert c.config_rewrite() in (True, "OK")
    lines = open(path).read().split("\n")
    assert lines.count(f"replicaof 127.0.0.1 {p.port}") == 1, lines
    # Stable, and another target replaces the line in place.
    assert c.execute_command("REPLICAOF", "localhost", p.port) == "OK"
    assert c.config_rewrite() in (True, "OK")
    lines2 = open(path).read().split("\n")
    assert lines2.count(f"replicaof localhost {p.port}") == 1, lines2
    assert not [ln for ln in lines2 if ln.startswith("replicaof 127.0.0.1")], lines2

    # The rewritten file starts a replica of the same primary.
    pc = p.client()
    pc.set("from-primary", "1")
    s.stop()
    # (--port and --dir on the command line override the file's lines)
    s2 = Server(s.dir + "-again", ["--save", ""], config=open(path).read(), binary=binary(kind))
    try:
        c2 = s2.client()
        wait_until(lambda: info(c2).get("master_link_status") == "up", timeout=30, what="the restarted replica")
        assert c2.get("from-primary") == b"1"
        assert role(c2)[:3] == [b"slave", b"localhost", p.port]
    finally:
        s2.stop()
