/**
 * permessage-deflate codec failures that are not the peer's fault: a zlib error while compressing
 * (issue 12 follow-up). zlib reports errors as an 'error' event on the stream; without a listener
 * that is an uncaught exception that takes the process down. The stream here is a real DeflateRaw,
 * made through the codec's internal `createDeflateRaw` seam and failed the way zlib fails one
 * (destroy with an error) once it has begun a message.
 */
import { connect, createServer, type Server, type Socket } from 'node:net';
import { createDeflateRaw, createInflateRaw, type DeflateRaw, type ZlibOptions } from 'node:zlib';
import { afterEach, describe, expect, it } from 'vitest';
import { ErrorCode, ProtocolError } from '../../../src/errors.ts';
import { PerMessageDeflateCodec } from '../../../src/extensions/permessage-deflate/codec.ts';
import { ConcurrencyLimiter } from '../../../src/extensions/permessage-deflate/limiter.ts';
import type { DeflateParameters } from '../../../src/extensions/permessage-deflate/negotiation.ts';
import { attachSocket } from '../../../src/websocket/internal.ts';
import { WebSocket } from '../../../src/websocket/websocket.ts';

const takeover: DeflateParameters = {
  serverNoContextTakeover: false,
  clientNoContextTakeover: false,
  serverMaxWindowBits: 15,
  clientMaxWindowBits: 15,
};

/** A real deflate stream that fails, as zlib does, right after its first write. */
function failingDeflate(options: ZlibOptions): DeflateRaw {
  const stream = createDeflateRaw(options);
  const write = stream.write.bind(stream) as (...args: unknown[]) => boolean;
  let failed = false;
  stream.write = ((...args: unknown[]) => {
    const result = write(...args);
    if (!failed) {
      failed = true;
      process.nextTick(() => stream.destroy(new Error('zlib: stream error')));
    }
    return result;
  }) as DeflateRaw['write'];
  return stream;
}

function failingCodec(limiter = new ConcurrencyLimiter(1)) {
  return new PerMessageDeflateCodec({
    parameters: takeover,
    role: 'server',
    maxPayload: 1 << 20,
    limiter,
    createDeflateRaw: failingDeflate,
  });
}

const compress = (c: PerMessageDeflateCodec, data: Uint8Array) =>
  new Promise<Buffer>((resolve, reject) =>
    c.compress(data, true, (e, out) => (e ? reject(e) : resolve(out!))),
  );

describe('a zlib error while compressing', () => {
  it('fails that job with a typed error (1011), frees its limiter slot, and the next job gets a new stream', async () => {
    const limiter = new ConcurrencyLimiter(1);
    const codec = failingCodec(limiter);
    const error = await compress(codec, Buffer.from('Hello')).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ProtocolError);
    expect((error as ProtocolError).code).toBe(ErrorCode.CompressionFailed);
    expect((error as ProtocolError).closeCode).toBe(1011);
    expect((error as ProtocolError).cause).toBeInstanceOf(Error);
    // The slot was released: a job of another codec on the same limiter (one slot) still runs.
    const other = new PerMessageDeflateCodec({
      parameters: takeover,
      role: 'server',
      maxPayload: 1 << 20,
      limiter,
    });
    expect((await compress(other, Buffer.from('Hello'))).toString('hex')).toBe('f248cdc9c90700');
    // The failed stream was dropped: the codec's next message starts a new (again failing) stream.
    await expect(compress(codec, Buffer.from('Hello'))).rejects.toBeInstanceOf(ProtocolError);
  });
});

describe('zlib cannot make a stream (it throws, as it does with "Init error" when memory runs out)', () => {
  // Options the server and client validate up front; given to the codec directly here only so that
  // zlib's constructor throws the way it does under memory pressure (Z_MEM_ERROR).
  const throwing = { level: 99 };

  it('decompress and compress call back with a typed 1011 error and free the limiter slot', async () => {
    const limiter = new ConcurrencyLimiter(1);
    const broken = new PerMessageDeflateCodec({
      parameters: takeover,
      role: 'server',
      maxPayload: 1 << 20,
      limiter,
      zlibInflateOptions: throwing,
      zlibDeflateOptions: { memLevel: 99 },
    });
    // Hold the only slot so that the jobs start later, from the limiter's microtask, where a throw
    // would be an uncaught exception.
    let releaseHeld!: () => void;
    limiter.run((release) => {
      releaseHeld = release;
    });
    const inflated = new Promise<unknown>((resolve) =>
      broken.decompress([Buffer.from('f248cdc9c90700', 'hex')], (error) => resolve(error)),
    );
    const compressed = new Promise<unknown>((resolve) =>
      broken.compress(Buffer.from('Hello'), true, (error) => resolve(error)),
    );
    releaseHeld();
    for (const error of [await inflated, await compressed]) {
      expect(error).toBeInstanceOf(ProtocolError);
      expect((error as ProtocolError).code).toBe(ErrorCode.CompressionFailed);
      expect((error as ProtocolError).closeCode).toBe(1011);
      expect((error as ProtocolError).cause).toBeInstanceOf(RangeError);
    }
    // Both slots' worth of work is done: a healthy codec on the same one-slot limiter still runs.
    const healthy = new PerMessageDeflateCodec({
      parameters: takeover,
      role: 'server',
      maxPayload: 1 << 20,
      limiter,
    });
    expect((await compress(healthy, Buffer.from('Hello'))).toString('hex')).toBe('f248cdc9c90700');
  });
});

describe('zlib cannot make the new stream a message after a final block needs (RFC 7692 §7.2.3.4)', () => {
  it('that message fails with 1011 instead of an uncaught exception, and the slot is freed', async () => {
    const limiter = new ConcurrencyLimiter(1);
    let made = 0;
    const codec = new PerMessageDeflateCodec({
      parameters: takeover,
      role: 'server',
      maxPayload: 1 << 20,
      limiter,
      createInflateRaw: (options: ZlibOptions) => {
        if (++made > 1) throw new RangeError('zlib: Init error');
        return createInflateRaw(options);
      },
    });
    // A stored block "Hello", then a final empty stored block that our 00 00 ff ff completes: the
    // stream ends exactly at the end of the message, so the next one needs a new stream.
    const storedThenFinal = Buffer.from('000500faff48656c6c6f01', 'hex');
    const first = await new Promise<unknown>((resolve) =>
      codec.decompress([storedThenFinal], (error, out) => resolve(error ?? String(out))),
    );
    expect(first).toBe('Hello');
    const second = await new Promise<unknown>((resolve) =>
      codec.decompress([storedThenFinal], (error) => resolve(error)),
    );
    expect((second as ProtocolError).code).toBe(ErrorCode.CompressionFailed);
    expect((second as ProtocolError).closeCode).toBe(1011);
    const healthy = new PerMessageDeflateCodec({
      parameters: takeover,
      role: 'server',
      maxPayload: 1 << 20,
      limiter,
    });
    expect((await compress(healthy, Buffer.from('Hello'))).toString('hex')).toBe('f248cdc9c90700');
  });
});

describe('WebSocket: a message that cannot be compressed', () => {
  let server: Server | undefined;
  let client: Socket | undefined;
  afterEach(async () => {
    client?.destroy();
    await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
    server = undefined;
  });

  it("fails the connection with 1011: the send callback and 'error' get WS_ERR_COMPRESSION_FAILED", async () => {
    const ws = new WebSocket();
    server = createServer((socket) => {
      ws[attachSocket](socket, new Uint8Array(0), {
        role: 'server',
        protocol: '',
        extensions: 'permessage-deflate',
        maxPayload: 1 << 20,
        closeTimeout: 1000,
        deflate: { codec: failingCodec(), threshold: 0 },
      });
    });
    await new Promise<void>((resolve) => server!.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as { port: number };
    const received: Buffer[] = [];
    client = connect(port, '127.0.0.1');
    client.on('data', (chunk: Buffer) => received.push(chunk));
    await new Promise<void>((resolve) => client!.once('connect', resolve));
    await new Promise<void>((resolve) => setTimeout(resolve, 20));
    const errors: Error[] = [];
    ws.on('error', (error) => errors.push(error));
    const closed = new Promise<number>((resolve) => ws.on('close', (code) => resolve(code)));
    const sent = new Promise<Error | undefined>((resolve) => ws.send('Hello', (error) => resolve(error)));
    const callbackError = await sent;
    expect((callbackError as ProtocolError | undefined)?.code).toBe(ErrorCode.CompressionFailed);
    expect(errors.map((e) => (e as ProtocolError).code)).toEqual([ErrorCode.CompressionFailed]);
    await closed;
    // §7.4.1: 1011, "an unexpected condition that prevented it from fulfilling the request". The
    // server's Close frame is unmasked: 88 02 03 f3; no data frame went out before it.
    await new Promise<void>((resolve) => setTimeout(resolve, 20));
    expect(Buffer.concat(received).toString('hex')).toBe('880203f3');
  });

  it('a send whose compression the closing connection cut short calls back with WS_ERR_CONNECTION_LOST', async () => {
    const ws = new WebSocket();
    const codec = new PerMessageDeflateCodec({
      parameters: takeover,
      role: 'server',
      maxPayload: 1 << 24,
      limiter: new ConcurrencyLimiter(1),
    });
    server = createServer((socket) => {
      ws[attachSocket](socket, new Uint8Array(0), {
        role: 'server',
        protocol: '',
        extensions: 'permessage-deflate',
        maxPayload: 1 << 24,
        closeTimeout: 1000,
        deflate: { codec, threshold: 0 },
      });
    });
    await new Promise<void>((resolve) => server!.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as { port: number };
    client = connect(port, '127.0.0.1');
    client.resume();
    await new Promise<void>((resolve) => client!.once('connect', resolve));
    await new Promise<void>((resolve) => setTimeout(resolve, 20));
    const sent = new Promise<Error | undefined>((resolve) =>
      ws.send(Buffer.alloc(8 << 20, 1), (error) => resolve(error)),
    );
    ws.terminate(); // while zlib still works on the 8 MiB message
    const error = await sent;
    expect(error).toBeInstanceOf(Error);
    expect((error as ProtocolError).code).toBe(ErrorCode.ConnectionLost);
  });
});
