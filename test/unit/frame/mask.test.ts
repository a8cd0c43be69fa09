import { afterEach, describe, expect, it } from 'vitest';
import { applyMask, maskKeyNumber, setMaskWordSize } from '../../../src/frame/mask.ts';
import { seededRandom } from '../../helpers/bytes.ts';

function referenceMask(data: Uint8Array, key: Uint8Array, offset: number): Uint8Array {
  return data.map((byte, i) => byte ^ key[(offset + i) % 4]!);
}

describe('RFC 6455 §5.3 masking', () => {
  it('masks the §5.7 "Hello" example', () => {
    const data = Uint8Array.from(Buffer.from('Hello'));
    applyMask(data, Uint8Array.of(0x37, 0xfa, 0x21, 0x3d));
    expect(Buffer.from(data).toString('hex')).toBe('7f9f4d5158');
  });

  afterEach(() => setMaskWordSize(64));

  it.each([64, 32] as const)(
    'matches a byte-by-byte reference for every length, alignment and offset (%i-bit words)',
    (bits) => {
      setMaskWordSize(bits);
      const random = seededRandom(42);
      const backing = new Uint8Array(300);
      // Lengths on both sides of the switch from the byte loop to the word loop (128 B); one key
      // with its top bit set, where a signed shift would go wrong.
      const lengths = [...Array.from({ length: 40 }, (_, i) => i * 7), 127, 128, 129, 131];
      for (const keyNumber of [0x12345678, 0xf0e1d2c3]) {
        const key = Uint8Array.of(
          keyNumber >>> 24,
          (keyNumber >>> 16) & 0xff,
          (keyNumber >>> 8) & 0xff,
          keyNumber & 0xff,
        );
        for (const length of lengths) {
          // Eight alignments: the 64-bit loop's unaligned head is 0 to 7 bytes.
          for (let alignment = 0; alignment < 8; alignment++) {
            for (let offset = 0; offset < 4; offset++) {
              const view = backing.subarray(alignment, alignment + length);
              for (let i = 0; i < view.length; i++) view[i] = Math.floor(random() * 256);
              const expected = referenceMask(view, key, offset);
              applyMask(view, key, offset);
              expect(Array.from(view)).toEqual(Array.from(expected));
              // The key as the decoder holds it (one number) masks the same way: masking twice restores.
              applyMask(view, keyNumber, offset);
              expect(Array.from(view)).toEqual(Array.from(referenceMask(expected, key, offset)));
            }
          }
        }
      }
    },
  );

  it('reads a key as one number, its bytes in network order (byte 0 most significant)', () => {
    expect(maskKeyNumber(Uint8Array.of(0x37, 0xfa, 0x21, 0x3d))).toBe(0x37fa213d);
    expect(maskKeyNumber(Uint8Array.of(0xff, 0xff, 0xff, 0xff))).toBe(0xffffffff); // unsigned
    const data = Uint8Array.from(Buffer.from('Hello'));
    applyMask(data, 0x37fa213d);
    expect(Buffer.from(data).toString('hex')).toBe('7f9f4d5158'); // §5.7
  });

  it('unmasks a payload chunk by chunk with offsets', () => {
    const random = seededRandom(7);
    const key = Uint8Array.of(1, 2, 3, 4);
    const original = Uint8Array.from({ length: 1000 }, () => Math.floor(random() * 256));
    const masked = referenceMask(original, key, 0);
    let at = 0;
    for (const size of [1, 3, 64, 5, 300, 627]) {
      applyMask(masked.subarray(at, at + size), key, at);
      at += size;
    }
    expect(Array.from(masked)).toEqual(Array.from(original));
  });
});
