/**
 * The CLI's one-line error texts stay the same whatever handshake code an error carries: every
 * handshake failure reads `handshake failed: …`, as when all of them shared WS_ERR_HANDSHAKE_FAILED.
 */
import { describe, expect, it } from 'vitest';
import { describeError } from '../../src/cli/errors.ts';
import { ErrorCode, HandshakeError, WebSocketError } from '../../src/errors.ts';

describe('describeError: handshake failures', () => {
  it('says "server answered N" for any code with a received status', () => {
    const error = new HandshakeError(ErrorCode.UnexpectedResponse, 403, 'Unexpected server response: 403');
    expect(describeError(error)).toBe('handshake failed: server answered 403');
  });

  it.each([
    ErrorCode.HandshakeFailed,
    ErrorCode.ProxyFailed,
    ErrorCode.MalformedHttp,
    ErrorCode.InvalidHttpVersion,
    ErrorCode.Http2Unavailable,
  ])('says "handshake failed: <message>" for %s with no status', (code) => {
    expect(describeError(new HandshakeError(code, 0, 'the proxy closed the connection'))).toBe(
      'handshake failed: the proxy closed the connection',
    );
  });

  it('says so for an abort while connecting, a plain WebSocketError', () => {
    const error = new WebSocketError(
      ErrorCode.HandshakeAborted,
      'WebSocket was closed before the connection was established',
    );
    expect(describeError(error)).toBe(
      'handshake failed: WebSocket was closed before the connection was established',
    );
  });

  it('keeps the timeout and head-size texts', () => {
    expect(describeError(new HandshakeError(ErrorCode.HandshakeTimeout, 0, 'x'))).toBe(
      'handshake failed: timed out',
    );
    expect(describeError(new HandshakeError(ErrorCode.HeadTooLarge, 0, 'too big'))).toBe(
      'too big (WS_ERR_HEAD_TOO_LARGE)',
    );
  });
});
