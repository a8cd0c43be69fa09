/**
 * What keeps messages in order around asynchronous work, in both directions: the outbox (sends
 * queued behind a message being compressed by zlib or a Blob being read) and, for permessage-deflate
 * (RFC 7692), the inflation of received messages. Each operation in the outbox is a send reserved in
 * the core (`Connection.reserveSend`, released once sent or dropped): the core holds the Close, ours
 * or the answer to the peer's, until none is left (§5.5.1). The middle layer of a connection's
 * driver: it extends the write batching (src/websocket/writer.ts), and the Driver
 * (src/websocket/driver.ts) extends it with the socket and the lifecycle. One object per
 * connection, no extra allocation per message, and a plain send with nothing queued goes straight
 * to the core.
 *
 *   send() ──▶ nothing queued, no compression ──▶ Connection.send() ──▶ flush
 *          └─▶ compress / Blob / something queued ──▶ outbox ──▶ zlib or blob.arrayBuffer() ──▶ Connection
 *   'message' (compressed) ──▶ inflate ──▶ Connection.completeMessage() ──▶ 'message', then what followed
 */
import type { Buffer } from 'node:buffer';
import type { ConnectionEvent } from '../connection/connection.ts';
import { queueEncoded } from '../connection/hooks.ts';
import { ErrorCode, InvalidStateError, ProtocolError, WebSocketError } from '../errors.ts';
import { CloseCode } from '../frame/close-code.ts';
import { ReadyState } from '../ready-state.ts';
import { defineFlags } from './flags.ts';
import { isBlob } from './send-data.ts';
import type { AttachOptions } from './types.ts';
import { Writer } from './writer.ts';

/**
 * A send waiting behind a message that is being compressed (or a Blob being read), so that order is
 * kept. A Blob's bytes are read when its turn comes; `compress` is then decided. (The Close waits in
 * the core, behind the reserved sends.)
 */
type OutboundOperation =
  | {
      readonly kind: 'message';
      readonly data: Uint8Array | Blob;
      readonly binary: boolean;
      readonly fin: boolean;
      readonly compress: boolean;
      readonly callback: ((error?: Error) => void) | undefined;
    }
  | {
      readonly kind: 'ping' | 'pong';
      readonly data: Blob | Uint8Array;
      readonly callback: ((error?: Error) => void) | undefined;
    };

const NO_OPERATIONS: OutboundOperation[] = Object.freeze([]) as unknown as OutboundOperation[];

/** What the callbacks of messages lost in the outbox get when the socket goes (`ws`'s words). */
export const COMPRESSION_CUT_SHORT = 'The socket was closed while data was being compressed';
/** The same, for a Blob that was being read. */
export const BLOB_CUT_SHORT = 'The socket was closed while the blob was being read';

/** The ordering half of a connection's driver; see the module comment. */
export abstract class Outbox extends Writer {
  abstract afterClosedState(): void;
  abstract dispatch(event: ConnectionEvent): void;
  abstract emitError(error: Error): void;
  abstract onSocketClose(): void;
  abstract startCloseTimer(): void;

  deflate: AttachOptions['deflate'] = undefined;
  /** Sends queued behind a compression in progress; a shared empty array when nothing ever waited. */
  outbox: OutboundOperation[] = NO_OPERATIONS;
  /** Their bytes (Blobs by their size), counted in `bufferedAmount`. */
  outboxBytes = 0;
  /** A message is being compressed, or a Blob read: everything behind it waits. */
  declare compressing: boolean;
  /** The callback of the message being compressed, told at once if the socket closes meanwhile. */
  compressingCallback: ((error?: Error) => void) | null = null;
  /** A fragmented message of ours is in progress (its first fragment sent, not its last). */
  declare sendingFragments: boolean;
  /** Whether that message is compressed (decided on its first fragment). */
  declare fragmentsCompressed: boolean;
  /** The socket closed while a compressed message was being inflated: finish once it is delivered. */
  declare closeAfterInflate: boolean;

  /**
   * Queues a data frame already encoded by the server (unmasked, RSV1 clear), so that a broadcast
   * encodes once for every client. Behind messages still being compressed, `data` is queued
   * uncompressed instead, so that order is kept.
   * @returns false when the socket is not OPEN or a fragmented message of ours is in progress.
   */
  sendEncoded(frame: readonly Uint8Array[], data: Uint8Array, binary: boolean): boolean {
    const connection = this.connection;
    if (this.readyState !== ReadyState.OPEN || connection === null || connection.closeSent) return false;
    if (this.sendingFragments) return false;
    if (this.outbox.length > 0 || this.compressing) {
      connection.reserveSend();
      this.outbox.push({ kind: 'message', data, binary, fin: true, compress: false, callback: undefined });
      this.outboxBytes += data.length;
      this.pumpOutbox();
      return true;
    }
    if (!connection[queueEncoded](frame)) return false;
    this.scheduleFlush();
    return true;
  }

  /**
   * Queues an operation behind what is being compressed or read; the outbox exists from then on. The
   * core reserves its place, so that a Close waits for it (§5.5.1).
   */
  enqueue(operation: OutboundOperation, bytes: number): void {
    this.connection!.reserveSend();
    if (this.outbox === NO_OPERATIONS) this.outbox = [];
    this.outbox.push(operation);
    this.outboxBytes += bytes;
    this.pumpOutbox();
  }

  // --- permessage-deflate: ordered inflation and compression ------------------------------------

  /** Whether to compress this message (RFC 7692): negotiated, not opted out, and worth it. */
  shouldCompress(length: number, requested: boolean | undefined, fin: boolean): boolean {
    const deflate = this.deflate;
    let compress = false;
    if (this.sendingFragments) {
      compress = this.fragmentsCompressed; // every fragment of a message goes the same way
    } else if (deflate?.codec.canCompress && requested !== false) {
      compress = length >= deflate.threshold;
    }
    this.sendingFragments = !fin;
    this.fragmentsCompressed = !fin && compress;
    return compress;
  }

  /**
   * Sends queued operations in order; a compression in progress, or a Blob being read, holds back
   * everything behind it.
   */
  pumpOutbox(): void {
    const connection = this.connection!;
    while (!this.compressing && this.outbox.length > 0) {
      const head = this.outbox[0]!;
      if (isBlob(head.data)) {
        this.readBlob(head, head.data);
        return;
      }
      const operation = this.outbox.shift()!;
      if (operation.kind !== 'message') {
        // A Blob's Ping or Pong, now read (readBlob put its bytes in place of the Blob).
        if (connection.closeSent) {
          overtakenByClose(operation.callback);
        } else {
          if (operation.kind === 'ping') connection.ping(operation.data as Uint8Array);
          else connection.pong(operation.data as Uint8Array);
          this.scheduleFlush(operation.callback);
        }
        this.releaseSend();
        continue;
      }
      const data = operation.data as Uint8Array; // read by now, if it was a Blob
      if (!operation.compress) {
        this.outboxBytes -= data.length;
        if (connection.closeSent) {
          overtakenByClose(operation.callback);
        } else {
          connection.send(data, operation.binary, operation.fin);
          this.scheduleFlush(operation.callback);
        }
        this.releaseSend();
        continue;
      }
      this.compressing = true;
      this.compressingCallback = operation.callback ?? null;
      this.deflate!.codec.compress(data, operation.fin, (error, compressed) => {
        this.compressing = false;
        // The socket closed meanwhile: onSocketClose has told the callback already (as `ws` does,
        // before 'close', not when zlib is done), and there is nothing left to send.
        if (this.readyState === ReadyState.CLOSED) return;
        // terminate() destroyed it, and 'close' is still to come: the same, now.
        if (this.socket?.destroyed === true) return this.cutShort(COMPRESSION_CUT_SHORT);
        this.compressingCallback = null;
        this.outboxBytes -= data.length;
        // Our zlib failed (not the peer): the message is lost, so fail the connection with the
        // error's code (1011) rather than send what follows it as if nothing were missing.
        if (error instanceof ProtocolError) this.failFromWrapper(error);
        if (error) {
          operation.callback?.(error);
        } else if (compressed === undefined || connection.closeSent) {
          overtakenByClose(operation.callback);
        } else {
          connection.send(compressed, operation.binary, operation.fin, true);
          this.scheduleFlush(operation.callback);
        }
        this.releaseSend();
        this.pumpOutbox();
      });
    }
  }

  /**
   * Tells the core that the operation just taken from the outbox is done (sent, or dropped); once
   * none is left, the Close that waited for them is queued, and leaves now.
   */
  releaseSend(): void {
    if (!this.connection!.releaseSend()) return;
    this.flush();
    this.afterClosedState();
  }

  /**
   * Reads a queued Blob (the head of the outbox) and puts its bytes in its place; the outbox waits
   * meanwhile, as it does for a compression. If the connection closed meanwhile (the outbox was
   * emptied and its callbacks told), the bytes are dropped.
   */
  readBlob(operation: OutboundOperation, blob: Blob): void {
    this.compressing = true;
    const done = (bytes: Uint8Array | null, error?: unknown) => {
      this.compressing = false;
      if (this.outbox[0] !== operation) return; // the socket closed while reading
      if (this.socket?.destroyed === true) return this.cutShort(BLOB_CUT_SHORT); // terminate()
      if (bytes === null) {
        this.outbox.shift();
        this.outboxBytes -= blob.size;
        this.blobUnreadable(operation, error);
      } else {
        // Its data is now bytes; the size may only differ if the Blob lied about it.
        this.outboxBytes += bytes.length - blob.size;
        this.outbox[0] = { ...operation, data: bytes } as OutboundOperation;
      }
      this.pumpOutbox();
    };
    // Out of the promise chain: an exception from a listener or callback called from here is uncaught,
    // as everywhere else in the WebSocket, not an unhandled rejection.
    blob.arrayBuffer().then(
      (buffer) => process.nextTick(done, new Uint8Array(buffer)),
      (error: unknown) => process.nextTick(done, null, error),
    );
  }

  /**
   * The socket is gone while the outbox was busy (compressing a message, or reading a Blob): the
   * message in progress and everything queued behind it are lost, and their callbacks hear so, in
   * order and in `ws`'s words.
   */
  cutShort(message: string): void {
    const compressing = this.compressingCallback;
    // Most connections close with nothing queued: no error to build (its stack is not free).
    if (compressing === null && this.outbox.length === 0) return;
    const error = new WebSocketError(ErrorCode.ConnectionLost, message);
    this.compressingCallback = null;
    const unsent = this.outbox;
    if (this.outbox.length > 0) this.outbox = [];
    this.outboxBytes = 0;
    compressing?.(error);
    for (const operation of unsent) operation.callback?.(error);
  }

  /** Whether the head of the outbox is a Blob being read (for the words of `cutShort`). */
  get readingBlob(): boolean {
    const head = this.outbox[0];
    return this.compressing && head !== undefined && isBlob(head.data);
  }

  /**
   * A Blob given to send() could not be read (its file changed, as `fs.openAsBlob` reports): the
   * message is lost, so, as in `ws`, 'error' is emitted and the connection is closed rather than send
   * what follows as if nothing were missing; we close with 1011 (§7.4.1: "an unexpected condition
   * that prevented it from fulfilling the request"). What was queued behind it is not sent, and its
   * callbacks hear so.
   */
  blobUnreadable(operation: OutboundOperation, cause: unknown): void {
    const detail = cause instanceof Error ? `: ${cause.message}` : '';
    const failure = new WebSocketError(
      ErrorCode.InvalidArgument,
      `a Blob given to send() could not be read${detail}; the connection is closed with 1011, as the messages after it cannot keep their order`,
      { cause },
    );
    operation.callback?.(failure);
    this.emitError(failure);
    const connection = this.connection!;
    // What waited behind the lost message will not be sent (pumpOutbox finds the Close sent), and a
    // Close that waited for it gives way to this one.
    connection.dropReservedSends();
    if (this.readyState === ReadyState.CLOSED || connection.closeSent) return;
    connection.close(CloseCode.InternalError, '');
    this.readyState = ReadyState.CLOSING;
    this.startCloseTimer();
    this.flush();
    this.afterClosedState();
  }

  /**
   * Inflates the compressed message the core handed out. The core decodes nothing more until it gets
   * it back (RFC 7692 messages stay in order), and reading stops meanwhile, so a connection holds at
   * most one message waiting for zlib while the rest of what the peer sends waits in TCP.
   */
  inflate(data: Buffer): void {
    this.updateReading();
    this.deflate!.codec.decompress([data], (error, inflated) => this.inflated(error, inflated));
  }

  /**
   * The same for one piece of a message streamed piece by piece (`fin` on its last: RFC 7692 §7.2.2
   * appends the trailer there): what it inflates to is delivered before the next piece is decoded.
   */
  inflatePiece(data: Buffer, fin: boolean): void {
    this.updateReading();
    this.deflate!.codec.decompressPiece(data, fin, (error, inflated) => this.inflated(error, inflated));
  }

  /** zlib is done with a message or a piece: hand it back to the core, or fail. */
  inflated(error: Error | null, inflated: Buffer | undefined): void {
    if (this.readyState === ReadyState.CLOSED) return;
    if (error instanceof ProtocolError) this.failFromWrapper(error);
    // Delivering may hand the codec the next message from inside this callback, which it allows.
    else if (!error && inflated !== undefined) this.afterInflate(inflated);
    // The socket closed meanwhile: once nothing more waits for zlib, finish what it started.
    if (this.closeAfterInflate && this.connection!.awaitingTransform === false) this.onSocketClose();
  }

  /** Delivers an inflated message (or piece), then decodes what arrived behind it, then reads again. */
  afterInflate(inflated: Buffer): void {
    const connection = this.connection!;
    if (this.readyState === ReadyState.CLOSED) return;
    this.receiving = true;
    try {
      for (const event of connection.completeMessage(inflated)) this.dispatch(event);
      for (let event = connection.next(); event !== null; event = connection.next()) this.dispatch(event);
    } finally {
      this.receiving = false;
    }
    this.flush();
    this.afterClosedState();
    this.updateReading();
  }

  /** Fails the connection for an error of ours (zlib), through the core: 'error', then a Close. */
  failFromWrapper(error: ProtocolError): void {
    for (const event of this.connection!.fail(error)) this.dispatch(event);
    this.flush();
    this.afterClosedState();
  }
}

defineFlags(Outbox.prototype, [
  'compressing',
  'closeAfterInflate',
  'sendingFragments',
  'fragmentsCompressed',
]);

/**
 * A queued message that the closing handshake overtook (the peer's Close was answered, or a failure
 * sent one, while it waited for compression): §5.5.1 forbids data after a Close, so it is never sent,
 * and its callback hears so, as a send() after close does.
 */
function overtakenByClose(callback: ((error?: Error) => void) | undefined): void {
  if (callback === undefined) return;
  const error = new InvalidStateError('WebSocket is closing: a Close frame was sent before this message');
  process.nextTick(callback, error);
}
