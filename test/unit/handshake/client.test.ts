import { describe, expect, it } from 'vitest';
import { ErrorCode, type ErrorCodeString, HandshakeError } from '../../../src/errors.ts';
import {
  buildUpgradeRequest,
  type UpgradeRequestOptions,
  validateUpgradeResponse,
} from '../../../src/handshake/client.ts';
import { validateUpgradeRequest } from '../../../src/handshake/server.ts';
import { catchHandshakeError, parseRequest, parseResponse, SAMPLE_RESPONSE, sha1 } from './helpers.ts';

const KEY = 'dGhlIHNhbXBsZSBub25jZQ==';
const ACCEPT = 's3pPLMBiTxaQ9kYGzzhZRbK+xOo=';

describe('RFC 6455 §4.1: building the client handshake', () => {
  it('builds the minimal request', () => {
    expect(buildUpgradeRequest({ host: 'server.example.com', path: '/chat', key: KEY })).toBe(
      'GET /chat HTTP/1.1\r\n' +
        'Host: server.example.com\r\n' +
        'Upgrade: websocket\r\n' +
        'Connection: Upgrade\r\n' +
        `Sec-WebSocket-Key: ${KEY}\r\n` +
        'Sec-WebSocket-Version: 13\r\n' +
        '\r\n',
    );
  });

  it('version 8 (hybi-08): Sec-WebSocket-Version: 8 and the origin in Sec-WebSocket-Origin, which the server reads', () => {
    const text = buildUpgradeRequest({
      host: 'h',
      path: '/',
      key: KEY,
      origin: 'http://example.com',
      version: 8,
    });
    expect(text).toContain('\r\nSec-WebSocket-Version: 8\r\n');
    expect(text).toContain('\r\nSec-WebSocket-Origin: http://example.com\r\n');
    expect(text).not.toContain('\r\nOrigin:');
    expect(() =>
      buildUpgradeRequest({
        host: 'h',
        path: '/',
        key: KEY,
        origin: 'x',
        version: 8,
        headers: { 'Sec-WebSocket-Origin': 'y' },
      }),
    ).toThrow(TypeError);
    expect(validateUpgradeRequest(parseRequest(text)).origin).toBe('http://example.com');
  });

  it('adds origin, subprotocols, extensions and extra headers, and the server accepts it', () => {
    const text = buildUpgradeRequest({
      host: '[::1]:8080',
      path: '/chat?room=1',
      key: KEY,
      origin: 'http://example.com',
      protocols: ['chat', 'superchat'],
      extensions: 'permessage-deflate; client_max_window_bits',
      headers: { Authorization: 'Bearer abc', 'User-Agent': 'sockwire' },
    });
    expect(text).toContain('\r\nOrigin: http://example.com\r\n');
    expect(text).toContain('\r\nSec-WebSocket-Protocol: chat, superchat\r\n');
    expect(text).toContain('\r\nSec-WebSocket-Extensions: permessage-deflate; client_max_window_bits\r\n');
    expect(text.endsWith('Authorization: Bearer abc\r\nUser-Agent: sockwire\r\n\r\n')).toBe(true);

    const upgrade = validateUpgradeRequest(parseRequest(text));
    expect(upgrade.host).toBe('[::1]:8080');
    expect(upgrade.path).toBe('/chat?room=1');
    expect(upgrade.origin).toBe('http://example.com');
    expect(upgrade.protocols).toEqual(['chat', 'superchat']);
    expect(upgrade.extensions[0]!.name).toBe('permessage-deflate');
    expect(upgrade.head.headers.get('authorization')).toBe('Bearer abc');
  });

  it('omits empty subprotocol lists and empty extension offers', () => {
    const text = buildUpgradeRequest({ host: 'a', path: '/', key: KEY, protocols: [], extensions: '' });
    expect(text).not.toMatch(/Sec-WebSocket-(Protocol|Extensions)/);
  });

  it('allows an Origin extra header when the origin option is not used', () => {
    expect(buildUpgradeRequest({ host: 'a', path: '/', key: KEY, headers: { Origin: 'null' } })).toContain(
      '\r\nOrigin: null\r\n',
    );
  });

  const base: UpgradeRequestOptions = { host: 'example.com', path: '/', key: KEY };
  it.each<[string, UpgradeRequestOptions]>([
    ['a path without a leading slash', { ...base, path: 'chat' }],
    ['an empty path', { ...base, path: '' }],
    ['a space in the path', { ...base, path: '/a b' }],
    ['CRLF in the path', { ...base, path: '/a\r\nX: 1' }],
    ['an empty host', { ...base, host: '' }],
    ['CRLF in the host', { ...base, host: 'a\r\nX: 1' }],
    ['an invalid key', { ...base, key: 'short' }],
    ['CRLF in the key', { ...base, key: `${KEY}\r\nX: 1` }],
    ['a non-token subprotocol', { ...base, protocols: ['a b'] }],
    ['an empty subprotocol', { ...base, protocols: [''] }],
    ['a repeated subprotocol', { ...base, protocols: ['chat', 'chat'] }],
    ['CRLF in the origin', { ...base, origin: 'http://a\r\nX: 1' }],
    ['CRLF in the extensions', { ...base, extensions: 'x\r\nX: 1' }],
    ['CRLF in an extra value', { ...base, headers: { 'X-A': 'a\r\nX: 1' } }],
    ['NUL in an extra value', { ...base, headers: { 'X-A': 'a\x00' } }],
    ['an extra name that is not a token', { ...base, headers: { 'X:A': '1' } }],
    ['an empty extra name', { ...base, headers: { '': '1' } }],
    ['a reserved extra name', { ...base, headers: { 'Sec-WebSocket-Key': KEY } }],
    ['Host as an extra name', { ...base, headers: { host: 'other' } }],
    ['Origin twice', { ...base, origin: 'http://a', headers: { Origin: 'http://b' } }],
  ])('refuses %s with TypeError', (_label, options) => {
    expect(() => buildUpgradeRequest(options)).toThrow(TypeError);
  });
});

/** The sample response with `edit` applied: string values replace a field, `null` removes it. */
function response(
  edit: Record<string, string | null> = {},
  statusLine = 'HTTP/1.1 101 Switching Protocols',
): string {
  const fields: Record<string, string | null> = {
    Upgrade: 'websocket',
    Connection: 'Upgrade',
    'Sec-WebSocket-Accept': ACCEPT,
    ...edit,
  };
  let text = `${statusLine}\r\n`;
  for (const [name, value] of Object.entries(fields)) if (value !== null) text += `${name}: ${value}\r\n`;
  return `${text}\r\n`;
}

const EXPECTED = { key: KEY, protocols: ['chat', 'superchat'], offeredExtensions: ['permessage-deflate'] };

function failure(text: string, code: ErrorCodeString, expected = EXPECTED): HandshakeError {
  const error = catchHandshakeError(() => validateUpgradeResponse(parseResponse(text), expected, sha1));
  expect(error.code).toBe(code);
  return error;
}

describe("RFC 6455 §4.1: validating the server's response", () => {
  it('accepts the RFC 6455 §1.3 sample response', () => {
    const result = validateUpgradeResponse(parseResponse(SAMPLE_RESPONSE), EXPECTED, sha1);
    expect(result.protocol).toBe('chat');
    expect(result.extensions).toEqual([]);
    expect(result.head.statusCode).toBe(101);
  });

  it('fails when subprotocols were offered and the server selected none (WHATWG Fetch, as browsers and ws)', () => {
    expect(() => validateUpgradeResponse(parseResponse(response()), EXPECTED, sha1)).toThrow(
      'Server sent no subprotocol',
    );
    expect(failure(response(), ErrorCode.MissingSubprotocol).status).toBe(101);
  });

  it("returns '' when none were offered and none was selected", () => {
    const none = { ...EXPECTED, protocols: [] };
    expect(validateUpgradeResponse(parseResponse(response()), none, sha1).protocol).toBe('');
  });

  it('accepts Upgrade and Connection case-insensitively, and Connection as a list', () => {
    const text = response({ Upgrade: 'WebSocket', Connection: 'keep-alive, upgrade' });
    expect(validateUpgradeResponse(parseResponse(text), { ...EXPECTED, protocols: [] }, sha1).protocol).toBe(
      '',
    );
  });

  it('returns the accepted extensions with their parameters', () => {
    const text = response({
      'Sec-WebSocket-Extensions': 'permessage-deflate; server_max_window_bits=10',
      'Sec-WebSocket-Protocol': 'chat',
    });
    const result = validateUpgradeResponse(parseResponse(text), EXPECTED, sha1);
    expect(result.extensions.length).toBe(1);
    expect(result.extensions[0]!.params.get('server_max_window_bits')).toBe('10');
  });

  it.each([
    [403, 'HTTP/1.1 403 Forbidden'],
    [200, 'HTTP/1.1 200 OK'],
    [302, 'HTTP/1.1 302 Found'],
    [426, 'HTTP/1.1 426 Upgrade Required'],
  ])('fails on status %d with that status and a clear message', (status, statusLine) => {
    const error = failure(response({}, statusLine), ErrorCode.UnexpectedResponse);
    expect(error.status).toBe(status);
    expect(error.message).toBe(`Unexpected server response: ${status}`);
  });

  it.each([
    ['Upgrade missing', { Upgrade: null }, /Upgrade/, ErrorCode.InvalidUpgradeHeader],
    ['Upgrade not websocket', { Upgrade: 'h2c' }, /^Invalid Upgrade header$/, ErrorCode.InvalidUpgradeHeader],
    [
      'Upgrade with a second protocol',
      { Upgrade: 'websocket, h2c' },
      /^Invalid Upgrade header$/,
      ErrorCode.InvalidUpgradeHeader,
    ],
    [
      'Connection missing',
      { Connection: null },
      /^Invalid Connection header$/,
      ErrorCode.InvalidConnectionHeader,
    ],
    [
      'Connection without upgrade',
      { Connection: 'keep-alive' },
      /^Invalid Connection header$/,
      ErrorCode.InvalidConnectionHeader,
    ],
    [
      'Sec-WebSocket-Accept missing',
      { 'Sec-WebSocket-Accept': null },
      /^Invalid Sec-WebSocket-Accept header$/,
      ErrorCode.InvalidAcceptKey,
    ],
    [
      'Sec-WebSocket-Accept wrong',
      { 'Sec-WebSocket-Accept': 'AAAAAAAAAAAAAAAAAAAAAAAAAAA=' },
      /^Invalid Sec-WebSocket-Accept header$/,
      ErrorCode.InvalidAcceptKey,
    ],
    [
      'Sec-WebSocket-Accept in another case',
      { 'Sec-WebSocket-Accept': ACCEPT.toLowerCase() },
      /^Invalid Sec-WebSocket-Accept header$/,
      ErrorCode.InvalidAcceptKey,
    ],
    [
      'a subprotocol not offered',
      { 'Sec-WebSocket-Protocol': 'mqtt' },
      /^Server sent an invalid subprotocol$/,
      ErrorCode.InvalidSubprotocol,
    ],
    [
      'a subprotocol differing in case',
      { 'Sec-WebSocket-Protocol': 'Chat' },
      /^Server sent an invalid subprotocol$/,
      ErrorCode.InvalidSubprotocol,
    ],
    [
      'two subprotocols',
      { 'Sec-WebSocket-Protocol': 'chat, superchat' },
      /^Server sent an invalid subprotocol$/,
      ErrorCode.InvalidSubprotocol,
    ],
    [
      'an empty subprotocol',
      { 'Sec-WebSocket-Protocol': '' },
      /^Server sent an invalid subprotocol$/,
      ErrorCode.InvalidSubprotocol,
    ],
    [
      'an extension not offered',
      { 'Sec-WebSocket-Extensions': 'x-webkit-deflate-frame' },
      /^Server indicated an extension that was not requested$/,
      ErrorCode.InvalidExtensions,
    ],
    [
      'a malformed extension field',
      { 'Sec-WebSocket-Extensions': 'permessage-deflate;' },
      /^Invalid Sec-WebSocket-Extensions header$/,
      ErrorCode.InvalidExtensions,
    ],
  ] as const)('fails when %s, with status 101 and its code', (_label, edit, message, code) => {
    const error = failure(response(edit), code);
    expect(error.status).toBe(101);
    expect(error.message).toMatch(message);
  });

  it('fails when the server selects a subprotocol although none was offered', () => {
    const error = failure(SAMPLE_RESPONSE, ErrorCode.InvalidSubprotocol, { ...EXPECTED, protocols: [] });
    expect(error.message).toBe('Server sent a subprotocol but none was requested');
  });

  it('fails when the server accepts an extension although none was offered', () => {
    const text = response({ 'Sec-WebSocket-Extensions': 'permessage-deflate' });
    const error = failure(text, ErrorCode.InvalidExtensions, { ...EXPECTED, offeredExtensions: [] });
    expect(error.message).toBe(
      'Server sent a Sec-WebSocket-Extensions header but no extension was requested',
    );
  });

  it('keeps the parser error as the cause of a malformed extension field', () => {
    const error = failure(response({ 'Sec-WebSocket-Extensions': '"x"' }), ErrorCode.InvalidExtensions);
    expect(error.cause).toBeInstanceOf(HandshakeError);
  });
});
