/**
 * The public WebSocket: the API of `ws` (EventEmitter, `(data, isBinary)` messages, `(code, reason)`
 * closes) for the common subset, the WHATWG interface (`onmessage`, `addEventListener`, `readyState`,
 * `binaryType`) and async iteration over messages.
 *
 * This file is the API a user reads; the machinery lives beside it in src/websocket/: the driver
 * (driver.ts: socket ↔ the core's Connection, close timer, keep-alive; its base classes outbox.ts,
 * the ordering around compression and Blobs, and writer.ts, the write batching), whatwg.ts (event
 * objects and `on…` handlers), iterator.ts, keep-alive.ts (the shared heartbeat sweep),
 * send-data.ts, and dialer.ts (how a URL gets connected without this file importing the client).
 * Each WebSocket owns one driver, made here. `send()` costs one method call more than when all of
 * it was one class, a received message one less (the socket listeners call the driver directly), and
 * neither allocates anything more.
 */
import type { Buffer } from 'node:buffer';
import { EventEmitter } from 'node:events';
import type { ClientRequest } from 'node:http';
import type { Duplex } from 'node:stream';
import type { ClientOptions } from '../client/options.ts';
import { InvalidStateError, type WebSocketError } from '../errors.ts';
import { CloseCode } from '../frame/close-code.ts';
import { ReadyState } from '../ready-state.ts';
import { ClientOpening } from './client-opening.ts';
import { installedDialer } from './dialer.ts';
import { Driver } from './driver.ts';
import type { CloseEvent, ErrorEvent, MessageEvent, WebSocketEvent } from './events.ts';
import {
  acceptingServer,
  attachSocket,
  failHandshake,
  handshakeProgress,
  receiveParts,
  sendEncoded,
} from './internal.ts';
import { iterateMessages } from './iterator.ts';
import { useCompactListenerTable } from './listener-table.ts';
import { notOpenYet, type SendData } from './send-data.ts';
import type {
  AcceptingServerOf,
  AttachOptions,
  BinaryType,
  SendOptions,
  TopicRegistry,
  WebSocketEvents,
} from './types.ts';
import {
  addEventListener,
  BINARY_TYPES,
  defineWebIdlShape,
  removeEventListener,
  type WhatwgCallback,
} from './whatwg.ts';

/** The server that accepted a server-side WebSocket, as the WebSocket sees it (src/websocket/types.ts). */
export type AcceptingServer = AcceptingServerOf<WebSocket>;

/** A WebSocket connection, client side (`new WebSocket(url)`) or server side (from a WebSocketServer). */
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
  readonly #driver: Driver = new Driver(this);
  #url = '';
  #protocol = '';
  #extensions = '';
  /** Client: its opening handshake while CONNECTING (src/websocket/client-opening.ts); null on the server side. */
  #opening: ClientOpening | null = null;

  /**
   * Opens a client connection, through the client that src/index.ts loads (src/websocket/dialer.ts).
   * The server creates its sockets internally.
   * @param url - `ws://`, `wss://` or `ws+unix://` URL.
   * @param protocols - subprotocols to offer, most preferred first (RFC 6455 §4.1 item 10).
   * @throws {InvalidStateError} (code WS_ERR_INVALID_STATE) given a URL when no client is loaded
   *   (this module imported on its own).
   */
  constructor(
    url?: string | URL | null,
    protocols?: string | readonly string[] | ClientOptions<WebSocket>,
    options?: ClientOptions<WebSocket>,
  ) {
    super();
    // 135 B less per connection, and a faster `emit` across thousands of them (listener-table.ts).
    useCompactListenerTable(this);
    if (url !== undefined && url !== null) {
      if (protocols !== undefined && typeof protocols === 'object' && !Array.isArray(protocols)) {
        options = protocols as ClientOptions<WebSocket>;
        protocols = undefined;
      }
      const offered = protocols === undefined ? [] : typeof protocols === 'string' ? [protocols] : protocols;
      const dialer = installedDialer<WebSocket>();
      this.#url = dialer.url(url);
      const opening = new ClientOpening();
      this.#opening = opening;
      opening.abort = dialer.dial(this, url, offered as readonly string[], options ?? {});
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
    return this.#driver.readyState;
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
    return this.#driver.bufferedAmount;
  }
  /**
   * Whether reading is paused: by `pause()` (until `resume()`, as in `ws`), or by the WebSocket itself
   * for backpressure (see `Driver.updateReading`). Not while 'open' is emitted: the socket waits for
   * its listeners then, which is no pause of the application's.
   */
  get isPaused(): boolean {
    const driver = this.#driver;
    if (driver.userPaused) return true;
    const socket = driver.socket;
    if (socket === null || driver.opening || socket.destroyed) return false;
    return socket.isPaused();
  }

  /**
   * @deprecated Mirrors `ws`'s private `_socket` for code written against `ws`; nothing public exposes the socket.
   * The connection's `net.Socket` or `tls.TLSSocket` (or the Duplex it runs over: an HTTP/2 stream, the
   * stream given to `handleUpgrade()`) from 'open' on, kept after 'close'; null before, as in `ws`.
   */
  get _socket(): Duplex | null {
    return this.#driver.socket;
  }

  /**
   * @deprecated Mirrors `ws`'s private `_req` for code written against `ws`; prefer `finishRequest` and 'redirect'.
   * The handshake's `http.ClientRequest`, from the constructor on, replaced on each redirect; null once
   * the handshake is over, on the server side, and over HTTP/2 (RFC 8441 has no `ClientRequest`).
   */
  get _req(): ClientRequest | null {
    return this.#opening?.request ?? null;
  }

  /**
   * @deprecated Mirrors `ws`'s private `_redirects` for code written against `ws`; prefer counting 'redirect' events.
   * The redirects received with `followRedirects`, a refused one (over `maxRedirects`, an invalid
   * Location) included, as in `ws`; 0 without `followRedirects`, undefined on the server side.
   */
  get _redirects(): number | undefined {
    return this.#opening?.redirects;
  }

  /** Internal: called by the server or client once the opening handshake has succeeded. */
  [attachSocket](socket: Duplex, head: Uint8Array, options: AttachOptions): void {
    this.#opening?.connected(); // the dialer's closure and the request are no longer needed
    this.#protocol = options.protocol;
    this.#extensions = options.extensions;
    if (options.url !== undefined) this.#url = options.url;
    this.#driver.attach(socket, head, options);
  }

  /**
   * Internal (WebSocketStream): from the next message on, messages go to `listener` piece by piece
   * (compressed ones inflated piece by piece), `fin` on the last, instead of 'message'; null goes
   * back to whole messages. Once open only.
   */
  [receiveParts](listener: ((data: Buffer, binary: boolean, fin: boolean) => void) | null): void {
    const driver = this.#driver;
    driver.partListener = listener;
    if (driver.connection !== null) driver.connection.streamMessages = listener !== null;
  }

  /** Internal: the client's opening handshake failed. */
  [failHandshake](error: WebSocketError): void {
    if (this.#driver.readyState !== ReadyState.CONNECTING) return;
    if (this.#opening !== null) this.#opening.abort = null;
    reportHandshakeFailure(this.#driver, this.#opening, error);
  }

  /** Internal: the client's handshake followed a redirect (`redirects`) or sent a new request. */
  [handshakeProgress](redirects: number, request?: ClientRequest): void {
    const opening = this.#opening;
    if (opening === null) return;
    opening.redirects = redirects;
    if (request !== undefined) opening.request = request;
  }

  /**
   * Sends a message (or a fragment with `fin: false`). `data` may be omitted (an empty binary
   * message), a number (sent as text, as in `ws`) or a Blob (read first; it keeps its place).
   * @param options - or the callback, as in `ws`.
   * @returns false when `bufferedAmount` is over the high-water mark: wait for 'drain' before sending more.
   * @throws {InvalidStateError} (code WS_ERR_INVALID_STATE) while CONNECTING, as browsers and `ws` do.
   *   In CLOSING or CLOSED nothing is sent and nothing is thrown: the callback gets the error, and
   *   `bufferedAmount` grows by the size of `data`, as in `ws` and the WHATWG interface.
   * @throws {InvalidArgumentError} (code WS_ERR_INVALID_ARGUMENT) for `data` of another type.
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
    const driver = this.#driver;
    if (driver.readyState === ReadyState.CONNECTING) throw notOpenYet('send');
    return driver.send(typeof data === 'number' ? String(data) : data, options, callback);
  }

  /**
   * Sends a Ping (§5.5.2); the peer answers with a Pong carrying the same data. As in `ws`, the
   * callback may take the place of `data` or `mask`: `ping(cb)`, `ping(data, cb)`.
   * @throws {InvalidStateError} while CONNECTING.
   * @throws {InvalidArgumentError} (code WS_ERR_INVALID_ARGUMENT) for data over 125 bytes.
   *   In CLOSING or CLOSED the callback gets the error instead, as for `send()`.
   */
  ping(
    data?: SendData | ((error?: Error) => void),
    mask?: boolean | ((error?: Error) => void),
    callback?: (error?: Error) => void,
  ): void {
    this.#driver.control('ping', data, mask, callback);
  }

  /**
   * Sends a Pong (§5.5.3); unsolicited Pongs serve as a one-way heartbeat. Arguments as `ping()`.
   * @throws {InvalidStateError} while CONNECTING.
   * @throws {InvalidArgumentError} for data over 125 bytes.
   */
  pong(
    data?: SendData | ((error?: Error) => void),
    mask?: boolean | ((error?: Error) => void),
    callback?: (error?: Error) => void,
  ): void {
    this.#driver.control('pong', data, mask, callback);
  }

  /**
   * Starts the closing handshake (§7.1.2); 'close' fires when it completes or the close timeout ends it.
   * §7.3: "Servers MAY close the WebSocket connection whenever desired. Clients SHOULD NOT close the
   * WebSocket connection arbitrarily"; either way, closing starts with this handshake.
   * @param code - 1000 (the default when a reason is given), 1001–1003, 1007–1014 or 3000–4999 (§7.4);
   *   omitted: a Close frame without a code.
   * @param reason - at most 123 bytes of UTF-8.
   * @throws {InvalidArgumentError} (code WS_ERR_INVALID_ARGUMENT) for an invalid code or a reason too long.
   */
  close(code?: number, reason?: string | Buffer): void {
    const reasonText = reason === undefined ? '' : reason.toString();
    if (code === undefined && reasonText !== '') code = CloseCode.Normal;
    const driver = this.#driver;
    if (driver.readyState === ReadyState.CLOSED) return;
    if (driver.readyState === ReadyState.CONNECTING) {
      // Browsers: "Fail the WebSocket connection" when closing before open.
      abortConnecting(driver, this.#opening);
      return;
    }
    driver.close(code, reasonText);
  }

  /** Destroys the socket at once, without a closing handshake ('close' fires with 1006). */
  terminate(): void {
    const driver = this.#driver;
    if (driver.readyState === ReadyState.CLOSED) return;
    if (driver.readyState === ReadyState.CONNECTING) {
      abortConnecting(driver, this.#opening);
      return;
    }
    driver.readyState = ReadyState.CLOSING;
    driver.socket?.destroy();
  }

  /**
   * Stops reading from the socket (flow control for slow consumers). Also in an 'open' listener:
   * nothing is read until `resume()`. Does nothing while CONNECTING or CLOSED, as in `ws`.
   */
  pause(): void {
    const driver = this.#driver;
    if (driver.readyState === ReadyState.CONNECTING || driver.readyState === ReadyState.CLOSED) return;
    driver.userPaused = true;
    driver.socket?.pause();
  }

  /** Reads from the socket again, unless the WebSocket itself must hold reading (see `Driver.updateReading`). */
  resume(): void {
    const driver = this.#driver;
    if (driver.readyState === ReadyState.CONNECTING || driver.readyState === ReadyState.CLOSED) return;
    driver.userPaused = false;
    driver.updateReading();
  }

  // --- WHATWG EventTarget-style API (src/websocket/whatwg.ts) -----------------------------------

  /**
   * Adds a WHATWG-style listener, called with an event object (`MessageEvent`, `CloseEvent`…) and
   * `this` = the WebSocket (or, for an object, its `handleEvent` method called on it). As in the DOM
   * (§2.7 "add an event listener"), a listener already added for the same type is not added twice;
   * `on…` handlers are separate listeners, and a `once` listener can be added again after it fired.
   * Only the WebSocket interface's events are taken ('open', 'message', 'error', 'close'), as in
   * `ws`: other types are ignored.
   */
  addEventListener(type: string, listener: WhatwgCallback, options?: { once?: boolean } | boolean): void {
    addEventListener(this, type, listener, options);
  }

  /** Removes a listener added with `addEventListener` (never an `on…` handler, as in the DOM). */
  removeEventListener(type: string, listener: WhatwgCallback): void {
    removeEventListener(this, type, listener);
  }

  // The HTML "event handler attributes" (`ws.onmessage = …`: one listener per type, apart from
  // addEventListener's), accessors on the prototype made by defineWebIdlShape (whatwg.ts).
  declare onopen: ((event: WebSocketEvent) => void) | null;
  declare onmessage: ((event: MessageEvent) => void) | null;
  declare onclose: ((event: CloseEvent) => void) | null;
  declare onerror: ((event: ErrorEvent) => void) | null;

  /**
   * Iterates over incoming messages: strings for text, Buffers for binary. Ends after a normal close
   * (1000, 1001, 1005) and throws a {@link WebSocketError} after an abnormal one. While the loop body
   * is slow, reading from the socket pauses (backpressure) instead of buffering without bound.
   */
  [Symbol.asyncIterator](): AsyncGenerator<string | Buffer, void, undefined> {
    const driver = this.#driver;
    return iterateMessages(this, () => driver.closeCode);
  }

  // --- server features: pub/sub topics and pre-encoded frames (issue 6) ------------------------
  // Everything here delegates to src/server/; nothing else in src/websocket/ uses it.

  /** Internal: the server that accepted this socket; unset on the client side. Kept by the driver, which calls its close hooks. */
  get [acceptingServer](): AcceptingServer | undefined {
    return (this.#driver.closeHooks as AcceptingServer | null) ?? undefined;
  }
  set [acceptingServer](server: AcceptingServer | undefined) {
    this.#driver.closeHooks = server ?? null;
  }

  /**
   * Subscribes this (server-side) socket to `topic`, for `server.publish(topic, …)`. Subscriptions
   * are dropped when the socket closes.
   * @returns true when newly subscribed, false when already subscribed or the socket is closed.
   * @throws {InvalidStateError} (code WS_ERR_INVALID_STATE) on a client-side WebSocket.
   */
  subscribe(topic: string): boolean {
    return topicsOf(this, 'subscribe').subscribe(this, topic);
  }

  /**
   * Unsubscribes from `topic`.
   * @returns true when it was subscribed.
   * @throws {InvalidStateError} (code WS_ERR_INVALID_STATE) on a client-side WebSocket.
   */
  unsubscribe(topic: string): boolean {
    return topicsOf(this, 'unsubscribe').unsubscribe(this, topic);
  }

  /**
   * Whether this socket is subscribed to `topic`.
   * @throws {InvalidStateError} (code WS_ERR_INVALID_STATE) on a client-side WebSocket.
   */
  isSubscribed(topic: string): boolean {
    return topicsOf(this, 'isSubscribed').isSubscribed(this, topic);
  }

  /**
   * Internal: queues a data frame already encoded by the server (see `Outbox.sendEncoded`).
   * @returns false when the socket is not OPEN or a fragmented message of ours is in progress.
   */
  [sendEncoded](frame: readonly Uint8Array[], data: Uint8Array, binary: boolean): boolean {
    return this.#driver.sendEncoded(frame, data, binary);
  }
}

// The helpers below are functions rather than `#` methods: V8 gives every instance of a class with
// `#` methods a hidden field for the class's brand, 8 B per connection (docs/architecture.md).

/** The client's opening handshake failed: no request is in flight any more, and the driver reports it. */
function reportHandshakeFailure(driver: Driver, opening: ClientOpening | null, error: WebSocketError): void {
  if (opening !== null) opening.request = null;
  driver.handshakeFailed(error);
}

/** `close()` or `terminate()` while CONNECTING: the handshake fails (see ClientOpening). */
function abortConnecting(driver: Driver, opening: ClientOpening | null): void {
  driver.readyState = ReadyState.CLOSING;
  opening?.abortConnecting((error) => reportHandshakeFailure(driver, opening, error));
}

/** The topic registry of the server that accepted `ws`, for `subscribe()` & co. */
function topicsOf(ws: WebSocket, method: string): TopicRegistry<WebSocket> {
  const registry = ws[acceptingServer];
  if (registry === undefined) {
    throw new InvalidStateError(`${method}() is only available on WebSockets accepted by a WebSocketServer`);
  }
  return registry;
}

// The WHATWG interface's constants on the class and the prototype, its attributes enumerable: the
// shape `ws` has (src/websocket/whatwg.ts).
defineWebIdlShape(WebSocket);
