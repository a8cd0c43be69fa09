export { type CodecOptions, PerMessageDeflateCodec } from './codec.ts';
export { createNegotiatedDeflate, type NegotiatedDeflate } from './factory.ts';
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
  type PerMessageDeflateOptions,
  resolveDeflateOptions,
  sharedClientLimiter,
} from './options.ts';
