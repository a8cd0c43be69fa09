/**
 * Example (6): two WebSocketServers with `path` on one existing http.Server, next to HTTP routes.
 */
import { afterEach, expect, it } from 'vitest';
import { type RoutedServer, startRoutedServer } from '../../examples/http-routing.ts';
import { type HandshakeError, WebSocket } from '../../src/index.ts';
import { once } from '../integration/helpers.ts';

let server: RoutedServer | null = null;
afterEach(async () => {
  await server?.close();
  server = null;
});

async function roundTrip(url: string, text: string): Promise<string> {
  const ws = new WebSocket(url);
  await once(ws, 'open');
  ws.send(text);
  const [data] = await once<[Buffer]>(ws, 'message');
  ws.close();
  await once(ws, 'close');
  return data.toString();
}

it('routes HTTP requests and WebSocket upgrades by path on one port', async () => {
  server = await startRoutedServer(0);
  expect(await (await fetch(`${server.url}/`)).text()).toContain('/echo');
  expect(await (await fetch(`${server.url}/health`)).json()).toEqual({ ok: true });
  expect((await fetch(`${server.url}/missing`)).status).toBe(404);

  const ws = server.url.replace('http', 'ws');
  expect(await roundTrip(`${ws}/echo`, 'Hello')).toBe('Hello');
  expect(await roundTrip(`${ws}/shout?x=1`, 'Hello')).toBe('HELLO');

  const nowhere = new WebSocket(`${ws}/nowhere`);
  const [error] = await once<[HandshakeError]>(nowhere, 'error');
  expect(error.status).toBe(400);
});
