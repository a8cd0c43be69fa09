/**
 * `WebSocketStream` (src/websocket-stream/): the browsers' streams interface over loopback, client
 * side (`new WebSocketStream(url)`) against a server-side pair (`WebSocketStream.from(ws)`): messages
 * both ways, the close codes of every way to close, aborting the handshake, a lost connection,
 * backpressure on the writable, and a message sent as a stream of fragments.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Readable } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import {
  ErrorCode,
  HandshakeError,
  InvalidArgumentError,
  InvalidStateError,
  type StreamedMessage,
  type WebSocket,
  WebSocketCloseError,
  WebSocketError,
  WebSocketStream,
} from '../../src/index.ts';
import { cert, startH2 } from '../http2/helpers.ts';
import {
  cleanupsAfterEach,
  closeQuietly,
  type Listening,
  listen,
  nextConnection,
  once,
  type ParsedFrame,
  type RawServer,
  rawServer,
  WAIT_MS,
  withTimeout,
} from './helpers.ts';

const cleanups = cleanupsAfterEach();

async function server(options: Parameters<typeof listen>[0] = {}): Promise<Listening> {
  const listening = await listen(options);
  cleanups.push(() => listening.server.close({ timeout: 200 }));
  return listening;
}

async function raw(
  onPeer: Parameters<typeof rawServer>[0],
  options: Parameters<typeof rawServer>[1] = {},
): Promise<RawServer> {
  const listening = await rawServer(onPeer, options);
  cleanups.push(() => listening.close());
  return listening;
}

/** A client WebSocketStream and the server's WebSocket, both open. */
async function streamPair(
  options: Parameters<typeof listen>[0] = {},
  clientOptions: ConstructorParameters<typeof WebSocketStream>[1] = {},
): Promise<{ wss: WebSocketStream; peer: WebSocket }> {
  const listening = await server(options);
  const accepted = nextConnection(listening.server);
  const wss = new WebSocketStream(listening.url, clientOptions);
  const peer = await accepted;
  cleanups.push(() => closeQuietly(peer));
  await withTimeout(wss.opened, WAIT_MS, 'opened');
  return { wss, peer };
}

async function readAll<T>(readable: ReadableStream<T>): Promise<T[]> {
  const values: T[] = [];
  for await (const value of readable) values.push(value);
  return values;
}

describe('WebSocketStream: messages', () => {
  it('client and server pairs exchange text as strings and binary as Uint8Array (not Buffer)', async () => {
    const listening = await server({ handleProtocols: (offered) => offered.values().next().value ?? false });
    listening.server.on('connection', (ws) => {
      // The server side: the same pair, echoing every message as it comes.
      const peer = WebSocketStream.from(ws);
      void peer.opened.then(({ readable, writable }) => readable.pipeTo(writable)).catch(() => {});
    });
    const wss = new WebSocketStream(listening.url, { protocols: ['chat', 'other'] });
    const { readable, writable, protocol, extensions } = await withTimeout(wss.opened);
    expect(protocol).toBe('chat');
    expect(extensions).toBe('');
    expect(wss.url).toBe(listening.url);
    const writer = writable.getWriter();
    await writer.write('héllo');
    await writer.write(new Uint8Array([1, 2, 3]));
    await writer.write(new Uint16Array([0x0201]).buffer);
    await writer.write(new DataView(new Uint8Array([9, 8]).buffer));
    const reader = readable.getReader();
    const got: unknown[] = [];
    for (let i = 0; i < 4; i++) got.push((await withTimeout(reader.read())).value);
    expect(got[0]).toBe('héllo');
    for (const value of got.slice(1)) {
      expect(value).toBeInstanceOf(Uint8Array);
      expect(Buffer.isBuffer(value)).toBe(false);
    }
    expect(got.slice(1).map((value) => Array.from(value as Uint8Array))).toEqual([
      [1, 2, 3],
      [1, 2],
      [9, 8],
    ]);
    wss.close({ closeCode: 1000, reason: 'done' });
    expect(await withTimeout(wss.closed)).toEqual({ closeCode: 1000, reason: 'done' });
    expect(await withTimeout(reader.read())).toEqual({ done: true, value: undefined });
  });

  it('a write of another type rejects with InvalidArgumentError', async () => {
    const { wss } = await streamPair();
    const { writable } = await wss.opened;
    const writer = writable.getWriter();
    await expect(writer.write(42)).rejects.toBeInstanceOf(InvalidArgumentError);
    wss.close();
  });

  it('works over permessage-deflate', async () => {
    const { wss, peer } = await streamPair({ perMessageDeflate: true }, { perMessageDeflate: true });
    const { readable, writable, extensions } = await wss.opened;
    expect(extensions).toContain('permessage-deflate');
    const echoed = once<[Buffer, boolean]>(peer, 'message');
    await writable.getWriter().write('z'.repeat(10_000));
    const [data, isBinary] = await echoed;
    expect(isBinary).toBe(false);
    expect(data.toString()).toBe('z'.repeat(10_000));
    peer.send(Buffer.alloc(5000, 7));
    const { value } = await withTimeout(readable.getReader().read());
    expect(value).toEqual(new Uint8Array(5000).fill(7));
    wss.close();
    await withTimeout(wss.closed);
  });
});

describe('WebSocketStream: closing (§7.1.2) and its codes', () => {
  it('close({ closeCode, reason }) sends them; closed resolves with the echo', async () => {
    const { wss, peer } = await streamPair();
    const peerClosed = once<[number, Buffer]>(peer, 'close');
    wss.close({ closeCode: 4000, reason: 'bye' });
    const [code, reason] = await peerClosed;
    expect([code, reason.toString()]).toEqual([4000, 'bye']);
    expect(await withTimeout(wss.closed)).toEqual({ closeCode: 4000, reason: 'bye' });
  });

  it('close() sends no code (1005); a reason alone means 1000', async () => {
    const first = await streamPair();
    first.wss.close();
    expect(await withTimeout(first.wss.closed)).toEqual({ closeCode: 1005, reason: '' });
    const second = await streamPair();
    second.wss.close({ reason: 'only a reason' });
    expect(await withTimeout(second.wss.closed)).toEqual({ closeCode: 1000, reason: 'only a reason' });
  });

  it('close() throws InvalidArgumentError for an invalid code, a long reason or a non-object', async () => {
    const { wss } = await streamPair();
    expect(() => wss.close({ closeCode: 999 })).toThrow(InvalidArgumentError);
    expect(() => wss.close({ closeCode: 5000 })).toThrow(InvalidArgumentError);
    expect(() => wss.close({ closeCode: 1000, reason: 'x'.repeat(124) })).toThrow(InvalidArgumentError);
    expect(() => wss.close(true as never)).toThrow(InvalidArgumentError);
    wss.close();
    await withTimeout(wss.closed);
  });

  it('writer.close() closes cleanly without a code and resolves once the handshake is over', async () => {
    const { wss, peer } = await streamPair();
    const { writable } = await wss.opened;
    const peerClosed = once<[number, Buffer]>(peer, 'close');
    let closedFirst = false;
    void wss.closed.then(() => {
      closedFirst = true;
    });
    await withTimeout(writable.getWriter().close());
    expect(closedFirst).toBe(true); // the handshake was over when the writer's close() resolved
    expect(await wss.closed).toEqual({ closeCode: 1005, reason: '' });
    expect((await peerClosed)[0]).toBe(1005);
  });

  it('readable.cancel() and writer.abort() take their code from a WebSocketCloseError, and ignore other reasons', async () => {
    type Act = (info: Awaited<WebSocketStream['opened']>) => Promise<void>;
    const cases: [Act, number, string][] = [
      [
        (info) => info.readable.cancel(new WebSocketCloseError('', { closeCode: 4001, reason: 'cancelled' })),
        4001,
        'cancelled',
      ],
      [
        (info) => info.writable.abort(new WebSocketCloseError('', { closeCode: 4002, reason: 'aborted' })),
        4002,
        'aborted',
      ],
      [(info) => info.readable.cancel(new Error('no code here')), 1005, ''],
      [
        (info) =>
          info.writable.abort({ closeCode: 4003, reason: 'a plain object is no WebSocketCloseError' }),
        1005,
        '',
      ],
      // An invalid code is ignored, as browsers do: the Close goes without one.
      [(info) => info.readable.cancel(new WebSocketCloseError('', { closeCode: 1006 })), 1005, ''],
    ];
    for (const [act, closeCode, reason] of cases) {
      const { wss, peer } = await streamPair();
      const peerClosed = once<[number, Buffer]>(peer, 'close');
      await act(await wss.opened);
      const [code, text] = await peerClosed;
      expect([code, text.toString()]).toEqual([closeCode, reason]);
      expect(await withTimeout(wss.closed)).toEqual({ closeCode, reason });
    }
  });

  it('a close from the server ends the readable after its messages; writes then reject with InvalidStateError', async () => {
    const { wss, peer } = await streamPair();
    const { readable, writable } = await wss.opened;
    peer.send('last words');
    peer.close(4010, 'server says bye');
    expect(await withTimeout(readAll(readable))).toEqual(['last words']);
    expect(await withTimeout(wss.closed)).toEqual({ closeCode: 4010, reason: 'server says bye' });
    await expect(writable.getWriter().write('too late')).rejects.toBeInstanceOf(InvalidStateError);
  });

  it('a lost connection rejects closed with a WebSocketCloseError (1006) and errors both streams', async () => {
    const { wss, peer } = await streamPair();
    const { readable, writable } = await wss.opened;
    peer.terminate();
    const error = await withTimeout(
      wss.closed.then(
        () => null,
        (e: unknown) => e,
      ),
    );
    expect(error).toBeInstanceOf(WebSocketCloseError);
    expect(error).toMatchObject({ closeCode: 1006, code: ErrorCode.ConnectionLost });
    await expect(readable.getReader().read()).rejects.toBe(error);
    await expect(writable.getWriter().write('x')).rejects.toBe(error);
  });

  it('the server-side pair sees the client close', async () => {
    const listening = await server();
    const serverSide = new Promise<WebSocketStream>((resolve) =>
      listening.server.once('connection', (ws) => resolve(WebSocketStream.from(ws))),
    );
    const wss = new WebSocketStream(listening.url);
    const { writable } = await withTimeout(wss.opened);
    const peer = await serverSide;
    const { readable } = await withTimeout(peer.opened);
    const writer = writable.getWriter();
    await writer.write('one');
    await writer.write('two');
    await writer.close();
    expect(await withTimeout(readAll(readable))).toEqual(['one', 'two']);
    expect(await withTimeout(peer.closed)).toEqual({ closeCode: 1005, reason: '' });
    expect(peer.url).toBe('');
  });
});

describe('WebSocketStream: the opening handshake', () => {
  /** A TCP server that reads the request and never answers it. */
  async function silentServer(): Promise<{ url: string; connections: () => number }> {
    let count = 0;
    const listening = await raw(
      () => {
        count++;
      },
      { handshake: false },
    );
    return { url: listening.url, connections: () => count };
  }

  it('an AbortSignal aborts the handshake: opened and closed reject with its reason', async () => {
    const { url } = await silentServer();
    const controller = new AbortController();
    const wss = new WebSocketStream(url, { signal: controller.signal });
    await sleep(50);
    const reason = new Error('took too long');
    controller.abort(reason);
    await expect(withTimeout(wss.opened)).rejects.toBe(reason);
    await expect(withTimeout(wss.closed)).rejects.toBe(reason);
  });

  it('AbortSignal.timeout() rejects with its TimeoutError', async () => {
    const { url } = await silentServer();
    const wss = new WebSocketStream(url, { signal: AbortSignal.timeout(100) });
    await expect(withTimeout(wss.opened)).rejects.toMatchObject({ name: 'TimeoutError' });
  });

  it('a signal already aborted never connects', async () => {
    const { url, connections } = await silentServer();
    const reason = new Error('no');
    const wss = new WebSocketStream(url, { signal: AbortSignal.abort(reason) });
    await expect(wss.opened).rejects.toBe(reason);
    await expect(wss.closed).rejects.toBe(reason);
    await sleep(50);
    expect(connections()).toBe(0);
  });

  it('a signal aborted after open is ignored', async () => {
    const listening = await server();
    const controller = new AbortController();
    const wss = new WebSocketStream(listening.url, { signal: controller.signal });
    await withTimeout(wss.opened);
    controller.abort();
    await sleep(20);
    const { writable } = await wss.opened;
    await writable.getWriter().write('still open');
    wss.close();
    expect(await withTimeout(wss.closed)).toEqual({ closeCode: 1005, reason: '' });
  });

  it('close() during the handshake rejects opened and closed (WS_ERR_HANDSHAKE_ABORTED)', async () => {
    const { url } = await silentServer();
    const wss = new WebSocketStream(url);
    wss.close();
    await expect(withTimeout(wss.opened)).rejects.toMatchObject({ code: ErrorCode.HandshakeAborted });
    await expect(withTimeout(wss.closed)).rejects.toBeInstanceOf(WebSocketError);
  });

  it('a refused handshake rejects opened with the HandshakeError', async () => {
    const http = createServer((_request, response) => response.writeHead(404).end());
    http.listen(0, '127.0.0.1');
    await once(http, 'listening');
    cleanups.push(() => new Promise((resolve) => http.close(resolve)));
    const { port } = http.address() as AddressInfo;
    const wss = new WebSocketStream(`ws://127.0.0.1:${port}`);
    const error = await withTimeout(
      wss.opened.then(
        () => null,
        (e: unknown) => e,
      ),
    );
    expect(error).toBeInstanceOf(HandshakeError);
    expect(error).toMatchObject({ status: 404 });
    await expect(wss.closed).rejects.toBe(error);
  });

  it('from() on a closed WebSocket rejects both promises; bad high-water marks throw', async () => {
    const { wss, peer } = await streamPair();
    wss.close();
    await withTimeout(wss.closed);
    await once(peer, 'close').catch(() => undefined);
    const late = WebSocketStream.from(peer);
    await expect(late.opened).rejects.toBeInstanceOf(InvalidStateError);
    expect(() => WebSocketStream.from(peer, { readableHighWaterMark: 0 })).toThrow(InvalidArgumentError);
    expect(() => WebSocketStream.from({} as WebSocket)).toThrow(InvalidArgumentError);
  });
});

describe('WebSocketStream: backpressure on the writable', () => {
  it('a peer that does not read holds writes back: ready waits, bufferedAmount stays bounded', async () => {
    // A raw server that accepts the handshake and never reads what follows.
    const listening = await raw((peer) => {
      peer.socket.pause();
    });
    const wss = new WebSocketStream(listening.url, { writableHighWaterMark: 256 * 1024 });
    const { writable } = await withTimeout(wss.opened);
    const writer = writable.getWriter();
    const chunk = new Uint8Array(64 * 1024);
    let written = 0;
    let queued = 0;
    // Write whenever the writer is ready, until it stays not ready (the kernel's buffers are full);
    // bounded in count.
    for (let i = 0; i < 4096; i++) {
      const ready = await Promise.race([writer.ready.then(() => true), sleep(200).then(() => false)]);
      if (!ready) break;
      void writer.write(chunk).then(
        () => {
          written++;
        },
        () => {},
      );
      queued++;
    }
    expect(writer.desiredSize).toBeLessThanOrEqual(0);
    // A write resolves only once its bytes were handed to the socket: what the socket did not take
    // waits in the stream's queue, at most its high-water mark plus the write that crossed it.
    const unwritten = (queued - written) * chunk.length;
    expect(unwritten).toBeGreaterThan(0);
    expect(unwritten).toBeLessThanOrEqual(256 * 1024 + chunk.length);
    // And the total offered is what the kernel's buffers hold plus that: bounded, not 4096 chunks.
    expect(queued).toBeLessThan(4096);
    wss.close();
  });
});

describe('WebSocketStream: a message as a stream of fragments (§5.4)', () => {
  it('writes an AsyncIterable as one binary message, one frame per chunk, the last with FIN', async () => {
    const frames: ParsedFrame[] = [];
    const listening = await raw(async (peer) => {
      while (true) {
        const frame = await peer.readFrame();
        frames.push(frame);
        if (frame.fin) break;
      }
    });
    const wss = new WebSocketStream(listening.url);
    const { writable } = await withTimeout(wss.opened);
    async function* pieces() {
      yield new Uint8Array([1, 2]);
      await sleep(5);
      yield new Uint8Array([3]);
      yield new Uint8Array([4, 5, 6]);
    }
    await withTimeout(writable.getWriter().write(pieces()));
    for (let i = 0; i < 100 && !frames.some((frame) => frame.fin); i++) await sleep(10);
    expect(frames.map((frame) => [frame.opcode, frame.fin, Array.from(frame.payload)])).toEqual([
      [2, false, [1, 2]],
      [0, false, [3]],
      [0, true, [4, 5, 6]],
    ]);
    wss.close();
  });
});

describe('WebSocketStream: streamMessages, each message received as a stream of its pieces', () => {
  /** The server's WebSocket and the client's streamed pair. */
  async function streamed(
    serverOptions: Parameters<typeof listen>[0] = {},
    clientOptions: ConstructorParameters<typeof WebSocketStream>[1] = {},
  ) {
    const listening = await server(serverOptions);
    const accepted = nextConnection(listening.server);
    const wss = new WebSocketStream<StreamedMessage>(listening.url, {
      ...clientOptions,
      streamMessages: true,
    });
    const peer = await accepted;
    cleanups.push(() => closeQuietly(peer));
    const { readable } = await withTimeout(wss.opened);
    return { wss, peer, reader: readable.getReader() };
  }

  it('yields { binary, data } per message, data piece by piece; text decodes across a split character', async () => {
    const { wss, peer, reader } = await streamed();
    const euro = Buffer.from('€'); // 3 bytes, split between two fragments
    peer.send(Buffer.concat([Buffer.from('price: '), euro.subarray(0, 1)]), { binary: false, fin: false });
    peer.send(euro.subarray(1), { fin: false });
    peer.send(Buffer.from('5'), { fin: true });
    peer.send(Buffer.from([1, 2]), { fin: false });
    peer.send(Buffer.from([3]), { fin: true });
    const text = (await withTimeout(reader.read())).value!;
    expect(text.binary).toBe(false);
    expect((await withTimeout(readAll(text.data as ReadableStream<string>))).join('')).toBe('price: €5');
    const binary = (await withTimeout(reader.read())).value!;
    expect(binary.binary).toBe(true);
    const pieces = await withTimeout(readAll(binary.data as ReadableStream<Uint8Array>));
    expect(pieces.map((piece) => Array.from(piece))).toEqual([[1, 2], [3]]);
    wss.close();
    await withTimeout(wss.closed);
    expect((await withTimeout(reader.read())).done).toBe(true);
  });

  it('cancelling a message drops the rest of it; the next message comes', async () => {
    const { wss, peer, reader } = await streamed();
    peer.send('first part ', { fin: false });
    const first = (await withTimeout(reader.read())).value!;
    await first.data.cancel();
    peer.send('rest of the first', { fin: true });
    peer.send('second');
    const second = (await withTimeout(reader.read())).value!;
    expect(await withTimeout(readAll(second.data as ReadableStream<string>))).toEqual(['second']);
    wss.close();
    await withTimeout(wss.closed);
  });

  it('maxPayload still holds: a streamed message past it fails the connection with 1009', async () => {
    const { wss, peer, reader } = await streamed({}, { maxPayload: 1000 });
    const peerClosed = once<[number, Buffer]>(peer, 'close');
    peer.send(Buffer.alloc(600), { fin: false });
    const message = (await withTimeout(reader.read())).value!;
    const pieces = (message.data as ReadableStream<Uint8Array>).getReader();
    expect((await withTimeout(pieces.read())).value).toHaveLength(600);
    peer.send(Buffer.alloc(600), { fin: true });
    const error = await withTimeout(
      wss.closed.then(
        () => null,
        (e: unknown) => e,
      ),
    );
    expect(error).toBeInstanceOf(WebSocketCloseError);
    expect((error as WebSocketCloseError).cause).toMatchObject({
      code: ErrorCode.MessageTooBig,
      closeCode: 1009,
    });
    await expect(pieces.read()).rejects.toBe(error);
    expect((await peerClosed)[0]).toBe(1009);
  });

  it('a compressed message (permessage-deflate) comes inflated piece by piece (RFC 7692 §7.2.2), not whole', async () => {
    const { wss, peer, reader } = await streamed({ perMessageDeflate: true }, { perMessageDeflate: true });
    // Eight compressed fragments of one text message, in the same DEFLATE context (RFC 7692 §7.2.1).
    const parts = Array.from({ length: 8 }, (_, i) => `${i}:${'y€'.repeat(20_000)}`);
    for (const [i, part] of parts.entries()) peer.send(part, { fin: i === parts.length - 1 });
    peer.send('after');
    const message = (await withTimeout(reader.read())).value!;
    expect(message.binary).toBe(false);
    const pieces = await withTimeout(readAll(message.data as ReadableStream<string>));
    expect(pieces.length).toBeGreaterThanOrEqual(8);
    expect(pieces.join('')).toBe(parts.join(''));
    const next = (await withTimeout(reader.read())).value!;
    expect(await withTimeout(readAll(next.data as ReadableStream<string>))).toEqual(['after']);
    wss.close();
    await withTimeout(wss.closed);
  });

  it('a compressed message that inflates past maxPayload fails with 1009 after the pieces within it', async () => {
    const { wss, peer, reader } = await streamed(
      { perMessageDeflate: true },
      { perMessageDeflate: true, maxPayload: 1 << 20 },
    );
    const peerClosed = once(peer, 'close');
    // 64 KiB of zeros compress to a few dozen bytes: 32 of them inflate to 2 MiB.
    for (let i = 0; i < 32; i++) peer.send(Buffer.alloc(64 * 1024), { fin: i === 31 });
    const message = (await withTimeout(reader.read())).value!;
    const pieces = (message.data as ReadableStream<Uint8Array>).getReader();
    let received = 0;
    const failure = await withTimeout(
      (async () => {
        for (;;) {
          const { value, done } = await pieces.read();
          if (done) return null;
          received += value.length;
        }
      })().catch((error: unknown) => error),
    );
    expect(failure).toBeInstanceOf(WebSocketCloseError);
    expect((failure as WebSocketCloseError).cause).toMatchObject({ closeCode: 1009 });
    expect(received).toBeGreaterThan(0);
    expect(received).toBeLessThanOrEqual(1 << 20);
    expect((await peerClosed)[0]).toBe(1009);
    await wss.closed.catch(() => {});
  });

  it('the server side streams what a client uploads as a stream: round trip of a 3 MiB message', async () => {
    const listening = await server();
    const received = new Promise<{ binary: boolean; size: number; pieces: number; sum: number }>(
      (resolve, reject) => {
        listening.server.once('connection', (ws) => {
          const pair = WebSocketStream.from<StreamedMessage>(ws, { streamMessages: true });
          void (async () => {
            const { readable } = await pair.opened;
            const { value } = await readable.getReader().read();
            let size = 0;
            let pieces = 0;
            let sum = 0;
            for await (const piece of value!.data as ReadableStream<Uint8Array>) {
              size += piece.length;
              pieces++;
              for (const byte of piece) sum = (sum + byte) % 65521;
            }
            resolve({ binary: value!.binary, size, pieces, sum });
          })().catch(reject);
        });
      },
    );
    const wss = new WebSocketStream(listening.url);
    const { writable } = await withTimeout(wss.opened);
    let expectedSum = 0;
    async function* upload() {
      for (let i = 0; i < 48; i++) {
        const chunk = Buffer.alloc(64 * 1024, i);
        expectedSum = (expectedSum + ((i * chunk.length) % 65521)) % 65521;
        yield chunk;
      }
    }
    await withTimeout(writable.getWriter().write(upload()));
    const result = await withTimeout(received);
    expect(result).toMatchObject({ binary: true, size: 3 * 1024 * 1024, sum: expectedSum });
    expect(result.pieces).toBeGreaterThan(1);
    wss.close();
    await withTimeout(wss.closed);
  });
});

describe('WebSocketStream: edges', () => {
  it('close() while the readable is full and paused still completes the handshake (reading resumes)', async () => {
    const { wss, peer } = await streamPair({}, { readableHighWaterMark: 2 });
    await wss.opened; // nobody reads: the queue fills and the socket is paused
    for (let i = 0; i < 20; i++) peer.send(`message ${i}`);
    await sleep(50);
    wss.close({ closeCode: 4100, reason: 'enough' });
    // Well within the 30 s close timeout: the peer's answering Close was read behind the messages.
    expect(await withTimeout(wss.closed, 2000)).toEqual({ closeCode: 4100, reason: 'enough' });
  });

  it('a protocol violation of the peer rejects closed with 1006, its ProtocolError as the cause', async () => {
    // A raw server that answers the handshake, then sends a text frame that is not UTF-8.
    const listening = await raw((peer) => {
      peer.socket.write(Buffer.from([0x81, 0x02, 0xc3, 0x28]));
    });
    const wss = new WebSocketStream(listening.url);
    const { readable } = await withTimeout(wss.opened);
    const error = await withTimeout(
      wss.closed.then(
        () => null,
        (e: unknown) => e,
      ),
    );
    expect(error).toMatchObject({ closeCode: 1006 });
    expect((error as WebSocketCloseError).cause).toMatchObject({ closeCode: 1007 });
    await expect(readable.getReader().read()).rejects.toBe(error);
  });

  it('writes a Node Readable and a text generator as one message each', async () => {
    const { wss, peer } = await streamPair();
    const { writable } = await wss.opened;
    const messages = new Promise<[Buffer, boolean][]>((resolve) => {
      const got: [Buffer, boolean][] = [];
      peer.on('message', (data: Buffer, isBinary: boolean) => {
        got.push([data, isBinary]);
        if (got.length === 2) resolve(got);
      });
    });
    const writer = writable.getWriter();
    await writer.write(Readable.from([Buffer.from('ab'), Buffer.from('cd')]));
    async function* text() {
      yield 'hello, ';
      yield 'wörld';
    }
    await writer.write(text());
    const [first, second] = await withTimeout(messages);
    expect([first![0].toString(), first![1]]).toEqual(['abcd', true]);
    expect([second![0].toString(), second![1]]).toEqual(['hello, wörld', false]);
    wss.close();
    await withTimeout(wss.closed);
  });

  it('a source that throws cuts the message short: the write rejects and the connection closes with 1011', async () => {
    const { wss, peer } = await streamPair();
    const { writable } = await wss.opened;
    const peerClosed = once<[number, Buffer]>(peer, 'close');
    const failure = new Error('the disk went away');
    async function* failing() {
      yield new Uint8Array(10);
      throw failure;
    }
    await expect(writable.getWriter().write(failing())).rejects.toBe(failure);
    expect((await peerClosed)[0]).toBe(1011);
    expect(await withTimeout(wss.closed)).toMatchObject({ closeCode: 1011 });
  });
});

describe('WebSocketStream over HTTP/2 (RFC 8441)', () => {
  it('the client pair works over an extended CONNECT stream, backpressure and all', async () => {
    const fixture = await startH2();
    cleanups.push(() => fixture.close());
    const wss = new WebSocketStream(fixture.url, { http2: 'require', ca: cert });
    const { readable, writable } = await withTimeout(wss.opened);
    expect(fixture.counts.sessions).toBe(1);
    const writer = writable.getWriter();
    const reader = readable.getReader();
    await writer.write('over h2');
    expect((await withTimeout(reader.read())).value).toBe('over h2');
    async function* pieces() {
      for (let i = 0; i < 4; i++) yield new Uint8Array(100_000).fill(i);
    }
    await writer.write(pieces());
    const echoed = (await withTimeout(reader.read())).value as Uint8Array;
    expect(echoed.length).toBe(400_000);
    expect([echoed[0], echoed[399_999]]).toEqual([0, 3]);
    wss.close({ closeCode: 1000, reason: 'h2 done' });
    expect(await withTimeout(wss.closed)).toEqual({ closeCode: 1000, reason: 'h2 done' });
  });
});
