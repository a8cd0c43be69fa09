/**
 * @sockwire/redis-adapter: sockwire's `publish()`, `broadcast()` and `sendToUser()` across processes
 * and hosts through Redis pub/sub. See README.md.
 */
export { ADAPTER_DEFAULTS } from './defaults.ts';
export { decodeEnvelope, type Envelope, encodeEnvelope, type Kind } from './envelope.ts';
export {
  type AdapterHost,
  createRedisAdapter,
  type FanOutMessage,
  RedisAdapter,
  type RedisAdapterEvents,
  type RedisAdapterOptions,
  type RedisAdapterStats,
} from './redis-adapter.ts';
