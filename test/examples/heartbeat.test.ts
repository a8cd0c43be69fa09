/**
 * Example (3): keep-alive pings from the server, and a client (ReconnectingWebSocket) that
 * reconnects when the server restarts.
 */
import type { AddressInfo } from 'node:net';
import { afterEach, expect, it } from 'vitest';
import { startHeartbeatServer } from '../../examples/heartbeat-server.ts';
import { stayConnected } from '../../examples/reconnecting-client.ts';
import type { WebSocketServer } from '../../src/index.ts';
import { once, withTimeout } from '../integration/helpers.ts';

const cleanup: (() => unknown)[] = [];
afterEach(async () => {
  for (const step of cleanup.splice(0).reverse()) await step();
});

function until(condition: () => boolean, what: string): Promise<void> {
  return withTimeout(
    new Promise<void>((resolve) => {
      const check = () => (condition() ? resolve() : setTimeout(check, 20));
      check();
    }),
    10_000,
    what,
  );
}

it('the server pings, the client reconnects after a restart on the same port', async () => {
  const quiet = { interval: 200, timeout: 1000, log: () => {} };
  let server: WebSocketServer = await startHeartbeatServer({ port: 0, ...quiet });
  const { port } = server.address() as AddressInfo;
  const client = stayConnected(`ws://127.0.0.1:${port}`, {
    minDelay: 50,
    keepAlive: { interval: 200, timeout: 1000 },
  });
  cleanup.push(() => client.close());
  let opens = 0;
  const messages: string[] = [];
  const attempts: number[] = [];
  client.on('open', () => opens++);
  client.on('message', (data: Buffer) => messages.push(data.toString()));
  client.on('reconnecting', (attempt: number) => attempts.push(attempt));

  await until(() => opens === 1, 'first open');
  // Keep-alive: the server's Ping reaches the client's connection (which answers it by itself).
  await withTimeout(once(client.socket!, 'ping'), 5000, 'a ping from the server');

  await server.close({ code: 1012 }); // "service restart"
  await until(() => attempts.length >= 1, 'a reconnect scheduled');
  server = await startHeartbeatServer({ port, ...quiet });
  cleanup.push(() => server.close());
  await until(() => opens === 2, 'the reconnection');
  await until(() => messages.filter((text) => text.startsWith('hello client')).length === 2, 'welcomes');
  expect(attempts[0]).toBe(1);
});
