/**
 * The contract between a WebSocketServer and a message broker (the `adapter` option), so that
 * `publish()`, `broadcast()` and `sendToUser()` reach clients connected to other processes and hosts.
 * The core holds no broker code: an adapter (such as `@sockwire/redis-adapter`) implements this
 * interface and brings its own dependencies.
 *
 *   server.publish(t, data) ─▶ local fan-out (encoded once) ─▶ adapter.publish({ kind, target, data })
 *                                                                      │ broker
 *   other process: adapter ─▶ host.deliver(message) ─▶ its local fan-out only (never re-published)
 *
 *   first local subscriber of a topic (or first socket of a user) ─▶ adapter.subscribe(kind, target)
 *   last one leaves                                               ─▶ adapter.unsubscribe(kind, target)
 *
 * Named `adapter` as in Socket.IO (`io.adapter(createAdapter(…))`), the name users of cross-process
 * fan-out already know.
 */

/** What a fan-out message is addressed to: every client, a topic's subscribers, or a user's sockets. */
export type FanOutKind = 'broadcast' | 'topic' | 'user';

/** One message crossing processes through an adapter. */
export interface FanOutMessage {
  readonly kind: FanOutKind;
  /** The topic or the user id; `''` for a broadcast. */
  readonly target: string;
  /** The message's payload (its bytes are shared with the local fan-out: do not modify them). */
  readonly data: Uint8Array;
  /** Whether it goes as a binary message (text otherwise, whose bytes are UTF-8). */
  readonly binary: boolean;
}

/** The side of the server an adapter calls: local delivery only, never forwarded to the adapter again. */
export interface AdapterHost {
  /**
   * Delivers a message that came from the broker to this process's clients (encoded once, with the
   * server's slow-reader policy). Returns how many local clients it was queued for and skipped.
   */
  deliver(message: FanOutMessage): { readonly sent: number; readonly skipped: number };
}

/**
 * A broker adapter: what the `adapter` option of `WebSocketServer` takes. The server calls it; none of
 * its methods may throw or block (a broker outage is the adapter's to handle: drop, count, report).
 *
 * Guarantees an adapter should state: which messages its own process gets back (the server has
 * already delivered locally, so an adapter must not deliver a message to the process that published
 * it), its size limit, and its delivery guarantee (Redis pub/sub: at most once, in order per
 * publisher per target).
 */
export interface ServerAdapter {
  /** Called once, by the server's constructor, with the server's delivery side. */
  start(host: AdapterHost): void;
  /** Sends a message to the other processes (the local fan-out is already done). */
  publish(message: FanOutMessage): void;
  /**
   * Listen for `kind` messages to `target` ('topic' or 'user'): called when the first local socket
   * subscribes to the topic, or is registered for the user. Broadcasts are always listened for.
   */
  subscribe(kind: 'topic' | 'user', target: string): void;
  /** Stop listening: the last local socket of the topic or user is gone. */
  unsubscribe(kind: 'topic' | 'user', target: string): void;
  /** Called by `server.close()` once every client is closed: release the broker's resources. */
  close(): void | Promise<void>;
}

/** Called by a registry when a topic or user gains its first local socket (true) or loses its last. */
export type MembershipListener = (target: string, present: boolean) => void;
