/**
 * Opening-handshake failures against the standalone server (RFC 6455 §4.2.1–§4.2.2), over raw
 * sockets: the exact HTTP status line for each, and that the server keeps serving afterwards.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  ErrorCode,
  HandshakeError,
  type VerifyClientInfo,
  WebSocket,
  type WebSocketServer,
} from '../../src/index.ts';
import {
  acceptKeyFor,
  ask,
  type Listening,
  listen,
  nextConnection,
  once,
  randomKey,
  rawConnect,
  upgradeRequest,
  WAIT_MS,
  withTimeout,
} from './helpers.ts';

const servers: WebSocketServer[] = [];

async function start(options: Parameters<typeof listen>[0] = {}): Promise<Listening> {
  const listening = await listen(options);
  servers.push(listening.server);
  return listening;
}

afterAll(async () => {
  await Promise.all(servers.map((server) => withTimeout(server.close({ timeout: 500 }), WAIT_MS, 'close')));
});

describe('standalone server: rejected handshakes', () => {
  let listening: Listening;

  beforeAll(async () => {
    listening = await start({ handshakeTimeout: 300 });
  });

  it('plain GET without Upgrade → 426 with Upgrade: websocket', async () => {
    const head = await ask(listening.port, 'GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n');
    expect(head.statusLine).toBe('HTTP/1.1 426 Upgrade Required');
    expect(head.headers.upgrade).toBe('websocket');
  });

  it('missing Sec-WebSocket-Key → 400', async () => {
    const head = await ask(listening.port, upgradeRequest({ headers: { 'Sec-WebSocket-Key': null } }));
    expect(head.statusLine).toBe('HTTP/1.1 400 Bad Request');
  });

  it.each([
    ['15 bytes', Buffer.alloc(15, 1).toString('base64')],
    ['17 bytes', Buffer.alloc(17, 1).toString('base64')],
    ['not base64', '!!!!!!!!!!!!!!!!!!!!!!!='],
  ])('bad key (%s) → 400', async (_name, key) => {
    const head = await ask(listening.port, upgradeRequest({ key }));
    expect(head.statusLine).toBe('HTTP/1.1 400 Bad Request');
  });

  it('missing Host → 400', async () => {
    const head = await ask(listening.port, upgradeRequest({ headers: { Host: null } }));
    expect(head.statusLine).toBe('HTTP/1.1 400 Bad Request');
  });

  it('Upgrade: foo → 400', async () => {
    const head = await ask(listening.port, upgradeRequest({ headers: { Upgrade: 'foo' } }));
    expect(head.statusLine).toBe('HTTP/1.1 400 Bad Request');
  });

  it('Connection: keep-alive only → 400', async () => {
    const head = await ask(listening.port, upgradeRequest({ headers: { Connection: 'keep-alive' } }));
    expect(head.statusLine).toBe('HTTP/1.1 400 Bad Request');
  });

  it('Sec-WebSocket-Version: 7 → 400 with Sec-WebSocket-Version: 13, 8', async () => {
    const head = await ask(listening.port, upgradeRequest({ headers: { 'Sec-WebSocket-Version': '7' } }));
    expect(head.statusLine).toBe('HTTP/1.1 400 Bad Request');
    expect(head.headers['sec-websocket-version']).toBe('13, 8');
  });

  it('POST → 405 with Allow: GET', async () => {
    const head = await ask(listening.port, upgradeRequest({ method: 'POST' }));
    expect(head.statusLine).toBe('HTTP/1.1 405 Method Not Allowed');
    expect(head.headers.allow).toBe('GET');
  });

  it('HTTP/1.0 → 400', async () => {
    const head = await ask(listening.port, upgradeRequest().replace('HTTP/1.1', 'HTTP/1.0'));
    expect(head.statusLine).toBe('HTTP/1.1 400 Bad Request');
  });

  it('a 20 KiB header → 431', async () => {
    const head = await ask(listening.port, upgradeRequest({ headers: { 'X-Big': 'a'.repeat(20 * 1024) } }));
    expect(head.statusLine).toBe('HTTP/1.1 431 Request Header Fields Too Large');
  });

  it('200 header fields → 431', async () => {
    const extra: Record<string, string> = {};
    for (let i = 0; i < 200; i++) extra[`X-Field-${i}`] = 'v';
    const head = await ask(listening.port, upgradeRequest({ headers: extra }));
    expect(head.statusLine).toBe('HTTP/1.1 431 Request Header Fields Too Large');
  });

  it('garbage instead of a request line → 400', async () => {
    const head = await ask(listening.port, 'HELLO\r\n\r\n');
    expect(head.statusLine).toBe('HTTP/1.1 400 Bad Request');
  });

  it('a socket that sends nothing is destroyed after handshakeTimeout (300 ms)', async () => {
    const peer = await rawConnect(listening.port);
    // Bounded far above the timeout, so this does not depend on the machine's speed.
    await peer.waitClosed(WAIT_MS);
    expect(peer.closed).toBe(true);
    expect(peer.buffered.length).toBe(0);
  });

  it('a socket that sends half a head and stalls is destroyed after handshakeTimeout', async () => {
    const peer = await rawConnect(listening.port);
    peer.write('GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n');
    await peer.waitClosed(WAIT_MS);
    expect(peer.closed).toBe(true);
  });

  it('after all those failures, a normal client still connects', async () => {
    const accepted = nextConnection(listening.server);
    const ws = new WebSocket(listening.url);
    await once(ws, 'open');
    const peer = await accepted;
    const message = once<[Buffer]>(peer, 'message');
    ws.send('still alive');
    expect((await message)[0].toString()).toBe('still alive');
    const closed = once(ws, 'close');
    ws.close(1000);
    await closed;
  });
});

describe('standalone server: options that decide the handshake', () => {
  it("path: '/chat' accepts /chat (with a query) and rejects /other with 400", async () => {
    const listening = await start({ path: '/chat' });
    expect((await ask(listening.port, upgradeRequest({ path: '/other' }))).statusLine).toBe(
      'HTTP/1.1 400 Bad Request',
    );
    const key = randomKey();
    const head = await ask(listening.port, upgradeRequest({ path: '/chat?room=1', key }));
    expect(head.statusLine).toBe('HTTP/1.1 101 Switching Protocols');
    expect(head.headers['sec-websocket-accept']).toBe(acceptKeyFor(key));
  });

  it('verifyClient returning false → 401', async () => {
    const listening = await start({ verifyClient: () => false });
    const head = await ask(listening.port, upgradeRequest());
    expect(head.statusLine).toBe('HTTP/1.1 401 Unauthorized');
  });

  it("verifyClient returning { accept: false, status: 403, reason: 'nope' } → 403 with the reason", async () => {
    const listening = await start({ verifyClient: () => ({ accept: false, status: 403, reason: 'nope' }) });
    const head = await ask(listening.port, upgradeRequest());
    expect(head.statusLine).toBe('HTTP/1.1 403 Forbidden');
    expect(head.body).toContain('nope');
  });

  it('async verifyClient returning Promise<true> → 101, and it sees origin and the request', async () => {
    const seen: { origin: string | undefined; url: string | undefined; secure: boolean }[] = [];
    const listening = await start({
      verifyClient: async (info: VerifyClientInfo) => {
        await new Promise((resolve) => setTimeout(resolve, 5));
        seen.push({ origin: info.origin, url: info.req.url, secure: info.secure });
        return true;
      },
    });
    const key = randomKey();
    const head = await ask(
      listening.port,
      upgradeRequest({ key, path: '/x?y=1', headers: { Origin: 'https://example.test' } }),
    );
    expect(head.statusLine).toBe('HTTP/1.1 101 Switching Protocols');
    expect(head.headers['sec-websocket-accept']).toBe(acceptKeyFor(key));
    expect(seen).toEqual([{ origin: 'https://example.test', url: '/x?y=1', secure: false }]);
  });

  it('async verifyClient that rejects (throws) → 500', async () => {
    const listening = await start({
      verifyClient: async () => {
        throw new Error('database down');
      },
    });
    const head = await ask(listening.port, upgradeRequest());
    expect(head.statusLine).toBe('HTTP/1.1 500 Internal Server Error');
    expect(head.body).not.toContain('database down');
  });

  it('callback-style verifyClient(info, cb) with cb(false, 418) → 418', async () => {
    const listening = await start({
      verifyClient: (_info: unknown, cb: (ok: boolean, code?: number, message?: string) => void) =>
        cb(false, 418, 'teapot'),
    });
    const head = await ask(listening.port, upgradeRequest());
    expect(head.status).toBe(418);
    expect(head.body).toContain('teapot');
  });

  it('handleProtocols choosing the 2nd offered subprotocol → ws.protocol on both sides', async () => {
    let offered: string[] = [];
    const listening = await start({
      handleProtocols: (protocols) => {
        offered = [...protocols];
        return offered[1] ?? false;
      },
    });
    const accepted = nextConnection(listening.server);
    const ws = new WebSocket(listening.url, ['first.proto', 'second.proto', 'third.proto']);
    await once(ws, 'open');
    const peer = await accepted;
    expect(offered).toEqual(['first.proto', 'second.proto', 'third.proto']);
    expect(ws.protocol).toBe('second.proto');
    expect(peer.protocol).toBe('second.proto');
    const closed = once(ws, 'close');
    ws.close();
    await closed;
  });

  it('handleProtocols returning false → no subprotocol; a client that offered some fails, as browsers do', async () => {
    const listening = await start({ handleProtocols: () => false });
    const ws = new WebSocket(listening.url, ['a', 'b']);
    const failed = once(ws, 'error');
    const closed = once(ws, 'close');
    const [error] = await failed;
    expect(error).toBeInstanceOf(HandshakeError);
    expect((error as HandshakeError).message).toBe('Server sent no subprotocol');
    expect((error as HandshakeError).code).toBe(ErrorCode.MissingSubprotocol);
    expect(ws.protocol).toBe('');
    const [code] = await closed;
    expect(code).toBe(1006);
  });

  it('handleProtocols returning false → a client that offered none opens', async () => {
    const listening = await start({ handleProtocols: () => false });
    const ws = new WebSocket(listening.url);
    await once(ws, 'open');
    expect(ws.protocol).toBe('');
    const closed = once(ws, 'close');
    ws.close();
    await closed;
  });

  // Regression: these frames used to be emitted before 'connection', when no listener could exist.
  it('the first frames may arrive in the same packet as the request head', async () => {
    const listening = await start();
    const accepted = nextConnection(listening.server);
    const peer = await rawConnect(listening.port);
    const frame = Buffer.from([0x81, 0x82, 1, 2, 3, 4, 0x68 ^ 1, 0x69 ^ 2]); // masked "hi"
    peer.write(Buffer.concat([Buffer.from(upgradeRequest()), frame]));
    try {
      const ws = await accepted;
      const [data] = await once<[Buffer]>(ws, 'message', 1000);
      expect(data.toString()).toBe('hi');
    } finally {
      peer.destroy();
    }
  });
});
