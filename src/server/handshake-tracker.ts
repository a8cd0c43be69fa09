/**
 * The sockets (and HTTP/2 streams) of one server that are in their opening handshake, and the
 * `maxConnections` count: open WebSockets plus handshakes holding a slot. `close()` ends each
 * handshake according to its phase; a handshake that ends without a WebSocket gives its slot back,
 * an accepted one hands it over to its WebSocket, which gives it back on 'close'.
 *
 * Nothing stays attached to a socket once its handshake is over: the one 'close' listener added by
 * {@link HandshakeTracker.track} is removed when the socket is accepted.
 */
import { Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import type { ServerRequest } from './types.ts';

/** A socket in its opening handshake; `R` is how it is answered (negotiate.ts's HandshakeResponder). */
export interface Handshaking<R> {
  readonly onClose: () => void;
  /** Set once the request head is in. */
  responder: R | null;
  /** The request, once its head is in (for 'handshakeRejected'). */
  request: ServerRequest | undefined;
  /** An error response was sent; the socket lingers (`DEFAULTS.refusalLingerMs`) for the peer to read it. */
  refused: boolean;
}

/** See the file's header. */
export class HandshakeTracker<R> {
  /** The server's options, read when needed (as the server always did). */
  readonly #options: { readonly maxConnections?: number };
  /**
   * Sockets in their opening handshake: reading the head (no responder yet), being verified, or
   * refused and lingering.
   */
  readonly #handshaking = new Map<Duplex, Handshaking<R>>();
  /** Standalone wss://: TCP sockets in their TLS handshake, with the timer of their handshake deadline. */
  readonly #inTls = new WeakMap<Socket, { readonly timer: NodeJS.Timeout; readonly deadline: number }>();
  /** Handshaking sockets that hold one of the `maxConnections` slots. */
  readonly #slots = new Set<Duplex>();
  /** Handshakes holding a slot plus open WebSockets (`maxConnections`). */
  #count = 0;

  constructor(options: { readonly maxConnections?: number }) {
    this.#options = options;
  }

  /** The handshake of `socket`, if it is in one. */
  get(socket: Duplex): Handshaking<R> | undefined {
    return this.#handshaking.get(socket);
  }

  /** Every socket in its handshake, with its state (a copy: ending them changes the map). */
  entries(): [Duplex, Handshaking<R>][] {
    return [...this.#handshaking];
  }

  /**
   * Tracks a socket in its opening handshake until it is accepted or closed; called again with the
   * responder once its request head is in.
   * @returns the socket's handshake state.
   */
  track(socket: Duplex, responder: R | null = null): Handshaking<R> {
    const entry = this.#handshaking.get(socket);
    if (entry !== undefined) {
      entry.responder ??= responder;
      return entry;
    }
    const onClose = () => {
      this.#handshaking.delete(socket);
      this.releaseSlot(socket);
      const inTls = this.#inTls.get(socket as Socket);
      if (inTls !== undefined) {
        clearTimeout(inTls.timer);
        this.#inTls.delete(socket as Socket);
      }
    };
    socket.once('close', onClose);
    const created: Handshaking<R> = { onClose, responder, request: undefined, refused: false };
    this.#handshaking.set(socket, created);
    return created;
  }

  /** Stops tracking a socket; nothing of the handshake stays attached to it. */
  untrack(socket: Duplex): void {
    const entry = this.#handshaking.get(socket);
    if (entry === undefined) return;
    socket.off('close', entry.onClose);
    this.#handshaking.delete(socket);
  }

  /** Whether `maxConnections` slots are all taken (open sockets and handshakes holding one). */
  atLimit(): boolean {
    const maxConnections = this.#options.maxConnections;
    return maxConnections !== undefined && this.#count >= maxConnections;
  }

  /** Whether `socket`'s handshake holds a slot already (a standalone wss:// socket takes it at accept). */
  holdsSlot(socket: Duplex): boolean {
    return this.#slots.has(socket);
  }

  /** Takes a `maxConnections` slot for `socket`'s handshake. */
  takeSlot(socket: Duplex): void {
    this.#slots.add(socket);
    this.#count++;
  }

  /** Gives back the slot of a handshake that ended without a WebSocket (idempotent). */
  releaseSlot(socket: Duplex): void {
    if (this.#slots.delete(socket)) this.#count--;
  }

  /**
   * The handshake of `socket` succeeded: its slot now belongs to its WebSocket (given back by
   * {@link HandshakeTracker.closed}) and the socket is no longer tracked.
   */
  accepted(socket: Duplex): void {
    this.#slots.delete(socket);
    this.untrack(socket);
  }

  /** An accepted WebSocket closed: its slot is free (called by the server's close hook, negotiate.ts). */
  closed(): void {
    this.#count--;
  }

  /**
   * Standalone wss://: a TCP socket starts its TLS handshake with `timeout` ms left; `onTimeout` runs
   * when they are up. Its slot and deadline carry over to the TLS socket ({@link HandshakeTracker.secured}).
   */
  startTls(socket: Socket, timeout: number, onTimeout: (socket: Duplex, reason: string) => void): void {
    this.track(socket);
    this.takeSlot(socket);
    this.#inTls.set(socket, {
      timer: setTimeout(onTimeout, timeout, socket, 'handshake timeout (TLS)'),
      deadline: Date.now() + timeout,
    });
  }

  /**
   * Standalone wss://: the TLS handshake over `tcp` is done. The TLS socket carries on with the TCP
   * socket's slot and remaining time.
   * @returns the ms left of the handshake deadline, or undefined for a TCP socket not tracked here.
   */
  secured(tcp: unknown, tls: Duplex): number | undefined {
    const pending = tcp instanceof Socket ? this.#inTls.get(tcp) : undefined;
    if (!(tcp instanceof Socket) || pending === undefined) return undefined;
    clearTimeout(pending.timer);
    this.#inTls.delete(tcp);
    this.track(tls);
    if (this.#slots.delete(tcp)) this.#slots.add(tls);
    this.untrack(tcp);
    return Math.max(0, pending.deadline - Date.now());
  }
}
