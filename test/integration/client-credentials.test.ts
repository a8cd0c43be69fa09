/**
 * Where the client's credentials go (issue 12 follow-ups):
 * - `Proxy-Authorization` is for the proxy (RFC 9110 §11.7.2): with `proxy` it goes on the CONNECT
 *   request, and it is never sent to the origin (through the tunnel, directly, or over HTTP/2);
 * - URL userinfo (`ws://user:pass@host/`) becomes `Authorization: Basic …` (RFC 7617), as in `ws`
 *   and browsers; an explicit `Authorization` header wins; it is dropped on a redirect to another
 *   origin like any other Authorization.
 * Each test records the raw request heads on loopback: the proxy's CONNECT and the origin's upgrade.
 */
import { createServer as createNetServer, connect as netConnect, type Socket } from 'node:net';
import { describe, expect, it } from 'vitest';
import { ErrorCode, HandshakeError, InvalidArgumentError, WebSocket } from '../../src/index.ts';
import { cert, startH2 } from '../http2/helpers.ts';
import { cleanupsAfterEach, type HttpHead, once, RawPeer, rawServer } from './helpers.ts';

const cleanups = cleanupsAfterEach();

const basic = (credentials: string) => `Basic ${Buffer.from(credentials, 'utf8').toString('base64')}`;

/** An origin that records every upgrade request and accepts it (a valid 101). */
async function origin(): Promise<{ url: string; port: number; heads: HttpHead[] }> {
  const heads: HttpHead[] = [];
  const server = await rawServer((_peer, request) => {
    heads.push(request);
  });
  cleanups.push(() => server.close());
  return { url: server.url, port: server.port, heads };
}

/** An origin that answers each request with `answer(head)` (raw HTTP) and records the heads. */
async function answering(
  answer: (head: HttpHead) => string,
): Promise<{ url: string; port: number; heads: HttpHead[] }> {
  const heads: HttpHead[] = [];
  const server = await rawServer(
    async (peer) => {
      const head = await peer.readHttp();
      heads.push(head);
      peer.socket.end(answer(head));
    },
    { handshake: false },
  );
  cleanups.push(() => server.close());
  return { url: server.url, port: server.port, heads };
}

/** A CONNECT proxy that records each CONNECT head, optionally requires a Proxy-Authorization, and tunnels. */
async function connectProxy(requireAuth?: string): Promise<{ port: number; connects: HttpHead[] }> {
  const connects: HttpHead[] = [];
  const sockets = new Set<Socket>();
  const server = createNetServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => socket.destroy());
    const peer = new RawPeer(socket);
    void (async () => {
      const head = await peer.readHttp();
      connects.push(head);
      if (requireAuth !== undefined && head.headers['proxy-authorization'] !== requireAuth) {
        socket.end('HTTP/1.1 407 Proxy Authentication Required\r\nContent-Length: 0\r\n\r\n');
        return;
      }
      const authority = head.statusLine.split(' ')[1] ?? '';
      const colon = authority.lastIndexOf(':');
      const upstream = netConnect({
        host: authority.slice(0, colon),
        port: Number(authority.slice(colon + 1)),
      });
      sockets.add(upstream);
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
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  cleanups.push(
    () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  );
  return { port: (server.address() as { port: number }).port, connects };
}

function opened(ws: WebSocket): Promise<void> {
  cleanups.push(() => ws.terminate());
  return new Promise((resolve, reject) => {
    ws.once('open', () => resolve());
    ws.once('error', reject);
  });
}

function failed(ws: WebSocket): Promise<HandshakeError> {
  cleanups.push(() => ws.terminate());
  return new Promise((resolve, reject) => {
    ws.once('open', () => reject(new Error('unexpectedly opened')));
    ws.once('error', (error: Error) => resolve(error as HandshakeError));
  });
}

const redirect = (location: string) =>
  `HTTP/1.1 302 Found\r\nLocation: ${location}\r\nContent-Length: 0\r\n\r\n`;
const FORBIDDEN = 'HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\n\r\n';

describe('Proxy-Authorization goes to the proxy only', () => {
  it('a Proxy-Authorization header is sent on the CONNECT request, not through the tunnel to the origin', async () => {
    const target = await origin();
    const proxy = await connectProxy('Basic cHJveHk6cGFzcw==');
    const ws = new WebSocket(target.url, {
      proxy: `http://127.0.0.1:${proxy.port}`,
      headers: { 'Proxy-Authorization': 'Basic cHJveHk6cGFzcw==', 'X-Trace': 'abc' },
    });
    await opened(ws);
    expect(proxy.connects).toHaveLength(1);
    expect(proxy.connects[0]!.headers['proxy-authorization']).toBe('Basic cHJveHk6cGFzcw==');
    expect(target.heads).toHaveLength(1);
    expect(target.heads[0]!.headers['proxy-authorization']).toBeUndefined();
    expect(target.heads[0]!.headers['x-trace']).toBe('abc');
  });

  it('an explicit Proxy-Authorization header wins over the proxy URL credentials (one field, never both)', async () => {
    const target = await origin();
    const proxy = await connectProxy('Bearer proxy-token');
    const ws = new WebSocket(target.url, {
      proxy: `http://user:pw@127.0.0.1:${proxy.port}`,
      headers: { 'proxy-authorization': 'Bearer proxy-token' },
    });
    await opened(ws);
    expect(proxy.connects[0]!.headers['proxy-authorization']).toBe('Bearer proxy-token');
    expect(target.heads[0]!.headers['proxy-authorization']).toBeUndefined();
  });

  it('without a proxy, Proxy-Authorization is not sent to the origin', async () => {
    const target = await origin();
    const ws = new WebSocket(target.url, {
      headers: { 'PROXY-AUTHORIZATION': 'Basic cHJveHk6cGFzcw==', Authorization: 'Bearer origin' },
    });
    await opened(ws);
    expect(target.heads[0]!.headers['proxy-authorization']).toBeUndefined();
    expect(target.heads[0]!.headers.authorization).toBe('Bearer origin');
  });

  it('through a proxy, a redirect to another origin still authenticates to the proxy, never to an origin', async () => {
    const second = await answering(() => FORBIDDEN);
    const first = await answering(() => redirect(`${second.url}/next`));
    const proxy = await connectProxy('Basic cHJveHk6cGFzcw==');
    const error = await failed(
      new WebSocket(`${first.url}/start`, {
        proxy: `http://127.0.0.1:${proxy.port}`,
        followRedirects: true,
        headers: { 'Proxy-Authorization': 'Basic cHJveHk6cGFzcw==' },
      }),
    );
    expect(error.status).toBe(403);
    expect(proxy.connects.map((head) => head.headers['proxy-authorization'])).toEqual([
      'Basic cHJveHk6cGFzcw==',
      'Basic cHJveHk6cGFzcw==',
    ]);
    expect(first.heads[0]!.headers['proxy-authorization']).toBeUndefined();
    expect(second.heads[0]!.headers['proxy-authorization']).toBeUndefined();
  });

  it('an invalid Proxy-Authorization value (CR LF) throws synchronously, with or without a proxy', () => {
    for (const proxy of [undefined, 'http://127.0.0.1:1']) {
      expect(
        () =>
          new WebSocket('ws://127.0.0.1:1/', {
            ...(proxy === undefined ? {} : { proxy }),
            headers: { 'Proxy-Authorization': 'Basic x\r\nX-Injected: 1' },
          }),
      ).toThrow(InvalidArgumentError);
    }
  });
});

describe('URL userinfo: Authorization: Basic', () => {
  it('ws://user:p%40ss@host/ sends Authorization: Basic base64("user:p@ss") (percent-decoded), not the userinfo itself', async () => {
    const target = await origin();
    const url = target.url.replace('ws://', 'ws://us%C3%A9r:p%40ss@');
    const ws = new WebSocket(`${url}/path`);
    await opened(ws);
    const head = target.heads[0]!;
    expect(head.headers.authorization).toBe(basic('usér:p@ss'));
    expect(head.statusLine).toBe('GET /path HTTP/1.1');
    expect(head.headers.host).toBe(`127.0.0.1:${target.port}`);
  });

  it('a user name alone is user name and an empty password; a malformed escape is sent as is', async () => {
    const target = await origin();
    await opened(new WebSocket(target.url.replace('ws://', 'ws://alice@')));
    await opened(new WebSocket(target.url.replace('ws://', 'ws://a%zz:b@')));
    expect(target.heads.map((head) => head.headers.authorization)).toEqual([
      basic('alice:'),
      basic('a%zz:b'),
    ]);
  });

  it('an explicit Authorization header wins over the URL userinfo (one field)', async () => {
    const target = await origin();
    const ws = new WebSocket(target.url.replace('ws://', 'ws://user:pass@'), {
      headers: { authorization: 'Bearer explicit' },
    });
    await opened(ws);
    expect(target.heads[0]!.headers.authorization).toBe('Bearer explicit');
  });

  it('redirects: kept on the same origin (relative or absolute Location), dropped on another origin', async () => {
    const other = await answering(() => FORBIDDEN);
    const server = await answering((head) => {
      if (head.statusLine.startsWith('GET /a ')) return redirect('/b');
      if (head.statusLine.startsWith('GET /b ')) return redirect(`ws://127.0.0.1:${serverPort}/c`);
      return redirect(`${other.url}/d`);
    });
    const serverPort = server.port;
    const error = await failed(
      new WebSocket(`${server.url.replace('ws://', 'ws://user:pass@')}/a`, { followRedirects: true }),
    );
    expect(error).toBeInstanceOf(HandshakeError);
    expect(error.code).toBe(ErrorCode.UnexpectedResponse);
    expect(error.status).toBe(403);
    expect(server.heads.map((head) => head.headers.authorization)).toEqual([
      basic('user:pass'),
      basic('user:pass'),
      basic('user:pass'),
    ]);
    expect(other.heads).toHaveLength(1);
    expect(other.heads[0]!.headers.authorization).toBeUndefined();
  });

  it("over HTTP/2 (RFC 8441): the userinfo's Authorization is sent, Proxy-Authorization is not", async () => {
    const fixture = await startH2();
    cleanups.push(() => fixture.close());
    const streams: Record<string, unknown>[] = [];
    fixture.server.on('stream', (_stream, headers) => streams.push(headers));
    const ws = new WebSocket(`wss://user:pass@localhost:${fixture.port}/`, {
      ca: cert,
      http2: 'require',
      headers: { 'Proxy-Authorization': 'Basic cHJveHk6cGFzcw==' },
    });
    await opened(ws);
    expect(streams).toHaveLength(1);
    expect(streams[0]!.authorization).toBe(basic('user:pass'));
    expect(streams[0]!['proxy-authorization']).toBeUndefined();
  });
});
