/**
 * `sockwire listen`: the real CLI as a server, with sockwire clients (and the CLI as a client).
 */
import { afterEach, describe, expect, it } from 'vitest';
import { describeError } from '../../src/cli/errors.ts';
import { WebSocket } from '../../src/index.ts';
import { once } from '../integration/helpers.ts';
import { exitOf, killStrays, runCli } from './helpers.ts';

afterEach(killStrays);

async function listening(args: string[]): Promise<{ cli: ReturnType<typeof runCli>; url: string }> {
  const cli = runCli(['listen', '0', ...args]);
  const line = await cli.waitFor(/listening on|"event":"listening"/);
  const url = /(wss?:\/\/[^\s"]+)/.exec(line)![1]!;
  return { cli, url };
}

async function open(url: string): Promise<WebSocket> {
  const ws = new WebSocket(url);
  await once(ws, 'open');
  return ws;
}

describe('sockwire listen', () => {
  it('echoes, prints each connection and message, and stops on SIGTERM with status 0', async () => {
    const { cli, url } = await listening([]);
    expect(url).toMatch(/^ws:\/\/127\.0\.0\.1:\d+$/);
    const ws = await open(`${url}/room`);
    await cli.waitFor(/^\* #1 connected from 127\.0\.0\.1:\d+ \/room$/);
    ws.send('ping me');
    const [data] = await once<[Buffer]>(ws, 'message');
    expect(data.toString()).toBe('ping me');
    await cli.waitFor(/^< #1 ping me$/);
    ws.close(1000, 'done');
    await cli.waitFor(/^\* #1 closed 1000 done$/);
    cli.child.kill('SIGTERM');
    expect(await exitOf(cli)).toBe(0);
  });

  it('--broadcast sends each message to every client; stdin lines go to all', async () => {
    const { cli, url } = await listening(['--broadcast']);
    const a = await open(url);
    const b = await open(url);
    await cli.waitFor(/#2 connected/);
    const toB = once<[Buffer]>(b, 'message');
    const toA = once<[Buffer]>(a, 'message');
    a.send('hello all');
    expect(String((await toB)[0])).toBe('hello all');
    expect(String((await toA)[0])).toBe('hello all');
    const fromServer = once<[Buffer]>(b, 'message');
    cli.type('from the console');
    expect(String((await fromServer)[0])).toBe('from the console');
    cli.child.kill('SIGTERM');
    const [code] = await once<[number]>(a, 'close');
    expect(code).toBe(1001); // the server going away
    expect(await exitOf(cli)).toBe(0);
  });

  it('--json: a CLI client against a CLI server, every line parses', async () => {
    const { cli: server, url } = await listening(['--json']);
    const client = runCli(['connect', url, '-x', 'round trip', '--json']);
    expect(await exitOf(client)).toBe(0);
    const clientEvents = client.stdout
      .trimEnd()
      .split('\n')
      .map((line) => JSON.parse(line) as { event: string; direction?: string; data?: string });
    expect(clientEvents.find((event) => event.direction === 'in')?.data).toBe('round trip');
    await server.waitFor(/"event":"close"/);
    server.child.kill('SIGTERM');
    expect(await exitOf(server)).toBe(0);
    const serverEvents = server.stdout
      .trimEnd()
      .split('\n')
      .map((line) => JSON.parse(line) as { event: string });
    expect(serverEvents.map((event) => event.event)).toEqual(['listening', 'open', 'message', 'close']);
  });

  it('a port in use: one line on stderr and status 1', async () => {
    const { cli: first, url } = await listening([]);
    const port = url.split(':').pop()!;
    const second = runCli(['listen', port]);
    expect(await exitOf(second)).toBe(1);
    expect(second.stderr.trimEnd().split('\n')).toHaveLength(1);
    expect(second.stderr).toMatch(/cannot listen on 127\.0\.0\.1:\d+: address already in use/);
    first.child.kill('SIGTERM');
    await exitOf(first);
  });

  it('serves wss:// with --cert/--key; a CLI client trusts it with --ca', async () => {
    const cert = 'test/fixtures/localhost-cert.pem';
    const { cli: server, url } = await listening([
      '--cert',
      cert,
      '--key',
      'test/fixtures/localhost-key.pem',
    ]);
    expect(url).toMatch(/^wss:\/\//);
    const client = runCli(['connect', url, '--ca', cert, '-x', 'over TLS']);
    expect(await exitOf(client)).toBe(0);
    expect(client.stdout).toBe('over TLS\n');
    await server.waitFor(/^< #1 over TLS$/);
    server.child.kill('SIGTERM');
    expect(await exitOf(server)).toBe(0);
  });
});

describe('sockwire listen, small print', () => {
  it('a port in use says "address already in use" once, with what to do', async () => {
    const { cli: first, url } = await listening([]);
    const port = url.split(':').pop()!;
    const second = runCli(['listen', port]);
    expect(await exitOf(second)).toBe(1);
    expect(second.stderr.match(/address already in use/g)).toHaveLength(1);
    expect(second.stderr).toMatch(
      new RegExp(
        `^sockwire: cannot listen on 127\\.0\\.0\\.1:${port}: address already in use \\(.*port 0.*\\)\\n$`,
      ),
    );
    first.child.kill('SIGTERM');
    await exitOf(first);
  });

  it('a line typed counts its clients in singular or plural', async () => {
    const { cli, url } = await listening([]);
    cli.type('to nobody');
    expect(await cli.waitFor(/to nobody$/)).toBe('> (0 clients) to nobody');
    const ws = await open(url);
    await cli.waitFor(/#1 connected/);
    const received = once<[Buffer]>(ws, 'message');
    cli.type('to one');
    expect(String((await received)[0])).toBe('to one');
    expect(await cli.waitFor(/to one$/)).toBe('> (1 client) to one');
    ws.close();
    await cli.waitFor(/#1 closed/);
    cli.child.kill('SIGTERM');
    expect(await exitOf(cli)).toBe(0);
  });

  it('a port that needs privileges: "permission denied" once (Node says it twice)', () => {
    // As root (CI containers) a real bind to port 80 succeeds: the error is built as Node builds it.
    const error = Object.assign(new Error('listen EACCES: permission denied 127.0.0.1:80'), {
      code: 'EACCES',
      syscall: 'listen',
    });
    expect(describeError(error)).toBe(
      'permission denied (ports below 1024 usually need privileges: choose one from 1024 up)',
    );
  });

  it('a --cert file that cannot be read: a usage error naming the option, as connect --ca does', async () => {
    const cli = runCli(['listen', '0', '--cert', 'no-such-cert.pem', '--key', 'no-such-key.pem']);
    expect(await exitOf(cli)).toBe(2);
    expect(cli.stderr).toBe('sockwire: cannot read --cert no-such-cert.pem: ENOENT (see sockwire --help)\n');
  });

  it('an unknown option is named in one clean line, status 2', async () => {
    const cli = runCli(['listen', '0', '--bogus']);
    expect(await exitOf(cli)).toBe(2);
    expect(cli.stderr).toBe('sockwire: unknown option "--bogus" (see sockwire --help)\n');
  });
});
