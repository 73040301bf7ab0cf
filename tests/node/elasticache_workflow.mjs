// The JavaScript SDK (@aws-sdk/client-elasticache, pinned in
// package-lock.json) against cachetd: a short version of the online TLS
// migration workflow, with node-redis on the primary endpoint. Prints one
// JSON object for tests/integration/test_cachetd_js.py. Credentials come the
// SDK's own way, from AWS_SHARED_CREDENTIALS_FILE (cachetd's DIR/credentials).
//   node elasticache_workflow.mjs '{"endpoint": "http://127.0.0.1:PORT", "id": "js-web"}'
import {
  CreateReplicationGroupCommand, DeleteReplicationGroupCommand, DescribeReplicationGroupsCommand,
  ElastiCacheClient, ElastiCacheServiceException, ModifyReplicationGroupCommand, ReplicationGroupNotFoundFault,
  waitUntilReplicationGroupAvailable, waitUntilReplicationGroupDeleted,
} from '@aws-sdk/client-elasticache';
import { createClient } from 'redis';

const cfg = JSON.parse(process.argv[2]);
const id = cfg.id;
// maxAttempts 1: a 5xx or a throttle must show, not be retried away.
const ec = new ElastiCacheClient({ endpoint: cfg.endpoint, region: 'us-east-1', maxAttempts: 1 });
const waitOpts = { client: ec, maxWaitTime: 60, minDelay: 1, maxDelay: 1 };
const out = {};
const pick = (g) => ({
  ReplicationGroupId: g.ReplicationGroupId, Status: g.Status, ClusterEnabled: g.ClusterEnabled,
  TransitEncryptionEnabled: g.TransitEncryptionEnabled, TransitEncryptionMode: g.TransitEncryptionMode ?? null,
  MemberClusters: g.MemberClusters, ARN: g.ARN, PendingModifiedValues: g.PendingModifiedValues ?? null,
  PrimaryEndpoint: g.NodeGroups?.[0]?.PrimaryEndpoint ?? null,
  Roles: (g.NodeGroups?.[0]?.NodeGroupMembers ?? []).map((m) => m.CurrentRole),
});
const describe = async () => (await ec.send(new DescribeReplicationGroupsCommand({ ReplicationGroupId: id })))
  .ReplicationGroups;
const errorOf = async (promise) => {
  try {
    await promise;
    return null;
  } catch (e) {
    return {
      name: e.name, typed: e instanceof ElastiCacheServiceException, fault: e.$fault,
      status: e.$metadata?.httpStatusCode, message: e.message,
      notFoundClass: e instanceof ReplicationGroupNotFoundFault,
    };
  }
};

const created = await ec.send(new CreateReplicationGroupCommand({
  ReplicationGroupId: id, ReplicationGroupDescription: 'JavaScript SDK workflow', Engine: 'redis',
  EngineVersion: '7.0', CacheNodeType: 'cache.t4g.small', NumCacheClusters: 1, TransitEncryptionEnabled: false,
}));
out.created = pick(created.ReplicationGroup);
out.waitCreated = (await waitUntilReplicationGroupAvailable(waitOpts, { ReplicationGroupId: id })).state;
const [available] = await describe();
out.available = pick(available);

// node-redis writes in plaintext before the migration.
const ep = available.NodeGroups[0].PrimaryEndpoint;
const plain = createClient({ socket: { host: ep.Address, port: ep.Port, family: 4, reconnectStrategy: false } });
plain.on('error', () => {});
await plain.connect();
out.plainSet = await plain.set('js:before', 'plaintext');

// ElastiCache's rule: required only from preferred.
out.requiredFirst = await errorOf(ec.send(new ModifyReplicationGroupCommand({
  ReplicationGroupId: id, TransitEncryptionEnabled: true, TransitEncryptionMode: 'required', ApplyImmediately: true,
})));
const modified = await ec.send(new ModifyReplicationGroupCommand({
  ReplicationGroupId: id, TransitEncryptionEnabled: true, TransitEncryptionMode: 'preferred', ApplyImmediately: true,
}));
out.modified = pick(modified.ReplicationGroup);
out.waitModified = (await waitUntilReplicationGroupAvailable(waitOpts, { ReplicationGroupId: id })).state;
const [preferred] = await describe();
out.preferred = pick(preferred);

// preferred: the plaintext client still works, a TLS client trusting
// cachetd's CA (GET /ca.pem) reads what it wrote, on the same port.
out.plainGet = await plain.get('js:before');
await plain.quit();
const ca = await (await fetch(`${cfg.endpoint}/ca.pem`)).text();
const tls = createClient({
  socket: { host: ep.Address, port: ep.Port, family: 4, tls: true, ca, reconnectStrategy: false },
});
tls.on('error', () => {});
await tls.connect();
out.tlsGet = await tls.get('js:before');
out.tlsClientInfo = (await tls.sendCommand(['CLIENT', 'INFO'])).includes(' tls=yes');
await tls.quit();

out.notFound = await errorOf(describeMissing());
async function describeMissing() {
  return ec.send(new DescribeReplicationGroupsCommand({ ReplicationGroupId: `${id}-missing` }));
}
out.modifyMissing = await errorOf(ec.send(new ModifyReplicationGroupCommand({
  ReplicationGroupId: `${id}-missing`, TransitEncryptionEnabled: true, TransitEncryptionMode: 'preferred',
  ApplyImmediately: true,
})));
out.createAgain = await errorOf(ec.send(new CreateReplicationGroupCommand({
  ReplicationGroupId: id, ReplicationGroupDescription: 'again', NumCacheClusters: 1,
})));

const deleted = await ec.send(new DeleteReplicationGroupCommand({ ReplicationGroupId: id }));
out.deleted = pick(deleted.ReplicationGroup);
out.waitDeleted = (await waitUntilReplicationGroupDeleted(waitOpts, { ReplicationGroupId: id })).state;
out.afterDelete = await errorOf(describe());
out.groupsLeft = (await ec.send(new DescribeReplicationGroupsCommand({}))).ReplicationGroups.length;
console.log(JSON.stringify(out));
