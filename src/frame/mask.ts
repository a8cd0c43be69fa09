/**
 * Client-to-server masking, RFC 6455 §5.3.
 *
 * "Octet i of the transformed data ("transformed-octet-i") is the XOR of octet i of the original
 * data ("original-octet-i") with octet at index i modulo 4 of the masking key ("masking-key-octet-j"):
 *     j = i MOD 4
 *     transformed-octet-i = original-octet-i XOR masking-key-octet-j"
 *
 * Masking is its own inverse, so the same function masks and unmasks. It is the cost that decides
 * throughput for large messages, so the middle of the buffer is XORed a word at a time over an
 * aligned BigInt64Array (or Int32Array) view; the edges and short payloads go byte by byte.
 */

/** Below this many bytes a plain byte loop beats creating a typed-array view. */
const WORD_LOOP_THRESHOLD = 128;

/** The key rotated to a position and repeated over 8 bytes, read as one 64-bit or 32-bit word. */
const scratchBytes = new Uint8Array(8);
const scratchWord64 = new BigInt64Array(scratchBytes.buffer);
const scratchWord32 = new Int32Array(scratchBytes.buffer);

/**
 * The step of the word loop, in bytes. V8 (Node, Deno) compiles XORs on a BigInt64Array to machine
 * words: 8-byte steps run at about twice the speed of 4-byte ones. JavaScriptCore (Bun) allocates a
 * BigInt for each such step, 100 times slower, and is fastest with 4-byte steps. The core does not
 * look at the runtime it runs on (it is pure), so the shell that binds connections to sockets says
 * which ({@link setMaskWordSize}).
 */
let wordBytes: 4 | 8 = 8;

/** Sets the word size of the masking loop for this runtime: 64 bits (the default) or 32. */
export function setMaskWordSize(bits: 32 | 64): void {
  wordBytes = bits === 64 ? 8 : 4;
}

/**
 * The masking key as one number: its 4 bytes in network order, byte 0 the most significant (as
 * `DataView.getUint32` reads them from the frame header), so that a decoded header holds its key
 * without an array of its own.
 */
export function maskKeyNumber(maskKey: Uint8Array): number {
  return ((maskKey[0]! << 24) | (maskKey[1]! << 16) | (maskKey[2]! << 8) | maskKey[3]!) >>> 0;
}

/**
 * XORs `data` in place with `maskKey`, as if `data` started at byte `offset` of the frame payload.
 * The offset lets a payload be unmasked chunk by chunk as it arrives from the socket.
 *
 * @param data - bytes to transform in place.
 * @param maskKey - the masking key from the frame header (§5.2 "Masking-key"): its 4 bytes, or the
 *   number they make ({@link maskKeyNumber}).
 * @param offset - position of `data[0]` within the frame payload; only `offset % 4` matters.
 */
export function applyMask(data: Uint8Array, maskKey: Uint8Array | number, offset = 0): void {
  const key = typeof maskKey === 'number' ? maskKey : maskKeyNumber(maskKey);
  const length = data.length;
  let i = 0;
  if (length >= WORD_LOOP_THRESHOLD) {
    // Bytes up to the first address aligned to a word go one at a time.
    const head = (wordBytes - (data.byteOffset & (wordBytes - 1))) & (wordBytes - 1);
    for (; i < head; i++) data[i]! ^= keyByte(key, offset + i);
    // The key rotated so that its first byte lines up with data[i]; native byte order is fine
    // because the word is built from, and applied to, bytes in memory order.
    for (let j = 0; j < 8; j++) scratchBytes[j] = keyByte(key, offset + i + j);
    const start = data.byteOffset + i;
    if (wordBytes === 8) {
      const wordCount = (length - i) >>> 3;
      xorWords(new BigInt64Array(data.buffer, start, wordCount), scratchWord64[0]!);
      i += wordCount << 3;
    } else {
      const wordCount = (length - i) >>> 2;
      xorWords(new Int32Array(data.buffer, start, wordCount), scratchWord32[0]!);
      i += wordCount << 2;
    }
  }
  // Short payloads and the tail: four bytes a step, with the key rotated so that its first byte
  // lines up with data[i].
  const rotated = rotateKey(key, offset + i);
  const b0 = rotated >>> 24;
  const b1 = (rotated >>> 16) & 0xff;
  const b2 = (rotated >>> 8) & 0xff;
  const b3 = rotated & 0xff;
  const stepsEnd = i + ((length - i) & ~3);
  for (; i < stepsEnd; i += 4) {
    data[i]! ^= b0;
    data[i + 1]! ^= b1;
    data[i + 2]! ^= b2;
    data[i + 3]! ^= b3;
  }
  if (i < length) data[i]! ^= b0;
  if (i + 1 < length) data[i + 1]! ^= b1;
  if (i + 2 < length) data[i + 2]! ^= b2;
}

/**
 * XORs every word of `words` with `maskWord`: a BigInt64Array with a bigint, or an Int32Array with a
 * number. One loop serves both because each runtime only ever passes one of the two pairs, so the
 * engine compiles it for that one; TypeScript cannot type `^` over `number | bigint`, hence the
 * casts. Unrolled by 8: on V8 about twice the throughput of the plain loop, for 64-bit words 2.5
 * times (bench/micro/mask).
 */
function xorWords(words: BigInt64Array | Int32Array, maskWord: bigint | number): void {
  const view = words as Int32Array;
  const mask = maskWord as number;
  const wordCount = view.length;
  const unrolledEnd = wordCount & ~7;
  let w = 0;
  for (; w < unrolledEnd; w += 8) {
    view[w]! ^= mask;
    view[w + 1]! ^= mask;
    view[w + 2]! ^= mask;
    view[w + 3]! ^= mask;
    view[w + 4]! ^= mask;
    view[w + 5]! ^= mask;
    view[w + 6]! ^= mask;
    view[w + 7]! ^= mask;
  }
  for (; w < wordCount; w++) view[w]! ^= mask;
}

/** The key as a number whose most significant byte is byte `position % 4` of the key. */
function rotateKey(key: number, position: number): number {
  const shift = (position & 3) << 3;
  // A shift by 32 is a shift by 0 in JavaScript, so position % 4 === 0 gives the key itself.
  return ((key << shift) | (key >>> (32 - shift))) >>> 0;
}

/** Byte `position % 4` of the key (§5.3: "j = i MOD 4"). */
function keyByte(key: number, position: number): number {
  return (key >>> ((3 - (position & 3)) << 3)) & 0xff;
}
