/**
 * WebSocketServer over HTTP/1.1: the opening handshake of §4 on a socket, from three sources:
 *
 *   standalone: net/tls listener ─▶ [TLS, within handshakeTimeout] ─▶ HttpHeadParser (maxHeadSize,
 *     maxHeaderCount, handshakeTimeout: the slowloris guard) ─▶ IncomingMessage ─┐
 *   attached: http(s).Server 'upgrade' (req, socket, head), routed by `path` ──────┼─▶ handleUpgrade
 *   noServer: the application calls handleUpgrade(req, socket, head, cb) ─────────┘
 *   handleUpgrade ─▶ validateUpgradeRequest (§4.2.1) ─▶ Negotiator (negotiate.ts) ─▶ Http1Responder:
 *     101 (§4.2.2) or an error response (400, 405, 426 of §4.2.1, 431 of RFC 6585 §5…)
 */
import type { Buffer } from 'node:buffer';
import { IncomingMessage } from 'node:http';
import { createServer as createNetServer, type Server as NetServer, type Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import { createServer as createTlsServer, type TLSSocket } from 'node:tls';
import { sha1 } from '../crypto.ts';
import { DEFAULTS } from '../defaults.ts';
import { ErrorCode, HandshakeError, InvalidStateError, WebSocketError } from '../errors.ts';
import type { HeaderFields } from '../handshake/header-lines.ts';
import { containsToken } from '../handshake/headers.ts';
import { HeaderMap, type HttpHeadLimits, HttpHeadParser, type RequestHead } from '../handshake/http.ts';
import { type UpgradeRequest, validateUpgradeRequest } from '../handshake/server.ts';
import {
  acceptResponseLines,
  buildAcceptResponse,
  buildRejectResponse,
  joinResponseLines,
} from '../handshake/server-response.ts';
import type { WebSocket } from '../websocket/websocket.ts';
import { errorText } from './hooks.ts';
import type { HandshakeResponder, Negotiator, NegotiatorHost } from './negotiate.ts';
import type { AttachableServer, ServerOptions, ServerRequest } from './types.ts';

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
    // The WebSocket listens for errors from here on.
    this.socket.off('error', onHandshakeSocketError);
    this.socket.write(buildAcceptResponse({ key: request.key, protocol, extensions }, sha1));
  }
  responseLines(
    request: UpgradeRequest,
    protocol: string | undefined,
    extensions: string | undefined,
  ): string[] {
    return acceptResponseLines({ key: request.key, protocol, extensions }, sha1);
  }
  sendLines(lines: readonly string[]): void {
    const head = joinResponseLines(lines);
    this.socket.off('error', onHandshakeSocketError);
    this.socket.write(head);
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

/** What the HTTP/1.1 side needs of its WebSocketServer (beyond what the negotiator needs). */
export interface Http1Host<W extends WebSocket> extends NegotiatorHost<W> {
  handleUpgrade(
    req: ServerRequest,
    socket: Duplex,
    head: Uint8Array,
    callback: (ws: W, req: ServerRequest) => void,
  ): void;
}

/** The WebSocketServers attached to each HTTP server, to route upgrade requests by path. */
const attachedServers = new WeakMap<AttachableServer, Set<Http1Host<WebSocket>>>();

/** Sockets given to `handleUpgrade()` (of any server), to refuse a second call with one of them. */
const upgradeSockets = new WeakSet<Duplex>();

/** One server's HTTP/1.1 side: see the file's header. */
export class Http1Listener<W extends WebSocket> {
  readonly #host: Http1Host<W>;
  readonly #negotiator: Negotiator<W>;
  /** Emits 'connection': the callback of the handshakes the server takes itself. */
  readonly #onConnection: (ws: W, req: ServerRequest) => void;

  constructor(
    host: Http1Host<W>,
    negotiator: Negotiator<W>,
    onConnection: (ws: W, req: ServerRequest) => void,
  ) {
    this.#host = host;
    this.#negotiator = negotiator;
    this.#onConnection = onConnection;
  }

  /**
   * `handleUpgrade()`: validates the request (§4.2.1) and negotiates it.
   * @throws {InvalidStateError} (code WS_ERR_INVALID_STATE) when called again with a socket already
   * given to `handleUpgrade()` (of any server).
   */
  upgrade(
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
    this.#negotiator.tracker.track(socket, responder);
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
    this.#negotiator.negotiate(req, request, responder, head, callback);
  }

  /**
   * A malformed upgrade request ({@link validateUpgradeRequest} threw): answered by the server, or,
   * as in `ws`, handed to the application's 'wsClientError' listeners, which answer it themselves.
   */
  #clientError(responder: HandshakeResponder, error: unknown, req: ServerRequest): void {
    if (!(error instanceof HandshakeError) || this.#host.listenerCount('wsClientError') === 0) {
      this.#negotiator.refusals.reject(responder, error, req);
      return;
    }
    const socket = responder.socket;
    const entry = this.#negotiator.tracker.get(socket);
    if (entry !== undefined) {
      entry.request = req;
      entry.refused = true; // close() leaves it to the application until its timeout
    }
    this.#negotiator.tracker.releaseSlot(socket);
    // The status is the one the server would have answered; the listener answers instead.
    this.#negotiator.refusals.emitRejection(socket, error.status, error.message);
    // The socket is the application's now, but not forever: one that is never ended goes at the
    // handshake deadline (RFC 9110 §9.6 lets a server close a connection it will not serve).
    const deadline = setTimeout(
      destroySocketLater,
      this.#host.options.handshakeTimeout ?? DEFAULTS.serverHandshakeTimeout,
      socket,
    );
    deadline.unref();
    // A socket the application closes in time does not stay referenced by the timer.
    socket.once('close', () => clearTimeout(deadline));
    try {
      this.#host.emit('wsClientError', error, socket, req);
    } catch (listenerError) {
      socket.destroy();
      this.#negotiator.refusals.reportHookFailure(
        new WebSocketError(
          ErrorCode.HookFailed,
          `a 'wsClientError' listener threw: ${errorText(listenerError)}; the socket was destroyed`,
          { cause: listenerError },
        ),
        req,
      );
    }
  }

  /**
   * Standalone mode: a `net` server (or, with `tls`, a `tls` server) whose sockets are read here and
   * go through the host's `handleUpgrade`. The caller listens and forwards 'listening' and 'error'.
   */
  listen(options: ServerOptions<W>): NetServer {
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
    return listener;
  }

  /**
   * Attached mode: takes the 'upgrade' requests of an `http`/`https` (or `http2` with `allowHTTP1`)
   * server that are for this host's `path`. Several WebSocketServers may share one HTTP server.
   * @returns A function that detaches again.
   */
  attach(server: AttachableServer): () => void {
    const host = this.#host as unknown as Http1Host<WebSocket>;
    let siblings = attachedServers.get(server);
    if (siblings === undefined) {
      siblings = new Set();
      attachedServers.set(server, siblings);
    }
    siblings.add(host);
    const all = siblings;
    const onUpgrade = (req: IncomingMessage, socket: Duplex, head: Buffer) => {
      if (!host.shouldHandle(req)) {
        // Several WebSocketServers may share one HTTP server, each for its own path. A request for a
        // path none of them serves is answered 400 by the first of them, unless listeners that are
        // not ours (the application's own 'upgrade' handler) may still take it.
        const someoneElse = [...all].some((other) => other !== host && other.shouldHandle(req));
        const foreignListeners = server.listenerCount('upgrade') > all.size;
        if (someoneElse || foreignListeners || all.values().next().value !== host) return;
      }
      // Two servers attached without distinct paths: the first one takes the socket.
      if (upgradeSockets.has(socket)) return;
      this.#host.handleUpgrade(req, socket, head, this.#onConnection);
    };
    server.on('upgrade', onUpgrade);
    return () => {
      server.off('upgrade', onUpgrade);
      attachedServers.get(server)?.delete(host);
    };
  }

  /**
   * Standalone wss://: a TCP connection, accepted, before its TLS handshake. The one handshake
   * deadline (`handshakeTimeout`) starts now and covers TLS and the request head (without it, Node's
   * 120 s TLS timeout applied and a peer that never sends a ClientHello held its socket that long).
   * It takes a `maxConnections` slot now: TLS state is the dearest part of a handshake, and over the
   * limit the socket is closed at once (no HTTP answer is possible before TLS).
   */
  #onTcpSocket(socket: Socket): void {
    const negotiator = this.#negotiator;
    if (!negotiator.accepting) {
      socket.destroy();
      return;
    }
    if (negotiator.tracker.atLimit()) {
      negotiator.refusals.drop(socket, 'too many connections (maxConnections), during TLS');
      return;
    }
    const timeout = this.#host.options.handshakeTimeout ?? DEFAULTS.serverHandshakeTimeout;
    negotiator.tracker.startTls(socket, timeout, negotiator.refusals.drop);
  }

  /** Standalone wss://: the TLS handshake is done; the same deadline goes on for the request head. */
  #onSecureSocket(socket: TLSSocket): void {
    // tls.Server keeps the TCP socket it wrapped as `_parent` (not in its typings).
    const tcp = (socket as TLSSocket & { _parent?: unknown })._parent;
    const remaining = this.#negotiator.tracker.secured(tcp, socket);
    if (remaining !== undefined) this.#onRawSocket(socket, remaining);
    else this.#onRawSocket(socket);
  }

  /** Standalone mode: read the request head with our own parser, bounded in size and time. */
  #onRawSocket(
    socket: Socket,
    timeout: number = this.#host.options.handshakeTimeout ?? DEFAULTS.serverHandshakeTimeout,
  ): void {
    const negotiator = this.#negotiator;
    if (!negotiator.accepting) {
      socket.destroy();
      return;
    }
    negotiator.tracker.track(socket);
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
        negotiator.refusals.reject(new Http1Responder(socket), error);
        return;
      }
      if (!result.done) return;
      finish();
      // Stop reading until the WebSocket takes over (verifyClient may be async): a flowing socket
      // without a 'data' listener would drop the client's first frames.
      socket.pause();
      const request = toRequestInfo(result.head, socket);
      // handleUpgrade() adds its own; two would leave one on the socket for the connection's life.
      socket.off('error', onHandshakeSocketError);
      this.#host.handleUpgrade(request, socket, result.rest, this.#onConnection);
    };
    socket.on('data', onData);
    socket.on('error', onHandshakeSocketError);
    // A socket that does not complete its request head in time is dropped (slowloris). A plain timer,
    // not socket.setTimeout(): Node keeps that one's Timeout object on the socket for its lifetime.
    const timer = setTimeout(negotiator.refusals.drop, timeout, socket, 'handshake timeout (request head)');
  }

  /** `maxHeadSize` and `maxHeaderCount` as given (the parser has the defaults, RFC 6585 §5: 431 over them). */
  #headLimits(): Partial<HttpHeadLimits> {
    const { maxHeadSize, maxHeaderCount } = this.#host.options;
    const limits: { maxHeadSize?: number; maxHeaderCount?: number } = {};
    if (maxHeadSize !== undefined) limits.maxHeadSize = maxHeadSize;
    if (maxHeaderCount !== undefined) limits.maxHeaderCount = maxHeaderCount;
    return limits;
  }
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
