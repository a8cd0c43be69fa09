/**
 * A sockwire `adapter` over Redis pub/sub: `server.publish()`, `broadcast()` and `sendToUser()` of
 * one process reach the clients of every process sharing the Redis.
 *
 *   publish ─▶ local clients (the server) ─▶ adapter.publish ─▶ envelope ─▶ PUBLISH <prefix>:t:<topic>
 *   other processes: SUBSCRIBE <prefix>:t:<topic> ─▶ decode ─▶ skip our own ─▶ host.deliver (local only)
 *
 * Channels: `<prefix>:b` (broadcast, always subscribed), `<prefix>:t:<topic>`, `<prefix>:u:<user id>`
 * (subscribed while this process has a socket of the topic or user). Two connections to Redis: one
 * publishes, one subscribes (a subscribed connection can do nothing else, RESP2).
 *
 * Guarantee: at most once across processes (Redis pub/sub keeps nothing: a process that is
 * disconnected misses what is published meanwhile), in order per publisher per channel. Publishing
 * never blocks and never throws: while Redis is unreachable or too slow, messages are dropped and
 * counted ('outage' and 'restored', 'overflow', `stats`).
 */
import { randomBytes } from 'node:crypto';
import { EventEmitter } from 'node:events';
import { createClient, type RedisClientOptions } from 'redis';
import { ADAPTER_DEFAULTS } from './defaults.ts';
import { decodeEnvelope, encodeEnvelope, HEADER_SIZE, type Kind, PUBLISHER_ID_SIZE } from './envelope.ts';

/** A message crossing processes; the same shape as sockwire's `FanOutMessage`. */
export interface FanOutMessage {
  readonly kind: Kind;
  readonly target: string;
  readonly data: Uint8Array;
  readonly binary: boolean;
}

/** The server's side the adapter delivers to; the same shape as sockwire's `AdapterHost`. */
export interface AdapterHost {
  deliver(message: FanOutMessage): unknown;
}

/** Options of {@link createRedisAdapter}; every default is in `ADAPTER_DEFAULTS`, with its reason. */
export interface RedisAdapterOptions {
  /** The Redis to use, e.g. `redis://:password@redis.internal:6379/0` or `rediss://…` for TLS. */
  readonly url?: string;
  /** More node-redis client options (`password`, `socket.tls`, …); `url` wins over `client.url`. */
  readonly client?: RedisClientOptions;
  /** The start of every channel name (`<prefix>:t:<topic>`). Default `'sockwire'`. */
  readonly prefix?: string;
  /** SPUBLISH/SSUBSCRIBE (Redis 7 sharded pub/sub) instead of PUBLISH/SUBSCRIBE. Default false. */
  readonly sharded?: boolean;
  /** Largest message in bytes, envelope included; larger ones stay local ('oversize'). Default 1 MiB. */
  readonly maxMessageSize?: number;
  /** Most publishes awaiting Redis's answer; beyond, new ones are dropped ('overflow'). Default 10 000. */
  readonly maxPendingPublishes?: number;
  /** The same bound in bytes. Default 8 MiB. */
  readonly maxPendingBytes?: number;
  /** How long the first connection may take, in ms. Default 5 000. */
  readonly connectTimeout?: number;
}

/** What the adapter has done so far. */
export interface RedisAdapterStats {
  /** Messages handed to Redis. */
  readonly published: number;
  /** Messages from other processes delivered to this process's clients. */
  readonly received: number;
  /** Messages not sent to Redis: Redis unreachable, too many pending, or failed in flight. */
  readonly dropped: number;
  /** Messages larger than `maxMessageSize` (delivered locally only). */
  readonly oversize: number;
  /** Messages on our channels that were not ours to read. */
  readonly malformed: number;
  /** Publishes awaiting Redis's answer, and their bytes. */
  readonly pending: number;
  readonly pendingBytes: number;
}

/** The events of a {@link RedisAdapter}. None is 'error': an unhandled one would crash the process. */
export interface RedisAdapterEvents {
  /** Redis became unreachable (either connection); messages are dropped until 'restored'. */
  outage: [cause: Error];
  /** Both connections are back (subscriptions renewed): how many messages were dropped meanwhile. */
  restored: [report: { readonly dropped: number; readonly durationMs: number }];
  /** The pending bound was reached: new messages are dropped until Redis catches up. */
  overflow: [report: { readonly pending: number; readonly pendingBytes: number }];
  /** A message larger than `maxMessageSize` went to local clients only. */
  oversize: [
    report: { readonly size: number; readonly limit: number; readonly kind: Kind; readonly target: string },
  ];
  /** Something on one of our channels was not a message of this adapter: ignored. */
  malformed: [report: { readonly channel: string; readonly reason: string }];
}

type Client = ReturnType<typeof createClient>;

/**
 * Connects to Redis (both connections) and returns the adapter to give to `new WebSocketServer({
 * adapter })`. Fails rather than starting without Redis: a process that cannot reach its broker at
 * start is misconfigured more often than unlucky, and a silent local-only mode would split the
 * application in two. Outages after the start are survived (reconnection, 'outage', 'restored').
 * @throws {Error} when Redis cannot be reached within `connectTimeout` (the message names the URL;
 *   the cause is node-redis's error).
 * @throws {RangeError} for an option out of range.
 */
export async function createRedisAdapter(options: RedisAdapterOptions = {}): Promise<RedisAdapter> {
  const adapter = new RedisAdapter(options);
  await adapter.connect();
  return adapter;
}

/** See {@link createRedisAdapter}, which makes and connects one. */
export class RedisAdapter extends EventEmitter<RedisAdapterEvents> {
  /** Random per adapter: the envelope carries it, so this process can skip its own messages. */
  readonly publisherId: Buffer = randomBytes(PUBLISHER_ID_SIZE);
  readonly #url: string;
  readonly #prefix: string;
  readonly #sharded: boolean;
  readonly #maxMessageSize: number;
  readonly #maxPending: number;
  readonly #maxPendingBytes: number;
  readonly #connectTimeout: number;
  readonly #pub: Client;
  readonly #sub: Client;
  #host: AdapterHost | undefined;
  #started = false;
  #closing = false;
  /** Redis unreachable since this time (ms), or null. */
  #downSince: number | null = null;
  #droppedInOutage = 0;
  #overflowing = false;
  // Sizes of the publishes awaiting an answer, oldest first (Redis answers in order).
  #sizes: number[] = [];
  #sizesHead = 0;
  #pendingBytes = 0;
  #stats = { published: 0, received: 0, dropped: 0, oversize: 0, malformed: 0 };

  /**
   * Use {@link createRedisAdapter}; `new RedisAdapter()` followed by `connect()` is the same.
   * @throws {RangeError} for an option out of range.
   */
  constructor(options: RedisAdapterOptions = {}) {
    super();
    this.#url = options.url ?? options.client?.url ?? ADAPTER_DEFAULTS.url;
    this.#prefix = options.prefix ?? ADAPTER_DEFAULTS.prefix;
    this.#sharded = options.sharded ?? ADAPTER_DEFAULTS.sharded;
    this.#maxMessageSize = positive(
      'maxMessageSize',
      options.maxMessageSize,
      ADAPTER_DEFAULTS.maxMessageSize,
    );
    this.#maxPending = positive(
      'maxPendingPublishes',
      options.maxPendingPublishes,
      ADAPTER_DEFAULTS.maxPendingPublishes,
    );
    this.#maxPendingBytes = positive(
      'maxPendingBytes',
      options.maxPendingBytes,
      ADAPTER_DEFAULTS.maxPendingBytes,
    );
    this.#connectTimeout = positive(
      'connectTimeout',
      options.connectTimeout,
      ADAPTER_DEFAULTS.connectTimeout,
    );
    if (this.#maxMessageSize <= HEADER_SIZE) {
      throw new RangeError(`maxMessageSize must be more than the ${HEADER_SIZE}-byte envelope header`);
    }
    const clientOptions: RedisClientOptions = {
      ...options.client,
      url: this.#url,
      socket: {
        ...options.client?.socket,
        connectTimeout: this.#connectTimeout,
        reconnectStrategy: (retries: number, cause: Error) => this.#reconnectDelay(retries, cause),
      } as NonNullable<RedisClientOptions['socket']>,
      // Commands are not held for a reconnection: a message published during an outage is dropped
      // now (and counted) rather than delivered late, in a burst, to clients that moved on.
      disableOfflineQueue: true,
    };
    this.#pub = createClient(clientOptions);
    // The subscriber keeps its offline queue: SUBSCRIBEs asked during an outage go out on reconnection.
    this.#sub = createClient({ ...clientOptions, disableOfflineQueue: false });
    for (const client of [this.#pub, this.#sub]) {
      client.on('error', this.#onClientError);
      client.on('ready', this.#onClientReady);
    }
  }

  /** What the adapter has done so far. */
  get stats(): RedisAdapterStats {
    return {
      ...this.#stats,
      pending: this.#sizes.length - this.#sizesHead,
      pendingBytes: this.#pendingBytes,
    };
  }

  /** Whether both connections to Redis are up. */
  get connected(): boolean {
    return this.#pub.isReady && this.#sub.isReady;
  }

  /**
   * Opens both connections and subscribes the broadcast channel.
   * @throws {Error} when Redis cannot be reached within `connectTimeout` (the connections are closed).
   */
  async connect(): Promise<void> {
    try {
      await Promise.all([this.#pub.connect(), this.#sub.connect()]);
      await this.#subscribeChannel(this.#channel('broadcast', ''));
    } catch (error) {
      this.#closing = true;
      for (const client of [this.#pub, this.#sub]) if (client.isOpen) client.destroy();
      const reason = error instanceof Error ? error.message : String(error);
      throw new Error(`@sockwire/redis-adapter: cannot reach Redis at ${redact(this.#url)}: ${reason}`, {
        cause: error,
      });
    }
    this.#started = true;
  }

  /** sockwire calls it once, from the server's constructor. */
  start(host: AdapterHost): void {
    this.#host = host;
  }

  /** sockwire calls it after its local fan-out. Never throws, never waits: drops and counts instead. */
  publish(message: FanOutMessage): void {
    if (!this.#pub.isReady) {
      this.#drop();
      return;
    }
    const size = HEADER_SIZE + Buffer.byteLength(message.target) + message.data.byteLength;
    if (size > this.#maxMessageSize) {
      this.#stats.oversize++;
      const { kind, target } = message;
      this.emit('oversize', { size, limit: this.#maxMessageSize, kind, target });
      return;
    }
    const pending = this.#sizes.length - this.#sizesHead;
    if (pending >= this.#maxPending || this.#pendingBytes + size > this.#maxPendingBytes) {
      this.#drop();
      if (!this.#overflowing) {
        this.#overflowing = true;
        this.emit('overflow', { pending, pendingBytes: this.#pendingBytes });
      }
      return;
    }
    const envelope = encodeEnvelope(
      this.publisherId,
      message.kind,
      message.target,
      message.binary,
      message.data,
    );
    const channel = this.#channel(message.kind, message.target);
    this.#sizes.push(size);
    this.#pendingBytes += size;
    this.#stats.published++;
    const sent = this.#sharded ? this.#pub.sPublish(channel, envelope) : this.#pub.publish(channel, envelope);
    sent.then(this.#onAnswered, this.#onFailed);
  }

  /** sockwire calls it when this process gets its first socket of a topic or user. */
  subscribe(kind: 'topic' | 'user', target: string): void {
    void this.#subscribeChannel(this.#channel(kind, target)).catch(noop);
  }

  /** sockwire calls it when this process's last socket of a topic or user is gone. */
  unsubscribe(kind: 'topic' | 'user', target: string): void {
    const channel = this.#channel(kind, target);
    const done = this.#sharded
      ? this.#sub.sUnsubscribe(channel, this.#onMessage, true)
      : this.#sub.unsubscribe(channel, this.#onMessage, true);
    void done.catch(noop);
  }

  /** sockwire calls it when the server has closed: both connections close (Redis forgets our channels). */
  async close(): Promise<void> {
    this.#closing = true;
    await Promise.all(
      [this.#pub, this.#sub].map(async (client) => {
        if (!client.isOpen) return;
        if (client.isReady) await client.close().catch(() => client.destroy());
        else client.destroy();
      }),
    );
  }

  #channel(kind: Kind, target: string): string {
    return kind === 'broadcast'
      ? `${this.#prefix}:b`
      : `${this.#prefix}:${kind === 'topic' ? 't' : 'u'}:${target}`;
  }

  #subscribeChannel(channel: string): Promise<void> {
    return this.#sharded
      ? this.#sub.sSubscribe(channel, this.#onMessage, true)
      : this.#sub.subscribe(channel, this.#onMessage, true);
  }

  readonly #onMessage = (message: Buffer, channelBytes: Buffer | string): void => {
    const envelope = decodeEnvelope(message);
    if (typeof envelope === 'string') {
      this.#malformed(channelBytes, envelope);
      return;
    }
    if (envelope.publisher.equals(this.publisherId)) return; // delivered locally already
    const channel = String(channelBytes);
    if (channel !== this.#channel(envelope.kind, envelope.target)) {
      this.#malformed(channel, `a ${envelope.kind} message for "${envelope.target}" on another channel`);
      return;
    }
    this.#stats.received++;
    this.#host?.deliver(envelope);
  };

  #malformed(channel: Buffer | string, reason: string): void {
    this.#stats.malformed++;
    this.emit('malformed', { channel: String(channel), reason });
  }

  #drop(): void {
    this.#stats.dropped++;
    if (this.#downSince !== null) this.#droppedInOutage++;
  }

  readonly #onAnswered = (): void => {
    this.#settle();
  };

  readonly #onFailed = (): void => {
    // Lost with the connection: it may or may not have reached Redis (at most once).
    this.#settle();
    this.#stats.published--;
    this.#drop();
  };

  #settle(): void {
    this.#pendingBytes -= this.#sizes[this.#sizesHead++] ?? 0;
    const pending = this.#sizes.length - this.#sizesHead;
    if (pending === 0) {
      this.#sizes = [];
      this.#sizesHead = 0;
    } else if (this.#sizesHead > 4096 && this.#sizesHead * 2 > this.#sizes.length) {
      this.#sizes = this.#sizes.slice(this.#sizesHead);
      this.#sizesHead = 0;
    }
    if (
      this.#overflowing &&
      pending <= this.#maxPending / 2 &&
      this.#pendingBytes <= this.#maxPendingBytes / 2
    ) {
      this.#overflowing = false;
    }
  }

  readonly #onClientError = (error: Error): void => {
    if (!this.#started || this.#closing || this.#downSince !== null) return;
    this.#downSince = Date.now();
    this.#droppedInOutage = 0;
    this.emit('outage', error);
  };

  readonly #onClientReady = (): void => {
    if (this.#downSince === null || !this.connected) return;
    const report = { dropped: this.#droppedInOutage, durationMs: Date.now() - this.#downSince };
    this.#downSince = null;
    this.emit('restored', report);
  };

  /** Before the start: fail (createRedisAdapter rejects). After: retry with doubling, jittered delays. */
  #reconnectDelay(retries: number, cause: Error): number | Error {
    if (!this.#started) return cause;
    if (this.#closing) return cause;
    const ceiling = Math.min(
      ADAPTER_DEFAULTS.reconnectMaxDelay,
      ADAPTER_DEFAULTS.reconnectMinDelay * 2 ** retries,
    );
    return Math.round(ceiling / 2 + (Math.random() * ceiling) / 2);
  }
}

function noop(): void {}

/** A URL without its password, for messages. */
function redact(url: string): string {
  return url.replace(/\/\/([^:@/]*):[^@/]*@/, '//$1:***@');
}

/** `value`, or `fallback` when undefined. @throws {RangeError} unless a positive number. */
function positive(name: string, value: number | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !(value > 0)) throw new RangeError(`${name} must be a positive number`);
  return value;
}
