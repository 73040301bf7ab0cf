"""cachetd's certificate authority (docs/control-plane.md, "CA rotation"):
rotation with an overlap window under load from TLS clients holding the
bundle, SIGKILL of cachetd mid-rotation, live renewal of node certificates
with a short validity, the API over HTTPS with boto3 and the AWS CLI, and
every refused request (nothing changed after it).

Every process is stopped by PID even on failure (the `cachetd` fixture of
test_cachetd.py).
"""
import calendar
import os
import re
import signal
import socket
import ssl
import subprocess
import threading
import time
import urllib.error
import urllib.request
import xml.etree.ElementTree as ET

import pytest
import redis

from conftest import wait_until
from test_cachetd import (AWS_CLI, CACHETD_BIN, SERVER_BIN, Worker, aws_cli, cachetd,  # noqa: F401 - a fixture
                          node_pids, wait_available)
from test_cachetd_workflow import node_infos, replica_links

from botocore.auth import SigV4Auth  # noqa: E402
from botocore.awsrequest import AWSRequest  # noqa: E402
from botocore.credentials import Credentials  # noqa: E402

PEM_RE = re.compile(rb"-----BEGIN CERTIFICATE-----.*?-----END CERTIFICATE-----\n", re.S)
NS = "{http://elasticache.amazonaws.com/doc/2015-02-02/}"


def url_context(c):
    return ssl.create_default_context(cafile=c.ca) if c.https else None


def ca_call(c, action, signed=True):
    """A CA action as a SigV4-signed Query request (botocore's signer; the
    action is cachetd's own, outside botocore's model): (HTTP status,
    {result field: text} or {"Code": ..., "Message": ...})."""
    body = f"Action={action}&Version=2015-02-02"
    headers = {"Content-Type": "application/x-www-form-urlencoded; charset=utf-8"}
    if signed:
        req = AWSRequest(method="POST", url=c.url + "/", data=body, headers=headers)
        SigV4Auth(Credentials(c.akid, c.secret), "elasticache", "us-east-1").add_auth(req)
        headers = {k: v for k, v in req.headers.items()}
    r = urllib.request.Request(c.url + "/", data=body.encode(), headers=headers, method="POST")
    try:
        with urllib.request.urlopen(r, context=url_context(c), timeout=10) as resp:
            status, text = resp.status, resp.read()
    except urllib.error.HTTPError as e:
        status, text = e.code, e.read()
    root = ET.fromstring(text)
    err = root.find(f"{NS}Error")
    if err is not None:
        return status, {k: err.find(f"{NS}{k}").text for k in ("Code", "Message")}
    res = root.find(f"{NS}{action}Result")
    return status, {e.tag[len(NS):]: e.text for e in res}


def ca_state(c):
    status, r = ca_call(c, "DescribeCertificateAuthority")
    assert status == 200, r
    return r


def settled(c):
    """Every node holds the current bundle and a certificate of the active CA."""
    s = ca_state(c)
    return s["NodesPendingBundle"] == "0" and s["NodesPendingCertificate"] == "0" and s


def bundle(c):
    """GET /ca.pem, checked equal to the data directory's ca.pem."""
    served = urllib.request.urlopen(c.url + "/ca.pem", context=url_context(c), timeout=5).read()
    assert open(os.path.join(c.dir, "ca.pem"), "rb").read() == served
    return PEM_RE.findall(served)


def write(path, certs):
    path.write_bytes(b"".join(certs))
    return str(path)


def peer_cert_der(port, ca):
    """The certificate 127.0.0.1:port presents (verified against ca)."""
    ctx = ssl.create_default_context(cafile=ca)
    with socket.create_connection(("127.0.0.1", port), timeout=5) as s:
        with ctx.wrap_socket(s, server_hostname="127.0.0.1") as t:
            return t.getpeercert(binary_form=True)


class Reconnecting(Worker):
    """A TLS client on the primary that reconnects (a new handshake) every
    10 operations, so it meets every certificate the node presents; counts
    failed operations (test_cachetd's Worker reconnects only on a failure)."""

    def __init__(self, port, ca):
        super().__init__(lambda: redis.Redis(host="127.0.0.1", port=port, ssl=True, ssl_ca_certs=ca,
                                             ssl_cert_reqs="required", socket_timeout=5), "k")

    def run(self):
        i = 0
        while not self.halt.is_set():
            r = self.make_client()
            for _ in range(10):
                r = self.step(r, i)
                i += 1
            r.close()

    def more(self, n=30):
        target = self.ok + n
        wait_until(lambda: self.ok >= target, timeout=30, what="client operations")

    def finish(self):
        super().finish()
        assert self.failed == 0, (self.failed, self.errors[:3])


def tls_group(c, gid, n=2):
    """A group created with in-transit encryption required (a primary and
    n-1 replicas, links over TLS): (group, primary port)."""
    ec = c.client()
    ec.create_replication_group(ReplicationGroupId=gid, ReplicationGroupDescription=gid, NumCacheClusters=n,
                                TransitEncryptionEnabled=True)
    g = wait_available(ec, gid)
    assert g["TransitEncryptionMode"] == "required"
    return g, g["NodeGroups"][0]["PrimaryEndpoint"]["Port"]


def full_syncs(ec, gid, ca):
    return {k: i["sync_full"] for k, i in node_infos(ec, gid, ca).items() if i["role"] == "master"}


def test_rotation_under_load(cachetd, tmp_path):
    c = cachetd()
    ec = c.client()
    g, port = tls_group(c, "rot")
    old = bundle(c)
    assert len(old) == 1
    old_ca = write(tmp_path / "old.pem", old)
    assert ca_state(c) == {"Status": "stable", "ActiveCertificateAuthority": "1",
                           "ActiveCertificateAuthorityValidTill": ca_state(c)["ActiveCertificateAuthorityValidTill"],
                           "NodesPendingBundle": "0", "NodesPendingCertificate": "0"}
    assert replica_links(ec, "rot", old_ca) == {"rot-002": "up"}
    syncs = full_syncs(ec, "rot", old_ca)
    pids = node_pids(c.dir)
    # a client already connected before the rotation keeps its connection
    steady = redis.Redis(host="127.0.0.1", port=port, ssl=True, ssl_ca_certs=old_ca, ssl_cert_reqs="required")
    steady.set("steady", "1")

    status, r = ca_call(c, "RotateCertificateAuthority")
    assert status == 200 and r["Status"] == "rotating", r
    assert (r["ActiveCertificateAuthority"], r["OldCertificateAuthority"]) == ("2", "1")
    both = bundle(c)
    assert len(both) == 2 and both[0] == old[0]  # old first, then the new one
    ca = write(tmp_path / "both.pem", both)
    new_only = write(tmp_path / "new.pem", both[1:])
    worker = Reconnecting(port, ca)
    worker.start()
    worker.more()
    wait_until(lambda: settled(c), timeout=20, what="every node re-issued under CA 2")
    worker.more()
    # every node now presents a certificate of the new CA
    for m in g["NodeGroups"][0]["NodeGroupMembers"]:
        peer_cert_der(m["ReadEndpoint"]["Port"], new_only)
    with pytest.raises(ssl.SSLError):
        peer_cert_der(port, old_ca)
    assert steady.get("steady") == b"1"
    assert replica_links(ec, "rot", ca) == {"rot-002": "up"}
    assert full_syncs(ec, "rot", ca) == syncs  # the link reconnected with PSYNC, never a full resync
    assert node_pids(c.dir) == pids  # no node restarted
    assert len(bundle(c)) == 2

    status, r = ca_call(c, "CompleteCertificateAuthorityRotation")
    assert status == 200 and r["ActiveCertificateAuthority"] == "2" and "OldCertificateAuthority" not in r, r
    assert bundle(c) == both[1:]
    wait_until(lambda: ca_state(c)["Status"] == "stable" and settled(c), what="old CA dropped from the nodes")
    worker.more()
    worker.finish()
    assert steady.get("steady") == b"1"
    assert replica_links(ec, "rot", ca) == {"rot-002": "up"}
    assert full_syncs(ec, "rot", ca) == syncs
    assert node_pids(c.dir) == pids
    assert not os.path.exists(os.path.join(c.dir, "ca-1.key"))
    events = [e["Message"] for e in ec.describe_events(SourceType="cache-cluster", Duration=60)["Events"]]
    assert "Cache node rot-001 trusts CA bundle 1+2" in events
    assert "Cache node rot-001 has a new certificate of CA 2" in events
    assert "Cache node rot-002 trusts CA bundle 2" in events


def test_refused_requests_change_nothing(cachetd, tmp_path):
    c = cachetd()
    tls_group(c, "ref", n=1)
    before = (bundle(c), ca_state(c))
    status, r = ca_call(c, "CompleteCertificateAuthorityRotation")
    assert (status, r["Code"], r["Message"]) == (400, "InvalidCertificateAuthorityState",
                                                 "No CA rotation is in progress.")
    status, r = ca_call(c, "RotateCertificateAuthority", signed=False)
    assert (status, r["Code"]) == (403, "MissingAuthenticationToken")
    assert (bundle(c), ca_state(c)) == before

    assert ca_call(c, "RotateCertificateAuthority")[0] == 200
    during = bundle(c)
    assert len(during) == 2
    status, r = ca_call(c, "RotateCertificateAuthority")
    assert (status, r["Code"]) == (400, "InvalidCertificateAuthorityState")
    assert r["Message"] == "A CA rotation is already in progress (CA 1 to 2); complete it first."
    assert bundle(c) == during and ca_state(c)["ActiveCertificateAuthority"] == "2"
    assert sorted(f for f in os.listdir(c.dir) if f.startswith("ca-")) == ["ca-1.crt", "ca-1.key", "ca-2.crt",
                                                                           "ca-2.key"]
    wait_until(lambda: settled(c), what="rotation applied")
    # a node that does not answer cannot take the bundle: the next rotation
    # cannot finish while it has not, nor can a finish start another
    nid, pid = next(iter(node_pids(c.dir).items()))
    assert ca_call(c, "CompleteCertificateAuthorityRotation")[0] == 200
    wait_until(lambda: ca_state(c)["Status"] == "stable", what="finish applied")
    os.kill(pid, signal.SIGSTOP)
    try:
        assert ca_call(c, "RotateCertificateAuthority")[0] == 200
        during = bundle(c)
        status, r = ca_call(c, "CompleteCertificateAuthorityRotation")
        assert (status, r["Code"]) == (400, "InvalidCertificateAuthorityState")
        assert r["Message"] == ("The CA rotation is not done yet: 1 node(s) lack the new bundle, 1 node(s) a "
                                "certificate of CA 3.")
        assert bundle(c) == during and ca_state(c)["Status"] == "rotating"
    finally:
        os.kill(pid, signal.SIGCONT)
    wait_until(lambda: settled(c), timeout=20, what="the node took the rotation")
    os.kill(pid, signal.SIGSTOP)
    try:
        assert ca_call(c, "CompleteCertificateAuthorityRotation")[0] == 200
        status, r = ca_call(c, "RotateCertificateAuthority")
        assert (status, r["Code"]) == (400, "InvalidCertificateAuthorityState")
        assert r["Message"] == "The previous CA change is still being applied: 1 node(s) lack the current bundle."
        assert ca_state(c)["Status"] == "finishing" and len(bundle(c)) == 1
    finally:
        os.kill(pid, signal.SIGCONT)
    wait_until(lambda: ca_state(c)["Status"] == "stable", timeout=20, what="node took the bundle")
    assert node_pids(c.dir) == {nid: pid}


def test_sigkill_mid_rotation_resumes(cachetd, tmp_path):
    c = cachetd()
    ec = c.client()
    g, port = tls_group(c, "kil")
    pids = node_pids(c.dir)
    old = bundle(c)
    syncs = full_syncs(ec, "kil", write(tmp_path / "old.pem", old))
    assert ca_call(c, "RotateCertificateAuthority")[0] == 200
    both = bundle(c)
    ca = write(tmp_path / "both.pem", both)
    worker = Reconnecting(port, ca)
    worker.start()
    c.kill()  # within the reconciler's first steps of the rotation
    worker.more()
    c.start()
    s = ca_state(c)
    assert (s["Status"], s["ActiveCertificateAuthority"], s["OldCertificateAuthority"]) == ("rotating", "2", "1")
    assert bundle(c) == both
    wait_until(lambda: settled(c), timeout=20, what="rotation resumed")
    # killed at random points of the finish, several times
    assert ca_call(c, "CompleteCertificateAuthorityRotation")[0] == 200
    for delay in (0, 0.005, 0.02):
        time.sleep(delay)  # where the kill lands; correctness is polled below
        c.kill()
        c.start()
        worker.more(10)
    wait_until(lambda: ca_state(c)["Status"] == "stable" and settled(c), timeout=20, what="finish resumed")
    assert bundle(c) == both[1:]
    worker.more()
    worker.finish()
    assert node_pids(c.dir) == pids
    ec = c.client()  # the restarted cachetd listens on another port
    assert replica_links(ec, "kil", ca) == {"kil-002": "up"}
    assert full_syncs(ec, "kil", ca) == syncs
    for m in g["NodeGroups"][0]["NodeGroupMembers"]:
        peer_cert_der(m["ReadEndpoint"]["Port"], write(tmp_path / "new.pem", both[1:]))


def test_renewal_with_short_validity_and_https(cachetd, tmp_path):
    """--cert-seconds 12: node and API certificates are replaced after 8 s
    (two thirds of their validity), live: 0 failed operations, no node
    restarted, the API keeps answering over HTTPS."""
    c = cachetd(["--cert-seconds", "12", "--https"])
    ec = c.client()
    g, port = tls_group(c, "ren")
    pids = node_pids(c.dir)
    ca = c.ca
    syncs = full_syncs(ec, "ren", ca)
    first = peer_cert_der(port, ca)
    api_first = peer_cert_der(c.port, ca)
    worker = Reconnecting(port, ca)
    worker.start()
    wait_until(lambda: peer_cert_der(port, ca) != first, timeout=20, what="node certificate renewed")
    wait_until(lambda: peer_cert_der(c.port, ca) != api_first, timeout=20, what="API certificate renewed")
    worker.more()
    assert ec.describe_replication_groups(ReplicationGroupId="ren")["ReplicationGroups"][0]["Status"] == "available"
    worker.finish()
    assert node_pids(c.dir) == pids
    assert replica_links(ec, "ren", ca) == {"ren-002": "up"}
    assert full_syncs(ec, "ren", ca) == syncs
    info = redis.Redis(host="127.0.0.1", port=port, ssl=True, ssl_ca_certs=ca, ssl_cert_reqs="required").info("ssl")
    assert 0 < info["tls_server_cert_expires_in_seconds"] <= 12


def test_https_api_with_boto3_and_rotation(cachetd, tmp_path):
    c = cachetd(["--https"])
    ec = c.client()
    ec.create_replication_group(ReplicationGroupId="web", ReplicationGroupDescription="w", NumCacheClusters=1)
    assert wait_available(ec, "web")["Status"] == "available"
    # the certificate names 127.0.0.1 and localhost; plain HTTP is not served
    peer_cert_der(c.port, c.ca)
    with pytest.raises(Exception):
        urllib.request.urlopen(f"http://127.0.0.1:{c.port}/ca.pem", timeout=5).read()
    localhost = ssl.create_default_context(cafile=c.ca)
    assert urllib.request.urlopen(f"https://localhost:{c.port}/ca.pem", context=localhost, timeout=5).read()
    # a rotation: the API keeps its certificate of the old CA (which either
    # bundle accepts) until the finish, then takes one of the new CA
    old = write(tmp_path / "old.pem", bundle(c))
    api_old = peer_cert_der(c.port, old)
    assert ca_call(c, "RotateCertificateAuthority")[0] == 200
    wait_until(lambda: settled(c), what="rotation applied")
    assert peer_cert_der(c.port, old) == api_old
    assert ca_call(c, "CompleteCertificateAuthorityRotation")[0] == 200
    new = write(tmp_path / "new.pem", bundle(c))
    wait_until(lambda: peer_cert_der(c.port, new), timeout=10, what="API certificate of the new CA")
    assert c.client().describe_replication_groups(ReplicationGroupId="web")["ReplicationGroups"][0]["Status"] == \
        "available"
    ec.delete_replication_group(ReplicationGroupId="web")
    ec.get_waiter("replication_group_deleted").wait(ReplicationGroupId="web",
                                                    WaiterConfig={"Delay": 1, "MaxAttempts": 30})


@pytest.mark.skipif(not os.path.exists(AWS_CLI), reason="Debian's awscli is not installed")
def test_https_api_with_aws_cli(cachetd):
    c = cachetd(["--https"])
    out = aws_cli(c, "describe-replication-groups", "--ca-bundle", c.ca)
    assert out == {"ReplicationGroups": []}
    out = aws_cli(c, "describe-cache-subnet-groups", "--ca-bundle", c.ca)
    assert [g["CacheSubnetGroupName"] for g in out["CacheSubnetGroups"]] == ["default"]


@pytest.mark.parametrize("value", ["0", "9", "x", "-5", "3153600001"])
def test_bad_cert_seconds_refused(tmp_path, value):
    p = subprocess.run([CACHETD_BIN, "--data-dir", str(tmp_path / "d"), "--listen", "127.0.0.1:1",
                        "--server-bin", SERVER_BIN, "--cert-seconds", value], capture_output=True, text=True,
                       timeout=10)
    assert p.returncode == 1 and f"--cert-seconds wants 10 to 3153600000, got {value}" in p.stderr
    assert not os.path.exists(tmp_path / "d")


def test_data_directory_of_an_older_cachetd_is_taken_over(cachetd, tmp_path):
    """ca.key/ca.pem of a cachetd before rotation become generation 1: the
    bundle clients hold keeps working and the next rotation starts from it."""
    d = tmp_path / "d0" / "cachetd-data"
    d.mkdir(mode=0o700)
    subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
                    "-keyout", str(d / "ca.key"), "-out", str(d / "ca.pem"), "-days", "30", "-subj", "/CN=old CA",
                    "-addext", "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=critical,keyCertSign"],
                   check=True, capture_output=True)
    legacy = (d / "ca.pem").read_bytes()
    c = cachetd()
    assert bundle(c) == PEM_RE.findall(legacy)
    assert not os.path.exists(d / "ca.key") and os.stat(d / "ca-1.key").st_mode & 0o777 == 0o600
    g, port = tls_group(c, "leg", n=1)
    peer_cert_der(port, write(tmp_path / "legacy.pem", PEM_RE.findall(legacy)))
    assert ca_call(c, "RotateCertificateAuthority")[0] == 200
    assert bundle(c)[0] == PEM_RE.findall(legacy)[0]


def test_plaintext_group_does_not_hold_a_rotation_and_later_gets_the_new_ca(cachetd, tmp_path):
    """Nodes without TLS in use are not waited for; a group moved back to
    TLS after a rotation gets certificates of the new CA, not the ones of
    the old CA still on its disk from an earlier TLS period."""
    c = cachetd()
    ec = c.client()
    ec.create_replication_group(ReplicationGroupId="pln", ReplicationGroupDescription="p", NumCacheClusters=2)
    g = wait_available(ec, "pln")
    for enabled, mode in ((True, "preferred"), (False, None)):
        ec.modify_replication_group(ReplicationGroupId="pln", TransitEncryptionEnabled=enabled, ApplyImmediately=True,
                                    **({"TransitEncryptionMode": mode} if mode else {}))
        wait_available(ec, "pln")
    assert os.path.exists(os.path.join(c.dir, "nodes", "pln-001", "node.crt"))
    tls_group(c, "sec", n=1)
    assert ca_call(c, "RotateCertificateAuthority")[0] == 200
    wait_until(lambda: settled(c), what="rotation applied to the TLS group")
    assert ca_call(c, "CompleteCertificateAuthorityRotation")[0] == 200
    wait_until(lambda: ca_state(c)["Status"] == "stable", what="finish applied")
    new_only = write(tmp_path / "new.pem", bundle(c))
    ec.modify_replication_group(ReplicationGroupId="pln", TransitEncryptionEnabled=True,
                                TransitEncryptionMode="preferred", ApplyImmediately=True)
    wait_available(ec, "pln")
    for m in g["NodeGroups"][0]["NodeGroupMembers"]:
        peer_cert_der(m["ReadEndpoint"]["Port"], new_only)
    assert replica_links(ec, "pln", new_only) == {"pln-002": "up"}
    assert settled(c)["Status"] == "stable"


def rotate_ca(c, *args):
    """`cachetd rotate-ca ARGS --data-dir DIR`: (exit code, {field: value}, stderr)."""
    p = subprocess.run([CACHETD_BIN, "rotate-ca", *args, "--data-dir", c.dir], capture_output=True, text=True,
                       timeout=30)
    return p.returncode, dict(line.split(" ", 1) for line in p.stdout.splitlines()), p.stderr


@pytest.mark.parametrize("https", [False, True])
def test_rotate_ca_command(cachetd, tmp_path, https):
    c = cachetd(["--https"] if https else [])
    assert open(os.path.join(c.dir, "endpoint")).read() == c.url + "\n"
    _, port = tls_group(c, "cli", n=1)
    rc, out, err = rotate_ca(c, "--finish")
    assert (rc, out, err) == (1, {}, "cachetd: InvalidCertificateAuthorityState: No CA rotation is in progress.\n")
    rc, out, _ = rotate_ca(c)
    assert rc == 0 and (out["Status"], out["ActiveCertificateAuthority"], out["OldCertificateAuthority"]) == \
        ("rotating", "2", "1")
    before = bundle(c)
    rc, _, err = rotate_ca(c)
    assert rc == 1 and "A CA rotation is already in progress (CA 1 to 2); complete it first." in err
    assert bundle(c) == before
    wait_until(lambda: rotate_ca(c, "--status")[1]["NodesPendingCertificate"] == "0", what="nodes re-issued")
    rc, out, _ = rotate_ca(c, "--finish")
    assert rc == 0 and out["ActiveCertificateAuthority"] == "2" and "OldCertificateAuthority" not in out
    wait_until(lambda: rotate_ca(c, "--status")[1]["Status"] == "stable", what="finish applied")
    peer_cert_der(port, write(tmp_path / "new.pem", bundle(c)))
    rc, _, err = rotate_ca(c, "--bogus")
    assert rc == 2 and "unknown or incomplete option --bogus" in err
    c.kill()
    rc, _, err = rotate_ca(c, "--status")
    assert rc == 1 and "is cachetd running?" in err
    c.start()  # the fixture wants a clean exit on SIGTERM
    assert rotate_ca(c, "--status")[1]["Status"] == "stable"


def key_kind(cert):
    """("rsa", bits) or ("ec", curve name) of a certificate's public key."""
    from cryptography import x509
    from cryptography.hazmat.primitives.asymmetric import ec, rsa
    c = x509.load_der_x509_certificate(cert) if not cert.startswith(b"-----") else x509.load_pem_x509_certificate(cert)
    k = c.public_key()
    if isinstance(k, rsa.RSAPublicKey):
        return ("rsa", k.key_size)
    assert isinstance(k, ec.EllipticCurvePublicKey)
    return ("ec", k.curve.name)


def test_key_type_rsa_on_request(cachetd, tmp_path):
    """ECDSA P-256 by default; --key-type rsa makes the CA, the node and the
    API certificates RSA 2048, which TLS clients verify against /ca.pem, and a
    rotation's new CA is RSA too."""
    d = cachetd()
    assert [key_kind(p) for p in bundle(d)] == [("ec", "secp256r1")]
    c = cachetd(["--key-type", "rsa", "--https"])
    assert [key_kind(p) for p in bundle(c)] == [("rsa", 2048)]
    g, port = tls_group(c, "rsa")
    assert key_kind(peer_cert_der(port, c.ca)) == ("rsa", 2048)
    assert key_kind(peer_cert_der(c.port, c.ca)) == ("rsa", 2048)
    r = redis.Redis(host="127.0.0.1", port=port, ssl=True, ssl_ca_certs=c.ca, ssl_cert_reqs="required")
    assert r.set("k", "v") and r.get("k") == b"v"
    assert ca_call(c, "RotateCertificateAuthority")[0] == 200
    assert [key_kind(p) for p in bundle(c)] == [("rsa", 2048), ("rsa", 2048)]
    wait_until(lambda: settled(c), what="rotation applied")
    new = write(tmp_path / "new.pem", bundle(c)[1:])
    assert key_kind(peer_cert_der(port, new)) == ("rsa", 2048)


@pytest.mark.parametrize("value", ["dsa", "RSA", ""])
def test_bad_key_type_refused(tmp_path, value):
    p = subprocess.run([CACHETD_BIN, "--data-dir", str(tmp_path / "d"), "--listen", "127.0.0.1:1",
                        "--server-bin", SERVER_BIN, "--key-type", value], capture_output=True, text=True, timeout=10)
    assert p.returncode == 1 and f"--key-type wants ecdsa or rsa, got {value}" in p.stderr
    assert not os.path.exists(tmp_path / "d")


def issuer_gen(der):
    """The CA generation that signed a certificate ("cachetd CA N")."""
    from cryptography import x509
    cn = x509.load_der_x509_certificate(der).issuer.get_attributes_for_oid(x509.NameOID.COMMON_NAME)[0].value
    return int(cn.rsplit(" ", 1)[1])


def presented(port, timeout=2):
    """(CA generation, notBefore, notAfter as Unix seconds) of the certificate
    127.0.0.1:port presents, unverified: a certificate of a CA the caller
    does not trust, or expired, is still read."""
    from cryptography import x509
    ctx = ssl.create_default_context()
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as s:
        with ctx.wrap_socket(s, server_hostname="127.0.0.1") as t:
            der = t.getpeercert(binary_form=True)
    c = x509.load_der_x509_certificate(der)  # naive UTC datetimes
    return issuer_gen(der), calendar.timegm(c.not_valid_before.utctimetuple()), \
        calendar.timegm(c.not_valid_after.utctimetuple())


def hold_config_set(port, hold, tls_ca=None):
    """Makes the node refuse (hold) or accept again cachetd's CONFIG SET (an
    ACL rule on its admin user, set by the default user): the node answers
    but cannot take a bundle or a certificate, so its group stays at the
    bundle step of a rotation."""
    kw = dict(ssl=True, ssl_ca_certs=tls_ca, ssl_cert_reqs="required") if tls_ca else {}
    r = redis.Redis(host="127.0.0.1", port=port, socket_timeout=5, **kw)
    r.execute_command("ACL", "SETUSER", "cachetd-admin", "-config|set" if hold else "+config|set")
    r.close()


def member_ports(g):
    """{member cluster id: port} of a group's first shard."""
    return {m["CacheClusterId"]: m["ReadEndpoint"]["Port"] for m in g["NodeGroups"][0]["NodeGroupMembers"]}


def node_events(ec):
    return [e["Message"] for e in ec.describe_events(SourceType="cache-cluster", Duration=60,
                                                     MaxRecords=100)["Events"]]


def test_migration_during_rotation_issues_new_ca_only_once_the_group_trusts_it(cachetd, tmp_path):
    """A TLS migration (preferred -> required) started together with a
    rotation, while the primary cannot take the bundle yet: the replica the
    migration moves keeps a certificate of the old CA (with the bundle) and
    no node ever presents one of the new CA while a node of the group lacks
    the bundle; once the primary takes it, every node gets the new CA and the
    migration ends with the group available, its link up, no client
    operation failed."""
    c = cachetd()
    ec = c.client()
    ec.create_replication_group(ReplicationGroupId="mig", ReplicationGroupDescription="m", NumCacheClusters=2,
                                TransitEncryptionEnabled=True, TransitEncryptionMode="preferred")
    g = wait_available(ec, "mig")
    assert g["TransitEncryptionMode"] == "preferred"
    ports = member_ports(g)
    primary, replica = ports["mig-001"], ports["mig-002"]
    assert {p: presented(p)[0] for p in ports.values()} == {primary: 1, replica: 1}
    violations, samples = [], []
    halt = threading.Event()
    watcher = worker = None
    hold_config_set(primary, True)  # preferred: plaintext still accepted
    try:
        assert ca_call(c, "RotateCertificateAuthority")[0] == 200
        ec.modify_replication_group(ReplicationGroupId="mig", TransitEncryptionEnabled=True,
                                    TransitEncryptionMode="required", ApplyImmediately=True)
        ca = write(tmp_path / "both.pem", bundle(c))
        worker = Reconnecting(primary, ca)
        worker.start()

        def watch():
            # the certificate first, then the bundle count: the count only
            # falls during a rotation, so a new-CA certificate seen with a
            # count still above 0 afterwards was presented while a node
            # lacked the bundle
            while not halt.is_set():
                for port in (primary, replica):
                    try:
                        gen = presented(port)[0]
                    except OSError:
                        continue
                    lacking = int(ca_state(c)["NodesPendingBundle"])
                    samples.append((port, gen, lacking))
                    if gen == 2 and lacking:
                        violations.append((port, gen, lacking))

        watcher = threading.Thread(target=watch, daemon=True)
        watcher.start()
        wait_until(lambda: "Cache node mig-002 now in tls-mode required" in node_events(ec), timeout=20,
                   what="the replica migrated to required")
        n = len(samples)
        wait_until(lambda: len(samples) >= n + 4, what="the watcher sampled the migrated replica")
        s = ca_state(c)
        assert (s["Status"], s["NodesPendingBundle"]) == ("rotating", "1"), s
        assert presented(replica)[0] == 1  # the old CA's: the primary does not trust CA 2 yet
        assert not violations, violations[:3]
    finally:
        hold_config_set(primary, False)
    try:
        assert wait_available(ec, "mig")["TransitEncryptionMode"] == "required"
        wait_until(lambda: settled(c), timeout=20, what="every node re-issued under CA 2")
        n = len(samples)
        wait_until(lambda: len(samples) >= n + 4, what="the watcher sampled the settled group")
    finally:
        halt.set()
        if watcher:
            watcher.join(10)
    assert not violations, violations[:3]
    assert {p: presented(p)[0] for p in (primary, replica)} == {primary: 2, replica: 2}
    assert replica_links(ec, "mig", ca) == {"mig-002": "up"}
    worker.more()
    worker.finish()


def test_node_restarted_at_the_bundle_step_gets_an_old_ca_certificate(cachetd, tmp_path):
    """A node killed (SIGKILL) while its group is at the bundle step of a
    rotation, its certificate due (--cert-seconds 15: two thirds gone), is
    restarted with a new certificate of the OLD CA: its primary does not
    trust the new one yet. Once the primary takes the bundle both get
    certificates of the new CA and the link is up."""
    c = cachetd(["--cert-seconds", "15"])
    ec = c.client()
    g, primary = tls_group(c, "rst")
    replica = member_ports(g)["rst-002"]
    old = write(tmp_path / "old.pem", bundle(c))
    # neither node can take the bundle nor a renewal: the replica's
    # certificate stays the one it was created with until it is due
    hold_config_set(primary, True, old)
    hold_config_set(replica, True, old)
    try:
        assert ca_call(c, "RotateCertificateAuthority")[0] == 200
        gen, not_before, not_after = presented(replica)
        assert gen == 1
        issued = not_before + 300  # cachetd backdates notBefore 300 s
        due = issued + (not_after - issued) * 2 / 3
        wait_until(lambda: time.time() > due + 0.5, timeout=20, what="the replica's certificate due")
        assert int(ca_state(c)["NodesPendingBundle"]) == 2
        pid = node_pids(c.dir)["rst-002"]
        os.kill(pid, signal.SIGKILL)
        wait_until(lambda: node_pids(c.dir).get("rst-002", pid) != pid, timeout=20, what="the replica restarted")

        def restarted_cert():
            try:
                return presented(replica)
            except OSError:
                return None

        gen, not_before, _ = wait_until(restarted_cert, timeout=20, what="the restarted replica serving TLS")
        assert gen == 1, "a certificate of the new CA while the primary lacks the bundle"
        assert not_before + 300 >= int(due)  # a new one (the old one was due), of the old CA
        peer_cert_der(replica, old)  # valid for a client holding only the old CA
        s = ca_state(c)
        assert (s["Status"], s["NodesPendingBundle"]) == ("rotating", "1"), s  # the primary still lacks it
    finally:
        hold_config_set(primary, False, old)
    wait_until(lambda: settled(c), timeout=30, what="every node re-issued under CA 2")
    ca = write(tmp_path / "both.pem", bundle(c))
    assert {p: presented(p)[0] for p in (primary, replica)} == {primary: 2, replica: 2}
    wait_until(lambda: replica_links(ec, "rst", ca) == {"rst-002": "up"}, timeout=20, what="replication link up")
    assert ec.describe_replication_groups(ReplicationGroupId="rst")["ReplicationGroups"][0]["Status"] == "available"


def api_fds(pid, port):
    """cachetd's open descriptors, and whether one is a TCP socket other than
    the API's listening one (a connection still open)."""
    fds = os.listdir(f"/proc/{pid}/fd")
    inodes = set()
    for fd in fds:
        try:
            link = os.readlink(f"/proc/{pid}/fd/{fd}")
        except OSError:
            continue
        if link.startswith("socket:["):
            inodes.add(link[8:-1])
    listening = set()
    for line in open("/proc/net/tcp").read().splitlines()[1:]:
        f = line.split()
        if f[3] == "0A" and int(f[1].split(":")[1], 16) == port:
            listening.add(f[9])
    return len(fds), bool(inodes - listening)


def test_https_restart_failure_keeps_the_api_serving(cachetd):
    """--https --cert-seconds 12: the API's certificate is due after 8 s.
    With cachetd one descriptor short of what a new MHD daemon needs
    (RLIMIT_NOFILE lowered: its epoll and ITC descriptors), the new daemon
    cannot start: the API keeps answering over HTTPS with its current
    certificate, the failure is logged and retried; once descriptors are
    available again the new certificate is served."""
    import resource
    c = cachetd(["--cert-seconds", "12", "--https"])
    pid = c.proc.pid
    first = peer_cert_der(c.port, c.ca)
    wait_until(lambda: not api_fds(pid, c.port)[1], what="no API connection left open")
    soft, hard = resource.prlimit(pid, resource.RLIMIT_NOFILE)
    used = api_fds(pid, c.port)[0]
    resource.prlimit(pid, resource.RLIMIT_NOFILE, (used + 1, hard))
    failure = "HTTPS certificate: can't start the API with the new certificate"
    try:
        wait_until(lambda: failure in open(c.log_path).read(), timeout=20, what="the new daemon failing to start")
        # a request after the failure, and after a retry of it
        assert ca_state(c)["Status"] == "stable"
        assert peer_cert_der(c.port, c.ca) == first
        wait_until(lambda: open(c.log_path).read().count(failure) >= 2, timeout=20, what="the start retried")
        for _ in range(3):
            assert ca_state(c)["Status"] == "stable"
        assert peer_cert_der(c.port, c.ca) == first
    finally:
        resource.prlimit(pid, resource.RLIMIT_NOFILE, (soft, hard))
    wait_until(lambda: peer_cert_der(c.port, c.ca) != first, timeout=20, what="the new certificate served")
    assert ca_state(c)["Status"] == "stable"
    assert "HTTPS certificate of CA 1 loaded" in open(c.log_path).read()
