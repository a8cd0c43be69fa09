/**
 * One server's fan-out: its topics (`ws.subscribe()`), its users (`setUser()`), and its adapter, if
 * any. `send()` delivers to this process's clients (encoded once, with the slow-reader policy) and
 * hands the same bytes to the adapter for the other processes; `deliver()` is what the adapter calls
 * with theirs, for this process's clients only. Without an adapter, `send()` is the local fan-out
 * and nothing more (src/server/adapter.ts draws the path with one).
 */
import { ErrorCode, WebSocketError } from '../errors.ts';
import type { SendData } from '../websocket/send-data.ts';
import { toBytes } from '../websocket/send-data.ts';
import type { WebSocket } from '../websocket/websocket.ts';
import type { FanOutKind, FanOutMessage, ServerAdapter } from './adapter.ts';
import {
  type BroadcastOptions,
  type BroadcastPolicy,
  type BroadcastResult,
  isBinaryMessage,
  sendBytes,
  Topics,
} from './broadcast.ts';
import { errorText } from './hooks.ts';
import { Users } from './users.ts';

const NOBODY: BroadcastResult = Object.freeze({ sent: 0, skipped: 0 });

/** Where `publish()`, `broadcast()` and `sendToUser()` of one server go (see the file's header). */
export class FanOut {
  readonly topics: Topics;
  readonly users: Users;
  readonly #adapter: ServerAdapter | undefined;
  readonly #policy: BroadcastPolicy;
  /** The server's open clients (`undefined` without `clientTracking`), for broadcasts from the adapter. */
  readonly #clients: () => Iterable<WebSocket> | undefined;
  /** Reports an adapter that threw (the server's 'hookError'). */
  readonly #reportFailure: (error: WebSocketError) => void;

  /**
   * Starts the adapter, if any: from now on it may call `deliver()`.
   * @param reportFailure - told when a call to the adapter throws (it must not; the server goes on).
   */
  constructor(
    adapter: ServerAdapter | undefined,
    policy: BroadcastPolicy,
    clients: () => Iterable<WebSocket> | undefined,
    reportFailure: (error: WebSocketError) => void,
  ) {
    this.#adapter = adapter;
    this.#policy = policy;
    this.#clients = clients;
    this.#reportFailure = reportFailure;
    // With an adapter, the broker listens to a topic or user while this process has sockets for it.
    this.topics = new Topics(adapter && ((topic, present) => this.#membership('topic', topic, present)));
    this.users = new Users(adapter && ((userId, present) => this.#membership('user', userId, present)));
    adapter?.start({ deliver: (message) => this.deliver(message) });
  }

  /**
   * Local delivery to `clients`, then (with an adapter, unless `local`) the same bytes to the others.
   * @throws {InvalidArgumentError} (code WS_ERR_INVALID_ARGUMENT) for data of an unsupported type.
   */
  send(
    kind: FanOutKind,
    target: string,
    clients: Iterable<WebSocket> | undefined,
    data: SendData,
    options: BroadcastOptions,
  ): BroadcastResult {
    const bytes = toBytes(data); // the argument check, even with nobody to send to
    const binary = isBinaryMessage(data, options);
    const result = clients === undefined ? NOBODY : sendBytes(clients, bytes, binary, options, this.#policy);
    const adapter = this.#adapter;
    if (adapter !== undefined && options.local !== true) {
      try {
        adapter.publish({ kind, target, data: bytes, binary });
      } catch (error) {
        this.#failed('publish', error);
      }
    }
    return result;
  }

  /** A message from the adapter (another process published it): this server's clients only. */
  deliver(message: FanOutMessage): BroadcastResult {
    const clients =
      message.kind === 'topic'
        ? this.topics.subscribers(message.target)
        : message.kind === 'user'
          ? this.users.sockets(message.target)
          : this.#clients();
    if (clients === undefined) return NOBODY;
    return sendBytes(clients, message.data, message.binary, {}, this.#policy);
  }

  /**
   * Closes the adapter (the server has closed). An adapter failing to close its broker connections
   * changes nothing for the server, which is closed: the failure is not the caller's to handle.
   */
  async close(): Promise<void> {
    await Promise.resolve()
      .then(() => this.#adapter?.close())
      .catch(() => {});
  }

  #membership(kind: 'topic' | 'user', target: string, present: boolean): void {
    // Called from subscribe(), setUser() and a socket's close: a throwing adapter must not break
    // them (nor, from a close, end the process with an uncaught exception).
    try {
      if (present) this.#adapter?.subscribe(kind, target);
      else this.#adapter?.unsubscribe(kind, target);
    } catch (error) {
      this.#failed(present ? 'subscribe' : 'unsubscribe', error);
    }
  }

  /** An adapter's method threw: local delivery went on; the application hears of it. */
  #failed(method: string, error: unknown): void {
    this.#reportFailure(
      new WebSocketError(
        ErrorCode.HookFailed,
        `the adapter's ${method}() threw: ${errorText(error)}; this server went on (the message, or the change, did not reach the other processes)`,
        { cause: error },
      ),
    );
  }
}
