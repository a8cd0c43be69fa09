/**
 * The driver of one WebSocket: binds the pure {@link Connection} to a byte stream (a `net.Socket`, a
 * `tls.TLSSocket`, an HTTP/2 stream: any Duplex) and owns what the core must not: the socket
 * listeners, the writes, the close timer, the keep-alive step, and the lifecycle state the public
 * WebSocket reads (`readyState`, the close code).
 *
 *   socket 'data' ──▶ Connection.push() / next() ──▶ dispatch ──▶ 'message' | 'ping' | 'pong' | 'close' | 'error'
 *   send()/ping()/close() ──▶ Connection ──▶ takeOutgoing() ──▶ one write per batch ──▶ socket
 *
 * Why the split is here: the WebSocket (src/websocket/websocket.ts) is the API users read; this file
 * is the machinery a maintainer changes, in three layers of one class: writer.ts (write batching and
 * reading control), outbox.ts (the ordering around zlib and Blobs), and this file (the socket, the
 * lifecycle, sending). The driver is one object made with its WebSocket; the per-message path
 * (socket 'data' → core → `emit('message')`, `send()` → core → write) goes through its methods
 * directly, with no closure, event object or allocation added per message. The socket listeners
 * are shared functions that find their driver through a symbol on the socket (no closures per
 * connection).
 */
import { Buffer } from 'node:buffer';
import type { EventEmitter } from 'node:events';
import type { Duplex } from 'node:stream';
import { Connection, type ConnectionEvent } from '../connection/connection.ts';
import { transportClosed } from '../connection/hooks.ts';
import { DEFAULTS } from '../defaults.ts';
import { ErrorCode, InvalidArgumentError, WebSocketError } from '../errors.ts';
import { CloseCode } from '../frame/close-code.ts';
import { MAX_CONTROL_PAYLOAD_LENGTH } from '../frame/frame.ts';
import { setMaskWordSize } from '../frame/mask.ts';
import { ReadyState } from '../ready-state.ts';
import { defineFlags } from './flags.ts';
import { KeepAliveScheduler, keepAliveTick } from './keep-alive.ts';
import { BLOB_CUT_SHORT, COMPRESSION_CUT_SHORT, Outbox } from './outbox.ts';
import { EMPTY_BYTES, isBlob, notOpenYet, type SendData, toBytes } from './send-data.ts';
import type { AttachOptions, CloseHooks, SendOptions, WebSocketEvents } from './types.ts';

const HIGH_WATER_MARK = DEFAULTS.sendHighWaterMark;
const NO_CALLBACKS: readonly ((error?: Error) => void)[] = Object.freeze([]);

// Bun's engine (JavaScriptCore) allocates a BigInt for every step of the core's 64-bit masking
// loop; with 32-bit steps it masks as fast as V8 does with 64 (src/frame/mask.ts).
if (process.versions.bun !== undefined) setMaskWordSize(32);

/** The connection machinery of one WebSocket (its write batching in {@link Writer}); see the module comment. */
export class Driver extends Outbox {
  closeTimeout = DEFAULTS.closeTimeout;
  closeTimer: NodeJS.Timeout | null = null;
  /** The peer's Close frame (the core's 'close' event, its code and reason), once received; null before. */
  closeFrame: { readonly code: number; readonly reason: string } | null = null;
  declare closeEmitted: boolean;
  /** Server side: what the accepting server does when this socket closes; null on the client side. */
  closeHooks: CloseHooks<EventEmitter<WebSocketEvents>> | null = null;
  /** True while 'open' is emitted (the socket is held until its listeners are attached). */
  declare opening: boolean;
  /** Keep-alive state: the shared scheduler and the Ping deadline (`heardFromPeer` is in writer.ts). */
  keepAlive: KeepAliveScheduler | null = null;
  nextHeartbeatAt = 0;
  silenceDeadline = 0;
  /**
   * Where the pieces of messages go while the Connection streams them (`streamMessages`, set with
   * the WebSocket's `receiveParts` hook, for WebSocketStream); null otherwise.
   */
  partListener: ((data: Buffer, binary: boolean, fin: boolean) => void) | null = null;

  /** §7.1.5: the received Close frame's code; without one, "considered to be 1006". */
  get closeCode(): number {
    return this.closeFrame?.code ?? CloseCode.Abnormal;
  }

  /** Binds a socket whose opening handshake succeeded, and emits 'open'. */
  attach(socket: Duplex, head: Uint8Array, options: AttachOptions): void {
    this.socket = socket;
    this.closeTimeout = options.closeTimeout;
    this.connection = new Connection({
      role: options.role,
      maxPayload: options.maxPayload,
      generateMaskKey: options.generateMaskKey,
      autoPong: options.autoPong,
      perMessageDeflate: options.deflate !== undefined,
    });
    this.deflate = options.deflate;
    if (options.deflate !== undefined) {
      // Only compressed traffic needs the ordered queue; idle connections without it stay small.
      this.outbox = [];
    }
    socket.pause(); // until the listeners of 'open' and 'connection' are attached
    if ('setNoDelay' in socket && typeof socket.setNoDelay === 'function') socket.setNoDelay(true);
    // Clear an idle timeout an HTTP server may have set (only if set: it allocates a timer otherwise).
    if (
      'timeout' in socket &&
      socket.timeout &&
      'setTimeout' in socket &&
      typeof socket.setTimeout === 'function'
    ) {
      socket.setTimeout(0);
    }
    // Shared listener functions (no closures per connection) find their driver through a symbol.
    (socket as SocketWithOwner)[kOwner] = this;
    socket.on('data', socketOnData);
    socket.on('end', socketOnEnd);
    socket.on('close', socketOnClose);
    socket.on('error', socketOnError);
    socket.on('drain', socketOnDrain);
    this.readyState = ReadyState.OPEN;
    if (options.keepAlive !== undefined && options.keepAlive.interval > 0) {
      this.keepAlive = KeepAliveScheduler.for(options.keepAlive);
      this.nextHeartbeatAt = performance.now() + this.keepAlive.interval;
      this.keepAlive.add(this);
    }
    // Frames that arrived with the handshake are put back into the socket: they are read on the next
    // tick, after the server's 'connection' or the client's 'open' listeners have been attached.
    if (head.length > 0) socket.unshift(asBuffer(head));
    this.opening = true;
    try {
      this.ws.emit('open'); // an exception from a listener propagates (uncaught, as in `ws`)...
    } finally {
      this.opening = false;
      // ...and the connection still reads, as it would have without it, unless a listener paused it.
      if (!this.userPaused) socket.resume(); // flows from the next tick on
      if (socket.readableEnded) this.onSocketEnd();
    }
  }

  /**
   * Starts the closing handshake (§7.1.2) for `WebSocket.close()` once OPEN or CLOSING.
   * @throws {InvalidArgumentError} (code WS_ERR_INVALID_ARGUMENT) for an invalid code or a reason too long.
   */
  close(code: number | undefined, reason: string): void {
    const connection = this.connection;
    // A handshake that failed is CLOSING while 'error' is emitted, with no connection to close.
    if (connection === null) return;
    // With sends still reserved (compressed or read), the core holds the Close behind them (§5.5.1:
    // no data after Close); the arguments are checked now, even once a Close was sent.
    const held = this.outbox.length > 0 || this.compressing;
    if (held) connection.assertValidClose(code, reason);
    connection.close(code, reason);
    this.readyState = ReadyState.CLOSING;
    this.startCloseTimer();
    if (held) return;
    this.flush();
    this.afterClosedState();
  }

  /**
   * `send()` once the WebSocket is past CONNECTING (see WebSocket.send for the contract).
   * @returns false when `bufferedAmount` is over the high-water mark.
   * @throws {InvalidArgumentError} (code WS_ERR_INVALID_ARGUMENT) for `data` of another type.
   */
  send(
    data: Exclude<SendData, number> | undefined,
    options: SendOptions | undefined,
    callback: ((error?: Error) => void) | undefined,
  ): boolean {
    const connection = this.connection;
    if (this.readyState !== ReadyState.OPEN || connection === null || connection.closeSent) {
      this.refuseAfterClose(data, callback);
      return false;
    }
    const binary = options?.binary ?? typeof data !== 'string';
    const fin = options?.fin ?? true;
    if (isBlob(data)) {
      // Read asynchronously, in order: everything sent after it waits in the outbox behind it.
      const compress = this.shouldCompress(data.size, options?.compress, fin);
      this.enqueue({ kind: 'message', data, binary, fin, compress, callback }, data.size);
      return this.bufferedAmount < HIGH_WATER_MARK;
    }
    const bytes = data === undefined ? EMPTY_BYTES : toBytes(data);
    const compress = this.shouldCompress(bytes.length, options?.compress, fin);
    if (compress || this.outbox.length > 0 || this.compressing) {
      this.enqueue({ kind: 'message', data: bytes, binary, fin, compress, callback }, bytes.length);
    } else {
      connection.send(bytes, binary, fin);
      this.scheduleFlush(callback);
    }
    return this.bufferedAmount < HIGH_WATER_MARK;
  }

  /**
   * `ping()`/`pong()`, with their arguments as the WebSocket got them (see WebSocket.ping).
   * @throws {InvalidStateError} (code WS_ERR_INVALID_STATE) while CONNECTING.
   * @throws {InvalidArgumentError} (code WS_ERR_INVALID_ARGUMENT) for data over 125 bytes.
   */
  control(
    kind: 'ping' | 'pong',
    data: SendData | ((error?: Error) => void) | undefined,
    mask: boolean | ((error?: Error) => void) | undefined,
    callback: ((error?: Error) => void) | undefined,
  ): void {
    if (this.readyState === ReadyState.CONNECTING) throw notOpenYet(kind);
    // `ws`'s optional arguments: the callback may come first or second.
    if (typeof data === 'function') {
      callback = data;
      data = undefined;
    } else if (typeof mask === 'function') {
      callback = mask;
    }
    if (typeof data === 'number') data = String(data);
    const connection = this.connection;
    if (this.readyState !== ReadyState.OPEN || connection === null || connection.closeSent) {
      this.refuseAfterClose(data, callback);
      return;
    }
    if (isBlob(data)) {
      // §5.5: "All control frames MUST have a payload length of 125 bytes or less"; checked now,
      // while the caller can still catch it, rather than when the Blob has been read.
      if (data.size > MAX_CONTROL_PAYLOAD_LENGTH) {
        throw new InvalidArgumentError(`a ${kind} payload must be at most 125 bytes (RFC 6455 §5.5)`);
      }
      this.enqueue({ kind, data, callback }, 0);
      return;
    }
    const bytes = data === undefined ? undefined : toBytes(data);
    if (kind === 'ping') connection.ping(bytes);
    else connection.pong(bytes);
    this.scheduleFlush(callback);
  }

  /** One keep-alive step, called by the shared scheduler (src/websocket/keep-alive.ts). */
  [keepAliveTick](now: number): void {
    const keepAlive = this.keepAlive;
    const connection = this.connection;
    if (keepAlive === null || connection === null || this.readyState !== ReadyState.OPEN) return;
    if (this.heardFromPeer) {
      this.heardFromPeer = false;
      this.silenceDeadline = 0;
    } else if (this.silenceDeadline !== 0 && now >= this.silenceDeadline) {
      this.emitError(
        new WebSocketError(
          ErrorCode.KeepAliveTimeout,
          `the peer stopped answering: nothing received for ${keepAlive.timeout} ms after a ping`,
        ),
      );
      this.socket?.destroy(); // 'close' follows with 1006
      return;
    }
    if (now < this.nextHeartbeatAt || connection.closeSent) return;
    this.nextHeartbeatAt = now + keepAlive.interval;
    if (keepAlive.timeout > 0) {
      // §5.5.2: the Pong must carry the Ping's data; a counter tells answers to old Pings apart.
      // One counter for the process: each connection's Pings still carry increasing numbers.
      const token = Buffer.allocUnsafe(4);
      token.writeUInt32BE(++pingsSent >>> 0);
      connection.ping(token);
      if (this.silenceDeadline === 0) this.silenceDeadline = now + keepAlive.timeout;
    } else {
      connection.pong();
    }
    this.scheduleFlush();
  }

  onData(chunk: Uint8Array): void {
    const connection = this.connection!;
    this.heardFromPeer = true; // any frame is a sign of life for keep-alive
    this.receiving = true;
    try {
      // One event at a time: what the application sends in answer to a message (an echo) is queued
      // before a later frame of the same chunk is even looked at.
      connection.push(chunk);
      for (let event = connection.next(); event !== null; event = connection.next()) this.dispatch(event);
    } finally {
      this.receiving = false;
    }
    this.flush();
    this.afterClosedState();
  }

  dispatch(event: ConnectionEvent): void {
    switch (event.type) {
      case 'message': {
        const data = asBuffer(event.data);
        if (event.compressed) this.inflate(data);
        else this.ws.emit('message', data, event.binary);
        return;
      }
      case 'message-part':
        if (event.compressed) this.inflatePiece(asBuffer(event.data), event.fin);
        else this.partListener?.(asBuffer(event.data), event.binary, event.fin);
        return;
      case 'ping':
        this.ws.emit('ping', asBuffer(event.data));
        return;
      case 'pong':
        this.ws.emit('pong', asBuffer(event.data));
        return;
      case 'close':
        this.closeFrame = event;
        // The core answered the Close, or holds the answer behind the sends still reserved (§5.5.1).
        this.readyState = ReadyState.CLOSING;
        return;
      case 'fail':
        this.readyState = ReadyState.CLOSING;
        this.emitError(event.error);
        return;
    }
  }

  /** Once the core is CLOSED, close the transport: the server first (§7.1.1), the client after a timeout. */
  afterClosedState(): void {
    const connection = this.connection;
    if (connection === null || !connection.transportShouldClose) return;
    this.startCloseTimer();
    // §7.1.1: "the server SHOULD close the underlying TCP connection first"; a client that failed the
    // connection closes too rather than wait for a peer that broke the protocol.
    if (connection.role === 'server' || this.closeFrame === null) {
      this.flush(true); // the Close frame may be held in the core while the socket needs 'drain'
      this.socket?.end();
    }
  }

  onSocketEnd(): void {
    // The peer closed its side (§7.1.1); close ours after flushing what is queued.
    this.flush(true);
    // Only once: end() on a side already ended builds an error for nobody (ERR_STREAM_ALREADY_FINISHED).
    const socket = this.socket;
    if (socket !== null && !socket.writableEnded) socket.end();
  }

  /**
   * §7.1.4: "When the underlying TCP connection is closed, it is said that _The WebSocket Connection
   * is Closed_"; it was closed _cleanly_ if the closing handshake completed first. A transport lost
   * without it is §7.2.1's "unexpectedly lost" case: 'close' reports 1006 (§7.1.5) and the
   * application (or ReconnectingWebSocket, §7.2.3) decides what follows.
   */
  onSocketClose(): void {
    // A compressed message being inflated arrived before the end of the connection, and so did the
    // frames behind it (the peer's Close): deliver them first, as without compression, and close
    // when the inflation is done (inflate).
    if (this.connection?.awaitingTransform === true && this.readyState !== ReadyState.CLOSED) {
      this.closeAfterInflate = true;
      return;
    }
    // As in `ws`: the callbacks of what was not sent hear of it while CLOSING, before 'close', in
    // the order of the sends, and in `ws`'s words for what was cut short in the outbox.
    this.readyState = ReadyState.CLOSING;
    this.keepAlive?.delete(this);
    const readingBlob = this.readingBlob;
    this.deflate?.codec.close();
    if (this.closeTimer !== null) clearTimeout(this.closeTimer);
    this.closeTimer = null;
    this.connection?.[transportClosed]();
    const callbacks = this.pendingCallbacks ?? NO_CALLBACKS;
    this.pendingCallbacks = null;
    for (const callback of callbacks)
      callback(new WebSocketError(ErrorCode.ConnectionLost, 'connection closed'));
    this.cutShort(readingBlob ? BLOB_CUT_SHORT : COMPRESSION_CUT_SHORT);
    this.readyState = ReadyState.CLOSED;
    this.emitClose();
  }

  emitClose(): void {
    if (this.closeEmitted) return;
    this.closeEmitted = true;
    const code = this.closeCode; // 1006 without a received Close frame (§7.1.5, in the getter)
    const hooks = this.closeHooks;
    hooks?.socketClosing(this.ws);
    try {
      this.ws.emit('close', code, Buffer.from(this.closeFrame?.reason ?? ''));
    } finally {
      hooks?.socketClosed(this.ws);
    }
  }

  /** The client's opening handshake failed or was aborted. As in `ws`: CLOSING while 'error' is emitted, CLOSED from 'close' on. */
  handshakeFailed(error: WebSocketError): void {
    this.readyState = ReadyState.CLOSING;
    this.emitError(error);
    this.readyState = ReadyState.CLOSED;
    this.emitClose();
  }

  /** 'error' is emitted only to listeners: a peer's protocol violation must never crash a server. */
  emitError(error: Error): void {
    if (this.ws.listenerCount('error') > 0) this.ws.emit('error', error);
  }

  startCloseTimer(): void {
    if (this.closeTimer !== null || this.socket === null) return;
    const socket = this.socket;
    this.closeTimer = setTimeout(() => socket.destroy(), this.closeTimeout);
    this.closeTimer.unref?.();
  }

  /** The socket wrote what it held: send what the core kept meanwhile, read again, tell the user. */
  onSocketDrain(): void {
    this.flush();
    this.updateReading();
    this.ws.emit('drain');
  }
}

defineFlags(Driver.prototype, ['closeEmitted', 'opening']);

/** The number of the last keep-alive Ping sent, by any connection of the process. */
let pingsSent = 0;

/** The core's bytes as the Buffer the events carry: most are Buffers already (no new view object). */
function asBuffer(data: Uint8Array): Buffer {
  return Buffer.isBuffer(data) ? data : Buffer.from(data.buffer, data.byteOffset, data.length);
}

/** The socket's back-reference to its driver, for the shared listener functions below. */
const kOwner = Symbol('sockwire.owner');
type SocketWithOwner = Duplex & { [kOwner]: Driver };

function socketOnData(this: SocketWithOwner, chunk: Buffer): void {
  this[kOwner].onData(chunk);
}
function socketOnEnd(this: SocketWithOwner): void {
  this[kOwner].onSocketEnd();
}
function socketOnClose(this: SocketWithOwner): void {
  this[kOwner].onSocketClose();
}
function socketOnError(this: SocketWithOwner): void {
  this.destroy(); // a reset or broken pipe: 'close' follows, with 1006
}
function socketOnDrain(this: SocketWithOwner): void {
  this[kOwner].onSocketDrain();
}
