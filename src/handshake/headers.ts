/**
 * RFC 9110 §5.6 grammar helpers for the handshake header fields: tokens, comma-separated lists,
 * `Sec-WebSocket-Extensions` (RFC 6455 §9.1) and `Sec-WebSocket-Protocol` (RFC 6455 §4.1 item 10).
 *
 * Every parser here is a single left-to-right pass over the characters (no regular expressions), so
 * its running time is linear in the length of the header value, whatever the value contains.
 */

import { ErrorCode, HandshakeError } from '../errors.ts';

/**
 * `tchar` lookup table for the 128 ASCII codes. RFC 9110 §5.6.2:
 *
 * ```
 * token = 1*tchar
 * tchar = "!" / "#" / "$" / "%" / "&" / "'" / "*" / "+" / "-" / "." / "^" / "_" / "`" / "|" / "~"
 *       / DIGIT / ALPHA ; any VCHAR, except delimiters
 * ```
 */
const TCHAR: Uint8Array = (() => {
  const table = new Uint8Array(128);
  const extra = "!#$%&'*+-.^_`|~";
  for (let i = 0; i < extra.length; i++) table[extra.charCodeAt(i)] = 1;
  for (let c = 0x30; c <= 0x39; c++) table[c] = 1; // DIGIT
  for (let c = 0x41; c <= 0x5a; c++) table[c] = 1; // ALPHA upper
  for (let c = 0x61; c <= 0x7a; c++) table[c] = 1; // ALPHA lower
  return table;
})();

const SP = 0x20;
const HTAB = 0x09;
const COMMA = 0x2c;
const SEMICOLON = 0x3b;
const EQUALS = 0x3d;
const DQUOTE = 0x22;
const BACKSLASH = 0x5c;

/**
 * Whether a character code is a `tchar` (RFC 9110 §5.6.2).
 *
 * @param code - A UTF-16 code unit (or byte).
 * @throws Never.
 */
export function isTchar(code: number): boolean {
  return code < 128 && TCHAR[code] === 1;
}

/**
 * Tells whether `s` is a `token` (RFC 9110 §5.6.2: `token = 1*tchar`).
 *
 * @param s - The candidate string.
 * @returns `true` when `s` is non-empty and made only of `tchar`s.
 * @throws Never.
 */
export function isToken(s: string): boolean {
  if (s.length === 0) return false;
  for (let i = 0; i < s.length; i++) {
    if (!isTchar(s.charCodeAt(i))) return false;
  }
  return true;
}

/** Whether a character code is optional whitespace (RFC 9110 §5.6.3: `OWS = *( SP / HTAB )`). */
function isOws(code: number): boolean {
  return code === SP || code === HTAB;
}

/**
 * Compares two strings for equality, ignoring the case of ASCII letters only (the "ASCII
 * case-insensitive match" RFC 6455 §2.1 asks for; `toLowerCase()` would also fold non-ASCII).
 *
 * @param a - One string.
 * @param b - The other.
 * @returns `true` when they are equal after mapping A–Z to a–z.
 * @throws Never.
 */
export function asciiEqualsIgnoreCase(a: string, b: string): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) {
    let x = a.charCodeAt(i);
    let y = b.charCodeAt(i);
    if (x === y) continue;
    if (x >= 0x41 && x <= 0x5a) x |= 0x20;
    if (y >= 0x41 && y <= 0x5a) y |= 0x20;
    if (x !== y || x < 0x61 || x > 0x7a) return false;
  }
  return true;
}

/**
 * Splits a comma-separated header list into its elements, trimming OWS around each.
 *
 * RFC 9110 §5.6.1.2: "a recipient MUST parse and ignore a reasonable number of empty list elements" and
 * `#element => [ ( "," / element ) *( OWS "," [ OWS element ] ) ]`, so `a, , b,` is `["a", "b"]`.
 * Elements are returned as written (not lowercased, not checked to be tokens); callers compare them
 * case-insensitively where the field is case-insensitive.
 *
 * @param value - The field value (repeated fields already joined with `", "`).
 * @returns The non-empty elements in order.
 * @throws Never.
 */
export function parseTokenList(value: string): string[] {
  const out: string[] = [];
  const length = value.length;
  let start = 0;
  while (start <= length) {
    let end = value.indexOf(',', start);
    if (end === -1) end = length;
    let a = start;
    let b = end;
    while (a < b && isOws(value.charCodeAt(a))) a++;
    while (b > a && isOws(value.charCodeAt(b - 1))) b--;
    if (b > a) out.push(value.slice(a, b));
    start = end + 1;
  }
  return out;
}

/**
 * Tells whether a comma-separated header value contains `token`, ASCII case-insensitively, as one of
 * its elements — e.g. `containsToken('keep-alive, Upgrade', 'upgrade')` is `true`
 * (RFC 6455 §4.2.1 item 4: "A |Connection| header field that includes the token "Upgrade", treated
 * as an ASCII case-insensitive value.").
 *
 * @param value - The field value, or `undefined` when the field is absent.
 * @param token - The element to look for.
 * @returns `true` when one element equals `token` ignoring ASCII case.
 * @throws Never.
 */
export function containsToken(value: string | undefined, token: string): boolean {
  if (value === undefined) return false;
  for (const element of parseTokenList(value)) {
    if (asciiEqualsIgnoreCase(element, token)) return true;
  }
  return false;
}

/** One extension in a `Sec-WebSocket-Extensions` value (RFC 6455 §9.1). */
export interface ExtensionOffer {
  /** The extension token as written, e.g. `permessage-deflate`. */
  readonly name: string;
  /** Parameters in order of appearance; `true` for a parameter without a value. */
  readonly params: ReadonlyMap<string, string | true>;
  /** True when a parameter name appeared more than once (only the first value is in `params`). */
  readonly hasDuplicateParams?: boolean;
}

/** Cursor over a header value, shared by the extension parser's small helpers. */
interface Cursor {
  readonly s: string;
  i: number;
}

function skipOws(c: Cursor): void {
  while (c.i < c.s.length && isOws(c.s.charCodeAt(c.i))) c.i++;
}

/** Reads a (possibly empty) run of tchars. */
function readToken(c: Cursor): string {
  const start = c.i;
  while (c.i < c.s.length && isTchar(c.s.charCodeAt(c.i))) c.i++;
  return c.s.slice(start, c.i);
}

function extensionsError(reason: string, c: Cursor): HandshakeError {
  return new HandshakeError(
    ErrorCode.InvalidExtensions,
    400,
    `Invalid Sec-WebSocket-Extensions header: ${reason} at position ${c.i}`,
  );
}

/**
 * Reads a quoted-string starting at the opening DQUOTE and returns its unescaped content.
 * RFC 9110 §5.6.4:
 *
 * ```
 * quoted-string = DQUOTE *( qdtext / quoted-pair ) DQUOTE
 * qdtext        = HTAB / SP /%x21 / %x23-5B / %x5D-7E / obs-text
 * quoted-pair   = "\" ( HTAB / SP / VCHAR / obs-text )
 * ```
 */
function readQuotedString(c: Cursor): string {
  const s = c.s;
  c.i++; // opening DQUOTE
  let out = '';
  let runStart = c.i;
  while (c.i < s.length) {
    const code = s.charCodeAt(c.i);
    if (code === DQUOTE) {
      out += s.slice(runStart, c.i);
      c.i++;
      return out;
    }
    if (code === BACKSLASH) {
      out += s.slice(runStart, c.i);
      c.i++;
      if (c.i >= s.length) break;
      const escaped = s.charCodeAt(c.i);
      if (!isFieldChar(escaped)) throw extensionsError('invalid quoted-pair', c);
      out += s[c.i]!;
      c.i++;
      runStart = c.i;
      continue;
    }
    if (!isFieldChar(code)) throw extensionsError('invalid character in quoted-string', c);
    c.i++;
  }
  throw extensionsError('unterminated quoted-string', c);
}

/** HTAB / SP / VCHAR / obs-text: the characters allowed in field values (RFC 9110 §5.5). */
function isFieldChar(code: number): boolean {
  return code === HTAB || (code >= 0x20 && code <= 0x7e) || (code >= 0x80 && code <= 0xff);
}

/**
 * Parses a `Sec-WebSocket-Extensions` value. RFC 6455 §9.1:
 *
 * ```
 * Sec-WebSocket-Extensions = extension-list
 * extension-list = 1#extension
 * extension = extension-token *( ";" extension-param )
 * extension-token = registered-token
 * registered-token = token
 * extension-param = token [ "=" (token | quoted-string) ]
 *     ;When using the quoted-string syntax variant, the value
 *     ;after quoted-string unescaping MUST conform to the
 *     ;'token' ABNF.
 * ```
 *
 * OWS is accepted around `,`, `;` and `=` (the "implied *LWS" of RFC 2616 §2.1 that RFC 6455 §4.1
 * says its ABNF uses). Empty list elements are ignored (RFC 9110 §5.6.1.2), so an empty value gives `[]`.
 * Several offers of the same extension are kept in order: "the client can offer the same extension
 * more than once with different parameters" (RFC 7692 §5 relies on this). Parameter names are kept
 * as written. A parameter repeated within one offer (names compared case-insensitively) is not a
 * syntax error of the field, whose grammar allows it; the offer keeps the first value and is marked
 * `hasDuplicateParams`, so that the extension can decline just that offer (RFC 7692 §7: "A server
 * MUST decline an extension negotiation offer ... [that] includes multiple extension parameters with
 * the same name").
 *
 * @param value - The field value (repeated fields already joined with `", "`).
 * @returns The offers, in order.
 * @throws {HandshakeError} `WS_ERR_INVALID_EXTENSIONS`, status 400, on any syntax error.
 */
export function parseExtensions(value: string): ExtensionOffer[] {
  const offers: ExtensionOffer[] = [];
  const c: Cursor = { s: value, i: 0 };
  const length = value.length;
  for (;;) {
    skipOws(c);
    if (c.i >= length) break;
    if (value.charCodeAt(c.i) === COMMA) {
      c.i++; // empty list element
      continue;
    }
    const name = readToken(c);
    if (name === '') throw extensionsError('expected an extension token', c);
    const params = new Map<string, string | true>();
    const seen = new Set<string>();
    let hasDuplicateParams = false;
    skipOws(c);
    while (c.i < length && value.charCodeAt(c.i) === SEMICOLON) {
      c.i++;
      skipOws(c);
      const param = readToken(c);
      if (param === '') throw extensionsError('expected a parameter name', c);
      const folded = param.toLowerCase();
      const duplicate = seen.has(folded);
      if (duplicate) hasDuplicateParams = true;
      seen.add(folded);
      skipOws(c);
      let paramValue: string | true = true;
      if (c.i < length && value.charCodeAt(c.i) === EQUALS) {
        c.i++;
        skipOws(c);
        if (c.i < length && value.charCodeAt(c.i) === DQUOTE) {
          paramValue = readQuotedString(c);
          // §9.1: "the value after quoted-string unescaping MUST conform to the 'token' ABNF."
          if (!isToken(paramValue)) throw extensionsError('quoted parameter value is not a token', c);
        } else {
          paramValue = readToken(c);
          if (paramValue === '') throw extensionsError('expected a parameter value', c);
        }
        skipOws(c);
      }
      if (!duplicate) params.set(param, paramValue);
    }
    if (c.i < length && value.charCodeAt(c.i) !== COMMA) throw extensionsError('unexpected character', c);
    offers.push(hasDuplicateParams ? { name, params, hasDuplicateParams } : { name, params });
  }
  return offers;
}

/**
 * Serializes offers (or a server's accepted extensions) for a `Sec-WebSocket-Extensions` field,
 * e.g. `permessage-deflate; client_max_window_bits, permessage-deflate; server_max_window_bits=10`.
 * Values are written as bare tokens: RFC 6455 §9.1 requires every value to be a token, so quoting
 * is never needed.
 *
 * @param offers - The offers to write, in order.
 * @returns The field value (empty string for no offers).
 * @throws {TypeError} When a name, parameter name or parameter value is not a token (which also
 * guarantees no CR/LF can reach the wire).
 */
export function serializeExtensions(offers: readonly ExtensionOffer[]): string {
  const parts: string[] = [];
  for (const offer of offers) {
    if (!isToken(offer.name))
      throw new TypeError(`Extension name ${JSON.stringify(offer.name)} is not a token`);
    let text = offer.name;
    for (const [param, paramValue] of offer.params) {
      if (!isToken(param)) throw new TypeError(`Extension parameter ${JSON.stringify(param)} is not a token`);
      if (paramValue === true) {
        text += `; ${param}`;
      } else {
        if (!isToken(paramValue)) {
          throw new TypeError(`Value of extension parameter ${param} is not a token`);
        }
        text += `; ${param}=${paramValue}`;
      }
    }
    parts.push(text);
  }
  return parts.join(', ');
}

/**
 * Parses a `Sec-WebSocket-Protocol` value into subprotocol names.
 *
 * RFC 6455 §4.1 item 10: "The elements that comprise this value MUST be non-empty strings with
 * characters in the range U+0021 to U+007E not including separator characters as defined in
 * [RFC2616] and MUST all be unique strings." — i.e. each element is a token (§11.3.4 registers the
 * field as `1#token`). Empty list elements are ignored (RFC 9110 §5.6.1.2). Names are case-sensitive.
 *
 * @param value - The field value (repeated fields already joined with `", "`).
 * @returns The names in the client's order of preference.
 * @throws {HandshakeError} `WS_ERR_INVALID_SUBPROTOCOL`, status 400, on a non-token element or a
 * duplicate.
 */
export function parseSubprotocols(value: string): string[] {
  const names = parseTokenList(value);
  const seen = new Set<string>();
  for (const name of names) {
    if (!isToken(name)) {
      throw new HandshakeError(
        ErrorCode.InvalidSubprotocol,
        400,
        'Invalid Sec-WebSocket-Protocol header: an element is not a token',
      );
    }
    if (seen.has(name)) {
      throw new HandshakeError(
        ErrorCode.InvalidSubprotocol,
        400,
        // Not named: error messages are sent as the body of the 400, and reflect nothing of the request.
        'Invalid Sec-WebSocket-Protocol header: a subprotocol is listed twice',
      );
    }
    seen.add(name);
  }
  return names;
}

/**
 * Tells whether `host` is a plausible `Host` field value, `uri-host [ ":" port ]` (RFC 9110 §7.2):
 * non-empty and made only of the characters of RFC 3986 reg-name, IP-literal and port (unreserved,
 * sub-delims, "%", ":", "[", "]"). Spaces are refused, so two `Host` fields joined with ", " never
 * pass, and neither can CR or LF.
 *
 * @param host - The candidate value, e.g. `example.com:8080` or `[::1]:443`.
 * @returns `true` when every character is allowed in an authority without userinfo.
 * @throws Never.
 */
export function isValidHostField(host: string): boolean {
  if (host.length === 0) return false;
  for (let i = 0; i < host.length; i++) {
    const c = host.charCodeAt(i);
    const ok =
      (c >= 0x30 && c <= 0x39) ||
      (c >= 0x41 && c <= 0x5a) ||
      (c >= 0x61 && c <= 0x7a) ||
      "-._~!$&'()*+,;=%:[]".includes(host[i]!);
    if (!ok) return false;
  }
  return true;
}
