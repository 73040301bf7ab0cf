"""tools/cachet-cluster create, add-node and del-node: a cluster built from
fresh cluster-mode nodes (roles, an even split of the slots, the map at epoch
1, replicas attached with REPLICAOF) passes `check` and serves RedisCluster;
a node added without slots receives slots by `reshard`; a node that owns
slots cannot be deleted, an empty one leaves under a new epoch. A run that a
node stopped half way (here: an ACL that denies it CLUSTER SETTOPOLOGY) is
finished by running the same command again; a reshard --push-map that one
stopped is finished by `fix`, which also finishes slots left MIGRATING or
IMPORTING and refuses when two primaries claim one slot.
"""
import pytest
from redis.cluster import ClusterNode, RedisCluster

from conftest import wait_until
from test_cluster import info_map, key_slot, ok
from test_migrate import tool


def nodes(server_factory, n):
    return [server_factory("--cluster-enabled", "yes") for _ in range(n)]


def addr(s):
    return f"127.0.0.1:{s.port}"


def epoch(s):
    return int(info_map(s.client(decode_responses=True).execute_command("CLUSTER", "INFO"))["cluster_current_epoch"])


def test_create_with_replicas_then_check(server_factory):
    ns = nodes(server_factory, 6)
    p = tool("create", "--replicas", 1, *map(addr, ns))
    out = p.stdout
    assert ">>> Creating a cluster of 6 nodes: 3 primaries, 3 replicas" in out
    assert "slots:[0-5460]" in out and "slots:[5461-10921]" in out and "slots:[10922-16383]" in out
    assert ">>> Pushing the map (epoch 1) to every node" in out
    assert f">>> REPLICAOF 127.0.0.1 {ns[0].port} on {addr(ns[3])}" in out
    assert "[OK] Cluster created: 3 primaries, 3 replicas" in out
    assert all(epoch(s) == 1 for s in ns)
    chk = tool("check", addr(ns[4])).stdout
    assert "[OK] All 16384 slots covered." in chk and "[OK] All nodes agree" in chk
    assert chk.count("\nS: ") == 3
    rc = RedisCluster(startup_nodes=[ClusterNode("127.0.0.1", ns[1].port)], decode_responses=True)
    try:
        for i in range(300):
            rc.set(f"c:{i}", i)
        assert [rc.get(f"c:{i}") for i in range(300)] == [str(i) for i in range(300)]
    finally:
        rc.close()
    for prim, rep in zip(ns[:3], ns[3:]):
        n = prim.client().dbsize()
        assert n > 0
        wait_until(lambda: rep.client().dbsize() == n, timeout=20, what="the replica to catch up")
        assert rep.client(decode_responses=True).execute_command("ROLE")[0] == "slave"
    # Nodes that already have a map are refused, and nothing changes.
    p = tool("create", *map(addr, ns[:3]), ok_codes=(1,))
    assert f"[ERR] Node {addr(ns[0])} is not empty." in p.stdout
    assert all(epoch(s) == 1 for s in ns)


def test_create_refuses_too_few_nodes(server_factory):
    ns = nodes(server_factory, 1)
    p = tool("create", "--replicas", 1, addr(ns[0]), ok_codes=(2,))
    assert "cannot make a cluster" in p.stdout


def test_add_node_reshard_to_it_and_del_node(server_factory):
    ns = nodes(server_factory, 4)
    tool("create", *map(addr, ns[:3]))
    rc = RedisCluster(startup_nodes=[ClusterNode("127.0.0.1", ns[0].port)], decode_responses=True)
    keys = [f"a:{i}" for i in range(500)]
    for k in keys:
        rc.set(k, k)
    rc.close()
    seed = addr(ns[0])
    new_id = ns[3].client(decode_responses=True).execute_command("CLUSTER", "MYID")
    p = tool("add-node", addr(ns[3]), seed)
    assert f">>> Adding node {addr(ns[3])} ({new_id}) as a primary without slots: map of epoch 2 to 4 nodes" \
        in p.stdout
    assert all(epoch(s) == 2 for s in ns)
    chk = tool("check", addr(ns[3])).stdout
    assert f"M: {new_id} {addr(ns[3])} slots:0 epoch:2" in chk and "[OK] All nodes agree" in chk
    # adding it again finds the job done and changes nothing
    p = tool("add-node", addr(ns[3]), seed)
    assert f"[OK] Node {addr(ns[3])} ({new_id}) is already in the cluster: every node holds its map (epoch 2)" \
        in p.stdout
    assert all(epoch(s) == 2 for s in ns)

    first_id = ns[0].client(decode_responses=True).execute_command("CLUSTER", "MYID")
    p = tool("reshard", seed, "--from", first_id, "--to", new_id, "--slots", 200, "--push-map")
    assert "[OK] 200 slots moved" in p.stdout and "[OK] Map of epoch 3 pushed to 4 nodes" in p.stdout
    assert "[OK] All nodes agree" in tool("check", seed).stdout
    moved = ns[3].client().dbsize()
    assert moved > 0

    # once it owns slots, add-node refuses it (its map is not the one add-node would push)
    assert "is not empty" in tool("add-node", addr(ns[3]), seed, ok_codes=(1,)).stdout
    p = tool("del-node", seed, new_id, ok_codes=(1,))
    assert f"[ERR] Node {addr(ns[3])} is not empty! Reshard data away and try again." in p.stdout
    assert all(epoch(s) == 3 for s in ns)

    tool("reshard", seed, "--from", new_id, "--to", first_id, "--slots", 200, "--push-map")
    assert ns[3].client().dbsize() == 0
    p = tool("del-node", seed, new_id[:10])
    assert ">>> Pushing the map without it (epoch 5) to the 3 other nodes" in p.stdout
    assert f"[OK] Node {new_id} removed" in p.stdout
    chk = tool("check", seed).stdout
    assert new_id not in chk and "[OK] All nodes agree" in chk and "[OK] All 16384 slots covered." in chk
    assert ns[3].client(decode_responses=True).execute_command("CLUSTER", "NODES").count("\n") == 1
    rc = RedisCluster(startup_nodes=[ClusterNode("127.0.0.1", ns[1].port)], decode_responses=True)
    try:
        assert [rc.get(k) for k in keys] == keys
    finally:
        rc.close()


def test_del_node_of_a_replica_and_refusals(server_factory):
    ns = nodes(server_factory, 4)
    tool("create", "--replicas", 1, *map(addr, ns))
    rep_id = ns[2].client(decode_responses=True).execute_command("CLUSTER", "MYID")
    prim_id = ns[0].client(decode_responses=True).execute_command("CLUSTER", "MYID")
    assert "Reshard data away" in tool("del-node", addr(ns[1]), prim_id, ok_codes=(1,)).stdout
    assert "No such node ID" in tool("del-node", addr(ns[1]), "f" * 40, ok_codes=(1,)).stdout
    p = tool("del-node", addr(ns[1]), rep_id)
    assert f"[OK] Node {rep_id} removed" in p.stdout
    chk = tool("check", addr(ns[0])).stdout
    assert "[OK] All nodes agree" in chk and rep_id not in chk and chk.count("\nS: ") == 1
    assert ns[2].client(decode_responses=True).execute_command("ROLE")[0] == "master"


@pytest.mark.parametrize("args", [("add-node", "127.0.0.1:1"), ("create",)])
def test_usage_errors(args):
    assert tool(*args, ok_codes=(2,)).returncode == 2


def test_create_over_tls_with_hostnames(server_factory, tls_certs):
    args = ("--cluster-enabled", "yes", "--tls-mode", "required", "--tls-cert-file", tls_certs["server_crt"],
            "--tls-key-file", tls_certs["server_key"], "--tls-ca-cert-file", tls_certs["ca_crt"],
            "--tls-replication", "yes", "--cluster-announce-hostname", "localhost",
            "--cluster-preferred-endpoint-type", "hostname")
    ns = [server_factory(*args) for _ in range(4)]
    tls = ("--tls", "--cacert", tls_certs["ca_crt"])
    p = tool("create", "--replicas", 1, *[f"localhost:{s.port}" for s in ns], *tls)
    assert "[OK] Cluster created: 2 primaries, 2 replicas" in p.stdout
    assert f">>> REPLICAOF 127.0.0.1 {ns[0].port} on localhost:{ns[2].port}" in p.stdout
    chk = tool("check", f"localhost:{ns[1].port}", *tls).stdout
    assert "[OK] All nodes agree" in chk and "[OK] All 16384 slots covered." in chk
    rc = RedisCluster(host="localhost", port=ns[0].port, ssl=True, ssl_ca_certs=tls_certs["ca_crt"],
                      ssl_cert_reqs="required", ssl_check_hostname=True, decode_responses=True)
    try:
        for i in range(100):
            rc.set(f"t:{i}", i)
        assert [rc.get(f"t:{i}") for i in range(100)] == [str(i) for i in range(100)]
        slots = rc.get_node(host="127.0.0.1", port=ns[0].port).redis_connection.execute_command("CLUSTER", "SLOTS")
        assert sorted(e[2][0] for e in slots) == ["localhost", "localhost"]
    finally:
        rc.close()


# ---- resuming a run that a node stopped half way --------------------------------------------


def settopology(s, allowed):
    """An ACL rule makes the node refuse the tool's map push (NOPERM) while
    it still answers the tool's reads."""
    rule = "+cluster|settopology" if allowed else "-cluster|settopology"
    assert s.client().execute_command("ACL", "SETUSER", "default", rule) in (b"OK", True)


@pytest.mark.parametrize("transport", ["plain", "tls"])
def test_create_resumes_after_a_node_refused_the_map(server_factory, tls_certs, transport):
    tls = ()
    if transport == "tls":  # the tool over TLS; nodes in tls-mode preferred (the checks here stay plain)
        tls = ("--tls", "--cacert", tls_certs["ca_crt"])
        ns = [server_factory("--cluster-enabled", "yes", "--tls-mode", "preferred", "--tls-cert-file",
                             tls_certs["server_crt"], "--tls-key-file", tls_certs["server_key"],
                             "--tls-ca-cert-file", tls_certs["ca_crt"]) for _ in range(4)]
    else:
        ns = nodes(server_factory, 4)
    settopology(ns[2], False)
    args = ("create", "--replicas", 1, *map(addr, ns), *tls)
    p = tool(*args, ok_codes=(1,))
    assert f"[ERR] CLUSTER SETTOPOLOGY on {addr(ns[2])}: NOPERM" in p.stdout
    assert "[ERR] Not finished: fix the cause and run the same command again to complete it." in p.stdout
    assert [epoch(s) for s in ns] == [1, 1, 0, 1]  # a half-pushed map
    assert "REPLICAOF" not in p.stdout
    chk = tool("check", addr(ns[0]), *tls, ok_codes=(1,)).stdout
    assert "[OK] All nodes agree" not in chk
    # still refused: the rerun pushes to that node alone, and fails again
    p = tool(*args, ok_codes=(1,))
    assert p.stdout.count("already holds this map (epoch 1)") == 3
    assert [epoch(s) for s in ns] == [1, 1, 0, 1]
    settopology(ns[2], True)
    p = tool(*args)
    for s in (ns[0], ns[1], ns[3]):
        assert f"[OK] {addr(s)} already holds this map (epoch 1)" in p.stdout
    assert f"[OK] {addr(ns[2])} already holds" not in p.stdout
    assert f">>> REPLICAOF 127.0.0.1 {ns[0].port} on {addr(ns[2])}" in p.stdout
    assert "[OK] Cluster created: 2 primaries, 2 replicas, all 16384 slots assigned, epoch 1." in p.stdout
    assert [epoch(s) for s in ns] == [1, 1, 1, 1]
    chk = tool("check", addr(ns[2]), *tls).stdout
    assert "[OK] All nodes agree" in chk and "[OK] All 16384 slots covered." in chk and chk.count("\nS: ") == 2
    # a third run finds everything done and changes nothing
    p = tool(*args)
    assert p.stdout.count("already holds this map (epoch 1)") == 4 and p.stdout.count("already replicates") == 2
    assert [epoch(s) for s in ns] == [1, 1, 1, 1]
    # nodes of another cluster are still refused, with nothing pushed
    other = nodes(server_factory, 2)
    tool("create", *map(addr, other))
    p = tool("create", addr(ns[0]), addr(other[0]), ok_codes=(1,))  # other: plaintext-only nodes
    assert f"[ERR] Node {addr(ns[0])} is not empty." in p.stdout and "Not finished" not in p.stdout
    assert [epoch(s) for s in ns + other] == [1] * 6


def test_add_node_and_del_node_resume_after_a_refusal(server_factory):
    ns = nodes(server_factory, 4)
    tool("create", *map(addr, ns[:3]))
    seed = addr(ns[0])
    new_id = ns[3].client(decode_responses=True).execute_command("CLUSTER", "MYID")
    settopology(ns[1], False)
    p = tool("add-node", addr(ns[3]), seed, ok_codes=(1,))
    assert f"[ERR] CLUSTER SETTOPOLOGY on {addr(ns[1])}: NOPERM" in p.stdout and "Not finished" in p.stdout
    assert [epoch(s) for s in ns] == [2, 1, 2, 2]
    settopology(ns[1], True)
    # the seed already lists the new node, which is no longer fresh: both fine
    p = tool("add-node", addr(ns[3]), seed)
    assert f"[OK] {addr(ns[3])} already holds this map (epoch 2)" in p.stdout
    assert "[OK] New node added" in p.stdout
    assert [epoch(s) for s in ns] == [2, 2, 2, 2]
    chk = tool("check", seed).stdout
    assert f"M: {new_id} {addr(ns[3])} slots:0 epoch:2" in chk and "[OK] All nodes agree" in chk

    settopology(ns[2], False)
    p = tool("del-node", seed, new_id, ok_codes=(1,))
    assert f"[ERR] CLUSTER SETTOPOLOGY on {addr(ns[2])}: NOPERM" in p.stdout and "Not finished" in p.stdout
    assert [epoch(s) for s in ns] == [3, 3, 2, 2]  # the node to delete was not detached
    settopology(ns[2], True)
    # the seed no longer lists the node: the tool finds it through node 2
    p = tool("del-node", seed, new_id)
    assert f">>> {addr(ns[2])} still lists node {new_id}: reading the cluster through it" in p.stdout
    assert p.stdout.count("already holds this map (epoch 3)") == 2
    assert f"[OK] Node {new_id} removed" in p.stdout
    chk = tool("check", seed).stdout
    assert new_id not in chk and "[OK] All nodes agree" in chk and "[OK] All 16384 slots covered." in chk
    assert ns[3].client(decode_responses=True).execute_command("CLUSTER", "NODES").count("\n") == 1
    # done: a third run finds no such node
    assert "No such node ID" in tool("del-node", seed, new_id, ok_codes=(1,)).stdout


# ---- fix: finishing a reshard's push, open slots ----------------------------------------------

NOT_FINISHED = "[ERR] Not finished: fix the cause and run the same command again to complete it."


def ids_of(ns):
    return [s.client(decode_responses=True).execute_command("CLUSTER", "MYID") for s in ns]


def slot_owners(s):
    return sorted((r[0], r[1], r[2][1]) for r in s.client(decode_responses=True).execute_command("CLUSTER", "SLOTS"))


def fill(port, keys):
    rc = RedisCluster(startup_nodes=[ClusterNode("127.0.0.1", port)], decode_responses=True)
    try:
        for k in keys:
            rc.set(k, k)
    finally:
        rc.close()


def read_back(port, keys):
    rc = RedisCluster(startup_nodes=[ClusterNode("127.0.0.1", port)], decode_responses=True)
    try:
        return [rc.get(k) for k in keys]
    finally:
        rc.close()


def test_fix_finishes_a_reshard_push_that_a_node_refused(server_factory):
    ns = nodes(server_factory, 4)
    tool("create", "--replicas", 1, *map(addr, ns))  # 0: 0-8191, 1: 8192-16383, 2 and 3 their replicas
    seed, ids = addr(ns[0]), ids_of(ns)
    keys = [f"f:{i}" for i in range(400)]
    fill(ns[0].port, keys)
    settopology(ns[2], False)
    p = tool("reshard", seed, "--from", ids[0], "--to", ids[1], "--slots", 150, "--push-map", ok_codes=(1,))
    assert "[OK] 150 slots moved" in p.stdout
    assert f"[ERR] CLUSTER SETTOPOLOGY on {addr(ns[2])}: NOPERM" in p.stdout
    assert f"run 'cachet-cluster fix {seed}' to finish" in p.stdout.strip().splitlines()[-1]
    assert [epoch(s) for s in ns] == [2, 2, 1, 2]
    chk = tool("check", seed, ok_codes=(1,)).stdout
    assert "Epochs differ" in chk and f"Node {addr(ns[2])} disagrees about the owner of 150 slots." in chk

    # still refused: fix pushes to that node alone, fails again and touches nothing else
    p = tool("fix", seed, ok_codes=(1,))
    assert "[OK] No slot is migrating or importing." in p.stdout and "Moved slot" not in p.stdout
    assert p.stdout.count("already holds this map (epoch 2)") == 3
    assert f"[ERR] CLUSTER SETTOPOLOGY on {addr(ns[2])}: NOPERM" in p.stdout
    assert p.stdout.strip().splitlines()[-1] == NOT_FINISHED
    assert [epoch(s) for s in ns] == [2, 2, 1, 2]

    settopology(ns[2], True)
    p = tool("fix", seed)
    assert ">>> Pushing the map the primaries agree on (epoch 2) to the nodes without it" in p.stdout
    assert p.stdout.count("already holds this map (epoch 2)") == 3 and f"{addr(ns[2])} already holds" not in p.stdout
    assert "[OK] All nodes agree about slots configuration." in p.stdout and NOT_FINISHED not in p.stdout
    assert [epoch(s) for s in ns] == [2, 2, 2, 2]
    assert "[OK] All nodes agree" in tool("check", addr(ns[3])).stdout
    moved = [(0, 149, ns[1].port), (150, 8191, ns[0].port), (8192, 16383, ns[1].port)]  # 150 slots, not 300
    assert all(slot_owners(s) == moved for s in ns)
    assert read_back(ns[2].port, keys) == keys
    for k in keys:
        owner = ns[1] if key_slot(k) < 150 or key_slot(k) >= 8192 else ns[0]
        assert owner.client(decode_responses=True).get(k) == k
    assert ns[0].client().dbsize() + ns[1].client().dbsize() == len(keys)

    # done: a second fix changes nothing
    p = tool("fix", seed)
    assert "[OK] Every reachable node holds the map the primaries agree on (epoch 2)." in p.stdout
    assert "SETTOPOLOGY" not in p.stdout and "Pushing" not in p.stdout
    assert [epoch(s) for s in ns] == [2, 2, 2, 2]
    assert all(slot_owners(s) == moved for s in ns)


def test_fix_finishes_slots_left_migrating_or_importing(server_factory):
    ns = nodes(server_factory, 4)
    tool("create", "--replicas", 1, *map(addr, ns))
    ids = ids_of(ns)
    tags = [t for t in (f"{{t{n}}}" for n in range(5000)) if key_slot(t) < 8192][:3]  # slots of node 0
    keys = [f"{t}:{i}" for t in tags for i in range(5)] + [f"o:{i}" for i in range(200)]
    fill(ns[0].port, keys)
    mig, imp, half = map(key_slot, tags)
    src, dst = ns[0].client(decode_responses=True), ns[1].client(decode_responses=True)
    # a move stopped after one key (the slot MIGRATING on 0, IMPORTING on 1) ...
    assert ok(dst.execute_command("CLUSTER", "SETSLOT", mig, "IMPORTING", ids[0]))
    assert ok(src.execute_command("CLUSTER", "SETSLOT", mig, "MIGRATING", ids[1]))
    assert src.execute_command("MIGRATE", "127.0.0.1", ns[1].port, f"{tags[0]}:0", 0, 1000) == "OK"
    # ... and one stopped before the source's SETSLOT MIGRATING
    assert ok(dst.execute_command("CLUSTER", "SETSLOT", imp, "IMPORTING", ids[0]))
    # ... and one stopped after the target's SETSLOT NODE, before the source's
    assert ok(dst.execute_command("CLUSTER", "SETSLOT", half, "IMPORTING", ids[0]))
    assert ok(src.execute_command("CLUSTER", "SETSLOT", half, "MIGRATING", ids[1]))
    assert src.execute_command("MIGRATE", "127.0.0.1", ns[1].port, "", 0, 1000, "KEYS",
                               *[f"{tags[2]}:{i}" for i in range(5)]) == "OK"
    assert ok(dst.execute_command("CLUSTER", "SETSLOT", half, "NODE", ids[1]))
    chk = tool("check", addr(ns[0]), ok_codes=(1,)).stdout
    assert f"has slot {mig} in migrating state" in chk and f"has slot {imp} in importing state" in chk
    assert f"has slot {half} in migrating state" in chk

    p = tool("fix", addr(ns[2]))  # read through a replica
    a, b = addr(ns[0]), addr(ns[1])
    assert f">>> Finishing the move of slot {mig} from {a} to {b} (migrating)" in p.stdout
    assert f"Moved slot {mig} from {a} to {b} (4 keys)" in p.stdout
    assert f">>> Finishing the move of slot {imp} from {a} to {b} (importing)" in p.stdout
    assert f"Moved slot {imp} from {a} to {b} (5 keys)" in p.stdout
    assert f"Slot {half}: {b} already owns it" in p.stdout and f"Moved slot {half} from {a} to {b} (0 keys)" in p.stdout
    # the replicas refuse SETSLOT: they disagreed until the map went out under a new epoch
    assert ">>> Pushing the map the primaries agree on (epoch 2) to the nodes without it" in p.stdout
    assert "[OK] All nodes agree about slots configuration." in p.stdout
    assert [epoch(s) for s in ns] == [2, 2, 2, 2]
    for slot in (mig, imp, half):
        assert src.execute_command("CLUSTER", "COUNTKEYSINSLOT", slot) == 0
        assert dst.execute_command("CLUSTER", "COUNTKEYSINSLOT", slot) == 5
    assert read_back(ns[3].port, keys) == keys
    assert "[OK] All nodes agree" in tool("check", addr(ns[0])).stdout
    p = tool("fix", addr(ns[0]))
    assert "[OK] No slot is migrating or importing." in p.stdout and "Pushing" not in p.stdout
    assert [epoch(s) for s in ns] == [2, 2, 2, 2]


def test_fix_refuses_a_slot_two_primaries_claim(server_factory):
    ns = nodes(server_factory, 2)
    tool("create", *map(addr, ns))  # 0: 0-8191, 1: 8192-16383
    ids = ids_of(ns)
    # node 1 alone takes a map in which it owns 100-16383: 100-8191 are then claimed twice
    spec = [2, "NODE", ids[0], "127.0.0.1", ns[0].port, 0, "-", "PRIMARY", "0-99",
            "NODE", ids[1], "127.0.0.1", ns[1].port, 0, "-", "PRIMARY", "100-16383"]
    assert ok(ns[1].client(decode_responses=True).execute_command("CLUSTER", "SETTOPOLOGY", *spec))
    p = tool("fix", addr(ns[0]), ok_codes=(1,))
    assert f"[ERR] Slot 100 is claimed by both {addr(ns[0])} and {addr(ns[1])} (8092 slots in all)" in p.stdout
    assert "SETTOPOLOGY on" not in p.stdout and p.stdout.strip().splitlines()[-1] == NOT_FINISHED
    assert [epoch(s) for s in ns] == [1, 2]
    assert slot_owners(ns[0]) == [(0, 8191, ns[0].port), (8192, 16383, ns[1].port)]
