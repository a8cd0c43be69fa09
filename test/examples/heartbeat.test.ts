/**
 * Example (3): keep-alive pings from the server, and a client that reconnects when the server restarts.
 */
import type { AddressInfo } from 'node:net';
import { afterEach, expect, it } from 'vitest';
import { startHeartbeatServer } from '../../examples/heartbeat-server.ts';
import { connectForever } from '../../examples/reconnecting-client.ts';
import type { WebSocket, WebSocketServer } from '../../src/index.ts';
import { once, withTimeout } from '../integration/helpers.ts';

const cleanup: (() => unknown)[] = [];
afterEach(async () => {
  for (const step of cleanup.splice(0).reverse()) await step();
});

it('the server pings, the client reconnects after a restart on the same port', async () => {
  let server: WebSocketServer = await startHeartbeatServer({
    port: 0,
    interval: 200,
    timeout: 1000,
    log: () => {},
  });
  const { port } = server.address() as AddressInfo;
  const opens: WebSocket[] = [];
  const messages: string[] = [];
  const closes: number[] = [];
  const wake = () => {};
  const client = connectForever(`ws://127.0.0.1:${port}`, {
    minDelay: 50,
    keepAlive: { interval: 200, timeout: 1000 },
    onOpen: (ws) => {
      opens.push(ws);
      wake();
    },
    onMessage: (text) => messages.push(text),
    onClose: (code) => closes.push(code),
  });
  cleanup.push(() => client.stop());
  const until = (condition: () => boolean, what: string) =>
    withTimeout(
      new Promise<void>((resolve) => {
        const check = () => (condition() ? resolve() : setTimeout(check, 20));
        check();
      }),
      10_000,
      what,
    );

  await until(() => opens.length === 1, 'first open');
  // Keep-alive: the server's Ping arrives within its interval (the client answers it by itself).
  await withTimeout(once(opens[0]!, 'ping'), 5000, 'a ping');

  await server.close({ code: 1012 }); // "service restart"
  await until(() => closes.length >= 1, 'close after the restart');
  expect(closes[0]).toBe(1012);
  server = await startHeartbeatServer({ port, interval: 200, timeout: 1000, log: () => {} });
  cleanup.push(() => server.close());
  await until(() => opens.length === 2, 'the reconnection');
  await until(() => messages.filter((text) => text.startsWith('hello client')).length === 2, 'welcomes');
});
