/**
 * Peers that reset the TCP connection (RST, `socket.resetAndDestroy()`) mid-handshake, mid-frame and
 * mid-close. The server must report 'close' exactly once with 1006 ("abnormal closure", §7.1.5: no
 * Close frame received) where a WebSocket existed, raise no unhandled rejection or uncaught exception,
 * and leak no handles: after the server closes, no extra TCP socket, TCP server or timer stays active.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { WebSocket } from '../../src/index.ts';
import {
  type Listening,
  nextConnection,
  rawConnect,
  rawHandshake,
  upgradeRequest,
} from '../integration/helpers.ts';
import { closeServer, echoServer, expectHealthy, sleep } from './support.ts';

const WATCHED = ['TCPSocketWrap', 'TCPServerWrap', 'Timeout'] as const;

function resourceCounts(): Record<(typeof WATCHED)[number], number> {
  const all = process.getActiveResourcesInfo();
  return {
    TCPSocketWrap: all.filter((r) => r === 'TCPSocketWrap').length,
    TCPServerWrap: all.filter((r) => r === 'TCPServerWrap').length,
    Timeout: all.filter((r) => r === 'Timeout').length,
  };
}

/** Waits (bounded) until no watched resource count exceeds the baseline; returns the last counts. */
async function settle(baseline: ReturnType<typeof resourceCounts>, timeoutMs = 5000) {
  const deadline = Date.now() + timeoutMs;
  let counts = resourceCounts();
  while (WATCHED.some((k) => counts[k] > baseline[k]) && Date.now() < deadline) {
    await sleep(50);
    counts = resourceCounts();
  }
  return counts;
}

const problems: unknown[] = [];
const onProblem = (error: unknown) => problems.push(error);
beforeAll(() => {
  process.on('unhandledRejection', onProblem);
  process.on('uncaughtException', onProblem);
});
afterAll(() => {
  process.off('unhandledRejection', onProblem);
  process.off('uncaughtException', onProblem);
});

let listening: Listening | undefined;
afterEach(async () => {
  await closeServer(listening);
  listening = undefined;
});

/** Counts the 'close' events of a server-side WebSocket and records their codes. */
function watchClose(ws: WebSocket): { codes: number[]; first: Promise<number> } {
  const codes: number[] = [];
  const first = new Promise<number>((resolve) =>
    ws.on('close', (code: number) => {
      codes.push(code);
      resolve(code);
    }),
  );
  return { codes, first };
}

async function withBoundedWait<T>(promise: Promise<T>, what: string, ms = 5000): Promise<T> {
  return Promise.race([
    promise,
    sleep(ms).then(() => {
      throw new Error(`timed out: ${what}`);
    }),
  ]);
}

describe('TCP reset by the peer', () => {
  it('mid-handshake (half a request head): no connection, no error, no leaked handle', async () => {
    const baseline = resourceCounts();
    problems.length = 0;
    listening = await echoServer({ handshakeTimeout: 10_000 });
    let connections = 0;
    listening.server.on('connection', () => connections++);
    const peer = await rawConnect(listening.port);
    peer.write(upgradeRequest().slice(0, 40));
    await sleep(50);
    peer.socket.resetAndDestroy();
    await sleep(100);
    // A reset right after a complete head (the 101 is being written to a dead socket).
    const peer2 = await rawConnect(listening.port);
    peer2.write(upgradeRequest());
    peer2.socket.resetAndDestroy();
    await sleep(100);
    await expectHealthy(listening);
    await closeServer(listening);
    listening = undefined;
    const after = await settle(baseline);
    expect(after).toEqual(baseline);
    expect(connections).toBeLessThanOrEqual(2); // the healthy one, and maybe the reset one if accepted
    expect(problems).toEqual([]);
  });

  it('mid-frame: the server-side close fires once with 1006', async () => {
    const baseline = resourceCounts();
    problems.length = 0;
    listening = await echoServer();
    const accepted = nextConnection(listening.server);
    const peer = await rawHandshake(listening.port);
    const ws = await accepted;
    const close = watchClose(ws);
    // Half of a masked 1000-byte Binary frame.
    const header = Buffer.from([0x82, 0x80 | 126, 0x03, 0xe8, 1, 2, 3, 4]);
    peer.write(Buffer.concat([header, Buffer.alloc(500)]));
    await sleep(50);
    peer.socket.resetAndDestroy();
    expect(await withBoundedWait(close.first, "server 'close'")).toBe(1006);
    await sleep(100);
    expect(close.codes).toEqual([1006]);
    await expectHealthy(listening);
    await closeServer(listening);
    listening = undefined;
    expect(await settle(baseline)).toEqual(baseline);
    expect(problems).toEqual([]);
  });

  it('mid-close (the server sent Close, the peer resets instead of answering): close once with 1006', async () => {
    const baseline = resourceCounts();
    problems.length = 0;
    listening = await echoServer({ closeTimeout: 10_000 });
    const accepted = nextConnection(listening.server);
    const peer = await rawHandshake(listening.port);
    const ws = await accepted;
    const close = watchClose(ws);
    ws.close(1000, 'bye');
    const frame = await peer.readCloseFrame();
    expect(frame.closeCode).toBe(1000);
    peer.socket.resetAndDestroy();
    expect(await withBoundedWait(close.first, "server 'close'")).toBe(1006);
    await sleep(100);
    expect(close.codes).toEqual([1006]);
    await expectHealthy(listening);
    await closeServer(listening);
    listening = undefined;
    // The close timer (closeTimeout 10 s) must have been cleared with the socket.
    expect(await settle(baseline)).toEqual(baseline);
    expect(problems).toEqual([]);
  });

  it('mid-close (the peer sent Close and resets before reading the answer): close once, no leak', async () => {
    const baseline = resourceCounts();
    problems.length = 0;
    listening = await echoServer();
    const accepted = nextConnection(listening.server);
    const peer = await rawHandshake(listening.port);
    const ws = await accepted;
    const close = watchClose(ws);
    // Masked Close 1001 with mask key 0, then RST at once.
    peer.write(Buffer.from([0x88, 0x82, 0, 0, 0, 0, 0x03, 0xe9]));
    peer.socket.resetAndDestroy();
    const code = await withBoundedWait(close.first, "server 'close'");
    // Either the Close frame was read before the reset (1001) or the reset came first (1006).
    expect([1001, 1006]).toContain(code);
    await sleep(100);
    expect(close.codes).toHaveLength(1);
    await expectHealthy(listening);
    await closeServer(listening);
    listening = undefined;
    expect(await settle(baseline)).toEqual(baseline);
    expect(problems).toEqual([]);
  });
});
