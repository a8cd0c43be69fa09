/**
 * The application's code that the server calls during a handshake (`verifyClient`, `handleProtocols`,
 * an `allowedOrigins` function, 'connection' listeners and the `handleUpgrade` callback) may throw or
 * return something invalid. Every such failure gets one treatment: the client is answered 500 (or,
 * once the WebSocket is open, closed with 1011, §7.4.1), the `maxConnections` slot is given back,
 * the error is emitted as 'hookError' (code WS_ERR_HOOK_FAILED, the hook's own error as `cause`),
 * and the process never crashes.
 */
import { createServer as createHttpServer } from 'node:http';
import { connect as http2Connect } from 'node:http2';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import {
  ErrorCode,
  type ServerOptions,
  type UpgradeRequestInfo,
  type VerifyClientInfo,
  WebSocketError,
  WebSocketServer,
} from '../../src/index.ts';
import { cert, startH2 } from '../http2/helpers.ts';
import {
  type Listening,
  listen,
  once,
  type RawPeer,
  randomKey,
  rawConnect,
  upgradeRequest,
  WAIT_MS,
  withTimeout,
} from './helpers.ts';

const cleanups: (() => unknown)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) {
    await withTimeout(Promise.resolve(cleanup()), WAIT_MS).catch(() => undefined);
  }
});

interface HookFailure {
  readonly error: WebSocketError;
  readonly request: unknown;
}

/** A standalone server (maxConnections 1, so a leaked slot shows) that records 'hookError'. */
async function start(options: Omit<ServerOptions, 'port'>): Promise<Listening & { failures: HookFailure[] }> {
  const listening = await listen({ maxConnections: 1, ...options });
  cleanups.push(() => listening.server.close({ timeout: 100 }));
  const failures: HookFailure[] = [];
  listening.server.on('hookError', (error: WebSocketError, request: unknown) =>
    failures.push({ error, request }),
  );
  return { ...listening, failures };
}

async function rawUpgrade(port: number, headers: Record<string, string | null> = {}, path = '/') {
  const peer = await rawConnect(port);
  cleanups.push(() => peer.destroy());
  peer.write(upgradeRequest({ key: randomKey(), headers, path }));
  return { peer, head: await peer.readHttp() };
}

async function waitFor(check: () => boolean, what: string): Promise<void> {
  await withTimeout(
    (async () => {
      while (!check()) await new Promise((resolve) => setTimeout(resolve, 10));
    })(),
    WAIT_MS,
    what,
  );
}

/** 500, the connection ended, one 'hookError' naming `hook`, and the slot free again. */
async function expectHookFailure(
  listening: Listening & { failures: HookFailure[] },
  hook: RegExp,
  request: { headers?: Record<string, string | null>; path?: string } = {},
  cause?: unknown,
): Promise<void> {
  const { peer, head } = await rawUpgrade(listening.port, request.headers, request.path);
  expect(head.status).toBe(500);
  await peer.waitEnded();
  await waitFor(() => listening.failures.length === 1, "'hookError'");
  const [failure] = listening.failures;
  expect(failure!.error).toBeInstanceOf(WebSocketError);
  expect(failure!.error.code).toBe(ErrorCode.HookFailed);
  expect(failure!.error.message).toMatch(hook);
  if (cause !== undefined) expect(failure!.error.cause).toBe(cause);
  expect((failure!.request as UpgradeRequestInfo).url).toBe(request.path ?? '/');
  listening.failures.length = 0;
}

/** With maxConnections 1: a normal client still gets in, so no slot was leaked. */
async function expectSlotFree(
  listening: Listening,
  headers: Record<string, string | null> = {},
): Promise<void> {
  const { peer, head } = await rawUpgrade(listening.port, headers, '/ok');
  expect(head.status).toBe(101);
  peer.destroy();
}

const bug = new Error('a bug in the hook');

describe('verifyClient', () => {
  const verifyClient = (info: VerifyClientInfo) => {
    if (info.req.url === '/ok') return true;
    throw bug;
  };

  it('throws synchronously → 500, hookError, slot free', async () => {
    const listening = await start({ verifyClient });
    await expectHookFailure(listening, /verifyClient/, {}, bug);
    await expectSlotFree(listening);
  });

  it('rejects → 500, hookError, slot free', async () => {
    const listening = await start({
      verifyClient: async (info: VerifyClientInfo) => (info.req.url === '/ok' ? true : Promise.reject(bug)),
    });
    await expectHookFailure(listening, /verifyClient/, {}, bug);
    await expectSlotFree(listening);
  });

  it('callback style, throws before calling back → 500, hookError, slot free', async () => {
    const listening = await start({
      verifyClient: (info, cb: (ok: boolean) => void) => {
        if (info.req.url === '/ok') return cb(true);
        throw bug;
      },
    });
    await expectHookFailure(listening, /verifyClient/, {}, bug);
    await expectSlotFree(listening);
  });

  it.each([
    ['undefined', undefined],
    ['a string', 'yes'],
    ['a refusal with status 200', { accept: false, status: 200 }],
    ['a refusal with status 101', { accept: false, status: 101 }],
    ['a refusal with status 1000', { accept: false, status: 1000 }],
    [
      'a refusal with a header value holding CR LF',
      { accept: false, headers: { 'X-A': 'a\r\nSet-Cookie: x=1' } },
    ],
  ])('returns %s → 500, hookError, slot free', async (_name, value) => {
    const listening = await start({
      verifyClient: (info: VerifyClientInfo) =>
        info.req.url === '/ok' ? true : (value as unknown as boolean),
    });
    await expectHookFailure(listening, /verifyClient/);
    await expectSlotFree(listening);
  });

  it.each([
    ['a promise that never settles', () => new Promise<boolean>(() => {})],
    ['a callback that is never called', (_info: VerifyClientInfo, _cb: (ok: boolean) => void) => {}],
  ])('%s → 500 at handshakeTimeout, hookError, slot free', async (_name, pending) => {
    const listening = await start({
      handshakeTimeout: 300,
      verifyClient: ((info: VerifyClientInfo, cb: (ok: boolean) => void) =>
        info.req.url === '/ok' ? cb(true) : pending(info, cb)) as (
        info: VerifyClientInfo,
        cb: (ok: boolean) => void,
      ) => void,
    });
    await expectHookFailure(listening, /verifyClient did not decide within handshakeTimeout \(300 ms\)/);
    await expectSlotFree(listening);
  });

  it('callback style, calls back with status 99 → 500, hookError', async () => {
    const listening = await start({
      verifyClient: (info, cb: (ok: boolean, code?: number) => void) => cb(info.req.url === '/ok', 99),
    });
    await expectHookFailure(listening, /verifyClient/);
    await expectSlotFree(listening);
  });
});

describe('handleProtocols', () => {
  const offer = { 'Sec-WebSocket-Protocol': 'chat, superchat' };

  it('throws → 500 (no crash, no unhandled rejection), hookError, slot free', async () => {
    const listening = await start({
      handleProtocols: (_protocols, req) => {
        if (req.url === '/ok') return 'chat';
        throw bug;
      },
    });
    await expectHookFailure(listening, /handleProtocols/, { headers: offer }, bug);
    await expectSlotFree(listening, offer);
  });

  it.each([
    ['a value that is not a token', 'bad protocol'],
    ['a subprotocol the client did not offer', 'other'],
    ['a number', 42],
    ['null', null],
    ['a Promise', Promise.resolve('chat')],
  ])('returns %s → 500, hookError, slot free', async (_name, value) => {
    const listening = await start({
      handleProtocols: (_protocols, req) => (req.url === '/ok' ? 'chat' : (value as string)),
    });
    await expectHookFailure(listening, /handleProtocols/, { headers: offer });
    await expectSlotFree(listening, offer);
  });
});

describe('allowedOrigins (function)', () => {
  const origin = { Origin: 'https://app.example' };

  it('throws → 500, hookError, slot free', async () => {
    const listening = await start({
      allowedOrigins: (_origin, req) => {
        if (req.url === '/ok') return true;
        throw bug;
      },
    });
    await expectHookFailure(listening, /allowedOrigins/, { headers: origin }, bug);
    await expectSlotFree(listening, origin);
  });

  it('returns something other than a boolean → 500, hookError, slot free', async () => {
    const listening = await start({
      allowedOrigins: (_origin, req) => (req.url === '/ok' ? true : ('yes' as unknown as boolean)),
    });
    await expectHookFailure(listening, /allowedOrigins/, { headers: origin });
    await expectSlotFree(listening, origin);
  });
});

/** Reads frames until a Close frame; returns its code. */
async function closeCodeOf(peer: RawPeer): Promise<number | undefined> {
  return (await peer.readCloseFrame()).closeCode;
}

describe("'connection' listeners and the handleUpgrade callback (the 101 is already sent)", () => {
  it("a throwing 'connection' listener: the client is closed with 1011, hookError, slot free", async () => {
    const listening = await start({});
    listening.server.on('connection', (_ws, req) => {
      if (req.url !== '/ok') throw bug;
    });
    const { peer, head } = await rawUpgrade(listening.port);
    expect(head.status).toBe(101);
    expect(await closeCodeOf(peer)).toBe(1011);
    await waitFor(() => listening.failures.length === 1, "'hookError'");
    expect(listening.failures[0]!.error.code).toBe(ErrorCode.HookFailed);
    expect(listening.failures[0]!.error.message).toMatch(/'connection'/);
    expect(listening.failures[0]!.error.cause).toBe(bug);
    peer.destroy();
    await waitFor(() => listening.server.clients.size === 0, 'the client to be gone');
    await expectSlotFree(listening);
  });

  it('a throwing handleUpgrade callback (noServer, attached by hand): 1011, hookError', async () => {
    const wss = new WebSocketServer({ noServer: true });
    const failures: WebSocketError[] = [];
    wss.on('hookError', (error: WebSocketError) => failures.push(error));
    const http = createHttpServer();
    http.on('upgrade', (req, socket, head) =>
      wss.handleUpgrade(req, socket, head, () => {
        throw bug;
      }),
    );
    http.listen(0, '127.0.0.1');
    await once(http, 'listening');
    cleanups.push(() => new Promise((resolve) => http.close(resolve)));
    cleanups.push(() => wss.close({ timeout: 100 }));
    const { peer, head } = await rawUpgrade((http.address() as AddressInfo).port);
    expect(head.status).toBe(101);
    expect(await closeCodeOf(peer)).toBe(1011);
    await waitFor(() => failures.length === 1, "'hookError'");
    expect(failures[0]!.cause).toBe(bug);
    peer.destroy();
  });
});

describe('over HTTP/2 (RFC 8441): the same hooks, the same treatment', () => {
  it.each([
    [
      'handleProtocols throws',
      {
        handleProtocols: () => {
          throw bug;
        },
      },
    ],
    [
      'verifyClient throws',
      {
        verifyClient: () => {
          throw bug;
        },
      },
    ],
    ['handleProtocols names a subprotocol not offered', { handleProtocols: () => 'other' }],
  ])('%s → :status 500, hookError, the session goes on', async (_name, options) => {
    const fixture = await startH2({ maxConnections: 1, ...(options as Omit<ServerOptions, 'port'>) });
    cleanups.push(() => fixture.close());
    const failures: WebSocketError[] = [];
    fixture.wss.on('hookError', (error: WebSocketError) => failures.push(error));
    const session = http2Connect(`https://localhost:${fixture.port}`, { ca: cert });
    cleanups.push(() => session.destroy());
    await once(session, 'remoteSettings');
    for (let i = 0; i < 2; i++) {
      const stream = session.request({
        ':method': 'CONNECT',
        ':protocol': 'websocket',
        ':scheme': 'https',
        ':path': '/',
        ':authority': `localhost:${fixture.port}`,
        'sec-websocket-version': '13',
        'sec-websocket-protocol': 'chat',
      });
      stream.on('error', () => {});
      const [headers] = await once<[Record<string, unknown>]>(stream, 'response');
      expect(headers[':status']).toBe(500); // the 2nd one too: no slot leaked by the 1st
      stream.close();
    }
    await waitFor(() => failures.length === 2, "two 'hookError'");
    expect(failures.every((error) => error.code === ErrorCode.HookFailed)).toBe(true);
  });
});

describe('hookError itself', () => {
  it('without a listener: no crash, the client still gets its 500', async () => {
    const listening = await listen({
      verifyClient: () => {
        throw bug;
      },
    });
    cleanups.push(() => listening.server.close({ timeout: 100 }));
    const { head } = await rawUpgrade(listening.port);
    expect(head.status).toBe(500);
  });

  it('a throwing hookError listener does not crash the server', async () => {
    const listening = await listen({
      verifyClient: (info: VerifyClientInfo) => {
        if (info.req.url === '/ok') return true;
        throw bug;
      },
    });
    cleanups.push(() => listening.server.close({ timeout: 100 }));
    listening.server.on('hookError', () => {
      throw new Error('a bug in the logger');
    });
    expect((await rawUpgrade(listening.port)).head.status).toBe(500);
    expect((await rawUpgrade(listening.port, {}, '/ok')).head.status).toBe(101);
  });
});
