/**
 * Edge cases of the connection lifecycle over real sockets: frames that arrive with the 101, close
 * timeouts against peers that never finish the closing handshake, TCP ending without a Close frame,
 * backpressure and flow control, and messages split at awkward places.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WebSocket, WebSocketServer } from '../../src/index.ts';
import {
  acceptKeyFor,
  cleanupsAfterEach,
  closePayload,
  encodeMaskedFrame,
  type Listening,
  listen,
  nextConnection,
  nextMessages,
  once,
  type RawPeer,
  type RawServer,
  rawConnect,
  rawHandshake,
  rawServer,
  upgradeRequest,
  WAIT_MS,
  withTimeout,
} from './helpers.ts';

const cleanups = cleanupsAfterEach();

async function startRaw(...args: Parameters<typeof rawServer>): Promise<RawServer> {
  const server = await rawServer(...args);
  cleanups.push(() => server.close());
  return server;
}

function peerSlot(): { promise: Promise<RawPeer>; resolve: (peer: RawPeer) => void } {
  let resolve: (peer: RawPeer) => void = () => undefined;
  const promise = new Promise<RawPeer>((r) => {
    resolve = r;
  });
  return { promise: withTimeout(promise, WAIT_MS, 'the raw peer'), resolve };
}

describe('client side', () => {
  it('frames in the same packet as the 101 response are delivered after open', async () => {
    const server = await startRaw(
      async (peer) => {
        const request = await peer.readHttp();
        const key = request.headers['sec-websocket-key'] ?? '';
        peer.write(
          Buffer.concat([
            Buffer.from(
              'HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n' +
                `Sec-WebSocket-Accept: ${acceptKeyFor(key)}\r\n\r\n`,
            ),
            encodeMaskedFrame(0x1, 'early 1', { maskKey: null }),
            encodeMaskedFrame(0x2, Buffer.from([1, 2]), { maskKey: null }),
          ]),
        );
      },
      { handshake: false },
    );
    const ws = new WebSocket(server.url);
    const order: string[] = [];
    ws.on('open', () => order.push('open'));
    ws.on('message', (data: Buffer, isBinary: boolean) =>
      order.push(`${isBinary ? 'bin' : 'text'}:${[...data]}`),
    );
    const two = nextMessages(ws, 2);
    await two;
    expect(order).toEqual(['open', `text:${[...Buffer.from('early 1')]}`, 'bin:1,2']);
    ws.terminate();
  });

  it('close() against a server that never answers: closeTimeout ends it with 1006', async () => {
    const slot = peerSlot();
    const server = await startRaw((peer) => slot.resolve(peer));
    const ws = new WebSocket(server.url, { closeTimeout: 200 });
    await once(ws, 'open');
    const peer = await slot.promise;
    const closed = once<[number]>(ws, 'close');
    ws.close(1000, 'please answer');
    const frame = await peer.readCloseFrame();
    expect(frame.closeCode).toBe(1000);
    expect(frame.closeReason).toBe('please answer');
    // The server ignores it: no Close, no FIN. The timer destroys the socket.
    expect((await closed)[0]).toBe(1006);
    await peer.waitEnded();
  });

  it('a server that sends Close but never closes TCP: the client answers, then closes after closeTimeout', async () => {
    const slot = peerSlot();
    const server = await startRaw((peer) => slot.resolve(peer));
    const ws = new WebSocket(server.url, { closeTimeout: 200 });
    await once(ws, 'open');
    const peer = await slot.promise;
    const closed = once<[number, Buffer]>(ws, 'close');
    peer.write(encodeMaskedFrame(0x8, closePayload(4100, 'server first'), { maskKey: null }));
    const answer = await peer.readCloseFrame();
    expect(answer.closeCode).toBe(4100);
    const [code, reason] = await closed;
    // A Close frame was received, so the code is the server's even though TCP was cut by the timer.
    expect(code).toBe(4100);
    expect(reason.toString()).toBe('server first');
    await peer.waitEnded();
  });

  it('the server ending TCP without a Close frame → 1006', async () => {
    const slot = peerSlot();
    const server = await startRaw((peer) => slot.resolve(peer));
    const ws = new WebSocket(server.url);
    await once(ws, 'open');
    const peer = await slot.promise;
    const closed = once<[number]>(ws, 'close');
    peer.socket.end();
    expect((await closed)[0]).toBe(1006);
  });

  it('valid UTF-8 split inside a code point across fragments is accepted', async () => {
    const slot = peerSlot();
    const server = await startRaw((peer) => slot.resolve(peer));
    const ws = new WebSocket(server.url);
    await once(ws, 'open');
    const peer = await slot.promise;
    const bytes = Buffer.from('a€😀b'); // 61 e2 82 ac f0 9f 98 80 62
    const message = nextMessages(ws, 1);
    peer.write(
      Buffer.concat([
        encodeMaskedFrame(0x1, bytes.subarray(0, 2), { fin: false, maskKey: null }),
        encodeMaskedFrame(0x0, Buffer.alloc(0), { fin: false, maskKey: null }),
        encodeMaskedFrame(0x0, bytes.subarray(2, 6), { fin: false, maskKey: null }),
        encodeMaskedFrame(0x0, bytes.subarray(6), { fin: true, maskKey: null }),
      ]),
    );
    const [received] = await message;
    expect(received!.isBinary).toBe(false);
    expect(received!.data.toString()).toBe('a€😀b');
    ws.terminate();
  });

  it('a text message ending in the middle of a code point → 1007', async () => {
    const slot = peerSlot();
    const server = await startRaw((peer) => slot.resolve(peer));
    const ws = new WebSocket(server.url);
    ws.on('error', () => undefined);
    await once(ws, 'open');
    const peer = await slot.promise;
    peer.write(encodeMaskedFrame(0x1, Buffer.from([0x61, 0xe2, 0x82]), { maskKey: null }));
    expect((await peer.readCloseFrame()).closeCode).toBe(1007);
  });
});

describe('server side', () => {
  let listening: Listening;

  beforeAll(async () => {
    listening = await listen({ closeTimeout: 200 });
  });
  afterAll(async () => {
    await withTimeout(listening.server.close({ timeout: 500 }), WAIT_MS);
  });

  it('a client that ends TCP without a Close frame → 1006 on the server', async () => {
    const accepted = nextConnection(listening.server);
    const peer = await rawHandshake(listening.port);
    const ws = await accepted;
    const closed = once<[number]>(ws, 'close');
    peer.socket.end();
    expect((await closed)[0]).toBe(1006);
    expect(listening.server.clients.has(ws)).toBe(false);
  });

  it('server close() against a client that never answers: closeTimeout (200 ms) ends it with 1006', async () => {
    const accepted = nextConnection(listening.server);
    const peer = await rawHandshake(listening.port);
    const ws = await accepted;
    const closed = once<[number]>(ws, 'close');
    ws.close(4000);
    expect(ws.readyState).toBe(WebSocket.CLOSING);
    expect((await peer.readCloseFrame()).closeCode).toBe(4000);
    expect((await closed)[0]).toBe(1006);
    await peer.waitEnded();
  });

  it('a client Close is answered and the server closes TCP first (§7.1.1)', async () => {
    const accepted = nextConnection(listening.server);
    const peer = await rawHandshake(listening.port);
    const ws = await accepted;
    const closed = once<[number, Buffer]>(ws, 'close');
    peer.write(encodeMaskedFrame(0x8, closePayload(1001, 'tab closed')));
    const answer = await peer.readCloseFrame();
    expect(answer.closeCode).toBe(1001);
    await peer.waitEnded(); // FIN from the server, without the client closing first
    const [code, reason] = await closed;
    expect(code).toBe(1001);
    expect(reason.toString()).toBe('tab closed');
    peer.destroy();
  });

  it('data frames after a Close frame are ignored', async () => {
    const accepted = nextConnection(listening.server);
    const peer = await rawHandshake(listening.port);
    const ws = await accepted;
    const messages: unknown[] = [];
    ws.on('message', (data: Buffer) => messages.push(data.toString()));
    const closed = once<[number]>(ws, 'close');
    peer.write(
      Buffer.concat([encodeMaskedFrame(0x8, closePayload(1000)), encodeMaskedFrame(0x1, 'after close')]),
    );
    expect((await closed)[0]).toBe(1000);
    expect(messages).toEqual([]);
    peer.destroy();
  });

  it('many small fragments (1000 × 1 byte) and empty fragments reassemble', async () => {
    const accepted = nextConnection(listening.server);
    const peer = await rawHandshake(listening.port);
    const ws = await accepted;
    const message = nextMessages(ws, 1);
    const frames = [encodeMaskedFrame(0x2, Buffer.alloc(0), { fin: false })];
    for (let i = 0; i < 1000; i++)
      frames.push(encodeMaskedFrame(0x0, Buffer.from([i & 0xff]), { fin: false }));
    frames.push(encodeMaskedFrame(0x0, Buffer.alloc(0), { fin: true }));
    // Written one byte at a time for the first frames, to exercise the incremental decoder.
    const all = Buffer.concat(frames);
    for (let i = 0; i < 64; i++) peer.write(all.subarray(i, i + 1));
    peer.write(all.subarray(64));
    const [received] = await message;
    expect(received!.isBinary).toBe(true);
    expect(received!.data.length).toBe(1000);
    expect(received!.data[999]).toBe(999 & 0xff);
    peer.destroy();
  });

  it('clientTracking: false leaves server.clients undefined (as in ws)', async () => {
    const local = await listen({ clientTracking: false });
    cleanups.push(() => local.server.close({ timeout: 500 }));
    const accepted = nextConnection(local.server);
    const ws = new WebSocket(local.url);
    await once(ws, 'open');
    await accepted;
    expect(local.server.clients).toBeUndefined();
    ws.terminate();
  });
});

describe('flow control', () => {
  let listening: Listening;

  beforeAll(async () => {
    listening = await listen();
  });
  afterAll(async () => {
    await withTimeout(listening.server.close({ timeout: 500 }), WAIT_MS);
  });

  it('send() returns false over the high-water mark while the peer is paused, then drain fires', async () => {
    const accepted = nextConnection(listening.server);
    const ws = new WebSocket(listening.url);
    await once(ws, 'open');
    const peer = await accepted;
    peer.pause();
    expect(peer.isPaused).toBe(true);
    const chunk = Buffer.alloc(256 * 1024);
    let result = true;
    let sent = 0;
    // Fill until the socket pushes back (bounded: at most 256 MiB).
    while (result && sent < 1024) {
      result = ws.send(chunk);
      sent++;
    }
    expect(result).toBe(false);
    expect(ws.bufferedAmount).toBeGreaterThan(1024 * 1024);
    const drained = once(ws, 'drain', 10_000);
    let count = 0;
    const all = new Promise<void>((resolve) => {
      peer.on('message', () => {
        count++;
        if (count === sent) resolve();
      });
    });
    peer.resume();
    expect(peer.isPaused).toBe(false);
    await drained;
    await withTimeout(all, 10_000, 'all messages after resume');
    expect(count).toBe(sent);
    ws.terminate();
  });
});

describe('more options', () => {
  it('the client maxPayload option: a bigger message from the server → the client sends 1009', async () => {
    const slot = peerSlot();
    const server = await startRaw((peer) => slot.resolve(peer));
    const ws = new WebSocket(server.url, { maxPayload: 100 });
    const errors: unknown[] = [];
    ws.on('error', (error: unknown) => errors.push(error));
    await once(ws, 'open');
    const peer = await slot.promise;
    const closed = once<[number]>(ws, 'close');
    peer.write(encodeMaskedFrame(0x2, Buffer.alloc(101), { maskKey: null }));
    expect((await peer.readCloseFrame()).closeCode).toBe(1009);
    expect((await closed)[0]).toBe(1006);
    expect((errors[0] as { code?: string }).code).toBe('WS_ERR_MESSAGE_TOO_BIG');
  });

  it('server.close() while an async verifyClient is pending: the late upgrade is refused with 503', async () => {
    let release: () => void = () => undefined;
    const gate = new Promise<void>((resolve) => {
      release = resolve;
    });
    let verifying: () => void = () => undefined;
    const started = new Promise<void>((resolve) => {
      verifying = resolve;
    });
    const local = await listen({
      verifyClient: async () => {
        verifying();
        await gate;
        return true;
      },
    });
    const peer = await rawConnect(local.port);
    peer.write(upgradeRequest());
    await withTimeout(started, WAIT_MS, 'verifyClient to start');
    const closing = local.server.close({ timeout: 500 });
    release();
    const head = await peer.readHttp();
    expect(head.statusLine).toBe('HTTP/1.1 503 Service Unavailable');
    await withTimeout(closing, WAIT_MS, 'server.close()');
    peer.destroy();
  });

  it('ws+unix:// connects to a server attached to an http server on a Unix socket', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'sockwire-'));
    const path = join(dir, 'ws.sock');
    const http = createServer((_req, res) => res.end());
    const wss = new WebSocketServer({ server: http });
    http.listen(path);
    await once(http, 'listening');
    cleanups.push(async () => {
      await wss.close({ timeout: 500 });
      await new Promise<void>((resolve) => http.close(() => resolve()));
      rmSync(dir, { recursive: true, force: true });
    });
    const accepted = once<[WebSocket, { url?: string }]>(wss, 'connection');
    const ws = new WebSocket(`ws+unix:${path}:/over/unix?q=1`);
    await once(ws, 'open');
    const [peer, request] = await accepted;
    expect(request.url).toBe('/over/unix?q=1');
    const message = nextMessages(ws, 1);
    peer.send('unix hello');
    expect((await message)[0]!.data.toString()).toBe('unix hello');
    const closed = once(ws, 'close');
    ws.close();
    await closed;
  });
});
