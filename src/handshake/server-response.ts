/**
 * What the server answers to an opening handshake (RFC 6455 §4.2.2): the 101 Switching Protocols
 * that accepts it (with the subprotocol it selects), or the HTTP error that refuses it. Validating
 * the request is server.ts's job.
 */

import { computeAcceptKey } from './accept-key.ts';
import { assertFieldName, assertFieldValue, formatHeaderFields, type HeaderFields } from './header-lines.ts';
import { asciiEqualsIgnoreCase, isToken } from './headers.ts';

/** What the server answers a valid handshake with. */
export interface AcceptOptions {
  /** The client's `Sec-WebSocket-Key` ({@link UpgradeRequest.key}). */
  readonly key: string;
  /** The selected subprotocol, one of those the client offered; omitted when none. */
  readonly protocol?: string | undefined;
  /** The accepted extensions, already serialized (see {@link serializeExtensions}); omitted when none. */
  readonly extensions?: string | undefined;
  /** Extra header fields (e.g. `Set-Cookie`). */
  readonly headers?: HeaderFields | undefined;
}

/** Fields {@link buildAcceptResponse} writes itself. */
const ACCEPT_RESERVED = [
  'upgrade',
  'connection',
  'sec-websocket-accept',
  'sec-websocket-protocol',
  'sec-websocket-extensions',
  'sec-websocket-version',
];

/**
 * Builds the server's 101 response (RFC 6455 §4.2.2 step 5):
 *
 * ```
 * HTTP/1.1 101 Switching Protocols
 * Upgrade: websocket
 * Connection: Upgrade
 * Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=
 * [Sec-WebSocket-Protocol: chat]
 * [Sec-WebSocket-Extensions: permessage-deflate]
 * [extra headers]
 * ```
 *
 * §4.2.2 step 5.1: "A Status-Line with a 101 response code as per RFC 2616 [RFC2616]. Such a
 * response could look like "HTTP/1.1 101 Switching Protocols"." Steps 5.2–5.3: "An |Upgrade| header
 * field with value "websocket"", "A |Connection| header field with value "Upgrade"".
 *
 * @param options - Key, selected subprotocol and extensions, extra fields.
 * @param sha1 - SHA-1 of a string, returning 20 bytes.
 * @returns The response head, ending with the blank line, ready to write (ASCII unless the caller's
 * extra header values are not).
 * @throws {TypeError} When `protocol` is not a token, `extensions` or an extra value contains CR, LF
 * or another control character, an extra name is not a token or is one the handshake sets, or
 * `sha1` returns a digest that is not 20 bytes.
 */
export function buildAcceptResponse(options: AcceptOptions, sha1: (input: string) => Uint8Array): string {
  return `${acceptResponseLines(options, sha1).join('\r\n')}\r\n${formatHeaderFields(options.headers, ACCEPT_RESERVED)}\r\n`;
}

/**
 * The lines of the 101 response without their CRLFs and without `options.headers`: the status line,
 * then `Name: value` fields, in the order {@link buildAcceptResponse} writes them. This is the array
 * a server's `'headers'` listener receives (as in `ws`) to add fields such as `Set-Cookie`; write
 * it with {@link joinResponseLines}.
 *
 * @param options - Key, selected subprotocol and extensions (`headers` is ignored).
 * @param sha1 - SHA-1 of a string, returning 20 bytes.
 * @returns A new array the caller may change.
 * @throws {TypeError} As {@link buildAcceptResponse}.
 */
export function acceptResponseLines(options: AcceptOptions, sha1: (input: string) => Uint8Array): string[] {
  const lines = [
    'HTTP/1.1 101 Switching Protocols',
    'Upgrade: websocket',
    'Connection: Upgrade',
    `Sec-WebSocket-Accept: ${computeAcceptKey(options.key, sha1)}`,
  ];
  if (options.protocol !== undefined) {
    // §4.2.2 step 5.5: the server sends back "the selected subprotocol" — one token.
    if (!isToken(options.protocol)) {
      throw new TypeError(`Subprotocol ${JSON.stringify(options.protocol)} is not a token`);
    }
    lines.push(`Sec-WebSocket-Protocol: ${options.protocol}`);
  }
  if (options.extensions !== undefined && options.extensions !== '') {
    assertFieldValue('Sec-WebSocket-Extensions', options.extensions);
    lines.push(`Sec-WebSocket-Extensions: ${options.extensions}`);
  }
  return lines;
}

/**
 * Joins response lines (from {@link acceptResponseLines}, possibly changed by the application) into
 * a response head ending with the blank line, refusing anything that would not be one well-formed
 * head: the first line must still be the `101` status line, and every other one a `Name: value`
 * field (RFC 9112 §5: `field-name ":" OWS field-value OWS`) with a token name and no CR, LF or other
 * control character, so that an application's value cannot split the response (RFC 9112 §11.1).
 *
 * @param lines - The status line, then field lines, without CRLFs.
 * @returns The head, ready to write.
 * @throws {TypeError} When a line is not a string, the status line was changed, or a field line is
 * malformed.
 */
export function joinResponseLines(lines: readonly unknown[]): string {
  if (lines[0] !== 'HTTP/1.1 101 Switching Protocols') {
    throw new TypeError('The first line must stay "HTTP/1.1 101 Switching Protocols"');
  }
  for (let i = 1; i < lines.length; i++) {
    const line = lines[i];
    if (typeof line !== 'string') throw new TypeError(`Header line ${i} is not a string`);
    const colon = line.indexOf(':');
    if (colon <= 0) throw new TypeError(`Header line ${i} is not "Name: value"`);
    const name = line.slice(0, colon);
    assertFieldName(name);
    assertFieldValue(name, line.slice(colon + 1));
  }
  return `${lines.join('\r\n')}\r\n\r\n`;
}

/** Standard reason phrases (RFC 9110 §15, RFC 6585) for the statuses a handshake may answer. */
const REASON_PHRASES: Readonly<Record<number, string>> = {
  200: 'OK',
  301: 'Moved Permanently',
  302: 'Found',
  303: 'See Other',
  307: 'Temporary Redirect',
  308: 'Permanent Redirect',
  400: 'Bad Request',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'Not Found',
  405: 'Method Not Allowed',
  406: 'Not Acceptable',
  408: 'Request Timeout',
  409: 'Conflict',
  410: 'Gone',
  413: 'Payload Too Large',
  414: 'URI Too Long',
  426: 'Upgrade Required',
  429: 'Too Many Requests',
  431: 'Request Header Fields Too Large',
  500: 'Internal Server Error',
  501: 'Not Implemented',
  502: 'Bad Gateway',
  503: 'Service Unavailable',
  504: 'Gateway Timeout',
  505: 'HTTP Version Not Supported',
};

/** Fields {@link buildRejectResponse} writes itself. */
const REJECT_RESERVED = ['connection', 'content-type', 'content-length', 'transfer-encoding'];

const utf8Encoder = new TextEncoder();

/**
 * Builds a complete HTTP error response refusing the handshake, closing the connection after it:
 *
 * ```
 * HTTP/1.1 400 Bad Request
 * Connection: close
 * Content-Type: text/plain; charset=utf-8
 * Content-Length: 37
 * [extra headers]
 *
 * <reason>
 * ```
 *
 * When `headers` carries an `Upgrade` field (426 responses), the connection option is
 * `Upgrade, close` (RFC 9110 §7.8: "A sender of Upgrade MUST also send an "Upgrade" connection
 * option in the Connection header field").
 *
 * @param status - The status code, 200–599 (typically `error.status`).
 * @param reason - A one-line explanation, sent as the body. Do not leak internal details.
 * @param headers - Extra fields, e.g. {@link rejectionHeaders}`(error)`.
 * @returns The whole response; write it as UTF-8 (the body may contain non-ASCII text).
 * @throws {RangeError} When `status` is not an integer in 200–599.
 * @throws {TypeError} When an extra name is not a token or is one this function sets, or a value
 * contains CR, LF or another control character.
 */
export function buildRejectResponse(status: number, reason: string, headers?: HeaderFields): string {
  if (!Number.isInteger(status) || status < 200 || status > 599) {
    throw new RangeError(`Invalid rejection status: ${status}`);
  }
  const extra = formatHeaderFields(headers, REJECT_RESERVED);
  let hasUpgrade = false;
  if (headers !== undefined) {
    for (const name of Object.keys(headers)) if (asciiEqualsIgnoreCase(name, 'upgrade')) hasUpgrade = true;
  }
  // The body is the reason alone, as `ws` sends it (applications and their tests compare it).
  const body = reason;
  return (
    `HTTP/1.1 ${status} ${REASON_PHRASES[status] ?? 'Error'}\r\n` +
    `Connection: ${hasUpgrade ? 'Upgrade, close' : 'close'}\r\n` +
    'Content-Type: text/plain; charset=utf-8\r\n' +
    `Content-Length: ${utf8Encoder.encode(body).length}\r\n` +
    `${extra}\r\n${body}`
  );
}

/**
 * Chooses the subprotocol to answer with: the first of the client's offers that the server
 * supports (RFC 6455 §4.2.2 step 4: "The value chosen MUST be derived from the client's handshake,
 * specifically by selecting one of the values from the |Sec-WebSocket-Protocol| field that the
 * server is willing to use for this connection (if any)."). Names compare case-sensitively.
 *
 * @param offered - {@link UpgradeRequest.protocols}, in the client's order of preference.
 * @param supported - The subprotocols the server implements.
 * @returns The selected name, or `undefined` when there is no overlap (answer without the field).
 * @throws Never.
 */
export function selectSubprotocol(
  offered: readonly string[],
  supported: readonly string[],
): string | undefined {
  for (const name of offered) {
    if (supported.includes(name)) return name;
  }
  return undefined;
}
