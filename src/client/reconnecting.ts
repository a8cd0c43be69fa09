/**
 * ReconnectingWebSocket: a client that reconnects by itself, with exponential backoff and full
 * jitter, and holds messages sent while disconnected in a bounded queue.
 *
 *   new ──▶ connect ──open──▶ OPEN ──close (shouldReconnect)──▶ wait random(0, min(maxDelay,
 *             ▲                                                   minDelay·factor^attempt)) ─┐
 *             └──────────────────────────────────────────────────────────────────────────────┘
 *   close(), shouldReconnect false, or maxRetries failed attempts in a row ──▶ CLOSED ('close', once)
 *
 * A connection that opens and drops before `stableAfter` ms (a flap: a server that accepts and then
 * closes with 1011, 1013 or a reset) counts as a failed attempt: resetting the backoff on every open
 * would have a crowd of clients reconnect about twice a second forever against a failing server, and
 * `maxRetries` would never fire. Only a connection that stayed up `stableAfter` ms resets the count.
 *
 * §7.2.3 asks for this: "clients SHOULD use some form of backoff when trying to reconnect after
 * abnormal closures"; "The first reconnect attempt SHOULD be delayed by a random amount of time" and
 * later ones "SHOULD be delayed by increasingly longer amounts of time, using a method such as
 * truncated binary exponential backoff". Full jitter does both (the first delay is random below
 * `minDelay`, the cap grows by `factor` and stops at `maxDelay`), and it spreads a crowd of clients
 * that lost the same server over the whole window, so their reconnects do not arrive in waves.
 * Nothing grows across reconnects: one underlying WebSocket and at most one timer at a time (the
 * retry timer while waiting, the stability timer while open), and a send queue bounded by
 * `maxQueuedMessages`. The retry timer keeps Node's event loop alive, as the connection it replaces
 * did (`keepProcessAlive: false` to opt out); the stability timer never does.
 */
import { Buffer } from 'node:buffer';
import { EventEmitter } from 'node:events';
import { DEFAULTS } from '../defaults.ts';
import { ErrorCode, HandshakeError, InvalidStateError } from '../errors.ts';
import { CloseCode } from '../frame/close-code.ts';
import { validateReconnectOptions } from '../options-validation.ts';
import { ReadyState } from '../ready-state.ts';
import type { SendData } from '../websocket/send-data.ts';
import type { SendOptions } from '../websocket/types.ts';
import { WebSocket } from '../websocket/websocket.ts';
import type { ClientOptions } from './options.ts';

/** Why a connection ended, as `shouldReconnect` sees it. */
export interface ReconnectCloseEvent {
  /** The close code: the peer's (§7.1.5), or 1006 when no Close frame was received. */
  readonly code: number;
  readonly reason: string;
  /** The error reported before the close, if any: a HandshakeError when the connection never opened. */
  readonly error: Error | undefined;
  /**
   * How many attempts in a row have failed so far, a connection that dropped within `stableAfter` ms
   * included (0 after a connection that stayed open `stableAfter` ms).
   */
  readonly attempt: number;
}

/** A timer source; injectable so that tests can drive the backoff without waiting. */
export interface ReconnectTimers {
  setTimeout(callback: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

export interface ReconnectOptions extends ClientOptions<WebSocket> {
  /** Cap of the first retry delay, in ms. Default 1000. */
  readonly minDelay?: number;
  /** Largest delay between attempts, in ms: the exponential cap stops here. Default 30 000. */
  readonly maxDelay?: number;
  /** Growth of the cap per failed attempt. Default 2. */
  readonly factor?: number;
  /**
   * Failed attempts in a row before giving up ('close' is emitted); a connection that drops within
   * `stableAfter` ms counts as failed. Default Infinity.
   */
  readonly maxRetries?: number;
  /**
   * How long, in ms, a connection must stay open to reset the backoff (and the count toward
   * `maxRetries`). One that drops sooner is a failed attempt, so a server that accepts and then fails
   * at once sees growing delays instead of a reconnect storm. 0: every open resets the count (the
   * behaviour before this option). Default 5000.
   */
  readonly stableAfter?: number;
  /**
   * Whether a pending reconnect keeps the Node.js process alive. Default true: a process whose only
   * work is this client (a feed consumer) waits and reconnects instead of exiting at the first
   * disconnect. false: the retry timer is unref'd, so the process may exit while waiting.
   */
  readonly keepProcessAlive?: boolean;
  /** Messages held while disconnected; one more throws WS_ERR_QUEUE_FULL. Default 1000. */
  readonly maxQueuedMessages?: number;
  /**
   * Decides whether to reconnect after a connection ended. Default {@link defaultShouldReconnect}:
   * not after 1000 (Normal Closure) or 1008 (Policy Violation), nor after a handshake refused with a
   * 4xx status (authentication, origin, not found: retrying would not help); otherwise yes.
   */
  readonly shouldReconnect?: (event: ReconnectCloseEvent) => boolean;
  /** Uniform random source in [0, 1) for the jitter. Default `Math.random`. */
  readonly random?: () => number;
  /**
   * Timer source. Default the global `setTimeout`/`clearTimeout`. A handle with an `unref()` method is
   * unref'd where it must not keep the process alive (see `keepProcessAlive`).
   */
  readonly timers?: ReconnectTimers;
}

/** The events of a ReconnectingWebSocket. */
export interface ReconnectingWebSocketEvents {
  /** Each time a connection opens (the first and every reconnection), after the queue is flushed. */
  open: [];
  message: [data: Buffer, isBinary: boolean];
  /** A reconnect is scheduled: `attempt` counts from 1, `delay` in ms. */
  reconnecting: [attempt: number, delay: number];
  /** Once: after `close()`, or when it gives up (shouldReconnect false, maxRetries reached). */
  close: [code: number, reason: Buffer];
  /** Errors of the underlying connections (emitted only when there is a listener). */
  error: [error: Error];
}

const realTimers: ReconnectTimers = {
  setTimeout: (callback, ms) => setTimeout(callback, ms),
  clearTimeout: (handle) => clearTimeout(handle as NodeJS.Timeout),
};

/** Lets the process exit while `handle` is pending, when it is a Node.js timer (an injected one may not be). */
function unref(handle: unknown): void {
  const timer = handle as { unref?: unknown } | null;
  if (typeof timer === 'object' && timer !== null && typeof timer.unref === 'function') timer.unref();
}

/**
 * The default reconnect policy: not after close code 1000 or 1008, nor after an opening handshake
 * answered with a 4xx status; reconnect after anything else (1001 going away, 1006, 1011, 1012,
 * 1013, 5xx, network errors).
 * @throws Never.
 */
export function defaultShouldReconnect(event: ReconnectCloseEvent): boolean {
  if (event.code === CloseCode.Normal || event.code === CloseCode.PolicyViolation) return false;
  const error = event.error;
  if (error instanceof HandshakeError && error.status >= 400 && error.status < 500) return false;
  return true;
}

/**
 * The backoff delay for a given attempt (0-based) with full jitter:
 * `random() * min(maxDelay, minDelay * factor ** attempt)`, rounded down to whole ms: random from the
 * first attempt on, growing exponentially up to a cap (§7.2.3: "truncated binary exponential backoff"
 * with `factor` 2).
 * @throws Never.
 */
export function backoffDelay(
  attempt: number,
  options: { readonly minDelay: number; readonly maxDelay: number; readonly factor: number },
  random: () => number,
): number {
  const cap = Math.min(options.maxDelay, options.minDelay * options.factor ** attempt);
  return Math.floor(random() * cap);
}

type PendingMessage = { readonly data: SendData; readonly options: SendOptions | undefined };

export class ReconnectingWebSocket extends EventEmitter<ReconnectingWebSocketEvents> {
  readonly url: string;
  readonly #protocols: string | readonly string[] | undefined;
  readonly #clientOptions: ClientOptions<WebSocket>;
  readonly #minDelay: number;
  readonly #maxDelay: number;
  readonly #factor: number;
  readonly #maxRetries: number;
  readonly #maxQueued: number;
  readonly #shouldReconnect: (event: ReconnectCloseEvent) => boolean;
  readonly #random: () => number;
  readonly #timers: ReconnectTimers;
  readonly #stableAfter: number;
  readonly #keepProcessAlive: boolean;
  #ws: WebSocket | null = null;
  /** The pending reconnect. */
  #timer: unknown = null;
  /** While a connection is open and not yet stable: fires after `stableAfter` ms. */
  #stableTimer: unknown = null;
  /** Failed attempts in a row (reset when a connection has stayed open `stableAfter` ms). */
  #attempt = 0;
  #queue: PendingMessage[] = [];
  #lastError: Error | undefined = undefined;
  #stopped = false;
  #closeEmitted = false;

  /**
   * Connects at once; reconnects per the options until `close()` or it gives up.
   * @param url - `ws://`, `wss://` or `ws+unix://` URL.
   * @param protocols - subprotocols to offer, as for {@link WebSocket}.
   * @throws {InvalidArgumentError} (code WS_ERR_INVALID_ARGUMENT) for an invalid URL, subprotocol list
   *   or option (negative delays, `maxDelay < minDelay`, `factor < 1`, negative counts).
   */
  constructor(
    url: string | URL,
    protocols?: string | readonly string[] | ReconnectOptions,
    options?: ReconnectOptions,
  ) {
    super();
    if (protocols !== undefined && typeof protocols === 'object' && !Array.isArray(protocols)) {
      options = protocols as ReconnectOptions;
      protocols = undefined;
    }
    validateReconnectOptions(options, DEFAULTS.reconnect); // throws InvalidOptionError naming the option
    const {
      minDelay = DEFAULTS.reconnect.minDelay,
      maxDelay = DEFAULTS.reconnect.maxDelay,
      factor = DEFAULTS.reconnect.factor,
      maxRetries = DEFAULTS.reconnect.maxRetries,
      maxQueuedMessages = DEFAULTS.reconnect.maxQueuedMessages,
      stableAfter = DEFAULTS.reconnect.stableAfter,
      keepProcessAlive = DEFAULTS.reconnect.keepProcessAlive,
      shouldReconnect = defaultShouldReconnect,
      random = Math.random,
      timers = realTimers,
      ...clientOptions
    } = options ?? {};
    this.url = String(url);
    this.#protocols = protocols as string | readonly string[] | undefined;
    this.#clientOptions = clientOptions;
    this.#minDelay = minDelay;
    this.#maxDelay = maxDelay;
    this.#factor = factor;
    this.#maxRetries = maxRetries;
    this.#maxQueued = maxQueuedMessages;
    this.#shouldReconnect = shouldReconnect;
    this.#random = random;
    this.#timers = timers;
    this.#stableAfter = stableAfter;
    this.#keepProcessAlive = keepProcessAlive;
    this.#connect(); // an invalid URL or subprotocol list throws from here, synchronously
  }

  /** OPEN while connected; CONNECTING while connecting or waiting to reconnect; CLOSED once stopped. */
  get readyState(): ReadyState {
    if (this.#closeEmitted || this.#stopped) {
      return this.#ws !== null && this.#ws.readyState !== ReadyState.CLOSED
        ? ReadyState.CLOSING
        : ReadyState.CLOSED;
    }
    return this.#ws?.readyState === ReadyState.OPEN ? ReadyState.OPEN : ReadyState.CONNECTING;
  }
  /** Messages waiting for the next connection. */
  get queuedMessages(): number {
    return this.#queue.length;
  }
  /** Failed reconnect attempts in a row so far (connections that dropped within `stableAfter` included). */
  get attempt(): number {
    return this.#attempt;
  }
  /** The current underlying connection (replaced on every reconnect), or null between attempts. */
  get socket(): WebSocket | null {
    return this.#ws;
  }
  /** The subprotocol of the current connection, or ''. */
  get protocol(): string {
    return this.#ws?.protocol ?? '';
  }
  /** Bytes not yet written on the current connection (queued messages not counted). */
  get bufferedAmount(): number {
    return this.#ws?.bufferedAmount ?? 0;
  }

  /**
   * Sends now when connected; otherwise queues the message for the next connection (flushed in order,
   * before 'open' is emitted).
   * @returns what the underlying `send()` returns when connected (false: wait for backpressure),
   *   true when queued.
   * @throws {InvalidStateError} (code WS_ERR_QUEUE_FULL) when `maxQueuedMessages` are already queued;
   *   (code WS_ERR_INVALID_STATE) after `close()` or giving up.
   */
  send(data: SendData, options?: SendOptions): boolean {
    if (this.#stopped) throw new InvalidStateError('ReconnectingWebSocket is closed');
    const ws = this.#ws;
    if (ws !== null && ws.readyState === ReadyState.OPEN) return ws.send(data, options);
    if (this.#queue.length >= this.#maxQueued) {
      throw new InvalidStateError(
        `send queue full: ${this.#maxQueued} messages wait for a connection (maxQueuedMessages)`,
        ErrorCode.QueueFull,
      );
    }
    this.#queue.push({ data, options });
    return true;
  }

  /**
   * Stops for good: cancels a pending reconnect (no timer is left) and closes the current connection.
   * 'close' is emitted once, when the current connection has closed (at once when there is none).
   * Queued messages are dropped.
   * @throws {InvalidArgumentError} (code WS_ERR_INVALID_ARGUMENT) for an invalid code or reason, as
   *   `WebSocket.close()`.
   */
  close(code?: number, reason?: string): void {
    if (this.#stopped) return;
    const ws = this.#ws;
    if (ws !== null && ws.readyState === ReadyState.OPEN) ws.close(code, reason); // may throw: not stopped yet
    this.#stopped = true;
    this.#cancelTimer();
    this.#queue = [];
    if (ws === null || ws.readyState === ReadyState.CLOSED) {
      this.#emitClose(code ?? CloseCode.Normal, reason ?? '');
    } else if (ws.readyState === ReadyState.CONNECTING) {
      ws.close(); // aborts the attempt: its 'close' ends this one
    }
  }

  #connect(): void {
    this.#timer = null;
    this.#lastError = undefined;
    const ws = new WebSocket(this.url, this.#protocols ?? [], this.#clientOptions);
    this.#ws = ws;
    ws.on('open', () => this.#onOpen(ws));
    ws.on('message', (data, isBinary) => this.emit('message', data, isBinary));
    ws.on('error', (error) => {
      this.#lastError = error;
      if (this.listenerCount('error') > 0) this.emit('error', error);
    });
    ws.once('close', (code, reason) => this.#onClose(ws, code, reason));
  }

  #onOpen(ws: WebSocket): void {
    if (this.#stableAfter === 0) {
      this.#attempt = 0;
    } else {
      // Not yet: a connection that drops before stableAfter ms is a failed attempt (see the top).
      this.#stableTimer = this.#timers.setTimeout(() => {
        this.#stableTimer = null;
        this.#attempt = 0;
      }, this.#stableAfter);
      unref(this.#stableTimer); // the open connection keeps the process alive, not this mark
    }
    const queue = this.#queue;
    this.#queue = [];
    for (const { data, options } of queue) ws.send(data, options);
    this.emit('open');
  }

  #onClose(ws: WebSocket, code: number, reason: Buffer): void {
    ws.removeAllListeners(); // nothing of an old connection stays reachable from here
    if (this.#ws === ws) this.#ws = null;
    this.#cancelStableTimer(); // still pending: the connection dropped before it was stable
    if (this.#stopped) {
      this.#emitClose(code, reason.toString());
      return;
    }
    const event: ReconnectCloseEvent = {
      code,
      reason: reason.toString(),
      error: this.#lastError,
      attempt: this.#attempt,
    };
    if (this.#attempt >= this.#maxRetries || !this.#shouldReconnect(event)) {
      this.#stopped = true;
      this.#queue = [];
      this.#emitClose(code, event.reason);
      return;
    }
    const delay = backoffDelay(
      this.#attempt,
      { minDelay: this.#minDelay, maxDelay: this.#maxDelay, factor: this.#factor },
      this.#random,
    );
    this.#attempt++;
    this.#timer = this.#timers.setTimeout(() => this.#connect(), delay);
    // Ref'd by default: while waiting, this timer is all the work a feed consumer has left.
    if (!this.#keepProcessAlive) unref(this.#timer);
    this.emit('reconnecting', this.#attempt, delay);
  }

  #cancelTimer(): void {
    this.#cancelStableTimer();
    if (this.#timer === null) return;
    this.#timers.clearTimeout(this.#timer);
    this.#timer = null;
  }

  #cancelStableTimer(): void {
    if (this.#stableTimer === null) return;
    this.#timers.clearTimeout(this.#stableTimer);
    this.#stableTimer = null;
  }

  #emitClose(code: number, reason: string): void {
    if (this.#closeEmitted) return;
    this.#closeEmitted = true;
    this.emit('close', code, Buffer.from(reason));
  }
}
