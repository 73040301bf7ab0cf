"""Cluster mode: cluster-allow-reads-when-down (Redis 7.0: while the cluster
is down, reads of slots this node serves still run, writes get
`-CLUSTERDOWN The cluster is down and only accepts read commands`), and the
`r` flag CLIENT LIST / CLIENT INFO show for a READONLY client; and
cluster-allow-pubsubshard-when-down (default yes: sharded pub/sub goes on
while the cluster is down). Plaintext and TLS (nodes in tls-mode
preferred)."""
import threading

import pytest
import redis

from conftest import wait_until
from test_cluster import Cluster, key_slot, ok, owner_of
from test_cluster_slot_loss import blocked, tls_args

GAPPED = ["0-5460", "5461-10922", "10924-16383"]  # slot 10923 has no owner
TAG = next(t for t in (f"t{n}" for n in range(1000)) if owner_of(key_slot(t)) == 0)  # node 0's


@pytest.fixture(params=["plain", "tls"])
def down(request, server_factory, tls_certs):
    """Three primaries whose keys were written while the cluster was up,
    then a map leaving one slot without owner: with
    cluster-require-full-coverage yes (the default) the cluster is down."""
    c = Cluster(server_factory, n=3, extra=tls_args(tls_certs),
                tls=tls_certs if request.param == "tls" else None)
    c.push(*c.spec())
    r = c.admin(0)
    c.mine = [f"{{{TAG}}}:{n}" for n in range(5)]
    for k in c.mine:
        r.set(k, k)
    r.rpush(f"{{{TAG}}}:list", "x")
    c.push(*c.spec(ranges=GAPPED, epoch=2))
    assert "cluster_state:fail" in r.execute_command("CLUSTER", "INFO")
    return c


def test_reads_refused_while_down_by_default(down):
    r = down.admin(0)
    assert r.config_get("cluster-allow-reads-when-down") == {"cluster-allow-reads-when-down": "no"}
    with pytest.raises(redis.ResponseError, match="^CLUSTERDOWN The cluster is down$"):
        r.get(down.mine[0])
    with pytest.raises(redis.ResponseError, match="^CLUSTERDOWN The cluster is down$"):
        r.set(down.mine[0], "w")


def test_reads_allowed_when_down(down):
    r = down.admin(0)
    # a bad value is refused and changes nothing
    with pytest.raises(redis.ResponseError, match="argument must be 'yes' or 'no'"):
        r.config_set("cluster-allow-reads-when-down", "maybe")
    assert r.config_get("cluster-allow-reads-when-down") == {"cluster-allow-reads-when-down": "no"}
    assert r.config_set("cluster-allow-reads-when-down", "yes") is True
    assert r.config_get("cluster-allow-reads-when-down") == {"cluster-allow-reads-when-down": "yes"}
    assert r.get(down.mine[0]) == down.mine[0]
    assert r.mget(down.mine) == down.mine
    assert r.lrange(f"{{{TAG}}}:list", 0, -1) == ["x"]
    ro = "^CLUSTERDOWN The cluster is down and only accepts read commands$"
    with pytest.raises(redis.ResponseError, match=ro):
        r.set(down.mine[0], "w")
    with pytest.raises(redis.ResponseError, match=ro):
        r.delete(down.mine[1])
    assert r.get(down.mine[0]) == down.mine[0] and r.exists(down.mine[1]) == 1
    # another node's slot is still MOVED, a slot without owner still not served
    other = next(k for k in (f"o{n}" for n in range(1000)) if owner_of(key_slot(k), GAPPED) == 1)
    with pytest.raises(redis.ResponseError, match=f"^MOVED {key_slot(other)} 127.0.0.1:{down.nodes[1].port}$"):
        r.get(other)
    unbound = next(k for k in (f"u{n}" for n in range(100000)) if key_slot(k) == 10923)
    with pytest.raises(redis.ResponseError, match="^CLUSTERDOWN Hash slot not served$"):
        r.get(unbound)
    # a transaction of reads runs; one with a write is refused when queued
    p = r.pipeline(transaction=True)
    p.get(down.mine[0]).get(down.mine[1])
    assert p.execute() == down.mine[:2]
    p = r.pipeline(transaction=True)
    p.get(down.mine[0]).set(down.mine[1], "w")
    with pytest.raises(redis.ResponseError):
        p.execute()
    assert r.get(down.mine[1]) == down.mine[1]
    # scripts: reads run, a write is refused with Redis' text
    assert r.eval("return redis.call('GET', KEYS[1])", 1, down.mine[0]) == down.mine[0]
    with pytest.raises(redis.ResponseError,
                       match="Script attempted to execute a write command while the cluster is down and readonly"):
        r.eval("return redis.call('SET', KEYS[1], 'w')", 1, down.mine[0])
    assert r.get(down.mine[0]) == down.mine[0]
    # the cluster up again: writes run
    down.push(*down.spec(epoch=3))
    assert r.set(down.mine[0], "w") is True


def test_blocked_clients_get_clusterdown_even_when_reads_are_allowed(down):
    """As Redis: a blocked client waits for a write, which cannot come while
    the cluster is down, so it is answered CLUSTERDOWN whatever the setting."""
    r = down.admin(0)
    assert r.config_set("cluster-allow-reads-when-down", "yes")
    down.push(*down.spec(epoch=3))  # up again
    waiter = down.admin(0, socket_timeout=30)
    out = {}

    def run():
        try:
            out["r"] = waiter.blpop([f"{{{TAG}}}:empty"], 0)
        except redis.ResponseError as e:
            out["r"] = str(e)

    t = threading.Thread(target=run, daemon=True)
    t.start()
    wait_until(lambda: blocked(r) == 1, what="blocked")
    down.push(*down.spec(ranges=GAPPED, epoch=4))
    t.join(10)
    assert out.get("r") == "CLUSTERDOWN The cluster is down"


def test_client_list_r_flag_for_readonly(down):
    r = down.admin(0)
    c = down.admin(0)
    cid = c.client_id()

    def flags():
        return next(x for x in r.client_list() if int(x["id"]) == cid)["flags"]

    assert flags() == "N"
    assert ok(c.execute_command("READONLY"))
    assert flags() == "r" and "flags=r " in c.execute_command("CLIENT", "INFO")
    assert ok(c.execute_command("READWRITE"))
    assert flags() == "N"


def test_sharded_pubsub_while_down(down):
    from tlsutil import Resp, client_context, tls_socket
    r = down.admin(0)
    ch = f"{{{TAG}}}:ch"
    if down.tls:
        sock = tls_socket(down.nodes[0].port, client_context(down.tls["ca_crt"]), owner=down.nodes[0])
    else:
        sock = down.nodes[0].raw()
    sub = Resp(sock)
    assert r.config_get("cluster-allow-pubsubshard-when-down") == {"cluster-allow-pubsubshard-when-down": "yes"}
    sub.send("SSUBSCRIBE", ch)
    assert sub.read() == [b"ssubscribe", ch.encode(), 1]
    assert r.execute_command("SPUBLISH", ch, "m") == 1
    assert sub.read() == [b"smessage", ch.encode(), b"m"]
    # another node's channel is still MOVED
    other = next(k for k in (f"o{n}" for n in range(1000)) if owner_of(key_slot(k), GAPPED) == 1)
    with pytest.raises(redis.ResponseError, match="^MOVED "):
        r.execute_command("SPUBLISH", other, "m")
    with pytest.raises(redis.ResponseError, match="argument must be 'yes' or 'no'"):
        r.config_set("cluster-allow-pubsubshard-when-down", "2")
    assert r.config_set("cluster-allow-pubsubshard-when-down", "no") is True
    with pytest.raises(redis.ResponseError, match="^CLUSTERDOWN The cluster is down$"):
        r.execute_command("SPUBLISH", ch, "m")
    sub.send("SSUBSCRIBE", f"{{{TAG}}}:ch2")
    assert str(sub.read()) == "CLUSTERDOWN The cluster is down"
    # cluster-allow-reads-when-down does not open sharded pub/sub
    assert r.config_set("cluster-allow-reads-when-down", "yes") is True
    with pytest.raises(redis.ResponseError, match="^CLUSTERDOWN The cluster is down$"):
        r.execute_command("SPUBLISH", ch, "m")


def test_readonly_outside_cluster_mode_sets_no_flag(server_factory):
    s = server_factory()
    r = s.client(decode_responses=True)
    with pytest.raises(redis.ResponseError, match="^This instance has cluster support disabled$"):
        r.execute_command("READONLY")
    assert "flags=N " in r.execute_command("CLIENT", "INFO")
