/**
 * The public WebSocket: binds a pure {@link Connection} to a byte stream (a `net.Socket`, a
 * `tls.TLSSocket`, an HTTP/2 stream: any Duplex) and owns what the core must not: the socket, the
 * timers and the events.
 *
 *   socket 'data' ──▶ Connection.receive() ──▶ events ──▶ 'message' | 'ping' | 'pong' | 'close' | 'error'
 *   send()/ping()/close() ──▶ Connection ──▶ takeOutgoing() ──▶ one write per batch ──▶ socket
 *
 * Writes are batched: frames queued while handling one incoming chunk (an echo, a pong) leave in one
 * write when the chunk is done, and frames queued by user code leave together at the end of the
 * current tick. A lone message is therefore written at once, with no added latency, while a burst
 * costs one system call instead of one per frame.
 *
 * The API is a drop-in for the common subset of `ws` (EventEmitter, `(data, isBinary)` messages,
 * `(code, reason)` closes) and also implements the WHATWG interface (`onmessage`, `addEventListener`,
 * `readyState`, `binaryType`) and async iteration over messages.
 */
import { EventEmitter } from 'node:events';
import type { ClientRequest, IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { type ClientOptions, clientUrl, connectClient } from './client/connect.ts';
import { Connection, type ConnectionEvent, type Role } from './connection/connection.ts';
import { DEFAULTS } from './defaults.ts';
import { ErrorCode, InvalidStateError, ProtocolError, WebSocketError } from './errors.ts';
import { CloseEvent, ErrorEvent, MessageEvent, WebSocketEvent } from './events.ts';
import type { PerMessageDeflateCodec } from './extensions/permessage-deflate/codec.ts';
import { CloseCode } from './frame/close-code.ts';
import { MAX_CONTROL_PAYLOAD_LENGTH } from './frame/frame.ts';
import {
  acceptingServer,
  attachSocket,
  failHandshake,
  handshakeProgress,
  sendEncoded,
  socketEvent,
} from './internal.ts';
import { type KeepAliveOptions, KeepAliveScheduler, keepAliveTick } from './keep-alive.ts';
import { ReadyState } from './ready-state.ts';

/** The server's topic registry, as a server-side WebSocket sees it (see `subscribe()`). */
export interface TopicRegistry {
  subscribe(ws: WebSocket, topic: string): boolean;
  unsubscribe(ws: WebSocket, topic: string): boolean;
  isSubscribed(ws: WebSocket, topic: string): boolean;
}

/** How binary messages are delivered to WHATWG-style listeners (`onmessage`, `addEventListener`). */
export type BinaryType = 'nodebuffer' | 'arraybuffer' | 'fragments' | 'blob';

/** A binary message as WHATWG-style listeners receive it, depending on `binaryType`. */
export type RawData = Buffer | ArrayBuffer | Buffer[] | Blob;

/**
 * Data accepted by `send()`, `ping()` and `pong()`. Strings go as text, everything else as binary
 * unless told otherwise; a number is sent as its decimal text (as in `ws`), and a Blob is read
 * first, its message keeping its place among the others.
 */
export type SendData =
  | string
  | number
  | Buffer
  | Uint8Array
  | ArrayBuffer
  | ArrayBufferView
  | Blob
  | readonly Buffer[];

/** The events of the WHATWG WebSocket interface, the only ones `addEventListener` takes (as `ws`). */
const WHATWG_EVENT_TYPES: readonly string[] = ['open', 'message', 'error', 'close'];

/** The values `binaryType` accepts; any other is ignored, as in `ws` and browsers (WebIDL enum). */
const BINARY_TYPES: readonly BinaryType[] = ['nodebuffer', 'arraybuffer', 'fragments', 'blob'];

export interface SendOptions {
  /** Send as a binary message (default: true unless `data` is a string). */
  readonly binary?: boolean;
  /** False to send one fragment of a message; the last fragment has `fin: true` (default true). */
  readonly fin?: boolean;
  /** Per-message opt-out of compression, for secrets (RFC 7692; ignored until it is negotiated). */
  readonly compress?: boolean;
  /** Accepted for `ws` compatibility; frames are always masked by clients and never by servers (§5.1). */
  readonly mask?: boolean;
}

/** Options shared by both ends of a connection. */
export interface ConnectionSettings {
  /** Largest message accepted, in bytes; larger closes with 1009. Default 100 MiB (as `ws`). */
  readonly maxPayload?: number;
  /**
   * How long to wait for the peer to finish the closing handshake and close the TCP connection before
   * destroying the socket, in ms. Default 30 s: the same as `ws`, long enough for a slow peer.
   */
  readonly closeTimeout?: number;
  /**
   * Heartbeats on an idle connection (see src/keep-alive.ts): `{ interval }` sends unsolicited Pongs,
   * `{ interval, timeout }` sends Pings and aborts the connection (1006, and an error with code
   * WS_ERR_KEEPALIVE_TIMEOUT) when the peer stays silent `timeout` ms after one. Default: off, as in
   * `ws` and browsers: heartbeats cost traffic on every idle connection, so an application opts in
   * with periods that suit its network (30 s is a common choice behind NATs).
   */
  readonly keepAlive?: KeepAliveOptions;
  /**
   * Answer every received Ping with a Pong automatically (default true, as in `ws`). With false,
   * 'ping' is still emitted and the application must answer with `pong(data)` itself (§5.5.2:
   * the endpoint "MUST send a Pong frame in response").
   */
  readonly autoPong?: boolean;
}

/** Everything the server or the client knows once the opening handshake succeeded. */
export interface AttachOptions {
  readonly role: Role;
  readonly protocol: string;
  readonly extensions: string;
  readonly maxPayload: number;
  readonly closeTimeout: number;
  readonly keepAlive?: KeepAliveOptions | undefined;
  readonly autoPong?: boolean | undefined;
  readonly generateMaskKey?: (() => Uint8Array) | undefined;
  readonly url?: string;
  /** Present when permessage-deflate was negotiated (RFC 7692). */
  readonly deflate?: { readonly codec: PerMessageDeflateCodec; readonly threshold: number } | undefined;
}

/**
 * A send or close waiting behind a message that is being compressed (or a Blob being read), so that
 * order is kept. A Blob's bytes are read when its turn comes; `compress` is then decided.
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
    }
  | { readonly kind: 'close'; readonly code: number | undefined; readonly reason: string };

const HIGH_WATER_MARK = DEFAULTS.sendHighWaterMark;
const JOIN_BELOW_BYTES = DEFAULTS.joinBelowBytes;
const ITERATOR_HIGH_WATER_MARK = DEFAULTS.iteratorHighWaterMark;

// biome-ignore lint/suspicious/noExplicitAny: listeners of different events take different arguments
type Listener = (...args: any[]) => void;
type WhatwgHandler = ((event: never) => void) | null;
/** A WHATWG event listener: a function, or an object with a `handleEvent` method (DOM §2.7). */
type WhatwgCallback = Listener | { handleEvent: Listener };

/** The events of a WebSocket and their listener arguments (`ws`-compatible). */
export interface WebSocketEvents {
  open: [];
  /** A whole message: a Buffer (text too, as in `ws`; see `binaryType`) and whether it was binary. */
  message: [data: Buffer, isBinary: boolean];
  /** Exactly once. `code` is 1006 when no Close frame was received (§7.1.5). */
  close: [code: number, reason: Buffer];
  /** Emitted only when there is a listener (a peer's bad input must not crash the process). */
  error: [error: Error];
  ping: [data: Buffer];
  pong: [data: Buffer];
  /** `bufferedAmount` went back under the high-water mark after `send()` returned false. */
  drain: [];
  /** Client: the server's 101 response (an `http.IncomingMessage`, as in `ws`), before 'open'. */
  upgrade: [response: IncomingMessage];
  /**
   * Client with `followRedirects`: the URL of the next request, which is not sent yet (its header
   * fields may still be changed), as in `ws`.
   */
  redirect: [url: string, request: ClientRequest];
  /**
   * Client: the server answered something other than 101. With a listener, it owns the response
   * (read it, then `close()` the WebSocket) and no 'error' is emitted, as in `ws`.
   */
  'unexpected-response': [request: ClientRequest, response: IncomingMessage];
}

export class WebSocket extends EventEmitter<WebSocketEvents> {
  // The ready-state constants are defined after the class, on the class and on the prototype, with
  // the descriptors of the WebIDL constants (and of `ws`): enumerable, read-only, non-configurable.
  declare static readonly CONNECTING: 0;
  declare static readonly OPEN: 1;
  declare static readonly CLOSING: 2;
  declare static readonly CLOSED: 3;
  declare readonly CONNECTING: 0;
  declare readonly OPEN: 1;
  declare readonly CLOSING: 2;
  declare readonly CLOSED: 3;

  #binaryType: BinaryType = 'nodebuffer';
  /**
   * Server side: the `user` that an async `verifyClient` returned with `{ accept: true, user }`, set
   * before 'connection' fires; `undefined` otherwise (and always on the client side).
   */
  user: unknown = undefined;
  #readyState: ReadyState = ReadyState.CONNECTING;
  #url = '';
  #protocol = '';
  #extensions = '';
  #socket: Duplex | null = null;
  #connection: Connection | null = null;
  #closeTimeout = DEFAULTS.closeTimeout;
  #closeTimer: NodeJS.Timeout | null = null;
  /** True while a received chunk is being handled: writes wait until it is done. */
  #receiving = false;
  #flushScheduled = false;
  /** `send()` callbacks waiting for their bytes to be written; created on first use. */
  #pendingCallbacks: ((error?: Error) => void)[] | null = null;
  #closeCode: number = CloseCode.Abnormal;
  #closeReason = '';
  #closeFrameReceived = false;
  #closeEmitted = false;
  #abortConnect: (() => void) | null = null;
  #deflate: AttachOptions['deflate'] = undefined;
  /** Sends queued behind a compression in progress; null when nothing is waiting. */
  #outbox: OutboundOperation[] = NO_OPERATIONS;
  #outboxBytes = 0;
  #compressing = false;
  /** Whether the outgoing fragmented message in progress is compressed (decided on its first fragment). */
  #fragmentsCompressed: boolean | null = null;
  #userPaused = false;
  /** The peer's Close, to be answered once the messages received before it are delivered. */
  #closeAnswer: { readonly code: number; readonly reason: string } | null = null;
  /**
   * Bytes of the sends refused after close: `bufferedAmount` keeps counting them, as the WHATWG
   * interface asks ("increase the bufferedAmount attribute by the length of data", for a send in
   * CLOSING or CLOSED) and as `ws` does.
   */
  #refusedBytes = 0;
  /** The callback of the message being compressed, told at once if the socket closes meanwhile. */
  #compressingCallback: ((error?: Error) => void) | null = null;
  /** True while 'open' is emitted (the socket is held until its listeners are attached). */
  #opening = false;
  /** The socket closed while a compressed message was being inflated: finish once it is delivered. */
  #closeAfterInflate = false;
  /** Keep-alive state: the shared scheduler, whether anything arrived since its last tick, the Ping deadline. */
  #keepAlive: KeepAliveScheduler | null = null;
  #heardFromPeer = false;
  #nextHeartbeatAt = 0;
  #silenceDeadline = 0;
  #pingCounter = 0;
  /** Client: the HTTP/1.1 handshake request in flight, for the `_req` accessor (as `ws`). */
  #handshakeRequest: ClientRequest | null = null;
  /** Client: redirects followed so far, for `_redirects`; undefined on the server side, as in `ws`. */
  #redirects: number | undefined = undefined;

  /**
   * Opens a client connection (see src/client). The server creates its sockets internally.
   * @param url - `ws://`, `wss://` or `ws+unix://` URL.
   * @param protocols - subprotocols to offer, most preferred first (RFC 6455 §4.1 item 10).
   */
  constructor(
    url?: string | URL | null,
    protocols?: string | readonly string[] | ClientOptions,
    options?: ClientOptions,
  ) {
    super();
    if (url !== undefined && url !== null) {
      if (protocols !== undefined && typeof protocols === 'object' && !Array.isArray(protocols)) {
        options = protocols as ClientOptions;
        protocols = undefined;
      }
      const offered = protocols === undefined ? [] : typeof protocols === 'string' ? [protocols] : protocols;
      this.#url = clientUrl(url);
      this.#redirects = 0;
      this.#abortConnect = connectClient(this, url, offered as readonly string[], options ?? {});
    }
  }

  /**
   * How binary messages reach WHATWG-style listeners (`onmessage`, `addEventListener`): Buffer
   * (default, as `ws`), ArrayBuffer (as browsers), Buffer[] or Blob. Node-style `on('message')`
   * listeners always get a Buffer, so that their type is exact. Setting any other value is ignored,
   * as in `ws` and browsers.
   */
  get binaryType(): BinaryType {
    return this.#binaryType;
  }
  set binaryType(type: BinaryType) {
    if (BINARY_TYPES.includes(type)) this.#binaryType = type;
  }

  get readyState(): ReadyState {
    return this.#readyState;
  }
  get url(): string {
    return this.#url;
  }
  /** The subprotocol the server selected, or '' (RFC 6455 §4.2.2 item 4). */
  get protocol(): string {
    return this.#protocol;
  }
  /** The extensions in use, as negotiated in `Sec-WebSocket-Extensions` (§9.1), or ''. */
  get extensions(): string {
    return this.#extensions;
  }
  /** Bytes queued for sending and not yet handed to the operating system. */
  get bufferedAmount(): number {
    return (
      (this.#socket?.writableLength ?? 0) +
      (this.#connection?.outgoingBytes ?? 0) +
      this.#outboxBytes +
      this.#refusedBytes
    );
  }
  /**
   * Whether reading is paused: by `pause()` (until `resume()`, as in `ws`), or by the WebSocket itself
   * for backpressure (see `#updateReading`). Not while 'open' is emitted: the socket waits for its
   * listeners then, which is no pause of the application's.
   */
  get isPaused(): boolean {
    if (this.#userPaused) return true;
    const socket = this.#socket;
    if (socket === null || this.#opening || socket.destroyed) return false;
    return socket.isPaused();
  }

  /**
   * @deprecated Mirrors `ws`'s private `_socket` for code written against `ws`; nothing public exposes the socket.
   * The connection's `net.Socket` or `tls.TLSSocket` (or the Duplex it runs over: an HTTP/2 stream, the
   * stream given to `handleUpgrade()`) from 'open' on, kept after 'close'; null before, as in `ws`.
   */
  get _socket(): Duplex | null {
    return this.#socket;
  }

  /**
   * @deprecated Mirrors `ws`'s private `_req` for code written against `ws`; prefer `finishRequest` and 'redirect'.
   * The handshake's `http.ClientRequest`, from the constructor on, replaced on each redirect; null once
   * the handshake is over, on the server side, and over HTTP/2 (RFC 8441 has no `ClientRequest`).
   */
  get _req(): ClientRequest | null {
    return this.#handshakeRequest;
  }

  /**
   * @deprecated Mirrors `ws`'s private `_redirects` for code written against `ws`; prefer counting 'redirect' events.
   * The redirects received with `followRedirects`, a refused one (over `maxRedirects`, an invalid
   * Location) included, as in `ws`; 0 without `followRedirects`, undefined on the server side.
   */
  get _redirects(): number | undefined {
    return this.#redirects;
  }

  /** Internal: called by the server or client once the opening handshake has succeeded. */
  [attachSocket](socket: Duplex, head: Uint8Array, options: AttachOptions): void {
    this.#abortConnect = null; // connected: the dialer's closure is no longer needed
    this.#handshakeRequest = null;
    this.#socket = socket;
    this.#protocol = options.protocol;
    this.#extensions = options.extensions;
    if (options.url !== undefined) this.#url = options.url;
    this.#closeTimeout = options.closeTimeout;
    this.#connection = new Connection({
      role: options.role,
      maxPayload: options.maxPayload,
      generateMaskKey: options.generateMaskKey,
      autoPong: options.autoPong,
    });
    this.#deflate = options.deflate;
    if (options.deflate !== undefined) {
      this.#connection.enablePerMessageDeflate();
      // Compressed messages may still be in flight when the peer's Close arrives: answer it after them.
      this.#connection.holdCloseReply = true;
      // Only compressed traffic needs the ordered queue; idle connections without it stay small.
      this.#outbox = [];
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
    // Shared listener functions (no closures per connection) find their WebSocket through a symbol.
    (socket as SocketWithOwner)[kOwner] = this;
    socket.on('data', socketOnData);
    socket.on('end', socketOnEnd);
    socket.on('close', socketOnClose);
    socket.on('error', socketOnError);
    socket.on('drain', socketOnDrain);
    this.#readyState = ReadyState.OPEN;
    if (options.keepAlive !== undefined && options.keepAlive.interval > 0) {
      this.#keepAlive = KeepAliveScheduler.for(options.keepAlive);
      this.#nextHeartbeatAt = performance.now() + this.#keepAlive.interval;
      this.#keepAlive.add(this);
    }
    // Frames that arrived with the handshake are put back into the socket: they are read on the next
    // tick, after the server's 'connection' or the client's 'open' listeners have been attached.
    if (head.length > 0) socket.unshift(Buffer.from(head.buffer, head.byteOffset, head.length));
    this.#opening = true;
    try {
      this.emit('open'); // an exception from a listener propagates (uncaught, as in `ws`)...
    } finally {
      this.#opening = false;
      // ...and the connection still reads, as it would have without it, unless a listener paused it.
      if (!this.#userPaused) socket.resume(); // flows from the next tick on
      if (socket.readableEnded) this.#onSocketEnd();
    }
  }

  /** Internal: the shared socket listeners call in here. */
  [socketEvent](event: 'data' | 'end' | 'close' | 'drain', chunk?: Buffer): void {
    if (event === 'data') this.#onData(chunk!);
    else if (event === 'end') this.#onSocketEnd();
    else if (event === 'drain') this.#onSocketDrain();
    else this.#onSocketClose();
  }

  /** Internal: one keep-alive step, called by the shared scheduler (src/keep-alive.ts). */
  [keepAliveTick](now: number): void {
    const keepAlive = this.#keepAlive;
    const connection = this.#connection;
    if (keepAlive === null || connection === null || this.#readyState !== ReadyState.OPEN) return;
    if (this.#heardFromPeer) {
      this.#heardFromPeer = false;
      this.#silenceDeadline = 0;
    } else if (this.#silenceDeadline !== 0 && now >= this.#silenceDeadline) {
      this.#emitError(
        new WebSocketError(
          ErrorCode.KeepAliveTimeout,
          `the peer stopped answering: nothing received for ${keepAlive.timeout} ms after a ping`,
        ),
      );
      this.#socket?.destroy(); // 'close' follows with 1006
      return;
    }
    if (now < this.#nextHeartbeatAt || connection.closeSent) return;
    this.#nextHeartbeatAt = now + keepAlive.interval;
    if (keepAlive.timeout > 0) {
      // §5.5.2: the Pong must carry the Ping's data; a counter tells answers to old Pings apart.
      const token = Buffer.allocUnsafe(4);
      token.writeUInt32BE(++this.#pingCounter >>> 0);
      connection.ping(token);
      if (this.#silenceDeadline === 0) this.#silenceDeadline = now + keepAlive.timeout;
    } else {
      connection.pong();
    }
    this.#scheduleFlush();
  }

  /** Internal: the client's opening handshake failed. */
  [failHandshake](error: WebSocketError): void {
    if (this.#readyState !== ReadyState.CONNECTING) return;
    this.#abortConnect = null;
    this.#reportHandshakeFailure(error);
  }

  /** Internal: the client's handshake followed a redirect (`redirects`) or sent a new request. */
  [handshakeProgress](redirects: number, request?: ClientRequest): void {
    this.#redirects = redirects;
    if (request !== undefined) this.#handshakeRequest = request;
  }

  /** As in `ws`: CLOSING while 'error' is emitted, CLOSED from 'close' on. */
  #reportHandshakeFailure(error: WebSocketError): void {
    this.#handshakeRequest = null;
    this.#readyState = ReadyState.CLOSING;
    this.#emitError(error);
    this.#readyState = ReadyState.CLOSED;
    this.#emitClose();
  }

  /**
   * Sends a message (or a fragment with `fin: false`). `data` may be omitted (an empty binary
   * message), a number (sent as text, as in `ws`) or a Blob (read first; it keeps its place).
   * @param options - or the callback, as in `ws`.
   * @returns false when `bufferedAmount` is over the high-water mark: wait for 'drain' before sending more.
   * @throws {InvalidStateError} (code WS_ERR_INVALID_STATE) while CONNECTING, as browsers and `ws` do.
   *   In CLOSING or CLOSED nothing is sent and nothing is thrown: the callback gets the error, and
   *   `bufferedAmount` grows by the size of `data`, as in `ws` and the WHATWG interface.
   */
  send(
    data?: SendData,
    options?: SendOptions | ((error?: Error) => void),
    callback?: (error?: Error) => void,
  ): boolean {
    if (typeof options === 'function') {
      callback = options;
      options = undefined;
    }
    if (this.#readyState === ReadyState.CONNECTING) throw notOpenYet('send');
    if (typeof data === 'number') data = String(data);
    const connection = this.#connection;
    if (this.#readyState !== ReadyState.OPEN || connection === null || connection.closeSent) {
      this.#refuseAfterClose(data, callback);
      return false;
    }
    const binary = options?.binary ?? typeof data !== 'string';
    const fin = options?.fin ?? true;
    if (isBlob(data)) {
      // Read asynchronously, in order: everything sent after it waits in the outbox behind it.
      const compress = this.#shouldCompress(data.size, options?.compress, fin);
      this.#enqueue({ kind: 'message', data, binary, fin, compress, callback }, data.size);
      return this.bufferedAmount < HIGH_WATER_MARK;
    }
    const bytes = data === undefined ? EMPTY_BYTES : toBytes(data);
    const compress = this.#shouldCompress(bytes.length, options?.compress, fin);
    if (compress || this.#outbox.length > 0 || this.#compressing) {
      this.#enqueue({ kind: 'message', data: bytes, binary, fin, compress, callback }, bytes.length);
    } else {
      connection.send(bytes, binary, fin);
      this.#scheduleFlush(callback);
    }
    return this.bufferedAmount < HIGH_WATER_MARK;
  }

  /**
   * Sends a Ping (§5.5.2); the peer answers with a Pong carrying the same data. As in `ws`, the
   * callback may take the place of `data` or `mask`: `ping(cb)`, `ping(data, cb)`.
   * @throws {InvalidStateError} while CONNECTING, or for data over 125 bytes (code WS_ERR_INVALID_ARGUMENT).
   *   In CLOSING or CLOSED the callback gets the error instead, as for `send()`.
   */
  ping(
    data?: SendData | ((error?: Error) => void),
    mask?: boolean | ((error?: Error) => void),
    callback?: (error?: Error) => void,
  ): void {
    this.#control('ping', data, mask, callback);
  }

  /**
   * Sends a Pong (§5.5.3); unsolicited Pongs serve as a one-way heartbeat. Arguments as `ping()`.
   * @throws {InvalidStateError} while CONNECTING, or for data over 125 bytes.
   */
  pong(
    data?: SendData | ((error?: Error) => void),
    mask?: boolean | ((error?: Error) => void),
    callback?: (error?: Error) => void,
  ): void {
    this.#control('pong', data, mask, callback);
  }

  /**
   * Starts the closing handshake (§7.1.2); 'close' fires when it completes or the close timeout ends it.
   * @param code - 1000 (default when a reason is given) or 3000–4999; omitted: a Close frame without a code.
   * @param reason - at most 123 bytes of UTF-8.
   * @throws {InvalidStateError} (code WS_ERR_INVALID_ARGUMENT) for an invalid code or a reason too long.
   */
  close(code?: number, reason?: string | Buffer): void {
    const reasonText = reason === undefined ? '' : reason.toString();
    if (code === undefined && reasonText !== '') code = CloseCode.Normal;
    if (this.#readyState === ReadyState.CLOSED) return;
    if (this.#readyState === ReadyState.CONNECTING) {
      // Browsers: "Fail the WebSocket connection" when closing before open.
      this.#abortConnecting();
      return;
    }
    const connection = this.#connection;
    // A handshake that failed is CLOSING while 'error' is emitted, with no connection to close.
    if (connection === null) return;
    if (this.#outbox.length > 0 || this.#compressing) {
      // The Close frame goes after the messages still being compressed (§5.5.1: no data after Close).
      connection.assertValidClose(code, reasonText);
      if (this.#readyState === ReadyState.OPEN)
        this.#outbox.push({ kind: 'close', code, reason: reasonText });
      this.#readyState = ReadyState.CLOSING;
      this.#startCloseTimer();
      return;
    }
    connection.close(code, reasonText);
    this.#readyState = ReadyState.CLOSING;
    this.#startCloseTimer();
    this.#flush();
    this.#afterClosedState();
  }

  /** Destroys the socket at once, without a closing handshake ('close' fires with 1006). */
  terminate(): void {
    if (this.#readyState === ReadyState.CLOSED) return;
    if (this.#readyState === ReadyState.CONNECTING) {
      this.#abortConnecting();
      return;
    }
    this.#readyState = ReadyState.CLOSING;
    this.#socket?.destroy();
  }

  /**
   * Stops reading from the socket (flow control for slow consumers). Also in an 'open' listener:
   * nothing is read until `resume()`. Does nothing while CONNECTING or CLOSED, as in `ws`.
   */
  pause(): void {
    if (this.#readyState === ReadyState.CONNECTING || this.#readyState === ReadyState.CLOSED) return;
    this.#userPaused = true;
    this.#socket?.pause();
  }

  /** Reads from the socket again, unless the WebSocket itself must hold reading (see `#updateReading`). */
  resume(): void {
    if (this.#readyState === ReadyState.CONNECTING || this.#readyState === ReadyState.CLOSED) return;
    this.#userPaused = false;
    this.#updateReading();
  }

  // --- WHATWG EventTarget-style API -------------------------------------------------------------

  /**
   * Adds a WHATWG-style listener, called with an event object (`MessageEvent`, `CloseEvent`…) and
   * `this` = the WebSocket (or, for an object, its `handleEvent` method called on it). As in the DOM
   * (§2.7 "add an event listener"), a listener already added for the same type is not added twice;
   * `on…` handlers are separate listeners, and a `once` listener can be added again after it fired.
   * Only the WebSocket interface's events are taken ('open', 'message', 'error', 'close'), as in
   * `ws`: other types are ignored.
   */
  addEventListener(type: string, listener: WhatwgCallback, options?: { once?: boolean } | boolean): void {
    if (!WHATWG_EVENT_TYPES.includes(type)) return;
    if (typeof listener !== 'function' && (typeof listener !== 'object' || listener === null)) return;
    if (this.#findWhatwg(type, listener, false) !== undefined) return;
    this.#addWhatwg(type, listener, typeof options === 'object' && options?.once === true, false);
  }

  /** Removes a listener added with `addEventListener` (never an `on…` handler, as in the DOM). */
  removeEventListener(type: string, listener: WhatwgCallback): void {
    const wrapper = this.#findWhatwg(type, listener, false);
    if (wrapper !== undefined) (this as EventEmitter).off(type, wrapper);
  }

  get onopen(): ((event: WebSocketEvent) => void) | null {
    return this.#getHandler('open') as ((event: WebSocketEvent) => void) | null;
  }
  set onopen(handler: ((event: WebSocketEvent) => void) | null) {
    this.#setHandler('open', handler);
  }
  get onmessage(): ((event: MessageEvent) => void) | null {
    return this.#getHandler('message') as ((event: MessageEvent) => void) | null;
  }
  set onmessage(handler: ((event: MessageEvent) => void) | null) {
    this.#setHandler('message', handler);
  }
  get onclose(): ((event: CloseEvent) => void) | null {
    return this.#getHandler('close') as ((event: CloseEvent) => void) | null;
  }
  set onclose(handler: ((event: CloseEvent) => void) | null) {
    this.#setHandler('close', handler);
  }
  get onerror(): ((event: ErrorEvent) => void) | null {
    return this.#getHandler('error') as ((event: ErrorEvent) => void) | null;
  }
  set onerror(handler: ((event: ErrorEvent) => void) | null) {
    this.#setHandler('error', handler);
  }

  /**
   * Iterates over incoming messages: strings for text, Buffers for binary. Ends after a normal close
   * (1000, 1001, 1005) and throws a {@link WebSocketError} after an abnormal one. While the loop body
   * is slow, reading from the socket pauses (backpressure) instead of buffering without bound.
   */
  async *[Symbol.asyncIterator](): AsyncGenerator<string | Buffer, void, undefined> {
    const queue: (string | Buffer)[] = [];
    let wake: (() => void) | null = null;
    let ended = false;
    const onMessage = (data: Buffer, isBinary: boolean) => {
      queue.push(isBinary ? data : data.toString('utf8'));
      if (queue.length >= ITERATOR_HIGH_WATER_MARK) this.pause();
      wake?.();
    };
    const onClose = () => {
      ended = true;
      wake?.();
    };
    this.on('message', onMessage);
    this.on('close', onClose);
    try {
      while (true) {
        const next = queue.shift();
        if (next !== undefined) {
          if (queue.length < ITERATOR_HIGH_WATER_MARK / 2 && this.isPaused) this.resume();
          yield next;
          continue;
        }
        if (ended || this.#readyState === ReadyState.CLOSED) break;
        await new Promise<void>((resolve) => {
          wake = resolve;
        });
        wake = null;
      }
      const code = this.#closeCode;
      if (code !== CloseCode.Normal && code !== CloseCode.GoingAway && code !== CloseCode.NoStatusReceived) {
        throw new WebSocketError(ErrorCode.ConnectionLost, `connection closed with code ${code}`);
      }
    } finally {
      this.off('message', onMessage);
      this.off('close', onClose);
      if (this.isPaused) this.resume();
    }
  }

  // --- server features: pub/sub topics and pre-encoded frames (issue 6) ------------------------
  // Everything here delegates to src/server/websocket-server.ts; nothing else in this file uses it.

  /** Internal: the server that accepted this socket (its topic registry); unset on the client side. */
  [acceptingServer]: TopicRegistry | undefined = undefined;

  /**
   * Subscribes this (server-side) socket to `topic`, for `server.publish(topic, …)`. Subscriptions
   * are dropped when the socket closes.
   * @returns true when newly subscribed, false when already subscribed or the socket is closed.
   * @throws {InvalidStateError} (code WS_ERR_INVALID_STATE) on a client-side WebSocket.
   */
  subscribe(topic: string): boolean {
    return this.#topics('subscribe').subscribe(this, topic);
  }

  /**
   * Unsubscribes from `topic`.
   * @returns true when it was subscribed.
   * @throws {InvalidStateError} (code WS_ERR_INVALID_STATE) on a client-side WebSocket.
   */
  unsubscribe(topic: string): boolean {
    return this.#topics('unsubscribe').unsubscribe(this, topic);
  }

  /**
   * Whether this socket is subscribed to `topic`.
   * @throws {InvalidStateError} (code WS_ERR_INVALID_STATE) on a client-side WebSocket.
   */
  isSubscribed(topic: string): boolean {
    return this.#topics('isSubscribed').isSubscribed(this, topic);
  }

  #topics(method: string): TopicRegistry {
    const registry = this[acceptingServer];
    if (registry === undefined) {
      throw new InvalidStateError(
        `${method}() is only available on WebSockets accepted by a WebSocketServer`,
      );
    }
    return registry;
  }

  /**
   * Internal: queues a data frame already encoded by the server (unmasked, RSV1 clear), so that a
   * broadcast encodes once for every client. Behind messages still being compressed, `data` is
   * queued uncompressed instead, so that order is kept.
   * @returns false when the socket is not OPEN or a fragmented message of ours is in progress.
   */
  [sendEncoded](frame: readonly Uint8Array[], data: Uint8Array, binary: boolean): boolean {
    const connection = this.#connection;
    if (this.#readyState !== ReadyState.OPEN || connection === null || connection.closeSent) return false;
    if (this.#fragmentsCompressed !== null) return false;
    if (this.#outbox.length > 0 || this.#compressing) {
      this.#outbox.push({ kind: 'message', data, binary, fin: true, compress: false, callback: undefined });
      this.#outboxBytes += data.length;
      this.#pumpOutbox();
      return true;
    }
    if (!connection.sendEncoded(frame)) return false;
    this.#scheduleFlush();
    return true;
  }

  // --- internals --------------------------------------------------------------------------------

  #onData(chunk: Uint8Array): void {
    const connection = this.#connection!;
    this.#heardFromPeer = true; // any frame is a sign of life for keep-alive
    this.#receiving = true;
    try {
      // One event at a time: what the application sends in answer to a message (an echo) is queued
      // before a later frame of the same chunk is even looked at.
      connection.push(chunk);
      for (let event = connection.next(); event !== null; event = connection.next()) this.#dispatch(event);
    } finally {
      this.#receiving = false;
    }
    this.#flush();
    this.#afterClosedState();
  }

  #dispatch(event: ConnectionEvent): void {
    switch (event.type) {
      case 'message': {
        const data = Buffer.from(event.data.buffer, event.data.byteOffset, event.data.length);
        if (event.compressed) this.#inflate(data);
        else this.emit('message', data, event.binary);
        return;
      }
      case 'ping':
        this.emit('ping', Buffer.from(event.data.buffer, event.data.byteOffset, event.data.length));
        return;
      case 'pong':
        this.emit('pong', Buffer.from(event.data.buffer, event.data.byteOffset, event.data.length));
        return;
      case 'close':
        this.#closeFrameReceived = true;
        this.#closeCode = event.code;
        this.#closeReason = event.reason;
        this.#readyState = ReadyState.CLOSING;
        if (!this.#connection!.closeSent) {
          this.#closeAnswer = { code: event.code, reason: event.reason };
          this.#answerCloseWhenDrained();
        }
        return;
      case 'fail':
        this.#readyState = ReadyState.CLOSING;
        this.#emitError(event.error);
        return;
    }
  }

  /** Once the core is CLOSED, close the transport: the server first (§7.1.1), the client after a timeout. */
  #afterClosedState(): void {
    const connection = this.#connection;
    if (connection === null || !connection.transportShouldClose) return;
    this.#startCloseTimer();
    // §7.1.1: "the server SHOULD close the underlying TCP connection first"; a client that failed the
    // connection closes too rather than wait for a peer that broke the protocol.
    if (connection.role === 'server' || !this.#closeFrameReceived) {
      this.#flush(true); // the Close frame may be held in the core while the socket needs 'drain'
      this.#socket?.end();
    }
  }

  #onSocketEnd(): void {
    // The peer closed its side (§7.1.1); close ours after flushing what is queued.
    this.#flush(true);
    // Only once: end() on a side already ended builds an error for nobody (ERR_STREAM_ALREADY_FINISHED).
    const socket = this.#socket;
    if (socket !== null && !socket.writableEnded) socket.end();
  }

  #onSocketClose(): void {
    // A compressed message being inflated arrived before the end of the connection, and so did the
    // frames behind it (the peer's Close): deliver them first, as without compression, and close
    // when the inflation is done (#inflate).
    if (this.#connection?.awaitingTransform === true && this.#readyState !== ReadyState.CLOSED) {
      this.#closeAfterInflate = true;
      return;
    }
    // As in `ws`: the callbacks of what was not sent hear of it while CLOSING, before 'close', in
    // the order of the sends, and in `ws`'s words for what was cut short in the outbox.
    this.#readyState = ReadyState.CLOSING;
    this.#keepAlive?.delete(this);
    const head = this.#outbox[0];
    const readingBlob = this.#compressing && head !== undefined && head.kind !== 'close' && isBlob(head.data);
    this.#deflate?.codec.close();
    if (this.#closeTimer !== null) clearTimeout(this.#closeTimer);
    this.#closeTimer = null;
    this.#connection?.transportClosed();
    const callbacks = this.#pendingCallbacks ?? NO_CALLBACKS;
    this.#pendingCallbacks = null;
    for (const callback of callbacks)
      callback(new WebSocketError(ErrorCode.ConnectionLost, 'connection closed'));
    this.#cutShort(readingBlob ? BLOB_CUT_SHORT : COMPRESSION_CUT_SHORT);
    this.#readyState = ReadyState.CLOSED;
    this.#emitClose();
  }

  #emitClose(): void {
    if (this.#closeEmitted) return;
    this.#closeEmitted = true;
    // §7.1.5: without a received Close frame, "_The WebSocket Connection Close Code_ is considered to be 1006".
    const code = this.#closeFrameReceived ? this.#closeCode : CloseCode.Abnormal;
    this.emit('close', code, Buffer.from(this.#closeFrameReceived ? this.#closeReason : ''));
  }

  /** 'error' is emitted only to listeners: a peer's protocol violation must never crash a server. */
  #emitError(error: Error): void {
    if (this.listenerCount('error') > 0) this.emit('error', error);
  }

  #startCloseTimer(): void {
    if (this.#closeTimer !== null || this.#socket === null) return;
    const socket = this.#socket;
    this.#closeTimer = setTimeout(() => socket.destroy(), this.#closeTimeout);
    this.#closeTimer.unref?.();
  }

  /**
   * `close()` or `terminate()` while CONNECTING. WHATWG `close()`: "Fail the WebSocket connection
   * and set this's ready state to CLOSING"; 'error' and 'close' follow in a later task (in `ws`, the
   * next tick), so that listeners added right after the call still hear them.
   */
  #abortConnecting(): void {
    const abort = this.#abortConnect;
    this.#abortConnect = null;
    this.#readyState = ReadyState.CLOSING;
    abort?.();
    const error = new WebSocketError(
      ErrorCode.HandshakeFailed,
      'WebSocket was closed before the connection was established',
    );
    process.nextTick(() => this.#reportHandshakeFailure(error));
  }

  #control(
    kind: 'ping' | 'pong',
    data: SendData | ((error?: Error) => void) | undefined,
    mask: boolean | ((error?: Error) => void) | undefined,
    callback: ((error?: Error) => void) | undefined,
  ): void {
    if (this.#readyState === ReadyState.CONNECTING) throw notOpenYet(kind);
    // `ws`'s optional arguments: the callback may come first or second.
    if (typeof data === 'function') {
      callback = data;
      data = undefined;
    } else if (typeof mask === 'function') {
      callback = mask;
    }
    if (typeof data === 'number') data = String(data);
    const connection = this.#connection;
    if (this.#readyState !== ReadyState.OPEN || connection === null || connection.closeSent) {
      this.#refuseAfterClose(data, callback);
      return;
    }
    if (isBlob(data)) {
      // §5.5: "All control frames MUST have a payload length of 125 bytes or less"; checked now,
      // while the caller can still catch it, rather than when the Blob has been read.
      if (data.size > MAX_CONTROL_PAYLOAD_LENGTH) {
        throw new InvalidStateError(
          `a ${kind} payload must be at most 125 bytes (RFC 6455 §5.5)`,
          ErrorCode.InvalidArgument,
        );
      }
      this.#enqueue({ kind, data, callback }, 0);
      return;
    }
    const bytes = data === undefined ? undefined : toBytes(data);
    if (kind === 'ping') connection.ping(bytes);
    else connection.pong(bytes);
    this.#scheduleFlush(callback);
  }

  /**
   * send()/ping()/pong() in CLOSING or CLOSED, as in `ws` and the WHATWG interface: nothing is sent,
   * `bufferedAmount` grows by the size of the data, and the callback hears why.
   */
  #refuseAfterClose(data: SendData | undefined, callback: ((error?: Error) => void) | undefined): void {
    if (data !== undefined) this.#refusedBytes += byteSize(data);
    if (callback === undefined) return;
    const state = this.#readyState;
    const error = new InvalidStateError(
      `WebSocket is not open: readyState ${state} (${READY_STATE_NAMES[state]})`,
    );
    process.nextTick(callback, error);
  }

  /** Queues an operation behind what is being compressed or read; the outbox exists from then on. */
  #enqueue(operation: OutboundOperation, bytes: number): void {
    if (this.#outbox === NO_OPERATIONS) this.#outbox = [];
    this.#outbox.push(operation);
    this.#outboxBytes += bytes;
    this.#pumpOutbox();
  }

  // --- permessage-deflate: ordered inflation and compression ------------------------------------

  /** Whether to compress this message (RFC 7692): negotiated, not opted out, and worth it. */
  #shouldCompress(length: number, requested: boolean | undefined, fin: boolean): boolean {
    const deflate = this.#deflate;
    let compress = false;
    if (this.#fragmentsCompressed !== null) {
      compress = this.#fragmentsCompressed; // every fragment of a message goes the same way
    } else if (deflate?.codec.canCompress && requested !== false) {
      compress = length >= deflate.threshold;
    }
    this.#fragmentsCompressed = fin ? null : compress;
    return compress;
  }

  /**
   * Sends queued operations in order; a compression in progress, or a Blob being read, holds back
   * everything behind it.
   */
  #pumpOutbox(): void {
    const connection = this.#connection!;
    while (!this.#compressing && this.#outbox.length > 0) {
      const head = this.#outbox[0]!;
      if (head.kind !== 'close' && isBlob(head.data)) {
        this.#readBlob(head, head.data);
        return;
      }
      const operation = this.#outbox.shift()!;
      if (operation.kind === 'close') {
        connection.close(operation.code, operation.reason);
        this.#flush();
        this.#afterClosedState();
        continue;
      }
      if (operation.kind !== 'message') {
        // A Blob's Ping or Pong, now read (#readBlob put its bytes in place of the Blob).
        if (connection.closeSent) {
          overtakenByClose(operation.callback);
        } else {
          if (operation.kind === 'ping') connection.ping(operation.data as Uint8Array);
          else connection.pong(operation.data as Uint8Array);
          this.#scheduleFlush(operation.callback);
        }
        continue;
      }
      const data = operation.data as Uint8Array; // read by now, if it was a Blob
      if (!operation.compress) {
        this.#outboxBytes -= data.length;
        if (connection.closeSent) {
          overtakenByClose(operation.callback);
        } else {
          connection.send(data, operation.binary, operation.fin);
          this.#scheduleFlush(operation.callback);
        }
        continue;
      }
      this.#compressing = true;
      this.#compressingCallback = operation.callback ?? null;
      this.#deflate!.codec.compress(data, operation.fin, (error, compressed) => {
        this.#compressing = false;
        // The socket closed meanwhile: #onSocketClose has told the callback already (as `ws` does,
        // before 'close', not when zlib is done), and there is nothing left to send.
        if (this.#readyState === ReadyState.CLOSED) return;
        // terminate() destroyed it, and 'close' is still to come: the same, now.
        if (this.#socket?.destroyed === true) return this.#cutShort(COMPRESSION_CUT_SHORT);
        this.#compressingCallback = null;
        this.#outboxBytes -= data.length;
        // Our zlib failed (not the peer): the message is lost, so fail the connection with the
        // error's code (1011) rather than send what follows it as if nothing were missing.
        if (error instanceof ProtocolError) this.#failFromWrapper(error);
        if (error) {
          operation.callback?.(error);
        } else if (compressed === undefined || connection.closeSent) {
          overtakenByClose(operation.callback);
        } else {
          connection.send(compressed, operation.binary, operation.fin, true);
          this.#scheduleFlush(operation.callback);
        }
        this.#pumpOutbox();
      });
    }
  }

  /**
   * Reads a queued Blob (the head of the outbox) and puts its bytes in its place; the outbox waits
   * meanwhile, as it does for a compression. If the connection closed meanwhile (the outbox was
   * emptied and its callbacks told), the bytes are dropped.
   */
  #readBlob(operation: OutboundOperation, blob: Blob): void {
    this.#compressing = true;
    const done = (bytes: Uint8Array | null, error?: unknown) => {
      this.#compressing = false;
      if (this.#outbox[0] !== operation) return; // the socket closed while reading
      if (this.#socket?.destroyed === true) return this.#cutShort(BLOB_CUT_SHORT); // terminate()
      if (bytes === null) {
        this.#outbox.shift();
        this.#outboxBytes -= blob.size;
        this.#blobUnreadable(operation, error);
      } else {
        // Its data is now bytes; the size may only differ if the Blob lied about it.
        this.#outboxBytes += bytes.length - blob.size;
        this.#outbox[0] = { ...operation, data: bytes } as OutboundOperation;
      }
      this.#pumpOutbox();
    };
    // Out of the promise chain: an exception from a listener or callback called from here is uncaught,
    // as everywhere else in this class, not an unhandled rejection.
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
  #cutShort(message: string): void {
    const compressing = this.#compressingCallback;
    // Most connections close with nothing queued: no error to build (its stack is not free).
    if (compressing === null && this.#outbox.length === 0) return;
    const error = new WebSocketError(ErrorCode.ConnectionLost, message);
    this.#compressingCallback = null;
    const unsent = this.#outbox.filter((operation) => operation.kind !== 'close');
    if (this.#outbox.length > 0) this.#outbox = [];
    this.#outboxBytes = 0;
    compressing?.(error);
    for (const operation of unsent) operation.callback?.(error);
  }

  /**
   * A Blob given to send() could not be read (its file changed, as `fs.openAsBlob` reports): the
   * message is lost, so, as in `ws`, 'error' is emitted and the connection is closed rather than send
   * what follows as if nothing were missing; we close with 1011 (§7.4.1: "an unexpected condition
   * that prevented it from fulfilling the request"). What was queued behind it is not sent, and its
   * callbacks hear so.
   */
  #blobUnreadable(operation: OutboundOperation, cause: unknown): void {
    const detail = cause instanceof Error ? `: ${cause.message}` : '';
    const failure = new WebSocketError(
      ErrorCode.InvalidArgument,
      `a Blob given to send() could not be read${detail}; the connection is closed with 1011, as the messages after it cannot keep their order`,
      { cause },
    );
    if (operation.kind !== 'close') operation.callback?.(failure);
    this.#emitError(failure);
    const connection = this.#connection!;
    if (this.#readyState === ReadyState.CLOSED || connection.closeSent) return;
    connection.close(CloseCode.InternalError, '');
    this.#readyState = ReadyState.CLOSING;
    this.#startCloseTimer();
    this.#flush();
    this.#afterClosedState();
  }

  /**
   * Inflates the compressed message the core handed out. The core decodes nothing more until it gets
   * it back (RFC 7692 messages stay in order), and reading stops meanwhile, so a connection holds at
   * most one message waiting for zlib while the rest of what the peer sends waits in TCP.
   */
  #inflate(data: Buffer): void {
    this.#updateReading();
    this.#deflate!.codec.decompress([data], (error, inflated) => {
      if (this.#readyState === ReadyState.CLOSED) return;
      if (error instanceof ProtocolError) this.#failFromWrapper(error);
      // Delivering may hand the codec the next message from inside this callback, which it allows.
      else if (!error && inflated !== undefined) this.#afterInflate(inflated);
      // The socket closed meanwhile: once nothing more waits for zlib, finish what it started.
      if (this.#closeAfterInflate && this.#connection!.awaitingTransform === false) this.#onSocketClose();
    });
  }

  /** Delivers an inflated message, then decodes what arrived behind it, then reads again. */
  #afterInflate(inflated: Buffer): void {
    const connection = this.#connection!;
    if (this.#readyState === ReadyState.CLOSED) return;
    this.#receiving = true;
    try {
      for (const event of connection.completeMessage(inflated)) this.#dispatch(event);
      for (let event = connection.next(); event !== null; event = connection.next()) this.#dispatch(event);
    } finally {
      this.#receiving = false;
    }
    this.#answerCloseWhenDrained();
    this.#flush();
    this.#afterClosedState();
    this.#updateReading();
  }

  /**
   * Answers the peer's Close (held back by `holdCloseReply`) once every message received before it
   * has been inflated and emitted, and after what the application sent in the meantime (an echo):
   * nothing received or sent in good order is lost to the closing handshake.
   */
  #answerCloseWhenDrained(): void {
    const answer = this.#closeAnswer;
    if (answer === null || this.#connection!.awaitingTransform) return;
    this.#closeAnswer = null;
    const code = answer.code === CloseCode.NoStatusReceived ? undefined : answer.code;
    const reason = code === undefined ? '' : answer.reason;
    if (this.#outbox.length === 0 && !this.#compressing) {
      this.#connection!.close(code, reason);
    } else if (!this.#outbox.some((operation) => operation.kind === 'close')) {
      this.#outbox.push({ kind: 'close', code, reason });
    }
  }

  #failFromWrapper(error: ProtocolError): void {
    for (const event of this.#connection!.fail(error)) this.#dispatch(event);
    this.#flush();
    this.#afterClosedState();
  }

  #addCallback(callback: (error?: Error) => void): void {
    this.#pendingCallbacks ??= [];
    this.#pendingCallbacks.push(callback);
  }

  #scheduleFlush(callback?: (error?: Error) => void): void {
    if (callback) this.#addCallback(callback);
    if (this.#receiving || this.#flushScheduled) return;
    this.#flushScheduled = true;
    process.nextTick(WebSocket.#flushOnTick, this);
  }

  static #flushOnTick(ws: WebSocket): void {
    ws.#flushScheduled = false;
    ws.#flush();
  }

  /**
   * Writes everything the core has queued, as one write when small, else as one corked vector.
   * @param force - write even when the socket needs 'drain' (the socket is about to end).
   */
  #flush(force = false): void {
    const socket = this.#socket;
    const connection = this.#connection;
    if (socket === null || connection === null || connection.outgoingBytes === 0) {
      this.#releaseCallbacks();
      return;
    }
    if (socket.destroyed || !socket.writable) {
      connection.takeOutgoing();
      this.#releaseCallbacks(new WebSocketError(ErrorCode.ConnectionLost, 'connection closed'));
      return;
    }
    // While the socket cannot take more (the peer does not read), frames stay in the core, where
    // §5.5.3 lets it answer only the most recent Ping instead of queueing a Pong per Ping; they
    // leave on 'drain'. Unless the socket is about to end: then everything goes now.
    if (socket.writableNeedDrain && !force) {
      this.#updateReading();
      return;
    }
    const total = connection.outgoingBytes;
    const chunks = connection.takeOutgoing();
    const callbacks = this.#pendingCallbacks;
    this.#pendingCallbacks = null;
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
    this.#updateReading();
  }

  /** The socket wrote what it held: send what the core kept meanwhile, read again, tell the user. */
  #onSocketDrain(): void {
    this.#flush();
    this.#updateReading();
    this.emit('drain');
  }

  /**
   * Pauses or resumes reading from the socket for every reason at once: the user's `pause()`, a
   * compressed message being inflated (see `#inflate`), and, on the server, outgoing bytes over the
   * high-water mark. A peer that sends but never reads (a ping flood, or messages an echo answers)
   * would otherwise grow our outgoing queue without bound; while we do not read, TCP holds the rest
   * of what it sends (flow control), so memory per connection stays bounded. Only the server does this: a client keeps reading, so that two peers
   * that both stop reading while their writes are blocked can never wait on each other forever.
   */
  #updateReading(): void {
    const socket = this.#socket;
    if (socket === null || this.#readyState === ReadyState.CONNECTING || socket.destroyed) return;
    const connection = this.#connection;
    const stop =
      this.#userPaused ||
      connection?.awaitingTransform === true ||
      (connection?.role === 'server' && this.bufferedAmount >= HIGH_WATER_MARK);
    if (stop) {
      if (!socket.isPaused()) socket.pause();
    } else if (socket.isPaused()) {
      socket.resume();
    }
  }

  #releaseCallbacks(error?: Error): void {
    const callbacks = this.#pendingCallbacks;
    if (callbacks === null) return;
    this.#pendingCallbacks = null;
    for (const callback of callbacks) process.nextTick(callback, error);
  }

  #binaryData(data: Buffer): RawData {
    switch (this.binaryType) {
      case 'arraybuffer':
        return new Uint8Array(data).buffer; // a copy: the message may be a view into a larger buffer
      case 'fragments':
        return [data];
      case 'blob':
        return new Blob([data]);
      default:
        return data;
    }
  }

  /**
   * The EventEmitter listener that calls a WHATWG callback with an event object. Its callback and
   * whether it is an `on…` handler are kept on it, so that the emitter's own list is the only record
   * (a `once` listener that fired is gone from both at once).
   */
  #addWhatwg(type: string, callback: WhatwgCallback, once: boolean, handler: boolean): void {
    const call = (event: WebSocketEvent): void => {
      if (typeof callback === 'function') callback.call(this, event);
      else if (typeof callback.handleEvent === 'function') callback.handleEvent(event);
    };
    const wrapper = this.#whatwgAdapter(type, call) as WhatwgWrapper;
    wrapper[kWhatwgCallback] = callback;
    wrapper[kEventHandler] = handler;
    if (once) (this as EventEmitter).once(type, wrapper);
    else (this as EventEmitter).on(type, wrapper);
  }

  /** The listener registered for (type, callback), among `on…` handlers or among the others. */
  #findWhatwg(type: string, callback: WhatwgCallback, handler: boolean): WhatwgWrapper | undefined {
    for (const listener of (this as EventEmitter).listeners(type) as WhatwgWrapper[]) {
      if (listener[kWhatwgCallback] === callback && listener[kEventHandler] === handler) return listener;
    }
    return undefined;
  }

  /** The `on…` handler's listener for `type`, if one is set. */
  #findHandler(type: string): WhatwgWrapper | undefined {
    for (const listener of (this as EventEmitter).listeners(type) as WhatwgWrapper[]) {
      if (listener[kEventHandler] === true) return listener;
    }
    return undefined;
  }

  #whatwgAdapter(type: string, call: (event: WebSocketEvent) => void): Listener {
    switch (type) {
      case 'message':
        return ((data: Buffer, isBinary: boolean) =>
          call(
            new MessageEvent(isBinary ? this.#binaryData(data) : data.toString('utf8'), this),
          )) as Listener;
      case 'close':
        return ((code: number, reason: Buffer) =>
          call(new CloseEvent(code, reason.toString(), code !== CloseCode.Abnormal, this))) as Listener;
      case 'error':
        return ((error: unknown) => call(new ErrorEvent(error, this))) as Listener;
      default:
        return (() => call(new WebSocketEvent(type, this))) as Listener;
    }
  }

  #getHandler(type: string): WhatwgHandler {
    return (this.#findHandler(type)?.[kWhatwgCallback] as WhatwgHandler | undefined) ?? null;
  }

  /** HTML "event handler attributes": one listener per type, separate from addEventListener ones. */
  #setHandler(type: string, handler: WhatwgHandler): void {
    const previous = this.#findHandler(type);
    if (previous !== undefined) (this as EventEmitter).off(type, previous);
    if (typeof handler === 'function') this.#addWhatwg(type, handler as Listener, false, true);
  }
}

// The WHATWG interface's constants (WebIDL: enumerable, read-only, non-configurable) on the class and
// on the prototype, and its attributes as enumerable accessors on the prototype: the shape `ws` has,
// which code that inspects or copies a WebSocket's properties sees.
for (const [name, value] of Object.entries(ReadyState)) {
  for (const target of [WebSocket, WebSocket.prototype]) {
    Object.defineProperty(target, name, { value, enumerable: true, writable: false, configurable: false });
  }
}
for (const name of [
  'binaryType',
  'bufferedAmount',
  'extensions',
  'isPaused',
  'protocol',
  'readyState',
  'url',
  'onopen',
  'onmessage',
  'onclose',
  'onerror',
]) {
  Object.defineProperty(WebSocket.prototype, name, { enumerable: true });
}

const NO_OPERATIONS: OutboundOperation[] = Object.freeze([]) as unknown as OutboundOperation[];
const NO_CALLBACKS: readonly ((error?: Error) => void)[] = Object.freeze([]);

/** On the EventEmitter listener of a WHATWG listener: the callback it calls, and whether it is an on… handler. */
const kWhatwgCallback = Symbol('sockwire.whatwgCallback');
const kEventHandler = Symbol('sockwire.eventHandler');
type WhatwgWrapper = Listener & { [kWhatwgCallback]?: WhatwgCallback; [kEventHandler]?: boolean };

/** The socket's back-reference to its WebSocket, for the shared listener functions below. */
const kOwner = Symbol('sockwire.owner');
type SocketWithOwner = Duplex & { [kOwner]: WebSocket };

function socketOnData(this: SocketWithOwner, chunk: Buffer): void {
  this[kOwner][socketEvent]('data', chunk);
}
function socketOnEnd(this: SocketWithOwner): void {
  this[kOwner][socketEvent]('end');
}
function socketOnClose(this: SocketWithOwner): void {
  this[kOwner][socketEvent]('close');
}
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

function socketOnError(this: SocketWithOwner): void {
  this.destroy(); // a reset or broken pipe: 'close' follows, with 1006
}
function socketOnDrain(this: SocketWithOwner): void {
  this[kOwner][socketEvent]('drain');
}

/** What the callbacks of messages lost in the outbox get when the socket goes (`ws`'s words). */
const COMPRESSION_CUT_SHORT = 'The socket was closed while data was being compressed';
const BLOB_CUT_SHORT = 'The socket was closed while the blob was being read';

/** `readyState` names, for messages that say which state refused an operation (as `ws` words them). */
const READY_STATE_NAMES = ['CONNECTING', 'OPEN', 'CLOSING', 'CLOSED'] as const;
const EMPTY_BYTES = new Uint8Array(0);

/** What send()/ping()/pong() throw while CONNECTING (browsers and `ws` throw too). */
function notOpenYet(method: string): InvalidStateError {
  return new InvalidStateError(
    `WebSocket is not open: readyState 0 (CONNECTING); wait for the "open" event before ${method}()`,
  );
}

function isBlob(data: unknown): data is Blob {
  return typeof Blob === 'function' && data instanceof Blob;
}

/** The size in bytes of what send() accepts, without encoding strings or reading Blobs. */
function byteSize(data: SendData): number {
  if (typeof data === 'string') return Buffer.byteLength(data);
  if (typeof data === 'number') return String(data).length;
  if (isBlob(data)) return data.size;
  return toBytes(data).length;
}

/** Converts what `send()` accepts (but a Blob) into bytes without copying where possible. */
export function toBytes(data: SendData): Uint8Array {
  if (typeof data === 'string') return Buffer.from(data, 'utf8');
  if (typeof data === 'number') return Buffer.from(String(data), 'utf8');
  if (data instanceof Uint8Array) return data;
  if (data instanceof ArrayBuffer) return new Uint8Array(data);
  if (ArrayBuffer.isView(data)) return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  if (Array.isArray(data)) return Buffer.concat(data as readonly Buffer[]);
  if (isBlob(data)) {
    throw new InvalidStateError(
      'a Blob cannot be sent here: read it first (await blob.arrayBuffer())',
      ErrorCode.InvalidArgument,
    );
  }
  throw new InvalidStateError(
    'send() takes a string, number, Buffer, ArrayBuffer, typed array, DataView, Blob or Buffer[]',
    ErrorCode.InvalidArgument,
  );
}
