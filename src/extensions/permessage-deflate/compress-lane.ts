/**
 * The sending direction of permessage-deflate (RFC 7692 §7.2.1): each message is compressed with
 * DEFLATE and flushed with Z_SYNC_FLUSH, which ends the output with an empty stored block
 * `00 00 ff ff`; the last fragment of a message drops those 4 octets. Without context takeover
 * (RFC 7692 §7.1.1) the stream is dropped after each message, so the next starts afresh.
 */
import { Buffer } from 'node:buffer';
import { constants, createDeflateRaw, type DeflateRaw, type ZlibOptions } from 'node:zlib';
import type { ConcurrencyLimiter } from './limiter.ts';
import { closedError, type Done, type LaneJob, TRAILER, ZlibLane, zlibFailure } from './zlib-lane.ts';

/** A message (or fragment) to compress. */
interface CompressJob extends LaneJob {
  readonly data: Uint8Array;
  /** The last fragment of its message: the trailer is stripped (RFC 7692 §7.2.1). */
  readonly fin: boolean;
}

/** How to make the stream, from the negotiated parameters and the application's zlib options. */
export interface CompressLaneOptions {
  readonly windowBits: number;
  readonly contextTakeover: boolean;
  readonly zlibOptions: ZlibOptions | undefined;
  readonly createDeflateRaw: ((options: ZlibOptions) => DeflateRaw) | undefined;
}

/** Compresses a connection's outgoing messages, one at a time, in order. */
export class CompressLane extends ZlibLane<CompressJob, DeflateRaw> {
  readonly verb = 'compress';
  readonly #options: CompressLaneOptions;

  constructor(limiter: ConcurrencyLimiter, isClosed: () => boolean, options: CompressLaneOptions) {
    super(limiter, isClosed);
    this.#options = options;
  }

  /** Queues `data` for compression; `done` gets the compressed bytes or the error. */
  compress(data: Uint8Array, fin: boolean, done: Done): void {
    this.add({ data, fin, done, finished: false, output: [], length: 0 });
  }

  protected createStream(): DeflateRaw {
    const options = this.#options;
    return (options.createDeflateRaw ?? createDeflateRaw)({
      ...options.zlibOptions,
      windowBits: options.windowBits,
    });
  }

  failureOf(cause: Error): Error {
    // The message is lost, and with it the sequence the peer must see (a fragment, or a context).
    return zlibFailure('compress', cause);
  }

  protected run(job: CompressJob): void {
    const stream = this.openStream();
    stream.write(job.data);
    // zlib may also report a failure through the flush callback: either way it fails the message once.
    stream.flush(constants.Z_SYNC_FLUSH, (error?: Error | null) => this.#flushed(job, error));
  }

  #flushed(job: CompressJob, error: Error | null | undefined): void {
    if (job.finished) return;
    if (error) {
      this.fail(job, this.failureOf(error));
      return;
    }
    if (this.closed) {
      this.finish(job, closedError());
      return;
    }
    const { output, length } = job;
    // One chunk (most messages): no copy. It is a slice of zlib's output buffer, sent and dropped.
    let out = output.length === 1 ? output[0]! : Buffer.concat(output, length);
    // RFC 7692 §7.2.1: "Remove 4 octets (that are 0x00 0x00 0xff 0xff) from the tail end."
    if (job.fin) out = out.subarray(0, out.length - TRAILER.length);
    if (job.fin && !this.#options.contextTakeover) this.dropStream();
    this.finish(job, null, out);
  }
}
