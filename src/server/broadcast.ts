/**
 * One message to many clients: `broadcast()` to every open client and `publish()` to a topic's
 * subscribers (`ws.subscribe()`), encoded once and queued for each, with the slow-reader policy
 * (`maxBufferedAmount`, `slowReaderPolicy`). §5.1: server frames are unmasked, so the same bytes fit
 * every client; RFC 7692 §6 lets them go uncompressed to clients that negotiated permessage-deflate.
 */
import { CloseCode } from '../frame/close-code.ts';
import { encodeFrame } from '../frame/encoder.ts';
import { Opcode } from '../frame/opcode.ts';
import { ReadyState } from '../ready-state.ts';
import { sendEncoded } from '../websocket/internal.ts';
import type { SendData } from '../websocket/send-data.ts';
import type { TopicRegistry } from '../websocket/types.ts';
import { WebSocket } from '../websocket/websocket.ts';
import type { MembershipListener } from './adapter.ts';
import { SocketGroups } from './socket-groups.ts';

/** Options of `server.broadcast()` and `server.publish()`. */
export interface BroadcastOptions {
  /** Send as binary. Default: true unless `data` is a string. */
  readonly binary?: boolean;
  /** Clients not to send to (typically the sender). */
  readonly except?: WebSocket | Iterable<WebSocket>;
  /** Overrides the server's `maxBufferedAmount` for this call. */
  readonly maxBufferedAmount?: number;
  /**
   * With an `adapter`: deliver to this process's clients only, not to the other processes (as
   * Socket.IO's `.local`). Without one, every delivery is local anyway.
   */
  readonly local?: boolean;
}

/** What `broadcast()`/`publish()` did: clients the frame was queued for, and those skipped. */
export interface BroadcastResult {
  readonly sent: number;
  /** Excluded, not OPEN, busy with a fragmented message, or slow readers (dropped or closed). */
  readonly skipped: number;
}

/** The server options `broadcast()` and `publish()` read. */
export interface BroadcastPolicy {
  readonly maxBufferedAmount?: number;
  readonly slowReaderPolicy?: 'close' | 'drop';
}

const EMPTY_SET: ReadonlySet<WebSocket> = new Set();

/** Whether `data` goes as a binary message: a number goes as its text, as with send() (and `ws`). */
export function isBinaryMessage(data: SendData, options: BroadcastOptions): boolean {
  return options.binary ?? (typeof data !== 'string' && typeof data !== 'number');
}

/**
 * Queues one message for each of `clients`: encoded once, uncompressed, skipping excluded clients,
 * clients that cannot take it now, and slow readers (closed with 1013 under `slowReaderPolicy:
 * 'close'`). Takes bytes already converted from the caller's data (src/server/fan-out.ts does it
 * once per process: the same bytes also go to the adapter, and come from it on the receiving side).
 * @throws Never.
 */
export function sendBytes(
  clients: Iterable<WebSocket>,
  bytes: Uint8Array,
  binary: boolean,
  options: BroadcastOptions,
  policy: BroadcastPolicy,
): BroadcastResult {
  // §5.1: "A server MUST NOT mask any frames that it sends to the client": one encoding fits all.
  const frame = encodeFrame(binary ? Opcode.Binary : Opcode.Text, bytes);
  const except = options.except;
  const excluded: ReadonlySet<WebSocket> =
    except === undefined ? EMPTY_SET : except instanceof WebSocket ? new Set([except]) : new Set(except);
  const limit = options.maxBufferedAmount ?? policy.maxBufferedAmount ?? Number.POSITIVE_INFINITY;
  const closeSlow = policy.slowReaderPolicy === 'close';
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

/**
 * The topics of one server: subscribers by topic and topics by subscriber. A server-side WebSocket
 * holds its server's `Topics` (through `ws[acceptingServer]`, src/server/negotiate.ts) and delegates `subscribe()` & co. to it.
 */
export class Topics implements TopicRegistry<WebSocket> {
  /** Subscribers by topic; its listener hears when a topic gains its first or loses its last (the adapter's subscriptions). */
  readonly #topics: SocketGroups;
  /** Topics by subscriber, to drop them all on close. */
  readonly #subscriptions = new WeakMap<WebSocket, Set<string>>();

  constructor(onMembership?: MembershipListener) {
    this.#topics = new SocketGroups(onMembership);
  }

  /** The subscribers of `topic`, if it has any. */
  subscribers(topic: string): ReadonlySet<WebSocket> | undefined {
    return this.#topics.get(topic);
  }

  /** Whether `ws` is subscribed to `topic`. */
  isSubscribed(ws: WebSocket, topic: string): boolean {
    return this.#topics.get(topic)?.has(ws) ?? false;
  }

  /** Subscribes an OPEN `ws` to `topic`; false if it was already, or is not OPEN. */
  subscribe(ws: WebSocket, topic: string): boolean {
    if (ws.readyState !== ReadyState.OPEN) return false;
    let topics = this.#subscriptions.get(ws);
    if (topics === undefined) {
      topics = new Set();
      this.#subscriptions.set(ws, topics);
    }
    if (topics.has(topic)) return false;
    topics.add(topic);
    this.#topics.add(topic, ws);
    return true;
  }

  /** Unsubscribes `ws` from `topic`; false if it was not subscribed. */
  unsubscribe(ws: WebSocket, topic: string): boolean {
    const topics = this.#subscriptions.get(ws);
    if (topics === undefined || !topics.delete(topic)) return false;
    this.#topics.delete(topic, ws);
    return true;
  }

  /** Drops every subscription of `ws` (when it closes: the server's close hook, src/server/negotiate.ts). */
  dropAll(ws: WebSocket): void {
    const topics = this.#subscriptions.get(ws);
    if (topics === undefined) return;
    for (const topic of [...topics]) this.unsubscribe(ws, topic);
    this.#subscriptions.delete(ws);
  }
}
