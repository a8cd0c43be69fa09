/**
 * permessage-deflate negotiation, RFC 7692 §5 and RFC 7692 §7.1: pure functions over parsed
 * `Sec-WebSocket-Extensions` values, for both the server (pick an offer, answer it) and the client
 * (make an offer, check the answer).
 *
 * Parameters (RFC 7692 §7.1):
 *   server_no_context_takeover   the server resets its compressor after each message
 *   client_no_context_takeover   the client resets its compressor after each message
 *   server_max_window_bits=N     the server compresses with a window of at most 2^N bytes (8..15)
 *   client_max_window_bits[=N]   the client compresses with at most 2^N; offered without a value it
 *                                only says the client supports the parameter
 *
 * zlib cannot produce a raw deflate stream with an 8-bit window (deflateInit2 refuses windowBits 8
 * without the zlib wrapper, and Node quietly uses 9 instead). A stream compressed with a 512-byte
 * window can hold distances a 256-byte inflater cannot follow, so we never *compress* under an 8-bit
 * limit: as a server we decline an offer that demands server_max_window_bits=8 (and take the next
 * offer, or none); as a client we never ask for 8 and, if a server still imposes
 * client_max_window_bits=8, we keep the extension for what we receive but send our messages
 * uncompressed, which RFC 7692 §6 allows for any message. Inflating is unaffected: a 9..15-bit
 * inflater reads any stream made with a smaller window.
 */
import { ErrorCode, HandshakeError } from '../../errors.ts';
import type { ExtensionOffer } from '../../handshake/headers.ts';

export const EXTENSION_NAME = 'permessage-deflate';

/** What each side agreed to, after negotiation. */
export interface DeflateParameters {
  readonly serverNoContextTakeover: boolean;
  readonly clientNoContextTakeover: boolean;
  /** Window of the server's compressor, 8..15 (15 when not negotiated: RFC 7692 §7.1.2.1). */
  readonly serverMaxWindowBits: number;
  /** Window of the client's compressor, 8..15 (15 when not negotiated: RFC 7692 §7.1.2.2). */
  readonly clientMaxWindowBits: number;
}

/** The negotiation half of the user's `perMessageDeflate` options (names as in `ws`). */
export interface DeflateNegotiationOptions {
  /** Server: always ask ourselves to reset the compressor; client: ask the server to. Default false. */
  readonly serverNoContextTakeover?: boolean;
  /** Server: ask the client to reset; client: offer to reset. Default false. */
  readonly clientNoContextTakeover?: boolean;
  /** Largest server window: a number (9..15), or true to ask/allow without a value. Default: not limited. */
  readonly serverMaxWindowBits?: number | boolean;
  /** Largest client window: a number (9..15), or true (the default for clients: "I support it"). */
  readonly clientMaxWindowBits?: number | boolean;
}

const MIN_WINDOW_BITS = 8;
const MAX_WINDOW_BITS = 15;
/** The smallest window zlib can compress with in raw mode; see the module comment. */
export const MIN_COMPRESSIBLE_WINDOW_BITS = 9;

/** A parsed offer or response, before policy is applied; null when it is not valid (RFC 7692 §7.1). */
interface ParsedParameters {
  serverNoContextTakeover: boolean;
  clientNoContextTakeover: boolean;
  serverMaxWindowBits: number | undefined;
  /** `true`: present without a value (allowed only in a client's offer, RFC 7692 §7.1.2.2). */
  clientMaxWindowBits: number | true | undefined;
}

/**
 * Reads the parameters of one permessage-deflate element. RFC 7692 §7.1: "A server MUST decline an extension
 * negotiation offer for this extension if ... The negotiation offer contains an extension parameter
 * not defined for use in an offer. ... has an invalid value. ... includes multiple extension
 * parameters with the same name." (The header parser marks a repeated name.)
 */
function parseParameters(element: ExtensionOffer, isOffer: boolean): ParsedParameters | null {
  if (element.hasDuplicateParams) return null;
  const parsed: ParsedParameters = {
    serverNoContextTakeover: false,
    clientNoContextTakeover: false,
    serverMaxWindowBits: undefined,
    clientMaxWindowBits: undefined,
  };
  for (const [name, value] of element.params) {
    switch (name.toLowerCase()) {
      case 'server_no_context_takeover':
      case 'client_no_context_takeover':
        // RFC 7692 §7.1.1.1, RFC 7692 §7.1.1.2: "This parameter has no value."
        if (value !== true) return null;
        if (name.toLowerCase() === 'server_no_context_takeover') parsed.serverNoContextTakeover = true;
        else parsed.clientNoContextTakeover = true;
        break;
      case 'server_max_window_bits': {
        // RFC 7692 §7.1.2.1: "This parameter has a decimal integer value without leading zeroes between 8 to 15".
        const bits = parseWindowBits(value);
        if (bits === null) return null;
        parsed.serverMaxWindowBits = bits;
        break;
      }
      case 'client_max_window_bits': {
        // RFC 7692 §7.1.2.2: in an offer it "may have no value"; in a response it must have one.
        if (value === true) {
          if (!isOffer) return null;
          parsed.clientMaxWindowBits = true;
          break;
        }
        const bits = parseWindowBits(value);
        if (bits === null) return null;
        parsed.clientMaxWindowBits = bits;
        break;
      }
      default:
        return null;
    }
  }
  return parsed;
}

function parseWindowBits(value: string | true): number | null {
  if (value === true || !/^[1-9][0-9]?$/.test(value)) return null;
  const bits = Number(value);
  return bits >= MIN_WINDOW_BITS && bits <= MAX_WINDOW_BITS ? bits : null;
}

/** Clamps a configured window to what zlib can compress with. */
function configuredBits(value: number | boolean | undefined): number | undefined {
  if (typeof value !== 'number') return undefined;
  return Math.min(MAX_WINDOW_BITS, Math.max(MIN_COMPRESSIBLE_WINDOW_BITS, Math.trunc(value)));
}

/**
 * Server: picks the first acceptable permessage-deflate offer (RFC 7692 §5.1: the client lists offers in
 * order of preference) and builds the response element. With `clientMaxWindowBits` below 15, offers
 * without client_max_window_bits are declined (the limit could not be imposed, RFC 7692 §7.1.2.2).
 * @returns the agreed parameters and the response, or null to decline (no compression).
 */
export function acceptDeflateOffer(
  offers: readonly ExtensionOffer[],
  options: DeflateNegotiationOptions,
): { readonly parameters: DeflateParameters; readonly response: string } | null {
  for (const offer of offers) {
    if (offer.name.toLowerCase() !== EXTENSION_NAME) continue;
    const offered = parseParameters(offer, true);
    if (offered === null) continue; // RFC 7692 §7.1: decline this offer, try the next one
    // We cannot compress under a 9-bit window (module comment): decline an offer that demands it.
    if (
      offered.serverMaxWindowBits !== undefined &&
      offered.serverMaxWindowBits < MIN_COMPRESSIBLE_WINDOW_BITS
    ) {
      continue;
    }
    // RFC 7692 §7.1.2.2: without client_max_window_bits in the offer the response may not carry it,
    // so the client keeps a 15-bit window. A server that limits the client window (to bound its
    // inflate memory) declines such an offer, as `ws` does, and takes the next one, or none.
    const ourClientBits = configuredBits(options.clientMaxWindowBits);
    if (
      offered.clientMaxWindowBits === undefined &&
      ourClientBits !== undefined &&
      ourClientBits < MAX_WINDOW_BITS
    ) {
      continue;
    }
    const response: string[] = [EXTENSION_NAME];
    // RFC 7692 §7.1.1.1: accepting an offer with server_no_context_takeover means including it in the response.
    const serverNoContextTakeover =
      offered.serverNoContextTakeover || options.serverNoContextTakeover === true;
    if (serverNoContextTakeover) response.push('server_no_context_takeover');
    // RFC 7692 §7.1.1.2: the server may ask the client not to use context takeover, offered or not.
    const clientNoContextTakeover =
      offered.clientNoContextTakeover || options.clientNoContextTakeover === true;
    if (clientNoContextTakeover) response.push('client_no_context_takeover');
    // RFC 7692 §7.1.2.1: respond with a value no larger than the offer's; we may also limit ourselves unasked.
    let serverMaxWindowBits = offered.serverMaxWindowBits ?? MAX_WINDOW_BITS;
    const ourServerBits = configuredBits(options.serverMaxWindowBits);
    if (ourServerBits !== undefined) serverMaxWindowBits = Math.min(serverMaxWindowBits, ourServerBits);
    if (offered.serverMaxWindowBits !== undefined || ourServerBits !== undefined) {
      response.push(`server_max_window_bits=${serverMaxWindowBits}`);
    }
    // RFC 7692 §7.1.2.2: "If a received extension negotiation offer doesn't have the client_max_window_bits
    // extension parameter, the corresponding extension negotiation response to the offer MUST NOT
    // include the client_max_window_bits extension parameter."
    let clientMaxWindowBits = MAX_WINDOW_BITS;
    if (offered.clientMaxWindowBits !== undefined) {
      const offeredBits =
        offered.clientMaxWindowBits === true ? MAX_WINDOW_BITS : offered.clientMaxWindowBits;
      clientMaxWindowBits = Math.min(offeredBits, ourClientBits ?? MAX_WINDOW_BITS);
      if (ourClientBits !== undefined || offered.clientMaxWindowBits !== true) {
        response.push(`client_max_window_bits=${clientMaxWindowBits}`);
      }
    }
    return {
      parameters: {
        serverNoContextTakeover,
        clientNoContextTakeover,
        serverMaxWindowBits,
        clientMaxWindowBits,
      },
      response: response.join('; '),
    };
  }
  return null;
}

/** Client: the offer to put in `Sec-WebSocket-Extensions` (RFC 7692 §5.1). */
export function buildDeflateOffer(options: DeflateNegotiationOptions): string {
  const offer: string[] = [EXTENSION_NAME];
  if (options.serverNoContextTakeover) offer.push('server_no_context_takeover');
  if (options.clientNoContextTakeover) offer.push('client_no_context_takeover');
  const serverBits = configuredBits(options.serverMaxWindowBits);
  if (serverBits !== undefined) offer.push(`server_max_window_bits=${serverBits}`);
  const clientBits = configuredBits(options.clientMaxWindowBits);
  if (clientBits !== undefined) offer.push(`client_max_window_bits=${clientBits}`);
  // "I support client_max_window_bits": lets the server limit our window (the default, as browsers).
  else if (options.clientMaxWindowBits !== false) offer.push('client_max_window_bits');
  return offer.join('; ');
}

/**
 * Client: checks the server's response against our offer (RFC 7692 §7.1). An invalid response fails the
 * connection: "If a received extension negotiation response is not valid, the client MUST _Fail the
 * WebSocket Connection_."
 * @throws {HandshakeError} `WS_ERR_INVALID_EXTENSIONS` for an invalid or unrequested parameter.
 */
export function acceptDeflateResponse(
  response: ExtensionOffer,
  options: DeflateNegotiationOptions,
  status: number,
): DeflateParameters {
  const fail = (why: string) =>
    new HandshakeError(ErrorCode.InvalidExtensions, status, `invalid permessage-deflate response: ${why}`);
  const answered = parseParameters(response, false);
  if (answered === null) throw fail('unknown parameter or invalid value');
  // RFC 7692 §7.1.1.1: we offered server_no_context_takeover, so the server must have accepted it.
  if (options.serverNoContextTakeover && !answered.serverNoContextTakeover) {
    throw fail('server_no_context_takeover was required');
  }
  const offeredServerBits = configuredBits(options.serverMaxWindowBits);
  if (
    offeredServerBits !== undefined &&
    (answered.serverMaxWindowBits ?? MAX_WINDOW_BITS) > offeredServerBits
  ) {
    throw fail('server_max_window_bits larger than offered');
  }
  // RFC 7692 §7.1.2.2: a response may carry client_max_window_bits only if the offer did.
  const offeredClientBits = configuredBits(options.clientMaxWindowBits);
  if (answered.clientMaxWindowBits !== undefined) {
    if (options.clientMaxWindowBits === false) throw fail('client_max_window_bits was not offered');
    if (offeredClientBits !== undefined && (answered.clientMaxWindowBits as number) > offeredClientBits) {
      throw fail('client_max_window_bits larger than offered');
    }
  }
  return {
    serverNoContextTakeover: answered.serverNoContextTakeover,
    clientNoContextTakeover: answered.clientNoContextTakeover || options.clientNoContextTakeover === true,
    serverMaxWindowBits: answered.serverMaxWindowBits ?? MAX_WINDOW_BITS,
    clientMaxWindowBits:
      (answered.clientMaxWindowBits as number | undefined) ?? offeredClientBits ?? MAX_WINDOW_BITS,
  };
}
