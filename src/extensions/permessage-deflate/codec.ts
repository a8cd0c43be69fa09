/**
 * Per-connection compression for permessage-deflate (RFC 7692 §7.2), over node:zlib: one lane per
 * direction (compress-lane.ts: RFC 7692 §7.2.1; inflate-lane.ts: RFC 7692 §7.2.2, with the limits),
 * each running its messages one at a time, in order, in a slot of the shared limiter.
 *
 * With context takeover the same zlib stream carries on from message to message (its window
 * remembers earlier messages, which is where the compression ratio comes from); without it the
 * stream is reset after each message (RFC 7692 §7.1.1).
 *
 * Memory: zlib streams are created on first use, not per connection, and dropped after each message
 * when the context is not taken over, so an idle connection costs nothing here.
 */
import type { DeflateRaw, InflateRaw, ZlibOptions } from 'node:zlib';
import { CompressLane } from './compress-lane.ts';
import { InflateLane } from './inflate-lane.ts';
import type { ConcurrencyLimiter } from './limiter.ts';
import type { DeflateParameters } from './negotiation.ts';
import type { Done } from './zlib-lane.ts';

export interface CodecOptions {
  readonly parameters: DeflateParameters;
  readonly role: 'client' | 'server';
  readonly maxPayload: number;
  readonly limiter: ConcurrencyLimiter;
  readonly zlibDeflateOptions?: ZlibOptions | undefined;
  readonly zlibInflateOptions?: ZlibOptions | undefined;
  /** Internal, for tests: makes the deflate stream (a real one that fails on cue). */
  readonly createDeflateRaw?: ((options: ZlibOptions) => DeflateRaw) | undefined;
  /** Internal, for tests: makes the inflate stream. */
  readonly createInflateRaw?: ((options: ZlibOptions) => InflateRaw) | undefined;
}

export class PerMessageDeflateCodec {
  #closed = false;
  readonly #compressLane: CompressLane;
  readonly #inflateLane: InflateLane;
  /** Window of what we send (zlib cannot compress under 9 bits; see negotiation.ts). */
  readonly #sendWindowBits: number;

  constructor(options: CodecOptions) {
    const p = options.parameters;
    const server = options.role === 'server';
    const isClosed = () => this.#closed;
    this.#sendWindowBits = server ? p.serverMaxWindowBits : p.clientMaxWindowBits;
    this.#compressLane = new CompressLane(options.limiter, isClosed, {
      windowBits: this.#sendWindowBits,
      contextTakeover: !(server ? p.serverNoContextTakeover : p.clientNoContextTakeover),
      zlibOptions: options.zlibDeflateOptions,
      createDeflateRaw: options.createDeflateRaw,
    });
    this.#inflateLane = new InflateLane(options.limiter, isClosed, {
      windowBits: server ? p.clientMaxWindowBits : p.serverMaxWindowBits,
      contextTakeover: !(server ? p.clientNoContextTakeover : p.serverNoContextTakeover),
      maxPayload: options.maxPayload,
      zlibOptions: options.zlibInflateOptions,
      createInflateRaw: options.createInflateRaw,
    });
  }

  /** Whether we can compress at all (zlib cannot under a 9-bit window; see negotiation.ts). */
  get canCompress(): boolean {
    return this.#sendWindowBits >= 9;
  }

  /**
   * Compresses one message (or one fragment: `fin` false keeps the trailer, RFC 7692 §7.2.1 strips
   * it at the end). Calls run one at a time, in the order made, and may be made from inside a callback.
   */
  compress(data: Uint8Array, fin: boolean, done: Done): void {
    this.#compressLane.compress(data, fin, done);
  }

  /**
   * Decompresses one whole message. Fails with 1009 when the output passes maxPayload, 1007 when
   * the data is not valid DEFLATE. Calls run one at a time, in order, and may be made from inside a
   * callback (the WebSocket hands over the next message from there).
   */
  decompress(chunks: readonly Uint8Array[], done: Done): void {
    this.#inflateLane.decompress(chunks, done);
  }

  /**
   * Decompresses one piece of a message (RFC 7692 §7.2.2 piece by piece: the trailer is appended
   * after the last, `fin`): `done` gets what the piece inflates to. Same limits as
   * {@link decompress}, maxPayload counting the whole message; pieces and whole messages run in the
   * order given.
   */
  decompressPiece(data: Uint8Array, fin: boolean, done: Done): void {
    this.#inflateLane.decompressPiece(data, fin, done);
  }

  /** Frees the zlib streams; pending jobs finish with an error. */
  close(): void {
    this.#closed = true;
    this.#compressLane.dropStream();
    this.#inflateLane.dropStream();
  }
}
