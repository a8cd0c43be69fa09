/**
 * The driver of one WebSocket: binds the pure {@link Connection} to a byte stream (a `net.Socket`, a
 * `tls.TLSSocket`, an HTTP/2 stream: any Duplex) and owns what the core must not: the socket
 * listeners, the writes, the close timer, the keep-alive step, and the lifecycle state the public
 * WebSocket reads (`readyState`, the close code).
 *
 *   socket 'data' ──▶ Connection.push() / next() ──▶ dispatch ──▶ 'message' | 'ping' | 'pong' | 'close' | 'error'
 *   send()/ping()/close() ──▶ Connection ──▶ takeOutgoing() ──▶ one write per batch ──▶ socket
 *
 * Writes are batched: frames queued while handling one incoming chunk (an echo, a pong) leave in one
 * write when the chunk is done, and frames queued by user code leave together at the end of the
 * current tick. A lone message is therefore written at once, with no added latency, while a burst
 * costs one system call instead of one per frame.
 *
 * Why the split is here: the WebSocket (src/websocket/websocket.ts) is the API users read; this file
 * is the machinery a maintainer changes, and its base class (src/websocket/outbox.ts) the ordering
 * around zlib and Blobs. The driver is one object made with its WebSocket; the per-message path
 * (socket 'data' → core → `emit('message')`, `send()` → core → write) goes through its methods
 * directly, with no closure, event object or allocation added per message. The socket listeners
 * are shared functions that find their driver through a symbol on the socket (no closures per
 * connection).
 */
import type { EventEmitter } from 'node:events';
import type { Duplex } from 'node:stream';
import { Connection, type ConnectionEvent } from '../connection/connection.ts';
import { transportClosed } from '../connection/hooks.ts';
import { DEFAULTS } from '../defaults.ts';
import { ErrorCode, WebSocketError } from '../errors.ts';
import { CloseCode } from '../frame/close-code.ts';
import { ReadyState } from '../ready-state.ts';
import { KeepAliveScheduler, keepAliveTick } from './keep-alive.ts';
import { BLOB_CUT_SHORT, COMPRESSION_CUT_SHORT, Outbox } from './outbox.ts';
import type { AttachOptions, WebSocketEvents } from './types.ts';

const HIGH_WATER_MARK = DEFAULTS.sendHighWaterMark;
const JOIN_BELOW_BYTES = DEFAULTS.joinBelowBytes;
const NO_CALLBACKS: readonly ((error?: Error) => void)[] = Object.freeze([]);

/** The connection machinery of one WebSocket; see the module comment. */
export class Driver extends Outbox {
  /** The WebSocket whose events this driver emits. */
  readonly ws: EventEmitter<WebSocketEvents>;
  readyState: ReadyState = ReadyState.CONNECTING;
  socket: Duplex | null = null;
  connection: Connection | null = null;
  receiving = false;
  closeTimeout = DEFAULTS.closeTimeout;
  closeTimer: NodeJS.Timeout | null = null;
  flushScheduled = false;
  /** `send()` callbacks waiting for their bytes to be written; created on first use. */
  pendingCallbacks: ((error?: Error) => void)[] | null = null;
  closeCode: number = CloseCode.Abnormal;
  closeReason = '';
  closeFrameReceived = false;
  closeEmitted = false;
  userPaused = false;
  /** True while 'open' is emitted (the socket is held until its listeners are attached). */
  opening = false;
  /** Keep-alive state: the shared scheduler, whether anything arrived since its last tick, the Ping deadline. */
  keepAlive: KeepAliveScheduler | null = null;
  heardFromPeer = false;
  nextHeartbeatAt = 0;
  silenceDeadline = 0;
  pingCounter = 0;

  constructor(ws: EventEmitter<WebSocketEvents>) {
    super();
    this.ws = ws;
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
    if (head.length > 0) socket.unshift(Buffer.from(head.buffer, head.byteOffset, head.length));
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

  /** Starts the closing handshake (§7.1.2) for `WebSocket.close()` once OPEN or CLOSING. */
  close(code: number | undefined, reason: string): void {
    const connection = this.connection;
    // A handshake that failed is CLOSING while 'error' is emitted, with no connection to close.
    if (connection === null) return;
    if (this.outbox.length > 0 || this.compressing) {
      // The core holds the Close behind the sends still reserved, compressed or read (§5.5.1: no data
      // after Close); the arguments are checked now, even once a Close was sent.
      connection.assertValidClose(code, reason);
      connection.close(code, reason);
      this.readyState = ReadyState.CLOSING;
      this.startCloseTimer();
      return;
    }
    connection.close(code, reason);
    this.readyState = ReadyState.CLOSING;
    this.startCloseTimer();
    this.flush();
    this.afterClosedState();
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
      const token = Buffer.allocUnsafe(4);
      token.writeUInt32BE(++this.pingCounter >>> 0);
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
        const data = Buffer.from(event.data.buffer, event.data.byteOffset, event.data.length);
        if (event.compressed) this.inflate(data);
        else this.ws.emit('message', data, event.binary);
        return;
      }
      case 'ping':
        this.ws.emit('ping', Buffer.from(event.data.buffer, event.data.byteOffset, event.data.length));
        return;
      case 'pong':
        this.ws.emit('pong', Buffer.from(event.data.buffer, event.data.byteOffset, event.data.length));
        return;
      case 'close':
        this.closeFrameReceived = true;
        this.closeCode = event.code;
        this.closeReason = event.reason;
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
    if (connection.role === 'server' || !this.closeFrameReceived) {
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
    // §7.1.5: without a received Close frame, "_The WebSocket Connection Close Code_ is considered to be 1006".
    const code = this.closeFrameReceived ? this.closeCode : CloseCode.Abnormal;
    this.ws.emit('close', code, Buffer.from(this.closeFrameReceived ? this.closeReason : ''));
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

  /** The socket wrote what it held: send what the core kept meanwhile, read again, tell the user. */
  onSocketDrain(): void {
    this.flush();
    this.updateReading();
    this.ws.emit('drain');
  }

  /**
   * Pauses or resumes reading from the socket for every reason at once: the user's `pause()`, a
   * compressed message being inflated (see `inflate`), and, on the server, outgoing bytes over the
   * high-water mark. A peer that sends but never reads (a ping flood, or messages an echo answers)
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

  releaseCallbacks(error?: Error): void {
    const callbacks = this.pendingCallbacks;
    if (callbacks === null) return;
    this.pendingCallbacks = null;
    for (const callback of callbacks) process.nextTick(callback, error);
  }
}

function flushOnTick(driver: Driver): void {
  driver.flushScheduled = false;
  driver.flush();
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
