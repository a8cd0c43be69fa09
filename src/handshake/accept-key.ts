/**
 * `Sec-WebSocket-Key` and `Sec-WebSocket-Accept` (RFC 6455 §1.3, §4.1, §4.2.1, §4.2.2).
 *
 * SHA-1 and randomness are injected so that this module stays pure and its tests deterministic.
 */

import { decodeBase64, encodeBase64 } from './base64.ts';

/**
 * The GUID the server concatenates with the client's key (RFC 6455 §1.3): "the server has to take
 * the value (as present in the header field, e.g., the base64-encoded [RFC4648] version minus any
 * leading and trailing whitespace) and concatenate this with the Globally Unique Identifier (GUID,
 * [RFC4122]) "258EAFA5-E914-47DA-95CA-C5AB0DC85B11" in string form".
 */
export const WEBSOCKET_GUID = '258EAFA5-E914-47DA-95CA-C5AB0DC85B11';

/** Number of random bytes in a `Sec-WebSocket-Key` (RFC 6455 §4.1 item 7). */
const KEY_BYTES = 16;

/**
 * Computes the `Sec-WebSocket-Accept` value for a client key.
 *
 * RFC 6455 §4.2.2 step 5.4: "A |Sec-WebSocket-Accept| header field. The value of this header field
 * is constructed by concatenating /key/, defined above in step 4 in Section 4.2.2, with the string
 * "258EAFA5-E914-47DA-95CA-C5AB0DC85B11", taking the SHA-1 hash of this concatenated value to
 * obtain a 20-byte value and base64-encoding (see Section 4 of [RFC4648]) this 20-byte hash."
 *
 * @param key - The `Sec-WebSocket-Key` value as received (already stripped of surrounding OWS).
 * @param sha1 - SHA-1 over the UTF-8 (here: ASCII) bytes of `input`, returning the 20-byte digest.
 * @returns The base64 accept value, e.g. `s3pPLMBiTxaQ9kYGzzhZRbK+xOo=` for the RFC sample key.
 * @throws {TypeError} When `sha1` does not return a 20-byte digest.
 */
export function computeAcceptKey(key: string, sha1: (input: string) => Uint8Array): string {
  const digest = sha1(key + WEBSOCKET_GUID);
  if (digest.length !== 20) {
    throw new TypeError(`sha1 must return a 20-byte digest, got ${digest.length} bytes`);
  }
  return encodeBase64(digest);
}

/**
 * Generates a fresh `Sec-WebSocket-Key`.
 *
 * RFC 6455 §4.1 item 7: "The request MUST include a header field with the name
 * |Sec-WebSocket-Key|. The value of this header field MUST be a nonce consisting of a randomly
 * selected 16-byte value that has been base64-encoded (see Section 4 of [RFC4648]). The nonce MUST
 * be selected randomly for each connection."
 *
 * @param randomBytes - Returns `n` cryptographically random bytes (e.g. `crypto.randomBytes`).
 * @returns A 24-character base64 key.
 * @throws {TypeError} When `randomBytes` does not return exactly 16 bytes.
 */
export function generateKey(randomBytes: (n: number) => Uint8Array): string {
  const bytes = randomBytes(KEY_BYTES);
  if (bytes.length !== KEY_BYTES) {
    throw new TypeError(`randomBytes(${KEY_BYTES}) returned ${bytes.length} bytes`);
  }
  return encodeBase64(bytes);
}

/**
 * Tells whether a `Sec-WebSocket-Key` value is acceptable.
 *
 * RFC 6455 §4.2.1 item 5: "A |Sec-WebSocket-Key| header field with a base64-encoded (see Section 4
 * of [RFC4648]) value that, when decoded, is 16 bytes in length."
 *
 * @param key - The header value (surrounding OWS already stripped by the head parser).
 * @returns `true` when `key` is canonical base64 of exactly 16 bytes.
 * @throws Never.
 */
export function isValidKey(key: string): boolean {
  // 16 bytes always encode to 24 characters; checking first keeps the decoder off huge inputs.
  if (key.length !== 24) return false;
  return decodeBase64(key)?.length === KEY_BYTES;
}
