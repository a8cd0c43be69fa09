/**
 * How a handshake that does not become a WebSocket ends: answered (§4.2.2: "If the server does not
 * wish to accept this connection, it MUST return an appropriate HTTP error code"), then closed (§7.2.2:
 * the server aborts a handshake by closing the connection). The slot is given back, the
 * transport answers the status with a fixed reason (nothing of the request is reflected) and the socket
 * lingers `DEFAULTS.refusalLingerMs` for the peer to read it; the server emits 'handshakeRejected'.
 * An unexpected error is a plain 500 and goes to 'hookError' (or one process warning); a listener of
 * either event that throws is a process warning, never a crash.
 */
import type { Duplex } from 'node:stream';
import { ErrorCode, HandshakeError, WebSocketError } from '../errors.ts';
import type { HeaderFields } from '../handshake/header-lines.ts';
import { rejectionHeaders } from '../handshake/server.ts';
import type { WebSocket } from '../websocket/websocket.ts';
import type { HandshakeTracker } from './handshake-tracker.ts';
import { errorText } from './hooks.ts';
import type { HandshakeRejection, ServerRequest, WebSocketServerEvents } from './types.ts';

/** What a refusal needs of a transport's responder (negotiate.ts's HandshakeResponder). */
export interface Refusable {
  readonly socket: Duplex;
  /** Sends an error response; the socket or stream goes `DEFAULTS.refusalLingerMs` later. */
  reject(status: number, reason: string, headers: HeaderFields | undefined): void;
}

/** The events of the server, as refusals emit them. */
export interface ServerEventSink<W extends WebSocket> {
  emit<K extends keyof WebSocketServerEvents<W>>(event: K, ...args: WebSocketServerEvents<W>[K]): boolean;
  listenerCount(event: keyof WebSocketServerEvents<W>): number;
}

/** One server's refusals: see the file's header. */
export class Refusals<W extends WebSocket> {
  readonly #host: ServerEventSink<W>;
  readonly #tracker: HandshakeTracker<Refusable>;
  /** Whether the process warning for a 'hookError' without listeners was emitted. */
  #warnedHookFailure = false;

  constructor(host: ServerEventSink<W>, tracker: HandshakeTracker<Refusable>) {
    this.#host = host;
    this.#tracker = tracker;
  }

  /** Answers a failed handshake with its HTTP status and one-line reason, then closes the socket. */
  reject(responder: Refusable, error: unknown, req?: ServerRequest, headers?: HeaderFields): void {
    if (error instanceof HandshakeError) {
      this.refuse(responder, error.status, error.message, { ...rejectionHeaders(error), ...headers });
      return;
    }
    // Never leak internals: a failing hook (or anything unexpected) is a plain 500, and the error
    // goes to 'hookError' for the application to log.
    this.refuse(responder, 500, 'Internal Server Error', undefined);
    const failure =
      error instanceof WebSocketError && error.code === ErrorCode.HookFailed
        ? error
        : new WebSocketError(
            ErrorCode.HandshakeFailed,
            `the opening handshake failed unexpectedly, answered 500 (${errorText(error)})`,
            { cause: error },
          );
    this.reportHookFailure(failure, req);
  }

  /** Standalone mode: a socket dropped without an answer (handshake timeout, or full during TLS). */
  readonly drop = (socket: Duplex, reason: string): void => {
    if (socket.destroyed) return;
    socket.destroy();
    this.emitRejection(socket, 0, reason);
  };

  /** Emits 'handshakeRejected' (see {@link HandshakeRejection}); a throwing listener is a warning. */
  emitRejection(socket: Duplex, status: number, reason: string): void {
    if (this.#host.listenerCount('handshakeRejected') === 0) return;
    const rejection: HandshakeRejection = {
      status,
      reason,
      request: this.#tracker.get(socket)?.request,
      // An HTTP/2 stream has no address of its own: its session's socket has.
      remoteAddress:
        (socket as { remoteAddress?: string }).remoteAddress ??
        (socket as { session?: { socket?: { remoteAddress?: string } } }).session?.socket?.remoteAddress,
    };
    this.#emitGuarded('handshakeRejected', rejection);
  }

  /**
   * Emits 'hookError'. Never throws: without a listener, one process warning per server says where to
   * listen; a listener that throws is reported as a warning too (a crash would let any client that
   * triggers the hook's bug take the server down).
   */
  reportHookFailure(error: WebSocketError, req: ServerRequest | undefined): void {
    if (this.#host.listenerCount('hookError') === 0) {
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

  /** Every refusal: gives back the slot, then the error response; the socket goes soon after. */
  refuse(responder: Refusable, status: number, reason: string, headers: HeaderFields | undefined): void {
    const socket = responder.socket;
    const entry = this.#tracker.get(socket);
    if (entry?.refused === true) return; // answered already (a verifyClient deciding after its deadline)
    this.#tracker.releaseSlot(socket);
    if (socket.destroyed) return;
    responder.reject(status, reason, headers);
    if (entry !== undefined) entry.refused = true;
    this.emitRejection(socket, status, reason);
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
      this.#host.emit(event, ...args);
    } catch (listenerError) {
      process.emitWarning(`a '${event}' listener threw: ${errorText(listenerError)}`, {
        type: 'WebSocketServerWarning',
        code: ErrorCode.HookFailed,
      });
    }
  }
}
