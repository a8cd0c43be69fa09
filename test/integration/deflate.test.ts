/**
 * permessage-deflate (RFC 7692) over real loopback sockets: our client ↔ our server, what each side
 * puts on the wire (checked with raw sockets: RSV1, payload that inflates to the message), bad input
 * from a raw client (RSV1 misuse, corrupt data, a zip bomb, invalid UTF-8 once inflated), how the
 * server answers offers, and how the client treats invalid responses.
 */
import { randomBytes } from 'node:crypto';
import { deflateRawSync, inflateRawSync, constants as zlibConstants } from 'node:zlib';
import { afterEach, describe, expect, it } from 'vitest';
import { HandshakeError, type ServerOptions, WebSocket } from '../../src/index.ts';
import { BINARY, CLOSE, CONTINUATION, PING, TEXT } from '../helpers/opcodes.ts';
import {
  acceptKeyFor,
  closePayload,
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
} from './helpers.ts';

const RSV1 = 4;
const TRAILER = Buffer.from([0x00, 0x00, 0xff, 0xff]);
const KIB = 1024;
const MIB = 1024 * 1024;

/** §7.2.1 by hand: raw DEFLATE ending in a sync flush, with the trailing 00 00 ff ff removed. */
function deflateMessage(data: Uint8Array | string): Buffer {
  const out = deflateRawSync(typeof data === 'string' ? Buffer.from(data) : data, {
    finishFlush: zlibConstants.Z_SYNC_FLUSH,
  });
  expect(out.subarray(-4)).toEqual(TRAILER);
  return out.subarray(0, out.length - 4);
}

/** §7.2.2 by hand: append 00 00 ff ff and inflate. */
function inflateMessage(...payloads: Buffer[]): Buffer {
  return inflateRawSync(Buffer.concat([...payloads, TRAILER]), { finishFlush: zlibConstants.Z_SYNC_FLUSH });
}

/** Compressible, JSON-like text of exactly `size` bytes (ASCII). */
function jsonText(size: number): string {
  let text = '';
  for (let i = 0; text.length < size; i++) text += `{"id":${i},"name":"item-${i % 97}","ok":${i % 3 === 0}},`;
  return text.slice(0, size);
}

/** Multibyte UTF-8 text (2-, 3- and 4-byte sequences) of at least `minBytes` bytes. */
function multibyteText(minBytes: number): string {
  const unit = 'héllo wörld — ñ € 日本語テキスト 𝄞 🎉👍🏽 ';
  let text = '';
  while (Buffer.byteLength(text) < minBytes) text += unit;
  return text;
}

let servers: Listening[] = [];
let rawServers: RawServer[] = [];
let sockets: WebSocket[] = [];
let peers: RawPeer[] = [];

afterEach(async () => {
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

/** An echo server (every message sent back as it came) with deflate on. */
async function echoServer(options: Omit<ServerOptions, 'port'> = {}): Promise<Listening> {
  const listening = await deflateServer(options);
  listening.server.on('connection', (ws: WebSocket) => {
    ws.on('message', (data: Buffer, isBinary: boolean) => ws.send(data, { binary: isBinary }));
  });
  return listening;
}

async function openClient(url: string, options: Record<string, unknown> = {}): Promise<WebSocket> {
  const ws = new WebSocket(url, options);
  sockets.push(ws);
  ws.on('error', () => {});
  await once(ws, 'open');
  return ws;
}

async function connectPair(
  listening: Listening,
  clientOptions: Record<string, unknown> = {},
): Promise<{ client: WebSocket; peer: WebSocket }> {
  const accepted = nextConnection(listening.server);
  const client = await openClient(listening.url, clientOptions);
  const peer = await accepted;
  return { client, peer };
}

/** A raw client: handshake offering `extensions` (null: no header); returns the peer and the 101 head. */
async function rawDeflateClient(
  port: number,
  extensions: string | null = 'permessage-deflate',
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

/**
 * A raw server for our client: reads the request, answers 101 with `extensions` in
 * Sec-WebSocket-Extensions (null: no header), then hands the peer and the request to `onPeer`.
 */
async function rawExtensionServer(
  extensions: string | null,
  onPeer: (peer: RawPeer, request: HttpHead) => void | Promise<void> = () => {},
): Promise<RawServer> {
  const server = await rawServer(
    async (peer) => {
      const request = await peer.readHttp();
      const key = request.headers['sec-websocket-key'] ?? '';
      peer.write(
        'HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n' +
          `Sec-WebSocket-Accept: ${acceptKeyFor(key)}\r\n` +
          (extensions === null ? '' : `Sec-WebSocket-Extensions: ${extensions}\r\n`) +
          '\r\n',
      );
      await onPeer(peer, request);
    },
    { handshake: false },
  );
  rawServers.push(server);
  return server;
}

/** Reads frames up to and including the last fragment of a data message. */
async function readMessageFrames(peer: RawPeer): Promise<ParsedFrame[]> {
  const frames: ParsedFrame[] = [];
  while (true) {
    const frame = await peer.readFrame();
    if (frame.opcode >= 0x8) continue; // control frames may be interleaved
    frames.push(frame);
    if (frame.fin) return frames;
  }
}

/** Reads the close frame the server answers with and checks the TCP connection then ends. */
async function expectServerClose(peer: RawPeer, code: number): Promise<void> {
  const close = await peer.readCloseFrame();
  expect(close.closeCode).toBe(code);
  expect(close.rsv).toBe(0);
  await peer.waitEnded();
}

// --- 1. our client ↔ our server --------------------------------------------------------------------

describe('sockwire client ↔ sockwire server with permessage-deflate', () => {
  it('negotiates permessage-deflate on both sides (client offers by default, server opted in)', async () => {
    const listening = await echoServer();
    const { client, peer } = await connectPair(listening);
    // Default client offer: "permessage-deflate; client_max_window_bits"; the server leaves the client
    // window unlimited, so it answers without the parameter (§7.1.2.2).
    expect(client.extensions).toBe('permessage-deflate');
    expect(peer.extensions).toBe('permessage-deflate');
  });

  it('does not negotiate when the server is left at its default (off)', async () => {
    const listening = await listen();
    servers.push(listening);
    const accepted = nextConnection(listening.server);
    const client = await openClient(listening.url);
    const peer = await accepted;
    sockets.push(peer);
    expect(client.extensions).toBe('');
    expect(peer.extensions).toBe('');
  });

  it('does not negotiate when the client passes perMessageDeflate: false', async () => {
    const listening = await echoServer();
    const { client, peer } = await connectPair(listening, { perMessageDeflate: false });
    expect(client.extensions).toBe('');
    expect(peer.extensions).toBe('');
    client.send('x'.repeat(5000));
    const [message] = await nextMessages(client, 1);
    expect(message!.data.toString()).toBe('x'.repeat(5000));
  });

  const sizes = [0, 100, 10 * KIB, MIB];
  it.each(sizes)('round-trips a %i-byte text message and a binary one through an echo', async (size) => {
    const listening = await echoServer();
    const { client } = await connectPair(listening);
    const text = jsonText(size);
    const binary = randomBytes(size);
    const received = nextMessages(client, 2, 10_000);
    client.send(text);
    client.send(binary);
    const [first, second] = await received;
    expect(first!.isBinary).toBe(false);
    expect(first!.data.toString('utf8')).toBe(text);
    expect(second!.isBinary).toBe(true);
    expect(second!.data.equals(binary)).toBe(true);
  });

  it('keeps 200 messages of mixed sizes and types in order through a burst and an echo', async () => {
    const listening = await echoServer();
    const { client } = await connectPair(listening);
    const sent: { data: Buffer; isBinary: boolean }[] = [];
    const pick = [0, 1, 10, 100, 1023, 1024, 1025, 4000, 20_000, 70_000, 200_000];
    for (let i = 0; i < 200; i++) {
      const size = pick[(i * 7) % pick.length]!;
      const isBinary = i % 3 === 0;
      const data = isBinary ? randomBytes(size) : Buffer.from(`${i}:${jsonText(size)}`);
      sent.push({ data, isBinary });
    }
    const received = nextMessages(client, sent.length, 15_000);
    // Some compressed, some not (below the threshold, or opted out): order must still hold.
    for (const [i, { data, isBinary }] of sent.entries()) {
      client.send(isBinary ? data : data.toString(), { compress: i % 10 !== 5 });
    }
    const echoed = await received;
    expect(echoed.length).toBe(sent.length);
    for (const [i, message] of echoed.entries()) {
      expect(message.isBinary, `message ${i}`).toBe(sent[i]!.isBinary);
      expect(message.data.equals(sent[i]!.data), `message ${i}`).toBe(true);
    }
  });

  it('delivers fragmented compressed sends (fin: false) as one message, text and binary', async () => {
    const listening = await deflateServer();
    const { client, peer } = await connectPair(listening);
    const received = nextMessages(peer, 2, 10_000);
    const parts = [jsonText(3000), multibyteText(5000), jsonText(50)];
    client.send(parts[0]!, { fin: false });
    client.send(parts[1]!, { fin: false });
    client.send(parts[2]!, { fin: true });
    const binaryParts = [randomBytes(2000), randomBytes(10), Buffer.alloc(0), Buffer.alloc(40_000, 7)];
    for (const [i, part] of binaryParts.entries()) client.send(part, { fin: i === binaryParts.length - 1 });
    const [text, binary] = await received;
    expect(text!.isBinary).toBe(false);
    expect(text!.data.toString('utf8')).toBe(parts.join(''));
    expect(binary!.isBinary).toBe(true);
    expect(binary!.data.equals(Buffer.concat(binaryParts))).toBe(true);
  });

  // Regression: messages still being inflated when the Close arrived used to be dropped.
  it('server: compressed messages sent before close() all reach our client before its close', async () => {
    const listening = await deflateServer();
    const { client, peer } = await connectPair(listening);
    const events: string[] = [];
    client.on('message', (data: Buffer) => events.push(`message ${data.subarray(0, 3).toString()}`));
    client.on('close', (code: number) => events.push(`close ${code}`));
    const closed = once<[number, Buffer]>(client, 'close');
    for (let i = 0; i < 50; i++) peer.send(`${String(i).padStart(3, '0')} ${jsonText(2000 + i * 100)}`);
    peer.close(4000, 'server bye');
    await closed;
    expect(events).toEqual([
      ...Array.from({ length: 50 }, (_, i) => `message ${String(i).padStart(3, '0')}`),
      'close 4000',
    ]);
  });

  it('client: messages sent in a burst arrive before the Close, which arrives last (order on the wire)', async () => {
    const listening = await deflateServer();
    const { client, peer } = await connectPair(listening);
    const events: string[] = [];
    peer.on('message', (data: Buffer) => events.push(`message ${data.subarray(0, 4).toString()}`));
    const closed = once<[number, Buffer]>(peer, 'close');
    peer.on('close', (code: number) => events.push(`close ${code}`));
    for (let i = 0; i < 30; i++) client.send(`${String(i).padStart(3, '0')} ${jsonText(5000)}`);
    client.close(1000);
    await closed;
    expect(events).toEqual([
      ...Array.from({ length: 30 }, (_, i) => `message ${String(i).padStart(3, '0')} `),
      'close 1000',
    ]);
  });

  it('round-trips multibyte UTF-8 text below and above the threshold', async () => {
    const listening = await echoServer();
    const { client } = await connectPair(listening);
    const texts = ['€', '日本語 🎉', multibyteText(900), multibyteText(1024), multibyteText(300_000)];
    const received = nextMessages(client, texts.length, 10_000);
    for (const text of texts) client.send(text);
    const echoed = await received;
    expect(echoed.map((m) => m.data.toString('utf8'))).toEqual(texts);
    expect(echoed.every((m) => !m.isBinary)).toBe(true);
  });

  it('with no context takeover and small windows on both sides, still round-trips', async () => {
    const config = {
      serverNoContextTakeover: true,
      clientNoContextTakeover: true,
      serverMaxWindowBits: 9,
      clientMaxWindowBits: 9,
      threshold: 0,
    };
    const listening = await echoServer({ perMessageDeflate: config });
    const { client, peer } = await connectPair(listening, { perMessageDeflate: config });
    const expected =
      'permessage-deflate; server_no_context_takeover; client_no_context_takeover; ' +
      'server_max_window_bits=9; client_max_window_bits=9';
    expect(peer.extensions).toBe(expected);
    expect(client.extensions).toBe(expected);
    const texts = ['', 'a', jsonText(1000), jsonText(1000), multibyteText(70_000), jsonText(MIB)];
    const received = nextMessages(client, texts.length, 10_000);
    for (const text of texts) client.send(text);
    expect((await received).map((m) => m.data.toString())).toEqual(texts);
  });
});

// --- what goes on the wire ---------------------------------------------------------------------------

describe('on the wire: which messages carry RSV1', () => {
  it('server → raw client: below threshold, compress: false and small messages are plain; others inflate', async () => {
    const listening = await deflateServer();
    const accepted = nextConnection(listening.server);
    const { peer: raw, head } = await rawDeflateClient(listening.port);
    expect(head.headers['sec-websocket-extensions']).toBe('permessage-deflate');
    const ws = await accepted;
    const small = 'y'.repeat(100);
    const big = jsonText(10 * KIB);
    ws.send(small); // below the 1024-byte threshold
    ws.send(big);
    ws.send(big, { compress: false });
    ws.send(Buffer.alloc(0));
    ws.send(jsonText(1024)); // exactly the threshold: compressed
    ws.send(jsonText(1023)); // one below: plain

    const f1 = await raw.readFrame();
    expect([f1.opcode, f1.rsv, f1.fin, f1.masked]).toEqual([TEXT, 0, true, false]);
    expect(f1.payload.toString()).toBe(small);

    const f2 = await raw.readFrame();
    expect([f2.opcode, f2.rsv, f2.fin]).toEqual([TEXT, RSV1, true]);
    expect(f2.payload.length).toBeLessThan(big.length / 4);
    expect(f2.payload.subarray(-4).equals(TRAILER)).toBe(false); // §7.2.1: trailer removed
    expect(inflateMessage(f2.payload).toString()).toBe(big);

    const f3 = await raw.readFrame();
    expect([f3.opcode, f3.rsv, f3.fin]).toEqual([TEXT, 0, true]);
    expect(f3.payload.toString()).toBe(big);

    const f4 = await raw.readFrame();
    expect([f4.opcode, f4.rsv, f4.payload.length]).toEqual([BINARY, 0, 0]);

    const f5 = await raw.readFrame();
    expect([f5.opcode, f5.rsv]).toEqual([TEXT, RSV1]);
    // With context takeover, f5 continues the stream of f2: inflate both in one stream.
    const stream = inflateRawSync(Buffer.concat([f2.payload, TRAILER, f5.payload, TRAILER]), {
      finishFlush: zlibConstants.Z_SYNC_FLUSH,
    });
    expect(stream.toString()).toBe(big + jsonText(1024));

    const f6 = await raw.readFrame();
    expect([f6.opcode, f6.rsv]).toEqual([TEXT, 0]);
    expect(f6.payload.toString()).toBe(jsonText(1023));
  });

  it('client → raw server: below threshold and compress: false are plain; others carry RSV1 and are masked', async () => {
    const frames: ParsedFrame[] = [];
    let request: HttpHead | undefined;
    let gotAll: () => void = () => {};
    const done = new Promise<void>((resolve) => {
      gotAll = resolve;
    });
    const server = await rawExtensionServer('permessage-deflate', async (peer, head) => {
      request = head;
      for (let i = 0; i < 4; i++) frames.push(await peer.readFrame());
      gotAll();
    });
    const client = await openClient(server.url);
    expect(client.extensions).toBe('permessage-deflate');
    const big = jsonText(20 * KIB);
    client.send('z'.repeat(100));
    client.send(big);
    client.send(big, { compress: false });
    client.send(randomBytes(2000), { compress: false });
    await withTimeout(done, WAIT_MS, 'four frames');
    expect(request!.headers['sec-websocket-extensions']).toBe('permessage-deflate; client_max_window_bits');
    const [small, compressed, optedOut, optedOutBinary] = frames;
    expect([small!.opcode, small!.rsv, small!.masked]).toEqual([TEXT, 0, true]);
    expect(small!.payload.toString()).toBe('z'.repeat(100));
    expect([compressed!.opcode, compressed!.rsv, compressed!.masked]).toEqual([TEXT, RSV1, true]);
    expect(inflateMessage(compressed!.payload).toString()).toBe(big);
    expect([optedOut!.opcode, optedOut!.rsv]).toEqual([TEXT, 0]);
    expect(optedOut!.payload.toString()).toBe(big);
    expect([optedOutBinary!.opcode, optedOutBinary!.rsv, optedOutBinary!.payload.length]).toEqual([
      BINARY,
      0,
      2000,
    ]);
  });

  it('client: a fragmented compressed message has RSV1 on its first frame only and inflates as a whole', async () => {
    let frames: ParsedFrame[] = [];
    let second: ParsedFrame[] = [];
    let gotAll: () => void = () => {};
    const done = new Promise<void>((resolve) => {
      gotAll = resolve;
    });
    const server = await rawExtensionServer('permessage-deflate', async (peer) => {
      frames = await readMessageFrames(peer);
      second = await readMessageFrames(peer);
      gotAll();
    });
    const client = await openClient(server.url);
    const parts = [jsonText(4000), jsonText(3000), 'end'];
    client.send(parts[0]!, { fin: false });
    client.send(parts[1]!, { fin: false });
    client.send(parts[2]!, { fin: true });
    // First fragment below the threshold: the whole message goes uncompressed, even its big fragments.
    client.send('tiny', { fin: false });
    client.send(jsonText(5000), { fin: true });
    await withTimeout(done, WAIT_MS, 'fragments');
    expect(frames.map((f) => [f.opcode, f.rsv, f.fin])).toEqual([
      [TEXT, RSV1, false],
      [CONTINUATION, 0, false],
      [CONTINUATION, 0, true],
    ]);
    expect(inflateMessage(...frames.map((f) => f.payload)).toString()).toBe(parts.join(''));
    expect(second.map((f) => [f.opcode, f.rsv, f.fin])).toEqual([
      [TEXT, 0, false],
      [CONTINUATION, 0, true],
    ]);
    expect(Buffer.concat(second.map((f) => f.payload)).toString()).toBe(`tiny${jsonText(5000)}`);
  });

  it('server: receives a message compressed by hand, split over three frames (RSV1 on the first only)', async () => {
    const listening = await deflateServer();
    const accepted = nextConnection(listening.server);
    const { peer: raw } = await rawDeflateClient(listening.port);
    const ws = await accepted;
    const message = once<[Buffer, boolean]>(ws, 'message');
    const text = multibyteText(6000);
    const compressed = deflateMessage(text);
    const a = compressed.subarray(0, 10);
    const b = compressed.subarray(10, 20);
    const c = compressed.subarray(20);
    raw.write(encodeMaskedFrame(TEXT, a, { fin: false, rsv: RSV1 }));
    raw.write(encodeMaskedFrame(PING, 'interleaved'));
    raw.write(encodeMaskedFrame(CONTINUATION, b, { fin: false }));
    raw.write(encodeMaskedFrame(CONTINUATION, c, { fin: true }));
    const [data, isBinary] = await message;
    expect(isBinary).toBe(false);
    expect(data.toString()).toBe(text);
    const pong = await raw.readFrame();
    expect([pong.opcode, pong.rsv, pong.payload.toString()]).toEqual([0xa, 0, 'interleaved']);
  });

  it('client: a server imposing client_max_window_bits=8 keeps the extension, but the client sends uncompressed', async () => {
    let frame: ParsedFrame | undefined;
    let gotIt: () => void = () => {};
    const done = new Promise<void>((resolve) => {
      gotIt = resolve;
    });
    const big = jsonText(8000);
    const server = await rawExtensionServer('permessage-deflate; client_max_window_bits=8', async (peer) => {
      // The server may still compress what it sends.
      peer.write(encodeMaskedFrame(TEXT, deflateMessage(big), { rsv: RSV1, maskKey: null }));
      frame = await peer.readFrame();
      gotIt();
    });
    const client = new WebSocket(server.url);
    sockets.push(client);
    const received = nextMessages(client, 1);
    await once(client, 'open');
    expect(client.extensions).toBe('permessage-deflate; client_max_window_bits=8');
    const [message] = await received;
    expect(message!.data.toString()).toBe(big);
    client.send(big);
    await withTimeout(done, WAIT_MS, 'a frame');
    expect([frame!.opcode, frame!.rsv]).toEqual([TEXT, 0]);
    expect(frame!.payload.toString()).toBe(big);
  });
});

// --- 3. bad input from a raw client ------------------------------------------------------------------

describe('server: bad compressed input over a raw socket', () => {
  it('RSV1 on a continuation frame → 1002', async () => {
    const listening = await deflateServer();
    const { peer } = await rawDeflateClient(listening.port);
    const compressed = deflateMessage(jsonText(2000));
    peer.write(encodeMaskedFrame(TEXT, compressed.subarray(0, 5), { fin: false, rsv: RSV1 }));
    peer.write(encodeMaskedFrame(CONTINUATION, compressed.subarray(5), { fin: true, rsv: RSV1 }));
    await expectServerClose(peer, 1002);
  });

  it('RSV1 on an uncompressed message continuation frame → 1002', async () => {
    const listening = await deflateServer();
    const { peer } = await rawDeflateClient(listening.port);
    peer.write(encodeMaskedFrame(TEXT, 'abc', { fin: false }));
    peer.write(encodeMaskedFrame(CONTINUATION, deflateMessage('def'), { fin: true, rsv: RSV1 }));
    await expectServerClose(peer, 1002);
  });

  it('RSV1 on a ping → 1002', async () => {
    const listening = await deflateServer();
    const { peer } = await rawDeflateClient(listening.port);
    peer.write(encodeMaskedFrame(PING, deflateMessage('ping'), { rsv: RSV1 }));
    await expectServerClose(peer, 1002);
  });

  it('RSV1 on a close frame → 1002', async () => {
    const listening = await deflateServer();
    const { peer } = await rawDeflateClient(listening.port);
    peer.write(encodeMaskedFrame(CLOSE, closePayload(1000), { rsv: RSV1 }));
    await expectServerClose(peer, 1002);
  });

  it('RSV2 / RSV3 are still refused with deflate negotiated → 1002', async () => {
    const listening = await deflateServer();
    for (const rsv of [2, 1, 6]) {
      const { peer } = await rawDeflateClient(listening.port);
      peer.write(encodeMaskedFrame(TEXT, 'hello', { rsv }));
      await expectServerClose(peer, 1002);
    }
  });

  it('corrupt DEFLATE data with RSV1 → 1007, and the server emits an error', async () => {
    const listening = await deflateServer();
    const accepted = nextConnection(listening.server);
    const { peer } = await rawDeflateClient(listening.port);
    const ws = await accepted;
    const error = once<[Error]>(ws, 'error');
    const closed = once<[number]>(ws, 'close');
    // 0x07: BFINAL=1, BTYPE=11, a reserved block type: "invalid block type".
    peer.write(encodeMaskedFrame(BINARY, Buffer.from([0x07, 0xff, 0xff, 0x00, 0x12]), { rsv: RSV1 }));
    await expectServerClose(peer, 1007);
    const [err] = await error;
    expect(err.message).toMatch(/invalid compressed data/);
    expect((await closed)[0]).toBe(1006); // no Close frame received from the raw peer
  });

  it('corrupt DEFLATE data after a valid message (context taken over) → 1007', async () => {
    const listening = await deflateServer();
    const accepted = nextConnection(listening.server);
    const { peer } = await rawDeflateClient(listening.port);
    const ws = await accepted;
    const first = once<[Buffer]>(ws, 'message');
    peer.write(encodeMaskedFrame(TEXT, deflateMessage('fine'), { rsv: RSV1 }));
    expect((await first)[0].toString()).toBe('fine');
    peer.write(encodeMaskedFrame(TEXT, Buffer.from([0xff, 0xff, 0xff, 0xff, 0xff]), { rsv: RSV1 }));
    await expectServerClose(peer, 1007);
  });

  it('a zip bomb (64 MiB of zeros in ~64 KiB) against maxPayload 1 MiB → 1009 without inflating it all', async () => {
    // Build the bomb first, so its own memory is not counted below.
    const bomb = deflateMessage(Buffer.alloc(64 * MIB));
    expect(bomb.length).toBeLessThan(128 * KIB);
    const frame = encodeMaskedFrame(BINARY, bomb, { rsv: RSV1 });
    const listening = await deflateServer({ maxPayload: MIB });
    const accepted = nextConnection(listening.server);
    const { peer } = await rawDeflateClient(listening.port);
    const ws = await accepted;
    const messages: Buffer[] = [];
    ws.on('message', (data: Buffer) => messages.push(data));
    const error = once<[Error]>(ws, 'error');
    const before = process.memoryUsage().rss;
    let peak = before;
    const sampler = setInterval(() => {
      peak = Math.max(peak, process.memoryUsage().rss);
    }, 2);
    try {
      peer.write(frame);
      await expectServerClose(peer, 1009);
    } finally {
      clearInterval(sampler);
    }
    peak = Math.max(peak, process.memoryUsage().rss);
    const [err] = await error;
    expect(err.message).toMatch(/maxPayload/);
    expect(messages).toEqual([]);
    expect(peak - before).toBeLessThan(48 * MIB);
  });

  it('a compressed message over maxPayload once inflated → 1009, one just at it is delivered', async () => {
    const listening = await deflateServer({ maxPayload: 10_000 });
    const accepted = nextConnection(listening.server);
    const { peer } = await rawDeflateClient(listening.port);
    const ws = await accepted;
    const message = once<[Buffer]>(ws, 'message');
    peer.write(encodeMaskedFrame(BINARY, deflateMessage(Buffer.alloc(10_000, 1)), { rsv: RSV1 }));
    expect((await message)[0].length).toBe(10_000);
    peer.write(encodeMaskedFrame(BINARY, deflateMessage(Buffer.alloc(10_001, 1)), { rsv: RSV1 }));
    await expectServerClose(peer, 1009);
  });

  it('RSV1 when the client offered nothing (deflate not negotiated) → 1002', async () => {
    const listening = await deflateServer();
    const { peer, head } = await rawDeflateClient(listening.port, null);
    expect(head.headers['sec-websocket-extensions']).toBeUndefined();
    peer.write(encodeMaskedFrame(TEXT, deflateMessage('hello'), { rsv: RSV1 }));
    await expectServerClose(peer, 1002);
  });

  it('RSV1 when the server has deflate off (offer declined) → 1002', async () => {
    const listening = await listen();
    servers.push(listening);
    const { peer, head } = await rawDeflateClient(listening.port);
    expect(head.headers['sec-websocket-extensions']).toBeUndefined();
    peer.write(encodeMaskedFrame(TEXT, deflateMessage('hello'), { rsv: RSV1 }));
    await expectServerClose(peer, 1002);
  });

  it('compressed text that inflates to invalid UTF-8 → 1007', async () => {
    const listening = await deflateServer();
    const { peer } = await rawDeflateClient(listening.port);
    const invalid = Buffer.concat([Buffer.from('valid prefix '), Buffer.from([0xc3, 0x28, 0xff, 0xfe])]);
    peer.write(encodeMaskedFrame(TEXT, deflateMessage(invalid), { rsv: RSV1 }));
    await expectServerClose(peer, 1007);
  });

  it('compressed text whose multibyte characters straddle frame boundaries is valid', async () => {
    const listening = await deflateServer();
    const accepted = nextConnection(listening.server);
    const { peer } = await rawDeflateClient(listening.port);
    const ws = await accepted;
    const message = once<[Buffer]>(ws, 'message');
    const text = '🎉'.repeat(1000);
    const compressed = deflateMessage(text);
    // Split the *compressed* bytes anywhere; the inflated text is validated as a whole.
    for (let at = 0; at < compressed.length; at += 3) {
      const fin = at + 3 >= compressed.length;
      peer.write(
        encodeMaskedFrame(at === 0 ? TEXT : CONTINUATION, compressed.subarray(at, at + 3), {
          fin,
          rsv: at === 0 ? RSV1 : 0,
        }),
      );
    }
    expect((await message)[0].toString()).toBe(text);
  });

  it('a binary message that inflates to invalid UTF-8 is fine (only text is validated)', async () => {
    const listening = await deflateServer();
    const accepted = nextConnection(listening.server);
    const { peer } = await rawDeflateClient(listening.port);
    const ws = await accepted;
    const message = once<[Buffer, boolean]>(ws, 'message');
    const bytes = Buffer.from([0xc3, 0x28, 0xff, 0xfe]);
    peer.write(encodeMaskedFrame(BINARY, deflateMessage(bytes), { rsv: RSV1 }));
    const [data, isBinary] = await message;
    expect(isBinary).toBe(true);
    expect(data.equals(bytes)).toBe(true);
  });
});

// --- closing right after compressed messages, with a peer that closes TCP promptly ------------------

describe('close right after compressed messages (raw peer closes TCP once the Close is answered)', () => {
  const numbered = (i: number) => `${String(i).padStart(3, '0')} ${jsonText(3000 + i * 50)}`;
  const expected = (code: number) => [
    ...Array.from({ length: 100 }, (_, i) => `message ${String(i).padStart(3, '0')}`),
    `close ${code}`,
  ];
  const record = (ws: WebSocket) => {
    const events: string[] = [];
    ws.on('message', (data: Buffer) => events.push(`message ${data.subarray(0, 3).toString()}`));
    ws.on('close', (code: number) => events.push(`close ${code}`));
    return events;
  };

  it('uncompressed control case: server delivers all 100 messages, then close 1000', async () => {
    const listening = await deflateServer();
    const accepted = nextConnection(listening.server);
    const { peer } = await rawDeflateClient(listening.port);
    const ws = await accepted;
    const events = record(ws);
    const closed = once(ws, 'close');
    const frames = Array.from({ length: 100 }, (_, i) => encodeMaskedFrame(TEXT, numbered(i)));
    peer.write(Buffer.concat([...frames, encodeMaskedFrame(CLOSE, closePayload(1000))]));
    expect((await peer.readCloseFrame()).closeCode).toBe(1000);
    peer.socket.end();
    await closed;
    expect(events).toEqual(expected(1000));
  });

  // Regression: messages still being inflated when the Close arrived used to be dropped.
  it('server delivers all 100 compressed messages, then close 1000', async () => {
    const listening = await deflateServer();
    const accepted = nextConnection(listening.server);
    const { peer } = await rawDeflateClient(listening.port);
    const ws = await accepted;
    const events = record(ws);
    const closed = once(ws, 'close');
    const frames = Array.from({ length: 100 }, (_, i) =>
      encodeMaskedFrame(TEXT, deflateMessage(numbered(i)), { rsv: RSV1 }),
    );
    peer.write(Buffer.concat([...frames, encodeMaskedFrame(CLOSE, closePayload(1000))]));
    expect((await peer.readCloseFrame()).closeCode).toBe(1000);
    peer.socket.end();
    await closed;
    expect(events).toEqual(expected(1000));
  });

  // Regression: messages still being inflated when the Close arrived used to be dropped.
  it('client delivers all 100 compressed messages, then close 4000', async () => {
    const server = await rawExtensionServer('permessage-deflate', async (peer) => {
      const frames = Array.from({ length: 100 }, (_, i) =>
        encodeMaskedFrame(TEXT, deflateMessage(numbered(i)), { rsv: RSV1, maskKey: null }),
      );
      peer.write(Buffer.concat([...frames, encodeMaskedFrame(CLOSE, closePayload(4000), { maskKey: null })]));
      await peer.readCloseFrame();
      peer.socket.end();
    });
    const ws = new WebSocket(server.url);
    sockets.push(ws);
    const events = record(ws);
    const closed = once(ws, 'close');
    await closed;
    expect(events).toEqual(expected(4000));
  });
});

// --- server: answering offers ------------------------------------------------------------------------

describe('server: answers to Sec-WebSocket-Extensions offers', () => {
  it.each([
    ['permessage-deflate', 'permessage-deflate'],
    ['permessage-deflate; client_max_window_bits', 'permessage-deflate'],
    ['x-unknown, permessage-deflate; client_max_window_bits', 'permessage-deflate'],
    ['x-unknown; a=1, permessage-deflate', 'permessage-deflate'],
    ['permessage-deflate; server_no_context_takeover', 'permessage-deflate; server_no_context_takeover'],
    ['permessage-deflate; client_no_context_takeover', 'permessage-deflate; client_no_context_takeover'],
    ['permessage-deflate; server_max_window_bits=10', 'permessage-deflate; server_max_window_bits=10'],
    ['permessage-deflate; client_max_window_bits=12', 'permessage-deflate; client_max_window_bits=12'],
    ['permessage-deflate; server_max_window_bits="11"', 'permessage-deflate; server_max_window_bits=11'],
    ['PerMessage-Deflate', 'permessage-deflate'],
    // §5.1: the first acceptable offer wins; an 8-bit server window is declined (we cannot compress so).
    [
      'permessage-deflate; server_max_window_bits=8, permessage-deflate; server_max_window_bits=9',
      'permessage-deflate; server_max_window_bits=9',
    ],
    ['permessage-deflate; bogus, permessage-deflate', 'permessage-deflate'],
    // An 8-bit *client* window is fine: we only inflate with it.
    ['permessage-deflate; client_max_window_bits=8', 'permessage-deflate; client_max_window_bits=8'],
  ])('offer %j → 101 with %j', async (offer, answer) => {
    const listening = await deflateServer();
    const { head } = await rawDeflateClient(listening.port, offer);
    expect(head.headers['sec-websocket-extensions']).toBe(answer);
  });

  it.each([
    ['permessage-deflate; server_max_window_bits=8'],
    ['permessage-deflate; unknown_parameter'],
    ['permessage-deflate; unknown_parameter=1'],
    ['permessage-deflate; server_max_window_bits'],
    ['permessage-deflate; server_max_window_bits=16'],
    ['permessage-deflate; server_max_window_bits=7'],
    ['permessage-deflate; server_max_window_bits=09'],
    ['permessage-deflate; server_max_window_bits=ten'],
    ['permessage-deflate; client_max_window_bits=16'],
    ['permessage-deflate; client_max_window_bits=0'],
    ['permessage-deflate; server_no_context_takeover=1'],
    ['permessage-deflate; client_no_context_takeover=true'],
    ['x-unknown'],
  ])('offer %j is declined: 101 without Sec-WebSocket-Extensions, and RSV1 then → 1002', async (offer) => {
    const listening = await deflateServer();
    const accepted = nextConnection(listening.server);
    const { peer, head } = await rawDeflateClient(listening.port, offer);
    expect(head.headers['sec-websocket-extensions']).toBeUndefined();
    const ws = await accepted;
    expect(ws.extensions).toBe('');
    peer.write(encodeMaskedFrame(TEXT, deflateMessage('hi'), { rsv: RSV1 }));
    await expectServerClose(peer, 1002);
  });

  // RFC 7692 §7: a server "MUST decline an extension negotiation offer for this extension if ... The
  // negotiation offer ... includes multiple extension parameters with the same name" (decline, not
  // fail the handshake; names compared case-insensitively).
  it.each([
    ['permessage-deflate; server_no_context_takeover; server_no_context_takeover', undefined],
    ['permessage-deflate; server_no_context_takeover; SERVER_NO_CONTEXT_TAKEOVER', undefined],
    ['permessage-deflate; client_max_window_bits=10; client_max_window_bits=11', undefined],
    // The next offer is still considered.
    [
      'permessage-deflate; server_max_window_bits=10; server_max_window_bits=10, permessage-deflate',
      'permessage-deflate',
    ],
  ])(
    'an offer with a repeated parameter %j is declined, not rejected → 101 with %j',
    async (offer, answer) => {
      const listening = await deflateServer();
      const { head } = await rawDeflateClient(listening.port, offer);
      expect(head.headers['sec-websocket-extensions']).toBe(answer);
    },
  );

  it.each([
    [
      { serverNoContextTakeover: true },
      'permessage-deflate',
      'permessage-deflate; server_no_context_takeover',
    ],
    [
      { clientNoContextTakeover: true },
      'permessage-deflate',
      'permessage-deflate; client_no_context_takeover',
    ],
    [{ serverMaxWindowBits: 10 }, 'permessage-deflate', 'permessage-deflate; server_max_window_bits=10'],
    [
      { serverMaxWindowBits: 12 },
      'permessage-deflate; server_max_window_bits=10',
      'permessage-deflate; server_max_window_bits=10',
    ],
    // §7.1.2.2: no client_max_window_bits in the offer, none in the answer; so a server that limits
    // the client window declines such an offer (its limit could not hold).
    [{ clientMaxWindowBits: 15 }, 'permessage-deflate', 'permessage-deflate'],
    [{ clientMaxWindowBits: 10 }, 'permessage-deflate', undefined],
    [
      { clientMaxWindowBits: 10 },
      'permessage-deflate; client_max_window_bits',
      'permessage-deflate; client_max_window_bits=10',
    ],
    [
      { clientMaxWindowBits: 10 },
      'permessage-deflate; client_max_window_bits=9',
      'permessage-deflate; client_max_window_bits=9',
    ],
  ])('server options %j, offer %j → %j', async (options, offer, answer) => {
    const listening = await deflateServer({ perMessageDeflate: options });
    const accepted = nextConnection(listening.server);
    const { head } = await rawDeflateClient(listening.port, offer);
    expect(head.headers['sec-websocket-extensions']).toBe(answer);
    expect((await accepted).extensions).toBe(answer ?? '');
  });
});

// --- 4. client: invalid responses and the offer --------------------------------------------------------

describe('client: the offer and invalid responses', () => {
  it.each([
    ['permessage-deflate; client_max_window_bits'], // §7.1.2.2: a response must give a value
    ['permessage-deflate; unknown_parameter'],
    ['permessage-deflate; server_max_window_bits=16'],
    ['permessage-deflate; server_max_window_bits=7'],
    ['permessage-deflate; server_max_window_bits'],
    ['permessage-deflate; client_max_window_bits=16'],
    ['permessage-deflate; server_no_context_takeover=1'],
    ['permessage-deflate, permessage-deflate'],
    ['permessage-deflate; server_no_context_takeover, permessage-deflate'],
    ['x-not-offered'],
    ['permessage-deflate; ='],
  ])('101 with Sec-WebSocket-Extensions %j → error (HandshakeError) then close 1006', async (answer) => {
    const server = await rawExtensionServer(answer);
    const ws = new WebSocket(server.url);
    sockets.push(ws);
    const events: string[] = [];
    const errors: unknown[] = [];
    ws.on('open', () => events.push('open'));
    ws.on('error', (error) => {
      events.push('error');
      errors.push(error);
    });
    const closed = once<[number, Buffer]>(ws, 'close');
    ws.on('close', () => events.push('close'));
    const [code] = await closed;
    expect(code).toBe(1006);
    expect(events).toEqual(['error', 'close']);
    expect(errors[0]).toBeInstanceOf(HandshakeError);
    expect(ws.readyState).toBe(WebSocket.CLOSED);
    expect(ws.extensions).toBe('');
  });

  it.each([
    // We asked for server_no_context_takeover: the server must accept it.
    [{ serverNoContextTakeover: true }, 'permessage-deflate'],
    [{ serverMaxWindowBits: 10 }, 'permessage-deflate; server_max_window_bits=11'],
    [{ serverMaxWindowBits: 10 }, 'permessage-deflate'],
    [{ clientMaxWindowBits: 10 }, 'permessage-deflate; client_max_window_bits=11'],
    [{ clientMaxWindowBits: false }, 'permessage-deflate; client_max_window_bits=10'],
  ])('client options %j, response %j → error then close 1006', async (options, answer) => {
    const server = await rawExtensionServer(answer);
    const ws = new WebSocket(server.url, { perMessageDeflate: options });
    sockets.push(ws);
    const events: string[] = [];
    let error: unknown;
    ws.on('open', () => events.push('open'));
    ws.on('error', (e) => {
      events.push('error');
      error = e;
    });
    const closed = once<[number]>(ws, 'close');
    ws.on('close', () => events.push('close'));
    expect((await closed)[0]).toBe(1006);
    expect(events).toEqual(['error', 'close']);
    expect(error).toBeInstanceOf(HandshakeError);
  });

  it.each([
    // The server may add parameters the client did not ask for (§7.1.1.1, §7.1.1.2, §7.1.2.1).
    [{}, 'permessage-deflate; server_no_context_takeover'],
    [{}, 'permessage-deflate; client_no_context_takeover'],
    [{}, 'permessage-deflate; server_max_window_bits=9'],
    [{}, 'permessage-deflate; client_max_window_bits=9'],
    [{ serverMaxWindowBits: 10 }, 'permessage-deflate; server_max_window_bits=9'],
    [{ clientMaxWindowBits: 10 }, 'permessage-deflate; client_max_window_bits=10'],
    [{ clientMaxWindowBits: 10 }, 'permessage-deflate'],
  ])('client options %j accept response %j', async (options, answer) => {
    const server = await rawExtensionServer(answer);
    const ws = await openClient(server.url, { perMessageDeflate: options });
    expect(ws.extensions).toBe(answer);
  });

  it.each([
    [undefined, 'permessage-deflate; client_max_window_bits'],
    [true, 'permessage-deflate; client_max_window_bits'],
    [{}, 'permessage-deflate; client_max_window_bits'],
    [{ clientMaxWindowBits: false }, 'permessage-deflate'],
    [{ clientMaxWindowBits: 10 }, 'permessage-deflate; client_max_window_bits=10'],
    [
      {
        serverNoContextTakeover: true,
        clientNoContextTakeover: true,
        serverMaxWindowBits: 10,
        clientMaxWindowBits: 9,
      },
      'permessage-deflate; server_no_context_takeover; client_no_context_takeover; server_max_window_bits=10; client_max_window_bits=9',
    ],
    [false, undefined],
  ])('perMessageDeflate: %j → the request offers %j', async (option, offer) => {
    let request: HttpHead | undefined;
    const server = await rawExtensionServer(null, (_peer, head) => {
      request = head;
    });
    const ws = await openClient(server.url, option === undefined ? {} : { perMessageDeflate: option });
    expect(request!.headers['sec-websocket-extensions']).toBe(offer);
    expect(ws.extensions).toBe('');
  });

  it('client: corrupt compressed data from the server → the client fails with 1007', async () => {
    let closeFrame: ParsedFrame | undefined;
    let gotIt: () => void = () => {};
    const done = new Promise<void>((resolve) => {
      gotIt = resolve;
    });
    const server = await rawExtensionServer('permessage-deflate', async (peer) => {
      peer.write(encodeMaskedFrame(TEXT, Buffer.from([0x07, 1, 2, 3]), { rsv: RSV1, maskKey: null }));
      closeFrame = await peer.readCloseFrame();
      gotIt();
    });
    const ws = new WebSocket(server.url);
    sockets.push(ws);
    const error = once<[Error]>(ws, 'error');
    await withTimeout(done, WAIT_MS, 'the close frame');
    expect(closeFrame!.closeCode).toBe(1007);
    expect(closeFrame!.masked).toBe(true);
    expect((await error)[0].message).toMatch(/invalid compressed data/);
  });

  it('client: RSV1 on a server ping → the client fails with 1002', async () => {
    let closeFrame: ParsedFrame | undefined;
    let gotIt: () => void = () => {};
    const done = new Promise<void>((resolve) => {
      gotIt = resolve;
    });
    const server = await rawExtensionServer('permessage-deflate', async (peer) => {
      peer.write(encodeMaskedFrame(PING, 'x', { rsv: RSV1, maskKey: null }));
      closeFrame = await peer.readCloseFrame();
      gotIt();
    });
    const ws = new WebSocket(server.url);
    sockets.push(ws);
    ws.on('error', () => {});
    await withTimeout(done, WAIT_MS, 'the close frame');
    expect(closeFrame!.closeCode).toBe(1002);
  });
});
