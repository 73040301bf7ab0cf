"""Every collection family through redis-cli, the client operators type at,
in RESP2 and RESP3 (`-3`: redis-cli sends HELLO 3). Output is redis-cli's
non-interactive form (one value per line, errors followed by a blank line),
as it prints Redis 7.0's replies (checked against redis-server 7.0)."""
import subprocess

import pytest


def cli(server, *args, resp3=False):
    argv = ["redis-cli", "-h", "127.0.0.1", "-p", str(server.port)] + (["-3"] if resp3 else []) + list(args)
    p = subprocess.run(argv, capture_output=True, text=True, timeout=10)
    assert p.returncode == 0, p.stderr
    return p.stdout


@pytest.mark.parametrize("resp3", [False, True], ids=["resp2", "resp3"])
def test_hash_through_redis_cli(server, resp3):
    assert cli(server, "hset", "h", "f1", "v1", "f2", "v2", resp3=resp3) == "2\n"
    assert cli(server, "hget", "h", "f1", resp3=resp3) == "v1\n"
    out = cli(server, "hgetall", "h", resp3=resp3)
    # RESP3 sends a map, which redis-cli prints as "field value" lines.
    assert out == ("f1 v1\nf2 v2\n" if resp3 else "f1\nv1\nf2\nv2\n")
    assert cli(server, "hincrbyfloat", "h", "n", "1.5", resp3=resp3) == "1.5\n"
    assert cli(server, "set", "s", "x") == "OK\n"
    assert cli(server, "hget", "s", "f", resp3=resp3) == \
        "WRONGTYPE Operation against a key holding the wrong kind of value\n\n"


@pytest.mark.parametrize("resp3", [False, True], ids=["resp2", "resp3"])
def test_list_through_redis_cli(server, resp3):
    assert cli(server, "rpush", "l", "a", "b", "c", resp3=resp3) == "3\n"
    assert cli(server, "lrange", "l", "0", "-1", resp3=resp3) == "a\nb\nc\n"
    assert cli(server, "lpop", "l", "2", resp3=resp3) == "a\nb\n"
    assert cli(server, "blpop", "l", "0.1", resp3=resp3) == "l\nc\n"
    assert cli(server, "blpop", "empty", "0.05", resp3=resp3) == "\n"
    assert cli(server, "lset", "nokey", "0", "x", resp3=resp3) == "ERR no such key\n\n"


@pytest.mark.parametrize("resp3", [False, True], ids=["resp2", "resp3"])
def test_set_through_redis_cli(server, resp3):
    assert cli(server, "sadd", "s", "1", "2", "3", resp3=resp3) == "3\n"
    assert sorted(cli(server, "smembers", "s", resp3=resp3).split()) == ["1", "2", "3"]
    assert cli(server, "sismember", "s", "2", resp3=resp3) == "1\n"
    assert cli(server, "object", "encoding", "s", resp3=resp3) == "intset\n"
    assert cli(server, "spop", "s", "-1", resp3=resp3) == "ERR value is out of range, must be positive\n\n"


@pytest.mark.parametrize("resp3", [False, True], ids=["resp2", "resp3"])
def test_zset_through_redis_cli(server, resp3):
    assert cli(server, "zadd", "z", "1", "a", "2.5", "b", resp3=resp3) == "2\n"
    out = cli(server, "zrange", "z", "0", "-1", "withscores", resp3=resp3)
    # RESP3 sends [member, double] pairs; redis-cli prints them flat too.
    assert out == "a\n1\nb\n2.5\n"
    assert cli(server, "zscore", "z", "b", resp3=resp3) == "2.5\n"
    assert cli(server, "zadd", "z", "nan", "c", resp3=resp3) == "ERR value is not a valid float\n\n"
    assert cli(server, "zcard", "z", resp3=resp3) == "2\n"
