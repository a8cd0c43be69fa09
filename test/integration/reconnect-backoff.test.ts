/**
 * ReconnectingWebSocket against a failing server: connections that open and drop at once (1011, 1013)
 * are failures for the backoff and for `maxRetries` until one stays open `stableAfter` ms; and a
 * pending reconnect keeps the process alive unless `keepProcessAlive: false`.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import {
  ErrorCode,
  ReconnectingWebSocket,
  type ReconnectTimers,
  type WebSocket,
  WebSocketServer,
} from '../../src/index.ts';
import { cleanupsAfterEach, once, WAIT_MS, withTimeout } from './helpers.ts';

const cleanups = cleanupsAfterEach();

/** A server whose connection number n (from 0) is handed to `onConnection`. */
async function server(onConnection: (ws: WebSocket, n: number) => void): Promise<string> {
  const wss = new WebSocketServer({ host: '127.0.0.1', port: 0 });
  await once(wss, 'listening');
  let n = 0;
  wss.on('connection', (ws: WebSocket) => onConnection(ws, n++));
  cleanups.push(() => wss.close({ timeout: 200 }));
  const address = wss.address();
  if (address === null || typeof address === 'string') throw new Error('no TCP address');
  return `ws://127.0.0.1:${address.port}`;
}

/** Timers that only record; the test fires them. */
function fakeTimers() {
  const pending = new Map<number, { callback: () => void; ms: number }>();
  let next = 0;
  const timers: ReconnectTimers = {
    setTimeout: (callback, ms) => {
      pending.set(++next, { callback, ms });
      return next;
    },
    clearTimeout: (handle) => {
      pending.delete(handle as number);
    },
  };
  return {
    timers,
    pending,
    /** Fires the only pending timer; returns its delay. */
    fire(): number {
      expect(pending.size).toBe(1);
      const [[id, entry]] = [...pending.entries()] as [[number, { callback: () => void; ms: number }]];
      pending.delete(id);
      entry.callback();
      return entry.ms;
    },
  };
}

type Step =
  | { readonly kind: 'reconnecting'; readonly attempt: number; readonly delay: number }
  | {
      readonly kind: 'close';
      readonly code: number;
    };

/** The next 'reconnecting' or 'close' of `rws`. */
function nextStep(rws: ReconnectingWebSocket): Promise<Step> {
  return withTimeout(
    new Promise<Step>((resolve) => {
      const onReconnecting = (attempt: number, delay: number) => {
        rws.off('close', onClose);
        resolve({ kind: 'reconnecting', attempt, delay });
      };
      const onClose = (code: number) => {
        rws.off('reconnecting', onReconnecting);
        resolve({ kind: 'close', code });
      };
      rws.once('reconnecting', onReconnecting);
      rws.once('close', onClose);
    }),
    WAIT_MS,
    "'reconnecting' or 'close'",
  );
}

describe('a server that accepts and then drops every connection at once (flapping)', () => {
  for (const code of [1011, 1013]) {
    it(`close ${code} right after open: the backoff grows and maxRetries gives up`, async () => {
      const url = await server((ws) => ws.close(code));
      const clock = fakeTimers();
      const rws = new ReconnectingWebSocket(url, {
        minDelay: 10,
        maxDelay: 10_000,
        factor: 2,
        maxRetries: 4,
        random: () => 0.999,
        timers: clock.timers,
      });
      cleanups.push(() => rws.close());
      let opens = 0;
      rws.on('open', () => opens++);
      const steps: Step[] = [];
      for (let i = 0; i < 10; i++) {
        const step = await nextStep(rws);
        steps.push(step);
        if (step.kind === 'close') break;
        clock.fire();
      }
      // 10 · 2^n ms caps, drawn at 0.999: each flap counts as a failed attempt.
      expect(steps).toEqual([
        { kind: 'reconnecting', attempt: 1, delay: 9 },
        { kind: 'reconnecting', attempt: 2, delay: 19 },
        { kind: 'reconnecting', attempt: 3, delay: 39 },
        { kind: 'reconnecting', attempt: 4, delay: 79 },
        { kind: 'close', code },
      ]);
      expect(opens).toBe(5);
      expect(clock.pending.size).toBe(0); // no timer left behind
    });
  }

  it('a connection that stays open stableAfter ms resets the backoff; a flap before that does not', async () => {
    let keep: WebSocket | null = null;
    // Connections 0 and 1 drop at once; 2 stays until the test drops it; 3 and later drop at once.
    const url = await server((ws, n) => {
      if (n === 2) keep = ws;
      else ws.close(1011);
    });
    const clock = fakeTimers();
    const rws = new ReconnectingWebSocket(url, {
      minDelay: 10,
      maxDelay: 10_000,
      random: () => 0.999,
      stableAfter: 2000,
      timers: clock.timers,
    });
    cleanups.push(() => rws.close());
    expect(await nextStep(rws)).toEqual({ kind: 'reconnecting', attempt: 1, delay: 9 });
    clock.fire();
    expect(await nextStep(rws)).toEqual({ kind: 'reconnecting', attempt: 2, delay: 19 });
    clock.fire();
    await once(rws, 'open');
    expect(rws.attempt).toBe(2); // open, but not yet stable
    expect(clock.fire()).toBe(2000); // the stability timer: the only one pending
    expect(rws.attempt).toBe(0);
    (keep as WebSocket | null)?.close(1011);
    expect(await nextStep(rws)).toEqual({ kind: 'reconnecting', attempt: 1, delay: 9 });
    clock.fire();
    expect(await nextStep(rws)).toEqual({ kind: 'reconnecting', attempt: 2, delay: 19 });
    rws.close();
    expect(clock.pending.size).toBe(0);
  });

  it('stableAfter: 0 resets the backoff on every open (the flapping client retries at minDelay)', async () => {
    const url = await server((ws) => ws.close(1011));
    const clock = fakeTimers();
    const rws = new ReconnectingWebSocket(url, {
      minDelay: 10,
      maxRetries: 2,
      random: () => 0.999,
      stableAfter: 0,
      timers: clock.timers,
    });
    cleanups.push(() => rws.close());
    for (let i = 0; i < 4; i++) {
      expect(await nextStep(rws)).toEqual({ kind: 'reconnecting', attempt: 1, delay: 9 });
      clock.fire();
    }
  });

  it('rejects an invalid stableAfter or keepProcessAlive (WS_ERR_INVALID_ARGUMENT)', () => {
    for (const options of [{ stableAfter: -1 }, { stableAfter: Number.NaN }, { keepProcessAlive: 'no' }]) {
      expect(() => new ReconnectingWebSocket('ws://127.0.0.1:1', options as Record<string, unknown>)).toThrow(
        expect.objectContaining({ code: ErrorCode.InvalidArgument }),
      );
    }
  });
});

describe('a process whose only work is a ReconnectingWebSocket', () => {
  const ROOT = fileURLToPath(new URL('../..', import.meta.url));
  const SCRIPT = fileURLToPath(new URL('../fixtures/reconnecting-only.ts', import.meta.url));
  /** Generous: tsx compiles on start-up and the machine may be busy. */
  const CHILD_MS = 15_000;

  function run(url: string, mode?: string): { exited: Promise<number | null>; output: () => string } {
    const child: ChildProcess = spawn(
      process.execPath,
      ['--import', 'tsx', SCRIPT, url, ...(mode ? [mode] : [])],
      { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let output = '';
    child.stdout!.setEncoding('utf8').on('data', (chunk: string) => {
      output += chunk;
    });
    child.stderr!.setEncoding('utf8').on('data', (chunk: string) => {
      output += chunk;
    });
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    cleanups.push(() => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      return exited;
    });
    return { exited, output: () => output };
  }

  /** A server that closes every connection with 1012 (service restart: worth reconnecting). */
  async function restartingServer(): Promise<{ url: string; connections: number[]; second: Promise<void> }> {
    const connections: number[] = [];
    let secondArrived = () => {};
    const second = new Promise<void>((resolve) => {
      secondArrived = resolve;
    });
    const url = await server((ws, n) => {
      connections.push(n);
      ws.close(1012);
      if (n === 1) secondArrived();
    });
    return { url, connections, second };
  }

  it('stays alive while a reconnect is pending, and reconnects', async () => {
    const { url, connections, second } = await restartingServer();
    const child = run(url);
    const outcome = await withTimeout(
      Promise.race([
        second.then(() => 'reconnected'),
        child.exited.then((code) => `exited with status ${code} after:\n${child.output()}`),
      ]),
      CHILD_MS,
      'a second connection from the child, or its exit',
    );
    expect(outcome).toBe('reconnected');
    expect(child.output()).toMatch(/^open\nreconnecting 1 100\n/);
    expect(connections.slice(0, 2)).toEqual([0, 1]);
  });

  it('keepProcessAlive: false lets it exit (status 0) while waiting to reconnect', async () => {
    const { url, connections } = await restartingServer();
    const child = run(url, 'opt-out');
    expect(await withTimeout(child.exited, CHILD_MS, 'the child to exit')).toBe(0);
    expect(child.output()).toBe('open\nreconnecting 1 100\n');
    expect(connections).toEqual([0]);
  });
});
