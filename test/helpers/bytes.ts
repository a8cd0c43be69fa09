/** Test helpers for byte-level vectors. */
import { createHash, randomBytes } from 'node:crypto';

export function hex(text: string): Uint8Array {
  return Uint8Array.from(Buffer.from(text.replace(/\s+/g, ''), 'hex'));
}

export function toHex(bytes: Uint8Array | readonly Uint8Array[]): string {
  const list = bytes instanceof Uint8Array ? [bytes] : bytes;
  return Buffer.concat(list.map((b) => Buffer.from(b.buffer, b.byteOffset, b.length))).toString('hex');
}

export function sha1(input: string): Uint8Array {
  return createHash('sha1').update(input).digest();
}

/** Every way of splitting `bytes` into two pieces, plus one byte at a time. */
export function* splits(bytes: Uint8Array): Generator<Uint8Array[]> {
  for (let at = 0; at <= bytes.length; at++) {
    yield [bytes.slice(0, at), bytes.slice(at)];
  }
  yield Array.from(bytes, (byte) => Uint8Array.of(byte));
}

/** A deterministic pseudo-random generator (mulberry32), so failures can be replayed. */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export const fixedMaskKey = () => Uint8Array.of(0x37, 0xfa, 0x21, 0x3d);
export const randomMaskKey = () => Uint8Array.from(randomBytes(4));
