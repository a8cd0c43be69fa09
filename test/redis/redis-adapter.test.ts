/**
 * @sockwire/redis-adapter against a real redis-server (test/redis/redis-server.ts): servers with
 * their own adapters (their own Redis connections, as separate processes would have) deliver each
 * other's publish(), broadcast() and sendToUser() once, bytes intact; and the faults: Redis killed
 * and restarted under traffic, unreachable at start, hung (SIGSTOP), a malformed message, an
 * oversized one. Real clients over loopback, port 0.
 */
import { createClient } from 'redis';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  createRedisAdapter,
  encodeEnvelope,
  type RedisAdapter,
  type RedisAdapterOptions,
} from '../../packages/redis-adapter/src/index.ts';
import type { ServerAdapter, WebSocket, WebSocketServer } from '../../src/index.ts';
import { closeQuietly, collectMessages, type Listening, listen, pair } from '../integration/helpers.ts';
import { freePort, RedisServer, SKIP_REDIS } from './redis-server.ts';

let redis: RedisServer;
const servers: WebSocketServer[] = [];
const clients: WebSocket[] = [];
const adapters: RedisAdapter[] = [];

beforeAll(async () => {
  if (!SKIP_REDIS) redis = await RedisServer.start();
});
afterAll(async () => {
  await redis?.dispose();
});
afterEach(async () => {
  await Promise.all(clients.splice(0).map(closeQuietly));
  await Promise.all(servers.splice(0).map((server) => server.close()));
  await Promise.all(adapters.splice(0).map((adapter) => adapter.close()));
});

async function start(options: RedisAdapterOptions = {}): Promise<Listening & { adapter: RedisAdapter }> {
  const adapter = await createRedisAdapter({ url: redis.url, ...options });
  adapters.push(adapter);
  // The adapter is typed by structure, not by importing sockwire: this line checks they agree.
  const contract: ServerAdapter = adapter;
  const listening = await listen({ adapter: contract });
  servers.push(listening.server);
  return { ...listening, adapter };
}

async function join(listening: Listening): Promise<{ client: WebSocket; peer: WebSocket }> {
  const both = await pair(listening);
  clients.push(both.client);
  return both;
}

/** Waits until `test()` holds, checking every 10 ms, for at most `ms`. */
async function until(test: () => boolean, ms = 5000, what = 'the condition'): Promise<void> {
  const deadline = Date.now() + ms;
  while (!test()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

/** Subscribing is asynchronous (a SUBSCRIBE to Redis): waits until Redis counts `count` subscribers. */
async function subscribed(channel: string, count: number): Promise<void> {
  const client = createClient({ url: redis.url });
  await client.connect();
  try {
    const deadline = Date.now() + 5000;
    for (;;) {
      const counts = (await client.pubSubNumSub(channel)) as Record<string, number>;
      if (counts[channel] === count) return;
      if (Date.now() > deadline)
        throw new Error(`${channel} has ${counts[channel]} subscribers, not ${count}`);
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
  } finally {
    await client.close();
  }
}

describe.skipIf(SKIP_REDIS)('@sockwire/redis-adapter against redis-server', () => {
  it('publish(), broadcast() and sendToUser() reach the other server once, text and binary intact', async () => {
    const a = await start();
    const b = await start();
    const onA = await join(a);
    const onB = await join(b);
    onA.peer.subscribe('news');
    onB.peer.subscribe('news');
    a.server.setUser(onA.peer, 'alice');
    b.server.setUser(onB.peer, 'alice');
    await subscribed('sockwire:t:news', 2);
    await subscribed('sockwire:u:alice', 2);
    const gotA = collectMessages(onA.client);
    const gotB = collectMessages(onB.client);

    const binary = Buffer.from([0, 1, 2, 0xff, 0xfe, 0x80]);
    a.server.publish('news', 'héllo 🌍');
    a.server.publish('news', binary);
    a.server.broadcast('to everyone');
    b.server.sendToUser('alice', 'hi alice');
    await until(() => gotA.length === 4 && gotB.length === 4);
    await new Promise((resolve) => setTimeout(resolve, 100)); // nothing more comes (no double delivery)

    // Each server delivers its own calls at once, the other's a broker hop later.
    const seen = (got: typeof gotA) => got.map((m) => [String(m.data), m.isBinary]);
    const fromA = [
      ['héllo 🌍', false],
      [String(binary), true],
      ['to everyone', false],
    ];
    expect(seen(gotA)).toEqual([...fromA, ['hi alice', false]]);
    expect(seen(gotB)).toEqual([['hi alice', false], ...fromA]);
    expect(Buffer.compare(gotB[2]!.data as Buffer, binary)).toBe(0);
    expect(a.adapter.stats).toMatchObject({ published: 3, received: 1, dropped: 0, malformed: 0 });
  });

  it('keeps order per publisher and topic, and stops listening when the last subscriber leaves', async () => {
    const a = await start();
    const b = await start();
    const onB = await join(b);
    onB.peer.subscribe('seq');
    await subscribed('sockwire:t:seq', 1);
    const got = collectMessages(onB.client);
    for (let i = 0; i < 500; i++) a.server.publish('seq', String(i));
    await until(() => got.length === 500);
    expect(got.map((m) => Number(String(m.data)))).toEqual([...Array(500).keys()]);
    onB.peer.unsubscribe('seq');
    await subscribed('sockwire:t:seq', 0);
  });

  it('survives Redis killed and restarted under traffic: local delivery goes on, outage and drops reported', async () => {
    const a = await start();
    const b = await start();
    const local = await join(a);
    const remote = await join(b);
    local.peer.subscribe('live');
    remote.peer.subscribe('live');
    await subscribed('sockwire:t:live', 2);
    const gotLocal = collectMessages(local.client);
    const gotRemote = collectMessages(remote.client);
    const outages: Error[] = [];
    const restored: { dropped: number; durationMs: number }[] = [];
    a.adapter.on('outage', (cause) => outages.push(cause));
    a.adapter.on('restored', (report) => restored.push(report));
    let bRestored = false;
    b.adapter.on('restored', () => {
      bRestored = true;
    });

    let sent = 0;
    let sentWhenBothBack = 0;
    const traffic = setInterval(() => a.server.publish('live', `m${sent++}`), 5);
    try {
      await until(() => gotRemote.length >= 10);
      await redis.stop(); // SIGKILL, as a crash
      await until(() => outages.length === 1, 5000, "'outage'");
      const sentAtOutage = sent;
      await until(() => sent >= sentAtOutage + 20); // traffic while Redis is down
      await redis.restart();
      await until(() => restored.length === 1 && bRestored, 10_000, "'restored' on both");
      sentWhenBothBack = sent;
      await until(() => sent >= sentWhenBothBack + 20);
    } finally {
      clearInterval(traffic);
    }
    await until(() => String(gotRemote.at(-1)?.data) === `m${sent - 1}`, 5000, 'the last message remotely');
    // Local clients got every message, outage or not; the others lost some during the outage only.
    expect(gotLocal.map((m) => String(m.data))).toEqual([...Array(sent).keys()].map((i) => `m${i}`));
    expect(restored[0]!.dropped).toBeGreaterThanOrEqual(20);
    expect(a.adapter.stats.dropped).toBeGreaterThanOrEqual(restored[0]!.dropped);
    expect(gotRemote.length).toBeLessThan(sent);
    const remoteSeq = gotRemote.map((m) => Number(String(m.data).slice(1)));
    expect(remoteSeq).toEqual([...remoteSeq].sort((x, y) => x - y)); // in order, gaps only
    // Once both adapters were back, nothing was lost.
    const after = remoteSeq.filter((n) => n >= sentWhenBothBack);
    expect(after).toEqual([...Array(sent - sentWhenBothBack).keys()].map((i) => i + sentWhenBothBack));
  }, 30_000);

  it('fails to start with a clear error when Redis is unreachable', async () => {
    const port = await freePort(); // nothing listens there
    const url = `redis://user:secret@127.0.0.1:${port}`;
    const error = await createRedisAdapter({ url, connectTimeout: 1000 }).then(
      () => null,
      (e: unknown) => e as Error,
    );
    expect(error).toBeInstanceOf(Error);
    expect(error!.message).toMatch(`cannot reach Redis at redis://user:***@127.0.0.1:${port}`);
    expect(error!.message).not.toMatch('secret');
  });

  it('a hung Redis (SIGSTOP) neither blocks publish() nor grows memory: a bounded queue drops and counts', async () => {
    const a = await start({ maxPendingPublishes: 1000 });
    const overflows: unknown[] = [];
    a.adapter.on('overflow', (report) => overflows.push(report));
    process.kill(redis.pid, 'SIGSTOP');
    try {
      // 20 000 publishes in 20 turns of the event loop: a timer set before runs between them.
      let ticks = 0;
      const ticker = setInterval(() => ticks++, 1);
      for (let turn = 0; turn < 20; turn++) {
        for (let i = 0; i < 1000; i++) a.server.publish('t', 'x'.repeat(100));
        await new Promise((resolve) => setTimeout(resolve, 2));
        expect(a.adapter.stats.pending).toBeLessThanOrEqual(1000);
      }
      clearInterval(ticker);
      expect(ticks).toBeGreaterThan(0);
      expect(a.adapter.stats).toMatchObject({ published: 1000, dropped: 19_000, pending: 1000 });
      expect(overflows).toHaveLength(1);
    } finally {
      process.kill(redis.pid, 'SIGCONT');
    }
    await until(() => a.adapter.stats.pending === 0, 10_000, 'Redis to answer the pending publishes');
  }, 30_000);

  it('ignores a malformed message on its channel, with an event, and goes on', async () => {
    const b = await start();
    const onB = await join(b);
    onB.peer.subscribe('t');
    await subscribed('sockwire:t:t', 1);
    const malformed: { channel: string; reason: string }[] = [];
    b.adapter.on('malformed', (report) => malformed.push(report));
    const got = collectMessages(onB.client);
    const raw = createClient({ url: redis.url });
    await raw.connect();
    try {
      await raw.publish('sockwire:t:t', 'not an envelope');
      await raw.publish('sockwire:t:t', Buffer.from([0x73, 1, 0x7f]));
      // A valid envelope for another topic, on this topic's channel.
      await raw.publish(
        'sockwire:t:t',
        encodeEnvelope(Buffer.alloc(8), 'topic', 'other', false, Buffer.from('x')),
      );
      await raw.publish(
        'sockwire:t:t',
        encodeEnvelope(Buffer.alloc(8), 'topic', 't', false, Buffer.from('fine')),
      );
    } finally {
      await raw.close();
    }
    await until(() => got.length === 1);
    expect(String(got[0]!.data)).toBe('fine');
    expect(malformed.map((m) => m.channel)).toEqual(['sockwire:t:t', 'sockwire:t:t', 'sockwire:t:t']);
    expect(malformed.map((m) => m.reason)).toEqual([
      'not a sockwire envelope (bad magic byte)',
      '3 bytes, shorter than the 13-byte header',
      'a topic message for "other" on another channel',
    ]);
    expect(b.adapter.stats.malformed).toBe(3);
  });

  it('keeps a message over maxMessageSize local, with an event', async () => {
    const a = await start({ maxMessageSize: 1024 });
    const onA = await join(a);
    onA.peer.subscribe('big');
    const oversize: unknown[] = [];
    a.adapter.on('oversize', (report) => oversize.push(report));
    const got = collectMessages(onA.client);
    a.server.publish('big', Buffer.alloc(2000));
    await until(() => got.length === 1);
    expect(oversize).toEqual([{ size: 2016, limit: 1024, kind: 'topic', target: 'big' }]);
    expect(a.adapter.stats).toMatchObject({ published: 0, oversize: 1 });
  });

  it('sharded: SPUBLISH/SSUBSCRIBE (Redis 7) carry the same messages', async () => {
    const a = await start({ sharded: true, prefix: 'app2' });
    const b = await start({ sharded: true, prefix: 'app2' });
    const onB = await join(b);
    onB.peer.subscribe('s');
    const got = collectMessages(onB.client);
    // Sharded subscriptions are not in PUBSUB NUMSUB: publish until one arrives.
    await until(
      () => {
        a.server.publish('s', 'sharded');
        return got.length > 0;
      },
      5000,
      'a sharded message',
    );
    expect(String(got[0]!.data)).toBe('sharded');
  });
});
