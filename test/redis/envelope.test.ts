/**
 * The Redis adapter's wire format (packages/redis-adapter/src/envelope.ts), without Redis: every kind
 * round-trips with its payload's bytes intact, and everything else is named as malformed.
 */
import { describe, expect, it } from 'vitest';
import { decodeEnvelope, encodeEnvelope, type Kind } from '../../packages/redis-adapter/src/index.ts';

const ID = Buffer.from('0102030405060708', 'hex');

describe('the envelope', () => {
  it.each<[Kind, string, boolean, Buffer]>([
    ['broadcast', '', false, Buffer.from('hello')],
    ['topic', 'news', true, Buffer.from([0, 0xff, 0x80, 0])],
    ['user', 'ünïcødé 🌍', false, Buffer.from('héllo')],
    ['topic', 't', true, Buffer.alloc(0)],
  ])('round-trips a %s message for %j (binary %s)', (kind, target, binary, data) => {
    const bytes = encodeEnvelope(ID, kind, target, binary, data);
    expect(bytes.length).toBe(13 + Buffer.byteLength(target) + data.length);
    const decoded = decodeEnvelope(bytes);
    if (typeof decoded === 'string') throw new Error(decoded);
    expect(decoded.publisher.equals(ID)).toBe(true);
    expect({ kind: decoded.kind, target: decoded.target, binary: decoded.binary }).toEqual({
      kind,
      target,
      binary,
    });
    expect(decoded.data.equals(data)).toBe(true);
  });

  it('has the documented header', () => {
    const bytes = encodeEnvelope(ID, 'user', 'ab', true, Buffer.from('x'));
    expect(bytes.toString('hex')).toBe('73018201020304050607080002616278');
  });

  it('names what is wrong with anything else', () => {
    const good = encodeEnvelope(ID, 'topic', 'ab', false, Buffer.from('x'));
    const edit = (at: number, value: number) => {
      const copy = Buffer.from(good);
      copy[at] = value;
      return copy;
    };
    expect(decodeEnvelope(Buffer.from('short'))).toBe('5 bytes, shorter than the 13-byte header');
    expect(decodeEnvelope(edit(0, 0x7b))).toBe('not a sockwire envelope (bad magic byte)');
    expect(decodeEnvelope(edit(1, 2))).toBe('unknown envelope version 2');
    expect(decodeEnvelope(edit(2, 0x03))).toBe('unknown flags 0x3');
    expect(decodeEnvelope(edit(2, 0x05))).toBe('unknown flags 0x5');
    expect(decodeEnvelope(edit(12, 200))).toBe('the target runs past the end of the message');
    expect(decodeEnvelope(edit(13, 0xff))).toBe('the target is not UTF-8');
  });

  it('refuses a target over 65,535 bytes', () => {
    expect(() => encodeEnvelope(ID, 'topic', 'x'.repeat(65_536), false, Buffer.alloc(0))).toThrow(RangeError);
  });
});
