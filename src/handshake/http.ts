/**
 * Incremental HTTP/1.1 message-head parser (RFC 7230 §3) for the opening handshake.
 *
 * ```
 *   chunk ──▶ push() ──▶ split at LF ──▶ complete line? ──▶ start line / header field / blank line
 *                │                            │ no                                     │
 *                │                     keep the partial line                 { done, head, rest }
 *                └── head so far > maxHeadSize, or > maxHeaderCount fields ──▶ HandshakeError 431
 * ```
 *
 * Each byte is looked at once: lines are parsed as soon as their LF arrives, so a malformed line or
 * one header field too many is reported immediately, and only the current partial line is kept
 * (never more than `maxHeadSize` bytes). The bytes after the blank line are handed back untouched
 * (`rest`), since a client may send its first frames in the same packet as the handshake.
 *
 * Header bytes are decoded as ISO-8859-1 (one byte → one UTF-16 code unit), the historical HTTP
 * charset (RFC 7230 §3.2.4: "Historically, HTTP has allowed field content with text in the
 * ISO-8859-1 charset"), so that no byte is lost or replaced.
 */

import { DEFAULTS } from '../defaults.ts';
import { ErrorCode, type ErrorCodeString, HandshakeError, InvalidStateError } from '../errors.ts';
import { isTchar } from './headers.ts';

/** Limits that bound the memory and work a peer can cause before the head is complete. */
export interface HttpHeadLimits {
  /**
   * Largest accepted head, in bytes, counting the start line, the fields and the final blank line.
   * Default 16384: the handshake of a browser with cookies is well under 8 KiB, and Node's own
   * `--max-http-header-size` default is 16 KiB.
   */
  readonly maxHeadSize: number;
  /**
   * Largest accepted number of header field lines. Default 100: a real handshake has 10–20; Node's
   * `http` module uses `maxHeadersCount` 2000, but a WebSocket endpoint has no need for as many.
   */
  readonly maxHeaderCount: number;
}

/** Default {@link HttpHeadLimits}: 16384 bytes and 100 header fields. */
export const DEFAULT_HTTP_HEAD_LIMITS: HttpHeadLimits = DEFAULTS.httpHeadLimits;

/**
 * Header fields by case-insensitive name (RFC 7230 §3.2: "Each header field consists of a
 * case-insensitive field name followed by a colon").
 */
export class HeaderMap {
  readonly #fields = new Map<string, string>();

  /**
   * Builds a map from `[name, value, name, value, …]` pairs.
   *
   * @param rawHeaders - Name/value pairs as received; names need not be lowercase.
   * @throws Never.
   */
  constructor(rawHeaders: readonly string[] = []) {
    for (let i = 0; i + 1 < rawHeaders.length; i += 2) {
      const name = rawHeaders[i]!.toLowerCase();
      const value = rawHeaders[i + 1]!;
      const previous = this.#fields.get(name);
      // RFC 7230 §3.2.2: "A recipient MAY combine multiple header fields with the same field name
      // into one "field-name: field-value" pair, without changing the semantics of the message, by
      // appending each subsequent field value to the combined field value in order, separated by a
      // comma."
      this.#fields.set(name, previous === undefined ? value : `${previous}, ${value}`);
    }
  }

  /**
   * The value of a field, repeated fields joined with `", "` (RFC 7230 §3.2.2).
   *
   * @param name - Field name, any case.
   * @returns The combined value, or `undefined` when the field is absent.
   * @throws Never.
   */
  get(name: string): string | undefined {
    return this.#fields.get(name.toLowerCase());
  }

  /**
   * Whether the field is present (even with an empty value).
   *
   * @param name - Field name, any case.
   * @throws Never.
   */
  has(name: string): boolean {
    return this.#fields.has(name.toLowerCase());
  }

  /**
   * Iterates `[lowercaseName, combinedValue]` in order of first appearance.
   *
   * @throws Never.
   */
  entries(): IterableIterator<[lowercaseName: string, value: string]> {
    return this.#fields.entries();
  }

  /** Number of distinct field names. */
  get size(): number {
    return this.#fields.size;
  }
}

/** A parsed HTTP/1.1 request head (RFC 7230 §3.1.1). */
export interface RequestHead {
  readonly method: string;
  readonly target: string;
  /** e.g. `"1.1"`. */
  readonly httpVersion: string;
  readonly headers: HeaderMap;
  /** `[name, value, name, value, …]` as received (names in their original case). */
  readonly rawHeaders: readonly string[];
}

/** A parsed HTTP/1.1 response head (RFC 7230 §3.1.2). */
export interface ResponseHead {
  /** e.g. `"1.1"`. */
  readonly httpVersion: string;
  readonly statusCode: number;
  readonly statusText: string;
  readonly headers: HeaderMap;
  /** `[name, value, name, value, …]` as received (names in their original case). */
  readonly rawHeaders: readonly string[];
}

/**
 * Result of {@link HttpHeadParser.push}: not done yet, or the head plus the bytes that followed it
 * (`rest` is a view into the last pushed chunk; it may hold WebSocket frames).
 */
export type HeadParseResult<H> =
  | { readonly done: false }
  | { readonly done: true; readonly head: H; readonly rest: Uint8Array };

const CR = 0x0d;
const LF = 0x0a;
const SP = 0x20;
const HTAB = 0x09;
const COLON = 0x3a;
const NOT_DONE: HeadParseResult<never> = Object.freeze({ done: false });

type Kind = 'request' | 'response';

interface StartLine {
  readonly method: string;
  readonly target: string;
  readonly httpVersion: string;
  readonly statusCode: number;
  readonly statusText: string;
}

/** ISO-8859-1 decoding of `bytes[start, end)`, in slices small enough for `fromCharCode.apply`. */
function latin1(bytes: Uint8Array, start: number, end: number): string {
  let out = '';
  for (let i = start; i < end; i += 8192) {
    out += String.fromCharCode.apply(null, bytes.subarray(i, Math.min(end, i + 8192)) as unknown as number[]);
  }
  return out;
}

/**
 * Parses an HTTP-version (RFC 7230 §2.6: `HTTP-version = HTTP-name "/" DIGIT "." DIGIT`,
 * `HTTP-name = %x48.54.54.50 ; "HTTP", case-sensitive`) at `bytes[start, start + 8)`.
 *
 * @returns e.g. `"1.1"`, or `undefined` when malformed.
 */
function parseHttpVersion(bytes: Uint8Array, start: number, end: number): string | undefined {
  if (end - start !== 8) return undefined;
  const major = bytes[start + 5]!;
  const minor = bytes[start + 7]!;
  if (
    bytes[start] !== 0x48 || // H
    bytes[start + 1] !== 0x54 || // T
    bytes[start + 2] !== 0x54 || // T
    bytes[start + 3] !== 0x50 || // P
    bytes[start + 4] !== 0x2f || // /
    bytes[start + 6] !== 0x2e || // .
    major < 0x30 ||
    major > 0x39 ||
    minor < 0x30 ||
    minor > 0x39
  ) {
    return undefined;
  }
  return `${major - 0x30}.${minor - 0x30}`;
}

/**
 * An incremental parser for one HTTP/1.1 request or response head.
 *
 * Create one with {@link HttpHeadParser.forRequests} (server side) or
 * {@link HttpHeadParser.forResponses} (client side), then {@link HttpHeadParser.push} every chunk
 * read from the socket until it returns `done: true`. A parser is single-use: after it finished or
 * threw, further pushes throw {@link InvalidStateError}.
 *
 * Errors are {@link HandshakeError}s. For requests their `status` is the one to answer with (400 or
 * 431). For responses no status was received, so `status` is 0 (see {@link HandshakeError.status}).
 */
export class HttpHeadParser<H extends RequestHead | ResponseHead> {
  readonly #kind: Kind;
  readonly #maxHeadSize: number;
  readonly #maxHeaderCount: number;
  /** Bytes of the current, incomplete line (only `#lineLength` of them are meaningful). */
  #line: Uint8Array = new Uint8Array(0);
  #lineLength = 0;
  /** Bytes of the head consumed so far, including the partial line. */
  #headSize = 0;
  #startLine: StartLine | undefined = undefined;
  readonly #rawHeaders: string[] = [];
  #finished = false;

  private constructor(kind: Kind, limits: Partial<HttpHeadLimits> | undefined) {
    const maxHeadSize = limits?.maxHeadSize ?? DEFAULT_HTTP_HEAD_LIMITS.maxHeadSize;
    const maxHeaderCount = limits?.maxHeaderCount ?? DEFAULT_HTTP_HEAD_LIMITS.maxHeaderCount;
    if (!Number.isSafeInteger(maxHeadSize) || maxHeadSize < 1) {
      throw new RangeError(`maxHeadSize must be a positive integer, got ${maxHeadSize}`);
    }
    if (!Number.isSafeInteger(maxHeaderCount) || maxHeaderCount < 0) {
      throw new RangeError(`maxHeaderCount must be a non-negative integer, got ${maxHeaderCount}`);
    }
    this.#kind = kind;
    this.#maxHeadSize = maxHeadSize;
    this.#maxHeaderCount = maxHeaderCount;
  }

  /**
   * A parser for request heads (`GET /chat HTTP/1.1` …), used by servers.
   *
   * @param limits - Overrides of {@link DEFAULT_HTTP_HEAD_LIMITS}.
   * @throws {RangeError} When a limit is not a positive (for `maxHeaderCount`: non-negative) integer.
   */
  static forRequests(limits?: Partial<HttpHeadLimits>): HttpHeadParser<RequestHead> {
    return new HttpHeadParser<RequestHead>('request', limits);
  }

  /**
   * A parser for response heads (`HTTP/1.1 101 Switching Protocols` …), used by clients.
   *
   * @param limits - Overrides of {@link DEFAULT_HTTP_HEAD_LIMITS}.
   * @throws {RangeError} When a limit is not a positive (for `maxHeaderCount`: non-negative) integer.
   */
  static forResponses(limits?: Partial<HttpHeadLimits>): HttpHeadParser<ResponseHead> {
    return new HttpHeadParser<ResponseHead>('response', limits);
  }

  /**
   * Capacity, in bytes, of the internal buffer that holds the current partial line. Exposed for
   * diagnostics and tests: it never exceeds `maxHeadSize`.
   */
  get retainedBytes(): number {
    return this.#line.byteLength;
  }

  /**
   * Feeds the next chunk of bytes.
   *
   * @param chunk - Bytes read from the peer; not retained after the call, except that `rest` is a
   * view into it.
   * @returns `{ done: false }` while the head is incomplete; then `{ done: true, head, rest }`.
   * @throws {HandshakeError} `WS_ERR_HEAD_TOO_LARGE` (status 431 for requests, 0 for responses) when
   * the head exceeds `maxHeadSize` bytes or `maxHeaderCount` fields; `WS_ERR_MALFORMED_HTTP`
   * (status 400 for requests, 0 for responses) for a malformed start line or header field line,
   * `WS_ERR_INVALID_HTTP_VERSION` (same statuses) for a version other than HTTP/1.0 and HTTP/1.1.
   * @throws {InvalidStateError} When called after the parser finished or threw.
   */
  push(chunk: Uint8Array): HeadParseResult<H> {
    if (this.#finished) throw new InvalidStateError('HttpHeadParser is single-use and has already finished');
    try {
      return this.#push(chunk);
    } catch (error) {
      this.#finished = true;
      this.#line = new Uint8Array(0);
      throw error;
    }
  }

  #push(chunk: Uint8Array): HeadParseResult<H> {
    let i = 0;
    while (i < chunk.length) {
      const lf = chunk.indexOf(LF, i);
      const end = lf === -1 ? chunk.length : lf + 1;
      // Bound the head before copying anything: once it is over the limit it can never shrink.
      if (this.#headSize + (end - i) > this.#maxHeadSize) {
        throw this.#tooLarge(`HTTP head exceeds ${this.#maxHeadSize} bytes`);
      }
      this.#headSize += end - i;
      if (lf === -1) {
        this.#checkPartialLine(this.#lineLength === 0 ? chunk[i]! : this.#line[0]!);
        this.#append(chunk, i, chunk.length);
        return NOT_DONE;
      }
      let complete: Uint8Array;
      if (this.#lineLength === 0) {
        complete = chunk.subarray(i, end);
      } else {
        this.#append(chunk, i, end);
        complete = this.#line.subarray(0, this.#lineLength);
        this.#lineLength = 0;
      }
      i = end;
      if (this.#onLine(complete)) {
        this.#finished = true;
        this.#line = new Uint8Array(0);
        return { done: true, head: this.#buildHead(), rest: chunk.subarray(i) };
      }
    }
    return NOT_DONE;
  }

  /**
   * Reports one header field too many as soon as the first byte of the field line arrives, rather
   * than waiting for the whole line (which may be up to `maxHeadSize` bytes long).
   */
  #checkPartialLine(firstByte: number): void {
    if (
      this.#startLine !== undefined &&
      firstByte !== CR &&
      this.#rawHeaders.length / 2 >= this.#maxHeaderCount
    ) {
      throw this.#tooLarge(`more than ${this.#maxHeaderCount} header fields`);
    }
  }

  /** Appends `chunk[start, end)` to the partial line, growing its buffer up to `maxHeadSize`. */
  #append(chunk: Uint8Array, start: number, end: number): void {
    const needed = this.#lineLength + (end - start);
    if (needed > this.#line.length) {
      // The caller checked needed <= headSize <= maxHeadSize, so the buffer never outgrows the limit.
      const capacity = Math.min(this.#maxHeadSize, Math.max(needed, this.#line.length * 2, 256));
      const grown = new Uint8Array(capacity);
      grown.set(this.#line.subarray(0, this.#lineLength));
      this.#line = grown;
    }
    this.#line.set(chunk.subarray(start, end), this.#lineLength);
    this.#lineLength = needed;
  }

  /**
   * Handles one complete line (ending in LF).
   *
   * @returns `true` when it was the blank line that ends the head.
   */
  #onLine(line: Uint8Array): boolean {
    // RFC 7230 §3.5: "Although the line terminator for the start-line and header fields is the
    // sequence CRLF, a recipient MAY recognize a single LF as a line terminator". We do not: a lone
    // LF is a classic request-smuggling vector, and every real client sends CRLF.
    const end = line.length - 2;
    if (end < 0 || line[end] !== CR) throw this.#malformed('line not terminated by CRLF');
    // RFC 7230 §3.5: "a recipient of such a bare CR MUST consider that element to be invalid or
    // replace each bare CR with SP before processing the element".
    const bareCr = line.indexOf(CR);
    if (bareCr !== end) throw this.#malformed('bare CR in line');

    if (this.#startLine === undefined) {
      if (end === 0) {
        // RFC 7230 §3.5: "a server that is expecting to receive and parse a request-line SHOULD
        // ignore at least one empty line (CRLF) received prior to the request-line."
        if (this.#kind === 'request') return false;
        throw this.#malformed('empty status line');
      }
      this.#startLine =
        this.#kind === 'request' ? this.#parseRequestLine(line, end) : this.#parseStatusLine(line, end);
      return false;
    }
    if (end === 0) {
      // The blank line: end of the head. A request's framing decides where its body ends and
      // so where the WebSocket frames begin: check it now (a response's body is never read: a 101
      // has none, RFC 9110 §15.2, and any other status ends the handshake).
      if (this.#kind === 'request') requestBodyFraming(this.#rawHeaders);
      return true;
    }
    this.#parseFieldLine(line, end);
    return false;
  }

  /** RFC 7230 §3.1.1: `request-line = method SP request-target SP HTTP-version CRLF`. */
  #parseRequestLine(line: Uint8Array, end: number): StartLine {
    const sp1 = line.indexOf(SP);
    if (sp1 <= 0 || sp1 >= end) throw this.#malformed('malformed request line');
    // RFC 7230 §3.1.1: `method = token`.
    for (let i = 0; i < sp1; i++) {
      if (!isTchar(line[i]!)) throw this.#malformed('request method is not a token');
    }
    const sp2 = line.indexOf(SP, sp1 + 1);
    if (sp2 === -1 || sp2 >= end || sp2 === sp1 + 1) throw this.#malformed('malformed request line');
    // The request-target contains no whitespace (RFC 7230 §3.1.1: "recipients SHOULD NOT attempt to
    // autocorrect and then process the request without a redirect, since the invalid request-line
    // might be deliberately crafted to bypass security filters"); we accept only VCHARs.
    for (let i = sp1 + 1; i < sp2; i++) {
      const code = line[i]!;
      if (code < 0x21 || code > 0x7e) throw this.#malformed('invalid character in request target');
    }
    const httpVersion = parseHttpVersion(line, sp2 + 1, end);
    if (httpVersion === undefined) throw this.#malformed('malformed HTTP version in request line');
    this.#checkVersion(httpVersion);
    return {
      method: latin1(line, 0, sp1),
      target: latin1(line, sp1 + 1, sp2),
      httpVersion,
      statusCode: 0,
      statusText: '',
    };
  }

  /**
   * RFC 7230 §3.1.2: `status-line = HTTP-version SP status-code SP reason-phrase CRLF`,
   * `status-code = 3DIGIT`, `reason-phrase = *( HTAB / SP / VCHAR / obs-text )`. A missing
   * `SP reason-phrase` (as some servers send) is tolerated.
   */
  #parseStatusLine(line: Uint8Array, end: number): StartLine {
    const httpVersion = parseHttpVersion(line, 0, Math.min(8, end));
    if (httpVersion === undefined || line[8] !== SP || end < 12)
      throw this.#malformed('malformed status line');
    this.#checkVersion(httpVersion);
    let statusCode = 0;
    for (let i = 9; i < 12; i++) {
      const digit = line[i]! - 0x30;
      if (digit < 0 || digit > 9) throw this.#malformed('malformed status code');
      statusCode = statusCode * 10 + digit;
    }
    if (end > 12 && line[12] !== SP) throw this.#malformed('malformed status line');
    for (let i = 13; i < end; i++) {
      const code = line[i]!;
      if (code !== HTAB && (code < 0x20 || code === 0x7f))
        throw this.#malformed('invalid character in reason phrase');
    }
    return {
      method: '',
      target: '',
      httpVersion,
      statusCode,
      statusText: end > 13 ? latin1(line, 13, end) : '',
    };
  }

  /** RFC 7230 §3.2: `header-field = field-name ":" OWS field-value OWS`. */
  #parseFieldLine(line: Uint8Array, end: number): void {
    const first = line[0]!;
    if (first === SP || first === HTAB) {
      // RFC 7230 §3.2.4: "A server that receives an obs-fold in a request message that is not
      // within a message/http container MUST either reject the message by sending a 400 (Bad
      // Request) ... or replace each received obs-fold with one or more SP octets". We reject.
      throw this.#malformed('obsolete line folding (obs-fold) is not allowed');
    }
    // Count as early as possible: before the field is decoded or stored.
    if (this.#rawHeaders.length / 2 >= this.#maxHeaderCount) {
      throw this.#tooLarge(`more than ${this.#maxHeaderCount} header fields`);
    }
    let colon = 0;
    while (colon < end && isTchar(line[colon]!)) colon++;
    if (colon === end || line[colon] !== COLON) {
      const code = line[colon];
      // RFC 7230 §3.2.4: "No whitespace is allowed between the header field-name and colon. ... A
      // server MUST reject any received request message that contains whitespace between a header
      // field-name and colon with a response code of 400 (Bad Request)".
      if (code === SP || code === HTAB)
        throw this.#malformed('whitespace between header field name and colon');
      throw this.#malformed(
        colon === end ? 'header field line without colon' : 'header field name is not a token',
      );
    }
    if (colon === 0) throw this.#malformed('empty header field name');
    // RFC 7230 §3.2.4: "The field value does not include any leading or trailing whitespace: OWS
    // occurring before the first non-whitespace octet of the field value or after the last
    // non-whitespace octet of the field value ought to be excluded by parsers".
    let a = colon + 1;
    let b = end;
    while (a < b && (line[a] === SP || line[a] === HTAB)) a++;
    while (b > a && (line[b - 1] === SP || line[b - 1] === HTAB)) b--;
    // RFC 7230 §3.2: `field-content = field-vchar [ 1*( SP / HTAB ) field-vchar ]`,
    // `field-vchar = VCHAR / obs-text`: no control characters (NUL, DEL, …) in values.
    for (let i = a; i < b; i++) {
      const code = line[i]!;
      if (code !== HTAB && (code < 0x20 || code === 0x7f))
        throw this.#malformed('control character in header value');
    }
    this.#rawHeaders.push(latin1(line, 0, colon), latin1(line, a, b));
  }

  #buildHead(): H {
    const start = this.#startLine!;
    const rawHeaders = Object.freeze(this.#rawHeaders.slice());
    const headers = new HeaderMap(rawHeaders);
    if (this.#kind === 'request') {
      const head: RequestHead = {
        method: start.method,
        target: start.target,
        httpVersion: start.httpVersion,
        headers,
        rawHeaders,
      };
      return Object.freeze(head) as H;
    }
    const head: ResponseHead = {
      httpVersion: start.httpVersion,
      statusCode: start.statusCode,
      statusText: start.statusText,
      headers,
      rawHeaders,
    };
    return Object.freeze(head) as H;
  }

  /**
   * RFC 9112 §2.3: "This specification defines version "1.1"." Only HTTP/1.0 and HTTP/1.1 are
   * accepted, anything else is a 400, as llhttp (Node's parser) answers HTTP/1.2 or HTTP/3.0: RFC 9110
   * §2.5 would have a later minor version treated as 1.1, but a front proxy built on llhttp rejects
   * it, and the two must agree on what a valid request is. `HTTP/2.0` and `HTTP/0.9`, which llhttp
   * lets through, are refused too: neither can be an HTTP/1.1 upgrade (RFC 9110 §15.6.6 allows a
   * 505 for another major version; a 400 keeps one answer for every malformed start line).
   */
  #checkVersion(httpVersion: string): void {
    if (httpVersion !== '1.1' && httpVersion !== '1.0') {
      throw this.#malformed(
        'unsupported HTTP version (only HTTP/1.0 and HTTP/1.1)',
        ErrorCode.InvalidHttpVersion,
      );
    }
  }

  #malformed(reason: string, code: ErrorCodeString = ErrorCode.MalformedHttp): HandshakeError {
    const status = this.#kind === 'request' ? 400 : 0;
    const what = this.#kind === 'request' ? 'request' : 'response';
    return new HandshakeError(code, status, `Malformed HTTP ${what}: ${reason}`);
  }

  #tooLarge(reason: string): HandshakeError {
    // RFC 6585 §5: "The 431 status code indicates that the server is unwilling to process the
    // request because its header fields are too large."
    const status = this.#kind === 'request' ? 431 : 0;
    return new HandshakeError(ErrorCode.HeadTooLarge, status, reason);
  }
}

function framingError(reason: string): HandshakeError {
  return new HandshakeError(ErrorCode.MalformedHttp, 400, `Malformed HTTP request: ${reason}`);
}

/**
 * The framing of a request's body (RFC 9112 §6.3), from its header fields: how many bytes of body
 * follow the head (`Content-Length`, 0 when absent), or `'chunked'`. Rejects, with 400, every
 * framing that Node's parser (llhttp) rejects, so that a proxy in front and this server never
 * disagree on where a body ends, which would let a body be read as WebSocket frames (request
 * smuggling):
 * - RFC 9112 §6.1: "A server MAY reject a request that contains both Content-Length and
 *   Transfer-Encoding ... Regardless, the server MUST close the connection after responding to such
 *   a request". We reject.
 * - RFC 9112 §6.3 item 4: "If a Transfer-Encoding header field is present in a request and the
 *   chunked transfer coding is not the final encoding, the message body length cannot be determined
 *   reliably; the server MUST respond with the 400 (Bad Request) status code and then close the
 *   connection." RFC 9112 §6.1: "A sender MUST NOT apply the chunked transfer coding more than once".
 * - RFC 9112 §6.3 item 5: "If a message is received without Transfer-Encoding and with an invalid
 *   Content-Length header field, then the message framing is invalid ... the server MUST respond
 *   with a 400 (Bad Request) status code and then close the connection." RFC 9110 §8.6:
 *   `Content-Length = 1*DIGIT`; a repeated field or a list (`0, 0`) "MAY" be collapsed: like
 *   llhttp we reject it, even with equal values.
 *
 * @param rawHeaders - `[name, value, …]` as received (values without their OWS).
 * @returns The body length in bytes, or `'chunked'`.
 * @throws {HandshakeError} `WS_ERR_MALFORMED_HTTP`, status 400, for any framing above.
 */
export function requestBodyFraming(rawHeaders: readonly string[]): number | 'chunked' {
  let contentLength: string | undefined;
  let codings: string[] | undefined;
  for (let i = 0; i + 1 < rawHeaders.length; i += 2) {
    const name = rawHeaders[i]!;
    if (name.length === 14 && name.toLowerCase() === 'content-length') {
      if (contentLength !== undefined) throw framingError('more than one Content-Length header');
      contentLength = rawHeaders[i + 1]!;
    } else if (name.length === 17 && name.toLowerCase() === 'transfer-encoding') {
      // RFC 9110 §5.3: repeated fields are one comma-separated list, in order.
      codings ??= [];
      for (const element of rawHeaders[i + 1]!.split(',')) codings.push(element);
    }
  }
  if (codings !== undefined) {
    if (contentLength !== undefined) {
      throw framingError('Content-Length together with Transfer-Encoding');
    }
    // RFC 9112 §7: `Transfer-Encoding = #transfer-coding`, `transfer-coding = token *( OWS ";" OWS
    // transfer-parameter )`. Only the coding name is looked at; an empty element is an error here
    // (as in llhttp), not skipped: framing is no place for leniency.
    let chunked = 0;
    for (let k = 0; k < codings.length; k++) {
      const element = codings[k]!;
      const semicolon = element.indexOf(';');
      const name = (semicolon === -1 ? element : element.slice(0, semicolon)).replace(/^[ \t]+|[ \t]+$/g, '');
      let isToken = name !== '';
      for (let j = 0; isToken && j < name.length; j++) isToken = isTchar(name.charCodeAt(j));
      if (!isToken) throw framingError('invalid Transfer-Encoding header');
      if (name.length === 7 && name.toLowerCase() === 'chunked') {
        if (semicolon !== -1 || k !== codings.length - 1 || ++chunked > 1) {
          throw framingError('Transfer-Encoding must end with chunked, applied once');
        }
      }
    }
    if (chunked === 0) throw framingError('Transfer-Encoding must end with chunked, applied once');
    return 'chunked';
  }
  if (contentLength === undefined) return 0;
  if (contentLength === '') throw framingError('empty Content-Length header');
  for (let j = 0; j < contentLength.length; j++) {
    const code = contentLength.charCodeAt(j);
    if (code < 0x30 || code > 0x39) throw framingError('Content-Length is not a decimal number');
  }
  const length = Number(contentLength);
  if (!Number.isSafeInteger(length)) throw framingError('Content-Length is too large');
  return length;
}
