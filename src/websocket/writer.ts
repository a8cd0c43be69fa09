/**
 * Write batching, the bottom layer of a connection's driver (src/websocket/driver.ts extends
 * outbox.ts, which extends this): everything the core has queued leaves in as few writes as
 * possible, and reading from the socket stops while too much waits.
 *
 * Frames queued while handling one incoming chunk (an echo, a pong) leave in one write when the
 * chunk is done, and frames queued by user code leave together at the end of the current tick. A
 * lone message is therefore written at once, with no added latency, while a burst costs one system
 * call instead of one per frame.
 */
import { Buffer } from 'node:buffer';
import type { EventEmitter } from 'node:events';
import type { Duplex } from 'node:stream';
import type { Connection } from '../connection/connection.ts';
import { DEFAULTS } from '../defaults.ts';
import { ErrorCode, InvalidStateError, WebSocketError } from '../errors.ts';
import { ReadyState } from '../ready-state.ts';
import { defineFlags } from './flags.ts';
import { byteSize, type SendData } from './send-data.ts';
import type { WebSocketEvents } from './types.ts';

const HIGH_WATER_MARK = DEFAULTS.sendHighWaterMark;
const JOIN_BELOW_BYTES = DEFAULTS.joinBelowBytes;

/** `readyState` names, for messages that say which state refused an operation (as `ws` words them). */
const READY_STATE_NAMES = ['CONNECTING', 'OPEN', 'CLOSING', 'CLOSED'] as const;

/** The writing layer of a connection's driver; see the module comment. */
export abstract class Writer {
  // Fields are laid out in the order they are declared, base class first. The ones every message
  // reads or writes come first, so that a message touches as few of this object's cache lines as it
  // can: on a server with thousands of connections each line is a miss to memory (bench/results/targets.md).
  readyState: ReadyState = ReadyState.CONNECTING;
  /** The booleans of the three layers, one bit each (flags.ts). */
  flags = 0;
  socket: Duplex | null = null;
  connection: Connection | null = null;
  /** The WebSocket whose events the driver emits (driver.ts). */
  readonly ws: EventEmitter<WebSocketEvents>;
  /** True while a received chunk is being handled: writes wait until it is done. */
  declare receiving: boolean;
  /** Set by every received chunk, cleared by the keep-alive step (driver.ts): a sign of life. */
  declare heardFromPeer: boolean;
  declare flushScheduled: boolean;
  /** `send()` callbacks waiting for their bytes to be written; created on first use. */
  pendingCallbacks: ((error?: Error) => void)[] | null = null;
  /** Reading paused by the application's `pause()`. */
  declare userPaused: boolean;
  /** Bytes waiting in the outbox (outbox.ts), counted in `bufferedAmount`. */
  abstract outboxBytes: number;
  /**
   * Bytes of the sends refused after close: `bufferedAmount` keeps counting them, as the WHATWG
   * interface asks ("increase the bufferedAmount attribute by the length of data", for a send in
   * CLOSING or CLOSED) and as `ws` does.
   */
  refusedBytes = 0;

  constructor(ws: EventEmitter<WebSocketEvents>) {
    this.ws = ws;
  }

  /** Bytes queued for sending and not yet handed to the operating system. */
  get bufferedAmount(): number {
    return (
      (this.socket?.writableLength ?? 0) +
      (this.connection?.outgoingBytes ?? 0) +
      this.outboxBytes +
      this.refusedBytes
    );
  }

  /** Writes what the core queued at the end of the chunk being handled, or of the current tick. */
  scheduleFlush(callback?: (error?: Error) => void): void {
    if (callback) {
      this.pendingCallbacks ??= [];
      this.pendingCallbacks.push(callback);
    }
    if (this.receiving || this.flushScheduled) return;
    this.flushScheduled = true;
    process.nextTick(flushOnTick, this);
  }

  /**
   * Writes everything the core has queued, as one write when small, else as one corked vector.
   * @param force - write even when the socket needs 'drain' (the socket is about to end).
   */
  flush(force = false): void {
    const socket = this.socket;
    const connection = this.connection;
    if (socket === null || connection === null || connection.outgoingBytes === 0) {
      this.releaseCallbacks();
      return;
    }
    if (socket.destroyed || !socket.writable) {
      connection.takeOutgoing();
      this.releaseCallbacks(new WebSocketError(ErrorCode.ConnectionLost, 'connection closed'));
      return;
    }
    // While the socket cannot take more (the peer does not read), frames stay in the core, where
    // §5.5.3 lets it answer only the most recent Ping instead of queueing a Pong per Ping; they
    // leave on 'drain'. Unless the socket is about to end: then everything goes now.
    if (socket.writableNeedDrain && !force) {
      this.updateReading();
      return;
    }
    const total = connection.outgoingBytes;
    const chunks = connection.takeOutgoing();
    const callbacks = this.pendingCallbacks;
    this.pendingCallbacks = null;
    const done =
      callbacks === null
        ? undefined
        : (error?: Error | null) => {
            // The socket's own error (ERR_STREAM_DESTROYED…) becomes ours, with a code, as elsewhere.
            const lost = error
              ? new WebSocketError(ErrorCode.ConnectionLost, 'connection closed', { cause: error })
              : undefined;
            for (const callback of callbacks) callback(lost);
          };
    if (chunks.length === 1) {
      socket.write(chunks[0]!, done);
    } else if (total <= JOIN_BELOW_BYTES) {
      socket.write(Buffer.concat(chunks, total), done);
    } else {
      socket.cork();
      for (let i = 0; i < chunks.length - 1; i++) socket.write(chunks[i]!);
      socket.write(chunks[chunks.length - 1]!, done);
      socket.uncork();
    }
    this.updateReading();
  }

  /**
   * Pauses or resumes reading from the socket for every reason at once: the user's `pause()`, a
   * compressed message being inflated (see `Outbox.inflate`), and, on the server, outgoing bytes over
   * the high-water mark. A peer that sends but never reads (a ping flood, or messages an echo answers)
   * would otherwise grow our outgoing queue without bound; while we do not read, TCP holds the rest
   * of what it sends (flow control), so memory per connection stays bounded. Only the server does
   * this: a client keeps reading, so that two peers that both stop reading while their writes are
   * blocked can never wait on each other forever.
   */
  updateReading(): void {
    const socket = this.socket;
    if (socket === null || this.readyState === ReadyState.CONNECTING || socket.destroyed) return;
    const connection = this.connection;
    const stop =
      this.userPaused ||
      connection?.awaitingTransform === true ||
      (connection?.role === 'server' && this.bufferedAmount >= HIGH_WATER_MARK);
    if (stop) {
      if (!socket.isPaused()) socket.pause();
    } else if (socket.isPaused()) {
      socket.resume();
    }
  }

  /** Calls back the sends whose bytes were not written (none, or the socket is gone). */
  releaseCallbacks(error?: Error): void {
    const callbacks = this.pendingCallbacks;
    if (callbacks === null) return;
    this.pendingCallbacks = null;
    for (const callback of callbacks) process.nextTick(callback, error);
  }

  /**
   * send()/ping()/pong() in CLOSING or CLOSED, as in `ws` and the WHATWG interface: nothing is sent,
   * `bufferedAmount` grows by the size of the data, and the callback hears why.
   */
  refuseAfterClose(data: SendData | undefined, callback: ((error?: Error) => void) | undefined): void {
    if (data !== undefined) this.refusedBytes += byteSize(data);
    if (callback === undefined) return;
    const state = this.readyState;
    const error = new InvalidStateError(
      `WebSocket is not open: readyState ${state} (${READY_STATE_NAMES[state]})`,
    );
    process.nextTick(callback, error);
  }
}

defineFlags(Writer.prototype, ['receiving', 'heardFromPeer', 'flushScheduled', 'userPaused']);

function flushOnTick(writer: Writer): void {
  writer.flushScheduled = false;
  writer.flush();
}
