/**
 * Attached mode (`{ server: httpServer }`), several WebSocketServers on one HTTP server by path, and
 * `noServer` + `handleUpgrade` from an application's own 'upgrade' listener.
 */
import {
  createServer as createHttpServer,
  type Server as HttpServer,
  get as httpGet,
  type IncomingMessage,
  type ServerResponse,
} from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { describe, expect, it } from 'vitest';
import { WebSocket, WebSocketServer } from '../../src/index.ts';
import {
  acceptKeyFor,
  cleanupsAfterEach,
  once,
  randomKey,
  rawConnect,
  upgradeRequest,
  withTimeout,
} from './helpers.ts';

// Last started, first stopped: WebSocketServers before the HTTP server they are attached to.
const cleanups = cleanupsAfterEach();

async function httpServer(
  handler: (req: IncomingMessage, res: ServerResponse) => void,
): Promise<{ server: HttpServer; port: number }> {
  const server = createHttpServer(handler);
  // Upgraded sockets leave http's bookkeeping: track every socket so cleanup can destroy leftovers.
  const sockets = new Set<Socket>();
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  cleanups.push(
    () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  );
  return { server, port: (server.address() as AddressInfo).port };
}

function wss(options: ConstructorParameters<typeof WebSocketServer>[0]): WebSocketServer {
  const server = new WebSocketServer(options);
  cleanups.push(() => server.close({ timeout: 500 }));
  return server;
}

function httpGetText(port: number, path: string): Promise<{ status: number; body: string }> {
  return withTimeout(
    new Promise((resolve, reject) => {
      httpGet({ host: '127.0.0.1', port, path, agent: false }, (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => {
          body += chunk;
        });
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      }).on('error', reject);
    }),
  );
}

async function openClient(url: string, ...rest: unknown[]): Promise<WebSocket> {
  const ws = new (WebSocket as unknown as new (...args: unknown[]) => WebSocket)(url, ...rest);
  cleanups.push(async () => {
    if (ws.readyState === WebSocket.CLOSED) return;
    const closed = once(ws, 'close').catch(() => undefined);
    ws.terminate();
    await closed;
  });
  await once(ws, 'open');
  return ws;
}

describe('attached to a node:http server', () => {
  it('serves WebSocket upgrades and normal HTTP requests side by side', async () => {
    const { server, port } = await httpServer((_req, res) => {
      res.writeHead(200, { 'Content-Type': 'text/plain' });
      res.end('plain http');
    });
    const ws = wss({ server });
    expect((ws.address() as AddressInfo).port).toBe(port);
    ws.on('connection', (socket: WebSocket) => {
      socket.on('message', (data: Buffer, isBinary: boolean) => socket.send(data, { binary: isBinary }));
    });

    const before = await httpGetText(port, '/index.html');
    expect(before).toEqual({ status: 200, body: 'plain http' });

    const client = await openClient(`ws://127.0.0.1:${port}/anything`);
    const echo = once<[Buffer, boolean]>(client, 'message');
    client.send('attached echo');
    const [data, isBinary] = await echo;
    expect(data.toString()).toBe('attached echo');
    expect(isBinary).toBe(false);

    // HTTP keeps working while a WebSocket is open.
    const during = await httpGetText(port, '/again');
    expect(during).toEqual({ status: 200, body: 'plain http' });
    expect(ws.clients.size).toBe(1);
  });

  it('emits listening when the attached server starts listening later', async () => {
    const server = createHttpServer();
    cleanups.push(() => new Promise<void>((resolve) => server.close(() => resolve())));
    const ws = wss({ server });
    const listening = once(ws, 'listening');
    server.listen(0, '127.0.0.1');
    await listening;
    expect(typeof (ws.address() as AddressInfo).port).toBe('number');
  });

  it('rejects a bad upgrade on the attached server with the exact status', async () => {
    const { server, port } = await httpServer((_req, res) => res.end());
    wss({ server });
    const peer = await rawConnect(port);
    peer.write(upgradeRequest({ headers: { 'Sec-WebSocket-Version': '7' } }));
    const head = await peer.readHttp();
    // 400 with the supported version, as ws answers (RFC 6455 §4.2.2 allows any fitting error code).
    expect(head.statusLine).toBe('HTTP/1.1 400 Bad Request');
    expect(head.headers['sec-websocket-version']).toBe('13, 8');
    peer.destroy();
  });

  it("two WebSocketServers with path '/a' and '/b' on one http server each get their own clients", async () => {
    const { server, port } = await httpServer((_req, res) => res.end('ok'));
    const a = wss({ server, path: '/a' });
    const b = wss({ server, path: '/b' });
    const seenA: string[] = [];
    const seenB: string[] = [];
    a.on('connection', (_ws, req) => seenA.push(req.url ?? ''));
    b.on('connection', (_ws, req) => seenB.push(req.url ?? ''));

    const toA = once(a, 'connection');
    await openClient(`ws://127.0.0.1:${port}/a`);
    await toA;
    const toB = once(b, 'connection');
    await openClient(`ws://127.0.0.1:${port}/b?x=1`);
    await toB;
    const toA2 = once(a, 'connection');
    await openClient(`ws://127.0.0.1:${port}/a`);
    await toA2;

    expect(seenA).toEqual(['/a', '/a']);
    expect(seenB).toEqual(['/b?x=1']);
    expect(a.clients.size).toBe(2);
    expect(b.clients.size).toBe(1);
  });

  // Regression: this upgrade used to be left unanswered (and the socket leaked).
  it('an upgrade for a path nobody serves, with two path-bound servers, gets 400', async () => {
    const { server, port } = await httpServer((_req, res) => res.end('ok'));
    wss({ server, path: '/a' });
    wss({ server, path: '/b' });
    const peer = await rawConnect(port);
    try {
      peer.write(upgradeRequest({ path: '/c' }));
      const head = await peer.readHttp(1000);
      expect(head.statusLine).toBe('HTTP/1.1 400 Bad Request');
    } finally {
      peer.destroy();
    }
  });

  it('closing the WebSocketServer leaves the http server running', async () => {
    const { server, port } = await httpServer((_req, res) => res.end('still here'));
    const ws = new WebSocketServer({ server });
    const client = await openClient(`ws://127.0.0.1:${port}`);
    const clientClosed = once<[number]>(client, 'close');
    await withTimeout(ws.close({ timeout: 500 }));
    expect((await clientClosed)[0]).toBe(1001);
    expect(await httpGetText(port, '/')).toEqual({ status: 200, body: 'still here' });
    expect(server.listening).toBe(true);
  });
});

describe('noServer + handleUpgrade', () => {
  it("completes upgrades from the application's own 'upgrade' listener", async () => {
    const { server, port } = await httpServer((_req, res) => res.end('http'));
    const ws = wss({ noServer: true });
    // As in ws: there is no address to give.
    expect(() => ws.address()).toThrow('The server is operating in "noServer" mode');
    server.on('upgrade', (req, socket, head) => {
      if (req.headers['x-token'] !== 'letmein') {
        socket.end('HTTP/1.1 401 Unauthorized\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
        return;
      }
      ws.handleUpgrade(req, socket, head, (client, request) => {
        ws.emit('connection', client, request);
        client.send(`hello ${request.url}`);
      });
    });

    const client = await (async () => {
      const c = new WebSocket(`ws://127.0.0.1:${port}/room`, { headers: { 'X-Token': 'letmein' } });
      cleanups.push(async () => {
        if (c.readyState !== WebSocket.CLOSED) {
          const closed = once(c, 'close').catch(() => undefined);
          c.terminate();
          await closed;
        }
      });
      const greeting = once<[Buffer]>(c, 'message');
      await once(c, 'open');
      return { c, greeting };
    })();
    expect((await client.greeting)[0].toString()).toBe('hello /room');
    expect(ws.clients.size).toBe(1);

    // The application's own rejection path.
    const peer = await rawConnect(port);
    peer.write(upgradeRequest());
    expect((await peer.readHttp()).statusLine).toBe('HTTP/1.1 401 Unauthorized');
    peer.destroy();

    // handleUpgrade validates the request itself too: a raw upgrade with a bad key.
    const bad = await rawConnect(port);
    bad.write(upgradeRequest({ key: 'short', headers: { 'X-Token': 'letmein' } }));
    expect((await bad.readHttp()).statusLine).toBe('HTTP/1.1 400 Bad Request');
    bad.destroy();

    // And a good raw one gets the right accept key.
    const good = await rawConnect(port);
    const key = randomKey();
    good.write(upgradeRequest({ key, headers: { 'X-Token': 'letmein' } }));
    const head = await good.readHttp();
    expect(head.statusLine).toBe('HTTP/1.1 101 Switching Protocols');
    expect(head.headers['sec-websocket-accept']).toBe(acceptKeyFor(key));
    good.destroy();
  });

  it('the constructor needs exactly one of port, server, noServer', () => {
    expect(() => new WebSocketServer({})).toThrow(TypeError);
    expect(() => new WebSocketServer({ port: 0, noServer: true })).toThrow(TypeError);
  });
});
