/**
 * Codec micro-benchmark: the pure core's decoder and encoder alone, beside `ws`'s Receiver and
 * Sender (both public exports of `ws`), on 16 B, 1 KiB, 64 KiB and 1 MiB binary payloads.
 *
 * - decode (masked, client→server): one masked binary frame is fed per call.
 *   `sockwire FrameDecoder` = `push()` + `next()` until null (frame parts, no message assembly);
 *   `sockwire Connection` = the core's `push()` + `next()` until null (one `message` event: this is
 *   what a server does per received message, and what `ws Receiver` does per `write()`, which
 *   emits `message` synchronously). Frames up to 64 KiB arrive as one chunk; the 1 MiB frame arrives
 *   in 64 KiB chunks, as a socket delivers it (both sides then join the chunks into one message).
 *   Payloads are binary so that neither side validates UTF-8. Both sides unmask in place, so the
 *   same input buffer is fed again and again (its payload flips between masked and unmasked, which
 *   costs the same).
 * - encode (unmasked, server→client): `encodeFrame()` vs `Sender.frame()`, both returning
 *   `[header, payload]` without copying the payload; and the masked client encode (a masked copy).
 *
 * Reports MB/s (payload bytes, 10^6) and ops/s; the runner prints sockwire ÷ ws ratios.
 */
import { createRequire } from 'node:module';
import { importDist, type MicroResult, measure, requireWsPureJs, SIZES } from './harness.ts';

interface FramePartLike {
  readonly data: Uint8Array;
  readonly last: boolean;
}
interface DecoderLike {
  push(chunk: Uint8Array): void;
  next(): FramePartLike | null;
}
interface ConnectionLike {
  push(chunk: Uint8Array): void;
  next(): { type: string } | null;
}
type EncodeFn = (opcode: number, payload: Uint8Array, options?: { maskKey?: Uint8Array }) => Uint8Array[];

interface WsReceiver {
  write(chunk: Buffer): boolean;
  on(event: 'message', cb: (data: Buffer, isBinary: boolean) => void): unknown;
  on(event: 'error', cb: (err: Error) => void): unknown;
}
interface WsModule {
  Receiver: new (opts: Record<string, unknown>) => WsReceiver;
  Sender: {
    frame(data: Buffer, opts: Record<string, unknown>): Buffer[];
  };
}

const OPCODE_BINARY = 2;
const MASK_KEY = Buffer.from([0x37, 0xfa, 0x21, 0x3d]);
const CHUNK = 64 * 1024;

/** A masked binary frame of `size` bytes, as a client sends it (§5.2, §5.3), independent of both libraries. */
export function maskedFrame(size: number): Buffer {
  const ext = size < 126 ? 0 : size < 65536 ? 2 : 8;
  const head = 2 + ext + 4;
  const out = Buffer.alloc(head + size, 0);
  out[0] = 0x80 | OPCODE_BINARY;
  if (ext === 0) out[1] = 0x80 | size;
  else if (ext === 2) {
    out[1] = 0x80 | 126;
    out.writeUInt16BE(size, 2);
  } else {
    out[1] = 0x80 | 127;
    out.writeUInt32BE(0, 2);
    out.writeUInt32BE(size, 6);
  }
  MASK_KEY.copy(out, 2 + ext);
  for (let i = 0; i < size; i++) out[head + i] = (i & 0xff) ^ (MASK_KEY[i & 3] as number);
  return out;
}

/** The frame as the chunks a socket would deliver: whole up to 64 KiB, else 64 KiB pieces. */
function chunksOf(frame: Buffer): Buffer[] {
  if (frame.length <= CHUNK + 14) return [frame];
  const out: Buffer[] = [];
  for (let i = 0; i < frame.length; i += CHUNK) out.push(frame.subarray(i, i + CHUNK));
  return out;
}

function withOps(r: Omit<MicroResult, 'opsPerSec'>): MicroResult {
  return { ...r, opsPerSec: (r.MBps * 1e6) / r.size };
}

export async function runCodec(ms: number, note: (m: string) => void): Promise<MicroResult[]> {
  const dec = await importDist<{ FrameDecoder?: new (o: Record<string, unknown>) => DecoderLike }>(
    'frame/decoder.js',
  );
  const enc = await importDist<{ encodeFrame?: EncodeFn }>('frame/encoder.js');
  const conn = await importDist<{ Connection?: new (o: Record<string, unknown>) => ConnectionLike }>(
    'connection/connection.js',
  );
  const FrameDecoder = typeof dec === 'string' ? undefined : dec.FrameDecoder;
  const encodeFrame = typeof enc === 'string' ? undefined : enc.encodeFrame;
  const Connection = typeof conn === 'string' ? undefined : conn.Connection;
  if (FrameDecoder === undefined) note(`codec: sockwire FrameDecoder skipped — ${String(dec)}`);
  if (encodeFrame === undefined) note(`codec: sockwire encodeFrame skipped — ${String(enc)}`);
  if (Connection === undefined) note(`codec: sockwire Connection skipped — ${String(conn)}`);

  const require = createRequire(import.meta.url);
  const ws = require('ws') as WsModule;
  const wsPureJs = requireWsPureJs<WsModule>(require, 'ws');
  const maxPayload = 64 * 1024 * 1024;
  const out: MicroResult[] = [];
  let sink = 0;

  for (const size of SIZES) {
    const frame = maskedFrame(size);
    const chunks = chunksOf(frame);
    const group = 'codec decode (masked, client→server)';

    if (FrameDecoder !== undefined) {
      const d = new FrameDecoder({ expectMasked: true, maxPayload });
      let got = 0;
      const once = (): void => {
        for (const c of chunks) {
          d.push(c);
          for (let p = d.next(); p !== null; p = d.next()) got += p.data.length;
        }
      };
      once();
      if (got !== size) note(`codec: FrameDecoder returned ${got} bytes for a ${size} B frame`);
      out.push(withOps({ group, impl: 'sockwire FrameDecoder', size, MBps: measure(once, size, ms) }));
    }
    if (Connection !== undefined) {
      const c = new Connection({ role: 'server', maxPayload });
      let messages = 0;
      const once = (): void => {
        for (const ch of chunks) {
          c.push(ch);
          for (let e = c.next(); e !== null; e = c.next()) if (e.type === 'message') messages++;
        }
      };
      once();
      if (messages !== 1) note(`codec: Connection produced ${messages} messages for one ${size} B frame`);
      out.push(withOps({ group, impl: 'sockwire Connection', size, MBps: measure(once, size, ms) }));
    }
    for (const [impl, lib] of [
      ['ws Receiver', ws],
      ['ws Receiver (pure JS)', wsPureJs],
    ] as const) {
      // ws 8 emits 'message' synchronously inside write() (allowSynchronousEvents defaults to true).
      const r = new lib.Receiver({ isServer: true, maxPayload, binaryType: 'nodebuffer' });
      let got = 0;
      r.on('message', (data) => {
        got += data.length;
      });
      r.on('error', (err) => note(`codec: ${impl} error ${err.message}`));
      const once = (): void => {
        for (const ch of chunks) r.write(ch);
      };
      once();
      if (got !== size) note(`codec: ${impl} delivered ${got} bytes for a ${size} B frame`);
      out.push(withOps({ group, impl, size, MBps: measure(once, size, ms) }));
    }

    const payload = Buffer.alloc(size, 0x5a);
    const groupEnc = 'codec encode (unmasked, server→client)';
    if (encodeFrame !== undefined) {
      out.push(
        withOps({
          group: groupEnc,
          impl: 'sockwire encodeFrame',
          size,
          MBps: measure(() => (sink += encodeFrame(OPCODE_BINARY, payload).length), size, ms),
        }),
      );
    }
    const wsOpts = { fin: true, rsv1: false, opcode: OPCODE_BINARY, mask: false, readOnly: false };
    out.push(
      withOps({
        group: groupEnc,
        impl: 'ws Sender.frame',
        size,
        MBps: measure(() => (sink += ws.Sender.frame(payload, wsOpts).length), size, ms),
      }),
    );

    const groupMask = 'codec encode (masked, client→server)';
    if (encodeFrame !== undefined) {
      out.push(
        withOps({
          group: groupMask,
          impl: 'sockwire encodeFrame',
          size,
          MBps: measure(
            () => (sink += encodeFrame(OPCODE_BINARY, payload, { maskKey: MASK_KEY }).length),
            size,
            ms,
          ),
        }),
      );
    }
    // A fixed mask for both (ws: generateMask), so neither pays for randomness here.
    const wsMaskOpts = {
      ...wsOpts,
      mask: true,
      readOnly: true,
      generateMask: (m: Buffer) => MASK_KEY.copy(m),
    };
    out.push(
      withOps({
        group: groupMask,
        impl: 'ws Sender.frame',
        size,
        MBps: measure(() => (sink += ws.Sender.frame(payload, wsMaskOpts).length), size, ms),
      }),
    );
  }
  if (sink < 0) note('unreachable');
  return out;
}
