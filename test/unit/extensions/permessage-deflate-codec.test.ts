import { deflateRawSync, constants as zlibConstants } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { ErrorCode, ProtocolError } from '../../../src/errors.ts';
import { PerMessageDeflateCodec } from '../../../src/extensions/permessage-deflate/codec.ts';
import { ConcurrencyLimiter } from '../../../src/extensions/permessage-deflate/limiter.ts';
import type { DeflateParameters } from '../../../src/extensions/permessage-deflate/negotiation.ts';

const takeover: DeflateParameters = {
  serverNoContextTakeover: false,
  clientNoContextTakeover: false,
  serverMaxWindowBits: 15,
  clientMaxWindowBits: 15,
};

function codec(parameters = takeover, maxPayload = 1 << 24, role: 'client' | 'server' = 'server') {
  return new PerMessageDeflateCodec({ parameters, role, maxPayload, limiter: new ConcurrencyLimiter(10) });
}

const compress = (c: PerMessageDeflateCodec, data: Uint8Array, fin = true) =>
  new Promise<Buffer>((resolve, reject) =>
    c.compress(data, fin, (e, out) => (e ? reject(e) : resolve(out!))),
  );
const decompress = (c: PerMessageDeflateCodec, data: Uint8Array) =>
  new Promise<Buffer>((resolve, reject) => c.decompress([data], (e, out) => (e ? reject(e) : resolve(out!))));

describe('RFC 7692 §7.2 compression', () => {
  it('compresses "Hello" as in §7.2.3.1 (strips 00 00 ff ff)', async () => {
    expect((await compress(codec(), Buffer.from('Hello'))).toString('hex')).toBe('f248cdc9c90700');
  });

  it('decompresses the §7.2.3.1 and §7.2.3.3 examples', async () => {
    expect((await decompress(codec(), Buffer.from('f248cdc9c90700', 'hex'))).toString()).toBe('Hello');
    // §7.2.3.3: "Hello" in a DEFLATE block with no compression.
    expect((await decompress(codec(), Buffer.from('000500faff48656c6c6f', 'hex'))).toString()).toBe('Hello');
  });

  it('with context takeover the second identical message is shorter (§7.2.3.2)', async () => {
    const sender = codec();
    const first = await compress(sender, Buffer.from('Hello'));
    const second = await compress(sender, Buffer.from('Hello'));
    expect(second.toString('hex')).toBe('f200110000');
    expect(second.length).toBeLessThan(first.length);
    const receiver = codec(takeover, 1 << 20, 'client');
    expect((await decompress(receiver, first)).toString()).toBe('Hello');
    expect((await decompress(receiver, second)).toString()).toBe('Hello');
  });

  it('without context takeover every message compresses on its own (§7.1.1)', async () => {
    const sender = codec({ ...takeover, serverNoContextTakeover: true });
    const first = await compress(sender, Buffer.from('Hello'));
    const second = await compress(sender, Buffer.from('Hello'));
    expect(second.equals(first)).toBe(true);
  });

  it('round-trips many messages of many sizes in order', async () => {
    const sender = codec();
    const receiver = codec(takeover, 1 << 24, 'client');
    for (const size of [0, 1, 100, 1000, 65536, 300000]) {
      const data = Buffer.alloc(size, size % 251);
      expect((await decompress(receiver, await compress(sender, data))).equals(data)).toBe(true);
    }
  });

  it('inflates several queued messages one at a time, in order', async () => {
    const sender = codec();
    const receiver = codec(takeover, 1 << 24, 'client');
    const inputs = ['one', 'two'.repeat(1000), 'three'].map((s) => Buffer.from(s));
    const compressed = [];
    for (const input of inputs) compressed.push(await compress(sender, input));
    const outputs = await Promise.all(compressed.map((c) => decompress(receiver, c)));
    expect(outputs.map(String)).toEqual(inputs.map(String));
  });
});

describe('RFC 7692 §7.2.3.4 a DEFLATE block with BFINAL set', () => {
  // "Hello" in a final block, then the 0x00 header octet of the empty stored block §7.2.1 appends.
  const helloFinal = Buffer.from('f348cdc9c90700' + '00', 'hex');

  it('decompresses the §7.2.3.4 example, and with context takeover the next message starts a new stream', async () => {
    const receiver = codec();
    expect((await decompress(receiver, helloFinal)).toString()).toBe('Hello');
    // The §7.2.3.1 "Hello" is a fresh stream's first message; the §7.2.3.2 one continues it.
    expect((await decompress(receiver, Buffer.from('f248cdc9c90700', 'hex'))).toString()).toBe('Hello');
    expect((await decompress(receiver, Buffer.from('f200110000', 'hex'))).toString()).toBe('Hello');
    expect((await decompress(receiver, helloFinal)).toString()).toBe('Hello');
    expect((await decompress(receiver, helloFinal)).toString()).toBe('Hello');
  });

  it('accepts a final block with nothing after it, and a stream that ends exactly at the trailer', async () => {
    const receiver = codec();
    expect((await decompress(receiver, Buffer.from('f348cdc9c90700', 'hex'))).toString()).toBe('Hello');
    // 00 05 00 fa ff "Hello": a stored block; then 01: a final empty stored block (00 00 ff ff ours).
    const storedThenFinal = Buffer.from('000500faff48656c6c6f' + '01', 'hex');
    expect((await decompress(receiver, storedThenFinal)).toString()).toBe('Hello');
    expect((await decompress(receiver, storedThenFinal)).toString()).toBe('Hello');
    expect((await decompress(receiver, helloFinal)).toString()).toBe('Hello');
  });

  it('fails data after the final block (a second stream in one message) with 1007', async () => {
    const error = await decompress(
      codec(),
      Buffer.concat([helloFinal, Buffer.from('f248cdc9c90700', 'hex')]),
    ).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ProtocolError);
    expect((error as ProtocolError).closeCode).toBe(1007);
    expect((error as ProtocolError).code).toBe(ErrorCode.InvalidCompressedData);
    expect((error as ProtocolError).message).toMatch(/after the final DEFLATE block/);
  });
});

describe('RFC 7692 §8 bounded and validated inflation', () => {
  it('stops a zip bomb at maxPayload with 1009, without inflating it all', async () => {
    const bomb = deflateRawSync(Buffer.alloc(50 * 1024 * 1024), { finishFlush: zlibConstants.Z_SYNC_FLUSH });
    const error = await decompress(codec(takeover, 1024 * 1024), bomb).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ProtocolError);
    expect((error as ProtocolError).closeCode).toBe(1009);
    expect((error as ProtocolError).code).toBe(ErrorCode.MessageTooBig);
  });

  it('fails corrupt data with 1007', async () => {
    const error = await decompress(codec(), Buffer.from('ffffffffff', 'hex')).catch((e: unknown) => e);
    expect((error as ProtocolError).closeCode).toBe(1007);
    expect((error as ProtocolError).code).toBe(ErrorCode.InvalidCompressedData);
  });
});

describe('jobs queued from inside a callback', () => {
  it('decompress called from inside done runs each job exactly once, in order', async () => {
    const sender = codec();
    const inputs = ['one', 'two'.repeat(20), 'three', 'four'];
    const compressed: Buffer[] = [];
    for (const input of inputs) compressed.push(await compress(sender, Buffer.from(input)));
    const receiver = codec(takeover, 1 << 20, 'client');
    const results: string[] = [];
    const errors: unknown[] = [];
    await new Promise<void>((resolve) => {
      const next = (index: number) =>
        receiver.decompress([compressed[index]!], (error, out) => {
          if (error) errors.push(error);
          results.push(String(out));
          // The WebSocket hands the codec its next message from inside this callback.
          if (index + 1 < compressed.length) next(index + 1);
          else setTimeout(resolve, 50); // a job started twice would call back again meanwhile
        });
      next(0);
    });
    expect(errors).toEqual([]);
    expect(results).toEqual(inputs);
  });

  it('compress called from inside its callback runs each job exactly once, in order', async () => {
    const sender = codec();
    const inputs = ['one', 'two'.repeat(20), 'three', 'four'];
    const outputs: Buffer[] = [];
    await new Promise<void>((resolve, reject) => {
      const next = (index: number) =>
        sender.compress(Buffer.from(inputs[index]!), true, (error, out) => {
          if (error) return reject(error);
          outputs.push(out!);
          if (index + 1 < inputs.length) next(index + 1);
          else setTimeout(resolve, 50);
        });
      next(0);
    });
    const receiver = codec(takeover, 1 << 20, 'client');
    const results: string[] = [];
    for (const out of outputs) results.push(String(await decompress(receiver, out)));
    expect(results).toEqual(inputs);
  });

  it('compress calls made back to back without waiting run one at a time, in order', async () => {
    const sender = codec();
    const inputs = ['one', 'two'.repeat(20), 'three', 'four'.repeat(10)];
    const outputs = await Promise.all(inputs.map((input) => compress(sender, Buffer.from(input))));
    const receiver = codec(takeover, 1 << 20, 'client');
    const results: string[] = [];
    for (const out of outputs) results.push(String(await decompress(receiver, out)));
    expect(results).toEqual(inputs);
  });
});

describe('RFC 7692 §7.2.2 piece by piece (streamed messages)', () => {
  const piece = (c: PerMessageDeflateCodec, data: Uint8Array, fin: boolean) =>
    new Promise<Buffer>((resolve, reject) =>
      c.decompressPiece(data, fin, (e, out) => (e ? reject(e) : resolve(out!))),
    );

  it('inflates a message cut anywhere into pieces, the trailer after the last, and keeps the context for the next', async () => {
    const sender = codec(takeover, 1 << 24, 'client');
    const receiver = codec();
    const text = 'piece by piece, '.repeat(4000);
    const compressed = await compress(sender, Buffer.from(text));
    const cuts = [1, compressed.length >> 1, compressed.length - 1];
    const outputs: Buffer[] = [];
    let from = 0;
    for (const [i, to] of [...cuts, compressed.length].entries()) {
      outputs.push(await piece(receiver, compressed.subarray(from, to), i === cuts.length));
      from = to;
    }
    expect(Buffer.concat(outputs).toString()).toBe(text);
    // The next message, whole, continues the same window (§7.2.3.2): it only inflates with it.
    const again = await compress(sender, Buffer.from(text));
    expect(again.length).toBeLessThan(compressed.length);
    expect((await decompress(receiver, again)).toString()).toBe(text);
  });

  it('counts maxPayload over the whole message: a later piece that passes it fails with 1009', async () => {
    const sender = codec(takeover, 1 << 24, 'client');
    const receiver = codec(takeover, 100_000);
    const first = await compress(sender, Buffer.alloc(60_000), false);
    const last = await compress(sender, Buffer.alloc(60_000), true);
    expect((await piece(receiver, first, false)).length).toBe(60_000);
    const error = await piece(receiver, last, true).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ProtocolError);
    expect((error as ProtocolError).closeCode).toBe(1009);
  });

  it('fails with 1007 on data after the final DEFLATE block inside a message', async () => {
    const final = deflateRawSync(Buffer.from('end'), { finishFlush: zlibConstants.Z_FINISH });
    const receiver = codec();
    expect((await piece(receiver, final, false)).toString()).toBe('end');
    const error = await piece(receiver, Buffer.from('f248cdc9c90700', 'hex'), true).catch((e: unknown) => e);
    expect((error as ProtocolError).closeCode).toBe(1007);
    expect((error as ProtocolError).code).toBe(ErrorCode.InvalidCompressedData);
  });
});
