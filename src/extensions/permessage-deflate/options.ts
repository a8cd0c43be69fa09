/**
 * The `perMessageDeflate` option of WebSocketServer and WebSocket, named as in `ws` so that migrating
 * is a find-and-replace.
 */
import type { ZlibOptions } from 'node:zlib';
import { ConcurrencyLimiter } from './limiter.ts';
import type { DeflateNegotiationOptions } from './negotiation.ts';

export interface PerMessageDeflateOptions extends DeflateNegotiationOptions {
  /**
   * Messages smaller than this many bytes are sent uncompressed. Default 1024: below about 1 KiB
   * the DEFLATE overhead and the zlib round trip cost more than they save (the `ws` default).
   */
  readonly threshold?: number;
  /**
   * How many zlib jobs may run at once, per server (or for all clients of the process). Default 10,
   * as `ws`: more would only queue on libuv's 4-thread pool.
   */
  readonly concurrencyLimit?: number;
  /** Passed to zlib.createDeflateRaw (level, memLevel, strategy…); windowBits is negotiated. */
  readonly zlibDeflateOptions?: ZlibOptions;
  /** Passed to zlib.createInflateRaw; windowBits is negotiated. */
  readonly zlibInflateOptions?: ZlibOptions;
}

/** Normalizes `perMessageDeflate: true | false | {…}`; null when off. */
export function resolveDeflateOptions(
  option: boolean | PerMessageDeflateOptions | undefined,
  defaultOn: boolean,
): PerMessageDeflateOptions | null {
  if (option === undefined) return defaultOn ? {} : null;
  if (option === false) return null;
  return option === true ? {} : option;
}

const clientLimiters = new Map<number, ConcurrencyLimiter>();

/** The limiter shared by all clients of this process with the same concurrencyLimit. */
export function sharedClientLimiter(limit: number): ConcurrencyLimiter {
  let limiter = clientLimiters.get(limit);
  if (limiter === undefined) {
    limiter = new ConcurrencyLimiter(limit);
    clientLimiters.set(limit, limiter);
  }
  return limiter;
}
