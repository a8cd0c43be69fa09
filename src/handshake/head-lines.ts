/**
 * The grammar of the lines of an HTTP/1.1 message head, one complete line at a time: the request line
 * (RFC 9112 §3), the status line (RFC 9112 §4), a field line (RFC 9112 §5), and the HTTP-version in
 * the first two (RFC 9112 §2.3). {@link HttpHeadParser} cuts the
 * bytes into lines and bounds them; the rules of what a line may contain are here.
 *
 * Bytes are decoded as ISO-8859-1 (one byte → one UTF-16 code unit), the historical HTTP charset
 * (RFC 9110 §5.5: "Historically, HTTP allowed field content with text in the ISO-8859-1 charset";
 * "A recipient SHOULD treat other allowed octets in field content (i.e., obs-text) as opaque data"),
 * so that no byte is lost or replaced.
 */

import { ErrorCode, type ErrorCodeString, HandshakeError } from '../errors.ts';
import { isTchar } from './headers.ts';

const SP = 0x20;
const HTAB = 0x09;
const COLON = 0x3a;

/** Which head is parsed: it decides the status of the errors (a request's 400, a response's 0). */
export type HeadKind = 'request' | 'response';

/** A parsed start line: the request fields for a request, the status fields for a response. */
export interface StartLine {
  readonly method: string;
  readonly target: string;
  readonly httpVersion: string;
  readonly statusCode: number;
  readonly statusText: string;
}

/**
 * The error of a malformed head: status 400 for a request (the answer, RFC 9112 §3: "Recipients of
 * an invalid request-line SHOULD respond with either a 400 (Bad Request) error or a 301 (Moved
 * Permanently) redirect"), 0 for a response (no valid status was received).
 *
 * @param kind - Request or response.
 * @param reason - What was wrong, a fixed text (nothing of the peer's bytes).
 * @param code - `WS_ERR_MALFORMED_HTTP` unless a more specific code applies.
 * @returns The error to throw.
 * @throws Never.
 */
export function malformedHead(
  kind: HeadKind,
  reason: string,
  code: ErrorCodeString = ErrorCode.MalformedHttp,
): HandshakeError {
  return kind === 'request'
    ? new HandshakeError(code, 400, `Malformed HTTP request: ${reason}`)
    : new HandshakeError(code, 0, `Malformed HTTP response: ${reason}`);
}

/**
 * ISO-8859-1 decoding of `bytes[start, end)`, in slices small enough for `fromCharCode.apply`.
 *
 * @throws Never.
 */
export function latin1(bytes: Uint8Array, start: number, end: number): string {
  let out = '';
  for (let i = start; i < end; i += 8192) {
    out += String.fromCharCode.apply(null, bytes.subarray(i, Math.min(end, i + 8192)) as unknown as number[]);
  }
  return out;
}

/**
 * Parses an HTTP-version (RFC 9112 §2.3: `HTTP-version = HTTP-name "/" DIGIT "." DIGIT`,
 * `HTTP-name = %s"HTTP"`, case-sensitive) at `bytes[start, start + 8)`.
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
 * RFC 9112 §2.3: "This specification defines version "1.1"." Only HTTP/1.0 and HTTP/1.1 are
 * accepted, anything else is refused (400 for a request), as llhttp (Node's parser) answers
 * HTTP/1.2 or HTTP/3.0: RFC 9110 §2.5 would have a later minor version treated as 1.1, but a front
 * proxy built on llhttp rejects it, and the two must agree on what a valid request is. `HTTP/2.0`
 * and `HTTP/0.9`, which llhttp lets through, are refused too: neither can be an HTTP/1.1 upgrade
 * (RFC 9110 §15.6.6 allows a 505 for another major version; a 400 keeps one answer for every
 * unusable start line).
 */
function checkVersion(kind: HeadKind, httpVersion: string): void {
  if (httpVersion !== '1.1' && httpVersion !== '1.0') {
    throw malformedHead(
      kind,
      'unsupported HTTP version (only HTTP/1.0 and HTTP/1.1)',
      ErrorCode.InvalidHttpVersion,
    );
  }
}

/**
 * Parses a request line. RFC 9112 §3: `request-line = method SP request-target SP HTTP-version`,
 * exactly one SP between the three; RFC 9112 §3.1: `method = token`.
 *
 * @param line - The line, CRLF included.
 * @param end - Where its CRLF starts.
 * @returns The method, target and version.
 * @throws {HandshakeError} `WS_ERR_MALFORMED_HTTP` (400) when malformed,
 * `WS_ERR_INVALID_HTTP_VERSION` (400) for a version other than 1.0 and 1.1.
 */
export function parseRequestLine(line: Uint8Array, end: number): StartLine {
  const sp1 = line.indexOf(SP);
  if (sp1 <= 0 || sp1 >= end) throw malformedHead('request', 'malformed request line');
  for (let i = 0; i < sp1; i++) {
    if (!isTchar(line[i]!)) throw malformedHead('request', 'request method is not a token');
  }
  const sp2 = line.indexOf(SP, sp1 + 1);
  if (sp2 === -1 || sp2 >= end || sp2 === sp1 + 1) throw malformedHead('request', 'malformed request line');
  // The request-target contains no whitespace (RFC 9112 §3: "A recipient SHOULD NOT attempt to
  // autocorrect and then process the request without a redirect, since the invalid request-line
  // might be deliberately crafted to bypass security filters along the request chain"); we accept
  // only VCHARs.
  for (let i = sp1 + 1; i < sp2; i++) {
    const code = line[i]!;
    if (code < 0x21 || code > 0x7e) throw malformedHead('request', 'invalid character in request target');
  }
  const httpVersion = parseHttpVersion(line, sp2 + 1, end);
  if (httpVersion === undefined) throw malformedHead('request', 'malformed HTTP version in request line');
  checkVersion('request', httpVersion);
  return {
    method: latin1(line, 0, sp1),
    target: latin1(line, sp1 + 1, sp2),
    httpVersion,
    statusCode: 0,
    statusText: '',
  };
}

/**
 * Parses a status line. RFC 9112 §4: `status-line = HTTP-version SP status-code SP [ reason-phrase ]`,
 * `status-code = 3DIGIT`, `reason-phrase = 1*( HTAB / SP / VCHAR / obs-text )`. A missing
 * `SP` after the status code (as some servers send) is tolerated.
 *
 * @param line - The line, CRLF included.
 * @param end - Where its CRLF starts.
 * @returns The version, status code and reason phrase.
 * @throws {HandshakeError} `WS_ERR_MALFORMED_HTTP` (status 0) when malformed,
 * `WS_ERR_INVALID_HTTP_VERSION` (status 0) for a version other than 1.0 and 1.1.
 */
export function parseStatusLine(line: Uint8Array, end: number): StartLine {
  const httpVersion = parseHttpVersion(line, 0, Math.min(8, end));
  if (httpVersion === undefined || line[8] !== SP || end < 12) {
    throw malformedHead('response', 'malformed status line');
  }
  checkVersion('response', httpVersion);
  let statusCode = 0;
  for (let i = 9; i < 12; i++) {
    const digit = line[i]! - 0x30;
    if (digit < 0 || digit > 9) throw malformedHead('response', 'malformed status code');
    statusCode = statusCode * 10 + digit;
  }
  if (end > 12 && line[12] !== SP) throw malformedHead('response', 'malformed status line');
  for (let i = 13; i < end; i++) {
    const code = line[i]!;
    if (code !== HTAB && (code < 0x20 || code === 0x7f)) {
      throw malformedHead('response', 'invalid character in reason phrase');
    }
  }
  return {
    method: '',
    target: '',
    httpVersion,
    statusCode,
    statusText: end > 13 ? latin1(line, 13, end) : '',
  };
}

/**
 * Whether a field line starts with whitespace: an obs-fold, the continuation of the previous line
 * (RFC 9112 §5.2: `obs-fold = OWS CRLF RWS`).
 *
 * @throws Never.
 */
export function isObsFold(line: Uint8Array): boolean {
  const first = line[0];
  return first === SP || first === HTAB;
}

/**
 * Parses a field line. RFC 9112 §5: `field-line = field-name ":" OWS field-value OWS`.
 *
 * @param kind - Request or response (for the error's status).
 * @param line - The line, CRLF included.
 * @param end - Where its CRLF starts.
 * @returns The name as written and the value without its surrounding OWS.
 * @throws {HandshakeError} `WS_ERR_MALFORMED_HTTP` for an obs-fold, whitespace before the colon, a
 * name that is not a token, or a control character in the value.
 */
export function parseFieldLine(kind: HeadKind, line: Uint8Array, end: number): [name: string, value: string] {
  if (isObsFold(line)) {
    // RFC 9112 §5.2: "A server that receives an obs-fold in a request message that is not within a
    // "message/http" container MUST either reject the message by sending a 400 (Bad Request) ... or
    // replace each received obs-fold with one or more SP octets". We reject, in responses too.
    throw malformedHead(kind, 'obsolete line folding (obs-fold) is not allowed');
  }
  let colon = 0;
  while (colon < end && isTchar(line[colon]!)) colon++;
  if (colon === end || line[colon] !== COLON) {
    const code = line[colon];
    // RFC 9112 §5.1: "No whitespace is allowed between the field name and colon. In the past,
    // differences in the handling of such whitespace have led to security vulnerabilities in request
    // routing and response handling. A server MUST reject, with a response status code of 400 (Bad
    // Request), any received request message that contains whitespace between a header field name
    // and colon."
    if (code === SP || code === HTAB)
      throw malformedHead(kind, 'whitespace between header field name and colon');
    throw malformedHead(
      kind,
      colon === end ? 'header field line without colon' : 'header field name is not a token',
    );
  }
  if (colon === 0) throw malformedHead(kind, 'empty header field name');
  // RFC 9112 §5.1: "OWS occurring before the first non-whitespace octet of the field line value, or
  // after the last non-whitespace octet of the field line value, is excluded by parsers when
  // extracting the field line value from a field line."
  let a = colon + 1;
  let b = end;
  while (a < b && (line[a] === SP || line[a] === HTAB)) a++;
  while (b > a && (line[b - 1] === SP || line[b - 1] === HTAB)) b--;
  // RFC 9110 §5.5: `field-vchar = VCHAR / obs-text`; "Field values containing CR, LF, or NUL
  // characters are invalid and dangerous". No control character at all (NUL, DEL, …) is accepted.
  for (let i = a; i < b; i++) {
    const code = line[i]!;
    if (code !== HTAB && (code < 0x20 || code === 0x7f)) {
      throw malformedHead(kind, 'control character in header value');
    }
  }
  return [latin1(line, 0, colon), latin1(line, a, b)];
}
