/** Every default of the Redis adapter, with the reason for it. */
export const ADAPTER_DEFAULTS = Object.freeze({
  /** The local Redis of a development machine (as node-redis's own default). */
  url: 'redis://127.0.0.1:6379',
  /**
   * Channel names start with it (`sockwire:t:<topic>`), so that several applications, or staging and
   * production, can share one Redis without hearing each other.
   */
  prefix: 'sockwire',
  /**
   * Classic PUBLISH/SUBSCRIBE: works on every Redis (and Valkey, and managed services) since 2.0.
   * Sharded SPUBLISH/SSUBSCRIBE (Redis 7) is an option: it matters on a Redis Cluster, where a classic
   * PUBLISH is copied to every node of the cluster while a sharded one stays in its slot's shard.
   */
  sharded: false,
  /**
   * 1 MiB per message, envelope included. Redis closes a subscriber whose pending output passes its
   * `client-output-buffer-limit pubsub` (32 MiB hard, 8 MiB for 60 s by default), so a few large
   * messages to a process that is briefly busy would cost it its connection and every message after;
   * larger payloads belong in a store, with their key in the message.
   */
  maxMessageSize: 1024 * 1024,
  /**
   * Publishes sent to Redis and not yet answered, at most (then new ones are dropped and counted): a
   * slow or hung Redis must not grow the process's memory without bound. 10 000 messages are about a
   * second of a busy process's traffic: a hiccup passes, a hung Redis is cut off.
   */
  maxPendingPublishes: 10_000,
  /** The same bound in bytes (8 MiB: Redis's own soft limit for a pub/sub client's output). */
  maxPendingBytes: 8 * 1024 * 1024,
  /** How long the first connection may take before `createRedisAdapter()` fails (ms). */
  connectTimeout: 5_000,
  /** Reconnection after an outage: first retry after this many ms, doubling, with jitter… */
  reconnectMinDelay: 50,
  /** …up to this many ms between attempts (a restarted Redis is found within 2 s). */
  reconnectMaxDelay: 2_000,
});
