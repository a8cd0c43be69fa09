/**
 * Per-connection compression for permessage-deflate (RFC 7692 §7.2), over node:zlib.
 *
 * Each message is compressed with DEFLATE and flushed with Z_SYNC_FLUSH, which ends the output with
 * an empty stored block `00 00 ff ff`; RFC 7692 §7.2.1 removes those 4 octets, and RFC 7692 §7.2.2 appends them again
 * before inflating. With context takeover the same zlib stream carries on from message to message
 * (its window remembers earlier messages, which is where the compression ratio comes from); without
 * it the stream is reset after each message (RFC 7692 §7.1.1). A peer may instead end a message with a block
 * whose BFINAL is 1 (RFC 7692 §7.2.3.4): that ends its DEFLATE stream, so we start a new inflate
 * stream for its next message, and fail with 1007 if more data follows the final block in a message.
 *
 * Memory: zlib streams are created on first use, not per connection, and dropped after each message
 * when the context is not taken over, so an idle connection costs nothing here.
 *
 * Limits: inflation stops as soon as the output passes `maxPayload` (a "zip bomb" never makes us
 * allocate more than the limit) and fails with 1009; corrupt data fails with 1007 (RFC 7692 §8.1
 * only says _Fail_; RFC 6455 §7.4.1's 1007 is the code for "data ... not consistent with the type of the message", and
 * what Autobahn 12.x/13.x and `ws` use).
 */
import {
  constants,
  createDeflateRaw,
  createInflateRaw,
  type DeflateRaw,
  type InflateRaw,
  type ZlibOptions,
} from 'node:zlib';
import { ErrorCode, ProtocolError, WebSocketError } from '../../errors.ts';
import { CloseCode } from '../../frame/close-code.ts';
import type { ConcurrencyLimiter } from './limiter.ts';
import type { DeflateParameters } from './negotiation.ts';

/** RFC 7692 §7.2.1: the tail of a Z_SYNC_FLUSH that is stripped from, and RFC 7692 §7.2.2 appended to, every message. */
const TRAILER = Buffer.from([0x00, 0x00, 0xff, 0xff]);

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

type Done = (error: Error | null, result?: Buffer) => void;

export class PerMessageDeflateCodec {
  readonly #options: CodecOptions;
  /** Window and context policy of what we send and what we receive. */
  readonly #sendWindowBits: number;
  readonly #sendTakeover: boolean;
  readonly #receiveWindowBits: number;
  readonly #receiveTakeover: boolean;
  #deflate: DeflateRaw | null = null;
  #inflate: InflateRaw | null = null;
  #closed = false;
  /** One job at a time per direction: with context takeover each message continues the last one. */
  readonly #deflateQueue: JobQueue;
  readonly #inflateQueue: JobQueue;

  constructor(options: CodecOptions) {
    this.#options = options;
    const p = options.parameters;
    const server = options.role === 'server';
    this.#sendWindowBits = server ? p.serverMaxWindowBits : p.clientMaxWindowBits;
    this.#sendTakeover = !(server ? p.serverNoContextTakeover : p.clientNoContextTakeover);
    this.#receiveWindowBits = server ? p.clientMaxWindowBits : p.serverMaxWindowBits;
    this.#receiveTakeover = !(server ? p.clientNoContextTakeover : p.serverNoContextTakeover);
    const closed = () => this.#closed;
    this.#deflateQueue = new JobQueue(options.limiter, closed, 'compress', () => this.#dropDeflate());
    this.#inflateQueue = new JobQueue(options.limiter, closed, 'inflate', () => this.#dropInflate());
  }

  /** Whether we can compress at all (zlib cannot under a 9-bit window; see negotiation.ts). */
  get canCompress(): boolean {
    return this.#sendWindowBits >= 9;
  }

  /**
   * Compresses one message (or one fragment: `fin` false keeps the trailer, RFC 7692 §7.2.1 strips it at the
   * end). Calls run one at a time, in the order made, and may be made from inside a callback.
   */
  compress(data: Uint8Array, fin: boolean, done: Done): void {
    this.#deflateQueue.add((finish) => this.#deflateMessage(data, fin, finish), done);
  }

  /**
   * Decompresses one whole message. Fails with 1009 when the output passes maxPayload, 1007 when
   * the data is not valid DEFLATE. Calls run one at a time, in order, and may be made from inside a
   * callback (the WebSocket hands over the next message from there).
   */
  decompress(chunks: readonly Uint8Array[], done: Done): void {
    this.#inflateQueue.add((finish) => this.#inflateMessage(chunks, this.#inflate !== null, finish), done);
  }

  #deflateMessage(data: Uint8Array, fin: boolean, finish: Done): void {
    this.#deflate ??= (this.#options.createDeflateRaw ?? createDeflateRaw)({
      ...this.#options.zlibDeflateOptions,
      windowBits: this.#sendWindowBits,
    });
    const deflate = this.#deflate;
    const chunks: Buffer[] = [];
    let length = 0;
    let failed = false;
    const onData = (chunk: Buffer) => {
      chunks.push(chunk);
      length += chunk.length;
    };
    // zlib reports failures as 'error' (an uncaught exception without a listener) and may also call
    // the flush callback with an error: either fails this message once, and the stream is dropped.
    const fail = (error: Error) => {
      if (failed) return;
      failed = true;
      deflate.off('data', onData);
      if (this.#deflate === deflate) this.#dropDeflate();
      if (this.#closed) return finish(closedError());
      // The message is lost, and with it the sequence the peer must see (a fragment, or a context).
      finish(zlibFailure('compress', error));
    };
    deflate.on('data', onData);
    deflate.once('error', fail);
    deflate.write(data);
    deflate.flush(constants.Z_SYNC_FLUSH, (error?: Error | null) => {
      if (failed) return;
      if (error) return fail(error);
      failed = true;
      deflate.off('data', onData);
      deflate.off('error', fail);
      if (this.#closed) return finish(closedError());
      let out = Buffer.concat(chunks, length);
      // RFC 7692 §7.2.1: "Remove 4 octets (that are 0x00 0x00 0xff 0xff) from the tail end."
      if (fin) out = out.subarray(0, out.length - 4);
      if (fin && !this.#sendTakeover) this.#dropDeflate();
      finish(null, out);
    });
  }

  /**
   * Runs one message through the inflate stream. `carriedOn`: the stream already read earlier
   * messages (context takeover), so it may have ended at the end of the previous one.
   */
  #inflateMessage(chunks: readonly Uint8Array[], carriedOn: boolean, finish: Done): void {
    this.#inflate ??= (this.#options.createInflateRaw ?? createInflateRaw)({
      ...this.#options.zlibInflateOptions,
      windowBits: Math.max(9, this.#receiveWindowBits),
    });
    const inflate = this.#inflate;
    const maxPayload = this.#options.maxPayload;
    const consumedBefore = inflate.bytesWritten;
    let input = TRAILER.length;
    for (const chunk of chunks) input += chunk.length;
    const output: Buffer[] = [];
    let length = 0;
    let failed = false;
    const cleanUp = () => {
      inflate.off('data', onData);
      inflate.off('error', onError);
    };
    const fail = (error: ProtocolError) => {
      if (failed) return;
      failed = true;
      cleanUp();
      // The stream is unusable after an error or an abandoned message: drop it.
      this.#dropInflate();
      finish(error);
    };
    const onData = (chunk: Buffer) => {
      length += chunk.length;
      if (length > maxPayload) {
        fail(
          new ProtocolError(
            ErrorCode.MessageTooBig,
            CloseCode.MessageTooBig,
            `inflated message exceeds maxPayload (${maxPayload} bytes)`,
          ),
        );
        return;
      }
      output.push(chunk);
    };
    const onError = (error: Error) =>
      fail(
        new ProtocolError(
          ErrorCode.InvalidCompressedData,
          CloseCode.InvalidPayload,
          'invalid compressed data',
          {
            cause: error,
          },
        ),
      );
    inflate.on('data', onData);
    inflate.on('error', onError);
    for (const chunk of chunks) inflate.write(chunk);
    // RFC 7692 §7.2.2: "Append 4 octets of 0x00 0x00 0xff 0xff to the tail end of the payload of the message."
    inflate.write(TRAILER);
    inflate.flush(() => {
      if (failed) return;
      cleanUp();
      if (this.#closed) return finish(closedError());
      // zlib takes every byte it is given until the DEFLATE stream ends (a block with BFINAL set),
      // and none after: fewer bytes taken than written means the stream ended inside this message.
      const consumed = inflate.bytesWritten - consumedBefore;
      if (consumed < input) {
        if (consumed === 0 && carriedOn) {
          // RFC 7692 §7.2.3.4 lets a sender flush with a block whose BFINAL is 1; the previous
          // message ended its stream exactly at its last byte, so this message starts a new one.
          this.#dropInflate();
          try {
            this.#inflateMessage(chunks, false, finish);
          } catch (error) {
            // Making the new stream threw (see JobQueue); this runs in zlib's callback, not the queue's.
            finish(zlibFailure('inflate', error));
          }
          return;
        }
        // After the final block only the empty stored block of RFC 7692 §7.2.1 step 2 may follow (its 0x00
        // header octet and our appended 00 00 ff ff, or only ours); it carries no data. Anything
        // else would be a second stream inside one message, which RFC 7692 §7.2 does not define.
        if (!isEmptyStoredBlockTail(chunks, input - consumed)) {
          fail(
            new ProtocolError(
              ErrorCode.InvalidCompressedData,
              CloseCode.InvalidPayload,
              'invalid compressed data: data after the final DEFLATE block of a message',
            ),
          );
          return;
        }
        // RFC 7692 §7.2.3.4: the stream ended with this message; the next message starts a new one.
        this.#dropInflate();
      } else if (!this.#receiveTakeover) {
        this.#dropInflate();
      }
      finish(null, Buffer.concat(output, length));
    });
  }

  /** Frees the zlib streams; pending jobs finish with an error. */
  close(): void {
    this.#closed = true;
    this.#dropDeflate();
    this.#dropInflate();
  }

  #dropDeflate(): void {
    this.#deflate?.close();
    this.#deflate = null;
  }

  #dropInflate(): void {
    this.#inflate?.close();
    this.#inflate = null;
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

/** A job the closing of the connection cut short (what the send callback gets, as for other sends). */
function closedError(): Error {
  return new WebSocketError(
    ErrorCode.ConnectionLost,
    'the connection closed while the message was being compressed or inflated; it was not sent or delivered',
  );
}

/** RFC 6455 §7.4.1: 1011, "an unexpected condition that prevented it from fulfilling the request". */
function zlibFailure(verb: string, cause: unknown): ProtocolError {
  return new ProtocolError(
    ErrorCode.CompressionFailed,
    CloseCode.InternalError,
    `permessage-deflate: zlib failed to ${verb} a message; the connection is closed with 1011`,
    { cause },
  );
}

type Job = (finish: Done) => void;

/**
 * Runs jobs one at a time, in the order added, each in a slot of the shared limiter. A job may be
 * added from inside another's callback: the queue is marked idle before that callback runs, so the
 * new job starts there, exactly once, and the loop after the callback finds the queue busy.
 */
class JobQueue {
  readonly #limiter: ConcurrencyLimiter;
  readonly #closed: () => boolean;
  readonly #verb: string;
  readonly #reset: () => void;
  readonly #jobs: { readonly run: Job; readonly done: Done }[] = [];
  #busy = false;

  /** `reset` drops the stream after a job threw; `verb` names the work in that error. */
  constructor(limiter: ConcurrencyLimiter, closed: () => boolean, verb: string, reset: () => void) {
    this.#limiter = limiter;
    this.#closed = closed;
    this.#verb = verb;
    this.#reset = reset;
  }

  add(run: Job, done: Done): void {
    this.#jobs.push({ run, done });
    this.#next();
  }

  #next(): void {
    // A loop, not recursion: after close every waiting job fails at once without deepening the stack.
    while (!this.#busy) {
      const job = this.#jobs.shift();
      if (job === undefined) return;
      if (this.#closed()) {
        job.done(closedError());
        continue;
      }
      this.#busy = true;
      this.#limiter.run((release) => {
        let finished = false;
        const finish: Done = (error, result) => {
          if (finished) return; // zlib calling back twice must not free the slot twice
          finished = true;
          release();
          this.#busy = false;
          try {
            job.done(error, result);
          } finally {
            this.#next();
          }
        };
        if (this.#closed()) return finish(closedError());
        try {
          job.run(finish);
        } catch (error) {
          // zlib throws from its constructor (e.g. "Init error" when memory runs out). Uncaught, that
          // would end the process (this may run from the limiter's microtask) and keep the slot.
          if (finished) throw error; // thrown by the caller's callback, not by zlib
          this.#reset();
          finish(zlibFailure(this.#verb, error));
        }
      });
    }
  }
}
