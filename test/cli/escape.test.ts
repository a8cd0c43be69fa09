/**
 * A hostile peer must not drive the user's terminal through the CLI: messages, Pong data and close
 * reasons (the peer's text) are printed with their control characters escaped, one event per line,
 * unless `--raw` asks for the bytes as received. `--json` escapes by construction.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { WebSocket } from '../../src/index.ts';
import {
  closePayload,
  encodeMaskedFrame,
  once,
  type RawPeer,
  type RawServer,
  rawServer,
  withTimeout,
} from '../integration/helpers.ts';
import { exitOf, killStrays, runCli } from './helpers.ts';

const servers: RawServer[] = [];
afterEach(async () => {
  killStrays();
  for (const server of servers.splice(0)) await server.close();
});

/** What a terminal would act on: C0 controls but tab and line feed, DEL, and C1 controls (U+0080–U+009F). */
// biome-ignore lint/suspicious/noControlCharactersInRegex: finding control characters is the point
const TERMINAL_CONTROL = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f]/;

const HOSTILE = [
  '\u001b]0;pwned title\u0007', // OSC 0: set the window title
  '\u001b]52;c;ZWNobyBwd25lZA==\u0007', // OSC 52: write the clipboard
  '\u001b[2J\u001b[H', // erase the screen, cursor home
  'line one\nline two\r* closed 1000', // a forged second line and a forged close line
  '\u009b31mC1 CSI\u009b0m and DEL\u007f', // C1 CSI (U+009B), which some UTF-8 terminals obey
];
const HOSTILE_SHOWN = [
  '\\x1b]0;pwned title\\x07',
  '\\x1b]52;c;ZWNobyBwd25lZA==\\x07',
  '\\x1b[2J\\x1b[H',
  'line one\\nline two\\r* closed 1000',
  '\\u009b31mC1 CSI\\u009b0m and DEL\\x7f',
];
const HOSTILE_REASON = '\r* closed 1000\u001b[2J';

/** Reads frames until one with an opcode in `opcodes`; returns that opcode. */
async function nextFrameOf(peer: RawPeer, opcodes: readonly number[]): Promise<number> {
  while (true) {
    const { opcode } = await peer.readFrame(15_000);
    if (opcodes.includes(opcode)) return opcode;
  }
}

/** A server that sends the hostile messages, answers a Ping with a hostile Pong, then closes with a hostile reason. */
async function hostileServer(): Promise<string> {
  const server = await rawServer(async (peer) => {
    const finish = () => {
      peer.write(encodeMaskedFrame(0x8, closePayload(1000), { maskKey: null }));
      peer.socket.end(); // §7.1.1: the server closes the TCP connection first
    };
    for (const message of HOSTILE) peer.write(encodeMaskedFrame(0x1, message, { maskKey: null }));
    // Interactive: a Ping, then a text message typed once the Pong was printed. With -x: "hi", a Close.
    if ((await nextFrameOf(peer, [0x9, 0x8])) === 0x8) return finish();
    peer.write(encodeMaskedFrame(0xa, '\u001b]0;pong title\u0007', { maskKey: null }));
    if ((await nextFrameOf(peer, [0x1, 0x8])) === 0x8) return finish();
    peer.write(encodeMaskedFrame(0x8, closePayload(4000, HOSTILE_REASON), { maskKey: null }));
    await nextFrameOf(peer, [0x8]);
    peer.socket.end();
  });
  servers.push(server);
  return server.url;
}

describe('sockwire connect shows a peer’s control characters escaped', () => {
  it('messages, a Pong and a close reason full of escape sequences print visibly, one line each', async () => {
    const url = await hostileServer();
    const cli = runCli(['connect', url]);
    await cli.waitFor(/^< line one/);
    await cli.waitFor(/^< \\u009b31m/);
    cli.type('/ping p');
    expect(await cli.waitFor(/^< \[pong\]/)).toBe('< [pong] \\x1b]0;pong title\\x07');
    cli.type('done');
    expect(await cli.waitFor(/^\* closed 4000/)).toBe('* closed 4000 \\r* closed 1000\\x1b[2J');
    expect(await exitOf(cli)).toBe(0);
    expect(cli.stdout).not.toMatch(TERMINAL_CONTROL);
    const received = cli.stdout
      .split('\n')
      .filter((line) => line.startsWith('< ') && !line.includes('[pong]'));
    expect(received).toEqual(HOSTILE_SHOWN.map((shown) => `< ${shown}`));
    expect(cli.stdout.split('\n').filter((line) => line.startsWith('* closed'))).toHaveLength(1);
  });

  it('--raw prints them as received', async () => {
    const url = await hostileServer();
    const cli = runCli(['connect', url, '--raw']);
    await cli.waitFor(/^< \u009b31m/);
    cli.type('/ping p');
    await cli.waitFor(/^< \[pong\]/);
    cli.type('done');
    expect(await exitOf(cli)).toBe(0);
    for (const message of HOSTILE) expect(cli.stdout).toContain(`< ${message}\n`);
    expect(cli.stdout).toContain('< [pong] \u001b]0;pong title\u0007\n');
    expect(cli.stdout).toContain(`* closed 4000 ${HOSTILE_REASON}\n`);
  });

  it('--json keeps the exact text and stays free of terminal controls (C1 included)', async () => {
    const url = await hostileServer();
    const cli = runCli(['connect', url, '--json']);
    await cli.waitFor(/u009b31m/);
    cli.type('/ping p');
    await cli.waitFor(/"event":"pong"/);
    cli.type('done');
    await cli.waitFor(/"event":"close"/);
    expect(await exitOf(cli)).toBe(0);
    expect(cli.stdout).not.toMatch(TERMINAL_CONTROL);
    const events = cli.stdout
      .trimEnd()
      .split('\n')
      .map(
        (line) => JSON.parse(line) as { event: string; direction?: string; data?: string; reason?: string },
      );
    const inbound = events.filter((event) => event.event === 'message' && event.direction === 'in');
    expect(inbound.map((event) => event.data)).toEqual(HOSTILE);
    expect(events.find((event) => event.event === 'close')?.reason).toBe(HOSTILE_REASON);
  });

  it('-x prints a hostile reply escaped too', async () => {
    const url = await hostileServer();
    const cli = runCli(['connect', url, '-x', 'hi', '--wait', '5']);
    expect(await exitOf(cli)).toBe(0);
    expect(cli.stdout).not.toMatch(TERMINAL_CONTROL);
    expect(cli.stdout.trimEnd().split('\n')).toEqual(HOSTILE_SHOWN);
  });

  it('--raw and --json together are refused (status 2)', async () => {
    const cli = runCli(['connect', 'ws://127.0.0.1:1', '--raw', '--json']);
    expect(await exitOf(cli)).toBe(2);
    expect(cli.stderr).toMatch(/--raw.*--json/);
  });
});

describe('sockwire listen shows a client’s control characters escaped', () => {
  async function listening(args: string[]): Promise<{ cli: ReturnType<typeof runCli>; url: string }> {
    const cli = runCli(['listen', '0', ...args]);
    const line = await cli.waitFor(/listening on/);
    return { cli, url: /(ws:\/\/[^\s"]+)/.exec(line)![1]! };
  }

  async function hostileClient(url: string): Promise<void> {
    const ws = new WebSocket(url);
    await once(ws, 'open');
    const echoed = new Promise<void>((resolve) => {
      let count = 0;
      ws.on('message', () => {
        if (++count === HOSTILE.length) resolve();
      });
    });
    for (const message of HOSTILE) ws.send(message);
    await withTimeout(echoed, 15_000, 'the echoes');
    ws.close(4000, HOSTILE_REASON);
    await once(ws, 'close');
  }

  it('messages and the close reason print visibly, one line each', async () => {
    const { cli, url } = await listening([]);
    await hostileClient(url);
    expect(await cli.waitFor(/^\* #1 closed 4000/)).toBe('* #1 closed 4000 \\r* closed 1000\\x1b[2J');
    cli.child.kill('SIGTERM');
    expect(await exitOf(cli)).toBe(0);
    expect(cli.stdout).not.toMatch(TERMINAL_CONTROL);
    const received = cli.stdout.split('\n').filter((line) => line.startsWith('< #1 '));
    expect(received).toEqual(HOSTILE_SHOWN.map((shown) => `< #1 ${shown}`));
  });

  it('--raw prints them as received', async () => {
    const { cli, url } = await listening(['--raw']);
    await hostileClient(url);
    await cli.waitFor(/^\* #1 closed 4000/);
    cli.child.kill('SIGTERM');
    expect(await exitOf(cli)).toBe(0);
    for (const message of HOSTILE) expect(cli.stdout).toContain(`< #1 ${message}\n`);
    expect(cli.stdout).toContain(`* #1 closed 4000 ${HOSTILE_REASON}\n`);
  });
});
