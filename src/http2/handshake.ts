/**
 * The opening handshake of WebSockets over HTTP/2 (RFC 8441), pure: header checks only, no streams.
 *
 * ```
 *   client                               server (SETTINGS_ENABLE_CONNECT_PROTOCOL = 1, RFC 8441 §3)
 *   HEADERS  :method = CONNECT           ─▶ validateExtendedConnect (RFC 8441 §4, RFC 8441 §5)
 *            :protocol = websocket          ─▶ UpgradeRequest (same shape as HTTP/1.1)
 *            :scheme, :path, :authority     ─▶ subprotocol, permessage-deflate, verifyClient
 *            sec-websocket-version: 13         (shared with the HTTP/1.1 path)
 *            [sec-websocket-protocol, -extensions, origin]
 *   validateConnectResponse ◀─ HEADERS :status = 200 [sec-websocket-protocol, -extensions]
 *   DATA frames on the stream = WebSocket frames (client frames still masked, RFC 8441 §5)
 * ```
 *
 * RFC 8441 §5: "Implementations using this extended CONNECT to bootstrap WebSockets do not do the
 * processing of the Sec-WebSocket-Key and Sec-WebSocket-Accept header fields of [RFC6455] as that
 * functionality has been superseded by the :protocol pseudo-header field."
 */

import { ErrorCode, type ErrorCodeString, HandshakeError } from '../errors.ts';
import { checkNegotiatedFields, type UpgradeResponse } from '../handshake/client.ts';
import { asciiEqualsIgnoreCase, parseExtensions, parseSubprotocols } from '../handshake/headers.ts';
import { HeaderMap, type RequestHead, type ResponseHead } from '../handshake/http.ts';
import { UNSUPPORTED_VERSION_MESSAGE, type UpgradeRequest } from '../handshake/server.ts';
import { WEBSOCKET_VERSION } from '../handshake/version.ts';

/** Header values as `node:http2` delivers them (pseudo-headers included). */
export type Http2HeaderValues = Readonly<Record<string, string | string[] | number | undefined>>;

/**
 * The connection-specific header fields an HTTP/2 message must not carry (RFC 9113 §8.2.2: "An
 * endpoint MUST NOT generate an HTTP/2 message containing connection-specific header fields"), in
 * lower case: the server leaves them out of its response, the client refuses them as extra headers.
 */
export const CONNECTION_SPECIFIC_FIELDS: readonly string[] = Object.freeze([
  'connection',
  'upgrade',
  'keep-alive',
  'proxy-connection',
  'transfer-encoding',
]);

/** The `:protocol` value for WebSockets (RFC 8441 §4, the "websocket" HTTP Upgrade Token). */
export const WEBSOCKET_PROTOCOL = 'websocket';

/**
 * Whether a stream's headers are an extended CONNECT (RFC 8441 §4: CONNECT with `:protocol`), of any
 * protocol. A plain CONNECT (a tunnel, RFC 9113 §8.5) is not.
 * @throws Never.
 */
export function isExtendedConnect(headers: Http2HeaderValues): boolean {
  return headers[':method'] === 'CONNECT' && headers[':protocol'] !== undefined;
}

/**
 * Turns an HTTP/2 header object into `[name, value, …]` pairs (pseudo-headers included; a
 * repeated field appears once per value).
 * @throws Never.
 */
export function toRawHeaders(headers: Http2HeaderValues): string[] {
  const raw: string[] = [];
  for (const [name, value] of Object.entries(headers)) {
    if (value === undefined) continue;
    if (Array.isArray(value)) for (const each of value) raw.push(name, each);
    else raw.push(name, String(value));
  }
  return raw;
}

function reject(code: ErrorCodeString, status: number, message: string): HandshakeError {
  return new HandshakeError(code, status, message);
}

/**
 * Validates an extended CONNECT request for a WebSocket (RFC 8441 §4, RFC 8441 §5) and returns it in
 * the same shape as an HTTP/1.1 upgrade (`key` is `''`: RFC 8441 §5 drops Sec-WebSocket-Key), so that the server
 * negotiates subprotocols and extensions with the same code for both.
 *
 * Checks, in order:
 * 1. `:method` is CONNECT with a `:protocol` → else 405 (the caller normally filters these out);
 * 2. `:protocol` is `websocket` → else 400 (RFC 8441 §4: the value is an HTTP Upgrade Token this
 *    server must know);
 * 3. `:scheme`, `:path` and `:authority` are present → else 400 (RFC 8441 §4: "the :scheme and
 *    :path pseudo-header fields MUST be included"; RFC 8441 §5 uses :authority as the Host);
 * 4. `sec-websocket-version` is `13` → else 400 with the same message as over HTTP/1.1 and
 *    `sec-websocket-version: 13` (RFC 6455 §4.2.2 asks for an error such as 426 with the supported
 *    version; in HTTP/2 a 426 cannot carry its mandatory `Upgrade` field, RFC 9113 §8.2.2);
 * 5. `sec-websocket-protocol` and `sec-websocket-extensions` are well-formed → else 400.
 *
 * @param headers - The stream's request headers.
 * @returns The validated request.
 * @throws {HandshakeError} With status 405 `WS_ERR_INVALID_METHOD`; with status 400
 * `WS_ERR_INVALID_UPGRADE_HEADER` (`:protocol`), `WS_ERR_MALFORMED_HTTP` (pseudo-header fields),
 * `WS_ERR_UNSUPPORTED_VERSION`, `WS_ERR_INVALID_SUBPROTOCOL` or `WS_ERR_INVALID_EXTENSIONS`.
 */
export function validateExtendedConnect(headers: Http2HeaderValues): UpgradeRequest {
  if (!isExtendedConnect(headers)) {
    throw reject(
      ErrorCode.InvalidMethod,
      405,
      'Method Not Allowed: a WebSocket over HTTP/2 is an extended CONNECT (RFC 8441 §4)',
    );
  }
  const protocol = String(headers[':protocol']);
  if (!asciiEqualsIgnoreCase(protocol, WEBSOCKET_PROTOCOL)) {
    // A fixed text: the value is the peer's, and error bodies reflect nothing of the request.
    throw reject(
      ErrorCode.InvalidUpgradeHeader,
      400,
      'Bad Request: unsupported :protocol (this server speaks only "websocket")',
    );
  }
  const scheme = headers[':scheme'];
  const path = headers[':path'];
  const authority = headers[':authority'];
  // RFC 8441 §4: "On requests that contain the :protocol pseudo-header field, the :scheme and :path
  // pseudo-header fields of the target URI (see Section 5) MUST also be included."
  if (typeof scheme !== 'string' || typeof path !== 'string' || path.charCodeAt(0) !== 0x2f) {
    throw reject(
      ErrorCode.MalformedHttp,
      400,
      'Bad Request: an extended CONNECT needs :scheme and an origin-form :path',
    );
  }
  if (typeof authority !== 'string' || authority === '') {
    throw reject(ErrorCode.MalformedHttp, 400, 'Bad Request: missing :authority');
  }
  // RFC 8441 §5: "The Origin [RFC6454], Sec-WebSocket-Version, Sec-WebSocket-Protocol, and
  // Sec-WebSocket-Extensions header fields are used in the CONNECT request and response-header fields
  // as defined in [RFC6455]"; RFC 6455 §4.2.1 item 6 requires the version 13.
  const raw = toRawHeaders(headers);
  const fields = new HeaderMap(raw);
  if (fields.get('sec-websocket-version') !== WEBSOCKET_VERSION) {
    throw reject(ErrorCode.UnsupportedVersion, 400, UNSUPPORTED_VERSION_MESSAGE);
  }
  const protocolField = fields.get('sec-websocket-protocol');
  const extensionField = fields.get('sec-websocket-extensions');
  const head: RequestHead = {
    method: 'CONNECT',
    target: path,
    httpVersion: '2.0',
    headers: fields,
    rawHeaders: raw,
  };
  return Object.freeze({
    key: '',
    host: authority,
    path,
    origin: fields.get('origin'),
    protocols: Object.freeze(protocolField === undefined ? [] : parseSubprotocols(protocolField)),
    extensions: Object.freeze(extensionField === undefined ? [] : parseExtensions(extensionField)),
    head,
  });
}

/**
 * Validates the server's answer to an extended CONNECT (RFC 8441 §5): a 2xx status (RFC 9110 §9.3.6:
 * "Any 2xx (Successful) response indicates that the sender ... will switch to tunnel mode"), then the
 * same subprotocol and extension checks as over HTTP/1.1 (RFC 6455 §4.1 items 4–5).
 *
 * @param headers - The response headers of the stream.
 * @param expected - The offered subprotocols and extension names.
 * @returns The negotiated subprotocol and extensions, and the head (status 200, no reason phrase).
 * @throws {HandshakeError} With `status` = the received status: `WS_ERR_UNEXPECTED_RESPONSE` when
 * it is not 2xx, else those of {@link checkNegotiatedFields}.
 */
export function validateConnectResponse(
  headers: Http2HeaderValues,
  expected: { readonly protocols: readonly string[]; readonly offeredExtensions: readonly string[] },
): UpgradeResponse {
  const status = Number(headers[':status']);
  const raw = toRawHeaders(headers).filter((_, i, all) => !all[i - (i % 2)]!.startsWith(':'));
  const head: ResponseHead = {
    httpVersion: '2.0',
    statusCode: status,
    statusText: '',
    headers: new HeaderMap(raw),
    rawHeaders: raw,
  };
  if (!(status >= 200 && status <= 299)) {
    throw new HandshakeError(ErrorCode.UnexpectedResponse, status, `Unexpected server response: ${status}`);
  }
  const { protocol, extensions } = checkNegotiatedFields(head, expected);
  return Object.freeze({ protocol, extensions, head });
}
