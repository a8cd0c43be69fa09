/**
 * Keep-alive for idle connections, modelled on .NET's `KeepAliveInterval` + `KeepAliveTimeout`:
 *
 *   interval only        an unsolicited Pong every `interval` ms (RFC 6455 §5.5.3: "A Pong frame MAY
 *                        be sent unsolicited. This serves as a unidirectional heartbeat."); cheap, keeps
 *                        NAT and proxy idle timers from dropping the connection;
 *   interval + timeout   a Ping carrying a counter every `interval` ms (§5.5.2: the peer MUST answer
 *                        with a Pong); when nothing at all has been received `timeout` ms after a Ping
 *                        (any frame counts as a sign of life, not only the matching Pong), the peer is
 *                        taken for dead and the connection is aborted ('close' 1006).
 *
 * One shared sweep per (interval, timeout) pair serves every connection in the process, instead of
 * a timer per connection: 10,000 idle connections cost one timer and one pass over a Set each tick.
 * The sweep runs every quarter of the shorter period (kept between `DEFAULTS.keepAliveSweepMinMs` and
 * `keepAliveSweepMaxMs`), so a dead peer is detected at most a quarter of that late (within
 * interval + timeout + period/4 of going silent).
 */
import { DEFAULTS } from '../defaults.ts';

/** `keepAlive` option of WebSocket and WebSocketServer. */
export interface KeepAliveOptions {
  /** Milliseconds between heartbeats; 0 turns keep-alive off. */
  readonly interval: number;
  /** Milliseconds to wait for a sign of life after a Ping; omitted or 0: send Pongs, never time out. */
  readonly timeout?: number;
}

/** The method the scheduler calls on each member (a symbol: not part of the public API). */
export const keepAliveTick: unique symbol = Symbol('sockwire.keepAliveTick');

/** A connection the sweep visits: its driver (src/websocket/driver.ts). */
export interface KeepAliveMember {
  [keepAliveTick](now: number): void;
}

const schedulers = new Map<string, KeepAliveScheduler>();
const SWEEP_MIN_MS = DEFAULTS.keepAliveSweepMinMs;
const SWEEP_MAX_MS = DEFAULTS.keepAliveSweepMaxMs;

/** One shared sweep per (interval, timeout) pair; see the module comment. */
export class KeepAliveScheduler {
  readonly interval: number;
  readonly timeout: number;
  readonly #period: number;
  readonly #key: string;
  readonly #members = new Set<KeepAliveMember>();
  #timer: NodeJS.Timeout | null = null;

  private constructor(interval: number, timeout: number, key: string) {
    this.interval = interval;
    this.timeout = timeout;
    this.#key = key;
    const shortest = timeout > 0 ? Math.min(interval, timeout) : interval;
    this.#period = Math.min(SWEEP_MAX_MS, Math.max(SWEEP_MIN_MS, Math.floor(shortest / 4)));
  }

  /**
   * The scheduler shared by every connection with these settings.
   * @throws {RangeError} for a negative or non-finite interval or timeout.
   */
  static for(options: KeepAliveOptions): KeepAliveScheduler {
    const interval = options.interval;
    const timeout = options.timeout ?? 0;
    if (!(Number.isFinite(interval) && interval > 0) || !(Number.isFinite(timeout) && timeout >= 0)) {
      throw new RangeError(
        `keepAlive needs interval > 0 and timeout >= 0 (ms), got ${interval} and ${timeout}`,
      );
    }
    const key = `${interval}:${timeout}`;
    let scheduler = schedulers.get(key);
    if (scheduler === undefined) {
      scheduler = new KeepAliveScheduler(interval, timeout, key);
      schedulers.set(key, scheduler);
    }
    return scheduler;
  }

  /** Number of connections served (for tests and diagnostics). */
  get size(): number {
    return this.#members.size;
  }

  add(member: KeepAliveMember): void {
    this.#members.add(member);
    if (this.#timer === null) {
      this.#timer = setInterval(() => this.#sweep(), this.#period);
      // Keep-alive alone must not keep the process running.
      this.#timer.unref();
    }
  }

  delete(member: KeepAliveMember): void {
    this.#members.delete(member);
    if (this.#members.size === 0 && this.#timer !== null) {
      clearInterval(this.#timer);
      this.#timer = null;
      schedulers.delete(this.#key);
    }
  }

  #sweep(): void {
    const now = performance.now();
    for (const member of this.#members) member[keepAliveTick](now);
  }
}
