import { describe, expect, it } from 'vitest';
import { Utf8Validator } from '../../../src/frame/utf8.ts';
import { hex } from '../../helpers/bytes.ts';

const valid = ['Hello-µ@ßöäüàá-UTF-8!!', 'κόσμε', '\u{10FFFF}\u{10000}\uD7FF\uE000\uFFFD', ''];
// Bytes that no valid UTF-8 stream may contain at that point (RFC 3629 §4), with the index where a
// fail-fast validator knows it.
const invalid: [string, number][] = [
  ['c0 80', 0], // overlong NUL
  ['c1 bf', 0],
  ['e0 80 80', 1], // overlong 3-byte
  ['ed a0 80', 1], // surrogate U+D800
  ['f0 80 80 80', 1], // overlong 4-byte
  ['f4 90 80 80', 1], // above U+10FFFF
  ['f5 80 80 80', 0],
  ['ff', 0],
  ['80', 0], // stray continuation
  ['ce ba e1 bd b9 cf 83 ce bc ce b5 ed a0 80 65 64 69 74 65 64', 12], // Autobahn 6.3.1 style
];

describe('RFC 3629 §4 UTF-8 validation, streaming (RFC 6455 §8.1)', () => {
  it('accepts valid text under every split', () => {
    for (const text of valid) {
      const bytes = Uint8Array.from(Buffer.from(text));
      for (let at = 0; at <= bytes.length; at++) {
        const validator = new Utf8Validator();
        expect(validator.write(bytes.subarray(0, at))).toBe(true);
        expect(validator.end(bytes.subarray(at))).toBe(true);
      }
    }
  });

  it('fails in the chunk where the bad byte arrives, byte by byte', () => {
    for (const [vector, failAt] of invalid) {
      const bytes = hex(vector);
      const validator = new Utf8Validator();
      let failedAt = -1;
      for (let i = 0; i < bytes.length; i++) {
        if (!validator.write(bytes.subarray(i, i + 1))) {
          failedAt = i;
          break;
        }
      }
      expect(failedAt, vector).toBe(failAt);
    }
  });

  it('rejects invalid bytes fed in one chunk, and a truncated character at the end', () => {
    for (const [vector] of invalid) {
      expect(new Utf8Validator().end(hex(vector)), vector).toBe(false);
    }
    const validator = new Utf8Validator();
    expect(validator.write(hex('48 e2 82'))).toBe(true); // "H" and 2 of the 3 bytes of "€"
    expect(validator.atBoundary).toBe(false);
    expect(validator.end()).toBe(false);
  });

  it('agrees with Buffer decoding on every 2-byte sequence', () => {
    for (let a = 0; a < 256; a++) {
      for (let b = 0; b < 256; b++) {
        const bytes = Uint8Array.of(a, b);
        const expected = Buffer.from(Buffer.from(bytes).toString('utf8')).equals(Buffer.from(bytes));
        expect(new Utf8Validator().end(bytes)).toBe(expected);
      }
    }
  });
});
