/**
 * A tiny, strict base64 codec (RFC 4648 §4, the standard alphabet with `=` padding).
 *
 * The handshake needs base64 twice: to encode the 16-byte `Sec-WebSocket-Key` and the 20-byte
 * SHA-1 digest behind `Sec-WebSocket-Accept`, and to check that a received key "when decoded, is 16
 * bytes in length" (RFC 6455 §4.2.1 item 5). Writing it by hand keeps the pure core free of `Buffer`
 * and makes the decoder strict: it rejects everything that is not the one canonical encoding.
 */

const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';

/** ASCII code → 6-bit value, or -1 for characters outside the alphabet. */
const DECODE_TABLE: Int8Array = (() => {
  const table = new Int8Array(128).fill(-1);
  for (let i = 0; i < ALPHABET.length; i++) table[ALPHABET.charCodeAt(i)] = i;
  return table;
})();

const PAD = 0x3d; // '='

/**
 * Encodes bytes as padded base64 (RFC 4648 §4).
 *
 * @param bytes - The bytes to encode.
 * @returns The base64 text; its length is always a multiple of 4.
 * @throws Never.
 */
export function encodeBase64(bytes: Uint8Array): string {
  let out = '';
  const full = bytes.length - (bytes.length % 3);
  for (let i = 0; i < full; i += 3) {
    const n = (bytes[i]! << 16) | (bytes[i + 1]! << 8) | bytes[i + 2]!;
    out += ALPHABET[n >>> 18]! + ALPHABET[(n >>> 12) & 63]! + ALPHABET[(n >>> 6) & 63]! + ALPHABET[n & 63]!;
  }
  const remaining = bytes.length - full;
  if (remaining === 1) {
    const n = bytes[full]! << 16;
    out += `${ALPHABET[n >>> 18]!}${ALPHABET[(n >>> 12) & 63]!}==`;
  } else if (remaining === 2) {
    const n = (bytes[full]! << 16) | (bytes[full + 1]! << 8);
    out += `${ALPHABET[n >>> 18]!}${ALPHABET[(n >>> 12) & 63]!}${ALPHABET[(n >>> 6) & 63]!}=`;
  }
  return out;
}

/** 6-bit value of the character at `index`, or -1 when it is not in the alphabet. */
function sextet(text: string, index: number): number {
  const code = text.charCodeAt(index);
  return code < 128 ? DECODE_TABLE[code]! : -1;
}

/**
 * Decodes strict, canonical base64 (RFC 4648 §4): standard alphabet, padding required, no
 * whitespace, and the unused low bits of the last character zero (RFC 4648 §3.5: "decoders MAY
 * chose to reject an encoding if the pad bits have not been set to zero"). We do, so that each byte
 * string has exactly one accepted spelling.
 *
 * @param text - The base64 text.
 * @returns The decoded bytes, or `null` when `text` is not strict canonical base64.
 * @throws Never.
 */
export function decodeBase64(text: string): Uint8Array | null {
  const length = text.length;
  if (length % 4 !== 0) return null;
  if (length === 0) return new Uint8Array(0);
  let padding = 0;
  if (text.charCodeAt(length - 1) === PAD) padding = text.charCodeAt(length - 2) === PAD ? 2 : 1;
  const out = new Uint8Array((length / 4) * 3 - padding);
  const fullGroups = padding === 0 ? length : length - 4;
  let o = 0;
  for (let i = 0; i < fullGroups; i += 4) {
    const a = sextet(text, i);
    const b = sextet(text, i + 1);
    const c = sextet(text, i + 2);
    const d = sextet(text, i + 3);
    if ((a | b | c | d) < 0) return null;
    const n = (a << 18) | (b << 12) | (c << 6) | d;
    out[o++] = n >>> 16;
    out[o++] = (n >>> 8) & 0xff;
    out[o++] = n & 0xff;
  }
  if (padding === 0) return out;
  const i = length - 4;
  const a = sextet(text, i);
  const b = sextet(text, i + 1);
  if ((a | b) < 0) return null;
  if (padding === 2) {
    // "xx==": 12 bits carry one byte; the low 4 bits of the second character must be zero.
    if ((b & 0x0f) !== 0) return null;
    out[o] = (a << 2) | (b >>> 4);
    return out;
  }
  // "xxx=": 18 bits carry two bytes; the low 2 bits of the third character must be zero.
  const c = sextet(text, i + 2);
  if (c < 0 || (c & 0x03) !== 0) return null;
  const n = (a << 18) | (b << 12) | (c << 6);
  out[o++] = n >>> 16;
  out[o] = (n >>> 8) & 0xff;
  return out;
}
