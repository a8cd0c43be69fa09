/**
 * What a client's opening handshake offers and what it makes of the server's answer, the same over
 * HTTP/1.1 (§4.1, src/client/connect.ts) and HTTP/2 (RFC 8441, src/http2/client.ts):
 *
 *   protocols, perMessageDeflate ─▶ ClientOffer (subprotocols §4.1 item 10, the RFC 7692 §5 offer)
 *   validated answer (subprotocol, extensions) ─▶ clientAttachOptions ─▶ the WebSocket's settings,
 *     with the permessage-deflate codec when the server accepted it (RFC 7692 §5.1, RFC 7692 §7.1)
 */
import { Buffer } from 'node:buffer';
import { DEFAULTS } from '../defaults.ts';
import { ErrorCode, HandshakeError, InvalidArgumentError } from '../errors.ts';
import {
  acceptDeflateResponse,
  buildDeflateOffer,
  createNegotiatedDeflate,
  EXTENSION_NAME,
  type NegotiatedDeflate,
  type PerMessageDeflateOptions,
  sharedClientLimiter,
} from '../extensions/permessage-deflate/index.ts';
import type { UpgradeResponse } from '../handshake/client.ts';
import { type ExtensionOffer, isToken } from '../handshake/headers.ts';
import type { AttachOptions } from '../websocket/types.ts';
import type { ClientOptions } from './options.ts';

/** What a client offers in its opening handshake, the same for every attempt (redirects, HTTP/2). */
export interface ClientOffer {
  /** The subprotocols, in order of preference (§4.1 item 10). */
  readonly protocols: readonly string[];
  /** The permessage-deflate options, or null when it is not offered. */
  readonly deflate: PerMessageDeflateOptions | null;
  /** The serialized `Sec-WebSocket-Extensions` offer (RFC 7692 §5), or undefined. */
  readonly extensionOffer: string | undefined;
  /** The names of the offered extensions: the server may accept only these (§4.1). */
  readonly offeredExtensions: readonly string[];
}

/**
 * Checks the subprotocol list given to the constructor.
 * @throws {InvalidArgumentError} when a subprotocol is not an HTTP token or is listed twice,
 *   synchronously, as the browser constructor throws a SyntaxError.
 */
export function assertSubprotocols(protocols: readonly string[]): void {
  // §4.1 item 10: "The elements that comprise this value MUST be non-empty strings with characters in
  // the range U+0021 to U+007E not including separator characters ... and MUST all be unique strings."
  if (new Set(protocols).size !== protocols.length || !protocols.every(isToken)) {
    throw new InvalidArgumentError(
      `invalid subprotocol list ${JSON.stringify(protocols)}: each must be a unique HTTP token`,
    );
  }
}

/**
 * The offer for `protocols` (already checked with {@link assertSubprotocols}) and the resolved
 * `perMessageDeflate` option.
 * @throws Never.
 */
export function clientOffer(
  protocols: readonly string[],
  deflate: PerMessageDeflateOptions | null,
): ClientOffer {
  return {
    protocols,
    deflate,
    extensionOffer: deflate === null ? undefined : buildDeflateOffer(deflate),
    offeredExtensions: deflate === null ? [] : [EXTENSION_NAME],
  };
}

/**
 * The WebSocket's settings once the server's answer passed the handshake checks (HTTP/1.1 or RFC 8441).
 * @param response - The validated answer: subprotocol, extensions, head.
 * @param generateMaskKey - The masking keys of the frames the client sends (§5.3).
 * @param url - The URL the connection reached (after redirects).
 * @throws {HandshakeError} when the server's permessage-deflate parameters are not acceptable
 *   (RFC 7692 §5.1, RFC 7692 §7.1): the message is `ws`'s, the details are the `cause`.
 */
export function clientAttachOptions(
  response: UpgradeResponse,
  offer: ClientOffer,
  options: ClientOptions,
  generateMaskKey: () => Uint8Array,
  url: string,
): AttachOptions {
  const maxPayload = options.maxPayload ?? DEFAULTS.maxPayload;
  return {
    role: 'client', // RFC 8441 §5: over HTTP/2 too, frames are masked exactly as over HTTP/1.1
    protocol: response.protocol,
    extensions: response.head.headers.get('sec-websocket-extensions') ?? '',
    maxPayload,
    closeTimeout: options.closeTimeout ?? DEFAULTS.closeTimeout,
    keepAlive: options.keepAlive,
    autoPong: options.autoPong,
    deflate: negotiatedDeflate(response.extensions, offer.deflate, response.head.statusCode, maxPayload),
    generateMaskKey,
    url,
  };
}

/**
 * The masking keys a client's frames use: the `generateMask` option's (as in `ws`), else random ones.
 * @throws Never (what `generateMask` throws surfaces when a frame is sent).
 */
export function maskKeysFrom(
  generateMask: ClientOptions['generateMask'],
  random: () => Uint8Array,
): () => Uint8Array {
  if (generateMask === undefined) return random;
  return () => {
    const mask = Buffer.alloc(4);
    generateMask(mask);
    return mask;
  };
}

/** RFC 7692 §5.1 and RFC 7692 §7.1: checks the server's permessage-deflate answer and builds the codec. */
function negotiatedDeflate(
  extensions: readonly ExtensionOffer[],
  options: PerMessageDeflateOptions | null,
  status: number,
  maxPayload: number,
): NegotiatedDeflate | undefined {
  if (options === null || extensions.length === 0) return undefined;
  // RFC 7692 §5.1: the server answers with at most one element for this extension.
  // The message is `ws`'s; what exactly was wrong is the `cause`.
  const invalid = (cause: unknown) =>
    new HandshakeError(ErrorCode.InvalidExtensions, status, 'Invalid Sec-WebSocket-Extensions header', {
      cause,
    });
  if (extensions.length > 1) throw invalid(new Error('permessage-deflate accepted more than once'));
  let parameters: ReturnType<typeof acceptDeflateResponse>;
  try {
    parameters = acceptDeflateResponse(extensions[0]!, options, status);
  } catch (error) {
    throw invalid(error);
  }
  return createNegotiatedDeflate(
    parameters,
    options,
    'client',
    maxPayload,
    sharedClientLimiter(options.concurrencyLimit ?? DEFAULTS.deflateConcurrencyLimit),
  );
}
