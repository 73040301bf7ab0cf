"""cachetd, the control plane (docs/control-plane.md): the ElastiCache API
driven with boto3, redis-py clients on the endpoints it returns, the online
TLS migration, SigV4 errors, and SIGKILL + restart adopting the nodes.

Every test stops every process it started (cachetd by its PID, each node by
the PID in its pid file after checking it runs that node's config) even on
failure. Groups here have one node; groups with replicas and cluster mode
enabled are in test_cachetd_workflow.py.
"""
import json
import os
import signal
import ssl
import subprocess
import threading
import time
import urllib.request

import pytest
import redis

from conftest import ROOT, SANITIZER_MARKERS, free_port, wait_until

# Debian's boto3 predates TransitEncryptionMode; awscli ships a newer model.
for _p in ("/usr/lib/python3/dist-packages/awscli/botocore/data",):
    if os.path.isdir(_p):
        os.environ["AWS_DATA_PATH"] = _p
os.environ.pop("AWS_PROFILE", None)

boto3 = pytest.importorskip("boto3")
from botocore.config import Config  # noqa: E402
from botocore.exceptions import ClientError  # noqa: E402

CACHETD_BIN = os.environ.get("CACHETD", os.path.join(ROOT, "build", "cachetd"))
SERVER_BIN = os.environ.get("CACHET_SERVER", os.path.join(ROOT, "build", "cachet-server"))


def read_credentials(path):
    kv = {}
    with open(path) as f:
        for line in f:
            if "=" in line:
                k, v = line.split("=", 1)
                kv[k.strip()] = v.strip()
    return kv["aws_access_key_id"], kv["aws_secret_access_key"]


def node_pids(data_dir):
    """{node id: pid} of the nodes under data_dir that really run its config."""
    out = {}
    nodes = os.path.join(data_dir, "nodes")
    if not os.path.isdir(nodes):
        return out
    for nid in os.listdir(nodes):
        try:
            pid = int(open(os.path.join(nodes, nid, "node.pid")).read().strip())
            cmd = open(f"/proc/{pid}/cmdline", "rb").read().split(b"\0")
            stat = open(f"/proc/{pid}/stat").read()
        except (OSError, ValueError):
            continue
        state = stat.rsplit(")", 1)[1].split()[0]
        if os.path.join(nodes, nid, "node.conf").encode() in cmd and state not in ("Z", "X"):
            out[nid] = pid
    return out


class Cachetd:
    def __init__(self, tmp_path, extra=()):
        self.dir = str(tmp_path / "cachetd-data")
        self.extra = list(extra)
        self.proc = None
        self.log_path = str(tmp_path / "cachetd.log")
        self.start()

    def start(self):
        self.port = free_port()
        self.https = "--https" in self.extra
        self.url = f"{'https' if self.https else 'http'}://127.0.0.1:{self.port}"
        self.ca = os.path.join(self.dir, "ca.pem")
        log = open(self.log_path, "ab")
        self.proc = subprocess.Popen([CACHETD_BIN, "--data-dir", self.dir, "--listen", f"127.0.0.1:{self.port}",
                                      "--server-bin", SERVER_BIN] + self.extra, stdout=log, stderr=subprocess.STDOUT)
        log.close()
        wait_until(lambda: self._up(), what="cachetd listening")
        self.akid, self.secret = read_credentials(os.path.join(self.dir, "credentials"))

    def _up(self):
        assert self.proc.poll() is None, open(self.log_path).read()
        ctx = ssl.create_default_context(cafile=self.ca) if self.https else None
        urllib.request.urlopen(self.url + "/ca.pem", timeout=1, context=ctx).read()
        return True

    def client(self, akid=None, secret=None):
        return boto3.client("elasticache", endpoint_url=self.url, region_name="us-east-1",
                            aws_access_key_id=akid or self.akid, aws_secret_access_key=secret or self.secret,
                            config=Config(retries={"max_attempts": 1}), verify=self.ca if self.https else None)

    def kill(self, sig=signal.SIGKILL):
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(sig)
            self.proc.wait(10)

    def stop_all(self):
        """Stops cachetd gracefully (so a sanitizer build reports leaks), then
        every node it left running; returns any sanitizer report in its log."""
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.kill()
        for pid in node_pids(self.dir).values():
            try:
                os.kill(pid, signal.SIGCONT)
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        log = open(self.log_path, errors="replace").read()
        return [m for m in SANITIZER_MARKERS if m in log] and log


@pytest.fixture
def cachetd(tmp_path):
    made = []

    def make(extra=()):
        c = Cachetd(tmp_path / f"d{len(made)}", extra)
        made.append(c)
        return c

    for d in ("d0", "d1"):
        (tmp_path / d).mkdir()
    yield make
    reports = [c.stop_all() for c in made]
    assert not any(reports), "sanitizer report in cachetd's log:\n" + "\n".join(r for r in reports if r)
    # a clean exit on SIGTERM (a sanitizer build exits non-zero on a leak)
    assert all(c.proc.returncode == 0 for c in made), [c.proc.returncode for c in made]


def wait_available(ec, gid):
    ec.get_waiter("replication_group_available").wait(ReplicationGroupId=gid,
                                                      WaiterConfig={"Delay": 1, "MaxAttempts": 60})
    return ec.describe_replication_groups(ReplicationGroupId=gid)["ReplicationGroups"][0]


def assert_plaintext_refused(host, port):
    """tls-mode required: a plaintext client is told to use TLS and served nothing."""
    with pytest.raises((redis.exceptions.ConnectionError, redis.exceptions.ResponseError)) as e:
        redis.Redis(host=host, port=port, socket_timeout=2).ping()
    assert isinstance(e.value, redis.exceptions.ConnectionError) or "TLS is required" in str(e.value)


def code_of(excinfo):
    return excinfo.value.response["Error"]["Code"]


class Worker(threading.Thread):
    """Writes and reads through one client until stopped, counting failures."""

    def __init__(self, make_client, prefix):
        super().__init__(daemon=True)
        self.make_client, self.prefix = make_client, prefix
        self.ok = self.failed = 0
        self.errors = []
        self.halt = threading.Event()

    def step(self, r, i):
        """One write and read through r, counted; the client to go on with
        (a new one after a failure)."""
        try:
            r.set(f"{self.prefix}:{i}", i)
            assert r.get(f"{self.prefix}:{i}") == str(i).encode()
            self.ok += 1
            return r
        except Exception as e:  # noqa: BLE001 - every failure counts
            self.failed += 1
            self.errors.append(repr(e))
            return self.make_client()

    def run(self):
        r = self.make_client()
        i = 0
        while not self.halt.is_set():
            r = self.step(r, i)
            i += 1
            time.sleep(0.002)

    def finish(self):
        self.halt.set()
        self.join(10)
        return self


def test_create_describe_delete_with_waiters(cachetd):
    c = cachetd()
    ec = c.client()
    r = ec.create_replication_group(ReplicationGroupId="Orders-1", ReplicationGroupDescription="orders",
                                    Engine="redis", EngineVersion="7.0", CacheNodeType="cache.t4g.small",
                                    Tags=[{"Key": "team", "Value": "a"}])
    g = r["ReplicationGroup"]
    assert g["ReplicationGroupId"] == "orders-1" and g["Status"] == "creating"
    g = wait_available(ec, "orders-1")
    assert g["Status"] == "available" and g["ClusterEnabled"] is False
    assert g["TransitEncryptionEnabled"] is False and "TransitEncryptionMode" not in g
    assert g["AuthTokenEnabled"] is False and g["CacheNodeType"] == "cache.t4g.small"
    assert g["ARN"] == "arn:aws:elasticache:us-east-1:000000000000:replicationgroup:orders-1"
    assert g["MemberClusters"] == ["orders-1-001"]
    ng = g["NodeGroups"][0]
    ep = ng["PrimaryEndpoint"]
    assert ep["Address"] == "127.0.0.1" and ng["NodeGroupMembers"][0]["CurrentRole"] == "primary"
    r = redis.Redis(host=ep["Address"], port=ep["Port"])
    r.set("k", "v")
    assert r.get("k") == b"v"
    cc = ec.describe_cache_clusters(ShowCacheNodeInfo=True)["CacheClusters"]
    assert [x["CacheClusterId"] for x in cc] == ["orders-1-001"]
    assert cc[0]["CacheNodes"][0]["Endpoint"]["Port"] == ep["Port"] and cc[0]["ReplicationGroupId"] == "orders-1"
    assert "CacheNodes" not in ec.describe_cache_clusters()["CacheClusters"][0]
    with pytest.raises(ClientError) as e:
        ec.describe_cache_clusters(CacheClusterId="nope-001")
    assert code_of(e) == "CacheClusterNotFound"
    pids = node_pids(c.dir)
    assert list(pids) == ["orders-1-001"]

    d = ec.delete_replication_group(ReplicationGroupId="orders-1")["ReplicationGroup"]
    assert d["Status"] == "deleting"
    ec.get_waiter("replication_group_deleted").wait(ReplicationGroupId="orders-1",
                                                    WaiterConfig={"Delay": 1, "MaxAttempts": 30})
    with pytest.raises(ClientError) as e:
        ec.describe_replication_groups(ReplicationGroupId="orders-1")
    assert code_of(e) == "ReplicationGroupNotFoundFault"
    assert node_pids(c.dir) == {}
    wait_until(lambda: not os.path.exists(f"/proc/{pids['orders-1-001']}"), what="node gone")
    msgs = [(x["SourceIdentifier"], x["Message"]) for x in ec.describe_events(Duration=60)["Events"]]
    assert ("orders-1", "Replication group created") in msgs
    assert ("orders-1", "Replication group deleted") in msgs
    only = ec.describe_events(SourceIdentifier="orders-1", SourceType="replication-group")["Events"]
    assert only and all(x["SourceIdentifier"] == "orders-1" for x in only)
    assert ec.describe_replication_groups()["ReplicationGroups"] == []


def test_online_tls_migration(cachetd, tmp_path):
    c = cachetd()
    ec = c.client()
    ec.create_replication_group(ReplicationGroupId="web", ReplicationGroupDescription="web", NumCacheClusters=1)
    g = wait_available(ec, "web")
    ep = g["NodeGroups"][0]["PrimaryEndpoint"]
    host, port = ep["Address"], ep["Port"]
    pid = node_pids(c.dir)["web-001"]
    plain = Worker(lambda: redis.Redis(host=host, port=port, socket_timeout=5), "plain")
    plain.start()
    wait_until(lambda: plain.ok > 20, what="plaintext traffic")

    with pytest.raises(ClientError) as e:  # ElastiCache: preferred first
        ec.modify_replication_group(ReplicationGroupId="web", TransitEncryptionEnabled=True,
                                    TransitEncryptionMode="required", ApplyImmediately=True)
    assert code_of(e) == "InvalidParameterCombination"
    g = ec.modify_replication_group(ReplicationGroupId="web", TransitEncryptionEnabled=True,
                                    TransitEncryptionMode="preferred", ApplyImmediately=True)["ReplicationGroup"]
    assert g["Status"] == "modifying"
    assert g["PendingModifiedValues"] == {"TransitEncryptionEnabled": True, "TransitEncryptionMode": "preferred"}
    g = wait_available(ec, "web")
    assert g["TransitEncryptionEnabled"] is True and g["TransitEncryptionMode"] == "preferred"
    assert g["NodeGroups"][0]["PrimaryEndpoint"] == ep  # the port never changes

    ca = tmp_path / "ca.pem"
    ca.write_bytes(urllib.request.urlopen(c.url + "/ca.pem").read())
    assert open(os.path.join(c.dir, "ca.pem"), "rb").read() == ca.read_bytes()
    mk_tls = lambda: redis.Redis(host=host, port=port, ssl=True, ssl_ca_certs=str(ca),  # noqa: E731
                                 ssl_cert_reqs="required", socket_timeout=5)
    tls = Worker(mk_tls, "tls")
    tls.start()
    wait_until(lambda: tls.ok > 20, what="TLS traffic")
    n = plain.ok
    wait_until(lambda: plain.ok > n + 20, what="plaintext still served in preferred")
    plain.finish()
    assert plain.failed == 0, plain.errors[:3]

    g = ec.modify_replication_group(ReplicationGroupId="web", TransitEncryptionEnabled=True,
                                    TransitEncryptionMode="required", ApplyImmediately=True)["ReplicationGroup"]
    assert g["Status"] == "modifying"
    g = wait_available(ec, "web")
    assert g["TransitEncryptionMode"] == "required"
    assert_plaintext_refused(host, port)
    n = tls.ok
    wait_until(lambda: tls.ok > n + 20, what="TLS traffic in required")
    with pytest.raises(ClientError) as e:  # back to none only through preferred
        ec.modify_replication_group(ReplicationGroupId="web", TransitEncryptionEnabled=False, ApplyImmediately=True)
    assert code_of(e) == "InvalidParameterCombination"
    tls.finish()
    assert tls.failed == 0, tls.errors[:3]
    assert node_pids(c.dir)["web-001"] == pid  # migrated online, never restarted
    cc = ec.describe_cache_clusters(CacheClusterId="web-001")["CacheClusters"][0]
    assert cc["TransitEncryptionEnabled"] is True and cc["TransitEncryptionMode"] == "required"

    # and back: required -> preferred -> none
    ec.modify_replication_group(ReplicationGroupId="web", TransitEncryptionEnabled=True,
                                TransitEncryptionMode="preferred", ApplyImmediately=True)
    wait_available(ec, "web")
    assert redis.Redis(host=host, port=port).ping()
    ec.modify_replication_group(ReplicationGroupId="web", TransitEncryptionEnabled=False, ApplyImmediately=True)
    g = wait_available(ec, "web")
    assert g["TransitEncryptionEnabled"] is False and "TransitEncryptionMode" not in g
    assert redis.Redis(host=host, port=port).get("plain:1") == b"1"
    ec.delete_replication_group(ReplicationGroupId="web")
    ec.get_waiter("replication_group_deleted").wait(ReplicationGroupId="web", WaiterConfig={"Delay": 1})


def test_create_with_tls_required(cachetd, tmp_path):
    c = cachetd()
    ec = c.client()
    g = ec.create_replication_group(ReplicationGroupId="sec", ReplicationGroupDescription="s",
                                    TransitEncryptionEnabled=True)["ReplicationGroup"]
    g = wait_available(ec, "sec")
    assert g["TransitEncryptionEnabled"] is True and g["TransitEncryptionMode"] == "required"
    ep = g["NodeGroups"][0]["PrimaryEndpoint"]
    ca = tmp_path / "ca.pem"
    ca.write_bytes(urllib.request.urlopen(c.url + "/ca.pem").read())
    r = redis.Redis(host=ep["Address"], port=ep["Port"], ssl=True, ssl_ca_certs=str(ca), ssl_cert_reqs="required")
    assert r.set("a", "1") and r.get("a") == b"1"
    assert_plaintext_refused(ep["Address"], ep["Port"])


def test_errors(cachetd):
    c = cachetd()
    ec = c.client()
    for bad in ("1abc", "a--b", "abc-", "a_b", "a" * 41, ""):
        with pytest.raises(ClientError) as e:
            ec.create_replication_group(ReplicationGroupId=bad, ReplicationGroupDescription="x")
        assert code_of(e) == "InvalidParameterValue", bad
    cases = [
        (dict(NumCacheClusters=7), "InvalidParameterValue"),
        (dict(NumCacheClusters=0), "InvalidParameterValue"),
        (dict(Port=70000), "InvalidParameterValue"),
        (dict(Engine="memcached"), "InvalidParameterValue"),
        (dict(AutomaticFailoverEnabled=True, NumCacheClusters=1), "InvalidParameterCombination"),
        (dict(MultiAZEnabled=True), "InvalidParameterCombination"),
        (dict(TransitEncryptionMode="preferred"), "InvalidParameterCombination"),
        (dict(NumCacheClusters=2, ReplicasPerNodeGroup=1), "InvalidParameterCombination"),
    ]
    for kw, code in cases:
        with pytest.raises(ClientError) as e:
            ec.create_replication_group(ReplicationGroupId="g", ReplicationGroupDescription="x", **kw)
        assert code_of(e) == code, kw
    assert ec.describe_replication_groups()["ReplicationGroups"] == []  # nothing was created
    with pytest.raises(ClientError) as e:
        ec.describe_replication_groups(MaxRecords=5)
    assert code_of(e) == "InvalidParameterValue"

    g1 = ec.create_replication_group(ReplicationGroupId="dup", ReplicationGroupDescription="x")["ReplicationGroup"]
    # a retried create (same parameters) returns the group, never a second one
    g2 = ec.create_replication_group(ReplicationGroupId="dup", ReplicationGroupDescription="x")["ReplicationGroup"]
    assert g1["ReplicationGroupId"] == g2["ReplicationGroupId"] == "dup"
    with pytest.raises(ClientError) as e:
        ec.create_replication_group(ReplicationGroupId="dup", ReplicationGroupDescription="other")
    assert code_of(e) == "ReplicationGroupAlreadyExists"
    wait_available(ec, "dup")
    assert list(node_pids(c.dir)) == ["dup-001"]
    assert len(ec.describe_cache_clusters()["CacheClusters"]) == 1

    for call in (lambda: ec.describe_replication_groups(ReplicationGroupId="nope"),
                 lambda: ec.delete_replication_group(ReplicationGroupId="nope"),
                 lambda: ec.modify_replication_group(ReplicationGroupId="nope", ApplyImmediately=True)):
        with pytest.raises(ClientError) as e:
            call()
        assert code_of(e) == "ReplicationGroupNotFoundFault"
        assert e.value.response["ResponseMetadata"]["HTTPStatusCode"] == 404

    with pytest.raises(ClientError) as e:
        ec.modify_replication_group(ReplicationGroupId="dup", TransitEncryptionEnabled=True,
                                    TransitEncryptionMode="preferred")  # without ApplyImmediately
    assert code_of(e) == "InvalidParameterCombination"
    with pytest.raises(ClientError) as e:
        ec.modify_replication_group(ReplicationGroupId="dup", TransitEncryptionEnabled=False,
                                    TransitEncryptionMode="preferred", ApplyImmediately=True)
    assert code_of(e) == "InvalidParameterCombination"

    # modify while modifying: a stopped node holds the group in modifying
    pid = node_pids(c.dir)["dup-001"]
    os.kill(pid, signal.SIGSTOP)
    try:
        ec.modify_replication_group(ReplicationGroupId="dup", TransitEncryptionEnabled=True,
                                    TransitEncryptionMode="preferred", ApplyImmediately=True)
        for call in (lambda: ec.modify_replication_group(ReplicationGroupId="dup", TransitEncryptionEnabled=True,
                                                         TransitEncryptionMode="preferred", ApplyImmediately=True),
                     lambda: ec.delete_replication_group(ReplicationGroupId="dup")):
            with pytest.raises(ClientError) as e:
                call()
            assert code_of(e) == "InvalidReplicationGroupState"
        # the API does not wait behind the reconciler's 2 s timeout on the stuck node
        end = time.monotonic() + 3  # longer than one stuck call
        while time.monotonic() < end:
            t = time.monotonic()
            assert ec.describe_replication_groups(ReplicationGroupId="dup")["ReplicationGroups"][0]["Status"] == \
                "modifying"
            assert time.monotonic() - t < 1.0
    finally:
        os.kill(pid, signal.SIGCONT)
    assert wait_available(ec, "dup")["TransitEncryptionMode"] == "preferred"


def raw_post(c, body, headers):
    req = urllib.request.Request(c.url + "/", data=body.encode(), headers=headers, method="POST")
    try:
        with urllib.request.urlopen(req) as r:
            return r.status, r.read().decode()
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode()


def test_signatures_and_protocol_errors(cachetd):
    c = cachetd()
    with pytest.raises(ClientError) as e:
        c.client(secret="x" * 40).describe_replication_groups()
    assert code_of(e) == "SignatureDoesNotMatch"
    assert e.value.response["ResponseMetadata"]["HTTPStatusCode"] == 403
    with pytest.raises(ClientError) as e:
        c.client(akid="AKIAUNKNOWNUNKNOWN00").describe_replication_groups()
    assert code_of(e) == "InvalidClientTokenId"
    form = {"Content-Type": "application/x-www-form-urlencoded"}
    status, body = raw_post(c, "Action=DescribeReplicationGroups&Version=2015-02-02", form)
    assert status == 403 and "<Code>MissingAuthenticationToken</Code>" in body
    assert "<ErrorResponse" in body and "<Type>Sender</Type>" in body and "<RequestId>" in body
    status, body = raw_post(c, "Action=DescribeReplicationGroups&Version=2015-02-02",
                            dict(form, Authorization="AWS4-HMAC-SHA256 Credential=x"))
    assert status == 403 and "<Code>IncompleteSignature</Code>" in body

    relaxed = cachetd(["--insecure-any-signature"])
    ec = relaxed.client(akid="anything", secret="anything")
    assert ec.describe_replication_groups()["ReplicationGroups"] == []
    status, body = raw_post(relaxed, "Action=NoSuchThing&Version=2015-02-02", form)
    assert status == 400 and "<Code>InvalidAction</Code>" in body
    status, body = raw_post(relaxed, "Action=DescribeReplicationGroups&Version=2015-02-02&X=%zz", form)
    assert status == 400 and "<Code>MalformedQueryString</Code>" in body
    status, body = raw_post(relaxed, "Action=CreateReplicationGroup&Version=2015-02-02", form)
    assert status == 400 and "<Code>MissingParameter</Code>" in body
    status, body = raw_post(relaxed, "Version=2015-02-02&A=" + "x" * (1024 * 1024 + 10), form)
    assert status == 413
    assert relaxed.client().describe_replication_groups()["ReplicationGroups"] == []
    mode = os.stat(os.path.join(c.dir, "credentials")).st_mode & 0o777
    assert mode == 0o600 and os.stat(os.path.join(c.dir, "ca-1.key")).st_mode & 0o777 == 0o600


def skew_clock(monkeypatch, minutes):
    """botocore signs as if the client's clock were `minutes` off."""
    import datetime
    import types

    import botocore.auth

    class Skewed(datetime.datetime):
        @classmethod
        def utcnow(cls):
            return datetime.datetime.utcnow() + datetime.timedelta(minutes=minutes)

    fake = types.SimpleNamespace(**{k: getattr(datetime, k) for k in dir(datetime) if not k.startswith("__")})
    fake.datetime = Skewed
    monkeypatch.setattr(botocore.auth, "datetime", fake)
    try:  # with awscrt installed botocore signs through the CRT signer
        import botocore.crt.auth
        monkeypatch.setattr(botocore.crt.auth, "datetime", fake)
    except ImportError:
        pass
    if hasattr(botocore.auth, "get_current_datetime"):  # newer botocore
        monkeypatch.setattr(botocore.auth, "get_current_datetime", Skewed.utcnow)


@pytest.mark.parametrize("minutes,text", [(-16, "Signature expired: "), (16, "Signature not yet current: ")])
def test_signature_replay_window(cachetd, monkeypatch, minutes, text):
    """X-Amz-Date more than 15 minutes from cachetd's clock: refused as AWS
    does (403 SignatureDoesNotMatch, its wording), and nothing is created."""
    c = cachetd()
    ec = c.client()
    skew_clock(monkeypatch, minutes)
    with pytest.raises(ClientError) as e:
        ec.create_replication_group(ReplicationGroupId="late", ReplicationGroupDescription="x")
    assert code_of(e) == "SignatureDoesNotMatch"
    assert e.value.response["ResponseMetadata"]["HTTPStatusCode"] == 403
    msg = e.value.response["Error"]["Message"]
    assert msg.startswith(text) and msg.endswith(" 15 min.)"), msg
    skew_clock(monkeypatch, -14 if minutes < 0 else 14)  # inside the window: accepted
    assert ec.describe_replication_groups()["ReplicationGroups"] == []
    monkeypatch.undo()
    assert ec.describe_replication_groups()["ReplicationGroups"] == []
    assert node_pids(c.dir) == {}
    # the relaxed mode checks no signature, so no date either
    relaxed = cachetd(["--insecure-any-signature"])
    skew_clock(monkeypatch, minutes * 10)
    assert relaxed.client(akid="a", secret="b").describe_replication_groups()["ReplicationGroups"] == []


def test_second_cachetd_on_the_same_directory_is_refused(cachetd):
    """The store is opened in exclusive locking mode: a second cachetd on a
    data directory in use exits at once, saying why, and changes nothing."""
    c = cachetd()
    ec = c.client()
    ec.create_replication_group(ReplicationGroupId="one", ReplicationGroupDescription="x")
    wait_available(ec, "one")
    pids = node_pids(c.dir)
    out = subprocess.run([CACHETD_BIN, "--data-dir", c.dir, "--listen", f"127.0.0.1:{free_port()}",
                          "--server-bin", SERVER_BIN], capture_output=True, text=True, timeout=30)
    assert out.returncode == 1 and "another cachetd uses this data directory" in out.stderr, out
    assert node_pids(c.dir) == pids
    assert [g["ReplicationGroupId"] for g in ec.describe_replication_groups()["ReplicationGroups"]] == ["one"]


def test_sigkill_restart_adopts_nodes(cachetd):
    c = cachetd()
    ec = c.client()
    ec.create_replication_group(ReplicationGroupId="keep", ReplicationGroupDescription="k")
    ec.create_replication_group(ReplicationGroupId="dies", ReplicationGroupDescription="d")
    ep = wait_available(ec, "keep")["NodeGroups"][0]["PrimaryEndpoint"]
    dies_ep = wait_available(ec, "dies")["NodeGroups"][0]["PrimaryEndpoint"]
    before = node_pids(c.dir)
    w = Worker(lambda: redis.Redis(host=ep["Address"], port=ep["Port"], socket_timeout=5), "w")
    w.start()
    wait_until(lambda: w.ok > 20, what="traffic")

    c.kill(signal.SIGKILL)
    os.kill(before["dies-001"], signal.SIGKILL)  # a node dies while nobody supervises
    wait_until(lambda: "dies-001" not in node_pids(c.dir), what="node dead")
    c.start()
    ec = c.client()
    after = wait_until(lambda: (lambda p: p if len(p) == 2 else None)(node_pids(c.dir)), what="nodes back")
    assert after["keep-001"] == before["keep-001"]  # adopted, not restarted
    assert after["dies-001"] != before["dies-001"]  # restarted, same port
    assert redis.Redis(host=dies_ep["Address"], port=dies_ep["Port"]).ping()
    n = w.ok
    wait_until(lambda: w.ok > n + 20, what="traffic after restart")
    w.finish()
    assert w.failed == 0, w.errors[:3]
    assert wait_available(ec, "keep")["Status"] == "available"

    # killed mid-migration: the restarted cachetd finishes it
    pid = after["keep-001"]
    os.kill(pid, signal.SIGSTOP)
    try:
        ec.modify_replication_group(ReplicationGroupId="keep", TransitEncryptionEnabled=True,
                                    TransitEncryptionMode="preferred", ApplyImmediately=True)
        c.kill(signal.SIGKILL)
    finally:
        os.kill(pid, signal.SIGCONT)
    c.start()
    ec = c.client()
    g = wait_available(ec, "keep")
    assert g["TransitEncryptionMode"] == "preferred" and node_pids(c.dir)["keep-001"] == pid

    # killed mid-delete: the restarted cachetd finishes it, no orphan
    os.kill(pid, signal.SIGSTOP)
    ec.delete_replication_group(ReplicationGroupId="keep")
    c.kill(signal.SIGKILL)
    os.kill(pid, signal.SIGCONT)
    c.start()
    ec = c.client()
    ec.get_waiter("replication_group_deleted").wait(ReplicationGroupId="keep", WaiterConfig={"Delay": 1})
    wait_until(lambda: not os.path.exists(f"/proc/{pid}") or "Z" in open(f"/proc/{pid}/stat").read().split()[2],
               what="deleted node gone")
    assert list(node_pids(c.dir)) == ["dies-001"]


def test_supervision_restarts_a_dead_node(cachetd):
    c = cachetd()
    ec = c.client()
    ec.create_replication_group(ReplicationGroupId="sup", ReplicationGroupDescription="s")
    ep = wait_available(ec, "sup")["NodeGroups"][0]["PrimaryEndpoint"]
    pid = node_pids(c.dir)["sup-001"]
    os.kill(pid, signal.SIGKILL)
    wait_until(lambda: node_pids(c.dir).get("sup-001") not in (None, pid), what="node restarted")
    wait_until(lambda: redis.Redis(host=ep["Address"], port=ep["Port"]).ping(), what="node answers")
    msgs = [x["Message"] for x in ec.describe_events(SourceIdentifier="sup-001")["Events"]]
    assert "Cache node sup-001 restarted" in msgs


def test_describe_events_pagination(cachetd):
    c = cachetd()
    ec = c.client()
    ec.create_replication_group(ReplicationGroupId="pg", ReplicationGroupDescription="p")
    wait_available(ec, "pg")
    for mode in ("preferred", None) * 4:  # 3 events per step: started, node, done
        if mode:
            ec.modify_replication_group(ReplicationGroupId="pg", TransitEncryptionEnabled=True,
                                        TransitEncryptionMode=mode, ApplyImmediately=True)
        else:
            ec.modify_replication_group(ReplicationGroupId="pg", TransitEncryptionEnabled=False,
                                        ApplyImmediately=True)
        wait_available(ec, "pg")
    first = ec.describe_events(MaxRecords=20)
    assert len(first["Events"]) == 20 and first["Marker"]
    rest = ec.describe_events(MaxRecords=20, Marker=first["Marker"])
    assert len(rest["Events"]) == 26 - 20 and "Marker" not in rest
    every = first["Events"] + rest["Events"]
    assert [e["Date"] for e in every] == sorted(e["Date"] for e in every)
    assert len({(e["Date"], e["Message"]) for e in every}) == 26
    paged = [e for p in ec.get_paginator("describe_events").paginate(PaginationConfig={"PageSize": 20})
             for e in p["Events"]]
    assert paged == every


AWS_CLI = "/usr/bin/aws"


def aws_cli_run(c, *args):
    """`aws elasticache ARGS` against cachetd c with its credentials."""
    env = dict(os.environ, AWS_SHARED_CREDENTIALS_FILE=os.path.join(c.dir, "credentials"),
               AWS_DEFAULT_REGION="us-east-1", AWS_CONFIG_FILE="/dev/null")
    return subprocess.run([AWS_CLI, "elasticache", *args, "--endpoint-url", c.url, "--output", "json"],
                          env=env, capture_output=True, text=True, timeout=60)


def aws_cli(c, *args):
    """The same, which must succeed: its JSON output."""
    out = aws_cli_run(c, *args)
    assert out.returncode == 0, out.stderr
    return json.loads(out.stdout) if out.stdout.strip() else None


@pytest.mark.skipif(not os.path.exists(AWS_CLI), reason="Debian's awscli is not installed")
def test_aws_cli_walkthrough(cachetd):
    """The docs' AWS CLI walk-through, shortened: create, migrate to preferred, delete."""
    c = cachetd()

    def aws(*args):
        return aws_cli(c, *args)

    def status():
        return aws("describe-replication-groups", "--replication-group-id", "cli")["ReplicationGroups"][0]["Status"]

    g = aws("create-replication-group", "--replication-group-id", "cli", "--replication-group-description", "c",
            "--num-cache-clusters", "1")["ReplicationGroup"]
    assert g["Status"] == "creating"
    wait_until(lambda: status() == "available", timeout=30, interval=0.3, what="available")
    g = aws("modify-replication-group", "--replication-group-id", "cli", "--transit-encryption-enabled",
            "--transit-encryption-mode", "preferred", "--apply-immediately")["ReplicationGroup"]
    assert g["Status"] == "modifying"
    wait_until(lambda: status() == "available", timeout=30, interval=0.3, what="migrated")
    g = aws("describe-replication-groups", "--replication-group-id", "cli")["ReplicationGroups"][0]
    assert g["TransitEncryptionMode"] == "preferred"
    assert aws("delete-replication-group", "--replication-group-id", "cli")["ReplicationGroup"]["Status"] == "deleting"

    def gone():
        out = aws_cli_run(c, "describe-replication-groups", "--replication-group-id", "cli")
        return out.returncode != 0 and "ReplicationGroupNotFoundFault" in out.stderr

    wait_until(gone, timeout=30, interval=0.3, what="deleted")
