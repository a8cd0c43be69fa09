import { describe, expect, it } from 'vitest';
import {
  computeAcceptKey,
  generateKey,
  isValidKey,
  WEBSOCKET_GUID,
} from '../../../src/handshake/accept-key.ts';
import { sha1 } from './helpers.ts';

describe('RFC 6455 §1.3 Sec-WebSocket-Accept', () => {
  it('computes the sample accept value from the sample key', () => {
    expect(computeAcceptKey('dGhlIHNhbXBsZSBub25jZQ==', sha1)).toBe('s3pPLMBiTxaQ9kYGzzhZRbK+xOo=');
  });

  it('hashes the key as a string concatenated with the GUID', () => {
    const seen: string[] = [];
    computeAcceptKey('abc', (input) => {
      seen.push(input);
      return sha1(input);
    });
    expect(seen).toEqual([`abc${WEBSOCKET_GUID}`]);
    expect(WEBSOCKET_GUID).toBe('258EAFA5-E914-47DA-95CA-C5AB0DC85B11');
  });

  it('throws TypeError when the injected sha1 does not return 20 bytes', () => {
    expect(() => computeAcceptKey('x', () => new Uint8Array(16))).toThrow(TypeError);
  });
});

describe('RFC 6455 §4.1 item 7 Sec-WebSocket-Key generation', () => {
  it('base64-encodes exactly 16 injected random bytes', () => {
    const requested: number[] = [];
    const key = generateKey((n) => {
      requested.push(n);
      return Uint8Array.from({ length: n }, (_, i) => i);
    });
    expect(requested).toEqual([16]);
    expect(key).toBe('AAECAwQFBgcICQoLDA0ODw==');
    expect(isValidKey(key)).toBe(true);
  });

  it('throws TypeError when randomBytes returns the wrong length', () => {
    expect(() => generateKey(() => new Uint8Array(15))).toThrow(TypeError);
  });
});

describe('RFC 6455 §4.2.1 item 5 Sec-WebSocket-Key validation', () => {
  it('accepts base64 of 16 bytes', () => {
    expect(isValidKey('dGhlIHNhbXBsZSBub25jZQ==')).toBe(true);
    expect(isValidKey('AAAAAAAAAAAAAAAAAAAAAA==')).toBe(true);
  });

  it.each([
    ['empty', ''],
    ['unpadded', 'dGhlIHNhbXBsZSBub25jZQ'],
    ['15 bytes', 'AAAAAAAAAAAAAAAAAAAA'],
    ['17 bytes', 'AAAAAAAAAAAAAAAAAAAAAAA='],
    ['20 bytes (an accept value)', 's3pPLMBiTxaQ9kYGzzhZRbK+xOo='],
    ['non-canonical pad bits', 'dGhlIHNhbXBsZSBub25jZR=='],
    ['invalid character', 'dGhlIHNhbXBsZSBub25jZ!=='],
    ['surrounding space', ' dGhlIHNhbXBsZSBub25jZQ=='],
    ['two keys joined', 'dGhlIHNhbXBsZSBub25jZQ==, dGhlIHNhbXBsZSBub25jZQ=='],
  ])('rejects %s', (_label, key) => {
    expect(isValidKey(key)).toBe(false);
  });
});
