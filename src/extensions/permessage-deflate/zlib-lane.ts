/**
 * One direction of a connection's permessage-deflate (RFC 7692 §7.2): a zlib stream, the messages
 * waiting for it, and the one it is working on. Messages go through one at a time, in the order
 * given: with context takeover each continues the stream where the last one left it. Each takes a
 * slot of the shared {@link ConcurrencyLimiter} while zlib works on it.
 *
 * Why a class and not closures: a server may run thousands of messages a second through here. The
 * stream's 'data' and 'error' listeners are attached once, when the stream is made, and find the
 * message in progress on the lane; a message costs one small record and one flush callback, not a
 * set of closures and listener changes per message.
 */
import { Buffer } from 'node:buffer';
import type { EventEmitter } from 'node:events';
import { ErrorCode, ProtocolError, WebSocketError } from '../../errors.ts';
import { CloseCode } from '../../frame/close-code.ts';
import type { ConcurrencyLimiter } from './limiter.ts';

/** RFC 7692 §7.2.1: the tail of a Z_SYNC_FLUSH that is stripped from, and RFC 7692 §7.2.2 appended to, every message. */
export const TRAILER = Buffer.from([0x00, 0x00, 0xff, 0xff]);

/** How a message's work ends: an error, or the bytes it produced. */
export type Done = (error: Error | null, result?: Buffer) => void;

/** A message given to a lane, and its progress once zlib works on it. */
export interface LaneJob {
  readonly done: Done;
  /** Set once `done` was called: zlib calling back twice must not free the slot twice. */
  finished: boolean;
  /** What zlib produced for this message so far, and its total length. */
  output: Buffer[];
  length: number;
}

/** The stream's back-reference to its lane, for the listener functions shared by every stream. */
const kLane = Symbol('sockwire.zlibLane');
type AnyStream = EventEmitter & { close(): void };
type LaneStream = AnyStream & { [kLane]: ZlibLane<LaneJob, AnyStream> };

/** The queue, the limiter slot and the stream's listeners, shared by both directions. */
export abstract class ZlibLane<Job extends LaneJob, Stream extends EventEmitter & { close(): void }> {
  readonly #limiter: ConcurrencyLimiter;
  readonly #isClosed: () => boolean;
  readonly #jobs: Job[] = [];
  /** The message zlib works on now (it holds a limiter slot), or null. */
  current: Job | null = null;
  /** The zlib stream, made on first use and dropped after a failure or without context takeover. */
  stream: Stream | null = null;
  #release: (() => void) | null = null;

  /** `isClosed` tells whether the codec was closed: jobs then fail instead of starting. */
  constructor(limiter: ConcurrencyLimiter, isClosed: () => boolean) {
    this.#limiter = limiter;
    this.#isClosed = isClosed;
  }

  /** Makes this lane's zlib stream (the codec's options decide how). @throws what zlib's constructor throws. */
  protected abstract createStream(): Stream;
  /** Starts zlib on `job`, making the stream with {@link openStream} if needed. @throws what zlib throws synchronously. */
  protected abstract run(job: Job): void;
  /** The error that a failure of zlib (an 'error' event) means for this direction. */
  abstract failureOf(cause: Error): Error;
  /** The verb of this direction's work, for the error when zlib cannot even make a stream. */
  protected abstract readonly verb: string;

  /** Queues a message; it starts now if the lane is idle. */
  add(job: Job): void {
    this.#jobs.push(job);
    this.#next();
  }

  /** The lane's stream, made now if there is none; its listeners are attached once, here. */
  openStream(): Stream {
    if (this.stream !== null) return this.stream;
    const stream = this.createStream();
    (stream as unknown as LaneStream)[kLane] = this as unknown as LaneStream[typeof kLane];
    stream.on('data', laneOnData);
    // Kept for the stream's whole life, even once dropped: zlib reports failures as 'error', which
    // without a listener would be an uncaught exception that ends the process.
    stream.on('error', laneOnError);
    this.stream = stream;
    return stream;
  }

  /** Closes and forgets the stream; whatever it still emits is ignored (see the listeners below). */
  dropStream(): void {
    this.stream?.close();
    this.stream = null;
  }

  /** zlib output for the message in progress. Subclasses may refuse it (see InflateLane's limit). */
  onData(job: Job, chunk: Buffer): void {
    job.output.push(chunk);
    job.length += chunk.length;
  }

  /** Fails the message in progress: the stream is unusable after an error, so it is dropped. */
  fail(job: Job, error: Error): void {
    if (job.finished) return;
    this.dropStream();
    this.finish(job, this.#isClosed() ? closedError() : error);
  }

  /** Ends `job` once: frees its slot, tells its owner, then starts the next message. */
  finish(job: Job, error: Error | null, result?: Buffer): void {
    if (job.finished) return;
    job.finished = true;
    this.current = null;
    const release = this.#release!;
    this.#release = null;
    release();
    try {
      job.done(error, result);
    } finally {
      this.#next();
    }
  }

  /** Whether the codec was closed while a message waited for zlib. */
  get closed(): boolean {
    return this.#isClosed();
  }

  #next(): void {
    // A loop, not recursion: after close every waiting job fails at once without deepening the stack.
    while (this.current === null) {
      const job = this.#jobs.shift();
      if (job === undefined) return;
      if (this.#isClosed()) {
        job.done(closedError());
        continue;
      }
      this.current = job;
      this.#limiter.run(this.#start);
    }
  }

  /** The limiter gave the message in progress a slot: zlib starts on it. */
  readonly #start = (release: () => void): void => {
    this.#release = release;
    const job = this.current!;
    if (this.#isClosed()) {
      this.finish(job, closedError());
      return;
    }
    try {
      this.run(job);
    } catch (error) {
      // zlib throws from its constructor (e.g. "Init error" when memory runs out). Uncaught, that
      // would end the process (this may run from the limiter's microtask) and keep the slot.
      if (job.finished) throw error; // thrown by the caller's callback, not by zlib
      this.dropStream();
      this.finish(job, zlibFailure(this.verb, error));
    }
  };
}

/** Output of a stream that is still the lane's, for the message in progress; anything else is stale. */
function laneOnData(this: LaneStream, chunk: Buffer): void {
  const lane = this[kLane];
  const job = lane.current;
  if (lane.stream === (this as AnyStream) && job !== null && !job.finished) lane.onData(job, chunk);
}

function laneOnError(this: LaneStream, error: Error): void {
  const lane = this[kLane];
  const job = lane.current;
  if (lane.stream === (this as AnyStream) && job !== null) lane.fail(job, lane.failureOf(error));
}

/** A job the closing of the connection cut short (what the send callback gets, as for other sends). */
export function closedError(): Error {
  return new WebSocketError(
    ErrorCode.ConnectionLost,
    'the connection closed while the message was being compressed or inflated; it was not sent or delivered',
  );
}

/** RFC 6455 §7.4.1: 1011, "an unexpected condition that prevented it from fulfilling the request". */
export function zlibFailure(verb: string, cause: unknown): ProtocolError {
  return new ProtocolError(
    ErrorCode.CompressionFailed,
    CloseCode.InternalError,
    `permessage-deflate: zlib failed to ${verb} a message; the connection is closed with 1011`,
    { cause },
  );
}
