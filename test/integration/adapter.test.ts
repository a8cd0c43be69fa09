/**
 * The `adapter` option's contract (src/server/adapter.ts), with two WebSocketServers in one process
 * sharing an in-memory bus: publish(), broadcast() and sendToUser() reach the clients of the other
 * server exactly once, the adapter listens to a topic or user while the server has sockets for it,
 * and local delivery is unchanged. Real clients over loopback, port 0; the Redis adapter's own tests
 * are in test/redis/.
 */
import { afterEach, describe, expect, it } from 'vitest';
import {
  InvalidArgumentError,
  InvalidOptionError,
  type WebSocket,
  WebSocketServer,
} from '../../src/index.ts';
import { MemoryBus } from './adapter-memory-bus.ts';
import { closeQuietly, collectMessages, type Listening, listen, nextMessages, pair } from './helpers.ts';

const servers: WebSocketServer[] = [];
const clients: WebSocket[] = [];

afterEach(async () => {
  await Promise.all(clients.splice(0).map(closeQuietly));
  await Promise.all(servers.splice(0).map((server) => server.close()));
});

async function start(bus: MemoryBus): Promise<Listening & { adapter: ReturnType<MemoryBus['adapter']> }> {
  const adapter = bus.adapter();
  const listening = await listen({ adapter });
  servers.push(listening.server);
  return { ...listening, adapter };
}

async function join(listening: Listening): Promise<{ client: WebSocket; peer: WebSocket }> {
  const both = await pair(listening);
  clients.push(both.client);
  return both;
}

/** Lets pending setImmediate deliveries and socket reads run. */
const settle = () => new Promise((resolve) => setTimeout(resolve, 50));

describe('the adapter contract, two servers on one in-memory bus', () => {
  it('publish() reaches the subscribers of both servers, each exactly once, text and binary intact', async () => {
    const bus = new MemoryBus();
    const a = await start(bus);
    const b = await start(bus);
    const onA = await join(a);
    const onB = await join(b);
    const bystander = await join(b); // not subscribed
    onA.peer.subscribe('news');
    onB.peer.subscribe('news');
    const gotA = collectMessages(onA.client);
    const gotBystander = collectMessages(bystander.client);
    const arriving = nextMessages(onB.client, 2);

    expect(a.server.publish('news', 'héllo')).toEqual({ sent: 1, skipped: 0 });
    a.server.publish('news', Buffer.from([0, 255, 1]));
    const got = await arriving;
    await settle();

    expect(got.map((m) => [m.data.toString('hex'), m.isBinary])).toEqual([
      [Buffer.from('héllo').toString('hex'), false],
      ['00ff01', true],
    ]);
    expect(gotA.map((m) => m.isBinary)).toEqual([false, true]); // once: not again through the bus
    expect(gotBystander).toEqual([]);
    expect(a.adapter.published.map((m) => [m.kind, m.target, m.binary])).toEqual([
      ['topic', 'news', false],
      ['topic', 'news', true],
    ]);
  });

  it('subscribes the adapter at the first local subscriber and unsubscribes at the last, close included', async () => {
    const bus = new MemoryBus();
    const a = await start(bus);
    const one = await join(a);
    const two = await join(a);
    one.peer.subscribe('t');
    two.peer.subscribe('t');
    one.peer.unsubscribe('t');
    expect(a.adapter.calls).toEqual(['+topic:t']);
    two.client.terminate();
    await new Promise((resolve) => two.peer.once('close', resolve));
    expect(a.adapter.calls).toEqual(['+topic:t', '-topic:t']);
  });

  it('broadcast() reaches every client of every server; `except` and `local` stay local', async () => {
    const bus = new MemoryBus();
    const a = await start(bus);
    const b = await start(bus);
    const sender = await join(a);
    const other = await join(a);
    const remote = await join(b);
    const gotSender = collectMessages(sender.client);
    const gotRemote = collectMessages(remote.client);
    const gotOther = collectMessages(other.client);

    expect(a.server.broadcast('all', { except: sender.peer })).toEqual({ sent: 1, skipped: 1 });
    a.server.broadcast('only here', { local: true });
    await settle();

    expect(gotSender.map((m) => String(m.data))).toEqual(['only here']);
    expect(gotOther.map((m) => String(m.data))).toEqual(['all', 'only here']);
    expect(gotRemote.map((m) => String(m.data))).toEqual(['all']);
    expect(a.adapter.published).toHaveLength(1);
  });

  it('sendToUser() reaches every socket of the user on every server, and none after they close', async () => {
    const bus = new MemoryBus();
    const a = await start(bus);
    const b = await start(bus);
    const aliceA = await join(a);
    const aliceB1 = await join(b);
    const aliceB2 = await join(b);
    const bob = await join(b);
    expect(a.server.setUser(aliceA.peer, 'alice')).toBe(true);
    expect(a.server.setUser(aliceA.peer, 'alice')).toBe(false);
    b.server.setUser(aliceB1.peer, 'alice');
    b.server.setUser(aliceB2.peer, 'alice');
    b.server.setUser(bob.peer, 'bob');
    expect(b.server.userOf(bob.peer)).toBe('bob');
    const got = [aliceA, aliceB1, aliceB2, bob].map((s) => collectMessages(s.client));

    expect(a.server.sendToUser('alice', 'hi alice')).toEqual({ sent: 1, skipped: 0 });
    await settle();
    expect(got.map((messages) => messages.map((m) => String(m.data)))).toEqual([
      ['hi alice'],
      ['hi alice'],
      ['hi alice'],
      [],
    ]);
    expect(b.adapter.calls).toEqual(['+user:alice', '+user:bob']);

    // Moved to another user, then closed: the adapter stops listening for each user with no socket.
    b.server.setUser(bob.peer, 'robert');
    for (const socket of [aliceB1, aliceB2]) {
      const closed = new Promise((resolve) => socket.peer.once('close', resolve));
      socket.client.terminate();
      await closed;
    }
    expect(b.adapter.calls).toEqual(['+user:alice', '+user:bob', '-user:bob', '+user:robert', '-user:alice']);
    a.server.sendToUser('alice', 'again');
    await settle();
    expect(got[0]!.map((m) => String(m.data))).toEqual(['hi alice', 'again']);
  });

  it('a message from the bus is delivered with the slow-reader policy', async () => {
    const bus = new MemoryBus();
    const a = await start(bus);
    const adapter = bus.adapter();
    const listening = await listen({ adapter, maxBufferedAmount: 0 });
    servers.push(listening.server);
    const remote = await join(listening);
    remote.peer.subscribe('t');
    remote.client.pause(); // the client reads nothing: the server's bytes pile up once the kernel's buffers are full
    // Fill its queue locally until it counts as a slow reader, then publish from the other server.
    const big = Buffer.alloc(1 << 20);
    for (let i = 0; i < 64 && remote.peer.bufferedAmount < 16 * big.length; i++) remote.peer.send(big);
    expect(remote.peer.bufferedAmount).toBeGreaterThan(0);
    const results: unknown[] = [];
    const deliver = adapter.host!.deliver;
    adapter.host = {
      deliver: (message) => {
        results.push(deliver(message));
        return { sent: 0, skipped: 0 };
      },
    };
    a.server.publish('t', 'x');
    await settle();
    expect(remote.peer.bufferedAmount).toBeGreaterThan(0); // still a slow reader when it arrived
    expect(results).toEqual([{ sent: 0, skipped: 1 }]);
  });

  it('refuses an adapter without the five methods, and setUser() without a user id', async () => {
    expect(() => new WebSocketServer({ noServer: true, adapter: { publish() {} } as never })).toThrow(
      InvalidOptionError,
    );
    const bus = new MemoryBus();
    const a = await start(bus);
    const { peer } = await join(a);
    expect(() => a.server.setUser(peer, '')).toThrow(InvalidArgumentError);
  });

  it('close() closes the adapter once every client is gone', async () => {
    const bus = new MemoryBus();
    const a = await start(bus);
    await join(a);
    servers.splice(servers.indexOf(a.server), 1);
    await a.server.close();
    expect(a.adapter.closed).toBe(true);
  });
});

describe('an adapter that throws (a bug in it) never breaks the server', () => {
  it("publish, subscribe and a subscribed socket's close go on locally, and 'hookError' says which call threw", async () => {
    const failure = new Error('broker client bug');
    const adapter = {
      start() {},
      publish() {
        throw failure;
      },
      subscribe() {
        throw failure;
      },
      unsubscribe() {
        throw failure;
      },
      close() {},
    };
    const listening = await listen({ adapter });
    servers.push(listening.server);
    const hookErrors: Error[] = [];
    listening.server.on('hookError', (error) => hookErrors.push(error));
    const { client, peer } = await join(listening);
    expect(peer.subscribe('news')).toBe(true); // the adapter's subscribe() threw
    const arriving = nextMessages(client, 1);
    expect(listening.server.publish('news', 'still here')).toEqual({ sent: 1, skipped: 0 });
    expect((await arriving).map((m) => m.data.toString())).toEqual(['still here']);
    const closed = new Promise((resolve) => peer.once('close', resolve));
    client.close();
    await closed;
    await settle(); // a throw from the close hook would be an uncaught exception and fail the run
    expect(peer.isSubscribed('news')).toBe(false);
    expect(hookErrors.map((error) => error.message.slice(0, 33))).toEqual([
      "the adapter's subscribe() threw: ",
      "the adapter's publish() threw: br",
      "the adapter's unsubscribe() threw",
    ]);
    expect(hookErrors.every((error) => error.cause === failure)).toBe(true);
  });
});
