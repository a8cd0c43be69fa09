/**
 * The pure RFC 8441 checks (src/http2/handshake.ts), one `describe` per section.
 */
import { describe, expect, it } from 'vitest';
import { ErrorCode, HandshakeError } from '../../src/errors.ts';
import {
  isExtendedConnect,
  toRawHeaders,
  validateConnectResponse,
  validateExtendedConnect,
} from '../../src/http2/handshake.ts';

const base = {
  ':method': 'CONNECT',
  ':protocol': 'websocket',
  ':scheme': 'https',
  ':path': '/chat?room=1',
  ':authority': 'server.example.com',
  'sec-websocket-version': '13',
};

function statusOf(fn: () => unknown): number | undefined {
  try {
    fn();
  } catch (error) {
    if (error instanceof HandshakeError) return error.status;
    throw error;
  }
  return undefined;
}

function codeOf(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (error) {
    if (error instanceof HandshakeError) return error.code;
    throw error;
  }
  return undefined;
}

describe('RFC 8441 §4: the extended CONNECT method', () => {
  it('is a CONNECT with :protocol; a plain CONNECT or a GET is not', () => {
    expect(isExtendedConnect(base)).toBe(true);
    expect(isExtendedConnect({ ':method': 'CONNECT', ':authority': 'a:443' })).toBe(false);
    expect(isExtendedConnect({ ':method': 'GET', ':protocol': 'websocket' })).toBe(false);
  });
  it('requires :protocol websocket (case-insensitive), :scheme, an origin-form :path and :authority', () => {
    expect(statusOf(() => validateExtendedConnect({ ...base, ':protocol': 'WebSocket' }))).toBeUndefined();
    expect(statusOf(() => validateExtendedConnect({ ...base, ':protocol': 'webtransport' }))).toBe(400);
    expect(statusOf(() => validateExtendedConnect({ ...base, ':path': undefined }))).toBe(400);
    expect(statusOf(() => validateExtendedConnect({ ...base, ':path': '*' }))).toBe(400);
    expect(statusOf(() => validateExtendedConnect({ ...base, ':scheme': undefined }))).toBe(400);
    expect(statusOf(() => validateExtendedConnect({ ...base, ':authority': '' }))).toBe(400);
    expect(statusOf(() => validateExtendedConnect({ ':method': 'GET' }))).toBe(405);
  });
});

describe('RFC 8441 §5: the WebSocket handshake over HTTP/2', () => {
  it('keeps Sec-WebSocket-Version 13 (RFC 6455 §4.2.1 item 6), needs no Sec-WebSocket-Key', () => {
    const request = validateExtendedConnect(base);
    expect(request.key).toBe('');
    expect(request.host).toBe('server.example.com');
    expect(request.path).toBe('/chat?room=1');
    expect(request.head.httpVersion).toBe('2.0');
    expect(statusOf(() => validateExtendedConnect({ ...base, 'sec-websocket-version': undefined }))).toBe(
      400,
    );
    expect(statusOf(() => validateExtendedConnect({ ...base, 'sec-websocket-version': '8' }))).toBe(400);
  });
  it('parses subprotocols, extensions and origin as over HTTP/1.1', () => {
    const request = validateExtendedConnect({
      ...base,
      'sec-websocket-protocol': 'chat, superchat',
      'sec-websocket-extensions': 'permessage-deflate; client_max_window_bits',
      origin: 'https://app.example',
    });
    expect(request.protocols).toEqual(['chat', 'superchat']);
    expect(request.extensions[0]?.name).toBe('permessage-deflate');
    expect(request.origin).toBe('https://app.example');
    expect(statusOf(() => validateExtendedConnect({ ...base, 'sec-websocket-protocol': 'a b' }))).toBe(400);
    expect(statusOf(() => validateExtendedConnect({ ...base, 'sec-websocket-extensions': ';' }))).toBe(400);
  });
  it('the response: 2xx succeeds, with the offered subprotocol and extension only', () => {
    const expected = { protocols: ['chat'], offeredExtensions: ['permessage-deflate'] };
    const ok = validateConnectResponse(
      { ':status': 200, 'sec-websocket-protocol': 'chat', 'sec-websocket-extensions': 'permessage-deflate' },
      expected,
    );
    expect(ok.protocol).toBe('chat');
    expect(ok.extensions.map((extension) => extension.name)).toEqual(['permessage-deflate']);
    expect(ok.head.rawHeaders).not.toContain(':status');
    expect(statusOf(() => validateConnectResponse({ ':status': 403 }, expected))).toBe(403);
    expect(
      statusOf(() =>
        validateConnectResponse({ ':status': 200, 'sec-websocket-protocol': 'other' }, expected),
      ),
    ).toBe(200);
    expect(
      statusOf(() =>
        validateConnectResponse({ ':status': 200, 'sec-websocket-extensions': 'x-foo' }, expected),
      ),
    ).toBe(200);
  });
  it('toRawHeaders keeps repeated fields', () => {
    expect(toRawHeaders({ a: ['1', '2'], b: 3, c: undefined })).toEqual(['a', '1', 'a', '2', 'b', '3']);
  });
});

describe('RFC 8441 §4–§5: each refusal has its own code', () => {
  it('names what was wrong in the request', () => {
    expect(codeOf(() => validateExtendedConnect({ ':method': 'GET' }))).toBe(ErrorCode.InvalidMethod);
    expect(codeOf(() => validateExtendedConnect({ ...base, ':protocol': 'webtransport' }))).toBe(
      ErrorCode.InvalidUpgradeHeader,
    );
    expect(codeOf(() => validateExtendedConnect({ ...base, ':path': '*' }))).toBe(ErrorCode.MalformedHttp);
    expect(codeOf(() => validateExtendedConnect({ ...base, ':authority': '' }))).toBe(
      ErrorCode.MalformedHttp,
    );
    expect(codeOf(() => validateExtendedConnect({ ...base, 'sec-websocket-version': '8' }))).toBe(
      ErrorCode.UnsupportedVersion,
    );
    expect(codeOf(() => validateExtendedConnect({ ...base, 'sec-websocket-protocol': 'a b' }))).toBe(
      ErrorCode.InvalidSubprotocol,
    );
    expect(codeOf(() => validateExtendedConnect({ ...base, 'sec-websocket-extensions': ';' }))).toBe(
      ErrorCode.InvalidExtensions,
    );
  });
  it('names what was wrong in the response', () => {
    const expected = { protocols: ['chat'], offeredExtensions: ['permessage-deflate'] };
    expect(codeOf(() => validateConnectResponse({ ':status': 403 }, expected))).toBe(
      ErrorCode.UnexpectedResponse,
    );
    expect(codeOf(() => validateConnectResponse({ ':status': 200 }, expected))).toBe(
      ErrorCode.MissingSubprotocol,
    );
    expect(
      codeOf(() => validateConnectResponse({ ':status': 200, 'sec-websocket-protocol': 'other' }, expected)),
    ).toBe(ErrorCode.InvalidSubprotocol);
    expect(
      codeOf(() =>
        validateConnectResponse(
          { ':status': 200, 'sec-websocket-protocol': 'chat', 'sec-websocket-extensions': 'x-foo' },
          expected,
        ),
      ),
    ).toBe(ErrorCode.InvalidExtensions);
  });
});
