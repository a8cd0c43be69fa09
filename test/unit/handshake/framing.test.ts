/**
 * Request framing (RFC 9112 §6.1, §6.3; RFC 9110 §8.6), the HTTP version (RFC 9112 §2.3) and the
 * request-target (RFC 9112 §3.2, RFC 3986 §3.2) of an opening handshake: what Node's own parser
 * (llhttp) rejects is rejected here too, so that a proxy in front and sockwire never disagree on
 * where the head ends and the WebSocket frames begin.
 */
import { describe, expect, it } from 'vitest';
import { ErrorCode, type ErrorCodeString, HandshakeError } from '../../../src/errors.ts';
import { requestBodyFraming } from '../../../src/handshake/body-framing.ts';
import { HttpHeadParser } from '../../../src/handshake/http.ts';
import { validateUpgradeRequest } from '../../../src/handshake/server.ts';
import { catchHandshakeError, latin1Bytes, parseRequest } from './helpers.ts';

const KEY = 'dGhlIHNhbXBsZSBub25jZQ==';

function upgrade(extra = '', startLine = 'GET /chat HTTP/1.1'): string {
  return (
    `${startLine}\r\nHost: server.example.com\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
    `Sec-WebSocket-Key: ${KEY}\r\nSec-WebSocket-Version: 13\r\n${extra}\r\n`
  );
}

function parseError(text: string, code: ErrorCodeString = ErrorCode.MalformedHttp): HandshakeError {
  const error = catchHandshakeError(() => HttpHeadParser.forRequests().push(latin1Bytes(text)));
  expect(error.code).toBe(code);
  return error;
}

describe('RFC 9112 §6.3, RFC 9110 §8.6: Content-Length and Transfer-Encoding of a request → 400', () => {
  it.each([
    ['two equal Content-Length fields', 'Content-Length: 0\r\nContent-Length: 0\r\n'],
    ['two different Content-Length fields', 'Content-Length: 0\r\nContent-Length: 5\r\n'],
    ['two Content-Length fields in other cases', 'content-length: 0\r\nCONTENT-LENGTH: 0\r\n'],
    ['a Content-Length list', 'Content-Length: 0, 0\r\n'],
    ['an empty Content-Length', 'Content-Length:\r\n'],
    ['an empty Content-Length with OWS', 'Content-Length:  \r\n'],
    ['a signed Content-Length', 'Content-Length: +1\r\n'],
    ['a negative Content-Length', 'Content-Length: -1\r\n'],
    ['a hexadecimal Content-Length', 'Content-Length: 0x1\r\n'],
    ['a Content-Length with inner space', 'Content-Length: 1 2\r\n'],
    ['a decimal-point Content-Length', 'Content-Length: 1.0\r\n'],
    ['a Content-Length with a letter', 'Content-Length: 1a\r\n'],
    ['a Content-Length with an obs-text byte', 'Content-Length: 1\xb9\r\n'],
    ['an overflowing Content-Length', 'Content-Length: 99999999999999999999\r\n'],
    ['Content-Length with Transfer-Encoding', 'Content-Length: 0\r\nTransfer-Encoding: chunked\r\n'],
    ['Transfer-Encoding with Content-Length', 'Transfer-Encoding: chunked\r\nContent-Length: 0\r\n'],
    ['Transfer-Encoding ending in gzip', 'Transfer-Encoding: chunked, gzip\r\n'],
    ['Transfer-Encoding without chunked', 'Transfer-Encoding: gzip\r\n'],
    ['Transfer-Encoding: identity', 'Transfer-Encoding: identity\r\n'],
    ['chunked applied twice', 'Transfer-Encoding: chunked, chunked\r\n'],
    ['chunked in two fields', 'Transfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n'],
    ['a trailing comma after chunked', 'Transfer-Encoding: chunked,\r\n'],
    ['an empty Transfer-Encoding', 'Transfer-Encoding:\r\n'],
    ['a Transfer-Encoding that is not a token list', 'Transfer-Encoding: chun ked\r\n'],
    ['a Transfer-Encoding like chunked', 'Transfer-Encoding: chunkedx\r\n'],
  ])('rejects %s', (_label, fields) => {
    const error = parseError(upgrade(fields));
    expect(error.status).toBe(400);
    expect(error.message).toMatch(/Content-Length|Transfer-Encoding/);
  });

  it('reports the error although the bytes after the head look like frames', () => {
    const bytes = latin1Bytes(`${upgrade('Content-Length: 0\r\nContent-Length: 0\r\n')}\x81\x80abcd`);
    expect(() => HttpHeadParser.forRequests().push(bytes)).toThrow(HandshakeError);
  });

  it('accepts one well-formed Content-Length and a Transfer-Encoding that ends in chunked', () => {
    expect(requestBodyFraming(parseRequest(upgrade('Content-Length: 0\r\n')).rawHeaders)).toBe(0);
    expect(requestBodyFraming(parseRequest(upgrade('Content-Length: 007\r\n')).rawHeaders)).toBe(7);
    expect(requestBodyFraming(parseRequest(upgrade()).rawHeaders)).toBe(0);
    for (const te of ['chunked', 'CHUNKED', 'gzip, chunked', 'gzip;q=1 ,chunked']) {
      expect(requestBodyFraming(parseRequest(upgrade(`Transfer-Encoding: ${te}\r\n`)).rawHeaders)).toBe(
        'chunked',
      );
    }
  });

  it('leaves responses alone (a client never reads the body of a handshake response)', () => {
    const text = 'HTTP/1.1 302 Found\r\nContent-Length: 1\r\nContent-Length: 2\r\nLocation: /x\r\n\r\n';
    const result = HttpHeadParser.forResponses().push(latin1Bytes(text));
    expect(result.done).toBe(true);
  });
});

describe('RFC 9110 §9.3.1: an opening handshake has no body → 400', () => {
  it.each([
    ['Content-Length: 5', 'Content-Length: 5\r\n'],
    ['Content-Length: 1', 'Content-Length: 1\r\n'],
    ['Transfer-Encoding: chunked', 'Transfer-Encoding: chunked\r\n'],
  ])('answers an upgrade with %s with 400, so that no body is read as frames', (_label, fields) => {
    const error = catchHandshakeError(() => validateUpgradeRequest(parseRequest(upgrade(fields))));
    expect(error.status).toBe(400);
    expect(error.message).toMatch(/must not have a body/);
  });

  it('accepts Content-Length: 0 (no body)', () => {
    expect(validateUpgradeRequest(parseRequest(upgrade('Content-Length: 0\r\n'))).key).toBe(KEY);
  });

  it('checks the framing of a request head built elsewhere (handleUpgrade with a custom request)', () => {
    const head = parseRequest(upgrade());
    const doubled = {
      ...head,
      rawHeaders: [...head.rawHeaders, 'Content-Length', '0', 'Content-Length', '0'],
    };
    expect(catchHandshakeError(() => validateUpgradeRequest(doubled)).status).toBe(400);
  });
});

describe('RFC 9112 §2.3: the HTTP version', () => {
  it('answers HTTP/1.2 with 400 (as llhttp does)', () => {
    const error = parseError(upgrade('', 'GET /chat HTTP/1.2'), ErrorCode.InvalidHttpVersion);
    expect(error.status).toBe(400);
    expect(error.message).toMatch(/HTTP version/);
  });

  it.each(['HTTP/2.0', 'HTTP/0.9', 'HTTP/3.0', 'HTTP/9.9'])(
    'answers %s in an HTTP/1.1 request line with 400',
    (version) => {
      expect(parseError(upgrade('', `GET /chat ${version}`), ErrorCode.InvalidHttpVersion).status).toBe(400);
    },
  );

  it('still parses HTTP/1.0 (then refused by the handshake with 400) and HTTP/1.1', () => {
    expect(parseRequest(upgrade('', 'GET /chat HTTP/1.0')).httpVersion).toBe('1.0');
    expect(parseRequest(upgrade()).httpVersion).toBe('1.1');
  });

  it('rejects a response with another version than HTTP/1.0 or HTTP/1.1 (status 0)', () => {
    for (const version of ['HTTP/1.2', 'HTTP/2.0']) {
      const error = catchHandshakeError(() =>
        HttpHeadParser.forResponses().push(latin1Bytes(`${version} 101 Switching Protocols\r\n\r\n`)),
      );
      expect(error.status).toBe(0);
      expect(error.code).toBe(ErrorCode.InvalidHttpVersion);
    }
  });
});

describe('RFC 9112 §3.2, RFC 3986 §3.1–§3.2: the request-target', () => {
  it.each([
    'a+b://x/',
    'h1://a/',
    'http:/x',
    'http:x',
    'http://a"b/',
    'http://a<b/',
    'http://a>b/',
    'http://a{b/',
    'http://a}b/',
    'http://a|b/',
    'http://a\\b/',
    'http://a^b/',
    'http://a`b/',
    'http://a#b/',
    'http:///',
    'http://',
  ])('answers the absolute-form target %j with 400', (target) => {
    const error = catchHandshakeError(() =>
      validateUpgradeRequest(parseRequest(upgrade('', `GET ${target} HTTP/1.1`))),
    );
    expect(error.status).toBe(400);
    expect(error.message).toBe('Bad Request: invalid request target');
  });

  it.each([
    'http://a@b/',
    'http://[::1]:80/chat',
    'HTTP://a/',
    'ws://example.com/a?b=c',
    'wss://example.com?x',
    "http://a!$&'()*+,;=-._~%41:1/",
    '/<svg/onload=alert(1)>',
    '/{}|\\^`"',
  ])('accepts the target %j (as llhttp does)', (target) => {
    expect(validateUpgradeRequest(parseRequest(upgrade('', `GET ${target} HTTP/1.1`))).path).toBe(target);
  });
});
