/**
 * permessage-deflate peers that do unusual but legal (or subtly illegal) things, over loopback raw
 * sockets, in both directions:
 * - a message that ends its DEFLATE stream with a final block (BFINAL = 1, RFC 7692 §7.2.3.4), then
 *   more messages with context takeover: every message must arrive with its own data;
 * - data after the final block inside one message: the connection fails with 1007, nothing wrong
 *   is delivered;
 * - an offer without client_max_window_bits to a server that limits the client's window
 *   (RFC 7692 §7.1.2.2): declined, so the connection runs uncompressed.
 */
import { createDeflateRaw, type DeflateRaw, deflateRawSync, constants as zlibConstants } from 'node:zlib';
import { afterEach, describe, expect, it } from 'vitest';
import { type ServerOptions, WebSocket } from '../../src/index.ts';
import { TEXT } from '../helpers/opcodes.ts';
import {
  acceptKeyFor,
  encodeMaskedFrame,
  type HttpHead,
  type Listening,
  listen,
  nextConnection,
  nextMessages,
  once,
  type ParsedFrame,
  type RawPeer,
  type RawServer,
  randomKey,
  rawConnect,
  rawServer,
  upgradeRequest,
  WAIT_MS,
  withTimeout,
} from '../integration/helpers.ts';

const RSV1 = 4;
const TRAILER = Buffer.from([0x00, 0x00, 0xff, 0xff]);

/**
 * RFC 7692 §7.2.3.4: "Hello" in a DEFLATE block with BFINAL set, then the 0x00 octet left of the
 * empty stored block that §7.2.1 appends and strips.
 */
const HELLO_BFINAL = Buffer.from([0xf3, 0x48, 0xcd, 0xc9, 0xc9, 0x07, 0x00, 0x00]);

/** A message compressed as a platform without Z_SYNC_FLUSH does: Z_FINISH, then §7.2.1 steps 2–3. */
function finishedMessage(text: string): Buffer {
  const finished = deflateRawSync(Buffer.from(text)); // ends with a block whose BFINAL is 1
  // §7.2.1 step 2: append an empty stored block (0x00, then LEN 0000 NLEN ffff); step 3 strips 4 octets.
  return Buffer.concat([finished, Buffer.from([0x00])]);
}

/**
 * A message whose DEFLATE stream ends with an empty *final* stored block (as Go's compress/flate
 * writes on Close): it already ends with an empty stored block, so §7.2.1 only strips 4 octets and
 * the stream ends exactly where the receiver's appended 00 00 ff ff ends.
 */
function finalStoredBlockMessage(text: string): Buffer {
  const flushed = deflateRawSync(Buffer.from(text), { finishFlush: zlibConstants.Z_SYNC_FLUSH });
  return Buffer.concat([flushed, Buffer.from([0x01])]);
}

/** A sender's DEFLATE stream with context takeover: each call is one message (§7.2.1). */
function takeoverSender(): { readonly next: (text: string) => Promise<Buffer>; readonly close: () => void } {
  const deflate: DeflateRaw = createDeflateRaw();
  return {
    next: (text) =>
      new Promise((resolve) => {
        const chunks: Buffer[] = [];
        const onData = (chunk: Buffer) => chunks.push(chunk);
        deflate.on('data', onData);
        deflate.write(Buffer.from(text));
        deflate.flush(zlibConstants.Z_SYNC_FLUSH, () => {
          deflate.off('data', onData);
          const out = Buffer.concat(chunks);
          expect(out.subarray(-4)).toEqual(TRAILER);
          resolve(out.subarray(0, -4));
        });
      }),
    close: () => deflate.close(),
  };
}

/** Marks a promise as handled, so a test that fails early does not also leave a stray rejection. */
function handled<T>(promise: Promise<T>): Promise<T> {
  promise.catch(() => {});
  return promise;
}

let servers: Listening[] = [];
let rawServers: RawServer[] = [];
let sockets: WebSocket[] = [];
let peers: RawPeer[] = [];
let cleanups: (() => void)[] = [];

afterEach(async () => {
  for (const cleanup of cleanups) cleanup();
  for (const peer of peers) peer.destroy();
  for (const ws of sockets) if (ws.readyState !== WebSocket.CLOSED) ws.terminate();
  await Promise.all([
    ...servers.map((s) => withTimeout(s.server.close({ timeout: 200 }), WAIT_MS, 'server.close')),
    ...rawServers.map((s) => withTimeout(s.close(), WAIT_MS, 'rawServer.close')),
  ]);
  servers = [];
  rawServers = [];
  sockets = [];
  peers = [];
  cleanups = [];
});

async function deflateServer(options: Omit<ServerOptions, 'port'> = {}): Promise<Listening> {
  const listening = await listen({ perMessageDeflate: true, ...options });
  servers.push(listening);
  listening.server.on('connection', (ws: WebSocket) => {
    sockets.push(ws);
    ws.on('error', () => {});
  });
  return listening;
}

/** A raw client that offers `extensions`; returns the peer and the 101 head. */
async function rawDeflateClient(
  port: number,
  extensions = 'permessage-deflate',
): Promise<{ peer: RawPeer; head: HttpHead }> {
  const peer = await rawConnect(port);
  peers.push(peer);
  const key = randomKey();
  peer.write(upgradeRequest({ key, headers: { 'Sec-WebSocket-Extensions': extensions } }));
  const head = await peer.readHttp();
  expect(head.status).toBe(101);
  expect(head.headers['sec-websocket-accept']).toBe(acceptKeyFor(key));
  return { peer, head };
}

/** Collects the messages a server connection receives, and its close code. */
function record(ws: WebSocket): { messages: string[]; closed: Promise<[number, Buffer]> } {
  const messages: string[] = [];
  ws.on('message', (data: Buffer) => messages.push(data.toString()));
  return { messages, closed: handled(once<[number, Buffer]>(ws, 'close')) };
}

/**
 * A raw server for our client: answers 101 with permessage-deflate, sends `payloads` as compressed
 * text frames (unmasked, RSV1), then reads frames until a Close and hands it back.
 */
async function rawDeflateServer(payloads: () => Promise<Buffer[]>): Promise<{
  readonly server: RawServer;
  readonly closeFrame: Promise<ParsedFrame>;
}> {
  let resolveClose: (frame: ParsedFrame) => void = () => {};
  let rejectClose: (error: unknown) => void = () => {};
  const closeFrame = new Promise<ParsedFrame>((resolve, reject) => {
    resolveClose = resolve;
    rejectClose = reject;
  });
  const server = await rawServer(
    async (peer) => {
      const request = await peer.readHttp();
      const key = request.headers['sec-websocket-key'] ?? '';
      peer.write(
        'HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n' +
          `Sec-WebSocket-Accept: ${acceptKeyFor(key)}\r\n` +
          'Sec-WebSocket-Extensions: permessage-deflate\r\n\r\n',
      );
      for (const payload of await payloads()) {
        peer.write(encodeMaskedFrame(TEXT, payload, { rsv: RSV1, maskKey: null }));
      }
      await peer.readCloseFrame().then(resolveClose, rejectClose);
    },
    { handshake: false },
  );
  rawServers.push(server);
  return { server, closeFrame: handled(closeFrame) };
}

async function openClient(url: string): Promise<WebSocket> {
  const ws = new WebSocket(url);
  sockets.push(ws);
  ws.on('error', () => {});
  return ws;
}

describe('RFC 7692 §7.2.3.4: a DEFLATE block with BFINAL set, client → server', () => {
  it('the §7.2.3.4 "Hello", then two messages on a fresh stream with context takeover, all arrive right', async () => {
    const listening = await deflateServer();
    const accepted = nextConnection(listening.server);
    const { peer, head } = await rawDeflateClient(listening.port);
    expect(head.headers['sec-websocket-extensions']).toBe('permessage-deflate'); // context takeover
    const ws = await accepted;
    const received = nextMessages(ws, 3);
    // The sender's stream ended with "Hello": its next message starts a new DEFLATE stream, and that
    // stream carries on to the third message (which refers back to the second: takeover).
    const sender = takeoverSender();
    cleanups.push(sender.close);
    const second = await sender.next('second message, second message');
    const third = await sender.next('second message, second message, third');
    peer.write(encodeMaskedFrame(TEXT, HELLO_BFINAL, { rsv: RSV1 }));
    peer.write(encodeMaskedFrame(TEXT, second, { rsv: RSV1 }));
    peer.write(encodeMaskedFrame(TEXT, third, { rsv: RSV1 }));
    expect((await received).map((m) => m.data.toString())).toEqual([
      'Hello',
      'second message, second message',
      'second message, second message, third',
    ]);
  });

  it('every message finished with Z_FINISH (BFINAL), each on its own stream, all arrive right', async () => {
    const listening = await deflateServer();
    const accepted = nextConnection(listening.server);
    const { peer } = await rawDeflateClient(listening.port);
    const ws = await accepted;
    const texts = ['first', 'second', 'x'.repeat(5000), 'fourth', ''];
    const received = nextMessages(ws, texts.length);
    for (const text of texts) peer.write(encodeMaskedFrame(TEXT, finishedMessage(text), { rsv: RSV1 }));
    expect((await received).map((m) => m.data.toString())).toEqual(texts);
  });

  it('a final block split across fragments, then a normal message', async () => {
    const listening = await deflateServer();
    const accepted = nextConnection(listening.server);
    const { peer } = await rawDeflateClient(listening.port);
    const ws = await accepted;
    const received = nextMessages(ws, 2);
    const payload = finishedMessage('y'.repeat(3000));
    const cut = payload.length - 1; // the last fragment holds only the 0x00 octet of §7.2.1 step 2
    peer.write(encodeMaskedFrame(TEXT, payload.subarray(0, cut), { rsv: RSV1, fin: false }));
    peer.write(encodeMaskedFrame(0x0, payload.subarray(cut), { fin: true }));
    const sender = takeoverSender();
    cleanups.push(sender.close);
    peer.write(encodeMaskedFrame(TEXT, await sender.next('after'), { rsv: RSV1 }));
    expect((await received).map((m) => m.data.toString())).toEqual(['y'.repeat(3000), 'after']);
  });

  it('a stream that ends exactly at the end of a message (final empty stored block), then a new stream', async () => {
    const listening = await deflateServer();
    const accepted = nextConnection(listening.server);
    const { peer } = await rawDeflateClient(listening.port);
    const ws = await accepted;
    const received = nextMessages(ws, 3);
    peer.write(encodeMaskedFrame(TEXT, finalStoredBlockMessage('first'), { rsv: RSV1 }));
    peer.write(encodeMaskedFrame(TEXT, finalStoredBlockMessage('second'), { rsv: RSV1 }));
    peer.write(encodeMaskedFrame(TEXT, finishedMessage('third'), { rsv: RSV1 }));
    expect((await received).map((m) => m.data.toString())).toEqual(['first', 'second', 'third']);
  });

  it('more DEFLATE data after the final block in one message → 1007, nothing wrong delivered', async () => {
    const listening = await deflateServer();
    const accepted = nextConnection(listening.server);
    const { peer } = await rawDeflateClient(listening.port);
    const ws = await accepted;
    const { messages, closed } = record(ws);
    const error = handled(once<[Error]>(ws, 'error'));
    const second = deflateRawSync(Buffer.from('second'), { finishFlush: zlibConstants.Z_SYNC_FLUSH });
    // One message: a complete stream ("first", BFINAL) followed by the start of another.
    const payload = Buffer.concat([deflateRawSync(Buffer.from('first')), second.subarray(0, -4)]);
    peer.write(encodeMaskedFrame(TEXT, payload, { rsv: RSV1 }));
    const close = await peer.readCloseFrame();
    expect(close.closeCode).toBe(1007);
    expect((await error)[0].message).toMatch(/after the final DEFLATE block/);
    await closed;
    expect(messages).toEqual([]);
  });
});

describe('RFC 7692 §7.2.3.4: a DEFLATE block with BFINAL set, server → client', () => {
  it('the §7.2.3.4 "Hello", then messages on a fresh stream with context takeover, all arrive right', async () => {
    const sender = takeoverSender();
    cleanups.push(sender.close);
    const { server, closeFrame } = await rawDeflateServer(async () => [
      HELLO_BFINAL,
      await sender.next('from the server, from the server'),
      await sender.next('from the server, from the server, again'),
      finalStoredBlockMessage('ends its stream exactly'),
      finishedMessage('last'),
    ]);
    const ws = await openClient(server.url);
    const received = await nextMessages(ws, 5);
    expect(received.map((m) => m.data.toString())).toEqual([
      'Hello',
      'from the server, from the server',
      'from the server, from the server, again',
      'ends its stream exactly',
      'last',
    ]);
    ws.close(1000);
    expect((await withTimeout(closeFrame, WAIT_MS, 'the close frame')).closeCode).toBe(1000);
  });

  it('more DEFLATE data after the final block in one message → the client fails with 1007', async () => {
    const second = deflateRawSync(Buffer.from('second'), { finishFlush: zlibConstants.Z_SYNC_FLUSH });
    const { server, closeFrame } = await rawDeflateServer(async () => [
      Buffer.concat([deflateRawSync(Buffer.from('first')), second.subarray(0, -4)]),
    ]);
    const ws = await openClient(server.url);
    const messages: string[] = [];
    ws.on('message', (data: Buffer) => messages.push(data.toString()));
    const error = handled(once<[Error]>(ws, 'error'));
    const frame = await withTimeout(closeFrame, WAIT_MS, 'the close frame');
    expect(frame.closeCode).toBe(1007);
    expect(frame.masked).toBe(true);
    expect((await error)[0].message).toMatch(/after the final DEFLATE block/);
    expect(messages).toEqual([]);
  });
});

describe('RFC 7692 §7.1.2.2: a server that limits the client window (clientMaxWindowBits: 10)', () => {
  const limited = { perMessageDeflate: { clientMaxWindowBits: 10 } };

  it('declines an offer without client_max_window_bits: the connection runs uncompressed', async () => {
    const listening = await deflateServer(limited);
    const accepted = nextConnection(listening.server);
    const { peer, head } = await rawDeflateClient(listening.port, 'permessage-deflate');
    expect(head.headers['sec-websocket-extensions']).toBeUndefined();
    const ws = await accepted;
    expect(ws.extensions).toBe('');
    const { messages, closed } = record(ws);
    peer.write(encodeMaskedFrame(TEXT, 'plain text still works'));
    // Without the extension RSV1 has no meaning (§5.2), so a compressed frame fails with 1002.
    peer.write(encodeMaskedFrame(TEXT, deflateRawSync(Buffer.from('x'.repeat(20_000))), { rsv: RSV1 }));
    expect((await peer.readCloseFrame()).closeCode).toBe(1002);
    await closed;
    expect(messages).toEqual(['plain text still works']);
  });

  it('takes a later offer that has client_max_window_bits, and answers the limit', async () => {
    const listening = await deflateServer(limited);
    const { head } = await rawDeflateClient(
      listening.port,
      'permessage-deflate, permessage-deflate; client_max_window_bits',
    );
    expect(head.headers['sec-websocket-extensions']).toBe('permessage-deflate; client_max_window_bits=10');
  });

  it('our client (which offers client_max_window_bits) gets the limit and round-trips', async () => {
    const listening = await deflateServer(limited);
    listening.server.on('connection', (peer: WebSocket) => {
      peer.on('message', (data: Buffer) => peer.send(data.toString()));
    });
    const ws = await openClient(listening.url);
    await once(ws, 'open');
    expect(ws.extensions).toBe('permessage-deflate; client_max_window_bits=10');
    const text = 'compress me '.repeat(1000);
    const echoed = nextMessages(ws, 1);
    ws.send(text);
    expect((await echoed)[0]!.data.toString()).toBe(text);
  });
});
