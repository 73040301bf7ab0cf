"""cachetd's actions around replication groups (docs/control-plane.md, API
coverage): cache subnet groups, parameter groups, engine versions, tags,
DescribeEvents' StartTime/EndTime. Driven with boto3, plus raw requests where
botocore would be lenient about the bytes. Every error path checks that the
failed request changed nothing.

The cachetd fixture (test_cachetd.py) stops cachetd and every node by PID,
even when a test fails.
"""
import datetime
import os
import urllib.parse

import pytest

from test_cachetd import (AWS_CLI, ClientError, aws_cli, cachetd, code_of,  # noqa: F401 - a fixture
                          raw_post, wait_available)

FORM = {"Content-Type": "application/x-www-form-urlencoded"}


def subnet_groups(ec):
    return {g["CacheSubnetGroupName"]: g for p in ec.get_paginator("describe_cache_subnet_groups").paginate()
            for g in p["CacheSubnetGroups"]}


def err(fn, **kw):
    with pytest.raises(ClientError) as e:
        fn(**kw)
    return code_of(e), e.value.response["ResponseMetadata"]["HTTPStatusCode"]


def account_of(ec):
    g = ec.describe_cache_parameter_groups(CacheParameterGroupName="default.redis7")["CacheParameterGroups"][0]
    return g["ARN"].split(":")[4]


def test_subnet_groups(cachetd):
    c = cachetd()
    ec = c.client()
    assert list(subnet_groups(ec)) == ["default"]
    g = ec.create_cache_subnet_group(CacheSubnetGroupName="Sub-A", CacheSubnetGroupDescription="first",
                                     SubnetIds=["subnet-0a1b2c3d", "subnet-11112222"])["CacheSubnetGroup"]
    assert g["CacheSubnetGroupName"] == "sub-a" and g["CacheSubnetGroupDescription"] == "first"
    assert [s["SubnetIdentifier"] for s in g["Subnets"]] == ["subnet-0a1b2c3d", "subnet-11112222"]
    assert g["ARN"] == f"arn:aws:elasticache:us-east-1:{account_of(ec)}:subnetgroup:sub-a"
    assert ec.describe_cache_subnet_groups(CacheSubnetGroupName="sub-a")["CacheSubnetGroups"] == [g]

    before = subnet_groups(ec)
    bad = [
        (dict(CacheSubnetGroupName="sub-a", CacheSubnetGroupDescription="x", SubnetIds=["subnet-1"]),
         ("CacheSubnetGroupAlreadyExists", 400)),
        (dict(CacheSubnetGroupName="default", CacheSubnetGroupDescription="x", SubnetIds=["subnet-1"]),
         ("CacheSubnetGroupAlreadyExists", 400)),
        (dict(CacheSubnetGroupName="bad_name", CacheSubnetGroupDescription="x", SubnetIds=["subnet-1"]),
         ("InvalidParameterValue", 400)),
        (dict(CacheSubnetGroupName="x" * 256, CacheSubnetGroupDescription="x", SubnetIds=["subnet-1"]),
         ("InvalidParameterValue", 400)),
        (dict(CacheSubnetGroupName="", CacheSubnetGroupDescription="x", SubnetIds=["subnet-1"]),
         ("InvalidParameterValue", 400)),
        (dict(CacheSubnetGroupName="sub-b", CacheSubnetGroupDescription="x", SubnetIds=[]),
         ("MissingParameter", 400)),
        (dict(CacheSubnetGroupName="sub-b", CacheSubnetGroupDescription="x", SubnetIds=["vpc-1"]),
         ("InvalidSubnet", 400)),
        (dict(CacheSubnetGroupName="sub-b", CacheSubnetGroupDescription="x",
              SubnetIds=[f"subnet-{i}" for i in range(21)]), ("CacheSubnetQuotaExceededFault", 400)),
    ]
    for kw, want in bad:
        assert err(ec.create_cache_subnet_group, **kw) == want, kw
    assert err(ec.describe_cache_subnet_groups, CacheSubnetGroupName="nope") == \
        ("CacheSubnetGroupNotFoundFault", 400)
    assert err(ec.delete_cache_subnet_group, CacheSubnetGroupName="nope") == ("CacheSubnetGroupNotFoundFault", 400)
    assert err(ec.delete_cache_subnet_group, CacheSubnetGroupName="default") == ("InvalidParameterValue", 400)
    assert err(ec.modify_cache_subnet_group, CacheSubnetGroupName="nope",
               CacheSubnetGroupDescription="y") == ("CacheSubnetGroupNotFoundFault", 400)
    assert err(ec.modify_cache_subnet_group, CacheSubnetGroupName="sub-a",
               SubnetIds=["nonsense"]) == ("InvalidSubnet", 400)
    assert subnet_groups(ec) == before  # nothing changed

    m = ec.modify_cache_subnet_group(CacheSubnetGroupName="sub-a", CacheSubnetGroupDescription="second",
                                     SubnetIds=["subnet-99"])["CacheSubnetGroup"]
    assert m["CacheSubnetGroupDescription"] == "second" and [s["SubnetIdentifier"] for s in m["Subnets"]] == \
        ["subnet-99"]
    assert subnet_groups(ec)["sub-a"] == m

    # pagination: 25 groups and the default one, 20 a page
    for i in range(24):
        ec.create_cache_subnet_group(CacheSubnetGroupName=f"p{i:02d}", CacheSubnetGroupDescription="p",
                                     SubnetIds=["subnet-1"])
    first = ec.describe_cache_subnet_groups(MaxRecords=20)
    assert len(first["CacheSubnetGroups"]) == 20 and first["Marker"]
    rest = ec.describe_cache_subnet_groups(MaxRecords=20, Marker=first["Marker"])
    assert len(rest["CacheSubnetGroups"]) == 6 and "Marker" not in rest
    names = [g["CacheSubnetGroupName"] for g in first["CacheSubnetGroups"] + rest["CacheSubnetGroups"]]
    assert names == sorted(names) and len(set(names)) == 26
    assert err(ec.describe_cache_subnet_groups, MaxRecords=10) == ("InvalidParameterValue", 400)

    ec.delete_cache_subnet_group(CacheSubnetGroupName="p00")
    assert "p00" not in subnet_groups(ec)
    assert err(ec.delete_cache_subnet_group, CacheSubnetGroupName="p00") == ("CacheSubnetGroupNotFoundFault", 400)

    # kept across a restart (SQLite)
    c.kill()
    c.start()
    ec = c.client()
    assert subnet_groups(ec)["sub-a"] == m and len(subnet_groups(ec)) == 25


def test_subnet_group_in_use(cachetd):
    c = cachetd()
    ec = c.client()
    ec.create_cache_subnet_group(CacheSubnetGroupName="used", CacheSubnetGroupDescription="u",
                                 SubnetIds=["subnet-1"])
    assert err(ec.create_replication_group, ReplicationGroupId="g", ReplicationGroupDescription="x",
               CacheSubnetGroupName="unknown") == ("CacheSubnetGroupNotFoundFault", 400)
    assert ec.describe_replication_groups()["ReplicationGroups"] == []
    ec.create_replication_group(ReplicationGroupId="g", ReplicationGroupDescription="x",
                                CacheSubnetGroupName="Used")
    assert err(ec.delete_cache_subnet_group, CacheSubnetGroupName="used") == ("CacheSubnetGroupInUse", 400)
    assert "used" in subnet_groups(ec)
    wait_available(ec, "g")
    ec.delete_replication_group(ReplicationGroupId="g")
    ec.get_waiter("replication_group_deleted").wait(ReplicationGroupId="g",
                                                    WaiterConfig={"Delay": 1, "MaxAttempts": 60})
    ec.delete_cache_subnet_group(CacheSubnetGroupName="used")
    assert list(subnet_groups(ec)) == ["default"]


def test_parameter_groups_and_engine_versions(cachetd):
    c = cachetd()
    ec = c.client()
    acct = account_of(ec)
    groups = ec.describe_cache_parameter_groups()["CacheParameterGroups"]
    assert [g["CacheParameterGroupName"] for g in groups] == ["default.redis7", "default.redis7.cluster.on"]
    for g in groups:
        assert g["CacheParameterGroupFamily"] == "redis7" and g["IsGlobal"] is False and g["Description"]
        assert g["ARN"] == f"arn:aws:elasticache:us-east-1:{acct}:parametergroup:{g['CacheParameterGroupName']}"
    one = ec.describe_cache_parameter_groups(CacheParameterGroupName="default.redis7.cluster.on")
    assert one["CacheParameterGroups"] == groups[1:]
    assert err(ec.describe_cache_parameter_groups, CacheParameterGroupName="default.redis6.x") == \
        ("CacheParameterGroupNotFound", 404)
    page = ec.describe_cache_parameter_groups(MaxRecords=20, Marker="default.redis7")
    assert page["CacheParameterGroups"] == groups[1:] and "Marker" not in page
    assert err(ec.describe_cache_parameter_groups, MaxRecords=101) == ("InvalidParameterValue", 400)

    v = ec.describe_cache_engine_versions()["CacheEngineVersions"]
    assert v == [{"Engine": "redis", "EngineVersion": "7.0", "CacheParameterGroupFamily": "redis7",
                  "CacheEngineDescription": "Redis", "CacheEngineVersionDescription": "redis version 7.0 (Cachet)"}]
    assert ec.describe_cache_engine_versions(Engine="redis", EngineVersion="7.0",
                                             DefaultOnly=True)["CacheEngineVersions"] == v
    assert ec.describe_cache_engine_versions(CacheParameterGroupFamily="redis7")["CacheEngineVersions"] == v
    assert ec.describe_cache_engine_versions(Engine="memcached")["CacheEngineVersions"] == []
    assert ec.describe_cache_engine_versions(EngineVersion="6.2")["CacheEngineVersions"] == []
    assert ec.describe_cache_engine_versions(Marker="redis:7.0")["CacheEngineVersions"] == []


def test_raw_bytes(cachetd):
    """The XML botocore reads leniently: element names, nesting, namespace, and
    the empty result of DeleteCacheSubnetGroup."""
    c = cachetd(["--insecure-any-signature"])

    def post(**kw):
        return raw_post(c, urllib.parse.urlencode(dict(Version="2015-02-02", **kw)), FORM)

    st, body = post(Action="CreateCacheSubnetGroup", CacheSubnetGroupName="raw",
                    CacheSubnetGroupDescription="a<b", **{"SubnetIds.SubnetIdentifier.1": "subnet-1"})
    assert st == 200
    assert body.startswith('<?xml') or body.startswith("<CreateCacheSubnetGroupResponse")
    assert '<CreateCacheSubnetGroupResponse xmlns="http://elasticache.amazonaws.com/doc/2015-02-02/">' in body
    assert "<CreateCacheSubnetGroupResult>" in body
    assert "<CacheSubnetGroup><CacheSubnetGroupName>raw</CacheSubnetGroupName>" \
           "<CacheSubnetGroupDescription>a&lt;b</CacheSubnetGroupDescription><Subnets><Subnet>" \
           "<SubnetIdentifier>subnet-1</SubnetIdentifier>" in body
    st, body = post(Action="DeleteCacheSubnetGroup", CacheSubnetGroupName="raw")
    assert st == 200 and "<DeleteCacheSubnetGroupResponse" in body and "<RequestId>" in body
    st, body = post(Action="DeleteCacheSubnetGroup", CacheSubnetGroupName="raw")
    assert st == 400 and "<Code>CacheSubnetGroupNotFoundFault</Code>" in body
    assert "<Type>Sender</Type>" in body and "<Message>Cache subnet group raw not found.</Message>" in body
    st, body = post(Action="CreateCacheSubnetGroup", CacheSubnetGroupName="raw2", CacheSubnetGroupDescription="d")
    assert st == 400 and "<Code>MissingParameter</Code>" in body
    st, body = post(Action="CreateCacheSubnetGroup", CacheSubnetGroupName="raw2",
                    **{"SubnetIds.SubnetIdentifier.1": "subnet-1"})
    assert st == 400 and "<Code>MissingParameter</Code>" in body
    st, body = post(Action="DescribeCacheParameterGroups", CacheParameterGroupName="default.redis7")
    assert st == 200 and "<CacheParameterGroups><CacheParameterGroup><CacheParameterGroupName>default.redis7<" in body
    assert "<IsGlobal>false</IsGlobal>" in body
    st, body = post(Action="DescribeCacheEngineVersions", DefaultOnly="maybe")
    assert st == 400 and "<Code>InvalidParameterValue</Code>" in body
    st, body = post(Action="ListTagsForResource", ResourceName="nonsense")
    assert st == 400 and "<Code>InvalidARN</Code>" in body
    st, body = post(Action="ListTagsForResource")
    assert st == 400 and "<Code>MissingParameter</Code>" in body
    st, body = post(Action="DescribeEvents", StartTime="yesterday")
    assert st == 400 and "<Code>InvalidParameterValue</Code>" in body
    st, body = post(Action="DescribeEvents", StartTime="2026-01-01T00:00:00.5Z")
    assert st == 200 and "<Events>" in body


def test_tags(cachetd):
    c = cachetd()
    ec = c.client()
    acct = account_of(ec)
    rg = f"arn:aws:elasticache:us-east-1:{acct}:replicationgroup:tg"
    cl = f"arn:aws:elasticache:us-east-1:{acct}:cluster:tg-001"
    tags = [{"Key": "team", "Value": "cache"}, {"Key": "env", "Value": "test"}]
    ec.create_replication_group(ReplicationGroupId="tg", ReplicationGroupDescription="t", Tags=tags)
    g = wait_available(ec, "tg")
    assert g["ARN"] == rg
    assert ec.list_tags_for_resource(ResourceName=rg)["TagList"] == tags
    clusters = ec.describe_cache_clusters(CacheClusterId="tg-001")["CacheClusters"]
    assert clusters[0]["ARN"] == cl
    assert ec.list_tags_for_resource(ResourceName=cl)["TagList"] == tags  # a group's tags are its clusters'

    out = ec.add_tags_to_resource(ResourceName=rg, Tags=[{"Key": "env", "Value": "prod"}, {"Key": "x", "Value": ""}])
    want = [{"Key": "team", "Value": "cache"}, {"Key": "env", "Value": "prod"}, {"Key": "x", "Value": ""}]
    assert out["TagList"] == want and ec.list_tags_for_resource(ResourceName=rg)["TagList"] == want
    assert ec.list_tags_for_resource(ResourceName=cl)["TagList"] == want
    assert ec.remove_tags_from_resource(ResourceName=rg, TagKeys=["x"])["TagList"] == want[:2]
    assert ec.list_tags_for_resource(ResourceName=cl)["TagList"] == want[:2]

    # up to 50 tags; one more is refused and changes nothing
    many = [{"Key": f"k{i}", "Value": str(i)} for i in range(48)]
    ec.add_tags_to_resource(ResourceName=rg, Tags=many)
    assert len(ec.list_tags_for_resource(ResourceName=rg)["TagList"]) == 50
    assert len(ec.list_tags_for_resource(ResourceName=cl)["TagList"]) == 50
    before = ec.list_tags_for_resource(ResourceName=rg)["TagList"]
    other = f"arn:aws:elasticache:us-west-2:{acct}:replicationgroup:tg"
    errors = [
        (ec.add_tags_to_resource, dict(ResourceName=rg, Tags=[{"Key": "one-more", "Value": "v"}]),
         ("TagQuotaPerResourceExceeded", 400)),
        (ec.add_tags_to_resource, dict(ResourceName=cl, Tags=[{"Key": "one-more", "Value": "v"}]),
         ("TagQuotaPerResourceExceeded", 400)),
        (ec.add_tags_to_resource, dict(ResourceName=rg, Tags=[{"Key": "aws:x", "Value": "v"}]),
         ("InvalidParameterValue", 400)),
        (ec.add_tags_to_resource, dict(ResourceName=rg, Tags=[{"Key": "k" * 129, "Value": "v"}]),
         ("InvalidParameterValue", 400)),
        (ec.add_tags_to_resource, dict(ResourceName=rg, Tags=[{"Key": "k", "Value": "v" * 257}]),
         ("InvalidParameterValue", 400)),
        (ec.add_tags_to_resource, dict(ResourceName="arn:aws:s3:::bucket", Tags=tags), ("InvalidARN", 400)),
        (ec.add_tags_to_resource, dict(ResourceName=rg.replace(":tg", ":nope"), Tags=tags),
         ("ReplicationGroupNotFoundFault", 404)),
        (ec.remove_tags_from_resource, dict(ResourceName=rg, TagKeys=["team", "absent"]), ("TagNotFound", 404)),
        (ec.list_tags_for_resource, dict(ResourceName="tg"), ("InvalidARN", 400)),
        (ec.list_tags_for_resource, dict(ResourceName=f"arn:aws:elasticache:us-east-1:{acct}:user:tg"),
         ("InvalidARN", 400)),
        (ec.list_tags_for_resource, dict(ResourceName=other), ("ReplicationGroupNotFoundFault", 404)),
        (ec.list_tags_for_resource, dict(ResourceName=cl.replace("tg-001", "tg-009")), ("CacheClusterNotFound", 404)),
        (ec.add_tags_to_resource, dict(ResourceName=cl.replace("tg-001", "tg-009"), Tags=tags),
         ("CacheClusterNotFound", 404)),
    ]
    for fn, kw, want_err in errors:
        assert err(fn, **kw) == want_err, kw
    assert ec.list_tags_for_resource(ResourceName=rg)["TagList"] == before  # nothing changed
    assert ec.list_tags_for_resource(ResourceName=cl)["TagList"] == before
    # replacing an existing key is no new tag
    ec.add_tags_to_resource(ResourceName=rg, Tags=[{"Key": "team", "Value": "other"}])
    assert len(ec.list_tags_for_resource(ResourceName=rg)["TagList"]) == 50
    ec.remove_tags_from_resource(ResourceName=rg, TagKeys=[t["Key"] for t in many])
    assert ec.list_tags_for_resource(ResourceName=cl)["TagList"] == [{"Key": "team", "Value": "other"}, want[1]]

    # a cluster's own tags stay its own; removing from the group skips keys a cluster lacks
    ec.add_tags_to_resource(ResourceName=cl, Tags=[{"Key": "k", "Value": "v"}])
    odd = {"Key": "a=b&c%20+ü", "Value": "<x>&\"'"}
    ec.add_tags_to_resource(ResourceName=cl, Tags=[odd])
    assert ec.list_tags_for_resource(ResourceName=cl)["TagList"] == \
        [{"Key": "team", "Value": "other"}, want[1], {"Key": "k", "Value": "v"}, odd]
    assert ec.list_tags_for_resource(ResourceName=rg)["TagList"] == [{"Key": "team", "Value": "other"}, want[1]]
    ec.remove_tags_from_resource(ResourceName=cl, TagKeys=["team"])
    assert ec.remove_tags_from_resource(ResourceName=rg, TagKeys=["team"])["TagList"] == [want[1]]
    assert ec.list_tags_for_resource(ResourceName=cl)["TagList"] == [want[1], {"Key": "k", "Value": "v"}, odd]

    # a create with more than 50 tags, or one of an unknown subnet group, creates nothing
    assert err(ec.create_replication_group, ReplicationGroupId="t2", ReplicationGroupDescription="t",
               Tags=[{"Key": f"k{i}", "Value": "v"} for i in range(51)]) == ("TagQuotaPerResourceExceeded", 400)
    assert [g["ReplicationGroupId"] for g in ec.describe_replication_groups()["ReplicationGroups"]] == ["tg"]

    # subnet groups take tags too
    ec.create_cache_subnet_group(CacheSubnetGroupName="ts", CacheSubnetGroupDescription="t",
                                 SubnetIds=["subnet-1"], Tags=[{"Key": "a", "Value": "b"}])
    sg = f"arn:aws:elasticache:us-east-1:{acct}:subnetgroup:ts"
    assert ec.list_tags_for_resource(ResourceName=sg)["TagList"] == [{"Key": "a", "Value": "b"}]
    assert err(ec.list_tags_for_resource, ResourceName=sg + "x") == ("CacheSubnetGroupNotFoundFault", 400)

    # the tags go with the group
    ec.delete_replication_group(ReplicationGroupId="tg")
    assert err(ec.add_tags_to_resource, ResourceName=rg, Tags=tags)[0] in (
        "InvalidReplicationGroupState", "ReplicationGroupNotFoundFault")
    ec.get_waiter("replication_group_deleted").wait(ReplicationGroupId="tg",
                                                    WaiterConfig={"Delay": 1, "MaxAttempts": 60})
    assert err(ec.list_tags_for_resource, ResourceName=rg) == ("ReplicationGroupNotFoundFault", 404)
    ec.create_replication_group(ReplicationGroupId="tg", ReplicationGroupDescription="again", NumCacheClusters=2)
    cl2 = cl.replace("tg-001", "tg-002")
    assert all(ec.list_tags_for_resource(ResourceName=r)["TagList"] == [] for r in (rg, cl, cl2))
    wait_available(ec, "tg")
    ec.add_tags_to_resource(ResourceName=rg, Tags=[{"Key": "all", "Value": "1"}])
    assert all(ec.list_tags_for_resource(ResourceName=r)["TagList"] == [{"Key": "all", "Value": "1"}]
               for r in (rg, cl, cl2))


def test_describe_events_time_window(cachetd):
    c = cachetd()
    ec = c.client()
    t0 = datetime.datetime.now(datetime.timezone.utc)
    ec.create_replication_group(ReplicationGroupId="ev", ReplicationGroupDescription="e")
    wait_available(ec, "ev")
    every = ec.describe_events()["Events"]
    assert len(every) >= 2
    start = every[0]["Date"]
    last = every[-1]["Date"]
    assert start >= t0 - datetime.timedelta(seconds=1)
    assert ec.describe_events(StartTime=start)["Events"] == every
    assert ec.describe_events(StartTime=start, EndTime=start)["Events"] == every[:1] or \
        all(e["Date"] == start for e in ec.describe_events(StartTime=start, EndTime=start)["Events"])
    after = last + datetime.timedelta(milliseconds=1)
    assert ec.describe_events(StartTime=after)["Events"] == []
    assert ec.describe_events(EndTime=t0 - datetime.timedelta(minutes=1))["Events"] == []
    # EndTime alone: the Duration before it
    assert ec.describe_events(EndTime=last + datetime.timedelta(minutes=30))["Events"] == every
    assert ec.describe_events(EndTime=last + datetime.timedelta(minutes=30), Duration=1)["Events"] == []
    old = t0 - datetime.timedelta(days=2)
    assert ec.describe_events(StartTime=old)["Events"] == every  # StartTime replaces Duration's window
    assert err(ec.describe_events, StartTime=last, EndTime=start - datetime.timedelta(seconds=1)) == \
        ("InvalidParameterCombination", 400)


@pytest.mark.skipif(not os.path.exists(AWS_CLI), reason="Debian's awscli is not installed")
def test_aws_cli(cachetd):
    """The same actions through the AWS CLI (its own parser of the replies);
    a few calls only, each CLI start is seconds on this machine."""
    c = cachetd()
    g = aws_cli(c, "create-cache-subnet-group", "--cache-subnet-group-name", "cli",
                "--cache-subnet-group-description", "d", "--subnet-ids", "subnet-1", "subnet-2")["CacheSubnetGroup"]
    assert [s["SubnetIdentifier"] for s in g["Subnets"]] == ["subnet-1", "subnet-2"]
    names = [x["CacheSubnetGroupName"] for x in aws_cli(c, "describe-cache-subnet-groups")["CacheSubnetGroups"]]
    assert names == ["cli", "default"]
    pg = aws_cli(c, "describe-cache-parameter-groups")["CacheParameterGroups"]
    assert [x["CacheParameterGroupName"] for x in pg] == ["default.redis7", "default.redis7.cluster.on"]
    ev = aws_cli(c, "describe-cache-engine-versions", "--engine", "redis", "--default-only")["CacheEngineVersions"]
    assert [(v["Engine"], v["EngineVersion"]) for v in ev] == [("redis", "7.0")]
    arn = pg[0]["ARN"].replace("parametergroup:default.redis7", "replicationgroup:cg")
    aws_cli(c, "create-replication-group", "--replication-group-id", "cg", "--replication-group-description", "c",
            "--tags", "Key=a,Value=b")
    assert aws_cli(c, "list-tags-for-resource", "--resource-name", arn)["TagList"] == [{"Key": "a", "Value": "b"}]
    assert aws_cli(c, "add-tags-to-resource", "--resource-name", arn, "--tags", "Key=c,Value=d")["TagList"] == \
        [{"Key": "a", "Value": "b"}, {"Key": "c", "Value": "d"}]
    assert aws_cli(c, "describe-events", "--start-time", "2020-01-01T00:00:00Z")["Events"]
    wait_available(c.client(), "cg")
