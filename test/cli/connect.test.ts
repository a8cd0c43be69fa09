/**
 * `sockwire connect`: the real CLI, spawned with piped stdin, against a real loopback server.
 */
import { readFileSync } from 'node:fs';
import { createServer as createHttpServer, type Server as HttpServer } from 'node:http';
import { type AddressInfo, createServer as createNetServer } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { withDefaultScheme } from '../../src/cli/connect.ts';
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

describe('sockwire connect, a URL without a scheme (as in wscat)', () => {
  it('127.0.0.1:<port> connects as ws://127.0.0.1:<port>, silently', async () => {
    const { url, closed } = await echoServer();
    const bare = url.slice('ws://'.length);
    const cli = runCli(['connect', bare]);
    expect(await cli.waitFor(/^\* connected to /)).toMatch(
      new RegExp(`^\\* connected to ws://${bare.replace(/\./g, '\\.')};`),
    );
    cli.type('exit');
    expect(await exitOf(cli)).toBe(0);
    expect((await closed).code).toBe(1000);
    expect(cli.stderr).toBe('');
  });

  it('-x works with host:port too, stdout holding only the reply', async () => {
    const { url } = await echoServer();
    const cli = runCli(['connect', url.slice('ws://'.length), '-x', 'no scheme']);
    expect(await exitOf(cli)).toBe(0);
    expect(cli.stdout).toBe('no scheme\n');
    expect(cli.stderr).toBe('');
  });

  it('adds ws:// only where no scheme is given', () => {
    expect(withDefaultScheme('127.0.0.1:9200')).toBe('ws://127.0.0.1:9200');
    expect(withDefaultScheme('localhost:9200/chat?x=1')).toBe('ws://localhost:9200/chat?x=1');
    expect(withDefaultScheme('[::1]:9200')).toBe('ws://[::1]:9200');
    expect(withDefaultScheme('example.com')).toBe('ws://example.com');
    expect(withDefaultScheme('user:pass@example.com:80')).toBe('ws://user:pass@example.com:80');
    for (const kept of [
      'ws://127.0.0.1:9200',
      'wss://localhost:8443',
      'WSS://localhost:8443',
      'http://localhost',
      'https://localhost',
      'ws+unix:/tmp/app.sock:/chat',
      'ws+unix:///tmp/app.sock',
      'ftp://example.com', // kept, so that the library names the unsupported scheme
    ]) {
      expect(withDefaultScheme(kept)).toBe(kept);
    }
  });
});

describe('sockwire connect, pings and pongs in human output', () => {
  it('prints the Pings the server sends, escaped', async () => {
    const server = new WebSocketServer({ port: 0, host: '127.0.0.1' });
    servers.push(server);
    server.on('connection', (ws: WebSocket) => {
      ws.ping('are you there?');
      ws.ping('\x1b]0;owned\x07');
    });
    await new Promise<void>((resolve) => server.once('listening', resolve));
    const { port } = server.address() as AddressInfo;
    const cli = runCli(['connect', `ws://127.0.0.1:${port}`]);
    expect(await cli.waitFor(/^< \[ping\] are/)).toBe('< [ping] are you there?');
    expect(await cli.waitFor(/^< \[ping\] \\x1b/)).toBe('< [ping] \\x1b]0;owned\\x07');
    expect(cli.stdout).not.toContain('\x1b');
    cli.type('exit');
    expect(await exitOf(cli)).toBe(0);
  });

  it('-p prints each Ping it sends and the Pong that answers it; --json has them as events', async () => {
    const { url } = await echoServer();
    const cli = runCli(['connect', url, '-p', '50']);
    await cli.waitFor(/^\* connected/);
    expect(await cli.waitFor(/^> \[ping\]/)).toBe('> [ping]');
    expect(await cli.waitFor(/^< \[pong\]/)).toBe('< [pong]');
    cli.type('exit');
    expect(await exitOf(cli)).toBe(0);

    const json = runCli(['connect', url, '-p', '50', '--json']);
    await json.waitFor(/"event":"pong"/);
    json.type('exit');
    expect(await exitOf(json)).toBe(0);
    const events = json.stdout
      .trimEnd()
      .split('\n')
      .map((line) => JSON.parse(line) as Record<string, unknown>);
    expect(events).toContainEqual({ event: 'ping', direction: 'out', data: '' });
    expect(events).toContainEqual({ event: 'pong', direction: 'in', data: '' });
  });

  it('-x keeps stdout for the replies: no ping or pong lines', async () => {
    const server = new WebSocketServer({ port: 0, host: '127.0.0.1' });
    servers.push(server);
    server.on('connection', (ws: WebSocket) => {
      ws.ping('hello?');
      ws.on('message', (data: Buffer) => setTimeout(() => ws.send(data.toString()), 150));
    });
    await new Promise<void>((resolve) => server.once('listening', resolve));
    const { port } = server.address() as AddressInfo;
    const cli = runCli(['connect', `ws://127.0.0.1:${port}`, '-p', '20', '-x', 'reply']);
    expect(await exitOf(cli)).toBe(0);
    expect(cli.stdout).toBe('reply\n');
  });
});

describe('sockwire connect, unknown options', () => {
  it("parseArgs' multi-line messages print as one line of words, not with a literal \\n", async () => {
    const cli = runCli(['connect', 'ws://127.0.0.1:1', '-x', '-y']);
    expect(await exitOf(cli)).toBe(2);
    expectOneErrorLine(
      cli.stderr,
      /^sockwire: Option '-x' argument is ambiguous\. Did you forget .* --help\)$/,
    );
    expect(cli.stderr).not.toContain('\\n');
  });

  it('names the option in one clean line (no stray quote), status 2', async () => {
    for (const flag of ['--bogus', '-Z']) {
      const cli = runCli(['connect', flag, 'ws://127.0.0.1:1']);
      expect(await exitOf(cli)).toBe(2);
      expectOneErrorLine(
        cli.stderr,
        new RegExp(`^sockwire: unknown option "${flag}" \\(see sockwire --help\\)$`),
      );
    }
  });
});
