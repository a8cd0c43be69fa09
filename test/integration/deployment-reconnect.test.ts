/**
 * ReconnectingWebSocket over real loopback sockets: a server killed and restarted on the same port,
 * the bounded send queue, exponential backoff with full jitter (delays checked through an injected
 * random source and timer source, so no test waits for a real backoff), the default reconnect policy
 * and a clean stop.
 */
import { createServer as createNetServer } from 'node:net';
import { describe, expect, it } from 'vitest';
import {
  backoffDelay,
  defaultShouldReconnect,
  ErrorCode,
  HandshakeError,
  InvalidStateError,
  type ReconnectCloseEvent,
  ReconnectingWebSocket,
  type ReconnectTimers,
  WebSocket,
  WebSocketServer,
} from '../../src/index.ts';
import { cleanupsAfterEach, listen, once, WAIT_MS, withTimeout } from './helpers.ts';

const cleanups = cleanupsAfterEach();

function track(rws: ReconnectingWebSocket): ReconnectingWebSocket {
  cleanups.push(() => rws.close());
  return rws;
}

async function echoServer(port = 0): Promise<{ server: WebSocketServer; port: number; url: string }> {
  const server = new WebSocketServer({ host: '127.0.0.1', port });
  await once(server, 'listening');
  server.on('connection', (ws: WebSocket) => {
    ws.on('message', (data: Buffer, isBinary: boolean) => ws.send(data, { binary: isBinary }));
  });
  cleanups.push(() => server.close({ timeout: 200 }));
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('no TCP address');
  return { server, port: address.port, url: `ws://127.0.0.1:${address.port}` };
}

/** A loopback port with nothing listening (connections are refused at once). */
async function closedPort(): Promise<number> {
  const server = createNetServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('no TCP address');
  await new Promise((resolve) => server.close(resolve));
  return address.port;
}

/** Timers that only record: the test fires them. At most `active` may be pending at once. */
function fakeTimers() {
  const pending = new Map<number, { callback: () => void; ms: number }>();
  let next = 0;
  let cleared = 0;
  const timers: ReconnectTimers = {
    setTimeout: (callback, ms) => {
      pending.set(++next, { callback, ms });
      return next;
    },
    clearTimeout: (handle) => {
      if (pending.delete(handle as number)) cleared++;
    },
  };
  return {
    timers,
    pending,
    get cleared() {
      return cleared;
    },
    /** Fires the only pending timer. */
    fire(): number {
      expect(pending.size).toBe(1);
      const [[id, entry]] = [...pending.entries()] as [[number, { callback: () => void; ms: number }]];
      pending.delete(id);
      entry.callback();
      return entry.ms;
    },
  };
}

describe('ReconnectingWebSocket against a server killed and restarted on the same port', () => {
  it('reconnects, emits open again, flushes the queue in order, keeps delivering messages', async () => {
    const first = await echoServer();
    const rws = track(new ReconnectingWebSocket(first.url, { minDelay: 20, maxDelay: 100 }));
    let opens = 0;
    rws.on('open', () => opens++);
    const reconnecting: [number, number][] = [];
    rws.on('reconnecting', (attempt, delay) => reconnecting.push([attempt, delay]));
    let closes = 0;
    rws.on('close', () => closes++);
    await once(rws, 'open');
    expect(rws.readyState).toBe(WebSocket.OPEN);
    const echoed = once<[Buffer]>(rws, 'message');
    rws.send('before');
    expect((await echoed)[0].toString()).toBe('before');

    // Kill the server (1001 to the client) and queue while it is down.
    const down = once(rws, 'reconnecting');
    await first.server.close({ timeout: 200 });
    await down;
    expect(rws.readyState).toBe(WebSocket.CONNECTING);
    rws.send('queued-1');
    rws.send(Buffer.from('queued-2'));
    expect(rws.queuedMessages).toBe(2);

    // Restart on the same port: the client finds it again.
    const second = await echoServer(first.port);
    const received = new Promise<string[]>((resolve) => {
      const got: string[] = [];
      second.server.on('connection', (ws: WebSocket) => {
        ws.on('message', (data: Buffer) => {
          got.push(data.toString());
          if (got.length === 2) resolve(got.slice());
        });
      });
    });
    const reopened = once(rws, 'open');
    // 'open' fires after the queue is flushed: a message sent from the listener comes after it.
    rws.once('open', () => rws.send('from open'));
    await withTimeout(reopened, WAIT_MS, 'reconnect');
    expect(await withTimeout(received)).toEqual(['queued-1', 'queued-2']);
    expect(rws.queuedMessages).toBe(0);
    const replies = await nextMessagesOf(rws, 3);
    expect(replies).toEqual(['queued-1', 'queued-2', 'from open']);
    expect(opens).toBe(2);
    expect(closes).toBe(0);
    expect(reconnecting.length).toBeGreaterThanOrEqual(1);
    for (const [attempt, delay] of reconnecting) {
      expect(attempt).toBeGreaterThanOrEqual(1);
      expect(delay).toBeGreaterThanOrEqual(0);
      expect(delay).toBeLessThanOrEqual(100);
    }
    // Not reset by the open alone: only once the connection has stayed up stableAfter ms (5 s by default),
    // so every drop so far (the server killed, the refused attempts while it was down) still counts.
    expect(rws.attempt).toBe(reconnecting.length);

    // close(): one 'close', no reconnect afterwards, send() refused.
    const closed = once<[number, Buffer]>(rws, 'close');
    rws.close(1000, 'done');
    const [code, reason] = await closed;
    expect(code).toBe(1000);
    expect(reason.toString()).toBe('done');
    expect(rws.readyState).toBe(WebSocket.CLOSED);
    expect(() => rws.send('late')).toThrow(expect.objectContaining({ code: ErrorCode.InvalidState }));
    expect(second.server.clients.size).toBeLessThanOrEqual(1);
    expect(closes).toBe(1);
  });
});

function nextMessagesOf(rws: ReconnectingWebSocket, count: number): Promise<string[]> {
  return withTimeout(
    new Promise<string[]>((resolve) => {
      const got: string[] = [];
      const onMessage = (data: Buffer) => {
        got.push(data.toString());
        if (got.length === count) {
          rws.off('message', onMessage);
          resolve(got);
        }
      };
      rws.on('message', onMessage);
    }),
    WAIT_MS,
    `${count} messages`,
  );
}

describe('backoff with full jitter (injected random and timers)', () => {
  it('a reconnect storm: delays follow random * min(maxDelay, minDelay * factor^n), never over maxDelay, one timer at a time', async () => {
    const port = await closedPort();
    const clock = fakeTimers();
    const rws = track(
      new ReconnectingWebSocket(`ws://127.0.0.1:${port}`, {
        minDelay: 10,
        maxDelay: 1000,
        factor: 2,
        random: () => 0.999,
        timers: clock.timers,
      }),
    );
    const delays: number[] = [];
    const attempts: number[] = [];
    rws.on('reconnecting', (attempt, delay) => {
      attempts.push(attempt);
      delays.push(delay);
    });
    const listenersBefore = rws.listenerCount('reconnecting');
    for (let n = 0; n < 40; n++) {
      if (clock.pending.size === 0) await once(rws, 'reconnecting');
      expect(clock.pending.size).toBe(1);
      expect(rws.socket).toBeNull(); // the failed connection is released while waiting
      expect(clock.fire()).toBe(delays[n]);
    }
    await once(rws, 'reconnecting');
    expect(attempts.slice(0, 5)).toEqual([1, 2, 3, 4, 5]);
    const expected = delays.map((_, n) => Math.floor(0.999 * Math.min(1000, 10 * 2 ** n)));
    expect(delays).toEqual(expected);
    expect(Math.max(...delays)).toBeLessThanOrEqual(1000);
    expect(delays.at(-1)).toBe(999); // capped: 10 * 2^40 would be astronomically larger
    // Nothing accumulates: one pending timer, no extra listeners, an empty queue.
    expect(clock.pending.size).toBe(1);
    expect(rws.listenerCount('reconnecting')).toBe(listenersBefore);
    expect(rws.queuedMessages).toBe(0);
    // close() clears the pending timer: nothing left.
    const closed = once(rws, 'close');
    rws.close();
    await closed;
    expect(clock.pending.size).toBe(0);
    expect(clock.cleared).toBe(1);
  });

  it('random() = 0 reconnects at once; the jitter spreads over [0, cap)', () => {
    const options = { minDelay: 1000, maxDelay: 30_000, factor: 2 };
    expect(backoffDelay(0, options, () => 0)).toBe(0);
    expect(backoffDelay(0, options, () => 0.5)).toBe(500);
    expect(backoffDelay(3, options, () => 0.5)).toBe(4000);
    expect(backoffDelay(10, options, () => 0.5)).toBe(15_000);
    expect(backoffDelay(1000, options, () => 0.9999)).toBeLessThanOrEqual(30_000);
  });

  it('gives up after maxRetries failed attempts in a row: one "close" with 1006', async () => {
    const port = await closedPort();
    const clock = fakeTimers();
    const rws = track(
      new ReconnectingWebSocket(`ws://127.0.0.1:${port}`, {
        maxRetries: 2,
        minDelay: 5,
        timers: clock.timers,
      }),
    );
    const errors: Error[] = [];
    rws.on('error', (error) => errors.push(error));
    await once(rws, 'reconnecting');
    clock.fire();
    await once(rws, 'reconnecting');
    const closed = once<[number]>(rws, 'close');
    clock.fire();
    expect((await closed)[0]).toBe(1006);
    expect(clock.pending.size).toBe(0);
    expect(errors).toHaveLength(3);
    expect(errors.every((error) => error instanceof HandshakeError && error.status === 0)).toBe(true);
    expect(rws.readyState).toBe(WebSocket.CLOSED);
  });
});

describe('the send queue', () => {
  it('holds up to maxQueuedMessages while disconnected, then throws WS_ERR_QUEUE_FULL', async () => {
    const port = await closedPort();
    const clock = fakeTimers();
    const rws = track(
      new ReconnectingWebSocket(`ws://127.0.0.1:${port}`, { maxQueuedMessages: 3, timers: clock.timers }),
    );
    for (let i = 0; i < 3; i++) expect(rws.send(`m${i}`)).toBe(true);
    let thrown: unknown;
    try {
      rws.send('one too many');
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBeInstanceOf(InvalidStateError);
    expect((thrown as InvalidStateError).code).toBe(ErrorCode.QueueFull);
    expect(rws.queuedMessages).toBe(3);
    // Across failed attempts the queue does not grow.
    await once(rws, 'reconnecting');
    clock.fire();
    await once(rws, 'reconnecting');
    expect(() => rws.send('still full')).toThrow(expect.objectContaining({ code: ErrorCode.QueueFull }));
    // close() drops the queue and refuses further sends.
    rws.close();
    expect(rws.queuedMessages).toBe(0);
    expect(() => rws.send('x')).toThrow(expect.objectContaining({ code: ErrorCode.InvalidState }));
  });

  it('maxQueuedMessages: 0 refuses every send while disconnected', async () => {
    const port = await closedPort();
    const rws = track(
      new ReconnectingWebSocket(`ws://127.0.0.1:${port}`, {
        maxQueuedMessages: 0,
        timers: fakeTimers().timers,
      }),
    );
    expect(() => rws.send('x')).toThrow(expect.objectContaining({ code: ErrorCode.QueueFull }));
  });
});

describe('shouldReconnect', () => {
  for (const code of [1000, 1008]) {
    it(`by default, does not reconnect after close code ${code}`, async () => {
      const { server, url } = await echoServer();
      server.on('connection', (ws: WebSocket) => ws.close(code, 'bye'));
      const rws = track(new ReconnectingWebSocket(url, { minDelay: 1 }));
      let reconnects = 0;
      rws.on('reconnecting', () => reconnects++);
      const [closeCode, reason] = await once<[number, Buffer]>(rws, 'close');
      expect(closeCode).toBe(code);
      expect(reason.toString()).toBe('bye');
      expect(reconnects).toBe(0);
      expect(rws.readyState).toBe(WebSocket.CLOSED);
    });
  }

  it('by default, reconnects after 1001, 1011, 1013 (and stops once the server says 1000)', async () => {
    const { server, url } = await echoServer();
    const codes = [1001, 1011, 1013, 1000];
    let connection = 0;
    server.on('connection', (ws: WebSocket) => ws.close(codes[connection++]));
    const rws = track(new ReconnectingWebSocket(url, { minDelay: 1, maxDelay: 5 }));
    let opens = 0;
    rws.on('open', () => opens++);
    const [code] = await once<[number]>(rws, 'close');
    expect(code).toBe(1000);
    expect(opens).toBe(4);
  });

  it('by default, does not reconnect after a 4xx handshake refusal, but does after a 503', async () => {
    const refused = await listen({ verifyClient: () => false });
    cleanups.push(() => refused.server.close());
    const rws = track(new ReconnectingWebSocket(refused.url, { minDelay: 1 }));
    let reconnects = 0;
    rws.on('reconnecting', () => reconnects++);
    const errors: Error[] = [];
    rws.on('error', (error) => errors.push(error));
    expect((await once<[number]>(rws, 'close'))[0]).toBe(1006);
    expect(reconnects).toBe(0);
    expect((errors[0] as HandshakeError).status).toBe(401);

    const full = await listen({ maxConnections: 0 });
    cleanups.push(() => full.server.close());
    const clock = fakeTimers();
    const retrying = track(new ReconnectingWebSocket(full.url, { timers: clock.timers }));
    retrying.on('error', () => undefined);
    await once(retrying, 'reconnecting');
    expect(clock.pending.size).toBe(1);
  });

  it('a custom policy sees code, reason, error and attempt', async () => {
    const { server, url } = await echoServer();
    server.on('connection', (ws: WebSocket) => ws.close(4001, 'custom'));
    const seen: ReconnectCloseEvent[] = [];
    const rws = track(
      new ReconnectingWebSocket(url, {
        minDelay: 1,
        shouldReconnect: (event) => {
          seen.push(event);
          return seen.length < 3;
        },
      }),
    );
    const [code] = await once<[number]>(rws, 'close');
    expect(code).toBe(4001);
    expect(seen.map((event) => [event.code, event.reason, event.error])).toEqual([
      [4001, 'custom', undefined],
      [4001, 'custom', undefined],
      [4001, 'custom', undefined],
    ]);
    // Each connection opened and dropped at once: a flap counts as a failed attempt (stableAfter).
    expect(seen.map((event) => event.attempt)).toEqual([0, 1, 2]);
  });

  it('defaultShouldReconnect as a function', () => {
    const base = { reason: '', error: undefined, attempt: 0 };
    expect(defaultShouldReconnect({ ...base, code: 1000 })).toBe(false);
    expect(defaultShouldReconnect({ ...base, code: 1008 })).toBe(false);
    expect(defaultShouldReconnect({ ...base, code: 1006 })).toBe(true);
    const handshake = (status: number) => new HandshakeError(ErrorCode.UnexpectedResponse, status, 'x');
    expect(defaultShouldReconnect({ ...base, code: 1006, error: handshake(403) })).toBe(false);
    expect(defaultShouldReconnect({ ...base, code: 1006, error: handshake(502) })).toBe(true);
    expect(defaultShouldReconnect({ ...base, code: 1006, error: handshake(0) })).toBe(true);
  });
});

describe('close() and bad input', () => {
  it('close() while connecting aborts the attempt and emits one "close"', async () => {
    const { url } = await echoServer();
    const rws = new ReconnectingWebSocket(url, { timers: fakeTimers().timers });
    const closed = once<[number]>(rws, 'close');
    rws.close();
    expect((await closed)[0]).toBe(1006);
    expect(rws.readyState).toBe(WebSocket.CLOSED);
  });

  it('close() while waiting to reconnect clears the timer and emits "close" with its code', async () => {
    const port = await closedPort();
    const clock = fakeTimers();
    const rws = new ReconnectingWebSocket(`ws://127.0.0.1:${port}`, { timers: clock.timers });
    await once(rws, 'reconnecting');
    const closed = once<[number, Buffer]>(rws, 'close');
    rws.close(4000, 'stop');
    const [code, reason] = await closed;
    expect([code, reason.toString()]).toEqual([4000, 'stop']);
    expect(clock.pending.size).toBe(0);
    rws.close(); // twice: nothing happens
  });

  it('an invalid close code throws and keeps the connection', async () => {
    const { url } = await echoServer();
    const rws = track(new ReconnectingWebSocket(url));
    await once(rws, 'open');
    expect(() => rws.close(1005)).toThrow(expect.objectContaining({ code: ErrorCode.InvalidArgument }));
    expect(rws.readyState).toBe(WebSocket.OPEN);
  });

  it('rejects invalid options and URLs synchronously (WS_ERR_INVALID_ARGUMENT)', () => {
    const bad: Record<string, number>[] = [
      { minDelay: -1 },
      { minDelay: 100, maxDelay: 10 },
      { factor: 0.5 },
      { maxRetries: -1 },
      { maxQueuedMessages: -1 },
      { minDelay: Number.NaN },
    ];
    for (const options of bad) {
      expect(() => new ReconnectingWebSocket('ws://127.0.0.1:1', options)).toThrow(
        expect.objectContaining({ code: ErrorCode.InvalidArgument }),
      );
    }
    expect(() => new ReconnectingWebSocket('ftp://x')).toThrow(
      expect.objectContaining({ code: ErrorCode.InvalidArgument }),
    );
  });

  it('passes subprotocols and client options through', async () => {
    const { url } = await echoServer();
    const rws = track(new ReconnectingWebSocket(url, ['chat.v2'], { headers: { 'X-Test': '1' } }));
    await once(rws, 'open');
    expect(rws.protocol).toBe('chat.v2');
    expect(rws.socket).toBeInstanceOf(WebSocket);
    const got = once<[Buffer]>(rws, 'message');
    rws.send('hi');
    const [reply] = await got;
    expect(reply!.toString()).toBe('hi');
  });
});
