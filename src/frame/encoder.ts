/**
 * Frame encoder, RFC 6455 §5.2.
 *
 * `encodeFrame` returns the frame as a list of byte arrays to write in one `writev`: the header, then
 * the payload itself when it goes unmasked (servers), so a large payload is never copied. A masked
 * frame (clients) needs a masked copy anyway, so it is built as a single array.
 *
 * `Buffer.allocUnsafe` is used for the bytes we fully overwrite: it draws small headers from Node's
 * pool and skips zero-filling large masked copies.
 */
import { Buffer } from 'node:buffer';
import { MAX_16BIT_PAYLOAD_LENGTH, MAX_SHORT_PAYLOAD_LENGTH, RsvBit } from './frame.ts';
import { applyMask } from './mask.ts';
import type { Opcode } from './opcode.ts';

export interface EncodeOptions {
  /** §5.2 FIN: false for all but the last fragment of a message. Default true. */
  readonly fin?: boolean;
  /** RSV1, set by permessage-deflate on the first frame of a compressed message (RFC 7692 §6). */
  readonly rsv1?: boolean;
  /** §5.3: a client masks every frame with a fresh key; servers pass none. */
  readonly maskKey?: Uint8Array | undefined;
}

/** Size of the header for a payload of `payloadLength` bytes. */
export function frameHeaderLength(payloadLength: number, masked: boolean): number {
  const lengthBytes =
    payloadLength <= MAX_SHORT_PAYLOAD_LENGTH ? 0 : payloadLength <= MAX_16BIT_PAYLOAD_LENGTH ? 2 : 8;
  return 2 + lengthBytes + (masked ? 4 : 0);
}

/**
 * Writes a frame header into `target` at `at`; returns the position after it.
 * §5.2: "the minimal number of bytes MUST be used to encode the length".
 */
export function writeFrameHeader(
  target: Uint8Array,
  at: number,
  opcode: Opcode,
  payloadLength: number,
  options: EncodeOptions = {},
): number {
  const { fin = true, rsv1 = false, maskKey } = options;
  target[at++] = (fin ? 0x80 : 0) | (rsv1 ? RsvBit.rsv1 : 0) | opcode;
  const maskBit = maskKey === undefined ? 0 : 0x80;
  if (payloadLength <= MAX_SHORT_PAYLOAD_LENGTH) {
    target[at++] = maskBit | payloadLength;
  } else if (payloadLength <= MAX_16BIT_PAYLOAD_LENGTH) {
    target[at++] = maskBit | 126;
    target[at++] = payloadLength >>> 8;
    target[at++] = payloadLength & 0xff;
  } else {
    target[at++] = maskBit | 127;
    const high = Math.floor(payloadLength / 0x100000000);
    const low = payloadLength >>> 0;
    target[at++] = high >>> 24;
    target[at++] = (high >>> 16) & 0xff;
    target[at++] = (high >>> 8) & 0xff;
    target[at++] = high & 0xff;
    target[at++] = low >>> 24;
    target[at++] = (low >>> 16) & 0xff;
    target[at++] = (low >>> 8) & 0xff;
    target[at++] = low & 0xff;
  }
  if (maskKey !== undefined) {
    target[at++] = maskKey[0]!;
    target[at++] = maskKey[1]!;
    target[at++] = maskKey[2]!;
    target[at++] = maskKey[3]!;
  }
  return at;
}

/** Encodes just the header of a frame. */
export function encodeFrameHeader(
  opcode: Opcode,
  payloadLength: number,
  options: EncodeOptions = {},
): Uint8Array {
  const header = Buffer.allocUnsafe(frameHeaderLength(payloadLength, options.maskKey !== undefined));
  writeFrameHeader(header, 0, opcode, payloadLength, options);
  return header;
}

/**
 * Encodes one frame. Unmasked: `[header, payload]` (payload not copied). Masked: `[frame]`, a single
 * array holding the header and a masked copy of the payload (the caller's bytes are left untouched).
 */
export function encodeFrame(opcode: Opcode, payload: Uint8Array, options: EncodeOptions = {}): Uint8Array[] {
  const { maskKey } = options;
  if (maskKey === undefined) {
    const header = encodeFrameHeader(opcode, payload.length, options);
    return payload.length === 0 ? [header] : [header, payload];
  }
  const headerLength = frameHeaderLength(payload.length, true);
  const frame = Buffer.allocUnsafe(headerLength + payload.length);
  writeFrameHeader(frame, 0, opcode, payload.length, options);
  frame.set(payload, headerLength);
  applyMask(frame.subarray(headerLength), maskKey);
  return [frame];
}

/**
 * Encodes one frame as a single array (header and payload together), for a frame that may later be
 * replaced in a queue as a whole (a Pong, §5.5.3).
 */
export function encodeFrameAsOne(
  opcode: Opcode,
  payload: Uint8Array,
  options: EncodeOptions = {},
): Uint8Array {
  if (options.maskKey !== undefined) return encodeFrame(opcode, payload, options)[0]!;
  const headerLength = frameHeaderLength(payload.length, false);
  const frame = Buffer.allocUnsafe(headerLength + payload.length);
  writeFrameHeader(frame, 0, opcode, payload.length, options);
  frame.set(payload, headerLength);
  return frame;
}
