/**
 * The bytes of one message on a Redis channel: a 13-byte header, the target, then the payload as it
 * is (binary payloads are not base64'd, text stays its UTF-8 bytes).
 *
 *   offset  size  field
 *   0       1     magic 0x73 ('s')
 *   1       1     version (1)
 *   2       1     flags: bits 0–1 kind (0 broadcast, 1 topic, 2 user), bit 7 binary
 *   3       8     publisher id (random per adapter: a process skips its own messages)
 *   11      2     target length in bytes (big-endian)
 *   13      n     target (topic or user id, UTF-8; empty for a broadcast)
 *   13 + n  rest  payload
 *
 * The target travels although the channel names it too: a process checks they agree, so that a
 * message published by something else on our prefix is reported as malformed, not delivered.
 */
import { isUtf8 } from 'node:buffer';

/** What a message is addressed to (the same values as sockwire's `FanOutKind`). */
export type Kind = 'broadcast' | 'topic' | 'user';

/** A decoded envelope. */
export interface Envelope {
  readonly publisher: Buffer;
  readonly kind: Kind;
  readonly target: string;
  readonly binary: boolean;
  readonly data: Buffer;
}

const MAGIC = 0x73;
const VERSION = 1;
/** Bytes before the target. */
export const HEADER_SIZE = 13;
/** Bytes of a publisher id. */
export const PUBLISHER_ID_SIZE = 8;
/** Longest target in bytes (its length is a 16-bit field). */
export const MAX_TARGET_BYTES = 0xffff;

const KINDS: readonly Kind[] = ['broadcast', 'topic', 'user'];
const KIND_CODE: Readonly<Record<Kind, number>> = { broadcast: 0, topic: 1, user: 2 };
const BINARY = 0x80;

/**
 * Encodes one message (one copy of the payload, into a buffer from Node's pool when small).
 * @throws {RangeError} when the target is longer than {@link MAX_TARGET_BYTES} bytes.
 */
export function encodeEnvelope(
  publisher: Buffer,
  kind: Kind,
  target: string,
  binary: boolean,
  data: Uint8Array,
): Buffer {
  const targetBytes = Buffer.byteLength(target);
  if (targetBytes > MAX_TARGET_BYTES) {
    throw new RangeError(`a topic or user id is at most ${MAX_TARGET_BYTES} bytes, got ${targetBytes}`);
  }
  const out = Buffer.allocUnsafe(HEADER_SIZE + targetBytes + data.byteLength);
  out[0] = MAGIC;
  out[1] = VERSION;
  out[2] = KIND_CODE[kind] | (binary ? BINARY : 0);
  publisher.copy(out, 3, 0, PUBLISHER_ID_SIZE);
  out.writeUInt16BE(targetBytes, 11);
  out.write(target, HEADER_SIZE, 'utf8');
  out.set(data, HEADER_SIZE + targetBytes);
  return out;
}

/**
 * Decodes an envelope, or says what is wrong with it (a string) for anything not written by
 * {@link encodeEnvelope}. The payload is a view of `bytes`, not a copy.
 */
export function decodeEnvelope(bytes: Buffer): Envelope | string {
  if (bytes.length < HEADER_SIZE) return `${bytes.length} bytes, shorter than the ${HEADER_SIZE}-byte header`;
  if (bytes[0] !== MAGIC) return 'not a sockwire envelope (bad magic byte)';
  if (bytes[1] !== VERSION) return `unknown envelope version ${bytes[1]}`;
  const flags = bytes[2]!;
  const kind = KINDS[flags & 0x03];
  if (kind === undefined || (flags & 0x7c) !== 0) return `unknown flags 0x${flags.toString(16)}`;
  const targetBytes = bytes.readUInt16BE(11);
  if (HEADER_SIZE + targetBytes > bytes.length) return 'the target runs past the end of the message';
  const targetRaw = bytes.subarray(HEADER_SIZE, HEADER_SIZE + targetBytes);
  // A topic or user id is a JavaScript string; bytes that are not UTF-8 cannot have come from one.
  if (!isUtf8(targetRaw)) return 'the target is not UTF-8';
  const target = targetRaw.toString('utf8');
  return {
    publisher: bytes.subarray(3, 3 + PUBLISHER_ID_SIZE),
    kind,
    target,
    binary: (flags & BINARY) !== 0,
    data: bytes.subarray(HEADER_SIZE + targetBytes),
  };
}
