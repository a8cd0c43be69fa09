/**
 * The server behaves as `ws`'s WebSocketServer where applications depend on it (issue 13): the
 * statuses and bodies of malformed handshakes (RFC 6455 §4.2.1–§4.2.2), the 'headers' and
 * 'wsClientError' events, a second close(), address() without a server, clients without tracking,
 * handleUpgrade() twice, a client that ends its half while being verified, the standalone request
 * being an http.IncomingMessage, and the `WebSocket` class option. Over loopback, port 0.
 */
import { createServer, type Server as HttpServer, IncomingMessage } from 'node:http';
import { type AddressInfo, connect as netConnect } from 'node:net';
import { afterEach, describe, expect, expectTypeOf, it } from 'vitest';
import {
  ErrorCode,
  HandshakeError,
  type HandshakeRejection,
  InvalidOptionError,
  InvalidStateError,
  WebSocket,
  WebSocketServer,
} from '../../src/index.ts';
import {
  ask,
  type Listening,
  listen,
  nextConnection,
  once,
  rawConnect,
  upgradeRequest,
  WAIT_MS,
  withTimeout,
} from './helpers.ts';

const servers: WebSocketServer[] = [];
const httpServers: HttpServer[] = [];
const sockets: WebSocket[] = [];

async function start(options: Parameters<typeof listen>[0] = {}): Promise<Listening> {
  const listening = await listen(options);
  servers.push(listening.server);
  return listening;
}

async function startHttp(): Promise<{ server: HttpServer; port: number }> {
  const server = createServer();
  httpServers.push(server);
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return { server, port: (server.address() as AddressInfo).port };
}

afterEach(async () => {
  for (const ws of sockets.splice(0)) ws.terminate();
  await Promise.all(
    servers.splice(0).map((server) => withTimeout(server.close({ timeout: 200 }), WAIT_MS, 'close')),
  );
  for (const server of httpServers.splice(0)) server.closeAllConnections();
  await Promise.all(
    httpServers.map((server) => new Promise<void>((resolve) => server.close(() => resolve()))),
  );
});

describe('malformed handshakes: the statuses and bodies ws answers (RFC 6455 §4.2.2)', () => {
  it.each([
    [
      'no key and no version (a hixie-76 client)',
      upgradeRequest({
        headers: {
          'Sec-WebSocket-Key': null,
          'Sec-WebSocket-Version': null,
          'Sec-WebSocket-Key1': '4 @1 46546xW%0l 1 5',
        },
      }),
      400,
      'Missing or invalid Sec-WebSocket-Key header',
    ],
    [
      'a key of 8 bytes',
      upgradeRequest({ key: 'P5l8BJcZwRc=', headers: { 'Sec-WebSocket-Version': null } }),
      400,
      'Missing or invalid Sec-WebSocket-Key header',
    ],
    [
      'no Sec-WebSocket-Version',
      upgradeRequest({ headers: { 'Sec-WebSocket-Version': null } }),
      400,
      'Missing or invalid Sec-WebSocket-Version header',
    ],
    [
      'Sec-WebSocket-Version: 12',
      upgradeRequest({ headers: { 'Sec-WebSocket-Version': '12' } }),
      400,
      'Missing or invalid Sec-WebSocket-Version header',
    ],
    ['POST', upgradeRequest({ method: 'POST' }), 405, 'Invalid HTTP method'],
    ['Upgrade: foo', upgradeRequest({ headers: { Upgrade: 'foo' } }), 400, 'Invalid Upgrade header'],
    [
      'a subprotocol list with ";"',
      upgradeRequest({ headers: { 'Sec-WebSocket-Protocol': 'foo;bar' } }),
      400,
      'Invalid Sec-WebSocket-Protocol header',
    ],
    [
      'a malformed extension offer',
      upgradeRequest({ headers: { 'Sec-WebSocket-Extensions': 'permessage-deflate; ' } }),
      400,
      'Invalid or unacceptable Sec-WebSocket-Extensions header',
    ],
    ['a plain GET', 'GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n', 426, 'Upgrade Required'],
  ])('%s → the status and body ws sends, with Connection: close', async (_label, request, status, body) => {
    const { port } = await start();
    const head = await ask(port, request);
    expect(head.status).toBe(status);
    expect(head.body).toBe(body);
    expect(head.headers['content-length']).toBe(String(Buffer.byteLength(body)));
    expect(head.headers.connection).toMatch(/\bclose\b/);
  });

  it('answers a missing or wrong version with Sec-WebSocket-Version: 13, 8 (§4.2.2)', async () => {
    const { port } = await start();
    const head = await ask(port, upgradeRequest({ headers: { 'Sec-WebSocket-Version': '7' } }));
    expect(head.status).toBe(400);
    expect(head.headers['sec-websocket-version']).toBe('13, 8');
  });
});

describe("the 'headers' event", () => {
  it('shows the 101 lines and the request before they are written; pushed fields reach the client', async () => {
    const { server, url } = await start();
    let seen: { lines: string[]; url: string | undefined } | undefined;
    server.on('headers', (headers, request) => {
      seen = { lines: [...headers], url: request.url };
      headers.push('Set-Cookie: session=abc; HttpOnly');
    });
    const client = new WebSocket(`${url}/chat?room=1`);
    sockets.push(client);
    const upgraded = once<[{ headers: Record<string, string | string[] | undefined> }]>(client, 'upgrade');
    const opened = once(client, 'open');
    const [response] = await upgraded;
    await opened;
    expect(seen?.lines.slice(0, 3)).toEqual([
      'HTTP/1.1 101 Switching Protocols',
      'Upgrade: websocket',
      'Connection: Upgrade',
    ]);
    expect(seen?.lines[3]).toMatch(/^Sec-WebSocket-Accept: /);
    expect(seen?.url).toBe('/chat?room=1');
    const cookie = response.headers['set-cookie'];
    expect(Array.isArray(cookie) ? cookie : [cookie]).toEqual(['session=abc; HttpOnly']);
  });

  it.each([
    ['a value with CR LF', 'X-A: a\r\nX-Injected: 1'],
    ['a line without a colon', 'Set-Cookie'],
    ['a name that is not a token', 'X A: 1'],
  ])('refuses %s: 500, no connection, and hookError', async (_label, line) => {
    const { server, port } = await start();
    server.on('headers', (headers) => {
      headers.push(line);
    });
    let connected = false;
    server.on('connection', () => {
      connected = true;
    });
    const failed = once<[Error]>(server, 'hookError');
    const head = await ask(port, upgradeRequest());
    expect(head.status).toBe(500);
    expect(head.body).not.toContain('Injected');
    const [error] = await failed;
    expect((error as InstanceType<typeof Error> & { code: string }).code).toBe(ErrorCode.HookFailed);
    expect(connected).toBe(false);
  });
});

describe("'wsClientError': a malformed request handed to the application, as in ws", () => {
  it('gives (error, socket, request) and lets the listener answer instead of the server', async () => {
    const { server, port } = await start();
    const calls: { error: unknown; request: IncomingMessage }[] = [];
    server.on('wsClientError', (error, socket, request) => {
      calls.push({ error, request: request as IncomingMessage });
      socket.end("HTTP/1.1 418 I'm a teapot\r\nContent-Length: 0\r\nConnection: close\r\n\r\n");
    });
    const rejections: HandshakeRejection[] = [];
    server.on('handshakeRejected', (rejection) => rejections.push(rejection));
    const head = await ask(port, upgradeRequest({ method: 'POST' }));
    expect(head.status).toBe(418);
    expect(calls).toHaveLength(1);
    expect(calls[0]!.error).toBeInstanceOf(HandshakeError);
    expect((calls[0]!.error as HandshakeError).message).toBe('Invalid HTTP method');
    expect((calls[0]!.error as HandshakeError).status).toBe(405);
    expect((calls[0]!.error as HandshakeError).code).toBe(ErrorCode.InvalidMethod);
    expect(calls[0]!.request.method).toBe('POST');
    // Still counted for metrics, with the status the server would have answered.
    expect(rejections.map(({ status }) => status)).toEqual([405]);
  });

  it('is not emitted for a refusal of the application (verifyClient) or the path', async () => {
    const { server, port } = await start({ path: '/ws', verifyClient: () => false });
    let emitted = 0;
    server.on('wsClientError', () => emitted++);
    expect((await ask(port, upgradeRequest({ path: '/other' }))).status).toBe(400);
    expect((await ask(port, upgradeRequest({ path: '/ws' }))).status).toBe(401);
    expect(emitted).toBe(0);
  });

  it('a listener that never answers: the socket is destroyed at handshakeTimeout', async () => {
    const { server, port } = await start({ handshakeTimeout: 200 });
    server.on('wsClientError', () => {
      // the application forgot to answer
    });
    const peer = await rawConnect(port);
    try {
      peer.write(upgradeRequest({ headers: { Upgrade: 'foo' } }));
      await peer.waitEnded(WAIT_MS);
      expect(peer.buffered.length).toBe(0);
    } finally {
      peer.destroy();
    }
  });
});

describe('close(), address(), clients and handleUpgrade() as ws has them', () => {
  it("a constructor without exactly one of port, server, noServer throws ws's TypeError", () => {
    const message = 'One and only one of the "port", "server", or "noServer" options must be specified';
    expect(() => new WebSocketServer()).toThrow(new TypeError(message));
    expect(() => new WebSocketServer({ port: 0, noServer: true })).toThrow(new TypeError(message));
  });

  it('a second close() once closed calls back with "The server is not running" and emits close again', async () => {
    const { server } = await start();
    await server.close();
    const closeEvent = once(server, 'close');
    const error = await new Promise<Error | undefined>((resolve) => server.close(resolve));
    expect(error).toBeInstanceOf(InvalidStateError);
    expect(error?.message).toBe('The server is not running');
    await closeEvent;
  });

  it('close() while closing calls back without an error when the first one ends', async () => {
    const { server } = await start();
    const first = server.close();
    const error = await new Promise<Error | undefined>((resolve) => server.close(resolve));
    await first;
    expect(error).toBeUndefined();
  });

  it('address() throws with noServer, and is null once a standalone server is closed', async () => {
    const noServer = new WebSocketServer({ noServer: true });
    servers.push(noServer);
    expect(() => noServer.address()).toThrow(InvalidStateError);
    expect(() => noServer.address()).toThrow('The server is operating in "noServer" mode');
    const { server } = await start();
    await server.close();
    expect(server.address()).toBeNull();
  });

  it('clients is undefined with clientTracking: false', async () => {
    const { server, url } = await start({ clientTracking: false });
    expect(server.clients).toBeUndefined();
    const connected = nextConnection(server);
    const client = new WebSocket(url);
    sockets.push(client);
    await connected;
    expect(server.clients).toBeUndefined();
    expect(() => server.broadcast('x')).toThrow(InvalidStateError);
  });

  it('handleUpgrade() twice with one socket throws', async () => {
    const { server, port } = await startHttp();
    const wss = new WebSocketServer({ noServer: true });
    servers.push(wss);
    const thrown = new Promise<unknown>((resolve) => {
      server.on('upgrade', (req, socket, head) => {
        wss.handleUpgrade(req, socket, head, (ws) => ws.close());
        try {
          wss.handleUpgrade(req, socket, head, () => undefined);
          resolve(undefined);
        } catch (error) {
          resolve(error);
        }
      });
    });
    const client = new WebSocket(`ws://127.0.0.1:${port}`);
    sockets.push(client);
    const error = await withTimeout(thrown);
    expect(error).toBeInstanceOf(InvalidStateError);
    expect((error as Error).message).toBe(
      'server.handleUpgrade() was called more than once with the same socket, possibly due to a misconfiguration',
    );
    await once(client, 'close');
  });

  it('two servers attached without paths: the first takes the upgrade, nothing throws', async () => {
    const { server, port } = await startHttp();
    const first = new WebSocketServer({ server });
    const second = new WebSocketServer({ server });
    servers.push(first, second);
    let secondConnections = 0;
    second.on('connection', () => secondConnections++);
    const connected = nextConnection(first);
    const client = new WebSocket(`ws://127.0.0.1:${port}`);
    sockets.push(client);
    await connected;
    await once(client, 'open');
    expect(secondConnections).toBe(0);
  });
});

describe('a client that ends its half while verifyClient decides', () => {
  it('gets no WebSocket: the socket is destroyed and no connection is emitted', async () => {
    const { server, port } = await startHttp();
    const wss = new WebSocketServer({
      server,
      // Accepts once the client's FIN has arrived (its readable side ended).
      verifyClient: ({ req }) =>
        new Promise<boolean>((resolve) => req.socket.once('end', () => resolve(true))),
    });
    servers.push(wss);
    let connected = false;
    wss.on('connection', () => {
      connected = true;
    });
    const rejected = once<[HandshakeRejection]>(wss, 'handshakeRejected');
    const socket = netConnect({ port, host: '127.0.0.1', allowHalfOpen: true });
    socket.on('error', () => undefined);
    await once(socket, 'connect');
    const received: Buffer[] = [];
    socket.on('data', (chunk: Buffer) => received.push(chunk));
    socket.end(upgradeRequest());
    const [rejection] = await rejected;
    expect(rejection.status).toBe(0);
    await once(socket, 'close');
    expect(Buffer.concat(received).length).toBe(0); // no 101
    expect(connected).toBe(false);
  });
});

describe('the standalone request is an http.IncomingMessage', () => {
  it('is given to verifyClient, handleProtocols and connection with node:http fields', async () => {
    const seen: unknown[] = [];
    const { server, url } = await start({
      verifyClient: ({ req }) => {
        seen.push(req);
        return true;
      },
      handleProtocols: (protocols, req) => {
        seen.push(req);
        return [...protocols][0] ?? false;
      },
    });
    const connected = once<[WebSocket, IncomingMessage]>(server, 'connection');
    const client = new WebSocket(`${url}/path?q=1`, ['chat'], { headers: { 'X-Foo': 'bar', Cookie: 'a=1' } });
    sockets.push(client);
    const [, request] = await connected;
    expect(seen).toEqual([request, request]);
    expect(request).toBeInstanceOf(IncomingMessage);
    expect(request.method).toBe('GET');
    expect(request.url).toBe('/path?q=1');
    expect(request.httpVersion).toBe('1.1');
    expect(request.httpVersionMajor).toBe(1);
    expect(request.headers['x-foo']).toBe('bar');
    expect(request.headersDistinct['x-foo']).toEqual(['bar']);
    expect(request.rawHeaders).toContain('X-Foo');
    expect(request.socket.remoteAddress).toBe('127.0.0.1');
    expect(request.complete).toBe(true);
    await once(client, 'open');
    // Reading the (empty) body must not take the client's frames.
    request.resume();
    const message = once<[Buffer]>(server.clients.values().next().value!, 'message');
    client.send('after');
    const [data] = await message;
    expect(String(data)).toBe('after');
  });
});

describe('the WebSocket option', () => {
  it('accepted connections are instances of the given subclass', async () => {
    class Tagged extends WebSocket {
      get tag(): string {
        return 'tagged';
      }
    }
    const { server, url } = await start({ WebSocket: Tagged });
    const connected = nextConnection(server);
    const client = new WebSocket(url);
    sockets.push(client);
    const ws = await connected;
    expect(ws).toBeInstanceOf(Tagged);
    expect((ws as Tagged).tag).toBe('tagged');
    expect(server.clients.has(ws)).toBe(true);
  });

  it('anything else is an InvalidOptionError naming the option', () => {
    const options = { noServer: true, WebSocket: class NotOne {} } as unknown as ConstructorParameters<
      typeof WebSocketServer
    >[0];
    expect(() => new WebSocketServer(options)).toThrow(InvalidOptionError);
  });
});

describe('typings: what ws users write compiles under strict', () => {
  it('types events, the WebSocket class option, request fields and the README emit pattern', () => {
    class Tagged extends WebSocket {
      readonly tag = 'tagged';
    }
    const server = new WebSocketServer({ noServer: true, WebSocket: Tagged });
    servers.push(server as unknown as WebSocketServer);
    expectTypeOf(server.clients).toEqualTypeOf<Set<Tagged>>();
    server.on('connection', (ws, request, client) => {
      expectTypeOf(ws).toEqualTypeOf<Tagged>();
      expectTypeOf(request.headers['x-foo']).toEqualTypeOf<string | string[] | undefined>();
      expectTypeOf(request.user).toBeUnknown();
      void client;
    });
    server.on('error', (error) => expectTypeOf(error).toEqualTypeOf<Error>());
    server.on('headers', (headers, request) => {
      expectTypeOf(headers).toEqualTypeOf<string[]>();
      void request.url;
    });
    server.on('wsClientError', (error, socket, request) => {
      expectTypeOf(error).toEqualTypeOf<HandshakeError>();
      void socket.end;
      void request.method;
    });
    // The client-authentication pattern of ws's README: extra arguments to 'connection'.
    const emitWithClient = (ws: Tagged, request: IncomingMessage) =>
      server.emit('connection', ws, request, { name: 'alice' });
    void emitWithClient;
    // @ts-expect-error a misspelled event does not compile
    server.on('conection', () => undefined);
    expect(server.clients).toBeInstanceOf(Set);
  });
});

describe('hook results written the way ws applications write them', () => {
  it('a callback-style refusal with a numeric header value and no message: the status, its phrase, Retry-After: 120', async () => {
    const { port } = await start({
      verifyClient: (_info, callback) => callback(false, 503, '', { 'Retry-After': 120 }),
    });
    const head = await ask(port, upgradeRequest());
    expect(head.status).toBe(503);
    expect(head.headers['retry-after']).toBe('120');
    expect(head.body).toBe('Service Unavailable');
  });

  it('an object refusal without a reason answers with its status phrase, not Unauthorized', async () => {
    const { port } = await start({ verifyClient: () => ({ accept: false, status: 403 }) });
    const head = await ask(port, upgradeRequest());
    expect(head.status).toBe(403);
    expect(head.body).toBe('Forbidden');
  });

  it('a handleProtocols that returns nothing selects no subprotocol (RFC 6455 §4.2.2 item 4)', async () => {
    const hookErrors: unknown[] = [];
    const { server, port } = await start({ handleProtocols: () => undefined });
    server.on('hookError', (error) => hookErrors.push(error));
    const head = await ask(
      port,
      upgradeRequest({ headers: { 'Sec-WebSocket-Protocol': 'chat, superchat' } }),
    );
    expect(head.status).toBe(101);
    expect(head.headers['sec-websocket-protocol']).toBeUndefined();
    expect(hookErrors).toEqual([]);
  });
});
