// node-redis (v4) createClient against one Cachet node: the commands a
// JavaScript application uses, with the replies as node-redis parsed them
// printed as one JSON object for tests/integration/test_node_clients.py.
//   node redis_client.mjs '{"port": 6379, "ca": "/path/ca.crt"}'   (ca: TLS)
import { readFileSync } from 'node:fs';
import { createClient } from 'redis';

const cfg = JSON.parse(process.argv[2]);
const socket = { host: '127.0.0.1', port: cfg.port, connectTimeout: 5000, reconnectStrategy: false };
if (cfg.ca) Object.assign(socket, { tls: true, ca: readFileSync(cfg.ca) });
const client = createClient({ socket });
client.on('error', () => {});  // connect() and each command reject with the error
await client.connect();

const out = {};
out.ping = await client.ping();
out.flushAll = await client.flushAll();
out.set = await client.set('js:str', 'héllo', { EX: 100 });
out.get = await client.get('js:str');
out.ttl = await client.ttl('js:str');
out.missing = await client.get('js:nothing');
out.incr = await client.incrBy('js:n', 41);
out.incrFloat = await client.incrByFloat('js:f', 1.5);
out.hset = await client.hSet('js:h', { a: '1', b: 'two', c: '' });
out.hgetall = await client.hGetAll('js:h');
out.hmget = await client.hmGet('js:h', ['b', 'zz']);
out.rpush = await client.rPush('js:l', ['x', 'y', 'z']);
out.lrange = await client.lRange('js:l', 0, -1);
out.zadd = await client.zAdd('js:z', [{ score: 2.5, value: 'b' }, { score: 1, value: 'a' }]);
out.zrangeWithScores = await client.zRangeWithScores('js:z', 0, -1);
out.sadd = await client.sAdd('js:s', ['m1', 'm2', 'm1']);
out.smembers = (await client.sMembers('js:s')).sort();
out.exists = await client.exists(['js:str', 'js:h', 'js:nothing']);
// Binary values round-trip as Buffers.
const bin = Buffer.from([0, 1, 2, 255, 13, 10]);
await client.set('js:bin', bin);
out.binary = (await client.get(client.commandOptions({ returnBuffers: true }), 'js:bin')).equals(bin);
// An error reply becomes an ErrorReply with the server's text.
try {
  await client.incr('js:str');
  out.incrError = null;
} catch (e) {
  out.incrError = { name: e.constructor.name, message: e.message };
}
// Commands sent in the same tick go out as one pipeline.
out.pipeline = await Promise.all([
  client.set('js:p1', 'a'), client.append('js:p1', 'b'), client.get('js:p1'), client.strLen('js:p1'),
]);
out.execAsPipeline = await client.multi().set('js:p2', '5').incr('js:p2').get('js:p2').execAsPipeline();
// MULTI/EXEC, and WATCH failing it.
out.multi = await client.multi().set('js:m', '1').incr('js:m').hGetAll('js:h').lRange('js:l', 0, 0).exec();
const watcher = client.duplicate();
watcher.on('error', () => {});
await watcher.connect();
await client.executeIsolated(async (iso) => {
  await iso.watch('js:w');
  await watcher.set('js:w', 'other');
  try {
    out.watchedExec = await iso.multi().set('js:w', 'mine').exec();
  } catch (e) {
    out.watchedExec = { name: e.constructor.name };
  }
});
out.watchedValue = await client.get('js:w');
// Pub/sub: a duplicate connection subscribes; messages arrive in order.
const sub = client.duplicate();
sub.on('error', () => {});
await sub.connect();
const messages = [];
let done;
const allIn = new Promise((resolve) => { done = resolve; });
await sub.subscribe('js:chan', (message, channel) => {
  messages.push([channel, message]);
  if (messages.length === 3) done();
});
await sub.pSubscribe('js:pat*', (message, channel) => {
  messages.push([channel, message]);
  if (messages.length === 3) done();
});
out.published = [
  await client.publish('js:chan', 'one'),
  await client.publish('js:pattern', 'two'),
  await client.publish('js:chan', 'three'),
];
await Promise.race([allIn, new Promise((_, reject) => setTimeout(() => reject(new Error('no messages')), 5000))]);
out.messages = messages;
out.numsub = await client.pubSubNumSub('js:chan');
await sub.unsubscribe('js:chan');
await sub.pUnsubscribe('js:pat*');
out.clientInfoTls = (await client.sendCommand(['CLIENT', 'INFO'])).includes(' tls=yes');
out.dbsize = await client.dbSize();
await Promise.all([sub.quit(), watcher.quit()]);
await client.quit();
console.log(JSON.stringify(out));
