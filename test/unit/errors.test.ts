/**
 * src/errors.ts: the taxonomy's invariants and the one wrapper of foreign errors.
 */
import { describe, expect, it } from 'vitest';
import {
  ErrorCode,
  HandshakeError,
  ProtocolError,
  toHandshakeFailure,
  WebSocketError,
} from '../../src/errors.ts';

describe('ErrorCode', () => {
  it('gives every failure its own WS_ERR_ string', () => {
    const values = Object.values(ErrorCode);
    expect(new Set(values).size).toBe(values.length);
    for (const value of values) expect(value).toMatch(/^WS_ERR_[A-Z0-9_]+$/);
  });

  it('no longer has the never-raised WS_ERR_CLOSE_TIMEOUT', () => {
    expect(Object.values(ErrorCode)).not.toContain('WS_ERR_CLOSE_TIMEOUT');
  });
});

describe('toHandshakeFailure', () => {
  it('passes our own errors through unchanged', () => {
    const own = new HandshakeError(ErrorCode.InvalidAcceptKey, 101, 'Invalid Sec-WebSocket-Accept header');
    expect(toHandshakeFailure(own)).toBe(own);
    const protocol = new ProtocolError(ErrorCode.InvalidUtf8, 1007, 'x');
    expect(toHandshakeFailure(protocol, 'ignored')).toBe(protocol);
  });

  it('wraps anything else as WS_ERR_HANDSHAKE_FAILED, status 0, the original as cause', () => {
    const thrown = new TypeError('boom');
    const wrapped = toHandshakeFailure(thrown);
    expect(wrapped).toBeInstanceOf(HandshakeError);
    expect(wrapped.code).toBe(ErrorCode.HandshakeFailed);
    expect((wrapped as HandshakeError).status).toBe(0);
    expect(wrapped.message).toBe('invalid handshake response');
    expect(wrapped.cause).toBe(thrown);
  });

  it("takes a transport error's own message when given", () => {
    const reset = Object.assign(new Error('read ECONNRESET'), { code: 'ECONNRESET' });
    const wrapped = toHandshakeFailure(reset, reset.message);
    expect(wrapped.message).toBe('read ECONNRESET');
    expect(wrapped.cause).toBe(reset);
    expect(wrapped).toBeInstanceOf(WebSocketError);
  });
});
