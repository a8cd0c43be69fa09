/**
 * The two ways a peer's bytes break the protocol, as errors that carry their close code: one helper
 * each for the frame decoder and the connection, so the codes are chosen in one place.
 */
import { ErrorCode, type ErrorCodeString, ProtocolError } from '../errors.ts';
import { CloseCode } from './close-code.ts';

/**
 * A protocol violation (§7.4.1, 1002: "terminating the connection due to a protocol error"), to fail
 * the connection with (§7.1.7).
 */
export function protocolError(code: ErrorCodeString, message: string): ProtocolError {
  return new ProtocolError(code, CloseCode.ProtocolError, message);
}

/**
 * Text that is not UTF-8 (§8.1), and §7.4.1's 1007: "data within a message that was not consistent
 * with the type of the message (e.g., non-UTF-8 [RFC3629] data within a text message)".
 */
export function invalidUtf8(where: string): ProtocolError {
  return new ProtocolError(ErrorCode.InvalidUtf8, CloseCode.InvalidPayload, `invalid UTF-8 in ${where}`);
}
