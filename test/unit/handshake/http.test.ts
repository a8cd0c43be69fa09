import { describe, expect, it } from 'vitest';
import { ErrorCode, HandshakeError, InvalidStateError } from '../../../src/errors.ts';
import {
  DEFAULT_HTTP_HEAD_LIMITS,
  HeaderMap,
  HttpHeadParser,
  type RequestHead,
  type ResponseHead,
} from '../../../src/handshake/http.ts';
import { catchHandshakeError, latin1Bytes, SAMPLE_REQUEST, SAMPLE_RESPONSE } from './helpers.ts';

/** A masked "Hello" text frame (RFC 6455 §5.7), sent in the same packet as the handshake. */
const FRAME = Uint8Array.of(0x81, 0x85, 0x37, 0xfa, 0x21, 0x3d, 0x7f, 0x9f, 0x4d, 0x51, 0x58);

function concat(...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let offset = 0;
  for (const part of parts) {
    out.set(part, offset);
    offset += part.length;
  }
  return out;
}

/**
 * Feeds `chunks` until the head is done; returns the head and every byte after it (the `rest` of
 * the final push plus the chunks never pushed).
 */
function feed<H extends RequestHead | ResponseHead>(
  parser: HttpHeadParser<H>,
  chunks: readonly Uint8Array[],
): { head: H; after: Uint8Array } {
  for (let i = 0; i < chunks.length; i++) {
    const result = parser.push(chunks[i]!);
    if (result.done) return { head: result.head, after: concat(result.rest, ...chunks.slice(i + 1)) };
  }
  throw new Error('head never completed');
}

function expectSampleRequest(head: RequestHead): void {
  expect(head.method).toBe('GET');
  expect(head.target).toBe('/chat');
  expect(head.httpVersion).toBe('1.1');
  expect(head.headers.get('host')).toBe('server.example.com');
  expect(head.headers.get('SEC-WEBSOCKET-KEY')).toBe('dGhlIHNhbXBsZSBub25jZQ==');
  expect(head.headers.get('Sec-WebSocket-Protocol')).toBe('chat, superchat');
  expect(head.headers.size).toBe(7);
  expect(head.rawHeaders).toEqual([
    'Host',
    'server.example.com',
    'Upgrade',
    'websocket',
    'Connection',
    'Upgrade',
    'Sec-WebSocket-Key',
    'dGhlIHNhbXBsZSBub25jZQ==',
    'Origin',
    'http://example.com',
    'Sec-WebSocket-Protocol',
    'chat, superchat',
    'Sec-WebSocket-Version',
    '13',
  ]);
}

function requestError(
  text: string,
  limits?: Parameters<typeof HttpHeadParser.forRequests>[0],
): HandshakeError {
  return catchHandshakeError(() => HttpHeadParser.forRequests(limits).push(latin1Bytes(text)));
}

describe('RFC 7230 §3 request head: the RFC 6455 §1.3 sample', () => {
  const bytes = concat(latin1Bytes(SAMPLE_REQUEST), FRAME);

  it('parses in one chunk and returns the trailing frame bytes as rest', () => {
    const result = HttpHeadParser.forRequests().push(bytes);
    expect(result.done).toBe(true);
    if (!result.done) return;
    expectSampleRequest(result.head);
    expect(result.rest).toEqual(FRAME);
  });

  it('returns an empty rest when nothing follows the head', () => {
    const result = HttpHeadParser.forRequests().push(latin1Bytes(SAMPLE_REQUEST));
    expect(result.done && result.rest.length).toBe(0);
  });

  it('parses identically when split in two at every byte offset', () => {
    for (let i = 0; i <= bytes.length; i++) {
      const { head, after } = feed(HttpHeadParser.forRequests(), [bytes.subarray(0, i), bytes.subarray(i)]);
      expectSampleRequest(head);
      expect(after).toEqual(FRAME);
    }
  });

  it('parses identically when split in three at every pair of offsets', () => {
    for (let i = 0; i <= bytes.length; i++) {
      for (let j = i; j <= bytes.length; j++) {
        const { head, after } = feed(HttpHeadParser.forRequests(), [
          bytes.subarray(0, i),
          bytes.subarray(i, j),
          bytes.subarray(j),
        ]);
        expect(head.headers.get('sec-websocket-version')).toBe('13');
        expect(head.rawHeaders.length).toBe(14);
        expect(after).toEqual(FRAME);
      }
    }
  });

  it('parses identically when fed byte by byte, reporting done exactly at the blank line', () => {
    const parser = HttpHeadParser.forRequests();
    const headLength = SAMPLE_REQUEST.length;
    for (let i = 0; i < headLength - 1; i++) {
      expect(parser.push(bytes.subarray(i, i + 1)).done).toBe(false);
    }
    const last = parser.push(bytes.subarray(headLength - 1, headLength + 3));
    expect(last.done).toBe(true);
    if (last.done) {
      expectSampleRequest(last.head);
      expect(last.rest).toEqual(FRAME.subarray(0, 3));
    }
  });

  it('throws InvalidStateError when pushed to after it finished', () => {
    const parser = HttpHeadParser.forRequests();
    parser.push(bytes);
    expect(() => parser.push(FRAME)).toThrow(InvalidStateError);
  });
});

describe('RFC 7230 §3.1.2 response head: the RFC 6455 §1.3 sample', () => {
  const bytes = concat(latin1Bytes(SAMPLE_RESPONSE), Uint8Array.of(0x81, 0x05, 0x48, 0x65, 0x6c, 0x6c, 0x6f));

  it('parses at every split offset', () => {
    for (let i = 0; i <= bytes.length; i++) {
      const { head, after } = feed(HttpHeadParser.forResponses(), [bytes.subarray(0, i), bytes.subarray(i)]);
      expect(head.httpVersion).toBe('1.1');
      expect(head.statusCode).toBe(101);
      expect(head.statusText).toBe('Switching Protocols');
      expect(head.headers.get('sec-websocket-accept')).toBe('s3pPLMBiTxaQ9kYGzzhZRbK+xOo=');
      expect(after).toEqual(Uint8Array.of(0x81, 0x05, 0x48, 0x65, 0x6c, 0x6c, 0x6f));
    }
  });

  it('accepts a status line without a reason phrase', () => {
    for (const line of ['HTTP/1.1 101', 'HTTP/1.1 101 ']) {
      const result = HttpHeadParser.forResponses().push(latin1Bytes(`${line}\r\nUpgrade: websocket\r\n\r\n`));
      expect(result.done && result.head.statusCode).toBe(101);
      expect(result.done && result.head.statusText).toBe('');
    }
  });

  it.each([
    ['a lowercase protocol name', 'http/1.1 101 Switching Protocols'],
    ['a two-digit status', 'HTTP/1.1 10 Switching'],
    ['a non-digit status', 'HTTP/1.1 1O1 Switching Protocols'],
    ['no space after the status', 'HTTP/1.1 101Switching Protocols'],
    ['an empty status line', ''],
    ['a request line', 'GET / HTTP/1.1'],
  ])('rejects %s with status 0 (no valid status was received)', (_label, line) => {
    const error = catchHandshakeError(() =>
      HttpHeadParser.forResponses().push(latin1Bytes(`${line}\r\n\r\n`)),
    );
    expect(error.code).toBe(ErrorCode.MalformedHttp);
    expect(error.status).toBe(0);
  });

  it('rejects an obs-fold in a response too', () => {
    const error = catchHandshakeError(() =>
      HttpHeadParser.forResponses().push(latin1Bytes('HTTP/1.1 101 OK\r\nUpgrade:\r\n websocket\r\n\r\n')),
    );
    expect(error.status).toBe(0);
    expect(error.message).toMatch(/obs-fold/);
  });
});

describe('RFC 7230 §3.2 header fields', () => {
  it('joins repeated fields with ", " (§3.2.2) and keeps rawHeaders as received', () => {
    const head = HttpHeadParser.forRequests().push(
      latin1Bytes('GET / HTTP/1.1\r\nX-A: 1\r\nx-b: 2\r\nX-a: 3\r\n\r\n'),
    );
    expect(head.done).toBe(true);
    if (!head.done) return;
    expect(head.head.headers.get('x-a')).toBe('1, 3');
    expect(head.head.headers.has('X-B')).toBe(true);
    expect(head.head.headers.has('x-c')).toBe(false);
    expect(head.head.headers.get('x-c')).toBeUndefined();
    expect([...head.head.headers.entries()]).toEqual([
      ['x-a', '1, 3'],
      ['x-b', '2'],
    ]);
    expect(head.head.rawHeaders).toEqual(['X-A', '1', 'x-b', '2', 'X-a', '3']);
  });

  it('strips OWS around values but keeps inner whitespace (§3.2.4)', () => {
    const head = HttpHeadParser.forRequests().push(
      latin1Bytes('GET / HTTP/1.1\r\nX:  \t a  b \t\r\nY:\r\n\r\n'),
    );
    expect(head.done && head.head.headers.get('x')).toBe('a  b');
    expect(head.done && head.head.headers.get('y')).toBe('');
  });

  it('decodes obs-text bytes as ISO-8859-1 without loss', () => {
    const bytes = concat(
      latin1Bytes('GET / HTTP/1.1\r\nX: caf'),
      Uint8Array.of(0xe9, 0xff),
      latin1Bytes('\r\n\r\n'),
    );
    const head = HttpHeadParser.forRequests().push(bytes);
    expect(head.done && head.head.headers.get('x')).toBe('caf\u00e9\u00ff');
  });

  it('ignores empty lines before the request line (§3.5)', () => {
    const head = HttpHeadParser.forRequests().push(latin1Bytes(`\r\n\r\n${SAMPLE_REQUEST}`));
    expect(head.done && head.head.method).toBe('GET');
  });

  it('builds a HeaderMap from raw pairs', () => {
    const map = new HeaderMap(['Host', 'a', 'HOST', 'b']);
    expect(map.get('host')).toBe('a, b');
    expect(map.size).toBe(1);
    expect(new HeaderMap().size).toBe(0);
  });
});

describe('RFC 7230 §3.1.1, §3.2, §3.2.4, §3.5 malformed heads → 400', () => {
  const start = 'GET /chat HTTP/1.1\r\n';
  it.each([
    ['request line with two fields', 'GET /chat\r\n\r\n'],
    ['request line with a double space', 'GET  /chat HTTP/1.1\r\n\r\n'],
    ['request line with a trailing space', 'GET /chat HTTP/1.1 \r\n\r\n'],
    ['method that is not a token', 'G(T /chat HTTP/1.1\r\n\r\n'],
    ['space inside the target', 'GET /a b HTTP/1.1\r\n\r\n'],
    ['control character in the target', 'GET /a\x01b HTTP/1.1\r\n\r\n'],
    ['lowercase HTTP name', 'GET /chat http/1.1\r\n\r\n'],
    ['malformed version', 'GET /chat HTTP/11\r\n\r\n'],
    ['two-digit major version', 'GET /chat HTTP/10.1\r\n\r\n'],
    ['obs-fold (§3.2.4)', `${start}X-A: 1\r\n  continued\r\n\r\n`],
    ['obs-fold with a tab', `${start}X-A: 1\r\n\tcontinued\r\n\r\n`],
    ['space between name and colon (§3.2.4)', `${start}Host : example.com\r\n\r\n`],
    ['tab between name and colon', `${start}Host\t: example.com\r\n\r\n`],
    ['line without a colon', `${start}Host example.com\r\n\r\n`],
    ['empty field name', `${start}: value\r\n\r\n`],
    ['field name that is not a token', `${start}X[1]: value\r\n\r\n`],
    ['NUL in a value', `${start}X: a\x00b\r\n\r\n`],
    ['DEL in a value', `${start}X: a\x7fb\r\n\r\n`],
    ['bare LF line ending', `${start}Host: example.com\n\r\n`],
    ['bare LF ending the head', `${start}Host: example.com\r\n\n`],
    ['bare CR inside a line', `${start}X: a\rb\r\n\r\n`],
  ])('rejects a %s', (_label, text) => {
    const error = requestError(text);
    expect(error).toBeInstanceOf(HandshakeError);
    expect(error.code).toBe(ErrorCode.MalformedHttp);
    expect(error.status).toBe(400);
    expect(error.message).not.toMatch(/[\r\n]/);
  });

  it.each([
    ['obs-fold (§3.2.4)', 'X-A: 1\r\n continued\r\n', /obs-fold/],
    [
      'whitespace before the colon (§3.2.4)',
      'Host : a\r\n',
      /whitespace between header field name and colon/,
    ],
    ['bare CR (§3.5)', 'X: a\rb\r\n', /bare CR/],
    ['bare LF (§3.5)', 'X: a\n', /CRLF/],
  ])('names the rule broken by %s in the message', (_label, line, message) => {
    expect(requestError(`${start}${line}\r\n`).message).toMatch(message);
  });

  it('reports a malformed line as soon as it is complete, before the head ends', () => {
    const parser = HttpHeadParser.forRequests();
    expect(parser.push(latin1Bytes('GET / HTTP/1.1\r\n')).done).toBe(false);
    expect(() => parser.push(latin1Bytes('Bad Name: x\r\n'))).toThrow(HandshakeError);
    // A parser that threw is finished.
    expect(() => parser.push(latin1Bytes('\r\n'))).toThrow(InvalidStateError);
  });
});

describe('RFC 6585 §5 limits → 431', () => {
  /** A request head of exactly `size` bytes. */
  function headOfSize(size: number): string {
    const prefix = 'GET / HTTP/1.1\r\nX: ';
    const suffix = '\r\n\r\n';
    return prefix + 'a'.repeat(size - prefix.length - suffix.length) + suffix;
  }

  it('has documented defaults of 16384 bytes and 100 fields', () => {
    expect(DEFAULT_HTTP_HEAD_LIMITS).toEqual({ maxHeadSize: 16384, maxHeaderCount: 100 });
  });

  it('accepts a head of exactly maxHeadSize bytes, with frames after it in the same chunk', () => {
    const text = headOfSize(DEFAULT_HTTP_HEAD_LIMITS.maxHeadSize);
    const result = HttpHeadParser.forRequests().push(concat(latin1Bytes(text), FRAME));
    expect(result.done).toBe(true);
    expect(result.done && result.rest).toEqual(FRAME);
  });

  it('rejects a head of maxHeadSize + 1 bytes, in one chunk and byte by byte', () => {
    const text = headOfSize(DEFAULT_HTTP_HEAD_LIMITS.maxHeadSize + 1);
    const error = requestError(text);
    expect(error.code).toBe(ErrorCode.HeadTooLarge);
    expect(error.status).toBe(431);

    const parser = HttpHeadParser.forRequests();
    const bytes = latin1Bytes(text);
    let thrownAt = -1;
    for (let i = 0; i < bytes.length; i++) {
      try {
        parser.push(bytes.subarray(i, i + 1));
      } catch (e) {
        expect((e as HandshakeError).status).toBe(431);
        thrownAt = i;
        break;
      }
      expect(parser.retainedBytes).toBeLessThanOrEqual(DEFAULT_HTTP_HEAD_LIMITS.maxHeadSize);
    }
    // The byte that takes the head over the limit is the one that is refused.
    expect(thrownAt).toBe(DEFAULT_HTTP_HEAD_LIMITS.maxHeadSize);
  });

  it('never retains more than maxHeadSize bytes, whatever the chunk sizes', () => {
    const maxHeadSize = 1000;
    for (const chunkSize of [1, 7, 100, 999, 1000, 1001, 5000]) {
      const parser = HttpHeadParser.forRequests({ maxHeadSize });
      const endless = latin1Bytes(`GET / HTTP/1.1\r\nX: ${'a'.repeat(10_000)}`);
      let error: unknown;
      for (let i = 0; i < endless.length && error === undefined; i += chunkSize) {
        try {
          parser.push(endless.subarray(i, i + chunkSize));
        } catch (e) {
          error = e;
        }
        expect(parser.retainedBytes).toBeLessThanOrEqual(maxHeadSize);
      }
      expect(error).toBeInstanceOf(HandshakeError);
      expect((error as HandshakeError).status).toBe(431);
    }
  });

  it('rejects a 10 MB chunk without a line break immediately', () => {
    const parser = HttpHeadParser.forRequests();
    const error = catchHandshakeError(() => parser.push(new Uint8Array(10_000_000).fill(0x61)));
    expect(error.status).toBe(431);
    expect(parser.retainedBytes).toBe(0);
  });

  it('accepts maxHeaderCount fields and rejects one more', () => {
    const fields = (n: number) => Array.from({ length: n }, (_, i) => `X-${i}: ${i}\r\n`).join('');
    const ok = HttpHeadParser.forRequests({ maxHeaderCount: 5 }).push(
      latin1Bytes(`GET / HTTP/1.1\r\n${fields(5)}\r\n`),
    );
    expect(ok.done && ok.head.rawHeaders.length).toBe(10);

    const error = requestError(`GET / HTTP/1.1\r\n${fields(6)}\r\n`, { maxHeaderCount: 5 });
    expect(error.code).toBe(ErrorCode.HeadTooLarge);
    expect(error.status).toBe(431);
  });

  it('counts repeated names separately (they are separate field lines)', () => {
    const error = requestError(`GET / HTTP/1.1\r\n${'X: 1\r\n'.repeat(101)}\r\n`);
    expect(error.status).toBe(431);
  });

  it('reports too many fields as soon as the first byte of the extra field arrives', () => {
    const parser = HttpHeadParser.forRequests({ maxHeaderCount: 2 });
    expect(parser.push(latin1Bytes('GET / HTTP/1.1\r\nA: 1\r\nB: 2\r\n')).done).toBe(false);
    const error = catchHandshakeError(() => parser.push(latin1Bytes('C')));
    expect(error.status).toBe(431);
  });

  it('does not count the blank line as a field', () => {
    const parser = HttpHeadParser.forRequests({ maxHeaderCount: 2 });
    expect(parser.push(latin1Bytes('GET / HTTP/1.1\r\nA: 1\r\nB: 2\r\n\r')).done).toBe(false);
    expect(parser.push(latin1Bytes('\n')).done).toBe(true);
  });

  it('uses status 0 for responses that are too large (no status was received)', () => {
    const error = catchHandshakeError(() =>
      HttpHeadParser.forResponses({ maxHeadSize: 64 }).push(latin1Bytes(SAMPLE_RESPONSE)),
    );
    expect(error.code).toBe(ErrorCode.HeadTooLarge);
    expect(error.status).toBe(0);
  });

  it('refuses nonsensical limits with RangeError', () => {
    expect(() => HttpHeadParser.forRequests({ maxHeadSize: 0 })).toThrow(RangeError);
    expect(() => HttpHeadParser.forRequests({ maxHeadSize: 1.5 })).toThrow(RangeError);
    expect(() => HttpHeadParser.forResponses({ maxHeaderCount: -1 })).toThrow(RangeError);
  });
});

describe('linear time on pathological input', () => {
  it('parses a 1 MB header value of spaces and tabs fed byte by byte', () => {
    const value = ' \t'.repeat(500_000);
    const bytes = latin1Bytes(`GET / HTTP/1.1\r\nX: a${value}b\r\n\r\n`);
    const parser = HttpHeadParser.forRequests({ maxHeadSize: 2_000_000 });
    let done = false;
    for (let i = 0; i < bytes.length && !done; i += 1) done = parser.push(bytes.subarray(i, i + 1)).done;
    expect(done).toBe(true);
  });

  it('parses 50k tiny header lines split into 3-byte chunks', () => {
    const bytes = latin1Bytes(`GET / HTTP/1.1\r\n${'a:\r\n'.repeat(50_000)}\r\n`);
    const parser = HttpHeadParser.forRequests({ maxHeadSize: 1_000_000, maxHeaderCount: 50_000 });
    let result = parser.push(bytes.subarray(0, 3));
    for (let i = 3; i < bytes.length && !result.done; i += 3) result = parser.push(bytes.subarray(i, i + 3));
    expect(result.done && result.head.headers.get('a')?.length).toBe(2 * 49_999);
  });
});
