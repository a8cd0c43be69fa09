export { type CodecOptions, PerMessageDeflateCodec } from './codec.ts';
export { ConcurrencyLimiter } from './limiter.ts';
export {
  acceptDeflateOffer,
  acceptDeflateResponse,
  buildDeflateOffer,
  type DeflateNegotiationOptions,
  type DeflateParameters,
  EXTENSION_NAME,
} from './negotiation.ts';
export {
  DEFAULT_CONCURRENCY_LIMIT,
  DEFAULT_DEFLATE_THRESHOLD,
  type PerMessageDeflateOptions,
  resolveDeflateOptions,
  sharedClientLimiter,
} from './options.ts';
