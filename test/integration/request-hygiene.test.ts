/**
 * Issue 12 items 16–17 over loopback: the standalone server answers 400 and closes for request
 * framing that Node's parser rejects (RFC 9112 §6.3), never reads a body as frames, and answers
 * fixed texts that reflect nothing of the request.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { WebSocketServer } from '../../src/index.ts';
import {
  ask,
  type Listening,
  listen,
  once,
  rawConnect,
  upgradeRequest,
  WAIT_MS,
  withTimeout,
} from './helpers.ts';

const servers: WebSocketServer[] = [];
const httpServers: Server[] = [];

afterEach(async () => {
  await Promise.all(
    servers.splice(0).map((server) => withTimeout(server.close({ timeout: 500 }), WAIT_MS, 'close')),
  );
  await Promise.all(
    httpServers.splice(0).map(
      (server) =>
        new Promise<void>((resolve) => {
          server.closeAllConnections();
          server.close(() => resolve());
        }),
    ),
  );
});

async function start(options: Parameters<typeof listen>[0] = {}): Promise<Listening> {
  const listening = await listen(options);
  servers.push(listening.server);
  return listening;
}

/** A masked text frame "hi" that a smuggled body could carry. */
const FRAME = '\x81\x82abcd\x09\x0b';

describe('standalone server: request framing (RFC 9112 §6.3) → 400 and close', () => {
  it.each([
    ['two equal Content-Length fields', { 'Content-Length': '0', 'content-length': '0' }, ''],
    ['an empty Content-Length', { 'Content-Length': '' }, ''],
    ['a Content-Length with a sign', { 'Content-Length': '+0' }, ''],
    ['Content-Length with Transfer-Encoding', { 'Content-Length': '0', 'Transfer-Encoding': 'chunked' }, ''],
    ['a Transfer-Encoding that does not end in chunked', { 'Transfer-Encoding': 'chunked, gzip' }, ''],
    ['a body announced by Content-Length', { 'Content-Length': String(FRAME.length) }, FRAME],
    [
      'a chunked body',
      { 'Transfer-Encoding': 'chunked' },
      `${FRAME.length.toString(16)}\r\n${FRAME}\r\n0\r\n\r\n`,
    ],
  ])('answers %s with 400 and never opens a WebSocket', async (_label, headers, body) => {
    const listening = await start();
    let connections = 0;
    listening.server.on('connection', () => connections++);
    const head = await ask(listening.port, upgradeRequest({ headers }) + body);
    expect(head.statusLine).toBe('HTTP/1.1 400 Bad Request');
    expect(head.headers.connection).toBe('close');
    expect(connections).toBe(0);
  });

  it('answers HTTP/1.2 and HTTP/2.0 with 400', async () => {
    const listening = await start();
    const as = (version: string) => upgradeRequest().replace('HTTP/1.1', version);
    expect((await ask(listening.port, as('HTTP/1.2'))).statusLine).toBe('HTTP/1.1 400 Bad Request');
    expect((await ask(listening.port, as('HTTP/2.0'))).statusLine).toBe('HTTP/1.1 400 Bad Request');
  });

  it('answers an absolute-form target with a bad authority with 400', async () => {
    const listening = await start();
    const head = await ask(listening.port, upgradeRequest({ path: 'http://a<b/' }));
    expect(head.statusLine).toBe('HTTP/1.1 400 Bad Request');
  });

  it('attached to node:http: an upgrade with a body is answered 400 too, not read as frames', async () => {
    const server = createServer();
    httpServers.push(server);
    const wss = new WebSocketServer({ server });
    servers.push(wss);
    let connections = 0;
    wss.on('connection', () => connections++);
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    const request = upgradeRequest({ headers: { 'Content-Length': String(FRAME.length) } }) + FRAME;
    const head = await ask((server.address() as AddressInfo).port, request);
    expect(head.statusLine).toBe('HTTP/1.1 400 Bad Request');
    expect(connections).toBe(0);
  });

  it('still accepts Content-Length: 0', async () => {
    const listening = await start();
    const peer = await rawConnect(listening.port);
    try {
      peer.write(upgradeRequest({ headers: { 'Content-Length': '0' } }));
      expect((await peer.readHttp()).status).toBe(101);
    } finally {
      peer.destroy();
    }
  });
});

const HOSTILE_PATH = '/<svg/onload=alert(1)>';

describe('error bodies reflect nothing of the request', () => {
  it('standalone: a path no endpoint serves → 400 with a fixed text', async () => {
    const listening = await start({ path: '/chat' });
    const head = await ask(listening.port, upgradeRequest({ path: HOSTILE_PATH }));
    expect(head.statusLine).toBe('HTTP/1.1 400 Bad Request');
    expect(head.body).toBe('Bad Request: no WebSocket endpoint at this path');
  });

  it('attached to node:http: the same fixed text', async () => {
    const server = createServer();
    httpServers.push(server);
    const wss = new WebSocketServer({ server, path: '/chat' });
    servers.push(wss);
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    const head = await ask((server.address() as AddressInfo).port, upgradeRequest({ path: HOSTILE_PATH }));
    expect(head.statusLine).toBe('HTTP/1.1 400 Bad Request');
    expect(head.body).not.toContain('<');
    expect(head.body).toBe('Bad Request: no WebSocket endpoint at this path');
  });

  it('a duplicate subprotocol is named in no body', async () => {
    const listening = await start();
    const head = await ask(
      listening.port,
      upgradeRequest({ headers: { 'Sec-WebSocket-Protocol': 'x-evil!, x-evil!' } }),
    );
    expect(head.status).toBe(400);
    expect(head.body).not.toContain('x-evil');
  });
});
