/** The Close body (§5.5.1, §7.4): encoded, parsed and checked in src/frame/close.ts only. */
import { describe, expect, it } from 'vitest';
import { ErrorCode, InvalidArgumentError, ProtocolError } from '../../../src/errors.ts';
import {
  assertValidClose,
  encodeClosePayload,
  MAX_CLOSE_REASON_LENGTH,
  parseClosePayload,
} from '../../../src/frame/close.ts';
import { toHex } from '../../helpers/bytes.ts';

describe('§5.5.1 the Close body', () => {
  it('is empty without a code, else the code in network byte order and the UTF-8 reason', () => {
    expect(encodeClosePayload(undefined, '')).toHaveLength(0);
    expect(toHex(encodeClosePayload(1000, ''))).toBe('03e8');
    expect(toHex(encodeClosePayload(4000, 'é'))).toBe('0fa0c3a9');
  });

  it('round-trips through parseClosePayload; an empty body is 1005 (§7.1.5)', () => {
    expect(parseClosePayload(encodeClosePayload(3001, 'bye'))).toEqual({ code: 3001, reason: 'bye' });
    expect(parseClosePayload(new Uint8Array(0))).toEqual({ code: 1005, reason: '' });
  });

  it('a reason is at most 123 bytes of UTF-8 (§5.5)', () => {
    expect(MAX_CLOSE_REASON_LENGTH).toBe(123);
    expect(encodeClosePayload(1000, 'x'.repeat(123))).toHaveLength(125);
    expect(() => encodeClosePayload(1000, 'é'.repeat(62))).toThrow(InvalidArgumentError);
  });

  it('parsing fails the connection: 1 byte (1002), a code not for the wire (1002), bad UTF-8 (1007)', () => {
    const parse = (bytes: number[]) => {
      try {
        parseClosePayload(Uint8Array.from(bytes));
      } catch (error) {
        if (error instanceof ProtocolError) return [error.code, error.closeCode];
      }
      return undefined;
    };
    expect(parse([0x03])).toEqual([ErrorCode.InvalidClosePayload, 1002]);
    expect(parse([0x03, 0xed])).toEqual([ErrorCode.InvalidCloseCode, 1002]); // 1005 (§7.4.1)
    expect(parse([0x03, 0xe8, 0xff])).toEqual([ErrorCode.InvalidUtf8, 1007]);
  });
});

describe('§7.4 what an application may close with', () => {
  it('takes a valid code with or without a reason, or nothing', () => {
    expect(() => assertValidClose(undefined, '')).not.toThrow();
    expect(() => assertValidClose(1000, 'ok')).not.toThrow();
    expect(() => assertValidClose(4999, '')).not.toThrow();
  });

  it('refuses reserved codes, a reason without a code and a reason too long, as argument errors', () => {
    for (const [code, reason] of [
      [1005, ''],
      [1006, ''],
      [2999, ''],
      [5000, ''],
      [undefined, 'why'],
      [1000, 'x'.repeat(124)],
    ] as const) {
      expect(() => assertValidClose(code, reason)).toThrow(InvalidArgumentError);
    }
  });
});
