/**
 * WebSocketServer: accepts WebSocket connections standalone (its own `net`/`tls` listener and our own
 * HTTP head parser, no `node:http`), attached to an existing `http`/`https` server, or with
 * `noServer` through `handleUpgrade(req, socket, head, cb)`, the shape `ws` made familiar; and over
 * HTTP/2 (RFC 8441) when attached to a `node:http2` server.
 *
 *   http1-listener.ts    TCP/TLS socket (head parser, limits, timeout) │ http.Server 'upgrade' │
 *                        handleUpgrade() ─▶ validateUpgradeRequest (§4.2.1)
 *   src/http2/server.ts  http2 'stream' (extended CONNECT) ─▶ validateExtendedConnect (RFC 8441 §4)
 *        │ each answers through its HandshakeResponder: 101 (§4.2.2), :status 200, or an error
 *        ▼
 *   negotiate.ts   path ─▶ allowedOrigins (§10.2) ─▶ maxConnections ─▶ verifyClient ─▶ subprotocol
 *                  (§4.2.2) ─▶ permessage-deflate (RFC 7692 §5) ─▶ WebSocket ─▶ 'connection'
 *                  hooks.ts: the application's hooks; handshake-tracker.ts: handshakes in progress
 *                  and the slots of maxConnections; refusal.ts: every handshake that fails
 *   broadcast.ts   broadcast() and publish() (encoded once, §5.1), the topics of subscribe()
 *   fan-out.ts     publish(), broadcast(), sendToUser(): topics, users (users.ts), and the `adapter`
 *                  (adapter.ts): the same fan-out across processes through a broker
 *
 * This file is the public class: options, events, address, shouldHandle, handleUpgrade, broadcast,
 * and close (1001 Going Away to every client, §7.4.1).
 */
import { EventEmitter } from 'node:events';
import type { AddressInfo, Server as NetServer } from 'node:net';
import type { Duplex } from 'node:stream';
import { DEFAULTS } from '../defaults.ts';
import {
  type HandshakeError,
  InvalidArgumentError,
  InvalidOptionError,
  InvalidStateError,
} from '../errors.ts';
import { CloseCode } from '../frame/close-code.ts';
import type { HeaderFields } from '../handshake/header-lines.ts';
import type { UpgradeRequest } from '../handshake/server.ts';
import { attachHttp2 } from '../http2/server.ts';
import { validateServerOptions } from '../options-validation.ts';
import { ReadyState } from '../ready-state.ts';
import { acceptingServer } from '../websocket/internal.ts';
import type { SendData } from '../websocket/send-data.ts';
import { WebSocket } from '../websocket/websocket.ts';
import type { BroadcastOptions, BroadcastResult } from './broadcast.ts';
import { FanOut } from './fan-out.ts';
import { Http1Listener } from './http1-listener.ts';
import {
  type HandshakeResponder,
  type NegotiatingServer,
  Negotiator,
  negotiateHandshake,
  refuseHandshake,
} from './negotiate.ts';
import type { CloseOptions, ServerOptions, ServerRequest, WebSocketServerEvents } from './types.ts';

export type { AdapterHost, FanOutKind, FanOutMessage, ServerAdapter } from './adapter.ts';
export type { BroadcastOptions, BroadcastResult } from './broadcast.ts';
export type {
  CloseOptions,
  HandshakeRejection,
  RequestUser,
  ServerOptions,
  ServerRequest,
  UpgradeRequestInfo,
  VerifyClientInfo,
  VerifyResult,
  WebSocketServerEvents,
} from './types.ts';

/**
 * A WebSocket server (RFC 6455 §4.2), with `ws`'s API: see the file's header and docs/api.md.
 */
export class WebSocketServer<W extends WebSocket = WebSocket> extends EventEmitter<WebSocketServerEvents<W>> {
  /**
   * The open clients; `undefined` (as in `ws`) when `clientTracking` is false. Typed as always there,
   * as `@types/ws` does, so that `server.clients.forEach(…)` compiles as it does with `ws`.
   */
  readonly clients!: Set<W>;
  readonly options: Readonly<ServerOptions<W>>;
  readonly #closeTimeout: number;
  readonly #tracking: boolean;
  /** Handshakes in progress, `maxConnections`, and the accepted WebSockets' setup. */
  readonly #negotiator: Negotiator<W>;
  readonly #http1: Http1Listener<W>;
  #listener: NetServer | null = null;
  #attachedTo: NonNullable<ServerOptions['server']> | null = null;
  #detachHttp1: (() => void) | null = null;
  #detachHttp2: (() => void) | null = null;
  #state: 'running' | 'closing' | 'closed' = 'running';
  #closed: Promise<void> | null = null;
  /** Topics, users and the `adapter`: where publish(), broadcast() and sendToUser() go. */
  readonly #fanOut: FanOut;

  /**
   * Starts listening (`port`), attaches to `server`, or waits for `handleUpgrade()` (`noServer`).
   * @throws {InvalidOptionError} (code WS_ERR_INVALID_ARGUMENT) for an option of the wrong type or
   *   value, naming it.
   * @throws {TypeError} unless exactly one of `port`, `server` or `noServer` is given (`ws`'s text).
   */
  constructor(options: ServerOptions<W> = {}, callback?: () => void) {
    super();
    validateServerOptions(options); // throws InvalidOptionError naming the option
    const modes = [options.port !== undefined, options.server !== undefined, options.noServer === true];
    if (modes.filter(Boolean).length !== 1) {
      // ws's text, which applications (and their tests) match.
      throw new TypeError(
        'One and only one of the "port", "server", or "noServer" options must be specified',
      );
    }
    this.options = options;
    this.#closeTimeout = options.closeTimeout ?? DEFAULTS.closeTimeout;
    this.#tracking = options.clientTracking ?? true;
    if (this.#tracking) this.clients = new Set();
    const socketClass = (options.WebSocket ?? WebSocket) as new (url: null) => W;
    if ((socketClass as unknown) !== WebSocket && !(socketClass?.prototype instanceof WebSocket)) {
      throw new InvalidOptionError(
        'WebSocket',
        'the option "WebSocket" must be the WebSocket class or a subclass of it',
      );
    }
    this.#fanOut = new FanOut(
      options.adapter,
      options,
      () => this.clients,
      (error) => this.#negotiator.refusals.reportHookFailure(error, undefined),
    );
    this.#negotiator = new Negotiator(this, socketClass, this.#fanOut);
    this.#http1 = new Http1Listener(this, this.#negotiator, this.#emitConnection);
    if (options.server !== undefined) {
      this.#attach(options.server);
    } else if (options.port !== undefined) {
      this.#listen(options, callback);
    }
  }

  /**
   * The listening address (standalone or attached mode); null once closed.
   * @throws {InvalidStateError} (code WS_ERR_INVALID_STATE) with `noServer`, as `ws` does: there is no
   * address to give.
   */
  address(): AddressInfo | string | null {
    if (this.options.noServer === true) {
      throw new InvalidStateError('The server is operating in "noServer" mode');
    }
    return (this.#listener ?? this.#attachedTo)?.address() ?? null;
  }

  /** Whether a request is for this server (its `path` option). */
  shouldHandle(req: { readonly url?: string | undefined }): boolean {
    if (this.options.path === undefined) return true;
    const url = req.url ?? '';
    const queryAt = url.indexOf('?');
    return (queryAt === -1 ? url : url.slice(0, queryAt)) === this.options.path;
  }

  /**
   * Completes the opening handshake for an `upgrade` request from any HTTP server (RFC 6455 §4.2).
   * On success `callback(ws, req)` is called; on failure an HTTP error is written and the socket closed
   * (or, for a malformed request, 'wsClientError' is emitted when it has a listener).
   * @throws {InvalidStateError} (code WS_ERR_INVALID_STATE) when called again with a socket already
   * given to `handleUpgrade()` (of any server), as `ws` does: two handshakes on one socket would
   * interleave their bytes; this usually means two servers attached without distinct `path`s.
   */
  handleUpgrade(
    req: ServerRequest,
    socket: Duplex,
    head: Uint8Array,
    callback: (ws: W, req: ServerRequest) => void,
  ): void {
    this.#http1.upgrade(req, socket, head, callback);
  }

  /** Internal, for src/http2: see {@link refuseHandshake}. */
  [refuseHandshake](
    responder: HandshakeResponder,
    error: HandshakeError,
    req: ServerRequest | undefined,
    headers: HeaderFields | undefined,
  ): void {
    this.#negotiator.refuse(responder, error, req, headers);
  }

  /**
   * Internal (src/http2 calls it too): everything after the transport-specific validation.
   * @throws Never: failures are answered through `responder`.
   */
  [negotiateHandshake](
    req: ServerRequest,
    request: UpgradeRequest,
    responder: HandshakeResponder,
    head: Uint8Array,
    callback: (ws: W, req: ServerRequest) => void,
  ): void {
    this.#negotiator.negotiate(req, request, responder, head, callback);
  }

  /**
   * Sends one message to every open client (requires `clientTracking`, the default). The frame is
   * encoded **once** and the same bytes are queued for every client: server frames are unmasked
   * (RFC 6455 §5.1), so they are identical for everyone. They go **uncompressed** (RSV1 clear) even
   * to clients that negotiated permessage-deflate, which is always allowed: RFC 7692 §6 "An endpoint
   * MAY send a message without compression" (compressing per client would defeat encoding once).
   *
   * Slow readers (`bufferedAmount` over `maxBufferedAmount`) are skipped, or closed with 1013 when
   * `slowReaderPolicy` is `'close'`. Do not modify `data` afterwards: its bytes are shared, not copied.
   * With an `adapter`, the clients of the other servers on the broker get it too (not with `local`).
   * @returns how many of this server's clients the message was queued for, and how many were skipped.
   * @throws {InvalidStateError} (code WS_ERR_INVALID_STATE) with `clientTracking: false`.
   * @throws {InvalidArgumentError} (code WS_ERR_INVALID_ARGUMENT) for data of an unsupported type.
   */
  broadcast(data: SendData, options: BroadcastOptions = {}): BroadcastResult {
    if (!this.#tracking) {
      throw new InvalidStateError('broadcast() needs clientTracking (the set of open clients)');
    }
    return this.#fanOut.send('broadcast', '', this.clients, data, options);
  }

  /**
   * Sends one message to every subscriber of `topic` (see `ws.subscribe()`), encoded once per call,
   * uncompressed, with the same slow-reader policy as {@link WebSocketServer.broadcast}.
   * @returns how many subscribers the message was queued for, and how many were skipped.
   * @throws {InvalidArgumentError} (code WS_ERR_INVALID_ARGUMENT) for data of an unsupported type.
   */
  publish(topic: string, data: SendData, options: BroadcastOptions = {}): BroadcastResult {
    return this.#fanOut.send('topic', topic, this.#fanOut.topics.subscribers(topic), data, options);
  }

  /** How many clients of this server are subscribed to `topic`. */
  subscriberCount(topic: string): number {
    return this.#fanOut.topics.subscribers(topic)?.size ?? 0;
  }

  /**
   * Files an open client under a user id, until it closes (or is filed under another id), so that
   * {@link WebSocketServer.sendToUser} reaches it. A user may have any number of sockets (tabs,
   * devices), on this server and, with an `adapter`, on others. Usually called in 'connection' with
   * the id `verifyClient` authenticated (`ws.user`).
   * @returns true when filed, false when it already was or the socket is not OPEN.
   * @throws {InvalidArgumentError} (code WS_ERR_INVALID_ARGUMENT) unless `userId` is a non-empty string,
   *   or when `ws` was not accepted by this server (only this server's sockets leave its registry on close).
   */
  setUser(ws: W, userId: string): boolean {
    if (typeof userId !== 'string' || userId === '') {
      throw new InvalidArgumentError('setUser(ws, userId) needs the user id as a non-empty string');
    }
    if (ws[acceptingServer] !== this.#negotiator.acceptingServer) {
      throw new InvalidArgumentError(
        'setUser(ws, userId) takes a WebSocket accepted by this server (its "connection" event gives them)',
      );
    }
    return this.#fanOut.users.add(ws, userId);
  }

  /** The user id a client was filed under with {@link WebSocketServer.setUser}, if any. */
  userOf(ws: W): string | undefined {
    return this.#fanOut.users.userOf(ws);
  }

  /**
   * Sends one message to every socket of a user (see {@link WebSocketServer.setUser}): this server's,
   * and with an `adapter` those on other processes; encoded once, with the slow-reader policy of
   * {@link WebSocketServer.broadcast}.
   * @returns how many of this server's sockets the message was queued for, and how many were skipped.
   * @throws {InvalidArgumentError} (code WS_ERR_INVALID_ARGUMENT) for data of an unsupported type.
   */
  sendToUser(userId: string, data: SendData, options: BroadcastOptions = {}): BroadcastResult {
    return this.#fanOut.send('user', userId, this.#fanOut.users.sockets(userId), data, options);
  }

  /**
   * Closes the server: stops accepting, sends a Close frame (default 1001) to every client, waits up
   * to `timeout` for the closing handshakes, then terminates the rest. Resolves when all are closed.
   * An attached `http` server is left running: it belongs to the application.
   *
   * Called again while closing, `callback` is called when the first close ends. Called again once
   * closed, as in `ws`: `callback` gets an {@link InvalidStateError} "The server is not running" and
   * 'close' is emitted again; the returned promise resolves (the server is closed, as asked).
   */
  close(
    options?: CloseOptions | ((error?: Error) => void),
    callback?: (error?: Error) => void,
  ): Promise<void> {
    if (typeof options === 'function') {
      callback = options;
      options = undefined;
    }
    if (this.#state === 'closed' && this.#closed !== null) {
      if (callback) {
        const error = new InvalidStateError('The server is not running');
        const done = callback;
        this.once('close', () => done(error));
      }
      process.nextTick(() => this.emit('close'));
      return this.#closed;
    }
    if (this.#closed === null) this.#closed = this.#shutDown(options ?? {});
    if (callback) this.#closed.then(() => callback(), callback);
    return this.#closed;
  }

  async #shutDown(options: CloseOptions): Promise<void> {
    this.#state = 'closing';
    this.#negotiator.accepting = false;
    const listenerClosed =
      this.#listener === null
        ? Promise.resolve()
        : new Promise<void>((resolve) => this.#listener!.close(() => resolve()));
    this.#detachHttp2?.();
    if (this.#attachedTo !== null && this.#detachHttp1 !== null) {
      this.#detachHttp1();
      this.#attachedTo.off('listening', this.#emitListening);
      this.#attachedTo.off('error', this.#emitError);
    }
    // Sockets still in their handshake: those still sending their head are dropped, those waiting for
    // verifyClient are answered 503 now (not when it decides), refused ones keep their linger.
    this.#negotiator.shutDown();
    const clients = this.clients === undefined ? [] : [...this.clients];
    const allClosed = Promise.all(
      clients.map((client) =>
        client.readyState === ReadyState.CLOSED
          ? undefined
          : new Promise((resolve) => client.once('close', resolve)),
      ),
    );
    for (const client of clients) {
      if (client.readyState === ReadyState.OPEN)
        client.close(options.code ?? CloseCode.GoingAway, options.reason);
    }
    // At the timeout, whatever is left goes: clients, and refused sockets still lingering (a
    // standalone listener's close() waits for every socket), so close() ends within its timeout.
    const timer = setTimeout(() => {
      for (const client of clients) client.terminate();
      this.#negotiator.destroyAll();
    }, options.timeout ?? this.#closeTimeout);
    await allClosed;
    await listenerClosed;
    clearTimeout(timer);
    await this.#fanOut.close(); // the adapter's broker connections last as long as the server
    this.#state = 'closed';
    this.emit('close');
  }

  #listen(options: ServerOptions<W>, callback: (() => void) | undefined): void {
    const listener = this.#http1.listen(options);
    this.#listener = listener;
    listener.on('listening', this.#emitListening);
    listener.on('error', this.#emitError);
    if (callback) this.once('listening', callback);
    listener.listen(options.port, options.host, options.backlog);
  }

  #attach(server: NonNullable<ServerOptions['server']>): void {
    this.#attachedTo = server;
    this.#detachHttp1 = this.#http1.attach(server);
    // A node:http2 server (it alone has updateSettings): also take RFC 8441 extended CONNECT streams.
    if ('updateSettings' in server) this.#detachHttp2 = attachHttp2(server, this.#erased);
    server.on('listening', this.#emitListening);
    server.on('error', this.#emitError);
  }

  /**
   * This server as the plain `WebSocketServer` src/http2 holds: `W` only types what the application
   * sees, the internals are the same for every `W`.
   */
  get #erased(): NegotiatingServer {
    return this as unknown as WebSocketServer;
  }

  readonly #emitListening = () => this.emit('listening');
  readonly #emitConnection = (ws: W, request: ServerRequest) => this.emit('connection', ws, request);
  readonly #emitError = (error: Error) => this.emit('error', error);
}
