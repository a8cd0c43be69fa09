/**
 * Incremental HTTP/1.1 message-head parser (RFC 9112 §2.2 message parsing) for the opening handshake:
 * it cuts the bytes into lines and bounds them; the grammar of each line is in head-lines.ts.
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
 * charset (RFC 9110 §5.5), so that no byte is lost or replaced.
 */

import { DEFAULTS } from '../defaults.ts';
import { ErrorCode, HandshakeError, InvalidStateError } from '../errors.ts';
import { requestBodyFraming } from './body-framing.ts';
import {
  type HeadKind,
  isObsFold,
  malformedHead,
  parseFieldLine,
  parseRequestLine,
  parseStatusLine,
  type StartLine,
} from './head-lines.ts';

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
 * Header fields by case-insensitive name (RFC 9110 §5.1: "Field names are case-insensitive").
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
      // RFC 9110 §5.3: "A recipient MAY combine multiple field lines within a field section that
      // have the same field name into one field line, without changing the semantics of the
      // message, by appending each subsequent field line value to the initial field line value in
      // order, separated by a comma (",") and optional whitespace".
      this.#fields.set(name, previous === undefined ? value : `${previous}, ${value}`);
    }
  }

  /**
   * The value of a field, repeated fields joined with `", "` (RFC 9110 §5.3).
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

/** A parsed HTTP/1.1 request head (RFC 9112 §3 request line, RFC 9112 §5 fields). */
export interface RequestHead {
  readonly method: string;
  readonly target: string;
  /** e.g. `"1.1"`. */
  readonly httpVersion: string;
  readonly headers: HeaderMap;
  /** `[name, value, name, value, …]` as received (names in their original case). */
  readonly rawHeaders: readonly string[];
}

/** A parsed HTTP/1.1 response head (RFC 9112 §4 status line, RFC 9112 §5 fields). */
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
const NOT_DONE: HeadParseResult<never> = Object.freeze({ done: false });

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
  readonly #kind: HeadKind;
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

  private constructor(kind: HeadKind, limits: Partial<HttpHeadLimits> | undefined) {
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
    // RFC 9112 §2.2: "Although the line terminator for the start-line and fields is the sequence
    // CRLF, a recipient MAY recognize a single LF as a line terminator and ignore any preceding CR."
    // We do not: a lone LF is a classic request-smuggling vector (RFC 9112 §11.2), and every real
    // client sends CRLF.
    const end = line.length - 2;
    if (end < 0 || line[end] !== CR) throw this.#malformed('line not terminated by CRLF');
    // RFC 9112 §2.2: "A recipient of such a bare CR MUST consider that element to be invalid or
    // replace each bare CR with SP before processing the element or forwarding the message".
    const bareCr = line.indexOf(CR);
    if (bareCr !== end) throw this.#malformed('bare CR in line');

    if (this.#startLine === undefined) {
      if (end === 0) {
        // RFC 9112 §2.2: "a server that is expecting to receive and parse a request-line SHOULD
        // ignore at least one empty line (CRLF) received prior to the request-line."
        if (this.#kind === 'request') return false;
        throw this.#malformed('empty status line');
      }
      this.#startLine = this.#kind === 'request' ? parseRequestLine(line, end) : parseStatusLine(line, end);
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

  /** A field line: counted before it is decoded or stored (RFC 9112 §5 grammar in head-lines.ts). */
  #parseFieldLine(line: Uint8Array, end: number): void {
    // An obs-fold is refused as malformed, whatever the count: parseFieldLine says so.
    if (!isObsFold(line) && this.#rawHeaders.length / 2 >= this.#maxHeaderCount) {
      throw this.#tooLarge(`more than ${this.#maxHeaderCount} header fields`);
    }
    const [name, value] = parseFieldLine(this.#kind, line, end);
    this.#rawHeaders.push(name, value);
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

  #malformed(reason: string): HandshakeError {
    return malformedHead(this.#kind, reason);
  }

  #tooLarge(reason: string): HandshakeError {
    // RFC 6585 §5: "The 431 status code indicates that the server is unwilling to process the
    // request because its header fields are too large."
    const status = this.#kind === 'request' ? 431 : 0;
    return new HandshakeError(ErrorCode.HeadTooLarge, status, reason);
  }
}
