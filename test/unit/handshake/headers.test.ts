import { describe, expect, it } from 'vitest';
import { ErrorCode } from '../../../src/errors.ts';
import {
  asciiEqualsIgnoreCase,
  containsToken,
  type ExtensionOffer,
  isToken,
  isValidHostField,
  parseExtensions,
  parseSubprotocols,
  parseTokenList,
  serializeExtensions,
} from '../../../src/handshake/headers.ts';
import { catchHandshakeError } from './helpers.ts';

/** Offers as plain data, for readable expectations. */
function plain(offers: readonly ExtensionOffer[]): Array<[string, Array<[string, string | true]>]> {
  return offers.map((o) => [o.name, [...o.params]]);
}

describe('RFC 7230 §3.2.6 token', () => {
  it.each(['websocket', 'permessage-deflate', "!#$%&'*+-.^_`|~09AZaz", 'a'])('accepts %j', (s) => {
    expect(isToken(s)).toBe(true);
  });

  it.each([
    '',
    'a b',
    'a,b',
    'a;b',
    'a=b',
    '"a"',
    'a/b',
    'a:b',
    '(a)',
    '[a]',
    '{a}',
    'a\tb',
    'caf\u00e9',
    'a\u0100',
  ])('rejects %j', (s) => {
    expect(isToken(s)).toBe(false);
  });
});

describe('RFC 7230 §7 list syntax', () => {
  it('splits on commas, trims OWS and ignores empty elements', () => {
    expect(parseTokenList('a, , b,\t c ,')).toEqual(['a', 'b', 'c']);
    expect(parseTokenList(', ,,')).toEqual([]);
    expect(parseTokenList('')).toEqual([]);
    expect(parseTokenList('Keep-Alive')).toEqual(['Keep-Alive']);
  });

  it('does not trim non-OWS characters such as NBSP', () => {
    expect(parseTokenList('\u00a0a')).toEqual(['\u00a0a']);
  });

  it('finds a token case-insensitively as a whole element (RFC 6455 §4.2.1 item 4)', () => {
    expect(containsToken('keep-alive, Upgrade', 'upgrade')).toBe(true);
    expect(containsToken('UPGRADE', 'Upgrade')).toBe(true);
    expect(containsToken('upgrade-insecure', 'upgrade')).toBe(false);
    expect(containsToken('keep-alive', 'upgrade')).toBe(false);
    expect(containsToken('', 'upgrade')).toBe(false);
    expect(containsToken(undefined, 'upgrade')).toBe(false);
  });

  it('folds only ASCII case (RFC 6455 §2.1)', () => {
    expect(asciiEqualsIgnoreCase('WebSocket', 'websocket')).toBe(true);
    expect(asciiEqualsIgnoreCase('\u212aey', 'key')).toBe(false); // KELVIN SIGN lowercases to "k"
    expect(asciiEqualsIgnoreCase('\u00c9', '\u00e9')).toBe(false);
    expect(asciiEqualsIgnoreCase('[', '{')).toBe(false); // 0x5b | 0x20 === 0x7b
    expect(asciiEqualsIgnoreCase('ab', 'abc')).toBe(false);
  });
});

describe('RFC 6455 §9.1 Sec-WebSocket-Extensions grammar', () => {
  it('parses the RFC 7692 §5 multiple-offer example, keeping offers of the same name in order', () => {
    const offers = parseExtensions(
      'permessage-deflate; client_max_window_bits, permessage-deflate; server_max_window_bits=10',
    );
    expect(plain(offers)).toEqual([
      ['permessage-deflate', [['client_max_window_bits', true]]],
      ['permessage-deflate', [['server_max_window_bits', '10']]],
    ]);
  });

  it('parses the RFC 7692 §7.1.3.1 style offer with several parameters', () => {
    const offers = parseExtensions(
      'permessage-deflate; client_max_window_bits; server_max_window_bits=10, permessage-deflate; client_max_window_bits',
    );
    expect(plain(offers)).toEqual([
      [
        'permessage-deflate',
        [
          ['client_max_window_bits', true],
          ['server_max_window_bits', '10'],
        ],
      ],
      ['permessage-deflate', [['client_max_window_bits', true]]],
    ]);
  });

  it('parses the RFC 6455 §9.1 examples', () => {
    expect(plain(parseExtensions('foo'))).toEqual([['foo', []]]);
    expect(plain(parseExtensions('bar; baz=2'))).toEqual([['bar', [['baz', '2']]]]);
    expect(plain(parseExtensions('foo, bar; baz=2'))).toEqual([
      ['foo', []],
      ['bar', [['baz', '2']]],
    ]);
    expect(plain(parseExtensions('mux; max-channels=4; flow-control, deflate-stream'))).toEqual([
      [
        'mux',
        [
          ['max-channels', '4'],
          ['flow-control', true],
        ],
      ],
      ['deflate-stream', []],
    ]);
  });

  it('unescapes quoted-string values (RFC 7230 §3.2.6)', () => {
    expect(parseExtensions('foo; bar="baz"')[0]!.params.get('bar')).toBe('baz');
    expect(parseExtensions('foo; bar="10"')[0]!.params.get('bar')).toBe('10');
    expect(parseExtensions('foo; bar="b\\az"')[0]!.params.get('bar')).toBe('baz');
    expect(parseExtensions('foo; bar="\\1\\0"')[0]!.params.get('bar')).toBe('10');
  });

  it('accepts OWS around ";", "," and "=" and ignores empty list elements', () => {
    expect(plain(parseExtensions(' , foo ;\tbar = 1 ; baz ,, qux ,'))).toEqual([
      [
        'foo',
        [
          ['bar', '1'],
          ['baz', true],
        ],
      ],
      ['qux', []],
    ]);
    expect(parseExtensions('')).toEqual([]);
    expect(parseExtensions(' , ')).toEqual([]);
  });

  it('marks a repeated parameter (names compared case-insensitively) instead of rejecting the field', () => {
    // RFC 7692 §7: the extension declines such an offer; the §9.1 grammar itself allows it.
    const [offer] = parseExtensions('foo; A=1; a=2');
    expect(offer?.hasDuplicateParams).toBe(true);
    expect([...(offer?.params ?? [])]).toEqual([['A', '1']]); // the first value is kept
    expect(parseExtensions('foo; a; b')[0]?.hasDuplicateParams).toBeUndefined();
    const [flags] = parseExtensions(
      'permessage-deflate; client_no_context_takeover; client_no_context_takeover',
    );
    expect(flags?.hasDuplicateParams).toBe(true);
  });

  it.each([
    ['a parameter before any name', '; bar'],
    ['a quoted name', '"foo"'],
    ['a name followed by a space and a token', 'foo bar'],
    ['an empty parameter', 'foo;'],
    ['an empty parameter between others', 'foo; ; bar'],
    ['a parameter without a name', 'foo; =1'],
    ['an empty value', 'foo; bar='],
    ['an empty value followed by a comma', 'foo; bar=, baz'],
    ['two "="', 'foo; bar=1=2'],
    ['a value with a separator', 'foo; bar=a/b'],
    ['an unterminated quoted-string', 'foo; bar="baz'],
    ['an unterminated quoted-string ending in a backslash', 'foo; bar="baz\\'],
    ['a quoted value that is not a token after unescaping', 'foo; bar="a b"'],
    ['an empty quoted value', 'foo; bar=""'],
    ['an escaped quote making a non-token', 'foo; bar="\\""'],
    ['text after a quoted-string', 'foo; bar="1"2'],
    ['a control character in a quoted-string', 'foo; bar="a\x01"'],
    ['a non-token character', 'foo@bar'],
  ])('rejects %s with 400', (_label, value) => {
    const error = catchHandshakeError(() => parseExtensions(value));
    expect(error.code).toBe(ErrorCode.InvalidExtensions);
    expect(error.status).toBe(400);
    expect(error.message).toMatch(/^Invalid Sec-WebSocket-Extensions header: /);
  });

  it('allows the same parameter name in different offers', () => {
    expect(parseExtensions('foo; a=1, foo; a=2').map((o) => o.params.get('a'))).toEqual(['1', '2']);
  });

  it('serializes offers and round-trips them', () => {
    const text = 'permessage-deflate; client_max_window_bits, permessage-deflate; server_max_window_bits=10';
    expect(serializeExtensions(parseExtensions(text))).toBe(text);
    expect(serializeExtensions(parseExtensions('foo; bar="baz"'))).toBe('foo; bar=baz');
    expect(serializeExtensions([])).toBe('');
  });

  it('refuses to serialize non-tokens (which also keeps CR/LF off the wire)', () => {
    const offer = (name: string, params: Array<[string, string | true]>): ExtensionOffer => ({
      name,
      params: new Map(params),
    });
    expect(() => serializeExtensions([offer('a b', [])])).toThrow(TypeError);
    expect(() => serializeExtensions([offer('foo', [['x\r\ny', true]])])).toThrow(TypeError);
    expect(() => serializeExtensions([offer('foo', [['x', '1\r\nEvil: 1']])])).toThrow(TypeError);
    expect(() => serializeExtensions([offer('foo', [['x', '']])])).toThrow(TypeError);
  });
});

describe('RFC 6455 §4.1 item 10 / §11.3.4 Sec-WebSocket-Protocol', () => {
  it('parses a token list in order, case preserved', () => {
    expect(parseSubprotocols('chat, superchat')).toEqual(['chat', 'superchat']);
    expect(parseSubprotocols('Chat, chat')).toEqual(['Chat', 'chat']);
    expect(parseSubprotocols('v1.json.api ,, mqtt')).toEqual(['v1.json.api', 'mqtt']);
    expect(parseSubprotocols('')).toEqual([]);
  });

  it.each([
    ['a duplicate', 'chat, chat'],
    ['a space inside an element', 'chat superchat'],
    ['a quoted element', 'chat, "superchat"'],
    ['a separator', 'chat/1'],
    ['a non-ASCII element', 'caf\u00e9'],
  ])('rejects %s with 400', (_label, value) => {
    const error = catchHandshakeError(() => parseSubprotocols(value));
    expect(error.code).toBe(ErrorCode.InvalidSubprotocol);
    expect(error.status).toBe(400);
    expect(error.message).toMatch(/^Invalid Sec-WebSocket-Protocol header: /);
  });
});

describe('RFC 7230 §5.4 Host value', () => {
  it.each(['example.com', 'example.com:8080', '[::1]:443', '127.0.0.1', 'xn--bcher-kva.example'])(
    'accepts %j',
    (host) => {
      expect(isValidHostField(host)).toBe(true);
    },
  );

  it.each(['', 'a b', 'a, b', 'a\r\nb', 'user@host', 'a/b', 'caf\u00e9'])('rejects %j', (host) => {
    expect(isValidHostField(host)).toBe(false);
  });
});

describe('linear time on pathological header values', () => {
  const N = 100_000;

  it('parses 100k spaces, commas and tabs', () => {
    expect(parseExtensions(' '.repeat(N))).toEqual([]);
    expect(parseExtensions(','.repeat(N))).toEqual([]);
    expect(parseExtensions(', \t'.repeat(N))).toEqual([]);
    expect(parseTokenList(' ,'.repeat(N))).toEqual([]);
    expect(parseSubprotocols(', '.repeat(N))).toEqual([]);
  });

  it('parses 100k offers and 100k parameters', () => {
    expect(parseExtensions('a,'.repeat(N)).length).toBe(N);
    const manyParams = `a${Array.from({ length: N }, (_, i) => `; p${i}=${i}`).join('')}`;
    expect(parseExtensions(manyParams)[0]!.params.size).toBe(N);
  });

  it('rejects quote and backslash floods without backtracking', () => {
    for (const value of [
      `a; b="${'\\"'.repeat(N)}"`,
      `a; b="${'\\'.repeat(N)}`,
      `a; b=${'"'.repeat(N)}`,
      `a${'; '.repeat(N)}`,
      `a; b="${'x'.repeat(N)}`,
      `a; b=${' ='.repeat(N)}`,
    ]) {
      expect(catchHandshakeError(() => parseExtensions(value)).status).toBe(400);
    }
  });

  it('parses a long quoted token with many escapes', () => {
    expect(parseExtensions(`a; b="${'\\x'.repeat(N)}"`)[0]!.params.get('b')).toBe('x'.repeat(N));
  });

  it('rejects 100k duplicate subprotocols at the first repeat', () => {
    expect(catchHandshakeError(() => parseSubprotocols('a, '.repeat(N))).status).toBe(400);
  });
});
