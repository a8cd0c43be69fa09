/**
 * `sockwire connect`: the real CLI, spawned with piped stdin, against a real loopback server.
 */
import { readFileSync } from 'node:fs';
import { createServer as createHttpServer, type Server as HttpServer } from 'node:http';
import { type AddressInfo, createServer as createNetServer } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { type WebSocket, WebSocketServer } from '../../src/index.ts';
import { exitOf, killStrays, runCli } from './helpers.ts';

const servers: { close(): unknown }[] = [];
afterEach(async () => {
  killStrays();
  for (const server of servers.splice(0)) await server.close();
});

interface Closed {
  readonly code: number;
  readonly reason: string;
}

/** An echo server on a free port; `closed` resolves with the first client's close code and reason. */
async function echoServer(
  options: { tls?: boolean; silent?: boolean } = {},
): Promise<{ url: string; closed: Promise<Closed> }> {
  const tls = options.tls
    ? {
        cert: readFileSync(new URL('../fixtures/localhost-cert.pem', import.meta.url)),
        key: readFileSync(new URL('../fixtures/localhost-key.pem', import.meta.url)),
      }
    : undefined;
  const server = new WebSocketServer({ port: 0, host: '127.0.0.1', ...(tls ? { tls } : {}) });
  servers.push(server);
  const closed = new Promise<Closed>((resolve) => {
    server.on('connection', (ws: WebSocket) => {
      ws.on('message', (data: Buffer, isBinary: boolean) => {
        if (!options.silent) ws.send(data, { binary: isBinary });
      });
      ws.on('close', (code: number, reason: Buffer) => resolve({ code, reason: reason.toString() }));
    });
  });
  await new Promise<void>((resolve) => server.once('listening', resolve));
  const { port } = server.address() as AddressInfo;
  return { url: `${options.tls ? 'wss://localhost' : 'ws://127.0.0.1'}:${port}`, closed };
}

/** A port with nothing listening on it. */
async function freePort(): Promise<number> {
  const server = createNetServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

function expectOneErrorLine(stderr: string, pattern: RegExp): void {
  const lines = stderr.trimEnd().split('\n');
  expect(lines).toHaveLength(1);
  expect(lines[0]).toMatch(pattern);
  expect(stderr).not.toMatch(/^\s+at /m); // no stack trace without --verbose
}

describe('sockwire connect, interactive', () => {
  it('sends typed lines, prints the echo with direction markers, and "exit" closes with 1000', async () => {
    const { url, closed } = await echoServer();
    const cli = runCli(['connect', url]);
    await cli.waitFor(/^\* connected to /);
    cli.type('hello sockwire');
    expect(await cli.waitFor(/^< /)).toBe('< hello sockwire');
    expect(cli.stdout).toContain('> hello sockwire\n');
    cli.type('exit');
    expect(await exitOf(cli)).toBe(0);
    expect(await closed).toEqual({ code: 1000, reason: '' });
    expect(cli.stderr).toBe('');
  });

  it('"/close 4000 bye" closes with that code and reason, as the server sees it', async () => {
    const { url, closed } = await echoServer();
    const cli = runCli(['connect', url]);
    await cli.waitFor(/^\* connected/);
    cli.type('/close 4000 bye');
    expect(await closed).toEqual({ code: 4000, reason: 'bye' });
    expect(await exitOf(cli)).toBe(0);
    expect(await cli.waitFor(/^\* closed/)).toBe('* closed 4000 bye');
  });

  it('the end of stdin (Ctrl-D) closes with 1000; /ping prints the pong', async () => {
    const { url, closed } = await echoServer();
    const cli = runCli(['connect', url]);
    await cli.waitFor(/^\* connected/);
    cli.type('/ping abc');
    expect(await cli.waitFor(/pong/)).toBe('< [pong] abc');
    cli.child.stdin!.end();
    expect(await exitOf(cli)).toBe(0);
    expect((await closed).code).toBe(1000);
  });

  it('--json prints one parseable object per event', async () => {
    const { url } = await echoServer();
    const cli = runCli(['connect', url, '--json']);
    await cli.waitFor(/"event":"open"/);
    cli.type('hi');
    await cli.waitFor(/"direction":"in"/);
    cli.type('exit');
    expect(await exitOf(cli)).toBe(0);
    const events = cli.stdout
      .trimEnd()
      .split('\n')
      .map((line) => JSON.parse(line) as Record<string, unknown>);
    expect(events.map((event) => event.event)).toEqual(['open', 'message', 'message', 'close']);
    expect(events[1]).toEqual({ event: 'message', direction: 'out', binary: false, data: 'hi' });
    expect(events[2]).toEqual({ event: 'message', direction: 'in', binary: false, data: 'hi' });
    expect(events[3]).toEqual({ event: 'close', code: 1000, reason: '' });
  });
});

describe('sockwire connect -x', () => {
  it('exits 0 once the replies came, printing them as they are', async () => {
    const { url, closed } = await echoServer();
    const cli = runCli(['connect', url, '-x', 'one', '-x', 'two', '--wait', '2']);
    expect(await exitOf(cli)).toBe(0);
    expect(cli.stdout).toBe('one\ntwo\n');
    expect((await closed).code).toBe(1000);
  });

  it('exits non-zero when the replies do not come before --timeout', async () => {
    const { url } = await echoServer({ silent: true });
    const cli = runCli(['connect', url, '-x', 'anyone?', '--timeout', '300']);
    expect(await exitOf(cli)).toBe(3);
    expectOneErrorLine(cli.stderr, /^sockwire: timed out after 300 ms: got 0 of 1 replies$/);
  });

  it('works over wss:// with --ca, and fails with one TLS line without it', async () => {
    const { url } = await echoServer({ tls: true });
    const trusted = runCli(['connect', url, '--ca', 'test/fixtures/localhost-cert.pem', '-x', 'secure']);
    expect(await exitOf(trusted)).toBe(0);
    expect(trusted.stdout).toBe('secure\n');
    const untrusted = runCli(['connect', url, '-x', 'secure']);
    expect(await exitOf(untrusted)).toBe(1);
    expectOneErrorLine(untrusted.stderr, /^sockwire: TLS failure: .*self-signed.*--ca/);
  });
});

describe('sockwire connect errors', () => {
  it('connection refused: non-zero exit, one line on stderr, no stack trace', async () => {
    const port = await freePort();
    const cli = runCli(['connect', `ws://127.0.0.1:${port}`]);
    expect(await exitOf(cli)).toBe(1);
    expectOneErrorLine(cli.stderr, /^sockwire: connection refused by ws:\/\/127\.0\.0\.1:\d+/);
    expect(cli.stdout).toBe('');
  });

  it('a refused handshake names the status the server answered', async () => {
    const http: HttpServer = createHttpServer();
    http.on('upgrade', (_request, socket) =>
      socket.end('HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\nConnection: close\r\n\r\n'),
    );
    await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
    servers.push({ close: () => new Promise((resolve) => http.close(resolve)) });
    const { port } = http.address() as AddressInfo;
    const cli = runCli(['connect', `ws://127.0.0.1:${port}`, '-x', 'hi']);
    expect(await exitOf(cli)).toBe(1);
    expectOneErrorLine(cli.stderr, /^sockwire: handshake failed: server answered 403$/);
  });

  it('--verbose adds the stack trace', async () => {
    const port = await freePort();
    const cli = runCli(['connect', `ws://127.0.0.1:${port}`, '--verbose']);
    expect(await exitOf(cli)).toBe(1);
    expect(cli.stderr).toMatch(/^\s+at /m);
  });

  it('bad arguments exit with 2 and point to --help', async () => {
    const cli = runCli(['connect', '--nope']);
    expect(await exitOf(cli)).toBe(2);
    expectOneErrorLine(cli.stderr, /--nope.*sockwire --help/);
  });
});

describe('sockwire connect options', () => {
  it('--header, --subprotocol, --origin reach the server; --ping sends pings; binary shown as hex', async () => {
    const server = new WebSocketServer({ port: 0, host: '127.0.0.1' });
    servers.push(server);
    const seen = new Promise<{ headers: Record<string, unknown>; protocol: string; pings: number }>(
      (resolve) => {
        server.on('connection', (ws: WebSocket, request: { headers: Record<string, unknown> }) => {
          let pings = 0;
          ws.on('ping', () => {
            pings++;
            if (pings === 2) resolve({ headers: request.headers, protocol: ws.protocol, pings });
          });
          ws.send(Buffer.from([1, 2, 0xfe]));
        });
      },
    );
    await new Promise<void>((resolve) => server.once('listening', resolve));
    const { port } = server.address() as AddressInfo;
    const cli = runCli([
      'connect',
      `ws://127.0.0.1:${port}/path`,
      '-H',
      'X-Token: secret value',
      '--header',
      'x-other:2',
      '-s',
      'chat.v2',
      '--subprotocol',
      'chat.v1',
      '--origin',
      'https://example.test',
      '--ping',
      '50',
    ]);
    expect(await cli.waitFor(/^\* connected/)).toMatch(/\(subprotocol chat\.v2\)/);
    expect(await cli.waitFor(/^< \[binary/)).toBe('< [binary 3 B, hex] 0102fe');
    const { headers, protocol, pings } = await seen;
    expect(headers['x-token']).toBe('secret value');
    expect(headers['x-other']).toBe('2');
    expect(headers.origin).toBe('https://example.test');
    expect(headers['sec-websocket-extensions']).toBeUndefined(); // no --compress: nothing offered
    expect(protocol).toBe('chat.v2');
    expect(pings).toBe(2);
    cli.type('exit');
    expect(await exitOf(cli)).toBe(0);
  });

  it('--binary base64, --compress offers permessage-deflate', async () => {
    const server = new WebSocketServer({ port: 0, host: '127.0.0.1', perMessageDeflate: true });
    servers.push(server);
    server.on('connection', (ws: WebSocket) => ws.send(Buffer.from('hi there')));
    await new Promise<void>((resolve) => server.once('listening', resolve));
    const { port } = server.address() as AddressInfo;
    const cli = runCli(['connect', `ws://127.0.0.1:${port}`, '--compress', '--binary', 'base64', '--json']);
    const open = JSON.parse(await cli.waitFor(/"event":"open"/)) as { extensions: string };
    expect(open.extensions).toMatch(/^permessage-deflate/);
    const message = JSON.parse(await cli.waitFor(/"direction":"in"/)) as Record<string, unknown>;
    expect(message).toEqual({
      event: 'message',
      direction: 'in',
      binary: true,
      data: Buffer.from('hi there').toString('base64'),
      encoding: 'base64',
    });
    cli.child.stdin!.end();
    expect(await exitOf(cli)).toBe(0);
  });
});
