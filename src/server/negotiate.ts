/**
 * The transport-independent part of a server's opening handshake (§4.2.2), shared by HTTP/1.1
 * (http1-listener.ts) and HTTP/2 (RFC 8441, src/http2/server.ts): once a transport has validated the
 * request, {@link Negotiator.negotiate} decides on it and answers through the transport's
 * {@link HandshakeResponder}:
 *
 *   validated request ─▶ path ─▶ shutting down? ─▶ allowedOrigins (§10.2) ─▶ maxConnections
 *     ─▶ verifyClient (bounded by handshakeTimeout) ─▶ subprotocol (§4.2.2 item 4)
 *     ─▶ permessage-deflate (RFC 7692 §5) ─▶ responder.accept (101, or :status 200)
 *     ─▶ WebSocket ─▶ 'connection'
 *   any refusal ─▶ responder.reject (status, fixed reason) ─▶ 'handshakeRejected'
 *   a failing hook ─▶ 500 ─▶ 'hookError'
 *
 * This file is also the contract a transport sees of the server ({@link NegotiatingServer}), so that
 * src/http2 depends on it rather than on the WebSocketServer class.
 */
import type { Duplex } from 'node:stream';
import { DEFAULTS } from '../defaults.ts';
import { ErrorCode, HandshakeError } from '../errors.ts';
import { createNegotiatedDeflate } from '../extensions/permessage-deflate/factory.ts';
import {
  acceptDeflateOffer,
  ConcurrencyLimiter,
  type PerMessageDeflateOptions,
  resolveDeflateOptions,
} from '../extensions/permessage-deflate/index.ts';
import { CloseCode } from '../frame/close-code.ts';
import type { HeaderFields } from '../handshake/header-lines.ts';
import type { UpgradeRequest } from '../handshake/server.ts';
import { ReadyState } from '../ready-state.ts';
import { acceptingServer, attachSocket } from '../websocket/internal.ts';
import type { AcceptingServer, WebSocket } from '../websocket/websocket.ts';
import type { Topics } from './broadcast.ts';
import { HandshakeTracker } from './handshake-tracker.ts';
import { ACCEPTED, chooseProtocol, errorText, hookFailure, originAllowed, runVerifyClient } from './hooks.ts';
import { Refusals, type ServerEventSink } from './refusal.ts';
import type { ServerOptions, ServerRequest } from './types.ts';
import type { Users } from './users.ts';

/**
 * Runs the transport-independent part of a server handshake (path, origin, maxConnections,
 * verifyClient, subprotocol, permessage-deflate, accept) for a request that HTTP/1.1 or HTTP/2 validated.
 */
export const negotiateHandshake: unique symbol = Symbol('sockwire.negotiateHandshake');
/**
 * Refuses a handshake that the transport refused before {@link negotiateHandshake} (an invalid RFC
 * 8441 request, an HTTP/2 connection over its stream limit), through the server's one refusal path:
 * the same answer, linger and 'handshakeRejected' event as every other refusal.
 */
export const refuseHandshake: unique symbol = Symbol('sockwire.refuseHandshake');

/**
 * How one handshake is answered: over HTTP/1.1 (101 or an error response written to the socket) or
 * over HTTP/2 (RFC 8441 §5: `:status` 200 or an error status on the stream). Internal.
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
   * HTTP/1.1 only (the 'headers' event, as in `ws`): the 101's lines, status line first, without CRLFs.
   */
  responseLines?(
    request: UpgradeRequest,
    protocol: string | undefined,
    extensions: string | undefined,
  ): string[];
  /**
   * HTTP/1.1 only: sends the lines of {@link HandshakeResponder.responseLines} as 'headers' listeners left them.
   * @throws {TypeError} for a line that is not `Name: value` or a changed status line (nothing is sent).
   */
  sendLines?(lines: readonly string[]): void;
  /**
   * Sends an error response and ends the exchange; whatever the peer does (never reads, never closes),
   * the socket or stream is destroyed `DEFAULTS.refusalLingerMs` later if still open.
   */
  reject(status: number, reason: string, headers: HeaderFields | undefined): void;
}

/** What a transport (src/http2) needs of the server it hands handshakes to: a WebSocketServer. */
export interface NegotiatingServer {
  readonly options: { readonly maxStreamsPerSession?: number };
  /** Whether a request is for this server (its `path` option). */
  shouldHandle(req: { readonly url?: string | undefined }): boolean;
  /** See {@link Negotiator.negotiate}. */
  [negotiateHandshake](
    req: ServerRequest,
    request: UpgradeRequest,
    responder: HandshakeResponder,
    head: Uint8Array,
    callback: (ws: WebSocket, req: ServerRequest) => void,
  ): void;
  /** See {@link Negotiator.refuse}. */
  [refuseHandshake](
    responder: HandshakeResponder,
    error: HandshakeError,
    req: ServerRequest | undefined,
    headers: HeaderFields | undefined,
  ): void;
  emit(event: 'connection', ws: WebSocket, req: ServerRequest): boolean;
}

/** What the negotiator needs of its WebSocketServer: options, clients, `path`, and its events. */
export interface NegotiatorHost<W extends WebSocket> extends ServerEventSink<W> {
  readonly options: Readonly<ServerOptions<W>>;
  /** The open clients, when `clientTracking` is on. */
  readonly clients: Set<W> | undefined;
  shouldHandle(req: { readonly url?: string | undefined }): boolean;
}

/** One server's handshakes: see the file's header. */
export class Negotiator<W extends WebSocket> {
  /** Whether new handshakes are taken; false once `close()` began. */
  accepting = true;
  /** Sockets in their handshake and the `maxConnections` count. */
  readonly tracker: HandshakeTracker<HandshakeResponder>;
  /** Every way a handshake ends without a WebSocket. */
  readonly refusals: Refusals<W>;
  readonly #host: NegotiatorHost<W>;
  readonly #socketClass: new (
    url: null,
  ) => W;
  /** What every WebSocket this server accepts holds of it: its topics, and its close hooks. */
  readonly acceptingServer: AcceptingServer;
  readonly #maxPayload: number;
  readonly #closeTimeout: number;
  readonly #deflateOptions: PerMessageDeflateOptions | null;
  readonly #deflateLimiter: ConcurrencyLimiter | null;

  constructor(
    host: NegotiatorHost<W>,
    socketClass: new (url: null) => W,
    fanOut: { readonly topics: Topics; readonly users: Users },
  ) {
    const options = host.options;
    this.#host = host;
    this.#socketClass = socketClass;
    this.tracker = new HandshakeTracker(options);
    const { topics, users } = fanOut;
    const tracker = this.tracker;
    this.acceptingServer = {
      subscribe: (ws, topic) => topics.subscribe(ws, topic),
      unsubscribe: (ws, topic) => topics.unsubscribe(ws, topic),
      isSubscribed: (ws, topic) => topics.isSubscribed(ws, topic),
      socketClosing: (ws) => {
        tracker.closed(); // its maxConnections slot
        host.clients?.delete(ws as W);
      },
      socketClosed: (ws) => {
        topics.dropAll(ws);
        users.remove(ws);
      },
    };
    this.refusals = new Refusals(host, this.tracker);
    this.#maxPayload = options.maxPayload ?? DEFAULTS.maxPayload;
    this.#closeTimeout = options.closeTimeout ?? DEFAULTS.closeTimeout;
    this.#deflateOptions = resolveDeflateOptions(options.perMessageDeflate, false);
    this.#deflateLimiter =
      this.#deflateOptions === null
        ? null
        : new ConcurrencyLimiter(this.#deflateOptions.concurrencyLimit ?? DEFAULTS.deflateConcurrencyLimit);
  }

  /**
   * Everything after the transport-specific validation (see the file's header).
   * @throws Never: failures are answered through `responder`.
   */
  negotiate(
    req: ServerRequest,
    request: UpgradeRequest,
    responder: HandshakeResponder,
    head: Uint8Array,
    callback: (ws: W, req: ServerRequest) => void,
  ): void {
    const socket = responder.socket;
    const options = this.#host.options;
    this.tracker.track(socket, responder).request = req;
    try {
      if (!this.#host.shouldHandle(req)) {
        // A fixed text: the path is the peer's, and an error body (which a browser may render)
        // reflects nothing of the request.
        throw new HandshakeError(
          ErrorCode.NoEndpoint,
          400,
          'Bad Request: no WebSocket endpoint at this path',
        );
      }
      if (!this.accepting) {
        throw new HandshakeError(ErrorCode.ShuttingDown, 503, 'the server is shutting down');
      }
      if (!originAllowed(options.allowedOrigins, request.origin, req)) {
        // RFC 6455 §4.2.2: "If the server does not wish to accept this connection, it MUST return an
        // appropriate HTTP error code (e.g., 403 Forbidden) and abort the WebSocket handshake" (§10.2).
        throw new HandshakeError(ErrorCode.OriginRefused, 403, 'Forbidden: origin not allowed');
      }
    } catch (error) {
      this.refusals.reject(responder, error, req);
      return;
    }
    if (!this.tracker.holdsSlot(socket)) {
      if (this.tracker.atLimit()) {
        this.refusals.reject(
          responder,
          new HandshakeError(ErrorCode.TooManyConnections, 503, 'Service Unavailable: too many connections'),
          req,
          { 'Retry-After': String(Math.ceil(options.retryAfter ?? DEFAULTS.retryAfterSeconds)) },
        );
        return;
      }
      this.tracker.takeSlot(socket);
    }
    const verifyClient = options.verifyClient;
    const decided =
      verifyClient === undefined
        ? Promise.resolve(ACCEPTED)
        : runVerifyClient(
            verifyClient,
            { origin: request.origin, secure: responder.secure, req },
            options.handshakeTimeout ?? DEFAULTS.serverHandshakeTimeout,
          );
    decided.then(
      (verdict) => {
        let ws: W | null = null;
        try {
          if (verdict.accept) ws = this.#accept(req, request, responder, head, callback, verdict.user);
          else this.#refuseVerdict(responder, verdict.status, verdict.reason, verdict.headers);
        } catch (error) {
          // Only failures before the 101 get here (#accept catches its callback's): answer 500.
          this.refusals.reject(responder, error, req);
        }
        if (ws === null) this.tracker.releaseSlot(socket);
      },
      (error: unknown) => this.refusals.reject(responder, error, req),
    );
  }

  /**
   * Refuses a handshake that the transport refused before {@link Negotiator.negotiate} (see
   * {@link refuseHandshake}).
   */
  refuse(
    responder: HandshakeResponder,
    error: HandshakeError,
    req: ServerRequest | undefined,
    headers: HeaderFields | undefined,
  ): void {
    this.tracker.track(responder.socket, responder).request = req;
    this.refusals.reject(responder, error, req, headers);
  }

  /**
   * `close()`: handshakes still reading their head are dropped, those being verified are answered
   * 503 now (not when verifyClient decides), refused ones keep their linger.
   */
  shutDown(): void {
    this.accepting = false;
    for (const [socket, entry] of this.tracker.entries()) {
      if (entry.responder === null) socket.destroy();
      else if (!entry.refused) {
        this.refusals.reject(
          entry.responder,
          new HandshakeError(ErrorCode.ShuttingDown, 503, 'the server is shutting down'),
        );
      }
    }
  }

  /** `close()`'s timeout: refused sockets still lingering go too. */
  destroyAll(): void {
    for (const [socket] of this.tracker.entries()) socket.destroy();
  }

  /** verifyClient refused: its response is built before anything is written, and may be invalid. */
  #refuseVerdict(
    responder: HandshakeResponder,
    status: number,
    reason: string,
    headers: HeaderFields | undefined,
  ) {
    try {
      this.refusals.refuse(responder, status, reason, headers);
    } catch (error) {
      // A header with CR/LF, say, is refused here.
      throw hookFailure(
        'verifyClient',
        `refused with a response that cannot be sent (${errorText(error)})`,
        error,
      );
    }
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
    const host = this.#host;
    if (socket.destroyed) return null;
    if (!socket.readable || !socket.writable) {
      // The client ended its half (or the socket cannot be written) while it was being verified: no
      // WebSocket can run on it, and none is reported (as in `ws`, which destroys it too).
      this.refusals.drop(socket, 'the client closed the connection before the upgrade completed');
      return null;
    }
    if (!this.accepting) {
      this.refusals.reject(
        responder,
        new HandshakeError(ErrorCode.ShuttingDown, 503, 'the server is shutting down'),
      );
      return null;
    }
    let protocol = '';
    if (request.protocols.length > 0) {
      // §4.2.2 item 4: the server selects "one or none of the acceptable protocols".
      const chosen = chooseProtocol(host.options.handleProtocols, request.protocols, req);
      if (chosen !== false) protocol = chosen;
    }
    // RFC 7692 §5: accept the first acceptable permessage-deflate offer, if we compress at all.
    const deflateOptions = this.#deflateOptions;
    const deflate = deflateOptions === null ? null : acceptDeflateOffer(request.extensions, deflateOptions);
    const selected = protocol === '' ? undefined : protocol;
    if (responder.responseLines !== undefined && host.listenerCount('headers') > 0) {
      // As in `ws`: the application sees (and may add to) the 101's lines before they are written.
      const lines = responder.responseLines(request, selected, deflate?.response);
      try {
        host.emit('headers', lines, req);
      } catch (error) {
        throw hookFailure("a 'headers' listener", 'threw', error);
      }
      try {
        responder.sendLines!(lines);
      } catch (error) {
        throw hookFailure(
          "a 'headers' listener",
          `left a header line that cannot be sent (${errorText(error)})`,
          error,
        );
      }
    } else {
      responder.accept(request, selected, deflate?.response);
    }
    // From here the WebSocket holds the slot (released on its 'close') and the socket is no longer
    // handshaking: close() closes it as a client.
    this.tracker.accepted(socket);
    const ws = new this.#socketClass(null);
    // Its close hooks free the slot, and leave `clients`, topics and users (no listener per socket).
    ws[acceptingServer] = this.acceptingServer;
    if (user !== undefined) {
      ws.user = user;
      (req as { user?: unknown }).user = user;
    }
    ws[attachSocket](socket, head, {
      role: 'server',
      protocol,
      extensions: deflate?.response ?? '',
      maxPayload: this.#maxPayload,
      closeTimeout: this.#closeTimeout,
      keepAlive: host.options.keepAlive,
      autoPong: host.options.autoPong,
      deflate:
        deflate === null || deflateOptions === null
          ? undefined
          : createNegotiatedDeflate(
              deflate.parameters,
              deflateOptions,
              'server',
              this.#maxPayload,
              this.#deflateLimiter!,
            ),
    });
    const clients = host.clients;
    if (clients !== undefined) {
      clients.add(ws);
    }
    try {
      callback(ws, req);
    } catch (error) {
      // The 101 is out: too late for a 500. §7.4.1: 1011 "an unexpected condition that prevented it
      // from fulfilling the request". Its 'close' gives back the slot.
      if (ws.readyState === ReadyState.OPEN) ws.close(CloseCode.InternalError);
      this.refusals.reportHookFailure(
        hookFailure("a 'connection' listener (or the handleUpgrade callback)", 'threw', error),
        req,
      );
    }
    return ws;
  }
}
