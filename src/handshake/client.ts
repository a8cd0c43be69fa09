/**
 * The client side of the opening handshake (RFC 6455 §4.1): build the GET request, then validate the
 * server's response before any frame is read.
 */

import { ErrorCode, type ErrorCodeString, HandshakeError } from '../errors.ts';
import { computeAcceptKey, isValidKey } from './accept-key.ts';
import { assertFieldValue, formatHeaderFields } from './header-lines.ts';
import {
  asciiEqualsIgnoreCase,
  containsToken,
  type ExtensionOffer,
  isToken,
  isValidHostField,
  parseExtensions,
  parseTokenList,
} from './headers.ts';
import type { ResponseHead } from './http.ts';
import { DRAFT_VERSION, WEBSOCKET_VERSION } from './version.ts';

/** What goes into the client's opening handshake. */
export interface UpgradeRequestOptions {
  /** `host[:port]` exactly as it goes in the `Host` field; IPv6 literals bracketed (`[::1]:8080`). */
  readonly host: string;
  /** The /resource name/ (RFC 6455 §3): path and query, starting with `/`. */
  readonly path: string;
  /** The `Sec-WebSocket-Key`, from {@link generateKey}. */
  readonly key: string;
  /** Subprotocols to offer, in order of preference. */
  readonly protocols?: readonly string[];
  /** The extension offer, already serialized (see {@link serializeExtensions}). */
  readonly extensions?: string;
  /** The `Origin` field (RFC 6455 §4.1 item 8, §10.2); non-browser clients usually omit it. */
  readonly origin?: string;
  /**
   * `Sec-WebSocket-Version`: 13 (RFC 6455, the default) or 8, the last draft
   * (draft-ietf-hybi-thewebsocketprotocol-08), which `ws` and our server also speak: the same
   * framing and handshake, but the origin goes in `Sec-WebSocket-Origin`.
   */
  readonly version?: 8 | 13;
  /** Extra header fields (e.g. `Authorization`, `Cookie`, `User-Agent`). */
  readonly headers?: Readonly<Record<string, string>>;
}

/**
 * Fields {@link buildUpgradeRequest} writes itself, so a caller may not add them (the HTTP/2 client
 * refuses the same ones, plus HTTP/2's connection-specific fields).
 */
export const REQUEST_RESERVED: readonly string[] = [
  'host',
  'upgrade',
  'connection',
  'sec-websocket-key',
  'sec-websocket-version',
  'sec-websocket-protocol',
  'sec-websocket-extensions',
  'sec-websocket-accept',
];

/**
 * Builds the client's opening handshake (RFC 6455 §4.1):
 *
 * ```
 * GET /chat HTTP/1.1
 * Host: server.example.com
 * Upgrade: websocket
 * Connection: Upgrade
 * Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==
 * Sec-WebSocket-Version: 13
 * [Origin: http://example.com]
 * [Sec-WebSocket-Protocol: chat, superchat]
 * [Sec-WebSocket-Extensions: permessage-deflate; client_max_window_bits]
 * [extra headers]
 * ```
 *
 * @param options - Host, path, key and the optional fields.
 * @returns The request head, ending with the blank line.
 * @throws {TypeError} When the path does not start with `/` or contains whitespace or controls, the
 * host is empty or has characters outside an authority, the key is not base64 of 16 bytes, a
 * subprotocol is not a token or is repeated, the origin or extensions contain CR/LF/controls, or an
 * extra header has an invalid or reserved name or an invalid value.
 */
export function buildUpgradeRequest(options: UpgradeRequestOptions): string {
  const { host, path, key } = options;
  // §4.1 item 1: "The handshake MUST be a valid HTTP request as specified by [RFC2616]." §4.1 item 3:
  // "The "Request-URI" part of the request MUST match the /resource name/ defined in Section 3 (a
  // relative URI) or be an absolute http/https URI that, when parsed, has a /resource name/, /host/,
  // and /port/ that match the corresponding ws/wss URI."
  if (typeof path !== 'string' || path.charCodeAt(0) !== 0x2f) {
    throw new TypeError('The request path must start with "/"');
  }
  for (let i = 0; i < path.length; i++) {
    const c = path.charCodeAt(i);
    if (c < 0x21 || c > 0x7e)
      throw new TypeError('The request path must be percent-encoded ASCII without spaces');
  }
  // §4.1 item 4: "The request MUST contain a |Host| header field whose value contains /host/ plus
  // optionally ":" followed by /port/ (when not using the default port)."
  if (typeof host !== 'string' || !isValidHostField(host)) throw new TypeError('Invalid Host header value');
  // §4.1 item 7: the key "MUST be a nonce consisting of a randomly selected 16-byte value that has
  // been base64-encoded".
  if (typeof key !== 'string' || !isValidKey(key)) {
    throw new TypeError('Sec-WebSocket-Key must be the base64 encoding of 16 bytes (use generateKey)');
  }

  let out =
    `GET ${path} HTTP/1.1\r\n` +
    `Host: ${host}\r\n` +
    // §4.1 items 5–6: "The request MUST contain an |Upgrade| header field whose value MUST include
    // the "websocket" keyword." / "a |Connection| header field whose value MUST include the
    // "Upgrade" token."
    'Upgrade: websocket\r\n' +
    'Connection: Upgrade\r\n' +
    `Sec-WebSocket-Key: ${key}\r\n` +
    // §4.1 item 9: "The request MUST include a header field with the name |Sec-WebSocket-Version|.
    // The value of this header field MUST be 13." (8 only when asked for: see `version`.)
    `Sec-WebSocket-Version: ${options.version === 8 ? DRAFT_VERSION : WEBSOCKET_VERSION}\r\n`;

  // hybi-08 §4.1 item 8 names the field |Sec-WebSocket-Origin|; RFC 6455 §4.1 item 8, |Origin|.
  const originField = options.version === 8 ? 'Sec-WebSocket-Origin' : 'Origin';
  if (options.origin !== undefined) {
    assertFieldValue(originField, options.origin);
    out += `${originField}: ${options.origin}\r\n`;
  }
  const protocols = options.protocols ?? [];
  if (protocols.length > 0) {
    // §4.1 item 10: "The elements that comprise this value MUST be non-empty strings with characters
    // in the range U+0021 to U+007E not including separator characters as defined in [RFC2616] and
    // MUST all be unique strings."
    const seen = new Set<string>();
    for (const protocol of protocols) {
      if (!isToken(protocol)) throw new TypeError(`Subprotocol ${JSON.stringify(protocol)} is not a token`);
      if (seen.has(protocol)) throw new TypeError(`Subprotocol ${protocol} is listed twice`);
      seen.add(protocol);
    }
    out += `Sec-WebSocket-Protocol: ${protocols.join(', ')}\r\n`;
  }
  if (options.extensions !== undefined && options.extensions !== '') {
    assertFieldValue('Sec-WebSocket-Extensions', options.extensions);
    out += `Sec-WebSocket-Extensions: ${options.extensions}\r\n`;
  }
  const reserved =
    options.origin === undefined ? REQUEST_RESERVED : [...REQUEST_RESERVED, originField.toLowerCase()];
  out += formatHeaderFields(options.headers, reserved);
  return `${out}\r\n`;
}

/** A validated server handshake. */
export interface UpgradeResponse {
  /** The subprotocol the server selected, `''` when none (like the browser `WebSocket.protocol`). */
  readonly protocol: string;
  /** The extensions the server accepted, with their response parameters, in order. */
  readonly extensions: readonly ExtensionOffer[];
  /** The whole response head. */
  readonly head: ResponseHead;
}

/**
 * Validates the server's response to our opening handshake (RFC 6455 §4.1, "the client MUST
 * validate the server's response as follows"). Checking each extension's parameters (e.g. RFC 7692
 * §7.1 for permessage-deflate) is the extension's job; this only checks that each was offered.
 *
 * @param head - A response head from {@link HttpHeadParser.forResponses}.
 * @param expected - What we sent: the key, the offered subprotocols and the offered extension names.
 * @param sha1 - SHA-1 of a string, returning 20 bytes.
 * @returns The negotiated subprotocol and extensions.
 * @throws {HandshakeError} With `status` = the received status code: `WS_ERR_UNEXPECTED_RESPONSE`
 * when the status is not 101, `WS_ERR_INVALID_UPGRADE_HEADER` when `Upgrade` is not `websocket`,
 * `WS_ERR_INVALID_CONNECTION_HEADER` when `Connection` lacks `upgrade`, `WS_ERR_INVALID_ACCEPT_KEY`
 * when `Sec-WebSocket-Accept` is missing or wrong, and those of {@link checkNegotiatedFields}. A redirect (3xx) or an
 * authentication challenge (401) fails here too: callers that follow redirects should look at
 * `head.statusCode` and `head.headers.get('location')` before calling this.
 */
export function validateUpgradeResponse(
  head: ResponseHead,
  expected: {
    readonly key: string;
    readonly protocols: readonly string[];
    readonly offeredExtensions: readonly string[];
  },
  sha1: (input: string) => Uint8Array,
): UpgradeResponse {
  const status = head.statusCode;
  const fail = (code: ErrorCodeString, message: string): HandshakeError =>
    new HandshakeError(code, status, message);
  const { headers } = head;

  // §4.1: "If the status code received from the server is not 101, the client handles the response
  // per HTTP [RFC2616] procedures. [...] Otherwise, the following rules apply."
  if (status !== 101) throw fail(ErrorCode.UnexpectedResponse, `Unexpected server response: ${status}`);

  // §4.1 item 1 (of the response checks): "If the response lacks an |Upgrade| header field or the
  // |Upgrade| header field contains a value that is not an ASCII case-insensitive match for the
  // value "websocket", the client MUST _Fail the WebSocket Connection_."
  const upgrade = headers.get('upgrade');
  // The messages of these checks are those of `ws`, word for word: code written for it matches them.
  if (upgrade === undefined) throw fail(ErrorCode.InvalidUpgradeHeader, 'Invalid Upgrade header');
  const upgradeTokens = parseTokenList(upgrade);
  if (upgradeTokens.length !== 1 || !asciiEqualsIgnoreCase(upgradeTokens[0]!, 'websocket')) {
    throw fail(ErrorCode.InvalidUpgradeHeader, 'Invalid Upgrade header');
  }

  // §4.1 item 2: "If the response lacks a |Connection| header field or the |Connection| header field
  // doesn't contain a token that is an ASCII case-insensitive match for the value "Upgrade", the
  // client MUST _Fail the WebSocket Connection_."
  if (!containsToken(headers.get('connection'), 'upgrade')) {
    throw fail(ErrorCode.InvalidConnectionHeader, 'Invalid Connection header');
  }

  // §4.1 item 3: "If the response lacks a |Sec-WebSocket-Accept| header field or the
  // |Sec-WebSocket-Accept| contains a value other than the base64-encoded SHA-1 of the concatenation
  // of the |Sec-WebSocket-Key| (as a string, not base64-decoded) with the string
  // "258EAFA5-E914-47DA-95CA-C5AB0DC85B11" but ignoring any leading and trailing whitespace, the
  // client MUST _Fail the WebSocket Connection_." (The head parser already stripped the OWS.)
  const accept = headers.get('sec-websocket-accept');
  if (accept === undefined || accept !== computeAcceptKey(expected.key, sha1)) {
    throw fail(ErrorCode.InvalidAcceptKey, 'Invalid Sec-WebSocket-Accept header');
  }

  const { protocol, extensions } = checkNegotiatedFields(head, expected);
  return Object.freeze({ protocol, extensions, head });
}

/**
 * Escapes the control characters of peer-supplied text before it goes into an error message: C0
 * (U+0000–U+001F, TAB included), DEL (U+007F) and C1 (U+0080–U+009F) become `\xNN`. A reason
 * phrase or a `Location` may carry obs-text (RFC 9112 §4: `reason-phrase = 1*( HTAB / SP / VCHAR /
 * obs-text )`), which decodes (ISO-8859-1) to C1 controls such as CSI (U+009B), a terminal escape,
 * or NEL (U+0085), a line break to some log viewers: a hostile server or proxy must not be able to
 * drive the terminal or forge log lines through `error.message`.
 *
 * @param text - Text received from the peer.
 * @returns The text with each control character replaced by `\xNN` (two lowercase hex digits).
 * @throws Never.
 */
export function escapeControlCharacters(text: string): string {
  // biome-ignore lint/suspicious/noControlCharactersInRegex: matching control characters is the point.
  return text.replace(/[\x00-\x1f\x7f-\x9f]/g, (c) => `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`);
}

/**
 * The checks of the server's `Sec-WebSocket-Extensions` and `Sec-WebSocket-Protocol` (RFC 6455 §4.1
 * items 4–5), shared by the HTTP/1.1 handshake and the HTTP/2 one (RFC 8441 §5: the subprotocol and
 * extensions are negotiated "as specified in RFC 6455").
 *
 * @param head - The response head (its status is only used in the errors).
 * @param expected - The offered subprotocols and extension names.
 * @returns The selected subprotocol (`''` when none) and the accepted extensions.
 * @throws {HandshakeError} With `status` = the received status: `WS_ERR_INVALID_SUBPROTOCOL` when
 * the subprotocol was not offered (or several were returned, or none was offered),
 * `WS_ERR_MISSING_SUBPROTOCOL` when some were offered and none was returned,
 * `WS_ERR_INVALID_EXTENSIONS` when an extension was not offered or the field is malformed.
 */
export function checkNegotiatedFields(
  head: ResponseHead,
  expected: { readonly protocols: readonly string[]; readonly offeredExtensions: readonly string[] },
): { readonly protocol: string; readonly extensions: readonly ExtensionOffer[] } {
  const status = head.statusCode;
  const fail = (code: ErrorCodeString, message: string): HandshakeError =>
    new HandshakeError(code, status, message);
  const { headers } = head;

  // §4.1 item 4: "If the response includes a |Sec-WebSocket-Extensions| header field and this header
  // field indicates the use of an extension that was not present in the client's handshake (the
  // server has indicated an extension not requested by the client), the client MUST _Fail the
  // WebSocket Connection_." (Also §9.1.)
  const extensionField = headers.get('sec-websocket-extensions');
  let extensions: ExtensionOffer[] = [];
  if (extensionField !== undefined) {
    try {
      extensions = parseExtensions(extensionField);
    } catch (error) {
      throw new HandshakeError(
        ErrorCode.InvalidExtensions,
        status,
        'Invalid Sec-WebSocket-Extensions header',
        {
          cause: error,
        },
      );
    }
    if (expected.offeredExtensions.length === 0) {
      throw fail(
        ErrorCode.InvalidExtensions,
        'Server sent a Sec-WebSocket-Extensions header but no extension was requested',
      );
    }
    for (const extension of extensions) {
      if (!expected.offeredExtensions.some((name) => asciiEqualsIgnoreCase(name, extension.name))) {
        throw fail(ErrorCode.InvalidExtensions, 'Server indicated an extension that was not requested');
      }
    }
  }

  // §4.1 item 5: "If the response includes a |Sec-WebSocket-Protocol| header field and this header
  // field indicates the use of a subprotocol that was not present in the client's handshake (the
  // server has indicated a subprotocol not requested by the client), the client MUST _Fail the
  // WebSocket Connection_." §4.2.2 step 5.5 lets the server send back only one: "the selected
  // subprotocol".
  const protocolField = headers.get('sec-websocket-protocol');
  let protocol = '';
  // A client that offered subprotocols needs one back: WHATWG Fetch ("establish a WebSocket
  // connection": "If protocols is not the empty list and extracting header list values given
  // `Sec-WebSocket-Protocol` ... results in null, failure, or the empty byte sequence, then fail
  // the WebSocket connection"), as browsers and `ws` do. RFC 6455 leaves it to the client.
  if (protocolField === undefined && expected.protocols.length > 0) {
    throw fail(ErrorCode.MissingSubprotocol, 'Server sent no subprotocol');
  }
  if (protocolField !== undefined) {
    if (expected.protocols.length === 0) {
      throw fail(ErrorCode.InvalidSubprotocol, 'Server sent a subprotocol but none was requested');
    }
    // Not a token (several, or empty), or not one of ours.
    if (!isToken(protocolField) || !expected.protocols.includes(protocolField)) {
      throw fail(ErrorCode.InvalidSubprotocol, 'Server sent an invalid subprotocol');
    }
    protocol = protocolField;
  }

  return { protocol, extensions: Object.freeze(extensions) };
}
