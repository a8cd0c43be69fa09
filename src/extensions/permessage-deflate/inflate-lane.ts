/**
 * The receiving direction of permessage-deflate (RFC 7692 §7.2.2): the 4 octets `00 00 ff ff` are
 * appended to each message's payload before inflating it. With context takeover the stream carries
 * on from message to message; without it (RFC 7692 §7.1.1) it is dropped after each. A peer may end
 * a message with a block whose BFINAL is 1 (RFC 7692 §7.2.3.4): that ends its DEFLATE stream, so
 * the next message starts a new inflate stream, and more data after the final block in the same
 * message fails with 1007.
 *
 * Limits: inflation stops as soon as the output passes `maxPayload` (a "zip bomb" never makes us
 * allocate more than the limit) and fails with 1009; corrupt data fails with 1007 (RFC 7692 §8.1
 * only says _Fail_; RFC 6455 §7.4.1's 1007 is the code for "data ... not consistent with the type of
 * the message", and what Autobahn 12.x/13.x and `ws` use).
 */
import { Buffer } from 'node:buffer';
import { createInflateRaw, type InflateRaw, type ZlibOptions } from 'node:zlib';
import { ErrorCode, ProtocolError } from '../../errors.ts';
import { CloseCode } from '../../frame/close-code.ts';
import type { ConcurrencyLimiter } from './limiter.ts';
import { closedError, type Done, type LaneJob, TRAILER, ZlibLane, zlibFailure } from './zlib-lane.ts';

/** A received message to inflate, or a piece of one, and where the stream stood when it began. */
interface InflateJob extends LaneJob {
  readonly chunks: readonly Uint8Array[];
  /** The first piece of its message (a whole message is its own first and last piece). */
  readonly first: boolean;
  /** The last piece: the trailer is appended, and the message ends here. */
  readonly last: boolean;
  /** The piece's bytes, plus the appended trailer on the last piece. */
  readonly input: number;
  /** `stream.bytesWritten` before this message. */
  consumedBefore: number;
  /** The stream already read earlier messages (context takeover), so it may have ended with the last one. */
  carriedOn: boolean;
}

/** How to make the stream, and the limit on a message once inflated. */
export interface InflateLaneOptions {
  readonly windowBits: number;
  readonly contextTakeover: boolean;
  readonly maxPayload: number;
  readonly zlibOptions: ZlibOptions | undefined;
  readonly createInflateRaw: ((options: ZlibOptions) => InflateRaw) | undefined;
}

/** Inflates a connection's incoming messages, one at a time, in order. */
export class InflateLane extends ZlibLane<InflateJob, InflateRaw> {
  readonly verb = 'inflate';
  readonly #options: InflateLaneOptions;
  /** A message given piece by piece is in progress (its last piece not queued yet). */
  #inPieces = false;
  /** Bytes inflated from the earlier pieces of the message in progress, for maxPayload. */
  #messageInflated = 0;

  constructor(limiter: ConcurrencyLimiter, isClosed: () => boolean, options: InflateLaneOptions) {
    super(limiter, isClosed);
    this.#options = options;
  }

  /** Queues a whole message for inflation; `done` gets its bytes or the error (1007, 1009). */
  decompress(chunks: readonly Uint8Array[], done: Done): void {
    this.#add(chunks, true, true, done);
  }

  /**
   * Queues one piece of a message for inflation, `fin` on its last: `done` gets what the piece
   * inflates to, so that a message passes through without being held whole (maxPayload still
   * counts the whole message).
   */
  decompressPiece(data: Uint8Array, fin: boolean, done: Done): void {
    const first = !this.#inPieces;
    this.#inPieces = !fin;
    this.#add([data], first, fin, done);
  }

  #add(chunks: readonly Uint8Array[], first: boolean, last: boolean, done: Done): void {
    let input = last ? TRAILER.length : 0;
    for (const chunk of chunks) input += chunk.length;
    this.add({
      chunks,
      first,
      last,
      input,
      done,
      finished: false,
      output: [],
      length: 0,
      consumedBefore: 0,
      carriedOn: false,
    });
  }

  protected createStream(): InflateRaw {
    const options = this.#options;
    return (options.createInflateRaw ?? createInflateRaw)({
      ...options.zlibOptions,
      // zlib cannot inflate with a window under 9 bits, and a larger window reads a smaller one's data.
      windowBits: Math.max(9, options.windowBits),
    });
  }

  failureOf(cause: Error): Error {
    return new ProtocolError(
      ErrorCode.InvalidCompressedData,
      CloseCode.InvalidPayload,
      'invalid compressed data',
      {
        cause,
      },
    );
  }

  /** A failed message is abandoned: the next piece given starts a new one. */
  override fail(job: InflateJob, error: Error): void {
    if (job.finished) return;
    this.#messageInflated = 0;
    this.#inPieces = false;
    super.fail(job, error);
  }

  override onData(job: InflateJob, chunk: Buffer): void {
    job.length += chunk.length;
    const maxPayload = this.#options.maxPayload;
    if (this.#messageInflated + job.length > maxPayload) {
      this.fail(
        job,
        new ProtocolError(
          ErrorCode.MessageTooBig,
          CloseCode.MessageTooBig,
          `inflated message exceeds maxPayload (${maxPayload} bytes)`,
        ),
      );
      return;
    }
    job.output.push(chunk);
  }

  protected run(job: InflateJob): void {
    job.carriedOn = this.stream !== null;
    const stream = this.openStream();
    job.consumedBefore = stream.bytesWritten;
    for (const chunk of job.chunks) stream.write(chunk);
    // RFC 7692 §7.2.2: "Append 4 octets of 0x00 0x00 0xff 0xff to the tail end of the payload of the message."
    if (job.last) stream.write(TRAILER);
    // A failure is reported by 'error' (the lane's listener fails the message); the flush then ends here.
    stream.flush(() => this.#flushed(job, stream));
  }

  #flushed(job: InflateJob, stream: InflateRaw): void {
    if (job.finished) return;
    if (this.closed) {
      this.finish(job, closedError());
      return;
    }
    // zlib takes every byte it is given until the DEFLATE stream ends (a block with BFINAL set),
    // and none after: fewer bytes taken than written means the stream ended inside this message.
    const consumed = stream.bytesWritten - job.consumedBefore;
    if (consumed < job.input) {
      if (consumed === 0 && job.carriedOn && job.first) {
        // RFC 7692 §7.2.3.4 lets a sender flush with a block whose BFINAL is 1; the previous
        // message ended its stream exactly at its last byte, so this message starts a new one.
        this.dropStream();
        job.output = [];
        job.length = 0;
        try {
          this.run(job);
        } catch (error) {
          // Making the new stream threw; this runs in zlib's callback, not the lane's slot start.
          this.finish(job, zlibFailure('inflate', error));
        }
        return;
      }
      // After the final block only the empty stored block of RFC 7692 §7.2.1 step 2 may follow (its
      // 0x00 header octet and our appended 00 00 ff ff, or only ours); it carries no data. Anything
      // else would be a second stream inside one message, which RFC 7692 §7.2 does not define.
      if (!job.last || !isEmptyStoredBlockTail(job.chunks, job.input - consumed)) {
        this.fail(
          job,
          new ProtocolError(
            ErrorCode.InvalidCompressedData,
            CloseCode.InvalidPayload,
            'invalid compressed data: data after the final DEFLATE block of a message',
          ),
        );
        return;
      }
      // RFC 7692 §7.2.3.4: the stream ended with this message; the next message starts a new one.
      this.dropStream();
    } else if (job.last && !this.#options.contextTakeover) {
      this.dropStream();
    }
    this.#messageInflated = job.last ? 0 : this.#messageInflated + job.length;
    // Copied into one buffer even from one chunk: the application may keep a message, and a slice
    // would keep zlib's whole output buffer alive with it.
    this.finish(job, null, Buffer.concat(job.output, job.length));
  }
}

/**
 * Whether the last `count` bytes of a message's payload plus the appended trailer are an empty
 * stored block (RFC 1951 §3.2.4: a header with BTYPE 00, padding to the byte, LEN 0, NLEN 0xffff):
 * either `00 00 ff ff` alone (the sender appended nothing after its final block) or one header
 * octet before it (the RFC 7692 §7.2.3.4 example ends with that 0x00).
 */
function isEmptyStoredBlockTail(chunks: readonly Uint8Array[], count: number): boolean {
  if (count === TRAILER.length) return true;
  if (count !== TRAILER.length + 1) return false;
  const last = chunks.findLast((chunk) => chunk.length > 0);
  // BTYPE (bits 1-2 of the header) must be 00; BFINAL and the padding bits carry no data.
  return last !== undefined && (last[last.length - 1]! & 0b110) === 0;
}
