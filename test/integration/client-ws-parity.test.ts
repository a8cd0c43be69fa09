/**
 * Client options and events that code written for `ws` relies on (issue 13): `agent`,
 * `createConnection`, `finishRequest`, net/tls options passed through, a custom `Host`, `auth`,
 * 'redirect', 'unexpected-response', an `http.IncomingMessage` in 'upgrade', http(s):// URLs,
 * `generateMask`, and close()/terminate() before 'open'. Each test talks to a server on loopback.
 */
import { readFileSync } from 'node:fs';
import { Agent, ClientRequest, IncomingMessage } from 'node:http';
import { connect as netConnect, type Socket } from 'node:net';
import tls, { createServer as createTlsServer } from 'node:tls';
import { describe, expect, it } from 'vitest';
import {
  ErrorCode,
  HandshakeError,
  InvalidOptionError,
  WebSocket,
  type WebSocketError,
} from '../../src/index.ts';
import {
  acceptKeyFor,
  cleanupsAfterEach,
  type HttpHead,
  listen,
  once,
  type RawPeer,
  rawServer,
  WAIT_MS,
  withTimeout,
} from './helpers.ts';

const fixtures = new URL('../fixtures/', import.meta.url);
const cert = readFileSync(new URL('localhost-cert.pem', fixtures));
const key = readFileSync(new URL('localhost-key.pem', fixtures));

const cleanups = cleanupsAfterEach();

function track(ws: WebSocket): WebSocket {
  cleanups.push(() => {
    if (ws.readyState !== WebSocket.CLOSED) ws.terminate();
  });
  return ws;
}

/** A raw server that records each upgrade request and accepts it (a valid 101, plus `extra` fields). */
async function accepting(
  extra = '',
  onPeer: (peer: RawPeer, head: HttpHead) => void | Promise<void> = () => undefined,
): Promise<{ url: string; port: number; heads: HttpHead[] }> {
  const heads: HttpHead[] = [];
  const server = await rawServer(
    async (peer) => {
      const head = await peer.readHttp();
      heads.push(head);
      peer.write(
        'HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n' +
          `Sec-WebSocket-Accept: ${acceptKeyFor(head.headers['sec-websocket-key'] ?? '')}\r\n${extra}\r\n`,
      );
      await onPeer(peer, head);
    },
    { handshake: false },
  );
  cleanups.push(() => server.close());
  return { url: server.url, port: server.port, heads };
}

/** A raw server that answers the n-th request with `answers[n]` (raw HTTP), then accepts. */
async function answering(
  answers: readonly ((head: HttpHead) => string)[],
): Promise<{ url: string; port: number; heads: HttpHead[] }> {
  const heads: HttpHead[] = [];
  const server = await rawServer(
    async (peer) => {
      const head = await peer.readHttp();
      const answer = answers[heads.length];
      heads.push(head);
      if (answer !== undefined) {
        peer.socket.end(answer(head));
        return;
      }
      peer.write(
        'HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n' +
          `Sec-WebSocket-Accept: ${acceptKeyFor(head.headers['sec-websocket-key'] ?? '')}\r\n\r\n`,
      );
    },
    { handshake: false },
  );
  cleanups.push(() => server.close());
  return { url: server.url, port: server.port, heads };
}

/** An http.Agent whose addRequest only records the request (nothing is connected). */
function recordingAgent(): { agent: Agent; requests: Promise<[ClientRequest, Record<string, unknown>]> } {
  const agent = new Agent();
  const requests = new Promise<[ClientRequest, Record<string, unknown>]>((resolve) => {
    // Not in @types/node, but what Node's ClientRequest calls (and what ws's own tests override).
    (agent as unknown as { addRequest: unknown }).addRequest = (
      request: ClientRequest,
      options: Record<string, unknown>,
    ) => {
      resolve([request, options]);
    };
  });
  return { agent, requests };
}

describe('client: agent, createConnection, finishRequest (as in ws)', () => {
  it('sends the handshake request through the agent, with every field already set', async () => {
    const { agent, requests } = recordingAgent();
    const ws = track(
      new WebSocket('ws://example.test:8080/chat?x=1', ['chat'], {
        agent,
        origin: 'https://app.example',
        headers: { Cookie: 'a=1' },
      }),
    );
    const [request, options] = await withTimeout(requests, WAIT_MS, 'addRequest');
    expect(options.host).toBe('example.test');
    expect(options.port).toBe('8080');
    expect(request.path).toBe('/chat?x=1');
    expect(request.getHeader('host')).toBe('example.test:8080');
    expect(request.getHeader('upgrade')).toBe('websocket');
    expect(request.getHeader('sec-websocket-protocol')).toBe('chat');
    expect(request.getHeader('origin')).toBe('https://app.example');
    expect(request.getHeader('cookie')).toBe('a=1');
    expect(ws.readyState).toBe(WebSocket.CONNECTING);
  });

  it('protocolVersion 8 (the last draft, as in ws): Sec-WebSocket-Version 8, the origin in Sec-WebSocket-Origin', async () => {
    const { agent, requests } = recordingAgent();
    track(new WebSocket('ws://example.test/', { agent, protocolVersion: 8, origin: 'https://app.example' }));
    const [request] = await withTimeout(requests, WAIT_MS, 'addRequest');
    expect(request.getHeader('sec-websocket-version')).toBe('8');
    expect(request.getHeader('sec-websocket-origin')).toBe('https://app.example');
    expect(request.getHeader('origin')).toBeUndefined();
  });

  it('protocolVersion 8 opens against our server, which speaks it too', async () => {
    const listening = await listen();
    cleanups.push(() => listening.server.close({ timeout: 200 }));
    const ws = track(new WebSocket(listening.url, { protocolVersion: 8 }));
    await once(ws, 'open');
  });

  it('an http:// URL is a ws:// one (url, default port 80), as in ws', async () => {
    const { agent, requests } = recordingAgent();
    const ws = track(new WebSocket('http://example.test/path', { agent }));
    expect(ws.url).toBe('ws://example.test/path');
    const [, options] = await withTimeout(requests, WAIT_MS, 'addRequest');
    expect(options.port).toBe(80);
  });

  it('a real http.Agent connects, and the WebSocket opens', async () => {
    const server = await accepting();
    const agent = new Agent();
    cleanups.push(() => agent.destroy());
    const ws = track(new WebSocket(server.url, { agent }));
    await once(ws, 'open');
    expect(server.heads).toHaveLength(1);
  });

  it('createConnection opens the socket; the Host and url stay those of the URL', async () => {
    const server = await accepting();
    const seen: Record<string, unknown>[] = [];
    const ws = track(
      new WebSocket('ws://example.test:22/foo', {
        keepAlive: { interval: 60_000 },
        createConnection: (options) => {
          seen.push(options as Record<string, unknown>);
          return netConnect({ host: '127.0.0.1', port: server.port });
        },
      }),
    );
    await once(ws, 'open');
    expect(seen[0]?.host).toBe('example.test');
    expect(seen[0]?.port).toBe('22');
    // Our keepAlive (the WebSocket heartbeat) is not net's TCP keepAlive flag.
    expect(seen[0]?.keepAlive).toBeUndefined();
    expect(server.heads[0]?.headers.host).toBe('example.test:22');
    expect(ws.url).toBe('ws://example.test:22/foo');
  });

  it('finishRequest gets the ClientRequest and the WebSocket, and ends the request itself', async () => {
    const server = await accepting();
    let given: WebSocket | undefined;
    const ws = track(
      new WebSocket(server.url, {
        finishRequest(request, websocket) {
          expect(request).toBeInstanceOf(ClientRequest);
          given = websocket;
          request.setHeader('Cookie', 'late=1');
          request.end();
        },
      }),
    );
    await once(ws, 'open');
    expect(given).toBe(ws);
    expect(server.heads[0]?.headers.cookie).toBe('late=1');
  });

  it('net options reach the connection (a custom lookup), as in ws', async () => {
    const server = await accepting();
    const names: string[] = [];
    const ws = track(
      new WebSocket(`ws://sockwire.invalid:${server.port}/`, {
        lookup: ((hostname: string, _options: unknown, callback: (...args: unknown[]) => void) => {
          names.push(hostname);
          callback(null, [{ address: '127.0.0.1', family: 4 }]);
        }) as never,
      }),
    );
    await once(ws, 'open');
    expect(names).toEqual(['sockwire.invalid']);
  });

  it('the new options are checked at construction (InvalidOptionError naming the option)', () => {
    for (const [option, value] of [
      ['agent', {}],
      ['createConnection', 'net.connect'],
      ['finishRequest', true],
      ['generateMask', Buffer.alloc(4)],
      ['auth', 42],
      ['protocolVersion', 7],
    ] as const) {
      expect(() => new WebSocket('ws://127.0.0.1:1/', { [option]: value })).toThrow(
        expect.objectContaining({ option, code: 'WS_ERR_INVALID_ARGUMENT' }),
      );
    }
  });

  it('tls options reach the TLS connection (maxVersion), and an https:// URL is wss://', async () => {
    const listening = await listen({ tls: { cert, key, minVersion: 'TLSv1.3' } });
    cleanups.push(() => listening.server.close({ timeout: 200 }));
    const url = `https://localhost:${listening.port}/`;
    const refused = track(new WebSocket(url, { ca: cert, maxVersion: 'TLSv1.2' }));
    expect(refused.url).toBe(`wss://localhost:${listening.port}/`);
    const [error] = await once<[HandshakeError]>(refused, 'error');
    expect(error).toBeInstanceOf(HandshakeError);
    expect(error.status).toBe(0);
    const accepted = track(new WebSocket(url, { ca: cert, minVersion: 'TLSv1.3' }));
    await once(accepted, 'open');
  });

  it("servername: '' reaches tls.connect (no SNI, as in ws), also for an IP host; wrapping tls.connect works", async () => {
    const names: (string | false | null)[] = [];
    const server = createTlsServer({ cert, key }, (socket) => {
      names.push(socket.servername);
      socket.destroy();
    });
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    cleanups.push(() => new Promise((resolve) => server.close(resolve)));
    const port = (server.address() as { port: number }).port;
    const original = tls.connect;
    const servernames: unknown[] = [];
    tls.connect = ((...args: Parameters<typeof tls.connect>) => {
      servernames.push((args[0] as { servername?: string }).servername);
      return original(...args);
    }) as typeof tls.connect;
    try {
      for (const [host, servername] of [
        ['127.0.0.1', ''],
        ['localhost', undefined],
      ] as const) {
        const ws = track(
          new WebSocket(`wss://${host}:${port}/`, {
            ca: cert,
            checkServerIdentity: () => undefined,
            ...(servername === undefined ? {} : { servername }),
          }),
        );
        ws.on('error', () => undefined);
        await once(ws, 'close');
      }
    } finally {
      tls.connect = original;
    }
    expect(servernames).toEqual(['', 'localhost']);
    expect(names).toEqual([false, 'localhost']);
  });

  it('proxy with agent is refused at construction', () => {
    expect(
      () => new WebSocket('ws://127.0.0.1:1/', { agent: new Agent(), proxy: 'http://127.0.0.1:2' }),
    ).toThrow(InvalidOptionError);
  });
});

describe('client: Host and Authorization', () => {
  it('a Host in headers replaces the computed one', async () => {
    const server = await accepting();
    const ws = track(new WebSocket(server.url, { headers: { host: 'app.example:8443' } }));
    await once(ws, 'open');
    expect(server.heads[0]?.headers.host).toBe('app.example:8443');
  });

  it('an invalid Host is refused at construction (RFC 9110 §7.2)', () => {
    for (const host of ['a b', 'a\r\nX: y', '']) {
      expect(() => new WebSocket('ws://127.0.0.1:1/', { headers: { Host: host } })).toThrow(
        InvalidOptionError,
      );
    }
  });

  it('a custom Host is not sent on to another host after a redirect', async () => {
    const target = await accepting();
    const first = await answering([
      () => `HTTP/1.1 302 Found\r\nLocation: ws://localhost:${target.port}/next\r\nContent-Length: 0\r\n\r\n`,
    ]);
    const ws = track(
      new WebSocket(first.url, { headers: { Host: 'custom.example' }, followRedirects: true }),
    );
    await once(ws, 'open');
    expect(first.heads[0]?.headers.host).toBe('custom.example');
    expect(target.heads[0]?.headers.host).toBe(`localhost:${target.port}`);
  });

  it('auth becomes Authorization: Basic; URL userinfo wins over it; a header wins over both', async () => {
    const server = await accepting();
    const basic = (credentials: string) => `Basic ${Buffer.from(credentials).toString('base64')}`;
    const port = server.port;
    for (const [url, options] of [
      [`ws://127.0.0.1:${port}/`, { auth: 'user:pâss' }],
      [`ws://other:pw@127.0.0.1:${port}/`, { auth: 'user:pâss' }],
      [`ws://other:pw@127.0.0.1:${port}/`, { auth: 'user:pâss', headers: { Authorization: 'Bearer t' } }],
    ] as const) {
      const ws = track(new WebSocket(url, options));
      await once(ws, 'open');
      ws.terminate();
    }
    expect(server.heads.map((head) => head.headers.authorization)).toEqual([
      basic('user:pâss'),
      basic('other:pw'),
      'Bearer t',
    ]);
  });
});

describe("client: 'redirect' and 'unexpected-response' (as in ws)", () => {
  it("'redirect' gets the next URL and its request before it is sent; header fields can be removed", async () => {
    const server = await answering([
      () => 'HTTP/1.1 302 Found\r\nLocation: /next\r\nContent-Length: 0\r\n\r\n',
    ]);
    const ws = track(new WebSocket(server.url, { followRedirects: true, headers: { Cookie: 'a=1' } }));
    const redirects: string[] = [];
    ws.on('redirect', (url, request) => {
      redirects.push(url);
      expect(request).toBeInstanceOf(ClientRequest);
      expect(request.getHeader('cookie')).toBe('a=1');
      request.removeHeader('cookie');
    });
    await once(ws, 'open');
    expect(redirects).toEqual([`${server.url}/next`]);
    expect(ws.url).toBe(`${server.url}/next`);
    expect(server.heads[0]?.headers.cookie).toBe('a=1');
    expect(server.heads[1]?.headers.cookie).toBeUndefined();
  });

  it("close() in a 'redirect' listener: one error ('closed before the connection was established'), close 1006", async () => {
    const server = await answering([
      () => 'HTTP/1.1 302 Found\r\nLocation: /next\r\nContent-Length: 0\r\n\r\n',
    ]);
    const ws = track(new WebSocket(server.url, { followRedirects: true }));
    const errors: Error[] = [];
    ws.on('error', (error) => errors.push(error));
    ws.on('redirect', () => ws.close());
    const [code] = await once<[number]>(ws, 'close');
    expect(code).toBe(1006);
    expect(errors.map((error) => error.message)).toEqual([
      'WebSocket was closed before the connection was established',
    ]);
    expect(server.heads).toHaveLength(1);
  });

  it("'unexpected-response' owns a non-101 answer: (request, response) with the body, and no 'error'", async () => {
    const server = await answering([
      () => 'HTTP/1.1 401 Unauthorized\r\nWWW-Authenticate: Basic\r\nContent-Length: 4\r\n\r\nnope',
    ]);
    const ws = track(new WebSocket(server.url));
    const errors: Error[] = [];
    ws.on('error', (error) => errors.push(error));
    const [request, response] = await once<[ClientRequest, IncomingMessage]>(ws, 'unexpected-response');
    expect(request).toBeInstanceOf(ClientRequest);
    expect(response).toBeInstanceOf(IncomingMessage);
    expect(response.statusCode).toBe(401);
    expect(response.headers['www-authenticate']).toBe('Basic');
    const chunks: Buffer[] = [];
    response.on('data', (chunk: Buffer) => chunks.push(chunk));
    await once(response, 'end');
    expect(Buffer.concat(chunks).toString()).toBe('nope');
    expect(errors).toEqual([]);
    expect(ws.readyState).toBe(WebSocket.CONNECTING);
    // Closing it afterwards is closing before the connection was established, as in ws.
    const closed = once<[number]>(ws, 'close');
    ws.close();
    const [code] = await closed;
    expect(code).toBe(1006);
    expect(errors.map((error) => error.message)).toEqual([
      'WebSocket was closed before the connection was established',
    ]);
  });

  it("close() after an 'unexpected-response' read to its end also drops a kept-alive connection", async () => {
    const peers: RawPeer[] = [];
    const server = await rawServer(
      async (peer) => {
        peers.push(peer);
        await peer.readHttp();
        peer.write('HTTP/1.1 502 Bad Gateway\r\nConnection: keep-alive\r\nContent-Length: 3\r\n\r\nfoo');
      },
      { handshake: false },
    );
    cleanups.push(() => server.close());
    const ws = track(new WebSocket(server.url));
    ws.on('error', () => undefined);
    const [, response] = await once<[ClientRequest, IncomingMessage]>(ws, 'unexpected-response');
    response.resume();
    await once(response, 'end');
    const closed = once<[number]>(ws, 'close');
    ws.close();
    expect((await closed)[0]).toBe(1006);
    await peers[0]!.waitEnded();
  });

  it('without a listener: a HandshakeError with the status, the headers and the body', async () => {
    const server = await answering([
      () =>
        'HTTP/1.1 403 Forbidden\r\nSet-Cookie: a=1\r\nSet-Cookie: b=2\r\nContent-Length: 9\r\n\r\nforbidden',
    ]);
    const ws = track(new WebSocket(server.url));
    const [error] = await once<[HandshakeError]>(ws, 'error');
    expect(error).toBeInstanceOf(HandshakeError);
    expect(error.status).toBe(403);
    expect(error.message).toBe('Unexpected server response: 403');
    expect(error.headers?.['set-cookie']).toEqual(['a=1', 'b=2']);
    expect(error.body?.toString()).toBe('forbidden');
  });

  it('the body kept on the HandshakeError is bounded (16 KiB)', async () => {
    const big = 'x'.repeat(100 * 1024);
    const server = await answering([
      () => `HTTP/1.1 500 Internal Server Error\r\nContent-Length: ${big.length}\r\n\r\n${big}`,
    ]);
    const ws = track(new WebSocket(server.url));
    const [error] = await once<[HandshakeError]>(ws, 'error');
    expect(error.status).toBe(500);
    expect(error.body?.length).toBe(16 * 1024);
  });

  it('a body that never ends is read for a bounded time: the error comes with what arrived', async () => {
    const server = await rawServer(
      async (peer) => {
        await peer.readHttp();
        // Announces a megabyte, sends seven bytes, then keeps the connection open and silent.
        peer.write('HTTP/1.1 503 Service Unavailable\r\nContent-Length: 1000000\r\n\r\npartial');
      },
      { handshake: false },
    );
    cleanups.push(() => server.close());
    const ws = track(new WebSocket(server.url, { handshakeTimeout: 60_000 }));
    const [error] = await withTimeout(once<[HandshakeError]>(ws, 'error'), WAIT_MS, "'error'");
    expect(error.status).toBe(503);
    expect(error.body?.toString()).toBe('partial');
  });
});

describe("client: 'upgrade', generateMask, close before open", () => {
  it("'upgrade' gets an http.IncomingMessage (set-cookie as an array)", async () => {
    const server = await accepting('Set-Cookie: a=1\r\nSet-Cookie: b=2\r\n');
    const ws = track(new WebSocket(server.url));
    const [response] = await once<[IncomingMessage]>(ws, 'upgrade');
    expect(response).toBeInstanceOf(IncomingMessage);
    expect(response.statusCode).toBe(101);
    expect(response.statusMessage).toBe('Switching Protocols');
    expect(response.httpVersion).toBe('1.1');
    expect(response.headers['set-cookie']).toEqual(['a=1', 'b=2']);
    expect(response.rawHeaders).toContain('Set-Cookie');
  });

  it('generateMask fills the masking key of every frame (§5.3)', async () => {
    const frames: Buffer[] = [];
    const received = new Promise<void>((resolve) => {
      void accepting('', async (peer) => {
        await peer.waitFor(() => (peer.buffered.length >= 2 + 4 + 3 ? true : undefined), 'a frame');
        frames.push(Buffer.from(peer.buffered));
        resolve();
      }).then((server) => {
        const ws = track(
          new WebSocket(server.url, {
            perMessageDeflate: false,
            generateMask: (mask: Buffer) => {
              mask.set([1, 2, 3, 4]);
            },
          }),
        );
        ws.on('open', () => ws.send('abc'));
      });
    });
    await withTimeout(received, WAIT_MS, 'the frame');
    const frame = frames[0]!;
    expect([...frame.subarray(2, 6)]).toEqual([1, 2, 3, 4]);
    expect(frame.subarray(6, 9)).toEqual(Buffer.from([0x61 ^ 1, 0x62 ^ 2, 0x63 ^ 3]));
  });

  for (const method of ['close', 'terminate'] as const) {
    it(`${method}() in an 'upgrade' listener: error, close 1006, never 'open' nor a message`, async () => {
      const server = await accepting('', (peer) => {
        // A text frame right behind the 101: it must not be delivered.
        peer.write(Buffer.from([0x81, 0x02, 0x68, 0x69]));
      });
      const ws = track(new WebSocket(server.url));
      const events: string[] = [];
      ws.on('open', () => events.push('open'));
      ws.on('message', () => events.push('message'));
      ws.on('error', (error) => events.push(`error: ${error.message}`));
      ws.on('upgrade', () => ws[method]());
      const [code] = await once<[number]>(ws, 'close');
      await new Promise((resolve) => setTimeout(resolve, 30));
      expect(code).toBe(1006);
      expect(events).toEqual(['error: WebSocket was closed before the connection was established']);
    });
  }

  it("close() while CONNECTING reports 'WebSocket was closed before the connection was established'", async () => {
    const sockets: Socket[] = [];
    const server = await rawServer(
      (peer) => {
        sockets.push(peer.socket);
      },
      { handshake: false },
    );
    cleanups.push(() => server.close());
    const ws = track(new WebSocket(server.url));
    const errors: Error[] = [];
    ws.on('error', (error) => errors.push(error));
    const closed = once<[number]>(ws, 'close');
    ws.close();
    const [code] = await closed;
    expect(code).toBe(1006);
    expect(errors.map((error) => error.message)).toEqual([
      'WebSocket was closed before the connection was established',
    ]);
    expect((errors[0] as WebSocketError).code).toBe(ErrorCode.HandshakeAborted);
  });
});

describe("client: ws's error messages", () => {
  it("bad permessage-deflate parameters: 'Invalid Sec-WebSocket-Extensions header', the reason as cause", async () => {
    const server = await accepting(
      'Sec-WebSocket-Extensions: permessage-deflate; client_max_window_bits=7\r\n',
    );
    const ws = track(new WebSocket(server.url));
    const [error] = await once<[HandshakeError]>(ws, 'error');
    expect(error.message).toBe('Invalid Sec-WebSocket-Extensions header');
    expect(error.status).toBe(101);
    expect(error.code).toBe(ErrorCode.InvalidExtensions);
    expect(error.cause).toBeInstanceOf(Error);
  });

  it("a server that never answers: 'Opening handshake has timed out' (WS_ERR_HANDSHAKE_TIMEOUT)", async () => {
    const server = await rawServer(() => undefined, { handshake: false });
    cleanups.push(() => server.close());
    const ws = track(new WebSocket(server.url, { handshakeTimeout: 100 }));
    const [error] = await once<[HandshakeError]>(ws, 'error');
    expect(error.message).toBe('Opening handshake has timed out');
    expect(error.code).toBe('WS_ERR_HANDSHAKE_TIMEOUT');
  });

  it('a response head over maxHeaderSize: WS_ERR_HEAD_TOO_LARGE', async () => {
    const server = await answering([
      () => `HTTP/1.1 101 Switching Protocols\r\nX-Big: ${'x'.repeat(2048)}\r\n\r\n`,
    ]);
    const ws = track(new WebSocket(server.url, { maxHeaderSize: 1024 }));
    const [error] = await once<[HandshakeError]>(ws, 'error');
    expect(error.code).toBe('WS_ERR_HEAD_TOO_LARGE');
    expect(error.status).toBe(0);
  });
});

describe("client: ws's private fields _socket, _req, _redirects (read-only compatibility accessors)", () => {
  /** The compatibility accessors, read as untyped code written for `ws` reads them. */
  const fields = (ws: WebSocket) => ws as unknown as { _socket: unknown; _req: unknown; _redirects: unknown };

  it('_req is the ClientRequest from the constructor on, null once open; _socket is the socket once open', async () => {
    const server = await accepting();
    const ws = track(new WebSocket(server.url, { auth: 'user:pw' }));
    const request = fields(ws)._req as ClientRequest;
    expect(request).toBeInstanceOf(ClientRequest);
    expect(request.getHeader('Authorization')).toBe(`Basic ${Buffer.from('user:pw').toString('base64')}`);
    expect(fields(ws)._socket).toBeNull();
    expect(fields(ws)._redirects).toBe(0);
    let inUpgrade: unknown;
    ws.on('upgrade', () => {
      inUpgrade = fields(ws)._req; // as in ws: still the request while 'upgrade' is emitted
    });
    await once(ws, 'open');
    expect(inUpgrade).toBe(request);
    expect(fields(ws)._req).toBeNull();
    const socket = fields(ws)._socket as Socket;
    expect(socket).toBe(request.socket);
    expect(socket.remoteAddress).toBe('127.0.0.1');
    expect(typeof socket.setKeepAlive).toBe('function');
    expect(fields(ws)._redirects).toBe(0);
    const closed = once(ws, 'close');
    ws.terminate(); // the raw server does not answer a Close frame
    await closed;
    expect(fields(ws)._socket).toBe(socket); // kept after close, as in ws
  });

  it('_redirects counts the redirects followed; _req is the request of each attempt', async () => {
    const server = await answering([
      () => 'HTTP/1.1 302 Found\r\nLocation: /a\r\nContent-Length: 0\r\n\r\n',
      () => 'HTTP/1.1 307 Temporary Redirect\r\nLocation: /b\r\nContent-Length: 0\r\n\r\n',
    ]);
    const ws = track(new WebSocket(server.url, { followRedirects: true }));
    const requests: unknown[] = [fields(ws)._req];
    const seen: [unknown, boolean][] = [];
    ws.on('redirect', (_url, request) => {
      seen.push([fields(ws)._redirects, fields(ws)._req === request]);
      requests.push(request);
    });
    await once(ws, 'open');
    expect(seen).toEqual([
      [1, true],
      [2, true],
    ]);
    expect(new Set(requests).size).toBe(3);
    expect(fields(ws)._redirects).toBe(2);
    expect(fields(ws)._req).toBeNull();
  });

  it('too many redirects: _redirects is maxRedirects + 1 (the one refused counts, as in ws), _req null', async () => {
    const server = await answering([
      () => 'HTTP/1.1 302 Found\r\nLocation: /a\r\nContent-Length: 0\r\n\r\n',
      () => 'HTTP/1.1 302 Found\r\nLocation: /b\r\nContent-Length: 0\r\n\r\n',
    ]);
    const ws = track(new WebSocket(server.url, { followRedirects: true, maxRedirects: 1 }));
    const [error] = await once<[HandshakeError]>(ws, 'error');
    expect(error.status).toBe(302);
    expect(fields(ws)._redirects).toBe(2);
    expect(fields(ws)._req).toBeNull();
    expect(fields(ws)._socket).toBeNull();
  });

  it('without followRedirects, a 3xx leaves _redirects at 0', async () => {
    const server = await answering([() => 'HTTP/1.1 301 Moved\r\nLocation: /a\r\nContent-Length: 0\r\n\r\n']);
    const ws = track(new WebSocket(server.url));
    await once(ws, 'error');
    expect(fields(ws)._redirects).toBe(0);
  });

  it("server side: _socket is the connection's socket, _req null, _redirects undefined (as in ws)", async () => {
    const listening = await listen();
    cleanups.push(() => listening.server.close({ timeout: 200 }));
    const accepted = once<[WebSocket]>(listening.server, 'connection');
    track(new WebSocket(listening.url));
    const [peer] = await accepted;
    expect((fields(peer)._socket as Socket).remoteAddress).toBe('127.0.0.1');
    expect(fields(peer)._req).toBeNull();
    expect(fields(peer)._redirects).toBeUndefined();
  });

  it('they are read-only, non-enumerable accessors: not in keys, spreads or for…in', async () => {
    const server = await accepting();
    const ws = track(new WebSocket(server.url));
    for (const name of ['_socket', '_req', '_redirects']) {
      expect(Object.keys(ws)).not.toContain(name);
      expect(Object.keys({ ...ws })).not.toContain(name);
      const descriptor = Object.getOwnPropertyDescriptor(WebSocket.prototype, name);
      expect(descriptor?.enumerable).toBe(false);
      expect(descriptor?.get).toBeTypeOf('function');
      expect(descriptor?.set).toBeUndefined();
      expect(() => {
        (ws as unknown as Record<string, unknown>)[name] = 1;
      }).toThrow(TypeError);
    }
    const keys: string[] = [];
    for (const key in ws) keys.push(key);
    expect(keys.filter((key) => ['_socket', '_req', '_redirects'].includes(key))).toEqual([]);
    await once(ws, 'open');
  });
});
