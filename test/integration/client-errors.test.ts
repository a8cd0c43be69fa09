/**
 * Client failures before OPEN (RFC 6455 §4.1): one 'error' (a HandshakeError with the HTTP status,
 * or 0 when no response came) then one 'close' with 1006; and URLs rejected synchronously (§3).
 */
import { spawn } from 'node:child_process';
import { createServer as createNetServer, type Server, type Socket } from 'node:net';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { ErrorCode, HandshakeError, WebSocket } from '../../src/index.ts';
import { acceptKeyFor, type Listening, listen, once, type RawServer, rawServer, WAIT_MS } from './helpers.ts';

const cleanups: (() => Promise<void> | void)[] = [];

afterEach(async () => {
  await Promise.all(cleanups.splice(0).map((cleanup) => cleanup()));
});

async function startRaw(...args: Parameters<typeof rawServer>): Promise<RawServer> {
  const server = await rawServer(...args);
  cleanups.push(() => server.close());
  return server;
}

/** Connects and waits for the failure: returns the error events, then the close code. */
async function expectFailure(
  ws: WebSocket,
  timeoutMs: number = WAIT_MS,
): Promise<{ errors: unknown[]; code: number; reason: string; opened: boolean }> {
  const errors: unknown[] = [];
  let opened = false;
  let closes = 0;
  const order: string[] = [];
  ws.on('open', () => {
    opened = true;
  });
  ws.on('error', (error: unknown) => {
    errors.push(error);
    order.push('error');
  });
  ws.on('close', () => {
    closes++;
    order.push('close');
  });
  const [code, reason] = await once<[number, Buffer]>(ws, 'close', timeoutMs);
  // Let a duplicate 'error' or 'close' show up, if any (bounded).
  await new Promise((resolve) => setTimeout(resolve, 20));
  expect(closes).toBe(1);
  expect(order[order.length - 1]).toBe('close');
  expect(ws.readyState).toBe(WebSocket.CLOSED);
  return { errors, code, reason: reason.toString(), opened };
}

/** A port with nothing listening: bind one, note it, close it. */
async function closedPort(): Promise<number> {
  const server: Server = createNetServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('no address');
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return address.port;
}

describe('client: failed connections', () => {
  it('connection refused → HandshakeError with status 0, then close 1006', async () => {
    const port = await closedPort();
    const ws = new WebSocket(`ws://127.0.0.1:${port}`);
    const { errors, code, opened } = await expectFailure(ws);
    expect(opened).toBe(false);
    expect(errors).toHaveLength(1);
    expect(errors[0]).toBeInstanceOf(HandshakeError);
    expect((errors[0] as HandshakeError).status).toBe(0);
    expect(code).toBe(1006);
  });

  it('HTTP/1.1 403 Forbidden → HandshakeError with status 403', async () => {
    const server = await startRaw(
      (peer) => {
        peer.socket.end('HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\nConnection: close\r\n\r\n');
      },
      { handshake: false },
    );
    // The raw server answers at once, without reading the request.
    const ws = new WebSocket(server.url);
    const { errors, code } = await expectFailure(ws);
    expect(errors).toHaveLength(1);
    expect(errors[0]).toBeInstanceOf(HandshakeError);
    expect((errors[0] as HandshakeError).status).toBe(403);
    expect(code).toBe(1006);
  });

  it('a 200 OK (not an upgrade) → HandshakeError with status 200', async () => {
    const server = await startRaw(
      async (peer) => {
        await peer.readHttp();
        peer.socket.end('HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nhi');
      },
      { handshake: false },
    );
    const { errors } = await expectFailure(new WebSocket(server.url));
    expect(errors).toHaveLength(1);
    expect((errors[0] as HandshakeError).status).toBe(200);
    expect((errors[0] as HandshakeError).code).toBe(ErrorCode.UnexpectedResponse);
  });

  it('a wrong Sec-WebSocket-Accept → error, close 1006', async () => {
    const server = await startRaw(
      async (peer) => {
        await peer.readHttp();
        peer.write(
          'HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n' +
            'Sec-WebSocket-Accept: AAAAAAAAAAAAAAAAAAAAAAAAAAA=\r\n\r\n',
        );
      },
      { handshake: false },
    );
    const { errors, code, opened } = await expectFailure(new WebSocket(server.url));
    expect(opened).toBe(false);
    expect(errors).toHaveLength(1);
    expect(errors[0]).toBeInstanceOf(HandshakeError);
    expect((errors[0] as HandshakeError).code).toBe('WS_ERR_INVALID_ACCEPT_KEY');
    expect(code).toBe(1006);
  });

  it('a subprotocol the client did not offer → error', async () => {
    const server = await startRaw(
      async (peer) => {
        const request = await peer.readHttp();
        peer.write(
          'HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n' +
            `Sec-WebSocket-Accept: ${acceptKeyFor(request.headers['sec-websocket-key'] ?? '')}\r\n` +
            'Sec-WebSocket-Protocol: never-offered\r\n\r\n',
        );
      },
      { handshake: false },
    );
    const { errors, opened } = await expectFailure(new WebSocket(server.url, ['offered']));
    expect(opened).toBe(false);
    expect(errors).toHaveLength(1);
    expect(errors[0]).toBeInstanceOf(HandshakeError);
  });

  it('the server closing the connection during the handshake → HandshakeError status 0', async () => {
    const server = await startRaw(
      (peer) => {
        peer.socket.destroy();
      },
      { handshake: false },
    );
    const { errors, code } = await expectFailure(new WebSocket(server.url));
    expect(errors).toHaveLength(1);
    expect((errors[0] as HandshakeError).status).toBe(0);
    expect(code).toBe(1006);
  });

  it('handshakeTimeout against a server that never answers → WS_ERR_HANDSHAKE_TIMEOUT', async () => {
    const sockets = new Set<Socket>();
    const silent = createNetServer((socket) => {
      sockets.add(socket);
      socket.on('error', () => undefined);
    });
    silent.listen(0, '127.0.0.1');
    await once(silent, 'listening');
    cleanups.push(
      () =>
        new Promise<void>((resolve) => {
          for (const socket of sockets) socket.destroy();
          silent.close(() => resolve());
        }),
    );
    const address = silent.address();
    if (address === null || typeof address === 'string') throw new Error('no address');
    const ws = new WebSocket(`ws://127.0.0.1:${address.port}`, { handshakeTimeout: 200 });
    const { errors, code } = await expectFailure(ws);
    expect(errors).toHaveLength(1);
    expect(errors[0]).toBeInstanceOf(HandshakeError);
    expect((errors[0] as HandshakeError).code).toBe('WS_ERR_HANDSHAKE_TIMEOUT');
    expect((errors[0] as HandshakeError).status).toBe(0);
    expect(code).toBe(1006);
  });

  it('close() while CONNECTING → error then close 1006, never open', async () => {
    const server = await startRaw(() => undefined, { handshake: false });
    const ws = new WebSocket(server.url);
    const failure = expectFailure(ws);
    ws.close();
    const { errors, code, opened } = await failure;
    expect(opened).toBe(false);
    expect(errors).toHaveLength(1);
    expect(code).toBe(1006);
  });
});

describe('client: URLs', () => {
  it.each([
    ['not a URL', 'not a url'],
    ['a fragment', 'ws://127.0.0.1:1/#x'],
    ['an http:// URL with a fragment', 'http://127.0.0.1:1/path#x'],
    ['ftp://', 'ftp://127.0.0.1/'],
    ['file://', 'file:///tmp/x'],
  ])('%s → throws synchronously with WS_ERR_INVALID_ARGUMENT', (_name, url) => {
    expect(() => new WebSocket(url)).toThrow(expect.objectContaining({ code: 'WS_ERR_INVALID_ARGUMENT' }));
  });

  it('duplicate or invalid subprotocols → throws synchronously with WS_ERR_INVALID_ARGUMENT', () => {
    expect(() => new WebSocket('ws://127.0.0.1:1', ['a', 'a'])).toThrow(
      expect.objectContaining({ code: 'WS_ERR_INVALID_ARGUMENT' }),
    );
    expect(() => new WebSocket('ws://127.0.0.1:1', ['has space'])).toThrow(
      expect.objectContaining({ code: 'WS_ERR_INVALID_ARGUMENT' }),
    );
  });

  it('an http:// URL connects like ws://, and the path and query reach the server', async () => {
    const listening: Listening = await listen();
    cleanups.push(() => listening.server.close({ timeout: 500 }));
    const accepted = once<[WebSocket, { url?: string; headers: Record<string, unknown> }]>(
      listening.server,
      'connection',
    );
    const ws = new WebSocket(`http://127.0.0.1:${listening.port}/room/1?user=a`);
    await once(ws, 'open');
    const [, request] = await accepted;
    expect(request.url).toBe('/room/1?user=a');
    expect(request.headers.host).toBe(`127.0.0.1:${listening.port}`);
    const closed = once(ws, 'close');
    ws.close();
    await closed;
  });

  it('custom headers and origin are sent', async () => {
    const listening: Listening = await listen();
    cleanups.push(() => listening.server.close({ timeout: 500 }));
    const accepted = once<[WebSocket, { headers: Record<string, unknown> }]>(listening.server, 'connection');
    const ws = new WebSocket(listening.url, {
      headers: { Authorization: 'Bearer t0k3n' },
      origin: 'https://app.example',
    });
    await once(ws, 'open');
    const [, request] = await accepted;
    expect(request.headers.authorization).toBe('Bearer t0k3n');
    expect(request.headers.origin).toBe('https://app.example');
    const closed = once(ws, 'close');
    ws.close();
    await closed;
  });
});

describe('client: IPv6', () => {
  let v6: Listening | null = null;

  afterAll(async () => {
    await v6?.server.close({ timeout: 500 });
  });

  it('ws://[::1]:port works', async (context) => {
    try {
      v6 = await listen({ host: '::1' });
    } catch (error) {
      console.warn(`skipping IPv6 test: cannot listen on ::1 (${String(error)})`);
      context.skip();
      return;
    }
    expect(v6.url).toBe(`ws://[::1]:${v6.port}`);
    const accepted = once<[WebSocket, { headers: Record<string, unknown> }]>(v6.server, 'connection');
    const ws = new WebSocket(v6.url);
    await once(ws, 'open');
    const [peer, request] = await accepted;
    expect(request.headers.host).toBe(`[::1]:${v6.port}`);
    const echo = once<[Buffer]>(ws, 'message');
    peer.send('over v6');
    expect((await echo)[0].toString()).toBe('over v6');
    const closed = once(ws, 'close');
    ws.close();
    await closed;
  });
});

/**
 * A child process (the TypeScript source through tsx) whose client WebSocket has an `event` listener
 * that throws; with `handled`, a process 'uncaughtException' handler reports the error and checks
 * that the connection still echoes. Exit 3 means the exception was swallowed.
 */
const LISTENER_CHILD = `
import { readFileSync } from 'node:fs';
import { once } from 'node:events';
import { createSecureServer } from 'node:http2';
import { WebSocket, WebSocketServer } from './src/index.ts';
const { EVENT: event, TRANSPORT: transport, MODE: mode } = process.env;
let wss, url, options = {};
if (transport === 'h2') {
  const cert = readFileSync('test/fixtures/localhost-cert.pem');
  const key = readFileSync('test/fixtures/localhost-key.pem');
  const server = createSecureServer({ key, cert, settings: { enableConnectProtocol: true } });
  wss = new WebSocketServer({ server });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  url = 'wss://localhost:' + server.address().port;
  options = { ca: cert, http2: 'require' };
} else {
  wss = new WebSocketServer({ host: '127.0.0.1', port: 0 });
  await once(wss, 'listening');
  url = 'ws://127.0.0.1:' + wss.address().port;
}
wss.on('connection', (peer) => peer.on('message', (data) => peer.send(String(data))));
const ws = new WebSocket(url, options);
ws.on(event, function listenerThatThrows() {
  throw new Error('thrown by the ' + event + ' listener');
});
if (mode === 'handled') {
  process.on('uncaughtException', (error) => {
    console.log('uncaught: ' + error.message + ' (readyState ' + ws.readyState + ')');
    const check = () => {
      ws.once('message', (data) => {
        console.log('echo: ' + data);
        process.exit(0);
      });
      ws.send('still here');
    };
    if (ws.readyState === 1) check();
    else ws.once('open', check);
  });
}
setTimeout(() => {
  console.log('swallowed: readyState ' + ws.readyState);
  process.exit(3);
}, 3000);
`;

/**
 * A child process whose client meets a 302 (then another, past `maxRedirects: 1`) or a 403, and whose
 * 'redirect' or 'unexpected-response' listener, or `finishRequest` on the redirected request, throws.
 * Exit 3 means the exception was swallowed (turned into a handshake failure).
 */
const REDIRECT_CHILD = `
import { createServer } from 'node:http';
import { once } from 'node:events';
import { WebSocket } from './src/index.ts';
const { EVENT: event } = process.env;
const server = createServer((request, response) => {
  if (event === 'unexpected-response') response.writeHead(403).end('no');
  else response.writeHead(302, { Location: '/next' }).end();
});
server.listen(0, '127.0.0.1');
await once(server, 'listening');
const url = 'ws://127.0.0.1:' + server.address().port + '/';
function listenerThatThrows() {
  throw new Error('thrown by the ' + event + ' hook');
}
const options = { followRedirects: true, maxRedirects: 1 };
if (event === 'finishRequest') {
  // The first request is sent; the throw comes with the redirected one.
  options.finishRequest = (request) => (request.path === '/next' ? listenerThatThrows() : request.end());
}
const ws = new WebSocket(url, options);
ws.on('error', (error) => console.log('error: ' + error.message));
if (event !== 'finishRequest') ws.on(event, listenerThatThrows);
setTimeout(() => {
  console.log('swallowed: readyState ' + ws.readyState);
  process.exit(3);
}, 3000).unref();
`;

function runListenerChild(
  env: Record<string, string>,
  program = LISTENER_CHILD,
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', program], {
    cwd: new URL('../../', import.meta.url),
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => {
    stdout += chunk;
  });
  child.stderr.on('data', (chunk: Buffer) => {
    stderr += chunk;
  });
  // tsx compiles on start-up and the machine may be busy: generous, but bounded.
  const killer = setTimeout(() => child.kill('SIGKILL'), 15_000);
  return new Promise((resolve) => {
    child.on('close', (code) => {
      clearTimeout(killer);
      resolve({ code, stdout, stderr });
    });
  });
}

describe("client: exceptions in the application's 'open' and 'upgrade' listeners (issue 12 item 11)", () => {
  for (const transport of ['http1', 'h2']) {
    for (const event of ['open', 'upgrade']) {
      it(`${transport}: a throwing '${event}' listener is an uncaught exception (the process exits with it)`, async () => {
        const { code, stdout, stderr } = await runListenerChild({
          EVENT: event,
          TRANSPORT: transport,
          MODE: 'crash',
        });
        expect(stdout).not.toMatch(/swallowed/);
        expect(code).toBe(1);
        expect(stderr).toContain(`thrown by the ${event} listener`);
        expect(stderr).toContain('listenerThatThrows'); // the listener's own stack
      });

      it(`${transport}: after a throwing '${event}' listener the connection is OPEN and still works`, async () => {
        const { code, stdout } = await runListenerChild({
          EVENT: event,
          TRANSPORT: transport,
          MODE: 'handled',
        });
        expect(stdout).toContain(`uncaught: thrown by the ${event} listener`);
        expect(stdout).toContain('echo: still here');
        expect(code).toBe(0);
      });
    }
  }

  for (const event of ['redirect', 'unexpected-response', 'finishRequest']) {
    it(`a throwing '${event}' hook is an uncaught exception, as in ws (not a handshake failure)`, async () => {
      const { code, stdout, stderr } = await runListenerChild({ EVENT: event }, REDIRECT_CHILD);
      expect(stdout).not.toMatch(/swallowed|error: /);
      expect(code).toBe(1);
      expect(stderr).toContain(`thrown by the ${event} hook`);
      expect(stderr).toContain('listenerThatThrows');
    });
  }

  it("an 'upgrade' listener that closes the WebSocket: one error, close 1006, never open, socket dropped", async () => {
    const listening = await listen();
    cleanups.push(() => listening.server.close({ timeout: 200 }));
    const serverSide = once<[WebSocket]>(listening.server, 'connection').then(([peer]) =>
      once<[number]>(peer, 'close'),
    );
    const ws = new WebSocket(listening.url);
    ws.on('upgrade', () => ws.close());
    const { errors, code, opened } = await expectFailure(ws);
    expect(opened).toBe(false);
    expect(errors).toHaveLength(1);
    expect(code).toBe(1006);
    expect((await serverSide)[0]).toBe(1006); // the socket was dropped, not left open
  });
});
