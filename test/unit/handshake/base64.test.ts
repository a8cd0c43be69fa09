import { describe, expect, it } from 'vitest';
import { decodeBase64, encodeBase64 } from '../../../src/handshake/base64.ts';
import { encoder } from './helpers.ts';

// RFC 4648 §10 test vectors.
const VECTORS: ReadonlyArray<readonly [string, string]> = [
  ['', ''],
  ['f', 'Zg=='],
  ['fo', 'Zm8='],
  ['foo', 'Zm9v'],
  ['foob', 'Zm9vYg=='],
  ['fooba', 'Zm9vYmE='],
  ['foobar', 'Zm9vYmFy'],
];

describe('RFC 4648 §4 base64', () => {
  it.each(VECTORS)('encodes %j as %j (§10 vectors)', (plain, encoded) => {
    expect(encodeBase64(encoder.encode(plain))).toBe(encoded);
  });

  it.each(VECTORS)('decodes %j back from %j', (plain, encoded) => {
    expect(decodeBase64(encoded)).toEqual(encoder.encode(plain));
  });

  it('round-trips every length 0..64 of pseudo-random bytes and agrees with Buffer', () => {
    let seed = 12345;
    for (let length = 0; length <= 64; length++) {
      const bytes = new Uint8Array(length);
      for (let i = 0; i < length; i++) {
        seed = (seed * 1103515245 + 12345) >>> 0;
        bytes[i] = seed >>> 24;
      }
      const text = encodeBase64(bytes);
      expect(text).toBe(Buffer.from(bytes).toString('base64'));
      expect(decodeBase64(text)).toEqual(bytes);
    }
  });

  it.each([
    ['missing padding', 'Zg'],
    ['length not a multiple of 4', 'Zm9vY'],
    ['non-zero pad bits before ==', 'Zh=='],
    ['non-zero pad bits before =', 'Zm9='],
    ['only padding', '===='],
    ['three padding characters', 'Z==='],
    ['padding in the middle', 'Zg==Zg=='],
    ['padding then data', 'Zg=a'],
    ['URL-safe alphabet', 'ab-_'],
    ['whitespace', 'Zm9v Zm9v'],
    ['embedded newline', 'Zm9v\nAAA'],
    ['non-ASCII character', 'Zm9\u00e9'],
    ['non-Latin character', 'Zm9\u0100'],
  ])('rejects %s', (_label, text) => {
    expect(decodeBase64(text)).toBeNull();
  });
});
