/**
 * The one place a negotiated permessage-deflate becomes a codec, for both ends: the server once it
 * accepted an offer (RFC 7692 §5), the client once it accepted the server's response (RFC 7692 §5.1).
 */
import { DEFAULTS } from '../../defaults.ts';
import { PerMessageDeflateCodec } from './codec.ts';
import type { ConcurrencyLimiter } from './limiter.ts';
import type { DeflateParameters } from './negotiation.ts';
import type { PerMessageDeflateOptions } from './options.ts';

/** A negotiated permessage-deflate, as a WebSocket uses it. */
export interface NegotiatedDeflate {
  readonly codec: PerMessageDeflateCodec;
  /** Messages smaller than this many bytes are sent uncompressed. */
  readonly threshold: number;
}

/**
 * Builds the codec for the parameters both ends agreed on (RFC 7692 §7.1), with the application's
 * zlib options and `threshold` (default {@link DEFAULTS.deflateThreshold}).
 *
 * @param parameters - The negotiated parameters (window bits, context takeover).
 * @param options - The application's `perMessageDeflate` options.
 * @param role - Which end this is: the server and the client compress with the other's parameters.
 * @param maxPayload - The largest message accepted once inflated (1009 beyond it, RFC 6455 §7.4.1).
 * @param limiter - Bounds the zlib jobs running at once (per server, or shared by a process's clients).
 * @returns The codec and the threshold.
 * @throws Never: zlib streams are created on first use.
 */
export function createNegotiatedDeflate(
  parameters: DeflateParameters,
  options: PerMessageDeflateOptions,
  role: 'client' | 'server',
  maxPayload: number,
  limiter: ConcurrencyLimiter,
): NegotiatedDeflate {
  return {
    codec: new PerMessageDeflateCodec({
      parameters,
      role,
      maxPayload,
      limiter,
      zlibDeflateOptions: options.zlibDeflateOptions,
      zlibInflateOptions: options.zlibInflateOptions,
    }),
    threshold: options.threshold ?? DEFAULTS.deflateThreshold,
  };
}
