import { describe, expect, it } from 'vitest';
import { ErrorCode, type ErrorCodeString, HandshakeError } from '../../../src/errors.ts';
import { validateUpgradeResponse } from '../../../src/handshake/client.ts';
import {
  rejectionHeaders,
  UNSUPPORTED_VERSION_MESSAGE,
  validateUpgradeRequest,
} from '../../../src/handshake/server.ts';
import {
  acceptResponseLines,
  buildAcceptResponse,
  buildRejectResponse,
  joinResponseLines,
  selectSubprotocol,
} from '../../../src/handshake/server-response.ts';
import {
  catchHandshakeError,
  parseRequest,
  parseResponse,
  SAMPLE_REQUEST,
  SAMPLE_RESPONSE,
  sha1,
} from './helpers.ts';

const KEY = 'dGhlIHNhbXBsZSBub25jZQ==';

/** Builds a request from a start line and field lines; `null` removes a default field. */
function request(fields: Record<string, string | null> = {}, startLine = 'GET /chat HTTP/1.1'): string {
  const defaults: Record<string, string | null> = {
    Host: 'server.example.com',
    Upgrade: 'websocket',
    Connection: 'Upgrade',
    'Sec-WebSocket-Key': KEY,
    'Sec-WebSocket-Version': '13',
  };
  const merged = { ...defaults, ...fields };
  let text = `${startLine}\r\n`;
  for (const [name, value] of Object.entries(merged)) if (value !== null) text += `${name}: ${value}\r\n`;
  return `${text}\r\n`;
}

function rejection(text: string, code: ErrorCodeString): HandshakeError {
  const error = catchHandshakeError(() => validateUpgradeRequest(parseRequest(text)));
  expect(error.code).toBe(code);
  return error;
}

describe('RFC 6455 §1.3 / §4.2.1 the sample request is valid', () => {
  it('extracts key, host, path, origin and subprotocols', () => {
    const upgrade = validateUpgradeRequest(parseRequest(SAMPLE_REQUEST));
    expect(upgrade.key).toBe(KEY);
    expect(upgrade.host).toBe('server.example.com');
    expect(upgrade.path).toBe('/chat');
    expect(upgrade.origin).toBe('http://example.com');
    expect(upgrade.protocols).toEqual(['chat', 'superchat']);
    expect(upgrade.extensions).toEqual([]);
    expect(upgrade.head.method).toBe('GET');
  });

  it('treats Upgrade and Connection case-insensitively and as lists', () => {
    const upgrade = validateUpgradeRequest(
      parseRequest(request({ Upgrade: 'WebSocket', Connection: 'keep-alive, UPGRADE' })),
    );
    expect(upgrade.key).toBe(KEY);
    expect(upgrade.origin).toBeUndefined();
  });

  it('accepts an absolute-form target and a query string', () => {
    expect(
      validateUpgradeRequest(parseRequest(request({}, 'GET ws://example.com/a?b=c HTTP/1.1'))).path,
    ).toBe('ws://example.com/a?b=c');
    expect(validateUpgradeRequest(parseRequest(request({}, 'GET /a?b=c HTTP/1.1'))).path).toBe('/a?b=c');
  });

  it('accepts HTTP/1.2 when a head built elsewhere carries it (our parser answers it 400, as llhttp)', () => {
    const head = parseRequest(request());
    expect(validateUpgradeRequest({ ...head, httpVersion: '1.2' }).path).toBe('/chat');
  });

  it('parses offered extensions', () => {
    const upgrade = validateUpgradeRequest(
      parseRequest(request({ 'Sec-WebSocket-Extensions': 'permessage-deflate; client_max_window_bits' })),
    );
    expect(upgrade.extensions.map((e) => e.name)).toEqual(['permessage-deflate']);
    expect(upgrade.extensions[0]!.params.get('client_max_window_bits')).toBe(true);
  });

  it('joins repeated Sec-WebSocket-Protocol fields (RFC 7230 §3.2.2)', () => {
    const text = request().replace(
      '\r\n\r\n',
      '\r\nSec-WebSocket-Protocol: a\r\nSec-WebSocket-Protocol: b\r\n\r\n',
    );
    expect(validateUpgradeRequest(parseRequest(text)).protocols).toEqual(['a', 'b']);
  });
});

describe('RFC 6455 §4.2.1 item 1: GET, HTTP/1.1 or higher', () => {
  it.each(['POST', 'get', 'HEAD', 'CONNECT'])('answers %s with 405 and Allow: GET', (method) => {
    const error = rejection(request({}, `${method} /chat HTTP/1.1`), ErrorCode.InvalidMethod);
    expect(error.status).toBe(405);
    expect(rejectionHeaders(error)).toEqual({ Allow: 'GET' });
  });

  it('answers HTTP/1.0 with 400', () => {
    const error = rejection(request({}, 'GET /chat HTTP/1.0'), ErrorCode.InvalidHttpVersion);
    expect(error.status).toBe(400);
    expect(error.message).toMatch(/HTTP\/1\.1 or higher/);
    expect(rejectionHeaders(error)).toEqual({});
  });

  it.each(['*', 'example.com:443', 'chat', '://x'])('answers the target %j with 400', (target) => {
    expect(rejection(request({}, `GET ${target} HTTP/1.1`), ErrorCode.MalformedHttp).status).toBe(400);
  });
});

describe('RFC 7231 §6.5.15: plain HTTP requests get 426', () => {
  it('answers a request with neither Upgrade nor Connection: upgrade with 426 Upgrade Required', () => {
    const error = rejection(request({ Upgrade: null, Connection: 'keep-alive' }), ErrorCode.UpgradeRequired);
    expect(error.status).toBe(426);
    expect(error.message.startsWith(UNSUPPORTED_VERSION_MESSAGE)).toBe(false);
    expect(rejectionHeaders(error)).toEqual({ Upgrade: 'websocket' });
  });

  it('answers a bare GET (no WebSocket fields at all) with 426 and the text ws sends', () => {
    const error = rejection('GET / HTTP/1.1\r\nHost: a\r\n\r\n', ErrorCode.UpgradeRequired);
    expect(error.status).toBe(426);
    expect(error.message).toBe('Upgrade Required');
  });

  it('answers a plain POST with 426 too: it asked for no upgrade', () => {
    expect(
      rejection('POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 0\r\n\r\n', ErrorCode.UpgradeRequired).status,
    ).toBe(426);
  });

  it('answers 400, never 426, when the transport says it was an upgrade (upgradeRequested)', () => {
    const head = parseRequest('GET / HTTP/1.1\r\nHost: a\r\nFoo: bar\r\n\r\n');
    const error = catchHandshakeError(() => validateUpgradeRequest(head, { upgradeRequested: true }));
    expect(error.status).toBe(400);
    expect(error.message).toBe('Invalid Upgrade header');
  });
});

describe('RFC 6455 §4.2.1 item 2 and RFC 7230 §5.4: Host', () => {
  it.each([
    ['missing', { Host: null }],
    ['empty', { Host: '' }],
    ['invalid', { Host: 'a/b' }],
  ])('answers a %s Host with 400', (_label, fields) => {
    expect(rejection(request(fields), ErrorCode.MalformedHttp).status).toBe(400);
  });

  it('answers two Host fields with 400', () => {
    const text = request().replace('\r\n\r\n', '\r\nhost: other.example.com\r\n\r\n');
    const error = rejection(text, ErrorCode.MalformedHttp);
    expect(error.status).toBe(400);
    expect(error.message).toMatch(/more than one Host/);
  });
});

describe('RFC 6455 §4.2.1 items 3–4: Upgrade and Connection', () => {
  it.each([
    ['Upgrade missing (Connection: upgrade present)', { Upgrade: null }, ErrorCode.InvalidUpgradeHeader],
    ['Upgrade not websocket', { Upgrade: 'h2c' }, ErrorCode.InvalidUpgradeHeader],
    ['Upgrade with a versioned websocket', { Upgrade: 'websocket/13' }, ErrorCode.InvalidUpgradeHeader],
    ['Connection missing', { Connection: null }, ErrorCode.InvalidConnectionHeader],
    ['Connection without upgrade', { Connection: 'keep-alive' }, ErrorCode.InvalidConnectionHeader],
    ['Connection with a longer token', { Connection: 'upgraded' }, ErrorCode.InvalidConnectionHeader],
  ] as const)('answers %s with 400 and its code', (_label, fields, code) => {
    const error = rejection(request(fields), code);
    expect(error.status).toBe(400);
    expect(rejectionHeaders(error)).toEqual({});
  });

  it.each([
    ['Upgrade: h2c', { Upgrade: 'h2c' }],
    ['no Upgrade', { Upgrade: null }],
  ])("uses ws's text for %s", (_label, fields) => {
    expect(rejection(request(fields), ErrorCode.InvalidUpgradeHeader).message).toBe('Invalid Upgrade header');
  });
});

describe('RFC 6455 §4.2.1 item 6 / §4.2.2: Sec-WebSocket-Version', () => {
  it.each([
    ['missing', { 'Sec-WebSocket-Version': null }],
    ['7 (hybi-07)', { 'Sec-WebSocket-Version': '7' }],
    ['" 13" with a letter', { 'Sec-WebSocket-Version': '13a' }],
    ['a list', { 'Sec-WebSocket-Version': '13, 8' }],
  ])("answers %s with 400, ws's text and Sec-WebSocket-Version: 13, 8", (_label, fields) => {
    const error = rejection(request(fields), ErrorCode.UnsupportedVersion);
    expect(error.status).toBe(400);
    expect(error.message).toBe(UNSUPPORTED_VERSION_MESSAGE);
    expect(error.message).toBe('Missing or invalid Sec-WebSocket-Version header');
    expect(rejectionHeaders(error)).toEqual({ 'Sec-WebSocket-Version': '13, 8' });
  });

  it('accepts version 8 (the last draft, as ws) and reads its origin from Sec-WebSocket-Origin', () => {
    const upgrade = validateUpgradeRequest(
      parseRequest(
        request({
          'Sec-WebSocket-Version': '8',
          Origin: 'https://ignored.example',
          'Sec-WebSocket-Origin': 'https://draft.example',
        }),
      ),
    );
    expect(upgrade.origin).toBe('https://draft.example');
    const thirteen = request({
      Origin: 'https://rfc.example',
      'Sec-WebSocket-Origin': 'https://draft.example',
    });
    expect(validateUpgradeRequest(parseRequest(thirteen)).origin).toBe('https://rfc.example');
  });

  it('checks the key before the version, as ws does (a hixie-76 client has neither)', () => {
    const error = rejection(
      request({ 'Sec-WebSocket-Version': null, 'Sec-WebSocket-Key': null }),
      ErrorCode.InvalidKey,
    );
    expect(error.status).toBe(400);
    expect(error.message).toBe('Missing or invalid Sec-WebSocket-Key header');
  });
});

describe('RFC 6455 §4.2.1 item 5: Sec-WebSocket-Key', () => {
  it.each([
    ['missing', { 'Sec-WebSocket-Key': null }],
    ['not base64', { 'Sec-WebSocket-Key': 'not a key' }],
    ['15 bytes', { 'Sec-WebSocket-Key': 'AAAAAAAAAAAAAAAAAAAA' }],
    ['unpadded', { 'Sec-WebSocket-Key': 'dGhlIHNhbXBsZSBub25jZQ' }],
  ])("answers a %s key with 400 and ws's text", (_label, fields) => {
    const error = rejection(request(fields), ErrorCode.InvalidKey);
    expect(error.status).toBe(400);
    expect(error.message).toBe('Missing or invalid Sec-WebSocket-Key header');
  });

  it('answers two Sec-WebSocket-Key fields with 400', () => {
    const text = request().replace('\r\n\r\n', `\r\nSec-WebSocket-Key: ${KEY}\r\n\r\n`);
    expect(rejection(text, ErrorCode.InvalidKey).status).toBe(400);
  });
});

describe('RFC 6455 §4.2.1 items 8–9: subprotocol and extension syntax', () => {
  it.each([
    ['a duplicate subprotocol', { 'Sec-WebSocket-Protocol': 'chat, chat' }, ErrorCode.InvalidSubprotocol],
    ['a non-token subprotocol', { 'Sec-WebSocket-Protocol': 'chat, "x"' }, ErrorCode.InvalidSubprotocol],
    [
      'a malformed extension offer',
      { 'Sec-WebSocket-Extensions': 'permessage-deflate; ' },
      ErrorCode.InvalidExtensions,
    ],
  ] as const)('answers %s with 400 and its code', (_label, fields, code) => {
    expect(rejection(request(fields), code).status).toBe(400);
  });

  it("uses ws's texts, keeping the parser's detail as the cause", () => {
    const protocol = rejection(
      request({ 'Sec-WebSocket-Protocol': 'foo;bar' }),
      ErrorCode.InvalidSubprotocol,
    );
    expect(protocol.message).toBe('Invalid Sec-WebSocket-Protocol header');
    expect(protocol.cause).toBeInstanceOf(HandshakeError);
    const extension = rejection(
      request({ 'Sec-WebSocket-Extensions': 'permessage-deflate; ' }),
      ErrorCode.InvalidExtensions,
    );
    expect(extension.message).toBe('Invalid or unacceptable Sec-WebSocket-Extensions header');
  });

  it("answers a method other than GET with 405 and ws's text", () => {
    const error = rejection(request({}, 'POST /chat HTTP/1.1'), ErrorCode.InvalidMethod);
    expect(error.status).toBe(405);
    expect(error.message).toBe('Invalid HTTP method');
    expect(rejectionHeaders(error)).toEqual({ Allow: 'GET' });
  });
});

describe('RFC 6455 §4.2.2 step 5: the 101 response', () => {
  it('builds the RFC 6455 §1.3 sample response byte for byte', () => {
    expect(buildAcceptResponse({ key: KEY, protocol: 'chat' }, sha1)).toBe(SAMPLE_RESPONSE);
  });

  it('adds extensions and extra headers after the handshake fields', () => {
    expect(
      buildAcceptResponse(
        {
          key: KEY,
          extensions: 'permessage-deflate; server_no_context_takeover',
          headers: { 'Set-Cookie': 'a=b' },
        },
        sha1,
      ),
    ).toBe(
      'HTTP/1.1 101 Switching Protocols\r\n' +
        'Upgrade: websocket\r\n' +
        'Connection: Upgrade\r\n' +
        'Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n' +
        'Sec-WebSocket-Extensions: permessage-deflate; server_no_context_takeover\r\n' +
        'Set-Cookie: a=b\r\n' +
        '\r\n',
    );
  });

  it('omits undefined and empty optional fields', () => {
    const text = buildAcceptResponse(
      { key: KEY, protocol: undefined, extensions: '', headers: undefined },
      sha1,
    );
    expect(text).not.toMatch(/Sec-WebSocket-(Protocol|Extensions)/);
  });

  it('is accepted by the client-side validation (round trip)', () => {
    const text = buildAcceptResponse({ key: KEY, protocol: 'superchat', extensions: 'x; y=1' }, sha1);
    const result = validateUpgradeResponse(
      parseResponse(text),
      { key: KEY, protocols: ['chat', 'superchat'], offeredExtensions: ['x'] },
      sha1,
    );
    expect(result.protocol).toBe('superchat');
    expect(result.extensions[0]!.params.get('y')).toBe('1');
  });

  it.each([
    ['a non-token protocol', { key: KEY, protocol: 'a b' }],
    ['CRLF in the protocol', { key: KEY, protocol: 'chat\r\nX: 1' }],
    ['CRLF in extensions', { key: KEY, extensions: 'x\r\nEvil: 1' }],
    ['CRLF in an extra value', { key: KEY, headers: { 'X-A': 'a\r\nEvil: 1' } }],
    ['LF in an extra value', { key: KEY, headers: { 'X-A': 'a\nb' } }],
    ['an extra name that is not a token', { key: KEY, headers: { 'X A': '1' } }],
    ['an extra name with CRLF', { key: KEY, headers: { 'X\r\nEvil': '1' } }],
    ['a reserved extra name', { key: KEY, headers: { 'sec-websocket-accept': 'forged' } }],
    ['a reserved extra name in another case', { key: KEY, headers: { CONNECTION: 'close' } }],
  ])('refuses %s with TypeError', (_label, options) => {
    expect(() => buildAcceptResponse(options, sha1)).toThrow(TypeError);
  });
});

describe("the 101 as lines, for the server's 'headers' event", () => {
  it('gives the lines of buildAcceptResponse, and joins them back to the same bytes', () => {
    const lines = acceptResponseLines({ key: KEY, protocol: 'chat' }, sha1);
    expect(lines).toEqual([
      'HTTP/1.1 101 Switching Protocols',
      'Upgrade: websocket',
      'Connection: Upgrade',
      'Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=',
      'Sec-WebSocket-Protocol: chat',
    ]);
    expect(joinResponseLines(lines)).toBe(SAMPLE_RESPONSE);
  });

  it('joins an added field', () => {
    const lines = acceptResponseLines({ key: KEY }, sha1);
    lines.push('Set-Cookie: a=b; Path=/');
    expect(joinResponseLines(lines).endsWith('\r\nSet-Cookie: a=b; Path=/\r\n\r\n')).toBe(true);
  });

  it.each([
    ['CR LF in a value (RFC 9112 §11.1 response splitting)', 'X-A: a\r\nX-B: b'],
    ['a bare LF', 'X-A: a\nb'],
    ['no colon', 'Set-Cookie'],
    ['an empty name', ': x'],
    ['a name that is not a token', 'X A: 1'],
    ['a line that is not a string', 42],
  ])('refuses %s with TypeError', (_label, line) => {
    const lines: unknown[] = acceptResponseLines({ key: KEY }, sha1);
    lines.push(line);
    expect(() => joinResponseLines(lines)).toThrow(TypeError);
  });

  it('refuses a changed status line', () => {
    const lines = acceptResponseLines({ key: KEY }, sha1);
    lines[0] = 'HTTP/1.1 200 OK';
    expect(() => joinResponseLines(lines)).toThrow(TypeError);
  });
});

describe('RFC 7231 §6 rejection responses', () => {
  it('builds a complete plain-text response that closes the connection', () => {
    expect(buildRejectResponse(400, 'Bad Request: missing Host header')).toBe(
      'HTTP/1.1 400 Bad Request\r\n' +
        'Connection: close\r\n' +
        'Content-Type: text/plain; charset=utf-8\r\n' +
        'Content-Length: 32\r\n' +
        '\r\n' +
        'Bad Request: missing Host header',
    );
  });

  it('counts Content-Length in UTF-8 bytes', () => {
    const text = buildRejectResponse(403, 'caf\u00e9 \u{1f600}');
    expect(text).toMatch(/\r\nContent-Length: 10\r\n/);
    expect(text.startsWith('HTTP/1.1 403 Forbidden\r\n')).toBe(true);
  });

  it('sends the version rejection as 400 with the version and Connection: close', () => {
    const error = rejection(request({ 'Sec-WebSocket-Version': '7' }), ErrorCode.UnsupportedVersion);
    const text = buildRejectResponse(error.status, error.message, rejectionHeaders(error));
    const head = parseResponse(text);
    expect(head.statusCode).toBe(400);
    expect(head.headers.get('sec-websocket-version')).toBe('13, 8');
    expect(head.headers.get('connection')).toBe('close');
    expect(text.endsWith('\r\n\r\nMissing or invalid Sec-WebSocket-Version header')).toBe(true);
  });

  it('sends the 426 of a plain request with Upgrade: websocket and Connection: Upgrade, close', () => {
    const error = rejection('GET / HTTP/1.1\r\nHost: a\r\n\r\n', ErrorCode.UpgradeRequired);
    const head = parseResponse(buildRejectResponse(error.status, error.message, rejectionHeaders(error)));
    expect(head.statusCode).toBe(426);
    expect(head.statusText).toBe('Upgrade Required');
    expect(head.headers.get('upgrade')).toBe('websocket');
    expect(head.headers.get('connection')).toBe('Upgrade, close');
  });

  it('uses standard reason phrases', () => {
    expect(buildRejectResponse(405, 'x', { Allow: 'GET' })).toMatch(/^HTTP\/1\.1 405 Method Not Allowed\r\n/);
    expect(buildRejectResponse(431, 'x')).toMatch(/^HTTP\/1\.1 431 Request Header Fields Too Large\r\n/);
    expect(buildRejectResponse(599, 'x')).toMatch(/^HTTP\/1\.1 599 Error\r\n/);
  });

  it('allows CR/LF in the body but not in headers', () => {
    expect(buildRejectResponse(400, 'two\r\nlines').endsWith('\r\n\r\ntwo\r\nlines')).toBe(true);
    expect(() => buildRejectResponse(400, 'x', { 'X-A': 'a\r\nSet-Cookie: evil' })).toThrow(TypeError);
    expect(() => buildRejectResponse(400, 'x', { 'X-A\r\n': 'a' })).toThrow(TypeError);
    expect(() => buildRejectResponse(400, 'x', { 'content-length': '0' })).toThrow(TypeError);
  });

  it.each([101, 0, 600, 400.5, Number.NaN])('refuses status %d with RangeError', (status) => {
    expect(() => buildRejectResponse(status, 'x')).toThrow(RangeError);
  });

  it('turns head-parser errors into answers too', () => {
    const error = new HandshakeError(ErrorCode.HeadTooLarge, 431, 'HTTP head exceeds 16384 bytes');
    expect(rejectionHeaders(error)).toEqual({});
    expect(buildRejectResponse(error.status, error.message)).toMatch(/^HTTP\/1\.1 431 /);
  });
});

describe('RFC 6455 §4.2.2 step 4: subprotocol selection', () => {
  it("picks the first of the client's offers that the server supports", () => {
    expect(selectSubprotocol(['chat', 'superchat'], ['superchat', 'chat'])).toBe('chat');
    expect(selectSubprotocol(['a', 'superchat'], ['superchat', 'chat'])).toBe('superchat');
  });

  it('returns undefined without overlap and compares case-sensitively', () => {
    expect(selectSubprotocol(['chat'], ['Chat'])).toBeUndefined();
    expect(selectSubprotocol([], ['chat'])).toBeUndefined();
  });
});
