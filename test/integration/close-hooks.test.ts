/**
 * What a server does when one of its sockets closes (its close hooks, src/server/negotiate.ts),
 * with no 'close' listener per socket: before the socket's 'close' listeners run it has left
 * `server.clients` (and freed its `maxConnections` slot); during them its topics and user are still
 * known, so a listener can say who left; after them those are gone too. Real sockets over loopback.
 */
import { once } from 'node:events';
import { afterEach, describe, expect, it } from 'vitest';
import { InvalidArgumentError, type WebSocket, type WebSocketServer } from '../../src/index.ts';
import { closeQuietly, type Listening, listen, pair } from './helpers.ts';

const servers: WebSocketServer[] = [];
const clients: WebSocket[] = [];

afterEach(async () => {
  await Promise.all(clients.splice(0).map(closeQuietly));
  await Promise.all(servers.splice(0).map((server) => server.close()));
});

async function start(): Promise<Listening> {
  const listening = await listen();
  servers.push(listening.server);
  return listening;
}

describe("a server-side socket's close", () => {
  it('adds no listener to the socket: tracked, subscribed and filed under a user, it has none', async () => {
    const listening = await start();
    const { client, peer } = await pair(listening);
    clients.push(client);
    peer.subscribe('news');
    listening.server.setUser(peer, 'alice');
    expect(listening.server.clients.has(peer)).toBe(true);
    expect(peer.listenerCount('close')).toBe(0);
  });

  it('leaves clients before its close listeners, its topics and user after them', async () => {
    const listening = await start();
    const { server } = listening;
    const { client, peer } = await pair(listening);
    peer.subscribe('news');
    server.setUser(peer, 'alice');
    const seen: unknown[] = [];
    peer.on('close', () => {
      seen.push(server.clients.has(peer), peer.isSubscribed('news'), server.userOf(peer));
    });
    const closed = once(peer, 'close');
    client.close();
    await closed;
    expect(seen).toEqual([false, true, 'alice']);
    expect(peer.isSubscribed('news')).toBe(false);
    expect(server.userOf(peer)).toBeUndefined();
    expect(server.subscriberCount('news')).toBe(0);
  });

  it('still leaves its topics and user when a close listener throws', async () => {
    const listening = await start();
    const { server } = listening;
    const { client, peer } = await pair(listening);
    peer.subscribe('news');
    server.setUser(peer, 'alice');
    const failure = new Error('listener failed');
    peer.on('close', () => {
      throw failure;
    });
    const uncaught = new Promise<unknown>((resolve) => process.once('uncaughtException', resolve));
    client.close();
    expect(await uncaught).toBe(failure);
    expect(peer.isSubscribed('news')).toBe(false);
    expect(server.userOf(peer)).toBeUndefined();
  });

  it("refuses setUser() with another server's socket (it would never leave this registry)", async () => {
    const first = await start();
    const second = await start();
    const { client, peer } = await pair(first);
    clients.push(client);
    expect(() => second.server.setUser(peer, 'alice')).toThrow(InvalidArgumentError);
    expect(first.server.setUser(peer, 'alice')).toBe(true);
  });
});
