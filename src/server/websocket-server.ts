/**
 * WebSocketServer: accepts WebSocket connections standalone (its own `net`/`tls` listener and our own
 * HTTP head parser, no `node:http`), attached to an existing `http`/`https` server, or with
 * `noServer` through `handleUpgrade(req, socket, head, cb)`, the shape `ws` made familiar.
 *
 *   TCP/TLS socket ─▶ HttpHeadParser (limits, timeout) ─┐
 *   http.Server 'upgrade' (req, socket, head) ──────────┼─▶ validateUpgradeRequest (§4.2.1)
 *                                                      │     ─▶ path, verifyClient, subprotocol
 *                                                      │     ─▶ 101 (§4.2.2) ─▶ WebSocket ─▶ 'connection'
 *                                                      └─▶ on any failure: an HTTP error status and a reason
 *   http2 server 'stream' (RFC 8441 extended CONNECT, src/http2/server.ts) ─▶ validateExtendedConnect
 *     ─▶ [negotiateHandshake]: the same path/origin/limit/verifyClient/subprotocol/deflate steps
 *     ─▶ :status 200 on the stream ─▶ WebSocket on the stream ─▶ 'connection'
 * The transport-specific answers (101 or :status 200, error responses) go through a HandshakeResponder.
 */
import { EventEmitter } from 'node:events';
import { type Server as HttpServer, IncomingMessage, STATUS_CODES } from 'node:http';
import type { Http2SecureServer, Http2Server } from 'node:http2';
import type { Server as HttpsServer } from 'node:https';
import {
  type AddressInfo,
  createServer as createNetServer,
  type Server as NetServer,
  Socket,
} from 'node:net';
import type { Duplex } from 'node:stream';
import { createServer as createTlsServer, type TLSSocket, type TlsOptions } from 'node:tls';
import { sha1 } from '../crypto.ts';
import { DEFAULTS } from '../defaults.ts';
import {
  ErrorCode,
  HandshakeError,
  InvalidOptionError,
  InvalidStateError,
  WebSocketError,
} from '../errors.ts';
import {
  acceptDeflateOffer,
  ConcurrencyLimiter,
  PerMessageDeflateCodec,
  type PerMessageDeflateOptions,
  resolveDeflateOptions,
} from '../extensions/permessage-deflate/index.ts';
import { CloseCode } from '../frame/close-code.ts';
import { encodeFrame } from '../frame/encoder.ts';
import { Opcode } from '../frame/opcode.ts';
import type { HeaderFields } from '../handshake/header-lines.ts';
import { containsToken } from '../handshake/headers.ts';
import { HeaderMap, type HttpHeadLimits, HttpHeadParser, type RequestHead } from '../handshake/http.ts';
import {
  acceptResponseLines,
  buildAcceptResponse,
  buildRejectResponse,
  joinResponseLines,
  rejectionHeaders,
  type UpgradeRequest,
  validateUpgradeRequest,
} from '../handshake/server.ts';
import { attachHttp2 } from '../http2/server.ts';
import {
  acceptingServer,
  attachSocket,
  negotiateHandshake,
  refuseHandshake,
  sendEncoded,
} from '../internal.ts';
import { validateServerOptions } from '../options-validation.ts';
import { ReadyState } from '../ready-state.ts';
import {
  type ConnectionSettings,
  type SendData,
  type TopicRegistry,
  toBytes,
  WebSocket,
} from '../websocket.ts';

/** What the server knows of an upgrade request; an `http.IncomingMessage` when attached to node:http. */
export interface UpgradeRequestInfo {
  readonly method: string;
  /** The request target, e.g. `/chat?room=1`. */
  readonly url: string;
  readonly httpVersion: string;
  /** Header values by lowercase name (repeated fields joined with ", "). */
  readonly headers: Readonly<Record<string, string | string[] | undefined>>;
  readonly rawHeaders: readonly string[];
  /**
   * The connection: a `net.Socket` or `tls.TLSSocket` standalone (with `remoteAddress`, as
   * `IncomingMessage.socket` has), an HTTP/2 stream over RFC 8441 (no address of its own).
   */
  readonly socket: Duplex & {
    readonly remoteAddress?: string | undefined;
    readonly remotePort?: number | undefined;
  };
  /** The `user` an async `verifyClient` accepted the request with (`{ accept: true, user }`). */
  readonly user?: RequestUser;
}

/**
 * The type of `request.user`: `unknown`, or the type the application declared for `user` on
 * `http.IncomingMessage` (module augmentation, as `ws` users do), so that both request kinds agree.
 */
export type RequestUser = IncomingMessage extends { readonly user?: infer User } ? User : unknown;

/**
 * The request the server gives to its hooks and events: node:http's `IncomingMessage` over HTTP/1.1
 * (attached, `noServer`, and standalone, where the server makes one from its own parser's result),
 * or an {@link UpgradeRequestInfo} with the same fields for RFC 8441 over HTTP/2. `user` is what an
 * async `verifyClient` accepted the request with.
 */
export type ServerRequest = (IncomingMessage & { user?: RequestUser }) | UpgradeRequestInfo;

/**
 * The decision of `verifyClient`: accept (optionally with a `user`, which becomes `ws.user` and
 * `request.user` before 'connection' fires), or reject with a status, reason and headers.
 */
export type VerifyResult =
  | boolean
  | { readonly accept: true; readonly user?: unknown }
  | {
      readonly accept: false;
      readonly status?: number;
      readonly reason?: string;
      readonly headers?: HeaderFields;
    };

/**
 * What the server emits as 'handshakeRejected': one opening handshake that did not become a
 * WebSocket, for logs and metrics. The peer got `status` with the fixed text `reason` (nothing of the
 * request is reflected to it); the request itself, with the path, headers and socket, is here.
 */
export interface HandshakeRejection {
  /** The HTTP status answered (400, 401, 403, 404, 405, 426, 429, 431, 500, 503…), or 0 when the socket was dropped without an answer (a handshake timeout, or `maxConnections` reached during TLS). */
  readonly status: number;
  /** The reason sent with the status, or why the socket was dropped. */
  readonly reason: string;
  /** The upgrade request, when its head had arrived and could be parsed. */
  readonly request: ServerRequest | undefined;
  /** The peer's address, as the socket reports it (undefined on some HTTP/2 streams and closed sockets). */
  readonly remoteAddress: string | undefined;
}

export interface VerifyClientInfo {
  readonly origin: string | undefined;
  readonly secure: boolean;
  readonly req: ServerRequest;
}

export interface ServerOptions<W extends WebSocket = WebSocket> extends ConnectionSettings {
  /** Port to listen on (standalone mode). 0 picks a free port. */
  readonly port?: number;
  /** Address to listen on. Default: all interfaces, as `net.Server`. */
  readonly host?: string;
  readonly backlog?: number;
  /** TLS options (`key`, `cert`, …) for a standalone `wss://` server. */
  readonly tls?: TlsOptions;
  /**
   * An existing `http`/`https` server to take upgrade requests from, or a `node:http2` server: then
   * HTTP/1.1 upgrades (with `allowHTTP1: true`) and RFC 8441 extended CONNECT streams are both
   * accepted, on the same port, with the same options and hooks (see docs/http2.md).
   */
  readonly server?: HttpServer | HttpsServer | Http2SecureServer | Http2Server;
  /** No listener at all: call `handleUpgrade()` yourself. */
  readonly noServer?: boolean;
  /** Accept only this path (the request target without its query). Default: any path. */
  readonly path?: string;
  /**
   * Picks the subprotocol from those offered (RFC 6455 §4.2.2 item 4), or `false` (or nothing) for
   * none. Default: the client's first choice. Without an offer, no subprotocol is selected.
   */
  readonly handleProtocols?: (protocols: Set<string>, request: ServerRequest) => string | false | undefined;
  /**
   * Decides whether to accept a client before the upgrade (authentication, origin checks, §10.2).
   * May be async. `false` answers 401; an object can choose the status, reason and headers.
   * A callback-style `(info, cb)` function, as in `ws`, is also accepted.
   */
  // One signature (not a union of the two styles), so that `({ req }) => …` gets its parameter's type
  // from context under `strict`. It returns a VerifyResult or a Promise of one; a function that
  // declares the second parameter calls back instead. The return type is `unknown` so that both
  // styles (and async functions that throw) are accepted as written: the value is checked at run
  // time, and anything else answers 500 with 'hookError'.
  readonly verifyClient?: (
    info: VerifyClientInfo,
    callback: (result: boolean, code?: number, message?: string, headers?: HeaderFields) => void,
  ) => unknown;
  /** Keep the set of open clients in `server.clients`. Default true. */
  readonly clientTracking?: boolean;
  /**
   * Standalone mode: how long a new socket may take, from accept, to finish its TLS handshake (with
   * `tls`) and send its complete request head, in ms; then it is destroyed without an answer.
   * Default 10 s: long enough for any real client, short enough to shed slowloris sockets.
   * In every mode it also bounds how long `verifyClient` may take to decide: after it, the client is
   * answered 500 and the server emits 'hookError' (an undecided hook would hold its socket forever).
   */
  readonly handshakeTimeout?: number;
  /** Standalone mode: request head limits (RFC 6585 §5: over them the answer is 431). */
  readonly maxHeadSize?: number;
  readonly maxHeaderCount?: number;
  /**
   * permessage-deflate (RFC 7692): `true` or options. Default off, as in `ws`: compression costs CPU
   * and about 64 KiB–300 KiB of zlib state per connection with context takeover, so a server opts in.
   */
  readonly perMessageDeflate?: boolean | PerMessageDeflateOptions;
  /**
   * Origins allowed to connect (RFC 6455 §10.2: "servers that are not intended to process input from
   * any web page but only for certain sites SHOULD verify the |Origin| field is an origin they
   * expect"): exact `Origin` values (e.g. `'https://app.example'`), or a function deciding per request.
   * Anything else is answered `403 Forbidden` before the upgrade and before `verifyClient`.
   *
   * A request **without** `Origin` is allowed with the array form: browsers always send it, so its
   * absence means a non-browser client, which could forge any Origin anyway. The function form
   * receives `undefined` and decides itself (return false to require an Origin). Default: no check.
   */
  readonly allowedOrigins?:
    | readonly string[]
    | ((origin: string | undefined, request: ServerRequest) => boolean);
  /**
   * Most connections at once, counting open sockets and upgrades being verified or accepted, and on
   * a standalone `wss://` server sockets from accept on (TLS handshake included; over the limit they
   * are closed at once, as no HTTP answer is possible before TLS). Plain sockets still sending their
   * request head do not count: `handshakeTimeout` bounds them. Over the limit the answer is
   * `503 Service Unavailable` with `Retry-After` (RFC 9110 §10.2.3). Default: no limit.
   */
  readonly maxConnections?: number;
  /** Seconds sent in `Retry-After` with the 503 of `maxConnections`. Default 5. */
  readonly retryAfter?: number;
  /**
   * HTTP/2 (RFC 8441): most WebSockets (streams being verified or open) one HTTP/2 connection may
   * carry; further extended CONNECTs on it are answered `429 Too Many Requests` (RFC 6585 §4) while
   * the connection and its other streams go on. Per-IP or per-connection limits in front of the
   * server count TCP connections, and without this one connection could hold thousands of
   * WebSockets. Default 100: the smallest SETTINGS_MAX_CONCURRENT_STREAMS that RFC 9113 §6.5.2
   * recommends, and near common servers' stream limits (Apache httpd 100, nginx 128). `Infinity`: no limit.
   */
  readonly maxStreamsPerSession?: number;
  /**
   * `broadcast()`/`publish()`: a client whose `bufferedAmount` is over this many bytes is a slow
   * reader and gets `slowReaderPolicy` instead of the message. Default: no limit.
   */
  readonly maxBufferedAmount?: number;
  /**
   * What `broadcast()`/`publish()` do with a slow reader (see `maxBufferedAmount`): `'drop'` (default)
   * skips the message for that client; `'close'` closes it with **1013 Try Again Later** (RFC 6455
   * §7.4.1 via the IANA registry, §11.7). Not 1008 Policy Violation: the client broke no policy, it is
   * merely slow, and the server is shedding load; 1013 tells it to reconnect later, 1008 would tell a
   * reconnecting client not to retry.
   */
  readonly slowReaderPolicy?: 'close' | 'drop';
  /**
   * The class of the accepted connections: `WebSocket` (the default) or a subclass of it, constructed
   * as `new WebSocket(null)` (as in `ws` 8). Its instances are what 'connection', `clients` and the
   * `handleUpgrade` callback give (the server's type parameter is inferred from it).
   */
  readonly WebSocket?: new (
    url: null,
  ) => W;
}

/** Options of `server.broadcast()` and `server.publish()`. */
export interface BroadcastOptions {
  /** Send as binary. Default: true unless `data` is a string. */
  readonly binary?: boolean;
  /** Clients not to send to (typically the sender). */
  readonly except?: WebSocket | Iterable<WebSocket>;
  /** Overrides the server's `maxBufferedAmount` for this call. */
  readonly maxBufferedAmount?: number;
}

/** What `broadcast()`/`publish()` did: clients the frame was queued for, and those skipped. */
export interface BroadcastResult {
  readonly sent: number;
  /** Excluded, not OPEN, busy with a fragmented message, or slow readers (dropped or closed). */
  readonly skipped: number;
}

export interface CloseOptions {
  /** Close code sent to every client. Default 1001 "going away" (§7.4.1). */
  readonly code?: number;
  readonly reason?: string;
  /** How long to wait for clients to finish the closing handshake before terminating them. Default: closeTimeout. */
  readonly timeout?: number;
}

type AttachableServer = HttpServer | HttpsServer | Http2SecureServer | Http2Server;

/** The WebSocketServers attached to each HTTP server, to route upgrade requests by path. */
const attachedServers = new WeakMap<AttachableServer, Set<WebSocketServer>>();

/**
 * How one handshake is answered: over HTTP/1.1 (101 or an error response written to the socket) or
 * over HTTP/2 (RFC 8441 §5: `:status` 200 or an error status on the stream). The negotiation itself
 * (path, origin, maxConnections, verifyClient, subprotocol, permessage-deflate) is shared. Internal.
 */
export interface HandshakeResponder {
  /** The Duplex the WebSocket runs on once accepted: the TCP/TLS socket, or the HTTP/2 stream. */
  readonly socket: Duplex;
  /** Whether the connection is TLS (for `verifyClient`'s `info.secure`). */
  readonly secure: boolean;
  /**
   * Sends the success response.
   * @throws {TypeError} for a subprotocol that is not a token or an invalid extensions value.
   */
  accept(request: UpgradeRequest, protocol: string | undefined, extensions: string | undefined): void;
  /**
   * Sends an error response and ends the exchange; whatever the peer does (never reads, never closes),
   * the socket or stream is destroyed `DEFAULTS.refusalLingerMs` later if still open.
   */
  reject(status: number, reason: string, headers: HeaderFields | undefined): void;
}

/** The HTTP/1.1 responder (RFC 6455 §4.2.2). */
class Http1Responder implements HandshakeResponder {
  readonly socket: Duplex;
  constructor(socket: Duplex) {
    this.socket = socket;
  }
  get secure(): boolean {
    return 'encrypted' in this.socket && this.socket.encrypted === true;
  }
  accept(request: UpgradeRequest, protocol: string | undefined, extensions: string | undefined): void {
    this.socket.write(buildAcceptResponse({ key: request.key, protocol, extensions }, sha1));
  }
  reject(status: number, reason: string, headers: HeaderFields | undefined): void {
    const socket = this.socket;
    if (socket.destroyed) return;
    socket.end(buildRejectResponse(status, reason, headers));
    // Read (and drop) whatever the peer still sends, so that its FIN is seen and the socket closes as
    // soon as it leaves; a paused socket would only notice at the timer.
    socket.resume();
    // A peer that never reads or never closes must not keep the socket: RFC 9110 §9.6 lets a server
    // close after its response, and the linger gives the response time to reach the peer first.
    setTimeout(destroySocketLater, DEFAULTS.refusalLingerMs, socket).unref();
  }
}

/** The events of a WebSocketServer and their listener arguments (`ws`'s, plus two of ours). */
export interface WebSocketServerEvents<W extends WebSocket = WebSocket> {
  /**
   * A client is connected, with its request ({@link ServerRequest}). Further arguments are those an
   * application passes to its own `server.emit('connection', ws, request, client)` from a
   * `handleUpgrade` callback (the client-authentication pattern of `ws`'s README).
   */
  // biome-ignore lint/suspicious/noExplicitAny: whatever the application emits, typed as @types/ws types it
  connection: [ws: W, request: ServerRequest, ...extra: any[]];
  /** The listener (standalone) or the attached server is listening. */
  listening: [];
  /** The listener failed (e.g. `EADDRINUSE`). */
  error: [error: Error];
  /** `close()` finished. */
  close: [];
  /** A hook of the application threw or returned an invalid value; the client got a 500 (or 1011). */
  hookError: [error: WebSocketError, request: ServerRequest | undefined];
  /** An opening handshake did not become a WebSocket (for logs and metrics). */
  handshakeRejected: [rejection: HandshakeRejection];
  /**
   * Just before the 101 is written (HTTP/1.1 only), as in `ws`: `headers` is the response's lines
   * without CRLFs (status line first); push fields such as `'Set-Cookie: a=b'`. A line that is not
   * `Name: value` with a token name and no CR/LF, or a changed status line, answers 500 instead
   * ('hookError').
   */
  headers: [headers: string[], request: ServerRequest];
  /**
   * A malformed upgrade request (the 400, 405 or 426 of RFC 6455 §4.2.1, `error.status` says which),
   * as in `ws`: with a listener, the server does not answer; the listener writes its own response to
   * `socket` and ends it (the server destroys it after `handshakeTimeout` otherwise).
   */
  wsClientError: [error: HandshakeError, socket: Duplex, request: ServerRequest];
}

export class WebSocketServer<W extends WebSocket = WebSocket> extends EventEmitter<WebSocketServerEvents<W>> {
  /**
   * The open clients; `undefined` (as in `ws`) when `clientTracking` is false. Typed as always there,
   * as `@types/ws` does, so that `server.clients.forEach(…)` compiles as it does with `ws`.
   */
  readonly clients!: Set<W>;
  readonly options: Readonly<ServerOptions<W>>;
  readonly #maxPayload: number;
  readonly #closeTimeout: number;
  readonly #tracking: boolean;
  readonly #socketClass: new (
    url: null,
  ) => W;
  #listener: NetServer | null = null;
  #attachedTo: AttachableServer | null = null;
  #detachHttp2: (() => void) | null = null;
  #onUpgrade: ((req: IncomingMessage, socket: Duplex, head: Buffer) => void) | null = null;
  /**
   * Sockets (and HTTP/2 streams) in their opening handshake: reading the head (no responder yet),
   * being verified, or refused and lingering. `close()` ends each of them according to its phase.
   */
  readonly #handshaking = new Map<Duplex, Handshaking>();
  /** Whether the process warning for a 'hookError' without listeners was emitted. */
  #warnedHookFailure = false;
  /** Standalone wss://: TCP sockets in their TLS handshake, with the timer of their handshake deadline. */
  readonly #inTls = new WeakMap<Socket, { readonly timer: NodeJS.Timeout; readonly deadline: number }>();
  /** Handshaking sockets that hold one of the `maxConnections` slots. */
  readonly #handshakeSlots = new Set<Duplex>();
  #state: 'running' | 'closing' | 'closed' = 'running';
  readonly #deflateOptions: PerMessageDeflateOptions | null;
  readonly #deflateLimiter: ConcurrencyLimiter | null;
  #closed: Promise<void> | null = null;
  /** Upgrades past validation and not yet accepted or rejected, plus open sockets (`maxConnections`). */
  #connectionCount = 0;
  /** Pub/sub: subscribers by topic. */
  readonly #topics = new Map<string, Set<WebSocket>>();
  /** Pub/sub: topics by subscriber, to drop them all on close. */
  readonly #subscriptions = new WeakMap<WebSocket, Set<string>>();
  readonly #registry: ServerTopicRegistry = {
    subscribe: (ws, topic) => this.#subscribe(ws, topic),
    unsubscribe: (ws, topic) => this.#unsubscribe(ws, topic),
    isSubscribed: (ws, topic) => this.#topics.get(topic)?.has(ws) ?? false,
    dropAll: (ws) => this.#dropSubscriptions(ws),
  };

  /**
   * @throws {TypeError} unless exactly one of `port`, `server` or `noServer` is given.
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
    for (const name of ['maxConnections', 'retryAfter', 'maxBufferedAmount'] as const) {
      const value = options[name];
      if (value !== undefined && !(typeof value === 'number' && value >= 0 && !Number.isNaN(value))) {
        throw new TypeError(`the option "${name}" must be a number >= 0`);
      }
    }
    this.options = options;
    this.#maxPayload = options.maxPayload ?? DEFAULTS.maxPayload;
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
    this.#socketClass = socketClass;
    this.#deflateOptions = resolveDeflateOptions(options.perMessageDeflate, false);
    this.#deflateLimiter =
      this.#deflateOptions === null
        ? null
        : new ConcurrencyLimiter(this.#deflateOptions.concurrencyLimit ?? DEFAULTS.deflateConcurrencyLimit);
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
    if (upgradeSockets.has(socket)) {
      throw new InvalidStateError(
        'server.handleUpgrade() was called more than once with the same socket, possibly due to a misconfiguration',
      );
    }
    upgradeSockets.add(socket);
    socket.on('error', onHandshakeSocketError);
    const responder = new Http1Responder(socket);
    this.#track(socket, responder);
    let request: UpgradeRequest;
    try {
      // node:http's parser sets `upgrade` once it saw Connection: upgrade and Upgrade.
      request = validateUpgradeRequest(toRequestHead(req), {
        upgradeRequested: (req as { upgrade?: unknown }).upgrade === true,
      });
    } catch (error) {
      this.#clientError(responder, error, req);
      return;
    }
    this[negotiateHandshake](req, request, responder, head, callback);
  }

  /**
   * A malformed upgrade request ({@link validateUpgradeRequest} threw): answered by the server, or,
   * as in `ws`, handed to the application's 'wsClientError' listeners, which answer it themselves.
   */
  #clientError(responder: HandshakeResponder, error: unknown, req: ServerRequest): void {
    if (!(error instanceof HandshakeError) || this.listenerCount('wsClientError') === 0) {
      this.#reject(responder, error, req);
      return;
    }
    const socket = responder.socket;
    const entry = this.#handshaking.get(socket);
    if (entry !== undefined) {
      entry.request = req;
      entry.refused = true; // close() leaves it to the application until its timeout
    }
    this.#releaseSlot(socket);
    // The status is the one the server would have answered; the listener answers instead.
    this.#emitRejection(socket, error.status, error.message);
    // The socket is the application's now, but not forever: one that is never ended goes at the
    // handshake deadline (RFC 9110 §9.6 lets a server close a connection it will not serve).
    const deadline = setTimeout(
      destroySocketLater,
      this.options.handshakeTimeout ?? DEFAULTS.serverHandshakeTimeout,
      socket,
    );
    deadline.unref();
    // A socket the application closes in time does not stay referenced by the timer.
    socket.once('close', () => clearTimeout(deadline));
    try {
      this.emit('wsClientError', error, socket, req);
    } catch (listenerError) {
      socket.destroy();
      this.#reportHookFailure(
        new WebSocketError(
          ErrorCode.HookFailed,
          `a 'wsClientError' listener threw: ${errorText(listenerError)}; the socket was destroyed`,
          { cause: listenerError },
        ),
        req,
      );
    }
  }

  /** Internal, for src/http2: see {@link refuseHandshake}. */
  [refuseHandshake](
    responder: HandshakeResponder,
    error: HandshakeError,
    req: ServerRequest | undefined,
    headers: HeaderFields | undefined,
  ): void {
    this.#track(responder.socket, responder);
    this.#handshaking.get(responder.socket)!.request = req;
    this.#reject(responder, error, req, headers);
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
    const socket = responder.socket;
    this.#track(socket, responder);
    this.#handshaking.get(socket)!.request = req;
    try {
      if (!this.shouldHandle(req)) {
        // A fixed text: the path is the peer's, and an error body (which a browser may render)
        // reflects nothing of the request.
        throw new HandshakeError(
          ErrorCode.HandshakeFailed,
          400,
          'Bad Request: no WebSocket endpoint at this path',
        );
      }
      if (this.#state !== 'running') {
        throw new HandshakeError(ErrorCode.HandshakeFailed, 503, 'the server is shutting down');
      }
      if (!this.#originAllowed(request.origin, req)) {
        // RFC 6455 §4.2.2: "If the server does not wish to accept this connection, it MUST return an
        // appropriate HTTP error code (e.g., 403 Forbidden) and abort the WebSocket handshake" (§10.2).
        throw new HandshakeError(ErrorCode.HandshakeFailed, 403, 'Forbidden: origin not allowed');
      }
    } catch (error) {
      this.#reject(responder, error, req);
      return;
    }
    if (!this.#handshakeSlots.has(socket)) {
      if (this.#atConnectionLimit()) {
        this.#reject(
          responder,
          new HandshakeError(ErrorCode.HandshakeFailed, 503, 'Service Unavailable: too many connections'),
          req,
          { 'Retry-After': String(Math.ceil(this.options.retryAfter ?? DEFAULTS.retryAfterSeconds)) },
        );
        return;
      }
      this.#takeSlot(socket);
    }
    this.#verifyInTime(req, request, responder).then(
      (verdict) => {
        let ws: W | null = null;
        if (verdict !== null) {
          try {
            ws = this.#accept(req, request, responder, head, callback, verdict.user);
          } catch (error) {
            // Only failures before the 101 get here (#accept catches its callback's): answer 500.
            this.#reject(responder, error, req);
          }
        }
        if (ws === null) this.#releaseSlot(socket);
      },
      (error: unknown) => this.#reject(responder, error, req),
    );
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
   * @returns how many clients the message was queued for, and how many were skipped.
   * @throws {InvalidStateError} (code WS_ERR_INVALID_STATE) with `clientTracking: false`;
   *   (code WS_ERR_INVALID_ARGUMENT) for data of an unsupported type.
   */
  broadcast(data: SendData, options: BroadcastOptions = {}): BroadcastResult {
    if (!this.#tracking) {
      throw new InvalidStateError('broadcast() needs clientTracking (the set of open clients)');
    }
    return this.#sendToAll(this.clients, data, options);
  }

  /**
   * Sends one message to every subscriber of `topic` (see `ws.subscribe()`), encoded once per call,
   * uncompressed, with the same slow-reader policy as {@link WebSocketServer.broadcast}.
   * @returns how many subscribers the message was queued for, and how many were skipped.
   * @throws {InvalidStateError} (code WS_ERR_INVALID_ARGUMENT) for data of an unsupported type.
   */
  publish(topic: string, data: SendData, options: BroadcastOptions = {}): BroadcastResult {
    const subscribers = this.#topics.get(topic);
    if (subscribers === undefined) {
      toBytes(data); // the same argument check as with subscribers
      return { sent: 0, skipped: 0 };
    }
    return this.#sendToAll(subscribers, data, options);
  }

  /** How many clients are subscribed to `topic`. */
  subscriberCount(topic: string): number {
    return this.#topics.get(topic)?.size ?? 0;
  }

  #sendToAll(clients: Iterable<WebSocket>, data: SendData, options: BroadcastOptions): BroadcastResult {
    const bytes = toBytes(data);
    // A number goes as its text, as with send() (and `ws`).
    const binary = options.binary ?? (typeof data !== 'string' && typeof data !== 'number');
    // §5.1: "A server MUST NOT mask any frames that it sends to the client": one encoding fits all.
    const frame = encodeFrame(binary ? Opcode.Binary : Opcode.Text, bytes);
    const except = options.except;
    const excluded: ReadonlySet<WebSocket> =
      except === undefined ? EMPTY_SET : except instanceof WebSocket ? new Set([except]) : new Set(except);
    const limit = options.maxBufferedAmount ?? this.options.maxBufferedAmount ?? Number.POSITIVE_INFINITY;
    const closeSlow = this.options.slowReaderPolicy === 'close';
    let sent = 0;
    let skipped = 0;
    // A copy: closing a slow reader may change the set being iterated.
    for (const client of [...clients]) {
      if (excluded.has(client)) {
        skipped++;
      } else if (client.bufferedAmount > limit) {
        skipped++;
        if (closeSlow && client.readyState === ReadyState.OPEN) {
          client.close(CloseCode.TryAgainLater, 'slow reader');
        }
      } else if (client[sendEncoded](frame, bytes, binary)) {
        sent++;
      } else {
        skipped++;
      }
    }
    return { sent, skipped };
  }

  #subscribe(ws: WebSocket, topic: string): boolean {
    if (ws.readyState !== ReadyState.OPEN) return false;
    let topics = this.#subscriptions.get(ws);
    if (topics === undefined) {
      topics = new Set();
      this.#subscriptions.set(ws, topics);
      ws.once('close', dropSubscriptions);
    }
    if (topics.has(topic)) return false;
    topics.add(topic);
    let subscribers = this.#topics.get(topic);
    if (subscribers === undefined) {
      subscribers = new Set();
      this.#topics.set(topic, subscribers);
    }
    subscribers.add(ws);
    return true;
  }

  #unsubscribe(ws: WebSocket, topic: string): boolean {
    const topics = this.#subscriptions.get(ws);
    if (topics === undefined || !topics.delete(topic)) return false;
    const subscribers = this.#topics.get(topic);
    subscribers?.delete(ws);
    if (subscribers?.size === 0) this.#topics.delete(topic); // no empty sets left behind
    return true;
  }

  #dropSubscriptions(ws: WebSocket): void {
    const topics = this.#subscriptions.get(ws);
    if (topics === undefined) return;
    for (const topic of [...topics]) this.#unsubscribe(ws, topic);
    this.#subscriptions.delete(ws);
  }

  #originAllowed(origin: string | undefined, req: ServerRequest): boolean {
    const allowed = this.options.allowedOrigins;
    if (allowed === undefined) return true;
    if (typeof allowed === 'function') {
      let verdict: unknown;
      try {
        verdict = allowed(origin, req);
      } catch (error) {
        throw hookFailure('allowedOrigins', 'threw', error);
      }
      if (typeof verdict !== 'boolean') {
        throw hookFailure(
          'allowedOrigins',
          `returned ${describeValue(verdict)}; it must return true or false`,
        );
      }
      return verdict;
    }
    // §10.2: the array form checks browsers, which always send Origin; see the option's TSDoc.
    return origin === undefined || allowed.includes(origin);
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
    const listenerClosed =
      this.#listener === null
        ? Promise.resolve()
        : new Promise<void>((resolve) => this.#listener!.close(() => resolve()));
    this.#detachHttp2?.();
    if (this.#attachedTo !== null && this.#onUpgrade !== null) {
      this.#attachedTo.off('upgrade', this.#onUpgrade);
      attachedServers.get(this.#attachedTo)?.delete(this.#erased);
      this.#attachedTo.off('listening', this.#emitListening);
      this.#attachedTo.off('error', this.#emitError);
    }
    // Sockets still in their handshake: those still sending their head are dropped, those waiting for
    // verifyClient are answered 503 now (not when it decides), refused ones keep their linger.
    for (const [socket, entry] of [...this.#handshaking]) {
      if (entry.responder === null) socket.destroy();
      else if (!entry.refused) {
        this.#reject(
          entry.responder,
          new HandshakeError(ErrorCode.HandshakeFailed, 503, 'the server is shutting down'),
        );
      }
    }
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
      for (const socket of [...this.#handshaking.keys()]) socket.destroy();
    }, options.timeout ?? this.#closeTimeout);
    await allClosed;
    await listenerClosed;
    clearTimeout(timer);
    this.#state = 'closed';
    this.emit('close');
  }

  #listen(options: ServerOptions<W>, callback: (() => void) | undefined): void {
    let listener: NetServer;
    if (options.tls === undefined) {
      listener = createNetServer({ noDelay: true }, (socket: Socket) => this.#onRawSocket(socket));
    } else {
      listener = createTlsServer({ ...options.tls }, (socket: TLSSocket) => this.#onSecureSocket(socket));
      // 'connection' gives the TCP socket at accept, before the TLS handshake (tls.Server's own
      // listener, registered first, has already wrapped it): the handshake deadline starts here.
      listener.on('connection', (socket: Socket) => this.#onTcpSocket(socket));
      listener.on('tlsClientError', (_error, socket) => socket.destroy());
    }
    this.#listener = listener;
    listener.on('listening', this.#emitListening);
    listener.on('error', this.#emitError);
    if (callback) this.once('listening', callback);
    listener.listen(options.port, options.host, options.backlog);
  }

  #attach(server: AttachableServer): void {
    this.#attachedTo = server;
    let siblings = attachedServers.get(server);
    if (siblings === undefined) {
      siblings = new Set();
      attachedServers.set(server, siblings);
    }
    siblings.add(this.#erased);
    const all = siblings;
    this.#onUpgrade = (req, socket, head) => {
      if (!this.shouldHandle(req)) {
        // Several WebSocketServers may share one HTTP server, each for its own path. A request for a
        // path none of them serves is answered 400 by the first of them, unless listeners that are
        // not ours (the application's own 'upgrade' handler) may still take it.
        const someoneElse = [...all].some((other) => other !== this.#erased && other.shouldHandle(req));
        const foreignListeners = server.listenerCount('upgrade') > all.size;
        if (someoneElse || foreignListeners || all.values().next().value !== this.#erased) return;
      }
      // Two servers attached without distinct paths: the first one takes the socket.
      if (upgradeSockets.has(socket)) return;
      this.handleUpgrade(req, socket, head, this.#emitConnection);
    };
    server.on('upgrade', this.#onUpgrade);
    // A node:http2 server (it alone has updateSettings): also take RFC 8441 extended CONNECT streams.
    if ('updateSettings' in server) this.#detachHttp2 = attachHttp2(server, this.#erased);
    server.on('listening', this.#emitListening);
    server.on('error', this.#emitError);
  }

  /**
   * This server as the plain `WebSocketServer` the registries shared between servers (and src/http2)
   * hold: `W` only types what the application sees, the internals are the same for every `W`.
   */
  get #erased(): WebSocketServer {
    return this as unknown as WebSocketServer;
  }

  readonly #emitListening = () => this.emit('listening');
  readonly #emitConnection = (ws: W, request: ServerRequest) => this.emit('connection', ws, request);
  readonly #emitError = (error: Error) => this.emit('error', error);

  /**
   * Standalone wss://: a TCP connection, accepted, before its TLS handshake. The one handshake
   * deadline (`handshakeTimeout`) starts now and covers TLS and the request head (without it, Node's
   * 120 s TLS timeout applied and a peer that never sends a ClientHello held its socket that long).
   * It takes a `maxConnections` slot now: TLS state is the dearest part of a handshake, and over the
   * limit the socket is closed at once (no HTTP answer is possible before TLS).
   */
  #onTcpSocket(socket: Socket): void {
    if (this.#state !== 'running') {
      socket.destroy();
      return;
    }
    if (this.#atConnectionLimit()) {
      this.#dropHandshake(socket, 'too many connections (maxConnections), during TLS');
      return;
    }
    this.#track(socket);
    this.#takeSlot(socket);
    const timeout = this.options.handshakeTimeout ?? DEFAULTS.serverHandshakeTimeout;
    this.#inTls.set(socket, {
      timer: setTimeout(this.#dropHandshake, timeout, socket, 'handshake timeout (TLS)'),
      deadline: Date.now() + timeout,
    });
  }

  /** Standalone wss://: the TLS handshake is done; the same deadline goes on for the request head. */
  #onSecureSocket(socket: TLSSocket): void {
    // tls.Server keeps the TCP socket it wrapped as `_parent` (not in its typings).
    const tcp = (socket as TLSSocket & { _parent?: unknown })._parent;
    const pending = tcp instanceof Socket ? this.#inTls.get(tcp) : undefined;
    if (tcp instanceof Socket && pending !== undefined) {
      clearTimeout(pending.timer);
      this.#inTls.delete(tcp);
      // The TLS socket carries on with the TCP socket's slot and remaining time.
      this.#track(socket);
      if (this.#handshakeSlots.delete(tcp)) this.#handshakeSlots.add(socket);
      this.#untrack(tcp);
      this.#onRawSocket(socket, Math.max(0, pending.deadline - Date.now()));
    } else {
      this.#onRawSocket(socket);
    }
  }

  /** Standalone mode: read the request head with our own parser, bounded in size and time. */
  #onRawSocket(
    socket: Socket,
    timeout: number = this.options.handshakeTimeout ?? DEFAULTS.serverHandshakeTimeout,
  ): void {
    if (this.#state !== 'running') {
      socket.destroy();
      return;
    }
    this.#track(socket);
    const parser = HttpHeadParser.forRequests(this.#headLimits());
    // Every listener added here is removed again, so that nothing of the handshake (the parser and
    // its buffer) stays reachable from a long-lived connection.
    const finish = () => {
      socket.off('data', onData);
      clearTimeout(timer);
    };
    const onData = (chunk: Buffer) => {
      let result: ReturnType<typeof parser.push>;
      try {
        result = parser.push(chunk);
      } catch (error) {
        finish();
        this.#reject(new Http1Responder(socket), error);
        return;
      }
      if (!result.done) return;
      finish();
      // Stop reading until the WebSocket takes over (verifyClient may be async): a flowing socket
      // without a 'data' listener would drop the client's first frames.
      socket.pause();
      const request = toRequestInfo(result.head, socket);
      this.handleUpgrade(request, socket, result.rest, this.#emitConnection);
    };
    socket.on('data', onData);
    socket.on('error', onHandshakeSocketError);
    // A socket that does not complete its request head in time is dropped (slowloris). A plain timer,
    // not socket.setTimeout(): Node keeps that one's Timeout object on the socket for its lifetime.
    const timer = setTimeout(this.#dropHandshake, timeout, socket, 'handshake timeout (request head)');
  }

  #headLimits(): Partial<HttpHeadLimits> {
    const limits: { maxHeadSize?: number; maxHeaderCount?: number } = {};
    if (this.options.maxHeadSize !== undefined) limits.maxHeadSize = this.options.maxHeadSize;
    if (this.options.maxHeaderCount !== undefined) limits.maxHeaderCount = this.options.maxHeaderCount;
    return limits;
  }

  /**
   * {@link WebSocketServer.#verify}, bounded by `handshakeTimeout`: a verifyClient that never decides
   * (a promise that never settles, a callback never called) would hold the socket and its
   * `maxConnections` slot forever; it is a failing hook like any other (500, 'hookError').
   */
  #verifyInTime(
    req: ServerRequest,
    request: UpgradeRequest,
    responder: HandshakeResponder,
  ): Promise<{ readonly user: unknown } | null> {
    if (this.options.verifyClient === undefined) return Promise.resolve(ACCEPTED);
    const limit = this.options.handshakeTimeout ?? DEFAULTS.serverHandshakeTimeout;
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<never>((_resolve, reject) => {
      timer = setTimeout(
        () => reject(hookFailure('verifyClient', `did not decide within handshakeTimeout (${limit} ms)`)),
        limit,
      );
    });
    const verdict = this.#verify(req, request, responder);
    // Whichever comes first; a verdict after the deadline finds the socket answered and is ignored.
    verdict.catch(() => undefined);
    return Promise.race([verdict, deadline]).finally(() => clearTimeout(timer));
  }

  async #verify(
    req: ServerRequest,
    request: UpgradeRequest,
    responder: HandshakeResponder,
  ): Promise<{ readonly user: unknown } | null> {
    const verifyClient = this.options.verifyClient;
    if (verifyClient === undefined) return ACCEPTED;
    const info: VerifyClientInfo = {
      origin: request.origin,
      secure: responder.secure,
      req,
    };
    let result: unknown;
    try {
      if (verifyClient.length >= 2) {
        result = await new Promise<unknown>((resolve) => {
          (
            verifyClient as (
              info: VerifyClientInfo,
              cb: (ok: boolean, code?: number, message?: string, headers?: HeaderFields) => void,
            ) => void
          )(info, (ok, code, message, headers) =>
            // As in `ws`, any truthy `ok` accepts; a refusal's values are checked below.
            resolve(
              ok
                ? true
                : {
                    accept: false,
                    status: code ?? 401,
                    // As in `ws`, an empty message stands for the status's own phrase.
                    ...(message ? { reason: message } : {}),
                    ...(headers ? { headers } : {}),
                  },
            ),
          );
        });
      } else {
        result = await (verifyClient as (info: VerifyClientInfo) => unknown)(info);
      }
    } catch (error) {
      throw hookFailure('verifyClient', 'threw (or its promise rejected)', error);
    }
    if (result === true) return ACCEPTED;
    if (result === false) {
      this.#refuse(responder, 401, 'Unauthorized', undefined);
      return null;
    }
    if (
      typeof result !== 'object' ||
      result === null ||
      typeof (result as { accept?: unknown }).accept !== 'boolean'
    ) {
      throw hookFailure(
        'verifyClient',
        `returned ${describeValue(result)}; it must return (or resolve to) a boolean, { accept: true, user? } ` +
          'or { accept: false, status?, reason?, headers? }',
      );
    }
    if ((result as { accept: boolean }).accept) return { user: (result as { user?: unknown }).user };
    const {
      status = 401,
      reason = STATUS_CODES[status as number] ?? 'Refused',
      headers,
    } = result as {
      status?: unknown;
      reason?: unknown;
      headers?: unknown;
    };
    // RFC 9110 §15: a refusal is a redirection (3xx), client error (4xx) or server error (5xx); a
    // 1xx or 2xx would tell the client something else entirely (a 101 even that it was accepted).
    if (!Number.isInteger(status) || (status as number) < 300 || (status as number) > 599) {
      throw hookFailure(
        'verifyClient',
        `refused with status ${describeValue(status)}; use an integer in 300-599`,
      );
    }
    if (typeof reason !== 'string') {
      throw hookFailure('verifyClient', `refused with reason ${describeValue(reason)}; it must be a string`);
    }
    if (headers !== undefined && (typeof headers !== 'object' || headers === null)) {
      throw hookFailure(
        'verifyClient',
        `refused with headers ${describeValue(headers)}; use { name: value }`,
      );
    }
    try {
      this.#refuse(responder, status as number, reason, headers as HeaderFields | undefined);
    } catch (error) {
      // The response is built before anything is written: a header with CR/LF, say, is refused here.
      throw hookFailure(
        'verifyClient',
        `refused with a response that cannot be sent (${errorText(error)})`,
        error,
      );
    }
    return null;
  }

  #accept(
    req: ServerRequest,
    request: UpgradeRequest,
    responder: HandshakeResponder,
    head: Uint8Array,
    callback: (ws: W, req: ServerRequest) => void,
    user: unknown,
  ): W | null {
    const socket = responder.socket;
    if (socket.destroyed) return null;
    if (!socket.readable || !socket.writable) {
      // The client ended its half (or the socket cannot be written) while it was being verified: no
      // WebSocket can run on it, and none is reported (as in `ws`, which destroys it too).
      this.#dropHandshake(socket, 'the client closed the connection before the upgrade completed');
      return null;
    }
    if (this.#state !== 'running') {
      this.#reject(
        responder,
        new HandshakeError(ErrorCode.HandshakeFailed, 503, 'the server is shutting down'),
      );
      return null;
    }
    let protocol = '';
    if (request.protocols.length > 0) {
      // §4.2.2 item 4: the server selects "one or none of the acceptable protocols".
      const chosen = this.#chooseProtocol(request.protocols, req);
      if (chosen !== false) protocol = chosen;
    }
    // RFC 7692 §5: accept the first acceptable permessage-deflate offer, if we compress at all.
    const deflateOptions = this.#deflateOptions;
    const deflate = deflateOptions === null ? null : acceptDeflateOffer(request.extensions, deflateOptions);
    const selected = protocol === '' ? undefined : protocol;
    if (responder instanceof Http1Responder && this.listenerCount('headers') > 0) {
      // As in `ws`: the application sees (and may add to) the 101's lines before they are written.
      const lines = acceptResponseLines(
        { key: request.key, protocol: selected, extensions: deflate?.response },
        sha1,
      );
      try {
        this.emit('headers', lines, req);
      } catch (error) {
        throw hookFailure("a 'headers' listener", 'threw', error);
      }
      let head: string;
      try {
        head = joinResponseLines(lines);
      } catch (error) {
        throw hookFailure(
          "a 'headers' listener",
          `left a header line that cannot be sent (${errorText(error)})`,
          error,
        );
      }
      socket.off('error', onHandshakeSocketError);
      socket.write(head);
    } else {
      socket.off('error', onHandshakeSocketError);
      responder.accept(request, selected, deflate?.response);
    }
    // From here the WebSocket holds the slot (released on its 'close') and the socket is no longer
    // handshaking: close() closes it as a client.
    this.#handshakeSlots.delete(socket);
    this.#untrack(socket);
    const ws = new this.#socketClass(null);
    ws[acceptingServer] = this.#registry;
    if (user !== undefined) {
      ws.user = user;
      (req as { user?: unknown }).user = user;
    }
    ws.once('close', this.#onClientClose);
    ws[attachSocket](socket, head, {
      role: 'server',
      protocol,
      extensions: deflate?.response ?? '',
      maxPayload: this.#maxPayload,
      closeTimeout: this.#closeTimeout,
      keepAlive: this.options.keepAlive,
      autoPong: this.options.autoPong,
      deflate:
        deflate === null || deflateOptions === null
          ? undefined
          : {
              codec: new PerMessageDeflateCodec({
                parameters: deflate.parameters,
                role: 'server',
                maxPayload: this.#maxPayload,
                limiter: this.#deflateLimiter!,
                zlibDeflateOptions: deflateOptions.zlibDeflateOptions,
                zlibInflateOptions: deflateOptions.zlibInflateOptions,
              }),
              threshold: deflateOptions.threshold ?? DEFAULTS.deflateThreshold,
            },
    });
    if (this.#tracking) {
      this.clients.add(ws);
      (ws as TrackedWebSocket)[kClients] = this.clients;
      ws.once('close', untrack);
    }
    try {
      callback(ws, req);
    } catch (error) {
      // The 101 is out: too late for a 500. §7.4.1: 1011 "an unexpected condition that prevented it
      // from fulfilling the request". Its 'close' gives back the slot.
      if (ws.readyState === ReadyState.OPEN) ws.close(CloseCode.InternalError);
      this.#reportHookFailure(
        hookFailure("a 'connection' listener (or the handleUpgrade callback)", 'threw', error),
        req,
      );
    }
    return ws;
  }

  /**
   * Runs `handleProtocols` (default: the client's first choice).
   * @throws {WebSocketError} (WS_ERR_HOOK_FAILED) when it throws or returns anything but `false`,
   *   `undefined` or one of the offered subprotocols: §4.1 makes the client fail a connection whose server selected
   *   "a subprotocol that was not present in the client's handshake".
   */
  #chooseProtocol(offered: readonly string[], req: ServerRequest): string | false {
    const handleProtocols = this.options.handleProtocols;
    if (handleProtocols === undefined) return offered[0]!;
    let chosen: unknown;
    try {
      chosen = handleProtocols(new Set(offered), req);
    } catch (error) {
      throw hookFailure('handleProtocols', 'threw', error);
    }
    // A hook that returns nothing selects nothing, as `false` does (and as in `ws`).
    if (chosen === false || chosen === undefined) return false;
    if (typeof chosen === 'string' && offered.includes(chosen)) return chosen;
    throw hookFailure(
      'handleProtocols',
      `returned ${describeValue(chosen)}; it must return one of the offered subprotocols ` +
        `(${offered.map((name) => JSON.stringify(name)).join(', ')}) or false`,
    );
  }

  readonly #onClientClose = () => {
    this.#connectionCount--;
  };

  /** Every refusal: gives back the slot, then the error response; the socket goes soon after. */
  #refuse(
    responder: HandshakeResponder,
    status: number,
    reason: string,
    headers: HeaderFields | undefined,
  ): void {
    const socket = responder.socket;
    const entry = this.#handshaking.get(socket);
    if (entry?.refused === true) return; // answered already (a verifyClient deciding after its deadline)
    this.#releaseSlot(socket);
    if (socket.destroyed) return;
    responder.reject(status, reason, headers);
    if (entry !== undefined) entry.refused = true;
    this.#emitRejection(socket, status, reason);
  }

  /** Standalone mode: a socket dropped without an answer (handshake timeout, or full during TLS). */
  readonly #dropHandshake = (socket: Duplex, reason: string): void => {
    if (socket.destroyed) return;
    socket.destroy();
    this.#emitRejection(socket, 0, reason);
  };

  /** Emits 'handshakeRejected' (see {@link HandshakeRejection}); a throwing listener is a warning. */
  #emitRejection(socket: Duplex, status: number, reason: string): void {
    if (this.listenerCount('handshakeRejected') === 0) return;
    const rejection: HandshakeRejection = {
      status,
      reason,
      request: this.#handshaking.get(socket)?.request,
      // An HTTP/2 stream has no address of its own: its session's socket has.
      remoteAddress:
        (socket as Partial<Socket>).remoteAddress ??
        (socket as { session?: { socket?: Partial<Socket> } }).session?.socket?.remoteAddress,
    };
    this.#emitGuarded('handshakeRejected', rejection);
  }

  /**
   * Emits an event about a handshake to the application's listeners; a listener that throws is a
   * process warning, never a crash (any client that triggers the listener's bug could take the server
   * down) and never silent.
   */
  #emitGuarded<K extends 'hookError' | 'handshakeRejected'>(
    event: K,
    ...args: WebSocketServerEvents<W>[K]
  ): void {
    try {
      (this.emit as (event: K, ...args: WebSocketServerEvents<W>[K]) => boolean)(event, ...args);
    } catch (listenerError) {
      process.emitWarning(`a '${event}' listener threw: ${errorText(listenerError)}`, {
        type: 'WebSocketServerWarning',
        code: ErrorCode.HookFailed,
      });
    }
  }

  /**
   * Tracks a socket in its opening handshake until it is accepted or closed; called again with the
   * responder once its request head is in.
   */
  #track(socket: Duplex, responder: HandshakeResponder | null = null): void {
    const entry = this.#handshaking.get(socket);
    if (entry !== undefined) {
      entry.responder ??= responder;
      return;
    }
    const onClose = () => {
      this.#handshaking.delete(socket);
      this.#releaseSlot(socket);
      const inTls = this.#inTls.get(socket as Socket);
      if (inTls !== undefined) {
        clearTimeout(inTls.timer);
        this.#inTls.delete(socket as Socket);
      }
    };
    socket.once('close', onClose);
    this.#handshaking.set(socket, { onClose, responder, request: undefined, refused: false });
  }

  /** Stops tracking an accepted socket; nothing of the handshake stays attached to it. */
  #untrack(socket: Duplex): void {
    const entry = this.#handshaking.get(socket);
    if (entry === undefined) return;
    socket.off('close', entry.onClose);
    this.#handshaking.delete(socket);
  }

  /** Whether `maxConnections` slots are all taken (open sockets and handshakes holding one). */
  #atConnectionLimit(): boolean {
    const maxConnections = this.options.maxConnections;
    return maxConnections !== undefined && this.#connectionCount >= maxConnections;
  }

  #takeSlot(socket: Duplex): void {
    this.#handshakeSlots.add(socket);
    this.#connectionCount++;
  }

  /** Gives back the `maxConnections` slot of a handshake that ended without a WebSocket (idempotent). */
  #releaseSlot(socket: Duplex): void {
    if (this.#handshakeSlots.delete(socket)) this.#connectionCount--;
  }

  /** Answers a failed handshake with its HTTP status and one-line reason, then closes the socket. */
  #reject(responder: HandshakeResponder, error: unknown, req?: ServerRequest, headers?: HeaderFields): void {
    if (error instanceof HandshakeError) {
      this.#refuse(responder, error.status, error.message, { ...rejectionHeaders(error), ...headers });
      return;
    }
    // Never leak internals: a failing hook (or anything unexpected) is a plain 500, and the error
    // goes to 'hookError' for the application to log.
    this.#refuse(responder, 500, 'Internal Server Error', undefined);
    const failure =
      error instanceof WebSocketError && error.code === ErrorCode.HookFailed
        ? error
        : new WebSocketError(
            ErrorCode.HandshakeFailed,
            `the opening handshake failed unexpectedly, answered 500 (${errorText(error)})`,
            { cause: error },
          );
    this.#reportHookFailure(failure, req);
  }

  /**
   * Emits 'hookError'. Never throws: without a listener, one process warning per server says where to
   * listen; a listener that throws is reported as a warning too (a crash would let any client that
   * triggers the hook's bug take the server down).
   */
  #reportHookFailure(error: WebSocketError, req: ServerRequest | undefined): void {
    if (this.listenerCount('hookError') === 0) {
      if (!this.#warnedHookFailure) {
        this.#warnedHookFailure = true;
        process.emitWarning(
          `${error.message} (listen to the WebSocketServer's 'hookError' event to log every such failure)`,
          { type: 'WebSocketServerWarning', code: error.code },
        );
      }
      return;
    }
    this.#emitGuarded('hookError', error, req);
  }
}

const ACCEPTED: { readonly user: unknown } = Object.freeze({ user: undefined });

/** A socket in its opening handshake (see `#handshaking`). */
interface Handshaking {
  readonly onClose: () => void;
  /** Set once the request head is in. */
  responder: HandshakeResponder | null;
  /** The request, once its head is in (for 'handshakeRejected'). */
  request: ServerRequest | undefined;
  /** An error response was sent; the socket lingers (`DEFAULTS.refusalLingerMs`) for the peer to read it. */
  refused: boolean;
}
const EMPTY_SET: ReadonlySet<WebSocket> = new Set();

/** The registry a server-side WebSocket delegates `subscribe()` & co. to, plus the close hook. */
interface ServerTopicRegistry extends TopicRegistry {
  dropAll(ws: WebSocket): void;
}

/** Drops a closed client's subscriptions (a shared function: no closure per client). */
function dropSubscriptions(this: WebSocket): void {
  (this[acceptingServer] as ServerTopicRegistry | undefined)?.dropAll(this);
}

/** Sockets given to `handleUpgrade()` (of any server), to refuse a second call with one of them. */
const upgradeSockets = new WeakSet<Duplex>();

const kClients = Symbol('sockwire.clients');
type TrackedWebSocket = WebSocket & { [kClients]?: Set<WebSocket> };

/** Removes a closed client from its server's `clients` (a shared function: no closure per client). */
function untrack(this: TrackedWebSocket): void {
  this[kClients]?.delete(this);
}

/** The error for a hook of the application that threw (`cause`) or returned something invalid. */
function hookFailure(hook: string, problem: string, cause?: unknown): WebSocketError {
  const detail = problem === 'threw' || problem.startsWith('threw ') ? `: ${errorText(cause)}` : '';
  return new WebSocketError(
    ErrorCode.HookFailed,
    `${hook} ${problem}${detail}; the client was answered 500 Internal Server Error (or closed with 1011 ` +
      'once open)',
    cause === undefined ? undefined : { cause },
  );
}

/** A short description of a value for an error message. */
function describeValue(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}…` : value);
  if (value === null || typeof value !== 'object')
    return typeof value === 'function' ? 'a function' : String(value);
  if (typeof (value as { then?: unknown }).then === 'function') return 'a Promise';
  return Array.isArray(value) ? 'an array' : 'an object';
}

function errorText(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

function destroySocketLater(socket: Duplex): void {
  socket.destroy();
}

function onHandshakeSocketError(this: Duplex): void {
  this.destroy();
}

function toRequestHead(req: ServerRequest): RequestHead {
  return {
    method: req.method ?? '',
    target: req.url ?? '',
    httpVersion: req.httpVersion,
    headers: new HeaderMap(req.rawHeaders),
    rawHeaders: req.rawHeaders,
  };
}

/**
 * Standalone mode: the request our parser read, as the `http.IncomingMessage` node:http (and so
 * `ws`) would give, so that code written for either (`req instanceof IncomingMessage`, `req.headers`,
 * `req.socket.remoteAddress`, `req.headersDistinct`…) works unchanged. It has no body to read: the
 * bytes after the head are WebSocket frames (`complete` is true).
 */
function toRequestInfo(head: RequestHead, socket: Socket): IncomingMessage {
  const request = new IncomingMessage(socket);
  request.method = head.method;
  request.url = head.target;
  request.httpVersion = head.httpVersion;
  const dot = head.httpVersion.indexOf('.');
  request.httpVersionMajor = Number(head.httpVersion.slice(0, dot));
  request.httpVersionMinor = Number(head.httpVersion.slice(dot + 1));
  const raw = [...head.rawHeaders];
  const addHeaderLines = (request as { _addHeaderLines?: (raw: string[], count: number) => void })
    ._addHeaderLines;
  if (typeof addHeaderLines === 'function') {
    // node:http's own way of filling `headers` and `rawHeaders` (duplicates joined as it joins them).
    addHeaderLines.call(request, raw, raw.length);
  } else {
    // Runtimes without it (Bun, Deno): repeated fields joined with ", ", as HeaderMap does.
    request.rawHeaders = raw;
    const headers: Record<string, string> = {};
    for (const [name, value] of head.headers.entries()) headers[name] = value;
    request.headers = headers;
  }
  request.complete = true;
  // End the (empty) body now: reading it must never resume the socket, whose bytes are the client's
  // first frames and wait for the WebSocket.
  request.push(null);
  // As node:http sets it: Connection: upgrade and an Upgrade field (RFC 9110 §7.8).
  (request as IncomingMessage & { upgrade: boolean }).upgrade =
    head.headers.get('upgrade') !== undefined && containsToken(head.headers.get('connection'), 'upgrade');
  return request;
}
