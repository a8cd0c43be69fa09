/**
 * Deployment features of the client (issue 6) over real loopback sockets: an HTTP CONNECT proxy
 * (RFC 9110 §9.3.6, Basic credentials RFC 7617, TLS over the tunnel), redirects (off by default,
 * `followRedirects` with `maxRedirects`), and the socket options `localAddress`, `family` and
 * `checkServerIdentity`.
 */
import { readFileSync } from 'node:fs';
import { createServer as createNetServer, connect as netConnect, type Server, type Socket } from 'node:net';
import { describe, expect, it } from 'vitest';
import {
  ErrorCode,
  HandshakeError,
  InvalidArgumentError,
  type VerifyClientInfo,
  WebSocket,
} from '../../src/index.ts';
import { cleanupsAfterEach, type HttpHead, type Listening, listen, once, RawPeer } from './helpers.ts';

const fixtures = new URL('../fixtures/', import.meta.url);
const cert = readFileSync(new URL('localhost-cert.pem', fixtures));
const key = readFileSync(new URL('localhost-key.pem', fixtures));

const cleanups = cleanupsAfterEach();

async function start(options: Parameters<typeof listen>[0] = {}): Promise<Listening> {
  const listening = await listen(options);
  listening.server.on('connection', (ws: WebSocket) => {
    ws.on('message', (data: Buffer, isBinary: boolean) => ws.send(data, { binary: isBinary }));
  });
  cleanups.push(() => listening.server.close({ timeout: 200 }));
  return listening;
}

/** A TCP server on 127.0.0.1:0 whose sockets are all destroyed at cleanup. */
async function tcpServer(onSocket: (socket: Socket) => void): Promise<{ server: Server; port: number }> {
  const sockets = new Set<Socket>();
  const server = createNetServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => socket.destroy());
    onSocket(socket);
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  cleanups.push(
    () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  );
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('no TCP address');
  return { server, port: address.port };
}

interface ProxyLog {
  readonly requests: HttpHead[];
}

/**
 * A real CONNECT proxy: reads the request head, optionally requires `Proxy-Authorization`, answers
 * 200 and pipes both ways to the requested host:port.
 */
async function connectProxy(
  options: { readonly requireAuth?: string; readonly refuseWith?: number } = {},
): Promise<{ port: number; url: string; log: ProxyLog }> {
  const log: ProxyLog = { requests: [] };
  const { port } = await tcpServer((socket) => {
    const peer = new RawPeer(socket);
    void (async () => {
      const head = await peer.readHttp();
      log.requests.push(head);
      const [method, authority = ''] = head.statusLine.split(' ');
      if (options.refuseWith !== undefined) {
        socket.end(`HTTP/1.1 ${options.refuseWith} Refused\r\nContent-Length: 0\r\n\r\n`);
        return;
      }
      if (method !== 'CONNECT') {
        socket.end('HTTP/1.1 405 Method Not Allowed\r\nContent-Length: 0\r\n\r\n');
        return;
      }
      if (options.requireAuth !== undefined && head.headers['proxy-authorization'] !== options.requireAuth) {
        socket.end(
          'HTTP/1.1 407 Proxy Authentication Required\r\nProxy-Authenticate: Basic realm="t"\r\n' +
            'Content-Length: 0\r\n\r\n',
        );
        return;
      }
      const colon = authority.lastIndexOf(':');
      const upstream = netConnect({
        host: authority.slice(0, colon).replace(/^\[|\]$/g, ''),
        port: Number(authority.slice(colon + 1)),
      });
      upstream.on('error', () => socket.destroy());
      socket.on('close', () => upstream.destroy());
      upstream.on('close', () => socket.destroy());
      await once(upstream, 'connect');
      socket.removeAllListeners('data');
      socket.write('HTTP/1.1 200 Connection Established\r\n\r\n');
      if (peer.buffered.length > 0) upstream.write(peer.buffered);
      socket.pipe(upstream);
      upstream.pipe(socket);
    })().catch(() => socket.destroy());
  });
  return { port, url: `http://127.0.0.1:${port}`, log };
}

/** A client whose handshake fails: resolves with the HandshakeError it reports. */
async function failedConnect(url: string, options: Record<string, unknown> = {}): Promise<HandshakeError> {
  const ws = new WebSocket(url, options);
  const closed = once<[number]>(ws, 'close');
  const [error] = await once<[Error]>(ws, 'error');
  expect((await closed)[0]).toBe(1006);
  expect(error).toBeInstanceOf(HandshakeError);
  return error as HandshakeError;
}

async function echoOnce(ws: WebSocket, text: string): Promise<void> {
  const reply = once<[Buffer]>(ws, 'message');
  ws.send(text);
  expect((await reply)[0].toString()).toBe(text);
}

describe('HTTP CONNECT proxy', () => {
  it('ws:// through the proxy: CONNECT host:port, no credentials header, then a normal WebSocket', async () => {
    const target = await start();
    const proxy = await connectProxy();
    const ws = new WebSocket(target.url, { proxy: proxy.url });
    cleanups.push(() => ws.terminate());
    await once(ws, 'open');
    await echoOnce(ws, 'via proxy');
    expect(proxy.log.requests).toHaveLength(1);
    const [request] = proxy.log.requests;
    expect(request!.statusLine).toBe(`CONNECT 127.0.0.1:${target.port} HTTP/1.1`);
    expect(request!.headers.host).toBe(`127.0.0.1:${target.port}`);
    expect(request!.headers['proxy-authorization']).toBeUndefined();
  });

  it('sends Proxy-Authorization: Basic with the URL credentials (percent-decoded)', async () => {
    const target = await start();
    const expected = `Basic ${Buffer.from('user:p@ss').toString('base64')}`;
    const proxy = await connectProxy({ requireAuth: expected });
    const ws = new WebSocket(target.url, { proxy: `http://user:p%40ss@127.0.0.1:${proxy.port}` });
    cleanups.push(() => ws.terminate());
    await once(ws, 'open');
    expect(proxy.log.requests[0]!.headers['proxy-authorization']).toBe(expected);
  });

  it('a proxy that refuses (407 without credentials, 403) is a HandshakeError with its status', async () => {
    const target = await start();
    const needsAuth = await connectProxy({ requireAuth: 'Basic eDp5' });
    expect((await failedConnect(target.url, { proxy: needsAuth.url })).status).toBe(407);
    const wrong = await failedConnect(target.url, { proxy: `http://x:wrong@127.0.0.1:${needsAuth.port}` });
    expect(wrong.status).toBe(407);
    const forbidding = await connectProxy({ refuseWith: 403 });
    const error = await failedConnect(target.url, { proxy: forbidding.url });
    expect(error.status).toBe(403);
    expect(error.code).toBe(ErrorCode.ProxyFailed);
    expect(target.server.clients.size).toBe(0);
  });

  it('a proxy that closes without answering, or is not listening, fails with status 0', async () => {
    const target = await start();
    const { port } = await tcpServer((socket) => socket.destroy());
    expect((await failedConnect(target.url, { proxy: `http://127.0.0.1:${port}` })).status).toBe(0);
    const { server, port: closedPort } = await tcpServer(() => undefined);
    await new Promise((resolve) => server.close(resolve));
    expect((await failedConnect(target.url, { proxy: `http://127.0.0.1:${closedPort}` })).status).toBe(0);
  });

  it('a proxy answering garbage fails the handshake', async () => {
    const target = await start();
    const { port } = await tcpServer((socket) => socket.end('NOT HTTP AT ALL\r\n\r\n'));
    const error = await failedConnect(target.url, { proxy: `http://127.0.0.1:${port}` });
    expect(error.code).toBe(ErrorCode.MalformedHttp);
  });

  it('wss:// through the proxy: TLS runs end to end over the tunnel (certificate checked)', async () => {
    const target = await start({ tls: { cert, key } });
    const proxy = await connectProxy();
    const url = `wss://localhost:${target.port}`;
    const ws = new WebSocket(url, { proxy: proxy.url, ca: cert, family: 4 });
    cleanups.push(() => ws.terminate());
    await once(ws, 'open');
    await echoOnce(ws, 'tls in a tunnel');
    expect(proxy.log.requests[0]!.statusLine).toBe(`CONNECT localhost:${target.port} HTTP/1.1`);
    // Without the CA the certificate is refused: the proxy does not weaken TLS.
    const refused = await failedConnect(url, { proxy: proxy.url });
    expect(refused.status).toBe(0);
  });

  it('rejects a proxy URL that is invalid or not http:// synchronously (WS_ERR_INVALID_ARGUMENT)', async () => {
    const target = await start();
    for (const proxy of ['not a url', 'https://127.0.0.1:1', 'socks5://127.0.0.1:1']) {
      expect(() => new WebSocket(target.url, { proxy })).toThrow(InvalidArgumentError);
      expect(() => new WebSocket(target.url, { proxy })).toThrow(
        expect.objectContaining({ code: ErrorCode.InvalidArgument }),
      );
    }
  });
});

/** A server answering every request with `status` and `Location: location(n)` (n = request count). */
async function redirector(
  status: number,
  location: (count: number, port: number) => string | null,
): Promise<{ port: number; url: string; requests: HttpHead[] }> {
  const requests: HttpHead[] = [];
  let port = 0;
  ({ port } = await tcpServer((socket) => {
    const peer = new RawPeer(socket);
    void peer.readHttp().then(
      (head) => {
        requests.push(head);
        const to = location(requests.length, port);
        socket.end(
          `HTTP/1.1 ${status} Redirect\r\n${to === null ? '' : `Location: ${to}\r\n`}Content-Length: 0\r\n\r\n`,
        );
      },
      () => socket.destroy(),
    );
  }));
  return { port, url: `ws://127.0.0.1:${port}`, requests };
}

describe('redirects', () => {
  it('off by default: a 3xx is a HandshakeError with that status', async () => {
    const target = await start();
    const redirect = await redirector(302, () => `${target.url}/`);
    const error = await failedConnect(`${redirect.url}/old`);
    expect(error.status).toBe(302);
    expect(target.server.clients.size).toBe(0);
  });

  for (const status of [301, 302, 303, 307, 308]) {
    it(`followRedirects: follows ${status} to the new URL (http:// maps to ws://)`, async () => {
      const target = await start({ path: '/new' });
      const redirect = await redirector(status, () => `http://127.0.0.1:${target.port}/new?x=1`);
      const ws = new WebSocket(`${redirect.url}/old`, { followRedirects: true });
      cleanups.push(() => ws.terminate());
      await once(ws, 'open');
      expect(ws.url).toBe(`ws://127.0.0.1:${target.port}/new?x=1`);
      await echoOnce(ws, 'redirected');
      expect(redirect.requests[0]!.statusLine).toBe('GET /old HTTP/1.1');
    });
  }

  it('resolves a relative Location against the current URL', async () => {
    // "/b" relative to the redirector is the redirector again: each hop shows the resolved path.
    const relative = await redirector(308, () => '/b');
    const error = await failedConnect(`${relative.url}/a`, { followRedirects: true, maxRedirects: 2 });
    expect(error.status).toBe(308);
    expect(relative.requests.map((r) => r.statusLine)).toEqual([
      'GET /a HTTP/1.1',
      'GET /b HTTP/1.1',
      'GET /b HTTP/1.1',
    ]);
  });

  it('stops a redirect loop at maxRedirects with a HandshakeError (3xx status)', async () => {
    const loop = await redirector(302, (_count, port) => `ws://127.0.0.1:${port}/again`);
    const error = await failedConnect(`${loop.url}/`, { followRedirects: true, maxRedirects: 3 });
    expect(error.status).toBe(302);
    expect(error.message).toBe('Maximum redirects exceeded');
    expect(error.code).toBe(ErrorCode.TooManyRedirects);
    expect(loop.requests).toHaveLength(4); // the first request and 3 redirects
    // Default limit: 10.
    const defaultLoop = await redirector(301, (_count, port) => `ws://127.0.0.1:${port}/`);
    expect((await failedConnect(defaultLoop.url, { followRedirects: true })).status).toBe(301);
    expect(defaultLoop.requests).toHaveLength(11);
  });

  it('a redirect without Location, or to a non-WebSocket scheme, is a HandshakeError', async () => {
    const noLocation = await redirector(302, () => null);
    expect((await failedConnect(noLocation.url, { followRedirects: true })).status).toBe(302);
    const ftp = await redirector(301, () => 'ftp://127.0.0.1/file');
    const error = await failedConnect(ftp.url, { followRedirects: true });
    expect(error.status).toBe(301);
    expect(error.message).toMatch(/cannot follow/);
  });

  it('keeps Authorization and Cookie on the same host, drops them for another host or port', async () => {
    const seen: Record<string, string | string[] | undefined>[] = [];
    const target = await start({
      verifyClient: (info: VerifyClientInfo) => {
        seen.push(info.req.headers);
        return true;
      },
    });
    const redirect = await redirector(307, () => `${target.url}/`);
    const headers = { Authorization: 'Bearer secret', Cookie: 'sid=1', 'X-Trace': 'abc' };
    const ws = new WebSocket(redirect.url, { followRedirects: true, headers });
    cleanups.push(() => ws.terminate());
    await once(ws, 'open');
    expect(redirect.requests[0]!.headers.authorization).toBe('Bearer secret');
    expect(seen[0]!.authorization).toBeUndefined();
    expect(seen[0]!.cookie).toBeUndefined();
    expect(seen[0]!['x-trace']).toBe('abc');
  });

  it('rejects an invalid maxRedirects synchronously', () => {
    expect(() => new WebSocket('ws://127.0.0.1:1', { followRedirects: true, maxRedirects: -1 })).toThrow(
      expect.objectContaining({ code: ErrorCode.InvalidArgument }),
    );
  });
});

describe('socket options', () => {
  it('localAddress: the server sees the connection from that address', async () => {
    const target = await start();
    const accepted = once<[WebSocket, { socket: Socket }]>(target.server, 'connection');
    const ws = new WebSocket(target.url, { localAddress: '127.0.0.1' });
    cleanups.push(() => ws.terminate());
    await once(ws, 'open');
    const [, request] = await accepted;
    expect(request.socket.remoteAddress).toBe('127.0.0.1');
  });

  it('family: 4 resolves localhost to 127.0.0.1', async () => {
    const target = await start({ host: '127.0.0.1' });
    const ws = new WebSocket(`ws://localhost:${target.port}`, { family: 4 });
    cleanups.push(() => ws.terminate());
    await once(ws, 'open');
    await echoOnce(ws, 'v4');
  });

  it('checkServerIdentity: its error fails the handshake; accepting it lets the connection open', async () => {
    const target = await start({ tls: { cert, key } });
    const url = `wss://localhost:${target.port}`;
    let called = 0;
    const error = await failedConnect(url, {
      ca: cert,
      checkServerIdentity: () => {
        called++;
        return new Error('pinned certificate mismatch');
      },
    });
    expect(called).toBe(1);
    expect(error.message).toMatch(/pinned certificate mismatch/);
    const ws = new WebSocket(url, { ca: cert, checkServerIdentity: () => undefined });
    cleanups.push(() => ws.terminate());
    await once(ws, 'open');
  });
});
