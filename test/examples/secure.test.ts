/**
 * Example (2): the wss:// server with a self-signed certificate and the client that trusts it via `ca`.
 */
import type { AddressInfo } from 'node:net';
import { afterEach, expect, it } from 'vitest';
import { talkSecurely } from '../../examples/secure-client.ts';
import { startSecureServer } from '../../examples/secure-server.ts';
import { WebSocket } from '../../src/index.ts';
import { once } from '../integration/helpers.ts';
import { type ExampleRun, runExample } from './helpers.ts';

const cleanup: (() => unknown)[] = [];
afterEach(async () => {
  for (const step of cleanup.splice(0)) await step();
});

it('the client trusts the self-signed server through ca; a client without it is refused', async () => {
  const server = await startSecureServer(0);
  cleanup.push(() => server.close());
  const { port } = server.address() as AddressInfo;
  const url = `wss://localhost:${port}/secure`;
  expect(await talkSecurely(url, 'ping')).toEqual(['welcome over TLS, you asked for /secure', 'ping']);

  const untrusting = new WebSocket(url);
  const [error] = await once<[Error]>(untrusting, 'error');
  expect(String((error.cause as Error | undefined)?.message ?? error.message)).toMatch(/self-signed/);
});

it('runs as shown in examples/README.md: server, then client, each one command', async () => {
  const server: ExampleRun = runExample('examples/secure-server.ts', [], { PORT: '0' });
  cleanup.push(() => server.stop());
  const [, url] = await server.waitFor(/on (wss:\/\/localhost:\d+)/);
  const client = runExample('examples/secure-client.ts', [url!]);
  cleanup.push(() => client.stop());
  expect(await client.exited).toBe(0);
  expect(client.output()).toBe('< welcome over TLS, you asked for /\n< hello over TLS\n');
});
