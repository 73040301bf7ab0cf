// node-redis (v4) createCluster against a Cachet cluster: writes across
// every slot range, reads them back, a MULTI in one slot; then, each time
// the test has changed the cluster and says so on stdin, reads again: keys
// of a slot in migration (ASK followed), then of a slot moved to another
// node (MOVED followed, the map rediscovered). Prints one JSON line per phase
// for tests/integration/test_node_clients.py.
//   node cluster_client.mjs '{"host": "127.0.0.1", "ports": [...], "ca": "...", "keys": 300,
//                            "watchSlot": 1234,
//                            "watchKeys": [...], "askKeys": [...]}'
import { readFileSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { createCluster } from 'redis';

const cfg = JSON.parse(process.argv[2]);
// family 4: the nodes listen on 127.0.0.1 only, and "localhost" (the TLS
// cluster's announced hostname) may resolve to ::1 first.
const tls = cfg.ca ? { tls: true, ca: readFileSync(cfg.ca) } : {};
const cluster = createCluster({
  rootNodes: cfg.ports.map((port) => ({ socket: { host: cfg.host, port, family: 4, ...tls } })),
  defaults: { socket: { family: 4, connectTimeout: 5000, ...tls } },
});
cluster.on('error', () => {});
await cluster.connect();

const emit = (o) => console.log(JSON.stringify(o));
const keys = Array.from({ length: cfg.keys }, (_, i) => `js:${i}`);
const shards = () => cluster.masters.map((m) => `${m.host}:${m.port}`).sort();
const ownerOf = (slot) => { const m = cluster.slots[slot].master; return `${m.host}:${m.port}`; };

const first = { shards: shards(), watchOwner: ownerOf(cfg.watchSlot) };
first.set = (await Promise.all(keys.map((k, i) => cluster.set(k, String(i))))).filter((r) => r === 'OK').length;
const got = await Promise.all(keys.map((k) => cluster.get(k)));
first.readBack = got.filter((v, i) => v === String(i)).length;
first.hset = await cluster.hSet('{js}:h', { a: '1', b: '2' });
first.hgetall = await cluster.hGetAll('{js}:h');
first.multi = await cluster.multi().set('{js}:m', '1').incr('{js}:m').get('{js}:m').exec();
first.mget = await cluster.mGet(['{js}:m', '{js}:none']);
try {
  await cluster.sendCommand(undefined, true, ['MGET', 'js:1', 'js:2']);
  first.crossSlot = null;
} catch (e) {
  first.crossSlot = e.message;
}
first.askSet = (await Promise.all(cfg.askKeys.map((k) => cluster.set(k, k)))).filter((r) => r === 'OK').length;
emit(first);

// The test says on stdin (one line each time) when it has changed the cluster.
const lines = createInterface({ input: process.stdin })[Symbol.asyncIterator]();
const next = () => lines.next();

// A slot half migrated: the keys already moved are served at the importing
// node after -ASK (and ASKING), the others at the old owner.
await next();
const ask = {};
ask.values = [];
for (const k of cfg.askKeys) ask.values.push(await cluster.get(k));
emit(ask);

await next();

const second = {};
second.watchKeys = await Promise.all(cfg.watchKeys.map((k) => cluster.get(k)));
second.watchOwner = ownerOf(cfg.watchSlot);
second.setAfter = await cluster.set(cfg.watchKeys[0], 'after-move');
const again = await Promise.all(keys.map((k) => cluster.get(k)));
second.readBack = again.filter((v, i) => v === String(i) || (keys[i] === cfg.watchKeys[0] && v === 'after-move')).length;
emit(second);
await cluster.quit();
process.exit(0);  // stdin stays open
