/**
 * RFC 8441 end to end: our HTTP/2 client against our server on an `http2.createSecureServer` with
 * `allowHTTP1: true`, sharing the port with HTTP/1.1 clients.
 */
import { createSecureServer, connect as http2Connect } from 'node:http2';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { pooledSessionCount } from '../../src/http2/session-pool.ts';
import {
  attachHttp2,
  ErrorCode,
  HandshakeError,
  type VerifyClientInfo,
  WebSocket,
  WebSocketServer,
} from '../../src/index.ts';
import { once } from '../integration/helpers.ts';
import {
  cert,
  clientError,
  closed,
  type H2Fixture,
  key,
  nextMessage,
  openClient,
  startH2,
  streamOf,
} from './helpers.ts';

const tls = { ca: cert };
let fixture: H2Fixture | null = null;
const clients: WebSocket[] = [];

afterEach(async () => {
  for (const ws of clients.splice(0)) ws.terminate();
  await fixture?.close();
  fixture = null;
});

async function open(url: string, options: Record<string, unknown> = {}, protocols?: string[]) {
  const ws =
    protocols === undefined
      ? await openClient(url, { ...tls, http2: 'require', ...options })
      : await openClient(url, protocols, { ...tls, http2: 'require', ...options });
  clients.push(ws);
  return ws;
}

describe('RFC 8441 §4–§5: extended CONNECT, our client ↔ our server', () => {
  it('echoes text, binary and a 1 MiB message; the server sees httpVersion 2.0 and a stream', async () => {
    fixture = await startH2();
    const arrived = once<[WebSocket, { httpVersion: string; method: string; url: string }]>(
      fixture.wss,
      'connection',
    );
    const ws = await open(`${fixture.url}/echo?x=1`);
    const [, request] = await arrived;
    expect(request.httpVersion).toBe('2.0');
    expect(request.method).toBe('CONNECT');
    expect(request.url).toBe('/echo?x=1');
    expect(streamOf(request)).toBeDefined();
    ws.send('héllo');
    expect(await nextMessage(ws)).toEqual({ data: Buffer.from('héllo'), isBinary: false });
    ws.send(Uint8Array.of(0, 1, 2, 255));
    expect(await nextMessage(ws)).toEqual({ data: Buffer.from([0, 1, 2, 255]), isBinary: true });
    const large = Buffer.alloc(1024 * 1024);
    for (let i = 0; i < large.length; i++) large[i] = (i * 31) & 0xff;
    ws.send(large);
    const echoed = await nextMessage(ws);
    expect(echoed.data.equals(large)).toBe(true);
  });

  it('the generateMask option masks the frames sent over HTTP/2 too (§5.3), as over HTTP/1.1', async () => {
    fixture = await startH2();
    let masks = 0;
    const ws = await open(`${fixture.url}/echo`, {
      generateMask: (mask: Buffer) => {
        masks++;
        mask.fill(0); // a valid key: the masked payload equals the plain one
      },
    });
    ws.send('one');
    expect(await nextMessage(ws)).toEqual({ data: Buffer.from('one'), isBinary: false });
    expect(masks).toBe(1);
  });

  it('close codes travel both ways; closing ends the stream, not the session', async () => {
    fixture = await startH2();
    const serverSockets: WebSocket[] = [];
    fixture.wss.on('connection', (ws: WebSocket) => serverSockets.push(ws));
    const a = await open(fixture.url);
    const b = await open(fixture.url);
    a.send('close:4001:bye');
    expect(await closed(a)).toEqual({ code: 4001, reason: 'bye' });
    // The other WebSocket on the same session still works.
    b.send('still here');
    expect(String((await nextMessage(b)).data)).toBe('still here');
    const serverSide = once<[number, Buffer]>(serverSockets[1]!, 'close');
    const clientSide = closed(b);
    b.close(4002, 'client done');
    const [code, reason] = await serverSide;
    expect(code).toBe(4002);
    expect(String(reason)).toBe('client done');
    expect((await clientSide).code).toBe(4002);
    expect(fixture.counts.tcp).toBe(1);
  });

  it('many WebSockets share one HTTP/2 session and one TCP connection', async () => {
    fixture = await startH2();
    const sockets = await Promise.all(Array.from({ length: 20 }, () => open(fixture!.url)));
    await Promise.all(
      sockets.map(async (ws, i) => {
        ws.send(`n${i}`);
        expect(String((await nextMessage(ws)).data)).toBe(`n${i}`);
      }),
    );
    expect(fixture.wss.clients.size).toBe(20);
    expect(fixture.counts.tcp).toBe(1);
    expect(fixture.counts.sessions).toBe(1);
    // Another batch after the first one closed reuses the session while it is still open.
    await Promise.all(
      sockets.map((ws) => {
        ws.close();
        return closed(ws);
      }),
    );
    const again = await open(fixture.url);
    again.send('again');
    expect(String((await nextMessage(again)).data)).toBe('again');
    expect(fixture.counts.tcp).toBe(1);
  });

  it('the idle session closes about 1 s after its last stream', async () => {
    fixture = await startH2();
    const before = pooledSessionCount();
    const ws = await open(fixture.url);
    expect(pooledSessionCount()).toBe(before + 1);
    ws.close();
    await closed(ws);
    const sessionClosed = new Promise<void>((resolve) => {
      const check = setInterval(() => {
        if (pooledSessionCount() === before) {
          clearInterval(check);
          resolve();
        }
      }, 50);
    });
    const started = Date.now();
    await sessionClosed;
    expect(Date.now() - started).toBeGreaterThanOrEqual(800);
  });

  it('negotiates a subprotocol with handleProtocols, as over HTTP/1.1', async () => {
    fixture = await startH2({ handleProtocols: (offered) => (offered.has('v2') ? 'v2' : false) });
    const ws = await open(fixture.url, {}, ['v1', 'v2']);
    expect(ws.protocol).toBe('v2');
    // A client whose offer the server does not take fails, as over HTTP/1.1 (WHATWG Fetch).
    const refused = await clientError(fixture.url, ['v1'], { ...tls, http2: 'require' });
    expect(refused).toBeInstanceOf(HandshakeError);
    expect(refused.message).toBe('Server sent no subprotocol');
    expect((refused as HandshakeError).code).toBe(ErrorCode.MissingSubprotocol);
  });

  it('negotiates permessage-deflate and compresses on the stream', async () => {
    fixture = await startH2({ perMessageDeflate: { threshold: 0 } });
    const arrived = once<[WebSocket]>(fixture.wss, 'connection');
    const ws = await open(fixture.url, { perMessageDeflate: { threshold: 0 } });
    const [serverWs] = await arrived;
    expect(ws.extensions).toMatch(/^permessage-deflate/);
    expect(serverWs.extensions).toBe(ws.extensions);
    const text = 'compress me '.repeat(1000);
    ws.send(text);
    expect(String((await nextMessage(ws)).data)).toBe(text);
  });

  it('HTTP/1.1 and HTTP/2 clients on one port reach the same WebSocketServer', async () => {
    fixture = await startH2();
    const versions: string[] = [];
    fixture.wss.on('connection', (_ws, request: { httpVersion: string }) =>
      versions.push(request.httpVersion),
    );
    const h1 = await open(fixture.url, { http2: false });
    const h2 = await open(fixture.url);
    for (const ws of [h1, h2]) {
      ws.send('both');
      expect(String((await nextMessage(ws)).data)).toBe('both');
    }
    expect(versions.sort()).toEqual(['1.1', '2.0']);
    expect(fixture.counts.tcp).toBe(2);
  });

  it('applies verifyClient, allowedOrigins and maxConnections to HTTP/2 requests (status in the HandshakeError)', async () => {
    fixture = await startH2({
      allowedOrigins: ['https://good.example'],
      maxConnections: 1,
      verifyClient: ({ req }: VerifyClientInfo) =>
        req.headers.authorization === 'Bearer ok'
          ? { accept: true, user: 'alice' }
          : { accept: false, status: 401, reason: 'no token' },
    });
    const users: unknown[] = [];
    fixture.wss.on('connection', (ws: WebSocket, request) =>
      users.push(ws.user, (request as { user?: unknown }).user),
    );
    const origin = await clientError(fixture.url, {
      ...tls,
      http2: 'require',
      origin: 'https://evil.example',
    });
    expect(origin).toBeInstanceOf(HandshakeError);
    expect((origin as HandshakeError).status).toBe(403);
    const unauthorized = await clientError(fixture.url, { ...tls, http2: 'require' });
    expect((unauthorized as HandshakeError).status).toBe(401);
    const ok = await open(fixture.url, {
      headers: { Authorization: 'Bearer ok' },
      origin: 'https://good.example',
    });
    expect(users).toEqual(['alice', 'alice']);
    const full = await clientError(fixture.url, {
      ...tls,
      http2: 'require',
      headers: { Authorization: 'Bearer ok' },
    });
    expect((full as HandshakeError).status).toBe(503);
    ok.close();
  });

  it('a path no WebSocketServer serves is answered 400', async () => {
    fixture = await startH2({ path: '/ws' });
    const error = await clientError(`${fixture.url}/other`, { ...tls, http2: 'require' });
    expect((error as HandshakeError).status).toBe(400);
    const ws = await open(`${fixture.url}/ws`);
    expect(ws.readyState).toBe(WebSocket.OPEN);
  });
});

describe('the http2 client option: prefer / require / false', () => {
  it("'require' against an HTTP/2 server without SETTINGS_ENABLE_CONNECT_PROTOCOL → HandshakeError", async () => {
    const server = createSecureServer({ key, cert });
    server.on('stream', (stream) => stream.respond({ ':status': 404 }, { endStream: true }));
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    const port = (server.address() as AddressInfo).port;
    try {
      const error = await clientError(`wss://localhost:${port}/`, { ...tls, http2: 'require' });
      expect(error).toBeInstanceOf(HandshakeError);
      expect(error.message).toMatch(/SETTINGS_ENABLE_CONNECT_PROTOCOL/);
      expect((error as HandshakeError).code).toBe(ErrorCode.Http2Unavailable);
    } finally {
      await new Promise((resolve) => server.close(resolve));
    }
  });

  it("'prefer' falls back to the HTTP/1.1 Upgrade when the server does not allow extended CONNECT", async () => {
    // An HTTP/2 server without enableConnectProtocol that still takes HTTP/1.1 upgrades.
    const server = createSecureServer({ key, cert, allowHTTP1: true });
    const wss = new WebSocketServer({ noServer: true });
    server.on('upgrade', (req, socket, head) =>
      wss.handleUpgrade(req, socket, head, (ws, request) => wss.emit('connection', ws, request)),
    );
    const versions: string[] = [];
    wss.on('connection', (ws: WebSocket, request: { httpVersion: string }) => {
      versions.push(request.httpVersion);
      ws.on('message', (data) => ws.send(data));
    });
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    const port = (server.address() as AddressInfo).port;
    try {
      const ws = await openClient(`wss://localhost:${port}/`, { ...tls, http2: 'prefer' });
      ws.send('fallback');
      expect(String((await nextMessage(ws)).data)).toBe('fallback');
      expect(versions).toEqual(['1.1']);
      ws.close();
      await closed(ws);
    } finally {
      await wss.close();
      await new Promise((resolve) => server.close(resolve));
    }
  });

  it("'prefer' falls back against a TLS server that does not speak h2 at all (no ALPN)", async () => {
    const wss = new WebSocketServer({ port: 0, tls: { key, cert } });
    await once(wss, 'listening');
    const port = (wss.address() as AddressInfo).port;
    try {
      const ws = await openClient(`wss://localhost:${port}/`, { ...tls, http2: 'prefer' });
      expect(ws.readyState).toBe(WebSocket.OPEN);
      ws.close();
      await closed(ws);
      const error = await clientError(`wss://localhost:${port}/`, { ...tls, http2: 'require' });
      expect(error).toBeInstanceOf(HandshakeError);
      expect((error as HandshakeError).code).toBe(ErrorCode.Http2Unavailable);
    } finally {
      await wss.close();
    }
  });

  it("ws:// with 'prefer' uses HTTP/1.1; with 'require' the constructor throws", async () => {
    const wss = new WebSocketServer({ port: 0 });
    await once(wss, 'listening');
    const port = (wss.address() as AddressInfo).port;
    try {
      const ws = await openClient(`ws://127.0.0.1:${port}/`, { http2: 'prefer' });
      expect(ws.readyState).toBe(WebSocket.OPEN);
      ws.close();
      await closed(ws);
      expect(() => new WebSocket(`ws://127.0.0.1:${port}/`, { http2: 'require' })).toThrow(/require/);
    } finally {
      await wss.close();
    }
  });

  it('a non-200 answer is a HandshakeError with that status', async () => {
    const server = createSecureServer({ key, cert, settings: { enableConnectProtocol: true } });
    server.on('stream', (stream) => stream.respond({ ':status': 418 }, { endStream: true }));
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    const port = (server.address() as AddressInfo).port;
    try {
      const error = await clientError(`wss://localhost:${port}/`, { ...tls, http2: 'require' });
      expect((error as HandshakeError).status).toBe(418);
      expect((error as HandshakeError).code).toBe(ErrorCode.UnexpectedResponse);
    } finally {
      await new Promise((resolve) => server.close(resolve));
    }
  });

  it('a raw node:http2 client gets :status 200 and the negotiated headers (RFC 8441 §5)', async () => {
    fixture = await startH2({ perMessageDeflate: true });
    const session = http2Connect(fixture.url.replace('wss:', 'https:'), { ca: cert });
    try {
      await once(session, 'remoteSettings');
      expect(session.remoteSettings.enableConnectProtocol).toBe(true);
      const stream = session.request({
        ':method': 'CONNECT',
        ':protocol': 'websocket',
        ':scheme': 'https',
        ':path': '/',
        ':authority': `localhost:${fixture.port}`,
        'sec-websocket-version': '13',
        'sec-websocket-protocol': 'chat',
        'sec-websocket-extensions': 'permessage-deflate; client_max_window_bits',
      });
      const [headers] = await once<[Record<string, unknown>]>(stream, 'response');
      expect(headers[':status']).toBe(200);
      expect(headers['sec-websocket-protocol']).toBe('chat');
      expect(headers['sec-websocket-extensions']).toMatch(/^permessage-deflate/);
      expect(headers['sec-websocket-accept']).toBeUndefined();
      stream.close();
    } finally {
      session.destroy();
    }
  });
});

describe('sessions, timeouts and failures', () => {
  it('opens a second session when the server limits concurrent streams (SETTINGS_MAX_CONCURRENT_STREAMS)', async () => {
    fixture = await startH2({}, { settings: { enableConnectProtocol: true, maxConcurrentStreams: 5 } });
    const sockets = await Promise.all(Array.from({ length: 12 }, () => open(fixture!.url)));
    await Promise.all(
      sockets.map(async (ws, i) => {
        ws.send(`m${i}`);
        expect(String((await nextMessage(ws)).data)).toBe(`m${i}`);
      }),
    );
    expect(fixture.counts.sessions).toBe(3);
  });

  it('handshakeTimeout covers an extended CONNECT the server never answers', async () => {
    const server = createSecureServer({ key, cert, settings: { enableConnectProtocol: true } });
    server.on('stream', () => {}); // never responds
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    const port = (server.address() as AddressInfo).port;
    try {
      const error = await clientError(`wss://localhost:${port}/`, {
        ...tls,
        http2: 'require',
        handshakeTimeout: 300,
      });
      expect((error as HandshakeError).code).toBe('WS_ERR_HANDSHAKE_TIMEOUT');
    } finally {
      await new Promise((resolve) => {
        server.close(resolve);
        setTimeout(resolve, 1500).unref(); // the client's session closes when idle
      });
    }
  });

  it('verifyClient sees secure: true and its rejection headers reach the HTTP/2 client', async () => {
    const seen: boolean[] = [];
    fixture = await startH2({
      verifyClient: (info: VerifyClientInfo) => {
        seen.push(info.secure);
        return {
          accept: false,
          status: 401,
          reason: 'login first',
          headers: { 'WWW-Authenticate': 'Bearer' },
        };
      },
    });
    const session = http2Connect(`https://localhost:${fixture.port}`, { ca: cert });
    try {
      const stream = session.request({
        ':method': 'CONNECT',
        ':protocol': 'websocket',
        ':scheme': 'https',
        ':path': '/',
        ':authority': `localhost:${fixture.port}`,
        'sec-websocket-version': '13',
      });
      const [headers] = await once<[Record<string, unknown>]>(stream, 'response');
      expect(headers[':status']).toBe(401);
      expect(headers['www-authenticate']).toBe('Bearer');
      stream.close();
    } finally {
      session.destroy();
    }
    expect(seen).toEqual([true]);
  });

  it('a stream reset by the server (terminate) closes the client with 1006, without an uncaught error', async () => {
    fixture = await startH2();
    const ws = await open(fixture.url);
    const errors: unknown[] = [];
    ws.on('error', (error) => errors.push(error));
    const closing = closed(ws);
    for (const client of fixture.wss.clients) client.terminate();
    expect((await closing).code).toBe(1006);
  });

  it('attachHttp2 serves a noServer WebSocketServer; close() of a server: attachment detaches it', async () => {
    const server = createSecureServer({ key, cert });
    const wss = new WebSocketServer({ noServer: true });
    wss.on('connection', (ws: WebSocket) => ws.on('message', (data) => ws.send(data)));
    const detach = attachHttp2(server, wss);
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    const port = (server.address() as AddressInfo).port;
    try {
      const ws = await openClient(`wss://localhost:${port}/`, { ...tls, http2: 'require' });
      ws.send('noServer');
      expect(String((await nextMessage(ws)).data)).toBe('noServer');
      ws.close();
      await closed(ws);
      detach();
      expect(server.listenerCount('stream')).toBe(0);
      const attached = new WebSocketServer({ server });
      expect(server.listenerCount('stream')).toBe(1);
      await attached.close();
      expect(server.listenerCount('stream')).toBe(0);
      expect(server.listenerCount('upgrade')).toBe(0);
    } finally {
      await wss.close();
      await new Promise((resolve) => {
        server.close(resolve);
        setTimeout(resolve, 1500).unref();
      });
    }
  });
});
