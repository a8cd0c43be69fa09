/**
 * The body of a Close frame (§5.5.1): an optional 2-byte status code (§7.4) followed by an optional
 * UTF-8 reason. Encoding, parsing and the checks on what an application may send live here, once.
 */
import { ErrorCode, InvalidArgumentError, type ProtocolError } from '../errors.ts';
import { CloseCode, isValidReceivedCloseCode, isValidSentCloseCode } from './close-code.ts';
import { MAX_CONTROL_PAYLOAD_LENGTH } from './frame.ts';
import { invalidUtf8, protocolError } from './protocol-error.ts';

/**
 * The longest close reason, in bytes of UTF-8: §5.5 "All control frames MUST have a payload length
 * of 125 bytes or less", and the status code takes 2 of them.
 */
export const MAX_CLOSE_REASON_LENGTH = MAX_CONTROL_PAYLOAD_LENGTH - 2;

/** What a Close frame says: its status code (1005 when it had none, §7.1.5) and its reason. */
export interface ClosePayload {
  readonly code: number;
  readonly reason: string;
}

const textEncoder = new TextEncoder();
const textDecoder = new TextDecoder('utf-8', { fatal: true });
const EMPTY = new Uint8Array(0);

/**
 * Checks what an application asks to close with, before anything is sent.
 * @param code - 1000–1003, 1007–1014 or 3000–4999 (see `isValidSentCloseCode`); undefined: no status code.
 * @param reason - at most 123 bytes of UTF-8, and only with a code (§5.5.1: the reason follows the code).
 * @throws {InvalidArgumentError} for an invalid code, a reason without a code, or a reason too long.
 */
export function assertValidClose(code: number | undefined, reason: string): void {
  if (code !== undefined && !isValidSentCloseCode(code)) {
    throw new InvalidArgumentError(
      `invalid close code ${code}: use 1000 (normal closure), another code of §7.4.1 that an application may send (1001–1003, 1007–1014) or a code in 3000–4999 (§7.4.2)`,
    );
  }
  if (code === undefined && reason !== '') {
    throw new InvalidArgumentError('a close reason needs a close code');
  }
  encodeReason(reason);
}

/**
 * The body of a Close frame: nothing without a code, else the code in network byte order followed by
 * the reason in UTF-8 (§5.5.1: "the first two bytes of the body MUST be a 2-byte unsigned integer (in
 * network byte order) representing a status code ... Following the 2-byte integer, the body MAY
 * contain UTF-8-encoded data").
 * @throws {InvalidArgumentError} for a reason over 123 bytes of UTF-8.
 */
export function encodeClosePayload(code: number | undefined, reason: string): Uint8Array {
  if (code === undefined) return EMPTY;
  const reasonBytes = encodeReason(reason);
  const payload = new Uint8Array(2 + reasonBytes.length);
  payload[0] = code >>> 8;
  payload[1] = code & 0xff;
  payload.set(reasonBytes, 2);
  return payload;
}

/**
 * Reads a received Close body. §7.1.5: "If this Close control frame contains no status code, _The
 * WebSocket Connection Close Code_ is considered to be 1005."
 * @throws {ProtocolError} for a 1-byte body or a code not allowed on the wire (§7.4, 1002), or a
 *   reason that is not UTF-8 (§5.5.1, §8.1: 1007).
 */
export function parseClosePayload(payload: Uint8Array): ClosePayload {
  if (payload.length === 0) return { code: CloseCode.NoStatusReceived, reason: '' };
  // §5.5.1: a body starts with the 2-byte code; a single byte cannot be one.
  if (payload.length === 1) {
    throw protocolError(ErrorCode.InvalidClosePayload, 'close frame with a 1-byte payload');
  }
  const code = (payload[0]! << 8) | payload[1]!;
  // §7.4.1/§7.4.2: 1005, 1006, 1015 and unassigned codes never appear in a Close frame.
  if (!isValidReceivedCloseCode(code)) {
    throw protocolError(ErrorCode.InvalidCloseCode, `invalid close code ${code} received`);
  }
  let reason: string;
  try {
    reason = textDecoder.decode(payload.subarray(2));
  } catch {
    throw invalidUtf8('close reason') satisfies ProtocolError;
  }
  return { code, reason };
}

function encodeReason(reason: string): Uint8Array {
  const bytes = reason === '' ? EMPTY : textEncoder.encode(reason);
  if (bytes.length > MAX_CLOSE_REASON_LENGTH) {
    throw new InvalidArgumentError('a close reason must be at most 123 bytes of UTF-8 (RFC 6455 §5.5)');
  }
  return bytes;
}
