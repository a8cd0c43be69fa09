/**
 * Refused handshakes must not leave sockets behind. A peer sends an upgrade request, reads the
 * refusal (401, 403, 400, 404, 405, 426, 431, 500 or 503) and then does nothing: it never sends its
 * own FIN. Whatever it does, the server's socket is destroyed after a short bounded time (the
 * refusal lingers 1 s for the response to reach the peer), standalone and attached to node:http,
 * and `close({ timeout })` does not wait for such sockets.
 *
 * Seeing the server's socket from outside: a destroyed socket answers any segment with a reset
 * (RFC 9293 §3.10.7.1: a closed connection answers with RST), so the peer writes one byte every
 * 100 ms and waits for the reset. A socket still open just takes the bytes.
 */
import { createServer as createHttpServer, type Server as HttpServer } from 'node:http';
import { type AddressInfo, connect as netConnect, type Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { type ServerOptions, type VerifyClientInfo, WebSocketServer } from '../../src/index.ts';
import { once, randomKey, upgradeRequest, WAIT_MS, withTimeout } from '../integration/helpers.ts';

/** How long a refused socket may stay, at most: the 1 s linger plus generous slack. */
const GONE_WITHIN_MS = 4000;

type Cleanup = () => Promise<unknown> | undefined;

/** Per test (the refusal tests run concurrently): cleanups, last registered first. */
function cleanupList(): { add: (cleanup: Cleanup) => void; run: () => Promise<void> } {
  const list: Cleanup[] = [];
  return {
    add: (cleanup) => list.push(cleanup),
    run: async () => {
      for (const cleanup of list.splice(0).reverse()) {
        await withTimeout(Promise.resolve(cleanup()), WAIT_MS).catch(() => undefined);
      }
    },
  };
}
const shared = cleanupList();
afterEach(shared.run);

interface Target {
  readonly wss: WebSocketServer;
  readonly port: number;
  /** Attached mode: the server-side sockets node:http accepted and that are not closed yet. */
  readonly serverSockets: Set<Socket> | null;
}

async function standalone(options: Omit<ServerOptions, 'port'>, cleanups = shared): Promise<Target> {
  const wss = new WebSocketServer({ ...options, host: '127.0.0.1', port: 0 });
  cleanups.add(() => wss.close({ timeout: 100 }));
  await once(wss, 'listening');
  return { wss, port: (wss.address() as AddressInfo).port, serverSockets: null };
}

async function attached(options: Omit<ServerOptions, 'port'>, cleanups = shared): Promise<Target> {
  const http: HttpServer = createHttpServer((_req, res) => res.end('plain HTTP'));
  const serverSockets = new Set<Socket>();
  http.on('connection', (socket: Socket) => {
    serverSockets.add(socket);
    socket.on('close', () => serverSockets.delete(socket));
  });
  cleanups.add(
    () =>
      new Promise<void>((resolve) => {
        for (const socket of serverSockets) socket.destroy();
        http.close(() => resolve());
      }),
  );
  http.listen(0, '127.0.0.1');
  await once(http, 'listening');
  const wss = new WebSocketServer({ ...options, server: http });
  cleanups.add(() => wss.close({ timeout: 100 }));
  return { wss, port: (http.address() as AddressInfo).port, serverSockets };
}

/** A peer that never closes: half-open allowed, so the server's FIN does not make it answer with its own. */
class StubbornPeer {
  readonly socket: Socket;
  received = Buffer.alloc(0);
  reset = false;
  constructor(port: number, cleanups = shared) {
    this.socket = netConnect({ port, host: '127.0.0.1', allowHalfOpen: true });
    this.socket.on('data', (chunk: Buffer) => {
      this.received = Buffer.concat([this.received, chunk]);
    });
    this.socket.on('error', () => {}); // the reset we wait for
    this.socket.on('close', () => {
      this.reset = true;
    });
    cleanups.add(() => {
      this.socket.destroy();
      return undefined;
    });
  }
  async connected(): Promise<void> {
    await once(this.socket, 'connect');
  }
  /** The status of the response, once its status line is in. */
  async status(): Promise<number> {
    const deadline = Date.now() + WAIT_MS;
    while (Date.now() < deadline) {
      const match = /^HTTP\/1\.1 (\d{3}) /.exec(this.received.toString('latin1'));
      if (match) return Number(match[1]);
      if (this.reset) break;
      await sleep(10);
    }
    throw new Error(`no status line; got ${JSON.stringify(this.received.toString('latin1'))}`);
  }
  /** Writes one byte every 100 ms until the server's socket answers with a reset; ms it took, or null. */
  async waitGone(withinMs: number): Promise<number | null> {
    const started = Date.now();
    while (Date.now() - started < withinMs) {
      if (this.reset) return Date.now() - started;
      if (!this.socket.destroyed) this.socket.write('x');
      await sleep(100);
    }
    return this.reset ? Date.now() - started : null;
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

type Mode = 'standalone' | 'attached';

interface RefusalCase {
  readonly status: number;
  readonly how: string;
  readonly options: Omit<ServerOptions, 'port'>;
  readonly request?: string;
  /** Modes it applies to (default both). */
  readonly modes?: readonly Mode[];
}

const refuse = (status: number) => ({ accept: false as const, status, reason: 'refused by the test' });

const CASES: readonly RefusalCase[] = [
  { status: 401, how: 'sync verifyClient returns false', options: { verifyClient: () => false } },
  { status: 401, how: 'async verifyClient resolves false', options: { verifyClient: async () => false } },
  {
    status: 401,
    how: 'callback verifyClient calls back false',
    options: { verifyClient: (_info: unknown, cb: (ok: boolean) => void) => setTimeout(cb, 5, false) },
  },
  {
    status: 403,
    how: 'allowedOrigins refuses the Origin',
    options: { allowedOrigins: ['https://app.example'] },
    request: upgradeRequest({ headers: { Origin: 'https://evil.example' } }),
  },
  {
    status: 400,
    how: 'an invalid Sec-WebSocket-Key',
    options: {},
    request: upgradeRequest({ key: 'short' }),
  },
  { status: 404, how: 'sync verifyClient answers 404', options: { verifyClient: () => refuse(404) } },
  { status: 404, how: 'async verifyClient answers 404', options: { verifyClient: async () => refuse(404) } },
  { status: 405, how: 'a POST', options: {}, request: upgradeRequest({ method: 'POST' }) },
  {
    status: 400,
    how: 'Sec-WebSocket-Version 7',
    options: {},
    request: upgradeRequest({ headers: { 'Sec-WebSocket-Version': '7' } }),
  },
  {
    // Attached, node:http answers a request that is no upgrade itself.
    status: 426,
    how: 'a plain GET (no Upgrade)',
    options: {},
    request: 'GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n',
    modes: ['standalone'],
  },
  {
    status: 431,
    how: 'a head over maxHeadSize',
    options: { maxHeadSize: 1024 },
    request: upgradeRequest({ headers: { 'X-Filler': 'a'.repeat(2000) } }),
    modes: ['standalone'], // attached, node:http applies its own header limit
  },
  { status: 431, how: 'async verifyClient answers 431', options: { verifyClient: async () => refuse(431) } },
  {
    status: 500,
    how: 'verifyClient throws',
    options: {
      verifyClient: () => {
        throw new Error('hook bug');
      },
    },
  },
  {
    status: 500,
    how: 'async verifyClient rejects',
    options: { verifyClient: async () => Promise.reject(new Error('hook bug')) },
  },
  { status: 503, how: 'maxConnections: 0', options: { maxConnections: 0 } },
];

describe.each(['standalone', 'attached'] as const)('refusals (%s)', (mode) => {
  const cases = CASES.filter((c) => (c.modes ?? ['standalone', 'attached']).includes(mode));
  // Concurrent: each waits about 1 s (the linger), which is not CPU time.
  it.concurrent.for(cases)(
    '$status ($how): the server socket is gone soon, though the peer never closes',
    async (c, { expect, onTestFinished }) => {
      const cleanups = cleanupList();
      onTestFinished(cleanups.run);
      const target = await (mode === 'standalone' ? standalone : attached)(c.options, cleanups);
      target.wss.on('hookError', () => {}); // the 500 cases: failures of the test's own hooks
      const peers = [
        new StubbornPeer(target.port, cleanups),
        new StubbornPeer(target.port, cleanups),
        new StubbornPeer(target.port, cleanups),
      ];
      await Promise.all(peers.map((peer) => peer.connected()));
      for (const peer of peers) peer.socket.write(c.request ?? upgradeRequest({ key: randomKey() }));
      for (const peer of peers) expect(await peer.status()).toBe(c.status);
      const gone = await Promise.all(peers.map((peer) => peer.waitGone(GONE_WITHIN_MS)));
      expect(gone.every((ms) => ms !== null)).toBe(true);
      const serverSockets = target.serverSockets;
      if (serverSockets !== null) {
        await withTimeout(
          (async () => {
            while (serverSockets.size > 0) await sleep(20);
          })(),
          WAIT_MS,
          'node:http to drop its sockets',
        );
      }
    },
  );
});

describe.each(['standalone', 'attached'] as const)('close({ timeout }) with refused peers (%s)', (mode) => {
  it('finishes within its timeout while refused and still-verifying peers hang on', async () => {
    let verifying = 0;
    const target = await (mode === 'standalone' ? standalone : attached)({
      verifyClient: (info: VerifyClientInfo) => {
        if (info.req.url === '/pending') {
          verifying++;
          return new Promise<boolean>(() => {}); // never decides
        }
        return false;
      },
    });
    const refused = new StubbornPeer(target.port);
    const pending = new StubbornPeer(target.port);
    await Promise.all([refused.connected(), pending.connected()]);
    refused.socket.write(upgradeRequest());
    pending.socket.write(upgradeRequest({ path: '/pending' }));
    expect(await refused.status()).toBe(401);
    await withTimeout(
      (async () => {
        while (verifying === 0) await sleep(10);
      })(),
      WAIT_MS,
      'the pending request to reach verifyClient',
    );
    const started = Date.now();
    const closed = await withTimeout(
      target.wss.close({ timeout: 1000 }).then(() => Date.now() - started),
      4000,
      'server.close({ timeout: 1000 })',
    );
    expect(closed).toBeLessThan(4000);
    // Both server-side sockets were destroyed by close().
    expect(await pending.waitGone(GONE_WITHIN_MS)).not.toBeNull();
    expect(await refused.waitGone(GONE_WITHIN_MS)).not.toBeNull();
  });
});
