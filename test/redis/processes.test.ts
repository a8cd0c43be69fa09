/**
 * Across real processes through a real redis-server: two server processes on one host, a node:cluster
 * of four workers on one port, and a process killed with SIGKILL (test/redis/fixtures/node.ts is the
 * server process). Every published message reaches every subscriber wherever it is connected;
 * broadcast and sendToUser cross processes too.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { createClient } from 'redis';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { WebSocket } from '../../src/index.ts';
import { closeQuietly, once } from '../integration/helpers.ts';
import { RedisServer, SKIP_REDIS } from './redis-server.ts';

const NODE = fileURLToPath(new URL('./fixtures/node.ts', import.meta.url));
let redis: RedisServer;
const children: ChildProcess[] = [];
const sockets: WebSocket[] = [];

beforeAll(async () => {
  if (!SKIP_REDIS) redis = await RedisServer.start();
});
afterAll(async () => {
  await redis?.dispose();
});
afterEach(async () => {
  await Promise.all(sockets.splice(0).map(closeQuietly));
  await Promise.all(
    children.splice(0).map(async (child) => {
      if (child.exitCode !== null || child.signalCode !== null) return;
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGTERM');
      await exited;
    }),
  );
});

/** Starts a server process (or a cluster of `workers`) and resolves with its port once all listen. */
function startNode(workers = 0): Promise<{ child: ChildProcess; port: number }> {
  const child = spawn(process.execPath, ['--import', 'tsx', NODE], {
    env: { ...process.env, REDIS_URL: redis.url, WORKERS: String(workers), PORT: '0' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.push(child);
  return new Promise((resolve, reject) => {
    let output = '';
    const timer = setTimeout(() => reject(new Error(`no 'ready' in 15 s:\n${output}`)), 15_000);
    const onData = (chunk: Buffer) => {
      output += chunk;
      const match = /ready (\d+)/.exec(output);
      if (match === null) return;
      clearTimeout(timer);
      resolve({ child, port: Number(match[1]) });
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', onData);
    child.once('exit', (code) => reject(new Error(`exited with ${code}:\n${output}`)));
  });
}

/** A client of a server process: `ask()` sends a command and resolves with its '#…' answer. */
interface Peer {
  readonly ws: WebSocket;
  /** Messages other than answers. */
  readonly got: string[];
  ask(command: string): Promise<string>;
}

async function connect(port: number): Promise<Peer> {
  const ws = new WebSocket(`ws://127.0.0.1:${port}`);
  sockets.push(ws);
  await once(ws, 'open');
  const got: string[] = [];
  const answers: ((answer: string) => void)[] = [];
  ws.on('message', (data) => {
    const text = String(data);
    if (text.startsWith('#')) answers.shift()?.(text);
    else got.push(text);
  });
  return {
    ws,
    got,
    ask(command) {
      return new Promise((resolve) => {
        answers.push(resolve);
        ws.send(command);
      });
    },
  };
}

async function until(test: () => boolean, ms = 10_000, what = 'the condition'): Promise<void> {
  const deadline = Date.now() + ms;
  while (!test()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

/** Polls PUBSUB NUMSUB until `channel` has `count` subscribers. */
async function numsub(channel: string, count: number): Promise<void> {
  const client = createClient({ url: redis.url });
  await client.connect();
  try {
    const deadline = Date.now() + 10_000;
    for (;;) {
      const counts = (await client.pubSubNumSub(channel)) as Record<string, number>;
      if (counts[channel] === count) return;
      if (Date.now() > deadline)
        throw new Error(`${channel} has ${counts[channel]} subscribers, not ${count}`);
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  } finally {
    await client.close();
  }
}

describe.skipIf(SKIP_REDIS)('across processes through redis-server', () => {
  it('two processes: publish, broadcast and sendToUser reach every client wherever connected', async () => {
    const [one, two] = await Promise.all([startNode(), startNode()]);
    const peers = await Promise.all([...Array(10)].map((_, i) => connect(i % 2 === 0 ? one.port : two.port)));
    const pids = new Set(await Promise.all(peers.map((peer) => peer.ask('pid'))));
    expect(pids.size).toBe(2);
    await Promise.all(peers.map((peer) => peer.ask('sub room')));
    await Promise.all(peers.slice(0, 2).map((peer) => peer.ask('user carol')));
    await numsub('sockwire:t:room', 2);
    await numsub('sockwire:u:carol', 2);

    await peers[0]!.ask('pub room hello room');
    await peers[1]!.ask('all hello all');
    await peers[3]!.ask('touser carol hello carol');
    await until(() => peers.every((peer) => peer.got.length >= 2) && peers[0]!.got.length === 3);
    await new Promise((resolve) => setTimeout(resolve, 100)); // and nothing more
    for (const [i, peer] of peers.entries()) {
      const expected = ['hello room', 'hello all', ...(i < 2 ? ['hello carol'] : [])];
      expect(peer.got.sort()).toEqual(expected.sort());
    }
  }, 30_000);

  it('a node:cluster of four workers on one port: every message reaches every subscriber', async () => {
    const { port } = await startNode(4);
    const peers = await Promise.all([...Array(40)].map(() => connect(port)));
    const pids = new Set(await Promise.all(peers.map((peer) => peer.ask('pid'))));
    expect(pids.size).toBe(4); // the primary spreads connections over the workers
    await Promise.all(peers.map((peer) => peer.ask('sub chat')));
    await numsub('sockwire:t:chat', 4);

    const publishers = peers.slice(0, 8);
    for (const [i, peer] of publishers.entries()) {
      for (let n = 0; n < 5; n++) await peer.ask(`pub chat ${i}:${n}`);
    }
    await until(() => peers.every((peer) => peer.got.length >= 40), 15_000, '40 messages at every client');
    await new Promise((resolve) => setTimeout(resolve, 100));
    for (const peer of peers) {
      expect(peer.got).toHaveLength(40);
      // In order per publisher.
      for (let i = 0; i < 8; i++) {
        expect(peer.got.filter((m) => m.startsWith(`${i}:`))).toEqual(
          [0, 1, 2, 3, 4].map((n) => `${i}:${n}`),
        );
      }
    }
  }, 40_000);

  it('a process killed with SIGKILL: its subscriptions vanish, the others are unaffected', async () => {
    const [publisher, doomed, survivor] = await Promise.all([startNode(), startNode(), startNode()]);
    const sender = await connect(publisher.port);
    const lost = await connect(doomed.port);
    const kept = await connect(survivor.port);
    await lost.ask('sub t');
    await kept.ask('sub t');
    await numsub('sockwire:t:t', 2);
    await numsub('sockwire:b', 3);

    const exited = new Promise((resolve) => doomed.child.once('exit', resolve));
    doomed.child.kill('SIGKILL');
    await exited;
    await numsub('sockwire:t:t', 1); // Redis dropped the dead connection's subscriptions
    await numsub('sockwire:b', 2);

    await sender.ask('pub t after the crash');
    await until(() => kept.got.length === 1);
    expect(kept.got).toEqual(['after the crash']);
  }, 30_000);
});
